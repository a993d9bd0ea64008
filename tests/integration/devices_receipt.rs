//! The receipt end to end: a record becomes ESC/POS bytes, goes to a fake
//! network printer on loopback through the real driver, and the bytes the
//! printer got are decoded (GB18030) and checked field by field. The full
//! ID number must never appear.

use crate::devices_support;

use std::process::Command;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use devices_support::escpos_decode::{decode, lines, Item};
use devices_support::fake_printer::FakePrinter;
use expect_test::expect;
use kiosk_core::record::{self, Record};
use veteran_kiosk::devices::printer::{EscPosPrinter, ReceiptPrinter, Transport};
use veteran_kiosk::receipt;

const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/demo/record-valid.json");
const FULL_ID: &str = "350524195503150010";

fn demo_record() -> Record {
    serde_json::from_str(&std::fs::read_to_string(DEMO).unwrap()).unwrap()
}

fn printed_at() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-30T10:31:00+08:00")
        .unwrap()
        .with_timezone(&Utc)
}

fn receipt_bytes(record: &Record) -> Vec<u8> {
    receipt_bytes_on(record, receipt::Paper::Mm58)
}

fn receipt_bytes_on(record: &Record, paper: receipt::Paper) -> Vec<u8> {
    let today = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
    let valid = record::validate(record, today).expect("a valid record");
    receipt::to_escpos(&receipt::build(&valid, printed_at()), paper).unwrap()
}

/// Display columns: a Chinese character takes two.
fn columns(line: &str) -> usize {
    line.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum()
}

/// Print through the real driver to the fake printer; return what it got.
fn print_to_fake(bytes: &[u8]) -> Vec<u8> {
    let fake = FakePrinter::start();
    let mut printer = EscPosPrinter::new(
        Transport::Network {
            address: fake.addr.to_string(),
        },
        Duration::from_secs(2),
    );
    printer.print(bytes).unwrap();
    fake.wait_for_bytes(bytes.len())
}

fn assert_no_full_id(raw: &[u8], items: &[Item], id: &str) {
    assert!(
        !raw.windows(id.len()).any(|w| w == id.as_bytes()),
        "full ID in the raw bytes"
    );
    // Nor spread over a line break, nor in the QR code.
    let all: String = items
        .iter()
        .map(|item| match item {
            Item::Line(line) | Item::Qr(line) => line.clone(),
            Item::Cut => String::new(),
        })
        .collect();
    assert!(!all.contains(id), "full ID in the decoded receipt");
    assert!(
        !all.contains(&id[6..14]),
        "the birth-date digits of the ID are on the receipt"
    );
}

#[test]
fn every_field_arrives_at_the_printer_in_gb18030() {
    let record = demo_record();
    let bytes = receipt_bytes(&record);
    let received = print_to_fake(&bytes);
    assert_eq!(received, bytes, "the printer got exactly the receipt");
    assert!(
        received.starts_with(&[0x1B, b'@', 0x1C, b'&']),
        "init, then FS & before any text"
    );

    let items = decode(&received);
    let text = lines(&items).join("\n");
    expect![[r#"
        退役军人和其他优抚对象
        信息采集回执
        --------------------------------
        记录编号：WSWR-6N24-8MJ6
        采集点：凤城镇（350524100）
        终端编号：AX-FC-01
        打印时间：2026年11月30日 10:31
        --------------------------------
        【身份信息】
        姓名：林国华
        公民身份号码：350524********0010
        联系电话：139****1234
        【人员类别】
        (2) 退役士兵
          安置方式：回乡生产
          入伍时间：1973年12月1日
          退役时间：1978年3月1日
          残疾等级：六级
        (7) 残疾军人
          残疾等级：六级
          致残原因：因公
          残疾军人证编号：闽军残字第
            012345号
        【基本生活状况】
          工作情况：务农
          本人月平均收入：1800元
          养老保险：城乡居民基本养老保险
          医疗保险：城乡居民基本医疗保险
          住房情况：自有住房
          享受的社会救助：都没有
          享受的国家抚恤补助：伤残抚恤金
          享受的残疾人两项补贴：都没有
        【困难诉求】
          医疗：腿伤每逢阴雨天疼痛，希望
                就近复查更方便
        【证件】
        已出示：
          身份证
          户口本
          退伍证
          残疾军人证
        --------------------------------
        核验码：0070D45647E4091A
        --------------------------------
        本人确认以上信息真实、准确。


        采集对象签字：________________
        日期：2026年11月30日



    "#]]
    .assert_eq(&text);

    let qr: Vec<&Item> = items
        .iter()
        .filter(|item| matches!(item, Item::Qr(_)))
        .collect();
    assert_eq!(
        qr,
        vec![&Item::Qr(
            "VK1:6f1c1c9e-6a4b-4c1e-9a55-2f0d2d6f4e11:0070D45647E4091A".into()
        )]
    );
    assert_eq!(items.last(), Some(&Item::Cut));
    assert_no_full_id(&received, &items, FULL_ID);
}

#[test]
fn another_person_with_rare_characters_and_other_categories() {
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(DEMO).unwrap()).unwrap();
    // 𠮷 is outside the BMP: GB18030 encodes it in four bytes.
    for path in ["/identity/name", "/identity/card/name"] {
        *json.pointer_mut(path).unwrap() = "𠮷秀英".into();
    }
    *json.pointer_mut("/meta/kiosk_id").unwrap() = "AX-PL-02".into();
    *json.pointer_mut("/meta/township/name").unwrap() = "蓬莱镇".into();
    *json.pointer_mut("/meta/township/code").unwrap() = "350524104".into();
    *json.pointer_mut("/meta/record_id").unwrap() = "00000000-0000-4000-8000-000000000001".into();
    let record: Record = serde_json::from_value(json).unwrap();
    let bytes = receipt_bytes(&record);
    let items = decode(&print_to_fake(&bytes));
    let text = lines(&items);
    assert!(text.contains(&"姓名：𠮷秀英".to_string()), "{text:?}");
    assert!(text.contains(&"采集点：蓬莱镇（350524104）".to_string()));
    assert!(text.contains(&"终端编号：AX-PL-02".to_string()));
    let number = veteran_kiosk::store::record_number(&record.meta.record_id);
    assert!(text.contains(&format!("记录编号：{number}")), "{text:?}");
    let digest = receipt::content_digest(&record);
    assert!(text.contains(&format!("核验码：{digest}")));
    assert!(items.contains(&Item::Qr(format!(
        "VK1:00000000-0000-4000-8000-000000000001:{digest}"
    ))));
    assert_no_full_id(&bytes, &items, FULL_ID);
}

#[test]
fn the_digest_covers_the_content_but_not_the_state_or_signature() {
    let record = demo_record();
    let digest = receipt::content_digest(&record);
    let mut sent = record.clone();
    sent.meta.state = record::RecordState::Sent;
    sent.meta.updated_at = printed_at();
    assert_eq!(receipt::content_digest(&sent), digest);
    let mut changed = record.clone();
    changed.identity.phone = "13905950000".into();
    assert_ne!(receipt::content_digest(&changed), digest);
}

fn cli(args: &[&str]) -> (i32, Vec<u8>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_veteran-kiosk"))
        .args(args)
        .output()
        .expect("the binary runs");
    (
        out.status.code().unwrap_or(-1),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_receipt_command_writes_the_same_bytes_and_previews_text() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("receipt.bin");
    let at = "--at=2026-11-30T10:31:00+08:00";
    let (status, stdout, _) = cli(&["receipt", DEMO, "--out", out.to_str().unwrap(), at]);
    assert_eq!(status, 0);
    let summary: serde_json::Value = serde_json::from_slice(&stdout).unwrap();
    assert_eq!(summary["ok"], true);
    assert_eq!(summary["digest"], "0070D45647E4091A");
    assert_eq!(std::fs::read(&out).unwrap(), receipt_bytes(&demo_record()));

    let (status, stdout, _) = cli(&["receipt", DEMO, "--text", at]);
    assert_eq!(status, 0);
    let preview = String::from_utf8(stdout).unwrap();
    assert!(preview.contains("公民身份号码：350524********0010"));
    assert!(preview.contains("[二维码 VK1:6f1c1c9e-6a4b-4c1e-9a55-2f0d2d6f4e11:0070D45647E4091A]"));
    assert!(!preview.contains(FULL_ID));
}

#[test]
fn the_receipt_command_refuses_invalid_and_unreadable_records() {
    let dir = tempfile::tempdir().unwrap();
    let mut record = demo_record();
    record.categories.clear();
    let path = dir.path().join("incomplete.json");
    std::fs::write(&path, serde_json::to_string(&record).unwrap()).unwrap();
    let (status, stdout, _) = cli(&["receipt", path.to_str().unwrap(), "--text"]);
    assert_eq!(status, 1);
    let report: serde_json::Value = serde_json::from_slice(&stdout).unwrap();
    assert_eq!(report["ok"], false);
    assert!(!report["problems"].as_array().unwrap().is_empty());

    let (status, _, stderr) = cli(&["receipt", "/no/such/record.json"]);
    assert_eq!(status, 2);
    assert!(stderr.contains("cannot read"), "{stderr}");
    let (status, _, stderr) = cli(&["receipt", DEMO, "--at", "yesterday"]);
    assert_eq!(status, 2);
    assert!(stderr.contains("RFC 3339"), "{stderr}");
}

fn marked_missing(
    kind: kiosk_core::category::DocumentKind,
    reason: record::MissingReason,
    note: &str,
) -> record::MissingDocument {
    record::MissingDocument {
        kind,
        reason,
        note: note.into(),
        marked_by: "staff-03".into(),
        marked_at: printed_at(),
    }
}

#[test]
fn long_text_wraps_on_58_and_80_mm_paper_and_no_text_carries_a_command() {
    use kiosk_core::category::DocumentKind;
    let mut record = demo_record();
    // The disabled serviceman's certificate was lost; the note is long and
    // mixes Chinese, digits and Latin letters, and carries an ESC and a GS
    // that must not reach the printer.
    record
        .documents
        .retain(|d| d.kind != DocumentKind::DisabledServicemanCertificate);
    record.missing_documents.push(marked_missing(
        DocumentKind::DisabledServicemanCertificate,
        record::MissingReason::Lost,
        "1998年洪水中遗失，已向县退役军人事务局申请补办\u{1b}@\u{1d}V0，预计2027年1月取得新证后送来复印件 (copy)",
    ));
    record.needs[0].text =
        "腿伤每逢阴雨天疼痛，希望就近复查更方便；家住山区，到县医院要换乘两趟班车，单程三个多小时"
            .into();
    for (paper, width, dots) in [
        (receipt::Paper::Mm58, 32, 384),
        (receipt::Paper::Mm80, 48, 576),
    ] {
        let bytes = receipt_bytes_on(&record, paper);
        let received = print_to_fake(&bytes);
        // decode() fails on any command it does not know, and on text that
        // is not GB18030 (a character split across lines would be).
        let items = decode(&received);
        let text = lines(&items);
        for line in &text {
            assert!(
                columns(line) <= width,
                "{paper:?}: {line:?} is wider than {width}"
            );
        }
        let all = text.join("");
        assert!(!all.contains('\u{1b}') && !all.contains('\u{1d}'));
        // Every character of the note arrives, in order, once the line
        // breaks and hanging indents are taken out.
        let joined: String = text.iter().map(|l| l.trim_start()).collect();
        assert!(
            joined.contains("遗失，1998年洪水中遗失，已向县退役军人事务局申请补办@V0，预计2027年1月取得新证后送来复印件(copy)")
                || joined.contains("遗失，1998年洪水中遗失，已向县退役军人事务局申请补办@V0，预计2027年1月取得新证后送来复印件 (copy)"),
            "{paper:?}: {text:#?}"
        );
        assert!(joined.contains("家住山区，到县医院要换乘两趟班车，单程三个多小时"));
        // The QR code is as wide as the paper and scans.
        assert_eq!(
            devices_support::escpos_decode::image_sizes(&received)
                .iter()
                .map(|(w, _)| *w)
                .collect::<Vec<_>>(),
            [dots]
        );
        assert!(items.contains(&Item::Qr(receipt::qr_payload(&record))));
        assert_no_full_id(&received, &items, FULL_ID);
    }
    // A wrapped answer goes on under its text, not under the label.
    let items = decode(&receipt_bytes_on(&record, receipt::Paper::Mm58));
    let text = lines(&items);
    let at = text
        .iter()
        .position(|l| l.starts_with("  残疾军人证：遗失"))
        .expect("the missing certificate is listed");
    assert!(
        text[at + 1].starts_with(&" ".repeat(columns("  残疾军人证："))),
        "{:?}",
        &text[at..at + 3]
    );
}

#[test]
fn the_receipt_lists_pages_and_missing_certificates_and_never_the_uuid() {
    use kiosk_core::category::DocumentKind;
    let mut record = demo_record();
    let mut second = record.documents[0].clone();
    second.page = 2;
    record.documents.insert(1, second);
    record
        .documents
        .retain(|d| d.kind != DocumentKind::DischargeCertificate);
    record.missing_documents.push(marked_missing(
        DocumentKind::DischargeCertificate,
        record::MissingReason::ToFollow,
        "",
    ));
    let text = lines(&decode(&receipt_bytes(&record)));
    assert!(text.contains(&"  户口本（2页）".to_string()), "{text:#?}");
    assert!(text.contains(&"未出示：".to_string()));
    assert!(text.contains(&"  退伍证：待补".to_string()));
    let number = veteran_kiosk::store::record_number(&record.meta.record_id);
    assert!(text.contains(&format!("记录编号：{number}")));
    let all = text.join("\n");
    assert!(!all.contains("6f1c1c9e"), "the UUID is only in the QR code");
}

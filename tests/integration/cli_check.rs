//! `veteran-kiosk check …` run as a user would: the real binary, its JSON on
//! stdout and its exit status.

use std::io::Write;
use std::process::Command;

use expect_test::{expect, Expect};

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_veteran-kiosk"))
        .args(args)
        .output()
        .expect("the binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
        String::from_utf8_lossy(&out.stderr).trim().to_string(),
    )
}

/// Exit status and stdout, as `status: json`.
fn check(args: &[&str], expect: Expect) {
    let (status, stdout, _) = run(args);
    expect.assert_eq(&format!("{status}: {stdout}"));
}

const TODAY: &str = "--today=2026-11-30";

#[test]
fn check_id() {
    check(
        &["check", "id", "11010519491231002X"],
        expect![[
            r#"0: {"birth_date":"1949-12-31","ok":true,"problems":[],"region_code":"110105","sex":"female"}"#
        ]],
    );
    check(
        &["check", "id", "350524195503150010", TODAY],
        expect![[
            r#"0: {"birth_date":"1955-03-15","ok":true,"problems":[],"region_code":"350524","sex":"male"}"#
        ]],
    );
    check(
        &["check", "id", "350524195503150011"],
        expect![[
            r#"1: {"ok":false,"problems":[{"code":"check_digit","field":"id_number","message":"身份证号码校验不通过，请逐位核对号码"}]}"#
        ]],
    );
    check(
        &["check", "id", "3505241955031500"],
        expect![[
            r#"1: {"ok":false,"problems":[{"code":"length","field":"id_number","message":"身份证号码应为18位，现在是16位，请核对"}]}"#
        ]],
    );
    check(
        &["check", "id", "350524202703150010", TODAY],
        expect![[
            r#"1: {"ok":false,"problems":[{"code":"birth_date","field":"id_number","message":"身份证号码中的出生日期（第7到14位）晚于今天，请核对"}]}"#
        ]],
    );
    check(
        &["check", "id", "990524195503150010"],
        expect![[
            r#"1: {"ok":false,"problems":[{"code":"region","field":"id_number","message":"身份证号码开头的地区代码不正确，请核对前两位"}]}"#
        ]],
    );
    check(
        &["check", "id", "35052419550315001A"],
        expect![[
            r#"1: {"ok":false,"problems":[{"code":"format","field":"id_number","message":"身份证号码第18位填写有误：号码只能由数字组成，最后一位可以是X"}]}"#
        ]],
    );
}

#[test]
fn check_categories() {
    check(
        &["check", "categories", "2,7,9"],
        expect![[
            r#"0: {"categories":[{"code":2,"name":"退役士兵","slug":"discharged-soldier"},{"code":7,"name":"残疾军人","slug":"disabled-serviceman"},{"code":9,"name":"烈士遗属","slug":"martyr-family"}],"ok":true,"problems":[]}"#
        ]],
    );
    check(
        &["check", "categories", "1,2,7,8"],
        expect![[
            r#"1: {"categories":[{"code":1,"name":"军队转业干部","slug":"transferred-officer"},{"code":2,"name":"退役士兵","slug":"discharged-soldier"},{"code":7,"name":"残疾军人","slug":"disabled-serviceman"},{"code":8,"name":"伤残民兵民工","slug":"disabled-militia"}],"ok":false,"problems":[{"code":"category_one_of_1_to_6","field":"categories","message":"“军队转业干部”和“退役士兵”不能同时选择，第1至6类只能选一项"},{"code":"category_not_7_and_8","field":"categories","message":"“残疾军人”和“伤残民兵民工”不能同时选择，请只保留其中一项"},{"code":"category_8_not_with_1_to_6","field":"categories","message":"“伤残民兵民工”不能与“军队转业干部”和“退役士兵”同时选择（第1至6类不能与“伤残民兵民工”同时选择）"}]}"#
        ]],
    );
    check(
        &["check", "categories", "disabled-serviceman"],
        expect![[
            r#"1: {"categories":[{"code":7,"name":"残疾军人","slug":"disabled-serviceman"}],"ok":false,"problems":[{"code":"category_7_needs_1_to_6","field":"categories","message":"选择“残疾军人”还需选择第1至6类中的一项"}]}"#
        ]],
    );
    check(
        &["check", "categories", "13"],
        expect![[
            r#"1: {"ok":false,"problems":[{"code":"category_unknown","field":"categories","message":"“13”不是有效的人员类别，请填写1至12的类别编号或类别名称"}]}"#
        ]],
    );
    check(
        &["check", "categories", ""],
        expect![[
            r#"1: {"categories":[],"ok":false,"problems":[{"code":"category_at_least_one","field":"categories","message":"请至少选择一项人员类别"}]}"#
        ]],
    );
}

#[test]
fn check_text() {
    check(
        &["check", "text", "我在3师5团2连当过兵"],
        expect![[
            r#"1: {"hits":[{"end":8,"kind":"unit_designation","start":2,"text":"3师5团2连"}],"ok":false,"problems":[{"code":"classified_text","field":"text","message":"“3师5团2连”是部队番号，属于涉密信息，请删除后再继续"}]}"#
        ]],
    );
    check(
        &["check", "text", "家住连江县团结村，以前是教师"],
        expect![[r#"0: {"hits":[],"ok":true,"problems":[]}"#]],
    );
}

#[test]
fn check_record() {
    let valid = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/demo/record-valid.json");
    check(
        &["check", "record", valid, TODAY],
        expect![[
            r#"0: {"ok":true,"problems":[],"record_id":"6f1c1c9e-6a4b-4c1e-9a55-2f0d2d6f4e11","state":"draft"}"#
        ]],
    );

    let text = std::fs::read_to_string(valid).unwrap().replace("\"林国华\",\n    \"sex\": \"male\",\n    \"nation_code\": 1,\n    \"birth_date\": \"1955-03-15\",\n    \"address\": \"福建省安溪县凤城镇东岳社区城东路12号\",\n    \"id_number\"", "\"\",\n    \"sex\": \"male\",\n    \"nation_code\": 1,\n    \"birth_date\": \"1955-03-15\",\n    \"address\": \"福建省安溪县凤城镇东岳社区城东路12号\",\n    \"id_number\"");
    let mut file = tempfile();
    file.1.write_all(text.as_bytes()).unwrap();
    check(
        &["check", "record", file.0.to_str().unwrap(), TODAY],
        expect![[
            r#"1: {"ok":false,"problems":[{"code":"missing","field":"identity.name","message":"请填写姓名"},{"code":"card_mismatch","field":"identity.name","message":"姓名与身份证上的不一致，应与身份证完全相同"}],"record_id":"6f1c1c9e-6a4b-4c1e-9a55-2f0d2d6f4e11","state":"draft"}"#
        ]],
    );
}

#[test]
fn unreadable_input_exits_2_with_a_message() {
    let (status, stdout, stderr) = run(&["check", "record", "/nonexistent/record.json"]);
    assert_eq!((status, stdout.as_str()), (2, ""));
    assert!(
        stderr.contains("cannot read /nonexistent/record.json"),
        "{stderr}"
    );

    let mut file = tempfile();
    file.1.write_all(b"{ not json").unwrap();
    let (status, _, stderr) = run(&["check", "record", file.0.to_str().unwrap()]);
    assert_eq!(status, 2);
    assert!(stderr.contains("not a valid record"), "{stderr}");

    let (status, _, stderr) = run(&["check", "nonsense"]);
    assert_eq!(status, 2);
    assert!(!stderr.is_empty());

    let (status, _, _) = run(&["check", "id", "350524195503150010", "--today", "yesterday"]);
    assert_eq!(status, 2);
}

#[test]
fn check_card_from_a_text_block_and_a_frame() {
    use kiosk_core::card::{CardRead, CardText, Nation, Validity};
    use kiosk_core::id_number::{IdNumber, Sex};

    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
    let text = CardText {
        name: "陈秀英".into(),
        sex: Sex::Female,
        nation: Nation::from_code(1).unwrap(),
        birth_date: chrono::NaiveDate::from_ymd_opt(1980, 11, 20).unwrap(),
        address: "福建省安溪县凤城镇城西路8号".into(),
        id_number: IdNumber::parse("35052419801120002X", today).unwrap(),
        authority: "安溪县公安局".into(),
        valid_from: chrono::NaiveDate::from_ymd_opt(2020, 1, 2).unwrap(),
        valid_to: Validity::Until(chrono::NaiveDate::from_ymd_opt(2040, 1, 2).unwrap()),
    };
    let block = text.encode().unwrap();
    let mut file = tempfile();
    file.1.write_all(&block).unwrap();
    let expected = expect![[
        r#"0: {"address":"福建省安溪县凤城镇城西路8号","authority":"安溪县公安局","birth_date":"1980-11-20","id_number":"35052419801120002X","name":"陈秀英","nation":"汉","nation_code":"01","ok":true,"photo_bytes":0,"problems":[],"sex":"female","valid_from":"2020-01-02","valid_to":"2040-01-02"}"#
    ]];
    check(
        &["check", "card", file.0.to_str().unwrap(), TODAY],
        expected,
    );

    let read = CardRead {
        text,
        photo_wlt: vec![0x57; 1024],
        fingerprint: None,
    };
    let frame = read.encode_response().unwrap();
    let mut file = tempfile();
    file.1.write_all(&frame).unwrap();
    let (status, stdout, _) = run(&["check", "card", file.0.to_str().unwrap(), TODAY]);
    assert_eq!(status, 0, "{stdout}");
    assert!(stdout.contains("\"photo_bytes\":1024"), "{stdout}");

    // One flipped byte in the frame: a checksum problem, not a panic.
    let mut broken = frame.clone();
    broken[20] ^= 0x01;
    let mut file = tempfile();
    file.1.write_all(&broken).unwrap();
    check(
        &["check", "card", file.0.to_str().unwrap(), TODAY],
        expect![[
            r#"1: {"ok":false,"problems":[{"code":"frame_checksum","field":"card","message":"读卡时数据传输出错，请拿起身份证后重新平放在读卡区域"}]}"#
        ]],
    );
}

/// A fresh file under the target dir's tmp folder.
fn tempfile() -> (std::path::PathBuf, std::fs::File) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let path = dir.join(format!(
        "cli-check-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    ));
    let file = std::fs::File::create(&path).unwrap();
    (path, file)
}

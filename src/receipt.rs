//! The receipt the person signs (签字确认): a validated record as ESC/POS
//! bytes for the receipt printer, or as plain text for a preview.
//!
//! What it shows: heading; township and kiosk; date and time; name; the ID
//! number masked to its first 6 and last 4 characters (the full number
//! never leaves the kiosk on paper); the categories chosen; the record
//! number; a QR code with the record's UUID and a short digest of the
//! signed content; the documents shown; and the signature line
//! (采集对象签字) with the date.
//!
//! The bytes follow from the record and the print time alone, so a print
//! that failed (paper out, cover open) is simply printed again; nothing new
//! is recorded by printing.
//!
//! Chinese text is sent in GB18030 after `FS &` (Chinese character mode),
//! which the receipt printers sold in China understand.

use chrono::{DateTime, Utc};
use escpos::driver::Driver;
use escpos::printer::Printer;
use escpos::printer_options::PrinterOptions;
use escpos::utils::{JustifyMode, Protocol, QRCodeCorrectionLevel, QRCodeModel, QRCodeOption};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::sync::{Arc, Mutex};
use thiserror::Error;

use crate::devices::printer::{print_outcome, PrinterError, ReceiptPrinter};
use kiosk_core::category::DocumentKind;
use kiosk_core::id_number::mask_id_text;
use kiosk_core::record::{IdentitySource, Record, ValidRecord};
use kiosk_core::session::PrintOutcome;
use kiosk_core::time::in_china;

/// Half-width columns per line: fits 58 mm paper (and 80 mm with margin).
pub const COLUMNS: usize = 32;

/// One thing on the receipt, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "text", rename_all = "snake_case")]
pub enum Block {
    /// Tall, bold, centred.
    Heading(String),
    /// A dashed rule across the paper.
    Rule,
    /// Left-aligned text, wrapped to the paper width.
    Text(String),
    /// Centred text.
    Centered(String),
    /// A QR code carrying this text.
    Qr(String),
    /// Blank lines before the signature, room to sign.
    Space,
}

/// The receipt's content, before it becomes bytes or text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Receipt {
    pub blocks: Vec<Block>,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ReceiptError {
    #[error("ESC/POS encoding failed: {0}")]
    EscPos(String),
}

/// The signed content: the record as JSON without what changes after
/// signing (`signature`, `meta.state`, `meta.updated_at`).
pub fn signed_content(record: &Record) -> Vec<u8> {
    let mut value = serde_json::to_value(record).unwrap_or(serde_json::Value::Null);
    if let Some(object) = value.as_object_mut() {
        object.remove("signature");
        if let Some(meta) = object.get_mut("meta").and_then(|m| m.as_object_mut()) {
            meta.remove("state");
            meta.remove("updated_at");
        }
    }
    serde_json::to_vec(&value).unwrap_or_default()
}

/// First 8 bytes of SHA-256 over [`signed_content`], as 16 hex digits.
pub fn content_digest(record: &Record) -> String {
    let digest = Sha256::digest(signed_content(record));
    trust::hex(&digest[..8]).to_ascii_uppercase()
}

/// What the QR code carries: `VK1:<record UUID>:<digest>`.
pub fn qr_payload(record: &Record) -> String {
    format!("VK1:{}:{}", record.meta.record_id, content_digest(record))
}

/// Lay out the receipt for `record`, printed at `printed_at`.
pub fn build(valid: &ValidRecord, printed_at: DateTime<Utc>) -> Receipt {
    let record = valid.record();
    let local = in_china(printed_at);
    let date = local.format("%Y年%m月%d日").to_string();
    let mut blocks = vec![
        Block::Heading("退役军人和其他优抚对象".into()),
        Block::Heading("信息采集回执".into()),
        Block::Rule,
        Block::Text(format!(
            "采集点：{}（{}）",
            record.meta.township.name, record.meta.township.code
        )),
        Block::Text(format!("终端编号：{}", record.meta.kiosk_id)),
        Block::Text(format!("打印时间：{date} {}", local.format("%H:%M"))),
        Block::Rule,
        Block::Text(format!("姓名：{}", record.identity.name)),
        Block::Text(format!(
            "公民身份号码：{}",
            mask_id_text(&record.identity.id_number)
        )),
        Block::Text("对象类别：".into()),
    ];
    for details in &record.categories {
        let category = details.category();
        blocks.push(Block::Text(format!(
            "  ({}) {}",
            category.code(),
            category.full_name_zh()
        )));
    }
    blocks.push(Block::Text("已出示证件：".into()));
    let mut shown = Vec::new();
    // A card read by the reader was shown too.
    if record.identity.source == IdentitySource::Card {
        shown.push(DocumentKind::IdCard);
    }
    for document in &record.documents {
        if !shown.contains(&document.kind) {
            shown.push(document.kind);
        }
    }
    if shown.is_empty() {
        blocks.push(Block::Text("  （无）".into()));
    }
    for kind in shown {
        blocks.push(Block::Text(format!("  {}", kind.name_zh())));
    }
    blocks.push(Block::Text("记录编号：".into()));
    // 36 characters do not fit on 58 mm paper: break after the fourth group.
    let number = record.meta.record_id.to_string();
    match number.rsplit_once('-') {
        Some((head, tail)) if number.len() > COLUMNS => {
            blocks.push(Block::Text(format!("{head}-")));
            blocks.push(Block::Text(tail.to_string()));
        }
        _ => blocks.push(Block::Text(number)),
    }
    blocks.push(Block::Rule);
    blocks.push(Block::Qr(qr_payload(record)));
    blocks.push(Block::Centered(format!(
        "核验码：{}",
        content_digest(record)
    )));
    blocks.push(Block::Rule);
    blocks.push(Block::Text("本人确认以上信息真实、准确。".into()));
    blocks.push(Block::Space);
    blocks.push(Block::Text("采集对象签字：________________".into()));
    blocks.push(Block::Text(format!("日期：{date}")));
    Receipt { blocks }
}

/// Display width: CJK and other wide characters take two columns.
fn width(c: char) -> usize {
    if c.is_ascii() || ('\u{ff61}'..='\u{ff9f}').contains(&c) {
        1
    } else {
        2
    }
}

/// Break `text` into lines of at most `columns` display columns.
pub fn wrap(text: &str, columns: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = width(c);
        if used + w > columns && !line.is_empty() {
            lines.push(std::mem::take(&mut line));
            used = 0;
        }
        line.push(c);
        used += w;
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// The receipt as plain text (`veteran-kiosk receipt --text`).
pub fn to_text(receipt: &Receipt) -> String {
    let mut out = String::new();
    for block in &receipt.blocks {
        match block {
            Block::Heading(text) | Block::Centered(text) => {
                for line in wrap(text, COLUMNS) {
                    let pad = COLUMNS.saturating_sub(line.chars().map(width).sum()) / 2;
                    out.push_str(&" ".repeat(pad));
                    out.push_str(&line);
                    out.push('\n');
                }
            }
            Block::Rule => {
                out.push_str(&"-".repeat(COLUMNS));
                out.push('\n');
            }
            Block::Text(text) => {
                for line in wrap(text, COLUMNS) {
                    out.push_str(&line);
                    out.push('\n');
                }
            }
            Block::Qr(data) => {
                out.push_str(&format!("[二维码 {data}]\n"));
            }
            Block::Space => out.push('\n'),
        }
    }
    out
}

/// Collects what the escpos crate would send to a printer.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Driver for Capture {
    fn name(&self) -> String {
        "capture".into()
    }
    fn write(&self, data: &[u8]) -> escpos::errors::Result<()> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .extend_from_slice(data);
        Ok(())
    }
    fn read(&self, _buf: &mut [u8]) -> escpos::errors::Result<usize> {
        Ok(0)
    }
    fn flush(&self) -> escpos::errors::Result<()> {
        Ok(())
    }
}

/// Build, render and print the receipt of `valid`: what the session's
/// `Effect::PrintReceipt` asks for, answered as its `Event::Printed`. Safe
/// to call again after a failure: the same bytes are printed.
pub fn print(
    printer: &mut dyn ReceiptPrinter,
    valid: &ValidRecord,
    printed_at: DateTime<Utc>,
) -> PrintOutcome {
    let result = to_escpos(&build(valid, printed_at))
        .map_err(|err| PrinterError::Receipt(err.to_string()))
        .and_then(|bytes| printer.print(&bytes));
    print_outcome(&result)
}

/// `FS &`: enter Chinese character mode (text bytes are GB18030 from here).
pub const FS_CHINESE_ON: [u8; 2] = [0x1C, 0x26];

/// The receipt as ESC/POS bytes.
pub fn to_escpos(receipt: &Receipt) -> Result<Vec<u8>, ReceiptError> {
    render(receipt).map_err(|err| ReceiptError::EscPos(err.to_string()))
}

fn render(receipt: &Receipt) -> escpos::errors::Result<Vec<u8>> {
    let capture = Capture::default();
    let protocol = Protocol::new(escpos::utils::Encoder::new(encoding_rs::GB18030));
    let mut options = PrinterOptions::default();
    options.characters_per_line(u8::try_from(COLUMNS).unwrap_or(32));
    let mut printer = Printer::new(capture.clone(), protocol, Some(options));
    printer.init()?.custom(&FS_CHINESE_ON)?;
    for block in &receipt.blocks {
        match block {
            Block::Heading(text) => {
                printer
                    .justify(JustifyMode::CENTER)?
                    .bold(true)?
                    // Double height only: double width would not fit ten
                    // characters on 58 mm paper.
                    .size(1, 2)?;
                for line in wrap(text, COLUMNS) {
                    printer.writeln(&line)?;
                }
                printer
                    .reset_size()?
                    .bold(false)?
                    .justify(JustifyMode::LEFT)?;
            }
            Block::Rule => {
                printer.writeln(&"-".repeat(COLUMNS))?;
            }
            Block::Text(text) => {
                for line in wrap(text, COLUMNS) {
                    printer.writeln(&line)?;
                }
            }
            Block::Centered(text) => {
                printer.justify(JustifyMode::CENTER)?;
                for line in wrap(text, COLUMNS) {
                    printer.writeln(&line)?;
                }
                printer.justify(JustifyMode::LEFT)?;
            }
            Block::Qr(data) => {
                printer
                    .justify(JustifyMode::CENTER)?
                    .qrcode_option(
                        data,
                        QRCodeOption::new(QRCodeModel::Model2, 6, QRCodeCorrectionLevel::M),
                    )?
                    .justify(JustifyMode::LEFT)?;
            }
            Block::Space => {
                printer.feeds(2)?;
            }
        }
    }
    printer.feeds(4)?.cut()?.print()?;
    let bytes = capture
        .0
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone();
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;

    proptest::proptest! {
        #[test]
        fn wrapping_keeps_every_character_and_the_width(text in "[a-z 林国华退伍军人证]{0,80}", columns in 2usize..40) {
            let lines = wrap(&text, columns);
            proptest::prop_assert_eq!(lines.concat(), text);
            for line in &lines {
                proptest::prop_assert!(line.chars().map(width).sum::<usize>() <= columns);
            }
        }
    }

    #[test]
    fn printing_answers_the_session_and_can_be_retried() {
        use crate::devices::printer::test::TestPrinter;
        use crate::devices::printer::PrinterStatus;
        let json = include_str!("../assets/demo/record-valid.json");
        let record: Record = serde_json::from_str(json).unwrap();
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        let valid = kiosk_core::record::validate(&record, today).unwrap();
        let at = DateTime::parse_from_rfc3339("2026-11-30T02:31:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let printer = TestPrinter::new();
        printer.state().status = PrinterStatus::PaperOut;
        let mut device = printer.clone();
        assert_eq!(
            print(&mut device, &valid, at),
            PrintOutcome::Failed {
                code: "printer_paper_out".into(),
                message_zh: "打印机缺纸，请工作人员装纸后重新打印".into()
            }
        );
        printer.state().status = PrinterStatus::Ready;
        assert_eq!(print(&mut device, &valid, at), PrintOutcome::Printed);
        assert_eq!(print(&mut device, &valid, at), PrintOutcome::Printed);
        let printed = printer.state().printed.clone();
        assert_eq!(printed.len(), 2);
        assert_eq!(printed[0], printed[1], "a reprint is the same receipt");
    }

    #[test]
    fn wrapping_counts_chinese_as_two_columns() {
        expect![[r#"
            [
                "退伍红军老战士（含西路军红",
                "军老战士和红军失散人员）",
            ]
        "#]]
        .assert_debug_eq(&wrap(
            "退伍红军老战士（含西路军红军老战士和红军失散人员）",
            26,
        ));
    }
}

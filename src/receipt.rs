//! The receipt the person signs (签字确认): a validated record as ESC/POS
//! bytes for the receipt printer, or as plain text for a preview.
//!
//! It shows what the person confirms by signing: the record number staff
//! and the queue use (`K7Q2-M9XD-3F8A`); township, kiosk and time; the
//! identity (the ID number masked to its first 6 and last 4 characters, the
//! telephone to its first 3 and last 4: the full numbers never leave the
//! kiosk on paper); each category with its details; the living
//! conditions; the needs; the certificates shown (with their pages) and
//! those missing (with staff's mark); a QR code with the record's UUID and
//! a short digest of the signed content; and the signature line
//! (采集对象签字) with the date.
//!
//! The bytes follow from the record, the print time and the paper alone,
//! so a print that failed (paper out, cover open) is simply printed again;
//! nothing new is recorded by printing.
//!
//! Chinese text is sent in GB18030 after `FS &` (Chinese character mode),
//! which the receipt printers sold in China understand. Lines are wrapped
//! to the paper by display width (a Chinese character takes two columns);
//! control characters in what people typed are dropped, so no text can
//! carry a printer command. The QR code is a raster image (`GS v 0`), which
//! every ESC/POS printer prints.

use chrono::{DateTime, Utc};
use escpos::driver::Driver;
use escpos::printer::Printer;
use escpos::printer_options::PrinterOptions;
use escpos::utils::{JustifyMode, Protocol};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::sync::{Arc, Mutex};
use thiserror::Error;

use crate::devices::printer::{print_outcome, PrinterError, ReceiptPrinter};
use crate::store::record_number;
use crate::ui::needs_adapter::area_name;
use kiosk_core::category::DocumentKind;
use kiosk_core::forms::{self, Field};
use kiosk_core::id_number::mask_id_text;
use kiosk_core::record::{CategoryDetails, IdentitySource, Record, ValidRecord};
use kiosk_core::session::PrintOutcome;
use kiosk_core::time::in_china;

/// The paper is the printer's: re-exported where receipts are laid out.
pub use crate::devices::printer::Paper;

/// One thing on the receipt, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "text", rename_all = "snake_case")]
pub enum Block {
    /// Tall, bold, centred.
    Heading(String),
    /// A dashed rule across the paper.
    Rule,
    /// Left-aligned text, wrapped to the paper width; a wrapped line goes
    /// on under the text after the leading spaces and the label (up to
    /// `：`), so a long answer stays in its column.
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
    #[error("QR code: {0}")]
    Qr(String),
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

/// A field's label without its explanation in brackets.
fn short_label(field: &Field) -> &'static str {
    field.label_zh.split('（').next().unwrap_or(field.label_zh)
}

/// One category's details as receipt lines: its name, then each answered
/// field as `label：answer`. (The one place category details become text
/// on paper.)
pub fn category_lines(details: &CategoryDetails) -> Vec<String> {
    let category = details.category();
    let mut lines = vec![format!("({}) {}", category.code(), category.full_name_zh())];
    for field in forms::details_fields(details) {
        if let Some(value) = field.answer_zh() {
            lines.push(format!("  {}：{value}", short_label(&field)));
        }
    }
    lines
}

/// The living conditions as receipt lines.
fn living_lines(record: &Record) -> Vec<String> {
    forms::living_fields(&record.living)
        .iter()
        .filter_map(|field| {
            let mut value = field.answer_zh()?;
            if field.key == "monthly_income_yuan" {
                value.push('元');
            }
            Some(format!("  {}：{value}", short_label(field)))
        })
        .collect()
}

/// `138****8000`: enough for the person to recognise their number.
fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.trim().chars().collect();
    if chars.len() < 8 {
        return "*".repeat(chars.len());
    }
    let (head, rest) = chars.split_at(3);
    let tail = &rest[rest.len() - 4..];
    format!(
        "{}{}{}",
        head.iter().collect::<String>(),
        "*".repeat(rest.len() - 4),
        tail.iter().collect::<String>()
    )
}

/// The certificates shown, each once, with how many pages.
fn shown_lines(record: &Record) -> Vec<String> {
    let mut shown: Vec<(DocumentKind, usize)> = Vec::new();
    // A card read by the reader was shown too.
    if record.identity.source == IdentitySource::Card {
        shown.push((DocumentKind::IdCard, 1));
    }
    for document in &record.documents {
        match shown.iter_mut().find(|(kind, _)| *kind == document.kind) {
            Some((_, pages)) => *pages += 1,
            None => shown.push((document.kind, 1)),
        }
    }
    shown
        .into_iter()
        .map(|(kind, pages)| match pages {
            1 => format!("  {}", kind.name_zh()),
            n => format!("  {}（{n}页）", kind.name_zh()),
        })
        .collect()
}

/// Lay out the receipt for `record`, printed at `printed_at`.
pub fn build(valid: &ValidRecord, printed_at: DateTime<Utc>) -> Receipt {
    let record = valid.record();
    let local = in_china(printed_at);
    let date = local.format("%Y年%m月%d日").to_string();
    let text = |t: String| Block::Text(t);
    let mut blocks = vec![
        Block::Heading("退役军人和其他优抚对象".into()),
        Block::Heading("信息采集回执".into()),
        Block::Rule,
        text(format!(
            "记录编号：{}",
            record_number(&record.meta.record_id)
        )),
        text(format!(
            "采集点：{}（{}）",
            record.meta.township.name, record.meta.township.code
        )),
        text(format!("终端编号：{}", record.meta.kiosk_id)),
        text(format!("打印时间：{date} {}", local.format("%H:%M"))),
        Block::Rule,
        text("【身份信息】".into()),
        text(format!("姓名：{}", record.identity.name)),
        text(format!(
            "公民身份号码：{}",
            mask_id_text(&record.identity.id_number)
        )),
    ];
    if !record.identity.phone.trim().is_empty() {
        blocks.push(text(format!(
            "联系电话：{}",
            mask_phone(&record.identity.phone)
        )));
    }
    if !record.identity.current_address.trim().is_empty() {
        blocks.push(text(format!("现住址：{}", record.identity.current_address)));
    }
    blocks.push(text("【人员类别】".into()));
    for details in &record.categories {
        blocks.extend(category_lines(details).into_iter().map(text));
    }
    blocks.push(text("【基本生活状况】".into()));
    blocks.extend(living_lines(record).into_iter().map(text));
    blocks.push(text("【困难诉求】".into()));
    if record.needs.is_empty() {
        blocks.push(text("  无".into()));
    }
    for need in &record.needs {
        let words = need.text.trim();
        blocks.push(text(if words.is_empty() {
            format!("  {}", area_name(need.area))
        } else {
            format!("  {}：{words}", area_name(need.area))
        }));
    }
    blocks.push(text("【证件】".into()));
    blocks.push(text("已出示：".into()));
    let shown = shown_lines(record);
    if shown.is_empty() {
        blocks.push(text("  （无）".into()));
    }
    blocks.extend(shown.into_iter().map(text));
    if !record.missing_documents.is_empty() {
        blocks.push(text("未出示：".into()));
        for missing in &record.missing_documents {
            let note = missing.note.trim();
            blocks.push(text(if note.is_empty() {
                format!("  {}：{}", missing.kind.name_zh(), missing.reason.name_zh())
            } else {
                format!(
                    "  {}：{}，{note}",
                    missing.kind.name_zh(),
                    missing.reason.name_zh()
                )
            }));
        }
    }
    blocks.push(Block::Rule);
    blocks.push(Block::Qr(qr_payload(record)));
    blocks.push(Block::Centered(format!(
        "核验码：{}",
        content_digest(record)
    )));
    blocks.push(Block::Rule);
    blocks.push(text("本人确认以上信息真实、准确。".into()));
    blocks.push(Block::Space);
    blocks.push(text("采集对象签字：________________".into()));
    blocks.push(text(format!("日期：{date}")));
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

/// Break `text` into lines of at most `columns` display columns, never
/// inside a character, and not inside a run of Latin letters and digits
/// (a certificate number, `K7Q2-M9XD`) unless the run is longer than half
/// a line.
pub fn wrap(text: &str, columns: usize) -> Vec<String> {
    let is_word = |c: char| c.is_ascii_alphanumeric();
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = width(c);
        if used + w > columns && !line.is_empty() {
            // Carry the word in progress over when it is short.
            let run_start = line
                .char_indices()
                .rev()
                .take_while(|(_, ch)| is_word(*ch))
                .last()
                .map(|(at, _)| at);
            let carried = match run_start {
                Some(at) if is_word(c) && at > 0 && line.len() - at <= columns / 2 => {
                    line.split_off(at)
                }
                _ => String::new(),
            };
            lines.push(std::mem::take(&mut line));
            used = carried.chars().map(width).sum();
            line = carried;
        }
        line.push(c);
        used += w;
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// What people typed, without control characters (an `ESC` or `GS` in a
/// note must not reach the printer as a command; a line break is a space).
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c == '\n' || c == '\t' { ' ' } else { c })
        .filter(|c| !c.is_control())
        .collect()
}

/// Wrap a text line with a hanging indent: continuation lines start under
/// the text after the leading spaces and the label (`姓名：`), unless that
/// leaves less than half the line.
pub fn wrap_hanging(text: &str, columns: usize) -> Vec<String> {
    let text = printable(text);
    let lead: String = text.chars().take_while(|c| *c == ' ').collect();
    let label_end = text
        .find('：')
        .map(|at| at + '：'.len_utf8())
        .filter(|at| text[..*at].chars().map(width).sum::<usize>() <= columns / 2);
    let indent = match label_end {
        Some(at) => text[..at].chars().map(width).sum(),
        None => lead.len() + 2,
    }
    .min(columns / 2);
    let first = wrap(&text, columns);
    let Some((head, _)) = first.split_first() else {
        return first;
    };
    if first.len() == 1 {
        return first;
    }
    let rest: String = text.chars().skip(head.chars().count()).collect();
    let mut lines = vec![head.clone()];
    for line in wrap(rest.trim_start(), columns - indent) {
        lines.push(format!("{}{line}", " ".repeat(indent)));
    }
    lines
}

/// The receipt as plain text (`veteran-kiosk receipt --text`).
pub fn to_text(receipt: &Receipt, paper: Paper) -> String {
    let columns = paper.columns();
    let mut out = String::new();
    for block in &receipt.blocks {
        match block {
            Block::Heading(text) | Block::Centered(text) => {
                for line in wrap(&printable(text), columns) {
                    let pad = columns.saturating_sub(line.chars().map(width).sum()) / 2;
                    out.push_str(&" ".repeat(pad));
                    out.push_str(&line);
                    out.push('\n');
                }
            }
            Block::Rule => {
                out.push_str(&"-".repeat(columns));
                out.push('\n');
            }
            Block::Text(text) => {
                for line in wrap_hanging(text, columns) {
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

/// Build, render and print the receipt of `valid` on `paper`: what the
/// session's `Effect::PrintReceipt` asks for, answered as its
/// `Event::Printed`. Safe to call again after a failure: the same bytes are
/// printed.
pub fn print(
    printer: &mut dyn ReceiptPrinter,
    valid: &ValidRecord,
    printed_at: DateTime<Utc>,
    paper: Paper,
) -> PrintOutcome {
    let result = to_escpos(&build(valid, printed_at), paper)
        .map_err(|err| PrinterError::Receipt(err.to_string()))
        .and_then(|bytes| printer.print(&bytes));
    print_outcome(&result)
}

/// `FS &`: enter Chinese character mode (text bytes are GB18030 from here).
pub const FS_CHINESE_ON: [u8; 2] = [0x1C, 0x26];

/// `GS v 0`: print a raster bit image (mode 0, normal size).
pub const GS_RASTER: [u8; 4] = [0x1D, 0x76, 0x30, 0x00];

/// The receipt as ESC/POS bytes for `paper`.
pub fn to_escpos(receipt: &Receipt, paper: Paper) -> Result<Vec<u8>, ReceiptError> {
    render(receipt, paper)
}

/// `data` as a QR code (level M) in a `GS v 0` raster image as wide as the
/// paper, the code centred with its quiet zone and about half the paper
/// wide, so it prints the same whatever the printer's justification.
pub fn qr_raster(data: &str, paper: Paper) -> Result<Vec<u8>, ReceiptError> {
    const QUIET_MODULES: usize = 4;
    let code = qrcode::QrCode::with_error_correction_level(data.as_bytes(), qrcode::EcLevel::M)
        .map_err(|err| ReceiptError::Qr(err.to_string()))?;
    let modules = code.width();
    let colours = code.to_colors();
    let dots = paper.dots();
    let total = modules + 2 * QUIET_MODULES;
    let scale = (dots / 2 / total).clamp(2, 8);
    let size = total * scale;
    if size > dots {
        return Err(ReceiptError::Qr(format!(
            "{modules} modules do not fit {dots} dots"
        )));
    }
    let left = (dots - size) / 2;
    let row_bytes = dots / 8;
    let (Ok(width), Ok(height)) = (u16::try_from(row_bytes), u16::try_from(size)) else {
        return Err(ReceiptError::Qr(format!("image {dots}×{size} too large")));
    };
    let mut out = Vec::with_capacity(8 + row_bytes * size);
    out.extend_from_slice(&GS_RASTER);
    out.extend_from_slice(&width.to_le_bytes());
    out.extend_from_slice(&height.to_le_bytes());
    for y in 0..size {
        let mut row = vec![0u8; row_bytes];
        let module_y = (y / scale)
            .checked_sub(QUIET_MODULES)
            .filter(|m| *m < modules);
        if let Some(my) = module_y {
            for x in 0..size {
                let module_x = (x / scale)
                    .checked_sub(QUIET_MODULES)
                    .filter(|m| *m < modules);
                let dark = module_x
                    .is_some_and(|mx| colours.get(my * modules + mx) == Some(&qrcode::Color::Dark));
                if dark {
                    let dot = left + x;
                    row[dot / 8] |= 0x80 >> (dot % 8);
                }
            }
        }
        out.extend_from_slice(&row);
    }
    Ok(out)
}

fn render(receipt: &Receipt, paper: Paper) -> Result<Vec<u8>, ReceiptError> {
    let escpos = |err: escpos::errors::PrinterError| ReceiptError::EscPos(err.to_string());
    let columns = paper.columns();
    let capture = Capture::default();
    let protocol = Protocol::new(escpos::utils::Encoder::new(encoding_rs::GB18030));
    let mut options = PrinterOptions::default();
    options.characters_per_line(u8::try_from(columns).unwrap_or(32));
    let mut printer = Printer::new(capture.clone(), protocol, Some(options));
    printer.init().map_err(escpos)?;
    printer.custom(&FS_CHINESE_ON).map_err(escpos)?;
    for block in &receipt.blocks {
        match block {
            Block::Heading(text) => {
                printer
                    .justify(JustifyMode::CENTER)
                    .and_then(|p| p.bold(true))
                    // Double height only: double width would not fit ten
                    // characters on 58 mm paper.
                    .and_then(|p| p.size(1, 2))
                    .map_err(escpos)?;
                for line in wrap(&printable(text), columns) {
                    printer.writeln(&line).map_err(escpos)?;
                }
                printer
                    .reset_size()
                    .and_then(|p| p.bold(false))
                    .and_then(|p| p.justify(JustifyMode::LEFT))
                    .map_err(escpos)?;
            }
            Block::Rule => {
                printer.writeln(&"-".repeat(columns)).map_err(escpos)?;
            }
            Block::Text(text) => {
                for line in wrap_hanging(text, columns) {
                    printer.writeln(&line).map_err(escpos)?;
                }
            }
            Block::Centered(text) => {
                printer.justify(JustifyMode::CENTER).map_err(escpos)?;
                for line in wrap(&printable(text), columns) {
                    printer.writeln(&line).map_err(escpos)?;
                }
                printer.justify(JustifyMode::LEFT).map_err(escpos)?;
            }
            Block::Qr(data) => {
                let image = qr_raster(data, paper)?;
                printer.custom(&image).map_err(escpos)?;
            }
            Block::Space => {
                printer.feeds(2).map_err(escpos)?;
            }
        }
    }
    printer
        .feeds(4)
        .and_then(|p| p.cut())
        .and_then(|p| p.print())
        .map_err(escpos)?;
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
            print(&mut device, &valid, at, Paper::Mm58),
            PrintOutcome::Failed {
                code: "printer_paper_out".into(),
                message_zh: "打印机缺纸，请工作人员装纸后重新打印".into()
            }
        );
        printer.state().status = PrinterStatus::Ready;
        assert_eq!(
            print(&mut device, &valid, at, Paper::Mm58),
            PrintOutcome::Printed
        );
        assert_eq!(
            print(&mut device, &valid, at, Paper::Mm58),
            PrintOutcome::Printed
        );
        let printed = printer.state().printed.clone();
        assert_eq!(printed.len(), 2);
        assert_eq!(printed[0], printed[1], "a reprint is the same receipt");
    }

    #[test]
    fn a_certificate_number_is_not_broken_when_it_fits_on_the_next_line() {
        expect![[r#"
            [
                "  残疾军人证编号：闽军残字第",
                "0123456号",
            ]
        "#]]
        .assert_debug_eq(&wrap("  残疾军人证编号：闽军残字第0123456号", 32));
        // Longer than half a line: broken where the line ends.
        let long = "编号：ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        assert_eq!(wrap(long, 32).concat(), long);
        assert_eq!(wrap(long, 32)[0].chars().map(width).sum::<usize>(), 32);
    }

    #[test]
    fn control_characters_never_reach_the_paper() {
        let lines = wrap_hanging("  说明：下周\u{1b}@送来\n复印件\u{1d}V0", 32);
        assert_eq!(lines, ["  说明：下周@送来 复印件V0"]);
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

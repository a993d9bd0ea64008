//! Each device's state in plain words, for the staff screen, and the rule
//! for when a configuration "cannot open its devices" at start.

use crate::devices::camera::Camera;
use crate::devices::card_reader::{CardReader, ReaderStatus};
use crate::devices::printer::{PrinterError, PrinterStatus, ReceiptPrinter};
use kiosk_core::session::DeviceLine;

/// The devices' names on the staff screen.
pub const READER_ZH: &str = "身份证读卡器";
pub const CAMERA_ZH: &str = "摄像头";
pub const PRINTER_ZH: &str = "回执打印机";

fn line(name_zh: &str, ok: bool, status_zh: impl Into<String>) -> DeviceLine {
    DeviceLine {
        name_zh: name_zh.into(),
        ok,
        status_zh: status_zh.into(),
    }
}

pub fn reader_line(status: &ReaderStatus, describe: &str) -> DeviceLine {
    let (ok, text) = match status {
        ReaderStatus::Ready => (true, "正常，等待放卡".to_string()),
        ReaderStatus::CardPresent => (true, "正常，读卡区有卡".to_string()),
        ReaderStatus::AwaitingRemoval => (true, "正常，请取走身份证".to_string()),
        ReaderStatus::Unplugged => (false, "未连接，请检查读卡器连线".to_string()),
        ReaderStatus::ServiceUnavailable => (false, "读卡服务（pcscd）没有运行".to_string()),
        ReaderStatus::Fault { code } => (false, format!("故障（{code}）")),
    };
    line(READER_ZH, ok, format!("{text} · {describe}"))
}

pub fn printer_line(status: &Result<PrinterStatus, PrinterError>, describe: &str) -> DeviceLine {
    let (ok, text) = match status {
        Ok(status) => (status.can_print(), status.message_zh().to_string()),
        Err(err) => (false, err.message_zh()),
    };
    line(PRINTER_ZH, ok, format!("{text} · {describe}"))
}

/// Why a configuration on trial cannot run its devices, if it cannot.
///
/// Only what a configuration can get wrong counts: a reader or printer
/// that is not there, a camera that does not open. An empty paper roll or a
/// card left on the reader is not the configuration's fault.
pub fn start_failure(
    reader: &mut dyn CardReader,
    camera: &mut dyn Camera,
    printer: &mut dyn ReceiptPrinter,
) -> Option<String> {
    let mut problems = Vec::new();
    match reader.status() {
        ReaderStatus::Unplugged | ReaderStatus::ServiceUnavailable | ReaderStatus::Fault { .. } => {
            problems.push(format!(
                "card reader {}: {:?}",
                reader.describe(),
                reader.status()
            ))
        }
        _ => {}
    }
    if let Err(
        err @ (PrinterError::Unreachable(_)
        | PrinterError::Timeout(_)
        | PrinterError::Io(_)
        | PrinterError::Garbled(_)),
    ) = printer.status()
    {
        problems.push(format!("printer {}: {err}", printer.describe()));
    }
    match camera.open() {
        Ok(_) => camera.close(),
        Err(err) => problems.push(format!("camera {}: {err}", camera.describe())),
    }
    (!problems.is_empty()).then(|| problems.join("; "))
}

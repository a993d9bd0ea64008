//! The receipt printer.
//!
//! A print is: ask the status (`DLE EOT`), refuse if the printer cannot
//! print, send the bytes, ask again. Paper out, cover open and offline are
//! [`PrinterStatus`] values the UI shows; a print that failed can simply be
//! sent again (the receipt bytes come from the record, nothing is created by
//! printing).

mod driver;
pub mod simulated;
pub mod status;
pub mod test;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use kiosk_core::session::PrintOutcome;

pub use driver::{EscPosPrinter, Transport};
pub use status::PrinterStatus;

/// What the kiosk's session calls.
pub trait ReceiptPrinter: Send {
    /// Ask the printer how it is.
    fn status(&mut self) -> Result<PrinterStatus, PrinterError>;

    /// Print one receipt (ESC/POS bytes, e.g. from
    /// [`crate::receipt::to_escpos`]). Checks the status before and after.
    fn print(&mut self, receipt: &[u8]) -> Result<PrintReport, PrinterError>;

    /// A short description for logs ("network 192.168.1.50:9100").
    fn describe(&self) -> String;

    /// The same for the staff screen, in Chinese ("网络打印机 192.168.1.50:9100").
    fn describe_zh(&self) -> String;
}

/// A finished print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrintReport {
    pub bytes_sent: usize,
    /// The status right after printing (may be `PaperNearEnd`).
    pub status_after: PrinterStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PrinterError {
    /// Nothing was printed: the printer said it cannot print.
    #[error("printer not ready: {0:?}")]
    NotReady(PrinterStatus),
    /// The bytes went out but the printer reported trouble afterwards; the
    /// receipt may be incomplete.
    #[error("printer reported {0:?} after printing")]
    Interrupted(PrinterStatus),
    /// No connection (no such device, connection refused, unplugged).
    #[error("printer unreachable: {0}")]
    Unreachable(String),
    /// The printer did not answer in time.
    #[error("printer did not answer within {0:?}")]
    Timeout(Duration),
    /// It answered, but not in ESC/POS.
    #[error("printer answered garbage: {0}")]
    Garbled(String),
    /// The connection broke while sending.
    #[error("printer connection failed: {0}")]
    Io(String),
    /// The receipt could not be built (text not encodable, …).
    #[error("receipt could not be built: {0}")]
    Receipt(String),
}

impl PrinterError {
    pub fn code(&self) -> &'static str {
        match self {
            PrinterError::NotReady(status) | PrinterError::Interrupted(status) => status.code(),
            PrinterError::Unreachable(_) => "printer_unreachable",
            PrinterError::Timeout(_) => "printer_timeout",
            PrinterError::Garbled(_) => "printer_garbled",
            PrinterError::Io(_) => "printer_io",
            PrinterError::Receipt(_) => "receipt_build",
        }
    }

    /// For the person at the kiosk.
    pub fn message_zh(&self) -> String {
        match self {
            PrinterError::NotReady(status) => status.message_zh().to_string(),
            PrinterError::Interrupted(status) => {
                format!("回执可能没有打印完整：{}", status.message_zh())
            }
            PrinterError::Unreachable(_) => "找不到打印机，请工作人员检查打印机电源和连线".into(),
            PrinterError::Timeout(_) => "打印机没有响应，请工作人员检查打印机".into(),
            PrinterError::Garbled(_) | PrinterError::Io(_) => {
                "打印机通信出错，请工作人员检查后重新打印".into()
            }
            PrinterError::Receipt(_) => "回执生成出错，请联系工作人员".into(),
        }
    }

    /// Whether trying again (after staff fixed the printer) makes sense.
    pub fn is_retryable(&self) -> bool {
        !matches!(self, PrinterError::Receipt(_))
    }
}

/// A print's result as the session takes it (`Event::Printed`).
pub fn print_outcome(result: &Result<PrintReport, PrinterError>) -> PrintOutcome {
    match result {
        Ok(_) => PrintOutcome::Printed,
        Err(err) => PrintOutcome::Failed {
            code: err.code().to_string(),
            message_zh: err.message_zh(),
        },
    }
}

/// The receipt paper's width.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Paper {
    /// 58 mm roll: 384 dots, 32 half-width columns (Font A).
    #[default]
    #[serde(rename = "58mm")]
    Mm58,
    /// 80 mm roll: 576 dots, 48 half-width columns.
    #[serde(rename = "80mm")]
    Mm80,
}

impl Paper {
    /// Half-width columns per line.
    pub fn columns(self) -> usize {
        match self {
            Paper::Mm58 => 32,
            Paper::Mm80 => 48,
        }
    }

    /// Printable dots per line (203 dpi heads).
    pub fn dots(self) -> usize {
        match self {
            Paper::Mm58 => 384,
            Paper::Mm80 => 576,
        }
    }

    /// `58` or `80`, as on the command line.
    pub fn parse_mm(text: &str) -> Option<Paper> {
        match text.trim().trim_end_matches("mm") {
            "58" => Some(Paper::Mm58),
            "80" => Some(Paper::Mm80),
            _ => None,
        }
    }
}

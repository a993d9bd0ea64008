//! The demo-mode printer: each receipt becomes a file in a directory, and
//! any fault can be produced on demand, from code ([`SimulatedPrinter::set_status`],
//! [`SimulatedPrinter::fail_next`]) or by staff writing a status word into
//! `<dir>/status` (`ready`, `paper_near_end`, `paper_out`, `cover_open`,
//! `offline`, `unreachable`, `timeout`).

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{PrintReport, PrinterError, PrinterStatus, ReceiptPrinter};

#[derive(Debug, Default)]
struct Faults {
    status: Option<PrinterStatus>,
    next_error: Option<PrinterError>,
}

#[derive(Debug, Clone)]
pub struct SimulatedPrinter {
    dir: PathBuf,
    faults: Arc<Mutex<Faults>>,
}

impl SimulatedPrinter {
    pub fn new(dir: impl Into<PathBuf>) -> SimulatedPrinter {
        SimulatedPrinter {
            dir: dir.into(),
            faults: Arc::new(Mutex::new(Faults::default())),
        }
    }

    /// Report this status until told otherwise (overrides the status file).
    pub fn set_status(&self, status: Option<PrinterStatus>) {
        self.faults().status = status;
    }

    /// Fail the next call with `error`.
    pub fn fail_next(&self, error: PrinterError) {
        self.faults().next_error = Some(error);
    }

    fn faults(&self) -> std::sync::MutexGuard<'_, Faults> {
        self.faults
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn current(&self) -> Result<PrinterStatus, PrinterError> {
        if let Some(err) = self.faults().next_error.take() {
            return Err(err);
        }
        if let Some(status) = self.faults().status {
            return Ok(status);
        }
        status_from_file(&self.dir.join("status"))
    }

    /// Receipts printed so far, oldest first.
    pub fn printed(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = fs::read_dir(&self.dir)
            .map(|entries| {
                entries
                    .filter_map(|entry| entry.ok().map(|e| e.path()))
                    .filter(|path| path.extension().is_some_and(|ext| ext == "escpos"))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files
    }
}

fn status_from_file(path: &Path) -> Result<PrinterStatus, PrinterError> {
    let word = match fs::read_to_string(path) {
        Ok(text) => text.trim().to_string(),
        Err(_) => return Ok(PrinterStatus::Ready),
    };
    match word.as_str() {
        "" | "ready" => Ok(PrinterStatus::Ready),
        "paper_near_end" => Ok(PrinterStatus::PaperNearEnd),
        "paper_out" => Ok(PrinterStatus::PaperOut),
        "cover_open" => Ok(PrinterStatus::CoverOpen),
        "offline" => Ok(PrinterStatus::Offline),
        "unreachable" => Err(PrinterError::Unreachable("simulated: unplugged".into())),
        "timeout" => Err(PrinterError::Timeout(Duration::from_secs(5))),
        other => Err(PrinterError::Garbled(format!(
            "simulated status file says {other:?}"
        ))),
    }
}

impl ReceiptPrinter for SimulatedPrinter {
    fn status(&mut self) -> Result<PrinterStatus, PrinterError> {
        self.current()
    }

    fn print(&mut self, receipt: &[u8]) -> Result<PrintReport, PrinterError> {
        let status = self.current()?;
        if !status.can_print() {
            return Err(PrinterError::NotReady(status));
        }
        fs::create_dir_all(&self.dir).map_err(|err| PrinterError::Io(err.to_string()))?;
        let path = self
            .dir
            .join(format!("receipt-{:04}.escpos", self.printed().len() + 1));
        fs::write(&path, receipt).map_err(|err| PrinterError::Io(err.to_string()))?;
        Ok(PrintReport {
            bytes_sent: receipt.len(),
            status_after: status,
        })
    }

    fn describe(&self) -> String {
        format!("simulated printer ({})", self.dir.display())
    }

    fn describe_zh(&self) -> String {
        format!("模拟打印机（存到 {}）", self.dir.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_to_files_and_obeys_the_status_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut printer = SimulatedPrinter::new(dir.path());
        printer.print(b"first").unwrap();
        fs::write(dir.path().join("status"), "paper_out\n").unwrap();
        assert_eq!(
            printer.print(b"second"),
            Err(PrinterError::NotReady(PrinterStatus::PaperOut))
        );
        fs::write(dir.path().join("status"), "unreachable").unwrap();
        assert_eq!(printer.status().unwrap_err().code(), "printer_unreachable");
        fs::write(dir.path().join("status"), "ready").unwrap();
        printer.fail_next(PrinterError::Timeout(Duration::from_secs(1)));
        assert_eq!(printer.status().unwrap_err().code(), "printer_timeout");
        printer.set_status(Some(PrinterStatus::CoverOpen));
        assert_eq!(printer.status(), Ok(PrinterStatus::CoverOpen));
        printer.set_status(None);
        printer.print(b"third").unwrap();
        let printed: Vec<Vec<u8>> = printer
            .printed()
            .iter()
            .map(|p| fs::read(p).unwrap())
            .collect();
        assert_eq!(printed, vec![b"first".to_vec(), b"third".to_vec()]);
    }
}

//! The in-memory test printer: remembers what it printed, reports whatever
//! status the test sets, fails on request.

use std::sync::{Arc, Mutex, MutexGuard};

use super::{PrintReport, PrinterError, PrinterStatus, ReceiptPrinter};

#[derive(Debug)]
pub struct TestPrinterState {
    pub status: PrinterStatus,
    /// The status the printer reports after the next print (then stays).
    pub status_after_next_print: Option<PrinterStatus>,
    /// Returned (once) by the next call instead of doing anything.
    pub next_error: Option<PrinterError>,
    pub printed: Vec<Vec<u8>>,
    pub status_queries: usize,
}

/// Cloneable: keep one clone in the test, box the other as the device.
#[derive(Debug, Clone)]
pub struct TestPrinter {
    state: Arc<Mutex<TestPrinterState>>,
}

impl Default for TestPrinter {
    fn default() -> Self {
        TestPrinter::new()
    }
}

impl TestPrinter {
    pub fn new() -> TestPrinter {
        TestPrinter {
            state: Arc::new(Mutex::new(TestPrinterState {
                status: PrinterStatus::Ready,
                status_after_next_print: None,
                next_error: None,
                printed: Vec::new(),
                status_queries: 0,
            })),
        }
    }

    /// The shared state (a poisoned lock is recovered: tests only).
    pub fn state(&self) -> MutexGuard<'_, TestPrinterState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl ReceiptPrinter for TestPrinter {
    fn status(&mut self) -> Result<PrinterStatus, PrinterError> {
        let mut state = self.state();
        state.status_queries += 1;
        if let Some(err) = state.next_error.take() {
            return Err(err);
        }
        Ok(state.status)
    }

    fn print(&mut self, receipt: &[u8]) -> Result<PrintReport, PrinterError> {
        let mut state = self.state();
        if let Some(err) = state.next_error.take() {
            return Err(err);
        }
        if !state.status.can_print() {
            return Err(PrinterError::NotReady(state.status));
        }
        state.printed.push(receipt.to_vec());
        if let Some(after) = state.status_after_next_print.take() {
            state.status = after;
        }
        if !state.status.can_print() {
            return Err(PrinterError::Interrupted(state.status));
        }
        Ok(PrintReport {
            bytes_sent: receipt.len(),
            status_after: state.status,
        })
    }

    fn describe(&self) -> String {
        "test printer".into()
    }

    fn describe_zh(&self) -> String {
        "测试打印机".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripted_statuses_and_faults() {
        let printer = TestPrinter::new();
        let mut device: Box<dyn ReceiptPrinter> = Box::new(printer.clone());
        assert_eq!(device.print(b"a").map(|r| r.bytes_sent), Ok(1));

        printer.state().status = PrinterStatus::CoverOpen;
        assert_eq!(
            device.print(b"b"),
            Err(PrinterError::NotReady(PrinterStatus::CoverOpen))
        );

        printer.state().status = PrinterStatus::Ready;
        printer.state().status_after_next_print = Some(PrinterStatus::PaperOut);
        assert_eq!(
            device.print(b"c"),
            Err(PrinterError::Interrupted(PrinterStatus::PaperOut))
        );

        printer.state().next_error = Some(PrinterError::Unreachable("unplugged".into()));
        assert_eq!(device.status().unwrap_err().code(), "printer_unreachable");
        assert_eq!(printer.state().printed, vec![b"a".to_vec(), b"c".to_vec()]);
    }
}

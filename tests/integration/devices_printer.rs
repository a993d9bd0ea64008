//! The ESC/POS printer driver against a fake network printer on loopback
//! and, for the USB character-device path, a pseudo-terminal.

use crate::devices_support;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use devices_support::fake_printer::{feed, FakePrinter, FakePrinterState};
use serialport::{SerialPort, TTYPort};
use veteran_kiosk::devices::printer::{
    EscPosPrinter, PrinterError, PrinterStatus, ReceiptPrinter, Transport,
};

const TIMEOUT: Duration = Duration::from_millis(400);

fn network(fake: &FakePrinter) -> EscPosPrinter {
    EscPosPrinter::new(
        Transport::Network {
            address: fake.addr.to_string(),
        },
        TIMEOUT,
    )
}

#[test]
fn status_queries_report_each_state() {
    let fake = FakePrinter::start();
    let mut printer = network(&fake);
    for status in [
        PrinterStatus::Ready,
        PrinterStatus::PaperNearEnd,
        PrinterStatus::PaperOut,
        PrinterStatus::CoverOpen,
        PrinterStatus::Offline,
    ] {
        fake.state().status = status;
        assert_eq!(printer.status(), Ok(status));
    }
    // Offline states need the cause (n = 2); online ones do not.
    assert_eq!(
        fake.state().queries,
        vec![1, 4, 1, 4, 1, 2, 4, 1, 2, 4, 1, 2, 4]
    );
}

#[test]
fn a_print_checks_status_before_and_after_and_sends_every_byte() {
    let fake = FakePrinter::start();
    let mut printer = network(&fake);
    let receipt: Vec<u8> = (0..=255u8)
        .cycle()
        .take(5000)
        .filter(|b| *b != 0x10)
        .collect();
    let report = printer.print(&receipt).unwrap();
    assert_eq!(report.bytes_sent, receipt.len());
    assert_eq!(report.status_after, PrinterStatus::Ready);
    assert_eq!(fake.wait_for_bytes(receipt.len()), receipt);
    assert_eq!(fake.state().queries, vec![1, 4, 1, 4]);
}

#[test]
fn nothing_is_sent_to_a_printer_that_cannot_print() {
    let fake = FakePrinter::start();
    let mut printer = network(&fake);
    for status in [
        PrinterStatus::PaperOut,
        PrinterStatus::CoverOpen,
        PrinterStatus::Offline,
    ] {
        fake.state().status = status;
        let err = printer.print(b"receipt").unwrap_err();
        assert_eq!(err, PrinterError::NotReady(status));
        assert!(!err.message_zh().is_empty());
    }
    assert!(fake.state().received.is_empty());
    // Paper near its end still prints.
    fake.state().status = PrinterStatus::PaperNearEnd;
    assert_eq!(
        printer.print(b"ok").unwrap().status_after,
        PrinterStatus::PaperNearEnd
    );
}

#[test]
fn paper_running_out_mid_receipt_is_reported_and_a_retry_prints_it_whole() {
    let fake = FakePrinter::start();
    let mut printer = network(&fake);
    let receipt = vec![b'x'; 2000];
    fake.state().status_after_bytes = Some((1000, PrinterStatus::PaperOut));
    let err = printer.print(&receipt).unwrap_err();
    assert_eq!(err, PrinterError::Interrupted(PrinterStatus::PaperOut));
    assert!(err.is_retryable());
    assert_eq!(
        err.message_zh(),
        "回执可能没有打印完整：打印机缺纸，请工作人员装纸后重新打印"
    );

    // Staff load paper; the same bytes are sent again.
    fake.state().status = PrinterStatus::Ready;
    printer.print(&receipt).unwrap();
    assert_eq!(fake.wait_for_bytes(4000).len(), 4000);
}

#[test]
fn a_printer_that_is_not_there_is_unreachable() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let mut printer = EscPosPrinter::new(
        Transport::Network {
            address: format!("127.0.0.1:{port}"),
        },
        TIMEOUT,
    );
    let err = printer.status().unwrap_err();
    assert_eq!(err.code(), "printer_unreachable", "{err}");
}

#[test]
fn a_silent_printer_times_out_within_the_limit() {
    let fake = FakePrinter::start();
    fake.state().silent = true;
    let mut printer = network(&fake);
    let started = Instant::now();
    assert_eq!(
        printer.print(b"receipt"),
        Err(PrinterError::Timeout(TIMEOUT))
    );
    assert!(
        started.elapsed() < TIMEOUT * 3,
        "took {:?}",
        started.elapsed()
    );
    assert!(fake.state().received.is_empty());
}

#[test]
fn a_garbled_status_answer_is_an_error_not_a_guess() {
    let fake = FakePrinter::start();
    fake.state().garbled_answer = Some(0xFF);
    let mut printer = network(&fake);
    assert_eq!(printer.status().unwrap_err().code(), "printer_garbled");
}

/// Plays a printer on the master side of a pty: answers status queries
/// until `expected_data` bytes and `expected_queries` queries have come.
fn pty_printer(
    mut printer_side: TTYPort,
    status: PrinterStatus,
    expected_data: usize,
    expected_queries: usize,
) -> std::thread::JoinHandle<(FakePrinterState, TTYPort)> {
    printer_side.set_timeout(Duration::from_millis(20)).unwrap();
    std::thread::spawn(move || {
        let mut state = FakePrinterState::new();
        state.status = status;
        let mut pending = Vec::new();
        let mut buf = [0u8; 256];
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline
            && !(state.received.len() == expected_data && state.queries.len() == expected_queries)
        {
            if let Ok(n) = printer_side.read(&mut buf) {
                pending.extend_from_slice(&buf[..n]);
                let answers = feed(&mut pending, &mut state);
                printer_side.write_all(&answers).unwrap();
            }
        }
        (state, printer_side)
    })
}

/// The USB transport writes to a character device (`/dev/usb/lp0` on a real
/// kiosk) and reads status back from it; a pty slave is such a device, and
/// the test plays the printer on the master side.
#[test]
fn usb_character_device_path_prints_and_reads_status() {
    let (printer_side, device) = TTYPort::pair().unwrap();
    let path = device.name().unwrap();
    let fake = pty_printer(printer_side, PrinterStatus::PaperNearEnd, 7, 4);
    let mut printer = EscPosPrinter::new(
        Transport::Usb {
            device: path.clone().into(),
        },
        Duration::from_secs(2),
    );
    let report = printer.print(b"receipt").unwrap();
    assert_eq!(report.status_after, PrinterStatus::PaperNearEnd);
    let (state, printer_side) = fake.join().unwrap();
    assert_eq!(state.received, b"receipt");
    assert_eq!(state.queries, vec![1, 4, 1, 4]);

    // Unplugged: the other end is gone.
    drop(printer_side);
    drop(device);
    let err = printer.status().unwrap_err();
    assert_eq!(err.code(), "printer_unreachable", "{err}");
}

/// A serial printer, through the real serialport code on a pty.
#[test]
fn serial_printer_prints_and_reports_a_cover_left_open() {
    let (printer_side, device) = TTYPort::pair().unwrap();
    let path = device.name().unwrap();
    let transport = Transport::Serial {
        port: path,
        baud: 9600,
    };
    // Cover open: one status check (1, 2, 4) and nothing printed.
    let fake = pty_printer(printer_side, PrinterStatus::CoverOpen, 0, 3);
    let mut printer = EscPosPrinter::new(transport.clone(), Duration::from_secs(2));
    assert_eq!(
        printer.print(b"receipt"),
        Err(PrinterError::NotReady(PrinterStatus::CoverOpen))
    );
    let (state, printer_side) = fake.join().unwrap();
    assert!(state.received.is_empty());
    // Cover closed: printed.
    let fake = pty_printer(printer_side, PrinterStatus::Ready, 7, 4);
    printer.print(b"receipt").unwrap();
    let (state, _printer_side) = fake.join().unwrap();
    assert_eq!(state.received, b"receipt");
    drop(device);
}

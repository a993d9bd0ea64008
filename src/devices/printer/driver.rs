//! The real ESC/POS printer: network (raw TCP 9100), USB (the kernel's
//! `usblp` character device, `/dev/usb/lp0`), serial, or a plain file.
//!
//! One connection per operation: printers on port 9100 serve one client at
//! a time, and a fresh connection after a power cycle just works. Every read
//! and write has the configured timeout.

use std::fs::{File, OpenOptions};
use std::io::{self, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::status::{self, StatusBytes, StatusQuery};
use super::{PrintReport, PrinterError, PrinterStatus, ReceiptPrinter};

const DEFAULT_PORT: u16 = 9100;

/// How the printer is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// `host:port` (port 9100 when absent).
    Network {
        address: String,
    },
    /// A character device that reads back status, e.g. `/dev/usb/lp0`.
    Usb {
        device: PathBuf,
    },
    Serial {
        port: String,
        baud: u32,
    },
    /// Bytes appended to a file; no status (always ready).
    File {
        path: PathBuf,
    },
}

pub struct EscPosPrinter {
    transport: Transport,
    timeout: Duration,
}

impl EscPosPrinter {
    pub fn new(transport: Transport, timeout: Duration) -> EscPosPrinter {
        EscPosPrinter { transport, timeout }
    }

    fn connect(&self) -> Result<Box<dyn Link>, PrinterError> {
        match &self.transport {
            Transport::Network { address } => {
                let addr = resolve(address)?;
                let stream = TcpStream::connect_timeout(&addr, self.timeout).map_err(|err| {
                    if matches!(err.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock) {
                        PrinterError::Timeout(self.timeout)
                    } else {
                        PrinterError::Unreachable(format!("{address}: {err}"))
                    }
                })?;
                stream
                    .set_read_timeout(Some(self.timeout))
                    .and_then(|()| stream.set_write_timeout(Some(self.timeout)))
                    .and_then(|()| stream.set_nodelay(true))
                    .map_err(|err| PrinterError::Io(err.to_string()))?;
                Ok(Box::new(StreamLink {
                    stream,
                    timeout: self.timeout,
                    // A fresh connection holds nothing old.
                    clear: |_| {},
                }))
            }
            Transport::Usb { device } => {
                let file = OpenOptions::new()
                    .read(true)
                    .write(true)
                    .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
                    .open(device)
                    .map_err(|err| {
                        PrinterError::Unreachable(format!("{}: {err}", device.display()))
                    })?;
                Ok(Box::new(CharDeviceLink {
                    file,
                    timeout: self.timeout,
                }))
            }
            Transport::Serial { port, baud } => {
                let serial = serialport::new(port, *baud)
                    .timeout(self.timeout)
                    .open()
                    .map_err(|err| PrinterError::Unreachable(format!("{port}: {err}")))?;
                Ok(Box::new(StreamLink {
                    stream: serial,
                    timeout: self.timeout,
                    // A serial line may hold old bytes (automatic status,
                    // a late answer): drop them before asking.
                    clear: |port| {
                        let _ = port.clear(serialport::ClearBuffer::Input);
                    },
                }))
            }
            Transport::File { path } => {
                let file = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|err| {
                        PrinterError::Unreachable(format!("{}: {err}", path.display()))
                    })?;
                Ok(Box::new(FileLink { file }))
            }
        }
    }
}

impl ReceiptPrinter for EscPosPrinter {
    fn status(&mut self) -> Result<PrinterStatus, PrinterError> {
        let mut link = self.connect()?;
        query_status(link.as_mut())
    }

    fn print(&mut self, receipt: &[u8]) -> Result<PrintReport, PrinterError> {
        let mut link = self.connect()?;
        let before = query_status(link.as_mut())?;
        if !before.can_print() {
            return Err(PrinterError::NotReady(before));
        }
        link.send(receipt)?;
        let after = query_status(link.as_mut())?;
        if !after.can_print() {
            return Err(PrinterError::Interrupted(after));
        }
        Ok(PrintReport {
            bytes_sent: receipt.len(),
            status_after: after,
        })
    }

    fn describe(&self) -> String {
        match &self.transport {
            Transport::Network { address } => format!("network {address}"),
            Transport::Usb { device } => format!("usb {}", device.display()),
            Transport::Serial { port, baud } => format!("serial {port} @ {baud}"),
            Transport::File { path } => format!("file {}", path.display()),
        }
    }

    fn describe_zh(&self) -> String {
        match &self.transport {
            Transport::Network { address } => format!("网络打印机 {address}"),
            Transport::Usb { device } => format!("USB 打印机 {}", device.display()),
            Transport::Serial { port, baud } => format!("串口打印机 {port}（{baud} 波特）"),
            Transport::File { path } => format!("打印到文件 {}", path.display()),
        }
    }
}

fn resolve(address: &str) -> Result<SocketAddr, PrinterError> {
    let with_port = if address
        .rsplit_once(':')
        .is_some_and(|(_, port)| port.parse::<u16>().is_ok())
    {
        address.to_string()
    } else {
        format!("{address}:{DEFAULT_PORT}")
    };
    with_port
        .to_socket_addrs()
        .map_err(|err| PrinterError::Unreachable(format!("{address}: {err}")))?
        .next()
        .ok_or_else(|| PrinterError::Unreachable(format!("{address}: no address")))
}

/// Ask the three DLE EOT questions and decide.
fn query_status(link: &mut dyn Link) -> Result<PrinterStatus, PrinterError> {
    if !link.has_status() {
        return Ok(PrinterStatus::Ready);
    }
    link.drain();
    let mut ask = |query: StatusQuery| -> Result<u8, PrinterError> {
        link.send(&query.bytes())?;
        link.recv_byte()
    };
    let printer = ask(StatusQuery::Printer)?;
    let offline_cause = if status::says_offline(printer) {
        Some(ask(StatusQuery::OfflineCause)?)
    } else {
        None
    };
    let roll_paper = ask(StatusQuery::RollPaper)?;
    status::decode(StatusBytes {
        printer,
        offline_cause,
        roll_paper,
    })
    .map_err(|err| PrinterError::Garbled(err.to_string()))
}

trait Link {
    fn send(&mut self, bytes: &[u8]) -> Result<(), PrinterError>;
    fn recv_byte(&mut self) -> Result<u8, PrinterError>;
    /// Throw away whatever the printer sent unasked (e.g. automatic status
    /// back), so the next byte read answers our question.
    fn drain(&mut self);
    fn has_status(&self) -> bool {
        true
    }
}

fn io_error(err: io::Error, timeout: Duration) -> PrinterError {
    // EIO/ENODEV/ENXIO: the device went away (unplugged, powered off).
    if matches!(
        err.raw_os_error(),
        Some(libc::EIO | libc::ENODEV | libc::ENXIO)
    ) {
        return PrinterError::Unreachable(err.to_string());
    }
    match err.kind() {
        ErrorKind::TimedOut | ErrorKind::WouldBlock => PrinterError::Timeout(timeout),
        ErrorKind::NotFound | ErrorKind::ConnectionRefused => {
            PrinterError::Unreachable(err.to_string())
        }
        _ => PrinterError::Io(err.to_string()),
    }
}

/// TCP or serial: the OS enforces the timeouts.
struct StreamLink<S> {
    stream: S,
    timeout: Duration,
    clear: fn(&mut S),
}

impl<S: Read + Write> Link for StreamLink<S> {
    fn send(&mut self, bytes: &[u8]) -> Result<(), PrinterError> {
        self.stream
            .write_all(bytes)
            .and_then(|()| self.stream.flush())
            .map_err(|err| io_error(err, self.timeout))
    }

    fn recv_byte(&mut self) -> Result<u8, PrinterError> {
        let mut byte = [0u8; 1];
        loop {
            return match self.stream.read(&mut byte) {
                Ok(1) => Ok(byte[0]),
                Ok(_) => Err(PrinterError::Io("printer closed the connection".into())),
                Err(err) if err.kind() == ErrorKind::Interrupted => continue,
                Err(err) => Err(io_error(err, self.timeout)),
            };
        }
    }

    fn drain(&mut self) {
        (self.clear)(&mut self.stream);
    }
}

/// A character device opened non-blocking; `poll` gives the timeouts.
struct CharDeviceLink {
    file: File,
    timeout: Duration,
}

impl CharDeviceLink {
    // FFI: poll(2) on the printer's character device; std has no
    // readiness wait with a time-out for a plain file.
    #[allow(unsafe_code)]
    fn wait(&self, events: libc::c_short, deadline: Instant) -> Result<(), PrinterError> {
        let remaining = deadline.saturating_duration_since(Instant::now());
        let mut poll = libc::pollfd {
            fd: self.file.as_raw_fd(),
            events,
            revents: 0,
        };
        let millis = libc::c_int::try_from(remaining.as_millis()).unwrap_or(libc::c_int::MAX);
        // SAFETY: one valid pollfd for the duration of the call.
        let ready = unsafe { libc::poll(&mut poll, 1, millis) };
        if ready < 0 {
            return Err(PrinterError::Io(io::Error::last_os_error().to_string()));
        }
        if ready == 0 {
            return Err(PrinterError::Timeout(self.timeout));
        }
        if poll.revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0
            && poll.revents & events == 0
        {
            return Err(PrinterError::Unreachable("printer device hung up".into()));
        }
        Ok(())
    }
}

impl Link for CharDeviceLink {
    fn send(&mut self, bytes: &[u8]) -> Result<(), PrinterError> {
        let deadline = Instant::now() + self.timeout;
        let mut rest = bytes;
        while !rest.is_empty() {
            match self.file.write(rest) {
                Ok(0) => return Err(PrinterError::Io("printer accepted no bytes".into())),
                Ok(written) => rest = rest.get(written..).unwrap_or_default(),
                Err(err) if err.kind() == ErrorKind::WouldBlock => {
                    self.wait(libc::POLLOUT, deadline)?
                }
                Err(err) if err.kind() == ErrorKind::Interrupted => {}
                Err(err) => return Err(io_error(err, self.timeout)),
            }
        }
        Ok(())
    }

    fn recv_byte(&mut self) -> Result<u8, PrinterError> {
        let deadline = Instant::now() + self.timeout;
        let mut byte = [0u8; 1];
        loop {
            match self.file.read(&mut byte) {
                Ok(1) => return Ok(byte[0]),
                Ok(_) | Err(_) if Instant::now() >= deadline => {
                    return Err(PrinterError::Timeout(self.timeout))
                }
                Ok(_) => self.wait(libc::POLLIN, deadline)?,
                Err(err) if err.kind() == ErrorKind::WouldBlock => {
                    self.wait(libc::POLLIN, deadline)?
                }
                Err(err) if err.kind() == ErrorKind::Interrupted => {}
                Err(err) => return Err(io_error(err, self.timeout)),
            }
        }
    }

    fn drain(&mut self) {
        let mut buf = [0u8; 256];
        while matches!(self.file.read(&mut buf), Ok(n) if n > 0) {}
    }
}

struct FileLink {
    file: File,
}

impl Link for FileLink {
    fn send(&mut self, bytes: &[u8]) -> Result<(), PrinterError> {
        self.file
            .write_all(bytes)
            .and_then(|()| self.file.flush())
            .map_err(|err| PrinterError::Io(err.to_string()))
    }

    fn recv_byte(&mut self) -> Result<u8, PrinterError> {
        Err(PrinterError::Garbled(
            "a file cannot answer status queries".into(),
        ))
    }

    fn drain(&mut self) {}

    fn has_status(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_get_the_raw_printing_port_by_default() {
        assert_eq!(resolve("127.0.0.1").unwrap().port(), 9100);
        assert_eq!(resolve("127.0.0.1:9101").unwrap().port(), 9101);
        assert!(matches!(
            resolve("no such host .invalid"),
            Err(PrinterError::Unreachable(_))
        ));
    }

    #[test]
    fn the_file_transport_appends_and_is_always_ready() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("receipts.bin");
        let mut printer = EscPosPrinter::new(
            Transport::File { path: path.clone() },
            Duration::from_secs(1),
        );
        assert_eq!(printer.status(), Ok(PrinterStatus::Ready));
        printer.print(b"one").unwrap();
        printer.print(b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"onetwo");
    }

    #[test]
    fn a_missing_device_is_unreachable() {
        let mut printer = EscPosPrinter::new(
            Transport::Usb {
                device: PathBuf::from("/dev/usb/no-such-lp"),
            },
            Duration::from_millis(100),
        );
        let err = printer.status().unwrap_err();
        assert_eq!(err.code(), "printer_unreachable");
    }
}

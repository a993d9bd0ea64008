//! A certified GA 467 SAM reader on a serial line (115200 8N1 by default).
//!
//! The port is opened on first use and kept; any I/O error other than a
//! timeout drops it (the reader was unplugged), and the next poll opens it
//! again, so plugging the reader back in just works.

use std::io::ErrorKind;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use serialport::{ClearBuffer, DataBits, FlowControl, Parity, SerialPort, StopBits};

use super::{CardEvent, CardReader, FrameLink, Ga467Session, ReaderError, ReaderStatus, SamInfo};
use kiosk_core::card::{FrameReader, Request};

pub struct Ga467SerialReader {
    port_name: String,
    baud: u32,
    timeout: Duration,
    port: Option<Box<dyn SerialPort>>,
    session: Ga467Session,
}

impl Ga467SerialReader {
    pub fn new(port_name: &str, baud: u32, timeout: Duration) -> Ga467SerialReader {
        Ga467SerialReader {
            port_name: port_name.to_string(),
            baud,
            timeout,
            port: None,
            session: Ga467Session::new(),
        }
    }

    fn port(&mut self) -> Result<&mut Box<dyn SerialPort>, ReaderError> {
        if self.port.is_none() {
            let port = serialport::new(&self.port_name, self.baud)
                .data_bits(DataBits::Eight)
                .parity(Parity::None)
                .stop_bits(StopBits::One)
                .flow_control(FlowControl::None)
                .timeout(self.timeout)
                .open()
                .map_err(|err| ReaderError::Unplugged(format!("{}: {err}", self.port_name)))?;
            self.port = Some(port);
        }
        self.port
            .as_mut()
            .ok_or_else(|| ReaderError::Unplugged(self.port_name.clone()))
    }

    /// Run `f` with a link on the open port; a lost port is dropped.
    fn with_link<R>(
        &mut self,
        f: impl FnOnce(&mut SerialLink<'_>, &mut Ga467Session) -> Result<R, ReaderError>,
    ) -> Result<R, ReaderError> {
        let timeout = self.timeout;
        let mut session = std::mem::take(&mut self.session);
        let result = match self.port() {
            Ok(port) => {
                let mut link = SerialLink {
                    port: port.as_mut(),
                    timeout,
                };
                f(&mut link, &mut session)
            }
            Err(err) => Err(err),
        };
        self.session = session;
        if matches!(result, Err(ReaderError::Unplugged(_))) {
            self.port = None;
            self.session = Ga467Session::new();
        }
        result
    }
}

struct SerialLink<'a> {
    port: &'a mut dyn SerialPort,
    timeout: Duration,
}

impl SerialLink<'_> {
    fn lost(err: impl std::fmt::Display) -> ReaderError {
        ReaderError::Unplugged(err.to_string())
    }
}

impl FrameLink for SerialLink<'_> {
    fn exchange(&mut self, request: Request) -> Result<Vec<u8>, ReaderError> {
        // Late bytes of an earlier, timed-out answer must not be taken for
        // this one.
        let _ = self.port.clear(ClearBuffer::Input);
        self.port.write_all(&request.encode()).map_err(Self::lost)?;
        self.port.flush().map_err(Self::lost)?;

        let deadline = Instant::now() + self.timeout;
        let mut frames = FrameReader::new();
        let mut buf = [0u8; 2048];
        loop {
            if let Some(frame) = frames.next_frame() {
                return Ok(frame);
            }
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(ReaderError::Timeout(self.timeout));
            }
            self.port
                .set_timeout(remaining)
                .map_err(|err| ReaderError::Io(err.to_string()))?;
            match self.port.read(&mut buf) {
                Ok(0) => return Err(Self::lost("serial port closed")),
                Ok(n) => frames.push(buf.get(..n).unwrap_or_default()),
                Err(err) if matches!(err.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock) => {}
                Err(err) if err.kind() == ErrorKind::Interrupted => {}
                Err(err) => return Err(Self::lost(err)),
            }
        }
    }
}

impl CardReader for Ga467SerialReader {
    fn poll(&mut self, today: NaiveDate) -> Result<CardEvent, ReaderError> {
        self.with_link(|link, session| session.poll(link, today))
    }

    fn status(&mut self) -> ReaderStatus {
        let awaiting = self.session.awaiting_removal();
        let found = self.with_link(|link, _| Ga467Session::request(link, Request::FindCard));
        match found {
            Ok(response) if response.status().is_success() && awaiting => {
                ReaderStatus::AwaitingRemoval
            }
            Ok(response) if response.status().is_success() => ReaderStatus::CardPresent,
            Ok(_) => ReaderStatus::Ready,
            Err(ReaderError::Unplugged(_)) => ReaderStatus::Unplugged,
            Err(err) => ReaderStatus::Fault { code: err.code() },
        }
    }

    fn sam_info(&mut self) -> Result<SamInfo, ReaderError> {
        self.with_link(|link, _| Ga467Session::sam_info(link))
    }

    fn describe(&self) -> String {
        format!(
            "GA 467 serial reader on {} @ {} 8N1",
            self.port_name, self.baud
        )
    }

    fn describe_zh(&self) -> String {
        format!("串口读卡器（{}，{} 波特）", self.port_name, self.baud)
    }
}

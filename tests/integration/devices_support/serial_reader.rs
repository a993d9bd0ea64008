//! A virtual GA 467 reader on a pseudo-terminal pair: the kiosk's real
//! serial code opens the slave side by its path; this emulator answers on
//! the master side.

use std::io::{ErrorKind, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use kiosk_core::card::FrameReader;
use serialport::{SerialPort, TTYPort};

use super::sam::VirtualSam;

pub struct VirtualSerialReader {
    /// The path the kiosk opens, e.g. `/dev/pts/7`.
    pub path: String,
    sam: Arc<Mutex<VirtualSam>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl VirtualSerialReader {
    pub fn start() -> VirtualSerialReader {
        let (mut master, slave) = TTYPort::pair().expect("open a pseudo-terminal pair");
        master.set_timeout(Duration::from_millis(10)).unwrap();
        let path = slave.name().unwrap();
        let sam = Arc::new(Mutex::new(VirtualSam::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = thread::spawn({
            let sam = Arc::clone(&sam);
            let stop = Arc::clone(&stop);
            move || {
                // Holding the slave open keeps the master readable while the
                // kiosk has the port closed.
                let _slave = slave;
                let mut frames = FrameReader::new();
                let mut buf = [0u8; 512];
                while !stop.load(Ordering::SeqCst) {
                    match master.read(&mut buf) {
                        Ok(n) => frames.push(&buf[..n]),
                        Err(err)
                            if matches!(
                                err.kind(),
                                ErrorKind::TimedOut | ErrorKind::WouldBlock
                            ) => {}
                        Err(_) => thread::sleep(Duration::from_millis(5)),
                    }
                    while let Some(frame) = frames.next_frame() {
                        let answer = sam.lock().unwrap().answer(&frame);
                        if let Some(bytes) = answer {
                            // Answer in pieces, as a UART would deliver it.
                            for piece in bytes.chunks(64) {
                                master.write_all(piece).unwrap();
                            }
                            master.flush().unwrap();
                        }
                    }
                }
                // Dropping master and slave: the reader is unplugged.
            }
        });
        VirtualSerialReader {
            path,
            sam,
            stop,
            thread: Some(thread),
        }
    }

    pub fn sam(&self) -> MutexGuard<'_, VirtualSam> {
        self.sam.lock().unwrap()
    }

    /// Pull the reader's cable: both pty ends close.
    pub fn unplug(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            thread.join().unwrap();
        }
    }
}

impl Drop for VirtualSerialReader {
    fn drop(&mut self) {
        self.unplug();
    }
}

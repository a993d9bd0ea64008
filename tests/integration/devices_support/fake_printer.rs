//! A fake ESC/POS network printer on loopback: records every byte it is
//! sent and answers `DLE EOT n` status queries like a real one.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use veteran_kiosk::devices::printer::status::answer_for;
use veteran_kiosk::devices::printer::PrinterStatus;

/// How the fake answers.
#[derive(Debug, Clone)]
pub struct FakePrinterState {
    pub status: PrinterStatus,
    /// Once this many data bytes have arrived, switch to this status (paper
    /// running out in the middle of a receipt).
    pub status_after_bytes: Option<(usize, PrinterStatus)>,
    /// Answer status queries with this byte instead (a confused printer).
    pub garbled_answer: Option<u8>,
    /// Do not answer status queries at all.
    pub silent: bool,
    /// Data bytes (everything but status queries), across connections.
    pub received: Vec<u8>,
    /// The `n` of every `DLE EOT n`, in order.
    pub queries: Vec<u8>,
    pub connections: usize,
}

pub struct FakePrinter {
    pub addr: SocketAddr,
    state: Arc<Mutex<FakePrinterState>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FakePrinter {
    pub fn start() -> FakePrinter {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(FakePrinterState::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = thread::spawn({
            let state = Arc::clone(&state);
            let stop = Arc::clone(&stop);
            move || serve(listener, state, stop)
        });
        FakePrinter {
            addr,
            state,
            stop,
            thread: Some(thread),
        }
    }

    pub fn state(&self) -> MutexGuard<'_, FakePrinterState> {
        self.state.lock().unwrap()
    }

    /// Wait until `count` data bytes have arrived (the client may return
    /// before the fake has read everything).
    pub fn wait_for_bytes(&self, count: usize) -> Vec<u8> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let received = self.state().received.clone();
            if received.len() >= count || Instant::now() > deadline {
                return received;
            }
            thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for FakePrinter {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(listener: TcpListener, state: Arc<Mutex<FakePrinterState>>, stop: Arc<AtomicBool>) {
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                state.lock().unwrap().connections += 1;
                // One client at a time, like a real port-9100 printer.
                handle(stream, &state, &stop);
            }
            Err(err) if err.kind() == ErrorKind::WouldBlock => {
                thread::sleep(Duration::from_millis(5))
            }
            Err(_) => return,
        }
    }
}

fn handle(mut stream: TcpStream, state: &Mutex<FakePrinterState>, stop: &AtomicBool) {
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    let mut pending: Vec<u8> = Vec::new();
    let mut buf = [0u8; 4096];
    while !stop.load(Ordering::SeqCst) {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => pending.extend_from_slice(&buf[..n]),
            Err(err) if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                continue
            }
            Err(_) => break,
        }
        let answers = feed(&mut pending, &mut state.lock().unwrap());
        if !answers.is_empty() {
            let _ = stream.write_all(&answers);
        }
    }
}

/// Consume `pending`: data bytes go to `state.received`, `DLE EOT n`
/// queries are answered (the answers are returned). A trailing `10` or
/// `10 04` may be a query still in flight and stays in `pending`.
pub fn feed(pending: &mut Vec<u8>, state: &mut FakePrinterState) -> Vec<u8> {
    let mut answers = Vec::new();
    let mut i = 0;
    while i < pending.len() {
        if pending[i] == 0x10 {
            match (pending.get(i + 1), pending.get(i + 2)) {
                (Some(0x04), Some(&n)) => {
                    state.queries.push(n);
                    if !state.silent {
                        answers.push(
                            state
                                .garbled_answer
                                .unwrap_or_else(|| answer_for(state.status, n)),
                        );
                    }
                    i += 3;
                    continue;
                }
                (None, _) | (Some(0x04), None) => break,
                _ => {}
            }
        }
        state.received.push(pending[i]);
        if let Some((after, status)) = state.status_after_bytes {
            if state.received.len() >= after {
                state.status = status;
                state.status_after_bytes = None;
            }
        }
        i += 1;
    }
    pending.drain(..i);
    answers
}

impl FakePrinterState {
    pub fn new() -> FakePrinterState {
        FakePrinterState {
            status: PrinterStatus::Ready,
            status_after_bytes: None,
            garbled_answer: None,
            silent: false,
            received: Vec::new(),
            queries: Vec::new(),
            connections: 0,
        }
    }
}

//! A card emulator for the vsmartcard virtual reader (vpcd) in pcscd.
//!
//! vpcd listens on 127.0.0.1:35963 (first slot); an emulator connects to
//! "insert" a card and disconnects to "remove" it. Every message, both
//! ways, is a 2-byte big-endian length and the bytes. From vpcd, a 1-byte
//! message is a control: 00 power off, 01 power on, 02 reset, 04 "send the
//! ATR" (answered with the ATR); anything longer is a command APDU,
//! answered with the response APDU. Power on/off/reset get no answer.

use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::sam::VirtualSam;

pub const VPCD_PORT: u16 = 35963;
/// The name pcscd gives the first vpcd slot.
pub const READER_NAME: &str = "Virtual PCD 00 00";

/// An ISO 14443-B card seen through a contactless reader (PC/SC part 3
/// ATR for a type-B card).
pub const ATR: [u8; 12] = [
    0x3B, 0x88, 0x80, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09,
];

pub enum Behaviour {
    /// A reader with a SAM behind PC/SC (FF 96 wrapping) and a card on it.
    SamReader(VirtualSam),
    /// A plain contactless reader with a resident ID card on it.
    Plain { card_serial: Vec<u8>, uid: Vec<u8> },
}

pub struct CardState {
    pub behaviour: Behaviour,
    /// Every APDU vpcd sent.
    pub apdus: Vec<Vec<u8>>,
    pub controls: Vec<u8>,
    /// Pieces of a chained answer not yet fetched.
    pending: VecDeque<u8>,
}

pub struct VirtualCard {
    state: Arc<Mutex<CardState>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl VirtualCard {
    /// Insert a card: connect to vpcd. Fails loudly if pcscd/vpcd is not
    /// listening (the README's test command starts it).
    pub fn insert(behaviour: Behaviour) -> VirtualCard {
        let stream = TcpStream::connect(("127.0.0.1", VPCD_PORT)).unwrap_or_else(|err| {
            panic!(
                "cannot reach the vpcd virtual reader on 127.0.0.1:{VPCD_PORT} ({err}); \
                 pcscd with vsmartcard-vpcd must be running: run scripts/start-services.sh"
            )
        });
        stream
            .set_read_timeout(Some(Duration::from_millis(20)))
            .unwrap();
        stream.set_nodelay(true).unwrap();
        let state = Arc::new(Mutex::new(CardState {
            behaviour,
            apdus: Vec::new(),
            controls: Vec::new(),
            pending: VecDeque::new(),
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = thread::spawn({
            let state = Arc::clone(&state);
            let stop = Arc::clone(&stop);
            move || serve(stream, &state, &stop)
        });
        VirtualCard {
            state,
            stop,
            thread: Some(thread),
        }
    }

    pub fn state(&self) -> MutexGuard<'_, CardState> {
        self.state.lock().unwrap()
    }

    pub fn sam(&self) -> MutexGuard<'_, CardState> {
        self.state()
    }

    /// Take the card away (close the connection).
    pub fn remove(mut self) {
        self.stop_now();
    }

    /// Whether the emulator has hung up by itself (card pulled).
    pub fn is_gone(&self) -> bool {
        self.thread
            .as_ref()
            .is_none_or(|thread| thread.is_finished())
    }

    fn stop_now(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for VirtualCard {
    fn drop(&mut self) {
        self.stop_now();
    }
}

impl CardState {
    /// The SAM of a SAM reader (panics for a plain one: test bug).
    pub fn behaviour_sam(&mut self) -> &mut VirtualSam {
        match &mut self.behaviour {
            Behaviour::SamReader(sam) => sam,
            Behaviour::Plain { .. } => panic!("not a SAM reader"),
        }
    }
}

/// What to do with one message from vpcd.
enum Reply {
    Send(Vec<u8>),
    Nothing,
    /// Never answer (the card hangs) until told to stop.
    Hang,
    /// The card leaves the field now.
    HangUp,
}

fn serve(mut stream: TcpStream, state: &Mutex<CardState>, stop: &AtomicBool) {
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 4096];
    let mut hanging = false;
    while !stop.load(Ordering::SeqCst) {
        match stream.read(&mut chunk) {
            Ok(0) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(err) if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                continue
            }
            Err(_) => return,
        }
        while buf.len() >= 2 {
            let len = usize::from(u16::from_be_bytes([buf[0], buf[1]]));
            if buf.len() < 2 + len {
                break;
            }
            let message: Vec<u8> = buf[2..2 + len].to_vec();
            buf.drain(..2 + len);
            if hanging {
                continue;
            }
            match handle(&message, &mut state.lock().unwrap()) {
                Reply::Send(bytes) => {
                    let mut framed = (bytes.len() as u16).to_be_bytes().to_vec();
                    framed.extend_from_slice(&bytes);
                    if stream.write_all(&framed).is_err() {
                        return;
                    }
                }
                Reply::Nothing => {}
                Reply::Hang => hanging = true,
                Reply::HangUp => {
                    let _ = stream.shutdown(Shutdown::Both);
                    return;
                }
            }
        }
    }
}

fn handle(message: &[u8], state: &mut CardState) -> Reply {
    if let [control] = message {
        state.controls.push(*control);
        return match control {
            0x04 => Reply::Send(ATR.to_vec()),
            _ => Reply::Nothing,
        };
    }
    state.apdus.push(message.to_vec());
    let (cla, ins) = (message.first().copied(), message.get(1).copied());
    match (&mut state.behaviour, cla, ins) {
        // GET RESPONSE: the next piece of a chained answer.
        (_, Some(0xFF), Some(0xC0)) => Reply::Send(next_piece(&mut state.pending)),
        (Behaviour::SamReader(sam), Some(0xFF), Some(0x96)) => {
            let Some(&lc) = message.get(4) else {
                return Reply::Send(vec![0x67, 0x00]);
            };
            let Some(frame) = message.get(5..5 + usize::from(lc)) else {
                return Reply::Send(vec![0x67, 0x00]);
            };
            let had_card = sam.card.is_some();
            match sam.answer(frame) {
                None => Reply::Hang,
                // The card was pulled while the SAM was reading it.
                Some(_) if had_card && sam.card.is_none() => Reply::HangUp,
                Some(response) => {
                    state.pending = response.into();
                    Reply::Send(next_piece(&mut state.pending))
                }
            }
        }
        (Behaviour::SamReader(_), _, _) => Reply::Send(vec![0x6D, 0x00]),
        (Behaviour::Plain { card_serial, .. }, Some(0x00), Some(0x36)) => {
            let mut answer = card_serial.clone();
            answer.extend_from_slice(&[0x90, 0x00]);
            Reply::Send(answer)
        }
        (Behaviour::Plain { uid, .. }, Some(0xFF), Some(0xCA)) => {
            let mut answer = uid.clone();
            answer.extend_from_slice(&[0x90, 0x00]);
            Reply::Send(answer)
        }
        // A plain reader does not know the SAM wrapping.
        (Behaviour::Plain { .. }, _, _) => Reply::Send(vec![0x6D, 0x00]),
    }
}

/// Up to 256 bytes with `61 xx` when more is left, else `90 00`.
fn next_piece(pending: &mut VecDeque<u8>) -> Vec<u8> {
    let take = pending.len().min(256);
    let mut piece: Vec<u8> = pending.drain(..take).collect();
    if pending.is_empty() {
        piece.extend_from_slice(&[0x90, 0x00]);
    } else {
        let announced = pending.len().min(256) as u8; // 256 is sent as 00
        piece.extend_from_slice(&[0x61, announced]);
    }
    piece
}

/// Serialises the tests that use the one vpcd slot.
pub fn slot() -> MutexGuard<'static, ()> {
    static SLOT: Mutex<()> = Mutex::new(());
    SLOT.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Wait until `check` holds (pcscd notices cards by polling every ~200 ms).
pub fn wait_until(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        thread::sleep(Duration::from_millis(20));
    }
}

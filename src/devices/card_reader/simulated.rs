//! The demo-mode card reader: cards from files, every fault on demand.
//!
//! Cards live in a directory, taken in name order:
//! - `*.json`: a card's text as [`CardText`] JSON (`name`, `sex`, `nation`
//!   as the GB 3304 code, `birth_date`, `address`, `id_number`, `authority`,
//!   `valid_from`, `valid_to` as a date or `"long_term"`);
//! - `*.bin`: bytes as a reader gives them, either a whole GA 467 read
//!   response frame (text and WLT photo) or a bare 256-byte text block.
//!
//! Either way the bytes go through the same decoder as a real card's, so a
//! demo card that would not pass on a real reader does not pass here. With
//! no card files a built-in sample card is used.
//!
//! A card is "on the reader" while `<dir>/present` exists (its content may
//! name a card file; empty means the next card in turn): staff create it to
//! tap a card and delete it to lift the card. Code does the same through
//! [`SimulatedReaderControl`]. With `auto_present` the next card appears by
//! itself some time after the last one left, and a read card is lifted by
//! itself after the same time.
//!
//! Faults: a word in `<dir>/fault`, or [`SimulatedReaderControl::inject`]:
//! `unplugged` and `service_unavailable` last while the file says so; the
//! others happen once (the file is removed): `timeout`, `pulled`,
//! `checksum`, `sam:XX` (any SW3 byte in hex, e.g. `sam:41`), `foreigner`,
//! `residence_permit`.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::NaiveDate;

use super::{CardEvent, CardReader, ReaderError, ReaderStatus, SamInfo};
use kiosk_core::card::{decode_card_input, CardRead, CardText, FrameError, Sw3Status};

/// The built-in demo card (matches `assets/demo/record-valid.json`).
const SAMPLE_CARD: &str = r#"{
    "name": "林国华", "sex": "male", "nation": "01", "birth_date": "1955-03-15",
    "address": "福建省安溪县凤城镇东岳社区城东路12号",
    "id_number": "350524195503150010", "authority": "安溪县公安局",
    "valid_from": "2015-06-01", "valid_to": "long_term"
}"#;

/// Where the card-type flag sits in the text block (see `core::card`).
const CARD_TYPE_FLAG_AT: usize = 248;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimFault {
    Unplugged,
    ServiceUnavailable,
    Timeout,
    Pulled,
    Checksum,
    Sam(u8),
    Foreigner,
    ResidencePermit,
}

impl SimFault {
    pub fn parse(word: &str) -> Option<SimFault> {
        let word = word.trim();
        if let Some(code) = word.strip_prefix("sam:") {
            return u8::from_str_radix(code.trim(), 16).ok().map(SimFault::Sam);
        }
        Some(match word {
            "unplugged" => SimFault::Unplugged,
            "service_unavailable" => SimFault::ServiceUnavailable,
            "timeout" => SimFault::Timeout,
            "pulled" => SimFault::Pulled,
            "checksum" => SimFault::Checksum,
            "foreigner" => SimFault::Foreigner,
            "residence_permit" => SimFault::ResidencePermit,
            _ => return None,
        })
    }

    fn is_sticky(&self) -> bool {
        matches!(self, SimFault::Unplugged | SimFault::ServiceUnavailable)
    }
}

#[derive(Debug, Default)]
struct SimState {
    /// Set by code: a card is on the reader (with an optional file name).
    presented: Option<Option<String>>,
    injected: Vec<SimFault>,
    sticky: Option<SimFault>,
}

/// Drive the simulated reader from code (demo staff screen, tests).
#[derive(Debug, Clone)]
pub struct SimulatedReaderControl {
    state: Arc<Mutex<SimState>>,
}

impl SimulatedReaderControl {
    fn state(&self) -> MutexGuard<'_, SimState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Put a card on the reader: the named file, or the next in turn.
    pub fn present(&self, card_file: Option<&str>) {
        self.state().presented = Some(card_file.map(str::to_string));
    }

    /// Lift the card.
    pub fn remove(&self) {
        self.state().presented = None;
    }

    /// Make the next poll fail this way (sticky faults stay until cleared).
    pub fn inject(&self, fault: SimFault) {
        let mut state = self.state();
        if fault.is_sticky() {
            state.sticky = Some(fault);
        } else {
            state.injected.push(fault);
        }
    }

    pub fn clear_faults(&self) {
        let mut state = self.state();
        state.sticky = None;
        state.injected.clear();
    }
}

pub struct SimulatedReader {
    dir: PathBuf,
    auto_present: Option<Duration>,
    control: SimulatedReaderControl,
    /// Index of the next card in turn.
    next_card: usize,
    /// A card has been read (or refused) and not lifted yet.
    awaiting_removal: bool,
    /// When the last card left (or was read), for `auto_present`.
    last_change: Instant,
}

impl SimulatedReader {
    pub fn new(dir: impl Into<PathBuf>, auto_present: Option<Duration>) -> SimulatedReader {
        SimulatedReader {
            dir: dir.into(),
            auto_present,
            control: SimulatedReaderControl {
                state: Arc::new(Mutex::new(SimState::default())),
            },
            next_card: 0,
            awaiting_removal: false,
            last_change: Instant::now(),
        }
    }

    pub fn control(&self) -> SimulatedReaderControl {
        self.control.clone()
    }

    fn card_files(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = fs::read_dir(&self.dir)
            .map(|entries| {
                entries
                    .filter_map(|entry| entry.ok().map(|e| e.path()))
                    .filter(|path| {
                        path.extension()
                            .is_some_and(|ext| ext == "json" || ext == "bin")
                    })
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files
    }

    /// Is a card on the reader, and which file does it name?
    fn presented(&mut self) -> Option<Option<String>> {
        if let Some(presented) = self.control.state().presented.clone() {
            return Some(presented);
        }
        let marker = self.dir.join("present");
        if let Ok(text) = fs::read_to_string(&marker) {
            let name = text.trim();
            return Some((!name.is_empty()).then(|| name.to_string()));
        }
        if let Some(delay) = self.auto_present {
            if self.last_change.elapsed() >= delay {
                if self.awaiting_removal {
                    // The person lifts the card after a while.
                    self.awaiting_removal = false;
                    self.last_change = Instant::now();
                    return None;
                }
                return Some(None);
            }
            if self.awaiting_removal {
                return Some(None);
            }
        }
        None
    }

    fn take_fault(&self) -> Option<SimFault> {
        let mut state = self.control.state();
        if let Some(sticky) = state.sticky.clone() {
            return Some(sticky);
        }
        if !state.injected.is_empty() {
            return Some(state.injected.remove(0));
        }
        drop(state);
        let path = self.dir.join("fault");
        let fault = SimFault::parse(&fs::read_to_string(&path).ok()?)?;
        if !fault.is_sticky() {
            let _ = fs::remove_file(&path);
        }
        Some(fault)
    }

    /// The raw bytes of the card named (or next in turn), as a reader gives.
    fn card_bytes(&mut self, name: Option<&str>) -> Result<Vec<u8>, ReaderError> {
        let files = self.card_files();
        let path = match name {
            Some(name) => Some(self.dir.join(name)),
            None if files.is_empty() => None,
            None => {
                let path = files.get(self.next_card % files.len()).cloned();
                self.next_card = (self.next_card + 1) % files.len();
                path
            }
        };
        match path {
            Some(path) => load_card_bytes(&path),
            None => text_card_bytes(SAMPLE_CARD),
        }
    }
}

/// Read a card file into the bytes a reader would give.
pub fn load_card_bytes(path: &Path) -> Result<Vec<u8>, ReaderError> {
    let bytes =
        fs::read(path).map_err(|err| ReaderError::Io(format!("{}: {err}", path.display())))?;
    if path.extension().is_some_and(|ext| ext == "json") {
        let text = String::from_utf8(bytes).map_err(|err| ReaderError::Io(err.to_string()))?;
        text_card_bytes(&text)
    } else {
        Ok(bytes)
    }
}

fn text_card_bytes(json: &str) -> Result<Vec<u8>, ReaderError> {
    let text: CardText =
        serde_json::from_str(json).map_err(|err| ReaderError::Io(format!("card file: {err}")))?;
    let block = text.encode().map_err(ReaderError::Card)?;
    Ok(block.to_vec())
}

/// The same card as a foreigner's card or residence permit (flag byte).
fn with_card_type(bytes: &[u8], flag: u8) -> Vec<u8> {
    let mut block = match decode_block(bytes) {
        Some(block) => block,
        None => return bytes.to_vec(),
    };
    if let Some(slot) = block.get_mut(CARD_TYPE_FLAG_AT) {
        *slot = flag;
    }
    block
}

/// The 256-byte text block inside a card file's bytes.
fn decode_block(bytes: &[u8]) -> Option<Vec<u8>> {
    if bytes.len() == kiosk_core::card::TEXT_BLOCK_LEN {
        return Some(bytes.to_vec());
    }
    let response = kiosk_core::card::Response::decode(bytes).ok()?;
    let raw = kiosk_core::card::split_read_payload(response.data()).ok()?;
    Some(raw.text.to_vec())
}

impl CardReader for SimulatedReader {
    fn poll(&mut self, today: NaiveDate) -> Result<CardEvent, ReaderError> {
        let fault = self.take_fault();
        match fault {
            Some(SimFault::Unplugged) => return Err(ReaderError::Unplugged("simulated".into())),
            Some(SimFault::ServiceUnavailable) => {
                return Err(ReaderError::ServiceUnavailable("simulated".into()))
            }
            Some(SimFault::Timeout) => return Err(ReaderError::Timeout(Duration::from_secs(3))),
            _ => {}
        }
        let Some(name) = self.presented() else {
            if self.awaiting_removal {
                self.last_change = Instant::now();
            }
            self.awaiting_removal = false;
            return Ok(CardEvent::NoCard);
        };
        if self.awaiting_removal {
            return Ok(CardEvent::StillPresent);
        }
        let bytes = self.card_bytes(name.as_deref())?;
        let outcome = match fault {
            Some(SimFault::Pulled) => Err(ReaderError::CardPulled),
            Some(SimFault::Checksum) => Err(ReaderError::Frame(FrameError::Checksum {
                found: 0x00,
                computed: 0xFF,
            })),
            Some(SimFault::Sam(code)) => Err(ReaderError::Sam(Sw3Status::from_byte(code))),
            Some(SimFault::Foreigner) => decode(&with_card_type(&bytes, b'I'), today),
            Some(SimFault::ResidencePermit) => decode(&with_card_type(&bytes, b'J'), today),
            _ => decode(&bytes, today),
        };
        // As on a real reader: a read card, or one refused for its data,
        // must be lifted first.
        if matches!(outcome, Ok(_) | Err(ReaderError::Card(_))) {
            self.awaiting_removal = true;
            self.last_change = Instant::now();
        }
        outcome.map(|card| CardEvent::Read(Box::new(card)))
    }

    fn status(&mut self) -> ReaderStatus {
        match self.control.state().sticky {
            Some(SimFault::Unplugged) => return ReaderStatus::Unplugged,
            Some(SimFault::ServiceUnavailable) => return ReaderStatus::ServiceUnavailable,
            _ => {}
        }
        match (self.presented().is_some(), self.awaiting_removal) {
            (true, true) => ReaderStatus::AwaitingRemoval,
            (true, false) => ReaderStatus::CardPresent,
            (false, _) => ReaderStatus::Ready,
        }
    }

    fn sam_info(&mut self) -> Result<SamInfo, ReaderError> {
        Ok(SamInfo {
            sam_id: "SIMULATED-SAM".into(),
            status: Sw3Status::Success.meaning_zh().into(),
            healthy: true,
        })
    }

    fn describe(&self) -> String {
        format!("simulated reader ({})", self.dir.display())
    }

    fn describe_zh(&self) -> String {
        format!("模拟读卡器（读取 {}）", self.dir.display())
    }
}

fn decode(bytes: &[u8], today: NaiveDate) -> Result<CardRead, ReaderError> {
    decode_card_input(bytes, today).map_err(|err| match err {
        kiosk_core::card::CardError::Status(status) => ReaderError::Sam(status),
        kiosk_core::card::CardError::Frame(frame) => ReaderError::Frame(frame),
        other => ReaderError::Card(other),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()
    }

    fn outcome(reader: &mut SimulatedReader) -> String {
        match reader.poll(today()) {
            Ok(CardEvent::Read(card)) => format!("read {}", card.text.name),
            Ok(event) => format!("{event:?}"),
            Err(err) => err.code().to_string(),
        }
    }

    #[test]
    fn the_builtin_card_is_read_once_per_tap() {
        let dir = tempfile::tempdir().unwrap();
        let mut reader = SimulatedReader::new(dir.path(), None);
        assert_eq!(outcome(&mut reader), "NoCard");
        fs::write(dir.path().join("present"), "").unwrap();
        assert_eq!(outcome(&mut reader), "read 林国华");
        assert_eq!(outcome(&mut reader), "StillPresent");
        assert_eq!(reader.status(), ReaderStatus::AwaitingRemoval);
        fs::remove_file(dir.path().join("present")).unwrap();
        assert_eq!(outcome(&mut reader), "NoCard");
        assert_eq!(reader.status(), ReaderStatus::Ready);
    }

    #[test]
    fn card_files_in_name_order_and_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let second = SAMPLE_CARD
            .replace("林国华", "王秀英")
            .replace("\"male\"", "\"female\"")
            .replace("350524195503150010", "350524196002020028")
            .replace("1955-03-15", "1960-02-02");
        fs::write(dir.path().join("b.json"), second).unwrap();
        fs::write(dir.path().join("a.json"), SAMPLE_CARD).unwrap();
        let mut reader = SimulatedReader::new(dir.path(), None);
        let control = reader.control();
        let mut names = Vec::new();
        for _ in 0..3 {
            control.present(None);
            names.push(outcome(&mut reader));
            control.remove();
            assert_eq!(outcome(&mut reader), "NoCard");
        }
        assert_eq!(names, vec!["read 林国华", "read 王秀英", "read 林国华"]);
        control.present(Some("b.json"));
        assert_eq!(outcome(&mut reader), "read 王秀英");
    }

    #[test]
    fn every_fault_on_demand() {
        let dir = tempfile::tempdir().unwrap();
        let mut reader = SimulatedReader::new(dir.path(), None);
        let control = reader.control();
        control.present(None);
        let mut seen = Vec::new();
        for word in [
            "timeout",
            "pulled",
            "checksum",
            "sam:41",
            "sam:31",
            "foreigner",
            "residence_permit",
        ] {
            fs::write(dir.path().join("fault"), word).unwrap();
            seen.push(format!("{word} => {}", outcome(&mut reader)));
            // Refused cards must be lifted before the next try.
            control.remove();
            outcome(&mut reader);
            control.present(None);
        }
        expect_test::expect![[r#"
            timeout => reader_timeout
            pulled => card_removed
            checksum => frame_checksum
            sam:41 => sam_read_failed
            sam:31 => sam_card_auth_failed
            foreigner => foreigner_card
            residence_permit => residence_permit_card
        "#]]
        .assert_eq(&(seen.join("\n") + "\n"));
        assert!(!dir.path().join("fault").exists());

        fs::write(dir.path().join("fault"), "unplugged").unwrap();
        assert_eq!(outcome(&mut reader), "reader_unplugged");
        assert_eq!(outcome(&mut reader), "reader_unplugged");
        fs::remove_file(dir.path().join("fault")).unwrap();
        control.inject(SimFault::ServiceUnavailable);
        assert_eq!(reader.status(), ReaderStatus::ServiceUnavailable);
        control.clear_faults();
        assert_eq!(outcome(&mut reader), "read 林国华");
    }

    #[test]
    fn auto_present_taps_and_lifts_by_itself() {
        let dir = tempfile::tempdir().unwrap();
        let mut reader = SimulatedReader::new(dir.path(), Some(Duration::from_millis(30)));
        assert_eq!(outcome(&mut reader), "NoCard");
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(outcome(&mut reader), "read 林国华");
        assert_eq!(outcome(&mut reader), "StillPresent");
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(outcome(&mut reader), "NoCard");
        assert_eq!(outcome(&mut reader), "NoCard");
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(outcome(&mut reader), "read 林国华");
    }

    #[test]
    fn fault_words() {
        assert_eq!(SimFault::parse("sam:9F"), Some(SimFault::Sam(0x9F)));
        assert_eq!(SimFault::parse(" pulled\n"), Some(SimFault::Pulled));
        assert_eq!(SimFault::parse("sam:zz"), None);
        assert_eq!(SimFault::parse("explode"), None);
    }
}

//! A card reader behind pcscd (crate `pcsc`, pcsc-lite).
//!
//! - Card presence comes from status changes (`SCardGetStatusChange`).
//! - Readers with a SAM behind PC/SC read identities: GA 467 frames go
//!   through [`super::pcsc_wrapping`].
//! - Plain contactless readers (no SAM) can only tell the chip serial: the
//!   card management number `00 36 00 00 08`, or the contactless UID
//!   `FF CA 00 00 00`. They cannot read identities.
//!
//! All PC/SC calls run in a [`Guarded`] worker: a transmit to a card that
//! never answers becomes a timeout, not a hung kiosk.
//!
//! pcscd polls its readers about every 200 ms, so a card that just left is
//! reported present a little longer; connecting to it then fails with "no
//! card"/"removed", which is read as "no card", not as an error.

use std::ffi::CString;
use std::time::Duration;

use ::pcsc::{Context, Error as PcscError, Protocols, ReaderState, Scope, ShareMode, State};
use chrono::NaiveDate;

use super::pcsc_wrapping::{self, ApduWrapping, WrapError};
use super::{
    CardEvent, CardReader, ChipSerial, FrameLink, Ga467Session, ReaderError, ReaderStatus, SamInfo,
};
use crate::devices::config::{ApduWrappingKind, PcscMode};
use crate::devices::deadline::{Guarded, Overrun};
use kiosk_core::card::Request;

/// `00 36 00 00 08`: the resident ID card's management number.
pub const READ_CARD_SERIAL: [u8; 5] = [0x00, 0x36, 0x00, 0x00, 0x08];
/// `FF CA 00 00 00`: PC/SC part 3 GET DATA, the contactless UID.
pub const GET_UID: [u8; 5] = [0xFF, 0xCA, 0x00, 0x00, 0x00];

/// How long one poll waits for a status change when nothing happens.
const PRESENCE_WAIT: Duration = Duration::from_millis(200);
/// After a failed exchange, how long to wait for pcscd to report the card
/// gone (it polls every ~200 ms) before calling it a pulled card.
const PULLED_CHECK_WAIT: Duration = Duration::from_millis(600);

pub struct PcscReader {
    filter: Option<String>,
    mode: PcscMode,
    timeout: Duration,
    worker: Guarded<Connection>,
    awaiting_removal: bool,
}

/// What the worker keeps between calls.
#[derive(Default)]
struct Connection {
    context: Option<Context>,
    /// The reader we watch and the state pcscd last reported for it.
    watched: Option<(CString, State)>,
}

impl PcscReader {
    pub fn new(filter: Option<String>, mode: PcscMode, timeout: Duration) -> PcscReader {
        PcscReader {
            filter,
            mode,
            timeout,
            worker: Guarded::new("pcsc", Connection::default),
            awaiting_removal: false,
        }
    }

    fn run<R: Send + 'static>(
        &mut self,
        call: impl FnOnce(&mut Connection) -> Result<R, ReaderError> + Send + 'static,
    ) -> Result<R, ReaderError> {
        // Presence waits are part of a call; leave room for them.
        match self
            .worker
            .call(self.timeout + PRESENCE_WAIT + PULLED_CHECK_WAIT, call)
        {
            Ok(result) => result,
            Err(Overrun::TimedOut) => Err(ReaderError::Timeout(self.timeout)),
            Err(Overrun::WorkerGone) => Err(ReaderError::Io("PC/SC worker stopped".into())),
        }
    }

    /// Wait for the reader to change (at most `wait`), then report whether a
    /// card is on it. Used by the kiosk between polls and by tests.
    pub fn card_present(&mut self, wait: Duration) -> Result<bool, ReaderError> {
        let filter = self.filter.clone();
        self.run(move |conn| conn.presence(filter.as_deref(), wait))
    }
}

fn map_error(err: PcscError) -> ReaderError {
    match err {
        PcscError::NoService | PcscError::ServiceStopped => {
            ReaderError::ServiceUnavailable(err.to_string())
        }
        PcscError::UnknownReader | PcscError::ReaderUnavailable | PcscError::NoReadersAvailable => {
            ReaderError::Unplugged(err.to_string())
        }
        PcscError::RemovedCard
        | PcscError::ResetCard
        | PcscError::NoSmartcard
        | PcscError::UnpoweredCard
        | PcscError::UnresponsiveCard => ReaderError::CardPulled,
        PcscError::Timeout => ReaderError::Timeout(Duration::ZERO),
        other => ReaderError::Io(other.to_string()),
    }
}

fn wrap_error(err: WrapError) -> ReaderError {
    match err {
        WrapError::NotSupported => {
            ReaderError::NotSupported("reader has no SAM behind PC/SC".into())
        }
        WrapError::Status(sw) => ReaderError::Wrapping(sw),
        WrapError::Short | WrapError::Runaway | WrapError::TooLong(_) => {
            ReaderError::Io(format!("wrapping: {err:?}"))
        }
    }
}

impl Connection {
    fn context(&mut self) -> Result<&Context, ReaderError> {
        let valid = self
            .context
            .as_ref()
            .is_some_and(|context| context.is_valid().is_ok());
        if !valid {
            self.watched = None;
            self.context = Some(Context::establish(Scope::User).map_err(|err| match err {
                PcscError::NoService | PcscError::ServiceStopped | PcscError::CommError => {
                    ReaderError::ServiceUnavailable(err.to_string())
                }
                other => map_error(other),
            })?);
        }
        self.context
            .as_ref()
            .ok_or_else(|| ReaderError::ServiceUnavailable("no context".into()))
    }

    /// The reader's name: the first whose name contains `filter`.
    fn reader(&mut self, filter: Option<&str>) -> Result<CString, ReaderError> {
        let context = self.context()?;
        let readers = match context.list_readers_owned() {
            Ok(readers) => readers,
            Err(PcscError::NoReadersAvailable) => Vec::new(),
            Err(err) => {
                self.context = None;
                return Err(map_error(err));
            }
        };
        let chosen = readers
            .into_iter()
            .find(|name| filter.is_none_or(|fragment| name.to_string_lossy().contains(fragment)));
        match chosen {
            Some(name) => Ok(name),
            None => {
                self.watched = None;
                Err(ReaderError::Unplugged(match filter {
                    Some(fragment) => format!("no PC/SC reader named like {fragment:?}"),
                    None => "no PC/SC reader".into(),
                }))
            }
        }
    }

    fn presence(&mut self, filter: Option<&str>, wait: Duration) -> Result<bool, ReaderError> {
        let name = self.reader(filter)?;
        let known = match &self.watched {
            Some((watched, state)) if *watched == name => *state,
            _ => State::UNAWARE,
        };
        let mut states = [ReaderState::new(name.clone(), known)];
        let context = self.context()?;
        match context.get_status_change(wait, &mut states) {
            Ok(()) => {}
            Err(PcscError::Timeout) => {}
            Err(err) => {
                self.watched = None;
                return Err(map_error(err));
            }
        }
        let [state] = &states;
        let now = if known == State::UNAWARE || state.event_state().contains(State::CHANGED) {
            state.event_state() - State::CHANGED
        } else {
            known
        };
        if now.intersects(State::UNKNOWN | State::UNAVAILABLE) {
            self.watched = None;
            return Err(ReaderError::Unplugged(format!(
                "{} unavailable",
                name.to_string_lossy()
            )));
        }
        self.watched = Some((name, now));
        Ok(now.contains(State::PRESENT) && !now.contains(State::MUTE))
    }

    fn connect(&mut self) -> Result<Option<::pcsc::Card>, ReaderError> {
        let Some((name, _)) = self.watched.clone() else {
            return Ok(None);
        };
        let context = self.context()?;
        match context.connect(&name, ShareMode::Shared, Protocols::ANY) {
            Ok(card) => Ok(Some(card)),
            // The card left (pcscd's view lags by a polling interval).
            Err(
                PcscError::NoSmartcard
                | PcscError::RemovedCard
                | PcscError::UnpoweredCard
                | PcscError::UnresponsiveCard,
            ) => Ok(None),
            Err(err) => Err(map_error(err)),
        }
    }
}

fn transmit(card: &::pcsc::Card, apdu: &[u8]) -> Result<Vec<u8>, ReaderError> {
    let mut buffer = vec![0u8; ::pcsc::MAX_BUFFER_SIZE_EXTENDED];
    card.transmit(apdu, &mut buffer)
        .map(<[u8]>::to_vec)
        .map_err(map_error)
}

/// GA 467 frames through the wrapping, to a connected card.
struct WrappedLink<'a> {
    card: &'a ::pcsc::Card,
    wrapping: &'a dyn ApduWrapping,
}

impl FrameLink for WrappedLink<'_> {
    fn exchange(&mut self, request: Request) -> Result<Vec<u8>, ReaderError> {
        let card = self.card;
        pcsc_wrapping::exchange(self.wrapping, &request.encode(), |apdu| {
            transmit(card, apdu)
        })?
        .map_err(wrap_error)
    }
}

/// The chip serial of the card on a plain reader.
fn chip_serial(card: &::pcsc::Card) -> Result<ChipSerial, ReaderError> {
    let mut last_sw = 0;
    for apdu in [READ_CARD_SERIAL, GET_UID] {
        let answer = transmit(card, &apdu)?;
        match pcsc_wrapping::split_status(&answer) {
            Some((0x9000, data)) if !data.is_empty() => {
                // Upper case, as the card vendors print chip serials.
                return Ok(ChipSerial(trust::hex(data).to_ascii_uppercase()));
            }
            Some((sw, _)) => last_sw = sw,
            None => {}
        }
    }
    Err(ReaderError::Wrapping(last_sw))
}

/// What one poll does once a card is connected.
fn read_card(
    card: &::pcsc::Card,
    mode: PcscMode,
    today: NaiveDate,
) -> Result<CardEvent, ReaderError> {
    let sam = |kind: ApduWrappingKind| -> Result<CardEvent, ReaderError> {
        let wrapping = pcsc_wrapping::wrapping(kind);
        let mut link = WrappedLink {
            card,
            wrapping: wrapping.as_ref(),
        };
        Ga467Session::new().poll(&mut link, today)
    };
    match mode {
        PcscMode::Sam(kind) => sam(kind),
        PcscMode::ChipSerialOnly => Ok(CardEvent::ChipOnly {
            serial: chip_serial(card)?,
        }),
        PcscMode::Auto => match sam(ApduWrappingKind::default()) {
            Err(ReaderError::NotSupported(_)) => Ok(CardEvent::ChipOnly {
                serial: chip_serial(card)?,
            }),
            other => other,
        },
    }
}

impl CardReader for PcscReader {
    fn poll(&mut self, today: NaiveDate) -> Result<CardEvent, ReaderError> {
        let filter = self.filter.clone();
        let mode = self.mode;
        let awaiting = self.awaiting_removal;
        let wait = PRESENCE_WAIT.min(self.timeout);
        let result = self.run(move |conn| {
            if !conn.presence(filter.as_deref(), wait)? {
                return Ok((Ok(CardEvent::NoCard), false));
            }
            if awaiting {
                return Ok((Ok(CardEvent::StillPresent), true));
            }
            let Some(card) = conn.connect()? else {
                return Ok((Ok(CardEvent::NoCard), false));
            };
            let mut event = read_card(&card, mode, today);
            let _ = card.disconnect(::pcsc::Disposition::LeaveCard);
            if matches!(event, Err(ReaderError::Io(_) | ReaderError::CardPulled)) {
                // Was it the card leaving? Watch for the status change.
                if let Ok(false) = conn.presence(filter.as_deref(), PULLED_CHECK_WAIT) {
                    event = Err(ReaderError::CardPulled);
                }
            }
            // A read card, or one refused for its data (it would fail the
            // same way again), must leave before the next is accepted.
            let awaiting_now = match &event {
                Ok(CardEvent::NoCard) => false,
                Ok(_) | Err(ReaderError::Card(_)) => true,
                Err(_) => false,
            };
            Ok((event, awaiting_now))
        });
        let (event, awaiting_now) = result?;
        self.awaiting_removal = awaiting_now;
        event
    }

    fn status(&mut self) -> ReaderStatus {
        let awaiting = self.awaiting_removal;
        match self.card_present(Duration::ZERO) {
            Ok(true) if awaiting => ReaderStatus::AwaitingRemoval,
            Ok(true) => ReaderStatus::CardPresent,
            Ok(false) => ReaderStatus::Ready,
            Err(ReaderError::Unplugged(_)) => ReaderStatus::Unplugged,
            Err(ReaderError::ServiceUnavailable(_)) => ReaderStatus::ServiceUnavailable,
            Err(err) => ReaderStatus::Fault { code: err.code() },
        }
    }

    fn sam_info(&mut self) -> Result<SamInfo, ReaderError> {
        let filter = self.filter.clone();
        let kind = match self.mode {
            PcscMode::Sam(kind) => kind,
            PcscMode::Auto => ApduWrappingKind::default(),
            PcscMode::ChipSerialOnly => {
                return Err(ReaderError::NotSupported(
                    "a plain reader has no SAM".into(),
                ))
            }
        };
        self.run(move |conn| {
            conn.presence(filter.as_deref(), Duration::ZERO)?;
            let Some(card) = conn.connect()? else {
                return Err(ReaderError::NotSupported(
                    "this reader answers SAM questions only while a card is on it".into(),
                ));
            };
            let wrapping = pcsc_wrapping::wrapping(kind);
            let mut link = WrappedLink {
                card: &card,
                wrapping: wrapping.as_ref(),
            };
            let info = Ga467Session::sam_info(&mut link);
            let _ = card.disconnect(::pcsc::Disposition::LeaveCard);
            info
        })
    }

    fn describe(&self) -> String {
        let reader = self.filter.as_deref().unwrap_or("first reader");
        let mode = match self.mode {
            PcscMode::Auto => "auto".to_string(),
            PcscMode::Sam(kind) => format!("SAM via {kind:?}"),
            PcscMode::ChipSerialOnly => "chip serial only".to_string(),
        };
        format!("PC/SC reader ({reader}, {mode})")
    }

    fn describe_zh(&self) -> String {
        let reader = self.filter.as_deref().unwrap_or("第一个读卡器");
        let mode = match self.mode {
            PcscMode::Auto => "自动识别".to_string(),
            PcscMode::Sam(kind) => format!("安全模块 {kind:?}"),
            PcscMode::ChipSerialOnly => "只读芯片序列号".to_string(),
        };
        format!("PC/SC 读卡器（{reader}，{mode}）")
    }
}

/// For the staff screen and tests: every reader pcscd knows.
pub fn list_readers() -> Result<Vec<String>, ReaderError> {
    let context = Context::establish(Scope::User)
        .map_err(|err| ReaderError::ServiceUnavailable(err.to_string()))?;
    match context.list_readers_owned() {
        Ok(names) => Ok(names
            .iter()
            .map(|name| name.to_string_lossy().into_owned())
            .collect()),
        Err(PcscError::NoReadersAvailable) => Ok(Vec::new()),
        Err(err) => Err(map_error(err)),
    }
}

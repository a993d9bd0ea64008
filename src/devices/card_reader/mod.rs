//! The resident ID card reader.
//!
//! The kiosk polls: [`CardReader::poll`] looks once (bounded by the
//! configured timeout) and answers with a [`CardEvent`] or a
//! [`ReaderError`]. A read card must leave the reader before the next card
//! is accepted: until then the reader answers [`CardEvent::StillPresent`].
//!
//! Implementations:
//! - [`ga467_serial::Ga467SerialReader`]: a certified SAM reader on a serial
//!   line, speaking GA 467 frames.
//! - [`pcsc::PcscReader`]: a reader behind pcscd, either with its SAM
//!   reachable through APDUs ([`pcsc_wrapping`]) or a plain contactless
//!   reader that only sees the chip serial.
//! - [`simulated::SimulatedReader`]: cards from files, faults on demand.
//! - [`test::TestReader`]: in-memory, scripted.
//!
//! The GA 467 conversation (find card, select card, read text and photo;
//! retry a garbled frame once; tell a pulled card from a SAM failure) is
//! written once, in [`Ga467Session`], over any [`FrameLink`].

pub mod ga467_serial;
pub mod pcsc;
pub mod pcsc_wrapping;
pub mod simulated;
pub mod test;

use std::fmt;
use std::time::Duration;

use chrono::NaiveDate;
use serde::Serialize;
use thiserror::Error;

use kiosk_core::card::{CardError, CardRead, FrameError, Request, Response, Sw3Status};
use kiosk_core::session::CardFailure;

/// What one look at the reader found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardEvent {
    /// Nothing on the reader.
    NoCard,
    /// A card was read. It must be lifted before another is accepted.
    Read(Box<CardRead>),
    /// The card read last (or refused last) is still on the reader.
    StillPresent,
    /// A plain contactless reader (no SAM) saw a card: it can tell the chip
    /// serial but not the identity, which staff then type in.
    ChipOnly { serial: ChipSerial },
}

/// The chip's serial number as hex (the `00 36 00 00 08` card management
/// number, or the contactless UID).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct ChipSerial(pub String);

impl fmt::Display for ChipSerial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// For the staff screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ReaderStatus {
    /// Connected, no card.
    Ready,
    CardPresent,
    /// A read card is still on the reader.
    AwaitingRemoval,
    Unplugged,
    /// The PC/SC service (pcscd) is not running.
    ServiceUnavailable,
    Fault {
        code: &'static str,
    },
}

/// The SAM's answers to the staff screen's questions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SamInfo {
    /// The SAM management number (`12 FF`), as hex.
    pub sam_id: String,
    /// The answer to the SAM status check (`11 FF`).
    pub status: String,
    pub healthy: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ReaderError {
    /// No reader where the configuration says (unplugged, wrong port).
    #[error("card reader unplugged or not found: {0}")]
    Unplugged(String),
    /// pcscd is not running.
    #[error("PC/SC service unavailable: {0}")]
    ServiceUnavailable(String),
    /// The reader did not answer in time.
    #[error("card reader did not answer within {0:?}")]
    Timeout(Duration),
    /// The card left the reader before the read finished.
    #[error("card was removed during the read")]
    CardPulled,
    /// The reader's answer stayed garbled after a retry.
    #[error("garbled frame from the reader: {0}")]
    Frame(FrameError),
    /// The SAM refused (any SW3 other than success or "no card").
    #[error("SAM reported {0}")]
    Sam(Sw3Status),
    /// The card's data is not a usable resident ID card (foreigner's card,
    /// residence permit, unreadable field …).
    #[error("card data: {0}")]
    Card(CardError),
    /// The PC/SC reader answered the APDU wrapping with an error status.
    #[error("reader refused the wrapped command: SW {0:04X}")]
    Wrapping(u16),
    /// This reader cannot do that (e.g. SAM questions on a plain reader).
    #[error("not supported by this reader: {0}")]
    NotSupported(String),
    /// Any other transport trouble.
    #[error("card reader I/O: {0}")]
    Io(String),
}

impl ReaderError {
    pub fn code(&self) -> &'static str {
        match self {
            ReaderError::Unplugged(_) => "reader_unplugged",
            ReaderError::ServiceUnavailable(_) => "reader_service_unavailable",
            ReaderError::Timeout(_) => "reader_timeout",
            ReaderError::CardPulled => "card_removed",
            ReaderError::Frame(err) => err.code(),
            ReaderError::Sam(status) => sam_code(*status),
            ReaderError::Card(err) => err.code(),
            ReaderError::Wrapping(_) => "reader_wrapping",
            ReaderError::NotSupported(_) => "reader_not_supported",
            ReaderError::Io(_) => "reader_io",
        }
    }

    /// For the person at the kiosk.
    pub fn message_zh(&self) -> String {
        match self {
            ReaderError::Unplugged(_) => "读卡器没有连接，请工作人员检查读卡器连线".into(),
            ReaderError::ServiceUnavailable(_) => "读卡服务没有运行，请联系工作人员".into(),
            ReaderError::Timeout(_) => "读卡器没有响应，请稍后重试或联系工作人员".into(),
            ReaderError::CardPulled => {
                "身份证被拿开了，请重新平放在读卡区域，听到提示前不要移动".into()
            }
            ReaderError::Frame(err) => err.message_zh(),
            ReaderError::Sam(status) => status.user_message_zh().into(),
            ReaderError::Card(err) => err.message_zh(),
            ReaderError::Wrapping(_) | ReaderError::Io(_) => {
                "读卡器通信出错，请联系工作人员".into()
            }
            ReaderError::NotSupported(_) => "这台读卡器不支持此操作".into(),
        }
    }

    /// What the session needs to show and log.
    pub fn to_card_failure(&self) -> CardFailure {
        CardFailure {
            code: self.code().to_string(),
            message_zh: self.message_zh(),
        }
    }

    /// Whether the reader itself is gone (the kiosk offers typed entry).
    pub fn is_reader_missing(&self) -> bool {
        matches!(
            self,
            ReaderError::Unplugged(_) | ReaderError::ServiceUnavailable(_)
        )
    }
}

/// Stable codes for SAM statuses (`sam_` + the GA 467 meaning).
pub fn sam_code(status: Sw3Status) -> &'static str {
    match status {
        Sw3Status::Success | Sw3Status::FindCardSuccess => "sam_success",
        Sw3Status::NoContent => "sam_no_content",
        Sw3Status::ChecksumError => "sam_checksum_error",
        Sw3Status::LengthError => "sam_length_error",
        Sw3Status::CommandError => "sam_command_error",
        Sw3Status::Unauthorized => "sam_unauthorized",
        Sw3Status::UnrecognisedError => "sam_unrecognised_error",
        Sw3Status::CardAuthenticatingSamFailed => "sam_card_auth_failed",
        Sw3Status::SamAuthenticatingCardFailed => "sam_auth_card_failed",
        Sw3Status::InfoVerificationError => "sam_verification_error",
        Sw3Status::UnknownCardType => "sam_unknown_card_type",
        Sw3Status::ReadCardFailed => "sam_read_failed",
        Sw3Status::RandomNumberFailed => "sam_random_failed",
        Sw3Status::SamSelfTestFailed => "sam_self_test_failed",
        Sw3Status::SamNotAuthorised => "sam_not_authorised",
        Sw3Status::FindCardFailed => "sam_find_card_failed",
        Sw3Status::SelectCardFailed => "sam_select_failed",
        Sw3Status::Unknown(_) => "sam_unknown_status",
    }
}

/// What the kiosk calls.
pub trait CardReader: Send {
    /// Look at the reader once. `today` bounds the birth date in the ID
    /// number (the core does no clock reads).
    fn poll(&mut self, today: NaiveDate) -> Result<CardEvent, ReaderError>;

    /// How the reader is, for the staff screen (never blocks longer than
    /// the timeout).
    fn status(&mut self) -> ReaderStatus;

    /// SAM management number and self-check, for the staff screen.
    fn sam_info(&mut self) -> Result<SamInfo, ReaderError>;

    /// What reader this is, for logs (English).
    fn describe(&self) -> String;

    /// What reader this is, for the staff screen (Chinese).
    fn describe_zh(&self) -> String;
}

/// One GA 467 request and its response, over whatever carries the frames.
pub trait FrameLink {
    /// Send `request` and return the response frame's bytes (not yet
    /// decoded, so a garbled frame can be retried by the caller).
    fn exchange(&mut self, request: Request) -> Result<Vec<u8>, ReaderError>;
}

/// The GA 467 conversation with a SAM, written once for every transport.
#[derive(Debug, Default, Clone)]
pub struct Ga467Session {
    /// A card was read (or refused for its data) and has not left yet.
    awaiting_removal: bool,
}

impl Ga467Session {
    pub fn new() -> Ga467Session {
        Ga467Session::default()
    }

    pub fn awaiting_removal(&self) -> bool {
        self.awaiting_removal
    }

    /// One request, decoded; a garbled answer (ours or, by SW3 10/11, the
    /// SAM's view of our request) is retried once.
    pub fn request(link: &mut dyn FrameLink, request: Request) -> Result<Response, ReaderError> {
        let mut last_error = None;
        for _attempt in 0..2 {
            let bytes = link.exchange(request)?;
            match Response::decode(&bytes) {
                Ok(response)
                    if matches!(
                        response.status(),
                        Sw3Status::ChecksumError | Sw3Status::LengthError
                    ) =>
                {
                    last_error = Some(ReaderError::Sam(response.status()));
                }
                Ok(response) => return Ok(response),
                Err(err) => last_error = Some(ReaderError::Frame(err)),
            }
        }
        Err(last_error.unwrap_or(ReaderError::Io("no answer".into())))
    }

    /// Find, select and read the card on the reader, if any.
    pub fn poll(
        &mut self,
        link: &mut dyn FrameLink,
        today: NaiveDate,
    ) -> Result<CardEvent, ReaderError> {
        let found = Self::request(link, Request::FindCard)?;
        match found.status() {
            Sw3Status::FindCardSuccess | Sw3Status::Success => {}
            Sw3Status::FindCardFailed => {
                self.awaiting_removal = false;
                return Ok(CardEvent::NoCard);
            }
            other => return Err(ReaderError::Sam(other)),
        }
        if self.awaiting_removal {
            return Ok(CardEvent::StillPresent);
        }
        let selected = Self::request(link, Request::SelectCard)?;
        if !selected.status().is_success() {
            return Err(Self::failure(link, selected.status()));
        }
        let read = Self::request(link, Request::ReadTextPhoto)?;
        if read.status() != Sw3Status::Success {
            return Err(Self::failure(link, read.status()));
        }
        match CardRead::from_payload(read.data(), today) {
            Ok(card) => {
                self.awaiting_removal = true;
                Ok(CardEvent::Read(Box::new(card)))
            }
            Err(err) => {
                // The same card would give the same answer: wait for it to go.
                self.awaiting_removal = true;
                Err(ReaderError::Card(err))
            }
        }
    }

    /// A select or read failed: if the card is gone now, it was pulled.
    fn failure(link: &mut dyn FrameLink, status: Sw3Status) -> ReaderError {
        match Self::request(link, Request::FindCard) {
            Ok(again) if again.status() == Sw3Status::FindCardFailed => ReaderError::CardPulled,
            _ => ReaderError::Sam(status),
        }
    }

    /// The SAM's management number and self-check.
    pub fn sam_info(link: &mut dyn FrameLink) -> Result<SamInfo, ReaderError> {
        let status = Self::request(link, Request::SamStatus)?;
        let id = Self::request(link, Request::ReadSamId)?;
        if !id.status().is_success() {
            return Err(ReaderError::Sam(id.status()));
        }
        Ok(SamInfo {
            // Upper case, as the reader vendors print SAM ids.
            sam_id: trust::hex(id.data()).to_ascii_uppercase(),
            status: status.status().meaning_zh().to_string(),
            healthy: status.status().is_success(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    /// A link that answers from a script and records the requests.
    struct Scripted {
        answers: VecDeque<Vec<u8>>,
        sent: Vec<Request>,
    }

    impl FrameLink for Scripted {
        fn exchange(&mut self, request: Request) -> Result<Vec<u8>, ReaderError> {
            self.sent.push(request);
            self.answers
                .pop_front()
                .ok_or(ReaderError::Timeout(Duration::from_millis(1)))
        }
    }

    fn answer(status: Sw3Status) -> Vec<u8> {
        Response::new(status, Vec::new()).unwrap().encode()
    }

    fn run(answers: Vec<Vec<u8>>) -> (String, Vec<Request>) {
        let mut link = Scripted {
            answers: answers.into(),
            sent: Vec::new(),
        };
        let mut session = Ga467Session::new();
        let today = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        let outcome = match session.poll(&mut link, today) {
            Ok(event) => format!("{event:?}"),
            Err(err) => err.code().to_string(),
        };
        (outcome, link.sent)
    }

    #[test]
    fn no_card_is_one_find() {
        let (outcome, sent) = run(vec![answer(Sw3Status::FindCardFailed)]);
        assert_eq!(outcome, "NoCard");
        assert_eq!(sent, vec![Request::FindCard]);
    }

    #[test]
    fn a_failed_read_with_the_card_gone_is_a_pulled_card() {
        let (outcome, sent) = run(vec![
            answer(Sw3Status::FindCardSuccess),
            answer(Sw3Status::Success),
            answer(Sw3Status::ReadCardFailed),
            answer(Sw3Status::FindCardFailed),
        ]);
        assert_eq!(outcome, "card_removed");
        assert_eq!(
            sent,
            vec![
                Request::FindCard,
                Request::SelectCard,
                Request::ReadTextPhoto,
                Request::FindCard
            ]
        );
    }

    #[test]
    fn a_failed_read_with_the_card_still_there_is_the_sam_failure() {
        let (outcome, _) = run(vec![
            answer(Sw3Status::FindCardSuccess),
            answer(Sw3Status::Success),
            answer(Sw3Status::ReadCardFailed),
            answer(Sw3Status::FindCardSuccess),
        ]);
        assert_eq!(outcome, "sam_read_failed");
    }

    #[test]
    fn a_garbled_frame_is_retried_once() {
        let mut bad = answer(Sw3Status::FindCardFailed);
        let last = bad.len() - 1;
        bad[last] ^= 0xFF;
        let (outcome, sent) = run(vec![bad.clone(), answer(Sw3Status::FindCardFailed)]);
        assert_eq!(outcome, "NoCard");
        assert_eq!(sent.len(), 2);
        let (outcome, sent) = run(vec![bad.clone(), bad]);
        assert_eq!(outcome, "frame_checksum");
        assert_eq!(sent.len(), 2);
    }

    #[test]
    fn every_error_has_a_code_and_a_chinese_message() {
        let errors = [
            ReaderError::Unplugged("x".into()),
            ReaderError::ServiceUnavailable("x".into()),
            ReaderError::Timeout(Duration::from_secs(1)),
            ReaderError::CardPulled,
            ReaderError::Sam(Sw3Status::SamNotAuthorised),
            ReaderError::Card(CardError::ForeignerCard),
            ReaderError::Wrapping(0x6A82),
            ReaderError::NotSupported("x".into()),
            ReaderError::Io("x".into()),
        ];
        for err in errors {
            let failure = err.to_card_failure();
            assert!(!failure.code.is_empty());
            assert!(
                failure.message_zh.chars().any(|c| c > '\u{4e00}'),
                "{failure:?}"
            );
        }
    }
}

//! Carrying GA 467 frames in APDUs, for readers whose SAM sits behind a
//! PC/SC (CCID) interface.
//!
//! Such readers show up in pcscd like any smart-card reader, but the
//! resident ID card can only be read by their built-in SAM, which speaks GA
//! 467 frames. Each vendor tunnels those frames through a proprietary APDU.
//! A wrapping is one implementation of [`ApduWrapping`]; a second vendor's
//! scheme is one more implementation plus one more [`ApduWrappingKind`]
//! value for the configuration.
//!
//! ## `ff96`: the wrapping implemented here
//!
//! A pseudo-APDU addressed to the reader itself (class `FF`, as PC/SC part 3
//! reserves for reader commands), instruction `96` (from the frame preamble
//! `… 96 69`):
//!
//! ```text
//! command:   FF 96 00 00 Lc <GA 467 request frame> 00      (Lc = frame length)
//! answer:    <up to 256 bytes of the GA 467 response frame> SW1 SW2
//! ```
//!
//! | SW1 SW2 | meaning |
//! |---------|---------|
//! | `90 00` | this is the (rest of the) response frame |
//! | `61 xx` | more follows: send `FF C0 00 00 xx` (GET RESPONSE; `xx` = 00 means 256) |
//! | `6D 00`, `6E 00` | not a SAM reader (instruction/class unknown) |
//! | `6F 00` | the SAM did not answer |
//! | other | the reader refused |
//!
//! A text-and-photo answer (~1.3 KB) therefore comes in six pieces. The
//! frame inside is checked by the GA 467 codec as on a serial line, so a
//! garbled frame or a SAM failure code means the same on both transports.

use crate::devices::config::ApduWrappingKind;

/// What went wrong with the tunnel itself (not the frame inside).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WrapError {
    /// The reader does not know the wrapping: not a SAM reader.
    NotSupported,
    /// Any other status word.
    Status(u16),
    /// The answer was shorter than a status word.
    Short,
    /// The frame is too long for one short APDU.
    TooLong(usize),
    /// The answer kept asking for more beyond any sane frame size.
    Runaway,
}

/// One vendor's way of tunnelling frames.
pub trait ApduWrapping: Send + Sync {
    fn kind(&self) -> ApduWrappingKind;

    /// The APDU that carries one request frame.
    fn command(&self, frame: &[u8]) -> Result<Vec<u8>, WrapError>;

    /// The APDU that fetches the next piece after `61 xx`.
    fn get_response(&self, announced: u8) -> Vec<u8>;
}

/// The `FF 96` wrapping described in the module documentation.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ff96;

pub const FF96_CLA: u8 = 0xFF;
pub const FF96_INS: u8 = 0x96;
pub const GET_RESPONSE_INS: u8 = 0xC0;

impl ApduWrapping for Ff96 {
    fn kind(&self) -> ApduWrappingKind {
        ApduWrappingKind::Ff96
    }

    fn command(&self, frame: &[u8]) -> Result<Vec<u8>, WrapError> {
        let lc = u8::try_from(frame.len()).map_err(|_| WrapError::TooLong(frame.len()))?;
        if lc == 0 {
            return Err(WrapError::TooLong(0));
        }
        let mut apdu = vec![FF96_CLA, FF96_INS, 0x00, 0x00, lc];
        apdu.extend_from_slice(frame);
        apdu.push(0x00);
        Ok(apdu)
    }

    fn get_response(&self, announced: u8) -> Vec<u8> {
        vec![FF96_CLA, GET_RESPONSE_INS, 0x00, 0x00, announced]
    }
}

/// The wrapping a configuration names.
pub fn wrapping(kind: ApduWrappingKind) -> Box<dyn ApduWrapping> {
    match kind {
        ApduWrappingKind::Ff96 => Box::new(Ff96),
    }
}

/// The largest GA 467 response we accept through a tunnel (a text, photo
/// and fingerprint read is about 2.3 KB).
const MAX_TUNNELLED: usize = 8 * 1024;

/// Send one request frame through `transmit` and reassemble the response
/// frame. `transmit` sends one APDU and returns the answer with its status
/// word; its own errors pass through unchanged.
pub fn exchange<E>(
    wrapping: &dyn ApduWrapping,
    frame: &[u8],
    mut transmit: impl FnMut(&[u8]) -> Result<Vec<u8>, E>,
) -> Result<Result<Vec<u8>, WrapError>, E> {
    let command = match wrapping.command(frame) {
        Ok(command) => command,
        Err(err) => return Ok(Err(err)),
    };
    let mut answer = transmit(&command)?;
    let mut frame_bytes = Vec::new();
    loop {
        let Some((sw, data)) = split_status(&answer) else {
            return Ok(Err(WrapError::Short));
        };
        frame_bytes.extend_from_slice(data);
        if frame_bytes.len() > MAX_TUNNELLED {
            return Ok(Err(WrapError::Runaway));
        }
        match sw {
            0x9000 => return Ok(Ok(frame_bytes)),
            0x6D00 | 0x6E00 => return Ok(Err(WrapError::NotSupported)),
            sw if sw >> 8 == 0x61 => {
                let announced = u8::try_from(sw & 0xFF).unwrap_or(0);
                answer = transmit(&wrapping.get_response(announced))?;
            }
            sw => return Ok(Err(WrapError::Status(sw))),
        }
    }
}

/// `(SW1 SW2, data)` of an answer APDU.
pub fn split_status(answer: &[u8]) -> Option<(u16, &[u8])> {
    let split = answer.len().checked_sub(2)?;
    let (data, sw) = answer.split_at(split);
    let [sw1, sw2] = sw else {
        return None;
    };
    Some((u16::from_be_bytes([*sw1, *sw2]), data))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiosk_core::card::Request;
    use std::collections::VecDeque;

    fn run(answers: Vec<Vec<u8>>) -> (Result<Vec<u8>, WrapError>, Vec<Vec<u8>>) {
        let mut answers: VecDeque<Vec<u8>> = answers.into();
        let mut sent = Vec::new();
        let result = exchange::<()>(&Ff96, &Request::FindCard.encode(), |apdu| {
            sent.push(apdu.to_vec());
            Ok(answers.pop_front().unwrap_or_default())
        })
        .unwrap();
        (result, sent)
    }

    #[test]
    fn command_layout() {
        let apdu = Ff96.command(&Request::FindCard.encode()).unwrap();
        assert_eq!(
            trust::hex(&apdu).to_ascii_uppercase(),
            "FF9600000AAAAAAA96690003200122".to_string() + "00"
        );
    }

    #[test]
    fn chained_answers_are_reassembled() {
        let (result, sent) = run(vec![
            vec![1, 2, 3, 0x61, 0x02],
            vec![4, 5, 0x61, 0x00],
            vec![6, 0x90, 0x00],
        ]);
        assert_eq!(result, Ok(vec![1, 2, 3, 4, 5, 6]));
        assert_eq!(sent[1], vec![0xFF, 0xC0, 0x00, 0x00, 0x02]);
        assert_eq!(sent[2], vec![0xFF, 0xC0, 0x00, 0x00, 0x00]);
    }

    #[test]
    fn status_words() {
        assert_eq!(run(vec![vec![0x6D, 0x00]]).0, Err(WrapError::NotSupported));
        assert_eq!(run(vec![vec![0x6E, 0x00]]).0, Err(WrapError::NotSupported));
        assert_eq!(
            run(vec![vec![0x6F, 0x00]]).0,
            Err(WrapError::Status(0x6F00))
        );
        assert_eq!(run(vec![vec![0x90]]).0, Err(WrapError::Short));
        let endless: Vec<Vec<u8>> = (0..100)
            .map(|_| {
                let mut piece = vec![0u8; 256];
                piece.extend_from_slice(&[0x61, 0x00]);
                piece
            })
            .collect();
        assert_eq!(run(endless).0, Err(WrapError::Runaway));
    }

    proptest::proptest! {
        /// Whatever a reader answers, the exchange ends with a value.
        #[test]
        fn any_answers_end_cleanly(answers in proptest::collection::vec(
            proptest::collection::vec(proptest::num::u8::ANY, 0..300), 0..40)) {
            let _ = run(answers);
        }
    }

    #[test]
    fn oversized_frames_are_refused() {
        assert_eq!(Ff96.command(&[0u8; 300]), Err(WrapError::TooLong(300)));
    }
}

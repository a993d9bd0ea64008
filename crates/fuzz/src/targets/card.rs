//! GA 467: request and response frames, the serial frame reader, the
//! PC/SC tunnel's answers, the read payload and the 256-byte UCS-2 text
//! block, as the card reader hands them to the kiosk.

use chrono::NaiveDate;
use kiosk_core::card::{
    decode_additional_address, decode_card_input, split_read_payload, CardRead, CardText,
    FrameReader, Nation, Request, Response, Sw3Status, Validity, PREAMBLE, TEXT_BLOCK_LEN,
};
use kiosk_core::id_number::{check_digit, IdNumber, Sex};
use veteran_kiosk::devices::card_reader::pcsc_wrapping::{exchange, split_status, Ff96};

use super::today;
use crate::mutate::{havoc, Rng};
use crate::Target;

pub struct Card {
    seeds: Vec<Vec<u8>>,
    dict: Vec<Vec<u8>>,
}

fn id_number(first17: &[u8; 17]) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(first17),
        check_digit(first17)
    )
}

fn sample_text(name: &str, first17: &[u8; 17], valid_to: Validity) -> Option<CardText> {
    Some(CardText {
        name: name.into(),
        sex: Sex::Male,
        nation: Nation::from_code(1)?,
        birth_date: NaiveDate::from_ymd_opt(1950, 3, 7)?,
        address: "福建省安溪县凤城镇河滨路8号".into(),
        id_number: IdNumber::parse(&id_number(first17), today()).ok()?,
        authority: "安溪县公安局".into(),
        valid_from: NaiveDate::from_ymd_opt(2010, 1, 1)?,
        valid_to,
    })
}

impl Card {
    pub(crate) fn new() -> Card {
        let mut seeds = Vec::new();
        let texts = [
            sample_text("王建国", b"35052419500307001", Validity::LongTerm),
            sample_text(
                "阿不都热合曼·买买提",
                b"65010119500307003",
                Validity::Until(NaiveDate::from_ymd_opt(2030, 1, 1).unwrap_or_default()),
            ),
        ];
        for text in texts.into_iter().flatten() {
            if let Ok(block) = text.encode() {
                seeds.push(block.to_vec());
            }
            for fingerprint in [None, Some(vec![0x43; 1024])] {
                let read = CardRead {
                    text: text.clone(),
                    photo_wlt: (0..1024).map(|i| (i * 7) as u8).collect(),
                    fingerprint,
                };
                if let Ok(frame) = read.encode_response() {
                    seeds.push(frame);
                }
                if let Ok(payload) = read.encode_payload() {
                    seeds.push(payload);
                }
            }
        }
        for request in Request::ALL {
            seeds.push(request.encode());
        }
        for status in [
            Sw3Status::FindCardSuccess,
            Sw3Status::NoContent,
            Sw3Status::from_byte(0x41),
        ] {
            if let Ok(r) = Response::new(status, vec![0x00, 0x00, 0x00, 0x00]) {
                seeds.push(r.encode());
            }
        }
        // The additional address: UCS-2LE text, space padded.
        let address: Vec<u8> = "福建省泉州市安溪县城厢镇        "
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        seeds.push(address);
        let dict = vec![
            PREAMBLE.to_vec(),
            vec![0x90],
            vec![0x9F],
            vec![0x91],
            vec![0x30, 0x01],
            vec![0x30, 0x10],
            vec![0x04, 0x00],
            vec![0x01, 0x00],
            vec![0x20, 0x00],
            "长期".encode_utf16().flat_map(u16::to_le_bytes).collect(),
            "20991231"
                .encode_utf16()
                .flat_map(u16::to_le_bytes)
                .collect(),
            vec![0x00, 0xD8],
            vec![0x00, 0xDC],
            vec![0x90, 0x00],
            vec![0x61, 0x10],
        ];
        Card { seeds, dict }
    }
}

/// Put a mutated frame back in shape (length and checksum), so the
/// mutation reaches the payload and the text block behind the checks.
fn reframe(data: &[u8]) -> Vec<u8> {
    let body = data
        .get(PREAMBLE.len() + 2..data.len().saturating_sub(1))
        .unwrap_or_default();
    let len = (body.len() + 1).min(usize::from(u16::MAX)) as u16;
    let mut out = PREAMBLE.to_vec();
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(body);
    let checksum = out[PREAMBLE.len()..].iter().fold(0u8, |a, b| a ^ b);
    out.push(checksum);
    out
}

impl Target for Card {
    fn name(&self) -> &'static str {
        "card"
    }

    fn seeds(&self) -> &[Vec<u8>] {
        &self.seeds
    }

    fn generate(&self, rng: &mut Rng) -> Vec<u8> {
        let base = rng.pick(&self.seeds).cloned().unwrap_or_default();
        let mut out = havoc(rng, &base, &self.seeds, &self.dict, 8 * 1024);
        if out.starts_with(&PREAMBLE) && rng.percent(70) {
            out = reframe(&out);
        }
        out
    }

    fn run(&self, input: &[u8]) {
        let today = today();
        // What `check card` and the simulated reader take.
        match decode_card_input(input, today) {
            Ok(read) => round_trip(&read.text),
            Err(err) => {
                let _ = (err.code(), err.message_zh(), err.to_problem(), err.field());
            }
        }
        if let Ok(request) = Request::decode(input) {
            assert_eq!(Request::decode(&request.encode()), Ok(request));
        }
        if let Ok(response) = Response::decode(input) {
            assert_eq!(Response::decode(&response.encode()).as_ref(), Ok(&response));
            let _ = (
                response.status().meaning_zh(),
                response.status().user_message_zh(),
            );
            let _ = CardRead::from_payload(response.data(), today);
            let _ = decode_additional_address(response.data());
        }
        if let Ok(raw) = split_read_payload(input) {
            let _ = CardText::decode(raw.text, today);
        }
        if let Some(block) = input.get(..TEXT_BLOCK_LEN) {
            if let Ok(text) = CardText::decode(block, today) {
                round_trip(&text);
            }
        }
        let _ = decode_additional_address(input);
        // The serial line: the same bytes arriving in pieces of any size.
        let mut reader = FrameReader::new();
        let step = 1 + usize::from(input.first().copied().unwrap_or(0) % 64);
        for piece in input.chunks(step) {
            reader.push(piece);
            while let Some(frame) = reader.next_frame() {
                let _ = Response::decode(&frame);
            }
            assert!(reader.buffered() <= input.len());
        }
        // PC/SC: the reader's answers, split where the input says.
        let mut answers = input.split(|b| *b == 0xA5);
        let tunnelled = exchange(&Ff96, &Request::FindCard.encode(), |_| {
            answers.next().map(<[u8]>::to_vec).ok_or(())
        });
        if let Ok(Ok(frame)) = tunnelled {
            let _ = Response::decode(&frame);
        }
        let _ = split_status(input);
        let text = String::from_utf8_lossy(input);
        let _ = (Nation::parse_code(&text), Nation::from_name_zh(&text));
        let _ = IdNumber::parse(&text, today);
        let _ = IdNumber::parse_structure(&text);
    }
}

/// A text block the kiosk accepted is written back the same way.
fn round_trip(text: &CardText) {
    if let Ok(block) = text.encode() {
        assert_eq!(CardText::decode(&block, today()).as_ref(), Ok(text));
    }
}

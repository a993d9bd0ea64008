//! A virtual GA 467 SAM with a card slot: answers request frames like a
//! certified reader, and misbehaves on request. Shared by the serial
//! emulator (pty) and the PC/SC card emulator (vpcd).

use std::collections::VecDeque;

use chrono::NaiveDate;
use kiosk_core::card::{CardRead, CardText, Request, Response, Sw3Status};

/// A way to misbehave when a given request comes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this SW3 and no data.
    Status(Sw3Status),
    /// Answer correctly but with a wrong checksum byte.
    Corrupt,
    /// Do not answer at all.
    Silent,
    /// The card leaves the field now: the SAM answers "read failed" and
    /// finds no card afterwards.
    PullCard,
    /// Send this much noise before the (correct) answer.
    NoiseFirst(usize),
}

pub struct VirtualSam {
    /// The response data of a read (text, photo) for the card on the reader.
    pub card: Option<Vec<u8>>,
    pub sam_id: Vec<u8>,
    pub faults: VecDeque<(Request, Fault)>,
    pub log: Vec<Request>,
}

impl VirtualSam {
    pub fn new() -> VirtualSam {
        VirtualSam {
            card: None,
            sam_id: (0x10..0x20).collect(),
            faults: VecDeque::new(),
            log: Vec::new(),
        }
    }

    pub fn put_card(&mut self, payload: Vec<u8>) {
        self.card = Some(payload);
    }

    pub fn remove_card(&mut self) {
        self.card = None;
    }

    /// Misbehave the next time `request` comes.
    pub fn fault(&mut self, request: Request, fault: Fault) {
        self.faults.push_back((request, fault));
    }

    /// The bytes to send back for one request frame (`None`: stay silent).
    pub fn answer(&mut self, frame: &[u8]) -> Option<Vec<u8>> {
        let request = match Request::decode(frame) {
            Ok(request) => request,
            Err(_) => return Some(status(Sw3Status::ChecksumError)),
        };
        self.log.push(request);
        let fault = self
            .faults
            .iter()
            .position(|(r, _)| *r == request)
            .and_then(|at| self.faults.remove(at))
            .map(|(_, fault)| fault);
        let correct = self.correct(request);
        match fault {
            None => Some(correct),
            Some(Fault::Status(sw3)) => Some(status(sw3)),
            Some(Fault::Corrupt) => {
                let mut bytes = correct;
                if let Some(last) = bytes.last_mut() {
                    *last ^= 0x5A;
                }
                Some(bytes)
            }
            Some(Fault::Silent) => None,
            Some(Fault::PullCard) => {
                self.card = None;
                Some(status(Sw3Status::ReadCardFailed))
            }
            Some(Fault::NoiseFirst(count)) => {
                let mut bytes: Vec<u8> = (0..count).map(|i| (i * 37 % 251) as u8 | 0x01).collect();
                bytes.extend_from_slice(&correct);
                Some(bytes)
            }
        }
    }

    fn correct(&self, request: Request) -> Vec<u8> {
        match request {
            Request::ResetSam | Request::SamStatus => status(Sw3Status::Success),
            Request::ReadSamId => Response::new(Sw3Status::Success, self.sam_id.clone())
                .unwrap()
                .encode(),
            Request::FindCard => match self.card {
                Some(_) => status(Sw3Status::FindCardSuccess),
                None => status(Sw3Status::FindCardFailed),
            },
            Request::SelectCard => match self.card {
                Some(_) => status(Sw3Status::Success),
                None => status(Sw3Status::SelectCardFailed),
            },
            Request::ReadTextPhoto | Request::ReadTextPhotoFingerprint => match &self.card {
                Some(payload) => Response::new(Sw3Status::Success, payload.clone())
                    .unwrap()
                    .encode(),
                None => status(Sw3Status::ReadCardFailed),
            },
            Request::ReadAdditionalAddress => status(Sw3Status::NoContent),
        }
    }
}

pub fn status(sw3: Sw3Status) -> Vec<u8> {
    Response::new(sw3, Vec::new()).unwrap().encode()
}

pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()
}

/// A resident ID card as JSON text.
pub const LIN_GUOHUA: &str = r#"{
    "name": "林国华", "sex": "male", "nation": "01", "birth_date": "1955-03-15",
    "address": "福建省安溪县凤城镇东岳社区城东路12号",
    "id_number": "350524195503150010", "authority": "安溪县公安局",
    "valid_from": "2015-06-01", "valid_to": "long_term"
}"#;

pub const WANG_XIUYING: &str = r#"{
    "name": "王秀英", "sex": "female", "nation": "03", "birth_date": "1960-02-02",
    "address": "福建省安溪县蓬莱镇上智村108号",
    "id_number": "350524196002020028", "authority": "安溪县公安局",
    "valid_from": "2019-05-20", "valid_to": "2039-05-20"
}"#;

pub fn card_text(json: &str) -> CardText {
    serde_json::from_str(json).unwrap()
}

/// A WLT-sized photo with a recognisable pattern.
pub fn photo() -> Vec<u8> {
    (0..1024u32).map(|i| (i * 7 % 256) as u8).collect()
}

/// The read-response data of a resident ID card.
pub fn card_payload(json: &str) -> Vec<u8> {
    CardRead {
        text: card_text(json),
        photo_wlt: photo(),
        fingerprint: None,
    }
    .encode_payload()
    .unwrap()
}

/// The same layout with the card-type flag set (b'I' foreigner's permanent
/// residence card, b'J' residence permit).
pub fn flagged_payload(json: &str, flag: u8) -> Vec<u8> {
    let mut block = card_text(json).encode().unwrap().to_vec();
    block[248] = flag;
    let photo = photo();
    let mut payload = Vec::new();
    payload.extend_from_slice(&(block.len() as u16).to_be_bytes());
    payload.extend_from_slice(&(photo.len() as u16).to_be_bytes());
    payload.extend_from_slice(&block);
    payload.extend_from_slice(&photo);
    payload
}

//! The second-generation resident ID card as read through a GA 467 SAM.
//!
//! How a card read travels:
//! 1. the device layer sends [`Request`] frames over serial and collects
//!    the answers with a [`FrameReader`];
//! 2. [`Response::decode`] checks each frame, [`Sw3Status`] says whether
//!    the SAM succeeded;
//! 3. the data of a successful read goes to [`CardRead::from_payload`],
//!    which splits text, photo and fingerprint and parses the 256-byte text
//!    block into a [`CardText`] (typed fields, cross-checked against the ID
//!    number). [`decode_card_input`] does 2–3 for a file on disk.
//!
//! Only resident ID cards are accepted. The chip also carries foreigners'
//! permanent residence cards and Hong Kong/Macao/Taiwan residence permits;
//! their holders have no mainland household register, which every
//! registration needs, so both are refused with a clear message (see
//! [`CardError::ForeignerCard`], [`CardError::ResidencePermitCard`] and
//! [`crate::region`]).

mod frame;
mod nation;
mod text;

use chrono::NaiveDate;
use thiserror::Error;

use crate::id_number::IdNumberError;
use crate::Problem;

pub use frame::PREAMBLE;
pub use frame::{find_frame, FrameError, FrameReader, FrameScan, Request, Response, Sw3Status};
pub use nation::Nation;
pub use text::{decode_additional_address, CardText, Validity, TEXT_BLOCK_LEN};

/// A field of the card's text block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CardField {
    Name,
    Sex,
    Nation,
    BirthDate,
    Address,
    IdNumber,
    Authority,
    ValidFrom,
    ValidTo,
    AdditionalAddress,
}

impl CardField {
    /// Machine name, used as the `field` of a [`Problem`].
    pub fn as_str(self) -> &'static str {
        match self {
            CardField::Name => "name",
            CardField::Sex => "sex",
            CardField::Nation => "nation",
            CardField::BirthDate => "birth_date",
            CardField::Address => "address",
            CardField::IdNumber => "id_number",
            CardField::Authority => "authority",
            CardField::ValidFrom => "valid_from",
            CardField::ValidTo => "valid_to",
            CardField::AdditionalAddress => "additional_address",
        }
    }

    /// Name as on the card.
    pub fn name_zh(self) -> &'static str {
        match self {
            CardField::Name => "姓名",
            CardField::Sex => "性别",
            CardField::Nation => "民族",
            CardField::BirthDate => "出生日期",
            CardField::Address => "住址",
            CardField::IdNumber => "公民身份号码",
            CardField::Authority => "签发机关",
            CardField::ValidFrom => "有效期起始日期",
            CardField::ValidTo => "有效期截止日期",
            CardField::AdditionalAddress => "新住址",
        }
    }
}

/// Everything that can go wrong between the reader's bytes and a
/// [`CardRead`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CardError {
    #[error("bad frame: {0}")]
    Frame(#[from] FrameError),
    #[error("reader reported {0}")]
    Status(Sw3Status),
    #[error("read payload of {found} bytes does not match the lengths in its header")]
    PayloadLength { found: usize },
    #[error("text block is {found} bytes, expected 256")]
    TextLength { found: usize },
    #[error("field {} is not valid UCS-2 text", .field.as_str())]
    TextEncoding { field: CardField },
    #[error("field {} is empty", .field.as_str())]
    MissingField { field: CardField },
    #[error("sex code {found:?} is not 1 (male) or 2 (female)")]
    SexCode { found: String },
    #[error("nation code {found:?} is not in GB 3304")]
    NationCode { found: String },
    #[error("field {} holds {found:?}, not a valid date", .field.as_str())]
    Date { field: CardField, found: String },
    #[error("validity ends ({valid_to}) before it starts ({valid_from})")]
    ValidityOrder {
        valid_from: NaiveDate,
        valid_to: NaiveDate,
    },
    #[error("ID number on the card is invalid: {0}")]
    IdNumber(IdNumberError),
    #[error("card is a foreigner's permanent residence card")]
    ForeignerCard,
    #[error("card is a Hong Kong/Macao/Taiwan residence permit")]
    ResidencePermitCard,
    #[error("unknown card type flag {flag:#06x}")]
    UnknownCardType { flag: u16 },
    #[error("birth date on the card disagrees with the ID number")]
    IdBirthMismatch,
    #[error("sex on the card disagrees with the ID number")]
    IdSexMismatch,
    #[error("field {} does not fit in the text block", .field.as_str())]
    FieldTooLong { field: CardField },
    #[error("input is neither a GA 467 read response nor a 256-byte text block: {detail}")]
    InputFormat { detail: String },
}

impl CardError {
    /// Stable machine code. Frame errors keep their own `frame_*` codes.
    pub fn code(&self) -> &'static str {
        match self {
            CardError::Frame(err) => err.code(),
            CardError::Status(_) => "reader_status",
            CardError::PayloadLength { .. } => "payload_length",
            CardError::TextLength { .. } => "text_length",
            CardError::TextEncoding { .. } => "text_encoding",
            CardError::MissingField { .. } => "missing_field",
            CardError::SexCode { .. } => "sex_code",
            CardError::NationCode { .. } => "nation_code",
            CardError::Date { .. } | CardError::ValidityOrder { .. } => "date",
            CardError::IdNumber(_) => "id_number",
            CardError::ForeignerCard => "foreigner_card",
            CardError::ResidencePermitCard => "residence_permit_card",
            CardError::UnknownCardType { .. } => "card_type",
            CardError::IdBirthMismatch => "id_birth_mismatch",
            CardError::IdSexMismatch => "id_sex_mismatch",
            CardError::FieldTooLong { .. } => "field_too_long",
            CardError::InputFormat { .. } => "input_format",
        }
    }

    /// The text-block field concerned, if any.
    pub fn field(&self) -> Option<CardField> {
        match self {
            CardError::TextEncoding { field }
            | CardError::MissingField { field }
            | CardError::Date { field, .. }
            | CardError::FieldTooLong { field } => Some(*field),
            CardError::SexCode { .. } | CardError::IdSexMismatch => Some(CardField::Sex),
            CardError::NationCode { .. } => Some(CardField::Nation),
            CardError::ValidityOrder { .. } => Some(CardField::ValidTo),
            CardError::IdNumber(_) => Some(CardField::IdNumber),
            CardError::IdBirthMismatch => Some(CardField::BirthDate),
            _ => None,
        }
    }

    /// For `IdNumber` errors, the inner error's code ("check_digit", …).
    pub fn id_number_code(&self) -> Option<&'static str> {
        match self {
            CardError::IdNumber(inner) => Some(inner.code()),
            _ => None,
        }
    }

    /// Plain Chinese for the person at the kiosk. A card whose chip data is
    /// wrong is not the holder's fault and cannot be fixed at the kiosk, so
    /// those messages send them to staff.
    pub fn message_zh(&self) -> String {
        match self {
            CardError::Frame(err) => err.message_zh(),
            CardError::Status(status) => status.user_message_zh().to_string(),
            CardError::PayloadLength { .. } | CardError::TextLength { .. } => {
                "身份证信息读取不完整，请拿起身份证后重新平放在读卡区域".to_string()
            }
            CardError::TextEncoding { field }
            | CardError::MissingField { field }
            | CardError::Date { field, .. } => {
                format!("身份证芯片中的{}无法识别，请联系工作人员", field.name_zh())
            }
            CardError::SexCode { .. } => "身份证芯片中的性别无法识别，请联系工作人员".to_string(),
            CardError::NationCode { .. } => {
                "身份证芯片中的民族无法识别，请联系工作人员".to_string()
            }
            CardError::ValidityOrder { .. } => {
                "身份证芯片中的有效期限有误，请联系工作人员".to_string()
            }
            CardError::IdNumber(IdNumberError::ResidencePermit { .. })
            | CardError::ResidencePermitCard => {
                "港澳台居民居住证无法在本机登记，请联系工作人员".to_string()
            }
            CardError::IdNumber(_) => {
                "身份证芯片中的公民身份号码没有通过校验，请联系工作人员".to_string()
            }
            CardError::ForeignerCard => {
                "外国人永久居留身份证无法在本机登记，请联系工作人员".to_string()
            }
            CardError::UnknownCardType { .. } => "无法识别这张证件，请放入居民身份证".to_string(),
            CardError::IdBirthMismatch => {
                "身份证芯片中的出生日期与公民身份号码不一致，请联系工作人员".to_string()
            }
            CardError::IdSexMismatch => {
                "身份证芯片中的性别与公民身份号码不一致，请联系工作人员".to_string()
            }
            CardError::FieldTooLong { field } => {
                format!("{}太长，无法写入身份证数据", field.name_zh())
            }
            CardError::InputFormat { .. } => {
                "文件既不是读卡器返回的读卡数据，也不是256字节的身份证文字信息".to_string()
            }
        }
    }

    /// As a [`Problem`], with `field` set to `card.<field>` where known.
    pub fn to_problem(&self) -> Problem {
        let problem = Problem::new(self.code(), self.message_zh());
        match self.field() {
            Some(field) => problem.at(format!("card.{}", field.as_str())),
            None => problem,
        }
    }
}

/// The text block, photo and optional fingerprint data of a read, as sliced
/// from the response data by the lengths in its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawRead<'a> {
    pub text: &'a [u8],
    pub photo: &'a [u8],
    pub fingerprint: Option<&'a [u8]>,
}

fn be_u16_at(data: &[u8], at: usize) -> Option<usize> {
    let hi = *data.get(at)?;
    let lo = *data.get(at + 1)?;
    Some(usize::from(u16::from_be_bytes([hi, lo])))
}

/// Split the data of a 30 01 / 30 10 response:
/// `text_len photo_len [fp_len] text photo [fp]` (lengths big-endian u16).
/// Which form it is follows from the lengths: exactly one can add up.
pub fn split_read_payload(data: &[u8]) -> Result<RawRead<'_>, CardError> {
    let bad = || CardError::PayloadLength { found: data.len() };
    let text_len = be_u16_at(data, 0).ok_or_else(bad)?;
    let photo_len = be_u16_at(data, 2).ok_or_else(bad)?;

    if data.len() == 4 + text_len + photo_len {
        let text = data.get(4..4 + text_len).ok_or_else(bad)?;
        let photo = data.get(4 + text_len..).ok_or_else(bad)?;
        return Ok(RawRead {
            text,
            photo,
            fingerprint: None,
        });
    }
    let fingerprint_len = be_u16_at(data, 4).ok_or_else(bad)?;
    if data.len() == 6 + text_len + photo_len + fingerprint_len {
        let photo_at = 6 + text_len;
        let fingerprint_at = photo_at + photo_len;
        return Ok(RawRead {
            text: data.get(6..photo_at).ok_or_else(bad)?,
            photo: data.get(photo_at..fingerprint_at).ok_or_else(bad)?,
            fingerprint: Some(data.get(fingerprint_at..).ok_or_else(bad)?),
        });
    }
    Err(bad())
}

/// One successful card read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardRead {
    pub text: CardText,
    /// The chip portrait in its compressed WLT form (normally 1024 bytes;
    /// empty when only a text block was given). Decoding WLT to an image
    /// needs the licensed decoder and happens outside `core`.
    pub photo_wlt: Vec<u8>,
    /// Fingerprint data, present only for a 30 10 read.
    pub fingerprint: Option<Vec<u8>>,
}

impl CardRead {
    /// Parse the data of a successful 30 01 / 30 10 response.
    pub fn from_payload(data: &[u8], today: NaiveDate) -> Result<CardRead, CardError> {
        let raw = split_read_payload(data)?;
        Ok(CardRead {
            text: CardText::decode(raw.text, today)?,
            photo_wlt: raw.photo.to_vec(),
            fingerprint: raw.fingerprint.map(<[u8]>::to_vec),
        })
    }

    /// The response data a SAM would send for this read (emulators, tests):
    /// the 30 01 form, or the 30 10 form when there is fingerprint data.
    pub fn encode_payload(&self) -> Result<Vec<u8>, CardError> {
        let text = self.text.encode()?;
        let too_long = |len: usize| CardError::Frame(FrameError::TooLong { len });
        let photo_len =
            u16::try_from(self.photo_wlt.len()).map_err(|_| too_long(self.photo_wlt.len()))?;
        let text_len = u16::try_from(text.len()).map_err(|_| too_long(text.len()))?;
        let mut data = Vec::new();
        data.extend_from_slice(&text_len.to_be_bytes());
        data.extend_from_slice(&photo_len.to_be_bytes());
        if let Some(fingerprint) = &self.fingerprint {
            let fingerprint_len =
                u16::try_from(fingerprint.len()).map_err(|_| too_long(fingerprint.len()))?;
            data.extend_from_slice(&fingerprint_len.to_be_bytes());
        }
        data.extend_from_slice(&text);
        data.extend_from_slice(&self.photo_wlt);
        if let Some(fingerprint) = &self.fingerprint {
            data.extend_from_slice(fingerprint);
        }
        Ok(data)
    }

    /// The whole successful response frame for this read.
    pub fn encode_response(&self) -> Result<Vec<u8>, CardError> {
        Ok(Response::new(Sw3Status::Success, self.encode_payload()?)?.encode())
    }
}

/// Decode what `veteran-kiosk check card <FILE>` is given: either one whole
/// GA 467 response frame of a read command (30 01 or 30 10), or a bare
/// 256-byte text block. A frame whose SW3 is not 0x90 gives
/// [`CardError::Status`].
pub fn decode_card_input(bytes: &[u8], today: NaiveDate) -> Result<CardRead, CardError> {
    if bytes.starts_with(&PREAMBLE) {
        let response = Response::decode(bytes)?;
        return match response.status() {
            Sw3Status::Success => CardRead::from_payload(response.data(), today),
            status if status.is_success() => Err(CardError::InputFormat {
                detail: format!("frame is a find-card answer ({status}), not a read"),
            }),
            status => Err(CardError::Status(status)),
        };
    }
    if bytes.len() == TEXT_BLOCK_LEN {
        return Ok(CardRead {
            text: CardText::decode(bytes, today)?,
            photo_wlt: Vec::new(),
            fingerprint: None,
        });
    }
    Err(CardError::InputFormat {
        detail: format!(
            "{} bytes that do not start with AA AA AA 96 69",
            bytes.len()
        ),
    })
}

#[cfg(test)]
mod tests;

//! The 256-byte text block of a resident ID card.
//!
//! UCS-2 little-endian, fixed fields, padded with spaces (20 00):
//!
//! | bytes   | field                  | chars |
//! |---------|------------------------|-------|
//! | 0..30   | name                   | 15    |
//! | 30..32  | sex code (GB/T 2261.1) | 1     |
//! | 32..36  | nation code (GB 3304)  | 2     |
//! | 36..52  | birth date YYYYMMDD    | 8     |
//! | 52..122 | address                | 35    |
//! | 122..158| ID number              | 18    |
//! | 158..188| issuing authority      | 15    |
//! | 188..204| valid from YYYYMMDD    | 8     |
//! | 204..220| valid to YYYYMMDD/长期 | 8     |
//! | 220..256| reserved               | 18    |
//!
//! Byte 248 (inside the reserved area) is the card type flag on the other
//! cards the same readers handle: `'I'` foreigner's permanent residence
//! card (2017), `'Y'` its 2023 edition, `'J'` Hong Kong/Macao/Taiwan
//! residence permit. On a resident ID card it is a space (some readers
//! give 00). Those other cards lay the block out differently, so the flag
//! is checked before any field is read.
//!
//! Rare characters may be stored in the Unicode Private Use Area by the
//! card system; they are kept as they are.

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{CardError, CardField, Nation};
use crate::id_number::{IdNumber, Sex};

/// Size of the text block.
pub const TEXT_BLOCK_LEN: usize = 256;

const CARD_TYPE_FLAG_AT: usize = 248;

/// (field, byte range) in block order.
const LAYOUT: [(CardField, usize, usize); 9] = [
    (CardField::Name, 0, 30),
    (CardField::Sex, 30, 32),
    (CardField::Nation, 32, 36),
    (CardField::BirthDate, 36, 52),
    (CardField::Address, 52, 122),
    (CardField::IdNumber, 122, 158),
    (CardField::Authority, 158, 188),
    (CardField::ValidFrom, 188, 204),
    (CardField::ValidTo, 204, 220),
];

const LONG_TERM_ZH: &str = "长期";

/// How long the card is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Validity {
    /// Valid through this day (inclusive).
    Until(NaiveDate),
    /// 长期: issued to people aged 46 and over, never expires.
    LongTerm,
}

impl Validity {
    /// Whether the card has expired on `date` (it is still valid on its
    /// last day).
    pub fn is_expired_on(self, date: NaiveDate) -> bool {
        match self {
            Validity::Until(last_day) => date > last_day,
            Validity::LongTerm => false,
        }
    }

    /// As printed on the card: `2035.01.01` or `长期`.
    pub fn as_zh(self) -> String {
        match self {
            Validity::Until(day) => day.format("%Y.%m.%d").to_string(),
            Validity::LongTerm => LONG_TERM_ZH.to_string(),
        }
    }
}

impl Serialize for Validity {
    /// `"2035-01-01"` or `"long_term"`.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Validity::Until(day) => serializer.serialize_str(&day.format("%Y-%m-%d").to_string()),
            Validity::LongTerm => serializer.serialize_str("long_term"),
        }
    }
}

impl<'de> Deserialize<'de> for Validity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        if text == "long_term" {
            return Ok(Validity::LongTerm);
        }
        NaiveDate::parse_from_str(&text, "%Y-%m-%d")
            .map(Validity::Until)
            .map_err(|_| serde::de::Error::custom(format!("bad validity {text:?}")))
    }
}

/// The decoded text block: typed, and cross-checked so that the birth date
/// and sex agree with the ID number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "CardTextFields")]
pub struct CardText {
    pub name: String,
    pub sex: Sex,
    pub nation: Nation,
    pub birth_date: NaiveDate,
    pub address: String,
    pub id_number: IdNumber,
    pub authority: String,
    pub valid_from: NaiveDate,
    pub valid_to: Validity,
}

/// Shape for deserialising; [`CardText`] re-runs the cross-checks.
#[derive(Deserialize)]
struct CardTextFields {
    name: String,
    sex: Sex,
    nation: Nation,
    birth_date: NaiveDate,
    address: String,
    id_number: IdNumber,
    authority: String,
    valid_from: NaiveDate,
    valid_to: Validity,
}

impl TryFrom<CardTextFields> for CardText {
    type Error = CardError;

    fn try_from(fields: CardTextFields) -> Result<CardText, CardError> {
        let text = CardText {
            name: fields.name,
            sex: fields.sex,
            nation: fields.nation,
            birth_date: fields.birth_date,
            address: fields.address,
            id_number: fields.id_number,
            authority: fields.authority,
            valid_from: fields.valid_from,
            valid_to: fields.valid_to,
        };
        text.check_consistency()?;
        Ok(text)
    }
}

fn field_bytes(block: &[u8], field: CardField) -> &[u8] {
    LAYOUT
        .iter()
        .find(|(known, _, _)| *known == field)
        .and_then(|&(_, start, end)| block.get(start..end))
        .unwrap_or_default()
}

/// Decode UCS-2LE, dropping trailing space/NUL padding. Control characters
/// and unpaired surrogates are errors.
fn decode_ucs2(bytes: &[u8], field: CardField) -> Result<String, CardError> {
    let encoding_error = CardError::TextEncoding { field };
    if bytes.len() % 2 != 0 {
        return Err(encoding_error);
    }
    // chunks_exact(2) yields exactly two bytes per pair, so the indexing
    // below cannot fail.
    let units = bytes
        .chunks_exact(2)
        .map(|pair| u16::from_le_bytes([pair[0], pair[1]]));
    let text: String = char::decode_utf16(units)
        .collect::<Result<_, _>>()
        .map_err(|_| encoding_error.clone())?;
    let text = text.trim_end_matches([' ', '\0']);
    if text.chars().any(char::is_control) {
        return Err(encoding_error);
    }
    Ok(text.to_string())
}

fn required_text(block: &[u8], field: CardField) -> Result<String, CardError> {
    let text = decode_ucs2(field_bytes(block, field), field)?;
    if text.trim().is_empty() {
        return Err(CardError::MissingField { field });
    }
    Ok(text)
}

fn parse_card_date(text: &str, field: CardField) -> Result<NaiveDate, CardError> {
    let bad = || CardError::Date {
        field,
        found: text.to_string(),
    };
    if text.len() != 8 || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(bad());
    }
    NaiveDate::parse_from_str(text, "%Y%m%d").map_err(|_| bad())
}

/// Decode the optional additional address (response data of 30 03).
pub fn decode_additional_address(data: &[u8]) -> Result<String, CardError> {
    decode_ucs2(data, CardField::AdditionalAddress).map(|text| text.trim().to_string())
}

impl CardText {
    /// Parse a 256-byte text block. `today` bounds the birth date in the ID
    /// number.
    pub fn decode(block: &[u8], today: NaiveDate) -> Result<CardText, CardError> {
        if block.len() != TEXT_BLOCK_LEN {
            return Err(CardError::TextLength { found: block.len() });
        }
        let flag_low = block.get(CARD_TYPE_FLAG_AT).copied().unwrap_or(0);
        let flag_high = block.get(CARD_TYPE_FLAG_AT + 1).copied().unwrap_or(0);
        match (flag_low, flag_high) {
            (b' ' | 0, 0) => {}
            (b'I' | b'Y', 0) => return Err(CardError::ForeignerCard),
            (b'J', 0) => return Err(CardError::ResidencePermitCard),
            _ => {
                return Err(CardError::UnknownCardType {
                    flag: u16::from_le_bytes([flag_low, flag_high]),
                })
            }
        }

        let name = required_text(block, CardField::Name)?;

        let sex_text = decode_ucs2(field_bytes(block, CardField::Sex), CardField::Sex)?;
        let sex = match sex_text.as_str() {
            "1" => Sex::Male,
            "2" => Sex::Female,
            _ => return Err(CardError::SexCode { found: sex_text }),
        };

        let nation_text = decode_ucs2(field_bytes(block, CardField::Nation), CardField::Nation)?;
        let nation =
            Nation::parse_code(&nation_text).ok_or(CardError::NationCode { found: nation_text })?;

        let birth_text = decode_ucs2(
            field_bytes(block, CardField::BirthDate),
            CardField::BirthDate,
        )?;
        let birth_date = parse_card_date(&birth_text, CardField::BirthDate)?;

        let address = required_text(block, CardField::Address)?;

        let id_text = required_text(block, CardField::IdNumber)?;
        let id_number = IdNumber::parse(&id_text, today).map_err(CardError::IdNumber)?;

        let authority = required_text(block, CardField::Authority)?;

        let from_text = decode_ucs2(
            field_bytes(block, CardField::ValidFrom),
            CardField::ValidFrom,
        )?;
        let valid_from = parse_card_date(&from_text, CardField::ValidFrom)?;

        let to_text = decode_ucs2(field_bytes(block, CardField::ValidTo), CardField::ValidTo)?;
        let valid_to = if to_text == LONG_TERM_ZH {
            Validity::LongTerm
        } else {
            Validity::Until(parse_card_date(&to_text, CardField::ValidTo)?)
        };

        let text = CardText {
            name,
            sex,
            nation,
            birth_date,
            address,
            id_number,
            authority,
            valid_from,
            valid_to,
        };
        text.check_consistency()?;
        Ok(text)
    }

    /// The rules that tie fields together: validity in order, birth date and
    /// sex as in the ID number. Never silently accept a disagreement.
    fn check_consistency(&self) -> Result<(), CardError> {
        if let Validity::Until(valid_to) = self.valid_to {
            if valid_to < self.valid_from {
                return Err(CardError::ValidityOrder {
                    valid_from: self.valid_from,
                    valid_to,
                });
            }
        }
        if self.birth_date != self.id_number.birth_date() {
            return Err(CardError::IdBirthMismatch);
        }
        if self.sex != self.id_number.sex() {
            return Err(CardError::IdSexMismatch);
        }
        Ok(())
    }

    /// Whether the card has expired on `date`.
    pub fn is_expired_on(&self, date: NaiveDate) -> bool {
        self.valid_to.is_expired_on(date)
    }

    /// The 256-byte block a card would hold (emulators and tests). Fails
    /// only if a field is too long for its slot.
    pub fn encode(&self) -> Result<[u8; TEXT_BLOCK_LEN], CardError> {
        let mut block = [0u8; TEXT_BLOCK_LEN];
        for pair in block.chunks_exact_mut(2) {
            pair.copy_from_slice(&[b' ', 0]);
        }
        let sex_code = match self.sex {
            Sex::Male => "1",
            Sex::Female => "2",
        };
        let date = |day: NaiveDate| day.format("%Y%m%d").to_string();
        let valid_to = match self.valid_to {
            Validity::Until(day) => date(day),
            Validity::LongTerm => LONG_TERM_ZH.to_string(),
        };
        let values = [
            (CardField::Name, self.name.clone()),
            (CardField::Sex, sex_code.to_string()),
            (CardField::Nation, self.nation.code_str()),
            (CardField::BirthDate, date(self.birth_date)),
            (CardField::Address, self.address.clone()),
            (CardField::IdNumber, self.id_number.as_str().to_string()),
            (CardField::Authority, self.authority.clone()),
            (CardField::ValidFrom, date(self.valid_from)),
            (CardField::ValidTo, valid_to),
        ];
        for (field, value) in values {
            let Some(&(_, start, end)) = LAYOUT.iter().find(|(known, _, _)| *known == field) else {
                continue;
            };
            let encoded: Vec<u8> = value.encode_utf16().flat_map(u16::to_le_bytes).collect();
            let slot = block
                .get_mut(start..start + encoded.len())
                .filter(|_| start + encoded.len() <= end)
                .ok_or(CardError::FieldTooLong { field })?;
            slot.copy_from_slice(&encoded);
        }
        Ok(block)
    }
}

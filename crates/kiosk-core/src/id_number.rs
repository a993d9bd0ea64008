//! The citizen identity number (公民身份号码, GB 11643-1999), parsed once.
//!
//! Layout of the 18 characters: 6-digit address code (GB/T 2260), 8-digit
//! birth date YYYYMMDD, 3-digit sequence (odd = male, even = female),
//! check character (ISO 7064 MOD 11-2, `0`–`9` or `X`).
//!
//! An [`IdNumber`] is personal data. `Display` and `Serialize` give the full
//! number because records and the county platform need it; `Debug` masks
//! it so that `{:?}` in logs never leaks it. Use [`IdNumber::masked`] for
//! anything shown on screen to people other than the holder.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

use crate::region;
use crate::Problem;

/// A structurally valid resident ID number: 18 ASCII characters, digits
/// with an optional trailing uppercase `X`, a mainland province code, a
/// real birth date on or after 1900-01-01 and a matching check digit.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdNumber(String);

/// Sex as recorded in the ID number and on the card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    /// 男 or 女, as printed on the card.
    pub fn as_zh(self) -> &'static str {
        match self {
            Sex::Male => "男",
            Sex::Female => "女",
        }
    }

    /// Inverse of [`Sex::as_zh`]; surrounding whitespace is ignored.
    pub fn from_zh(text: &str) -> Option<Sex> {
        match text.trim() {
            "男" => Some(Sex::Male),
            "女" => Some(Sex::Female),
            _ => None,
        }
    }
}

/// Why a birth date inside an ID number is not acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BirthDateProblem {
    /// Digits 7–14 are not a calendar date (e.g. 19900230).
    NotADate,
    /// The date is after the `today` given to [`IdNumber::parse`].
    InFuture,
    /// The date is before 1900-01-01.
    TooEarly,
}

/// Everything that can be wrong with an ID number, in the order checked.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IdNumberError {
    #[error("ID number has {found} characters, expected 18")]
    Length { found: usize },
    #[error("ID number character {position} is not allowed there (digits only, X only last)")]
    Format {
        /// 1-based position of the first offending character.
        position: usize,
    },
    #[error("ID number starts with {code}, which is not a mainland province code")]
    Region { code: String },
    #[error("ID number starts with {code}: a Hong Kong/Macao/Taiwan residence permit number")]
    ResidencePermit { code: String },
    #[error("birth date in ID number is not acceptable: {problem:?}")]
    BirthDate { problem: BirthDateProblem },
    #[error("ID number check digit is {found}, expected {expected}")]
    CheckDigit { found: char, expected: char },
}

impl IdNumberError {
    /// Stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            IdNumberError::Length { .. } => "length",
            IdNumberError::Format { .. } => "format",
            IdNumberError::Region { .. } => "region",
            IdNumberError::ResidencePermit { .. } => "residence_permit",
            IdNumberError::BirthDate { .. } => "birth_date",
            IdNumberError::CheckDigit { .. } => "check_digit",
        }
    }

    /// Plain Chinese for the person at the kiosk. Never reveals the expected
    /// check digit: that would only help someone make up a number.
    pub fn message_zh(&self) -> String {
        match self {
            IdNumberError::Length { found } => {
                format!("身份证号码应为18位，现在是{found}位，请核对")
            }
            IdNumberError::Format { position } => {
                format!("身份证号码第{position}位填写有误：号码只能由数字组成，最后一位可以是X")
            }
            IdNumberError::Region { .. } => {
                "身份证号码开头的地区代码不正确，请核对前两位".to_string()
            }
            IdNumberError::ResidencePermit { .. } => {
                "这是港澳台居民居住证号码，本机只能登记居民身份证，请联系工作人员".to_string()
            }
            IdNumberError::BirthDate { problem } => match problem {
                BirthDateProblem::NotADate => {
                    "身份证号码中的出生日期（第7到14位）不是有效日期，请核对".to_string()
                }
                BirthDateProblem::InFuture => {
                    "身份证号码中的出生日期（第7到14位）晚于今天，请核对".to_string()
                }
                BirthDateProblem::TooEarly => {
                    "身份证号码中的出生日期（第7到14位）早于1900年，请核对".to_string()
                }
            },
            IdNumberError::CheckDigit { .. } => "身份证号码校验不通过，请逐位核对号码".to_string(),
        }
    }

    /// As a [`Problem`] (without a field; add one with [`Problem::at`]).
    pub fn to_problem(&self) -> Problem {
        Problem::new(self.code(), self.message_zh())
    }
}

/// The earliest birth date accepted.
pub fn earliest_birth_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN)
}

/// ISO 7064 MOD 11-2 check character for the first 17 characters of an ID
/// number, given as ASCII digits (e.g. `b"11010519491231002"` → `'X'`).
///
/// Callers must pass ASCII digits; any other byte gives a meaningless (but
/// never panicking) result.
pub fn check_digit(first17: &[u8; 17]) -> char {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(&byte, weight)| u32::from(byte.wrapping_sub(b'0')) * weight)
        .sum();
    // sum % 11 is always < 11, so the lookup cannot fail.
    CHECK.get((sum % 11) as usize).copied().unwrap_or('?')
}

/// Map what people type on Chinese IMEs to plain ASCII: full-width digits
/// and Ｘ/ｘ, and lowercase x.
fn normalise_char(c: char) -> char {
    match c {
        '０'..='９' => {
            char::from_u32(u32::from(c) - u32::from('０') + u32::from('0')).unwrap_or(c)
        }
        'Ｘ' | 'ｘ' | 'x' => 'X',
        other => other,
    }
}

fn parse_birth_date(digits: &str) -> Option<NaiveDate> {
    let year = digits.get(0..4)?.parse().ok()?;
    let month = digits.get(4..6)?.parse().ok()?;
    let day = digits.get(6..8)?.parse().ok()?;
    NaiveDate::from_ymd_opt(year, month, day)
}

impl IdNumber {
    /// Parse typed or read input. Surrounding whitespace (including the
    /// full-width space) is trimmed; full-width digits and x/ｘ/Ｘ are
    /// normalised. The birth date must not be after `today`.
    pub fn parse(input: &str, today: NaiveDate) -> Result<IdNumber, IdNumberError> {
        Self::parse_inner(input, Some(today))
    }

    /// Like [`IdNumber::parse`] but without the "not in the future" check.
    /// For data that was valid when it was stored (deserialisation).
    pub fn parse_structure(input: &str) -> Result<IdNumber, IdNumberError> {
        Self::parse_inner(input, None)
    }

    fn parse_inner(input: &str, today: Option<NaiveDate>) -> Result<IdNumber, IdNumberError> {
        let normalised: String = input.trim().chars().map(normalise_char).collect();

        let found = normalised.chars().count();
        if found != 18 {
            return Err(IdNumberError::Length { found });
        }
        for (index, c) in normalised.chars().enumerate() {
            let allowed = c.is_ascii_digit() || (index == 17 && c == 'X');
            if !allowed {
                return Err(IdNumberError::Format {
                    position: index + 1,
                });
            }
        }
        // From here on every char is one ASCII byte, so byte slicing is safe;
        // `get` keeps it panic-free regardless.
        let province = normalised.get(0..2).unwrap_or_default();
        if region::is_residence_permit_prefix(province) {
            return Err(IdNumberError::ResidencePermit {
                code: province.to_string(),
            });
        }
        if !region::is_resident_id_province(province) {
            return Err(IdNumberError::Region {
                code: province.to_string(),
            });
        }

        let birth = parse_birth_date(normalised.get(6..14).unwrap_or_default()).ok_or(
            IdNumberError::BirthDate {
                problem: BirthDateProblem::NotADate,
            },
        )?;
        if birth < earliest_birth_date() {
            return Err(IdNumberError::BirthDate {
                problem: BirthDateProblem::TooEarly,
            });
        }
        if today.is_some_and(|today| birth > today) {
            return Err(IdNumberError::BirthDate {
                problem: BirthDateProblem::InFuture,
            });
        }

        let mut first17 = [0u8; 17];
        first17.copy_from_slice(normalised.as_bytes().get(..17).unwrap_or(&[0; 17]));
        let expected = check_digit(&first17);
        let found = normalised.chars().last().unwrap_or(' ');
        if found != expected {
            return Err(IdNumberError::CheckDigit { found, expected });
        }
        Ok(IdNumber(normalised))
    }

    /// The full 18-character number. Personal data: see the module docs.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Birth date from digits 7–14.
    pub fn birth_date(&self) -> NaiveDate {
        // Checked in parse; the fallback is unreachable.
        parse_birth_date(self.0.get(6..14).unwrap_or_default()).unwrap_or(NaiveDate::MIN)
    }

    /// Sex from the 17th digit: odd = male, even = female.
    pub fn sex(&self) -> Sex {
        let digit = self.0.as_bytes().get(16).copied().unwrap_or(b'0');
        if digit.wrapping_sub(b'0') % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    /// The six-digit GB/T 2260 address code (may be a retired county code).
    pub fn region_code(&self) -> &str {
        self.0.get(0..6).unwrap_or_default()
    }

    /// First 6 and last 4 characters, the middle 8 as `*`:
    /// `110105********002X` (see [`mask_id_text`]).
    pub fn masked(&self) -> String {
        mask_id_text(&self.0)
    }

    /// Age in completed years on `date`; 0 if `date` is before the birth.
    pub fn age_on(&self, date: NaiveDate) -> u32 {
        crate::time::age_on(self.birth_date(), date)
    }
}

/// Masks text that should be an ID number but may not be a valid one
/// (typed, from an old record): `350524********0010`.
///
/// Surrounding spaces are dropped. Text of 11 characters or more keeps its
/// first 6 and last 4 characters and every character between becomes `*`;
/// shorter text is all `*` (at least one), as its middle cannot be told
/// from its ends. The middle is never shown, whatever the input.
pub fn mask_id_text(text: &str) -> String {
    let chars: Vec<char> = text.trim().chars().collect();
    if chars.len() < 11 {
        return "*".repeat(chars.len().max(1));
    }
    let head: String = chars[..6].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 10))
}

impl fmt::Display for IdNumber {
    /// The full number. Personal data: prefer [`IdNumber::masked`] on screen.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for IdNumber {
    /// Masked, so debug logs never carry the full number.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdNumber({})", self.masked())
    }
}

impl Serialize for IdNumber {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for IdNumber {
    /// Validates everything except "not in the future": stored data has no
    /// "today" to compare with.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        IdNumber::parse_structure(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use expect_test::{expect, Expect};
    use proptest::prelude::*;

    pub(crate) fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// Build a valid number from its parts (test and generator helper).
    pub(crate) fn make(region: &str, birth: &str, seq: &str) -> String {
        let first17 = format!("{region}{birth}{seq}");
        let bytes: [u8; 17] = first17.as_bytes().try_into().unwrap();
        format!("{first17}{}", check_digit(&bytes))
    }

    fn today() -> NaiveDate {
        date(2024, 6, 1)
    }

    fn check(inputs: &[&str], expect: Expect) {
        let table: String = inputs
            .iter()
            .map(|input| match IdNumber::parse(input, today()) {
                Ok(id) => format!(
                    "{input:?} ok {} birth={} sex={} region={} masked={} age={}\n",
                    id,
                    id.birth_date(),
                    id.sex().as_zh(),
                    id.region_code(),
                    id.masked(),
                    id.age_on(today()),
                ),
                Err(err) => format!(
                    "{input:?} {} | {} | {}\n",
                    err.code(),
                    err.message_zh(),
                    err
                ),
            })
            .collect();
        expect.assert_eq(&table);
    }

    #[test]
    fn check_digit_known_values() {
        // Published GB 11643 example numbers.
        assert_eq!(check_digit(b"11010519491231002"), 'X');
        assert_eq!(check_digit(b"44052418800101001"), '4');
        assert_eq!(check_digit(b"32010619800101001"), '1');
        assert_eq!(check_digit(b"51010019991231999"), '4');
    }

    #[test]
    fn valid_and_normalised_inputs() {
        check(
            &[
                "11010519491231002X",
                "11010519491231002x",
                "  11010519491231002X\n",
                "\u{3000}11010519491231002X\u{3000}",
                "１１０１０５１９４９１２３１００２Ｘ",
                "１１０１０５１９４９１２３１００２ｘ",
                "440524188001010014",
                "65010220000229001X",
                "110101202406010018",
                "110101190001010014",
            ],
            expect![[r#"
                "11010519491231002X" ok 11010519491231002X birth=1949-12-31 sex=女 region=110105 masked=110105********002X age=74
                "11010519491231002x" ok 11010519491231002X birth=1949-12-31 sex=女 region=110105 masked=110105********002X age=74
                "  11010519491231002X\n" ok 11010519491231002X birth=1949-12-31 sex=女 region=110105 masked=110105********002X age=74
                "\u{3000}11010519491231002X\u{3000}" ok 11010519491231002X birth=1949-12-31 sex=女 region=110105 masked=110105********002X age=74
                "１１０１０５１９４９１２３１００２Ｘ" ok 11010519491231002X birth=1949-12-31 sex=女 region=110105 masked=110105********002X age=74
                "１１０１０５１９４９１２３１００２ｘ" ok 11010519491231002X birth=1949-12-31 sex=女 region=110105 masked=110105********002X age=74
                "440524188001010014" birth_date | 身份证号码中的出生日期（第7到14位）早于1900年，请核对 | birth date in ID number is not acceptable: TooEarly
                "65010220000229001X" ok 65010220000229001X birth=2000-02-29 sex=男 region=650102 masked=650102********001X age=24
                "110101202406010018" ok 110101202406010018 birth=2024-06-01 sex=男 region=110101 masked=110101********0018 age=0
                "110101190001010014" ok 110101190001010014 birth=1900-01-01 sex=男 region=110101 masked=110101********0014 age=124
            "#]],
        );
    }

    #[test]
    fn every_error_code() {
        check(
            &[
                "",
                "   ",
                "11010519491231002",
                "11010519491231002X1",
                "1101051949123100 2X",
                "11010519491231002Y",
                "X10105194912310021",
                "110105194912310X21",
                "11010519491231002-",
                "11010519491231002\u{00D7}",
                "001011194912310025",
                "991011194912310025",
                "710101194912310028",
                "810101194912310028",
                "820101194912310028",
                "830101194912310028",
                "110101199002300028",
                "110101199013010028",
                "110101189912310028",
                "110101202406020010",
                "11010519491231002Y",
                "110105194912310021",
                "110105194912310020",
            ],
            expect![[r#"
                "" length | 身份证号码应为18位，现在是0位，请核对 | ID number has 0 characters, expected 18
                "   " length | 身份证号码应为18位，现在是0位，请核对 | ID number has 0 characters, expected 18
                "11010519491231002" length | 身份证号码应为18位，现在是17位，请核对 | ID number has 17 characters, expected 18
                "11010519491231002X1" length | 身份证号码应为18位，现在是19位，请核对 | ID number has 19 characters, expected 18
                "1101051949123100 2X" length | 身份证号码应为18位，现在是19位，请核对 | ID number has 19 characters, expected 18
                "11010519491231002Y" format | 身份证号码第18位填写有误：号码只能由数字组成，最后一位可以是X | ID number character 18 is not allowed there (digits only, X only last)
                "X10105194912310021" format | 身份证号码第1位填写有误：号码只能由数字组成，最后一位可以是X | ID number character 1 is not allowed there (digits only, X only last)
                "110105194912310X21" format | 身份证号码第16位填写有误：号码只能由数字组成，最后一位可以是X | ID number character 16 is not allowed there (digits only, X only last)
                "11010519491231002-" format | 身份证号码第18位填写有误：号码只能由数字组成，最后一位可以是X | ID number character 18 is not allowed there (digits only, X only last)
                "11010519491231002×" format | 身份证号码第18位填写有误：号码只能由数字组成，最后一位可以是X | ID number character 18 is not allowed there (digits only, X only last)
                "001011194912310025" region | 身份证号码开头的地区代码不正确，请核对前两位 | ID number starts with 00, which is not a mainland province code
                "991011194912310025" region | 身份证号码开头的地区代码不正确，请核对前两位 | ID number starts with 99, which is not a mainland province code
                "710101194912310028" region | 身份证号码开头的地区代码不正确，请核对前两位 | ID number starts with 71, which is not a mainland province code
                "810101194912310028" residence_permit | 这是港澳台居民居住证号码，本机只能登记居民身份证，请联系工作人员 | ID number starts with 81: a Hong Kong/Macao/Taiwan residence permit number
                "820101194912310028" residence_permit | 这是港澳台居民居住证号码，本机只能登记居民身份证，请联系工作人员 | ID number starts with 82: a Hong Kong/Macao/Taiwan residence permit number
                "830101194912310028" residence_permit | 这是港澳台居民居住证号码，本机只能登记居民身份证，请联系工作人员 | ID number starts with 83: a Hong Kong/Macao/Taiwan residence permit number
                "110101199002300028" birth_date | 身份证号码中的出生日期（第7到14位）不是有效日期，请核对 | birth date in ID number is not acceptable: NotADate
                "110101199013010028" birth_date | 身份证号码中的出生日期（第7到14位）不是有效日期，请核对 | birth date in ID number is not acceptable: NotADate
                "110101189912310028" birth_date | 身份证号码中的出生日期（第7到14位）早于1900年，请核对 | birth date in ID number is not acceptable: TooEarly
                "110101202406020010" birth_date | 身份证号码中的出生日期（第7到14位）晚于今天，请核对 | birth date in ID number is not acceptable: InFuture
                "11010519491231002Y" format | 身份证号码第18位填写有误：号码只能由数字组成，最后一位可以是X | ID number character 18 is not allowed there (digits only, X only last)
                "110105194912310021" check_digit | 身份证号码校验不通过，请逐位核对号码 | ID number check digit is 1, expected X
                "110105194912310020" check_digit | 身份证号码校验不通过，请逐位核对号码 | ID number check digit is 0, expected X
            "#]],
        );
    }

    #[test]
    fn check_order_is_length_format_region_birth_check() {
        // Each input is wrong in several ways; the earliest check wins.
        let cases = [
            ("X1010519491231", "length"),
            ("001011194913310Y21", "format"),
            ("001011194913310021", "region"),
            ("110101199013010021", "birth_date"),
            ("110101202506010021", "birth_date"),
        ];
        for (input, code) in cases {
            let err = IdNumber::parse(input, today()).unwrap_err();
            assert_eq!(err.code(), code, "{input}");
        }
    }

    #[test]
    fn no_check_digit_in_chinese_messages() {
        let err = IdNumber::parse("110105194912310021", today()).unwrap_err();
        assert_eq!(
            err,
            IdNumberError::CheckDigit {
                found: '1',
                expected: 'X'
            }
        );
        assert!(!err.message_zh().contains('X'));
        assert!(err.to_string().contains('X'));
    }

    #[test]
    fn age_on_birthdays() {
        let id = IdNumber::parse(&make("650102", "20000229", "001"), today()).unwrap();
        let cases = [
            (date(1999, 1, 1), 0),
            (date(2000, 2, 29), 0),
            (date(2001, 2, 28), 0),
            (date(2001, 3, 1), 1),
            (date(2004, 2, 28), 3),
            (date(2004, 2, 29), 4),
            (date(2024, 6, 1), 24),
        ];
        for (on, age) in cases {
            assert_eq!(id.age_on(on), age, "{on}");
        }
    }

    #[test]
    fn serde_and_debug() {
        let id = IdNumber::parse("11010519491231002X", today()).unwrap();
        assert_eq!(format!("{id:?}"), "IdNumber(110105********002X)");
        assert_eq!(id.to_string(), "11010519491231002X");
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"11010519491231002X\"");
        assert_eq!(serde_json::from_str::<IdNumber>(&json).unwrap(), id);
        // Deserialisation has no "today", so a future birth date is allowed,
        // but every structural rule still holds.
        let future = make("110101", "20990101", "001");
        assert!(serde_json::from_str::<IdNumber>(&format!("\"{future}\"")).is_ok());
        let err = serde_json::from_str::<IdNumber>("\"110105194912310021\"").unwrap_err();
        assert!(err.to_string().contains("check digit"), "{err}");

        assert_eq!(serde_json::to_string(&Sex::Male).unwrap(), "\"male\"");
        assert_eq!(
            serde_json::from_str::<Sex>("\"female\"").unwrap(),
            Sex::Female
        );
        assert_eq!(Sex::from_zh(" 男 "), Some(Sex::Male));
        assert_eq!(Sex::from_zh("女"), Some(Sex::Female));
        assert_eq!(Sex::from_zh("M"), None);
    }

    #[test]
    fn to_problem_carries_code_and_message() {
        let problem = IdNumberError::Length { found: 3 }
            .to_problem()
            .at("identity.id_number");
        assert_eq!(problem.code, "length");
        assert_eq!(problem.field.as_deref(), Some("identity.id_number"));
        assert!(problem.message.contains("18位"));
    }

    prop_compose! {
        pub(crate) fn valid_id_string()(
            province in proptest::sample::select(
                region::PROVINCES
                    .iter()
                    .map(|p| p.code)
                    .filter(|code| region::is_resident_id_province(code))
                    .collect::<Vec<_>>()
            ),
            rest in 0u32..10_000,
            days in 0i64..45_000,
            seq in 0u32..1000,
        ) -> String {
            let birth = earliest_birth_date() + chrono::Duration::days(days);
            make(
                &format!("{province}{rest:04}"),
                &birth.format("%Y%m%d").to_string(),
                &format!("{seq:03}"),
            )
        }
    }

    proptest! {
        #[test]
        fn parse_never_panics(input in "\\PC{0,24}") {
            let _ = IdNumber::parse(&input, today());
            let _ = IdNumber::parse_structure(&input);
        }

        #[test]
        fn parse_never_panics_on_near_misses(input in "[0-9xX０-９Ｘ ]{16,20}") {
            let _ = IdNumber::parse(&input, today());
        }

        #[test]
        fn generated_numbers_parse_and_round_trip(text in valid_id_string()) {
            let id = IdNumber::parse_structure(&text).unwrap();
            prop_assert_eq!(id.as_str(), text.as_str());
            prop_assert_eq!(id.birth_date().format("%Y%m%d").to_string(), &text[6..14]);
            let json = serde_json::to_string(&id).unwrap();
            prop_assert_eq!(serde_json::from_str::<IdNumber>(&json).unwrap(), id.clone());
            let debug = format!("{:?}", id);
            prop_assert!(!debug.contains(&text[6..14]));
        }

        #[test]
        fn any_single_digit_change_is_caught(text in valid_id_string(), pos in 0usize..17, delta in 1u8..10) {
            // MOD 11-2 detects every single-character substitution.
            let mut bytes = text.into_bytes();
            bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
            let changed = String::from_utf8(bytes).unwrap();
            prop_assert!(IdNumber::parse_structure(&changed).is_err());
        }
    }

    #[test]
    fn masking_text_that_may_not_be_an_id() {
        let cases = [
            ("350524195503150010", "350524********0010"),
            ("11010519491231002X", "110105********002X"),
            (" 350524195503150010 ", "350524********0010"),
            // A 15-digit first-generation number keeps 6 + 4 as well.
            ("110105491231002", "110105*****1002"),
            ("1234567890", "**********"),
            ("123", "***"),
            ("", "*"),
            ("   ", "*"),
            ("张三丰的号码是一二三四五六", "张三丰的号码***三四五六"),
        ];
        for (text, masked) in cases {
            assert_eq!(mask_id_text(text), masked, "{text:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn masking_never_reveals_the_middle(text in "\\PC{0,30}") {
            let masked: Vec<char> = mask_id_text(&text).chars().collect();
            let clear: Vec<char> = text.trim().chars().collect();
            proptest::prop_assert_eq!(masked.len(), clear.len().max(1));
            // Short text is hidden whole; longer text between its ends.
            let hidden = if clear.len() < 11 { 0..masked.len() } else { 6..clear.len() - 4 };
            for (i, c) in masked.iter().enumerate() {
                if hidden.contains(&i) {
                    proptest::prop_assert_eq!(*c, '*', "{} at {}", text, i);
                } else {
                    proptest::prop_assert_eq!(*c, clear[i]);
                }
            }
        }

        #[test]
        fn a_valid_id_is_masked_like_any_text(id in "[0-9]{17}[0-9X]") {
            if let Ok(parsed) = IdNumber::parse_structure(&id) {
                proptest::prop_assert_eq!(parsed.masked(), mask_id_text(&id));
            }
        }
    }
}

//! A date remembered with some precision: a year, a year and month, or a
//! whole day. Many elderly people remember only the year they enlisted or
//! left the army; the record keeps what they know, no more.
//!
//! Serialised as `1975`, `1975-03` or `1975-03-12`, so every record written
//! before precision existed (always `YYYY-MM-DD`) still loads.
//!
//! Rules compare such a date with a boundary honestly: [`PartialDate::on_or_before`]
//! and friends answer [`Decided::Undecided`] when the remembered part cannot
//! settle it (the year 2001 against 2001-01-19).

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The earliest year the kiosk accepts: the oldest service dates that
/// matter (the Red Army of the 1920s) lie after it.
pub const EARLIEST_YEAR: i32 = 1900;
/// The latest year the kiosk accepts; a guard against a typed extra digit.
pub const LATEST_YEAR: i32 = 2200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PartialDate {
    Year(i32),
    /// Year and month (1–12).
    YearMonth(i32, u32),
    Day(NaiveDate),
}

/// The answer of comparing a remembered date with a boundary day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decided {
    Yes,
    No,
    /// The remembered part lies on both sides of the boundary.
    Undecided,
}

impl Decided {
    fn from_bounds(all: bool, none: bool) -> Decided {
        match (all, none) {
            (true, _) => Decided::Yes,
            (_, true) => Decided::No,
            _ => Decided::Undecided,
        }
    }
}

/// Why typed parts are not a date, in words for the person at the kiosk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DateInputError {
    #[error("no year given")]
    NoYear,
    #[error("year is not a number in range")]
    BadYear,
    #[error("month is not 1-12")]
    BadMonth,
    #[error("day does not exist in that month")]
    BadDay,
    #[error("a day was given without a month")]
    DayWithoutMonth,
}

impl DateInputError {
    pub fn message_zh(self) -> &'static str {
        match self {
            DateInputError::NoYear => "请先填写年份，记不清月、日的可以空着",
            DateInputError::BadYear => "年份应为四位数字，例如 1975",
            DateInputError::BadMonth => "月份应为 1 到 12",
            DateInputError::BadDay => "这个月没有这一天，请核对；记不清日的可以空着",
            DateInputError::DayWithoutMonth => "填写了日却没有填月份，请补上月份或把日空着",
        }
    }
}

/// Text that is not `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a date of the form YYYY, YYYY-MM or YYYY-MM-DD: {0:?}")]
pub struct PartialDateSyntaxError(pub String);

impl PartialDate {
    /// Parse what was typed into the year, month and day boxes. An empty
    /// month (and day) means "only the year is remembered".
    pub fn from_parts(year: &str, month: &str, day: &str) -> Result<PartialDate, DateInputError> {
        let (year, month, day) = (year.trim(), month.trim(), day.trim());
        if year.is_empty() {
            return Err(DateInputError::NoYear);
        }
        let year = year
            .parse::<i32>()
            .ok()
            .filter(|y| (EARLIEST_YEAR..=LATEST_YEAR).contains(y))
            .ok_or(DateInputError::BadYear)?;
        if month.is_empty() {
            return if day.is_empty() {
                Ok(PartialDate::Year(year))
            } else {
                Err(DateInputError::DayWithoutMonth)
            };
        }
        let month = month
            .parse::<u32>()
            .ok()
            .filter(|m| (1..=12).contains(m))
            .ok_or(DateInputError::BadMonth)?;
        if day.is_empty() {
            return Ok(PartialDate::YearMonth(year, month));
        }
        day.parse::<u32>()
            .ok()
            .and_then(|d| NaiveDate::from_ymd_opt(year, month, d))
            .map(PartialDate::Day)
            .ok_or(DateInputError::BadDay)
    }

    pub fn year(self) -> i32 {
        match self {
            PartialDate::Year(y) | PartialDate::YearMonth(y, _) => y,
            PartialDate::Day(d) => d.year(),
        }
    }

    /// The month, when remembered.
    pub fn month(self) -> Option<u32> {
        match self {
            PartialDate::Year(_) => None,
            PartialDate::YearMonth(_, m) => Some(m),
            PartialDate::Day(d) => Some(d.month()),
        }
    }

    /// The day of the month, when remembered.
    pub fn day(self) -> Option<u32> {
        match self {
            PartialDate::Day(d) => Some(d.day()),
            _ => None,
        }
    }

    /// The first day the remembered date may mean.
    pub fn earliest(self) -> NaiveDate {
        match self {
            PartialDate::Year(y) => ymd(y, 1, 1),
            PartialDate::YearMonth(y, m) => ymd(y, m, 1),
            PartialDate::Day(d) => d,
        }
    }

    /// The last day the remembered date may mean.
    pub fn latest(self) -> NaiveDate {
        match self {
            PartialDate::Year(y) => ymd(y, 12, 31),
            PartialDate::YearMonth(y, m) => {
                let next = if m == 12 {
                    ymd(y + 1, 1, 1)
                } else {
                    ymd(y, m + 1, 1)
                };
                next.pred_opt().unwrap_or(next)
            }
            PartialDate::Day(d) => d,
        }
    }

    /// Whether the date is on or before `boundary`.
    pub fn on_or_before(self, boundary: NaiveDate) -> Decided {
        Decided::from_bounds(self.latest() <= boundary, self.earliest() > boundary)
    }

    /// Whether the date is on or after `boundary`.
    pub fn on_or_after(self, boundary: NaiveDate) -> Decided {
        Decided::from_bounds(self.earliest() >= boundary, self.latest() < boundary)
    }

    /// Whether the date is strictly before `other`, each at its precision.
    pub fn before(self, other: PartialDate) -> Decided {
        Decided::from_bounds(
            self.latest() < other.earliest(),
            self.earliest() >= other.latest(),
        )
    }

    /// Plain Chinese for screens and paper: 1975年, 1975年3月, 1975年3月12日.
    pub fn to_zh(self) -> String {
        match self {
            PartialDate::Year(y) => format!("{y}年"),
            PartialDate::YearMonth(y, m) => format!("{y}年{m}月"),
            PartialDate::Day(d) => format!("{}年{}月{}日", d.year(), d.month(), d.day()),
        }
    }

    /// The precision in words, for staff: 仅年份, 年月, 完整日期.
    pub fn precision_zh(self) -> &'static str {
        match self {
            PartialDate::Year(_) => "只记得年份",
            PartialDate::YearMonth(..) => "只记得年月",
            PartialDate::Day(_) => "完整日期",
        }
    }
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    // Years are kept within EARLIEST_YEAR..=LATEST_YEAR+1 and months 1–12,
    // so this always exists; MIN only guards the impossible.
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

impl From<NaiveDate> for PartialDate {
    fn from(day: NaiveDate) -> PartialDate {
        PartialDate::Day(day)
    }
}

/// Orders by the earliest day meant, then the less precise first; an
/// order for lists, not a rule (rules use the [`Decided`] comparisons).
impl Ord for PartialDate {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.earliest(), self.latest()).cmp(&(other.earliest(), other.latest()))
    }
}

impl PartialOrd for PartialDate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for PartialDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PartialDate::Year(y) => write!(f, "{y:04}"),
            PartialDate::YearMonth(y, m) => write!(f, "{y:04}-{m:02}"),
            PartialDate::Day(d) => write!(f, "{}", d.format("%Y-%m-%d")),
        }
    }
}

impl FromStr for PartialDate {
    type Err = PartialDateSyntaxError;

    /// Exactly `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, with a date that exists.
    fn from_str(text: &str) -> Result<PartialDate, PartialDateSyntaxError> {
        let bad = || PartialDateSyntaxError(text.to_string());
        let digits =
            |part: &str, len: usize| part.len() == len && part.bytes().all(|b| b.is_ascii_digit());
        let parts: Vec<&str> = text.split('-').collect();
        let year = |part: &str| {
            if digits(part, 4) {
                part.parse::<i32>().map_err(|_| bad())
            } else {
                Err(bad())
            }
        };
        let month = |part: &str| {
            if digits(part, 2) {
                part.parse::<u32>()
                    .ok()
                    .filter(|m| (1..=12).contains(m))
                    .ok_or_else(bad)
            } else {
                Err(bad())
            }
        };
        match parts.as_slice() {
            [y] => Ok(PartialDate::Year(year(y)?)),
            [y, m] => Ok(PartialDate::YearMonth(year(y)?, month(m)?)),
            [y, m, d] if digits(d, 2) => {
                let day = d.parse::<u32>().map_err(|_| bad())?;
                NaiveDate::from_ymd_opt(year(y)?, month(m)?, day)
                    .map(PartialDate::Day)
                    .ok_or_else(bad)
            }
            _ => Err(bad()),
        }
    }
}

impl Serialize for PartialDate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PartialDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<PartialDate, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn typed_parts_keep_their_precision_or_say_why_not() {
        let cases: &[(&str, &str, &str, Result<PartialDate, DateInputError>)] = &[
            ("1975", "", "", Ok(PartialDate::Year(1975))),
            (" 1975 ", "3", "", Ok(PartialDate::YearMonth(1975, 3))),
            ("1975", "03", "12", Ok(PartialDate::Day(day(1975, 3, 12)))),
            ("", "3", "12", Err(DateInputError::NoYear)),
            ("75", "", "", Err(DateInputError::BadYear)),
            ("19755", "", "", Err(DateInputError::BadYear)),
            ("一九七五", "", "", Err(DateInputError::BadYear)),
            ("1975", "13", "", Err(DateInputError::BadMonth)),
            ("1975", "0", "1", Err(DateInputError::BadMonth)),
            ("1975", "", "12", Err(DateInputError::DayWithoutMonth)),
            ("1975", "2", "29", Err(DateInputError::BadDay)),
            ("1976", "2", "29", Ok(PartialDate::Day(day(1976, 2, 29)))),
            ("1975", "4", "31", Err(DateInputError::BadDay)),
        ];
        for (y, m, d, want) in cases {
            assert_eq!(&PartialDate::from_parts(y, m, d), want, "{y}/{m}/{d}");
        }
        for error in [
            DateInputError::NoYear,
            DateInputError::BadYear,
            DateInputError::BadMonth,
            DateInputError::BadDay,
            DateInputError::DayWithoutMonth,
        ] {
            assert!(!error.message_zh().is_ascii());
        }
    }

    #[test]
    fn old_full_dates_and_new_partial_ones_round_trip_as_text() {
        for text in ["1975", "1975-03", "1975-03-12", "2000-02-29"] {
            let date: PartialDate = serde_json::from_str(&format!("\"{text}\"")).unwrap();
            assert_eq!(serde_json::to_string(&date).unwrap(), format!("\"{text}\""));
        }
        for bad in [
            "",
            "75",
            "1975-3",
            "1975-13",
            "1975-02-30",
            "1975-03-12-01",
            "1975/03",
            "abcd",
        ] {
            assert!(bad.parse::<PartialDate>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn comparisons_decide_only_what_the_precision_allows() {
        let boundary = day(2001, 1, 19);
        let cases = [
            (PartialDate::Year(2000), Decided::No),
            (PartialDate::Year(2001), Decided::Undecided),
            (PartialDate::Year(2002), Decided::Yes),
            (PartialDate::YearMonth(2001, 1), Decided::Undecided),
            (PartialDate::YearMonth(2001, 2), Decided::Yes),
            (PartialDate::Day(day(2001, 1, 18)), Decided::No),
            (PartialDate::Day(day(2001, 1, 19)), Decided::Yes),
        ];
        for (date, want) in cases {
            assert_eq!(date.on_or_after(boundary), want, "{date}");
        }
        let end_1954 = day(1954, 10, 31);
        assert_eq!(
            PartialDate::Year(1954).on_or_before(end_1954),
            Decided::Undecided
        );
        assert_eq!(
            PartialDate::YearMonth(1954, 10).on_or_before(end_1954),
            Decided::Yes
        );
        assert_eq!(
            PartialDate::YearMonth(1954, 11).on_or_before(end_1954),
            Decided::No
        );
        assert_eq!(PartialDate::Year(1953).on_or_before(end_1954), Decided::Yes);
        assert_eq!(PartialDate::YearMonth(1976, 12).latest(), day(1976, 12, 31));
        assert_eq!(PartialDate::YearMonth(1976, 2).latest(), day(1976, 2, 29));
        let (y80, m80) = (PartialDate::Year(1980), PartialDate::YearMonth(1980, 5));
        assert_eq!(y80.before(m80), Decided::Undecided);
        assert_eq!(PartialDate::Year(1979).before(m80), Decided::Yes);
        assert_eq!(PartialDate::Year(1981).before(m80), Decided::No);
    }

    #[test]
    fn chinese_text_says_only_what_is_known() {
        assert_eq!(PartialDate::Year(1975).to_zh(), "1975年");
        assert_eq!(PartialDate::YearMonth(1975, 3).to_zh(), "1975年3月");
        assert_eq!(PartialDate::Day(day(1975, 3, 12)).to_zh(), "1975年3月12日");
    }

    proptest::proptest! {
        #[test]
        fn any_typed_parts_parse_or_error(y in ".{0,6}", m in ".{0,3}", d in ".{0,3}") {
            if let Ok(date) = PartialDate::from_parts(&y, &m, &d) {
                let back: PartialDate = date.to_string().parse().unwrap();
                proptest::prop_assert_eq!(back, date);
                proptest::prop_assert!(date.earliest() <= date.latest());
            }
        }

        #[test]
        fn any_text_parses_or_errors(text in ".{0,12}") {
            let _ = text.parse::<PartialDate>();
        }
    }
}

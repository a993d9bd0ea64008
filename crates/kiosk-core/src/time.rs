//! Calendar helpers: China Standard Time and ages. Pure: the moment is
//! always passed in, nothing here reads a clock.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Offset, Utc};

/// China Standard Time is UTC+8 all year (no daylight saving).
pub const CHINA_UTC_OFFSET_SECONDS: i32 = 8 * 3600;

/// The +08:00 offset. Receipts, screens and logs for staff show China
/// time, whatever time zone the machine is set to.
pub fn china_offset() -> FixedOffset {
    FixedOffset::east_opt(CHINA_UTC_OFFSET_SECONDS).unwrap_or_else(|| Utc.fix())
}

/// `at` on a clock in China.
pub fn in_china(at: DateTime<Utc>) -> DateTime<FixedOffset> {
    at.with_timezone(&china_offset())
}

/// The calendar day in China at `at`.
pub fn china_date(at: DateTime<Utc>) -> NaiveDate {
    in_china(at).date_naive()
}

/// Age in completed years on `date`; 0 if `date` is before the birth.
///
/// Someone born on 29 February becomes a year older on 1 March in common
/// years, as the anniversary has not been reached on 28 February.
pub fn age_on(birth: NaiveDate, date: NaiveDate) -> u32 {
    if date < birth {
        return 0;
    }
    let years = date.year() - birth.year();
    let had_birthday = (date.month(), date.day()) >= (birth.month(), birth.day());
    let age = if had_birthday { years } else { years - 1 };
    u32::try_from(age).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn china_time_is_eight_hours_ahead_of_utc() {
        let late_evening_utc = Utc.with_ymd_and_hms(2025, 12, 31, 17, 30, 0).unwrap();
        let shown = in_china(late_evening_utc);
        assert_eq!(shown.to_rfc3339(), "2026-01-01T01:30:00+08:00");
        assert_eq!(china_date(late_evening_utc), day(2026, 1, 1));
    }

    #[test]
    fn ages_count_completed_years() {
        let cases = [
            (day(1950, 3, 7), day(2025, 3, 6), 74),
            (day(1950, 3, 7), day(2025, 3, 7), 75),
            (day(1952, 2, 29), day(2025, 2, 28), 72),
            (day(1952, 2, 29), day(2025, 3, 1), 73),
            (day(1952, 2, 29), day(2024, 2, 29), 72),
            (day(2000, 1, 1), day(1999, 12, 31), 0),
        ];
        for (birth, on, age) in cases {
            assert_eq!(age_on(birth, on), age, "{birth} on {on}");
        }
    }
}

//! Calendar helpers: China Standard Time and ages. Pure: the moment is
//! always passed in, nothing here reads a clock.

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, Offset, Utc};

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

/// What a kiosk knows about the date without trusting its own clock: the
/// clock cannot be right before any of these, nor years after them (a flat
/// RTC battery starts the clock at 2000-01-01; a bad one can jump decades).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClockBounds {
    /// Moments that have certainly passed, with what they are (Chinese,
    /// for staff): the program's build date, the kiosk certificate's
    /// notBefore, the newest record queued under a good clock.
    pub floors: Vec<(DateTime<Utc>, &'static str)>,
    /// No clock past this is believed: the newest floor plus
    /// [`ClockBounds::MAX_AHEAD_YEARS`].
    pub max_ahead: Duration,
}

/// The kiosk's clock as judged against [`ClockBounds`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClockVerdict {
    Plausible,
    /// Earlier than something that has certainly happened.
    Behind {
        floor: DateTime<Utc>,
        what_zh: &'static str,
    },
    /// Years after the newest thing the kiosk knows of.
    FarAhead {
        newest: DateTime<Utc>,
    },
}

/// The code of the note a record made under a doubtful clock carries.
pub const CLOCK_SUSPECT: &str = "clock_suspect";

impl ClockBounds {
    /// A kiosk is updated (and its certificate renewed) long before this.
    pub const MAX_AHEAD_YEARS: i64 = 10;

    pub fn new(floors: Vec<(DateTime<Utc>, &'static str)>) -> ClockBounds {
        ClockBounds {
            floors,
            max_ahead: Duration::days(365 * Self::MAX_AHEAD_YEARS),
        }
    }

    /// Judges `now`. A floor that is itself past the ceiling of the others
    /// (a record stamped by a clock that ran decades ahead) is ignored.
    pub fn judge(&self, now: DateTime<Utc>) -> ClockVerdict {
        let hard = self.floors.iter().map(|(t, _)| *t).min();
        let believable = |t: DateTime<Utc>| hard.is_none_or(|h| t <= h + self.max_ahead);
        let newest = self
            .floors
            .iter()
            .filter(|(t, _)| believable(*t))
            .max_by_key(|(t, _)| *t);
        match newest {
            None => ClockVerdict::Plausible,
            Some((floor, what_zh)) if now < *floor => ClockVerdict::Behind {
                floor: *floor,
                what_zh,
            },
            Some((floor, _)) if now > *floor + self.max_ahead => {
                ClockVerdict::FarAhead { newest: *floor }
            }
            Some(_) => ClockVerdict::Plausible,
        }
    }
}

impl ClockVerdict {
    pub fn is_plausible(&self) -> bool {
        matches!(self, ClockVerdict::Plausible)
    }

    /// For staff: what is wrong and what to do, in Chinese.
    pub fn message_zh(&self, now: DateTime<Utc>) -> Option<String> {
        let shown = in_china(now).format("%Y年%-m月%-d日 %H:%M");
        let day = |t: DateTime<Utc>| in_china(t).format("%Y年%-m月%-d日").to_string();
        match self {
            ClockVerdict::Plausible => None,
            ClockVerdict::Behind { floor, what_zh } => Some(format!(
                "本机时钟不对：显示 {shown}，早于{what_zh}（{}）。可能是主板电池没电。请工作人员校准日期时间；校准前登记的记录会标明时间不可信",
                day(*floor)
            )),
            ClockVerdict::FarAhead { newest } => Some(format!(
                "本机时钟不对：显示 {shown}，比本机已知的最近日期（{}）晚了好几年。请工作人员校准日期时间；校准前登记的记录会标明时间不可信",
                day(*newest)
            )),
        }
    }

    /// One line for the start screen (the full words are on the staff
    /// device screen): short enough to leave the start button in view.
    pub fn notice_zh(&self) -> Option<String> {
        let day = |t: &DateTime<Utc>| in_china(*t).format("%Y年%-m月%-d日").to_string();
        let why = match self {
            ClockVerdict::Plausible => return None,
            ClockVerdict::Behind { floor, what_zh } => format!("早于{what_zh} {}", day(floor)),
            ClockVerdict::FarAhead { newest } => format!("比最近日期 {} 晚了好几年", day(newest)),
        };
        Some(format!("本机时钟不对（{why}），请校准日期时间"))
    }

    /// The non-blocking note a record made now carries, so the county
    /// does not take its times at face value.
    pub fn record_note(&self, now: DateTime<Utc>) -> Option<crate::Problem> {
        let shown = in_china(now).format("%Y-%m-%d %H:%M");
        let why = match self {
            ClockVerdict::Plausible => return None,
            ClockVerdict::Behind { what_zh, .. } => format!("早于{what_zh}"),
            ClockVerdict::FarAhead { .. } => "晚于本机已知的最近日期好几年".to_string(),
        };
        Some(
            crate::Problem::new(
                CLOCK_SUSPECT,
                format!("登记时本机时钟不对（显示 {shown}，{why}），记录中的时间不可信，请以县平台收到的时间为准"),
            )
            .at("meta.created_at")
            .with_severity(crate::Severity::NeedsChecking),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_clock_before_what_has_happened_or_years_ahead_is_not_believed() {
        let at = |y, m, d| Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap();
        let bounds = ClockBounds::new(vec![
            (at(2026, 11, 1), "本程序的制作日期"),
            (at(2026, 6, 1), "本机证书的生效日期"),
            (at(2026, 12, 2), "本机最近一条记录的时间"),
        ]);
        assert_eq!(bounds.judge(at(2026, 12, 6)), ClockVerdict::Plausible);
        assert_eq!(
            bounds.judge(at(2000, 1, 1)),
            ClockVerdict::Behind {
                floor: at(2026, 12, 2),
                what_zh: "本机最近一条记录的时间"
            }
        );
        assert_eq!(
            bounds.judge(at(2040, 1, 1)),
            ClockVerdict::FarAhead {
                newest: at(2026, 12, 2)
            }
        );
        // A record stamped in 2050 by a clock that ran ahead does not make
        // the right date look wrong.
        let poisoned = ClockBounds::new(vec![
            (at(2026, 11, 1), "本程序的制作日期"),
            (at(2050, 1, 1), "本机最近一条记录的时间"),
        ]);
        assert_eq!(poisoned.judge(at(2026, 12, 6)), ClockVerdict::Plausible);
        assert_eq!(
            ClockBounds::new(Vec::new()).judge(at(2000, 1, 1)),
            ClockVerdict::Plausible
        );
        let behind = bounds.judge(at(2000, 1, 1));
        let note = behind.record_note(at(2000, 1, 1)).unwrap();
        assert_eq!(note.code, CLOCK_SUSPECT);
        assert!(!note.blocks());
        assert!(
            note.message.contains("2000-01-01 08:00"),
            "{}",
            note.message
        );
        assert!(behind
            .message_zh(at(2000, 1, 1))
            .unwrap()
            .contains("本机时钟不对"));
        assert_eq!(ClockVerdict::Plausible.record_note(at(2026, 12, 6)), None);
    }

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

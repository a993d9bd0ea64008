//! The kiosk's time: a session clock that never jumps, and what the wall
//! clock is judged against.
//!
//! A kiosk whose RTC battery is flat starts at 2000-01-01, and the clock
//! may be corrected (by staff or NTP) while someone is registering. The
//! session's time-outs must neither fire at once on a jump forward nor
//! never fire after a jump back, so the session runs on [`SteadyClock`]:
//! the wall clock's reading at an anchor, moved on by a monotonic clock.
//! It takes the wall clock again only between sessions (no one at the
//! kiosk), so record times follow a corrected clock from the next person on.
//!
//! The wall clock itself is judged at start against what the kiosk knows
//! has happened ([`clock_bounds`]): the program's build date, its
//! certificate's notBefore, the newest record in its outbox. A clock that
//! fails is shown to staff and marks every record signed under it.

use std::cell::Cell;
use std::path::Path;
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::config::Config;
use crate::store::{ListFilter, Store};
use kiosk_core::session::DeviceLine;
use kiosk_core::time::{ClockBounds, ClockVerdict};

/// A wall clock moved on by a monotonic one; see the module comment.
pub struct SteadyClock {
    wall: Box<dyn Fn() -> DateTime<Utc>>,
    steady: Box<dyn Fn() -> StdDuration>,
    /// The wall clock's reading and the monotonic reading at that moment.
    anchor: Cell<(DateTime<Utc>, StdDuration)>,
}

/// Differences smaller than this are drift, not a jump worth a log line.
const JUMP: Duration = Duration::seconds(2);

impl SteadyClock {
    /// `wall` gives the wall clock, `steady` a monotonic reading (time since
    /// any fixed origin): tests pass virtual ones.
    pub fn new(
        wall: impl Fn() -> DateTime<Utc> + 'static,
        steady: impl Fn() -> StdDuration + 'static,
    ) -> SteadyClock {
        let anchor = (wall(), steady());
        SteadyClock {
            wall: Box::new(wall),
            steady: Box::new(steady),
            anchor: Cell::new(anchor),
        }
    }

    /// The system's wall clock and `Instant`.
    pub fn system() -> SteadyClock {
        let origin = Instant::now();
        SteadyClock::new(Utc::now, move || origin.elapsed())
    }

    pub fn now(&self) -> DateTime<Utc> {
        let (wall, steady) = self.anchor.get();
        let elapsed = (self.steady)().saturating_sub(steady);
        wall + Duration::from_std(elapsed).unwrap_or_default()
    }

    /// Takes the wall clock again (call only when no one is in a session);
    /// returns the jump when the wall clock moved other than by the time
    /// that passed.
    pub fn follow_wall(&self) -> Option<Duration> {
        let wall = (self.wall)();
        let jump = wall - self.now();
        self.anchor.set((wall, (self.steady)()));
        (jump.abs() > JUMP).then_some(jump)
    }
}

/// When this program was built (from `SOURCE_DATE_EPOCH` or the build
/// machine's clock; at worst older than the build, which is still a floor).
pub fn build_date() -> Option<DateTime<Utc>> {
    // `option_env!`: a build whose script did not set it has no floor here.
    let date =
        NaiveDate::parse_from_str(option_env!("VETERAN_KIOSK_BUILD_DATE")?, "%Y-%m-%d").ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc())
}

/// What the kiosk knows has happened: its build date, its certificate's
/// notBefore, and the newest record in the outbox (read, never created).
pub fn clock_bounds(config: &Config, outbox: &Path) -> ClockBounds {
    let mut floors = Vec::new();
    if let Some(built) = build_date() {
        floors.push((built, "本程序的制作日期"));
    }
    if let Some((not_before, _)) = config
        .tls
        .certificate_chain
        .first()
        .and_then(|der| trust::pki::certificate_validity(der.as_ref()))
    {
        floors.push((not_before, "本机证书的生效日期"));
    }
    if outbox.exists() {
        let newest = Store::open(outbox).and_then(|store| {
            store.list(&ListFilter {
                limit: Some(1),
                ..ListFilter::default()
            })
        });
        if let Some(entry) = newest.ok().and_then(|mut e| e.pop()) {
            floors.push((entry.signed_at, "本机最近一条记录的时间"));
        }
    }
    ClockBounds::new(floors)
}

/// The staff device screen's line about the clock.
pub fn clock_line(verdict: &ClockVerdict, now: DateTime<Utc>) -> DeviceLine {
    let shown = kiosk_core::time::in_china(now).format("%Y年%-m月%-d日 %H:%M");
    DeviceLine {
        name_zh: "本机时钟".into(),
        ok: verdict.is_plausible(),
        status_zh: verdict
            .message_zh(now)
            .unwrap_or_else(|| format!("正常（{shown}）")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use std::rc::Rc;

    #[test]
    fn the_session_clock_ignores_wall_jumps_until_it_is_told_to_follow() {
        let start = Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).unwrap();
        let wall = Rc::new(Cell::new(start));
        let steady = Rc::new(Cell::new(StdDuration::from_secs(100)));
        let (w, s) = (Rc::clone(&wall), Rc::clone(&steady));
        let clock = SteadyClock::new(move || w.get(), move || s.get());
        steady.set(StdDuration::from_secs(160));
        wall.set(Utc.with_ymd_and_hms(2026, 12, 6, 9, 0, 0).unwrap());
        assert_eq!(clock.now(), start + Duration::seconds(60));
        assert_eq!(
            clock.follow_wall(),
            Some(wall.get() - clock_now_before(start))
        );
        assert_eq!(clock.now(), wall.get());
        steady.set(StdDuration::from_secs(161));
        wall.set(wall.get() + Duration::milliseconds(1500));
        assert_eq!(clock.follow_wall(), None, "drift is no jump");
        assert_eq!(
            build_date().is_some(),
            option_env!("VETERAN_KIOSK_BUILD_DATE").is_some()
        );
    }

    fn clock_now_before(start: DateTime<Utc>) -> DateTime<Utc> {
        start + Duration::seconds(60)
    }
}

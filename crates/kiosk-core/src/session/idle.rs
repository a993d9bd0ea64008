//! Time-outs on `Tick`: the idle warning, the wipe after it, and the end
//! of the done screen.

use super::*;
use chrono::{DateTime, Duration, Utc};

impl Session {
    pub(super) fn idle_warning_after(&self) -> Duration {
        // Staff typing for someone are slower and are watching the screen.
        if self.helping.is_some() {
            self.settings.idle_warning_after * 3
        } else {
            self.settings.idle_warning_after
        }
    }

    pub(super) fn on_tick(&mut self, now: DateTime<Utc>, fx: &mut Vec<Effect>) {
        self.offer_manual_capture(now);
        if let Some(since) = self.done_since {
            if now - since >= self.settings.done_screen_for {
                self.reset(now, fx);
            }
            return;
        }
        if self.step == Step::Attract && self.staff.is_none() {
            return;
        }
        // Never wipe while a signed record is on its way to the store.
        if self.print == PrintState::Saving {
            return;
        }
        match self.warning_since {
            None if now - self.last_activity >= self.idle_warning_after() => {
                self.warning_since = Some(now);
                fx.push(Effect::Speak("您还在吗？请点击屏幕继续".into()));
            }
            Some(since) if now - since >= self.settings.warning_seconds() => self.wipe(now, fx),
            _ => {}
        }
    }
}

impl Session {
    /// A person the coach could not get to an automatic capture (cannot
    /// come closer, a face the detector misses) gets a shutter button (the
    /// button is the news: no notice, nothing said over the coach).
    fn offer_manual_capture(&mut self, now: DateTime<Utc>) {
        let waited_long_enough = self
            .portrait_since
            .is_some_and(|since| now - since >= self.settings.manual_capture_after);
        if self.step == Step::Portrait && waited_long_enough && !self.manual_capture_offered {
            self.manual_capture_offered = true;
        }
    }
}

/// Seconds left, rounded up: a countdown shows 30 until 30 s have passed.
pub(super) fn whole_seconds_left(left: Duration) -> i64 {
    let ms = left.num_milliseconds().max(0);
    (ms + 999) / 1000
}

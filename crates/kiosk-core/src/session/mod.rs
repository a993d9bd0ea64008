//! The kiosk flow as a pure state machine: `handle(event, now) -> effects`.
//!
//! The UI sends what the person did (and what devices reported) as
//! [`Event`]s; the session answers with [`Effect`]s for the shell to carry
//! out (read the card, save the draft, print, enqueue, wipe). Time is passed
//! in with every event, so idle time-outs are tested by jumping a virtual
//! clock, never by sleeping.
//!
//! The session holds the truth about the registration in progress; the UI
//! only shows [`Session::view`].

mod event;
mod flow;
mod idle;
mod returned;
mod staff;
mod view;

pub use event::{
    CardFailure, DeviceLine, Effect, Event, ManualIdentity, PhotoPurpose, PrintOutcome, QueueLine,
    ReturnedRecord,
};
use flow::PendingMark;
pub use flow::Step;
use staff::StaffState;
pub use staff::{PinPurpose, StaffCommand, StaffPanel, StaffSettings};
pub use view::{ChecklistItem, PageProblem, PrintState, StaffView, View};

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::record::{PhotoRef, Record, Township};
use crate::staff::{AuditAction, PinLock};

/// Settings the flow needs; from configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSettings {
    pub kiosk_id: String,
    pub township: Township,
    /// Quiet time before the "are you still there?" warning.
    pub idle_warning_after: Duration,
    /// How long the warning stays before everything is wiped (≥ 20 s).
    pub idle_wipe_after_warning: Duration,
    /// How long the done screen stays before returning to attract.
    pub done_screen_for: Duration,
    /// What each new person starts with (they can change it on screen).
    pub default_text_size: TextSize,
    pub default_high_contrast: bool,
    /// Without an automatic capture for this long on the portrait page, a
    /// "拍照" button is offered.
    pub manual_capture_after: Duration,
}

impl SessionSettings {
    /// The warning must leave a person at least this long to answer.
    pub const MIN_WARNING: i64 = 20;

    pub fn warning_seconds(&self) -> Duration {
        self.idle_wipe_after_warning
            .max(Duration::seconds(Self::MIN_WARNING))
    }
}

/// A returning person's answer to the county's record shown to them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returning {
    /// "没有变化": after the portrait, straight to the review.
    Confirmed,
    /// "有变化": every page, filled in from the county's record.
    Updating,
}

/// Text size the person chose; reset for the next person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TextSize {
    #[default]
    Normal,
    Large,
    ExtraLarge,
}

#[derive(Debug, Clone)]
pub struct Session {
    settings: SessionSettings,
    staff_settings: StaffSettings,
    step: Step,
    record: Option<Record>,
    found_in_base: Option<bool>,
    /// The county's record of this person, from the look-up, shown for the
    /// person to confirm or update.
    county_record: Option<Box<Record>>,
    /// What a returning person chose about the county's record.
    returning: Option<Returning>,
    /// A draft of an interrupted session was resumed: a look-up answer
    /// must not overwrite it.
    resumed_draft: bool,
    notice: Option<String>,
    print: PrintState,
    last_activity: DateTime<Utc>,
    warning_since: Option<DateTime<Utc>>,
    done_since: Option<DateTime<Utc>>,
    /// The id the registration in progress will carry.
    record_id: Uuid,
    confirming_cancel: bool,
    pending_card_photo: Option<PhotoRef>,
    /// Since when the portrait camera runs without a portrait.
    portrait_since: Option<DateTime<Utc>>,
    /// The "拍照" button is shown.
    manual_capture_offered: bool,
    came_from_review: bool,
    /// A certificate mark waiting for a staff PIN.
    pending_mark: Option<PendingMark>,
    text_size: TextSize,
    high_contrast: bool,
    help_open: bool,
    /// The staff member helping, in help-on-behalf mode.
    helping: Option<String>,
    staff: Option<StaffState>,
    /// Each staff member's wrong-PIN count and lock, by staff id. Survives
    /// wipes: a wipe must not reset a wrong-PIN count.
    pin_locks: BTreeMap<String, PinLock>,
    queue: Vec<QueueLine>,
    devices: Vec<DeviceLine>,
    /// The person's last record here, returned by the county; the record
    /// in progress supersedes it.
    returned: Option<ReturnedRecord>,
    /// The returned record staff chose to reopen with the next person.
    reopening: Option<Uuid>,
    /// What the kiosk's clock is judged against; a record signed under a
    /// clock that fails carries a note saying its times are doubtful.
    clock_bounds: Option<crate::time::ClockBounds>,
}

impl Session {
    pub fn new(settings: SessionSettings, now: DateTime<Utc>) -> Session {
        let (text_size, high_contrast) =
            (settings.default_text_size, settings.default_high_contrast);
        Session {
            settings,
            staff_settings: StaffSettings::default(),
            step: Step::Attract,
            record: None,
            found_in_base: None,
            county_record: None,
            returning: None,
            resumed_draft: false,
            notice: None,
            print: PrintState::NotStarted,
            last_activity: now,
            warning_since: None,
            done_since: None,
            record_id: Uuid::nil(),
            confirming_cancel: false,
            pending_card_photo: None,
            portrait_since: None,
            manual_capture_offered: false,
            came_from_review: false,
            pending_mark: None,
            text_size,
            high_contrast,
            help_open: false,
            helping: None,
            staff: None,
            pin_locks: BTreeMap::new(),
            queue: Vec::new(),
            devices: Vec::new(),
            returned: None,
            reopening: None,
            clock_bounds: None,
        }
    }

    /// Staff accounts and configuration facts; without accounts staff
    /// mode cannot be opened.
    pub fn with_staff(mut self, staff: StaffSettings) -> Session {
        self.staff_settings = staff;
        self
    }

    /// What the kiosk's clock is judged against (see [`crate::time::ClockBounds`]).
    pub fn with_clock_bounds(mut self, bounds: crate::time::ClockBounds) -> Session {
        self.clock_bounds = Some(bounds);
        self
    }

    /// The kiosk's clock at `now`, judged (plausible when no bounds are set).
    pub fn clock_verdict(&self, now: DateTime<Utc>) -> crate::time::ClockVerdict {
        self.clock_bounds
            .as_ref()
            .map_or(crate::time::ClockVerdict::Plausible, |b| b.judge(now))
    }

    /// Settings from a new configuration, taken without a restart: the
    /// time-outs count from the person's last tap as before, the staff PIN
    /// and configuration facts change at once, and a person halfway through
    /// keeps their text size and contrast (the new defaults are for the
    /// next person).
    pub fn reconfigure(&mut self, settings: SessionSettings, staff: StaffSettings) {
        self.settings = settings;
        self.staff_settings = staff;
        if self.step == Step::Attract {
            self.text_size = self.settings.default_text_size;
            self.high_contrast = self.settings.default_high_contrast;
        }
    }

    pub fn step(&self) -> Step {
        self.step
    }

    pub fn record(&self) -> Option<&Record> {
        self.record.as_ref()
    }

    /// Whether the staff PIN pad or staff panel is open.
    pub fn staff_open(&self) -> bool {
        self.staff.is_some()
    }

    pub fn settings(&self) -> &SessionSettings {
        &self.settings
    }

    /// Handle one event at `now`; returns what the shell must do.
    pub fn handle(&mut self, event: Event, now: DateTime<Utc>) -> Vec<Effect> {
        let step_before = self.step;
        let fx = self.handle_on_step(event, now);
        // Help belongs to one page: a new page (or a wipe) closes it.
        if self.step != step_before {
            self.help_open = false;
        }
        fx
    }

    fn handle_on_step(&mut self, event: Event, now: DateTime<Utc>) -> Vec<Effect> {
        let mut fx = Vec::new();
        if matches!(event, Event::Tick) {
            self.on_tick(now, &mut fx);
            return fx;
        }
        // Device answers are not the person acting: they must not keep an
        // abandoned session alive.
        let by_person = !matches!(
            event,
            Event::LookUpAnswered(_)
                | Event::DraftFound(_)
                | Event::ReturnedRecordFound(_)
                | Event::Enqueued(_)
                | Event::DraftNotSaved { .. }
                | Event::QueueLoaded(_)
                | Event::DevicesChecked(_)
                | Event::SyncFinished { .. }
                | Event::CardFailed(_)
                | Event::CardPortraitDecoded { .. }
                | Event::AutoCaptureUnavailable { .. }
        );
        if by_person {
            self.last_activity = now;
            self.warning_since = None;
        }
        self.on_event(event, now, &mut fx);
        fx
    }

    /// End of a session without signing: wipe screen, memory and draft.
    fn wipe(&mut self, now: DateTime<Utc>, fx: &mut Vec<Effect>) {
        if let Some(r) = &self.record {
            fx.push(Effect::WipeDraft(r.meta.record_id));
        }
        self.reset(now, fx);
    }

    fn reset(&mut self, now: DateTime<Utc>, fx: &mut Vec<Effect>) {
        if self.step == Step::InsertCard {
            fx.push(Effect::StopCardReader);
        }
        if self.step == Step::Portrait {
            fx.push(Effect::StopCamera);
        }
        if self.helping.is_some() {
            self.audit(AuditAction::HelpOnBehalfEnded, now, fx);
        }
        // Everything of the person goes; the PIN lockout and staff settings stay.
        let settings = self.settings.clone();
        let staff_settings = std::mem::take(&mut self.staff_settings);
        let pin_locks = std::mem::take(&mut self.pin_locks);
        let clock_bounds = self.clock_bounds.take();
        *self = Session::new(settings, now).with_staff(staff_settings);
        self.pin_locks = pin_locks;
        self.clock_bounds = clock_bounds;
    }
}

#[cfg(test)]
mod tests;

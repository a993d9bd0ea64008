//! What the kiosk needs from the outside world, behind one small trait.
//!
//! The session asks for [`Effect`]s; a [`Shell`] carries them out (devices,
//! store, platform, speech) and reports what happened as [`Event`]s on the
//! next [`Shell::poll`]. [`SimulatedShell`] does it all in memory, with
//! a card reader, camera and printer that can be told to fail: it runs the
//! kiosk without hardware and drives the UI tests.

pub mod camera;
pub mod devices;
pub mod records;
pub mod status;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use kiosk_core::card::CardRead;
use kiosk_core::id_number::mask_id_text;
use kiosk_core::record::{DocumentPhoto, PhotoRef, Record, RecordState};
use kiosk_core::session::{
    CardFailure, DeviceLine, Effect, Event, PhotoPurpose, PrintOutcome, QueueLine, ReturnedRecord,
};
use kiosk_core::staff::AuditEntry;

/// The one camera picture type, and what the portrait page shows, live
/// beside the camera (the UI draws them without importing the shell).
pub use crate::devices::camera::{CameraView, Frame};

/// Photos of the session in progress, by SHA-256: the camera and the
/// card reader put them in, drafts and the outbox take them, the end of a
/// session clears them.
pub type SessionPhotos = std::sync::Arc<std::sync::Mutex<crate::store::Blobs>>;

/// What a [`Waker`] calls: must return at once (it runs on a worker thread).
pub type WakeHook = std::sync::Arc<dyn Fn() + Send + Sync>;

/// Lets a worker thread tell the UI loop that an answer or a new camera
/// picture is waiting, so that it is taken at once instead of at the next
/// tick (a card read shown up to a tick late, a preview at four frames a
/// second). Until the UI sets a hook, waking does nothing and answers wait
/// for the tick as before.
#[derive(Clone, Default)]
pub struct Waker {
    hook: std::sync::Arc<std::sync::Mutex<Option<WakeHook>>>,
}

impl Waker {
    pub fn set(&self, hook: WakeHook) {
        match self.hook.lock() {
            Ok(mut slot) => *slot = Some(hook),
            Err(poisoned) => *poisoned.into_inner() = Some(hook),
        }
    }

    pub fn wake(&self) {
        let hook = match self.hook.lock() {
            Ok(slot) => slot.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        if let Some(hook) = hook {
            hook();
        }
    }
}

impl std::fmt::Debug for Waker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Waker")
    }
}

pub trait Shell {
    /// Start carrying out `effect`; answers come back through [`Shell::poll`].
    fn execute(&mut self, effect: Effect, now: DateTime<Utc>);
    /// What devices, store and platform reported since the last poll.
    fn poll(&mut self, now: DateTime<Utc>) -> Vec<Event>;
    /// The live camera picture and coach advice, while the camera runs
    /// (and the frozen picture once the portrait is taken).
    fn camera(&self) -> Option<CameraView>;
    /// A fresh id for a new registration.
    fn new_record_id(&mut self) -> Uuid;
    /// The person's session ended (wiped, cancelled or done): drop
    /// everything of theirs the shell still holds (photos, a prompt still
    /// being spoken).
    fn session_ended(&mut self) {}
    /// Lines for the staff device page about what this shell runs besides
    /// the card reader and printer (camera, outbox, platform, speech).
    fn device_lines(&self) -> Vec<DeviceLine> {
        Vec::new()
    }
    /// A new configuration taken without a restart.
    fn reconfigure(&mut self, _config: &crate::config::Config) {}
    /// Called from worker threads whenever something waits for
    /// [`Shell::poll`] or [`Shell::camera`] changed. A shell that answers
    /// only on the UI thread (the simulated one) never needs it.
    fn set_wake(&mut self, _hook: WakeHook) {}
    /// The live preview's size on screen in physical pixels (`None`
    /// before the portrait page was laid out), so frames arrive at it.
    fn set_preview_size(&mut self, _size: Option<(u32, u32)>) {}
}

/// How [`SimState::spoken`] shows an `Effect::StopSpeaking`.
pub const SPEECH_STOPPED: &str = "<stopped>";

/// The state of the simulated world, shared with whoever drives it (tests,
/// the demo) through [`SimulatedShell::state`].
#[derive(Debug)]
pub struct SimState {
    /// Cards that will be "placed" on the reader, in order. The reader only
    /// answers while armed.
    pub cards: VecDeque<Result<CardRead, CardFailure>>,
    /// Read whenever `cards` is empty (the demo's sample card).
    pub demo_card: Option<CardRead>,
    pub card_delay: Duration,
    /// The printer's next answers; when empty it prints.
    pub print_outcomes: VecDeque<PrintOutcome>,
    pub print_delay: Duration,
    /// The store's next answers to `Enqueue`; when empty it stores.
    pub enqueue_results: VecDeque<Result<(), String>>,
    /// The county platform's records, for look-ups.
    pub county_base: Vec<Record>,
    pub drafts: Vec<Record>,
    /// Records the county returned, by the ID number they were for (the
    /// real outbox finds them by a keyed tag instead).
    pub returned: Vec<(String, ReturnedRecord)>,
    pub enqueued: Vec<Record>,
    pub printed: Vec<Record>,
    pub audit: Vec<AuditEntry>,
    /// Prompts in the order spoken; [`SPEECH_STOPPED`] where speech was cut.
    pub spoken: Vec<String>,
    pub devices: Vec<DeviceLine>,
    /// The photo coach's advice, one step per second, then capture.
    pub coach_script: Vec<(String, bool)>,
    /// What a portrait taken with "拍照" still has wrong with it.
    pub manual_portrait_issues: Vec<String>,
    pub synced: usize,
    /// How many times the kiosk told the shell a session ended.
    pub sessions_ended: usize,
    reader_armed_at: Option<DateTime<Utc>>,
    camera_started_at: Option<DateTime<Utc>>,
    camera_view: Option<CameraView>,
    due: Vec<(DateTime<Utc>, Event)>,
    next_id: u128,
}

impl Default for SimState {
    fn default() -> Self {
        SimState {
            cards: VecDeque::new(),
            demo_card: None,
            card_delay: Duration::seconds(2),
            print_outcomes: VecDeque::new(),
            print_delay: Duration::seconds(2),
            enqueue_results: VecDeque::new(),
            county_base: Vec::new(),
            drafts: Vec::new(),
            returned: Vec::new(),
            enqueued: Vec::new(),
            printed: Vec::new(),
            audit: Vec::new(),
            spoken: Vec::new(),
            devices: vec![
                device(status::READER_ZH, true, "正常（模拟）"),
                device(status::CAMERA_ZH, true, "正常（模拟）"),
                device(status::PRINTER_ZH, true, "正常（模拟）"),
            ],
            coach_script: vec![
                ("请再靠近一点".into(), false),
                ("请把头摆正，看着摄像头".into(), false),
                ("很好，请保持不动".into(), true),
            ],
            manual_portrait_issues: vec!["头部太小：头部要占照片高度的三分之二以上。".into()],
            synced: 0,
            sessions_ended: 0,
            reader_armed_at: None,
            camera_started_at: None,
            camera_view: None,
            due: Vec::new(),
            next_id: 1,
        }
    }
}

fn device(name: &str, ok: bool, status: &str) -> DeviceLine {
    DeviceLine {
        name_zh: name.into(),
        ok,
        status_zh: status.into(),
    }
}

/// A shell with simulated devices and an in-memory store.
#[derive(Debug, Clone, Default)]
pub struct SimulatedShell {
    state: Rc<RefCell<SimState>>,
}

impl SimulatedShell {
    pub fn new() -> SimulatedShell {
        SimulatedShell::default()
    }

    /// The simulated world, to script it and to look at what happened.
    pub fn state(&self) -> Rc<RefCell<SimState>> {
        Rc::clone(&self.state)
    }
}

/// A stand-in photo: the hash of some bytes, as the blob store would give.
fn photo_ref(seed: &str, bytes: u64) -> PhotoRef {
    PhotoRef {
        sha256: trust::sha256_hex(seed.as_bytes()),
        bytes,
    }
}

/// "王**，****001X": enough for staff to recognise, little for onlookers.
pub fn masked_label(record: &Record) -> String {
    let name: String = record
        .identity
        .name
        .chars()
        .enumerate()
        .map(|(i, c)| if i == 0 { c } else { '*' })
        .collect();
    // The last 4 of the masked number: a short or garbled one shows `*`.
    let masked: Vec<char> = mask_id_text(&record.identity.id_number).chars().collect();
    let tail: String = masked[masked.len().saturating_sub(4)..].iter().collect();
    format!("{name}，****{tail}")
}

impl Shell for SimulatedShell {
    fn execute(&mut self, effect: Effect, now: DateTime<Utc>) {
        let mut s = self.state.borrow_mut();
        match effect {
            Effect::WaitForCard => s.reader_armed_at = Some(now),
            Effect::StopCardReader => s.reader_armed_at = None,
            Effect::LookUpPerson(id) => {
                let found = s
                    .county_base
                    .iter()
                    .find(|r| r.identity.id_number == id.as_str())
                    .cloned()
                    .map(Box::new);
                s.due.push((now, Event::LookUpAnswered(found)));
            }
            Effect::LoadDraft(id) => {
                let found = s
                    .drafts
                    .iter()
                    .find(|r| r.identity.id_number == id.as_str())
                    .cloned()
                    .map(Box::new);
                s.due.push((now, Event::DraftFound(found)));
                let returned = s
                    .returned
                    .iter()
                    .find(|(number, _)| number == id.as_str())
                    .map(|(_, returned)| returned.clone());
                if let Some(returned) = returned {
                    s.due.push((now, Event::ReturnedRecordFound(returned)));
                }
            }
            Effect::SaveDraft(record) => {
                let record = *record;
                s.drafts
                    .retain(|d| d.meta.record_id != record.meta.record_id);
                s.drafts.push(record);
            }
            Effect::WipeDraft(id) => s.drafts.retain(|d| d.meta.record_id != id),
            Effect::StartCamera => {
                s.camera_started_at = Some(now);
                s.camera_view = None;
            }
            Effect::StopCamera => s.camera_started_at = None,
            Effect::CapturePortraitNow => {
                let n = s.next_id;
                s.next_id += 1;
                let step = s
                    .camera_started_at
                    .map_or(0, |started| (now - started).num_seconds());
                s.camera_started_at = None;
                s.camera_view = Some(CameraView {
                    frame: Some(synthetic_frame(usize::try_from(step).unwrap_or(0))),
                    hint_zh: "照片已拍好".into(),
                    ok: false,
                });
                let photo = photo_ref(&format!("portrait-{n}"), 120_000);
                let event = if s.manual_portrait_issues.is_empty() {
                    Event::PortraitTaken(photo)
                } else {
                    Event::PortraitTakenWithIssues {
                        photo,
                        issues_zh: s.manual_portrait_issues.clone(),
                    }
                };
                s.due.push((now, event));
            }
            Effect::CapturePhoto(purpose) => {
                let n = s.next_id;
                s.next_id += 1;
                let event = match purpose {
                    PhotoPurpose::IdCard => {
                        Event::CardPhotoTaken(photo_ref(&format!("card-{n}"), 30_000))
                    }
                    PhotoPurpose::Document { kind, page } => Event::DocumentTaken(DocumentPhoto {
                        kind,
                        photo: photo_ref(&format!("doc-{n}"), 180_000),
                        page,
                    }),
                };
                s.due.push((now, event));
            }
            Effect::PrintReceipt(valid) => {
                let outcome = s
                    .print_outcomes
                    .pop_front()
                    .unwrap_or(PrintOutcome::Printed);
                if outcome == PrintOutcome::Printed {
                    s.printed.push(valid.record().clone());
                }
                let at = now + s.print_delay;
                s.due.push((at, Event::Printed(outcome)));
            }
            Effect::Enqueue(valid) => {
                let result = s.enqueue_results.pop_front().unwrap_or(Ok(()));
                if result.is_ok() {
                    s.enqueued.push(valid.into_record());
                }
                s.due.push((now, Event::Enqueued(result)));
            }
            Effect::Speak(text) => s.spoken.push(text),
            Effect::StopSpeaking => s.spoken.push(SPEECH_STOPPED.into()),
            Effect::Audit(entry) => s.audit.push(entry),
            Effect::LoadQueue => {
                let mut lines: Vec<QueueLine> = s
                    .enqueued
                    .iter()
                    .rev()
                    .map(|r| QueueLine {
                        record_id: r.meta.record_id,
                        state: r.meta.state,
                        queued_at: r.meta.updated_at,
                        label: masked_label(r),
                        reason_zh: None,
                    })
                    .collect();
                // Returned records not replaced by one queued since.
                lines.extend(
                    s.returned
                        .iter()
                        .filter(|(_, r)| {
                            !s.enqueued
                                .iter()
                                .any(|e| e.meta.supersedes == Some(r.record_id))
                        })
                        .map(|(number, r)| QueueLine {
                            record_id: r.record_id,
                            state: RecordState::Rejected,
                            queued_at: now,
                            label: format!("{}　{}", r.record_number, mask_id_text(number)),
                            reason_zh: Some(r.reasons_zh.join("；")),
                        }),
                );
                s.due.push((now, Event::QueueLoaded(lines)));
            }
            Effect::CheckDevices => {
                let lines = s.devices.clone();
                s.due.push((now, Event::DevicesChecked(lines)));
            }
            Effect::SyncNow => {
                let waiting = s
                    .enqueued
                    .iter()
                    .filter(|r| r.meta.state == RecordState::Signed)
                    .count();
                s.synced += waiting;
                for r in s.enqueued.iter_mut() {
                    if r.meta.state == RecordState::Signed {
                        r.meta.state = RecordState::Sent;
                    }
                }
                s.due.push((
                    now,
                    Event::SyncFinished {
                        message_zh: format!("已上传 {waiting} 条记录（模拟平台）"),
                    },
                ));
            }
        }
    }

    fn poll(&mut self, now: DateTime<Utc>) -> Vec<Event> {
        let mut s = self.state.borrow_mut();
        let mut out = Vec::new();
        if let Some(armed) = s.reader_armed_at {
            if now - armed >= s.card_delay {
                let next = s.cards.pop_front().or_else(|| s.demo_card.clone().map(Ok));
                if let Some(read) = next {
                    s.reader_armed_at = None;
                    out.push(match read {
                        Ok(card) => Event::CardRead(Box::new(card)),
                        Err(failure) => Event::CardFailed(failure),
                    });
                }
            }
        }
        if let Some(started) = s.camera_started_at {
            let step = usize::try_from((now - started).num_seconds()).unwrap_or(0);
            let frame = Some(synthetic_frame(step));
            match s.coach_script.get(step).cloned() {
                Some((hint, ok)) => {
                    s.camera_view = Some(CameraView {
                        frame,
                        hint_zh: hint,
                        ok,
                    })
                }
                None => {
                    s.camera_started_at = None;
                    s.camera_view = Some(CameraView {
                        frame,
                        hint_zh: "照片已拍好".into(),
                        ok: true,
                    });
                    let n = s.next_id;
                    s.next_id += 1;
                    out.push(Event::PortraitTaken(photo_ref(
                        &format!("portrait-{n}"),
                        120_000,
                    )));
                }
            }
        }
        let (ready, later): (Vec<_>, Vec<_>) = s.due.drain(..).partition(|(at, _)| *at <= now);
        s.due = later;
        out.extend(ready.into_iter().map(|(_, e)| e));
        out
    }

    fn camera(&self) -> Option<CameraView> {
        self.state.borrow().camera_view.clone()
    }

    fn session_ended(&mut self) {
        let mut s = self.state.borrow_mut();
        s.sessions_ended += 1;
        s.camera_view = None;
        s.camera_started_at = None;
    }

    fn new_record_id(&mut self) -> Uuid {
        let mut s = self.state.borrow_mut();
        let id = Uuid::from_u128(0x5eed_0000_0000_0000_0000_0000_0000_0000 | s.next_id);
        s.next_id += 1;
        id
    }
}

/// A calm stand-in camera picture: a head and shoulders that come closer
/// and centre as the coach's steps go by.
pub fn synthetic_frame(step: usize) -> Frame {
    let (width, height) = (300u32, 400u32);
    let closeness = (step.min(3) as f32) / 3.0;
    let head_r = 60.0 + 30.0 * closeness;
    let cx = 150.0 - 30.0 * (1.0 - closeness);
    let cy = 150.0 + 10.0 * (1.0 - closeness);
    let mut rgb = Vec::with_capacity((width * height * 3) as usize);
    for y in 0..height {
        for x in 0..width {
            let (fx, fy) = (x as f32, y as f32);
            let dx = (fx - cx) / head_r;
            let dy = (fy - cy) / (head_r * 1.25);
            let in_head = dx * dx + dy * dy <= 1.0;
            let shoulder_top = cy + head_r * 1.35;
            let sx = (fx - cx) / (head_r * 2.4);
            let in_shoulders = fy > shoulder_top
                && sx * sx + ((fy - height as f32) / (height as f32 - shoulder_top)).powi(2) <= 1.2;
            let pixel = if in_head {
                [224, 188, 160]
            } else if in_shoulders {
                [46, 74, 112]
            } else {
                // Light grey wall with a soft vertical gradient.
                let shade = 215 - (y * 25 / height) as u8;
                [shade, shade, shade.saturating_add(6)]
            };
            rgb.extend_from_slice(&pixel);
        }
    }
    Frame { width, height, rgb }
}

/// What the shell parts' tests share.
#[cfg(test)]
pub(crate) mod test_support {
    use chrono::{DateTime, Utc};
    use kiosk_core::record::ValidRecord;
    use kiosk_core::session::{Session, Step};
    use uuid::Uuid;

    use crate::kiosk::stand_in;

    /// A complete record, made by running the session to its review.
    pub(crate) fn valid_record() -> ValidRecord {
        let now = Utc::now();
        let s = complete_session(now);
        let record = s.record().unwrap().clone();
        kiosk_core::record::validate(&record, now.date_naive()).unwrap()
    }

    /// A session at its review page, the record complete.
    pub(crate) fn session_at_review(now: DateTime<Utc>) -> Session {
        let mut s = complete_session(now);
        for _ in 0..5 {
            if s.step() == Step::Review {
                break;
            }
            s.handle(kiosk_core::session::Event::Next, now);
        }
        assert_eq!(s.step(), Step::Review);
        s
    }

    /// A session whose record has everything, on the last form page.
    fn complete_session(now: DateTime<Utc>) -> Session {
        use kiosk_core::forms::FieldEdit;
        use kiosk_core::session::Event as E;
        let mut s = Session::new(stand_in::session_settings(), now);
        let photo = |n: u8| kiosk_core::record::PhotoRef {
            sha256: format!("{n:02x}").repeat(32),
            bytes: 1000,
        };
        let field = |key: &str, edit: FieldEdit| E::FieldEdited {
            key: key.into(),
            edit,
        };
        let events = vec![
            E::Start {
                record_id: Uuid::from_u128(7),
            },
            E::CardRead(Box::new(stand_in::sample_card().unwrap())),
            E::Next,
            E::PortraitTaken(photo(1)),
            E::Next,
            E::ToggleCategory(kiosk_core::category::Category::MartyrFamily),
            E::Next,
            field("relation", FieldEdit::Choose(0)),
            field("deceased_name", FieldEdit::Text("王大山".into())),
            field("receives_pension", FieldEdit::Choose(0)),
            E::Next,
            E::DocumentTaken(kiosk_core::record::DocumentPhoto {
                kind: kiosk_core::category::DocumentKind::HouseholdRegister,
                photo: photo(2),
                page: 1,
            }),
            E::DocumentTaken(kiosk_core::record::DocumentPhoto {
                kind: kiosk_core::category::DocumentKind::MartyrCertificate,
                photo: photo(3),
                page: 1,
            }),
            E::Next,
            field("work", FieldEdit::Choose(4)),
            field("monthly_income_yuan", FieldEdit::Text("2000".into())),
            field("pension_insurance", FieldEdit::Choose(2)),
            field("medical_insurance", FieldEdit::Choose(1)),
            field("housing", FieldEdit::Choose(0)),
            field("social_assistance", FieldEdit::Toggle(4)),
            field("state_benefits", FieldEdit::Toggle(0)),
            field("disability_subsidies", FieldEdit::Toggle(2)),
        ];
        for e in events {
            s.handle(e, now);
        }
        s
    }
}

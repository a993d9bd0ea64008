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

use chrono::{DateTime, Duration, NaiveDate, Utc};
use uuid::Uuid;

use crate::card::{CardRead, Nation};
use crate::category::{self, Category, DocumentKind, OptionState};
use crate::forms::{self, FieldEdit};
use crate::id_number::IdNumber;
use crate::record::{
    self, CardIdentity, CategoryDetails, DocumentPhoto, Identity, IdentitySource, LivingConditions,
    Meta, Need, NeedArea, PhotoRef, Photos, Record, RecordState, Signature, Township, ValidRecord,
};
use crate::staff::{AuditAction, AuditEntry, PinLock, PinOutcome, StaffAccount};
use crate::Problem;

/// The screens of the flow, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    /// Campaign notice; a tap starts.
    Attract,
    /// "请将身份证放在读卡区".
    InsertCard,
    /// Staff types the identity from the card (card could not be read).
    ManualIdentity,
    /// Identity shown, with the county's existing record if any.
    Identity,
    Portrait,
    Categories,
    /// The details page of the n-th chosen category.
    CategoryDetails(usize),
    Documents,
    Living,
    Needs,
    Review,
    /// Receipt printing and signing.
    Sign,
    Done,
}

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
}

impl SessionSettings {
    /// The warning must leave a person at least this long to answer.
    pub const MIN_WARNING: i64 = 20;

    pub fn warning_seconds(&self) -> Duration {
        self.idle_wipe_after_warning
            .max(Duration::seconds(Self::MIN_WARNING))
    }
}

/// Why a card read did not give an identity; from the reader device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardFailure {
    /// Stable code for logs, e.g. `card_removed`, `sam_error`, `timeout`.
    pub code: String,
    /// Plain Chinese for the person, e.g. "没有读到身份证，请重新放置".
    pub message_zh: String,
}

/// The printer's answer to a print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrintOutcome {
    Printed,
    /// Paper out, cover open, offline…: the message is shown, staff called.
    Failed {
        code: String,
        message_zh: String,
    },
}

/// Text size the person chose; reset for the next person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TextSize {
    #[default]
    Normal,
    Large,
    ExtraLarge,
}

/// What the staff overlay shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaffPanel {
    /// The PIN pad, opened for a purpose.
    Pin(PinPurpose),
    Menu,
    Queue,
    Devices,
    About,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinPurpose {
    OpenStaffMode,
    /// A staff member confirms the person signed the printed receipt.
    WitnessSignature,
}

/// A button of the staff menu.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaffCommand {
    /// Type the identity from the card (card unreadable, no reader).
    ManualEntry,
    /// Staff fill in the form for the person (home visits, poor sight).
    ToggleHelpOnBehalf,
    ShowQueue,
    ShowDevices,
    ShowAbout,
    SyncNow,
    /// Back to the staff menu from a sub-page.
    Menu,
    Close,
    /// End the person's session (wipes it).
    CancelSession,
}

/// What a still photo is taken for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoPurpose {
    /// The ID card itself, when the identity is typed.
    IdCard,
    Document(DocumentKind),
}

/// One record in the local queue, for the staff queue view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueLine {
    pub record_id: Uuid,
    pub state: RecordState,
    pub queued_at: DateTime<Utc>,
    /// Enough for staff to recognise the record (e.g. "张**, ****1234").
    pub label: String,
    /// The county's reason, for a rejected record.
    pub reason_zh: Option<String>,
}

/// One device's state, for the staff device view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceLine {
    pub name_zh: String,
    pub ok: bool,
    pub status_zh: String,
}

/// Staff accounts and what staff mode shows about configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StaffSettings {
    pub accounts: Vec<StaffAccount>,
    pub config_version: String,
    pub config_hash: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Any tap on the attract screen. The shell supplies a fresh UUID for
    /// the registration (keeps the core free of randomness).
    Start {
        record_id: Uuid,
    },
    CardRead(Box<CardRead>),
    /// After `CardRead`: the chip's portrait, decoded by the vendor's WLT
    /// library into a JPEG (`photo`), or why it was not (`note_zh`).
    CardPortraitDecoded {
        photo: Option<PhotoRef>,
        note_zh: String,
    },
    CardFailed(CardFailure),
    /// Staff typed the identity from the card; the card photo must have
    /// been taken on the same page (`CardPhotoTaken`).
    ManualIdentityEntered(Box<ManualIdentity>),
    /// Answer to [`Effect::LookUpPerson`]: the county's existing record, if any.
    LookUpAnswered(Option<Box<Record>>),
    /// Answer to [`Effect::LoadDraft`]: a draft of this person within the window.
    DraftFound(Option<Box<Record>>),
    PhoneEntered(String),
    CurrentAddressEntered(String),
    PortraitTaken(PhotoRef),
    RetakePortrait,
    ToggleCategory(Category),
    CategoryDetailsEdited {
        index: usize,
        details: CategoryDetails,
    },
    /// One field of the `index`-th category's details page.
    DetailsFieldEdited {
        index: usize,
        key: String,
        edit: FieldEdit,
    },
    /// Ask for a still photo (card, certificate); answered by
    /// `CardPhotoTaken` / `DocumentTaken` or `PhotoFailed`.
    TakePhoto(PhotoPurpose),
    CardPhotoTaken(PhotoRef),
    DocumentTaken(DocumentPhoto),
    DocumentRemoved(usize),
    /// The camera could not give a photo; plain words for the person.
    PhotoFailed {
        message_zh: String,
    },
    LivingEdited(LivingConditions),
    LivingFieldEdited {
        key: String,
        edit: FieldEdit,
    },
    /// One field of the page on screen (a category's details or living
    /// conditions); routed by the current step.
    FieldEdited {
        key: String,
        edit: FieldEdit,
    },
    NeedsEdited(Vec<Need>),
    /// Add or remove a need area (nothing is chosen to begin with).
    NeedToggled(NeedArea),
    NeedText {
        area: NeedArea,
        text: String,
    },
    Next,
    Back,
    /// A tap on a problem in the review jumps to its field's page.
    JumpToField(String),
    /// After a jump: straight back to the review.
    BackToReview,
    /// Print the receipt (from review, or retry after a printer fault).
    PrintRequested,
    Printed(PrintOutcome),
    /// Staff confirms the person signed the printed receipt.
    SignatureConfirmed {
        staff_id: String,
    },
    /// "工作人员确认" on the signing page: opens the PIN pad.
    WitnessRequested,
    /// Answer to [`Effect::Enqueue`]: durably stored (or not).
    Enqueued(Result<(), String>),
    /// The person answered the idle warning.
    StillHere,
    /// "结束登记" tapped: ask before wiping.
    CancelRequested,
    /// The person or staff abandons the session.
    Cancel,
    ChooseTextSize(TextSize),
    SetHighContrast(bool),
    /// "帮助" tapped: open the help panel of this page and read `text` (the
    /// page's help text, which the UI holds from configuration) aloud.
    HelpRequested {
        text: String,
    },
    /// The help panel was closed.
    HelpClosed,
    /// The discreet staff gesture (e.g. a long press on the logo).
    StaffGesture,
    PinEntered(String),
    PinCancelled,
    Staff(StaffCommand),
    /// Answer to [`Effect::LoadQueue`].
    QueueLoaded(Vec<QueueLine>),
    /// Answer to [`Effect::CheckDevices`].
    DevicesChecked(Vec<DeviceLine>),
    /// Answer to [`Effect::SyncNow`], in plain words.
    SyncFinished {
        message_zh: String,
    },
    /// Sent periodically so that time-outs fire.
    Tick,
}

/// The identity as staff typed it from the card, still as text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ManualIdentity {
    pub name: String,
    /// 民族 by name ("汉", "汉族") or two-digit code.
    pub nation: String,
    pub address: String,
    pub id_number: String,
    pub authority: String,
    /// `YYYY-MM-DD`, `YYYYMMDD` or `YYYY.MM.DD`.
    pub valid_from: String,
    /// A date as above, or 长期.
    pub valid_to: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Arm the card reader and wait for a card.
    WaitForCard,
    StopCardReader,
    /// Ask the county platform whether it knows this person.
    LookUpPerson(IdNumber),
    /// Ask the store for a draft of this person inside the resume window.
    LoadDraft(IdNumber),
    /// Persist the draft (encrypted at rest by the store).
    SaveDraft(Box<Record>),
    /// Remove the draft of this session.
    WipeDraft(Uuid),
    /// Live preview with the photo coach; it captures by itself when the
    /// picture is right and answers `PortraitTaken`.
    StartCamera,
    StopCamera,
    /// Take one still photo; answer `CardPhotoTaken`/`DocumentTaken`.
    CapturePhoto(PhotoPurpose),
    PrintReceipt(Box<ValidRecord>),
    /// Store the signed record durably; answer with `Event::Enqueued`.
    Enqueue(Box<ValidRecord>),
    /// Speak this prompt (when spoken prompts are on).
    Speak(String),
    /// Cut short whatever is being spoken (help closed: its text is no
    /// longer on screen).
    StopSpeaking,
    /// Append to the staff audit log.
    Audit(AuditEntry),
    LoadQueue,
    CheckDevices,
    SyncNow,
}

/// What the UI needs to draw the current state.
#[derive(Debug, Clone, PartialEq)]
pub struct View<'a> {
    pub step: Step,
    pub record: Option<&'a Record>,
    /// Whether the county platform already had this person.
    pub found_in_base: Option<bool>,
    pub category_options: Vec<OptionState>,
    pub pending_category_hints: Vec<String>,
    /// The certificates to photograph, each with whether it is done.
    pub document_checklist: Vec<ChecklistItem>,
    /// Problems of the record as it stands (shown on review and inline).
    pub problems: Vec<Problem>,
    /// A message for the person (device trouble, a refused action).
    pub notice: Option<String>,
    /// Seconds left before wipe, while the idle warning shows.
    pub idle_countdown: Option<i64>,
    pub printing: PrintState,
    pub confirming_cancel: bool,
    /// The card photo taken on the manual identity page.
    pub card_photo_taken: bool,
    /// Reached the current page by a tap on a review problem.
    pub came_from_review: bool,
    pub text_size: TextSize,
    pub high_contrast: bool,
    /// The help panel of this page is open (closed again on any change of
    /// page and on a wipe).
    pub help_open: bool,
    /// Staff are filling the form in for the person.
    pub helping: bool,
    pub staff: Option<StaffView<'a>>,
}

/// One line of the certificate checklist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChecklistItem {
    /// The kinds that meet it (any one).
    pub any_of: Vec<DocumentKind>,
    pub name_zh: String,
    pub required: bool,
    pub done: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StaffView<'a> {
    pub panel: StaffPanel,
    /// Who opened staff mode, once the PIN told.
    pub staff_id: Option<&'a str>,
    /// Seconds the PIN pad stays locked.
    pub pin_locked_for: Option<i64>,
    pub pin_message: Option<&'a str>,
    pub queue: &'a [QueueLine],
    pub devices: &'a [DeviceLine],
    pub config_version: &'a str,
    pub config_hash: &'a str,
    pub sync_message: Option<&'a str>,
    /// Manual entry is offered while waiting for a card.
    pub can_enter_manually: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrintState {
    NotStarted,
    Printing,
    Failed(String),
    /// Printed; waiting for staff to confirm the signature.
    AwaitingSignature,
    Saving,
}

/// Staff mode while it is open.
#[derive(Debug, Clone)]
struct StaffState {
    panel: StaffPanel,
    staff_id: Option<String>,
    pin_message: Option<String>,
    sync_message: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Session {
    settings: SessionSettings,
    staff_settings: StaffSettings,
    step: Step,
    record: Option<Record>,
    found_in_base: Option<bool>,
    notice: Option<String>,
    print: PrintState,
    last_activity: DateTime<Utc>,
    warning_since: Option<DateTime<Utc>>,
    done_since: Option<DateTime<Utc>>,
    /// The id the registration in progress will carry.
    record_id: Uuid,
    confirming_cancel: bool,
    pending_card_photo: Option<PhotoRef>,
    came_from_review: bool,
    text_size: TextSize,
    high_contrast: bool,
    help_open: bool,
    /// The staff member helping, in help-on-behalf mode.
    helping: Option<String>,
    staff: Option<StaffState>,
    /// Survives wipes: a wipe must not reset the wrong-PIN count.
    pin_lock: PinLock,
    queue: Vec<QueueLine>,
    devices: Vec<DeviceLine>,
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
            notice: None,
            print: PrintState::NotStarted,
            last_activity: now,
            warning_since: None,
            done_since: None,
            record_id: Uuid::nil(),
            confirming_cancel: false,
            pending_card_photo: None,
            came_from_review: false,
            text_size,
            high_contrast,
            help_open: false,
            helping: None,
            staff: None,
            pin_lock: PinLock::default(),
            queue: Vec::new(),
            devices: Vec::new(),
        }
    }

    /// Staff accounts and configuration facts; without accounts staff
    /// mode cannot be opened.
    pub fn with_staff(mut self, staff: StaffSettings) -> Session {
        self.staff_settings = staff;
        self
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

    pub fn view(&self, now: DateTime<Utc>) -> View<'_> {
        let chosen = self.chosen_categories();
        View {
            step: self.step,
            record: self.record.as_ref(),
            found_in_base: self.found_in_base,
            category_options: category::option_states(&chosen),
            pending_category_hints: category::pending_requirements(&chosen),
            document_checklist: self.checklist(&chosen),
            problems: self
                .record
                .as_ref()
                .map(|r| record::problems(r, now.date_naive()))
                .unwrap_or_default(),
            notice: self.notice.clone(),
            idle_countdown: self
                .warning_since
                .map(|since| whole_seconds_left(self.settings.warning_seconds() - (now - since))),
            printing: self.print.clone(),
            confirming_cancel: self.confirming_cancel,
            card_photo_taken: self.pending_card_photo.is_some(),
            came_from_review: self.came_from_review,
            text_size: self.text_size,
            high_contrast: self.high_contrast,
            help_open: self.help_open,
            helping: self.helping.is_some(),
            staff: self.staff.as_ref().map(|s| StaffView {
                panel: s.panel,
                staff_id: s.staff_id.as_deref(),
                pin_locked_for: self
                    .pin_lock
                    .locked_until(now)
                    .map(|until| whole_seconds_left(until - now).max(1)),
                pin_message: s.pin_message.as_deref(),
                queue: &self.queue,
                devices: &self.devices,
                config_version: &self.staff_settings.config_version,
                config_hash: &self.staff_settings.config_hash,
                sync_message: s.sync_message.as_deref(),
                can_enter_manually: self.step == Step::InsertCard,
            }),
        }
    }

    fn chosen_categories(&self) -> Vec<Category> {
        self.record
            .as_ref()
            .map(|r| r.categories.iter().map(CategoryDetails::category).collect())
            .unwrap_or_default()
    }

    /// The certificates to photograph. The ID card itself is covered by the
    /// chip read (or the card photo on manual entry), so it is not listed.
    fn checklist(&self, chosen: &[Category]) -> Vec<ChecklistItem> {
        let shown: Vec<DocumentKind> = self
            .record
            .as_ref()
            .map(|r| r.documents.iter().map(|d| d.kind).collect())
            .unwrap_or_default();
        let mut items: Vec<ChecklistItem> = category::documents_for(chosen)
            .into_iter()
            .filter(|req| req.any_of != [DocumentKind::IdCard])
            .map(|req| ChecklistItem {
                any_of: req.any_of.to_vec(),
                name_zh: req.name_zh(),
                required: true,
                done: req.is_met_by(&shown),
            })
            .collect();
        items.extend(
            category::OPTIONAL_DOCUMENTS
                .iter()
                .map(|kind| ChecklistItem {
                    any_of: vec![*kind],
                    name_zh: format!("{}（有的话）", kind.name_zh()),
                    required: false,
                    done: shown.contains(kind),
                }),
        );
        items
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
                | Event::Enqueued(_)
                | Event::QueueLoaded(_)
                | Event::DevicesChecked(_)
                | Event::SyncFinished { .. }
                | Event::CardFailed(_)
                | Event::CardPortraitDecoded { .. }
        );
        if by_person {
            self.last_activity = now;
            self.warning_since = None;
        }
        self.on_event(event, now, &mut fx);
        fx
    }

    fn idle_warning_after(&self) -> Duration {
        // Staff typing for someone are slower and are watching the screen.
        if self.helping.is_some() {
            self.settings.idle_warning_after * 3
        } else {
            self.settings.idle_warning_after
        }
    }

    fn on_tick(&mut self, now: DateTime<Utc>, fx: &mut Vec<Effect>) {
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

    fn on_event(&mut self, event: Event, now: DateTime<Utc>, fx: &mut Vec<Effect>) {
        // Answers and asking for help leave a notice (device trouble) in place.
        if !matches!(
            event,
            Event::LookUpAnswered(_)
                | Event::DraftFound(_)
                | Event::HelpRequested { .. }
                | Event::HelpClosed
        ) {
            self.notice = None;
        }
        if !matches!(event, Event::Cancel) {
            self.confirming_cancel = false;
        }
        match (self.step, event) {
            (_, Event::StillHere) => {}
            (_, Event::ChooseTextSize(size)) => self.text_size = size,
            (_, Event::SetHighContrast(on)) => self.high_contrast = on,
            (_, Event::HelpRequested { text }) => {
                let text = text.trim();
                if !text.is_empty() {
                    self.help_open = true;
                    fx.push(Effect::Speak(text.to_string()));
                }
            }
            // Its text is off the screen: stop reading it out.
            (_, Event::HelpClosed) if self.help_open => {
                self.help_open = false;
                fx.push(Effect::StopSpeaking);
            }
            (_, Event::HelpClosed) => {}
            (_, Event::StaffGesture) => self.open_pin(PinPurpose::OpenStaffMode),
            (_, Event::PinEntered(pin)) => self.on_pin(&pin, now, fx),
            (_, Event::PinCancelled) => {
                if matches!(
                    self.staff.as_ref().map(|s| s.panel),
                    Some(StaffPanel::Pin(_))
                ) {
                    self.staff = None;
                }
            }
            (_, Event::Staff(command)) => self.on_staff(command, now, fx),
            (_, Event::QueueLoaded(lines)) => self.queue = lines,
            (_, Event::DevicesChecked(lines)) => self.devices = lines,
            (_, Event::SyncFinished { message_zh }) => {
                if let Some(staff) = self.staff.as_mut() {
                    staff.sync_message = Some(message_zh);
                }
            }
            (Step::Attract, Event::Start { record_id }) => {
                self.record_id = record_id;
                self.go(Step::InsertCard, fx);
                fx.push(Effect::WaitForCard);
            }
            (Step::Attract | Step::Done, Event::CancelRequested) => {}
            (_, Event::CancelRequested) => self.confirming_cancel = true,
            (_, Event::Cancel) => self.wipe(now, fx),
            (Step::InsertCard, Event::CardRead(read)) => self.on_card(*read, now, fx),
            (_, Event::CardPortraitDecoded { photo, note_zh }) => {
                if let Some(record) = self.record.as_mut() {
                    if record.identity.source == IdentitySource::Card {
                        record.photos.card_portrait_note = match photo {
                            Some(_) => String::new(),
                            None => note_zh,
                        };
                        record.photos.card_portrait = photo;
                    }
                }
            }
            (Step::InsertCard, Event::CardFailed(failure)) => {
                self.notice = Some(failure.message_zh.clone());
                fx.push(Effect::Speak(failure.message_zh));
                fx.push(Effect::WaitForCard);
            }
            (Step::ManualIdentity, Event::TakePhoto(PhotoPurpose::IdCard)) => {
                fx.push(Effect::CapturePhoto(PhotoPurpose::IdCard));
            }
            (Step::ManualIdentity, Event::CardPhotoTaken(photo)) => {
                self.pending_card_photo = Some(photo);
            }
            (Step::ManualIdentity, Event::ManualIdentityEntered(typed)) => {
                self.on_manual_identity(*typed, now, fx)
            }
            (Step::Identity, Event::LookUpAnswered(found)) => {
                self.on_lookup(found.map(|r| *r), now)
            }
            (Step::Identity, Event::DraftFound(Some(draft))) => self.on_draft(*draft, now),
            (_, Event::DraftFound(_)) | (_, Event::LookUpAnswered(_)) => {}
            (_, Event::PhotoFailed { message_zh }) => {
                self.notice = Some(message_zh.clone());
                fx.push(Effect::Speak(message_zh));
            }
            (_, Event::PhoneEntered(phone)) => self.edit(now, fx, |r| r.identity.phone = phone),
            (_, Event::CurrentAddressEntered(address)) => {
                self.edit(now, fx, |r| r.identity.current_address = address)
            }
            (Step::Portrait, Event::PortraitTaken(photo)) => {
                fx.push(Effect::StopCamera);
                self.edit(now, fx, |r| r.photos.portrait = Some(photo));
            }
            (Step::Portrait, Event::RetakePortrait) => {
                fx.push(Effect::StartCamera);
                self.edit(now, fx, |r| r.photos.portrait = None);
            }
            (Step::Categories, Event::ToggleCategory(category)) => self.toggle(category, now, fx),
            (_, Event::CategoryDetailsEdited { index, details }) => {
                self.edit(now, fx, |r| {
                    // The category itself is chosen on its own page; an
                    // edit may only change the details of the same one.
                    if let Some(slot) = r.categories.get_mut(index) {
                        if slot.category() == details.category() {
                            *slot = details;
                        }
                    }
                })
            }
            (_, Event::DetailsFieldEdited { index, key, edit }) => self.edit(now, fx, |r| {
                if let Some(slot) = r.categories.get_mut(index) {
                    *slot = forms::edit_details(slot, &key, &edit);
                }
            }),
            (Step::Documents, Event::TakePhoto(purpose @ PhotoPurpose::Document(_))) => {
                fx.push(Effect::CapturePhoto(purpose));
            }
            (_, Event::DocumentTaken(doc)) => self.edit(now, fx, |r| {
                // A new photo of the same certificate replaces the old one.
                r.documents.retain(|d| d.kind != doc.kind);
                r.documents.push(doc);
            }),
            (_, Event::DocumentRemoved(index)) => self.edit(now, fx, |r| {
                if index < r.documents.len() {
                    r.documents.remove(index);
                }
            }),
            (_, Event::LivingEdited(living)) => self.edit(now, fx, |r| r.living = living),
            (_, Event::LivingFieldEdited { key, edit }) => self.edit(now, fx, |r| {
                r.living = forms::edit_living(&r.living, &key, &edit);
            }),
            (Step::CategoryDetails(index), Event::FieldEdited { key, edit }) => {
                self.edit(now, fx, |r| {
                    if let Some(slot) = r.categories.get_mut(index) {
                        *slot = forms::edit_details(slot, &key, &edit);
                    }
                })
            }
            (Step::Living, Event::FieldEdited { key, edit }) => self.edit(now, fx, |r| {
                r.living = forms::edit_living(&r.living, &key, &edit);
            }),
            (_, Event::NeedsEdited(needs)) => self.edit(now, fx, |r| r.needs = needs),
            (_, Event::NeedToggled(area)) => self.edit(now, fx, |r| {
                if let Some(at) = r.needs.iter().position(|n| n.area == area) {
                    r.needs.remove(at);
                } else {
                    r.needs.push(Need {
                        area,
                        text: String::new(),
                    });
                }
            }),
            (_, Event::NeedText { area, text }) => self.edit(now, fx, |r| {
                if let Some(need) = r.needs.iter_mut().find(|n| n.area == area) {
                    need.text = text;
                }
            }),
            (Step::Review | Step::Sign, Event::PrintRequested) => self.print_receipt(now, fx),
            (Step::Sign, Event::Printed(outcome)) => match outcome {
                PrintOutcome::Printed => {
                    self.print = PrintState::AwaitingSignature;
                    fx.push(Effect::Speak(
                        "回执已打印，请核对后签字，再请工作人员确认".into(),
                    ));
                }
                PrintOutcome::Failed { message_zh, .. } => {
                    self.notice = Some(message_zh.clone());
                    fx.push(Effect::Speak(message_zh.clone()));
                    self.print = PrintState::Failed(message_zh);
                }
            },
            (Step::Sign, Event::WitnessRequested)
                if self.print == PrintState::AwaitingSignature =>
            {
                self.open_pin(PinPurpose::WitnessSignature);
            }
            (Step::Sign, Event::SignatureConfirmed { staff_id }) => self.sign(staff_id, now, fx),
            (Step::Sign, Event::Enqueued(result)) => match result {
                Ok(()) => {
                    if let Some(r) = &self.record {
                        fx.push(Effect::WipeDraft(r.meta.record_id));
                    }
                    self.step = Step::Done;
                    self.done_since = Some(now);
                    fx.push(Effect::Speak("登记完成，谢谢您".into()));
                }
                Err(_) => {
                    // Stay on the signing page with the signed record in
                    // memory; staff can retry and nothing is lost.
                    self.print = PrintState::AwaitingSignature;
                    if let Some(r) = self.record.as_mut() {
                        r.signature = None;
                        r.meta.state = RecordState::Draft;
                    }
                    self.notice = Some("保存记录时出错，请联系工作人员，记录不会丢失".into());
                }
            },
            (Step::Review, Event::JumpToField(field)) => {
                if let Some(step) = self.step_for_field(&field, now) {
                    self.go(step, fx);
                    self.came_from_review = true;
                }
            }
            (step, Event::BackToReview) if step != Step::Review && self.came_from_review => {
                self.go(Step::Review, fx);
            }
            (step, Event::Next) => self.next(step, now, fx),
            (step, Event::Back) => self.back(step, fx),
            // Anything else does not apply to the current screen.
            _ => {}
        }
    }

    fn audit(&self, action: AuditAction, now: DateTime<Utc>, fx: &mut Vec<Effect>) {
        let staff_id = self
            .staff
            .as_ref()
            .and_then(|s| s.staff_id.clone())
            .or_else(|| self.helping.clone());
        fx.push(Effect::Audit(AuditEntry {
            at: now,
            kiosk_id: self.settings.kiosk_id.clone(),
            staff_id,
            action,
        }));
    }

    fn open_pin(&mut self, purpose: PinPurpose) {
        // A second gesture while staff mode is open does nothing.
        if self
            .staff
            .as_ref()
            .is_some_and(|s| !matches!(s.panel, StaffPanel::Pin(_)))
            && purpose == PinPurpose::OpenStaffMode
        {
            return;
        }
        self.staff = Some(StaffState {
            panel: StaffPanel::Pin(purpose),
            staff_id: None,
            pin_message: None,
            sync_message: None,
        });
    }

    fn on_pin(&mut self, pin: &str, now: DateTime<Utc>, fx: &mut Vec<Effect>) {
        let Some(StaffPanel::Pin(purpose)) = self.staff.as_ref().map(|s| s.panel) else {
            return;
        };
        let accounts = &self.staff_settings.accounts;
        let outcome = self.pin_lock.attempt(now, || {
            accounts
                .iter()
                .find(|a| a.pin.matches(pin))
                .map(|a| a.staff_id.clone())
        });
        let message = match outcome {
            PinOutcome::Accepted(staff_id) => {
                match purpose {
                    PinPurpose::OpenStaffMode => {
                        self.staff = Some(StaffState {
                            panel: StaffPanel::Menu,
                            staff_id: Some(staff_id),
                            pin_message: None,
                            sync_message: None,
                        });
                        self.audit(AuditAction::StaffModeOpened, now, fx);
                    }
                    PinPurpose::WitnessSignature => {
                        self.staff = None;
                        fx.push(Effect::Audit(AuditEntry {
                            at: now,
                            kiosk_id: self.settings.kiosk_id.clone(),
                            staff_id: Some(staff_id.clone()),
                            action: AuditAction::SignatureWitnessed,
                        }));
                        self.sign(staff_id, now, fx);
                    }
                }
                return;
            }
            PinOutcome::Wrong { tries_left } => {
                self.audit(AuditAction::PinRejected, now, fx);
                format!("密码不对，还可以再试 {tries_left} 次")
            }
            PinOutcome::LockedOut { until } => {
                let seconds = (until - now).num_seconds();
                self.audit(AuditAction::PinLockedOut { seconds }, now, fx);
                format!("密码错误次数过多，请 {seconds} 秒后再试")
            }
            PinOutcome::StillLocked { until } => {
                format!(
                    "密码错误次数过多，请 {} 秒后再试",
                    (until - now).num_seconds().max(1)
                )
            }
        };
        if let Some(staff) = self.staff.as_mut() {
            staff.pin_message = Some(message);
        }
    }

    fn on_staff(&mut self, command: StaffCommand, now: DateTime<Utc>, fx: &mut Vec<Effect>) {
        // Only an identified staff member can use the menu.
        let Some(staff_id) = self.staff.as_ref().and_then(|s| s.staff_id.clone()) else {
            return;
        };
        let panel = |p: StaffPanel, session: &mut Session| {
            if let Some(s) = session.staff.as_mut() {
                s.panel = p;
            }
        };
        match command {
            StaffCommand::ManualEntry => {
                // Only while waiting for a card: the registration has its id.
                if self.step != Step::InsertCard {
                    return;
                }
                fx.push(Effect::StopCardReader);
                self.audit(AuditAction::ManualEntryStarted, now, fx);
                self.step = Step::ManualIdentity;
                self.pending_card_photo = None;
                self.staff = None;
            }
            StaffCommand::ToggleHelpOnBehalf => {
                if self.helping.is_some() {
                    self.audit(AuditAction::HelpOnBehalfEnded, now, fx);
                    self.helping = None;
                } else {
                    self.helping = Some(staff_id);
                    self.audit(AuditAction::HelpOnBehalfStarted, now, fx);
                }
                self.staff = None;
            }
            StaffCommand::ShowQueue => {
                self.audit(AuditAction::QueueViewed, now, fx);
                fx.push(Effect::LoadQueue);
                panel(StaffPanel::Queue, self);
            }
            StaffCommand::ShowDevices => {
                self.audit(AuditAction::DeviceStatusViewed, now, fx);
                fx.push(Effect::CheckDevices);
                panel(StaffPanel::Devices, self);
            }
            StaffCommand::ShowAbout => {
                self.audit(AuditAction::ConfigViewed, now, fx);
                panel(StaffPanel::About, self);
            }
            StaffCommand::SyncNow => {
                self.audit(AuditAction::SyncRequested, now, fx);
                fx.push(Effect::SyncNow);
                if let Some(s) = self.staff.as_mut() {
                    s.sync_message = Some("正在上传…".into());
                }
            }
            StaffCommand::Menu => panel(StaffPanel::Menu, self),
            StaffCommand::Close => {
                self.audit(AuditAction::StaffModeClosed, now, fx);
                self.staff = None;
            }
            StaffCommand::CancelSession => {
                self.audit(AuditAction::SessionCancelled, now, fx);
                self.staff = None;
                self.wipe(now, fx);
            }
        }
    }

    fn on_card(&mut self, read: CardRead, now: DateTime<Utc>, fx: &mut Vec<Effect>) {
        fx.push(Effect::StopCardReader);
        let t = &read.text;
        let card = CardIdentity {
            name: t.name.clone(),
            sex: t.sex,
            nation_code: t.nation.code(),
            birth_date: t.birth_date,
            address: t.address.clone(),
            id_number: t.id_number.as_str().to_string(),
            authority: t.authority.clone(),
            valid_from: t.valid_from,
            valid_to: record::valid_to_text(t.valid_to),
        };
        let identity = identity_from_card(&card);
        let mut record = self.new_record(identity, now);
        record.photos.card_portrait_note = "未配置身份证照片解码库，仅保存原始数据".into();
        self.record = Some(record);
        self.found_in_base = None;
        self.go(Step::Identity, fx);
        fx.push(Effect::LoadDraft(t.id_number.clone()));
        fx.push(Effect::LookUpPerson(t.id_number.clone()));
    }

    fn on_manual_identity(
        &mut self,
        typed: ManualIdentity,
        now: DateTime<Utc>,
        fx: &mut Vec<Effect>,
    ) {
        let Some(card_photo) = self.pending_card_photo.clone() else {
            self.notice = Some("请先拍摄身份证照片".into());
            return;
        };
        let today = now.date_naive();
        let id = IdNumber::parse(&typed.id_number, today);
        let nation =
            Nation::from_name_zh(&typed.nation).or_else(|| Nation::parse_code(&typed.nation));
        let identity = Identity {
            source: IdentitySource::Typed,
            name: typed.name.trim().to_string(),
            // Sex and birth date are part of the ID number: not typed twice.
            sex: id.as_ref().ok().map(|id| id.sex()),
            nation_code: nation.map(Nation::code),
            birth_date: id.as_ref().ok().map(|id| id.birth_date()),
            address: typed.address.trim().to_string(),
            id_number: id
                .as_ref()
                .map(|id| id.as_str().to_string())
                .unwrap_or_else(|_| typed.id_number.trim().to_string()),
            authority: typed.authority.trim().to_string(),
            valid_from: parse_typed_date(&typed.valid_from),
            valid_to: match typed.valid_to.trim() {
                "长期" => "长期".to_string(),
                other => parse_typed_date(other)
                    .map(|d| d.format("%Y-%m-%d").to_string())
                    .unwrap_or_else(|| other.to_string()),
            },
            phone: String::new(),
            current_address: String::new(),
            card: None,
        };
        let mut record = self.new_record(identity, now);
        record.photos.card_photo = Some(card_photo);
        self.record = Some(record);
        self.found_in_base = None;
        self.go(Step::Identity, fx);
        if let Ok(id) = id {
            fx.push(Effect::LoadDraft(id.clone()));
            fx.push(Effect::LookUpPerson(id));
        }
    }

    /// The county knows this person: keep the fresh identity from the card,
    /// take everything else from their record so they only check and complete.
    fn on_lookup(&mut self, found: Option<Record>, now: DateTime<Utc>) {
        self.found_in_base = Some(found.is_some());
        let (Some(current), Some(found)) = (self.record.as_mut(), found) else {
            return;
        };
        if found.identity.id_number != current.identity.id_number {
            return;
        }
        current.categories = found.categories;
        current.living = found.living;
        current.identity.phone = found.identity.phone;
        current.identity.current_address = found.identity.current_address;
        current.meta.supersedes = Some(found.meta.record_id);
        current.meta.updated_at = now;
    }

    /// A draft of this person from an interrupted session: resume it, with
    /// the identity just read.
    fn on_draft(&mut self, draft: Record, now: DateTime<Utc>) {
        let Some(current) = self.record.as_mut() else {
            return;
        };
        if draft.identity.id_number != current.identity.id_number
            || draft.meta.state != RecordState::Draft
        {
            return;
        }
        let identity = current.identity.clone();
        let photos_card = current.photos.card_photo.clone();
        *current = draft;
        current.identity = identity;
        if photos_card.is_some() {
            current.photos.card_photo = photos_card;
        }
        current.meta.updated_at = now;
        // The session continues under the draft's id, so the draft is
        // replaced rather than duplicated.
        self.record_id = current.meta.record_id;
        self.notice = Some("已找到您上次未完成的登记，可以接着填写".into());
    }

    fn new_record(&mut self, identity: Identity, now: DateTime<Utc>) -> Record {
        Record {
            meta: Meta {
                record_id: self.record_id,
                schema_version: record::SCHEMA_VERSION,
                kiosk_id: self.settings.kiosk_id.clone(),
                township: self.settings.township.clone(),
                created_at: now,
                updated_at: now,
                state: RecordState::Draft,
                supersedes: None,
            },
            identity,
            categories: Vec::new(),
            living: LivingConditions::default(),
            needs: Vec::new(),
            photos: Photos::default(),
            documents: Vec::new(),
            signature: None,
        }
    }

    fn edit(&mut self, now: DateTime<Utc>, fx: &mut Vec<Effect>, change: impl FnOnce(&mut Record)) {
        // Once printed for signing, the content is frozen: what is signed
        // is what is stored.
        if matches!(
            self.print,
            PrintState::Printing | PrintState::AwaitingSignature | PrintState::Saving
        ) {
            return;
        }
        if let Some(r) = self.record.as_mut() {
            let before = r.clone();
            change(r);
            if *r != before {
                r.meta.updated_at = now;
                fx.push(Effect::SaveDraft(Box::new(r.clone())));
            }
        }
    }

    fn toggle(&mut self, category: Category, now: DateTime<Utc>, fx: &mut Vec<Effect>) {
        let chosen = self.chosen_categories();
        if let Some(index) = chosen.iter().position(|c| *c == category) {
            self.edit(now, fx, |r| {
                r.categories.remove(index);
            });
            return;
        }
        let state = category::option_states(&chosen)
            .into_iter()
            .find(|o| o.category == category);
        match state {
            Some(option) if !option.enabled => {
                if let Some(reason) = &option.reason_zh {
                    fx.push(Effect::Speak(reason.clone()));
                }
                self.notice = option.reason_zh;
            }
            _ => self.edit(now, fx, |r| {
                r.categories.push(CategoryDetails::empty(category));
                r.categories.sort_by_key(|d| d.category().code());
            }),
        }
    }

    fn print_receipt(&mut self, now: DateTime<Utc>, fx: &mut Vec<Effect>) {
        if matches!(
            self.print,
            PrintState::Printing | PrintState::AwaitingSignature | PrintState::Saving
        ) {
            return;
        }
        let Some(r) = &self.record else { return };
        match record::validate(r, now.date_naive()) {
            Ok(valid) => {
                self.step = Step::Sign;
                self.came_from_review = false;
                self.print = PrintState::Printing;
                fx.push(Effect::PrintReceipt(Box::new(valid)));
                fx.push(Effect::Speak("正在打印回执，请稍候".into()));
            }
            Err(problems) => {
                self.step = Step::Review;
                self.notice = Some(format!(
                    "还有 {} 处需要补充或修改，请点击逐项处理",
                    problems.len()
                ));
            }
        }
    }

    fn sign(&mut self, staff_id: String, now: DateTime<Utc>, fx: &mut Vec<Effect>) {
        if self.step != Step::Sign
            || self.print != PrintState::AwaitingSignature
            || staff_id.trim().is_empty()
        {
            return;
        }
        let Some(r) = self.record.as_mut() else {
            return;
        };
        let printed_at = r.meta.updated_at;
        r.signature = Some(Signature {
            receipt_printed_at: printed_at,
            signed_at: now.max(printed_at),
            witnessed_by: staff_id,
        });
        r.meta.state = RecordState::Signed;
        r.meta.updated_at = now.max(printed_at);
        match record::validate(r, now.date_naive()) {
            Ok(valid) => {
                self.print = PrintState::Saving;
                fx.push(Effect::Enqueue(Box::new(valid)));
            }
            Err(_) => {
                // Cannot happen for a record that validated before printing,
                // but never enqueue an invalid one: go back to review.
                r.signature = None;
                r.meta.state = RecordState::Draft;
                self.print = PrintState::NotStarted;
                self.step = Step::Review;
            }
        }
    }

    fn go(&mut self, step: Step, fx: &mut Vec<Effect>) {
        let leaving_portrait = self.step == Step::Portrait && step != Step::Portrait;
        if leaving_portrait {
            fx.push(Effect::StopCamera);
        }
        if step == Step::Portrait && self.step != Step::Portrait {
            let has_portrait = self
                .record
                .as_ref()
                .is_some_and(|r| r.photos.portrait.is_some());
            if !has_portrait {
                fx.push(Effect::StartCamera);
            }
        }
        if step != self.step {
            if let Some(prompt) = prompt_for(step) {
                fx.push(Effect::Speak(prompt.to_string()));
            }
        }
        if step == Step::Review {
            self.came_from_review = false;
        }
        self.step = step;
    }

    fn next(&mut self, step: Step, now: DateTime<Utc>, fx: &mut Vec<Effect>) {
        let Some(r) = &self.record else { return };
        let chosen = self.chosen_categories();
        let target = match step {
            Step::Identity => Step::Portrait,
            Step::Portrait => {
                if r.photos.portrait.is_none() {
                    self.notice = Some("请先拍摄照片".into());
                    return;
                }
                Step::Categories
            }
            Step::Categories => {
                let violations = category::check_selection(&chosen);
                if let Some(v) = violations.first() {
                    self.notice = Some(v.to_problem().message);
                    return;
                }
                Step::CategoryDetails(0)
            }
            Step::CategoryDetails(i) if i + 1 < chosen.len() => Step::CategoryDetails(i + 1),
            Step::CategoryDetails(_) => Step::Documents,
            Step::Documents => Step::Living,
            Step::Living => Step::Needs,
            Step::Needs => Step::Review,
            Step::Review => {
                self.print_receipt(now, fx);
                return;
            }
            _ => return,
        };
        self.go(target, fx);
    }

    fn back(&mut self, step: Step, fx: &mut Vec<Effect>) {
        let chosen = self.chosen_categories().len();
        let typed = self
            .record
            .as_ref()
            .is_some_and(|r| r.identity.source == IdentitySource::Typed);
        let target = match step {
            Step::Identity if typed => Step::ManualIdentity,
            Step::Portrait => Step::Identity,
            Step::Categories => Step::Portrait,
            Step::CategoryDetails(0) => Step::Categories,
            Step::CategoryDetails(i) => Step::CategoryDetails(i - 1),
            Step::Documents if chosen > 0 => Step::CategoryDetails(chosen - 1),
            Step::Documents => Step::Categories,
            Step::Living => Step::Documents,
            Step::Needs => Step::Living,
            Step::Review => Step::Needs,
            Step::Sign if matches!(self.print, PrintState::NotStarted | PrintState::Failed(_)) => {
                self.print = PrintState::NotStarted;
                Step::Review
            }
            _ => return,
        };
        self.go(target, fx);
    }

    /// The page on which a problem's field is edited.
    fn step_for_field(&self, field: &str, now: DateTime<Utc>) -> Option<Step> {
        let head = field.split(['.', '[']).next().unwrap_or("");
        Some(match head {
            "identity" => Step::Identity,
            "photos" if field.starts_with("photos.portrait") => Step::Portrait,
            "photos" => Step::Identity,
            "categories" => {
                let index = field
                    .strip_prefix("categories[")
                    .and_then(|rest| rest.split(']').next())
                    .and_then(|n| n.parse::<usize>().ok());
                let count = self.record.as_ref().map_or(0, |r| r.categories.len());
                match index {
                    Some(i) if field.contains("].") && i < count => Step::CategoryDetails(i),
                    // A whole-category problem (missing certificate) is
                    // fixed on the documents page; a rule on the choice page.
                    Some(i) if i < count && self.is_document_problem_field(field, now) => {
                        Step::Documents
                    }
                    _ => Step::Categories,
                }
            }
            "documents" => Step::Documents,
            "living" => Step::Living,
            "needs" => Step::Needs,
            _ => return None,
        })
    }

    /// `categories[i]` names both a missing certificate and a rule on the
    /// choice; only the certificate is fixed on the documents page.
    fn is_document_problem_field(&self, field: &str, now: DateTime<Utc>) -> bool {
        let Some(r) = &self.record else { return false };
        record::problems(r, now.date_naive())
            .iter()
            .any(|p| p.field.as_deref() == Some(field) && p.code == "document_missing")
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
        let pin_lock = std::mem::take(&mut self.pin_lock);
        *self = Session::new(settings, now).with_staff(staff_settings);
        self.pin_lock = pin_lock;
    }
}

/// Seconds left, rounded up: a countdown shows 30 until 30 s have passed.
fn whole_seconds_left(left: Duration) -> i64 {
    let ms = left.num_milliseconds().max(0);
    (ms + 999) / 1000
}

/// The spoken prompt when a page opens.
fn prompt_for(step: Step) -> Option<&'static str> {
    Some(match step {
        Step::InsertCard => "请将身份证放在读卡区",
        Step::Identity => "请核对您的身份信息",
        Step::Portrait => "请看着屏幕上方的摄像头，保持不动",
        Step::Categories => "请选择您属于哪一类人员，可以选多项",
        Step::CategoryDetails(_) => "请填写这一类的详细情况",
        Step::Documents => "请按清单把证件放在拍照区拍照",
        Step::Living => "请填写基本生活情况",
        Step::Needs => "如有困难或诉求可以在这里说明，没有可以直接下一步",
        Step::Review => "请核对全部信息",
        _ => return None,
    })
}

/// A date as staff type it from a card: `2010-01-01`, `20100101`, `2010.01.01`.
fn parse_typed_date(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    ["%Y-%m-%d", "%Y%m%d", "%Y.%m.%d", "%Y/%m/%d"]
        .iter()
        .find_map(|format| NaiveDate::parse_from_str(text, format).ok())
}

fn identity_from_card(card: &CardIdentity) -> Identity {
    Identity {
        source: IdentitySource::Card,
        name: card.name.clone(),
        sex: Some(card.sex),
        nation_code: Some(card.nation_code),
        birth_date: Some(card.birth_date),
        address: card.address.clone(),
        id_number: card.id_number.clone(),
        authority: card.authority.clone(),
        valid_from: Some(card.valid_from),
        valid_to: card.valid_to.clone(),
        phone: String::new(),
        current_address: String::new(),
        card: Some(card.clone()),
    }
}

/// Age on a date, for display; kept here so the UI never computes it.
pub fn age_on(birth: NaiveDate, today: NaiveDate) -> u32 {
    today.years_since(birth).unwrap_or(0)
}

#[cfg(test)]
mod tests;

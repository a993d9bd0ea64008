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

use crate::core::card::CardRead;
use crate::core::category::{self, Category, OptionState};
use crate::core::id_number::IdNumber;
use crate::core::record::{
    self, CardIdentity, CategoryDetails, DocumentPhoto, Identity, IdentitySource, LivingConditions,
    Meta, Need, PhotoRef, Photos, Record, RecordState, Signature, Township, ValidRecord,
};
use crate::core::Problem;

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

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Any tap on the attract screen. The shell supplies a fresh UUID for
    /// the registration (keeps the core free of randomness).
    Start {
        record_id: Uuid,
    },
    CardRead(Box<CardRead>),
    CardFailed(CardFailure),
    /// Staff chose to type the identity in (card unreadable / no reader).
    ManualEntryRequested,
    /// The typed identity plus the photo of the card.
    ManualIdentityEntered {
        identity: Box<Identity>,
        card_photo: PhotoRef,
    },
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
    DocumentTaken(DocumentPhoto),
    DocumentRemoved(usize),
    LivingEdited(LivingConditions),
    NeedsEdited(Vec<Need>),
    Next,
    Back,
    /// A tap on a problem in the review jumps to its field's page.
    JumpToField(String),
    /// Print the receipt (from review, or retry after a printer fault).
    PrintRequested,
    Printed(PrintOutcome),
    /// Staff confirms the person signed the printed receipt.
    SignatureConfirmed {
        staff_id: String,
    },
    /// Answer to [`Effect::Enqueue`]: durably stored (or not).
    Enqueued(Result<(), String>),
    /// The person answered the idle warning.
    StillHere,
    /// The person or staff abandons the session.
    Cancel,
    /// Sent periodically so that time-outs fire.
    Tick,
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
    StartCamera,
    StopCamera,
    PrintReceipt(Box<ValidRecord>),
    /// Store the signed record durably; answer with `Event::Enqueued`.
    Enqueue(Box<ValidRecord>),
    /// Speak this prompt (when spoken prompts are on).
    Speak(String),
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
    /// Problems of the record as it stands (shown on review).
    pub problems: Vec<Problem>,
    /// A message for the person (device trouble, a refused action).
    pub notice: Option<String>,
    /// Seconds left before wipe, while the idle warning shows.
    pub idle_countdown: Option<i64>,
    pub printing: PrintState,
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

#[derive(Debug, Clone)]
pub struct Session {
    settings: SessionSettings,
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
}

impl Session {
    pub fn new(settings: SessionSettings, now: DateTime<Utc>) -> Session {
        Session {
            settings,
            step: Step::Attract,
            record: None,
            found_in_base: None,
            notice: None,
            print: PrintState::NotStarted,
            last_activity: now,
            warning_since: None,
            done_since: None,
            record_id: Uuid::nil(),
        }
    }

    pub fn step(&self) -> Step {
        self.step
    }

    pub fn record(&self) -> Option<&Record> {
        self.record.as_ref()
    }

    pub fn view(&self, now: DateTime<Utc>) -> View<'_> {
        let chosen = self.chosen_categories();
        View {
            step: self.step,
            record: self.record.as_ref(),
            found_in_base: self.found_in_base,
            category_options: category::option_states(&chosen),
            pending_category_hints: category::pending_requirements(&chosen),
            problems: self
                .record
                .as_ref()
                .map(|r| record::problems(r, now.date_naive()))
                .unwrap_or_default(),
            notice: self.notice.clone(),
            idle_countdown: self.warning_since.map(|since| {
                (self.settings.warning_seconds() - (now - since))
                    .num_seconds()
                    .max(0)
            }),
            printing: self.print.clone(),
        }
    }

    fn chosen_categories(&self) -> Vec<Category> {
        self.record
            .as_ref()
            .map(|r| r.categories.iter().map(CategoryDetails::category).collect())
            .unwrap_or_default()
    }

    /// Handle one event at `now`; returns what the shell must do.
    pub fn handle(&mut self, event: Event, now: DateTime<Utc>) -> Vec<Effect> {
        let mut fx = Vec::new();
        if matches!(event, Event::Tick) {
            self.on_tick(now, &mut fx);
            return fx;
        }
        // Any real event is activity and dismisses the idle warning.
        self.last_activity = now;
        self.warning_since = None;
        self.on_event(event, now, &mut fx);
        fx
    }

    fn on_tick(&mut self, now: DateTime<Utc>, fx: &mut Vec<Effect>) {
        if let Some(since) = self.done_since {
            if now - since >= self.settings.done_screen_for {
                self.reset(fx);
            }
            return;
        }
        if self.step == Step::Attract {
            return;
        }
        // Never wipe while a signed record is on its way to the store.
        if self.print == PrintState::Saving {
            return;
        }
        match self.warning_since {
            None if now - self.last_activity >= self.settings.idle_warning_after => {
                self.warning_since = Some(now);
                fx.push(Effect::Speak("您还在吗？请点击屏幕继续".into()));
            }
            Some(since) if now - since >= self.settings.warning_seconds() => self.wipe(fx),
            _ => {}
        }
    }

    fn on_event(&mut self, event: Event, now: DateTime<Utc>, fx: &mut Vec<Effect>) {
        self.notice = None;
        match (self.step, event) {
            (_, Event::StillHere) => {}
            (Step::Attract, Event::Start { record_id }) => {
                self.record_id = record_id;
                self.step = Step::InsertCard;
                fx.push(Effect::WaitForCard);
                fx.push(Effect::Speak("请将身份证放在读卡区".into()));
            }
            (_, Event::Cancel) => self.wipe(fx),
            (Step::InsertCard, Event::CardRead(read)) => self.on_card(*read, now, fx),
            (Step::InsertCard, Event::CardFailed(failure)) => {
                self.notice = Some(failure.message_zh.clone());
                fx.push(Effect::Speak(failure.message_zh));
                fx.push(Effect::WaitForCard);
            }
            (Step::InsertCard, Event::ManualEntryRequested) => {
                fx.push(Effect::StopCardReader);
                self.step = Step::ManualIdentity;
            }
            (
                Step::ManualIdentity,
                Event::ManualIdentityEntered {
                    identity,
                    card_photo,
                },
            ) => self.on_manual_identity(*identity, card_photo, now, fx),
            (Step::Identity, Event::LookUpAnswered(found)) => {
                self.on_lookup(found.map(|r| *r), now)
            }
            (Step::Identity, Event::DraftFound(Some(draft))) => self.on_draft(*draft, now),
            (_, Event::DraftFound(_)) | (_, Event::LookUpAnswered(_)) => {}
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
            (_, Event::DocumentTaken(doc)) => self.edit(now, fx, |r| r.documents.push(doc)),
            (_, Event::DocumentRemoved(index)) => self.edit(now, fx, |r| {
                if index < r.documents.len() {
                    r.documents.remove(index);
                }
            }),
            (_, Event::LivingEdited(living)) => self.edit(now, fx, |r| r.living = living),
            (_, Event::NeedsEdited(needs)) => self.edit(now, fx, |r| r.needs = needs),
            (Step::Review | Step::Sign, Event::PrintRequested) => self.print_receipt(now, fx),
            (Step::Sign, Event::Printed(outcome)) => match outcome {
                PrintOutcome::Printed => self.print = PrintState::AwaitingSignature,
                PrintOutcome::Failed { message_zh, .. } => {
                    self.notice = Some(message_zh.clone());
                    self.print = PrintState::Failed(message_zh);
                }
            },
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
                    self.notice = Some("保存记录时出错，请联系工作人员，记录不会丢失".into());
                }
            },
            (step, Event::Next) => self.next(step, now, fx),
            (step, Event::Back) => self.back(step, fx),
            (Step::Review, Event::JumpToField(field)) => {
                if let Some(step) = self.step_for_field(&field) {
                    self.go(step, fx);
                }
            }
            // Anything else does not apply to the current screen.
            _ => {}
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
        self.step = Step::Identity;
        fx.push(Effect::LoadDraft(t.id_number.clone()));
        fx.push(Effect::LookUpPerson(t.id_number.clone()));
    }

    fn on_manual_identity(
        &mut self,
        identity: Identity,
        card_photo: PhotoRef,
        now: DateTime<Utc>,
        fx: &mut Vec<Effect>,
    ) {
        let identity = Identity {
            source: IdentitySource::Typed,
            card: None,
            ..identity
        };
        let id = IdNumber::parse(&identity.id_number, now.date_naive());
        let mut record = self.new_record(identity, now);
        record.photos.card_photo = Some(card_photo);
        self.record = Some(record);
        self.found_in_base = None;
        self.step = Step::Identity;
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
            PrintState::AwaitingSignature | PrintState::Saving
        ) {
            return;
        }
        if let Some(r) = self.record.as_mut() {
            change(r);
            r.meta.updated_at = now;
            fx.push(Effect::SaveDraft(Box::new(r.clone())));
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
                self.print = PrintState::Printing;
                fx.push(Effect::PrintReceipt(Box::new(valid)));
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
        if self.print != PrintState::AwaitingSignature || staff_id.trim().is_empty() {
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
        let target = match step {
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
    fn step_for_field(&self, field: &str) -> Option<Step> {
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
                match index {
                    Some(i) if field.contains("].") => Step::CategoryDetails(i),
                    // A whole-category problem (missing certificate) is
                    // fixed on the documents page; a rule on the choice page.
                    Some(_) if self.record.is_some() => Step::Documents,
                    _ => Step::Categories,
                }
            }
            "documents" => Step::Documents,
            "living" => Step::Living,
            "needs" => Step::Needs,
            _ => return None,
        })
    }

    /// End of a session without signing: wipe screen, memory and draft.
    fn wipe(&mut self, fx: &mut Vec<Effect>) {
        if let Some(r) = &self.record {
            fx.push(Effect::WipeDraft(r.meta.record_id));
        }
        self.reset(fx);
    }

    fn reset(&mut self, fx: &mut Vec<Effect>) {
        if self.step == Step::InsertCard {
            fx.push(Effect::StopCardReader);
        }
        if self.step == Step::Portrait {
            fx.push(Effect::StopCamera);
        }
        self.record = None;
        self.record_id = Uuid::nil();
        self.step = Step::Attract;
        self.found_in_base = None;
        self.notice = None;
        self.print = PrintState::NotStarted;
        self.warning_since = None;
        self.done_since = None;
    }
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

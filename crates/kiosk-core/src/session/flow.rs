//! The step machine: which page follows which, and what each event does
//! on the page it arrives on.

use super::*;
use chrono::{DateTime, NaiveDate, Utc};

use crate::card::{CardRead, Nation};
use crate::category::{self, Category, DocumentKind};
use crate::forms;
use crate::id_number::IdNumber;
use crate::record::{
    self, CardIdentity, CategoryDetails, ChipPortraitData, DocumentPhoto, Identity, IdentitySource,
    LivingConditions, Meta, MissingReason, Need, Photos, Record, RecordState, Signature,
};
use crate::{FieldPath, Problem};

/// Said when a portrait with issues waits for staff.
pub(super) const PORTRAIT_NEEDS_STAFF_ZH: &str = "照片还有问题，请工作人员确认后再继续";

/// A certificate mark staff asked for, until their PIN says who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PendingMark {
    kind: DocumentKind,
    reason: MissingReason,
    note: String,
}

/// What the record holds of the chip portrait, said truthfully: the raw
/// data only when it was kept, with why it was not decoded (`why_not`,
/// from the decoder) if there is no decoded photo.
fn chip_portrait_note(photos: &Photos, why_not: Option<&str>) -> String {
    let kept = photos.card_portrait_wlt.as_ref().map(ChipPortraitData::len);
    let why_not = why_not
        .map(str::trim)
        .filter(|text| !text.is_empty())
        .unwrap_or("芯片照片尚未解码");
    match (&photos.card_portrait, kept) {
        (Some(_), Some(len)) => format!("芯片照片已解码；芯片原始照片数据（{len} 字节）一并保存"),
        (Some(_), None) => String::new(),
        (None, Some(len)) => {
            format!("{why_not}；已保存芯片原始照片数据（{len} 字节），可由县级解码")
        }
        (None, None) => format!("{why_not}；读卡器未提供芯片照片数据"),
    }
}

/// How many pages of `kind` the record holds.
fn pages_of(record: &Record, kind: DocumentKind) -> u8 {
    let count = record.documents.iter().filter(|d| d.kind == kind).count();
    u8::try_from(count).unwrap_or(u8::MAX)
}

/// A certificate page arrived: it replaces the same page, or follows the
/// last page of its kind. A page that would leave a gap is dropped. A
/// certificate shown after all loses its "not shown" mark.
fn place_document(record: &mut Record, doc: DocumentPhoto) {
    if let Some(same) = record
        .documents
        .iter_mut()
        .find(|d| d.kind == doc.kind && d.page == doc.page)
    {
        *same = doc;
        return;
    }
    let pages = pages_of(record, doc.kind);
    if doc.page != pages.saturating_add(1) || doc.page > record::MAX_DOCUMENT_PAGES {
        return;
    }
    record.missing_documents.retain(|m| m.kind != doc.kind);
    let after_last_page = record
        .documents
        .iter()
        .rposition(|d| d.kind == doc.kind)
        .map_or(record.documents.len(), |at| at + 1);
    record.documents.insert(after_last_page, doc);
}

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

impl Session {
    pub(super) fn on_event(&mut self, event: Event, now: DateTime<Utc>, fx: &mut Vec<Effect>) {
        // Answers and asking for help leave a notice (device trouble) in place.
        if !matches!(
            event,
            Event::LookUpAnswered(_)
                | Event::DraftFound(_)
                | Event::ReturnedRecordFound(_)
                | Event::HelpRequested { .. }
                | Event::HelpClosed
        ) {
            self.notice = None;
        }
        if !matches!(event, Event::Cancel) {
            self.confirming_cancel = false;
        }
        // A date that is no date is not kept; say why, beside the page.
        if let Event::DetailsFieldEdited { edit, .. }
        | Event::LivingFieldEdited { edit, .. }
        | Event::FieldEdited { edit, .. } = &event
        {
            self.notice = forms::edit_notice_zh(edit).map(str::to_string);
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
            (_, Event::StaffMemberChosen(id)) => self.choose_member(&id),
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
                        record.photos.card_portrait = photo;
                        record.photos.card_portrait_note =
                            chip_portrait_note(&record.photos, Some(&note_zh));
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
            (Step::Identity, Event::FoundRecordConfirmed) if self.county_record.is_some() => {
                self.returning = Some(Returning::Confirmed);
                self.next(Step::Identity, now, fx);
            }
            (Step::Identity, Event::FoundRecordToUpdate) if self.county_record.is_some() => {
                self.returning = Some(Returning::Updating);
                self.next(Step::Identity, now, fx);
            }
            (Step::Identity, Event::ReturnedRecordFound(returned)) => self.on_returned(returned),
            (_, Event::DraftFound(_))
            | (_, Event::LookUpAnswered(_))
            | (_, Event::ReturnedRecordFound(_)) => {}
            (_, Event::PhotoFailed { message_zh }) => {
                self.notice = Some(message_zh.clone());
                fx.push(Effect::Speak(message_zh));
            }
            (_, Event::PhoneEntered(phone)) => self.edit(now, fx, |r| r.identity.phone = phone),
            (_, Event::CurrentAddressEntered(address)) => {
                self.edit(now, fx, |r| r.identity.current_address = address)
            }
            (Step::Portrait, Event::PortraitTaken(photo)) => {
                self.portrait_taken(photo, Vec::new(), now, fx);
            }
            (Step::Portrait, Event::PortraitTakenWithIssues { photo, issues_zh }) => {
                self.portrait_taken(photo, issues_zh, now, fx);
            }
            (Step::Portrait, Event::RetakePortrait) => {
                fx.push(Effect::StartCamera);
                self.portrait_since = Some(now);
                self.manual_capture_offered = false;
                self.edit(now, fx, |r| {
                    r.photos.portrait = None;
                    r.photos.portrait_issues.clear();
                    r.photos.portrait_acceptance = None;
                });
            }
            (Step::Portrait, Event::AutoCaptureUnavailable { message_zh }) => {
                self.manual_capture_offered = true;
                self.notice = Some(message_zh.clone());
                fx.push(Effect::Speak(message_zh));
            }
            (Step::Portrait, Event::TakePortraitNow) => {
                let has_portrait = self
                    .record
                    .as_ref()
                    .is_some_and(|r| r.photos.portrait.is_some());
                if self.manual_capture_offered && !has_portrait {
                    fx.push(Effect::CapturePortraitNow);
                }
            }
            (Step::Portrait, Event::StaffAcceptPortrait) => {
                let waiting = self.record.as_ref().is_some_and(|r| {
                    !r.photos.portrait_issues.is_empty() && r.photos.portrait_acceptance.is_none()
                });
                if waiting {
                    self.open_pin(PinPurpose::AcceptPortrait);
                }
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
            (
                Step::Documents,
                Event::TakePhoto(purpose @ PhotoPurpose::Document { kind, page }),
            ) => {
                // Page n retakes it; one past the last adds a page.
                let pages = self.record.as_ref().map_or(0, |r| pages_of(r, kind));
                if page >= 1
                    && page <= pages.saturating_add(1)
                    && page <= record::MAX_DOCUMENT_PAGES
                {
                    fx.push(Effect::CapturePhoto(purpose));
                }
            }
            (_, Event::DocumentTaken(doc)) => self.edit(now, fx, |r| place_document(r, doc)),
            (_, Event::DocumentRemoved(index)) => self.edit(now, fx, |r| {
                if index < r.documents.len() {
                    let removed = r.documents.remove(index);
                    // The later pages move up: pages stay 1, 2, … in order.
                    for doc in r.documents.iter_mut().skip(index) {
                        if doc.kind == removed.kind {
                            doc.page = doc.page.saturating_sub(1).max(1);
                        }
                    }
                }
            }),
            (Step::Documents, Event::MarkDocumentMissing { kind, reason, note }) => {
                let photographed = self.record.as_ref().is_some_and(|r| pages_of(r, kind) > 0);
                // The ID card is covered by the chip read or the card photo.
                if !photographed && kind != DocumentKind::IdCard {
                    self.pending_mark = Some(PendingMark { kind, reason, note });
                    self.open_pin(PinPurpose::MarkDocumentMissing);
                }
            }
            (Step::Documents, Event::UnmarkDocument(kind)) => self.edit(now, fx, |r| {
                r.missing_documents.retain(|m| m.kind != kind);
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
                Err(message_zh) => {
                    // Stay on the signing page with the signed record in
                    // memory; staff can retry and nothing is lost.
                    self.print = PrintState::AwaitingSignature;
                    if let Some(r) = self.record.as_mut() {
                        r.signature = None;
                        r.meta.state = RecordState::Draft;
                    }
                    // The store's words say why (a full disk is not a broken
                    // kiosk); a blank answer still gets a message.
                    let message_zh = if message_zh.trim().is_empty() {
                        "保存记录时出错，请联系工作人员，记录不会丢失".to_string()
                    } else {
                        message_zh
                    };
                    fx.push(Effect::Speak(message_zh.clone()));
                    self.notice = Some(message_zh);
                }
            },
            // Only while a record is being filled in; the store's own
            // status line tells staff in any case.
            (step, Event::DraftNotSaved { message_zh })
                if self.record.is_some() && step != Step::Done =>
            {
                self.notice = Some(message_zh);
            }
            (Step::Review, Event::JumpToField(field)) => {
                let problems = self
                    .record
                    .as_ref()
                    .map(|r| record::problems(r, now.date_naive()))
                    .unwrap_or_default();
                if let Some(step) = self.step_for_field(&FieldPath::parse(&field), &problems) {
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

    pub(super) fn on_card(&mut self, read: CardRead, now: DateTime<Utc>, fx: &mut Vec<Effect>) {
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
        // The chip portrait as read, for the county to decode; the note
        // says what is kept until the decoder answers (`CardPortraitDecoded`).
        record.photos.card_portrait_wlt = ChipPortraitData::new(read.photo_wlt);
        record.photos.card_portrait_note = chip_portrait_note(&record.photos, None);
        self.record = Some(record);
        self.found_in_base = None;
        self.county_record = None;
        self.returning = None;
        self.resumed_draft = false;
        self.go(Step::Identity, fx);
        fx.push(Effect::LoadDraft(t.id_number.clone()));
        fx.push(Effect::LookUpPerson(t.id_number.clone()));
    }

    pub(super) fn on_manual_identity(
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
        self.county_record = None;
        self.returning = None;
        self.resumed_draft = false;
        self.go(Step::Identity, fx);
        if let Ok(id) = id {
            fx.push(Effect::LoadDraft(id.clone()));
            fx.push(Effect::LookUpPerson(id));
        }
    }

    /// The county knows this person: keep the fresh identity from the card
    /// and fill in from their record only what the person has not entered
    /// yet, so they check and complete instead of retyping. The county's
    /// record is kept to be shown: the person confirms it or updates it.
    /// A resumed draft is the person's own latest word and is never
    /// overwritten, whichever answer came first.
    pub(super) fn on_lookup(&mut self, found: Option<Record>, now: DateTime<Utc>) {
        self.found_in_base = Some(found.is_some());
        let resumed_draft = self.resumed_draft;
        let (Some(current), Some(found)) = (self.record.as_mut(), found) else {
            return;
        };
        if found.identity.id_number != current.identity.id_number {
            return;
        }
        if current.meta.supersedes.is_none() {
            current.meta.supersedes = Some(found.meta.record_id);
        }
        if !resumed_draft {
            if current.categories.is_empty() {
                current.categories = found.categories.clone();
            }
            if current.living == LivingConditions::default() {
                current.living = found.living.clone();
            }
            if current.identity.phone.is_empty() {
                current.identity.phone = found.identity.phone.clone();
            }
            if current.identity.current_address.is_empty() {
                current.identity.current_address = found.identity.current_address.clone();
            }
            current.meta.updated_at = now;
        }
        self.county_record = Some(Box::new(found));
    }

    /// A draft of this person from an interrupted session: resume it, with
    /// the identity just read. It wins over what a look-up filled in before
    /// it arrived (the draft is what the person said last).
    pub(super) fn on_draft(&mut self, draft: Record, now: DateTime<Utc>) {
        let Some(current) = self.record.as_mut() else {
            return;
        };
        if draft.identity.id_number != current.identity.id_number
            || draft.meta.state != RecordState::Draft
        {
            return;
        }
        let mut identity = current.identity.clone();
        // The card does not carry what the person typed: keep the draft's.
        identity.phone = draft.identity.phone.clone();
        identity.current_address = draft.identity.current_address.clone();
        let photos_card = current.photos.card_photo.clone();
        let supersedes = current.meta.supersedes;
        *current = draft;
        current.identity = identity;
        if photos_card.is_some() {
            current.photos.card_photo = photos_card;
        }
        if current.meta.supersedes.is_none() {
            current.meta.supersedes = supersedes;
        }
        current.meta.updated_at = now;
        // The session continues under the draft's id, so the draft is
        // replaced rather than duplicated.
        self.record_id = current.meta.record_id;
        self.resumed_draft = true;
        self.notice = Some("已找到您上次未完成的登记，可以接着填写".into());
    }

    pub(super) fn new_record(&mut self, identity: Identity, now: DateTime<Utc>) -> Record {
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
            missing_documents: Vec::new(),
            signature: None,
            checks: Vec::new(),
        }
    }

    pub(super) fn edit(
        &mut self,
        now: DateTime<Utc>,
        fx: &mut Vec<Effect>,
        change: impl FnOnce(&mut Record),
    ) {
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

    pub(super) fn toggle(&mut self, category: Category, now: DateTime<Utc>, fx: &mut Vec<Effect>) {
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

    pub(super) fn print_receipt(&mut self, now: DateTime<Utc>, fx: &mut Vec<Effect>) {
        if matches!(
            self.print,
            PrintState::Printing | PrintState::AwaitingSignature | PrintState::Saving
        ) {
            return;
        }
        let Some(r) = &self.record else { return };
        match record::validate(r, now.date_naive()) {
            Ok(valid) => {
                let valid = self.noted(valid, now);
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

    /// A record validated under a clock that fails its bounds says so.
    fn noted(&self, valid: record::ValidRecord, now: DateTime<Utc>) -> record::ValidRecord {
        match self.clock_verdict(now).record_note(now) {
            Some(note) => valid.with_note(note),
            None => valid,
        }
    }

    pub(super) fn sign(&mut self, staff_id: String, now: DateTime<Utc>, fx: &mut Vec<Effect>) {
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
                let valid = self.noted(valid, now);
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

    /// A portrait arrived: automatic (no issues) or by hand (with the
    /// issues staff must accept before the person goes on).
    fn portrait_taken(
        &mut self,
        photo: PhotoRef,
        issues_zh: Vec<String>,
        now: DateTime<Utc>,
        fx: &mut Vec<Effect>,
    ) {
        fx.push(Effect::StopCamera);
        self.portrait_since = None;
        self.manual_capture_offered = false;
        self.edit(now, fx, |r| {
            r.photos.portrait = Some(photo);
            r.photos.portrait_issues = issues_zh;
            r.photos.portrait_acceptance = None;
        });
    }

    /// Staff accepted the portrait's issues with their PIN.
    pub(super) fn accept_portrait(
        &mut self,
        staff_id: String,
        now: DateTime<Utc>,
        fx: &mut Vec<Effect>,
    ) {
        let Some(issues) = self
            .record
            .as_ref()
            .map(|r| r.photos.portrait_issues.clone())
            .filter(|issues| !issues.is_empty())
        else {
            return;
        };
        self.edit(now, fx, |r| {
            r.photos.portrait_acceptance = Some(record::PortraitAcceptance {
                issues,
                accepted_by: staff_id,
                accepted_at: now,
            });
        });
    }

    /// Staff gave their PIN for the certificate mark waiting in the session.
    pub(super) fn mark_document_missing(
        &mut self,
        staff_id: String,
        now: DateTime<Utc>,
        fx: &mut Vec<Effect>,
    ) {
        let Some(PendingMark { kind, reason, note }) = self.pending_mark.take() else {
            return;
        };
        self.edit(now, fx, |r| {
            let mark = record::MissingDocument {
                kind,
                reason,
                note: note.trim().to_string(),
                marked_by: staff_id,
                marked_at: now,
            };
            match r.missing_documents.iter_mut().find(|m| m.kind == kind) {
                Some(old) => *old = mark,
                None => r.missing_documents.push(mark),
            }
        });
    }

    pub(super) fn go(&mut self, step: Step, fx: &mut Vec<Effect>) {
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
                self.portrait_since = Some(self.last_activity);
                self.manual_capture_offered = false;
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

    pub(super) fn next(&mut self, step: Step, now: DateTime<Utc>, fx: &mut Vec<Effect>) {
        let Some(r) = &self.record else { return };
        let chosen = self.chosen_categories();
        let target = match step {
            Step::Identity => {
                if let Some(message) = self.reopen_mismatch_zh() {
                    self.notice = Some(message.into());
                    return;
                }
                Step::Portrait
            }
            Step::Portrait => {
                if r.photos.portrait.is_none() {
                    self.notice = Some("请先拍摄照片".into());
                    return;
                }
                if !r.photos.portrait_issues.is_empty() && r.photos.portrait_acceptance.is_none() {
                    self.notice = Some(PORTRAIT_NEEDS_STAFF_ZH.into());
                    return;
                }
                // A returning person who said nothing changed checks the
                // whole record on the review page instead of every page.
                if self.returning == Some(Returning::Confirmed) && !chosen.is_empty() {
                    Step::Review
                } else {
                    Step::Categories
                }
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

    pub(super) fn back(&mut self, step: Step, fx: &mut Vec<Effect>) {
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

    /// The page on which a problem's field is edited; `None` for what only
    /// staff can fix (meta, signature). `problems` are the record's
    /// problems: `categories[i]` names both a missing certificate and a rule
    /// on the choice, and only the certificate is fixed on the documents page.
    pub(super) fn step_for_field(&self, field: &FieldPath, problems: &[Problem]) -> Option<Step> {
        Some(match field.section() {
            "identity" => Step::Identity,
            "photos" if field.subfield() == Some("portrait") => Step::Portrait,
            "photos" => Step::Identity,
            "categories" => {
                let count = self.record.as_ref().map_or(0, |r| r.categories.len());
                let is_document_problem = || {
                    problems
                        .iter()
                        .any(|p| p.field.as_ref() == Some(field) && p.code == "document_missing")
                };
                match field.section_index() {
                    Some(i) if field.subfield().is_some() && i < count => Step::CategoryDetails(i),
                    // A whole-category problem (missing certificate) is
                    // fixed on the documents page; a rule on the choice page.
                    Some(i) if i < count && is_document_problem() => Step::Documents,
                    _ => Step::Categories,
                }
            }
            "documents" | "missing_documents" => Step::Documents,
            "living" => Step::Living,
            "needs" => Step::Needs,
            _ => return None,
        })
    }
}

/// The spoken prompt when a page opens.
pub(super) fn prompt_for(step: Step) -> Option<&'static str> {
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
pub(super) fn parse_typed_date(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    ["%Y-%m-%d", "%Y%m%d", "%Y.%m.%d", "%Y/%m/%d"]
        .iter()
        .find_map(|format| NaiveDate::parse_from_str(text, format).ok())
}

pub(super) fn identity_from_card(card: &CardIdentity) -> Identity {
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

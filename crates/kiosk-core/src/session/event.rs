//! What the shell tells the session ([`Event`]) and what the session asks
//! the shell to do ([`Effect`]), with their payloads.

use super::*;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::card::CardRead;
use crate::category::{Category, DocumentKind};
use crate::forms::FieldEdit;
use crate::id_number::IdNumber;
use crate::record::{
    CategoryDetails, DocumentPhoto, LivingConditions, MissingReason, Need, NeedArea, PhotoRef,
    Record, RecordState, ValidRecord,
};
use crate::staff::AuditEntry;

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

/// What a still photo is taken for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoPurpose {
    /// The ID card itself, when the identity is typed.
    IdCard,
    /// One page of a certificate: page 1 first, a higher page adds or
    /// retakes a further information page.
    Document { kind: DocumentKind, page: u8 },
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

/// A record of this person that the county returned (rejected), found in
/// this kiosk's outbox by the keyed look-up tag of the ID number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnedRecord {
    pub record_id: Uuid,
    /// The short number staff and the receipt use (`K7Q2-M9XD-3F8A`).
    pub record_number: String,
    /// The county's reasons, in its words.
    pub reasons_zh: Vec<String>,
}

/// One device's state, for the staff device view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceLine {
    pub name_zh: String,
    pub ok: bool,
    pub status_zh: String,
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
    /// Also answering [`Effect::LoadDraft`], after `DraftFound`: this
    /// kiosk's last record of this person came back from the county.
    ReturnedRecordFound(ReturnedRecord),
    /// A returning person says the county's record shown to them is still
    /// right ("没有变化").
    FoundRecordConfirmed,
    /// A returning person has changes to the county's record ("有变化").
    FoundRecordToUpdate,
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
    /// Staff mark a certificate the person cannot show (asks for a staff
    /// PIN; the PIN names who marked it).
    MarkDocumentMissing {
        kind: DocumentKind,
        reason: MissingReason,
        note: String,
    },
    /// The mark on a certificate is taken back (it was found after all).
    UnmarkDocument(DocumentKind),
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
    /// Answer to [`Effect::Enqueue`]: durably stored (or not; then the
    /// error is in plain words for the person and staff).
    Enqueued(Result<(), String>),
    /// An [`Effect::SaveDraft`] failed (a full disk): the session goes on
    /// in memory, but the person and staff must know that a power cut now
    /// would lose what was entered.
    DraftNotSaved {
        message_zh: String,
    },
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
    /// A staff member picked their name on the PIN pad (when there are
    /// several); the PIN is then checked against theirs only.
    StaffMemberChosen(String),
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
    /// The camera cannot take the portrait by itself (no face model): the
    /// person takes it with the button and staff confirm it.
    AutoCaptureUnavailable {
        message_zh: String,
    },
    /// The person pressed "拍照" (offered after a while without an
    /// automatic capture); answered by `PortraitTakenWithIssues` or
    /// `PhotoFailed`.
    TakePortraitNow,
    /// A portrait taken by hand, with what the coach still found wrong
    /// with it (in the words shown).
    PortraitTakenWithIssues {
        photo: PhotoRef,
        issues_zh: Vec<String>,
    },
    /// Staff accept the portrait with its issues (asks for a staff PIN).
    StaffAcceptPortrait,
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
    /// Take the portrait now from the best frame seen since the camera
    /// started; answer `PortraitTakenWithIssues` (or `PortraitTaken` when
    /// nothing is wrong with it).
    CapturePortraitNow,
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

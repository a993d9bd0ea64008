//! The serde model of one registration: what travels (JSON on disk,
//! sealed to the county).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::CategoryDetails;
use crate::category::DocumentKind;
use crate::id_number::Sex;

/// Bumped whenever the JSON shape changes incompatibly.
pub const SCHEMA_VERSION: u32 = 1;

/// Size caps from the plan (§四(二)), in decimal bytes.
pub const PORTRAIT_MAX_BYTES: u64 = 300_000;
pub const CARD_PHOTO_MAX_BYTES: u64 = 40_000;
pub const CARD_PORTRAIT_MAX_BYTES: u64 = 3_000;
pub const DOCUMENT_MAX_BYTES: u64 = 300_000;
/// Pages kept of one document kind (户口本 首页 and 本人页; certificates
/// with more than one information page). Each page has its own size cap.
pub const MAX_DOCUMENT_PAGES: u8 = 6;
/// Length of the chip portrait (WLT) in a GA 467 card read.
pub const CHIP_PORTRAIT_LEN: usize = 1024;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    pub meta: Meta,
    pub identity: Identity,
    /// The chosen categories, each with its detail module (附件2–13).
    #[serde(default)]
    pub categories: Vec<CategoryDetails>,
    #[serde(default)]
    pub living: LivingConditions,
    /// Voluntary: an empty list is a complete answer.
    #[serde(default)]
    pub needs: Vec<Need>,
    #[serde(default)]
    pub photos: Photos,
    /// Certificates photographed at the kiosk, the pages of one kind in
    /// page order.
    #[serde(default)]
    pub documents: Vec<DocumentPhoto>,
    /// Certificates the person could not show, each marked by staff (the
    /// plan collects certificates "as far as possible", §四(二)).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_documents: Vec<MissingDocument>,
    #[serde(default)]
    pub signature: Option<Signature>,
    /// What validation found that does not block signing (warnings,
    /// advice, 待核实), filled in when the record is validated for signing,
    /// so the county sees what staff saw. Absent in older records.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<crate::Problem>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    /// Generated once when the session starts; the idempotency key upstream.
    pub record_id: Uuid,
    pub schema_version: u32,
    pub kiosk_id: String,
    pub township: Township,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub state: RecordState,
    /// The record this one corrects, if any (like ODK's `deprecatedID`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supersedes: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Township {
    /// GB/T 2260 county code plus the township's three digits.
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordState {
    Draft,
    Signed,
    Sent,
    Accepted,
    Rejected,
    Superseded,
}

impl RecordState {
    pub const ALL: [RecordState; 6] = [
        RecordState::Draft,
        RecordState::Signed,
        RecordState::Sent,
        RecordState::Accepted,
        RecordState::Rejected,
        RecordState::Superseded,
    ];

    /// The state's name in JSON, in the store and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordState::Draft => "draft",
            RecordState::Signed => "signed",
            RecordState::Sent => "sent",
            RecordState::Accepted => "accepted",
            RecordState::Rejected => "rejected",
            RecordState::Superseded => "superseded",
        }
    }

    pub fn as_zh(self) -> &'static str {
        match self {
            RecordState::Draft => "填写中",
            RecordState::Signed => "已签字待上传",
            RecordState::Sent => "已上传待审核",
            RecordState::Accepted => "审核通过",
            RecordState::Rejected => "被退回待修改",
            RecordState::Superseded => "已被更正记录取代",
        }
    }
}

impl fmt::Display for RecordState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A text that names no [`RecordState`]; holds the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown record state {0:?}: one of draft, signed, sent, accepted, rejected, superseded")]
pub struct UnknownRecordState(pub String);

impl FromStr for RecordState {
    type Err = UnknownRecordState;

    /// Exactly one of the names [`RecordState::as_str`] gives.
    fn from_str(text: &str) -> Result<RecordState, UnknownRecordState> {
        RecordState::ALL
            .into_iter()
            .find(|state| state.as_str() == text)
            .ok_or_else(|| UnknownRecordState(text.to_string()))
    }
}

/// Where the identity came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentitySource {
    /// Read from the chip through a certified reader.
    Card,
    /// Typed by staff from the card, with a photo of the card as evidence.
    Typed,
}

/// The identity as the card states it. Every field must match the card
/// exactly (§四(一)), so these are kept as the card's own strings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardIdentity {
    pub name: String,
    pub sex: Sex,
    /// GB 3304 ethnicity code, 1–56, 97 or 98.
    pub nation_code: u8,
    pub birth_date: NaiveDate,
    pub address: String,
    pub id_number: String,
    pub authority: String,
    pub valid_from: NaiveDate,
    /// `YYYY-MM-DD` or `长期`.
    pub valid_to: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    pub source: IdentitySource,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub sex: Option<Sex>,
    #[serde(default)]
    pub nation_code: Option<u8>,
    #[serde(default)]
    pub birth_date: Option<NaiveDate>,
    /// Registered (household) address, as on the card.
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub id_number: String,
    #[serde(default)]
    pub authority: String,
    #[serde(default)]
    pub valid_from: Option<NaiveDate>,
    #[serde(default)]
    pub valid_to: String,
    /// Contact telephone; optional, many elderly people have none.
    #[serde(default)]
    pub phone: String,
    /// Where the person actually lives, if not the registered address.
    #[serde(default)]
    pub current_address: String,
    /// What the chip said, kept to prove the identity fields match it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<CardIdentity>,
}

// ---------------------------------------------------------------- living

/// 基本生活状况 (§二(三)). `None` means "not answered yet"; every question
/// has an explicit "none" answer so that a complete record has no blanks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LivingConditions {
    pub work: Option<WorkStatus>,
    /// Average monthly income of the person, in whole yuan.
    pub monthly_income_yuan: Option<u32>,
    pub pension_insurance: Option<PensionInsurance>,
    pub medical_insurance: Option<MedicalInsurance>,
    pub housing: Option<Housing>,
    /// Social assistance received; an empty list answered means "none".
    pub social_assistance: Option<Vec<SocialAssistance>>,
    /// State pensions and subsidies received; empty means "none".
    pub state_benefits: Option<Vec<StateBenefit>>,
    /// 残疾人两项补贴 received; empty means "none".
    pub disability_subsidies: Option<Vec<DisabilitySubsidy>>,
    /// Anything the person wants to add, free text.
    #[serde(default)]
    pub remarks: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkStatus {
    Employed,
    SelfEmployed,
    Farming,
    Unemployed,
    Retired,
    UnableToWork,
    Student,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PensionInsurance {
    /// 职工基本养老保险
    Employee,
    /// 机关事业单位养老保险
    PublicSector,
    /// 城乡居民基本养老保险
    Resident,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MedicalInsurance {
    /// 职工基本医疗保险
    Employee,
    /// 城乡居民基本医疗保险
    Resident,
    /// 公费医疗 / 军队离退休人员医疗保障
    PublicHealthcare,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Housing {
    Owned,
    Rented,
    PublicRental,
    WithFamily,
    /// 危房
    Dilapidated,
    NoFixedHome,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SocialAssistance {
    /// 最低生活保障
    MinimumLiving,
    /// 特困人员供养
    ExtremePoverty,
    /// 临时救助
    Temporary,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StateBenefit {
    /// 定期抚恤金
    RegularPension,
    /// 定期生活补助
    RegularLivingAllowance,
    /// 伤残抚恤金
    DisabilityPension,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisabilitySubsidy {
    /// 困难残疾人生活补贴
    LivingAllowance,
    /// 重度残疾人护理补贴
    NursingAllowance,
}

// ----------------------------------------------------------------- needs

/// One difficulty or request, raised by the person (§二(四)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Need {
    pub area: NeedArea,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NeedArea {
    Employment,
    Living,
    Housing,
    Medical,
    ElderlyCare,
    Education,
    Transport,
    Culture,
    Other,
}

// ---------------------------------------------------------------- photos

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhotoRef {
    /// SHA-256 of the JPG bytes, lower-case hex; the blob's key.
    pub sha256: String,
    pub bytes: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Photos {
    /// Head-and-shoulders photo taken at the kiosk (≤300 KB).
    pub portrait: Option<PhotoRef>,
    /// The chip's portrait as JPG (≤3 KB), when a decoder was available.
    pub card_portrait: Option<PhotoRef>,
    /// What the record holds of the chip portrait, in words for the county
    /// (e.g. no WLT decoder configured, the raw data kept).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub card_portrait_note: String,
    /// The chip portrait exactly as read (WLT, 1,024 bytes), kept so the
    /// county can decode it with the vendor's library.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_portrait_wlt: Option<ChipPortraitData>,
    /// Photo of the ID card (≤40 KB); required when identity was typed.
    pub card_photo: Option<PhotoRef>,
    /// What the photo coach still found wrong with the portrait, in the
    /// words shown at the kiosk; empty for an automatic capture (which is
    /// only taken when nothing is wrong).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub portrait_issues: Vec<String>,
    /// Staff accepted the portrait with those issues.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub portrait_acceptance: Option<PortraitAcceptance>,
}

/// A portrait staff accepted although it has issues (taken by hand after
/// the coach did not get there, or with no face model to check it), so the
/// county sees what was accepted and by whom.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortraitAcceptance {
    /// The issues accepted, as listed to staff.
    pub issues: Vec<String>,
    /// Staff member's id (not a name).
    pub accepted_by: String,
    pub accepted_at: DateTime<Utc>,
}

/// The chip portrait's raw bytes; base64 (standard alphabet, padded) in
/// JSON.
#[derive(Clone, PartialEq, Eq)]
pub struct ChipPortraitData(Vec<u8>);

impl ChipPortraitData {
    /// `None` for an empty read: nothing to keep.
    pub fn new(bytes: Vec<u8>) -> Option<ChipPortraitData> {
        (!bytes.is_empty()).then_some(ChipPortraitData(bytes))
    }
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for ChipPortraitData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChipPortraitData({} bytes)", self.0.len())
    }
}

impl Serialize for ChipPortraitData {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use base64::Engine;
        serializer.serialize_str(&base64::engine::general_purpose::STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for ChipPortraitData {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use base64::Engine;
        let text = String::deserialize(deserializer)?;
        base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map(ChipPortraitData)
            .map_err(|err| serde::de::Error::custom(format!("card_portrait_wlt: {err}")))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentPhoto {
    pub kind: DocumentKind,
    pub photo: PhotoRef,
    /// Which page of the document, from 1 (records before pages existed
    /// hold one page of each kind).
    #[serde(default = "first_page", skip_serializing_if = "is_first_page")]
    pub page: u8,
}

fn first_page() -> u8 {
    1
}

fn is_first_page(page: &u8) -> bool {
    *page == 1
}

impl DocumentPhoto {
    /// The first (or only) page of a document.
    pub fn first_page(kind: DocumentKind, photo: PhotoRef) -> DocumentPhoto {
        DocumentPhoto {
            kind,
            photo,
            page: 1,
        }
    }
}

/// A certificate not shown, as staff marked it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MissingDocument {
    pub kind: DocumentKind,
    pub reason: MissingReason,
    /// What staff add (e.g. "下周一送来复印件"); may be empty.
    #[serde(default)]
    pub note: String,
    /// Staff member's id (not a name).
    pub marked_by: String,
    pub marked_at: DateTime<Utc>,
}

/// Why a certificate was not shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingReason {
    /// 未带: exists, not brought today.
    NotBrought,
    /// 遗失: lost.
    Lost,
    /// 待补: to be handed in later.
    ToFollow,
}

impl MissingReason {
    pub const ALL: [MissingReason; 3] = [
        MissingReason::NotBrought,
        MissingReason::Lost,
        MissingReason::ToFollow,
    ];

    pub fn name_zh(self) -> &'static str {
        match self {
            MissingReason::NotBrought => "未带",
            MissingReason::Lost => "遗失",
            MissingReason::ToFollow => "待补",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signature {
    pub receipt_printed_at: DateTime<Utc>,
    /// When the staff member confirmed the person signed the receipt.
    pub signed_at: DateTime<Utc>,
    /// Staff member's id (not a name) who witnessed it.
    pub witnessed_by: String,
}

//! The twelve categories of people the kiosk registers, the documents each
//! calls for, and the rules for combining them (plan §二(二)1).
//!
//! Numbering follows §二(二)1, which every record and config uses. It differs
//! from §一 and from the order of the form annexes: there the Red Army
//! veteran comes fifth and the demobilised serviceman sixth; here 5 is
//! 复员军人 and 6 is 退伍红军老战士. [`Category::annex_no`] gives the form annex.
//!
//! Serde: a category is written as its code number (`2`), so a record reads
//! next to the plan; it is read back from that number, a numeric string
//! (`"2"`), the slug (`"discharged-soldier"`) or the Chinese name.
//!
//! Combination rules: [`check_selection`] reports every broken rule of a
//! finished selection; [`option_states`] tells the UI which options to grey
//! out while the selection is being made, and [`pending_requirements`] what
//! is still missing. A rule is an *exclusivity* rule when adding categories
//! can never repair it (only removing can); those are the ones that disable
//! options. "7 needs one of 1–6" and "at least one" are repaired by adding,
//! so they never disable anything.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::Problem;

/// One of the twelve categories of §二(二)1. The discriminant is the code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Category {
    /// 1 军队转业干部
    TransferredOfficer = 1,
    /// 2 退役士兵
    DischargedSoldier = 2,
    /// 3 军队离退休干部和退休士官
    RetiredOfficerNco = 3,
    /// 4 军队无军籍离退休退职职工
    RetiredNonEnlistedStaff = 4,
    /// 5 复员军人
    DemobilisedServiceman = 5,
    /// 6 退伍红军老战士（含西路军红军老战士和红军失散人员）
    RedArmyVeteran = 6,
    /// 7 残疾军人
    DisabledServiceman = 7,
    /// 8 伤残民兵民工
    DisabledMilitia = 8,
    /// 9 烈士遗属
    MartyrFamily = 9,
    /// 10 因公牺牲军人遗属
    KilledOnDutyFamily = 10,
    /// 11 病故军人遗属
    DiedOfIllnessFamily = 11,
    /// 12 现役军人家属
    ServingMemberFamily = 12,
}

use Category::*;

impl Category {
    /// All twelve, in code order.
    pub const ALL: [Category; 12] = [
        TransferredOfficer,
        DischargedSoldier,
        RetiredOfficerNco,
        RetiredNonEnlistedStaff,
        DemobilisedServiceman,
        RedArmyVeteran,
        DisabledServiceman,
        DisabledMilitia,
        MartyrFamily,
        KilledOnDutyFamily,
        DiedOfIllnessFamily,
        ServingMemberFamily,
    ];

    /// The number of §二(二)1, 1–12. Stable: records store it.
    pub fn code(self) -> u8 {
        self as u8
    }

    pub fn from_code(code: u8) -> Option<Category> {
        let index = usize::from(code).checked_sub(1)?;
        Category::ALL.get(index).copied()
    }

    /// English kebab-case name, stable, for config files and logs.
    pub fn slug(self) -> &'static str {
        match self {
            TransferredOfficer => "transferred-officer",
            DischargedSoldier => "discharged-soldier",
            RetiredOfficerNco => "retired-officer-nco",
            RetiredNonEnlistedStaff => "retired-non-enlisted-staff",
            DemobilisedServiceman => "demobilised-serviceman",
            RedArmyVeteran => "red-army-veteran",
            DisabledServiceman => "disabled-serviceman",
            DisabledMilitia => "disabled-militia",
            MartyrFamily => "martyr-family",
            KilledOnDutyFamily => "killed-on-duty-family",
            DiedOfIllnessFamily => "died-of-illness-family",
            ServingMemberFamily => "serving-member-family",
        }
    }

    pub fn from_slug(slug: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.slug() == slug)
    }

    /// The short Chinese name used on buttons and in messages.
    pub fn name_zh(self) -> &'static str {
        match self {
            TransferredOfficer => "军队转业干部",
            DischargedSoldier => "退役士兵",
            RetiredOfficerNco => "军队离退休干部和退休士官",
            RetiredNonEnlistedStaff => "军队无军籍离退休退职职工",
            DemobilisedServiceman => "复员军人",
            RedArmyVeteran => "退伍红军老战士",
            DisabledServiceman => "残疾军人",
            DisabledMilitia => "伤残民兵民工",
            MartyrFamily => "烈士遗属",
            KilledOnDutyFamily => "因公牺牲军人遗属",
            DiedOfIllnessFamily => "病故军人遗属",
            ServingMemberFamily => "现役军人家属",
        }
    }

    /// The name as the plan writes it in full (only 6 carries an addition).
    pub fn full_name_zh(self) -> &'static str {
        match self {
            RedArmyVeteran => "退伍红军老战士（含西路军红军老战士和红军失散人员）",
            other => other.name_zh(),
        }
    }

    /// The annex (附件2–13) holding this category's detail form. Annexes
    /// follow §一's order, so 5 and 6 are swapped relative to the code.
    pub fn annex_no(self) -> u8 {
        match self {
            DemobilisedServiceman => 7,
            RedArmyVeteran => 6,
            other => other.code() + 1,
        }
    }

    /// Categories 1–6: the service statuses, of which at most one applies.
    pub fn is_service_status(self) -> bool {
        self.code() <= 6
    }

    /// Accepts, after trimming and ignoring case: the code ("2", also in
    /// full-width digits), the slug ("discharged-soldier", `_` for `-` is
    /// fine), or the Chinese short or full name.
    pub fn parse(input: &str) -> Result<Category, CategoryParseError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(CategoryParseError::Empty);
        }
        let folded: String = trimmed
            .chars()
            .map(|c| match c {
                '０'..='９' => {
                    char::from_u32(u32::from(c) - 0xFF10 + u32::from('0')).unwrap_or(c)
                }
                '_' => '-',
                c => c.to_ascii_lowercase(),
            })
            .collect();
        let by_code = || {
            // Only plain digits, so "+2" or " 2 2" are not codes.
            if folded.bytes().all(|b| b.is_ascii_digit()) && folded.len() <= 3 {
                folded.parse::<u8>().ok().and_then(Category::from_code)
            } else {
                None
            }
        };
        by_code()
            .or_else(|| Category::from_slug(&folded))
            .or_else(|| {
                Category::ALL
                    .into_iter()
                    .find(|c| c.name_zh() == trimmed || c.full_name_zh() == trimmed)
            })
            .ok_or_else(|| CategoryParseError::Unknown {
                item: trimmed.to_string(),
            })
    }

    /// Documents this category calls for, beyond the ones everyone shows
    /// ([`COMMON_DOCUMENTS`]). Each entry is met by any one of its kinds.
    pub fn required_documents(self) -> &'static [DocumentRequirement] {
        use DocumentKind as D;
        // §三(三)1(7): without discharge papers, the enlistment file (e.g. a
        // copy of the veteran registration form) stands in for 1–6.
        const TRANSFER: &[DocumentKind] = &[D::TransferCertificate, D::EnlistmentFileCopy];
        const DISCHARGE: &[DocumentKind] = &[D::DischargeCertificate, D::EnlistmentFileCopy];
        const RETIREMENT: &[DocumentKind] = &[D::RetirementCertificate, D::EnlistmentFileCopy];
        const DEMOBILISATION: &[DocumentKind] =
            &[D::DemobilisationCertificate, D::EnlistmentFileCopy];
        const RED_ARMY: &[DocumentKind] = &[D::RedArmyVeteranProof, D::EnlistmentFileCopy];
        match self {
            TransferredOfficer => &[DocumentRequirement { any_of: TRANSFER }],
            DischargedSoldier => &[DocumentRequirement { any_of: DISCHARGE }],
            RetiredOfficerNco | RetiredNonEnlistedStaff => {
                &[DocumentRequirement { any_of: RETIREMENT }]
            }
            DemobilisedServiceman => &[DocumentRequirement {
                any_of: DEMOBILISATION,
            }],
            RedArmyVeteran => &[DocumentRequirement { any_of: RED_ARMY }],
            DisabledServiceman => &[DocumentRequirement {
                any_of: &[D::DisabledServicemanCertificate],
            }],
            DisabledMilitia => &[DocumentRequirement {
                any_of: &[
                    D::DisabledMilitiaCertificate,
                    D::WarOrDutyDisabilityCertificate,
                ],
            }],
            MartyrFamily => &[DocumentRequirement {
                any_of: &[D::MartyrCertificate],
            }],
            KilledOnDutyFamily => &[DocumentRequirement {
                any_of: &[D::KilledOnDutyCertificate],
            }],
            DiedOfIllnessFamily => &[DocumentRequirement {
                any_of: &[D::DiedOfIllnessCertificate],
            }],
            ServingMemberFamily => &[],
        }
    }

    fn bit(self) -> u16 {
        1 << self.code()
    }
}

impl fmt::Display for Category {
    /// `2 discharged-soldier`: readable in English logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.code(), self.slug())
    }
}

impl FromStr for Category {
    type Err = CategoryParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Category::parse(s)
    }
}

impl Serialize for Category {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u8(self.code())
    }
}

impl<'de> Deserialize<'de> for Category {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CategoryVisitor;
        impl Visitor<'_> for CategoryVisitor {
            type Value = Category;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a category code 1-12, its slug or its Chinese name")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Category, E> {
                u8::try_from(v)
                    .ok()
                    .and_then(Category::from_code)
                    .ok_or_else(|| E::custom(format!("unknown category code {v}")))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Category, E> {
                u8::try_from(v)
                    .ok()
                    .and_then(Category::from_code)
                    .ok_or_else(|| E::custom(format!("unknown category code {v}")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Category, E> {
                Category::parse(v).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(CategoryVisitor)
    }
}

/// Why a category (or a list of them) could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CategoryParseError {
    #[error("no category given")]
    Empty,
    #[error("unknown category {item:?} (expected a code 1-12 or a slug)")]
    Unknown { item: String },
    #[error("category {category} given more than once (as {item:?})")]
    Duplicate { item: String, category: Category },
}

impl CategoryParseError {
    pub fn code(&self) -> &'static str {
        match self {
            CategoryParseError::Empty => "category_empty",
            CategoryParseError::Unknown { .. } => "category_unknown",
            CategoryParseError::Duplicate { .. } => "category_duplicate",
        }
    }

    pub fn message_zh(&self) -> String {
        match self {
            CategoryParseError::Empty => "请填写人员类别".to_string(),
            CategoryParseError::Unknown { item } => format!(
                "“{}”不是有效的人员类别，请填写1至12的类别编号或类别名称",
                shorten(item)
            ),
            CategoryParseError::Duplicate { category, .. } => {
                format!("“{}”填写了不止一次，请只填写一次", category.name_zh())
            }
        }
    }
}

/// Keeps a message readable when someone pastes a long text as an item.
fn shorten(item: &str) -> String {
    const MAX: usize = 20;
    if item.chars().count() <= MAX {
        item.to_string()
    } else {
        let mut s: String = item.chars().take(MAX).collect();
        s.push('…');
        s
    }
}

/// Reads a list such as `"2, 7"`, `"2，残疾军人"`, `"discharged-soldier 9"`.
/// Items are separated by commas (`,` `，` `、`), semicolons or white space;
/// empty items are skipped, so an empty or blank input yields an empty list
/// (whether a selection may be empty is the rules' business, see
/// [`check_selection`]). The order given is kept. A category given twice is
/// an error rather than silently merged: "2,2" is more likely a slip for
/// "2,12" than meant.
pub fn parse_list(input: &str) -> Result<Vec<Category>, CategoryParseError> {
    let mut out: Vec<Category> = Vec::new();
    let separators = |c: char| matches!(c, ',' | '，' | '、' | ';' | '；') || c.is_whitespace();
    for item in input.split(separators).filter(|s| !s.is_empty()) {
        let category = Category::parse(item)?;
        if out.contains(&category) {
            return Err(CategoryParseError::Duplicate {
                item: item.to_string(),
                category,
            });
        }
        out.push(category);
    }
    Ok(out)
}

// ---------------------------------------------------------------- documents

/// A certificate or paper the subject shows and the kiosk photographs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DocumentKind {
    /// 居民身份证
    IdCard,
    /// 户口本
    HouseholdRegister,
    /// 转业证
    TransferCertificate,
    /// 退伍证
    DischargeCertificate,
    /// 离退休证
    RetirementCertificate,
    /// 复员证
    DemobilisationCertificate,
    /// 红军老战士身份证明
    RedArmyVeteranProof,
    /// 入伍档案材料（如退伍军人登记表复印件）, for those without discharge papers
    EnlistmentFileCopy,
    /// 中华人民共和国残疾军人证
    DisabledServicemanCertificate,
    /// 中华人民共和国伤残民兵民工证
    DisabledMilitiaCertificate,
    /// 中华人民共和国因战因公伤残人员证
    WarOrDutyDisabilityCertificate,
    /// 烈士证明书
    MartyrCertificate,
    /// 因公牺牲军人证明书
    KilledOnDutyCertificate,
    /// 病故军人证明书
    DiedOfIllnessCertificate,
    /// 立功受奖证件 (optional: shown where held)
    AwardCertificate,
}

impl DocumentKind {
    pub const ALL: [DocumentKind; 15] = [
        DocumentKind::IdCard,
        DocumentKind::HouseholdRegister,
        DocumentKind::TransferCertificate,
        DocumentKind::DischargeCertificate,
        DocumentKind::RetirementCertificate,
        DocumentKind::DemobilisationCertificate,
        DocumentKind::RedArmyVeteranProof,
        DocumentKind::EnlistmentFileCopy,
        DocumentKind::DisabledServicemanCertificate,
        DocumentKind::DisabledMilitiaCertificate,
        DocumentKind::WarOrDutyDisabilityCertificate,
        DocumentKind::MartyrCertificate,
        DocumentKind::KilledOnDutyCertificate,
        DocumentKind::DiedOfIllnessCertificate,
        DocumentKind::AwardCertificate,
    ];

    pub fn name_zh(self) -> &'static str {
        match self {
            DocumentKind::IdCard => "身份证",
            DocumentKind::HouseholdRegister => "户口本",
            DocumentKind::TransferCertificate => "转业证",
            DocumentKind::DischargeCertificate => "退伍证",
            DocumentKind::RetirementCertificate => "离退休证",
            DocumentKind::DemobilisationCertificate => "复员证",
            DocumentKind::RedArmyVeteranProof => "红军老战士身份证明",
            DocumentKind::EnlistmentFileCopy => "入伍档案材料（如退伍军人登记表复印件）",
            DocumentKind::DisabledServicemanCertificate => "残疾军人证",
            DocumentKind::DisabledMilitiaCertificate => "伤残民兵民工证",
            DocumentKind::WarOrDutyDisabilityCertificate => "因战因公伤残人员证",
            DocumentKind::MartyrCertificate => "烈士证明书",
            DocumentKind::KilledOnDutyCertificate => "因公牺牲军人证明书",
            DocumentKind::DiedOfIllnessCertificate => "病故军人证明书",
            DocumentKind::AwardCertificate => "立功受奖证件",
        }
    }
}

/// A document requirement met by showing any one of `any_of` (most have one
/// kind; 伤残民兵民工 accepts either of two certificates).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct DocumentRequirement {
    pub any_of: &'static [DocumentKind],
}

impl DocumentRequirement {
    pub fn is_met_by(&self, shown: &[DocumentKind]) -> bool {
        self.any_of.iter().any(|k| shown.contains(k))
    }

    /// "伤残民兵民工证或因战因公伤残人员证".
    pub fn name_zh(&self) -> String {
        let names: Vec<&str> = self.any_of.iter().map(|k| k.name_zh()).collect();
        names.join("或")
    }
}

/// What everyone shows, whatever the categories: 身份证 and 户口本.
pub const COMMON_DOCUMENTS: &[DocumentRequirement] = &[
    DocumentRequirement {
        any_of: &[DocumentKind::IdCard],
    },
    DocumentRequirement {
        any_of: &[DocumentKind::HouseholdRegister],
    },
];

/// Shown where held, never required: 立功受奖证件.
pub const OPTIONAL_DOCUMENTS: &[DocumentKind] = &[DocumentKind::AwardCertificate];

/// Everything a selection calls for: the common documents first, then each
/// category's in code order, each requirement once (3 and 4 share one).
pub fn documents_for(selection: &[Category]) -> Vec<DocumentRequirement> {
    let mut out: Vec<DocumentRequirement> = COMMON_DOCUMENTS.to_vec();
    for category in normalised(selection) {
        for req in category.required_documents() {
            if !out.contains(req) {
                out.push(*req);
            }
        }
    }
    out
}

/// The requirements of [`documents_for`] that `shown` does not meet.
pub fn missing_documents(
    selection: &[Category],
    shown: &[DocumentKind],
) -> Vec<DocumentRequirement> {
    documents_for(selection)
        .into_iter()
        .filter(|r| !r.is_met_by(shown))
        .collect()
}

// ---------------------------------------------------------------- rules

/// The combination rules of §二(二)1. `id()` is stable (used in problem
/// codes and logs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RuleId {
    /// At least one category.
    AtLeastOne,
    /// 1–6: at most one of them.
    OneOf1To6,
    /// 7 and 8: not both.
    Not7And8,
    /// 7 requires one of 1–6.
    SevenNeeds1To6,
    /// 8 may not combine with any of 1–6.
    EightNotWith1To6,
}

impl RuleId {
    pub const ALL: [RuleId; 5] = [
        RuleId::AtLeastOne,
        RuleId::OneOf1To6,
        RuleId::Not7And8,
        RuleId::SevenNeeds1To6,
        RuleId::EightNotWith1To6,
    ];

    pub fn id(self) -> &'static str {
        match self {
            RuleId::AtLeastOne => "at_least_one",
            RuleId::OneOf1To6 => "one_of_1_to_6",
            RuleId::Not7And8 => "not_7_and_8",
            RuleId::SevenNeeds1To6 => "7_needs_1_to_6",
            RuleId::EightNotWith1To6 => "8_not_with_1_to_6",
        }
    }

    /// The `Problem::code` of a violation of this rule.
    pub fn problem_code(self) -> &'static str {
        match self {
            RuleId::AtLeastOne => "category_at_least_one",
            RuleId::OneOf1To6 => "category_one_of_1_to_6",
            RuleId::Not7And8 => "category_not_7_and_8",
            RuleId::SevenNeeds1To6 => "category_7_needs_1_to_6",
            RuleId::EightNotWith1To6 => "category_8_not_with_1_to_6",
        }
    }

    /// The rule in plain Chinese, for a help screen.
    pub fn explanation_zh(self) -> &'static str {
        match self {
            RuleId::AtLeastOne => "至少要选择一项人员类别。",
            RuleId::OneOf1To6 => {
                "第1至6类（军队转业干部、退役士兵、军队离退休干部和退休士官、\
                 军队无军籍离退休退职职工、复员军人、退伍红军老战士）只能选择其中一项。"
            }
            RuleId::Not7And8 => "“残疾军人”和“伤残民兵民工”只能选择其中一项，不能同时选择。",
            RuleId::SevenNeeds1To6 => {
                "“残疾军人”不能单独选择，选择“残疾军人”的，还要在第1至6类中选择一项。"
            }
            RuleId::EightNotWith1To6 => "“伤残民兵民工”不能与第1至6类中的任何一项同时选择。",
        }
    }

    /// Whether only removing categories can repair a violation (adding more
    /// never does). These rules grey out options in the UI.
    pub fn is_exclusivity(self) -> bool {
        match self {
            RuleId::OneOf1To6 | RuleId::Not7And8 | RuleId::EightNotWith1To6 => true,
            RuleId::AtLeastOne | RuleId::SevenNeeds1To6 => false,
        }
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// One broken rule: which, the categories involved (code order) and what to
/// tell the person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleViolation {
    pub rule: RuleId,
    pub categories: Vec<Category>,
    pub message_zh: String,
}

impl RuleViolation {
    pub fn to_problem(&self) -> Problem {
        Problem::new(self.rule.problem_code(), self.message_zh.clone()).at("categories")
    }
}

/// Every rule the selection breaks, in [`RuleId::ALL`] order; empty when the
/// selection is valid. Duplicates in `selection` count once.
pub fn check_selection(selection: &[Category]) -> Vec<RuleViolation> {
    let chosen = normalised(selection);
    let service: Vec<Category> = chosen
        .iter()
        .copied()
        .filter(|c| c.is_service_status())
        .collect();
    let has = |c: Category| chosen.contains(&c);
    let mut out = Vec::new();

    if chosen.is_empty() {
        out.push(RuleViolation {
            rule: RuleId::AtLeastOne,
            categories: Vec::new(),
            message_zh: "请至少选择一项人员类别".to_string(),
        });
    }
    if service.len() > 1 {
        out.push(RuleViolation {
            rule: RuleId::OneOf1To6,
            categories: service.clone(),
            message_zh: format!("{}不能同时选择，第1至6类只能选一项", quoted_list(&service)),
        });
    }
    if has(DisabledServiceman) && has(DisabledMilitia) {
        out.push(RuleViolation {
            rule: RuleId::Not7And8,
            categories: vec![DisabledServiceman, DisabledMilitia],
            message_zh: "“残疾军人”和“伤残民兵民工”不能同时选择，请只保留其中一项".to_string(),
        });
    }
    if has(DisabledServiceman) && service.is_empty() {
        out.push(RuleViolation {
            rule: RuleId::SevenNeeds1To6,
            categories: vec![DisabledServiceman],
            message_zh: SEVEN_NEEDS_HINT.to_string(),
        });
    }
    if has(DisabledMilitia) && !service.is_empty() {
        let mut involved = service.clone();
        involved.push(DisabledMilitia);
        out.push(RuleViolation {
            rule: RuleId::EightNotWith1To6,
            categories: involved,
            message_zh: format!(
                "“伤残民兵民工”不能与{}同时选择（第1至6类不能与“伤残民兵民工”同时选择）",
                quoted_list(&service)
            ),
        });
    }
    out
}

const SEVEN_NEEDS_HINT: &str = "选择“残疾军人”还需选择第1至6类中的一项";

/// How one option of the category picker should look.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OptionState {
    pub category: Category,
    pub selected: bool,
    /// False when choosing it would break an exclusivity rule against what
    /// is already selected. A selected option is always enabled (it can be
    /// taken away).
    pub enabled: bool,
    /// Why it is disabled, in Chinese; `None` when enabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason_zh: Option<String>,
}

/// The state of all twelve options, in code order, for a partial selection.
/// An unselected option is disabled exactly when adding it would break an
/// exclusivity rule that involves it. Rules repaired by adding more (7 needs
/// one of 1–6) never disable: 7 may be chosen first; see
/// [`pending_requirements`].
pub fn option_states(selected: &[Category]) -> Vec<OptionState> {
    let chosen = normalised(selected);
    let chosen_service: Vec<Category> = chosen
        .iter()
        .copied()
        .filter(|c| c.is_service_status())
        .collect();
    let has = |c: Category| chosen.contains(&c);
    Category::ALL
        .into_iter()
        .map(|category| {
            if has(category) {
                return OptionState {
                    category,
                    selected: true,
                    enabled: true,
                    reason_zh: None,
                };
            }
            let mut reasons: Vec<String> = Vec::new();
            if category.is_service_status() {
                if !chosen_service.is_empty() {
                    reasons.push(format!(
                        "已选择{}，第1至6类只能选一项",
                        quoted_list(&chosen_service)
                    ));
                }
                if has(DisabledMilitia) {
                    reasons.push("已选择“伤残民兵民工”，不能再选择第1至6类".to_string());
                }
            }
            if category == DisabledServiceman && has(DisabledMilitia) {
                reasons
                    .push("已选择“伤残民兵民工”，“残疾军人”和“伤残民兵民工”只能选一项".to_string());
            }
            if category == DisabledMilitia {
                if has(DisabledServiceman) {
                    reasons
                        .push("已选择“残疾军人”，“残疾军人”和“伤残民兵民工”只能选一项".to_string());
                }
                if !chosen_service.is_empty() {
                    reasons.push(format!(
                        "已选择{}，“伤残民兵民工”不能与第1至6类同时选择",
                        quoted_list(&chosen_service)
                    ));
                }
            }
            OptionState {
                category,
                selected: false,
                enabled: reasons.is_empty(),
                reason_zh: if reasons.is_empty() {
                    None
                } else {
                    Some(reasons.join("；"))
                },
            }
        })
        .collect()
}

/// Hints for what the selection still needs that adding can provide:
/// "请至少选择一项人员类别" for an empty one, and the 7-needs-1–6 hint.
pub fn pending_requirements(selected: &[Category]) -> Vec<String> {
    check_selection(selected)
        .into_iter()
        .filter(|v| !v.rule.is_exclusivity())
        .map(|v| v.message_zh)
        .collect()
}

/// Sorted by code, each once.
fn normalised(selection: &[Category]) -> Vec<Category> {
    let mask = selection.iter().fold(0u16, |m, c| m | c.bit());
    Category::ALL
        .into_iter()
        .filter(|c| mask & c.bit() != 0)
        .collect()
}

/// “甲”, “甲”和“乙”, “甲”、“乙”和“丙”.
fn quoted_list(categories: &[Category]) -> String {
    let quoted: Vec<String> = categories
        .iter()
        .map(|c| format!("“{}”", c.name_zh()))
        .collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{}和{}", rest.join("、"), last),
    }
}

#[cfg(test)]
mod tests;

//! Validation: every problem of a record at once, each with a field path,
//! and [`ValidRecord`], the only door to signing.

use chrono::NaiveDate;

use super::fields::{self, FieldSlot, Slot};
use super::*;
use crate::card::Validity;
use crate::category::{check_selection, Category, DocumentKind, DocumentRequirement};
use crate::classified;
use crate::id_number::IdNumber;
use crate::partial_date::{Decided, PartialDate};
use crate::time::age_on;
use crate::{FieldPath, Problem, Severity};

/// The youngest age at which an enlistment is plausible after 1949; earlier
/// enlistments (Red Army, the wars before the People's Republic) are exempt
/// because very young soldiers were common then. Not a rule of the plan, so
/// only advice for staff.
const MIN_ENLISTMENT_AGE: u32 = 16;
fn founding_of_prc() -> NaiveDate {
    date(1949, 10, 1)
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    // Only called with constant, valid dates.
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

/// A record that has passed [`validate`]; the only thing that can be signed.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidRecord(Record);

impl ValidRecord {
    pub fn record(&self) -> &Record {
        &self.0
    }
    pub fn into_record(self) -> Record {
        self.0
    }

    /// Adds a note that does not block (a doubtful clock at the kiosk);
    /// a blocking problem is not a note and is ignored.
    pub fn with_note(mut self, note: Problem) -> ValidRecord {
        let known = self.0.checks.iter().any(|p| p.code == note.code);
        if !note.blocks() && !known {
            self.0.checks.insert(0, note);
        }
        self
    }
}

/// Check a record as it stands on `today`. Returns the record as valid,
/// carrying the findings that do not block ([`checks`]) for staff and the
/// county, or every blocking problem found, each with a field path.
pub fn validate(record: &Record, today: NaiveDate) -> Result<ValidRecord, Vec<Problem>> {
    let (checks, errors): (Vec<Problem>, Vec<Problem>) = findings(record, today)
        .into_iter()
        .partition(|p| !p.blocks());
    if errors.is_empty() {
        let mut valid = record.clone();
        // Notes about how the record was made (not about what it says)
        // cannot be found again from its content: they stay.
        let made_under_a_doubtful_clock = record
            .checks
            .iter()
            .filter(|p| p.code == crate::time::CLOCK_SUSPECT && !p.blocks())
            .cloned();
        valid.checks = made_under_a_doubtful_clock.chain(checks).collect();
        Ok(ValidRecord(valid))
    } else {
        Err(errors)
    }
}

/// Every problem in `record` as of `today` that blocks signing; empty when
/// it is complete and consistent.
pub fn problems(record: &Record, today: NaiveDate) -> Vec<Problem> {
    findings(record, today)
        .into_iter()
        .filter(Problem::blocks)
        .collect()
}

/// What staff or the county should look at but that does not block
/// signing: warnings, advice, and rules the remembered dates cannot decide
/// (待核实).
pub fn checks(record: &Record, today: NaiveDate) -> Vec<Problem> {
    findings(record, today)
        .into_iter()
        .filter(|p| !p.blocks())
        .collect()
}

/// Every finding of every severity, in the order the record reads.
pub fn findings(record: &Record, today: NaiveDate) -> Vec<Problem> {
    let mut out = Problems::default();
    check_meta(&record.meta, &mut out);
    let id = check_identity(&record.identity, today, &mut out);
    check_categories(record, id.as_ref(), today, &mut out);
    check_living(&record.living, &mut out);
    check_across_categories(record, &mut out);
    check_needs(&record.needs, &mut out);
    check_photos(record, &mut out);
    check_signature(record, &mut out);
    out.0
}

#[derive(Default)]
struct Problems(Vec<Problem>);

impl Problems {
    fn push(&mut self, field: impl Into<FieldPath>, code: &str, message: impl Into<String>) {
        self.0.push(Problem::new(code, message).at(field));
    }
    /// A finding that does not block signing.
    fn note(
        &mut self,
        field: impl Into<FieldPath>,
        code: &str,
        severity: Severity,
        message: impl Into<String>,
    ) {
        self.0.push(
            Problem::new(code, message)
                .at(field)
                .with_severity(severity),
        );
    }
    /// A rule of the plan, decided or not by the remembered date: broken
    /// is an error; undecided goes to staff as 待核实 with `unsure_zh`.
    fn rule(
        &mut self,
        field: impl Into<FieldPath>,
        holds: Decided,
        code: &str,
        broken_zh: impl Into<String>,
        unsure_zh: impl Into<String>,
    ) {
        match holds {
            Decided::Yes => {}
            Decided::No => self.push(field, code, broken_zh),
            Decided::Undecided => {
                self.note(field, "date_undecided", Severity::NeedsChecking, unsure_zh)
            }
        }
    }
    fn missing(&mut self, field: impl Into<FieldPath>, what: &str) {
        self.push(field, "missing", format!("请填写{what}"));
    }
    fn free_text(&mut self, field: &str, text: &str) {
        self.0.extend(classified::check_text(field, text));
    }
}

fn is_blank(text: &str) -> bool {
    text.trim().is_empty()
}

fn check_meta(meta: &Meta, out: &mut Problems) {
    if meta.schema_version != SCHEMA_VERSION {
        out.push(
            "meta.schema_version",
            "schema_version",
            format!(
                "记录格式版本 {} 与本机支持的版本 {} 不符",
                meta.schema_version, SCHEMA_VERSION
            ),
        );
    }
    if is_blank(&meta.kiosk_id) {
        out.missing("meta.kiosk_id", "采集终端编号");
    }
    if is_blank(&meta.township.code) {
        out.missing("meta.township.code", "乡镇代码");
    } else if meta.township.code.len() != 9
        || !meta.township.code.bytes().all(|b| b.is_ascii_digit())
    {
        out.push("meta.township.code", "township_code", "乡镇代码应为9位数字");
    }
    if is_blank(&meta.township.name) {
        out.missing("meta.township.name", "乡镇名称");
    }
    if meta.updated_at < meta.created_at {
        out.push(
            "meta.updated_at",
            "contradiction",
            "记录的修改时间早于创建时间",
        );
    }
}

fn check_identity(identity: &Identity, today: NaiveDate, out: &mut Problems) -> Option<IdNumber> {
    let f = |name: &str| format!("identity.{name}");
    if is_blank(&identity.name) {
        out.missing(f("name"), "姓名");
    }
    if identity.sex.is_none() {
        out.missing(f("sex"), "性别");
    }
    match identity.nation_code {
        None => out.missing(f("nation_code"), "民族"),
        Some(code) if !is_gb3304(code) => out.push(
            f("nation_code"),
            "nation_code",
            format!("民族代码 {code} 不在国家标准 GB 3304 中"),
        ),
        Some(_) => {}
    }
    if identity.birth_date.is_none() {
        out.missing(f("birth_date"), "出生日期");
    }
    if is_blank(&identity.address) {
        out.missing(f("address"), "户籍住址");
    }
    if is_blank(&identity.authority) {
        out.missing(f("authority"), "签发机关");
    }
    if identity.valid_from.is_none() {
        out.missing(f("valid_from"), "有效期起始日期");
    }
    match parse_valid_to(&identity.valid_to) {
        Err(ValidToError::Missing) => out.missing(f("valid_to"), "有效期截止日期"),
        Err(ValidToError::Malformed) => out.push(
            f("valid_to"),
            "date",
            "有效期截止日期应为“年-月-日”或“长期”",
        ),
        Ok(Some(until)) => {
            if let Some(from) = identity.valid_from {
                if until <= from {
                    out.push(
                        f("valid_to"),
                        "contradiction",
                        "身份证有效期截止日期早于起始日期",
                    );
                }
            }
        }
        Ok(None) => {}
    }
    if let Some(from) = identity.valid_from {
        if from > today {
            out.push(
                f("valid_from"),
                "date_in_future",
                "有效期起始日期不能晚于今天",
            );
        }
    }
    if !is_blank(&identity.phone) && !is_phone_number(&identity.phone) {
        out.push(
            f("phone"),
            "phone",
            "联系电话格式不对，请填写手机号或带区号的固定电话",
        );
    }
    out.free_text("identity.current_address", &identity.current_address);

    let id = if is_blank(&identity.id_number) {
        out.missing(f("id_number"), "公民身份号码");
        None
    } else {
        match IdNumber::parse(&identity.id_number, today) {
            Ok(id) => Some(id),
            Err(err) => {
                out.push(f("id_number"), err.code(), err.message_zh());
                None
            }
        }
    };
    if let Some(id) = &id {
        if let Some(birth) = identity.birth_date {
            if birth != id.birth_date() {
                out.push(
                    f("birth_date"),
                    "contradiction",
                    "出生日期与身份证号码中的出生日期不一致",
                );
            }
        }
        if let Some(sex) = identity.sex {
            if sex != id.sex() {
                out.push(f("sex"), "contradiction", "性别与身份证号码不一致");
            }
        }
    }

    match (&identity.source, &identity.card) {
        (IdentitySource::Card, None) => out.push(
            "identity.card",
            "missing",
            "身份信息标为读卡所得，但没有读卡内容",
        ),
        (_, Some(card)) => check_identity_matches_card(identity, card, out),
        (IdentitySource::Typed, None) => {}
    }
    id
}

/// §四(一): identity fields must match the card exactly.
fn check_identity_matches_card(identity: &Identity, card: &CardIdentity, out: &mut Problems) {
    let mut differs = |field: &str, what: &str, same: bool| {
        if !same {
            out.push(
                format!("identity.{field}"),
                "card_mismatch",
                format!("{what}与身份证上的不一致，应与身份证完全相同"),
            );
        }
    };
    differs("name", "姓名", identity.name == card.name);
    differs("sex", "性别", identity.sex == Some(card.sex));
    differs(
        "nation_code",
        "民族",
        identity.nation_code == Some(card.nation_code),
    );
    differs(
        "birth_date",
        "出生日期",
        identity.birth_date == Some(card.birth_date),
    );
    differs("address", "住址", identity.address == card.address);
    differs(
        "id_number",
        "公民身份号码",
        identity.id_number.trim() == card.id_number,
    );
    differs(
        "authority",
        "签发机关",
        identity.authority == card.authority,
    );
    differs(
        "valid_from",
        "有效期起始日期",
        identity.valid_from == Some(card.valid_from),
    );
    differs(
        "valid_to",
        "有效期截止日期",
        identity.valid_to.trim() == card.valid_to,
    );
}

/// The record's text form of a card's validity end: `YYYY-MM-DD` or `长期`.
pub fn valid_to_text(validity: Validity) -> String {
    match validity {
        Validity::Until(day) => day.format("%Y-%m-%d").to_string(),
        Validity::LongTerm => "长期".to_string(),
    }
}

enum ValidToError {
    Missing,
    Malformed,
}

/// `长期` (long-term) is `None`; a date is `Some`.
fn parse_valid_to(text: &str) -> Result<Option<NaiveDate>, ValidToError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ValidToError::Missing);
    }
    if text == "长期" {
        return Ok(None);
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| ValidToError::Malformed)
}

fn is_gb3304(code: u8) -> bool {
    matches!(code, 1..=56 | 97 | 98)
}

/// A mainland mobile number (11 digits starting with 1) or a landline with
/// area code, optionally with a dash or extension.
fn is_phone_number(text: &str) -> bool {
    let digits: String = text.chars().filter(|c| !matches!(c, '-' | ' ')).collect();
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return false;
    }
    let mobile = digits.len() == 11 && digits.starts_with('1');
    let landline = digits.starts_with('0') && (10..=12).contains(&digits.len());
    mobile || landline
}

fn check_categories(record: &Record, id: Option<&IdNumber>, today: NaiveDate, out: &mut Problems) {
    let chosen: Vec<Category> = record
        .categories
        .iter()
        .map(CategoryDetails::category)
        .collect();
    for (i, category) in chosen.iter().enumerate() {
        if chosen[..i].contains(category) {
            out.push(
                format!("categories[{i}]"),
                "duplicate_category",
                format!("“{}”选了两次", category.name_zh()),
            );
        }
    }
    for violation in check_selection(&chosen) {
        out.0.push(violation.to_problem());
    }
    let birth = id.map(|id| id.birth_date()).or(record.identity.birth_date);
    for (i, details) in record.categories.iter().enumerate() {
        check_category_details(&format!("categories[{i}]"), details, birth, today, out);
    }
}

/// Only a date that cannot be today or earlier is in the future: the
/// year alone of this year is fine.
fn check_date_not_future(
    field: &str,
    date: Option<PartialDate>,
    today: NaiveDate,
    out: &mut Problems,
) {
    if let Some(d) = date {
        if d.earliest() > today {
            out.push(field, "date_in_future", "日期不能晚于今天");
        }
    }
}

fn check_category_details(
    at: &str,
    details: &CategoryDetails,
    birth: Option<NaiveDate>,
    today: NaiveDate,
    out: &mut Problems,
) {
    let field = |name: &str| format!("{at}.{name}");

    // Service dates shared by the veteran modules.
    let (enlisted, left) = details.service_dates();
    let (enlisted_field, left_field) = match details {
        CategoryDetails::TransferredOfficer { .. } => ("enlisted_on", "transferred_on"),
        CategoryDetails::DischargedSoldier { .. } => ("enlisted_on", "discharged_on"),
        CategoryDetails::RetiredOfficerNco { .. } => ("enlisted_on", "retired_on"),
        CategoryDetails::DemobilisedServiceman { .. } => ("enlisted_on", "demobilised_on"),
        _ => ("enlisted_on", "left_on"),
    };
    check_date_not_future(&field(enlisted_field), enlisted, today, out);
    check_date_not_future(&field(left_field), left, today, out);
    // Contradictions only where the remembered parts settle them: 1980
    // and 1980-05 may be either way round.
    if let (Some(e), Some(l)) = (enlisted, left) {
        if l.before(e) == Decided::Yes {
            out.push(
                field(left_field),
                "contradiction",
                "退出现役的日期早于入伍日期",
            );
        }
    }
    if let (Some(e), Some(b)) = (enlisted, birth) {
        if e.latest() < b {
            out.push(
                field(enlisted_field),
                "contradiction",
                "入伍日期早于出生日期",
            );
        } else if e.on_or_after(founding_of_prc()) == Decided::Yes
            && age_on(b, e.latest()) < MIN_ENLISTMENT_AGE
        {
            out.note(
                field(enlisted_field),
                "contradiction",
                Severity::Advice,
                format!("入伍时未满{MIN_ENLISTMENT_AGE}周岁，请工作人员核对出生日期和入伍日期"),
            );
        }
    }

    // Required fields and off-list choices, from the page's field table.
    let mut module = details.clone();
    let table = fields::details_table(&mut module);
    check_table(at, &table, out);

    // The rules of each module, after its required fields.
    match details {
        CategoryDetails::TransferredOfficer {
            placement,
            transferred_on,
            ..
        } => {
            if let (Some(p), Some(t)) = (placement, transferred_on) {
                let fits = match p {
                    OfficerPlacement::SelfChosenCareer => t.on_or_after(date(2001, 1, 19)),
                    // Whole years: any precision decides it.
                    OfficerPlacement::OwnBusiness => match (
                        t.on_or_after(date(1993, 1, 1)),
                        t.on_or_before(date(2000, 12, 31)),
                    ) {
                        (Decided::Yes, Decided::Yes) => Decided::Yes,
                        _ => Decided::No,
                    },
                    OfficerPlacement::EnterpriseCadre => t.on_or_before(date(2000, 12, 31)),
                    _ => Decided::Yes,
                };
                let why = match p {
                    OfficerPlacement::SelfChosenCareer => "自主择业仅限2001年1月19日以后转业的干部",
                    OfficerPlacement::OwnBusiness => {
                        "自谋职业仅限1993年至2000年间选择自谋职业的转业干部"
                    }
                    _ => "企业军转干部仅限2000年12月31日之前退出现役的干部",
                };
                out.rule(
                    field("placement"),
                    fits,
                    "placement_date",
                    format!("{why}，请核对安置方式或转业时间"),
                    format!(
                        "{why}；转业时间只记到{}，请工作人员对照转业证核实",
                        t.to_zh()
                    ),
                );
            }
        }
        CategoryDetails::DischargedSoldier {
            placement,
            disability_grade,
            state_support_rank,
            ..
        } => {
            if *placement == Some(SoldierPlacement::StateSupported) && state_support_rank.is_none()
            {
                out.push(
                    field("state_support_rank"),
                    "missing",
                    "国家供养的退役士兵须选择退役时是义务兵、初级士官还是中级以上士官",
                );
            }
            if *placement == Some(SoldierPlacement::StateSupported) {
                match disability_grade {
                    None => out.push(
                        field("disability_grade"),
                        "missing",
                        "国家供养的退役士兵须填写残疾等级（1至4级）",
                    ),
                    Some(g) if !(1..=4).contains(g) => out.push(
                        field("disability_grade"),
                        "placement_grade",
                        "国家供养仅限评定为1至4级残疾的退役士兵，请核对安置方式或残疾等级",
                    ),
                    Some(_) => {}
                }
            }
        }
        CategoryDetails::RetiredNonEnlistedStaff {
            started_work_on,
            retired_on,
            ..
        } => {
            check_date_not_future(&field("started_work_on"), *started_work_on, today, out);
            check_date_not_future(&field("retired_on"), *retired_on, today, out);
            if let (Some(s), Some(r)) = (started_work_on, retired_on) {
                if r.before(*s) == Decided::Yes {
                    out.push(
                        field("retired_on"),
                        "contradiction",
                        "离退休时间早于参加工作时间",
                    );
                }
            }
            if let (Some(s), Some(b)) = (started_work_on, birth) {
                if s.latest() < b {
                    out.push(
                        field("started_work_on"),
                        "contradiction",
                        "参加工作时间早于出生日期",
                    );
                }
            }
        }
        CategoryDetails::DemobilisedServiceman {
            group,
            standing,
            enlisted_on,
            ..
        } => {
            if let (Some(DemobilisedGroup::EnlistedBefore1954), Some(e)) = (group, enlisted_on) {
                out.rule(
                    field("group"),
                    e.on_or_before(date(1954, 10, 31)),
                    "group_date",
                    "“1954年10月31日之前入伍”一类仅限该日期之前入伍的人员，请核对入伍时间",
                    format!(
                        "“1954年10月31日之前入伍”一类，入伍时间只记到{}，请工作人员对照复员证核实",
                        e.to_zh()
                    ),
                );
            }
            // §一(六): the old demobilised are 在乡 or retired elsewhere.
            if *group == Some(DemobilisedGroup::EnlistedBefore1954) && standing.is_none() {
                out.missing(
                    field("standing"),
                    "现在是在乡老复员军人还是离退休老复员军人",
                );
            }
        }
        CategoryDetails::RedArmyVeteran { enlisted_on, .. } => {
            // The Red Army became the Eighth Route / New Fourth Army in 1937.
            // Not a rule of the plan (the separated and the West Route Army
            // have their own histories): advice for staff only.
            if let Some(e) = enlisted_on {
                if e.on_or_before(date(1937, 12, 31)) != Decided::Yes {
                    out.note(
                        field("enlisted_on"),
                        "red_army_date",
                        Severity::Advice,
                        "参加红军时间一般在1937年底之前，请工作人员核对",
                    );
                }
            }
        }
        CategoryDetails::RetiredOfficerNco {
            kind, management, ..
        } => {
            // §一(三): only retired cadres are managed by the army directly.
            if *kind == Some(RetirementKind::RetiredNco)
                && *management == Some(RetiredManagement::ArmyManaged)
            {
                out.note(
                    field("management"),
                    "management",
                    Severity::Warning,
                    "军队直接管理的是军队离退休干部，退休士官一般移交政府安置，请核对",
                );
            }
        }
        CategoryDetails::DisabledMilitia { cause, .. } => {
            if *cause == Some(DisabilityCause::Illness) {
                out.push(
                    field("cause"),
                    "cause",
                    "伤残民兵民工只有因战、因公致残两种，请核对致残原因",
                );
            }
        }
        CategoryDetails::MartyrFamily(family)
        | CategoryDetails::KilledOnDutyFamily(family)
        | CategoryDetails::DiedOfIllnessFamily(family) => {
            check_date_not_future(&field("deceased_on"), family.deceased_on, today, out);
        }
        CategoryDetails::DisabledServiceman { .. }
        | CategoryDetails::ServingMemberFamily { .. } => {}
    }
    check_table_text(at, &table, out);
}

/// The "missing" and off-list problems of a page's fields, in page order.
fn check_table(at: &str, table: &[FieldSlot<'_>], out: &mut Problems) {
    for slot in table {
        let field = format!("{at}.{}", slot.key);
        if let Some(what) = slot.missing_zh {
            if !slot.value.is_answered() {
                out.missing(&field, what);
            }
        }
        if let Some(off) = slot.off_list_problem() {
            out.push(field, off.code, off.message_zh);
        }
    }
}

/// Classified words in a page's free-text fields.
fn check_table_text(at: &str, table: &[FieldSlot<'_>], out: &mut Problems) {
    for slot in table {
        if let Slot::Text(text) = &slot.value {
            out.free_text(&format!("{at}.{}", slot.key), text);
        }
    }
}

fn check_living(living: &LivingConditions, out: &mut Problems) {
    let f = |name: &str| format!("living.{name}");
    let mut answers = living.clone();
    let table = fields::living_table(&mut answers);
    check_table("living", &table, out);
    if let Some(income) = living.monthly_income_yuan {
        // A guard against an extra zero typed on a touch keypad.
        if income > 1_000_000 {
            out.push(
                f("monthly_income_yuan"),
                "out_of_range",
                "月收入数额过大，请核对",
            );
        }
        if income == 0 && matches!(living.work, Some(WorkStatus::Employed)) {
            out.push(
                f("monthly_income_yuan"),
                "contradiction",
                "已填写“在职工作”，月收入却为0，请核对",
            );
        }
    }
    if let Some(list) = &living.social_assistance {
        if has_duplicates(list) {
            out.push(f("social_assistance"), "duplicate", "社会救助有重复项");
        }
    }
    check_table_text("living", &table, out);
}

/// 无前后矛盾 (§三(二)4) across modules: what one page says must not deny
/// another. A direct contradiction of two answers is an error; what is
/// only unusual is a warning for staff.
fn check_across_categories(record: &Record, out: &mut Problems) {
    let at = |category: Category| {
        record
            .categories
            .iter()
            .position(|d| d.category() == category)
    };
    let module = |i: usize| record.categories.get(i);

    // 国家供养 (category 2) needs grade 1–4; a disabled serviceman's
    // certificate (category 7) states the grade and the cause.
    let soldier = at(Category::DischargedSoldier).and_then(|i| match module(i) {
        Some(CategoryDetails::DischargedSoldier {
            placement,
            disability_grade,
            state_support_rank,
            ..
        }) => Some((i, *placement, *disability_grade, *state_support_rank)),
        _ => None,
    });
    let disabled = at(Category::DisabledServiceman).and_then(|i| match module(i) {
        Some(CategoryDetails::DisabledServiceman {
            disability_grade,
            cause,
            ..
        }) => Some((i, *disability_grade, *cause)),
        _ => None,
    });
    if let Some((s, placement, soldier_grade, rank)) = soldier {
        let state_supported = placement == Some(SoldierPlacement::StateSupported);
        match disabled {
            Some((d, grade, cause)) => {
                if let (Some(a), Some(b)) = (soldier_grade, grade) {
                    if a != b {
                        out.push(
                            format!("categories[{s}].disability_grade"),
                            "contradiction",
                            format!("退役士兵一栏的残疾等级（{a}级）与残疾军人证的等级（{b}级）不一致，请核对"),
                        );
                    }
                }
                if let Some(g) = grade.filter(|g| state_supported && !(1..=4).contains(g)) {
                    out.push(
                        format!("categories[{d}].disability_grade"),
                        "contradiction",
                        format!("国家供养须评定为1至4级残疾，残疾军人证上却是{g}级，请核对安置方式或残疾等级"),
                    );
                }
                if state_supported
                    && rank == Some(StateSupportRank::MiddleOrSeniorNco)
                    && cause == Some(DisabilityCause::Illness)
                {
                    out.push(
                        format!("categories[{d}].cause"),
                        "contradiction",
                        "中级以上士官须因战因公致残才由国家供养，残疾军人证上的致残原因却是因病，请核对",
                    );
                }
            }
            None if state_supported => out.note(
                format!("categories[{s}].placement"),
                "state_support_without_certificate",
                Severity::Warning,
                "国家供养的退役士兵评有1至4级残疾，一般持有残疾军人证，请核对是否也属于“残疾军人”",
            ),
            None => {}
        }
    }

    let Some(benefits) = &record.living.state_benefits else {
        return;
    };
    let benefits_field = "living.state_benefits";
    // Categories 7 and 8 and the disability pension (伤残抚恤金).
    let disabled_category = [Category::DisabledServiceman, Category::DisabledMilitia]
        .into_iter()
        .find(|c| at(*c).is_some());
    let disability_pension = benefits.contains(&StateBenefit::DisabilityPension);
    match (disabled_category, disability_pension) {
        (Some(category), false) => out.note(
            benefits_field,
            "benefit_mismatch",
            Severity::Warning,
            format!(
                "已选“{}”，享受的国家抚恤补助中却没有伤残抚恤金，请核对",
                category.name_zh()
            ),
        ),
        (None, true) => out.note(
            benefits_field,
            "benefit_mismatch",
            Severity::Warning,
            "享受伤残抚恤金的一般是残疾军人或伤残民兵民工，请核对人员类别",
        ),
        _ => {}
    }
    // Categories 9–11 each say whether a regular pension (定期抚恤金) is
    // received; the living conditions must say the same.
    let bereaved: Vec<Option<bool>> = record
        .categories
        .iter()
        .filter_map(|d| match d {
            CategoryDetails::MartyrFamily(f)
            | CategoryDetails::KilledOnDutyFamily(f)
            | CategoryDetails::DiedOfIllnessFamily(f) => Some(f.receives_pension),
            _ => None,
        })
        .collect();
    let regular_pension = benefits.contains(&StateBenefit::RegularPension);
    let said_yes = bereaved.contains(&Some(true));
    let all_said_no = !bereaved.is_empty() && bereaved.iter().all(|r| *r == Some(false));
    if said_yes && !regular_pension {
        out.push(
            benefits_field,
            "contradiction",
            "遗属一栏说享受定期抚恤金，国家抚恤补助中却没有选定期抚恤金，请核对",
        );
    } else if all_said_no && regular_pension {
        out.push(
            benefits_field,
            "contradiction",
            "遗属一栏说不享受定期抚恤金，国家抚恤补助中却选了定期抚恤金，请核对",
        );
    } else if bereaved.is_empty() && regular_pension {
        out.note(
            benefits_field,
            "benefit_mismatch",
            Severity::Warning,
            "定期抚恤金发给烈士、因公牺牲军人、病故军人的遗属，请核对人员类别",
        );
    }
}

fn has_duplicates<T: PartialEq>(list: &[T]) -> bool {
    list.iter().enumerate().any(|(i, x)| list[..i].contains(x))
}

fn check_needs(needs: &[Need], out: &mut Problems) {
    for (i, need) in needs.iter().enumerate() {
        let field = format!("needs[{i}].text");
        if is_blank(&need.text) {
            out.push(&field, "missing", "请说明这项困难或诉求，或删除这一项");
        }
        out.free_text(&field, &need.text);
    }
}

fn check_photo(out: &mut Problems, field: &str, photo: &PhotoRef, cap: u64, what: &str) {
    let hex = photo.sha256.len() == 64
        && photo
            .sha256
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
    if !hex {
        out.push(
            format!("{field}.sha256"),
            "photo_ref",
            format!("{what}的文件标识无效"),
        );
    }
    if photo.bytes == 0 {
        out.push(
            format!("{field}.bytes"),
            "photo_empty",
            format!("{what}是空文件"),
        );
    } else if photo.bytes > cap {
        out.push(
            format!("{field}.bytes"),
            "photo_too_large",
            format!("{what}超过 {} KB 的上限", cap / 1000),
        );
    }
}

fn check_photos(record: &Record, out: &mut Problems) {
    let photos = &record.photos;
    match &photos.portrait {
        None => out.push("photos.portrait", "missing", "还没有拍摄本人免冠照片"),
        Some(p) => check_photo(out, "photos.portrait", p, PORTRAIT_MAX_BYTES, "免冠照片"),
    }
    let accepted = photos
        .portrait_acceptance
        .as_ref()
        .is_some_and(|a| a.issues == photos.portrait_issues && !a.accepted_by.is_empty());
    if !photos.portrait_issues.is_empty() && !accepted {
        out.push(
            "photos.portrait",
            "portrait_not_accepted",
            format!(
                "照片还有问题（{}），须由工作人员确认",
                photos.portrait_issues.join("；")
            ),
        );
    }
    if let Some(p) = &photos.card_portrait {
        check_photo(
            out,
            "photos.card_portrait",
            p,
            CARD_PORTRAIT_MAX_BYTES,
            "身份证头像",
        );
    }
    match (&photos.card_photo, record.identity.source) {
        (Some(p), _) => check_photo(
            out,
            "photos.card_photo",
            p,
            CARD_PHOTO_MAX_BYTES,
            "身份证照片",
        ),
        (None, IdentitySource::Typed) => out.push(
            "photos.card_photo",
            "missing",
            "手工录入身份信息时须拍摄身份证照片",
        ),
        (None, IdentitySource::Card) => {}
    }
    check_documents(record, out);
}

/// The certificate photos (each page under its own cap, the pages of a
/// kind numbered 1, 2, … once each), the marks staff left for those not
/// shown, and whether every certificate called for is shown or marked.
fn check_documents(record: &Record, out: &mut Problems) {
    for (i, doc) in record.documents.iter().enumerate() {
        let name = match doc.page {
            1 => doc.kind.name_zh().to_string(),
            page => format!("{}第{page}页", doc.kind.name_zh()),
        };
        check_photo(
            out,
            &format!("documents[{i}].photo"),
            &doc.photo,
            DOCUMENT_MAX_BYTES,
            &name,
        );
        let earlier_pages = record.documents[..i]
            .iter()
            .filter(|d| d.kind == doc.kind)
            .count();
        let expected = u8::try_from(earlier_pages + 1).unwrap_or(u8::MAX);
        if doc.page > MAX_DOCUMENT_PAGES {
            out.push(
                format!("documents[{i}].page"),
                "document_page",
                format!("{}最多拍摄 {MAX_DOCUMENT_PAGES} 页", doc.kind.name_zh()),
            );
        } else if doc.page != expected {
            out.push(
                format!("documents[{i}].page"),
                "document_page",
                format!(
                    "{}的页码应依次为第1页、第2页……，这里是第{}页",
                    doc.kind.name_zh(),
                    doc.page
                ),
            );
        }
    }
    for (i, mark) in record.missing_documents.iter().enumerate() {
        let field = |name: &str| format!("missing_documents[{i}].{name}");
        if is_blank(&mark.marked_by) {
            out.missing(field("marked_by"), "标记缺少证件的工作人员编号");
        }
        if record.documents.iter().any(|d| d.kind == mark.kind) {
            out.push(
                field("kind"),
                "contradiction",
                format!(
                    "{}已拍摄，不应再标记为{}",
                    mark.kind.name_zh(),
                    mark.reason.name_zh()
                ),
            );
        }
        if record.missing_documents[..i]
            .iter()
            .any(|m| m.kind == mark.kind)
        {
            out.push(
                field("kind"),
                "duplicate",
                format!("{}被标记了两次", mark.kind.name_zh()),
            );
        }
        out.free_text(&field("note"), &mark.note);
    }
    // Every chosen category's certificate must have been photographed or
    // marked by staff as not shown, and everyone's household register.
    // The ID card itself is covered by the chip read or by the card photo.
    let accounted: Vec<DocumentKind> = record
        .documents
        .iter()
        .map(|d| d.kind)
        .chain(record.missing_documents.iter().map(|m| m.kind))
        .collect();
    let household = DocumentRequirement {
        any_of: &[DocumentKind::HouseholdRegister],
    };
    if !household.is_met_by(&accounted) {
        out.push("documents", "document_missing", "请拍摄户口本本人页");
    }
    for (i, details) in record.categories.iter().enumerate() {
        let category = details.category();
        for requirement in category.required_documents() {
            if !requirement.is_met_by(&accounted) {
                out.push(
                    format!("categories[{i}]"),
                    "document_missing",
                    format!("“{}”需要拍摄{}", category.name_zh(), requirement.name_zh()),
                );
            }
        }
    }
}

fn check_signature(record: &Record, out: &mut Problems) {
    let needs_signature = !matches!(record.meta.state, RecordState::Draft);
    match &record.signature {
        None if needs_signature => out.push("signature", "missing", "回执还没有签字确认"),
        None => {}
        Some(sig) => {
            if is_blank(&sig.witnessed_by) {
                out.missing("signature.witnessed_by", "确认签字的工作人员编号");
            }
            if sig.signed_at < sig.receipt_printed_at {
                out.push(
                    "signature.signed_at",
                    "contradiction",
                    "签字时间早于回执打印时间",
                );
            }
        }
    }
}

//! The detail pages as data: each category module and the living
//! conditions become a list of [`Field`]s that any screen can draw, and an
//! edit of one field ([`FieldEdit`]) becomes a new value of the module.
//!
//! Field keys are the record's own field names, so a [`crate::Problem`]
//! whose field is `categories[0].enlisted_on` lands next to the field keyed
//! `enlisted_on` on the page of the first category.
//!
//! Nothing is ever pre-selected: a field whose value is `None` shows no
//! choice, and "none" answers are explicit options.

use chrono::NaiveDate;

use crate::record::{
    BereavedFamily, CategoryDetails, DemobilisedGroup, DisabilityCause, DisabilitySubsidy, Housing,
    LivingConditions, MedicalInsurance, OfficerPlacement, PensionInsurance, RedArmyKind, Relation,
    RetirementKind, SocialAssistance, SoldierPlacement, StaffRetirementKind, StateBenefit,
    WorkStatus,
};

/// One question on a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The record's field name within the module, e.g. `enlisted_on`.
    pub key: &'static str,
    pub label_zh: &'static str,
    pub kind: FieldKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldKind {
    /// Pick one; `selected` is `None` until the person picks.
    Choice {
        options: Vec<&'static str>,
        selected: Option<usize>,
    },
    /// Pick any; the last option is "none of these" and excludes the rest.
    /// `answered` is false until the person touched it.
    Multi {
        options: Vec<&'static str>,
        selected: Vec<bool>,
        answered: bool,
    },
    Text {
        value: String,
    },
    /// A whole number (yuan).
    Number {
        value: Option<u32>,
    },
    Date {
        value: Option<NaiveDate>,
    },
}

/// What the person did to one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldEdit {
    Choose(usize),
    /// Toggle an option of a [`FieldKind::Multi`].
    Toggle(usize),
    Text(String),
    /// Digits as typed; anything that is not a whole number clears it.
    Number(String),
    /// Year, month and day as typed; a day that does not exist clears it.
    Date {
        year: String,
        month: String,
        day: String,
    },
}

/// Parse typed year, month, day into a date, if it exists.
pub fn parse_date_parts(year: &str, month: &str, day: &str) -> Option<NaiveDate> {
    let number = |s: &str| s.trim().parse::<u32>().ok();
    let year = i32::try_from(number(year)?).ok()?;
    NaiveDate::from_ymd_opt(year, number(month)?, number(day)?)
}

fn parse_number(text: &str) -> Option<u32> {
    let digits: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    digits.parse().ok()
}

// A table of (value, label) per enum keeps label and value in one place.
const OFFICER_PLACEMENTS: &[(OfficerPlacement, &str)] = &[
    (OfficerPlacement::Planned, "计划分配"),
    (OfficerPlacement::SelfChosenCareer, "自主择业"),
    (OfficerPlacement::OwnBusiness, "自谋职业"),
    (OfficerPlacement::VoluntarySelfEmployment, "自愿自行就业"),
    (OfficerPlacement::EnterpriseCadre, "企业军转干部"),
];
const SOLDIER_PLACEMENTS: &[(SoldierPlacement, &str)] = &[
    (SoldierPlacement::GovernmentJob, "政府安排工作"),
    (SoldierPlacement::SelfEmployment, "自主就业"),
    (SoldierPlacement::OwnBusiness, "自谋职业"),
    (SoldierPlacement::StateSupported, "国家供养"),
    (SoldierPlacement::ReturnedToFarming, "回乡生产"),
    (
        SoldierPlacement::ChoseDemobilisation,
        "符合转业条件选择复员",
    ),
    (SoldierPlacement::BenefitsCancelled, "按政策取消待遇"),
    (SoldierPlacement::ReturnedToJobOrSchool, "复工复职复学"),
];
const RETIREMENT_KINDS: &[(RetirementKind, &str)] = &[
    (RetirementKind::RetiredCadreBefore1949, "离休干部"),
    (RetirementKind::RetiredCadre, "退休干部"),
    (RetirementKind::RetiredNco, "退休士官"),
];
const STAFF_RETIREMENT_KINDS: &[(StaffRetirementKind, &str)] = &[
    (StaffRetirementKind::Lixiu, "离休"),
    (StaffRetirementKind::Retired, "退休"),
    (StaffRetirementKind::Resigned, "退职"),
];
const DEMOBILISED_GROUPS: &[(DemobilisedGroup, &str)] = &[
    (DemobilisedGroup::UnderRegulations, "按服役条例复员的干部"),
    (
        DemobilisedGroup::EnlistedBefore1954,
        "1954年10月31日之前入伍后复员",
    ),
];
const RED_ARMY_KINDS: &[(RedArmyKind, &str)] = &[
    (RedArmyKind::RedArmyVeteran, "退伍红军老战士"),
    (RedArmyKind::WestRouteArmy, "西路军红军老战士"),
    (RedArmyKind::Separated, "红军失散人员"),
];
const SERVICEMAN_CAUSES: &[(DisabilityCause, &str)] = &[
    (DisabilityCause::War, "因战"),
    (DisabilityCause::Duty, "因公"),
    (DisabilityCause::Illness, "因病"),
];
const MILITIA_CAUSES: &[(DisabilityCause, &str)] = &[
    (DisabilityCause::War, "因战"),
    (DisabilityCause::Duty, "因公"),
];
const BEREAVED_RELATIONS: &[(Relation, &str)] = &[
    (Relation::Parent, "父母"),
    (Relation::Raiser, "抚养人"),
    (Relation::Spouse, "配偶"),
    (Relation::Child, "子女"),
    (Relation::Sibling, "兄弟姐妹"),
];
const SERVING_RELATIONS: &[(Relation, &str)] = &[
    (Relation::Parent, "父母"),
    (Relation::Spouse, "配偶"),
    (Relation::Child, "子女"),
];
const YES_NO: &[(bool, &str)] = &[(true, "是"), (false, "否")];
const GRADES: &[(u8, &str)] = &[
    (1, "一级"),
    (2, "二级"),
    (3, "三级"),
    (4, "四级"),
    (5, "五级"),
    (6, "六级"),
    (7, "七级"),
    (8, "八级"),
    (9, "九级"),
    (10, "十级"),
];

fn choice<T: PartialEq + Copy>(
    key: &'static str,
    label_zh: &'static str,
    table: &[(T, &'static str)],
    value: Option<T>,
) -> Field {
    Field {
        key,
        label_zh,
        kind: FieldKind::Choice {
            options: table.iter().map(|(_, l)| *l).collect(),
            selected: value.and_then(|v| table.iter().position(|(t, _)| *t == v)),
        },
    }
}

fn date(key: &'static str, label_zh: &'static str, value: Option<NaiveDate>) -> Field {
    Field {
        key,
        label_zh,
        kind: FieldKind::Date { value },
    }
}

fn text(key: &'static str, label_zh: &'static str, value: &str) -> Field {
    Field {
        key,
        label_zh,
        kind: FieldKind::Text {
            value: value.to_string(),
        },
    }
}

/// Apply a `Choose` edit through a table; other edits leave `slot` alone.
fn pick<T: Copy>(table: &[(T, &str)], edit: &FieldEdit, slot: &mut Option<T>) {
    if let FieldEdit::Choose(i) = edit {
        if let Some((value, _)) = table.get(*i) {
            *slot = Some(*value);
        }
    }
}

fn set_date(edit: &FieldEdit, slot: &mut Option<NaiveDate>) {
    if let FieldEdit::Date { year, month, day } = edit {
        *slot = parse_date_parts(year, month, day);
    }
}

fn set_text(edit: &FieldEdit, slot: &mut String) {
    if let FieldEdit::Text(value) = edit {
        *slot = value.clone();
    }
}

/// The fields of one category's details page.
pub fn details_fields(details: &CategoryDetails) -> Vec<Field> {
    match details {
        CategoryDetails::TransferredOfficer {
            placement,
            enlisted_on,
            transferred_on,
        } => vec![
            choice("placement", "安置方式", OFFICER_PLACEMENTS, *placement),
            date("enlisted_on", "入伍时间", *enlisted_on),
            date("transferred_on", "转业时间", *transferred_on),
        ],
        CategoryDetails::DischargedSoldier {
            placement,
            enlisted_on,
            discharged_on,
            disability_grade,
        } => vec![
            choice("placement", "安置方式", SOLDIER_PLACEMENTS, *placement),
            date("enlisted_on", "入伍时间", *enlisted_on),
            date("discharged_on", "退役时间", *discharged_on),
            choice(
                "disability_grade",
                "残疾等级（没有评残不用选）",
                GRADES,
                *disability_grade,
            ),
        ],
        CategoryDetails::RetiredOfficerNco {
            kind,
            enlisted_on,
            retired_on,
        } => vec![
            choice("kind", "离退休类别", RETIREMENT_KINDS, *kind),
            date("enlisted_on", "入伍时间", *enlisted_on),
            date("retired_on", "离退休时间", *retired_on),
        ],
        CategoryDetails::RetiredNonEnlistedStaff {
            kind,
            started_work_on,
            retired_on,
        } => vec![
            choice("kind", "离退休退职类别", STAFF_RETIREMENT_KINDS, *kind),
            date("started_work_on", "参加工作时间", *started_work_on),
            date("retired_on", "离退休退职时间", *retired_on),
        ],
        CategoryDetails::DemobilisedServiceman {
            group,
            enlisted_on,
            demobilised_on,
        } => vec![
            choice("group", "复员军人类别", DEMOBILISED_GROUPS, *group),
            date("enlisted_on", "入伍时间", *enlisted_on),
            date("demobilised_on", "复员时间", *demobilised_on),
        ],
        CategoryDetails::RedArmyVeteran { kind, enlisted_on } => vec![
            choice("kind", "类别", RED_ARMY_KINDS, *kind),
            date("enlisted_on", "参加红军时间", *enlisted_on),
        ],
        CategoryDetails::DisabledServiceman {
            disability_grade,
            cause,
            certificate_number,
        } => vec![
            choice("disability_grade", "残疾等级", GRADES, *disability_grade),
            choice("cause", "致残原因", SERVICEMAN_CAUSES, *cause),
            text("certificate_number", "残疾军人证编号", certificate_number),
        ],
        CategoryDetails::DisabledMilitia {
            disability_grade,
            cause,
            certificate_number,
        } => vec![
            choice("disability_grade", "残疾等级", GRADES, *disability_grade),
            choice("cause", "致残原因", MILITIA_CAUSES, *cause),
            text("certificate_number", "证件编号", certificate_number),
        ],
        CategoryDetails::MartyrFamily(family)
        | CategoryDetails::KilledOnDutyFamily(family)
        | CategoryDetails::DiedOfIllnessFamily(family) => bereaved_fields(family),
        CategoryDetails::ServingMemberFamily {
            relation,
            member_name,
        } => vec![
            choice(
                "relation",
                "您与现役军人的关系",
                SERVING_RELATIONS,
                *relation,
            ),
            text("member_name", "现役军人姓名", member_name),
        ],
    }
}

fn bereaved_fields(family: &BereavedFamily) -> Vec<Field> {
    vec![
        choice(
            "relation",
            "您与逝者的关系",
            BEREAVED_RELATIONS,
            family.relation,
        ),
        text("deceased_name", "逝者姓名", &family.deceased_name),
        date(
            "deceased_on",
            "牺牲或病故时间（知道的话）",
            family.deceased_on,
        ),
        choice(
            "receives_pension",
            "是否享受定期抚恤金",
            YES_NO,
            family.receives_pension,
        ),
    ]
}

/// `details` with one field changed; unknown keys and mismatched edits
/// leave it as it was.
pub fn edit_details(details: &CategoryDetails, key: &str, edit: &FieldEdit) -> CategoryDetails {
    let mut out = details.clone();
    match &mut out {
        CategoryDetails::TransferredOfficer {
            placement,
            enlisted_on,
            transferred_on,
        } => match key {
            "placement" => pick(OFFICER_PLACEMENTS, edit, placement),
            "enlisted_on" => set_date(edit, enlisted_on),
            "transferred_on" => set_date(edit, transferred_on),
            _ => {}
        },
        CategoryDetails::DischargedSoldier {
            placement,
            enlisted_on,
            discharged_on,
            disability_grade,
        } => match key {
            "placement" => pick(SOLDIER_PLACEMENTS, edit, placement),
            "enlisted_on" => set_date(edit, enlisted_on),
            "discharged_on" => set_date(edit, discharged_on),
            "disability_grade" => pick(GRADES, edit, disability_grade),
            _ => {}
        },
        CategoryDetails::RetiredOfficerNco {
            kind,
            enlisted_on,
            retired_on,
        } => match key {
            "kind" => pick(RETIREMENT_KINDS, edit, kind),
            "enlisted_on" => set_date(edit, enlisted_on),
            "retired_on" => set_date(edit, retired_on),
            _ => {}
        },
        CategoryDetails::RetiredNonEnlistedStaff {
            kind,
            started_work_on,
            retired_on,
        } => match key {
            "kind" => pick(STAFF_RETIREMENT_KINDS, edit, kind),
            "started_work_on" => set_date(edit, started_work_on),
            "retired_on" => set_date(edit, retired_on),
            _ => {}
        },
        CategoryDetails::DemobilisedServiceman {
            group,
            enlisted_on,
            demobilised_on,
        } => match key {
            "group" => pick(DEMOBILISED_GROUPS, edit, group),
            "enlisted_on" => set_date(edit, enlisted_on),
            "demobilised_on" => set_date(edit, demobilised_on),
            _ => {}
        },
        CategoryDetails::RedArmyVeteran { kind, enlisted_on } => match key {
            "kind" => pick(RED_ARMY_KINDS, edit, kind),
            "enlisted_on" => set_date(edit, enlisted_on),
            _ => {}
        },
        CategoryDetails::DisabledServiceman {
            disability_grade,
            cause,
            certificate_number,
        } => match key {
            "disability_grade" => pick(GRADES, edit, disability_grade),
            "cause" => pick(SERVICEMAN_CAUSES, edit, cause),
            "certificate_number" => set_text(edit, certificate_number),
            _ => {}
        },
        CategoryDetails::DisabledMilitia {
            disability_grade,
            cause,
            certificate_number,
        } => match key {
            "disability_grade" => pick(GRADES, edit, disability_grade),
            "cause" => pick(MILITIA_CAUSES, edit, cause),
            "certificate_number" => set_text(edit, certificate_number),
            _ => {}
        },
        CategoryDetails::MartyrFamily(family)
        | CategoryDetails::KilledOnDutyFamily(family)
        | CategoryDetails::DiedOfIllnessFamily(family) => match key {
            "relation" => pick(BEREAVED_RELATIONS, edit, &mut family.relation),
            "deceased_name" => set_text(edit, &mut family.deceased_name),
            "deceased_on" => set_date(edit, &mut family.deceased_on),
            "receives_pension" => pick(YES_NO, edit, &mut family.receives_pension),
            _ => {}
        },
        CategoryDetails::ServingMemberFamily {
            relation,
            member_name,
        } => match key {
            "relation" => pick(SERVING_RELATIONS, edit, relation),
            "member_name" => set_text(edit, member_name),
            _ => {}
        },
    }
    out
}

const WORK: &[(WorkStatus, &str)] = &[
    (WorkStatus::Employed, "在职工作"),
    (WorkStatus::SelfEmployed, "个体经营"),
    (WorkStatus::Farming, "务农"),
    (WorkStatus::Unemployed, "无工作"),
    (WorkStatus::Retired, "已退休"),
    (WorkStatus::UnableToWork, "丧失劳动能力"),
    (WorkStatus::Student, "在读"),
];
const PENSION: &[(PensionInsurance, &str)] = &[
    (PensionInsurance::Employee, "职工基本养老保险"),
    (PensionInsurance::PublicSector, "机关事业单位养老保险"),
    (PensionInsurance::Resident, "城乡居民基本养老保险"),
    (PensionInsurance::None, "没有参加"),
];
const MEDICAL: &[(MedicalInsurance, &str)] = &[
    (MedicalInsurance::Employee, "职工基本医疗保险"),
    (MedicalInsurance::Resident, "城乡居民基本医疗保险"),
    (
        MedicalInsurance::PublicHealthcare,
        "公费医疗或军队离退休医疗保障",
    ),
    (MedicalInsurance::None, "没有参加"),
];
const HOUSING: &[(Housing, &str)] = &[
    (Housing::Owned, "自有住房"),
    (Housing::Rented, "租房"),
    (Housing::PublicRental, "公租房"),
    (Housing::WithFamily, "与亲属同住"),
    (Housing::Dilapidated, "危房"),
    (Housing::NoFixedHome, "无固定住所"),
];
const ASSISTANCE: &[(SocialAssistance, &str)] = &[
    (SocialAssistance::MinimumLiving, "最低生活保障"),
    (SocialAssistance::ExtremePoverty, "特困人员供养"),
    (SocialAssistance::Temporary, "临时救助"),
    (SocialAssistance::Other, "其他救助"),
];
const BENEFITS: &[(StateBenefit, &str)] = &[
    (StateBenefit::RegularPension, "定期抚恤金"),
    (StateBenefit::RegularLivingAllowance, "定期生活补助"),
    (StateBenefit::DisabilityPension, "伤残抚恤金"),
    (StateBenefit::Other, "其他抚恤补助"),
];
const SUBSIDIES: &[(DisabilitySubsidy, &str)] = &[
    (DisabilitySubsidy::LivingAllowance, "困难残疾人生活补贴"),
    (DisabilitySubsidy::NursingAllowance, "重度残疾人护理补贴"),
];
const NONE_OF_THESE: &str = "都没有";

fn multi<T: PartialEq + Copy>(
    key: &'static str,
    label_zh: &'static str,
    table: &[(T, &'static str)],
    value: &Option<Vec<T>>,
) -> Field {
    let mut options: Vec<&'static str> = table.iter().map(|(_, l)| *l).collect();
    options.push(NONE_OF_THESE);
    let mut selected: Vec<bool> = table
        .iter()
        .map(|(t, _)| value.as_ref().is_some_and(|v| v.contains(t)))
        .collect();
    selected.push(value.as_ref().is_some_and(|v| v.is_empty()));
    Field {
        key,
        label_zh,
        kind: FieldKind::Multi {
            options,
            selected,
            answered: value.is_some(),
        },
    }
}

/// Toggle option `i` of a multi-choice whose last option means "none".
fn toggle<T: PartialEq + Copy>(table: &[(T, &str)], edit: &FieldEdit, slot: &mut Option<Vec<T>>) {
    let FieldEdit::Toggle(i) = edit else { return };
    if *i == table.len() {
        // "None of these" clears the rest; tapping it again un-answers.
        *slot = match slot {
            Some(v) if v.is_empty() => None,
            _ => Some(Vec::new()),
        };
        return;
    }
    let Some((value, _)) = table.get(*i) else {
        return;
    };
    let list = slot.get_or_insert_with(Vec::new);
    if let Some(at) = list.iter().position(|t| t == value) {
        list.remove(at);
        if list.is_empty() {
            *slot = None;
        }
    } else {
        list.push(*value);
        // Keep table order so the record reads the same however tapped.
        list.sort_by_key(|t| table.iter().position(|(v, _)| v == t));
    }
}

/// The fields of the living-conditions page.
pub fn living_fields(living: &LivingConditions) -> Vec<Field> {
    vec![
        choice("work", "工作情况", WORK, living.work),
        Field {
            key: "monthly_income_yuan",
            label_zh: "本人月平均收入（元）",
            kind: FieldKind::Number {
                value: living.monthly_income_yuan,
            },
        },
        choice(
            "pension_insurance",
            "养老保险",
            PENSION,
            living.pension_insurance,
        ),
        choice(
            "medical_insurance",
            "医疗保险",
            MEDICAL,
            living.medical_insurance,
        ),
        choice("housing", "住房情况", HOUSING, living.housing),
        multi(
            "social_assistance",
            "享受的社会救助（可多选）",
            ASSISTANCE,
            &living.social_assistance,
        ),
        multi(
            "state_benefits",
            "享受的国家抚恤补助（可多选）",
            BENEFITS,
            &living.state_benefits,
        ),
        multi(
            "disability_subsidies",
            "享受的残疾人两项补贴（可多选）",
            SUBSIDIES,
            &living.disability_subsidies,
        ),
        text("remarks", "其他想说明的情况（可不填）", &living.remarks),
    ]
}

pub fn edit_living(living: &LivingConditions, key: &str, edit: &FieldEdit) -> LivingConditions {
    let mut out = living.clone();
    match key {
        "work" => pick(WORK, edit, &mut out.work),
        "monthly_income_yuan" => {
            // A text box gives text; either way it must be a whole number.
            if let FieldEdit::Number(typed) | FieldEdit::Text(typed) = edit {
                out.monthly_income_yuan = parse_number(typed);
            }
        }
        "pension_insurance" => pick(PENSION, edit, &mut out.pension_insurance),
        "medical_insurance" => pick(MEDICAL, edit, &mut out.medical_insurance),
        "housing" => pick(HOUSING, edit, &mut out.housing),
        "social_assistance" => toggle(ASSISTANCE, edit, &mut out.social_assistance),
        "state_benefits" => toggle(BENEFITS, edit, &mut out.state_benefits),
        "disability_subsidies" => toggle(SUBSIDIES, edit, &mut out.disability_subsidies),
        "remarks" => set_text(edit, &mut out.remarks),
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::category::Category;
    use expect_test::{expect, Expect};

    fn render(fields: &[Field]) -> String {
        let mut out = String::new();
        for f in fields {
            let shown = match &f.kind {
                FieldKind::Choice { options, selected } => format!(
                    "choice[{}] = {}",
                    options.len(),
                    selected
                        .and_then(|i| options.get(i).copied())
                        .unwrap_or("-")
                ),
                FieldKind::Multi {
                    options,
                    selected,
                    answered,
                } => {
                    let on: Vec<&str> = options
                        .iter()
                        .zip(selected)
                        .filter(|(_, s)| **s)
                        .map(|(o, _)| *o)
                        .collect();
                    format!("multi answered={answered} {on:?}")
                }
                FieldKind::Text { value } => format!("text {value:?}"),
                FieldKind::Number { value } => format!("number {value:?}"),
                FieldKind::Date { value } => format!("date {value:?}"),
            };
            out.push_str(&format!("{} ({}): {shown}\n", f.key, f.label_zh));
        }
        out
    }

    fn check_details(category: Category, edits: &[(&str, FieldEdit)], expect: Expect) {
        let mut details = CategoryDetails::empty(category);
        for (key, edit) in edits {
            details = edit_details(&details, key, edit);
        }
        expect.assert_eq(&render(&details_fields(&details)));
    }

    fn d(y: &str, m: &str, day: &str) -> FieldEdit {
        FieldEdit::Date {
            year: y.into(),
            month: m.into(),
            day: day.into(),
        }
    }

    #[test]
    fn nothing_is_preselected_on_any_page() {
        for category in Category::ALL {
            for field in details_fields(&CategoryDetails::empty(category)) {
                match field.kind {
                    FieldKind::Choice { selected, .. } => assert_eq!(selected, None),
                    FieldKind::Date { value } => assert_eq!(value, None),
                    FieldKind::Text { value } => assert_eq!(value, ""),
                    FieldKind::Number { value } => assert_eq!(value, None),
                    FieldKind::Multi { selected, .. } => assert!(!selected.contains(&true)),
                }
            }
        }
        for field in living_fields(&LivingConditions::default()) {
            if let FieldKind::Choice { selected, .. } = field.kind {
                assert_eq!(selected, None);
            }
        }
    }

    #[test]
    fn officer_details() {
        check_details(
            Category::TransferredOfficer,
            &[
                ("placement", FieldEdit::Choose(1)),
                ("enlisted_on", d("1980", "9", "1")),
                ("transferred_on", d("2002", "2", "30")),
                ("unknown", FieldEdit::Choose(0)),
                ("placement", FieldEdit::Choose(99)),
            ],
            expect![[r#"
                placement (安置方式): choice[5] = 自主择业
                enlisted_on (入伍时间): date Some(1980-09-01)
                transferred_on (转业时间): date None
            "#]],
        );
    }

    #[test]
    fn bereaved_details() {
        check_details(
            Category::MartyrFamily,
            &[
                ("relation", FieldEdit::Choose(2)),
                ("deceased_name", FieldEdit::Text("李四".into())),
                ("receives_pension", FieldEdit::Choose(1)),
                ("deceased_on", d(" 1979 ", "02", "17")),
            ],
            expect![[r#"
                relation (您与逝者的关系): choice[5] = 配偶
                deceased_name (逝者姓名): text "李四"
                deceased_on (牺牲或病故时间（知道的话）): date Some(1979-02-17)
                receives_pension (是否享受定期抚恤金): choice[2] = 否
            "#]],
        );
    }

    #[test]
    fn militia_offers_no_illness_cause() {
        check_details(
            Category::DisabledMilitia,
            &[
                ("cause", FieldEdit::Choose(2)),
                ("disability_grade", FieldEdit::Choose(5)),
            ],
            expect![[r#"
                disability_grade (残疾等级): choice[10] = 六级
                cause (致残原因): choice[2] = -
                certificate_number (证件编号): text ""
            "#]],
        );
    }

    #[test]
    fn every_category_field_is_editable_by_its_key() {
        for category in Category::ALL {
            let empty = CategoryDetails::empty(category);
            for field in details_fields(&empty) {
                let edit = match field.kind {
                    FieldKind::Choice { .. } => FieldEdit::Choose(0),
                    FieldKind::Date { .. } => d("1990", "1", "1"),
                    FieldKind::Text { .. } => FieldEdit::Text("x".into()),
                    FieldKind::Number { .. } => FieldEdit::Number("1".into()),
                    FieldKind::Multi { .. } => FieldEdit::Toggle(0),
                };
                let edited = edit_details(&empty, field.key, &edit);
                assert_ne!(edited, empty, "{category:?}.{}", field.key);
            }
        }
    }

    fn check_living(edits: &[(&str, FieldEdit)], expect: Expect) {
        let mut living = LivingConditions::default();
        for (key, edit) in edits {
            living = edit_living(&living, key, edit);
        }
        expect.assert_eq(&render(&living_fields(&living)));
    }

    #[test]
    fn living_multi_choices_have_an_explicit_none() {
        check_living(
            &[
                ("work", FieldEdit::Choose(2)),
                ("monthly_income_yuan", FieldEdit::Number(" 1 500".into())),
                ("social_assistance", FieldEdit::Toggle(2)),
                ("social_assistance", FieldEdit::Toggle(0)),
                // "None of these" replaces what was chosen…
                ("state_benefits", FieldEdit::Toggle(1)),
                ("state_benefits", FieldEdit::Toggle(4)),
                // …and un-toggling the only choice leaves it unanswered.
                ("disability_subsidies", FieldEdit::Toggle(1)),
                ("disability_subsidies", FieldEdit::Toggle(1)),
            ],
            expect![[r#"
                work (工作情况): choice[7] = 务农
                monthly_income_yuan (本人月平均收入（元）): number Some(1500)
                pension_insurance (养老保险): choice[4] = -
                medical_insurance (医疗保险): choice[4] = -
                housing (住房情况): choice[6] = -
                social_assistance (享受的社会救助（可多选）): multi answered=true ["最低生活保障", "临时救助"]
                state_benefits (享受的国家抚恤补助（可多选）): multi answered=true ["都没有"]
                disability_subsidies (享受的残疾人两项补贴（可多选）): multi answered=false []
                remarks (其他想说明的情况（可不填）): text ""
            "#]],
        );
    }

    #[test]
    fn bad_numbers_and_dates_clear_the_field() {
        let living = edit_living(
            &LivingConditions::default(),
            "monthly_income_yuan",
            &FieldEdit::Number("12a".into()),
        );
        assert_eq!(living.monthly_income_yuan, None);
        for (y, m, day) in [
            ("", "1", "1"),
            ("1990", "13", "1"),
            ("-5", "1", "1"),
            ("1990", "2", "29"),
        ] {
            assert_eq!(parse_date_parts(y, m, day), None, "{y}-{m}-{day}");
        }
        assert!(parse_date_parts("2000", "2", "29").is_some());
    }

    proptest::proptest! {
        #[test]
        fn any_typed_date_parses_or_is_none(y in ".{0,8}", m in ".{0,4}", day in ".{0,4}") {
            let _ = parse_date_parts(&y, &m, &day);
        }
    }
}

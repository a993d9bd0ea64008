//! One table per page: the fields of each category module and of the
//! living conditions, in page order, each with its key, label, kind and
//! whether it must be answered. The form page ([`crate::forms`]), an edit
//! of one field, and the "missing" check of validation all read these
//! tables, so a new field is one line here.
//!
//! A table borrows the module it describes: reading it gives the values,
//! writing through it edits the module.

use super::{
    BereavedFamily, CategoryDetails, DemobilisedGroup, DemobilisedStanding, DisabilityCause,
    DisabilitySubsidy, Housing, LivingConditions, MedicalInsurance, MilitiaKind, OfficerPlacement,
    PensionInsurance, RedArmyKind, Relation, RetiredManagement, RetirementKind, ServingForce,
    SocialAssistance, SoldierPlacement, StaffRetirementKind, StateBenefit, StateSupportRank,
    WorkStatus,
};
use crate::partial_date::PartialDate;

/// One question of a page, bound to its place in the module.
pub(crate) struct FieldSlot<'a> {
    /// The record's field name within the module, e.g. `enlisted_on`.
    pub(crate) key: &'static str,
    /// The question on the page.
    pub(crate) label_zh: &'static str,
    /// What "请填写…" calls a required field; `None` for an optional one.
    pub(crate) missing_zh: Option<&'static str>,
    /// A stored choice the page does not offer, and what to say about it.
    pub(crate) off_list: Option<OffList>,
    pub(crate) value: Slot<'a>,
}

/// The problem for a choice that is set but not among the page's options.
pub(crate) struct OffList {
    pub(crate) code: &'static str,
    pub(crate) message_zh: &'static str,
}

pub(crate) enum Slot<'a> {
    Choice(Box<dyn ChoiceSlot + 'a>),
    Multi(Box<dyn MultiSlot + 'a>),
    Text(&'a mut String),
    /// A whole number (yuan).
    Number(&'a mut Option<u32>),
    /// A year, a year and month, or a whole day: what is remembered.
    Date(&'a mut Option<PartialDate>),
}

impl Slot<'_> {
    /// Whether the person gave an answer (a blank text is no answer).
    pub(crate) fn is_answered(&self) -> bool {
        match self {
            Slot::Choice(choice) => choice.is_set(),
            Slot::Multi(multi) => multi.is_answered(),
            Slot::Text(text) => !text.trim().is_empty(),
            Slot::Number(number) => number.is_some(),
            Slot::Date(date) => date.is_some(),
        }
    }

    fn is_off_list(&self) -> bool {
        matches!(self, Slot::Choice(choice) if choice.is_set() && choice.selected().is_none())
    }
}

impl FieldSlot<'_> {
    /// The off-list problem of this field, if its value is off the list.
    pub(crate) fn off_list_problem(&self) -> Option<&OffList> {
        self.off_list.as_ref().filter(|_| self.value.is_off_list())
    }

    fn required(mut self, missing_zh: &'static str) -> Self {
        self.missing_zh = Some(missing_zh);
        self
    }

    fn off_list(mut self, code: &'static str, message_zh: &'static str) -> Self {
        self.off_list = Some(OffList { code, message_zh });
        self
    }
}

/// Pick one of a table of (value, label).
pub(crate) trait ChoiceSlot {
    fn options(&self) -> Vec<&'static str>;
    /// The index of the stored value; `None` when unset or off the list.
    fn selected(&self) -> Option<usize>;
    fn is_set(&self) -> bool;
    /// Store option `index`; an index past the table changes nothing.
    fn choose(&mut self, index: usize);
}

/// Pick any of a table; the last option is "none of these".
pub(crate) trait MultiSlot {
    /// The table's labels, then "都没有" (none of these).
    fn options(&self) -> Vec<&'static str>;
    /// One flag per option of [`MultiSlot::options`].
    fn selected(&self) -> Vec<bool>;
    fn is_answered(&self) -> bool;
    fn toggle(&mut self, index: usize);
}

struct Pick<'a, T: 'static> {
    table: &'static [(T, &'static str)],
    slot: &'a mut Option<T>,
}

impl<T: PartialEq + Copy> ChoiceSlot for Pick<'_, T> {
    fn options(&self) -> Vec<&'static str> {
        self.table.iter().map(|(_, label)| *label).collect()
    }

    fn selected(&self) -> Option<usize> {
        let value = (*self.slot)?;
        self.table.iter().position(|(t, _)| *t == value)
    }

    fn is_set(&self) -> bool {
        self.slot.is_some()
    }

    fn choose(&mut self, index: usize) {
        if let Some((value, _)) = self.table.get(index) {
            *self.slot = Some(*value);
        }
    }
}

const NONE_OF_THESE: &str = "都没有";

struct PickAny<'a, T: 'static> {
    table: &'static [(T, &'static str)],
    slot: &'a mut Option<Vec<T>>,
}

impl<T: PartialEq + Copy> MultiSlot for PickAny<'_, T> {
    fn options(&self) -> Vec<&'static str> {
        let mut options: Vec<&'static str> = self.table.iter().map(|(_, l)| *l).collect();
        options.push(NONE_OF_THESE);
        options
    }

    fn selected(&self) -> Vec<bool> {
        let chosen = self.slot.as_deref();
        let mut selected: Vec<bool> = self
            .table
            .iter()
            .map(|(t, _)| chosen.is_some_and(|v| v.contains(t)))
            .collect();
        selected.push(chosen.is_some_and(|v| v.is_empty()));
        selected
    }

    fn is_answered(&self) -> bool {
        self.slot.is_some()
    }

    fn toggle(&mut self, index: usize) {
        let table = self.table;
        let slot = &mut *self.slot;
        if index == table.len() {
            // "None of these" clears the rest; tapping it again un-answers.
            *slot = match slot {
                Some(v) if v.is_empty() => None,
                _ => Some(Vec::new()),
            };
            return;
        }
        let Some((value, _)) = table.get(index) else {
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
}

fn slot<'a>(key: &'static str, label_zh: &'static str, value: Slot<'a>) -> FieldSlot<'a> {
    FieldSlot {
        key,
        label_zh,
        missing_zh: None,
        off_list: None,
        value,
    }
}

fn choice<'a, T: PartialEq + Copy>(
    key: &'static str,
    label_zh: &'static str,
    table: &'static [(T, &'static str)],
    value: &'a mut Option<T>,
) -> FieldSlot<'a> {
    slot(
        key,
        label_zh,
        Slot::Choice(Box::new(Pick { table, slot: value })),
    )
}

fn multi<'a, T: PartialEq + Copy>(
    key: &'static str,
    label_zh: &'static str,
    table: &'static [(T, &'static str)],
    value: &'a mut Option<Vec<T>>,
) -> FieldSlot<'a> {
    slot(
        key,
        label_zh,
        Slot::Multi(Box::new(PickAny { table, slot: value })),
    )
}

fn date<'a>(
    key: &'static str,
    label_zh: &'static str,
    value: &'a mut Option<PartialDate>,
) -> FieldSlot<'a> {
    slot(key, label_zh, Slot::Date(value))
}

fn text<'a>(key: &'static str, label_zh: &'static str, value: &'a mut String) -> FieldSlot<'a> {
    slot(key, label_zh, Slot::Text(value))
}

fn number<'a>(
    key: &'static str,
    label_zh: &'static str,
    value: &'a mut Option<u32>,
) -> FieldSlot<'a> {
    slot(key, label_zh, Slot::Number(value))
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
const STATE_SUPPORT_RANKS: &[(StateSupportRank, &str)] = &[
    (StateSupportRank::Conscript, "义务兵"),
    (StateSupportRank::JuniorNco, "初级士官"),
    (
        StateSupportRank::MiddleOrSeniorNco,
        "中级以上士官（因战因公致残）",
    ),
];
const RETIRED_MANAGEMENT: &[(RetiredManagement, &str)] = &[
    (RetiredManagement::HandedToGovernment, "移交政府安置管理"),
    (RetiredManagement::ArmyManaged, "军队直接管理"),
];
const DEMOBILISED_STANDINGS: &[(DemobilisedStanding, &str)] = &[
    (DemobilisedStanding::InVillage, "在乡老复员军人"),
    (
        DemobilisedStanding::RetiredFromOtherDepartment,
        "其他部门管理的离退休老复员军人",
    ),
];
const MILITIA_KINDS: &[(MilitiaKind, &str)] = &[
    (MilitiaKind::Militia, "民兵"),
    (MilitiaKind::Labourer, "民工"),
    (MilitiaKind::Reservist, "预备役人员"),
    (MilitiaKind::Other, "其他人员"),
];
const SERVING_FORCES: &[(ServingForce, &str)] = &[
    (ServingForce::Pla, "中国人民解放军"),
    (ServingForce::ArmedPolice, "中国人民武装警察部队"),
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
/// §一(九): a martyr's children include those of people wrongly executed
/// before 1949 and later rehabilitated.
const MARTYR_RELATIONS: &[(Relation, &str)] = &[
    (Relation::Parent, "父母"),
    (Relation::Raiser, "抚养人"),
    (Relation::Spouse, "配偶"),
    (Relation::Child, "子女"),
    (Relation::ChildOfRehabilitated, "建国前错杀后被平反人员子女"),
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

const GRADE_OFF_LIST: (&str, &str) = ("disability_grade", "残疾等级应为1至10级");

/// The fields of one category's details page, in page order.
pub(crate) fn details_table(details: &mut CategoryDetails) -> Vec<FieldSlot<'_>> {
    let (grade_code, grade_message) = GRADE_OFF_LIST;
    match details {
        CategoryDetails::TransferredOfficer {
            placement,
            enlisted_on,
            transferred_on,
        } => vec![
            choice("placement", "安置方式", OFFICER_PLACEMENTS, placement).required("安置方式"),
            date("enlisted_on", "入伍时间", enlisted_on).required("入伍时间"),
            date("transferred_on", "转业时间", transferred_on).required("转业时间"),
        ],
        CategoryDetails::DischargedSoldier {
            placement,
            enlisted_on,
            discharged_on,
            disability_grade,
            state_support_rank,
        } => vec![
            choice("placement", "安置方式", SOLDIER_PLACEMENTS, placement).required("安置方式"),
            date("enlisted_on", "入伍时间", enlisted_on).required("入伍时间"),
            date("discharged_on", "退役时间", discharged_on).required("退役时间"),
            choice(
                "disability_grade",
                "残疾等级（没有评残不用选）",
                GRADES,
                disability_grade,
            )
            .off_list(grade_code, grade_message),
            // Required for 国家供养 only: a rule of validation asks for it.
            choice(
                "state_support_rank",
                "国家供养的，退役时是（其他安置方式不用选）",
                STATE_SUPPORT_RANKS,
                state_support_rank,
            ),
        ],
        CategoryDetails::RetiredOfficerNco {
            kind,
            management,
            enlisted_on,
            retired_on,
        } => vec![
            choice("kind", "离退休类别", RETIREMENT_KINDS, kind).required("离退休类别"),
            choice("management", "现在由谁管理", RETIRED_MANAGEMENT, management)
                .required("现在由谁管理"),
            date("enlisted_on", "入伍时间", enlisted_on).required("入伍时间"),
            date("retired_on", "离退休时间", retired_on).required("离退休时间"),
        ],
        CategoryDetails::RetiredNonEnlistedStaff {
            kind,
            started_work_on,
            retired_on,
        } => vec![
            choice("kind", "离退休退职类别", STAFF_RETIREMENT_KINDS, kind)
                .required("离退休退职类别"),
            date("started_work_on", "参加工作时间", started_work_on).required("参加工作时间"),
            date("retired_on", "离退休退职时间", retired_on).required("离退休退职时间"),
        ],
        CategoryDetails::DemobilisedServiceman {
            group,
            standing,
            enlisted_on,
            demobilised_on,
        } => vec![
            choice("group", "复员军人类别", DEMOBILISED_GROUPS, group).required("复员军人类别"),
            // Required for the second group only: a rule of validation asks.
            choice(
                "standing",
                "1954年10月31日之前入伍的，现在是",
                DEMOBILISED_STANDINGS,
                standing,
            ),
            date("enlisted_on", "入伍时间", enlisted_on).required("入伍时间"),
            date("demobilised_on", "复员时间", demobilised_on).required("复员时间"),
        ],
        CategoryDetails::RedArmyVeteran { kind, enlisted_on } => vec![
            choice("kind", "类别", RED_ARMY_KINDS, kind).required("红军老战士类别"),
            date("enlisted_on", "参加红军时间", enlisted_on).required("参加红军时间"),
        ],
        CategoryDetails::DisabledServiceman {
            disability_grade,
            cause,
            certificate_number,
        } => vec![
            choice("disability_grade", "残疾等级", GRADES, disability_grade)
                .required("残疾等级")
                .off_list(grade_code, grade_message),
            choice("cause", "致残原因", SERVICEMAN_CAUSES, cause).required("致残原因"),
            text("certificate_number", "残疾军人证编号", certificate_number).required("证件编号"),
        ],
        CategoryDetails::DisabledMilitia {
            person_kind,
            disability_grade,
            cause,
            certificate_number,
        } => vec![
            choice("person_kind", "致残时的身份", MILITIA_KINDS, person_kind)
                .required("致残时的身份"),
            choice("disability_grade", "残疾等级", GRADES, disability_grade)
                .required("残疾等级")
                .off_list(grade_code, grade_message),
            // 因病 is not offered; a stored one is reported by a rule of
            // validation, after the required fields.
            choice("cause", "致残原因", MILITIA_CAUSES, cause).required("致残原因"),
            text("certificate_number", "证件编号", certificate_number).required("证件编号"),
        ],
        CategoryDetails::MartyrFamily(family) => bereaved_table(family, MARTYR_RELATIONS),
        CategoryDetails::KilledOnDutyFamily(family)
        | CategoryDetails::DiedOfIllnessFamily(family) => {
            bereaved_table(family, BEREAVED_RELATIONS)
        }
        CategoryDetails::ServingMemberFamily {
            relation,
            member_name,
            force,
        } => vec![
            choice(
                "relation",
                "您与现役军人的关系",
                SERVING_RELATIONS,
                relation,
            )
            .required("与现役军人的关系")
            .off_list("relation", "“现役军人家属”只包括现役军人的父母、配偶和子女"),
            text("member_name", "现役军人姓名", member_name).required("现役军人姓名"),
            choice("force", "现役军人所在", SERVING_FORCES, force).required("现役军人所在的军队"),
        ],
    }
}

fn bereaved_table<'a>(
    family: &'a mut BereavedFamily,
    relations: &'static [(Relation, &'static str)],
) -> Vec<FieldSlot<'a>> {
    vec![
        choice(
            "relation",
            "您与逝者的关系",
            relations,
            &mut family.relation,
        )
        .required("与逝者的关系")
        .off_list(
            "relation",
            "“建国前错杀平反人员子女”只属于烈士遗属，请核对关系",
        ),
        text("deceased_name", "逝者姓名", &mut family.deceased_name).required("逝者姓名"),
        date(
            "deceased_on",
            "牺牲或病故时间（知道的话）",
            &mut family.deceased_on,
        ),
        choice(
            "receives_pension",
            "是否享受定期抚恤金",
            YES_NO,
            &mut family.receives_pension,
        )
        .required("是否享受定期抚恤金"),
    ]
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

/// The fields of the living-conditions page, in page order.
pub(crate) fn living_table(living: &mut LivingConditions) -> Vec<FieldSlot<'_>> {
    vec![
        choice("work", "工作情况", WORK, &mut living.work).required("工作情况"),
        number(
            "monthly_income_yuan",
            "本人月平均收入（元）",
            &mut living.monthly_income_yuan,
        )
        .required("月收入"),
        choice(
            "pension_insurance",
            "养老保险",
            PENSION,
            &mut living.pension_insurance,
        )
        .required("养老保险情况"),
        choice(
            "medical_insurance",
            "医疗保险",
            MEDICAL,
            &mut living.medical_insurance,
        )
        .required("医疗保险情况"),
        choice("housing", "住房情况", HOUSING, &mut living.housing).required("住房情况"),
        multi(
            "social_assistance",
            "享受的社会救助（可多选）",
            ASSISTANCE,
            &mut living.social_assistance,
        )
        .required("是否享受社会救助"),
        multi(
            "state_benefits",
            "享受的国家抚恤补助（可多选）",
            BENEFITS,
            &mut living.state_benefits,
        )
        .required("是否享受国家抚恤补助"),
        multi(
            "disability_subsidies",
            "享受的残疾人两项补贴（可多选）",
            SUBSIDIES,
            &mut living.disability_subsidies,
        )
        .required("是否享受残疾人两项补贴"),
        text("remarks", "其他想说明的情况（可不填）", &mut living.remarks),
    ]
}

//! The detail module of each chosen category (附件2–13).

use serde::{Deserialize, Serialize};

use crate::category::Category;
use crate::partial_date::PartialDate;

/// One chosen category with its detail module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "category", rename_all = "kebab-case", deny_unknown_fields)]
pub enum CategoryDetails {
    /// 1 军队转业干部
    TransferredOfficer {
        placement: Option<OfficerPlacement>,
        enlisted_on: Option<PartialDate>,
        /// Date of transfer out of active service (转业时间).
        transferred_on: Option<PartialDate>,
    },
    /// 2 退役士兵
    DischargedSoldier {
        placement: Option<SoldierPlacement>,
        enlisted_on: Option<PartialDate>,
        discharged_on: Option<PartialDate>,
        /// Disability grade 1–10 where assessed; state support needs 1–4.
        #[serde(default)]
        disability_grade: Option<u8>,
        /// Who was state-supported (国家供养): the plan's rank conditions.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        state_support_rank: Option<StateSupportRank>,
    },
    /// 3 军队离退休干部和退休士官
    RetiredOfficerNco {
        kind: Option<RetirementKind>,
        /// 移交政府安置 or 军队管理; absent in records made before.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        management: Option<RetiredManagement>,
        enlisted_on: Option<PartialDate>,
        retired_on: Option<PartialDate>,
    },
    /// 4 军队无军籍离退休退职职工
    RetiredNonEnlistedStaff {
        kind: Option<StaffRetirementKind>,
        started_work_on: Option<PartialDate>,
        retired_on: Option<PartialDate>,
    },
    /// 5 复员军人
    DemobilisedServiceman {
        group: Option<DemobilisedGroup>,
        /// 在乡 or retired from another department (the second group).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        standing: Option<DemobilisedStanding>,
        enlisted_on: Option<PartialDate>,
        demobilised_on: Option<PartialDate>,
    },
    /// 6 退伍红军老战士（含西路军红军老战士和红军失散人员）
    RedArmyVeteran {
        kind: Option<RedArmyKind>,
        enlisted_on: Option<PartialDate>,
    },
    /// 7 残疾军人
    DisabledServiceman {
        disability_grade: Option<u8>,
        cause: Option<DisabilityCause>,
        certificate_number: String,
    },
    /// 8 伤残民兵民工
    DisabledMilitia {
        /// 民兵, 民工, 预备役人员 or others.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        person_kind: Option<MilitiaKind>,
        disability_grade: Option<u8>,
        cause: Option<DisabilityCause>,
        certificate_number: String,
    },
    /// 9 烈士遗属
    MartyrFamily(BereavedFamily),
    /// 10 因公牺牲军人遗属
    KilledOnDutyFamily(BereavedFamily),
    /// 11 病故军人遗属
    DiedOfIllnessFamily(BereavedFamily),
    /// 12 现役军人家属
    ServingMemberFamily {
        relation: Option<Relation>,
        member_name: String,
        /// 中国人民解放军 or 中国人民武装警察部队.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        force: Option<ServingForce>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BereavedFamily {
    pub relation: Option<Relation>,
    pub deceased_name: String,
    pub deceased_on: Option<PartialDate>,
    /// Whether a regular pension (定期抚恤金) is received.
    pub receives_pension: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OfficerPlacement {
    /// 计划分配
    Planned,
    /// 自主择业: transferred on or after 2001-01-19 only.
    SelfChosenCareer,
    /// 自谋职业: chose it 1993–2000 only.
    OwnBusiness,
    /// 自愿自行就业
    VoluntarySelfEmployment,
    /// 企业军转干部: left service on or before 2000-12-31, placed in an enterprise.
    EnterpriseCadre,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SoldierPlacement {
    /// 政府安排工作
    GovernmentJob,
    /// 自主就业
    SelfEmployment,
    /// 自谋职业
    OwnBusiness,
    /// 国家供养: disability grade 1–4 only.
    StateSupported,
    /// 回乡生产
    ReturnedToFarming,
    /// 符合转业条件选择复员
    ChoseDemobilisation,
    /// 按政策取消待遇
    BenefitsCancelled,
    /// 复工复职复学
    ReturnedToJobOrSchool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetirementKind {
    /// 离休干部
    RetiredCadreBefore1949,
    /// 退休干部
    RetiredCadre,
    /// 退休士官
    RetiredNco,
}

/// 国家供养 (§一(二)4): conscripts and junior NCOs with a grade 1–4
/// disability, and NCOs of middle rank or above disabled in war or on duty
/// who gave up retirement placement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StateSupportRank {
    /// 义务兵
    Conscript,
    /// 初级士官
    JuniorNco,
    /// 中级以上士官 (因战因公致残，自愿放弃退休安置)
    MiddleOrSeniorNco,
}

/// Who manages a retired officer or NCO (§一(三)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetiredManagement {
    /// 移交政府安置管理
    HandedToGovernment,
    /// 军队直接管理 (retired cadres only)
    ArmyManaged,
}

/// The old demobilised servicemen of §一(六): 在乡 (managed by civil
/// affairs) or retired from another department.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DemobilisedStanding {
    /// 在乡老复员军人
    InVillage,
    /// 其他部门管理的离退休老复员军人
    RetiredFromOtherDepartment,
}

/// Who a disabled militiaman or labourer was (§一(八)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MilitiaKind {
    /// 民兵
    Militia,
    /// 民工
    Labourer,
    /// 预备役人员
    Reservist,
    /// 其他人员
    Other,
}

/// The force a serving member belongs to (§一(十二)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServingForce {
    /// 中国人民解放军
    Pla,
    /// 中国人民武装警察部队
    ArmedPolice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffRetirementKind {
    /// 离休
    Lixiu,
    /// 退休
    Retired,
    /// 退职
    Resigned,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DemobilisedGroup {
    /// Officers demobilised under the service regulations.
    UnderRegulations,
    /// Enlisted on or before 1954-10-31 and demobilised.
    EnlistedBefore1954,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RedArmyKind {
    /// 退伍红军老战士
    RedArmyVeteran,
    /// 西路军红军老战士
    WestRouteArmy,
    /// 红军失散人员
    Separated,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisabilityCause {
    /// 因战
    War,
    /// 因公
    Duty,
    /// 因病 (servicemen only)
    Illness,
}

/// Relation of the subject to the deceased or serving member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    Parent,
    /// 抚养人: raised the deceased; counts as a parent for categories 9–11.
    Raiser,
    Spouse,
    Child,
    /// 建国前错杀后被平反人员子女: martyrs' families only (§一(九)).
    ChildOfRehabilitated,
    Sibling,
}

impl Relation {
    pub fn as_zh(self) -> &'static str {
        match self {
            Relation::Parent => "父母",
            Relation::Raiser => "抚养人",
            Relation::Spouse => "配偶",
            Relation::Child => "子女",
            Relation::ChildOfRehabilitated => "建国前错杀平反人员子女",
            Relation::Sibling => "兄弟姐妹",
        }
    }
}

impl CategoryDetails {
    pub fn category(&self) -> Category {
        match self {
            CategoryDetails::TransferredOfficer { .. } => Category::TransferredOfficer,
            CategoryDetails::DischargedSoldier { .. } => Category::DischargedSoldier,
            CategoryDetails::RetiredOfficerNco { .. } => Category::RetiredOfficerNco,
            CategoryDetails::RetiredNonEnlistedStaff { .. } => Category::RetiredNonEnlistedStaff,
            CategoryDetails::DemobilisedServiceman { .. } => Category::DemobilisedServiceman,
            CategoryDetails::RedArmyVeteran { .. } => Category::RedArmyVeteran,
            CategoryDetails::DisabledServiceman { .. } => Category::DisabledServiceman,
            CategoryDetails::DisabledMilitia { .. } => Category::DisabledMilitia,
            CategoryDetails::MartyrFamily(_) => Category::MartyrFamily,
            CategoryDetails::KilledOnDutyFamily(_) => Category::KilledOnDutyFamily,
            CategoryDetails::DiedOfIllnessFamily(_) => Category::DiedOfIllnessFamily,
            CategoryDetails::ServingMemberFamily { .. } => Category::ServingMemberFamily,
        }
    }

    /// An empty detail module for a newly chosen category.
    pub fn empty(category: Category) -> CategoryDetails {
        let bereaved = BereavedFamily {
            relation: None,
            deceased_name: String::new(),
            deceased_on: None,
            receives_pension: None,
        };
        match category {
            Category::TransferredOfficer => CategoryDetails::TransferredOfficer {
                placement: None,
                enlisted_on: None,
                transferred_on: None,
            },
            Category::DischargedSoldier => CategoryDetails::DischargedSoldier {
                placement: None,
                enlisted_on: None,
                discharged_on: None,
                disability_grade: None,
                state_support_rank: None,
            },
            Category::RetiredOfficerNco => CategoryDetails::RetiredOfficerNco {
                kind: None,
                management: None,
                enlisted_on: None,
                retired_on: None,
            },
            Category::RetiredNonEnlistedStaff => CategoryDetails::RetiredNonEnlistedStaff {
                kind: None,
                started_work_on: None,
                retired_on: None,
            },
            Category::DemobilisedServiceman => CategoryDetails::DemobilisedServiceman {
                group: None,
                standing: None,
                enlisted_on: None,
                demobilised_on: None,
            },
            Category::RedArmyVeteran => CategoryDetails::RedArmyVeteran {
                kind: None,
                enlisted_on: None,
            },
            Category::DisabledServiceman => CategoryDetails::DisabledServiceman {
                disability_grade: None,
                cause: None,
                certificate_number: String::new(),
            },
            Category::DisabledMilitia => CategoryDetails::DisabledMilitia {
                person_kind: None,
                disability_grade: None,
                cause: None,
                certificate_number: String::new(),
            },
            Category::MartyrFamily => CategoryDetails::MartyrFamily(bereaved),
            Category::KilledOnDutyFamily => CategoryDetails::KilledOnDutyFamily(bereaved),
            Category::DiedOfIllnessFamily => CategoryDetails::DiedOfIllnessFamily(bereaved),
            Category::ServingMemberFamily => CategoryDetails::ServingMemberFamily {
                relation: None,
                member_name: String::new(),
                force: None,
            },
        }
    }

    /// (enlisted, left service) where the module records them.
    pub(super) fn service_dates(&self) -> (Option<PartialDate>, Option<PartialDate>) {
        match self {
            CategoryDetails::TransferredOfficer {
                enlisted_on,
                transferred_on,
                ..
            } => (*enlisted_on, *transferred_on),
            CategoryDetails::DischargedSoldier {
                enlisted_on,
                discharged_on,
                ..
            } => (*enlisted_on, *discharged_on),
            CategoryDetails::RetiredOfficerNco {
                enlisted_on,
                retired_on,
                ..
            } => (*enlisted_on, *retired_on),
            CategoryDetails::DemobilisedServiceman {
                enlisted_on,
                demobilised_on,
                ..
            } => (*enlisted_on, *demobilised_on),
            CategoryDetails::RedArmyVeteran { enlisted_on, .. } => (*enlisted_on, None),
            _ => (None, None),
        }
    }
}

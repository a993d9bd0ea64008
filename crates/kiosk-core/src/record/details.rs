//! The detail module of each chosen category (附件2–13).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::category::Category;

/// One chosen category with its detail module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "category", rename_all = "kebab-case", deny_unknown_fields)]
pub enum CategoryDetails {
    /// 1 军队转业干部
    TransferredOfficer {
        placement: Option<OfficerPlacement>,
        enlisted_on: Option<NaiveDate>,
        /// Date of transfer out of active service (转业时间).
        transferred_on: Option<NaiveDate>,
    },
    /// 2 退役士兵
    DischargedSoldier {
        placement: Option<SoldierPlacement>,
        enlisted_on: Option<NaiveDate>,
        discharged_on: Option<NaiveDate>,
        /// Disability grade 1–10 where assessed; state support needs 1–4.
        #[serde(default)]
        disability_grade: Option<u8>,
    },
    /// 3 军队离退休干部和退休士官
    RetiredOfficerNco {
        kind: Option<RetirementKind>,
        enlisted_on: Option<NaiveDate>,
        retired_on: Option<NaiveDate>,
    },
    /// 4 军队无军籍离退休退职职工
    RetiredNonEnlistedStaff {
        kind: Option<StaffRetirementKind>,
        started_work_on: Option<NaiveDate>,
        retired_on: Option<NaiveDate>,
    },
    /// 5 复员军人
    DemobilisedServiceman {
        group: Option<DemobilisedGroup>,
        enlisted_on: Option<NaiveDate>,
        demobilised_on: Option<NaiveDate>,
    },
    /// 6 退伍红军老战士（含西路军红军老战士和红军失散人员）
    RedArmyVeteran {
        kind: Option<RedArmyKind>,
        enlisted_on: Option<NaiveDate>,
    },
    /// 7 残疾军人
    DisabledServiceman {
        disability_grade: Option<u8>,
        cause: Option<DisabilityCause>,
        certificate_number: String,
    },
    /// 8 伤残民兵民工
    DisabledMilitia {
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
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BereavedFamily {
    pub relation: Option<Relation>,
    pub deceased_name: String,
    pub deceased_on: Option<NaiveDate>,
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
    Sibling,
}

impl Relation {
    pub fn as_zh(self) -> &'static str {
        match self {
            Relation::Parent => "父母",
            Relation::Raiser => "抚养人",
            Relation::Spouse => "配偶",
            Relation::Child => "子女",
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
            },
            Category::RetiredOfficerNco => CategoryDetails::RetiredOfficerNco {
                kind: None,
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
            },
        }
    }

    /// (enlisted, left service) where the module records them.
    pub(super) fn service_dates(&self) -> (Option<NaiveDate>, Option<NaiveDate>) {
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

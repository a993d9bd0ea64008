//! Record validation, driven from a table: each case changes one thing in
//! a valid record and the snapshot shows every problem that follows.

use chrono::NaiveDate;
use expect_test::{expect, Expect};

use super::*;
use crate::category::{Category, DocumentKind};
use crate::{PartialDate, Severity};

const VALID: &str = include_str!("../../../../assets/demo/record-valid.json");

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()
}

fn d(text: &str) -> Option<NaiveDate> {
    Some(NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap())
}

/// A remembered date as the record keeps it: `1975`, `1975-03` or a day.
fn pd(text: &str) -> Option<PartialDate> {
    Some(text.parse().unwrap())
}

fn valid() -> Record {
    serde_json::from_str(VALID).unwrap()
}

/// Apply `change` to the valid record and show the problems, one a line.
fn check(change: impl FnOnce(&mut Record), expect: Expect) {
    let mut record = valid();
    change(&mut record);
    let shown: Vec<String> = findings(&record, today())
        .iter()
        .map(|p| {
            // Errors as before; what does not block says how much it weighs.
            let weight = match p.severity {
                Severity::Error => String::new(),
                other => format!("[{}] ", other.as_zh()),
            };
            format!(
                "{} {} {weight}{}",
                p.field.as_deref().unwrap_or("-"),
                p.code,
                p.message
            )
        })
        .collect();
    expect.assert_eq(&shown.join("\n"));
}

#[test]
fn the_demo_record_is_valid_and_round_trips() {
    let record = valid();
    assert_eq!(problems(&record, today()), vec![]);
    assert!(validate(&record, today()).is_ok());
    let again: Record = serde_json::from_str(&serde_json::to_string(&record).unwrap()).unwrap();
    assert_eq!(again, record);
}

#[test]
fn unknown_fields_are_refused_when_reading() {
    let text = VALID.replacen("\"kiosk_id\"", "\"unit\": \"61889部队\", \"kiosk_id\"", 1);
    let err = serde_json::from_str::<Record>(&text).unwrap_err();
    assert!(err.to_string().contains("unknown field `unit`"), "{err}");
}

#[test]
fn missing_fields_are_each_reported() {
    check(
        |r| {
            r.identity.name.clear();
            r.identity.address = "  ".into();
            r.identity.card = None;
            r.living = LivingConditions::default();
            r.photos.portrait = None;
        },
        expect![[r#"
            identity.name missing 请填写姓名
            identity.address missing 请填写户籍住址
            identity.card missing 身份信息标为读卡所得，但没有读卡内容
            living.work missing 请填写工作情况
            living.monthly_income_yuan missing 请填写月收入
            living.pension_insurance missing 请填写养老保险情况
            living.medical_insurance missing 请填写医疗保险情况
            living.housing missing 请填写住房情况
            living.social_assistance missing 请填写是否享受社会救助
            living.state_benefits missing 请填写是否享受国家抚恤补助
            living.disability_subsidies missing 请填写是否享受残疾人两项补贴
            photos.portrait missing 还没有拍摄本人免冠照片"#]],
    );
}

#[test]
fn identity_must_match_the_card_exactly() {
    check(
        |r| {
            r.identity.name = "林国化".into();
            r.identity.valid_to = "2035-06-01".into();
        },
        expect![[r#"
            identity.name card_mismatch 姓名与身份证上的不一致，应与身份证完全相同
            identity.valid_to card_mismatch 有效期截止日期与身份证上的不一致，应与身份证完全相同"#]],
    );
}

#[test]
fn typed_identity_needs_a_photo_of_the_card() {
    check(
        |r| {
            r.identity.source = IdentitySource::Typed;
            r.identity.card = None;
        },
        expect!["photos.card_photo missing 手工录入身份信息时须拍摄身份证照片"],
    );
}

#[test]
fn id_number_problems_carry_their_codes() {
    check(
        |r| {
            r.identity.source = IdentitySource::Typed;
            r.identity.card = None;
            r.photos.card_photo = r.photos.portrait.clone().map(|mut p| {
                p.bytes = 30_000;
                p
            });
            r.identity.id_number = "350524195503150011".into();
        },
        expect!["identity.id_number check_digit 身份证号码校验不通过，请逐位核对号码"],
    );
    check(
        |r| {
            r.identity.source = IdentitySource::Typed;
            r.identity.card = None;
            r.photos.card_photo = r.photos.portrait.clone().map(|mut p| {
                p.bytes = 30_000;
                p
            });
            // A valid number of a woman born on another day.
            r.identity.id_number = "35052419801120002X".into();
        },
        expect![[r#"
            identity.birth_date contradiction 出生日期与身份证号码中的出生日期不一致
            identity.sex contradiction 性别与身份证号码不一致
            categories[0].enlisted_on contradiction 入伍日期早于出生日期"#]],
    );
}

#[test]
fn contradictions_in_service_dates() {
    check(
        |r| {
            if let CategoryDetails::DischargedSoldier { discharged_on, .. } = &mut r.categories[0] {
                *discharged_on = pd("1970-01-01");
            }
        },
        expect!["categories[0].discharged_on contradiction 退出现役的日期早于入伍日期"],
    );
    check(
        |r| {
            if let CategoryDetails::DischargedSoldier { enlisted_on, .. } = &mut r.categories[0] {
                *enlisted_on = pd("1970-06-01");
            }
        },
        expect!["categories[0].enlisted_on contradiction [提示] 入伍时未满16周岁，请工作人员核对出生日期和入伍日期"],
    );
    check(
        |r| {
            if let CategoryDetails::DischargedSoldier { discharged_on, .. } = &mut r.categories[0] {
                *discharged_on = pd("2027-01-01");
            }
        },
        expect!["categories[0].discharged_on date_in_future 日期不能晚于今天"],
    );
}

#[test]
fn in_category_rules_from_the_plan() {
    // State support is only for disability grades 1–4.
    check(
        |r| {
            if let CategoryDetails::DischargedSoldier { placement, .. } = &mut r.categories[0] {
                *placement = Some(SoldierPlacement::StateSupported);
            }
        },
        expect![[r#"
            categories[0].state_support_rank missing 国家供养的退役士兵须选择退役时是义务兵、初级士官还是中级以上士官
            categories[0].disability_grade placement_grade 国家供养仅限评定为1至4级残疾的退役士兵，请核对安置方式或残疾等级
            categories[1].disability_grade contradiction 国家供养须评定为1至4级残疾，残疾军人证上却是6级，请核对安置方式或残疾等级"#]],
    );
    // 自主择业 only from 2001-01-19; 自谋职业 only 1993–2000; enterprise cadres
    // only up to 2000-12-31.
    let officer = |placement, transferred: &str| {
        let transferred = pd(transferred);
        move |r: &mut Record| {
            r.categories[0] = CategoryDetails::TransferredOfficer {
                placement: Some(placement),
                enlisted_on: pd("1975-01-01"),
                transferred_on: transferred,
            };
            r.documents[1].kind = DocumentKind::TransferCertificate;
        }
    };
    check(
        officer(OfficerPlacement::SelfChosenCareer, "2001-01-19"),
        expect![""],
    );
    check(
        officer(OfficerPlacement::SelfChosenCareer, "2001-01-18"),
        expect!["categories[0].placement placement_date 自主择业仅限2001年1月19日以后转业的干部，请核对安置方式或转业时间"],
    );
    check(
        officer(OfficerPlacement::OwnBusiness, "1993-01-01"),
        expect![""],
    );
    check(
        officer(OfficerPlacement::OwnBusiness, "2001-02-01"),
        expect!["categories[0].placement placement_date 自谋职业仅限1993年至2000年间选择自谋职业的转业干部，请核对安置方式或转业时间"],
    );
    check(
        officer(OfficerPlacement::EnterpriseCadre, "2000-12-31"),
        expect![""],
    );
    check(
        officer(OfficerPlacement::EnterpriseCadre, "2001-01-01"),
        expect!["categories[0].placement placement_date 企业军转干部仅限2000年12月31日之前退出现役的干部，请核对安置方式或转业时间"],
    );
}

#[test]
fn demobilised_before_1954_and_red_army_dates() {
    let demobilised = |enlisted: &str| {
        let enlisted = pd(enlisted);
        move |r: &mut Record| {
            r.identity = valid_identity_born_1930(r);
            r.categories = vec![CategoryDetails::DemobilisedServiceman {
                group: Some(DemobilisedGroup::EnlistedBefore1954),
                standing: Some(DemobilisedStanding::InVillage),
                enlisted_on: enlisted,
                demobilised_on: pd("1958-01-01"),
            }];
            r.documents[1].kind = DocumentKind::DemobilisationCertificate;
            r.documents.truncate(2);
            // Without category 7 there is no disability pension either.
            r.living.state_benefits = Some(vec![]);
        }
    };
    check(demobilised("1954-10-31"), expect![""]);
    check(
        demobilised("1954-11-01"),
        expect!["categories[0].group group_date “1954年10月31日之前入伍”一类仅限该日期之前入伍的人员，请核对入伍时间"],
    );
}

/// The valid demo identity, moved to a man born 1930-01-05.
fn valid_identity_born_1930(r: &Record) -> Identity {
    let mut identity = r.identity.clone();
    identity.id_number = "350524193001050010".into();
    identity.birth_date = d("1930-01-05");
    if let Some(card) = identity.card.as_mut() {
        card.id_number = identity.id_number.clone();
        card.birth_date = identity.birth_date.unwrap();
    }
    identity
}

#[test]
fn relations_allowed_per_category() {
    check(
        |r| {
            r.categories.push(CategoryDetails::ServingMemberFamily {
                relation: Some(Relation::Sibling),
                member_name: "林小军".into(),
                force: Some(ServingForce::Pla),
            });
        },
        expect!["categories[2].relation relation “现役军人家属”只包括现役军人的父母、配偶和子女"],
    );
    check(
        |r| {
            r.categories
                .push(CategoryDetails::MartyrFamily(BereavedFamily {
                    relation: Some(Relation::Sibling),
                    deceased_name: "林国强".into(),
                    deceased_on: pd("1979-02-20"),
                    receives_pension: Some(true),
                }));
            r.living.state_benefits = Some(vec![
                StateBenefit::RegularPension,
                StateBenefit::DisabilityPension,
            ]);
            r.documents.push(DocumentPhoto {
                kind: DocumentKind::MartyrCertificate,
                photo: r.documents[0].photo.clone(),
                page: 1,
            });
        },
        expect![""],
    );
}

#[test]
fn combination_rules_and_missing_documents() {
    check(
        |r| {
            r.categories.remove(0);
        },
        expect!["categories category_7_needs_1_to_6 选择“残疾军人”还需选择第1至6类中的一项"],
    );
    check(
        |r| {
            r.documents
                .retain(|doc| doc.kind != DocumentKind::DisabledServicemanCertificate);
        },
        expect!["categories[1] document_missing “残疾军人”需要拍摄残疾军人证"],
    );
    check(
        |r| r.documents.clear(),
        expect![[r#"
            documents document_missing 请拍摄户口本本人页
            categories[0] document_missing “退役士兵”需要拍摄退伍证或入伍档案材料（如退伍军人登记表复印件）
            categories[1] document_missing “残疾军人”需要拍摄残疾军人证"#]],
    );
}

#[test]
fn free_text_with_a_unit_designation_is_refused() {
    check(
        |r| {
            r.needs[0].text = "我原在38军112师服役，希望复查腿伤".into();
            r.living.remarks = "退伍前在61889部队".into();
        },
        expect![[r#"
            living.remarks classified_text “61889部队”是部队代号，属于涉密信息，请删除后再继续
            needs[0].text classified_text “38军112师”是部队番号，属于涉密信息，请删除后再继续"#]],
    );
    // Ordinary words and place names pass.
    check(
        |r| {
            r.needs[0].text = "住在连江县团结村，孙子读三年级，想问教师招聘".into();
        },
        expect![""],
    );
}

#[test]
fn photos_over_their_caps() {
    check(
        |r| {
            if let Some(p) = r.photos.portrait.as_mut() {
                p.bytes = PORTRAIT_MAX_BYTES + 1;
            }
            r.documents[0].photo.sha256 = "not-a-hash".into();
        },
        expect![[r#"
            photos.portrait.bytes photo_too_large 免冠照片超过 300 KB 的上限
            documents[0].photo.sha256 photo_ref 户口本的文件标识无效"#]],
    );
}

#[test]
fn a_portrait_with_issues_needs_staff_acceptance_of_exactly_those_issues() {
    let issues = vec!["靠近一点".to_string(), "请正对摄像头".to_string()];
    let accepted = |issues: Vec<String>, by: &str| PortraitAcceptance {
        issues,
        accepted_by: by.into(),
        accepted_at: chrono::DateTime::UNIX_EPOCH,
    };
    let with_issues = issues.clone();
    check(
        move |r| r.photos.portrait_issues = with_issues,
        expect!["photos.portrait portrait_not_accepted 照片还有问题（靠近一点；请正对摄像头），须由工作人员确认"],
    );
    let (with_issues, partly) = (issues.clone(), vec![issues[0].clone()]);
    check(
        move |r| {
            r.photos.portrait_issues = with_issues;
            r.photos.portrait_acceptance = Some(accepted(partly, "staff-03"));
        },
        expect!["photos.portrait portrait_not_accepted 照片还有问题（靠近一点；请正对摄像头），须由工作人员确认"],
    );
    let (with_issues, all) = (issues.clone(), issues.clone());
    check(
        move |r| {
            r.photos.portrait_issues = with_issues;
            r.photos.portrait_acceptance = Some(accepted(all, "staff-03"));
        },
        expect![""],
    );
    // The county sees the acceptance; a record without one (all records
    // before it existed) reads as before.
    let mut record = valid();
    record.photos.portrait_issues = issues.clone();
    record.photos.portrait_acceptance = Some(accepted(issues, "staff-03"));
    let json = serde_json::to_value(&record).unwrap();
    assert_eq!(
        json["photos"]["portrait_acceptance"]["accepted_by"],
        "staff-03"
    );
    let again: Record = serde_json::from_value(json).unwrap();
    assert_eq!(again, record);
    let plain = serde_json::to_value(valid()).unwrap();
    assert!(plain["photos"].get("portrait_issues").is_none());
    assert!(plain["photos"].get("portrait_acceptance").is_none());
}

#[test]
fn a_signed_record_needs_its_signature() {
    check(
        |r| r.meta.state = RecordState::Signed,
        expect!["signature missing 回执还没有签字确认"],
    );
}

#[test]
fn needs_are_voluntary() {
    check(|r| r.needs.clear(), expect![""]);
    check(
        |r| r.needs[0].text = " ".into(),
        expect!["needs[0].text missing 请说明这项困难或诉求，或删除这一项"],
    );
}

#[test]
fn the_missing_fields_of_a_module_are_the_required_fields_of_its_page() {
    for category in crate::category::Category::ALL {
        let empty = CategoryDetails::empty(category);
        let mut record = valid();
        record.categories = vec![empty.clone()];
        let missing: Vec<String> = problems(&record, today())
            .iter()
            .filter(|p| p.code == "missing")
            .filter_map(|p| {
                p.field
                    .as_deref()?
                    .strip_prefix("categories[0].")
                    .map(String::from)
            })
            .collect();
        let required: Vec<&str> = crate::forms::details_fields(&empty)
            .iter()
            .filter(|f| f.required)
            .map(|f| f.key)
            .collect();
        assert_eq!(missing, required, "{category:?}");
    }
}

#[test]
fn a_record_state_reads_back_from_its_name_which_is_its_json() {
    for state in RecordState::ALL {
        assert_eq!(state.as_str().parse::<RecordState>(), Ok(state));
        assert_eq!(
            serde_json::to_string(&state).unwrap(),
            format!("\"{}\"", state.as_str())
        );
    }
    for text in ["", "Signed", " signed", "deleted"] {
        assert_eq!(
            text.parse::<RecordState>(),
            Err(UnknownRecordState(text.to_string()))
        );
    }
}

fn missing(kind: DocumentKind, reason: MissingReason, note: &str) -> MissingDocument {
    MissingDocument {
        kind,
        reason,
        note: note.into(),
        marked_by: "staff-03".into(),
        marked_at: chrono::DateTime::parse_from_rfc3339("2026-11-30T02:20:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc),
    }
}

#[test]
fn a_certificate_not_shown_is_marked_by_staff() {
    use DocumentKind::{DisabledServicemanCertificate as Disabled, HouseholdRegister as Household};
    // Marked instead of photographed: nothing blocks.
    check(
        |r| {
            r.documents.retain(|doc| doc.kind != Disabled);
            r.missing_documents
                .push(missing(Disabled, MissingReason::Lost, "1998年洪水中遗失"));
        },
        expect![""],
    );
    check(
        |r| {
            r.documents.retain(|doc| doc.kind != Household);
            r.missing_documents
                .push(missing(Household, MissingReason::NotBrought, ""));
        },
        expect![""],
    );
    // A mark needs the staff member; photographed and marked contradict;
    // one mark per kind; the note is guarded like all free text.
    check(
        |r| {
            r.documents.retain(|doc| doc.kind != Disabled);
            let mut unsigned = missing(Disabled, MissingReason::ToFollow, "");
            unsigned.marked_by = " ".into();
            r.missing_documents.push(unsigned);
            r.missing_documents
                .push(missing(Disabled, MissingReason::ToFollow, "原在51234部队"));
            r.missing_documents
                .push(missing(Household, MissingReason::NotBrought, ""));
        },
        expect![[r#"
            missing_documents[0].marked_by missing 请填写标记缺少证件的工作人员编号
            missing_documents[1].kind duplicate 残疾军人证被标记了两次
            missing_documents[1].note classified_text “51234部队”是部队代号，属于涉密信息，请删除后再继续
            missing_documents[2].kind contradiction 户口本已拍摄，不应再标记为未带"#]],
    );
    // Old records (no marks) load; a mark round-trips.
    let mut record = valid();
    record
        .missing_documents
        .push(missing(Disabled, MissingReason::ToFollow, "下周补交"));
    let json = serde_json::to_string(&record).unwrap();
    assert!(json.contains(r#""reason":"to_follow""#));
    assert_eq!(serde_json::from_str::<Record>(&json).unwrap(), record);
    assert!(!serde_json::to_string(&valid())
        .unwrap()
        .contains("missing_documents"));
}

#[test]
fn pages_of_a_certificate_are_numbered_in_order_each_under_the_cap() {
    let page = |r: &Record, kind: DocumentKind, page: u8, bytes: u64| {
        let mut doc = r.documents.iter().find(|d| d.kind == kind).unwrap().clone();
        doc.page = page;
        doc.photo.bytes = bytes;
        doc
    };
    check(
        |r| {
            let second = page(r, DocumentKind::HouseholdRegister, 2, 150_000);
            r.documents.insert(1, second);
        },
        expect![""],
    );
    check(
        |r| {
            let too_big = page(r, DocumentKind::HouseholdRegister, 2, 300_001);
            let gap = page(r, DocumentKind::DischargeCertificate, 3, 1_000);
            r.documents.insert(1, too_big);
            r.documents.push(gap);
        },
        expect![[r#"
            documents[1].photo.bytes photo_too_large 户口本第2页超过 300 KB 的上限
            documents[4].page document_page 退伍证的页码应依次为第1页、第2页……，这里是第3页"#]],
    );
    check(
        |r| {
            for n in 2..=MAX_DOCUMENT_PAGES + 1 {
                let extra = page(r, DocumentKind::HouseholdRegister, n, 1_000);
                r.documents.push(extra);
            }
        },
        expect!["documents[8].page document_page 户口本最多拍摄 6 页"],
    );
    // A page number travels only when it is not the first.
    let mut record = valid();
    let second = page(&record, DocumentKind::HouseholdRegister, 2, 1_000);
    record.documents.insert(1, second);
    let json = serde_json::to_string(&record).unwrap();
    assert_eq!(json.matches(r#""page":"#).count(), 1);
    assert_eq!(serde_json::from_str::<Record>(&json).unwrap(), record);
}

/// Each boundary of the plan with a remembered date on both sides of it and
/// on it at every precision: decided cases as before, the undecided ones
/// go to staff as 待核实 and never block.
#[test]
fn remembered_dates_are_compared_at_their_precision() {
    let officer = |placement, transferred: &str| {
        let transferred = pd(transferred);
        move |r: &mut Record| {
            r.categories[0] = CategoryDetails::TransferredOfficer {
                placement: Some(placement),
                enlisted_on: pd("1975"),
                transferred_on: transferred,
            };
            r.documents[1].kind = DocumentKind::TransferCertificate;
        }
    };
    let cases = [
        (OfficerPlacement::SelfChosenCareer, "2000", "error"),
        (OfficerPlacement::SelfChosenCareer, "2001", "needs_checking"),
        (
            OfficerPlacement::SelfChosenCareer,
            "2001-01",
            "needs_checking",
        ),
        (OfficerPlacement::SelfChosenCareer, "2001-02", "ok"),
        (OfficerPlacement::SelfChosenCareer, "2002", "ok"),
        (OfficerPlacement::OwnBusiness, "1992", "error"),
        (OfficerPlacement::OwnBusiness, "1993", "ok"),
        (OfficerPlacement::OwnBusiness, "2000-12", "ok"),
        (OfficerPlacement::OwnBusiness, "2001", "error"),
        (OfficerPlacement::EnterpriseCadre, "2000", "ok"),
        (OfficerPlacement::EnterpriseCadre, "2001", "error"),
    ];
    for (placement, transferred, want) in cases {
        let mut record = valid();
        officer(placement, transferred)(&mut record);
        let found = findings(&record, today());
        let got = match found.as_slice() {
            [] => "ok",
            [one] if one.severity == Severity::NeedsChecking => "needs_checking",
            [one] if one.blocks() => "error",
            _ => "several",
        };
        assert_eq!(got, want, "{placement:?} {transferred}: {found:?}");
        // What is undecided never stops the signature, and travels along.
        if want == "needs_checking" {
            let signed = validate(&record, today()).unwrap();
            assert_eq!(signed.record().checks, found);
        }
    }
    check(
        officer(OfficerPlacement::SelfChosenCareer, "2001"),
        expect!["categories[0].placement date_undecided [待核实] 自主择业仅限2001年1月19日以后转业的干部；转业时间只记到2001年，请工作人员对照转业证核实"],
    );

    let demobilised = |enlisted: &str| {
        let enlisted = pd(enlisted);
        move |r: &mut Record| {
            r.identity = valid_identity_born_1930(r);
            r.categories = vec![CategoryDetails::DemobilisedServiceman {
                group: Some(DemobilisedGroup::EnlistedBefore1954),
                standing: Some(DemobilisedStanding::RetiredFromOtherDepartment),
                enlisted_on: enlisted,
                demobilised_on: pd("1958"),
            }];
            r.documents[1].kind = DocumentKind::DemobilisationCertificate;
            r.documents.truncate(2);
            r.living.state_benefits = Some(vec![]);
        }
    };
    check(demobilised("1953"), expect![""]);
    check(demobilised("1954-10"), expect![""]);
    check(
        demobilised("1954"),
        expect!["categories[0].group date_undecided [待核实] “1954年10月31日之前入伍”一类，入伍时间只记到1954年，请工作人员对照复员证核实"],
    );
    check(
        demobilised("1955"),
        expect!["categories[0].group group_date “1954年10月31日之前入伍”一类仅限该日期之前入伍的人员，请核对入伍时间"],
    );
    // Same year on both sides is no contradiction; a later year is.
    check(
        |r| {
            if let CategoryDetails::DischargedSoldier {
                enlisted_on,
                discharged_on,
                ..
            } = &mut r.categories[0]
            {
                *enlisted_on = pd("1973");
                *discharged_on = pd("1973-06");
            }
        },
        expect![""],
    );
    check(
        |r| {
            if let CategoryDetails::DischargedSoldier {
                enlisted_on,
                discharged_on,
                ..
            } = &mut r.categories[0]
            {
                *enlisted_on = pd("1974");
                *discharged_on = pd("1973-06");
            }
        },
        expect!["categories[0].discharged_on contradiction 退出现役的日期早于入伍日期"],
    );
    // This year, remembered as a year only, is not in the future.
    check(
        |r| {
            if let CategoryDetails::DischargedSoldier { discharged_on, .. } = &mut r.categories[0] {
                *discharged_on = pd("2026");
            }
        },
        expect![""],
    );
}

#[test]
fn a_rule_not_in_the_plan_is_advice_for_staff() {
    let red_army = |enlisted: &str| {
        let enlisted = pd(enlisted);
        move |r: &mut Record| {
            r.identity = valid_identity_born_1930(r);
            r.categories = vec![CategoryDetails::RedArmyVeteran {
                kind: Some(RedArmyKind::Separated),
                enlisted_on: enlisted,
            }];
            r.documents.truncate(2);
            r.documents[1].kind = DocumentKind::RedArmyVeteranProof;
            r.living.state_benefits = Some(vec![]);
        }
    };
    check(red_army("1936"), expect![""]);
    check(red_army("1937"), expect![""]);
    check(
        red_army("1938"),
        expect!["categories[0].enlisted_on red_army_date [提示] 参加红军时间一般在1937年底之前，请工作人员核对"],
    );
    let mut record = valid();
    red_army("1945")(&mut record);
    let signed = validate(&record, today()).expect("advice does not block");
    assert_eq!(signed.record().checks.len(), 1);
}

#[test]
fn sub_classifications_of_the_plan() {
    // 国家供养: the rank is asked for; a middle-rank NCO disabled by illness
    // is not state-supported.
    let state_supported = |rank, grade: u8, cause| {
        move |r: &mut Record| {
            if let CategoryDetails::DischargedSoldier {
                placement,
                disability_grade,
                state_support_rank,
                ..
            } = &mut r.categories[0]
            {
                *placement = Some(SoldierPlacement::StateSupported);
                *disability_grade = Some(grade);
                *state_support_rank = rank;
            }
            if let CategoryDetails::DisabledServiceman {
                disability_grade,
                cause: c,
                ..
            } = &mut r.categories[1]
            {
                *disability_grade = Some(grade);
                *c = Some(cause);
            }
        }
    };
    check(
        state_supported(
            Some(StateSupportRank::JuniorNco),
            2,
            DisabilityCause::Illness,
        ),
        expect![""],
    );
    check(
        state_supported(None, 2, DisabilityCause::War),
        expect!["categories[0].state_support_rank missing 国家供养的退役士兵须选择退役时是义务兵、初级士官还是中级以上士官"],
    );
    check(
        state_supported(
            Some(StateSupportRank::MiddleOrSeniorNco),
            2,
            DisabilityCause::Illness,
        ),
        expect!["categories[1].cause contradiction 中级以上士官须因战因公致残才由国家供养，残疾军人证上的致残原因却是因病，请核对"],
    );
    // Category 3: who manages; category 5: 在乡 or retired elsewhere.
    check(
        |r| {
            r.categories[0] = CategoryDetails::RetiredOfficerNco {
                kind: Some(RetirementKind::RetiredNco),
                management: Some(RetiredManagement::ArmyManaged),
                enlisted_on: pd("1973"),
                retired_on: pd("2000"),
            };
            r.documents[1].kind = DocumentKind::RetirementCertificate;
        },
        expect!["categories[0].management management [请核对] 军队直接管理的是军队离退休干部，退休士官一般移交政府安置，请核对"],
    );
    check(
        |r| {
            r.categories[0] = CategoryDetails::RetiredOfficerNco {
                kind: Some(RetirementKind::RetiredCadre),
                management: None,
                enlisted_on: pd("1973"),
                retired_on: pd("2000"),
            };
            r.documents[1].kind = DocumentKind::RetirementCertificate;
        },
        expect!["categories[0].management missing 请填写现在由谁管理"],
    );
    check(
        |r| {
            r.identity = valid_identity_born_1930(r);
            r.categories = vec![CategoryDetails::DemobilisedServiceman {
                group: Some(DemobilisedGroup::EnlistedBefore1954),
                standing: None,
                enlisted_on: pd("1950"),
                demobilised_on: pd("1958"),
            }];
            r.documents[1].kind = DocumentKind::DemobilisationCertificate;
            r.documents.truncate(2);
            r.living.state_benefits = Some(vec![]);
        },
        expect!["categories[0].standing missing 请填写现在是在乡老复员军人还是离退休老复员军人"],
    );
    // Category 9 only: 建国前错杀平反人员子女.
    let bereaved = |martyr: bool| {
        move |r: &mut Record| {
            let family = BereavedFamily {
                relation: Some(Relation::ChildOfRehabilitated),
                deceased_name: "林国强".into(),
                deceased_on: pd("1948"),
                receives_pension: Some(false),
            };
            let (details, kind) = if martyr {
                (
                    CategoryDetails::MartyrFamily(family),
                    DocumentKind::MartyrCertificate,
                )
            } else {
                (
                    CategoryDetails::KilledOnDutyFamily(family),
                    DocumentKind::KilledOnDutyCertificate,
                )
            };
            r.categories.push(details);
            r.documents.push(DocumentPhoto {
                kind,
                page: 1,
                photo: r.documents[0].photo.clone(),
            });
        }
    };
    check(bereaved(true), expect![""]);
    check(
        bereaved(false),
        expect![
            "categories[2].relation relation “建国前错杀平反人员子女”只属于烈士遗属，请核对关系"
        ],
    );
    // Category 8 and 12 ask who.
    let mut record = valid();
    record.categories = vec![
        CategoryDetails::empty(Category::DisabledMilitia),
        CategoryDetails::empty(Category::ServingMemberFamily),
    ];
    let missing: Vec<String> = problems(&record, today())
        .into_iter()
        .filter(|p| {
            p.code == "missing"
                && p.field
                    .as_deref()
                    .is_some_and(|f| f.starts_with("categories"))
        })
        .map(|p| p.field.map(String::from).unwrap_or_default())
        .collect();
    assert!(
        missing.contains(&"categories[0].person_kind".to_string()),
        "{missing:?}"
    );
    assert!(
        missing.contains(&"categories[1].force".to_string()),
        "{missing:?}"
    );
}

#[test]
fn consistency_across_categories_and_living_conditions() {
    // Two grades for one person.
    check(
        |r| {
            if let CategoryDetails::DischargedSoldier { disability_grade, .. } = &mut r.categories[0] {
                *disability_grade = Some(5);
            }
        },
        expect!["categories[0].disability_grade contradiction 退役士兵一栏的残疾等级（5级）与残疾军人证的等级（6级）不一致，请核对"],
    );
    // 国家供养 without the disabled serviceman's category: a warning.
    check(
        |r| {
            r.categories.truncate(1);
            if let CategoryDetails::DischargedSoldier {
                placement,
                disability_grade,
                state_support_rank,
                ..
            } = &mut r.categories[0]
            {
                *placement = Some(SoldierPlacement::StateSupported);
                *disability_grade = Some(1);
                *state_support_rank = Some(StateSupportRank::Conscript);
            }
        },
        expect![[r#"
            categories[0].placement state_support_without_certificate [请核对] 国家供养的退役士兵评有1至4级残疾，一般持有残疾军人证，请核对是否也属于“残疾军人”
            living.state_benefits benefit_mismatch [请核对] 享受伤残抚恤金的一般是残疾军人或伤残民兵民工，请核对人员类别"#]],
    );
    // Category 7 without 伤残抚恤金.
    check(
        |r| r.living.state_benefits = Some(vec![]),
        expect!["living.state_benefits benefit_mismatch [请核对] 已选“残疾军人”，享受的国家抚恤补助中却没有伤残抚恤金，请核对"],
    );
    // Categories 9–11 against 定期抚恤金, each way round.
    let martyr = |receives: bool, benefits: Vec<StateBenefit>| {
        move |r: &mut Record| {
            r.categories
                .push(CategoryDetails::MartyrFamily(BereavedFamily {
                    relation: Some(Relation::Parent),
                    deceased_name: "林国强".into(),
                    deceased_on: pd("1979-02"),
                    receives_pension: Some(receives),
                }));
            r.documents.push(DocumentPhoto {
                kind: DocumentKind::MartyrCertificate,
                page: 1,
                photo: r.documents[0].photo.clone(),
            });
            r.living.state_benefits = Some(benefits);
        }
    };
    use StateBenefit::{DisabilityPension, RegularPension};
    check(
        martyr(true, vec![RegularPension, DisabilityPension]),
        expect![""],
    );
    check(martyr(false, vec![DisabilityPension]), expect![""]);
    check(
        martyr(true, vec![DisabilityPension]),
        expect!["living.state_benefits contradiction 遗属一栏说享受定期抚恤金，国家抚恤补助中却没有选定期抚恤金，请核对"],
    );
    check(
        martyr(false, vec![RegularPension, DisabilityPension]),
        expect!["living.state_benefits contradiction 遗属一栏说不享受定期抚恤金，国家抚恤补助中却选了定期抚恤金，请核对"],
    );
    check(
        |r| r.living.state_benefits = Some(vec![RegularPension, DisabilityPension]),
        expect!["living.state_benefits benefit_mismatch [请核对] 定期抚恤金发给烈士、因公牺牲军人、病故军人的遗属，请核对人员类别"],
    );
}

#[test]
fn old_records_load_with_full_dates_and_without_the_new_fields() {
    let record = valid();
    let text = serde_json::to_string(&record).unwrap();
    assert!(text.contains(r#""enlisted_on":"1973-12-01""#), "{text}");
    assert!(!text.contains("checks"), "no checks, no key: {text}");
    if let CategoryDetails::DischargedSoldier {
        enlisted_on,
        state_support_rank,
        ..
    } = &record.categories[0]
    {
        assert_eq!(*enlisted_on, pd("1973-12-01"));
        assert_eq!(*state_support_rank, None);
    }
    let mut partial = record.clone();
    if let CategoryDetails::DischargedSoldier { enlisted_on, .. } = &mut partial.categories[0] {
        *enlisted_on = pd("1973");
    }
    let text = serde_json::to_string(&partial).unwrap();
    assert!(text.contains(r#""enlisted_on":"1973""#), "{text}");
    assert_eq!(serde_json::from_str::<Record>(&text).unwrap(), partial);
    let bad = text.replace(r#""enlisted_on":"1973""#, r#""enlisted_on":"1973-13""#);
    assert!(serde_json::from_str::<Record>(&bad).is_err());
}

//! `veteran-kiosk demo records <N> --out <DIR>`: valid, varied, synthetic
//! records with generated photos, for demos, staff training and load tests.
//!
//! Record *i* takes the *i*-th of every category combination the rules
//! allow (so `N ≥ 223` covers them all), with details, documents, living
//! conditions and needs drawn from a seeded generator. Every record is
//! checked with the core before it is written. Nothing here is a real
//! person: names are drawn from common characters, ID numbers are made up
//! with a valid check digit in the demo county.
//!
//! Layout: `DIR/record-00001.json …` and `DIR/photos/<sha256>.jpg`, which
//! is where `queue add` looks for photos by default.

use std::fs;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use clap::Subcommand;
use serde_json::json;
use uuid::Uuid;

use super::Outcome;
use crate::store::Blobs;
use crate::sync::core::SplitMix64;
use kiosk_core::category::{check_selection, Category, DocumentKind};
use kiosk_core::id_number::{check_digit, Sex};
use kiosk_core::record::{
    self, BereavedFamily, CardIdentity, CategoryDetails, DemobilisedGroup, DemobilisedStanding,
    DisabilityCause, DisabilitySubsidy, DocumentPhoto, Housing, Identity, IdentitySource,
    LivingConditions, MedicalInsurance, Meta, MilitiaKind, Need, NeedArea, OfficerPlacement,
    PensionInsurance, PhotoRef, Photos, Record, RecordState, RedArmyKind, Relation,
    RetiredManagement, RetirementKind, ServingForce, Signature, SocialAssistance, SoldierPlacement,
    StaffRetirementKind, StateBenefit, StateSupportRank, Township, WorkStatus, SCHEMA_VERSION,
};

#[derive(Subcommand, Debug)]
pub enum DemoCommand {
    /// The kiosk with in-memory simulated devices and a demo staff PIN
    /// (2468): nothing is stored or sent.
    Kiosk,
    /// Write N valid synthetic records and their photos.
    Records {
        count: usize,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        #[arg(long, default_value = "AX-FC-01")]
        kiosk_id: String,
    },
}

pub fn run(cmd: DemoCommand) -> Outcome {
    match cmd {
        DemoCommand::Kiosk => match crate::kiosk::run_demo() {
            Ok(()) => Outcome::Ok,
            Err(err) => {
                eprintln!("the demo kiosk could not start: {err}");
                Outcome::UsageOrUnreadable
            }
        },
        DemoCommand::Records {
            count,
            out,
            seed,
            kiosk_id,
        } => {
            let options = DemoOptions {
                seed,
                kiosk_id,
                now: Utc::now(),
            };
            match write_records(&out, count, &options) {
                Ok(files) => {
                    println!(
                        "{}",
                        json!({"ok": true, "records": files.len(), "dir": out, "combinations": allowed_selections().len()})
                    );
                    Outcome::Ok
                }
                Err(e) => {
                    eprintln!("veteran-kiosk: {e}");
                    Outcome::UsageOrUnreadable
                }
            }
        }
    }
}

/// What the generated records have in common.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub seed: u64,
    pub kiosk_id: String,
    /// Records are created and signed shortly before this instant.
    pub now: DateTime<Utc>,
}

/// Every category combination the rules allow, smallest first.
pub fn allowed_selections() -> Vec<Vec<Category>> {
    let mut out: Vec<Vec<Category>> = (1u32..(1 << 12))
        .map(|mask| {
            Category::ALL
                .iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .map(|(_, c)| *c)
                .collect::<Vec<_>>()
        })
        .filter(|selection| check_selection(selection).is_empty())
        .collect();
    out.sort_by_key(|s| (s.len(), s.iter().map(|c| c.code()).collect::<Vec<_>>()));
    out
}

/// Writes `count` records and their photos to `dir`; returns the record files.
pub fn write_records(
    dir: &Path,
    count: usize,
    options: &DemoOptions,
) -> std::io::Result<Vec<PathBuf>> {
    let photos = dir.join("photos");
    fs::create_dir_all(&photos)?;
    let selections = allowed_selections();
    let mut pool = PhotoPool::default();
    let mut files = Vec::with_capacity(count);
    for i in 0..count {
        let (record, blobs) = generate(i, &selections, options, &mut pool);
        for (sha256, bytes) in blobs.iter() {
            let path = photos.join(format!("{sha256}.jpg"));
            if !path.exists() {
                fs::write(&path, bytes)?;
            }
        }
        let path = dir.join(format!("record-{:05}.json", i + 1));
        let text = serde_json::to_string_pretty(&record).map_err(std::io::Error::other)?;
        fs::write(&path, text)?;
        files.push(path);
    }
    Ok(files)
}

/// Generated photos, reused across records so a large demo set stays small.
#[derive(Default)]
pub struct PhotoPool {
    made: std::collections::HashMap<(PhotoKind, u64), Vec<u8>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PhotoKind {
    Portrait,
    CardPortrait,
    CardPhoto,
    Document,
}

impl PhotoPool {
    const VARIANTS: u64 = 12;

    fn get(&mut self, kind: PhotoKind, rng: &mut SplitMix64) -> Vec<u8> {
        let variant = rng.next_u64() % Self::VARIANTS;
        self.made
            .entry((kind, variant))
            .or_insert_with(|| synthetic_jpeg(kind, variant))
            .clone()
    }
}

/// A simple generated JPEG of the given kind: a head-and-shoulders figure
/// for portraits, a page with a header band and lines for documents.
pub fn synthetic_jpeg(kind: PhotoKind, variant: u64) -> Vec<u8> {
    let (w, h, quality): (u16, u16, u8) = match kind {
        PhotoKind::Portrait => (358, 441, 88),
        PhotoKind::CardPortrait => (102, 126, 40),
        PhotoKind::CardPhoto => (428, 270, 70),
        PhotoKind::Document => (640, 452, 80),
    };
    let mut rng = SplitMix64(variant.wrapping_mul(0x9E37_79B9) ^ (kind as u64 + 1));
    let tint = (rng.next_u64() % 40) as u8;
    let (wf, hf) = (f32::from(w), f32::from(h));
    let mut pixels = Vec::with_capacity(usize::from(w) * usize::from(h) * 3);
    for y in 0..h {
        for x in 0..w {
            let (xf, yf) = (f32::from(x), f32::from(y));
            let noise = (rng.next_u64() % 9) as u8;
            let rgb: [u8; 3] = match kind {
                PhotoKind::Portrait | PhotoKind::CardPortrait => {
                    let head = ((xf - wf / 2.0) / (wf * 0.22)).powi(2)
                        + ((yf - hf * 0.38) / (hf * 0.24)).powi(2)
                        <= 1.0;
                    let shoulders =
                        yf > hf * 0.66 && ((xf - wf / 2.0).abs() < (yf - hf * 0.5) * 1.4);
                    if head {
                        [222 - tint / 2, 184 - tint / 2, 150 - tint / 3]
                    } else if shoulders {
                        [30 + tint, 40 + tint, 70 + tint]
                    } else {
                        [90 + tint, 150 + tint, 220]
                    }
                }
                PhotoKind::CardPhoto | PhotoKind::Document => {
                    let band = yf < hf * 0.14;
                    let line = yf > hf * 0.22
                        && (y / 6) % 3 == 0
                        && xf > wf * 0.08
                        && xf < wf * (0.6 + f32::from(tint) / 100.0);
                    if band {
                        [180 + tint, 30, 30]
                    } else if line {
                        [60, 60, 60]
                    } else {
                        [245, 240 - tint / 2, 225]
                    }
                }
            };
            pixels.extend(rgb.iter().map(|c| c.saturating_add(noise)));
        }
    }
    let mut out = Vec::new();
    // Encoding a well-formed buffer of the stated size cannot fail. The
    // same encoder as the kiosk's photos (`photo::encode`), so demo records
    // look like real ones.
    let _ = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality.clamp(1, 100))
        .encode(&pixels, w.into(), h.into(), image::ExtendedColorType::Rgb8);
    out
}

const SURNAMES: &[&str] = &[
    "林", "陈", "黄", "王", "李", "张", "刘", "吴", "郑", "苏", "谢", "许", "何", "高", "周",
];
const GIVEN: &[&str] = &[
    "国华", "建平", "秀英", "志强", "丽珍", "明辉", "春生", "玉兰", "文斌", "桂香", "永福", "金水",
    "淑芬", "海燕", "德胜", "美玲", "少华", "振兴", "雪梅", "荣发",
];
const VILLAGES: &[&str] = &[
    "东岳社区",
    "城东村",
    "南街社区",
    "大同村",
    "凤山村",
    "西坪村",
];
const NEED_TEXTS: &[(NeedArea, &str)] = &[
    (NeedArea::Medical, "希望就近复查更方便"),
    (NeedArea::Employment, "希望参加职业技能培训"),
    (NeedArea::Housing, "老房子漏雨，希望了解危房改造政策"),
    (NeedArea::ElderlyCare, "年纪大了，希望了解居家养老服务"),
    (NeedArea::Transport, "去县城看病路远，希望有便民班车"),
    (NeedArea::Education, "孩子上学，希望了解优待政策"),
    (NeedArea::Living, "冬天取暖费用较高"),
    (NeedArea::Culture, "希望村里多组织老兵座谈活动"),
];

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

fn pick<'a, T>(rng: &mut SplitMix64, items: &'a [T]) -> &'a T {
    &items[(rng.next_u64() % items.len() as u64) as usize]
}

fn between(rng: &mut SplitMix64, from: NaiveDate, to: NaiveDate) -> NaiveDate {
    let days = (to - from).num_days().max(0) as u64;
    from + Duration::days((rng.next_u64() % (days + 1)) as i64)
}

fn years(d: NaiveDate, n: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(d.year() + n, d.month(), d.day().min(28)).unwrap_or(d)
}

fn photo_ref(blobs: &mut Blobs, bytes: Vec<u8>) -> PhotoRef {
    let len = bytes.len() as u64;
    PhotoRef {
        sha256: blobs.insert(bytes),
        bytes: len,
    }
}

fn document_for(category: Category) -> Option<DocumentKind> {
    category
        .required_documents()
        .first()
        .and_then(|req| req.any_of.first())
        .copied()
}

/// Record number `index` (0-based) of a demo set: valid as of `options.now`.
pub fn generate(
    index: usize,
    selections: &[Vec<Category>],
    options: &DemoOptions,
    pool: &mut PhotoPool,
) -> (Record, Blobs) {
    let mut rng = SplitMix64(options.seed ^ (index as u64).wrapping_mul(0xA24B_AED4_963E_E407));
    let selection = selections
        .get(index % selections.len().max(1))
        .cloned()
        .unwrap_or_else(|| vec![Category::DischargedSoldier]);
    let today = options.now.date_naive();
    let has = |c: Category| selection.contains(&c);

    // Birth and service years that fit every chosen category.
    let red_army = has(Category::RedArmyVeteran);
    let early_demob = has(Category::DemobilisedServiceman) && rng.next_u64() % 2 == 0;
    let staff = has(Category::RetiredNonEnlistedStaff);
    let birth = if red_army {
        between(&mut rng, date(1916, 1, 1), date(1921, 12, 31))
    } else if early_demob {
        between(&mut rng, date(1928, 1, 1), date(1935, 12, 31))
    } else if staff || has(Category::RetiredOfficerNco) {
        between(&mut rng, date(1940, 1, 1), date(1962, 12, 31))
    } else {
        between(&mut rng, date(1945, 1, 1), date(1985, 12, 31))
    };
    let enlisted = if red_army {
        between(&mut rng, date(1933, 1, 1), date(1936, 12, 31))
    } else if early_demob {
        between(&mut rng, years(birth, 17), date(1954, 10, 1))
    } else {
        years(birth, 17 + (rng.next_u64() % 4) as i32)
    };
    let left = years(enlisted, 3 + (rng.next_u64() % 14) as i32).min(today - Duration::days(30));
    let grade = 1 + (rng.next_u64() % 10) as u8;

    let sex_digit = (rng.next_u64() % 10) as u8;
    let sex = if sex_digit % 2 == 1 {
        Sex::Male
    } else {
        Sex::Female
    };
    let seq = (rng.next_u64() % 100) as u8;
    let first17 = format!("350524{}{seq:02}{sex_digit}", birth.format("%Y%m%d"));
    let mut digits = [0u8; 17];
    digits.copy_from_slice(&first17.as_bytes()[..17]);
    let id_number = format!("{first17}{}", check_digit(&digits));

    let name = format!("{}{}", pick(&mut rng, SURNAMES), pick(&mut rng, GIVEN));
    let township = Township {
        code: "350524100".into(),
        name: "凤城镇".into(),
    };
    let address = format!(
        "福建省安溪县{}{}{}号",
        township.name,
        pick(&mut rng, VILLAGES),
        1 + rng.next_u64() % 120
    );
    let valid_from = between(&mut rng, date(2012, 1, 1), today - Duration::days(400));
    let valid_to = if birth.year() < 1975 {
        "长期".to_string()
    } else {
        years(valid_from, 20).format("%Y-%m-%d").to_string()
    };
    let nation_code = if rng.next_u64() % 5 == 0 {
        2 + (rng.next_u64() % 55) as u8
    } else {
        1
    };
    let authority = "安溪县公安局".to_string();
    let typed = rng.next_u64() % 3 == 0;
    let card = CardIdentity {
        name: name.clone(),
        sex,
        nation_code,
        birth_date: birth,
        address: address.clone(),
        id_number: id_number.clone(),
        authority: authority.clone(),
        valid_from,
        valid_to: valid_to.clone(),
    };
    let identity = Identity {
        source: if typed {
            IdentitySource::Typed
        } else {
            IdentitySource::Card
        },
        name,
        sex: Some(sex),
        nation_code: Some(nation_code),
        birth_date: Some(birth),
        address,
        id_number,
        authority,
        valid_from: Some(valid_from),
        valid_to,
        phone: if rng.next_u64() % 3 == 0 {
            String::new()
        } else {
            format!("139{:08}", rng.next_u64() % 100_000_000)
        },
        current_address: String::new(),
        card: if typed { None } else { Some(card) },
    };

    let relation_any = [
        Relation::Parent,
        Relation::Raiser,
        Relation::Spouse,
        Relation::Child,
        Relation::Sibling,
    ];
    let relation_family = [Relation::Parent, Relation::Spouse, Relation::Child];
    let mut categories = Vec::new();
    for category in &selection {
        let details = match category {
            Category::TransferredOfficer => {
                let mut fits = vec![
                    OfficerPlacement::Planned,
                    OfficerPlacement::VoluntarySelfEmployment,
                ];
                if left >= date(2001, 1, 19) {
                    fits.push(OfficerPlacement::SelfChosenCareer);
                }
                if (1993..=2000).contains(&left.year()) {
                    fits.push(OfficerPlacement::OwnBusiness);
                }
                if left <= date(2000, 12, 31) {
                    fits.push(OfficerPlacement::EnterpriseCadre);
                }
                CategoryDetails::TransferredOfficer {
                    placement: Some(*pick(&mut rng, &fits)),
                    enlisted_on: Some(enlisted.into()),
                    transferred_on: Some(left.into()),
                }
            }
            Category::DischargedSoldier => {
                let mut fits = vec![
                    SoldierPlacement::GovernmentJob,
                    SoldierPlacement::SelfEmployment,
                    SoldierPlacement::OwnBusiness,
                    SoldierPlacement::ReturnedToFarming,
                    SoldierPlacement::ChoseDemobilisation,
                    SoldierPlacement::BenefitsCancelled,
                    SoldierPlacement::ReturnedToJobOrSchool,
                ];
                let disabled = has(Category::DisabledServiceman);
                if disabled && grade <= 4 {
                    fits.push(SoldierPlacement::StateSupported);
                }
                let placement = *pick(&mut rng, &fits);
                CategoryDetails::DischargedSoldier {
                    placement: Some(placement),
                    enlisted_on: Some(enlisted.into()),
                    discharged_on: Some(left.into()),
                    disability_grade: disabled.then_some(grade),
                    state_support_rank: (placement == SoldierPlacement::StateSupported)
                        .then_some(StateSupportRank::JuniorNco),
                }
            }
            Category::RetiredOfficerNco => CategoryDetails::RetiredOfficerNco {
                kind: Some(*pick(
                    &mut rng,
                    &[RetirementKind::RetiredCadre, RetirementKind::RetiredNco],
                )),
                management: Some(RetiredManagement::HandedToGovernment),
                enlisted_on: Some(enlisted.into()),
                retired_on: Some(years(enlisted, 25).min(today - Duration::days(30)).into()),
            },
            Category::RetiredNonEnlistedStaff => {
                let started = years(birth, 18);
                CategoryDetails::RetiredNonEnlistedStaff {
                    kind: Some(*pick(
                        &mut rng,
                        &[StaffRetirementKind::Retired, StaffRetirementKind::Resigned],
                    )),
                    started_work_on: Some(started.into()),
                    retired_on: Some(years(started, 30).min(today - Duration::days(30)).into()),
                }
            }
            Category::DemobilisedServiceman => CategoryDetails::DemobilisedServiceman {
                group: Some(if early_demob {
                    DemobilisedGroup::EnlistedBefore1954
                } else {
                    DemobilisedGroup::UnderRegulations
                }),
                standing: early_demob.then_some(DemobilisedStanding::InVillage),
                enlisted_on: Some(enlisted.into()),
                demobilised_on: Some(left.into()),
            },
            Category::RedArmyVeteran => CategoryDetails::RedArmyVeteran {
                kind: Some(*pick(
                    &mut rng,
                    &[
                        RedArmyKind::RedArmyVeteran,
                        RedArmyKind::WestRouteArmy,
                        RedArmyKind::Separated,
                    ],
                )),
                enlisted_on: Some(enlisted.into()),
            },
            Category::DisabledServiceman => CategoryDetails::DisabledServiceman {
                disability_grade: Some(grade),
                cause: Some(*pick(
                    &mut rng,
                    &[
                        DisabilityCause::War,
                        DisabilityCause::Duty,
                        DisabilityCause::Illness,
                    ],
                )),
                certificate_number: format!("闽军残字第{:06}号", rng.next_u64() % 1_000_000),
            },
            Category::DisabledMilitia => CategoryDetails::DisabledMilitia {
                person_kind: Some(MilitiaKind::Militia),
                disability_grade: Some(grade),
                cause: Some(*pick(
                    &mut rng,
                    &[DisabilityCause::War, DisabilityCause::Duty],
                )),
                certificate_number: format!("闽民残字第{:06}号", rng.next_u64() % 1_000_000),
            },
            Category::MartyrFamily
            | Category::KilledOnDutyFamily
            | Category::DiedOfIllnessFamily => {
                let family = BereavedFamily {
                    relation: Some(*pick(&mut rng, &relation_any)),
                    deceased_name: format!("{}{}", pick(&mut rng, SURNAMES), pick(&mut rng, GIVEN)),
                    deceased_on: Some(
                        between(&mut rng, date(1950, 1, 1), today - Duration::days(400)).into(),
                    ),
                    receives_pension: Some(rng.next_u64() % 2 == 0),
                };
                match category {
                    Category::MartyrFamily => CategoryDetails::MartyrFamily(family),
                    Category::KilledOnDutyFamily => CategoryDetails::KilledOnDutyFamily(family),
                    _ => CategoryDetails::DiedOfIllnessFamily(family),
                }
            }
            Category::ServingMemberFamily => CategoryDetails::ServingMemberFamily {
                relation: Some(*pick(&mut rng, &relation_family)),
                member_name: format!("{}{}", pick(&mut rng, SURNAMES), pick(&mut rng, GIVEN)),
                force: Some(ServingForce::Pla),
            },
        };
        categories.push(details);
    }

    let work = *pick(
        &mut rng,
        &[
            WorkStatus::Employed,
            WorkStatus::SelfEmployed,
            WorkStatus::Farming,
            WorkStatus::Unemployed,
            WorkStatus::Retired,
            WorkStatus::UnableToWork,
        ],
    );
    let income = match work {
        WorkStatus::Unemployed | WorkStatus::UnableToWork => (rng.next_u64() % 2 * 600) as u32,
        _ => 800 + (rng.next_u64() % 60) as u32 * 100,
    };
    let living = LivingConditions {
        work: Some(work),
        monthly_income_yuan: Some(income),
        pension_insurance: Some(*pick(
            &mut rng,
            &[
                PensionInsurance::Employee,
                PensionInsurance::PublicSector,
                PensionInsurance::Resident,
                PensionInsurance::None,
            ],
        )),
        medical_insurance: Some(*pick(
            &mut rng,
            &[
                MedicalInsurance::Employee,
                MedicalInsurance::Resident,
                MedicalInsurance::PublicHealthcare,
            ],
        )),
        housing: Some(*pick(
            &mut rng,
            &[
                Housing::Owned,
                Housing::Rented,
                Housing::WithFamily,
                Housing::PublicRental,
            ],
        )),
        social_assistance: Some(if rng.next_u64() % 4 == 0 {
            vec![SocialAssistance::MinimumLiving]
        } else {
            vec![]
        }),
        // As the categories say: a regular pension where a family module
        // says so, a disability pension for categories 7 and 8.
        state_benefits: Some({
            let receives_pension = categories.iter().any(|d| {
                matches!(
                    d,
                    CategoryDetails::MartyrFamily(f)
                    | CategoryDetails::KilledOnDutyFamily(f)
                    | CategoryDetails::DiedOfIllnessFamily(f) if f.receives_pension == Some(true)
                )
            });
            let disabled = has(Category::DisabledServiceman) || has(Category::DisabledMilitia);
            let mut benefits = Vec::new();
            if receives_pension {
                benefits.push(StateBenefit::RegularPension);
            }
            if disabled {
                benefits.push(StateBenefit::DisabilityPension);
            }
            benefits
        }),
        disability_subsidies: Some(if rng.next_u64() % 6 == 0 {
            vec![DisabilitySubsidy::LivingAllowance]
        } else {
            vec![]
        }),
        remarks: String::new(),
    };
    let needs: Vec<Need> = (0..rng.next_u64() % 3)
        .map(|_| {
            let (area, text) = *pick(&mut rng, NEED_TEXTS);
            Need {
                area,
                text: text.to_string(),
            }
        })
        .collect();

    let mut blobs = Blobs::new();
    let portrait = photo_ref(&mut blobs, pool.get(PhotoKind::Portrait, &mut rng));
    let card_portrait = (!typed && rng.next_u64() % 2 == 0)
        .then(|| photo_ref(&mut blobs, pool.get(PhotoKind::CardPortrait, &mut rng)));
    let card_photo = typed.then(|| photo_ref(&mut blobs, pool.get(PhotoKind::CardPhoto, &mut rng)));
    let mut kinds = vec![DocumentKind::HouseholdRegister];
    for category in &selection {
        if let Some(kind) = document_for(*category) {
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
    }
    if rng.next_u64() % 4 == 0 {
        kinds.push(DocumentKind::AwardCertificate);
    }
    let documents = kinds
        .into_iter()
        .map(|kind| {
            DocumentPhoto::first_page(
                kind,
                photo_ref(&mut blobs, pool.get(PhotoKind::Document, &mut rng)),
            )
        })
        .collect();

    let created_at = options.now - Duration::minutes(30 + (rng.next_u64() % 600) as i64);
    let printed_at = created_at + Duration::minutes(15 + (rng.next_u64() % 10) as i64);
    let signed_at = printed_at + Duration::minutes(1);
    let record_id = Uuid::from_u64_pair(rng.next_u64(), rng.next_u64());
    // A proper v4 UUID: the version and variant bits set.
    let record_id = uuid::Builder::from_random_bytes(*record_id.as_bytes()).into_uuid();
    // A card read by the reader keeps the chip's raw portrait; the note says
    // what the record holds, as the kiosk's session writes it.
    let card_portrait_wlt = if typed {
        None
    } else {
        // Not from `rng`: the rest of the generated data stays as it was.
        let seed: u32 = identity.id_number.bytes().map(u32::from).sum();
        let raw: Vec<u8> = (0..kiosk_core::record::CHIP_PORTRAIT_LEN as u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) ^ seed).to_be_bytes()[0])
            .collect();
        kiosk_core::record::ChipPortraitData::new(raw)
    };
    let card_portrait_note = match (&card_portrait, &card_portrait_wlt) {
        (None, Some(raw)) => format!(
            "未配置身份证照片解码库，芯片照片未解码；已保存芯片原始照片数据（{} 字节），可由县级解码",
            raw.len()
        ),
        (Some(_), Some(raw)) => {
            format!("芯片照片已解码；芯片原始照片数据（{} 字节）一并保存", raw.len())
        }
        _ => String::new(),
    };
    let record = Record {
        meta: Meta {
            record_id,
            schema_version: SCHEMA_VERSION,
            kiosk_id: options.kiosk_id.clone(),
            township,
            created_at,
            updated_at: signed_at,
            state: RecordState::Signed,
            supersedes: None,
        },
        identity,
        categories,
        living,
        needs,
        photos: Photos {
            portrait: Some(portrait),
            card_portrait,
            card_portrait_note,
            card_portrait_wlt,
            card_photo,
            ..Photos::default()
        },
        documents,
        missing_documents: Vec::new(),
        signature: Some(Signature {
            receipt_printed_at: printed_at,
            signed_at,
            witnessed_by: format!("staff-{:02}", 1 + rng.next_u64() % 9),
        }),
        checks: Vec::new(),
    };
    debug_assert!(record::problems(&record, today).is_empty());
    (record, blobs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiosk_core::record::{
        CARD_PHOTO_MAX_BYTES, CARD_PORTRAIT_MAX_BYTES, DOCUMENT_MAX_BYTES, PORTRAIT_MAX_BYTES,
    };

    fn options() -> DemoOptions {
        DemoOptions {
            seed: 7,
            kiosk_id: "AX-FC-01".into(),
            now: DateTime::parse_from_rfc3339("2026-11-30T08:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
        }
    }

    #[test]
    fn the_rules_allow_223_combinations() {
        let all = allowed_selections();
        assert_eq!(all.len(), 223);
        assert!(all.iter().all(|s| check_selection(s).is_empty()));
    }

    #[test]
    fn every_combination_gives_a_valid_record_under_several_seeds() {
        let selections = allowed_selections();
        let mut pool = PhotoPool::default();
        for seed in [1, 2, 3] {
            let options = DemoOptions { seed, ..options() };
            for i in 0..selections.len() {
                let (record, blobs) = generate(i, &selections, &options, &mut pool);
                let problems = record::problems(&record, options.now.date_naive());
                assert!(
                    problems.is_empty(),
                    "seed {seed} record {i} {:?}: {problems:#?}",
                    selections[i]
                );
                for (_, photo) in wire::sealed::photo_refs(&record) {
                    assert_eq!(
                        blobs.get(&photo.sha256).map(|b| b.len() as u64),
                        Some(photo.bytes)
                    );
                }
            }
        }
    }

    #[test]
    fn generated_photos_are_jpegs_within_their_caps() {
        for (kind, cap) in [
            (PhotoKind::Portrait, PORTRAIT_MAX_BYTES),
            (PhotoKind::CardPortrait, CARD_PORTRAIT_MAX_BYTES),
            (PhotoKind::CardPhoto, CARD_PHOTO_MAX_BYTES),
            (PhotoKind::Document, DOCUMENT_MAX_BYTES),
        ] {
            for variant in 0..PhotoPool::VARIANTS {
                let jpeg = synthetic_jpeg(kind, variant);
                assert_eq!(&jpeg[..3], &[0xFF, 0xD8, 0xFF], "{kind:?}");
                assert!(
                    jpeg.len() as u64 <= cap,
                    "{kind:?} {variant}: {} > {cap}",
                    jpeg.len()
                );
            }
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_records() {
        let selections = allowed_selections();
        let a = generate(5, &selections, &options(), &mut PhotoPool::default());
        let b = generate(5, &selections, &options(), &mut PhotoPool::default());
        assert_eq!(a.0, b.0);
        let c = generate(6, &selections, &options(), &mut PhotoPool::default());
        assert_ne!(a.0.identity.id_number, c.0.identity.id_number);
    }
}

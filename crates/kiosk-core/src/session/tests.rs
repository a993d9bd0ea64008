//! Session tests on a virtual clock: each script is a list of
//! `(seconds since start, event)`; the log shows the step after each event
//! and the effects it asked for, and is compared with a snapshot.

use super::*;
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::card::{CardRead, Nation};
use crate::card::{CardText, Validity};
use crate::category::{Category, DocumentKind};
use crate::forms::FieldEdit;
use crate::id_number::tests::{date, make};
use crate::id_number::IdNumber;
use crate::id_number::Sex;
use crate::record::{
    self, DocumentPhoto, IdentitySource, NeedArea, PhotoRef, Record, RecordState, Township,
};
use crate::staff::PinHash;
use crate::staff::StaffAccount;
use chrono::TimeZone;
use expect_test::{expect, Expect};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 9, 0, 0).unwrap()
}

fn at(seconds: i64) -> DateTime<Utc> {
    t0() + Duration::seconds(seconds)
}

fn settings() -> SessionSettings {
    SessionSettings {
        kiosk_id: "kiosk-07".into(),
        township: Township {
            code: "110101001".into(),
            name: "东华门街道".into(),
        },
        idle_warning_after: Duration::seconds(90),
        idle_wipe_after_warning: Duration::seconds(30),
        done_screen_for: Duration::seconds(15),
        default_text_size: TextSize::Normal,
        default_high_contrast: false,
        manual_capture_after: Duration::seconds(20),
    }
}

const PIN: &str = "2468";

fn staff_settings() -> StaffSettings {
    StaffSettings {
        accounts: vec![StaffAccount {
            staff_id: "staff-03".into(),
            name: "陈丽华".into(),
            pin: PinHash::derive(
                PIN,
                b"test-salt",
                argon2::Params::new(8, 1, 1, None).unwrap(),
            )
            .unwrap(),
        }],
        config_version: "2025.03-1".into(),
        config_hash: "ab12".into(),
    }
}

fn session() -> Session {
    Session::new(settings(), t0()).with_staff(staff_settings())
}

fn id_number() -> String {
    make("110101", "19500307", "001")
}

fn card(name: &str) -> Event {
    let today = date(2025, 3, 1);
    Event::CardRead(Box::new(CardRead {
        text: CardText {
            name: name.into(),
            sex: Sex::Male,
            nation: Nation::from_code(1).unwrap(),
            birth_date: date(1950, 3, 7),
            address: "北京市东城区景山前街4号".into(),
            id_number: IdNumber::parse(&id_number(), today).unwrap(),
            authority: "北京市公安局东城分局".into(),
            valid_from: date(2010, 1, 1),
            valid_to: Validity::LongTerm,
        },
        photo_wlt: vec![],
        fingerprint: None,
    }))
}

fn photo(n: u8) -> PhotoRef {
    PhotoRef {
        sha256: format!("{n:02x}").repeat(32),
        bytes: 20_000,
    }
}

fn record_id() -> Uuid {
    Uuid::from_u128(0x1234)
}

fn date_edit(y: &str, m: &str, d: &str) -> FieldEdit {
    FieldEdit::Date {
        year: y.into(),
        month: m.into(),
        day: d.into(),
    }
}

fn living(key: &str, edit: FieldEdit) -> Event {
    Event::LivingFieldEdited {
        key: key.into(),
        edit,
    }
}

fn details(key: &str, edit: FieldEdit) -> Event {
    Event::DetailsFieldEdited {
        index: 0,
        key: key.into(),
        edit,
    }
}

/// Everything from the attract screen to a complete review, for a
/// discharged soldier.
fn to_review() -> Vec<(i64, Event)> {
    vec![
        (
            0,
            Event::Start {
                record_id: record_id(),
            },
        ),
        (5, card("王建国")),
        (6, Event::DraftFound(None)),
        (6, Event::LookUpAnswered(None)),
        (10, Event::PhoneEntered("13800138000".into())),
        (12, Event::Next),
        (20, Event::PortraitTaken(photo(1))),
        (22, Event::Next),
        (30, Event::ToggleCategory(Category::DischargedSoldier)),
        (32, Event::Next),
        (40, details("placement", FieldEdit::Choose(4))),
        (45, details("enlisted_on", date_edit("1968", "3", "1"))),
        (50, details("discharged_on", date_edit("1973", "1", "15"))),
        (52, Event::Next),
        (
            55,
            Event::TakePhoto(PhotoPurpose::Document {
                kind: DocumentKind::HouseholdRegister,
                page: 1,
            }),
        ),
        (
            56,
            Event::DocumentTaken(DocumentPhoto {
                kind: DocumentKind::HouseholdRegister,
                photo: photo(2),
                page: 1,
            }),
        ),
        (
            60,
            Event::DocumentTaken(DocumentPhoto {
                kind: DocumentKind::DischargeCertificate,
                photo: photo(3),
                page: 1,
            }),
        ),
        (62, Event::Next),
        (70, living("work", FieldEdit::Choose(2))),
        (
            71,
            living("monthly_income_yuan", FieldEdit::Number("1800".into())),
        ),
        (72, living("pension_insurance", FieldEdit::Choose(2))),
        (73, living("medical_insurance", FieldEdit::Choose(1))),
        (74, living("housing", FieldEdit::Choose(0))),
        (75, living("social_assistance", FieldEdit::Toggle(4))),
        (76, living("state_benefits", FieldEdit::Toggle(1))),
        (77, living("disability_subsidies", FieldEdit::Toggle(2))),
        (80, Event::Next),
        (85, Event::Next),
    ]
}

fn short(effect: &Effect) -> String {
    match effect {
        Effect::WaitForCard => "WaitForCard".into(),
        Effect::StopCardReader => "StopCardReader".into(),
        Effect::LookUpPerson(id) => format!("LookUpPerson({})", id.masked()),
        Effect::LoadDraft(id) => format!("LoadDraft({})", id.masked()),
        Effect::SaveDraft(_) => "SaveDraft".into(),
        Effect::WipeDraft(id) => format!("WipeDraft({})", id.as_u128()),
        Effect::StartCamera => "StartCamera".into(),
        Effect::StopCamera => "StopCamera".into(),
        Effect::CapturePhoto(p) => format!("CapturePhoto({p:?})"),
        Effect::CapturePortraitNow => "CapturePortraitNow".into(),
        Effect::PrintReceipt(_) => "PrintReceipt".into(),
        Effect::Enqueue(r) => format!("Enqueue({:?})", r.record().meta.state),
        Effect::Speak(text) => format!("Speak({text})"),
        Effect::StopSpeaking => "StopSpeaking".into(),
        Effect::Audit(entry) => format!(
            "Audit({}, {})",
            entry.staff_id.as_deref().unwrap_or("-"),
            serde_json::to_value(&entry.action).unwrap()["action"]
                .as_str()
                .unwrap()
        ),
        Effect::LoadQueue => "LoadQueue".into(),
        Effect::CheckDevices => "CheckDevices".into(),
        Effect::SyncNow => "SyncNow".into(),
    }
}

fn event_name(event: &Event) -> String {
    let debug = format!("{event:?}");
    match event {
        Event::CardRead(_) => "CardRead".into(),
        Event::DraftFound(Some(_)) => "DraftFound(Some)".into(),
        Event::LookUpAnswered(Some(_)) => "LookUpAnswered(Some)".into(),
        Event::DocumentTaken(d) => format!("DocumentTaken({:?})", d.kind),
        Event::PortraitTaken(_) => "PortraitTaken".into(),
        _ => debug.chars().take(60).collect(),
    }
}

/// Run a script; log one line per event (step, notice, effects). Events
/// that change nothing visible and ask for nothing are logged as `·`.
fn run(session: &mut Session, script: Vec<(i64, Event)>) -> String {
    let mut log = String::new();
    for (seconds, event) in script {
        let name = event_name(&event);
        let effects = session.handle(event, at(seconds));
        let view = session.view(at(seconds));
        let effects: Vec<String> = effects
            .iter()
            .filter(|e| !matches!(e, Effect::SaveDraft(_) | Effect::Speak(_)))
            .map(short)
            .collect();
        log.push_str(&format!("+{seconds} {name} -> {:?}", view.step));
        if let Some(notice) = &view.notice {
            log.push_str(&format!(" «{notice}»"));
        }
        if let Some(countdown) = view.idle_countdown {
            log.push_str(&format!(" [idle {countdown}s]"));
        }
        if !effects.is_empty() {
            log.push_str(&format!(" {}", effects.join(", ")));
        }
        log.push('\n');
    }
    log
}

fn check(script: Vec<(i64, Event)>, expect: Expect) -> Session {
    let mut s = session();
    let log = run(&mut s, script);
    expect.assert_eq(&log);
    s
}

#[test]
fn full_registration_flow() {
    let mut script = to_review();
    script.extend([
        (90, Event::PrintRequested),
        (95, Event::Printed(PrintOutcome::Printed)),
        (120, Event::WitnessRequested),
        (125, Event::PinEntered(PIN.into())),
        (126, Event::Enqueued(Ok(()))),
        (130, Event::Tick),
        (141, Event::Tick),
    ]);
    let s = check(
        script,
        expect![[r#"
            +0 Start { record_id: 00000000-0000-0000-0000-000000001234 } -> InsertCard WaitForCard
            +5 CardRead -> Identity StopCardReader, LoadDraft(110101********0013), LookUpPerson(110101********0013)
            +6 DraftFound(None) -> Identity
            +6 LookUpAnswered(None) -> Identity
            +10 PhoneEntered("13800138000") -> Identity
            +12 Next -> Portrait StartCamera
            +20 PortraitTaken -> Portrait StopCamera
            +22 Next -> Categories StopCamera
            +30 ToggleCategory(DischargedSoldier) -> Categories
            +32 Next -> CategoryDetails(0)
            +40 DetailsFieldEdited { index: 0, key: "placement", edit: Choos -> CategoryDetails(0)
            +45 DetailsFieldEdited { index: 0, key: "enlisted_on", edit: Dat -> CategoryDetails(0)
            +50 DetailsFieldEdited { index: 0, key: "discharged_on", edit: D -> CategoryDetails(0)
            +52 Next -> Documents
            +55 TakePhoto(Document { kind: HouseholdRegister, page: 1 }) -> Documents CapturePhoto(Document { kind: HouseholdRegister, page: 1 })
            +56 DocumentTaken(HouseholdRegister) -> Documents
            +60 DocumentTaken(DischargeCertificate) -> Documents
            +62 Next -> Living
            +70 LivingFieldEdited { key: "work", edit: Choose(2) } -> Living
            +71 LivingFieldEdited { key: "monthly_income_yuan", edit: Number -> Living
            +72 LivingFieldEdited { key: "pension_insurance", edit: Choose(2 -> Living
            +73 LivingFieldEdited { key: "medical_insurance", edit: Choose(1 -> Living
            +74 LivingFieldEdited { key: "housing", edit: Choose(0) } -> Living
            +75 LivingFieldEdited { key: "social_assistance", edit: Toggle(4 -> Living
            +76 LivingFieldEdited { key: "state_benefits", edit: Toggle(1) } -> Living
            +77 LivingFieldEdited { key: "disability_subsidies", edit: Toggl -> Living
            +80 Next -> Needs
            +85 Next -> Review
            +90 PrintRequested -> Sign PrintReceipt
            +95 Printed(Printed) -> Sign
            +120 WitnessRequested -> Sign
            +125 PinEntered("2468") -> Sign Audit(staff-03, signature_witnessed), Enqueue(Signed)
            +126 Enqueued(Ok(())) -> Done WipeDraft(4660)
            +130 Tick -> Done
            +141 Tick -> Attract
        "#]],
    );
    assert!(s.record().is_none());
}

#[test]
fn the_review_of_a_complete_record_has_no_problems() {
    let mut s = session();
    run(&mut s, to_review());
    let view = s.view(at(85));
    assert_eq!(view.step, Step::Review);
    assert_eq!(view.problems, vec![]);
    let r = view.record.unwrap();
    assert_eq!(r.identity.name, "王建国");
    assert_eq!(r.identity.phone, "13800138000");
    assert_eq!(r.living.monthly_income_yuan, Some(1800));
    assert!(view
        .document_checklist
        .iter()
        .all(|i| i.done || !i.required));
}

#[test]
fn a_rule_blocked_category_shows_its_reason_and_is_not_added() {
    let mut script = to_review();
    script.truncate(8); // on the categories page
    script.extend([
        (30, Event::ToggleCategory(Category::DisabledMilitia)),
        (31, Event::ToggleCategory(Category::DischargedSoldier)),
        (32, Event::ToggleCategory(Category::DisabledServiceman)),
        (33, Event::ToggleCategory(Category::DisabledMilitia)),
        (34, Event::ToggleCategory(Category::DisabledServiceman)),
        (35, Event::Next),
    ]);
    let s = check(
        script,
        expect![[r#"
            +0 Start { record_id: 00000000-0000-0000-0000-000000001234 } -> InsertCard WaitForCard
            +5 CardRead -> Identity StopCardReader, LoadDraft(110101********0013), LookUpPerson(110101********0013)
            +6 DraftFound(None) -> Identity
            +6 LookUpAnswered(None) -> Identity
            +10 PhoneEntered("13800138000") -> Identity
            +12 Next -> Portrait StartCamera
            +20 PortraitTaken -> Portrait StopCamera
            +22 Next -> Categories StopCamera
            +30 ToggleCategory(DisabledMilitia) -> Categories
            +31 ToggleCategory(DischargedSoldier) -> Categories «已选择“伤残民兵民工”，不能再选择第1至6类»
            +32 ToggleCategory(DisabledServiceman) -> Categories «已选择“伤残民兵民工”，“残疾军人”和“伤残民兵民工”只能选一项»
            +33 ToggleCategory(DisabledMilitia) -> Categories
            +34 ToggleCategory(DisabledServiceman) -> Categories
            +35 Next -> Categories «选择“残疾军人”还需选择第1至6类中的一项»
        "#]],
    );
    let view = s.view(at(35));
    let chosen: Vec<Category> = view
        .category_options
        .iter()
        .filter(|o| o.selected)
        .map(|o| o.category)
        .collect();
    assert_eq!(chosen, vec![Category::DisabledServiceman]);
    assert_eq!(
        view.pending_category_hints,
        vec!["选择“残疾军人”还需选择第1至6类中的一项".to_string()]
    );
    let militia = &view.category_options[7];
    assert!(!militia.enabled);
    assert!(militia.reason_zh.as_deref().unwrap().contains("只能选一项"));
}

#[test]
fn idle_warning_then_wipe_of_screen_memory_and_draft() {
    let mut script = to_review();
    script.truncate(8);
    script.extend([
        (22 + 89, Event::Tick),
        // Answers from devices are not the person: they keep no session alive.
        (22 + 89, Event::QueueLoaded(vec![])),
        (22 + 90, Event::Tick),
        (22 + 100, Event::Tick),
        (22 + 119, Event::Tick),
        (22 + 120, Event::Tick),
    ]);
    let s = check(
        script,
        expect![[r#"
            +0 Start { record_id: 00000000-0000-0000-0000-000000001234 } -> InsertCard WaitForCard
            +5 CardRead -> Identity StopCardReader, LoadDraft(110101********0013), LookUpPerson(110101********0013)
            +6 DraftFound(None) -> Identity
            +6 LookUpAnswered(None) -> Identity
            +10 PhoneEntered("13800138000") -> Identity
            +12 Next -> Portrait StartCamera
            +20 PortraitTaken -> Portrait StopCamera
            +22 Next -> Categories StopCamera
            +111 Tick -> Categories
            +111 QueueLoaded([]) -> Categories
            +112 Tick -> Categories [idle 30s]
            +122 Tick -> Categories [idle 20s]
            +141 Tick -> Categories [idle 1s]
            +142 Tick -> Attract WipeDraft(4660)
        "#]],
    );
    let view = s.view(at(142));
    assert_eq!(view.record, None);
    assert_eq!(view.idle_countdown, None);
    assert_eq!(view.text_size, TextSize::Normal);
}

#[test]
fn the_idle_warning_always_leaves_at_least_twenty_seconds() {
    let mut s = Session::new(
        SessionSettings {
            idle_wipe_after_warning: Duration::seconds(3),
            ..settings()
        },
        t0(),
    );
    let log = run(
        &mut s,
        vec![
            (
                0,
                Event::Start {
                    record_id: record_id(),
                },
            ),
            (0, Event::ChooseTextSize(TextSize::ExtraLarge)),
            (90, Event::Tick),
            (100, Event::StillHere),
            (189, Event::Tick),
            (190, Event::Tick),
            (209, Event::Tick),
            (210, Event::Tick),
        ],
    );
    expect![[r#"
        +0 Start { record_id: 00000000-0000-0000-0000-000000001234 } -> InsertCard WaitForCard
        +0 ChooseTextSize(ExtraLarge) -> InsertCard
        +90 Tick -> InsertCard [idle 20s]
        +100 StillHere -> InsertCard
        +189 Tick -> InsertCard
        +190 Tick -> InsertCard [idle 20s]
        +209 Tick -> InsertCard [idle 1s]
        +210 Tick -> Attract StopCardReader
    "#]]
    .assert_eq(&log);
    // The next person starts with normal text again.
    assert_eq!(s.view(at(210)).text_size, TextSize::Normal);
}

#[test]
fn printer_failure_and_retry_store_one_record() {
    let mut script = to_review();
    script.extend([
        (90, Event::Next),
        (
            95,
            Event::Printed(PrintOutcome::Failed {
                code: "paper_out".into(),
                message_zh: "打印机缺纸，已通知工作人员".into(),
            }),
        ),
        // Confirming before anything printed does nothing.
        (100, Event::WitnessRequested),
        (
            101,
            Event::SignatureConfirmed {
                staff_id: "staff-03".into(),
            },
        ),
        (150, Event::PrintRequested),
        (151, Event::PrintRequested),
        (155, Event::Printed(PrintOutcome::Printed)),
        (156, Event::PrintRequested),
        (
            160,
            Event::SignatureConfirmed {
                staff_id: "staff-03".into(),
            },
        ),
        (
            161,
            Event::SignatureConfirmed {
                staff_id: "staff-03".into(),
            },
        ),
        (162, Event::PrintRequested),
        // While saving nothing is wiped, however long the store takes.
        (500, Event::Tick),
        (501, Event::Enqueued(Ok(()))),
    ]);
    let mut s = session();
    let log = run(&mut s, script);
    let tail: Vec<&str> = log.lines().skip(to_review().len()).collect();
    expect![[r#"
        +90 Next -> Sign PrintReceipt
        +95 Printed(Failed { code: "paper_out", message_zh: "打印机缺纸，已通知工作 -> Sign «打印机缺纸，已通知工作人员»
        +100 WitnessRequested -> Sign
        +101 SignatureConfirmed { staff_id: "staff-03" } -> Sign
        +150 PrintRequested -> Sign PrintReceipt
        +151 PrintRequested -> Sign
        +155 Printed(Printed) -> Sign
        +156 PrintRequested -> Sign
        +160 SignatureConfirmed { staff_id: "staff-03" } -> Sign Enqueue(Signed)
        +161 SignatureConfirmed { staff_id: "staff-03" } -> Sign
        +162 PrintRequested -> Sign
        +500 Tick -> Sign
        +501 Enqueued(Ok(())) -> Done WipeDraft(4660)
    "#]]
    .assert_eq(&(tail.join("\n") + "\n"));
    assert_eq!(log.matches("Enqueue(").count(), 1);
}

#[test]
fn a_failed_save_keeps_the_record_and_can_be_confirmed_again() {
    let mut script = to_review();
    script.extend([
        (90, Event::Next),
        (95, Event::Printed(PrintOutcome::Printed)),
        (
            100,
            Event::SignatureConfirmed {
                staff_id: "staff-03".into(),
            },
        ),
        (
            101,
            Event::Enqueued(Err("本机存储空间已满，没能保存".into())),
        ),
        (
            110,
            Event::SignatureConfirmed {
                staff_id: "staff-03".into(),
            },
        ),
    ]);
    let mut s = session();
    let log = run(&mut s, script);
    let tail: Vec<&str> = log.lines().skip(to_review().len() + 2).collect();
    expect![[r#"
        +100 SignatureConfirmed { staff_id: "staff-03" } -> Sign Enqueue(Signed)
        +101 Enqueued(Err("本机存储空间已满，没能保存")) -> Sign «本机存储空间已满，没能保存»
        +110 SignatureConfirmed { staff_id: "staff-03" } -> Sign Enqueue(Signed)"#]]
    .assert_eq(&tail.join("\n"));
    assert!(s.record().is_some());
}

#[test]
fn a_failed_save_with_no_words_still_says_it_was_not_saved() {
    let mut script = to_review();
    script.extend([
        (90, Event::Next),
        (95, Event::Printed(PrintOutcome::Printed)),
        (
            100,
            Event::SignatureConfirmed {
                staff_id: "staff-03".into(),
            },
        ),
        (101, Event::Enqueued(Err(" ".into()))),
    ]);
    let mut s = session();
    let log = run(&mut s, script);
    let last = log.lines().last().unwrap_or_default();
    assert!(
        last.ends_with("-> Sign «保存记录时出错，请联系工作人员，记录不会丢失»"),
        "{last}"
    );
}

#[test]
fn a_draft_not_saved_is_told_while_filling_in_and_not_after() {
    let mut script = to_review();
    script.truncate(6);
    script.push((
        13,
        Event::DraftNotSaved {
            message_zh: "本机存储空间已满，没能保存".into(),
        },
    ));
    let mut s = session();
    let log = run(&mut s, script);
    let last = log.lines().last().unwrap_or_default();
    assert!(last.ends_with("«本机存储空间已满，没能保存»"), "{last}");

    // Before a session has a record there is nothing to warn about.
    let mut idle = session();
    let log = run(
        &mut idle,
        vec![(
            1,
            Event::DraftNotSaved {
                message_zh: "本机存储空间已满，没能保存".into(),
            },
        )],
    );
    assert!(!log.contains('«'), "{log}");
}

#[test]
fn a_draft_of_the_same_person_is_resumed() {
    // An earlier session got as far as the categories.
    let mut earlier = session();
    let mut script = to_review();
    script.truncate(9);
    run(&mut earlier, script);
    let mut draft = earlier.record().unwrap().clone();
    draft.meta.record_id = Uuid::from_u128(0x99);
    let mut other = draft.clone();
    other.identity.id_number = make("110101", "19600101", "002");

    let s = check(
        vec![
            (
                0,
                Event::Start {
                    record_id: record_id(),
                },
            ),
            (5, card("王建国")),
            (6, Event::DraftFound(Some(Box::new(other)))),
            (6, Event::DraftFound(Some(Box::new(draft)))),
            (7, Event::LookUpAnswered(None)),
        ],
        expect![[r#"
            +0 Start { record_id: 00000000-0000-0000-0000-000000001234 } -> InsertCard WaitForCard
            +5 CardRead -> Identity StopCardReader, LoadDraft(110101********0013), LookUpPerson(110101********0013)
            +6 DraftFound(Some) -> Identity
            +6 DraftFound(Some) -> Identity «已找到您上次未完成的登记，可以接着填写»
            +7 LookUpAnswered(None) -> Identity «已找到您上次未完成的登记，可以接着填写»
        "#]],
    );
    let r = s.record().unwrap();
    assert_eq!(r.meta.record_id, Uuid::from_u128(0x99));
    assert_eq!(r.categories.len(), 1);
    assert!(r.photos.portrait.is_some());
}

#[test]
fn a_record_found_in_the_county_base_is_completed_not_retyped() {
    let mut earlier = session();
    run(&mut earlier, to_review());
    let mut found = earlier.record().unwrap().clone();
    found.meta.record_id = Uuid::from_u128(0x77);
    found.meta.state = RecordState::Accepted;
    let mut s = session();
    run(
        &mut s,
        vec![
            (
                0,
                Event::Start {
                    record_id: record_id(),
                },
            ),
            (5, card("王建国")),
            (6, Event::LookUpAnswered(Some(Box::new(found)))),
        ],
    );
    let view = s.view(at(6));
    assert_eq!(view.found_in_base, Some(true));
    let r = view.record.unwrap();
    assert_eq!(r.meta.supersedes, Some(Uuid::from_u128(0x77)));
    assert_eq!(r.meta.record_id, record_id());
    assert_eq!(r.categories.len(), 1);
    // The portrait is taken afresh each time.
    assert_eq!(r.photos.portrait, None);
}

/// The county's record of 王建国 (accepted earlier) and a draft of an
/// interrupted session of his with other answers.
fn county_record_and_draft() -> (Record, Record) {
    let mut earlier = session();
    run(&mut earlier, to_review());
    let mut found = earlier.record().unwrap().clone();
    found.meta.record_id = Uuid::from_u128(0x77);
    found.meta.state = RecordState::Accepted;
    found.identity.phone = "0595-23231234".into();
    let mut draft = found.clone();
    draft.meta.record_id = Uuid::from_u128(0x99);
    draft.meta.state = RecordState::Draft;
    draft.categories = vec![record::CategoryDetails::empty(Category::MartyrFamily)];
    draft.identity.phone = "13912345678".into();
    (found, draft)
}

fn start_and_card() -> Vec<(i64, Event)> {
    vec![
        (
            0,
            Event::Start {
                record_id: record_id(),
            },
        ),
        (5, card("王建国")),
    ]
}

#[test]
fn a_look_up_answer_after_a_resumed_draft_never_overwrites_it() {
    let (found, draft) = county_record_and_draft();
    let mut script = start_and_card();
    script.push((6, Event::DraftFound(Some(Box::new(draft)))));
    script.push((7, Event::LookUpAnswered(Some(Box::new(found)))));
    let mut s = session();
    run(&mut s, script);
    let view = s.view(at(7));
    let r = view.record.unwrap();
    assert_eq!(r.categories[0].category(), Category::MartyrFamily);
    assert_eq!(r.identity.phone, "13912345678");
    assert_eq!(r.meta.record_id, Uuid::from_u128(0x99));
    // The new record still replaces the county's one.
    assert_eq!(r.meta.supersedes, Some(Uuid::from_u128(0x77)));
    assert!(view.resumed_draft);
    assert_eq!(
        view.county_record.map(|c| c.identity.phone.as_str()),
        Some("0595-23231234")
    );
}

#[test]
fn a_draft_arriving_after_the_look_up_wins_over_what_the_look_up_filled_in() {
    let (found, draft) = county_record_and_draft();
    let mut script = start_and_card();
    script.push((6, Event::LookUpAnswered(Some(Box::new(found)))));
    script.push((7, Event::DraftFound(Some(Box::new(draft)))));
    let mut s = session();
    run(&mut s, script);
    let r = s.record().unwrap();
    assert_eq!(r.categories[0].category(), Category::MartyrFamily);
    assert_eq!(r.identity.phone, "13912345678");
    assert_eq!(r.meta.supersedes, Some(Uuid::from_u128(0x77)));
}

#[test]
fn a_look_up_fills_in_only_what_the_person_has_not_entered_yet() {
    let (found, _) = county_record_and_draft();
    let mut script = start_and_card();
    script.push((6, Event::PhoneEntered("13700001111".into())));
    script.push((7, Event::LookUpAnswered(Some(Box::new(found)))));
    let mut s = session();
    run(&mut s, script);
    let r = s.record().unwrap();
    assert_eq!(r.identity.phone, "13700001111");
    assert_eq!(r.categories[0].category(), Category::DischargedSoldier);
}

#[test]
fn a_returning_person_who_confirms_goes_from_the_portrait_to_the_review() {
    let (found, _) = county_record_and_draft();
    let mut script = start_and_card();
    script.extend([
        (6, Event::DraftFound(None)),
        (6, Event::LookUpAnswered(Some(Box::new(found)))),
        (10, Event::FoundRecordConfirmed),
        (20, Event::PortraitTaken(photo(1))),
        (22, Event::Next),
    ]);
    check(
        script,
        expect![[r#"
            +0 Start { record_id: 00000000-0000-0000-0000-000000001234 } -> InsertCard WaitForCard
            +5 CardRead -> Identity StopCardReader, LoadDraft(110101********0013), LookUpPerson(110101********0013)
            +6 DraftFound(None) -> Identity
            +6 LookUpAnswered(Some) -> Identity
            +10 FoundRecordConfirmed -> Portrait StartCamera
            +20 PortraitTaken -> Portrait StopCamera
            +22 Next -> Review StopCamera
        "#]],
    );
}

#[test]
fn a_returning_person_with_changes_walks_every_page_and_a_new_person_cannot_confirm() {
    let (found, _) = county_record_and_draft();
    let mut script = start_and_card();
    script.extend([
        (6, Event::LookUpAnswered(Some(Box::new(found)))),
        (10, Event::FoundRecordToUpdate),
        (20, Event::PortraitTaken(photo(1))),
        (22, Event::Next),
    ]);
    check(
        script,
        expect![[r#"
            +0 Start { record_id: 00000000-0000-0000-0000-000000001234 } -> InsertCard WaitForCard
            +5 CardRead -> Identity StopCardReader, LoadDraft(110101********0013), LookUpPerson(110101********0013)
            +6 LookUpAnswered(Some) -> Identity
            +10 FoundRecordToUpdate -> Portrait StartCamera
            +20 PortraitTaken -> Portrait StopCamera
            +22 Next -> Categories StopCamera
        "#]],
    );
    let mut script = start_and_card();
    script.extend([
        (6, Event::LookUpAnswered(None)),
        (10, Event::FoundRecordConfirmed),
    ]);
    check(
        script,
        expect![[r#"
            +0 Start { record_id: 00000000-0000-0000-0000-000000001234 } -> InsertCard WaitForCard
            +5 CardRead -> Identity StopCardReader, LoadDraft(110101********0013), LookUpPerson(110101********0013)
            +6 LookUpAnswered(None) -> Identity
            +10 FoundRecordConfirmed -> Identity
        "#]],
    );
}

#[test]
fn a_tap_on_a_review_problem_jumps_to_its_page_and_back() {
    let mut script = to_review();
    // Leave housing and the certificate out.
    script.retain(|(_, e)| {
        !matches!(e, Event::LivingFieldEdited { key, .. } if key == "housing")
            && !matches!(e, Event::DocumentTaken(d) if d.kind == DocumentKind::DischargeCertificate)
    });
    let mut s = session();
    run(&mut s, script);
    let view = s.view(at(85));
    let fields: Vec<&str> = view
        .problems
        .iter()
        .filter_map(|p| p.problem.field.as_deref())
        .collect();
    assert_eq!(fields, vec!["living.housing", "categories[0]"]);
    // The view tells the page of each, the same the jump goes to.
    let steps: Vec<Option<Step>> = view.problems.iter().map(|p| p.step).collect();
    assert_eq!(steps, vec![Some(Step::Living), Some(Step::Documents)]);
    let log = run(
        &mut s,
        vec![
            (90, Event::Next),
            (91, Event::JumpToField("living.housing".into())),
            (92, living("housing", FieldEdit::Choose(1))),
            (93, Event::BackToReview),
            (94, Event::JumpToField("categories[0]".into())),
            (95, Event::BackToReview),
            (96, Event::JumpToField("categories[0].placement".into())),
            (97, Event::BackToReview),
            (98, Event::JumpToField("photos.portrait".into())),
            (99, Event::BackToReview),
            (100, Event::JumpToField("identity.phone".into())),
            (101, Event::BackToReview),
            (102, Event::JumpToField("categories[7].placement".into())),
            (103, Event::JumpToField("nonsense".into())),
        ],
    );
    expect![[r#"
        +90 Next -> Review «还有 2 处需要补充或修改，请点击逐项处理»
        +91 JumpToField("living.housing") -> Living
        +92 LivingFieldEdited { key: "housing", edit: Choose(1) } -> Living
        +93 BackToReview -> Review
        +94 JumpToField("categories[0]") -> Documents
        +95 BackToReview -> Review
        +96 JumpToField("categories[0].placement") -> CategoryDetails(0)
        +97 BackToReview -> Review
        +98 JumpToField("photos.portrait") -> Portrait
        +99 BackToReview -> Review StopCamera
        +100 JumpToField("identity.phone") -> Identity
        +101 BackToReview -> Review
        +102 JumpToField("categories[7].placement") -> Categories
        +103 JumpToField("nonsense") -> Categories
    "#]]
    .assert_eq(&log);
}

#[test]
fn staff_pin_lockout_survives_a_wipe_and_audits_without_personal_data() {
    let mut s = session();
    let mut script = vec![
        (
            0,
            Event::Start {
                record_id: record_id(),
            },
        ),
        (1, card("王建国")),
        (2, Event::StaffGesture),
    ];
    for i in 0..5 {
        script.push((3 + i, Event::PinEntered("0000".into())));
    }
    script.extend([
        (10, Event::PinEntered(PIN.into())),
        (11, Event::Cancel),
        (12, Event::StaffGesture),
        (13, Event::PinEntered(PIN.into())),
        (37, Event::PinEntered(PIN.into())),
        (38, Event::Staff(StaffCommand::ShowQueue)),
        (39, Event::Staff(StaffCommand::ShowDevices)),
        (40, Event::Staff(StaffCommand::ShowAbout)),
        (41, Event::Staff(StaffCommand::SyncNow)),
        (42, Event::Staff(StaffCommand::ManualEntry)),
        (43, Event::Staff(StaffCommand::Close)),
        // Without a PIN the menu does nothing.
        (44, Event::Staff(StaffCommand::SyncNow)),
    ]);
    let log = run(&mut s, script);
    expect![[r#"
        +0 Start { record_id: 00000000-0000-0000-0000-000000001234 } -> InsertCard WaitForCard
        +1 CardRead -> Identity StopCardReader, LoadDraft(110101********0013), LookUpPerson(110101********0013)
        +2 StaffGesture -> Identity
        +3 PinEntered("0000") -> Identity Audit(staff-03, pin_rejected)
        +4 PinEntered("0000") -> Identity Audit(staff-03, pin_rejected)
        +5 PinEntered("0000") -> Identity Audit(staff-03, pin_rejected)
        +6 PinEntered("0000") -> Identity Audit(staff-03, pin_rejected)
        +7 PinEntered("0000") -> Identity Audit(staff-03, pin_locked_out)
        +10 PinEntered("2468") -> Identity
        +11 Cancel -> Attract WipeDraft(4660)
        +12 StaffGesture -> Attract
        +13 PinEntered("2468") -> Attract
        +37 PinEntered("2468") -> Attract Audit(staff-03, staff_mode_opened)
        +38 Staff(ShowQueue) -> Attract Audit(staff-03, queue_viewed), LoadQueue
        +39 Staff(ShowDevices) -> Attract Audit(staff-03, device_status_viewed), CheckDevices
        +40 Staff(ShowAbout) -> Attract Audit(staff-03, config_viewed)
        +41 Staff(SyncNow) -> Attract Audit(staff-03, sync_requested), SyncNow
        +42 Staff(ManualEntry) -> Attract
        +43 Staff(Close) -> Attract Audit(staff-03, staff_mode_closed)
        +44 Staff(SyncNow) -> Attract
    "#]]
    .assert_eq(&log);
}

fn two_members() -> StaffSettings {
    let pin = |digits: &str| {
        PinHash::derive(
            digits,
            b"test-salt",
            argon2::Params::new(8, 1, 1, None).unwrap(),
        )
        .unwrap()
    };
    StaffSettings {
        accounts: vec![
            StaffAccount {
                staff_id: "fc-01".into(),
                name: "陈丽华".into(),
                pin: pin("1357"),
            },
            StaffAccount {
                staff_id: "fc-02".into(),
                name: "林志明".into(),
                pin: pin("8642"),
            },
        ],
        ..staff_settings()
    }
}

#[test]
fn each_staff_member_picks_their_name_signs_with_their_own_pin_and_has_their_own_lock() {
    let mut s = Session::new(settings(), t0()).with_staff(two_members());
    let mut script = vec![
        (0, Event::StaffGesture),
        // Without a name picked there is nothing to check the PIN against.
        (1, Event::PinEntered("1357".into())),
        (2, Event::StaffMemberChosen("nobody".into())),
        (3, Event::StaffMemberChosen("fc-01".into())),
        // The other member's PIN does not open under this name.
        (4, Event::PinEntered("8642".into())),
    ];
    for i in 0..4 {
        script.push((5 + i, Event::PinEntered("0000".into())));
    }
    script.extend([
        (10, Event::PinEntered("1357".into())),
        (11, Event::StaffMemberChosen("fc-02".into())),
        (12, Event::PinEntered("8642".into())),
        (13, Event::Staff(StaffCommand::Close)),
    ]);
    let log = run(&mut s, script);
    expect![[r#"
        +0 StaffGesture -> Attract
        +1 PinEntered("1357") -> Attract
        +2 StaffMemberChosen("nobody") -> Attract
        +3 StaffMemberChosen("fc-01") -> Attract
        +4 PinEntered("8642") -> Attract Audit(fc-01, pin_rejected)
        +5 PinEntered("0000") -> Attract Audit(fc-01, pin_rejected)
        +6 PinEntered("0000") -> Attract Audit(fc-01, pin_rejected)
        +7 PinEntered("0000") -> Attract Audit(fc-01, pin_rejected)
        +8 PinEntered("0000") -> Attract Audit(fc-01, pin_locked_out)
        +10 PinEntered("1357") -> Attract
        +11 StaffMemberChosen("fc-02") -> Attract
        +12 PinEntered("8642") -> Attract Audit(fc-02, staff_mode_opened)
        +13 Staff(Close) -> Attract Audit(fc-02, staff_mode_closed)
    "#]]
    .assert_eq(&log);
    // fc-01 is still locked; fc-02 opened staff mode meanwhile.
    s.handle(Event::StaffGesture, at(14));
    s.handle(Event::StaffMemberChosen("fc-01".into()), at(15));
    let view = s.view(at(15));
    let staff = view.staff.unwrap();
    assert_eq!(
        staff.members,
        vec![("fc-01", "陈丽华"), ("fc-02", "林志明")]
    );
    assert_eq!(staff.chosen_member, Some("fc-01"));
    assert!(staff.pin_locked_for.is_some());
}

#[test]
fn the_witness_is_the_member_who_typed_their_pin() {
    let mut s = Session::new(settings(), t0()).with_staff(two_members());
    let mut script = to_review();
    script.extend([
        (90, Event::PrintRequested),
        (92, Event::Printed(PrintOutcome::Printed)),
        (95, Event::WitnessRequested),
        (96, Event::StaffMemberChosen("fc-02".into())),
        (97, Event::PinEntered("8642".into())),
    ]);
    let mut witnessed = None;
    for (seconds, event) in script {
        for effect in s.handle(event, at(seconds)) {
            if let Effect::Enqueue(valid) = effect {
                witnessed = valid
                    .record()
                    .signature
                    .as_ref()
                    .map(|sig| sig.witnessed_by.clone());
            }
        }
    }
    assert_eq!(witnessed.as_deref(), Some("fc-02"));
}

#[test]
fn the_pin_pad_says_how_long_it_is_locked() {
    let mut s = session();
    let mut script = vec![(0, Event::StaffGesture)];
    for i in 0..5 {
        script.push((1 + i, Event::PinEntered("1111".into())));
    }
    run(&mut s, script);
    let view = s.view(at(10));
    let staff = view.staff.unwrap();
    assert_eq!(staff.panel, StaffPanel::Pin(PinPurpose::OpenStaffMode));
    assert_eq!(staff.pin_locked_for, Some(25));
    assert_eq!(staff.pin_message, Some("密码错误次数过多，请 30 秒后再试"));
    assert_eq!(s.view(at(35)).staff.unwrap().pin_locked_for, None);
}

#[test]
fn audit_entries_never_carry_the_persons_data() {
    let mut s = session();
    let mut script = to_review();
    script.extend([
        (86, Event::StaffGesture),
        (87, Event::PinEntered(PIN.into())),
        (88, Event::Staff(StaffCommand::ToggleHelpOnBehalf)),
        (89, Event::StaffGesture),
        (90, Event::PinEntered("9".into())),
        (91, Event::PinCancelled),
        (92, Event::Next),
        (93, Event::Printed(PrintOutcome::Printed)),
        (94, Event::WitnessRequested),
        (95, Event::PinEntered(PIN.into())),
    ]);
    let mut audit = Vec::new();
    for (seconds, event) in script {
        for effect in s.handle(event, at(seconds)) {
            if let Effect::Audit(entry) = effect {
                audit.push(entry.to_json_line());
            }
        }
    }
    let text = audit.join("\n");
    for personal in ["王建国", "13800138000", &id_number(), "1950", "景山"] {
        assert!(!text.contains(personal), "{personal} in {text}");
    }
    assert_eq!(audit.len(), 4, "{text}");
}

#[test]
fn help_on_behalf_gives_staff_more_time() {
    let mut s = session();
    let log = run(
        &mut s,
        vec![
            (
                0,
                Event::Start {
                    record_id: record_id(),
                },
            ),
            (1, Event::StaffGesture),
            (2, Event::PinEntered(PIN.into())),
            (3, Event::Staff(StaffCommand::ToggleHelpOnBehalf)),
            (100, Event::Tick),
            (272, Event::Tick),
            (273, Event::Tick),
            (293, Event::Tick),
        ],
    );
    expect![[r#"
        +0 Start { record_id: 00000000-0000-0000-0000-000000001234 } -> InsertCard WaitForCard
        +1 StaffGesture -> InsertCard
        +2 PinEntered("2468") -> InsertCard Audit(staff-03, staff_mode_opened)
        +3 Staff(ToggleHelpOnBehalf) -> InsertCard Audit(staff-03, help_on_behalf_started)
        +100 Tick -> InsertCard
        +272 Tick -> InsertCard
        +273 Tick -> InsertCard [idle 30s]
        +293 Tick -> InsertCard [idle 10s]
    "#]]
    .assert_eq(&log);
}

#[test]
fn manual_identity_entry_needs_the_card_photo() {
    let typed = ManualIdentity {
        name: " 王建国 ".into(),
        nation: "汉族".into(),
        address: "北京市东城区景山前街4号".into(),
        id_number: id_number().to_lowercase(),
        authority: "北京市公安局东城分局".into(),
        valid_from: "20100101".into(),
        valid_to: "长期".into(),
    };
    let s = check(
        vec![
            (
                0,
                Event::Start {
                    record_id: record_id(),
                },
            ),
            (
                1,
                Event::CardFailed(CardFailure {
                    code: "timeout".into(),
                    message_zh: "没有读到身份证，请重新放置".into(),
                }),
            ),
            (2, Event::StaffGesture),
            (3, Event::PinEntered(PIN.into())),
            (4, Event::Staff(StaffCommand::ManualEntry)),
            (5, Event::ManualIdentityEntered(Box::new(typed.clone()))),
            (6, Event::TakePhoto(PhotoPurpose::IdCard)),
            (7, Event::CardPhotoTaken(photo(9))),
            (8, Event::ManualIdentityEntered(Box::new(typed))),
            (9, Event::Back),
        ],
        expect![[r#"
            +0 Start { record_id: 00000000-0000-0000-0000-000000001234 } -> InsertCard WaitForCard
            +1 CardFailed(CardFailure { code: "timeout", message_zh: "没有读到身 -> InsertCard «没有读到身份证，请重新放置» WaitForCard
            +2 StaffGesture -> InsertCard
            +3 PinEntered("2468") -> InsertCard Audit(staff-03, staff_mode_opened)
            +4 Staff(ManualEntry) -> ManualIdentity StopCardReader, Audit(staff-03, manual_entry_started)
            +5 ManualIdentityEntered(ManualIdentity { name: " 王建国 ", nation -> ManualIdentity «请先拍摄身份证照片»
            +6 TakePhoto(IdCard) -> ManualIdentity CapturePhoto(IdCard)
            +7 CardPhotoTaken(PhotoRef { sha256: "0909090909090909090909090 -> ManualIdentity
            +8 ManualIdentityEntered(ManualIdentity { name: " 王建国 ", nation -> Identity LoadDraft(110101********0013), LookUpPerson(110101********0013)
            +9 Back -> ManualIdentity
        "#]],
    );
    let r = s.record().unwrap();
    assert_eq!(r.identity.source, IdentitySource::Typed);
    assert_eq!(r.identity.name, "王建国");
    assert_eq!(r.identity.sex, Some(Sex::Male));
    assert_eq!(r.identity.birth_date, Some(date(1950, 3, 7)));
    assert_eq!(r.identity.nation_code, Some(1));
    assert_eq!(r.identity.valid_from, Some(date(2010, 1, 1)));
    assert_eq!(r.photos.card_photo, Some(photo(9)));
    let identity_problems: Vec<_> = record::problems(r, date(2025, 3, 1))
        .into_iter()
        .filter(|p| {
            p.field
                .as_deref()
                .is_some_and(|f| f.starts_with("identity"))
        })
        .collect();
    assert_eq!(identity_problems, vec![]);
}

#[test]
fn needs_are_voluntary_and_free_text_is_guarded() {
    let mut s = session();
    let mut script = to_review();
    script.truncate(script.len() - 1); // stay on the needs page
    run(&mut s, script);
    assert_eq!(s.view(at(80)).step, Step::Needs);
    assert!(s.record().unwrap().needs.is_empty());
    run(
        &mut s,
        vec![
            (81, Event::NeedToggled(NeedArea::Medical)),
            (
                82,
                Event::NeedText {
                    area: NeedArea::Medical,
                    text: "我在三十八军一一二师三三五团服役时受过伤".into(),
                },
            ),
        ],
    );
    let view = s.view(at(82));
    let needs_problems: Vec<&str> = view
        .problems
        .iter()
        .filter(|p| p.step == Some(Step::Needs))
        .map(|p| p.problem.code.as_str())
        .collect();
    assert!(!needs_problems.is_empty());
    run(&mut s, vec![(83, Event::NeedToggled(NeedArea::Medical))]);
    assert!(s.record().unwrap().needs.is_empty());
}

#[test]
fn cancel_asks_first_and_text_size_is_per_person() {
    check(
        vec![
            (
                0,
                Event::Start {
                    record_id: record_id(),
                },
            ),
            (1, Event::ChooseTextSize(TextSize::Large)),
            (2, Event::SetHighContrast(true)),
            (3, Event::CancelRequested),
            (4, Event::StillHere),
            (5, Event::CancelRequested),
            (6, Event::Cancel),
        ],
        expect![[r#"
            +0 Start { record_id: 00000000-0000-0000-0000-000000001234 } -> InsertCard WaitForCard
            +1 ChooseTextSize(Large) -> InsertCard
            +2 SetHighContrast(true) -> InsertCard
            +3 CancelRequested -> InsertCard
            +4 StillHere -> InsertCard
            +5 CancelRequested -> InsertCard
            +6 Cancel -> Attract StopCardReader
        "#]],
    );
    let mut s = session();
    run(
        &mut s,
        vec![
            (
                0,
                Event::Start {
                    record_id: record_id(),
                },
            ),
            (1, Event::SetHighContrast(true)),
            (3, Event::CancelRequested),
        ],
    );
    let view = s.view(at(3));
    assert!(view.confirming_cancel && view.high_contrast);
    run(&mut s, vec![(4, Event::Cancel)]);
    assert!(!s.view(at(4)).high_contrast);
}

#[test]
fn the_decoded_chip_portrait_goes_into_the_record_or_says_why_not() {
    let start = Event::Start {
        record_id: record_id(),
    };
    let decoded = |photo: Option<PhotoRef>, note: &str| Event::CardPortraitDecoded {
        photo,
        note_zh: note.into(),
    };
    // Decoded: the portrait is kept and the "not decoded" note goes.
    let mut s = session();
    s.handle(start.clone(), at(0));
    s.handle(card("王建国"), at(1));
    assert!(!s.record().unwrap().photos.card_portrait_note.is_empty());
    s.handle(decoded(Some(photo(9)), ""), at(1));
    let photos = &s.record().unwrap().photos;
    assert_eq!(photos.card_portrait, Some(photo(9)));
    assert_eq!(photos.card_portrait_note, "");

    // Not decoded: the reason is noted, nothing else changes.
    let mut s = session();
    s.handle(start.clone(), at(0));
    s.handle(card("王建国"), at(1));
    s.handle(decoded(None, "身份证照片解码失败"), at(1));
    let photos = &s.record().unwrap().photos;
    assert_eq!(photos.card_portrait, None);
    // This card read gave no chip portrait: the note says so.
    assert_eq!(photos.card_portrait_wlt, None);
    assert_eq!(
        photos.card_portrait_note,
        "身份证照片解码失败；读卡器未提供芯片照片数据"
    );

    // Before any card (a late answer after a wipe): ignored.
    let mut s = session();
    assert!(s.handle(decoded(Some(photo(9)), ""), at(0)).is_empty());
    assert!(s.record().is_none());
}

/// Like [`run`], but shows whether help is open and what is spoken.
fn run_help(session: &mut Session, script: Vec<(i64, Event)>) -> String {
    let mut log = String::new();
    for (seconds, event) in script {
        let name = event_name(&event);
        let spoken: Vec<String> = session
            .handle(event, at(seconds))
            .iter()
            .filter(|e| matches!(e, Effect::Speak(_) | Effect::StopSpeaking))
            .map(short)
            .collect();
        let view = session.view(at(seconds));
        log.push_str(&format!("+{seconds} {name} -> {:?}", view.step));
        if view.help_open {
            log.push_str(" [help]");
        }
        if let Some(notice) = &view.notice {
            log.push_str(&format!(" «{notice}»"));
        }
        if !spoken.is_empty() {
            log.push_str(&format!(" {}", spoken.join(", ")));
        }
        log.push('\n');
    }
    log
}

#[test]
fn help_is_spoken_and_closes_on_tap_page_change_and_wipe() {
    let help = |text: &str| Event::HelpRequested { text: text.into() };
    let mut s = session();
    let log = run_help(
        &mut s,
        vec![
            (
                0,
                Event::Start {
                    record_id: record_id(),
                },
            ),
            (1, help("请把身份证放在读卡区。")),
            (2, Event::HelpClosed),
            // Nothing to say: no panel, nothing spoken.
            (3, help("  ")),
            // A notice stays while help is asked for.
            (
                4,
                Event::CardFailed(CardFailure {
                    code: "timeout".into(),
                    message_zh: "没有读到身份证，请重新放一次".into(),
                }),
            ),
            (5, help(" 放平，别动。 ")),
            // Text size is changed with the panel open: it stays open.
            (6, Event::ChooseTextSize(TextSize::Large)),
            (7, card("王建国")),
            (8, help("核对身份")),
            (9, Event::PhoneEntered("13800138000".into())),
            (10, Event::Next),
            (11, help("看摄像头")),
            // The idle warning, then the wipe, close it too.
            (11 + 90, Event::Tick),
            (11 + 120, Event::Tick),
        ],
    );
    expect![[r#"
        +0 Start { record_id: 00000000-0000-0000-0000-000000001234 } -> InsertCard Speak(请将身份证放在读卡区)
        +1 HelpRequested { text: "请把身份证放在读卡区。" } -> InsertCard [help] Speak(请把身份证放在读卡区。)
        +2 HelpClosed -> InsertCard StopSpeaking
        +3 HelpRequested { text: "  " } -> InsertCard
        +4 CardFailed(CardFailure { code: "timeout", message_zh: "没有读到身 -> InsertCard «没有读到身份证，请重新放一次» Speak(没有读到身份证，请重新放一次)
        +5 HelpRequested { text: " 放平，别动。 " } -> InsertCard [help] «没有读到身份证，请重新放一次» Speak(放平，别动。)
        +6 ChooseTextSize(Large) -> InsertCard [help]
        +7 CardRead -> Identity Speak(请核对您的身份信息)
        +8 HelpRequested { text: "核对身份" } -> Identity [help] Speak(核对身份)
        +9 PhoneEntered("13800138000") -> Identity [help]
        +10 Next -> Portrait Speak(请看着屏幕上方的摄像头，保持不动)
        +11 HelpRequested { text: "看摄像头" } -> Portrait [help] Speak(看摄像头)
        +101 Tick -> Portrait [help] Speak(您还在吗？请点击屏幕继续)
        +131 Tick -> Attract
    "#]]
    .assert_eq(&log);
    assert!(!s.view(at(131)).help_open);
}

/// From the attract screen to the portrait page, camera running since +12.
fn to_portrait() -> Vec<(i64, Event)> {
    to_review().into_iter().take(6).collect()
}

fn with_issues(n: u8) -> Event {
    Event::PortraitTakenWithIssues {
        photo: photo(n),
        issues_zh: vec!["靠近一点".into()],
    }
}

#[test]
fn without_an_automatic_capture_a_shutter_button_appears_and_staff_accept_the_issues() {
    let mut script = to_portrait();
    script.extend([
        // Not offered before its time.
        (13, Event::TakePortraitNow),
        (31, Event::Tick),
        (32, Event::Tick),
        (33, Event::TakePortraitNow),
        (34, with_issues(1)),
        // The person cannot go on alone with a portrait that has issues.
        (35, Event::Next),
        (36, Event::StaffAcceptPortrait),
        (37, Event::PinEntered("0000".into())),
        (38, Event::PinEntered(PIN.into())),
        (39, Event::Next),
    ]);
    let s = check(
        script,
        expect![[r#"
            +0 Start { record_id: 00000000-0000-0000-0000-000000001234 } -> InsertCard WaitForCard
            +5 CardRead -> Identity StopCardReader, LoadDraft(110101********0013), LookUpPerson(110101********0013)
            +6 DraftFound(None) -> Identity
            +6 LookUpAnswered(None) -> Identity
            +10 PhoneEntered("13800138000") -> Identity
            +12 Next -> Portrait StartCamera
            +13 TakePortraitNow -> Portrait
            +31 Tick -> Portrait
            +32 Tick -> Portrait
            +33 TakePortraitNow -> Portrait CapturePortraitNow
            +34 PortraitTakenWithIssues { photo: PhotoRef { sha256: "0101010 -> Portrait StopCamera
            +35 Next -> Portrait «照片还有问题，请工作人员确认后再继续»
            +36 StaffAcceptPortrait -> Portrait
            +37 PinEntered("0000") -> Portrait Audit(staff-03, pin_rejected)
            +38 PinEntered("2468") -> Portrait Audit(staff-03, portrait_accepted)
            +39 Next -> Categories StopCamera
        "#]],
    );
    let photos = &s.record().unwrap().photos;
    assert_eq!(photos.portrait_issues, ["靠近一点"]);
    let acceptance = photos.portrait_acceptance.as_ref().unwrap();
    assert_eq!(acceptance.issues, ["靠近一点"]);
    assert_eq!(acceptance.accepted_by, "staff-03");
    assert_eq!(acceptance.accepted_at, at(38));
}

#[test]
fn the_shutter_button_is_offered_after_the_configured_time_and_gone_after_a_retake() {
    let mut s = Session::new(
        SessionSettings {
            manual_capture_after: Duration::seconds(5),
            ..settings()
        },
        t0(),
    )
    .with_staff(staff_settings());
    run(&mut s, to_portrait());
    s.handle(Event::Tick, at(16));
    assert!(!s.view(at(16)).manual_capture_offered);
    s.handle(Event::Tick, at(17));
    assert!(s.view(at(17)).manual_capture_offered);
    s.handle(with_issues(1), at(18));
    let view = s.view(at(18));
    assert!(!view.manual_capture_offered);
    assert!(view.portrait_needs_staff);
    // A retake starts the wait again and forgets the issues.
    let fx = s.handle(Event::RetakePortrait, at(20));
    assert!(fx.contains(&Effect::StartCamera));
    let view = s.view(at(20));
    assert!(!view.manual_capture_offered && !view.portrait_needs_staff);
    assert!(s.record().unwrap().photos.portrait_issues.is_empty());
    s.handle(Event::Tick, at(24));
    assert!(!s.view(at(24)).manual_capture_offered);
    s.handle(Event::Tick, at(25));
    assert!(s.view(at(25)).manual_capture_offered);
    // An automatic capture after all needs nobody.
    s.handle(Event::PortraitTaken(photo(2)), at(26));
    assert!(!s.view(at(26)).portrait_needs_staff);
    s.handle(Event::Next, at(27));
    assert_eq!(s.step(), Step::Categories);
}

#[test]
fn without_the_face_model_capture_is_manual_at_once_and_staff_confirm_it() {
    let mut script = to_portrait();
    script.extend([
        (
            12,
            Event::AutoCaptureUnavailable {
                message_zh: "自动拍照暂时不能用，请点“拍照”，再请工作人员确认".into(),
            },
        ),
        (14, Event::TakePortraitNow),
        (
            15,
            Event::PortraitTakenWithIssues {
                photo: photo(1),
                issues_zh: vec!["没有经过自动检查".into()],
            },
        ),
        (16, Event::StaffAcceptPortrait),
        (17, Event::PinEntered(PIN.into())),
        (18, Event::Next),
    ]);
    let s = check(
        script,
        expect![[r#"
            +0 Start { record_id: 00000000-0000-0000-0000-000000001234 } -> InsertCard WaitForCard
            +5 CardRead -> Identity StopCardReader, LoadDraft(110101********0013), LookUpPerson(110101********0013)
            +6 DraftFound(None) -> Identity
            +6 LookUpAnswered(None) -> Identity
            +10 PhoneEntered("13800138000") -> Identity
            +12 Next -> Portrait StartCamera
            +12 AutoCaptureUnavailable { message_zh: "自动拍照暂时不能用，请点“拍照”，再请工作人 -> Portrait «自动拍照暂时不能用，请点“拍照”，再请工作人员确认»
            +14 TakePortraitNow -> Portrait CapturePortraitNow
            +15 PortraitTakenWithIssues { photo: PhotoRef { sha256: "0101010 -> Portrait StopCamera
            +16 StaffAcceptPortrait -> Portrait
            +17 PinEntered("2468") -> Portrait Audit(staff-03, portrait_accepted)
            +18 Next -> Categories StopCamera
        "#]],
    );
    let acceptance = s.record().unwrap().photos.portrait_acceptance.clone();
    assert_eq!(
        acceptance.map(|a| (a.issues, a.accepted_by)),
        Some((vec!["没有经过自动检查".to_string()], "staff-03".to_string()))
    );
}

fn card_with_chip_portrait(name: &str, wlt: Vec<u8>) -> Event {
    let Event::CardRead(mut read) = card(name) else {
        unreachable!()
    };
    read.photo_wlt = wlt;
    Event::CardRead(read)
}

#[test]
fn without_a_decoder_the_raw_chip_portrait_is_kept_and_the_note_says_so() {
    let wlt: Vec<u8> = (0..1024u32).map(|i| (i * 7 % 251) as u8).collect();
    let mut s = session();
    s.handle(
        Event::Start {
            record_id: record_id(),
        },
        at(0),
    );
    s.handle(card_with_chip_portrait("王建国", wlt.clone()), at(1));
    s.handle(
        Event::CardPortraitDecoded {
            photo: None,
            note_zh: "未配置身份证照片解码库，芯片照片未解码".into(),
        },
        at(1),
    );
    let record = s.record().unwrap().clone();
    let kept = record.photos.card_portrait_wlt.as_ref().unwrap();
    assert_eq!(kept.as_bytes(), &wlt[..]);
    assert_eq!(
        record.photos.card_portrait_note,
        "未配置身份证照片解码库，芯片照片未解码；已保存芯片原始照片数据（1024 字节），可由县级解码"
    );
    // It travels as base64 and comes back byte for byte.
    let json = serde_json::to_value(&record).unwrap();
    let text = json["photos"]["card_portrait_wlt"].as_str().unwrap();
    assert_eq!(text.len(), 1368, "1,024 bytes in base64");
    let back: record::Record = serde_json::from_value(json).unwrap();
    assert_eq!(back, record);

    // Decoded as well: the photo and the raw data, and the note says both.
    s.handle(
        Event::CardPortraitDecoded {
            photo: Some(photo(9)),
            note_zh: String::new(),
        },
        at(2),
    );
    let photos = &s.record().unwrap().photos;
    assert_eq!(photos.card_portrait, Some(photo(9)));
    assert_eq!(photos.card_portrait_wlt.as_ref().unwrap().len(), 1024);
    assert_eq!(
        photos.card_portrait_note,
        "芯片照片已解码；芯片原始照片数据（1024 字节）一并保存"
    );
}

/// `to_review` without the discharge certificate, ending on the
/// documents page.
fn to_documents_without_certificate() -> Vec<(i64, Event)> {
    to_review()
        .into_iter()
        .take_while(|(seconds, _)| *seconds < 60)
        .collect()
}

fn doc(kind: DocumentKind, page: u8, n: u8) -> Event {
    Event::DocumentTaken(DocumentPhoto {
        kind,
        photo: photo(n),
        page,
    })
}

fn mark(kind: DocumentKind, reason: record::MissingReason, note: &str) -> Event {
    Event::MarkDocumentMissing {
        kind,
        reason,
        note: note.into(),
    }
}

#[test]
fn a_certificate_staff_mark_as_missing_no_longer_blocks_signing() {
    use record::MissingReason;
    let mut s = session();
    run(&mut s, to_documents_without_certificate());
    let codes = |s: &Session| -> Vec<String> {
        s.view(at(100))
            .problems
            .iter()
            .map(|p| p.problem.code.clone())
            .collect()
    };
    let document_codes: Vec<String> = codes(&s)
        .into_iter()
        .filter(|code| code.starts_with("document"))
        .collect();
    assert_eq!(
        document_codes,
        ["document_missing"],
        "unmarked, it still counts"
    );
    let checklist = s.view(at(60)).document_checklist;
    assert_eq!(
        checklist[1].name_zh,
        "退伍证或入伍档案材料（如退伍军人登记表复印件）"
    );
    assert!(!checklist[1].done && checklist[1].marked.is_none());

    let log = run(
        &mut s,
        vec![
            // A wrong PIN marks nothing; the right one names who marked it.
            (
                61,
                mark(
                    DocumentKind::DischargeCertificate,
                    MissingReason::Lost,
                    " 1985年搬家时遗失 ",
                ),
            ),
            (62, Event::PinEntered("0000".into())),
            (63, Event::PinEntered(PIN.into())),
            // The ID card cannot be marked: the chip read covers it.
            (
                64,
                mark(DocumentKind::IdCard, MissingReason::NotBrought, ""),
            ),
            (65, Event::Next),
            (70, living("work", FieldEdit::Choose(2))),
        ],
    );
    expect![[r#"
        +61 MarkDocumentMissing { kind: DischargeCertificate, reason: Lo -> Documents
        +62 PinEntered("0000") -> Documents Audit(staff-03, pin_rejected)
        +63 PinEntered("2468") -> Documents Audit(staff-03, document_marked_missing)
        +64 MarkDocumentMissing { kind: IdCard, reason: NotBrought, note -> Documents
        +65 Next -> Living
        +70 LivingFieldEdited { key: "work", edit: Choose(2) } -> Living
    "#]]
    .assert_eq(&log);
    let marks = &s.record().unwrap().missing_documents;
    assert_eq!(marks.len(), 1);
    assert_eq!(marks[0].kind, DocumentKind::DischargeCertificate);
    assert_eq!(marks[0].reason, MissingReason::Lost);
    assert_eq!(marks[0].note, "1985年搬家时遗失");
    assert_eq!(marks[0].marked_by, "staff-03");
    assert_eq!(marks[0].marked_at, at(63));

    // The rest of the form, then signing goes through.
    let rest: Vec<(i64, Event)> = to_review()
        .into_iter()
        .filter(|(seconds, _)| *seconds > 70)
        .collect();
    run(&mut s, rest);
    assert_eq!(s.view(at(86)).step, Step::Review);
    assert!(codes(&s).is_empty(), "{:?}", codes(&s));
    let log = run(
        &mut s,
        vec![
            (90, Event::PrintRequested),
            (95, Event::Printed(PrintOutcome::Printed)),
            (120, Event::WitnessRequested),
            (125, Event::PinEntered(PIN.into())),
        ],
    );
    assert!(log.contains("Enqueue(Signed)"), "{log}");
}

#[test]
fn a_mark_is_taken_back_or_dropped_when_the_certificate_is_photographed() {
    use record::MissingReason;
    let mut s = session();
    run(&mut s, to_documents_without_certificate());
    let marked = |s: &Session| s.record().unwrap().missing_documents.len();
    run(
        &mut s,
        vec![
            (
                61,
                mark(
                    DocumentKind::DischargeCertificate,
                    MissingReason::NotBrought,
                    "",
                ),
            ),
            (62, Event::PinEntered(PIN.into())),
        ],
    );
    assert_eq!(marked(&s), 1);
    let checklist = s.view(at(62)).document_checklist;
    assert_eq!(
        checklist[1].marked.as_ref().map(|m| m.reason),
        Some(MissingReason::NotBrought)
    );
    run(
        &mut s,
        vec![(
            63,
            Event::UnmarkDocument(DocumentKind::DischargeCertificate),
        )],
    );
    assert_eq!(marked(&s), 0);
    run(
        &mut s,
        vec![
            (
                64,
                mark(
                    DocumentKind::DischargeCertificate,
                    MissingReason::ToFollow,
                    "下周送来",
                ),
            ),
            (65, Event::PinEntered(PIN.into())),
        ],
    );
    assert_eq!(marked(&s), 1);
    // The person found it after all: the photo replaces the mark.
    run(
        &mut s,
        vec![(66, doc(DocumentKind::DischargeCertificate, 1, 3))],
    );
    assert_eq!(marked(&s), 0);
    // A photographed certificate cannot be marked missing.
    let fx = s.handle(
        mark(DocumentKind::DischargeCertificate, MissingReason::Lost, ""),
        at(67),
    );
    assert!(fx.is_empty());
    assert!(s.view(at(67)).staff.is_none(), "no PIN pad opened");
}

#[test]
fn a_certificate_keeps_its_pages_in_order() {
    use DocumentKind::{DischargeCertificate as Discharge, HouseholdRegister as Household};
    let mut s = session();
    run(&mut s, to_documents_without_certificate());
    let pages = |s: &Session| -> Vec<(DocumentKind, u8, u8)> {
        s.record()
            .unwrap()
            .documents
            .iter()
            .map(|d| (d.kind, d.page, d.photo.sha256.as_bytes()[63] - b'0'))
            .collect()
    };
    let take = |kind, page| Event::TakePhoto(PhotoPurpose::Document { kind, page });
    let log = run(
        &mut s,
        vec![
            // Page 2 of the household register (本人页) may be added…
            (61, take(Household, 2)),
            // …but not page 4 while there are only 1, and never page 0.
            (62, take(Household, 4)),
            (63, take(Household, 0)),
        ],
    );
    expect![[r#"
        +61 TakePhoto(Document { kind: HouseholdRegister, page: 2 }) -> Documents CapturePhoto(Document { kind: HouseholdRegister, page: 2 })
        +62 TakePhoto(Document { kind: HouseholdRegister, page: 4 }) -> Documents
        +63 TakePhoto(Document { kind: HouseholdRegister, page: 0 }) -> Documents
    "#]]
    .assert_eq(&log);
    run(
        &mut s,
        vec![
            (64, doc(Discharge, 1, 5)),
            (65, doc(Household, 2, 4)),
            // A page that would leave a gap is dropped.
            (66, doc(Household, 4, 7)),
            // Retaking page 1 replaces it in place.
            (67, doc(Household, 1, 6)),
        ],
    );
    assert_eq!(
        pages(&s),
        [(Household, 1, 6), (Household, 2, 4), (Discharge, 1, 5)]
    );
    let checklist = s.view(at(67)).document_checklist;
    assert_eq!(checklist[0].pages, [2]);
    assert_eq!(checklist[1].pages, [1, 0]);
    let document_problems = |s: &Session, now| {
        s.view(at(now))
            .problems
            .iter()
            .filter(|p| p.problem.code.starts_with("document"))
            .count()
    };
    assert_eq!(document_problems(&s, 67), 0);
    // Up to the cap, each page under its own size cap.
    for page in 3..=record::MAX_DOCUMENT_PAGES {
        run(&mut s, vec![(68, doc(Household, page, 8))]);
    }
    let fx = s.handle(take(Household, record::MAX_DOCUMENT_PAGES + 1), at(69));
    assert!(fx.is_empty(), "no page past the cap");
    assert_eq!(
        s.record().unwrap().documents.len(),
        usize::from(record::MAX_DOCUMENT_PAGES) + 1
    );
    // Removing page 1 moves the later pages up.
    run(&mut s, vec![(70, Event::DocumentRemoved(0))]);
    let household: Vec<u8> = pages(&s)
        .iter()
        .filter(|(kind, ..)| *kind == Household)
        .map(|(_, page, _)| *page)
        .collect();
    assert_eq!(household, [1, 2, 3, 4, 5]);
    assert_eq!(document_problems(&s, 70), 0);
}

/// A person who remembers only the year they enlisted and the year and
/// month they left: kept as such; a bad date says why; a finding that does
/// not block is shown on review and travels in the signed record.
#[test]
fn remembered_dates_and_non_blocking_checks_through_the_flow() {
    let mut script = to_review();
    for (_, event) in script.iter_mut() {
        match event {
            Event::DetailsFieldEdited { key, edit, .. } if key == "enlisted_on" => {
                *edit = date_edit("1968", "", "")
            }
            Event::DetailsFieldEdited { key, edit, .. } if key == "discharged_on" => {
                *edit = date_edit("1973", "1", "")
            }
            // 伤残抚恤金 without a disabled category: a warning, no block.
            Event::LivingFieldEdited { key, edit } if key == "state_benefits" => {
                *edit = FieldEdit::Toggle(2)
            }
            _ => {}
        }
    }
    let mut s = session();
    run(&mut s, script);
    let view = s.view(at(85));
    assert_eq!(view.step, Step::Review);
    assert_eq!(view.problems, vec![]);
    let shown: Vec<(Option<Step>, crate::Severity, &str)> = view
        .checks
        .iter()
        .map(|c| {
            (
                c.step,
                c.problem.severity,
                c.problem.field.as_deref().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        shown,
        vec![(
            Some(Step::Living),
            crate::Severity::Warning,
            "living.state_benefits"
        )]
    );
    let dates = |s: &Session| match &s.view(at(86)).record.unwrap().categories[0] {
        record::CategoryDetails::DischargedSoldier {
            enlisted_on,
            discharged_on,
            ..
        } => (*enlisted_on, *discharged_on),
        _ => (None, None),
    };
    assert_eq!(
        dates(&s),
        (
            Some(crate::PartialDate::Year(1968)),
            Some(crate::PartialDate::YearMonth(1973, 1))
        )
    );

    // A day that does not exist is not kept, and the person is told why.
    s.handle(
        details("discharged_on", date_edit("1973", "2", "30")),
        at(86),
    );
    assert_eq!(
        s.view(at(86)).notice.as_deref(),
        Some("这个月没有这一天，请核对；记不清日的可以空着")
    );
    assert_eq!(dates(&s).1, None);
    s.handle(details("discharged_on", date_edit("1973", "2", "")), at(87));
    assert_eq!(s.view(at(87)).notice, None);

    s.handle(Event::Next, at(90));
    s.handle(Event::Printed(PrintOutcome::Printed), at(95));
    let effects = s.handle(
        Event::SignatureConfirmed {
            staff_id: "staff-03".into(),
        },
        at(100),
    );
    let signed = effects
        .iter()
        .find_map(|e| match e {
            Effect::Enqueue(valid) => Some(valid.record().clone()),
            _ => None,
        })
        .expect("the record is queued despite the warning");
    assert_eq!(signed.checks.len(), 1);
    assert_eq!(signed.checks[0].severity, crate::Severity::Warning);
    let json = serde_json::to_string(&signed).unwrap();
    assert!(json.contains(r#""enlisted_on":"1968""#), "{json}");
    assert!(json.contains(r#""severity":"warning""#), "{json}");
}

fn returned_record() -> ReturnedRecord {
    ReturnedRecord {
        record_id: Uuid::from_u128(0x55),
        record_number: "K7Q2-M9XD-3F8A".into(),
        reasons_zh: vec!["退役证照片不清晰".into(), "入伍时间与档案不符".into()],
    }
}

#[test]
fn a_record_the_county_returned_is_superseded_by_the_new_one_and_its_reasons_shown() {
    let mut script = to_review();
    // The store answers right after the draft.
    script.insert(3, (6, Event::ReturnedRecordFound(returned_record())));
    let mut s = session();
    let log = run(&mut s, script[..5].to_vec());
    assert!(
        log.contains("«县里退回了您上次的登记（K7Q2-M9XD-3F8A），原因：退役证照片不清晰；入伍时间与档案不符。这次登记签字后将替代退回的那份»"),
        "{log}"
    );
    assert_eq!(
        s.view(at(6)).returned.map(|r| r.record_id),
        Some(Uuid::from_u128(0x55))
    );
    run(&mut s, script[5..].to_vec());
    let mut fx = Vec::new();
    for (t, event) in [
        (90, Event::PrintRequested),
        (95, Event::Printed(PrintOutcome::Printed)),
        (
            120,
            Event::SignatureConfirmed {
                staff_id: "staff-03".into(),
            },
        ),
    ] {
        fx.extend(s.handle(event, at(t)));
    }
    let signed = fx
        .iter()
        .find_map(|e| match e {
            Effect::Enqueue(valid) => Some(valid.record().clone()),
            _ => None,
        })
        .expect("the new record is queued");
    assert_eq!(signed.meta.supersedes, Some(Uuid::from_u128(0x55)));
    assert_eq!(signed.meta.record_id, record_id());
    // The reasons stay in view until the session ends.
    assert!(s.view(at(121)).returned.is_some());
    s.handle(Event::Cancel, at(122));
    assert!(s.view(at(122)).returned.is_none());
}

/// The county's reasons stay below the identity page while the person
/// works there: a text size or the phone number (each clears a passing
/// notice) do not take them away; the next page does, and the review
/// shows them again (`View::returned`).
#[test]
fn the_reasons_of_a_returned_record_stay_on_the_identity_page_while_the_person_types() {
    let mut script = to_review();
    script.insert(3, (6, Event::ReturnedRecordFound(returned_record())));
    let mut s = session();
    run(&mut s, script[..5].to_vec());
    let reasons = returned_record().notice_zh();
    s.handle(Event::ChooseTextSize(TextSize::ExtraLarge), at(7));
    assert_eq!(s.view(at(7)).notice.as_deref(), Some(reasons.as_str()));
    s.handle(Event::PhoneEntered("1380013800".into()), at(8));
    assert_eq!(s.view(at(8)).notice.as_deref(), Some(reasons.as_str()));
    s.handle(Event::PhoneEntered("13800138000".into()), at(9));
    s.handle(Event::Next, at(10));
    assert_eq!(s.view(at(10)).step, Step::Portrait);
    assert_eq!(s.view(at(10)).notice, None);
    assert!(s.view(at(10)).returned.is_some());
}

#[test]
fn a_returned_record_reported_outside_the_identity_page_changes_nothing() {
    let mut s = session();
    run(&mut s, to_review());
    s.handle(Event::ReturnedRecordFound(returned_record()), at(70));
    assert_eq!(s.record().unwrap().meta.supersedes, None);
    assert!(s.view(at(70)).returned.is_none());
    let mut idle = session();
    idle.handle(Event::ReturnedRecordFound(returned_record()), at(1));
    assert!(idle.view(at(1)).returned.is_none());
}

fn returned_line(state: RecordState) -> QueueLine {
    QueueLine {
        record_id: Uuid::from_u128(0x55),
        state,
        queued_at: at(0),
        label: "K7Q2-M9XD-3F8A　110101********0013".into(),
        reason_zh: Some("退役证照片不清晰".into()),
    }
}

#[test]
fn staff_reopen_a_returned_record_and_only_its_person_can_go_on() {
    let staff_open = |s: &mut Session, line: QueueLine| {
        run(
            s,
            vec![
                (1, Event::StaffGesture),
                (2, Event::PinEntered(PIN.into())),
                (3, Event::Staff(StaffCommand::ShowQueue)),
                (4, Event::QueueLoaded(vec![line])),
            ],
        )
    };
    // Only a record the queue shows returned can be reopened.
    let mut s = session();
    staff_open(&mut s, returned_line(RecordState::Accepted));
    let log = run(
        &mut s,
        vec![(5, Event::Staff(StaffCommand::Reopen(Uuid::from_u128(0x55))))],
    );
    assert!(!log.contains("returned_record_reopened"), "{log}");

    let mut s = session();
    staff_open(&mut s, returned_line(RecordState::Rejected));
    let log = run(
        &mut s,
        vec![
            (5, Event::Staff(StaffCommand::Reopen(Uuid::from_u128(0x55)))),
            (
                6,
                Event::Start {
                    record_id: record_id(),
                },
            ),
            (7, card("王建国")),
            (8, Event::DraftFound(None)),
            (8, Event::LookUpAnswered(None)),
            (10, Event::PhoneEntered("13800138000".into())),
            // No returned record for this card: not the person.
            (12, Event::Next),
            (13, Event::ReturnedRecordFound(returned_record())),
            (14, Event::Next),
        ],
    );
    expect![[r#"
        +5 Staff(Reopen(00000000-0000-0000-0000-000000000055)) -> Attract «请本人点“开始登记”，再把身份证放在读卡区» Audit(staff-03, returned_record_reopened)
        +6 Start { record_id: 00000000-0000-0000-0000-000000001234 } -> InsertCard WaitForCard
        +7 CardRead -> Identity StopCardReader, LoadDraft(110101********0013), LookUpPerson(110101********0013)
        +8 DraftFound(None) -> Identity
        +8 LookUpAnswered(None) -> Identity
        +10 PhoneEntered("13800138000") -> Identity
        +12 Next -> Identity «这张身份证不是要重新登记的那份退回记录的本人，请工作人员核对»
        +13 ReturnedRecordFound(ReturnedRecord { record_id: 00000000-000 -> Identity «县里退回了您上次的登记（K7Q2-M9XD-3F8A），原因：退役证照片不清晰；入伍时间与档案不符。这次登记签字后将替代退回的那份»
        +14 Next -> Portrait StartCamera
    "#]]
    .assert_eq(&log);
    assert_eq!(
        s.record().unwrap().meta.supersedes,
        Some(Uuid::from_u128(0x55))
    );
}

#[test]
fn a_record_signed_under_a_clock_before_the_build_date_carries_a_clock_note() {
    use crate::time::{ClockBounds, CLOCK_SUSPECT};
    let sign = |bounds: ClockBounds| {
        let mut script = to_review();
        script.extend([
            (90, Event::PrintRequested),
            (95, Event::Printed(PrintOutcome::Printed)),
            (120, Event::WitnessRequested),
        ]);
        let mut s = session().with_clock_bounds(bounds);
        run(&mut s, script);
        let printed = s.handle(Event::Tick, at(121));
        assert!(printed.is_empty(), "{printed:?}");
        s.handle(Event::PinEntered(PIN.into()), at(125))
            .into_iter()
            .find_map(|e| match e {
                Effect::Enqueue(valid) => Some(valid.record().clone()),
                _ => None,
            })
            .expect("queued")
    };
    // The session's clock (t0, 2025) reads before the program was built.
    let built = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
    let signed = sign(ClockBounds::new(vec![(built, "本程序的制作日期")]));
    let notes: Vec<&crate::Problem> = signed
        .checks
        .iter()
        .filter(|c| c.code == CLOCK_SUSPECT)
        .collect();
    assert_eq!(notes.len(), 1, "{:?}", signed.checks);
    assert_eq!(notes[0].severity, crate::Severity::NeedsChecking);
    assert!(
        notes[0].message.contains("早于本程序的制作日期"),
        "{}",
        notes[0].message
    );
    // Validated again (as the platform does), the note stays.
    let again = crate::record::validate(&signed, at(200).date_naive()).unwrap();
    assert!(again
        .record()
        .checks
        .iter()
        .any(|c| c.code == CLOCK_SUSPECT));
    // Under a believable clock there is no note, and the JSON is as before.
    let earlier = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    let signed = sign(ClockBounds::new(vec![(earlier, "本程序的制作日期")]));
    assert!(signed.checks.iter().all(|c| c.code != CLOCK_SUSPECT));
    assert!(!serde_json::to_string(&signed)
        .unwrap()
        .contains(CLOCK_SUSPECT));
}

//! The records shell on real parts: the outbox in a temporary directory,
//! the county platform on loopback with mutual TLS, a proxy that makes it
//! unreachable, and the audit log file.

use crate::sync_support;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration as StdDuration;

use chrono::{Duration, Utc};
use kiosk_core::id_number::IdNumber;
use kiosk_core::record::{self, Record, RecordState};
use kiosk_core::session::{Effect, Event};
use kiosk_core::staff::{AuditAction, AuditEntry};
use kiosk_core::Problem;
use sync_support::{demo_records, FaultProxy, ProxyMode, World};
use uuid::Uuid;
use veteran_kiosk::kiosk::shell::records::{RecordsSettings, RecordsShell, SessionPhotos};
use veteran_kiosk::store::{Blobs, Store};
use veteran_kiosk::sync::client::ClientSettings;
use wire::sealed::photo_refs;

fn settings(world: &World, platform: Option<ClientSettings>) -> RecordsSettings {
    RecordsSettings {
        db: world.outbox_path(),
        local_key: world.dir.path().join("kiosk").join("local.agekey"),
        recipient: world.recipient(),
        draft_window: Duration::hours(2),
        platform,
        audit_log: world.dir.path().join("kiosk").join("audit.jsonl"),
    }
}

fn start(settings: RecordsSettings) -> (RecordsShell, SessionPhotos) {
    let photos: SessionPhotos = Arc::new(Mutex::new(Blobs::new()));
    let shell = RecordsShell::start(settings, photos.clone()).unwrap();
    (shell, photos)
}

/// What the kiosk's effect router does with the records' effects.
fn run(shell: &mut RecordsShell, effect: Effect) {
    let now = Utc::now();
    match effect {
        Effect::LookUpPerson(id) => shell.look_up(id),
        Effect::LoadDraft(id) => shell.load_draft(id, now),
        Effect::SaveDraft(record) => shell.save_draft(record, now),
        Effect::WipeDraft(record_id) => shell.wipe_draft(record_id, now),
        Effect::Enqueue(valid) => shell.enqueue(valid, now),
        Effect::LoadQueue => shell.load_queue(),
        Effect::SyncNow => shell.sync_now(),
        Effect::Audit(entry) => shell.audit(entry),
        other => panic!("not a records effect: {other:?}"),
    }
}

/// Polls (bounded) until an event matches; returns it with the others seen.
fn wait_for(shell: &mut RecordsShell, what: impl Fn(&Event) -> bool) -> (Event, Vec<Event>) {
    let mut seen = Vec::new();
    for _ in 0..1200 {
        for event in shell.poll() {
            if what(&event) {
                return (event, seen);
            }
            seen.push(event);
        }
        thread::sleep(StdDuration::from_millis(50));
    }
    panic!("no such answer from the records shell; saw {seen:?}");
}

/// A signed demo record with its photos.
fn signed_record(seed: u64) -> (Record, Blobs) {
    let (record, blobs) = demo_records(1, seed).remove(0);
    assert_eq!(record.meta.state, RecordState::Signed);
    assert!(!photo_refs(&record).is_empty());
    (record, blobs)
}

fn id_of(record: &Record) -> IdNumber {
    IdNumber::parse_structure(&record.identity.id_number).unwrap()
}

fn enqueue(
    shell: &mut RecordsShell,
    photos: &SessionPhotos,
    record: &Record,
    blobs: &Blobs,
) -> Event {
    *photos.lock().unwrap() = blobs.clone();
    let valid = record::validate(record, Utc::now().date_naive()).unwrap();
    run(shell, Effect::Enqueue(Box::new(valid)));
    wait_for(shell, |e| matches!(e, Event::Enqueued(_))).0
}

fn sync_now(shell: &mut RecordsShell) -> String {
    run(shell, Effect::SyncNow);
    match wait_for(shell, |e| matches!(e, Event::SyncFinished { .. })).0 {
        Event::SyncFinished { message_zh } => message_zh,
        _ => unreachable!(),
    }
}

fn queue(shell: &mut RecordsShell) -> Vec<kiosk_core::session::QueueLine> {
    run(shell, Effect::LoadQueue);
    match wait_for(shell, |e| matches!(e, Event::QueueLoaded(_))).0 {
        Event::QueueLoaded(lines) => lines,
        _ => unreachable!(),
    }
}

fn state_in_outbox(world: &World, id: Uuid) -> RecordState {
    Store::open(&world.outbox_path())
        .unwrap()
        .entry(id)
        .unwrap()
        .unwrap()
        .state
}

#[test]
fn a_queued_record_reaches_the_platform_and_its_review_comes_back() {
    let world = World::new();
    let platform = world.settings(&world.platform.url());
    let (mut shell, photos) = start(settings(&world, Some(platform)));
    let (record, blobs) = signed_record(31);
    let id = record.meta.record_id;

    assert_eq!(
        enqueue(&mut shell, &photos, &record, &blobs),
        Event::Enqueued(Ok(()))
    );
    // Durable before the answer: another connection sees it at once.
    assert!(matches!(
        state_in_outbox(&world, id),
        RecordState::Signed | RecordState::Sent
    ));

    let message = sync_now(&mut shell);
    assert!(message.contains("没有等待上传的记录"), "{message}");
    let received: Vec<Uuid> = world
        .platform_records()
        .iter()
        .map(|r| r.record_id)
        .collect();
    assert_eq!(received, vec![id]);
    assert_eq!(state_in_outbox(&world, id), RecordState::Sent);
    let lines = shell.status_lines();
    assert!(lines.iter().all(|l| l.ok), "{lines:?}");

    // The county sends it back; "send now" also fetches reviews.
    let reason = Problem {
        code: "photo_unclear".into(),
        field: Some("photos.portrait".into()),
        message: "照片不清晰，请重新拍摄".into(),
        severity: Default::default(),
    };
    world
        .platform
        .state
        .db()
        .review(id, "县审核员", Some(&[reason]), Utc::now())
        .unwrap();
    sync_now(&mut shell);
    let lines = queue(&mut shell);
    assert_eq!(lines.len(), 1);
    let line = &lines[0];
    assert_eq!((line.record_id, line.state), (id, RecordState::Rejected));
    assert_eq!(line.reason_zh.as_deref(), Some("照片不清晰，请重新拍摄"));
    let number = veteran_kiosk::store::record_number(&id);
    assert!(line.label.contains(&number), "{}", line.label);
    assert!(
        !line.label.contains(&record.identity.id_number),
        "{}",
        line.label
    );
    assert!(
        !line.label.contains(&record.identity.name),
        "{}",
        line.label
    );
}

#[test]
fn a_person_the_platform_knows_is_found_and_a_stranger_is_not() {
    let world = World::new();
    let (mut known, _) = signed_record(21);
    known.meta.state = RecordState::Draft;
    known.signature = None;
    let id = id_of(&known);
    world
        .platform
        .state
        .db()
        .import_base(&[(id.clone(), known.clone())], Utc::now())
        .unwrap();
    let platform = world.settings(&world.platform.url());
    let (mut shell, _photos) = start(settings(&world, Some(platform)));

    run(&mut shell, Effect::LookUpPerson(id));
    let (answer, _) = wait_for(&mut shell, |e| matches!(e, Event::LookUpAnswered(_)));
    assert_eq!(answer, Event::LookUpAnswered(Some(Box::new(known))));

    let stranger = IdNumber::parse_structure("11010519491231002X").unwrap();
    run(&mut shell, Effect::LookUpPerson(stranger));
    let (answer, _) = wait_for(&mut shell, |e| matches!(e, Event::LookUpAnswered(_)));
    assert_eq!(answer, Event::LookUpAnswered(None));
}

#[test]
fn with_the_platform_unreachable_look_ups_answer_not_found_and_records_still_queue() {
    let world = World::new();
    let proxy = FaultProxy::start(world.platform.addr);
    proxy.set(ProxyMode::Blackhole);
    let (mut shell, photos) = start(settings(&world, Some(world.settings(&proxy.url()))));
    let (record, blobs) = signed_record(41);

    run(&mut shell, Effect::LookUpPerson(id_of(&record)));
    let (answer, _) = wait_for(&mut shell, |e| matches!(e, Event::LookUpAnswered(_)));
    assert_eq!(answer, Event::LookUpAnswered(None));

    assert_eq!(
        enqueue(&mut shell, &photos, &record, &blobs),
        Event::Enqueued(Ok(()))
    );
    assert_eq!(
        state_in_outbox(&world, record.meta.record_id),
        RecordState::Signed
    );
    let message = sync_now(&mut shell);
    assert!(message.contains("还有 1 条等待上传"), "{message}");
    assert!(world.platform_records().is_empty());
    let lines = shell.status_lines();
    assert!(
        lines.iter().any(|l| !l.ok && l.name_zh == "县平台上传"),
        "{lines:?}"
    );

    // The network is back: the next "send now" delivers it.
    proxy.set(ProxyMode::Pass);
    let message = sync_now(&mut shell);
    assert!(message.contains("没有等待上传的记录"), "{message}");
    assert_eq!(world.platform_records().len(), 1);
}

#[test]
fn without_a_platform_everything_is_kept_locally_and_said_so() {
    let world = World::new();
    let (mut shell, photos) = start(settings(&world, None));
    let (record, blobs) = signed_record(51);

    run(&mut shell, Effect::LookUpPerson(id_of(&record)));
    let (answer, _) = wait_for(&mut shell, |e| matches!(e, Event::LookUpAnswered(_)));
    assert_eq!(answer, Event::LookUpAnswered(None));
    assert_eq!(
        enqueue(&mut shell, &photos, &record, &blobs),
        Event::Enqueued(Ok(()))
    );
    let message = sync_now(&mut shell);
    assert!(message.starts_with("未配置县平台"), "{message}");
    let lines = shell.status_lines();
    assert!(
        lines
            .iter()
            .any(|l| !l.ok && l.status_zh.contains("未配置县平台")),
        "{lines:?}"
    );
    assert_eq!(
        state_in_outbox(&world, record.meta.record_id),
        RecordState::Signed
    );
}

#[test]
fn an_enqueue_whose_photos_are_missing_is_refused_and_can_be_retried() {
    let world = World::new();
    let (mut shell, photos) = start(settings(&world, None));
    let (record, blobs) = signed_record(61);

    let refused = enqueue(&mut shell, &photos, &record, &Blobs::new());
    assert!(
        matches!(&refused, Event::Enqueued(Err(m)) if m.contains("记录不会丢失")),
        "{refused:?}"
    );
    assert!(Store::open(&world.outbox_path())
        .unwrap()
        .entry(record.meta.record_id)
        .unwrap()
        .is_none());

    assert_eq!(
        enqueue(&mut shell, &photos, &record, &blobs),
        Event::Enqueued(Ok(()))
    );
}

/// A record in progress: the demo record before signing.
fn draft_record(seed: u64) -> (Record, Blobs) {
    let (mut record, blobs) = signed_record(seed);
    record.meta.state = RecordState::Draft;
    record.signature = None;
    (record, blobs)
}

fn draft_found(shell: &mut RecordsShell, id: &IdNumber) -> Option<Record> {
    run(shell, Effect::LoadDraft(id.clone()));
    match wait_for(shell, |e| matches!(e, Event::DraftFound(_))).0 {
        Event::DraftFound(found) => found.map(|r| *r),
        _ => unreachable!(),
    }
}

#[test]
fn a_draft_comes_back_by_id_number_with_its_photos_and_a_wipe_removes_it() {
    let world = World::new();
    let (mut shell, photos) = start(settings(&world, None));
    let (record, blobs) = draft_record(71);
    let id = id_of(&record);

    *photos.lock().unwrap() = blobs.clone();
    // A photo the record does not name (a retaken one) is not kept.
    photos.lock().unwrap().insert(b"retaken portrait".to_vec());
    run(&mut shell, Effect::SaveDraft(Box::new(record.clone())));
    // Another session ends: its photos go, this draft stays.
    run(&mut shell, Effect::WipeDraft(Uuid::from_u128(99)));
    assert!(photos.lock().unwrap().is_empty());

    assert_eq!(draft_found(&mut shell, &id), Some(record.clone()));
    assert_eq!(*photos.lock().unwrap(), blobs);

    run(&mut shell, Effect::WipeDraft(record.meta.record_id));
    assert!(photos.lock().unwrap().is_empty());
    assert_eq!(draft_found(&mut shell, &id), None);
    assert!(photos.lock().unwrap().is_empty());
}

#[test]
fn a_draft_answer_for_a_session_that_has_ended_is_dropped() {
    let world = World::new();
    let (mut shell, photos) = start(settings(&world, None));
    let (record, blobs) = draft_record(72);
    let id = id_of(&record);
    *photos.lock().unwrap() = blobs;
    run(&mut shell, Effect::SaveDraft(Box::new(record.clone())));

    // Asked, then that session ends before the answer is collected.
    run(&mut shell, Effect::LoadDraft(id.clone()));
    run(&mut shell, Effect::WipeDraft(Uuid::from_u128(98)));
    run(&mut shell, Effect::LoadDraft(id));
    // The store answers in order: once the queue is loaded, both drafts
    // answers have come.
    run(&mut shell, Effect::LoadQueue);
    let (_, before) = wait_for(&mut shell, |e| matches!(e, Event::QueueLoaded(_)));
    let drafts: Vec<&Event> = before
        .iter()
        .filter(|e| matches!(e, Event::DraftFound(_)))
        .collect();
    assert_eq!(drafts, vec![&Event::DraftFound(Some(Box::new(record)))]);
}

#[test]
fn drafts_older_than_the_window_are_not_offered_and_are_wiped_at_start() {
    let world = World::new();
    let (mut shell, photos) = start(settings(&world, None));
    let (record, blobs) = draft_record(73);
    let id = id_of(&record);
    *photos.lock().unwrap() = blobs;
    let saved_at = Utc::now() - Duration::hours(1);
    shell.save_draft(Box::new(record.clone()), saved_at);
    assert_eq!(draft_found(&mut shell, &id), Some(record.clone()));

    // The configuration shortens the window below the draft's age.
    shell.set_draft_window(Duration::minutes(30));
    assert_eq!(draft_found(&mut shell, &id), None);

    // Saved long ago (kiosk clock), then the kiosk restarts.
    let long_ago = Utc::now() - Duration::hours(5);
    shell.save_draft(Box::new(record), long_ago);
    drop(shell);
    assert_eq!(
        Store::open(&world.outbox_path())
            .unwrap()
            .stats()
            .unwrap()
            .drafts,
        1
    );
    let (_shell, _photos) = start(settings(&world, None));
    let mut drafts = 1;
    for _ in 0..200 {
        drafts = Store::open(&world.outbox_path())
            .unwrap()
            .stats()
            .unwrap()
            .drafts;
        if drafts == 0 {
            break;
        }
        thread::sleep(StdDuration::from_millis(50));
    }
    assert_eq!(drafts, 0);
}

#[test]
fn an_outbox_that_cannot_be_written_is_a_clear_error_from_start() {
    let world = World::new();
    let blocker = world.dir.path().join("not-a-directory");
    std::fs::write(&blocker, b"a file").unwrap();
    let mut bad = settings(&world, None);
    bad.db = blocker.join("outbox.sqlite3");
    let photos: SessionPhotos = Arc::new(Mutex::new(Blobs::new()));
    let error = RecordsShell::start(bad, photos).err().unwrap();
    assert_eq!(error.code(), "store_io");
    assert_eq!(error.message_zh(), "保存失败，请联系工作人员");
    assert!(error.to_string().contains("unable to open"), "{error}");
}

fn lines_of(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(String::from)
        .collect()
}

#[test]
fn each_audit_effect_is_one_json_line_without_personal_data() {
    let world = World::new();
    let first = settings(&world, None);
    let audit_log = first.audit_log.clone();
    let (mut shell, photos) = start(first);
    let (record, blobs) = signed_record(81);
    assert_eq!(
        enqueue(&mut shell, &photos, &record, &blobs),
        Event::Enqueued(Ok(()))
    );

    let entries: Vec<AuditEntry> = [
        AuditAction::StaffModeOpened,
        AuditAction::SignatureWitnessed,
        AuditAction::PinLockedOut { seconds: 60 },
        AuditAction::StaffModeClosed,
    ]
    .into_iter()
    .map(|action| AuditEntry {
        at: Utc::now(),
        kiosk_id: "AX-FC-01".into(),
        staff_id: Some("S001".into()),
        action,
    })
    .collect();
    for entry in &entries {
        run(&mut shell, Effect::Audit(entry.clone()));
    }
    // Written as they come, while the kiosk runs.
    let mut lines = Vec::new();
    for _ in 0..200 {
        lines = lines_of(&audit_log);
        if lines.len() >= entries.len() {
            break;
        }
        thread::sleep(StdDuration::from_millis(50));
    }
    let parsed: Vec<AuditEntry> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(parsed, entries);
    let text = std::fs::read_to_string(&audit_log).unwrap();
    assert!(!text.contains(&record.identity.id_number));
    assert!(!text.contains(&record.identity.name));

    // Appended, never truncated: a restarted kiosk adds to the same file.
    drop(shell);
    let (mut shell, _photos) = start(settings(&world, None));
    run(&mut shell, Effect::Audit(entries[0].clone()));
    drop(shell);
    assert_eq!(lines_of(&audit_log).len(), entries.len() + 1);
}

#[test]
fn a_returned_record_is_offered_again_for_the_card_and_its_correction_supersedes_it_at_the_county()
{
    let world = World::new();
    let platform = world.settings(&world.platform.url());
    let (mut shell, photos) = start(settings(&world, Some(platform)));
    // Signed without a saved draft: the store thread tags it after queuing.
    let (record, blobs) = signed_record(41);
    let id = record.meta.record_id;
    let person = id_of(&record);
    assert_eq!(
        enqueue(&mut shell, &photos, &record, &blobs),
        Event::Enqueued(Ok(()))
    );
    sync_now(&mut shell);
    let reason = Problem {
        code: "document_unclear".into(),
        field: Some("documents".into()),
        message: "退役证照片不清晰".into(),
        severity: Default::default(),
    };
    world
        .platform
        .state
        .db()
        .review(id, "县审核员", Some(&[reason]), Utc::now())
        .unwrap();
    sync_now(&mut shell);

    // The person taps their card again: after the draft answer comes the
    // returned record, with the county's reasons.
    run(&mut shell, Effect::LoadDraft(person.clone()));
    let (returned, seen) = wait_for(&mut shell, |e| matches!(e, Event::ReturnedRecordFound(_)));
    assert!(seen.contains(&Event::DraftFound(None)), "{seen:?}");
    let Event::ReturnedRecordFound(returned) = returned else {
        unreachable!()
    };
    assert_eq!(returned.record_id, id);
    assert_eq!(
        returned.record_number,
        veteran_kiosk::store::record_number(&id)
    );
    assert_eq!(returned.reasons_zh, vec!["退役证照片不清晰".to_string()]);

    // The new record names it; the county marks the returned one superseded.
    let mut fix = record.clone();
    fix.meta.record_id = Uuid::new_v4();
    fix.meta.supersedes = Some(id);
    assert_eq!(
        enqueue(&mut shell, &photos, &fix, &blobs),
        Event::Enqueued(Ok(()))
    );
    sync_now(&mut shell);
    let county: Vec<(Uuid, String)> = world
        .platform_records()
        .into_iter()
        .map(|r| (r.record_id, r.state))
        .collect();
    assert!(
        county.contains(&(id, "superseded".to_string())),
        "{county:?}"
    );
    assert!(
        county.contains(&(fix.meta.record_id, "received".to_string())),
        "{county:?}"
    );
    assert_eq!(state_in_outbox(&world, id), RecordState::Superseded);

    // Nothing is returned any more for this card.
    run(&mut shell, Effect::LoadDraft(person));
    run(&mut shell, Effect::LoadQueue);
    let (_, seen) = wait_for(&mut shell, |e| matches!(e, Event::QueueLoaded(_)));
    assert!(seen.contains(&Event::DraftFound(None)), "{seen:?}");
    assert!(
        !seen
            .iter()
            .any(|e| matches!(e, Event::ReturnedRecordFound(_))),
        "{seen:?}"
    );
}

//! The outbox: durable, idempotent enqueue of sealed records; the clear
//! part; states; drafts; nothing personal in the clear.

use std::fs;

use chrono::{DateTime, Duration, Utc};
use expect_test::expect;
use kiosk_core::id_number::IdNumber;
use kiosk_core::record::{self, Record, RecordState, ValidRecord};
use kiosk_core::Problem;
use trust::seal;
use veteran_kiosk::cli::demo::{allowed_selections, generate, DemoOptions, PhotoPool};
use veteran_kiosk::store::{Blobs, ListFilter, LocalKey, Store};
use veteran_kiosk::sync::core::StoreAction;
use veteran_kiosk::sync::worker::apply;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-30T08:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn records(n: usize) -> Vec<(Record, Blobs)> {
    let options = DemoOptions {
        seed: 11,
        kiosk_id: "AX-FC-01".into(),
        now: now(),
    };
    let selections = allowed_selections();
    let mut pool = PhotoPool::default();
    // Spread over the combinations so categories vary.
    (0..n)
        .map(|i| generate(i * 37, &selections, &options, &mut pool))
        .collect()
}

fn valid(record: &Record) -> ValidRecord {
    record::validate(record, now().date_naive()).unwrap()
}

struct Fixture {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    store: Store,
    platform: age::x25519::Identity,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.sqlite3");
    let store = Store::open(&path).unwrap();
    Fixture {
        _dir: dir,
        path,
        store,
        platform: age::x25519::Identity::generate(),
    }
}

#[test]
fn a_queued_record_opens_with_the_platform_key_photos_included() {
    let mut f = fixture();
    let (record, blobs) = records(1).remove(0);
    let receipt = f
        .store
        .enqueue(&valid(&record), &blobs, &f.platform.to_public())
        .unwrap();
    assert!(receipt.newly_queued);
    assert_eq!(receipt.record_id, record.meta.record_id);

    let upload = f.store.sealed(record.meta.record_id).unwrap().unwrap();
    let (opened, opened_blobs): (Record, Blobs) = seal::open(&upload.sealed, &f.platform).unwrap();
    assert_eq!(opened, record);
    assert_eq!(opened_blobs, blobs);
    assert!(seal::open::<Record>(&upload.sealed, &age::x25519::Identity::generate()).is_err());
}

#[test]
fn the_clear_part_holds_no_name_no_full_id_number_no_address() {
    let mut f = fixture();
    let batch = records(5);
    for (record, blobs) in &batch {
        f.store
            .enqueue(&valid(record), blobs, &f.platform.to_public())
            .unwrap();
    }
    drop(f.store);
    let mut bytes = fs::read(&f.path).unwrap();
    if let Ok(wal) = fs::read(f.path.with_extension("sqlite3-wal")) {
        bytes.extend(wal);
    }
    for (record, _) in &batch {
        for secret in [
            &record.identity.name,
            &record.identity.id_number,
            &record.identity.address,
        ] {
            let needle = secret.as_bytes();
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "personal data in the outbox file"
            );
        }
    }
}

#[test]
fn enqueue_is_idempotent_and_refuses_a_different_record_under_the_same_id() {
    let mut f = fixture();
    let (record, blobs) = records(1).remove(0);
    let first = f
        .store
        .enqueue(&valid(&record), &blobs, &f.platform.to_public())
        .unwrap();
    let again = f
        .store
        .enqueue(&valid(&record), &blobs, &f.platform.to_public())
        .unwrap();
    assert!(!again.newly_queued);
    assert_eq!(again.record_number, first.record_number);
    assert_eq!(f.store.list(&ListFilter::default()).unwrap().len(), 1);

    let mut changed = record.clone();
    changed.living.monthly_income_yuan = Some(changed.living.monthly_income_yuan.unwrap_or(0) + 1);
    let err = f
        .store
        .enqueue(&valid(&changed), &blobs, &f.platform.to_public())
        .unwrap_err();
    assert_eq!(err.code(), "record_conflict");
}

#[test]
fn a_missing_or_wrong_photo_or_an_unsigned_record_is_refused() {
    let mut f = fixture();
    let (record, blobs) = records(1).remove(0);
    let err = f
        .store
        .enqueue(&valid(&record), &Blobs::new(), &f.platform.to_public())
        .unwrap_err();
    assert_eq!(
        (err.code(), err.to_string().as_str()),
        (
            "photo_missing",
            "photo photos.portrait is missing or does not match the record"
        )
    );

    let mut draft = record.clone();
    draft.meta.state = RecordState::Draft;
    let err = f
        .store
        .enqueue(&valid(&draft), &blobs, &f.platform.to_public())
        .unwrap_err();
    assert_eq!(err.code(), "not_signed");
    assert!(f.store.list(&ListFilter::default()).unwrap().is_empty());
}

#[test]
fn states_move_forward_only_and_a_correction_supersedes() {
    let mut f = fixture();
    let batch = records(3);
    for (record, blobs) in &batch {
        f.store
            .enqueue(&valid(record), blobs, &f.platform.to_public())
            .unwrap();
    }
    let [a, b, c] = [0, 1, 2].map(|i| batch[i].0.meta.record_id);
    let reasons = vec![Problem {
        code: "photo_unclear".into(),
        field: Some("photos.portrait".into()),
        message: "照片不清晰".into(),
        severity: Default::default(),
    }];
    let t = now();
    for action in [
        StoreAction::MarkSent(a),
        StoreAction::MarkSent(b),
        StoreAction::MarkAccepted(a),
        StoreAction::MarkRejected(b, reasons.clone()),
        // Replays and out-of-order actions change nothing.
        StoreAction::MarkSent(a),
        StoreAction::MarkAccepted(c),
        StoreAction::KeepForRetry(c),
    ] {
        apply(&mut f.store, &action, t).unwrap();
    }
    let state = |id| f.store.entry(id).unwrap().unwrap().state;
    assert_eq!(
        [state(a), state(b), state(c)],
        [
            RecordState::Accepted,
            RecordState::Rejected,
            RecordState::Signed
        ]
    );
    assert_eq!(f.store.entry(b).unwrap().unwrap().reasons, reasons);
    assert_eq!(f.store.pending().unwrap(), vec![c]);

    // Staff correct the rejected record: a new record naming it.
    let (mut fix, blobs) = batch[1].clone();
    fix.meta.supersedes = Some(b);
    fix.meta.record_id = uuid::Uuid::new_v4();
    f.store
        .enqueue(&valid(&fix), &blobs, &f.platform.to_public())
        .unwrap();
    let old = f.store.entry(b).unwrap().unwrap();
    assert_eq!(
        (old.state, old.superseded_by),
        (RecordState::Superseded, Some(fix.meta.record_id))
    );
    assert_eq!(
        f.store
            .entry(fix.meta.record_id)
            .unwrap()
            .unwrap()
            .supersedes,
        Some(b)
    );
}

#[test]
fn list_stats_and_show_give_the_clear_part() {
    let mut f = fixture();
    let batch = records(4);
    for (record, blobs) in &batch {
        f.store
            .enqueue(&valid(record), blobs, &f.platform.to_public())
            .unwrap();
    }
    apply(
        &mut f.store,
        &StoreAction::MarkSent(batch[0].0.meta.record_id),
        now(),
    )
    .unwrap();

    let all = f.store.list(&ListFilter::default()).unwrap();
    assert_eq!(all.len(), 4);
    assert!(all.windows(2).all(|w| w[0].seq > w[1].seq), "newest first");
    let page = f
        .store
        .list(&ListFilter {
            before_seq: Some(all[1].seq),
            limit: Some(1),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].seq, all[2].seq);
    let sent = f
        .store
        .list(&ListFilter {
            state: Some(RecordState::Sent),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(sent.len(), 1);

    let entry = &all[0];
    let typed = entry.record_number.to_lowercase().replace('-', " ");
    assert_eq!(f.store.show(&typed).unwrap().as_ref(), Some(entry));
    assert_eq!(f.store.show("0000-0000-0000").unwrap(), None);
    let id = IdNumber::parse_structure(&batch[3].0.identity.id_number).unwrap();
    assert_eq!(entry.masked_id, id.masked());

    let stats = f.store.stats().unwrap();
    let expected_categories: usize = batch.iter().map(|(r, _)| r.categories.len()).sum();
    assert_eq!(stats.total, 4);
    assert_eq!(
        stats.by_category.values().sum::<u64>() as usize,
        expected_categories
    );
    expect![[r#"{"by_state":{"sent":1,"signed":3},"drafts":0,"total":4,"township":{"350524100 凤城镇":4}}"#]].assert_eq(
        &serde_json::json!({
            "total": stats.total,
            "by_state": stats.by_state,
            "township": stats.by_township,
            "drafts": stats.drafts,
        })
        .to_string(),
    );
    assert!(stats.oldest_unsent_signed_at.is_some());
}

#[test]
fn drafts_resume_by_card_within_the_window_and_are_wiped_after() {
    let f = fixture();
    let key = LocalKey::generate();
    let (mut draft, photos) = records(1).remove(0);
    draft.meta.state = RecordState::Draft;
    draft.signature = None;
    // Photos the record does not (or no longer) name are not kept.
    let mut with_stray = photos.clone();
    with_stray.insert(b"a retaken portrait".to_vec());
    let id = IdNumber::parse_structure(&draft.identity.id_number).unwrap();
    let window = Duration::minutes(30);
    let t0 = now();

    f.store.save_draft(&key, &draft, &with_stray, t0).unwrap();
    assert_eq!(
        f.store
            .load_draft(&key, &id, t0 + Duration::minutes(29), window)
            .unwrap(),
        Some((draft.clone(), photos.clone()))
    );
    // Another kiosk's key cannot find or read it.
    assert_eq!(
        f.store
            .load_draft(&LocalKey::generate(), &id, t0, window)
            .unwrap(),
        None
    );
    // Saving again refreshes the window.
    f.store
        .save_draft(&key, &draft, &photos, t0 + Duration::minutes(20))
        .unwrap();
    assert!(f
        .store
        .load_draft(&key, &id, t0 + Duration::minutes(45), window)
        .unwrap()
        .is_some());
    // Past the window it is gone for good.
    assert_eq!(
        f.store
            .load_draft(&key, &id, t0 + Duration::minutes(51), window)
            .unwrap(),
        None
    );
    assert_eq!(f.store.stats().unwrap().drafts, 0);

    f.store.save_draft(&key, &draft, &photos, t0).unwrap();
    assert!(f.store.wipe_draft(draft.meta.record_id).unwrap());
    assert!(!f.store.wipe_draft(draft.meta.record_id).unwrap());
}

#[test]
fn signing_wipes_the_draft_and_the_draft_is_encrypted_at_rest() {
    let mut f = fixture();
    let key = LocalKey::generate();
    let (record, blobs) = records(1).remove(0);
    let mut draft = record.clone();
    draft.meta.state = RecordState::Draft;
    f.store.save_draft(&key, &draft, &blobs, now()).unwrap();
    let bytes = fs::read(&f.path).unwrap();
    let wal = fs::read(f.path.with_extension("sqlite3-wal")).unwrap_or_default();
    let name = draft.identity.name.as_bytes();
    assert!(!bytes
        .windows(name.len())
        .chain(wal.windows(name.len()))
        .any(|w| w == name));

    f.store
        .enqueue(&valid(&record), &blobs, &f.platform.to_public())
        .unwrap();
    assert_eq!(f.store.stats().unwrap().drafts, 0);
}

#[test]
fn the_local_key_file_is_created_once_and_reused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kiosk-local.key");
    let id = IdNumber::parse_structure("11010519491231002X").unwrap();
    let a = LocalKey::load_or_create(&path).unwrap();
    let b = LocalKey::load_or_create(&path).unwrap();
    assert_eq!(a.lookup_tag(&id), b.lookup_tag(&id));
    assert_ne!(a.lookup_tag(&id), LocalKey::generate().lookup_tag(&id));
    fs::write(&path, "garbage").unwrap();
    assert_eq!(
        LocalKey::load_or_create(&path).err().map(|e| e.code()),
        Some("key_file")
    );
}

#[test]
fn a_returned_record_is_found_again_by_the_card_until_a_correction_replaces_it() {
    let mut f = fixture();
    let key = LocalKey::generate();
    let batch = records(2);
    let (record, blobs) = batch[0].clone();
    let id = IdNumber::parse_structure(&record.identity.id_number).unwrap();
    // Signed from a saved draft: the draft's tag moves to the record.
    let mut draft = record.clone();
    draft.meta.state = RecordState::Draft;
    f.store.save_draft(&key, &draft, &blobs, now()).unwrap();
    f.store
        .enqueue(&valid(&record), &blobs, &f.platform.to_public())
        .unwrap();
    // Already tagged from the draft: nothing to do.
    assert!(!f
        .store
        .tag_record(&key, record.meta.record_id, &id)
        .unwrap());
    // Signed without a draft: tagged afterwards.
    let (other, other_blobs) = batch[1].clone();
    let other_id = IdNumber::parse_structure(&other.identity.id_number).unwrap();
    f.store
        .enqueue(&valid(&other), &other_blobs, &f.platform.to_public())
        .unwrap();
    assert!(f
        .store
        .tag_record(&key, other.meta.record_id, &other_id)
        .unwrap());

    // Not returned (yet): nothing to reopen.
    assert_eq!(f.store.returned_record(&key, &id).unwrap(), None);
    let reasons = vec![Problem {
        code: "document_unclear".into(),
        field: Some("documents".into()),
        message: "退役证照片不清晰".into(),
        severity: Default::default(),
    }];
    let t = now();
    apply(
        &mut f.store,
        &StoreAction::MarkSent(record.meta.record_id),
        t,
    )
    .unwrap();
    apply(
        &mut f.store,
        &StoreAction::MarkRejected(record.meta.record_id, reasons.clone()),
        t,
    )
    .unwrap();
    let found = f.store.returned_record(&key, &id).unwrap().unwrap();
    assert_eq!(
        (found.record_id, found.reasons),
        (record.meta.record_id, reasons)
    );
    // Only with this kiosk's key, and only for this person.
    assert_eq!(
        f.store.returned_record(&LocalKey::generate(), &id).unwrap(),
        None
    );
    assert_eq!(f.store.returned_record(&key, &other_id).unwrap(), None);
    // Found again after a restart (the tag is in the database).
    drop(f.store);
    f.store = Store::open(&f.path).unwrap();
    assert!(f.store.returned_record(&key, &id).unwrap().is_some());

    // The new record supersedes it: nothing returned any more.
    let mut fix = record.clone();
    fix.meta.record_id = uuid::Uuid::new_v4();
    fix.meta.supersedes = Some(record.meta.record_id);
    f.store
        .enqueue(&valid(&fix), &blobs, &f.platform.to_public())
        .unwrap();
    f.store.tag_record(&key, fix.meta.record_id, &id).unwrap();
    assert_eq!(f.store.returned_record(&key, &id).unwrap(), None);
    // The tag is a keyed hash: the clear ID number is not in the file.
    let bytes = fs::read(&f.path).unwrap();
    let wal = fs::read(f.path.with_extension("sqlite3-wal")).unwrap_or_default();
    let number = record.identity.id_number.as_bytes();
    assert!(!bytes
        .windows(number.len())
        .chain(wal.windows(number.len()))
        .any(|w| w == number));
}

//! Each network fault is survived: refused, reset mid-body, timeout, 5xx,
//! an answer lost after the platform stored the record, and rejection at
//! upload and in review. Real platform, real TLS, loopback only.

use crate::sync_support;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use chrono::Utc;
use kiosk_core::record::{self, RecordState};
use kiosk_core::Problem;
use sync_support::{demo_records, enqueue_all, FaultProxy, ProxyMode, World};
use veteran_kiosk::store::{ListFilter, Store};
use veteran_kiosk::sync::client::PlatformClient;
use veteran_kiosk::sync::core::{RetryPolicy, SyncState};
use veteran_kiosk::sync::worker::{run_once, SyncFailure, SyncHandle, SyncReport};

fn once(store: &mut Store, client: &PlatformClient) -> SyncReport {
    run_once(store, client, &RetryPolicy::default(), &Utc::now).unwrap()
}

fn states(store: &Store) -> Vec<RecordState> {
    let mut s: Vec<RecordState> = store
        .list(&ListFilter::default())
        .unwrap()
        .iter()
        .map(|e| e.state)
        .collect();
    s.sort_by_key(|s| format!("{s:?}"));
    s
}

/// After a fault: a clean pass sends everything, each record once.
fn then_recovers(world: &World, store: &mut Store, expected: usize) {
    let report = once(store, &world.client());
    assert_eq!(report.pending, 0, "{report:?}");
    assert_eq!(store.pending().unwrap().len(), 0);
    let on_platform = world.platform_records();
    assert_eq!(on_platform.len(), expected);
    let mut ids: Vec<_> = on_platform.iter().map(|r| r.record_id).collect();
    ids.dedup();
    assert_eq!(ids.len(), expected, "duplicates on the platform");
}

#[test]
fn connection_refused_is_retried_later() {
    let world = World::new();
    let mut store = world.store();
    enqueue_all(&mut store, &demo_records(2, 1), &world.recipient());
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let client = PlatformClient::new(&world.settings(&format!("https://{closed}"))).unwrap();

    let report = once(&mut store, &client);
    assert_eq!(report.last_failure, Some(SyncFailure::ConnectionRefused));
    assert_eq!((report.retries, report.pending), (1, 2));
    assert!(report.next_attempt.is_some());
    assert_eq!(
        store.sync_state::<SyncState>().unwrap().unwrap().failures,
        1
    );
    then_recovers(&world, &mut store, 2);
    assert_eq!(
        store.sync_state::<SyncState>().unwrap().unwrap().failures,
        0
    );
}

#[test]
fn a_connection_reset_mid_body_stores_nothing_and_is_retried() {
    let world = World::new();
    let mut store = world.store();
    enqueue_all(&mut store, &demo_records(2, 2), &world.recipient());
    let proxy = FaultProxy::start(world.platform.addr);
    proxy.set(ProxyMode::ResetAfter(20_000));
    let client = PlatformClient::new(&world.settings(&proxy.url())).unwrap();

    let report = once(&mut store, &client);
    assert_eq!(
        report.last_failure,
        Some(SyncFailure::ConnectionReset),
        "{report:?}"
    );
    assert_eq!(report.pending, 2);
    assert!(world.platform_records().is_empty());

    proxy.set(ProxyMode::Pass);
    let report = once(&mut store, &client);
    assert_eq!((report.uploaded, report.pending), (2, 0), "{report:?}");
    assert_eq!(world.platform_records().len(), 2);
}

#[test]
fn a_platform_that_never_answers_times_out_and_is_retried() {
    let world = World::new();
    let mut store = world.store();
    enqueue_all(&mut store, &demo_records(1, 3), &world.recipient());
    let proxy = FaultProxy::start(world.platform.addr);
    proxy.set(ProxyMode::Blackhole);
    let mut settings = world.settings(&proxy.url());
    settings.request_timeout = Duration::from_secs(1);
    let client = PlatformClient::new(&settings).unwrap();

    let started = Instant::now();
    let report = once(&mut store, &client);
    assert_eq!(
        report.last_failure,
        Some(SyncFailure::Timeout),
        "{report:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    then_recovers(&world, &mut store, 1);
}

#[test]
fn server_errors_are_retried() {
    let world = World::new();
    let mut store = world.store();
    enqueue_all(&mut store, &demo_records(2, 4), &world.recipient());
    world.faults.unavailable.store(1, Ordering::SeqCst);
    let report = once(&mut store, &world.client());
    assert_eq!(report.last_failure, Some(SyncFailure::ServerError(503)));
    assert_eq!(report.pending, 2);
    then_recovers(&world, &mut store, 2);
}

#[test]
fn an_answer_lost_after_the_platform_stored_the_record_gives_no_duplicate() {
    let world = World::new();
    let mut store = world.store();
    enqueue_all(&mut store, &demo_records(1, 5), &world.recipient());
    world.faults.hang_after_store.store(1, Ordering::SeqCst);
    let mut settings = world.settings(&world.platform.url());
    settings.request_timeout = Duration::from_secs(1);
    let report = once(&mut store, &PlatformClient::new(&settings).unwrap());
    assert_eq!(report.last_failure, Some(SyncFailure::Timeout));
    assert_eq!(report.pending, 1, "the kiosk does not know it got through");
    assert_eq!(world.platform_records().len(), 1, "but the platform has it");
    then_recovers(&world, &mut store, 1);
}

#[test]
fn a_record_the_platform_finds_invalid_is_rejected_with_its_reasons() {
    let world = World::new();
    let mut store = world.store();
    // A kiosk whose clock ran a year ahead: the record checked out then,
    // but the platform sees a date in the future.
    let (mut record, blobs) = demo_records(1, 6).remove(0);
    let ahead = Utc::now().date_naive() + chrono::Duration::days(365);
    record.living.monthly_income_yuan = Some(1000);
    if let Some(v) = record.identity.valid_from.as_mut() {
        *v = Utc::now().date_naive() + chrono::Duration::days(10);
        if let Some(card) = record.identity.card.as_mut() {
            card.valid_from = *v;
        }
    }
    let valid = record::validate(&record, ahead).unwrap();
    store.enqueue(&valid, &blobs, &world.recipient()).unwrap();

    let report = once(&mut store, &world.client());
    assert_eq!((report.rejected_on_upload, report.pending), (1, 0));
    let entry = store.entry(record.meta.record_id).unwrap().unwrap();
    assert_eq!(entry.state, RecordState::Rejected);
    let codes: Vec<(&str, Option<&str>)> = entry
        .reasons
        .iter()
        .map(|r| (r.code.as_str(), r.field.as_deref()))
        .collect();
    assert_eq!(codes, [("date_in_future", Some("identity.valid_from"))]);
    // The platform keeps it, rejected, and says so again on a repeat.
    let upload = store.sealed(record.meta.record_id).unwrap().unwrap();
    assert!(matches!(
        world.client().upload(&upload),
        veteran_kiosk::sync::core::UploadOutcome::Rejected(_)
    ));
    assert_eq!(world.platform_records()[0].state, "rejected");
}

#[test]
fn a_record_sealed_to_the_wrong_key_is_rejected_not_retried_forever() {
    let world = World::new();
    let mut store = world.store();
    let records = demo_records(1, 7);
    enqueue_all(
        &mut store,
        &records,
        &age::x25519::Identity::generate().to_public(),
    );
    let report = once(&mut store, &world.client());
    assert_eq!(report.rejected_on_upload, 1);
    let entry = store.entry(records[0].0.meta.record_id).unwrap().unwrap();
    assert_eq!(entry.reasons[0].code, "sealed_unreadable");
    assert!(world.platform_records().is_empty());
}

#[test]
fn review_outcomes_are_polled_back() {
    let world = World::new();
    let mut store = world.store();
    let records = demo_records(3, 8);
    enqueue_all(&mut store, &records, &world.recipient());
    let report = once(&mut store, &world.client());
    assert_eq!((report.uploaded, report.awaiting_review), (3, 3));

    let [a, b, _c] = [0, 1, 2].map(|i| records[i].0.meta.record_id);
    let reasons = vec![Problem {
        code: "photo_unclear".into(),
        field: Some("photos.portrait".into()),
        message: "照片不清晰，请重新拍摄".into(),
        severity: Default::default(),
    }];
    let db = world.platform.state.db();
    db.review(a, "reviewer-1", None, Utc::now()).unwrap();
    db.review(b, "reviewer-1", Some(&reasons), Utc::now())
        .unwrap();
    drop(db);

    let report = once(&mut store, &world.client());
    assert_eq!(
        (
            report.accepted,
            report.rejected_in_review,
            report.awaiting_review
        ),
        (1, 1, 1)
    );
    assert_eq!(
        store.entry(a).unwrap().unwrap().state,
        RecordState::Accepted
    );
    let rejected = store.entry(b).unwrap().unwrap();
    assert_eq!(
        (rejected.state, rejected.reasons),
        (RecordState::Rejected, reasons)
    );
    assert_eq!(
        states(&store),
        [
            RecordState::Accepted,
            RecordState::Rejected,
            RecordState::Sent
        ]
    );
}

#[test]
fn the_background_worker_sends_a_nudged_record_through_server_errors() {
    let world = World::new();
    world.faults.unavailable.store(3, Ordering::SeqCst);
    let policy = RetryPolicy {
        initial: chrono::Duration::milliseconds(100),
        cap: chrono::Duration::milliseconds(400),
        review_poll_interval: chrono::Duration::seconds(60),
    };
    let handle = SyncHandle::spawn(world.outbox_path_created(), world.client(), policy).unwrap();
    let mut store = world.store();
    enqueue_all(&mut store, &demo_records(1, 9), &world.recipient());
    handle.nudge();
    let deadline = Instant::now() + Duration::from_secs(20);
    while world.platform_records().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(world.platform_records().len(), 1);
    while handle.status().pending > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        world.faults.unavailable.load(Ordering::SeqCst),
        0,
        "all three 503s were met"
    );
    handle.stop().unwrap();
    assert_eq!(store.pending().unwrap().len(), 0);
}

trait OutboxPath {
    fn outbox_path_created(&self) -> std::path::PathBuf;
}

impl OutboxPath for World {
    fn outbox_path_created(&self) -> std::path::PathBuf {
        drop(self.store());
        self.outbox_path()
    }
}

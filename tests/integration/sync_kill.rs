//! No loss and no duplicate over repeated `kill -9` of the kiosk process
//! during enqueue and during upload, at random moments.
//!
//! The kiosk runs as the real binary (`queue add`, `sync --once`); the
//! platform runs in this process on loopback. A seeded generator picks what
//! to run and when to kill it; the seed is printed, and `KILL_TEST_SEED=<n>`
//! replays a run.

use crate::sync_support;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kiosk_core::record::{Record, RecordState};
use sync_support::{path_str, World};
use trust::seal;
use veteran_kiosk::cli::demo::{write_records, DemoOptions};
use veteran_kiosk::store::{ListFilter, Store};
use veteran_kiosk::sync::core::SplitMix64;

const RECORDS: usize = 40;
const ROUNDS: usize = 80;

fn kiosk() -> Command {
    Command::new(env!("CARGO_BIN_EXE_veteran-kiosk"))
}

/// Runs `cmd`, killing it (SIGKILL) after `kill_after` unless it finished;
/// returns its exit code if it finished.
fn run_or_kill(mut cmd: Command, kill_after: Duration) -> Option<i32> {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + kill_after;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        if Instant::now() >= deadline {
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            return None;
        }
        std::thread::sleep(Duration::from_micros(500));
    }
}

fn add(world: &World, data: &Path, file: &Path) -> Command {
    let mut cmd = kiosk();
    cmd.args([
        "queue",
        "--data-dir",
        &path_str(data),
        "add",
        &path_str(file),
        "--recipient",
    ])
    .arg(&world.pki.platform_age_recipient);
    cmd
}

fn sync(world: &World, data: &Path) -> Command {
    let mut cmd = kiosk();
    cmd.args([
        "sync",
        "--once",
        "--timeout",
        "10",
        "--data-dir",
        &path_str(data),
    ])
    .args([
        "--platform",
        &world.platform.url(),
        "--pki",
        &path_str(&world.pki.dir),
    ]);
    cmd
}

/// What the kiosk's outbox holds, checked for integrity.
fn kiosk_ids(outbox: &Path) -> BTreeSet<uuid::Uuid> {
    if !outbox.exists() {
        return BTreeSet::new();
    }
    let conn = rusqlite::Connection::open(outbox).unwrap();
    let ok: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    drop(conn);
    let store = Store::open(outbox).unwrap();
    let entries = store.list(&ListFilter::default()).unwrap();
    let ids: BTreeSet<_> = entries.iter().map(|e| e.record_id).collect();
    assert_eq!(ids.len(), entries.len(), "a record twice in the outbox");
    ids
}

#[test]
fn kill_9_during_enqueue_and_upload_loses_and_duplicates_nothing() {
    let seed = std::env::var("KILL_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| uuid::Uuid::new_v4().as_u64_pair().0);
    println!("kill test seed: {seed} (replay with KILL_TEST_SEED={seed})");
    let mut rng = SplitMix64(seed);
    let started = Instant::now();

    let world = World::new();
    let records_dir = world.dir.path().join("records");
    let options = DemoOptions {
        seed,
        kiosk_id: "AX-FC-01".into(),
        now: chrono::Utc::now(),
    };
    let files = write_records(&records_dir, RECORDS, &options).unwrap();
    let records: Vec<Record> = files
        .iter()
        .map(|f| serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap())
        .collect();
    let data = world.dir.path().join("kiosk");
    let outbox = data.join("outbox.sqlite3");

    let mut acknowledged = BTreeSet::new();
    let mut next = 0usize;
    let (mut adds_killed, mut syncs_killed, mut cut_after_store) = (0, 0, 0);
    for round in 0..ROUNDS {
        let enqueue = next < RECORDS && (rng.next_u64() % 3 != 0 || round < 3);
        if enqueue {
            let kill_after = Duration::from_micros(rng.next_u64() % 60_000);
            match run_or_kill(add(&world, &data, &files[next]), kill_after) {
                Some(0) => {
                    acknowledged.insert(records[next].meta.record_id);
                    next += 1;
                }
                Some(code) => panic!("round {round}: queue add exited {code}"),
                // Killed: staff will enter the same record again.
                None => adds_killed += 1,
            }
        } else {
            let kill_after = Duration::from_micros(rng.next_u64() % 120_000);
            match run_or_kill(sync(&world, &data), kill_after) {
                Some(0 | 1) => {}
                Some(code) => panic!("round {round}: sync exited {code}"),
                None => syncs_killed += 1,
            }
        }
        let in_kiosk = kiosk_ids(&outbox);
        assert!(
            acknowledged.is_subset(&in_kiosk),
            "round {round}: an acknowledged record is lost"
        );
        let on_platform: BTreeSet<_> = world
            .platform_records()
            .iter()
            .map(|r| r.record_id)
            .collect();
        assert!(
            on_platform.is_subset(&in_kiosk),
            "round {round}: the platform has a record the kiosk lost"
        );
        // Killed between the platform's commit and the kiosk's: the next
        // sync must send it again and be told "already stored".
        let pending: BTreeSet<_> = Store::open(&outbox)
            .map(|s| s.pending().unwrap())
            .unwrap_or_default()
            .into_iter()
            .collect();
        cut_after_store += on_platform.intersection(&pending).count();
    }

    // Staff enter whatever is left; then the kiosk syncs until done.
    for (file, record) in files.iter().zip(&records).skip(next) {
        assert_eq!(
            run_or_kill(add(&world, &data, file), Duration::from_secs(60)),
            Some(0)
        );
        acknowledged.insert(record.meta.record_id);
    }
    let mut passes = 0;
    while run_or_kill(sync(&world, &data), Duration::from_secs(120)) != Some(0) {
        passes += 1;
        assert!(passes < 5, "sync does not finish");
    }

    let store = Store::open(&outbox).unwrap();
    let entries = store.list(&ListFilter::default()).unwrap();
    assert_eq!(
        entries.len(),
        RECORDS,
        "each record exactly once in the outbox"
    );
    assert!(entries.iter().all(|e| e.state == RecordState::Sent));
    let on_platform = world.platform_records();
    assert_eq!(
        on_platform.len(),
        RECORDS,
        "each record exactly once on the platform"
    );
    let identity = world.identity();
    for record in &records {
        let sealed = world
            .platform
            .state
            .db()
            .sealed(record.meta.record_id)
            .unwrap()
            .expect("on the platform");
        let (opened, _): (Record, _) = seal::open(&sealed, &identity).unwrap();
        assert_eq!(
            &opened, record,
            "the platform's copy is the record as entered"
        );
    }
    println!(
        "{ROUNDS} rounds: {adds_killed} enqueues and {syncs_killed} uploads killed, \
         {cut_after_store} records caught stored upstream but not marked sent; {} s",
        started.elapsed().as_secs()
    );
    assert!(
        adds_killed + syncs_killed >= 10,
        "too few kills to mean anything"
    );
}

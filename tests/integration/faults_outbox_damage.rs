//! A damaged outbox found at start, on real outbox files and the real
//! binary: a torn page (512 bytes overwritten in the middle of a b-tree
//! page of the records table), a write-ahead log cut mid-frame after a
//! power cut, a garbage header, and the kiosk's start-up screen.
//!
//! Each case checks the same promises: the damage is found (`queue
//! check`), the damaged files are set aside byte for byte, every readable
//! record is kept in a fresh outbox (and opens to exactly what was
//! queued), the records that are not are counted and named, no new record
//! is queued until a technician acknowledges, and numbering goes on after
//! the lost records.

use crate::config_support;
use crate::sync_support::{kiosk, path_str};

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use i_slint_backend_testing::{TestingBackend, TestingBackendOptions};
use rusqlite::Connection;
use serde_json::Value;
use slint::ComponentHandle;
use uuid::Uuid;

use kiosk_core::record::{self, Record, ValidRecord};
use veteran_kiosk::cli::demo::{allowed_selections, generate, DemoOptions, PhotoPool};
use veteran_kiosk::kiosk::boot::KioskPaths;
use veteran_kiosk::kiosk::{self};
use veteran_kiosk::store::damage::{self, DAMAGED_DIR};
use veteran_kiosk::store::{Blobs, Store};
use veteran_kiosk::ui::AttractView;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-30T08:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn records(n: usize, seed: u64) -> Vec<(Record, Blobs)> {
    let options = DemoOptions {
        seed,
        kiosk_id: "AX-FC-01".into(),
        now: now(),
    };
    let mut pool = PhotoPool::default();
    let selections = allowed_selections();
    (0..n)
        .map(|i| generate(i * 41 + 7, &selections, &options, &mut pool))
        .collect()
}

fn valid(record: &Record) -> ValidRecord {
    record::validate(record, now().date_naive()).unwrap()
}

/// `n` records queued into `<data>/outbox.sqlite3` (the store closed after).
fn queued_outbox(
    data: &Path,
    n: usize,
    seed: u64,
) -> (Vec<(Record, Blobs)>, age::x25519::Identity) {
    let platform = age::x25519::Identity::generate();
    fs::create_dir_all(data).unwrap();
    let made = records(n, seed);
    let mut store = Store::open(&data.join("outbox.sqlite3")).unwrap();
    for (record, blobs) in &made {
        store
            .enqueue(&valid(record), blobs, &platform.to_public())
            .unwrap();
    }
    (made, platform)
}

fn check(data: &Path) -> (i32, Value) {
    kiosk(&["queue", "--data-dir", &path_str(data), "check"])
}

/// The record ids in an outbox, each opened with the platform's key and
/// compared with what was queued.
fn opened_ids(
    outbox: &Path,
    platform: &age::x25519::Identity,
    made: &[(Record, Blobs)],
) -> BTreeSet<Uuid> {
    let store = Store::open(outbox).unwrap();
    let entries = store
        .list(&veteran_kiosk::store::ListFilter::default())
        .unwrap();
    let mut ids = BTreeSet::new();
    for entry in entries {
        let upload = store.sealed(entry.record_id).unwrap().unwrap();
        let (opened, blobs): (Record, Blobs) = trust::seal::open(&upload.sealed, platform).unwrap();
        let original = made
            .iter()
            .find(|(r, _)| r.meta.record_id == opened.meta.record_id)
            .expect("an outbox record that was never queued");
        assert_eq!(&opened, &original.0, "kept record differs");
        assert_eq!(&blobs, &original.1, "kept photos differ");
        ids.insert(entry.record_id);
    }
    ids
}

fn integrity(path: &Path) -> String {
    let conn = Connection::open(path).unwrap();
    conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap()
}

fn damaged_copy(report: &Value) -> PathBuf {
    PathBuf::from(report["salvage"]["damaged_copy"].as_str().unwrap())
}

/// A paper record for `queue add`, with its photos beside it.
fn paper_record(dir: &Path, record: &Record, blobs: &Blobs) -> PathBuf {
    let photos = dir.join("photos");
    fs::create_dir_all(&photos).unwrap();
    for (sha, bytes) in blobs.iter() {
        fs::write(photos.join(format!("{sha}.jpg")), bytes).unwrap();
    }
    let path = dir.join("record.json");
    fs::write(&path, serde_json::to_vec(record).unwrap()).unwrap();
    path
}

/// The damaged outbox stops new records until a technician acknowledges;
/// then the next record is queued after every number used before.
fn queue_add_waits_for_acknowledgement(data: &Path, platform: &age::x25519::Identity, seed: u64) {
    let scratch = tempfile::tempdir().unwrap();
    let (record, blobs) = records(1, seed).pop().unwrap();
    let path = paper_record(scratch.path(), &record, &blobs);
    let recipient = platform.to_public().to_string();
    let add = || {
        kiosk(&[
            "queue",
            "--data-dir",
            &path_str(data),
            "add",
            &path_str(&path),
            "--recipient",
            &recipient,
        ])
    };
    let (code, out) = add();
    assert_eq!(code, 2, "{out}");
    assert_eq!(out["code"], "store_damage_unacknowledged", "{out}");
    assert!(
        out["message"].as_str().unwrap().contains("县里技术人员"),
        "{out}"
    );
    let (code, out) = check(data);
    assert_eq!(
        (code, &out["outbox"]),
        (1, &Value::from("awaiting_acknowledgement"))
    );

    let (code, out) = kiosk(&["queue", "--data-dir", &path_str(data), "acknowledge-damage"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out["acknowledged"].as_array().unwrap().len(), 1, "{out}");
    let (code, out) = check(data);
    assert_eq!((code, &out["outbox"]), (0, &Value::from("whole")), "{out}");
    let (code, out) = add();
    assert_eq!(code, 0, "{out}");
    let store = Store::open(&data.join("outbox.sqlite3")).unwrap();
    let newest = store.newest_mark().unwrap().unwrap();
    assert_eq!(
        newest.record_number,
        out["receipt"]["record_number"].as_str().unwrap()
    );
    let mark = damage::read_mark(&data.join("outbox.sqlite3")).unwrap();
    assert_eq!(mark, newest);
}

/// The leaf pages of the table b-tree rooted at `root`, left to right.
fn table_leaves(bytes: &[u8], page_size: usize, page: u32) -> Vec<u32> {
    let start = (page as usize - 1) * page_size;
    let header = start + if page == 1 { 100 } else { 0 };
    let be16 = |at: usize| u16::from_be_bytes([bytes[at], bytes[at + 1]]) as usize;
    let be32 = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    match bytes[header] {
        0x0d => vec![page],
        0x05 => {
            let mut leaves = Vec::new();
            for i in 0..be16(header + 3) {
                let cell = start + be16(header + 12 + 2 * i);
                leaves.extend(table_leaves(bytes, page_size, be32(cell)));
            }
            leaves.extend(table_leaves(bytes, page_size, be32(header + 8)));
            leaves
        }
        other => panic!("page {page} is not a table b-tree page ({other:#x})"),
    }
}

#[test]
fn a_torn_page_is_found_and_every_record_is_kept_or_named_with_its_sealed_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("kiosk-data");
    let outbox = data.join("outbox.sqlite3");
    let (made, platform) = queued_outbox(&data, 40, 31);
    let (root, page_size): (u32, usize) = {
        let conn = Connection::open(&outbox).unwrap();
        let root = conn
            .query_row(
                "SELECT rootpage FROM sqlite_master WHERE name = 'records'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        let size: i64 = conn
            .query_row("PRAGMA page_size", [], |r| r.get(0))
            .unwrap();
        (root, size as usize)
    };
    assert!(
        !damage::wal_exists(&outbox),
        "the store checkpointed on close"
    );
    let mut bytes = fs::read(&outbox).unwrap();
    let leaves = table_leaves(&bytes, page_size, root);
    assert!(leaves.len() >= 3, "want several leaves, got {leaves:?}");
    // A torn write: one 512-byte sector in the middle of a full leaf holds
    // garbage.
    let torn = leaves[leaves.len() / 2] as usize;
    let sector = (torn - 1) * page_size + page_size / 2;
    bytes[sector..sector + 512].fill(0x5a);
    fs::write(&outbox, &bytes).unwrap();

    let (code, out) = check(&data);
    assert_eq!(code, 1, "{out}");
    assert_eq!(out["outbox"], "salvaged", "{out}");
    assert_eq!(out["salvage"]["damage"][0]["kind"], "pages", "{out}");
    let kept = out["kept"].as_u64().unwrap();
    let lost = out["salvage"]["lost"].as_array().unwrap().clone();
    eprintln!("torn page: kept {kept} of 40, lost {}", lost.len());
    assert_eq!(kept + lost.len() as u64, 40, "{out}");
    assert!(!lost.is_empty() && kept >= 26, "kept {kept}, lost {lost:?}");
    let message = out["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("保留 {kept} 条"))
            && message.contains(&format!("{} 条无法读取", lost.len()))
            && message.contains("请不要删除"),
        "{message}"
    );

    // Set aside byte for byte; the fresh outbox is whole and holds exactly
    // the kept records, each opening to what was queued.
    let copy = damaged_copy(&out);
    assert!(
        copy.starts_with(data.join(DAMAGED_DIR)),
        "{}",
        copy.display()
    );
    assert_eq!(fs::read(copy.join("outbox.sqlite3")).unwrap(), bytes);
    assert_eq!(integrity(&outbox), "ok");
    let kept_ids = opened_ids(&outbox, &platform, &made);
    assert_eq!(kept_ids.len() as u64, kept);
    // Each lost record's clear row is gone, but its sealed bytes were
    // saved for the county: together, nothing is lost.
    let mut all = kept_ids.clone();
    for l in &lost {
        assert!(l["seq"].as_i64().is_some(), "{l}");
        let saved = copy.join(l["sealed_saved_as"].as_str().unwrap());
        let (opened, _): (Record, Blobs) =
            trust::seal::open(&fs::read(saved).unwrap(), &platform).unwrap();
        assert!(!kept_ids.contains(&opened.meta.record_id));
        all.insert(opened.meta.record_id);
    }
    let queued: BTreeSet<Uuid> = made.iter().map(|(r, _)| r.meta.record_id).collect();
    assert_eq!(all, queued);

    // Staff can still list what was kept.
    let (code, out) = kiosk(&[
        "queue",
        "--data-dir",
        &path_str(&data),
        "list",
        "--limit",
        "100",
    ]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out["records"].as_array().unwrap().len() as u64, kept);
    queue_add_waits_for_acknowledgement(&data, &platform, 77);
}

#[test]
fn a_log_cut_mid_frame_after_a_power_cut_names_the_records_it_lost() {
    let dir = tempfile::tempdir().unwrap();
    let running = dir.path().join("running");
    let data = dir.path().join("after-power-cut");
    fs::create_dir_all(&data).unwrap();
    let platform = age::x25519::Identity::generate();
    let made = records(6, 43);
    let outbox = running.join("outbox.sqlite3");
    fs::create_dir_all(&running).unwrap();
    let mut store = Store::open(&outbox).unwrap();
    for (record, blobs) in &made {
        store
            .enqueue(&valid(record), blobs, &platform.to_public())
            .unwrap();
    }
    // The power goes: what is on disk now is what the next start finds
    // (the connection is still open, so the log was not checkpointed away).
    for name in [
        "outbox.sqlite3",
        "outbox.sqlite3-wal",
        "outbox.sqlite3.mark",
    ] {
        fs::copy(running.join(name), data.join(name)).unwrap();
    }
    drop(store);
    let wal_path = data.join("outbox.sqlite3-wal");
    let wal = fs::read(&wal_path).unwrap();
    let shape = damage::inspect_wal(&wal);
    assert!(shape.header_ok && shape.committed_frames >= 4, "{shape:?}");
    // Cut mid-frame, half-way through the committed frames.
    let frame = 24 + shape.page_size as usize;
    let cut = 32 + frame * (shape.committed_frames as usize / 2) + 1000;
    fs::write(&wal_path, &wal[..cut]).unwrap();
    let cut_wal = wal[..cut].to_vec();
    let db_bytes = fs::read(data.join("outbox.sqlite3")).unwrap();

    // What SQLite itself would quietly make of it (on a copy).
    let expected_kept: i64 = {
        let probe = dir.path().join("probe");
        fs::create_dir_all(&probe).unwrap();
        fs::copy(data.join("outbox.sqlite3"), probe.join("o.sqlite3")).unwrap();
        fs::write(probe.join("o.sqlite3-wal"), &cut_wal).unwrap();
        let conn = Connection::open(probe.join("o.sqlite3")).unwrap();
        conn.query_row("SELECT count(*) FROM records", [], |r| r.get(0))
            .unwrap()
    };
    assert!(expected_kept < 6, "the cut must lose a commit");

    let (code, out) = check(&data);
    assert_eq!(code, 1, "{out}");
    assert_eq!(out["outbox"], "salvaged", "{out}");
    assert_eq!(out["salvage"]["damage"][0]["kind"], "missing", "{out}");
    assert_eq!(out["salvage"]["wal"]["torn_tail_bytes"], 1000, "{out}");
    assert_eq!(out["kept"], expected_kept, "{out}");
    let lost = out["salvage"]["lost"].as_array().unwrap();
    let lost_seqs: Vec<i64> = lost.iter().map(|l| l["seq"].as_i64().unwrap()).collect();
    assert_eq!(lost_seqs, (expected_kept + 1..=6).collect::<Vec<_>>());
    let last_number = veteran_kiosk::store::record_number(&made[5].0.meta.record_id);
    assert_eq!(lost.last().unwrap()["record_number"], last_number.as_str());
    assert!(
        out["message"].as_str().unwrap().contains(&last_number),
        "{out}"
    );

    let copy = damaged_copy(&out);
    assert_eq!(fs::read(copy.join("outbox.sqlite3-wal")).unwrap(), cut_wal);
    assert_eq!(fs::read(copy.join("outbox.sqlite3")).unwrap(), db_bytes);
    let outbox = data.join("outbox.sqlite3");
    assert_eq!(integrity(&outbox), "ok");
    let kept_ids = opened_ids(&outbox, &platform, &made);
    let first: BTreeSet<Uuid> = made[..expected_kept as usize]
        .iter()
        .map(|(r, _)| r.meta.record_id)
        .collect();
    assert_eq!(kept_ids, first);
    queue_add_waits_for_acknowledgement(&data, &platform, 79);
    // Numbering went on after the lost records.
    let conn = Connection::open(&outbox).unwrap();
    let newest: i64 = conn
        .query_row("SELECT max(seq) FROM records", [], |r| r.get(0))
        .unwrap();
    assert_eq!(newest, 7);
}

#[test]
fn a_garbage_header_is_rebuilt_for_the_salvage_and_every_record_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("kiosk-data");
    let outbox = data.join("outbox.sqlite3");
    let (made, platform) = queued_outbox(&data, 5, 47);
    let mut bytes = fs::read(&outbox).unwrap();
    bytes[..100].fill(0x5a);
    fs::write(&outbox, &bytes).unwrap();

    let (code, out) = check(&data);
    assert_eq!(code, 1, "{out}");
    assert_eq!(
        out["salvage"]["damage"][0]["kind"], "not_a_database",
        "{out}"
    );
    assert_eq!(
        (&out["kept"], &out["lost"]),
        (&Value::from(5), &Value::from(0)),
        "{out}"
    );
    assert_eq!(
        fs::read(damaged_copy(&out).join("outbox.sqlite3")).unwrap(),
        bytes
    );
    assert_eq!(integrity(&outbox), "ok");
    let all: BTreeSet<Uuid> = made.iter().map(|(r, _)| r.meta.record_id).collect();
    assert_eq!(opened_ids(&outbox, &platform, &made), all);
}

#[test]
fn the_kiosk_starts_out_of_service_on_a_damaged_outbox_until_it_is_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let factory = config_support::factory_copy(dir.path(), "factory");
    let paths = KioskPaths {
        config_root: dir.path().join("kiosk-store"),
        factory,
        data: dir.path().join("kiosk-data"),
    };
    let (_made, _platform) = queued_outbox(&paths.data, 3, 53);
    let mut bytes = fs::read(paths.outbox()).unwrap();
    bytes[..100].fill(0x5a);
    fs::write(paths.outbox(), &bytes).unwrap();

    slint::platform::set_platform(Box::new(TestingBackend::new(TestingBackendOptions {
        mock_time: true,
        threading: false,
        renderer_name: Some("software".into()),
    })))
    .expect("one platform per test thread");
    let (ui, running) = kiosk::launch(&paths).unwrap();
    ui.window().set_size(slint::PhysicalSize::new(1920, 1080));
    ui.show().unwrap();
    let attract = ui.global::<AttractView>();
    assert_eq!(attract.get_title(), "本机暂停服务，请找工作人员");
    assert!(attract.get_paused());
    let notice = attract.get_notice().to_string();
    assert!(
        notice.starts_with("给工作人员：")
            && notice.contains("保留 3 条记录")
            && notice.contains("县里技术人员"),
        "{notice}"
    );
    // Nothing starts a registration here.
    attract.invoke_start();
    running.tick();
    assert!(running.kiosk().borrow().session().record().is_none());
    config_support::screenshot(&ui, "30-out-of-service-damaged-outbox");
    drop(running);
    drop(ui);

    // Started again: still out of service until a technician acknowledges.
    let (ui, running) = kiosk::launch(&paths).unwrap();
    assert!(ui.global::<AttractView>().get_paused());
    drop(running);
    drop(ui);
    damage::acknowledge(&paths.outbox(), Utc::now()).unwrap();
    let (ui, _running) = kiosk::launch(&paths).unwrap();
    assert!(!ui.global::<AttractView>().get_paused());
    assert_eq!(
        ui.global::<AttractView>().get_title(),
        config_support::SHIPPED_TITLE
    );
}

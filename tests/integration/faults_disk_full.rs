//! A full disk (real ENOSPC from a small tmpfs) while queuing a signed
//! record, while saving a draft and while applying a configuration: a
//! clear Chinese message, nothing half-written, never called saved when it
//! is not, and the same work goes through once space is freed.
//!
//! Mounting needs root (or an unprivileged user namespace); without either
//! the tests fail and say why. Run under the fixed-resources lock:
//! `flock /tmp/fixed-resources.lock cargo test -p veteran-kiosk --test integration faults_disk_full`

use crate::config_support;

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use kiosk_core::id_number::IdNumber;
use kiosk_core::record::{self, Record, ValidRecord};
use kiosk_core::session::Event;
use rusqlite::Connection;
use veteran_kiosk::cli::demo::{allowed_selections, generate, DemoOptions, PhotoPool};
use veteran_kiosk::config::apply::{ConfigStore, Refusal};
use veteran_kiosk::kiosk::shell::records::{RecordsSettings, RecordsShell, SessionPhotos};
use veteran_kiosk::store::{Blobs, LocalKey, Store, StoreError};

use config_support::*;

/// The user's or group's numeric id, as `id -u` / `id -g` print it.
fn id_of(flag: &str) -> String {
    let out = Command::new("id").arg(flag).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// `program` run as root: directly when we are root, else through
/// `sudo -n` (the set-up scripts use sudo the same way on a non-root CI).
fn as_root(program: &str) -> Command {
    if id_of("-u") == "0" {
        Command::new(program)
    } else {
        let mut sudo = Command::new("sudo");
        sudo.arg("-n").arg(program);
        sudo
    }
}

/// A tmpfs of `size` mounted on a fresh directory, unmounted on drop.
struct SmallDisk {
    _parent: tempfile::TempDir,
    mount_point: PathBuf,
    filler: PathBuf,
}

impl SmallDisk {
    fn mount(size: &str) -> SmallDisk {
        let parent = tempfile::tempdir().unwrap();
        let mount_point = parent.path().join("disk");
        fs::create_dir(&mount_point).unwrap();
        let (uid, gid) = (id_of("-u"), id_of("-g"));
        let output = as_root("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700,uid={uid},gid={gid}"),
                "tmpfs",
            ])
            .arg(&mount_point)
            .output();
        match output {
            Ok(out) if out.status.success() => {}
            Ok(out) => panic!(
                "cannot mount a tmpfs to fill (these tests need root, or sudo without a password, as the README's set-up has): mount said {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ),
            Err(e) => panic!("cannot run mount(8) to make a small disk to fill: {e}"),
        }
        SmallDisk {
            filler: mount_point.join("filler"),
            _parent: parent,
            mount_point,
        }
    }

    fn path(&self) -> &Path {
        &self.mount_point
    }

    /// Writes until the file system says ENOSPC, down to the last byte.
    fn fill(&self) {
        let mut file = File::create(&self.filler).unwrap();
        for chunk in [64 * 1024, 4096, 1] {
            let block = vec![0xa5u8; chunk];
            loop {
                match file.write_all(&block) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::StorageFull => break,
                    Err(e) => panic!("filling the disk failed otherwise: {e}"),
                }
            }
        }
        let _ = file.sync_all();
        assert_eq!(
            fs::write(self.mount_point.join("probe"), b"x")
                .map(|()| "written")
                .map_err(|e| e.kind()),
            Err(std::io::ErrorKind::StorageFull),
            "the disk should be full now"
        );
    }

    fn free(&self) {
        fs::remove_file(&self.filler).unwrap();
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let status = as_root("umount").arg(&self.mount_point).status();
        if !matches!(status, Ok(s) if s.success()) {
            // Something still holds a file open: detach it anyway.
            let _ = as_root("umount").arg("-l").arg(&self.mount_point).status();
        }
    }
}

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-30T08:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

/// A signed record with its photos (the photos make it big enough that
/// queuing it needs new pages).
fn signed_record(n: usize) -> (Record, Blobs) {
    let options = DemoOptions {
        seed: 23,
        kiosk_id: "AX-FC-01".into(),
        now: now(),
    };
    let mut pool = PhotoPool::default();
    generate(n * 41, &allowed_selections(), &options, &mut pool)
}

fn valid(record: &Record) -> ValidRecord {
    record::validate(record, now().date_naive()).unwrap()
}

fn integrity(path: &Path) -> String {
    let conn = Connection::open(path).unwrap();
    conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_full_disk_while_queuing_keeps_the_outbox_whole_and_the_same_record_queues_later() {
    let disk = SmallDisk::mount("3m");
    let path = disk.path().join("outbox.sqlite3");
    let platform = age::x25519::Identity::generate();
    let mut store = Store::open(&path).unwrap();
    // One record queued while there is room: it must survive the fault.
    let (first, first_blobs) = signed_record(0);
    store
        .enqueue(&valid(&first), &first_blobs, &platform.to_public())
        .unwrap();

    disk.fill();
    let (record, blobs) = signed_record(1);
    let err = store
        .enqueue(&valid(&record), &blobs, &platform.to_public())
        .unwrap_err();
    assert!(
        matches!(err, StoreError::DiskFull(_)),
        "want DiskFull, got {err:?}"
    );
    assert_eq!(err.code(), "store_disk_full");
    assert!(
        err.message_zh().contains("存储空间已满"),
        "{}",
        err.message_zh()
    );
    assert!(!err.message_zh().contains("已保存"));
    // Not called saved: nothing of it is in the outbox, by this
    // connection or by a fresh one (a restarted kiosk).
    assert_eq!(store.entry(record.meta.record_id).unwrap(), None);
    assert_eq!(store.pending().unwrap(), vec![first.meta.record_id]);
    assert_eq!(integrity(&path), "ok");
    {
        let reopened = Store::open(&path).unwrap();
        assert_eq!(reopened.pending().unwrap(), vec![first.meta.record_id]);
        assert!(reopened.sealed(first.meta.record_id).unwrap().is_some());
    }

    disk.free();
    // The same record, nothing re-entered, queues on retry.
    let receipt = store
        .enqueue(&valid(&record), &blobs, &platform.to_public())
        .unwrap();
    assert!(receipt.newly_queued);
    assert_eq!(
        store.pending().unwrap(),
        vec![first.meta.record_id, record.meta.record_id]
    );
    let upload = store.sealed(record.meta.record_id).unwrap().unwrap();
    let (opened, opened_blobs): (Record, Blobs) =
        trust::seal::open(&upload.sealed, &platform).unwrap();
    assert_eq!(opened, record);
    assert_eq!(opened_blobs, blobs);
    drop(store);
    assert_eq!(integrity(&path), "ok");
}

#[test]
fn a_full_disk_while_saving_a_draft_loses_no_earlier_draft_and_saving_resumes() {
    let disk = SmallDisk::mount("3m");
    let path = disk.path().join("outbox.sqlite3");
    let key = LocalKey::load_or_create(&disk.path().join("local.key")).unwrap();
    let store = Store::open(&path).unwrap();
    let (mut record, blobs) = signed_record(2);
    let id = IdNumber::parse(&record.identity.id_number, now().date_naive()).unwrap();
    // A first draft (no photos yet) saved while there is room.
    record.identity.phone = "13800138000".into();
    store
        .save_draft(&key, &record, &Blobs::new(), now())
        .unwrap();

    disk.fill();
    // The next save carries the photos: it needs pages there are not.
    record.identity.phone = "13900139000".into();
    let later = now() + Duration::minutes(2);
    let err = store.save_draft(&key, &record, &blobs, later).unwrap_err();
    assert!(
        matches!(err, StoreError::DiskFull(_)),
        "want DiskFull, got {err:?}"
    );
    assert!(err.message_zh().contains("存储空间已满"));
    assert_eq!(integrity(&path), "ok");
    // The earlier draft is whole, not a mixture of the two.
    let (found, _) = store
        .load_draft(&key, &id, later, Duration::hours(1))
        .unwrap()
        .unwrap();
    assert_eq!(found.identity.phone, "13800138000");

    disk.free();
    store.save_draft(&key, &record, &blobs, later).unwrap();
    let (found, found_blobs) = store
        .load_draft(&key, &id, later, Duration::hours(1))
        .unwrap()
        .unwrap();
    assert_eq!(found.identity.phone, "13900139000");
    assert_eq!(found_blobs.len(), blobs.len());
    drop(store);
    assert_eq!(integrity(&path), "ok");
}

/// Every file under `dir`, relative, with its bytes.
fn tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push((
                    path.strip_prefix(dir).unwrap().to_path_buf(),
                    fs::read(&path).unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn a_full_disk_while_applying_a_configuration_keeps_the_old_one_whole() {
    let scratch = tempfile::tempdir().unwrap();
    let factory = factory_copy(scratch.path(), "factory");
    let disk = SmallDisk::mount("2m");
    let root = disk.path().join("config");
    let mut store = ConfigStore::open(&root, &factory).unwrap();
    let config = store.begin_start().unwrap().config;
    let before_in_force = store.in_force().clone();
    let before_files = tree(&root);

    // A new version with a file big enough not to fit in what is left.
    let v2 = variant(scratch.path(), "v2", |dir| {
        edit(
            dir,
            &format!("campaign_title = \"{SHIPPED_TITLE}\""),
            "campaign_title = \"第二版配置\"",
        );
        fs::create_dir_all(dir.join("notes")).unwrap();
        fs::write(dir.join("notes/padding.txt"), vec![b'x'; 256 * 1024]).unwrap();
    });
    let bytes = sign_dir(&v2, 2, "all", &admin());

    disk.fill();
    let refusal = store.accept(&bytes, &config).unwrap_err();
    let Refusal::Store(err) = &refusal else {
        panic!("want a store refusal, got {refusal:?}");
    };
    assert!(err.is_disk_full(), "{err:?}");
    assert!(
        err.message_zh().contains("存储空间已满") && err.message_zh().contains("原配置"),
        "{}",
        err.message_zh()
    );
    // The configuration in force is the old one, byte for byte, and no
    // staged half-bundle is left taking space.
    assert_eq!(store.in_force(), &before_in_force);
    disk.free();
    assert_eq!(tree(&root), before_files);
    let mut reopened = ConfigStore::open(&root, &factory).unwrap();
    assert_eq!(reopened.in_force(), &before_in_force);
    assert_eq!(reopened.load().unwrap().texts.campaign_title, SHIPPED_TITLE);

    // With room again, the same bundle is taken.
    let accepted = reopened.accept(&bytes, &config).unwrap();
    assert_eq!(accepted.installed.version, 2);
    assert_eq!(accepted.config.texts.campaign_title, "第二版配置");
    let start = ConfigStore::open(&root, &factory)
        .unwrap()
        .begin_start()
        .unwrap();
    assert_eq!(start.config.texts.campaign_title, "第二版配置");
}

/// Polls the records shell (bounded) until an event matches.
fn wait_for(shell: &mut RecordsShell, what: impl Fn(&Event) -> bool) -> Event {
    let mut seen = Vec::new();
    for _ in 0..600 {
        for event in shell.poll() {
            if what(&event) {
                return event;
            }
            seen.push(event);
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("no such answer from the records shell; saw {seen:?}");
}

fn enqueue(
    shell: &mut RecordsShell,
    photos: &SessionPhotos,
    record: &Record,
    blobs: &Blobs,
) -> Event {
    *photos.lock().unwrap() = blobs.clone();
    shell.enqueue(Box::new(valid(record)), Utc::now());
    wait_for(shell, |e| matches!(e, Event::Enqueued(_)))
}

fn outbox_status(shell: &RecordsShell) -> (bool, String) {
    let line = shell.status_lines().remove(0);
    (line.ok, line.status_zh)
}

#[test]
fn the_store_thread_tells_the_person_and_staff_and_queues_once_space_is_freed() {
    let disk = SmallDisk::mount("3m");
    let scratch = tempfile::tempdir().unwrap();
    let photos: SessionPhotos = Arc::new(Mutex::new(Blobs::new()));
    let settings = RecordsSettings {
        db: disk.path().join("outbox.sqlite3"),
        local_key: disk.path().join("local.agekey"),
        recipient: age::x25519::Identity::generate().to_public(),
        draft_window: Duration::hours(2),
        platform: None,
        audit_log: scratch.path().join("audit.jsonl"),
    };
    let mut shell = RecordsShell::start(settings, photos.clone()).unwrap();
    let (record, blobs) = signed_record(3);

    disk.fill();
    // A draft with photos does not fit: the person is told, in Chinese.
    let mut draft = record.clone();
    draft.meta.state = kiosk_core::record::RecordState::Draft;
    draft.signature = None;
    *photos.lock().unwrap() = blobs.clone();
    shell.save_draft(Box::new(draft), Utc::now());
    let told = wait_for(&mut shell, |e| matches!(e, Event::DraftNotSaved { .. }));
    let Event::DraftNotSaved { message_zh } = told else {
        unreachable!()
    };
    assert!(message_zh.contains("存储空间已满"), "{message_zh}");

    // Queuing the signed record fails and says so; never "saved".
    let refused = enqueue(&mut shell, &photos, &record, &blobs);
    let Event::Enqueued(Err(message_zh)) = &refused else {
        panic!("want a refusal, got {refused:?}");
    };
    assert!(
        message_zh.contains("存储空间已满") && message_zh.contains("再次确认签字"),
        "{message_zh}"
    );
    assert!(!message_zh.contains("已保存"), "{message_zh}");
    // Staff see it on the status screen.
    let (ok, status_zh) = outbox_status(&shell);
    assert!(!ok && status_zh.contains("存储空间已满"), "{status_zh}");

    disk.free();
    // The same record, from memory, goes through on the retry.
    assert_eq!(
        enqueue(&mut shell, &photos, &record, &blobs),
        Event::Enqueued(Ok(()))
    );
    let (ok, status_zh) = outbox_status(&shell);
    assert!(ok && !status_zh.contains("存储空间已满"), "{status_zh}");
    drop(shell);
    let store = Store::open(&disk.path().join("outbox.sqlite3")).unwrap();
    assert_eq!(store.pending().unwrap(), vec![record.meta.record_id]);
    drop(store);
    assert_eq!(integrity(&disk.path().join("outbox.sqlite3")), "ok");
}

/// Not a full disk, but found the same way, by SQLite's code: an outbox
/// whose header was overwritten is refused at start as damaged, with words
/// telling staff not to delete it.
#[test]
fn an_outbox_with_a_torn_header_is_refused_at_start_as_damaged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.sqlite3");
    let platform = age::x25519::Identity::generate();
    {
        let mut store = Store::open(&path).unwrap();
        let (record, blobs) = signed_record(4);
        store
            .enqueue(&valid(&record), &blobs, &platform.to_public())
            .unwrap();
    }
    let mut bytes = fs::read(&path).unwrap();
    bytes[..100].fill(0x5a);
    fs::write(&path, &bytes).unwrap();

    let err = Store::open(&path).err().unwrap();
    assert!(matches!(err, StoreError::Damaged(_)), "{err:?}");
    assert_eq!(err.code(), "store_damaged");
    assert!(
        err.message_zh().contains("不要删除"),
        "{}",
        err.message_zh()
    );
}

//! Outbox and sync benchmarks (criterion; short runs):
//!
//! - durable enqueue of a full record: a 300 KB portrait and two 300 KB
//!   certificate photos, sealed and committed with `synchronous=FULL`;
//! - listing and counting with 100 000 records queued;
//! - upload throughput to the real platform over mutual TLS on loopback.
//!
//! `cargo bench --bench store`; figures in docs/store.md.

// A measuring program may unwrap: a panic there is a failed measurement, not a kiosk crash.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use county_platform::{self as platform, Faults, PlatformConfig};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use kiosk_core::category::DocumentKind;
use kiosk_core::record::{self, DocumentPhoto, PhotoRef, Record, ValidRecord};
use rusqlite::params;
use trust::pki::DemoPki;
use trust::seal;
use veteran_kiosk::cli::demo::{allowed_selections, generate, DemoOptions, PhotoPool};
use veteran_kiosk::store::{Blobs, ListFilter, LocalKey, Store};
use veteran_kiosk::sync::client::{ClientSettings, PlatformClient};
use veteran_kiosk::sync::core::{RetryPolicy, SplitMix64};
use veteran_kiosk::sync::worker::run_once;

const PHOTO_BYTES: usize = 300_000;

/// Incompressible bytes, like a JPEG.
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut rng = SplitMix64(seed);
    (0..len.div_ceil(8))
        .flat_map(|_| rng.next_u64().to_le_bytes())
        .take(len)
        .collect()
}

/// A valid record with a 300 KB portrait and two 300 KB certificates
/// (plus the household register everyone shows, also 300 KB: worst case).
fn full_record(seed: u64) -> (Record, Blobs) {
    let selections = allowed_selections();
    // Discharged soldier + disabled serviceman: two certificates.
    let index = selections
        .iter()
        .position(|s| s.iter().map(|c| c.code()).collect::<Vec<_>>() == [2, 7])
        .unwrap_or(0);
    // A record read from the card (a typed one would carry a card photo too).
    let mut record = (seed..)
        .map(|seed| {
            let options = DemoOptions {
                seed,
                kiosk_id: "AX-FC-01".into(),
                now: Utc::now(),
            };
            generate(index, &selections, &options, &mut PhotoPool::default()).0
        })
        .find(|r| r.identity.card.is_some())
        .unwrap_or_else(|| unreachable!("the generator reads one card in three"));
    let mut blobs = Blobs::new();
    let mut photo = |n: u64| {
        let bytes = noise(seed * 10 + n, PHOTO_BYTES);
        PhotoRef {
            bytes: bytes.len() as u64,
            sha256: blobs.insert(bytes),
        }
    };
    record.photos.portrait = Some(photo(1));
    record.photos.card_portrait = None;
    record.documents = vec![
        DocumentPhoto {
            kind: DocumentKind::HouseholdRegister,
            photo: photo(2),
            page: 1,
        },
        DocumentPhoto {
            kind: DocumentKind::DischargeCertificate,
            photo: photo(3),
            page: 1,
        },
        DocumentPhoto {
            kind: DocumentKind::DisabledServicemanCertificate,
            photo: photo(4),
            page: 1,
        },
    ];
    (record, blobs)
}

fn valid_copy(template: &(Record, Blobs)) -> (ValidRecord, Blobs) {
    let mut record = template.0.clone();
    record.meta.record_id = uuid::Uuid::new_v4();
    let valid = record::validate(&record, Utc::now().date_naive())
        .unwrap_or_else(|p| panic!("benchmark record invalid: {p:?}"));
    (valid, template.1.clone())
}

fn enqueue(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("outbox.sqlite3")).unwrap();
    let key = LocalKey::generate();
    let recipient = age::x25519::Identity::generate().to_public();
    let template = full_record(1);
    let total = template.1.total_bytes();
    let mut group = c.benchmark_group("enqueue");
    group.throughput(Throughput::Bytes(total));
    // One enqueue after another, nothing in between: SQLite's automatic
    // checkpoint runs inside about one commit in three.
    group.bench_function("back_to_back_full_record_4x300KB", |b| {
        b.iter_batched(
            || valid_copy(&template),
            |(valid, blobs)| store.enqueue(&valid, &blobs, &recipient).unwrap(),
            BatchSize::SmallInput,
        )
    });
    // What the person at the kiosk waits for: the session's draft (with the
    // same photos) was saved while they went through the pages and the
    // store thread checkpointed when idle; the enqueue seals, commits and
    // wipes the draft in the same transaction.
    let store = std::cell::RefCell::new(store);
    group.bench_function("kiosk_full_record_4x300KB_draft_wiped", |b| {
        b.iter_batched(
            || {
                let (valid, blobs) = valid_copy(&template);
                let store = store.borrow();
                store
                    .save_draft(&key, valid.record(), &blobs, Utc::now())
                    .unwrap();
                store.checkpoint().unwrap();
                (valid, blobs)
            },
            |(valid, blobs)| {
                store
                    .borrow_mut()
                    .enqueue(&valid, &blobs, &recipient)
                    .unwrap()
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

/// Where the time of one enqueue goes, stage by stage, on the same record:
/// format 1 (JSON, photos in base64) beside format 2 (tar, raw photos),
/// and the SQLite commit of each one's sealed bytes.
fn enqueue_stages(c: &mut Criterion) {
    let recipient = age::x25519::Identity::generate().to_public();
    let template = full_record(3);
    let (valid, blobs) = valid_copy(&template);
    let record = valid.record();
    let mut group = c.benchmark_group("enqueue_stages");
    group.bench_function("v1_plaintext_base64_json", |b| {
        b.iter(|| seal::envelope_plaintext_v1(record, &blobs).unwrap())
    });
    let plaintext_v1 = seal::envelope_plaintext_v1(record, &blobs).unwrap();
    group.bench_function("v1_sha256_plaintext", |b| {
        b.iter(|| trust::sha256_hex(&plaintext_v1))
    });
    group.bench_function("v1_age_encrypt", |b| {
        b.iter(|| seal::encrypt(&recipient, &plaintext_v1).unwrap())
    });
    group.bench_function("v2_manifest_and_hash", |b| {
        b.iter(|| seal::Envelope::of(record, &blobs).unwrap().content_sha256())
    });
    let envelope = seal::Envelope::of(record, &blobs).unwrap();
    group.bench_function("v2_tar_into_age", |b| {
        b.iter(|| envelope.seal(&recipient).unwrap())
    });
    let sealed_v1 = seal::encrypt(&recipient, &plaintext_v1).unwrap();
    let sealed_v2 = envelope.seal(&recipient).unwrap();
    // The sealed bytes committed the way the outbox commits them: WAL, FULL.
    let dir = tempfile::tempdir().unwrap();
    let conn = rusqlite::Connection::open(dir.path().join("blobs.sqlite3")).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.pragma_update(None, "synchronous", "FULL").unwrap();
    conn.execute_batch("CREATE TABLE t (seq INTEGER PRIMARY KEY, sealed BLOB NOT NULL)")
        .unwrap();
    for (name, sealed) in [("v1", &sealed_v1), ("v2", &sealed_v2)] {
        group.bench_function(
            format!("{name}_sqlite_commit_full_{}KB", sealed.len() / 1000),
            |b| {
                b.iter(|| {
                    conn.execute("INSERT INTO t (sealed) VALUES (?1)", [sealed])
                        .unwrap()
                })
            },
        );
    }
    group.finish();
}

/// An outbox with `n` queued records, written directly (the clear part
/// and a small stand-in for the sealed bytes) so the setup is quick.
fn prepared_outbox(path: &std::path::Path, n: usize) {
    drop(Store::open(path).unwrap());
    let mut conn = rusqlite::Connection::open(path).unwrap();
    conn.pragma_update(None, "synchronous", "OFF").unwrap();
    let tx = conn.transaction().unwrap();
    {
        let mut record = tx
            .prepare(
                "INSERT INTO records (record_id, record_number, state, masked_id, township_code, township_name, \
                 created_at, signed_at, sent_at, content_sha256) \
                 VALUES (?1, ?2, ?3, '350524********0010', '350524100', '凤城镇', ?4, ?4, ?5, ?6)",
            )
            .unwrap();
        let mut sealed_row = tx
            .prepare("INSERT INTO sealed_records (record_seq, sealed) VALUES (?1, ?2)")
            .unwrap();
        let mut category = tx
            .prepare("INSERT INTO record_categories (record_seq, code) VALUES (?1, ?2)")
            .unwrap();
        // A real sealed record is ~1 MB; its size no longer matters to listing.
        let sealed = vec![0u8; 4096];
        for i in 0..n {
            let id = uuid::Uuid::from_u128(i as u128 + 1);
            let state = ["signed", "sent", "accepted", "rejected"][i % 4];
            let at = format!("2026-11-{:02}T08:{:02}:00.000000Z", 1 + i % 28, i % 60);
            record
                .execute(params![
                    id.to_string(),
                    veteran_kiosk::store::record_number(&id),
                    state,
                    at,
                    (state != "signed").then_some(&at),
                    trust::sha256_hex(id.as_bytes()),
                ])
                .unwrap();
            let seq = tx.last_insert_rowid();
            sealed_row.execute(params![seq, sealed]).unwrap();
            category.execute(params![seq, 1 + (i % 6) as i64]).unwrap();
            if i % 3 == 0 {
                category.execute(params![seq, 9 + (i % 4) as i64]).unwrap();
            }
        }
    }
    tx.commit().unwrap();
}

fn listing(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.sqlite3");
    prepared_outbox(&path, 100_000);
    let store = Store::open(&path).unwrap();
    let mut group = c.benchmark_group("list_100k");
    group.bench_function("first_page_50", |b| {
        b.iter(|| {
            store
                .list(&ListFilter {
                    limit: Some(50),
                    ..Default::default()
                })
                .unwrap()
        })
    });
    group.bench_function("page_50_by_state", |b| {
        b.iter(|| {
            store
                .list(&ListFilter {
                    state: Some(kiosk_core::record::RecordState::Rejected),
                    before_seq: Some(50_000),
                    limit: Some(50),
                })
                .unwrap()
        })
    });
    group.bench_function("stats", |b| b.iter(|| store.stats().unwrap()));
    group.bench_function("show_by_number", |b| {
        let number = veteran_kiosk::store::record_number(&uuid::Uuid::from_u128(77_777));
        b.iter(|| store.show(&number).unwrap().unwrap())
    });
    group.bench_function("all_100000", |b| {
        b.iter(|| store.list(&ListFilter::default()).unwrap())
    });
    group.finish();
}

fn upload(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let pki = DemoPki::generate(&dir.path().join("pki"), "AX-FC-01").unwrap();
    let config = PlatformConfig::demo(
        &pki.dir,
        &dir.path().join("platform.sqlite3"),
        "127.0.0.1:0".parse().unwrap(),
    );
    let running = platform::start(&config, Arc::new(Faults::default())).unwrap();
    let client =
        PlatformClient::new(&ClientSettings::demo(&pki.dir, &running.url()).unwrap()).unwrap();
    let recipient =
        seal::parse_recipient(&std::fs::read_to_string(&pki.platform_age_recipient).unwrap())
            .unwrap();
    let template = full_record(2);
    const BATCH: usize = 8;
    let mut group = c.benchmark_group("upload_loopback_mtls");
    group.throughput(Throughput::Bytes(template.1.total_bytes() * BATCH as u64));
    let mut round = 0;
    group.bench_function("8_full_records", |b| {
        b.iter_batched(
            || {
                round += 1;
                let path = dir.path().join(format!("outbox-{round}.sqlite3"));
                let mut store = Store::open(&path).unwrap();
                for _ in 0..BATCH {
                    let (valid, blobs) = valid_copy(&template);
                    store.enqueue(&valid, &blobs, &recipient).unwrap();
                }
                store
            },
            |mut store| {
                let report =
                    run_once(&mut store, &client, &RetryPolicy::default(), &Utc::now).unwrap();
                assert_eq!(report.uploaded, BATCH as u64);
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = enqueue, enqueue_stages, listing, upload
}
criterion_main!(benches);

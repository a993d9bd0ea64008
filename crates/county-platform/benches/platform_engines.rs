//! The platform's store on SQLite and on PostgreSQL side by side: intake
//! (one sealed record stored, as `PUT /v1/records/{id}` stores it), the
//! review list's first page, the statistics, and the move of the whole
//! platform from SQLite to PostgreSQL (`county-platform migrate`).
//! docs/platform-postgres.md has the figures this prints.
//!
//! `cargo bench -p county-platform --bench platform_engines` measures with
//! 2,000 records of 100 KB (`PLATFORM_BENCH_RECORDS` to change). The
//! PostgreSQL server is the tests' own (`county_platform::testing`), which
//! runs with fsync off unless `PLATFORM_PG_FSYNC=on`; SQLite always runs
//! with `synchronous=FULL`, so compare with `PLATFORM_PG_FSYNC=on`.
//! Under `cargo test` (no `--bench`) it runs 40 records and checks the
//! move, measuring nothing.

// A measuring program may unwrap: a panic there is a failed measurement, not a kiosk crash.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use chrono::Utc;
use county_platform::console::list::Filter;
use county_platform::db::NewRecord;
use county_platform::migrate::{migrate, rows, TABLES};
use county_platform::testing::{Engine, TestDb};
use county_platform::PlatformDb;
use kiosk_core::category::Category;
use uuid::Uuid;

const SEALED_BYTES: usize = 100 * 1024;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// Stores `n` records as intake does; the time of each.
fn intake(db: &mut PlatformDb, n: u32) -> Vec<Duration> {
    let mut sealed = vec![0u8; SEALED_BYTES];
    let categories = [Category::DischargedSoldier];
    let mut times = Vec::with_capacity(n as usize);
    for i in 0..n {
        // Sealed bytes look random to the database (age output does).
        for (j, byte) in sealed.iter_mut().enumerate().step_by(97) {
            *byte = (i as usize * 31 + j) as u8;
        }
        let id = Uuid::new_v4();
        let number = format!("FC-{i:06}");
        let township = format!("35052410{}", i % 8);
        let person = format!("{:064x}", i % (n / 2).max(1));
        let record = NewRecord {
            record_id: id,
            record_number: Some(&number),
            kiosk_id: "AX-FC-01",
            client_cert: "cert",
            township_code: &township,
            supersedes: None,
            body_sha256: "sha",
            sealed: &sealed,
            rejected: None,
            categories: &categories,
            documents_missing: i % 5 == 0,
            person_key: Some(&person),
        };
        let started = Instant::now();
        assert!(db.insert(&record, Utc::now()).unwrap().is_none());
        times.push(started.elapsed());
    }
    times
}

fn main() {
    let measuring = std::env::args().any(|a| a == "--bench");
    let records: u32 = if measuring {
        std::env::var("PLATFORM_BENCH_RECORDS")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(2_000)
    } else {
        40
    };
    let mut databases = Vec::new();
    println!("| engine | intake p50 | intake p99 | records/s | list page 1 | statistics |");
    println!("|---|---|---|---|---|---|");
    for engine in [Engine::Sqlite, Engine::Postgres] {
        let test_db = TestDb::new(engine);
        let mut db = test_db.open().unwrap();
        let started = Instant::now();
        let mut times = intake(&mut db, records);
        let total = started.elapsed();
        times.sort();
        let page_started = Instant::now();
        let page = db.console_page(&Filter::default()).unwrap();
        let page_time = page_started.elapsed();
        assert_eq!(page.rows.len(), (records as usize).min(50));
        let stats_started = Instant::now();
        db.stats(Utc::now()).unwrap();
        let stats_time = stats_started.elapsed();
        if measuring {
            println!(
                "| {engine:?} | {:.2} ms | {:.2} ms | {:.0} | {:.2} ms | {:.2} ms |",
                percentile(&times, 0.5).as_secs_f64() * 1e3,
                percentile(&times, 0.99).as_secs_f64() * 1e3,
                f64::from(records) / total.as_secs_f64(),
                page_time.as_secs_f64() * 1e3,
                stats_time.as_secs_f64() * 1e3,
            );
        }
        databases.push((test_db, db));
    }
    // The move: the SQLite platform into an empty PostgreSQL one.
    let (_, sqlite) = &databases[0];
    let target = TestDb::new(Engine::Postgres);
    let to = target.open().unwrap();
    let started = Instant::now();
    let moved = migrate(sqlite, &to).unwrap();
    let took = started.elapsed();
    let moved_records = moved
        .iter()
        .find(|(table, _)| *table == "records")
        .map(|(_, n)| *n)
        .unwrap();
    assert_eq!(moved_records, u64::from(records));
    for table in TABLES {
        assert_eq!(rows(&to, table).unwrap(), rows(sqlite, table).unwrap());
    }
    if measuring {
        println!(
            "\nmigrate SQLite → PostgreSQL: {records} records of {} KB in {:.1} s ({:.0} records/s)",
            SEALED_BYTES / 1024,
            took.as_secs_f64(),
            f64::from(records) / took.as_secs_f64()
        );
    }
}

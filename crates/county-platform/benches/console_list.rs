//! The review list at 200,000 records, through the console's HTTPS and page
//! rendering: the median of each filter's page against the 200 ms target
//! (issue 12; docs/console.md has the figures this prints).
//!
//! `cargo bench -p county-platform --bench console_list` measures at
//! 200,000 records. Under `cargo test` (no `--bench` argument) it runs the
//! same pages and the keyset walk on a small table, checking that they
//! answer correctly, and measures nothing: speed is a benchmark's business,
//! never a timed test's.

// A measuring program may unwrap: a panic there is a failed measurement, not a kiosk crash.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use county_platform::console::auth::Role;
use county_platform::console::list::Filter;
use county_platform::console::{self, ConsoleConfig, ConsoleState};
use county_platform::register::RegisterKeys;
use county_platform::{Faults, PlatformConfig};
use reqwest::header::COOKIE;
use rusqlite::params;
use trust::pki::DemoPki;

const BENCH_RECORDS: u32 = 200_000;
/// Enough for every filter below to have rows (the rarest needs 9,603),
/// quick to fill under `cargo test`.
const SMOKE_RECORDS: u32 = 20_000;
const TARGET: Duration = Duration::from_millis(200);

/// Fills the platform database with `records` rows as intake would leave
/// them (the seeding `county-platform load --seed-records` uses too).
fn fill(path: &std::path::Path, records: u32) {
    county_platform::load::seed_records(path, records).unwrap();
}

/// Person `i`'s key (the bench's stand-in for the keyed hash).
fn person_key(i: u32) -> String {
    county_platform::load::seeded_person_key(i)
}

/// The base as imports and acceptances leave it: a roster of as many
/// known people as records (a tenth never registered), and every accepted
/// record as its person's look-up entry (what the register export reads).
fn fill_base(path: &std::path::Path, records: u32, keys: &RegisterKeys) {
    let mut conn = rusqlite::Connection::open(path).unwrap();
    let tx = conn.transaction().unwrap();
    {
        let (template, _) = support::demo_record();
        let mut roster = tx
            .prepare(
                "INSERT INTO base_roster (person_key, township_code, categories, row_sha256, imported_at) \
                 VALUES (?1, ?2, 'discharged-soldier', 'sha', '2026-06-01T00:00:00Z')",
            )
            .unwrap();
        let mut base = tx
            .prepare(
                "INSERT INTO base_entries (person_key, record_id, township_code, sealed, imported_at, source) \
                 VALUES (?1, ?2, ?3, ?4, '2026-06-01T00:00:00Z', 'accepted')",
            )
            .unwrap();
        let mut accepted = tx
            .prepare("SELECT record_id, township_code, received_at FROM records WHERE state = 'accepted'")
            .unwrap();
        let accepted: Vec<(String, String, String)> = accepted
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        for (n, (record_id, township, _)) in accepted.iter().enumerate() {
            let mut record = template.clone();
            record.meta.record_id = record_id.parse().unwrap();
            record.meta.township.code = township.clone();
            record.identity.id_number = format!("35052419{:010}", n);
            record.identity.name = format!("林{n}");
            record.photos = Default::default();
            record.documents.clear();
            record.signature = None;
            base.execute(params![
                keys.person_key(&record.identity.id_number),
                record_id,
                township,
                keys.seal_record(&record).unwrap()
            ])
            .unwrap();
        }
        for i in 0..records + records / 10 {
            roster
                .execute(params![person_key(i), format!("3505241{:02}", i % 20)])
                .unwrap();
        }
        // The flags intake and acceptance keep.
        tx.execute_batch(
            "UPDATE base_roster SET \
             registered = EXISTS (SELECT 1 FROM records r WHERE r.person_key = base_roster.person_key \
                                  AND r.reviewed_by IS NOT 'intake-validation'), \
             accepted = EXISTS (SELECT 1 FROM records r WHERE r.person_key = base_roster.person_key \
                                AND r.state IN ('accepted', 'superseded'))",
        )
        .unwrap();
    }
    tx.commit().unwrap();
}

fn main() {
    let measuring = std::env::args().any(|arg| arg == "--bench");
    let records = if measuring {
        BENCH_RECORDS
    } else {
        SMOKE_RECORDS
    };
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(list_pages(records, measuring));
}

async fn list_pages(records: u32, measuring: bool) {
    let dir = tempfile::tempdir().unwrap();
    let pki = DemoPki::generate(&dir.path().join("pki"), support::KIOSK_ID).unwrap();
    let db = dir.path().join("platform.sqlite3");
    let filled = Instant::now();
    fill(&db, records);
    let identity = county_platform::load_identity(&pki.platform_age_identity).unwrap();
    fill_base(&db, records, &RegisterKeys::from_identity(&identity));
    eprintln!("filled {records} records in {:?}", filled.elapsed());
    let config = PlatformConfig::demo(&pki.dir, &db, "127.0.0.1:0".parse().unwrap());
    let api = county_platform::start(&config, Arc::new(Faults::default())).unwrap();
    assert_eq!(api.state.db().count().unwrap(), u64::from(records));
    let console_config = ConsoleConfig::demo(&pki.dir, "127.0.0.1:0".parse().unwrap()).unwrap();
    let console = console::start(&console_config, ConsoleState::new(api.state.clone())).unwrap();
    support::add_user(
        &api,
        support::REVIEWER.0,
        support::REVIEWER.1,
        Role::Reviewer,
    );
    let platform = support::Platform {
        dir,
        db: None,
        db_path: db,
        pki,
        api,
        console,
    };
    let client = platform.console_client();
    let cookie = support::log_in(&platform, &client, support::REVIEWER).await;
    let deep_cursor = "2026-09-15T00:00:00.000000Z|00000000-0000-4000-8000-000000000000";
    let queries = [
        "".to_string(),
        format!("after={deep_cursor}"),
        "state=received".into(),
        "township=350524107&state=received".into(),
        "kiosk=AX-17".into(),
        "category=disabled-serviceman".into(),
        "category=martyr-family&state=received".into(),
        "problems=1".into(),
        "missing=1".into(),
        "from=2026-08-01&to=2026-08-31&state=accepted".into(),
        "township=350524103&kiosk=AX-03&problems=1".into(),
    ];
    let mut report = Vec::new();
    let mut stats_times = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let stats = client
            .get(format!("{}/stats", platform.console_url()))
            .header(COOKIE, &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(stats.status(), 200);
        let page = stats.text().await.unwrap();
        stats_times.push(started.elapsed());
        // Every township, the progress against the roster, the weekly uploads.
        assert!(page.contains("350524119") && page.contains("三、登记进度"));
        assert!(page.contains(&format!(" / {}（", (records + records / 10) / 20)));
    }
    stats_times.sort();
    let stats_median = stats_times[stats_times.len() / 2];
    report.push(format!(
        "{stats_median:>10.1?}  {:<13}  /stats (township × category × state, progress, weekly uploads)",
        if stats_median < TARGET { "within target" } else { "OVER TARGET" }
    ));
    // The register export, as an administrator downloads it.
    support::add_user(
        &platform.api,
        support::ADMIN.0,
        support::ADMIN.1,
        Role::Admin,
    );
    let admin = support::log_in(&platform, &client, support::ADMIN).await;
    let accepted = platform
        .api
        .state
        .db()
        .list(Some("accepted"))
        .unwrap()
        .len();
    for (path, limit) in [
        ("/export/register.xlsx", Duration::from_secs(30)),
        ("/export/register.csv", Duration::from_secs(30)),
    ] {
        let started = Instant::now();
        let answer = client
            .get(format!("{}{path}", platform.console_url()))
            .header(COOKIE, &admin)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200, "{path}");
        let bytes = answer.bytes().await.unwrap();
        let took = started.elapsed();
        if path.ends_with(".csv") {
            let text = String::from_utf8(bytes.to_vec()).unwrap();
            // A row per person: its second cell is the record number.
            assert_eq!(text.matches(",FC-").count(), accepted, "one row per person");
        } else {
            assert!(bytes.starts_with(b"PK"));
        }
        report.push(format!(
            "{took:>10.1?}  {:<13}  {path} ({accepted} people; target {limit:?})",
            if took < limit {
                "within target"
            } else {
                "OVER TARGET"
            }
        ));
    }
    for query in &queries {
        let mut times = Vec::new();
        for _ in 0..5 {
            let started = Instant::now();
            let answer = client
                .get(format!("{}/records?{query}", platform.console_url()))
                .header(COOKIE, &cookie)
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), 200, "{query}");
            let page = answer.text().await.unwrap();
            times.push(started.elapsed());
            assert!(page.contains("FC-"), "{query}: no rows");
        }
        times.sort();
        let median = times[times.len() / 2];
        let verdict = if median < TARGET {
            "within target"
        } else {
            "OVER TARGET"
        };
        report.push(format!("{median:>10.1?}  {verdict:<13}  /records?{query}"));
    }
    if measuring {
        println!(
            "median of 5, at {records} records (target {TARGET:?} a list page):\n{}",
            report.join("\n")
        );
    } else {
        println!("console_list: every page answered at {records} records (run `cargo bench` for figures)");
    }

    // Keyset paging walks a filter's rows once each, in order.
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut query = vec![("kiosk".to_string(), "AX-17".to_string())];
        if let Some(cursor) = &after {
            query.push(("after".into(), cursor.clone()));
        }
        let page = platform
            .api
            .state
            .db()
            .console_page(&Filter::parse(&query))
            .unwrap();
        seen.extend(page.rows.iter().map(|r| r.received.record_id));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen.len(), (records / 50) as usize);
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len());
}

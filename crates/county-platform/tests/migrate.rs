//! A county moves its platform from SQLite to PostgreSQL with
//! `county-platform migrate`: the SQLite platform is filled through the
//! real code paths (uploads over mutual TLS, a review, an acceptance into
//! the look-up base, a roster import, kiosk enrolment and revocation, a
//! console login, a new return reason), moved by the real binary, and every
//! table's rows are compared; the platform then starts on PostgreSQL and
//! answers from what was moved.

// Tests may unwrap: a panic there is a failing test, not a kiosk crash.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::HashMap;
use std::process::Command;
use std::sync::Arc;

use chrono::Utc;
use county_platform::console::import::{check_rows, Cell};
use county_platform::migrate::{rows, TABLES};
use county_platform::testing::{Engine, TestDb};
use county_platform::{Faults, PlatformConfig, PlatformDb};
use kiosk_core::id_number::IdNumber;
use kiosk_core::Problem;
use serde_json::Value;
use support::{log_in, Platform, REVIEWER};
use wire::records::ReviewState;

fn platform_cli(args: &[&str]) -> (i32, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_county-platform"))
        .args(args)
        .output()
        .unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    if !out.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    }
    (out.status.code().unwrap_or(-1), json)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_county_moves_from_sqlite_to_postgresql_with_every_row() {
    let platform = Platform::start_on(Engine::Sqlite, None);
    let now = Utc::now();

    // Records: two of one person from the demo kiosk, one from another kiosk.
    let (accepted, blobs) = support::demo_record();
    assert_eq!(platform.send(&accepted, &blobs, "FC-0001").await, 201);
    let (returned, blobs) = support::demo_record();
    assert_eq!(platform.send(&returned, &blobs, "FC-0002").await, 201);
    let other_kiosk = platform.other_kiosk_client("AX-FC-02");
    let (mut third, blobs) = support::demo_record();
    third.meta.kiosk_id = "AX-FC-02".into();
    assert_eq!(
        platform
            .send_from(&other_kiosk, &third, &blobs, "FC-0003")
            .await,
        201
    );
    // A console login: a session and audit entries.
    log_in(&platform, &platform.console_client(), REVIEWER).await;

    let identity = county_platform::load_identity(&platform.pki.platform_age_identity).unwrap();
    let table = vec![
        vec![
            Cell::Text("姓名".into()),
            Cell::Text("公民身份号码".into()),
            Cell::Text("人员类别".into()),
            Cell::Text("出生日期".into()),
            Cell::Text("乡镇".into()),
        ],
        vec![
            Cell::Text("林国华".into()),
            Cell::Text("350524195503150010".into()),
            Cell::Text("2".into()),
            Cell::Text("1955-03-15".into()),
            Cell::Text("城关镇".into()),
        ],
    ];
    let townships = HashMap::from([("城关镇".to_string(), "350524100".to_string())]);
    let checked = check_rows(&table, &townships, now.date_naive()).unwrap();
    assert!(checked.errors.is_empty(), "{:?}", checked.errors);
    let keyed: Vec<(String, _)> = checked
        .rows
        .iter()
        .map(|r| (platform.api.state.person_key(r.id_number.as_str()), r))
        .collect();
    {
        let mut db = platform.api.state.db();
        county_platform::register::accept(
            &mut db,
            &identity,
            accepted.meta.record_id,
            "reviewer",
            now,
        )
        .unwrap();
        db.review(
            returned.meta.record_id,
            "reviewer",
            Some(&[Problem {
                code: "photo_unclear".into(),
                field: Some("photos.portrait".into()),
                message: "照片不清晰，请重新拍摄".into(),
                severity: Default::default(),
            }]),
            now,
        )
        .unwrap();
        db.add_return_reason("photos.portrait", "照片太暗").unwrap();
        db.enrol_kiosk(
            "AX-FC-03",
            "350524100",
            &"f".repeat(64),
            "2030-01-01",
            "admin",
            now,
        )
        .unwrap()
        .unwrap();
        assert!(db
            .revoke_kiosk("AX-FC-02", "admin", "终端被盗", now)
            .unwrap());
        db.write_base_import(&keyed, (&"a".repeat(64), "名单.csv"), "admin", now)
            .unwrap();
    }
    // The configuration bundles are files beside the SQLite database.
    let sqlite = platform.db_path.clone();
    let bundles = county_platform::config_bundles::registry_dir(&sqlite);
    std::fs::write(bundles.join("kiosks").join("AX-FC-01.json"), b"{}").unwrap();

    // The platform stops; the county moves it.
    let Platform {
        dir,
        db: _sqlite_test_db,
        pki,
        api,
        console,
        ..
    } = platform;
    drop(console);
    drop(api);
    let target = TestDb::new(Engine::Postgres);
    let url = target.db_arg().to_str().unwrap().to_string();
    let pg_bundles = dir.path().join("pg-bundles");
    let (code, out) = platform_cli(&[
        "migrate",
        "--from",
        sqlite.to_str().unwrap(),
        "--to",
        &url,
        "--to-bundles-dir",
        pg_bundles.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out["rows"]["records"], 3, "{out}");
    assert_eq!(out["bundle_files"], 1, "{out}");
    assert!(pg_bundles.join("kiosks").join("AX-FC-01.json").exists());

    // Every table, row for row (sealed bytes included).
    let from = PlatformDb::open(&sqlite).unwrap();
    let to = target.open().unwrap();
    for table in TABLES {
        let expected = rows(&from, table).unwrap();
        // Everything a county holds was there to move (the clear base of
        // before version 3 is empty on a current platform).
        assert!(
            !expected.is_empty() || table.name == "base_people",
            "nothing in {} to compare",
            table.name
        );
        assert_eq!(rows(&to, table).unwrap(), expected, "table {}", table.name);
    }
    drop(to);

    // Moving again into a platform that holds data is refused.
    let (code, out) = platform_cli(&[
        "migrate",
        "--from",
        sqlite.to_str().unwrap(),
        "--to",
        &url,
        "--to-bundles-dir",
        pg_bundles.to_str().unwrap(),
    ]);
    assert_eq!((code, &out["code"]), (2, &Value::from("target_not_empty")));

    // The platform runs on PostgreSQL from what was moved.
    let mut config =
        PlatformConfig::demo(&pki.dir, &target.db_arg(), "127.0.0.1:0".parse().unwrap());
    config.bundles_dir = Some(pg_bundles);
    let running = county_platform::start(&config, Arc::new(Faults::default())).unwrap();
    let db = running.state.db();
    assert_eq!(
        db.reviews(&[accepted.meta.record_id, returned.meta.record_id])
            .unwrap()
            .into_iter()
            .map(|(_, review)| matches!(
                review,
                ReviewState::Accepted | ReviewState::Rejected { .. }
            ))
            .collect::<Vec<_>>(),
        [true, true]
    );
    let id = IdNumber::parse_structure("350524195503150010").unwrap();
    assert_eq!(
        db.look_up(&id).unwrap().map(|r| r.meta.record_id),
        Some(accepted.meta.record_id)
    );
    assert!(running.state.kiosks.refuses(&county_platform::PeerCert {
        sha256: String::new(),
        common_name: Some("AX-FC-02".into()),
        der: Arc::new(Vec::new()),
    }));
    // The audit log goes on after the moved entries.
    let before = db.audit_log(1000).unwrap().len();
    db.audit("reviewer", "accept", None, Utc::now()).unwrap();
    assert_eq!(db.audit_log(1000).unwrap().len(), before + 1);
}

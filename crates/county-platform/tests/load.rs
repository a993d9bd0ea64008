//! `county-platform load` on the real binary: many kiosks with their own
//! certificates uploading at once to a `county-platform serve` it spawns on
//! loopback, and the platform killed (SIGKILL) in the middle of the
//! uploads and started again on the same database (issue 15). Small
//! numbers: these prove the tool and the platform's idempotency; the
//! figures come from the full runs in docs/platform-load.md.

// Tests may unwrap: a panic there is a failing test, not a kiosk crash.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn load(work_dir: &Path, args: &[&str]) -> (i32, Value) {
    let output = Command::new(env!("CARGO_BIN_EXE_county-platform"))
        .arg("load")
        .arg("--work-dir")
        .arg(work_dir)
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    let json = serde_json::from_str(stdout.lines().last().unwrap_or("null")).unwrap_or(Value::Null);
    (output.status.code().unwrap_or(-1), json)
}

/// What the platform's database holds, read again here rather than taken
/// from the tool's own report.
fn platform_rows(work_dir: &Path) -> (String, u64, u64, u64) {
    let conn = rusqlite::Connection::open(work_dir.join("platform.sqlite3")).unwrap();
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    let (rows, distinct, received): (u64, u64, u64) = conn
        .query_row(
            "SELECT COUNT(*), COUNT(DISTINCT record_id), SUM(state = 'received') FROM records \
             WHERE kiosk_id LIKE 'LOAD-%'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    (integrity, rows, distinct, received)
}

#[test]
fn the_load_tool_counts_every_record_of_every_kiosk_once() {
    let dir = tempfile::tempdir().unwrap();
    let (code, report) = load(
        dir.path(),
        &[
            "--kiosks",
            "4",
            "--records",
            "3",
            "--photo-kb",
            "40",
            "--seed-records",
            "500",
        ],
    );
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["ok"], true);
    assert_eq!(report["records_sent"], 12);
    let reconciliation = &report["reconciliation"];
    for (key, expected) in [
        ("outbox_records", 12),
        ("platform_records_from_load_kiosks", 12),
        ("platform_records_total", 512),
        ("missing", 0),
        ("extra", 0),
        ("duplicated", 0),
        ("body_differs", 0),
        ("not_sent", 0),
    ] {
        assert_eq!(reconciliation[key], expected, "{key}: {reconciliation}");
    }
    assert_eq!(reconciliation["integrity_check"], "ok");
    // Every figure the docs quote is there.
    for pointer in [
        "/latency_ms/p50",
        "/latency_ms/p99",
        "/records_per_s",
        "/mb_per_s",
    ] {
        assert!(
            report.pointer(pointer).unwrap().as_f64().unwrap() > 0.0,
            "{pointer}"
        );
    }
    assert!(report["platform_peak_rss_mb"].as_f64().unwrap() > 1.0);
    assert_eq!(platform_rows(dir.path()), ("ok".into(), 12, 12, 12));
    // Each kiosk came with its own certificate: the platform filed the
    // records under four kiosks.
    let conn = rusqlite::Connection::open(dir.path().join("platform.sqlite3")).unwrap();
    let kiosks: u64 = conn
        .query_row(
            "SELECT COUNT(DISTINCT client_cert) FROM records WHERE kiosk_id LIKE 'LOAD-%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(kiosks, 4);
}

#[test]
fn a_platform_killed_mid_upload_and_restarted_loses_and_duplicates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (code, report) = load(
        dir.path(),
        &[
            "--kiosks",
            "20",
            "--records",
            "10",
            "--photo-kb",
            "60",
            "--restart-after",
            "60",
            "--retry-initial-ms",
            "200",
            "--retry-cap-ms",
            "2000",
            "--deadline-secs",
            "120",
        ],
    );
    assert_eq!(code, 0, "{report}");
    let restart = &report["restart"];
    assert!(
        restart["killed_after_stored"].as_u64().unwrap() >= 60,
        "{restart}"
    );
    assert!(
        restart["in_flight_at_kill"].as_u64().unwrap() >= 1,
        "{restart}"
    );
    // The kiosks saw the platform go away and tried again.
    assert!(report["attempts"].as_u64().unwrap() > 200, "{report}");
    assert_eq!(report["reconciliation"]["ok"], true, "{report}");
    assert_eq!(platform_rows(dir.path()), ("ok".into(), 200, 200, 200));
}

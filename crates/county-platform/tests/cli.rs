//! The reviewer commands on the real `county-platform` binary: a base
//! database, listing, and the refusals (moved from the kiosk's store CLI
//! test, which fed it a demo record; this one uses the demo record kept in
//! assets/demo).

// Tests may unwrap: a panic there is a failing test, not a kiosk crash.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use wire::records::ReviewState;

mod support;

fn platform(args: &[&str]) -> (i32, Value) {
    let output = Command::new(env!("CARGO_BIN_EXE_county-platform"))
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let json = serde_json::from_str(stdout.lines().last().unwrap_or("null")).unwrap_or(Value::Null);
    (output.status.code().unwrap_or(-1), json)
}

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

fn demo_record() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/demo/record-valid.json")
}

#[test]
fn reviewers_import_a_base_list_and_are_refused_what_is_not_theirs_to_decide() {
    let dir = tempfile::tempdir().unwrap();
    let first = s(&demo_record());
    let original: Value = serde_json::from_str(&std::fs::read_to_string(&first).unwrap()).unwrap();

    // The platform side: a base database, and the reviewer commands.
    let db = s(&dir.path().join("platform.sqlite3"));
    let demo_pki =
        s(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/config_data/demo-pki"));
    let (code, _) = platform(&["--db", &db, "import-base", &first]);
    assert_eq!(code, 2, "the base is sealed: the platform's key is needed");
    let (code, out) = platform(&["--db", &db, "import-base", &first, "--pki", &demo_pki]);
    assert_eq!((code, &out["imported"]), (0, &Value::from(1)), "{out}");
    let (code, out) = platform(&["--db", &db, "review", "list"]);
    assert_eq!(
        (code, out["records"].as_array().map(Vec::len)),
        (0, Some(0))
    );
    let id = original["meta"]["record_id"].as_str().unwrap();
    let demo_pki =
        s(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/config_data/demo-pki"));
    let (code, out) = platform(&["--db", &db, "review", "accept", id, "--pki", &demo_pki]);
    assert_eq!((code, &out["code"]), (1, &Value::from("not_reviewable")));
    let (code, _) = platform(&[
        "--db",
        &db,
        "review",
        "reject",
        id,
        "--reason",
        "no equals sign",
    ]);
    assert_eq!(code, 2);
}

/// The platform serves kiosks; it never links the kiosk (whose tests link it).
#[test]
fn the_platform_does_not_depend_on_the_kiosk_package() {
    let manifest = include_str!("../Cargo.toml");
    assert!(
        !manifest.contains("veteran-kiosk"),
        "crates/county-platform/Cargo.toml names the kiosk package"
    );
}

/// `user add` creates console accounts; the password comes from stdin or
/// `--password`, and weak passwords, bad names and roles are refused.
#[test]
fn user_add_creates_console_accounts_and_refuses_bad_ones() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let db = s(&dir.path().join("platform.sqlite3"));
    let (code, out) = platform(&[
        "--db",
        &db,
        "user",
        "add",
        "admin",
        "--role",
        "admin",
        "--password",
        "demo-admin-2026",
    ]);
    assert_eq!((code, &out["role"]), (0, &Value::from("admin")), "{out}");
    let (code, out) = platform(&[
        "--db",
        &db,
        "user",
        "add",
        "admin",
        "--role",
        "viewer",
        "--password",
        "another-one-2026",
    ]);
    assert_eq!((code, &out["code"]), (1, &Value::from("user_exists")));
    for (args, expected) in [
        (["Admin", "--role", "admin"], "bad_username"),
        (["bob", "--role", "root"], "bad_role"),
    ] {
        let mut all = vec!["--db", &db, "user", "add"];
        all.extend(args);
        all.extend(["--password", "long-enough-password"]);
        let (code, out) = platform(&all);
        assert_eq!((code, &out["code"]), (2, &Value::from(expected)));
    }
    let stdin_add = |password: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_county-platform"))
            .args(["--db", &db, "user", "add", "li.na", "--role", "reviewer"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
        child.wait().unwrap().code()
    };
    assert_eq!(stdin_add("short"), Some(2));
    assert_eq!(stdin_add("a-long-password-from-stdin"), Some(0));
}

/// `review accept` on the command line takes the console's path: the record
/// is accepted and becomes the person's entry in the kiosks' look-up base.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_accept_on_the_command_line_feeds_the_look_up_as_the_console_does() {
    review_accept_on(county_platform::testing::Engine::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_accept_on_the_command_line_works_on_postgresql_too() {
    review_accept_on(county_platform::testing::Engine::Postgres).await
}

async fn review_accept_on(engine: county_platform::testing::Engine) {
    let running = support::Platform::start_on(engine, None);
    let (record, blobs) = support::demo_record();
    assert_eq!(running.send(&record, &blobs, "FC-0001").await, 201);
    assert!(!running.look_up("350524195503150010").await.found);
    let db = running.db_arg();
    let id = record.meta.record_id.to_string();
    // Without the platform's key nothing is decided.
    let (code, _) = platform(&["--db", &db, "review", "accept", &id]);
    assert_eq!(code, 2);
    assert_eq!(
        running.poll_review(record.meta.record_id).await,
        ReviewState::Received
    );
    let (code, out) = platform(&[
        "--db",
        &db,
        "review",
        "accept",
        &id,
        "--pki",
        &s(&running.pki.dir),
    ]);
    assert_eq!(
        (code, &out["state"]),
        (0, &Value::from("accepted")),
        "{out}"
    );
    assert_eq!(
        running.poll_review(record.meta.record_id).await,
        ReviewState::Accepted
    );
    let base = running.look_up("350524195503150010").await;
    let base = base
        .record
        .expect("the accepted record in the look-up base");
    assert_eq!(base.meta.record_id, record.meta.record_id);
    assert!(
        base.photos.portrait.is_none() && base.documents.is_empty() && base.signature.is_none()
    );
}

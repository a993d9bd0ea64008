//! Outbox schema migrations: each from a fixture of the previous version;
//! newer and foreign databases refused untouched.

use std::fs;

use rusqlite::Connection;
use sqlite_schema::{self as schema, SchemaError};
use veteran_kiosk::store::schema::{LATEST, OUTBOX};
use veteran_kiosk::store::{Store, StoreError};
use veteran_kiosk::sync::core::SyncState;

fn schema_at(version: u32) -> String {
    let mut conn = Connection::open_in_memory().unwrap();
    schema::migrate_to(&mut conn, &OUTBOX, version).unwrap();
    schema::describe(&conn).unwrap()
}

#[test]
fn an_empty_file_becomes_the_latest_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.sqlite3");
    let store = Store::open(&path).unwrap();
    drop(store);
    let conn = Connection::open(&path).unwrap();
    assert_eq!(
        schema::read_header(&conn).unwrap(),
        (LATEST, OUTBOX.application_id)
    );
    assert_eq!(schema::describe(&conn).unwrap(), schema_at(LATEST));
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn the_v1_fixture_is_what_migration_1_makes() {
    let fixture = Connection::open_in_memory().unwrap();
    fixture
        .execute_batch(include_str!("../fixtures/store/outbox-v1.sql"))
        .unwrap();
    assert_eq!(schema::describe(&fixture).unwrap(), schema_at(1));
    assert_eq!(
        schema::read_header(&fixture).unwrap(),
        (1, OUTBOX.application_id)
    );
}

#[test]
fn migrating_the_v1_fixture_keeps_every_row_and_reaches_the_latest_schema() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.sqlite3");
    Connection::open(&path)
        .unwrap()
        .execute_batch(include_str!("../fixtures/store/outbox-v1.sql"))
        .unwrap();

    let store = Store::open(&path).unwrap();
    let entries = store.list(&Default::default()).unwrap();
    let summary: Vec<String> = entries
        .iter()
        .map(|e| {
            format!(
                "{} {:?} {} {:?} {:?}",
                e.record_number, e.state, e.masked_id, e.categories, e.superseded_by
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            "DDDD-EEEE-FFFF Signed 350524********0023 [9] None",
            "AAAA-BBBB-CCCC Sent 350524********0010 [2, 7] None",
        ]
    );
    assert_eq!(store.pending().unwrap().len(), 1);
    // The sealed bytes moved to their own table, intact.
    let sent = uuid::Uuid::parse_str("6f1c1c9e-6a4b-4c1e-9a55-2f0d2d6f4e11").unwrap();
    assert_eq!(store.sealed(sent).unwrap().unwrap().sealed, vec![0u8]);
    let state: SyncState = store.sync_state().unwrap().unwrap();
    assert_eq!(state.failures, 2);
    assert_eq!(store.stats().unwrap().drafts, 0);
    drop(store);

    let conn = Connection::open(&path).unwrap();
    assert_eq!(schema::describe(&conn).unwrap(), schema_at(LATEST));
}

#[test]
fn a_newer_database_is_refused_and_left_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.sqlite3");
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(include_str!("../fixtures/store/outbox-v1.sql"))
            .unwrap();
        conn.pragma_update(None, "user_version", LATEST + 1)
            .unwrap();
    }
    let before = fs::read(&path).unwrap();
    match Store::open(&path) {
        Err(StoreError::Schema(SchemaError::TooNew {
            found, supported, ..
        })) => {
            assert_eq!((found, supported), (LATEST + 1, LATEST));
        }
        Err(other) => panic!("wrong error: {other}"),
        Ok(_) => panic!("a newer database was opened"),
    }
    assert_eq!(fs::read(&path).unwrap(), before);
    assert!(!dir.path().join("outbox.sqlite3-wal").exists());
}

#[test]
fn a_foreign_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.sqlite3");
    Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
        .unwrap();
    let before = fs::read(&path).unwrap();
    let err = Store::open(&path).err().expect("refused");
    assert_eq!(err.code(), "store_not_ours");
    assert_eq!(fs::read(&path).unwrap(), before);
}

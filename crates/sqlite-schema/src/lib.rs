//! A SQLite schema and its migrations, keyed on `PRAGMA user_version`:
//! the runner shared by the kiosk's outbox and the county platform's
//! database.
//!
//! Migration *n* takes a database at version *n − 1* to version *n*; each
//! runs in its own transaction together with the version bump, so a crash
//! leaves the database at one version or the next, never between. A
//! database newer than the program's latest is refused before anything is
//! written to it, and so is a file that is not this kind of database at all
//! (`application_id`).
//!
//! Depends on rusqlite only: never on the kiosk or the platform, whose
//! schemas are theirs.

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

/// One kind of database: its `application_id` and its migrations.
#[derive(Debug, Clone, Copy)]
pub struct Schema {
    /// What the error messages call it.
    pub name: &'static str,
    pub application_id: i32,
    /// Migration `i` takes version `i` to `i + 1`.
    pub migrations: &'static [&'static str],
}

impl Schema {
    /// The schema version this program writes.
    pub const fn latest(&self) -> u32 {
        self.migrations.len() as u32
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("the {name} database is version {found}, newer than this program's {supported}; refusing to touch it (upgrade the program)")]
    TooNew {
        name: &'static str,
        found: u32,
        supported: u32,
    },
    #[error("the file is not a {name} database (application_id {found:#x})")]
    NotOurs { name: &'static str, found: i32 },
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// What the database says about itself before anything is changed.
pub fn read_header(conn: &Connection) -> Result<(u32, i32), rusqlite::Error> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let app: i32 = conn.query_row("PRAGMA application_id", [], |r| r.get(0))?;
    Ok((u32::try_from(version).unwrap_or(u32::MAX), app))
}

/// Refuses databases this program must not touch: newer, or not ours.
pub fn check_header(conn: &Connection, schema: &Schema) -> Result<u32, SchemaError> {
    let (version, app) = read_header(conn)?;
    if version > schema.latest() {
        return Err(SchemaError::TooNew {
            name: schema.name,
            found: version,
            supported: schema.latest(),
        });
    }
    let is_empty: bool =
        conn.query_row("SELECT count(*) = 0 FROM sqlite_master", [], |r| r.get(0))?;
    if app != schema.application_id && !(app == 0 && is_empty) {
        return Err(SchemaError::NotOurs {
            name: schema.name,
            found: app,
        });
    }
    Ok(version)
}

/// Brings the database up to `target` (normally the latest); returns the
/// version it started from.
pub fn migrate_to(conn: &mut Connection, schema: &Schema, target: u32) -> Result<u32, SchemaError> {
    let start = check_header(conn, schema)?;
    for version in start..target.min(schema.latest()) {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Another process may have migrated while we waited for the lock.
        let (now, _) = read_header(&tx)?;
        if now > version {
            tx.commit()?;
            continue;
        }
        let Some(migration) = schema.migrations.get(version as usize) else {
            break;
        };
        tx.execute_batch(migration)?;
        tx.pragma_update(None, "application_id", schema.application_id)?;
        tx.pragma_update(None, "user_version", version + 1)?;
        tx.commit()?;
    }
    Ok(start)
}

/// Opens (creating if needed) a database file, refusing newer or foreign
/// ones before writing anything.
pub fn open_checked(path: &std::path::Path, schema: &Schema) -> Result<Connection, SchemaError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    check_header(&conn, schema)?;
    Ok(conn)
}

/// The schema as SQLite reports it, normalised for comparison in tests.
pub fn describe(conn: &Connection) -> Result<String, rusqlite::Error> {
    let mut stmt = conn.prepare(
        "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
    )?;
    let rows = stmt.query_map([], |r| {
        let kind: String = r.get(0)?;
        let name: String = r.get(1)?;
        let sql: Option<String> = r.get(2)?;
        Ok(format!(
            "{kind} {name}: {}",
            sql.unwrap_or_default()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        ))
    })?;
    rows.collect::<Result<Vec<_>, _>>().map(|v| v.join("\n"))
}

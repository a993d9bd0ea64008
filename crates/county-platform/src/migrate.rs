//! `county-platform migrate --from <db> --to <db>`: moves a whole platform
//! from one database to another, typically a county's SQLite file to the
//! city's or province's PostgreSQL (either way works).
//!
//! Every table is copied row for row, columns as stored: records with their
//! sealed bytes, the register (persons, look-up base, roster, imports),
//! console users, sessions and the audit log (its sequence numbers kept),
//! return reasons, townships, kiosks and their certificates. Both sides are
//! at the same schema version (opening migrates them); the target must hold
//! no data yet. The configuration bundles are files and are copied by
//! directory. Rows are read in pages, so a platform with 200,000 records
//! and their photos does not have to fit in memory.

use std::path::Path;

use crate::db::{DbError, PlatformDb};
use crate::sql::{Engine, Row, Value};

/// One table: its name, its columns, and the key it is paged and compared by.
pub struct Table {
    pub name: &'static str,
    pub columns: &'static str,
    /// The primary key (one column: paged by key; several: by offset).
    pub key: &'static str,
}

/// Every table of the platform's schema (version 4), parents before the
/// tables that reference them. A test checks this against the schema.
pub const TABLES: &[Table] = &[
    Table {
        name: "records",
        columns: "record_id, record_number, kiosk_id, client_cert, township_code, received_at, state, \
                  reasons, reviewed_at, reviewed_by, supersedes, body_sha256, sealed, documents_missing, \
                  person_key, categories",
        key: "record_id",
    },
    Table {
        name: "record_categories",
        columns: "category, received_at, record_id",
        key: "category, received_at, record_id",
    },
    Table {
        name: "base_people",
        columns: "id_number, record_json, imported_at, source",
        key: "id_number",
    },
    Table {
        name: "console_users",
        columns: "username, role, password_hash, failed_logins, locked_until, created_at",
        key: "username",
    },
    Table {
        name: "console_sessions",
        columns: "token_sha256, username, csrf_token, last_seen",
        key: "token_sha256",
    },
    Table {
        name: "console_audit",
        columns: "seq, at, username, action, record_id, detail",
        key: "seq",
    },
    Table {
        name: "persons",
        columns: "person_key, id_masked, id_sealed, first_received, last_received",
        key: "person_key",
    },
    Table {
        name: "townships",
        columns: "code, name",
        key: "code",
    },
    Table {
        name: "return_reasons",
        columns: "key, field, label, position, retired_at",
        key: "key",
    },
    Table {
        name: "base_entries",
        columns: "person_key, record_id, township_code, sealed, imported_at, source",
        key: "person_key",
    },
    Table {
        name: "base_roster",
        columns: "person_key, township_code, categories, row_sha256, imported_at, registered, accepted",
        key: "person_key",
    },
    Table {
        name: "base_imports",
        columns: "file_sha256, file_name, rows, changed, imported_at, imported_by",
        key: "file_sha256",
    },
    Table {
        name: "kiosks",
        columns: "kiosk_id, township_code, enrolled_at, enrolled_by, revoked_at, revoked_by, revoke_reason, \
                  last_seen, last_cert, backlog",
        key: "kiosk_id",
    },
    Table {
        name: "kiosk_certificates",
        columns: "cert_sha256, kiosk_id, first_at, issued_by, not_after, revoked_at",
        key: "cert_sha256",
    },
];

/// Rows read and written at a time.
const PAGE: usize = 200;

/// How many rows of each table were moved.
pub type Moved = Vec<(&'static str, u64)>;

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("the target already holds data (table {0}); a move goes into an empty platform")]
    TargetNotEmpty(&'static str),
    #[error("{path}: {detail}")]
    Io { path: String, detail: String },
}

impl MigrateError {
    pub fn code(&self) -> &'static str {
        match self {
            MigrateError::Db(_) => "platform_db",
            MigrateError::TargetNotEmpty(_) => "target_not_empty",
            MigrateError::Io { .. } => "platform_io",
        }
    }
}

/// Every row of `table`, in key order (for comparing two platforms).
pub fn rows(db: &PlatformDb, table: &Table) -> Result<Vec<Row>, DbError> {
    db.conn.query_rows(
        &format!(
            "SELECT {} FROM {} ORDER BY {}",
            table.columns, table.name, table.key
        ),
        Vec::<Value>::new(),
    )
}

fn count(db: &PlatformDb, table: &str) -> Result<u64, DbError> {
    db.conn.query_row(
        &format!("SELECT count(*) FROM {table}"),
        Vec::<Value>::new(),
        |r| r.get(0),
    )
}

/// Moves every row of `from` into `to` (which must be empty but for the
/// seeded return reasons, which the source's replace).
pub fn migrate(from: &PlatformDb, to: &PlatformDb) -> Result<Moved, MigrateError> {
    for table in TABLES.iter().filter(|t| t.name != "return_reasons") {
        if count(to, table.name)? > 0 {
            return Err(MigrateError::TargetNotEmpty(table.name));
        }
    }
    let mut moved = Vec::new();
    let tx = to.conn.transaction()?;
    tx.execute("DELETE FROM return_reasons", Vec::<Value>::new())?;
    for table in TABLES {
        let placeholders = (1..=table.columns.split(',').count())
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let insert = format!(
            "INSERT INTO {} ({}) VALUES ({placeholders})",
            table.name, table.columns
        );
        let single_key = !table.key.contains(',');
        let mut after: Option<Value> = None;
        let mut offset = 0usize;
        let mut n = 0u64;
        loop {
            let page = if single_key {
                let (clause, params) = match &after {
                    Some(last) => (format!("WHERE {} > ?1", table.key), vec![last.clone()]),
                    None => (String::new(), Vec::new()),
                };
                from.conn.query_rows(
                    &format!(
                        "SELECT {} FROM {} {clause} ORDER BY {} LIMIT {PAGE}",
                        table.columns, table.name, table.key
                    ),
                    params,
                )?
            } else {
                from.conn.query_rows(
                    &format!(
                        "SELECT {} FROM {} ORDER BY {} LIMIT {PAGE} OFFSET {offset}",
                        table.columns, table.name, table.key
                    ),
                    Vec::<Value>::new(),
                )?
            };
            for row in &page {
                tx.execute(&insert, row.0.clone())?;
            }
            n += page.len() as u64;
            offset += page.len();
            // The key is the first column of every single-key table.
            after = page.last().and_then(|r| r.0.first().cloned());
            if page.len() < PAGE {
                break;
            }
        }
        moved.push((table.name, n));
    }
    if to.engine() == Engine::Postgres {
        // The audit log's numbers were copied: the next entry follows them.
        tx.execute_batch(
            "SELECT setval(pg_get_serial_sequence('console_audit', 'seq'), \
             coalesce((SELECT max(seq) FROM console_audit), 0) + 1, false)",
        )?;
    }
    tx.commit()?;
    Ok(moved)
}

/// Copies the configuration bundles kept in `from` (a directory of files)
/// into `to`, keeping what is there.
pub fn copy_dir(from: &Path, to: &Path) -> Result<u64, MigrateError> {
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |e: std::io::Error| MigrateError::Io {
            path,
            detail: e.to_string(),
        }
    };
    if !from.exists() {
        return Ok(0);
    }
    std::fs::create_dir_all(to).map_err(io(to))?;
    let mut copied = 0;
    for entry in std::fs::read_dir(from).map_err(io(from))? {
        let entry = entry.map_err(io(from))?;
        let source = entry.path();
        let target = to.join(entry.file_name());
        if entry.file_type().map_err(io(&source))?.is_dir() {
            copied += copy_dir(&source, &target)?;
        } else if !target.exists() {
            std::fs::copy(&source, &target).map_err(io(&source))?;
            copied += 1;
        }
    }
    Ok(copied)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Engine, TestDb};

    /// The tables and columns of the schema as the engine reports them.
    fn schema_columns(db: &PlatformDb) -> Vec<(String, String)> {
        let sql = match db.engine() {
            crate::sql::Engine::Sqlite => {
                "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p \
                 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.name"
            }
            crate::sql::Engine::Postgres => {
                "SELECT table_name::text, column_name::text FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name != 'platform_schema' \
                 ORDER BY table_name, column_name"
            }
        };
        db.conn
            .query_rows(sql, Vec::<Value>::new())
            .unwrap()
            .iter()
            .map(|r| (r.get(0).unwrap(), r.get(1).unwrap()))
            .collect()
    }

    crate::both_engines!(every_table_and_column_is_moved, every_table_on);
    fn every_table_on(engine: Engine) {
        let test_db = TestDb::new(engine);
        let db = test_db.open().unwrap();
        let mut listed: Vec<(String, String)> = TABLES
            .iter()
            .flat_map(|t| {
                t.columns
                    .split(',')
                    .map(|c| (t.name.to_string(), c.trim().to_string()))
            })
            .collect();
        listed.sort();
        // A migration that adds a table or a column must add it here too.
        assert_eq!(listed, schema_columns(&db));
    }
}

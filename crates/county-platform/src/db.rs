//! The platform's own SQLite: received records (still sealed), their review
//! state, and the base database of people already known to the county;
//! from version 2 also the console's accounts, sessions and audit log (see
//! `console::store`) and what its record list filters on.

use std::path::Path;

use crate::sql::postgres::PostgresBackend;
use crate::sql::sqlite::SqliteBackend;
use crate::sql::{params, DbTarget, Engine, OptionalExtension, Row, Sql};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use uuid::Uuid;

use kiosk_core::category::Category;
use kiosk_core::id_number::IdNumber;
use kiosk_core::record::Record;
use kiosk_core::Problem;
use sqlite_schema::{Schema, SchemaError};
use wire::records::ReviewState;

/// The platform database ("VKPL").
pub const PLATFORM: Schema = Schema {
    name: "county platform",
    application_id: 0x564B_504C,
    migrations: &[V1, V2_CONSOLE, V3_REGISTER, crate::kiosks::V4_KIOSKS],
};

const V1: &str = r#"
CREATE TABLE records (
    record_id     TEXT PRIMARY KEY,
    record_number TEXT,
    kiosk_id      TEXT NOT NULL,
    client_cert   TEXT NOT NULL,
    township_code TEXT NOT NULL,
    received_at   TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('received','accepted','rejected','superseded')),
    reasons       TEXT,
    reviewed_at   TEXT,
    reviewed_by   TEXT,
    supersedes    TEXT,
    body_sha256   TEXT NOT NULL,
    sealed        BLOB NOT NULL
);
CREATE INDEX records_by_state ON records(state, received_at);
CREATE TABLE base_people (
    id_number   TEXT PRIMARY KEY,
    record_json TEXT NOT NULL,
    imported_at TEXT NOT NULL
);
"#;

/// The county console (console/): staff accounts, sessions, the append-only
/// audit log, and the indexes its record list pages on.
const V2_CONSOLE: &str = r#"
CREATE TABLE console_users (
    username      TEXT PRIMARY KEY,
    role          TEXT NOT NULL CHECK (role IN ('reviewer','admin','viewer')),
    password_hash TEXT NOT NULL,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until  TEXT,
    created_at    TEXT NOT NULL
);
CREATE TABLE console_sessions (
    token_sha256 TEXT PRIMARY KEY,
    username     TEXT NOT NULL REFERENCES console_users(username),
    csrf_token   TEXT NOT NULL,
    last_seen    TEXT NOT NULL
);
CREATE TABLE console_audit (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    at        TEXT NOT NULL,
    username  TEXT NOT NULL,
    action    TEXT NOT NULL,
    record_id TEXT
);
CREATE TRIGGER console_audit_no_update BEFORE UPDATE ON console_audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER console_audit_no_delete BEFORE DELETE ON console_audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
ALTER TABLE records ADD COLUMN documents_missing INTEGER NOT NULL DEFAULT 0;
ALTER TABLE records ADD COLUMN person_key TEXT;
CREATE INDEX records_by_person ON records(person_key, received_at);
CREATE TABLE record_categories (
    category    TEXT NOT NULL,
    received_at TEXT NOT NULL,
    record_id   TEXT NOT NULL REFERENCES records(record_id),
    PRIMARY KEY (category, received_at, record_id)
) WITHOUT ROWID;
CREATE INDEX records_missing_documents ON records(documents_missing, received_at, record_id);
CREATE INDEX records_by_received ON records(received_at, record_id);
CREATE INDEX records_by_supersedes ON records(supersedes);
CREATE INDEX records_by_state_page ON records(state, received_at, record_id);
CREATE INDEX records_by_township ON records(township_code, received_at, record_id);
CREATE INDEX records_by_township_state ON records(township_code, state);
CREATE INDEX records_by_kiosk ON records(kiosk_id, received_at, record_id);
"#;

/// The register of persons and what the county edits itself: one row per
/// person keyed by the keyed hash of the ID number (`AppState::person_key`),
/// the number itself only sealed (age) plus a masked form for display; the
/// townships' names as the records carry them; the list of return reasons,
/// seeded with the fields a reason could be attached to until now; the
/// base roster imported from the county's spreadsheets (who is known, per
/// township, for progress) and the files imported; the look-up base
/// sealed at rest and keyed by the person key (`base_entries`, replacing
/// the clear `base_people`, whose rows are moved at start), with where an
/// entry came from (an import or an accepted record, which an import
/// never overwrites).
const V3_REGISTER: &str = r#"
CREATE TABLE persons (
    person_key     TEXT PRIMARY KEY,
    id_masked      TEXT NOT NULL,
    id_sealed      BLOB NOT NULL,
    first_received TEXT NOT NULL,
    last_received  TEXT NOT NULL
);
CREATE TABLE townships (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL
);
CREATE TABLE return_reasons (
    key        TEXT PRIMARY KEY,
    field      TEXT NOT NULL,
    label      TEXT NOT NULL,
    position   INTEGER NOT NULL,
    retired_at TEXT
);
INSERT INTO return_reasons (key, field, label, position) VALUES
    ('identity.name', 'identity.name', '姓名', 1),
    ('identity.id_number', 'identity.id_number', '公民身份号码', 2),
    ('identity.address', 'identity.address', '户籍地址', 3),
    ('identity.current_address', 'identity.current_address', '现居住地址', 4),
    ('identity.phone', 'identity.phone', '联系电话', 5),
    ('categories', 'categories', '人员类别', 6),
    ('categories.details', 'categories.details', '类别详细信息', 7),
    ('living', 'living', '生活状况', 8),
    ('needs', 'needs', '需求', 9),
    ('photos.portrait', 'photos.portrait', '本人照片', 10),
    ('photos.card_photo', 'photos.card_photo', '身份证照片', 11),
    ('documents', 'documents', '证件材料', 12),
    ('signature', 'signature', '签字确认', 13),
    ('other', 'other', '其他', 14);
ALTER TABLE base_people ADD COLUMN source TEXT NOT NULL DEFAULT 'import';
CREATE TABLE base_entries (
    person_key    TEXT PRIMARY KEY,
    record_id     TEXT NOT NULL,
    township_code TEXT NOT NULL,
    sealed        BLOB NOT NULL,
    imported_at   TEXT NOT NULL,
    source        TEXT NOT NULL CHECK (source IN ('import','accepted'))
);
CREATE TABLE base_roster (
    person_key    TEXT PRIMARY KEY,
    township_code TEXT NOT NULL,
    categories    TEXT NOT NULL,
    row_sha256    TEXT NOT NULL,
    imported_at   TEXT NOT NULL,
    registered    INTEGER NOT NULL DEFAULT 0,
    accepted      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX base_roster_by_township ON base_roster(township_code, registered, accepted);
CREATE INDEX records_uploads ON records(received_at, township_code);
CREATE TABLE base_imports (
    file_sha256 TEXT PRIMARY KEY,
    file_name   TEXT NOT NULL,
    rows        INTEGER NOT NULL,
    changed     INTEGER NOT NULL,
    imported_at TEXT NOT NULL,
    imported_by TEXT NOT NULL
);
CREATE INDEX records_by_person_state ON records(person_key, state);
ALTER TABLE records ADD COLUMN categories TEXT NOT NULL DEFAULT '';
UPDATE records SET categories = coalesce(
    (SELECT group_concat(category, ',') FROM record_categories c WHERE c.record_id = records.record_id), '');
CREATE INDEX records_stats ON records(township_code, state, categories);
"#;

/// Who refuses a record at intake (as opposed to a named reviewer).
pub const INTAKE_REVIEWER: &str = "intake-validation";

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(transparent)]
    Schema(#[from] SchemaError),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("PostgreSQL error: {0}")]
    Postgres(String),
    /// A query that must return a row returned none.
    #[error("no row")]
    NoRow,
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("no record {0}")]
    NotFound(Uuid),
    #[error("record {0} is {1}, not awaiting review")]
    NotReviewable(Uuid, String),
    #[error("the look-up base needs the platform's age key")]
    NoKey,
}

pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// A received record as the reviewer list shows it (no personal data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Received {
    pub record_id: Uuid,
    pub record_number: Option<String>,
    pub kiosk_id: String,
    pub township_code: String,
    pub received_at: String,
    pub state: String,
    pub reasons: Vec<Problem>,
    pub reviewed_by: Option<String>,
}

/// What the platform already holds under a record id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Existing {
    pub body_sha256: String,
    pub state: String,
    pub reviewed_by: Option<String>,
    pub reasons: Vec<Problem>,
}

/// A record to store.
pub struct NewRecord<'a> {
    pub record_id: Uuid,
    pub record_number: Option<&'a str>,
    pub kiosk_id: &'a str,
    pub client_cert: &'a str,
    pub township_code: &'a str,
    pub supersedes: Option<Uuid>,
    pub body_sha256: &'a str,
    pub sealed: &'a [u8],
    /// `None`: received for review; `Some`: refused at intake with these reasons.
    pub rejected: Option<&'a [Problem]>,
    /// The record's categories (what the console's list filters on).
    pub categories: &'a [Category],
    /// A certificate its categories need was not photographed.
    pub documents_missing: bool,
    /// The person's key (`AppState::person_key`), when the record opened.
    pub person_key: Option<&'a str>,
}

/// The columns `Received::from_row` reads, in its order (a query selects
/// these first, then whatever else it needs).
pub(crate) const RECEIVED_COLUMNS: &str =
    "record_id, record_number, kiosk_id, township_code, received_at, state, reasons, reviewed_by";

impl Received {
    /// A `records` row selected with `RECEIVED_COLUMNS` first.
    pub(crate) fn from_row(row: &Row) -> Result<Received, DbError> {
        let id: String = row.get(0)?;
        Ok(Received {
            record_id: Uuid::parse_str(&id).map_err(|_| DbError::Corrupt("bad uuid".into()))?,
            record_number: row.get(1)?,
            kiosk_id: row.get(2)?,
            township_code: row.get(3)?,
            received_at: row.get(4)?,
            state: row.get(5)?,
            reasons: parse_reasons(row.get(6)?)?,
            reviewed_by: row.get(7)?,
        })
    }
}

pub struct PlatformDb {
    pub(crate) conn: Sql,
    /// The register's keys, once the platform's identity is known
    /// (`use_keys`): the look-up base is sealed under them.
    keys: Option<crate::register::RegisterKeys>,
}

pub(crate) fn parse_reasons(text: Option<String>) -> Result<Vec<Problem>, DbError> {
    match text {
        None => Ok(Vec::new()),
        Some(t) => serde_json::from_str(&t).map_err(|_| DbError::Corrupt("bad reasons".into())),
    }
}

fn reasons_json(reasons: &[Problem]) -> Result<String, DbError> {
    serde_json::to_string(reasons).map_err(|e| DbError::Corrupt(e.to_string()))
}

impl PlatformDb {
    /// Opens the database `--db` names: a SQLite file path, or a
    /// `postgres://` URL (see [`DbTarget`]).
    pub fn open(db: &Path) -> Result<PlatformDb, DbError> {
        PlatformDb::open_target(&DbTarget::parse(db))
    }

    pub fn open_target(target: &DbTarget) -> Result<PlatformDb, DbError> {
        match target {
            DbTarget::Sqlite(path) => PlatformDb::open_sqlite(path),
            DbTarget::Postgres(url) => PlatformDb::open_postgres(url),
        }
    }

    pub fn open_sqlite(path: &Path) -> Result<PlatformDb, DbError> {
        let mut conn = sqlite_schema::open_checked(path, &PLATFORM)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        sqlite_schema::migrate_to(&mut conn, &PLATFORM, PLATFORM.latest())?;
        Ok(PlatformDb {
            conn: Sql::new(Box::new(SqliteBackend::new(conn))),
            keys: None,
        })
    }

    /// Connects to PostgreSQL and brings its schema to the same version as
    /// SQLite's (`sql::postgres::MIGRATIONS`), refusing a newer one.
    pub fn open_postgres(url: &str) -> Result<PlatformDb, DbError> {
        let backend = PostgresBackend::connect(url)?;
        crate::sql::postgres::migrate(&backend, &PLATFORM, crate::sql::postgres::MIGRATIONS)?;
        Ok(PlatformDb {
            conn: Sql::new(Box::new(backend)),
            keys: None,
        })
    }

    /// Which engine this platform runs on.
    pub fn engine(&self) -> Engine {
        self.conn.engine()
    }

    pub fn existing(&self, record_id: Uuid) -> Result<Option<Existing>, DbError> {
        let row = self
            .conn
            .query_row(
                "SELECT body_sha256, state, reviewed_by, reasons FROM records WHERE record_id = ?1",
                [record_id.to_string()],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get::<_, Option<String>>(3)?,
                    ))
                },
            )
            .optional()?;
        row.map(|(body_sha256, state, reviewed_by, reasons)| {
            Ok(Existing {
                body_sha256,
                state,
                reviewed_by,
                reasons: parse_reasons(reasons)?,
            })
        })
        .transpose()
    }

    /// Stores a record unless one with its id is already there; returns
    /// what was there instead, if anything.
    pub fn insert(
        &mut self,
        new: &NewRecord<'_>,
        now: DateTime<Utc>,
    ) -> Result<Option<Existing>, DbError> {
        let tx = self.conn.transaction()?;
        let (state, reasons, reviewed_by, reviewed_at) = match new.rejected {
            Some(r) => (
                "rejected",
                Some(reasons_json(r)?),
                Some(INTAKE_REVIEWER),
                Some(ts(now)),
            ),
            None => ("received", None, None, None),
        };
        let inserted = tx.execute(
            "INSERT INTO records (record_id, record_number, kiosk_id, client_cert, township_code, received_at, \
             state, reasons, reviewed_at, reviewed_by, supersedes, body_sha256, sealed, documents_missing, person_key, categories) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16) ON CONFLICT(record_id) DO NOTHING",
            params![
                new.record_id.to_string(),
                new.record_number,
                new.kiosk_id,
                new.client_cert,
                new.township_code,
                ts(now),
                state,
                reasons,
                reviewed_at,
                reviewed_by,
                new.supersedes.map(|u| u.to_string()),
                new.body_sha256,
                new.sealed,
                new.documents_missing,
                new.person_key,
                new.categories
                    .iter()
                    .map(|c| c.slug())
                    .collect::<Vec<_>>()
                    .join(","),
            ],
        )?;
        if inserted == 0 {
            drop(tx);
            return self.existing(new.record_id);
        }
        for category in new.categories {
            tx.execute(
                "INSERT INTO record_categories (category, received_at, record_id) VALUES (?1, ?2, ?3) \
                 ON CONFLICT DO NOTHING",
                params![category.slug(), ts(now), new.record_id.to_string()],
            )?;
        }
        if let (Some(old), None) = (new.supersedes, new.rejected) {
            tx.execute(
                "UPDATE records SET state = 'superseded', reviewed_at = ?1 WHERE record_id = ?2 AND state != 'superseded'",
                params![ts(now), old.to_string()],
            )?;
        }
        tx.commit()?;
        Ok(None)
    }

    /// The review state of each id, in the order asked.
    pub fn reviews(&self, ids: &[Uuid]) -> Result<Vec<(Uuid, ReviewState)>, DbError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT state, reasons FROM records WHERE record_id = ?1")?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let row = stmt
                .query_row([id.to_string()], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
                })
                .optional()?;
            let review = match row {
                None => ReviewState::Unknown,
                Some((state, reasons)) => match state.as_str() {
                    "received" => ReviewState::Received,
                    "accepted" => ReviewState::Accepted,
                    "superseded" => ReviewState::Superseded,
                    "rejected" => ReviewState::Rejected {
                        reasons: parse_reasons(reasons)?,
                    },
                    other => return Err(DbError::Corrupt(format!("bad state {other:?}"))),
                },
            };
            out.push((*id, review));
        }
        Ok(out)
    }

    /// A reviewer's decision: `None` accepts, `Some(reasons)` rejects.
    pub fn review(
        &self,
        record_id: Uuid,
        reviewer: &str,
        rejection: Option<&[Problem]>,
        now: DateTime<Utc>,
    ) -> Result<(), DbError> {
        let Some(existing) = self.existing(record_id)? else {
            return Err(DbError::NotFound(record_id));
        };
        if existing.state != "received" {
            return Err(DbError::NotReviewable(record_id, existing.state));
        }
        let (state, reasons) = match rejection {
            None => ("accepted", None),
            Some(r) => ("rejected", Some(reasons_json(r)?)),
        };
        self.conn.execute(
            "UPDATE records SET state = ?1, reasons = ?2, reviewed_at = ?3, reviewed_by = ?4 \
             WHERE record_id = ?5 AND state = 'received'",
            params![state, reasons, ts(now), reviewer, record_id.to_string()],
        )?;
        Ok(())
    }

    pub fn list(&self, state: Option<&str>) -> Result<Vec<Received>, DbError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {RECEIVED_COLUMNS} FROM records WHERE CAST(?1 AS TEXT) IS NULL OR state = ?1 ORDER BY received_at, record_id"
        ))?;
        let mut rows = stmt.query(params![state])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(Received::from_row(row)?);
        }
        Ok(out)
    }

    /// How many records the platform holds.
    pub fn count(&self) -> Result<u64, DbError> {
        self.conn
            .query_row("SELECT count(*) FROM records", params![], |r| r.get(0))
    }

    pub fn sealed(&self, record_id: Uuid) -> Result<Option<Vec<u8>>, DbError> {
        self.conn
            .query_row(
                "SELECT sealed FROM records WHERE record_id = ?1",
                [record_id.to_string()],
                |r| r.get(0),
            )
            .optional()
    }

    /// From now on the look-up base is sealed and keyed with `keys`.
    pub fn use_keys(&mut self, keys: crate::register::RegisterKeys) {
        self.keys = Some(keys);
    }

    pub(crate) fn keys(&self) -> Result<&crate::register::RegisterKeys, DbError> {
        self.keys.as_ref().ok_or(DbError::NoKey)
    }

    /// Adds or replaces people in the base database (sealed, keyed by the
    /// person key), as `import-base` does; an accepted record's entry is
    /// not replaced by an import.
    pub fn import_base(
        &mut self,
        people: &[(IdNumber, Record)],
        now: DateTime<Utc>,
    ) -> Result<usize, DbError> {
        // One transaction (put_base_entry borrows the connection itself).
        self.conn.execute_batch("BEGIN")?;
        let written = people
            .iter()
            .try_for_each(|(_, record)| self.put_base_entry(record, "import", now));
        match written {
            Ok(()) => self.conn.execute_batch("COMMIT")?,
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                return Err(e);
            }
        }
        Ok(people.len())
    }

    pub fn look_up(&self, id: &IdNumber) -> Result<Option<Record>, DbError> {
        let keys = self.keys()?;
        let sealed: Option<Vec<u8>> = self
            .conn
            .query_row(
                "SELECT sealed FROM base_entries WHERE person_key = ?1",
                [keys.person_key(id.as_str())],
                |r| r.get(0),
            )
            .optional()?;
        sealed.map(|s| keys.open_record(&s)).transpose()
    }
}

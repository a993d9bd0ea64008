//! The platform's own SQLite: received records (still sealed), their review
//! state, and the base database of people already known to the county;
//! from version 2 also the console's accounts, sessions and audit log (see
//! `console::store`) and what its record list filters on.

use std::path::Path;

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
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
    migrations: &[V1, V2_CONSOLE, crate::kiosks::V3_KIOSKS],
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

/// Who refuses a record at intake (as opposed to a named reviewer).
pub const INTAKE_REVIEWER: &str = "intake-validation";

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(transparent)]
    Schema(#[from] SchemaError),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("no record {0}")]
    NotFound(Uuid),
    #[error("record {0} is {1}, not awaiting review")]
    NotReviewable(Uuid, String),
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

pub struct PlatformDb {
    pub(crate) conn: Connection,
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
    pub fn open(path: &Path) -> Result<PlatformDb, DbError> {
        let mut conn = sqlite_schema::open_checked(path, &PLATFORM)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        sqlite_schema::migrate_to(&mut conn, &PLATFORM, PLATFORM.latest())?;
        Ok(PlatformDb { conn })
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
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
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
             state, reasons, reviewed_at, reviewed_by, supersedes, body_sha256, sealed, documents_missing, person_key) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) ON CONFLICT(record_id) DO NOTHING",
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
            ],
        )?;
        if inserted == 0 {
            drop(tx);
            return self.existing(new.record_id);
        }
        for category in new.categories {
            tx.execute(
                "INSERT OR IGNORE INTO record_categories (category, received_at, record_id) VALUES (?1, ?2, ?3)",
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
        let mut stmt = self.conn.prepare_cached(
            "SELECT record_id, record_number, kiosk_id, township_code, received_at, state, reasons, reviewed_by \
             FROM records WHERE ?1 IS NULL OR state = ?1 ORDER BY received_at, record_id",
        )?;
        let rows = stmt.query_map([state], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get::<_, Option<String>>(6)?,
                r.get(7)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (
                id,
                record_number,
                kiosk_id,
                township_code,
                received_at,
                state,
                reasons,
                reviewed_by,
            ) = row?;
            out.push(Received {
                record_id: Uuid::parse_str(&id).map_err(|_| DbError::Corrupt("bad uuid".into()))?,
                record_number,
                kiosk_id,
                township_code,
                received_at,
                state,
                reasons: parse_reasons(reasons)?,
                reviewed_by,
            });
        }
        Ok(out)
    }

    /// How many records the platform holds.
    pub fn count(&self) -> Result<u64, DbError> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM records", [], |r| r.get(0))?)
    }

    pub fn sealed(&self, record_id: Uuid) -> Result<Option<Vec<u8>>, DbError> {
        Ok(self
            .conn
            .query_row(
                "SELECT sealed FROM records WHERE record_id = ?1",
                [record_id.to_string()],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Adds or replaces people in the base database, keyed by ID number.
    pub fn import_base(
        &mut self,
        people: &[(IdNumber, Record)],
        now: DateTime<Utc>,
    ) -> Result<usize, DbError> {
        let tx = self.conn.transaction()?;
        {
            let mut stmt = tx.prepare(
                "INSERT INTO base_people (id_number, record_json, imported_at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT(id_number) DO UPDATE SET record_json = excluded.record_json, imported_at = excluded.imported_at",
            )?;
            for (id, record) in people {
                let json =
                    serde_json::to_string(record).map_err(|e| DbError::Corrupt(e.to_string()))?;
                stmt.execute(params![id.as_str(), json, ts(now)])?;
            }
        }
        tx.commit()?;
        Ok(people.len())
    }

    pub fn look_up(&self, id: &IdNumber) -> Result<Option<Record>, DbError> {
        let json: Option<String> = self
            .conn
            .query_row(
                "SELECT record_json FROM base_people WHERE id_number = ?1",
                [id.as_str()],
                |r| r.get(0),
            )
            .optional()?;
        json.map(|j| {
            serde_json::from_str(&j)
                .map_err(|_| DbError::Corrupt("a base record does not parse".into()))
        })
        .transpose()
    }
}

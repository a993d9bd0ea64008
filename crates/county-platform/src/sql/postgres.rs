//! The PostgreSQL backend, for a city or province running many counties on
//! one database server.
//!
//! Client: the `postgres` crate (the blocking face of `tokio-postgres`, by
//! the rust-postgres project: pure Rust, maintained for years, the usual
//! choice). The platform's store calls are synchronous behind one mutex
//! (as with SQLite), but the blocking client runs its own tokio runtime and
//! panics if it is called, created or dropped on a thread of the server's
//! runtime. So the client lives on a thread of its own for its whole life;
//! each call sends it a job and waits for the answer, which is what a
//! SQLite call did on the caller's thread.

use std::collections::HashMap;
use std::error::Error as StdError;
use std::sync::mpsc;

use postgres::types::{FromSql, IsNull, ToSql, Type};
use postgres::{Client, NoTls, Statement};
use sqlite_schema::{Schema, SchemaError};

use super::{Backend, Engine, Row, Value};
use crate::db::DbError;

/// The platform's schema on PostgreSQL, version for version the same as
/// SQLite's (`db::PLATFORM`): migration `i` takes version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[PG_V1, PG_V2_CONSOLE, PG_V3_REGISTER, PG_V4_KIOSKS];

const PG_V1: &str = r#"
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
    sealed        BYTEA NOT NULL
);
CREATE INDEX records_by_state ON records(state, received_at);
CREATE TABLE base_people (
    id_number   TEXT PRIMARY KEY,
    record_json TEXT NOT NULL,
    imported_at TEXT NOT NULL
);
"#;

/// The audit log is append-only here too: a trigger refuses UPDATE and
/// DELETE row by row, another refuses TRUNCATE.
const PG_V2_CONSOLE: &str = r#"
CREATE TABLE console_users (
    username      TEXT PRIMARY KEY,
    role          TEXT NOT NULL CHECK (role IN ('reviewer','admin','viewer')),
    password_hash TEXT NOT NULL,
    failed_logins BIGINT NOT NULL DEFAULT 0,
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
    seq       BIGSERIAL PRIMARY KEY,
    at        TEXT NOT NULL,
    username  TEXT NOT NULL,
    action    TEXT NOT NULL,
    record_id TEXT
);
CREATE FUNCTION console_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'the audit log is append-only'; END
$$;
CREATE TRIGGER console_audit_no_update_or_delete BEFORE UPDATE OR DELETE ON console_audit
    FOR EACH ROW EXECUTE FUNCTION console_audit_append_only();
CREATE TRIGGER console_audit_no_truncate BEFORE TRUNCATE ON console_audit
    FOR EACH STATEMENT EXECUTE FUNCTION console_audit_append_only();
ALTER TABLE records ADD COLUMN documents_missing BIGINT NOT NULL DEFAULT 0;
ALTER TABLE records ADD COLUMN person_key TEXT;
CREATE INDEX records_by_person ON records(person_key, received_at);
CREATE TABLE record_categories (
    category    TEXT NOT NULL,
    received_at TEXT NOT NULL,
    record_id   TEXT NOT NULL REFERENCES records(record_id),
    PRIMARY KEY (category, received_at, record_id)
);
CREATE INDEX records_missing_documents ON records(documents_missing, received_at, record_id);
CREATE INDEX records_by_received ON records(received_at, record_id);
CREATE INDEX records_by_supersedes ON records(supersedes);
CREATE INDEX records_by_state_page ON records(state, received_at, record_id);
CREATE INDEX records_by_township ON records(township_code, received_at, record_id);
CREATE INDEX records_by_township_state ON records(township_code, state);
CREATE INDEX records_by_kiosk ON records(kiosk_id, received_at, record_id);
"#;

const PG_V3_REGISTER: &str = r#"
CREATE TABLE persons (
    person_key     TEXT PRIMARY KEY,
    id_masked      TEXT NOT NULL,
    id_sealed      BYTEA NOT NULL,
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
    position   BIGINT NOT NULL,
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
    sealed        BYTEA NOT NULL,
    imported_at   TEXT NOT NULL,
    source        TEXT NOT NULL CHECK (source IN ('import','accepted'))
);
CREATE TABLE base_roster (
    person_key    TEXT PRIMARY KEY,
    township_code TEXT NOT NULL,
    categories    TEXT NOT NULL,
    row_sha256    TEXT NOT NULL,
    imported_at   TEXT NOT NULL,
    registered    BIGINT NOT NULL DEFAULT 0,
    accepted      BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX base_roster_by_township ON base_roster(township_code, registered, accepted);
CREATE INDEX records_uploads ON records(received_at, township_code);
CREATE TABLE base_imports (
    file_sha256 TEXT PRIMARY KEY,
    file_name   TEXT NOT NULL,
    rows        BIGINT NOT NULL,
    changed     BIGINT NOT NULL,
    imported_at TEXT NOT NULL,
    imported_by TEXT NOT NULL
);
CREATE INDEX records_by_person_state ON records(person_key, state);
ALTER TABLE records ADD COLUMN categories TEXT NOT NULL DEFAULT '';
UPDATE records SET categories = coalesce(
    (SELECT string_agg(category, ',') FROM record_categories c WHERE c.record_id = records.record_id), '');
CREATE INDEX records_stats ON records(township_code, state, categories);
"#;

const PG_V4_KIOSKS: &str = r#"
CREATE TABLE kiosks (
    kiosk_id      TEXT PRIMARY KEY,
    township_code TEXT NOT NULL DEFAULT '',
    enrolled_at   TEXT,
    enrolled_by   TEXT,
    revoked_at    TEXT,
    revoked_by    TEXT,
    revoke_reason TEXT,
    last_seen     TEXT,
    last_cert     TEXT,
    backlog       BIGINT
);
CREATE TABLE kiosk_certificates (
    cert_sha256 TEXT PRIMARY KEY,
    kiosk_id    TEXT NOT NULL,
    first_at    TEXT NOT NULL,
    issued_by   TEXT,
    not_after   TEXT,
    revoked_at  TEXT
);
CREATE INDEX kiosk_certificates_by_kiosk ON kiosk_certificates(kiosk_id);
INSERT INTO kiosks (kiosk_id, township_code)
    SELECT kiosk_id, max(township_code) FROM records GROUP BY kiosk_id ON CONFLICT DO NOTHING;
INSERT INTO kiosk_certificates (cert_sha256, kiosk_id, first_at)
    SELECT client_cert, min(kiosk_id), min(received_at) FROM records GROUP BY client_cert ON CONFLICT DO NOTHING;
ALTER TABLE console_audit ADD COLUMN detail TEXT;
"#;

/// The table that says which schema version a PostgreSQL database is at
/// (SQLite keeps this in its header: `user_version`, `application_id`).
const VERSION_TABLE: &str = "platform_schema";

type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// The client and its prepared statements, on their own thread.
struct Connection {
    client: Client,
    statements: HashMap<String, Statement>,
    url: String,
}

impl Connection {
    /// A server restart or a dropped network connection closes the client
    /// for good: the next call connects again (the call that met the
    /// closed connection has failed and said so; a transaction open then
    /// is gone, which the server rolled back).
    fn reconnect_if_closed(&mut self) {
        let lost = CONNECTION_LOST.with(|flag| flag.replace(false));
        if !lost && !self.client.is_closed() {
            return;
        }
        if let Ok(client) = Client::connect(&self.url, NoTls) {
            self.client = client;
            self.statements.clear();
        }
    }
}

pub struct PostgresBackend {
    jobs: mpsc::Sender<Job>,
}

thread_local! {
    /// Set on the connection's thread when a call met a lost connection.
    static CONNECTION_LOST: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn pg_error(e: postgres::Error) -> DbError {
    // No answer from the server, or the server ending the session
    // (SQLSTATE class 57: shut down, terminated; 08: connection trouble).
    // Not any other error: a reconnection in the middle of a transaction
    // must only follow a connection that is gone anyway.
    let lost = e.is_closed()
        || match e.as_db_error() {
            None => e
                .source()
                .is_some_and(|cause| cause.downcast_ref::<std::io::Error>().is_some()),
            Some(db) => db.code().code().starts_with("57") || db.code().code().starts_with("08"),
        };
    if lost {
        CONNECTION_LOST.with(|flag| flag.set(true));
    }
    // The server's own message (e.g. a trigger's) is in the source.
    let detail = match e.as_db_error() {
        Some(db) => format!("{}: {}", db.code().code(), db.message()),
        None => e.to_string(),
    };
    DbError::Postgres(detail)
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, tail) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((user, host)) => match user.split_once(':') {
            Some((name, _)) => format!("{scheme}://{name}:***@{host}{tail}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

impl PostgresBackend {
    /// Connects (on the backend's own thread) to `url`.
    pub fn connect(url: &str) -> Result<PostgresBackend, DbError> {
        let (jobs, inbox) = mpsc::channel::<Job>();
        let (ready, connected) = mpsc::channel::<Result<(), DbError>>();
        let url = url.to_string();
        std::thread::Builder::new()
            .name("platform-postgres".into())
            .spawn(move || {
                let mut conn = match Client::connect(&url, NoTls) {
                    Ok(client) => {
                        let _ = ready.send(Ok(()));
                        Connection {
                            client,
                            statements: HashMap::new(),
                            url,
                        }
                    }
                    Err(e) => {
                        let _ = ready.send(Err(pg_error(e)));
                        return;
                    }
                };
                // Ends when the backend (the sender) is dropped; the client
                // and its runtime are dropped here, off the server's runtime.
                while let Ok(job) = inbox.recv() {
                    conn.reconnect_if_closed();
                    job(&mut conn);
                }
            })
            .map_err(|e| DbError::Postgres(format!("cannot start the database thread: {e}")))?;
        connected
            .recv()
            .map_err(|_| DbError::Postgres("the database thread ended".into()))??;
        Ok(PostgresBackend { jobs })
    }

    fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Connection) -> Result<T, DbError> + Send + 'static,
    ) -> Result<T, DbError> {
        let (answer, answered) = mpsc::sync_channel(1);
        self.jobs
            .send(Box::new(move |conn| {
                let _ = answer.send(job(conn));
            }))
            .map_err(|_| DbError::Postgres("the database thread ended".into()))?;
        answered
            .recv()
            .map_err(|_| DbError::Postgres("the database thread ended".into()))?
    }
}

impl Connection {
    fn statement(&mut self, sql: &str) -> Result<Statement, DbError> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(&placeholders(sql)).map_err(pg_error)?;
        self.statements.insert(sql.to_string(), statement.clone());
        Ok(statement)
    }
}

fn as_params(params: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
}

impl Backend for PostgresBackend {
    fn engine(&self) -> Engine {
        Engine::Postgres
    }

    fn execute(&self, sql: &str, params: Vec<Value>) -> Result<usize, DbError> {
        let sql = sql.to_string();
        self.run(move |conn| {
            let statement = conn.statement(&sql)?;
            let changed = conn
                .client
                .execute(&statement, &as_params(&params))
                .map_err(pg_error)?;
            Ok(usize::try_from(changed).unwrap_or(usize::MAX))
        })
    }

    fn query(&self, sql: &str, params: Vec<Value>) -> Result<Vec<Row>, DbError> {
        let sql = sql.to_string();
        self.run(move |conn| {
            let statement = conn.statement(&sql)?;
            let rows = conn
                .client
                .query(&statement, &as_params(&params))
                .map_err(pg_error)?;
            rows.iter()
                .map(|row| {
                    (0..row.len())
                        .map(|i| row.try_get::<_, Value>(i).map_err(pg_error))
                        .collect::<Result<Vec<_>, _>>()
                        .map(Row)
                })
                .collect()
        })
    }

    fn execute_batch(&self, sql: &str) -> Result<(), DbError> {
        let sql = sql.to_string();
        self.run(move |conn| conn.client.batch_execute(&sql).map_err(pg_error))
    }
}

/// SQLite's `?N` (and bare `?`, numbered as SQLite numbers it) become
/// PostgreSQL's `$N`; quoted text is left alone.
pub fn placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.chars().peekable();
    let mut in_quote = false;
    let mut highest = 0u32;
    while let Some(c) = chars.next() {
        if c == '\'' {
            in_quote = !in_quote;
            out.push(c);
            continue;
        }
        if c != '?' || in_quote {
            out.push(c);
            continue;
        }
        let mut digits = String::new();
        while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            digits.push(*d);
            chars.next();
        }
        let number = digits.parse::<u32>().unwrap_or(highest + 1);
        highest = highest.max(number);
        out.push('$');
        out.push_str(&number.to_string());
    }
    out
}

impl ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        // The server says which type each parameter is; the value is
        // written as that type (an integer 0/1 may fill a boolean, etc.).
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) => match *ty {
                Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
                Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
                Type::BOOL => (*i != 0).to_sql(ty, out),
                Type::FLOAT8 => (*i as f64).to_sql(ty, out),
                Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
                    i.to_string().to_sql(&Type::TEXT, out)
                }
                _ => i.to_sql(ty, out),
            },
            Value::Real(r) => match *ty {
                Type::FLOAT4 => (*r as f32).to_sql(ty, out),
                _ => r.to_sql(ty, out),
            },
            Value::Text(t) => match *ty {
                Type::BYTEA => t.as_bytes().to_sql(ty, out),
                Type::UNKNOWN => t.as_str().to_sql(&Type::TEXT, out),
                _ => t.as_str().to_sql(ty, out),
            },
            Value::Blob(b) => b.as_slice().to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

impl<'a> FromSql<'a> for Value {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Value, Box<dyn StdError + Sync + Send>> {
        Ok(match *ty {
            Type::BOOL => Value::Int(i64::from(bool::from_sql(ty, raw)?)),
            Type::INT2 => Value::Int(i64::from(i16::from_sql(ty, raw)?)),
            Type::INT4 => Value::Int(i64::from(i32::from_sql(ty, raw)?)),
            Type::INT8 => Value::Int(i64::from_sql(ty, raw)?),
            Type::FLOAT4 => Value::Real(f64::from(f32::from_sql(ty, raw)?)),
            Type::FLOAT8 => Value::Real(f64::from_sql(ty, raw)?),
            Type::BYTEA => Value::Blob(raw.to_vec()),
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
                Value::Text(String::from_sql(ty, raw)?)
            }
            _ => return Err(format!("the platform reads no column of type {ty}").into()),
        })
    }

    fn from_sql_null(_: &Type) -> Result<Value, Box<dyn StdError + Sync + Send>> {
        Ok(Value::Null)
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// Brings a PostgreSQL database to the latest version of `schema` with
/// `migrations` (same numbering as the SQLite ones); refuses a newer
/// database, or one that holds tables but is not the platform's, before
/// writing anything.
pub fn migrate(
    backend: &PostgresBackend,
    schema: &Schema,
    migrations: &'static [&'static str],
) -> Result<u32, DbError> {
    let name = schema.name;
    let application_id = i64::from(schema.application_id);
    let latest = migrations.len() as u32;
    let start = read_version(backend, schema)?;
    if start > latest {
        return Err(SchemaError::TooNew {
            name,
            found: start,
            supported: latest,
        }
        .into());
    }
    for version in start..latest {
        let Some(migration) = migrations.get(version as usize) else {
            break;
        };
        let migration = *migration;
        backend.run(move |conn| {
            let mut tx = conn.client.transaction().map_err(pg_error)?;
            // Two platforms starting at once: one migrates, the other waits
            // here and then finds the work done.
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&application_id])
                .map_err(pg_error)?;
            tx.batch_execute(&format!(
                "CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (application_id BIGINT NOT NULL, version BIGINT NOT NULL)"
            ))
            .map_err(pg_error)?;
            let now: Option<i64> = tx
                .query_opt(&format!("SELECT version FROM {VERSION_TABLE}"), &[])
                .map_err(pg_error)?
                .map(|r| r.get(0));
            if now.unwrap_or(0) > i64::from(version) {
                return tx.commit().map_err(pg_error);
            }
            tx.batch_execute(migration).map_err(pg_error)?;
            tx.execute(&format!("DELETE FROM {VERSION_TABLE}"), &[])
                .map_err(pg_error)?;
            tx.execute(
                &format!("INSERT INTO {VERSION_TABLE} (application_id, version) VALUES ($1, $2)"),
                &[&application_id, &i64::from(version + 1)],
            )
            .map_err(pg_error)?;
            tx.commit().map_err(pg_error)
        })?;
        // Statements prepared against the old schema may be stale.
        backend.run(|conn| {
            conn.statements.clear();
            Ok(())
        })?;
    }
    Ok(start)
}

/// The version a database is at (0: empty); refuses one that is not ours.
fn read_version(backend: &PostgresBackend, schema: &Schema) -> Result<u32, DbError> {
    let name = schema.name;
    let ours = i64::from(schema.application_id);
    // (application id, version) if recorded; tables in the schema; whether the version table exists.
    type Found = (Option<(i64, i64)>, i64, bool);
    let found: Result<Found, DbError> = backend.run(|conn| {
        let tables: i64 = conn
            .client
            .query_one(
                "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema()",
                &[],
            )
            .map_err(pg_error)?
            .get(0);
        let has_version: bool = conn
            .client
            .query_one(
                "SELECT to_regclass($1::text) IS NOT NULL",
                &[&VERSION_TABLE],
            )
            .map_err(pg_error)?
            .get(0);
        let header = if has_version {
            conn.client
                .query_opt(
                    &format!("SELECT application_id, version FROM {VERSION_TABLE}"),
                    &[],
                )
                .map_err(pg_error)?
                .map(|r| (r.get(0), r.get(1)))
        } else {
            None
        };
        Ok((header, tables, has_version))
    });
    let (header, tables, has_version) = found?;
    match header {
        Some((app, version)) if app == ours => Ok(u32::try_from(version).unwrap_or(u32::MAX)),
        Some((app, _)) => Err(SchemaError::NotOurs {
            name,
            found: i32::try_from(app).unwrap_or(-1),
        }
        .into()),
        // Empty, or a first migration that was rolled back.
        None if tables == 0 || (tables == 1 && has_version) => Ok(0),
        None => Err(SchemaError::NotOurs { name, found: 0 }.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_renumbered_and_quoted_text_is_left_alone() {
        assert_eq!(
            placeholders("SELECT a FROM t WHERE b = ?2 AND c = ?1 AND d = '?' AND e = ?"),
            "SELECT a FROM t WHERE b = $2 AND c = $1 AND d = '?' AND e = $3"
        );
        assert_eq!(placeholders("x = ? OR y = ?"), "x = $1 OR y = $2");
    }

    #[test]
    fn passwords_are_not_shown_in_logs() {
        assert_eq!(
            redact("postgres://county:secret@db.example/platform"),
            "postgres://county:***@db.example/platform"
        );
        assert_eq!(
            redact("postgresql://county@%2Ftmp%2Fpg:5432/platform"),
            "postgresql://county@%2Ftmp%2Fpg:5432/platform"
        );
    }
}

#[cfg(test)]
mod server_tests {
    use crate::db::{DbError, PLATFORM};
    use crate::testing::{Engine, TestDb};
    use sqlite_schema::SchemaError;

    #[test]
    fn a_newer_or_foreign_database_is_refused_untouched() {
        let newer = TestDb::new(Engine::Postgres);
        let db = newer.open().unwrap();
        db.conn
            .execute_batch("UPDATE platform_schema SET version = version + 1")
            .unwrap();
        drop(db);
        match newer.open() {
            Err(DbError::Schema(SchemaError::TooNew {
                found, supported, ..
            })) => {
                assert_eq!(
                    (found, supported),
                    (PLATFORM.latest() + 1, PLATFORM.latest())
                )
            }
            Err(e) => panic!("refused for another reason: {e}"),
            Ok(_) => panic!("a newer schema was opened"),
        }

        let foreign = TestDb::new(Engine::Postgres);
        let url = match foreign.target() {
            crate::sql::DbTarget::Postgres(url) => url.clone(),
            other => panic!("{other:?}"),
        };
        let backend = super::PostgresBackend::connect(&url).unwrap();
        crate::sql::Backend::execute_batch(&backend, "CREATE TABLE invoices (n BIGINT)").unwrap();
        drop(backend);
        assert!(matches!(
            foreign.open(),
            Err(DbError::Schema(SchemaError::NotOurs { .. }))
        ));
        // Opening again is no migration (and nothing was written to it).
        let fresh = TestDb::new(Engine::Postgres);
        drop(fresh.open().unwrap());
        let again = fresh.open().unwrap();
        let version: i64 = again
            .conn
            .query_row(
                "SELECT version FROM platform_schema",
                crate::sql::params![],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(version, i64::from(PLATFORM.latest()));
    }
}

#[cfg(test)]
mod reconnect_tests {
    use crate::testing::{Engine, TestDb};

    #[test]
    fn a_dropped_connection_is_made_again_on_the_next_call() {
        let test_db = TestDb::new(Engine::Postgres);
        let db = test_db.open().unwrap();
        assert_eq!(db.count().unwrap(), 0);
        let admin =
            super::PostgresBackend::connect(&crate::testing::server().url("postgres")).unwrap();
        let url = test_db.db_arg().to_str().unwrap().to_string();
        let name = url.rsplit('/').next().unwrap().to_string();
        // What a server restart or a network cut does to the platform's session.
        let ended = crate::sql::Backend::query(
            &admin,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
            vec![crate::sql::Value::Text(name)],
        )
        .unwrap();
        assert!(!ended.is_empty());
        // The call that meets the cut may fail; the one after works again.
        let _ = db.count();
        assert_eq!(db.count().unwrap(), 0);
    }
}

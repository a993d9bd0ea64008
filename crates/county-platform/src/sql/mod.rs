//! The seam between the platform's code and its database: one thin
//! connection trait ([`Backend`]) with two implementations, SQLite
//! (`sqlite.rs`, the default, embedded) and PostgreSQL (`postgres.rs`, for a
//! city or province serving many counties).
//!
//! Why a thin connection and not a domain-level store trait: the platform's
//! ~70 statements are plain SQL that both engines understand once a few
//! SQLite-only spellings are avoided (`INSERT OR IGNORE` → `ON CONFLICT DO
//! NOTHING`, `IS NOT ?` → `IS DISTINCT FROM ?`, a boolean stored as 0/1 is
//! written with `CASE`). So every statement is written once, in that common
//! dialect with SQLite's `?N` placeholders (the PostgreSQL backend renumbers
//! them to `$N`), and only the schema differs per engine (`db::PLATFORM` and
//! `postgres::MIGRATIONS`, versioned alike). A store trait with a method per
//! operation would have meant writing each of those statements twice.
//!
//! The API copies the shape of rusqlite's (`execute`, `query_row`,
//! `prepare_cached(..).query_map`, `transaction`) so the call sites read as
//! before; values cross the seam as [`Value`] and come back in [`Row`]s.

use std::ops::Deref;

use crate::db::DbError;

pub mod postgres;
pub mod sqlite;

/// One SQL value, as both engines hold it (a boolean is an integer 0/1).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

/// A Rust value that can be bound as a parameter.
pub trait ToValue {
    fn to_value(&self) -> Value;
}

macro_rules! int_to_value {
    ($($t:ty),*) => {$(
        impl ToValue for $t {
            fn to_value(&self) -> Value {
                Value::Int(i64::from(*self))
            }
        }
    )*};
}
int_to_value!(i64, i32, u32, u16, u8, bool);

impl ToValue for u64 {
    fn to_value(&self) -> Value {
        // Counts and versions: far below i64::MAX; saturate rather than wrap.
        Value::Int(i64::try_from(*self).unwrap_or(i64::MAX))
    }
}
impl ToValue for usize {
    fn to_value(&self) -> Value {
        Value::Int(i64::try_from(*self).unwrap_or(i64::MAX))
    }
}
impl ToValue for str {
    fn to_value(&self) -> Value {
        Value::Text(self.to_string())
    }
}
impl ToValue for String {
    fn to_value(&self) -> Value {
        Value::Text(self.clone())
    }
}
impl ToValue for [u8] {
    fn to_value(&self) -> Value {
        Value::Blob(self.to_vec())
    }
}
impl ToValue for Vec<u8> {
    fn to_value(&self) -> Value {
        Value::Blob(self.clone())
    }
}
impl ToValue for Value {
    fn to_value(&self) -> Value {
        self.clone()
    }
}
impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> Value {
        (**self).to_value()
    }
}
impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Value {
        match self {
            Some(v) => v.to_value(),
            None => Value::Null,
        }
    }
}

/// Parameters of one statement, in order.
pub trait Params {
    fn into_values(self) -> Vec<Value>;
}
impl Params for Vec<Value> {
    fn into_values(self) -> Vec<Value> {
        self
    }
}
impl<T: ToValue, const N: usize> Params for [T; N] {
    fn into_values(self) -> Vec<Value> {
        self.iter().map(ToValue::to_value).collect()
    }
}

/// `params![a, b, c]`: mixed parameters (like rusqlite's macro).
macro_rules! params {
    () => { ::std::vec::Vec::<$crate::sql::Value>::new() };
    ($($x:expr),+ $(,)?) => {
        vec![$($crate::sql::ToValue::to_value(&$x)),+]
    };
}
pub(crate) use params;

/// A column value read back into Rust.
pub trait FromValue: Sized {
    fn from_value(value: &Value) -> Result<Self, DbError>;
}

fn wrong_type(value: &Value, wanted: &str) -> DbError {
    DbError::Corrupt(format!("a column holds {value:?}, not {wanted}"))
}

impl FromValue for i64 {
    fn from_value(value: &Value) -> Result<Self, DbError> {
        match value {
            Value::Int(i) => Ok(*i),
            other => Err(wrong_type(other, "an integer")),
        }
    }
}
macro_rules! int_from_value {
    ($($t:ty),*) => {$(
        impl FromValue for $t {
            fn from_value(value: &Value) -> Result<Self, DbError> {
                let wide = i64::from_value(value)?;
                <$t>::try_from(wide).map_err(|_| wrong_type(value, stringify!($t)))
            }
        }
    )*};
}
int_from_value!(i32, u32, u64, usize);

impl FromValue for bool {
    fn from_value(value: &Value) -> Result<Self, DbError> {
        Ok(i64::from_value(value)? != 0)
    }
}
impl FromValue for f64 {
    fn from_value(value: &Value) -> Result<Self, DbError> {
        match value {
            Value::Real(r) => Ok(*r),
            Value::Int(i) => Ok(*i as f64),
            other => Err(wrong_type(other, "a number")),
        }
    }
}
impl FromValue for String {
    fn from_value(value: &Value) -> Result<Self, DbError> {
        match value {
            Value::Text(t) => Ok(t.clone()),
            other => Err(wrong_type(other, "text")),
        }
    }
}
impl FromValue for Vec<u8> {
    fn from_value(value: &Value) -> Result<Self, DbError> {
        match value {
            Value::Blob(b) => Ok(b.clone()),
            // SQLite lets a BLOB column hold text written as text.
            Value::Text(t) => Ok(t.as_bytes().to_vec()),
            other => Err(wrong_type(other, "bytes")),
        }
    }
}
impl FromValue for Value {
    fn from_value(value: &Value) -> Result<Self, DbError> {
        Ok(value.clone())
    }
}
impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: &Value) -> Result<Self, DbError> {
        match value {
            Value::Null => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }
}

/// A column position (a trait so `row.get(0)` reads as with rusqlite).
pub trait RowIndex {
    fn index(self) -> usize;
}
impl RowIndex for usize {
    fn index(self) -> usize {
        self
    }
}

/// One result row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row(pub Vec<Value>);

impl Row {
    pub fn get<I: RowIndex, T: FromValue>(&self, index: I) -> Result<T, DbError> {
        let index = index.index();
        let value = self
            .0
            .get(index)
            .ok_or_else(|| DbError::Corrupt(format!("no column {index}")))?;
        T::from_value(value)
    }
}

/// The rows of a query, read in full (`while let Some(row) = rows.next()?`).
pub struct Rows {
    rows: std::vec::IntoIter<Row>,
    current: Option<Row>,
}

impl Rows {
    #[allow(clippy::should_implement_trait)] // lends the row, as rusqlite's does
    pub fn next(&mut self) -> Result<Option<&Row>, DbError> {
        self.current = self.rows.next();
        Ok(self.current.as_ref())
    }
}

/// Which engine a connection talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// One database connection. Statements are written in the common dialect
/// with `?N` placeholders; a backend rewrites what its engine needs.
pub trait Backend: Send {
    fn engine(&self) -> Engine;
    /// Runs one statement; how many rows it changed.
    fn execute(&self, sql: &str, params: Vec<Value>) -> Result<usize, DbError>;
    /// Runs one statement; every row it returned.
    fn query(&self, sql: &str, params: Vec<Value>) -> Result<Vec<Row>, DbError>;
    /// Runs statements without parameters (migrations, BEGIN/COMMIT).
    fn execute_batch(&self, sql: &str) -> Result<(), DbError>;
    /// What starts a transaction that will write (SQLite takes the write
    /// lock at once so it cannot fail half-way with "busy").
    fn begin_write(&self) -> &'static str {
        "BEGIN"
    }
}

/// The platform's connection: a backend behind the rusqlite-shaped API.
pub struct Sql {
    backend: Box<dyn Backend>,
}

/// Turns "no row" into `None` (as rusqlite's `OptionalExtension`).
pub trait OptionalExtension<T> {
    fn optional(self) -> Result<Option<T>, DbError>;
}
impl<T> OptionalExtension<T> for Result<T, DbError> {
    fn optional(self) -> Result<Option<T>, DbError> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(DbError::NoRow) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

impl Sql {
    pub fn new(backend: Box<dyn Backend>) -> Sql {
        Sql { backend }
    }

    pub fn engine(&self) -> Engine {
        self.backend.engine()
    }

    pub fn execute<P: Params>(&self, sql: &str, params: P) -> Result<usize, DbError> {
        self.backend.execute(sql, params.into_values())
    }

    pub fn execute_batch(&self, sql: &str) -> Result<(), DbError> {
        self.backend.execute_batch(sql)
    }

    pub fn query_rows<P: Params>(&self, sql: &str, params: P) -> Result<Vec<Row>, DbError> {
        self.backend.query(sql, params.into_values())
    }

    /// The first row through `f`; [`DbError::NoRow`] when there is none.
    pub fn query_row<P: Params, T>(
        &self,
        sql: &str,
        params: P,
        f: impl FnOnce(&Row) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        let rows = self.query_rows(sql, params)?;
        rows.first().map(f).unwrap_or(Err(DbError::NoRow))
    }

    /// A statement to run with several sets of parameters (the name says
    /// what it was with rusqlite; the PostgreSQL backend caches it).
    pub fn prepare_cached(&self, sql: &str) -> Result<Stmt<'_>, DbError> {
        Ok(Stmt {
            conn: self,
            sql: sql.to_string(),
        })
    }

    pub fn prepare(&self, sql: &str) -> Result<Stmt<'_>, DbError> {
        self.prepare_cached(sql)
    }

    /// A transaction; rolled back when dropped without `commit`.
    pub fn transaction(&self) -> Result<Transaction<'_>, DbError> {
        self.execute_batch(self.backend.begin_write())?;
        Ok(Transaction {
            conn: self,
            open: true,
        })
    }

    /// Sets a SQLite pragma; nothing on PostgreSQL (e.g. `secure_delete`,
    /// which PostgreSQL has no counterpart of: its dead rows go at VACUUM).
    pub fn sqlite_pragma(&self, name: &str, value: &str) -> Result<(), DbError> {
        match self.engine() {
            Engine::Sqlite => self.execute_batch(&format!("PRAGMA {name} = {value}")),
            Engine::Postgres => Ok(()),
        }
    }
}

/// A statement with its SQL, run by `query`, `query_map` or `execute`.
pub struct Stmt<'a> {
    conn: &'a Sql,
    sql: String,
}

impl Stmt<'_> {
    pub fn query<P: Params>(&mut self, params: P) -> Result<Rows, DbError> {
        Ok(Rows {
            rows: self.conn.query_rows(&self.sql, params)?.into_iter(),
            current: None,
        })
    }

    pub fn query_map<P: Params, T>(
        &mut self,
        params: P,
        mut f: impl FnMut(&Row) -> Result<T, DbError>,
    ) -> Result<std::vec::IntoIter<Result<T, DbError>>, DbError> {
        let rows = self.conn.query_rows(&self.sql, params)?;
        Ok(rows.iter().map(&mut f).collect::<Vec<_>>().into_iter())
    }

    pub fn execute<P: Params>(&mut self, params: P) -> Result<usize, DbError> {
        self.conn.execute(&self.sql, params)
    }

    pub fn query_row<P: Params, T>(
        &mut self,
        params: P,
        f: impl FnOnce(&Row) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        self.conn.query_row(&self.sql, params, f)
    }
}

/// An open transaction; statements run through it (`Deref` to [`Sql`]).
pub struct Transaction<'a> {
    conn: &'a Sql,
    open: bool,
}

impl Transaction<'_> {
    pub fn commit(mut self) -> Result<(), DbError> {
        self.open = false;
        self.conn.execute_batch("COMMIT")
    }
}

impl Deref for Transaction<'_> {
    type Target = Sql;
    fn deref(&self) -> &Sql {
        self.conn
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if self.open {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

/// Where the platform's database is, as `--db` names it: a SQLite file, or
/// a PostgreSQL server (`postgres://…` / `postgresql://…`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbTarget {
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

impl DbTarget {
    pub fn parse(text: &std::path::Path) -> DbTarget {
        match text.to_str() {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                DbTarget::Postgres(url.to_string())
            }
            _ => DbTarget::Sqlite(text.to_path_buf()),
        }
    }

    /// For logs: the URL without a password.
    pub fn describe(&self) -> String {
        match self {
            DbTarget::Sqlite(path) => path.display().to_string(),
            DbTarget::Postgres(url) => postgres::redact(url),
        }
    }
}

//! The SQLite backend: the embedded default, one file per county.

use rusqlite::types::{Value as SqliteValue, ValueRef};
use rusqlite::Connection;

use super::{Backend, Engine, Row, Value};
use crate::db::DbError;

pub struct SqliteBackend {
    conn: Connection,
}

impl SqliteBackend {
    pub fn new(conn: Connection) -> SqliteBackend {
        SqliteBackend { conn }
    }
}

fn to_sqlite(value: Value) -> SqliteValue {
    match value {
        Value::Null => SqliteValue::Null,
        Value::Int(i) => SqliteValue::Integer(i),
        Value::Real(r) => SqliteValue::Real(r),
        Value::Text(t) => SqliteValue::Text(t),
        Value::Blob(b) => SqliteValue::Blob(b),
    }
}

fn from_sqlite(value: ValueRef<'_>) -> Value {
    match value {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Int(i),
        ValueRef::Real(r) => Value::Real(r),
        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
    }
}

impl Backend for SqliteBackend {
    fn engine(&self) -> Engine {
        Engine::Sqlite
    }

    fn execute(&self, sql: &str, params: Vec<Value>) -> Result<usize, DbError> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        Ok(stmt.execute(rusqlite::params_from_iter(
            params.into_iter().map(to_sqlite),
        ))?)
    }

    fn query(&self, sql: &str, params: Vec<Value>) -> Result<Vec<Row>, DbError> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let columns = stmt.column_count();
        let mut rows = stmt.query(rusqlite::params_from_iter(
            params.into_iter().map(to_sqlite),
        ))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let mut values = Vec::with_capacity(columns);
            for i in 0..columns {
                values.push(from_sqlite(row.get_ref(i)?));
            }
            out.push(Row(values));
        }
        Ok(out)
    }

    fn execute_batch(&self, sql: &str) -> Result<(), DbError> {
        Ok(self.conn.execute_batch(sql)?)
    }

    fn begin_write(&self) -> &'static str {
        "BEGIN IMMEDIATE"
    }
}

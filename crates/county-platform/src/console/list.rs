//! The review list: filters and keyset paging over the `records` table, so
//! page N costs the same as page 1 at 200,000 records (every filter has an
//! index that ends in `received_at, record_id`).

use crate::sql::Value;
use chrono::NaiveDate;
use kiosk_core::category::Category;

use crate::db::{DbError, PlatformDb, Received, RECEIVED_COLUMNS};

/// Rows on one page.
pub const PAGE_SIZE: u32 = 50;

/// The review states a filter may name.
pub const STATES: [(&str, &str); 4] = [
    ("received", "待审核"),
    ("accepted", "已通过"),
    ("rejected", "已退回"),
    ("superseded", "已被更正"),
];

pub fn state_zh(state: &str) -> &'static str {
    STATES
        .iter()
        .find(|(code, _)| *code == state)
        .map(|(_, zh)| *zh)
        .unwrap_or("未知")
}

/// What the list is narrowed to; every field parsed from the query string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub township: Option<String>,
    pub kiosk: Option<String>,
    pub state: Option<&'static str>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub has_problems: bool,
    pub category: Option<Category>,
    /// Only records where a certificate their categories need is missing
    /// (marked by staff as not shown, or refused for lacking it).
    pub documents_missing: bool,
    /// Keyset: the last (received_at, record_id) of the previous page.
    pub after: Option<(String, String)>,
}

fn short_text(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty() && text.chars().count() <= 64).then(|| text.to_string())
}

impl Filter {
    /// From query-string pairs; what does not parse is ignored (a filter
    /// the reviewer mistyped shows everything, never an error page).
    pub fn parse(pairs: &[(String, String)]) -> Filter {
        let mut filter = Filter::default();
        for (key, value) in pairs {
            match key.as_str() {
                "township" => filter.township = short_text(value),
                "kiosk" => filter.kiosk = short_text(value),
                "state" => {
                    filter.state = STATES
                        .iter()
                        .find(|(code, _)| *code == value)
                        .map(|(code, _)| *code)
                }
                "from" => filter.from = NaiveDate::parse_from_str(value, "%Y-%m-%d").ok(),
                "to" => filter.to = NaiveDate::parse_from_str(value, "%Y-%m-%d").ok(),
                "problems" => filter.has_problems = value == "1",
                "category" => filter.category = Category::from_slug(value),
                "missing" => filter.documents_missing = value == "1",
                "after" => {
                    filter.after = value
                        .split_once('|')
                        .filter(|(at, id)| at.len() <= 40 && id.len() == 36)
                        .map(|(at, id)| (at.to_string(), id.to_string()))
                }
                _ => {}
            }
        }
        filter
    }

    /// The query string of this filter without the page position.
    pub fn query_without_page(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if let Some(t) = &self.township {
            out.push(("township", t.clone()));
        }
        if let Some(k) = &self.kiosk {
            out.push(("kiosk", k.clone()));
        }
        if let Some(s) = self.state {
            out.push(("state", s.to_string()));
        }
        if let Some(d) = self.from {
            out.push(("from", d.to_string()));
        }
        if let Some(d) = self.to {
            out.push(("to", d.to_string()));
        }
        if self.has_problems {
            out.push(("problems", "1".to_string()));
        }
        if let Some(c) = self.category {
            out.push(("category", c.slug().to_string()));
        }
        if self.documents_missing {
            out.push(("missing", "1".to_string()));
        }
        out
    }
}

/// One row of the list.
pub struct ListRow {
    pub received: Received,
    pub documents_missing: bool,
}

/// One page of the list and the cursor of the next, if there is one.
pub struct Page {
    pub rows: Vec<ListRow>,
    pub next: Option<String>,
}

impl PlatformDb {
    pub fn console_page(&self, filter: &Filter) -> Result<Page, DbError> {
        let mut clauses: Vec<&str> = Vec::new();
        let mut values: Vec<Value> = Vec::new();
        let mut bind = |clause: &'static str, value: Value| {
            clauses.push(clause);
            values.push(value);
        };
        if let Some(t) = &filter.township {
            bind("township_code = ?", Value::Text(t.clone()));
        }
        if let Some(k) = &filter.kiosk {
            bind("kiosk_id = ?", Value::Text(k.clone()));
        }
        if let Some(s) = filter.state {
            bind("state = ?", Value::Text(s.to_string()));
        }
        if let Some(d) = filter.from {
            bind("received_at >= ?", Value::Text(d.to_string()));
        }
        if let Some(d) = filter.to.and_then(|d| d.succ_opt()) {
            bind("received_at < ?", Value::Text(d.to_string()));
        }
        if let Some((at, id)) = &filter.after {
            bind("received_at >= ?", Value::Text(at.clone()));
            clauses.push("(received_at > ? OR record_id > ?)");
            values.push(Value::Text(at.clone()));
            values.push(Value::Text(id.clone()));
        }
        if filter.has_problems {
            clauses.push("reasons IS NOT NULL");
        }
        if filter.documents_missing {
            clauses.push("documents_missing = 1");
        }
        if let Some(c) = filter.category {
            clauses
                .push("record_id IN (SELECT record_id FROM record_categories WHERE category = ?)");
            values.push(Value::Text(c.slug().to_string()));
        }
        let where_clause = if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        };
        let sql = format!(
            "SELECT {RECEIVED_COLUMNS}, documents_missing \
             FROM records {where_clause} ORDER BY received_at, record_id LIMIT {}",
            PAGE_SIZE + 1
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(values)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(ListRow {
                received: Received::from_row(row)?,
                documents_missing: row.get(8)?,
            });
        }
        let next = if out.len() > PAGE_SIZE as usize {
            out.truncate(PAGE_SIZE as usize);
            out.last()
                .map(|last| format!("{}|{}", last.received.received_at, last.received.record_id))
        } else {
            None
        };
        Ok(Page { rows: out, next })
    }
}

//! A person of the register (人员档案): the ID number masked, and every
//! record of the person over time — also those returned or refused at
//! intake — with what changed from each opened record to the next.

use std::collections::HashMap;

use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use kiosk_core::record::Record;
use maud::html;
use trust::seal;

use super::record_page::{changes_table, field_zh};
use super::{html_page, internal, list, pages, ConsoleState, RecordReaders, Staff};
use crate::register::PersonRecord;

pub fn routes() -> Router<ConsoleState> {
    Router::new().route("/persons/{person_key}", get(show))
}

/// A person key as the URL carries it: 64 lower-case hex digits.
fn parse_person_key(text: &str) -> Option<&str> {
    (text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        .then_some(text)
}

async fn show(
    State(state): State<ConsoleState>,
    UrlPath(person_key): UrlPath<String>,
    Staff(session, _): Staff<RecordReaders>,
) -> Response {
    let not_found = || {
        html_page(
            StatusCode::NOT_FOUND,
            pages::refused(Some(&session), "没有此人", "人员档案中没有此人。"),
        )
    };
    let Some(person_key) = parse_person_key(&person_key).map(str::to_string) else {
        return not_found();
    };
    let worker = state.clone();
    let key = person_key.clone();
    let loaded = tokio::task::spawn_blocking(move || {
        let (person, records, townships) = {
            let db = worker.app.db();
            (db.person(&key)?, db.person_records(&key)?, db.townships()?)
        };
        // Each record opened (the name and what changed come from inside).
        let mut opened: Vec<Option<Record>> = Vec::with_capacity(records.len());
        for r in &records {
            let sealed = worker.app.db().sealed(r.record_id)?;
            opened.push(
                sealed
                    .and_then(|s| seal::open::<Record>(&s, &worker.app.identity).ok())
                    .map(|(record, _)| record),
            );
        }
        Ok::<_, crate::DbError>((person, records, opened, townships))
    })
    .await;
    let (person, records, opened, townships) = match loaded {
        Ok(Ok(l)) => l,
        Ok(Err(e)) => return internal(e),
        Err(e) => return internal(e),
    };
    let Some(person) = person else {
        return not_found();
    };
    let names: HashMap<String, String> = townships.into_iter().collect();
    let name = opened
        .iter()
        .rev()
        .flatten()
        .map(|r| r.identity.name.clone())
        .next()
        .unwrap_or_default();
    // Consecutive opened records, for "what changed".
    let readable: Vec<(&PersonRecord, &Record)> = records
        .iter()
        .zip(&opened)
        .filter_map(|(r, o)| o.as_ref().map(|o| (r, o)))
        .collect();
    let steps: Vec<_> = readable.windows(2).map(|w| (w[0], w[1])).collect();
    // A record refused at intake keeps no township code: its own says where.
    let township_of = |r: &PersonRecord, opened: Option<&Record>| match opened {
        Some(record) if r.township_code.is_empty() => record.meta.township.name.clone(),
        _ => pages::township_label(&r.township_code, &names),
    };
    let number = |r: &PersonRecord| {
        r.record_number
            .clone()
            .unwrap_or_else(|| r.record_id.to_string())
    };
    let _ = state
        .app
        .db()
        .audit(session.username.as_str(), "person_view", None, state.now());
    let body = html! {
        h2 { "人员档案 · " (name) }
        p.muted {
            "公民身份号码 " (person.id_masked)
            " · 首次登记 " (pages::china_time_text(&person.first_received))
            " · 最近登记 " (pages::china_time_text(&person.last_received))
        }
        div.section {
            h3 { "登记记录（按接收时间）" }
            table {
                tr { th { "接收时间" } th { "受理编号" } th { "乡镇" } th { "采集点" } th { "状态" } th { "退回或拒收原因" } th { "" } }
                @for (r, o) in records.iter().zip(&opened) {
                    tr {
                        td { (pages::china_time_text(&r.received_at)) }
                        td { (r.record_number.as_deref().unwrap_or("—")) }
                        td { (township_of(r, o.as_ref())) }
                        td { (r.kiosk_id) }
                        td class=(format!("state-{}", r.state)) {
                            @if r.refused_at_intake { "接收时拒收" } @else { (list::state_zh(&r.state)) }
                        }
                        td {
                            @if r.reasons.is_empty() { "—" }
                            @else {
                                ul style="margin:0;padding-left:18px" {
                                    @for reason in &r.reasons { li { (field_zh(reason.field.as_deref())) "：" (reason.message) } }
                                }
                            }
                        }
                        td { a href=(format!("/records/{}", r.record_id)) { "查看" } }
                    }
                }
            }
        }
        @for ((before_row, before), (after_row, after)) in &steps {
            div.section {
                h3 {
                    "变化：" (number(before_row)) "（" (pages::china_time_text(&before_row.received_at)) "）→ "
                    (number(after_row)) "（" (pages::china_time_text(&after_row.received_at)) "）"
                }
                (changes_table((before_row.record_id, before), (after_row.record_id, after), "之前", "之后"))
            }
        }
    };
    html_page(
        StatusCode::OK,
        pages::layout("人员档案", Some(&session), body),
    )
}

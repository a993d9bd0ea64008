//! The list of return reasons, which county administrators edit (退回原因):
//! each reason is attached to a place on the record the kiosk knows
//! (`RETURN_FIELDS`), so the kiosk shows it next to that field. Reasons are
//! added, renamed and retired, never deleted: a returned record keeps the
//! text it was returned with, so old decisions read as they did.

use crate::sql::{params, OptionalExtension, Row};
use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use maud::html;

use super::record_page::RETURN_FIELDS;
use super::store::Session;
use super::{
    form_value, html_page, internal, pages, Admins, ConsoleState, Notice, Staff, StaffForm,
};
use crate::db::{ts, DbError, PlatformDb};
use kiosk_core::classified;

/// The longest name of a reason.
pub const MAX_LABEL_CHARS: usize = 30;

/// One reason of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnReason {
    /// Stable key (the form's value): for the reasons the list was seeded
    /// with, the field path itself.
    pub key: String,
    /// The record's field path the reason is attached to.
    pub field: String,
    pub label: String,
    pub retired: bool,
}

impl ReturnReason {
    /// A reason that only names the field (the seeded ones) says nothing
    /// by itself: the reviewer must write what is wrong.
    pub fn needs_text(&self) -> bool {
        self.key == self.field
    }

    /// The message the kiosk's staff read for this reason and free text.
    pub fn message(&self, text: &str) -> String {
        if self.needs_text() {
            text.to_string()
        } else if text.is_empty() {
            self.label.clone()
        } else {
            format!("{}：{text}", self.label)
        }
    }
}

pub fn field_name_zh(field: &str) -> Option<&'static str> {
    RETURN_FIELDS
        .iter()
        .find(|(key, _)| *key == field)
        .map(|(_, zh)| *zh)
}

/// A reason's name as typed: trimmed, 1–30 characters, no military unit.
fn parse_label(text: &str) -> Result<String, String> {
    let label = text.trim();
    if label.is_empty() {
        return Err("请填写原因名称。".into());
    }
    if label.chars().count() > MAX_LABEL_CHARS {
        return Err(format!("原因名称不能超过{MAX_LABEL_CHARS}个字。"));
    }
    if let Some(hit) = classified::check_text("return_reason", label)
        .into_iter()
        .next()
    {
        return Err(hit.message);
    }
    Ok(label.to_string())
}

/// A reason from `key, field, label, retired_at IS NOT NULL`.
fn reason_row(r: &Row) -> Result<ReturnReason, DbError> {
    Ok(ReturnReason {
        key: r.get(0)?,
        field: r.get(1)?,
        label: r.get(2)?,
        retired: r.get(3)?,
    })
}

impl PlatformDb {
    /// The list in its order; retired ones only with `with_retired`.
    pub fn return_reasons(&self, with_retired: bool) -> Result<Vec<ReturnReason>, DbError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT key, field, label, retired_at IS NOT NULL FROM return_reasons \
             WHERE ?1 OR retired_at IS NULL ORDER BY position, key",
        )?;
        let rows = stmt.query_map([with_retired], reason_row)?;
        rows.collect::<Result<_, _>>()
    }

    /// Adds a reason at the end of the list; its key.
    pub fn add_return_reason(&self, field: &str, label: &str) -> Result<String, DbError> {
        let position: i64 = self.conn.query_row(
            "SELECT coalesce(max(position), 0) + 1 FROM return_reasons",
            params![],
            |r| r.get(0),
        )?;
        let key = format!("reason-{position}");
        self.conn.execute(
            "INSERT INTO return_reasons (key, field, label, position) VALUES (?1, ?2, ?3, ?4)",
            params![key, field, label, position],
        )?;
        Ok(key)
    }

    /// Renames a reason; `false` if there is none under `key`.
    pub fn rename_return_reason(&self, key: &str, label: &str) -> Result<bool, DbError> {
        Ok(self.conn.execute(
            "UPDATE return_reasons SET label = ?2 WHERE key = ?1",
            params![key, label],
        )? == 1)
    }

    /// Retires a reason (or brings it back); `false` if there is none.
    pub fn retire_return_reason(
        &self,
        key: &str,
        retired: bool,
        now: DateTime<Utc>,
    ) -> Result<bool, DbError> {
        let at = retired.then(|| ts(now));
        Ok(self.conn.execute(
            "UPDATE return_reasons SET retired_at = ?2 WHERE key = ?1",
            params![key, at],
        )? == 1)
    }

    pub fn return_reason(&self, key: &str) -> Result<Option<ReturnReason>, DbError> {
        self
            .conn
            .query_row(
                "SELECT key, field, label, retired_at IS NOT NULL FROM return_reasons WHERE key = ?1",
                [key],
                reason_row,
            )
            .optional()
    }
}

pub fn routes() -> Router<ConsoleState> {
    Router::new()
        .route("/reasons", get(reasons_page).post(add_reason))
        .route("/reasons/rename", post(rename_reason))
        .route("/reasons/retire", post(retire_reason))
}

async fn reasons_page(
    State(state): State<ConsoleState>,
    Staff(session, _): Staff<Admins>,
) -> Response {
    reasons_answer(&state, &session, None)
}

fn reasons_answer(state: &ConsoleState, session: &Session, notice: Option<Notice>) -> Response {
    let reasons = match state.app.db().return_reasons(true) {
        Ok(r) => r,
        Err(e) => return internal(e),
    };
    let body = html! {
        h2 { "退回原因" }
        @if let Some(notice) = &notice { (notice) }
        p.muted { "审核人员退回记录时从此列表选择原因；每条原因对应记录中的一个项目，采集点会在该项目旁显示原因。停用的原因不再出现在退回表单中，已退回记录上的原因照常显示。" }
        table.users {
            tr { th { "原因名称" } th { "对应项目" } th { "状态" } th { "改名" } th { "" } }
            @for reason in &reasons {
                tr {
                    td { (reason.label) }
                    td { (field_name_zh(&reason.field).unwrap_or("其他")) }
                    td { @if reason.retired { span.muted { "已停用" } } @else { "使用中" } }
                    td {
                        form method="post" action="/reasons/rename" style="display:flex;gap:6px" {
                            (pages::csrf_field(&session.csrf_token))
                            input type="hidden" name="key" value=(reason.key);
                            input type="text" name="label" size="14" maxlength=(MAX_LABEL_CHARS) aria-label="新名称" value=(reason.label);
                            button.secondary type="submit" { "改名" }
                        }
                    }
                    td {
                        form method="post" action="/reasons/retire" {
                            (pages::csrf_field(&session.csrf_token))
                            input type="hidden" name="key" value=(reason.key);
                            @if reason.retired {
                                input type="hidden" name="retired" value="0";
                                button.secondary type="submit" { "恢复使用" }
                            } @else {
                                input type="hidden" name="retired" value="1";
                                button.secondary type="submit" { "停用" }
                            }
                        }
                    }
                }
            }
        }
        div.section style="margin-top:14px" {
            h3 { "新增原因" }
            form.filters method="post" action="/reasons" {
                (pages::csrf_field(&session.csrf_token))
                label { "对应项目" select name="field" {
                    @for (key, zh) in RETURN_FIELDS { option value=(key) { (zh) } }
                } }
                label { "原因名称（如“照片不清晰”）" input type="text" name="label" size="24" maxlength=(MAX_LABEL_CHARS) required; }
                button type="submit" { "新增" }
            }
        }
    };
    html_page(
        Notice::status(notice.as_ref()),
        pages::layout("退回原因", Some(session), body),
    )
}

async fn add_reason(
    State(state): State<ConsoleState>,
    StaffForm { session, form, .. }: StaffForm<Admins>,
) -> Response {
    let refuse = |m: String| reasons_answer(&state, &session, Some(Notice::Refused(m)));
    let Some(field) = form_value(&form, "field").filter(|f| field_name_zh(f).is_some()) else {
        return refuse("请选择对应项目。".into());
    };
    let label = match parse_label(form_value(&form, "label").unwrap_or_default()) {
        Ok(l) => l,
        Err(m) => return refuse(m),
    };
    let added = {
        let db = state.app.db();
        db.add_return_reason(field, &label).and_then(|key| {
            db.audit(session.username.as_str(), "reason_add", None, state.now())?;
            Ok(key)
        })
    };
    match added {
        Ok(_) => reasons_answer(
            &state,
            &session,
            Some(Notice::Done(format!("已新增退回原因“{label}”。"))),
        ),
        Err(e) => internal(e),
    }
}

async fn rename_reason(
    State(state): State<ConsoleState>,
    StaffForm { session, form, .. }: StaffForm<Admins>,
) -> Response {
    let refuse = |m: String| reasons_answer(&state, &session, Some(Notice::Refused(m)));
    let key = form_value(&form, "key").unwrap_or_default();
    let label = match parse_label(form_value(&form, "label").unwrap_or_default()) {
        Ok(l) => l,
        Err(m) => return refuse(m),
    };
    let renamed = {
        let db = state.app.db();
        db.rename_return_reason(key, &label).and_then(|found| {
            db.audit_if(
                found,
                session.username.as_str(),
                "reason_rename",
                state.now(),
            )
        })
    };
    match renamed {
        Ok(true) => reasons_answer(
            &state,
            &session,
            Some(Notice::Done(format!("已改名为“{label}”。"))),
        ),
        Ok(false) => refuse("没有这条原因。".into()),
        Err(e) => internal(e),
    }
}

async fn retire_reason(
    State(state): State<ConsoleState>,
    StaffForm { session, form, .. }: StaffForm<Admins>,
) -> Response {
    let key = form_value(&form, "key").unwrap_or_default();
    let retired = form_value(&form, "retired") != Some("0");
    let now = state.now();
    let done = {
        let db = state.app.db();
        db.retire_return_reason(key, retired, now)
            .and_then(|found| {
                let action = if retired {
                    "reason_retire"
                } else {
                    "reason_restore"
                };
                db.audit_if(found, session.username.as_str(), action, now)
            })
    };
    match done {
        Ok(true) => reasons_answer(
            &state,
            &session,
            Some(Notice::Done(if retired {
                "已停用，该原因不再出现在退回表单中。".to_string()
            } else {
                "已恢复使用。".to_string()
            })),
        ),
        Ok(false) => reasons_answer(
            &state,
            &session,
            Some(Notice::Refused("没有这条原因。".into())),
        ),
        Err(e) => internal(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Engine, TestDb};

    fn db(engine: Engine) -> (TestDb, PlatformDb) {
        let test_db = TestDb::new(engine);
        let db = test_db.open().unwrap_or_else(|e| panic!("{e}"));
        (test_db, db)
    }

    crate::both_engines!(
        the_list_is_seeded_and_reasons_are_added_renamed_and_retired,
        |engine| the_list_is_seeded_and_reasons_are_added_renamed_and_retired_on(engine).unwrap()
    );
    fn the_list_is_seeded_and_reasons_are_added_renamed_and_retired_on(
        engine: Engine,
    ) -> Result<(), DbError> {
        let (_dir, db) = db(engine);
        let seeded = db.return_reasons(false)?;
        assert_eq!(seeded.len(), RETURN_FIELDS.len());
        assert!(seeded.iter().all(ReturnReason::needs_text));
        let key = db.add_return_reason("photos.portrait", "照片不清晰")?;
        let added = db.return_reason(&key)?.unwrap_or_else(|| panic!("added"));
        assert!(!added.needs_text());
        assert_eq!(added.message(""), "照片不清晰");
        assert_eq!(added.message("请正对镜头"), "照片不清晰：请正对镜头");
        assert!(db.rename_return_reason(&key, "本人照片不清晰")?);
        assert!(db.retire_return_reason(&key, true, Utc::now())?);
        assert!(!db.return_reasons(false)?.iter().any(|r| r.key == key));
        let all = db.return_reasons(true)?;
        let retired = all.iter().find(|r| r.key == key);
        assert_eq!(
            retired.map(|r| (r.label.as_str(), r.retired)),
            Some(("本人照片不清晰", true))
        );
        assert!(!db.rename_return_reason("no-such", "x")?);
        let seeded_one = &seeded[9];
        assert_eq!(seeded_one.message("请重拍"), "请重拍");
        Ok(())
    }

    #[test]
    fn labels_are_trimmed_bounded_and_guarded() {
        assert_eq!(parse_label("  照片不清晰 "), Ok("照片不清晰".to_string()));
        assert!(parse_label("   ").is_err());
        assert!(parse_label(&"长".repeat(31)).is_err());
        assert!(parse_label("请到38军123团核实").is_err());
    }
}

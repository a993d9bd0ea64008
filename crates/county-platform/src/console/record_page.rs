//! The review list, a record grouped as the plan's 信息采集表 with its
//! photos beside the fields they prove, the photo route, and the decision.

use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use uuid::Uuid;

use super::list::{self, Filter, STATES};
use super::reasons::ReturnReason;
use super::store::{campaign_of, Linked, Session};
use super::{
    form_value, html_page, internal, pages, AnyRole, ConsoleState, RecordReaders, Refusal,
    Reviewers, Staff, StaffForm,
};
use crate::db::{DbError, INTAKE_REVIEWER};
use crate::register::{self, AcceptError};
use kiosk_core::card::Nation;
use kiosk_core::category::Category;
use kiosk_core::classified;
use kiosk_core::forms::{self, Field, FieldKind};
use kiosk_core::record::{DocumentPhoto, NeedArea, PhotoRef, Record};
use kiosk_core::Problem;
use trust::seal;

/// The places on a record a return reason can be attached to: the
/// record's own field paths, so the kiosk shows the reason next to the
/// field. The reasons themselves are the county's list (`reasons`).
pub const RETURN_FIELDS: [(&str, &str); 14] = [
    ("identity.name", "姓名"),
    ("identity.id_number", "公民身份号码"),
    ("identity.address", "户籍地址"),
    ("identity.current_address", "现居住地址"),
    ("identity.phone", "联系电话"),
    ("categories", "人员类别"),
    ("categories.details", "类别详细信息"),
    ("living", "生活状况"),
    ("needs", "需求"),
    ("photos.portrait", "本人照片"),
    ("photos.card_photo", "身份证照片"),
    ("documents", "证件材料"),
    ("signature", "签字确认"),
    ("other", "其他"),
];

/// The problem code of a reason given in the console.
pub const RETURN_CODE: &str = "county_review";
/// The longest free text of one reason.
pub const MAX_REASON_CHARS: usize = 200;
/// Reasons one decision may carry.
pub const MAX_REASONS: usize = 3;

pub(super) fn field_zh(field: Option<&str>) -> &'static str {
    RETURN_FIELDS
        .iter()
        .find(|(key, _)| Some(*key) == field)
        .map(|(_, zh)| *zh)
        .unwrap_or("整条记录")
}

/// Where a check points, in the words of the record page: the category
/// and the question, or the living-conditions question.
fn check_place_zh(record: &Record, field: Option<&kiosk_core::FieldPath>) -> String {
    let Some(field) = field else {
        return "整条记录".into();
    };
    let label = |fields: Vec<Field>| {
        let key = field.subfield().unwrap_or_default();
        fields
            .into_iter()
            .find(|f| f.key == key)
            .map(|f| f.label_zh)
    };
    match field.section() {
        "categories" => {
            let details = field.section_index().and_then(|i| record.categories.get(i));
            match details {
                Some(details) => {
                    let name = details.category().name_zh();
                    match label(forms::details_fields(details)) {
                        Some(question) => format!("{name}：{question}"),
                        None => name.to_string(),
                    }
                }
                None => "人员类别".into(),
            }
        }
        "living" => match label(forms::living_fields(&record.living)) {
            Some(question) => format!("生活状况：{question}"),
            None => "生活状况".into(),
        },
        _ => field_zh(Some(field.as_str())).to_string(),
    }
}

fn need_area_zh(area: NeedArea) -> &'static str {
    match area {
        NeedArea::Employment => "就业创业",
        NeedArea::Living => "生活困难",
        NeedArea::Housing => "住房",
        NeedArea::Medical => "医疗",
        NeedArea::ElderlyCare => "养老",
        NeedArea::Education => "子女教育",
        NeedArea::Transport => "交通出行",
        NeedArea::Culture => "文化生活",
        NeedArea::Other => "其他",
    }
}

pub async fn list(
    State(state): State<ConsoleState>,
    Query(query): Query<Vec<(String, String)>>,
    Staff(session, _): Staff<AnyRole>,
) -> Response {
    let filter = Filter::parse(&query);
    let answer = {
        let db = state.app.db();
        db.console_page(&filter)
            .and_then(|page| Ok((page, db.townships()?)))
    };
    let (page, townships) = match answer {
        Ok(a) => a,
        Err(e) => return internal(e),
    };
    let township_names: std::collections::HashMap<String, String> =
        townships.iter().cloned().collect();
    let base_query = filter.query_without_page();
    let next_href = page.next.as_ref().map(|after| {
        let mut q = base_query.clone();
        q.push(("after", after.clone()));
        format!("/records?{}", encode_query(&q))
    });
    let may_open = session.role.may_open_records();
    let body = html! {
        h2 { "记录审核" }
        form.filters method="get" action="/records" {
            label { "乡镇" select name="township" {
                option value="" { "全部" }
                @for (code, name) in &townships {
                    option value=(code) selected[filter.township.as_deref() == Some(code.as_str())] { (name) }
                }
            } }
            label { "采集点编号" input type="text" name="kiosk" size="10" value=[filter.kiosk.as_deref()]; }
            label { "状态" select name="state" {
                option value="" { "全部" }
                @for (code, zh) in STATES {
                    option value=(code) selected[filter.state == Some(code)] { (zh) }
                }
            } }
            // Text, not type=date: the browser's date widget shows its own
            // locale's order (mm/dd/yyyy on an English system).
            label { "接收日期自" input type="text" name="from" size="12" placeholder="2026-12-01" value=[filter.from.map(|d| d.to_string())]; }
            label { "至" input type="text" name="to" size="12" placeholder="2026-12-31" value=[filter.to.map(|d| d.to_string())]; }
            label { "人员类别" select name="category" {
                option value="" { "全部" }
                @for category in Category::ALL {
                    option value=(category.slug()) selected[filter.category == Some(category)] { (category.name_zh()) }
                }
            } }
            label { "只看有问题的" select name="problems" {
                option value="" { "否" }
                option value="1" selected[filter.has_problems] { "是" }
            } }
            label { "只看证件缺失的" select name="missing" {
                option value="" { "否" }
                option value="1" selected[filter.documents_missing] { "是" }
            } }
            button type="submit" { "筛选" }
            a.clear href="/records" { "清除条件" }
        }
        @if page.rows.is_empty() {
            div.notice { "没有符合条件的记录。" }
        } @else {
            table {
                tr { th { "受理编号" } th { "乡镇" } th { "采集点" } th { "接收时间" } th { "状态" } th { "问题" } th { "证件" } th { "审核人" } th { "" } }
                @for list_row in &page.rows {
                    @let row = &list_row.received;
                    tr {
                        td { (row.record_number.as_deref().unwrap_or("—")) }
                        td { (pages::township_label(&row.township_code, &township_names)) }
                        td { (row.kiosk_id) }
                        td { (pages::china_time_text(&row.received_at)) }
                        td class=(format!("state-{}", row.state)) { (list::state_zh(&row.state)) }
                        td { @if row.reasons.is_empty() { "—" } @else { (row.reasons.len()) " 项" } }
                        td {
                            @if list_row.documents_missing { span.state-rejected { "缺证件" } }
                            @else if row.reviewed_by.as_deref() == Some(INTAKE_REVIEWER) { "—" }
                            @else { "齐全" }
                        }
                        td {
                            @match row.reviewed_by.as_deref() {
                                Some(INTAKE_REVIEWER) => "接收时自动校验",
                                Some(reviewer) => (reviewer),
                                None => "—",
                            }
                        }
                        td { @if may_open { a href=(format!("/records/{}", row.record_id)) { "查看" } } }
                    }
                }
            }
        }
        div.pager {
            @if filter.after.is_some() { a href=(format!("/records?{}", encode_query(&base_query))) { "回到第一页" } }
            @if let Some(href) = &next_href { a href=(href) { "下一页" } }
        }
    };
    html_page(
        StatusCode::OK,
        pages::layout("记录审核", Some(&session), body),
    )
}

fn encode_query(pairs: &[(&str, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A record opened from its sealed envelope, with its photos.
struct Opened {
    record: Record,
    blobs: seal::Blobs,
    state: String,
    reasons: Vec<Problem>,
    /// For a correction: the record it supersedes, opened, if the platform has it.
    previous: Option<Record>,
    /// For a superseded record: the correction that replaced it.
    superseded_by: Option<Uuid>,
    /// The person's other records (same ID number), oldest first.
    linked: Vec<Linked>,
    /// When this record was received.
    received_at: String,
    /// The person's latest earlier accepted record (not the one this
    /// corrects), opened: what changed since is shown.
    earlier_accepted: Option<(Uuid, Record)>,
    /// The county's return reasons still in use (the decision form).
    reasons_in_use: Vec<ReturnReason>,
    /// The person in the register, when the record's identity was read.
    person_key: Option<String>,
}

enum OpenError {
    NotFound,
    Db(DbError),
    Unreadable(&'static str),
}

fn open_record(state: &ConsoleState, record_id: Uuid) -> Result<Opened, OpenError> {
    let (sealed, existing) = {
        let db = state.app.db();
        let sealed = db.sealed(record_id).map_err(OpenError::Db)?;
        let existing = db.existing(record_id).map_err(OpenError::Db)?;
        (sealed, existing)
    };
    let (Some(sealed), Some(existing)) = (sealed, existing) else {
        return Err(OpenError::NotFound);
    };
    let (record, blobs) = seal::open::<Record>(&sealed, &state.app.identity)
        .map_err(|e| OpenError::Unreadable(e.message_zh()))?;
    let previous = match record.meta.supersedes {
        None => None,
        Some(old) => {
            let sealed = state.app.db().sealed(old).map_err(OpenError::Db)?;
            sealed
                .and_then(|s| seal::open::<Record>(&s, &state.app.identity).ok())
                .map(|(r, _)| r)
        }
    };
    let (superseded_by, linked, received_at, reasons_in_use, person_key) = {
        let db = state.app.db();
        (
            db.superseded_by(record_id).map_err(OpenError::Db)?,
            db.same_person(record_id).map_err(OpenError::Db)?,
            db.received_at(record_id)
                .map_err(OpenError::Db)?
                .unwrap_or_default(),
            db.return_reasons(false).map_err(OpenError::Db)?,
            db.person_key_of(record_id).map_err(OpenError::Db)?,
        )
    };
    let earlier = linked.iter().rev().find(|l| {
        l.state == "accepted"
            && l.received_at < received_at
            && Some(l.record_id) != record.meta.supersedes
    });
    let earlier_accepted = match earlier {
        None => None,
        Some(l) => {
            let sealed = state.app.db().sealed(l.record_id).map_err(OpenError::Db)?;
            sealed
                .and_then(|s| seal::open::<Record>(&s, &state.app.identity).ok())
                .map(|(r, _)| (l.record_id, r))
        }
    };
    Ok(Opened {
        record,
        blobs,
        state: existing.state,
        reasons: existing.reasons,
        previous,
        superseded_by,
        linked,
        received_at,
        earlier_accepted,
        reasons_in_use,
        person_key,
    })
}

/// Opens a record off the request thread (unsealing is CPU work); the
/// page to send instead if it cannot be.
async fn open_off_thread(
    state: &ConsoleState,
    session: &Session,
    record_id: Uuid,
) -> Result<Opened, Response> {
    let worker = state.clone();
    match tokio::task::spawn_blocking(move || open_record(&worker, record_id)).await {
        Ok(Ok(opened)) => Ok(opened),
        Ok(Err(e)) => Err(open_failed(session, e)),
        Err(e) => Err(internal(e)),
    }
}

fn open_failed(session: &Session, error: OpenError) -> Response {
    match error {
        OpenError::NotFound => html_page(
            StatusCode::NOT_FOUND,
            pages::refused(Some(session), "没有这条记录", "平台上没有这条记录。"),
        ),
        OpenError::Db(e) => internal(e),
        OpenError::Unreadable(message) => html_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            pages::refused(Some(session), "记录无法打开", message),
        ),
    }
}

fn parse_record_id(session: &Session, text: &str) -> Result<Uuid, Refusal> {
    Uuid::parse_str(text).map_err(|_| {
        Box::new(html_page(
            StatusCode::NOT_FOUND,
            pages::refused(Some(session), "没有这条记录", "记录编号格式不正确。"),
        ))
    })
}

/// The photos a record holds, by the names the photo route takes: the
/// names come from the record, never from a path, so nothing can walk out.
fn named_photos(record: &Record) -> Vec<(String, String, &PhotoRef)> {
    let photos = &record.photos;
    let mut out = Vec::new();
    if let Some(p) = &photos.portrait {
        out.push(("portrait".to_string(), "本人照片".to_string(), p));
    }
    if let Some(p) = &photos.card_portrait {
        out.push(("card-portrait".to_string(), "身份证芯片照片".to_string(), p));
    }
    if let Some(p) = &photos.card_photo {
        out.push(("card-photo".to_string(), "身份证照片".to_string(), p));
    }
    for (i, doc) in record.documents.iter().enumerate() {
        out.push((
            format!("document-{}", i + 1),
            document_name(doc),
            &doc.photo,
        ));
    }
    out
}

/// "户口本", or "户口本 第2页" for a further page.
fn document_name(doc: &DocumentPhoto) -> String {
    match doc.page {
        1 => doc.kind.name_zh().to_string(),
        page => format!("{} 第{page}页", doc.kind.name_zh()),
    }
}

/// The chip portrait as read from the card (WLT), for the county to decode
/// with the vendor's library: a download, never shown.
pub async fn chip_portrait(
    State(state): State<ConsoleState>,
    UrlPath(record_id): UrlPath<String>,
    Staff(session, _): Staff<RecordReaders>,
) -> Response {
    let record_id = match parse_record_id(&session, &record_id) {
        Ok(id) => id,
        Err(r) => return *r,
    };
    let opened = match open_off_thread(&state, &session, record_id).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    let Some(raw) = opened.record.photos.card_portrait_wlt.as_ref() else {
        return html_page(
            StatusCode::NOT_FOUND,
            pages::refused(
                Some(&session),
                "没有芯片照片数据",
                "这条记录没有保存身份证芯片的原始照片数据。",
            ),
        );
    };
    let _ = state.app.db().audit(
        session.username.as_str(),
        "chip_portrait_download",
        Some(&record_id.to_string()),
        state.now(),
    );
    let disposition = format!("attachment; filename=\"{record_id}-chip-portrait.wlt\"");
    (
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        raw.as_bytes().to_vec(),
    )
        .into_response()
}

pub async fn photo(
    State(state): State<ConsoleState>,
    UrlPath((record_id, name)): UrlPath<(String, String)>,
    Staff(session, _): Staff<RecordReaders>,
) -> Response {
    let record_id = match parse_record_id(&session, &record_id) {
        Ok(id) => id,
        Err(r) => return *r,
    };
    let opened = match open_off_thread(&state, &session, record_id).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    let bytes = named_photos(&opened.record)
        .into_iter()
        .find(|(photo_name, _, _)| *photo_name == name)
        .and_then(|(_, _, photo)| opened.blobs.get(&photo.sha256))
        .map(<[u8]>::to_vec);
    let Some(bytes) = bytes else {
        return html_page(
            StatusCode::NOT_FOUND,
            pages::refused(Some(&session), "没有这张照片", "这条记录中没有这张照片。"),
        );
    };
    let _ = state.app.db().audit(
        session.username.as_str(),
        "photo_view",
        Some(&record_id.to_string()),
        state.now(),
    );
    let content_type = if bytes.starts_with(&[0xFF, 0xD8]) {
        "image/jpeg"
    } else if bytes.starts_with(b"\x89PNG") {
        "image/png"
    } else {
        "application/octet-stream"
    };
    ([(header::CONTENT_TYPE, content_type)], bytes).into_response()
}

pub(super) fn field_text(field: &Field) -> String {
    let none = "未填写".to_string();
    match &field.kind {
        FieldKind::Choice { options, selected } => selected
            .and_then(|i| options.get(i))
            .map(|s| s.to_string())
            .unwrap_or(none),
        FieldKind::Multi {
            options,
            selected,
            answered,
        } => {
            let chosen: Vec<&str> = options
                .iter()
                .zip(selected)
                .filter(|(_, on)| **on)
                .map(|(o, _)| *o)
                .collect();
            if !answered || chosen.is_empty() {
                none
            } else {
                chosen.join("、")
            }
        }
        FieldKind::Text { value } if value.trim().is_empty() => none,
        FieldKind::Text { value } => value.clone(),
        FieldKind::Number { value } => value.map(|v| v.to_string()).unwrap_or(none),
        FieldKind::Date { value } => value.map(|d| d.to_string()).unwrap_or(none),
    }
}

fn or_none(text: &str) -> &str {
    if text.trim().is_empty() {
        "未填写"
    } else {
        text
    }
}

fn photo_figures(record_id: Uuid, photos: &[(String, String, &PhotoRef)]) -> Markup {
    html! {
        div.photos {
            @for (name, label, _) in photos {
                @let href = format!("/records/{record_id}/photos/{name}");
                figure {
                    a href=(href) target="_blank" { img src=(href) alt=(label); }
                    figcaption { (label) }
                }
            }
            @if photos.is_empty() { p.muted { "无照片" } }
        }
    }
}

/// Every field of a record as (item, value), in the order of the form:
/// what a correction is compared on.
fn field_rows(record: &Record) -> Vec<(String, String)> {
    let identity = &record.identity;
    let date = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    let mut rows = vec![
        ("姓名".to_string(), identity.name.clone()),
        (
            "性别".into(),
            identity
                .sex
                .map(|s| s.as_zh().to_string())
                .unwrap_or_default(),
        ),
        (
            "民族".into(),
            identity
                .nation_code
                .and_then(Nation::from_code)
                .map(|n| n.name_zh().to_string())
                .unwrap_or_default(),
        ),
        ("出生日期".into(), date(identity.birth_date)),
        ("公民身份号码".into(), identity.id_number.clone()),
        ("户籍地址".into(), identity.address.clone()),
        ("现居住地址".into(), identity.current_address.clone()),
        ("联系电话".into(), identity.phone.clone()),
        ("签发机关".into(), identity.authority.clone()),
    ];
    for details in &record.categories {
        let name = details.category().name_zh();
        rows.push((format!("人员类别 · {name}"), "已选".into()));
        for field in forms::details_fields(details) {
            rows.push((format!("{name} · {}", field.label_zh), field_text(&field)));
        }
    }
    for field in forms::living_fields(&record.living) {
        rows.push((format!("生活状况 · {}", field.label_zh), field_text(&field)));
    }
    for need in &record.needs {
        rows.push((
            format!("需求 · {}", need_area_zh(need.area)),
            need.text.clone(),
        ));
    }
    for (name, label, photo) in named_photos(record) {
        // Photos compare by content: a new picture is a change.
        let key = if name.starts_with("document-") {
            format!("证件照片 · {label}")
        } else {
            format!("照片 · {label}")
        };
        rows.push((key, format!("照片 {}", photo.sha256.get(..8).unwrap_or(""))));
    }
    rows
}

/// The photo name (as the photo route takes it) of a compared photo item.
fn photo_of(record: &Record, item: &str) -> Option<String> {
    named_photos(record)
        .into_iter()
        .find(|(_, label, _)| item.ends_with(&format!(" · {label}")))
        .map(|(name, _, _)| name)
}

/// What a correction changed: (item, before, after), items in form order.
fn changes(before: &Record, after: &Record) -> Vec<(String, String, String)> {
    let old = field_rows(before);
    let new = field_rows(after);
    let value = |rows: &[(String, String)], key: &str| {
        rows.iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let mut keys: Vec<&String> = new.iter().map(|(k, _)| k).collect();
    for (k, _) in &old {
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    keys.into_iter()
        .map(|k| (k.clone(), value(&old, k), value(&new, k)))
        .filter(|(_, before, after)| before != after)
        .map(|(k, before, after)| {
            let shown = |v: String| {
                if v.is_empty() {
                    "（无）".to_string()
                } else {
                    v
                }
            };
            (k, shown(before), shown(after))
        })
        .collect()
}

/// A compared photo as a small picture opening full size.
fn thumbnail(record_id: Uuid, record: &Record, item: &str, text: &str) -> Markup {
    match photo_of(record, item) {
        Some(name) => {
            let href = format!("/records/{record_id}/photos/{name}");
            html! { a href=(href) target="_blank" { img.compare src=(href) alt=(item); } }
        }
        None => html! { (text) },
    }
}

/// The person's other records that look like a second registration in
/// the same campaign from another kiosk (not corrections of one another,
/// neither superseded).
fn duplicates<'a>(record: &Record, record_id: Uuid, opened: &'a Opened) -> Vec<&'a Linked> {
    let campaign = campaign_of(&opened.received_at);
    if opened.state == "superseded" || campaign.is_none() {
        return Vec::new();
    }
    opened
        .linked
        .iter()
        .filter(|l| {
            l.kiosk_id != record.meta.kiosk_id
                && campaign_of(&l.received_at) == campaign
                && l.state != "superseded"
                && !l.refused_at_intake
                && l.supersedes != Some(record_id)
                && record.meta.supersedes != Some(l.record_id)
        })
        .collect()
}

fn campaign_zh(campaign: &str) -> String {
    campaign
        .replace("-H1", "年上半年")
        .replace("-H2", "年下半年")
}

fn person_markup(record: &Record, record_id: Uuid, opened: &Opened) -> Markup {
    let duplicates = duplicates(record, record_id, opened);
    let campaign = campaign_of(&opened.received_at)
        .map(|c| campaign_zh(&c))
        .unwrap_or_default();
    html! {
        @if !duplicates.is_empty() {
            div.error role="alert" {
                "疑似重复登记：此人在本期（" (campaign) "）还在其他采集点登记过，请核实后只保留一条："
                ul {
                    @for d in &duplicates {
                        li {
                            "采集点 " (d.kiosk_id) " · 受理编号 " (d.record_number.as_deref().unwrap_or("—"))
                            " · " (list::state_zh(&d.state)) " · "
                            a href=(format!("/records/{}", d.record_id)) { "查看" }
                        }
                    }
                }
            }
        }
        @if let Some(key) = &opened.person_key {
            p { a href=(format!("/persons/{key}")) { "查看此人的人员档案（全部登记记录及变化）" } }
        }
        @if !opened.linked.is_empty() {
            div.section {
                h3 { "此人的其他登记记录（按身份证号关联）" }
                table {
                    tr { th { "受理编号" } th { "采集点" } th { "接收时间" } th { "状态" } th { "" } }
                    @for l in &opened.linked {
                        tr {
                            td { (l.record_number.as_deref().unwrap_or("—")) }
                            td { (l.kiosk_id) }
                            td { (pages::china_time_text(&l.received_at)) }
                            td class=(format!("state-{}", l.state)) { (list::state_zh(&l.state)) }
                            td { a href=(format!("/records/{}", l.record_id)) { "查看" } }
                        }
                    }
                }
                @if let Some((earlier_id, earlier)) = &opened.earlier_accepted {
                    p.muted { "与此人上一条已通过的记录（" a href=(format!("/records/{earlier_id}")) { (earlier_id) } "）相比：" }
                    (changes_table((*earlier_id, earlier), (record_id, record), "上一条已通过记录", "本记录"))
                }
            }
        }
    }
}

/// What changed from one record of a person to another: fields by label,
/// photos side by side.
pub(super) fn changes_table(
    (before_id, before): (Uuid, &Record),
    (after_id, after): (Uuid, &Record),
    before_head: &str,
    after_head: &str,
) -> Markup {
    let changed = changes(before, after);
    html! {
        @if changed.is_empty() { p { "没有变化。" } }
        @else {
            table {
                tr { th { "项目" } th { (before_head) } th { (after_head) } }
                @for (item, old, new) in &changed {
                    @let photos = item.starts_with("照片 · ") || item.starts_with("证件照片 · ");
                    tr.changed {
                        td { (item) }
                        @if photos {
                            td { (thumbnail(before_id, before, item, old)) }
                            td { (thumbnail(after_id, after, item, new)) }
                        } @else {
                            td { del { (old) } }
                            td { ins { (new) } }
                        }
                    }
                }
            }
        }
    }
}

fn correction_markup(record: &Record, opened: &Opened) -> Markup {
    html! {
        @if let Some(old) = record.meta.supersedes {
            div.section {
                h3 { "更正内容（与被取代的原记录相比）" }
                p.muted { "本记录是对原记录 " a href=(format!("/records/{old}")) { (old) } " 的更正。" }
                @match &opened.previous {
                    None => p { "平台上没有原记录，无法比较。" },
                    Some(previous) => {
                        (changes_table((old, previous), (record.meta.record_id, record), "原记录", "更正后"))
                    }
                }
            }
        }
        @if let Some(newer) = opened.superseded_by {
            div.notice { "本记录已被更正记录 " a href=(format!("/records/{newer}")) { (newer) } " 取代。" }
        }
    }
}

fn record_markup(
    session: &Session,
    record_id: Uuid,
    opened: &Opened,
    error: Option<&str>,
) -> Markup {
    let record = &opened.record;
    let identity = &record.identity;
    let photos = named_photos(record);
    let (identity_photos, document_photos): (Vec<_>, Vec<_>) = photos
        .into_iter()
        .partition(|(name, _, _)| !name.starts_with("document-"));
    let nation = identity
        .nation_code
        .and_then(Nation::from_code)
        .map(|n| n.name_zh())
        .unwrap_or("未填写");
    let kv = |label: &str, value: String| html! { tr { th { (label) } td { (value) } } };
    html! {
        h2 { "登记记录 " (record.meta.township.name) " · " (list::state_zh(&opened.state)) }
        p.muted {
            "记录编号 " (record_id) " · 采集点 " (record.meta.kiosk_id)
            " · 乡镇 " (record.meta.township.name) "（" (record.meta.township.code) "）"
            " · 登记时间 " (pages::china_time(record.meta.created_at))
        }
        @if let Some(error) = error { div.error role="alert" { (error) } }
        (correction_markup(record, opened))
        (person_markup(record, record_id, opened))
        @if !opened.reasons.is_empty() {
            div.error {
                "退回或拒收原因："
                ul { @for r in &opened.reasons { li { (field_zh(r.field.as_deref())) "：" (r.message) } } }
            }
        }
        // What the kiosk found but did not block: 待核实 against the
        // certificates, warnings and advice, as staff saw them.
        @if !record.checks.is_empty() {
            div.section.checks {
                h3 { "采集时标注的待核实事项（" (record.checks.len()) " 项，未阻止签字）" }
                table {
                    tr { th { "性质" } th { "位置" } th { "说明" } }
                    @for check in &record.checks {
                        tr {
                            td { strong { (check.severity.as_zh()) } }
                            td { (check_place_zh(record, check.field.as_ref())) }
                            td { (check.message) }
                        }
                    }
                }
            }
        }
        div.section.proof {
            div {
                h3 { "一、基本信息" }
                table.kv {
                    (kv("姓名", or_none(&identity.name).to_string()))
                    (kv("性别", identity.sex.map(|s| s.as_zh().to_string()).unwrap_or("未填写".into())))
                    (kv("民族", nation.to_string()))
                    (kv("出生日期", identity.birth_date.map(|d| d.to_string()).unwrap_or("未填写".into())))
                    (kv("公民身份号码", or_none(&identity.id_number).to_string()))
                    (kv("户籍地址", or_none(&identity.address).to_string()))
                    (kv("现居住地址", or_none(&identity.current_address).to_string()))
                    (kv("联系电话", or_none(&identity.phone).to_string()))
                    (kv("签发机关", or_none(&identity.authority).to_string()))
                    (kv("有效期限", format!("{} 至 {}", identity.valid_from.map(|d| d.to_string()).unwrap_or_default(), identity.valid_to)))
                    (kv("身份信息来源", if identity.card.is_some() { "读取身份证芯片".to_string() } else { "工作人员录入（附身份证照片）".to_string() }))
                    @if !record.photos.card_portrait_note.is_empty() {
                        (kv("芯片照片说明", record.photos.card_portrait_note.clone()))
                    }
                    @if let Some(raw) = &record.photos.card_portrait_wlt {
                        tr {
                            th { "芯片原始照片数据" }
                            td {
                                a href=(format!("/records/{record_id}/chip-portrait.wlt")) download {
                                    "下载（WLT 格式，" (raw.len()) " 字节）"
                                }
                                span.muted { " 需用身份证阅读器厂商的解码库解码" }
                            }
                        }
                    }
                }
            }
            (photo_figures(record_id, &identity_photos))
        }
        div.section.proof {
            div {
                h3 { "二、人员类别及详细信息" }
                @if record.categories.is_empty() { p { "未选择类别" } }
                @for details in &record.categories {
                    table.kv style="margin-bottom:8px" {
                        tr { th { "类别" } td { strong { (details.category().name_zh()) } } }
                        @for field in forms::details_fields(details) {
                            (kv(field.label_zh, field_text(&field)))
                        }
                    }
                }
            }
            (photo_figures(record_id, &document_photos))
        }
        div.section {
            h3 { "三、生活状况" }
            table.kv {
                @for field in forms::living_fields(&record.living) {
                    (kv(field.label_zh, field_text(&field)))
                }
            }
        }
        div.section {
            h3 { "四、需求" }
            @if record.needs.is_empty() { p { "未提出需求" } }
            @else {
                table.kv { @for need in &record.needs { (kv(need_area_zh(need.area), or_none(&need.text).to_string())) } }
            }
        }
        div.section {
            h3 { "五、证件材料" }
            @if record.documents.is_empty() { p { "未拍摄证件" } }
            @else {
                table {
                    tr { th { "证件" } th { "大小" } }
                    @for doc in &record.documents {
                        tr { td { (document_name(doc)) } td { (doc.photo.bytes / 1024) " KB" } }
                    }
                }
            }
            @if !record.missing_documents.is_empty() {
                h4 { "未出示的证件（工作人员标记）" }
                table.missing-documents {
                    tr { th { "证件" } th { "情况" } th { "说明" } th { "标记人" } th { "标记时间" } }
                    @for missing in &record.missing_documents {
                        tr {
                            td { (missing.kind.name_zh()) }
                            td { strong { (missing.reason.name_zh()) } }
                            td { (or_none(&missing.note)) }
                            td { (missing.marked_by) }
                            td { (missing.marked_at.format("%Y-%m-%d %H:%M")) " UTC" }
                        }
                    }
                }
            }
            @if let Some(signature) = &record.signature {
                p.muted { "回执打印于 " (pages::china_time(signature.receipt_printed_at)) "，见证工作人员 " (signature.witnessed_by) }
            }
        }
        @if opened.state == "received" && session.role.may_review() {
            (decision_form(session, record_id, &opened.reasons_in_use))
        }
    }
}

fn decision_form(session: &Session, record_id: Uuid, reasons_in_use: &[ReturnReason]) -> Markup {
    let action = format!("/records/{record_id}/decision");
    html! {
        div.section.decision {
            div {
                h3 { "审核通过" }
                p.muted { "核对各项信息与证件一致后通过。" }
                form method="post" action=(action) {
                    (pages::csrf_field(&session.csrf_token))
                    input type="hidden" name="decision" value="accept";
                    button type="submit" { "审核通过" }
                }
            }
            div {
                h3 { "退回修改" }
                form method="post" action=(action) {
                    (pages::csrf_field(&session.csrf_token))
                    input type="hidden" name="decision" value="return";
                    @for i in 1..=MAX_REASONS {
                        div.reason-row {
                            select name=(format!("field{i}")) aria-label="退回原因" {
                                option value="" { "（选择退回原因）" }
                                @for reason in reasons_in_use {
                                    option value=(reason.key) {
                                        (reason.label)
                                        @if !reason.needs_text() {
                                            "（" (field_zh(Some(&reason.field))) "）"
                                        }
                                    }
                                }
                            }
                            input type="text" name=(format!("text{i}")) maxlength=(MAX_REASON_CHARS) placeholder="退回原因，将显示给采集点工作人员";
                        }
                    }
                    button.secondary type="submit" { "退回" }
                }
            }
        }
    }
}

pub async fn show(
    State(state): State<ConsoleState>,
    UrlPath(record_id): UrlPath<String>,
    Staff(session, _): Staff<RecordReaders>,
) -> Response {
    let record_id = match parse_record_id(&session, &record_id) {
        Ok(id) => id,
        Err(r) => return *r,
    };
    show_answer(&state, &session, record_id, None, StatusCode::OK).await
}

async fn show_answer(
    state: &ConsoleState,
    session: &Session,
    record_id: Uuid,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let opened = match open_off_thread(state, session, record_id).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    let _ = state.app.db().audit(
        session.username.as_str(),
        "record_view",
        Some(&record_id.to_string()),
        state.now(),
    );
    html_page(
        status,
        pages::layout(
            "登记记录",
            Some(session),
            record_markup(session, record_id, &opened, error.as_deref()),
        ),
    )
}

/// The reasons of a return form: each one of the county's reasons (still
/// in use) plus free text that must not name a military unit (the
/// classified-text guard); a reason that only names a field needs text.
pub fn parse_return_reasons(
    form: &[(String, String)],
    reasons_in_use: &[ReturnReason],
) -> Result<Vec<Problem>, String> {
    let mut reasons = Vec::new();
    for i in 1..=MAX_REASONS {
        let key = form_value(form, &format!("field{i}"))
            .unwrap_or_default()
            .trim();
        let text = form_value(form, &format!("text{i}"))
            .unwrap_or_default()
            .trim();
        if key.is_empty() && text.is_empty() {
            continue;
        }
        let Some(reason) = reasons_in_use.iter().find(|r| r.key == key) else {
            return Err(format!("第{i}条原因：请选择退回原因。"));
        };
        let zh = &reason.label;
        if text.is_empty() && reason.needs_text() {
            return Err(format!("第{i}条原因（{zh}）：请填写退回原因。"));
        }
        if text.chars().count() > MAX_REASON_CHARS {
            return Err(format!(
                "第{i}条原因（{zh}）：原因不能超过{MAX_REASON_CHARS}个字。"
            ));
        }
        if let Some(hit) = classified::check_text(&reason.field, text)
            .into_iter()
            .next()
        {
            return Err(format!("第{i}条原因（{zh}）：{}", hit.message));
        }
        let problem = Problem::new(RETURN_CODE, reason.message(text));
        reasons.push(if reason.field == "other" {
            problem
        } else {
            problem.at(reason.field.as_str())
        });
    }
    if reasons.is_empty() {
        return Err("退回时至少填写一条原因。".into());
    }
    Ok(reasons)
}

pub async fn decide(
    State(state): State<ConsoleState>,
    UrlPath(record_id): UrlPath<String>,
    StaffForm { session, form, .. }: StaffForm<Reviewers>,
) -> Response {
    let record_id = match parse_record_id(&session, &record_id) {
        Ok(id) => id,
        Err(r) => return *r,
    };
    let reasons_in_use = state.app.db().return_reasons(false);
    let (rejection, action) = match form_value(&form, "decision") {
        Some("accept") => (None, "accept"),
        Some("return") => match reasons_in_use {
            Err(e) => return internal(e),
            Ok(in_use) => match parse_return_reasons(&form, &in_use) {
                Ok(reasons) => (Some(reasons), "return"),
                Err(message) => {
                    return show_answer(
                        &state,
                        &session,
                        record_id,
                        Some(message),
                        StatusCode::BAD_REQUEST,
                    )
                    .await
                }
            },
        },
        _ => {
            return show_answer(
                &state,
                &session,
                record_id,
                Some("请选择通过或退回。".into()),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
    };
    let now = state.now();
    let worker = state.clone();
    let reviewer = session.username.clone();
    let decided = tokio::task::spawn_blocking(move || {
        let mut db = worker.app.db();
        // The same paths as the reviewer command line: the kiosk's review
        // poll (/v1/reviews) answers from the state, and an acceptance
        // feeds the kiosks' look-up base (`register::accept`).
        let decided = match &rejection {
            None => {
                match register::accept(
                    &mut db,
                    &worker.app.identity,
                    record_id,
                    reviewer.as_str(),
                    now,
                ) {
                    Ok(()) => Ok(()),
                    Err(AcceptError::Db(e)) => Err(e),
                    Err(e @ AcceptError::NotInBase(_)) => {
                        // The decision stands; the kiosks' look-up just misses this one.
                        eprintln!("county-platform console: {record_id}: {e}");
                        Ok(())
                    }
                }
            }
            Some(reasons) => db.review(record_id, reviewer.as_str(), Some(reasons), now),
        };
        decided
            .and_then(|()| db.audit(reviewer.as_str(), action, Some(&record_id.to_string()), now))
    })
    .await
    .unwrap_or_else(|e| Err(DbError::Corrupt(e.to_string())));
    match decided {
        Ok(()) => Redirect::to(&format!("/records/{record_id}")).into_response(),
        Err(DbError::NotReviewable(..)) => {
            show_answer(
                &state,
                &session,
                record_id,
                Some("这条记录已审核过或已被更正，不能再次审核。".into()),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(DbError::NotFound(_)) => open_failed(&session, OpenError::NotFound),
        Err(e) => internal(e),
    }
}

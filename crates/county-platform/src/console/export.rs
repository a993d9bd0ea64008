//! Export of the register (导出): one row per person — the person's latest
//! accepted record, as it stands in the look-up base — as .xlsx or as CSV
//! (UTF-8 with a BOM, so Excel opens it right), columns following the
//! plan's 信息采集表 with categories by code and name; and a zip of the
//! photos named by record number. Administrators only; every export is
//! written to the audit log.

use std::io::Write;

use crate::sql::params;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};
use maud::html;
use uuid::Uuid;

use super::record_page::field_text;
use super::store::Session;
use super::{html_page, internal, pages, Admins, ConsoleState, Staff};
use crate::db::{DbError, PlatformDb};
use kiosk_core::card::Nation;
use kiosk_core::forms;
use kiosk_core::record::{LivingConditions, Record};
use trust::seal;

/// Records one photo zip may hold (a zip of a whole county's photos is
/// tens of gigabytes: ask for one township at a time).
pub const MAX_ZIP_RECORDS: u64 = 5_000;

/// One person of the register: the accepted record and where it came from.
pub struct RegisterRow {
    pub record: Record,
    pub record_number: Option<String>,
    pub accepted_at: Option<String>,
}

impl PlatformDb {
    /// The register: every person's accepted entry in the look-up base,
    /// by township then name; optionally one township.
    pub fn register_rows(&self, township: Option<&str>) -> Result<Vec<RegisterRow>, DbError> {
        let keys = self.keys()?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT b.sealed, r.record_number, r.reviewed_at FROM base_entries b \
             LEFT JOIN records r ON r.record_id = b.record_id \
             WHERE b.source = 'accepted' AND (CAST(?1 AS TEXT) IS NULL OR b.township_code = ?1)",
        )?;
        let mut rows = stmt.query(params![township])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let sealed: Vec<u8> = row.get(0)?;
            out.push(RegisterRow {
                record: keys.open_record(&sealed)?,
                record_number: row.get(1)?,
                accepted_at: row.get(2)?,
            });
        }
        out.sort_by(|a, b| {
            (&a.record.meta.township.code, &a.record.identity.name)
                .cmp(&(&b.record.meta.township.code, &b.record.identity.name))
        });
        Ok(out)
    }

    /// Accepted records (id, record number) of the register, for photos.
    pub fn register_record_ids(
        &self,
        township: Option<&str>,
    ) -> Result<Vec<(Uuid, Option<String>)>, DbError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT record_id, record_number FROM records WHERE state = 'accepted' \
             AND (CAST(?1 AS TEXT) IS NULL OR township_code = ?1) ORDER BY township_code, received_at",
        )?;
        let mut rows = stmt.query(params![township])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let id: String = row.get(0)?;
            out.push((
                Uuid::parse_str(&id).map_err(|_| DbError::Corrupt("bad uuid".into()))?,
                row.get(1)?,
            ));
        }
        Ok(out)
    }
}

/// The export's columns, in the order of the 信息采集表.
pub fn columns() -> Vec<String> {
    let mut out: Vec<String> = [
        "序号",
        "受理编号",
        "乡镇代码",
        "乡镇",
        "姓名",
        "性别",
        "民族",
        "出生日期",
        "公民身份号码",
        "户籍地址",
        "现居住地址",
        "联系电话",
        "人员类别代码",
        "人员类别",
        "类别详细信息",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    out.extend(
        forms::living_fields(&LivingConditions::default())
            .iter()
            .map(|f| format!("生活状况·{}", f.label_zh)),
    );
    out.extend(["需求", "登记时间", "审核通过时间", "采集点"].map(String::from));
    out
}

/// One person's cells, matching `columns()`.
pub fn cells(index: usize, row: &RegisterRow) -> Vec<String> {
    let record = &row.record;
    let identity = &record.identity;
    let categories: Vec<_> = record.categories.iter().map(|d| d.category()).collect();
    let details: Vec<String> = record
        .categories
        .iter()
        .map(|d| {
            let fields: Vec<String> = forms::details_fields(d)
                .iter()
                .map(|f| format!("{}：{}", f.label_zh, field_text(f)))
                .collect();
            format!("【{}】{}", d.category().name_zh(), fields.join("；"))
        })
        .collect();
    let mut out = vec![
        (index + 1).to_string(),
        row.record_number.clone().unwrap_or_default(),
        record.meta.township.code.clone(),
        record.meta.township.name.clone(),
        identity.name.clone(),
        identity
            .sex
            .map(|s| s.as_zh().to_string())
            .unwrap_or_default(),
        identity
            .nation_code
            .and_then(Nation::from_code)
            .map(|n| n.name_zh().to_string())
            .unwrap_or_default(),
        identity
            .birth_date
            .map(|d| d.to_string())
            .unwrap_or_default(),
        identity.id_number.clone(),
        identity.address.clone(),
        identity.current_address.clone(),
        identity.phone.clone(),
        categories
            .iter()
            .map(|c| c.code().to_string())
            .collect::<Vec<_>>()
            .join("、"),
        categories
            .iter()
            .map(|c| c.name_zh())
            .collect::<Vec<_>>()
            .join("、"),
        details.join("\n"),
    ];
    out.extend(forms::living_fields(&record.living).iter().map(field_text));
    out.push(
        record
            .needs
            .iter()
            .map(|n| n.text.clone())
            .filter(|t| !t.trim().is_empty())
            .collect::<Vec<_>>()
            .join("；"),
    );
    out.push(pages::china_time(record.meta.created_at));
    out.push(
        row.accepted_at
            .as_deref()
            .map(pages::china_time_text)
            .unwrap_or_default(),
    );
    out.push(record.meta.kiosk_id.clone());
    out
}

/// A CSV cell: quoted when needed; a leading = + - @ is neutralised so a
/// spreadsheet never runs a cell as a formula.
fn csv_cell(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// The register as CSV: UTF-8 with a BOM, CRLF line ends (as Excel writes).
pub fn register_csv(rows: &[RegisterRow]) -> Vec<u8> {
    let mut out = Vec::with_capacity(rows.len() * 400 + 1024);
    out.extend_from_slice(b"\xEF\xBB\xBF");
    let line = |cells: &[String]| {
        let mut text = cells
            .iter()
            .map(|c| csv_cell(c))
            .collect::<Vec<_>>()
            .join(",");
        text.push_str("\r\n");
        text
    };
    out.extend_from_slice(line(&columns()).as_bytes());
    for (i, row) in rows.iter().enumerate() {
        out.extend_from_slice(line(&cells(i, row)).as_bytes());
    }
    out
}

/// The register as an .xlsx workbook: one sheet 优抚对象名册, a bold
/// frozen header row, every cell text (ID numbers keep all 18 digits).
pub fn register_xlsx(rows: &[RegisterRow]) -> Result<Vec<u8>, String> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    let sheet = workbook.add_worksheet();
    sheet.set_name("优抚对象名册").map_err(|e| e.to_string())?;
    for (col, title) in columns().iter().enumerate() {
        sheet
            .write_string_with_format(0, col as u16, title, &bold)
            .map_err(|e| e.to_string())?;
    }
    for (i, row) in rows.iter().enumerate() {
        for (col, text) in cells(i, row).iter().enumerate() {
            if !text.is_empty() {
                sheet
                    .write_string(i as u32 + 1, col as u16, text)
                    .map_err(|e| e.to_string())?;
            }
        }
    }
    sheet.set_freeze_panes(1, 0).map_err(|e| e.to_string())?;
    workbook.save_to_buffer().map_err(|e| e.to_string())
}

pub fn routes() -> Router<ConsoleState> {
    Router::new()
        .route("/export", get(export_page))
        .route("/export/register.xlsx", get(xlsx))
        .route("/export/register.csv", get(csv))
        .route("/export/photos.zip", get(photos_zip))
}

fn township_of(query: &[(String, String)]) -> Option<String> {
    query
        .iter()
        .find(|(k, _)| k == "township")
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty() && v.len() <= 64)
}

async fn export_page(
    State(state): State<ConsoleState>,
    Staff(session, _): Staff<Admins>,
) -> Response {
    let townships = match state.app.db().townships() {
        Ok(t) => t,
        Err(e) => return internal(e),
    };
    let body = html! {
        h2 { "导出" }
        p.muted { "名册每人一行（此人最近一条审核通过的记录），列按信息采集表排列，人员类别同时给出代码和名称。每次导出都记入操作日志。" }
        div.section {
            h3 { "优抚对象名册" }
            form.filters method="get" {
                label { "乡镇" select name="township" {
                    option value="" { "全县" }
                    @for (code, name) in &townships { option value=(code) { (name) } }
                } }
                button type="submit" formaction="/export/register.xlsx" { "导出 Excel（.xlsx）" }
                button.secondary type="submit" formaction="/export/register.csv" { "导出 CSV" }
            }
            p.muted { "CSV 为带 BOM 的 UTF-8 编码，可直接用 Excel 打开。" }
        }
        div.section {
            h3 { "照片打包" }
            form.filters method="get" action="/export/photos.zip" {
                label { "乡镇" select name="township" {
                    option value="" { "全县" }
                    @for (code, name) in &townships { option value=(code) { (name) } }
                } }
                button type="submit" { "下载照片（.zip）" }
            }
            p.muted { "审核通过记录的本人照片、身份证照片和证件照片，文件名以受理编号开头。一次最多 " (MAX_ZIP_RECORDS) " 条记录，记录多时请按乡镇分别下载。" }
        }
    };
    html_page(StatusCode::OK, pages::layout("导出", Some(&session), body))
}

fn download(content_type: &'static str, file_name: &str, bytes: Vec<u8>) -> Response {
    // The name is ASCII (a date and a fixed word): no header escaping needed.
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// One way to write the register down: its audit action, file type and
/// writer.
struct RegisterFormat {
    action: &'static str,
    content_type: &'static str,
    extension: &'static str,
    write: fn(&[RegisterRow]) -> Result<Vec<u8>, String>,
}

const XLSX: RegisterFormat = RegisterFormat {
    action: "export_xlsx",
    content_type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    extension: "xlsx",
    write: register_xlsx,
};

const CSV: RegisterFormat = RegisterFormat {
    action: "export_csv",
    content_type: "text/csv; charset=utf-8",
    extension: "csv",
    write: |rows| Ok(register_csv(rows)),
};

/// The register of the township asked for, as a download in `format`:
/// read and written off the request thread, the export audited.
async fn register_download(
    state: &ConsoleState,
    session: &Session,
    query: &[(String, String)],
    format: RegisterFormat,
) -> Response {
    let township = township_of(query);
    let worker = state.clone();
    let rows =
        tokio::task::spawn_blocking(move || worker.app.db().register_rows(township.as_deref()))
            .await;
    let rows = match rows {
        Ok(Ok(rows)) => rows,
        Ok(Err(e)) => return internal(e),
        Err(e) => return internal(e),
    };
    if let Err(e) =
        state
            .app
            .db()
            .audit(session.username.as_str(), format.action, None, state.now())
    {
        return internal(e);
    }
    match tokio::task::spawn_blocking(move || (format.write)(&rows)).await {
        Ok(Ok(bytes)) => download(
            format.content_type,
            &format!("register-{}.{}", stamp(state.now()), format.extension),
            bytes,
        ),
        Ok(Err(e)) => internal(e),
        Err(e) => internal(e),
    }
}

/// The China date of `at` for a file name: the console's clock, not the
/// wall clock, so a test's moved clock names the file too.
fn stamp(at: DateTime<Utc>) -> String {
    kiosk_core::time::china_date(at)
        .format("%Y%m%d")
        .to_string()
}

async fn xlsx(
    State(state): State<ConsoleState>,
    Query(query): Query<Vec<(String, String)>>,
    Staff(session, _): Staff<Admins>,
) -> Response {
    register_download(&state, &session, &query, XLSX).await
}

async fn csv(
    State(state): State<ConsoleState>,
    Query(query): Query<Vec<(String, String)>>,
    Staff(session, _): Staff<Admins>,
) -> Response {
    register_download(&state, &session, &query, CSV).await
}

/// A record's photos as zip entries: `<record number>-<photo>.jpg`.
fn photo_entries(record: &Record, blobs: &seal::Blobs, number: &str) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let photos = &record.photos;
    for (name, photo) in [
        ("portrait", &photos.portrait),
        ("card-portrait", &photos.card_portrait),
        ("card-photo", &photos.card_photo),
    ] {
        if let Some(bytes) = photo.as_ref().and_then(|p| blobs.get(&p.sha256)) {
            out.push((format!("{number}-{name}.jpg"), bytes.to_vec()));
        }
    }
    for (i, doc) in record.documents.iter().enumerate() {
        if let Some(bytes) = blobs.get(&doc.photo.sha256) {
            out.push((format!("{number}-document-{}.jpg", i + 1), bytes.to_vec()));
        }
    }
    out
}

/// A record number made safe as a file name (kiosk numbers are like
/// "FC-0004"; anything else is replaced).
fn file_safe(number: &str) -> String {
    number
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

async fn photos_zip(
    State(state): State<ConsoleState>,
    Query(query): Query<Vec<(String, String)>>,
    Staff(session, _): Staff<Admins>,
) -> Response {
    let township = township_of(&query);
    let ids = match state.app.db().register_record_ids(township.as_deref()) {
        Ok(ids) => ids,
        Err(e) => return internal(e),
    };
    if ids.len() as u64 > MAX_ZIP_RECORDS {
        return html_page(
            StatusCode::BAD_REQUEST,
            pages::refused(
                Some(&session),
                "照片过多",
                &format!(
                    "共有 {} 条审核通过的记录，超过一次打包的上限 {MAX_ZIP_RECORDS} 条，请按乡镇分别下载。",
                    ids.len()
                ),
            ),
        );
    }
    if let Err(e) = state.app.db().audit(
        session.username.as_str(),
        "export_photos",
        None,
        state.now(),
    ) {
        return internal(e);
    }
    let worker = state.clone();
    let zipped = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, String> {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        // JPEGs do not compress: stored, not deflated.
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        for (record_id, number) in ids {
            let sealed = worker
                .app
                .db()
                .sealed(record_id)
                .map_err(|e| e.to_string())?;
            let Some(opened) =
                sealed.and_then(|s| seal::open::<Record>(&s, &worker.app.identity).ok())
            else {
                continue;
            };
            let number = number
                .as_deref()
                .map(file_safe)
                .unwrap_or_else(|| record_id.to_string());
            for (name, bytes) in photo_entries(&opened.0, &opened.1, &number) {
                zip.start_file(name, options).map_err(|e| e.to_string())?;
                zip.write_all(&bytes).map_err(|e| e.to_string())?;
            }
        }
        zip.finish()
            .map(|cursor| cursor.into_inner())
            .map_err(|e| e.to_string())
    })
    .await;
    match zipped {
        Ok(Ok(bytes)) => download(
            "application/zip",
            &format!("photos-{}.zip", stamp(state.now())),
            bytes,
        ),
        Ok(Err(e)) => internal(e),
        Err(e) => internal(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_and_formulas_neutralised() {
        assert_eq!(csv_cell("张三"), "张三");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("说\"好\""), "\"说\"\"好\"\"\"");
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("-1"), "'-1");
        assert_eq!(file_safe("FC-0004"), "FC-0004");
        assert_eq!(file_safe("../x"), "___x");
    }

    #[test]
    fn the_csv_starts_with_a_bom_and_the_header() {
        let csv = register_csv(&[]);
        assert!(csv.starts_with(b"\xEF\xBB\xBF\xE5\xBA\x8F\xE5\x8F\xB7,"));
        assert!(csv.ends_with(b"\r\n"));
    }
}

//! Base-database import (基础库导入) from the Excel (.xlsx) and CSV files
//! county offices keep: columns found by their header names, every row
//! checked (ID number by GB 11643, categories, dates), a preview with the
//! errors row by row, and nothing written until an administrator confirms.
//! Importing the same rows again changes nothing.
//!
//! What is written: for each good row, the person's entry in the base the
//! kiosks' look-up answers from (`base_people`, unless an accepted record
//! already stands there: a reviewed record is fresher than the ministry's
//! list) and a roster row (`base_roster`: who the county knows, per
//! township and category, for the statistics' progress).

use std::collections::HashMap;
use std::io::Cursor;
use std::sync::{Mutex, OnceLock};

use crate::sql::{params, OptionalExtension};
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use maud::html;

use super::auth::Role;
use super::store::Session;
use super::{
    form_value, html_page, internal, pages, require, Admins, ConsoleState, Notice, Staff, StaffForm,
};
use crate::db::{ts, DbError, PlatformDb};
use kiosk_core::card::Nation;
use kiosk_core::category::{self, Category};
use kiosk_core::id_number::{IdNumber, Sex};
use kiosk_core::record::{
    CategoryDetails, Identity, IdentitySource, LivingConditions, Meta, Record, RecordState,
    Township,
};
use trust::sha256_hex;

/// The largest file taken (a county's whole base fits many times over).
pub const MAX_FILE_BYTES: usize = 20 * 1024 * 1024;
/// Previews kept waiting for confirmation, at most, and for how long.
const MAX_PENDING: usize = 16;
const PENDING_FOR: Duration = Duration::minutes(30);
/// Row errors shown on the preview (the rest are counted).
const SHOWN_ERRORS: usize = 200;

/// The columns the import understands, found by header name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    Name,
    IdNumber,
    Sex,
    Nation,
    BirthDate,
    Address,
    CurrentAddress,
    Phone,
    Categories,
    Township,
    TownshipCode,
}

impl Column {
    const ALL: [Column; 11] = [
        Column::Name,
        Column::IdNumber,
        Column::Sex,
        Column::Nation,
        Column::BirthDate,
        Column::Address,
        Column::CurrentAddress,
        Column::Phone,
        Column::Categories,
        Column::Township,
        Column::TownshipCode,
    ];

    /// The header names county spreadsheets use for the column (compared
    /// without spaces, asterisks and brackets' contents).
    fn headers(self) -> &'static [&'static str] {
        match self {
            Column::Name => &["姓名"],
            Column::IdNumber => &[
                "公民身份号码",
                "身份证号码",
                "身份证号",
                "身份号码",
                "证件号码",
            ],
            Column::Sex => &["性别"],
            Column::Nation => &["民族"],
            Column::BirthDate => &["出生日期", "出生年月日", "生日"],
            Column::Address => &["户籍地址", "户籍地", "户籍所在地", "住址"],
            Column::CurrentAddress => &["现居住地址", "现住址", "居住地址", "现居住地"],
            Column::Phone => &["联系电话", "电话", "手机号码", "手机", "联系方式"],
            Column::Categories => &["人员类别", "优抚对象类别", "类别", "人员类型"],
            Column::Township => &["乡镇", "所属乡镇", "乡镇（街道）", "乡镇街道", "乡镇名称"],
            Column::TownshipCode => &["乡镇代码", "乡镇编码"],
        }
    }

    pub fn name_zh(self) -> &'static str {
        self.headers()[0]
    }

    fn required(self) -> bool {
        matches!(self, Column::Name | Column::IdNumber | Column::Categories)
    }
}

/// A header cell reduced to what identifies it: no spaces, no `*` (marks
/// of required columns), no bracketed notes ("出生日期（年月日）").
fn header_key(text: &str) -> String {
    let mut out = String::new();
    let mut depth = 0u32;
    for c in text.chars() {
        match c {
            '(' | '（' => depth += 1,
            ')' | '）' => depth = depth.saturating_sub(1),
            c if depth > 0 || c.is_whitespace() || c == '*' || c == '＊' => {}
            c => out.push(c),
        }
    }
    out
}

/// Which column index holds each known column.
fn map_headers(header: &[String]) -> Result<HashMap<Column, usize>, String> {
    // The known names reduced once, not once per cell: a header row of
    // 260,000 cells took over ten seconds (found by fuzzing, crates/fuzz).
    let known: Vec<(Column, String)> = Column::ALL
        .into_iter()
        .flat_map(|c| c.headers().iter().map(move |h| (c, header_key(h))))
        .collect();
    let mut map = HashMap::new();
    for (index, cell) in header.iter().enumerate() {
        let key = header_key(cell);
        if let Some(column) = known.iter().find(|(_, k)| *k == key).map(|(c, _)| *c) {
            map.entry(column).or_insert(index);
        }
    }
    let missing: Vec<&str> = Column::ALL
        .into_iter()
        .filter(|c| c.required() && !map.contains_key(c))
        .map(Column::name_zh)
        .collect();
    if missing.is_empty() {
        Ok(map)
    } else {
        Err(format!(
            "第一行（表头）缺少这些列：{}。请检查表头名称。",
            missing.join("、")
        ))
    }
}

/// A cell as text; Excel dates and numbers as the clerk would read them.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Number(f64),
    /// An Excel date (days since 1899-12-30).
    Date(f64),
    Empty,
}

impl Cell {
    fn text(&self) -> String {
        match self {
            Cell::Text(t) => t.trim().to_string(),
            Cell::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{n:.0}"),
            Cell::Number(n) => n.to_string(),
            Cell::Date(d) => excel_date(*d).map(|d| d.to_string()).unwrap_or_default(),
            Cell::Empty => String::new(),
        }
    }
}

fn excel_date(serial: f64) -> Option<NaiveDate> {
    let base = NaiveDate::from_ymd_opt(1899, 12, 30)?;
    if !(1.0..2_958_466.0).contains(&serial) {
        return None;
    }
    base.checked_add_signed(Duration::days(serial.floor() as i64))
}

/// A date as county spreadsheets write them: 1955-03-15, 1955/3/15,
/// 1955.3.15, 19550315, 1955年3月15日, or an Excel date cell.
pub fn parse_date(cell: &Cell) -> Option<NaiveDate> {
    match cell {
        Cell::Date(d) => excel_date(*d),
        Cell::Number(n) if (19_000_101.0..21_001_231.0).contains(n) => {
            NaiveDate::parse_from_str(&format!("{n:.0}"), "%Y%m%d").ok()
        }
        Cell::Number(n) => excel_date(*n),
        Cell::Empty => None,
        Cell::Text(t) => {
            let t = t.trim().trim_end_matches('日');
            let unified: String = t
                .chars()
                .map(|c| match c {
                    '/' | '.' | '年' | '月' => '-',
                    c => c,
                })
                .collect();
            NaiveDate::parse_from_str(&unified, "%Y-%m-%d")
                .or_else(|_| NaiveDate::parse_from_str(&unified, "%Y%m%d"))
                .ok()
        }
    }
}

/// The first sheet of an .xlsx file as rows of cells.
pub fn read_xlsx(bytes: &[u8]) -> Result<Vec<Vec<Cell>>, String> {
    // calamine 0.30 indexes past its buffers on some damaged sheets (found
    // by fuzzing, crates/fuzz): the clerk gets "not a valid file", not a
    // dropped connection.
    std::panic::catch_unwind(|| read_xlsx_unguarded(bytes))
        .unwrap_or_else(|_| Err("文件不是有效的 Excel（.xlsx）文件，或已损坏。".to_string()))
}

/// The most rows and columns a sheet may span: a county's register is
/// about 120,000 people; a city's file should be split by county.
pub const MAX_SHEET_ROWS: u32 = 300_000;
pub const MAX_SHEET_COLUMNS: u32 = 64;

fn read_xlsx_unguarded(bytes: &[u8]) -> Result<Vec<Vec<Cell>>, String> {
    use calamine::{DataRef, Reader, Xlsx};
    let mut workbook: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec()))
        .map_err(|_| "文件不是有效的 Excel（.xlsx）文件。".to_string())?;
    let first = workbook
        .sheet_names()
        .into_iter()
        .next()
        .ok_or_else(|| "Excel 文件中没有工作表。".to_string())?;
    let unreadable = |_| "无法读取 Excel 文件的第一个工作表。".to_string();
    // Cell by cell, not calamine's dense range: a damaged or hostile sheet
    // naming cell XFD1048576 made the range ask for 28 GB and abort the
    // platform (found by fuzzing, crates/fuzz).
    let mut reader = workbook
        .worksheet_cells_reader(&first)
        .map_err(unreadable)?;
    let mut cells: Vec<(u32, u32, Cell)> = Vec::new();
    let (mut top, mut left, mut bottom, mut right) = (u32::MAX, u32::MAX, 0u32, 0u32);
    while let Some(cell) = reader.next_cell().map_err(unreadable)? {
        let (row, column) = cell.get_position();
        let value = match cell.get_value() {
            DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => {
                Cell::Text(s.clone())
            }
            DataRef::SharedString(s) => Cell::Text((*s).to_string()),
            DataRef::Float(f) => Cell::Number(*f),
            DataRef::Int(i) => Cell::Number(*i as f64),
            DataRef::Bool(b) => Cell::Text(if *b { "是" } else { "否" }.into()),
            DataRef::DateTime(d) => Cell::Date(d.as_f64()),
            DataRef::Error(_) | DataRef::Empty => continue,
        };
        (top, left) = (top.min(row), left.min(column));
        (bottom, right) = (bottom.max(row), right.max(column));
        if bottom - top >= MAX_SHEET_ROWS || right - left >= MAX_SHEET_COLUMNS {
            return Err(format!(
                "工作表太大（超过 {MAX_SHEET_ROWS} 行或 {MAX_SHEET_COLUMNS} 列），请按乡镇拆分后分别导入。"
            ));
        }
        cells.push((row, column, value));
    }
    // Rows and columns counted from the first used cell, as a clerk sees
    // the table (a sheet may start at B3).
    let mut table: Vec<Vec<Cell>> = Vec::new();
    for (row, column, value) in cells {
        let (r, c) = ((row - top) as usize, (column - left) as usize);
        if table.len() <= r {
            table.resize_with(r + 1, Vec::new);
        }
        let cells_of_row = &mut table[r];
        if cells_of_row.len() <= c {
            cells_of_row.resize(c + 1, Cell::Empty);
        }
        cells_of_row[c] = value;
    }
    Ok(table)
}

/// A CSV file as rows: UTF-8 (with or without BOM) or, as Excel on a
/// Chinese Windows saves it, GB18030; quoted fields may hold commas,
/// quotes ("") and line breaks.
pub fn read_csv(bytes: &[u8]) -> Result<Vec<Vec<Cell>>, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t.to_string(),
        Err(_) => {
            let (decoded, _, had_errors) = encoding_rs::GB18030.decode(bytes);
            if had_errors {
                return Err("无法识别 CSV 文件的文字编码（应为 UTF-8 或 GBK）。".into());
            }
            decoded.into_owned()
        }
    };
    let mut rows = Vec::new();
    let mut row: Vec<Cell> = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    let end_field = |field: &mut String, row: &mut Vec<Cell>| {
        let text = std::mem::take(field);
        row.push(if text.trim().is_empty() {
            Cell::Empty
        } else {
            Cell::Text(text)
        });
    };
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => end_field(&mut field, &mut row),
            (false, '\r') => {}
            (false, '\n') => {
                end_field(&mut field, &mut row);
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    if quoted {
        return Err("CSV 文件中有未闭合的引号。".into());
    }
    if !field.is_empty() || !row.is_empty() {
        end_field(&mut field, &mut row);
        rows.push(row);
    }
    Ok(rows)
}

/// One good row, as it will be written.
#[derive(Debug, Clone, PartialEq)]
pub struct BaseRow {
    /// The row's number in the file (the header is row 1), for messages.
    pub line: usize,
    pub id_number: IdNumber,
    pub name: String,
    pub sex: Option<Sex>,
    pub nation: Option<Nation>,
    pub birth_date: NaiveDate,
    pub address: String,
    pub current_address: String,
    pub phone: String,
    pub categories: Vec<Category>,
    pub township_code: String,
    pub township_name: String,
}

impl BaseRow {
    /// What identifies the row's content: re-importing equal content
    /// changes nothing.
    fn content_sha256(&self) -> String {
        sha256_hex(
            format!(
                "{}|{}|{:?}|{:?}|{}|{}|{}|{}|{}|{}|{}",
                self.id_number.as_str(),
                self.name,
                self.sex,
                self.nation.map(Nation::code),
                self.birth_date,
                self.address,
                self.current_address,
                self.phone,
                self.categories
                    .iter()
                    .map(|c| c.slug())
                    .collect::<Vec<_>>()
                    .join(","),
                self.township_code,
                self.township_name,
            )
            .as_bytes(),
        )
    }

    /// The person's look-up entry: identity and categories (their details
    /// empty: the kiosk asks them), no photos. Its id and times come from
    /// the content, so the same row always makes the same entry.
    fn to_record(&self, imported_at: DateTime<Utc>) -> Record {
        let digest = self.content_sha256();
        let mut id_bytes = [0u8; 16];
        for (i, byte) in id_bytes.iter_mut().enumerate() {
            *byte =
                u8::from_str_radix(digest.get(i * 2..i * 2 + 2).unwrap_or("00"), 16).unwrap_or(0);
        }
        let record_id = uuid::Builder::from_random_bytes(id_bytes).into_uuid();
        Record {
            meta: Meta {
                record_id,
                schema_version: kiosk_core::record::SCHEMA_VERSION,
                kiosk_id: BASE_KIOSK_ID.to_string(),
                township: Township {
                    code: self.township_code.clone(),
                    name: self.township_name.clone(),
                },
                created_at: imported_at,
                updated_at: imported_at,
                state: RecordState::Accepted,
                supersedes: None,
            },
            identity: Identity {
                source: IdentitySource::Typed,
                name: self.name.clone(),
                sex: self.sex.or(Some(self.id_number.sex())),
                nation_code: self.nation.map(Nation::code),
                birth_date: Some(self.birth_date),
                address: self.address.clone(),
                id_number: self.id_number.as_str().to_string(),
                authority: String::new(),
                valid_from: None,
                valid_to: String::new(),
                phone: self.phone.clone(),
                current_address: self.current_address.clone(),
                card: None,
            },
            categories: self
                .categories
                .iter()
                .map(|c| CategoryDetails::empty(*c))
                .collect(),
            living: LivingConditions::default(),
            needs: Vec::new(),
            photos: Default::default(),
            documents: Vec::new(),
            missing_documents: Vec::new(),
            checks: Vec::new(),
            signature: None,
        }
    }
}

/// The kiosk id base entries carry (no kiosk made them).
pub const BASE_KIOSK_ID: &str = "county-base";

/// A row that cannot be imported, and why (each problem one message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub line: usize,
    pub problems: Vec<String>,
}

/// A whole file checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    pub rows: Vec<BaseRow>,
    pub errors: Vec<RowError>,
}

/// Checks every row below the header. `townships` maps township names to
/// codes, for files that name townships without codes.
pub fn check_rows(
    table: &[Vec<Cell>],
    townships: &HashMap<String, String>,
    today: NaiveDate,
) -> Result<Checked, String> {
    let Some(header) = table.first() else {
        return Err("文件是空的。".into());
    };
    let header: Vec<String> = header.iter().map(Cell::text).collect();
    let columns = map_headers(&header)?;
    let mut checked = Checked {
        rows: Vec::new(),
        errors: Vec::new(),
    };
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (index, row) in table.iter().enumerate().skip(1) {
        let line = index + 1;
        let cell = |column: Column| {
            columns
                .get(&column)
                .and_then(|i| row.get(*i))
                .cloned()
                .unwrap_or(Cell::Empty)
        };
        let text = |column: Column| cell(column).text();
        if row.iter().all(|c| c.text().is_empty()) {
            continue;
        }
        let mut problems = Vec::new();
        let name = text(Column::Name);
        if name.is_empty() {
            problems.push("姓名为空".to_string());
        }
        let id_number = match cell(Column::IdNumber) {
            // Excel keeps 15 significant digits of a number: an 18-digit
            // number stored as one has lost its last digits, whatever they
            // now happen to be.
            Cell::Number(_) => {
                problems.push(
                    "公民身份号码在 Excel 中存成了数字，后几位已丢失，请将该列设为“文本”后重新填写"
                        .to_string(),
                );
                None
            }
            id_cell => match IdNumber::parse(&id_cell.text(), today) {
                Ok(id) => Some(id),
                Err(e) => {
                    problems.push(format!("公民身份号码：{}", e.message_zh()));
                    None
                }
            },
        };
        if let Some(id) = &id_number {
            if let Some(first) = seen.insert(id.as_str().to_string(), line) {
                problems.push(format!("公民身份号码与第{first}行重复"));
            }
        }
        let categories = match category::parse_list(&text(Column::Categories)) {
            Ok(list) if list.is_empty() => {
                problems.push("人员类别为空".to_string());
                Vec::new()
            }
            Ok(list) => list,
            Err(e) => {
                problems.push(format!("人员类别：{}", e.message_zh()));
                Vec::new()
            }
        };
        let birth_cell = cell(Column::BirthDate);
        let birth_date = match (&birth_cell, parse_date(&birth_cell)) {
            (Cell::Empty, _) => id_number.as_ref().map(IdNumber::birth_date),
            (_, Some(date)) => {
                if id_number.as_ref().is_some_and(|id| id.birth_date() != date) {
                    problems.push(format!("出生日期 {date} 与公民身份号码不符"));
                }
                Some(date)
            }
            (other, None) => {
                problems.push(format!("出生日期“{}”无法识别", other.text()));
                None
            }
        };
        let sex = match text(Column::Sex).as_str() {
            "" => None,
            other => match Sex::from_zh(other) {
                Some(sex) => Some(sex),
                None => {
                    problems.push(format!("性别“{other}”无法识别"));
                    None
                }
            },
        };
        let nation = match text(Column::Nation).as_str() {
            "" => None,
            other => match Nation::from_name_zh(other).or_else(|| Nation::parse_code(other)) {
                Some(n) => Some(n),
                None => {
                    problems.push(format!("民族“{other}”无法识别"));
                    None
                }
            },
        };
        let township_name = text(Column::Township);
        let township_code = match (text(Column::TownshipCode), township_name.as_str()) {
            (code, _) if !code.is_empty() => code,
            (_, "") => String::new(),
            (_, name) => match townships.get(name) {
                Some(code) => code.clone(),
                None => {
                    problems.push(format!(
                        "乡镇“{name}”不在平台的乡镇名单中，请加“乡镇代码”列"
                    ));
                    String::new()
                }
            },
        };
        match (id_number, birth_date, problems.is_empty()) {
            (Some(id_number), Some(birth_date), true) => checked.rows.push(BaseRow {
                line,
                id_number,
                name,
                sex,
                nation,
                birth_date,
                address: text(Column::Address),
                current_address: text(Column::CurrentAddress),
                phone: text(Column::Phone),
                categories,
                township_code,
                township_name,
            }),
            _ => checked.errors.push(RowError { line, problems }),
        }
    }
    Ok(checked)
}

/// What confirming would do, row by row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportEffect {
    pub new: usize,
    pub changed: usize,
    pub unchanged: usize,
}

impl PlatformDb {
    /// What writing `rows` would change (nothing is written).
    pub fn base_import_effect(&self, rows: &[(String, &BaseRow)]) -> Result<ImportEffect, DbError> {
        let mut effect = ImportEffect::default();
        let mut stmt = self
            .conn
            .prepare_cached("SELECT row_sha256 FROM base_roster WHERE person_key = ?1")?;
        for (person_key, row) in rows {
            let stored: Option<String> = stmt.query_row([person_key], |r| r.get(0)).optional()?;
            match stored {
                None => effect.new += 1,
                Some(sha) if sha == row.content_sha256() => effect.unchanged += 1,
                Some(_) => effect.changed += 1,
            }
        }
        Ok(effect)
    }

    /// Writes the rows that are new or changed, in one transaction; rows
    /// equal to what is stored are not touched.
    pub fn write_base_import(
        &mut self,
        rows: &[(String, &BaseRow)],
        file: (&str, &str),
        imported_by: &str,
        now: DateTime<Utc>,
    ) -> Result<ImportEffect, DbError> {
        let effect = self.base_import_effect(rows)?;
        // One transaction (put_base_entry borrows the connection itself).
        self.conn.execute_batch("BEGIN")?;
        let written = self.write_rows(rows, file, imported_by, now, effect);
        match written {
            Ok(()) => self.conn.execute_batch("COMMIT")?,
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                return Err(e);
            }
        }
        Ok(effect)
    }

    fn write_rows(
        &self,
        rows: &[(String, &BaseRow)],
        file: (&str, &str),
        imported_by: &str,
        now: DateTime<Utc>,
        effect: ImportEffect,
    ) -> Result<(), DbError> {
        let mut roster = self.conn.prepare_cached(
            "INSERT INTO base_roster (person_key, township_code, categories, row_sha256, imported_at) \
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(person_key) DO UPDATE SET \
             township_code = excluded.township_code, categories = excluded.categories, \
             row_sha256 = excluded.row_sha256, imported_at = excluded.imported_at \
             WHERE base_roster.row_sha256 != excluded.row_sha256",
        )?;
        let mut township = self.conn.prepare_cached(
            "INSERT INTO townships (code, name) VALUES (?1, ?2) ON CONFLICT(code) DO NOTHING",
        )?;
        for (person_key, row) in rows {
            let changed = roster.execute(params![
                person_key,
                row.township_code,
                row.categories
                    .iter()
                    .map(|c| c.slug())
                    .collect::<Vec<_>>()
                    .join(","),
                row.content_sha256(),
                ts(now),
            ])?;
            if changed == 0 {
                continue;
            }
            self.put_base_entry(&row.to_record(now), "import", now)?;
            self.refresh_roster_flags(person_key)?;
            if !row.township_code.is_empty() && !row.township_name.is_empty() {
                township.execute(params![row.township_code, row.township_name])?;
            }
        }
        self.conn.execute(
            "INSERT INTO base_imports (file_sha256, file_name, rows, changed, imported_at, imported_by) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(file_sha256) DO NOTHING",
            params![
                file.0,
                file.1,
                rows.len() as i64,
                (effect.new + effect.changed) as i64,
                ts(now),
                imported_by
            ],
        )?;
        Ok(())
    }

    /// How many people the base roster holds.
    pub fn base_roster_count(&self) -> Result<u64, DbError> {
        self.conn
            .query_row("SELECT count(*) FROM base_roster", params![], |r| r.get(0))
    }
}

/// A checked file waiting for an administrator's confirmation (kept in
/// memory only: nothing reaches the database before "确认导入").
struct Pending {
    username: String,
    file_name: String,
    file_sha256: String,
    rows: Vec<(String, BaseRow)>,
    until: DateTime<Utc>,
}

fn pending() -> &'static Mutex<HashMap<String, Pending>> {
    static PENDING: OnceLock<Mutex<HashMap<String, Pending>>> = OnceLock::new();
    PENDING.get_or_init(|| Mutex::new(HashMap::new()))
}

fn pending_lock() -> std::sync::MutexGuard<'static, HashMap<String, Pending>> {
    pending()
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub fn routes() -> Router<ConsoleState> {
    Router::new()
        .route("/import", get(import_page).post(upload))
        .route("/import/confirm", post(confirm))
        .layer(DefaultBodyLimit::max(MAX_FILE_BYTES + 64 * 1024))
}

fn page(session: &Session, notice: Option<Notice>, preview: Option<maud::Markup>) -> Response {
    let body = html! {
        h2 { "基础库导入" }
        @if let Some(notice) = &notice { (notice) }
        @if let Some(preview) = preview { (preview) }
        div.section {
            h3 { "选择文件" }
            p.muted {
                "支持 Excel（.xlsx，读取第一个工作表）和 CSV（UTF-8 或 GBK 编码）。第一行为表头，按列名识别："
                "姓名、公民身份号码、人员类别（必需）；性别、民族、出生日期、户籍地址、现居住地址、联系电话、乡镇、乡镇代码（可选）。"
                "人员类别可填代码（1–12）或名称，多个类别用顿号或逗号分隔。"
            }
            p.muted { "上传后先显示预览和逐行错误，管理员确认后才写入；重复导入同一文件不会改变数据。" }
            form.filters method="post" action="/import" enctype="multipart/form-data" {
                (pages::csrf_field(&session.csrf_token))
                (pages::file_picker("file", "基础库文件（.xlsx 或 .csv）", Some(".xlsx,.csv")))
                button type="submit" { "上传并预览" }
            }
        }
    };
    html_page(
        Notice::status(notice.as_ref()),
        pages::layout("基础库导入", Some(session), body),
    )
}

async fn import_page(Staff(session, _): Staff<Admins>) -> Response {
    page(&session, None, None)
}

async fn upload(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> Response {
    // The CSRF token travels in the multipart body: checked once the body
    // is read, before anything is looked at.
    let session = match require(&state, &headers, Role::may_manage_users) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let refuse = |m: &str| page(&session, Some(Notice::Refused(m.into())), None);
    let mut file: Option<(String, Vec<u8>)> = None;
    let mut csrf_in_body = String::new();
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) => match field.name() {
                Some("file") => {
                    let name = field.file_name().unwrap_or_default().to_string();
                    match field.bytes().await {
                        Ok(bytes) => file = Some((name, bytes.to_vec())),
                        Err(_) => return refuse("文件上传不完整，或超过 20 MB。"),
                    }
                }
                Some("csrf") => csrf_in_body = field.text().await.unwrap_or_default(),
                _ => {}
            },
            Ok(None) => break,
            Err(_) => return refuse("文件上传不完整，或超过 20 MB。"),
        }
    }
    if let Err(r) = super::check_csrf(&session, &[("csrf".to_string(), csrf_in_body)]) {
        return *r;
    }
    let Some((file_name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return refuse("请选择要导入的文件。");
    };
    let lower = file_name.to_lowercase();
    let table = if lower.ends_with(".xlsx") || bytes.starts_with(b"PK\x03\x04") {
        read_xlsx(&bytes)
    } else if lower.ends_with(".csv") || lower.ends_with(".txt") {
        read_csv(&bytes)
    } else {
        Err("只支持 .xlsx 和 .csv 文件。".to_string())
    };
    let table = match table {
        Ok(t) => t,
        Err(m) => return refuse(&m),
    };
    let now = state.now();
    let townships: HashMap<String, String> = match state.app.db().townships() {
        Ok(t) => t.into_iter().map(|(code, name)| (name, code)).collect(),
        Err(e) => return internal(e),
    };
    let checked = match check_rows(&table, &townships, now.date_naive()) {
        Ok(c) => c,
        Err(m) => return refuse(&m),
    };
    let keyed: Vec<(String, BaseRow)> = checked
        .rows
        .iter()
        .map(|row| (state.app.person_key(row.id_number.as_str()), row.clone()))
        .collect();
    let effect = {
        let refs: Vec<(String, &BaseRow)> = keyed.iter().map(|(k, r)| (k.clone(), r)).collect();
        match state.app.db().base_import_effect(&refs) {
            Ok(e) => e,
            Err(e) => return internal(e),
        }
    };
    let token = super::auth::random_token();
    let file_sha256 = sha256_hex(&bytes);
    {
        let mut waiting = pending_lock();
        waiting.retain(|_, p| p.until > now);
        if waiting.len() >= MAX_PENDING {
            return refuse("待确认的导入过多，请稍后再试。");
        }
        waiting.insert(
            token.clone(),
            Pending {
                username: session.username.as_str().to_string(),
                file_name: file_name.clone(),
                file_sha256,
                rows: keyed,
                until: now + PENDING_FOR,
            },
        );
    }
    let _ = state
        .app
        .db()
        .audit(session.username.as_str(), "base_preview", None, now);
    let preview = html! {
        div.section {
            h3 { "预览：" (file_name) }
            table.kv {
                tr { th { "可导入的行" } td { (checked.rows.len()) } }
                tr { th { "有错误的行（不导入）" } td { (checked.errors.len()) } }
                tr { th { "其中新增人员" } td { (effect.new) } }
                tr { th { "其中信息有变化" } td { (effect.changed) } }
                tr { th { "其中与已导入的相同（不变）" } td { (effect.unchanged) } }
            }
            @if !checked.errors.is_empty() {
                h3 style="margin-top:12px" { "逐行错误" }
                table.row-errors {
                    tr { th { "行号" } th { "问题" } }
                    @for error in checked.errors.iter().take(SHOWN_ERRORS) {
                        tr { td { "第" (error.line) "行" } td { (error.problems.join("；")) } }
                    }
                }
                @if checked.errors.len() > SHOWN_ERRORS {
                    p.muted { "另有 " (checked.errors.len() - SHOWN_ERRORS) " 行错误未列出。" }
                }
            }
            @if checked.rows.is_empty() {
                p { "没有可导入的行。请修改文件后重新上传。" }
            } @else if effect.new + effect.changed == 0 {
                p { "所有可导入的行都与已导入的相同，确认导入不会改变任何数据。" }
            }
            @if !checked.rows.is_empty() {
                form method="post" action="/import/confirm" style="margin-top:12px" {
                    (pages::csrf_field(&session.csrf_token))
                    input type="hidden" name="token" value=(token);
                    button type="submit" { "确认导入 " (checked.rows.len()) " 行" }
                    " "
                    a href="/import" { "放弃" }
                }
            }
        }
    };
    page(&session, None, Some(preview))
}

async fn confirm(
    State(state): State<ConsoleState>,
    StaffForm { session, form, .. }: StaffForm<Admins>,
) -> Response {
    let now = state.now();
    let token = form_value(&form, "token").unwrap_or_default();
    let taken = {
        let mut waiting = pending_lock();
        match waiting.get(token) {
            Some(p) if p.username == session.username.as_str() && p.until > now => {
                waiting.remove(token)
            }
            _ => None,
        }
    };
    let Some(pending) = taken else {
        return page(
            &session,
            Some(Notice::Refused(
                "预览已过期或已确认过，请重新上传文件。".into(),
            )),
            None,
        );
    };
    let worker = state.clone();
    let username = session.username.as_str().to_string();
    let written = tokio::task::spawn_blocking(move || {
        let refs: Vec<(String, &BaseRow)> =
            pending.rows.iter().map(|(k, r)| (k.clone(), r)).collect();
        let mut db = worker.app.db();
        let effect = db.write_base_import(
            &refs,
            (&pending.file_sha256, &pending.file_name),
            &username,
            now,
        )?;
        db.audit(&username, "base_import", None, now)?;
        Ok::<_, DbError>((effect, pending.rows.len()))
    })
    .await;
    match written {
        Ok(Ok((effect, rows))) => page(
            &session,
            Some(Notice::Done(format!(
                "已导入 {rows} 行：新增 {} 人，更新 {} 人，{} 人没有变化。",
                effect.new, effect.changed, effect.unchanged
            ))),
            None,
        ),
        Ok(Err(e)) => internal(e),
        Err(e) => internal(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str) -> Cell {
        Cell::Text(text.into())
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 6).unwrap_or_default()
    }

    #[test]
    fn headers_are_found_by_name_whatever_the_decoration() {
        let header: Vec<String> = [
            "序号",
            "姓 名*",
            "身份证号码",
            "出生日期（年月日）",
            "人员类别",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let map = map_headers(&header).unwrap_or_default();
        assert_eq!(map.get(&Column::Name), Some(&1));
        assert_eq!(map.get(&Column::IdNumber), Some(&2));
        assert_eq!(map.get(&Column::BirthDate), Some(&3));
        let missing = map_headers(&["姓名".to_string()]);
        assert_eq!(
            missing,
            Err("第一行（表头）缺少这些列：公民身份号码、人员类别。请检查表头名称。".to_string())
        );
    }

    #[test]
    fn dates_are_read_as_county_files_write_them() {
        let expected = NaiveDate::from_ymd_opt(1955, 3, 15);
        for cell in [
            t("1955-03-15"),
            t("1955/3/15"),
            t("1955.3.15"),
            t("19550315"),
            t("1955年3月15日"),
            Cell::Number(19_550_315.0),
            Cell::Date(20_163.0),
        ] {
            assert_eq!(parse_date(&cell), expected, "{cell:?}");
        }
        assert_eq!(parse_date(&t("三月")), None);
        assert_eq!(parse_date(&t("1955-13-01")), None);
    }

    #[test]
    fn rows_are_checked_one_by_one() {
        let table = vec![
            vec![
                t("姓名"),
                t("公民身份号码"),
                t("人员类别"),
                t("出生日期"),
                t("乡镇"),
            ],
            vec![
                t("张三"),
                t("350524195503150010"),
                t("2、残疾军人"),
                t("1955-03-15"),
                t("城关镇"),
            ],
            vec![
                t("李四"),
                t("350524195503150011"),
                t("2"),
                Cell::Empty,
                Cell::Empty,
            ],
            vec![
                t("王五"),
                t("350524196001010012"),
                t("宇航员"),
                Cell::Empty,
                Cell::Empty,
            ],
            vec![
                t("赵六"),
                t("350524195503150010"),
                t("1"),
                t("五五年"),
                Cell::Empty,
            ],
            vec![Cell::Empty, Cell::Empty],
            vec![
                t("钱七"),
                Cell::Number(350_524_195_503_150_000.0),
                t("2"),
                Cell::Empty,
                Cell::Empty,
            ],
        ];
        let townships = HashMap::from([("城关镇".to_string(), "350524100".to_string())]);
        let checked = check_rows(&table, &townships, today()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(checked.rows.len(), 1);
        assert_eq!(checked.rows[0].township_code, "350524100");
        assert_eq!(
            checked.rows[0].categories,
            vec![Category::DischargedSoldier, Category::DisabledServiceman]
        );
        let lines: Vec<usize> = checked.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![3, 4, 5, 7]);
        assert!(checked.errors[3].problems[0].contains("存成了数字"));
        assert!(checked.errors[0].problems[0].starts_with("公民身份号码："));
        assert!(checked.errors[1].problems[0].starts_with("人员类别："));
        assert!(checked.errors[2]
            .problems
            .iter()
            .any(|p| p.contains("重复")));
        assert!(checked.errors[2]
            .problems
            .iter()
            .any(|p| p.contains("无法识别")));
    }

    /// Found by fuzzing (crates/fuzz, import_xlsx): a cell naming a shared
    /// string past the end of the list made calamine index out of bounds.
    #[test]
    fn a_damaged_xlsx_is_refused_not_a_panic() {
        use std::io::{Read, Write};
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write_string(0, 0, "姓名").unwrap();
        let good = book.save_to_buffer().unwrap();
        assert_eq!(read_xlsx(&good).unwrap(), vec![vec![t("姓名")]]);
        let mut archive = zip::ZipArchive::new(Cursor::new(good)).unwrap();
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for i in 0..archive.len() {
            let mut file = archive.by_index(i).unwrap();
            let mut data = Vec::new();
            file.read_to_end(&mut data).unwrap();
            if file.name() == "xl/worksheets/sheet1.xml" {
                let xml = String::from_utf8(data).unwrap();
                assert!(xml.contains("<v>0</v>"), "{xml}");
                data = xml.replace("<v>0</v>", "<v>33</v>").into_bytes();
            }
            writer
                .start_file(file.name(), zip::write::SimpleFileOptions::default())
                .unwrap();
            writer.write_all(&data).unwrap();
        }
        let damaged = writer.finish().unwrap().into_inner();
        let refused = read_xlsx(&damaged).unwrap_err();
        assert!(refused.contains("不是有效的 Excel"), "{refused}");
    }

    /// Found by fuzzing (import_xlsx): one cell at XFD1048576 made
    /// calamine's dense range ask for 28 GB and abort the process.
    #[test]
    fn a_sheet_spanning_a_huge_range_is_refused_without_allocating_it() {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write_string(0, 0, "姓名").unwrap();
        sheet.write_string(1_048_575, 16_383, "远处").unwrap();
        let far = book.save_to_buffer().unwrap();
        let refused = read_xlsx(&far).unwrap_err();
        assert!(refused.contains("工作表太大"), "{refused}");
        // A sheet that starts at C3 is read from its first used cell.
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write_string(2, 2, "姓名").unwrap();
        sheet.write_number(4, 3, 7.0).unwrap();
        let table = read_xlsx(&book.save_to_buffer().unwrap()).unwrap();
        assert_eq!(
            table,
            vec![
                vec![t("姓名")],
                vec![],
                vec![Cell::Empty, Cell::Number(7.0)]
            ]
        );
    }

    /// Found by fuzzing (import_csv): a header row of 260,000 cells.
    #[test]
    fn a_very_wide_header_is_checked_quickly() {
        let mut csv = String::from("姓名,公民身份号码,人员类别");
        csv.push_str(&",".repeat(260_000));
        let table = read_csv(csv.as_bytes()).unwrap();
        let started = std::time::Instant::now();
        let checked = check_rows(&table, &HashMap::new(), today()).unwrap();
        assert!(checked.rows.is_empty());
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn csv_reads_utf8_with_bom_quotes_and_gbk() {
        let rows = read_csv("\u{feff}姓名,备注\r\n张三,\"说\"\"好\"\"，\n两行\"\r\n".as_bytes())
            .unwrap_or_default();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1][1], t("说\"好\"，\n两行"));
        let (gbk, _, _) = encoding_rs::GB18030.encode("姓名,人员类别\n张三,2\n");
        let rows = read_csv(&gbk).unwrap_or_default();
        assert_eq!(rows[1], vec![t("张三"), t("2")]);
        assert!(read_csv(b"a,\"open").is_err());
    }
}

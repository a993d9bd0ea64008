//! The ledger and statistics (台账): records by township × category ×
//! state, progress against the imported base (registered of known),
//! uploads per township per week with the townships silent for 7 days
//! flagged (the plan asks for at least one upload a week), charts drawn as
//! inline SVG, and a layout that prints cleanly.
//!
//! Every count comes from an index that covers its query (`records_stats`,
//! `records_uploads`, `records_by_township`, `base_roster_by_township`),
//! so the page answers in milliseconds at 200,000 records.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Duration, Utc};
use maud::{html, Markup};

use super::list::{self, STATES};
use super::{html_page, internal, pages, AnyRole, ConsoleState, Staff};
use crate::db::{ts, DbError, PlatformDb};
use crate::sql::params;
use kiosk_core::category::Category;

/// Weeks of uploads shown.
pub const WEEKS: usize = 8;
/// A township with no upload for this long is flagged.
pub const SILENT_AFTER: Duration = Duration::days(7);

/// Everything the page shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// (township code, state, category slug) → records; a record of two
    /// categories counts under both.
    pub by_category: BTreeMap<(String, String, String), u64>,
    /// (township code, state) → records.
    pub by_state: BTreeMap<(String, String), u64>,
    /// Township code → (known in the base, of them registered, of them accepted).
    pub progress: BTreeMap<String, (u64, u64, u64)>,
    /// Township code → uploads in each of the last `WEEKS` weeks, newest first.
    pub weekly: BTreeMap<String, [u64; WEEKS]>,
    /// Township code → the latest upload.
    pub last_upload: BTreeMap<String, String>,
    /// Every township code known (records, base, names).
    pub townships: BTreeSet<String>,
    pub names: HashMap<String, String>,
}

impl Stats {
    /// Townships with no upload in the last 7 days at `now`.
    pub fn silent(&self, now: DateTime<Utc>) -> Vec<&String> {
        let cutoff = ts(now - SILENT_AFTER);
        self.townships
            .iter()
            .filter(|code| !code.is_empty())
            .filter(|code| {
                self.last_upload
                    .get(*code)
                    .is_none_or(|last| *last < cutoff)
            })
            .collect()
    }
}

impl PlatformDb {
    pub fn stats(&self, now: DateTime<Utc>) -> Result<Stats, DbError> {
        let mut stats = Stats::default();
        {
            let mut stmt = self.conn.prepare_cached(
                "SELECT township_code, state, categories, count(*) FROM records \
                 GROUP BY township_code, state, categories",
            )?;
            let mut rows = stmt.query(params![])?;
            while let Some(row) = rows.next()? {
                let township: String = row.get(0)?;
                let state: String = row.get(1)?;
                let categories: String = row.get(2)?;
                let n: u64 = row.get(3)?;
                *stats
                    .by_state
                    .entry((township.clone(), state.clone()))
                    .or_default() += n;
                for slug in categories.split(',').filter(|s| !s.is_empty()) {
                    *stats
                        .by_category
                        .entry((township.clone(), state.clone(), slug.to_string()))
                        .or_default() += n;
                }
                stats.townships.insert(township);
            }
        }
        {
            // The roster's flags are kept by intake, acceptance and import
            // (`register`), so progress is one pass over an index.
            let mut stmt = self.conn.prepare_cached(
                "SELECT township_code, count(*), CAST(sum(registered) AS BIGINT), CAST(sum(accepted) AS BIGINT) \
                 FROM base_roster GROUP BY township_code",
            )?;
            let mut rows = stmt.query(params![])?;
            while let Some(row) = rows.next()? {
                let township: String = row.get(0)?;
                stats
                    .progress
                    .insert(township.clone(), (row.get(1)?, row.get(2)?, row.get(3)?));
                stats.townships.insert(township);
            }
        }
        {
            let oldest = now - Duration::days(7 * WEEKS as i64);
            let mut stmt = self.conn.prepare_cached(
                "SELECT township_code, substr(received_at, 1, 10), count(*) FROM records \
                 WHERE township_code != '' AND received_at >= ?1 \
                 GROUP BY township_code, substr(received_at, 1, 10)",
            )?;
            let mut rows = stmt.query([ts(oldest)])?;
            let today = now.date_naive();
            while let Some(row) = rows.next()? {
                let township: String = row.get(0)?;
                let day: String = row.get(1)?;
                let n: u64 = row.get(2)?;
                let Ok(day) = chrono::NaiveDate::parse_from_str(&day, "%Y-%m-%d") else {
                    continue;
                };
                let week = ((today - day).num_days().max(0) / 7) as usize;
                if let Some(slot) = stats
                    .weekly
                    .entry(township)
                    .or_insert([0; WEEKS])
                    .get_mut(week)
                {
                    *slot += n;
                }
            }
        }
        {
            let mut stmt = self.conn.prepare_cached(
                "SELECT township_code, max(received_at) FROM records WHERE township_code != '' \
                 GROUP BY township_code",
            )?;
            let mut rows = stmt.query(params![])?;
            while let Some(row) = rows.next()? {
                stats.last_upload.insert(row.get(0)?, row.get(1)?);
            }
        }
        for (code, name) in self.townships()? {
            stats.townships.insert(code.clone());
            stats.names.insert(code, name);
        }
        Ok(stats)
    }
}

pub fn routes() -> Router<ConsoleState> {
    Router::new().route("/stats", get(page))
}

/// A horizontal bar chart: one bar per (label, value, of), drawn as SVG.
fn bar_chart(title: &str, bars: &[(String, u64, u64)]) -> Markup {
    const ROW: u32 = 26;
    const LABEL: u32 = 150;
    const BAR: u32 = 420;
    let height = ROW * bars.len() as u32 + 8;
    let width = LABEL + BAR + 140;
    html! {
        svg xmlns="http://www.w3.org/2000/svg" width=(width) height=(height) role="img" aria-label=(title) class="chart" {
            @for (i, (label, value, of)) in bars.iter().enumerate() {
                @let y = ROW * i as u32 + 4;
                @let filled = (BAR as u64 * (*value).min(*of)).checked_div(*of).unwrap_or(0) as u32;
                text x=(LABEL - 8) y=(y + 16) text-anchor="end" font-size="13" { (label) }
                rect x=(LABEL) y=(y) width=(BAR) height="18" fill="#e8edf3" {}
                rect x=(LABEL) y=(y) width=(filled) height="18" fill="#1f4e79" {}
                text x=(LABEL + BAR + 8) y=(y + 15) font-size="13" {
                    (value) " / " (of)
                    @if *of > 0 { "（" (value * 100 / of) "%）" }
                }
            }
        }
    }
}

/// Weekly uploads of one township as small columns, oldest left.
fn week_columns(weeks: &[u64; WEEKS], silent: bool) -> Markup {
    let top = weeks.iter().copied().max().unwrap_or(0).max(1);
    html! {
        svg xmlns="http://www.w3.org/2000/svg" width=(WEEKS * 14) height="28" role="img" aria-label="近8周每周上传数" {
            @for (i, n) in weeks.iter().rev().enumerate() {
                @let h = (24 * n / top) as u32;
                rect x=(i * 14) y=(26 - h) width="10" height=(h.max(1)) fill=(if silent && i == WEEKS - 1 { "#8a1c12" } else { "#1f4e79" }) {}
            }
        }
    }
}

async fn page(
    State(state): State<ConsoleState>,
    Query(query): Query<Vec<(String, String)>>,
    Staff(session, _): Staff<AnyRole>,
) -> Response {
    let chosen_state = query
        .iter()
        .find(|(k, _)| k == "state")
        .and_then(|(_, v)| STATES.iter().find(|(code, _)| code == v))
        .map(|(code, _)| *code);
    let now = state.now();
    let stats = match state.app.db().stats(now) {
        Ok(s) => s,
        Err(e) => return internal(e),
    };
    let silent = stats.silent(now);
    let name = |code: &str| pages::township_label(code, &stats.names);
    // Named townships by code; records refused at intake ("") last.
    let townships: Vec<&String> = stats
        .townships
        .iter()
        .filter(|t| !t.is_empty())
        .chain(stats.townships.iter().filter(|t| t.is_empty()))
        .collect();
    let state_count = |township: &str, code: &str| {
        stats
            .by_state
            .get(&(township.to_string(), code.to_string()))
            .copied()
            .unwrap_or(0)
    };
    let category_count = |township: &str, category: Category| {
        stats
            .by_category
            .iter()
            .filter(|((t, s, c), _)| {
                t == township
                    && c == category.slug()
                    && chosen_state.is_none_or(|chosen| chosen == s)
            })
            .map(|(_, n)| *n)
            .sum::<u64>()
    };
    let progress_bars: Vec<(String, u64, u64)> = stats
        .progress
        .iter()
        .map(|(code, (known, registered, _))| (name(code), *registered, *known))
        .collect();
    let body = html! {
        h2 { "统计台账" }
        p.muted.no-print { "统计截至 " (pages::china_time(now)) "。打印本页请用浏览器的打印功能（Ctrl+P），导航和筛选不会打印。" }
        p.print-only { "统计截至 " (pages::china_time(now)) }
        @if !silent.is_empty() {
            div.error role="alert" {
                "以下乡镇已超过7天没有上传记录（方案要求每周至少上传一次）："
                (silent.iter().map(|code| name(code)).collect::<Vec<_>>().join("、"))
            }
        }
        div.section {
            h3 { "一、按乡镇和审核状态" }
            table {
                tr { th { "乡镇" } @for (_, zh) in STATES { th { (zh) } } th { "合计" } }
                @for township in &townships {
                    tr {
                        td { (name(township)) }
                        @for (code, _) in STATES { td { (state_count(township, code)) } }
                        td { (STATES.iter().map(|(code, _)| state_count(township, code)).sum::<u64>()) }
                    }
                }
                tr {
                    th { "合计" }
                    @for (code, _) in STATES { th { (townships.iter().map(|t| state_count(t, code)).sum::<u64>()) } }
                    th { (stats.by_state.values().sum::<u64>()) }
                }
            }
            p.muted { "接收时自动校验拒收的记录不计入乡镇，列为“未知”。" }
        }
        div.section {
            h3 { "二、按乡镇和人员类别" @if let Some(chosen) = chosen_state { "（" (list::state_zh(chosen)) "）" } }
            form.filters.no-print method="get" action="/stats" {
                label { "审核状态" select name="state" {
                    option value="" { "全部" }
                    @for (code, zh) in STATES { option value=(code) selected[chosen_state == Some(code)] { (zh) } }
                } }
                button type="submit" { "查看" }
            }
            div style="overflow-x:auto" {
                table.compact {
                    tr { th { "乡镇" } @for category in Category::ALL { th title=(category.name_zh()) { (category.code()) "." (category.name_zh()) } } }
                    @for township in &townships {
                        tr {
                            td { (name(township)) }
                            @for category in Category::ALL { td { (category_count(township, category)) } }
                        }
                    }
                    tr {
                        th { "合计" }
                        @for category in Category::ALL { th { (townships.iter().map(|t| category_count(t, category)).sum::<u64>()) } }
                    }
                }
            }
            p.muted { "一人属多个类别时各计一次。" }
        }
        div.section {
            h3 { "三、登记进度（对照基础库）" }
            @if stats.progress.is_empty() {
                p { "尚未导入基础库。管理员可在“基础库导入”页导入。" }
            } @else {
                (bar_chart("各乡镇已登记人数 / 基础库人数", &progress_bars))
                table {
                    tr { th { "乡镇" } th { "基础库人数" } th { "已登记" } th { "已审核通过" } th { "未登记" } }
                    @for (code, (known, registered, accepted)) in &stats.progress {
                        tr {
                            td { (name(code)) }
                            td { (known) } td { (registered) } td { (accepted) } td { (known - registered.min(known)) }
                        }
                    }
                }
            }
        }
        div.section {
            h3 { "四、各乡镇每周上传（近" (WEEKS) "周）" }
            table {
                tr {
                    th { "乡镇" } th { "走势" }
                    @for week in 0..WEEKS {
                        th { @if week == 0 { "近7天" } @else { (week * 7 + 1) "–" ((week + 1) * 7) "天前" } }
                    }
                    th { "最近上传" }
                }
                @for township in townships.iter().filter(|t| !t.is_empty()) {
                    @let weeks = stats.weekly.get(*township).copied().unwrap_or([0; WEEKS]);
                    @let is_silent = silent.contains(township);
                    tr class=(if is_silent { "silent" } else { "" }) {
                        td { (name(township)) @if is_silent { span.state-rejected { "（超过7天未上传）" } } }
                        td { (week_columns(&weeks, is_silent)) }
                        @for n in weeks { td { (n) } }
                        td { (stats.last_upload.get(*township).map(|t| pages::china_time_text(t)).unwrap_or_else(|| "从未上传".to_string())) }
                    }
                }
            }
        }
    };
    html_page(
        StatusCode::OK,
        pages::layout("统计台账", Some(&session), body),
    )
}

//! The console's HTML, rendered on the server with maud (which escapes
//! every interpolated string: a name holding `<script>` shows as text).
//! No script at all; plain forms. Laid out for a 1366×768 office screen.

use chrono::{DateTime, Duration, Utc};
use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::auth::Role;
use super::store::Session;

const STYLE: &str = r#"
@font-face { font-family: "ConsoleCJK"; src: url("/static/cjk.ttf") format("truetype"); font-display: block; }
* { box-sizing: border-box; }
body { margin: 0; font-family: "ConsoleCJK", sans-serif; font-size: 15px; color: #1d2733; background: #f3f5f8; }
header { display: flex; align-items: center; gap: 24px; padding: 0 24px; height: 52px; background: #1f4e79; color: #fff; }
header h1 { font-size: 18px; margin: 0; font-weight: normal; }
header nav a { color: #fff; margin-right: 18px; text-decoration: none; }
header .who { margin-left: auto; display: flex; align-items: center; gap: 12px; }
header .who button { background: transparent; color: #fff; border: 1px solid #fff; padding: 4px 12px; }
main { padding: 16px 24px; max-width: 1366px; }
h2 { font-size: 18px; margin: 4px 0 12px; }
h3 { font-size: 16px; margin: 0 0 8px; color: #1f4e79; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { border: 1px solid #d5dbe3; padding: 6px 8px; text-align: left; vertical-align: top; }
th { background: #e8edf3; font-weight: normal; white-space: nowrap; }
form.filters { display: flex; flex-wrap: wrap; gap: 8px 14px; align-items: end; margin-bottom: 12px; background: #fff; padding: 10px 12px; border: 1px solid #d5dbe3; }
form.filters a.clear { align-self: end; padding-bottom: 6px; }
table.users td { vertical-align: middle; }
table.users button { padding: 2px 12px; }
form.filters label { display: flex; flex-direction: column; font-size: 13px; gap: 2px; }
input, select, textarea, button { font-family: inherit; font-size: 15px; }
input[type=text], input[type=password], input[type=date], select { padding: 4px 6px; border: 1px solid #aab4c0; }
button { padding: 5px 16px; border: 1px solid #1f4e79; background: #1f4e79; color: #fff; cursor: pointer; }
button.secondary { background: #fff; color: #1f4e79; }
.error { background: #fdecea; border: 1px solid #e0a39c; color: #8a1c12; padding: 8px 12px; margin-bottom: 12px; }
.notice { background: #e8f4ea; border: 1px solid #9cc9a5; padding: 8px 12px; margin-bottom: 12px; }
.login { width: 440px; margin: 90px auto; background: #fff; border: 1px solid #d5dbe3; padding: 24px 28px; }
.login label { display: block; margin-bottom: 12px; }
.login input { width: 100%; margin-top: 4px; }
.section { background: #fff; border: 1px solid #d5dbe3; padding: 12px 14px; margin-bottom: 12px; }
.proof { display: grid; grid-template-columns: 1fr 220px; gap: 14px; }
.photos { display: flex; flex-direction: column; gap: 8px; }
.photos figure { margin: 0; text-align: center; font-size: 13px; }
.photos img { max-width: 200px; max-height: 150px; border: 1px solid #aab4c0; background: #eee; }
.kv th { width: 140px; }
.pager { margin-top: 10px; display: flex; gap: 16px; }
.state-received { color: #8a5a00; } .state-rejected { color: #8a1c12; } .state-accepted { color: #1c6b2e; }
.decision { display: grid; grid-template-columns: 1fr 2fr; gap: 14px; }
.reason-row { display: grid; grid-template-columns: 200px 1fr; gap: 8px; margin-bottom: 6px; }
.reason-row input { width: 100%; }
.muted { color: #5b6775; font-size: 13px; }
img.compare { max-width: 120px; max-height: 90px; border: 1px solid #aab4c0; }
table.compact th, table.compact td { padding: 4px 5px; font-size: 13px; }
svg.chart { display: block; margin-bottom: 10px; }
.print-only { display: none; }
@media print {
  header, .no-print { display: none !important; }
  .print-only { display: block; }
  body { background: #fff; font-size: 12px; }
  main { padding: 0; }
  .section { border: none; padding: 0; page-break-inside: avoid; }
  .error { border: 1px solid #8a1c12; }
  /* An A4 page is narrower than a screen: headers wrap, cells are tighter,
     so the twelve-category and weekly tables fit the paper, not cut. */
  th { white-space: normal; }
  tr > :first-child { white-space: nowrap; }
  th, td, table.compact th, table.compact td { padding: 3px 4px; font-size: 11px; }
}
label.block { display: block; margin-bottom: 8px; font-size: 13px; }
label.block input[type=text], label.block textarea { display: block; width: 100%; margin-top: 2px; font-size: 15px; }
textarea { padding: 4px 6px; border: 1px solid #aab4c0; resize: vertical; }
input[type=number] { width: 90px; padding: 4px 6px; border: 1px solid #aab4c0; }
.filters-inline { display: flex; flex-wrap: wrap; gap: 8px 18px; align-items: end; margin-bottom: 10px; }
.filters-inline label { display: flex; flex-direction: column; font-size: 13px; gap: 2px; }
.help-grid { display: grid; grid-template-columns: 1fr 1fr; gap: 0 16px; }
td.fingerprint, span.fingerprint { font-size: 13px; font-variant-numeric: tabular-nums; word-break: break-all; }
td.wrap { white-space: pre-wrap; word-break: break-word; }
table.changes ins { color: #1c6b2e; text-decoration: none; }
.kiosk-preview { background: #0f3d66; color: #fff; padding: 18px 24px; max-width: 720px; }
.kiosk-preview .kiosk-title { font-size: 24px; margin-bottom: 10px; }
.kiosk-preview .kiosk-notice { font-size: 18px; white-space: pre-wrap; line-height: 1.6; }
.file-field { display: flex; flex-direction: column; gap: 2px; font-size: 13px; }
.file-field label.file-pick { position: relative; display: inline-flex; flex-direction: row; align-items: center; gap: 10px; font-size: 13px; cursor: pointer; }
.file-field label.file-pick input[type=file] { position: absolute; left: 0; top: 0; width: 1px; height: 1px; opacity: 0; }
.file-field label.file-pick .pick { padding: 5px 16px; border: 1px solid #1f4e79; background: #fff; color: #1f4e79; font-size: 15px; }
.file-field label.file-pick input:focus-visible ~ .pick { outline: 2px solid #1f4e79; outline-offset: 2px; }
.file-field label.file-pick .file-none { color: #5b6775; }
.file-field label.file-pick .file-chosen { display: none; color: #1c6b2e; }
.file-field label.file-pick input:valid ~ .file-none { display: none; }
.file-field label.file-pick input:valid ~ .file-chosen { display: inline; }
tr.changed del { color: #8a1c12; } tr.changed ins { color: #1c6b2e; text-decoration: none; font-weight: bold; }
"#;

/// A whole page: head, the header bar (when logged in), the body.
pub fn layout(title: &str, session: Option<&Session>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · 县级优抚对象信息平台" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                @if let Some(session) = session {
                    header {
                        h1 { "县级优抚对象信息平台" }
                        nav {
                            a href="/records" { "记录审核" }
                            a href="/stats" { "统计" }
                            a href="/kiosks" { "终端管理" }
                            a href="/config" { "配置下发" }
                            @if session.role.may_manage_users() {
                                a href="/users" { "用户管理" }
                                a href="/reasons" { "退回原因" }
                                a href="/import" { "基础库导入" }
                                a href="/export" { "导出" }
                                a href="/audit" { "操作日志" }
                            }
                        }
                        div.who {
                            span { (session.username.as_str()) "（" (session.role.name_zh()) "）" }
                            form method="post" action="/logout" {
                                (csrf_field(&session.csrf_token))
                                button type="submit" { "退出登录" }
                            }
                        }
                    }
                }
                main { (body) }
            }
        }
    }
}

pub fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(token); }
}

pub fn login(csrf: &str, error: Option<&str>) -> Markup {
    layout(
        "登录",
        None,
        html! {
            div.login {
                h2 { "县级优抚对象信息平台 · 登录" }
                @if let Some(error) = error { div.error role="alert" { (error) } }
                form method="post" action="/login" {
                    (csrf_field(csrf))
                    label { "用户名" input type="text" name="username" autocomplete="username" required; }
                    label { "密码" input type="password" name="password" autocomplete="current-password" required; }
                    button type="submit" { "登录" }
                }
                p.muted { "连续输错五次密码，账号将被锁定，锁定时间逐次加倍。" }
            }
        },
    )
}

/// A page saying why a request was refused.
pub fn refused(session: Option<&Session>, title: &str, message: &str) -> Markup {
    layout(
        title,
        session,
        html! {
            h2 { (title) }
            div.error role="alert" { (message) }
            p { a href="/records" { "返回记录列表" } }
        },
    )
}

/// A required file input whose words are the console's own: the browser's
/// native button ("选择文件" or "Choose File") follows its UI language, so
/// the input is hidden under a Chinese button, and `:valid` (no script)
/// tells whether a file was chosen. `accept` lists the file endings the
/// dialog offers first, e.g. ".xlsx,.csv".
pub fn file_picker(name: &str, caption: &str, accept: Option<&str>) -> Markup {
    html! {
        div.file-field {
            span.file-caption { (caption) }
            label.file-pick {
                input type="file" name=(name) accept=[accept] required aria-label=(caption);
                span.pick { "选择文件…" }
                span.file-none { "未选择文件" }
                span.file-chosen { "已选择文件 ✓" }
            }
        }
    }
}

pub fn role_options(selected: Option<Role>) -> Markup {
    html! {
        @for role in Role::ALL {
            option value=(role.as_str()) selected[selected == Some(role)] { (role.name_zh()) }
        }
    }
}

/// A moment as county staff read it: China Standard Time (UTC+8, no
/// daylight saving), "2026-12-06 15:04".
pub fn china_time(at: DateTime<Utc>) -> String {
    (at.naive_utc() + Duration::hours(8))
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// A stored time (RFC 3339, UTC) as county staff read it; a value that
/// does not parse is shown as stored.
pub fn china_time_text(stored: &str) -> String {
    DateTime::parse_from_rfc3339(stored)
        .map(|t| china_time(t.with_timezone(&Utc)))
        .unwrap_or_else(|_| stored.to_string())
}

/// A township as a table cell shows it: the name, with the code beneath
/// in small print (staff type codes into the enrolment form); the code
/// alone when no name is known.
pub fn township_cell(code: &str, names: &std::collections::HashMap<String, String>) -> Markup {
    html! {
        (township_label(code, names))
        @if names.contains_key(code) { br; span.muted { (code) } }
    }
}

/// A township by name, with its code for the clerk who knows codes; the
/// code alone when the platform has no name for it.
pub fn township_label(code: &str, names: &std::collections::HashMap<String, String>) -> String {
    match (code.is_empty(), names.get(code)) {
        (true, _) => "未知".to_string(),
        (false, Some(name)) => name.clone(),
        (false, None) => code.to_string(),
    }
}

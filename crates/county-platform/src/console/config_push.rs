//! 配置下发: administrators edit the campaign notice, the help texts and
//! the time-outs for all kiosks, one township or one kiosk; preview the
//! change; sign it and push it; and everyone sees which kiosk runs which
//! version (from the kiosks' own reports).
//!
//! The platform cannot sign alone (docs/console.md): the administrator's
//! Ed25519 key file comes with each push, is used in memory for that one
//! signature and is never stored or logged, and its public key must be one
//! of the pinned administrator keys (`--admin-keys`). A bundle signed
//! offline with `veteran-kiosk config sign` may be uploaded instead.

use std::collections::{BTreeMap, HashMap};

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use toml_edit::{value, DocumentMut, Item, Table};

use super::auth::Role;
use super::store::Session;
use super::{
    check_csrf, form_value, html_page, internal, pages, Admins, AnyRole, ConsoleState, Staff,
    StaffForm,
};
use crate::db::DbError;
use crate::registry::RegistryError;
use trust::bundle::{Bundle, BundleError, BundlePath, Target, CONFIG_FILE};
use trust::keys::AdminSigningKey;
use wire::config::{ConfigEvent, KioskStatus};

/// The screens that may have a help text, with their names for staff.
pub const SCREENS: [(&str, &str); 13] = [
    ("attract", "待机页"),
    ("insert_card", "放身份证"),
    ("manual_identity", "手工录入身份"),
    ("identity", "身份信息"),
    ("portrait", "拍照"),
    ("categories", "人员类别"),
    ("category_details", "类别详情"),
    ("documents", "证件拍照"),
    ("living", "生活状况"),
    ("needs", "需求"),
    ("review", "核对信息"),
    ("sign", "签字"),
    ("done", "登记完成"),
];

/// The time-outs that may be edited: key, name, the kiosk's allowed range.
pub const TIMEOUTS: [(&str, &str, i64, i64); 3] = [
    (
        "idle_warning_seconds",
        "无操作多久后询问“还在吗？”（秒）",
        15,
        900,
    ),
    (
        "wipe_warning_seconds",
        "询问后多久清除已填内容（秒）",
        20,
        300,
    ),
    ("done_screen_seconds", "“登记完成”页停留（秒）", 3, 300),
];

/// What an administrator sets, parsed once from the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigEdit {
    pub title: String,
    pub notice: String,
    /// Per screen; absent: that screen has no help button.
    pub help: BTreeMap<&'static str, String>,
    pub timeouts: BTreeMap<&'static str, i64>,
}

/// Text for the kiosk's screen: line breaks as `\n`, trimmed, within the
/// kiosk's own limits (which refuse a bundle otherwise).
fn screen_text(text: &str, max: usize, name: &str) -> Result<String, String> {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let text = text.trim();
    if text.chars().count() > max {
        return Err(format!("“{name}”最多 {max} 字。"));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(format!("“{name}”含有不可见的控制字符。"));
    }
    Ok(text.to_string())
}

impl ConfigEdit {
    pub fn parse(form: &[(String, String)]) -> Result<ConfigEdit, Vec<String>> {
        let mut errors = Vec::new();
        let mut required = |key: &str, max: usize, name: &str| match screen_text(
            form_value(form, key).unwrap_or(""),
            max,
            name,
        ) {
            Ok(t) if t.is_empty() => {
                errors.push(format!("“{name}”不能为空。"));
                String::new()
            }
            Ok(t) => t,
            Err(e) => {
                errors.push(e);
                String::new()
            }
        };
        let title = required("title", 60, "活动标题");
        let notice = required("notice", 2000, "活动公告");
        let mut help = BTreeMap::new();
        for (screen, name) in SCREENS {
            match screen_text(
                form_value(form, &format!("help.{screen}")).unwrap_or(""),
                1000,
                &format!("{name}的帮助"),
            ) {
                Ok(t) if t.is_empty() => {}
                Ok(t) => {
                    help.insert(screen, t);
                }
                Err(e) => errors.push(e),
            }
        }
        let mut timeouts = BTreeMap::new();
        for (key, name, min, max) in TIMEOUTS {
            match form_value(form, key).and_then(|v| v.trim().parse::<i64>().ok()) {
                Some(n) if (min..=max).contains(&n) => {
                    timeouts.insert(key, n);
                }
                _ => errors.push(format!("“{name}”应为 {min} 至 {max} 之间的整数。")),
            }
        }
        if errors.is_empty() {
            Ok(ConfigEdit {
                title,
                notice,
                help,
                timeouts,
            })
        } else {
            Err(errors)
        }
    }

    /// The values in force in a kiosk.toml (what the form starts from).
    pub fn from_toml(doc: &DocumentMut) -> ConfigEdit {
        let text = |item: Option<&Item>| {
            item.and_then(Item::as_str)
                .map(|s| s.trim().to_string())
                .unwrap_or_default()
        };
        let texts = doc.get("texts");
        let help_table = texts.and_then(|t| t.get("help"));
        let session = doc.get("session");
        ConfigEdit {
            title: text(texts.and_then(|t| t.get("campaign_title"))),
            notice: text(texts.and_then(|t| t.get("campaign_notice"))),
            help: SCREENS
                .iter()
                .filter_map(|(screen, _)| {
                    let t = text(help_table.and_then(|h| h.get(screen)));
                    (!t.is_empty()).then_some((*screen, t))
                })
                .collect(),
            timeouts: TIMEOUTS
                .iter()
                .filter_map(|(key, ..)| {
                    session
                        .and_then(|s| s.get(key))
                        .and_then(Item::as_integer)
                        .map(|n| (*key, n))
                })
                .collect(),
        }
    }

    /// `kiosk.toml` with these values set; every other line, comment
    /// included, stays as it was. Refused when `[texts]` or `[session]` is
    /// there but not a table (the kiosk would refuse that file anyway).
    pub fn apply(&self, doc: &mut DocumentMut) -> Result<(), String> {
        let not_a_table = |name: &str| format!("kiosk.toml 中的 [{name}] 不是表，无法修改。");
        let texts = table(doc.as_table_mut(), "texts").ok_or_else(|| not_a_table("texts"))?;
        texts["campaign_title"] = value(self.title.as_str());
        texts["campaign_notice"] = value(self.notice.as_str());
        let help = table(texts, "help").ok_or_else(|| not_a_table("texts.help"))?;
        for (screen, _) in SCREENS {
            match self.help.get(screen) {
                Some(t) => help[screen] = value(t.as_str()),
                None => {
                    help.remove(screen);
                }
            }
        }
        let session = table(doc.as_table_mut(), "session").ok_or_else(|| not_a_table("session"))?;
        for (key, n) in &self.timeouts {
            session[key] = value(*n);
        }
        Ok(())
    }
}

/// The sub-table `key` of `parent`, made if absent; `None` if `key` holds
/// something else.
fn table<'a>(parent: &'a mut Table, key: &str) -> Option<&'a mut Table> {
    if parent.get(key).is_none() {
        parent.insert(key, Item::Table(Table::new()));
    }
    parent.get_mut(key).and_then(Item::as_table_mut)
}

/// A target from the form: `all`, `township:<code>`, `kiosk:<id>`.
fn parse_target(form_or_query: &[(String, String)]) -> Option<Target> {
    form_value(form_or_query, "target").and_then(|t| t.parse().ok())
}

/// Township names by code, for showing targets and reports.
type TownshipNames = HashMap<String, String>;

fn township_names(state: &ConsoleState) -> Result<TownshipNames, DbError> {
    Ok(state.app.db().townships()?.into_iter().collect())
}

fn target_zh(target: &Target, names: &TownshipNames) -> String {
    match target {
        Target::All => "全部终端".to_string(),
        Target::Township(code) => match names.get(code) {
            Some(name) => format!("{name}（{code}）的全部终端"),
            None => format!("乡镇 {code} 的全部终端"),
        },
        Target::Kiosk(id) => format!("终端 {id}"),
    }
}

/// An audit entry's detail as a county clerk reads it. A push's entry keeps
/// its scope in the machine form `Target` parses ("范围 township:350524100"),
/// so old and new entries stay parseable; shown, the scope is named the way
/// the push form names it ("范围 凤城镇（350524100）的全部终端"). Other
/// actions' details, and a scope that does not parse, are shown as stored.
pub(crate) fn audit_detail_zh(action: &str, detail: &str, names: &TownshipNames) -> String {
    if action != "config_push" {
        return detail.to_string();
    }
    detail
        .split('，')
        .map(|part| {
            match part
                .strip_prefix("范围 ")
                .and_then(|scope| scope.parse::<Target>().ok())
            {
                Some(target) => format!("范围 {}", target_zh(&target, names)),
                None => part.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join("，")
}

/// What a push starts from and becomes.
struct Draft {
    base: Bundle,
    base_toml: DocumentMut,
    version: u64,
}

fn draft(state: &ConsoleState, target: &Target) -> Result<Draft, String> {
    let county = state.app.county.as_ref().ok_or("平台未配置配置包目录。")?;
    let kiosk_township = match target {
        Target::Kiosk(id) => state
            .app
            .db()
            .kiosk_registry()
            .ok()
            .and_then(|rows| rows.into_iter().find(|r| r.kiosk_id == id.as_str()))
            .map(|r| r.township_code),
        _ => None,
    };
    let registry = county.bundles.registry();
    let io = |e: RegistryError| {
        eprintln!("county-platform console: configuration bundles: {e}");
        "配置包目录无法读取，请联系系统管理员。".to_string()
    };
    let base = registry
        .base_for(target, kiosk_township.as_deref())
        .map_err(io)?
        .ok_or("这个范围还没有任何已下发的完整配置。请先用 veteran-kiosk config sign 和 config push 下发一份完整配置（含证书等），之后即可在这里修改文字和时间。")?;
    let base_toml = base
        .files
        .iter()
        .find(|(path, _)| path.as_str() == CONFIG_FILE)
        .and_then(|(_, bytes)| std::str::from_utf8(bytes).ok())
        .and_then(|text| text.parse::<DocumentMut>().ok())
        .ok_or("已下发的配置中的 kiosk.toml 无法读取。")?;
    let version = registry.latest_version().map_err(io)? + 1;
    Ok(Draft {
        base,
        base_toml,
        version,
    })
}

impl Draft {
    /// The files of the new bundle: the base's, with kiosk.toml edited.
    fn files(&self, edit: &ConfigEdit) -> Result<BTreeMap<BundlePath, Vec<u8>>, String> {
        let mut doc = self.base_toml.clone();
        edit.apply(&mut doc)?;
        let mut files = self.base.files.clone();
        let path = BundlePath::parse(CONFIG_FILE).map_err(|e| e.to_string())?;
        files.insert(path, doc.to_string().into_bytes());
        Ok(files)
    }
}

pub async fn page(
    State(state): State<ConsoleState>,
    Query(query): Query<Vec<(String, String)>>,
    Staff(session, _): Staff<AnyRole>,
) -> Response {
    let target = parse_target(&query).unwrap_or(Target::All);
    page_answer(&state, &session, &target, None, None, StatusCode::OK)
}

fn page_answer(
    state: &ConsoleState,
    session: &Session,
    target: &Target,
    edit: Option<&ConfigEdit>,
    message: Option<Result<String, Vec<String>>>,
    status: StatusCode,
) -> Response {
    let Some(county) = state.app.county.as_ref() else {
        return internal("the console runs without the platform's configuration bundles");
    };
    let registry = county.bundles.registry();
    let (published, reports) = match registry
        .published()
        .and_then(|p| Ok((p, registry.kiosks()?)))
    {
        Ok(r) => r,
        Err(e) => return internal(e),
    };
    let kiosks_and_names = {
        let db = state.app.db();
        db.kiosk_registry()
            .and_then(|k| Ok((k, db.townships()?.into_iter().collect::<TownshipNames>())))
    };
    let (kiosks, names) = match kiosks_and_names {
        Ok(r) => r,
        Err(e) => return internal(e),
    };
    let mut targets = vec![Target::All];
    let mut townships: Vec<&str> = kiosks
        .iter()
        .map(|k| k.township_code.as_str())
        .chain(reports.iter().map(|r| r.report.township_code.as_str()))
        .filter(|t| !t.is_empty())
        .collect();
    townships.sort_unstable();
    townships.dedup();
    targets.extend(
        townships
            .iter()
            .filter_map(|t| format!("township:{t}").parse().ok()),
    );
    let mut kiosk_ids: Vec<&str> = kiosks
        .iter()
        .filter(|k| k.revoked_at.is_none())
        .map(|k| k.kiosk_id.as_str())
        .chain(reports.iter().map(|r| r.report.kiosk_id.as_str()))
        .collect();
    kiosk_ids.sort_unstable();
    kiosk_ids.dedup();
    targets.extend(
        kiosk_ids
            .iter()
            .filter_map(|k| format!("kiosk:{k}").parse().ok()),
    );
    if !targets.contains(target) {
        targets.push(target.clone());
    }
    let is_admin = session.role == Role::Admin;
    let draft = is_admin.then(|| draft(state, target));
    let body = html! {
        h2 { "配置下发" }
        @match &message {
            Some(Ok(m)) => div.notice role="status" { (m) },
            Some(Err(errors)) => div.error role="alert" { @for e in errors { div { (e) } } },
            None => {},
        }
        @if is_admin {
            div.section {
                h3 { "修改终端上的文字和时间" }
                form.filters method="get" action="/config" {
                    label { "下发范围" select name="target" {
                        @for t in &targets {
                            option value=(t.to_string()) selected[t == target] { (target_zh(t, &names)) }
                        }
                    } }
                    button.secondary type="submit" { "选择" }
                }
                @match &draft {
                    Some(Ok(draft)) => {
                        @let current = ConfigEdit::from_toml(&draft.base_toml);
                        p.muted {
                            "以第 " (draft.base.version) " 版（" (target_zh(&draft.base.target, &names)) "）为基础修改，保存后作为第 "
                            (draft.version) " 版下发给" (target_zh(target, &names)) "。证书、设备等其余设置不变。"
                        }
                        (edit_form(session, target, edit.unwrap_or(&current)))
                    }
                    Some(Err(why)) => div.error role="alert" { (why) },
                    None => {},
                }
            }
            div.section {
                h3 { "上传已离线签名的配置包" }
                form.filters method="post" action="/config/upload" enctype="multipart/form-data" {
                    (pages::csrf_field(&session.csrf_token))
                    (pages::file_picker("bundle", "配置包（veteran-kiosk config sign 生成的 .bundle 文件）", None))
                    button type="submit" { "上传并下发" }
                }
            }
        }
        (versions_table(&published, &reports, &names))
        (reports_table(&reports, &names))
    };
    html_page(status, pages::layout("配置下发", Some(session), body))
}

fn edit_form(session: &Session, target: &Target, edit: &ConfigEdit) -> Markup {
    html! {
        form.config method="post" action="/config/preview" {
            (pages::csrf_field(&session.csrf_token))
            input type="hidden" name="target" value=(target.to_string());
            label.block { "活动标题（最多60字）" input type="text" name="title" value=(edit.title) maxlength="60" required; }
            label.block { "活动公告（待机页显示，最多2000字）"
                textarea name="notice" rows="4" required { (edit.notice) }
            }
            h3 { "各页面的帮助文字（留空则该页不显示“帮助”按钮）" }
            div.help-grid {
                @for (screen, name) in SCREENS {
                    label.block { (name)
                        textarea name=(format!("help.{screen}")) rows="2" { (edit.help.get(screen).map(String::as_str).unwrap_or("")) }
                    }
                }
            }
            h3 { "等待时间" }
            div.filters-inline {
                @for (key, name, min, max) in TIMEOUTS {
                    label { (name)
                        input type="number" name=(key) min=(min) max=(max) required
                            value=(edit.timeouts.get(key).map(|n| n.to_string()).unwrap_or_default());
                    }
                }
            }
            button type="submit" { "预览" }
        }
    }
}

fn versions_table(published: &[Bundle], reports: &[KioskStatus], names: &TownshipNames) -> Markup {
    html! {
        div.section {
            h3 { "已下发的配置版本" }
            table {
                tr { th { "版本" } th { "范围" } th { "配置摘要（SHA-256）" } th { "签名管理员公钥" } th { "在用终端" } }
                @if published.is_empty() { tr { td colspan="5" { "还没有下发过配置。" } } }
                @for bundle in published {
                    @let users: Vec<&str> = reports.iter()
                        .filter(|r| r.report.status.version == bundle.version)
                        .map(|r| r.report.kiosk_id.as_str()).collect();
                    tr {
                        td { "第 " (bundle.version) " 版" }
                        td { (target_zh(&bundle.target, names)) }
                        td.fingerprint title=(bundle.sha256()) { (bundle.sha256().get(..16).unwrap_or("")) "…" }
                        td.fingerprint { (bundle.signer.to_string().get(..20).unwrap_or("")) "…" }
                        td { @if users.is_empty() { "—" } @else { (users.join("、")) } }
                    }
                }
            }
        }
    }
}

fn event_zh(event: &ConfigEvent) -> String {
    match event {
        ConfigEvent::Installed { version, .. } => format!("出厂配置第 {version} 版"),
        ConfigEvent::Applied { version, .. } => format!("已换用第 {version} 版，试运行中"),
        ConfigEvent::Confirmed { version, .. } => format!("第 {version} 版运行正常"),
        ConfigEvent::RolledBack {
            failed_version,
            reason,
            ..
        } => format!("第 {failed_version} 版启动失败，已退回：{reason}"),
        ConfigEvent::Refused {
            version, reason, ..
        } => match version {
            Some(v) => format!("拒收第 {v} 版：{reason}"),
            None => format!("拒收配置包：{reason}"),
        },
    }
}

fn reports_table(reports: &[KioskStatus], names: &TownshipNames) -> Markup {
    html! {
        div.section {
            h3 { "各终端报告的配置" }
            table {
                tr { th { "终端编号" } th { "乡镇" } th { "在用版本" } th { "最近情况" } th { "报告时间" } }
                @if reports.is_empty() { tr { td colspan="5" { "还没有终端报告。" } } }
                @for r in reports {
                    tr id=(format!("report-{}", r.report.kiosk_id)) {
                        td { (r.report.kiosk_id) }
                        td { (pages::township_cell(&r.report.township_code, names)) }
                        td { "第 " (r.report.status.version) " 版" @if r.report.status.on_trial { "（试运行）" } }
                        td.wrap { (event_zh(&r.report.status.last_event)) }
                        td { (pages::china_time(r.received_at)) }
                    }
                }
            }
        }
    }
}

/// The rows of the preview: what changes, old and new.
fn changes(old: &ConfigEdit, new: &ConfigEdit) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let mut row = |name: String, a: &str, b: &str| {
        if a != b {
            out.push((name, a.to_string(), b.to_string()));
        }
    };
    row("活动标题".into(), &old.title, &new.title);
    row("活动公告".into(), &old.notice, &new.notice);
    for (screen, name) in SCREENS {
        row(
            format!("{name}的帮助"),
            old.help.get(screen).map(String::as_str).unwrap_or("（无）"),
            new.help.get(screen).map(String::as_str).unwrap_or("（无）"),
        );
    }
    for (key, name, ..) in TIMEOUTS {
        let show = |e: &ConfigEdit| {
            e.timeouts
                .get(key)
                .map(|n| n.to_string())
                .unwrap_or_default()
        };
        row(name.to_string(), &show(old), &show(new));
    }
    out
}

pub async fn preview(
    State(state): State<ConsoleState>,
    StaffForm { session, form, .. }: StaffForm<Admins>,
) -> Response {
    let Some(target) = parse_target(&form) else {
        return page_answer(
            &state,
            &session,
            &Target::All,
            None,
            Some(Err(vec!["请选择下发范围。".into()])),
            StatusCode::BAD_REQUEST,
        );
    };
    let edit = match ConfigEdit::parse(&form) {
        Ok(e) => e,
        Err(errors) => {
            return page_answer(
                &state,
                &session,
                &target,
                None,
                Some(Err(errors)),
                StatusCode::BAD_REQUEST,
            )
        }
    };
    let draft = match draft(&state, &target) {
        Ok(d) => d,
        Err(why) => {
            return page_answer(
                &state,
                &session,
                &target,
                Some(&edit),
                Some(Err(vec![why])),
                StatusCode::BAD_REQUEST,
            )
        }
    };
    let old = ConfigEdit::from_toml(&draft.base_toml);
    let changed = changes(&old, &edit);
    let files = match draft.files(&edit) {
        Ok(f) => f,
        Err(e) => return internal(e),
    };
    let names = match township_names(&state) {
        Ok(n) => n,
        Err(e) => return internal(e),
    };
    let digest =
        trust::sha256_hex(trust::bundle::manifest(draft.version, &target, &files).as_bytes());
    let body = html! {
        h2 { "预览：第 " (draft.version) " 版，下发给" (target_zh(&target, &names)) }
        @if changed.is_empty() {
            div.error role="alert" { "与第 " (draft.base.version) " 版相比没有任何改动。" }
        } @else {
            table.changes {
                tr { th { "项目" } th { "原来（第 " (draft.base.version) " 版）" } th { "改为" } }
                @for (name, a, b) in &changed {
                    tr { td { (name) } td.wrap { (a) } td.wrap { ins { (b) } } }
                }
            }
        }
        div.section style="margin-top:14px" {
            h3 { "待机页效果" }
            div.kiosk-preview {
                div.kiosk-title { (edit.title) }
                div.kiosk-notice { (edit.notice) }
            }
        }
        p.muted { "配置摘要（SHA-256，终端工作人员页面显示同一值）：" span.fingerprint { (digest) } }
        @if !changed.is_empty() {
            div.section {
                h3 { "签名并下发" }
                form method="post" action="/config/push" enctype="multipart/form-data" {
                    (pages::csrf_field(&session.csrf_token))
                    input type="hidden" name="target" value=(target.to_string());
                    input type="hidden" name="version" value=(draft.version);
                    input type="hidden" name="title" value=(edit.title);
                    input type="hidden" name="notice" value=(edit.notice);
                    @for (screen, text) in &edit.help {
                        input type="hidden" name=(format!("help.{screen}")) value=(text);
                    }
                    @for (key, n) in &edit.timeouts {
                        input type="hidden" name=(key) value=(n);
                    }
                    div.filters-inline {
                        (pages::file_picker("admin_key", "管理员签名私钥文件（veteran-kiosk config keygen 生成）", None))
                        button type="submit" { "签名并下发" }
                    }
                }
                p.muted { "私钥只在这次签名时使用，平台不保存、不记录；只有登记在平台的管理员公钥签名的配置才会被接受。" }
            }
        }
        p { a href=(format!("/config?target={}", target)) { "返回修改" } }
    };
    html_page(
        StatusCode::OK,
        pages::layout("配置预览", Some(&session), body),
    )
}

/// A multipart form that could not be read to its end.
struct BrokenUpload;

/// The fields of a `multipart/form-data` body, by name (files as their
/// bytes). A body that is not multipart has no fields (so its CSRF check
/// fails); one that breaks off or passes the route's body limit is
/// `BrokenUpload`.
async fn multipart_fields(
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Vec<(String, Vec<u8>)>, BrokenUpload> {
    let Ok(mut multipart) = multipart else {
        return Ok(Vec::new());
    };
    let mut fields = Vec::new();
    while let Some(field) = multipart.next_field().await.map_err(|_| BrokenUpload)? {
        let name = field.name().unwrap_or_default().to_string();
        let bytes = field.bytes().await.map_err(|_| BrokenUpload)?;
        fields.push((name, bytes.to_vec()));
    }
    Ok(fields)
}

/// The text fields of a multipart form as a urlencoded form would give them.
fn text_fields(fields: &[(String, Vec<u8>)], except: &str) -> Vec<(String, String)> {
    fields
        .iter()
        .filter(|(name, _)| name != except)
        .filter_map(|(name, bytes)| Some((name.clone(), String::from_utf8(bytes.clone()).ok()?)))
        .collect()
}

fn publish_refusal(err: &RegistryError) -> String {
    match err {
        RegistryError::VersionExists(v) => {
            format!("第 {v} 版已被他人下发，请回到配置下发页重新预览。")
        }
        RegistryError::Bundle(BundleError::UnknownSigner(_)) => {
            "签名所用的私钥不是平台登记的管理员密钥，配置未下发。".to_string()
        }
        RegistryError::Bundle(BundleError::BadSignature) => {
            "配置包的签名与内容不符（可能被改动过），配置未下发。".to_string()
        }
        RegistryError::Bundle(other) => format!("配置包不正确，配置未下发（{}）。", other.code()),
        other => {
            eprintln!("county-platform console: configuration push: {other}");
            "配置包无法保存，请联系系统管理员。".to_string()
        }
    }
}

pub async fn push(
    State(state): State<ConsoleState>,
    Staff(session, _): Staff<Admins>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let Ok(fields) = multipart_fields(multipart).await else {
        return broken_upload(&state, &session);
    };
    let form = text_fields(&fields, "admin_key");
    if let Err(refusal) = check_csrf(&session, &form) {
        return *refusal;
    }
    let target = parse_target(&form).unwrap_or(Target::All);
    let refuse = |errors: Vec<String>, edit: Option<&ConfigEdit>| {
        page_answer(
            &state,
            &session,
            &target,
            edit,
            Some(Err(errors)),
            StatusCode::BAD_REQUEST,
        )
    };
    let edit = match ConfigEdit::parse(&form) {
        Ok(e) => e,
        Err(errors) => return refuse(errors, None),
    };
    let key_pem = fields
        .iter()
        .find(|(name, _)| name == "admin_key")
        .and_then(|(_, bytes)| std::str::from_utf8(bytes).ok())
        .unwrap_or("");
    let Ok(key) = AdminSigningKey::from_pem(key_pem) else {
        return refuse(
            vec!["请选择管理员签名私钥文件（PEM 格式）。".into()],
            Some(&edit),
        );
    };
    let Some(county) = state.app.county.clone() else {
        return internal("the console runs without the platform's configuration bundles");
    };
    // Checked before signing: a key the kiosks do not pin signs nothing here.
    if !county.bundles.admins().contains(&key.public_key()) {
        return refuse(
            vec!["这个私钥不是平台登记的管理员密钥（--admin-keys），配置未下发。".into()],
            Some(&edit),
        );
    }
    let draft = match draft(&state, &target) {
        Ok(d) => d,
        Err(why) => return refuse(vec![why], Some(&edit)),
    };
    if form_value(&form, "version") != Some(draft.version.to_string().as_str()) {
        return refuse(
            vec!["预览之后已有新的配置下发，请检查后重新预览。".into()],
            Some(&edit),
        );
    }
    let files = match draft.files(&edit) {
        Ok(f) => f,
        Err(e) => return internal(e),
    };
    let bundle = match Bundle::sign(files, draft.version, target.clone(), &key) {
        Ok(b) => b,
        Err(e) => {
            return refuse(
                vec![format!("配置包无法生成（{}）。", e.code())],
                Some(&edit),
            )
        }
    };
    drop(key);
    publish_answer(&state, &session, &target, bundle.to_bytes()).await
}

async fn publish_answer(
    state: &ConsoleState,
    session: &Session,
    target: &Target,
    bytes: Vec<u8>,
) -> Response {
    let Some(county) = state.app.county.clone() else {
        return internal("the console runs without the platform's configuration bundles");
    };
    let published = tokio::task::spawn_blocking(move || {
        county
            .bundles
            .registry()
            .publish(&bytes, county.bundles.admins())
    })
    .await;
    match published {
        Ok(Ok(published)) => {
            let detail = format!(
                "第 {} 版，范围 {}，摘要 {}",
                published.version, published.target, published.sha256
            );
            if let Err(e) = state.app.db().audit_detail(
                session.username.as_str(),
                "config_push",
                None,
                &detail,
                state.now(),
            ) {
                return internal(e);
            }
            let target: Target = published.target.parse().unwrap_or(target.clone());
            let names = match township_names(state) {
                Ok(n) => n,
                Err(e) => return internal(e),
            };
            page_answer(
                state,
                session,
                &target,
                None,
                Some(Ok(format!(
                    "已签名并下发第 {} 版（{}），配置摘要 {}。终端下次查询配置时就会换用。",
                    published.version,
                    target_zh(&target, &names),
                    published.sha256.get(..16).unwrap_or("")
                ))),
                StatusCode::OK,
            )
        }
        Ok(Err(err)) => page_answer(
            state,
            session,
            target,
            None,
            Some(Err(vec![publish_refusal(&err)])),
            StatusCode::BAD_REQUEST,
        ),
        Err(e) => internal(e),
    }
}

/// The answer to an upload that could not be read: nothing was checked,
/// nothing changes.
fn broken_upload(state: &ConsoleState, session: &Session) -> Response {
    page_answer(
        state,
        session,
        &Target::All,
        None,
        Some(Err(vec!["文件上传不完整，或文件过大，配置未下发。".into()])),
        StatusCode::BAD_REQUEST,
    )
}

pub async fn upload(
    State(state): State<ConsoleState>,
    Staff(session, _): Staff<Admins>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let Ok(fields) = multipart_fields(multipart).await else {
        return broken_upload(&state, &session);
    };
    if let Err(refusal) = check_csrf(&session, &text_fields(&fields, "bundle")) {
        return *refusal;
    }
    let Some((_, bytes)) = fields
        .into_iter()
        .find(|(name, b)| name == "bundle" && !b.is_empty())
    else {
        return page_answer(
            &state,
            &session,
            &Target::All,
            None,
            Some(Err(vec!["请选择配置包文件。".into()])),
            StatusCode::BAD_REQUEST,
        );
    };
    publish_answer(&state, &session, &Target::All, bytes).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn an_edit_changes_only_its_keys_and_keeps_the_comments() {
        let base = include_str!("../../../../kiosk-config/kiosk.toml");
        let mut doc: DocumentMut = base.parse().unwrap();
        let current = ConfigEdit::from_toml(&doc);
        assert_eq!(current.timeouts["idle_warning_seconds"], 90);
        assert!(current.help.contains_key("portrait"));
        let edit = ConfigEdit::parse(&form(&[
            ("title", " 2027年优抚对象信息采集 "),
            ("notice", "第一行\r\n第二行"),
            ("help.portrait", "请正对摄像头。"),
            ("help.attract", "点屏幕开始。"),
            ("idle_warning_seconds", "120"),
            ("wipe_warning_seconds", "45"),
            ("done_screen_seconds", "15"),
        ]))
        .unwrap();
        edit.apply(&mut doc).unwrap();
        let text = doc.to_string();
        let again: DocumentMut = text.parse().unwrap();
        assert_eq!(ConfigEdit::from_toml(&again), edit);
        assert_eq!(edit.notice, "第一行\n第二行");
        // Help texts not in the form are removed; other settings and comments stay.
        assert!(!edit.help.contains_key("sign"));
        assert!(!text.contains("请在打印出来的回执上签字"));
        assert!(text.contains("# Quiet time before"));
        assert!(text.contains("pin_hash = \"$argon2id$"));
        assert!(text.contains("draft_window_hours = 72"));
    }

    #[test]
    fn a_bad_edit_says_every_problem_in_chinese() {
        let errors = ConfigEdit::parse(&form(&[
            ("title", ""),
            ("notice", "x\u{7}"),
            ("idle_warning_seconds", "5"),
            ("wipe_warning_seconds", "abc"),
            ("done_screen_seconds", "20"),
        ]))
        .unwrap_err();
        assert_eq!(errors.len(), 4, "{errors:?}");
        assert!(errors.iter().any(|e| e.contains("活动标题")));
        assert!(errors.iter().any(|e| e.contains("控制字符")));
        assert!(errors.iter().any(|e| e.contains("15 至 900")));
    }

    #[test]
    fn a_township_target_is_named_when_the_platform_knows_the_name() {
        let names: TownshipNames = [("350524100".to_string(), "凤城镇".to_string())].into();
        let known: Target = "township:350524100".parse().unwrap();
        let unknown: Target = "township:350524101".parse().unwrap();
        assert_eq!(target_zh(&known, &names), "凤城镇（350524100）的全部终端");
        assert_eq!(target_zh(&unknown, &names), "乡镇 350524101 的全部终端");
        assert_eq!(target_zh(&Target::All, &names), "全部终端");
    }

    #[test]
    fn a_push_audit_entry_names_its_scope_as_a_clerk_reads_it() {
        let names: TownshipNames = [("350524100".to_string(), "凤城镇".to_string())].into();
        let digest = "ab".repeat(32);
        let shown = |scope: &str| {
            audit_detail_zh(
                "config_push",
                &format!("第 3 版，范围 {scope}，摘要 {digest}"),
                &names,
            )
        };
        assert_eq!(
            shown("township:350524100"),
            format!("第 3 版，范围 凤城镇（350524100）的全部终端，摘要 {digest}")
        );
        assert_eq!(
            shown("township:350524101"),
            format!("第 3 版，范围 乡镇 350524101 的全部终端，摘要 {digest}")
        );
        assert_eq!(
            shown("all"),
            format!("第 3 版，范围 全部终端，摘要 {digest}")
        );
        assert_eq!(
            shown("kiosk:FC-01"),
            format!("第 3 版，范围 终端 FC-01，摘要 {digest}")
        );
        // A scope that does not parse, and other actions, show as stored.
        assert_eq!(
            shown("township:abc"),
            format!("第 3 版，范围 township:abc，摘要 {digest}")
        );
        assert_eq!(
            audit_detail_zh("kiosk_revoke", "范围 all", &names),
            "范围 all"
        );
    }
}

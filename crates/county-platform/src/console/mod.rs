//! The county's web console: county staff sign in, review records with
//! their photos and accept or return them (see docs/console.md).
//!
//! Served on its own HTTPS listener with its own server certificate; the
//! listener asks for no client certificate, so a kiosk's certificate is
//! never a console login. Pages are rendered on the server (maud); there is
//! no script. Every page and download but the login page and the font
//! needs a session of a role allowed to see it; every form carries the
//! session's CSRF token.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use std::marker::PhantomData;

use axum::extract::{FromRequest, FromRequestParts, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::{DateTime, Utc};
use maud::{html, Markup};

use crate::{AppState, PlatformError};
use trust::pki::{self, CertificateAuthority, DemoPki, PkiError, Validity, DEMO_CA_NAME};
use trust::sha256_hex;

pub mod auth;
pub mod config_push;
pub mod export;
pub mod import;
pub mod kiosks;
pub mod list;
pub mod pages;
pub mod person_page;
pub mod reasons;
pub mod record_page;
pub mod stats;
pub mod store;

use auth::{Role, Username};
use store::Session;

/// The CJK font the pages use, served by the console itself (office PCs
/// may have no Chinese font that renders every rare character).
static CJK_FONT: &[u8] = include_bytes!("../../../../assets/fonts/DroidSansFallbackFull.ttf");

const SESSION_COOKIE: &str = "vk_console";
const LOGIN_CSRF_COOKIE: &str = "vk_login_csrf";

/// A clock the handlers read; tests may pass their own.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// What every console handler shares.
#[derive(Clone)]
pub struct ConsoleState {
    pub app: AppState,
    pub clock: Clock,
}

impl ConsoleState {
    pub fn new(app: AppState) -> ConsoleState {
        ConsoleState {
            app,
            clock: Arc::new(Utc::now),
        }
    }

    fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }
}

/// Where the console listens and its certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleConfig {
    pub listen: SocketAddr,
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// File names of the console's demo certificate inside a demo PKI directory.
pub const DEMO_CONSOLE_CERT: &str = "console.pem";
pub const DEMO_CONSOLE_KEY: &str = "console-key.pem";

impl ConsoleConfig {
    /// The console's own certificate in a demo PKI directory, issued by the
    /// demo CA on first use (for `localhost` and the loopback addresses).
    pub fn demo(pki_dir: &Path, listen: SocketAddr) -> Result<ConsoleConfig, PkiError> {
        let cert = pki_dir.join(DEMO_CONSOLE_CERT);
        let key = pki_dir.join(DEMO_CONSOLE_KEY);
        if !cert.exists() {
            let demo = DemoPki::at(pki_dir);
            let ca_key = std::fs::read_to_string(&demo.ca_key).map_err(|e| PkiError::Io {
                path: demo.ca_key.clone(),
                detail: e.to_string(),
            })?;
            CertificateAuthority::from_key_pem(DEMO_CA_NAME, &ca_key)?
                .issue_server(
                    &["localhost", "127.0.0.1", "::1"],
                    Validity::days_from_today(825),
                )?
                .write(&cert, &key)?;
        }
        Ok(ConsoleConfig { listen, cert, key })
    }
}

/// The console's TLS: TLS 1.2 or 1.3 (office browsers), no client certificate.
pub fn tls_config(config: &ConsoleConfig) -> Result<rustls::ServerConfig, PkiError> {
    let mut tls = rustls::ServerConfig::builder_with_provider(pki::crypto_provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| PkiError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(pki::load_certs(&config.cert)?, pki::load_key(&config.key)?)
        .map_err(|e| PkiError::Tls(e.to_string()))?;
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tls)
}

/// Starts the console beside a platform, sharing its database.
pub fn start(
    config: &ConsoleConfig,
    state: ConsoleState,
) -> Result<crate::RunningPlatform, PlatformError> {
    let router = routes().with_state(state.clone());
    crate::start_tls(config.listen, tls_config(config)?, state.app, router, false)
}

pub fn routes() -> Router<ConsoleState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/records") }))
        .route("/static/cjk.ttf", get(font))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/records", get(record_page::list))
        .route("/records/{record_id}", get(record_page::show))
        .route(
            "/records/{record_id}/photos/{photo}",
            get(record_page::photo),
        )
        .route(
            "/records/{record_id}/chip-portrait.wlt",
            get(record_page::chip_portrait),
        )
        .route("/records/{record_id}/decision", post(record_page::decide))
        .route("/users", get(users_page).post(add_user))
        .route("/users/unlock", post(unlock_user))
        .route("/users/update", post(update_user))
        .route("/audit", get(audit_page))
        .merge(stats::routes())
        .merge(reasons::routes())
        .merge(import::routes())
        .merge(export::routes())
        .merge(person_page::routes())
        .route("/kiosks", get(kiosks::page))
        .route("/kiosks/enrol", post(kiosks::enrol))
        .route("/kiosks/sign-request", post(kiosks::sign_request))
        .route("/kiosks/revoke", post(kiosks::revoke))
        .route("/config", get(config_push::page))
        .route("/config/preview", post(config_push::preview))
        .route("/config/push", post(config_push::push))
        .route(
            "/config/upload",
            post(config_push::upload).layer(axum::extract::DefaultBodyLimit::max(
                trust::bundle::MAX_BUNDLE_BYTES + 64 * 1024,
            )),
        )
        .layer(middleware::from_fn(security_headers))
}

/// Headers on every answer: no script may run, nothing may frame the
/// console, nothing is cached (pages hold personal data).
async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let set = |headers: &mut HeaderMap, name: &'static str, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(
        headers,
        "content-security-policy",
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    set(headers, "x-content-type-options", "nosniff");
    set(headers, "referrer-policy", "no-referrer");
    set(headers, "strict-transport-security", "max-age=31536000");
    if !headers.contains_key(header::CACHE_CONTROL) {
        set(headers, "cache-control", "no-store");
    }
    response
}

async fn font() -> Response {
    (
        [
            (header::CONTENT_TYPE, "font/ttf"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        CJK_FONT,
    )
        .into_response()
}

pub(crate) fn html_page(status: StatusCode, markup: Markup) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        markup.into_string(),
    )
        .into_response()
}

pub(crate) fn internal(e: impl std::fmt::Display) -> Response {
    eprintln!("county-platform console: internal error: {e}");
    html_page(
        StatusCode::INTERNAL_SERVER_ERROR,
        pages::refused(None, "出错了", "平台内部错误，请稍后重试或联系管理员。"),
    )
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn set_cookie(name: &str, value: &str, max_age: Option<i64>) -> String {
    let age = max_age
        .map(|s| format!("; Max-Age={s}"))
        .unwrap_or_default();
    format!("{name}={value}; Path=/; HttpOnly; Secure; SameSite=Strict{age}")
}

/// The session the request's cookie names, or the answer to send instead:
/// a redirect to the login page, or a refusal for a role that may not.
pub(crate) fn require(
    state: &ConsoleState,
    headers: &HeaderMap,
    allowed: fn(Role) -> bool,
) -> Result<Session, Refusal> {
    let Some(token) = cookie(headers, SESSION_COOKIE) else {
        return Err(Box::new(Redirect::to("/login").into_response()));
    };
    let session = state
        .app
        .db()
        .console_session(&sha256_hex(token.as_bytes()), state.now())
        .map_err(|e| Box::new(internal(e)))?;
    let Some(session) = session else {
        return Err(Box::new(Redirect::to("/login").into_response()));
    };
    if !allowed(session.role) {
        return Err(Box::new(html_page(
            StatusCode::FORBIDDEN,
            pages::refused(
                Some(&session),
                "无权访问",
                "您的账号角色无权查看此页面或执行此操作。",
            ),
        )));
    }
    Ok(session)
}

/// The answer sent instead of a page (boxed: a `Response` is large).
pub(crate) type Refusal = Box<Response>;

/// Any logged-in role.
pub(crate) fn anyone(_: Role) -> bool {
    true
}

/// Which roles may use a page or a form, as a type, so that the
/// [`Staff`] and [`StaffForm`] extractors can check it before the handler runs.
pub trait Allowed: Send + Sync + 'static {
    fn allows(role: Role) -> bool;
}

/// Any logged-in role.
pub struct AnyRole;
/// Who may open a record (personal data and photos).
pub struct RecordReaders;
/// Who may accept or return a record.
pub struct Reviewers;
/// Administrators only.
pub struct Admins;

impl Allowed for AnyRole {
    fn allows(role: Role) -> bool {
        anyone(role)
    }
}

impl Allowed for RecordReaders {
    fn allows(role: Role) -> bool {
        role.may_open_records()
    }
}

impl Allowed for Reviewers {
    fn allows(role: Role) -> bool {
        role.may_review()
    }
}

impl Allowed for Admins {
    fn allows(role: Role) -> bool {
        role.may_manage_users()
    }
}

/// The signed-in staff member behind a page request, of a role `A`
/// allows; otherwise the handler never runs and the answer is the login
/// redirect or the refusal page (`require`).
pub struct Staff<A>(pub Session, PhantomData<A>);

impl<A: Allowed> FromRequestParts<ConsoleState> for Staff<A> {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ConsoleState,
    ) -> Result<Self, Self::Rejection> {
        match require(state, &parts.headers, A::allows) {
            Ok(session) => Ok(Staff(session, PhantomData)),
            Err(refusal) => Err(*refusal),
        }
    }
}

/// A posted form (`application/x-www-form-urlencoded`) and its sender: a
/// signed-in staff member of a role `A` allows, whose form carries the
/// session's CSRF token (`require_form`). The body is read first, as the
/// `Form` extractor did before this one.
pub struct StaffForm<A> {
    pub session: Session,
    pub form: Vec<(String, String)>,
    allowed: PhantomData<A>,
}

impl<A: Allowed> FromRequest<ConsoleState> for StaffForm<A> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &ConsoleState) -> Result<Self, Self::Rejection> {
        let headers = request.headers().clone();
        let Form(form) = Form::<Vec<(String, String)>>::from_request(request, state)
            .await
            .map_err(IntoResponse::into_response)?;
        match require_form(state, &headers, A::allows, &form) {
            Ok(session) => Ok(StaffForm {
                session,
                form,
                allowed: PhantomData,
            }),
            Err(refusal) => Err(*refusal),
        }
    }
}

/// What a page says after a form: what was done, or why it was not (then
/// the page answers 400, so a script or a test sees the refusal).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    Done(String),
    Refused(String),
}

impl Notice {
    /// The status of a page that shows `notice` (none: a plain 200).
    pub(crate) fn status(notice: Option<&Notice>) -> StatusCode {
        match notice {
            Some(Notice::Refused(_)) => StatusCode::BAD_REQUEST,
            Some(Notice::Done(_)) | None => StatusCode::OK,
        }
    }
}

impl maud::Render for Notice {
    fn render(&self) -> Markup {
        html! {
            @match self {
                Notice::Done(m) => div.notice role="status" { (m) },
                Notice::Refused(m) => div.error role="alert" { (m) },
            }
        }
    }
}

/// Refuses a form whose CSRF token is missing or not the session's.
/// A form's sender: logged in with an allowed role, and the form carries
/// the session's CSRF token. Every form handler starts here.
pub(crate) fn require_form(
    state: &ConsoleState,
    headers: &HeaderMap,
    allowed: fn(Role) -> bool,
    form: &[(String, String)],
) -> Result<Session, Refusal> {
    let session = require(state, headers, allowed)?;
    check_csrf(&session, form)?;
    Ok(session)
}

pub(crate) fn check_csrf(session: &Session, form: &[(String, String)]) -> Result<(), Refusal> {
    let sent = form_value(form, "csrf").unwrap_or_default();
    if auth::tokens_match(sent, &session.csrf_token) {
        Ok(())
    } else {
        Err(Box::new(csrf_refused(Some(session))))
    }
}

fn csrf_refused(session: Option<&Session>) -> Response {
    html_page(
        StatusCode::FORBIDDEN,
        pages::refused(
            session,
            "请求被拒绝",
            "表单缺少有效的安全校验码（可能页面已过期），请返回刷新页面后重新操作。",
        ),
    )
}

pub(crate) fn form_value<'a>(form: &'a [(String, String)], key: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

async fn login_page(headers: HeaderMap) -> Response {
    // A login form carries a token that must come back in its cookie too
    // (double submit): another site cannot post a login in our name.
    let token = cookie(&headers, LOGIN_CSRF_COOKIE)
        .filter(|t| t.len() == 64)
        .map(str::to_string)
        .unwrap_or_else(auth::random_token);
    login_answer(&token, None, StatusCode::OK)
}

fn login_answer(token: &str, error: Option<&str>, status: StatusCode) -> Response {
    let mut response = html_page(status, pages::login(token, error));
    if let Ok(value) = HeaderValue::from_str(&set_cookie(LOGIN_CSRF_COOKIE, token, None)) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

async fn login(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let Some(expected) = cookie(&headers, LOGIN_CSRF_COOKIE) else {
        return csrf_refused(None);
    };
    if !auth::tokens_match(form_value(&form, "csrf").unwrap_or_default(), expected) {
        return csrf_refused(None);
    }
    let token = expected.to_string();
    let wrong = || {
        login_answer(
            &token,
            Some("用户名或密码不正确。"),
            StatusCode::UNAUTHORIZED,
        )
    };
    let Some(username) = form_value(&form, "username").and_then(Username::parse) else {
        return wrong();
    };
    let password = form_value(&form, "password")
        .unwrap_or_default()
        .to_string();
    let now = state.now();
    let account = match state.app.db().console_account(&username) {
        Ok(a) => a,
        Err(e) => return internal(e),
    };
    let Some(account) = account else {
        // Same work as for a real account, so timing does not tell names apart.
        let _ = tokio::task::spawn_blocking(move || auth::verify_password(&password, dummy_hash()))
            .await;
        return wrong();
    };
    let locked = |until: DateTime<Utc>| {
        let minutes = ((until - now).num_seconds() + 59) / 60;
        login_answer(
            &token,
            Some(&format!(
                "密码连续输错次数过多，账号已锁定，请 {minutes} 分钟后再试，或联系管理员解锁。"
            )),
            StatusCode::FORBIDDEN,
        )
    };
    if let Some(until) = account.locked_at(now) {
        return locked(until);
    }
    let hash = account.password_hash.clone();
    let matches = tokio::task::spawn_blocking(move || auth::verify_password(&password, &hash))
        .await
        .unwrap_or(false);
    let db = state.app.db();
    if !matches {
        let _ = db.audit(username.as_str(), "login_failed", None, now);
        return match db.console_login_failed(&username, now) {
            Ok(Some(until)) => locked(until),
            Ok(None) => wrong(),
            Err(e) => internal(e),
        };
    }
    let session_token = auth::random_token();
    let started = db
        .console_login_succeeded(&username)
        .and_then(|()| {
            db.console_session_start(
                &sha256_hex(session_token.as_bytes()),
                &username,
                &auth::random_token(),
                now,
            )
        })
        .and_then(|()| db.audit(username.as_str(), "login", None, now));
    if let Err(e) = started {
        return internal(e);
    }
    let mut response = Redirect::to("/records").into_response();
    for cookie in [
        set_cookie(SESSION_COOKIE, &session_token, None),
        set_cookie(LOGIN_CSRF_COOKIE, "", Some(0)),
    ] {
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

/// An Argon2id hash of a random password, checked for unknown names.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| auth::hash_password(&auth::random_token()).unwrap_or_default())
}

async fn logout(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    StaffForm { session, .. }: StaffForm<AnyRole>,
) -> Response {
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        let db = state.app.db();
        let _ = db.console_session_end(&sha256_hex(token.as_bytes()));
        let _ = db.audit(session.username.as_str(), "logout", None, state.now());
    }
    let mut response = Redirect::to("/login").into_response();
    if let Ok(value) = HeaderValue::from_str(&set_cookie(SESSION_COOKIE, "", Some(0))) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

async fn users_page(
    State(state): State<ConsoleState>,
    Staff(session, _): Staff<Admins>,
) -> Response {
    users_answer(&state, &session, None)
}

fn users_answer(state: &ConsoleState, session: &Session, notice: Option<Notice>) -> Response {
    let users = match state.app.db().console_users() {
        Ok(u) => u,
        Err(e) => return internal(e),
    };
    let now = state.now();
    let body = html! {
        h2 { "用户管理" }
        @if let Some(notice) = &notice { (notice) }
        table.users {
            tr { th { "用户名" } th { "角色" } th { "状态" } th { "" } }
            @for (name, role, locked_until) in &users {
                tr {
                    td { (name.as_str()) }
                    td { (role.name_zh()) }
                    @match locked_until.filter(|until| *until > now) {
                        Some(until) => {
                            td { "已锁定，至 " (pages::china_time(until)) }
                            td {
                                form method="post" action="/users/unlock" {
                                    (pages::csrf_field(&session.csrf_token))
                                    input type="hidden" name="username" value=(name.as_str());
                                    button.secondary type="submit" { "解锁" }
                                }
                            }
                        }
                        None => { td { "正常" } td {} }
                    }
                }
            }
        }
        div.section style="margin-top:14px" {
            h3 { "修改角色或重设密码" }
            form.filters method="post" action="/users/update" {
                (pages::csrf_field(&session.csrf_token))
                label { "用户" select name="username" {
                    @for (name, _, _) in &users { option value=(name.as_str()) { (name.as_str()) } }
                } }
                label { "新角色" select name="role" {
                    option value="" { "（不变）" }
                    (pages::role_options(None))
                } }
                label { "新密码（不改请留空）" input type="password" name="password"; }
                button type="submit" { "保存" }
            }
            p.muted { "保存后该用户需重新登录。" }
        }
        div.section style="margin-top:14px" {
            h3 { "新增用户" }
            form.filters method="post" action="/users" {
                (pages::csrf_field(&session.csrf_token))
                label { "用户名（小写字母、数字）" input type="text" name="username" required; }
                label { "角色" select name="role" { (pages::role_options(Some(Role::Reviewer))) } }
                label { "初始密码（至少10位）" input type="password" name="password" required; }
                button type="submit" { "新增" }
            }
        }
    };
    html_page(
        Notice::status(notice.as_ref()),
        pages::layout("用户管理", Some(session), body),
    )
}

/// The users page again, with why the form was refused (400).
fn refuse_on_users_page(state: &ConsoleState, session: &Session, message: &str) -> Response {
    users_answer(state, session, Some(Notice::Refused(message.into())))
}

/// The account a users form names (`username`), if it is a valid name.
fn form_username(form: &[(String, String)]) -> Option<Username> {
    form_value(form, "username").and_then(Username::parse)
}

async fn add_user(
    State(state): State<ConsoleState>,
    StaffForm { session, form, .. }: StaffForm<Admins>,
) -> Response {
    let refuse = |message: &str| refuse_on_users_page(&state, &session, message);
    let Some(username) = form_username(&form) else {
        return refuse("用户名只能由小写字母、数字和 . _ - 组成，最多32位。");
    };
    let Some(role) = form_value(&form, "role").and_then(Role::parse) else {
        return refuse("请选择角色。");
    };
    let password = form_value(&form, "password")
        .unwrap_or_default()
        .to_string();
    if password.chars().count() < auth::MIN_PASSWORD_CHARS {
        return refuse("密码至少需要10位。");
    }
    let hash = match tokio::task::spawn_blocking(move || auth::hash_password(&password)).await {
        Ok(Ok(h)) => h,
        Ok(Err(e)) => return internal(e),
        Err(e) => return internal(e),
    };
    let now = state.now();
    let added = {
        let db = state.app.db();
        db.add_console_user(&username, role, &hash, now)
            .and_then(|added| db.audit_if(added, session.username.as_str(), "user_add", now))
    };
    match added {
        Ok(true) => users_answer(
            &state,
            &session,
            Some(Notice::Done(format!(
                "已新增用户 {}（{}）。",
                username.as_str(),
                role.name_zh()
            ))),
        ),
        Ok(false) => refuse("该用户名已存在。"),
        Err(e) => internal(e),
    }
}

async fn unlock_user(
    State(state): State<ConsoleState>,
    StaffForm { session, form, .. }: StaffForm<Admins>,
) -> Response {
    let Some(username) = form_username(&form) else {
        return refuse_on_users_page(&state, &session, "没有这个用户。");
    };
    let unlocked = {
        let db = state.app.db();
        db.console_unlock(&username).and_then(|done| {
            db.audit_if(done, session.username.as_str(), "user_unlock", state.now())
        })
    };
    match unlocked {
        Ok(true) => users_answer(
            &state,
            &session,
            Some(Notice::Done(format!("已解锁用户 {}。", username.as_str()))),
        ),
        Ok(false) => refuse_on_users_page(&state, &session, "没有这个用户。"),
        Err(e) => internal(e),
    }
}

async fn update_user(
    State(state): State<ConsoleState>,
    StaffForm { session, form, .. }: StaffForm<Admins>,
) -> Response {
    let refuse = |message: &str| refuse_on_users_page(&state, &session, message);
    let Some(username) = form_username(&form) else {
        return refuse("没有这个用户。");
    };
    let role = match form_value(&form, "role").unwrap_or_default() {
        "" => None,
        text => match Role::parse(text) {
            Some(role) => Some(role),
            None => return refuse("请选择角色。"),
        },
    };
    // An administrator keeps the console administrable: no demoting oneself.
    if username == session.username && role.is_some_and(|r| r != Role::Admin) {
        return refuse("不能取消自己的管理角色，请由其他管理员操作。");
    }
    let password = form_value(&form, "password")
        .unwrap_or_default()
        .to_string();
    let hash = if password.is_empty() {
        None
    } else if password.chars().count() < auth::MIN_PASSWORD_CHARS {
        return refuse("密码至少需要10位。");
    } else {
        match tokio::task::spawn_blocking(move || auth::hash_password(&password)).await {
            Ok(Ok(h)) => Some(h),
            Ok(Err(e)) => return internal(e),
            Err(e) => return internal(e),
        }
    };
    if role.is_none() && hash.is_none() {
        return refuse("请选择新角色或填写新密码。");
    }
    let now = state.now();
    let updated = {
        let db = state.app.db();
        db.console_update_user(&username, role, hash.as_deref())
            .and_then(|found| {
                let who = session.username.as_str();
                db.audit_if(found && role.is_some(), who, "user_role", now)?;
                db.audit_if(found && hash.is_some(), who, "user_password", now)?;
                Ok(found)
            })
    };
    match updated {
        Ok(true) => users_answer(
            &state,
            &session,
            Some(Notice::Done(format!(
                "已保存用户 {} 的修改，该用户需重新登录。",
                username.as_str()
            ))),
        ),
        Ok(false) => refuse("没有这个用户。"),
        Err(e) => internal(e),
    }
}

async fn audit_page(
    State(state): State<ConsoleState>,
    Query(_): Query<Vec<(String, String)>>,
    Staff(session, _): Staff<Admins>,
) -> Response {
    let entries = match state.app.db().audit_log(200) {
        Ok(e) => e,
        Err(e) => return internal(e),
    };
    let body = html! {
        h2 { "操作日志（最近200条）" }
        p.muted { "只记录谁、何时、做了什么、涉及哪条记录，不含个人信息；日志只能追加，不能修改或删除。" }
        table {
            tr { th { "时间" } th { "用户" } th { "操作" } th { "记录编号" } }
            @for entry in &entries {
                tr {
                    td { (pages::china_time_text(&entry.at)) }
                    td { (entry.username) }
                    td { (action_zh(&entry.action)) }
                    td { (entry.record_id.as_deref().unwrap_or("—")) }
                }
            }
        }
    };
    html_page(
        StatusCode::OK,
        pages::layout("操作日志", Some(&session), body),
    )
}

fn action_zh(action: &str) -> &str {
    match action {
        "login" => "登录",
        "login_failed" => "登录失败",
        "logout" => "退出登录",
        "user_add" => "新增用户",
        "user_unlock" => "解锁用户",
        "user_role" => "修改用户角色",
        "user_password" => "重设用户密码",
        "record_view" => "查看记录",
        "photo_view" => "查看照片",
        "chip_portrait_download" => "下载芯片照片数据",
        "accept" => "审核通过",
        "return" => "退回",
        "reason_add" => "新增退回原因",
        "reason_rename" => "退回原因改名",
        "reason_retire" => "停用退回原因",
        "reason_restore" => "恢复退回原因",
        "person_view" => "查看人员档案",
        "base_preview" => "基础库导入预览",
        "base_import" => "基础库导入",
        "export_xlsx" => "导出名册（Excel）",
        "export_csv" => "导出名册（CSV）",
        "export_photos" => "导出照片",
        other => kiosks::action_zh(other),
    }
}

//! 终端管理: the kiosk registry (every role may look), enrolling a kiosk
//! (a new key and certificate from the county CA, or the CA's signature on
//! a request the kiosk made), and revoking one with a reason
//! (administrators). Enrolling and revoking go into the audit log.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};

use super::auth::Role;
use super::store::Session;
use super::{
    form_value, html_page, internal, pages, Admins, AnyRole, ConsoleState, Notice, Staff, StaffForm,
};
use crate::kiosks::{parse_kiosk_id, EnrolRefusal, KioskRow};
use trust::pki::{self, CertificateAuthority, CertificateRequest, PkiError, Validity};
use wire::config::KioskStatus;

/// How long a certificate issued from the console is valid (about 27
/// months, the usual ceiling for TLS certificates).
const CERTIFICATE_DAYS: i64 = 825;

/// The start of a fingerprint, enough to tell certificates apart on screen
/// (the whole one is in the cell's title).
fn short_fingerprint(sha: &str) -> String {
    format!("{}…", sha.get(..16).unwrap_or(sha))
}

pub async fn page(
    State(state): State<ConsoleState>,
    Staff(session, _): Staff<AnyRole>,
) -> Response {
    answer(&state, &session, None)
}

/// The page again, with why a form was refused (400).
fn refused(state: &ConsoleState, session: &Session, message: &str) -> Response {
    answer(state, session, Some(Notice::Refused(message.into())))
}

fn answer(state: &ConsoleState, session: &Session, notice: Option<Notice>) -> Response {
    let (rows, audit, names) = {
        let db = state.app.db();
        match db.kiosk_registry().and_then(|rows| {
            let names: HashMap<String, String> = db.townships()?.into_iter().collect();
            Ok((rows, db.kiosk_audit(50)?, names))
        }) {
            Ok(r) => r,
            Err(e) => return internal(e),
        }
    };
    let reports: HashMap<String, KioskStatus> = state
        .app
        .county
        .as_ref()
        .and_then(|county| county.bundles.registry().kiosks().ok())
        .unwrap_or_default()
        .into_iter()
        .map(|status| (status.report.kiosk_id.clone(), status))
        .collect();
    let enrolling = state
        .app
        .county
        .as_ref()
        .is_some_and(|county| county.ca_key.is_some());
    let is_admin = session.role == Role::Admin;
    let body = html! {
        h2 { "终端管理" }
        @if let Some(notice) = &notice { (notice) }
        p.muted { "每台自助终端凭县 CA 签发的证书连接平台。吊销后，该终端的上传和配置查询立即被拒绝，其他终端不受影响。" }
        (registry_table(&rows, &reports, &names))
        @if is_admin {
            (revoke_form(session, &rows))
            @if enrolling {
                (enrol_forms(session))
            } @else {
                div.section { h3 { "登记新终端" } p.muted { "平台启动时未提供县 CA 私钥（--ca-key），控制台不能签发终端证书；请在离线的 CA 上签发。" } }
            }
            div.section {
                h3 { "终端和配置操作记录（最近50条）" }
                table {
                    tr { th { "时间" } th { "用户" } th { "操作" } th { "对象" } th { "说明" } }
                    @for entry in &audit {
                        tr {
                            td { (pages::china_time_text(&entry.at)) }
                            td { (entry.username) }
                            td { (action_zh(&entry.action)) }
                            td { (entry.kiosk_id.as_deref().unwrap_or("—")) }
                            td.wrap { (super::config_push::audit_detail_zh(&entry.action, entry.detail.as_deref().unwrap_or(""), &names)) }
                        }
                    }
                }
            }
        }
    };
    html_page(
        Notice::status(notice.as_ref()),
        pages::layout("终端管理", Some(session), body),
    )
}

pub(crate) fn action_zh(action: &str) -> &str {
    match action {
        "kiosk_enrol" => "登记终端（签发证书）",
        "kiosk_revoke" => "吊销终端",
        "config_push" => "签名并下发配置",
        other => other,
    }
}

fn registry_table(
    rows: &[KioskRow],
    reports: &HashMap<String, KioskStatus>,
    names: &HashMap<String, String>,
) -> Markup {
    html! {
        table.kiosks {
            tr {
                th { "终端编号" } th { "乡镇" } th { "证书指纹" } th { "最近连接" }
                th { "最近上传" } th { "配置版本" } th { "待上传" } th { "状态" }
            }
            @if rows.is_empty() {
                tr { td colspan="8" { "还没有终端。" } }
            }
            @for row in rows {
                @let report = reports.get(&row.kiosk_id);
                @let fingerprint = row.last_cert.clone().or_else(|| row.certificates.last().cloned());
                tr id=(format!("kiosk-{}", row.kiosk_id)) {
                    td { (row.kiosk_id) }
                    td {
                        @let code = match report {
                            Some(r) if row.township_code.is_empty() => r.report.township_code.as_str(),
                            _ => row.township_code.as_str(),
                        };
                        @if code.is_empty() { "—" } @else { (pages::township_cell(code, names)) }
                    }
                    td.fingerprint title=(row.certificates.join("\n")) {
                        @match &fingerprint { Some(sha) => (short_fingerprint(sha)), None => "—" }
                        @if row.certificates.len() > 1 { br; span.muted { "共 " (row.certificates.len()) " 张证书" } }
                    }
                    td { @match &row.last_seen { Some(t) => (pages::china_time_text(t)), None => "尚未连接" } }
                    td { @match &row.last_upload { Some(t) => (pages::china_time_text(t)), None => "—" } }
                    td {
                        @match report {
                            Some(r) => {
                                "第 " (r.report.status.version) " 版"
                                @if r.report.status.on_trial { "（试运行）" }
                            }
                            None => "未报告",
                        }
                    }
                    td { @match row.backlog { Some(n) => { (n) " 条" } None => "—" } }
                    td {
                        @match &row.revoked_at {
                            Some(at) => {
                                span.state-rejected { "已吊销" }
                                br;
                                span.muted { (pages::china_time_text(at)) "，" (row.revoked_by.as_deref().unwrap_or("")) }
                                br;
                                span.muted { "原因：" (row.revoke_reason.as_deref().unwrap_or("")) }
                            }
                            None => {
                                @if row.enrolled_at.is_some() { span.state-accepted { "正常" } }
                                @else { span.state-accepted { "正常" } br; span.muted { "（未经控制台登记）" } }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn revoke_form(session: &Session, rows: &[KioskRow]) -> Markup {
    html! {
        div.section style="margin-top:14px" {
            h3 { "吊销终端" }
            form.filters method="post" action="/kiosks/revoke" {
                (pages::csrf_field(&session.csrf_token))
                label { "终端" select name="kiosk_id" {
                    @for row in rows.iter().filter(|r| r.revoked_at.is_none()) {
                        option value=(row.kiosk_id) { (row.kiosk_id) }
                    }
                } }
                label { "吊销原因（必填）" input type="text" name="reason" size="40" maxlength="200" required; }
                button type="submit" { "吊销" }
            }
            p.muted { "吊销立即生效，不能撤销；更换终端时请用新的终端编号重新登记。" }
        }
    }
}

fn enrol_forms(session: &Session) -> Markup {
    html! {
        div.section style="margin-top:14px" {
            h3 { "登记新终端：生成密钥和证书" }
            form.filters method="post" action="/kiosks/enrol" {
                (pages::csrf_field(&session.csrf_token))
                label { "终端编号（字母、数字、- _ .）" input type="text" name="kiosk_id" required; }
                label { "乡镇代码（9位）" input type="text" name="township_code" maxlength="9" required; }
                button type="submit" { "签发并下载" }
            }
            p.muted { "下载的文件含终端私钥、证书和县 CA 证书，平台不保存私钥。请用U盘拷到终端，作为 [tls] 的证书和私钥文件，然后删除U盘上的副本。" }
        }
        div.section {
            h3 { "签发终端的证书请求" }
            form method="post" action="/kiosks/sign-request" {
                (pages::csrf_field(&session.csrf_token))
                div.filters-inline {
                    label { "乡镇代码（9位）" input type="text" name="township_code" maxlength="9" required; }
                }
                label.block { "证书请求（终端上运行 veteran-kiosk pki csr 生成，粘贴全文）"
                    textarea name="request" rows="5" required placeholder="-----BEGIN CERTIFICATE REQUEST-----" {}
                }
                button type="submit" { "签发并下载证书" }
            }
            p.muted { "私钥始终留在终端上，更安全。终端编号取自证书请求。" }
        }
    }
}

/// The answer to a successful enrolment: the PEM file as a download.
fn download(file_name: &str, pem: String) -> Response {
    let mut response = (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/x-pem-file")],
        pem,
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}.pem\"")) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// The county CA, rebuilt from its files for one issue.
fn county_ca(state: &ConsoleState) -> Result<(CertificateAuthority, String), String> {
    let county = state
        .app
        .county
        .as_ref()
        .ok_or("平台未配置县 CA，不能签发证书。")?;
    let ca_key = county
        .ca_key
        .as_ref()
        .ok_or("平台启动时未提供县 CA 私钥（--ca-key），不能签发证书。")?;
    let ca = CertificateAuthority::from_ca_files(&county.client_ca, ca_key).map_err(|e| {
        eprintln!("county-platform console: the county CA cannot issue: {e}");
        "县 CA 证书或私钥无法使用，请检查平台配置。".to_string()
    })?;
    let ca_pem = std::fs::read_to_string(&county.client_ca)
        .map_err(|_| "县 CA 证书无法读取。".to_string())?;
    Ok((ca, ca_pem))
}

fn township(form: &[(String, String)]) -> Option<String> {
    form_value(form, "township_code")
        .and_then(|t| kiosk_core::kiosk::parse_township_code(t.trim()).ok())
}

/// Registers an issued certificate; the refusal page if it cannot be.
fn register(
    state: &ConsoleState,
    session: &Session,
    kiosk_id: &str,
    township_code: &str,
    cert_pem: &str,
    validity: Validity,
) -> Result<(), super::Refusal> {
    let Some(fingerprint) = pki::pem_fingerprint(cert_pem) else {
        return Err(Box::new(internal(
            "an issued certificate has no fingerprint",
        )));
    };
    let enrolled = state.app.db().enrol_kiosk(
        kiosk_id,
        township_code,
        &fingerprint,
        &validity.not_after.to_string(),
        session.username.as_str(),
        state.now(),
    );
    match enrolled {
        Ok(Ok(())) => Ok(()),
        Ok(Err(EnrolRefusal::Revoked)) => Err(Box::new(refused(
            state,
            session,
            &format!("终端编号 {kiosk_id} 已被吊销，不能再用；请为新终端换一个编号。"),
        ))),
        Err(e) => Err(Box::new(internal(e))),
    }
}

/// Issues a kiosk's certificate from the county CA, registers the kiosk
/// and answers with the PEM file to take to it. `issue` gives what the
/// file starts with (a new key and its certificate, or the certificate
/// signed for the kiosk's own request) and the certificate alone; the CA's
/// certificate ends the file.
fn issue_and_register(
    state: &ConsoleState,
    session: &Session,
    kiosk_id: &str,
    township_code: &str,
    issue: impl FnOnce(&CertificateAuthority, Validity) -> Result<(String, String), PkiError>,
) -> Response {
    let (ca, ca_pem) = match county_ca(state) {
        Ok(ca) => ca,
        Err(m) => return refused(state, session, &m),
    };
    let validity = Validity::days_from_today(CERTIFICATE_DAYS);
    let (leading, cert_pem) = match issue(&ca, validity) {
        Ok(pems) => pems,
        Err(e) => return internal(e),
    };
    if let Err(refusal) = register(state, session, kiosk_id, township_code, &cert_pem, validity) {
        return *refusal;
    }
    download(kiosk_id, format!("{leading}{ca_pem}"))
}

pub async fn enrol(
    State(state): State<ConsoleState>,
    StaffForm { session, form, .. }: StaffForm<Admins>,
) -> Response {
    let refuse = |m: &str| refused(&state, &session, m);
    let Some(kiosk_id) = form_value(&form, "kiosk_id").and_then(parse_kiosk_id) else {
        return refuse("终端编号只能由字母、数字和 - _ . 组成。");
    };
    let Some(township_code) = township(&form) else {
        return refuse("乡镇代码应为9位数字（6位县级行政区划代码加3位乡镇代码）。");
    };
    issue_and_register(
        &state,
        &session,
        &kiosk_id,
        &township_code,
        |ca, validity| {
            let issued = ca.issue_client(&kiosk_id, validity)?;
            Ok((
                format!("{}{}", issued.key_pem, issued.cert_pem),
                issued.cert_pem,
            ))
        },
    )
}

pub async fn sign_request(
    State(state): State<ConsoleState>,
    StaffForm { session, form, .. }: StaffForm<Admins>,
) -> Response {
    let refuse = |m: &str| refused(&state, &session, m);
    let Some(township_code) = township(&form) else {
        return refuse("乡镇代码应为9位数字（6位县级行政区划代码加3位乡镇代码）。");
    };
    let request = match CertificateRequest::parse_pem(form_value(&form, "request").unwrap_or("")) {
        Ok(r) => r,
        Err(e) => return refuse(e.message_zh()),
    };
    let Some(kiosk_id) = parse_kiosk_id(&request.common_name) else {
        return refuse("证书请求中的终端编号（CN）只能由字母、数字和 - _ . 组成。");
    };
    issue_and_register(
        &state,
        &session,
        &kiosk_id,
        &township_code,
        |ca, validity| {
            let cert_pem = ca.sign_request(&request, validity)?;
            Ok((cert_pem.clone(), cert_pem))
        },
    )
}

pub async fn revoke(
    State(state): State<ConsoleState>,
    StaffForm { session, form, .. }: StaffForm<Admins>,
) -> Response {
    let refuse = |m: &str| refused(&state, &session, m);
    let Some(kiosk_id) = form_value(&form, "kiosk_id").and_then(parse_kiosk_id) else {
        return refuse("请选择要吊销的终端。");
    };
    let reason = form_value(&form, "reason").unwrap_or("").trim();
    let reason_chars = reason.chars().count();
    if reason_chars == 0 || reason_chars > 200 || reason.chars().any(char::is_control) {
        return refuse("请填写吊销原因（1至200字，单行）。");
    }
    let revoked = {
        let mut db = state.app.db();
        db.revoke_kiosk(&kiosk_id, session.username.as_str(), reason, state.now())
            .and_then(|done| {
                if done {
                    state.app.kiosks.reload(&db)?;
                }
                Ok(done)
            })
    };
    match revoked {
        Ok(true) => answer(
            &state,
            &session,
            Some(Notice::Done(format!(
                "已吊销终端 {kiosk_id}：它的上传和配置查询从现在起都会被拒绝。"
            ))),
        ),
        Ok(false) => refuse("没有这个终端，或它已被吊销。"),
        Err(e) => internal(e),
    }
}

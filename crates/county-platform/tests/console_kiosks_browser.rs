//! The kiosk registry and configuration from the console, in a real
//! headless Chromium (through chromedriver, fantoccini), with real kiosks:
//! mutual-TLS clients on loopback holding certificates of the county CA,
//! making the same HTTP calls the kiosk makes.
//!
//! - enrol a kiosk (a new key and certificate) and sign a kiosk's request,
//!   and see both certificates let in;
//! - revoke a kiosk and see its next upload and configuration poll refused
//!   (on the connection it already had open), while another kiosk goes on;
//! - edit the campaign notice and a time-out, preview, sign with the
//!   administrator's key file and push, and see a kiosk take the bundle,
//!   check its signature and report the version, which the console shows.
//!
//! Screenshots go to docs/console/ (kiosks-*.png, config-*.png). Without chromium or
//! chromedriver the test is skipped loudly, except under CI.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod browser;
mod support;

use std::path::Path;
use std::sync::Arc;

use browser::*;
use county_platform::console::auth::Role;
use county_platform::console::{self, ConsoleConfig, ConsoleState};
use county_platform::{Faults, PlatformConfig};
use fantoccini::Locator;
use reqwest::header::COOKIE;
use serde_json::json;
use support::{Platform, ADMIN, KIOSK_ID, VIEWER};
use trust::bundle::{self, Bundle, Target};
use trust::keys::AdminSigningKey;
use trust::pki::{self, DemoPki};
use wire::config::{ConfigEvent, KioskConfigReport, NewestQuery, StatusReport};

const OTHER_KIOSK: &str = "AX-FC-02";
const TOWNSHIP: &str = "350524100";

/// A platform whose pushes must be signed by `admin`'s key, with its
/// console, the demo users, and the demo kiosk's certificate.
fn platform_with_admin_key(admin: &AdminSigningKey) -> Platform {
    let dir = tempfile::tempdir().unwrap();
    let pki = DemoPki::generate(&dir.path().join("pki"), KIOSK_ID).unwrap();
    let keys = dir.path().join("admins.pub");
    std::fs::write(&keys, format!("{} 县局管理员\n", admin.public_key())).unwrap();
    let db_path = dir.path().join("platform.sqlite3");
    let mut config = PlatformConfig::demo(&pki.dir, &db_path, "127.0.0.1:0".parse().unwrap());
    config.admin_keys = Some(keys);
    let api = county_platform::start(&config, Arc::new(Faults::default())).unwrap();
    let console_config = ConsoleConfig::demo(&pki.dir, "127.0.0.1:0".parse().unwrap()).unwrap();
    let console = console::start(&console_config, ConsoleState::new(api.state.clone())).unwrap();
    for (name, password, role) in [
        (ADMIN.0, ADMIN.1, Role::Admin),
        (VIEWER.0, VIEWER.1, Role::Viewer),
    ] {
        support::add_user(&api, name, password, role);
    }
    Platform {
        dir,
        db: None,
        db_path,
        pki,
        api,
        console,
    }
}

fn api_url(platform: &Platform, path: &str) -> String {
    format!(
        "{}{path}",
        platform.api.url().replace("127.0.0.1", "localhost")
    )
}

/// The kiosk's configuration poll: status and body.
async fn poll_config(
    platform: &Platform,
    kiosk: &reqwest::Client,
    kiosk_id: &str,
    after: u64,
) -> (u16, Vec<u8>) {
    let query = NewestQuery {
        kiosk: kiosk_core::kiosk::KioskId::parse(kiosk_id).unwrap(),
        township: TOWNSHIP.to_string(),
        after,
    };
    let response = kiosk
        .get(api_url(
            platform,
            &format!("/v1/config/bundles/newest?{}", query.to_query()),
        ))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.bytes().await.unwrap().to_vec())
}

/// The kiosk's report of the version it confirmed.
async fn report(
    platform: &Platform,
    kiosk: &reqwest::Client,
    kiosk_id: &str,
    bundle: &Bundle,
) -> u16 {
    let report = KioskConfigReport {
        kiosk_id: kiosk_id.to_string(),
        township_code: TOWNSHIP.to_string(),
        status: StatusReport {
            version: bundle.version,
            sha256: bundle.sha256(),
            on_trial: false,
            last_event: ConfigEvent::Confirmed {
                version: bundle.version,
                sha256: bundle.sha256(),
            },
        },
    };
    kiosk
        .post(api_url(platform, "/v1/config/reports"))
        .json(&report)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// A record of `kiosk_id` sent by `kiosk`, with the backlog it reports.
async fn upload(
    platform: &Platform,
    kiosk: &reqwest::Client,
    kiosk_id: &str,
    number: &str,
    backlog: u32,
) -> (u16, String) {
    let (mut record, blobs) = support::demo_record();
    record.meta.kiosk_id = kiosk_id.to_string();
    let recipient = trust::seal::parse_recipient(
        &std::fs::read_to_string(&platform.pki.platform_age_recipient).unwrap(),
    )
    .unwrap();
    let sealed = trust::seal::seal(&record, &blobs, &recipient).unwrap();
    let response = kiosk
        .put(api_url(
            platform,
            &format!("/v1/records/{}", record.meta.record_id),
        ))
        .header(wire::RECORD_NUMBER_HEADER, number)
        .header(wire::KIOSK_BACKLOG_HEADER, backlog.to_string())
        .body(sealed)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

/// A mutual-TLS client holding the certificate chain and key in `pem_files`.
fn client_with(platform: &Platform, cert_pem: &str, key_pem: &str) -> reqwest::Client {
    let dir = platform.dir.path();
    let id = uuid::Uuid::new_v4();
    let (cert, key) = (
        dir.join(format!("{id}.pem")),
        dir.join(format!("{id}-key.pem")),
    );
    std::fs::write(&cert, cert_pem).unwrap();
    std::fs::write(&key, key_pem).unwrap();
    let tls = rustls::ClientConfig::builder_with_provider(pki::crypto_provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_root_certificates(pki::root_store(&platform.pki.ca).unwrap())
        .with_client_auth_cert(
            pki::load_certs(&cert).unwrap(),
            pki::load_key(&key).unwrap(),
        )
        .unwrap();
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .build()
        .unwrap()
}

/// Posts a console form as the logged-in `cookie`; returns status and body.
async fn console_post(
    platform: &Platform,
    cookie: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> (u16, String) {
    let client = platform.console_client();
    let url = platform.console_url();
    let page = client
        .get(format!("{url}/kiosks"))
        .header(COOKIE, cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = support::hidden_csrf(&page);
    let mut form: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    let answer = client
        .post(format!("{url}{path}"))
        .header(COOKIE, cookie)
        .form(&form)
        .send()
        .await
        .unwrap();
    let status = answer.status().as_u16();
    (status, answer.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kiosks_are_enrolled_revoked_and_configured_from_a_real_browser() {
    let Some((chromium, chromedriver)) =
        chromium_or_skip("kiosks_are_enrolled_revoked_and_configured_from_a_real_browser")
    else {
        return;
    };
    let admin_key = AdminSigningKey::generate();
    let platform = platform_with_admin_key(&admin_key);
    let key_file = platform.dir.path().join("admin.key");
    std::fs::write(&key_file, admin_key.to_pem().unwrap()).unwrap();

    // Two kiosks at work: each uploads, and both run the full configuration v1.
    let kiosk_a = platform.kiosk_client();
    let kiosk_b = platform.other_kiosk_client(OTHER_KIOSK);
    assert_eq!(
        upload(&platform, &kiosk_a, KIOSK_ID, "FC-0001", 3).await.0,
        201
    );
    assert_eq!(
        upload(&platform, &kiosk_b, OTHER_KIOSK, "FC-1001", 0)
            .await
            .0,
        201
    );
    let files = bundle::read_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../kiosk-config"))
        .unwrap();
    let v1 = Bundle::sign(files, 1, Target::All, &admin_key).unwrap();
    let pushed = kiosk_a
        .put(api_url(&platform, "/v1/config/bundles"))
        .body(v1.to_bytes())
        .send()
        .await
        .unwrap();
    assert_eq!(pushed.status().as_u16(), 201);
    for (kiosk, id) in [(&kiosk_a, KIOSK_ID), (&kiosk_b, OTHER_KIOSK)] {
        let (status, body) = poll_config(&platform, kiosk, id, 0).await;
        assert_eq!(status, 200, "{id}");
        assert_eq!(Bundle::parse(&body).unwrap().version, 1);
        assert_eq!(report(&platform, kiosk, id, &v1).await, 204);
    }

    // Enrolling over the console's forms: a new key pair and certificate,
    // and a kiosk's own request; each certificate is let in.
    let cookie = support::log_in(&platform, &platform.console_client(), ADMIN).await;
    let (status, pem) = console_post(
        &platform,
        &cookie,
        "/kiosks/enrol",
        &[("kiosk_id", "AX-FC-03"), ("township_code", TOWNSHIP)],
    )
    .await;
    assert_eq!(status, 200, "{pem}");
    assert!(pem.contains("PRIVATE KEY") && pem.matches("BEGIN CERTIFICATE").count() == 2);
    let enrolled = client_with(&platform, &pem, &pem);
    assert_eq!(
        upload(&platform, &enrolled, "AX-FC-03", "FC-3001", 0)
            .await
            .0,
        201
    );
    let request = pki::make_request("AX-FC-04").unwrap();
    let (status, cert) = console_post(
        &platform,
        &cookie,
        "/kiosks/sign-request",
        &[("township_code", TOWNSHIP), ("request", &request.cert_pem)],
    )
    .await;
    assert_eq!(status, 200, "{cert}");
    assert!(
        !cert.contains("PRIVATE KEY"),
        "the platform never had the kiosk's key"
    );
    let requested = client_with(&platform, &cert, &request.key_pem);
    assert_eq!(
        poll_config(&platform, &requested, "AX-FC-04", 1).await.0,
        204
    );
    // A viewer may look but not enrol.
    let viewer = support::log_in(&platform, &platform.console_client(), VIEWER).await;
    let (status, _) = console_post(
        &platform,
        &viewer,
        "/kiosks/enrol",
        &[("kiosk_id", "AX-FC-09"), ("township_code", TOWNSHIP)],
    )
    .await;
    assert_eq!(status, 403);

    let url = platform.console_url();
    let driver = start_driver(&chromedriver);
    let browser = browser(&driver, &chromium).await;
    log_in(&browser, &url, ADMIN).await;

    // The registry.
    browser.goto(&format!("{url}/kiosks")).await.unwrap();
    let page = text(&browser).await;
    for expected in [
        KIOSK_ID,
        OTHER_KIOSK,
        "AX-FC-03",
        "AX-FC-04",
        "第 1 版",
        "3 条",
        TOWNSHIP,
        // The township by name (from the records), its code beneath.
        "凤城镇",
    ] {
        assert!(page.contains(expected), "{expected} missing from {page}");
    }
    // Times in China time, like the rest of the console.
    assert!(!page.contains("UTC"), "{page}");
    let a_fingerprint =
        trust::sha256_hex(pki::load_certs(&platform.pki.kiosk).unwrap()[0].as_ref());
    assert!(page.contains(&a_fingerprint[..16]), "{page}");
    screenshot(&browser, "kiosks-1-registry").await;

    // Revoke kiosk A, with a reason.
    browser
        .find(Locator::Css(&format!(
            "select[name=kiosk_id] option[value='{KIOSK_ID}']"
        )))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    fill(&browser, "input[name=reason]", "终端被盗，已报警").await;
    submit(&browser, "form[action='/kiosks/revoke'] button").await;
    let page = text(&browser).await;
    assert!(page.contains(&format!("已吊销终端 {KIOSK_ID}")), "{page}");
    assert!(page.contains("原因：终端被盗，已报警"), "{page}");
    assert!(page.contains("吊销终端"), "{page}");
    screenshot(&browser, "kiosks-2-revoked").await;

    // Refused at once, on the same kept-alive client: uploads and polls.
    let (status, body) = upload(&platform, &kiosk_a, KIOSK_ID, "FC-0002", 4).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains(wire::error_code::KIOSK_REVOKED), "{body}");
    assert_eq!(poll_config(&platform, &kiosk_a, KIOSK_ID, 1).await.0, 403);
    // The other kiosks go on.
    assert_eq!(
        upload(&platform, &kiosk_b, OTHER_KIOSK, "FC-1002", 0)
            .await
            .0,
        201
    );
    assert_eq!(
        poll_config(&platform, &kiosk_b, OTHER_KIOSK, 1).await.0,
        204
    );
    assert_eq!(
        poll_config(&platform, &requested, "AX-FC-04", 1).await.0,
        204
    );
    // The audit log names the action.
    browser.goto(&format!("{url}/audit")).await.unwrap();
    assert!(text(&browser).await.contains("吊销终端"));

    // Configuration: edit the notice and a time-out for all kiosks.
    browser
        .goto(&format!("{url}/config?target=all"))
        .await
        .unwrap();
    let page = text(&browser).await;
    assert!(page.contains("以第 1 版"), "{page}");
    screenshot(&browser, "config-1-edit").await;
    fill(
        &browser,
        "textarea[name=notice]",
        "2027年春季信息采集开始了。\n请带好身份证和相关证件。",
    )
    .await;
    fill(&browser, "input[name=idle_warning_seconds]", "120").await;
    submit(
        &browser,
        "form[action='/config/preview'] button[type=submit]",
    )
    .await;
    let page = text(&browser).await;
    assert!(page.contains("预览：第 2 版"), "{page}");
    assert!(page.contains("2027年春季信息采集开始了"), "{page}");
    assert!(page.contains("120") && page.contains("90"), "{page}");
    screenshot(&browser, "config-2-preview").await;
    browser
        .find(Locator::Css("input[name=admin_key]"))
        .await
        .unwrap()
        .send_keys(key_file.to_str().unwrap())
        .await
        .unwrap();
    submit(&browser, "form[action='/config/push'] button").await;
    let page = text(&browser).await;
    assert!(page.contains("已签名并下发第 2 版"), "{page}");
    screenshot(&browser, "config-3-pushed").await;
    // The log on the kiosks page names the push's scope as a clerk reads it
    // (stored as "范围 all").
    browser.goto(&format!("{url}/kiosks")).await.unwrap();
    let page = text(&browser).await;
    assert!(page.contains("第 2 版，范围 全部终端，摘要"), "{page}");
    assert!(!page.contains("范围 all"), "{page}");

    // Kiosk B takes it, checks the signature against its pinned key, reports it.
    let (status, body) = poll_config(&platform, &kiosk_b, OTHER_KIOSK, 1).await;
    assert_eq!(status, 200);
    let v2 = Bundle::parse(&body).unwrap();
    assert_eq!(v2.version, 2);
    assert_eq!(v2.target, Target::All);
    assert!(v2.check_signature(&[admin_key.public_key()]).is_ok());
    let toml = String::from_utf8(
        v2.files
            .iter()
            .find(|(p, _)| p.as_str() == "kiosk.toml")
            .unwrap()
            .1
            .clone(),
    )
    .unwrap();
    let doc: toml_edit::DocumentMut = toml.parse().unwrap();
    assert_eq!(
        doc["texts"]["campaign_notice"].as_str(),
        Some("2027年春季信息采集开始了。\n请带好身份证和相关证件。"),
        "{toml}"
    );
    assert!(toml.contains("idle_warning_seconds = 120"), "{toml}");
    assert!(toml.contains("# Quiet time before"), "comments kept");
    assert_eq!(
        v2.files.len(),
        v1.files.len(),
        "certificates and other files carried over"
    );
    assert_eq!(report(&platform, &kiosk_b, OTHER_KIOSK, &v2).await, 204);
    // The revoked kiosk gets nothing.
    assert_eq!(poll_config(&platform, &kiosk_a, KIOSK_ID, 1).await.0, 403);

    browser.goto(&format!("{url}/config")).await.unwrap();
    let row = browser
        .find(Locator::Css(&format!("#report-{OTHER_KIOSK}")))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        row.contains("第 2 版") && row.contains("第 2 版运行正常"),
        "{row}"
    );
    assert!(row.contains("凤城镇"), "{row}");
    assert!(!text(&browser).await.contains("UTC"));
    browser
        .execute(
            "document.getElementById(arguments[0]).scrollIntoView({block: 'end'});",
            vec![json!(format!("report-{OTHER_KIOSK}"))],
        )
        .await
        .unwrap();
    screenshot(&browser, "config-4-versions").await;

    // A key that is not pinned signs nothing.
    let stranger = platform.dir.path().join("stranger.key");
    std::fs::write(&stranger, AdminSigningKey::generate().to_pem().unwrap()).unwrap();
    browser
        .goto(&format!("{url}/config?target=all"))
        .await
        .unwrap();
    fill(&browser, "input[name=done_screen_seconds]", "25").await;
    submit(
        &browser,
        "form[action='/config/preview'] button[type=submit]",
    )
    .await;
    browser
        .find(Locator::Css("input[name=admin_key]"))
        .await
        .unwrap()
        .send_keys(stranger.to_str().unwrap())
        .await
        .unwrap();
    submit(&browser, "form[action='/config/push'] button").await;
    let page = text(&browser).await;
    assert!(page.contains("不是平台登记的管理员密钥"), "{page}");
    assert_eq!(
        poll_config(&platform, &kiosk_b, OTHER_KIOSK, 2).await.0,
        204
    );
}

/// Over plain HTTPS: a viewer sees the registry and the versions but may
/// not enrol, revoke or push; a form without its CSRF token changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kiosk_and_configuration_actions_are_for_administrators_with_a_token() {
    let admin_key = AdminSigningKey::generate();
    let platform = platform_with_admin_key(&admin_key);
    let kiosk = platform.kiosk_client();
    assert_eq!(
        upload(&platform, &kiosk, KIOSK_ID, "FC-0001", 1).await.0,
        201
    );
    let url = platform.console_url();
    let client = platform.console_client();

    let viewer = support::log_in(&platform, &client, VIEWER).await;
    for (page, expected) in [("/kiosks", KIOSK_ID), ("/config", "已下发的配置版本")] {
        let answer = client
            .get(format!("{url}{page}"))
            .header(COOKIE, &viewer)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status().as_u16(), 200, "{page}");
        let body = answer.text().await.unwrap();
        assert!(body.contains(expected), "{page}: {body}");
        assert!(!body.contains("action=\"/kiosks/revoke\""), "{page}");
        assert!(!body.contains("action=\"/config/preview\""), "{page}");
    }
    let (status, _) = console_post(
        &platform,
        &viewer,
        "/kiosks/revoke",
        &[("kiosk_id", KIOSK_ID), ("reason", "试试")],
    )
    .await;
    assert_eq!(status, 403);

    let admin = support::log_in(&platform, &client, ADMIN).await;
    let refused = client
        .post(format!("{url}/kiosks/revoke"))
        .header(COOKIE, &admin)
        .form(&[("kiosk_id", KIOSK_ID), ("reason", "没有令牌")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 403);
    let multipart_without_token = client
        .post(format!("{url}/config/push"))
        .header(COOKIE, &admin)
        .header(
            reqwest::header::CONTENT_TYPE,
            "multipart/form-data; boundary=B",
        )
        .body("--B\r\nContent-Disposition: form-data; name=\"target\"\r\n\r\nall\r\n--B--\r\n")
        .send()
        .await
        .unwrap();
    assert_eq!(multipart_without_token.status().as_u16(), 403);
    // A body that breaks off mid-file is refused in Chinese; nothing is published.
    let broken_upload = client
        .post(format!("{url}/config/upload"))
        .header(COOKIE, &admin)
        .header(
            reqwest::header::CONTENT_TYPE,
            "multipart/form-data; boundary=B",
        )
        .body("--B\r\nContent-Disposition: form-data; name=\"bundle\"; filename=\"v2.bundle\"\r\n\r\nPK")
        .send()
        .await
        .unwrap();
    assert_eq!(broken_upload.status().as_u16(), 400);
    let body = broken_upload.text().await.unwrap();
    assert!(body.contains("文件上传不完整"), "{body}");
    assert!(body.contains("还没有下发过配置"), "{body}");
    // An empty reason is refused too; the kiosk is still let in.
    let (status, body) = console_post(
        &platform,
        &admin,
        "/kiosks/revoke",
        &[("kiosk_id", KIOSK_ID), ("reason", "  ")],
    )
    .await;
    assert_eq!(status, 400);
    assert!(body.contains("请填写吊销原因"), "{body}");
    assert_eq!(
        upload(&platform, &kiosk, KIOSK_ID, "FC-0002", 0).await.0,
        201
    );
    assert!(platform
        .api
        .state
        .db()
        .revoked()
        .unwrap()
        .kiosk_ids
        .is_empty());
}

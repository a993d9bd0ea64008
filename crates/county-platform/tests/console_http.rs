//! The console's security over plain HTTPS requests (no browser): logins,
//! CSRF, roles, the photo route, escaping, and that the kiosks' API and the
//! console stay apart.

// Tests may unwrap: a panic there is a failing test, not a kiosk crash.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use county_platform::testing::Engine;
use reqwest::header::{COOKIE, LOCATION};
use reqwest::StatusCode;
use support::{hidden_csrf, log_in, Platform, ADMIN, REVIEWER, VIEWER};

/// `name::sqlite` and `name::postgres`: the test `body(engine)` on each.
macro_rules! on_both_engines {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$body(super::Engine::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$body(super::Engine::Postgres).await
            }
        }
    };
}
use wire::records::ReviewState;

on_both_engines!(
    every_page_needs_a_login_of_the_right_role_and_every_form_its_csrf_token,
    every_page_needs_a_login_of_the_right_role_and_every_form_its_csrf_token_on
);
async fn every_page_needs_a_login_of_the_right_role_and_every_form_its_csrf_token_on(
    engine: Engine,
) {
    let platform = Platform::start_on(engine, None);
    let (record, blobs) = support::demo_record();
    assert_eq!(platform.send(&record, &blobs, "FC-0001").await, 201);
    let id = record.meta.record_id;
    let url = platform.console_url();
    let client = platform.console_client();

    // Without a session every page and photo sends to the login page.
    for path in [
        "/records".to_string(),
        format!("/records/{id}"),
        format!("/records/{id}/photos/portrait"),
        "/users".to_string(),
        "/audit".to_string(),
    ] {
        let answer = client.get(format!("{url}{path}")).send().await.unwrap();
        assert_eq!(answer.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(answer.headers()[LOCATION], "/login", "{path}");
    }
    // A kiosk certificate is no login: the console does not even ask for
    // one, and the kiosk lands on the login page.
    let as_kiosk = platform
        .kiosk_client()
        .get(format!("{url}/records"))
        .send()
        .await
        .unwrap();
    assert_eq!(as_kiosk.url().path(), "/login");

    // A viewer sees the list but no record, and decides nothing.
    let viewer = log_in(&platform, &client, VIEWER).await;
    let list = client
        .get(format!("{url}/records"))
        .header(COOKIE, &viewer)
        .send()
        .await
        .unwrap();
    assert_eq!(list.status(), StatusCode::OK);
    let list = list.text().await.unwrap();
    assert!(
        list.contains("FC-0001") && !list.contains("林国华"),
        "{list}"
    );
    for path in [
        format!("/records/{id}"),
        format!("/records/{id}/photos/portrait"),
        "/users".into(),
    ] {
        let answer = client
            .get(format!("{url}{path}"))
            .header(COOKIE, &viewer)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::FORBIDDEN, "{path}");
    }

    // A reviewer opens the record and its photos by name, never by path.
    let reviewer = log_in(&platform, &client, REVIEWER).await;
    let get = |path: String| {
        client
            .get(format!("{url}{path}"))
            .header(COOKIE, &reviewer)
            .send()
    };
    let page = get(format!("/records/{id}")).await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    assert!(page.contains("林国华") && page.contains("退伍证"), "{page}");
    let portrait = get(format!("/records/{id}/photos/portrait")).await.unwrap();
    assert_eq!(portrait.status(), StatusCode::OK);
    assert_eq!(portrait.headers()["content-type"], "image/jpeg");
    let bytes = portrait.bytes().await.unwrap();
    let expected = &record.photos.portrait.as_ref().unwrap().sha256;
    assert_eq!(&trust::sha256_hex(&bytes), expected);
    for walk in [
        "..%2F..%2Fplatform.sqlite3",
        "%2E%2E%2Fpki%2Fca-key.pem",
        "document-0",
        "document-99",
        "card-photo",
        expected.as_str(),
    ] {
        let answer = get(format!("/records/{id}/photos/{walk}")).await.unwrap();
        assert_eq!(answer.status(), StatusCode::NOT_FOUND, "{walk}");
    }

    // A form without its token, or with another session's, is refused and changes nothing.
    let viewer_csrf = hidden_csrf(&list);
    for form in [
        vec![("decision", "accept")],
        vec![("decision", "accept"), ("csrf", viewer_csrf.as_str())],
    ] {
        let answer = client
            .post(format!("{url}/records/{id}/decision"))
            .header(COOKIE, &reviewer)
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::FORBIDDEN);
    }
    let login_without_token = client
        .post(format!("{url}/login"))
        .form(&[("username", REVIEWER.0), ("password", REVIEWER.1)])
        .send()
        .await
        .unwrap();
    assert_eq!(login_without_token.status(), StatusCode::FORBIDDEN);
    assert_eq!(platform.poll_review(id).await, ReviewState::Received);

    // With it, the reviewer accepts; the audit log names who, what and which record.
    let csrf = hidden_csrf(&page);
    let answer = client
        .post(format!("{url}/records/{id}/decision"))
        .header(COOKIE, &reviewer)
        .form(&[("decision", "accept"), ("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    assert_eq!(platform.poll_review(id).await, ReviewState::Accepted);
    let admin = log_in(&platform, &client, ADMIN).await;
    let audit = client
        .get(format!("{url}/audit"))
        .header(COOKIE, &admin)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        audit.contains("审核通过") && audit.contains(&id.to_string()),
        "{audit}"
    );
    assert!(!audit.contains("林国华") && !audit.contains("350524195503150010"));
}

on_both_engines!(
    html_in_a_record_is_shown_as_text,
    html_in_a_record_is_shown_as_text_on
);
async fn html_in_a_record_is_shown_as_text_on(engine: Engine) {
    let platform = Platform::start_on(engine, None);
    let (mut record, blobs) = support::demo_record();
    let script = "<script>alert('x')</script><img src=x onerror=alert(1)>";
    record.identity.current_address = format!("城东路{script}");
    record.living.remarks = script.to_string();
    record.needs[0].text = script.to_string();
    assert_eq!(platform.send(&record, &blobs, "FC-0002").await, 201);
    let client = platform.console_client();
    let reviewer = log_in(&platform, &client, REVIEWER).await;
    let page = client
        .get(format!(
            "{}/records/{}",
            platform.console_url(),
            record.meta.record_id
        ))
        .header(COOKIE, &reviewer)
        .send()
        .await
        .unwrap();
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    let page = page.text().await.unwrap();
    assert!(!page.contains("<script"), "{page}");
    assert!(!page.contains("<img src=x"));
    assert!(page.contains("&lt;script&gt;alert('x')&lt;/script&gt;"));
}

// Lock-out and idle logout over HTTP with the console's clock moved by
// the test (no sleeping).
on_both_engines!(
    locks_double_and_idle_sessions_end_on_the_consoles_clock,
    locks_double_and_idle_sessions_end_on_the_consoles_clock_on
);
async fn locks_double_and_idle_sessions_end_on_the_consoles_clock_on(engine: Engine) {
    use std::sync::atomic::{AtomicI64, Ordering};
    use std::sync::Arc;
    let offset = Arc::new(AtomicI64::new(0));
    let seen = offset.clone();
    let clock: county_platform::console::Clock = Arc::new(move || {
        chrono::Utc::now() + chrono::Duration::seconds(seen.load(Ordering::SeqCst))
    });
    let platform = Platform::start_on(engine, Some(clock));
    let url = platform.console_url();
    let client = platform.console_client();
    let try_password = |password: &'static str| {
        let client = client.clone();
        let url = url.clone();
        async move {
            let page = client.get(format!("{url}/login")).send().await.unwrap();
            let cookie = support::set_cookie(&page, "vk_login_csrf").unwrap();
            let csrf = hidden_csrf(&page.text().await.unwrap());
            let answer = client
                .post(format!("{url}/login"))
                .header(COOKIE, format!("vk_login_csrf={cookie}"))
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("username", REVIEWER.0),
                    ("password", password),
                ])
                .send()
                .await
                .unwrap();
            let status = answer.status();
            (status, answer.text().await.unwrap_or_default())
        }
    };
    for _ in 0..4 {
        assert_eq!(
            try_password("wrong-password").await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    let (status, page) = try_password("wrong-password").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("请 1 分钟后再试"), "{page}");
    let (status, _) = try_password(REVIEWER.1).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "locked: even the right password"
    );
    // A minute later the lock is over; one more wrong password locks for two.
    offset.store(61, Ordering::SeqCst);
    let (status, page) = try_password("wrong-password").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("请 2 分钟后再试"), "{page}");
    offset.store(61 + 121, Ordering::SeqCst);
    let (status, _) = try_password(REVIEWER.1).await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "the right password after the lock"
    );

    // A session unused for 15 minutes is over.
    let session = log_in(&platform, &client, REVIEWER).await;
    let records = |session: String| {
        let client = client.clone();
        let url = url.clone();
        async move {
            client
                .get(format!("{url}/records"))
                .header(COOKIE, session)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    offset.fetch_add(14 * 60, Ordering::SeqCst);
    assert_eq!(records(session.clone()).await, StatusCode::OK);
    offset.fetch_add(14 * 60, Ordering::SeqCst);
    assert_eq!(
        records(session.clone()).await,
        StatusCode::OK,
        "use keeps it alive"
    );
    offset.fetch_add(15 * 60, Ordering::SeqCst);
    assert_eq!(
        records(session).await,
        StatusCode::SEE_OTHER,
        "idle: logged out"
    );
}

// The pages of the register, the reasons, import, statistics and export:
// each needs a login of its role, and each form its session's token.
on_both_engines!(
    the_ledger_pages_need_their_role_and_their_forms_a_token,
    the_ledger_pages_need_their_role_and_their_forms_a_token_on
);
async fn the_ledger_pages_need_their_role_and_their_forms_a_token_on(engine: Engine) {
    let platform = Platform::start_on(engine, None);
    let (record, blobs) = support::demo_record();
    assert_eq!(platform.send(&record, &blobs, "FC-0001").await, 201);
    let id = record.meta.record_id;
    let url = platform.console_url();
    let client = platform.console_client();
    let admin_only = [
        "/reasons",
        "/import",
        "/export",
        "/export/register.xlsx",
        "/export/register.csv",
        "/export/photos.zip",
    ];
    for path in admin_only.iter().chain(&["/stats", "/persons/00"]) {
        let answer = client.get(format!("{url}{path}")).send().await.unwrap();
        assert_eq!(answer.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(answer.headers()[LOCATION], "/login", "{path}");
    }
    let reviewer = log_in(&platform, &client, REVIEWER).await;
    let get = |path: String, cookie: String| {
        client
            .get(format!("{url}{path}"))
            .header(COOKIE, cookie)
            .send()
    };
    let page = get(format!("/records/{id}"), reviewer.clone())
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let person = page
        .split("href=\"/persons/")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a link to the person")
        .to_string();
    assert_eq!(person.len(), 64);
    let answer = get(format!("/persons/{person}"), reviewer.clone())
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let text = answer.text().await.unwrap();
    assert!(text.contains("350524********0010") && !text.contains("350524195503150010"));
    for walk in [
        "..%2F..%2Fplatform.sqlite3",
        "00",
        &"g".repeat(64),
        &"0".repeat(64),
    ] {
        let answer = get(format!("/persons/{walk}"), reviewer.clone())
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::NOT_FOUND, "{walk}");
    }
    for path in admin_only {
        let answer = get(path.to_string(), reviewer.clone()).await.unwrap();
        assert_eq!(answer.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let viewer = log_in(&platform, &client, VIEWER).await;
    for path in admin_only
        .iter()
        .map(|p| p.to_string())
        .chain([format!("/persons/{person}")])
    {
        let answer = get(path.clone(), viewer.clone()).await.unwrap();
        assert_eq!(answer.status(), StatusCode::FORBIDDEN, "{path}");
    }
    assert_eq!(
        get("/stats".into(), viewer.clone()).await.unwrap().status(),
        StatusCode::OK
    );

    // An administrator's forms without their token change nothing.
    let admin = log_in(&platform, &client, ADMIN).await;
    let reasons = get("/reasons".into(), admin.clone())
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = hidden_csrf(&reasons);
    let reviewer_csrf = hidden_csrf(&page);
    for form in [
        vec![("field", "photos.portrait"), ("label", "照片不清晰")],
        vec![
            ("field", "photos.portrait"),
            ("label", "照片不清晰"),
            ("csrf", reviewer_csrf.as_str()),
        ],
    ] {
        let answer = client
            .post(format!("{url}/reasons"))
            .header(COOKIE, &admin)
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::FORBIDDEN);
    }
    for path in ["/reasons/rename", "/reasons/retire"] {
        let answer = client
            .post(format!("{url}{path}"))
            .header(COOKIE, &admin)
            .form(&[("key", "photos.portrait"), ("label", "x"), ("retired", "1")])
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let unchanged = platform.api.state.db().return_reasons(false).unwrap();
    assert_eq!(unchanged.len(), 14);
    assert!(unchanged
        .iter()
        .any(|r| r.key == "photos.portrait" && r.label == "本人照片"));
    // With it, the form works (and a reason with a military unit is refused).
    let answer = client
        .post(format!("{url}/reasons"))
        .header(COOKIE, &admin)
        .form(&[
            ("field", "other"),
            ("label", "38军123团"),
            ("csrf", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        platform.api.state.db().return_reasons(true).unwrap().len(),
        14
    );

    // An upload without the token is refused before anything is read.
    let boundary = "vkboundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"base.csv\"\r\n\
         Content-Type: text/csv\r\n\r\n姓名,公民身份号码,人员类别\r\n林国华,350524195503150010,2\r\n--{boundary}--\r\n"
    );
    let answer = client
        .post(format!("{url}/import"))
        .header(COOKIE, &admin)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::FORBIDDEN);
    let answer = client
        .post(format!("{url}/import/confirm"))
        .header(COOKIE, &admin)
        .form(&[("token", "0".repeat(64))])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::FORBIDDEN);
    // With the token a CSV previews, and only the confirmation writes.
    let with_token = body.replace(
        &format!("--{boundary}--"),
        &format!("--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n--{boundary}--"),
    );
    let preview = client
        .post(format!("{url}/import"))
        .header(COOKIE, &admin)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(with_token)
        .send()
        .await
        .unwrap();
    assert_eq!(preview.status(), StatusCode::OK);
    let preview = preview.text().await.unwrap();
    assert!(preview.contains("可导入的行"), "{preview}");
    assert_eq!(platform.api.state.db().base_roster_count().unwrap(), 0);
    let token = preview
        .split("name=\"token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_string();
    // Confirming writes.
    let confirm = |cookie: String, csrf: String| {
        client
            .post(format!("{url}/import/confirm"))
            .header(COOKIE, cookie)
            .form(&[("token", token.clone()), ("csrf", csrf)])
            .send()
    };
    let answer = confirm(admin.clone(), csrf.clone()).await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(platform.api.state.db().base_roster_count().unwrap(), 1);
    // A token is used once.
    let again = confirm(admin.clone(), csrf.clone()).await.unwrap();
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
}

// A certificate staff marked as not shown reaches the county: the record
// page shows the mark, the "missing certificates" filter finds the
// record, and the chip portrait's raw bytes are offered as a download.
on_both_engines!(
    marked_certificates_and_the_raw_chip_portrait_reach_the_console,
    marked_certificates_and_the_raw_chip_portrait_reach_the_console_on
);
async fn marked_certificates_and_the_raw_chip_portrait_reach_the_console_on(engine: Engine) {
    use kiosk_core::category::DocumentKind;
    use kiosk_core::record::{MissingDocument, MissingReason};
    let platform = Platform::start_on(engine, None);
    let (mut record, blobs) = support::demo_record();
    record
        .documents
        .retain(|d| d.kind != DocumentKind::DisabledServicemanCertificate);
    record.missing_documents.push(MissingDocument {
        kind: DocumentKind::DisabledServicemanCertificate,
        reason: MissingReason::Lost,
        note: "1998年洪水中遗失，正在补办".into(),
        marked_by: "staff-07".into(),
        marked_at: record.meta.updated_at,
    });
    assert_eq!(platform.send(&record, &blobs, "FC-0002").await, 201);
    let marked = record.meta.record_id;
    let (mut plain, blobs) = support::demo_record();
    plain.photos.card_portrait_wlt = None;
    plain.photos.card_portrait_note = "读卡器未提供芯片照片数据".into();
    assert_eq!(platform.send(&plain, &blobs, "FC-0003").await, 201);
    let other = plain.meta.record_id;

    let client = platform.console_client();
    let url = platform.console_url();
    let reviewer = log_in(&platform, &client, REVIEWER).await;
    let get = |path: String| {
        client
            .get(format!("{url}{path}"))
            .header(COOKIE, &reviewer)
            .send()
    };
    let page = get(format!("/records/{marked}")).await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    for shown in [
        "未出示的证件",
        "残疾军人证",
        "遗失",
        "1998年洪水中遗失，正在补办",
        "staff-07",
        "芯片原始照片数据",
        "1024 字节",
    ] {
        assert!(page.contains(shown), "{shown} missing from the page");
    }
    let list = get("/records?missing=1".into()).await.unwrap();
    let list = list.text().await.unwrap();
    assert!(
        list.contains(&marked.to_string()),
        "the filter finds the marked record"
    );
    assert!(!list.contains(&other.to_string()), "and only that one");

    let download = get(format!("/records/{marked}/chip-portrait.wlt"))
        .await
        .unwrap();
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(
        download.headers()["content-type"],
        "application/octet-stream"
    );
    assert!(download.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment;"));
    let bytes = download.bytes().await.unwrap();
    let kept = record.photos.card_portrait_wlt.as_ref().unwrap();
    assert_eq!(&bytes[..], kept.as_bytes());
    assert_eq!(bytes.len(), 1024);
    let none = get(format!("/records/{other}/chip-portrait.wlt"))
        .await
        .unwrap();
    assert_eq!(none.status(), StatusCode::NOT_FOUND);
    // Not without a login.
    let anonymous = client
        .get(format!("{url}/records/{marked}/chip-portrait.wlt"))
        .send()
        .await
        .unwrap();
    assert_ne!(anonymous.status(), StatusCode::OK);
}

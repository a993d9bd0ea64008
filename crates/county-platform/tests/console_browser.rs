//! The console in a real headless Chromium (Debian's `chromium` and
//! `chromium-driver`), driven through chromedriver with fantoccini: log in,
//! lock-out, review a record with its photos, return it with a reason that
//! the kiosk's review poll then carries, HTML shown as text, a form without
//! its CSRF token refused. Every page it visits is saved as a screenshot in
//! docs/console/.
//!
//! Without chromium or chromedriver the test is skipped with a loud
//! message, except under CI (`CI` set), where that is a failure.

// Tests may unwrap: a panic there is a failing test, not a kiosk crash.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod browser;
mod support;

use std::path::Path;

use browser::*;
use county_platform::testing::Engine;
use fantoccini::{Client, Locator};
use serde_json::json;
use support::{Platform, ADMIN, REVIEWER};
use wire::records::ReviewState;

async fn log_out(browser: &Client) {
    submit(browser, "form[action='/logout'] button").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn county_staff_review_in_a_real_browser() {
    staff_review_in_a_real_browser_on(Engine::Sqlite).await
}

/// The same review on PostgreSQL; the screenshots come from the SQLite run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn county_staff_review_on_postgresql() {
    staff_review_in_a_real_browser_on(Engine::Postgres).await
}

async fn staff_review_in_a_real_browser_on(engine: Engine) {
    let shoot = engine == Engine::Sqlite;
    let Some((chromium, chromedriver)) = chromium_or_skip("county_staff_review_in_a_real_browser")
    else {
        return;
    };
    let platform = Platform::start_on(engine, None);
    let (record, blobs) = support::demo_record();
    assert_eq!(platform.send(&record, &blobs, "FC-0001").await, 201);
    let (mut second, second_blobs) = support::demo_record();
    second.meta.created_at += chrono::Duration::minutes(40);
    second.meta.updated_at += chrono::Duration::minutes(40);
    // Its 残疾军人证 was not photographed: refused at intake, listed as such.
    second.documents.pop();
    assert_eq!(platform.send(&second, &second_blobs, "FC-0002").await, 422);
    let (mut hostile, hostile_blobs) = support::demo_record();
    let script = "<script>document.title='pwned'</script><b>粗体</b>";
    hostile.identity.current_address = format!("城东路8号{script}");
    hostile.living.remarks = script.to_string();
    hostile.needs[0].text = format!("希望复查{script}");
    assert_eq!(
        platform.send(&hostile, &hostile_blobs, "FC-0003").await,
        201
    );
    let url = platform.console_url();

    let driver = start_driver(&chromedriver);
    let browser = browser(&driver, &chromium).await;

    // The login page, and a wrong password.
    browser.goto(&format!("{url}/login")).await.unwrap();
    if shoot {
        screenshot(&browser, "01-login").await;
    }
    let page = log_in(&browser, &url, (REVIEWER.0, "not-the-password")).await;
    assert!(page.contains("用户名或密码不正确"), "{page}");

    // Log in; the list.
    let page = log_in(&browser, &url, REVIEWER).await;
    assert!(
        page.contains("记录审核") && page.contains("FC-0001"),
        "{page}"
    );
    assert!(page.contains("reviewer（审核）"), "{page}");
    if shoot {
        screenshot(&browser, "02-records").await;
    }

    // A record with its photos, each opening full size.
    let id = record.meta.record_id;
    browser.goto(&format!("{url}/records/{id}")).await.unwrap();
    let page = text(&browser).await;
    for expected in [
        "一、基本信息",
        "林国华",
        "350524195503150010",
        "退役士兵",
        "残疾军人",
        "三、生活状况",
        "四、需求",
        "五、证件材料",
        "户口本",
        "退伍证",
        "残疾军人证",
    ] {
        assert!(page.contains(expected), "{expected} missing from {page}");
    }
    let images_loaded = browser
        .execute(
            "return Array.from(document.images).map(i => i.complete && i.naturalWidth > 0);",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        images_loaded,
        json!([true, true, true, true]),
        "portrait and three certificate pages"
    );
    if shoot {
        screenshot(&browser, "03-record").await;
    }
    browser
        .execute(
            "Array.from(document.querySelectorAll('h3')).find(h => h.textContent.startsWith('二、')).scrollIntoView();",
            vec![],
        )
        .await
        .unwrap();
    if shoot {
        screenshot(&browser, "03b-record-categories-and-certificates").await;
    }
    browser
        .execute("window.scrollTo(0, document.body.scrollHeight);", vec![])
        .await
        .unwrap();
    if shoot {
        screenshot(&browser, "04-record-decision").await;
    }
    browser
        .goto(&format!("{url}/records/{id}/photos/document-2"))
        .await
        .unwrap();
    let full_size = browser
        .execute(
            "return [document.contentType, document.images[0].naturalWidth];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(full_size, json!(["image/jpeg", 800]));

    // A form without its CSRF token is refused, and nothing changes.
    browser.goto(&format!("{url}/records/{id}")).await.unwrap();
    browser
        .execute(
            "document.querySelectorAll('input[name=csrf]').forEach(e => e.remove());",
            vec![],
        )
        .await
        .unwrap();
    submit(&browser, "input[value=accept] ~ button").await;
    let page = text(&browser).await;
    assert!(
        page.contains("请求被拒绝") && page.contains("安全校验码"),
        "{page}"
    );
    if shoot {
        screenshot(&browser, "05-csrf-refused").await;
    }
    assert_eq!(platform.poll_review(id).await, ReviewState::Received);

    // Return it with a reason on a field; a military unit in the text is refused first.
    browser.goto(&format!("{url}/records/{id}")).await.unwrap();
    browser
        .find(Locator::Css("select[name=field1]"))
        .await
        .unwrap()
        .select_by_value("photos.portrait")
        .await
        .unwrap();
    let reason = browser
        .find(Locator::Css("input[name=text1]"))
        .await
        .unwrap();
    reason
        .send_keys("照片不清晰，请到38军123团驻地重拍")
        .await
        .unwrap();
    submit(&browser, "button.secondary").await;
    let page = text(&browser).await;
    assert!(page.contains("第1条原因（本人照片）"), "{page}");
    assert_eq!(platform.poll_review(id).await, ReviewState::Received);
    browser
        .find(Locator::Css("select[name=field1]"))
        .await
        .unwrap()
        .select_by_value("photos.portrait")
        .await
        .unwrap();
    browser
        .find(Locator::Css("input[name=text1]"))
        .await
        .unwrap()
        .send_keys("照片不清晰，请重新拍摄本人正面照片")
        .await
        .unwrap();
    submit(&browser, "button.secondary").await;
    let page = text(&browser).await;
    assert!(
        page.contains("已退回") && page.contains("本人照片：照片不清晰，请重新拍摄本人正面照片"),
        "{page}"
    );
    if shoot {
        screenshot(&browser, "06-record-returned").await;
    }
    // The kiosk's review poll, over mutual TLS with the kiosk certificate, carries the reason.
    match platform.poll_review(id).await {
        ReviewState::Rejected { reasons } => {
            assert_eq!(reasons.len(), 1);
            assert_eq!(reasons[0].field.as_deref(), Some("photos.portrait"));
            assert_eq!(reasons[0].message, "照片不清晰，请重新拍摄本人正面照片");
        }
        other => panic!("the kiosk sees {other:?}"),
    }

    // Nobody accepted yet: the look-up knows no one.
    assert!(!platform.look_up("350524195503150010").await.found);

    // The kiosk sends a correction: a new portrait and a new phone number.
    let mut correction = record.clone();
    let mut correction_blobs = blobs.clone();
    correction.meta.record_id = uuid::Uuid::new_v4();
    correction.meta.supersedes = Some(id);
    correction.identity.phone = "13800000000".into();
    let portrait = support::jpeg(360, 480, [150, 200, 150]);
    correction.photos.portrait = Some(kiosk_core::record::PhotoRef {
        bytes: portrait.len() as u64,
        sha256: correction_blobs.insert(portrait),
    });
    assert_eq!(
        platform
            .send(&correction, &correction_blobs, "FC-0004")
            .await,
        201
    );
    assert_eq!(platform.poll_review(id).await, ReviewState::Superseded);
    browser
        .goto(&format!("{url}/records/{}", correction.meta.record_id))
        .await
        .unwrap();
    let page = text(&browser).await;
    for expected in [
        "更正内容（与被取代的原记录相比）",
        "联系电话 13905951234 13800000000",
        "照片 · 本人照片",
    ] {
        assert!(page.contains(expected), "{expected} missing from {page}");
    }
    assert!(
        !page.contains("姓名 林国华 林国华"),
        "unchanged fields are not listed"
    );
    if shoot {
        screenshot(&browser, "13-correction").await;
    }
    submit(&browser, "input[value=accept] ~ button").await;
    assert!(text(&browser).await.contains("已通过"));
    assert_eq!(
        platform.poll_review(correction.meta.record_id).await,
        ReviewState::Accepted
    );
    // The accepted record is what the kiosks' look-up now returns for the person.
    let base = platform.look_up("350524195503150010").await;
    let base = base.record.expect("the accepted record in the base");
    assert_eq!(base.meta.record_id, correction.meta.record_id);
    assert_eq!(base.identity.phone, "13800000000");
    assert!(base.photos.portrait.is_none() && base.documents.is_empty());
    browser.goto(&format!("{url}/records/{id}")).await.unwrap();
    let page = text(&browser).await;
    assert!(
        page.contains("已被更正") && page.contains(&correction.meta.record_id.to_string()),
        "{page}"
    );

    // The same person registers again at another kiosk in the same campaign:
    // both records are flagged, and linked to the person's others.
    let (mut again, again_blobs) = support::demo_record();
    again.meta.kiosk_id = "AX-FC-02".into();
    again.identity.phone = "13700000000".into();
    let second_kiosk = platform.other_kiosk_client("AX-FC-02");
    assert_eq!(
        platform
            .send_from(&second_kiosk, &again, &again_blobs, "FC-0005")
            .await,
        201
    );
    browser
        .goto(&format!("{url}/records/{}", again.meta.record_id))
        .await
        .unwrap();
    let page = text(&browser).await;
    for expected in [
        "疑似重复登记：此人在本期",
        "采集点 AX-FC-01 · 受理编号 FC-0003",
        "采集点 AX-FC-01 · 受理编号 FC-0004",
        "此人的其他登记记录（按身份证号关联）",
        "与此人上一条已通过的记录",
        "联系电话 13800000000 13700000000",
    ] {
        assert!(page.contains(expected), "{expected} missing from {page}");
    }
    // A correction of the same kiosk's record is no duplicate of it.
    assert!(!page.contains("受理编号 FC-0001"), "{page}");
    if shoot {
        screenshot(&browser, "14-duplicate-and-history").await;
    }
    browser
        .goto(&format!("{url}/records/{}", hostile.meta.record_id))
        .await
        .unwrap();
    assert!(text(&browser)
        .await
        .contains("采集点 AX-FC-02 · 受理编号 FC-0005"));

    // HTML in a record is text.
    browser
        .goto(&format!("{url}/records/{}", hostile.meta.record_id))
        .await
        .unwrap();
    let page = text(&browser).await;
    assert!(
        page.contains("<script>document.title='pwned'</script><b>粗体</b>"),
        "{page}"
    );
    let title = browser.title().await.unwrap();
    assert!(!title.contains("pwned"), "{title}");
    let bold = browser.find_all(Locator::Css("main b")).await.unwrap();
    assert!(bold.is_empty());
    browser
        .execute(
            "Array.from(document.querySelectorAll('th')).find(t => t.textContent === '其他想说明的情况（可不填）').scrollIntoView();",
            vec![],
        )
        .await
        .unwrap();
    if shoot {
        screenshot(&browser, "07-html-as-text").await;
    }

    // The list filtered to records with problems: the returned one (since
    // corrected) and the one refused at intake.
    browser
        .goto(&format!("{url}/records?problems=1"))
        .await
        .unwrap();
    let page = text(&browser).await;
    assert!(
        page.contains("FC-0001")
            && page.contains("FC-0002")
            && !page.contains("FC-0003")
            && !page.contains("FC-0004"),
        "{page}"
    );
    if shoot {
        screenshot(&browser, "08-records-filtered").await;
    }
    browser
        .goto(&format!("{url}/records?missing=1"))
        .await
        .unwrap();
    let page = text(&browser).await;
    assert!(
        page.contains("FC-0002") && page.contains("缺证件"),
        "{page}"
    );
    assert!(
        !page.contains("FC-0001") && !page.contains("FC-0003"),
        "{page}"
    );
    if shoot {
        screenshot(&browser, "08b-records-certificates-missing").await;
    }
    browser
        .goto(&format!("{url}/records?category=disabled-serviceman"))
        .await
        .unwrap();
    let page = text(&browser).await;
    assert!(
        page.contains("FC-0001") && page.contains("FC-0003") && !page.contains("FC-0002"),
        "{page}"
    );
    browser
        .goto(&format!("{url}/records?category=transferred-officer"))
        .await
        .unwrap();
    assert!(text(&browser).await.contains("没有符合条件的记录"));
    log_out(&browser).await;

    // The administrator's pages.
    let page = log_in(&browser, &url, ADMIN).await;
    assert!(page.contains("用户管理"), "{page}");
    browser.goto(&format!("{url}/users")).await.unwrap();
    browser
        .find(Locator::Css("form[action='/users'] input[name=username]"))
        .await
        .unwrap()
        .send_keys("zhang.wei")
        .await
        .unwrap();
    browser
        .find(Locator::Css("form[action='/users'] select[name=role]"))
        .await
        .unwrap()
        .select_by_value("viewer")
        .await
        .unwrap();
    browser
        .find(Locator::Css("form[action='/users'] input[name=password]"))
        .await
        .unwrap()
        .send_keys("a-long-password-1")
        .await
        .unwrap();
    submit(&browser, "form[action='/users'] button").await;
    let page = text(&browser).await;
    assert!(page.contains("已新增用户 zhang.wei（统计查看）"), "{page}");
    if shoot {
        screenshot(&browser, "09-users").await;
    }
    browser.goto(&format!("{url}/audit")).await.unwrap();
    let page = text(&browser).await;
    assert!(
        page.contains("退回") && page.contains(&id.to_string()),
        "{page}"
    );
    if shoot {
        screenshot(&browser, "10-audit").await;
    }
    browser.goto(&format!("{url}/stats")).await.unwrap();
    let page = text(&browser).await;
    assert!(
        page.contains("凤城镇") && page.contains("残疾军人"),
        "{page}"
    );
    if shoot {
        screenshot(&browser, "10b-stats").await;
    }
    log_out(&browser).await;

    // Five wrong passwords lock the account; then even the right one is refused.
    for attempt in 1..=5 {
        let page = log_in(&browser, &url, ("zhang.wei", "wrong-password")).await;
        assert_eq!(
            page.contains("账号已锁定"),
            attempt == 5,
            "attempt {attempt}: {page}"
        );
    }
    let page = log_in(&browser, &url, ("zhang.wei", "a-long-password-1")).await;
    assert!(page.contains("账号已锁定，请 1 分钟后再试"), "{page}");
    if shoot {
        screenshot(&browser, "11-locked").await;
    }

    // The administrator sees the lock and lifts it.
    log_in(&browser, &url, ADMIN).await;
    browser.goto(&format!("{url}/users")).await.unwrap();
    let page = text(&browser).await;
    assert!(page.contains("已锁定，至"), "{page}");
    if shoot {
        screenshot(&browser, "12-users-locked").await;
    }
    submit(&browser, "form[action='/users/unlock'] button").await;
    let page = text(&browser).await;
    assert!(page.contains("已解锁用户 zhang.wei"), "{page}");
    log_out(&browser).await;
    let page = log_in(&browser, &url, ("zhang.wei", "a-long-password-1")).await;
    assert!(page.contains("zhang.wei（统计查看）"), "{page}");

    // The administrator makes zhang.wei a reviewer with a new password; the
    // old session ends, the new password works.
    log_out(&browser).await;
    log_in(&browser, &url, ADMIN).await;
    browser.goto(&format!("{url}/users")).await.unwrap();
    browser
        .find(Locator::Css(
            "form[action='/users/update'] select[name=username]",
        ))
        .await
        .unwrap()
        .select_by_value("zhang.wei")
        .await
        .unwrap();
    browser
        .find(Locator::Css(
            "form[action='/users/update'] select[name=role]",
        ))
        .await
        .unwrap()
        .select_by_value("reviewer")
        .await
        .unwrap();
    browser
        .find(Locator::Css(
            "form[action='/users/update'] input[name=password]",
        ))
        .await
        .unwrap()
        .send_keys("a-new-password-2")
        .await
        .unwrap();
    submit(&browser, "form[action='/users/update'] button").await;
    let page = text(&browser).await;
    assert!(page.contains("已保存用户 zhang.wei 的修改"), "{page}");
    if shoot {
        screenshot(&browser, "12b-users-updated").await;
    }
    log_out(&browser).await;
    let page = log_in(&browser, &url, ("zhang.wei", "a-long-password-1")).await;
    assert!(page.contains("用户名或密码不正确"), "{page}");
    let page = log_in(&browser, &url, ("zhang.wei", "a-new-password-2")).await;
    assert!(page.contains("zhang.wei（审核）"), "{page}");

    browser.close().await.unwrap();
}

/// The session cookie of the browser, for downloads fetched beside it
/// (the page's CSP forbids script fetches; the browser's own download
/// lands in no place a test can read).
/// The statistics page as it prints: laid out with the print style sheet
/// at the width of an A4 page inside Chromium's default 1 cm margins
/// (718 CSS pixels), the navigation and the filter form are gone, the
/// date line meant for paper is there, every table and chart shows, and
/// nothing reaches past the paper's edge. Then Chromium's own PDF of it.
async fn stats_print(browser: &Client, url: &str, shoot: bool) {
    const A4_PRINT_WIDTH: u32 = 718;
    browser.goto(&format!("{url}/stats")).await.unwrap();
    dev_tools(
        browser,
        "Emulation.setEmulatedMedia",
        json!({ "media": "print" }),
    )
    .await;
    dev_tools(
        browser,
        "Emulation.setDeviceMetricsOverride",
        json!({ "width": A4_PRINT_WIDTH, "height": 1000, "deviceScaleFactor": 1, "mobile": false }),
    )
    .await;
    let laid_out = browser
        .execute(
            r#"
            const shown = e => getComputedStyle(e).display !== 'none'
                && getComputedStyle(e).visibility !== 'hidden' && e.getClientRects().length > 0;
            const all = css => Array.from(document.querySelectorAll(css));
            const edge = document.documentElement.clientWidth;
            const name = e => e.tagName.toLowerCase() + (e.className && e.className.baseVal === undefined ? '.' + e.className : '')
                + ' ' + (e.textContent || '').trim().slice(0, 20);
            return {
                printing: matchMedia('print').matches,
                width: edge,
                header: all('header').filter(shown).length,
                forms: all('form').filter(shown).length,
                no_print: all('.no-print').filter(shown).length,
                print_only: all('.print-only').filter(e => !shown(e)).length,
                tables: all('table').length,
                hidden_tables: all('table, svg.chart').filter(e => !shown(e)).length,
                charts: all('svg.chart').length,
                past_edge: all('main *').filter(e => shown(e) && e.getBoundingClientRect().right > edge + 1).map(name),
                scroll_width: document.documentElement.scrollWidth,
            };
            "#,
            vec![],
        )
        .await
        .unwrap();
    let field = |key: &str| laid_out[key].clone();
    assert_eq!(field("printing"), json!(true), "{laid_out}");
    assert_eq!(field("width"), json!(A4_PRINT_WIDTH), "{laid_out}");
    assert_eq!(field("header"), json!(0), "navigation printed: {laid_out}");
    assert_eq!(field("forms"), json!(0), "filter form printed: {laid_out}");
    assert_eq!(field("no_print"), json!(0), "{laid_out}");
    assert_eq!(
        field("print_only"),
        json!(0),
        "date line for paper hidden: {laid_out}"
    );
    assert!(field("tables").as_u64().unwrap() >= 3, "{laid_out}");
    assert!(field("charts").as_u64().unwrap() >= 1, "{laid_out}");
    assert_eq!(field("hidden_tables"), json!(0), "{laid_out}");
    assert_eq!(
        field("past_edge"),
        json!([]),
        "cut at the paper's edge: {laid_out}"
    );
    assert_eq!(field("scroll_width"), json!(A4_PRINT_WIDTH), "{laid_out}");
    let page = text(browser).await;
    assert!(page.contains("统计截至"), "{page}");
    assert!(page.contains("三、登记进度（对照基础库）"), "{page}");
    if shoot {
        screenshot(browser, "19c-stats-print").await;
    }
    dev_tools(browser, "Emulation.clearDeviceMetricsOverride", json!({})).await;
    dev_tools(
        browser,
        "Emulation.setEmulatedMedia",
        json!({ "media": "" }),
    )
    .await;
    // Chromium's own print (A4, 1 cm margins): a PDF of at least one page.
    let pdf = browser
        .print(fantoccini::wd::PrintConfiguration::default())
        .await
        .unwrap();
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    if let Some(dir) = std::env::var_os("VK_STATS_PDF_DIR") {
        std::fs::write(Path::new(&dir).join("stats-print.pdf"), &pdf).unwrap();
    }
}

async fn download(browser: &Client, platform: &Platform, path: &str) -> (u16, String, Vec<u8>) {
    let session = browser.get_named_cookie("vk_console").await.unwrap();
    let response = platform
        .console_client()
        .get(format!("{}{path}", platform.console_url()))
        .header("cookie", format!("vk_console={}", session.value()))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (
        status,
        content_type,
        response.bytes().await.unwrap().to_vec(),
    )
}

/// Uploads `workbook` on the import page; the preview's text.
async fn import_file(browser: &Client, url: &str, workbook: &Path) -> String {
    browser.goto(&format!("{url}/import")).await.unwrap();
    browser
        .find(Locator::Css("input[type=file]"))
        .await
        .unwrap()
        .send_keys(workbook.to_str().unwrap())
        .await
        .unwrap();
    submit(browser, "form[action='/import'] button").await;
    text(browser).await
}

/// China time (UTC+8) as the console shows it, to the hour.
fn china_hour(at: chrono::DateTime<chrono::Utc>) -> String {
    (at + chrono::Duration::hours(8))
        .format("%Y-%m-%d %H:")
        .to_string()
}

/// A base-database workbook as a county office keeps it: three good rows
/// in three townships (one an Excel date cell), one township that never
/// uploads, and three bad rows.
fn base_workbook(path: &Path) {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    let header = [
        "序号",
        "姓名",
        "公民身份号码",
        "性别",
        "出生日期",
        "人员类别",
        "乡镇代码",
        "乡镇",
    ];
    for (col, title) in header.iter().enumerate() {
        sheet.write_string(0, col as u16, *title).unwrap();
    }
    let rows: [[&str; 8]; 7] = [
        [
            "1",
            "林国华",
            "350524195503150010",
            "男",
            "1955-03-15",
            "2、7",
            "350524100",
            "凤城镇",
        ],
        [
            "2",
            "陈志明",
            "350524196001010012",
            "男",
            "",
            "退役士兵",
            "350524101",
            "城厢镇",
        ],
        [
            "3",
            "王秀英",
            "350524197002020022",
            "女",
            "1970/2/2",
            "9",
            "350524102",
            "石门乡",
        ],
        [
            "4",
            "黄德才",
            "350524195001010018",
            "男",
            "",
            "5",
            "350524103",
            "东岭乡",
        ],
        [
            "5",
            "错号码",
            "350524195503150011",
            "男",
            "",
            "2",
            "350524100",
            "凤城镇",
        ],
        [
            "6",
            "错类别",
            "350524196505050018",
            "男",
            "",
            "宇航员",
            "350524100",
            "凤城镇",
        ],
        [
            "7",
            "错日期",
            "350524196808080011",
            "男",
            "五五年",
            "2",
            "350524100",
            "凤城镇",
        ],
    ];
    for (r, row) in rows.iter().enumerate() {
        for (col, cell) in row.iter().enumerate() {
            if !cell.is_empty() {
                sheet.write_string(r as u32 + 1, col as u16, *cell).unwrap();
            }
        }
    }
    // 陈志明's birth date as a real Excel date cell.
    let date = rust_xlsxwriter::ExcelDateTime::from_ymd(1960, 1, 1).unwrap();
    let format = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    sheet
        .write_datetime_with_format(2, 4, &date, &format)
        .unwrap();
    workbook.save(path).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn county_ledger_reasons_register_import_and_export_in_a_real_browser() {
    ledger_in_a_real_browser_on(Engine::Sqlite).await
}

/// The same pages (their SQL: statistics, import, export, the register) on
/// PostgreSQL; the screenshots come from the SQLite run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn county_ledger_reasons_register_import_and_export_on_postgresql() {
    ledger_in_a_real_browser_on(Engine::Postgres).await
}

async fn ledger_in_a_real_browser_on(engine: Engine) {
    let shoot = engine == Engine::Sqlite;
    let Some((chromium, chromedriver)) =
        chromium_or_skip("county_ledger_reasons_register_import_and_export_in_a_real_browser")
    else {
        return;
    };
    let platform = Platform::start_on(engine, None);
    let before_upload = chrono::Utc::now();
    // Records from two townships, and one refused at intake.
    let (first, first_blobs) = support::demo_record();
    assert_eq!(platform.send(&first, &first_blobs, "FC-0101").await, 201);
    let (mut other, other_blobs) = support::demo_record();
    other.meta.township.code = "350524101".into();
    other.meta.township.name = "城厢镇".into();
    other.identity.phone = "13911112222".into();
    assert_eq!(platform.send(&other, &other_blobs, "FC-0102").await, 201);
    let (mut refused, refused_blobs) = support::demo_record();
    refused.documents.pop();
    assert_eq!(
        platform.send(&refused, &refused_blobs, "FC-0103").await,
        422
    );
    // A third township whose last upload was nine days ago.
    {
        let mut db = platform.api.state.db();
        let old = county_platform::db::NewRecord {
            record_id: uuid::Uuid::new_v4(),
            record_number: Some("SM-0001"),
            kiosk_id: "AX-SM-01",
            client_cert: "cert",
            township_code: "350524102",
            supersedes: None,
            body_sha256: "sha",
            sealed: b"\0",
            rejected: None,
            categories: &[kiosk_core::category::Category::MartyrFamily],
            documents_missing: false,
            person_key: None,
        };
        db.insert(&old, chrono::Utc::now() - chrono::Duration::days(9))
            .unwrap();
        db.note_township("350524102", "石门乡").unwrap();
    }
    let after_upload = chrono::Utc::now();
    let url = platform.console_url();
    let driver = start_driver(&chromedriver);
    let browser = browser(&driver, &chromium).await;
    log_in(&browser, &url, ADMIN).await;

    // Townships by name, times in China time.
    browser.goto(&format!("{url}/records")).await.unwrap();
    let page = text(&browser).await;
    assert!(
        page.contains("凤城镇") && page.contains("城厢镇") && page.contains("石门乡"),
        "{page}"
    );
    assert!(!page.contains("350524101"), "{page}");
    assert!(
        page.contains(&china_hour(before_upload)) || page.contains(&china_hour(after_upload)),
        "{page}"
    );

    // The county edits its list of return reasons.
    browser.goto(&format!("{url}/reasons")).await.unwrap();
    browser
        .find(Locator::Css("form[action='/reasons'] select[name=field]"))
        .await
        .unwrap()
        .select_by_value("photos.portrait")
        .await
        .unwrap();
    browser
        .find(Locator::Css("form[action='/reasons'] input[name=label]"))
        .await
        .unwrap()
        .send_keys("照片不清晰")
        .await
        .unwrap();
    submit(&browser, "form[action='/reasons'] button").await;
    assert!(text(&browser).await.contains("已新增退回原因“照片不清晰”"));
    let rename = browser
        .find(Locator::XPath(
            "//tr[td[1][text()='照片不清晰']]//form[@action='/reasons/rename']//input[@name='label']",
        ))
        .await
        .unwrap();
    rename.clear().await.unwrap();
    rename.send_keys("本人照片不清晰").await.unwrap();
    submit(
        &browser,
        "form[action='/reasons/rename'] input[value='reason-15'] ~ button",
    )
    .await;
    let page = text(&browser).await;
    assert!(page.contains("已改名为“本人照片不清晰”"), "{page}");
    if shoot {
        screenshot(&browser, "15-return-reasons").await;
    }

    // A record returned with it (no free text needed: the reason says it).
    let first_id = first.meta.record_id;
    browser
        .goto(&format!("{url}/records/{first_id}"))
        .await
        .unwrap();
    browser
        .find(Locator::Css("select[name=field1]"))
        .await
        .unwrap()
        .select_by_value("reason-15")
        .await
        .unwrap();
    submit(&browser, "button.secondary").await;
    let page = text(&browser).await;
    assert!(page.contains("本人照片：本人照片不清晰"), "{page}");
    match platform.poll_review(first_id).await {
        ReviewState::Rejected { reasons } => {
            assert_eq!(reasons[0].field.as_deref(), Some("photos.portrait"));
            assert_eq!(reasons[0].message, "本人照片不清晰");
        }
        other => panic!("the kiosk sees {other:?}"),
    }
    // Retired: gone from the form, still on the old decision.
    browser.goto(&format!("{url}/reasons")).await.unwrap();
    submit(
        &browser,
        "form[action='/reasons/retire'] input[value='reason-15'] ~ input[value='1'] ~ button",
    )
    .await;
    assert!(text(&browser).await.contains("已停用"));
    browser
        .goto(&format!("{url}/records/{first_id}"))
        .await
        .unwrap();
    assert!(text(&browser).await.contains("本人照片：本人照片不清晰"));
    browser
        .goto(&format!("{url}/records/{}", other.meta.record_id))
        .await
        .unwrap();
    assert!(browser
        .find_all(Locator::Css("option[value='reason-15']"))
        .await
        .unwrap()
        .is_empty());

    // The register of persons: the person's records over time, the
    // refusal at intake among them, the ID number masked.
    submit(&browser, "a[href^='/persons/']").await;
    let page = text(&browser).await;
    for expected in [
        "人员档案 · 林国华",
        "350524********0010",
        "FC-0101",
        "FC-0102",
        "FC-0103",
        "接收时拒收",
        "凤城镇",
        "城厢镇",
        "本人照片：本人照片不清晰",
        "联系电话 13905951234 13911112222",
    ] {
        assert!(page.contains(expected), "{expected} missing from {page}");
    }
    assert!(!page.contains("350524195503150010"), "{page}");
    if shoot {
        screenshot(&browser, "16-person").await;
    }
    // The second record accepted: the kiosks' look-up now returns it.
    browser
        .goto(&format!("{url}/records/{}", other.meta.record_id))
        .await
        .unwrap();
    submit(&browser, "input[value=accept] ~ button").await;
    let accepted = platform.look_up("350524195503150010").await.record.unwrap();
    assert_eq!(accepted.meta.record_id, other.meta.record_id);

    // Base import: the preview shows the bad rows; nothing is written
    // before confirming; a re-import changes nothing.
    let workbook = platform.dir.path().join("基础库.xlsx");
    base_workbook(&workbook);
    let page = import_file(&browser, &url, &workbook).await;
    for expected in [
        "可导入的行 4",
        "有错误的行（不导入） 3",
        "其中新增人员 4",
        "第6行 公民身份号码",
        "第7行 人员类别",
        "第8行 出生日期“五五年”无法识别",
    ] {
        assert!(page.contains(expected), "{expected} missing from {page}");
    }
    assert_eq!(platform.api.state.db().base_roster_count().unwrap(), 0);
    assert!(!platform.look_up("350524196001010012").await.found);
    if shoot {
        screenshot(&browser, "17-import-preview").await;
    }
    submit(&browser, "form[action='/import/confirm'] button").await;
    let page = text(&browser).await;
    assert!(
        page.contains("已导入 4 行：新增 4 人，更新 0 人，0 人没有变化"),
        "{page}"
    );
    if shoot {
        screenshot(&browser, "18-import-done").await;
    }
    assert_eq!(platform.api.state.db().base_roster_count().unwrap(), 4);
    let imported = platform.look_up("350524196001010012").await.record.unwrap();
    assert_eq!(imported.identity.name, "陈志明");
    assert_eq!(
        imported.identity.birth_date,
        chrono::NaiveDate::from_ymd_opt(1960, 1, 1)
    );
    // The accepted record stands: an import never overwrites it.
    let still = platform.look_up("350524195503150010").await.record.unwrap();
    assert_eq!(still.meta.record_id, other.meta.record_id);
    let page = import_file(&browser, &url, &workbook).await;
    assert!(
        page.contains("其中与已导入的相同（不变） 4") && page.contains("不会改变任何数据"),
        "{page}"
    );
    submit(&browser, "form[action='/import/confirm'] button").await;
    assert!(text(&browser)
        .await
        .contains("已导入 4 行：新增 0 人，更新 0 人，4 人没有变化"));
    assert_eq!(platform.api.state.db().base_roster_count().unwrap(), 4);
    assert_eq!(
        platform.look_up("350524196001010012").await.record.unwrap(),
        imported
    );

    // The ledger: two townships uploading, one silent for nine days and one
    // that never uploaded flagged; progress against the base; SVG charts.
    browser.goto(&format!("{url}/stats")).await.unwrap();
    let page = text(&browser).await;
    for expected in [
        "统计台账",
        "以下乡镇已超过7天没有上传记录",
        "石门乡（超过7天未上传）",
        "东岭乡（超过7天未上传）",
        "从未上传",
        "三、登记进度（对照基础库）",
        // 凤城镇 knows one person, who registered and was accepted.
        "凤城镇 1 1 1 0",
        "残疾军人",
    ] {
        assert!(page.contains(expected), "{expected} missing from {page}");
    }
    assert!(!page.contains("凤城镇（超过7天未上传）"), "{page}");
    assert!(!page.contains("城厢镇（超过7天未上传）"), "{page}");
    let flagged = browser
        .find(Locator::Css("div.error[role=alert]"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        flagged.contains("石门乡") && flagged.contains("东岭乡") && !flagged.contains("凤城镇"),
        "{flagged}"
    );
    assert!(!browser
        .find_all(Locator::Css("svg.chart rect"))
        .await
        .unwrap()
        .is_empty());
    if shoot {
        screenshot(&browser, "19-stats").await;
    }
    browser
        .execute(
            "Array.from(document.querySelectorAll('h3')).find(h => h.textContent.startsWith('三、')).scrollIntoView();",
            vec![],
        )
        .await
        .unwrap();
    if shoot {
        screenshot(&browser, "19b-stats-progress-and-weeks").await;
    }
    stats_print(&browser, &url, shoot).await;

    // Export: the register as .xlsx read back with calamine, CSV as UTF-8
    // with a BOM, the photos zipped by record number; all audited.
    browser.goto(&format!("{url}/export")).await.unwrap();
    if shoot {
        screenshot(&browser, "20-export").await;
    }
    let (status, content_type, xlsx) = download(&browser, &platform, "/export/register.xlsx").await;
    assert_eq!(status, 200);
    assert!(content_type.contains("spreadsheetml"), "{content_type}");
    {
        use calamine::Reader;
        let mut book: calamine::Xlsx<_> =
            calamine::open_workbook_from_rs(std::io::Cursor::new(xlsx)).unwrap();
        let sheet = book.worksheet_range("优抚对象名册").unwrap();
        let rows: Vec<Vec<String>> = sheet
            .rows()
            .map(|r| r.iter().map(|c| c.to_string()).collect())
            .collect();
        let header = &rows[0];
        let col = |name: &str| header.iter().position(|h| h == name).unwrap();
        assert_eq!(rows.len(), 2, "one accepted person: {rows:?}");
        let person = &rows[1];
        assert_eq!(person[col("姓名")], "林国华");
        assert_eq!(person[col("公民身份号码")], "350524195503150010");
        assert_eq!(person[col("受理编号")], "FC-0102");
        assert_eq!(person[col("乡镇")], "城厢镇");
        assert_eq!(person[col("联系电话")], "13911112222");
        assert_eq!(person[col("人员类别代码")], "2、7");
        assert_eq!(person[col("人员类别")], "退役士兵、残疾军人");
        assert!(person[col("类别详细信息")].contains("【残疾军人】"));
    }
    let (status, content_type, csv) = download(&browser, &platform, "/export/register.csv").await;
    assert_eq!(status, 200);
    assert_eq!(content_type, "text/csv; charset=utf-8");
    assert!(csv.starts_with(b"\xEF\xBB\xBF"), "a BOM first");
    let csv = String::from_utf8(csv[3..].to_vec()).expect("UTF-8");
    let mut lines = csv.lines();
    assert!(lines
        .next()
        .unwrap()
        .starts_with("序号,受理编号,乡镇代码,乡镇,姓名"));
    let line = lines.next().unwrap();
    assert!(
        line.contains("林国华") && line.contains("350524195503150010") && line.contains("2、7"),
        "{line}"
    );
    let (status, _, zip) = download(&browser, &platform, "/export/photos.zip").await;
    assert_eq!(status, 200);
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    let mut names: Vec<String> = (0..archive.len())
        .map(|i| archive.by_index(i).unwrap().name().to_string())
        .collect();
    names.sort();
    assert!(
        names.contains(&"FC-0102-portrait.jpg".to_string()),
        "{names:?}"
    );
    assert!(names.iter().all(|n| n.starts_with("FC-0102-")), "{names:?}");
    browser.goto(&format!("{url}/audit")).await.unwrap();
    let page = text(&browser).await;
    for expected in [
        "导出名册（Excel）",
        "导出名册（CSV）",
        "导出照片",
        "基础库导入",
        "停用退回原因",
    ] {
        assert!(page.contains(expected), "{expected} missing from {page}");
    }
    log_out(&browser).await;

    // Export and import are the administrator's: a reviewer is refused.
    log_in(&browser, &url, REVIEWER).await;
    let (status, _, _) = download(&browser, &platform, "/export/register.csv").await;
    assert_eq!(status, 403);
    browser.goto(&format!("{url}/import")).await.unwrap();
    assert!(text(&browser).await.contains("无权访问"));
    browser.close().await.unwrap();
}

//! The real Chromium both browser tests drive: chromedriver on a free port,
//! a headless session, and the few steps every page test takes.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

pub fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    names.iter().find_map(|name| {
        std::env::split_paths(&path)
            .chain([
                PathBuf::from("/usr/bin"),
                PathBuf::from("/usr/lib/chromium"),
            ])
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    })
}

/// Chromium and chromedriver; without them the test is skipped with a loud
/// line naming `test`, except under CI, where their absence fails it.
pub fn chromium_or_skip(test: &str) -> Option<(PathBuf, PathBuf)> {
    match (
        find_program(&["chromium", "chromium-browser"]),
        find_program(&["chromedriver"]),
    ) {
        (Some(chromium), Some(chromedriver)) => Some((chromium, chromedriver)),
        _ => {
            if std::env::var_os("CI").is_some() {
                panic!("chromium and chromedriver are needed (apt-get install chromium chromium-driver; scripts/setup.sh installs them)");
            }
            eprintln!("\n\n*** SKIPPED {test}: chromium or chromedriver missing; install them with scripts/setup.sh ***\n\n");
            None
        }
    }
}

/// chromedriver on a free port; killed when dropped.
pub struct Driver {
    child: Child,
    pub port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        // chromedriver leads its own process group: ending the group also
        // ends the chromium it started, even when the test failed midway.
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn start_driver(chromedriver: &Path) -> Driver {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(chromedriver)
        .arg(format!("--port={port}"))
        .process_group(0)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    Driver { child, port }
}

pub async fn browser(driver: &Driver, chromium: &Path) -> Client {
    let capabilities = json!({
        "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--ignore-certificate-errors", "--window-size=1366,768", "--lang=zh-CN",
                "--hide-scrollbars",
            ]
        }
    });
    let serde_json::Value::Object(capabilities) = capabilities else {
        unreachable!()
    };
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a chromium session through chromedriver")
}

pub fn screenshots_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/console");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub async fn screenshot(browser: &Client, name: &str) {
    // The font is big: wait until the page is drawn with it.
    let _ = browser
        .execute("return document.fonts.ready.then(() => true);", vec![])
        .await;
    let png = browser.screenshot().await.unwrap();
    std::fs::write(screenshots_dir().join(format!("{name}.png")), png).unwrap();
}

pub async fn text(browser: &Client) -> String {
    browser
        .find(Locator::Css("body"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Clicks the button `css` and waits until the next page has loaded (the
/// old document gone, the new one complete).
pub async fn submit(browser: &Client, css: &str) {
    let old = browser.find(Locator::Css("html")).await.unwrap();
    browser
        .find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while old.tag_name().await.is_ok() {
        assert!(
            Instant::now() < deadline,
            "no new page after clicking {css}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    while browser
        .execute("return document.readyState;", vec![])
        .await
        .ok()
        != Some(json!("complete"))
    {
        assert!(
            Instant::now() < deadline,
            "the page after {css} did not load"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub async fn fill(browser: &Client, css: &str, value: &str) {
    let field = browser.find(Locator::Css(css)).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(value).await.unwrap();
}

pub async fn log_in(browser: &Client, url: &str, (name, password): (&str, &str)) -> String {
    browser.goto(&format!("{url}/login")).await.unwrap();
    fill(browser, "input[name=username]", name).await;
    fill(browser, "input[name=password]", password).await;
    submit(browser, "form[action='/login'] button").await;
    text(browser).await
}

/// A Chrome DevTools Protocol command, sent through chromedriver's
/// `goog/cdp/execute` endpoint (WebDriver itself cannot switch media).
// Only console_browser's print test uses it; the other binary has it too.
#[allow(dead_code)]
#[derive(Debug)]
struct DevTools {
    command: &'static str,
    params: serde_json::Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for DevTools {
    fn endpoint(
        &self,
        base_url: &reqwest::Url,
        session_id: Option<&str>,
    ) -> Result<reqwest::Url, <reqwest::Url as std::str::FromStr>::Err> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &reqwest::Url) -> (axum::http::Method, Option<String>) {
        let body = json!({ "cmd": self.command, "params": self.params });
        (axum::http::Method::POST, Some(body.to_string()))
    }
}

/// Sends one DevTools command to the page (e.g. "Emulation.setEmulatedMedia").
#[allow(dead_code)]
pub async fn dev_tools(browser: &Client, command: &'static str, params: serde_json::Value) {
    browser
        .issue_cmd(DevTools { command, params })
        .await
        .unwrap_or_else(|e| panic!("{command}: {e}"));
}

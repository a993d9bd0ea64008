//! A platform with its console on loopback, demo users, and records sent
//! the way a kiosk sends them (sealed, over mutual TLS with the demo kiosk
//! certificate).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::Utc;
use county_platform::console::auth::{hash_password, Role, Username};
use county_platform::console::{self, ConsoleConfig, ConsoleState};
use county_platform::testing::{Engine, TestDb};
use county_platform::{Faults, PlatformConfig, RunningPlatform};
use kiosk_core::record::{DocumentPhoto, PhotoRef, Record};
use reqwest::header::{COOKIE, SET_COOKIE};
use reqwest::{Client, Response, StatusCode};
use trust::pki::{self, DemoPki};
use trust::seal::{self, Blobs};
use uuid::Uuid;
use wire::records::{ReviewAnswer, ReviewQuery, ReviewState};

pub const KIOSK_ID: &str = "AX-FC-01";
pub const ADMIN: (&str, &str) = ("admin", "demo-admin-2026");
pub const REVIEWER: (&str, &str) = ("reviewer", "demo-review-2026");
pub const VIEWER: (&str, &str) = ("viewer", "demo-viewer-2026");

pub struct Platform {
    pub dir: tempfile::TempDir,
    /// The platform's database on the test PostgreSQL (SQLite: `None`, the file is in `dir`).
    pub db: Option<TestDb>,
    /// The platform's `--db`: the SQLite file or the PostgreSQL URL.
    pub db_path: PathBuf,
    pub pki: DemoPki,
    pub api: RunningPlatform,
    pub console: RunningPlatform,
}

impl Platform {
    pub fn start() -> Platform {
        Platform::start_with_clock(None)
    }

    /// With the console reading `clock` instead of the system's.
    pub fn start_with_clock(clock: Option<console::Clock>) -> Platform {
        Platform::start_on(Engine::Sqlite, clock)
    }

    /// On `engine`'s database, with the console reading `clock` (if given).
    pub fn start_on(engine: Engine, clock: Option<console::Clock>) -> Platform {
        let dir = tempfile::tempdir().unwrap();
        let db = (engine == Engine::Postgres).then(|| TestDb::new(engine));
        let pki = DemoPki::generate(&dir.path().join("pki"), KIOSK_ID).unwrap();
        // SQLite as it always was: the file and its bundles in `dir`.
        let db_arg = match &db {
            None => dir.path().join("platform.sqlite3"),
            Some(db) => db.db_arg(),
        };
        let mut config = PlatformConfig::demo(&pki.dir, &db_arg, "127.0.0.1:0".parse().unwrap());
        if engine == Engine::Postgres {
            config.bundles_dir = Some(dir.path().join("config-bundles"));
        }
        let api = county_platform::start(&config, Arc::new(Faults::default())).unwrap();
        let console_config = ConsoleConfig::demo(&pki.dir, "127.0.0.1:0".parse().unwrap()).unwrap();
        let mut console_state = ConsoleState::new(api.state.clone());
        if let Some(clock) = clock {
            console_state.clock = clock;
        }
        let console = console::start(&console_config, console_state).unwrap();
        for (name, password, role) in [
            (ADMIN.0, ADMIN.1, Role::Admin),
            (REVIEWER.0, REVIEWER.1, Role::Reviewer),
            (VIEWER.0, VIEWER.1, Role::Viewer),
        ] {
            add_user(&api, name, password, role);
        }
        Platform {
            dir,
            db,
            db_path: db_arg,
            pki,
            api,
            console,
        }
    }

    /// What `--db` takes for this platform's database.
    pub fn db_arg(&self) -> String {
        self.db_path.to_str().unwrap().to_string()
    }

    pub fn console_url(&self) -> String {
        format!("https://localhost:{}", self.console.addr.port())
    }

    /// A client of the kiosks' API holding the demo kiosk certificate.
    pub fn kiosk_client(&self) -> reqwest::Client {
        self.kiosk_client_with(&self.pki.kiosk, &self.pki.kiosk_key)
    }

    /// A certificate from the demo CA for another kiosk, and a client holding it.
    pub fn other_kiosk_client(&self, kiosk_id: &str) -> reqwest::Client {
        let ca_key = std::fs::read_to_string(&self.pki.ca_key).unwrap();
        let (cert, key) = (
            self.dir.path().join(format!("{kiosk_id}.pem")),
            self.dir.path().join(format!("{kiosk_id}-key.pem")),
        );
        pki::CertificateAuthority::from_key_pem(pki::DEMO_CA_NAME, &ca_key)
            .unwrap()
            .issue_client(kiosk_id, pki::Validity::days_from_today(30))
            .unwrap()
            .write(&cert, &key)
            .unwrap();
        self.kiosk_client_with(&cert, &key)
    }

    fn kiosk_client_with(&self, cert: &Path, key: &Path) -> reqwest::Client {
        let roots = pki::root_store(&self.pki.ca).unwrap();
        let tls = rustls::ClientConfig::builder_with_provider(pki::crypto_provider())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .unwrap()
            .with_root_certificates(roots)
            .with_client_auth_cert(pki::load_certs(cert).unwrap(), pki::load_key(key).unwrap())
            .unwrap();
        reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .build()
            .unwrap()
    }

    /// A client of the console that trusts the demo CA and sends no client certificate.
    pub fn console_client(&self) -> reqwest::Client {
        let roots = pki::root_store(&self.pki.ca).unwrap();
        let tls = rustls::ClientConfig::builder_with_provider(pki::crypto_provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    /// Seals `record` with `blobs` and sends it as the kiosk does; returns the HTTP status.
    pub async fn send(&self, record: &Record, blobs: &Blobs, record_number: &str) -> u16 {
        self.send_from(&self.kiosk_client(), record, blobs, record_number)
            .await
    }

    /// As [`Platform::send`], from the kiosk `kiosk` holds the certificate of.
    pub async fn send_from(
        &self,
        kiosk: &reqwest::Client,
        record: &Record,
        blobs: &Blobs,
        record_number: &str,
    ) -> u16 {
        let recipient = seal::parse_recipient(
            &std::fs::read_to_string(&self.pki.platform_age_recipient).unwrap(),
        )
        .unwrap();
        let sealed = seal::seal(record, blobs, &recipient).unwrap();
        let response = kiosk
            .put(format!(
                "{}/v1/records/{}",
                self.api.url().replace("127.0.0.1", "localhost"),
                record.meta.record_id
            ))
            .header(wire::RECORD_NUMBER_HEADER, record_number)
            .body(sealed)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        if status != 201 {
            eprintln!(
                "upload answered {status}: {}",
                response.text().await.unwrap()
            );
        }
        status
    }

    /// The kiosk's look-up in the base database over mutual TLS.
    pub async fn look_up(&self, id_number: &str) -> wire::records::LookUpAnswer {
        self.kiosk_client()
            .post(format!(
                "{}/v1/people/lookup",
                self.api.url().replace("127.0.0.1", "localhost")
            ))
            .json(&wire::records::LookUpQuery {
                id_number: id_number.into(),
            })
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// The kiosk's review poll over mutual TLS.
    pub async fn poll_review(&self, record_id: Uuid) -> ReviewState {
        let answer: ReviewAnswer = self
            .kiosk_client()
            .post(format!(
                "{}/v1/reviews",
                self.api.url().replace("127.0.0.1", "localhost")
            ))
            .json(&ReviewQuery {
                record_ids: vec![record_id],
            })
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        answer.reviews.into_iter().next().unwrap().review
    }
}

pub fn add_user(api: &RunningPlatform, name: &str, password: &str, role: Role) {
    let hash = hash_password(password).unwrap();
    assert!(api
        .state
        .db()
        .add_console_user(&Username::parse(name).unwrap(), role, &hash, Utc::now())
        .unwrap());
}

/// A JPEG of `width`×`height`: a coloured card with a darker block, so a
/// screenshot shows that it loaded.
pub fn jpeg(width: u32, height: u32, rgb: [u8; 3]) -> Vec<u8> {
    let picture = image::RgbImage::from_fn(width, height, |x, y| {
        let inside = x > width / 4 && x < width * 3 / 4 && y > height / 5 && y < height * 3 / 5;
        let shade = (y * 60 / height.max(1)) as u8;
        let [r, g, b] = rgb;
        if inside {
            image::Rgb([r / 2, g / 2, b / 2])
        } else {
            image::Rgb([
                r.saturating_sub(shade),
                g.saturating_sub(shade),
                b.saturating_sub(shade),
            ])
        }
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
        .encode_image(&picture)
        .unwrap();
    out
}

fn demo_record_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/demo/record-valid.json")
}

fn photo(blobs: &mut Blobs, bytes: Vec<u8>) -> PhotoRef {
    let len = bytes.len() as u64;
    PhotoRef {
        sha256: blobs.insert(bytes),
        bytes: len,
    }
}

/// The demo record under a new id, with real photos: a portrait and one
/// page per certificate it lists.
pub fn demo_record() -> (Record, Blobs) {
    let mut record: Record =
        serde_json::from_str(&std::fs::read_to_string(demo_record_path()).unwrap()).unwrap();
    record.meta.record_id = Uuid::new_v4();
    let mut blobs = Blobs::new();
    record.photos.portrait = Some(photo(&mut blobs, jpeg(360, 480, [200, 180, 160])));
    let colours = [
        [150, 190, 230],
        [230, 200, 140],
        [170, 220, 170],
        [220, 170, 200],
    ];
    record.documents = record
        .documents
        .iter()
        .enumerate()
        .map(|(i, doc)| DocumentPhoto {
            kind: doc.kind,
            photo: photo(&mut blobs, jpeg(800, 560, colours[i % colours.len()])),
            page: 1,
        })
        .collect();
    (record, blobs)
}

/// The value of cookie `name` set by `response`.
pub fn set_cookie(response: &Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            let (pair, _) = v.split_once(';')?;
            let (k, value) = pair.split_once('=')?;
            (k == name && !value.is_empty()).then(|| value.to_string())
        })
}

pub fn hidden_csrf(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    html[at..at + 64].to_string()
}

/// Logs in; returns the session cookie header value.
pub async fn log_in(
    platform: &Platform,
    client: &Client,
    (name, password): (&str, &str),
) -> String {
    let url = platform.console_url();
    let page = client.get(format!("{url}/login")).send().await.unwrap();
    let login_cookie = set_cookie(&page, "vk_login_csrf").unwrap();
    let csrf = hidden_csrf(&page.text().await.unwrap());
    let answer = client
        .post(format!("{url}/login"))
        .header(COOKIE, format!("vk_login_csrf={login_cookie}"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", name),
            ("password", password),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::SEE_OTHER, "login of {name}");
    let header = answer
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|v| v.starts_with("vk_console="))
        .unwrap();
    for flag in ["HttpOnly", "Secure", "SameSite=Strict"] {
        assert!(header.contains(flag), "{header}");
    }
    format!("vk_console={}", set_cookie(&answer, "vk_console").unwrap())
}

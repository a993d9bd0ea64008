//! `county-platform --db postgres://… serve` as an operator runs it: the
//! real binary on a real PostgreSQL, a kiosk uploading over mutual TLS, and
//! the command line reviewing what arrived.

// Tests may unwrap: a panic there is a failing test, not a kiosk crash.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use county_platform::testing::{Engine, TestDb};
use serde_json::Value;
use trust::pki::DemoPki;
use trust::seal;

/// The server process; killed (by its own pid) when the test ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn cli(dir: &std::path::Path, args: &[&str]) -> (i32, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_county-platform"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    if !out.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    }
    (
        out.status.code().unwrap_or(-1),
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_with_a_postgres_url_takes_uploads_and_the_cli_reviews_them() {
    let dir = tempfile::tempdir().unwrap();
    let pki = DemoPki::generate(&dir.path().join("pki"), support::KIOSK_ID).unwrap();
    let db = TestDb::new(Engine::Postgres);
    let url = db.db_arg().to_str().unwrap().to_string();
    let mut child = Command::new(env!("CARGO_BIN_EXE_county-platform"))
        .current_dir(dir.path())
        .args(["--db", &url, "serve", "--listen", "127.0.0.1:0", "--pki"])
        .arg(&pki.dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let started: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
    assert_eq!(started["ok"], true, "{line}");
    let listening = started["listening"].as_str().unwrap().to_string();
    // Nothing was made beside a file that is not there; the bundles have
    // their directory (the default for PostgreSQL).
    assert!(dir
        .path()
        .join("platform-data/config-bundles/bundles")
        .is_dir());
    assert!(!dir.path().join("postgresql:").exists());

    // A kiosk uploads over mutual TLS, as the kiosk's client does.
    let (record, blobs) = support::demo_record();
    let recipient =
        seal::parse_recipient(&std::fs::read_to_string(&pki.platform_age_recipient).unwrap())
            .unwrap();
    let sealed = seal::seal(&record, &blobs, &recipient).unwrap();
    let roots = trust::pki::root_store(&pki.ca).unwrap();
    let tls = rustls::ClientConfig::builder_with_provider(trust::pki::crypto_provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_root_certificates(roots)
        .with_client_auth_cert(
            trust::pki::load_certs(&pki.kiosk).unwrap(),
            trust::pki::load_key(&pki.kiosk_key).unwrap(),
        )
        .unwrap();
    let kiosk = reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .build()
        .unwrap();
    let upload = |body: Vec<u8>| {
        kiosk
            .put(format!(
                "{}/v1/records/{}",
                listening.replace("127.0.0.1", "localhost"),
                record.meta.record_id
            ))
            .header(wire::RECORD_NUMBER_HEADER, "FC-0001")
            .body(body)
            .send()
    };
    assert_eq!(upload(sealed.clone()).await.unwrap().status(), 201);
    // Idempotent by id on PostgreSQL too.
    assert_eq!(upload(sealed).await.unwrap().status(), 200);

    // The command line on the same database sees it and decides.
    let (code, out) = cli(dir.path(), &["--db", &url, "review", "list"]);
    assert_eq!(code, 0, "{out}");
    let listed = out["records"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "{out}");
    let id = record.meta.record_id.to_string();
    let (code, out) = cli(
        dir.path(),
        &[
            "--db",
            &url,
            "review",
            "accept",
            &id,
            "--pki",
            pki.dir.to_str().unwrap(),
        ],
    );
    assert_eq!(
        (code, &out["state"]),
        (0, &Value::from("accepted")),
        "{out}"
    );
    let (code, out) = cli(
        dir.path(),
        &["--db", &url, "review", "list", "--state", "accepted"],
    );
    assert_eq!(code, 0);
    assert_eq!(out["records"].as_array().unwrap().len(), 1, "{out}");
    drop(server);
}

//! The staff commands on the real binary: `pki demo`, `pki csr`, `demo records`,
//! `queue add|list|stats|show`. The platform's reviewer commands are
//! tested in crates/county-platform/tests/cli.rs.

use std::path::Path;

use serde_json::Value;

use crate::sync_support::kiosk;

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

#[test]
fn staff_queue_a_paper_record_and_see_only_the_clear_part() {
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    let records = dir.path().join("records");
    let data = dir.path().join("kiosk");
    let data = s(&data);

    let (code, out) = kiosk(&["pki", "demo", &s(&pki)]);
    assert_eq!((code, &out["ok"]), (0, &Value::Bool(true)), "{out}");
    let (code, _) = kiosk(&["pki", "demo", &s(&pki)]);
    assert_eq!(code, 2, "refuses to overwrite");

    let (code, out) = kiosk(&["demo", "records", "3", "--out", &s(&records), "--seed", "5"]);
    assert_eq!(
        (code, &out["records"], &out["combinations"]),
        (0, &Value::from(3), &Value::from(223))
    );

    let recipient = s(&pki.join("platform.agepub"));
    let first = s(&records.join("record-00001.json"));
    let (code, out) = kiosk(&[
        "queue",
        "--data-dir",
        &data,
        "add",
        &first,
        "--recipient",
        &recipient,
    ]);
    assert_eq!(code, 0, "{out}");
    let number = out["receipt"]["record_number"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(out["receipt"]["newly_queued"], Value::Bool(true));
    let (code, out) = kiosk(&[
        "queue",
        "--data-dir",
        &data,
        "add",
        &first,
        "--recipient",
        &recipient,
    ]);
    assert_eq!(
        (code, &out["receipt"]["newly_queued"]),
        (0, &Value::Bool(false))
    );

    // A record with a problem is refused with the core's problems.
    let text = std::fs::read_to_string(records.join("record-00002.json")).unwrap();
    let mut broken: Value = serde_json::from_str(&text).unwrap();
    broken["identity"]["name"] = Value::from("");
    let broken_path = records.join("broken.json");
    std::fs::write(&broken_path, broken.to_string()).unwrap();
    let (code, out) = kiosk(&[
        "queue",
        "--data-dir",
        &data,
        "add",
        &s(&broken_path),
        "--recipient",
        &recipient,
    ]);
    assert_eq!(code, 1);
    assert!(
        out["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["field"] == "identity.name"),
        "{out}"
    );

    let (code, out) = kiosk(&["queue", "--data-dir", &data, "list"]);
    assert_eq!(code, 0);
    let list = out["records"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["state"], "signed");
    assert_eq!(list[0]["state_zh"], "已签字待上传");
    let listed = list[0].to_string();
    let original: Value = serde_json::from_str(&std::fs::read_to_string(&first).unwrap()).unwrap();
    for field in ["name", "id_number", "address"] {
        let secret = original["identity"][field].as_str().unwrap();
        assert!(!listed.contains(secret), "{field} shown in the queue list");
    }

    let (code, out) = kiosk(&["queue", "--data-dir", &data, "show", &number.to_lowercase()]);
    assert_eq!(
        (code, &out["record"]["record_number"]),
        (0, &Value::from(number.clone()))
    );
    let (code, _) = kiosk(&["queue", "--data-dir", &data, "show", "0000-0000-0000"]);
    assert_eq!(code, 1);
    let (code, out) = kiosk(&["queue", "--data-dir", &data, "stats"]);
    assert_eq!(
        (code, &out["stats"]["by_state"]["signed"]),
        (0, &Value::from(1))
    );
}

/// `pki csr`: the kiosk's own key (owner-only) and a request the county CA
/// signs into a certificate for that key; nothing is overwritten.
#[test]
fn a_kiosk_makes_its_own_key_and_a_request_the_county_ca_signs() {
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    let (code, _) = kiosk(&["pki", "demo", &s(&pki)]);
    assert_eq!(code, 0);
    let key = dir.path().join("kiosk-key.pem");
    let request = dir.path().join("kiosk.csr");
    let args = [
        "pki",
        "csr",
        "--kiosk-id",
        "AX-FC-07",
        "--key-out",
        &s(&key),
        "--out",
        &s(&request),
    ];
    let (code, out) = kiosk(&args);
    assert_eq!(
        (code, &out["kiosk_id"]),
        (0, &Value::from("AX-FC-07")),
        "{out}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the kiosk's key is readable by others");
    }
    let parsed =
        trust::pki::CertificateRequest::parse_pem(&std::fs::read_to_string(&request).unwrap())
            .unwrap();
    assert_eq!(parsed.common_name, "AX-FC-07");
    let ca = trust::pki::CertificateAuthority::from_ca_files(
        &pki.join("ca.pem"),
        &pki.join("ca-key.pem"),
    )
    .unwrap();
    let cert = ca
        .sign_request(&parsed, trust::pki::Validity::days_from_today(30))
        .unwrap();
    let cert_path = dir.path().join("kiosk.pem");
    std::fs::write(&cert_path, cert).unwrap();
    // The certificate and the kiosk's key make a working client identity.
    rustls::ClientConfig::builder_with_provider(trust::pki::crypto_provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_root_certificates(trust::pki::root_store(&pki.join("ca.pem")).unwrap())
        .with_client_auth_cert(
            trust::pki::load_certs(&cert_path).unwrap(),
            trust::pki::load_key(&key).unwrap(),
        )
        .unwrap();
    // Run again: nothing is overwritten.
    let (code, out) = kiosk(&args);
    assert_eq!(code, 2, "{out}");
    let (code, _) = kiosk(&[
        "pki",
        "csr",
        "--kiosk-id",
        "bad id",
        "--key-out",
        "x",
        "--out",
        "y",
    ]);
    assert_eq!(code, 2);
}

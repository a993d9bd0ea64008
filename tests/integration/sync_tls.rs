//! Mutual TLS on loopback: the platform refuses a kiosk with no client
//! certificate, one from another CA, or an expired one; the kiosk refuses a
//! platform whose certificate another CA issued. A county certificate names
//! one kiosk: a record that claims another kiosk is refused. The county
//! hears the backlog the uploader reports, and refuses a revoked kiosk.

use crate::sync_support;

use std::sync::Arc;

use county_platform::{self as platform, Faults, PlatformConfig};
use sync_support::{demo_records, enqueue_all, World};
use trust::pki;
use veteran_kiosk::sync::client::{ClientIdentity, PlatformClient};
use veteran_kiosk::sync::core::UploadOutcome;

#[test]
fn the_county_kiosk_certificate_is_accepted() {
    let world = World::new();
    let client = world.client();
    assert_eq!(client.health(), Ok(()));
    let mut store = world.store();
    let records = demo_records(1, 1);
    enqueue_all(&mut store, &records, &world.recipient());
    let upload = store.sealed(records[0].0.meta.record_id).unwrap().unwrap();
    assert_eq!(client.upload(&upload), UploadOutcome::Stored);
    assert_eq!(client.upload(&upload), UploadOutcome::AlreadyStored);
    assert_eq!(world.platform_records().len(), 1);
}

#[test]
fn a_record_claiming_another_kiosk_than_the_certificate_is_refused() {
    let world = World::new();
    // A genuine county certificate, but for the neighbouring kiosk.
    let ca_key = std::fs::read_to_string(&world.pki.ca_key).unwrap();
    let county = pki::CertificateAuthority::from_key_pem(pki::DEMO_CA_NAME, &ca_key).unwrap();
    let neighbour = world.dir.path().join("neighbour.pem");
    let neighbour_key = world.dir.path().join("neighbour-key.pem");
    county
        .issue_client("AX-FC-02", pki::Validity::days_from_today(30))
        .unwrap()
        .write(&neighbour, &neighbour_key)
        .unwrap();
    assert_eq!(
        pki::common_name(&pki::load_certs(&neighbour).unwrap()[0]).as_deref(),
        Some("AX-FC-02")
    );
    let mut settings = world.settings(&world.platform.url());
    settings.identity =
        ClientIdentity::from_files(&world.pki.ca, &neighbour, &neighbour_key).unwrap();
    let neighbour_client = PlatformClient::new(&settings).unwrap();
    assert_eq!(neighbour_client.health(), Ok(()));

    let mut store = world.store();
    let records = demo_records(2, 3);
    enqueue_all(&mut store, &records, &world.recipient());
    // The records say kiosk AX-FC-01; this certificate is AX-FC-02's.
    let claimed = store.sealed(records[0].0.meta.record_id).unwrap().unwrap();
    let UploadOutcome::Rejected(reasons) = neighbour_client.upload(&claimed) else {
        panic!("a record of another kiosk was taken");
    };
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    assert_eq!(reasons[0].code, "kiosk_certificate_mismatch");
    assert!(
        reasons[0].message.contains("证书"),
        "{}",
        reasons[0].message
    );
    // Kept for the county to see, under the kiosk that really sent it.
    let held = world.platform_records();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].state, "rejected");
    assert_eq!(held[0].kiosk_id, "AX-FC-02");

    // The kiosk the records name gets its other record through.
    let own = store.sealed(records[1].0.meta.record_id).unwrap().unwrap();
    assert_eq!(world.client().upload(&own), UploadOutcome::Stored);
}

/// A request with this TLS client configuration, and what became of it.
fn try_with(world: &World, tls: rustls::ClientConfig) -> UploadOutcome {
    let http = reqwest::blocking::Client::builder()
        .use_preconfigured_tls(tls)
        .timeout(std::time::Duration::from_secs(5))
        .build()
        .unwrap();
    match http
        .get(format!("{}/v1/health", world.platform.url()))
        .send()
    {
        Ok(response) => panic!("the platform answered {}", response.status()),
        Err(e) => veteran_kiosk::sync::client::transport_outcome(&e),
    }
}

/// The kiosk's TLS (1.3, county CA only) with this client certificate, or none.
fn client_config(
    world: &World,
    cert: Option<(&std::path::Path, &std::path::Path)>,
) -> rustls::ClientConfig {
    let builder = rustls::ClientConfig::builder_with_provider(pki::crypto_provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_root_certificates(pki::root_store(&world.pki.ca).unwrap());
    match cert {
        None => builder.with_no_client_auth(),
        Some((cert, key)) => builder
            .with_client_auth_cert(pki::load_certs(cert).unwrap(), pki::load_key(key).unwrap())
            .unwrap(),
    }
}

#[test]
fn no_client_certificate_is_refused() {
    let world = World::new();
    assert_eq!(
        try_with(&world, client_config(&world, None)),
        UploadOutcome::Tls
    );
}

#[test]
fn a_client_certificate_from_another_ca_is_refused() {
    let world = World::new();
    let tls = client_config(
        &world,
        Some((&world.pki.other_kiosk, &world.pki.other_kiosk_key)),
    );
    assert_eq!(try_with(&world, tls), UploadOutcome::Tls);
}

#[test]
fn an_expired_client_certificate_is_refused() {
    let world = World::new();
    let tls = client_config(
        &world,
        Some((&world.pki.kiosk_expired, &world.pki.kiosk_expired_key)),
    );
    assert_eq!(try_with(&world, tls), UploadOutcome::Tls);
    // The same kiosk with its current certificate gets through.
    let tls = client_config(&world, Some((&world.pki.kiosk, &world.pki.kiosk_key)));
    let http = reqwest::blocking::Client::builder()
        .use_preconfigured_tls(tls)
        .build()
        .unwrap();
    assert!(http
        .get(format!("{}/v1/health", world.platform.url()))
        .send()
        .unwrap()
        .status()
        .is_success());
}

#[test]
fn a_platform_certificate_from_another_ca_is_refused_by_the_kiosk() {
    let world = World::new();
    let mut config = PlatformConfig::demo(
        &world.pki.dir,
        &world.dir.path().join("impostor.sqlite3"),
        "127.0.0.1:0".parse().unwrap(),
    );
    config.server_cert = world.pki.other_server.clone();
    config.server_key = world.pki.other_server_key.clone();
    let impostor = platform::start(&config, Arc::new(Faults::default())).unwrap();

    let client = PlatformClient::new(&world.settings(&impostor.url())).unwrap();
    assert_eq!(client.health(), Err(UploadOutcome::Tls));
    let mut store = world.store();
    let records = demo_records(1, 2);
    enqueue_all(&mut store, &records, &world.recipient());
    let upload = store.sealed(records[0].0.meta.record_id).unwrap().unwrap();
    assert_eq!(client.upload(&upload), UploadOutcome::Tls);
    assert!(impostor.state.db().list(None).unwrap().is_empty());
}

#[test]
fn the_county_hears_the_backlog_and_refuses_a_revoked_kiosk_at_once() {
    let world = World::new();
    let client = world.client();
    let mut store = world.store();
    let records = demo_records(2, 3);
    enqueue_all(&mut store, &records, &world.recipient());
    client.set_backlog(store.pending().unwrap().len());
    let first = store.sealed(records[0].0.meta.record_id).unwrap().unwrap();
    assert_eq!(client.upload(&first), UploadOutcome::Stored);
    let registry = world.platform.state.db().kiosk_registry().unwrap();
    assert_eq!(registry.len(), 1);
    assert_eq!(registry[0].kiosk_id, "AX-FC-01");
    assert_eq!(registry[0].backlog, Some(2));
    {
        let mut db = world.platform.state.db();
        assert!(db
            .revoke_kiosk("AX-FC-01", "admin", "终端被盗", chrono::Utc::now())
            .unwrap());
        world.platform.state.kiosks.reload(&db).unwrap();
    }
    // The same client (its connection kept alive) is refused from the next
    // request on; the record stays in the outbox.
    let second = store.sealed(records[1].0.meta.record_id).unwrap().unwrap();
    assert_eq!(client.upload(&second), UploadOutcome::UnexpectedStatus(403));
    assert_eq!(world.platform_records().len(), 1);
}

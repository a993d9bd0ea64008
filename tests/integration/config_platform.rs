//! End to end over mutual TLS on loopback: an administrator pushes signed
//! bundles to the real county platform; a running kiosk polls, takes a hot
//! change at once, takes a new certificate with a restart, finds the
//! platform refusing it, rolls back, and the platform shows per kiosk which
//! version is in force.

use crate::config_support;

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{DateTime, Duration, Utc};
use veteran_kiosk::config::apply::{ConfigEvent, ConfigStore};
use veteran_kiosk::config::http::HttpConfigTransport;
use veteran_kiosk::config::poll::{check_start, PollOutcome, Poller, StartCheck};
use veteran_kiosk::config::Config;
use veteran_kiosk::sync::client::ClientSettings;

use config_support::*;

impl World {
    /// The shipped configuration, pointed at this platform and its PKI.
    fn kiosk_config(&self, name: &str, cert: &Path, key: &Path) -> PathBuf {
        variant(&self.dir, name, |d| self.point_at_platform(d, cert, key))
    }

    fn admin_transport(&self) -> HttpConfigTransport {
        HttpConfigTransport::new(
            &ClientSettings::demo(&self.pki.dir, &self.platform.url()).unwrap(),
        )
        .unwrap()
    }

    fn push(&self, dir: &Path, version: u64, target: &str) -> Result<u64, String> {
        self.admin_transport()
            .push(&sign_dir(dir, version, target, &admin()))
            .map(|p| p.version)
            .map_err(|e| e.code())
    }
}

/// A kiosk process: its store, its configuration, its poller.
struct Kiosk {
    root: PathBuf,
    factory: PathBuf,
    store: ConfigStore,
    config: Config,
    transport: HttpConfigTransport,
    poller: Poller,
    now: DateTime<Utc>,
}

impl Kiosk {
    fn start(root: &Path, factory: &Path) -> (Kiosk, StartCheck) {
        let mut store = ConfigStore::open(root, factory).unwrap();
        let config = store.begin_start().unwrap().config;
        let mut transport = HttpConfigTransport::for_kiosk(&config).unwrap();
        // Devices would be opened here; then the platform is asked.
        let check = check_start(&mut store, &mut transport, &config);
        let now = DateTime::from_timestamp(1_750_000_000, 0).unwrap();
        let kiosk = Kiosk {
            root: root.to_path_buf(),
            factory: factory.to_path_buf(),
            store,
            config,
            transport,
            poller: Poller::new(now, 1),
            now,
        };
        (kiosk, check)
    }

    fn restart(self) -> (Kiosk, StartCheck) {
        let (root, factory) = (self.root.clone(), self.factory.clone());
        drop(self);
        Kiosk::start(&root, &factory)
    }

    /// Let virtual time pass until the next poll, and poll.
    fn poll(&mut self) -> PollOutcome {
        self.now = self.now.max(self.poller.next_at());
        let outcome = self
            .poller
            .tick(self.now, &mut self.store, &mut self.transport, &self.config)
            .unwrap();
        if let PollOutcome::Applied {
            config,
            restart_needed: false,
            ..
        } = &outcome
        {
            self.config = (**config).clone();
        }
        self.now += Duration::seconds(1);
        outcome
    }
}

fn kiosk_row(world: &World) -> serde_json::Value {
    let output = Command::new(env!("CARGO_BIN_EXE_veteran-kiosk"))
        .args([
            "config",
            "status",
            "--platform",
            &world.platform.url(),
            "--pki",
        ])
        .arg(&world.pki.dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let kiosks = json["kiosks"].as_array().unwrap();
    assert_eq!(kiosks.len(), 1, "{json}");
    kiosks[0]["report"].clone()
}

#[test]
fn pushed_bundles_reach_a_running_kiosk_and_a_refused_certificate_rolls_back() {
    let world = World::new();
    let factory = world.kiosk_config("factory", &world.pki.kiosk, &world.pki.kiosk_key);
    let root = world.dir.join("kiosk-store");
    let (mut kiosk, check) = Kiosk::start(&root, &factory);
    assert!(matches!(check, StartCheck::Confirmed), "{check:?}");
    assert!(matches!(kiosk.poll(), PollOutcome::NothingNew));
    assert_eq!(kiosk_row(&world)["status"]["version"], 0);

    // 1. A hot change, pushed with the CLI: in force at the next poll.
    let v1 = world.kiosk_config("v1", &world.pki.kiosk, &world.pki.kiosk_key);
    edit(
        &v1,
        &format!("campaign_title = \"{SHIPPED_TITLE}\""),
        "campaign_title = \"冬季集中采集\"",
    );
    let bundle = world.dir.join("v1.bundle");
    std::fs::write(&bundle, sign_dir(&v1, 1, "township:350524100", &admin())).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_veteran-kiosk"))
        .args(["config", "push"])
        .arg(&bundle)
        .args(["--platform", &world.platform.url(), "--pki"])
        .arg(&world.pki.dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    match kiosk.poll() {
        PollOutcome::Applied {
            restart_needed,
            installed,
            ..
        } => {
            assert!(!restart_needed);
            assert_eq!(installed.version, 1);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(kiosk.config.texts.campaign_title, "冬季集中采集");
    let row = kiosk_row(&world);
    assert_eq!(row["status"]["version"], 1);
    assert_eq!(row["status"]["last_event"]["event"], "confirmed");

    // The platform takes each version once, and only from the administrators.
    assert_eq!(
        world.push(&v1, 1, "all"),
        Err("bundle_version_exists".into())
    );
    let forged = world
        .admin_transport()
        .push(&sign_dir(&v1, 7, "all", &stranger()))
        .unwrap_err();
    assert_eq!(forged.code(), "bundle_unknown_signer");

    // 2. A new certificate from a CA the platform does not trust: a
    // restart is needed, the platform refuses it, the kiosk rolls back.
    let v2 = world.kiosk_config("v2", &world.pki.other_kiosk, &world.pki.other_kiosk_key);
    edit(
        &v2,
        &format!("campaign_title = \"{SHIPPED_TITLE}\""),
        "campaign_title = \"冬季集中采集\"",
    );
    assert_eq!(world.push(&v2, 2, "kiosk:demo-kiosk-01"), Ok(2));
    match kiosk.poll() {
        PollOutcome::Applied { restart_needed, .. } => assert!(restart_needed),
        other => panic!("{other:?}"),
    }
    let (kiosk, check) = kiosk.restart();
    match check {
        StartCheck::RolledBack { reason } => assert!(reason.contains("TLS"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(kiosk.store.in_force().version, 1);
    let (mut kiosk, check) = kiosk.restart();
    assert!(matches!(check, StartCheck::Confirmed), "{check:?}");
    assert_eq!(kiosk.config.texts.campaign_title, "冬季集中采集");
    let row = kiosk_row(&world);
    assert_eq!(row["status"]["version"], 1);
    assert_eq!(row["status"]["last_event"]["event"], "rolled_back");
    assert_eq!(row["status"]["last_event"]["failed_version"], 2);

    // Version 2 is not fetched again; a fixed version 3 is taken.
    assert!(matches!(kiosk.poll(), PollOutcome::NothingNew));
    let v3 = world.kiosk_config("v3", &world.pki.kiosk, &world.pki.kiosk_key);
    edit(
        &v3,
        &format!("campaign_title = \"{SHIPPED_TITLE}\""),
        "campaign_title = \"春季集中采集\"",
    );
    assert_eq!(world.push(&v3, 3, "all"), Ok(3));
    assert!(matches!(kiosk.poll(), PollOutcome::Applied { .. }));
    assert_eq!(kiosk.config.texts.campaign_title, "春季集中采集");
    assert!(matches!(
        kiosk.store.report().last_event,
        ConfigEvent::Confirmed { version: 3, .. }
    ));
    assert_eq!(kiosk_row(&world)["status"]["version"], 3);
}

#[test]
fn a_kiosk_can_neither_read_nor_report_for_another_kiosk() {
    use kiosk_core::kiosk::KioskId;
    use veteran_kiosk::config::apply::StatusReport;
    use veteran_kiosk::config::poll::ConfigTransport;
    use wire::config::KioskConfigReport;

    let world = World::new();
    let factory = world.kiosk_config("factory", &world.pki.kiosk, &world.pki.kiosk_key);
    let own = Config::load(&factory).unwrap().kiosk;
    let mut neighbour = own.clone();
    neighbour.id = KioskId::parse("demo-kiosk-02").unwrap();
    // This transport holds demo-kiosk-01's certificate.
    let mut transport = world.admin_transport();

    // Its bundles hold the staff PIN hash: not for other kiosks' eyes.
    let err = transport.fetch_newest(&neighbour, 0).unwrap_err();
    assert_eq!(err.code, "http_403", "{err}");
    assert_eq!(transport.fetch_newest(&own, 0).unwrap(), None);

    let report = |kiosk| {
        KioskConfigReport::new(
            kiosk,
            StatusReport {
                version: 0,
                sha256: "0".repeat(64),
                on_trial: false,
                last_event: ConfigEvent::Installed {
                    version: 0,
                    sha256: "0".repeat(64),
                },
            },
        )
    };
    let err = transport.send_report(&report(&neighbour)).unwrap_err();
    assert_eq!(err.code, "http_403", "{err}");
    transport.send_report(&report(&own)).unwrap();
    assert_eq!(kiosk_row(&world)["kiosk_id"], "demo-kiosk-01");
}

//! Bundles reaching a kiosk's store: what is refused (and that the old
//! configuration then stays in force), what is taken, hot or with a
//! restart, and the rollback of a configuration that fails at start.

use crate::config_support;

use std::path::{Path, PathBuf};

use base64::Engine as _;
use expect_test::expect;
use trust::bundle::Bundle;
use veteran_kiosk::config::apply::{ConfigEvent, ConfigStore, MAX_START_ATTEMPTS};
use veteran_kiosk::config::poll::{
    check_start, ConfigTransport, PollOutcome, Poller, StartCheck, TransportError,
};
use veteran_kiosk::config::Config;
use wire::config::KioskConfigReport;

use config_support::*;

struct Kiosk {
    _tmp: tempfile::TempDir,
    tmp: PathBuf,
    root: PathBuf,
    factory: PathBuf,
    store: ConfigStore,
    config: Config,
}

impl Kiosk {
    /// A kiosk started on its shipped configuration.
    fn new() -> Kiosk {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().to_path_buf();
        let factory = factory_copy(&path, "factory");
        let root = path.join("store");
        let mut store = ConfigStore::open(&root, &factory).unwrap();
        let start = store.begin_start().unwrap();
        assert!(!start.on_trial);
        Kiosk {
            _tmp: tmp,
            tmp: path,
            root,
            factory,
            store,
            config: start.config,
        }
    }

    /// Stop and start again, as the kiosk process would.
    fn restart(&mut self) -> veteran_kiosk::config::apply::Start {
        self.store = ConfigStore::open(&self.root, &self.factory).unwrap();
        let start = self.store.begin_start().unwrap();
        self.config = start.config.clone();
        start
    }

    fn title_in_force(&self) -> String {
        self.store.load().unwrap().texts.campaign_title
    }
}

/// Flip one base64 character of the first file's data in a bundle's JSON.
fn tamper_with_data(bytes: &[u8]) -> Vec<u8> {
    let mut json: serde_json::Value = serde_json::from_slice(bytes).unwrap();
    let data = json["files"][0]["data"].as_str().unwrap();
    let mut raw = base64::engine::general_purpose::STANDARD
        .decode(data)
        .unwrap();
    raw[10] ^= 0x01;
    json["files"][0]["data"] = base64::engine::general_purpose::STANDARD.encode(raw).into();
    serde_json::to_vec(&json).unwrap()
}

fn with_json(bytes: &[u8], change: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let mut json: serde_json::Value = serde_json::from_slice(bytes).unwrap();
    change(&mut json);
    serde_json::to_vec(&json).unwrap()
}

#[test]
fn bad_bundles_are_refused_and_the_old_configuration_stays() {
    let mut kiosk = Kiosk::new();
    let tmp = kiosk.tmp.clone();
    // Bring the kiosk to version 5 first, so older versions exist.
    let v5 = with_title(&tmp, "v5", "第五版");
    kiosk
        .store
        .accept(&sign_dir(&v5, 5, "all", &admin()), &kiosk.config)
        .unwrap();
    kiosk.store.confirm_started().unwrap();
    kiosk.config = kiosk.store.load().unwrap();
    let before = (kiosk.store.in_force().clone(), kiosk.store.load().unwrap());

    let newer = with_title(&tmp, "newer", "第六版");
    let good = |version: u64, target: &str| sign_dir(&newer, version, target, &admin());
    let broken = variant(&tmp, "broken", |d| {
        edit(d, "wipe_warning_seconds = 30", "wipe_warning_seconds = 3")
    });
    let renamed = variant(&tmp, "renamed", |d| {
        edit(d, "id = \"demo-kiosk-01\"", "id = \"demo-kiosk-02\"")
    });
    let forged_signer = with_json(&sign_dir(&newer, 6, "all", &stranger()), |json| {
        json["signer"] = admin().public_key().to_string().into();
    });
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("unknown key", sign_dir(&newer, 6, "all", &stranger())),
        ("stranger claims a pinned key", forged_signer),
        (
            "file tampered after signing",
            tamper_with_data(&good(6, "all")),
        ),
        (
            "version raised after signing",
            with_json(&good(6, "all"), |j| j["version"] = 60.into()),
        ),
        (
            "target widened after signing",
            with_json(&good(6, "kiosk:other-kiosk"), |j| {
                j["target"] = "all".into()
            }),
        ),
        ("older version", good(4, "all")),
        ("equal version", good(5, "all")),
        ("for another kiosk", good(6, "kiosk:other-kiosk")),
        ("for another township", good(6, "township:350524101")),
        ("invalid content", sign_dir(&broken, 6, "all", &admin())),
        ("renames the kiosk", sign_dir(&renamed, 7, "all", &admin())),
        ("not a bundle", b"{\"hello\": 1}".to_vec()),
        ("garbage", vec![0xff, 0x00, 0x13]),
        (
            "version zero",
            with_json(&good(6, "all"), |j| j["version"] = 0.into()),
        ),
    ];
    let mut seen = String::new();
    for (name, bytes) in cases {
        let refusal = kiosk.store.accept(&bytes, &kiosk.config).unwrap_err();
        seen.push_str(&format!("{name}: {} | {refusal}\n", refusal.code()));
        assert_eq!(kiosk.store.in_force(), &before.0, "{name}");
        assert_eq!(kiosk.store.load().unwrap(), before.1, "{name}");
        assert!(!kiosk.store.on_trial(), "{name}");
        // A refusal is reported to the platform.
        let report = kiosk.store.pending_report().unwrap();
        assert!(
            matches!(report.last_event, ConfigEvent::Refused { .. }),
            "{name}"
        );
        assert_eq!(report.version, 5);
    }
    let shown = seen.replace(&admin().public_key().to_string(), "<admin>");
    let shown = shown.replace(&stranger().public_key().to_string(), "<stranger>");
    let shown = shown.replace(&tmp.display().to_string(), "<tmp>");
    expect![[r#"
        unknown key: bundle_unknown_signer | signed by <stranger>, which is not a pinned administrator key
        stranger claims a pinned key: bundle_bad_signature | the signature does not match the content: the bundle was altered after signing
        file tampered after signing: bundle_bad_signature | the signature does not match the content: the bundle was altered after signing
        version raised after signing: bundle_bad_signature | the signature does not match the content: the bundle was altered after signing
        target widened after signing: bundle_bad_signature | the signature does not match the content: the bundle was altered after signing
        older version: bundle_not_newer | version 4 is not newer than version 5 in force
        equal version: bundle_not_newer | version 5 is not newer than version 5 in force
        for another kiosk: bundle_not_for_this_kiosk | the bundle is for kiosk:other-kiosk, not for this kiosk
        for another township: bundle_not_for_this_kiosk | the bundle is for township:350524101, not for this kiosk
        invalid content: bundle_invalid_content | the configuration in the bundle does not load: kiosk.toml:81:24: session.wipe_warning_seconds: 3 seconds is not between 20 and 300
        renames the kiosk: bundle_invalid_content | the configuration in the bundle does not load: kiosk.toml:40:15: tls.certificate: the certificate is issued to "demo-kiosk-01", but this kiosk is "demo-kiosk-02": the platform would refuse its records
        not a bundle: bundle_malformed | not a configuration bundle: unknown field `hello`, expected one of `format`, `version`, `target`, `signer`, `signature`, `files` at line 1 column 8
        garbage: bundle_malformed | not a configuration bundle: expected value at line 1 column 1
        version zero: bundle_version_zero | version 0 is the configuration a kiosk ships with; bundles start at 1
    "#]]
    .assert_eq(&shown);

    // The broken version 6 is never taken again, even when signed anew.
    let refusal = kiosk
        .store
        .accept(&good(6, "all"), &kiosk.config)
        .unwrap_err();
    assert_eq!(refusal.code(), "bundle_already_tried");
    // A newer good one is.
    let accepted = kiosk
        .store
        .accept(&good(8, "township:350524100"), &kiosk.config)
        .unwrap();
    assert_eq!(accepted.installed.version, 8);
    assert!(!accepted.restart_needed);
    assert_eq!(accepted.config.texts.campaign_title, "第六版");
}

#[test]
fn a_hot_change_is_in_force_at_once_and_survives_a_restart() {
    let mut kiosk = Kiosk::new();
    let dir = with_title(&kiosk.tmp, "v1", "新的活动");
    let accepted = kiosk
        .store
        .accept(
            &sign_dir(&dir, 1, "kiosk:demo-kiosk-01", &admin()),
            &kiosk.config,
        )
        .unwrap();
    assert!(!accepted.restart_needed);
    kiosk.store.confirm_started().unwrap();
    assert_eq!(kiosk.title_in_force(), "新的活动");
    assert_eq!(kiosk.store.last_known_good().version, 1);
    let start = kiosk.restart();
    assert!(!start.on_trial);
    assert_eq!(start.installed.version, 1);
    assert_eq!(kiosk.config.texts.campaign_title, "新的活动");
    kiosk.store.verify_installed(&start.installed).unwrap();
}

fn device_change(parent: &Path, name: &str) -> PathBuf {
    variant(parent, name, |d| {
        edit(
            d,
            "dir = \"assets/demo/printed\"",
            "dir = \"/var/spool/receipts\"",
        );
        edit(d, "campaign_title = \"", "campaign_title = \"设备更换后 ");
    })
}

#[test]
fn a_configuration_that_fails_at_start_rolls_back() {
    let mut kiosk = Kiosk::new();
    let v1 = with_title(&kiosk.tmp, "v1", "第一版");
    kiosk
        .store
        .accept(&sign_dir(&v1, 1, "all", &admin()), &kiosk.config)
        .unwrap();
    kiosk.store.confirm_started().unwrap();
    kiosk.config = kiosk.store.load().unwrap();

    let v2 = device_change(&kiosk.tmp, "v2");
    let accepted = kiosk
        .store
        .accept(&sign_dir(&v2, 2, "all", &admin()), &kiosk.config)
        .unwrap();
    assert!(accepted.restart_needed, "a device changed");

    // The orderly restart: the new configuration is on trial...
    let start = kiosk.restart();
    assert!(start.on_trial);
    assert_eq!(start.installed.version, 2);
    // ...the printer cannot be opened: back to version 1.
    let back = kiosk
        .store
        .report_start_failure("printer: /var/spool/receipts: no such directory")
        .unwrap();
    assert_eq!(back.version, 1);
    let start = kiosk.restart();
    assert!(!start.on_trial);
    assert_eq!(start.installed.version, 1);
    assert_eq!(kiosk.config.texts.campaign_title, "第一版");
    let report = kiosk.store.pending_report().unwrap();
    expect![[r#"
        RolledBack {
            failed_version: 2,
            failed_sha256: "<sha>",
            reason: "printer: /var/spool/receipts: no such directory",
        }
    "#]]
    .assert_debug_eq(&mask_sha(report.last_event));
    // Version 2 is not taken again; the kiosk asks for newer than 2.
    assert_eq!(kiosk.store.highest_tried(), 2);
    let again = kiosk
        .store
        .accept(&sign_dir(&v2, 2, "all", &admin()), &kiosk.config)
        .unwrap_err();
    assert_eq!(again.code(), "bundle_already_tried");
    // Nothing to roll back once the last-known-good is in force.
    assert!(kiosk.store.report_start_failure("again").is_err());
}

fn mask_sha(event: ConfigEvent) -> ConfigEvent {
    match event {
        ConfigEvent::RolledBack {
            failed_version,
            reason,
            ..
        } => ConfigEvent::RolledBack {
            failed_version,
            failed_sha256: "<sha>".into(),
            reason,
        },
        other => other,
    }
}

#[test]
fn a_configuration_that_keeps_crashing_the_kiosk_rolls_back() {
    let mut kiosk = Kiosk::new();
    let v1 = device_change(&kiosk.tmp, "v1");
    kiosk
        .store
        .accept(&sign_dir(&v1, 1, "all", &admin()), &kiosk.config)
        .unwrap();
    for _ in 0..MAX_START_ATTEMPTS {
        let start = kiosk.restart();
        assert!(start.on_trial);
        assert!(start.rolled_back.is_none());
        // ...and the kiosk dies before confirming.
    }
    let start = kiosk.restart();
    assert!(!start.on_trial);
    assert_eq!(start.installed.version, 0);
    assert!(start.rolled_back.unwrap().contains("did not confirm"));
}

#[test]
fn a_damaged_configuration_on_trial_rolls_back_at_start() {
    let mut kiosk = Kiosk::new();
    let v1 = device_change(&kiosk.tmp, "v1");
    let accepted = kiosk
        .store
        .accept(&sign_dir(&v1, 1, "all", &admin()), &kiosk.config)
        .unwrap();
    // Somebody edits the kept files by hand: they are no longer what was signed.
    let dir = kiosk.root.join("versions").join(&accepted.installed.dir);
    edit(
        &dir,
        "idle_warning_seconds = 90",
        "idle_warning_seconds = 91",
    );
    let start = kiosk.restart();
    assert_eq!(start.installed.version, 0);
    let reason = start.rolled_back.unwrap();
    assert!(reason.contains("is damaged: content hash"), "{reason}");

    // The same on the last-known-good: the kiosk does not start on it.
    let dir = kiosk.root.join("versions").join(&start.installed.dir);
    edit(
        &dir,
        "idle_warning_seconds = 90",
        "idle_warning_seconds = 91",
    );
    kiosk.store = ConfigStore::open(&kiosk.root, &kiosk.factory).unwrap();
    let err = kiosk.store.begin_start().unwrap_err();
    assert_eq!(err.code(), "config_store_damaged");
}

#[test]
fn confirming_makes_the_new_configuration_the_last_known_good() {
    let mut kiosk = Kiosk::new();
    let v1 = device_change(&kiosk.tmp, "v1");
    kiosk
        .store
        .accept(&sign_dir(&v1, 1, "all", &admin()), &kiosk.config)
        .unwrap();
    assert_eq!(kiosk.store.last_known_good().version, 0);
    let start = kiosk.restart();
    assert!(start.on_trial);
    kiosk.store.confirm_started().unwrap();
    assert_eq!(kiosk.store.last_known_good().version, 1);
    assert!(kiosk.store.report_start_failure("late").is_err());
    // Only the configurations in force and last-known-good are kept.
    let kept = std::fs::read_dir(kiosk.root.join("versions"))
        .unwrap()
        .count();
    assert_eq!(kept, 1);
}

#[test]
fn reports_are_delivered_once_and_newer_ones_stay_pending() {
    let mut kiosk = Kiosk::new();
    let first = kiosk.store.pending_report().unwrap();
    assert!(matches!(
        first.last_event,
        ConfigEvent::Installed { version: 0, .. }
    ));
    kiosk.store.report_delivered(&first).unwrap();
    assert!(kiosk.store.pending_report().is_none());
    // The same refusal twice is reported once.
    let stranger_bundle = sign_dir(&kiosk.factory, 3, "all", &stranger());
    kiosk
        .store
        .accept(&stranger_bundle, &kiosk.config)
        .unwrap_err();
    let refused = kiosk.store.pending_report().unwrap();
    kiosk.store.report_delivered(&refused).unwrap();
    kiosk
        .store
        .accept(&stranger_bundle, &kiosk.config)
        .unwrap_err();
    assert!(kiosk.store.pending_report().is_none());
    // An acknowledgement of an older report does not hide a newer one.
    let v1 = with_title(&kiosk.tmp, "v1", "一");
    kiosk
        .store
        .accept(&sign_dir(&v1, 1, "all", &admin()), &kiosk.config)
        .unwrap();
    kiosk.store.report_delivered(&refused).unwrap();
    assert!(kiosk.store.pending_report().is_some());
    // Delivery survives a restart.
    let pending = kiosk.store.pending_report().unwrap();
    kiosk.store.report_delivered(&pending).unwrap();
    kiosk.restart();
    assert!(
        kiosk.store.pending_report().is_none(),
        "counting a start is no news"
    );
}

#[test]
fn bundles_round_trip_through_the_cli_format() {
    let kiosk = Kiosk::new();
    let bytes = sign_dir(&kiosk.factory, 9, "township:350524100", &admin());
    let bundle = Bundle::parse(&bytes).unwrap();
    bundle
        .check_signature(kiosk.config.county.administrator_keys())
        .unwrap();
    assert_eq!(bundle.version, 9);
    assert_eq!(
        bundle.files.keys().map(|p| p.as_str()).collect::<Vec<_>>(),
        [
            "kiosk.toml",
            "tls/county-ca.pem",
            "tls/kiosk.key",
            "tls/kiosk.pem"
        ]
    );
}

/// The platform as the poller sees it: bundles by version, reports kept.
#[derive(Default)]
struct FakePlatform {
    bundles: Vec<(u64, trust::bundle::Target, Vec<u8>)>,
    reports: Vec<KioskConfigReport>,
    down: bool,
    /// Refuse the TLS handshake (a client certificate it does not take).
    refuse_tls: bool,
    fetches: Vec<u64>,
}

impl FakePlatform {
    fn publish(&mut self, bytes: Vec<u8>) {
        let bundle = Bundle::parse(&bytes).unwrap();
        self.bundles.push((bundle.version, bundle.target, bytes));
    }
}

impl ConfigTransport for FakePlatform {
    fn fetch_newest(
        &mut self,
        kiosk: &kiosk_core::kiosk::KioskIdentity,
        after: u64,
    ) -> Result<Option<Vec<u8>>, TransportError> {
        if self.down {
            return Err(TransportError::new("refused", "connection refused"));
        }
        self.fetches.push(after);
        Ok(self
            .bundles
            .iter()
            .filter(|(version, target, _)| *version > after && target.includes(kiosk))
            .max_by_key(|(version, _, _)| *version)
            .map(|(_, _, bytes)| bytes.clone()))
    }

    fn send_report(&mut self, report: &KioskConfigReport) -> Result<(), TransportError> {
        if self.refuse_tls {
            return Err(TransportError::new(
                TransportError::TLS,
                "alert: bad certificate",
            ));
        }
        if self.down {
            return Err(TransportError::new("refused", "connection refused"));
        }
        self.reports.push(report.clone());
        Ok(())
    }
}

#[test]
fn the_poller_brings_a_pushed_bundle_into_force_and_reports_it() {
    let mut kiosk = Kiosk::new();
    let mut platform = FakePlatform::default();
    let t0 = chrono::DateTime::from_timestamp(1_750_000_000, 0).unwrap();
    let mut poller = Poller::new(t0, 1);
    let interval = chrono::Duration::from_std(kiosk.config.platform.config_poll_interval).unwrap();

    // First round at start: nothing new; the install is reported.
    let outcome = poller
        .tick(t0, &mut kiosk.store, &mut platform, &kiosk.config)
        .unwrap();
    assert!(matches!(outcome, PollOutcome::NothingNew), "{outcome:?}");
    assert_eq!(platform.reports.len(), 1);
    assert!(poller
        .tick(
            t0 + chrono::Duration::seconds(1),
            &mut kiosk.store,
            &mut platform,
            &kiosk.config
        )
        .is_none());

    // An administrator pushes a hot change; the next round takes it.
    let v3 = with_title(&kiosk.tmp, "v3", "冬季集中采集");
    platform.publish(sign_dir(&v3, 3, "township:350524100", &admin()));
    platform.publish(sign_dir(&v3, 4, "kiosk:someone-else", &admin()));
    let t1 = poller.next_at();
    assert_eq!(t1, t0 + interval);
    match poller
        .tick(t1, &mut kiosk.store, &mut platform, &kiosk.config)
        .unwrap()
    {
        PollOutcome::Applied {
            config,
            restart_needed,
            installed,
        } => {
            assert!(!restart_needed);
            assert_eq!(installed.version, 3);
            kiosk.config = *config;
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(kiosk.config.texts.campaign_title, "冬季集中采集");
    assert!(!kiosk.store.on_trial(), "hot changes are confirmed at once");
    let last = platform.reports.last().unwrap();
    assert_eq!(
        (last.kiosk_id.as_str(), last.status.version),
        ("demo-kiosk-01", 3)
    );
    assert!(matches!(
        last.status.last_event,
        ConfigEvent::Confirmed { version: 3, .. }
    ));

    // The platform goes down: rounds fail, back off, and nothing changes.
    platform.down = true;
    let t2 = poller.next_at();
    let outcome = poller
        .tick(t2, &mut kiosk.store, &mut platform, &kiosk.config)
        .unwrap();
    assert!(matches!(outcome, PollOutcome::Unreachable(_)));
    // The first retry: 15 s, jittered down to no less than half.
    let wait = poller.next_at() - t2;
    assert!(
        wait <= chrono::Duration::seconds(15) && wait >= chrono::Duration::milliseconds(7_500),
        "{wait}"
    );
    assert_eq!(kiosk.store.in_force().version, 3);

    // Back up, with a bundle that needs a restart: applied but on trial.
    platform.down = false;
    let v5 = device_change(&kiosk.tmp, "v5");
    platform.publish(sign_dir(&v5, 5, "all", &admin()));
    let t3 = poller.next_at();
    match poller
        .tick(t3, &mut kiosk.store, &mut platform, &kiosk.config)
        .unwrap()
    {
        PollOutcome::Applied { restart_needed, .. } => assert!(restart_needed),
        other => panic!("{other:?}"),
    }
    assert!(kiosk.store.on_trial());
    assert_eq!(platform.fetches, [0, 0, 3]);
    let start = kiosk.restart();
    assert!(start.on_trial);
    kiosk.store.confirm_started().unwrap();
    let outcome = poller
        .tick(
            poller.next_at(),
            &mut kiosk.store,
            &mut platform,
            &kiosk.config,
        )
        .unwrap();
    assert!(matches!(outcome, PollOutcome::NothingNew));
    assert!(matches!(
        platform.reports.last().unwrap().status.last_event,
        ConfigEvent::Confirmed { version: 5, .. }
    ));

    // A forged bundle on the platform is refused, reported once, and the
    // configuration stays.
    platform.publish(sign_dir(&v3, 9, "all", &stranger()));
    let reports_before = platform.reports.len();
    for _ in 0..3 {
        let outcome = poller
            .tick(
                poller.next_at(),
                &mut kiosk.store,
                &mut platform,
                &kiosk.config,
            )
            .unwrap();
        assert!(matches!(outcome, PollOutcome::Refused(_)), "{outcome:?}");
    }
    assert_eq!(platform.reports.len(), reports_before + 1);
    assert_eq!(kiosk.store.in_force().version, 5);
}

#[test]
fn the_registry_keeps_pushes_and_serves_the_newest_bundle_for_each_kiosk() {
    use county_platform::registry::{parse_admin_keys, BundleRegistry};
    let kiosk = Kiosk::new();
    let registry = BundleRegistry::open(&kiosk.tmp.join("platform")).unwrap();
    let admins = parse_admin_keys(&format!(
        "# county administrators\n{} 张三\n",
        admin().public_key()
    ))
    .unwrap();
    let dir = &kiosk.factory;
    let push = |version: u64, target: &str| {
        registry
            .publish(&sign_dir(dir, version, target, &admin()), &admins)
            .map(|p| p.version)
            .map_err(|e| e.code())
    };
    assert_eq!(push(1, "all"), Ok(1));
    assert_eq!(push(2, "township:350524100"), Ok(2));
    assert_eq!(push(3, "kiosk:other-kiosk"), Ok(3));
    assert_eq!(push(2, "all"), Err("bundle_version_exists"));
    assert_eq!(
        registry
            .publish(&sign_dir(dir, 4, "all", &stranger()), &admins)
            .map_err(|e| e.code()),
        Err("bundle_unknown_signer")
    );
    assert_eq!(
        registry
            .publish(
                &tamper_with_data(&sign_dir(dir, 4, "all", &admin())),
                &admins
            )
            .map_err(|e| e.code()),
        Err("bundle_bad_signature")
    );
    let version_for = |after: u64| {
        registry
            .newest_for(&kiosk.config.kiosk, after)
            .unwrap()
            .map(|bytes| Bundle::parse(&bytes).unwrap().version)
    };
    assert_eq!(version_for(0), Some(2), "3 is for another kiosk");
    assert_eq!(version_for(1), Some(2));
    assert_eq!(version_for(2), None);

    let report = KioskConfigReport::new(&kiosk.config.kiosk, kiosk.store.report());
    let now = chrono::DateTime::from_timestamp(1_750_000_000, 0).unwrap();
    registry.record_report(&report, "ab12", now).unwrap();
    registry.record_report(&report, "ab12", now).unwrap();
    let kiosks = registry.kiosks().unwrap();
    assert_eq!(kiosks.len(), 1);
    assert_eq!(kiosks[0].report, report);
    let mut bad = report.clone();
    bad.kiosk_id = "../../etc/passwd".into();
    assert_eq!(
        registry
            .record_report(&bad, "ab12", now)
            .unwrap_err()
            .code(),
        "bad_kiosk_id"
    );
}

#[test]
fn a_certificate_the_platform_refuses_rolls_back_at_start() {
    let mut kiosk = Kiosk::new();
    let mut platform = FakePlatform::default();
    // A new client certificate for this kiosk.
    let v1 = variant(&kiosk.tmp, "v1", |d| {
        issue_kiosk_certificate(d, "demo-kiosk-01")
    });
    let accepted = kiosk
        .store
        .accept(&sign_dir(&v1, 1, "all", &admin()), &kiosk.config)
        .unwrap();
    assert!(accepted.restart_needed, "certificates need a restart");

    // Restart on it; the platform cannot be reached yet: stay on trial.
    kiosk.restart();
    platform.down = true;
    let check = check_start(&mut kiosk.store, &mut platform, &kiosk.config);
    assert!(matches!(check, StartCheck::NotYet(_)), "{check:?}");
    assert!(kiosk.store.on_trial());

    // It is reached, and refuses the certificate: back to version 0.
    platform.down = false;
    platform.refuse_tls = true;
    let check = check_start(&mut kiosk.store, &mut platform, &kiosk.config);
    assert!(matches!(check, StartCheck::RolledBack { .. }), "{check:?}");
    let start = kiosk.restart();
    assert_eq!(start.installed.version, 0);

    // On the old certificate the platform answers, and learns what happened.
    platform.refuse_tls = false;
    let check = check_start(&mut kiosk.store, &mut platform, &kiosk.config);
    assert!(matches!(check, StartCheck::Confirmed), "{check:?}");
    let last = platform.reports.last().unwrap();
    assert_eq!(last.status.version, 0);
    assert!(matches!(
        last.status.last_event,
        ConfigEvent::RolledBack {
            failed_version: 1,
            ..
        }
    ));
    assert!(kiosk.store.pending_report().is_none());
}

/// The administrator's commands, run as the real binary.
#[test]
fn cli_keygen_sign_verify_show() {
    use std::process::Command;
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    let run = |args: &[&str], stdin: Option<&str>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_veteran-kiosk"));
        command.args(args).current_dir(repo());
        command.stdin(std::process::Stdio::piped());
        command.stdout(std::process::Stdio::piped());
        command.stderr(std::process::Stdio::piped());
        let mut child = command.spawn().unwrap();
        if let Some(text) = stdin {
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
        }
        let out = child.wait_with_output().unwrap();
        let json = serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap_or_default();
        (out.status.code().unwrap(), json)
    };
    let path = |name: &str| tmp.join(name).display().to_string();

    let (code, json) = run(&["config", "keygen", &path("new-admin.key")], None);
    assert_eq!(code, 0, "{json}");
    let public = json["public_key"].as_str().unwrap().to_string();
    assert!(public.starts_with("ed25519:"));
    let (code, _) = run(&["config", "keygen", &path("new-admin.key")], None);
    assert_eq!(code, 2, "never overwrites a key");

    let demo_key = repo()
        .join("tests/config_data/demo-admin.key")
        .display()
        .to_string();
    let sign = |version: &str, target: &str, key: &str, out: &str| {
        run(
            &[
                "config",
                "sign",
                "kiosk-config",
                "--key",
                key,
                "--version",
                version,
                "--target",
                target,
                "--out",
                &path(out),
            ],
            None,
        )
    };
    let (code, signed) = sign("4", "township:350524100", &demo_key, "ok.bundle");
    assert_eq!(code, 0, "{signed}");
    let warnings = signed["warnings"].to_string();
    assert!(
        warnings.contains("tls/kiosk.key holds a private key"),
        "{warnings}"
    );
    let (code, verified) = run(&["config", "verify", &path("ok.bundle")], None);
    assert_eq!(code, 0, "{verified}");
    assert_eq!(verified["sha256"], signed["sha256"]);
    assert_eq!(verified["signer_name"], "演示管理员（县退役军人事务局）");

    // Signed by a key the shipped configuration does not pin.
    let (code, _) = sign("4", "all", &path("new-admin.key"), "stranger.bundle");
    assert_eq!(code, 0);
    let (code, refused) = run(&["config", "verify", &path("stranger.bundle")], None);
    assert_eq!(
        (code, refused["code"].as_str()),
        (1, Some("bundle_unknown_signer"))
    );

    // The directory names kiosk demo-kiosk-01 of township 350524100.
    let (code, refused) = sign("4", "kiosk:another", &demo_key, "wrong.bundle");
    assert_eq!(
        (code, refused["code"].as_str()),
        (1, Some("bundle_target_mismatch"))
    );
    let (code, _) = sign("0", "all", &demo_key, "zero.bundle");
    assert_eq!(code, 1);

    // Before the store exists, `show` reports the shipped configuration.
    let (code, shown) = run(&["config", "show", "--root", &path("no-store")], None);
    assert_eq!((code, shown["version"].as_u64()), (0, Some(0)));
    let (code, hashed) = run(&["config", "pin-hash"], Some("246810\n"));
    assert_eq!(code, 0);
    let hash = veteran_kiosk::config::PinHash::parse(hashed["pin_hash"].as_str().unwrap()).unwrap();
    assert!(hash.matches("246810"));
    let (code, _) = run(&["config", "pin-hash"], Some("12\n"));
    assert_eq!(code, 2, "too short a PIN");
}

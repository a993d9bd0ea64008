//! Configuration in the running kiosk: the real window (Slint's testing
//! backend), the real county platform over mutual TLS on loopback, the
//! real configuration store and watcher thread.
//!
//! - A bundle pushed to the platform reaches the running kiosk and is taken
//!   without a restart where it can be (texts, time-outs) …
//! - … and with an orderly restart where it must (devices), which waits
//!   until the person at the kiosk is done.
//! - A configuration whose devices cannot be opened is rolled back at start.

use crate::config_support;

use std::path::{Path, PathBuf};
use std::time::{Duration as StdDuration, Instant};

use chrono::{Duration, Utc};
use i_slint_backend_testing::{TestingBackend, TestingBackendOptions};
use slint::ComponentHandle;
use uuid::Uuid;

use kiosk_core::session::{Event, Session, Step};
use veteran_kiosk::config::apply::{ConfigEvent, ConfigStore};
use veteran_kiosk::config::http::HttpConfigTransport;
use veteran_kiosk::config::Config;
use veteran_kiosk::kiosk::boot::{self, KioskPaths};
use veteran_kiosk::kiosk::config_watch::ConfigWatch;
use veteran_kiosk::kiosk::shell::SimulatedShell;
use veteran_kiosk::kiosk::{self, campaign_of, staff_settings_of, Running};
use veteran_kiosk::sync::client::ClientSettings;
use veteran_kiosk::ui::{AppWindow, AttractView};

use config_support::*;

impl World {
    /// The shipped configuration, pointed at this platform and its PKI,
    /// polling as often as allowed, then changed by `change`.
    fn polled_config(&self, name: &str, change: impl FnOnce(&Path)) -> PathBuf {
        variant(&self.dir, name, |d| {
            self.point_at_platform(d, &self.pki.kiosk, &self.pki.kiosk_key);
            edit(d, "config_poll_seconds = 300", "config_poll_seconds = 10");
            change(d);
        })
    }

    fn push_signed(&self, dir: &Path, version: u64) {
        HttpConfigTransport::new(
            &ClientSettings::demo(&self.pki.dir, &self.platform.url()).unwrap(),
        )
        .unwrap()
        .push(&sign_dir(dir, version, "kiosk:demo-kiosk-01", &admin()))
        .unwrap();
    }
}

/// The kiosk window on Slint's testing backend, started on the store's
/// configuration, watching the platform for more.
fn running_kiosk(root: &Path, factory: &Path) -> (AppWindow, Running) {
    slint::platform::set_platform(Box::new(TestingBackend::new(TestingBackendOptions {
        mock_time: true,
        threading: false,
        renderer_name: Some("software".into()),
    })))
    .expect("one platform per test thread");
    let ui = AppWindow::new().unwrap();
    ui.show().unwrap();
    let mut store = ConfigStore::open(root, factory).unwrap();
    let start = store.begin_start().unwrap();
    let config = start.config;
    let session = Session::new(config.session_settings(), Utc::now()).with_staff(
        staff_settings_of(&config, start.installed.version, &start.installed.sha256),
    );
    let running = kiosk::start(
        &ui,
        session,
        Box::new(SimulatedShell::new()),
        Box::new(Utc::now),
        &campaign_of(&config),
    );
    running.watch_config(ConfigWatch::spawn(store, config, |c: &Config| {
        HttpConfigTransport::for_kiosk(c).map_err(|e| e.to_string())
    }));
    (ui, running)
}

/// Tick the kiosk (as its timer would) until `done`, for at most `limit`.
fn tick_until(running: &Running, limit: StdDuration, done: impl Fn() -> bool) -> bool {
    let until = Instant::now() + limit;
    while Instant::now() < until {
        running.tick();
        if done() {
            return true;
        }
        std::thread::sleep(StdDuration::from_millis(100));
    }
    false
}

#[test]
fn pushed_configuration_reaches_the_running_kiosk_hot_or_with_an_orderly_restart() {
    let world = World::new();
    let factory = world.polled_config("factory", |_| {});
    let root = world.dir.join("kiosk-store");

    // v1 changes only texts and time-outs: taken without a restart.
    let v1 = world.polled_config("v1", |d| {
        edit(
            d,
            &format!("campaign_title = \"{SHIPPED_TITLE}\""),
            "campaign_title = \"冬季集中采集\"",
        );
        edit(d, "idle_warning_seconds = 90", "idle_warning_seconds = 60");
    });
    world.push_signed(&v1, 1);

    let (ui, running) = running_kiosk(&root, &factory);
    let kiosk = running.kiosk();
    assert_eq!(ui.global::<AttractView>().get_title(), SHIPPED_TITLE);
    let took_v1 = tick_until(&running, StdDuration::from_secs(20), || {
        ui.global::<AttractView>().get_title() == "冬季集中采集"
    });
    assert!(took_v1, "the pushed title never reached the attract screen");
    assert_eq!(
        kiosk.borrow().session().settings().idle_warning_after,
        Duration::seconds(60)
    );
    assert_eq!(kiosk.borrow().restart_pending(), None);

    // Someone starts registering.
    running.send(Event::Start {
        record_id: Uuid::from_u128(1),
    });
    assert_eq!(kiosk.borrow().session().step(), Step::InsertCard);

    // v2 changes a device: that needs a restart, but not in front of them.
    let v2 = world.polled_config("v2", |d| {
        edit(
            d,
            "dir = \"assets/demo/printed\"",
            &format!("dir = {:?}", world.dir.join("printed-v2")),
        );
    });
    world.push_signed(&v2, 2);
    let asked = tick_until(&running, StdDuration::from_secs(30), || {
        kiosk.borrow().restart_pending().is_some()
    });
    assert!(asked, "the device change never asked for a restart");
    assert!(!running.restarting(), "restarted in front of a person");
    assert_eq!(kiosk.borrow().session().step(), Step::InsertCard);

    // They finish (here: cancel); the kiosk restarts once it is free.
    running.send(Event::CancelRequested);
    running.send(Event::Cancel);
    running.tick();
    assert_eq!(kiosk.borrow().session().step(), Step::Attract);
    assert!(running.restarting());
    drop(running);
    drop(ui);

    // The restarted kiosk comes up on v2, on trial until the platform
    // confirms it.
    let paths = KioskPaths {
        config_root: root.clone(),
        factory: factory.clone(),
        data: world.dir.join("data"),
    };
    let booted = boot::boot(&paths).unwrap();
    assert_eq!(booted.installed.version, 2);
    assert!(booted.store.on_trial());
    assert_eq!(booted.rolled_back, None);
}

#[test]
fn a_configuration_whose_devices_do_not_open_is_rolled_back_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let factory = factory_copy(dir.path(), "factory");
    let root = dir.path().join("store");
    let paths = KioskPaths {
        config_root: root.clone(),
        factory: factory.clone(),
        data: dir.path().join("data"),
    };
    let booted = boot::boot(&paths).unwrap();
    assert_eq!(booted.installed.version, 0);
    let mut store = booted.store;
    let current = booted.config;
    drop(booted.devices);

    // A printer address where nothing listens.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = closed.local_addr().unwrap();
    drop(closed);
    let v1 = variant(dir.path(), "v1", |d| {
        edit(
            d,
            "kind = \"simulated\"\ndir = \"assets/demo/printed\"",
            &format!("kind = \"network\"\naddress = \"{address}\"\ntimeout_ms = 1000"),
        );
    });
    let accepted = store
        .accept(&sign_dir(&v1, 1, "all", &admin()), &current)
        .unwrap();
    assert!(accepted.restart_needed);
    drop(store);

    let booted = boot::boot(&paths).unwrap();
    assert_eq!(booted.installed.version, 0, "still on the shipped one");
    let reason = booted.rolled_back.clone().expect("a rollback");
    assert!(reason.contains("printer"), "{reason}");
    let report = ConfigStore::peek(&root).unwrap().unwrap();
    assert!(
        matches!(
            report.last_event,
            ConfigEvent::RolledBack {
                failed_version: 1,
                ..
            }
        ),
        "{report:?}"
    );
    assert!(!report.on_trial);
}

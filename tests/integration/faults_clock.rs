//! A clock years wrong (a flat RTC battery starts at 2000-01-01; a bad one
//! jumps to 2040), on the real kiosk, the real binary and real TLS:
//! - the platform's certificate, outside its validity at the kiosk's
//!   clock, is reported as "时钟不对", not as a confusing TLS failure;
//! - a kiosk whose clock reads before its own certificate's notBefore
//!   starts, tells staff, and is judged wrong;
//! - the idle time-outs run on a steady clock: a jump of the wall clock
//!   neither wipes the person at once nor stops the wipe.
//!
//! No clock override is needed: a clock years behind is seen exactly as a
//! certificate years ahead is, so the tests move the certificates and keep
//! the machine's clock; the steady clock takes virtual clocks in tests.

use crate::config_support;
use crate::sync_support;
use crate::sync_support::{kiosk, path_str};

use std::cell::Cell;
use std::fs;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use i_slint_backend_testing::{TestingBackend, TestingBackendOptions};
use slint::ComponentHandle;
use uuid::Uuid;

use county_platform::{self as platform, Faults, PlatformConfig};
use kiosk_core::session::{Event, Session, Step};
use trust::pki::{CertificateAuthority, Validity};
use veteran_kiosk::kiosk::boot::KioskPaths;
use veteran_kiosk::kiosk::clock::SteadyClock;
use veteran_kiosk::kiosk::shell::SimulatedShell;
use veteran_kiosk::kiosk::{self, stand_in};
use veteran_kiosk::sync::client::PlatformClient;
use veteran_kiosk::sync::core::UploadOutcome;
use veteran_kiosk::sync::worker::SyncFailure;
use veteran_kiosk::ui::AttractView;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// The platform's certificate as a kiosk whose clock is at 2000-01-01
/// (cert not yet valid) or at 2040 (cert expired) sees it.
#[test]
fn a_platform_certificate_outside_its_dates_at_the_kiosk_clock_says_the_clock_is_wrong() {
    let world = sync_support::World::new();
    let ca = CertificateAuthority::from_ca_files(&world.pki.ca, &world.pki.ca_key).unwrap();
    let mut store = world.store();
    let records = sync_support::demo_records(1, 3);
    sync_support::enqueue_all(&mut store, &records, &world.recipient());
    drop(store);
    let today = Utc::now().date_naive();
    let cases = [
        (
            "the kiosk's clock is years behind",
            Validity {
                not_before: today + Duration::days(365 * 3),
                not_after: today + Duration::days(365 * 5),
            },
        ),
        ("the kiosk's clock is years ahead", Validity::expired()),
    ];
    for (case, validity) in cases {
        let dir = world.dir.path().join(format!("{}", validity.not_before));
        fs::create_dir_all(&dir).unwrap();
        let (cert, key) = (dir.join("server.pem"), dir.join("server.key"));
        ca.issue_server(&["127.0.0.1", "localhost"], validity)
            .unwrap()
            .write(&cert, &key)
            .unwrap();
        let mut config = PlatformConfig::demo(
            &world.pki.dir,
            &dir.join("platform.sqlite3"),
            "127.0.0.1:0".parse().unwrap(),
        );
        config.server_cert = cert;
        config.server_key = key;
        let running = platform::start(&config, Arc::new(Faults::default())).unwrap();

        let client = PlatformClient::new(&world.settings(&running.url())).unwrap();
        assert_eq!(
            client.health(),
            Err(UploadOutcome::CertificateDate),
            "{case}"
        );
        // The real binary, as staff run it: nothing sent, and the words
        // say the clock.
        let (code, out) = kiosk(&[
            "sync",
            "--once",
            "--data-dir",
            &path_str(&world.dir.path().join("kiosk")),
            "--platform",
            &running.url(),
            "--pki",
            &path_str(&world.pki.dir),
        ]);
        assert_eq!(code, 1, "{case}: {out}");
        assert_eq!(
            out["report"]["last_failure"], "CertificateDate",
            "{case}: {out}"
        );
        assert_eq!(out["report"]["pending"], 1, "{case}: {out}");
        let message = out["message"].as_str().unwrap();
        assert!(message.contains("时钟不对"), "{case}: {message}");
        assert_eq!(message, SyncFailure::CertificateDate.message_zh());
        assert!(running.state.db().list(None).unwrap().is_empty());
    }
    // The same kiosk and platform with a current certificate get through.
    assert!(world.client().health().is_ok());
}

/// The kiosk's clock reads before its certificate's notBefore: staff read
/// it on the start screen, and the kiosk still starts (records are marked,
/// see kiosk-core's session tests).
#[test]
fn a_kiosk_whose_clock_reads_before_its_certificate_tells_staff_at_start() {
    let world = config_support::World::new();
    let ca = CertificateAuthority::from_ca_files(&world.pki.ca, &world.pki.ca_key).unwrap();
    let dir = world.dir.join("kiosk-cert");
    fs::create_dir_all(&dir).unwrap();
    let (cert, key) = (dir.join("kiosk.pem"), dir.join("kiosk.key"));
    // Issued "in 2029": a kiosk clock at today's date is years behind it,
    // as a flat battery's 2000-01-01 is behind a certificate of 2026.
    let not_before = day(2029, 1, 1);
    ca.issue_client(
        "demo-kiosk-01",
        Validity {
            not_before,
            not_after: day(2031, 1, 1),
        },
    )
    .unwrap()
    .write(&cert, &key)
    .unwrap();
    let factory = config_support::variant(&world.dir, "factory", |d| {
        world.point_at_platform(d, &cert, &key);
    });
    let paths = KioskPaths {
        config_root: world.dir.join("kiosk-store"),
        factory,
        data: world.dir.join("kiosk-data"),
    };
    slint::platform::set_platform(Box::new(TestingBackend::new(TestingBackendOptions {
        mock_time: true,
        threading: false,
        renderer_name: Some("software".into()),
    })))
    .expect("one platform per test thread");
    let (ui, running) = kiosk::launch(&paths).unwrap();
    ui.window().set_size(slint::PhysicalSize::new(1920, 1080));
    ui.show().unwrap();
    let attract = ui.global::<AttractView>();
    assert_eq!(attract.get_title(), config_support::SHIPPED_TITLE);
    assert!(
        !attract.get_paused(),
        "a wrong clock does not stop the kiosk"
    );
    let notice = attract.get_notice().to_string();
    assert!(
        notice.contains("给工作人员：本机时钟不对")
            && notice.contains("早于本机证书的生效日期 2029年1月1日")
            && notice.contains("校准"),
        "{notice}"
    );
    let bounds = kiosk::clock::clock_bounds(
        &veteran_kiosk::config::apply::ConfigStore::open(&paths.config_root, &paths.factory)
            .unwrap()
            .load()
            .unwrap(),
        &paths.outbox(),
    );
    let now = Utc::now();
    let line = kiosk::clock::clock_line(&bounds.judge(now), now);
    assert!(
        !line.ok && line.status_zh.contains("本机时钟不对"),
        "{line:?}"
    );
    config_support::screenshot(&ui, "31-attract-clock-wrong");
    drop(running);
}

/// Virtual wall and steady clocks under the real kiosk loop.
struct Clocks {
    wall: Rc<Cell<chrono::DateTime<Utc>>>,
    steady: Rc<Cell<StdDuration>>,
}

impl Clocks {
    fn pass(&self, seconds: u64) {
        self.wall
            .set(self.wall.get() + Duration::seconds(seconds as i64));
        self.steady
            .set(self.steady.get() + StdDuration::from_secs(seconds));
    }
}

#[test]
fn a_wall_clock_jump_neither_wipes_the_person_at_once_nor_stops_the_wipe() {
    slint::platform::set_platform(Box::new(TestingBackend::new(TestingBackendOptions {
        mock_time: true,
        threading: false,
        renderer_name: Some("software".into()),
    })))
    .expect("one platform per test thread");
    let flat_battery = Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).unwrap();
    let clocks = Clocks {
        wall: Rc::new(Cell::new(flat_battery)),
        steady: Rc::new(Cell::new(StdDuration::from_secs(5))),
    };
    let (w, st) = (Rc::clone(&clocks.wall), Rc::clone(&clocks.steady));
    let steady = Rc::new(SteadyClock::new(move || w.get(), move || st.get()));
    let ui = veteran_kiosk::ui::AppWindow::new().unwrap();
    let settings = stand_in::session_settings();
    let session = Session::new(settings.clone(), steady.now());
    let c = Rc::clone(&steady);
    let running = kiosk::start(
        &ui,
        session,
        Box::new(SimulatedShell::new()),
        Box::new(move || c.now()),
        &stand_in::campaign(),
    );
    running.follow_wall_between_sessions(Rc::clone(&steady));
    let step = || running.kiosk().borrow().session().step();

    for jump_years in [26_i64, -26] {
        running.send(Event::Start {
            record_id: Uuid::new_v4(),
        });
        running.tick();
        assert_eq!(step(), Step::InsertCard);
        // Staff correct the clock (or it jumps) while the person is here.
        clocks.pass(10);
        clocks
            .wall
            .set(clocks.wall.get() + Duration::days(365 * jump_years));
        running.tick();
        assert_eq!(step(), Step::InsertCard, "jump {jump_years}y wiped at once");
        // The idle warning and the wipe come after the configured quiet
        // time, measured on the steady clock.
        let quiet = settings.idle_warning_after.num_seconds() as u64;
        clocks.pass(quiet - 20);
        running.tick();
        assert_eq!(step(), Step::InsertCard);
        clocks.pass(30);
        running.tick();
        assert!(
            running
                .kiosk()
                .borrow()
                .session()
                .view(steady.now())
                .idle_countdown
                .is_some(),
            "jump {jump_years}y: no idle warning"
        );
        clocks.pass(settings.warning_seconds().num_seconds() as u64 + 1);
        running.tick();
        assert_eq!(step(), Step::Attract, "jump {jump_years}y: never wiped");
        // Between sessions the kiosk takes the corrected wall clock.
        running.tick();
        assert_eq!(steady.now(), clocks.wall.get());
    }
}

//! One registration end to end through the product as `veteran-kiosk`
//! runs it: `kiosk::launch` (configuration store, devices from the shipped
//! configuration's `[devices]`, `product::build`), the window on Slint's
//! testing backend, the real county platform on loopback with mutual TLS.
//!
//! Stood in for: nothing but the hardware. The card reader, camera and
//! printer are the shipped configuration's simulated ones, pointed at temp
//! directories: cards from the demo card files (placed by themselves,
//! `auto_present_ms`), the camera showing the real astronaut photograph
//! (scripts/fetch-models.sh) and receipts written to files. The face model,
//! coach, outbox, sealing, sync worker and audit log are the real ones.
//!
//! Only events a person, the staff or a device would produce are sent;
//! everything else (the card read, the portrait, the document photos, the
//! print, the store's answer) arrives from the product by itself while the
//! kiosk ticks in real time.

use crate::config_support;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

use i_slint_backend_testing::{TestingBackend, TestingBackendOptions};
use image::imageops::{self, FilterType};
use image::{Rgb, RgbImage};
use slint::ComponentHandle;

use kiosk_core::category::{Category, DocumentKind};
use kiosk_core::forms::FieldEdit;
use kiosk_core::record::{Record, RecordState};
use kiosk_core::session::{Event, PhotoPurpose, PrintState, StaffCommand, StaffPanel, Step};
use kiosk_core::staff::{AuditAction, AuditEntry};
use trust::seal;
use veteran_kiosk::devices::camera::CameraError;
use veteran_kiosk::kiosk::boot::KioskPaths;
use veteran_kiosk::kiosk::{self, Running};
use veteran_kiosk::photo::{decode_photo, OUTPUT_HEIGHT, OUTPUT_WIDTH};
use veteran_kiosk::store::{Blobs, Store};
use veteran_kiosk::ui::{AppWindow, AttractView, Nav, PortraitView, Screen};

use config_support::*;

/// The shipped demo's first staff member (kiosk-config/kiosk.toml) and her PIN.
const STAFF_ID: &str = "fc-01";
const STAFF_PIN: &str = "246810";
/// The demo cards, read in name order.
const FIRST_CARD: &str = "01-lin-guohua.json";
const FIRST_ID: &str = "350524195503150010";
const FIRST_NAME: &str = "林国华";
const SECOND_CARD: &str = "02-wang-xiuying.json";
/// What the portrait page says while no camera picture is shown.
const NO_PICTURE_HINT: &str = "请看着摄像头，保持不动";

impl World {
    fn cards(&self) -> PathBuf {
        self.dir.join("cards")
    }
    fn camera(&self) -> PathBuf {
        self.dir.join("camera")
    }
    fn printed(&self) -> PathBuf {
        self.dir.join("printed")
    }

    /// The kiosk's folders for a factory configuration derived from the
    /// shipped one: pointed at this platform, its PKI and recipient, every
    /// device folder in the temp dir, then changed by `change`.
    fn kiosk_paths(&self, change: impl FnOnce(&Path)) -> KioskPaths {
        let factory = variant(&self.dir, "factory", |d| {
            self.point_at_platform(d, &self.pki.kiosk, &self.pki.kiosk_key);
            edit(
                d,
                "dir = \"assets/demo/cards\"",
                &format!("dir = {:?}", self.cards()),
            );
            // The shipped 3 s, shortened to keep the test quick.
            edit(d, "auto_present_ms = 3000", "auto_present_ms = 400");
            edit(
                d,
                "dir = \"assets/demo/camera\"",
                &format!("dir = {:?}", self.camera()),
            );
            edit(
                d,
                "dir = \"assets/demo/printed\"",
                &format!("dir = {:?}", self.printed()),
            );
            edit(d, "done_screen_seconds = 20", "done_screen_seconds = 3");
            change(d);
        });
        std::fs::create_dir_all(self.cards()).unwrap();
        for card in [FIRST_CARD, SECOND_CARD] {
            std::fs::copy(
                repo().join("assets/demo/cards").join(card),
                self.cards().join(card),
            )
            .unwrap();
        }
        std::fs::create_dir_all(self.camera()).unwrap();
        person_in_front()
            .save(self.camera().join("person.png"))
            .unwrap();
        KioskPaths {
            config_root: self.dir.join("kiosk-store"),
            factory,
            data: self.dir.join("kiosk-data"),
        }
    }

    fn platform_identity(&self) -> age::x25519::Identity {
        seal::parse_identity(&std::fs::read_to_string(&self.pki.platform_age_identity).unwrap())
            .unwrap()
    }
}

/// A 1600×1200 camera frame: the astronaut photograph (scikit-image's
/// sample, fetched by scripts/fetch-models.sh) enlarged to 1200×1200, in
/// the middle, on a plain wall.
fn person_in_front() -> RgbImage {
    let path = repo().join("tests/fixtures/photo/astronaut.png");
    let astronaut = image::open(&path)
        .unwrap_or_else(|err| {
            panic!(
                "{}: {err}; run scripts/fetch-models.sh first",
                path.display()
            )
        })
        .to_rgb8();
    let person = imageops::resize(&astronaut, 1200, 1200, FilterType::Triangle);
    let mut frame = RgbImage::from_pixel(1600, 1200, Rgb([190, 185, 190]));
    imageops::replace(&mut frame, &person, 200, 0);
    frame
}

/// The configured kiosk, as `veteran-kiosk` starts it, on Slint's testing
/// backend.
fn launch(paths: &KioskPaths) -> (AppWindow, Running) {
    slint::platform::set_platform(Box::new(TestingBackend::new(TestingBackendOptions {
        mock_time: true,
        threading: false,
        renderer_name: Some("software".into()),
    })))
    .expect("one platform per test thread");
    // The product finds the face model from the working directory, as
    // the installed kiosk does; without it no portrait is ever taken.
    let model = repo()
        .join("assets/models")
        .join(veteran_kiosk::photo::MODEL_FILE_NAME);
    assert!(
        model.is_file(),
        "{} missing; run scripts/fetch-models.sh first",
        model.display()
    );
    let (ui, running) = kiosk::launch(paths).unwrap();
    ui.window().set_size(slint::PhysicalSize::new(1920, 1080));
    ui.show().unwrap();
    assert_eq!(
        ui.global::<AttractView>().get_title(),
        SHIPPED_TITLE,
        "the kiosk did not start on its configuration (out of service?)"
    );
    (ui, running)
}

/// What the kiosk shows, for failure messages.
fn state_of(running: &Running) -> String {
    let kiosk = running.kiosk();
    let kiosk = kiosk.borrow();
    let view = kiosk.session().view(kiosk.now());
    format!(
        "step {:?}, notice {:?}, printing {:?}, problems {:?}",
        view.step,
        view.notice,
        view.printing,
        view.problems
            .iter()
            .map(|p| p.problem.field.clone())
            .collect::<Vec<_>>()
    )
}

/// Ticks the kiosk (as its timer would) until `done`, at most `limit`;
/// each tick must return promptly (nothing blocks the UI thread).
fn wait_until(running: &Running, limit: StdDuration, what: &str, done: impl Fn() -> bool) {
    let until = Instant::now() + limit;
    loop {
        let started = Instant::now();
        running.tick();
        let took = started.elapsed();
        assert!(
            took < StdDuration::from_secs(2),
            "a tick blocked the UI thread for {took:?} while waiting for {what}"
        );
        if done() {
            return;
        }
        assert!(
            Instant::now() < until,
            "gave up waiting for {what}: {}",
            state_of(running)
        );
        std::thread::sleep(StdDuration::from_millis(50));
    }
}

fn step(running: &Running) -> Step {
    running.kiosk().borrow().session().step()
}

fn record(running: &Running) -> Option<Record> {
    running.kiosk().borrow().session().record().cloned()
}

fn printing(running: &Running) -> PrintState {
    let kiosk = running.kiosk();
    let kiosk = kiosk.borrow();
    let printing = kiosk.session().view(kiosk.now()).printing;
    printing
}

fn send_at(running: &Running, event: Event, expected: Step) {
    running.send(event.clone());
    assert_eq!(
        step(running),
        expected,
        "after {event:?}: {}",
        state_of(running)
    );
}

fn field(key: &str, edit: FieldEdit) -> Event {
    Event::FieldEdited {
        key: key.into(),
        edit,
    }
}

/// Warnings and errors logged on this thread (the UI thread, where the
/// shell's parts take the session's effects).
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    fn capture(&self) -> tracing::subscriber::DefaultGuard {
        let logs = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::WARN)
            .with_ansi(false)
            .with_writer(move || logs.clone())
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn audit_lines(path: &Path) -> Vec<AuditEntry> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[test]
fn a_full_registration_through_the_product_reaches_the_platform_and_leaves_nothing_behind() {
    let logs = Logs::default();
    let _logging = logs.capture();
    let world = World::new();
    let paths = world.kiosk_paths(|_| {});
    let (ui, running) = launch(&paths);
    let secs = StdDuration::from_secs;

    // A tap on the attract screen; the card is placed by itself.
    ui.global::<AttractView>().invoke_start();
    assert_eq!(step(&running), Step::InsertCard);
    wait_until(&running, secs(10), "the card read", || {
        step(&running) == Step::Identity
    });
    let first = record(&running).unwrap();
    assert_eq!(first.identity.name, FIRST_NAME);
    assert_eq!(first.identity.id_number, FIRST_ID);
    // The platform was asked (over mutual TLS) and does not know them.
    wait_until(&running, secs(10), "the platform look-up", || {
        let kiosk = running.kiosk();
        let kiosk = kiosk.borrow();
        let found = kiosk.session().view(kiosk.now()).found_in_base;
        found.is_some()
    });

    // The coach takes the portrait from the camera by itself.
    send_at(&running, Event::Next, Step::Portrait);
    assert_eq!(ui.global::<Nav>().get_screen(), Screen::Portrait);
    wait_until(&running, secs(30), "the coached portrait", || {
        record(&running).is_some_and(|r| r.photos.portrait.is_some())
    });
    let portrait = ui.global::<PortraitView>();
    assert!(portrait.get_captured());
    assert!(portrait.get_has_preview(), "the taken portrait is shown");

    send_at(&running, Event::Next, Step::Categories);
    send_at(
        &running,
        Event::ToggleCategory(Category::MartyrFamily),
        Step::Categories,
    );
    send_at(&running, Event::Next, Step::CategoryDetails(0));
    for event in [
        field("relation", FieldEdit::Choose(0)),
        field("deceased_name", FieldEdit::Text("林大山".into())),
        field("receives_pension", FieldEdit::Choose(0)),
    ] {
        send_at(&running, event, Step::CategoryDetails(0));
    }
    send_at(&running, Event::Next, Step::Documents);

    // Certificates: the camera shell answers each request with a photo.
    for (n, kind) in [
        DocumentKind::HouseholdRegister,
        DocumentKind::MartyrCertificate,
    ]
    .into_iter()
    .enumerate()
    {
        send_at(
            &running,
            Event::TakePhoto(PhotoPurpose::Document { kind, page: 1 }),
            Step::Documents,
        );
        wait_until(&running, secs(15), "a document photo", || {
            record(&running).is_some_and(|r| r.documents.len() == n + 1)
        });
    }
    {
        let kiosk = running.kiosk();
        let kiosk = kiosk.borrow();
        let view = kiosk.session().view(kiosk.now());
        let missing: Vec<_> = view
            .document_checklist
            .iter()
            .filter(|item| item.required && !item.done)
            .collect();
        assert!(missing.is_empty(), "{missing:?}");
    }

    send_at(&running, Event::Next, Step::Living);
    for event in [
        field("work", FieldEdit::Choose(4)),
        field("monthly_income_yuan", FieldEdit::Text("2000".into())),
        field("pension_insurance", FieldEdit::Choose(2)),
        field("medical_insurance", FieldEdit::Choose(1)),
        field("housing", FieldEdit::Choose(0)),
        field("social_assistance", FieldEdit::Toggle(4)),
        field("state_benefits", FieldEdit::Toggle(0)),
        field("disability_subsidies", FieldEdit::Toggle(2)),
    ] {
        send_at(&running, event, Step::Living);
    }
    send_at(&running, Event::Next, Step::Needs);
    send_at(&running, Event::Next, Step::Review);
    {
        let kiosk = running.kiosk();
        let kiosk = kiosk.borrow();
        let problems = kiosk.session().view(kiosk.now()).problems;
        assert!(problems.is_empty(), "{problems:?}");
    }

    // Print; the simulated printer answers; staff witness with the PIN.
    send_at(&running, Event::PrintRequested, Step::Sign);
    wait_until(&running, secs(10), "the printer's answer", || {
        printing(&running) == PrintState::AwaitingSignature
    });
    send_at(&running, Event::WitnessRequested, Step::Sign);
    send_at(
        &running,
        Event::StaffMemberChosen(STAFF_ID.into()),
        Step::Sign,
    );
    send_at(&running, Event::PinEntered(STAFF_PIN.into()), Step::Sign);
    wait_until(&running, secs(10), "the outbox's answer", || {
        step(&running) == Step::Done
    });
    let record_id = first.meta.record_id;

    // The receipt the printer got, without the full ID number.
    let receipts: Vec<PathBuf> = std::fs::read_dir(world.printed())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "escpos"))
        .collect();
    assert_eq!(receipts.len(), 1, "{receipts:?}");
    let bytes = std::fs::read(&receipts[0]).unwrap();
    let (text, _, _) = encoding_rs::GB18030.decode(&bytes);
    assert!(!text.contains(FIRST_ID), "full ID number on the receipt");
    assert!(
        text.contains(&kiosk_core::id_number::mask_id_text(FIRST_ID)),
        "no masked ID number on the receipt"
    );
    assert!(text.contains(FIRST_NAME));

    // The outbox holds the signed record (durable before the answer).
    let entry = Store::open(&paths.outbox())
        .unwrap()
        .entry(record_id)
        .unwrap()
        .expect("the record in the outbox");
    assert!(
        matches!(entry.state, RecordState::Signed | RecordState::Sent),
        "{:?}",
        entry.state
    );

    // The session's photos went with the person: no portrait on screen.
    assert!(!portrait.get_has_preview(), "a portrait is still shown");
    assert_eq!(portrait.get_hint(), NO_PICTURE_HINT);

    // Staff send now from the staff menu.
    send_at(&running, Event::StaffGesture, Step::Done);
    send_at(
        &running,
        Event::StaffMemberChosen(STAFF_ID.into()),
        Step::Done,
    );
    send_at(&running, Event::PinEntered(STAFF_PIN.into()), Step::Done);
    send_at(&running, Event::Staff(StaffCommand::SyncNow), Step::Done);
    wait_until(&running, secs(30), "the sync's answer", || {
        let kiosk = running.kiosk();
        let kiosk = kiosk.borrow();
        let view = kiosk.session().view(kiosk.now());
        view.staff
            .and_then(|s| s.sync_message)
            .is_some_and(|m| m != "正在上传…")
    });
    let message = {
        let kiosk = running.kiosk();
        let kiosk = kiosk.borrow();
        let view = kiosk.session().view(kiosk.now());
        let staff = view.staff.unwrap();
        assert_eq!(staff.panel, StaffPanel::Menu);
        staff.sync_message.unwrap().to_string()
    };
    assert!(message.contains("没有等待上传的记录"), "{message}");

    // The platform has it, and its sealed copy opens with the county's key.
    let received = world.platform.state.db().list(None).unwrap();
    assert_eq!(
        received.iter().map(|r| r.record_id).collect::<Vec<_>>(),
        vec![record_id]
    );
    assert_eq!(received[0].kiosk_id, "demo-kiosk-01");
    let sealed = world
        .platform
        .state
        .db()
        .sealed(record_id)
        .unwrap()
        .unwrap();
    let (sealed_record, blobs): (Record, Blobs) =
        seal::open(&sealed, &world.platform_identity()).unwrap();
    assert_eq!(sealed_record.identity.id_number, FIRST_ID);
    assert_eq!(sealed_record.meta.state, RecordState::Signed);
    let signature = sealed_record.signature.as_ref().unwrap();
    assert_eq!(signature.witnessed_by, STAFF_ID);
    let photo = sealed_record.photos.portrait.as_ref().unwrap();
    let jpeg = blobs.get(&photo.sha256).expect("the portrait blob");
    let decoded = decode_photo(jpeg).unwrap();
    assert_eq!(
        (decoded.width(), decoded.height()),
        (OUTPUT_WIDTH, OUTPUT_HEIGHT)
    );
    assert_eq!((OUTPUT_WIDTH, OUTPUT_HEIGHT), (358, 441));
    for document in &sealed_record.documents {
        let bytes = blobs.get(&document.photo.sha256).expect("a document blob");
        decode_photo(bytes).unwrap();
    }
    assert_eq!(sealed_record.documents.len(), 2);
    assert_eq!(
        Store::open(&paths.outbox())
            .unwrap()
            .entry(record_id)
            .unwrap()
            .unwrap()
            .state,
        RecordState::Sent
    );

    send_at(&running, Event::Staff(StaffCommand::Close), Step::Done);
    wait_until(
        &running,
        secs(10),
        "the way back to the attract screen",
        || step(&running) == Step::Attract,
    );
    assert!(record(&running).is_none());

    // The audit log: who witnessed and what staff did, no personal data.
    let audit_text = std::fs::read_to_string(paths.audit_log()).unwrap();
    assert!(!audit_text.contains(FIRST_ID), "{audit_text}");
    assert!(!audit_text.contains(FIRST_NAME), "{audit_text}");
    let actions: Vec<(AuditAction, Option<String>)> = audit_lines(&paths.audit_log())
        .into_iter()
        .map(|e| (e.action, e.staff_id))
        .collect();
    let staff = || Some(STAFF_ID.to_string());
    assert_eq!(
        actions,
        vec![
            (AuditAction::SignatureWitnessed, staff()),
            (AuditAction::StaffModeOpened, staff()),
            (AuditAction::SyncRequested, staff()),
            (AuditAction::StaffModeClosed, staff()),
        ]
    );

    // The next person starts clean.
    ui.global::<AttractView>().invoke_start();
    assert_eq!(step(&running), Step::InsertCard);
    wait_until(&running, secs(10), "the next card read", || {
        step(&running) == Step::Identity
    });
    let next = record(&running).unwrap();
    assert_ne!(next.meta.record_id, record_id);
    assert_ne!(next.identity.id_number, FIRST_ID);
    assert_eq!(next.photos.portrait, None);
    assert!(next.documents.is_empty() && next.categories.is_empty());
    assert!(!portrait.get_has_preview());
    assert_eq!(portrait.get_hint(), NO_PICTURE_HINT);
    running.send(Event::CancelRequested);
    send_at(&running, Event::Cancel, Step::Attract);

    // Every effect of the session had a part of the kiosk to carry it out.
    let logs = logs.text();
    assert!(!logs.contains("no part of the kiosk carries out"), "{logs}");
}

#[test]
fn without_a_camera_the_portrait_page_says_so_plainly_and_nothing_hangs() {
    let world = World::new();
    // What a kiosk with a USB camera configured but not plugged in runs
    // (this machine has no camera).
    let paths = world.kiosk_paths(|d| {
        edit(
            d,
            &format!("kind = \"simulated\"\ndir = {:?}", world.camera()),
            "kind = \"v4l2\"\ntimeout_ms = 2000",
        )
    });
    let (ui, running) = launch(&paths);
    let secs = StdDuration::from_secs;

    ui.global::<AttractView>().invoke_start();
    wait_until(&running, secs(10), "the card read", || {
        step(&running) == Step::Identity
    });
    send_at(&running, Event::Next, Step::Portrait);
    wait_until(&running, secs(20), "the camera's failure notice", || {
        !ui.global::<Nav>().get_notice().is_empty()
    });
    let notice = ui.global::<Nav>().get_notice().to_string();
    let camera_messages: Vec<&str> = [
        CameraError::NoCamera,
        CameraError::NotFound(String::new()),
        CameraError::OpenFailed(String::new()),
        CameraError::Timeout,
        CameraError::Disconnected(String::new()),
        CameraError::BadFrame(String::new()),
    ]
    .iter()
    .map(CameraError::message_zh)
    .collect();
    assert!(
        camera_messages.contains(&notice.as_str()),
        "not a camera message: {notice:?}"
    );
    assert!(
        !notice.chars().any(|c| c.is_ascii_alphabetic()),
        "not plain Chinese: {notice:?}"
    );
    let portrait = ui.global::<PortraitView>();
    assert_eq!(portrait.get_hint(), notice.as_str());
    assert!(!portrait.get_has_preview());
    assert!(!portrait.get_captured());

    // Still answering: the person cannot go on without a photo, is told
    // so, and can go back or end the session.
    send_at(&running, Event::Next, Step::Portrait);
    assert_eq!(ui.global::<Nav>().get_notice(), "请先拍摄照片");
    send_at(&running, Event::Back, Step::Identity);
    running.send(Event::CancelRequested);
    send_at(&running, Event::Cancel, Step::Attract);
    for _ in 0..4 {
        running.tick();
        std::thread::sleep(StdDuration::from_millis(50));
    }
    assert_eq!(step(&running), Step::Attract);
}

/// The README's main job, exactly as `scripts/run-kiosk.sh` ships it: the
/// unchanged `kiosk-config/` (its simulated devices read and write the
/// repository's `assets/demo/` folders, relative to the working directory
/// as on a kiosk), the demo camera set up the way the script sets it up
/// (the sample portrait played as a person walking up), and the local
/// county platform the script starts (`county-platform serve --pki
/// tests/config_data/demo-pki`, on 127.0.0.1:8443). From the attract screen
/// to "done": the receipt lands in `assets/demo/printed/` and the record
/// reaches the platform.
#[test]
fn the_shipped_demo_registers_a_person_from_attract_to_done() {
    let logs = Logs::default();
    let _logging = logs.capture();
    let secs = StdDuration::from_secs;
    let root = repo();
    assert_eq!(
        std::env::current_dir().unwrap().canonicalize().unwrap(),
        root.canonicalize().unwrap(),
        "the shipped [devices] paths are relative to the repository"
    );
    // What run-kiosk.sh does before starting the kiosk.
    let camera = root.join("assets/demo/camera");
    std::fs::create_dir_all(&camera).unwrap();
    let _ = std::fs::remove_file(camera.join("astronaut.png"));
    std::fs::copy(
        root.join("tests/fixtures/photo/astronaut.png"),
        camera.join("approach-astronaut.png"),
    )
    .expect("the sample portrait (scripts/fetch-models.sh)");
    let temp = tempfile::tempdir().unwrap();
    let listen = "127.0.0.1:8443".parse().unwrap();
    assert!(
        std::net::TcpStream::connect(listen).is_err(),
        "something already answers on 127.0.0.1:8443 (a demo platform?); stop it for this test"
    );
    let platform = county_platform::start(
        &county_platform::PlatformConfig::demo(
            &root.join("tests/config_data/demo-pki"),
            &temp.path().join("platform.sqlite3"),
            listen,
        ),
        Arc::new(county_platform::Faults::default()),
    )
    .unwrap();
    let printed = root.join("assets/demo/printed");
    let receipts = || -> Vec<PathBuf> {
        std::fs::read_dir(&printed)
            .map(|entries| {
                entries
                    .map(|e| e.unwrap().path())
                    .filter(|p| p.extension().is_some_and(|e| e == "escpos"))
                    .collect()
            })
            .unwrap_or_default()
    };
    let receipts_before = receipts();

    let paths = KioskPaths {
        config_root: temp.path().join("kiosk-store"),
        factory: root.join("kiosk-config"),
        data: temp.path().join("kiosk-data"),
    };
    let (ui, running) = launch(&paths);
    ui.global::<AttractView>().invoke_start();
    assert_eq!(step(&running), Step::InsertCard);
    // The shipped reader places the first demo card by itself after 3 s.
    wait_until(&running, secs(15), "the demo card", || {
        step(&running) == Step::Identity
    });
    let first = record(&running).unwrap();
    assert_eq!(first.identity.id_number, FIRST_ID);
    wait_until(&running, secs(10), "the platform look-up", || {
        let kiosk = running.kiosk();
        let kiosk = kiosk.borrow();
        let found = kiosk.session().view(kiosk.now()).found_in_base;
        found.is_some()
    });

    // The demo camera's person walks up; the real coach takes the photo.
    send_at(&running, Event::Next, Step::Portrait);
    wait_until(
        &running,
        secs(40),
        "the coached portrait from the demo camera",
        || record(&running).is_some_and(|r| r.photos.portrait.is_some()),
    );
    assert!(record(&running).is_some_and(|r| r.photos.portrait_issues.is_empty()));

    send_at(&running, Event::Next, Step::Categories);
    send_at(
        &running,
        Event::ToggleCategory(Category::MartyrFamily),
        Step::Categories,
    );
    send_at(&running, Event::Next, Step::CategoryDetails(0));
    for event in [
        field("relation", FieldEdit::Choose(0)),
        field("deceased_name", FieldEdit::Text("林大山".into())),
        field("receives_pension", FieldEdit::Choose(0)),
    ] {
        send_at(&running, event, Step::CategoryDetails(0));
    }
    send_at(&running, Event::Next, Step::Documents);
    for (n, kind) in [
        DocumentKind::HouseholdRegister,
        DocumentKind::MartyrCertificate,
    ]
    .into_iter()
    .enumerate()
    {
        send_at(
            &running,
            Event::TakePhoto(PhotoPurpose::Document { kind, page: 1 }),
            Step::Documents,
        );
        wait_until(&running, secs(15), "a document photo", || {
            record(&running).is_some_and(|r| r.documents.len() == n + 1)
        });
    }
    send_at(&running, Event::Next, Step::Living);
    for event in [
        field("work", FieldEdit::Choose(4)),
        field("monthly_income_yuan", FieldEdit::Text("2000".into())),
        field("pension_insurance", FieldEdit::Choose(2)),
        field("medical_insurance", FieldEdit::Choose(1)),
        field("housing", FieldEdit::Choose(0)),
        field("social_assistance", FieldEdit::Toggle(4)),
        field("state_benefits", FieldEdit::Toggle(0)),
        field("disability_subsidies", FieldEdit::Toggle(2)),
    ] {
        send_at(&running, event, Step::Living);
    }
    send_at(&running, Event::Next, Step::Needs);
    send_at(&running, Event::Next, Step::Review);

    send_at(&running, Event::PrintRequested, Step::Sign);
    wait_until(&running, secs(10), "the printer's answer", || {
        printing(&running) == PrintState::AwaitingSignature
    });
    send_at(&running, Event::WitnessRequested, Step::Sign);
    send_at(
        &running,
        Event::StaffMemberChosen(STAFF_ID.into()),
        Step::Sign,
    );
    send_at(&running, Event::PinEntered(STAFF_PIN.into()), Step::Sign);
    wait_until(&running, secs(10), "done", || step(&running) == Step::Done);
    assert_eq!(ui.global::<Nav>().get_screen(), Screen::Done);
    let record_id = first.meta.record_id;

    // The receipt landed in assets/demo/printed/.
    let new_receipts: Vec<PathBuf> = receipts()
        .into_iter()
        .filter(|p| !receipts_before.contains(p))
        .collect();
    assert_eq!(new_receipts.len(), 1, "{new_receipts:?}");
    let bytes = std::fs::read(&new_receipts[0]).unwrap();
    let (text, _, _) = encoding_rs::GB18030.decode(&bytes);
    assert!(text.contains(FIRST_NAME));

    // The record reaches the platform (staff send it now, as on a kiosk).
    send_at(&running, Event::StaffGesture, Step::Done);
    send_at(
        &running,
        Event::StaffMemberChosen(STAFF_ID.into()),
        Step::Done,
    );
    send_at(&running, Event::PinEntered(STAFF_PIN.into()), Step::Done);
    send_at(&running, Event::Staff(StaffCommand::SyncNow), Step::Done);
    wait_until(&running, secs(30), "the record at the platform", || {
        platform
            .state
            .db()
            .list(None)
            .is_ok_and(|received| received.iter().any(|r| r.record_id == record_id))
    });
    let _ = std::fs::remove_file(&new_receipts[0]);
    let logged = logs.text();
    assert!(!logged.contains("ERROR"), "{logged}");
}

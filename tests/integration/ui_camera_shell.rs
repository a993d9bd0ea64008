//! The camera shell with real parts: the in-memory test camera fed with the
//! real sample photographs (scripts/fetch-models.sh), the real face model,
//! coach and encoder, and the real V4L2 camera driver on this machine
//! (which has no camera). Only the camera edge is stood in for.

use crate::photo_support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use image::imageops::{self, FilterType};
use image::{Rgb, RgbImage};
use kiosk_core::category::DocumentKind;
use kiosk_core::record::PhotoRef;
use kiosk_core::session::{Effect, Event, PhotoPurpose};
use photo_support::{analyzer, astronaut, large_astronaut, sample};
use trust::sha256_hex;
use veteran_kiosk::devices::camera::nokhwa::NokhwaCamera;
use veteran_kiosk::devices::camera::test::TestCamera;
use veteran_kiosk::devices::camera::{CameraError, CameraSelector, Frame};
use veteran_kiosk::kiosk::shell::camera::{
    CameraShell, SessionPhotos, NOT_CHECKED_ISSUE_ZH, NO_ANALYZER_HINT_ZH, NO_ANALYZER_MESSAGE_ZH,
    PREVIEW_MAX_WIDTH, TAKEN_HINT_ZH, TAKING_HINT_ZH, WORKER_GONE_ZH,
};
use veteran_kiosk::kiosk::shell::CameraView;
use veteran_kiosk::photo::{
    assess_portrait_file, decode_photo, PortraitAnalyzer, OUTPUT_HEIGHT, OUTPUT_WIDTH,
};
use veteran_kiosk::store::Blobs;

const NO_FACE_HINT: &str = "请正对摄像头";
const HOLD_STILL_HINT: &str = "请保持不动";

fn frame(image: &RgbImage) -> Frame {
    Frame::from_rgb(image.width(), image.height(), image.as_raw().clone())
        .expect("an image is a whole frame")
}

/// A test camera that shows `image` until told otherwise.
fn camera_showing(image: &RgbImage) -> TestCamera {
    let camera = TestCamera::default();
    camera.state().last = Some(frame(image));
    camera
}

/// A 1600×1200 camera frame of the astronaut photo (enlarged to 1200×1200,
/// enough pixels for the standard portrait), `shift` pixels right of the
/// middle, on a plain wall.
fn astronaut_in_front(shift: i64) -> RgbImage {
    let person = imageops::resize(&astronaut(), 1200, 1200, FilterType::Triangle);
    let mut frame = RgbImage::from_pixel(1600, 1200, Rgb([190, 185, 190]));
    imageops::replace(&mut frame, &person, 200 + shift, 0);
    frame
}

/// The coffee photograph (no face) at a camera's size.
fn nobody() -> RgbImage {
    imageops::resize(&sample("coffee.png"), 1280, 720, FilterType::Triangle)
}

/// What the portrait page showed, as the UI would see it on each tick.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    hint: String,
    ok: bool,
    frame: Option<(u32, u32)>,
}

fn seen(view: &CameraView) -> Seen {
    Seen {
        hint: view.hint_zh.clone(),
        ok: view.ok,
        frame: view.frame.as_ref().map(|f| (f.width, f.height)),
    }
}

/// A shell under test, polled like the kiosk loop does.
struct Run {
    shell: CameraShell,
    photos: SessionPhotos,
    /// Every view seen, consecutive repeats left out.
    views: Vec<Seen>,
    events: Vec<Event>,
}

impl Run {
    fn start(
        camera: Box<dyn veteran_kiosk::devices::camera::Camera>,
        analyzer: Option<Arc<PortraitAnalyzer>>,
    ) -> Run {
        let photos: SessionPhotos = Arc::new(Mutex::new(Blobs::new()));
        Run {
            shell: CameraShell::start(camera, analyzer, Arc::clone(&photos)),
            photos,
            views: Vec::new(),
            events: Vec::new(),
        }
    }

    /// What the kiosk's effect router does with the camera's effects.
    fn execute(&mut self, effect: Effect) {
        match effect {
            Effect::StartCamera => self.shell.start_live(),
            Effect::StopCamera => self.shell.stop_live(),
            Effect::CapturePhoto(purpose) => self.shell.capture(purpose),
            Effect::CapturePortraitNow => self.shell.capture_now(),
            other => panic!("not a camera effect: {other:?}"),
        }
    }

    fn tick(&mut self) {
        self.events.extend(self.shell.poll());
        if let Some(view) = self.shell.view() {
            if let Some(frame) = &view.frame {
                assert_eq!(frame.rgb.len(), (frame.width * frame.height * 3) as usize);
            }
            let now = seen(&view);
            if self.views.last() != Some(&now) {
                self.views.push(now);
            }
        }
    }

    /// Polls until an event matches `want` or `limit` passes.
    fn wait_for(&mut self, limit: Duration, want: impl Fn(&Event) -> bool) -> Option<Event> {
        let deadline = Instant::now() + limit;
        loop {
            self.tick();
            if let Some(found) = self.events.iter().find(|e| want(e)) {
                return Some(found.clone());
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Polls for `time`, for tests about what must not happen.
    fn watch(&mut self, time: Duration) {
        let _ = self.wait_for(time, |_| false);
    }

    fn blob(&self, photo: &PhotoRef) -> Vec<u8> {
        let blobs = self.photos.lock().unwrap();
        let bytes = blobs
            .get(&photo.sha256)
            .unwrap_or_else(|| panic!("{photo:?} is not in the session's photos"))
            .to_vec();
        assert_eq!(photo.bytes, bytes.len() as u64);
        assert_eq!(photo.sha256, sha256_hex(&bytes));
        bytes
    }
}

fn wait_until(limit: Duration, what: &str, condition: impl Fn() -> bool) {
    let deadline = Instant::now() + limit;
    while !condition() {
        assert!(Instant::now() < deadline, "gave up waiting: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn shared_analyzer() -> Option<Arc<PortraitAnalyzer>> {
    Some(Arc::new(analyzer()))
}

#[test]
fn a_person_who_moves_into_place_is_coached_then_photographed() {
    // A few frames off to one side, then in place (the test camera repeats
    // its last frame).
    let camera = TestCamera::default();
    let aside = frame(&astronaut_in_front(300));
    for _ in 0..6 {
        camera.push(Ok(aside.clone()));
    }
    camera.push(Ok(frame(&astronaut_in_front(0))));
    let mut run = Run::start(Box::new(camera.clone()), shared_analyzer());
    run.execute(Effect::StartCamera);
    let taken = run.wait_for(Duration::from_secs(20), |e| {
        matches!(e, Event::PortraitTaken(_) | Event::PhotoFailed { .. })
    });
    let Some(Event::PortraitTaken(photo)) = taken else {
        panic!("no portrait: {taken:?}; views {:#?}", run.views);
    };

    let bytes = run.blob(&photo);
    assert!(bytes.len() <= 300_000, "{} bytes", bytes.len());
    let decoded = decode_photo(&bytes).expect("the portrait is a JPEG");
    assert_eq!(
        (decoded.width(), decoded.height()),
        (OUTPUT_WIDTH, OUTPUT_HEIGHT)
    );
    assert_eq!(assess_portrait_file(&bytes), vec![]);

    // The coach advised (not yet right), then said hold still, then froze
    // the standard portrait.
    let advice = run
        .views
        .iter()
        .position(|v| !v.ok && v.frame.is_some())
        .unwrap_or_else(|| panic!("no advice seen: {:#?}", run.views));
    let holding = run
        .views
        .iter()
        .position(|v| v.ok && v.hint == HOLD_STILL_HINT)
        .unwrap_or_else(|| panic!("no 'hold still' seen: {:#?}", run.views));
    assert!(advice < holding, "{:#?}", run.views);
    for view in &run.views[..holding] {
        if let Some((width, _)) = view.frame {
            assert!(width <= PREVIEW_MAX_WIDTH, "{view:?}");
        }
    }
    let frozen = Seen {
        hint: TAKEN_HINT_ZH.into(),
        ok: true,
        frame: Some((OUTPUT_WIDTH, OUTPUT_HEIGHT)),
    };
    assert_eq!(run.views.last(), Some(&frozen));
    wait_until(
        Duration::from_secs(2),
        "the camera closes once the portrait is taken",
        || !camera.state().open,
    );

    // The session stops the camera after the portrait: the portrait stays
    // on screen, until the session's photos are cleared.
    run.execute(Effect::StopCamera);
    assert_eq!(run.shell.view().as_ref().map(seen), Some(frozen));
    *run.photos.lock().unwrap() = Blobs::new();
    assert_eq!(run.shell.view(), None);
    assert_eq!(
        run.events
            .iter()
            .filter(|e| matches!(e, Event::PortraitTaken(_)))
            .count(),
        1
    );
}

/// The demo camera as `scripts/run-kiosk.sh` sets it up (the sample
/// portrait as `approach-astronaut.png`): the person walks up, the real
/// coach first says to come closer, then takes the picture by itself
/// (coach and standardisation both pass it).
#[test]
fn the_demo_camera_walks_up_and_is_photographed_by_the_real_coach() {
    use veteran_kiosk::devices::camera::simulated::SimulatedCamera;
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::copy(
        photo_support::project_root().join("tests/fixtures/photo/astronaut.png"),
        dir.path().join("approach-astronaut.png"),
    )
    .expect("copy the sample portrait");
    let camera = SimulatedCamera::new(dir.path(), Duration::from_millis(50));
    let mut run = Run::start(Box::new(camera), shared_analyzer());
    run.execute(Effect::StartCamera);
    let taken = run.wait_for(Duration::from_secs(40), |e| {
        matches!(e, Event::PortraitTaken(_) | Event::PhotoFailed { .. })
    });
    let Some(Event::PortraitTaken(photo)) = taken else {
        panic!("no portrait: {taken:?}; views {:#?}", run.views);
    };
    assert_eq!(assess_portrait_file(&run.blob(&photo)), vec![]);
    let hints: Vec<&str> = run.views.iter().map(|v| v.hint.as_str()).collect();
    let closer = hints.iter().position(|h| *h == "靠近一点");
    let taking = hints.iter().position(|h| *h == TAKING_HINT_ZH);
    assert!(
        matches!((closer, taking), (Some(c), Some(t)) if c < t),
        "{hints:?}"
    );
}

#[test]
fn a_frame_without_a_face_is_never_taken_and_the_coach_says_so() {
    let mut run = Run::start(Box::new(camera_showing(&nobody())), shared_analyzer());
    run.execute(Effect::StartCamera);
    // Twice the coach's steady second: it would have shot by now.
    run.watch(Duration::from_millis(2500));
    assert_eq!(run.events, vec![], "{:#?}", run.views);
    assert!(run.photos.lock().unwrap().is_empty());
    let live: Vec<&Seen> = run.views.iter().filter(|v| v.frame.is_some()).collect();
    assert!(!live.is_empty(), "no preview seen: {:#?}", run.views);
    for view in live {
        assert_eq!(
            view,
            &Seen {
                hint: NO_FACE_HINT.into(),
                ok: false,
                frame: Some((640, 360)),
            }
        );
    }
}

#[test]
fn still_photos_of_the_card_and_certificates_are_stored_under_their_caps() {
    // A detailed 1280×720 picture, so the caps matter; no face model needed.
    let detailed = imageops::crop_imm(&large_astronaut(), 0, 280, 1280, 720).to_image();
    let camera = camera_showing(&detailed);
    let mut run = Run::start(Box::new(camera.clone()), None);
    let cases = [
        (PhotoPurpose::IdCard, 40_000),
        (
            PhotoPurpose::Document {
                kind: DocumentKind::IdCard,
                page: 1,
            },
            40_000,
        ),
        (
            PhotoPurpose::Document {
                kind: DocumentKind::DischargeCertificate,
                page: 1,
            },
            300_000,
        ),
    ];
    for (purpose, cap) in cases {
        run.events.clear();
        run.execute(Effect::CapturePhoto(purpose));
        let answer = run.wait_for(Duration::from_secs(20), |_| true);
        let photo = match (purpose, answer) {
            (PhotoPurpose::IdCard, Some(Event::CardPhotoTaken(photo))) => photo,
            (PhotoPurpose::Document { kind, .. }, Some(Event::DocumentTaken(doc)))
                if doc.kind == kind =>
            {
                doc.photo
            }
            (_, other) => panic!("{purpose:?}: {other:?}"),
        };
        let bytes = run.blob(&photo);
        assert!(bytes.len() <= cap, "{purpose:?}: {} bytes", bytes.len());
        let decoded = decode_photo(&bytes).expect("a JPEG");
        assert!(
            decoded.width() <= 1280 && decoded.width() >= 320,
            "{purpose:?}"
        );
        let shape = decoded.width() as f32 / decoded.height() as f32;
        assert!(
            (shape - 16.0 / 9.0).abs() < 0.02,
            "{purpose:?} keeps its shape"
        );
        wait_until(
            Duration::from_secs(2),
            "the camera closes after a still",
            || !camera.state().open,
        );
    }
    // The same picture encoded under the same cap is the same blob.
    assert_eq!(run.photos.lock().unwrap().len(), 2);
    assert_eq!(
        run.shell.view(),
        None,
        "stills do not show on the portrait page"
    );
}

#[test]
fn no_camera_on_this_machine_is_a_plain_failure_not_a_hang() {
    let camera = NokhwaCamera::new(CameraSelector::First, 1280, 720, Duration::from_secs(2));
    let mut run = Run::start(Box::new(camera), shared_analyzer());
    let no_camera = CameraError::NoCamera.message_zh();

    run.execute(Effect::StartCamera);
    let failed = run.wait_for(Duration::from_secs(5), |_| true);
    assert_eq!(
        failed,
        Some(Event::PhotoFailed {
            message_zh: no_camera.into()
        })
    );
    let view = run.shell.view().expect("the portrait page explains");
    assert_eq!((view.hint_zh.as_str(), view.ok), (no_camera, false));
    let line = run.shell.status_line();
    assert_eq!(
        (line.name_zh.as_str(), line.ok, line.status_zh.as_str()),
        ("摄像头", false, no_camera)
    );

    run.events.clear();
    run.execute(Effect::CapturePhoto(PhotoPurpose::IdCard));
    let failed = run.wait_for(Duration::from_secs(5), |_| true);
    assert_eq!(
        failed,
        Some(Event::PhotoFailed {
            message_zh: no_camera.into()
        })
    );
    run.execute(Effect::StopCamera);
    assert_eq!(run.shell.view(), None);
}

#[test]
fn camera_faults_become_plain_messages_and_a_glitch_is_ridden_out() {
    let analyzer = shared_analyzer();
    let bad_frame = || {
        Ok(Frame {
            width: 10,
            height: 10,
            rgb: vec![],
        })
    };
    let message = |err: CameraError| Some(err.message_zh().to_string());
    type Fault = Result<Frame, CameraError>;
    let cases: Vec<(&str, Vec<Fault>, Option<String>)> = vec![
        (
            "unplugged",
            vec![Err(CameraError::Disconnected("gone".into()))],
            message(CameraError::Disconnected(String::new())),
        ),
        (
            "no camera",
            vec![Err(CameraError::NoCamera)],
            message(CameraError::NoCamera),
        ),
        (
            "busy",
            vec![Err(CameraError::OpenFailed("busy".into()))],
            message(CameraError::OpenFailed(String::new())),
        ),
        (
            "garbled frames",
            (0..4)
                .map(|_| Err(CameraError::BadFrame("x".into())))
                .collect(),
            message(CameraError::BadFrame(String::new())),
        ),
        (
            "frames of the wrong size",
            (0..4).map(|_| bad_frame()).collect(),
            message(CameraError::BadFrame(String::new())),
        ),
        (
            "no frames in time",
            (0..4).map(|_| Err(CameraError::Timeout)).collect(),
            message(CameraError::Timeout),
        ),
        (
            "a glitch",
            vec![
                Err(CameraError::Timeout),
                Err(CameraError::BadFrame("x".into())),
                Err(CameraError::Timeout),
            ],
            None,
        ),
    ];
    for (name, faults, expected) in cases {
        let camera = camera_showing(&nobody());
        for fault in faults {
            camera.push(fault);
        }
        let mut run = Run::start(Box::new(camera.clone()), analyzer.clone());
        run.execute(Effect::StartCamera);
        match expected {
            Some(message_zh) => {
                let failed = run.wait_for(Duration::from_secs(5), |_| true);
                assert_eq!(
                    failed,
                    Some(Event::PhotoFailed {
                        message_zh: message_zh.clone()
                    }),
                    "{name}"
                );
                let view = run.shell.view().expect("the page explains");
                assert_eq!(
                    (view.hint_zh.as_str(), view.ok),
                    (message_zh.as_str(), false),
                    "{name}"
                );
                assert!(!run.shell.status_line().ok, "{name}");
                wait_until(Duration::from_secs(2), name, || !camera.state().open);
            }
            None => {
                run.watch(Duration::from_millis(1500));
                assert_eq!(run.events, vec![], "{name}");
                assert!(
                    run.views
                        .iter()
                        .any(|v| v.hint == NO_FACE_HINT && v.frame.is_some()),
                    "{name}: {:#?}",
                    run.views
                );
                assert!(run.shell.status_line().ok, "{name}");
            }
        }
    }
}

#[test]
fn stopping_the_camera_stops_the_frames() {
    let camera = camera_showing(&nobody());
    let mut run = Run::start(Box::new(camera.clone()), shared_analyzer());
    run.execute(Effect::StartCamera);
    wait_until(Duration::from_secs(5), "frames flow", || {
        camera.state().frames_taken >= 3
    });
    assert!(run.shell.status_line().ok);

    run.execute(Effect::StopCamera);
    assert_eq!(run.shell.view(), None, "the preview goes at once");
    wait_until(Duration::from_secs(2), "the camera closes", || {
        !camera.state().open
    });
    let taken = camera.state().frames_taken;
    run.watch(Duration::from_millis(300));
    assert_eq!(
        camera.state().frames_taken,
        taken,
        "no frames after the stop"
    );
    assert_eq!(run.events, vec![]);
    assert_eq!(run.shell.view(), None);

    // It starts again, and dropping the shell closes the camera.
    run.execute(Effect::StartCamera);
    wait_until(Duration::from_secs(5), "frames flow again", || {
        camera.state().frames_taken > taken && camera.state().open
    });
    drop(run);
    wait_until(
        Duration::from_secs(2),
        "dropping the shell closes the camera",
        || !camera.state().open,
    );
}

#[test]
fn without_the_face_model_the_person_is_told_at_once_and_takes_the_picture_by_hand() {
    let camera = camera_showing(&astronaut_in_front(0));
    let mut run = Run::start(Box::new(camera.clone()), None);
    run.execute(Effect::StartCamera);
    // Answered on the spot, not after a camera timeout.
    assert_eq!(
        run.shell.poll(),
        vec![Event::AutoCaptureUnavailable {
            message_zh: NO_ANALYZER_MESSAGE_ZH.into()
        }]
    );
    let view = run.shell.view().expect("the page explains");
    assert_eq!(
        seen(&view),
        Seen {
            hint: NO_ANALYZER_HINT_ZH.into(),
            ok: false,
            frame: None
        }
    );
    let line = run.shell.status_line();
    assert!(
        !line.ok && line.status_zh.contains("人脸识别模型"),
        "{line:?}"
    );
    // The camera shows the person all the same.
    wait_until(
        Duration::from_secs(10),
        "a preview without the coach",
        || {
            run.shell
                .view()
                .is_some_and(|v| v.frame.is_some() && v.hint_zh == NO_ANALYZER_HINT_ZH)
        },
    );

    run.execute(Effect::CapturePortraitNow);
    let taken = run.wait_for(Duration::from_secs(20), |e| {
        matches!(
            e,
            Event::PortraitTakenWithIssues { .. }
                | Event::PortraitTaken(_)
                | Event::PhotoFailed { .. }
        )
    });
    let Some(Event::PortraitTakenWithIssues { photo, issues_zh }) = taken else {
        panic!("no portrait by hand: {taken:?}");
    };
    assert_eq!(issues_zh, [NOT_CHECKED_ISSUE_ZH]);
    let bytes = run.blob(&photo);
    assert!(bytes.len() <= 300_000, "{} bytes", bytes.len());
    let decoded = decode_photo(&bytes).expect("the portrait is a JPEG");
    assert_eq!(
        (decoded.width(), decoded.height()),
        (OUTPUT_WIDTH, OUTPUT_HEIGHT)
    );
    run.execute(Effect::StopCamera);

    run.execute(Effect::CapturePhoto(PhotoPurpose::Document {
        kind: DocumentKind::HouseholdRegister,
        page: 1,
    }));
    let answer = run.wait_for(Duration::from_secs(10), |e| {
        matches!(e, Event::DocumentTaken(_) | Event::PhotoFailed { .. })
    });
    assert!(
        matches!(answer, Some(Event::DocumentTaken(_))),
        "{answer:?}"
    );
}

/// Someone who cannot come closer (a wheelchair at the kiosk): the coach
/// never captures, "拍照" takes the best frame, standardised, with the
/// issues it still has for staff.
#[test]
fn take_now_gives_the_best_frame_so_far_standardised_with_its_issues() {
    let camera = camera_showing(&photo_support::far_astronaut());
    let mut run = Run::start(Box::new(camera.clone()), shared_analyzer());
    run.execute(Effect::StartCamera);
    wait_until(Duration::from_secs(20), "the coach advises", || {
        run.shell.view().is_some_and(|v| v.frame.is_some())
    });
    run.watch(Duration::from_millis(500));
    assert!(
        !run.events
            .iter()
            .any(|e| matches!(e, Event::PortraitTaken(_))),
        "{:?}",
        run.events
    );
    run.execute(Effect::CapturePortraitNow);
    let taken = run.wait_for(Duration::from_secs(20), |e| {
        matches!(
            e,
            Event::PortraitTakenWithIssues { .. }
                | Event::PortraitTaken(_)
                | Event::PhotoFailed { .. }
        )
    });
    let Some(Event::PortraitTakenWithIssues { photo, issues_zh }) = taken else {
        panic!("no portrait by hand: {taken:?}");
    };
    assert!(
        issues_zh
            .iter()
            .any(|i| i.contains("靠近一点") || i.contains("头部太小")),
        "{issues_zh:?}"
    );
    assert!(!issues_zh.contains(&NOT_CHECKED_ISSUE_ZH.to_string()));
    let decoded = decode_photo(&run.blob(&photo)).expect("the portrait is a JPEG");
    assert_eq!(
        (decoded.width(), decoded.height()),
        (OUTPUT_WIDTH, OUTPUT_HEIGHT)
    );
    assert_eq!(
        run.shell.view().map(|v| v.hint_zh),
        Some(TAKEN_HINT_ZH.to_string())
    );
    wait_until(Duration::from_secs(2), "the camera closes", || {
        !camera.state().open
    });
}

/// A camera whose driver panics on a frame: the worker thread dies with it.
struct PanickingCamera;

impl veteran_kiosk::devices::camera::Camera for PanickingCamera {
    fn list(&mut self) -> Result<Vec<veteran_kiosk::devices::camera::CameraInfo>, CameraError> {
        Ok(Vec::new())
    }
    fn open(&mut self) -> Result<veteran_kiosk::devices::camera::CameraMode, CameraError> {
        Err(CameraError::NoCamera)
    }
    fn frame(&mut self) -> Result<Frame, CameraError> {
        panic!("driver bug (on purpose, in a test)");
    }
    fn close(&mut self) {}
    fn status(&mut self) -> veteran_kiosk::devices::camera::CameraStatus {
        veteran_kiosk::devices::camera::CameraStatus::Idle { cameras: 1 }
    }
    fn describe(&self) -> String {
        "panicking test camera".into()
    }
}

#[test]
fn a_dead_camera_worker_still_answers_the_portrait_and_every_photo() {
    let gone =
        |e: &Event| matches!(e, Event::PhotoFailed { message_zh } if message_zh == WORKER_GONE_ZH);
    let mut run = Run::start(Box::new(PanickingCamera), shared_analyzer());
    // The still photo's frame kills the worker while it holds the job.
    run.execute(Effect::CapturePhoto(PhotoPurpose::IdCard));
    let answer = run.wait_for(Duration::from_secs(10), gone);
    assert!(answer.is_some(), "{:?}", run.events);

    // Asked after the death: answered at once, on the next poll.
    run.events.clear();
    run.execute(Effect::StartCamera);
    run.execute(Effect::CapturePhoto(PhotoPurpose::Document {
        kind: DocumentKind::HouseholdRegister,
        page: 1,
    }));
    run.tick();
    assert_eq!(
        run.events.iter().filter(|e| gone(e)).count(),
        2,
        "{:?}",
        run.events
    );
    let line = run.shell.status_line();
    assert!(!line.ok && line.status_zh == WORKER_GONE_ZH, "{line:?}");
}

#[test]
fn a_camera_worker_that_dies_during_the_live_portrait_answers_it() {
    let gone =
        |e: &Event| matches!(e, Event::PhotoFailed { message_zh } if message_zh == WORKER_GONE_ZH);
    let mut run = Run::start(Box::new(PanickingCamera), shared_analyzer());
    run.execute(Effect::StartCamera);
    let answer = run.wait_for(Duration::from_secs(10), gone);
    assert!(answer.is_some(), "{:?}", run.events);
    assert_eq!(
        run.events.iter().filter(|e| gone(e)).count(),
        1,
        "{:?}",
        run.events
    );
}

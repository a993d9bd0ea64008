//! Measures the waits a person sees, through the real kiosk (configuration
//! store, devices, shell, Slint window) with the simulated card reader and
//! camera:
//!
//! 1. card laid on the reader → the identity page with the card's name,
//!    one full frame of it rendered; beside it the reader's own read (the
//!    simulated reader asked directly), and the difference;
//! 2. the portrait page's live preview: camera pictures handed to the
//!    window per second, and the process's CPU time per second (1.0 = one
//!    core) and per picture, over `VETERAN_KIOSK_MEASURE_SECONDS` (5).
//!
//! Run in a real window (see scripts/measure-ui.sh --waits):
//! `SLINT_BACKEND=winit-software xvfb-run -a -s "-screen 0 1920x1080x24" \
//!   target/release/examples/kiosk_waits`. Prints one JSON line. The camera
//! shows a person standing off to one side (the astronaut fixture), so the
//! coach keeps coaching and the preview keeps running.

// A measuring program may unwrap: a panic there is a failed measurement, not a kiosk crash.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};

use chrono::Utc;
use image::{imageops, Rgb, RgbImage};
use kiosk_core::session::{Event, Step};
use slint::ComponentHandle;
use veteran_kiosk::devices::card_reader::simulated::SimulatedReader;
use veteran_kiosk::devices::card_reader::{CardEvent, CardReader};
use veteran_kiosk::kiosk::boot::KioskPaths;
use veteran_kiosk::kiosk::Running;
use veteran_kiosk::ui::portrait_adapter::preview_frames_shown;
use veteran_kiosk::ui::{AttractView, IdentityView, PortraitView};

const CARD: &str = "01-lin-guohua.json";
const NAME: &str = "林国华";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// CPU seconds (user + system) of this process so far.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after = stat.rsplit(')').next().unwrap();
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15, the 12th and 13th after the name.
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    // USER_HZ is 100 on every platform Linux supports.
    ticks as f64 / 100.0
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The shipped configuration with the devices' folders in `dir` and no
/// card placed by itself.
fn kiosk_paths(dir: &Path) -> KioskPaths {
    let factory = dir.join("factory");
    copy_dir(&repo().join("kiosk-config"), &factory);
    let toml = factory.join("kiosk.toml");
    let text = std::fs::read_to_string(&toml)
        .unwrap()
        .replace(
            "dir = \"assets/demo/cards\"",
            &format!("dir = {:?}", dir.join("cards")),
        )
        .replace("auto_present_ms = 3000", "")
        .replace(
            "dir = \"assets/demo/camera\"",
            // A camera's 30 frames a second (the simulated one's default is 10).
            &format!("dir = {:?}\nframe_interval_ms = 33", dir.join("camera")),
        )
        .replace(
            "dir = \"assets/demo/printed\"",
            &format!("dir = {:?}", dir.join("printed")),
        );
    std::fs::write(&toml, text).unwrap();
    std::fs::create_dir_all(dir.join("cards")).unwrap();
    std::fs::copy(
        repo().join("assets/demo/cards").join(CARD),
        dir.join("cards").join(CARD),
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("camera")).unwrap();
    // Six frames with the person swaying a little: a picture that does not
    // change is not handed to the window again, so a still would count none.
    for (index, shift) in [0i64, 12, 24, 36, 24, 12].into_iter().enumerate() {
        person_to_one_side(shift)
            .save(dir.join("camera").join(format!("person-{index}.jpg")))
            .unwrap();
    }
    KioskPaths {
        config_root: dir.join("kiosk-store"),
        factory,
        data: dir.join("kiosk-data"),
    }
}

/// A 1920×1080 camera frame with a person (the astronaut fixture) well to
/// one side: the coach asks them to move, so no portrait is taken.
fn person_to_one_side(shift: i64) -> RgbImage {
    let path = repo().join("tests/fixtures/photo/astronaut.png");
    let astronaut = image::open(&path)
        .unwrap_or_else(|err| panic!("{}: {err}; run scripts/fetch-models.sh", path.display()))
        .to_rgb8();
    let person = imageops::resize(&astronaut, 900, 900, imageops::FilterType::Triangle);
    let mut frame = RgbImage::from_pixel(1920, 1080, Rgb([190, 185, 190]));
    imageops::replace(&mut frame, &person, 40 + shift, 180);
    frame
}

/// The simulated reader's own read of the card: from "present" to the
/// decoded card, asked directly (median of 21).
fn reader_own_read_ms(dir: &Path) -> f64 {
    let mut reader = SimulatedReader::new(dir.join("cards"), None);
    let control = reader.control();
    let today = Utc::now().date_naive();
    let mut times: Vec<f64> = (0..21)
        .map(|_| {
            control.present(Some(CARD));
            let started = Instant::now();
            let event = reader.poll(today).unwrap();
            let elapsed = started.elapsed().as_secs_f64() * 1000.0;
            assert!(matches!(event, CardEvent::Read(_)), "{event:?}");
            control.remove();
            assert!(matches!(reader.poll(today).unwrap(), CardEvent::NoCard));
            elapsed
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

#[derive(Default)]
struct Figures {
    card_to_identity_ms: Option<f64>,
    state_to_identity_ms: Option<f64>,
    preview: Option<(f64, f64, u64, f64)>,
}

fn step(running: &Running) -> Step {
    running.kiosk().borrow().session().step()
}

fn main() -> Result<(), slint::PlatformError> {
    let dir = std::env::temp_dir().join(format!("kiosk-waits-{}", std::process::id()));
    let paths = kiosk_paths(&dir);
    let read_ms = reader_own_read_ms(&dir);
    let seconds: f64 = std::env::var("VETERAN_KIOSK_MEASURE_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5.0);

    let (ui, running) = veteran_kiosk::kiosk::launch(&paths)?;
    let running = Rc::new(running);
    let figures = Rc::new(RefCell::new(Figures::default()));
    let cards = dir.join("cards");

    // The script runs on the UI thread, one look every millisecond.
    let phase = Rc::new(RefCell::new(0u32));
    let mark = Rc::new(RefCell::new(Instant::now()));
    let counters = Rc::new(RefCell::new((0u64, 0f64)));
    let timer = slint::Timer::default();
    let weak = ui.as_weak();
    let (r, f, p, m, c) = (
        running.clone(),
        figures.clone(),
        phase.clone(),
        mark.clone(),
        counters.clone(),
    );
    timer.start(
        slint::TimerMode::Repeated,
        Duration::from_millis(1),
        move || {
            let Some(ui) = weak.upgrade() else { return };
            let now = Instant::now();
            let since = now.duration_since(*m.borrow());
            let current = *p.borrow();
            match current {
                // Let the window settle, then tap "开始".
                0 if since >= Duration::from_millis(1500) => {
                    ui.global::<AttractView>().invoke_start();
                    *p.borrow_mut() = 1;
                    *m.borrow_mut() = now;
                }
                // The reader is armed; lay the card down.
                1 if step(&r) == Step::InsertCard && since >= Duration::from_millis(700) => {
                    std::fs::write(cards.join("present"), CARD).unwrap();
                    *p.borrow_mut() = 2;
                    *m.borrow_mut() = Instant::now();
                }
                2 if ui.global::<IdentityView>().get_name() == NAME => {
                    let state_ms = since.as_secs_f64() * 1000.0;
                    // The software renderer cannot say when a frame is on
                    // screen: one whole frame of the page is rendered here
                    // and counted in.
                    let _ = ui.window().take_snapshot();
                    let total_ms = m.borrow().elapsed().as_secs_f64() * 1000.0;
                    f.borrow_mut().card_to_identity_ms = Some(total_ms);
                    f.borrow_mut().state_to_identity_ms = Some(state_ms);
                    let _ = std::fs::remove_file(cards.join("present"));
                    *p.borrow_mut() = 3;
                    *m.borrow_mut() = now;
                }
                // On to the portrait page.
                3 if step(&r) == Step::Portrait => {
                    *p.borrow_mut() = 4;
                    *m.borrow_mut() = now;
                }
                3 if since >= Duration::from_millis(300) => {
                    r.send(Event::Next);
                    *m.borrow_mut() = now;
                }
                // Two seconds for the camera to open, then measure.
                4 if since >= Duration::from_secs(2) => {
                    *c.borrow_mut() = (preview_frames_shown(), cpu_seconds());
                    *p.borrow_mut() = 5;
                    *m.borrow_mut() = now;
                }
                5 if since.as_secs_f64() >= seconds => {
                    let (frames0, cpu0) = *c.borrow();
                    let frames = preview_frames_shown() - frames0;
                    let cpu = cpu_seconds() - cpu0;
                    let wall = since.as_secs_f64();
                    let portrait = ui.global::<PortraitView>();
                    eprintln!(
                        "step {:?}, hint {:?}, has preview {}",
                        step(&r),
                        portrait.get_hint(),
                        portrait.get_has_preview()
                    );
                    f.borrow_mut().preview = Some((
                        frames as f64 / wall,
                        cpu / wall,
                        frames,
                        cpu * 1000.0 / frames.max(1) as f64,
                    ));
                    *p.borrow_mut() = 6;
                    let _ = ui.hide();
                    let _ = slint::quit_event_loop();
                }
                _ => {}
            }
        },
    );
    ui.run()?;
    drop(timer);
    let figures = figures.borrow();
    let preview = figures.preview.unwrap_or_default();
    println!(
        "{{\"reader_own_read_ms\":{read_ms:.2},\"card_to_identity_ms\":{},\"beyond_read_ms\":{},\"card_to_identity_state_ms\":{},\"preview_frames_per_s\":{:.1},\"cpu_cores\":{:.2},\"preview_frames\":{},\"cpu_ms_per_frame\":{:.1},\"window\":\"{}x{}\"}}",
        figures.card_to_identity_ms.map_or("null".into(), |v| format!("{v:.1}")),
        figures.card_to_identity_ms.map_or("null".into(), |v| format!("{:.1}", v - read_ms)),
        figures.state_to_identity_ms.map_or("null".into(), |v| format!("{v:.1}")),
        preview.0,
        preview.1,
        preview.2,
        preview.3,
        ui.window().size().width,
        ui.window().size().height,
    );
    drop(ui);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

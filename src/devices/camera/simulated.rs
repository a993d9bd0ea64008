//! The demo-mode camera: still images or an image sequence (JPG/PNG files
//! in a directory, in name order, repeating), paced like a real camera.
//! A directory without images gives a plain test pattern, so the kiosk runs
//! with nothing installed.
//!
//! An image whose name starts with `approach` is a still of a person that
//! the camera plays as that person walking up: a few frames in which they
//! grow from far away to close, then standing still. The frames are made
//! at 1920×1080 from the still (scaled up as needed), so a small sample
//! portrait still gives the head enough pixels for the standard portrait,
//! and the photo coach sees what it sees with a real person. The approach
//! starts again each time the camera is opened.
//!
//! Faults on demand: from code ([`SimulatedCamera::set_fault`],
//! [`SimulatedCamera::fail_next`]) or by writing one word into `<dir>/fault`:
//! `no_camera`, `not_found`, `open_failed`, `timeout`, `disconnected`,
//! `bad_frame`. An empty or missing file means no fault.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use super::{Camera, CameraError, CameraInfo, CameraMode, CameraStatus, Frame};

const PATTERN_WIDTH: u32 = 1280;
const PATTERN_HEIGHT: u32 = 720;
/// The frames of an approach: a real camera's full HD.
const APPROACH_WIDTH: u32 = 1920;
const APPROACH_HEIGHT: u32 = 1080;
/// Frames in which the person walks up; after them they stand still.
const APPROACH_STEPS: usize = 24;
/// Frames the person then stands still before walking up again (the
/// sequence repeats like every other image sequence).
const APPROACH_HOLD: usize = 600;
/// The person's height on the first frame, as a share of the last.
const APPROACH_FAR: f32 = 0.4;
/// The picture's height on the last frame, as a share of the frame's
/// (a head-and-shoulders still filling the height is a person at the
/// distance the coach wants).
const APPROACH_NEAR: f32 = 1.0;
const APPROACH_BACKGROUND: image::Rgb<u8> = image::Rgb([118, 122, 128]);

#[derive(Debug, Default)]
struct Faults {
    sticky: Option<CameraError>,
    once: Option<CameraError>,
}

pub struct SimulatedCamera {
    dir: PathBuf,
    interval: Duration,
    faults: Arc<Mutex<Faults>>,
    next_index: usize,
    last_frame_at: Option<Instant>,
    open: Option<CameraMode>,
    /// Where the current approach image is in its walk-up.
    approach_step: usize,
    /// The decoded approach still and its standing frame, by path.
    approach_cache: Option<(PathBuf, image::RgbImage, Option<Frame>)>,
}

/// A handle to make the simulated camera misbehave from elsewhere (the
/// staff screen in demo mode, tests).
#[derive(Debug, Clone)]
pub struct SimulatedCameraControl {
    faults: Arc<Mutex<Faults>>,
}

impl SimulatedCameraControl {
    pub fn set_fault(&self, fault: Option<CameraError>) {
        lock(&self.faults).sticky = fault;
    }

    pub fn fail_next(&self, fault: CameraError) {
        lock(&self.faults).once = Some(fault);
    }
}

fn lock(faults: &Mutex<Faults>) -> MutexGuard<'_, Faults> {
    faults
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl SimulatedCamera {
    pub fn new(dir: impl Into<PathBuf>, interval: Duration) -> SimulatedCamera {
        SimulatedCamera {
            dir: dir.into(),
            interval,
            faults: Arc::new(Mutex::new(Faults::default())),
            next_index: 0,
            last_frame_at: None,
            open: None,
            approach_step: 0,
            approach_cache: None,
        }
    }

    pub fn control(&self) -> SimulatedCameraControl {
        SimulatedCameraControl {
            faults: Arc::clone(&self.faults),
        }
    }

    pub fn set_fault(&self, fault: Option<CameraError>) {
        self.control().set_fault(fault);
    }

    pub fn fail_next(&self, fault: CameraError) {
        self.control().fail_next(fault);
    }

    fn fault(&self) -> Option<CameraError> {
        let mut faults = lock(&self.faults);
        if let Some(once) = faults.once.take() {
            return Some(once);
        }
        faults
            .sticky
            .clone()
            .or_else(|| fault_from_file(&self.dir.join("fault")))
    }

    fn images(&self) -> Vec<PathBuf> {
        let mut images: Vec<PathBuf> = fs::read_dir(&self.dir)
            .map(|entries| {
                entries
                    .filter_map(|entry| entry.ok().map(|e| e.path()))
                    .filter(|path| is_image(path))
                    .collect()
            })
            .unwrap_or_default();
        images.sort();
        images
    }

    /// The frame at the current position; `advance` moves on.
    fn peek_frame(&mut self) -> Result<Frame, CameraError> {
        let images = self.images();
        match images.get(self.next_index % images.len().max(1)) {
            Some(path) if is_approach(path) => self.approach_frame(path),
            Some(path) => load_frame(path),
            None => Ok(test_pattern(PATTERN_WIDTH, PATTERN_HEIGHT)),
        }
    }

    fn advance(&mut self) {
        let images = self.images();
        let on_approach = images
            .get(self.next_index % images.len().max(1))
            .is_some_and(|path| is_approach(path));
        if on_approach && self.approach_step + 1 < APPROACH_STEPS + APPROACH_HOLD {
            self.approach_step += 1;
            return;
        }
        self.approach_step = 0;
        self.next_index = (self.next_index + 1) % images.len().max(1);
    }

    /// The current frame of the approach made from the still at `path`;
    /// the still is decoded once, the standing frame made once.
    fn approach_frame(&mut self, path: &Path) -> Result<Frame, CameraError> {
        let cached = self
            .approach_cache
            .as_ref()
            .is_some_and(|(cached, _, _)| cached == path);
        if !cached {
            let still = image::open(path)
                .map_err(|err| CameraError::BadFrame(format!("{}: {err}", path.display())))?
                .into_rgb8();
            self.approach_cache = Some((path.to_path_buf(), still, None));
        }
        let Some((_, still, standing)) = self.approach_cache.as_mut() else {
            return Err(CameraError::BadFrame("approach still not loaded".into()));
        };
        let step = self.approach_step.min(APPROACH_STEPS - 1);
        if step + 1 < APPROACH_STEPS {
            return Ok(approach_frame(still, step));
        }
        Ok(standing
            .get_or_insert_with(|| approach_frame(still, step))
            .clone())
    }
}

fn is_approach(path: &Path) -> bool {
    path.file_name()
        .and_then(|name| name.to_str())
        .is_some_and(|name| name.to_ascii_lowercase().starts_with("approach"))
}

/// Frame `step` of a person (the still) walking up to the camera: centred,
/// standing on the bottom edge while smaller than the frame, the head kept
/// at the top once larger.
fn approach_frame(still: &image::RgbImage, step: usize) -> Frame {
    use image::imageops::{self, FilterType};
    let progress = step as f32 / (APPROACH_STEPS - 1) as f32;
    let share = APPROACH_NEAR * (APPROACH_FAR + (1.0 - APPROACH_FAR) * progress);
    let height = (APPROACH_HEIGHT as f32 * share).round().max(1.0);
    let width = (height * still.width() as f32 / still.height().max(1) as f32)
        .round()
        .max(1.0);
    let person = imageops::resize(still, width as u32, height as u32, FilterType::Triangle);
    let mut frame =
        image::RgbImage::from_pixel(APPROACH_WIDTH, APPROACH_HEIGHT, APPROACH_BACKGROUND);
    let x = (i64::from(APPROACH_WIDTH) - person.width() as i64) / 2;
    let y = (i64::from(APPROACH_HEIGHT) - person.height() as i64).max(0);
    imageops::replace(&mut frame, &person, x, y);
    Frame {
        width: APPROACH_WIDTH,
        height: APPROACH_HEIGHT,
        rgb: frame.into_raw(),
    }
}

fn is_image(path: &Path) -> bool {
    path.extension()
        .and_then(|ext| ext.to_str())
        .is_some_and(|ext| matches!(ext.to_ascii_lowercase().as_str(), "jpg" | "jpeg" | "png"))
}

/// Decode an image file into a frame.
pub fn load_frame(path: &Path) -> Result<Frame, CameraError> {
    let image = image::open(path)
        .map_err(|err| CameraError::BadFrame(format!("{}: {err}", path.display())))?
        .into_rgb8();
    let (width, height) = image.dimensions();
    Frame::from_rgb(width, height, image.into_raw())
        .ok_or_else(|| CameraError::BadFrame("image size does not add up".into()))
}

fn fault_from_file(path: &Path) -> Option<CameraError> {
    let word = fs::read_to_string(path).ok()?;
    match word.trim() {
        "" => None,
        "no_camera" => Some(CameraError::NoCamera),
        "not_found" => Some(CameraError::NotFound("simulated".into())),
        "open_failed" => Some(CameraError::OpenFailed("simulated".into())),
        "timeout" => Some(CameraError::Timeout),
        "disconnected" => Some(CameraError::Disconnected("simulated".into())),
        other => Some(CameraError::BadFrame(format!("simulated fault {other:?}"))),
    }
}

/// Soft vertical bands, so a preview visibly shows "a picture".
fn test_pattern(width: u32, height: u32) -> Frame {
    let mut rgb = Vec::with_capacity((width * height * 3) as usize);
    for _y in 0..height {
        for x in 0..width {
            let shade = u8::try_from(96 + (x * 64 / width.max(1))).unwrap_or(u8::MAX);
            rgb.extend_from_slice(&[shade, shade, shade.saturating_add(16)]);
        }
    }
    Frame { width, height, rgb }
}

impl Camera for SimulatedCamera {
    fn list(&mut self) -> Result<Vec<CameraInfo>, CameraError> {
        match self.fault() {
            Some(CameraError::NoCamera) => Ok(Vec::new()),
            _ => Ok(vec![CameraInfo {
                index: 0,
                name: "Simulated camera".into(),
                description: format!("images from {}", self.dir.display()),
            }]),
        }
    }

    fn open(&mut self) -> Result<CameraMode, CameraError> {
        if let Some(fault) = self.fault() {
            self.open = None;
            return Err(fault);
        }
        if let Some(mode) = self.open {
            return Ok(mode);
        }
        let first = self.peek_frame()?;
        let fps = u32::try_from(1000 / self.interval.as_millis().max(1))
            .unwrap_or(1)
            .max(1);
        let mode = CameraMode {
            width: first.width,
            height: first.height,
            fps,
        };
        self.open = Some(mode);
        Ok(mode)
    }

    fn frame(&mut self) -> Result<Frame, CameraError> {
        self.open()?;
        if let Some(last) = self.last_frame_at {
            let due = last + self.interval;
            let now = Instant::now();
            if due > now {
                thread::sleep(due - now);
            }
        }
        self.last_frame_at = Some(Instant::now());
        if let Some(fault) = self.fault() {
            self.open = None;
            return Err(fault);
        }
        let frame = self.peek_frame();
        self.advance();
        frame
    }

    fn close(&mut self) {
        self.open = None;
        // The next person walks up again.
        self.approach_step = 0;
    }

    fn status(&mut self) -> CameraStatus {
        match (self.open, self.fault()) {
            (_, Some(CameraError::NoCamera)) => CameraStatus::NoCamera,
            (_, Some(fault)) => CameraStatus::Fault { error: fault },
            (Some(mode), None) => CameraStatus::Streaming { mode },
            (None, None) => CameraStatus::Idle { cameras: 1 },
        }
    }

    fn describe(&self) -> String {
        format!("simulated camera ({})", self.dir.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_png(path: &Path, width: u32, height: u32, value: u8) {
        image::RgbImage::from_pixel(width, height, image::Rgb([value, value, value]))
            .save(path)
            .unwrap();
    }

    #[test]
    fn plays_an_image_sequence_in_name_order_and_repeats() {
        let dir = tempfile::tempdir().unwrap();
        write_png(&dir.path().join("b.png"), 4, 3, 20);
        write_png(&dir.path().join("a.png"), 4, 3, 10);
        fs::write(dir.path().join("notes.txt"), "not an image").unwrap();
        let mut camera = SimulatedCamera::new(dir.path(), Duration::from_millis(1));
        let firsts: Vec<u8> = (0..4).map(|_| camera.frame().unwrap().rgb[0]).collect();
        assert_eq!(firsts, vec![10, 20, 10, 20]);
    }

    #[test]
    fn without_images_it_shows_a_test_pattern() {
        let dir = tempfile::tempdir().unwrap();
        let mut camera = SimulatedCamera::new(dir.path().join("missing"), Duration::from_millis(1));
        let mode = camera.open().unwrap();
        assert_eq!((mode.width, mode.height), (1280, 720));
        assert_eq!(camera.frame().unwrap().rgb.len(), 1280 * 720 * 3);
    }

    #[test]
    fn faults_on_demand() {
        let dir = tempfile::tempdir().unwrap();
        let mut camera = SimulatedCamera::new(dir.path(), Duration::from_millis(1));
        let control = camera.control();
        control.fail_next(CameraError::Timeout);
        assert_eq!(camera.frame(), Err(CameraError::Timeout));
        assert!(camera.frame().is_ok());
        fs::write(dir.path().join("fault"), "no_camera\n").unwrap();
        assert_eq!(camera.frame(), Err(CameraError::NoCamera));
        assert_eq!(camera.status(), CameraStatus::NoCamera);
        assert_eq!(camera.list(), Ok(vec![]));
        fs::write(dir.path().join("fault"), "").unwrap();
        control.set_fault(Some(CameraError::Disconnected("cable".into())));
        assert_eq!(camera.frame().unwrap_err().code(), "camera_disconnected");
        control.set_fault(None);
        assert!(camera.frame().is_ok());
    }

    /// How many rows of the frame's middle column differ from the wall.
    fn person_height(frame: &Frame) -> usize {
        let x = (frame.width / 2) as usize;
        (0..frame.height as usize)
            .filter(|y| {
                let i = (y * frame.width as usize + x) * 3;
                frame.rgb[i..i + 3] != APPROACH_BACKGROUND.0
            })
            .count()
    }

    #[test]
    fn an_approach_image_walks_up_then_stands_still_and_starts_again_when_opened() {
        let dir = tempfile::tempdir().unwrap();
        image::RgbImage::from_pixel(40, 40, image::Rgb([200, 150, 120]))
            .save(dir.path().join("approach-person.png"))
            .unwrap();
        let mut camera = SimulatedCamera::new(dir.path(), Duration::from_millis(1));
        let mode = camera.open().unwrap();
        assert_eq!((mode.width, mode.height), (1920, 1080));
        let heights: Vec<usize> = (0..APPROACH_STEPS + 3)
            .map(|_| person_height(&camera.frame().unwrap()))
            .collect();
        assert_eq!(heights[0], 432, "far away: 40 % of the frame's height");
        assert!(heights
            .windows(2)
            .take(APPROACH_STEPS - 1)
            .all(|w| w[0] < w[1]));
        assert_eq!(heights[APPROACH_STEPS - 1], 1080, "close: the whole height");
        assert!(heights[APPROACH_STEPS..].iter().all(|h| *h == 1080));
        camera.close();
        assert_eq!(person_height(&camera.frame().unwrap()), 432);
    }

    #[test]
    fn an_unreadable_image_is_a_bad_frame() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("broken.jpg"), b"not a jpeg").unwrap();
        let mut camera = SimulatedCamera::new(dir.path(), Duration::from_millis(1));
        assert_eq!(camera.frame().unwrap_err().code(), "camera_bad_frame");
    }
}

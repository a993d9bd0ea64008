//! The camera as a part of the kiosk's shell: the live portrait with the
//! photo coach, and still photos of the ID card and certificates.
//!
//! Camera calls block (a V4L2 frame waits for the sensor; an unplugged
//! camera waits for its timeout), so the camera, the face analyzer and the
//! coach live on one worker thread. The UI thread only sends commands
//! ([`CameraShell::execute`]) and reads what the worker left behind:
//! answers ([`CameraShell::poll`]), the latest picture
//! ([`CameraShell::view`]) and the device's health
//! ([`CameraShell::status_line`]). Nothing here waits for the camera.
//!
//! Every start or stop of the live camera begins a new *generation*; what
//! the worker reports about an older one (a frame or a portrait that
//! arrived after the stop) is dropped, so a late answer never reaches the
//! wrong page.

use std::borrow::Cow;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use image::imageops;
use image::RgbImage;

use crate::devices::camera::{Camera, CameraError, CameraStatus, CameraView, Frame};
use crate::photo::{
    assess_frame, encode_document, measure, standardize_as_far_as_possible, standardize_live_frame,
    Advice, Coach, CoachConfig, FrameSetup, LiveMemory, PhotoKind, PortraitAnalyzer,
    StandardizeError, Thresholds,
};
use kiosk_core::category::DocumentKind;
use kiosk_core::record::{DocumentPhoto, PhotoRef};
use kiosk_core::session::{DeviceLine, Event, PhotoPurpose};

use super::status::CAMERA_ZH;
pub use super::SessionPhotos;
use super::{WakeHook, Waker};

/// The preview handed to the UI is at most this wide; the live analysis
/// runs on the same downscaled picture (the photo module's "preview that
/// stands for a larger capture"), the standard portrait is cut from the
/// full frame.
pub const PREVIEW_MAX_WIDTH: u32 = 640;
/// The preview shows up to 30 frames a second, a camera's usual rate: a
/// slower picture lags behind the person's movements.
const FRAME_INTERVAL: Duration = Duration::from_millis(33);
/// At most about 20 analysed frames a second: the kiosk has two cores and
/// the coach needs no more. Frames in between are only shown.
const ANALYSIS_INTERVAL: Duration = Duration::from_millis(50);
/// While idle the worker re-reads the camera's status this often, so the
/// staff screen notices a camera plugged in or pulled out.
const IDLE_STATUS_REFRESH: Duration = Duration::from_secs(5);
/// A bad or late frame now and then is normal on USB cameras; this many in
/// a row is a broken camera.
const TRANSIENT_ERRORS_TOLERATED: u32 = 3;
/// A camera that was just opened is still finding its exposure: a still
/// photo is taken after this many frames, or this long, whichever is first.
const WARMUP_FRAMES: usize = 8;
const WARMUP_TIME: Duration = Duration::from_millis(700);
/// How often an equally good frame replaces the one kept for "拍照".
const BEST_FRAME_REFRESH: Duration = Duration::from_millis(500);

pub const OPENING_HINT_ZH: &str = "正在打开摄像头，请稍等";
pub const TAKING_HINT_ZH: &str = "拍好了，请稍等";
pub const TAKEN_HINT_ZH: &str = "照片已拍好";
/// Shown on the portrait page when the face model could not be loaded.
pub const NO_ANALYZER_HINT_ZH: &str = "自动拍照暂时不能用，请点“拍照”，再请工作人员确认";
/// Said (`AutoCaptureUnavailable`) when the face model could not be loaded.
pub const NO_ANALYZER_MESSAGE_ZH: &str =
    "自动拍照功能暂时不能使用，请点“拍照”按钮，再请工作人员确认照片";
/// The one issue of a portrait taken without the face model: nothing
/// about it could be checked.
pub const NOT_CHECKED_ISSUE_ZH: &str = "人脸识别模型没有加载，照片没有经过自动检查。";
/// "拍照" pressed while the camera is not running (it just failed).
pub const NOT_RUNNING_ZH: &str = "摄像头没有打开，请点“重拍”再试";
pub const WORKER_GONE_ZH: &str = "摄像头程序出现故障，请工作人员重新启动设备";

enum Command {
    Start(u64),
    Stop,
    /// The person pressed "拍照": the best frame of this generation.
    CaptureNow(u64),
    Capture(PhotoPurpose),
    Shutdown,
}

/// An event from the worker; portrait events belong to a generation.
struct Report {
    generation: Option<u64>,
    event: Event,
}

#[derive(Debug, Clone)]
enum ViewState {
    Stopped,
    Live(CameraView),
    /// The portrait just taken, shown while its photo is still one of the
    /// session's (a new session never sees the last person's face).
    Frozen {
        view: CameraView,
        sha256: String,
    },
}

/// What the staff screen is told, kept up to date by the worker.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Health {
    /// `None` until the worker has asked the camera once.
    camera: Option<CameraStatus>,
    /// The last camera error, until a frame arrives again.
    last_error: Option<CameraError>,
    analyzer_missing: bool,
    worker_gone: bool,
}

#[derive(Debug)]
struct Shared {
    generation: u64,
    view: ViewState,
    health: Health,
    /// The preview's size on screen in pixels, once the UI said it: live
    /// frames are made at that size, so the renderer only copies them.
    preview_size: Option<(u32, u32)>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub struct CameraShell {
    commands: Sender<Command>,
    reports: Receiver<Report>,
    shared: Arc<Mutex<Shared>>,
    photos: SessionPhotos,
    analyzer_loaded: bool,
    /// Answers made on the UI thread (no analyzer, worker gone).
    pending: Vec<Event>,
    /// Still photos asked for and not yet answered.
    owed_stills: usize,
    /// The live portrait of this generation runs and owes its portrait
    /// (or a failure).
    owed_portrait: Option<u64>,
    waker: Waker,
}

impl CameraShell {
    /// Starts the camera worker. `analyzer` is `None` when the face model
    /// could not be loaded: still photos work, the automatic portrait does
    /// not (and says so).
    pub fn start(
        camera: Box<dyn Camera>,
        analyzer: Option<Arc<PortraitAnalyzer>>,
        photos: SessionPhotos,
    ) -> CameraShell {
        let (commands, command_rx) = mpsc::channel::<Command>();
        let (report_tx, reports) = mpsc::channel::<Report>();
        let analyzer_loaded = analyzer.is_some();
        let shared = Arc::new(Mutex::new(Shared {
            generation: 0,
            view: ViewState::Stopped,
            health: Health {
                analyzer_missing: !analyzer_loaded,
                ..Health::default()
            },
            preview_size: None,
        }));
        let waker = Waker::default();
        let worker = Worker {
            camera,
            analyzer,
            photos: Arc::clone(&photos),
            shared: Arc::clone(&shared),
            reports: report_tx,
            waker: waker.clone(),
        };
        let spawned = thread::Builder::new()
            .name("camera-shell".into())
            .spawn(move || worker.run(command_rx));
        if let Err(err) = spawned {
            tracing::error!("cannot start the camera worker thread: {err}");
            lock(&shared).health.worker_gone = true;
        }
        CameraShell {
            commands,
            reports,
            shared,
            photos,
            analyzer_loaded,
            pending: Vec::new(),
            owed_stills: 0,
            owed_portrait: None,
            waker,
        }
    }

    /// Wake the UI loop whenever a new picture or an answer is waiting.
    pub fn set_wake(&mut self, hook: WakeHook) {
        self.waker.set(hook);
    }

    /// The preview's size on screen, in physical pixels: live frames are
    /// cut and scaled to it on the camera's thread (`None`: the analysis
    /// size, scaled by the renderer).
    pub fn set_preview_size(&self, size: Option<(u32, u32)>) {
        let size = size.filter(|&(w, h)| w > 0 && h > 0);
        lock(&self.shared).preview_size = size;
    }

    /// `Effect::StartCamera`: the live portrait with the coach, answered by
    /// `PortraitTaken` or `PhotoFailed`.
    pub fn start_live(&mut self) {
        let generation = self.next_generation();
        if self.analyzer_loaded {
            self.set_view(ViewState::Live(hint_view(OPENING_HINT_ZH)));
        } else {
            // The camera still shows the person; the portrait is taken by
            // hand and staff confirm it.
            tracing::warn!("portrait camera without the coach: the face model is not loaded");
            self.set_view(ViewState::Live(hint_view(NO_ANALYZER_HINT_ZH)));
            self.pending.push(Event::AutoCaptureUnavailable {
                message_zh: NO_ANALYZER_MESSAGE_ZH.into(),
            });
        }
        self.owed_portrait = Some(generation);
        self.send(Command::Start(generation));
    }

    /// `Effect::CapturePortraitNow`: the portrait from the best frame seen
    /// so far, answered like the automatic one (`PortraitTaken`, or
    /// `PortraitTakenWithIssues`, or `PhotoFailed`).
    pub fn capture_now(&mut self) {
        let generation = lock(&self.shared).generation;
        if self.owed_portrait != Some(generation) {
            self.pending.push(Event::PhotoFailed {
                message_zh: NOT_RUNNING_ZH.into(),
            });
            return;
        }
        self.send(Command::CaptureNow(generation));
    }

    /// `Effect::StopCamera`.
    pub fn stop_live(&mut self) {
        self.next_generation();
        self.owed_portrait = None;
        let mut shared = lock(&self.shared);
        // The session stops the camera right after the portrait is
        // taken; the taken portrait stays on screen.
        if !matches!(shared.view, ViewState::Frozen { .. }) {
            shared.view = ViewState::Stopped;
        }
        drop(shared);
        self.send(Command::Stop);
    }

    /// `Effect::CapturePhoto`: one still photo, answered by
    /// `CardPhotoTaken`, `DocumentTaken` or `PhotoFailed`.
    pub fn capture(&mut self, purpose: PhotoPurpose) {
        self.owed_stills += 1;
        self.send(Command::Capture(purpose));
    }

    /// Events since the last poll: `PortraitTaken`, `CardPhotoTaken`,
    /// `DocumentTaken`, `PhotoFailed`.
    pub fn poll(&mut self) -> Vec<Event> {
        let generation = lock(&self.shared).generation;
        let mut events = std::mem::take(&mut self.pending);
        loop {
            let report = match self.reports.try_recv() {
                Ok(report) => report,
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    self.worker_gone();
                    events.append(&mut self.pending);
                    break;
                }
            };
            match report.generation {
                Some(g) if g != generation => {
                    tracing::debug!("dropped a camera answer from a stopped preview");
                }
                Some(_) => {
                    self.owed_portrait = None;
                    events.push(report.event);
                }
                None => {
                    self.owed_stills = self.owed_stills.saturating_sub(1);
                    events.push(report.event);
                }
            }
        }
        events
    }

    /// The live picture (downscaled, mirrored like a mirror) with the
    /// coach's advice while the portrait camera runs; the standard portrait
    /// (as stored, not mirrored) once taken, until the camera starts again
    /// or the photo leaves the session's photos; `None` when stopped.
    pub fn view(&self) -> Option<CameraView> {
        let state = lock(&self.shared).view.clone();
        match state {
            ViewState::Stopped => None,
            ViewState::Live(view) => Some(view),
            ViewState::Frozen { view, sha256 } => {
                lock(&self.photos).get(&sha256).is_some().then_some(view)
            }
        }
    }

    /// The camera's line on the staff device screen.
    pub fn status_line(&self) -> DeviceLine {
        status_line_of(&lock(&self.shared).health)
    }

    fn next_generation(&mut self) -> u64 {
        let mut shared = lock(&self.shared);
        shared.generation += 1;
        shared.generation
    }

    fn set_view(&self, view: ViewState) {
        lock(&self.shared).view = view;
    }

    fn send(&mut self, command: Command) {
        if self.commands.send(command).is_err() {
            self.worker_gone();
        }
    }

    /// The worker has died (or never started): what it owed is answered
    /// with a failure, and so is every later photo.
    fn worker_gone(&mut self) {
        let mut shared = lock(&self.shared);
        if !shared.health.worker_gone {
            tracing::error!("the camera worker is gone");
            shared.health.worker_gone = true;
        }
        if self.owed_portrait.take().is_some() {
            shared.view = ViewState::Live(hint_view(WORKER_GONE_ZH));
            self.pending.push(Event::PhotoFailed {
                message_zh: WORKER_GONE_ZH.into(),
            });
        }
        drop(shared);
        for _ in 0..std::mem::take(&mut self.owed_stills) {
            self.pending.push(Event::PhotoFailed {
                message_zh: WORKER_GONE_ZH.into(),
            });
        }
    }
}

impl Drop for CameraShell {
    /// Asks the worker to close the camera and end; does not wait for it
    /// (it may be inside a frame call that takes until its timeout).
    fn drop(&mut self) {
        let _ = self.commands.send(Command::Shutdown);
    }
}

fn hint_view(hint_zh: &str) -> CameraView {
    CameraView {
        frame: None,
        hint_zh: hint_zh.into(),
        ok: false,
    }
}

/// Plain Chinese for the staff screen.
fn status_line_of(health: &Health) -> DeviceLine {
    let line = |ok: bool, status_zh: String| DeviceLine {
        name_zh: CAMERA_ZH.into(),
        ok,
        status_zh,
    };
    if health.worker_gone {
        return line(false, WORKER_GONE_ZH.into());
    }
    let (ok, text) = match (&health.camera, &health.last_error) {
        (Some(CameraStatus::Streaming { mode }), _) => (
            true,
            format!("正常，正在拍摄（{}×{}）", mode.width, mode.height),
        ),
        (_, Some(err)) => (false, err.message_zh().to_string()),
        (None, None) => (false, "正在检查摄像头".to_string()),
        (Some(CameraStatus::Idle { .. }), None) => (true, "正常，已连接".to_string()),
        (Some(CameraStatus::NoCamera), None) => {
            (false, CameraError::NoCamera.message_zh().to_string())
        }
        (Some(CameraStatus::Fault { error }), None) => (false, error.message_zh().to_string()),
    };
    if health.analyzer_missing {
        return line(
            false,
            format!("{text}；人脸识别模型没有加载，不能自动拍照，请运行 scripts/fetch-models.sh"),
        );
    }
    line(ok, text)
}

/// The photo kind, and so the size cap, of a still photo: the ID card is
/// 40 KB by the plan whether taken for the identity or as a document.
pub fn photo_kind(purpose: PhotoPurpose) -> PhotoKind {
    match purpose {
        PhotoPurpose::IdCard
        | PhotoPurpose::Document {
            kind: DocumentKind::IdCard,
            ..
        } => PhotoKind::IdCardPhoto,
        PhotoPurpose::Document { .. } => PhotoKind::Certificate,
    }
}

/// A camera frame as an image; a frame whose size does not add up is a
/// bad frame, not a panic.
fn to_image(frame: Frame) -> Result<RgbImage, CameraError> {
    let (width, height) = (frame.width, frame.height);
    RgbImage::from_raw(width, height, frame.rgb)
        .filter(|image| image.width() > 0 && image.height() > 0)
        .ok_or_else(|| CameraError::BadFrame(format!("{width}x{height} frame has a wrong size")))
}

/// `image` shrunk to at most [`PREVIEW_MAX_WIDTH`] wide (borrowed when it
/// already is).
pub fn downscaled(image: &RgbImage) -> Cow<'_, RgbImage> {
    if image.width() <= PREVIEW_MAX_WIDTH {
        return Cow::Borrowed(image);
    }
    let height = (u64::from(image.height()) * u64::from(PREVIEW_MAX_WIDTH)
        / u64::from(image.width()))
    .max(1);
    let height = u32::try_from(height).unwrap_or(u32::MAX);
    Cow::Owned(imageops::thumbnail(image, PREVIEW_MAX_WIDTH, height))
}

/// The live picture as it goes to the UI: at the preview's size on screen
/// when known, else at the analysis size; mirrored either way.
fn preview_of(image: &RgbImage, on_screen: Option<(u32, u32)>) -> Frame {
    let Some((width, height)) = on_screen else {
        return mirrored_preview(&downscaled(image));
    };
    let cover_scale = (f64::from(width) / f64::from(image.width().max(1)))
        .max(f64::from(height) / f64::from(image.height().max(1)));
    if cover_scale < 0.5 {
        // Bilinear taps skip pixels past a halving: a very large frame
        // is first shrunk by area to twice the size needed.
        let shrink = |side: u32| ((f64::from(side) * cover_scale * 2.0).ceil() as u32).max(1);
        let halfway = imageops::thumbnail(image, shrink(image.width()), shrink(image.height()));
        cover_mirrored(&halfway, width, height)
    } else {
        cover_mirrored(image, width, height)
    }
}

/// The preview as the person sees it: like a mirror.
pub fn mirrored_preview(image: &RgbImage) -> Frame {
    let flipped = imageops::flip_horizontal(image);
    Frame {
        width: flipped.width(),
        height: flipped.height(),
        rgb: flipped.into_raw(),
    }
}

/// The middle of `image` in the shape of a `width`×`height` box (what the
/// renderer's "cover" would show), scaled to fill it and mirrored: the
/// preview as it goes on screen, so the renderer only copies it. Bilinear
/// in 8-bit fixed point, one pass.
pub fn cover_mirrored(image: &RgbImage, width: u32, height: u32) -> Frame {
    let (source_w, source_h) = (image.width(), image.height());
    if width == 0 || height == 0 || source_w == 0 || source_h == 0 {
        return Frame {
            width: 0,
            height: 0,
            rgb: Vec::new(),
        };
    }
    // Screen pixels per source pixel: the larger share fills the box.
    let scale =
        (f64::from(width) / f64::from(source_w)).max(f64::from(height) / f64::from(source_h));
    let origin_x = (f64::from(source_w) - f64::from(width) / scale) / 2.0;
    let origin_y = (f64::from(source_h) - f64::from(height) / scale) / 2.0;
    // For each output line or column: the two source ones and the weight
    // of the second, in 1/256.
    let taps = |count: u32, origin: f64, limit: u32, mirror: bool| -> Vec<(usize, usize, u32)> {
        (0..count)
            .map(|i| {
                let i = if mirror { count - 1 - i } else { i };
                let at =
                    (origin + (f64::from(i) + 0.5) / scale - 0.5).clamp(0.0, f64::from(limit - 1));
                let first = at.floor() as usize;
                let second = (first + 1).min(limit as usize - 1);
                let weight = ((at - first as f64) * 256.0) as u32;
                (first, second, weight)
            })
            .collect()
    };
    let columns = taps(width, origin_x, source_w, true);
    let lines = taps(height, origin_y, source_h, false);
    let stride = source_w as usize * 3;
    let raw = image.as_raw();
    let mut rgb = vec![0u8; width as usize * height as usize * 3];
    for (out_line, &(top, bottom, wy)) in rgb.chunks_exact_mut(width as usize * 3).zip(&lines) {
        let top = &raw[top * stride..(top + 1) * stride];
        let bottom = &raw[bottom * stride..(bottom + 1) * stride];
        for (out, &(left, right, wx)) in out_line.chunks_exact_mut(3).zip(&columns) {
            let (left, right) = (left * 3, right * 3);
            for channel in 0..3 {
                let mix = |line: &[u8]| {
                    u32::from(line[left + channel]) * (256 - wx)
                        + u32::from(line[right + channel]) * wx
                };
                let value = (mix(top) * (256 - wy) + mix(bottom) * wy + (1 << 15)) >> 16;
                out[channel] = value.min(255) as u8;
            }
        }
    }
    Frame { width, height, rgb }
}

fn frame_of(image: &RgbImage) -> Frame {
    Frame {
        width: image.width(),
        height: image.height(),
        rgb: image.as_raw().clone(),
    }
}

/// The live portrait camera between a start and a stop.
struct Live {
    generation: u64,
    /// The coach's clock: frame times are measured from here.
    started: Instant,
    last_frame_at: Option<Instant>,
    transient_errors: u32,
    /// The coach, made for the capture scale of the frames it sees.
    coach: Option<(f32, Coach)>,
    /// The frame with the fewest issues so far, for "拍照" (among equals a
    /// newer one now and then: the person has settled more).
    best: Option<(usize, Instant, RgbImage)>,
    /// When the coach last looked at a frame.
    last_analysis_at: Option<Instant>,
    /// The coach's words on screen, kept on frames it does not look at.
    shown: Option<(String, bool)>,
    /// The empty scene, so frames with nobody in front cost little.
    memory: LiveMemory,
}

impl Live {
    fn new(generation: u64) -> Live {
        Live {
            generation,
            started: Instant::now(),
            last_frame_at: None,
            transient_errors: 0,
            coach: None,
            best: None,
            last_analysis_at: None,
            shown: None,
            memory: LiveMemory::default(),
        }
    }

    /// Whether the coach looks at this frame, or it is only shown.
    fn analysis_due(&self) -> bool {
        self.last_analysis_at
            .is_none_or(|at| at.elapsed() >= ANALYSIS_INTERVAL)
    }

    fn keep_if_best(&mut self, issues: usize, image: &RgbImage) {
        // A full frame is megabytes: an equal one replaces the kept one
        // only every so often.
        let better = self.best.as_ref().is_none_or(|(fewest, kept_at, _)| {
            issues < *fewest || (issues == *fewest && kept_at.elapsed() >= BEST_FRAME_REFRESH)
        });
        if better {
            self.best = Some((issues, Instant::now(), image.clone()));
        }
    }

    fn next_frame_in(&self) -> Duration {
        self.last_frame_at.map_or(Duration::ZERO, |at| {
            FRAME_INTERVAL.saturating_sub(at.elapsed())
        })
    }

    /// The coach for frames analysed at 1/`capture_scale` of the capture;
    /// a camera that changes its size starts a new coach.
    fn coach(&mut self, capture_scale: f32) -> &mut Coach {
        let fits = self
            .coach
            .as_ref()
            .is_some_and(|(scale, _)| (scale - capture_scale).abs() < 0.01);
        if !fits {
            self.coach = None;
        }
        let (_, coach) = self.coach.get_or_insert_with(|| {
            let config = CoachConfig::new(FrameSetup::live(capture_scale));
            (capture_scale, Coach::new(config))
        });
        coach
    }
}

struct Worker {
    camera: Box<dyn Camera>,
    analyzer: Option<Arc<PortraitAnalyzer>>,
    photos: SessionPhotos,
    shared: Arc<Mutex<Shared>>,
    reports: Sender<Report>,
    waker: Waker,
}

impl Worker {
    fn run(mut self, commands: Receiver<Command>) {
        let mut live: Option<Live> = None;
        self.refresh_status();
        loop {
            let wait = live
                .as_ref()
                .map_or(IDLE_STATUS_REFRESH, Live::next_frame_in);
            match commands.recv_timeout(wait) {
                Ok(Command::Shutdown) | Err(RecvTimeoutError::Disconnected) => break,
                Ok(command) => {
                    self.handle(command, &mut live);
                    continue;
                }
                Err(RecvTimeoutError::Timeout) => {}
            }
            match live.take() {
                Some(running) => live = self.live_frame(running),
                None => self.refresh_status(),
            }
        }
        if live.is_some() {
            self.camera.close();
        }
        tracing::debug!("camera worker stopped");
    }

    fn handle(&mut self, command: Command, live: &mut Option<Live>) {
        match command {
            Command::Start(generation) => {
                tracing::info!("portrait camera starting ({})", self.camera.describe());
                *live = Some(Live::new(generation));
            }
            Command::Stop => {
                if live.take().is_some() {
                    self.camera.close();
                    tracing::info!("portrait camera stopped");
                }
                self.refresh_status();
            }
            Command::Capture(purpose) => {
                let event = self.still(purpose, live.is_some());
                self.report(None, event);
            }
            Command::CaptureNow(generation) => {
                let Some(running) = live.take().filter(|l| l.generation == generation) else {
                    return;
                };
                *live = self.capture_now(running);
            }
            Command::Shutdown => {}
        }
    }

    /// One frame of the live portrait; `None` when the live camera ends
    /// (portrait taken, or the camera failed).
    fn live_frame(&mut self, mut live: Live) -> Option<Live> {
        live.last_frame_at = Some(Instant::now());
        let generation = live.generation;
        let image = match self.camera.frame().and_then(to_image) {
            Ok(image) => image,
            Err(err) => {
                live.transient_errors += 1;
                let transient = matches!(err, CameraError::Timeout | CameraError::BadFrame(_));
                if transient && live.transient_errors <= TRANSIENT_ERRORS_TOLERATED {
                    tracing::warn!("camera frame skipped: {err}");
                    return Some(live);
                }
                tracing::warn!("portrait camera failed: {err} ({})", err.code());
                self.fail_live(generation, err.message_zh());
                self.health(|h| h.last_error = Some(err));
                self.camera.close();
                self.refresh_status();
                return None;
            }
        };
        let frame_time = live.started.elapsed();
        live.transient_errors = 0;
        self.health(|h| h.last_error = None);
        let known_streaming = matches!(
            lock(&self.shared).health.camera,
            Some(CameraStatus::Streaming { .. })
        );
        if !known_streaming {
            self.refresh_status();
        }
        let preview_size = self.preview_size();
        let Some(analyzer) = self.analyzer.clone() else {
            // No coach: the picture only, for the person to take by hand.
            self.set_view(
                generation,
                ViewState::Live(CameraView {
                    frame: Some(preview_of(&image, preview_size)),
                    hint_zh: NO_ANALYZER_HINT_ZH.into(),
                    ok: false,
                }),
            );
            return Some(live);
        };
        if !live.analysis_due() {
            // Shown only; the coach's words stay as they were.
            let (hint_zh, ok) = live
                .shown
                .clone()
                .unwrap_or_else(|| (OPENING_HINT_ZH.into(), false));
            self.set_view(
                generation,
                ViewState::Live(CameraView {
                    frame: Some(preview_of(&image, preview_size)),
                    hint_zh,
                    ok,
                }),
            );
            return Some(live);
        }
        live.last_analysis_at = Some(Instant::now());
        let small = downscaled(&image);
        let faces = match analyzer.detect_live(&small, &mut live.memory) {
            Ok(faces) => faces,
            Err(err) => {
                tracing::error!("face analysis failed: {err}");
                self.fail_live(generation, err.message_zh());
                self.camera.close();
                return None;
            }
        };
        let measures = measure(&small, &faces);
        let capture_scale = image.width() as f32 / small.width().max(1) as f32;
        let issues = assess_frame(
            &measures,
            &Thresholds::default(),
            &FrameSetup::live(capture_scale),
        );
        live.keep_if_best(issues.len(), &image);
        let step = live.coach(capture_scale).observe(&measures, frame_time);
        let preview = match preview_size {
            Some(_) => preview_of(&image, preview_size),
            None => mirrored_preview(&small),
        };
        if !step.capture {
            live.shown = Some((
                step.advice.text_zh().into(),
                step.advice == Advice::HoldStill,
            ));
            self.set_view(
                generation,
                ViewState::Live(CameraView {
                    frame: Some(preview),
                    hint_zh: step.advice.text_zh().into(),
                    ok: step.advice == Advice::HoldStill,
                }),
            );
            return Some(live);
        }
        self.set_view(
            generation,
            ViewState::Live(CameraView {
                frame: Some(preview),
                hint_zh: TAKING_HINT_ZH.into(),
                ok: true,
            }),
        );
        match standardize_live_frame(
            &analyzer,
            &image,
            &faces,
            capture_scale,
            &Thresholds::default(),
        ) {
            Ok(portrait) => {
                let photo = self.store(portrait.jpeg.bytes);
                tracing::info!(
                    "portrait taken: {} bytes at quality {}",
                    photo.bytes,
                    portrait.jpeg.quality
                );
                self.set_view(
                    generation,
                    ViewState::Frozen {
                        view: CameraView {
                            frame: Some(frame_of(&portrait.image)),
                            hint_zh: TAKEN_HINT_ZH.into(),
                            ok: true,
                        },
                        sha256: photo.sha256.clone(),
                    },
                );
                self.camera.close();
                self.report(Some(generation), Event::PortraitTaken(photo));
                self.refresh_status();
                None
            }
            Err(StandardizeError::Refused(issues)) => {
                // The full frame disagreed with the preview (a blink, a
                // turn): keep coaching.
                let codes: Vec<&str> = issues.iter().map(|i| i.code()).collect();
                tracing::info!("captured frame refused ({}); coaching on", codes.join(", "));
                if let Some((_, coach)) = live.coach.as_mut() {
                    coach.reset();
                }
                Some(live)
            }
            Err(StandardizeError::Photo(err)) => {
                tracing::error!("portrait could not be made: {err}");
                self.fail_live(generation, err.message_zh());
                self.camera.close();
                None
            }
        }
    }

    /// "拍照": the best frame so far, standardised as far as it goes.
    fn capture_now(&mut self, live: Live) -> Option<Live> {
        let generation = live.generation;
        // Without the coach nothing says which frame is best: the one of
        // the moment the person pressed.
        let best = match live.best {
            Some((_, _, image)) if self.analyzer.is_some() => Ok(image),
            _ => self.camera.frame().and_then(to_image),
        };
        let image = match best {
            Ok(image) => image,
            Err(err) => {
                tracing::warn!("manual portrait: no frame ({})", err.code());
                self.fail_live(generation, err.message_zh());
                self.camera.close();
                return None;
            }
        };
        let analyzer = self.analyzer.clone();
        let portrait = match standardize_as_far_as_possible(
            analyzer.as_deref(),
            &image,
            &Thresholds::default(),
        ) {
            Ok(portrait) => portrait,
            Err(err) => {
                tracing::error!("manual portrait could not be made: {err}");
                self.fail_live(generation, err.message_zh());
                self.camera.close();
                return None;
            }
        };
        let mut issues_zh: Vec<String> = portrait
            .issues
            .iter()
            .map(|issue| issue.message_zh().to_string())
            .collect();
        if analyzer.is_none() {
            issues_zh.push(NOT_CHECKED_ISSUE_ZH.into());
        }
        let photo = self.store(portrait.jpeg.bytes);
        let codes: Vec<&str> = portrait.issues.iter().map(|i| i.code()).collect();
        tracing::info!(
            "portrait taken by hand: {} bytes, issues [{}], checked: {}",
            photo.bytes,
            codes.join(", "),
            analyzer.is_some()
        );
        self.set_view(
            generation,
            ViewState::Frozen {
                view: CameraView {
                    frame: Some(frame_of(&portrait.image)),
                    hint_zh: TAKEN_HINT_ZH.into(),
                    ok: issues_zh.is_empty(),
                },
                sha256: photo.sha256.clone(),
            },
        );
        self.camera.close();
        let event = if issues_zh.is_empty() {
            Event::PortraitTaken(photo)
        } else {
            Event::PortraitTakenWithIssues { photo, issues_zh }
        };
        self.report(Some(generation), event);
        self.refresh_status();
        None
    }

    fn fail_live(&self, generation: u64, message_zh: &str) {
        self.set_view(generation, ViewState::Live(hint_view(message_zh)));
        self.report(
            Some(generation),
            Event::PhotoFailed {
                message_zh: message_zh.into(),
            },
        );
    }

    /// Takes and stores one still photo for `purpose`.
    fn still(&mut self, purpose: PhotoPurpose, streaming: bool) -> Event {
        let taken = if streaming {
            self.camera.frame().and_then(to_image)
        } else {
            let taken = warmed_up_frame(self.camera.as_mut()).and_then(to_image);
            self.camera.close();
            taken
        };
        let image = match taken {
            Ok(image) => image,
            Err(err) => {
                tracing::warn!("still photo failed: {err} ({})", err.code());
                let message_zh = err.message_zh().to_string();
                self.health(|h| h.last_error = Some(err));
                self.refresh_status();
                return Event::PhotoFailed { message_zh };
            }
        };
        self.health(|h| h.last_error = None);
        let kind = photo_kind(purpose);
        let encoded = match encode_document(&image, None, kind) {
            Ok(encoded) => encoded,
            Err(err) => {
                tracing::error!("still photo could not be encoded: {err}");
                return Event::PhotoFailed {
                    message_zh: err.message_zh().into(),
                };
            }
        };
        tracing::info!(
            "still photo for {purpose:?}: {}x{}, {} bytes",
            encoded.width,
            encoded.height,
            encoded.bytes.len()
        );
        let photo = self.store(encoded.bytes);
        match purpose {
            PhotoPurpose::IdCard => Event::CardPhotoTaken(photo),
            PhotoPurpose::Document { kind, page } => {
                Event::DocumentTaken(DocumentPhoto { kind, photo, page })
            }
        }
    }

    fn store(&self, bytes: Vec<u8>) -> PhotoRef {
        let size = bytes.len() as u64;
        let sha256 = lock(&self.photos).insert(bytes);
        PhotoRef {
            sha256,
            bytes: size,
        }
    }

    fn report(&self, generation: Option<u64>, event: Event) {
        // The shell is gone when nobody listens; the loop ends on its own.
        if self.reports.send(Report { generation, event }).is_ok() {
            self.waker.wake();
        }
    }

    fn set_view(&self, generation: u64, view: ViewState) {
        let mut shared = lock(&self.shared);
        if shared.generation == generation {
            shared.view = view;
            drop(shared);
            self.waker.wake();
        }
    }

    fn preview_size(&self) -> Option<(u32, u32)> {
        lock(&self.shared).preview_size
    }

    fn health(&self, change: impl FnOnce(&mut Health)) {
        change(&mut lock(&self.shared).health);
    }

    fn refresh_status(&mut self) {
        let status = self.camera.status();
        self.health(|h| h.camera = Some(status));
    }
}

/// A frame from a camera that was closed: the first frames after opening
/// are often dark or grey while the sensor adjusts.
fn warmed_up_frame(camera: &mut dyn Camera) -> Result<Frame, CameraError> {
    let started = Instant::now();
    let mut frame = camera.frame()?;
    for _ in 1..WARMUP_FRAMES {
        if started.elapsed() >= WARMUP_TIME {
            break;
        }
        frame = camera.frame()?;
    }
    Ok(frame)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::camera::CameraMode;
    use expect_test::{expect, Expect};

    fn check_status(health: Health, expected: Expect) {
        let line = status_line_of(&health);
        expected.assert_eq(&format!(
            "{} ok={} {}",
            line.name_zh, line.ok, line.status_zh
        ));
    }

    fn with(camera: Option<CameraStatus>, last_error: Option<CameraError>) -> Health {
        Health {
            camera,
            last_error,
            ..Health::default()
        }
    }

    #[test]
    fn staff_see_the_camera_state_in_plain_words() {
        let mode = CameraMode {
            width: 1280,
            height: 720,
            fps: 30,
        };
        check_status(with(None, None), expect!["摄像头 ok=false 正在检查摄像头"]);
        check_status(
            with(Some(CameraStatus::Idle { cameras: 2 }), None),
            expect!["摄像头 ok=true 正常，已连接"],
        );
        check_status(
            with(Some(CameraStatus::Streaming { mode }), None),
            expect!["摄像头 ok=true 正常，正在拍摄（1280×720）"],
        );
        // A frame arriving is what counts, not an old error.
        check_status(
            with(
                Some(CameraStatus::Streaming { mode }),
                Some(CameraError::Timeout),
            ),
            expect!["摄像头 ok=true 正常，正在拍摄（1280×720）"],
        );
        check_status(
            with(Some(CameraStatus::NoCamera), None),
            expect!["摄像头 ok=false 没有找到摄像头，请工作人员检查摄像头连线"],
        );
        check_status(
            with(
                Some(CameraStatus::Idle { cameras: 1 }),
                Some(CameraError::Disconnected("usb".into())),
            ),
            expect!["摄像头 ok=false 摄像头连接中断，请工作人员检查连线"],
        );
        check_status(
            with(
                Some(CameraStatus::Fault {
                    error: CameraError::NotFound("cam9".into()),
                }),
                None,
            ),
            expect!["摄像头 ok=false 找不到设置中指定的摄像头，请工作人员检查设置"],
        );
        check_status(
            Health {
                analyzer_missing: true,
                ..with(Some(CameraStatus::Idle { cameras: 1 }), None)
            },
            expect!["摄像头 ok=false 正常，已连接；人脸识别模型没有加载，不能自动拍照，请运行 scripts/fetch-models.sh"],
        );
        check_status(
            Health {
                worker_gone: true,
                ..with(Some(CameraStatus::Idle { cameras: 1 }), None)
            },
            expect!["摄像头 ok=false 摄像头程序出现故障，请工作人员重新启动设备"],
        );
    }

    #[test]
    fn the_preview_is_small_and_mirrored() {
        // Left half red, right half blue.
        let image = RgbImage::from_fn(1920, 1080, |x, _| {
            if x < 960 {
                image::Rgb([200, 0, 0])
            } else {
                image::Rgb([0, 0, 200])
            }
        });
        let small = downscaled(&image);
        assert_eq!((small.width(), small.height()), (640, 360));
        let preview = mirrored_preview(&small);
        assert_eq!((preview.width, preview.height), (640, 360));
        assert_eq!(preview.rgb.len(), 640 * 360 * 3);
        assert_eq!(&preview.rgb[..3], &[0, 0, 200], "left shows the right side");
        let last = preview.rgb.len() - 3;
        assert_eq!(&preview.rgb[last..], &[200, 0, 0]);

        let narrow = RgbImage::new(320, 240);
        assert!(matches!(downscaled(&narrow), Cow::Borrowed(_)));
        let sliver = RgbImage::new(5000, 1);
        assert_eq!(downscaled(&sliver).height(), 1);
    }

    #[test]
    fn frames_whose_size_does_not_add_up_are_bad_frames() {
        let frame = |width, height, len| Frame {
            width,
            height,
            rgb: vec![0; len],
        };
        let codes: Vec<&str> = [
            frame(2, 2, 12),
            frame(2, 2, 11),
            frame(0, 0, 0),
            frame(u32::MAX, u32::MAX, 3),
        ]
        .into_iter()
        .map(|f| match to_image(f) {
            Ok(_) => "ok",
            Err(err) => err.code(),
        })
        .collect();
        assert_eq!(
            codes,
            [
                "ok",
                "camera_bad_frame",
                "camera_bad_frame",
                "camera_bad_frame"
            ]
        );
    }

    #[test]
    fn still_photos_get_their_plan_caps() {
        let cap = |purpose| photo_kind(purpose).max_bytes();
        assert_eq!(cap(PhotoPurpose::IdCard), 40_000);
        assert_eq!(
            cap(PhotoPurpose::Document {
                kind: DocumentKind::IdCard,
                page: 1,
            }),
            40_000
        );
        assert_eq!(
            cap(PhotoPurpose::Document {
                kind: DocumentKind::HouseholdRegister,
                page: 1,
            }),
            300_000
        );
        assert_eq!(
            cap(PhotoPurpose::Document {
                kind: DocumentKind::MartyrCertificate,
                page: 1,
            }),
            300_000
        );
    }
}

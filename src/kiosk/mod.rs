//! The running kiosk: the session, a shell that carries out its effects,
//! a clock, and the UI, tied together by one loop:
//!
//! ```text
//! UI callback / timer tick ─▶ Session::handle(event, now) ─▶ effects
//!        ▲                                                    │
//!        └── ui::show(session.view(now)) ◀── Shell::poll ◀── Shell::execute
//! ```
//!
//! Time comes from the injected clock only, so tests drive the same loop on
//! a virtual clock.

pub mod boot;
pub mod clock;
pub mod config_watch;
pub mod product;
pub mod shell;
pub mod stand_in;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Utc};
use slint::ComponentHandle;

use crate::config::{Config, HelpTexts};
use crate::kiosk::shell::Shell;
use crate::ui::attract_adapter::{self, Campaign};
use crate::ui::{self, AppWindow, AttractView, Dispatch, EventSink};
use kiosk_core::session::{Event, Session, StaffSettings, Step};

use config_watch::{ConfigNews, ConfigWatch};

/// Where "now" comes from.
pub type Clock = Box<dyn Fn() -> DateTime<Utc>>;

/// How often idle time-outs, device answers and the camera picture are
/// looked at.
pub const TICK: StdDuration = StdDuration::from_millis(250);

pub struct Kiosk {
    session: Session,
    shell: Box<dyn Shell>,
    clock: Clock,
    ui: slint::Weak<AppWindow>,
    config_watch: Option<ConfigWatch>,
    /// The county's help text of each page (none until configured).
    help: HelpTexts,
    /// Why the kiosk must restart once no one is using it.
    restart_pending: Option<String>,
    /// The loop was left to restart.
    restarting: bool,
    /// The session clock, when it is a [`clock::SteadyClock`]: it takes the
    /// wall clock again only while no one is using the kiosk.
    steady: Option<Rc<clock::SteadyClock>>,
    /// The preview size last given to the shell.
    preview_size: Option<(u32, u32)>,
}

/// What the running kiosk takes from a new configuration without a restart.
pub fn staff_settings_of(config: &Config, installed_version: u64, sha256: &str) -> StaffSettings {
    StaffSettings {
        accounts: config
            .staff
            .members
            .iter()
            .map(|member| kiosk_core::staff::StaffAccount {
                staff_id: member.id.clone(),
                name: member.name.clone(),
                pin: member.pin_hash.clone(),
            })
            .collect(),
        config_version: installed_version.to_string(),
        config_hash: sha256.to_string(),
    }
}

/// The attract screen's texts from the configuration.
pub fn campaign_of(config: &Config) -> Campaign {
    Campaign {
        title_zh: config.texts.campaign_title.clone(),
        notice_zh: config.texts.campaign_notice.trim().to_string(),
        place_zh: config.kiosk.township.name.clone(),
    }
}

impl Kiosk {
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Why a restart is waiting for the kiosk to be free, if one is.
    pub fn restart_pending(&self) -> Option<&str> {
        self.restart_pending.as_deref()
    }

    pub fn restarting(&self) -> bool {
        self.restarting
    }

    /// Take a new configuration that needs no restart.
    pub fn reconfigure(&mut self, config: &Config, installed_version: u64, sha256: &str) {
        self.session.reconfigure(
            config.session_settings(),
            staff_settings_of(config, installed_version, sha256),
        );
        self.shell.reconfigure(config);
        self.help = config.texts.help.clone();
        if let Some(ui) = self.ui.upgrade() {
            attract_adapter::show_campaign(&ui, &campaign_of(config));
        }
        self.render();
    }

    /// The help texts of the pages (from configuration): a page with one
    /// shows the "帮助" button.
    pub fn set_help_texts(&mut self, help: HelpTexts) {
        self.help = help;
        self.render();
    }

    /// Ask for an orderly restart: made as soon as no one is using the kiosk.
    pub fn request_restart(&mut self, reason: String) {
        tracing::info!("restart requested: {reason}");
        self.restart_pending = Some(reason);
        self.restart_if_free();
    }

    fn restart_if_free(&mut self) {
        if self.restart_pending.is_none() || self.restarting {
            return;
        }
        let free = self.session.step() == Step::Attract && !self.session.staff_open();
        if free {
            self.restarting = true;
            // Leaves `run_event_loop`; `run_fullscreen` then restarts.
            let _ = slint::quit_event_loop();
        }
    }

    fn take_config_news(&mut self) {
        let news = match &self.config_watch {
            Some(watch) => watch.take_news(),
            None => return,
        };
        for item in news {
            match item {
                ConfigNews::Confirmed { installed } => tracing::info!(
                    "configuration {} ({}) confirmed",
                    installed.version,
                    installed.sha256
                ),
                ConfigNews::Hot { config, installed } => {
                    self.reconfigure(&config, installed.version, &installed.sha256)
                }
                ConfigNews::RestartNeeded { reason } => self.request_restart(reason),
                ConfigNews::Note { message } => tracing::warn!("configuration: {message}"),
            }
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    /// One event through the session, its effects through the shell, the
    /// shell's answers back in (bounded, in case two keep answering each
    /// other), then redraw.
    fn run(&mut self, first: Event) {
        self.run_all(vec![first]);
    }

    fn run_all(&mut self, events: Vec<Event>) {
        let now = self.now();
        // Whether a person's session is under way (anything but the start
        // screen: a staff member may have typed or photographed before any
        // record exists).
        let in_session = self.session.step() != Step::Attract;
        let mut pending = events;
        for _round in 0..32 {
            for event in pending.drain(..) {
                for effect in self.session.handle(event, now) {
                    self.shell.execute(effect, now);
                }
            }
            pending = self.shell.poll(now);
            if pending.is_empty() {
                break;
            }
        }
        if in_session && self.session.step() == Step::Attract {
            // Wiped, cancelled or done: nothing of the person may stay.
            self.shell.session_ended();
            if let Some(ui) = self.ui.upgrade() {
                ui::forget_keyboard(&ui);
            }
        }
        self.render();
    }

    /// Called by the timer: lets time-outs fire, device answers and
    /// configuration news in.
    pub fn tick(&mut self) {
        self.take_config_news();
        self.run(Event::Tick);
        self.follow_wall_clock_if_free();
        self.restart_if_free();
    }

    /// Between sessions the session clock takes a corrected wall clock
    /// (a jump mid-session would fire or stall the idle time-outs).
    fn follow_wall_clock_if_free(&mut self) {
        let free = self.session.step() == Step::Attract && !self.session.staff_open();
        let Some(steady) = self.steady.as_ref().filter(|_| free) else {
            return;
        };
        if let Some(jump) = steady.follow_wall() {
            tracing::warn!(
                seconds = jump.num_seconds(),
                "the wall clock jumped; the kiosk follows it now that no one is using it"
            );
        }
    }

    pub fn render(&mut self) {
        let Some(ui) = self.ui.upgrade() else { return };
        let now = self.now();
        let camera = self.shell.camera();
        ui::show(&ui, &self.session.view(now), camera.as_ref(), &self.help);
        self.follow_preview_size(&ui);
    }

    /// A worker has something new: its answers go through the session at
    /// once (a card read is on screen without waiting for the tick); a
    /// new camera picture alone only replaces the picture and the coach's
    /// words, not the whole page.
    pub fn woken(&mut self) {
        let answers = self.shell.poll(self.now());
        if !answers.is_empty() {
            self.run_all(answers);
            return;
        }
        let Some(ui) = self.ui.upgrade() else { return };
        if self.session.step() == Step::Portrait {
            let camera = self.shell.camera();
            crate::ui::portrait_adapter::show_camera(&ui, camera.as_ref());
            self.follow_preview_size(&ui);
        }
    }

    /// Tell the shell the preview's size on screen when it changes.
    fn follow_preview_size(&mut self, ui: &AppWindow) {
        let size = crate::ui::portrait_adapter::preview_size(ui);
        if size != self.preview_size {
            self.preview_size = size;
            self.shell.set_preview_size(size);
        }
    }

    fn start_event(&mut self) -> Event {
        Event::Start {
            record_id: self.shell.new_record_id(),
        }
    }
}

impl EventSink for Kiosk {
    fn handle_event(&mut self, event: Event) {
        if matches!(event, Event::Tick) {
            self.tick();
        } else {
            self.run(event);
        }
    }
}

thread_local! {
    /// The kiosk a worker's wake-up reaches: the one started last on the
    /// UI thread, where the event loop runs the wake-up.
    static WOKEN: RefCell<std::rc::Weak<RefCell<Kiosk>>> = const { RefCell::new(std::rc::Weak::new()) };
}

/// What the shell's workers call when something waits: one call into the
/// event loop at a time (a camera at 30 frames a second does not queue
/// more while the UI is busy), which hands over to [`Kiosk::woken`].
/// Without an event loop that takes calls from other threads (the testing
/// backend) nothing happens and the tick takes the answers, as before.
fn wake_hook() -> shell::WakeHook {
    use std::sync::atomic::{AtomicBool, Ordering};
    let queued = std::sync::Arc::new(AtomicBool::new(false));
    std::sync::Arc::new(move || {
        if queued.swap(true, Ordering::AcqRel) {
            return;
        }
        let done = std::sync::Arc::clone(&queued);
        let sent = slint::invoke_from_event_loop(move || {
            done.store(false, Ordering::Release);
            let Some(kiosk) = WOKEN.with(|woken| woken.borrow().upgrade()) else {
                return;
            };
            // Busy (inside an event): the tick takes the answers instead.
            if let Ok(mut kiosk) = kiosk.try_borrow_mut() {
                kiosk.woken();
            };
        });
        if sent.is_err() {
            queued.store(false, Ordering::Release);
        }
    })
}

/// A kiosk wired to its window, with its tick timer running.
pub struct Running {
    kiosk: Rc<RefCell<Kiosk>>,
    dispatch: Dispatch,
    _timer: slint::Timer,
}

impl Running {
    pub fn kiosk(&self) -> Rc<RefCell<Kiosk>> {
        Rc::clone(&self.kiosk)
    }

    /// Send an event as if the UI had (used by tests and the demo).
    pub fn send(&self, event: Event) {
        self.dispatch.send(event);
    }

    /// Run one tick now, without waiting for the timer.
    pub fn tick(&self) {
        self.dispatch.send(Event::Tick);
    }

    /// Take configuration news from `watch` on every tick.
    pub fn watch_config(&self, watch: ConfigWatch) {
        self.kiosk.borrow_mut().config_watch = Some(watch);
    }

    /// The loop was left for an orderly restart.
    pub fn restarting(&self) -> bool {
        self.kiosk.borrow().restarting
    }

    /// The clock given to [`start`] reads `steady`: let the kiosk move it
    /// onto the wall clock between sessions.
    pub fn follow_wall_between_sessions(&self, steady: Rc<clock::SteadyClock>) {
        self.kiosk.borrow_mut().steady = Some(steady);
    }
}

/// Wire `ui` to a session and shell and start ticking.
pub fn start(
    ui: &AppWindow,
    session: Session,
    shell: Box<dyn Shell>,
    clock: Clock,
    campaign: &Campaign,
) -> Running {
    let kiosk = Rc::new(RefCell::new(Kiosk {
        session,
        shell,
        clock,
        ui: ui.as_weak(),
        config_watch: None,
        help: HelpTexts::default(),
        restart_pending: None,
        restarting: false,
        steady: None,
        preview_size: None,
    }));
    WOKEN.with(|woken| *woken.borrow_mut() = Rc::downgrade(&kiosk));
    kiosk.borrow_mut().shell.set_wake(wake_hook());
    let sink: Rc<RefCell<dyn EventSink>> = kiosk.clone();
    let dispatch = Dispatch::new(Rc::downgrade(&sink));
    ui::connect(ui, &dispatch);
    attract_adapter::show_campaign(ui, campaign);

    // Starting needs a fresh id from the shell.
    let weak = Rc::downgrade(&kiosk);
    let d = dispatch.clone();
    ui.global::<AttractView>().on_start(move || {
        let Some(kiosk) = weak.upgrade() else { return };
        let event = match kiosk.try_borrow_mut() {
            Ok(mut k) => k.start_event(),
            Err(_) => return,
        };
        d.send(event);
    });

    let timer = slint::Timer::default();
    let d = dispatch.clone();
    timer.start(slint::TimerMode::Repeated, TICK, move || {
        d.send(Event::Tick)
    });
    kiosk.borrow_mut().render();
    Running {
        kiosk,
        dispatch,
        _timer: timer,
    }
}

/// Fullscreen; and where no window manager makes it so (a bare X server
/// such as Xvfb), the size from `VETERAN_KIOSK_WINDOW_SIZE` (`1920x1080`).
fn fill_screen(ui: &AppWindow) {
    ui.window().set_fullscreen(true);
    let size = std::env::var("VETERAN_KIOSK_WINDOW_SIZE")
        .ok()
        .and_then(|text| {
            let (w, h) = text.trim().split_once('x')?;
            Some(slint::PhysicalSize::new(w.parse().ok()?, h.parse().ok()?))
        });
    if let Some(size) = size {
        ui.window().set_size(size);
    }
}

/// The demo kiosk: in-memory simulated devices, stand-in settings, demo
/// staff PIN "2468". No configuration or data on disk is touched.
pub fn launch_demo() -> Result<(AppWindow, Running), slint::PlatformError> {
    use crate::kiosk::shell::SimulatedShell;

    let ui = AppWindow::new()?;
    fill_screen(&ui);
    let shell = SimulatedShell::new();
    shell.state().borrow_mut().demo_card = stand_in::sample_card();
    let clock: Clock = Box::new(Utc::now);
    let session = Session::new(stand_in::session_settings(), Utc::now())
        .with_staff(stand_in::staff_settings());
    let running = start(&ui, session, Box::new(shell), clock, &stand_in::campaign());
    running
        .kiosk()
        .borrow_mut()
        .set_help_texts(stand_in::help_texts());
    Ok((ui, running))
}

/// Why the kiosk window could not run.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error(transparent)]
    Window(#[from] slint::PlatformError),
    #[error("restart failed: {0}")]
    Restart(std::io::Error),
}

/// The kiosk as configured: configuration store, devices, outbox, sync,
/// configuration polling. Returns when the window closes or an orderly
/// restart is due (then `Running::restarting` says so).
pub fn launch(paths: &boot::KioskPaths) -> Result<(AppWindow, Running), slint::PlatformError> {
    let ui = AppWindow::new()?;
    fill_screen(&ui);
    let booted = match boot::boot(paths) {
        Ok(booted) => booted,
        Err(err) => {
            tracing::error!("the kiosk cannot start: {err}");
            let running = out_of_service(&ui, &err.message_zh());
            return Ok((ui, running));
        }
    };
    let boot::Booted {
        config,
        installed,
        store,
        devices,
        rolled_back,
    } = booted;
    if let Some(reason) = rolled_back {
        tracing::warn!("started on the last-known-good configuration: {reason}");
    }
    tracing::info!(
        "kiosk {} starting on configuration version {} ({})",
        config.kiosk.id,
        installed.version,
        installed.sha256
    );
    // The outbox is checked before anything opens it for work: a damaged
    // one is set aside and salvaged, and the kiosk takes no registrations
    // until a technician has looked (staff read what to do on the screen).
    match crate::store::damage::startup(
        &paths.outbox(),
        Utc::now(),
        crate::store::damage::CHECK_BUDGET,
    ) {
        Ok(startup) => {
            if let Some(message_zh) = startup.message_zh() {
                tracing::error!(
                    "the outbox is damaged (salvage report under {}); out of service until `veteran-kiosk queue acknowledge-damage`",
                    crate::store::damage::DAMAGED_DIR
                );
                let running = out_of_service(&ui, &message_zh);
                return Ok((ui, running));
            }
        }
        Err(err) => {
            tracing::error!(code = err.code(), "the outbox cannot be checked: {err}");
            let running = out_of_service(&ui, err.message_zh());
            return Ok((ui, running));
        }
    }
    let shell = match product::build(&config, devices, paths, || Utc::now().date_naive()) {
        Ok(shell) => shell,
        Err(err) => {
            tracing::error!("the kiosk cannot start: {err}");
            let running = out_of_service(&ui, &err.message_zh());
            return Ok((ui, running));
        }
    };
    // The clock is judged against what the kiosk knows has happened; a
    // wrong one is told to staff, and records signed under it say so.
    let steady = Rc::new(clock::SteadyClock::system());
    let bounds = clock::clock_bounds(&config, &paths.outbox());
    let verdict = bounds.judge(steady.now());
    let mut campaign = campaign_of(&config);
    if let Some(message_zh) = verdict.notice_zh() {
        tracing::warn!(
            "the clock reads {} and cannot be right ({verdict:?}); records will be marked clock_suspect",
            steady.now()
        );
        campaign.notice_zh = format!("{}\n\n给工作人员：{message_zh}", campaign.notice_zh);
    }
    let session = Session::new(config.session_settings(), steady.now())
        .with_staff(staff_settings_of(
            &config,
            installed.version,
            &installed.sha256,
        ))
        .with_clock_bounds(bounds);
    let session_clock = Rc::clone(&steady);
    let running = start(
        &ui,
        session,
        shell,
        Box::new(move || session_clock.now()),
        &campaign,
    );
    running.follow_wall_between_sessions(steady);
    running
        .kiosk()
        .borrow_mut()
        .set_help_texts(config.texts.help.clone());
    let watch = ConfigWatch::spawn(store, config, |config: &Config| {
        crate::config::http::HttpConfigTransport::for_kiosk(config).map_err(|e| e.to_string())
    });
    running.watch_config(watch);
    Ok((ui, running))
}

/// A kiosk that cannot take registrations says so calmly and sends people
/// to staff, instead of showing a blank screen.
pub fn out_of_service(ui: &AppWindow, reason_zh: &str) -> Running {
    use crate::kiosk::shell::SimulatedShell;

    let campaign = out_of_service_campaign(reason_zh);
    let session = Session::new(stand_in::session_settings(), Utc::now());
    let running = start(
        ui,
        session,
        Box::new(SimulatedShell::new()),
        Box::new(Utc::now),
        &campaign,
    );
    // No registration can start here, and no button says it could.
    ui.global::<AttractView>().on_start(|| {});
    ui.global::<AttractView>().set_paused(true);
    running
}

/// The words of the out-of-service screen: calm for the person, what to do
/// for staff.
pub fn out_of_service_campaign(reason_zh: &str) -> Campaign {
    Campaign {
        title_zh: "本机暂停服务，请找工作人员".into(),
        notice_zh: format!("给工作人员：{reason_zh}"),
        place_zh: "自助登记暂时无法使用，工作人员会帮您登记或另约时间。".into(),
    }
}

/// `veteran-kiosk` with no arguments: the configured kiosk, fullscreen,
/// restarting itself in an orderly way when a new configuration needs it.
pub fn run_fullscreen(paths: &boot::KioskPaths) -> Result<(), LaunchError> {
    let restarting = {
        let (ui, running) = launch(paths)?;
        ui.run()?;
        running.restarting()
        // Window, devices, outbox and threads are closed here.
    };
    if restarting {
        return Err(LaunchError::Restart(boot::restart_process()));
    }
    Ok(())
}

/// `veteran-kiosk demo kiosk`: the in-memory demo, fullscreen.
pub fn run_demo() -> Result<(), slint::PlatformError> {
    let (ui, _running) = launch_demo()?;
    ui.run()
}

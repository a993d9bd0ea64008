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

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Utc};
use slint::ComponentHandle;

use crate::core::session::{Event, Session};
use crate::ui::attract_adapter::{self, Campaign};
use crate::ui::shell::Shell;
use crate::ui::{self, AppWindow, AttractView, Dispatch, EventSink};

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
}

impl Kiosk {
    pub fn session(&self) -> &Session {
        &self.session
    }

    pub fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    /// One event through the session, its effects through the shell, the
    /// shell's answers back in (bounded, in case two keep answering each
    /// other), then redraw.
    fn run(&mut self, first: Event) {
        let now = self.now();
        let mut pending = vec![first];
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
        self.render();
    }

    /// Called by the timer: lets time-outs fire and device answers in.
    pub fn tick(&mut self) {
        self.run(Event::Tick);
    }

    pub fn render(&self) {
        let Some(ui) = self.ui.upgrade() else { return };
        let now = self.now();
        let camera = self.shell.camera();
        ui::show(&ui, &self.session.view(now), camera.as_ref());
    }

    fn start_event(&mut self) -> Event {
        Event::Start {
            record_id: self.shell.new_record_id(),
        }
    }
}

impl EventSink for Kiosk {
    fn handle_event(&mut self, event: Event) {
        self.run(event);
    }
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
    }));
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
    kiosk.borrow().render();
    Running {
        kiosk,
        dispatch,
        _timer: timer,
    }
}

/// Settings used until configuration provides them (simulated devices,
/// a demo township and a demo staff PIN "2468").
pub mod stand_in {
    use chrono::{Duration, NaiveDate, Utc};

    use crate::core::card::{CardRead, CardText, Nation, Validity};
    use crate::core::id_number::{IdNumber, Sex};
    use crate::core::record::Township;
    use crate::core::session::{SessionSettings, StaffSettings};
    use crate::core::staff::{PinHash, StaffAccount};
    use crate::ui::attract_adapter::Campaign;

    pub fn session_settings() -> SessionSettings {
        SessionSettings {
            kiosk_id: "demo-kiosk".into(),
            township: Township {
                code: "110101001".into(),
                name: "东华门街道".into(),
            },
            idle_warning_after: Duration::seconds(120),
            idle_wipe_after_warning: Duration::seconds(30),
            done_screen_for: Duration::seconds(20),
        }
    }

    pub fn staff_settings() -> StaffSettings {
        StaffSettings {
            accounts: vec![StaffAccount {
                staff_id: "demo-staff".into(),
                pin: PinHash::new("2468", b"demo-kiosk-salt", 20_000),
            }],
            config_version: "stand-in (no configuration loaded)".into(),
            config_hash: "-".into(),
        }
    }

    pub fn campaign() -> Campaign {
        Campaign {
            title_zh: "退役军人和其他优抚对象信息采集".into(),
            notice_zh: "为更好地服务退役军人和其他优抚对象，县退役军人事务局开展信息采集。请带好身份证、户口本和相关证件，按屏幕提示自助登记，工作人员在旁协助。".into(),
            place_zh: "东华门街道退役军人服务站".into(),
        }
    }

    /// A sample card for the simulated reader (test data, not a person).
    pub fn sample_card() -> Option<CardRead> {
        let today = Utc::now().date_naive();
        let first17 = *b"11010119500307001";
        let check = crate::core::id_number::check_digit(&first17);
        let number = format!("{}{check}", std::str::from_utf8(&first17).ok()?);
        Some(CardRead {
            text: CardText {
                name: "王建国".into(),
                sex: Sex::Male,
                nation: Nation::from_code(1)?,
                birth_date: NaiveDate::from_ymd_opt(1950, 3, 7)?,
                address: "北京市东城区景山前街4号".into(),
                id_number: IdNumber::parse(&number, today).ok()?,
                authority: "北京市公安局东城分局".into(),
                valid_from: NaiveDate::from_ymd_opt(2010, 1, 1)?,
                valid_to: Validity::LongTerm,
            },
            photo_wlt: Vec::new(),
            fingerprint: None,
        })
    }
}

/// The fullscreen kiosk window, wired and ticking, with simulated devices
/// (until the device and configuration modules are wired in).
pub fn launch() -> Result<(AppWindow, Running), slint::PlatformError> {
    use crate::core::session::Session;
    use crate::ui::shell::SimulatedShell;

    let ui = AppWindow::new()?;
    ui.window().set_fullscreen(true);
    let shell = SimulatedShell::new();
    shell.state().borrow_mut().demo_card = stand_in::sample_card();
    let clock: Clock = Box::new(Utc::now);
    let session = Session::new(stand_in::session_settings(), Utc::now())
        .with_staff(stand_in::staff_settings());
    let running = start(&ui, session, Box::new(shell), clock, &stand_in::campaign());
    Ok((ui, running))
}

/// `veteran-kiosk` with no arguments.
pub fn run_fullscreen() -> Result<(), slint::PlatformError> {
    let (ui, _running) = launch()?;
    ui.run()
}

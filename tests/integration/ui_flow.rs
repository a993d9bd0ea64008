//! Flow tests that drive the real UI headlessly: Slint's testing backend
//! with the software renderer, elements found by their accessible labels,
//! simulated card reader, camera and printer, and a virtual clock that moves
//! together with Slint's mock time (no sleeps).
//!
//! Each test also writes PNG screenshots of the screens it passes through
//! into docs/screenshots/ (only when a picture changed).

use std::cell::{Cell, RefCell};
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, TimeZone, Utc};
use i_slint_backend_testing::{ElementHandle, TestingBackend, TestingBackendOptions};
use slint::platform::{PointerEventButton, WindowEvent};
use slint::{ComponentHandle, LogicalPosition, Model};

use kiosk_core::category::DocumentKind;
use kiosk_core::record::Record;
use kiosk_core::session::{Event, PhotoPurpose, PrintOutcome, Session, StaffCommand};
use kiosk_core::staff::AuditAction;
use veteran_kiosk::kiosk::shell::{SimState, SimulatedShell};
use veteran_kiosk::kiosk::{self, stand_in, Running};
use veteran_kiosk::ui::{AppWindow, InputPurpose, KeyboardHost, Nav, Screen, StaffView};

const PIN: &str = "2468";

struct Harness {
    ui: AppWindow,
    running: Running,
    sim: Rc<RefCell<SimState>>,
    clock: Rc<Cell<DateTime<Utc>>>,
}

fn harness() -> Harness {
    harness_with_staff(stand_in::staff_settings())
}

fn harness_with_staff(staff: kiosk_core::session::StaffSettings) -> Harness {
    slint::platform::set_platform(Box::new(TestingBackend::new(TestingBackendOptions {
        mock_time: true,
        threading: false,
        renderer_name: Some("software".into()),
    })))
    .expect("one platform per test thread");
    let ui = AppWindow::new().unwrap();
    ui.window().set_size(slint::PhysicalSize::new(1920, 1080));
    ui.show().unwrap();
    let shell = SimulatedShell::new();
    let sim = shell.state();
    sim.borrow_mut()
        .cards
        .push_back(Ok(stand_in::sample_card().unwrap()));
    let start = Utc.with_ymd_and_hms(2025, 3, 1, 1, 0, 0).unwrap();
    let clock = Rc::new(Cell::new(start));
    let c = Rc::clone(&clock);
    let session = Session::new(stand_in::session_settings(), start).with_staff(staff);
    let running = kiosk::start(
        &ui,
        session,
        Box::new(shell),
        Box::new(move || c.get()),
        &stand_in::campaign(),
    );
    let h = Harness {
        ui,
        running,
        sim,
        clock,
    };
    h.advance(0.25);
    h
}

impl Harness {
    fn running_session_has_no_record(&self) -> bool {
        self.running.kiosk().borrow().session().record().is_none()
    }

    /// Move the clock and Slint's mock time together, a tick at a time.
    fn advance(&self, seconds: f64) {
        let steps = (seconds / 0.25).round().max(1.0) as usize;
        for _ in 0..steps {
            self.clock
                .set(self.clock.get() + Duration::milliseconds(250));
            i_slint_backend_testing::mock_elapsed_time(StdDuration::from_millis(250));
        }
    }

    fn screen(&self) -> Screen {
        self.ui.global::<Nav>().get_screen()
    }

    fn notice(&self) -> String {
        self.ui.global::<Nav>().get_notice().to_string()
    }

    fn find(&self, label: &str) -> Vec<ElementHandle> {
        ElementHandle::find_by_accessible_label(&self.ui, label)
            .filter(|e| e.is_valid() && e.computed_opacity() > 0.0)
            .collect()
    }

    /// Scroll the page's scroll areas down a little, as a finger would, so
    /// that rows further down are laid out.
    fn scroll_down(&self) {
        for area in ElementHandle::find_by_element_type_name(&self.ui, "Flickable") {
            area.scroll(0.0, -300.0);
        }
        self.advance(0.25);
    }

    /// Find, scrolling down when what is sought is further down the page.
    fn find_scrolling(
        &self,
        label: &str,
        keep: impl Fn(&ElementHandle) -> bool,
    ) -> Vec<ElementHandle> {
        for _ in 0..12 {
            let found: Vec<ElementHandle> =
                self.find(label).into_iter().filter(|e| keep(e)).collect();
            if !found.is_empty() {
                return found;
            }
            self.scroll_down();
        }
        Vec::new()
    }

    /// Press the one enabled control with this label.
    fn tap(&self, label: &str) {
        let found: Vec<ElementHandle> = self
            .find_scrolling(label, |_| true)
            .into_iter()
            .filter(|e| {
                e.accessible_enabled() != Some(false) || e.accessible_checkable() == Some(true)
            })
            .filter(|e| {
                matches!(
                    e.accessible_role(),
                    Some(i_slint_backend_testing::AccessibleRole::Button)
                        | Some(i_slint_backend_testing::AccessibleRole::Checkbox)
                )
            })
            .collect();
        if found.len() != 1 {
            let near: Vec<String> = i_slint_backend_testing::ElementRoot::root_element(&self.ui)
                .query_descendants()
                .find_all()
                .into_iter()
                .filter_map(|e| e.accessible_label())
                .map(|l| l.to_string())
                .filter(|l| !l.is_empty())
                .collect();
            panic!(
                "expected one control labelled {label:?} on {:?}, found {}; similar: {near:?}",
                self.screen(),
                found.len()
            );
        }
        found[0].invoke_accessible_default_action();
        self.advance(0.25);
    }

    fn is_enabled(&self, label: &str) -> bool {
        self.find(label)
            .iter()
            .any(|e| e.accessible_enabled() != Some(false))
    }

    fn type_into(&self, label: &str, text: &str) {
        let found = self.find_scrolling(label, |e| {
            e.accessible_role() == Some(i_slint_backend_testing::AccessibleRole::TextInput)
        });
        assert_eq!(
            found.len(),
            1,
            "expected one text box labelled {label:?}, found {}",
            found.len()
        );
        found[0].set_accessible_value(text);
        self.advance(0.25);
    }

    /// What the session holds now.
    fn record<T>(&self, read: impl FnOnce(&Record) -> T) -> T {
        let kiosk = self.running.kiosk();
        let kiosk = kiosk.borrow();
        read(
            kiosk
                .session()
                .record()
                .expect("a registration is under way"),
        )
    }

    fn keyboard(&self) -> KeyboardHost<'_> {
        self.ui.global::<KeyboardHost>()
    }

    /// Tap a text field: the on-screen keyboard comes up for it.
    fn open_keyboard(&self, label: &str) {
        let found = self.find_scrolling(label, |e| {
            e.accessible_role() == Some(i_slint_backend_testing::AccessibleRole::TextInput)
        });
        assert_eq!(found.len(), 1, "expected one text box labelled {label:?}");
        found[0].invoke_accessible_default_action();
        self.advance(0.25);
        assert!(self.keyboard().get_open(), "no keyboard for {label:?}");
        assert_eq!(self.keyboard().get_field(), label);
    }

    /// Tap keys of the on-screen keyboard, one per character.
    fn type_keys(&self, keys: &str) {
        for key in keys.chars() {
            self.tap(&key.to_string());
        }
    }

    /// Labels of the candidates on show, e.g. "候选 看病".
    fn candidates(&self) -> Vec<String> {
        i_slint_backend_testing::ElementRoot::root_element(&self.ui)
            .query_descendants()
            .find_all()
            .into_iter()
            .filter_map(|e| e.accessible_label())
            .map(|l| l.to_string())
            .filter(|l| l.starts_with("候选 "))
            .collect()
    }

    /// Draw strokes on the handwriting pad with real pointer events; points
    /// are fractions of the pad.
    fn draw(&self, strokes: &[Vec<(f32, f32)>]) {
        let pad = self.find("手写板");
        assert_eq!(pad.len(), 1, "one handwriting pad");
        let (origin, size) = (pad[0].absolute_position(), pad[0].size());
        let at = |(x, y): (f32, f32)| {
            LogicalPosition::new(origin.x + x * size.width, origin.y + y * size.height)
        };
        let window = self.ui.window();
        for points in strokes {
            let (first, rest) = points.split_first().expect("a stroke has points");
            window.dispatch_event(WindowEvent::PointerPressed {
                position: at(*first),
                button: PointerEventButton::Left,
            });
            for p in rest {
                window.dispatch_event(WindowEvent::PointerMoved { position: at(*p) });
            }
            window.dispatch_event(WindowEvent::PointerReleased {
                position: at(*points.last().unwrap_or(first)),
                button: PointerEventButton::Left,
            });
        }
        self.advance(0.25);
    }

    fn enter_pin(&self, pin: &str) {
        for digit in pin.chars() {
            self.tap(&digit.to_string());
        }
        self.tap("确定");
    }

    /// Render the window and keep the picture in docs/screenshots/.
    fn screenshot(&self, name: &str) {
        i_slint_backend_testing::mock_elapsed_time(StdDuration::from_millis(0));
        let shot = self
            .ui
            .window()
            .take_snapshot()
            .expect("software renderer snapshot");
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let mut bytes = Vec::new();
        {
            let mut encoder = png::Encoder::new(&mut bytes, shot.width(), shot.height());
            encoder.set_color(png::ColorType::Rgba);
            encoder.set_depth(png::BitDepth::Eight);
            let mut writer = encoder.write_header().unwrap();
            writer.write_image_data(shot.as_bytes()).unwrap();
        }
        let path = dir.join(format!("{name}.png"));
        if std::fs::read(&path).ok().as_deref() != Some(&bytes[..]) {
            std::fs::write(&path, &bytes).unwrap();
        }
    }
}

/// From the attract screen to a complete review, taking screenshots.
fn register_until_review(h: &Harness, shots: bool) {
    let shot = |name: &str| {
        if shots {
            h.screenshot(name)
        }
    };
    assert_eq!(h.screen(), Screen::Attract);
    shot("01-attract");
    h.tap("开始登记");
    assert_eq!(h.screen(), Screen::InsertCard);
    shot("02-insert-card");
    h.advance(2.5);
    assert_eq!(h.screen(), Screen::Identity);
    // The phone number key by key on the digit pad; the session gets each key.
    h.open_keyboard("联系电话（手机或座机）");
    assert_eq!(h.keyboard().get_purpose(), InputPurpose::Phone);
    assert!(
        h.find("拼音输入").is_empty(),
        "a phone number gets digits only"
    );
    assert!(h.find("下一步").is_empty(), "完成 comes before 下一步");
    h.type_keys("138");
    assert_eq!(h.record(|r| r.identity.phone.clone()), "138");
    h.tap("删除");
    assert_eq!(h.record(|r| r.identity.phone.clone()), "13");
    h.type_keys("800138000");
    shot("03b-identity-keyboard-digits");
    h.tap("完成");
    assert!(!h.keyboard().get_open());
    assert_eq!(h.record(|r| r.identity.phone.clone()), "13800138000");
    shot("03-identity");
    h.tap("下一步");
    assert_eq!(h.screen(), Screen::Portrait);
    h.advance(1.0);
    shot("04-portrait-coach");
    h.advance(3.0);
    shot("05-portrait-taken");
    h.tap("下一步");
    assert_eq!(h.screen(), Screen::Categories);
    h.tap("2. 退役士兵");
    shot("06-categories");
    h.tap("下一步");
    assert_eq!(h.screen(), Screen::Details);
    h.tap("安置方式：回乡生产");
    h.type_into("入伍时间 年", "1968");
    h.type_into("入伍时间 月", "3");
    h.type_into("入伍时间 日", "1");
    h.type_into("退役时间 年", "1973");
    h.type_into("退役时间 月", "1");
    h.type_into("退役时间 日", "15");
    shot("07-details");
    h.tap("下一步");
    assert_eq!(h.screen(), Screen::Documents);
    h.tap("拍摄户口本");
    // 户口本 has its 首页 and the person's own page: a second page.
    h.tap("加拍户口本第2页");
    let pages = h.record(|r| {
        r.documents
            .iter()
            .map(|d| (d.kind, d.page))
            .collect::<Vec<_>>()
    });
    assert_eq!(
        pages,
        [
            (DocumentKind::HouseholdRegister, 1),
            (DocumentKind::HouseholdRegister, 2)
        ]
    );
    h.tap("拍摄退伍证");
    shot("08-documents");
    h.tap("下一步");
    assert_eq!(h.screen(), Screen::Living);
    h.tap("工作情况：务农");
    h.open_keyboard("本人月平均收入（元）");
    assert_eq!(h.keyboard().get_purpose(), InputPurpose::Digits);
    h.type_keys("1800");
    h.tap("完成");
    assert_eq!(h.record(|r| r.living.monthly_income_yuan), Some(1800));
    h.tap("养老保险：城乡居民基本养老保险");
    h.tap("医疗保险：城乡居民基本医疗保险");
    h.tap("住房情况：自有住房");
    h.tap("享受的社会救助（可多选）：都没有");
    h.tap("享受的国家抚恤补助（可多选）：定期生活补助");
    h.tap("享受的残疾人两项补贴（可多选）：都没有");
    shot("09-living");
    h.tap("下一步");
    assert_eq!(h.screen(), Screen::Needs);
    shot("10-needs");
    type_a_need_in_chinese(h, shots);
    h.tap("下一步");
    assert_eq!(h.screen(), Screen::Review);
}

/// Chinese through the on-screen keyboard: pinyin, then handwriting, then
/// pinyin again, into the free text of a need.
fn type_a_need_in_chinese(h: &Harness, shots: bool) {
    const FIELD: &str = "医疗方面，请简单说明";
    let need_text = || h.record(|r| r.needs.first().map(|n| n.text.clone()));
    h.tap("医疗");
    h.open_keyboard(FIELD);
    assert_eq!(h.keyboard().get_purpose(), InputPurpose::Text);
    h.tap("拼音输入");
    h.type_keys("kanbing");
    let offered = h.candidates();
    assert!(offered.contains(&"候选 看病".to_string()), "{offered:?}");
    if shots {
        h.screenshot("10b-needs-keyboard-pinyin");
    }
    // Nothing reaches the record while pinyin is being composed.
    assert_eq!(need_text(), Some(String::new()));
    h.tap("候选 看病");
    assert_eq!(need_text().as_deref(), Some("看病"));

    // 人 by hand: two curved strokes.
    h.tap("手写输入");
    let curve = |a: (f32, f32), c: (f32, f32), b: (f32, f32)| -> Vec<(f32, f32)> {
        (0..=20)
            .map(|i| {
                let t = i as f32 / 20.0;
                let u = 1.0 - t;
                (
                    u * u * a.0 + 2.0 * u * t * c.0 + t * t * b.0,
                    u * u * a.1 + 2.0 * u * t * c.1 + t * t * b.1,
                )
            })
            .collect()
    };
    h.draw(&[
        curve((0.5, 0.1), (0.45, 0.6), (0.1, 0.9)),
        curve((0.45, 0.4), (0.6, 0.75), (0.9, 0.9)),
    ]);
    let offered = h.candidates();
    assert!(
        offered.iter().take(3).any(|c| c == "候选 人"),
        "人 among the first three: {offered:?}"
    );
    if shots {
        h.screenshot("10c-needs-keyboard-handwriting");
    }
    h.tap("候选 人");
    assert_eq!(need_text().as_deref(), Some("看病人"));

    // 完成 converts what is composed, then a second 完成 puts the keyboard away.
    h.tap("拼音输入");
    h.type_keys("duo");
    h.tap("完成");
    assert_eq!(need_text().as_deref(), Some("看病人多"));
    assert!(h.keyboard().get_open());
    h.tap("完成");
    assert!(!h.keyboard().get_open());
    // The field shows what the session holds.
    let field = h.find_scrolling(FIELD, |e| {
        e.accessible_role() == Some(i_slint_backend_testing::AccessibleRole::TextInput)
    });
    assert_eq!(field[0].accessible_value().unwrap_or_default(), "看病人多");
}

#[test]
fn full_registration_with_simulated_card_camera_and_printer() {
    let h = harness();
    register_until_review(&h, true);
    h.screenshot("11-review");
    h.tap("打印回执");
    assert_eq!(h.screen(), Screen::Sign);
    h.screenshot("12-sign-printing");
    h.advance(2.5);
    h.screenshot("13-sign-awaiting");
    h.tap("工作人员确认签字");
    h.screenshot("14-staff-pin-witness");
    h.enter_pin(PIN);
    assert_eq!(h.screen(), Screen::Done);
    h.screenshot("15-done");
    {
        let sim = h.sim.borrow();
        assert_eq!(sim.enqueued.len(), 1);
        assert_eq!(sim.printed.len(), 1);
        let record = &sim.enqueued[0];
        assert_eq!(record.identity.name, "王建国");
        assert!(
            record.identity.id_number.starts_with("350524"),
            "an 安溪县 resident"
        );
        assert_eq!(record.identity.phone, "13800138000");
        assert_eq!(record.living.monthly_income_yuan, Some(1800));
        assert_eq!(record.needs.len(), 1);
        assert_eq!(record.needs[0].text, "看病人多");
        assert_eq!(
            record.signature.as_ref().unwrap().witnessed_by,
            "demo-staff"
        );
        assert!(sim.drafts.is_empty(), "the draft is wiped once stored");
    }
    h.advance(21.0);
    assert_eq!(h.screen(), Screen::Attract);
}

/// A person the county already knows comes back: the identity page shows
/// what the county has; "没有变化" takes them from the portrait straight to
/// the review, and the new record supersedes the county's one.
#[test]
fn a_returning_person_sees_the_county_record_and_confirms_it() {
    let h = harness();
    register_until_review(&h, false);
    h.tap("打印回执");
    h.advance(2.5);
    h.tap("工作人员确认签字");
    h.enter_pin(PIN);
    assert_eq!(h.screen(), Screen::Done);
    let earlier = h.sim.borrow().enqueued[0].clone();
    {
        let mut sim = h.sim.borrow_mut();
        sim.county_base.push(earlier.clone());
        sim.cards.push_back(Ok(stand_in::sample_card().unwrap()));
    }
    h.advance(21.0);
    assert_eq!(h.screen(), Screen::Attract);
    h.tap("开始登记");
    h.advance(2.5);
    assert_eq!(h.screen(), Screen::Identity);
    let identity = h.ui.global::<veteran_kiosk::ui::IdentityView>();
    let summary = identity.get_county_summary().to_string();
    assert!(summary.contains("人员类别：退役士兵"), "{summary}");
    assert!(summary.contains("联系电话：13800138000"), "{summary}");
    h.screenshot("03d-identity-returning");
    h.tap("没有变化");
    assert_eq!(h.screen(), Screen::Portrait);
    assert_eq!(identity.get_county_summary(), "");
    h.advance(4.0);
    h.tap("下一步");
    assert_eq!(h.screen(), Screen::Review);
    assert_eq!(
        h.record(|r| r.meta.supersedes),
        Some(earlier.meta.record_id)
    );
    assert_eq!(
        h.record(|r| r.living.monthly_income_yuan),
        Some(1800),
        "filled in from the county's record"
    );
}

/// A person whose last record here the county returned taps their card:
/// the county's reasons show on the identity page and stay on the review,
/// and the new record supersedes the returned one.
#[test]
fn a_person_whose_record_was_returned_sees_the_reasons_and_the_new_record_supersedes_it() {
    let h = harness();
    let card = stand_in::sample_card().unwrap();
    let returned = kiosk_core::session::ReturnedRecord {
        record_id: uuid::Uuid::from_u128(0x5e7),
        record_number: "K7Q2-M9XD-3F8A".into(),
        reasons_zh: vec![
            "退伍证照片不清晰，请重新拍摄".into(),
            "入伍时间与档案不符".into(),
        ],
    };
    h.sim
        .borrow_mut()
        .returned
        .push((card.text.id_number.as_str().to_string(), returned.clone()));
    h.tap("开始登记");
    h.advance(2.5);
    assert_eq!(h.screen(), Screen::Identity);
    let notice = h.notice();
    assert!(
        notice.contains("县里退回了您上次的登记（K7Q2-M9XD-3F8A）"),
        "{notice}"
    );
    assert!(notice.contains("入伍时间与档案不符"), "{notice}");
    h.screenshot("03e-identity-record-returned");
    h.tap("结束登记");
    h.tap("结束并清除");
    h.sim
        .borrow_mut()
        .cards
        .push_back(Ok(stand_in::sample_card().unwrap()));
    register_until_review(&h, false);
    let review = h.ui.global::<veteran_kiosk::ui::ReviewView>();
    assert_eq!(review.get_returned().to_string(), returned.notice_zh());
    h.screenshot("11c-review-record-returned");
    assert_eq!(h.record(|r| r.meta.supersedes), Some(returned.record_id));
    h.tap("打印回执");
    h.advance(2.5);
    h.tap("工作人员确认签字");
    h.enter_pin(PIN);
    assert_eq!(h.screen(), Screen::Done);
    let signed = h.sim.borrow().enqueued[0].clone();
    assert_eq!(signed.meta.supersedes, Some(returned.record_id));
}

/// Staff reopen a returned record from the queue ("重新登记"): the kiosk
/// asks for the person's card, and the new record supersedes the returned
/// one.
#[test]
fn staff_reopen_a_returned_record_from_the_queue_with_its_person() {
    let h = harness();
    let card = stand_in::sample_card().unwrap();
    let returned = kiosk_core::session::ReturnedRecord {
        record_id: uuid::Uuid::from_u128(0x5e7),
        record_number: "K7Q2-M9XD-3F8A".into(),
        reasons_zh: vec!["退伍证照片不清晰，请重新拍摄".into()],
    };
    h.sim
        .borrow_mut()
        .returned
        .push((card.text.id_number.as_str().to_string(), returned.clone()));
    h.tap("工作人员入口");
    h.enter_pin(PIN);
    h.tap("上传队列");
    let queue = h.ui.global::<StaffView>().get_queue();
    let row = queue.iter().find(|r| r.returned).expect("a returned row");
    assert_eq!(row.id, returned.record_id.to_string());
    h.screenshot("20b-staff-queue-returned");
    h.tap("重新登记");
    assert_eq!(h.ui.global::<StaffView>().get_panel(), "");
    assert_eq!(h.notice(), "请本人点“开始登记”，再把身份证放在读卡区");
    h.screenshot("20c-staff-reopened-attract");
    assert!(h.sim.borrow().audit.iter().any(|e| e.action
        == kiosk_core::staff::AuditAction::ReturnedRecordReopened {
            record_id: returned.record_id
        }));
    register_until_review(&h, false);
    assert_eq!(h.record(|r| r.meta.supersedes), Some(returned.record_id));
}

/// Someone the coach cannot get to an automatic photo (cannot come
/// closer): after the configured wait a large "拍照" button takes it; its
/// remaining issues stop the person until staff accept them with their PIN,
/// and the record says who accepted what.
#[test]
fn a_person_the_coach_cannot_get_there_takes_the_photo_by_hand_and_staff_accept_it() {
    let h = harness();
    h.sim.borrow_mut().coach_script = vec![("靠近一点".into(), false); 600];
    h.tap("开始登记");
    h.advance(2.5);
    assert_eq!(h.screen(), Screen::Identity);
    h.type_into("联系电话（手机或座机）", "13800138000");
    h.tap("下一步");
    assert_eq!(h.screen(), Screen::Portrait);
    h.advance(10.0);
    assert!(h.find("拍照").is_empty(), "not offered before its time");
    h.advance(11.0);
    h.screenshot("04b-portrait-take-now");
    h.tap("拍照");
    h.advance(0.5);
    let issues = h.record(|r| r.photos.portrait_issues.clone());
    assert_eq!(issues, ["头部太小：头部要占照片高度的三分之二以上。"]);
    h.screenshot("04c-portrait-needs-staff");
    h.tap("下一步");
    assert_eq!(h.screen(), Screen::Portrait);
    assert_eq!(h.notice(), "照片还有问题，请工作人员确认后再继续");
    h.tap("工作人员确认照片");
    assert_eq!(h.ui.global::<StaffView>().get_panel(), "pin");
    assert_eq!(h.ui.global::<StaffView>().get_pin_purpose(), "portrait");
    h.screenshot("04d-portrait-staff-pin");
    h.enter_pin(PIN);
    assert_eq!(h.ui.global::<StaffView>().get_panel(), "");
    let acceptance = h.record(|r| r.photos.portrait_acceptance.clone());
    let acceptance = acceptance.expect("staff accepted the portrait");
    assert_eq!(acceptance.issues, issues);
    assert!(!acceptance.accepted_by.is_empty());
    assert!(h.find("工作人员确认照片").is_empty());
    h.screenshot("04e-portrait-accepted");
    assert!(h
        .sim
        .borrow()
        .audit
        .iter()
        .any(|entry| entry.action == AuditAction::PortraitAccepted));
    h.tap("下一步");
    assert_eq!(h.screen(), Screen::Categories);
}

/// Someone who lost their discharge certificate: staff mark it 遗失 with a
/// note and their PIN, and the person goes on; the record carries the mark.
#[test]
fn a_lost_certificate_is_marked_by_staff_and_does_not_block() {
    let h = harness();
    h.tap("开始登记");
    h.advance(2.5);
    h.type_into("联系电话（手机或座机）", "13800138000");
    h.tap("下一步");
    h.advance(4.0);
    h.tap("下一步");
    assert_eq!(h.screen(), Screen::Categories);
    h.tap("2. 退役士兵");
    h.tap("下一步");
    h.tap("安置方式：回乡生产");
    h.type_into("入伍时间 年", "1968");
    h.type_into("入伍时间 月", "3");
    h.type_into("入伍时间 日", "1");
    h.type_into("退役时间 年", "1973");
    h.type_into("退役时间 月", "1");
    h.type_into("退役时间 日", "15");
    h.tap("下一步");
    assert_eq!(h.screen(), Screen::Documents);
    h.tap("拍摄户口本");
    let row = "退伍证或入伍档案材料（如退伍军人登记表复印件）";
    h.tap(&format!("{row}没有带来"));
    h.type_into("证件情况说明（可不填）", "1985年搬家时遗失");
    h.screenshot("08b-documents-staff-mark");
    h.tap(&format!("标记{row}遗失"));
    assert_eq!(h.ui.global::<StaffView>().get_panel(), "pin");
    assert_eq!(h.ui.global::<StaffView>().get_pin_purpose(), "document");
    h.enter_pin(PIN);
    assert_eq!(h.ui.global::<StaffView>().get_panel(), "");
    let marks = h.record(|r| r.missing_documents.clone());
    assert_eq!(marks.len(), 1);
    assert_eq!(marks[0].kind, DocumentKind::DischargeCertificate);
    assert_eq!(marks[0].reason, kiosk_core::record::MissingReason::Lost);
    assert_eq!(marks[0].note, "1985年搬家时遗失");
    assert_eq!(marks[0].marked_by, "demo-staff");
    assert!(h
        .sim
        .borrow()
        .audit
        .iter()
        .any(|entry| entry.action == AuditAction::DocumentMarkedMissing));
    h.screenshot("08c-documents-marked");
    h.tap("下一步");
    assert_eq!(h.screen(), Screen::Living);
}

#[test]
fn a_rule_blocked_category_is_greyed_and_tells_why() {
    let h = harness();
    h.tap("开始登记");
    h.advance(2.5);
    h.tap("下一步");
    h.advance(4.0);
    h.tap("下一步");
    assert_eq!(h.screen(), Screen::Categories);
    h.tap("8. 伤残民兵民工");
    h.tap("2. 退役士兵");
    assert_eq!(h.notice(), "已选择“伤残民兵民工”，不能再选择第1至6类");
    h.screenshot("06b-categories-blocked");
    let soldier = h.find("2. 退役士兵");
    assert_eq!(soldier[0].accessible_checked(), Some(false));
    assert_eq!(soldier[0].accessible_enabled(), Some(false));
    // Text size and contrast can be changed on this screen too.
    h.tap("特大字号");
    h.tap("高对比度");
    h.screenshot("06c-categories-extra-large-high-contrast");
    h.tap("标准字号");
    h.tap("高对比度");
}

#[test]
fn idle_warning_then_wipe() {
    let h = harness();
    h.tap("开始登记");
    h.advance(2.5);
    // Walks away with the keyboard up and a pinyin composition pending.
    h.open_keyboard("联系电话（手机或座机）");
    h.type_keys("13800138000");
    h.open_keyboard("现在住的地方（和身份证不同时填写）");
    h.tap("拼音输入");
    h.type_keys("wang");
    assert_eq!(h.sim.borrow().drafts.len(), 1);
    h.advance(121.0);
    let countdown = h.ui.global::<Nav>().get_idle_countdown();
    assert!(countdown >= 20, "warning leaves {countdown} s");
    h.screenshot("16-idle-warning");
    h.advance(31.0);
    assert_eq!(h.screen(), Screen::Attract);
    assert_eq!(h.ui.global::<Nav>().get_idle_countdown(), -1);
    assert!(h.sim.borrow().drafts.is_empty(), "the draft is wiped");
    // Nothing of the person is left on any view.
    let identity = h.ui.global::<veteran_kiosk::ui::IdentityView>();
    assert_eq!(identity.get_phone(), "");
    assert!(!h.keyboard().get_open());
    assert_eq!(h.keyboard().get_text(), "");
    let bridge = h.ui.global::<veteran_kiosk::ui::KeyboardBridge>();
    assert_eq!(bridge.get_preedit(), "");
    assert_eq!(bridge.get_candidates().row_count(), 0);
}

#[test]
fn a_session_ended_before_any_record_exists_still_tells_the_shell() {
    let h = harness();
    h.tap("开始登记");
    // Staff start typing an identity and photograph the card, then cancel:
    // the card photo was taken though no record was ever made.
    h.running.send(Event::StaffGesture);
    h.running.send(Event::PinEntered(PIN.into()));
    h.running.send(Event::Staff(StaffCommand::ManualEntry));
    h.running.send(Event::TakePhoto(PhotoPurpose::IdCard));
    h.advance(0.5);
    assert!(h.running_session_has_no_record());
    assert_eq!(h.sim.borrow().sessions_ended, 0);
    h.running.send(Event::CancelRequested);
    h.running.send(Event::Cancel);
    h.advance(0.25);
    assert_eq!(h.screen(), Screen::Attract);
    assert_eq!(
        h.sim.borrow().sessions_ended,
        1,
        "the shell drops the card photo"
    );
}

#[test]
fn printer_out_of_paper_then_retry_stores_one_record() {
    let h = harness();
    h.sim
        .borrow_mut()
        .print_outcomes
        .push_back(PrintOutcome::Failed {
            code: "paper_out".into(),
            message_zh: "打印机缺纸，已通知工作人员，请稍候".into(),
        });
    register_until_review(&h, false);
    h.tap("打印回执");
    h.advance(2.5);
    assert_eq!(
        h.ui.global::<veteran_kiosk::ui::SignView>().get_failure(),
        "打印机缺纸，已通知工作人员，请稍候"
    );
    assert!(!h.is_enabled("工作人员确认签字"));
    h.screenshot("17-sign-printer-out-of-paper");
    h.tap("重新打印");
    h.advance(2.5);
    h.tap("工作人员确认签字");
    h.enter_pin(PIN);
    assert_eq!(h.screen(), Screen::Done);
    let sim = h.sim.borrow();
    assert_eq!(sim.printed.len(), 1);
    assert_eq!(sim.enqueued.len(), 1);
}

/// Several staff members: each picks their name on the PIN pad and types
/// their own PIN; one member's lock does not lock the other out, and the
/// menu names who opened it.
#[test]
fn each_staff_member_picks_their_name_and_has_their_own_lock() {
    let pin = |digits: &str| {
        kiosk_core::staff::PinHash::derive(
            digits,
            b"ui-test-salt",
            argon2::Params::new(8, 1, 1, None).unwrap(),
        )
        .unwrap()
    };
    let account = |id: &str, name: &str, digits: &str| kiosk_core::staff::StaffAccount {
        staff_id: id.into(),
        name: name.into(),
        pin: pin(digits),
    };
    let h = harness_with_staff(kiosk_core::session::StaffSettings {
        accounts: vec![
            account("fc-01", "陈丽华", "1357"),
            account("fc-02", "林志明", "8642"),
            account("fc-03", "苏雅琴", "9753"),
        ],
        ..stand_in::staff_settings()
    });
    h.sim.borrow_mut().cards.clear();
    h.tap("开始登记");
    h.tap("工作人员入口");
    let staff = h.ui.global::<StaffView>();
    assert_eq!(staff.get_panel(), "pin");
    h.enter_pin("1357");
    assert_eq!(staff.get_pin_message(), "请先点您的名字，再输入密码");
    h.tap("陈丽华");
    assert_eq!(staff.get_chosen_member(), "fc-01");
    h.screenshot("18b-staff-pin-choose-name");
    for _ in 0..5 {
        h.enter_pin("8642");
    }
    assert_eq!(staff.get_locked_seconds(), 30);
    h.tap("林志明");
    assert_eq!(staff.get_locked_seconds(), 0, "林志明 is not locked");
    h.enter_pin("8642");
    assert_eq!(staff.get_panel(), "menu");
    assert_eq!(staff.get_staff_id(), "fc-02");
    // The title names the member as colleagues know them, not by number alone.
    assert_eq!(staff.get_staff_label(), "林志明");
}

#[test]
fn staff_pin_locks_after_five_wrong_tries() {
    let h = harness();
    // No card arrives: staff are called to the card screen.
    h.sim.borrow_mut().cards.clear();
    h.tap("开始登记");
    h.tap("工作人员入口");
    assert_eq!(h.ui.global::<StaffView>().get_panel(), "pin");
    for _ in 0..4 {
        h.enter_pin("1111");
    }
    assert_eq!(
        h.ui.global::<StaffView>().get_pin_message(),
        "密码不对，还可以再试 1 次"
    );
    h.enter_pin("1111");
    assert_eq!(h.ui.global::<StaffView>().get_locked_seconds(), 30);
    h.screenshot("18-staff-pin-locked");
    // Locked: even the right PIN is refused.
    h.enter_pin(PIN);
    assert_eq!(h.ui.global::<StaffView>().get_panel(), "pin");
    h.advance(30.0);
    h.enter_pin(PIN);
    assert_eq!(h.ui.global::<StaffView>().get_panel(), "menu");
    h.screenshot("19-staff-menu");
    h.tap("上传队列");
    h.screenshot("20-staff-queue");
    h.tap("返回菜单");
    h.tap("设备状态");
    h.screenshot("21-staff-devices");
    h.tap("返回菜单");
    h.tap("配置信息");
    h.tap("返回菜单");
    h.tap("手工录入身份");
    assert_eq!(h.screen(), Screen::ManualIdentity);
    h.screenshot("22-manual-identity");
    // Staff type the ID number on the digit pad: X only as the last character.
    h.open_keyboard("公民身份号码");
    assert_eq!(h.keyboard().get_purpose(), InputPurpose::IdNumber);
    h.type_keys("1101011950030");
    h.tap("X");
    assert_eq!(
        h.ui.global::<veteran_kiosk::ui::KeyboardBridge>()
            .get_status(),
        "字母X只能是身份证号码的最后一位"
    );
    h.type_keys("7001X");
    h.screenshot("22b-manual-identity-keyboard");
    let manual = h.ui.global::<veteran_kiosk::ui::ManualIdentityView>();
    assert_eq!(manual.get_id_number(), "11010119500307001X");
    // Another field of the same page: the keyboard follows, with its keys.
    h.open_keyboard("姓名");
    assert_eq!(h.keyboard().get_purpose(), InputPurpose::Text);
    assert_eq!(h.keyboard().get_text(), "");
    h.tap("完成");
    assert_eq!(manual.get_id_number(), "11010119500307001X");
    let audit = h.sim.borrow().audit.clone();
    let actions: Vec<&AuditAction> = audit.iter().map(|e| &e.action).collect();
    assert!(actions.contains(&&AuditAction::PinLockedOut { seconds: 30 }));
    assert!(actions.contains(&&AuditAction::StaffModeOpened));
    assert!(actions.contains(&&AuditAction::ManualEntryStarted));
    let log: String = audit.iter().map(|e| e.to_json_line()).collect();
    assert!(!log.contains("王建国") && !log.contains("110101"));
}

#[test]
fn ending_a_session_asks_first() {
    let h = harness();
    h.tap("开始登记");
    h.advance(2.5);
    h.tap("结束登记");
    h.screenshot("23-end-session-question");
    h.tap("继续填写");
    assert_eq!(h.screen(), Screen::Identity);
    // The staff overlay over the page puts the keyboard away: its digits
    // would be confused with the PIN pad's.
    h.open_keyboard("联系电话（手机或座机）");
    h.tap("工作人员入口");
    assert_eq!(h.ui.global::<StaffView>().get_panel(), "pin");
    assert!(!h.keyboard().get_open());
    h.tap("取消");
    h.open_keyboard("联系电话（手机或座机）");
    h.tap("结束登记");
    h.tap("结束并清除");
    assert_eq!(h.screen(), Screen::Attract);
    assert!(!h.keyboard().get_open());
}

#[test]
fn keyboard_keys_are_large_at_every_text_size() {
    // 15 mm on the 21.5" 1920×1080 panel (≈ 102 px per inch) is about 60 px.
    const MIN_KEY_PX: f32 = 60.0;
    let h = harness();
    h.tap("开始登记");
    h.advance(2.5);
    assert_eq!(h.screen(), Screen::Identity);
    let mut checked = 0;
    for size in ["标准字号", "大字号", "特大字号"] {
        h.tap(size);
        for field in [
            "联系电话（手机或座机）",
            "现在住的地方（和身份证不同时填写）",
        ] {
            h.open_keyboard(field);
            let keys: Vec<ElementHandle> =
                i_slint_backend_testing::ElementRoot::root_element(&h.ui)
                    .query_descendants()
                    .match_accessible_role(i_slint_backend_testing::AccessibleRole::Button)
                    .find_all()
                    .into_iter()
                    // The keyboard's keys are below the page.
                    .filter(|e| e.absolute_position().y > 400.0)
                    .collect();
            assert!(keys.len() >= 13, "{size} {field}: {} keys", keys.len());
            for key in &keys {
                let (at, size_px) = (key.absolute_position(), key.size());
                let label = key.accessible_label().unwrap_or_default();
                assert!(
                    size_px.width >= MIN_KEY_PX && size_px.height >= MIN_KEY_PX,
                    "{size}: key {label:?} is {size_px:?}"
                );
                assert!(
                    at.y + size_px.height <= 1080.0 + 0.5,
                    "{size}: key {label:?} runs off the screen"
                );
            }
            checked += keys.len();
            h.tap("完成");
        }
    }
    assert!(checked > 100, "only {checked} keys checked");
    h.tap("高对比度");
    h.open_keyboard("现在住的地方（和身份证不同时填写）");
    h.type_keys("dongcheng");
    h.screenshot("03c-identity-keyboard-extra-large-high-contrast");
}

/// The county's help texts: the shipped configuration, taken hot, with the
/// identity page's help set to `identity_help`.
fn reconfigure_help(h: &Harness, identity_help: Option<&str>) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("kiosk-config");
    let mut config = veteran_kiosk::config::Config::load(&dir).unwrap();
    config.texts.help.identity = identity_help.map(str::to_string);
    h.running
        .kiosk()
        .borrow_mut()
        .reconfigure(&config, 2, "ab12");
    h.advance(0.25);
}

impl Harness {
    fn help_button_shown(&self) -> bool {
        self.find("帮助")
            .iter()
            .any(|e| e.accessible_role() == Some(i_slint_backend_testing::AccessibleRole::Button))
    }

    /// The help panel's text, when the panel is on show.
    fn help_panel(&self) -> Option<String> {
        let help = self.ui.global::<veteran_kiosk::ui::HelpView>();
        let text = help.get_text().to_string();
        let shown = help.get_open() && !self.find(&text).is_empty();
        assert_eq!(
            shown,
            !self.find("关闭帮助").is_empty(),
            "the close button comes with the panel"
        );
        shown.then_some(text)
    }

    fn last_spoken(&self) -> String {
        self.sim.borrow().spoken.last().cloned().unwrap_or_default()
    }
}

#[test]
fn help_texts_from_configuration_open_are_spoken_and_close() {
    const SHIPPED_CARD_HELP: &str =
        "请将身份证平放在读卡区，听到提示音后再拿开。读不出来请找工作人员。";
    let h = harness();
    // No help texts configured: no button anywhere.
    assert!(!h.help_button_shown());
    reconfigure_help(&h, None);
    // The shipped configuration has none for the attract screen …
    assert!(!h.help_button_shown());
    h.tap("开始登记");
    // … but one for the card.
    assert_eq!(h.screen(), Screen::InsertCard);
    assert!(h.help_button_shown());
    assert_eq!(h.help_panel(), None);
    h.tap("帮助");
    assert_eq!(h.help_panel().as_deref(), Some(SHIPPED_CARD_HELP));
    assert_eq!(h.last_spoken(), SHIPPED_CARD_HELP);
    // The close target is at least 15 mm (≈ 60 px) either way.
    let close = h.find("关闭帮助");
    assert!(close[0].size().height >= 60.0 && close[0].size().width >= 60.0);
    h.screenshot("24-help-panel");
    h.tap("关闭帮助");
    assert_eq!(h.help_panel(), None);
    // Its text is no longer on the screen: neither is it read out.
    assert_eq!(h.last_spoken(), veteran_kiosk::kiosk::shell::SPEECH_STOPPED);

    // Open again: the next page closes it (the card is read meanwhile).
    h.tap("帮助");
    assert!(h.help_panel().is_some());
    h.advance(2.5);
    assert_eq!(h.screen(), Screen::Identity);
    assert_eq!(h.help_panel(), None);
    // No help text for this page in the shipped configuration.
    assert!(!h.help_button_shown());

    // A new configuration gives it one, then changes it while it is open,
    // then takes it away.
    reconfigure_help(&h, Some("电话可以填家里人的。"));
    assert!(h.help_button_shown());
    h.tap("帮助");
    assert_eq!(h.help_panel().as_deref(), Some("电话可以填家里人的。"));
    assert_eq!(h.last_spoken(), "电话可以填家里人的。");
    h.tap("高对比度");
    assert!(
        h.help_panel().is_some(),
        "text size and contrast keep it open"
    );
    h.screenshot("24b-help-panel-high-contrast");
    h.tap("高对比度");
    // The longest text allowed, in the largest size, scrolls inside the
    // panel; the close button stays on the screen.
    let long = "如果身份证上的信息和您现在的情况不一样，请告诉工作人员。".repeat(35);
    assert!(long.chars().count() <= 1000);
    reconfigure_help(&h, Some(&long));
    h.tap("特大字号");
    assert_eq!(h.help_panel().as_deref(), Some(long.as_str()));
    let close = h.find("关闭帮助");
    assert!(close[0].absolute_position().y + close[0].size().height <= 1080.0);
    assert!(!h.find("下面还有内容，点这里或用手指向上滑动").is_empty());
    h.tap("大字号");
    reconfigure_help(&h, Some("请核对姓名和身份证号码。"));
    assert_eq!(h.help_panel().as_deref(), Some("请核对姓名和身份证号码。"));
    reconfigure_help(&h, None);
    assert_eq!(h.help_panel(), None);
    assert!(!h.help_button_shown());

    // Walking away with help open: the wipe closes it.
    reconfigure_help(&h, Some("电话可以填家里人的。"));
    h.tap("帮助");
    assert!(h.help_panel().is_some());
    h.advance(125.0);
    assert_eq!(h.screen(), Screen::Attract);
    assert_eq!(h.help_panel(), None);
    assert!(!h.ui.global::<veteran_kiosk::ui::HelpView>().get_open());
}

/// A person who remembers only the year of enlistment and the year and
/// month of discharge: the details page keeps just that, the review reads
/// it back in words, and a finding that does not block (伤残抚恤金 without
/// a disabled category) is listed for staff, yet the receipt can be printed.
#[test]
fn remembered_years_and_a_check_for_staff_on_screen() {
    let h = harness();
    register_until_review(&h, false);
    // Back to the living conditions, then to the details.
    h.tap("上一步");
    h.tap("上一步");
    assert_eq!(h.screen(), Screen::Living);
    h.tap("享受的国家抚恤补助（可多选）：伤残抚恤金");
    h.tap("上一步");
    h.tap("上一步");
    assert_eq!(h.screen(), Screen::Details);
    h.type_into("入伍时间 日", "");
    h.type_into("入伍时间 月", "");
    h.type_into("退役时间 日", "");
    h.screenshot("07b-details-year-only");
    // A year on the digit pad: 0 sits under 8, in the bottom row, not in a
    // column of its own beside 完成.
    h.open_keyboard("入伍时间 年");
    assert_eq!(h.keyboard().get_purpose(), InputPurpose::Digits);
    let key = |label: &str| {
        let found = h.find(label);
        assert_eq!(found.len(), 1, "one key {label:?}");
        (found[0].absolute_position(), found[0].size())
    };
    let ((zero, _), (eight, eight_size)) = (key("0"), key("8"));
    assert_eq!(zero.x, eight.x, "0 is in the column of 8");
    assert!(zero.y >= eight.y + eight_size.height, "0 is below 8");
    h.screenshot("07c-details-year-digit-pad");
    h.tap("完成");
    assert!(!h.keyboard().get_open());
    let dates = h.record(|r| match &r.categories[0] {
        kiosk_core::record::CategoryDetails::DischargedSoldier {
            enlisted_on,
            discharged_on,
            ..
        } => (*enlisted_on, *discharged_on),
        _ => (None, None),
    });
    assert_eq!(
        dates,
        (
            Some(kiosk_core::PartialDate::Year(1968)),
            Some(kiosk_core::PartialDate::YearMonth(1973, 1))
        )
    );
    // A month that does not exist: not kept, and the page says why.
    h.type_into("退役时间 月", "13");
    assert_eq!(h.notice(), "月份应为 1 到 12");
    assert_eq!(
        h.record(|r| match &r.categories[0] {
            kiosk_core::record::CategoryDetails::DischargedSoldier { discharged_on, .. } =>
                *discharged_on,
            _ => None,
        }),
        None
    );
    // The cleared date empties the year box drawn from it: type it again.
    h.type_into("退役时间 年", "1973");
    h.type_into("退役时间 月", "1");
    assert_eq!(h.notice(), "");
    for _ in 0..4 {
        h.tap("下一步");
    }
    assert_eq!(h.screen(), Screen::Review);
    assert!(
        !h.find("【请核对】享受伤残抚恤金的一般是残疾军人或伤残民兵民工，请核对人员类别")
            .is_empty(),
        "the warning is listed for staff"
    );
    assert!(
        !h.find("1968年").is_empty(),
        "the year reads back as a year"
    );
    h.screenshot("11b-review-checks-for-staff");
    h.tap("打印回执");
    assert_eq!(h.screen(), Screen::Sign);
}

/// Press and release one key on a physical keyboard.
fn press_physical_key(h: &Harness, text: slint::SharedString) {
    let window = h.ui.window();
    window.dispatch_event(WindowEvent::KeyPressed { text: text.clone() });
    window.dispatch_event(WindowEvent::KeyReleased { text });
    h.advance(0.25);
}

/// A physical keyboard (staff's USB keyboard, an adapted one) types into
/// the field the on-screen keyboard is up for, under the same rules as the
/// keys on screen; keys that are not text (arrows) type nothing; Enter
/// finishes like 完成.
#[test]
fn a_physical_keyboard_types_while_the_on_screen_keyboard_is_up() {
    let h = harness();
    h.tap("开始登记");
    h.advance(2.5);
    assert_eq!(h.screen(), Screen::Identity);
    h.open_keyboard("联系电话（手机或座机）");
    for key in "1380013800x".chars() {
        press_physical_key(&h, key.to_string().into());
    }
    // The digit pad's rules hold: no letter in a phone number.
    assert_eq!(h.record(|r| r.identity.phone.clone()), "1380013800");
    press_physical_key(&h, slint::platform::Key::LeftArrow.into());
    press_physical_key(&h, "1".into());
    press_physical_key(&h, "9".into());
    press_physical_key(&h, slint::platform::Key::Backspace.into());
    assert_eq!(h.record(|r| r.identity.phone.clone()), "13800138001");
    press_physical_key(&h, slint::platform::Key::Return.into());
    assert!(!h.keyboard().get_open(), "Enter finishes like 完成");
    // Without the on-screen keyboard up, keys type nothing.
    press_physical_key(&h, "5".into());
    assert_eq!(h.record(|r| r.identity.phone.clone()), "13800138001");
    // Free text: Shift does not stop pinyin.
    h.open_keyboard("现在住的地方（和身份证不同时填写）");
    h.tap("拼音输入");
    for key in "Kanbing".chars() {
        press_physical_key(&h, key.to_string().into());
    }
    assert!(
        h.candidates().contains(&"候选 看病".to_string()),
        "{:?}",
        h.candidates()
    );
}

/// Met on a walk through the demo: at 特大 the identity page pushed the
/// notice of a returned record off the screen, and its subtitle said
/// 这是新登记. The page now scrolls, the notice stays in view above 下一步,
/// and the "下面还有" pill scrolls the page when tapped.
#[test]
fn a_returned_record_notice_stays_in_view_at_extra_large_text() {
    let h = harness();
    let card = stand_in::sample_card().unwrap();
    let returned = kiosk_core::session::ReturnedRecord {
        record_id: uuid::Uuid::from_u128(0x5e7),
        record_number: "K7Q2-M9XD-3F8A".into(),
        reasons_zh: vec!["退伍证照片不清晰，请重新拍摄".into()],
    };
    h.sim
        .borrow_mut()
        .returned
        .push((card.text.id_number.as_str().to_string(), returned));
    h.tap("开始登记");
    h.advance(2.5);
    h.tap("特大字号");
    assert_eq!(h.screen(), Screen::Identity);
    let notice = h.notice();
    assert!(notice.contains("县里退回了您上次的登记"), "{notice}");
    assert_eq!(
        h.ui.global::<veteran_kiosk::ui::IdentityView>()
            .get_found()
            .to_string(),
        "returned"
    );
    let bottom = |label: &str| {
        let found = h.find(label);
        assert_eq!(found.len(), 1, "one {label:?}");
        (
            found[0].absolute_position().y,
            found[0].absolute_position().y + found[0].size().height,
        )
    };
    let (_, notice_bottom) = bottom(&notice);
    let (next_top, _) = bottom("下一步");
    assert!(
        notice_bottom > 0.0 && notice_bottom <= next_top,
        "the notice ({notice_bottom}) ends above 下一步 ({next_top})"
    );
    // The last row of the card is below the fold until the pill is tapped.
    let last_row = "信息来源：读取身份证";
    assert!(h.find(last_row).is_empty(), "{last_row} starts out of view");
    h.screenshot("03f-identity-record-returned-extra-large");
    h.tap("下面还有内容，点这里或用手指向上滑动");
    assert_eq!(
        h.find(last_row).len(),
        1,
        "a tap on the pill scrolls the page"
    );
}

/// The bottom bar's buttons are as wide as their words at every text size
/// ("改好了，返回核对" wrapped and ran out of its button at 大).
#[test]
fn bottom_bar_buttons_hold_their_words_at_every_text_size() {
    let h = harness();
    h.tap("开始登记");
    h.advance(2.5);
    for size in ["标准字号", "大字号", "特大字号"] {
        h.tap(size);
        // The bar as it is after "去修改" on the review.
        h.ui.global::<Nav>().set_show_back_to_review(true);
        i_slint_backend_testing::mock_elapsed_time(StdDuration::from_millis(0));
        let button = h.find("改好了，返回核对");
        assert_eq!(button.len(), 1);
        let width = button[0].size().width;
        // 8 glyphs of the button's text size (body × 1.1) and its padding.
        let scale = [1.0, 1.25, 1.5][["标准字号", "大字号", "特大字号"]
            .iter()
            .position(|s| *s == size)
            .unwrap()];
        let needed = 8.0 * 30.0 * scale * 1.1 + 32.0;
        assert!(width >= needed, "{size}: {width} < {needed}");
    }
    h.tap("大字号");
    h.ui.global::<Nav>().set_show_back_to_review(true);
    h.screenshot("03g-back-to-review-button-large");
}

/// The staff queue at 大: the time, the record and the county's reasons
/// each have room (the time was cut to "18:3" and the reasons squeezed
/// into a narrow column).
#[test]
fn the_staff_queue_has_room_at_large_text() {
    let h = harness();
    let returned = kiosk_core::session::ReturnedRecord {
        record_id: uuid::Uuid::from_u128(0x5e7),
        record_number: "K7Q2-M9XD-3F8A".into(),
        reasons_zh: vec!["退伍证照片看不清本人信息页，请重新拍摄".into()],
    };
    let card = stand_in::sample_card().unwrap();
    h.sim
        .borrow_mut()
        .returned
        .push((card.text.id_number.as_str().to_string(), returned));
    h.tap("大字号");
    h.tap("工作人员入口");
    h.enter_pin(PIN);
    h.tap("上传队列");
    let queue = h.ui.global::<StaffView>().get_queue();
    let row = queue.iter().find(|r| r.returned).expect("a returned row");
    let at = h.find(&row.at);
    assert_eq!(at.len(), 1, "the time {:?} is on show", row.at);
    // The time's box is as wide as its text needs: 11 characters at about
    // 0.6 em each.
    assert!(at[0].size().width >= 11.0 * 0.6 * 30.0 * 1.25);
    h.screenshot("20d-staff-queue-returned-large");
}

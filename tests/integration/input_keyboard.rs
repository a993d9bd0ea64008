//! The keyboard widget (ui/widgets/keyboard.slint) driven headlessly through
//! its accessible labels, wired by `connect_keyboard!` to the real engines.
//! Screenshots of each layout go to target/tmp/keyboard-*.png
//! (software renderer).

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;

use i_slint_backend_testing::{ElementHandle, TestingBackend, TestingBackendOptions};
use slint::platform::{PointerEventButton, WindowEvent};
use slint::{ComponentHandle, LogicalPosition};
use veteran_kiosk::input::{HandwritingConfig, KeyboardController, PinyinConfig};

mod harness {
    slint::slint! {
        import { Keyboard, KeyboardBridge, KeyboardMode, InputPurpose } from "../../ui/widgets/keyboard.slint";
        export { KeyboardBridge, KeyboardMode, InputPurpose }

        export component KeyboardHarness inherits Window {
            width: 1024px;
            height: 600px;
            in-out property <string> field;
            in property <InputPurpose> purpose;
            in property <bool> high-contrast;
            out property <int> done-count;
            background: #ffffff;
            VerticalLayout {
                Text {
                    height: 72px;
                    text: root.field;
                    font-size: 36px;
                    vertical-alignment: center;
                    accessible-label: "输入框";
                }
                kb := Keyboard {
                    text <=> root.field;
                    purpose: root.purpose;
                    high-contrast: root.high-contrast;
                    done => {
                        root.done-count += 1;
                    }
                }
            }
        }
    }
}

use harness::{InputPurpose, KeyboardBridge, KeyboardHarness};

fn init() {
    // One backend per test thread; the software renderer makes snapshots work.
    let _ = slint::platform::set_platform(Box::new(TestingBackend::new(TestingBackendOptions {
        mock_time: true,
        threading: false,
        renderer_name: Some("software".into()),
    })));
}

fn start(controller: KeyboardController) -> (KeyboardHarness, Rc<RefCell<KeyboardController>>) {
    init();
    let ui = KeyboardHarness::new().unwrap();
    let controller = Rc::new(RefCell::new(controller));
    veteran_kiosk::connect_keyboard!(ui, harness, controller);
    ui.show().unwrap();
    (ui, controller)
}

fn real_controller() -> KeyboardController {
    // The kiosk window's configuration: librime starts once per process.
    let pinyin = PinyinConfig::default();
    let (controller, errors) = KeyboardController::start(&pinyin, &HandwritingConfig::default());
    assert!(errors.is_empty(), "{errors:?}");
    controller
}

fn key(ui: &KeyboardHarness, label: &str) -> ElementHandle {
    let found: Vec<_> = ElementHandle::find_by_accessible_label(ui, label).collect();
    assert_eq!(found.len(), 1, "exactly one element labelled {label:?}");
    found.into_iter().next().unwrap()
}

fn tap(ui: &KeyboardHarness, label: &str) {
    key(ui, label).invoke_accessible_default_action();
}

fn type_keys(ui: &KeyboardHarness, letters: &str) {
    for c in letters.chars() {
        tap(ui, &c.to_string());
    }
}

fn labels_starting(ui: &KeyboardHarness, prefix: &str) -> Vec<String> {
    ElementHandle::query_descendants(
        &ElementHandle::find_by_element_id(ui, "KeyboardHarness::kb")
            .next()
            .unwrap(),
    )
    .find_all()
    .into_iter()
    .filter_map(|e| e.accessible_label())
    .map(|l| l.to_string())
    .filter(|l| l.starts_with(prefix))
    .collect()
}

fn screenshot(ui: &KeyboardHarness, name: &str) {
    let snapshot = ui.window().take_snapshot().unwrap();
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("keyboard-{name}.png"));
    let file = std::fs::File::create(&path).unwrap();
    let mut encoder = png::Encoder::new(
        std::io::BufWriter::new(file),
        snapshot.width(),
        snapshot.height(),
    );
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    encoder
        .write_header()
        .unwrap()
        .write_image_data(snapshot.as_bytes())
        .unwrap();
}

/// Draws a stroke on the handwriting pad with real pointer events; points are
/// fractions of the pad.
fn draw(ui: &KeyboardHarness, points: &[(f32, f32)]) {
    let pad = key(ui, "手写板");
    let (origin, size) = (pad.absolute_position(), pad.size());
    let at = |(x, y): (f32, f32)| {
        LogicalPosition::new(origin.x + x * size.width, origin.y + y * size.height)
    };
    let window = ui.window();
    let (first, rest) = points.split_first().unwrap();
    window.dispatch_event(WindowEvent::PointerPressed {
        position: at(*first),
        button: PointerEventButton::Left,
    });
    for p in rest {
        window.dispatch_event(WindowEvent::PointerMoved { position: at(*p) });
    }
    let last = points.last().unwrap();
    window.dispatch_event(WindowEvent::PointerReleased {
        position: at(*last),
        button: PointerEventButton::Left,
    });
}

fn line(a: (f32, f32), b: (f32, f32)) -> Vec<(f32, f32)> {
    (0..=20)
        .map(|i| {
            let t = i as f32 / 20.0;
            (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t)
        })
        .collect()
}

#[test]
fn pinyin_typing_through_the_widget() {
    let (ui, _controller) = start(real_controller());
    type_keys(&ui, "tuiyi");
    assert_eq!(
        ui.global::<KeyboardBridge>().get_preedit().replace(' ', ""),
        "tuiyi"
    );
    assert!(labels_starting(&ui, "候选 ").contains(&"候选 退役".to_string()));
    screenshot(&ui, "pinyin");
    tap(&ui, "候选 退役");
    assert_eq!(ui.get_field(), "退役");
    assert!(labels_starting(&ui, "候选 ").is_empty());

    // 空格 takes the first candidate; 完成 with something composed converts it.
    type_keys(&ui, "junren");
    tap(&ui, "空格");
    assert_eq!(ui.get_field(), "退役军人");
    type_keys(&ui, "fuxu");
    tap(&ui, "完成");
    assert_eq!(ui.get_field(), "退役军人抚恤");
    assert_eq!(ui.get_done_count(), 0);
    // 完成 with nothing composed finishes the field.
    tap(&ui, "完成");
    assert_eq!(ui.get_done_count(), 1);
    tap(&ui, "删除");
    tap(&ui, "删除");
    assert_eq!(ui.get_field(), "退役军人");

    // Paging through candidates.
    type_keys(&ui, "shi");
    let first_page = labels_starting(&ui, "候选 ");
    assert!(!key(&ui, "上一页候选").accessible_enabled().unwrap());
    tap(&ui, "下一页候选");
    let second_page = labels_starting(&ui, "候选 ");
    assert_ne!(first_page, second_page);
    assert!(key(&ui, "上一页候选").accessible_enabled().unwrap());
    tap(&ui, "上一页候选");
    assert_eq!(labels_starting(&ui, "候选 "), first_page);
}

#[test]
fn handwriting_through_the_widget() {
    let (ui, _controller) = start(real_controller());
    ui.set_field("退役".into());
    tap(&ui, "手写输入");
    assert_eq!(
        ui.global::<KeyboardBridge>().get_mode(),
        harness::KeyboardMode::Handwriting
    );
    draw(&ui, &line((0.15, 0.45), (0.85, 0.45)));
    draw(&ui, &line((0.5, 0.1), (0.5, 0.9)));
    let candidates = labels_starting(&ui, "候选 ");
    assert!(
        candidates.iter().take(3).any(|c| c == "候选 十"),
        "{candidates:?}"
    );
    assert!(ui
        .global::<KeyboardBridge>()
        .get_ink_path()
        .starts_with('M'));
    screenshot(&ui, "handwriting");
    tap(&ui, "候选 十");
    assert_eq!(ui.get_field(), "退役十");
    assert_eq!(ui.global::<KeyboardBridge>().get_ink_path(), "");

    // 删除 takes back a stroke while writing, then deletes characters.
    draw(&ui, &line((0.15, 0.5), (0.85, 0.5)));
    tap(&ui, "删除");
    assert_eq!(ui.get_field(), "退役十");
    assert!(labels_starting(&ui, "候选 ").is_empty());
    tap(&ui, "删除");
    assert_eq!(ui.get_field(), "退役");
    // 重写 clears the pad.
    draw(&ui, &line((0.15, 0.5), (0.85, 0.5)));
    tap(&ui, "重写这个字");
    assert_eq!(ui.global::<KeyboardBridge>().get_ink_path(), "");
    assert_eq!(ui.get_field(), "退役");
}

#[test]
fn digit_pad_for_id_numbers() {
    let (ui, _controller) = start(real_controller());
    ui.set_purpose(InputPurpose::IdNumber);
    // No Chinese, no letters: only the digit pad.
    assert!(labels_starting(&ui, "拼音输入").is_empty());
    assert!(labels_starting(&ui, "q").is_empty());
    for digit in "35052419500312345".chars() {
        tap(&ui, &digit.to_string());
    }
    tap(&ui, "X");
    assert_eq!(ui.get_field(), "35052419500312345X");
    tap(&ui, "1");
    assert_eq!(ui.get_field(), "35052419500312345X");
    assert_eq!(
        ui.global::<KeyboardBridge>().get_status(),
        "最多只能输入18个字"
    );
    screenshot(&ui, "id-number");
    tap(&ui, "完成");
    assert_eq!(ui.get_done_count(), 1);

    ui.set_field("".into());
    ui.set_purpose(InputPurpose::Amount);
    for label in ["1", "2", "小数点", "5"] {
        tap(&ui, label);
    }
    assert_eq!(ui.get_field(), "12.5");
    ui.set_field("".into());
    ui.set_purpose(InputPurpose::Phone);
    for label in ["0", "5", "9", "5", "短横线", "1"] {
        tap(&ui, label);
    }
    assert_eq!(ui.get_field(), "0595-1");
}

#[test]
fn without_chinese_engines_the_keyboard_still_types() {
    let missing = |library| veteran_kiosk::input::InputError::LibraryMissing {
        library,
        detail: "not installed".into(),
    };
    let (ui, _controller) = start(KeyboardController::new(
        Err(missing("librime")),
        Err(missing("zinnia")),
    ));
    ui.set_high_contrast(true);
    assert_eq!(
        ui.global::<KeyboardBridge>().get_mode(),
        harness::KeyboardMode::Letters
    );
    tap(&ui, "改为大写字母");
    type_keys(&ui, "LI");
    tap(&ui, "数字输入");
    tap(&ui, "3");
    assert_eq!(ui.get_field(), "LI3");
    tap(&ui, "拼音输入");
    assert!(ui
        .global::<KeyboardBridge>()
        .get_status()
        .contains("暂时不能使用"));
    screenshot(&ui, "fallback-high-contrast");
}

#[test]
fn every_key_is_large_and_labelled() {
    let (ui, _controller) = start(real_controller());
    let mut checked = 0;
    for purpose in [InputPurpose::Text, InputPurpose::IdNumber] {
        ui.set_purpose(purpose);
        for mode in ["拼音输入", "手写输入", "字母输入", "数字输入"] {
            if purpose == InputPurpose::Text {
                tap(&ui, mode);
                if mode == "拼音输入" {
                    // With candidates and paging keys on show.
                    type_keys(&ui, "shi");
                }
            }
            let keyboard = ElementHandle::find_by_element_id(&ui, "KeyboardHarness::kb")
                .next()
                .unwrap();
            for button in keyboard
                .query_descendants()
                .match_accessible_role(i_slint_backend_testing::AccessibleRole::Button)
                .find_all()
            {
                let label = button.accessible_label().unwrap_or_default();
                assert!(!label.is_empty(), "a key without a label");
                let size = button.size();
                assert!(
                    size.width >= 64.0 && size.height >= 64.0,
                    "{label}: {size:?} too small"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 100, "only {checked} keys checked");
}

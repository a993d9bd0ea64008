//! The on-screen keyboard in the kiosk window.
//!
//! The kiosk has no physical keyboard. Tapping a text field opens the
//! keyboard (`ui/widgets/keyboard.slint`) at the bottom of the window, with
//! the keys the field's purpose calls for (`KeyboardHost` in
//! `ui/widgets/keyboard_host.slint`). The field hands every change of its
//! text to its view's existing `edited` callback, so the session receives
//! the same events as before and stays the truth; this module only starts
//! the engines, wires them to the widget, puts the keyboard away when the
//! page changes, and makes it forget the person when the session ends.

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;

use slint::ComponentHandle;

use crate::input::{HandwritingConfig, InputError, KeyboardController, PinyinConfig};
use kiosk_core::session::View;

use super::{AppWindow, KeyboardBridge, KeyboardHost};

/// Where the engines find their libraries and data.
#[derive(Debug, Clone, Default)]
pub struct KeyboardSettings {
    pub pinyin: PinyinConfig,
    pub handwriting: HandwritingConfig,
}

impl KeyboardSettings {
    /// The defaults; under systemd the compiled pinyin data is kept in
    /// `$STATE_DIRECTORY/rime`, so only the first start compiles it.
    pub fn from_env() -> KeyboardSettings {
        let pinyin = match std::env::var_os("STATE_DIRECTORY") {
            // systemd may list several directories, separated by ':'.
            Some(dirs) => match std::env::split_paths(&dirs).next() {
                Some(dir) if !dir.as_os_str().is_empty() => PinyinConfig::in_state_dir(&dir),
                _ => PinyinConfig::default(),
            },
            None => PinyinConfig::default(),
        };
        KeyboardSettings {
            pinyin,
            handwriting: HandwritingConfig::default(),
        }
    }

    /// Settings whose compiled pinyin data goes under `dir`.
    pub fn with_state_dir(dir: impl Into<PathBuf>) -> KeyboardSettings {
        KeyboardSettings {
            pinyin: PinyinConfig::in_state_dir(&dir.into()),
            handwriting: HandwritingConfig::default(),
        }
    }
}

/// Opens the engines and wires one [`KeyboardController`] to the window.
/// An engine that cannot start is returned (for the log); the keyboard then
/// offers the modes that work.
pub fn connect(ui: &AppWindow, settings: &KeyboardSettings) -> Vec<InputError> {
    let (controller, problems) = KeyboardController::start(&settings.pinyin, &settings.handwriting);
    connect_controller(ui, controller);
    problems
}

/// Wires `controller` to the window (tests hand in scripted engines).
pub fn connect_controller(ui: &AppWindow, controller: KeyboardController) {
    let keyboard = Rc::new(RefCell::new(controller));
    crate::connect_keyboard!(ui, crate::ui, keyboard);
    let weak = ui.as_weak();
    ui.global::<KeyboardHost>().on_forget(move || {
        keyboard.borrow_mut().forget();
        // Shows the emptied candidate bar and pad.
        if let Some(ui) = weak.upgrade() {
            ui.global::<KeyboardBridge>().invoke_field_left();
        }
    });
}

/// Put the keyboard away and drop everything it holds of this person: the
/// text, the composition, the engines' memory. Call on every session wipe.
pub fn forget_keyboard(ui: &AppWindow) {
    let host = ui.global::<KeyboardHost>();
    host.set_open(false);
    host.set_field("".into());
    host.set_text("".into());
    host.invoke_forget();
}

/// A different page (or the staff overlay opening over it) puts the
/// keyboard away. (The kiosk calls [`forget_keyboard`] when a session ends.)
pub fn show(ui: &AppWindow, view: &View) {
    let host = ui.global::<KeyboardHost>();
    let page = page_key(view);
    if host.get_page() == page.as_str() {
        return;
    }
    host.set_page(page.into());
    if host.get_open() {
        host.invoke_close();
    }
}

/// Names the page on screen: the step (with the category's index) and
/// whether the staff overlay covers it.
fn page_key(view: &View) -> String {
    format!("{:?}/{}", view.step, view.staff.is_some())
}

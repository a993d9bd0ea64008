//! The thank-you screen.

use kiosk_core::session::View;

use super::{AppWindow, DoneView};
use slint::ComponentHandle;

pub fn show(ui: &AppWindow, view: &View) {
    let name = view
        .record
        .map(|r| r.identity.name.clone())
        .unwrap_or_default();
    ui.global::<DoneView>().set_name(name.into());
}

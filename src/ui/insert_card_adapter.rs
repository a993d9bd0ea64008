//! "请将身份证放在读卡区": the picture is static; trouble shows as the notice.

use kiosk_core::session::{Step, View};

use super::{AppWindow, InsertCardView};
use slint::ComponentHandle;

pub fn show(ui: &AppWindow, view: &View) {
    ui.global::<InsertCardView>()
        .set_reading(view.step == Step::InsertCard);
}

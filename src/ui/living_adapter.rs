//! Living conditions, drawn from `core::forms`.

use kiosk_core::forms;
use kiosk_core::session::{Step, View};

use super::{connect_form_callbacks, form_rows, update_form, AppWindow, Dispatch, LivingView};
use slint::ComponentHandle;

pub fn connect(ui: &AppWindow, dispatch: &Dispatch) {
    connect_form_callbacks!(&ui.global::<LivingView>(), dispatch);
}

pub fn show(ui: &AppWindow, view: &View) {
    if view.step != Step::Living {
        return;
    }
    let Some(record) = view.record else { return };
    let g = ui.global::<LivingView>();
    let rows = form_rows(
        &forms::living_fields(&record.living),
        &view.problems,
        "living",
    );
    if let Some(model) = update_form(g.get_fields(), rows) {
        g.set_fields(model);
    }
}

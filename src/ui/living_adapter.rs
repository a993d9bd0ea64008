//! Living conditions, drawn from `core::forms`.

use crate::core::forms::{self, FieldEdit};
use crate::core::session::{Event, Step, View};

use super::{form_rows, update_form, AppWindow, Dispatch, LivingView};
use slint::ComponentHandle;

pub fn connect(ui: &AppWindow, dispatch: &Dispatch) {
    let g = ui.global::<LivingView>();
    let d = dispatch.clone();
    g.on_choose(move |key, i| {
        d.send(Event::FieldEdited {
            key: key.to_string(),
            edit: FieldEdit::Choose(usize::try_from(i).unwrap_or(usize::MAX)),
        })
    });
    let d = dispatch.clone();
    g.on_toggle(move |key, i| {
        d.send(Event::FieldEdited {
            key: key.to_string(),
            edit: FieldEdit::Toggle(usize::try_from(i).unwrap_or(usize::MAX)),
        })
    });
    let d = dispatch.clone();
    g.on_text_edited(move |key, text| {
        d.send(Event::FieldEdited {
            key: key.to_string(),
            edit: FieldEdit::Text(text.to_string()),
        })
    });
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

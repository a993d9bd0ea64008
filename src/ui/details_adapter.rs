//! One details page per chosen category, drawn from `core::forms`.

use kiosk_core::forms::{self, FieldEdit};
use kiosk_core::session::{Step, View};

use super::{
    connect_form_callbacks, field_edited, form_rows, update_form, AppWindow, DetailsView, Dispatch,
};
use slint::ComponentHandle;

pub fn connect(ui: &AppWindow, dispatch: &Dispatch) {
    let g = ui.global::<DetailsView>();
    connect_form_callbacks!(&g, dispatch);
    let d = dispatch.clone();
    g.on_date_edited(move |key, year, month, day| {
        d.send(field_edited(
            &key,
            FieldEdit::Date {
                year: year.to_string(),
                month: month.to_string(),
                day: day.to_string(),
            },
        ))
    });
}

pub fn show(ui: &AppWindow, view: &View) {
    let Step::CategoryDetails(index) = view.step else {
        return;
    };
    let Some(details) = view.record.and_then(|r| r.categories.get(index)) else {
        return;
    };
    let g = ui.global::<DetailsView>();
    let count = view.record.map_or(0, |r| r.categories.len());
    g.set_category(details.category().full_name_zh().into());
    g.set_position(if count > 1 {
        format!("第 {} 类，共 {} 类。", index + 1, count).into()
    } else {
        "".into()
    });
    let rows = form_rows(
        &forms::details_fields(details),
        &view.problems,
        &format!("categories[{index}]"),
    );
    if let Some(model) = update_form(g.get_fields(), rows) {
        g.set_fields(model);
    }
}

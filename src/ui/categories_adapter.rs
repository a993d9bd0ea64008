//! The twelve categories: ruled-out ones are dimmed; a tap on one makes
//! the session say why (shown as the notice).

use kiosk_core::category::Category;
use kiosk_core::session::{Event, View};

use super::{update_rows, AppWindow, CategoriesView, CategoryOption, Dispatch};
use slint::{ComponentHandle, ModelRc, SharedString, VecModel};

pub fn connect(ui: &AppWindow, dispatch: &Dispatch) {
    let d = dispatch.clone();
    ui.global::<CategoriesView>().on_toggle(move |i| {
        if let Some(category) = usize::try_from(i).ok().and_then(|i| Category::ALL.get(i)) {
            d.send(Event::ToggleCategory(*category));
        }
    });
}

pub fn show(ui: &AppWindow, view: &View) {
    let g = ui.global::<CategoriesView>();
    let rows: Vec<CategoryOption> = view
        .category_options
        .iter()
        .map(|o| CategoryOption {
            label: o.category.name_zh().into(),
            number: i32::from(o.category.code()),
            selected: o.selected,
            dimmed: !o.enabled,
            reason: o.reason_zh.clone().unwrap_or_default().into(),
        })
        .collect();
    if let Some(model) = update_rows(g.get_options(), rows) {
        g.set_options(model);
    }
    let hints: Vec<SharedString> = view
        .pending_category_hints
        .iter()
        .map(|h| h.as_str().into())
        .collect();
    g.set_hints(ModelRc::new(VecModel::from(hints)));
}

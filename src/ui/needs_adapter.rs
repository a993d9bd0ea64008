//! Needs: voluntary, nothing chosen to begin with; free text is checked by
//! the classified-text guard through the record's problems.

use kiosk_core::record::NeedArea;
use kiosk_core::session::{Event, Step, View};

use super::{inline_problem, update_rows, AppWindow, Dispatch, NeedRow, NeedsView};
use slint::ComponentHandle;

/// The areas in the order the plan lists them (§二(四)), with their names.
pub const AREAS: [(NeedArea, &str); 9] = [
    (NeedArea::Employment, "就业创业"),
    (NeedArea::Living, "生活"),
    (NeedArea::Housing, "住房"),
    (NeedArea::Medical, "医疗"),
    (NeedArea::ElderlyCare, "养老"),
    (NeedArea::Education, "教育"),
    (NeedArea::Transport, "交通出行"),
    (NeedArea::Culture, "文化"),
    (NeedArea::Other, "其他"),
];

pub fn area_name(area: NeedArea) -> &'static str {
    AREAS
        .iter()
        .find(|(a, _)| *a == area)
        .map_or("其他", |(_, name)| name)
}

fn area_at(i: i32) -> Option<NeedArea> {
    usize::try_from(i)
        .ok()
        .and_then(|i| AREAS.get(i))
        .map(|(a, _)| *a)
}

pub fn connect(ui: &AppWindow, dispatch: &Dispatch) {
    let g = ui.global::<NeedsView>();
    let d = dispatch.clone();
    g.on_toggle(move |i| {
        if let Some(area) = area_at(i) {
            d.send(Event::NeedToggled(area));
        }
    });
    let d = dispatch.clone();
    g.on_text_edited(move |i, text| {
        if let Some(area) = area_at(i) {
            d.send(Event::NeedText {
                area,
                text: text.to_string(),
            });
        }
    });
}

pub fn show(ui: &AppWindow, view: &View) {
    if view.step != Step::Needs {
        return;
    }
    let Some(record) = view.record else { return };
    let rows: Vec<NeedRow> = AREAS
        .iter()
        .map(|(area, name)| {
            let at = record.needs.iter().position(|n| n.area == *area);
            NeedRow {
                area: (*name).into(),
                chosen: at.is_some(),
                text: at
                    .and_then(|i| record.needs.get(i))
                    .map(|n| n.text.as_str())
                    .unwrap_or("")
                    .into(),
                problem: at
                    .map(|i| inline_problem(&view.problems, &format!("needs[{i}].text")))
                    .unwrap_or_default(),
            }
        })
        .collect();
    let g = ui.global::<NeedsView>();
    if let Some(model) = update_rows(g.get_rows(), rows) {
        g.set_rows(model);
    }
}

//! The certificate checklist made from the chosen categories.

use kiosk_core::category::DocumentKind;
use kiosk_core::session::{Event, PhotoPurpose, Step, View};

use super::{AppWindow, Dispatch, DocumentRow, DocumentsView};
use slint::{ComponentHandle, ModelRc, SharedString, VecModel};

pub fn connect(ui: &AppWindow, dispatch: &Dispatch) {
    let d = dispatch.clone();
    ui.global::<DocumentsView>().on_take(move |code| {
        if let Some(kind) = usize::try_from(code)
            .ok()
            .and_then(|i| DocumentKind::ALL.get(i))
        {
            d.send(Event::TakePhoto(PhotoPurpose::Document {
                kind: *kind,
                page: 1,
            }));
        }
    });
}

pub fn show(ui: &AppWindow, view: &View) {
    if view.step != Step::Documents {
        return;
    }
    let rows: Vec<DocumentRow> = view
        .document_checklist
        .iter()
        .map(|item| {
            // Button text: the name without its explanation in brackets.
            let kinds: Vec<SharedString> = item
                .any_of
                .iter()
                .map(|k| k.name_zh().split('（').next().unwrap_or(k.name_zh()).into())
                .collect();
            let codes: Vec<i32> = item
                .any_of
                .iter()
                .filter_map(|k| DocumentKind::ALL.iter().position(|a| a == k))
                .filter_map(|i| i32::try_from(i).ok())
                .collect();
            DocumentRow {
                name: item.name_zh.as_str().into(),
                required: item.required,
                done: item.done,
                kinds: ModelRc::new(VecModel::from(kinds)),
                codes: ModelRc::new(VecModel::from(codes)),
            }
        })
        .collect();
    let g = ui.global::<DocumentsView>();
    // Rows hold models, so compare what they show before replacing.
    let same = {
        use slint::Model;
        let old = g.get_rows();
        old.row_count() == rows.len()
            && rows.iter().enumerate().all(|(i, r)| {
                old.row_data(i).is_some_and(|o| {
                    o.name == r.name
                        && o.done == r.done
                        && o.required == r.required
                        && o.codes.iter().eq(r.codes.iter())
                })
            })
    };
    if !same {
        g.set_rows(ModelRc::new(VecModel::from(rows)));
    }
}

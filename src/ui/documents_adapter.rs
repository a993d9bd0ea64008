//! The certificate checklist made from the chosen categories: pages taken
//! of each kind, and staff's mark on a certificate not shown.

use kiosk_core::category::DocumentKind;
use kiosk_core::record::{MissingReason, MAX_DOCUMENT_PAGES};
use kiosk_core::session::{ChecklistItem, Event, PhotoPurpose, Step, View};

use super::{AppWindow, Dispatch, DocumentRow, DocumentsView};
use slint::{ComponentHandle, ModelRc, SharedString, VecModel};

fn kind_at(code: i32) -> Option<DocumentKind> {
    usize::try_from(code)
        .ok()
        .and_then(|i| DocumentKind::ALL.get(i))
        .copied()
}

pub fn connect(ui: &AppWindow, dispatch: &Dispatch) {
    let g = ui.global::<DocumentsView>();
    g.set_max_pages(i32::from(MAX_DOCUMENT_PAGES));
    let d = dispatch.clone();
    g.on_take(move |code, page| {
        if let (Some(kind), Ok(page)) = (kind_at(code), u8::try_from(page)) {
            d.send(Event::TakePhoto(PhotoPurpose::Document { kind, page }));
        }
    });
    let d = dispatch.clone();
    g.on_mark(move |code, reason, note| {
        let reason = usize::try_from(reason)
            .ok()
            .and_then(|i| MissingReason::ALL.get(i));
        if let (Some(kind), Some(reason)) = (kind_at(code), reason) {
            d.send(Event::MarkDocumentMissing {
                kind,
                reason: *reason,
                note: note.to_string(),
            });
        }
    });
    let d = dispatch.clone();
    g.on_unmark(move |code| {
        if let Some(kind) = kind_at(code) {
            d.send(Event::UnmarkDocument(kind));
        }
    });
}

/// "遗失：1985年搬家时遗失", or the reason alone.
fn mark_text(item: &ChecklistItem) -> String {
    match &item.marked {
        None => String::new(),
        Some(mark) if mark.note.trim().is_empty() => {
            format!("{}（{}）", mark.reason.name_zh(), mark.kind.name_zh())
        }
        Some(mark) => format!(
            "{}（{}）：{}",
            mark.reason.name_zh(),
            mark.kind.name_zh(),
            mark.note.trim()
        ),
    }
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
            let pages: Vec<i32> = item.pages.iter().map(|p| i32::from(*p)).collect();
            DocumentRow {
                name: item.name_zh.as_str().into(),
                required: item.required,
                done: item.done,
                kinds: ModelRc::new(VecModel::from(kinds)),
                codes: ModelRc::new(VecModel::from(codes)),
                pages: ModelRc::new(VecModel::from(pages)),
                marked: mark_text(item).into(),
                markable: item.required && !item.done && item.marked.is_none(),
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
                        && o.marked == r.marked
                        && o.markable == r.markable
                        && o.codes.iter().eq(r.codes.iter())
                        && o.pages.iter().eq(r.pages.iter())
                })
            })
    };
    if !same {
        g.set_rows(ModelRc::new(VecModel::from(rows)));
    }
}

//! The Slint side of the kiosk, kept thin.
//!
//! Architecture invariant: the UI never holds the truth. Each
//! `*_adapter.rs` does two things only: `connect` turns a view's callbacks
//! into session [`Event`]s, and `show` maps the session's [`View`] into the
//! view's Slint global. Everything that decides lives in
//! [`kiosk_core::session`].

/// The types Slint generates from `ui/`. Its generated code unwraps
/// internally, which our `unwrap_used` lint must not reject.
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod generated {
    slint::include_modules!();
}
pub use generated::*;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::{Rc, Weak};

use slint::{Model, ModelRc, SharedString, VecModel};

use kiosk_core::forms::{Field, FieldEdit, FieldKind};
use kiosk_core::session::PageProblem;
use kiosk_core::session::{Event, View};

pub mod attract_adapter;
pub mod categories_adapter;
pub mod details_adapter;
pub mod documents_adapter;
pub mod done_adapter;
pub mod help_adapter;
pub mod identity_adapter;
pub mod insert_card_adapter;
pub mod keyboard;
pub mod language;
pub mod living_adapter;
pub mod manual_identity_adapter;
pub mod nav_adapter;
pub mod needs_adapter;
pub mod portrait_adapter;
pub mod review_adapter;
pub mod sign_adapter;
pub mod staff_adapter;

pub use keyboard::forget_keyboard;
pub use language::select_language;

/// Whatever handles an event from the UI (the kiosk loop).
pub trait EventSink {
    fn handle_event(&mut self, event: Event);
}

/// Hands UI events to the kiosk. Events raised while the kiosk is busy
/// (a callback fired during a render) are queued, never lost or re-entered.
#[derive(Clone)]
pub struct Dispatch {
    sink: Weak<RefCell<dyn EventSink>>,
    queue: Rc<RefCell<VecDeque<Event>>>,
}

impl Dispatch {
    pub fn new(sink: Weak<RefCell<dyn EventSink>>) -> Dispatch {
        Dispatch {
            sink,
            queue: Rc::default(),
        }
    }

    pub fn send(&self, event: Event) {
        self.queue.borrow_mut().push_back(event);
        let Some(sink) = self.sink.upgrade() else {
            return;
        };
        let Ok(mut sink) = sink.try_borrow_mut() else {
            // Busy: the running handler drains the queue when it is done.
            return;
        };
        loop {
            let next = self.queue.borrow_mut().pop_front();
            match next {
                Some(event) => sink.handle_event(event),
                None => break,
            }
        }
    }

    /// Events that arrived while the kiosk was busy.
    pub fn take_queued(&self) -> Vec<Event> {
        self.queue.borrow_mut().drain(..).collect()
    }
}

/// Draw the whole UI from the session's view; `help` are the county's help
/// texts (from configuration).
pub fn show(
    ui: &AppWindow,
    view: &View,
    camera: Option<&crate::devices::camera::CameraView>,
    help: &crate::config::HelpTexts,
) {
    nav_adapter::show(ui, view);
    help_adapter::show(ui, view, help);
    attract_adapter::show(ui, view);
    insert_card_adapter::show(ui, view);
    manual_identity_adapter::show(ui, view);
    identity_adapter::show(ui, view);
    portrait_adapter::show(ui, view, camera);
    categories_adapter::show(ui, view);
    details_adapter::show(ui, view);
    documents_adapter::show(ui, view);
    living_adapter::show(ui, view);
    needs_adapter::show(ui, view);
    review_adapter::show(ui, view);
    sign_adapter::show(ui, view);
    done_adapter::show(ui, view);
    staff_adapter::show(ui, view);
    keyboard::show(ui, view);
}

/// Connect every view's callbacks to `dispatch`, and the on-screen
/// keyboard to its engines (opened here, once; see [`keyboard`]).
pub fn connect(ui: &AppWindow, dispatch: &Dispatch) {
    connect_views(ui, dispatch);
    for problem in keyboard::connect(ui, &keyboard::KeyboardSettings::from_env()) {
        // The keyboard offers the modes that work; staff read why in the log.
        eprintln!("on-screen keyboard: {problem} ({})", problem.code());
    }
}

/// Connect every view's callbacks to `dispatch`, without the keyboard.
pub fn connect_views(ui: &AppWindow, dispatch: &Dispatch) {
    nav_adapter::connect(ui, dispatch);
    help_adapter::connect(ui, dispatch);
    attract_adapter::connect(ui, dispatch);
    manual_identity_adapter::connect(ui, dispatch);
    identity_adapter::connect(ui, dispatch);
    portrait_adapter::connect(ui, dispatch);
    categories_adapter::connect(ui, dispatch);
    details_adapter::connect(ui, dispatch);
    documents_adapter::connect(ui, dispatch);
    living_adapter::connect(ui, dispatch);
    needs_adapter::connect(ui, dispatch);
    review_adapter::connect(ui, dispatch);
    sign_adapter::connect(ui, dispatch);
    staff_adapter::connect(ui, dispatch);
}

/// Replace a model's rows with `rows`, touching only rows that changed, so
/// that text a person is typing into a row is never reset underneath them.
pub(crate) fn update_rows<T: Clone + PartialEq + 'static>(
    current: ModelRc<T>,
    rows: Vec<T>,
) -> Option<ModelRc<T>> {
    match current.as_any().downcast_ref::<VecModel<T>>() {
        Some(model) if model.row_count() == rows.len() => {
            for (i, row) in rows.into_iter().enumerate() {
                if model.row_data(i).as_ref() != Some(&row) {
                    model.set_row_data(i, row);
                }
            }
            None
        }
        _ => Some(ModelRc::new(VecModel::from(rows))),
    }
}

/// Shown next to a field: only what the person did wrong, not the
/// "please fill in" reminders, which wait for the review.
pub(crate) fn inline_problem(problems: &[PageProblem], field: &str) -> SharedString {
    problems
        .iter()
        .map(|p| &p.problem)
        .filter(|p| p.field.as_deref() == Some(field) && p.code != "missing")
        .map(|p| p.message.as_str())
        .collect::<Vec<_>>()
        .join("；")
        .into()
}

/// A form page's edit of field `key` as the session's event.
pub(crate) fn field_edited(key: &str, edit: FieldEdit) -> Event {
    Event::FieldEdited {
        key: key.to_string(),
        edit,
    }
}

/// An option index from the UI; a negative one matches no option.
pub(crate) fn option_index(i: i32) -> usize {
    usize::try_from(i).unwrap_or(usize::MAX)
}

/// Connects the `choose`, `toggle` and `text-edited` callbacks that every
/// form page's global declares for its `FormList` (ui/widgets/form.slint)
/// to `FieldEdited` events. A macro because each page's global is its own
/// generated type, with no trait in common.
macro_rules! connect_form_callbacks {
    ($global:expr, $dispatch:expr) => {{
        let global = $global;
        let dispatch: &$crate::ui::Dispatch = $dispatch;
        let d = dispatch.clone();
        global.on_choose(move |key, i| {
            d.send($crate::ui::field_edited(
                &key,
                ::kiosk_core::forms::FieldEdit::Choose($crate::ui::option_index(i)),
            ))
        });
        let d = dispatch.clone();
        global.on_toggle(move |key, i| {
            d.send($crate::ui::field_edited(
                &key,
                ::kiosk_core::forms::FieldEdit::Toggle($crate::ui::option_index(i)),
            ))
        });
        let d = dispatch.clone();
        global.on_text_edited(move |key, text| {
            d.send($crate::ui::field_edited(
                &key,
                ::kiosk_core::forms::FieldEdit::Text(text.to_string()),
            ))
        });
    }};
}
pub(crate) use connect_form_callbacks;

/// Map form fields (see `core::forms`) to the UI's rows. `prefix` is the
/// problem path of the page, e.g. `categories[0]` or `living`.
pub(crate) fn form_rows(
    fields: &[Field],
    problems: &[PageProblem],
    prefix: &str,
) -> Vec<FormField> {
    fields
        .iter()
        .map(|field| {
            let problem = inline_problem(problems, &format!("{prefix}.{}", field.key));
            let mut row = FormField {
                key: field.key.into(),
                label: field.label_zh.into(),
                problem,
                ..Default::default()
            };
            match &field.kind {
                FieldKind::Choice { options, selected } => {
                    row.kind = "choice".into();
                    row.options = choices(options, |i| *selected == Some(i));
                }
                FieldKind::Multi {
                    options, selected, ..
                } => {
                    row.kind = "multi".into();
                    row.options = choices(options, |i| selected.get(i).copied().unwrap_or(false));
                }
                FieldKind::Text { value } => {
                    row.kind = "text".into();
                    row.text = value.as_str().into();
                }
                FieldKind::Number { value } => {
                    row.kind = "number".into();
                    row.text = value.map(|v| v.to_string()).unwrap_or_default().into();
                }
                FieldKind::Date { value } => {
                    row.kind = "date".into();
                    // Only the parts remembered; the others stay empty.
                    if let Some(d) = value {
                        row.year = d.year().to_string().into();
                        row.month = d.month().map(|m| m.to_string()).unwrap_or_default().into();
                        row.day = d.day().map(|d| d.to_string()).unwrap_or_default().into();
                    }
                }
            }
            row
        })
        .collect()
}

fn choices(options: &[&str], selected: impl Fn(usize) -> bool) -> ModelRc<ChoiceItem> {
    let items: Vec<ChoiceItem> = options
        .iter()
        .enumerate()
        .map(|(i, label)| ChoiceItem {
            label: (*label).into(),
            selected: selected(i),
        })
        .collect();
    ModelRc::new(VecModel::from(items))
}

/// A form row compared by what it shows (models by content, not identity).
pub(crate) fn same_form_row(a: &FormField, b: &FormField) -> bool {
    a.key == b.key
        && a.label == b.label
        && a.kind == b.kind
        && a.text == b.text
        && a.year == b.year
        && a.month == b.month
        && a.day == b.day
        && a.problem == b.problem
        && a.options.iter().eq(b.options.iter())
}

/// Like [`update_rows`] for form rows, whose option lists are models.
pub(crate) fn update_form(
    current: ModelRc<FormField>,
    rows: Vec<FormField>,
) -> Option<ModelRc<FormField>> {
    match current.as_any().downcast_ref::<VecModel<FormField>>() {
        Some(model)
            if model.row_count() == rows.len()
                && rows
                    .iter()
                    .enumerate()
                    .all(|(i, r)| model.row_data(i).is_some_and(|old| old.key == r.key)) =>
        {
            for (i, row) in rows.into_iter().enumerate() {
                if !model
                    .row_data(i)
                    .is_some_and(|old| same_form_row(&old, &row))
                {
                    model.set_row_data(i, row);
                }
            }
            None
        }
        _ => Some(ModelRc::new(VecModel::from(rows))),
    }
}

/// Times are shown in China Standard Time.
pub(crate) fn local_time(at: chrono::DateTime<chrono::Utc>, format: &str) -> String {
    kiosk_core::time::in_china(at).format(format).to_string()
}

//! The Rust side of the on-screen keyboard (`ui/widgets/keyboard.slint`).
//!
//! [`KeyboardController`] holds one engine per mode and turns the widget's
//! events (a key, a candidate tap, pen movement, a mode or page change) into
//! the new text of the field being edited and a [`KeyboardView`] for the
//! widget to show. It knows nothing of Slint, so it is tested directly;
//! [`connect_keyboard!`](crate::connect_keyboard) wires it to the widget's
//! `KeyboardBridge` global in whichever Slint build includes the widget.
//!
//! The field's text stays with the view that owns the field: the widget sends
//! it along with each key and receives the edited text back. That keeps one
//! owner for every value and lets the field's purpose (ID number, phone,
//! amount) decide what it accepts.

use super::direct::DirectEngine;
use super::edit::{self, Purpose};
use super::{
    HandwritingConfig, HandwritingEngine, Input, InputEngine, InputError, Key, Outcome,
    PinyinConfig, PinyinEngine, Point, Stroke,
};

/// The keyboard's layouts. Fields whose purpose is not free text always show
/// the digit pad, whatever the mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyboardMode {
    /// QWERTY into librime, with a candidate bar.
    #[default]
    Pinyin,
    /// A drawing pad into zinnia, with a candidate bar.
    Handwriting,
    /// QWERTY typing plain letters.
    Letters,
    /// The large digit pad.
    Digits,
}

/// What the widget shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct KeyboardView {
    pub mode: KeyboardMode,
    /// Something is being composed: Enter converts it rather than finishing
    /// the field.
    pub composing: bool,
    pub preedit: String,
    /// The candidates on the current page.
    pub candidates: Vec<String>,
    pub has_previous_page: bool,
    pub has_next_page: bool,
    /// The strokes on the pad (including the one being drawn) as SVG path
    /// commands in a 1000 × 1000 view box.
    pub ink_path: String,
    /// A short explanation for the person (why a key did nothing, which mode
    /// is unavailable), or empty.
    pub status: String,
    pub pinyin_available: bool,
    pub handwriting_available: bool,
}

enum Slot {
    Ready(Box<dyn InputEngine>),
    Unavailable(InputError),
}

impl Slot {
    fn new(engine: Result<Box<dyn InputEngine>, InputError>) -> Slot {
        match engine {
            Ok(engine) => Slot::Ready(engine),
            Err(err) => Slot::Unavailable(err),
        }
    }

    fn engine(&mut self) -> Option<&mut dyn InputEngine> {
        match self {
            Slot::Ready(engine) => Some(engine.as_mut()),
            Slot::Unavailable(_) => None,
        }
    }
}

/// The keyboard's state and engines. See the module docs.
pub struct KeyboardController {
    pinyin: Slot,
    handwriting: Slot,
    direct: DirectEngine,
    mode: KeyboardMode,
    /// The purpose of the field last edited; decides which engine is active.
    purpose: Purpose,
    page: usize,
    page_size: usize,
    /// Points of the stroke being drawn.
    pen: Vec<Point>,
    status: String,
}

impl KeyboardController {
    /// Candidates shown at once unless changed with [`Self::set_page_size`].
    pub const DEFAULT_PAGE_SIZE: usize = 6;

    /// A keyboard over the given engines; either may be the error that kept
    /// it from starting, and the keyboard then offers the other modes.
    pub fn new(
        pinyin: Result<Box<dyn InputEngine>, InputError>,
        handwriting: Result<Box<dyn InputEngine>, InputError>,
    ) -> KeyboardController {
        let pinyin = Slot::new(pinyin);
        let handwriting = Slot::new(handwriting);
        let mode = match (&pinyin, &handwriting) {
            (Slot::Ready(_), _) => KeyboardMode::Pinyin,
            (_, Slot::Ready(_)) => KeyboardMode::Handwriting,
            _ => KeyboardMode::Letters,
        };
        KeyboardController {
            pinyin,
            handwriting,
            direct: DirectEngine::new(),
            mode,
            purpose: Purpose::Text,
            page: 0,
            page_size: Self::DEFAULT_PAGE_SIZE,
            pen: Vec::new(),
            status: String::new(),
        }
    }

    /// Opens the real engines. One that cannot start is reported in the
    /// returned list (for the log and the staff device page) and left out.
    pub fn start(
        pinyin: &PinyinConfig,
        handwriting: &HandwritingConfig,
    ) -> (KeyboardController, Vec<InputError>) {
        let pinyin = PinyinEngine::open(pinyin).map(|e| Box::new(e) as Box<dyn InputEngine>);
        let handwriting =
            HandwritingEngine::open(handwriting).map(|e| Box::new(e) as Box<dyn InputEngine>);
        let errors = [&pinyin, &handwriting]
            .into_iter()
            .filter_map(|r| r.as_ref().err().cloned())
            .collect();
        (KeyboardController::new(pinyin, handwriting), errors)
    }

    pub fn set_page_size(&mut self, page_size: usize) {
        self.page_size = page_size.max(1);
        self.page = 0;
    }

    pub fn mode(&self) -> KeyboardMode {
        self.mode
    }

    /// Why pinyin or handwriting is unavailable, if it is.
    pub fn unavailable(&self) -> Vec<(KeyboardMode, &InputError)> {
        let mut out = Vec::new();
        if let Slot::Unavailable(err) = &self.pinyin {
            out.push((KeyboardMode::Pinyin, err));
        }
        if let Slot::Unavailable(err) = &self.handwriting {
            out.push((KeyboardMode::Handwriting, err));
        }
        out
    }

    /// Switches layout. Whatever was being composed is dropped. A mode whose
    /// engine could not start is refused with an explanation.
    pub fn set_mode(&mut self, mode: KeyboardMode) {
        let unavailable = match mode {
            KeyboardMode::Pinyin => self.unavailable_error(&KeyboardMode::Pinyin),
            KeyboardMode::Handwriting => self.unavailable_error(&KeyboardMode::Handwriting),
            KeyboardMode::Letters | KeyboardMode::Digits => None,
        };
        if let Some(message) = unavailable {
            self.status = message;
            return;
        }
        self.clear_composition();
        self.status.clear();
        self.mode = mode;
    }

    fn unavailable_error(&self, mode: &KeyboardMode) -> Option<String> {
        self.unavailable()
            .into_iter()
            .find(|(m, _)| m == mode)
            .map(|(_, err)| err.message_zh())
    }

    /// A key of the widget (see [`Key::parse`] for the names) pressed while
    /// editing `text`, a field for `purpose`. Returns the field's new text.
    pub fn press(&mut self, purpose: Purpose, text: &str, key_name: &str) -> String {
        self.enter_field(purpose);
        let Some(key) = Key::parse(key_name) else {
            return text.to_string();
        };
        self.status.clear();
        self.page = 0;
        let outcome = match self.active_engine().feed(Input::Key(key)) {
            Ok(outcome) => outcome,
            Err(err) => return self.engine_failed(err, text),
        };
        match outcome {
            Outcome::Commit(piece) => self.insert(text, &piece),
            Outcome::Composing => text.to_string(),
            Outcome::Unhandled => match key {
                Key::Backspace => edit::backspace(text),
                Key::Space => self.insert(text, " "),
                Key::Char(c) => self.insert(text, &c.to_string()),
                Key::Enter | Key::Escape => text.to_string(),
            },
        }
    }

    /// Candidate `index_on_page` of the bar tapped while editing `text`.
    pub fn choose(&mut self, purpose: Purpose, text: &str, index_on_page: usize) -> String {
        self.enter_field(purpose);
        self.status.clear();
        let index = self.page * self.page_size + index_on_page;
        let outcome = self.active_engine().select(index);
        self.page = 0;
        match outcome {
            Ok(Outcome::Commit(piece)) => self.insert(text, &piece),
            Ok(Outcome::Composing | Outcome::Unhandled) => text.to_string(),
            Err(err) => self.engine_failed(err, text),
        }
    }

    /// Moves the candidate bar by whole pages (`-1` back, `1` on).
    pub fn turn_page(&mut self, delta: i32) {
        let pages = self.page_count();
        let page = self.page as i64 + i64::from(delta);
        self.page = page.clamp(0, pages.saturating_sub(1) as i64) as usize;
    }

    /// The finger touches the pad at (x, y), each 0..=1 of the pad's size.
    pub fn pen_down(&mut self, x: f32, y: f32) {
        self.pen.clear();
        self.pen_move(x, y);
    }

    pub fn pen_move(&mut self, x: f32, y: f32) {
        if self.pen.len() < Stroke::MAX_POINTS {
            self.pen.extend(Point::new(x, y));
        }
    }

    /// The finger leaves the pad: the stroke goes to the handwriting engine,
    /// which offers new candidates.
    pub fn pen_up(&mut self) {
        let points = std::mem::take(&mut self.pen);
        let Some(stroke) = Stroke::new(points) else {
            return;
        };
        if self.mode != KeyboardMode::Handwriting || !self.purpose.takes_chinese() {
            return;
        }
        self.status.clear();
        self.page = 0;
        if let Some(engine) = self.handwriting.engine() {
            if let Err(err) = engine.feed(Input::Stroke(stroke)) {
                engine.reset();
                self.status = err.message_zh();
            }
        }
    }

    /// The person left the field: drop the composition and any message.
    pub fn reset(&mut self) {
        self.clear_composition();
        self.status.clear();
    }

    /// The session ends: nothing of this person stays in any engine.
    pub fn forget(&mut self) {
        self.reset();
        for slot in [&mut self.pinyin, &mut self.handwriting] {
            if let Some(engine) = slot.engine() {
                engine.forget();
            }
        }
        self.purpose = Purpose::Text;
    }

    /// What the widget shows now.
    pub fn view(&self) -> KeyboardView {
        let composition = match self.active_slot() {
            Some(Slot::Ready(engine)) => Some(engine.composition()),
            _ => None,
        };
        let candidates = composition.map_or(&[][..], |c| &c.candidates[..]);
        let start = (self.page * self.page_size).min(candidates.len());
        let end = (start + self.page_size).min(candidates.len());
        let mut ink = composition.map(|c| c.ink.clone()).unwrap_or_default();
        ink.extend(Stroke::new(self.pen.clone()));
        KeyboardView {
            mode: self.mode,
            composing: composition.is_some_and(|c| !c.is_empty()),
            preedit: composition.map(|c| c.preedit.clone()).unwrap_or_default(),
            candidates: candidates[start..end].to_vec(),
            has_previous_page: self.page > 0,
            has_next_page: end < candidates.len(),
            ink_path: ink_path(&ink),
            status: self.status.clone(),
            pinyin_available: matches!(self.pinyin, Slot::Ready(_)),
            handwriting_available: matches!(self.handwriting, Slot::Ready(_)),
        }
    }

    fn enter_field(&mut self, purpose: Purpose) {
        if purpose != self.purpose {
            // A different kind of field: what was composed for the last one
            // does not belong here.
            self.clear_composition();
            self.purpose = purpose;
        }
    }

    fn page_count(&self) -> usize {
        let count = match self.active_slot() {
            Some(Slot::Ready(engine)) => engine.composition().candidates.len(),
            _ => 0,
        };
        count.div_ceil(self.page_size).max(1)
    }

    fn active_slot(&self) -> Option<&Slot> {
        if !self.purpose.takes_chinese() {
            return None;
        }
        match self.mode {
            KeyboardMode::Pinyin => Some(&self.pinyin),
            KeyboardMode::Handwriting => Some(&self.handwriting),
            KeyboardMode::Letters | KeyboardMode::Digits => None,
        }
    }

    fn active_engine(&mut self) -> &mut dyn InputEngine {
        let slot = if !self.purpose.takes_chinese() {
            None
        } else {
            match self.mode {
                KeyboardMode::Pinyin => Some(&mut self.pinyin),
                KeyboardMode::Handwriting => Some(&mut self.handwriting),
                KeyboardMode::Letters | KeyboardMode::Digits => None,
            }
        };
        match slot.and_then(Slot::engine) {
            Some(engine) => engine,
            None => &mut self.direct,
        }
    }

    fn clear_composition(&mut self) {
        self.pen.clear();
        self.page = 0;
        for slot in [&mut self.pinyin, &mut self.handwriting] {
            if let Some(engine) = slot.engine() {
                engine.reset();
            }
        }
    }

    fn insert(&mut self, text: &str, piece: &str) -> String {
        let (out, refusal) = self.purpose.insert(text, piece);
        if let Some(refusal) = refusal {
            self.status = refusal.message_zh(self.purpose);
        }
        out
    }

    fn engine_failed(&mut self, err: InputError, text: &str) -> String {
        self.active_engine().reset();
        self.status = err.message_zh();
        text.to_string()
    }
}

/// SVG path commands for the strokes, in a 1000 × 1000 view box. A single
/// point (a dot) becomes a tiny segment so that it is drawn.
pub fn ink_path(strokes: &[Stroke]) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    for stroke in strokes {
        let points = stroke.points();
        for (i, p) in points.iter().enumerate() {
            let command = if i == 0 { 'M' } else { 'L' };
            let _ = write!(out, "{command}{:.0} {:.0} ", p.x * 1000.0, p.y * 1000.0);
        }
        if let [p] = points {
            let _ = write!(out, "L{:.0} {:.0} ", p.x * 1000.0 + 1.0, p.y * 1000.0);
        }
    }
    out.trim_end().to_string()
}

/// Wires a [`KeyboardController`] to the `KeyboardBridge` global of a Slint
/// component that includes `ui/widgets/keyboard.slint`, and shows its first
/// view.
///
/// ```ignore
/// let keyboard = Rc::new(RefCell::new(KeyboardController::start(&pinyin, &handwriting).0));
/// veteran_kiosk::connect_keyboard!(app, crate::ui, keyboard);
/// ```
///
/// `crate::ui` is the module where `slint::include_modules!()` (or
/// `slint::slint!`) put the generated types `KeyboardBridge`,
/// `KeyboardMode` and `InputPurpose`. A macro rather than a function because
/// those types are generated separately in each crate or test that compiles
/// the widget.
#[macro_export]
macro_rules! connect_keyboard {
    ($component:expr, $($generated:ident)::+, $controller:expr) => {{
        use ::slint::ComponentHandle as _;
        use $crate::input::keyboard_adapter::KeyboardMode as RustMode;
        use $crate::input::Purpose as RustPurpose;
        use $($generated)::+::{InputPurpose as UiPurpose, KeyboardBridge, KeyboardMode as UiMode};

        let controller: ::std::rc::Rc<::std::cell::RefCell<$crate::input::KeyboardController>> =
            ::std::clone::Clone::clone(&$controller);
        let component = &$component;
        let weak = component.as_weak();

        #[allow(unreachable_patterns)]
        fn purpose(p: UiPurpose) -> RustPurpose {
            match p {
                UiPurpose::IdNumber => RustPurpose::IdNumber,
                UiPurpose::Phone => RustPurpose::Phone,
                UiPurpose::Amount => RustPurpose::Amount,
                UiPurpose::Digits => RustPurpose::Digits,
                _ => RustPurpose::Text,
            }
        }
        #[allow(unreachable_patterns)]
        fn rust_mode(m: UiMode) -> RustMode {
            match m {
                UiMode::Handwriting => RustMode::Handwriting,
                UiMode::Letters => RustMode::Letters,
                UiMode::Digits => RustMode::Digits,
                _ => RustMode::Pinyin,
            }
        }
        fn ui_mode(m: RustMode) -> UiMode {
            match m {
                RustMode::Pinyin => UiMode::Pinyin,
                RustMode::Handwriting => UiMode::Handwriting,
                RustMode::Letters => UiMode::Letters,
                RustMode::Digits => UiMode::Digits,
            }
        }

        let show: ::std::rc::Rc<dyn Fn()> = {
            let weak = weak.clone();
            let controller = controller.clone();
            ::std::rc::Rc::new(move || {
                let Some(ui) = weak.upgrade() else { return };
                let view = controller.borrow().view();
                let bridge = ui.global::<KeyboardBridge>();
                bridge.set_mode(ui_mode(view.mode));
                bridge.set_composing(view.composing);
                bridge.set_preedit(view.preedit.into());
                let candidates: ::std::vec::Vec<::slint::SharedString> =
                    view.candidates.into_iter().map(::std::convert::Into::into).collect();
                bridge.set_candidates(::slint::ModelRc::new(::slint::VecModel::from(candidates)));
                bridge.set_has_previous_page(view.has_previous_page);
                bridge.set_has_next_page(view.has_next_page);
                bridge.set_ink_path(view.ink_path.into());
                bridge.set_status(view.status.into());
                bridge.set_pinyin_available(view.pinyin_available);
                bridge.set_handwriting_available(view.handwriting_available);
            })
        };

        let bridge = component.global::<KeyboardBridge>();
        {
            let (controller, show) = (controller.clone(), show.clone());
            bridge.on_key_pressed(move |p, text, key| {
                let text = controller.borrow_mut().press(purpose(p), &text, &key);
                show();
                text.into()
            });
        }
        {
            let (controller, show) = (controller.clone(), show.clone());
            bridge.on_candidate_chosen(move |p, text, index| {
                let index = usize::try_from(index).unwrap_or(usize::MAX);
                let text = controller.borrow_mut().choose(purpose(p), &text, index);
                show();
                text.into()
            });
        }
        {
            let (controller, show) = (controller.clone(), show.clone());
            bridge.on_mode_requested(move |m| {
                controller.borrow_mut().set_mode(rust_mode(m));
                show();
            });
        }
        {
            let (controller, show) = (controller.clone(), show.clone());
            bridge.on_page_requested(move |delta| {
                controller.borrow_mut().turn_page(delta);
                show();
            });
        }
        {
            let (controller, show) = (controller.clone(), show.clone());
            bridge.on_pen_down(move |x, y| {
                controller.borrow_mut().pen_down(x, y);
                show();
            });
        }
        {
            let (controller, show) = (controller.clone(), show.clone());
            bridge.on_pen_moved(move |x, y| {
                controller.borrow_mut().pen_move(x, y);
                show();
            });
        }
        {
            let (controller, show) = (controller.clone(), show.clone());
            bridge.on_pen_up(move || {
                controller.borrow_mut().pen_up();
                show();
            });
        }
        {
            let (controller, show) = (controller.clone(), show.clone());
            bridge.on_field_left(move || {
                controller.borrow_mut().reset();
                show();
            });
        }
        show();
    }};
}

#[cfg(test)]
mod tests;

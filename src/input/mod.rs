//! On-screen input for the kiosk: Chinese by pinyin (librime) or by
//! handwriting (zinnia), and plain letters and digits that always work.
//!
//! Every engine sits behind [`InputEngine`]: keys or strokes go in, an
//! [`Outcome`] comes out (text to insert, a changed composition, or "not
//! mine"), and the current [`Composition`] (preedit, candidates, ink) can be
//! read at any time. The keyboard widget's Rust side
//! ([`keyboard_adapter::KeyboardController`]) owns one engine per mode and
//! turns widget events into edits of the field being typed into.
//!
//! The native libraries are opened at run time (`dlopen`), not linked: a
//! kiosk whose librime or zinnia (or their data) is missing still starts, the
//! engine that cannot open reports an [`InputError`], and the keyboard offers
//! the remaining modes.
//!
//! Privacy: a kiosk is shared by strangers one after another, so no engine
//! learns from what a person types (librime's user dictionary is switched off)
//! and [`InputEngine::forget`] drops all per-person state.

pub mod direct;
pub mod edit;
pub mod keyboard_adapter;
pub mod rime;
pub mod zinnia;

use thiserror::Error;

pub use direct::DirectEngine;
pub use edit::Purpose;
pub use keyboard_adapter::{KeyboardController, KeyboardMode, KeyboardView};
pub use rime::{PinyinConfig, PinyinEngine};
pub use zinnia::{HandwritingConfig, HandwritingEngine};

/// One key of the on-screen keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// A printable character: a letter, digit or punctuation mark.
    Char(char),
    Backspace,
    Space,
    Enter,
    Escape,
}

impl Key {
    /// Parses the key names the keyboard widget sends: one printable
    /// character, or `backspace`, `space`, `enter`, `escape`.
    pub fn parse(name: &str) -> Option<Key> {
        match name {
            "backspace" => Some(Key::Backspace),
            "space" => Some(Key::Space),
            "enter" => Some(Key::Enter),
            "escape" => Some(Key::Escape),
            _ => {
                let mut chars = name.chars();
                match (chars.next(), chars.next()) {
                    // Slint names arrows, F-keys and the like with
                    // private-use characters: they are not text.
                    (Some(c), None)
                        if !c.is_control()
                            && !c.is_whitespace()
                            && !('\u{E000}'..='\u{F8FF}').contains(&c) =>
                    {
                        Some(Key::Char(c))
                    }
                    _ => None,
                }
            }
        }
    }
}

/// A point on the handwriting pad, normalised so that the pad spans
/// 0.0..=1.0 on both axes (the widget divides by its own size, so the engines
/// never depend on screen resolution).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub x: f32,
    pub y: f32,
}

impl Point {
    /// A point on the pad, or `None` when a coordinate is not finite.
    /// Coordinates a little outside the pad (a finger sliding off the edge)
    /// are clamped rather than refused.
    pub fn new(x: f32, y: f32) -> Option<Point> {
        (x.is_finite() && y.is_finite()).then(|| Point {
            x: x.clamp(0.0, 1.0),
            y: y.clamp(0.0, 1.0),
        })
    }
}

/// One pen stroke: the points from touching the pad to lifting the finger.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Stroke {
    points: Vec<Point>,
}

impl Stroke {
    /// Bounds the work a single runaway stroke can cause; a real stroke has a
    /// few dozen points.
    pub const MAX_POINTS: usize = 2000;

    /// A stroke from its points; `None` for an empty one. Points beyond
    /// [`Stroke::MAX_POINTS`] are dropped.
    pub fn new(points: Vec<Point>) -> Option<Stroke> {
        if points.is_empty() {
            return None;
        }
        let mut points = points;
        points.truncate(Self::MAX_POINTS);
        Some(Stroke { points })
    }

    /// A stroke through the given (x, y) pairs, for tests and fixtures;
    /// non-finite pairs are skipped.
    pub fn from_pairs(pairs: &[(f32, f32)]) -> Option<Stroke> {
        Stroke::new(
            pairs
                .iter()
                .filter_map(|&(x, y)| Point::new(x, y))
                .collect(),
        )
    }

    pub fn points(&self) -> &[Point] {
        &self.points
    }
}

/// What goes into an engine.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    Key(Key),
    /// A finished pen stroke (handwriting engines; others ignore it).
    Stroke(Stroke),
}

/// What an engine did with an input or a candidate choice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Text is final: insert it into the field. The composition is now empty.
    Commit(String),
    /// The composition changed (preedit, candidates or ink); nothing to
    /// insert yet.
    Composing,
    /// The engine had nothing to do with this input (for example Backspace
    /// with nothing composed): the caller applies it to the field itself.
    Unhandled,
}

/// What the person sees while composing: the pinyin typed so far, the
/// candidates, and for handwriting the strokes drawn so far.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Composition {
    /// Text being composed, e.g. `tui yi` or `退役 jun ren`.
    pub preedit: String,
    /// Candidates, best first.
    pub candidates: Vec<String>,
    /// Strokes of the character being written (handwriting only).
    pub ink: Vec<Stroke>,
}

impl Composition {
    pub fn is_empty(&self) -> bool {
        self.preedit.is_empty() && self.candidates.is_empty() && self.ink.is_empty()
    }
}

/// Which engine this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineKind {
    Pinyin,
    Handwriting,
    Direct,
}

/// An input method: keys or strokes in, text out.
pub trait InputEngine {
    fn kind(&self) -> EngineKind;

    /// Feeds one key or stroke.
    fn feed(&mut self, input: Input) -> Result<Outcome, InputError>;

    /// The current composition.
    fn composition(&self) -> &Composition;

    /// Chooses candidate `index` of [`Composition::candidates`]. Pinyin may
    /// return `Composing` when the choice covers only part of what was typed
    /// (`tuiyijunren`: choosing 退役 leaves `jun ren` to convert).
    fn select(&mut self, index: usize) -> Result<Outcome, InputError>;

    /// Clears the composition (the person left the field or pressed 取消).
    fn reset(&mut self);

    /// Drops everything this engine holds about the current person, ready
    /// for the next one. Engines with no memory beyond the composition just
    /// reset.
    fn forget(&mut self) {
        self.reset();
    }
}

/// Why an engine could not start or could not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InputError {
    #[error("library {library} could not be loaded: {detail}")]
    LibraryMissing {
        library: &'static str,
        detail: String,
    },
    #[error("library {library} lacks what we need: {detail}")]
    LibraryIncompatible {
        library: &'static str,
        detail: String,
    },
    #[error("{what} not found at {path}")]
    DataMissing { what: &'static str, path: String },
    #[error("could not prepare input data: {detail}")]
    Setup { detail: String },
    #[error("input engine failed: {detail}")]
    Engine { detail: String },
    #[error("candidate {index} does not exist ({available} available)")]
    NoSuchCandidate { index: usize, available: usize },
}

impl InputError {
    /// Stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            InputError::LibraryMissing { .. } => "input_library_missing",
            InputError::LibraryIncompatible { .. } => "input_library_incompatible",
            InputError::DataMissing { .. } => "input_data_missing",
            InputError::Setup { .. } => "input_setup",
            InputError::Engine { .. } => "input_engine",
            InputError::NoSuchCandidate { .. } => "input_no_such_candidate",
        }
    }

    /// Plain Chinese for the person at the kiosk: what does not work and
    /// what to do instead.
    pub fn message_zh(&self) -> String {
        match self {
            InputError::LibraryMissing { .. }
            | InputError::LibraryIncompatible { .. }
            | InputError::DataMissing { .. }
            | InputError::Setup { .. } => {
                "这种输入方式暂时不能使用，请换用其他输入方式，或请工作人员帮助".to_string()
            }
            InputError::Engine { .. } => "输入出了点问题，请再试一次".to_string(),
            InputError::NoSuchCandidate { .. } => "请从候选字中重新选择".to_string(),
        }
    }
}

#[cfg(test)]
mod key_tests {
    use super::Key;

    #[test]
    fn keys_that_are_not_text_are_refused() {
        assert_eq!(Key::parse("a"), Some(Key::Char('a')));
        assert_eq!(Key::parse("X"), Some(Key::Char('X')));
        assert_eq!(Key::parse("backspace"), Some(Key::Backspace));
        // Slint's names for the arrow keys, F1 and Home: private-use characters.
        for name in ["\u{F700}", "\u{F701}", "\u{F704}", "\u{F729}"] {
            assert_eq!(Key::parse(name), None, "{name:?}");
        }
        assert_eq!(Key::parse("\u{8}"), None);
        assert_eq!(Key::parse("ab"), None);
    }
}

//! Plain letters, digits and punctuation: every printable key is committed as
//! it is. Needs no library, so it always works; it is what the keyboard falls
//! back on when neither Chinese engine can start.

use super::{Composition, EngineKind, Input, InputEngine, InputError, Key, Outcome};

#[derive(Debug, Default)]
pub struct DirectEngine {
    // Always empty; kept so `composition()` can hand out a reference.
    empty: Composition,
}

impl DirectEngine {
    pub fn new() -> Self {
        Self::default()
    }
}

impl InputEngine for DirectEngine {
    fn kind(&self) -> EngineKind {
        EngineKind::Direct
    }

    fn feed(&mut self, input: Input) -> Result<Outcome, InputError> {
        Ok(match input {
            Input::Key(Key::Char(c)) => Outcome::Commit(c.to_string()),
            Input::Key(_) | Input::Stroke(_) => Outcome::Unhandled,
        })
    }

    fn composition(&self) -> &Composition {
        &self.empty
    }

    fn select(&mut self, index: usize) -> Result<Outcome, InputError> {
        Err(InputError::NoSuchCandidate {
            index,
            available: 0,
        })
    }

    fn reset(&mut self) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::Stroke;

    #[test]
    fn printable_keys_commit_and_the_rest_is_left_to_the_field() {
        let mut engine = DirectEngine::new();
        let cases = [
            (Input::Key(Key::Char('a')), Outcome::Commit("a".into())),
            (Input::Key(Key::Char('7')), Outcome::Commit("7".into())),
            (Input::Key(Key::Char('X')), Outcome::Commit("X".into())),
            (Input::Key(Key::Backspace), Outcome::Unhandled),
            (Input::Key(Key::Space), Outcome::Unhandled),
            (Input::Key(Key::Enter), Outcome::Unhandled),
            (
                Input::Stroke(Stroke::from_pairs(&[(0.1, 0.1)]).unwrap()),
                Outcome::Unhandled,
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(engine.feed(input.clone()).unwrap(), expected, "{input:?}");
            assert!(engine.composition().is_empty());
        }
        assert_eq!(
            engine.select(0).unwrap_err().code(),
            "input_no_such_candidate"
        );
    }
}

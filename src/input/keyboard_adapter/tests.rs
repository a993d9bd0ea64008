//! The controller against scripted engines: what the field and the widget
//! show after each step. The real engines are exercised in
//! tests/integration/input_engines.rs.

use super::*;
use crate::input::{Composition, EngineKind};
use expect_test::{expect, Expect};

/// A stand-in pinyin engine: letters gather in the preedit, candidates come
/// from a fixed table, Space takes the first.
#[derive(Default)]
struct ScriptedPinyin {
    composition: Composition,
}

impl ScriptedPinyin {
    fn lookup(&mut self) {
        let candidates: &[&str] = match self.composition.preedit.as_str() {
            "tuiyi" => &["退役", "推移", "褪衣"],
            "jun" => &["军", "君", "均", "俊", "菌", "郡", "骏", "峻"],
            _ => &[],
        };
        self.composition.candidates = candidates.iter().map(|s| s.to_string()).collect();
    }
}

impl InputEngine for ScriptedPinyin {
    fn kind(&self) -> EngineKind {
        EngineKind::Pinyin
    }

    fn feed(&mut self, input: Input) -> Result<Outcome, InputError> {
        let composing = !self.composition.preedit.is_empty();
        Ok(match input {
            Input::Key(Key::Char(c)) if c.is_ascii_alphabetic() => {
                self.composition.preedit.push(c);
                self.lookup();
                Outcome::Composing
            }
            Input::Key(Key::Char('!')) => {
                return Err(InputError::Engine {
                    detail: "scripted failure".into(),
                })
            }
            Input::Key(Key::Backspace) if composing => {
                self.composition.preedit.pop();
                self.lookup();
                Outcome::Composing
            }
            Input::Key(Key::Space) if composing => return self.select(0),
            _ => Outcome::Unhandled,
        })
    }

    fn composition(&self) -> &Composition {
        &self.composition
    }

    fn select(&mut self, index: usize) -> Result<Outcome, InputError> {
        let available = self.composition.candidates.len();
        let text = self
            .composition
            .candidates
            .get(index)
            .cloned()
            .ok_or(InputError::NoSuchCandidate { index, available })?;
        self.reset();
        Ok(Outcome::Commit(text))
    }

    fn reset(&mut self) {
        self.composition = Composition::default();
    }
}

/// A stand-in handwriting engine: n strokes give the candidate "n笔".
#[derive(Default)]
struct ScriptedHandwriting {
    composition: Composition,
}

impl InputEngine for ScriptedHandwriting {
    fn kind(&self) -> EngineKind {
        EngineKind::Handwriting
    }

    fn feed(&mut self, input: Input) -> Result<Outcome, InputError> {
        match input {
            Input::Stroke(s) => self.composition.ink.push(s),
            Input::Key(Key::Backspace) if !self.composition.ink.is_empty() => {
                self.composition.ink.pop();
            }
            _ => return Ok(Outcome::Unhandled),
        }
        let n = self.composition.ink.len();
        self.composition.candidates = if n == 0 {
            vec![]
        } else {
            vec![format!("{n}笔"), "一".into()]
        };
        Ok(Outcome::Composing)
    }

    fn composition(&self) -> &Composition {
        &self.composition
    }

    fn select(&mut self, index: usize) -> Result<Outcome, InputError> {
        let text =
            self.composition
                .candidates
                .get(index)
                .cloned()
                .ok_or(InputError::NoSuchCandidate {
                    index,
                    available: self.composition.candidates.len(),
                })?;
        self.reset();
        Ok(Outcome::Commit(text))
    }

    fn reset(&mut self) {
        self.composition = Composition::default();
    }
}

fn missing(library: &'static str) -> InputError {
    InputError::LibraryMissing {
        library,
        detail: "cannot open shared object file".into(),
    }
}

fn both() -> KeyboardController {
    KeyboardController::new(
        Ok(Box::new(ScriptedPinyin::default())),
        Ok(Box::new(ScriptedHandwriting::default())),
    )
}

/// One thing the person does.
enum Step {
    Type(Purpose, &'static str),
    Key(Purpose, &'static str),
    Choose(usize),
    Page(i32),
    Mode(KeyboardMode),
    Draw(&'static [(f32, f32)]),
    Leave,
}

fn check(mut keyboard: KeyboardController, steps: &[Step], expect: Expect) {
    keyboard.set_page_size(3);
    let mut text = String::new();
    let mut purpose = Purpose::Text;
    let mut log = String::new();
    for step in steps {
        let label = match step {
            Step::Type(p, keys) => {
                purpose = *p;
                for c in keys.chars() {
                    text = keyboard.press(purpose, &text, &c.to_string());
                }
                format!("type {keys:?}")
            }
            Step::Key(p, key) => {
                purpose = *p;
                text = keyboard.press(purpose, &text, key);
                format!("key {key}")
            }
            Step::Choose(i) => {
                text = keyboard.choose(purpose, &text, *i);
                format!("choose {i}")
            }
            Step::Page(delta) => {
                keyboard.turn_page(*delta);
                format!("page {delta:+}")
            }
            Step::Mode(mode) => {
                keyboard.set_mode(*mode);
                format!("mode {mode:?}")
            }
            Step::Draw(points) => {
                if let Some((&(x, y), rest)) = points.split_first() {
                    keyboard.pen_down(x, y);
                    for &(x, y) in rest {
                        keyboard.pen_move(x, y);
                    }
                }
                keyboard.pen_up();
                "draw".to_string()
            }
            Step::Leave => {
                keyboard.reset();
                "leave".to_string()
            }
        };
        let view = keyboard.view();
        log.push_str(&format!(
            "{label:<14} | {text:<10} | {:?}{} preedit={:?} cands={:?}{}{} ink={:?}{}\n",
            view.mode,
            if view.composing { " composing" } else { "" },
            view.preedit,
            view.candidates,
            if view.has_previous_page { " <" } else { "" },
            if view.has_next_page { " >" } else { "" },
            view.ink_path,
            if view.status.is_empty() {
                String::new()
            } else {
                format!(" status={:?}", view.status)
            },
        ));
    }
    expect.assert_eq(&log);
}

#[test]
fn pinyin_typing_choosing_and_paging() {
    check(
        both(),
        &[
            Step::Type(Purpose::Text, "tuiyi"),
            Step::Key(Purpose::Text, "space"),
            Step::Type(Purpose::Text, "jun"),
            Step::Page(1),
            Step::Page(1),
            Step::Page(5),
            Step::Choose(1),
            Step::Key(Purpose::Text, "backspace"),
            Step::Key(Purpose::Text, "backspace"),
            Step::Type(Purpose::Text, "tuiyi"),
            Step::Key(Purpose::Text, "backspace"),
            Step::Leave,
        ],
        expect![[r#"
            type "tuiyi"   |            | Pinyin composing preedit="tuiyi" cands=["退役", "推移", "褪衣"] ink=""
            key space      | 退役         | Pinyin preedit="" cands=[] ink=""
            type "jun"     | 退役         | Pinyin composing preedit="jun" cands=["军", "君", "均"] > ink=""
            page +1        | 退役         | Pinyin composing preedit="jun" cands=["俊", "菌", "郡"] < > ink=""
            page +1        | 退役         | Pinyin composing preedit="jun" cands=["骏", "峻"] < ink=""
            page +5        | 退役         | Pinyin composing preedit="jun" cands=["骏", "峻"] < ink=""
            choose 1       | 退役峻        | Pinyin preedit="" cands=[] ink=""
            key backspace  | 退役         | Pinyin preedit="" cands=[] ink=""
            key backspace  | 退          | Pinyin preedit="" cands=[] ink=""
            type "tuiyi"   | 退          | Pinyin composing preedit="tuiyi" cands=["退役", "推移", "褪衣"] ink=""
            key backspace  | 退          | Pinyin composing preedit="tuiy" cands=[] ink=""
            leave          | 退          | Pinyin preedit="" cands=[] ink=""
        "#]],
    );
}

#[test]
fn handwriting_strokes_undo_and_choice() {
    check(
        both(),
        &[
            Step::Mode(KeyboardMode::Handwriting),
            Step::Draw(&[(0.1, 0.5), (0.5, 0.5), (0.9, 0.5)]),
            Step::Draw(&[(0.5, 0.1), (0.5, 0.9)]),
            Step::Key(Purpose::Text, "backspace"),
            Step::Draw(&[(0.3, 0.3)]),
            Step::Choose(0),
            Step::Key(Purpose::Text, "backspace"),
            Step::Draw(&[(0.1, 0.5), (0.9, 0.5)]),
            Step::Mode(KeyboardMode::Pinyin),
        ],
        expect![[r#"
            mode Handwriting |            | Handwriting preedit="" cands=[] ink=""
            draw           |            | Handwriting composing preedit="" cands=["1笔", "一"] ink="M100 500 L500 500 L900 500"
            draw           |            | Handwriting composing preedit="" cands=["2笔", "一"] ink="M100 500 L500 500 L900 500 M500 100 L500 900"
            key backspace  |            | Handwriting composing preedit="" cands=["1笔", "一"] ink="M100 500 L500 500 L900 500"
            draw           |            | Handwriting composing preedit="" cands=["2笔", "一"] ink="M100 500 L500 500 L900 500 M300 300 L301 300"
            choose 0       | 2笔         | Handwriting preedit="" cands=[] ink=""
            key backspace  | 2          | Handwriting preedit="" cands=[] ink=""
            draw           | 2          | Handwriting composing preedit="" cands=["1笔", "一"] ink="M100 500 L900 500"
            mode Pinyin    | 2          | Pinyin preedit="" cands=[] ink=""
        "#]],
    );
}

#[test]
fn fields_for_numbers_use_the_digit_pad_and_their_rules() {
    check(
        both(),
        &[
            Step::Type(Purpose::IdNumber, "35052419500312345x"),
            Step::Key(Purpose::IdNumber, "1"),
            Step::Leave,
            Step::Key(Purpose::IdNumber, "backspace"),
            Step::Type(Purpose::IdNumber, "a"),
        ],
        expect![[r#"
            type "35052419500312345x" | 35052419500312345X | Pinyin preedit="" cands=[] ink=""
            key 1          | 35052419500312345X | Pinyin preedit="" cands=[] ink="" status="最多只能输入18个字"
            leave          | 35052419500312345X | Pinyin preedit="" cands=[] ink=""
            key backspace  | 35052419500312345 | Pinyin preedit="" cands=[] ink=""
            type "a"       | 35052419500312345 | Pinyin preedit="" cands=[] ink="" status="身份证号码只能输入数字和字母X"
        "#]],
    );
}

#[test]
fn a_field_of_another_purpose_drops_the_composition() {
    check(
        both(),
        &[
            Step::Type(Purpose::Text, "tui"),
            Step::Type(Purpose::Phone, "0595-"),
            Step::Type(Purpose::Text, "jun"),
        ],
        expect![[r#"
            type "tui"     |            | Pinyin composing preedit="tui" cands=[] ink=""
            type "0595-"   | 0595-      | Pinyin preedit="" cands=[] ink=""
            type "jun"     | 0595-      | Pinyin composing preedit="jun" cands=["军", "君", "均"] > ink=""
        "#]],
    );
}

#[test]
fn without_chinese_engines_letters_and_digits_still_work() {
    let keyboard = KeyboardController::new(Err(missing("librime")), Err(missing("zinnia")));
    assert_eq!(keyboard.mode(), KeyboardMode::Letters);
    assert_eq!(
        keyboard
            .unavailable()
            .iter()
            .map(|(m, e)| format!("{m:?}:{}", e.code()))
            .collect::<Vec<_>>(),
        [
            "Pinyin:input_library_missing",
            "Handwriting:input_library_missing"
        ]
    );
    check(
        keyboard,
        &[
            Step::Type(Purpose::Text, "Li"),
            Step::Mode(KeyboardMode::Pinyin),
            Step::Mode(KeyboardMode::Handwriting),
            Step::Draw(&[(0.1, 0.1), (0.2, 0.2)]),
            Step::Mode(KeyboardMode::Digits),
            Step::Type(Purpose::Text, "12"),
        ],
        expect![[r#"
            type "Li"      | Li         | Letters preedit="" cands=[] ink=""
            mode Pinyin    | Li         | Letters preedit="" cands=[] ink="" status="这种输入方式暂时不能使用，请换用其他输入方式，或请工作人员帮助"
            mode Handwriting | Li         | Letters preedit="" cands=[] ink="" status="这种输入方式暂时不能使用，请换用其他输入方式，或请工作人员帮助"
            draw           | Li         | Letters preedit="" cands=[] ink="" status="这种输入方式暂时不能使用，请换用其他输入方式，或请工作人员帮助"
            mode Digits    | Li         | Digits preedit="" cands=[] ink=""
            type "12"      | Li12       | Digits preedit="" cands=[] ink=""
        "#]],
    );
}

#[test]
fn only_handwriting_available_starts_in_handwriting() {
    let keyboard = KeyboardController::new(
        Err(missing("librime")),
        Ok(Box::new(ScriptedHandwriting::default())),
    );
    assert_eq!(keyboard.mode(), KeyboardMode::Handwriting);
    let view = keyboard.view();
    assert!(!view.pinyin_available && view.handwriting_available);
}

#[test]
fn an_engine_error_is_explained_and_keeps_the_text() {
    check(
        both(),
        &[
            Step::Type(Purpose::Text, "tui"),
            Step::Key(Purpose::Text, "!"),
            Step::Choose(7),
            Step::Key(Purpose::Text, "no-such-key"),
        ],
        expect![[r#"
            type "tui"     |            | Pinyin composing preedit="tui" cands=[] ink=""
            key !          |            | Pinyin preedit="" cands=[] ink="" status="输入出了点问题，请再试一次"
            choose 7       |            | Pinyin preedit="" cands=[] ink="" status="请从候选字中重新选择"
            key no-such-key |            | Pinyin preedit="" cands=[] ink="" status="请从候选字中重新选择"
        "#]],
    );
}

#[test]
fn forget_clears_every_engine() {
    let mut keyboard = both();
    let text = keyboard.press(Purpose::Text, "", "t");
    assert!(keyboard.view().composing);
    keyboard.forget();
    assert!(!keyboard.view().composing);
    assert_eq!(text, "");
}

#[test]
fn ink_path_draws_dots_and_lines() {
    let strokes = [
        Stroke::from_pairs(&[(0.0, 0.0), (1.0, 1.0)]).unwrap(),
        Stroke::from_pairs(&[(0.25, 0.75)]).unwrap(),
    ];
    assert_eq!(ink_path(&strokes), "M0 0 L1000 1000 M250 750 L251 750");
    assert_eq!(ink_path(&[]), "");
}

#[test]
fn points_off_the_pad_are_clamped_and_nan_dropped() {
    let mut keyboard = both();
    keyboard.set_mode(KeyboardMode::Handwriting);
    keyboard.pen_down(f32::NAN, 0.5);
    keyboard.pen_move(-0.5, 2.0);
    keyboard.pen_move(f32::INFINITY, 0.1);
    assert_eq!(keyboard.view().ink_path, "M0 1000 L1 1000");
    keyboard.pen_up();
    assert_eq!(keyboard.view().candidates, ["1笔", "一"]);
}

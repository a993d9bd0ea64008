//! The input engines on the real libraries and data: librime with
//! luna_pinyin_simp (`rime-data-luna-pinyin`) and zinnia with the Tegaki
//! simplified-Chinese model (`tegaki-zinnia-simplified-chinese`), both
//! installed by scripts/setup.sh.

use veteran_kiosk::input::{
    HandwritingConfig, HandwritingEngine, Input, InputEngine, Key, KeyboardController,
    KeyboardMode, Outcome, PinyinConfig, PinyinEngine, Purpose, Stroke,
};

/// The configuration the kiosk window uses too: librime can be set up once
/// per process, and every test in this binary shares it (the compiled
/// dictionary stays in the temporary directory, so only the first run
/// compiles it).
fn pinyin_config() -> PinyinConfig {
    PinyinConfig::default()
}

fn pinyin() -> PinyinEngine {
    PinyinEngine::open(&pinyin_config())
        .expect("librime with luna_pinyin_simp (run scripts/setup.sh)")
}

fn type_keys(engine: &mut dyn InputEngine, keys: &str) -> Vec<Outcome> {
    keys.chars()
        .map(|c| engine.feed(Input::Key(Key::Char(c))).unwrap())
        .collect()
}

#[test]
fn pinyin_finds_common_words_in_simplified_characters() {
    let mut engine = pinyin();
    for (keys, word) in [
        ("tuiyi", "退役"),
        ("junren", "军人"),
        ("shenfenzheng", "身份证"),
        ("lieshi", "烈士"),
        ("fuxu", "抚恤"),
        ("canji", "残疾"),
    ] {
        engine.reset();
        let outcomes = type_keys(&mut engine, keys);
        assert!(
            outcomes.iter().all(|o| *o == Outcome::Composing),
            "{keys}: {outcomes:?}"
        );
        let candidates = &engine.composition().candidates;
        let position = candidates.iter().position(|c| c == word);
        assert!(
            position.is_some_and(|p| p < 5),
            "{keys}: {word} not among the first five of {candidates:?}"
        );
        assert!(!engine.composition().preedit.is_empty());
    }
}

#[test]
fn choosing_a_candidate_commits_it() {
    let mut engine = pinyin();
    type_keys(&mut engine, "junren");
    let index = engine
        .composition()
        .candidates
        .iter()
        .position(|c| c == "军人")
        .expect("军人 offered");
    assert_eq!(
        engine.select(index).unwrap(),
        Outcome::Commit("军人".into())
    );
    assert!(engine.composition().is_empty());
}

#[test]
fn a_partial_choice_leaves_the_rest_to_convert() {
    let mut engine = pinyin();
    type_keys(&mut engine, "tuiyijunren");
    let index = engine
        .composition()
        .candidates
        .iter()
        .position(|c| c == "退役")
        .expect("退役 offered for the first part");
    assert_eq!(engine.select(index).unwrap(), Outcome::Composing);
    let candidates = engine.composition().candidates.clone();
    assert!(candidates.iter().any(|c| c == "军人"), "{candidates:?}");
    assert!(
        engine.composition().preedit.starts_with("退役"),
        "{:?}",
        engine.composition()
    );
    let index = candidates.iter().position(|c| c == "军人").unwrap();
    assert_eq!(
        engine.select(index).unwrap(),
        Outcome::Commit("退役军人".into())
    );
}

#[test]
fn keys_around_the_composition() {
    let mut engine = pinyin();
    // Nothing composed: editing keys belong to the field.
    for key in [Key::Backspace, Key::Space, Key::Enter, Key::Escape] {
        assert_eq!(
            engine.feed(Input::Key(key)).unwrap(),
            Outcome::Unhandled,
            "{key:?}"
        );
    }
    // Space takes the best conversion.
    type_keys(&mut engine, "junren");
    assert_eq!(
        engine.feed(Input::Key(Key::Space)).unwrap(),
        Outcome::Commit("军人".into())
    );
    // Backspace edits the pinyin; Escape drops it.
    type_keys(&mut engine, "tuiy");
    assert_eq!(
        engine.feed(Input::Key(Key::Backspace)).unwrap(),
        Outcome::Composing
    );
    assert_eq!(engine.composition().preedit.replace(' ', ""), "tui");
    assert_eq!(
        engine.feed(Input::Key(Key::Escape)).unwrap(),
        Outcome::Composing
    );
    assert!(engine.composition().is_empty());
    // A digit ends the composition: the conversion, then the digit.
    type_keys(&mut engine, "junren");
    assert_eq!(
        engine.feed(Input::Key(Key::Char('1'))).unwrap(),
        Outcome::Commit("军人1".into())
    );
    // Enter takes the best conversion too, not the raw letters.
    type_keys(&mut engine, "tuiyijunren");
    assert_eq!(
        engine.feed(Input::Key(Key::Enter)).unwrap(),
        Outcome::Commit("退役军人".into())
    );
    // Upper-case letters are pinyin too.
    type_keys(&mut engine, "JUNREN");
    assert!(engine.composition().candidates.iter().any(|c| c == "军人"));
    engine.reset();
    assert!(engine.composition().is_empty());
}

#[test]
fn nothing_is_learned_from_one_person_for_the_next() {
    let mut engine = pinyin();
    // Choose a rare candidate several times; with learning it would rise.
    type_keys(&mut engine, "shi");
    let before = engine.composition().candidates.clone();
    let rare = before[8].clone();
    for _ in 0..3 {
        engine.reset();
        type_keys(&mut engine, "shi");
        let index = engine
            .composition()
            .candidates
            .iter()
            .position(|c| *c == rare)
            .unwrap();
        assert_eq!(engine.select(index).unwrap(), Outcome::Commit(rare.clone()));
    }
    engine.forget();
    type_keys(&mut engine, "shi");
    assert_eq!(engine.composition().candidates[..9], before[..9]);
}

#[test]
fn a_missing_library_or_schema_is_a_clear_error() {
    // librime can be set up once per process: asking for another directory
    // is refused rather than silently ignored.
    let _ = pinyin();
    let other = PinyinConfig {
        user_data_dir: std::env::temp_dir().join("vk-other-rime"),
        ..pinyin_config()
    };
    assert_eq!(
        PinyinEngine::open(&other).unwrap_err().code(),
        "input_setup"
    );

    let err = HandwritingEngine::open(&HandwritingConfig {
        library: "libzinnia-does-not-exist.so".into(),
        ..HandwritingConfig::default()
    })
    .unwrap_err();
    assert_eq!(err.code(), "input_library_missing", "{err}");
    let err = HandwritingEngine::open(&HandwritingConfig {
        model: "/nonexistent/handwriting-zh_CN.model".into(),
        ..HandwritingConfig::default()
    })
    .unwrap_err();
    assert_eq!(err.code(), "input_data_missing");
    assert!(err.to_string().contains("tegaki-zinnia-simplified-chinese"));
    let bad_model = std::env::temp_dir().join(format!("vk-bad-model-{}", std::process::id()));
    std::fs::write(&bad_model, b"not a model").unwrap();
    let err = HandwritingEngine::open(&HandwritingConfig {
        model: bad_model.clone(),
        ..HandwritingConfig::default()
    })
    .unwrap_err();
    std::fs::remove_file(&bad_model).unwrap();
    assert_eq!(err.code(), "input_setup", "{err}");
}

// ---------------------------------------------------------------------------
// Handwriting

fn handwriting() -> HandwritingEngine {
    HandwritingEngine::open(&HandwritingConfig::default())
        .expect("zinnia with the Tegaki model (run scripts/setup.sh)")
}

/// A straight stroke from `a` to `b` (pad fractions) with points every few
/// hundredths, as a finger would report it.
fn line(a: (f32, f32), b: (f32, f32)) -> Stroke {
    let steps = 20;
    let points: Vec<(f32, f32)> = (0..=steps)
        .map(|i| {
            let t = i as f32 / steps as f32;
            (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t)
        })
        .collect();
    Stroke::from_pairs(&points).unwrap()
}

/// A curved stroke through three points (quadratic Bézier).
fn curve(a: (f32, f32), control: (f32, f32), b: (f32, f32)) -> Stroke {
    let steps = 20;
    let points: Vec<(f32, f32)> = (0..=steps)
        .map(|i| {
            let t = i as f32 / steps as f32;
            let u = 1.0 - t;
            (
                u * u * a.0 + 2.0 * u * t * control.0 + t * t * b.0,
                u * u * a.1 + 2.0 * u * t * control.1 + t * t * b.1,
            )
        })
        .collect();
    Stroke::from_pairs(&points).unwrap()
}

fn characters() -> Vec<(&'static str, Vec<Stroke>)> {
    vec![
        ("一", vec![line((0.1, 0.5), (0.9, 0.5))]),
        (
            "十",
            vec![line((0.1, 0.45), (0.9, 0.45)), line((0.5, 0.1), (0.5, 0.9))],
        ),
        (
            "人",
            vec![
                curve((0.5, 0.1), (0.45, 0.6), (0.1, 0.9)),
                curve((0.45, 0.4), (0.6, 0.75), (0.9, 0.9)),
            ],
        ),
        (
            "口",
            vec![
                line((0.2, 0.2), (0.2, 0.8)),
                // 横折: across, then down, in one stroke.
                Stroke::from_pairs(
                    &(0..=20)
                        .map(|i| {
                            let t = i as f32 / 20.0;
                            if t < 0.5 {
                                (0.2 + 1.2 * t, 0.2)
                            } else {
                                (0.8, 0.2 + 1.2 * (t - 0.5))
                            }
                        })
                        .collect::<Vec<_>>(),
                )
                .unwrap(),
                line((0.2, 0.8), (0.8, 0.8)),
            ],
        ),
    ]
}

#[test]
fn handwritten_characters_are_recognised() {
    let engine = handwriting();
    for (character, strokes) in characters() {
        let candidates = engine.recognize(&strokes).unwrap();
        let position = candidates.iter().position(|c| c == character);
        assert!(
            position.is_some_and(|p| p < 3),
            "{character} not among the top three of {candidates:?}"
        );
    }
}

#[test]
fn strokes_undo_and_choice_through_the_engine_trait() {
    let mut engine = handwriting();
    assert_eq!(
        engine.feed(Input::Key(Key::Backspace)).unwrap(),
        Outcome::Unhandled
    );
    let (_, strokes) = characters().into_iter().find(|(c, _)| *c == "十").unwrap();
    for stroke in &strokes {
        assert_eq!(
            engine.feed(Input::Stroke(stroke.clone())).unwrap(),
            Outcome::Composing
        );
    }
    assert_eq!(engine.composition().ink.len(), 2);
    assert!(engine
        .composition()
        .candidates
        .iter()
        .take(3)
        .any(|c| c == "十"));
    // Backspace takes back the last stroke: what is left is a horizontal line.
    assert_eq!(
        engine.feed(Input::Key(Key::Backspace)).unwrap(),
        Outcome::Composing
    );
    assert_eq!(engine.composition().ink.len(), 1);
    assert!(engine
        .composition()
        .candidates
        .iter()
        .take(3)
        .any(|c| c == "一"));
    let index = engine
        .composition()
        .candidates
        .iter()
        .position(|c| c == "一")
        .unwrap();
    assert_eq!(engine.select(index).unwrap(), Outcome::Commit("一".into()));
    assert!(engine.composition().is_empty());
    assert_eq!(
        engine.select(0).unwrap_err().code(),
        "input_no_such_candidate"
    );
}

#[test]
fn odd_strokes_do_not_break_recognition() {
    let engine = handwriting();
    let dot = Stroke::from_pairs(&[(0.5, 0.5)]).unwrap();
    let corner = Stroke::from_pairs(&[(0.0, 0.0), (1.0, 1.0), (0.0, 1.0), (1.0, 0.0)]).unwrap();
    assert!(engine.recognize(&[]).unwrap().is_empty());
    for strokes in [
        vec![dot.clone()],
        vec![corner.clone(); 80],
        vec![dot, corner],
    ] {
        // Any answer will do; it must not fail or crash.
        engine.recognize(&strokes).unwrap();
    }
}

// ---------------------------------------------------------------------------
// The keyboard controller on the real engines.

#[test]
fn keyboard_types_a_sentence_with_pinyin_and_handwriting() {
    let (mut keyboard, errors) =
        KeyboardController::start(&pinyin_config(), &HandwritingConfig::default());
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(keyboard.mode(), KeyboardMode::Pinyin);
    let mut text = String::new();
    for c in "tuiyi".chars() {
        text = keyboard.press(Purpose::Text, &text, &c.to_string());
    }
    let index = keyboard
        .view()
        .candidates
        .iter()
        .position(|c| c == "退役")
        .unwrap();
    text = keyboard.choose(Purpose::Text, &text, index);
    assert_eq!(text, "退役");
    for c in "junren".chars() {
        text = keyboard.press(Purpose::Text, &text, &c.to_string());
    }
    text = keyboard.press(Purpose::Text, &text, "space");
    assert_eq!(text, "退役军人");

    keyboard.set_mode(KeyboardMode::Handwriting);
    let (_, strokes) = characters().into_iter().find(|(c, _)| *c == "人").unwrap();
    for stroke in strokes {
        let points = stroke.points();
        keyboard.pen_down(points[0].x, points[0].y);
        for p in &points[1..] {
            keyboard.pen_move(p.x, p.y);
        }
        keyboard.pen_up();
    }
    let view = keyboard.view();
    assert!(view.ink_path.starts_with('M'), "{}", view.ink_path);
    let index = view.candidates.iter().position(|c| c == "人").unwrap();
    text = keyboard.choose(Purpose::Text, &text, index);
    assert_eq!(text, "退役军人人");
    text = keyboard.press(Purpose::Text, &text, "backspace");
    assert_eq!(text, "退役军人");
}

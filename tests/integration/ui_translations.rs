//! Translations of the Slint UI: every string shown to people is written
//! with `@tr()` (so the gettext catalogue can carry it), the catalogue
//! template is in step with the sources, and the bundled English catalogue
//! switches the window's language at run time.

use std::path::{Path, PathBuf};

use expect_test::expect;

/// Properties whose value is read or shown to people.
const TEXT_PROPERTIES: &[&str] = &[
    "text",
    "title",
    "subtitle",
    "message",
    "hint",
    "label",
    "name",
    "detail",
    "unit",
    "extra-name",
    "accessible-label",
    "accessible-description",
    "accessible-placeholder-text",
];

/// Literals in those properties that are not language: each with why.
const NOT_LANGUAGE: &[(&str, &str)] = &[
    // Letter keys show the letter itself; upper case is the same key.
    ("X", "the check character of an ID number, on the digit pad"),
];

fn ui_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("ui")
}

fn slint_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            slint_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "slint") {
            out.push(path);
        }
    }
}

/// The source without comments; string literals are kept as they are and
/// line breaks stay where they were (for line numbers).
fn strip_comments(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    let mut chars = source.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                out.push(c);
                while let Some(c) = chars.next() {
                    out.push(c);
                    match c {
                        '\\' => out.extend(chars.next()),
                        '"' => break,
                        _ => {}
                    }
                }
            }
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut last = ' ';
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                    }
                    if last == '*' && c == '/' {
                        break;
                    }
                    last = c;
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// One string literal of an expression: whether it is an argument of
/// `@tr(...)`, and whether it is compared (`panel == "pin"`) rather than
/// shown.
#[derive(Debug, PartialEq)]
struct Literal {
    text: String,
    in_tr: bool,
    compared: bool,
}

/// The string literals of `expression`. Braces of a `{}` placeholder are
/// inside literals and do not count.
fn literals(expression: &str) -> Vec<Literal> {
    let mut out = Vec::new();
    // Paren depth at which each open @tr( started.
    let mut tr_depths: Vec<usize> = Vec::new();
    let mut depth = 0usize;
    let mut chars = expression.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => {
                let mut text = String::new();
                let mut end = expression.len();
                while let Some((j, c)) = chars.next() {
                    match c {
                        '\\' => {
                            if let Some((_, escaped)) = chars.next() {
                                text.push(escaped);
                            }
                        }
                        '"' => {
                            end = j + 1;
                            break;
                        }
                        _ => text.push(c),
                    }
                }
                let before = expression[..i].trim_end();
                let after = expression[end..].trim_start();
                let compared = ["==", "!="]
                    .iter()
                    .any(|op| before.ends_with(op) || after.starts_with(op));
                out.push(Literal {
                    text,
                    in_tr: !tr_depths.is_empty(),
                    compared,
                });
            }
            '@' if expression[i..].starts_with("@tr(") => {
                for _ in 0..3 {
                    chars.next();
                }
                depth += 1;
                tr_depths.push(depth);
            }
            '(' => depth += 1,
            ')' => {
                if tr_depths.last() == Some(&depth) {
                    tr_depths.pop();
                }
                depth = depth.saturating_sub(1);
            }
            _ => {}
        }
    }
    out
}

/// A literal is language when it holds a letter (Chinese or Latin); "★",
/// " ›" or "：" are not.
fn is_language(text: &str) -> bool {
    text.chars().any(char::is_alphabetic)
}

/// Where the binding value starting at `rest` ends: at its `;` (Some), or
/// None when it ends in `,` or a closing bracket first (a field of a struct
/// literal, i.e. preview data).
fn binding_end(rest: &str) -> Option<usize> {
    let mut depth = 0i32;
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in rest.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            _ if in_string => {}
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' if depth == 0 => return None,
            ')' | ']' | '}' => depth -= 1,
            ',' if depth == 0 => return None,
            ';' if depth == 0 => return Some(i),
            _ => {}
        }
    }
    None
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// The text-property bindings of `source` (comments stripped): property
/// name, byte offset of the value, the value.
fn text_bindings(source: &str) -> Vec<(&str, usize, &str)> {
    let mut found = Vec::new();
    let mut in_string = false;
    let mut escaped = false;
    let mut word_start: Option<usize> = None;
    for (i, c) in source.char_indices() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        if is_ident_char(c) {
            word_start.get_or_insert(i);
            continue;
        }
        let Some(start) = word_start.take() else {
            in_string = c == '"';
            continue;
        };
        in_string = c == '"';
        let word = &source[start..i];
        let after = &source[i..];
        let trimmed_after = after.trim_start();
        if !TEXT_PROPERTIES.contains(&word)
            || !trimmed_after.starts_with(':')
            || trimmed_after.starts_with(":=")
        {
            continue;
        }
        let before = source[..start].trim_end();
        let binding = match before.chars().last() {
            None | Some('{' | ';' | '}') => true,
            // A private `property <string> name: …` the component shows;
            // `in`/`out` declarations only give preview data, which the
            // Rust side replaces.
            Some('>') => {
                let line = before.rsplit('\n').next().unwrap_or("").trim_start();
                line.starts_with("property <")
            }
            _ => false,
        };
        if !binding {
            continue;
        }
        let value_start = i + (after.len() - trimmed_after.len()) + 1;
        if let Some(end) = binding_end(&source[value_start..]) {
            found.push((word, value_start, &source[value_start..value_start + end]));
        }
    }
    found
}

/// Shown text not wrapped in @tr: "file:line: property: literal".
fn untranslated(path: &Path, source: &str) -> Vec<String> {
    let name = path.strip_prefix(ui_dir()).unwrap_or(path).display();
    let source = strip_comments(source);
    let mut found = Vec::new();
    for (property, offset, value) in text_bindings(&source) {
        let line_number = source[..offset].matches('\n').count() + 1;
        for literal in literals(value) {
            let allowed = NOT_LANGUAGE.iter().any(|(t, _)| *t == literal.text);
            if !literal.in_tr && !literal.compared && is_language(&literal.text) && !allowed {
                found.push(format!(
                    "{name}:{line_number}: {property}: {:?}",
                    literal.text
                ));
            }
        }
    }
    found
}

#[test]
fn the_scanner_finds_what_it_should() {
    let check = |source: &str, expected: expect_test::Expect| {
        let found = untranslated(Path::new("t.slint"), source);
        expected.assert_debug_eq(&found);
    };
    check(
        r#"
        Text { text: "开始"; }
        Text { text: @tr("开始"); }
        Text { text: @tr("第 {} 步，共 {} 步", a, f("x")) + " ›"; }
        BarButton {
            text: root.upper ? "小写"
                : @tr("大写");
            // text: "a comment";
            label: "★";
        }
        in property <string> title: "preview data, set by Rust";
        in property <[Row]> rows: [{ label: "preview", number: 1 }, { label: "data" }];
        property <string> extra-name: extra == "-" ? "短横线" : "X";
        Text { text: key == "确定" ? @tr("确定") : "Cancel"; }
        Text { text: StaffView.panel != "pin" ? "" : @tr("工作人员"); }
        "#,
        expect![[r#"
            [
                "t.slint:2: text: \"开始\"",
                "t.slint:6: text: \"小写\"",
                "t.slint:13: extra-name: \"短横线\"",
                "t.slint:14: text: \"Cancel\"",
            ]
        "#]],
    );
}

#[test]
fn every_string_shown_to_people_is_translatable() {
    let mut files = Vec::new();
    slint_files(&ui_dir(), &mut files);
    assert!(files.len() >= 15, "only {} .slint files found", files.len());
    let found: Vec<String> = files
        .iter()
        .flat_map(|path| untranslated(path, &std::fs::read_to_string(path).unwrap()))
        .collect();
    assert!(
        found.is_empty(),
        "wrap these in @tr(...):\n{}",
        found.join("\n")
    );
}

/// The msgids of the `@tr(...)` calls in `source` (comments stripped).
fn tr_msgids(source: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in source.char_indices() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '@' if source[i..].starts_with("@tr(") => {
                let args = source[i + 4..].trim_start();
                assert!(
                    args.starts_with('"'),
                    "@tr without a literal message: {:?}",
                    &args[..args.len().min(40)]
                );
                let message = literals(args).into_iter().next().map(|l| l.text);
                let closing = args[1..].find('"').map_or(0, |q| q + 2);
                assert!(
                    !args[closing..].trim_start().starts_with("=>"),
                    "@tr with a context is not supported by the catalogue tests"
                );
                out.extend(message);
            }
            _ => {}
        }
    }
    out
}

/// One entry of a gettext catalogue.
#[derive(Debug)]
struct PoEntry {
    msgid: String,
    msgstr: String,
}

/// The live entries of a .po/.pot file (not the header, not obsolete `#~`).
fn read_po(path: &Path) -> Vec<PoEntry> {
    fn unquote(line: &str) -> String {
        let inner = line
            .trim()
            .strip_prefix('"')
            .and_then(|l| l.strip_suffix('"'))
            .unwrap_or_else(|| panic!("not a quoted string: {line:?}"));
        let mut out = String::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            match (c, c == '\\') {
                (_, true) => match chars.next() {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some(other) => out.push(other),
                    None => {}
                },
                (c, false) => out.push(c),
            }
        }
        out
    }
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut entries = Vec::new();
    let (mut msgid, mut msgstr) = (None::<String>, None::<String>);
    let mut in_msgstr = false;
    let mut flush = |msgid: &mut Option<String>, msgstr: &mut Option<String>| {
        if let (Some(id), Some(s)) = (msgid.take(), msgstr.take()) {
            if !id.is_empty() {
                entries.push(PoEntry {
                    msgid: id,
                    msgstr: s,
                });
            }
        }
    };
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("msgid ") {
            flush(&mut msgid, &mut msgstr);
            msgid = Some(unquote(rest));
            in_msgstr = false;
        } else if let Some(rest) = line.strip_prefix("msgstr ") {
            msgstr = Some(unquote(rest));
            in_msgstr = true;
        } else if line.starts_with('"') {
            let more = unquote(line);
            let target = if in_msgstr { &mut msgstr } else { &mut msgid };
            if let Some(t) = target.as_mut() {
                t.push_str(&more);
            }
        } else {
            assert!(
                line.is_empty() || line.starts_with('#'),
                "{}: unexpected line {line:?}",
                path.display()
            );
        }
    }
    flush(&mut msgid, &mut msgstr);
    entries
}

fn translations_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("translations")
}

fn msgids_of(files: &[PathBuf]) -> std::collections::BTreeSet<String> {
    files
        .iter()
        .flat_map(|path| tr_msgids(&strip_comments(&std::fs::read_to_string(path).unwrap())))
        .collect()
}

#[test]
fn msgids_are_read_from_tr_calls() {
    let found = tr_msgids(
        r#"text: @tr("开始"); label: "@tr(\"not a call\")"; x: @tr("第 {} 步", n) + @tr( "下一步" );"#,
    );
    assert_eq!(found, ["开始", "第 {} 步", "下一步"]);
}

#[test]
fn the_template_lists_exactly_the_strings_of_the_ui() {
    let mut files = Vec::new();
    slint_files(&ui_dir(), &mut files);
    let in_ui = msgids_of(&files);
    assert!(in_ui.len() > 100, "only {} strings found", in_ui.len());
    let template: std::collections::BTreeSet<String> =
        read_po(&translations_dir().join("veteran-kiosk.pot"))
            .into_iter()
            .map(|e| e.msgid)
            .collect();
    let missing: Vec<_> = in_ui.difference(&template).collect();
    let stale: Vec<_> = template.difference(&in_ui).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "run scripts/update-translations.sh; not in the template: {missing:?}; no longer in the UI: {stale:?}"
    );
}

#[test]
fn the_english_catalogue_covers_the_first_screens_and_keeps_placeholders() {
    let english = read_po(&translations_dir().join("en/LC_MESSAGES/veteran-kiosk.po"));
    let translated: std::collections::BTreeMap<&str, &str> = english
        .iter()
        .filter(|e| !e.msgstr.is_empty())
        .map(|e| (e.msgid.as_str(), e.msgstr.as_str()))
        .collect();
    // Attract, card, the frame (top bar, Back/Next, dialogs, help) and the
    // controls.
    let first_screens: Vec<PathBuf> = [
        "app.slint",
        "views/help.slint",
        "views/attract.slint",
        "views/insert_card.slint",
        "widgets/controls.slint",
    ]
    .iter()
    .map(|f| ui_dir().join(f))
    .collect();
    let untranslated: Vec<String> = msgids_of(&first_screens)
        .into_iter()
        .filter(|id| !translated.contains_key(id.as_str()))
        .collect();
    assert!(untranslated.is_empty(), "no English for {untranslated:?}");
    for (id, text) in &translated {
        assert_eq!(
            id.matches("{}").count(),
            text.matches("{}").count(),
            "placeholders differ: {id:?} → {text:?}"
        );
        assert!(
            !text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
                || text.contains("长期")
                || text.contains("汉"),
            "Chinese left in the English text {text:?}"
        );
    }
}

#[test]
fn english_is_chosen_at_run_time_and_chinese_comes_back() {
    use i_slint_backend_testing::{ElementHandle, TestingBackend, TestingBackendOptions};
    use slint::ComponentHandle;
    use veteran_kiosk::ui::{select_language, AppWindow, Nav, Screen};

    slint::platform::set_platform(Box::new(TestingBackend::new(TestingBackendOptions {
        mock_time: true,
        threading: false,
        renderer_name: Some("software".into()),
    })))
    .expect("one platform per test thread");
    let ui = AppWindow::new().unwrap();
    ui.window().set_size(slint::PhysicalSize::new(1920, 1080));
    ui.show().unwrap();
    let shown = |label: &str| ElementHandle::find_by_accessible_label(&ui, label).count();

    assert_eq!(shown("开始登记"), 1);
    select_language("en").unwrap();
    assert_eq!(
        shown("Start registration"),
        1,
        "the attract page in English"
    );
    assert_eq!(shown("开始登记"), 0);
    assert_eq!(shown("Large text"), 1, "the top bar in English");
    ui.global::<Nav>().set_screen(Screen::InsertCard);
    ui.global::<Nav>().set_can_back(true);
    i_slint_backend_testing::mock_elapsed_time(std::time::Duration::from_millis(100));
    assert_eq!(shown("Please place your ID card on the reader"), 1);
    assert_eq!(shown("Back"), 1, "Back/Next in English");
    save_screenshot(&ui, "02b-insert-card-english");

    let unknown = select_language("fr").unwrap_err();
    assert_eq!(unknown.code(), "language_not_bundled");
    assert!(
        matches!(&unknown, veteran_kiosk::ui::language::LanguageError::NotBundled { available, .. } if available.contains(&"en".to_string())),
        "{unknown:?}"
    );
    assert_eq!(shown("Back"), 1, "an unknown language changes nothing");

    select_language("zh_CN").unwrap();
    assert_eq!(shown("请将身份证放在读卡区"), 1);
    assert_eq!(shown("上一步"), 1);
    assert_eq!(shown("Back"), 0);
}

/// Keeps a picture of the window in docs/screenshots/ (only when it changed).
fn save_screenshot(ui: &veteran_kiosk::ui::AppWindow, name: &str) {
    use slint::ComponentHandle;
    let shot = ui
        .window()
        .take_snapshot()
        .expect("software renderer snapshot");
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, shot.width(), shot.height());
        encoder.set_color(png::ColorType::Rgba);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().unwrap();
        writer.write_image_data(shot.as_bytes()).unwrap();
    }
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("docs/screenshots")
        .join(format!("{name}.png"));
    if std::fs::read(&path).ok().as_deref() != Some(&bytes[..]) {
        std::fs::write(&path, &bytes).unwrap();
    }
}

//! One thing wrong with an input, in the shape every checker reports it.

use std::fmt;
use std::ops::Deref;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A problem found in some input: a stable machine `code`, the `field` it
/// concerns (a path such as `identity.id_number`), a message in plain
/// Chinese for the person at the kiosk, and how much it weighs.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<FieldPath>,
    pub message: String,
    /// Absent in JSON written before severities existed, and for an error:
    /// such a problem is an error, so old JSON reads as it meant.
    #[serde(default, skip_serializing_if = "Severity::is_error")]
    pub severity: Severity,
}

/// How much a [`Problem`] weighs. Only an error blocks signing; the others
/// are shown to staff and travel in the record to the county.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The plan forbids it or the record contradicts itself: fix before signing.
    #[default]
    Error,
    /// Probably wrong, but the person may be right: staff look at it.
    Warning,
    /// A rule of thumb that is not in the plan: a hint for staff.
    Advice,
    /// A rule of the plan that the remembered dates cannot decide: staff
    /// or the county check it against the certificates (待核实).
    NeedsChecking,
}

impl Severity {
    pub fn is_error(&self) -> bool {
        *self == Severity::Error
    }

    /// A short tag for staff and the county.
    pub fn as_zh(self) -> &'static str {
        match self {
            Severity::Error => "须修改",
            Severity::Warning => "请核对",
            Severity::Advice => "提示",
            Severity::NeedsChecking => "待核实",
        }
    }
}

/// Debug-prints an error as it did before severities existed (logs and
/// snapshots read the same); any other severity is shown.
impl fmt::Debug for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("Problem");
        out.field("code", &self.code)
            .field("field", &self.field)
            .field("message", &self.message);
        if !self.severity.is_error() {
            out.field("severity", &self.severity);
        }
        out.finish()
    }
}

impl Problem {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            code: code.into(),
            field: None,
            message: message.into(),
            severity: Severity::Error,
        }
    }

    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    /// Whether this problem stops the record from being signed.
    pub fn blocks(&self) -> bool {
        self.severity.is_error()
    }

    pub fn at(mut self, field: impl Into<FieldPath>) -> Self {
        self.field = Some(field.into());
        self
    }
}

/// Where in a record something is: dotted names with optional indices,
/// e.g. `categories[0].enlisted_on` or `documents[1].photo.sha256`.
///
/// Parsed once when made; it reads and serialises as the same text. Any
/// text is a path, so a path sent by the county always loads: a part that
/// is not `name` or `name[n]` keeps the text before `[` as its name and has
/// no index.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct FieldPath {
    text: String,
    parts: Vec<PathPart>,
}

/// One dotted part of a [`FieldPath`]: `categories[0]` is the name
/// `categories` with the index 0.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PathPart {
    pub name: String,
    pub index: Option<usize>,
}

impl FieldPath {
    pub fn parse(text: &str) -> FieldPath {
        let parts = text
            .split('.')
            .map(|part| match part.split_once('[') {
                Some((name, rest)) => PathPart {
                    name: name.to_string(),
                    index: rest.strip_suffix(']').and_then(|n| n.parse().ok()),
                },
                None => PathPart {
                    name: part.to_string(),
                    index: None,
                },
            })
            .collect();
        FieldPath {
            text: text.to_string(),
            parts,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn parts(&self) -> &[PathPart] {
        &self.parts
    }

    /// The first part's name: the section of the record (`identity`,
    /// `categories`, …).
    pub fn section(&self) -> &str {
        self.parts.first().map_or("", |part| part.name.as_str())
    }

    /// The index of the first part, as in `categories[2]`.
    pub fn section_index(&self) -> Option<usize> {
        self.parts.first().and_then(|part| part.index)
    }

    /// The name of the second part, as `portrait` in `photos.portrait`.
    pub fn subfield(&self) -> Option<&str> {
        self.parts.get(1).map(|part| part.name.as_str())
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Debug-prints as its text, as the `String` it replaced did, so logs and
/// snapshots of problems read the same.
impl fmt::Debug for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.text, f)
    }
}

/// A path reads as its text, so `problem.field.as_deref() == Some("…")`
/// compares paths with text.
impl Deref for FieldPath {
    type Target = str;

    fn deref(&self) -> &str {
        &self.text
    }
}

impl From<&str> for FieldPath {
    fn from(text: &str) -> FieldPath {
        FieldPath::parse(text)
    }
}

impl From<&String> for FieldPath {
    fn from(text: &String) -> FieldPath {
        FieldPath::parse(text)
    }
}

impl From<String> for FieldPath {
    fn from(text: String) -> FieldPath {
        FieldPath::parse(&text)
    }
}

impl From<FieldPath> for String {
    fn from(path: FieldPath) -> String {
        path.text
    }
}

impl Serialize for FieldPath {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for FieldPath {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<FieldPath, D::Error> {
        String::deserialize(deserializer).map(FieldPath::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_is_parsed_into_parts_and_keeps_its_text() {
        let path = FieldPath::parse("categories[2].enlisted_on");
        assert_eq!(path.section(), "categories");
        assert_eq!(path.section_index(), Some(2));
        assert_eq!(path.subfield(), Some("enlisted_on"));
        assert_eq!(path.to_string(), "categories[2].enlisted_on");
        let odd = FieldPath::parse("categories[x]");
        assert_eq!((odd.section(), odd.section_index()), ("categories", None));
        assert_eq!(FieldPath::parse("").section(), "");
    }

    #[test]
    fn a_problem_serialises_its_path_as_the_same_text() {
        let problem = Problem::new("missing", "请填写入伍时间").at("categories[0].enlisted_on");
        let json = serde_json::to_string(&problem).unwrap();
        assert_eq!(
            json,
            r#"{"code":"missing","field":"categories[0].enlisted_on","message":"请填写入伍时间"}"#
        );
        let back: Problem = serde_json::from_str(&json).unwrap();
        assert_eq!(back, problem);
        assert_eq!(back.field.as_deref(), Some("categories[0].enlisted_on"));
        assert!(format!("{back:?}").contains(r#"field: Some("categories[0].enlisted_on")"#));
    }

    #[test]
    fn a_problem_without_severity_is_an_error_and_others_say_theirs() {
        let old: Problem = serde_json::from_str(r#"{"code":"x","message":"m"}"#).unwrap();
        assert_eq!(old.severity, Severity::Error);
        assert!(old.blocks());
        let check = Problem::new("undecided", "待核实").with_severity(Severity::NeedsChecking);
        let json = serde_json::to_string(&check).unwrap();
        assert_eq!(
            json,
            r#"{"code":"undecided","message":"待核实","severity":"needs_checking"}"#
        );
        assert_eq!(serde_json::from_str::<Problem>(&json).unwrap(), check);
        assert!(!check.blocks());
    }

    proptest::proptest! {
        #[test]
        fn any_text_round_trips(text in ".{0,40}") {
            let path = FieldPath::parse(&text);
            proptest::prop_assert_eq!(path.as_str(), text.as_str());
            let json = serde_json::to_string(&path).unwrap();
            let back: FieldPath = serde_json::from_str(&json).unwrap();
            proptest::prop_assert_eq!(back, path);
        }
    }
}

//! One TOML file, parsed once with spans, so that every later mistake (from
//! serde or from our own checks) can name its line, column and key.

use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

use trust::files::read_limited;

use super::error::{ConfigError, ConfigErrorKind};

/// A configuration file bigger than this is surely not one.
pub const MAX_TOML_BYTES: usize = 1024 * 1024;

pub(crate) struct TomlSource {
    pub path: PathBuf,
    text: String,
}

impl TomlSource {
    /// Read `path`; a missing or unreadable file is a [`ConfigErrorKind::MissingFile`].
    pub fn read(path: &Path) -> Result<TomlSource, ConfigError> {
        let bytes = read_limited(path, MAX_TOML_BYTES as u64).map_err(|err| {
            ConfigError::new(
                ConfigErrorKind::MissingFile,
                path,
                format!("cannot read: {err}"),
            )
        })?;
        let text = String::from_utf8(bytes).map_err(|err| {
            let at = err.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(err.as_bytes()).into_owned();
            let source = TomlSource {
                path: path.to_path_buf(),
                text,
            };
            source.error_at(
                ConfigErrorKind::Syntax,
                at..at + 1,
                "the file is not UTF-8 text".to_string(),
            )
        })?;
        Ok(TomlSource {
            path: path.to_path_buf(),
            text,
        })
    }

    #[cfg(test)]
    pub fn from_text(path: &str, text: &str) -> TomlSource {
        TomlSource {
            path: PathBuf::from(path),
            text: text.to_string(),
        }
    }

    /// Parse and deserialize into `T`; serde's complaints keep their span.
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, ConfigError> {
        let root = DeTable::parse(&self.text).map_err(|err| self.toml_error(&err))?;
        T::deserialize(toml::de::Deserializer::from(root)).map_err(|err| self.toml_error(&err))
    }

    /// An error at `span`, with line, column and key path filled in.
    pub fn error_at(
        &self,
        kind: ConfigErrorKind,
        span: Range<usize>,
        detail: String,
    ) -> ConfigError {
        let (line, column) = line_column(&self.text, span.start);
        ConfigError {
            kind,
            file: self.path.clone(),
            line: Some(line),
            column: Some(column),
            key: self.key_at(span.start),
            detail,
        }
    }

    /// An error about the value of `spanned`.
    pub fn error_on<T>(
        &self,
        kind: ConfigErrorKind,
        spanned: &Spanned<T>,
        detail: String,
    ) -> ConfigError {
        self.error_at(kind, spanned.span(), detail)
    }

    fn toml_error(&self, err: &toml::de::Error) -> ConfigError {
        let message = err.message().trim().to_string();
        let kind = classify(&message);
        match err.span() {
            Some(span) => self.error_at(kind, span, message),
            None => ConfigError::new(kind, &self.path, message),
        }
    }

    /// The most specific key whose name or value covers `offset`.
    fn key_at(&self, offset: usize) -> Option<String> {
        let root = DeTable::parse(&self.text).ok()?;
        let mut best: Option<(usize, Vec<String>)> = None;
        let mut path = Vec::new();
        visit_table(root.get_ref(), offset, &mut path, &mut best);
        best.map(|(_, path)| path.join("."))
    }
}

fn classify(message: &str) -> ConfigErrorKind {
    if message.starts_with("unknown field") {
        ConfigErrorKind::UnknownKey
    } else if message.starts_with("missing field") {
        ConfigErrorKind::MissingKey
    } else if message.starts_with("invalid") || message.starts_with("unknown variant") {
        ConfigErrorKind::InvalidValue
    } else {
        ConfigErrorKind::Syntax
    }
}

fn covers(span: &Range<usize>, offset: usize) -> bool {
    span.start <= offset && (offset < span.end || span.start == span.end)
}

fn consider(best: &mut Option<(usize, Vec<String>)>, width: usize, path: &[String]) {
    let better = match best {
        None => true,
        // Narrower wins; at equal width the deeper path is more precise.
        Some((best_width, best_path)) => {
            width < *best_width || (width == *best_width && path.len() > best_path.len())
        }
    };
    if better {
        *best = Some((width, path.to_vec()));
    }
}

fn visit_table(
    table: &DeTable<'_>,
    offset: usize,
    path: &mut Vec<String>,
    best: &mut Option<(usize, Vec<String>)>,
) {
    for (key, value) in table.iter() {
        path.push(key.get_ref().to_string());
        for span in [key.span(), value.span()] {
            if covers(&span, offset) {
                consider(best, span.len(), path);
            }
        }
        visit_value(value.get_ref(), offset, path, best);
        path.pop();
    }
}

fn visit_value(
    value: &DeValue<'_>,
    offset: usize,
    path: &mut Vec<String>,
    best: &mut Option<(usize, Vec<String>)>,
) {
    match value {
        DeValue::Table(table) => visit_table(table, offset, path, best),
        DeValue::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                let Some(last) = path.last_mut() else { return };
                let plain = last.clone();
                *last = format!("{plain}[{index}]");
                let span = item.span();
                if covers(&span, offset) {
                    consider(best, span.len(), path);
                }
                visit_value(item.get_ref(), offset, path, best);
                if let Some(last) = path.last_mut() {
                    *last = plain;
                }
            }
        }
        _ => {}
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = text[line_start..offset].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters() {
        let text = "a = 1\n名字 = \"x\"\n";
        let at = text.find('=').unwrap();
        assert_eq!(line_column(text, at), (1, 3));
        let at = text.rfind('=').unwrap();
        assert_eq!(line_column(text, at), (2, 4));
        assert_eq!(line_column(text, 10_000), (3, 1));
    }

    #[test]
    fn key_paths_reach_into_tables_and_arrays() {
        let text = "[a]\nb = 1\n[[c.d]]\ne = 2\n[[c.d]]\ne = 3\n";
        let source = TomlSource::from_text("t.toml", text);
        let at = text.rfind("3").unwrap();
        assert_eq!(source.key_at(at).as_deref(), Some("c.d[1].e"));
        let at = text.find("1").unwrap();
        assert_eq!(source.key_at(at).as_deref(), Some("a.b"));
    }
}

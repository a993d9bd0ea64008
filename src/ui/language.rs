//! The language of the window.
//!
//! Every string in `ui/` is written in Chinese with `@tr()`; other languages
//! come from the gettext catalogues bundled at build time
//! (`translations/<lang>/LC_MESSAGES/veteran-kiosk.po`, see docs/ui.md).
//! Strings that the Rust side puts into the views (step names, form labels
//! from `core::forms`, the session's messages) stay Chinese.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LanguageError {
    #[error("no bundled catalogue for language {requested:?} (bundled: {available:?})")]
    NotBundled {
        requested: String,
        available: Vec<String>,
    },
    /// Called before the window was created, or a build without catalogues.
    #[error("the UI has no bundled translations (is the window created?)")]
    NoTranslations,
}

impl LanguageError {
    pub fn code(&self) -> &'static str {
        match self {
            LanguageError::NotBundled { .. } => "language_not_bundled",
            LanguageError::NoTranslations => "language_no_translations",
        }
    }

    pub fn message_zh(&self) -> String {
        match self {
            LanguageError::NotBundled { .. } => "暂不支持这种语言，仍使用中文".to_string(),
            LanguageError::NoTranslations => "界面语言暂时不能切换，仍使用中文".to_string(),
        }
    }
}

/// Whether `language` (a locale such as `zh`, `zh_CN`, `zh-Hans-CN`, or
/// empty) means the source language, Chinese.
pub fn is_source_language(language: &str) -> bool {
    let language = language.trim();
    let base = language
        .split(['_', '-', '.', '@'])
        .next()
        .unwrap_or_default();
    language.is_empty() || base.eq_ignore_ascii_case("zh")
}

/// Shows every window of this thread in `language`: a bundled catalogue's
/// name (`en`), or Chinese (`zh`, `zh_CN`, empty). Call it after the window
/// is created. Unknown languages leave the window as it was.
pub fn select_language(language: &str) -> Result<(), LanguageError> {
    let code = if is_source_language(language) {
        ""
    } else {
        language.trim()
    };
    slint::select_bundled_translation(code).map_err(|err| match err {
        slint::SelectBundledTranslationError::LanguageNotFound {
            available_languages,
        } => LanguageError::NotBundled {
            requested: language.to_string(),
            available: available_languages
                .iter()
                .filter(|l| !l.is_empty())
                .map(|l| l.to_string())
                .collect(),
        },
        slint::SelectBundledTranslationError::NoTranslationsBundled => {
            LanguageError::NoTranslations
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_locales_mean_the_source_language() {
        let table = [
            ("", true),
            ("  ", true),
            ("zh", true),
            ("zh_CN", true),
            ("zh-Hans-CN", true),
            ("ZH_cn.UTF-8", true),
            ("en", false),
            ("en_US", false),
            ("ug", false),
            ("bo_CN", false),
            ("zha", false),
        ];
        for (language, source) in table {
            assert_eq!(is_source_language(language), source, "{language:?}");
        }
    }
}

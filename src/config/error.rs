//! What can be wrong with a configuration, said so that the person fixing
//! it can go straight to the file, the line and the key.

use std::fmt;
use std::path::PathBuf;

use thiserror::Error;

/// The kind of mistake; each has a stable code for logs and the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConfigErrorKind {
    /// A file the configuration needs is missing or cannot be read.
    MissingFile,
    /// The file is not TOML (or not UTF-8).
    Syntax,
    /// A key this version of the kiosk does not know (often a typo).
    UnknownKey,
    /// A key that must be there is not.
    MissingKey,
    /// A number outside the range the kiosk accepts.
    OutOfRange,
    /// A value of the wrong shape (bad URL, bad code, bad text…).
    InvalidValue,
    /// A certificate file that holds no usable certificate.
    BadCertificate,
    /// A private key file that holds no usable key.
    BadPrivateKey,
    /// The private key does not belong to the certificate.
    KeyMismatch,
    /// The certificate's common name is not this kiosk's id.
    CertificateNotForKiosk,
}

impl ConfigErrorKind {
    pub fn code(self) -> &'static str {
        match self {
            ConfigErrorKind::MissingFile => "config_missing_file",
            ConfigErrorKind::Syntax => "config_syntax",
            ConfigErrorKind::UnknownKey => "config_unknown_key",
            ConfigErrorKind::MissingKey => "config_missing_key",
            ConfigErrorKind::OutOfRange => "config_out_of_range",
            ConfigErrorKind::InvalidValue => "config_invalid_value",
            ConfigErrorKind::BadCertificate => "config_bad_certificate",
            ConfigErrorKind::BadPrivateKey => "config_bad_private_key",
            ConfigErrorKind::KeyMismatch => "config_key_mismatch",
            ConfigErrorKind::CertificateNotForKiosk => "config_certificate_not_for_kiosk",
        }
    }
}

/// A configuration that cannot be used, with where and why.
///
/// `Display` gives `file:line:column: key: detail`, the shape editors and
/// terminals link to.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub struct ConfigError {
    pub kind: ConfigErrorKind,
    /// The TOML file in which the mistake is (for a missing certificate:
    /// the TOML file that names it).
    pub file: PathBuf,
    /// 1-based line and column, when the mistake has a place in the file.
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// Dotted key path such as `session.wipe_warning_seconds`.
    pub key: Option<String>,
    /// English detail for logs and administrators.
    pub detail: String,
}

impl ConfigError {
    pub(crate) fn new(kind: ConfigErrorKind, file: impl Into<PathBuf>, detail: String) -> Self {
        ConfigError {
            kind,
            file: file.into(),
            line: None,
            column: None,
            key: None,
            detail,
        }
    }

    pub fn code(&self) -> &'static str {
        self.kind.code()
    }

    /// For the staff screen: the kiosk cannot fix this itself, so the
    /// message says whom to call and carries the place for them.
    pub fn message_zh(&self) -> String {
        let place = match (self.line, &self.key) {
            (Some(line), Some(key)) => format!("（{} 第{line}行 {key}）", self.file.display()),
            (Some(line), None) => format!("（{} 第{line}行）", self.file.display()),
            (None, Some(key)) => format!("（{} {key}）", self.file.display()),
            (None, None) => format!("（{}）", self.file.display()),
        };
        let what = match self.kind {
            ConfigErrorKind::MissingFile => "缺少配置文件",
            ConfigErrorKind::Syntax => "配置文件格式有误",
            ConfigErrorKind::UnknownKey => "配置文件中有无法识别的设置项",
            ConfigErrorKind::MissingKey => "配置文件缺少必填的设置项",
            ConfigErrorKind::OutOfRange => "配置文件中的数值超出允许范围",
            ConfigErrorKind::InvalidValue => "配置文件中的设置值无效",
            ConfigErrorKind::BadCertificate => "证书文件无效",
            ConfigErrorKind::BadPrivateKey => "私钥文件无效",
            ConfigErrorKind::KeyMismatch => "私钥与证书不匹配",
            ConfigErrorKind::CertificateNotForKiosk => "证书不是发给本机的（采集点编号不符）",
        };
        format!("{what}{place}，请联系县级管理员")
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        write!(f, ": ")?;
        if let Some(key) = &self.key {
            write!(f, "{key}: ")?;
        }
        write!(f, "{}", self.detail)
    }
}

//! Signed configuration bundles.
//!
//! A bundle is one JSON file: the version, the target, every file of a
//! configuration directory, the signer's public key and an Ed25519
//! signature. What is signed is not the JSON (whose spelling may vary) but
//! a canonical manifest built from the content:
//!
//! ```text
//! veteran-kiosk config bundle 1
//! version 7
//! target township:430121001
//! file kiosk.toml 2345 <sha256 hex>
//! file tls/county-ca.pem 612 <sha256 hex>
//! ```
//!
//! Files are sorted by path (bytewise), paths are plain relative names. The
//! SHA-256 of this manifest is *the* hash of the bundle: `config sign` and
//! `config verify` print it, `config show` and the staff screen show it.
//!
//! Parsing ([`Bundle::parse`]) checks shape, paths and sizes only; trust
//! comes from [`Bundle::check_signature`] against the pinned keys.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ed25519_dalek::Signature;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use kiosk_core::kiosk::{parse_township_code, KioskId, KioskIdentity};

use crate::keys::{AdminPublicKey, AdminSigningKey};
use crate::{files::read_limited, sha256_hex};

/// The main file of a configuration directory: every bundle carries one.
pub const CONFIG_FILE: &str = "kiosk.toml";

const FORMAT: &str = "veteran-kiosk-config-bundle/1";
const MANIFEST_HEADER: &str = "veteran-kiosk config bundle 1";

/// Bounds that keep a hostile bundle from exhausting the kiosk.
pub const MAX_BUNDLE_BYTES: usize = 16 * 1024 * 1024;
pub const MAX_FILES: usize = 64;
pub const MAX_CONTENT_BYTES: usize = 8 * 1024 * 1024;
const MAX_PATH_LEN: usize = 160;
const MAX_PATH_DEPTH: usize = 4;

/// Which kiosks a bundle is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    All,
    /// Every kiosk of one township (nine-digit code).
    Township(String),
    Kiosk(KioskId),
}

impl Target {
    pub fn includes(&self, kiosk: &KioskIdentity) -> bool {
        match self {
            Target::All => true,
            Target::Township(code) => *code == kiosk.township.code,
            Target::Kiosk(id) => *id == kiosk.id,
        }
    }
}

impl FromStr for Target {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text == "all" {
            return Ok(Target::All);
        }
        if let Some(code) = text.strip_prefix("township:") {
            return parse_township_code(code).map(Target::Township);
        }
        if let Some(id) = text.strip_prefix("kiosk:") {
            return KioskId::parse(id).map(Target::Kiosk);
        }
        Err(format!(
            "`{text}`: a target is `all`, `township:<nine-digit code>` or `kiosk:<id>`"
        ))
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::All => f.write_str("all"),
            Target::Township(code) => write!(f, "township:{code}"),
            Target::Kiosk(id) => write!(f, "kiosk:{id}"),
        }
    }
}

/// A relative path inside a configuration directory: `/`-separated parts
/// of letters, digits, `.`, `_` and `-`, none starting with `.`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BundlePath(String);

impl BundlePath {
    pub fn parse(text: &str) -> Result<BundlePath, BundleError> {
        let bad = || BundleError::BadPath(text.chars().take(MAX_PATH_LEN).collect());
        if text.is_empty() || text.len() > MAX_PATH_LEN {
            return Err(bad());
        }
        let parts: Vec<&str> = text.split('/').collect();
        if parts.len() > MAX_PATH_DEPTH {
            return Err(bad());
        }
        for part in parts {
            let ok = !part.is_empty()
                && !part.starts_with('.')
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
            if !ok {
                return Err(bad());
            }
        }
        Ok(BundlePath(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Where this file goes under `dir` (safe: no `..`, no absolute parts).
    pub fn under(&self, dir: &Path) -> PathBuf {
        self.0
            .split('/')
            .fold(dir.to_path_buf(), |p, part| p.join(part))
    }
}

/// A bundle whose shape is sound. Its signature is not yet trusted.
#[derive(Clone, PartialEq, Eq)]
pub struct Bundle {
    pub version: u64,
    pub target: Target,
    /// Sorted by path, no duplicates, `kiosk.toml` among them.
    pub files: BTreeMap<BundlePath, Vec<u8>>,
    pub signer: AdminPublicKey,
    signature: Signature,
}

impl fmt::Debug for Bundle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bundle")
            .field("version", &self.version)
            .field("target", &self.target)
            .field(
                "files",
                &self.files.keys().map(|p| p.as_str()).collect::<Vec<_>>(),
            )
            .field("signer", &self.signer)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BundleError {
    #[error("the bundle is larger than {MAX_BUNDLE_BYTES} bytes")]
    TooLarge,
    #[error("not a configuration bundle: {0}")]
    Malformed(String),
    #[error("`{0}` is not an allowed file name in a bundle")]
    BadPath(String),
    #[error("`{0}` appears twice in the bundle")]
    DuplicatePath(String),
    #[error("the bundle has no {CONFIG_FILE}")]
    NoConfigFile,
    #[error("the bundle holds more than {MAX_FILES} files or {MAX_CONTENT_BYTES} bytes")]
    TooMuchContent,
    #[error("version 0 is the configuration a kiosk ships with; bundles start at 1")]
    VersionZero,
    #[error("signed by {0}, which is not a pinned administrator key")]
    UnknownSigner(String),
    #[error("the signature does not match the content: the bundle was altered after signing")]
    BadSignature,
    #[error("cannot read the configuration directory: {0}")]
    Directory(String),
}

impl BundleError {
    pub fn code(&self) -> &'static str {
        match self {
            BundleError::TooLarge => "bundle_too_large",
            BundleError::Malformed(_) => "bundle_malformed",
            BundleError::BadPath(_) => "bundle_bad_path",
            BundleError::DuplicatePath(_) => "bundle_duplicate_path",
            BundleError::NoConfigFile => "bundle_no_config_file",
            BundleError::TooMuchContent => "bundle_too_much_content",
            BundleError::VersionZero => "bundle_version_zero",
            BundleError::UnknownSigner(_) => "bundle_unknown_signer",
            BundleError::BadSignature => "bundle_bad_signature",
            BundleError::Directory(_) => "bundle_directory",
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireBundle {
    format: String,
    version: u64,
    target: String,
    signer: String,
    signature: String,
    files: Vec<WireFile>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireFile {
    path: String,
    /// Base64 of the bytes.
    data: String,
}

/// The canonical text that is signed and hashed.
pub fn manifest(version: u64, target: &Target, files: &BTreeMap<BundlePath, Vec<u8>>) -> String {
    let mut text = format!("{MANIFEST_HEADER}\nversion {version}\ntarget {target}\n");
    for (path, data) in files {
        text.push_str(&format!(
            "file {} {} {}\n",
            path.as_str(),
            data.len(),
            sha256_hex(data)
        ));
    }
    text
}

fn check_content(files: &BTreeMap<BundlePath, Vec<u8>>) -> Result<(), BundleError> {
    let total: usize = files.values().map(Vec::len).sum();
    if files.len() > MAX_FILES || total > MAX_CONTENT_BYTES {
        return Err(BundleError::TooMuchContent);
    }
    let has_config = files.keys().any(|p| p.as_str() == CONFIG_FILE);
    if !has_config {
        return Err(BundleError::NoConfigFile);
    }
    Ok(())
}

impl Bundle {
    /// Sign `files` (already read from a directory, see [`read_dir`]).
    pub fn sign(
        files: BTreeMap<BundlePath, Vec<u8>>,
        version: u64,
        target: Target,
        key: &AdminSigningKey,
    ) -> Result<Bundle, BundleError> {
        if version == 0 {
            return Err(BundleError::VersionZero);
        }
        check_content(&files)?;
        let signature = key.sign(manifest(version, &target, &files).as_bytes());
        Ok(Bundle {
            version,
            target,
            files,
            signer: key.public_key(),
            signature,
        })
    }

    /// Parse the bytes of a bundle file: shape, paths and sizes.
    pub fn parse(bytes: &[u8]) -> Result<Bundle, BundleError> {
        if bytes.len() > MAX_BUNDLE_BYTES {
            return Err(BundleError::TooLarge);
        }
        let wire: WireBundle =
            serde_json::from_slice(bytes).map_err(|e| BundleError::Malformed(e.to_string()))?;
        if wire.format != FORMAT {
            return Err(BundleError::Malformed(format!(
                "format `{}`, expected `{FORMAT}`",
                wire.format
            )));
        }
        if wire.version == 0 {
            return Err(BundleError::VersionZero);
        }
        let target = wire
            .target
            .parse::<Target>()
            .map_err(BundleError::Malformed)?;
        let signer = wire
            .signer
            .parse::<AdminPublicKey>()
            .map_err(|e| BundleError::Malformed(format!("signer: {e}")))?;
        let signature = BASE64
            .decode(&wire.signature)
            .ok()
            .and_then(|bytes| <[u8; 64]>::try_from(bytes).ok())
            .map(|bytes| Signature::from_bytes(&bytes))
            .ok_or_else(|| {
                BundleError::Malformed("the signature is not 64 bytes of base64".into())
            })?;
        if wire.files.len() > MAX_FILES {
            return Err(BundleError::TooMuchContent);
        }
        let mut files = BTreeMap::new();
        for file in wire.files {
            let path = BundlePath::parse(&file.path)?;
            let data = BASE64.decode(&file.data).map_err(|_| {
                BundleError::Malformed(format!("{}: data is not base64", file.path))
            })?;
            if files.insert(path, data).is_some() {
                return Err(BundleError::DuplicatePath(file.path));
            }
        }
        check_content(&files)?;
        Ok(Bundle {
            version: wire.version,
            target,
            files,
            signer,
            signature,
        })
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let wire = WireBundle {
            format: FORMAT.to_string(),
            version: self.version,
            target: self.target.to_string(),
            signer: self.signer.to_string(),
            signature: BASE64.encode(self.signature.to_bytes()),
            files: self
                .files
                .iter()
                .map(|(path, data)| WireFile {
                    path: path.as_str().to_string(),
                    data: BASE64.encode(data),
                })
                .collect(),
        };
        // Serialising plain strings and numbers cannot fail.
        serde_json::to_vec_pretty(&wire).unwrap_or_default()
    }

    pub fn manifest(&self) -> String {
        manifest(self.version, &self.target, &self.files)
    }

    /// Hex SHA-256 of the manifest: the bundle's identity.
    pub fn sha256(&self) -> String {
        sha256_hex(self.manifest().as_bytes())
    }

    /// Trust: the signer is one of the `pinned` keys and the signature
    /// covers exactly this content, version and target.
    pub fn check_signature<'a>(
        &self,
        pinned: impl IntoIterator<Item = &'a AdminPublicKey>,
    ) -> Result<(), BundleError> {
        if !pinned.into_iter().any(|key| *key == self.signer) {
            return Err(BundleError::UnknownSigner(self.signer.to_string()));
        }
        if !self
            .signer
            .verify(self.manifest().as_bytes(), &self.signature)
        {
            return Err(BundleError::BadSignature);
        }
        Ok(())
    }

    /// The signature is valid for the signer it names (no pinning): what
    /// `config verify` without a configuration can tell.
    pub fn self_consistent(&self) -> bool {
        self.signer
            .verify(self.manifest().as_bytes(), &self.signature)
    }
}

/// Read every file under `dir` into bundle form. Anything that could not
/// travel in a bundle (a name with spaces, a symlink, a device) is an error
/// rather than silently left out.
pub fn read_dir(dir: &Path) -> Result<BTreeMap<BundlePath, Vec<u8>>, BundleError> {
    let mut files = BTreeMap::new();
    read_dir_into(dir, "", &mut files)?;
    check_content(&files)?;
    Ok(files)
}

fn read_dir_into(
    dir: &Path,
    prefix: &str,
    files: &mut BTreeMap<BundlePath, Vec<u8>>,
) -> Result<(), BundleError> {
    let io = |err: std::io::Error| BundleError::Directory(format!("{}: {err}", dir.display()));
    let mut entries = std::fs::read_dir(dir)
        .map_err(io)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(io)?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name();
        let name = name
            .to_str()
            .ok_or_else(|| BundleError::BadPath(format!("{prefix}{}", name.to_string_lossy())))?;
        let relative = format!("{prefix}{name}");
        let kind = entry.file_type().map_err(io)?;
        if kind.is_dir() {
            BundlePath::parse(&relative)?;
            read_dir_into(&entry.path(), &format!("{relative}/"), files)?;
        } else if kind.is_file() {
            let path = BundlePath::parse(&relative)?;
            if files.len() >= MAX_FILES {
                return Err(BundleError::TooMuchContent);
            }
            let data = read_limited(&entry.path(), MAX_CONTENT_BYTES as u64).map_err(io)?;
            files.insert(path, data);
        } else {
            return Err(BundleError::BadPath(relative));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(list: &[(&str, &str)]) -> BTreeMap<BundlePath, Vec<u8>> {
        list.iter()
            .map(|(p, d)| (BundlePath::parse(p).unwrap(), d.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn manifest_is_canonical() {
        let f = files(&[("tls/ca.pem", "C"), ("kiosk.toml", "a = 1\n")]);
        let target: Target = "township:430121001".parse().unwrap();
        expect_test::expect![[r#"
            veteran-kiosk config bundle 1
            version 7
            target township:430121001
            file kiosk.toml 6 cb78bd8a17f7b751fe0d4663366dcbc257204033ef7ddd64b1f2969573b5b2e2
            file tls/ca.pem 1 6b23c0d5f35d1b11f9b683f0b0a617355deb11277d91ae091d399c655b87940d
        "#]]
        .assert_eq(&manifest(7, &target, &f));
    }

    #[test]
    fn paths_must_be_plain_and_relative() {
        for ok in ["kiosk.toml", "tls/kiosk.pem", "a/b/c/d.txt", "x_y-z.1"] {
            assert!(BundlePath::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../b",
            "a//b",
            ".hidden",
            "a/.b",
            "a b",
            "a\\b",
            "a/b/c/d/e",
            "名.toml",
            "x~",
        ] {
            assert!(BundlePath::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn targets_round_trip() {
        for text in ["all", "township:430121001", "kiosk:ks-01"] {
            assert_eq!(text.parse::<Target>().unwrap().to_string(), text);
        }
        for bad in ["", "everyone", "township:12", "kiosk:", "kiosk:a b"] {
            assert!(bad.parse::<Target>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_signed_bundle_survives_its_wire_form() {
        let key = AdminSigningKey::from_seed([3; 32]);
        let bundle = Bundle::sign(files(&[("kiosk.toml", "x")]), 2, Target::All, &key).unwrap();
        let again = Bundle::parse(&bundle.to_bytes()).unwrap();
        assert_eq!(again, bundle);
        assert!(again.self_consistent());
        assert_eq!(again.sha256(), bundle.sha256());
    }

    proptest::proptest! {
        /// Whatever bytes arrive, parsing answers without panicking.
        #[test]
        fn parsing_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            let _ = Bundle::parse(&bytes);
        }
    }
}

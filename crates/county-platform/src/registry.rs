//! The platform's side of configuration bundles: keep what administrators
//! push, serve each kiosk the newest bundle addressed to it, and remember
//! what each kiosk reports having in force.
//!
//! Plain files, each written atomically, so the reference platform needs no
//! schema of its own for this:
//!
//! ```text
//! <dir>/bundles/v<version, 20 digits>.bundle   exactly the bytes pushed
//! <dir>/kiosks/<kiosk id>.json                 the kiosk's last report
//! ```
//!
//! A version is pushed once: a second bundle with the same version is a
//! conflict, so what a version means never changes under the kiosks.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use kiosk_core::kiosk::{KioskId, KioskIdentity};
use thiserror::Error;
use trust::bundle::{Bundle, BundleError, Target};
use trust::keys::AdminPublicKey;
use wire::config::{KioskConfigReport, KioskStatus, Published};

const BUNDLES: &str = "bundles";
const KIOSKS: &str = "kiosks";

#[derive(Debug, Error)]
pub enum RegistryError {
    #[error(transparent)]
    Bundle(#[from] BundleError),
    #[error("version {0} was pushed before; every push needs a new version")]
    VersionExists(u64),
    #[error("the report names kiosk `{0}`, which is not a kiosk id")]
    BadKioskId(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl RegistryError {
    pub fn code(&self) -> &'static str {
        match self {
            RegistryError::Bundle(err) => err.code(),
            RegistryError::VersionExists(_) => "bundle_version_exists",
            RegistryError::BadKioskId(_) => "bad_kiosk_id",
            RegistryError::Io { .. } => "registry_io",
        }
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RegistryError {
    let path = path.to_path_buf();
    move |source| RegistryError::Io { path, source }
}

pub struct BundleRegistry {
    dir: PathBuf,
}

impl BundleRegistry {
    pub fn open(dir: &Path) -> Result<BundleRegistry, RegistryError> {
        for sub in [BUNDLES, KIOSKS] {
            let path = dir.join(sub);
            fs::create_dir_all(&path).map_err(io(&path))?;
        }
        Ok(BundleRegistry {
            dir: dir.to_path_buf(),
        })
    }

    /// Keep a pushed bundle: it must be whole and signed by one of `admins`.
    pub fn publish(
        &self,
        bytes: &[u8],
        admins: &[AdminPublicKey],
    ) -> Result<Published, RegistryError> {
        let bundle = Bundle::parse(bytes)?;
        if !admins.contains(&bundle.signer) {
            return Err(BundleError::UnknownSigner(bundle.signer.to_string()).into());
        }
        if !bundle.self_consistent() {
            return Err(BundleError::BadSignature.into());
        }
        let path = self.bundle_path(bundle.version);
        let tmp =
            self.dir
                .join(BUNDLES)
                .join(format!(".v{}.{}.tmp", bundle.version, std::process::id()));
        write_synced(&tmp, bytes)?;
        // A hard link cannot replace an existing file: the first push wins.
        let linked = fs::hard_link(&tmp, &path);
        let _ = fs::remove_file(&tmp);
        match linked {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(RegistryError::VersionExists(bundle.version))
            }
            Err(err) => return Err(io(&path)(err)),
        }
        sync_dir(&self.dir.join(BUNDLES))?;
        Ok(Published {
            version: bundle.version,
            target: bundle.target.to_string(),
            sha256: bundle.sha256(),
        })
    }

    fn bundle_path(&self, version: u64) -> PathBuf {
        self.dir
            .join(BUNDLES)
            .join(format!("v{version:020}.bundle"))
    }

    fn versions(&self) -> Result<Vec<u64>, RegistryError> {
        let dir = self.dir.join(BUNDLES);
        let mut versions = Vec::new();
        for entry in fs::read_dir(&dir).map_err(io(&dir))? {
            let name = entry.map_err(io(&dir))?.file_name();
            let version = name
                .to_str()
                .and_then(|n| n.strip_prefix('v'))
                .and_then(|n| n.strip_suffix(".bundle"))
                .and_then(|n| n.parse::<u64>().ok());
            versions.extend(version);
        }
        versions.sort_unstable();
        Ok(versions)
    }

    /// The highest version pushed (0: none yet).
    pub fn latest_version(&self) -> Result<u64, RegistryError> {
        Ok(self.versions()?.last().copied().unwrap_or(0))
    }

    /// Every bundle kept, newest first (a file damaged since is left out).
    pub fn published(&self) -> Result<Vec<Bundle>, RegistryError> {
        let mut out = Vec::new();
        for version in self.versions()?.into_iter().rev() {
            let path = self.bundle_path(version);
            let bytes = fs::read(&path).map_err(io(&path))?;
            out.extend(Bundle::parse(&bytes).ok());
        }
        Ok(out)
    }

    /// The configuration a new bundle for `target` starts from: the newest
    /// bundle whose kiosks include all of `target`'s (for one kiosk, its
    /// township's are found through `kiosk_township`).
    pub fn base_for(
        &self,
        target: &Target,
        kiosk_township: Option<&str>,
    ) -> Result<Option<Bundle>, RegistryError> {
        Ok(self
            .published()?
            .into_iter()
            .find(|bundle| match (&bundle.target, target) {
                (Target::All, _) => true,
                (Target::Township(a), Target::Township(b)) => a == b,
                (Target::Township(a), Target::Kiosk(_)) => kiosk_township == Some(a.as_str()),
                (Target::Kiosk(a), Target::Kiosk(b)) => a == b,
                _ => false,
            }))
    }

    /// The newest bundle addressed to `kiosk` with a version above `after`.
    pub fn newest_for(
        &self,
        kiosk: &KioskIdentity,
        after: u64,
    ) -> Result<Option<Vec<u8>>, RegistryError> {
        for version in self.versions()?.into_iter().rev() {
            if version <= after {
                break;
            }
            let path = self.bundle_path(version);
            let bytes = fs::read(&path).map_err(io(&path))?;
            // Checked when pushed; a file damaged since is skipped.
            let Ok(bundle) = Bundle::parse(&bytes) else {
                continue;
            };
            if bundle.target.includes(kiosk) {
                return Ok(Some(bytes));
            }
        }
        Ok(None)
    }

    /// Remember a kiosk's report (the newest one wins).
    pub fn record_report(
        &self,
        report: &KioskConfigReport,
        client_cert_sha256: &str,
        now: DateTime<Utc>,
    ) -> Result<(), RegistryError> {
        let id = KioskId::parse(&report.kiosk_id)
            .map_err(|_| RegistryError::BadKioskId(report.kiosk_id.clone()))?;
        let status = KioskStatus {
            received_at: now,
            client_cert_sha256: client_cert_sha256.to_string(),
            report: report.clone(),
        };
        let path = self.dir.join(KIOSKS).join(format!("{id}.json"));
        let tmp = self
            .dir
            .join(KIOSKS)
            .join(format!(".{id}.{}.tmp", std::process::id()));
        let json = serde_json::to_vec_pretty(&status).unwrap_or_default();
        write_synced(&tmp, &json)?;
        fs::rename(&tmp, &path).map_err(io(&path))?;
        sync_dir(&self.dir.join(KIOSKS))
    }

    /// Every kiosk that ever reported, by id.
    pub fn kiosks(&self) -> Result<Vec<KioskStatus>, RegistryError> {
        let dir = self.dir.join(KIOSKS);
        let mut out = Vec::new();
        for entry in fs::read_dir(&dir).map_err(io(&dir))? {
            let path = entry.map_err(io(&dir))?.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let bytes = fs::read(&path).map_err(io(&path))?;
            if let Ok(status) = serde_json::from_slice::<KioskStatus>(&bytes) {
                out.push(status);
            }
        }
        out.sort_by(|a, b| a.report.kiosk_id.cmp(&b.report.kiosk_id));
        Ok(out)
    }
}

/// Administrator keys, one `ed25519:…` per line (the `.pub` files of
/// `config keygen`, concatenated); text after the key and `#` lines are
/// comments.
pub fn parse_admin_keys(text: &str) -> Result<Vec<AdminPublicKey>, String> {
    let mut keys = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let first = line.split_whitespace().next().unwrap_or_default();
        let key = first
            .parse::<AdminPublicKey>()
            .map_err(|err| format!("line {}: {err}", index + 1))?;
        keys.push(key);
    }
    if keys.is_empty() {
        return Err("no administrator key".to_string());
    }
    Ok(keys)
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), RegistryError> {
    let mut file = fs::File::create(path).map_err(io(path))?;
    file.write_all(bytes).map_err(io(path))?;
    file.sync_all().map_err(io(path))
}

fn sync_dir(path: &Path) -> Result<(), RegistryError> {
    fs::File::open(path)
        .and_then(|dir| dir.sync_all())
        .map_err(io(path))
}

//! The kiosk's configuration store: where bundles land, atomically, with a
//! last-known-good to fall back on.
//!
//! ```text
//! <root>/state.json          the single commit point (write, fsync, rename, fsync dir)
//! <root>/versions/<name>/    one immutable directory per configuration kept
//! <root>/staging-*/          a directory being written; removed on open
//! <root>/site.toml           optional, local: [kiosk], [tls], [devices] of this kiosk
//! ```
//!
//! A new configuration is written to a staging directory (every file and
//! directory fsynced), checked by loading it, renamed into `versions/`, and
//! only then does a new `state.json` make it active. A `kill -9` at any
//! moment leaves `state.json` old or new, and each names a whole directory;
//! whatever else is left (staging, unreferenced versions) is swept on open.
//!
//! A configuration applied from a bundle is *on trial* until the kiosk has
//! started on it ([`ConfigStore::confirm_started`]); then it becomes the
//! last-known-good. If the start fails ([`ConfigStore::report_start_failure`])
//! or the kiosk keeps dying before confirming ([`MAX_START_ATTEMPTS`]), the
//! store rolls back to the last-known-good. The version that failed is never
//! taken again: only a higher one can follow.
//!
//! Single writer: only the kiosk process changes the store; `config show`
//! only reads `state.json`.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use trust::bundle::{self, Bundle, BundleError, BundlePath, Target};
use trust::sha256_hex;
// What the store reports travels to the platform as is.
use super::{load_parts, Config, ConfigError, SITE_FILE};
pub use wire::config::{ConfigEvent, StatusReport};

const STATE_FILE: &str = "state.json";
const STATE_TMP: &str = "state.json.tmp";
const VERSIONS_DIR: &str = "versions";
const STAGING_PREFIX: &str = "staging-";
const STATE_FORMAT: u32 = 1;

/// A configuration on trial that has not been confirmed after this many
/// starts is taken to crash the kiosk, and is rolled back.
pub const MAX_START_ATTEMPTS: u32 = 3;

/// A configuration kept in the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Installed {
    /// 0 for the configuration the kiosk shipped with.
    pub version: u64,
    /// SHA-256 of the bundle manifest (see [`bundle::manifest`]).
    pub sha256: String,
    pub target: String,
    /// The administrator key that signed it; none for the shipped one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
    /// Directory name under `versions/`.
    pub dir: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Trial {
    /// Starts made on the configuration on trial so far.
    starts: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct State {
    format: u32,
    active: Installed,
    last_known_good: Installed,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    trial: Option<Trial>,
    /// Highest version ever taken (applied, or failed to load): nothing at
    /// or below it is taken again.
    highest_tried: u64,
    last_event: ConfigEvent,
    /// Whether the platform has acknowledged the current report.
    report_delivered: bool,
}

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is damaged: {detail}")]
    Damaged { path: PathBuf, detail: String },
    #[error("the shipped configuration cannot be installed: {0}")]
    Factory(BundleError),
    #[error("the configuration in force does not load: {0}")]
    DoesNotLoad(ConfigError),
    #[error("the configuration in force is not on trial: there is nothing to roll back to")]
    NothingToRollBackTo,
}

impl StoreError {
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::Io { .. } => "config_store_io",
            StoreError::Damaged { .. } => "config_store_damaged",
            StoreError::Factory(_) => "config_factory",
            StoreError::DoesNotLoad(_) => "config_does_not_load",
            StoreError::NothingToRollBackTo => "config_nothing_to_roll_back_to",
        }
    }

    pub fn message_zh(&self) -> String {
        match self {
            StoreError::DoesNotLoad(err) => err.message_zh(),
            StoreError::Io { source, .. } if source.kind() == std::io::ErrorKind::StorageFull => {
                "本机存储空间已满，新配置没有装上，仍按原配置运行；请工作人员清理空间".to_string()
            }
            _ => "本机配置无法使用，请联系县级管理员".to_string(),
        }
    }

    /// The disk is full: freeing space and trying again will work.
    pub fn is_disk_full(&self) -> bool {
        matches!(self, StoreError::Io { source, .. } if source.kind() == std::io::ErrorKind::StorageFull)
    }
}

/// Why a bundle was not taken. The configuration in force is unchanged.
#[derive(Debug, Error)]
pub enum Refusal {
    #[error(transparent)]
    Bundle(#[from] BundleError),
    #[error("version {offered} is not newer than version {in_force} in force")]
    NotNewer { offered: u64, in_force: u64 },
    #[error(
        "version {offered} is not newer than version {highest_tried}, which was tried and failed"
    )]
    AlreadyTried { offered: u64, highest_tried: u64 },
    #[error("the bundle is for {target}, not for this kiosk")]
    NotForThisKiosk { target: Target },
    #[error("the configuration in the bundle does not load: {0}")]
    InvalidContent(ConfigError),
    #[error("the bundle would change the kiosk id from {from} to {to}")]
    ChangesKioskId { from: String, to: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Refusal {
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Bundle(err) => err.code(),
            Refusal::NotNewer { .. } => "bundle_not_newer",
            Refusal::AlreadyTried { .. } => "bundle_already_tried",
            Refusal::NotForThisKiosk { .. } => "bundle_not_for_this_kiosk",
            Refusal::InvalidContent(_) => "bundle_invalid_content",
            Refusal::ChangesKioskId { .. } => "bundle_changes_kiosk_id",
            Refusal::Store(err) => err.code(),
        }
    }
}

/// A bundle taken into the store, on trial.
#[derive(Debug)]
pub struct Accepted {
    pub installed: Installed,
    pub config: Config,
    /// Devices, certificates or identity changed: restart in an orderly
    /// way. Otherwise take `config` now and call `confirm_started`.
    pub restart_needed: bool,
}

/// What to start the kiosk with.
#[derive(Debug)]
pub struct Start {
    pub config: Config,
    pub installed: Installed,
    /// Call [`ConfigStore::confirm_started`] once devices are open and the
    /// platform took the certificate, or `report_start_failure`.
    pub on_trial: bool,
    /// Set when this start already rolled back (the configuration on trial
    /// did not load, or never confirmed).
    pub rolled_back: Option<String>,
}

pub struct ConfigStore {
    root: PathBuf,
    state: State,
}

impl ConfigStore {
    /// Open the store at `root`, setting it up from `factory` (the shipped
    /// `kiosk-config/`) the first time. Sweeps what a crash left behind.
    pub fn open(root: &Path, factory: &Path) -> Result<ConfigStore, StoreError> {
        create_dir_all(root)?;
        create_dir_all(&root.join(VERSIONS_DIR))?;
        remove_leftovers(root)?;
        let state = match read_state(root)? {
            Some(state) => state,
            None => {
                // No commit yet: anything under versions/ is a crash's leftover.
                sweep_versions(root, &[])?;
                install_factory(root, factory)?
            }
        };
        let store = ConfigStore {
            root: root.to_path_buf(),
            state,
        };
        store.sweep()?;
        Ok(store)
    }

    /// The state as last committed, without touching anything (for
    /// `config show` next to a running kiosk).
    pub fn peek(root: &Path) -> Result<Option<StatusReport>, StoreError> {
        Ok(read_state(root)?.map(|state| report_of(&state)))
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn in_force(&self) -> &Installed {
        &self.state.active
    }

    pub fn last_known_good(&self) -> &Installed {
        &self.state.last_known_good
    }

    pub fn on_trial(&self) -> bool {
        self.state.trial.is_some()
    }

    /// The highest version ever taken; ask the platform for newer ones.
    pub fn highest_tried(&self) -> u64 {
        self.state.highest_tried.max(self.state.active.version)
    }

    pub fn active_dir(&self) -> PathBuf {
        self.version_dir(&self.state.active)
    }

    fn version_dir(&self, installed: &Installed) -> PathBuf {
        self.root.join(VERSIONS_DIR).join(&installed.dir)
    }

    fn site(&self) -> Option<PathBuf> {
        let site = self.root.join(SITE_FILE);
        site.is_file().then_some(site)
    }

    /// Load the configuration in force.
    pub fn load(&self) -> Result<Config, ConfigError> {
        Config::load_with_site(&self.active_dir(), self.site().as_deref())
    }

    /// Check that a kept directory is exactly what was recorded.
    pub fn verify_installed(&self, installed: &Installed) -> Result<(), StoreError> {
        let dir = self.version_dir(installed);
        let files = bundle::read_dir(&dir).map_err(|err| StoreError::Damaged {
            path: dir.clone(),
            detail: err.to_string(),
        })?;
        let target = installed
            .target
            .parse::<Target>()
            .map_err(|detail| StoreError::Damaged {
                path: dir.clone(),
                detail,
            })?;
        let sha256 = sha256_hex(bundle::manifest(installed.version, &target, &files).as_bytes());
        if sha256 != installed.sha256 {
            return Err(StoreError::Damaged {
                path: dir,
                detail: format!("content hash {sha256}, recorded {}", installed.sha256),
            });
        }
        Ok(())
    }

    /// Called once as the kiosk starts: counts the start of a configuration
    /// on trial, rolls back one that does not load or keeps failing, and
    /// gives the configuration to start with.
    pub fn begin_start(&mut self) -> Result<Start, StoreError> {
        let mut rolled_back = None;
        if let Some(trial) = self.state.trial {
            let starts = trial.starts + 1;
            if starts > MAX_START_ATTEMPTS {
                let reason = format!(
                    "the kiosk did not confirm a start on it after {MAX_START_ATTEMPTS} attempts"
                );
                self.roll_back(&reason)?;
                rolled_back = Some(reason);
            } else {
                let mut next = self.state.clone();
                next.trial = Some(Trial { starts });
                self.commit(next)?;
            }
        }
        // Only signed bundles change a kept directory: anything else is damage.
        let active = self.state.active.clone();
        let loaded = self
            .verify_installed(&active)
            .and_then(|()| self.load().map_err(StoreError::DoesNotLoad));
        let config = match loaded {
            Ok(config) => config,
            Err(err) if self.on_trial() => {
                let reason = err.to_string();
                self.roll_back(&reason)?;
                rolled_back = Some(reason);
                self.verify_installed(&self.state.active.clone())?;
                self.load().map_err(StoreError::DoesNotLoad)?
            }
            Err(err) => return Err(err),
        };
        Ok(Start {
            config,
            installed: self.state.active.clone(),
            on_trial: self.on_trial(),
            rolled_back,
        })
    }

    /// The kiosk runs well on the configuration in force: it becomes the
    /// last-known-good. Does nothing when nothing is on trial.
    pub fn confirm_started(&mut self) -> Result<(), StoreError> {
        if self.state.trial.is_none() {
            return Ok(());
        }
        let mut next = self.state.clone();
        next.trial = None;
        next.last_known_good = next.active.clone();
        next.last_event = ConfigEvent::Confirmed {
            version: next.active.version,
            sha256: next.active.sha256.clone(),
        };
        next.report_delivered = false;
        self.commit(next)?;
        self.sweep()
    }

    /// The kiosk could not start on the configuration on trial (a device
    /// would not open, the platform refused the certificate): go back to
    /// the last-known-good, which the kiosk should now restart on.
    pub fn report_start_failure(&mut self, reason: &str) -> Result<Installed, StoreError> {
        if self.state.trial.is_none() {
            return Err(StoreError::NothingToRollBackTo);
        }
        self.roll_back(reason)?;
        Ok(self.state.active.clone())
    }

    fn roll_back(&mut self, reason: &str) -> Result<(), StoreError> {
        let mut next = self.state.clone();
        let failed = std::mem::replace(&mut next.active, next.last_known_good.clone());
        next.trial = None;
        next.last_event = ConfigEvent::RolledBack {
            failed_version: failed.version,
            failed_sha256: failed.sha256,
            reason: reason.chars().take(500).collect(),
        };
        next.report_delivered = false;
        self.commit(next)?;
        self.sweep()
    }

    /// Take a bundle from the platform if, and only if, it is signed by an
    /// administrator pinned in `current`, newer than anything taken before,
    /// addressed to this kiosk and loads as a whole configuration.
    pub fn accept(&mut self, bytes: &[u8], current: &Config) -> Result<Accepted, Refusal> {
        let outcome = self.try_accept(bytes, current);
        if let Err(refusal) = &outcome {
            if !matches!(refusal, Refusal::Store(_)) {
                self.note_refusal(bytes, refusal)?;
            }
        }
        outcome
    }

    fn try_accept(&mut self, bytes: &[u8], current: &Config) -> Result<Accepted, Refusal> {
        let bundle = Bundle::parse(bytes)?;
        bundle.check_signature(current.county.administrator_keys())?;
        let in_force = self.state.active.version;
        if bundle.version <= in_force {
            return Err(Refusal::NotNewer {
                offered: bundle.version,
                in_force,
            });
        }
        if bundle.version <= self.state.highest_tried {
            return Err(Refusal::AlreadyTried {
                offered: bundle.version,
                highest_tried: self.state.highest_tried,
            });
        }
        if !bundle.target.includes(&current.kiosk) {
            return Err(Refusal::NotForThisKiosk {
                target: bundle.target.clone(),
            });
        }
        let sha256 = bundle.sha256();
        let staged = self.stage(&bundle.files)?;
        // From here on a failure (a full disk) must not leave the staged
        // copy taking the space that trying again needs.
        match self.install_staged(&bundle, sha256, staged.clone(), current) {
            Err(refusal) => {
                if let Err(err) = remove_dir_all(&staged) {
                    tracing::warn!(code = err.code(), "could not remove a staged bundle: {err}");
                }
                Err(refusal)
            }
            ok => ok,
        }
    }

    fn install_staged(
        &mut self,
        bundle: &Bundle,
        sha256: String,
        staged: PathBuf,
        current: &Config,
    ) -> Result<Accepted, Refusal> {
        let loaded = Config::load_with_site(&staged, self.site().as_deref());
        let config = match loaded {
            Ok(config) if config.kiosk.id != current.kiosk.id => Err(Refusal::ChangesKioskId {
                from: current.kiosk.id.to_string(),
                to: config.kiosk.id.to_string(),
            }),
            Ok(config) => Ok(config),
            Err(err) => Err(Refusal::InvalidContent(relative_to(err, &staged))),
        };
        let config = match config {
            Ok(config) => config,
            Err(refusal) => {
                remove_dir_all(&staged)?;
                // Signed and meant for us, but broken: never try it again.
                let mut next = self.state.clone();
                next.highest_tried = next.highest_tried.max(bundle.version);
                self.commit(next)?;
                return Err(refusal);
            }
        };
        let installed = Installed {
            version: bundle.version,
            sha256: sha256.clone(),
            target: bundle.target.to_string(),
            signer: Some(bundle.signer.to_string()),
            dir: version_dir_name(bundle.version, &sha256),
        };
        self.publish(&staged, &installed.dir)?;
        // Load again from where it now lives, so paths in it are true.
        let config = Config::load_with_site(&self.version_dir(&installed), self.site().as_deref())
            .unwrap_or(config);
        let mut next = self.state.clone();
        if next.trial.is_none() {
            next.last_known_good = next.active.clone();
        }
        next.active = installed.clone();
        next.trial = Some(Trial { starts: 0 });
        next.highest_tried = bundle.version;
        next.last_event = ConfigEvent::Applied {
            version: bundle.version,
            sha256,
        };
        next.report_delivered = false;
        if let Err(err) = self.commit(next) {
            // Not in force: the published copy would only take up space
            // (and a retry publishes it again).
            let _ = fs::remove_dir_all(self.version_dir(&installed));
            return Err(err.into());
        }
        self.sweep()?;
        Ok(Accepted {
            restart_needed: Config::restart_needed(current, &config),
            installed,
            config,
        })
    }

    fn note_refusal(&mut self, bytes: &[u8], refusal: &Refusal) -> Result<(), StoreError> {
        let parsed = Bundle::parse(bytes).ok();
        let event = ConfigEvent::Refused {
            version: parsed.as_ref().map(|b| b.version),
            sha256: parsed
                .as_ref()
                .map_or_else(|| sha256_hex(bytes), Bundle::sha256),
            code: refusal.code().to_string(),
            reason: refusal.to_string().chars().take(500).collect(),
        };
        // The platform keeps offering the same bundle: report it once.
        if self.state.last_event == event {
            return Ok(());
        }
        let mut next = self.state.clone();
        next.last_event = event;
        next.report_delivered = false;
        self.commit(next)
    }

    /// The report the platform has not yet acknowledged, if any.
    pub fn pending_report(&self) -> Option<StatusReport> {
        (!self.state.report_delivered).then(|| report_of(&self.state))
    }

    pub fn report(&self) -> StatusReport {
        report_of(&self.state)
    }

    /// The platform acknowledged `report`; a newer one stays pending.
    pub fn report_delivered(&mut self, report: &StatusReport) -> Result<(), StoreError> {
        if self.state.report_delivered || report_of(&self.state) != *report {
            return Ok(());
        }
        let mut next = self.state.clone();
        next.report_delivered = true;
        self.commit(next)
    }

    // ---- writing ----

    fn commit(&mut self, next: State) -> Result<(), StoreError> {
        write_state(&self.root, &next)?;
        self.state = next;
        Ok(())
    }

    fn stage(&self, files: &BTreeMap<BundlePath, Vec<u8>>) -> Result<PathBuf, StoreError> {
        stage_files(&self.root, files)
    }

    fn publish(&self, staged: &Path, name: &str) -> Result<(), StoreError> {
        publish(&self.root, staged, name)
    }

    /// Remove version directories nothing refers to.
    fn sweep(&self) -> Result<(), StoreError> {
        sweep_versions(
            &self.root,
            &[&self.state.active.dir, &self.state.last_known_good.dir],
        )
    }
}

/// Name files as the bundle does (`kiosk.toml`), not by the scratch place.
fn relative_to(mut err: ConfigError, dir: &Path) -> ConfigError {
    if let Ok(relative) = err.file.strip_prefix(dir) {
        err.file = relative.to_path_buf();
    }
    let prefix = format!("{}/", dir.display());
    err.detail = err.detail.replace(&prefix, "");
    err
}

fn report_of(state: &State) -> StatusReport {
    StatusReport {
        version: state.active.version,
        sha256: state.active.sha256.clone(),
        on_trial: state.trial.is_some(),
        last_event: state.last_event.clone(),
    }
}

fn version_dir_name(version: u64, sha256: &str) -> String {
    format!("v{version:020}-{}", sha256.get(..16).unwrap_or(sha256))
}

fn install_factory(root: &Path, factory: &Path) -> Result<State, StoreError> {
    let files = bundle::read_dir(factory).map_err(StoreError::Factory)?;
    let sha256 = sha256_hex(bundle::manifest(0, &Target::All, &files).as_bytes());
    let installed = Installed {
        version: 0,
        sha256: sha256.clone(),
        target: Target::All.to_string(),
        signer: None,
        dir: version_dir_name(0, &sha256),
    };
    let staged = stage_files(root, &files)?;
    publish(root, &staged, &installed.dir)?;
    let state = State {
        format: STATE_FORMAT,
        active: installed.clone(),
        last_known_good: installed,
        trial: None,
        highest_tried: 0,
        last_event: ConfigEvent::Installed { version: 0, sha256 },
        report_delivered: false,
    };
    write_state(root, &state)?;
    Ok(state)
}

/// Whether the configuration in a directory loads, leaving `[kiosk]` and
/// `[tls]` to each kiosk's `site.toml` if absent. Gives the identity the
/// directory names, if any (for `config sign` to compare with the target).
pub fn check_dir(dir: &Path) -> Result<Option<kiosk_core::kiosk::KioskIdentity>, ConfigError> {
    load_parts(dir, None).map(|parts| parts.kiosk)
}

/// [`check_dir`] on the content of a bundle, unpacked into a scratch
/// directory under `scratch_parent` that is removed afterwards.
pub fn check_bundle_content(
    bundle: &Bundle,
    scratch_parent: &Path,
) -> Result<Result<Option<kiosk_core::kiosk::KioskIdentity>, ConfigError>, StoreError> {
    create_dir_all(scratch_parent)?;
    let staged = stage_files(scratch_parent, &bundle.files)?;
    let outcome = check_dir(&staged).map_err(|err| relative_to(err, &staged));
    remove_dir_all(&staged)?;
    Ok(outcome)
}

// ---- the file system, carefully ----

static STAGING_COUNTER: AtomicU64 = AtomicU64::new(0);

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> StoreError {
    let path = path.to_path_buf();
    move |source| StoreError::Io {
        action,
        path,
        source,
    }
}

fn create_dir_all(path: &Path) -> Result<(), StoreError> {
    fs::create_dir_all(path).map_err(io_err("create", path))
}

fn remove_dir_all(path: &Path) -> Result<(), StoreError> {
    match fs::remove_dir_all(path) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => Err(io_err("remove", path)(err)),
        _ => Ok(()),
    }
}

fn fsync_dir(path: &Path) -> Result<(), StoreError> {
    File::open(path)
        .and_then(|dir| dir.sync_all())
        .map_err(io_err("fsync", path))
}

fn write_file_synced(path: &Path, data: &[u8]) -> Result<(), StoreError> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(io_err("create", path))?;
    file.write_all(data).map_err(io_err("write", path))?;
    file.sync_all().map_err(io_err("fsync", path))
}

/// Write every file into a fresh staging directory, all fsynced.
fn stage_files(root: &Path, files: &BTreeMap<BundlePath, Vec<u8>>) -> Result<PathBuf, StoreError> {
    let name = format!(
        "{STAGING_PREFIX}{}-{}",
        std::process::id(),
        STAGING_COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let staged = root.join(name);
    remove_dir_all(&staged)?;
    fs::create_dir(&staged).map_err(io_err("create", &staged))?;
    write_staged(&staged, files).inspect_err(|_| {
        // Half a bundle is of no use and takes the space a retry needs.
        let _ = fs::remove_dir_all(&staged);
    })?;
    Ok(staged)
}

fn write_staged(staged: &Path, files: &BTreeMap<BundlePath, Vec<u8>>) -> Result<(), StoreError> {
    let staged = staged.to_path_buf();
    let mut dirs = vec![staged.clone()];
    for (path, data) in files {
        let target = path.under(&staged);
        if let Some(parent) = target.parent() {
            if !parent.exists() {
                create_dir_all(parent)?;
                let mut p = parent.to_path_buf();
                while p != staged && !dirs.contains(&p) {
                    dirs.push(p.clone());
                    if !p.pop() {
                        break;
                    }
                }
            }
        }
        write_file_synced(&target, data)?;
    }
    // Deepest first, so each directory entry is durable before its parent.
    dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
    for dir in &dirs {
        fsync_dir(dir)?;
    }
    Ok(())
}

/// Move a staged directory into `versions/` durably.
fn publish(root: &Path, staged: &Path, name: &str) -> Result<(), StoreError> {
    let versions = root.join(VERSIONS_DIR);
    let target = versions.join(name);
    // Left by an earlier attempt that never committed.
    remove_dir_all(&target)?;
    fs::rename(staged, &target).map_err(io_err("rename", staged))?;
    fsync_dir(&versions)?;
    fsync_dir(root)
}

fn write_state(root: &Path, state: &State) -> Result<(), StoreError> {
    let tmp = root.join(STATE_TMP);
    let path = root.join(STATE_FILE);
    let mut json = serde_json::to_vec_pretty(state).map_err(|err| StoreError::Damaged {
        path: path.clone(),
        detail: err.to_string(),
    })?;
    json.push(b'\n');
    match fs::remove_file(&tmp) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
            return Err(io_err("remove", &tmp)(err))
        }
        _ => {}
    }
    write_file_synced(&tmp, &json).inspect_err(|_| {
        // The state in force is untouched; a partial copy is only clutter.
        let _ = fs::remove_file(&tmp);
    })?;
    fs::rename(&tmp, &path).map_err(io_err("rename", &tmp))?;
    fsync_dir(root)
}

fn read_state(root: &Path) -> Result<Option<State>, StoreError> {
    let path = root.join(STATE_FILE);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(io_err("read", &path)(err)),
    };
    let state: State = serde_json::from_slice(&bytes).map_err(|err| StoreError::Damaged {
        path: path.clone(),
        detail: err.to_string(),
    })?;
    if state.format != STATE_FORMAT {
        return Err(StoreError::Damaged {
            path,
            detail: format!(
                "state format {}, this kiosk knows {STATE_FORMAT}",
                state.format
            ),
        });
    }
    Ok(Some(state))
}

fn remove_leftovers(root: &Path) -> Result<(), StoreError> {
    let entries = fs::read_dir(root).map_err(io_err("list", root))?;
    for entry in entries {
        let entry = entry.map_err(io_err("list", root))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(STAGING_PREFIX) {
            remove_dir_all(&entry.path())?;
        } else if name == STATE_TMP {
            let path = entry.path();
            fs::remove_file(&path).map_err(io_err("remove", &path))?;
        }
    }
    Ok(())
}

fn sweep_versions(root: &Path, keep: &[&str]) -> Result<(), StoreError> {
    let versions = root.join(VERSIONS_DIR);
    let entries = fs::read_dir(&versions).map_err(io_err("list", &versions))?;
    for entry in entries {
        let entry = entry.map_err(io_err("list", &versions))?;
        let name = entry.file_name();
        if !keep.iter().any(|k| name.to_str() == Some(*k)) {
            remove_dir_all(&entry.path())?;
        }
    }
    Ok(())
}

//! Starting the kiosk: the configuration in force (rolling back one on
//! trial that cannot open its devices), the devices, and where the kiosk
//! keeps its data.

use std::path::{Path, PathBuf};

use crate::config::apply::{ConfigStore, Installed, StoreError};
use crate::config::Config;
use crate::devices::{self, Devices};

use super::shell::status;

/// Where the kiosk keeps its configuration and data. Relative paths are
/// relative to the working directory (the systemd unit sets it).
/// Where the kiosk keeps its configuration store unless told otherwise.
pub const DEFAULT_STORE_ROOT: &str = "var/config";
/// The configuration a kiosk ships with.
pub const DEFAULT_FACTORY_DIR: &str = "kiosk-config";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KioskPaths {
    /// The configuration store (versions, last-known-good).
    pub config_root: PathBuf,
    /// The configuration the kiosk shipped with, installed the first time.
    pub factory: PathBuf,
    /// Outbox, drafts' key, audit log.
    pub data: PathBuf,
}

impl Default for KioskPaths {
    fn default() -> Self {
        KioskPaths {
            config_root: PathBuf::from(DEFAULT_STORE_ROOT),
            factory: PathBuf::from(DEFAULT_FACTORY_DIR),
            data: PathBuf::from("kiosk-data"),
        }
    }
}

impl KioskPaths {
    pub fn outbox(&self) -> PathBuf {
        self.data.join("outbox.sqlite3")
    }

    pub fn local_key(&self) -> PathBuf {
        self.data.join("kiosk-local.key")
    }

    pub fn audit_log(&self) -> PathBuf {
        self.data.join("audit.log")
    }
}

/// Why the kiosk cannot start at all (not even on the last-known-good).
#[derive(Debug, thiserror::Error)]
pub enum BootError {
    #[error("configuration store at {root}: {source}")]
    Store {
        root: PathBuf,
        #[source]
        source: Box<StoreError>,
    },
}

impl BootError {
    /// For the out-of-service screen.
    pub fn message_zh(&self) -> String {
        match self {
            BootError::Store { source, .. } => source.message_zh(),
        }
    }
}

/// A kiosk ready to open its window.
pub struct Booted {
    pub config: Config,
    pub installed: Installed,
    pub store: ConfigStore,
    pub devices: Devices,
    /// Set when this start went back to the last-known-good, and why.
    pub rolled_back: Option<String>,
}

/// Open the configuration store, take the configuration in force and
/// build its devices. A configuration on trial whose devices cannot be
/// opened is rolled back at once and the kiosk starts on the
/// last-known-good instead.
pub fn boot(paths: &KioskPaths) -> Result<Booted, BootError> {
    let store_error = |root: &Path| {
        let root = root.to_path_buf();
        move |source| BootError::Store {
            root,
            source: Box::new(source),
        }
    };
    let mut store = ConfigStore::open(&paths.config_root, &paths.factory)
        .map_err(store_error(&paths.config_root))?;
    let mut rolled_back = None;
    // At most twice: after a rollback nothing is on trial.
    loop {
        let start = store
            .begin_start()
            .map_err(store_error(&paths.config_root))?;
        if let Some(reason) = start.rolled_back {
            tracing::warn!("configuration rolled back at start: {reason}");
            rolled_back = Some(reason);
        }
        let mut built = devices::build(&start.config.devices);
        if start.on_trial {
            let failure = status::start_failure(
                built.card_reader.as_mut(),
                built.camera.as_mut(),
                built.printer.as_mut(),
            );
            if let Some(reason) = failure {
                let reason = format!("devices of the new configuration: {reason}");
                tracing::warn!(
                    "configuration version {} cannot open its devices, rolling back: {reason}",
                    start.installed.version
                );
                drop(built);
                store
                    .report_start_failure(&reason)
                    .map_err(store_error(&paths.config_root))?;
                rolled_back = Some(reason);
                continue;
            }
        }
        return Ok(Booted {
            config: start.config,
            installed: start.installed,
            store,
            devices: built,
            rolled_back,
        });
    }
}

/// Replace this process with a fresh start of the same program (after an
/// orderly stop), so new devices and certificates are opened from scratch.
/// Returns only if that failed.
pub fn restart_process() -> std::io::Error {
    use std::os::unix::process::CommandExt;
    let program = match std::env::current_exe() {
        Ok(program) => program,
        Err(err) => return err,
    };
    std::process::Command::new(program)
        .args(std::env::args_os().skip(1))
        .exec()
}

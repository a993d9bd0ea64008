//! The fuzz targets, one per kind of outside input (docs/fuzzing.md).

use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use crate::Target;

pub mod card;
pub mod config;
pub mod forms;
pub mod import;
pub mod intake;
pub mod wire_bodies;

/// Every target's name, in the order `all` runs them.
pub const NAMES: [&str; 8] = [
    "card",
    "kiosk_toml",
    "config_bundle",
    "intake",
    "console_forms",
    "import_csv",
    "import_xlsx",
    "wire_bodies",
];

/// Build one target by name (each sets up its seeds and scratch space).
pub fn build(name: &str) -> Option<Box<dyn Target>> {
    Some(match name {
        "card" => Box::new(card::Card::new()),
        "kiosk_toml" => Box::new(config::KioskToml::new()),
        "config_bundle" => Box::new(config::ConfigBundle::new()),
        "intake" => Box::new(intake::Intake::new()),
        "console_forms" => Box::new(forms::ConsoleForms::new()),
        "import_csv" => Box::new(import::ImportCsv::new()),
        "import_xlsx" => Box::new(import::ImportXlsx::new()),
        "wire_bodies" => Box::new(wire_bodies::WireBodies::new()),
        _ => return None,
    })
}

/// A fixed "today", so a run does not depend on the day it is made.
pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 6).unwrap_or_default()
}

/// A file of the repository (seeds come from the real demo data).
pub fn repo_file(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(relative)
}

/// A scratch directory for targets that go through files, in memory where
/// there is /dev/shm; removed when the target is dropped.
pub struct ScratchDir(PathBuf);

impl ScratchDir {
    pub fn new(name: &str) -> ScratchDir {
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let base = if Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = base.join(format!("parser-fuzz-{}-{name}-{n}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        ScratchDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

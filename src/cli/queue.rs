//! `veteran-kiosk queue add|list|stats|show`: the outbox for staff.
//!
//! `add` queues a record collected on paper, validated like any other;
//! the others show only the clear part (record number, masked ID number,
//! state, times, categories, township), never the sealed content.

use std::fs;
use std::path::{Path, PathBuf};

use chrono::Utc;
use clap::{Args, Subcommand};
use serde_json::json;

use super::Outcome;
use crate::store::damage::{self, Startup};
use crate::store::{Blobs, ListFilter, Store};
use kiosk_core::record::{self, Record, RecordState};
use trust::{seal, sha256_hex};
use wire::sealed::photo_refs;

/// Where the kiosk keeps its data: `outbox.sqlite3` and `kiosk-local.key`.
#[derive(Args, Debug, Clone)]
pub struct DataDir {
    #[arg(long, env = "VETERAN_KIOSK_DATA", default_value = "kiosk-data")]
    pub data_dir: PathBuf,
}

impl DataDir {
    pub fn outbox(&self) -> PathBuf {
        self.data_dir.join("outbox.sqlite3")
    }

    pub fn local_key(&self) -> PathBuf {
        self.data_dir.join("kiosk-local.key")
    }

    pub fn open_store(&self) -> Result<Store, Outcome> {
        if let Err(e) = fs::create_dir_all(&self.data_dir) {
            eprintln!("veteran-kiosk: {}: {e}", self.data_dir.display());
            return Err(Outcome::UsageOrUnreadable);
        }
        Store::open(&self.outbox()).map_err(|e| {
            eprintln!("veteran-kiosk: {}: {e}", self.outbox().display());
            print(json!({"ok": false, "code": e.code(), "message": e.message_zh()}));
            Outcome::UsageOrUnreadable
        })
    }
}

#[derive(Subcommand, Debug)]
pub enum QueueCommand {
    /// Validate, seal and queue a signed record (entered from paper).
    Add {
        record: PathBuf,
        /// Where the photos are, as `<sha256>.jpg` (default: `photos/` beside the record).
        #[arg(long)]
        photos: Option<PathBuf>,
        /// The county platform's age recipient (`age1…`) or a file holding it.
        #[arg(long, env = "VETERAN_KIOSK_RECIPIENT")]
        recipient: String,
    },
    /// Queued records, newest first (clear part only).
    List {
        /// signed, sent, accepted, rejected or superseded
        #[arg(long, value_parser = parse_state)]
        state: Option<RecordState>,
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Show entries older than this sequence number (paging).
        #[arg(long)]
        before: Option<i64>,
    },
    /// Counts by state, category and township (the township's 台账).
    Stats,
    /// One record's clear part, by its record number.
    Show { record_number: String },
    /// The start-up check: whole, or damaged (then set aside and salvaged
    /// into a fresh outbox, with records kept and lost counted). Exit 1
    /// while damage waits for a technician.
    Check,
    /// A technician has dealt with a salvaged outbox: registrations may go on.
    AcknowledgeDamage,
}

fn parse_state(text: &str) -> Result<RecordState, String> {
    text.parse()
        .map_err(|_| "one of signed, sent, accepted, rejected, superseded".to_string())
}

fn print(value: serde_json::Value) {
    println!("{value}");
}

pub fn run(cmd: QueueCommand, data: &DataDir) -> Outcome {
    match cmd {
        QueueCommand::Add {
            record,
            photos,
            recipient,
        } => add(data, &record, photos.as_deref(), &recipient),
        QueueCommand::List {
            state,
            limit,
            before,
        } => {
            let store = match data.open_store() {
                Ok(s) => s,
                Err(o) => return o,
            };
            let filter = ListFilter {
                state,
                before_seq: before,
                limit: Some(limit),
            };
            match store.list(&filter) {
                Ok(entries) => {
                    print(json!({"ok": true, "records": entries}));
                    Outcome::Ok
                }
                Err(e) => store_failure(&e),
            }
        }
        QueueCommand::Stats => {
            let store = match data.open_store() {
                Ok(s) => s,
                Err(o) => return o,
            };
            match store.stats() {
                Ok(stats) => {
                    print(json!({"ok": true, "stats": stats}));
                    Outcome::Ok
                }
                Err(e) => store_failure(&e),
            }
        }
        QueueCommand::Check => match startup_check(data) {
            Ok(startup) => {
                let ok = startup.may_take_registrations();
                print(startup_json(&startup));
                if ok {
                    Outcome::Ok
                } else {
                    Outcome::Problems
                }
            }
            Err(outcome) => outcome,
        },
        QueueCommand::AcknowledgeDamage => {
            match crate::store::damage::acknowledge(&data.outbox(), Utc::now()) {
                Ok(reports) => {
                    print(json!({"ok": true, "acknowledged": reports}));
                    Outcome::Ok
                }
                Err(e) => store_failure(&e),
            }
        }
        QueueCommand::Show { record_number } => {
            let store = match data.open_store() {
                Ok(s) => s,
                Err(o) => return o,
            };
            match store.show(&record_number) {
                Ok(Some(entry)) => {
                    print(json!({"ok": true, "record": entry}));
                    Outcome::Ok
                }
                Ok(None) => {
                    print(
                        json!({"ok": false, "code": "not_found", "message": "没有这个编号的记录"}),
                    );
                    Outcome::Problems
                }
                Err(e) => store_failure(&e),
            }
        }
    }
}

/// The check a start makes (see `store::damage`), run on `data`.
fn startup_check(data: &DataDir) -> Result<Startup, Outcome> {
    if let Err(e) = fs::create_dir_all(&data.data_dir) {
        eprintln!("veteran-kiosk: {}: {e}", data.data_dir.display());
        return Err(Outcome::UsageOrUnreadable);
    }
    damage::startup(&data.outbox(), Utc::now(), damage::CHECK_BUDGET).map_err(|e| store_failure(&e))
}

fn startup_json(startup: &Startup) -> serde_json::Value {
    match startup {
        Startup::Ready { unfinished_check } => {
            json!({"ok": true, "outbox": "whole", "check_finished": !unfinished_check})
        }
        Startup::Salvaged(report) => json!({
            "ok": false,
            "code": "store_damaged",
            "outbox": "salvaged",
            "message": report.message_zh(),
            "kept": report.kept,
            "lost": report.lost.len(),
            "salvage": report,
        }),
        Startup::AwaitingAcknowledgement(reports) => json!({
            "ok": false,
            "code": "store_damage_unacknowledged",
            "outbox": "awaiting_acknowledgement",
            "message": startup.message_zh(),
            "salvages": reports,
        }),
    }
}

fn store_failure(e: &crate::store::StoreError) -> Outcome {
    eprintln!("veteran-kiosk: {e}");
    print(json!({"ok": false, "code": e.code(), "message": e.message_zh()}));
    Outcome::UsageOrUnreadable
}

/// An `age1…` recipient, given literally or in a file.
pub fn load_recipient(text: &str) -> Result<age::x25519::Recipient, String> {
    if text.trim_start().starts_with("age1") {
        return seal::parse_recipient(text).map_err(|e| e.to_string());
    }
    let contents = fs::read_to_string(text).map_err(|e| format!("{text}: {e}"))?;
    let line = contents
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap_or_default();
    seal::parse_recipient(line).map_err(|e| format!("{text}: {e}"))
}

/// Reads the photos a record names from `dir/<sha256>.jpg`, checking each.
pub fn load_photos(record: &Record, dir: &Path) -> Result<Blobs, String> {
    let mut blobs = Blobs::new();
    for (field, photo) in photo_refs(record) {
        if !(photo.sha256.len() == 64 && photo.sha256.bytes().all(|b| b.is_ascii_hexdigit())) {
            return Err(format!("{field}: not a SHA-256"));
        }
        let path = dir.join(format!("{}.jpg", photo.sha256));
        let bytes = fs::read(&path).map_err(|e| format!("{field}: {}: {e}", path.display()))?;
        if sha256_hex(&bytes) != photo.sha256 || bytes.len() as u64 != photo.bytes {
            return Err(format!(
                "{field}: {} does not match the record",
                path.display()
            ));
        }
        blobs.insert(bytes);
    }
    Ok(blobs)
}

fn add(data: &DataDir, path: &Path, photos: Option<&Path>, recipient: &str) -> Outcome {
    let recipient = match load_recipient(recipient) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("veteran-kiosk: recipient: {e}");
            return Outcome::UsageOrUnreadable;
        }
    };
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("veteran-kiosk: {}: {e}", path.display());
            return Outcome::UsageOrUnreadable;
        }
    };
    let record: Record = match serde_json::from_str(&text) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("veteran-kiosk: {}: not a record: {e}", path.display());
            return Outcome::UsageOrUnreadable;
        }
    };
    let valid = match record::validate(&record, Utc::now().date_naive()) {
        Ok(v) => v,
        Err(problems) => {
            print(json!({"ok": false, "problems": problems}));
            return Outcome::Problems;
        }
    };
    let photo_dir = photos.map(Path::to_path_buf).unwrap_or_else(|| {
        path.parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .join("photos")
    });
    let blobs = match load_photos(&record, &photo_dir) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("veteran-kiosk: {e}");
            print(
                json!({"ok": false, "code": "photo_missing", "message": "记录中的照片文件缺失或不符"}),
            );
            return Outcome::Problems;
        }
    };
    // No new registration goes into a damaged outbox, or into one whose
    // salvage no technician has looked at yet.
    match startup_check(data) {
        Ok(startup) if startup.may_take_registrations() => {}
        Ok(startup) => {
            eprintln!("veteran-kiosk: the outbox is damaged; the record was not queued");
            print(startup_json(&startup));
            return Outcome::UsageOrUnreadable;
        }
        Err(outcome) => return outcome,
    }
    let mut store = match data.open_store() {
        Ok(s) => s,
        Err(o) => return o,
    };
    match store.enqueue(&valid, &blobs, &recipient) {
        Ok(receipt) => {
            print(json!({"ok": true, "receipt": receipt}));
            Outcome::Ok
        }
        Err(e) => {
            let outcome = match e {
                crate::store::StoreError::NotSigned(_) | crate::store::StoreError::Conflict(_) => {
                    Outcome::Problems
                }
                _ => Outcome::UsageOrUnreadable,
            };
            eprintln!("veteran-kiosk: {e}");
            print(json!({"ok": false, "code": e.code(), "message": e.message_zh()}));
            outcome
        }
    }
}

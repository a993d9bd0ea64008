//! The staff audit log: one JSON line per entry, appended on its own
//! thread so a slow disk never holds up the UI.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;

use kiosk_core::staff::AuditEntry;

use super::threads::{spawn, ThreadStartError};

pub(super) struct AuditLog {
    entries: Option<Sender<AuditEntry>>,
    thread: Option<JoinHandle<()>>,
}

impl AuditLog {
    pub(super) fn start(path: PathBuf) -> Result<AuditLog, ThreadStartError> {
        let (entries, entry_rx) = mpsc::channel();
        let thread = spawn("records-audit", move || run_audit(&path, entry_rx))?;
        Ok(AuditLog {
            entries: Some(entries),
            thread: Some(thread),
        })
    }

    /// Hands `entry` to the writer; a writer that has stopped is logged
    /// (there is no one to answer: the session does not wait for it).
    pub(super) fn write(&self, entry: AuditEntry) {
        let sent = self
            .entries
            .as_ref()
            .is_some_and(|tx| tx.send(entry).is_ok());
        if !sent {
            tracing::warn!("audit log writer has stopped; an audit entry was not written");
        }
    }

    /// Lets the writer finish the lines it was given.
    pub(super) fn close(&mut self) {
        self.entries = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Appends each entry as one JSON line, flushed and synced; a write error
/// is logged and the next entry tries again (the kiosk never stops for it).
fn run_audit(path: &Path, entries: Receiver<AuditEntry>) {
    let mut file: Option<File> = None;
    for entry in entries {
        if file.is_none() {
            file = open_audit(path);
        }
        let Some(f) = file.as_mut() else { continue };
        let mut line = entry.to_json_line();
        line.push('\n');
        let written = f
            .write_all(line.as_bytes())
            .and_then(|()| f.flush())
            .and_then(|()| f.sync_data());
        if let Err(e) = written {
            tracing::warn!(path = %path.display(), "could not write the audit log: {e}");
            file = None;
        }
    }
}

fn open_audit(path: &Path) -> Option<File> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let _ = std::fs::create_dir_all(dir);
    }
    match OpenOptions::new().append(true).create(true).open(path) {
        Ok(f) => Some(f),
        Err(e) => {
            tracing::warn!(path = %path.display(), "could not open the audit log: {e}");
            None
        }
    }
}

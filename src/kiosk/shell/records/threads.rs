//! What the records' worker threads share: how they start, and what they
//! send back to the UI thread.

use std::sync::{Mutex, MutexGuard};
use std::thread::{self, JoinHandle};

use kiosk_core::record::Record;
use kiosk_core::session::{Event, ReturnedRecord};

pub use crate::sync::worker::THREAD_START_ZH;

/// What the worker threads send back to the UI thread.
pub(super) enum Answer {
    Event(Event),
    /// For the session of `epoch`; dropped if that session was wiped since.
    LookUp {
        epoch: u64,
        found: Option<Record>,
    },
    DraftFound {
        epoch: u64,
        found: Option<Record>,
    },
    /// Sent after `DraftFound`, only when there is one.
    Returned {
        epoch: u64,
        returned: ReturnedRecord,
    },
}

/// A worker thread the system would not start (short of memory or
/// threads): nothing is wrong with the data, so it is not a store error.
#[derive(Debug, thiserror::Error)]
#[error("cannot start the {thread} thread: {source}")]
pub struct ThreadStartError {
    pub thread: &'static str,
    #[source]
    pub source: std::io::Error,
}

pub(super) fn spawn(
    thread: &'static str,
    work: impl FnOnce() + Send + 'static,
) -> Result<JoinHandle<()>, ThreadStartError> {
    thread::Builder::new()
        .name(thread.into())
        .spawn(work)
        .map_err(|source| ThreadStartError { thread, source })
}

/// A poisoned lock still holds good data here (plain maps and counters).
pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

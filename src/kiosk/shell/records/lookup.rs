//! The county platform from the records' side: the sync worker that
//! uploads, and a look-up thread with short timeouts (a person is waiting).

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration as StdDuration;

use crate::sync::client::{ClientError, ClientSettings, PlatformClient};
use crate::sync::core::RetryPolicy;
use crate::sync::worker::{SyncHandle, SyncStartError};
use kiosk_core::id_number::IdNumber;

use super::threads::{spawn, Answer, ThreadStartError};

/// A look-up never keeps a person waiting longer than this, whatever the
/// upload timeouts are.
pub const LOOKUP_TIMEOUT: StdDuration = StdDuration::from_secs(8);
/// Of [`LOOKUP_TIMEOUT`], at most this for the connection and handshake.
pub const LOOKUP_CONNECT_TIMEOUT: StdDuration = StdDuration::from_secs(4);

/// Why uploads are or are not running.
pub(super) enum Platform {
    NotConfigured,
    /// The settings did not give a working client (certificate files …).
    Misconfigured {
        message_zh: &'static str,
    },
    Running {
        sync: SyncHandle,
        lookups: LookUps,
    },
}

/// The look-up thread, as the UI thread holds it. Not joined on drop: a
/// look-up may be waiting on the network.
pub(super) struct LookUps {
    requests: Sender<(u64, IdNumber)>,
    thread: JoinHandle<()>,
}

impl LookUps {
    /// A look-up thread that has already ended, holding `requests`' far
    /// end: what a panic in the client leaves behind.
    #[cfg(test)]
    pub(super) fn ended(requests: Sender<(u64, IdNumber)>) -> LookUps {
        let thread = std::thread::spawn(|| {});
        while !thread.is_finished() {
            std::thread::yield_now();
        }
        LookUps { requests, thread }
    }

    /// False when the thread has stopped and the look-up was not taken.
    pub(super) fn send(&self, epoch: u64, id: IdNumber) -> bool {
        self.requests.send((epoch, id)).is_ok()
    }

    /// The thread has ended (it panicked): look-ups it took are lost.
    pub(super) fn has_ended(&self) -> bool {
        self.thread.is_finished()
    }
}

/// Why the platform part did not start (a misconfigured platform does
/// start: it is reported on the staff screen instead).
#[derive(Debug, thiserror::Error)]
pub enum PlatformStartError {
    #[error(transparent)]
    Sync(#[from] SyncStartError),
    #[error(transparent)]
    Thread(#[from] ThreadStartError),
}

pub(super) fn start_platform(
    db: &Path,
    settings: &ClientSettings,
    epoch: &Arc<AtomicU64>,
    answers: Sender<Answer>,
) -> Result<Platform, PlatformStartError> {
    let (upload, lookup) = match clients(settings) {
        Ok(clients) => clients,
        Err(e) => {
            tracing::warn!(
                code = e.code(),
                "platform client not usable: {e}; records stay queued"
            );
            return Ok(Platform::Misconfigured {
                message_zh: e.message_zh(),
            });
        }
    };
    let sync = SyncHandle::spawn(db.to_path_buf(), upload, RetryPolicy::default())?;
    let (requests, request_rx) = mpsc::channel::<(u64, IdNumber)>();
    let epoch = Arc::clone(epoch);
    let thread = spawn("records-lookup", move || {
        for (of, id) in request_rx {
            if of != epoch.load(Ordering::SeqCst) {
                continue; // that session has ended; nobody is waiting
            }
            let found = match lookup.look_up(&id) {
                Ok(found) => found,
                Err(e) => {
                    tracing::warn!(
                        code = e.code(),
                        "platform look-up failed: {e}; treated as not found"
                    );
                    None
                }
            };
            if answers.send(Answer::LookUp { epoch: of, found }).is_err() {
                return;
            }
        }
    })?;
    Ok(Platform::Running {
        sync,
        lookups: LookUps { requests, thread },
    })
}

/// One client for uploads, one with short timeouts for look-ups (a
/// person is waiting on those).
fn clients(settings: &ClientSettings) -> Result<(PlatformClient, PlatformClient), ClientError> {
    let mut lookup_settings = settings.clone();
    lookup_settings.connect_timeout = settings.connect_timeout.min(LOOKUP_CONNECT_TIMEOUT);
    lookup_settings.request_timeout = settings.request_timeout.min(LOOKUP_TIMEOUT);
    Ok((
        PlatformClient::new(settings)?,
        PlatformClient::new(&lookup_settings)?,
    ))
}

//! Drives the sync core against the store and the platform client.
//!
//! Every decision is applied to the store before the next step, and the
//! core's state is saved after it, so a kill at any moment loses nothing: a
//! record whose upload got through but was not yet marked `sent` is sent
//! again, and the platform answers "already stored".

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::client::PlatformClient;
use super::core::{RetryPolicy, StoreAction, SyncCore, SyncState, Task, UploadOutcome};
use crate::store::{Store, StoreError};

/// What a sync pass did, for the CLI and the staff screen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    pub uploaded: u64,
    pub rejected_on_upload: u64,
    pub retries: u64,
    pub review_polls: u64,
    pub accepted: u64,
    pub rejected_in_review: u64,
    pub superseded: u64,
    /// Signed records still waiting to go.
    pub pending: usize,
    /// Sent records still waiting for the county's review.
    pub awaiting_review: usize,
    /// The last failure seen, e.g. `Timeout` (no personal data).
    pub last_failure: Option<String>,
    /// When the next attempt is due, if waiting.
    pub next_attempt: Option<DateTime<Utc>>,
}

/// Does to the store what the core decided.
pub fn apply(
    store: &mut Store,
    action: &StoreAction,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    match action {
        StoreAction::MarkSent(id) => store.mark_sent(*id, now),
        StoreAction::MarkRejected(id, reasons) => store.mark_rejected(*id, reasons, now),
        StoreAction::MarkAccepted(id) => store.mark_accepted(*id, now),
        StoreAction::MarkSuperseded(id) => store.mark_superseded(*id, now),
        StoreAction::KeepForRetry(_) => Ok(()),
    }
}

/// The persisted core state, or a fresh one with a random jitter seed.
fn load_state(store: &Store) -> Result<SyncState, StoreError> {
    Ok(store
        .sync_state()?
        .unwrap_or_else(|| SyncState::new(uuid::Uuid::new_v4().as_u64_pair().0)))
}

fn core_from_store(store: &Store, policy: &RetryPolicy) -> Result<SyncCore, StoreError> {
    Ok(SyncCore::new(
        policy.clone(),
        load_state(store)?,
        store.pending()?,
        store.awaiting_review()?.len(),
    ))
}

/// Performs one task; returns false when the core said wait or done.
fn step(
    store: &mut Store,
    client: &PlatformClient,
    core: &mut SyncCore,
    now: DateTime<Utc>,
    report: &mut SyncReport,
) -> Result<Option<Task>, StoreError> {
    let task = core.next_task(now);
    match &task {
        Task::Upload(id) => {
            let outcome = match store.sealed(*id)? {
                Some(upload) => client.upload(&upload),
                None => {
                    return Err(StoreError::Corrupt(format!(
                        "queued record {id} has no sealed content"
                    )))
                }
            };
            let action = core.on_upload(now, *id, &outcome);
            match &action {
                StoreAction::MarkSent(_) => report.uploaded += 1,
                StoreAction::MarkRejected(..) => report.rejected_on_upload += 1,
                _ => {
                    report.retries += 1;
                    report.last_failure = Some(outcome_name(&outcome));
                }
            }
            apply(store, &action, now)?;
            store.save_sync_state(core.state())?;
        }
        Task::PollReviews => {
            let ids = store.awaiting_review()?;
            core.set_awaiting_review(ids.len());
            let result = if ids.is_empty() {
                Ok(Vec::new())
            } else {
                client.reviews(&ids)
            };
            if let Err(outcome) = &result {
                report.last_failure = Some(outcome_name(outcome));
            }
            report.review_polls += 1;
            for action in core.on_poll(now, result) {
                match &action {
                    StoreAction::MarkAccepted(_) => report.accepted += 1,
                    StoreAction::MarkRejected(..) => report.rejected_in_review += 1,
                    StoreAction::MarkSuperseded(_) => report.superseded += 1,
                    _ => {}
                }
                apply(store, &action, now)?;
            }
            store.save_sync_state(core.state())?;
        }
        Task::Wait(_) | Task::Done => {}
    }
    Ok(Some(task))
}

fn outcome_name(outcome: &UploadOutcome) -> String {
    match outcome {
        UploadOutcome::Rejected(_) => "Rejected".into(),
        other => format!("{other:?}"),
    }
}

/// One pass, as `sync --once` and the staff "send now" button do: any
/// persisted wait is ignored (someone asked), then records are uploaded
/// and reviews polled until the core says wait (a failure, or nothing due)
/// or done.
pub fn run_once(
    store: &mut Store,
    client: &PlatformClient,
    policy: &RetryPolicy,
    clock: &dyn Fn() -> DateTime<Utc>,
) -> Result<SyncReport, StoreError> {
    let mut core = core_from_store(store, policy)?;
    core.retry_now();
    let mut report = SyncReport::default();
    loop {
        let now = clock();
        match step(store, client, &mut core, now, &mut report)? {
            Some(Task::Wait(until)) => {
                report.next_attempt = Some(until);
                break;
            }
            Some(Task::Done) | None => break,
            Some(_) => {}
        }
    }
    report.pending = store.pending()?.len();
    report.awaiting_review = store.awaiting_review()?.len();
    Ok(report)
}

/// How often the long-running worker looks for records queued by another
/// process, even when nobody nudges it.
pub const RESCAN_INTERVAL: std::time::Duration = std::time::Duration::from_secs(10);

/// Runs until `stop` is set: uploads as soon as records are queued (a
/// nudge, or the rescan), backs off on failure, polls reviews.
pub fn run_forever(
    store: &mut Store,
    client: &PlatformClient,
    policy: &RetryPolicy,
    stop: &AtomicBool,
    wake: &mpsc::Receiver<()>,
    status: &Mutex<SyncReport>,
) -> Result<(), StoreError> {
    let requests = SyncNowRequests::default();
    serve(store, client, policy, stop, wake, status, &requests)
}

/// Staff "send now" requests to a running worker, numbered, and the
/// highest one the worker has served (had its go for, back-off ignored).
#[derive(Debug, Default)]
struct SyncNowRequests {
    asked: AtomicU64,
    served: AtomicU64,
}

fn serve(
    store: &mut Store,
    client: &PlatformClient,
    policy: &RetryPolicy,
    stop: &AtomicBool,
    wake: &mpsc::Receiver<()>,
    status: &Mutex<SyncReport>,
    requests: &SyncNowRequests,
) -> Result<(), StoreError> {
    let mut core = core_from_store(store, policy)?;
    let mut report = SyncReport::default();
    let mut seen = 0;
    while !stop.load(Ordering::SeqCst) {
        let asked = requests.asked.load(Ordering::SeqCst);
        if asked > seen {
            // Someone asked: a back-off wait must not keep them waiting.
            core.retry_now();
            seen = asked;
        }
        for id in store.pending()? {
            core.push(id);
        }
        let now = Utc::now();
        let task = step(store, client, &mut core, now, &mut report)?;
        report.pending = core.pending();
        report.awaiting_review = store.awaiting_review()?.len();
        report.next_attempt = match task {
            Some(Task::Wait(until)) => Some(until),
            _ => None,
        };
        if let Ok(mut shared) = status.lock() {
            *shared = report.clone();
        }
        let sleep = match task {
            Some(Task::Wait(until)) => (until - now)
                .to_std()
                .unwrap_or_default()
                .min(RESCAN_INTERVAL),
            Some(Task::Done) | None => RESCAN_INTERVAL,
            Some(_) => continue,
        };
        // Idle now, with the status above written: every request seen so
        // far has had its go.
        requests.served.store(seen, Ordering::SeqCst);
        match wake.recv_timeout(sleep) {
            Ok(()) | Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    Ok(())
}

/// A sync worker on its own thread, for the kiosk process.
pub struct SyncHandle {
    stop: Arc<AtomicBool>,
    wake: mpsc::Sender<()>,
    status: Arc<Mutex<SyncReport>>,
    requests: Arc<SyncNowRequests>,
    thread: Option<JoinHandle<Result<(), StoreError>>>,
}

/// One "send now" request, to ask [`SyncHandle::report_for`] about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncTicket(u64);

impl SyncHandle {
    /// Starts the worker on the outbox at `db`.
    pub fn spawn(
        db: PathBuf,
        client: PlatformClient,
        policy: RetryPolicy,
    ) -> Result<SyncHandle, StoreError> {
        let mut store = Store::open(&db)?;
        let stop = Arc::new(AtomicBool::new(false));
        let status = Arc::new(Mutex::new(SyncReport::default()));
        let requests = Arc::new(SyncNowRequests::default());
        let (wake, woken) = mpsc::channel();
        let thread = {
            let stop = stop.clone();
            let status = status.clone();
            let requests = requests.clone();
            std::thread::Builder::new()
                .name("sync".into())
                .spawn(move || {
                    serve(
                        &mut store, &client, &policy, &stop, &woken, &status, &requests,
                    )
                })
                .map_err(|e| StoreError::Corrupt(format!("cannot start the sync thread: {e}")))?
        };
        Ok(SyncHandle {
            stop,
            wake,
            status,
            requests,
            thread: Some(thread),
        })
    }

    /// A record was just queued: send it now.
    pub fn nudge(&self) {
        let _ = self.wake.send(());
    }

    /// Staff asked to send now: any back-off wait is dropped and the
    /// worker uploads and polls reviews until done or a failure.
    pub fn sync_now(&self) -> SyncTicket {
        let ticket = self.requests.asked.fetch_add(1, Ordering::SeqCst) + 1;
        self.nudge();
        SyncTicket(ticket)
    }

    /// The worker's report once it has had its go for `ticket`; `None`
    /// while it is still at it (or has stopped: see [`SyncHandle::is_running`]).
    pub fn report_for(&self, ticket: SyncTicket) -> Option<SyncReport> {
        (self.requests.served.load(Ordering::SeqCst) >= ticket.0).then(|| self.status())
    }

    /// False once the worker thread has ended (a store error stops it).
    pub fn is_running(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }

    pub fn status(&self) -> SyncReport {
        self.status.lock().map(|s| s.clone()).unwrap_or_default()
    }

    pub fn stop(mut self) -> Result<(), StoreError> {
        self.stop_inner()
    }

    fn stop_inner(&mut self) -> Result<(), StoreError> {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.wake.send(());
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(StoreError::Corrupt("the sync thread panicked".into())),
            None => Ok(()),
        }
    }
}

impl Drop for SyncHandle {
    fn drop(&mut self) {
        let _ = self.stop_inner();
    }
}

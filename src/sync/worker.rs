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
    /// The last failure seen (no personal data).
    pub last_failure: Option<SyncFailure>,
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
    client.set_backlog(core.pending());
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
                    if let Some(failure) = SyncFailure::of(&outcome) {
                        report.last_failure = Some(failure);
                    }
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
                report.last_failure = SyncFailure::of(outcome).or(report.last_failure);
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

/// Why the last upload or review poll did not get through. A rejection's
/// reasons stay with the record: the report holds no personal data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncFailure {
    Rejected,
    Conflict,
    ServerError(u16),
    UnexpectedStatus(u16),
    ConnectionRefused,
    ConnectionReset,
    Timeout,
    Tls,
    CertificateDate,
    Transport,
}

impl SyncFailure {
    /// The failure an outcome is; `None` when the platform has the record.
    pub fn of(outcome: &UploadOutcome) -> Option<SyncFailure> {
        Some(match outcome {
            UploadOutcome::Stored | UploadOutcome::AlreadyStored => return None,
            UploadOutcome::Rejected(_) => SyncFailure::Rejected,
            UploadOutcome::Conflict => SyncFailure::Conflict,
            UploadOutcome::ServerError(status) => SyncFailure::ServerError(*status),
            UploadOutcome::UnexpectedStatus(status) => SyncFailure::UnexpectedStatus(*status),
            UploadOutcome::ConnectionRefused => SyncFailure::ConnectionRefused,
            UploadOutcome::ConnectionReset => SyncFailure::ConnectionReset,
            UploadOutcome::Timeout => SyncFailure::Timeout,
            UploadOutcome::Tls => SyncFailure::Tls,
            UploadOutcome::CertificateDate => SyncFailure::CertificateDate,
            UploadOutcome::Transport => SyncFailure::Transport,
        })
    }

    /// For the staff screen.
    pub fn message_zh(&self) -> &'static str {
        match self {
            SyncFailure::Timeout => "县平台没有及时应答",
            SyncFailure::ConnectionRefused
            | SyncFailure::ConnectionReset
            | SyncFailure::Transport => "连接不上县平台，请检查网络",
            SyncFailure::Tls => "安全连接失败，请检查本机证书",
            SyncFailure::CertificateDate => {
                "本机时钟不对，或县平台证书已过期：请先核对本机日期时间，时间无误再联系县里"
            }
            SyncFailure::ServerError(_) => "县平台出现故障",
            SyncFailure::Conflict => "县平台已有编号相同的另一份记录，请联系县里",
            SyncFailure::UnexpectedStatus(_) => "县平台的应答无法识别",
            SyncFailure::Rejected => "县平台退回了记录",
        }
    }
}

/// As logged and in `sync --once`'s JSON: `Timeout`, `ServerError(503)`.
impl std::fmt::Display for SyncFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}

impl Serialize for SyncFailure {
    fn serialize<S: serde::Serializer>(&self, out: S) -> Result<S::Ok, S::Error> {
        out.collect_str(self)
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

/// Why the sync worker did not start.
#[derive(Debug, thiserror::Error)]
pub enum SyncStartError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The system would not start another thread (out of memory or
    /// threads); nothing is wrong with the data.
    #[error("cannot start the sync thread: {0}")]
    Thread(std::io::Error),
}

impl SyncStartError {
    pub fn code(&self) -> &'static str {
        match self {
            SyncStartError::Store(e) => e.code(),
            SyncStartError::Thread(_) => "thread_start",
        }
    }

    pub fn message_zh(&self) -> &'static str {
        match self {
            SyncStartError::Store(e) => e.message_zh(),
            SyncStartError::Thread(_) => THREAD_START_ZH,
        }
    }
}

/// A thread that could not be started: the machine is short of memory,
/// the data is fine.
pub const THREAD_START_ZH: &str = "本机内存不足，程序无法启动，请重启设备";

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
    ) -> Result<SyncHandle, SyncStartError> {
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
                .map_err(SyncStartError::Thread)?
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_failing_outcome_is_a_failure_with_plain_words() {
        use UploadOutcome as O;
        let outcomes = [
            O::Stored,
            O::AlreadyStored,
            O::Rejected(Vec::new()),
            O::Conflict,
            O::ServerError(502),
            O::UnexpectedStatus(418),
            O::ConnectionRefused,
            O::ConnectionReset,
            O::Timeout,
            O::Tls,
            O::Transport,
        ];
        for outcome in outcomes {
            let failure = SyncFailure::of(&outcome);
            let got_through = matches!(outcome, O::Stored | O::AlreadyStored);
            assert_eq!(failure.is_none(), got_through, "{outcome:?}");
            if let Some(failure) = failure {
                assert!(!failure.message_zh().is_empty(), "{failure}");
            }
        }
    }

    #[test]
    fn a_report_names_its_failure_as_before_in_json() {
        let report = SyncReport {
            last_failure: Some(SyncFailure::ServerError(503)),
            ..SyncReport::default()
        };
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["last_failure"], "ServerError(503)");
        assert_eq!(SyncFailure::Timeout.to_string(), "Timeout");
    }
}

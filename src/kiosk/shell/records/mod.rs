//! The records part of the shell: drafts, the outbox, platform look-ups,
//! uploads and the staff audit log.
//!
//! The UI thread only hands work over and collects answers: store work runs
//! on one store thread (one [`Store`] per thread, jobs in order), look-ups
//! on a look-up thread, uploads on the sync worker ([`SyncHandle`]) and
//! audit lines on an audit thread. Nothing here waits on the network or
//! the disk while the UI thread is in it.
//!
//! Answers that belong to a session that has since been wiped (a draft or
//! a look-up arriving after `WipeDraft`) are dropped, so one person's data
//! never reaches the next person's session.
//!
//! Architecture invariant: logs name record numbers, UUIDs and error codes
//! only, never personal data.

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, Local, Utc};
use uuid::Uuid;

use crate::store::{
    photo_refs, Blobs, ListFilter, LocalKey, QueueEntry, QueueStats, Store, StoreError,
};
use crate::sync::client::{ClientError, ClientSettings, PlatformClient};
use crate::sync::core::RetryPolicy;
use crate::sync::worker::{SyncHandle, SyncReport, SyncTicket};
use kiosk_core::id_number::IdNumber;
use kiosk_core::record::{Record, RecordState, ValidRecord};
use kiosk_core::session::{DeviceLine, Effect, Event, QueueLine};
use kiosk_core::staff::AuditEntry;

pub use super::shell::SessionPhotos;

/// A look-up never keeps a person waiting longer than this, whatever the
/// upload timeouts are.
pub const LOOKUP_TIMEOUT: StdDuration = StdDuration::from_secs(8);
/// Of [`LOOKUP_TIMEOUT`], at most this for the connection and handshake.
pub const LOOKUP_CONNECT_TIMEOUT: StdDuration = StdDuration::from_secs(4);
/// How long "send now" waits for the sync worker's go before answering
/// with what it knows so far.
pub const SYNC_NOW_WAIT: StdDuration = StdDuration::from_secs(30);
/// How often the store thread refreshes the staff figures.
const HOUSEKEEPING: StdDuration = StdDuration::from_secs(30);
/// How often drafts past the window are wiped (besides at start and on a
/// window change).
const DRAFT_EXPIRY_EVERY: StdDuration = StdDuration::from_secs(300);
/// The staff queue view shows the newest records.
const QUEUE_VIEW_LIMIT: usize = 200;
/// The county's rule: records go up at least weekly.
const UPLOAD_AT_LEAST_EVERY_DAYS: i64 = 7;

pub struct RecordsSettings {
    /// The outbox SQLite file.
    pub db: PathBuf,
    /// The kiosk-local key file (drafts are encrypted to it at rest).
    pub local_key: PathBuf,
    /// The platform's `age` recipient: queued records are sealed to it.
    pub recipient: age::x25519::Recipient,
    /// Drafts older than this are wiped and never offered again.
    pub draft_window: Duration,
    /// `None`: no platform configured (look-ups answer "not found",
    /// nothing is sent, the status says so).
    pub platform: Option<ClientSettings>,
    /// Append-only JSON lines; no personal data.
    pub audit_log: PathBuf,
}

enum StoreJob {
    SaveDraft {
        record: Box<Record>,
        photos: Blobs,
        now: DateTime<Utc>,
    },
    LoadDraft {
        id: IdNumber,
        epoch: u64,
        now: DateTime<Utc>,
        window: Duration,
    },
    WipeDraft {
        record_id: Uuid,
        now: DateTime<Utc>,
    },
    Enqueue {
        valid: Box<ValidRecord>,
        photos: Blobs,
        now: DateTime<Utc>,
    },
    LoadQueue,
    SetDraftWindow(Duration),
    RefreshStats,
}

/// What the worker threads send back to the UI thread.
enum Answer {
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
}

/// What the store thread knows for the staff screen.
#[derive(Debug, Default)]
struct OutboxStatus {
    stats: Option<QueueStats>,
    /// The last store failure's plain Chinese message, until a success.
    error_zh: Option<&'static str>,
}

/// Why uploads are not running.
enum Platform {
    NotConfigured,
    /// The settings did not give a working client (certificate files …).
    Misconfigured {
        message_zh: &'static str,
    },
    Running {
        sync: SyncHandle,
        lookups: Sender<(u64, IdNumber)>,
    },
}

struct SyncWait {
    ticket: SyncTicket,
    before: SyncReport,
    deadline: Instant,
}

pub struct RecordsShell {
    photos: SessionPhotos,
    /// Bumped (under the photos lock) whenever a session is wiped.
    epoch: Arc<AtomicU64>,
    draft_window: Duration,
    jobs: Option<Sender<StoreJob>>,
    audit: Option<Sender<AuditEntry>>,
    answers: Receiver<Answer>,
    /// Answers made on the UI thread itself (no platform, dead worker).
    ready: Vec<Event>,
    platform: Platform,
    sync_waits: Vec<SyncWait>,
    outbox: Arc<Mutex<OutboxStatus>>,
    threads: Vec<JoinHandle<()>>,
}

/// A poisoned lock still holds good data here (plain maps and counters).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The photos `record` names, copied out of the session's photos.
fn photos_named(photos: &SessionPhotos, record: &Record) -> Blobs {
    let named: Vec<String> = photo_refs(record)
        .into_iter()
        .map(|(_, p)| p.sha256.clone())
        .collect();
    let mut copy = lock(photos).clone();
    copy.retain(&named);
    copy
}

impl RecordsShell {
    /// Opens the outbox and the local key (errors here are returned: the
    /// kiosk cannot take registrations without them), then starts the
    /// worker threads. A platform whose client cannot be built is reported
    /// in the status and logged, and the kiosk still queues records.
    pub fn start(
        settings: RecordsSettings,
        photos: SessionPhotos,
    ) -> Result<RecordsShell, StoreError> {
        if let Some(dir) = settings.db.parent().filter(|d| !d.as_os_str().is_empty()) {
            // A missing data directory is made; any real problem shows in open.
            let _ = std::fs::create_dir_all(dir);
        }
        let store = Store::open(&settings.db)?;
        let key = LocalKey::load_or_create(&settings.local_key)?;
        let (answer_tx, answers) = mpsc::channel();
        let epoch = Arc::new(AtomicU64::new(0));
        let outbox = Arc::new(Mutex::new(OutboxStatus::default()));
        let mut threads = Vec::new();

        let (jobs, job_rx) = mpsc::channel();
        let worker = StoreWorker {
            store,
            key,
            recipient: settings.recipient.clone(),
            window: settings.draft_window,
            photos: Arc::clone(&photos),
            epoch: Arc::clone(&epoch),
            answers: answer_tx.clone(),
            outbox: Arc::clone(&outbox),
            clock: FollowedClock::new(Utc::now()),
        };
        threads.push(spawn("records-store", move || worker.run(job_rx))?);

        let (audit, audit_rx) = mpsc::channel();
        let audit_path = settings.audit_log.clone();
        threads.push(spawn("records-audit", move || {
            run_audit(&audit_path, audit_rx)
        })?);

        let platform = match &settings.platform {
            None => Platform::NotConfigured,
            Some(client_settings) => {
                start_platform(&settings.db, client_settings, &epoch, answer_tx)?
            }
        };

        Ok(RecordsShell {
            photos,
            epoch,
            draft_window: settings.draft_window,
            jobs: Some(jobs),
            audit: Some(audit),
            answers,
            ready: Vec::new(),
            platform,
            sync_waits: Vec::new(),
            outbox,
            threads,
        })
    }

    /// Takes LookUpPerson, LoadDraft, SaveDraft, WipeDraft, Enqueue,
    /// LoadQueue, SyncNow and Audit; hands any other effect back unchanged.
    pub fn execute(&mut self, effect: Effect, now: DateTime<Utc>) -> Option<Effect> {
        match effect {
            Effect::LookUpPerson(id) => self.look_up(id),
            Effect::LoadDraft(id) => {
                let job = StoreJob::LoadDraft {
                    id,
                    epoch: self.epoch.load(Ordering::SeqCst),
                    now,
                    window: self.draft_window,
                };
                if !self.send_job(job) {
                    self.ready.push(Event::DraftFound(None));
                }
            }
            Effect::SaveDraft(record) => {
                let photos = photos_named(&self.photos, &record);
                self.send_job(StoreJob::SaveDraft {
                    record,
                    photos,
                    now,
                });
            }
            Effect::WipeDraft(record_id) => {
                {
                    // Together, so that no answer of the wiped session can
                    // put its photos back (see `StoreWorker::load_draft`).
                    let mut photos = lock(&self.photos);
                    *photos = Blobs::new();
                    self.epoch.fetch_add(1, Ordering::SeqCst);
                }
                self.send_job(StoreJob::WipeDraft { record_id, now });
            }
            Effect::Enqueue(valid) => {
                let photos = photos_named(&self.photos, valid.record());
                if !self.send_job(StoreJob::Enqueue { valid, photos, now }) {
                    self.ready.push(Event::Enqueued(Err(
                        "保存失败，请联系工作人员，记录不会丢失".into(),
                    )));
                }
            }
            Effect::LoadQueue => {
                if !self.send_job(StoreJob::LoadQueue) {
                    self.ready.push(Event::QueueLoaded(Vec::new()));
                }
            }
            Effect::SyncNow => self.sync_now(),
            Effect::Audit(entry) => {
                let sent = self.audit.as_ref().is_some_and(|tx| tx.send(entry).is_ok());
                if !sent {
                    tracing::warn!("audit log writer has stopped; an audit entry was not written");
                }
            }
            other => return Some(other),
        }
        None
    }

    /// LookUpAnswered, DraftFound, Enqueued, QueueLoaded, SyncFinished.
    pub fn poll(&mut self) -> Vec<Event> {
        let mut events = std::mem::take(&mut self.ready);
        let epoch = self.epoch.load(Ordering::SeqCst);
        for answer in self.answers.try_iter() {
            match answer {
                Answer::Event(event) => {
                    if matches!(event, Event::Enqueued(Ok(()))) {
                        if let Platform::Running { sync, .. } = &self.platform {
                            sync.nudge();
                        }
                    }
                    events.push(event);
                }
                Answer::LookUp { epoch: of, found } if of == epoch => {
                    events.push(Event::LookUpAnswered(found.map(Box::new)));
                }
                Answer::DraftFound { epoch: of, found } if of == epoch => {
                    events.push(Event::DraftFound(found.map(Box::new)));
                }
                Answer::LookUp { .. } | Answer::DraftFound { .. } => {
                    tracing::debug!("dropped an answer for a session that has ended");
                }
            }
        }
        events.extend(self.finished_syncs());
        events
    }

    /// For the staff device screen: the outbox and the upload state.
    pub fn status_lines(&self) -> Vec<DeviceLine> {
        let now = Utc::now();
        let outbox = lock(&self.outbox);
        let outbox_line = outbox_line(outbox.stats.as_ref(), outbox.error_zh, now);
        drop(outbox);
        vec![outbox_line, self.platform_line()]
    }

    /// Hot-reloadable: the draft window from a new configuration.
    pub fn set_draft_window(&mut self, window: Duration) {
        self.draft_window = window;
        self.send_job(StoreJob::SetDraftWindow(window));
    }

    fn send_job(&mut self, job: StoreJob) -> bool {
        let sent = self.jobs.as_ref().is_some_and(|tx| tx.send(job).is_ok());
        if !sent {
            tracing::error!("records store thread has stopped; store work is refused");
            lock(&self.outbox).error_zh = Some("本机数据库程序已停止，请重启设备");
        }
        sent
    }

    fn look_up(&mut self, id: IdNumber) {
        let epoch = self.epoch.load(Ordering::SeqCst);
        match &self.platform {
            Platform::Running { lookups, .. } => {
                if lookups.send((epoch, id)).is_err() {
                    tracing::warn!("platform look-up thread has stopped; answering not found");
                    self.ready.push(Event::LookUpAnswered(None));
                }
            }
            Platform::NotConfigured | Platform::Misconfigured { .. } => {
                self.ready.push(Event::LookUpAnswered(None));
            }
        }
    }

    fn sync_now(&mut self) {
        let message = match &self.platform {
            Platform::Running { sync, .. } if sync.is_running() => {
                let before = sync.status();
                self.sync_waits.push(SyncWait {
                    ticket: sync.sync_now(),
                    before,
                    deadline: Instant::now() + SYNC_NOW_WAIT,
                });
                self.send_job(StoreJob::RefreshStats);
                return;
            }
            Platform::Running { .. } => "上传程序已停止，请重启设备或联系工作人员".to_string(),
            Platform::NotConfigured => {
                format!("未配置县平台，无法上传；{}", self.waiting_text())
            }
            Platform::Misconfigured { message_zh } => {
                format!(
                    "县平台连接配置有误（{message_zh}），无法上传；{}",
                    self.waiting_text()
                )
            }
        };
        self.ready.push(Event::SyncFinished {
            message_zh: message,
        });
    }

    fn waiting_text(&self) -> String {
        match lock(&self.outbox).stats.as_ref() {
            Some(stats) => format!("{} 条记录保存在本机等待上传", waiting(stats)),
            None => "记录保存在本机".into(),
        }
    }

    fn finished_syncs(&mut self) -> Vec<Event> {
        let Platform::Running { sync, .. } = &self.platform else {
            return Vec::new();
        };
        let now = Instant::now();
        let mut events = Vec::new();
        let mut refresh = false;
        self.sync_waits.retain(|wait| {
            let (report, done) = match sync.report_for(wait.ticket) {
                Some(report) => (report, true),
                None if now >= wait.deadline || !sync.is_running() => (sync.status(), false),
                None => return true,
            };
            events.push(Event::SyncFinished {
                message_zh: sync_message(&wait.before, &report, done),
            });
            refresh = true;
            false
        });
        if refresh {
            self.send_job(StoreJob::RefreshStats);
        }
        events
    }

    fn platform_line(&self) -> DeviceLine {
        let line = |ok: bool, status: String| DeviceLine {
            name_zh: "县平台上传".into(),
            ok,
            status_zh: status,
        };
        match &self.platform {
            Platform::NotConfigured => line(false, "未配置县平台，记录只保存在本机".into()),
            Platform::Misconfigured { message_zh } => {
                line(false, format!("县平台连接配置有误：{message_zh}"))
            }
            Platform::Running { sync, .. } if !sync.is_running() => {
                line(false, "上传程序已停止，请重启设备".into())
            }
            Platform::Running { sync, .. } => {
                let report = sync.status();
                match (&report.last_failure, report.pending) {
                    (Some(failure), pending) if pending > 0 => {
                        let next = report
                            .next_attempt
                            .map(|at| format!("，{} 再试", local_time(at)))
                            .unwrap_or_default();
                        line(
                            false,
                            format!("暂时无法上传：{}{next}", failure_zh(failure)),
                        )
                    }
                    (_, 0) => line(true, "连接正常，没有等待上传的记录".into()),
                    (_, pending) => line(true, format!("连接正常，正在上传 {pending} 条")),
                }
            }
        }
    }
}

impl Drop for RecordsShell {
    /// Lets the store and audit threads finish what they were given (a
    /// draft being saved, an audit line) before the process goes on.
    fn drop(&mut self) {
        self.jobs = None;
        self.audit = None;
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

fn spawn(name: &str, work: impl FnOnce() + Send + 'static) -> Result<JoinHandle<()>, StoreError> {
    thread::Builder::new()
        .name(name.into())
        .spawn(work)
        .map_err(|e| StoreError::Corrupt(format!("cannot start the {name} thread: {e}")))
}

fn start_platform(
    db: &Path,
    settings: &ClientSettings,
    epoch: &Arc<AtomicU64>,
    answers: Sender<Answer>,
) -> Result<Platform, StoreError> {
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
    let (lookups, lookup_rx) = mpsc::channel::<(u64, IdNumber)>();
    let epoch = Arc::clone(epoch);
    // Not joined on drop: a look-up may be waiting on the network.
    spawn("records-lookup", move || {
        for (of, id) in lookup_rx {
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
    Ok(Platform::Running { sync, lookups })
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

/// The kiosk's clock as last given with a job, moved on by the time since:
/// housekeeping follows the kiosk's time even when it is not the wall clock.
struct FollowedClock {
    at: DateTime<Utc>,
    seen: Instant,
}

impl FollowedClock {
    fn new(at: DateTime<Utc>) -> FollowedClock {
        FollowedClock {
            at,
            seen: Instant::now(),
        }
    }

    fn set(&mut self, at: DateTime<Utc>) {
        *self = FollowedClock::new(at);
    }

    fn now(&self) -> DateTime<Utc> {
        let elapsed = Duration::from_std(self.seen.elapsed()).unwrap_or_default();
        self.at + elapsed
    }
}

struct StoreWorker {
    store: Store,
    key: LocalKey,
    recipient: age::x25519::Recipient,
    window: Duration,
    photos: SessionPhotos,
    epoch: Arc<AtomicU64>,
    answers: Sender<Answer>,
    outbox: Arc<Mutex<OutboxStatus>>,
    clock: FollowedClock,
}

impl StoreWorker {
    fn run(mut self, jobs: Receiver<StoreJob>) {
        self.expire_drafts();
        self.refresh_stats();
        let mut last_expiry = Instant::now();
        let mut queued: VecDeque<StoreJob> = VecDeque::new();
        loop {
            if queued.is_empty() {
                match jobs.recv_timeout(HOUSEKEEPING) {
                    Ok(job) => queued.push_back(job),
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => return,
                }
                queued.extend(jobs.try_iter());
            }
            if let Some(job) = queued.pop_front() {
                // Drafts are saved on every edit: when a newer save of the
                // same draft is already waiting, this one can be skipped.
                let superseded = matches!(
                    (&job, queued.front()),
                    (StoreJob::SaveDraft { record: this, .. }, Some(StoreJob::SaveDraft { record: next, .. }))
                        if this.meta.record_id == next.meta.record_id
                );
                if !superseded && !self.handle(job) {
                    return;
                }
            }
            if last_expiry.elapsed() >= DRAFT_EXPIRY_EVERY {
                self.expire_drafts();
                last_expiry = Instant::now();
            }
            if queued.is_empty() {
                self.refresh_stats();
            }
        }
    }

    /// False when the UI side is gone.
    fn handle(&mut self, job: StoreJob) -> bool {
        let answer = match job {
            StoreJob::SaveDraft {
                record,
                photos,
                now,
            } => {
                self.clock.set(now);
                let result = self.store.save_draft(&self.key, &record, &photos, now);
                self.note("save the draft", &record.meta.record_id, result);
                return true;
            }
            StoreJob::LoadDraft {
                id,
                epoch,
                now,
                window,
            } => {
                self.clock.set(now);
                self.load_draft(&id, epoch, now, window)
            }
            StoreJob::WipeDraft { record_id, now } => {
                self.clock.set(now);
                let result = self.store.wipe_draft(record_id);
                self.note("wipe the draft", &record_id, result);
                return true;
            }
            StoreJob::Enqueue { valid, photos, now } => {
                self.clock.set(now);
                Answer::Event(Event::Enqueued(self.enqueue(&valid, &photos)))
            }
            StoreJob::LoadQueue => Answer::Event(Event::QueueLoaded(self.queue_lines())),
            StoreJob::SetDraftWindow(window) => {
                self.window = window;
                self.expire_drafts();
                return true;
            }
            StoreJob::RefreshStats => return true,
        };
        self.answers.send(answer).is_ok()
    }

    fn load_draft(
        &mut self,
        id: &IdNumber,
        epoch: u64,
        now: DateTime<Utc>,
        window: Duration,
    ) -> Answer {
        let found = match self.store.load_draft(&self.key, id, now, window) {
            Ok(found) => {
                self.ok();
                found
            }
            Err(e) => {
                tracing::warn!(code = e.code(), "could not load a draft: {e}");
                self.failed(&e);
                None
            }
        };
        let found = found.and_then(|(record, blobs)| {
            let mut photos = lock(&self.photos);
            // Checked under the photos lock, which WipeDraft holds while it
            // clears them and moves the epoch on.
            if self.epoch.load(Ordering::SeqCst) != epoch {
                return None;
            }
            for (_, bytes) in blobs.iter() {
                photos.insert(bytes.to_vec());
            }
            Some(record)
        });
        Answer::DraftFound { epoch, found }
    }

    fn enqueue(&mut self, valid: &ValidRecord, photos: &Blobs) -> Result<(), String> {
        match self.store.enqueue(valid, photos, &self.recipient) {
            Ok(receipt) => {
                self.ok();
                tracing::info!(
                    record = %receipt.record_number,
                    newly = receipt.newly_queued,
                    "record queued"
                );
                Ok(())
            }
            Err(e) => {
                tracing::error!(
                    code = e.code(),
                    record_id = %valid.record().meta.record_id,
                    "could not queue a record: {e}"
                );
                self.failed(&e);
                Err(format!("{}，记录不会丢失，请联系工作人员", e.message_zh()))
            }
        }
    }

    fn queue_lines(&mut self) -> Vec<QueueLine> {
        let filter = ListFilter {
            limit: Some(QUEUE_VIEW_LIMIT),
            ..ListFilter::default()
        };
        match self.store.list(&filter) {
            Ok(entries) => {
                self.ok();
                entries.iter().map(queue_line).collect()
            }
            Err(e) => {
                tracing::warn!(code = e.code(), "could not list the queue: {e}");
                self.failed(&e);
                Vec::new()
            }
        }
    }

    fn expire_drafts(&mut self) {
        match self.store.expire_drafts(self.clock.now(), self.window) {
            Ok(0) => {}
            Ok(n) => tracing::info!(drafts = n, "expired drafts past the window"),
            Err(e) => {
                tracing::warn!(code = e.code(), "could not expire drafts: {e}");
                self.failed(&e);
            }
        }
    }

    fn refresh_stats(&mut self) {
        match self.store.stats() {
            Ok(stats) => lock(&self.outbox).stats = Some(stats),
            Err(e) => {
                tracing::warn!(code = e.code(), "could not read queue figures: {e}");
                self.failed(&e);
            }
        }
    }

    fn note<T>(&mut self, what: &str, record_id: &Uuid, result: Result<T, StoreError>) {
        match result {
            Ok(_) => self.ok(),
            Err(e) => {
                tracing::warn!(code = e.code(), %record_id, "could not {what}: {e}");
                self.failed(&e);
            }
        }
    }

    fn ok(&self) {
        lock(&self.outbox).error_zh = None;
    }

    fn failed(&self, e: &StoreError) {
        lock(&self.outbox).error_zh = Some(e.message_zh());
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

/// "K7Q2-M9XD-3F8A　110105********002X": the record number staff can look
/// up and the masked ID number; the store keeps no name in the clear.
fn queue_line(entry: &QueueEntry) -> QueueLine {
    let reasons: Vec<&str> = entry.reasons.iter().map(|r| r.message.as_str()).collect();
    QueueLine {
        record_id: entry.record_id,
        state: entry.state,
        queued_at: entry.signed_at,
        label: format!("{}　{}", entry.record_number, entry.masked_id),
        reason_zh: (entry.state == RecordState::Rejected && !reasons.is_empty())
            .then(|| reasons.join("；")),
    }
}

fn waiting(stats: &QueueStats) -> u64 {
    stats.by_state.get("signed").copied().unwrap_or(0)
}

fn local_time(at: DateTime<Utc>) -> String {
    at.with_timezone(&Local)
        .format("%-m月%-d日 %H:%M")
        .to_string()
}

fn outbox_line(
    stats: Option<&QueueStats>,
    error_zh: Option<&str>,
    now: DateTime<Utc>,
) -> DeviceLine {
    let line = |ok: bool, status: String| DeviceLine {
        name_zh: "本机登记记录".into(),
        ok,
        status_zh: status,
    };
    if let Some(error) = error_zh {
        return line(false, format!("本机数据库出错：{error}"));
    }
    let Some(stats) = stats else {
        return line(true, "正在读取…".into());
    };
    let waiting = waiting(stats);
    let rejected = stats.by_state.get("rejected").copied().unwrap_or(0);
    let mut ok = true;
    let mut parts = Vec::new();
    match stats.oldest_unsent_signed_at {
        Some(oldest) if waiting > 0 => {
            let mut part = format!("{waiting} 条等待上传（最早的 {} 签字）", local_time(oldest));
            if now - oldest > Duration::days(UPLOAD_AT_LEAST_EVERY_DAYS) {
                ok = false;
                part.push_str("，已超过一周没有上传，请联系县里");
            }
            parts.push(part);
        }
        _ if stats.total == 0 => parts.push("还没有登记记录".to_string()),
        _ => parts.push("全部已上传".to_string()),
    }
    if rejected > 0 {
        ok = false;
        parts.push(format!("{rejected} 条被县里退回，需要修改"));
    }
    parts.push(format!("共 {} 条", stats.total));
    line(ok, parts.join("；"))
}

/// What one "send now" did, in plain words.
fn sync_message(before: &SyncReport, after: &SyncReport, finished: bool) -> String {
    let sent = after.uploaded.saturating_sub(before.uploaded);
    let refused = after
        .rejected_on_upload
        .saturating_sub(before.rejected_on_upload);
    let mut parts = vec![if finished {
        format!("已上传 {sent} 条")
    } else {
        format!("正在上传，已上传 {sent} 条，稍后可在记录列表查看")
    }];
    if refused > 0 {
        parts.push(format!("县平台退回 {refused} 条"));
    }
    if after.pending > 0 {
        parts.push(format!("还有 {} 条等待上传", after.pending));
        if let Some(failure) = &after.last_failure {
            parts.push(format!("原因：{}", failure_zh(failure)));
        }
    } else {
        parts.push("没有等待上传的记录".into());
    }
    if after.awaiting_review > 0 {
        parts.push(format!("{} 条等待县里审核", after.awaiting_review));
    }
    parts.join("；")
}

/// The sync worker's failure name (an `UploadOutcome` variant) in plain words.
fn failure_zh(failure: &str) -> &'static str {
    let name = failure.split('(').next().unwrap_or(failure);
    match name {
        "Timeout" => "县平台没有及时应答",
        "ConnectionRefused" | "ConnectionReset" | "Transport" => "连接不上县平台，请检查网络",
        "Tls" => "安全连接失败，请检查本机证书",
        "ServerError" => "县平台出现故障",
        "Conflict" => "县平台已有编号相同的另一份记录，请联系县里",
        "UnexpectedStatus" => "县平台的应答无法识别",
        "Rejected" => "县平台退回了记录",
        _ => "上传失败",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use expect_test::{expect, Expect};
    use std::collections::BTreeMap;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 10, 12, 0, 0).unwrap()
    }

    fn stats(states: &[(&str, u64)], oldest_days_ago: Option<i64>) -> QueueStats {
        let by_state: BTreeMap<String, u64> =
            states.iter().map(|(s, n)| (s.to_string(), *n)).collect();
        QueueStats {
            total: by_state.values().sum(),
            by_state,
            by_category: BTreeMap::new(),
            by_township: BTreeMap::new(),
            oldest_unsent_signed_at: oldest_days_ago.map(|d| t0() - Duration::days(d)),
            drafts: 0,
        }
    }

    fn check_outbox(stats: Option<QueueStats>, error: Option<&str>, expect: Expect) {
        let line = outbox_line(stats.as_ref(), error, t0());
        // The time of day depends on the machine's zone; the rest does not.
        let status: String = line
            .status_zh
            .split(' ')
            .map(|w| if w.contains(':') { "HH:MM" } else { w })
            .collect::<Vec<_>>()
            .join(" ");
        expect.assert_eq(&format!("{} {}: {status}", line.ok, line.name_zh));
    }

    #[test]
    fn the_outbox_line_counts_waiting_records_and_flags_the_weekly_rule() {
        check_outbox(None, None, expect!["true 本机登记记录: 正在读取…"]);
        check_outbox(
            Some(stats(&[], None)),
            None,
            expect!["true 本机登记记录: 还没有登记记录；共 0 条"],
        );
        check_outbox(
            Some(stats(&[("sent", 3), ("accepted", 2)], None)),
            None,
            expect!["true 本机登记记录: 全部已上传；共 5 条"],
        );
        check_outbox(
            Some(stats(&[("signed", 2), ("sent", 1)], Some(1))),
            None,
            expect!["true 本机登记记录: 2 条等待上传（最早的 3月9日 HH:MM 签字）；共 3 条"],
        );
        check_outbox(
            Some(stats(&[("signed", 1)], Some(8))),
            None,
            expect!["false 本机登记记录: 1 条等待上传（最早的 3月2日 HH:MM 签字），已超过一周没有上传，请联系县里；共 1 条"],
        );
        check_outbox(
            Some(stats(&[("accepted", 4), ("rejected", 1)], None)),
            None,
            expect!["false 本机登记记录: 全部已上传；1 条被县里退回，需要修改；共 5 条"],
        );
        check_outbox(
            Some(stats(&[("signed", 1)], Some(1))),
            Some("保存失败，请联系工作人员"),
            expect!["false 本机登记记录: 本机数据库出错：保存失败，请联系工作人员"],
        );
    }

    fn check_sync(before: SyncReport, after: SyncReport, finished: bool, expect: Expect) {
        expect.assert_eq(&sync_message(&before, &after, finished));
    }

    #[test]
    fn a_sync_report_reads_as_plain_words() {
        let report =
            |uploaded, rejected_on_upload, pending, awaiting_review, failure: Option<&str>| {
                SyncReport {
                    uploaded,
                    rejected_on_upload,
                    pending,
                    awaiting_review,
                    last_failure: failure.map(String::from),
                    ..SyncReport::default()
                }
            };
        check_sync(
            report(2, 0, 0, 0, None),
            report(5, 0, 0, 3, None),
            true,
            expect!["已上传 3 条；没有等待上传的记录；3 条等待县里审核"],
        );
        check_sync(
            report(0, 0, 2, 0, Some("Timeout")),
            report(0, 0, 2, 0, Some("ConnectionRefused")),
            true,
            expect!["已上传 0 条；还有 2 条等待上传；原因：连接不上县平台，请检查网络"],
        );
        check_sync(
            report(0, 0, 0, 0, None),
            report(1, 1, 0, 1, Some("ServerError(503)")),
            true,
            expect!["已上传 1 条；县平台退回 1 条；没有等待上传的记录；1 条等待县里审核"],
        );
        check_sync(
            report(0, 0, 3, 0, None),
            report(1, 0, 2, 1, Some("Timeout")),
            false,
            expect!["正在上传，已上传 1 条，稍后可在记录列表查看；还有 2 条等待上传；原因：县平台没有及时应答；1 条等待县里审核"],
        );
    }

    #[test]
    fn every_failure_name_of_the_worker_has_plain_words() {
        use crate::sync::core::UploadOutcome as O;
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
            let name = match &outcome {
                O::Rejected(_) => "Rejected".to_string(),
                other => format!("{other:?}"),
            };
            let words = failure_zh(&name);
            let expected_generic = matches!(outcome, O::Stored | O::AlreadyStored);
            assert_eq!(words == "上传失败", expected_generic, "{name}: {words}");
        }
    }
}

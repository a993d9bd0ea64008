//! The records part of the shell: drafts, the outbox, platform look-ups,
//! uploads and the staff audit log.
//!
//! The UI thread only hands work over and collects answers: store work runs
//! on one store thread ([`store_worker`]), look-ups on a look-up thread and
//! uploads on the sync worker ([`lookup`]), audit lines on an audit thread
//! ([`audit`]). Nothing here waits on the network or the disk while the UI
//! thread is in it.
//!
//! Every effect that expects an answer gets one, even when the thread that
//! should give it has died: a record not queued is a failure the person is
//! told about, never silence.
//!
//! Answers that belong to a session that has since been wiped (a draft or
//! a look-up arriving after `WipeDraft`) are dropped, so one person's data
//! never reaches the next person's session.
//!
//! Architecture invariant: logs name record numbers, UUIDs and error codes
//! only, never personal data.

mod audit;
mod lookup;
mod status;
mod store_worker;
mod threads;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::store::{Blobs, LocalKey, Store, StoreError};
use crate::sync::client::ClientSettings;
use crate::sync::worker::{SyncReport, SyncTicket};
use kiosk_core::id_number::IdNumber;
use kiosk_core::record::{Record, ValidRecord};
use kiosk_core::session::{DeviceLine, Event};
use kiosk_core::staff::AuditEntry;
use wire::sealed::photo_refs;

use audit::AuditLog;
use lookup::{start_platform, Platform};
use store_worker::{FollowedClock, OutboxStatus, StoreJob, StoreThread, StoreWorker};
use threads::{lock, Answer};

pub use crate::kiosk::shell::SessionPhotos;
pub use lookup::{PlatformStartError, LOOKUP_CONNECT_TIMEOUT, LOOKUP_TIMEOUT};
pub use threads::{ThreadStartError, THREAD_START_ZH};

/// How long "send now" waits for the sync worker's go before answering
/// with what it knows so far.
pub const SYNC_NOW_WAIT: StdDuration = StdDuration::from_secs(30);
/// Said when a record could not be handed to the store thread, or the
/// thread died holding it.
pub const ENQUEUE_FAILED_ZH: &str = "保存失败，请联系工作人员，记录不会丢失";
/// On the staff screen when the store thread has stopped.
const STORE_STOPPED_ZH: &str = "本机数据库程序已停止，请重启设备";

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

/// Why the records part could not start.
#[derive(Debug, thiserror::Error)]
pub enum RecordsError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Thread(#[from] ThreadStartError),
    #[error(transparent)]
    Platform(#[from] PlatformStartError),
}

impl RecordsError {
    pub fn code(&self) -> &'static str {
        match self {
            RecordsError::Store(e) => e.code(),
            RecordsError::Platform(PlatformStartError::Sync(e)) => e.code(),
            RecordsError::Thread(_) | RecordsError::Platform(PlatformStartError::Thread(_)) => {
                "thread_start"
            }
        }
    }

    pub fn message_zh(&self) -> &'static str {
        match self {
            RecordsError::Store(e) => e.message_zh(),
            RecordsError::Platform(PlatformStartError::Sync(e)) => e.message_zh(),
            RecordsError::Thread(_) | RecordsError::Platform(PlatformStartError::Thread(_)) => {
                THREAD_START_ZH
            }
        }
    }
}

struct SyncWait {
    ticket: SyncTicket,
    before: SyncReport,
    deadline: Instant,
}

/// Answers the store or look-up thread still owes the session of the
/// current epoch; given as failures if the thread dies first.
#[derive(Debug, Default)]
struct Owed {
    drafts: usize,
    enqueues: usize,
    queue_loads: usize,
    look_ups: usize,
}

pub struct RecordsShell {
    photos: SessionPhotos,
    /// Bumped (under the photos lock) whenever a session is wiped.
    epoch: Arc<AtomicU64>,
    draft_window: Duration,
    store: StoreThread,
    audit: AuditLog,
    answers: Receiver<Answer>,
    /// Answers made on the UI thread itself (no platform, dead worker).
    ready: Vec<Event>,
    owed: Owed,
    platform: Platform,
    sync_waits: Vec<SyncWait>,
    outbox: Arc<Mutex<OutboxStatus>>,
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
    ) -> Result<RecordsShell, RecordsError> {
        if let Some(dir) = settings.db.parent().filter(|d| !d.as_os_str().is_empty()) {
            // A missing data directory is made; any real problem shows in open.
            let _ = std::fs::create_dir_all(dir);
        }
        let store = Store::open(&settings.db)?;
        let key = LocalKey::load_or_create(&settings.local_key)?;
        let (answer_tx, answers) = mpsc::channel();
        let epoch = Arc::new(AtomicU64::new(0));
        let outbox = Arc::new(Mutex::new(OutboxStatus::default()));

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
        let store = StoreThread::start(worker, jobs, job_rx)?;
        let audit = AuditLog::start(settings.audit_log.clone())?;

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
            store,
            audit,
            answers,
            ready: Vec::new(),
            owed: Owed::default(),
            platform,
            sync_waits: Vec::new(),
            outbox,
        })
    }

    /// `Effect::LookUpPerson`: answered by `LookUpAnswered` (not found when
    /// no platform is configured or reachable).
    pub fn look_up(&mut self, id: IdNumber) {
        let epoch = self.epoch.load(Ordering::SeqCst);
        match &self.platform {
            Platform::Running { lookups, .. } => {
                if lookups.send(epoch, id) {
                    self.owed.look_ups += 1;
                } else {
                    tracing::warn!("platform look-up thread has stopped; answering not found");
                    self.ready.push(Event::LookUpAnswered(None));
                }
            }
            Platform::NotConfigured | Platform::Misconfigured { .. } => {
                self.ready.push(Event::LookUpAnswered(None));
            }
        }
    }

    /// `Effect::LoadDraft`: answered by `DraftFound`.
    pub fn load_draft(&mut self, id: IdNumber, now: DateTime<Utc>) {
        let job = StoreJob::LoadDraft {
            id,
            epoch: self.epoch.load(Ordering::SeqCst),
            now,
            window: self.draft_window,
        };
        if self.send_job(job) {
            self.owed.drafts += 1;
        } else {
            self.ready.push(Event::DraftFound(None));
        }
    }

    /// `Effect::SaveDraft` (no answer: a draft not saved is logged and
    /// shown on the staff screen; the session goes on).
    pub fn save_draft(&mut self, record: Box<Record>, now: DateTime<Utc>) {
        let photos = photos_named(&self.photos, &record);
        self.send_job(StoreJob::SaveDraft {
            record,
            photos,
            now,
        });
    }

    /// `Effect::WipeDraft`: the session ended; its photos go at once.
    pub fn wipe_draft(&mut self, record_id: Uuid, now: DateTime<Utc>) {
        {
            // Together, so that no answer of the wiped session can
            // put its photos back (see `StoreWorker::load_draft`).
            let mut photos = lock(&self.photos);
            *photos = Blobs::new();
            self.epoch.fetch_add(1, Ordering::SeqCst);
        }
        // What the ended session was owed is dropped when it comes.
        self.owed.drafts = 0;
        self.owed.look_ups = 0;
        self.send_job(StoreJob::WipeDraft { record_id, now });
    }

    /// `Effect::Enqueue`: answered by `Enqueued`, a failure when the
    /// record could not be handed over.
    pub fn enqueue(&mut self, valid: Box<ValidRecord>, now: DateTime<Utc>) {
        let photos = photos_named(&self.photos, valid.record());
        if self.send_job(StoreJob::Enqueue { valid, photos, now }) {
            self.owed.enqueues += 1;
        } else {
            self.ready
                .push(Event::Enqueued(Err(ENQUEUE_FAILED_ZH.into())));
        }
    }

    /// `Effect::LoadQueue`: answered by `QueueLoaded`.
    pub fn load_queue(&mut self) {
        if self.send_job(StoreJob::LoadQueue) {
            self.owed.queue_loads += 1;
        } else {
            self.ready.push(Event::QueueLoaded(Vec::new()));
        }
    }

    /// `Effect::Audit` (no answer).
    pub fn audit(&mut self, entry: AuditEntry) {
        self.audit.write(entry);
    }

    /// LookUpAnswered, DraftFound, Enqueued, QueueLoaded, SyncFinished.
    pub fn poll(&mut self) -> Vec<Event> {
        // Asked before draining: a thread found ended has sent all it
        // ever will, so whatever is still owed after the drain is lost.
        let store_ended = self.store.has_ended();
        let lookups_ended = match &self.platform {
            Platform::Running { lookups, .. } => lookups.has_ended(),
            Platform::NotConfigured | Platform::Misconfigured { .. } => false,
        };
        let mut events = std::mem::take(&mut self.ready);
        let epoch = self.epoch.load(Ordering::SeqCst);
        for answer in self.answers.try_iter() {
            match answer {
                Answer::Event(event) => {
                    match &event {
                        Event::Enqueued(result) => {
                            self.owed.enqueues = self.owed.enqueues.saturating_sub(1);
                            if let (Ok(()), Platform::Running { sync, .. }) =
                                (result, &self.platform)
                            {
                                sync.nudge();
                            }
                        }
                        Event::QueueLoaded(_) => {
                            self.owed.queue_loads = self.owed.queue_loads.saturating_sub(1);
                        }
                        _ => {}
                    }
                    events.push(event);
                }
                Answer::LookUp { epoch: of, found } if of == epoch => {
                    self.owed.look_ups = self.owed.look_ups.saturating_sub(1);
                    events.push(Event::LookUpAnswered(found.map(Box::new)));
                }
                Answer::DraftFound { epoch: of, found } if of == epoch => {
                    self.owed.drafts = self.owed.drafts.saturating_sub(1);
                    events.push(Event::DraftFound(found.map(Box::new)));
                }
                Answer::Returned {
                    epoch: of,
                    returned,
                } if of == epoch => {
                    events.push(Event::ReturnedRecordFound(returned));
                }
                Answer::LookUp { .. } | Answer::DraftFound { .. } | Answer::Returned { .. } => {
                    tracing::debug!("dropped an answer for a session that has ended");
                }
            }
        }
        if store_ended {
            events.extend(self.store_lost());
        }
        if lookups_ended && self.owed.look_ups > 0 {
            tracing::error!("platform look-up thread has stopped; answering not found");
            for _ in 0..std::mem::take(&mut self.owed.look_ups) {
                events.push(Event::LookUpAnswered(None));
            }
        }
        events.extend(self.finished_syncs());
        events
    }

    /// For the staff device screen: the outbox and the upload state.
    pub fn status_lines(&self) -> Vec<DeviceLine> {
        let now = Utc::now();
        let outbox = lock(&self.outbox);
        let outbox_line = status::outbox_line(outbox.stats.as_ref(), outbox.error_zh, now);
        drop(outbox);
        vec![outbox_line, status::platform_line(&self.platform)]
    }

    /// Hot-reloadable: the draft window from a new configuration.
    pub fn set_draft_window(&mut self, window: Duration) {
        self.draft_window = window;
        self.send_job(StoreJob::SetDraftWindow(window));
    }

    /// `Effect::SyncNow`: answered by `SyncFinished`.
    pub fn sync_now(&mut self) {
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

    fn send_job(&mut self, job: StoreJob) -> bool {
        let sent = self.store.send(job);
        if !sent {
            tracing::error!("records store thread has stopped; store work is refused");
            lock(&self.outbox).error_zh = Some(STORE_STOPPED_ZH);
        }
        sent
    }

    /// The store thread died: every answer it owed, as a failure.
    fn store_lost(&mut self) -> Vec<Event> {
        let owed = Owed {
            look_ups: self.owed.look_ups,
            ..std::mem::take(&mut self.owed)
        };
        let lost = owed.drafts + owed.enqueues + owed.queue_loads;
        if lost == 0 {
            return Vec::new();
        }
        tracing::error!(
            lost,
            "records store thread has died; its answers are failures"
        );
        lock(&self.outbox).error_zh = Some(STORE_STOPPED_ZH);
        let mut events = Vec::new();
        events.extend((0..owed.drafts).map(|_| Event::DraftFound(None)));
        events.extend((0..owed.enqueues).map(|_| Event::Enqueued(Err(ENQUEUE_FAILED_ZH.into()))));
        events.extend((0..owed.queue_loads).map(|_| Event::QueueLoaded(Vec::new())));
        events
    }

    fn waiting_text(&self) -> String {
        match lock(&self.outbox).stats.as_ref() {
            Some(stats) => format!("{} 条记录保存在本机等待上传", status::waiting(stats)),
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
                message_zh: status::sync_message(&wait.before, &report, done),
            });
            refresh = true;
            false
        });
        if refresh {
            self.send_job(StoreJob::RefreshStats);
        }
        events
    }
}

impl Drop for RecordsShell {
    /// Lets the store and audit threads finish what they were given (a
    /// draft being saved, an audit line) before the process goes on.
    fn drop(&mut self) {
        self.store.close();
        self.audit.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kiosk::shell::test_support::valid_record;

    fn shell(dir: &std::path::Path) -> RecordsShell {
        let identity = age::x25519::Identity::generate();
        RecordsShell::start(
            RecordsSettings {
                db: dir.join("outbox.sqlite3"),
                local_key: dir.join("local.agekey"),
                recipient: identity.to_public(),
                draft_window: Duration::hours(2),
                platform: None,
                audit_log: dir.join("audit.jsonl"),
            },
            SessionPhotos::default(),
        )
        .unwrap()
    }

    fn id() -> IdNumber {
        IdNumber::parse_structure("11010519491231002X").unwrap()
    }

    fn poll_until(shell: &mut RecordsShell, count: usize) -> Vec<Event> {
        let mut events = Vec::new();
        for _ in 0..200 {
            events.extend(shell.poll());
            if events.len() >= count {
                break;
            }
            std::thread::sleep(StdDuration::from_millis(20));
        }
        events
    }

    #[test]
    fn a_store_thread_that_dies_holding_jobs_still_answers_them() {
        let failed_enqueue = Event::Enqueued(Err(ENQUEUE_FAILED_ZH.into()));
        let dir = tempfile::tempdir().unwrap();
        let mut shell = shell(dir.path());
        // Given to the thread together: it dies on the first, holding the
        // rest (or, if it dies first, refuses them: answered all the same).
        assert!(shell.send_job(StoreJob::Panic));
        shell.load_draft(id(), Utc::now());
        shell.enqueue(Box::new(valid_record()), Utc::now());
        shell.load_queue();
        let mut events = poll_until(&mut shell, 3);
        events.sort_by_key(|e| format!("{e:?}"));
        let mut expected = vec![
            Event::DraftFound(None),
            failed_enqueue.clone(),
            Event::QueueLoaded(Vec::new()),
        ];
        expected.sort_by_key(|e| format!("{e:?}"));
        assert_eq!(events, expected);
        let outbox = &shell.status_lines()[0];
        assert!(
            !outbox.ok && outbox.status_zh.contains(STORE_STOPPED_ZH),
            "{outbox:?}"
        );

        // Asked after the death: answered at once.
        shell.load_draft(id(), Utc::now());
        shell.enqueue(Box::new(valid_record()), Utc::now());
        shell.load_queue();
        assert_eq!(
            shell.poll(),
            vec![
                Event::DraftFound(None),
                failed_enqueue,
                Event::QueueLoaded(Vec::new())
            ]
        );
    }

    #[test]
    fn a_look_up_thread_that_died_holding_a_look_up_answers_not_found() {
        let dir = tempfile::tempdir().unwrap();
        let pki = trust::pki::DemoPki::generate(&dir.path().join("pki"), "AX-FC-01").unwrap();
        let settings = ClientSettings::demo(&pki.dir, "https://127.0.0.1:9").unwrap();
        let mut shell = shell(dir.path());
        let sync = crate::sync::worker::SyncHandle::spawn(
            dir.path().join("outbox.sqlite3"),
            crate::sync::client::PlatformClient::new(&settings).unwrap(),
            crate::sync::core::RetryPolicy::default(),
        )
        .unwrap();
        // The request is taken (the channel is open) but never answered.
        let (requests, held) = mpsc::channel();
        shell.platform = Platform::Running {
            sync,
            lookups: lookup::LookUps::ended(requests),
        };
        shell.look_up(id());
        assert_eq!(held.try_iter().count(), 1, "handed to the thread");
        assert_eq!(shell.poll(), vec![Event::LookUpAnswered(None)]);
        // Answered once, not on every poll.
        assert_eq!(shell.poll(), Vec::<Event>::new());
    }
}

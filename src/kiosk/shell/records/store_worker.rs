//! The store thread: drafts and the outbox, one [`Store`] on one thread,
//! jobs in order. It answers through the shared answer channel and keeps
//! the outbox figures for the staff screen up to date.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::kiosk::shell::SessionPhotos;
use crate::store::{Blobs, ListFilter, LocalKey, QueueEntry, QueueStats, Store, StoreError};
use kiosk_core::id_number::IdNumber;
use kiosk_core::record::{Record, RecordState, ValidRecord};
use kiosk_core::session::{Event, QueueLine, ReturnedRecord};

use super::threads::{lock, spawn, Answer, ThreadStartError};

/// How often the store thread refreshes the staff figures.
const HOUSEKEEPING: StdDuration = StdDuration::from_secs(30);
/// How often drafts past the window are wiped (besides at start and on a
/// window change).
const DRAFT_EXPIRY_EVERY: StdDuration = StdDuration::from_secs(300);
/// The staff queue view shows the newest records.
const QUEUE_VIEW_LIMIT: usize = 200;

/// The running store thread, as the UI thread holds it.
pub(super) struct StoreThread {
    jobs: Option<Sender<StoreJob>>,
    thread: Option<JoinHandle<()>>,
}

impl StoreThread {
    pub(super) fn start(
        worker: StoreWorker,
        jobs: Sender<StoreJob>,
        job_rx: Receiver<StoreJob>,
    ) -> Result<StoreThread, ThreadStartError> {
        let thread = spawn("records-store", move || worker.run(job_rx))?;
        Ok(StoreThread {
            jobs: Some(jobs),
            thread: Some(thread),
        })
    }

    /// False when the thread has stopped and the job was not taken.
    pub(super) fn send(&self, job: StoreJob) -> bool {
        self.jobs.as_ref().is_some_and(|tx| tx.send(job).is_ok())
    }

    /// The thread has ended (it panicked): what it had been given and not
    /// answered will never be answered.
    pub(super) fn has_ended(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Lets the thread finish what it was given (a draft being saved).
    pub(super) fn close(&mut self) {
        self.jobs = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

pub(super) enum StoreJob {
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
    /// Kills the store thread, to test what the shell answers then.
    #[cfg(test)]
    Panic,
}

/// What the store thread knows for the staff screen.
#[derive(Debug, Default)]
pub(super) struct OutboxStatus {
    pub stats: Option<QueueStats>,
    /// The last store failure's plain Chinese message, until a success.
    pub error_zh: Option<&'static str>,
}

/// The kiosk's clock as last given with a job, moved on by the time since:
/// housekeeping follows the kiosk's time even when it is not the wall clock.
pub(super) struct FollowedClock {
    at: DateTime<Utc>,
    seen: Instant,
}

impl FollowedClock {
    pub(super) fn new(at: DateTime<Utc>) -> FollowedClock {
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

pub(super) struct StoreWorker {
    pub store: Store,
    pub key: LocalKey,
    pub recipient: age::x25519::Recipient,
    pub window: Duration,
    pub photos: SessionPhotos,
    pub epoch: Arc<AtomicU64>,
    pub answers: Sender<Answer>,
    pub outbox: Arc<Mutex<OutboxStatus>>,
    pub clock: FollowedClock,
}

impl StoreWorker {
    pub(super) fn run(mut self, jobs: Receiver<StoreJob>) {
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
                // Idle: the log goes into the database file now, so the
                // next enqueue's commit does not pay for it.
                if let Err(e) = self.store.checkpoint() {
                    tracing::warn!(code = e.code(), "outbox checkpoint failed: {e}");
                }
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
                let message_zh = result.as_ref().err().map(draft_not_saved_zh);
                self.note("save the draft", &record.meta.record_id, result);
                match message_zh {
                    // The person keeps going, but is told that what they
                    // typed is only in memory until the store works again.
                    Some(message_zh) => Answer::Event(Event::DraftNotSaved { message_zh }),
                    None => return true,
                }
            }
            StoreJob::LoadDraft {
                id,
                epoch,
                now,
                window,
            } => {
                self.clock.set(now);
                let draft = self.load_draft(&id, epoch, now, window);
                if self.answers.send(draft).is_err() {
                    return false;
                }
                match self.returned_record(&id) {
                    Some(returned) => Answer::Returned { epoch, returned },
                    None => return true,
                }
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
            #[cfg(test)]
            StoreJob::Panic => panic!("store thread killed by a test"),
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

    /// This person's record the county returned, if this kiosk has one.
    fn returned_record(&mut self, id: &IdNumber) -> Option<ReturnedRecord> {
        match self.store.returned_record(&self.key, id) {
            Ok(found) => found.map(|entry| ReturnedRecord {
                record_id: entry.record_id,
                record_number: entry.record_number,
                reasons_zh: entry.reasons.into_iter().map(|r| r.message).collect(),
            }),
            Err(e) => {
                tracing::warn!(code = e.code(), "could not look for a returned record: {e}");
                self.failed(&e);
                None
            }
        }
    }

    fn enqueue(&mut self, valid: &ValidRecord, photos: &Blobs) -> Result<(), String> {
        match self.store.enqueue(valid, photos, &self.recipient) {
            Ok(receipt) => {
                self.ok();
                // Normally the draft's tag came along; a record signed
                // without a saved draft is tagged here.
                let record = valid.record();
                if let Ok(id) = IdNumber::parse_structure(record.identity.id_number.trim()) {
                    let tagged = self.store.tag_record(&self.key, record.meta.record_id, &id);
                    self.note("tag the record", &record.meta.record_id, tagged);
                }
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
                Err(enqueue_failed_zh(&e))
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

/// What the person and staff read when a signed record could not be
/// queued: never "saved"; the record stays on screen, and confirming the
/// signature again queues it once the cause is dealt with.
fn enqueue_failed_zh(e: &StoreError) -> String {
    format!(
        "{}。记录不会丢失：填写的内容都还在，处理好后请工作人员再次确认签字即可保存",
        e.message_zh()
    )
}

fn draft_not_saved_zh(e: &StoreError) -> String {
    format!(
        "{}。您可以继续填写，但填写的内容暂时没有存到本机，请告诉工作人员",
        e.message_zh()
    )
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

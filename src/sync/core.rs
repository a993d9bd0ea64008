//! The sync core: decides what the uploader does next, without doing any IO.
//!
//! In the style of Glean's uploader: the driver asks [`SyncCore::next_task`]
//! what to do at `now`, performs it, and reports the outcome with
//! [`SyncCore::on_upload`] or [`SyncCore::on_poll`]. One table,
//! [`classify`], decides what each outcome means. The core never reads a
//! clock or a socket, so every retry schedule is tested by jumping a virtual
//! clock.
//!
//! What must survive a restart lives in [`SyncState`] (failure count, the
//! earliest next attempt, the jitter generator's state, the next review
//! poll); the driver persists it after every change. The queue itself is the
//! store's: at start-up the driver hands the core the records still to send.

use std::collections::VecDeque;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::backoff::Backoff;
pub use crate::backoff::SplitMix64;
use kiosk_core::Problem;
use wire::records::ReviewState;

/// How retries are spaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Delay after the first failure.
    pub initial: Duration,
    /// No delay grows past this.
    pub cap: Duration,
    /// How often the review outcomes of sent records are asked for.
    pub review_poll_interval: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            initial: Duration::seconds(5),
            cap: Duration::minutes(30),
            review_poll_interval: Duration::minutes(15),
        }
    }
}

impl RetryPolicy {
    /// The upload back-off (the configuration poller uses the same one).
    pub fn backoff(&self) -> Backoff {
        Backoff {
            initial: self.initial,
            cap: self.cap,
        }
    }

    /// The delay before attempt `failures + 1`, before jitter.
    pub fn base_delay(&self, failures: u32) -> Duration {
        self.backoff().base_delay(failures)
    }

    /// The delay before attempt `failures + 1`, jittered.
    pub fn jittered_delay(&self, failures: u32, rng: &mut SplitMix64) -> Duration {
        self.backoff().jittered_delay(failures, rng)
    }
}

/// Everything the core needs to remember across restarts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncState {
    /// Consecutive failed attempts; 0 after any success.
    pub failures: u32,
    /// No upload before this instant.
    pub not_before: Option<DateTime<Utc>>,
    /// The next review poll; `None` means "as soon as there is something to ask about".
    pub next_review_poll: Option<DateTime<Utc>>,
    pub rng: SplitMix64,
}

impl SyncState {
    /// A fresh state whose jitter sequence starts from `seed`.
    pub fn new(seed: u64) -> SyncState {
        SyncState {
            failures: 0,
            not_before: None,
            next_review_poll: None,
            rng: SplitMix64(seed),
        }
    }
}

/// What the driver should do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Task {
    /// Send this sealed record.
    Upload(Uuid),
    /// Ask the platform for the review outcome of every sent record.
    PollReviews,
    /// Nothing to do before this instant.
    Wait(DateTime<Utc>),
    /// Nothing queued and nothing awaiting review.
    Done,
}

/// What happened to one upload, as the transport saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadOutcome {
    /// The platform stored it (201).
    Stored,
    /// The platform already had it: an earlier attempt got through (200).
    AlreadyStored,
    /// The platform opened it and found it invalid (422), with its reasons.
    Rejected(Vec<Problem>),
    /// The platform holds a different record under this UUID (409).
    Conflict,
    /// A 5xx answer.
    ServerError(u16),
    /// Any other unexpected status.
    UnexpectedStatus(u16),
    /// Nobody listening.
    ConnectionRefused,
    /// The connection broke before a complete answer arrived.
    ConnectionReset,
    /// No answer in time.
    Timeout,
    /// The TLS handshake failed (certificate refused either way).
    Tls,
    /// The platform's certificate is outside its validity at the kiosk's
    /// clock: the clock is wrong (a flat RTC battery) or it expired.
    CertificateDate,
    /// Anything else the transport reported (DNS, routing …).
    Transport,
}

/// What an outcome means for the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The platform has it: state `sent`.
    Sent,
    /// The platform refused it for good: state `rejected`, with reasons.
    Rejected(Vec<Problem>),
    /// Try again later; the record stays `signed`.
    Retry,
}

/// The outcome table: the one place that decides retry, give up or done.
///
/// | outcome | verdict |
/// |---|---|
/// | stored, already stored | sent |
/// | rejected (422) | rejected with reasons |
/// | 5xx, refused, reset, timeout, TLS, other transport | retry with backoff |
/// | conflict (409), other status | retry with backoff (needs staff; never dropped) |
pub fn classify(outcome: &UploadOutcome) -> Verdict {
    match outcome {
        UploadOutcome::Stored | UploadOutcome::AlreadyStored => Verdict::Sent,
        UploadOutcome::Rejected(reasons) => Verdict::Rejected(reasons.clone()),
        UploadOutcome::Conflict
        | UploadOutcome::ServerError(_)
        | UploadOutcome::UnexpectedStatus(_)
        | UploadOutcome::ConnectionRefused
        | UploadOutcome::ConnectionReset
        | UploadOutcome::Timeout
        | UploadOutcome::Tls
        | UploadOutcome::CertificateDate
        | UploadOutcome::Transport => Verdict::Retry,
    }
}

/// What the driver must do to the store after an outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreAction {
    MarkSent(Uuid),
    MarkRejected(Uuid, Vec<Problem>),
    MarkAccepted(Uuid),
    MarkSuperseded(Uuid),
    /// Nothing changes for this record; it will be tried again.
    KeepForRetry(Uuid),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum InFlight {
    Upload(Uuid),
    Poll,
}

#[derive(Debug, Clone)]
pub struct SyncCore {
    policy: RetryPolicy,
    state: SyncState,
    queue: VecDeque<Uuid>,
    awaiting_review: usize,
    in_flight: Option<InFlight>,
}

impl SyncCore {
    /// `pending`: records signed but not yet sent, oldest first.
    /// `awaiting_review`: how many sent records have no review outcome yet.
    pub fn new(
        policy: RetryPolicy,
        state: SyncState,
        pending: impl IntoIterator<Item = Uuid>,
        awaiting_review: usize,
    ) -> SyncCore {
        SyncCore {
            policy,
            state,
            queue: pending.into_iter().collect(),
            awaiting_review,
            in_flight: None,
        }
    }

    /// The state to persist.
    pub fn state(&self) -> &SyncState {
        &self.state
    }

    pub fn pending(&self) -> usize {
        self.queue.len() + usize::from(matches!(self.in_flight, Some(InFlight::Upload(_))))
    }

    /// A newly signed record joins the queue.
    pub fn push(&mut self, id: Uuid) {
        let known = self.queue.contains(&id) || self.in_flight == Some(InFlight::Upload(id));
        if !known {
            self.queue.push_back(id);
        }
    }

    /// Forget any wait: staff asked to sync now.
    pub fn retry_now(&mut self) {
        self.state.not_before = None;
        self.state.next_review_poll = None;
    }

    /// What to do at `now`. Uploads come before review polls; a failure
    /// delays both, since both go to the same platform.
    pub fn next_task(&mut self, now: DateTime<Utc>) -> Task {
        if let Some(InFlight::Upload(id)) = &self.in_flight {
            return Task::Upload(*id);
        }
        if self.in_flight == Some(InFlight::Poll) {
            return Task::PollReviews;
        }
        self.clamp_waits(now);
        if let Some(not_before) = self.state.not_before {
            if now < not_before && (!self.queue.is_empty() || self.awaiting_review > 0) {
                return Task::Wait(not_before);
            }
        }
        if let Some(id) = self.queue.pop_front() {
            self.in_flight = Some(InFlight::Upload(id));
            return Task::Upload(id);
        }
        if self.awaiting_review > 0 {
            match self.state.next_review_poll {
                Some(at) if now < at => return Task::Wait(at),
                _ => {
                    self.in_flight = Some(InFlight::Poll);
                    return Task::PollReviews;
                }
            }
        }
        Task::Done
    }

    /// No wait is longer than the policy ever makes one: a wait further
    /// off than that was set before the clock went back (a flat RTC
    /// battery, then a correction, or the other way round), and would
    /// otherwise stall uploads for years.
    fn clamp_waits(&mut self, now: DateTime<Utc>) {
        let longest = now + self.policy.cap;
        if self.state.not_before.is_some_and(|at| at > longest) {
            self.state.not_before = Some(longest);
        }
        let next_poll = now + self.policy.review_poll_interval;
        if self.state.next_review_poll.is_some_and(|at| at > next_poll) {
            self.state.next_review_poll = Some(next_poll);
        }
    }

    /// Report the outcome of the upload of `id`.
    pub fn on_upload(
        &mut self,
        now: DateTime<Utc>,
        id: Uuid,
        outcome: &UploadOutcome,
    ) -> StoreAction {
        if self.in_flight == Some(InFlight::Upload(id)) {
            self.in_flight = None;
        }
        match classify(outcome) {
            Verdict::Sent => {
                self.succeeded();
                self.awaiting_review += 1;
                StoreAction::MarkSent(id)
            }
            Verdict::Rejected(reasons) => {
                self.succeeded();
                StoreAction::MarkRejected(id, reasons)
            }
            Verdict::Retry => {
                self.failed(now);
                // To the back, so one record the platform keeps refusing
                // cannot hold up the others.
                if !self.queue.contains(&id) {
                    self.queue.push_back(id);
                }
                StoreAction::KeepForRetry(id)
            }
        }
    }

    /// Report the outcome of a review poll: the states the platform gave,
    /// or `Err` with the transport failure.
    pub fn on_poll(
        &mut self,
        now: DateTime<Utc>,
        result: Result<Vec<(Uuid, ReviewState)>, UploadOutcome>,
    ) -> Vec<StoreAction> {
        if self.in_flight == Some(InFlight::Poll) {
            self.in_flight = None;
        }
        match result {
            Err(_) => {
                self.failed(now);
                Vec::new()
            }
            Ok(reviews) => {
                self.succeeded();
                self.state.next_review_poll = Some(now + self.policy.review_poll_interval);
                let actions: Vec<StoreAction> = reviews
                    .into_iter()
                    .filter_map(|(id, review)| match review {
                        ReviewState::Accepted => Some(StoreAction::MarkAccepted(id)),
                        ReviewState::Rejected { reasons } => {
                            Some(StoreAction::MarkRejected(id, reasons))
                        }
                        ReviewState::Superseded => Some(StoreAction::MarkSuperseded(id)),
                        ReviewState::Received | ReviewState::Unknown => None,
                    })
                    .collect();
                self.awaiting_review = self.awaiting_review.saturating_sub(actions.len());
                actions
            }
        }
    }

    /// The driver recounted the sent records still awaiting review.
    pub fn set_awaiting_review(&mut self, count: usize) {
        self.awaiting_review = count;
    }

    fn succeeded(&mut self) {
        self.state.failures = 0;
        self.state.not_before = None;
    }

    fn failed(&mut self, now: DateTime<Utc>) {
        self.state.failures = self.state.failures.saturating_add(1);
        let delay = self
            .policy
            .jittered_delay(self.state.failures, &mut self.state.rng);
        self.state.not_before = Some(now + delay);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{expect, Expect};

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-01T08:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn policy() -> RetryPolicy {
        RetryPolicy {
            initial: Duration::seconds(2),
            cap: Duration::seconds(60),
            review_poll_interval: Duration::minutes(10),
        }
    }

    fn reason() -> Problem {
        Problem {
            code: "missing".into(),
            field: Some("identity.name".into()),
            message: "请填写姓名".into(),
            severity: Default::default(),
        }
    }

    /// Drive a core on a virtual clock against a scripted platform: each
    /// upload takes the next outcome of `script` (then `Stored` forever),
    /// each poll answers "accepted" for everything. Returns one line per step.
    fn simulate(pending: u128, script: &[UploadOutcome], steps: usize) -> String {
        let mut core = SyncCore::new(policy(), SyncState::new(7), (1..=pending).map(id), 0);
        let mut script = script.iter().cloned();
        let mut now = t0();
        let mut sent = Vec::new();
        let mut log = Vec::new();
        for _ in 0..steps {
            let at = (now - t0()).num_milliseconds();
            match core.next_task(now) {
                Task::Upload(rid) => {
                    let outcome = script.next().unwrap_or(UploadOutcome::Stored);
                    let action = core.on_upload(now, rid, &outcome);
                    log.push(format!(
                        "{at:06}ms upload {} {outcome:?} -> {action:?}",
                        rid.as_u128()
                    ));
                    if let StoreAction::MarkSent(r) = action {
                        sent.push(r);
                    }
                    now += Duration::milliseconds(100);
                }
                Task::PollReviews => {
                    let reviews = sent.drain(..).map(|r| (r, ReviewState::Accepted)).collect();
                    let actions = core.on_poll(now, Ok(reviews));
                    log.push(format!("{at:06}ms poll -> {} accepted", actions.len()));
                    now += Duration::milliseconds(100);
                }
                Task::Wait(until) => {
                    log.push(format!(
                        "{at:06}ms wait until {}ms",
                        (until - t0()).num_milliseconds()
                    ));
                    now = until;
                }
                Task::Done => {
                    log.push(format!("{at:06}ms done"));
                    break;
                }
            }
        }
        log.join("\n")
    }

    fn check(pending: u128, script: &[UploadOutcome], expect: Expect) {
        expect.assert_eq(&simulate(pending, script, 40));
    }

    #[test]
    fn outcome_table() {
        let table: Vec<String> = [
            UploadOutcome::Stored,
            UploadOutcome::AlreadyStored,
            UploadOutcome::Rejected(vec![reason()]),
            UploadOutcome::Conflict,
            UploadOutcome::ServerError(503),
            UploadOutcome::UnexpectedStatus(400),
            UploadOutcome::ConnectionRefused,
            UploadOutcome::ConnectionReset,
            UploadOutcome::Timeout,
            UploadOutcome::Tls,
            UploadOutcome::CertificateDate,
            UploadOutcome::Transport,
        ]
        .iter()
        .map(|o| {
            let verdict = match classify(o) {
                Verdict::Rejected(r) => format!("Rejected({})", r.len()),
                v => format!("{v:?}"),
            };
            format!(
                "{:<24} {verdict}",
                format!("{o:?}").split('(').next().unwrap_or_default()
            )
        })
        .collect();
        expect![[r#"
            Stored                   Sent
            AlreadyStored            Sent
            Rejected                 Rejected(1)
            Conflict                 Retry
            ServerError              Retry
            UnexpectedStatus         Retry
            ConnectionRefused        Retry
            ConnectionReset          Retry
            Timeout                  Retry
            Tls                      Retry
            CertificateDate          Retry
            Transport                Retry"#]]
        .assert_eq(&table.join("\n"));
    }

    #[test]
    fn all_good_uploads_then_polls_once_then_done() {
        check(
            2,
            &[],
            expect![[r#"
                000000ms upload 1 Stored -> MarkSent(00000000-0000-0000-0000-000000000001)
                000100ms upload 2 Stored -> MarkSent(00000000-0000-0000-0000-000000000002)
                000200ms poll -> 2 accepted
                000300ms done"#]],
        );
    }

    #[test]
    fn each_fault_is_retried_with_growing_jittered_delays_and_nothing_is_lost() {
        check(
            2,
            &[
                UploadOutcome::ConnectionRefused,
                UploadOutcome::ConnectionReset,
                UploadOutcome::Timeout,
                UploadOutcome::ServerError(503),
                UploadOutcome::Rejected(vec![reason()]),
            ],
            expect![[r#"
                000000ms upload 1 ConnectionRefused -> KeepForRetry(00000000-0000-0000-0000-000000000001)
                000100ms wait until 1310ms
                001310ms upload 2 ConnectionReset -> KeepForRetry(00000000-0000-0000-0000-000000000002)
                001410ms wait until 4960ms
                004960ms upload 1 Timeout -> KeepForRetry(00000000-0000-0000-0000-000000000001)
                005060ms wait until 11881ms
                011881ms upload 2 ServerError(503) -> KeepForRetry(00000000-0000-0000-0000-000000000002)
                011981ms wait until 24378ms
                024378ms upload 1 Rejected([Problem { code: "missing", field: Some("identity.name"), message: "请填写姓名" }]) -> MarkRejected(00000000-0000-0000-0000-000000000001, [Problem { code: "missing", field: Some("identity.name"), message: "请填写姓名" }])
                024478ms upload 2 Stored -> MarkSent(00000000-0000-0000-0000-000000000002)
                024578ms poll -> 1 accepted
                024678ms done"#]],
        );
    }

    #[test]
    fn delays_are_capped_and_jitter_stays_within_half_to_full() {
        let policy = policy();
        let mut rng = SplitMix64(42);
        let mut lines = Vec::new();
        for failures in 1..=9 {
            let base = policy.base_delay(failures);
            for _ in 0..200 {
                let d = policy.jittered_delay(failures, &mut rng);
                assert!(
                    d <= base && d * 2 >= base,
                    "{failures}: {d} not in [{base}/2, {base}]"
                );
                assert!(d <= policy.cap);
            }
            lines.push(format!("{failures}: {}s", base.num_seconds()));
        }
        expect![[r#"
            1: 2s
            2: 4s
            3: 8s
            4: 16s
            5: 32s
            6: 60s
            7: 60s
            8: 60s
            9: 60s"#]]
        .assert_eq(&lines.join("\n"));
        assert_eq!(policy.base_delay(u32::MAX), policy.cap);
    }

    #[test]
    fn the_same_seed_gives_the_same_schedule_and_another_seed_another() {
        let schedule = |seed| {
            let mut core = SyncCore::new(policy(), SyncState::new(seed), [id(1)], 0);
            let mut now = t0();
            (0..6)
                .map(|_| {
                    let Task::Upload(rid) = core.next_task(now) else {
                        panic!("expected an upload")
                    };
                    core.on_upload(now, rid, &UploadOutcome::Timeout);
                    now = core.state().not_before.unwrap();
                    now
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(schedule(1), schedule(1));
        assert_ne!(schedule(1), schedule(2));
    }

    #[test]
    fn backoff_survives_a_restart() {
        let mut core = SyncCore::new(policy(), SyncState::new(3), [id(1), id(2)], 0);
        for _ in 0..3 {
            let now = core.state().not_before.unwrap_or(t0());
            let Task::Upload(rid) = core.next_task(now) else {
                panic!("expected an upload")
            };
            core.on_upload(now, rid, &UploadOutcome::ServerError(500));
        }
        let persisted = serde_json::to_string(core.state()).unwrap();
        let until = core.state().not_before.unwrap();

        // Restart: a new core from the persisted state and the store's queue.
        let state: SyncState = serde_json::from_str(&persisted).unwrap();
        let mut restarted = SyncCore::new(policy(), state, [id(1), id(2)], 0);
        assert_eq!(
            restarted.next_task(until - Duration::milliseconds(1)),
            Task::Wait(until)
        );
        // The store hands the queue over oldest first.
        assert_eq!(restarted.next_task(until), Task::Upload(id(1)));
        // The jitter sequence continues where it was, not from the seed.
        assert_ne!(restarted.state().rng, SplitMix64(3));
    }

    #[test]
    fn a_failed_poll_backs_off_and_a_good_one_schedules_the_next() {
        let mut core = SyncCore::new(policy(), SyncState::new(1), [], 2);
        assert_eq!(core.next_task(t0()), Task::PollReviews);
        assert!(core.on_poll(t0(), Err(UploadOutcome::Timeout)).is_empty());
        let Task::Wait(until) = core.next_task(t0()) else {
            panic!("expected a wait")
        };
        assert_eq!(core.next_task(until), Task::PollReviews);
        let actions = core.on_poll(
            until,
            Ok(vec![
                (id(1), ReviewState::Received),
                (
                    id(2),
                    ReviewState::Rejected {
                        reasons: vec![reason()],
                    },
                ),
            ]),
        );
        assert_eq!(
            actions,
            vec![StoreAction::MarkRejected(id(2), vec![reason()])]
        );
        assert_eq!(
            core.next_task(until),
            Task::Wait(until + Duration::minutes(10))
        );
        let later = until + Duration::minutes(10);
        assert_eq!(core.next_task(later), Task::PollReviews);
        let actions = core.on_poll(later, Ok(vec![(id(1), ReviewState::Accepted)]));
        assert_eq!(actions, vec![StoreAction::MarkAccepted(id(1))]);
        assert_eq!(core.next_task(later), Task::Done);
    }

    #[test]
    fn a_pushed_record_is_queued_once_and_retry_now_clears_the_wait() {
        let mut core = SyncCore::new(policy(), SyncState::new(1), [id(1)], 0);
        core.push(id(1));
        let Task::Upload(rid) = core.next_task(t0()) else {
            panic!("expected an upload")
        };
        core.push(id(1));
        core.on_upload(t0(), rid, &UploadOutcome::ConnectionRefused);
        assert_eq!(core.pending(), 1);
        assert!(matches!(core.next_task(t0()), Task::Wait(_)));
        core.retry_now();
        assert_eq!(core.next_task(t0()), Task::Upload(id(1)));
    }

    #[test]
    fn a_wait_set_before_the_clock_went_back_years_is_no_longer_than_the_cap() {
        // The wait was set under a clock 26 years ahead (or the clock was
        // then set back): it must not stall uploads for 26 years.
        let policy = policy();
        let mut state = SyncState::new(7);
        state.failures = 3;
        state.not_before = Some(t0() + Duration::days(365 * 26));
        state.next_review_poll = Some(t0() + Duration::days(365 * 26));
        let id = Uuid::from_u128(1);
        let mut core = SyncCore::new(policy.clone(), state, [id], 1);
        assert_eq!(core.next_task(t0()), Task::Wait(t0() + policy.cap));
        assert_eq!(core.next_task(t0() + policy.cap), Task::Upload(id));
        // A clock jumping forward only makes the wait end sooner.
        let mut state = SyncState::new(7);
        state.not_before = Some(t0() + Duration::seconds(30));
        let mut core = SyncCore::new(policy, state, [id], 0);
        assert_eq!(
            core.next_task(t0() + Duration::days(365 * 14)),
            Task::Upload(id)
        );
    }
}

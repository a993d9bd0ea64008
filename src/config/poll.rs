//! The kiosk asks the county platform for newer configuration.
//!
//! Two halves. [`PollSchedule`] is pure: when to ask next, given the clock
//! passed in and how the last attempt went (back off while the platform is
//! unreachable, never longer than the configured interval). [`poll_once`]
//! does one round over a [`ConfigTransport`]: deliver the pending status
//! report, fetch the newest bundle addressed to this kiosk, hand it to the
//! store, report the outcome. The real transport is the mutual-TLS client;
//! tests use an in-memory one.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};

use kiosk_core::kiosk::KioskIdentity;
use wire::config::KioskConfigReport;

use super::apply::{ConfigStore, Installed, Refusal, StoreError};
use super::Config;
use crate::backoff::{Backoff, SplitMix64};

/// A round that failed in transport (refused, timed out, 5xx…).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {detail}")]
pub struct TransportError {
    pub code: String,
    pub detail: String,
}

impl TransportError {
    /// The TLS handshake failed: the platform refused the kiosk's
    /// certificate (or the kiosk the platform's).
    pub const TLS: &'static str = "tls";

    pub fn new(code: impl Into<String>, detail: impl Into<String>) -> Self {
        TransportError {
            code: code.into(),
            detail: detail.into(),
        }
    }
}

/// How the kiosk reaches the platform for configuration.
pub trait ConfigTransport {
    /// The newest bundle addressed to `kiosk` whose version is above
    /// `after`, or `None` when there is none.
    fn fetch_newest(
        &mut self,
        kiosk: &KioskIdentity,
        after: u64,
    ) -> Result<Option<Vec<u8>>, TransportError>;

    fn send_report(&mut self, report: &KioskConfigReport) -> Result<(), TransportError>;
}

/// The outcome of one round.
#[derive(Debug)]
pub enum PollOutcome {
    /// Nothing newer on the platform.
    NothingNew,
    /// A bundle was taken. Without `restart_needed` it is already confirmed
    /// and the kiosk should take `config` now (at the next screen or
    /// session); with it, the kiosk should restart in an orderly way (after
    /// the session in progress) and confirm or report failure at start.
    Applied {
        installed: Installed,
        config: Box<Config>,
        restart_needed: bool,
    },
    /// A bundle was refused; the configuration in force is unchanged.
    Refused(Refusal),
    /// The platform could not be reached; nothing changed.
    Unreachable(TransportError),
    /// The local store failed (disk); nothing changed.
    Store(StoreError),
}

/// One round: report, fetch, apply, report.
pub fn poll_once(
    store: &mut ConfigStore,
    transport: &mut dyn ConfigTransport,
    current: &Config,
) -> PollOutcome {
    if let Err(err) = deliver_report(store, transport, &current.kiosk) {
        return err;
    }
    let bytes = match transport.fetch_newest(&current.kiosk, store.highest_tried()) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return PollOutcome::NothingNew,
        Err(err) => return PollOutcome::Unreachable(err),
    };
    let outcome = match store.accept(&bytes, current) {
        Ok(accepted) => {
            if !accepted.restart_needed {
                // Texts and times cannot fail to start: in force at once.
                if let Err(err) = store.confirm_started() {
                    return PollOutcome::Store(err);
                }
            }
            PollOutcome::Applied {
                installed: accepted.installed,
                config: Box::new(accepted.config),
                restart_needed: accepted.restart_needed,
            }
        }
        Err(Refusal::Store(err)) => return PollOutcome::Store(err),
        Err(refusal) => PollOutcome::Refused(refusal),
    };
    // Best effort: an undelivered report stays pending for the next round.
    let kiosk = match &outcome {
        PollOutcome::Applied { config, .. } => &config.kiosk,
        _ => &current.kiosk,
    };
    let _ = deliver_report(store, transport, kiosk);
    outcome
}

fn deliver_report(
    store: &mut ConfigStore,
    transport: &mut dyn ConfigTransport,
    kiosk: &KioskIdentity,
) -> Result<(), PollOutcome> {
    let Some(status) = store.pending_report() else {
        return Ok(());
    };
    let report = KioskConfigReport::new(kiosk, status.clone());
    transport
        .send_report(&report)
        .map_err(PollOutcome::Unreachable)?;
    store.report_delivered(&status).map_err(PollOutcome::Store)
}

/// What [`check_start`] found.
#[derive(Debug)]
pub enum StartCheck {
    /// The platform took the report over the configuration in force: if it
    /// was on trial, it is now the last-known-good.
    Confirmed,
    /// The platform refused the new certificate: the store went back to
    /// the last-known-good; restart on it.
    RolledBack {
        reason: String,
    },
    /// The platform could not be reached; ask again later (the
    /// configuration stays on trial meanwhile).
    NotYet(TransportError),
    Store(StoreError),
}

/// At start, once the devices are open: does the platform take this
/// kiosk's certificate? Sends the status report and confirms or rolls back
/// the configuration on trial accordingly.
pub fn check_start(
    store: &mut ConfigStore,
    transport: &mut dyn ConfigTransport,
    current: &Config,
) -> StartCheck {
    let report = KioskConfigReport::new(&current.kiosk, store.report());
    match transport.send_report(&report) {
        Ok(()) => {}
        Err(err) if err.code == TransportError::TLS && store.on_trial() => {
            let reason = format!("the platform refused the TLS handshake: {}", err.detail);
            return match store.report_start_failure(&reason) {
                Ok(_) => StartCheck::RolledBack { reason },
                Err(err) => StartCheck::Store(err),
            };
        }
        Err(err) => return StartCheck::NotYet(err),
    }
    if let Err(err) = store.report_delivered(&report.status) {
        return StartCheck::Store(err);
    }
    if let Err(err) = store.confirm_started() {
        return StartCheck::Store(err);
    }
    // Best effort: the confirmation goes with the next round otherwise.
    let _ = deliver_report(store, transport, &current.kiosk);
    StartCheck::Confirmed
}

/// When to poll next. Pure: the clock and the jitter's seed come in as
/// arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollSchedule {
    next_at: DateTime<Utc>,
    failures: u32,
    /// Jitter, so a fleet does not poll in lockstep after an outage.
    rng: SplitMix64,
}

impl PollSchedule {
    /// The first wait after a failure (before jitter); it doubles up to
    /// the interval.
    pub const FIRST_RETRY: i64 = 15;

    /// Poll at once on start: a kiosk that was off may be behind. `seed`
    /// starts the jitter (each kiosk its own).
    pub fn new(now: DateTime<Utc>, seed: u64) -> PollSchedule {
        PollSchedule {
            next_at: now,
            failures: 0,
            rng: SplitMix64(seed),
        }
    }

    pub fn due(&self, now: DateTime<Utc>) -> bool {
        now >= self.next_at
    }

    pub fn next_at(&self) -> DateTime<Utc> {
        self.next_at
    }

    /// Record how a round went and pick the next moment.
    pub fn after(&mut self, outcome: &PollOutcome, interval: StdDuration, now: DateTime<Utc>) {
        let interval = Duration::from_std(interval).unwrap_or(Duration::hours(1));
        let failed = matches!(outcome, PollOutcome::Unreachable(_) | PollOutcome::Store(_));
        if failed {
            self.failures = self.failures.saturating_add(1);
            let backoff = Backoff {
                initial: Duration::seconds(Self::FIRST_RETRY),
                cap: interval,
            };
            self.next_at = now + backoff.jittered_delay(self.failures, &mut self.rng);
        } else {
            self.failures = 0;
            self.next_at = now + interval;
        }
    }
}

/// Schedule and round together: what the kiosk's loop calls every tick.
pub struct Poller {
    schedule: PollSchedule,
}

impl Poller {
    /// `seed` starts the retry jitter; give each kiosk its own.
    pub fn new(now: DateTime<Utc>, seed: u64) -> Poller {
        Poller {
            schedule: PollSchedule::new(now, seed),
        }
    }

    pub fn next_at(&self) -> DateTime<Utc> {
        self.schedule.next_at()
    }

    /// Poll if due; `None` when it is not time yet.
    pub fn tick(
        &mut self,
        now: DateTime<Utc>,
        store: &mut ConfigStore,
        transport: &mut dyn ConfigTransport,
        current: &Config,
    ) -> Option<PollOutcome> {
        if !self.schedule.due(now) {
            return None;
        }
        let outcome = poll_once(store, transport, current);
        let interval = match &outcome {
            PollOutcome::Applied { config, .. } => config.platform.config_poll_interval,
            _ => current.platform.config_poll_interval,
        };
        self.schedule.after(&outcome, interval, now);
        Some(outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + seconds, 0).unwrap()
    }

    fn down() -> PollOutcome {
        PollOutcome::Unreachable(TransportError::new("refused", "connection refused"))
    }

    /// The waits of `rounds` failed polls in a row, in milliseconds.
    fn waits_while_down(seed: u64, rounds: usize, interval: StdDuration) -> Vec<i64> {
        let mut schedule = PollSchedule::new(at(0), seed);
        assert!(schedule.due(at(0)));
        let mut waits = Vec::new();
        let mut now = at(0);
        for _ in 0..rounds {
            schedule.after(&down(), interval, now);
            waits.push((schedule.next_at() - now).num_milliseconds());
            assert!(!schedule.due(now));
            now = schedule.next_at();
        }
        waits
    }

    #[test]
    fn backs_off_while_unreachable_and_never_beyond_the_interval() {
        let interval = StdDuration::from_secs(300);
        let bases_ms = [15, 30, 60, 120, 240, 300, 300].map(|s: i64| s * 1000);
        for seed in 0..50 {
            let waits = waits_while_down(seed, bases_ms.len(), interval);
            for (wait, base) in waits.iter().zip(bases_ms) {
                // Equal jitter: between half the base and the base.
                assert!(
                    *wait <= base && wait * 2 >= base,
                    "seed {seed}: {wait} ms not in [{base}/2, {base}]"
                );
            }
        }
        let mut schedule = PollSchedule::new(at(0), 7);
        let mut now = at(0);
        for _ in 0..7 {
            schedule.after(&down(), interval, now);
            now = schedule.next_at();
        }
        schedule.after(&PollOutcome::NothingNew, interval, now);
        assert_eq!((schedule.next_at() - now).num_seconds(), 300);
        schedule.after(&down(), interval, now);
        let wait = (schedule.next_at() - now).num_milliseconds();
        assert!((7_500..=15_000).contains(&wait), "{wait} ms");
    }

    #[test]
    fn kiosks_with_their_own_seeds_do_not_retry_in_lockstep() {
        let interval = StdDuration::from_secs(300);
        let fleet: Vec<Vec<i64>> = (0..10)
            .map(|kiosk| waits_while_down(kiosk, 6, interval))
            .collect();
        for round in 0..6 {
            let mut at_round: Vec<i64> = fleet.iter().map(|waits| waits[round]).collect();
            at_round.sort_unstable();
            at_round.dedup();
            assert!(at_round.len() > 5, "round {round}: {at_round:?}");
        }
        // The same seed gives the same schedule (tests can rely on it).
        assert_eq!(
            waits_while_down(3, 6, interval),
            waits_while_down(3, 6, interval)
        );
    }
}

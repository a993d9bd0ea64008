//! One back-off for everything that retries the county platform (record
//! uploads, configuration polls): exponential, capped, with "equal jitter"
//! so a fleet of kiosks coming back from an outage does not retry in
//! lockstep. Pure: the failure count and the random generator are passed
//! in, so every schedule is tested on a virtual clock.

use chrono::Duration;
use serde::{Deserialize, Serialize};

/// How retries are spaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Delay after the first failure.
    pub initial: Duration,
    /// No delay grows past this.
    pub cap: Duration,
}

impl Backoff {
    /// The delay before attempt `failures + 1`, before jitter: `initial ·
    /// 2^(failures−1)`, capped.
    pub fn base_delay(&self, failures: u32) -> Duration {
        if failures == 0 {
            return Duration::zero();
        }
        let initial_ms = self.initial.num_milliseconds().max(1);
        let cap_ms = self.cap.num_milliseconds().max(initial_ms);
        let shift = (failures - 1).min(40);
        let delay_ms = initial_ms.saturating_mul(1_i64 << shift).min(cap_ms);
        Duration::milliseconds(delay_ms)
    }

    /// "Equal jitter": half the base delay, plus a random part of up to the
    /// other half, so a fleet of kiosks does not retry in lockstep and no
    /// delay is shorter than half its base.
    pub fn jittered_delay(&self, failures: u32, rng: &mut SplitMix64) -> Duration {
        let base_ms = self.base_delay(failures).num_milliseconds();
        let half = base_ms / 2;
        let spread = (base_ms - half).max(0) as u64;
        let random = if spread == 0 {
            0
        } else {
            rng.next_u64() % (spread + 1)
        };
        Duration::milliseconds(half + random as i64)
    }
}

/// A small deterministic generator for jitter; its state can be persisted,
/// so a restarted kiosk continues the same sequence. Not for anything secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

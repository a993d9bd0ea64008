//! Staff access: the PIN check with its lockout, and the audit log's words.
//!
//! Staff open staff mode with a discreet gesture and a PIN. The PIN is
//! stored in configuration only as a salted PBKDF2 hash ([`PinHash`]). Five
//! wrong tries lock the pad; every further wrong try after a lock locks it
//! again for twice as long ([`PinLock`]). Time is passed in, so the lockout
//! is tested on a virtual clock.
//!
//! Every staff action becomes an [`AuditEntry`]. Architecture invariant: an
//! audit entry never carries personal data of the people registering: no
//! names, ID numbers or record contents, only what staff did and when.

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use thiserror::Error;

/// A salted PBKDF2-HMAC-SHA256 hash of a staff PIN.
///
/// Text form (as stored in configuration):
/// `pbkdf2-sha256$<rounds>$<salt hex>$<digest hex>`.
#[derive(Clone, PartialEq, Eq)]
pub struct PinHash {
    rounds: u32,
    salt: Vec<u8>,
    digest: [u8; 32],
}

const PIN_HASH_SCHEME: &str = "pbkdf2-sha256";

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PinHashError {
    #[error("PIN hash must look like pbkdf2-sha256$rounds$salt$digest")]
    Shape,
    #[error("unknown PIN hash scheme {0:?}")]
    Scheme(String),
    #[error("PIN hash rounds must be a number from 1 to 10000000")]
    Rounds,
    #[error("PIN hash salt must be 8 to 64 bytes of hex")]
    Salt,
    #[error("PIN hash digest must be 32 bytes of hex")]
    Digest,
}

impl PinHashError {
    pub fn code(&self) -> &'static str {
        match self {
            PinHashError::Shape => "pin_hash_shape",
            PinHashError::Scheme(_) => "pin_hash_scheme",
            PinHashError::Rounds => "pin_hash_rounds",
            PinHashError::Salt => "pin_hash_salt",
            PinHashError::Digest => "pin_hash_digest",
        }
    }

    pub fn message_zh(&self) -> String {
        "配置中的工作人员密码格式不正确，请联系管理员".to_string()
    }
}

impl PinHash {
    /// Hash `pin` with `salt`; used by the configuration tool and tests.
    pub fn new(pin: &str, salt: &[u8], rounds: u32) -> PinHash {
        let rounds = rounds.max(1);
        PinHash {
            rounds,
            salt: salt.to_vec(),
            digest: derive(pin, salt, rounds),
        }
    }

    pub fn parse(text: &str) -> Result<PinHash, PinHashError> {
        let mut parts = text.trim().split('$');
        let (Some(scheme), Some(rounds), Some(salt), Some(digest), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(PinHashError::Shape);
        };
        if scheme != PIN_HASH_SCHEME {
            return Err(PinHashError::Scheme(scheme.chars().take(40).collect()));
        }
        let rounds: u32 = rounds
            .parse()
            .ok()
            .filter(|r| (1..=10_000_000).contains(r))
            .ok_or(PinHashError::Rounds)?;
        let salt = from_hex(salt)
            .filter(|s| (8..=64).contains(&s.len()))
            .ok_or(PinHashError::Salt)?;
        let digest: [u8; 32] = from_hex(digest)
            .and_then(|d| d.try_into().ok())
            .ok_or(PinHashError::Digest)?;
        Ok(PinHash {
            rounds,
            salt,
            digest,
        })
    }

    /// Whether `pin` is the PIN; compares in constant time.
    pub fn matches(&self, pin: &str) -> bool {
        let candidate = derive(pin, &self.salt, self.rounds);
        candidate
            .iter()
            .zip(self.digest.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}

/// PBKDF2-HMAC-SHA256 (RFC 8018) with one 32-byte block: the digest size,
/// so only block 1 is needed.
fn derive(pin: &str, salt: &[u8], rounds: u32) -> [u8; 32] {
    let mut out = [0u8; 32];
    // HMAC takes keys of any length, so this never fails.
    let Ok(keyed) = <Hmac<Sha256> as KeyInit>::new_from_slice(pin.as_bytes()) else {
        return out;
    };
    let mut block: [u8; 32] = keyed
        .clone()
        .chain_update(salt)
        .chain_update(1u32.to_be_bytes())
        .finalize()
        .into_bytes()
        .into();
    out = block;
    for _ in 1..rounds {
        block = keyed
            .clone()
            .chain_update(block)
            .finalize()
            .into_bytes()
            .into();
        for (o, b) in out.iter_mut().zip(block.iter()) {
            *o ^= b;
        }
    }
    out
}

fn from_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl fmt::Display for PinHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{PIN_HASH_SCHEME}${}${}${}",
            self.rounds,
            to_hex(&self.salt),
            to_hex(&self.digest)
        )
    }
}

/// Never print the digest by accident (logs, panics).
impl fmt::Debug for PinHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PinHash({PIN_HASH_SCHEME}, {} rounds)", self.rounds)
    }
}

/// One staff member who may open staff mode: an id (not a name) and a PIN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffAccount {
    pub staff_id: String,
    pub pin: PinHash,
}

/// The answer to one PIN attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinOutcome<T> {
    Accepted(T),
    /// Wrong; this many tries remain before the pad locks.
    Wrong {
        tries_left: u32,
    },
    /// Wrong, and the pad is now locked until then.
    LockedOut {
        until: DateTime<Utc>,
    },
    /// Refused without looking at the PIN: still locked until then.
    StillLocked {
        until: DateTime<Utc>,
    },
}

/// Counts wrong PINs and locks the pad with doubling delays.
///
/// Lives across sessions: wiping a session must not reset the count.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PinLock {
    /// Wrong tries since the last accepted PIN.
    wrong: u32,
    locked_until: Option<DateTime<Utc>>,
    /// How many times the pad has locked since the last accepted PIN.
    lockouts: u32,
}

impl PinLock {
    /// Wrong tries allowed before the first lock.
    pub const FREE_TRIES: u32 = 5;

    /// The first lock's length; each later one doubles, up to [`Self::max_lock`].
    pub fn first_lock() -> Duration {
        Duration::seconds(30)
    }

    pub fn max_lock() -> Duration {
        Duration::hours(4)
    }

    /// Until when the pad is locked, if it is at `now`.
    pub fn locked_until(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.locked_until.filter(|until| *until > now)
    }

    /// Try a PIN at `now`. `check` is only run when the pad is not locked
    /// (a locked pad does not even look at the PIN) and answers what the
    /// PIN unlocks, if anything.
    pub fn attempt<T>(
        &mut self,
        now: DateTime<Utc>,
        check: impl FnOnce() -> Option<T>,
    ) -> PinOutcome<T> {
        if let Some(until) = self.locked_until(now) {
            return PinOutcome::StillLocked { until };
        }
        if let Some(unlocked) = check() {
            *self = PinLock::default();
            return PinOutcome::Accepted(unlocked);
        }
        self.wrong += 1;
        if self.wrong < Self::FREE_TRIES {
            return PinOutcome::Wrong {
                tries_left: Self::FREE_TRIES - self.wrong,
            };
        }
        // The fifth wrong try locks; after that every wrong try locks
        // again, each time twice as long.
        let factor = 2i32.saturating_pow(self.lockouts.min(20));
        let length = (Self::first_lock() * factor).min(Self::max_lock());
        self.lockouts += 1;
        let until = now + length;
        self.locked_until = Some(until);
        PinOutcome::LockedOut { until }
    }
}

/// What a staff member did. Deliberately without personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum AuditAction {
    StaffModeOpened,
    StaffModeClosed,
    PinRejected,
    PinLockedOut { seconds: i64 },
    ManualEntryStarted,
    HelpOnBehalfStarted,
    HelpOnBehalfEnded,
    QueueViewed,
    DeviceStatusViewed,
    ConfigViewed,
    SyncRequested,
    SignatureWitnessed,
    SessionCancelled,
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    pub kiosk_id: String,
    /// The staff member's id, once a PIN identified them.
    pub staff_id: Option<String>,
    #[serde(flatten)]
    pub action: AuditAction,
}

impl AuditEntry {
    /// One JSON object per line, for an append-only log file.
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| String::from("{}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use expect_test::{expect, Expect};

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 1, 9, 0, 0).unwrap()
    }

    /// Runs a script of `(seconds after t0, pin correct?)` tries and
    /// prints each outcome as seconds relative to t0.
    fn check_lock(script: &[(i64, bool)], expect: Expect) {
        let mut lock = PinLock::default();
        let mut out = String::new();
        for (at, correct) in script {
            let now = t0() + Duration::seconds(*at);
            let outcome = lock.attempt(now, || correct.then_some(()));
            let rel = |until: DateTime<Utc>| (until - t0()).num_seconds();
            let line = match outcome {
                PinOutcome::Accepted(()) => "accepted".to_string(),
                PinOutcome::Wrong { tries_left } => format!("wrong, {tries_left} left"),
                PinOutcome::LockedOut { until } => format!("locked until +{}", rel(until)),
                PinOutcome::StillLocked { until } => format!("still locked until +{}", rel(until)),
            };
            out.push_str(&format!("+{at}: {line}\n"));
        }
        expect.assert_eq(&out);
    }

    #[test]
    fn five_wrong_tries_lock_with_doubling_delays() {
        check_lock(
            &[
                (0, false),
                (1, false),
                (2, false),
                (3, false),
                (4, false),
                // Even the right PIN is refused while locked.
                (10, true),
                (34, false),
                (35, false),
                (94, false),
                (95, false),
                (215, false),
            ],
            expect![[r#"
                +0: wrong, 4 left
                +1: wrong, 3 left
                +2: wrong, 2 left
                +3: wrong, 1 left
                +4: locked until +34
                +10: still locked until +34
                +34: locked until +94
                +35: still locked until +94
                +94: locked until +214
                +95: still locked until +214
                +215: locked until +455
            "#]],
        );
    }

    #[test]
    fn the_right_pin_resets_the_count() {
        check_lock(
            &[
                (0, false),
                (1, false),
                (2, false),
                (3, false),
                (4, true),
                (5, false),
                (6, false),
                (7, false),
                (8, false),
                (9, false),
                (40, true),
                (41, false),
            ],
            expect![[r#"
                +0: wrong, 4 left
                +1: wrong, 3 left
                +2: wrong, 2 left
                +3: wrong, 1 left
                +4: accepted
                +5: wrong, 4 left
                +6: wrong, 3 left
                +7: wrong, 2 left
                +8: wrong, 1 left
                +9: locked until +39
                +40: accepted
                +41: wrong, 4 left
            "#]],
        );
    }

    #[test]
    fn the_lock_never_exceeds_the_maximum() {
        let mut lock = PinLock::default();
        let mut now = t0();
        let mut longest = Duration::zero();
        for _ in 0..60 {
            match lock.attempt(now, || None::<()>) {
                PinOutcome::LockedOut { until } => {
                    longest = longest.max(until - now);
                    now = until;
                }
                _ => now += Duration::seconds(1),
            }
        }
        assert_eq!(longest, PinLock::max_lock());
    }

    #[test]
    fn a_locked_pad_does_not_look_at_the_pin() {
        let mut lock = PinLock::default();
        for _ in 0..PinLock::FREE_TRIES {
            lock.attempt(t0(), || None::<()>);
        }
        let mut looked = false;
        let outcome = lock.attempt(t0(), || {
            looked = true;
            Some(())
        });
        assert!(!looked);
        assert!(matches!(outcome, PinOutcome::StillLocked { .. }));
    }

    #[test]
    fn derivation_matches_the_pbkdf2_test_vectors() {
        // RFC 7914 §11 (PBKDF2-HMAC-SHA256, first 32 bytes).
        let cases = [
            (
                "passwd",
                "salt",
                1,
                "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc",
            ),
            (
                "Password",
                "NaCl",
                80000,
                "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56",
            ),
        ];
        for (pin, salt, rounds, hex) in cases {
            assert_eq!(to_hex(&derive(pin, salt.as_bytes(), rounds)), hex);
        }
    }

    #[test]
    fn pin_hash_round_trips_and_matches_only_the_pin() {
        let hash = PinHash::new("2468", b"kiosk-salt-01", 1000);
        let text = hash.to_string();
        let parsed = PinHash::parse(&text).unwrap();
        assert_eq!(parsed, hash);
        assert!(parsed.matches("2468"));
        for wrong in ["", "2467", "24680", " 2468", "１２３４"] {
            assert!(!parsed.matches(wrong), "{wrong:?}");
        }
        assert_eq!(format!("{hash:?}"), "PinHash(pbkdf2-sha256, 1000 rounds)");
    }

    #[test]
    fn pin_hash_text_is_parsed_or_refused() {
        let good = PinHash::new("1", b"12345678", 1).to_string();
        let digest = good.rsplit('$').next().unwrap().to_string();
        let cases = [
            ("", "pin_hash_shape"),
            ("pbkdf2-sha256$1$00", "pin_hash_shape"),
            (&format!("{good}$extra"), "pin_hash_shape"),
            (
                &format!("md5$1$3132333435363738${digest}"),
                "pin_hash_scheme",
            ),
            (
                &format!("pbkdf2-sha256$0$3132333435363738${digest}"),
                "pin_hash_rounds",
            ),
            (
                &format!("pbkdf2-sha256$x$3132333435363738${digest}"),
                "pin_hash_rounds",
            ),
            (&format!("pbkdf2-sha256$1$31${digest}"), "pin_hash_salt"),
            (
                &format!("pbkdf2-sha256$1$zz32333435363738${digest}"),
                "pin_hash_salt",
            ),
            ("pbkdf2-sha256$1$3132333435363738$00", "pin_hash_digest"),
            (
                &format!("pbkdf2-sha256$1$31323334353637é${digest}"),
                "pin_hash_salt",
            ),
        ];
        for (text, code) in cases {
            assert_eq!(PinHash::parse(text).unwrap_err().code(), code, "{text}");
        }
        assert!(PinHash::parse(&good).is_ok());
    }

    proptest::proptest! {
        #[test]
        fn any_text_parses_or_errs(text in ".{0,120}") {
            let _ = PinHash::parse(&text);
        }
    }

    #[test]
    fn audit_lines_carry_no_personal_data() {
        let entry = AuditEntry {
            at: t0(),
            kiosk_id: "k-01".into(),
            staff_id: Some("s-07".into()),
            action: AuditAction::PinLockedOut { seconds: 30 },
        };
        expect![[r#"{"at":"2025-03-01T09:00:00Z","kiosk_id":"k-01","staff_id":"s-07","action":"pin_locked_out","seconds":30}"#]]
            .assert_eq(&entry.to_json_line());
    }
}

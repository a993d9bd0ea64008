//! Staff access: the PIN check with its lockout, and the audit log's words.
//!
//! Staff open staff mode with a discreet gesture and a PIN. The PIN is
//! stored in configuration only as an Argon2 hash ([`PinHash`]). Five
//! wrong tries lock the pad; every further wrong try after a lock locks it
//! again for twice as long ([`PinLock`]). Time is passed in, so the lockout
//! is tested on a virtual clock.
//!
//! Every staff action becomes an [`AuditEntry`]. Architecture invariant: an
//! audit entry never carries personal data of the people registering: no
//! names, ID numbers or record contents, only what staff did and when.

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// An Argon2 hash of a staff PIN in PHC string form (`$argon2id$v=19$…`),
/// as `veteran-kiosk config pin-hash` makes it and `[staff] pin_hash`
/// stores it. Argon2 is memory-hard, so a stolen configuration does not
/// give the 4–8 digit PIN away to a quick search.
///
/// Pure: parsing and verifying only compute; a fresh random salt is the
/// caller's business ([`PinHash::derive`] takes it).
#[derive(Clone, PartialEq, Eq)]
pub struct PinHash(String);

/// The most memory (KiB) a PIN hash may ask for: 256 MiB, thirteen times
/// the default, still checked while the person waits.
pub const MAX_PIN_MEMORY_KIB: u32 = 256 * 1024;
/// The most passes (`t`) a PIN hash may ask for.
pub const MAX_PIN_PASSES: u32 = 16;
/// The most lanes (`p`) a PIN hash may ask for.
pub const MAX_PIN_LANES: u32 = 16;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PinHashError {
    #[error("not a PHC password hash string: {0}")]
    Shape(String),
    #[error("the staff PIN hash must be Argon2 (argon2id), not {0}")]
    Algorithm(String),
    #[error("bad Argon2 parameters: {0}")]
    Params(String),
    #[error("the PHC string has no hash part")]
    NoHash,
}

impl PinHashError {
    pub fn code(&self) -> &'static str {
        match self {
            PinHashError::Shape(_) => "pin_hash_shape",
            PinHashError::Algorithm(_) => "pin_hash_algorithm",
            PinHashError::Params(_) => "pin_hash_params",
            PinHashError::NoHash => "pin_hash_missing",
        }
    }

    pub fn message_zh(&self) -> String {
        "配置中的工作人员密码格式不正确，请联系管理员".to_string()
    }
}

impl PinHash {
    pub fn parse(text: &str) -> Result<PinHash, PinHashError> {
        let text = text.trim();
        let hash =
            argon2::PasswordHash::new(text).map_err(|err| PinHashError::Shape(err.to_string()))?;
        if !matches!(hash.algorithm.as_str(), "argon2id" | "argon2i" | "argon2d") {
            return Err(PinHashError::Algorithm(
                hash.algorithm.as_str().chars().take(40).collect(),
            ));
        }
        // Bounded before argon2 sees them: its own check overflows on a
        // huge `p` (found by fuzzing), and a cost it allows (4 TiB, 2^32
        // passes) would stall or exhaust the kiosk at the first PIN.
        for (name, max) in [
            ("m", MAX_PIN_MEMORY_KIB),
            ("t", MAX_PIN_PASSES),
            ("p", MAX_PIN_LANES),
        ] {
            if let Some(value) = hash.params.get_decimal(name).filter(|v| *v > max) {
                return Err(PinHashError::Params(format!(
                    "{name}={value} is over the kiosk's limit of {max}"
                )));
            }
        }
        argon2::Params::try_from(&hash).map_err(|err| PinHashError::Params(err.to_string()))?;
        if hash.hash.is_none() {
            return Err(PinHashError::NoHash);
        }
        Ok(PinHash(text.to_string()))
    }

    /// Hash `pin` with `salt` (at least 8 bytes, from the OS's random
    /// source in production) and Argon2id `params`.
    pub fn derive(pin: &str, salt: &[u8], params: argon2::Params) -> Result<PinHash, PinHashError> {
        use argon2::password_hash::{PasswordHasher, SaltString};
        let salt =
            SaltString::encode_b64(salt).map_err(|err| PinHashError::Shape(err.to_string()))?;
        argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
            .hash_password(pin.as_bytes(), &salt)
            .map(|hash| PinHash(hash.to_string()))
            .map_err(|err| PinHashError::Params(err.to_string()))
    }

    /// Whether `pin` is the PIN (argon2 compares in constant time).
    pub fn matches(&self, pin: &str) -> bool {
        use argon2::password_hash::PasswordVerifier;
        let Ok(hash) = argon2::PasswordHash::new(&self.0) else {
            return false;
        };
        argon2::Argon2::default()
            .verify_password(pin.as_bytes(), &hash)
            .is_ok()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PinHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Never print the hash by accident (logs, panics).
impl fmt::Debug for PinHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PinHash(<argon2>)")
    }
}

/// One staff member who may open staff mode and sign for what they
/// witness: an id (what records and the audit log carry), the name shown on
/// the PIN pad for them to pick, and their own PIN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffAccount {
    pub staff_id: String,
    pub name: String,
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
    PinLockedOut {
        seconds: i64,
    },
    ManualEntryStarted,
    HelpOnBehalfStarted,
    HelpOnBehalfEnded,
    QueueViewed,
    DeviceStatusViewed,
    ConfigViewed,
    SyncRequested,
    SignatureWitnessed,
    /// A portrait with issues accepted (the record says which).
    PortraitAccepted,
    /// A certificate marked as not shown (the record says which and why).
    DocumentMarkedMissing,
    SessionCancelled,
    /// "重新登记" on a record the county returned (its UUID is not
    /// personal data: the record itself is sealed to the county).
    ReturnedRecordReopened {
        record_id: uuid::Uuid,
    },
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

    /// Found by fuzzing kiosk.toml: argon2's own parameter check multiplies
    /// `p` by 8 and overflowed; costs argon2 allows would hang the PIN pad.
    #[test]
    fn pin_hashes_asking_for_absurd_costs_are_refused_not_a_panic() {
        let hash = |params: &str| {
            format!("$argon2id$v=19${params}$heT+TAKx2xWLbTQRjrBYLg$W4vuNvzNDEfZY7QJBuJ7cl1YyOtwK2F0iKXinHSobWM")
        };
        assert!(PinHash::parse(&hash("m=19456,t=2,p=1")).is_ok());
        for params in [
            "m=19456,t=2,p=2147483647",
            "m=19456,t=2,p=4294967295",
            "m=4294967295,t=2,p=1",
            "m=19456,t=4294967295,p=1",
            "m=262145,t=2,p=1",
            "m=19456,t=17,p=1",
            "m=19456,t=2,p=17",
        ] {
            let refused = PinHash::parse(&hash(params));
            assert!(
                matches!(refused, Err(PinHashError::Params(_))),
                "{params}: {refused:?}"
            );
        }
        assert!(PinHash::parse(&hash("m=262144,t=16,p=16")).is_ok());
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

    /// Cheap parameters: the tests check behaviour, not strength.
    pub(crate) fn test_params() -> argon2::Params {
        argon2::Params::new(8, 1, 1, None).unwrap()
    }

    #[test]
    fn pin_hash_round_trips_and_matches_only_the_pin() {
        let hash = PinHash::derive("2468", b"kiosk-salt-01", test_params()).unwrap();
        let text = hash.to_string();
        assert!(text.starts_with("$argon2id$v=19$m=8,t=1,p=1$"), "{text}");
        let parsed = PinHash::parse(&text).unwrap();
        assert_eq!(parsed, hash);
        assert!(parsed.matches("2468"));
        for wrong in ["", "2467", "24680", " 2468", "１２３４"] {
            assert!(!parsed.matches(wrong), "{wrong:?}");
        }
        assert_eq!(format!("{hash:?}"), "PinHash(<argon2>)");
    }

    #[test]
    fn the_shipped_demo_hash_verifies_its_documented_pin() {
        // kiosk-config/kiosk.toml documents the demo PIN 246810.
        let shipped = "$argon2id$v=19$m=19456,t=2,p=1$heT+TAKx2xWLbTQRjrBYLg$W4vuNvzNDEfZY7QJBuJ7cl1YyOtwK2F0iKXinHSobWM";
        let hash = PinHash::parse(shipped).unwrap();
        assert!(hash.matches("246810"));
        assert!(!hash.matches("246811"));
    }

    #[test]
    fn pin_hash_text_is_parsed_or_refused() {
        let good = PinHash::derive("1", b"12345678", test_params())
            .unwrap()
            .to_string();
        let cases = [
            ("", "pin_hash_shape"),
            ("pbkdf2-sha256$1$00$00", "pin_hash_shape"),
            (&format!("{good}$extra"), "pin_hash_shape"),
            (
                &good.replace("$argon2id$", "$scrypt$"),
                "pin_hash_algorithm",
            ),
            (&good.replace("m=8,", "m=1,"), "pin_hash_params"),
            (&good[..good.rfind('$').unwrap()], "pin_hash_missing"),
        ];
        for (text, code) in cases {
            assert_eq!(PinHash::parse(text).unwrap_err().code(), code, "{text}");
        }
        assert!(PinHash::parse(&good).is_ok());
        assert!(PinHash::derive("1", b"short", test_params()).is_err());
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

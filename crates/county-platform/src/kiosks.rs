//! The kiosk registry: every kiosk the county has (enrolled in the console,
//! or met on the mutual-TLS API), its certificates, when it was last seen,
//! the backlog it reports, and revocation.
//!
//! Revocation is checked for every request on the kiosks' API, before any
//! route runs (see `serve` in lib.rs), against the in-memory [`KioskGate`]:
//! a request is refused when its certificate's fingerprint is revoked, or
//! when its certificate names (CN) a revoked kiosk id, whichever
//! certificate it holds. A revoked id is never enrolled again: a
//! replacement kiosk gets a new id, so the refusal cannot be undone by
//! accident. Other kiosks are untouched.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, RwLock};

use crate::sql::{params, OptionalExtension};
use chrono::{DateTime, Duration, Utc};

use crate::db::{ts, DbError, PlatformDb};
use crate::PeerCert;

/// The registry's tables (platform schema version 4). Kiosks that
/// uploaded before it are registered from their records.
pub const V4_KIOSKS: &str = r#"
CREATE TABLE kiosks (
    kiosk_id      TEXT PRIMARY KEY,
    township_code TEXT NOT NULL DEFAULT '',
    enrolled_at   TEXT,
    enrolled_by   TEXT,
    revoked_at    TEXT,
    revoked_by    TEXT,
    revoke_reason TEXT,
    last_seen     TEXT,
    last_cert     TEXT,
    backlog       INTEGER
);
CREATE TABLE kiosk_certificates (
    cert_sha256 TEXT PRIMARY KEY,
    kiosk_id    TEXT NOT NULL,
    first_at    TEXT NOT NULL,
    issued_by   TEXT,
    not_after   TEXT,
    revoked_at  TEXT
);
CREATE INDEX kiosk_certificates_by_kiosk ON kiosk_certificates(kiosk_id);
INSERT OR IGNORE INTO kiosks (kiosk_id, township_code)
    SELECT kiosk_id, max(township_code) FROM records GROUP BY kiosk_id;
INSERT OR IGNORE INTO kiosk_certificates (cert_sha256, kiosk_id, first_at)
    SELECT client_cert, kiosk_id, min(received_at) FROM records GROUP BY client_cert;
ALTER TABLE console_audit ADD COLUMN detail TEXT;
"#;

/// How often a kiosk's "last seen" is written while nothing else changes.
const SEEN_WRITE_EVERY: Duration = Duration::seconds(60);

/// What is revoked, as the request layer checks it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Revoked {
    pub kiosk_ids: HashSet<String>,
    pub certificates: HashSet<String>,
}

/// Per kiosk id: when its sighting was last written, and the backlog then.
type Sightings = HashMap<String, (DateTime<Utc>, Option<u32>)>;

/// The in-memory side of the registry that every kiosk request passes.
#[derive(Debug, Default)]
pub struct KioskGate {
    revoked: RwLock<Revoked>,
    /// Per kiosk: when "last seen" was last written, and the backlog then.
    seen: Mutex<Sightings>,
}

impl KioskGate {
    /// Is this certificate refused? (Its fingerprint, or the kiosk it names.)
    pub fn refuses(&self, peer: &PeerCert) -> bool {
        let revoked = self
            .revoked
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        revoked.certificates.contains(&peer.sha256)
            || peer
                .common_name
                .as_ref()
                .is_some_and(|cn| revoked.kiosk_ids.contains(cn))
    }

    /// Takes what the database says is revoked.
    pub fn reload(&self, db: &PlatformDb) -> Result<(), DbError> {
        let revoked = db.revoked()?;
        *self
            .revoked
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = revoked;
        Ok(())
    }

    /// Should this sighting be written now? Only once a minute per kiosk,
    /// or when its backlog changed, so the busy path stays cheap.
    pub fn sighting_due(&self, kiosk_id: &str, backlog: Option<u32>, now: DateTime<Utc>) -> bool {
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let due = match seen.get(kiosk_id) {
            None => true,
            Some((at, last_backlog)) => {
                now - *at >= SEEN_WRITE_EVERY || (backlog.is_some() && backlog != *last_backlog)
            }
        };
        if due {
            seen.insert(kiosk_id.to_string(), (now, backlog));
        }
        due
    }
}

/// A kiosk id as the registry takes it from a form: the same rule as the
/// kiosk's own `[kiosk] id` (letters, digits, `-`, `_`, `.`).
pub fn parse_kiosk_id(text: &str) -> Option<String> {
    kiosk_core::kiosk::KioskId::parse(text.trim())
        .ok()
        .map(|id| id.to_string())
}

/// One row of the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KioskRow {
    pub kiosk_id: String,
    pub township_code: String,
    pub enrolled_at: Option<String>,
    pub enrolled_by: Option<String>,
    pub revoked_at: Option<String>,
    pub revoked_by: Option<String>,
    pub revoke_reason: Option<String>,
    pub last_seen: Option<String>,
    /// The fingerprint of the certificate it was last seen with.
    pub last_cert: Option<String>,
    pub backlog: Option<u32>,
    pub last_upload: Option<String>,
    /// Every certificate fingerprint known for it.
    pub certificates: Vec<String>,
}

/// Why an enrolment is refused.
#[derive(Debug, PartialEq, Eq)]
pub enum EnrolRefusal {
    /// The id was revoked: a replacement kiosk needs a new id.
    Revoked,
}

/// One audited kiosk action, for the registry page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KioskAudit {
    pub at: String,
    pub username: String,
    pub action: String,
    pub kiosk_id: Option<String>,
    pub detail: Option<String>,
}

impl PlatformDb {
    /// What is revoked now.
    pub fn revoked(&self) -> Result<Revoked, DbError> {
        let mut revoked = Revoked::default();
        let mut stmt = self
            .conn
            .prepare_cached("SELECT kiosk_id FROM kiosks WHERE revoked_at IS NOT NULL")?;
        for id in stmt.query_map(params![], |r| r.get::<_, String>(0))? {
            revoked.kiosk_ids.insert(id?);
        }
        let mut stmt = self.conn.prepare_cached(
            "SELECT cert_sha256 FROM kiosk_certificates WHERE revoked_at IS NOT NULL",
        )?;
        for sha in stmt.query_map(params![], |r| r.get::<_, String>(0))? {
            revoked.certificates.insert(sha?);
        }
        Ok(revoked)
    }

    /// A kiosk was seen on the API with `peer`'s certificate, reporting
    /// `backlog` records not yet uploaded (when it says).
    pub fn kiosk_seen(
        &self,
        kiosk_id: &str,
        cert_sha256: &str,
        backlog: Option<u32>,
        now: DateTime<Utc>,
    ) -> Result<(), DbError> {
        self.conn.execute(
            "INSERT INTO kiosks (kiosk_id, last_seen, last_cert, backlog) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT(kiosk_id) DO UPDATE SET last_seen = excluded.last_seen, \
             last_cert = excluded.last_cert, backlog = coalesce(excluded.backlog, kiosks.backlog)",
            params![kiosk_id, ts(now), cert_sha256, backlog],
        )?;
        self.conn.execute(
            "INSERT INTO kiosk_certificates (cert_sha256, kiosk_id, first_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT DO NOTHING",
            params![cert_sha256, kiosk_id, ts(now)],
        )?;
        Ok(())
    }

    /// Registers a certificate the county CA issued to `kiosk_id` in the
    /// console (new key pair, or a signed request).
    pub fn enrol_kiosk(
        &mut self,
        kiosk_id: &str,
        township_code: &str,
        cert_sha256: &str,
        not_after: &str,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<(), EnrolRefusal>, DbError> {
        let tx = self.conn.transaction()?;
        let revoked: Option<Option<String>> = tx
            .query_row(
                "SELECT revoked_at FROM kiosks WHERE kiosk_id = ?1",
                [kiosk_id],
                |r| r.get(0),
            )
            .optional()?;
        if matches!(revoked, Some(Some(_))) {
            return Ok(Err(EnrolRefusal::Revoked));
        }
        tx.execute(
            "INSERT INTO kiosks (kiosk_id, township_code, enrolled_at, enrolled_by) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT(kiosk_id) DO UPDATE SET township_code = excluded.township_code, \
             enrolled_at = excluded.enrolled_at, enrolled_by = excluded.enrolled_by",
            params![kiosk_id, township_code, ts(now), by],
        )?;
        tx.execute(
            "INSERT INTO kiosk_certificates (cert_sha256, kiosk_id, first_at, issued_by, not_after) \
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(cert_sha256) DO UPDATE SET kiosk_id = excluded.kiosk_id, \
             first_at = excluded.first_at, issued_by = excluded.issued_by, not_after = excluded.not_after, \
             revoked_at = NULL",
            params![cert_sha256, kiosk_id, ts(now), by, not_after],
        )?;
        tx.execute(
            "INSERT INTO console_audit (at, username, action, record_id, detail) VALUES (?1, ?2, 'kiosk_enrol', ?3, ?4)",
            params![ts(now), by, kiosk_id, format!("证书指纹 {cert_sha256}")],
        )?;
        tx.commit()?;
        Ok(Ok(()))
    }

    /// Revokes a kiosk: its id and every certificate known for it. `false`
    /// if the platform never heard of it.
    pub fn revoke_kiosk(
        &mut self,
        kiosk_id: &str,
        by: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, DbError> {
        let tx = self.conn.transaction()?;
        let changed = tx.execute(
            "UPDATE kiosks SET revoked_at = ?2, revoked_by = ?3, revoke_reason = ?4 \
             WHERE kiosk_id = ?1 AND revoked_at IS NULL",
            params![kiosk_id, ts(now), by, reason],
        )?;
        if changed == 0 {
            return Ok(false);
        }
        // Certificates it uploaded with but was never seen with since the registry began.
        tx.execute(
            "INSERT INTO kiosk_certificates (cert_sha256, kiosk_id, first_at) \
             SELECT client_cert, kiosk_id, min(received_at) FROM records WHERE kiosk_id = ?1 \
             GROUP BY client_cert, kiosk_id ON CONFLICT DO NOTHING",
            [kiosk_id],
        )?;
        tx.execute(
            "UPDATE kiosk_certificates SET revoked_at = ?2 WHERE kiosk_id = ?1 AND revoked_at IS NULL",
            params![kiosk_id, ts(now)],
        )?;
        tx.execute(
            "INSERT INTO console_audit (at, username, action, record_id, detail) VALUES (?1, ?2, 'kiosk_revoke', ?3, ?4)",
            params![ts(now), by, kiosk_id, format!("原因：{reason}")],
        )?;
        tx.commit()?;
        Ok(true)
    }

    /// Appends an audit entry about a kiosk or a configuration, with a
    /// detail line (never personal data).
    pub fn audit_detail(
        &self,
        username: &str,
        action: &str,
        subject: Option<&str>,
        detail: &str,
        now: DateTime<Utc>,
    ) -> Result<(), DbError> {
        self.conn.execute(
            "INSERT INTO console_audit (at, username, action, record_id, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![ts(now), username, action, subject, detail],
        )?;
        Ok(())
    }

    /// The newest audited kiosk and configuration actions, newest first.
    pub fn kiosk_audit(&self, limit: u32) -> Result<Vec<KioskAudit>, DbError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT at, username, action, record_id, detail FROM console_audit \
             WHERE action LIKE 'kiosk\\_%' ESCAPE '\\' OR action LIKE 'config\\_%' ESCAPE '\\' \
             ORDER BY seq DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit], |r| {
            Ok(KioskAudit {
                at: r.get(0)?,
                username: r.get(1)?,
                action: r.get(2)?,
                kiosk_id: r.get(3)?,
                detail: r.get(4)?,
            })
        })?;
        rows.collect::<Result<_, _>>()
    }

    /// Every kiosk in the registry, by id.
    pub fn kiosk_registry(&self) -> Result<Vec<KioskRow>, DbError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT k.kiosk_id, k.township_code, k.enrolled_at, k.enrolled_by, k.revoked_at, k.revoked_by, \
             k.revoke_reason, k.last_seen, k.last_cert, k.backlog, \
             (SELECT max(received_at) FROM records r WHERE r.kiosk_id = k.kiosk_id), \
             (SELECT township_code FROM records r WHERE r.kiosk_id = k.kiosk_id AND township_code != '' \
              ORDER BY received_at DESC LIMIT 1) \
             FROM kiosks k ORDER BY k.kiosk_id",
        )?;
        let rows = stmt.query_map(params![], |r| {
            let township: String = r.get(1)?;
            let from_records: Option<String> = r.get(11)?;
            Ok(KioskRow {
                kiosk_id: r.get(0)?,
                township_code: if township.is_empty() {
                    from_records.unwrap_or_default()
                } else {
                    township
                },
                enrolled_at: r.get(2)?,
                enrolled_by: r.get(3)?,
                revoked_at: r.get(4)?,
                revoked_by: r.get(5)?,
                revoke_reason: r.get(6)?,
                last_seen: r.get(7)?,
                last_cert: r.get(8)?,
                backlog: r.get(9)?,
                last_upload: r.get(10)?,
                certificates: Vec::new(),
            })
        })?;
        let mut out: Vec<KioskRow> = rows.collect::<Result<_, _>>()?;
        let mut certs = self.conn.prepare_cached(
            "SELECT cert_sha256 FROM kiosk_certificates WHERE kiosk_id = ?1 ORDER BY first_at",
        )?;
        for row in &mut out {
            row.certificates = certs
                .query_map([&row.kiosk_id], |r| r.get::<_, String>(0))?
                .collect::<Result<_, _>>()?;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn peer(sha: &str, cn: &str) -> PeerCert {
        PeerCert {
            sha256: sha.to_string(),
            common_name: Some(cn.to_string()),
            der: Arc::new(Vec::new()),
        }
    }

    crate::both_engines!(
        a_revoked_kiosk_is_refused_by_id_and_fingerprint_and_others_are_not,
        revoked_kiosks_on
    );
    fn revoked_kiosks_on(engine: crate::testing::Engine) {
        let test_db = crate::testing::TestDb::new(engine);
        let mut db = test_db.open().unwrap();
        let now = Utc::now();
        db.kiosk_seen("ks-a", "aaaa", Some(3), now).unwrap();
        db.kiosk_seen("ks-b", "bbbb", None, now).unwrap();
        assert!(!db.revoke_kiosk("ks-unknown", "admin", "丢失", now).unwrap());
        assert!(db.revoke_kiosk("ks-a", "admin", "终端被盗", now).unwrap());
        // Twice is not a second revocation.
        assert!(!db.revoke_kiosk("ks-a", "admin", "终端被盗", now).unwrap());
        let gate = KioskGate::default();
        gate.reload(&db).unwrap();
        assert!(gate.refuses(&peer("aaaa", "ks-a")));
        // Another certificate naming the revoked id, and the revoked
        // certificate whatever it names.
        assert!(gate.refuses(&peer("cccc", "ks-a")));
        assert!(gate.refuses(&peer("aaaa", "ks-x")));
        assert!(!gate.refuses(&peer("bbbb", "ks-b")));
        assert_eq!(
            db.enrol_kiosk("ks-a", "430121001", "dddd", "2030-01-01", "admin", now)
                .unwrap(),
            Err(EnrolRefusal::Revoked)
        );
        db.enrol_kiosk("ks-c", "430121002", "eeee", "2030-01-01", "admin", now)
            .unwrap()
            .unwrap();
        let rows = db.kiosk_registry().unwrap();
        let ids: Vec<&str> = rows.iter().map(|r| r.kiosk_id.as_str()).collect();
        assert_eq!(ids, ["ks-a", "ks-b", "ks-c"]);
        assert_eq!(rows[0].backlog, Some(3));
        assert_eq!(rows[0].revoke_reason.as_deref(), Some("终端被盗"));
        assert_eq!(rows[2].certificates, ["eeee"]);
        let audit = db.kiosk_audit(10).unwrap();
        assert_eq!(audit[0].action, "kiosk_enrol");
        assert_eq!(audit[1].action, "kiosk_revoke");
        assert_eq!(audit[1].detail.as_deref(), Some("原因：终端被盗"));
    }

    #[test]
    fn sightings_are_written_once_a_minute_or_when_the_backlog_changes() {
        let gate = KioskGate::default();
        let t0 = Utc::now();
        assert!(gate.sighting_due("ks", Some(2), t0));
        assert!(!gate.sighting_due("ks", Some(2), t0 + Duration::seconds(10)));
        assert!(!gate.sighting_due("ks", None, t0 + Duration::seconds(10)));
        assert!(gate.sighting_due("ks", Some(1), t0 + Duration::seconds(11)));
        assert!(gate.sighting_due("ks", Some(1), t0 + Duration::seconds(80)));
        assert!(gate.sighting_due("other", None, t0));
    }
}

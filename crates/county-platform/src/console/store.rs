//! The console's tables in the platform database: staff accounts with their
//! lockout, sessions, and the append-only audit log.
//!
//! Every function takes `now`: lockout and idle logout are tested without
//! sleeping.

use crate::sql::{params, OptionalExtension};
use chrono::{DateTime, Duration, Utc};

use super::auth::{Role, Username};
use crate::db::{ts, DbError, PlatformDb};

/// Wrong passwords in a row that lock an account.
pub const LOCK_AFTER_FAILURES: u32 = 5;
/// The first lock; each further wrong password doubles it.
pub const FIRST_LOCK: Duration = Duration::minutes(1);
/// The longest lock (the doubling stops here).
pub const LONGEST_LOCK: Duration = Duration::hours(24);
/// A session unused this long is logged out.
pub const IDLE_LOGOUT: Duration = Duration::minutes(15);

/// A staff account as the login needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub username: Username,
    pub role: Role,
    pub password_hash: String,
    pub failed_logins: u32,
    pub locked_until: Option<DateTime<Utc>>,
}

impl Account {
    /// Locked at `now`: the password is not even looked at.
    pub fn locked_at(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.locked_until.filter(|until| *until > now)
    }
}

/// How long the `failures`-th wrong password in a row locks the account.
pub fn lock_for(failures: u32) -> Option<Duration> {
    let beyond = failures.checked_sub(LOCK_AFTER_FAILURES)?;
    let factor = 1i32.checked_shl(beyond.min(20)).unwrap_or(i32::MAX);
    Some((FIRST_LOCK * factor).min(LONGEST_LOCK))
}

/// A logged-in session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub username: Username,
    pub role: Role,
    pub csrf_token: String,
}

fn parse_time(text: &str) -> Result<DateTime<Utc>, DbError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| DbError::Corrupt(format!("bad time {text:?}")))
}

fn corrupt_user(text: &str) -> DbError {
    DbError::Corrupt(format!("bad console user {text:?}"))
}

/// An account as the user list shows it: name, role, locked until.
pub type AccountRow = (Username, Role, Option<DateTime<Utc>>);

/// Another record of the same person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Linked {
    pub record_id: uuid::Uuid,
    pub record_number: Option<String>,
    pub kiosk_id: String,
    pub received_at: String,
    pub state: String,
    pub supersedes: Option<uuid::Uuid>,
    /// Refused by the intake's checks (never a registration of its own).
    pub refused_at_intake: bool,
}

/// The registration campaign a receipt time falls in: the county updates
/// its register twice a year, so a campaign is a half year ("2026-H2").
pub fn campaign_of(received_at: &str) -> Option<String> {
    let year = received_at.get(..4)?;
    let month: u32 = received_at.get(5..7)?.parse().ok()?;
    Some(format!("{year}-H{}", if month <= 6 { 1 } else { 2 }))
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub at: String,
    pub username: String,
    pub action: String,
    pub record_id: Option<String>,
}

impl PlatformDb {
    /// Adds a staff account; `false` if the name is taken.
    pub fn add_console_user(
        &self,
        username: &Username,
        role: Role,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, DbError> {
        let added = self.conn.execute(
            "INSERT INTO console_users (username, role, password_hash, created_at) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT(username) DO NOTHING",
            params![username.as_str(), role.as_str(), password_hash, ts(now)],
        )?;
        Ok(added == 1)
    }

    /// Every account with until when it is locked (if it ever was and has
    /// not logged in since).
    pub fn console_users(&self) -> Result<Vec<AccountRow>, DbError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT username, role, locked_until FROM console_users ORDER BY username",
        )?;
        let rows = stmt.query_map(params![], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (name, role, locked) = row?;
            out.push((
                Username::parse(&name).ok_or_else(|| corrupt_user(&name))?,
                Role::parse(&role).ok_or_else(|| corrupt_user(&role))?,
                locked.as_deref().map(parse_time).transpose()?,
            ));
        }
        Ok(out)
    }

    pub fn console_account(&self, username: &Username) -> Result<Option<Account>, DbError> {
        let row = self
            .conn
            .query_row(
                "SELECT role, password_hash, failed_logins, locked_until FROM console_users WHERE username = ?1",
                [username.as_str()],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, u32>(2)?,
                        r.get::<_, Option<String>>(3)?,
                    ))
                },
            )
            .optional()?;
        row.map(|(role, password_hash, failed_logins, locked_until)| {
            Ok(Account {
                username: username.clone(),
                role: Role::parse(&role).ok_or_else(|| corrupt_user(&role))?,
                password_hash,
                failed_logins,
                locked_until: locked_until.as_deref().map(parse_time).transpose()?,
            })
        })
        .transpose()
    }

    /// Counts a wrong password; returns until when the account is now locked.
    pub fn console_login_failed(
        &self,
        username: &Username,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, DbError> {
        let failures: Option<u32> = self
            .conn
            .query_row(
                "UPDATE console_users SET failed_logins = failed_logins + 1 WHERE username = ?1 RETURNING failed_logins",
                [username.as_str()],
                |r| r.get(0),
            )
            .optional()?;
        let Some(until) = failures.and_then(lock_for).map(|d| now + d) else {
            return Ok(None);
        };
        self.conn.execute(
            "UPDATE console_users SET locked_until = ?1 WHERE username = ?2",
            params![ts(until), username.as_str()],
        )?;
        Ok(Some(until))
    }

    /// A right password: the count of wrong ones starts again.
    pub fn console_login_succeeded(&self, username: &Username) -> Result<(), DbError> {
        self.conn.execute(
            "UPDATE console_users SET failed_logins = 0, locked_until = NULL WHERE username = ?1",
            [username.as_str()],
        )?;
        Ok(())
    }

    /// An administrator changes an account's role and/or password; its
    /// sessions end (the next page asks it to log in again). `false` if
    /// there is no such account.
    pub fn console_update_user(
        &self,
        username: &Username,
        role: Option<Role>,
        password_hash: Option<&str>,
    ) -> Result<bool, DbError> {
        let mut found = self.console_account(username)?.is_some();
        if let Some(role) = role {
            found &= self.conn.execute(
                "UPDATE console_users SET role = ?1 WHERE username = ?2",
                params![role.as_str(), username.as_str()],
            )? == 1;
        }
        if let Some(hash) = password_hash {
            found &= self.conn.execute(
                "UPDATE console_users SET password_hash = ?1, failed_logins = 0, locked_until = NULL WHERE username = ?2",
                params![hash, username.as_str()],
            )? == 1;
        }
        self.conn.execute(
            "DELETE FROM console_sessions WHERE username = ?1",
            [username.as_str()],
        )?;
        Ok(found)
    }

    /// An administrator unlocks an account.
    pub fn console_unlock(&self, username: &Username) -> Result<bool, DbError> {
        Ok(self.conn.execute(
            "UPDATE console_users SET failed_logins = 0, locked_until = NULL WHERE username = ?1",
            [username.as_str()],
        )? == 1)
    }

    /// Stores a new session under the SHA-256 of its token (a copy of the
    /// database does not hold live cookies).
    pub fn console_session_start(
        &self,
        token_sha256: &str,
        username: &Username,
        csrf_token: &str,
        now: DateTime<Utc>,
    ) -> Result<(), DbError> {
        self.conn.execute(
            "INSERT INTO console_sessions (token_sha256, username, csrf_token, last_seen) VALUES (?1, ?2, ?3, ?4)",
            params![token_sha256, username.as_str(), csrf_token, ts(now)],
        )?;
        Ok(())
    }

    /// The session for a token, if it is live at `now` (and marks it used);
    /// an idle one is ended here.
    pub fn console_session(
        &self,
        token_sha256: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Session>, DbError> {
        let row = self
            .conn
            .query_row(
                "SELECT s.username, u.role, s.csrf_token, s.last_seen FROM console_sessions s \
                 JOIN console_users u ON u.username = s.username WHERE s.token_sha256 = ?1",
                [token_sha256],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                    ))
                },
            )
            .optional()?;
        let Some((username, role, csrf_token, last_seen)) = row else {
            return Ok(None);
        };
        if parse_time(&last_seen)? + IDLE_LOGOUT <= now {
            self.console_session_end(token_sha256)?;
            return Ok(None);
        }
        self.conn.execute(
            "UPDATE console_sessions SET last_seen = ?1 WHERE token_sha256 = ?2",
            params![ts(now), token_sha256],
        )?;
        Ok(Some(Session {
            username: Username::parse(&username).ok_or_else(|| corrupt_user(&username))?,
            role: Role::parse(&role).ok_or_else(|| corrupt_user(&role))?,
            csrf_token,
        }))
    }

    pub fn console_session_end(&self, token_sha256: &str) -> Result<(), DbError> {
        self.conn.execute(
            "DELETE FROM console_sessions WHERE token_sha256 = ?1",
            [token_sha256],
        )?;
        Ok(())
    }

    /// The other records of the person `record_id` is of, oldest first.
    pub fn same_person(&self, record_id: uuid::Uuid) -> Result<Vec<Linked>, DbError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT o.record_id, o.record_number, o.kiosk_id, o.received_at, o.state, o.supersedes, o.reviewed_by \
             FROM records r JOIN records o ON o.person_key = r.person_key AND o.record_id != r.record_id \
             WHERE r.record_id = ?1 AND r.person_key IS NOT NULL ORDER BY o.received_at, o.record_id",
        )?;
        let rows = stmt.query_map([record_id.to_string()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, Option<String>>(6)?,
            ))
        })?;
        let uuid = |text: &str| {
            uuid::Uuid::parse_str(text).map_err(|_| DbError::Corrupt("bad uuid".into()))
        };
        let mut out = Vec::new();
        for row in rows {
            let (id, record_number, kiosk_id, received_at, state, supersedes, reviewed_by) = row?;
            out.push(Linked {
                record_id: uuid(&id)?,
                record_number,
                kiosk_id,
                received_at,
                state,
                supersedes: supersedes.as_deref().map(uuid).transpose()?,
                refused_at_intake: reviewed_by.as_deref() == Some(crate::db::INTAKE_REVIEWER),
            });
        }
        Ok(out)
    }

    pub fn received_at(&self, record_id: uuid::Uuid) -> Result<Option<String>, DbError> {
        self.conn
            .query_row(
                "SELECT received_at FROM records WHERE record_id = ?1",
                [record_id.to_string()],
                |r| r.get(0),
            )
            .optional()
    }

    /// The correction that superseded `record_id`, if any.
    pub fn superseded_by(&self, record_id: uuid::Uuid) -> Result<Option<uuid::Uuid>, DbError> {
        let newer: Option<String> = self
            .conn
            .query_row(
                "SELECT record_id FROM records WHERE supersedes = ?1 ORDER BY received_at DESC LIMIT 1",
                [record_id.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        newer
            .map(|id| uuid::Uuid::parse_str(&id).map_err(|_| DbError::Corrupt("bad uuid".into())))
            .transpose()
    }

    /// Appends to the audit log: who, what, when, which record; never
    /// personal data (the record is named by its id only).
    pub fn audit(
        &self,
        username: &str,
        action: &str,
        record_id: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), DbError> {
        self.conn.execute(
            "INSERT INTO console_audit (at, username, action, record_id) VALUES (?1, ?2, ?3, ?4)",
            params![ts(now), username, action, record_id],
        )?;
        Ok(())
    }

    /// Audits a change that may have found nothing to change (no such user,
    /// no such reason): only a change made is an action. Gives `changed` back.
    pub fn audit_if(
        &self,
        changed: bool,
        username: &str,
        action: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, DbError> {
        if changed {
            self.audit(username, action, None, now)?;
        }
        Ok(changed)
    }

    /// The newest `limit` audit entries, newest first.
    pub fn audit_log(&self, limit: u32) -> Result<Vec<AuditEntry>, DbError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT at, username, action, record_id FROM console_audit ORDER BY seq DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit], |r| {
            Ok(AuditEntry {
                at: r.get(0)?,
                username: r.get(1)?,
                action: r.get(2)?,
                record_id: r.get(3)?,
            })
        })?;
        rows.collect::<Result<_, _>>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Engine, TestDb};

    fn db(engine: Engine) -> (TestDb, PlatformDb) {
        let test_db = TestDb::new(engine);
        let db = test_db.open().unwrap();
        (test_db, db)
    }

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-01T08:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    crate::both_engines!(
        five_wrong_passwords_lock_and_each_further_one_doubles_the_lock,
        five_wrong_passwords_lock_and_each_further_one_doubles_the_lock_on
    );
    fn five_wrong_passwords_lock_and_each_further_one_doubles_the_lock_on(engine: Engine) {
        let (_dir, db) = db(engine);
        let alice = Username::parse("alice").unwrap();
        assert!(db
            .add_console_user(&alice, Role::Reviewer, "hash", t0())
            .unwrap());
        assert!(!db
            .add_console_user(&alice, Role::Admin, "hash", t0())
            .unwrap());
        for _ in 0..4 {
            assert_eq!(db.console_login_failed(&alice, t0()).unwrap(), None);
        }
        let locks: Vec<i64> = (0..4)
            .map(|_| {
                let until = db.console_login_failed(&alice, t0()).unwrap().unwrap();
                (until - t0()).num_seconds()
            })
            .collect();
        assert_eq!(locks, [60, 120, 240, 480]);
        let account = db.console_account(&alice).unwrap().unwrap();
        assert!(account.locked_at(t0() + Duration::seconds(479)).is_some());
        assert!(account.locked_at(t0() + Duration::seconds(480)).is_none());
        db.console_login_succeeded(&alice).unwrap();
        let account = db.console_account(&alice).unwrap().unwrap();
        assert_eq!((account.failed_logins, account.locked_until), (0, None));
        assert_eq!(lock_for(40), Some(LONGEST_LOCK));
    }

    crate::both_engines!(
        an_idle_session_is_logged_out,
        an_idle_session_is_logged_out_on
    );
    fn an_idle_session_is_logged_out_on(engine: Engine) {
        let (_dir, db) = db(engine);
        let bob = Username::parse("bob").unwrap();
        db.add_console_user(&bob, Role::Viewer, "hash", t0())
            .unwrap();
        db.console_session_start("tok", &bob, "csrf", t0()).unwrap();
        let later = t0() + IDLE_LOGOUT - Duration::seconds(1);
        assert_eq!(
            db.console_session("tok", later).unwrap().map(|s| s.role),
            Some(Role::Viewer)
        );
        // Use keeps it alive; idleness ends it.
        let idle = later + IDLE_LOGOUT;
        assert_eq!(db.console_session("tok", idle).unwrap(), None);
        assert_eq!(db.console_session("tok", later).unwrap(), None);
    }

    crate::both_engines!(
        the_audit_log_cannot_be_changed_or_deleted,
        the_audit_log_cannot_be_changed_or_deleted_on
    );
    fn the_audit_log_cannot_be_changed_or_deleted_on(engine: Engine) {
        let (_dir, db) = db(engine);
        db.audit("alice", "accept", Some("r1"), t0()).unwrap();
        assert!(db
            .conn
            .execute("UPDATE console_audit SET action = 'x'", params![])
            .is_err());
        assert!(db
            .conn
            .execute("DELETE FROM console_audit", params![])
            .is_err());
        assert_eq!(db.audit_log(10).unwrap().len(), 1);
    }
}

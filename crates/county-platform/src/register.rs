//! The county's register of persons: one row per person, keyed by the keyed
//! hash of the ID number (`AppState::person_key`), with the number itself
//! only sealed to the platform's `age` key and a masked form for display;
//! and the one path by which a reviewer's acceptance feeds the kiosks'
//! look-up base (console and command line alike).

use crate::sql::{params, OptionalExtension};
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use chrono::{DateTime, Utc};
use rand_core::{OsRng, RngCore};
use uuid::Uuid;

use crate::db::{ts, DbError, PlatformDb};
use kiosk_core::id_number::IdNumber;
use kiosk_core::record::Record;
use kiosk_core::Problem;
use trust::seal;
use trust::sha256_hex;

/// The keys the register is kept under, derived from the platform's
/// secret `age` identity (so a copy of the database alone opens nothing):
/// the person key (a keyed SHA-256 of an ID number, what rows are found
/// by) and the key sealing look-up entries at rest (ChaCha20-Poly1305:
/// the export opens 200,000 of them in well under a second).
#[derive(Clone)]
pub struct RegisterKeys {
    person: String,
    base: Key,
}

impl RegisterKeys {
    pub fn from_identity(identity: &age::x25519::Identity) -> RegisterKeys {
        use age::secrecy::ExposeSecret;
        let secret = identity.to_string();
        let secret = secret.expose_secret();
        let person = sha256_hex(format!("veteran-kiosk person key\n{secret}").as_bytes());
        let base_hex = sha256_hex(format!("veteran-kiosk base key\n{secret}").as_bytes());
        let mut base = [0u8; 32];
        for (i, byte) in base.iter_mut().enumerate() {
            *byte =
                u8::from_str_radix(base_hex.get(i * 2..i * 2 + 2).unwrap_or("00"), 16).unwrap_or(0);
        }
        RegisterKeys {
            person,
            base: Key::from(base),
        }
    }

    /// A person's key: the same for every record and entry of one ID number.
    pub fn person_key(&self, id_number: &str) -> String {
        sha256_hex(format!("{}\n{}", self.person, id_number.trim().to_ascii_uppercase()).as_bytes())
    }

    /// Seals a look-up entry: a random nonce, then the ciphertext.
    fn seal(&self, plaintext: &[u8]) -> Result<Vec<u8>, DbError> {
        let mut nonce = [0u8; 12];
        OsRng.fill_bytes(&mut nonce);
        let sealed = ChaCha20Poly1305::new(&self.base)
            .encrypt(Nonce::from_slice(&nonce), plaintext)
            .map_err(|_| DbError::Corrupt("cannot seal a base entry".into()))?;
        Ok([nonce.as_slice(), &sealed].concat())
    }

    fn open(&self, sealed: &[u8]) -> Result<Vec<u8>, DbError> {
        let (nonce, ciphertext) = sealed
            .split_at_checked(12)
            .ok_or_else(|| DbError::Corrupt("a base entry is too short".into()))?;
        ChaCha20Poly1305::new(&self.base)
            .decrypt(Nonce::from_slice(nonce), ciphertext)
            .map_err(|_| {
                DbError::Corrupt("a base entry does not open with this platform's key".into())
            })
    }

    pub fn seal_record(&self, record: &Record) -> Result<Vec<u8>, DbError> {
        let json = serde_json::to_vec(record).map_err(|e| DbError::Corrupt(e.to_string()))?;
        self.seal(&json)
    }

    pub(crate) fn open_record(&self, sealed: &[u8]) -> Result<Record, DbError> {
        serde_json::from_slice(&self.open(sealed)?)
            .map_err(|_| DbError::Corrupt("a base record does not parse".into()))
    }
}

/// One person of the register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub person_key: String,
    pub id_masked: String,
    pub first_received: String,
    pub last_received: String,
}

/// A record of a person, as the person page lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRecord {
    pub record_id: Uuid,
    pub record_number: Option<String>,
    pub kiosk_id: String,
    pub township_code: String,
    pub received_at: String,
    pub state: String,
    pub reasons: Vec<Problem>,
    /// Refused by the intake's checks, not returned by a reviewer.
    pub refused_at_intake: bool,
}

impl PlatformDb {
    /// Puts a person in the register (or notes one more record of them):
    /// the ID number is kept only sealed to `recipient` and masked.
    pub fn note_person(
        &self,
        person_key: &str,
        id_number: &str,
        recipient: &age::x25519::Recipient,
        received_at: DateTime<Utc>,
    ) -> Result<(), DbError> {
        let known: bool = self
            .conn
            .query_row(
                "SELECT 1 FROM persons WHERE person_key = ?1",
                [person_key],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        if known {
            self.conn.execute(
                "UPDATE persons SET last_received = CASE WHEN last_received < ?2 THEN ?2 ELSE last_received END \
                 WHERE person_key = ?1",
                params![person_key, ts(received_at)],
            )?;
            return Ok(());
        }
        let sealed = seal::encrypt(recipient, id_number.trim().as_bytes())
            .map_err(|e| DbError::Corrupt(format!("cannot seal an ID number: {e:?}")))?;
        self.conn.execute(
            "INSERT INTO persons (person_key, id_masked, id_sealed, first_received, last_received) \
             VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT(person_key) DO NOTHING",
            params![
                person_key,
                kiosk_core::id_number::mask_id_text(id_number),
                sealed,
                ts(received_at)
            ],
        )?;
        Ok(())
    }

    /// An accepted record as the person's look-up entry (an import never
    /// overwrites it; a later acceptance does).
    pub fn accepted_into_base(&self, record: &Record, now: DateTime<Utc>) -> Result<(), DbError> {
        self.put_base_entry(record, "accepted", now)
    }

    /// Stores `record` as its person's look-up entry, sealed. `source`
    /// "import" does not replace an "accepted" entry.
    pub(crate) fn put_base_entry(
        &self,
        record: &Record,
        source: &str,
        now: DateTime<Utc>,
    ) -> Result<(), DbError> {
        let keys = self.keys()?;
        let sealed = keys.seal_record(record)?;
        self.conn.execute(
            "INSERT INTO base_entries (person_key, record_id, township_code, sealed, imported_at, source) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(person_key) DO UPDATE SET \
             record_id = excluded.record_id, township_code = excluded.township_code, sealed = excluded.sealed, \
             imported_at = excluded.imported_at, source = excluded.source \
             WHERE excluded.source = 'accepted' OR base_entries.source != 'accepted'",
            params![
                keys.person_key(&record.identity.id_number),
                record.meta.record_id.to_string(),
                record.meta.township.code,
                sealed,
                ts(now),
                source
            ],
        )?;
        Ok(())
    }

    /// Moves entries of the clear `base_people` table (before version 3)
    /// into the sealed `base_entries`, then empties it.
    pub fn seal_legacy_base(&mut self) -> Result<usize, DbError> {
        let legacy: Vec<(String, String, String)> = {
            let mut stmt = self
                .conn
                .prepare("SELECT record_json, imported_at, source FROM base_people")?;
            let rows = stmt.query_map(params![], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect::<Result<_, _>>()?
        };
        for (json, imported_at, source) in &legacy {
            let record: Record = serde_json::from_str(json)
                .map_err(|_| DbError::Corrupt("a base record does not parse".into()))?;
            let at = DateTime::parse_from_rfc3339(imported_at)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| DbError::Corrupt(format!("bad time {imported_at:?}")))?;
            self.put_base_entry(&record, source, at)?;
        }
        if !legacy.is_empty() {
            // Deleted rows would stay readable in free pages: zero them.
            self.conn.sqlite_pragma("secure_delete", "ON")?;
            self.conn.execute("DELETE FROM base_people", params![])?;
            self.conn.sqlite_pragma("secure_delete", "OFF")?;
            if self.engine() == crate::sql::Engine::Postgres {
                // PostgreSQL keeps deleted rows until a vacuum; FULL rewrites
                // the table so the clear rows leave its files at once.
                self.conn.execute_batch("VACUUM FULL base_people")?;
            }
        }
        Ok(legacy.len())
    }

    /// A record of the person arrived and passed the intake: the base
    /// roster counts them as registered (statistics' progress).
    pub fn note_registered(&self, person_key: &str) -> Result<(), DbError> {
        self.conn.execute(
            "UPDATE base_roster SET registered = 1 WHERE person_key = ?1 AND registered = 0",
            [person_key],
        )?;
        Ok(())
    }

    /// Sets the roster's flags of `person_key` from the records themselves
    /// (for a person just imported).
    pub(crate) fn refresh_roster_flags(&self, person_key: &str) -> Result<(), DbError> {
        self.conn.execute(
            "UPDATE base_roster SET \
             registered = CASE WHEN EXISTS (SELECT 1 FROM records r WHERE r.person_key = ?1 \
               AND r.reviewed_by IS DISTINCT FROM ?2) THEN 1 ELSE 0 END, \
             accepted = CASE WHEN EXISTS (SELECT 1 FROM base_entries e WHERE e.person_key = ?1 \
               AND e.source = 'accepted') THEN 1 ELSE 0 END \
             WHERE person_key = ?1",
            params![person_key, crate::db::INTAKE_REVIEWER],
        )?;
        Ok(())
    }

    /// Remembers a township's name as a record carries it (the newest wins).
    pub fn note_township(&self, code: &str, name: &str) -> Result<(), DbError> {
        if code.trim().is_empty() || name.trim().is_empty() {
            return Ok(());
        }
        self.conn.execute(
            "INSERT INTO townships (code, name) VALUES (?1, ?2) \
             ON CONFLICT(code) DO UPDATE SET name = excluded.name",
            params![code.trim(), name.trim()],
        )?;
        Ok(())
    }

    /// Every township the platform has heard of: (code, name), by code.
    pub fn townships(&self) -> Result<Vec<(String, String)>, DbError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT code, name FROM townships ORDER BY code")?;
        let rows = stmt.query_map(params![], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<Result<_, _>>()
    }

    pub fn person(&self, person_key: &str) -> Result<Option<Person>, DbError> {
        self
            .conn
            .query_row(
                "SELECT person_key, id_masked, first_received, last_received FROM persons WHERE person_key = ?1",
                [person_key],
                |r| {
                    Ok(Person {
                        person_key: r.get(0)?,
                        id_masked: r.get(1)?,
                        first_received: r.get(2)?,
                        last_received: r.get(3)?,
                    })
                },
            )
            .optional()
    }

    /// The person a record is of, if its identity could be read.
    pub fn person_key_of(&self, record_id: Uuid) -> Result<Option<String>, DbError> {
        Ok(self
            .conn
            .query_row(
                "SELECT person_key FROM records WHERE record_id = ?1",
                [record_id.to_string()],
                |r| r.get::<_, Option<String>>(0),
            )
            .optional()?
            .flatten())
    }

    /// Every record of a person, oldest first.
    pub fn person_records(&self, person_key: &str) -> Result<Vec<PersonRecord>, DbError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT record_id, record_number, kiosk_id, township_code, received_at, state, reasons, reviewed_by \
             FROM records WHERE person_key = ?1 ORDER BY received_at, record_id",
        )?;
        let mut rows = stmt.query([person_key])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let id: String = row.get(0)?;
            out.push(PersonRecord {
                record_id: Uuid::parse_str(&id).map_err(|_| DbError::Corrupt("bad uuid".into()))?,
                record_number: row.get(1)?,
                kiosk_id: row.get(2)?,
                township_code: row.get(3)?,
                received_at: row.get(4)?,
                state: row.get(5)?,
                reasons: crate::db::parse_reasons(row.get(6)?)?,
                refused_at_intake: row.get::<_, Option<String>>(7)?.as_deref()
                    == Some(crate::db::INTAKE_REVIEWER),
            });
        }
        Ok(out)
    }
}

/// Fills the register from records received before it existed: a person
/// row for every person key without one, a name for every township code
/// without one (one record of it opened). Records that do not open are
/// skipped; run at start, it does nothing once everything is filled.
pub fn backfill(db: &PlatformDb, identity: &age::x25519::Identity) -> Result<(), DbError> {
    let recipient = identity.to_public();
    let open = |record_id: &str| -> Result<Option<Record>, DbError> {
        let sealed: Option<Vec<u8>> = db
            .conn
            .query_row(
                "SELECT sealed FROM records WHERE record_id = ?1",
                [record_id],
                |r| r.get(0),
            )
            .optional()?;
        Ok(sealed
            .and_then(|s| seal::open::<Record>(&s, identity).ok())
            .map(|(record, _)| record))
    };
    let missing_people: Vec<(String, String, String)> = {
        let mut stmt = db.conn.prepare(
            "SELECT r.person_key, r.record_id, r.received_at FROM records r \
             WHERE r.person_key IS NOT NULL \
             AND NOT EXISTS (SELECT 1 FROM persons p WHERE p.person_key = r.person_key) \
             ORDER BY r.received_at",
        )?;
        let rows = stmt.query_map(params![], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    for (person_key, record_id, received_at) in missing_people {
        let Some(record) = open(&record_id)? else {
            continue;
        };
        let at = DateTime::parse_from_rfc3339(&received_at)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| DbError::Corrupt(format!("bad time {received_at:?}")))?;
        db.note_person(&person_key, &record.identity.id_number, &recipient, at)?;
    }
    let unnamed: Vec<(String, String)> = {
        let mut stmt = db.conn.prepare(
            "SELECT township_code, max(record_id) FROM records \
             WHERE township_code != '' AND township_code NOT IN (SELECT code FROM townships) \
             GROUP BY township_code",
        )?;
        let rows = stmt.query_map(params![], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    for (code, record_id) in unnamed {
        if let Some(record) = open(&record_id)? {
            if record.meta.township.code == code {
                db.note_township(&code, &record.meta.township.name)?;
            }
        }
    }
    Ok(())
}

/// Why an acceptance could not be carried out.
#[derive(Debug, thiserror::Error)]
pub enum AcceptError {
    #[error(transparent)]
    Db(#[from] DbError),
    /// Accepted, but the record could not be opened or its ID number does
    /// not parse: the kiosks' look-up misses this one.
    #[error("accepted, but not added to the look-up base: {0}")]
    NotInBase(String),
}

/// A reviewer accepts a record: its state becomes `accepted` (the kiosk's
/// review poll reports it) and the record, without photos, certificate
/// pages and signature, becomes the person's entry in the base database the
/// kiosks' look-up answers from, so a returning person only checks and
/// completes. The console's 审核通过 and `county-platform review accept`
/// both come here.
pub fn accept(
    db: &mut PlatformDb,
    identity: &age::x25519::Identity,
    record_id: Uuid,
    reviewer: &str,
    now: DateTime<Utc>,
) -> Result<(), AcceptError> {
    db.review(record_id, reviewer, None, now)?;
    db.conn.execute(
        "UPDATE base_roster SET registered = 1, accepted = 1 \
         WHERE person_key = (SELECT person_key FROM records WHERE record_id = ?1)",
        [record_id.to_string()],
    )?;
    let sealed = db.sealed(record_id)?.ok_or(DbError::NotFound(record_id))?;
    let (mut base, _) = seal::open::<Record>(&sealed, identity)
        .map_err(|e| AcceptError::NotInBase(e.code().to_string()))?;
    IdNumber::parse_structure(base.identity.id_number.trim())
        .map_err(|e| AcceptError::NotInBase(e.code().to_string()))?;
    base.photos = Default::default();
    base.documents.clear();
    base.signature = None;
    db.accepted_into_base(&base, now)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn demo() -> (IdNumber, Record) {
        let record: Record =
            serde_json::from_str(include_str!("../../../assets/demo/record-valid.json")).unwrap();
        (
            IdNumber::parse_structure(&record.identity.id_number).unwrap(),
            record,
        )
    }

    crate::both_engines!(
        the_look_up_base_is_sealed_and_keyed_and_holds_no_clear_id_number,
        look_up_base_on
    );
    fn look_up_base_on(engine: crate::testing::Engine) {
        let test_db = crate::testing::TestDb::new(engine);
        let (id, record) = demo();
        let identity = age::x25519::Identity::generate();
        let clear = id.as_str().as_bytes();
        {
            let mut db = test_db.open().unwrap();
            assert!(matches!(
                db.import_base(&[(id.clone(), record.clone())], Utc::now()),
                Err(DbError::NoKey)
            ));
            // A base kept in clear before version 3 is sealed at start.
            db.conn
                .execute(
                    "INSERT INTO base_people (id_number, record_json, imported_at) VALUES (?1, ?2, ?3)",
                    params![id.as_str(), serde_json::to_string(&record).unwrap(), ts(Utc::now())],
                )
                .unwrap();
            db.use_keys(RegisterKeys::from_identity(&identity));
            assert_eq!(db.seal_legacy_base().unwrap(), 1);
            assert_eq!(db.look_up(&id).unwrap(), Some(record.clone()));
            let left: i64 = db
                .conn
                .query_row("SELECT count(*) FROM base_people", params![], |r| r.get(0))
                .unwrap();
            assert_eq!(left, 0);
            // An import does not replace an accepted entry; an acceptance does.
            let mut accepted = record.clone();
            accepted.identity.phone = "13800000000".into();
            db.accepted_into_base(&accepted, Utc::now()).unwrap();
            db.import_base(&[(id.clone(), record.clone())], Utc::now())
                .unwrap();
            assert_eq!(db.look_up(&id).unwrap(), Some(accepted));
            // Another platform's key finds nothing.
            let mut other = test_db.open().unwrap();
            other.use_keys(RegisterKeys::from_identity(
                &age::x25519::Identity::generate(),
            ));
            assert_eq!(other.look_up(&id).unwrap(), None);
            // No column of any table holds the clear number.
            for table in crate::migrate::TABLES {
                for row in crate::migrate::rows(&db, table).unwrap() {
                    for value in &row.0 {
                        let bytes: &[u8] = match value {
                            crate::sql::Value::Text(t) => t.as_bytes(),
                            crate::sql::Value::Blob(b) => b,
                            _ => continue,
                        };
                        assert!(
                            !bytes.windows(clear.len()).any(|w| w == clear),
                            "the clear ID number is in table {}",
                            table.name
                        );
                    }
                }
            }
            if engine == crate::testing::Engine::Sqlite {
                db.conn
                    .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
                    .unwrap();
            }
        }
        if let crate::sql::DbTarget::Sqlite(path) = test_db.target() {
            let mut bytes = std::fs::read(path).unwrap();
            bytes.extend(std::fs::read(path.with_extension("sqlite3-wal")).unwrap_or_default());
            assert!(
                !bytes.windows(clear.len()).any(|w| w == clear),
                "the clear ID number is in the database file"
            );
        }
    }

    #[test]
    fn person_keys_are_stable_and_ignore_case_and_spaces() {
        let identity = age::x25519::Identity::generate();
        let keys = RegisterKeys::from_identity(&identity);
        assert_eq!(
            keys.person_key("35052419550315001x "),
            keys.person_key("35052419550315001X")
        );
        assert_eq!(keys.person_key("x").len(), 64);
        let sealed = keys.seal(b"entry").unwrap();
        assert_eq!(keys.open(&sealed).unwrap(), b"entry");
        let other = RegisterKeys::from_identity(&age::x25519::Identity::generate());
        assert!(other.open(&sealed).is_err());
        assert!(keys.open(&sealed[..8]).is_err());
    }
}

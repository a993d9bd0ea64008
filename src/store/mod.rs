//! The kiosk's outbox: a durable SQLite queue of sealed records.
//!
//! A signed record is sealed (record and photos, encrypted with `age` to the
//! county platform's X25519 recipient) and committed with
//! `synchronous=FULL` in WAL mode before [`Store::enqueue`] returns, so a
//! receipt that says "saved" is never wrong, whatever happens to the power.
//! The kiosk keeps in the clear only what the receipt, the staff queue view
//! and the statistics need: record number, masked ID number, state, times,
//! category codes and township. Drafts (sessions in progress) are encrypted
//! to a kiosk-local key and found again by a keyed hash of the ID number.
//!
//! States: `signed` (queued) → `sent` (the platform has it) → `accepted` or
//! `rejected` (the county's review, with reasons); any of them →
//! `superseded` when a correction that names it (`meta.supersedes`) is
//! queued. Drafts live in their own table and never become rows here
//! except by being signed.
//!
//! Architecture invariant: nothing here logs or returns personal data in an
//! error; errors name record numbers, UUIDs and field paths only.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use kiosk_core::id_number::{mask_id_text, IdNumber};
use kiosk_core::record::{Record, RecordState, ValidRecord};
use kiosk_core::Problem;

pub mod damage;
pub mod schema;

pub use sqlite_schema::SchemaError;
// The store's API speaks in the sealing types (photos in, errors out).
use trust::files::write_private_file;
pub use trust::seal::{Blobs, KeyError, SealError};
use trust::{seal, sha256_hex};
use wire::sealed::photo_refs;

/// The number printed for people and staff: derived from the record's UUID
/// (so the receipt can print it before the record is queued), 60 bits in
/// Crockford base-32, grouped in fours: `K7Q2-M9XD-3F8A`.
pub fn record_number(record_id: &Uuid) -> String {
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let digest = Sha256::digest(record_id.as_bytes());
    let mut bits = 0u64;
    for b in digest.iter().take(8) {
        bits = (bits << 8) | u64::from(*b);
    }
    bits >>= 4;
    let mut out = String::with_capacity(14);
    for i in 0..12 {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        let shift = 55 - 5 * i;
        let index = ((bits >> shift) & 0x1f) as usize;
        out.push(char::from(ALPHABET[index]));
    }
    out
}

/// Normalises what staff type for a record number: case, spaces, dashes,
/// and the letters Crockford reads as digits (O→0, I/L→1).
pub fn normalise_record_number(text: &str) -> String {
    let symbols: Vec<char> = text
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect();
    symbols
        .chunks(4)
        .map(|chunk| chunk.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// What the kiosk may keep in the clear about a queued record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueueEntry {
    pub seq: i64,
    pub record_number: String,
    pub record_id: Uuid,
    pub state: RecordState,
    pub state_zh: &'static str,
    pub masked_id: String,
    pub township_code: String,
    pub township_name: String,
    pub categories: Vec<u8>,
    pub created_at: DateTime<Utc>,
    pub signed_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub reasons: Vec<Problem>,
    pub supersedes: Option<Uuid>,
    pub superseded_by: Option<Uuid>,
}

/// What [`Store::enqueue`] answers: what the receipt prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Receipt {
    pub record_number: String,
    pub record_id: Uuid,
    pub masked_id: String,
    /// False when exactly this record was already queued (a retry).
    pub newly_queued: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListFilter {
    pub state: Option<RecordState>,
    /// Only entries older than this sequence number (paging); newest first.
    pub before_seq: Option<i64>,
    pub limit: Option<usize>,
}

/// The township's ledger (台账): counts by state and by category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueueStats {
    pub total: u64,
    pub by_state: BTreeMap<String, u64>,
    /// Category code → records (superseded ones excluded).
    pub by_category: BTreeMap<u8, u64>,
    pub by_township: BTreeMap<String, u64>,
    /// Signed longest ago and still not sent: the weekly-upload rule's clock.
    pub oldest_unsent_signed_at: Option<DateTime<Utc>>,
    pub drafts: u64,
}

/// A sealed record ready to upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedUpload {
    pub record_id: Uuid,
    pub record_number: String,
    pub sealed: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Schema(SchemaError),
    #[error("database error: {0}")]
    Sqlite(rusqlite::Error),
    /// SQLITE_FULL (ENOSPC underneath): the transaction was rolled back,
    /// nothing of it is in the file.
    #[error("the disk is full: {0}")]
    DiskFull(rusqlite::Error),
    /// SQLITE_IOERR (EIO and the like): the storage itself failed.
    #[error("the storage failed: {0}")]
    Io(rusqlite::Error),
    /// SQLITE_CORRUPT / SQLITE_NOTADB: the file itself is damaged.
    #[error("the outbox file is damaged: {0}")]
    Damaged(rusqlite::Error),
    #[error(transparent)]
    Seal(#[from] SealError),
    #[error("record {0} is not signed; only signed records are queued")]
    NotSigned(Uuid),
    #[error("a different record with id {0} is already queued")]
    Conflict(Uuid),
    #[error("photo {field} is missing or does not match the record")]
    Photo { field: String },
    #[error("key file {path}: {detail}")]
    KeyFile { path: PathBuf, detail: String },
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl From<rusqlite::Error> for StoreError {
    /// Sorted by SQLite's result code (never by message text), so a full
    /// disk or a failing card reaches people as what it is.
    fn from(err: rusqlite::Error) -> StoreError {
        use rusqlite::ErrorCode;
        match err.sqlite_error_code() {
            Some(ErrorCode::DiskFull) => StoreError::DiskFull(err),
            Some(ErrorCode::SystemIoFailure) => StoreError::Io(err),
            Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => StoreError::Damaged(err),
            _ => StoreError::Sqlite(err),
        }
    }
}

impl From<SchemaError> for StoreError {
    fn from(err: SchemaError) -> StoreError {
        match err {
            SchemaError::Sqlite(err) => StoreError::from(err),
            other => StoreError::Schema(other),
        }
    }
}

impl StoreError {
    /// The disk is full: freeing space and trying again will work.
    pub fn is_disk_full(&self) -> bool {
        matches!(self, StoreError::DiskFull(_))
    }

    pub fn code(&self) -> &'static str {
        match self {
            StoreError::Schema(SchemaError::TooNew { .. }) => "store_too_new",
            StoreError::Schema(SchemaError::NotOurs { .. }) => "store_not_ours",
            StoreError::Schema(SchemaError::Sqlite(_)) | StoreError::Sqlite(_) => "store_io",
            StoreError::DiskFull(_) => "store_disk_full",
            StoreError::Io(_) => "store_device_io",
            StoreError::Damaged(_) => "store_damaged",
            StoreError::Seal(e) => e.code(),
            StoreError::NotSigned(_) => "not_signed",
            StoreError::Conflict(_) => "record_conflict",
            StoreError::Photo { .. } => "photo_missing",
            StoreError::KeyFile { .. } => "key_file",
            StoreError::Corrupt(_) => "store_corrupt",
        }
    }

    pub fn message_zh(&self) -> &'static str {
        match self {
            StoreError::Schema(SchemaError::TooNew { .. }) => {
                "本机数据库版本比程序新，请联系工作人员升级程序"
            }
            StoreError::Schema(SchemaError::NotOurs { .. }) => "数据文件不是本机的登记数据库",
            StoreError::Schema(SchemaError::Sqlite(_)) | StoreError::Sqlite(_) => {
                "保存失败，请联系工作人员"
            }
            StoreError::DiskFull(_) => "本机存储空间已满，没能保存，请工作人员清理空间",
            StoreError::Io(_) => "本机存储设备读写出错，没能保存，请联系工作人员检查设备",
            StoreError::Damaged(_) => {
                "本机登记数据文件损坏：请不要删除或覆盖它，关机后联系县里技术人员取回其中的记录"
            }
            StoreError::Seal(e) => e.message_zh(),
            StoreError::NotSigned(_) => "记录还没有签字确认，不能提交",
            StoreError::Conflict(_) => "已有一份编号相同但内容不同的记录",
            StoreError::Photo { .. } => "记录中的照片文件缺失或不符",
            StoreError::KeyFile { .. } => "本机密钥文件无法读取",
            StoreError::Corrupt(_) => "本机数据损坏，请联系工作人员",
        }
    }
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn parse_ts(text: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| StoreError::Corrupt(format!("bad timestamp {text:?}")))
}

fn parse_uuid(text: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(text).map_err(|_| StoreError::Corrupt(format!("bad uuid {text:?}")))
}

/// The keys of the blobs a record needs, checked: each present with its
/// stated size.
fn needed_blobs(record: &Record, blobs: &Blobs) -> Result<Vec<String>, StoreError> {
    let mut wanted = Vec::new();
    for (field, photo) in photo_refs(record) {
        match blobs.get(&photo.sha256) {
            Some(bytes) if bytes.len() as u64 == photo.bytes => wanted.push(photo.sha256.clone()),
            _ => return Err(StoreError::Photo { field }),
        }
    }
    Ok(wanted)
}

/// The kiosk-local key: encrypts drafts and keys the hash that finds a
/// person's draft by ID number (a plain hash of an ID number is easy to
/// reverse by trying them all; a keyed one is not without the key).
pub struct LocalKey {
    identity: age::x25519::Identity,
    lookup: [u8; 32],
}

impl LocalKey {
    pub fn generate() -> LocalKey {
        LocalKey::from_identity(age::x25519::Identity::generate())
    }

    fn from_identity(identity: age::x25519::Identity) -> LocalKey {
        use age::secrecy::ExposeSecret;
        let mut hasher = Sha256::new();
        hasher.update(b"veteran-kiosk draft lookup v1\0");
        hasher.update(identity.to_string().expose_secret().as_bytes());
        LocalKey {
            identity,
            lookup: hasher.finalize().into(),
        }
    }

    /// Loads the key file, creating it (mode 0600, written atomically) if absent.
    pub fn load_or_create(path: &Path) -> Result<LocalKey, StoreError> {
        let key_error = |detail: String| StoreError::KeyFile {
            path: path.to_path_buf(),
            detail,
        };
        match fs::read_to_string(path) {
            Ok(text) => seal::parse_identity(&text)
                .map(LocalKey::from_identity)
                .map_err(|e| key_error(e.to_string())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = LocalKey::generate();
                let text = seal::identity_file_text(&key.identity, &ts(Utc::now()));
                write_private_file(path, text.as_bytes()).map_err(|e| key_error(e.to_string()))?;
                Ok(key)
            }
            Err(e) => Err(key_error(e.to_string())),
        }
    }

    /// Hex HMAC-SHA256 of the normalised ID number.
    pub fn lookup_tag(&self, id: &IdNumber) -> String {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.lookup)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(id.as_str().as_bytes());
        trust::hex(&mac.finalize().into_bytes())
    }
}

/// The outbox. One per process thread; several processes may open the same
/// file (WAL, busy timeout).
pub struct Store {
    conn: Connection,
    /// The outbox file: its high-water mark lives beside it.
    path: PathBuf,
}

const ENTRY_COLUMNS: &str = "seq, record_number, record_id, state, masked_id, township_code, \
     township_name, created_at, signed_at, sent_at, reviewed_at, reasons, supersedes, superseded_by, \
     (SELECT group_concat(code) FROM record_categories WHERE record_seq = records.seq)";

impl Store {
    /// Opens (creating and migrating as needed) the outbox at `path`.
    /// A database newer than this program, or not an outbox, is refused
    /// before anything is written to it.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let mut conn = sqlite_schema::open_checked(path, &schema::OUTBOX)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // FULL: a commit is on disk before it returns, WAL or not.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // Freed pages (wiped drafts) are overwritten, not left on disk.
        conn.pragma_update(None, "secure_delete", "ON")?;
        sqlite_schema::migrate_to(&mut conn, &schema::OUTBOX, schema::LATEST)?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
        })
    }

    /// Seals and durably queues a signed record. Queuing exactly the same
    /// record again returns the same receipt (`newly_queued: false`); a
    /// different record under the same UUID is refused. A correction
    /// (`meta.supersedes`) marks the record it replaces `superseded`. The
    /// record's draft is wiped in the same transaction.
    pub fn enqueue(
        &mut self,
        valid: &ValidRecord,
        blobs: &Blobs,
        recipient: &age::x25519::Recipient,
    ) -> Result<Receipt, StoreError> {
        let record = valid.record();
        let meta = &record.meta;
        if meta.state != RecordState::Signed {
            return Err(StoreError::NotSigned(meta.record_id));
        }
        let needed = needed_blobs(record, blobs)?;
        let envelope = seal::Envelope::new(record, blobs.select(&needed))?;
        let content_sha256 = envelope.content_sha256();
        // A record queued before format 2 was hashed as its format 1
        // plaintext: the same record queued again is still the same.
        let same_content = |existing: &str| {
            existing == content_sha256 || {
                let mut old = blobs.clone();
                old.retain(&needed);
                seal::envelope_plaintext_v1(record, &old)
                    .is_ok_and(|plaintext| sha256_hex(&plaintext) == existing)
            }
        };
        let number = record_number(&meta.record_id);
        let masked = mask_id_text(&record.identity.id_number);
        let receipt = |newly_queued| Receipt {
            record_number: number.clone(),
            record_id: meta.record_id,
            masked_id: masked.clone(),
            newly_queued,
        };
        let id_text = meta.record_id.to_string();

        // Cheap check first, so a retry does not pay for encryption.
        if let Some(existing) = self.content_hash(&id_text)? {
            return if same_content(&existing) {
                Ok(receipt(false))
            } else {
                Err(StoreError::Conflict(meta.record_id))
            };
        }
        let sealed = envelope.seal(recipient)?;
        let signed_at = record
            .signature
            .as_ref()
            .map(|s| s.signed_at)
            .unwrap_or(meta.updated_at);

        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let existing: Option<String> = tx
            .query_row(
                "SELECT content_sha256 FROM records WHERE record_id = ?1",
                [&id_text],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(existing) = existing {
            return if same_content(&existing) {
                Ok(receipt(false))
            } else {
                Err(StoreError::Conflict(meta.record_id))
            };
        }
        // The draft's look-up tag moves with the record (same transaction).
        // The draft goes first: with secure_delete its freed pages are
        // written (zeroed) anyway, and the sealed record then reuses them
        // instead of writing as many pages again.
        let draft_tag: Option<String> = tx
            .query_row(
                "SELECT lookup_tag FROM drafts WHERE record_id = ?1",
                [&id_text],
                |r| r.get(0),
            )
            .optional()?
            .flatten();
        tx.execute("DELETE FROM drafts WHERE record_id = ?1", [&id_text])?;
        tx.execute(
            "INSERT INTO records (record_id, record_number, state, masked_id, township_code, \
             township_name, created_at, signed_at, supersedes, content_sha256, lookup_tag) \
             VALUES (?1, ?2, 'signed', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                id_text,
                number,
                masked,
                meta.township.code,
                meta.township.name,
                ts(meta.created_at),
                ts(signed_at),
                meta.supersedes.map(|u| u.to_string()),
                content_sha256,
                draft_tag,
            ],
        )?;
        let seq = tx.last_insert_rowid();
        tx.execute(
            "INSERT INTO sealed_records (record_seq, sealed) VALUES (?1, ?2)",
            params![seq, sealed],
        )?;
        {
            let mut insert = tx.prepare(
                "INSERT OR IGNORE INTO record_categories (record_seq, code) VALUES (?1, ?2)",
            )?;
            for details in &record.categories {
                insert.execute(params![seq, details.category().code()])?;
            }
        }
        if let Some(old) = meta.supersedes {
            tx.execute(
                "UPDATE records SET state = 'superseded', superseded_by = ?1 \
                 WHERE record_id = ?2 AND state != 'superseded'",
                params![id_text, old.to_string()],
            )?;
        }
        tx.commit()?;
        self.raise_mark(seq, &number);
        Ok(receipt(true))
    }

    /// Copies the write-ahead log into the database file (a passive
    /// checkpoint: it waits for no reader). The kiosk's store thread calls
    /// it when it has nothing else to do, so that the next enqueue's commit
    /// writes only its own pages instead of running SQLite's automatic
    /// checkpoint (every 1000 pages, about one full record in three).
    /// Durability does not depend on it: a committed record is on disk in
    /// the log.
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// After a commit: the newest acknowledged record, beside the file, so
    /// that a start finds records a cut log lost (see [`damage`]). The
    /// record is saved whatever happens here, so a failure is only logged.
    fn raise_mark(&self, seq: i64, number: &str) {
        let mark = damage::HighWaterMark {
            seq,
            record_number: number.to_string(),
        };
        if let Err(e) = damage::write_mark(&self.path, &mark) {
            tracing::warn!(%seq, "could not write the outbox's high-water mark: {e}");
        }
    }

    /// The newest record in the outbox, as a high-water mark.
    pub fn newest_mark(&self) -> Result<Option<damage::HighWaterMark>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT seq, record_number FROM records ORDER BY seq DESC LIMIT 1",
                [],
                |r| {
                    Ok(damage::HighWaterMark {
                        seq: r.get(0)?,
                        record_number: r.get(1)?,
                    })
                },
            )
            .optional()?)
    }

    /// Tags a queued record with the keyed hash of the person's ID number
    /// when it has none yet (signed without a saved draft); false when
    /// there is no such untagged record.
    pub fn tag_record(
        &self,
        key: &LocalKey,
        record_id: Uuid,
        id: &IdNumber,
    ) -> Result<bool, StoreError> {
        Ok(self.conn.execute(
            "UPDATE records SET lookup_tag = ?1 WHERE record_id = ?2 AND lookup_tag IS NULL",
            params![key.lookup_tag(id), record_id.to_string()],
        )? > 0)
    }

    /// This person's latest record, when the county returned it and no
    /// correction has replaced it yet: what a new registration supersedes.
    pub fn returned_record(
        &self,
        key: &LocalKey,
        id: &IdNumber,
    ) -> Result<Option<QueueEntry>, StoreError> {
        let latest = self.entries(
            &format!(
                "SELECT {ENTRY_COLUMNS} FROM records WHERE lookup_tag = ?1 \
                 AND state != 'superseded' ORDER BY seq DESC LIMIT 1"
            ),
            &[&key.lookup_tag(id)],
        )?;
        Ok(latest
            .into_iter()
            .find(|entry| entry.state == RecordState::Rejected))
    }

    fn content_hash(&self, id_text: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT content_sha256 FROM records WHERE record_id = ?1",
                [id_text],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn entry_from_row(row: &rusqlite::Row<'_>) -> Result<QueueEntry, StoreError> {
        let seq: i64 = row.get(0)?;
        let state_text: String = row.get(3)?;
        let state: RecordState = state_text
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("bad state {state_text:?}")))?;
        let opt_ts = |v: Option<String>| v.as_deref().map(parse_ts).transpose();
        let opt_uuid = |v: Option<String>| v.as_deref().map(parse_uuid).transpose();
        let reasons: Option<String> = row.get(11)?;
        let reasons = match reasons {
            Some(text) => serde_json::from_str(&text)
                .map_err(|_| StoreError::Corrupt(format!("bad reasons of record #{seq}")))?,
            None => Vec::new(),
        };
        let codes: Option<String> = row.get(14)?;
        let mut categories = codes
            .unwrap_or_default()
            .split(',')
            .filter(|c| !c.is_empty())
            .map(|c| c.parse::<u8>())
            .collect::<Result<Vec<u8>, _>>()
            .map_err(|_| StoreError::Corrupt(format!("bad categories of record #{seq}")))?;
        categories.sort_unstable();
        Ok(QueueEntry {
            seq,
            record_number: row.get(1)?,
            record_id: parse_uuid(&row.get::<_, String>(2)?)?,
            state,
            state_zh: state.as_zh(),
            masked_id: row.get(4)?,
            township_code: row.get(5)?,
            township_name: row.get(6)?,
            created_at: parse_ts(&row.get::<_, String>(7)?)?,
            signed_at: parse_ts(&row.get::<_, String>(8)?)?,
            sent_at: opt_ts(row.get(9)?)?,
            reviewed_at: opt_ts(row.get(10)?)?,
            reasons,
            supersedes: opt_uuid(row.get(12)?)?,
            superseded_by: opt_uuid(row.get(13)?)?,
            categories,
        })
    }

    fn entries(
        &self,
        sql: &str,
        params: &[&dyn rusqlite::ToSql],
    ) -> Result<Vec<QueueEntry>, StoreError> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let mut rows = stmt.query(params)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(Self::entry_from_row(row)?);
        }
        Ok(out)
    }

    /// Queue entries, newest first.
    pub fn list(&self, filter: &ListFilter) -> Result<Vec<QueueEntry>, StoreError> {
        let limit = filter
            .limit
            .map_or(-1, |l| i64::try_from(l).unwrap_or(i64::MAX));
        let before = filter.before_seq.unwrap_or(i64::MAX);
        match filter.state {
            Some(state) => self.entries(
                &format!(
                    "SELECT {ENTRY_COLUMNS} FROM records WHERE state = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3"
                ),
                &[&state.as_str(), &before, &limit],
            ),
            None => self.entries(
                &format!("SELECT {ENTRY_COLUMNS} FROM records WHERE seq < ?1 ORDER BY seq DESC LIMIT ?2"),
                &[&before, &limit],
            ),
        }
    }

    /// The entry with this record number (as staff typed it), if any.
    pub fn show(&self, record_number_text: &str) -> Result<Option<QueueEntry>, StoreError> {
        let number = normalise_record_number(record_number_text);
        Ok(self
            .entries(
                &format!("SELECT {ENTRY_COLUMNS} FROM records WHERE record_number = ?1"),
                &[&number],
            )?
            .pop())
    }

    pub fn entry(&self, record_id: Uuid) -> Result<Option<QueueEntry>, StoreError> {
        Ok(self
            .entries(
                &format!("SELECT {ENTRY_COLUMNS} FROM records WHERE record_id = ?1"),
                &[&record_id.to_string()],
            )?
            .pop())
    }

    pub fn stats(&self) -> Result<QueueStats, StoreError> {
        let mut by_state = BTreeMap::new();
        let mut total = 0;
        {
            let mut stmt = self
                .conn
                .prepare_cached("SELECT state, count(*) FROM records GROUP BY state")?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, u64>(1)?)))?;
            for row in rows {
                let (state, count) = row?;
                total += count;
                by_state.insert(state, count);
            }
        }
        let mut by_category = BTreeMap::new();
        {
            let mut stmt = self.conn.prepare_cached(
                "SELECT code, count(*) FROM record_categories WHERE record_seq NOT IN \
                 (SELECT seq FROM records WHERE state = 'superseded') GROUP BY code",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, u8>(0)?, r.get::<_, u64>(1)?)))?;
            for row in rows {
                let (code, count) = row?;
                by_category.insert(code, count);
            }
        }
        let mut by_township = BTreeMap::new();
        {
            let mut stmt = self.conn.prepare_cached(
                "SELECT township_code || ' ' || township_name, count(*) FROM records \
                 WHERE state != 'superseded' GROUP BY township_code, township_name",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, u64>(1)?)))?;
            for row in rows {
                let (township, count) = row?;
                by_township.insert(township, count);
            }
        }
        let oldest: Option<String> = self.conn.query_row(
            "SELECT min(signed_at) FROM records WHERE state = 'signed'",
            [],
            |r| r.get(0),
        )?;
        let drafts: u64 = self
            .conn
            .query_row("SELECT count(*) FROM drafts", [], |r| r.get(0))?;
        Ok(QueueStats {
            total,
            by_state,
            by_category,
            by_township,
            oldest_unsent_signed_at: oldest.as_deref().map(parse_ts).transpose()?,
            drafts,
        })
    }

    fn ids(&self, state: &str) -> Result<Vec<Uuid>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT record_id FROM records WHERE state = ?1 ORDER BY seq")?;
        let ids = stmt
            .query_map([state], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        ids.iter().map(|s| parse_uuid(s)).collect()
    }

    /// Signed records not yet sent, oldest first.
    pub fn pending(&self) -> Result<Vec<Uuid>, StoreError> {
        self.ids("signed")
    }

    /// Sent records with no review outcome yet.
    pub fn awaiting_review(&self) -> Result<Vec<Uuid>, StoreError> {
        self.ids("sent")
    }

    /// The sealed bytes to upload.
    pub fn sealed(&self, record_id: Uuid) -> Result<Option<SealedUpload>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT r.record_number, s.sealed FROM records r JOIN sealed_records s ON s.record_seq = r.seq \
                 WHERE r.record_id = ?1",
                [record_id.to_string()],
                |r| {
                    Ok(SealedUpload {
                        record_id,
                        record_number: r.get(0)?,
                        sealed: r.get(1)?,
                    })
                },
            )
            .optional()?)
    }

    // Review changes. Each only moves a record forward from the states it
    // may come from, so replaying one (after a crash) changes nothing.

    /// The platform has the record.
    pub fn mark_sent(&mut self, id: Uuid, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE records SET state = 'sent', sent_at = ?1 WHERE record_id = ?2 AND state = 'signed'",
            params![ts(now), id.to_string()],
        )?;
        Ok(())
    }

    /// The platform refused the record, at upload or in review.
    pub fn mark_rejected(
        &mut self,
        id: Uuid,
        reasons: &[Problem],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let reasons =
            serde_json::to_string(reasons).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.conn.execute(
            "UPDATE records SET state = 'rejected', reasons = ?1, reviewed_at = ?2 \
             WHERE record_id = ?3 AND state IN ('signed', 'sent')",
            params![reasons, ts(now), id.to_string()],
        )?;
        Ok(())
    }

    pub fn mark_accepted(&mut self, id: Uuid, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE records SET state = 'accepted', reviewed_at = ?1 WHERE record_id = ?2 AND state = 'sent'",
            params![ts(now), id.to_string()],
        )?;
        Ok(())
    }

    /// A later correction replaced the record.
    pub fn mark_superseded(&mut self, id: Uuid, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE records SET state = 'superseded', reviewed_at = ?1 \
             WHERE record_id = ?2 AND state IN ('sent', 'accepted', 'rejected')",
            params![ts(now), id.to_string()],
        )?;
        Ok(())
    }

    /// The sync core's memory across restarts. The store keeps it as JSON
    /// without knowing its shape, so it does not depend on `sync`.
    pub fn sync_state<S: DeserializeOwned>(&self) -> Result<Option<S>, StoreError> {
        let json: Option<String> = self
            .conn
            .query_row("SELECT json FROM sync_state WHERE id = 1", [], |r| r.get(0))
            .optional()?;
        json.map(|j| {
            serde_json::from_str(&j).map_err(|_| StoreError::Corrupt("bad sync state".into()))
        })
        .transpose()
    }

    pub fn save_sync_state<S: Serialize>(&self, state: &S) -> Result<(), StoreError> {
        let json = serde_json::to_string(state).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.conn.execute(
            "INSERT INTO sync_state (id, json) VALUES (1, ?1) ON CONFLICT(id) DO UPDATE SET json = excluded.json",
            [json],
        )?;
        Ok(())
    }

    // ------------------------------------------------------------ drafts

    /// Saves (replaces) the draft of a session in progress, with the photos
    /// taken so far (those the record names; others are dropped), encrypted
    /// to the kiosk-local key, so that a crash or a power cut loses nothing.
    pub fn save_draft(
        &self,
        key: &LocalKey,
        record: &Record,
        photos: &Blobs,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let named: Vec<String> = photo_refs(record)
            .into_iter()
            .map(|(_, p)| p.sha256.clone())
            .collect();
        let sealed =
            seal::Envelope::new(record, photos.select(&named))?.seal(&key.identity.to_public())?;
        let tag = IdNumber::parse_structure(record.identity.id_number.trim())
            .ok()
            .map(|id| key.lookup_tag(&id));
        self.conn.execute(
            "INSERT INTO drafts (record_id, lookup_tag, started_at, updated_at, sealed) VALUES (?1, ?2, ?3, ?3, ?4) \
             ON CONFLICT(record_id) DO UPDATE SET lookup_tag = excluded.lookup_tag, \
             updated_at = excluded.updated_at, sealed = excluded.sealed",
            params![record.meta.record_id.to_string(), tag, ts(now), sealed],
        )?;
        Ok(())
    }

    /// The newest draft of this person (and its photos) saved within
    /// `window` before `now`; drafts older than the window are wiped first.
    pub fn load_draft(
        &self,
        key: &LocalKey,
        id: &IdNumber,
        now: DateTime<Utc>,
        window: Duration,
    ) -> Result<Option<(Record, Blobs)>, StoreError> {
        self.expire_drafts(now, window)?;
        let sealed: Option<Vec<u8>> = self
            .conn
            .query_row(
                "SELECT sealed FROM drafts WHERE lookup_tag = ?1 ORDER BY updated_at DESC LIMIT 1",
                [key.lookup_tag(id)],
                |r| r.get(0),
            )
            .optional()?;
        let Some(sealed) = sealed else {
            return Ok(None);
        };
        let plaintext = seal::decrypt(&key.identity, &sealed)?;
        seal::parse_envelope(&plaintext)
            .map(Some)
            .map_err(|_| StoreError::Corrupt("a draft does not parse".into()))
    }

    /// Wipes the draft of this session (ended or abandoned).
    pub fn wipe_draft(&self, record_id: Uuid) -> Result<bool, StoreError> {
        Ok(self.conn.execute(
            "DELETE FROM drafts WHERE record_id = ?1",
            [record_id.to_string()],
        )? > 0)
    }

    /// Wipes every draft not touched within `window`; returns how many.
    pub fn expire_drafts(&self, now: DateTime<Utc>, window: Duration) -> Result<usize, StoreError> {
        Ok(self.conn.execute(
            "DELETE FROM drafts WHERE updated_at < ?1",
            [ts(now - window)],
        )?)
    }
}

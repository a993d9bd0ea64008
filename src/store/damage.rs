//! A damaged outbox, found at start: checked, set aside untouched, and
//! salvaged row by row into a fresh outbox.
//!
//! Three things can hide damage from SQLite itself, so the start-up check
//! looks at each:
//! - a torn page (bytes overwritten in the middle of a b-tree page): found
//!   by `PRAGMA quick_check`, bounded in time;
//! - a garbage header: SQLite refuses the file (`SQLITE_NOTADB`);
//! - a write-ahead log cut short: SQLite silently replays the log up to
//!   the last whole commit and forgets the rest, so committed records
//!   would vanish without a word. The outbox therefore keeps a high-water
//!   mark beside it (the newest record it ever acknowledged, written after
//!   each commit): a record below the mark that is not in the file was
//!   lost, and is named.
//!
//! On damage nothing is written to the damaged files. They are moved,
//! byte for byte, into `damaged-outbox/<time>/` beside the outbox; a
//! scratch copy of them is read row by row (each row looked up on its own,
//! so a bad page costs only the rows on it), every readable record goes
//! into a fresh outbox with its state and times, and the rest are counted
//! and named in `salvage.json`. The kiosk then stays out of service until
//! a technician has looked and acknowledged the report
//! (`veteran-kiosk queue acknowledge-damage`): staff are told, in Chinese,
//! what to do.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Utc};
use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection, OpenFlags, OptionalExtension};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{record_number, Store, StoreError};
use trust::files::write_private_file;

/// How long the start-up check may read before the kiosk starts anyway
/// (the check is then reported as unfinished, never as "whole").
pub const CHECK_BUDGET: StdDuration = StdDuration::from_secs(20);
/// Where damaged outboxes are set aside, beside the outbox.
pub const DAMAGED_DIR: &str = "damaged-outbox";
const REPORT_FILE: &str = "salvage.json";
/// At most this many of quick_check's lines are kept in the report.
const PROBLEM_LINES: usize = 20;

/// The newest record the outbox acknowledged, kept in a small file beside
/// it (`outbox.sqlite3.mark`), written atomically after each commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HighWaterMark {
    pub seq: i64,
    pub record_number: String,
}

pub fn mark_path(outbox: &Path) -> PathBuf {
    with_suffix(outbox, ".mark")
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(suffix);
    PathBuf::from(name)
}

/// Whether a write-ahead log lies beside the outbox (not yet checkpointed).
pub fn wal_exists(outbox: &Path) -> bool {
    wal_path(outbox).exists()
}

fn wal_path(outbox: &Path) -> PathBuf {
    with_suffix(outbox, "-wal")
}

fn shm_path(outbox: &Path) -> PathBuf {
    with_suffix(outbox, "-shm")
}

/// The mark, if one was ever written and it reads.
pub fn read_mark(outbox: &Path) -> Option<HighWaterMark> {
    let text = fs::read_to_string(mark_path(outbox)).ok()?;
    serde_json::from_str(&text).ok()
}

pub fn write_mark(outbox: &Path, mark: &HighWaterMark) -> std::io::Result<()> {
    let json = serde_json::to_vec(mark).map_err(std::io::Error::other)?;
    write_private_file(&mark_path(outbox), &json)
}

/// What the write-ahead log's bytes say, read without SQLite (which would
/// replay and then delete the log).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalShape {
    pub bytes: u64,
    /// False: the header is garbage, and SQLite ignores the whole log.
    pub header_ok: bool,
    pub page_size: u32,
    /// Frames of the current log that check out, and how many of them end
    /// in a commit (what SQLite replays).
    pub valid_frames: u64,
    pub committed_frames: u64,
    /// Bytes after the last whole frame: the log was cut mid-frame (or the
    /// power went while a frame was being written).
    pub torn_tail_bytes: u64,
}

fn be32(bytes: &[u8], at: usize) -> u32 {
    let mut word = [0u8; 4];
    word.copy_from_slice(&bytes[at..at + 4]);
    u32::from_be_bytes(word)
}

/// SQLite's WAL checksum, continued from `(s0, s1)` over `data` (whose
/// length is a multiple of 8), reading words in the log's byte order.
fn wal_checksum(big_endian: bool, data: &[u8], (mut s0, mut s1): (u32, u32)) -> (u32, u32) {
    for pair in data.chunks_exact(8) {
        let word = |b: &[u8]| {
            let w = [b[0], b[1], b[2], b[3]];
            if big_endian {
                u32::from_be_bytes(w)
            } else {
                u32::from_le_bytes(w)
            }
        };
        s0 = s0.wrapping_add(word(&pair[..4])).wrapping_add(s1);
        s1 = s1.wrapping_add(word(&pair[4..])).wrapping_add(s0);
    }
    (s0, s1)
}

/// Reads the shape of a write-ahead log from its bytes (format:
/// sqlite.org/fileformat2.html#walformat). Any byte string gives a shape.
pub fn inspect_wal(bytes: &[u8]) -> WalShape {
    const HEADER: usize = 32;
    const FRAME_HEADER: usize = 24;
    let mut shape = WalShape {
        bytes: bytes.len() as u64,
        header_ok: false,
        page_size: 0,
        valid_frames: 0,
        committed_frames: 0,
        torn_tail_bytes: 0,
    };
    if bytes.len() < HEADER {
        shape.torn_tail_bytes = bytes.len() as u64;
        return shape;
    }
    let magic = be32(bytes, 0);
    let page_size = be32(bytes, 8);
    let page_ok = (512..=65536).contains(&page_size) && page_size.is_power_of_two();
    let big_endian = magic & 1 == 1;
    let header_sum = wal_checksum(big_endian, &bytes[..24], (0, 0));
    if !(magic & !1 == 0x377f_0682 && page_ok && header_sum == (be32(bytes, 24), be32(bytes, 28))) {
        return shape;
    }
    shape.header_ok = true;
    shape.page_size = page_size;
    let frame = FRAME_HEADER + page_size as usize;
    let body = bytes.len() - HEADER;
    shape.torn_tail_bytes = (body % frame) as u64;
    let salts = (be32(bytes, 16), be32(bytes, 20));
    let mut sum = header_sum;
    for (index, f) in bytes[HEADER..].chunks_exact(frame).enumerate() {
        if (be32(f, 8), be32(f, 12)) != salts {
            break;
        }
        let s = wal_checksum(big_endian, &f[..8], sum);
        let s = wal_checksum(big_endian, &f[FRAME_HEADER..], s);
        if s != (be32(f, 16), be32(f, 20)) {
            break;
        }
        sum = s;
        shape.valid_frames = index as u64 + 1;
        if be32(f, 4) != 0 {
            shape.committed_frames = shape.valid_frames;
        }
    }
    shape
}

/// What the start-up check found wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Damage {
    /// SQLite does not recognise the file (a garbage header).
    NotADatabase { detail: String },
    /// `quick_check` found damaged pages (its first lines, English).
    Pages { problems: Vec<String> },
    /// Records the outbox acknowledged are not in it (a cut log, a lost
    /// or an older file put back).
    Missing {
        mark: HighWaterMark,
        newest_found: Option<i64>,
    },
}

/// The start-up check's verdict before anything is changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    /// No outbox yet (a new kiosk).
    Absent,
    Whole,
    /// The check ran out of time; nothing was found so far.
    Unfinished,
    Damaged(Vec<Damage>),
}

fn not_a_database(err: rusqlite::Error) -> Result<Health, StoreError> {
    match StoreError::from(err) {
        StoreError::Damaged(e) => Ok(Health::Damaged(vec![Damage::NotADatabase {
            detail: e.to_string(),
        }])),
        other => Err(other),
    }
}

fn damaged_err(err: rusqlite::Error) -> Option<String> {
    match StoreError::from(err) {
        StoreError::Damaged(e) => Some(e.to_string()),
        _ => None,
    }
}

/// Checks the outbox without writing to it: a read-only connection never
/// checkpoints or deletes the log, so what is found is what was there.
pub fn check(outbox: &Path, budget: StdDuration) -> Result<Health, StoreError> {
    let mark = read_mark(outbox);
    if !outbox.exists() {
        return Ok(match mark {
            Some(mark) => Health::Damaged(vec![Damage::Missing {
                mark,
                newest_found: None,
            }]),
            None => Health::Absent,
        });
    }
    let conn = match Connection::open_with_flags(
        outbox,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    ) {
        Ok(conn) => conn,
        Err(err) => return not_a_database(err),
    };
    conn.busy_timeout(StdDuration::from_secs(10))?;
    // The header is read lazily: a garbage one shows at the first query.
    if let Err(err) = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    }) {
        return not_a_database(err);
    }
    let mut damage = Vec::new();
    match quick_check(&conn, budget) {
        Ok(QuickCheck::Ok) => {}
        Ok(QuickCheck::Interrupted) => return Ok(Health::Unfinished),
        Ok(QuickCheck::Problems(problems)) => damage.push(Damage::Pages { problems }),
        Err(err) => match damaged_err(err) {
            Some(detail) => damage.push(Damage::Pages {
                problems: vec![detail],
            }),
            None => return Ok(Health::Unfinished),
        },
    }
    if let Some(mark) = mark {
        let found: Result<Option<String>, _> = conn
            .query_row(
                "SELECT record_number FROM records WHERE seq = ?1",
                [mark.seq],
                |r| r.get(0),
            )
            .optional();
        if found.as_ref().ok().and_then(Option::as_deref) != Some(mark.record_number.as_str()) {
            let newest_found = conn
                .query_row("SELECT max(seq) FROM records", [], |r| r.get(0))
                .ok()
                .flatten();
            damage.push(Damage::Missing { mark, newest_found });
        }
    }
    Ok(if damage.is_empty() {
        Health::Whole
    } else {
        Health::Damaged(damage)
    })
}

enum QuickCheck {
    Ok,
    Problems(Vec<String>),
    Interrupted,
}

fn quick_check(conn: &Connection, budget: StdDuration) -> Result<QuickCheck, rusqlite::Error> {
    let interrupt = conn.get_interrupt_handle();
    let (done, finished) = mpsc::channel::<()>();
    let timer = std::thread::Builder::new()
        .name("outbox-check-timer".into())
        .spawn(move || {
            if let Err(mpsc::RecvTimeoutError::Timeout) = finished.recv_timeout(budget) {
                interrupt.interrupt();
            }
        });
    let result = (|| -> Result<Vec<String>, rusqlite::Error> {
        let mut stmt = conn.prepare("PRAGMA quick_check")?;
        let lines = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<String>, _>>()?;
        Ok(lines)
    })();
    drop(done);
    if let Ok(timer) = timer {
        let _ = timer.join();
    }
    match result {
        Ok(lines) if lines == ["ok"] => Ok(QuickCheck::Ok),
        Ok(mut lines) => {
            lines.truncate(PROBLEM_LINES);
            Ok(QuickCheck::Problems(lines))
        }
        Err(err) if err.sqlite_error_code() == Some(rusqlite::ErrorCode::OperationInterrupted) => {
            Ok(QuickCheck::Interrupted)
        }
        Err(err) => Err(err),
    }
}

/// A record that could not be kept, named as far as it can be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LostRecord {
    pub seq: Option<i64>,
    pub record_number: Option<String>,
    pub masked_id: Option<String>,
    pub signed_at: Option<String>,
    /// English, for the technician.
    pub why: String,
    /// The sealed bytes, saved for the county when only the clear row was
    /// lost (relative to the report's directory).
    pub sealed_saved_as: Option<String>,
}

/// What a salvage did, as `salvage.json` keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SalvageReport {
    pub found_at: DateTime<Utc>,
    /// The damaged files, moved here untouched.
    pub damaged_copy: PathBuf,
    pub damage: Vec<Damage>,
    pub wal: Option<WalShape>,
    pub kept: u64,
    pub lost: Vec<LostRecord>,
    pub drafts_kept: u64,
    pub drafts_lost: u64,
    pub sync_state_kept: bool,
    /// Set by a technician (`queue acknowledge-damage`); until then the
    /// kiosk takes no registrations.
    #[serde(default)]
    pub acknowledged_at: Option<DateTime<Utc>>,
}

impl SalvageReport {
    /// For county staff at the kiosk: what happened and what to do.
    pub fn message_zh(&self) -> String {
        let mut text = format!(
            "本机登记数据文件损坏（开机检查发现），已自动抢救：保留 {} 条记录",
            self.kept
        );
        if self.lost.is_empty() {
            text.push_str("，没有发现丢失的记录。");
        } else {
            let named: Vec<&str> = self
                .lost
                .iter()
                .filter_map(|l| l.record_number.as_deref())
                .take(5)
                .collect();
            text.push_str(&format!("，{} 条无法读取", self.lost.len()));
            if !named.is_empty() {
                text.push_str(&format!("（回执编号 {}", named.join("、")));
                if named.len() < self.lost.len() {
                    text.push_str(" 等");
                }
                text.push('）');
            }
            text.push_str("，请按回执核对，必要时请本人重新登记。");
        }
        // The folder's name, not its full path: staff read it off the
        // screen; the technician finds the exact path in the report.
        text.push_str(&format!(
            "损坏的原文件已原样保存在本机数据目录的 {DAMAGED_DIR} 文件夹中，请不要删除。请联系县里技术人员处理，确认后本机才继续登记。"
        ));
        text
    }
}

/// What the start-up check decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Startup {
    /// Go on: the outbox is whole (or new).
    Ready { unfinished_check: bool },
    /// Damage was found now and salvaged.
    Salvaged(SalvageReport),
    /// An earlier salvage waits for a technician.
    AwaitingAcknowledgement(Vec<SalvageReport>),
}

impl Startup {
    pub fn may_take_registrations(&self) -> bool {
        matches!(self, Startup::Ready { .. })
    }

    /// For staff; `None` when the kiosk may go on.
    pub fn message_zh(&self) -> Option<String> {
        match self {
            Startup::Ready { .. } => None,
            Startup::Salvaged(report) => Some(report.message_zh()),
            Startup::AwaitingAcknowledgement(reports) => {
                reports.last().map(SalvageReport::message_zh)
            }
        }
    }
}

fn damaged_root(outbox: &Path) -> PathBuf {
    outbox
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .join(DAMAGED_DIR)
}

/// Every salvage directory beside the outbox, oldest first.
fn salvage_dirs(outbox: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(damaged_root(outbox))
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    dirs.sort();
    dirs
}

fn read_report(dir: &Path) -> Option<SalvageReport> {
    let text = fs::read_to_string(dir.join(REPORT_FILE)).ok()?;
    serde_json::from_str(&text).ok()
}

fn write_report(dir: &Path, report: &SalvageReport) -> Result<(), StoreError> {
    let json = serde_json::to_vec_pretty(report).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    write_private_file(&dir.join(REPORT_FILE), &json).map_err(io_error(dir))
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> StoreError + '_ {
    move |e| StoreError::KeyFile {
        path: path.to_path_buf(),
        detail: e.to_string(),
    }
}

/// Salvage reports no technician has acknowledged yet.
pub fn unacknowledged(outbox: &Path) -> Vec<SalvageReport> {
    salvage_dirs(outbox)
        .iter()
        .filter_map(|d| read_report(d))
        .filter(|r| r.acknowledged_at.is_none())
        .collect()
}

/// A technician has looked: the kiosk may take registrations again.
pub fn acknowledge(outbox: &Path, now: DateTime<Utc>) -> Result<Vec<SalvageReport>, StoreError> {
    let mut done = Vec::new();
    for dir in salvage_dirs(outbox) {
        if let Some(mut report) = read_report(&dir) {
            if report.acknowledged_at.is_none() {
                report.acknowledged_at = Some(now);
                write_report(&dir, &report)?;
                done.push(report);
            }
        }
    }
    Ok(done)
}

/// The check every start makes before the outbox is opened for work:
/// finishes a salvage a power cut interrupted, checks, salvages damage,
/// and keeps the kiosk from registering until damage is acknowledged.
pub fn startup(
    outbox: &Path,
    now: DateTime<Utc>,
    budget: StdDuration,
) -> Result<Startup, StoreError> {
    let fresh = with_suffix(outbox, ".salvaged");
    if !outbox.exists() {
        // A salvage cut short: its damaged copy is there, the outbox not.
        if let Some(dir) = salvage_dirs(outbox).pop() {
            match read_report(&dir) {
                Some(report) if fresh.exists() => {
                    fs::rename(&fresh, outbox).map_err(io_error(outbox))?;
                    return Ok(Startup::Salvaged(report));
                }
                None => {
                    let damage = vec![Damage::Missing {
                        mark: read_mark(outbox).unwrap_or(HighWaterMark {
                            seq: 0,
                            record_number: String::new(),
                        }),
                        newest_found: None,
                    }];
                    return salvage_from(outbox, &dir, damage, now).map(Startup::Salvaged);
                }
                Some(_) => {}
            }
        }
    }
    let waiting = unacknowledged(outbox);
    if !waiting.is_empty() {
        return Ok(Startup::AwaitingAcknowledgement(waiting));
    }
    match check(outbox, budget)? {
        Health::Absent | Health::Whole => Ok(Startup::Ready {
            unfinished_check: false,
        }),
        Health::Unfinished => {
            tracing::warn!(
                "the outbox check did not finish within {budget:?}; starting without it"
            );
            Ok(Startup::Ready {
                unfinished_check: true,
            })
        }
        Health::Damaged(damage) => {
            let report = salvage(outbox, damage, now)?;
            tracing::error!(
                kept = report.kept,
                lost = report.lost.len(),
                copy = %report.damaged_copy.display(),
                "the outbox was damaged; readable records were salvaged into a fresh outbox, \
                 registrations stop until a technician acknowledges (queue acknowledge-damage)"
            );
            Ok(Startup::Salvaged(report))
        }
    }
}

/// Moves the damaged files aside untouched, then salvages from them.
pub fn salvage(
    outbox: &Path,
    damage: Vec<Damage>,
    now: DateTime<Utc>,
) -> Result<SalvageReport, StoreError> {
    let dir = damaged_root(outbox).join(now.format("%Y%m%dT%H%M%S%.3fZ").to_string());
    fs::create_dir_all(&dir).map_err(io_error(&dir))?;
    // The database first: a log left behind without it is never replayed
    // onto a new file, because the next start finishes this move.
    for from in [outbox.to_path_buf(), wal_path(outbox), shm_path(outbox)] {
        if from.exists() {
            let name = from.file_name().map(PathBuf::from).unwrap_or_default();
            fs::rename(&from, dir.join(name)).map_err(io_error(&from))?;
        }
    }
    if let Ok(d) = fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    salvage_from(outbox, &dir, damage, now)
}

/// Reads the damaged copy in `dir` (through a scratch copy, so the copy
/// stays as found) into a fresh outbox at `outbox`.
fn salvage_from(
    outbox: &Path,
    dir: &Path,
    damage: Vec<Damage>,
    now: DateTime<Utc>,
) -> Result<SalvageReport, StoreError> {
    let name = outbox.file_name().map(PathBuf::from).unwrap_or_default();
    let copied = dir.join(&name);
    let copied_wal = wal_path(&copied);
    let wal = fs::read(&copied_wal).ok().map(|b| inspect_wal(&b));
    let scratch = dir.join("scratch");
    let _ = fs::remove_dir_all(&scratch);
    fs::create_dir_all(&scratch).map_err(io_error(&scratch))?;
    let work = scratch.join(&name);
    for (from, to) in [
        (copied.clone(), work.clone()),
        (copied_wal, wal_path(&work)),
    ] {
        if from.exists() {
            fs::copy(&from, &to).map_err(io_error(&from))?;
        }
    }

    let fresh_path = with_suffix(outbox, ".salvaged");
    let _ = fs::remove_file(&fresh_path);
    let _ = fs::remove_file(wal_path(&fresh_path));
    let mut fresh = Store::open(&fresh_path)?;
    let mut report = SalvageReport {
        found_at: now,
        damaged_copy: dir.to_path_buf(),
        damage,
        wal,
        kept: 0,
        lost: Vec::new(),
        drafts_kept: 0,
        drafts_lost: 0,
        sync_state_kept: false,
        acknowledged_at: None,
    };
    let source = if work.exists() {
        open_for_salvage(&work)
    } else {
        None
    };
    if let Some(source) = &source {
        copy_records(source, &mut fresh, dir, &mut report)?;
        copy_drafts(source, &fresh, &mut report)?;
        report.sync_state_kept = copy_sync_state(source, &fresh);
    }
    drop(source);
    let _ = fs::remove_dir_all(&scratch);
    // Records the mark says were acknowledged and no page holds any more.
    let newest_kept: Option<i64> =
        fresh
            .conn
            .query_row("SELECT max(seq) FROM records", [], |r| r.get(0))?;
    let found: BTreeSet<i64> = report.lost.iter().filter_map(|l| l.seq).collect();
    if let Some(mark) = read_mark(outbox) {
        for seq in newest_kept.unwrap_or(0) + 1..=mark.seq {
            if found.contains(&seq) {
                continue;
            }
            report.lost.push(LostRecord {
                seq: Some(seq),
                record_number: (seq == mark.seq).then(|| mark.record_number.clone()),
                masked_id: None,
                signed_at: None,
                why: "acknowledged (below the high-water mark) but in no readable page: \
                      the log or the file was cut short"
                    .into(),
                sealed_saved_as: None,
            });
        }
        // Later records continue after the lost ones, never reusing a number.
        fresh.conn.execute(
            "UPDATE sqlite_sequence SET seq = max(seq, ?1) WHERE name = 'records'",
            [mark.seq],
        )?;
        fresh.conn.execute(
            "INSERT INTO sqlite_sequence (name, seq) SELECT 'records', ?1 \
             WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'records')",
            [mark.seq],
        )?;
    }
    drop(fresh);
    write_report(dir, &report)?;
    fs::rename(&fresh_path, outbox).map_err(io_error(outbox))?;
    if let Some(parent) = outbox.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Ok(d) = fs::File::open(parent) {
            let _ = d.sync_all();
        }
    }
    // The new outbox's own mark (the lost ones are in the report).
    let reopened = Store::open(outbox)?;
    if let Some(mark) = reopened.newest_mark()? {
        write_mark(outbox, &mark).map_err(io_error(outbox))?;
    }
    Ok(report)
}

/// Opens the scratch copy; when its first 100 bytes (the header) are
/// garbage, writes a plain header for each possible page size until the
/// schema reads, so the pages behind a torn header are not lost with it.
fn open_for_salvage(work: &Path) -> Option<Connection> {
    let reads = |conn: &Connection| {
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        })
        .is_ok()
    };
    if let Ok(conn) = Connection::open(work) {
        if reads(&conn) {
            return Some(conn);
        }
    }
    let mut bytes = fs::read(work).ok()?;
    if bytes.len() < 512 {
        return None;
    }
    for shift in 9..=16 {
        let page_size = 1usize << shift;
        if bytes.len() % page_size != 0 || bytes.len() < page_size {
            continue;
        }
        write_plain_header(&mut bytes, page_size);
        if fs::write(work, &bytes).is_err() {
            return None;
        }
        if let Ok(conn) = Connection::open(work) {
            if reads(&conn) {
                tracing::warn!(page_size, "salvage: the outbox's header was rebuilt");
                return Some(conn);
            }
        }
    }
    None
}

/// A database header (sqlite.org/fileformat2.html#the_database_header)
/// that claims nothing beyond the page size: no free list, size from the
/// file's length, UTF-8, the outbox's application id.
fn write_plain_header(bytes: &mut [u8], page_size: usize) {
    let mut header = [0u8; 100];
    header[..16].copy_from_slice(b"SQLite format 3\0");
    let size_field = if page_size == 65536 {
        1u16
    } else {
        page_size as u16
    };
    header[16..18].copy_from_slice(&size_field.to_be_bytes());
    // WAL: a log beside the copy is replayed (its page 1, if there, is whole).
    header[18] = 2;
    header[19] = 2;
    header[21] = 64;
    header[22] = 32;
    header[23] = 32;
    header[24..28].copy_from_slice(&1u32.to_be_bytes()); // change counter
    header[40..44].copy_from_slice(&1u32.to_be_bytes()); // schema cookie
    header[44..48].copy_from_slice(&4u32.to_be_bytes()); // schema format
    header[56..60].copy_from_slice(&1u32.to_be_bytes()); // UTF-8
    header[68..72].copy_from_slice(&super::schema::OUTBOX.application_id.to_be_bytes());
    header[92..96].copy_from_slice(&1u32.to_be_bytes()); // version-valid-for
    header[96..100].copy_from_slice(&3_046_000u32.to_be_bytes());
    bytes[..100].copy_from_slice(&header);
}

/// Every rowid that may hold a row of `table`: 1 up to the largest any
/// part of the file still admits to, and whatever a scan reaches.
fn candidate_rowids(conn: &Connection, table: &str) -> BTreeSet<i64> {
    let mut ids = BTreeSet::new();
    let mut top = 0;
    if let Ok(Some(max)) = conn.query_row(&format!("SELECT max(rowid) FROM {table}"), [], |r| {
        r.get::<_, Option<i64>>(0)
    }) {
        top = top.max(max);
    }
    if let Ok(Some(max)) = conn.query_row(
        "SELECT seq FROM sqlite_sequence WHERE name = ?1",
        [table],
        |r| r.get::<_, Option<i64>>(0),
    ) {
        top = top.max(max);
    }
    if let Ok(mut stmt) = conn.prepare(&format!("SELECT rowid FROM {table}")) {
        if let Ok(mut rows) = stmt.query([]) {
            // Until the scan meets a bad page.
            while let Ok(Some(row)) = rows.next() {
                if let Ok(id) = row.get::<_, i64>(0) {
                    ids.insert(id);
                }
            }
        }
    }
    // A damaged page can claim absurd numbers; lookups stay bounded.
    let top = top.min(ids.last().copied().unwrap_or(0).max(1_000_000));
    ids.extend(1..=top);
    ids
}

fn columns_of(conn: &Connection, table: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    if let Ok(mut stmt) = conn.prepare("SELECT name FROM pragma_table_info(?1)") {
        if let Ok(rows) = stmt.query_map([table], |r| r.get::<_, String>(0)) {
            out.extend(rows.filter_map(Result::ok));
        }
    }
    out
}

/// The clear columns carried over, in the fresh outbox's names; a column an
/// older outbox lacks comes over as NULL.
const RECORD_COLUMNS: [&str; 15] = [
    "seq",
    "record_id",
    "record_number",
    "state",
    "masked_id",
    "township_code",
    "township_name",
    "created_at",
    "signed_at",
    "sent_at",
    "reviewed_at",
    "reasons",
    "supersedes",
    "superseded_by",
    "content_sha256",
];

fn text_of(value: &Value) -> Option<&str> {
    match value {
        Value::Text(t) => Some(t),
        _ => None,
    }
}

fn copy_records(
    source: &Connection,
    fresh: &mut Store,
    dir: &Path,
    report: &mut SalvageReport,
) -> Result<(), StoreError> {
    let have = columns_of(source, "records");
    let mut wanted: Vec<&str> = RECORD_COLUMNS.to_vec();
    if have.contains("lookup_tag") {
        wanted.push("lookup_tag");
    }
    let select = wanted
        .iter()
        .map(|c| {
            if have.contains(*c) {
                (*c).to_string()
            } else {
                "NULL".into()
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    let sealed_inline = have.contains("sealed") && columns_of(source, "sealed_records").is_empty();
    let mut rowids = candidate_rowids(source, "records");
    if !sealed_inline {
        rowids.extend(candidate_rowids(source, "sealed_records"));
    }
    let insert = format!(
        "INSERT INTO records ({}) VALUES ({})",
        wanted.join(", "),
        (1..=wanted.len())
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let tx = fresh.conn.transaction()?;
    for seq in rowids {
        let row: Result<Option<Vec<Value>>, _> = source
            .query_row(
                &format!("SELECT {select} FROM records WHERE seq = ?1"),
                [seq],
                |r| (0..wanted.len()).map(|i| r.get::<_, Value>(i)).collect(),
            )
            .optional();
        let sealed_sql = if sealed_inline {
            "SELECT sealed FROM records WHERE seq = ?1"
        } else {
            "SELECT sealed FROM sealed_records WHERE record_seq = ?1"
        };
        let sealed: Result<Option<Vec<u8>>, _> =
            source.query_row(sealed_sql, [seq], |r| r.get(0)).optional();
        let sealed = sealed.map(|s| s.filter(|b| b.starts_with(b"age-encryption.org/v1\n")));
        let lost = |why: &str, row: Option<&Vec<Value>>, saved: Option<String>| LostRecord {
            seq: Some(seq),
            record_number: row.and_then(|r| text_of(&r[2]).map(String::from)),
            masked_id: row.and_then(|r| text_of(&r[4]).map(String::from)),
            signed_at: row.and_then(|r| text_of(&r[8]).map(String::from)),
            why: why.into(),
            sealed_saved_as: saved,
        };
        let row = match row {
            Ok(Some(row)) if clear_row_is_sound(&row) => row,
            Ok(None) => match sealed {
                // No row and no sealed bytes: a number never used.
                Ok(None) | Err(_) => continue,
                Ok(Some(bytes)) => {
                    let saved = save_sealed(dir, seq, &bytes);
                    report.lost.push(lost(
                        "the clear row is gone; only the sealed bytes remain",
                        None,
                        saved,
                    ));
                    continue;
                }
            },
            Ok(Some(_)) | Err(_) => {
                let saved = match &sealed {
                    Ok(Some(bytes)) => save_sealed(dir, seq, bytes),
                    _ => None,
                };
                report
                    .lost
                    .push(lost("the clear row does not read", None, saved));
                continue;
            }
        };
        let bytes = match sealed {
            Ok(Some(bytes)) => bytes,
            Ok(None) | Err(_) => {
                report
                    .lost
                    .push(lost("the sealed record does not read", Some(&row), None));
                continue;
            }
        };
        let inserted = tx
            .execute(&insert, params_from_iter(row.iter()))
            .and_then(|_| {
                tx.execute(
                    "INSERT INTO sealed_records (record_seq, sealed) VALUES (?1, ?2)",
                    rusqlite::params![seq, bytes],
                )
            });
        if let Err(e) = inserted {
            report.lost.push(lost(
                &format!("the row does not fit the outbox: {e}"),
                Some(&row),
                None,
            ));
            continue;
        }
        // Categories feed only the ledger's counts; what reads is kept.
        if let Ok(mut stmt) =
            source.prepare("SELECT code FROM record_categories WHERE record_seq = ?1")
        {
            if let Ok(codes) = stmt.query_map([seq], |r| r.get::<_, i64>(0)) {
                for code in codes.filter_map(Result::ok) {
                    tx.execute(
                        "INSERT OR IGNORE INTO record_categories (record_seq, code) VALUES (?1, ?2)",
                        rusqlite::params![seq, code],
                    )?;
                }
            }
        }
        report.kept += 1;
    }
    tx.commit()?;
    Ok(())
}

/// A clear row that reads may still be garbled: its record number is a
/// function of its UUID, so the two must agree, and its times must parse.
fn clear_row_is_sound(row: &[Value]) -> bool {
    let (Some(id), Some(number)) = (text_of(&row[1]), text_of(&row[2])) else {
        return false;
    };
    let Ok(id) = Uuid::parse_str(id) else {
        return false;
    };
    let time_ok = |v: &Value| text_of(v).is_some_and(|t| DateTime::parse_from_rfc3339(t).is_ok());
    record_number(&id) == number && time_ok(&row[7]) && time_ok(&row[8])
}

/// Saves sealed bytes whose clear row is lost, for the county to open.
fn save_sealed(dir: &Path, seq: i64, bytes: &[u8]) -> Option<String> {
    let name = format!("sealed-record-{seq}.age");
    write_private_file(&dir.join(&name), bytes)
        .ok()
        .map(|()| name)
}

fn copy_drafts(
    source: &Connection,
    fresh: &Store,
    report: &mut SalvageReport,
) -> Result<(), StoreError> {
    if columns_of(source, "drafts").is_empty() {
        return Ok(());
    }
    for rowid in candidate_rowids(source, "drafts") {
        let row: Result<Option<Vec<Value>>, _> = source
            .query_row(
                "SELECT record_id, lookup_tag, started_at, updated_at, sealed FROM drafts WHERE rowid = ?1",
                [rowid],
                |r| (0..5).map(|i| r.get::<_, Value>(i)).collect(),
            )
            .optional();
        match row {
            Ok(None) => {}
            Ok(Some(row)) if text_of(&row[0]).is_some_and(|t| Uuid::parse_str(t).is_ok()) => {
                let ok = fresh.conn.execute(
                    "INSERT OR IGNORE INTO drafts (record_id, lookup_tag, started_at, updated_at, sealed) \
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params_from_iter(row.iter()),
                );
                if ok.is_ok() {
                    report.drafts_kept += 1;
                } else {
                    report.drafts_lost += 1;
                }
            }
            Ok(Some(_)) | Err(_) => report.drafts_lost += 1,
        }
    }
    Ok(())
}

fn copy_sync_state(source: &Connection, fresh: &Store) -> bool {
    let json: Option<String> = source
        .query_row("SELECT json FROM sync_state WHERE id = 1", [], |r| r.get(0))
        .ok();
    json.is_some_and(|json| {
        fresh
            .conn
            .execute(
                "INSERT OR REPLACE INTO sync_state (id, json) VALUES (1, ?1)",
                [json],
            )
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_bytes_give_a_wal_shape_and_a_cut_log_shows_its_torn_tail() {
        for bytes in [&b""[..], b"x", &[0u8; 31], &[0xffu8; 100]] {
            let shape = inspect_wal(bytes);
            assert!(!shape.header_ok);
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sqlite3");
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        conn.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        conn.execute_batch("CREATE TABLE t (x BLOB); INSERT INTO t VALUES (randomblob(9000));")
            .unwrap();
        let bytes = fs::read(wal_path(&path)).unwrap();
        let whole = inspect_wal(&bytes);
        assert!(whole.header_ok, "{whole:?}");
        assert_eq!(whole.torn_tail_bytes, 0);
        assert!(whole.committed_frames >= 3, "{whole:?}");
        assert_eq!(whole.valid_frames, whole.committed_frames);
        let frame = 24 + u64::from(whole.page_size);
        let cut = 32 + frame * 2 + 100;
        let torn = inspect_wal(&bytes[..cut as usize]);
        assert_eq!(torn.torn_tail_bytes, 100);
        assert_eq!(torn.valid_frames, 2);
        // The insert's commit frame (the last) was cut off; what SQLite
        // replays ends at the table's creation.
        assert!(torn.committed_frames < whole.committed_frames, "{torn:?}");
        assert!(torn.committed_frames <= torn.valid_frames);
    }
}

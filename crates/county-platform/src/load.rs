//! `county-platform load`: many kiosks uploading to one platform at once.
//!
//! The tool makes a demo PKI and a fresh database in its own work
//! directory (never the `--db` of a real county), spawns this same binary
//! as `county-platform serve` on loopback, and plays `--kiosks` kiosks,
//! each with its own client certificate from the demo CA and an outbox of
//! `--records` full records: the demo registration with a new identity,
//! a portrait and three certificate pages of up to `--photo-kb` each,
//! sealed with `trust::seal` as the kiosk seals them. Every kiosk sends its
//! outbox one record at a time, as the kiosk's uploader does, all kiosks at
//! once, over mutual TLS with the `wire` contract. An answer is sorted by
//! the kiosk's own table (src/sync/core.rs `classify`): stored or already
//! stored is sent, a refusal with reasons is rejected, anything else (5xx,
//! 409, a dropped or refused connection, a time-out) is tried again after a
//! capped, jittered back-off with the SAME sealed bytes, which is what
//! makes a retry idempotent at the platform.
//!
//! With `--restart-after N` the platform is killed (SIGKILL) once N records
//! are stored while uploads are in flight, and started again on the same
//! database and port; the kiosks retry through it.
//!
//! At the end it prints one JSON object: latency (p50/p90/p99 of the
//! successful uploads), throughput, the platform's peak memory (VmHWM),
//! and the reconciliation of the platform's records against the kiosks'
//! outboxes (each record once, none lost, none duplicated, same bytes) and
//! the database's `integrity_check`. Exit 0 when everything reconciles, 1
//! when it does not, 2 when the run could not be set up.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

// The sealed bytes, shared between a record's attempts without copying.
use axum::body::Bytes;
use chrono::{NaiveDate, Utc};
use kiosk_core::category::Category;
use kiosk_core::id_number::check_digit;
use kiosk_core::record::{self, Record};
use reqwest::StatusCode;
use rusqlite::params;
use serde_json::json;
use trust::pki::{self, CertificateAuthority, DemoPki, Validity};
use trust::seal::{self, Blobs};
use trust::sha256_hex;
use uuid::Uuid;
use wire::records::UploadAnswer;

use crate::PlatformDb;

/// The load tool's kiosks are named `LOAD-0001` …, so their records are
/// told apart from seeded ones.
const KIOSK_PREFIX: &str = "LOAD-";

#[derive(clap::Args, Debug, Clone)]
pub struct LoadArgs {
    /// How many kiosks upload at once, each with its own certificate.
    #[arg(long, default_value_t = 200)]
    pub kiosks: u32,
    /// Records in each kiosk's outbox.
    #[arg(long, default_value_t = 50)]
    pub records: u32,
    /// The largest photo in KB (the kiosk's cap is 300); each of a
    /// record's four photos is between two thirds of this and all of it.
    #[arg(long, default_value_t = 300)]
    pub photo_kb: u32,
    /// Fill the platform with this many records before the kiosks start
    /// (rows as intake leaves them, with stand-in sealed bodies).
    #[arg(long, default_value_t = 0)]
    pub seed_records: u32,
    /// Kill the platform (SIGKILL) once this many records are stored while
    /// uploads are in flight, then start it again on the same database.
    #[arg(long)]
    pub restart_after: Option<u32>,
    /// The whole run stops here whatever is left (the count then fails).
    #[arg(long, default_value_t = 1800)]
    pub deadline_secs: u64,
    /// The back-off after a first failed attempt (the kiosk waits 5 s; a
    /// load run shortens it so it ends in minutes).
    #[arg(long, default_value_t = 500)]
    pub retry_initial_ms: u64,
    /// No back-off grows past this (the kiosk's cap is 30 min).
    #[arg(long, default_value_t = 10_000)]
    pub retry_cap_ms: u64,
    /// Where the PKI, the platform's database and its log go (default: a
    /// new directory under the system's temporary directory).
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
    /// Leave the work directory in place (it holds every record sent).
    #[arg(long)]
    pub keep_work_dir: bool,
    /// The platform binary to spawn (default: this one).
    #[arg(long)]
    pub server: Option<PathBuf>,
}

/// Runs the tool; prints the report as one JSON object.
pub fn main(args: LoadArgs) -> ExitCode {
    if args.kiosks == 0 || args.records == 0 || args.photo_kb == 0 {
        return usage("--kiosks, --records and --photo-kb must be at least 1");
    }
    if args.photo_kb > 300 {
        return usage("--photo-kb is at most 300, the kiosk's cap on a photo");
    }
    let work_dir = match &args.work_dir {
        Some(dir) => dir.clone(),
        None => std::env::temp_dir().join(format!(
            "county-platform-load-{}-{}",
            std::process::id(),
            Utc::now().timestamp()
        )),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return setup_failed(format!("runtime: {e}")),
    };
    let outcome = runtime.block_on(run(&args, &work_dir));
    if !args.keep_work_dir && args.work_dir.is_none() {
        let _ = std::fs::remove_dir_all(&work_dir);
    }
    match outcome {
        Ok(report) => {
            let ok = report.get("ok").and_then(|v| v.as_bool()) == Some(true);
            println!("{report}");
            if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => setup_failed(e),
    }
}

fn usage(message: &str) -> ExitCode {
    eprintln!("county-platform load: {message}");
    println!("{}", json!({"ok": false, "code": "usage"}));
    ExitCode::from(2)
}

fn setup_failed(message: String) -> ExitCode {
    eprintln!("county-platform load: {message}");
    println!("{}", json!({"ok": false, "code": "load_setup"}));
    ExitCode::from(2)
}

/// A spawned `county-platform serve`; killed when dropped, so a failed run
/// leaves no server behind.
struct Platform {
    child: Child,
    addr: SocketAddr,
}

impl Platform {
    fn spawn(
        server: &Path,
        db: &Path,
        pki_dir: &Path,
        listen: SocketAddr,
        log: &Path,
    ) -> Result<Platform, String> {
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|e| format!("{}: {e}", log.display()))?;
        let mut child = Command::new(server)
            .arg("--db")
            .arg(db)
            .arg("serve")
            .arg("--pki")
            .arg(pki_dir)
            .arg("--listen")
            .arg(listen.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log_file)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", server.display()))?;
        // `serve` prints one JSON line once it listens.
        let mut line = String::new();
        let read = child
            .stdout
            .take()
            .map(|out| BufReader::new(out).read_line(&mut line));
        let listening = serde_json::from_str::<serde_json::Value>(&line)
            .ok()
            .and_then(|v| v.get("listening")?.as_str().map(str::to_string))
            .and_then(|url| url.strip_prefix("https://")?.parse::<SocketAddr>().ok());
        match (read, listening) {
            (Some(Ok(_)), Some(addr)) => Ok(Platform { child, addr }),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                Err(format!(
                    "the platform did not start (answered {line:?}; see {})",
                    log.display()
                ))
            }
        }
    }

    /// The peak resident memory so far (VmHWM), in KiB.
    fn peak_rss_kib(&self) -> Option<u64> {
        peak_rss_kib(self.child.id())
    }

    fn kill(&mut self) {
        // `Child::kill` is SIGKILL on Unix: no chance to tidy up.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Platform {
    fn drop(&mut self) {
        self.kill();
    }
}

/// VmHWM of process `pid` from /proc, in KiB.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn load_average() -> Option<String> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    Some(
        text.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
    )
}

/// One record in a kiosk's outbox, as the kiosk keeps it: the sealed bytes
/// are fixed once sealed and sent unchanged on every retry.
#[derive(Debug, Clone)]
struct OutboxEntry {
    record_id: Uuid,
    kiosk_id: String,
    body_sha256: String,
    state: OutboxState,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum OutboxState {
    Queued,
    Sent,
    Rejected(String),
}

/// What the kiosk's uploader decides from one attempt (its `classify`).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Attempt {
    Sent { already_stored: bool },
    Rejected(String),
    Retry(&'static str),
}

/// An answer sorted as the kiosk sorts it (src/sync/client.rs and the
/// table in src/sync/core.rs).
fn classify(status: StatusCode, body: &[u8]) -> Attempt {
    let parsed = serde_json::from_slice::<UploadAnswer>(body).ok();
    match (status, parsed) {
        (StatusCode::CREATED, Some(UploadAnswer::Stored { .. })) => Attempt::Sent {
            already_stored: false,
        },
        (StatusCode::OK, Some(UploadAnswer::AlreadyStored { .. })) => Attempt::Sent {
            already_stored: true,
        },
        (StatusCode::UNPROCESSABLE_ENTITY, Some(UploadAnswer::Rejected { reasons, .. })) => {
            Attempt::Rejected(
                reasons
                    .iter()
                    .map(|r| r.code.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
            )
        }
        (StatusCode::CONFLICT, _) => Attempt::Retry("conflict"),
        (s, _) if s.is_server_error() => Attempt::Retry("server_error"),
        _ => Attempt::Retry("unexpected_status"),
    }
}

fn transport_kind(error: &reqwest::Error) -> &'static str {
    if error.is_timeout() {
        "timeout"
    } else if error.is_connect() {
        "connect"
    } else {
        "transport"
    }
}

/// What every kiosk task adds to.
#[derive(Default)]
struct Tally {
    latencies: Mutex<Vec<Duration>>,
    retries: Mutex<HashMap<&'static str, u64>>,
    stored: AtomicUsize,
    already_stored: AtomicUsize,
    attempts: AtomicU64,
    bytes_sent: AtomicU64,
    in_flight: AtomicUsize,
    /// Set when the run's deadline passed.
    out_of_time: AtomicBool,
}

/// The capped, jittered exponential back-off of the kiosk's uploader,
/// with the delays of this run.
struct Backoff {
    initial: Duration,
    cap: Duration,
}

impl Backoff {
    fn delay(&self, failures: u32, rng: &mut SplitMix64) -> Duration {
        let doubled = self
            .initial
            .saturating_mul(1u32 << failures.saturating_sub(1).min(16));
        let base = doubled.min(self.cap);
        // Between half and all of it, so kiosks that failed together do not
        // all come back together.
        let half = base / 2;
        half + Duration::from_nanos(rng.next() % (half.as_nanos().max(1) as u64))
    }
}

/// A small deterministic generator for photo bytes and jitter (nothing
/// here needs to be secret).
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Bytes shaped like a JPEG (start and end markers) whose body is
    /// noise: as incompressible as a real photo, so the sizes are honest.
    fn jpeg_like(&mut self, len: usize) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(len + 8);
        bytes.extend_from_slice(&[0xFF, 0xD8, 0xFF, 0xE0]);
        while bytes.len() < len.saturating_sub(2) {
            bytes.extend_from_slice(&self.next().to_le_bytes());
        }
        bytes.truncate(len.saturating_sub(2));
        bytes.extend_from_slice(&[0xFF, 0xD9]);
        bytes
    }
}

/// The demo registration every load record starts from.
fn template() -> Result<Record, String> {
    serde_json::from_str(include_str!("../../../assets/demo/record-valid.json"))
        .map_err(|e| format!("the demo record does not parse: {e}"))
}

/// Record `n` of kiosk `kiosk_id`: the demo registration with its own
/// person (a valid ID number and matching birth date), record id, times
/// and photos. Returns it with its photos.
fn build_record(
    template: &Record,
    kiosk_id: &str,
    n: u64,
    photo_kb: u32,
    rng: &mut SplitMix64,
) -> Result<(Record, Blobs), String> {
    let mut record = template.clone();
    record.meta.record_id = Uuid::new_v4();
    record.meta.kiosk_id = kiosk_id.to_string();
    let now = Utc::now();
    record.meta.created_at = now - chrono::Duration::minutes(20);
    record.meta.updated_at = now;
    // A different person each record: birth dates over 1940–1964, the
    // sequence digits beyond that (odd last digit: the template is a man).
    let first_day = NaiveDate::from_ymd_opt(1940, 1, 1).ok_or("no such date")?;
    let birth = first_day + chrono::Duration::days((n % 9000) as i64);
    let sequence = format!("{:02}1", (n / 9000) % 100);
    let first17 = format!(
        "{}{}{}",
        &template.identity.id_number.get(..6).ok_or("short id")?,
        birth.format("%Y%m%d"),
        sequence
    );
    let digits: [u8; 17] = first17
        .as_bytes()
        .try_into()
        .map_err(|_| "an ID number needs 17 digits before the check digit")?;
    let id_number = format!("{first17}{}", check_digit(&digits));
    record.identity.id_number = id_number.clone();
    record.identity.birth_date = Some(birth);
    if let Some(card) = &mut record.identity.card {
        card.id_number = id_number;
        card.birth_date = birth;
    }
    let max = u64::from(photo_kb) * 1000;
    let mut size = || (max * 2 / 3 + rng.next() % (max / 3 + 1)) as usize;
    let sizes: Vec<usize> = (0..=record.documents.len()).map(|_| size()).collect();
    let mut blobs = Blobs::new();
    let mut photo = |len: usize, rng: &mut SplitMix64| {
        let bytes = rng.jpeg_like(len);
        record::PhotoRef {
            bytes: bytes.len() as u64,
            sha256: blobs.insert(bytes),
        }
    };
    record.photos.portrait = Some(photo(sizes[0], rng));
    for (doc, len) in record.documents.iter_mut().zip(&sizes[1..]) {
        doc.photo = photo(*len, rng);
    }
    Ok((record, blobs))
}

async fn run(args: &LoadArgs, work_dir: &Path) -> Result<serde_json::Value, String> {
    std::fs::create_dir_all(work_dir).map_err(|e| format!("{}: {e}", work_dir.display()))?;
    let load_before = load_average();
    let pki_dir = work_dir.join("pki");
    let pki = DemoPki::generate(&pki_dir, &format!("{KIOSK_PREFIX}DEMO"))
        .map_err(|e| format!("demo PKI: {e}"))?;
    let db = work_dir.join("platform.sqlite3");
    let log = work_dir.join("platform.log");
    if args.seed_records > 0 {
        let started = Instant::now();
        seed_records(&db, args.seed_records).map_err(|e| format!("seeding: {e}"))?;
        eprintln!(
            "county-platform load: seeded {} records in {:.1?}",
            args.seed_records,
            started.elapsed()
        );
    }
    let server = match &args.server {
        Some(path) => path.clone(),
        None => std::env::current_exe().map_err(|e| format!("this binary: {e}"))?,
    };
    let platform = Platform::spawn(
        &server,
        &db,
        &pki_dir,
        SocketAddr::from(([127, 0, 0, 1], 0)),
        &log,
    )?;
    let addr = platform.addr;
    // The demo server certificate names localhost.
    let url = format!("https://localhost:{}", addr.port());
    let recipient = std::fs::read_to_string(&pki.platform_age_recipient)
        .map_err(|e| format!("{}: {e}", pki.platform_age_recipient.display()))
        .and_then(|t| seal::parse_recipient(&t).map_err(|e| e.to_string()))?;
    let ca_key = std::fs::read_to_string(&pki.ca_key)
        .map_err(|e| format!("{}: {e}", pki.ca_key.display()))?;
    let ca = CertificateAuthority::from_key_pem(pki::DEMO_CA_NAME, &ca_key)
        .map_err(|e| format!("demo CA: {e}"))?;
    let roots = pki::root_store(&pki.ca).map_err(|e| format!("demo CA: {e}"))?;
    let template = Arc::new(template()?);
    // The records must pass the platform's checks, or the run measures refusals.
    let (probe, _) = build_record(&template, "LOAD-0001", 0, 1, &mut SplitMix64(1))?;
    let problems = record::problems(&probe, Utc::now().date_naive());
    if !problems.is_empty() {
        return Err(format!("the load record is not valid: {problems:?}"));
    }

    let kiosk_dir = work_dir.join("kiosks");
    std::fs::create_dir_all(&kiosk_dir).map_err(|e| format!("{}: {e}", kiosk_dir.display()))?;
    let mut kiosks = Vec::new();
    for k in 1..=args.kiosks {
        let kiosk_id = format!("{KIOSK_PREFIX}{k:04}");
        let issued = ca
            .issue_client(&kiosk_id, Validity::days_from_today(30))
            .map_err(|e| format!("certificate for {kiosk_id}: {e}"))?;
        // On disk, as a kiosk keeps them.
        let (cert_path, key_path) = (
            kiosk_dir.join(format!("{kiosk_id}.pem")),
            kiosk_dir.join(format!("{kiosk_id}-key.pem")),
        );
        issued
            .write(&cert_path, &key_path)
            .map_err(|e| format!("certificate for {kiosk_id}: {e}"))?;
        let certs = pki::load_certs(&cert_path).map_err(|e| e.to_string())?;
        let key = pki::load_key(&key_path).map_err(|e| e.to_string())?;
        let tls = rustls::ClientConfig::builder_with_provider(pki::crypto_provider())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots.clone())
            .with_client_auth_cert(certs, key)
            .map_err(|e| e.to_string())?;
        // The kiosk's time-outs (src/sync/client.rs).
        let client = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .build()
            .map_err(|e| format!("client for {kiosk_id}: {e}"))?;
        kiosks.push((kiosk_id, client));
    }
    eprintln!(
        "county-platform load: {} kiosks × {} records → {url} (platform pid {})",
        args.kiosks,
        args.records,
        platform.child.id()
    );

    let tally = Arc::new(Tally::default());
    let outboxes: Arc<Mutex<Vec<OutboxEntry>>> = Arc::default();
    let deadline = Instant::now() + Duration::from_secs(args.deadline_secs);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (index, (kiosk_id, client)) in kiosks.into_iter().enumerate() {
        let kiosk = KioskRun {
            kiosk_id,
            client,
            url: url.clone(),
            records: args.records,
            photo_kb: args.photo_kb,
            template: template.clone(),
            recipient: recipient.clone(),
            backoff: Backoff {
                initial: Duration::from_millis(args.retry_initial_ms),
                cap: Duration::from_millis(args.retry_cap_ms),
            },
            seed: 0x5EED_0000 + index as u64,
            deadline,
        };
        tasks.push(tokio::spawn(kiosk.run(tally.clone(), outboxes.clone())));
    }

    // Watch the run: the restart, and the platform's memory.
    let mut platform = platform;
    let mut peak_kib = platform.peak_rss_kib().unwrap_or(0);
    let mut restart: Option<serde_json::Value> = None;
    let total = u64::from(args.kiosks) * u64::from(args.records);
    let mut last_progress = Instant::now();
    loop {
        let done = tasks.iter().all(|t| t.is_finished());
        if done {
            break;
        }
        if last_progress.elapsed() >= Duration::from_secs(30) {
            last_progress = Instant::now();
            eprintln!(
                "county-platform load: {:.0?}: {} of {total} stored, {} uploads in flight",
                started.elapsed(),
                tally.stored.load(Ordering::SeqCst),
                tally.in_flight.load(Ordering::SeqCst),
            );
        }
        peak_kib = peak_kib.max(platform.peak_rss_kib().unwrap_or(0));
        if let (Some(after), None) = (args.restart_after, &restart) {
            let stored = tally.stored.load(Ordering::SeqCst);
            let in_flight = tally.in_flight.load(Ordering::SeqCst);
            if stored >= after as usize && in_flight > 0 {
                peak_kib = peak_kib.max(platform.peak_rss_kib().unwrap_or(0));
                let killed_pid = platform.child.id();
                platform.kill();
                let killed_at = started.elapsed();
                eprintln!(
                    "county-platform load: killed the platform (pid {killed_pid}) with {stored} records stored and {in_flight} uploads in flight"
                );
                // Down for a moment: kiosks see refused connections and back off.
                tokio::time::sleep(Duration::from_secs(1)).await;
                platform = Platform::spawn(&server, &db, &pki_dir, addr, &log)?;
                eprintln!(
                    "county-platform load: platform started again (pid {}) after {:.1?}",
                    platform.child.id(),
                    started.elapsed() - killed_at
                );
                restart = Some(json!({
                    "killed_after_stored": stored,
                    "in_flight_at_kill": in_flight,
                    "killed_at_s": round2(killed_at.as_secs_f64()),
                    "down_for_s": round2((started.elapsed() - killed_at).as_secs_f64()),
                }));
            }
        }
        if Instant::now() > deadline + Duration::from_secs(150) {
            // Past the deadline and past the kiosks' own request time-out.
            tally.out_of_time.store(true, Ordering::SeqCst);
            for task in &tasks {
                task.abort();
            }
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut task_failures = Vec::new();
    for task in tasks {
        match task.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => task_failures.push(e),
            Err(e) if e.is_cancelled() => {}
            Err(e) => task_failures.push(e.to_string()),
        }
    }
    let wall = started.elapsed();
    peak_kib = peak_kib.max(platform.peak_rss_kib().unwrap_or(0));
    let load_after = load_average();
    // The platform stops the way it would die: killed. The database must
    // still be whole.
    platform.kill();
    drop(platform);

    let outbox = outboxes
        .lock()
        .map_err(|_| "a kiosk task panicked".to_string())?
        .clone();
    let reconciliation = reconcile(&db, &outbox, total, u64::from(args.seed_records))?;

    let mut latencies = tally
        .latencies
        .lock()
        .map_err(|_| "a kiosk task panicked".to_string())?
        .clone();
    latencies.sort();
    let ms = |d: Option<&Duration>| d.map(|d| round2(d.as_secs_f64() * 1000.0));
    let percentile = |q: f64| {
        let n = latencies.len();
        if n == 0 {
            return None;
        }
        let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
        latencies.get(rank - 1)
    };
    let sent = outbox
        .iter()
        .filter(|e| e.state == OutboxState::Sent)
        .count();
    let bytes = tally.bytes_sent.load(Ordering::SeqCst);
    let secs = wall.as_secs_f64().max(f64::EPSILON);
    let retries: serde_json::Map<String, serde_json::Value> = tally
        .retries
        .lock()
        .map_err(|_| "a kiosk task panicked".to_string())?
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    let reconciled = reconciliation.get("ok").and_then(|v| v.as_bool()) == Some(true);
    let ok = reconciled
        && task_failures.is_empty()
        && !tally.out_of_time.load(Ordering::SeqCst)
        && (args.restart_after.is_none() || restart.is_some());
    let report = json!({
        "ok": ok,
        "kiosks": args.kiosks,
        "records_per_kiosk": args.records,
        "photo_kb_max": args.photo_kb,
        "seeded_records": args.seed_records,
        "records_sent": sent,
        "bytes_sent": bytes,
        "mean_record_kb": if sent > 0 { round2(bytes as f64 / sent as f64 / 1000.0) } else { 0.0 },
        "wall_s": round2(secs),
        "records_per_s": round2(sent as f64 / secs),
        "mb_per_s": round2(bytes as f64 / 1e6 / secs),
        "latency_ms": {
            "p50": ms(percentile(0.50)),
            "p90": ms(percentile(0.90)),
            "p99": ms(percentile(0.99)),
            "max": ms(latencies.last()),
        },
        "attempts": tally.attempts.load(Ordering::SeqCst),
        "answered_already_stored": tally.already_stored.load(Ordering::SeqCst),
        "retries": retries,
        "platform_peak_rss_mb": round2(peak_kib as f64 / 1024.0),
        "restart": restart,
        "out_of_time": tally.out_of_time.load(Ordering::SeqCst),
        "kiosk_failures": task_failures,
        "load_average_before": load_before,
        "load_average_after": load_after,
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "reconciliation": reconciliation,
    });
    eprintln!("{}", summary(&report));
    Ok(report)
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The report in a few lines for a person.
fn summary(report: &serde_json::Value) -> String {
    let r = |path: &str| {
        report
            .pointer(path)
            .map(|v| v.to_string())
            .unwrap_or_else(|| "-".into())
    };
    format!(
        "county-platform load: {} kiosks × {} records ({} seeded before): {} sent in {} s\n  \
         latency p50 {} ms, p90 {} ms, p99 {} ms, max {} ms\n  \
         throughput {} records/s, {} MB/s; {} attempts, retries {}\n  \
         platform peak RSS (VmHWM) {} MB; restart {}\n  \
         reconciliation: outboxes {} records, platform {} (load kiosks) / {} (all), missing {}, extra {}, bytes differ {}, not sent {}; integrity {} → {}",
        r("/kiosks"),
        r("/records_per_kiosk"),
        r("/seeded_records"),
        r("/records_sent"),
        r("/wall_s"),
        r("/latency_ms/p50"),
        r("/latency_ms/p90"),
        r("/latency_ms/p99"),
        r("/latency_ms/max"),
        r("/records_per_s"),
        r("/mb_per_s"),
        r("/attempts"),
        r("/retries"),
        r("/platform_peak_rss_mb"),
        r("/restart"),
        r("/reconciliation/outbox_records"),
        r("/reconciliation/platform_records_from_load_kiosks"),
        r("/reconciliation/platform_records_total"),
        r("/reconciliation/missing"),
        r("/reconciliation/extra"),
        r("/reconciliation/body_differs"),
        r("/reconciliation/not_sent"),
        r("/reconciliation/integrity_check"),
        if report.get("ok").and_then(|v| v.as_bool()) == Some(true) {
            "OK"
        } else {
            "FAILED"
        }
    )
}

/// One kiosk: seals its records one by one and sends each until the
/// platform has it.
struct KioskRun {
    kiosk_id: String,
    client: reqwest::Client,
    url: String,
    records: u32,
    photo_kb: u32,
    template: Arc<Record>,
    recipient: age::x25519::Recipient,
    backoff: Backoff,
    seed: u64,
    deadline: Instant,
}

impl KioskRun {
    async fn run(
        self,
        tally: Arc<Tally>,
        outboxes: Arc<Mutex<Vec<OutboxEntry>>>,
    ) -> Result<(), String> {
        let mut rng = SplitMix64(self.seed);
        for n in 0..self.records {
            // Sealed once, kept, and sent unchanged on every retry (the
            // kiosk seals at signing and keeps the sealed bytes in its
            // outbox). Sealing is CPU work: off the runtime's threads.
            let template = self.template.clone();
            let kiosk_id = self.kiosk_id.clone();
            let recipient = self.recipient.clone();
            let photo_kb = self.photo_kb;
            let person = self.seed.wrapping_mul(1000) + u64::from(n);
            let photo_seed = rng.next();
            let (record_id, record_number, sealed) = tokio::task::spawn_blocking(move || {
                let mut photos = SplitMix64(photo_seed);
                let (record, blobs) =
                    build_record(&template, &kiosk_id, person, photo_kb, &mut photos)?;
                let sealed = seal::seal(&record, &blobs, &recipient).map_err(|e| e.to_string())?;
                Ok::<_, String>((record.meta.record_id, format!("{kiosk_id}-{n:04}"), sealed))
            })
            .await
            .map_err(|e| e.to_string())??;
            let index = {
                let mut outboxes = outboxes.lock().map_err(|_| "outbox lock")?;
                outboxes.push(OutboxEntry {
                    record_id,
                    kiosk_id: self.kiosk_id.clone(),
                    body_sha256: sha256_hex(&sealed),
                    state: OutboxState::Queued,
                });
                outboxes.len() - 1
            };
            let sealed = Bytes::from(sealed);
            let state = self
                .send_until_done(&tally, record_id, &record_number, sealed, n, &mut rng)
                .await;
            let mut outboxes = outboxes.lock().map_err(|_| "outbox lock")?;
            if let Some(entry) = outboxes.get_mut(index) {
                entry.state = state;
            }
        }
        Ok(())
    }

    async fn send_until_done(
        &self,
        tally: &Tally,
        record_id: Uuid,
        record_number: &str,
        body: Bytes,
        sent_before: u32,
        rng: &mut SplitMix64,
    ) -> OutboxState {
        let mut failures = 0u32;
        loop {
            if Instant::now() > self.deadline {
                return OutboxState::Queued;
            }
            tally.attempts.fetch_add(1, Ordering::SeqCst);
            tally.in_flight.fetch_add(1, Ordering::SeqCst);
            let started = Instant::now();
            let request = self
                .client
                .put(format!("{}/v1/records/{record_id}", self.url))
                .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                .header(wire::RECORD_NUMBER_HEADER, record_number)
                .header(
                    wire::KIOSK_BACKLOG_HEADER,
                    (self.records - sent_before).to_string(),
                )
                .body(body.clone());
            let attempt = match request.send().await {
                Ok(response) => {
                    let status = response.status();
                    // Read the whole answer: a connection cut mid-answer is a reset.
                    match response.bytes().await {
                        Ok(answer) => classify(status, &answer),
                        Err(e) => Attempt::Retry(transport_kind(&e)),
                    }
                }
                Err(e) => Attempt::Retry(transport_kind(&e)),
            };
            tally.in_flight.fetch_sub(1, Ordering::SeqCst);
            let took = started.elapsed();
            match attempt {
                Attempt::Sent { already_stored } => {
                    if let Ok(mut latencies) = tally.latencies.lock() {
                        latencies.push(took);
                    }
                    tally.stored.fetch_add(1, Ordering::SeqCst);
                    if already_stored {
                        tally.already_stored.fetch_add(1, Ordering::SeqCst);
                    }
                    tally
                        .bytes_sent
                        .fetch_add(body.len() as u64, Ordering::SeqCst);
                    return OutboxState::Sent;
                }
                Attempt::Rejected(reasons) => {
                    eprintln!(
                        "county-platform load: {} record {record_id} refused: {reasons}",
                        self.kiosk_id
                    );
                    return OutboxState::Rejected(reasons);
                }
                Attempt::Retry(why) => {
                    if let Ok(mut retries) = tally.retries.lock() {
                        *retries.entry(why).or_default() += 1;
                    }
                    failures += 1;
                    tokio::time::sleep(self.backoff.delay(failures, rng)).await;
                }
            }
        }
    }
}

/// The platform's records against the kiosks' outboxes, and the
/// database's integrity, read from the database file after the platform
/// stopped.
fn reconcile(
    db: &Path,
    outbox: &[OutboxEntry],
    expected: u64,
    seeded: u64,
) -> Result<serde_json::Value, String> {
    let conn = rusqlite::Connection::open(db).map_err(|e| format!("{}: {e}", db.display()))?;
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|e| format!("integrity_check: {e}"))?;
    let total: u64 = conn
        .query_row("SELECT COUNT(*) FROM records", [], |r| r.get(0))
        .map_err(|e| e.to_string())?;
    let mut statement = conn
        .prepare(
            "SELECT record_id, kiosk_id, body_sha256, state FROM records \
             WHERE kiosk_id LIKE ?1 ORDER BY record_id",
        )
        .map_err(|e| e.to_string())?;
    let rows: Vec<(String, String, String, String)> = statement
        .query_map(params![format!("{KIOSK_PREFIX}%")], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .map_err(|e| e.to_string())?
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    let mut platform: HashMap<String, Vec<(String, String, String)>> = HashMap::new();
    for (record_id, kiosk_id, sha, state) in rows.iter().cloned() {
        platform
            .entry(record_id)
            .or_default()
            .push((kiosk_id, sha, state));
    }
    let mut missing = 0u64;
    let mut body_differs = 0u64;
    let mut wrong_kiosk = 0u64;
    let mut not_received = 0u64;
    for entry in outbox {
        match platform.get(&entry.record_id.to_string()) {
            None => missing += 1,
            Some(copies) => {
                for (kiosk_id, sha, state) in copies {
                    body_differs += u64::from(*sha != entry.body_sha256);
                    wrong_kiosk += u64::from(*kiosk_id != entry.kiosk_id);
                    not_received += u64::from(state != "received");
                }
            }
        }
    }
    let in_outbox: std::collections::HashSet<String> =
        outbox.iter().map(|e| e.record_id.to_string()).collect();
    let extra = platform
        .keys()
        .filter(|id| !in_outbox.contains(*id))
        .count() as u64;
    let duplicated = platform
        .values()
        .map(|copies| copies.len().saturating_sub(1) as u64)
        .sum::<u64>();
    let not_sent = outbox
        .iter()
        .filter(|e| e.state != OutboxState::Sent)
        .count() as u64;
    let rejected: Vec<String> = outbox
        .iter()
        .filter_map(|e| match &e.state {
            OutboxState::Rejected(why) => Some(format!("{}: {why}", e.record_id)),
            _ => None,
        })
        .take(10)
        .collect();
    let ok = integrity == "ok"
        && outbox.len() as u64 == expected
        && rows.len() as u64 == expected
        && total == expected + seeded
        && missing == 0
        && extra == 0
        && duplicated == 0
        && body_differs == 0
        && wrong_kiosk == 0
        && not_received == 0
        && not_sent == 0;
    Ok(json!({
        "ok": ok,
        "expected": expected,
        "outbox_records": outbox.len(),
        "platform_records_from_load_kiosks": rows.len(),
        "platform_records_total": total,
        "seeded": seeded,
        "missing": missing,
        "extra": extra,
        "duplicated": duplicated,
        "body_differs": body_differs,
        "wrong_kiosk": wrong_kiosk,
        "not_in_received_state": not_received,
        "not_sent": not_sent,
        "rejected_examples": rejected,
        "integrity_check": integrity,
    }))
}

/// Fills the platform database at `path` with `records` rows as intake
/// would leave them: states, reasons, categories, townships and kiosks in
/// a fixed spread over half a year. The sealed body is a stand-in (a list,
/// a count or a load run never opens a seeded record). Shared by the
/// console's list bench and `load --seed-records`.
pub fn seed_records(path: &Path, records: u32) -> Result<(), crate::DbError> {
    drop(PlatformDb::open(path)?);
    let mut conn = rusqlite::Connection::open(path)?;
    let tx = conn.transaction()?;
    {
        let mut record = tx.prepare(
            "INSERT INTO records (record_id, record_number, kiosk_id, client_cert, township_code, received_at, \
             state, reasons, reviewed_at, reviewed_by, supersedes, body_sha256, sealed, documents_missing, categories, person_key) \
             VALUES (?1, ?2, ?3, 'cert', ?4, ?5, ?6, ?7, NULL, ?8, NULL, 'sha', x'00', ?9, ?10, ?11)",
        )?;
        let mut category = tx.prepare(
            "INSERT INTO record_categories (category, received_at, record_id) VALUES (?1, ?2, ?3)",
        )?;
        let start = chrono::DateTime::parse_from_rfc3339("2026-06-01T00:00:00Z")
            .map_err(|e| crate::DbError::Corrupt(e.to_string()))?;
        // One every 78 s at 200,000, the same half year whatever the count.
        let spacing = 78 * 200_000 / i64::from(records.max(1));
        for i in 0..records {
            let id = format!("{:08x}-0000-4000-8000-{:012x}", i, i);
            let at = (start + chrono::Duration::seconds(i64::from(i) * spacing))
                .with_timezone(&Utc)
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
            let (state, reasons, reviewer) = match i % 20 {
                0 | 1 => (
                    "rejected",
                    Some(
                        r#"[{"code":"county_review","field":"photos.portrait","message":"照片不清晰"}]"#,
                    ),
                    Some("reviewer"),
                ),
                2 => ("superseded", None, Some("reviewer")),
                3..=7 => ("received", None, None),
                _ => ("accepted", None, Some("reviewer")),
            };
            let missing = i % 97 == 0;
            let (state, reasons, reviewer) = if missing {
                (
                    "rejected",
                    Some(r#"[{"code":"document_missing","message":"缺少证件"}]"#),
                    Some("intake-validation"),
                )
            } else {
                (state, reasons, reviewer)
            };
            let first = Category::ALL[(i as usize * 7) % 12];
            let second = (i % 3 == 0).then(|| Category::ALL[(i as usize * 7 + 5) % 12]);
            let slugs = match second {
                Some(second) => format!("{},{}", first.slug(), second.slug()),
                None => first.slug().to_string(),
            };
            record.execute(params![
                id,
                format!("FC-{i:06}"),
                format!("AX-{:02}", i % 50),
                format!("3505241{:02}", i % 20),
                at,
                state,
                reasons,
                reviewer,
                missing,
                slugs,
                seeded_person_key(i),
            ])?;
            category.execute(params![first.slug(), at, id])?;
            if let Some(second) = second {
                category.execute(params![second.slug(), at, id])?;
            }
        }
    }
    tx.commit()?;
    Ok(())
}

/// Seeded person `i`'s key (a stand-in for the keyed hash).
pub fn seeded_person_key(i: u32) -> String {
    format!("{i:064x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_sort_as_the_kiosk_sorts_them() {
        let id = Uuid::nil();
        let body = |a: &UploadAnswer| serde_json::to_vec(a).unwrap();
        let cases = [
            (
                StatusCode::CREATED,
                body(&UploadAnswer::Stored { record_id: id }),
                Attempt::Sent {
                    already_stored: false,
                },
            ),
            (
                StatusCode::OK,
                body(&UploadAnswer::AlreadyStored { record_id: id }),
                Attempt::Sent {
                    already_stored: true,
                },
            ),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                body(&UploadAnswer::Rejected {
                    record_id: id,
                    reasons: vec![kiosk_core::Problem::new("missing", "请填写姓名")],
                }),
                Attempt::Rejected("missing".into()),
            ),
            (
                StatusCode::CONFLICT,
                b"{}".to_vec(),
                Attempt::Retry("conflict"),
            ),
            (
                StatusCode::SERVICE_UNAVAILABLE,
                b"{}".to_vec(),
                Attempt::Retry("server_error"),
            ),
            // A 201 whose body is not the contract's is not taken as stored.
            (
                StatusCode::CREATED,
                b"ok".to_vec(),
                Attempt::Retry("unexpected_status"),
            ),
        ];
        for (status, body, expected) in cases {
            assert_eq!(classify(status, &body), expected, "{status}");
        }
    }

    #[test]
    fn load_records_are_valid_and_each_a_different_person() {
        let template = template().unwrap();
        let mut rng = SplitMix64(7);
        let today = Utc::now().date_naive();
        let mut ids = std::collections::HashSet::new();
        for n in [0, 1, 8999, 9000, 123_456] {
            let (record, blobs) = build_record(&template, "LOAD-0007", n, 300, &mut rng).unwrap();
            assert_eq!(record::problems(&record, today), vec![], "record {n}");
            assert!(ids.insert(record.identity.id_number.clone()));
            assert_eq!(record.meta.kiosk_id, "LOAD-0007");
            // A portrait and three certificate pages, each within the cap.
            assert_eq!(blobs.len(), 4);
            for (_, bytes) in blobs.iter() {
                assert!(
                    (200_000..=300_000).contains(&bytes.len()),
                    "{}",
                    bytes.len()
                );
                assert!(bytes.starts_with(&[0xFF, 0xD8]) && bytes.ends_with(&[0xFF, 0xD9]));
            }
        }
    }

    /// The count fails on a lost record, on other bytes under the same id,
    /// on a record nobody queued, and on one never sent.
    #[test]
    fn the_count_finds_what_is_missing_different_or_extra() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("platform.sqlite3");
        seed_records(&db, 3).unwrap();
        let conn = rusqlite::Connection::open(&db).unwrap();
        let stored = |id: Uuid, sha: &str| {
            conn.execute(
                "INSERT INTO records (record_id, record_number, kiosk_id, client_cert, township_code, received_at, \
                 state, body_sha256, sealed, documents_missing, categories) \
                 VALUES (?1, 'n', 'LOAD-0001', 'cert', '350524100', '2026-12-01T00:00:00.000000Z', 'received', ?2, x'00', 0, '')",
                params![id.to_string(), sha],
            )
            .unwrap();
        };
        let entry = |sha: &str, state: OutboxState| OutboxEntry {
            record_id: Uuid::new_v4(),
            kiosk_id: "LOAD-0001".into(),
            body_sha256: sha.into(),
            state,
        };
        let whole = [entry("a", OutboxState::Sent), entry("b", OutboxState::Sent)];
        for e in &whole {
            stored(e.record_id, &e.body_sha256);
        }
        let count = |outbox: &[OutboxEntry]| {
            let report = reconcile(&db, outbox, outbox.len() as u64, 3).unwrap();
            (
                report["ok"].as_bool().unwrap(),
                report["missing"].as_u64().unwrap(),
                report["extra"].as_u64().unwrap(),
                report["body_differs"].as_u64().unwrap(),
                report["not_sent"].as_u64().unwrap(),
            )
        };
        assert_eq!(count(&whole), (true, 0, 0, 0, 0));
        // A record the kiosk holds that the platform lacks.
        let lost = [
            whole[0].clone(),
            whole[1].clone(),
            entry("c", OutboxState::Sent),
        ];
        assert_eq!(count(&lost), (false, 1, 0, 0, 0));
        // The platform holds other bytes under a kiosk's record id.
        let mut differs = whole.clone();
        differs[1].body_sha256 = "other".into();
        assert_eq!(count(&differs), (false, 0, 0, 1, 0));
        // A record on the platform no outbox queued.
        assert_eq!(count(&whole[..1]), (false, 0, 1, 0, 0));
        // Stored, but the kiosk never heard so.
        let mut unsent = whole.clone();
        unsent[0].state = OutboxState::Queued;
        assert_eq!(count(&unsent), (false, 0, 0, 0, 1));
    }

    #[test]
    fn backoff_grows_to_its_cap_with_jitter() {
        let backoff = Backoff {
            initial: Duration::from_millis(500),
            cap: Duration::from_secs(10),
        };
        let mut rng = SplitMix64(3);
        for (failures, base_ms) in [(1, 500), (2, 1000), (3, 2000), (6, 10_000), (40, 10_000)] {
            let delay = backoff.delay(failures, &mut rng);
            let base = Duration::from_millis(base_ms);
            assert!(delay >= base / 2 && delay <= base, "{failures}: {delay:?}");
        }
    }
}

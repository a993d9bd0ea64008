//! `county-platform …`: serve, review, import the base database, open a record.
//!
//! Every command prints one JSON object on stdout; exit 0 ok, 1 refused
//! (e.g. nothing to review), 2 usage or unreadable input.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use chrono::Utc;
use clap::{Parser, Subcommand};
use serde_json::json;
use uuid::Uuid;

use super::console::auth::{hash_password, Role, Username, MIN_PASSWORD_CHARS};
use super::console::{self, ConsoleConfig, ConsoleState};
use super::{load_identity, start, Faults, PlatformConfig, PlatformDb};
use crate::register::{self, AcceptError};
use crate::sql::DbTarget;
use kiosk_core::id_number::IdNumber;
use kiosk_core::record::Record;
use kiosk_core::Problem;
use trust::pki::{DemoPki, PkiError};
use trust::seal;

#[derive(Parser, Debug)]
#[command(
    name = "county-platform",
    version,
    about = "县级平台（参考实现）：接收、审核终端上传的登记记录"
)]
pub struct Cli {
    /// The platform's database: a SQLite file (the default), or a
    /// PostgreSQL server as `postgres://user@host/dbname`.
    #[arg(
        long,
        global = true,
        env = "COUNTY_PLATFORM_DB",
        default_value = "platform-data/platform.sqlite3"
    )]
    pub db: PathBuf,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the HTTPS API (mutual TLS) until killed.
    Serve(Box<ServeArgs>),
    /// Reviewers: list, accept or reject received records.
    #[command(subcommand)]
    Review(ReviewCommand),
    /// Import people the county already knows (a record, a JSON array of records, or JSON lines).
    /// The entries are sealed under a key derived from the platform's `age` identity.
    ImportBase {
        file: PathBuf,
        /// The platform's `age` identity file (`platform.agekey`).
        #[arg(long, required_unless_present = "pki")]
        age_identity: Option<PathBuf>,
        /// A demo PKI directory (its platform identity).
        #[arg(long)]
        pki: Option<PathBuf>,
    },
    /// Console staff accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Play many kiosks uploading full records at once to a platform this
    /// command starts on loopback with its own database; report latency,
    /// throughput, the platform's memory and a count of every record
    /// (docs/platform-load.md). The global `--db` is not used.
    Load(Box<crate::load::LoadArgs>),
    /// Decrypt a received record and print it (photos summarised).
    Open {
        record_id: Uuid,
        #[arg(long)]
        age_identity: PathBuf,
    },
    /// Move a whole platform into an empty database, e.g. a county's
    /// SQLite file into PostgreSQL: every table, row for row, and the
    /// configuration bundles. `--db` is not used.
    Migrate {
        /// The platform to move (SQLite path or postgres:// URL).
        #[arg(long)]
        from: PathBuf,
        /// The empty database it moves into (created and migrated if new).
        #[arg(long)]
        to: PathBuf,
        /// Where the source keeps its configuration bundles (default:
        /// beside its SQLite file).
        #[arg(long)]
        from_bundles_dir: Option<PathBuf>,
        /// Where the target keeps them (default: beside its SQLite file,
        /// or platform-data/config-bundles for PostgreSQL).
        #[arg(long)]
        to_bundles_dir: Option<PathBuf>,
    },
}

#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    #[arg(long, default_value = "127.0.0.1:8443")]
    pub listen: SocketAddr,
    /// A directory made by `veteran-kiosk pki demo` (sets the four paths below).
    #[arg(long)]
    pub pki: Option<PathBuf>,
    #[arg(long, required_unless_present = "pki")]
    pub cert: Option<PathBuf>,
    #[arg(long, required_unless_present = "pki")]
    pub key: Option<PathBuf>,
    #[arg(long, required_unless_present = "pki")]
    pub client_ca: Option<PathBuf>,
    #[arg(long, required_unless_present = "pki")]
    pub age_identity: Option<PathBuf>,
    /// Administrators' public keys (`ed25519:…` lines, e.g. the `.pub`
    /// files of `veteran-kiosk config keygen`): needed to accept pushes of
    /// configuration bundles.
    #[arg(long)]
    pub admin_keys: Option<PathBuf>,
    /// The county CA's private key (PEM), to enrol kiosks from the console
    /// (default with `--pki`: that directory's CA key). Without it the
    /// console's enrolling is off.
    #[arg(long)]
    pub ca_key: Option<PathBuf>,
    /// Also serve the county staff's web console here (its own HTTPS
    /// listener; no client certificate).
    #[arg(long)]
    pub console_addr: Option<SocketAddr>,
    /// The console's server certificate (default with `--pki`: a demo
    /// certificate issued by the demo CA into that directory).
    #[arg(long, requires = "console_key")]
    pub console_cert: Option<PathBuf>,
    #[arg(long, requires = "console_cert")]
    pub console_key: Option<PathBuf>,
    /// Where published configuration bundles are kept (default: beside the
    /// SQLite file, or platform-data/config-bundles with PostgreSQL).
    #[arg(long)]
    pub bundles_dir: Option<PathBuf>,
}

/// Where a platform on `db` keeps its configuration bundles unless told.
pub fn default_bundles_dir(db: &Path) -> PathBuf {
    match DbTarget::parse(db) {
        DbTarget::Sqlite(path) => crate::config_bundles::registry_dir(&path),
        DbTarget::Postgres(_) => PathBuf::from("platform-data/config-bundles"),
    }
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create a console user (e.g. the first administrator). The password
    /// is read from the first line of standard input unless `--password`
    /// is given (tests, demos).
    Add {
        username: String,
        /// reviewer (审核), admin (管理) or viewer (统计查看)
        #[arg(long)]
        role: String,
        #[arg(long)]
        password: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum ReviewCommand {
    List {
        /// received, accepted, rejected or superseded
        #[arg(long)]
        state: Option<String>,
    },
    /// Accept a record; like the console's 审核通过 it also becomes the
    /// person's entry in the kiosks' look-up base, for which the record is
    /// opened with the platform's `age` identity.
    Accept {
        record_id: Uuid,
        #[arg(long, default_value = "reviewer")]
        reviewer: String,
        /// The platform's `age` identity file (`platform.agekey`).
        #[arg(long, required_unless_present = "pki")]
        age_identity: Option<PathBuf>,
        /// A demo PKI directory (its platform identity).
        #[arg(long)]
        pki: Option<PathBuf>,
    },
    Reject {
        record_id: Uuid,
        /// `CODE[@FIELD]=MESSAGE`, e.g. `photo_unclear@photos.portrait=照片不清晰，请重新拍摄`
        #[arg(long = "reason", required = true)]
        reasons: Vec<String>,
        #[arg(long, default_value = "reviewer")]
        reviewer: String,
    },
}

fn print(value: serde_json::Value) {
    println!("{value}");
}

fn fail(code: &str, message: impl std::fmt::Display) -> ExitCode {
    eprintln!("county-platform: {message}");
    print(json!({"ok": false, "code": code}));
    ExitCode::from(2)
}

/// Parses `CODE[@FIELD]=MESSAGE`.
pub fn parse_reason(text: &str) -> Option<Problem> {
    let (head, message) = text.split_once('=')?;
    let (code, field) = match head.split_once('@') {
        Some((code, field)) => (code, Some(field.trim().to_string())),
        None => (head, None),
    };
    let code = code.trim();
    if code.is_empty() || message.trim().is_empty() {
        return None;
    }
    Some(Problem {
        code: code.to_string(),
        field: field.filter(|f| !f.is_empty()).map(Into::into),
        message: message.trim().to_string(),
        severity: Default::default(),
    })
}

/// Parses a base-database file: a JSON array of records, one record, or
/// one record per line.
pub fn parse_base(text: &str) -> Result<Vec<(IdNumber, Record)>, String> {
    let records: Vec<Record> = if text.trim_start().starts_with('[') {
        serde_json::from_str(text).map_err(|e| format!("not a JSON array of records: {e}"))?
    } else if let Ok(one) = serde_json::from_str::<Record>(text) {
        vec![one]
    } else {
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| serde_json::from_str(l).map_err(|e| format!("line {}: {e}", i + 1)))
            .collect::<Result<_, _>>()?
    };
    records
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            IdNumber::parse_structure(r.identity.id_number.trim())
                .map(|id| (id, r))
                .map_err(|e| format!("record {}: {}", i + 1, e.code()))
        })
        .collect()
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return if matches!(
                err.kind(),
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion
            ) {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            };
        }
    };
    // A SQLite file's directory is made; a PostgreSQL server has none.
    // `load` makes its own database in its work directory.
    let sqlite_dir = match DbTarget::parse(&cli.db) {
        _ if matches!(cli.command, Command::Load(_)) => None,
        DbTarget::Sqlite(path) => path.parent().map(Path::to_path_buf),
        DbTarget::Postgres(_) => None,
    };
    if let Some(dir) = sqlite_dir.filter(|d| !d.as_os_str().is_empty()) {
        if let Err(e) = std::fs::create_dir_all(&dir) {
            return fail("platform_io", format!("{}: {e}", dir.display()));
        }
    }
    match cli.command {
        Command::Serve(args) => serve(&cli.db, *args),
        Command::Load(args) => crate::load::main(*args),
        Command::Review(cmd) => review(&cli.db, cmd),
        Command::User(UserCommand::Add {
            username,
            role,
            password,
        }) => add_user(&cli.db, &username, &role, password),
        Command::ImportBase {
            file,
            age_identity,
            pki,
        } => match platform_identity(age_identity, pki) {
            Ok(identity) => import_base(&cli.db, &file, &identity),
            Err(code) => code,
        },
        Command::Open {
            record_id,
            age_identity,
        } => open(&cli.db, record_id, &age_identity),
        Command::Migrate {
            from,
            to,
            from_bundles_dir,
            to_bundles_dir,
        } => migrate(
            &from,
            &to,
            &from_bundles_dir.unwrap_or_else(|| default_bundles_dir(&from)),
            &to_bundles_dir.unwrap_or_else(|| default_bundles_dir(&to)),
        ),
    }
}

fn migrate(from: &Path, to: &Path, from_bundles: &Path, to_bundles: &Path) -> ExitCode {
    let (from_target, to_target) = (DbTarget::parse(from), DbTarget::parse(to));
    if let DbTarget::Sqlite(path) = &from_target {
        // Opening would create an empty one: a mistyped path is an error.
        if !path.exists() {
            return fail("platform_io", format!("{}: no such file", path.display()));
        }
    }
    let source = match PlatformDb::open_target(&from_target) {
        Ok(db) => db,
        Err(e) => return fail("platform_db", format!("{}: {e}", from_target.describe())),
    };
    let target = match PlatformDb::open_target(&to_target) {
        Ok(db) => db,
        Err(e) => return fail("platform_db", format!("{}: {e}", to_target.describe())),
    };
    let moved = match crate::migrate::migrate(&source, &target) {
        Ok(moved) => moved,
        Err(e) => return fail(e.code(), e),
    };
    let bundles = match crate::migrate::copy_dir(from_bundles, to_bundles) {
        Ok(n) => n,
        Err(e) => return fail(e.code(), e),
    };
    let tables: serde_json::Map<String, serde_json::Value> = moved
        .into_iter()
        .map(|(table, n)| (table.to_string(), json!(n)))
        .collect();
    print(json!({
        "ok": true,
        "from": from_target.describe(),
        "to": to_target.describe(),
        "rows": tables,
        "bundle_files": bundles,
    }));
    ExitCode::SUCCESS
}

fn serve(db: &Path, args: ServeArgs) -> ExitCode {
    let admin_keys = args.admin_keys.clone();
    let ca_key = args.ca_key.clone();
    let console = match console_config(&args) {
        Ok(c) => c,
        Err(e) => return fail(e.code(), e),
    };
    let mut config = match &args.pki {
        Some(dir) => PlatformConfig::demo(dir, db, args.listen),
        None => {
            let demo = DemoPki::at(Path::new("."));
            PlatformConfig {
                listen: args.listen,
                server_cert: args.cert.unwrap_or(demo.server),
                server_key: args.key.unwrap_or(demo.server_key),
                client_ca: args.client_ca.unwrap_or(demo.ca),
                age_identity: args.age_identity.unwrap_or(demo.platform_age_identity),
                db: db.to_path_buf(),
                bundles_dir: None,
                admin_keys: None,
                ca_key: None,
            }
        }
    };
    config.bundles_dir = Some(
        args.bundles_dir
            .clone()
            .unwrap_or_else(|| default_bundles_dir(db)),
    );
    config.admin_keys = admin_keys;
    if ca_key.is_some() {
        config.ca_key = ca_key;
    }
    let running = match start(&config, Arc::new(Faults::default())) {
        Ok(r) => r,
        Err(e) => return fail(e.code(), e),
    };
    let console = match console {
        None => None,
        Some(config) => {
            let state = ConsoleState::new(running.state.clone());
            match console::start(&config, state) {
                Ok(c) => Some(c),
                Err(e) => return fail(e.code(), e),
            }
        }
    };
    let console_url = console.as_ref().map(|c| c.url());
    print(json!({"ok": true, "listening": running.url(), "console": console_url}));
    eprintln!(
        "county-platform: serving on {} (database {})",
        running.url(),
        DbTarget::parse(db).describe()
    );
    if let Some(url) = &console_url {
        eprintln!("county-platform: console on {url}");
    }
    loop {
        std::thread::park();
    }
}

fn console_config(args: &ServeArgs) -> Result<Option<ConsoleConfig>, PkiError> {
    let Some(listen) = args.console_addr else {
        return Ok(None);
    };
    match (&args.console_cert, &args.console_key, &args.pki) {
        (Some(cert), Some(key), _) => Ok(Some(ConsoleConfig {
            listen,
            cert: cert.clone(),
            key: key.clone(),
        })),
        (_, _, Some(dir)) => ConsoleConfig::demo(dir, listen).map(Some),
        _ => Err(PkiError::NoCertificate {
            path: PathBuf::from("--console-cert"),
        }),
    }
}

fn add_user(db: &Path, username: &str, role: &str, password: Option<String>) -> ExitCode {
    let Some(username) = Username::parse(username) else {
        return fail("bad_username", "a user name is 1-32 of a-z 0-9 . _ -");
    };
    let Some(role) = Role::parse(role) else {
        return fail("bad_role", "the role is reviewer, admin or viewer");
    };
    let password = match password {
        Some(p) => p,
        None => {
            let mut line = String::new();
            if let Err(e) = std::io::stdin().read_line(&mut line) {
                return fail("unreadable", format!("standard input: {e}"));
            }
            line.trim_end_matches(['\r', '\n']).to_string()
        }
    };
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return fail(
            "weak_password",
            format!("a password has at least {MIN_PASSWORD_CHARS} characters"),
        );
    }
    let hash = match hash_password(&password) {
        Ok(h) => h,
        Err(e) => return fail("platform_hash", e),
    };
    let db = match PlatformDb::open(db) {
        Ok(db) => db,
        Err(e) => return fail("platform_db", e),
    };
    let now = Utc::now();
    match db.add_console_user(&username, role, &hash, now) {
        Ok(true) => {
            let _ = db.audit("cli", "user_add", None, now);
            print(json!({"ok": true, "user": username.as_str(), "role": role.as_str()}));
            ExitCode::SUCCESS
        }
        Ok(false) => {
            eprintln!("county-platform: user {} exists", username.as_str());
            print(json!({"ok": false, "code": "user_exists"}));
            ExitCode::from(1)
        }
        Err(e) => fail("platform_db", e),
    }
}

fn review(db: &Path, cmd: ReviewCommand) -> ExitCode {
    let db = match PlatformDb::open(db) {
        Ok(db) => db,
        Err(e) => return fail("platform_db", e),
    };
    match cmd {
        ReviewCommand::List { state } => match db.list(state.as_deref()) {
            Ok(list) => {
                print(json!({"ok": true, "records": list}));
                ExitCode::SUCCESS
            }
            Err(e) => fail("platform_db", e),
        },
        ReviewCommand::Accept {
            record_id,
            reviewer,
            age_identity,
            pki,
        } => {
            let identity = match platform_identity(age_identity, pki) {
                Ok(i) => i,
                Err(code) => return code,
            };
            let mut db = db;
            db.use_keys(register::RegisterKeys::from_identity(&identity));
            match register::accept(&mut db, &identity, record_id, &reviewer, Utc::now()) {
                Ok(()) => decided(record_id, "accepted"),
                Err(AcceptError::Db(e)) => refused_decision(record_id, e),
                Err(e @ AcceptError::NotInBase(_)) => {
                    // The decision stands (as in the console); say what is missing.
                    eprintln!("county-platform: {record_id}: {e}");
                    decided(record_id, "accepted")
                }
            }
        }
        ReviewCommand::Reject {
            record_id,
            reasons,
            reviewer,
        } => {
            let parsed: Option<Vec<Problem>> = reasons.iter().map(|r| parse_reason(r)).collect();
            match parsed {
                Some(reasons) => decide(&db, record_id, &reviewer, &reasons),
                None => fail("bad_reason", "a reason must look like CODE[@FIELD]=MESSAGE"),
            }
        }
    }
}

fn decide(db: &PlatformDb, record_id: Uuid, reviewer: &str, rejection: &[Problem]) -> ExitCode {
    match db.review(record_id, reviewer, Some(rejection), Utc::now()) {
        Ok(()) => decided(record_id, "rejected"),
        Err(e) => refused_decision(record_id, e),
    }
}

fn decided(record_id: Uuid, state: &str) -> ExitCode {
    print(json!({"ok": true, "record_id": record_id, "state": state}));
    ExitCode::SUCCESS
}

fn refused_decision(record_id: Uuid, error: super::DbError) -> ExitCode {
    match error {
        e @ (super::DbError::NotFound(_) | super::DbError::NotReviewable(..)) => {
            eprintln!("county-platform: {e}");
            print(json!({"ok": false, "code": "not_reviewable", "record_id": record_id}));
            ExitCode::from(1)
        }
        e => fail("platform_db", e),
    }
}

/// The platform's `age` identity from `--age-identity FILE` or `--pki DIR`.
fn platform_identity(
    age_identity: Option<PathBuf>,
    pki: Option<PathBuf>,
) -> Result<age::x25519::Identity, ExitCode> {
    let Some(path) =
        age_identity.or_else(|| pki.map(|dir| DemoPki::at(&dir).platform_age_identity))
    else {
        return Err(fail("usage", "needs --age-identity or --pki"));
    };
    load_identity(&path).map_err(|e| fail(e.code(), e))
}

fn import_base(db: &Path, file: &Path, identity: &age::x25519::Identity) -> ExitCode {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => return fail("unreadable", format!("{}: {e}", file.display())),
    };
    let people = match parse_base(&text) {
        Ok(p) => p,
        Err(e) => return fail("bad_base", format!("{}: {e}", file.display())),
    };
    let mut db = match PlatformDb::open(db) {
        Ok(db) => db,
        Err(e) => return fail("platform_db", e),
    };
    db.use_keys(register::RegisterKeys::from_identity(identity));
    match db.import_base(&people, Utc::now()) {
        Ok(n) => {
            print(json!({"ok": true, "imported": n}));
            ExitCode::SUCCESS
        }
        Err(e) => fail("platform_db", e),
    }
}

fn open(db: &Path, record_id: Uuid, identity_path: &Path) -> ExitCode {
    let identity = match load_identity(identity_path) {
        Ok(i) => i,
        Err(e) => return fail(e.code(), e),
    };
    let db = match PlatformDb::open(db) {
        Ok(db) => db,
        Err(e) => return fail("platform_db", e),
    };
    let sealed = match db.sealed(record_id) {
        Ok(Some(s)) => s,
        Ok(None) => return fail("not_found", format!("no record {record_id}")),
        Err(e) => return fail("platform_db", e),
    };
    match seal::open::<Record>(&sealed, &identity) {
        Ok((record, blobs)) => {
            let photos: Vec<_> = blobs
                .iter()
                .map(|(k, v)| json!({"sha256": k, "bytes": v.len()}))
                .collect();
            print(json!({"ok": true, "record": record, "photos": photos}));
            ExitCode::SUCCESS
        }
        Err(e) => fail(e.code(), e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;

    #[test]
    fn reasons_parse_or_are_refused() {
        let lines: Vec<String> = [
            "photo_unclear@photos.portrait=照片不清晰，请重新拍摄",
            "income=月收入与在职情况不符",
            "=no code",
            "code_only=",
            "no equals sign",
        ]
        .iter()
        .map(|t| format!("{t:?} -> {:?}", parse_reason(t)))
        .collect();
        expect![[r#"
            "photo_unclear@photos.portrait=照片不清晰，请重新拍摄" -> Some(Problem { code: "photo_unclear", field: Some("photos.portrait"), message: "照片不清晰，请重新拍摄" })
            "income=月收入与在职情况不符" -> Some(Problem { code: "income", field: None, message: "月收入与在职情况不符" })
            "=no code" -> None
            "code_only=" -> None
            "no equals sign" -> None"#]]
        .assert_eq(&lines.join("\n"));
    }
}

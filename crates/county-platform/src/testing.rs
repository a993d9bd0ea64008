//! Databases for the platform's tests, on both engines: a SQLite file in a
//! temporary directory, or a fresh database on a real PostgreSQL server
//! that the test binary starts once, in a temporary directory, as a
//! non-root user (Debian's `postgresql` package: `/usr/lib/postgresql/*/bin`,
//! or `PG_BIN`). A test that needs PostgreSQL and cannot start it fails
//! with the reason; it is never skipped.
//!
//! The server listens only on a unix socket in its directory (trust
//! authentication, `C` collation so text sorts as in SQLite), with fsync
//! off (a test database need not survive a power cut; `PLATFORM_PG_FSYNC=on`
//! turns it on for benchmarks). A watchdog shell
//! stops it and removes the directory when the test binary exits.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test support: a failure is a failing test

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::db::{DbError, PlatformDb};
use crate::sql::DbTarget;

/// A PostgreSQL server of this test process.
pub struct TestServer {
    /// The directory holding the cluster, the socket and the log.
    pub dir: PathBuf,
    pub port: u16,
}

static SERVER: OnceLock<Result<TestServer, String>> = OnceLock::new();
static NEXT: AtomicU32 = AtomicU32::new(0);

fn unique(prefix: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    std::env::temp_dir().join(format!(
        "{prefix}-{}-{}-{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    ))
}

/// The directory of PostgreSQL's programs.
fn pg_bin() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("PG_BIN") {
        return Ok(PathBuf::from(dir));
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|e| format!("no /usr/lib/postgresql ({e}): install Debian's `postgresql` package (scripts/setup.sh) or set PG_BIN"))?
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("bin"))
        .filter(|bin| bin.join("postgres").exists())
        .collect();
    // The newest major version installed.
    found.sort_by_key(|bin| {
        bin.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    found
        .pop()
        .ok_or_else(|| "no PostgreSQL under /usr/lib/postgresql/*/bin: install Debian's `postgresql` package (scripts/setup.sh) or set PG_BIN".into())
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A command run as the `postgres` user when we are root (PostgreSQL
/// refuses to run as root), else as ourselves. `setpriv` execs the program
/// itself, so the child's pid is the server's (the watchdog signals it).
fn as_server_user(program: &Path, root: bool) -> Command {
    if root {
        let mut command = Command::new("setpriv");
        command
            .args([
                "--reuid=postgres",
                "--regid=postgres",
                "--init-groups",
                "--",
            ])
            .arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn start_server() -> Result<TestServer, String> {
    let bin = pg_bin()?;
    let root = running_as_root();
    let dir = unique("platform-pg");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    if root {
        let chowned = Command::new("chown")
            .arg("postgres:postgres")
            .arg(&dir)
            .status()
            .map_err(|e| format!("chown: {e}"))?;
        if !chowned.success() {
            return Err("cannot hand the test directory to the `postgres` user (is there one? Debian's package creates it)".into());
        }
    }
    let data = dir.join("data");
    let log = dir.join("server.log");
    let initdb = as_server_user(&bin.join("initdb"), root)
        .arg("-D")
        .arg(&data)
        .args([
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        ])
        .output()
        .map_err(|e| format!("initdb: {e}"))?;
    if !initdb.status.success() {
        return Err(format!(
            "initdb failed: {}{}",
            String::from_utf8_lossy(&initdb.stdout),
            String::from_utf8_lossy(&initdb.stderr)
        ));
    }
    let port = 5432;
    let log_file = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
    if root {
        let _ = Command::new("chown")
            .arg("postgres:postgres")
            .arg(&log)
            .status();
    }
    // Tests need no durability; a benchmark comparing with SQLite's
    // synchronous=FULL does (PLATFORM_PG_FSYNC=on).
    let durable = match std::env::var("PLATFORM_PG_FSYNC").as_deref() {
        Ok("on") => "on",
        _ => "off",
    };
    let server = as_server_user(&bin.join("postgres"), root)
        .arg("-D")
        .arg(&data)
        .arg("-k")
        .arg(&dir)
        .args([
            "-p",
            &port.to_string(),
            "-c",
            "listen_addresses=",
            "-c",
            &format!("fsync={durable}"),
            "-c",
            &format!("synchronous_commit={durable}"),
            "-c",
            &format!("full_page_writes={durable}"),
            "-c",
            "max_connections=200",
        ])
        .stdin(Stdio::null())
        .stdout(log_file.try_clone().map_err(|e| e.to_string())?)
        .stderr(log_file)
        .spawn()
        .map_err(|e| format!("cannot start postgres: {e}"))?;
    // Stops the server and removes its directory once this process is gone
    // (a test binary never runs destructors of statics).
    let _ = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "while kill -0 {me} 2>/dev/null; do sleep 1; done; kill -INT {pg} 2>/dev/null; \
             for i in 1 2 3 4 5 6 7 8 9 10; do kill -0 {pg} 2>/dev/null || break; sleep 1; done; \
             rm -rf '{dir}'",
            me = std::process::id(),
            pg = server.id(),
            dir = dir.display()
        ))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let server = TestServer { dir, port };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match crate::sql::postgres::PostgresBackend::connect(&server.url("postgres")) {
            Ok(_) => return Ok(server),
            Err(e) if Instant::now() > deadline => {
                return Err(format!(
                    "PostgreSQL did not answer within a minute ({e}); its log:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                ))
            }
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

impl TestServer {
    /// The URL of database `name` on this server (over its unix socket).
    pub fn url(&self, name: &str) -> String {
        let socket_dir = self.dir.display().to_string().replace('/', "%2F");
        format!("postgresql://postgres@{socket_dir}:{}/{name}", self.port)
    }
}

/// The test process's PostgreSQL server, started on first use; panics with
/// the reason if it cannot be started.
pub fn server() -> &'static TestServer {
    match SERVER.get_or_init(start_server) {
        Ok(server) => server,
        Err(why) => panic!("this test needs a PostgreSQL server and none could be started: {why}"),
    }
}

/// The two engines a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// One empty platform database for one test: a SQLite file in a temporary
/// directory, or a new database on the test server. The directory (also
/// for anything else the test keeps beside it) is removed when dropped.
pub struct TestDb {
    pub engine: Engine,
    /// A temporary directory for the test, on both engines.
    pub dir: PathBuf,
    target: DbTarget,
}

impl TestDb {
    pub fn new(engine: Engine) -> TestDb {
        let dir = unique("platform-test");
        std::fs::create_dir_all(&dir).unwrap();
        let target = match engine {
            Engine::Sqlite => DbTarget::Sqlite(dir.join("platform.sqlite3")),
            Engine::Postgres => {
                let server = server();
                let name = format!(
                    "t{}_{}",
                    std::process::id(),
                    NEXT.fetch_add(1, Ordering::SeqCst)
                );
                let admin = crate::sql::postgres::PostgresBackend::connect(&server.url("postgres"))
                    .unwrap_or_else(|e| panic!("the test PostgreSQL server: {e}"));
                crate::sql::Backend::execute_batch(&admin, &format!("CREATE DATABASE {name}"))
                    .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
                DbTarget::Postgres(server.url(&name))
            }
        };
        TestDb {
            engine,
            dir,
            target,
        }
    }

    /// What `--db` / `PlatformConfig::db` takes for this database.
    pub fn db_arg(&self) -> PathBuf {
        match &self.target {
            DbTarget::Sqlite(path) => path.clone(),
            DbTarget::Postgres(url) => PathBuf::from(url),
        }
    }

    pub fn target(&self) -> &DbTarget {
        &self.target
    }

    /// Opens (again) the database, as the platform does at start.
    pub fn open(&self) -> Result<PlatformDb, DbError> {
        PlatformDb::open_target(&self.target)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `both_engines!(name, body)`: the test `body(engine)` as `name::sqlite`
/// and `name::postgres`.
#[macro_export]
macro_rules! both_engines {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[test]
            fn sqlite() {
                ($body)($crate::testing::Engine::Sqlite)
            }
            #[test]
            fn postgres() {
                ($body)($crate::testing::Engine::Postgres)
            }
        }
    };
}

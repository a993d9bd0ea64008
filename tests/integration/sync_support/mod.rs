//! Shared by the sync integration tests: a demo PKI, the real platform on
//! loopback, demo records, and a fault-injecting TCP proxy.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use chrono::Utc;
use county_platform::{self as platform, Faults, PlatformConfig, RunningPlatform};
use kiosk_core::record::{self, Record};
use trust::pki::DemoPki;
use trust::seal;
use veteran_kiosk::cli::demo::{allowed_selections, generate, DemoOptions, PhotoPool};
use veteran_kiosk::store::{Blobs, Store};
use veteran_kiosk::sync::client::{ClientSettings, PlatformClient};

pub struct World {
    pub dir: tempfile::TempDir,
    pub pki: DemoPki,
    pub platform: RunningPlatform,
    pub faults: Arc<Faults>,
}

impl World {
    pub fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let pki = DemoPki::generate(&dir.path().join("pki"), "AX-FC-01").unwrap();
        let faults = Arc::new(Faults::default());
        let config = PlatformConfig::demo(
            &pki.dir,
            &dir.path().join("platform.sqlite3"),
            "127.0.0.1:0".parse().unwrap(),
        );
        let platform = platform::start(&config, faults.clone()).unwrap();
        World {
            dir,
            pki,
            platform,
            faults,
        }
    }

    pub fn outbox_path(&self) -> PathBuf {
        self.dir.path().join("kiosk").join("outbox.sqlite3")
    }

    pub fn store(&self) -> Store {
        std::fs::create_dir_all(self.dir.path().join("kiosk")).unwrap();
        Store::open(&self.outbox_path()).unwrap()
    }

    pub fn recipient(&self) -> age::x25519::Recipient {
        seal::parse_recipient(&std::fs::read_to_string(&self.pki.platform_age_recipient).unwrap())
            .unwrap()
    }

    pub fn identity(&self) -> age::x25519::Identity {
        seal::parse_identity(&std::fs::read_to_string(&self.pki.platform_age_identity).unwrap())
            .unwrap()
    }

    pub fn settings(&self, url: &str) -> ClientSettings {
        let mut s = ClientSettings::demo(&self.pki.dir, url).unwrap();
        s.connect_timeout = Duration::from_secs(2);
        s.request_timeout = Duration::from_secs(3);
        s
    }

    pub fn client(&self) -> PlatformClient {
        PlatformClient::new(&self.settings(&self.platform.url())).unwrap()
    }

    /// The record ids the platform holds, each once (the primary key).
    pub fn platform_records(&self) -> Vec<platform::db::Received> {
        self.platform.state.db().list(None).unwrap()
    }
}

/// `n` valid demo records with their photos.
pub fn demo_records(n: usize, seed: u64) -> Vec<(Record, Blobs)> {
    let options = DemoOptions {
        seed,
        kiosk_id: "AX-FC-01".into(),
        now: Utc::now(),
    };
    let selections = allowed_selections();
    let mut pool = PhotoPool::default();
    (0..n)
        .map(|i| generate(i * 13, &selections, &options, &mut pool))
        .collect()
}

pub fn enqueue_all(
    store: &mut Store,
    records: &[(Record, Blobs)],
    recipient: &age::x25519::Recipient,
) {
    for (r, blobs) in records {
        let valid = record::validate(r, Utc::now().date_naive()).unwrap();
        store.enqueue(&valid, blobs, recipient).unwrap();
    }
}

/// What the proxy does to each new connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyMode {
    Pass,
    /// Forward this many bytes from the client, then reset both sides.
    ResetAfter(u64),
    /// Accept and read, never forward or answer.
    Blackhole,
}

/// A TCP proxy on loopback in front of the platform that injects faults.
pub struct FaultProxy {
    pub addr: SocketAddr,
    pub mode: Arc<Mutex<ProxyMode>>,
    pub connections: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

fn reset(stream: &TcpStream) {
    // SO_LINGER 0: close with RST rather than FIN.
    let _ = socket2::SockRef::from(stream).set_linger(Some(Duration::ZERO));
    let _ = stream.shutdown(Shutdown::Both);
}

impl FaultProxy {
    pub fn start(target: SocketAddr) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mode = Arc::new(Mutex::new(ProxyMode::Pass));
        let connections = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        {
            let (mode, connections, stop) = (mode.clone(), connections.clone(), stop.clone());
            thread::spawn(move || {
                for client in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(client) = client else { continue };
                    connections.fetch_add(1, Ordering::SeqCst);
                    let mode = *mode.lock().unwrap();
                    thread::spawn(move || handle(client, target, mode));
                }
            });
        }
        FaultProxy {
            addr,
            mode,
            connections,
            stop,
        }
    }

    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    pub fn set(&self, mode: ProxyMode) {
        *self.mode.lock().unwrap() = mode;
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

fn handle(mut client: TcpStream, target: SocketAddr, mode: ProxyMode) {
    if mode == ProxyMode::Blackhole {
        let mut sink = [0u8; 16 * 1024];
        let _ = client.set_read_timeout(Some(Duration::from_secs(30)));
        while matches!(client.read(&mut sink), Ok(n) if n > 0) {}
        return;
    }
    let Ok(server) = TcpStream::connect(target) else {
        reset(&client);
        return;
    };
    let limit = match mode {
        ProxyMode::ResetAfter(n) => Some(n),
        _ => None,
    };
    let (mut c_read, mut s_write) = (client.try_clone().unwrap(), server.try_clone().unwrap());
    let (mut s_read, mut c_write) = (server.try_clone().unwrap(), client.try_clone().unwrap());
    let upstream = thread::spawn(move || {
        let mut buf = [0u8; 8 * 1024];
        let mut sent = 0u64;
        loop {
            let n = match c_read.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let n = match limit {
                Some(l) if sent + n as u64 >= l => {
                    let part = (l - sent) as usize;
                    let _ = s_write.write_all(&buf[..part]);
                    reset(&c_read);
                    reset(&s_write);
                    return;
                }
                _ => n,
            };
            if s_write.write_all(&buf[..n]).is_err() {
                break;
            }
            sent += n as u64;
        }
        let _ = s_write.shutdown(Shutdown::Write);
    });
    let mut buf = [0u8; 8 * 1024];
    loop {
        match s_read.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if c_write.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = c_write.shutdown(Shutdown::Write);
    let _ = upstream.join();
}

pub fn path_str(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// Runs the real `veteran-kiosk` binary; its exit code and the JSON object
/// on its last line of output (`null` when there is none).
pub fn kiosk(args: &[&str]) -> (i32, serde_json::Value) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_veteran-kiosk"))
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let json = serde_json::from_str(stdout.lines().last().unwrap_or("null"))
        .unwrap_or(serde_json::Value::Null);
    (output.status.code().unwrap_or(-1), json)
}

//! `kill -9` at random moments while a kiosk applies bundles leaves either
//! the old or the new configuration whole, never a mixture.
//!
//! The parent test starts this same test binary as a child that applies
//! bundle after bundle in a loop (confirming most, failing some at start so
//! rollbacks are hit too) and kills it with SIGKILL at a random moment, over
//! and over. After every kill it checks, as a restarting kiosk would, that
//! the store opens, that the configuration in force and the last-known-good
//! are byte-for-byte what was signed, and that nothing half-written is left.

use crate::config_support;

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use trust::bundle::{self, Bundle, BundlePath, Target};
use veteran_kiosk::config::apply::ConfigStore;

use config_support::*;

const ROOT_VAR: &str = "CONFIG_CRASH_CHILD_ROOT";
const FACTORY_VAR: &str = "CONFIG_CRASH_CHILD_FACTORY";
const KILLS: usize = 36;
/// Big enough that writing it takes a while: kills land mid-write.
const BIG_FILE_BYTES: usize = 192 * 1024;

fn title(version: u64) -> String {
    if version == 0 {
        SHIPPED_TITLE.to_string()
    } else {
        format!("第{version}版配置")
    }
}

fn big_file(version: u64) -> Vec<u8> {
    let line = format!("version {version:010} ");
    line.bytes().cycle().take(BIG_FILE_BYTES).collect()
}

/// The bundle of `version`: its title and a big file say which it is.
fn bundle_for(version: u64, factory: &Path) -> Vec<u8> {
    let mut files: BTreeMap<BundlePath, Vec<u8>> = bundle::read_dir(factory).unwrap();
    let toml_path = BundlePath::parse("kiosk.toml").unwrap();
    let text = String::from_utf8(files[&toml_path].clone()).unwrap();
    let text = text.replace(
        &format!("campaign_title = \"{SHIPPED_TITLE}\""),
        &format!("campaign_title = \"{}\"", title(version)),
    );
    files.insert(toml_path, text.into_bytes());
    files.insert(
        BundlePath::parse("notes/padding.txt").unwrap(),
        big_file(version),
    );
    Bundle::sign(files, version, Target::All, &admin())
        .unwrap()
        .to_bytes()
}

/// The child: apply forever (until killed).
#[test]
#[ignore = "the child process of kill_9_during_apply_leaves_old_or_new_whole"]
fn apply_loop_child() {
    let (Ok(root), Ok(factory)) = (std::env::var(ROOT_VAR), std::env::var(FACTORY_VAR)) else {
        return;
    };
    let (root, factory) = (PathBuf::from(root), PathBuf::from(factory));
    let mut store = ConfigStore::open(&root, &factory).unwrap();
    let mut config = store.begin_start().unwrap().config;
    // The parent times its kills from these lines.
    println!("ready");
    loop {
        let version = store.highest_tried() + 1;
        let accepted = store
            .accept(&bundle_for(version, &factory), &config)
            .unwrap();
        if version % 5 == 0 {
            store
                .report_start_failure("simulated start failure")
                .unwrap();
            config = store.load().unwrap();
        } else {
            store.confirm_started().unwrap();
            config = accepted.config;
        }
        println!("applied {version}");
    }
}

/// xorshift64*: enough randomness for kill moments, no extra crate.
struct Rng(u64);

impl Rng {
    fn seeded() -> Rng {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64;
        Rng(nanos | 1)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

/// The child's stdout, line by line, from a reader thread.
fn child_lines(child: &mut std::process::Child) -> mpsc::Receiver<String> {
    let stdout = child.stdout.take().unwrap();
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            // libtest prints its own lines around the test's, and "test
            // apply_loop_child ... " just before the first one.
            let line = if line.ends_with("ready") {
                "ready".to_string()
            } else {
                line
            };
            if (line == "ready" || line.starts_with("applied ")) && send.send(line).is_err() {
                break;
            }
        }
    });
    receive
}

fn leftovers(root: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("staging-") || name.ends_with(".tmp"))
        .collect()
}

#[test]
fn kill_9_during_apply_leaves_old_or_new_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let factory = factory_copy(tmp.path(), "factory");
    let root = tmp.path().join("store");
    let mut rng = Rng::seeded();
    let started = Instant::now();
    let mut caught_mid_write = 0;
    let mut apply_time: Option<Duration> = None;
    for kill in 0..KILLS {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "config_crash::apply_loop_child",
                "--exact",
                "--ignored",
                "--test-threads=1",
                "--nocapture",
            ])
            .env(ROOT_VAR, &root)
            .env(FACTORY_VAR, &factory)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = child_lines(&mut child);
        // Wait until the child runs its loop, then kill it at a random
        // moment within about two applies (timed from earlier lives), so
        // that a slow machine is hit mid-apply as often as a fast one.
        let ready = lines.recv_timeout(Duration::from_secs(60));
        assert_eq!(
            ready.as_deref(),
            Ok("ready"),
            "kill {kill}: the child did not start"
        );
        let window = apply_time.map_or(200, |t: Duration| 2 * t.as_millis() as u64);
        let life = Instant::now();
        std::thread::sleep(Duration::from_millis(1 + rng.below(window.max(2))));
        if let Some(status) = child.try_wait().unwrap() {
            let output = child.wait_with_output().unwrap();
            panic!(
                "kill {kill}: the child stopped by itself ({status}): {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let applies = lines
            .try_iter()
            .filter(|l| l.starts_with("applied"))
            .count() as u32;
        if applies > 0 {
            apply_time = Some(life.elapsed() / applies);
        }

        // What the kill left, before any recovery.
        if !leftovers(&root).is_empty() {
            caught_mid_write += 1;
        }
        let peeked = ConfigStore::peek(&root).unwrap();

        // A restarting kiosk: open (sweeps), then everything must be whole.
        let store = ConfigStore::open(&root, &factory).unwrap();
        if let Some(report) = peeked {
            assert_eq!(report.version, store.in_force().version, "kill {kill}");
        }
        for installed in [store.in_force(), store.last_known_good()] {
            store
                .verify_installed(installed)
                .unwrap_or_else(|err| panic!("kill {kill}: {err}"));
        }
        let config = store.load().unwrap();
        let version = store.in_force().version;
        assert_eq!(config.texts.campaign_title, title(version), "kill {kill}");
        if version > 0 {
            let padding = std::fs::read(store.active_dir().join("notes/padding.txt")).unwrap();
            assert_eq!(padding, big_file(version), "kill {kill}");
        }
        assert!(leftovers(&root).is_empty(), "kill {kill}: not swept");
        let mut kept: Vec<String> = std::fs::read_dir(root.join("versions"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        kept.sort();
        let mut expected = vec![
            store.in_force().dir.clone(),
            store.last_known_good().dir.clone(),
        ];
        expected.sort();
        expected.dedup();
        assert_eq!(kept, expected, "kill {kill}");
    }
    let store = ConfigStore::open(&root, &factory).unwrap();
    eprintln!(
        "{KILLS} kills in {:?}; reached version {}; {caught_mid_write} kills left a half-written file; an apply took {apply_time:?}",
        started.elapsed(),
        store.highest_tried()
    );
    // The kills must have landed among applies, not only during start-up.
    assert!(store.highest_tried() >= KILLS as u64 / 3, "too few applies");
    assert!(
        caught_mid_write > 0,
        "no kill landed in the middle of a write"
    );
}

//! Fuzzing of every parser that takes outside input (docs/fuzzing.md).
//!
//! A mutation driver on stable Rust: each target starts from a seed
//! corpus of real inputs, and every further input is a deterministic
//! mutation (byte havoc, dictionary words, structure-aware JSON/TOML/zip
//! edits) chosen by (run seed, target, iteration), so a failure found in a
//! long run is made again with `parser-fuzz repro`. Each input runs under
//! `catch_unwind`; a watchdog thread stops the run when one input takes
//! longer than the time limit (a hang) or the process' resident memory
//! passes the RSS limit (unbounded memory), and writes that input out.
//!
//! Why not cargo-fuzz: libFuzzer needs a nightly compiler and
//! `-Zsanitizer` instrumentation; CI builds on stable only, and the long
//! runs share two cores with everything else. The driver here builds with
//! the workspace and runs in `cargo test` too.

pub mod mutate;
pub mod targets;

use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Once;
use std::time::{Duration, Instant};

use mutate::{mix, Rng};

/// One parser (or a chain: parse, then what the program does next with
/// the value), fed inputs by the driver.
pub trait Target: Sync {
    /// Short name, used on the command line and in file names.
    fn name(&self) -> &'static str;
    /// Real inputs to start from; each is also run as is.
    fn seeds(&self) -> &[Vec<u8>];
    /// A new input. The default is byte havoc of a seed.
    fn generate(&self, rng: &mut Rng) -> Vec<u8>;
    /// Feed one input. Must not panic: a panic is a crash. Properties the
    /// parser promises (round trips) are checked with `assert!` here.
    fn run(&self, input: &[u8]);
}

/// How one run goes.
#[derive(Debug, Clone)]
pub struct Settings {
    pub seed: u64,
    /// Generated inputs, after the seeds.
    pub inputs: u64,
    /// Longest one input may take before it is called a hang.
    pub time_limit: Duration,
    /// Largest resident set of the process before the run is stopped.
    pub rss_limit_bytes: u64,
    /// Where failing inputs are written.
    pub artifacts: PathBuf,
}

/// A panic, with the input that caused it.
#[derive(Debug, Clone)]
pub struct Crash {
    pub iteration: u64,
    pub message: String,
    pub artifact: Option<PathBuf>,
}

/// What one run did.
#[derive(Debug, Clone)]
pub struct Report {
    pub target: &'static str,
    /// Inputs run, seeds included.
    pub inputs: u64,
    pub crashes: Vec<Crash>,
    pub elapsed: Duration,
    /// Slowest single input.
    pub slowest: Duration,
}

impl Report {
    pub fn per_second(&self) -> f64 {
        self.inputs as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// The input of `iteration`: a seed, then generated ones.
pub fn input_at(target: &dyn Target, seed: u64, iteration: u64) -> Vec<u8> {
    let seeds = target.seeds();
    match seeds.get(iteration as usize) {
        Some(s) => s.clone(),
        None => target.generate(&mut Rng::new(mix(seed, target.name(), iteration))),
    }
}

thread_local! {
    /// Set while a fuzz input runs: the panic hook keeps the message here
    /// instead of printing millions of lines.
    static CAPTURE: RefCell<Option<String>> = const { RefCell::new(None) };
}

fn install_panic_hook() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let captured = CAPTURE.with(|c| {
                let mut c = c.borrow_mut();
                match c.as_mut() {
                    Some(slot) => {
                        *slot = info.to_string();
                        true
                    }
                    None => false,
                }
            });
            if !captured {
                default(info);
            }
        }));
    });
}

/// Run one input under `catch_unwind`; the panic's message and place if it
/// panicked.
pub fn run_one(target: &dyn Target, input: &[u8]) -> Result<(), String> {
    install_panic_hook();
    CAPTURE.with(|c| *c.borrow_mut() = Some(String::new()));
    let outcome = catch_unwind(AssertUnwindSafe(|| target.run(input)));
    let message = CAPTURE.with(|c| c.borrow_mut().take()).unwrap_or_default();
    outcome.map_err(|_| message)
}

/// The process' resident set, from /proc (0 where there is none).
pub fn rss_bytes() -> u64 {
    proc_status_kib("VmRSS:") * 1024
}

/// The process' peak resident set so far.
pub fn peak_rss_bytes() -> u64 {
    proc_status_kib("VmHWM:") * 1024
}

fn proc_status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// Write a failing input where the report says.
pub fn write_artifact(
    dir: &Path,
    target: &str,
    seed: u64,
    iteration: u64,
    kind: &str,
    input: &[u8],
) -> Option<PathBuf> {
    std::fs::create_dir_all(dir).ok()?;
    let path = dir.join(format!("{target}-{kind}-seed{seed}-iter{iteration}.bin"));
    std::fs::write(&path, input).ok()?;
    Some(path)
}

/// Stop the whole process: a hang or runaway memory cannot be unwound.
fn give_up(
    target: &dyn Target,
    settings: &Settings,
    iteration: u64,
    kind: &str,
    detail: &str,
) -> ! {
    let input = input_at(target, settings.seed, iteration);
    let path = write_artifact(
        &settings.artifacts,
        target.name(),
        settings.seed,
        iteration,
        kind,
        &input,
    );
    eprintln!(
        "parser-fuzz: {kind} in target {} at iteration {iteration} (seed {}): {detail}; input written to {}",
        target.name(),
        settings.seed,
        path.map(|p| p.display().to_string()).unwrap_or_else(|| "(could not write)".into())
    );
    std::process::exit(if kind == "hang" { 3 } else { 4 });
}

/// Run the seeds and `settings.inputs` generated inputs through `target`.
pub fn run(target: &dyn Target, settings: &Settings) -> Report {
    let seeds = target.seeds().len() as u64;
    let total = seeds + settings.inputs;
    let current = AtomicU64::new(0);
    // Milliseconds since `start` at which the current input began, +1 (0: idle).
    let began = AtomicU64::new(0);
    let finished = AtomicBool::new(false);
    let start = Instant::now();
    let mut crashes: Vec<Crash> = Vec::new();
    let mut slowest = Duration::ZERO;
    std::thread::scope(|scope| {
        scope.spawn(|| {
            while !finished.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(25));
                let at = began.load(Ordering::Relaxed);
                if at > 0 {
                    let running = start.elapsed().as_millis() as u64 - (at - 1);
                    if running > settings.time_limit.as_millis() as u64 {
                        let iteration = current.load(Ordering::Relaxed);
                        give_up(
                            target,
                            settings,
                            iteration,
                            "hang",
                            &format!("one input ran {running} ms"),
                        );
                    }
                }
                let rss = rss_bytes();
                if rss > settings.rss_limit_bytes {
                    let iteration = current.load(Ordering::Relaxed);
                    give_up(
                        target,
                        settings,
                        iteration,
                        "memory",
                        &format!("resident set {} MiB", rss >> 20),
                    );
                }
            }
        });
        for iteration in 0..total {
            let input = input_at(target, settings.seed, iteration);
            current.store(iteration, Ordering::Relaxed);
            let t0 = Instant::now();
            began.store(start.elapsed().as_millis() as u64 + 1, Ordering::Relaxed);
            let outcome = run_one(target, &input);
            began.store(0, Ordering::Relaxed);
            slowest = slowest.max(t0.elapsed());
            if let Err(message) = outcome {
                // Keep a few inputs per distinct failure, count them all.
                let place = |m: &str| m.lines().next().unwrap_or_default().to_string();
                let same = crashes
                    .iter()
                    .filter(|c| place(&c.message) == place(&message))
                    .count();
                let artifact = (same < 3)
                    .then(|| {
                        write_artifact(
                            &settings.artifacts,
                            target.name(),
                            settings.seed,
                            iteration,
                            "crash",
                            &input,
                        )
                    })
                    .flatten();
                crashes.push(Crash {
                    iteration,
                    message,
                    artifact,
                });
            }
        }
        finished.store(true, Ordering::Relaxed);
    });
    Report {
        target: target.name(),
        inputs: total,
        crashes,
        elapsed: start.elapsed(),
        slowest,
    }
}

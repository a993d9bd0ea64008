//! `parser-fuzz`: the long fuzzing runs (docs/fuzzing.md).
//!
//! `parser-fuzz run --target all --inputs 1000000` runs each target's seeds
//! and that many generated inputs, and prints one JSON line per target.
//! `parser-fuzz repro --target T --seed S --iteration N` writes the input
//! a report names; `parser-fuzz replay --target T FILE` runs one file.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use parser_fuzz::{input_at, peak_rss_bytes, run, run_one, targets, Settings};

#[derive(Parser)]
#[command(name = "parser-fuzz", about = "Fuzz the parsers of outside input")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run targets: their seeds, then generated inputs.
    Run {
        /// A target name (see `list`) or `all`.
        #[arg(long, default_value = "all")]
        target: String,
        /// Generated inputs per target (after the seeds).
        #[arg(long, default_value_t = 100_000)]
        inputs: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// One input taking longer than this is a hang.
        #[arg(long, default_value_t = 10_000)]
        time_limit_ms: u64,
        /// The process' resident set above this stops the run.
        #[arg(long, default_value_t = 2048)]
        rss_limit_mb: u64,
        #[arg(long, default_value = "target/fuzz-artifacts")]
        artifacts: PathBuf,
    },
    /// Write the input of one iteration (as a report names it) to a file.
    Repro {
        #[arg(long)]
        target: String,
        #[arg(long)]
        seed: u64,
        #[arg(long)]
        iteration: u64,
        out: PathBuf,
    },
    /// Run one input file through a target.
    Replay {
        #[arg(long)]
        target: String,
        file: PathBuf,
    },
    /// The target names.
    List,
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::List => {
            for name in targets::NAMES {
                println!("{name}");
            }
            ExitCode::SUCCESS
        }
        Command::Repro {
            target,
            seed,
            iteration,
            out,
        } => {
            let Some(t) = targets::build(&target) else {
                eprintln!("unknown target `{target}`");
                return ExitCode::from(2);
            };
            match std::fs::write(&out, input_at(t.as_ref(), seed, iteration)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(err) => {
                    eprintln!("cannot write {}: {err}", out.display());
                    ExitCode::from(2)
                }
            }
        }
        Command::Replay { target, file } => {
            let Some(t) = targets::build(&target) else {
                eprintln!("unknown target `{target}`");
                return ExitCode::from(2);
            };
            let input = match std::fs::read(&file) {
                Ok(i) => i,
                Err(err) => {
                    eprintln!("cannot read {}: {err}", file.display());
                    return ExitCode::from(2);
                }
            };
            match run_one(t.as_ref(), &input) {
                Ok(()) => {
                    println!("ok");
                    ExitCode::SUCCESS
                }
                Err(message) => {
                    println!("panic: {message}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Run {
            target,
            inputs,
            seed,
            time_limit_ms,
            rss_limit_mb,
            artifacts,
        } => {
            let names: Vec<&str> = if target == "all" {
                targets::NAMES.to_vec()
            } else {
                target.split(',').collect()
            };
            let settings = Settings {
                seed,
                inputs,
                time_limit: Duration::from_millis(time_limit_ms),
                rss_limit_bytes: rss_limit_mb << 20,
                artifacts,
            };
            let mut failed = false;
            for name in names {
                let Some(t) = targets::build(name) else {
                    eprintln!("unknown target `{name}`");
                    return ExitCode::from(2);
                };
                let report = run(t.as_ref(), &settings);
                let crashes: Vec<serde_json::Value> = report
                    .crashes
                    .iter()
                    .take(20)
                    .map(|c| {
                        serde_json::json!({
                            "iteration": c.iteration,
                            "message": c.message,
                            "artifact": c.artifact.as_ref().map(|p| p.display().to_string()),
                        })
                    })
                    .collect();
                failed |= !report.crashes.is_empty();
                println!(
                    "{}",
                    serde_json::json!({
                        "target": report.target,
                        "seed": seed,
                        "inputs": report.inputs,
                        "crashes": report.crashes.len(),
                        "seconds": (report.elapsed.as_secs_f64() * 10.0).round() / 10.0,
                        "inputs_per_second": report.per_second().round(),
                        "slowest_input_ms": report.slowest.as_millis() as u64,
                        "peak_rss_mib": peak_rss_bytes() >> 20,
                        "first_crashes": crashes,
                    })
                );
            }
            if failed {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
    }
}

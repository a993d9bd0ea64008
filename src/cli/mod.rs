//! The command line: `veteran-kiosk check …` and friends.
//!
//! Each subcommand prints one JSON object on stdout. Exit codes are shared:
//! 0 = ok, 1 = the input has problems, 2 = usage error or unreadable input
//! (with a message on stderr).

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub mod check;
pub mod config;
pub mod demo;
pub mod photo;
pub mod pki;
pub mod queue;
pub mod receipt;
pub mod sync;

#[derive(Parser, Debug)]
#[command(
    name = "veteran-kiosk",
    version,
    about = "退役军人和其他优抚对象信息采集自助终端"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the kiosk fullscreen (what `veteran-kiosk` with no arguments does).
    Run(RunArgs),
    /// Check an input against the county's rules and print JSON.
    #[command(subcommand)]
    Check(check::CheckCommand),
    /// Administrators' keys, signed configuration bundles, the configuration in force.
    #[command(subcommand)]
    Config(config::ConfigCommand),
    /// The outbox: queue a record, list, count, show (clear part only).
    Queue {
        #[command(flatten)]
        data: queue::DataDir,
        #[command(subcommand)]
        command: queue::QueueCommand,
    },
    /// Send queued records to the county platform (mutual TLS).
    Sync(sync::SyncArgs),
    /// Certificates and keys.
    #[command(subcommand)]
    Pki(pki::PkiCommand),
    /// Synthetic data for demos, training and load tests.
    #[command(subcommand)]
    Demo(demo::DemoCommand),
    /// The receipt of a record: ESC/POS bytes (--out) or a text preview (--text).
    Receipt(receipt::ReceiptArgs),
    /// Photo tools: make a standard portrait.
    #[command(subcommand)]
    Photo(photo::PhotoCommand),
}

/// Where the running kiosk keeps its configuration and data.
#[derive(clap::Args, Debug, Clone)]
pub struct RunArgs {
    /// The configuration store (versions in force, last-known-good).
    #[arg(long, env = "VETERAN_KIOSK_CONFIG_ROOT", default_value = config::DEFAULT_STORE_ROOT)]
    pub config_root: std::path::PathBuf,
    /// The configuration the kiosk shipped with (installed the first time).
    #[arg(long, env = "VETERAN_KIOSK_FACTORY", default_value = config::DEFAULT_FACTORY_DIR)]
    pub factory: std::path::PathBuf,
    /// Outbox, drafts' key and audit log.
    #[arg(long, env = "VETERAN_KIOSK_DATA", default_value = "kiosk-data")]
    pub data: std::path::PathBuf,
}

impl RunArgs {
    pub fn paths(&self) -> crate::kiosk::boot::KioskPaths {
        crate::kiosk::boot::KioskPaths {
            config_root: self.config_root.clone(),
            factory: self.factory.clone(),
            data: self.data.clone(),
        }
    }
}

fn run_kiosk(args: Option<RunArgs>) -> ExitCode {
    let args = match args {
        Some(args) => args,
        // No arguments: the defaults, with the environment's overrides.
        None => match Cli::try_parse_from(["veteran-kiosk", "run"]) {
            Ok(Cli {
                command: Some(Command::Run(args)),
            }) => args,
            _ => return Outcome::UsageOrUnreadable.into(),
        },
    };
    match crate::kiosk::run_fullscreen(&args.paths()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("the kiosk could not start: {err}");
            Outcome::UsageOrUnreadable.into()
        }
    }
}

/// Exit status shared by every subcommand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Problems,
    UsageOrUnreadable,
}

impl From<Outcome> for ExitCode {
    fn from(outcome: Outcome) -> ExitCode {
        match outcome {
            Outcome::Ok => ExitCode::SUCCESS,
            Outcome::Problems => ExitCode::from(1),
            Outcome::UsageOrUnreadable => ExitCode::from(2),
        }
    }
}

/// English logs to standard error (the journal under systemd); `RUST_LOG`
/// chooses how much, `info` by default.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

pub fn main() -> ExitCode {
    init_logging();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let is_help = matches!(
                err.kind(),
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion
            );
            let _ = err.print();
            return if is_help {
                ExitCode::SUCCESS
            } else {
                Outcome::UsageOrUnreadable.into()
            };
        }
    };
    match cli.command {
        Some(Command::Check(cmd)) => check::run(cmd).into(),
        Some(Command::Config(cmd)) => config::run(cmd).into(),
        Some(Command::Queue { data, command }) => queue::run(command, &data).into(),
        Some(Command::Sync(args)) => sync::run(args).into(),
        Some(Command::Pki(cmd)) => pki::run(cmd).into(),
        Some(Command::Demo(cmd)) => demo::run(cmd).into(),
        Some(Command::Receipt(args)) => receipt::run(args).into(),
        Some(Command::Photo(cmd)) => photo::run(cmd).into(),
        Some(Command::Run(args)) => run_kiosk(Some(args)),
        None => run_kiosk(None),
    }
}

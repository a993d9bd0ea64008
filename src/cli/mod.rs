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

pub fn main() -> ExitCode {
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
        None => match crate::kiosk::run_fullscreen() {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("the kiosk could not start: {err}");
                Outcome::UsageOrUnreadable.into()
            }
        },
    }
}

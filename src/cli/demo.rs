//! `veteran-kiosk demo records <N> --out <DIR>`.

use std::path::PathBuf;

use clap::Subcommand;

use super::Outcome;

#[derive(Subcommand, Debug)]
pub enum DemoCommand {
    Records {
        count: usize,
        #[arg(long)]
        out: PathBuf,
    },
}

pub fn run(_cmd: DemoCommand) -> Outcome {
    Outcome::UsageOrUnreadable
}

//! `veteran-kiosk check …`: run one of the core checkers and print JSON.

use clap::Subcommand;

use super::Outcome;

#[derive(Subcommand, Debug)]
pub enum CheckCommand {
    /// A resident ID number (GB 11643).
    Id { id: String },
    /// A portrait photo file against the photo standard.
    Photo {
        file: std::path::PathBuf,
        #[command(flatten)]
        model: super::photo::ModelArg,
    },
}

pub fn run(cmd: CheckCommand) -> Outcome {
    match cmd {
        CheckCommand::Id { id: _ } => Outcome::UsageOrUnreadable,
        CheckCommand::Photo { file, model } => super::photo::check(&file, &model),
    }
}

//! `veteran-kiosk pki demo <DIR>`: demo certificates and keys (see `trust::pki`).

use std::path::PathBuf;

use clap::Subcommand;
use serde_json::json;

use super::Outcome;
use trust::pki::DemoPki;

#[derive(Subcommand, Debug)]
pub enum PkiCommand {
    /// Make a demo county CA, server and kiosk certificates, test
    /// certificates (expired, another CA) and the platform's age key pair.
    Demo {
        dir: PathBuf,
        /// The kiosk's id, the common name of its client certificate.
        #[arg(long, default_value = "kiosk-demo-01")]
        kiosk_id: String,
    },
}

pub fn run(cmd: PkiCommand) -> Outcome {
    match cmd {
        PkiCommand::Demo { dir, kiosk_id } => match DemoPki::generate(&dir, &kiosk_id) {
            Ok(pki) => {
                println!("{}", json!({"ok": true, "files": pki}));
                Outcome::Ok
            }
            Err(e) => {
                eprintln!("veteran-kiosk: {e}");
                println!(
                    "{}",
                    json!({"ok": false, "code": e.code(), "message": e.message_zh()})
                );
                Outcome::UsageOrUnreadable
            }
        },
    }
}

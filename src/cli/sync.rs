//! `veteran-kiosk sync [--once]`: send queued records to the county platform
//! over mutual TLS and poll their review.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{mpsc, Mutex};
use std::time::Duration;

use chrono::Utc;
use clap::Args;
use serde_json::json;

use super::queue::DataDir;
use super::Outcome;
use crate::sync::client::{
    parse_platform_url, ClientError, ClientIdentity, ClientSettings, PlatformClient,
};
use crate::sync::core::RetryPolicy;
use crate::sync::worker;
use trust::pki::DemoPki;

#[derive(Args, Debug)]
pub struct SyncArgs {
    #[command(flatten)]
    pub data: DataDir,
    /// One pass: upload what is queued, poll reviews, exit (0 when nothing is left to send).
    #[arg(long)]
    pub once: bool,
    /// The platform, e.g. `https://127.0.0.1:8443`.
    #[arg(long, env = "VETERAN_KIOSK_PLATFORM")]
    pub platform: String,
    /// A directory made by `pki demo` (sets --ca, --cert and --key).
    #[arg(long)]
    pub pki: Option<PathBuf>,
    #[arg(long, required_unless_present = "pki")]
    pub ca: Option<PathBuf>,
    #[arg(long, required_unless_present = "pki")]
    pub cert: Option<PathBuf>,
    #[arg(long, required_unless_present = "pki")]
    pub key: Option<PathBuf>,
    /// Seconds allowed for one request.
    #[arg(long, default_value_t = 120)]
    pub timeout: u64,
}

impl SyncArgs {
    /// The files named, the demo PKI's (`--pki`, else this directory)
    /// for any not named, read and parsed.
    pub fn settings(&self) -> Result<ClientSettings, ClientError> {
        let demo = DemoPki::at(self.pki.as_deref().unwrap_or(std::path::Path::new(".")));
        let ca = self.ca.as_ref().unwrap_or(&demo.ca);
        let cert = self.cert.as_ref().unwrap_or(&demo.kiosk);
        let key = self.key.as_ref().unwrap_or(&demo.kiosk_key);
        let request_timeout = Duration::from_secs(self.timeout.max(1));
        Ok(ClientSettings {
            platform_url: parse_platform_url(&self.platform)?,
            identity: ClientIdentity::from_files(ca, cert, key)?,
            connect_timeout: request_timeout.min(Duration::from_secs(10)),
            request_timeout,
        })
    }
}

pub fn run(args: SyncArgs) -> Outcome {
    let client = match args
        .settings()
        .and_then(|settings| PlatformClient::new(&settings))
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("veteran-kiosk: {e}");
            println!(
                "{}",
                json!({"ok": false, "code": e.code(), "message": e.message_zh()})
            );
            return Outcome::UsageOrUnreadable;
        }
    };
    let mut store = match args.data.open_store() {
        Ok(s) => s,
        Err(o) => return o,
    };
    let policy = RetryPolicy::default();
    if args.once {
        return match worker::run_once(&mut store, &client, &policy, &Utc::now) {
            Ok(report) => {
                let done = report.pending == 0;
                // Why the records still wait, in the words staff read.
                let message = report.last_failure.as_ref().map(|f| f.message_zh());
                println!(
                    "{}",
                    json!({"ok": done, "report": report, "message": message})
                );
                if done {
                    Outcome::Ok
                } else {
                    Outcome::Problems
                }
            }
            Err(e) => {
                eprintln!("veteran-kiosk: {e}");
                println!(
                    "{}",
                    json!({"ok": false, "code": e.code(), "message": e.message_zh()})
                );
                Outcome::UsageOrUnreadable
            }
        };
    }
    // Long-running: until the process is stopped.
    let stop = AtomicBool::new(false);
    let (_wake, woken) = mpsc::channel();
    let status = Mutex::new(worker::SyncReport::default());
    eprintln!("veteran-kiosk: sync worker running");
    match worker::run_forever(&mut store, &client, &policy, &stop, &woken, &status) {
        Ok(()) => Outcome::Ok,
        Err(e) => {
            eprintln!("veteran-kiosk: {e}");
            Outcome::UsageOrUnreadable
        }
    }
}

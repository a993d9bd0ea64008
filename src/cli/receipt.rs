//! `veteran-kiosk receipt <RECORD.json> --out <FILE>`: the receipt of a
//! record as ESC/POS bytes (staff reprints, tests inspect), or `--text` for
//! a plain-text preview on stdout.
//!
//! The record must pass validation (as of the day it was last changed,
//! China time, unless `--today` says otherwise): only a valid record gets a
//! receipt. The print time is `--at`, else when the receipt was first
//! printed (from the signature), else now.

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use clap::Args;
use serde_json::json;

use super::Outcome;
use crate::receipt;
use kiosk_core::record::{self, Record};

#[derive(Args, Debug)]
pub struct ReceiptArgs {
    /// The record (JSON).
    pub record: PathBuf,
    /// Write the ESC/POS bytes here.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print a plain-text preview on stdout instead of the JSON summary.
    #[arg(long)]
    pub text: bool,
    /// Print time (RFC 3339), e.g. 2026-11-30T10:31:00+08:00.
    #[arg(long)]
    pub at: Option<String>,
    /// Validate as of this date (YYYY-MM-DD).
    #[arg(long)]
    pub today: Option<String>,
    /// Paper width in millimetres: 58 or 80.
    #[arg(long, default_value = "58")]
    pub paper: String,
}

fn unreadable(what: &Path, why: impl std::fmt::Display) -> Outcome {
    eprintln!("error: cannot read {}: {why}", what.display());
    Outcome::UsageOrUnreadable
}

fn usage(message: impl std::fmt::Display) -> Outcome {
    eprintln!("error: {message}");
    Outcome::UsageOrUnreadable
}

pub fn run(args: ReceiptArgs) -> Outcome {
    let text = match std::fs::read_to_string(&args.record) {
        Ok(text) => text,
        Err(err) => return unreadable(&args.record, err),
    };
    let record: Record = match serde_json::from_str(&text) {
        Ok(record) => record,
        Err(err) => return unreadable(&args.record, format_args!("not a valid record: {err}")),
    };
    let today = match &args.today {
        Some(day) => match NaiveDate::parse_from_str(day, "%Y-%m-%d") {
            Ok(day) => day,
            Err(_) => return usage(format_args!("--today {day:?} is not YYYY-MM-DD")),
        },
        None => kiosk_core::time::china_date(record.meta.updated_at),
    };
    let printed_at: DateTime<Utc> = match &args.at {
        Some(at) => match DateTime::parse_from_rfc3339(at) {
            Ok(at) => at.with_timezone(&Utc),
            Err(_) => return usage(format_args!("--at {at:?} is not an RFC 3339 time")),
        },
        None => record
            .signature
            .as_ref()
            .map(|signature| signature.receipt_printed_at)
            .unwrap_or_else(Utc::now),
    };
    let Some(paper) = receipt::Paper::parse_mm(&args.paper) else {
        return usage(format_args!("--paper {:?} is not 58 or 80", args.paper));
    };
    let valid = match record::validate(&record, today) {
        Ok(valid) => valid,
        Err(problems) => {
            println!(
                "{}",
                json!({"ok": false, "problems": problems, "record_id": record.meta.record_id})
            );
            return Outcome::Problems;
        }
    };
    let layout = receipt::build(&valid, printed_at);
    let bytes = match receipt::to_escpos(&layout, paper) {
        Ok(bytes) => bytes,
        Err(err) => return usage(err),
    };
    if let Some(out) = &args.out {
        if let Err(err) = std::fs::write(out, &bytes) {
            return usage(format_args!("cannot write {}: {err}", out.display()));
        }
    }
    if args.text {
        print!("{}", receipt::to_text(&layout, paper));
    } else {
        println!(
            "{}",
            json!({
                "ok": true,
                "problems": [],
                "record_id": record.meta.record_id,
                "record_number": crate::store::record_number(&record.meta.record_id),
                "digest": receipt::content_digest(&record),
                "qr": receipt::qr_payload(&record),
                "bytes": bytes.len(),
                "out": args.out,
            })
        );
    }
    Outcome::Ok
}

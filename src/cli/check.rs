//! `veteran-kiosk check …`: run one of the core checkers and print JSON.
//!
//! This is an edge: it reads files and the clock, then hands typed values to
//! the pure core and prints what comes back.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use clap::{Args, Subcommand};
use serde_json::{json, Value};

use super::Outcome;
use kiosk_core::card::{self, CardRead};
use kiosk_core::category::{self, Category};
use kiosk_core::classified;
use kiosk_core::id_number::IdNumber;
use kiosk_core::record::{self, Record};
use kiosk_core::Problem;

#[derive(Subcommand, Debug)]
pub enum CheckCommand {
    /// A resident ID number (GB 11643): structure, region, birth date, check digit.
    Id {
        id: String,
        #[command(flatten)]
        today: Today,
    },
    /// A selection of categories: comma-separated codes 1–12 or slugs.
    Categories { list: String },
    /// Free text: refuses military unit designations (classified).
    Text { text: String },
    /// A registration record as JSON.
    Record {
        file: PathBuf,
        #[command(flatten)]
        today: Today,
    },
    /// A GA 467 response frame of a card read, or a bare 256-byte text block.
    Card {
        file: PathBuf,
        #[command(flatten)]
        today: Today,
    },
    /// A portrait photo file against the photo standard.
    Photo {
        file: std::path::PathBuf,
        #[command(flatten)]
        model: super::photo::ModelArg,
    },
}

/// The date the check is made on; defaults to today's local date.
#[derive(Args, Debug, Clone)]
pub struct Today {
    /// Check as of this date (YYYY-MM-DD) instead of today.
    #[arg(long = "today", value_parser = parse_date)]
    date: Option<NaiveDate>,
}

impl Today {
    fn resolve(&self) -> NaiveDate {
        self.date
            .unwrap_or_else(|| kiosk_core::time::china_date(chrono::Utc::now()))
    }
}

fn parse_date(text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| format!("not a date (YYYY-MM-DD): {text}"))
}

pub fn run(cmd: CheckCommand) -> Outcome {
    match cmd {
        CheckCommand::Id { id, today } => check_id(&id, today.resolve()),
        CheckCommand::Categories { list } => check_categories(&list),
        CheckCommand::Text { text } => check_text(&text),
        CheckCommand::Record { file, today } => check_record(&file, today.resolve()),
        CheckCommand::Card { file, today } => check_card(&file, today.resolve()),
        CheckCommand::Photo { file, model } => super::photo::check(&file, &model),
    }
}

/// Print `{ok, problems, ...extra}` and pick the exit status.
fn report(problems: &[Problem], extra: Value) -> Outcome {
    let mut out = json!({ "ok": problems.is_empty(), "problems": problems });
    if let (Some(out), Value::Object(extra)) = (out.as_object_mut(), extra) {
        out.extend(extra);
    }
    println!("{out}");
    if problems.is_empty() {
        Outcome::Ok
    } else {
        Outcome::Problems
    }
}

fn unreadable(what: &Path, why: impl std::fmt::Display) -> Outcome {
    eprintln!("error: cannot read {}: {why}", what.display());
    Outcome::UsageOrUnreadable
}

fn check_id(input: &str, today: NaiveDate) -> Outcome {
    match IdNumber::parse(input, today) {
        Ok(id) => report(
            &[],
            json!({
                "birth_date": id.birth_date().format("%Y-%m-%d").to_string(),
                "sex": id.sex(),
                "region_code": id.region_code(),
            }),
        ),
        Err(err) => report(
            &[Problem::new(err.code(), err.message_zh()).at("id_number")],
            json!({}),
        ),
    }
}

fn category_json(c: Category) -> Value {
    json!({ "code": c.code(), "slug": c.slug(), "name": c.name_zh() })
}

fn check_categories(list: &str) -> Outcome {
    let chosen = match category::parse_list(list) {
        Ok(chosen) => chosen,
        Err(err) => {
            return report(
                &[Problem::new(err.code(), err.message_zh()).at("categories")],
                json!({}),
            )
        }
    };
    let problems: Vec<Problem> = category::check_selection(&chosen)
        .iter()
        .map(|v| v.to_problem())
        .collect();
    report(
        &problems,
        json!({ "categories": chosen.iter().map(|c| category_json(*c)).collect::<Vec<_>>() }),
    )
}

fn check_text(text: &str) -> Outcome {
    let hits = classified::scan(text);
    let problems = classified::check_text("text", text);
    let hits: Vec<Value> = hits
        .iter()
        .map(|h| {
            // Character offsets: what a person (or a UI) counts, not bytes.
            let start = text.get(..h.span.start).map_or(0, |s| s.chars().count());
            json!({
                "text": h.text,
                "kind": h.kind.code(),
                "start": start,
                "end": start + h.text.chars().count(),
            })
        })
        .collect();
    report(&problems, json!({ "hits": hits }))
}

fn check_record(file: &Path, today: NaiveDate) -> Outcome {
    let text = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(err) => return unreadable(file, err),
    };
    let record: Record = match serde_json::from_str(&text) {
        Ok(record) => record,
        Err(err) => return unreadable(file, format_args!("not a valid record: {err}")),
    };
    let problems = record::problems(&record, today);
    report(
        &problems,
        json!({ "record_id": record.meta.record_id, "state": record.meta.state }),
    )
}

fn check_card(file: &Path, today: NaiveDate) -> Outcome {
    let bytes = match std::fs::read(file) {
        Ok(bytes) => bytes,
        Err(err) => return unreadable(file, err),
    };
    match card::decode_card_input(&bytes, today) {
        Ok(read) => report(&[], card_json(&read)),
        Err(err) => report(
            &[Problem::new(err.code(), err.message_zh()).at("card")],
            json!({}),
        ),
    }
}

fn card_json(read: &CardRead) -> Value {
    let t = &read.text;
    json!({
        "name": t.name,
        "sex": t.sex,
        "nation_code": t.nation.code_str(),
        "nation": t.nation.name_zh(),
        "birth_date": t.birth_date.format("%Y-%m-%d").to_string(),
        "address": t.address,
        "id_number": t.id_number.as_str(),
        "authority": t.authority,
        "valid_from": t.valid_from.format("%Y-%m-%d").to_string(),
        "valid_to": record::valid_to_text(t.valid_to),
        "photo_bytes": read.photo_wlt.len(),
    })
}

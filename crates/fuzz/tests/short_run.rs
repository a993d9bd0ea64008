//! The short run CI makes: every target over its seed corpus and a few
//! thousand mutations, in seconds. The long runs are scripts/fuzz-long.sh.

use std::time::Duration;

use parser_fuzz::{run, targets, Settings};

fn short_run(name: &str, inputs: u64) {
    let Some(target) = targets::build(name) else {
        panic!("unknown target {name}");
    };
    assert!(!target.seeds().is_empty(), "{name} has no seeds");
    let artifacts = std::env::temp_dir().join("parser-fuzz-short-run");
    let report = run(
        target.as_ref(),
        &Settings {
            seed: 20261206,
            inputs,
            time_limit: Duration::from_secs(30),
            rss_limit_bytes: 4 << 30,
            artifacts,
        },
    );
    assert_eq!(report.inputs, target.seeds().len() as u64 + inputs);
    assert!(
        report.crashes.is_empty(),
        "{name}: {} crashes, first: {:?}",
        report.crashes.len(),
        report.crashes.first()
    );
}

#[test]
fn card() {
    short_run("card", 5000);
}

#[test]
fn kiosk_toml() {
    short_run("kiosk_toml", 2000);
}

#[test]
fn config_bundle() {
    short_run("config_bundle", 2000);
}

#[test]
fn intake() {
    short_run("intake", 2000);
}

#[test]
fn console_forms() {
    short_run("console_forms", 5000);
}

#[test]
fn import_csv() {
    short_run("import_csv", 5000);
}

#[test]
fn import_xlsx() {
    short_run("import_xlsx", 1000);
}

#[test]
fn wire_bodies() {
    short_run("wire_bodies", 5000);
}

#[test]
fn every_target_is_tested_here() {
    let this = include_str!("short_run.rs");
    for name in targets::NAMES {
        assert!(
            this.contains(&format!("fn {name}()")),
            "no short run for {name}"
        );
    }
}

#[test]
fn a_panicking_input_is_caught_and_counted() {
    struct Fragile;
    impl parser_fuzz::Target for Fragile {
        fn name(&self) -> &'static str {
            "fragile"
        }
        fn seeds(&self) -> &[Vec<u8>] {
            &[]
        }
        fn generate(&self, rng: &mut parser_fuzz::mutate::Rng) -> Vec<u8> {
            vec![rng.below(4) as u8]
        }
        fn run(&self, input: &[u8]) {
            assert_ne!(input, [3], "three");
        }
    }
    let report = run(
        &Fragile,
        &Settings {
            seed: 1,
            inputs: 400,
            time_limit: Duration::from_secs(30),
            rss_limit_bytes: 4 << 30,
            artifacts: std::env::temp_dir().join("parser-fuzz-self-test"),
        },
    );
    assert!(
        (50..200).contains(&report.crashes.len()),
        "{}",
        report.crashes.len()
    );
    assert!(
        report.crashes[0].message.contains("three"),
        "{}",
        report.crashes[0].message
    );
    assert!(report.crashes[0].artifact.is_some());
}

//! The pure domain stays pure: checked from outside the code.
//!
//! - Its resolved dependency tree (normal dependencies only, as `cargo
//!   metadata` resolves them) holds no UI, database, network, inference,
//!   async runtime or camera crate.
//! - Its code (comments aside) neither reads a clock nor does IO. The list
//!   of sans-IO places is data: other pure parts of the workspace are added
//!   to [`SANS_IO_PLACES`].

// Test code: a panic is a failing test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// Crates kiosk-core must never depend on, by name; a trailing `*` matches
/// every name that starts with what precedes it.
const FORBIDDEN_CRATES: &[(&str, &str)] = &[
    ("slint*", "the UI toolkit"),
    ("i-slint-*", "the UI toolkit's parts"),
    ("rusqlite", "the local database"),
    ("reqwest", "the HTTP client"),
    ("tract-*", "the photo coach's inference"),
    ("tokio", "an async runtime"),
    ("nokhwa", "the camera"),
    ("axum", "the county server"),
    ("hyper", "HTTP"),
];

/// Places (relative to the workspace root) whose code must not read a clock
/// or do IO, with why. Add the sans-IO sync core and the photo coach here.
const SANS_IO_PLACES: &[(&str, &str)] = &[
    (
        "crates/kiosk-core/src",
        "the pure domain: time is passed in, effects are returned",
    ),
    (
        "crates/wire/src",
        "the HTTP contract: types both sides compile, nothing that runs",
    ),
    (
        "src/sync/core.rs",
        "the sans-IO uploader: next_task/on_upload take `now`, the worker does the IO",
    ),
    (
        "src/backoff.rs",
        "the one back-off: time and randomness are passed in",
    ),
    (
        "src/photo/coach.rs",
        "the live photo coach: frames and their times are passed in",
    ),
];

/// What a clock read or IO looks like in code.
const FORBIDDEN_CODE: &[(&str, &str)] = &[
    ("Utc::now", "reads the clock"),
    ("Local::now", "reads the clock"),
    ("SystemTime::now", "reads the clock"),
    ("Instant::now", "reads the clock"),
    ("std::fs", "file IO"),
    ("std::net", "network IO"),
    ("std::process", "starts processes"),
    ("std::thread::sleep", "waits on the clock"),
    ("thread::sleep", "waits on the clock"),
    ("File::", "file IO"),
];

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn workspace_root() -> PathBuf {
    crate_dir().join("../..")
}

fn is_forbidden_crate(name: &str) -> Option<&'static str> {
    FORBIDDEN_CRATES.iter().find_map(|(pattern, why)| {
        let hit = match pattern.strip_suffix('*') {
            Some(prefix) => name.starts_with(prefix),
            None => name == *pattern,
        };
        hit.then_some(*why)
    })
}

/// Every package kiosk-core pulls in through normal dependencies, by name.
fn normal_dependency_names() -> BTreeSet<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1"])
        .current_dir(crate_dir())
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: Value = serde_json::from_slice(&output.stdout).expect("cargo metadata is JSON");

    let own_manifest = crate_dir().join("Cargo.toml").canonicalize().unwrap();
    let packages = metadata["packages"].as_array().expect("packages");
    let name_of: HashMap<&str, &str> = packages
        .iter()
        .map(|p| (p["id"].as_str().unwrap(), p["name"].as_str().unwrap()))
        .collect();
    let own_id = packages
        .iter()
        .find(|p| {
            p["name"] == "kiosk-core"
                && Path::new(p["manifest_path"].as_str().unwrap())
                    .canonicalize()
                    .is_ok_and(|path| path == own_manifest)
        })
        .and_then(|p| p["id"].as_str())
        .expect("kiosk-core is in the metadata");
    let nodes: HashMap<&str, &Value> = metadata["resolve"]["nodes"]
        .as_array()
        .expect("resolve.nodes")
        .iter()
        .map(|n| (n["id"].as_str().unwrap(), n))
        .collect();

    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut to_visit = vec![own_id];
    while let Some(id) = to_visit.pop() {
        let Some(node) = nodes.get(id) else { continue };
        for dep in node["deps"].as_array().into_iter().flatten() {
            // `kind` is null for a normal dependency ("dev", "build" else).
            let normal = dep["dep_kinds"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|k| k["kind"].is_null());
            let dep_id = dep["pkg"].as_str().unwrap();
            if normal && seen.insert(dep_id) {
                to_visit.push(dep_id);
            }
        }
    }
    seen.into_iter().map(|id| name_of[id].to_string()).collect()
}

#[test]
fn the_dependency_tree_holds_no_io_crate() {
    let names = normal_dependency_names();
    // The walk must have found something, or it checked nothing.
    assert!(
        names.contains("serde") && names.contains("chrono"),
        "{names:?}"
    );
    let forbidden: Vec<String> = names
        .iter()
        .filter_map(|name| is_forbidden_crate(name).map(|why| format!("{name} ({why})")))
        .collect();
    assert!(
        forbidden.is_empty(),
        "kiosk-core must stay pure, but depends on: {forbidden:?}"
    );
}

#[test]
fn the_forbidden_crate_patterns_match_what_they_should() {
    for name in [
        "slint",
        "i-slint-core",
        "tract-onnx",
        "tokio",
        "hyper",
        "rusqlite",
    ] {
        assert!(is_forbidden_crate(name).is_some(), "{name}");
    }
    for name in ["serde", "chrono", "argon2", "uuid", "thiserror"] {
        assert!(is_forbidden_crate(name).is_none(), "{name}");
    }
}

/// `source` without its comments (`//…` to the end of the line, `/* … */`),
/// with strings and chars kept as they are, so doc comments may name what
/// the code must not do.
fn without_comments(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    let chars: Vec<char> = source.chars().collect();
    let mut i = 0;
    let mut in_string = false;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if in_string {
            out.push(c);
            if c == '\\' {
                if let Some(n) = next {
                    out.push(n);
                    i += 1;
                }
            } else if c == '"' {
                in_string = false;
            }
            i += 1;
        } else if c == '\'' && next == Some('"') && chars.get(i + 2) == Some(&'\'') {
            // The char literal '"' opens no string.
            out.extend(['\'', '"', '\'']);
            i += 3;
        } else if c == '"' {
            in_string = true;
            out.push(c);
            i += 1;
        } else if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            i += 2;
            while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                i += 1;
            }
            i += 2;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

/// Each forbidden pattern in the code of `path`, as `path:line: pattern
/// (why)` with the path relative to the workspace root.
fn findings(path: &Path) -> Vec<String> {
    let shown = path.strip_prefix(workspace_root()).unwrap_or(path);
    let source = std::fs::read_to_string(path).unwrap();
    let code = without_comments(&source);
    let mut out = Vec::new();
    for (number, line) in code.lines().enumerate() {
        for (pattern, why) in FORBIDDEN_CODE {
            if line.contains(pattern) {
                out.push(format!(
                    "{}:{}: {pattern} ({why})",
                    shown.display(),
                    number + 1
                ));
            }
        }
    }
    out
}

#[test]
fn sans_io_code_reads_no_clock_and_does_no_io() {
    let mut problems = Vec::new();
    for (place, why) in SANS_IO_PLACES {
        let path = workspace_root().join(place);
        let mut files = Vec::new();
        if path.is_dir() {
            rust_files(&path, &mut files);
        } else {
            files.push(path.clone());
        }
        assert!(!files.is_empty(), "{place}: no Rust files found");
        for file in files {
            for finding in findings(&file) {
                problems.push(format!("{finding}; {place} is {why}"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_tidy_check_sees_code_but_not_comments() {
    let source = r#"
        //! Never call `Utc::now()` here.
        /* nor std::fs */
        let url = "http://example.invalid"; // a string with // inside
        let quote = '"'; // std::net
        let now = Utc::now();
    "#;
    let code = without_comments(source);
    assert!(!code.contains("std::fs") && !code.contains("std::net"));
    assert_eq!(code.matches("Utc::now").count(), 1);
    assert!(code.contains("\"http://example.invalid\""));
}

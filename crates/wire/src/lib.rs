//! The county platform's HTTP contract (docs/platform-api.md), shared by
//! the kiosk (the client) and the county platform (the server): the bodies
//! each side sends, the error body and its codes, header names, limits, and
//! the sealed-record format inside the `age` envelope.
//!
//! Plain data and serde only. This crate must never depend on an HTTP
//! stack, a runtime, a database or a crypto library (no tokio, axum,
//! reqwest, rusqlite, age), nor on the kiosk or platform packages: both
//! sides compile it, and a change here is a change of the contract.

use serde::{Deserialize, Serialize};

pub mod config;
pub mod records;
pub mod sealed;

/// The largest sealed record accepted (a record with every photo at its
/// cap is well under this).
pub const MAX_UPLOAD_BYTES: usize = 32 * 1024 * 1024;
/// The most ids one review query may ask about.
pub const MAX_REVIEW_IDS: usize = 1000;
/// Header with the kiosk's printed record number (informational).
pub const RECORD_NUMBER_HEADER: &str = "x-record-number";
/// Header a kiosk may send on any request: how many signed records wait in
/// its outbox (a decimal count). Informational, for the county's kiosk
/// registry; a platform that does not know it ignores it.
pub const KIOSK_BACKLOG_HEADER: &str = "x-kiosk-backlog";

/// A refusal's JSON body: `{"status": "error", "code", "message"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Always `"error"`.
    pub status: String,
    /// One of [`error_code`], or a parse error's own code.
    pub code: String,
    pub message: String,
}

impl ErrorBody {
    pub fn new(code: &str, message: &str) -> ErrorBody {
        ErrorBody {
            status: "error".to_string(),
            code: code.to_string(),
            message: message.to_string(),
        }
    }
}

/// The `code` values of [`ErrorBody`] the platform answers with.
pub mod error_code {
    /// 500: something broke on the platform.
    pub const INTERNAL: &str = "internal";
    /// 503: try again later.
    pub const UNAVAILABLE: &str = "unavailable";
    /// 400: the body or query is not what the route takes.
    pub const BAD_REQUEST: &str = "bad_request";
    /// 400: the record id in the path is not a UUID.
    pub const BAD_RECORD_ID: &str = "bad_record_id";
    /// 409: the same record id was uploaded before with other bytes.
    pub const RECORD_CONFLICT: &str = "record_conflict";
    /// 413: more than [`crate::MAX_REVIEW_IDS`] ids in one review query.
    pub const TOO_MANY_IDS: &str = "too_many_ids";
    /// 403: the client certificate names another kiosk.
    pub const KIOSK_CERTIFICATE_MISMATCH: &str = "kiosk_certificate_mismatch";
    /// 503: the platform takes no configuration pushes (no admin keys).
    pub const NO_ADMIN_KEYS: &str = "no_admin_keys";
    /// 403: the county revoked this kiosk (or its certificate); every
    /// request is refused until the kiosk is enrolled again under a new id.
    pub const KIOSK_REVOKED: &str = "kiosk_revoked";
}

#[cfg(test)]
mod tests {
    /// The names under `[dependencies]` in this crate's manifest.
    fn direct_dependencies(manifest: &str) -> Vec<&str> {
        manifest
            .split("\n[")
            .find(|section| section.starts_with("dependencies]"))
            .map(|section| {
                section
                    .lines()
                    .skip(1)
                    .filter_map(|line| line.split(['=', '.']).next())
                    .map(str::trim)
                    .filter(|name| !name.is_empty() && !name.starts_with('#'))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Both sides compile the contract: it stays plain data, and a new
    /// dependency has to be argued for here.
    #[test]
    fn the_contract_depends_on_plain_data_crates_only() {
        let mut names = direct_dependencies(include_str!("../Cargo.toml"));
        names.sort_unstable();
        assert_eq!(
            names,
            ["chrono", "kiosk-core", "serde", "serde_json", "uuid"]
        );
    }
}

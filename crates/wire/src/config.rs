//! Configuration bundles between the kiosk, the administrator and the
//! platform (docs/config.md):
//!
//! - `PUT  /v1/config/bundles`            a signed bundle; answer [`Published`]
//! - `GET  /v1/config/bundles/newest`     [`NewestQuery`]; 200 with the bundle, or 204
//! - `POST /v1/config/reports`            a [`KioskConfigReport`]; 204
//! - `GET  /v1/config/kiosks`             [`KiosksAnswer`]
//!
//! The bundle's own format is in the `trust` crate (it is signed).

use chrono::{DateTime, Utc};
use kiosk_core::kiosk::{parse_township_code, KioskId, KioskIdentity};
use serde::{Deserialize, Serialize};

/// `?kiosk=<id>&township=<code>&after=<version>`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewestQuery {
    pub kiosk: KioskId,
    pub township: String,
    pub after: u64,
}

impl NewestQuery {
    /// Parses a query string (`application/x-www-form-urlencoded`); any
    /// unknown key, or a value that does not parse, refuses the whole query.
    pub fn parse(query: &str) -> Option<NewestQuery> {
        let (mut kiosk, mut township, mut after) = (None, None, Some(0));
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = form_decode(value);
            match form_decode(key).as_str() {
                "kiosk" => kiosk = KioskId::parse(&value).ok(),
                "township" => township = parse_township_code(&value).ok(),
                "after" => after = value.parse::<u64>().ok(),
                _ => return None,
            }
        }
        Some(NewestQuery {
            kiosk: kiosk?,
            township: township?,
            after: after?,
        })
    }

    pub fn to_query(&self) -> String {
        format!(
            "kiosk={}&township={}&after={}",
            form_encode(self.kiosk.as_str()),
            form_encode(&self.township),
            self.after
        )
    }
}

/// `application/x-www-form-urlencoded` encoding of one value.
fn form_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(char::from(byte))
            }
            b' ' => out.push('+'),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

/// Decodes one form-encoded key or value: `+` is a space, `%XX` a byte;
/// a `%` not followed by two hex digits stays as it is, and bytes that are
/// not UTF-8 become U+FFFD (as browsers and the `url` crate do).
fn form_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        let hex_pair = bytes
            .get(i + 1..i + 3)
            .and_then(|pair| std::str::from_utf8(pair).ok())
            .and_then(|pair| u8::from_str_radix(pair, 16).ok());
        match (byte, hex_pair) {
            (b'%', Some(decoded)) => {
                out.push(decoded);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (other, _) => {
                out.push(other);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What happened last to a kiosk's configuration, for the platform's
/// per-kiosk view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case", deny_unknown_fields)]
pub enum ConfigEvent {
    /// The store was set up from the shipped configuration.
    Installed { version: u64, sha256: String },
    /// A bundle was applied and is on trial.
    Applied { version: u64, sha256: String },
    /// The kiosk started on it: it is the last-known-good now.
    Confirmed { version: u64, sha256: String },
    /// It failed at start; the last-known-good is back in force.
    RolledBack {
        failed_version: u64,
        failed_sha256: String,
        reason: String,
    },
    /// A bundle was not taken; the configuration in force did not change.
    Refused {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        version: Option<u64>,
        sha256: String,
        code: String,
        reason: String,
    },
}

/// The kiosk's configuration store, as reported to the platform: what is
/// in force and what happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusReport {
    pub version: u64,
    pub sha256: String,
    pub on_trial: bool,
    pub last_event: ConfigEvent,
}

/// What the kiosk tells the platform about its configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KioskConfigReport {
    pub kiosk_id: String,
    pub township_code: String,
    pub status: StatusReport,
}

impl KioskConfigReport {
    pub fn new(kiosk: &KioskIdentity, status: StatusReport) -> Self {
        KioskConfigReport {
            kiosk_id: kiosk.id.to_string(),
            township_code: kiosk.township.code.clone(),
            status,
        }
    }
}

/// What the platform answers to a push.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Published {
    pub version: u64,
    pub target: String,
    pub sha256: String,
}

/// One row of the per-kiosk view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KioskStatus {
    pub received_at: DateTime<Utc>,
    /// SHA-256 of the client certificate the report came with.
    pub client_cert_sha256: String,
    pub report: KioskConfigReport,
}

/// The answer to `GET /v1/config/kiosks`: every kiosk that ever reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KiosksAnswer {
    pub kiosks: Vec<KioskStatus>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_query_round_trips_and_refuses_what_it_does_not_know() {
        let query = NewestQuery {
            kiosk: KioskId::parse("ks-01.a_b").unwrap(),
            township: "430121001".to_string(),
            after: 7,
        };
        let text = query.to_query();
        assert_eq!(text, "kiosk=ks-01.a_b&township=430121001&after=7");
        assert_eq!(NewestQuery::parse(&text), Some(query.clone()));
        // Percent-encoded and reordered is the same query; `after` defaults to 0.
        assert_eq!(
            NewestQuery::parse("township=430121001&kiosk=ks%2D01"),
            Some(NewestQuery {
                kiosk: KioskId::parse("ks-01").unwrap(),
                township: "430121001".to_string(),
                after: 0,
            })
        );
        for bad in [
            "",
            "kiosk=ks-01",
            "kiosk=ks-01&township=430121001&after=-1",
            "kiosk=ks+01&township=430121001",
            "kiosk=ks-01&township=12",
            "kiosk=ks-01&township=430121001&extra=1",
            "kiosk=%E4%B8%AD&township=430121001",
        ] {
            assert_eq!(NewestQuery::parse(bad), None, "{bad:?}");
        }
    }
}

//! Configuration bundles on the platform (see docs/config.md): routes added
//! to the standard API. The storage and the rules live in
//! `crate::config::registry`; this file is only the HTTP glue.
//!
//! - `PUT  /v1/config/bundles`            an administrator pushes a bundle
//! - `GET  /v1/config/bundles/newest`     `?kiosk=&township=&after=`: 200 with
//!   the newest bundle addressed to that kiosk above `after`, or 204
//! - `POST /v1/config/reports`            a kiosk reports what is in force
//! - `GET  /v1/config/kiosks`             per kiosk: version in force, last event

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Extension, Json, Router};
use chrono::Utc;
use serde_json::json;

use super::{AppState, PeerCert};
use crate::config::bundle::MAX_BUNDLE_BYTES;
use crate::config::poll::KioskConfigReport;
use crate::config::registry::{parse_admin_keys, BundleRegistry, RegistryError};
use crate::config::{parse_township_code, AdminPublicKey, KioskId, KioskIdentity};
use kiosk_core::record::Township;

/// What the configuration routes share.
#[derive(Clone)]
pub struct ConfigState {
    registry: Arc<BundleRegistry>,
    /// Pushes must be signed by one of these; none: pushes are refused.
    admins: Arc<Vec<AdminPublicKey>>,
}

/// Where the bundles of the platform whose database is `db` are kept.
pub fn registry_dir(db: &Path) -> PathBuf {
    db.with_extension("config-bundles")
}

impl ConfigState {
    pub fn open(db: &Path, admin_keys: Option<&Path>) -> Result<ConfigState, String> {
        let registry = BundleRegistry::open(&registry_dir(db)).map_err(|e| e.to_string())?;
        let admins = match admin_keys {
            None => Vec::new(),
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                parse_admin_keys(&text).map_err(|e| format!("{}: {e}", path.display()))?
            }
        };
        Ok(ConfigState {
            registry: Arc::new(registry),
            admins: Arc::new(admins),
        })
    }
}

pub fn routes(state: ConfigState) -> Router<AppState> {
    Router::new()
        .route("/v1/config/bundles", put(push))
        .route("/v1/config/bundles/newest", get(newest))
        .route("/v1/config/reports", post(report))
        .route("/v1/config/kiosks", get(kiosks))
        .layer(DefaultBodyLimit::max(MAX_BUNDLE_BYTES))
        .with_state(state)
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({"status": "error", "code": code, "message": message})),
    )
        .into_response()
}

fn registry_error(err: RegistryError) -> Response {
    let status = match &err {
        RegistryError::VersionExists(_) => StatusCode::CONFLICT,
        RegistryError::Bundle(crate::config::bundle::BundleError::UnknownSigner(_)) => {
            StatusCode::FORBIDDEN
        }
        RegistryError::Bundle(_) | RegistryError::BadKioskId(_) => StatusCode::UNPROCESSABLE_ENTITY,
        RegistryError::Io { .. } => {
            eprintln!("county-platform: configuration bundles: {err}");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    };
    error(status, err.code(), &err.to_string())
}

async fn push(State(state): State<ConfigState>, body: Bytes) -> Response {
    if state.admins.is_empty() {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "no_admin_keys",
            "the platform was started without --admin-keys",
        );
    }
    let result =
        tokio::task::spawn_blocking(move || state.registry.publish(&body, &state.admins)).await;
    match result {
        Ok(Ok(published)) => (StatusCode::CREATED, Json(published)).into_response(),
        Ok(Err(err)) => registry_error(err),
        Err(err) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            &err.to_string(),
        ),
    }
}

/// `?kiosk=<id>&township=<code>&after=<version>`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewestQuery {
    pub kiosk: KioskId,
    pub township: String,
    pub after: u64,
}

impl NewestQuery {
    pub fn parse(query: &str) -> Option<NewestQuery> {
        let (mut kiosk, mut township, mut after) = (None, None, Some(0));
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            match key.as_ref() {
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
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("kiosk", self.kiosk.as_str())
            .append_pair("township", &self.township)
            .append_pair("after", &self.after.to_string())
            .finish()
    }
}

/// A kiosk speaks only for itself: its certificate's CN is its id. A bundle
/// holds the staff PIN hash and device settings, and a report moves what the
/// county believes a kiosk runs, so neither is served across kiosks.
fn not_this_kiosk(peer: &PeerCert, kiosk_id: &str) -> Option<Response> {
    (peer.common_name.as_deref() != Some(kiosk_id)).then(|| {
        error(
            StatusCode::FORBIDDEN,
            "kiosk_certificate_mismatch",
            "the client certificate belongs to another kiosk",
        )
    })
}

async fn newest(
    State(state): State<ConfigState>,
    Extension(peer): Extension<PeerCert>,
    uri: Uri,
) -> Response {
    let Some(query) = NewestQuery::parse(uri.query().unwrap_or_default()) else {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "expected ?kiosk=<id>&township=<nine digits>&after=<version>",
        );
    };
    if let Some(refusal) = not_this_kiosk(&peer, query.kiosk.as_str()) {
        return refusal;
    }
    let kiosk = KioskIdentity {
        id: query.kiosk,
        township: Township {
            code: query.township,
            name: String::new(),
        },
    };
    let result =
        tokio::task::spawn_blocking(move || state.registry.newest_for(&kiosk, query.after)).await;
    match result {
        Ok(Ok(Some(bytes))) => {
            ([(header::CONTENT_TYPE, "application/json")], bytes).into_response()
        }
        Ok(Ok(None)) => StatusCode::NO_CONTENT.into_response(),
        Ok(Err(err)) => registry_error(err),
        Err(err) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            &err.to_string(),
        ),
    }
}

async fn report(
    State(state): State<ConfigState>,
    Extension(peer): Extension<PeerCert>,
    body: Bytes,
) -> Response {
    let Ok(report) = serde_json::from_slice::<KioskConfigReport>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "not a configuration report",
        );
    };
    if let Some(refusal) = not_this_kiosk(&peer, &report.kiosk_id) {
        return refusal;
    }
    let result = tokio::task::spawn_blocking(move || {
        state
            .registry
            .record_report(&report, &peer.sha256, Utc::now())
    })
    .await;
    match result {
        Ok(Ok(())) => StatusCode::NO_CONTENT.into_response(),
        Ok(Err(err)) => registry_error(err),
        Err(err) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            &err.to_string(),
        ),
    }
}

async fn kiosks(State(state): State<ConfigState>) -> Response {
    match tokio::task::spawn_blocking(move || state.registry.kiosks()).await {
        Ok(Ok(list)) => Json(json!({ "kiosks": list })).into_response(),
        Ok(Err(err)) => registry_error(err),
        Err(err) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            &err.to_string(),
        ),
    }
}

//! Configuration bundles on the platform (see docs/config.md): routes added
//! to the standard API. The storage and the rules live in
//! [`crate::registry`]; this file is only the HTTP glue. The bodies are
//! `wire::config`'s.
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
use kiosk_core::kiosk::KioskIdentity;
use kiosk_core::record::Township;
use trust::bundle::{BundleError, MAX_BUNDLE_BYTES};
use trust::keys::AdminPublicKey;
use wire::config::{KioskConfigReport, KiosksAnswer, NewestQuery};
use wire::error_code;

use super::http::error;
use super::{AppState, PeerCert};
use crate::registry::{parse_admin_keys, BundleRegistry, RegistryError};

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
        ConfigState::open_dir(&registry_dir(db), admin_keys)
    }

    /// The bundles kept in `dir`.
    pub fn open_dir(dir: &Path, admin_keys: Option<&Path>) -> Result<ConfigState, String> {
        let registry = BundleRegistry::open(dir).map_err(|e| e.to_string())?;
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

impl ConfigState {
    /// The bundles kept and the kiosks' reports (the console reads and pushes here too).
    pub fn registry(&self) -> &BundleRegistry {
        &self.registry
    }

    /// The administrator keys a push must be signed by.
    pub fn admins(&self) -> &[AdminPublicKey] {
        &self.admins
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

fn registry_error(err: RegistryError) -> Response {
    let status = match &err {
        RegistryError::VersionExists(_) => StatusCode::CONFLICT,
        RegistryError::Bundle(BundleError::UnknownSigner(_)) => StatusCode::FORBIDDEN,
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
            error_code::NO_ADMIN_KEYS,
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
            error_code::INTERNAL,
            &err.to_string(),
        ),
    }
}

/// A kiosk speaks only for itself: its certificate's CN is its id. A bundle
/// holds the staff PIN hash and device settings, and a report moves what the
/// county believes a kiosk runs, so neither is served across kiosks.
fn not_this_kiosk(peer: &PeerCert, kiosk_id: &str) -> Option<Response> {
    (peer.common_name.as_deref() != Some(kiosk_id)).then(|| {
        error(
            StatusCode::FORBIDDEN,
            error_code::KIOSK_CERTIFICATE_MISMATCH,
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
            error_code::BAD_REQUEST,
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
            error_code::INTERNAL,
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
            error_code::BAD_REQUEST,
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
            error_code::INTERNAL,
            &err.to_string(),
        ),
    }
}

async fn kiosks(State(state): State<ConfigState>) -> Response {
    match tokio::task::spawn_blocking(move || state.registry.kiosks()).await {
        Ok(Ok(kiosks)) => Json(KiosksAnswer { kiosks }).into_response(),
        Ok(Err(err)) => registry_error(err),
        Err(err) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            error_code::INTERNAL,
            &err.to_string(),
        ),
    }
}

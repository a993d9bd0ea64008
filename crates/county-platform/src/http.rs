//! The platform's HTTP API (see docs/platform-api.md), as an axum router.
//!
//! [`routes`] is the whole API; another feature (signed configuration, for
//! one) adds its own routes with `Router::merge` on the same [`AppState`].
//! Every request carries the client certificate that the TLS layer
//! verified, as a [`PeerCert`] extension.

use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Extension, Json, Router};
use chrono::Utc;
use serde_json::json;
use trust::seal::{self, SealError};
use trust::sha256_hex;
use uuid::Uuid;
use wire::error_code;
use wire::records::{
    LookUpAnswer, LookUpQuery, ReviewAnswer, ReviewItem, ReviewQuery, UploadAnswer,
};
use wire::sealed::photo_refs;
use wire::{ErrorBody, MAX_REVIEW_IDS, MAX_UPLOAD_BYTES, RECORD_NUMBER_HEADER};

use super::db::{Existing, NewRecord};
use super::{AppState, PeerCert};
use kiosk_core::category::Category;
use kiosk_core::id_number::IdNumber;
use kiosk_core::record::{self, Record};
use kiosk_core::Problem;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/health", get(health))
        .route("/v1/records/{record_id}", put(upload))
        .route("/v1/reviews", post(reviews))
        .route("/v1/people/lookup", post(look_up))
        .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES))
}

/// A JSON error body: `{"status": "error", "code", "message"}`.
pub(crate) fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(ErrorBody::new(code, message))).into_response()
}

fn internal(e: impl std::fmt::Display) -> Response {
    eprintln!("county-platform: internal error: {e}");
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        error_code::INTERNAL,
        "平台内部错误",
    )
}

async fn health() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

fn answer(status: StatusCode, body: UploadAnswer) -> Response {
    (status, Json(body)).into_response()
}

fn reason(code: &str, message: &str) -> Problem {
    Problem::new(code, message)
}

fn repeat_answer(record_id: Uuid, existing: &Existing, body_sha256: &str) -> Response {
    if existing.body_sha256 != body_sha256 {
        return error(
            StatusCode::CONFLICT,
            error_code::RECORD_CONFLICT,
            "平台已有编号相同但内容不同的记录",
        );
    }
    if existing.state == "rejected"
        && existing.reviewed_by.as_deref() == Some(super::db::INTAKE_REVIEWER)
    {
        return answer(
            StatusCode::UNPROCESSABLE_ENTITY,
            UploadAnswer::Rejected {
                record_id,
                reasons: existing.reasons.clone(),
            },
        );
    }
    answer(StatusCode::OK, UploadAnswer::AlreadyStored { record_id })
}

/// Opens and checks a sealed record: every problem the core finds, photos
/// the record names but the envelope lacks, and a kiosk id other than the
/// sender's (`sender`, the certificate's CN): a county certificate vouches
/// for one kiosk, so one kiosk cannot file records under another's name.
fn open_and_check(
    state: &AppState,
    sealed: &[u8],
    record_id: Uuid,
    sender: Option<&str>,
) -> Result<Record, Vec<Problem>> {
    let (record, blobs): (Record, _) = seal::open(sealed, &state.identity)
        .map_err(|e: SealError| vec![reason(e.code(), e.message_zh())])?;
    if record.meta.record_id != record_id {
        return Err(vec![reason("record_id_mismatch", "记录编号与上传地址不符")]);
    }
    let mut reasons: Vec<Problem> = record::problems(&record, Utc::now().date_naive());
    if sender != Some(record.meta.kiosk_id.as_str()) {
        reasons.push(Problem {
            code: error_code::KIOSK_CERTIFICATE_MISMATCH.into(),
            field: Some("meta.kiosk_id".into()),
            message: "记录上的采集点编号与发送它的终端证书不符，请核对本机配置".into(),
            severity: Default::default(),
        });
    }
    for (field, photo) in photo_refs(&record) {
        if blobs.get(&photo.sha256).map(|b| b.len() as u64) != Some(photo.bytes) {
            reasons.push(Problem {
                code: "photo_missing".into(),
                field: Some(field.into()),
                message: "记录中的照片文件缺失或不符".into(),
                severity: Default::default(),
            });
        }
    }
    if reasons.is_empty() {
        Ok(record)
    } else {
        Err(reasons)
    }
}

async fn upload(
    State(state): State<AppState>,
    Extension(peer): Extension<PeerCert>,
    Path(record_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if take_one(&state.faults.unavailable) {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            error_code::UNAVAILABLE,
            "平台暂时无法处理，请稍后重试",
        );
    }
    let Ok(record_id) = Uuid::parse_str(&record_id) else {
        return error(
            StatusCode::BAD_REQUEST,
            error_code::BAD_RECORD_ID,
            "记录编号格式不正确",
        );
    };
    let record_number = headers
        .get(RECORD_NUMBER_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(32).collect::<String>());
    let hang = take_one(&state.faults.hang_after_store);
    let worker = state.clone();
    let result = tokio::task::spawn_blocking(move || {
        store_upload(&worker, &peer, record_id, record_number, &body)
    })
    .await;
    let response = match result {
        Ok(response) => response,
        Err(e) => internal(e),
    };
    if hang {
        // Fault injection: the record is stored but the answer never comes
        // in time, as when a connection dies just after the commit.
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
    response
}

fn store_upload(
    state: &AppState,
    peer: &PeerCert,
    record_id: Uuid,
    record_number: Option<String>,
    body: &[u8],
) -> Response {
    let body_sha256 = sha256_hex(body);
    let existing = match state.db().existing(record_id) {
        Ok(e) => e,
        Err(e) => return internal(e),
    };
    if let Some(existing) = existing {
        return repeat_answer(record_id, &existing, &body_sha256);
    }
    let checked = open_and_check(state, body, record_id, peer.common_name.as_deref());
    // Filed under the kiosk the certificate proves, never the one claimed.
    let kiosk_id = peer.common_name.clone().unwrap_or_default();
    let (township_code, supersedes) = match &checked {
        Ok(r) => (r.meta.township.code.clone(), r.meta.supersedes),
        Err(_) => (String::new(), None),
    };
    // What the console's list filters on. A certificate not shown is
    // marked by staff at the kiosk (未带/遗失/待补) and the record comes in;
    // one neither shown nor marked is refused at intake by the core's own
    // rule (`document_missing`). A refused record's categories are not kept
    // (it is not opened again).
    let (categories, documents_missing): (Vec<Category>, bool) = match &checked {
        Ok(r) => (
            r.categories.iter().map(|d| d.category()).collect(),
            !r.missing_documents.is_empty(),
        ),
        Err(reasons) => (
            Vec::new(),
            reasons.iter().any(|r| r.code == "document_missing"),
        ),
    };
    // The person, also for a record refused at intake whose identity can
    // still be read: the reviewer sees the refusal in the person's history.
    let readable_identity = match &checked {
        Ok(r) => Some((r.identity.id_number.clone(), r.meta.township.clone())),
        Err(_) => seal::open::<Record>(body, &state.identity)
            .ok()
            .filter(|(r, _)| IdNumber::parse_structure(r.identity.id_number.trim()).is_ok())
            .map(|(r, _)| (r.identity.id_number, r.meta.township)),
    };
    let person_key = readable_identity
        .as_ref()
        .map(|(id_number, _)| state.person_key(id_number));
    let rejected = checked.as_ref().err();
    if let Some(reasons) = rejected {
        // A record nobody can open is not kept: there is nothing to review
        // (a format this platform does not know yet: nothing until it is upgraded).
        if reasons.iter().any(|r| {
            r.code == "sealed_unreadable"
                || r.code == "record_id_mismatch"
                || r.code == "sealed_format"
        }) {
            return answer(
                StatusCode::UNPROCESSABLE_ENTITY,
                UploadAnswer::Rejected {
                    record_id,
                    reasons: reasons.clone(),
                },
            );
        }
    }
    let new = NewRecord {
        record_id,
        record_number: record_number.as_deref(),
        kiosk_id: &kiosk_id,
        client_cert: &peer.sha256,
        township_code: &township_code,
        supersedes,
        body_sha256: &body_sha256,
        sealed: body,
        rejected: rejected.map(Vec::as_slice),
        categories: &categories,
        documents_missing,
        person_key: person_key.as_deref(),
    };
    let now = Utc::now();
    let mut db = state.db();
    let stored = db.insert(&new, now).and_then(|existing| {
        if let (None, Some((id_number, township)), Some(key)) =
            (&existing, &readable_identity, &person_key)
        {
            db.note_person(key, id_number, &state.identity.to_public(), now)?;
            if rejected.is_none() {
                db.note_registered(key)?;
            }
            db.note_township(&township.code, &township.name)?;
        }
        Ok(existing)
    });
    drop(db);
    match stored {
        Err(e) => internal(e),
        Ok(Some(existing)) => repeat_answer(record_id, &existing, &body_sha256),
        Ok(None) => match rejected {
            Some(reasons) => answer(
                StatusCode::UNPROCESSABLE_ENTITY,
                UploadAnswer::Rejected {
                    record_id,
                    reasons: reasons.clone(),
                },
            ),
            None => answer(StatusCode::CREATED, UploadAnswer::Stored { record_id }),
        },
    }
}

fn take_one(counter: &std::sync::atomic::AtomicU32) -> bool {
    counter
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

async fn reviews(State(state): State<AppState>, body: Bytes) -> Response {
    let Ok(query) = serde_json::from_slice::<ReviewQuery>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            error_code::BAD_REQUEST,
            "请求格式不正确",
        );
    };
    if query.record_ids.len() > MAX_REVIEW_IDS {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            error_code::TOO_MANY_IDS,
            "一次查询的记录过多",
        );
    }
    match state.db().reviews(&query.record_ids) {
        Ok(list) => Json(ReviewAnswer {
            reviews: list
                .into_iter()
                .map(|(record_id, review)| ReviewItem { record_id, review })
                .collect(),
        })
        .into_response(),
        Err(e) => internal(e),
    }
}

async fn look_up(State(state): State<AppState>, body: Bytes) -> Response {
    let Ok(query) = serde_json::from_slice::<LookUpQuery>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            error_code::BAD_REQUEST,
            "请求格式不正确",
        );
    };
    let id = match IdNumber::parse_structure(&query.id_number) {
        Ok(id) => id,
        Err(e) => return error(StatusCode::UNPROCESSABLE_ENTITY, e.code(), &e.message_zh()),
    };
    match state.db().look_up(&id) {
        Ok(record) => Json(LookUpAnswer {
            found: record.is_some(),
            record,
        })
        .into_response(),
        Err(e) => internal(e),
    }
}

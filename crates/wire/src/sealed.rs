//! The sealed-record format: the JSON plaintext inside the `age` envelope,
//! so the county can open a sealed record with standard tools
//! (`age -d -i platform.agekey record.age | jq`):
//!
//! ```json
//! {"format": "veteran-kiosk/sealed-record/1",
//!  "record": { …the Record… },
//!  "blobs": [{"sha256": "…", "bytes": 1234, "data": "<base64>"}]}
//! ```
//!
//! Every photo the record refers to (by SHA-256, see [`photo_refs`])
//! travels inside, so the sealed bytes are the whole of what the person
//! gave. Encoding, hashing and encryption are done by the `trust` crate.

use kiosk_core::record::{PhotoRef, Record};
use serde::{Deserialize, Serialize};

/// The `format` tag of the sealed plaintext.
pub const SEALED_FORMAT: &str = "veteran-kiosk/sealed-record/1";

/// The largest plaintext any reader accepts when opening, so a hostile
/// sealed file cannot make it allocate without bound.
pub const MAX_PLAINTEXT_BYTES: u64 = 64 * 1024 * 1024;

/// One photo inside the envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealedBlob {
    /// Lower-case hex SHA-256 of the bytes: the key records refer to.
    pub sha256: String,
    pub bytes: u64,
    /// Base64 (standard alphabet, padded) of the bytes.
    pub data: String,
}

/// The plaintext as written (borrowing the record).
#[derive(Debug, Serialize)]
pub struct SealedEnvelopeOut<'a, R> {
    /// [`SEALED_FORMAT`].
    pub format: &'static str,
    pub record: &'a R,
    pub blobs: Vec<SealedBlob>,
}

/// The plaintext as read; `format` is checked by the reader.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealedEnvelopeIn<R> {
    pub format: String,
    pub record: R,
    pub blobs: Vec<SealedBlob>,
}

/// Every photo a record refers to, with the field it sits in: what must
/// travel in the envelope beside the record.
pub fn photo_refs(record: &Record) -> Vec<(String, &PhotoRef)> {
    let mut out = Vec::new();
    let photos = &record.photos;
    if let Some(p) = &photos.portrait {
        out.push(("photos.portrait".to_string(), p));
    }
    if let Some(p) = &photos.card_portrait {
        out.push(("photos.card_portrait".to_string(), p));
    }
    if let Some(p) = &photos.card_photo {
        out.push(("photos.card_photo".to_string(), p));
    }
    for (i, doc) in record.documents.iter().enumerate() {
        out.push((format!("documents[{i}].photo"), &doc.photo));
    }
    out
}

//! The sealed-record format: the plaintext inside the `age` envelope.
//! Every version carries its `format` tag, and readers accept them all.
//!
//! **Format 2** (written since the enqueue was made fast; docs/platform-api.md):
//! a POSIX tar (ustar) archive, so the county opens a sealed record with
//! standard tools (`age -d -i platform.agekey record.age | tar -x`):
//!
//! - first member `record.json`, the manifest ([`SealedManifestOut`]):
//!   ```json
//!   {"format": "veteran-kiosk/sealed-record/2",
//!    "record": { …the Record… },
//!    "photos": [{"sha256": "…", "bytes": 1234, "file": "photos/<sha256>.jpg"}]}
//!   ```
//! - then each photo as its own member, raw bytes, named and ordered as
//!   `photos` lists them.
//!
//! **Format 1** (still read): one JSON object with the photos in base64
//! ([`SealedEnvelopeIn`]), `age -d … | jq .record`:
//!
//! ```json
//! {"format": "veteran-kiosk/sealed-record/1",
//!  "record": { …the Record… },
//!  "blobs": [{"sha256": "…", "bytes": 1234, "data": "<base64>"}]}
//! ```
//!
//! Every photo the record refers to (by SHA-256, see [`photo_refs`])
//! travels inside, so the sealed bytes are the whole of what the person
//! gave. Framing, hashing and encryption are done by the `trust` crate.

use kiosk_core::record::{PhotoRef, Record};
use serde::{Deserialize, Serialize};

/// The `format` tag of format 1 (JSON, photos in base64).
pub const SEALED_FORMAT_V1: &str = "veteran-kiosk/sealed-record/1";
/// The `format` tag of format 2 (tar: `record.json`, then raw photos).
pub const SEALED_FORMAT_V2: &str = "veteran-kiosk/sealed-record/2";
/// Format 2's first member: the manifest with the record.
pub const MANIFEST_FILE: &str = "record.json";
/// The folder of format 2's photo members.
pub const PHOTO_DIR: &str = "photos/";

/// The largest plaintext any reader accepts when opening, so a hostile
/// sealed file cannot make it allocate without bound.
pub const MAX_PLAINTEXT_BYTES: u64 = 64 * 1024 * 1024;

/// Reads only the `format` tag of a JSON object: what a reader checks
/// before it knows which shape the rest has.
#[derive(Debug, Deserialize)]
pub struct FormatProbe {
    pub format: String,
}

/// One photo inside a format 1 envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealedBlob {
    /// Lower-case hex SHA-256 of the bytes: the key records refer to.
    pub sha256: String,
    pub bytes: u64,
    /// Base64 (standard alphabet, padded) of the bytes.
    pub data: String,
}

/// The format 1 plaintext as written (borrowing the record).
#[derive(Debug, Serialize)]
pub struct SealedEnvelopeOut<'a, R> {
    /// [`SEALED_FORMAT_V1`].
    pub format: &'static str,
    pub record: &'a R,
    pub blobs: Vec<SealedBlob>,
}

/// The format 1 plaintext as read; `format` is checked by the reader.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealedEnvelopeIn<R> {
    pub format: String,
    pub record: R,
    pub blobs: Vec<SealedBlob>,
}

/// One photo listed in a format 2 manifest; its bytes are the archive
/// member named `file`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealedPhoto {
    /// Lower-case hex SHA-256 of the bytes: the key records refer to.
    pub sha256: String,
    pub bytes: u64,
    /// The member's name: [`photo_file`].
    pub file: String,
}

/// The format 2 manifest (`record.json`) as written.
#[derive(Debug, Serialize)]
pub struct SealedManifestOut<'a, R> {
    /// [`SEALED_FORMAT_V2`].
    pub format: &'static str,
    pub record: &'a R,
    pub photos: Vec<SealedPhoto>,
}

/// The format 2 manifest as read; `format` is checked by the reader.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealedManifestIn<R> {
    pub format: String,
    pub record: R,
    pub photos: Vec<SealedPhoto>,
}

/// The member name of a photo in format 2: `photos/<sha256>.jpg` for a
/// JPEG (what every photo of a record is), `.bin` for anything else, so
/// a person who extracts the archive can open the photos directly.
pub fn photo_file(sha256: &str, bytes: &[u8]) -> String {
    let extension = if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        "jpg"
    } else {
        "bin"
    };
    format!("{PHOTO_DIR}{sha256}.{extension}")
}

/// Whether a manifest's `file` is a name a format 2 writer makes: one
/// plain file directly under [`PHOTO_DIR`] (no folders, no `..`), so
/// extracting an archive never writes outside its own `photos/`.
pub fn is_photo_file_name(file: &str) -> bool {
    file.strip_prefix(PHOTO_DIR).is_some_and(|name| {
        !name.is_empty()
            && name.len() <= 90
            && !name.starts_with('.')
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_')
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn photo_files_are_named_by_hash_and_kind() {
        let sha = "ab".repeat(32);
        assert_eq!(
            photo_file(&sha, &[0xff, 0xd8, 0xff, 0xe0]),
            format!("photos/{sha}.jpg")
        );
        assert_eq!(photo_file(&sha, b"GIF89a"), format!("photos/{sha}.bin"));
        assert!(is_photo_file_name(&photo_file(&sha, b"")));
        for bad in [
            "record.json",
            "photos/",
            "photos/../x.jpg",
            "photos/a/b.jpg",
            "/photos/a.jpg",
            "photos/.hidden",
        ] {
            assert!(!is_photo_file_name(bad), "{bad}");
        }
    }
}

//! Sealing: a record and its photos, encrypted to one `age` X25519 recipient.
//!
//! The plaintext is the JSON envelope of [`wire::sealed`]; this module
//! encodes the photos into it, checks them when opening, and does the
//! encryption.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;

use age::secrecy::ExposeSecret;
use base64::Engine;
use serde::de::DeserializeOwned;
use serde::Serialize;
use wire::sealed::{
    SealedBlob, SealedEnvelopeIn, SealedEnvelopeOut, MAX_PLAINTEXT_BYTES, SEALED_FORMAT,
};

use crate::sha256_hex;

/// Photo bytes keyed by their SHA-256 (lower-case hex), as records refer to them.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Blobs(BTreeMap<String, Vec<u8>>);

impl Blobs {
    pub fn new() -> Blobs {
        Blobs::default()
    }

    /// Adds `bytes` and returns its key.
    pub fn insert(&mut self, bytes: Vec<u8>) -> String {
        let key = sha256_hex(&bytes);
        self.0.insert(key.clone(), bytes);
        key
    }

    pub fn get(&self, sha256: &str) -> Option<&[u8]> {
        self.0.get(sha256).map(Vec::as_slice)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn total_bytes(&self) -> u64 {
        self.0.values().map(|b| b.len() as u64).sum()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    /// Keeps only the blobs whose keys are in `wanted`.
    pub fn retain(&mut self, wanted: &[String]) {
        self.0.retain(|k, _| wanted.contains(k));
    }
}

// Photos are personal data: never print their bytes.
impl fmt::Debug for Blobs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(k, v)| (k, v.len())))
            .finish()
    }
}

/// Why a sealed record could not be made or opened.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("could not encrypt: {0}")]
    Encrypt(String),
    #[error("could not decrypt (wrong key or not an age file): {0}")]
    Decrypt(String),
    #[error("the sealed plaintext is larger than {MAX_PLAINTEXT_BYTES} bytes")]
    TooLarge,
    #[error("the sealed content is not a sealed record: {0}")]
    Malformed(String),
    #[error("unknown sealed format {0:?}")]
    UnknownFormat(String),
    #[error("photo {sha256} does not match its content")]
    BlobMismatch { sha256: String },
}

impl SealError {
    pub fn code(&self) -> &'static str {
        match self {
            SealError::Encrypt(_) => "seal_encrypt",
            SealError::Decrypt(_) => "sealed_unreadable",
            SealError::TooLarge => "sealed_too_large",
            SealError::Malformed(_) => "sealed_malformed",
            SealError::UnknownFormat(_) => "sealed_format",
            SealError::BlobMismatch { .. } => "photo_mismatch",
        }
    }

    pub fn message_zh(&self) -> &'static str {
        match self {
            SealError::Encrypt(_) => "记录加密失败",
            SealError::Decrypt(_) => "无法解密这份记录",
            SealError::TooLarge => "记录过大",
            SealError::Malformed(_) | SealError::UnknownFormat(_) => "记录格式不正确",
            SealError::BlobMismatch { .. } => "照片文件与记录不符",
        }
    }
}

/// The plaintext that gets sealed: the record and its photos as JSON.
pub fn envelope_plaintext<R: Serialize>(record: &R, blobs: &Blobs) -> Result<Vec<u8>, SealError> {
    let engine = base64::engine::general_purpose::STANDARD;
    let envelope = SealedEnvelopeOut {
        format: SEALED_FORMAT,
        record,
        blobs: blobs
            .iter()
            .map(|(sha256, bytes)| SealedBlob {
                sha256: sha256.to_string(),
                bytes: bytes.len() as u64,
                data: engine.encode(bytes),
            })
            .collect(),
    };
    serde_json::to_vec(&envelope).map_err(|e| SealError::Malformed(e.to_string()))
}

/// Parse a plaintext made by [`envelope_plaintext`], checking each photo's hash.
pub fn parse_envelope<R: DeserializeOwned>(plaintext: &[u8]) -> Result<(R, Blobs), SealError> {
    let envelope: SealedEnvelopeIn<R> =
        serde_json::from_slice(plaintext).map_err(|e| SealError::Malformed(e.to_string()))?;
    if envelope.format != SEALED_FORMAT {
        return Err(SealError::UnknownFormat(envelope.format));
    }
    let engine = base64::engine::general_purpose::STANDARD;
    let mut blobs = Blobs::new();
    for blob in envelope.blobs {
        let bytes = engine
            .decode(blob.data.as_bytes())
            .map_err(|e| SealError::Malformed(format!("photo {}: {e}", blob.sha256)))?;
        if bytes.len() as u64 != blob.bytes || sha256_hex(&bytes) != blob.sha256 {
            return Err(SealError::BlobMismatch {
                sha256: blob.sha256,
            });
        }
        blobs.insert(bytes);
    }
    Ok((envelope.record, blobs))
}

/// Encrypt `plaintext` to `recipient` (binary age format).
pub fn encrypt(recipient: &age::x25519::Recipient, plaintext: &[u8]) -> Result<Vec<u8>, SealError> {
    age::encrypt(recipient, plaintext).map_err(|e| SealError::Encrypt(e.to_string()))
}

/// Decrypt an age file with `identity`, refusing plaintexts over [`MAX_PLAINTEXT_BYTES`].
pub fn decrypt(identity: &age::x25519::Identity, sealed: &[u8]) -> Result<Vec<u8>, SealError> {
    let decryptor =
        age::Decryptor::new_buffered(sealed).map_err(|e| SealError::Decrypt(e.to_string()))?;
    let reader = decryptor
        .decrypt(std::iter::once(identity as &dyn age::Identity))
        .map_err(|e| SealError::Decrypt(e.to_string()))?;
    let mut plaintext = Vec::new();
    reader
        .take(MAX_PLAINTEXT_BYTES + 1)
        .read_to_end(&mut plaintext)
        .map_err(|e| SealError::Decrypt(e.to_string()))?;
    if plaintext.len() as u64 > MAX_PLAINTEXT_BYTES {
        return Err(SealError::TooLarge);
    }
    Ok(plaintext)
}

/// Seal a record and its photos to `recipient`.
pub fn seal<R: Serialize>(
    record: &R,
    blobs: &Blobs,
    recipient: &age::x25519::Recipient,
) -> Result<Vec<u8>, SealError> {
    encrypt(recipient, &envelope_plaintext(record, blobs)?)
}

/// Open a sealed record with `identity`.
pub fn open<R: DeserializeOwned>(
    sealed: &[u8],
    identity: &age::x25519::Identity,
) -> Result<(R, Blobs), SealError> {
    parse_envelope(&decrypt(identity, sealed)?)
}

/// Parse an age recipient (`age1…`), as found in a key file or configuration.
pub fn parse_recipient(text: &str) -> Result<age::x25519::Recipient, KeyError> {
    text.trim().parse().map_err(|_| KeyError::Recipient)
}

/// Parse an age identity file: comment lines (`# …`) and one `AGE-SECRET-KEY-1…` line.
pub fn parse_identity(text: &str) -> Result<age::x25519::Identity, KeyError> {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .ok_or(KeyError::Identity)?;
    line.parse().map_err(|_| KeyError::Identity)
}

/// An identity file's text, with the public key as a comment like `age-keygen` writes.
pub fn identity_file_text(identity: &age::x25519::Identity, created: &str) -> String {
    format!(
        "# created: {created}\n# public key: {}\n{}\n",
        identity.to_public(),
        identity.to_string().expose_secret()
    )
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("not an age X25519 recipient (expected age1…)")]
    Recipient,
    #[error("not an age X25519 identity (expected AGE-SECRET-KEY-1…)")]
    Identity,
}

impl KeyError {
    pub fn code(&self) -> &'static str {
        match self {
            KeyError::Recipient => "age_recipient",
            KeyError::Identity => "age_identity",
        }
    }

    pub fn message_zh(&self) -> &'static str {
        match self {
            KeyError::Recipient => "县平台公钥格式不正确",
            KeyError::Identity => "私钥文件格式不正确",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde::Deserialize;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Sample {
        name: String,
    }

    #[test]
    fn sealed_records_open_with_the_identity_only() {
        let platform = age::x25519::Identity::generate();
        let stranger = age::x25519::Identity::generate();
        let mut blobs = Blobs::new();
        let key = blobs.insert(vec![0xff, 0xd8, 1, 2, 3]);
        let sample = Sample {
            name: "张三".into(),
        };
        let sealed = seal(&sample, &blobs, &platform.to_public()).unwrap();
        assert!(
            !sealed.windows(6).any(|w| w == "张三".as_bytes()),
            "plaintext leaked"
        );

        let (opened, opened_blobs): (Sample, Blobs) = open(&sealed, &platform).unwrap();
        assert_eq!(opened, sample);
        assert_eq!(opened_blobs.get(&key), Some(&[0xff, 0xd8, 1, 2, 3][..]));
        let err = open::<Sample>(&sealed, &stranger).unwrap_err();
        assert_eq!(err.code(), "sealed_unreadable");
    }

    #[test]
    fn a_tampered_photo_is_refused() {
        let mut blobs = Blobs::new();
        blobs.insert(b"photo".to_vec());
        let plain = envelope_plaintext(&Sample { name: "x".into() }, &blobs).unwrap();
        let text = String::from_utf8(plain).unwrap();
        let other = base64::engine::general_purpose::STANDARD.encode(b"phot0");
        let tampered = text.replace(
            &base64::engine::general_purpose::STANDARD.encode(b"photo"),
            &other,
        );
        let err = parse_envelope::<Sample>(tampered.as_bytes()).unwrap_err();
        assert_eq!(err.code(), "photo_mismatch");
    }

    #[test]
    fn identity_files_round_trip() {
        let identity = age::x25519::Identity::generate();
        let text = identity_file_text(&identity, "2026-01-01");
        let parsed = parse_identity(&text).unwrap();
        assert_eq!(
            parsed.to_public().to_string(),
            identity.to_public().to_string()
        );
        assert_eq!(
            parse_identity("# only a comment\n").err(),
            Some(KeyError::Identity)
        );
        assert_eq!(
            parse_recipient("age1nope").unwrap_err(),
            KeyError::Recipient
        );
        assert!(parse_recipient(&format!(" {}\n", identity.to_public())).is_ok());
    }

    proptest! {
        #[test]
        fn opening_any_bytes_gives_a_value_or_an_error(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let identity = age::x25519::Identity::generate();
            let _ = open::<Sample>(&bytes, &identity);
            let _ = parse_envelope::<Sample>(&bytes);
        }
    }
}

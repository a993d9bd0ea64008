//! Sealing: a record and its photos, encrypted to one `age` X25519 recipient.
//!
//! The plaintext is one of the formats of [`wire::sealed`]: a kiosk writes
//! format 2 (a tar archive: `record.json`, then each photo as raw bytes);
//! opening accepts format 1 (JSON, photos in base64) as well, and refuses
//! a format it does not know by name. This module frames the photos,
//! checks them when opening, and does the encryption.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{Read, Write};

use age::secrecy::ExposeSecret;
use base64::Engine;
use serde::de::DeserializeOwned;
use serde::Serialize;
use wire::sealed::{
    is_photo_file_name, photo_file, FormatProbe, SealedBlob, SealedEnvelopeIn, SealedEnvelopeOut,
    SealedManifestIn, SealedManifestOut, SealedPhoto, MANIFEST_FILE, MAX_PLAINTEXT_BYTES,
    SEALED_FORMAT_V1, SEALED_FORMAT_V2,
};

use crate::{sha256_hex, ustar};

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

    /// Every photo, ordered by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    /// Keeps only the blobs whose keys are in `wanted`.
    pub fn retain(&mut self, wanted: &[String]) {
        self.0.retain(|k, _| wanted.contains(k));
    }

    /// The blobs whose keys are in `wanted`, borrowed (no photo is copied).
    pub fn select<'a>(&'a self, wanted: &'a [String]) -> impl Iterator<Item = (&'a str, &'a [u8])> {
        self.iter()
            .filter(move |(k, _)| wanted.iter().any(|w| w == k))
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
    #[error(
        "unknown sealed format {0:?} (this program reads {SEALED_FORMAT_V1} and {SEALED_FORMAT_V2}): \
         the sender is newer than this program"
    )]
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
            SealError::Malformed(_) => "记录格式不正确",
            SealError::UnknownFormat(_) => {
                "这份记录的格式版本比县平台程序新，平台读不了：请升级县平台程序"
            }
            SealError::BlobMismatch { .. } => "照片文件与记录不符",
        }
    }

    /// An unknown format named by a file from outside: kept short in logs.
    fn unknown_format(format: &str) -> SealError {
        SealError::UnknownFormat(format.chars().take(80).collect())
    }
}

/// A record and its photos framed as format 2, ready to hash, write or
/// seal. The photos are borrowed: nothing of them is copied until written.
pub struct Envelope<'a> {
    manifest: Vec<u8>,
    photos: Vec<(String, &'a [u8])>,
}

impl<'a> Envelope<'a> {
    /// Frames `record` with `photos` (key, bytes); each key must be the
    /// SHA-256 of its bytes, as [`Blobs`] keys are.
    pub fn new<R: Serialize>(
        record: &R,
        photos: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    ) -> Result<Envelope<'a>, SealError> {
        let mut listed = Vec::new();
        let mut members = Vec::new();
        for (sha256, bytes) in photos {
            let file = photo_file(sha256, bytes);
            listed.push(SealedPhoto {
                sha256: sha256.to_string(),
                bytes: bytes.len() as u64,
                file: file.clone(),
            });
            members.push((file, bytes));
        }
        let manifest = serde_json::to_vec(&SealedManifestOut {
            format: SEALED_FORMAT_V2,
            record,
            photos: listed,
        })
        .map_err(|e| SealError::Malformed(e.to_string()))?;
        Ok(Envelope {
            manifest,
            photos: members,
        })
    }

    /// Every photo in `blobs`.
    pub fn of<R: Serialize>(record: &R, blobs: &'a Blobs) -> Result<Envelope<'a>, SealError> {
        Envelope::new(record, blobs.iter())
    }

    /// The SHA-256 of `record.json`. It names every photo by its SHA-256
    /// and size, and the rest of the archive follows from it, so it
    /// identifies the whole content without hashing the photos again.
    pub fn content_sha256(&self) -> String {
        sha256_hex(&self.manifest)
    }

    /// The plaintext's length in bytes.
    pub fn len(&self) -> usize {
        ustar::member_len(self.manifest.len())
            + self
                .photos
                .iter()
                .map(|(_, bytes)| ustar::member_len(bytes.len()))
                .sum::<usize>()
            + 2 * ustar::BLOCK
    }

    /// Never true: there is always `record.json`.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Writes the plaintext (the tar archive) to `out`.
    pub fn write_to<W: Write>(&self, out: &mut W) -> std::io::Result<()> {
        ustar::write_member(out, MANIFEST_FILE, &self.manifest)?;
        for (file, bytes) in &self.photos {
            ustar::write_member(out, file, bytes)?;
        }
        ustar::write_end(out)
    }

    /// The plaintext as bytes.
    pub fn plaintext(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len());
        // Writing to a Vec cannot fail, and every name was made by `photo_file`.
        let _ = self.write_to(&mut out);
        out
    }

    /// Encrypts the plaintext to `recipient`, streaming it into age (the
    /// photos are not copied into a plaintext buffer first).
    pub fn seal(&self, recipient: &age::x25519::Recipient) -> Result<Vec<u8>, SealError> {
        let encrypt_error = |e: &dyn fmt::Display| SealError::Encrypt(e.to_string());
        let encryptor =
            age::Encryptor::with_recipients(std::iter::once(recipient as &dyn age::Recipient))
                .map_err(|e| encrypt_error(&e))?;
        // age adds a header and 16 bytes per 64 KiB chunk: room for both.
        let mut sealed = Vec::with_capacity(self.len() + self.len() / 4096 + 1024);
        let mut writer = encryptor
            .wrap_output(&mut sealed)
            .map_err(|e| encrypt_error(&e))?;
        self.write_to(&mut writer).map_err(|e| encrypt_error(&e))?;
        writer.finish().map_err(|e| encrypt_error(&e))?;
        Ok(sealed)
    }
}

/// The plaintext that gets sealed now (format 2): the record and its photos.
pub fn envelope_plaintext<R: Serialize>(record: &R, blobs: &Blobs) -> Result<Vec<u8>, SealError> {
    Ok(Envelope::of(record, blobs)?.plaintext())
}

/// The plaintext of format 1 (JSON, photos in base64), as kiosks wrote it
/// before format 2. Kept to check that old records still open and that
/// an old queued record is recognised when queued again.
pub fn envelope_plaintext_v1<R: Serialize>(
    record: &R,
    blobs: &Blobs,
) -> Result<Vec<u8>, SealError> {
    let engine = base64::engine::general_purpose::STANDARD;
    let envelope = SealedEnvelopeOut {
        format: SEALED_FORMAT_V1,
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

/// The `format` a JSON text names, if it is an object that names one.
fn probe_format(json: &[u8]) -> Option<String> {
    serde_json::from_slice::<FormatProbe>(json)
        .ok()
        .map(|p| p.format)
}

/// Parse a plaintext of any known format, checking each photo's hash.
pub fn parse_envelope<R: DeserializeOwned>(plaintext: &[u8]) -> Result<(R, Blobs), SealError> {
    if ustar::looks_like_ustar(plaintext) {
        return parse_v2(plaintext);
    }
    match plaintext.trim_ascii_start().first() {
        Some(b'{') => parse_v1(plaintext),
        _ => Err(SealError::Malformed(
            "neither a tar archive (format 2) nor a JSON object (format 1)".into(),
        )),
    }
}

fn parse_v1<R: DeserializeOwned>(plaintext: &[u8]) -> Result<(R, Blobs), SealError> {
    let envelope: SealedEnvelopeIn<R> = match serde_json::from_slice(plaintext) {
        Ok(envelope) => envelope,
        // Another format's shape fails to parse: name the format, not the field.
        Err(e) => {
            return Err(match probe_format(plaintext) {
                Some(format) if format != SEALED_FORMAT_V1 => SealError::unknown_format(&format),
                _ => SealError::Malformed(e.to_string()),
            })
        }
    };
    if envelope.format != SEALED_FORMAT_V1 {
        return Err(SealError::unknown_format(&envelope.format));
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

fn parse_v2<R: DeserializeOwned>(plaintext: &[u8]) -> Result<(R, Blobs), SealError> {
    let malformed = |e: ustar::UstarError| SealError::Malformed(e.to_string());
    let mut members = ustar::members(plaintext);
    let manifest = match members.next() {
        Some(Ok(member)) if member.name == MANIFEST_FILE => member.data,
        Some(Ok(member)) => {
            return Err(SealError::Malformed(format!(
                "the archive starts with {:?}, not {MANIFEST_FILE}",
                member.name.chars().take(100).collect::<String>()
            )))
        }
        Some(Err(e)) => return Err(malformed(e)),
        None => return Err(SealError::Malformed("the archive is empty".into())),
    };
    let manifest: SealedManifestIn<R> = match serde_json::from_slice(manifest) {
        Ok(manifest) => manifest,
        Err(e) => {
            return Err(match probe_format(manifest) {
                Some(format) if format != SEALED_FORMAT_V2 => SealError::unknown_format(&format),
                _ => SealError::Malformed(format!("{MANIFEST_FILE}: {e}")),
            })
        }
    };
    if manifest.format != SEALED_FORMAT_V2 {
        return Err(SealError::unknown_format(&manifest.format));
    }
    let mut blobs = Blobs::new();
    for photo in manifest.photos {
        if !is_photo_file_name(&photo.file) {
            return Err(SealError::Malformed(format!(
                "photo {}: bad file name",
                photo.sha256
            )));
        }
        let member = members
            .next()
            .ok_or_else(|| SealError::Malformed(format!("photo {} is missing", photo.file)))?
            .map_err(malformed)?;
        if member.name != photo.file {
            return Err(SealError::Malformed(format!(
                "expected photo {}, found another member",
                photo.file
            )));
        }
        if member.data.len() as u64 != photo.bytes || sha256_hex(member.data) != photo.sha256 {
            return Err(SealError::BlobMismatch {
                sha256: photo.sha256,
            });
        }
        blobs.insert(member.data.to_vec());
    }
    match members.next() {
        None => Ok((manifest.record, blobs)),
        Some(Ok(_)) => Err(SealError::Malformed(
            "the archive holds a member its manifest does not list".into(),
        )),
        Some(Err(e)) => Err(malformed(e)),
    }
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

/// Seal a record and its photos to `recipient` (format 2).
pub fn seal<R: Serialize>(
    record: &R,
    blobs: &Blobs,
    recipient: &age::x25519::Recipient,
) -> Result<Vec<u8>, SealError> {
    Envelope::of(record, blobs)?.seal(recipient)
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

    fn sample_with_photos() -> (Sample, Blobs) {
        let mut blobs = Blobs::new();
        blobs.insert(vec![0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);
        blobs.insert(b"photo".to_vec());
        blobs.insert(vec![0x5a; 1300]);
        (
            Sample {
                name: "林国华".into(),
            },
            blobs,
        )
    }

    #[test]
    fn both_formats_open_to_the_same_record_and_photos() {
        let (sample, blobs) = sample_with_photos();
        let v1 = envelope_plaintext_v1(&sample, &blobs).unwrap();
        let v2 = envelope_plaintext(&sample, &blobs).unwrap();
        assert!(v1.starts_with(b"{\"format\":\"veteran-kiosk/sealed-record/1\""));
        assert!(v2.starts_with(b"record.json\0"));
        for plaintext in [&v1, &v2] {
            let (opened, opened_blobs): (Sample, Blobs) = parse_envelope(plaintext).unwrap();
            assert_eq!(opened, sample);
            assert_eq!(opened_blobs, blobs);
        }
        // Raw photos: for photos of a real size, format 2 is about a
        // quarter smaller than base64 inside JSON.
        let mut large = Blobs::new();
        large.insert(vec![0x5a; 300_000]);
        let v1 = envelope_plaintext_v1(&sample, &large).unwrap().len();
        let v2 = envelope_plaintext(&sample, &large).unwrap().len();
        assert!(v2 * 100 < v1 * 76, "{v2} vs {v1}");
    }

    #[test]
    fn format_2_is_the_same_bytes_for_the_same_content() {
        let (sample, blobs) = sample_with_photos();
        let envelope = Envelope::of(&sample, &blobs).unwrap();
        let plaintext = envelope.plaintext();
        assert_eq!(plaintext.len(), envelope.len());
        assert_eq!(plaintext, envelope_plaintext(&sample, &blobs).unwrap());
        assert_eq!(plaintext.len() % ustar::BLOCK, 0);

        // The content hash follows every photo, though it hashes only the manifest.
        let mut other = blobs.clone();
        other.insert(b"one more page".to_vec());
        assert_ne!(
            Envelope::of(&sample, &other).unwrap().content_sha256(),
            envelope.content_sha256()
        );
        assert_eq!(
            Envelope::of(&sample, &blobs).unwrap().content_sha256(),
            envelope.content_sha256()
        );
    }

    #[test]
    fn a_tampered_photo_is_refused_in_either_format() {
        let mut blobs = Blobs::new();
        blobs.insert(b"photo".to_vec());
        let sample = Sample { name: "x".into() };

        let text = String::from_utf8(envelope_plaintext_v1(&sample, &blobs).unwrap()).unwrap();
        let engine = base64::engine::general_purpose::STANDARD;
        let tampered = text.replace(&engine.encode(b"photo"), &engine.encode(b"phot0"));
        let err = parse_envelope::<Sample>(tampered.as_bytes()).unwrap_err();
        assert_eq!(err.code(), "photo_mismatch");

        let mut archive = envelope_plaintext(&sample, &blobs).unwrap();
        let at = archive.windows(5).rposition(|w| w == b"photo").unwrap();
        archive[at + 4] = b'0';
        let err = parse_envelope::<Sample>(&archive).unwrap_err();
        assert_eq!(err.code(), "photo_mismatch");
    }

    /// A format 2 archive whose manifest is `manifest`, with `photos` as members.
    fn archive_with(manifest: &str, photos: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        ustar::write_member(&mut out, MANIFEST_FILE, manifest.as_bytes()).unwrap();
        for (name, data) in photos {
            ustar::write_member(&mut out, name, data).unwrap();
        }
        ustar::write_end(&mut out).unwrap();
        out
    }

    #[test]
    fn an_unknown_format_is_refused_by_name() {
        let future =
            r#"{"format": "veteran-kiosk/sealed-record/3", "record": {"name": "x"}, "parts": []}"#;
        for plaintext in [future.as_bytes().to_vec(), archive_with(future, &[])] {
            let err = parse_envelope::<Sample>(&plaintext).unwrap_err();
            assert_eq!(err.code(), "sealed_format");
            assert_eq!(
                err.to_string(),
                "unknown sealed format \"veteran-kiosk/sealed-record/3\" (this program reads \
                 veteran-kiosk/sealed-record/1 and veteran-kiosk/sealed-record/2): the sender is \
                 newer than this program"
            );
            assert_eq!(
                err.message_zh(),
                "这份记录的格式版本比县平台程序新，平台读不了：请升级县平台程序"
            );
        }
        // The same when the rest has the shape of a known format.
        let same_shape =
            r#"{"format": "veteran-kiosk/sealed-record/9", "record": {"name": "x"}, "photos": []}"#;
        let err = parse_envelope::<Sample>(&archive_with(same_shape, &[])).unwrap_err();
        assert_eq!(err.code(), "sealed_format");
        // A hostile format name is cut short.
        let long = format!(r#"{{"format": "{}"}}"#, "v".repeat(10_000));
        match parse_envelope::<Sample>(long.as_bytes()).unwrap_err() {
            SealError::UnknownFormat(name) => assert_eq!(name.len(), 80),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_archive_that_does_not_match_its_manifest_is_malformed() {
        let (sample, blobs) = sample_with_photos();
        let manifest_of = |b: &Blobs| {
            let envelope = Envelope::of(&sample, b).unwrap();
            String::from_utf8(envelope.manifest.clone()).unwrap()
        };
        let mut one = Blobs::new();
        let key = one.insert(b"photo".to_vec());
        let manifest = manifest_of(&one);
        let file = photo_file(&key, b"photo");
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("photo missing", archive_with(&manifest, &[])),
            (
                "extra member",
                archive_with(&manifest, &[(&file, b"photo"), ("photos/x.jpg", b"x")]),
            ),
            (
                "other name",
                archive_with(&manifest, &[("photos/other.jpg", b"photo")]),
            ),
            ("not json", archive_with("not json", &[])),
            ("first member", {
                let mut out = Vec::new();
                ustar::write_member(&mut out, "readme.txt", b"hi").unwrap();
                ustar::write_end(&mut out).unwrap();
                out
            }),
            ("end blocks", {
                let mut whole = envelope_plaintext(&sample, &blobs).unwrap();
                whole.truncate(whole.len() - ustar::BLOCK);
                whole
            }),
            (
                "escaping name",
                archive_with(
                    &manifest.replace(&file, "photos/../../etc/x"),
                    &[("photos/../../etc/x", b"photo")],
                ),
            ),
            ("neither", b"\x89PNG".to_vec()),
        ];
        for (case, plaintext) in cases {
            let err = parse_envelope::<Sample>(&plaintext).unwrap_err();
            assert_eq!(err.code(), "sealed_malformed", "{case}: {err}");
        }
        // Format 2's tag in a JSON object is not how format 2 travels.
        let v2_as_json = format!(
            r#"{{"format": "{SEALED_FORMAT_V2}", "record": {{"name": "x"}}, "blobs": []}}"#
        );
        assert!(parse_envelope::<Sample>(v2_as_json.as_bytes()).is_err());
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

        #[test]
        fn a_damaged_format_2_plaintext_gives_a_value_or_an_error(at in any::<usize>(), value in any::<u8>()) {
            let (sample, blobs) = sample_with_photos();
            let mut plaintext = envelope_plaintext(&sample, &blobs).unwrap();
            let at = at % plaintext.len();
            plaintext[at] = value;
            let _ = parse_envelope::<Sample>(&plaintext);
        }
    }
}

//! Administrators' Ed25519 signing keys.
//!
//! The secret key is a PKCS#8 PEM file (what `openssl genpkey -algorithm
//! ed25519` writes, so administrators can use either tool); the public key
//! is one line, `ed25519:<base64 of 32 bytes>`, short enough to paste into
//! `kiosk.toml`.

use std::fmt;
use std::str::FromStr;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use thiserror::Error;

const PUBLIC_PREFIX: &str = "ed25519:";

/// A pinned administrator's public key.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct AdminPublicKey(VerifyingKey);

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KeyError {
    #[error("a public key looks like `ed25519:` followed by 44 base64 characters")]
    PublicKeyFormat,
    #[error("this is not a usable Ed25519 public key")]
    WeakPublicKey,
    #[error("not an Ed25519 private key in PKCS#8 PEM: {0}")]
    SecretKeyFormat(String),
}

impl AdminPublicKey {
    pub fn verify(&self, message: &[u8], signature: &Signature) -> bool {
        // Strict: no malleable signatures, no small-order keys.
        self.0.verify_strict(message, signature).is_ok()
    }

    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }
}

impl FromStr for AdminPublicKey {
    type Err = KeyError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let encoded = text
            .trim()
            .strip_prefix(PUBLIC_PREFIX)
            .ok_or(KeyError::PublicKeyFormat)?;
        let bytes = BASE64
            .decode(encoded)
            .map_err(|_| KeyError::PublicKeyFormat)?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| KeyError::PublicKeyFormat)?;
        let key = VerifyingKey::from_bytes(&bytes).map_err(|_| KeyError::WeakPublicKey)?;
        if key.is_weak() {
            return Err(KeyError::WeakPublicKey);
        }
        Ok(AdminPublicKey(key))
    }
}

impl fmt::Display for AdminPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{PUBLIC_PREFIX}{}", BASE64.encode(self.0.to_bytes()))
    }
}

impl fmt::Debug for AdminPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AdminPublicKey({self})")
    }
}

/// An administrator's secret signing key. `Debug` never shows it.
pub struct AdminSigningKey(SigningKey);

impl AdminSigningKey {
    pub fn generate() -> AdminSigningKey {
        AdminSigningKey(SigningKey::generate(&mut rand_core::OsRng))
    }

    /// A key from fixed bytes: for tests and reproducible demos only.
    pub fn from_seed(seed: [u8; 32]) -> AdminSigningKey {
        AdminSigningKey(SigningKey::from_bytes(&seed))
    }

    pub fn from_pem(pem: &str) -> Result<AdminSigningKey, KeyError> {
        SigningKey::from_pkcs8_pem(pem)
            .map(AdminSigningKey)
            .map_err(|err| KeyError::SecretKeyFormat(err.to_string()))
    }

    /// PKCS#8 v1 (secret only): the form OpenSSL 3.0 also reads.
    pub fn to_pem(&self) -> Result<String, KeyError> {
        let bytes = ed25519_dalek::pkcs8::KeypairBytes {
            secret_key: self.0.to_bytes(),
            public_key: None,
        };
        bytes
            .to_pkcs8_pem(Default::default())
            .map(|pem| pem.to_string())
            .map_err(|err| KeyError::SecretKeyFormat(err.to_string()))
    }

    pub fn public_key(&self) -> AdminPublicKey {
        AdminPublicKey(self.0.verifying_key())
    }

    pub fn sign(&self, message: &[u8]) -> Signature {
        self.0.sign(message)
    }
}

impl fmt::Debug for AdminSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AdminSigningKey(public {})", self.public_key())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_through_their_text_forms() {
        let key = AdminSigningKey::from_seed([7; 32]);
        let pem = key.to_pem().unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        let again = AdminSigningKey::from_pem(&pem).unwrap();
        assert_eq!(again.public_key(), key.public_key());
        let text = key.public_key().to_string();
        assert_eq!(text.parse::<AdminPublicKey>().unwrap(), key.public_key());
    }

    #[test]
    fn malformed_public_keys_are_refused() {
        let cases = [
            ("", KeyError::PublicKeyFormat),
            ("ed25519:", KeyError::PublicKeyFormat),
            ("ed25519:AAAA", KeyError::PublicKeyFormat),
            (
                "rsa:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                KeyError::PublicKeyFormat,
            ),
            // The identity point: a "key" every signature verifies under.
            (
                "ed25519:AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                KeyError::WeakPublicKey,
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(
                text.parse::<AdminPublicKey>().unwrap_err(),
                expected,
                "{text:?}"
            );
        }
    }

    #[test]
    fn signatures_verify_only_under_their_key_and_message() {
        let key = AdminSigningKey::from_seed([1; 32]);
        let other = AdminSigningKey::from_seed([2; 32]);
        let signature = key.sign(b"message");
        assert!(key.public_key().verify(b"message", &signature));
        assert!(!key.public_key().verify(b"messagE", &signature));
        assert!(!other.public_key().verify(b"message", &signature));
    }
}

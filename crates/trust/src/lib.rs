//! What the kiosk and the county platform both need to trust each other
//! and that is neither pure nor HTTP: the county PKI (demo CA, certificates,
//! a certificate's common name, PEM loading for both TLS ends), sealing
//! records with `age`, the administrators' Ed25519 keys and the signed
//! configuration bundle format, and one hex / SHA-256 helper for all.
//!
//! It must never depend on the kiosk package, the platform package, an
//! HTTP stack or a database (no axum, hyper server, reqwest, rusqlite).

pub mod bundle;
pub mod files;
pub mod keys;
pub mod pki;
pub mod seal;
pub mod ustar;

use sha2::{Digest, Sha256};

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    #[test]
    fn hex_is_lower_case_and_sha256_is_the_standard_one() {
        assert_eq!(super::hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
        assert_eq!(
            super::sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}

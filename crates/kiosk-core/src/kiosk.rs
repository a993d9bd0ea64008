//! Which kiosk this is: its id and its township. Both the kiosk and the
//! county platform parse these (configuration, certificates, bundle
//! targets, query strings), so they live in the pure core.

use crate::record::Township;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KioskId(String);

impl KioskId {
    pub const MAX_LEN: usize = 64;

    /// Letters, digits, `-`, `_` and `.`, starting with a letter or digit:
    /// it appears in certificate names, URLs and file names.
    pub fn parse(text: &str) -> Result<KioskId, String> {
        let ok_start = text
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric());
        let ok_chars = text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !ok_start || !ok_chars || text.len() > Self::MAX_LEN {
            return Err(format!(
                "a kiosk id is 1 to {} letters, digits, `-`, `_` or `.`, starting with a letter or digit",
                Self::MAX_LEN
            ));
        }
        Ok(KioskId(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for KioskId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which kiosk this is and where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KioskIdentity {
    pub id: KioskId,
    /// `code` is nine digits: the GB/T 2260 county code and the township's
    /// three digits.
    pub township: Township,
}

/// Nine digits starting with a mainland province code.
pub fn parse_township_code(text: &str) -> Result<String, String> {
    let digits = text.len() == 9 && text.bytes().all(|b| b.is_ascii_digit());
    let province = text
        .get(..2)
        .is_some_and(crate::region::is_resident_id_province);
    if !digits || !province {
        return Err(
            "a township code is nine digits: the six-digit GB/T 2260 county code and the township's three"
                .to_string(),
        );
    }
    Ok(text.to_string())
}

//! Who may use the console: user names, roles, Argon2id passwords, random
//! tokens for sessions and CSRF.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand_core::{OsRng, RngCore};

/// A staff login name: 1–32 of `a-z 0-9 . _ -` (no personal data, and
/// safe in logs and the audit table).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    pub fn parse(text: &str) -> Option<Username> {
        let text = text.trim();
        let fits = (1..=32).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
        fits.then(|| Username(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a staff member may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// 审核: reviews and decides records.
    Reviewer,
    /// 管理: manages users, reads the audit log, and may review.
    Admin,
    /// 统计查看: sees the list and statistics, decides nothing.
    Viewer,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Reviewer, Role::Admin, Role::Viewer];

    pub fn parse(text: &str) -> Option<Role> {
        match text.trim() {
            "reviewer" => Some(Role::Reviewer),
            "admin" => Some(Role::Admin),
            "viewer" => Some(Role::Viewer),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reviewer => "reviewer",
            Role::Admin => "admin",
            Role::Viewer => "viewer",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Role::Reviewer => "审核",
            Role::Admin => "管理",
            Role::Viewer => "统计查看",
        }
    }

    pub fn may_review(self) -> bool {
        matches!(self, Role::Reviewer | Role::Admin)
    }

    /// Opening a record shows personal data and photos: reviewers and
    /// administrators only; viewers see the list without names.
    pub fn may_open_records(self) -> bool {
        self.may_review()
    }

    pub fn may_manage_users(self) -> bool {
        self == Role::Admin
    }
}

/// The shortest password `user add` takes.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// An Argon2id hash (PHC string) of `password` with a fresh salt.
pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Whether `password` matches a stored hash; a corrupt hash never matches.
pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|hash| {
            Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok()
        })
        .unwrap_or(false)
}

/// 32 random bytes as hex: session and CSRF tokens.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares two tokens in time independent of where they differ.
pub fn tokens_match(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_argon2id_and_verify() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong horse", &hash));
        assert!(!verify_password("correct horse", "not a hash"));
    }

    #[test]
    fn user_names_and_roles_parse_or_are_refused() {
        assert!(Username::parse("zhang.san-01").is_some());
        for bad in ["", "Zhang", "张三", "a b", "<script>", &"x".repeat(33)] {
            assert_eq!(Username::parse(bad), None, "{bad}");
        }
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn tokens_are_random_and_compared_whole() {
        let (a, b) = (random_token(), random_token());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert!(tokens_match(&a, &a.clone()));
        assert!(!tokens_match(&a, &b));
        assert!(!tokens_match(&a, &a[..63]));
    }
}

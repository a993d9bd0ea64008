//! Certificates and keys for the county's mutual TLS and sealing.
//!
//! `veteran-kiosk pki demo <DIR>` makes everything a demo or a test needs on
//! a fresh machine: the county CA, the platform's server certificate (for
//! `localhost`, `127.0.0.1` and `::1`), a kiosk client certificate, the
//! platform's `age` key pair, and, for the refusal tests, an expired kiosk
//! certificate and a second, unrelated CA with a client and a server
//! certificate of its own. A real county keeps its CA key offline; these
//! are demo keys.
//!
//! Also the PEM loading that both TLS ends share.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{Datelike, Duration, NaiveDate, Utc};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::files::write_private_file;
use crate::seal;

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("{path}: {detail}")]
    Io { path: PathBuf, detail: String },
    #[error("{path}: no PEM certificate in the file")]
    NoCertificate { path: PathBuf },
    #[error("{path}: not a PEM private key ({detail})")]
    BadKey { path: PathBuf, detail: String },
    #[error("{path}: not a PEM certificate ({detail})")]
    BadCertificate { path: PathBuf, detail: String },
    #[error("certificate generation failed: {0}")]
    Generate(String),
    #[error("TLS configuration refused: {0}")]
    Tls(String),
    #[error("{0} already exists; refusing to overwrite demo keys (remove it first)")]
    Exists(PathBuf),
}

impl PkiError {
    pub fn code(&self) -> &'static str {
        match self {
            PkiError::Io { .. } => "pki_io",
            PkiError::NoCertificate { .. } | PkiError::BadCertificate { .. } => "pki_certificate",
            PkiError::BadKey { .. } => "pki_key",
            PkiError::Generate(_) => "pki_generate",
            PkiError::Tls(_) => "tls_config",
            PkiError::Exists(_) => "pki_exists",
        }
    }

    pub fn message_zh(&self) -> &'static str {
        match self {
            PkiError::Io { .. } => "证书文件无法读取或写入",
            PkiError::NoCertificate { .. } | PkiError::BadCertificate { .. } => {
                "证书文件格式不正确"
            }
            PkiError::BadKey { .. } => "私钥文件格式不正确",
            PkiError::Generate(_) => "证书生成失败",
            PkiError::Tls(_) => "加密通道配置有误",
            PkiError::Exists(_) => "目录中已有证书，为避免覆盖已停止",
        }
    }
}

fn gen_err(e: rcgen::Error) -> PkiError {
    PkiError::Generate(e.to_string())
}

/// All certificates in a PEM file.
pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, PkiError> {
    let bytes = fs::read(path).map_err(|e| PkiError::Io {
        path: path.to_path_buf(),
        detail: e.to_string(),
    })?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| PkiError::BadCertificate {
            path: path.to_path_buf(),
            detail: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(PkiError::NoCertificate {
            path: path.to_path_buf(),
        });
    }
    Ok(certs)
}

/// The first private key in a PEM file (PKCS#8, PKCS#1 or SEC1).
pub fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, PkiError> {
    let bytes = fs::read(path).map_err(|e| PkiError::Io {
        path: path.to_path_buf(),
        detail: e.to_string(),
    })?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| PkiError::BadKey {
        path: path.to_path_buf(),
        detail: e.to_string(),
    })
}

/// A root store trusting exactly the certificates in `ca_path`.
pub fn root_store(ca_path: &Path) -> Result<rustls::RootCertStore, PkiError> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in load_certs(ca_path)? {
        roots.add(cert).map_err(|e| PkiError::BadCertificate {
            path: ca_path.to_path_buf(),
            detail: e.to_string(),
        })?;
    }
    Ok(roots)
}

/// The crypto provider both ends use (ring: no C toolchain beyond cc).
pub fn crypto_provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A certificate and its key, as PEM.
#[derive(Clone)]
pub struct Issued {
    pub cert_pem: String,
    pub key_pem: String,
}

impl Issued {
    pub fn write(&self, cert_path: &Path, key_path: &Path) -> Result<(), PkiError> {
        write_file(cert_path, self.cert_pem.as_bytes(), false)?;
        write_file(key_path, self.key_pem.as_bytes(), true)
    }
}

/// The subject common name of a DER certificate: a kiosk certificate's CN
/// is the kiosk id, which the platform binds uploads and reports to. `None`
/// when the certificate does not parse or names no CN (as UTF8String,
/// PrintableString or IA5String, the encodings CAs use for it).
pub fn common_name(der: &[u8]) -> Option<String> {
    use x509_cert::der::asn1::{Ia5StringRef, PrintableStringRef, Utf8StringRef};
    use x509_cert::der::Decode;
    let certificate = x509_cert::Certificate::from_der(der).ok()?;
    let subject = &certificate.tbs_certificate.subject;
    // The most specific CN is the last one in the sequence.
    let value = subject
        .0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .rfind(|attribute| attribute.oid == const_oid::db::rfc4519::CN)?
        .value
        .clone();
    if let Ok(text) = value.decode_as::<Utf8StringRef<'_>>() {
        return Some(text.as_str().to_string());
    }
    if let Ok(text) = value.decode_as::<PrintableStringRef<'_>>() {
        return Some(text.as_str().to_string());
    }
    value
        .decode_as::<Ia5StringRef<'_>>()
        .ok()
        .map(|text| text.as_str().to_string())
}

fn write_file(path: &Path, bytes: &[u8], private: bool) -> Result<(), PkiError> {
    let result = if private {
        write_private_file(path, bytes)
    } else {
        fs::write(path, bytes)
    };
    result.map_err(|e| PkiError::Io {
        path: path.to_path_buf(),
        detail: e.to_string(),
    })
}

/// When a certificate is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    pub not_before: NaiveDate,
    pub not_after: NaiveDate,
}

impl Validity {
    /// From yesterday for `days` days.
    pub fn days_from_today(days: i64) -> Validity {
        let today = Utc::now().date_naive();
        Validity {
            not_before: today - Duration::days(1),
            not_after: today + Duration::days(days),
        }
    }

    /// Long expired: valid only during 2020.
    pub fn expired() -> Validity {
        Validity {
            not_before: NaiveDate::from_ymd_opt(2020, 1, 1).unwrap_or(NaiveDate::MIN),
            not_after: NaiveDate::from_ymd_opt(2020, 12, 31).unwrap_or(NaiveDate::MIN),
        }
    }

    fn apply(&self, params: &mut CertificateParams) {
        let ymd = |d: NaiveDate| rcgen::date_time_ymd(d.year(), d.month() as u8, d.day() as u8);
        params.not_before = ymd(self.not_before);
        params.not_after = ymd(self.not_after);
    }
}

/// A certificate authority able to issue server and client certificates.
pub struct CertificateAuthority {
    key: KeyPair,
    cert: rcgen::Certificate,
}

fn ca_params(common_name: &str) -> Result<CertificateParams, PkiError> {
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(gen_err)?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    dn.push(DnType::OrganizationName, "veteran-kiosk demo");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    Validity::days_from_today(3650).apply(&mut params);
    Ok(params)
}

impl CertificateAuthority {
    pub fn generate(common_name: &str) -> Result<CertificateAuthority, PkiError> {
        let key = KeyPair::generate().map_err(gen_err)?;
        let cert = ca_params(common_name)?.self_signed(&key).map_err(gen_err)?;
        Ok(CertificateAuthority { key, cert })
    }

    /// Rebuilds an issuer from the CA's key and common name, to issue more
    /// certificates (e.g. for administrators) that chain to the CA
    /// certificate already handed out: a chain is checked by subject name,
    /// key identifier and signature, all of which come from these two.
    pub fn from_key_pem(
        common_name: &str,
        key_pem: &str,
    ) -> Result<CertificateAuthority, PkiError> {
        let key = KeyPair::from_pem(key_pem).map_err(gen_err)?;
        let cert = ca_params(common_name)?.self_signed(&key).map_err(gen_err)?;
        Ok(CertificateAuthority { key, cert })
    }

    pub fn cert_pem(&self) -> String {
        self.cert.pem()
    }

    pub fn key_pem(&self) -> String {
        self.key.serialize_pem()
    }

    fn issue(
        &self,
        mut params: CertificateParams,
        common_name: &str,
        validity: Validity,
    ) -> Result<Issued, PkiError> {
        let key = KeyPair::generate().map_err(gen_err)?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, common_name);
        params.distinguished_name = dn;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.use_authority_key_identifier_extension = true;
        validity.apply(&mut params);
        let cert = params
            .signed_by(&key, &self.cert, &self.key)
            .map_err(gen_err)?;
        Ok(Issued {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }

    /// A server certificate for these DNS names and IP addresses.
    pub fn issue_server(&self, names: &[&str], validity: Validity) -> Result<Issued, PkiError> {
        let mut params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .map_err(gen_err)?;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let cn = names.first().copied().unwrap_or("server");
        self.issue(params, cn, validity)
    }

    /// A client certificate whose common name identifies the holder
    /// (a kiosk id, or an administrator).
    pub fn issue_client(&self, common_name: &str, validity: Validity) -> Result<Issued, PkiError> {
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(gen_err)?;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        self.issue(params, common_name, validity)
    }
}

/// File names inside a demo PKI directory.
pub mod files {
    pub const CA: &str = "ca.pem";
    pub const CA_KEY: &str = "ca-key.pem";
    pub const SERVER: &str = "server.pem";
    pub const SERVER_KEY: &str = "server-key.pem";
    pub const KIOSK: &str = "kiosk.pem";
    pub const KIOSK_KEY: &str = "kiosk-key.pem";
    pub const KIOSK_EXPIRED: &str = "kiosk-expired.pem";
    pub const KIOSK_EXPIRED_KEY: &str = "kiosk-expired-key.pem";
    pub const OTHER_CA: &str = "other-ca.pem";
    pub const OTHER_KIOSK: &str = "other-kiosk.pem";
    pub const OTHER_KIOSK_KEY: &str = "other-kiosk-key.pem";
    pub const OTHER_SERVER: &str = "other-server.pem";
    pub const OTHER_SERVER_KEY: &str = "other-server-key.pem";
    pub const PLATFORM_AGE_IDENTITY: &str = "platform.agekey";
    pub const PLATFORM_AGE_RECIPIENT: &str = "platform.agepub";
}

/// The common name of the demo county CA.
pub const DEMO_CA_NAME: &str = "Demo County Veterans Affairs CA";

/// Paths of a demo PKI directory.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DemoPki {
    pub dir: PathBuf,
    pub ca: PathBuf,
    pub ca_key: PathBuf,
    pub server: PathBuf,
    pub server_key: PathBuf,
    pub kiosk: PathBuf,
    pub kiosk_key: PathBuf,
    pub kiosk_expired: PathBuf,
    pub kiosk_expired_key: PathBuf,
    pub other_ca: PathBuf,
    pub other_kiosk: PathBuf,
    pub other_kiosk_key: PathBuf,
    pub other_server: PathBuf,
    pub other_server_key: PathBuf,
    pub platform_age_identity: PathBuf,
    pub platform_age_recipient: PathBuf,
}

impl DemoPki {
    /// The paths of a demo PKI in `dir` (whether or not it exists yet).
    pub fn at(dir: &Path) -> DemoPki {
        let p = |name: &str| dir.join(name);
        DemoPki {
            dir: dir.to_path_buf(),
            ca: p(files::CA),
            ca_key: p(files::CA_KEY),
            server: p(files::SERVER),
            server_key: p(files::SERVER_KEY),
            kiosk: p(files::KIOSK),
            kiosk_key: p(files::KIOSK_KEY),
            kiosk_expired: p(files::KIOSK_EXPIRED),
            kiosk_expired_key: p(files::KIOSK_EXPIRED_KEY),
            other_ca: p(files::OTHER_CA),
            other_kiosk: p(files::OTHER_KIOSK),
            other_kiosk_key: p(files::OTHER_KIOSK_KEY),
            other_server: p(files::OTHER_SERVER),
            other_server_key: p(files::OTHER_SERVER_KEY),
            platform_age_identity: p(files::PLATFORM_AGE_IDENTITY),
            platform_age_recipient: p(files::PLATFORM_AGE_RECIPIENT),
        }
    }

    /// Makes a demo PKI in `dir`, for kiosk `kiosk_id`. Refuses to
    /// overwrite an existing one.
    pub fn generate(dir: &Path, kiosk_id: &str) -> Result<DemoPki, PkiError> {
        let pki = DemoPki::at(dir);
        if pki.ca.exists() {
            return Err(PkiError::Exists(pki.ca));
        }
        fs::create_dir_all(dir).map_err(|e| PkiError::Io {
            path: dir.to_path_buf(),
            detail: e.to_string(),
        })?;
        let year = Validity::days_from_today(825);
        let server_names = ["localhost", "127.0.0.1", "::1"];

        let ca = CertificateAuthority::generate(DEMO_CA_NAME)?;
        ca.issue_server(&server_names, year)?
            .write(&pki.server, &pki.server_key)?;
        ca.issue_client(kiosk_id, year)?
            .write(&pki.kiosk, &pki.kiosk_key)?;
        ca.issue_client(kiosk_id, Validity::expired())?
            .write(&pki.kiosk_expired, &pki.kiosk_expired_key)?;

        let other = CertificateAuthority::generate("Unrelated CA")?;
        other
            .issue_server(&server_names, year)?
            .write(&pki.other_server, &pki.other_server_key)?;
        other
            .issue_client(kiosk_id, year)?
            .write(&pki.other_kiosk, &pki.other_kiosk_key)?;
        write_file(&pki.other_ca, other.cert_pem().as_bytes(), false)?;

        let identity = age::x25519::Identity::generate();
        let created = Utc::now().to_rfc3339();
        write_file(
            &pki.platform_age_identity,
            seal::identity_file_text(&identity, &created).as_bytes(),
            true,
        )?;
        write_file(
            &pki.platform_age_recipient,
            format!("{}\n", identity.to_public()).as_bytes(),
            false,
        )?;
        // The CA last: its presence marks a complete directory.
        write_file(&pki.ca_key, ca.key_pem().as_bytes(), true)?;
        write_file(&pki.ca, ca.cert_pem().as_bytes(), false)?;
        Ok(pki)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_common_name_is_read_from_a_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let pki = DemoPki::generate(dir.path(), "乡镇-07.kiosk").unwrap();
        let cn = |path: &Path| common_name(&load_certs(path).unwrap()[0]);
        assert_eq!(cn(&pki.kiosk).as_deref(), Some("乡镇-07.kiosk"));
        assert_eq!(cn(&pki.server).as_deref(), Some("localhost"));
        assert_eq!(cn(&pki.ca).as_deref(), Some(DEMO_CA_NAME));
        assert_eq!(common_name(b"not a certificate"), None);
        assert_eq!(common_name(&[]), None);
    }

    #[test]
    fn a_demo_pki_has_every_file_and_refuses_to_be_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let pki = DemoPki::generate(dir.path(), "kiosk-test").unwrap();
        for path in [
            &pki.ca,
            &pki.server,
            &pki.kiosk,
            &pki.kiosk_expired,
            &pki.other_ca,
            &pki.other_kiosk,
        ] {
            assert_eq!(load_certs(path).unwrap().len(), 1, "{}", path.display());
        }
        for path in [&pki.server_key, &pki.kiosk_key, &pki.other_server_key] {
            load_key(path).unwrap();
        }
        let identity =
            seal::parse_identity(&fs::read_to_string(&pki.platform_age_identity).unwrap()).unwrap();
        let recipient =
            seal::parse_recipient(&fs::read_to_string(&pki.platform_age_recipient).unwrap())
                .unwrap();
        assert_eq!(identity.to_public().to_string(), recipient.to_string());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&pki.ca_key).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "CA key readable by others");
        }
        assert!(matches!(
            DemoPki::generate(dir.path(), "kiosk-test"),
            Err(PkiError::Exists(_))
        ));
    }

    #[test]
    fn bad_pem_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk.pem");
        fs::write(&junk, "not a certificate").unwrap();
        assert_eq!(load_certs(&junk).unwrap_err().code(), "pki_certificate");
        assert_eq!(load_key(&junk).unwrap_err().code(), "pki_key");
        assert_eq!(
            load_certs(&dir.path().join("absent.pem"))
                .unwrap_err()
                .code(),
            "pki_io"
        );
    }
}

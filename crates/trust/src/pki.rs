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

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
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

/// When a DER certificate says it is valid, as (notBefore, notAfter);
/// `None` when it does not parse. A kiosk uses its own certificate's
/// notBefore as a floor under which its clock cannot be right.
pub fn certificate_validity(der: &[u8]) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    use x509_cert::der::Decode;
    let certificate = x509_cert::Certificate::from_der(der).ok()?;
    let validity = &certificate.tbs_certificate.validity;
    let at = |t: &x509_cert::time::Time| {
        let since = t.to_unix_duration();
        DateTime::<Utc>::from_timestamp(i64::try_from(since.as_secs()).ok()?, 0)
    };
    Some((at(&validity.not_before)?, at(&validity.not_after)?))
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

    /// The issuer of a CA certificate file and its key: the CA is rebuilt
    /// from its key and CN (see [`CertificateAuthority::from_key_pem`]) and
    /// must then have exactly the subject and key of the certificate the
    /// kiosks and the platform trust, or certificates it issued would not
    /// chain; a CA not made this way is refused rather than issuing
    /// certificates nobody accepts.
    pub fn from_ca_files(ca_cert: &Path, ca_key: &Path) -> Result<CertificateAuthority, PkiError> {
        use x509_cert::der::{Decode, Encode};
        let certs = load_certs(ca_cert)?;
        let bad = |detail: &str| PkiError::BadCertificate {
            path: ca_cert.to_path_buf(),
            detail: detail.to_string(),
        };
        let first = certs.first().ok_or_else(|| bad("empty"))?;
        let trusted =
            x509_cert::Certificate::from_der(first.as_ref()).map_err(|e| bad(&e.to_string()))?;
        let common_name = common_name(first.as_ref()).ok_or_else(|| bad("no CN"))?;
        let key_pem = fs::read_to_string(ca_key).map_err(|e| PkiError::Io {
            path: ca_key.to_path_buf(),
            detail: e.to_string(),
        })?;
        let ca = CertificateAuthority::from_key_pem(&common_name, &key_pem)?;
        let rebuilt = x509_cert::Certificate::from_der(ca.cert.der().as_ref())
            .map_err(|e| bad(&e.to_string()))?;
        let same_subject = trusted.tbs_certificate.subject.to_der().ok()
            == rebuilt.tbs_certificate.subject.to_der().ok();
        let same_key = trusted.tbs_certificate.subject_public_key_info
            == rebuilt.tbs_certificate.subject_public_key_info;
        if !same_key {
            return Err(bad("the CA key does not belong to this CA certificate"));
        }
        if !same_subject {
            return Err(bad(
                "the CA's subject cannot be reproduced (only CAs made by `veteran-kiosk pki` issue from the console)",
            ));
        }
        Ok(ca)
    }

    /// A client certificate for a checked request: the holder of the
    /// request's key gets the CN the request names.
    pub fn sign_request(
        &self,
        request: &CertificateRequest,
        validity: Validity,
    ) -> Result<String, PkiError> {
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(gen_err)?;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, request.common_name.as_str());
        params.distinguished_name = dn;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.use_authority_key_identifier_extension = true;
        validity.apply(&mut params);
        let cert = params
            .signed_by(&request.public_key, &self.cert, &self.key)
            .map_err(gen_err)?;
        Ok(cert.pem())
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

/// SHA-256 (lower-case hex) of the first certificate in a PEM text: the
/// fingerprint the platform knows a kiosk certificate by (the same value as
/// `PeerCert::sha256` of a connection holding it).
pub fn pem_fingerprint(pem: &str) -> Option<String> {
    CertificateDer::pem_slice_iter(pem.as_bytes())
        .next()?
        .ok()
        .map(|der| crate::sha256_hex(der.as_ref()))
}

/// The subject CN of a name (the last CN; see [`common_name`]).
fn name_common_name(name: &x509_cert::name::Name) -> Option<String> {
    use x509_cert::der::asn1::{Ia5StringRef, PrintableStringRef, Utf8StringRef};
    let value = name
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

/// A certificate request (PKCS#10) whose proof of possession was checked:
/// whoever made it holds the private key of the public key inside.
pub struct CertificateRequest {
    /// The requested subject CN (for a kiosk: its id).
    pub common_name: String,
    public_key: RequestPublicKey,
}

/// The public key of a request, in the form rcgen signs a certificate for.
struct RequestPublicKey {
    raw: Vec<u8>,
    algorithm: &'static rcgen::SignatureAlgorithm,
}

impl rcgen::PublicKeyData for RequestPublicKey {
    fn der_bytes(&self) -> &[u8] {
        &self.raw
    }

    fn algorithm(&self) -> &rcgen::SignatureAlgorithm {
        self.algorithm
    }
}

/// Why a certificate request is refused (each with a message for county staff).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("not a PEM certificate request (PKCS#10)")]
    NotARequest,
    #[error("the request names no common name")]
    NoCommonName,
    #[error("only ECDSA P-256, ECDSA P-384 and Ed25519 requests are signed")]
    UnsupportedKey,
    #[error("the request's signature does not match its key: it was altered or made wrongly")]
    BadSignature,
}

impl RequestError {
    pub fn message_zh(&self) -> &'static str {
        match self {
            RequestError::NotARequest => {
                "这不是证书请求文件（应以 -----BEGIN CERTIFICATE REQUEST----- 开头）。"
            }
            RequestError::NoCommonName => "证书请求中没有终端编号（CN）。",
            RequestError::UnsupportedKey => {
                "证书请求的密钥类型不受支持（仅支持 ECDSA P-256/P-384 和 Ed25519）。"
            }
            RequestError::BadSignature => "证书请求的签名与其公钥不符，可能已被篡改。",
        }
    }
}

impl CertificateRequest {
    /// Parses a PEM request and checks its self-signature.
    pub fn parse_pem(pem: &str) -> Result<CertificateRequest, RequestError> {
        use ring::signature;
        use rustls_pki_types::CertificateSigningRequestDer;
        use x509_cert::der::{Decode, Encode};
        let der = CertificateSigningRequestDer::from_pem_slice(pem.as_bytes())
            .map_err(|_| RequestError::NotARequest)?;
        let request = x509_cert::request::CertReq::from_der(der.as_ref())
            .map_err(|_| RequestError::NotARequest)?;
        let info = request
            .info
            .to_der()
            .map_err(|_| RequestError::NotARequest)?;
        let key = &request.info.public_key;
        let raw = key.subject_public_key.raw_bytes().to_vec();
        let curve = key
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.decode_as::<const_oid::ObjectIdentifier>().ok());
        const EC_PUBLIC_KEY: const_oid::ObjectIdentifier =
            const_oid::ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
        const P256: const_oid::ObjectIdentifier =
            const_oid::ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
        const P384: const_oid::ObjectIdentifier =
            const_oid::ObjectIdentifier::new_unwrap("1.3.132.0.34");
        const ED25519: const_oid::ObjectIdentifier =
            const_oid::ObjectIdentifier::new_unwrap("1.3.101.112");
        const ECDSA_SHA256: const_oid::ObjectIdentifier =
            const_oid::ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
        const ECDSA_SHA384: const_oid::ObjectIdentifier =
            const_oid::ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
        let (algorithm, verify): (
            &'static rcgen::SignatureAlgorithm,
            &'static dyn signature::VerificationAlgorithm,
        ) = match (key.algorithm.oid, curve, request.algorithm.oid) {
            (EC_PUBLIC_KEY, Some(P256), ECDSA_SHA256) => (
                &rcgen::PKCS_ECDSA_P256_SHA256,
                &signature::ECDSA_P256_SHA256_ASN1,
            ),
            (EC_PUBLIC_KEY, Some(P384), ECDSA_SHA384) => (
                &rcgen::PKCS_ECDSA_P384_SHA384,
                &signature::ECDSA_P384_SHA384_ASN1,
            ),
            (ED25519, None, ED25519) => (&rcgen::PKCS_ED25519, &signature::ED25519),
            _ => return Err(RequestError::UnsupportedKey),
        };
        signature::UnparsedPublicKey::new(verify, &raw)
            .verify(&info, request.signature.raw_bytes())
            .map_err(|_| RequestError::BadSignature)?;
        let common_name =
            name_common_name(&request.info.subject).ok_or(RequestError::NoCommonName)?;
        Ok(CertificateRequest {
            common_name,
            public_key: RequestPublicKey { raw, algorithm },
        })
    }
}

/// A new key pair and a certificate request for it (what a kiosk makes
/// with `veteran-kiosk pki csr`): the private key never leaves the kiosk,
/// the county CA signs the request.
pub fn make_request(common_name: &str) -> Result<Issued, PkiError> {
    let key = KeyPair::generate().map_err(gen_err)?;
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(gen_err)?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    params.distinguished_name = dn;
    let request = params.serialize_request(&key).map_err(gen_err)?;
    Ok(Issued {
        cert_pem: request.pem().map_err(gen_err)?,
        key_pem: key.serialize_pem(),
    })
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
    fn a_request_is_signed_into_a_certificate_that_chains_to_the_ca() {
        let dir = tempfile::tempdir().unwrap();
        let pki = DemoPki::generate(dir.path(), "kiosk-test").unwrap();
        let ca = CertificateAuthority::from_ca_files(&pki.ca, &pki.ca_key).unwrap();
        let made = make_request("ks-new-01").unwrap();
        let request = CertificateRequest::parse_pem(&made.cert_pem).unwrap();
        assert_eq!(request.common_name, "ks-new-01");
        let cert_pem = ca
            .sign_request(&request, Validity::days_from_today(30))
            .unwrap();
        let cert_path = dir.path().join("new.pem");
        fs::write(&cert_path, &cert_pem).unwrap();
        let der = load_certs(&cert_path).unwrap().remove(0);
        assert_eq!(common_name(&der).as_deref(), Some("ks-new-01"));
        assert_eq!(
            pem_fingerprint(&cert_pem).unwrap(),
            crate::sha256_hex(der.as_ref())
        );
        // The certificate verifies against the CA as a client certificate.
        let roots = Arc::new(root_store(&pki.ca).unwrap());
        let verifier =
            rustls::server::WebPkiClientVerifier::builder_with_provider(roots, crypto_provider())
                .build()
                .unwrap();
        verifier
            .verify_client_cert(&der, &[], rustls_pki_types::UnixTime::now())
            .unwrap();
        // A request altered after signing is refused.
        let mut body: Vec<u8> = made.cert_pem.clone().into_bytes();
        let middle = body.len() / 2;
        body[middle] = if body[middle] == b'A' { b'B' } else { b'A' };
        assert!(CertificateRequest::parse_pem(&String::from_utf8(body).unwrap()).is_err());
        assert_eq!(
            CertificateRequest::parse_pem("junk").err(),
            Some(RequestError::NotARequest)
        );
        // A CA key that is not this CA's is refused.
        let other = dir.path().join("other-key.pem");
        fs::write(
            &other,
            CertificateAuthority::generate("x").unwrap().key_pem(),
        )
        .unwrap();
        assert!(CertificateAuthority::from_ca_files(&pki.ca, &other).is_err());
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

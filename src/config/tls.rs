//! The kiosk's mutual-TLS identity: the county CA it trusts, its own
//! certificate chain and private key, read and checked when the
//! configuration loads (so a broken file is found before the first upload).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::error::ConfigErrorKind;

/// A PEM file bigger than this is not a certificate or a key.
const MAX_PEM_BYTES: u64 = 256 * 1024;

/// What [`load`] complains about; the caller adds file, line and key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TlsProblem {
    pub kind: ConfigErrorKind,
    pub detail: String,
}

impl TlsProblem {
    fn new(kind: ConfigErrorKind, detail: impl Into<String>) -> Self {
        TlsProblem {
            kind,
            detail: detail.into(),
        }
    }
}

/// Where the three files are; relative paths were resolved against the
/// directory of the TOML file that names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsPaths {
    pub ca_certificate: PathBuf,
    pub certificate: PathBuf,
    pub private_key: PathBuf,
}

pub struct TlsIdentity {
    pub paths: TlsPaths,
    /// Every certificate in the CA file; only these are trusted.
    pub ca_certificates: Vec<CertificateDer<'static>>,
    /// The kiosk's certificate first, then any intermediates.
    pub certificate_chain: Vec<CertificateDer<'static>>,
    private_key: PrivateKeyDer<'static>,
}

impl TlsIdentity {
    pub fn private_key(&self) -> PrivateKeyDer<'static> {
        self.private_key.clone_key()
    }

    /// The trust store for the platform's server certificate.
    pub fn root_store(&self) -> rustls::RootCertStore {
        let mut roots = rustls::RootCertStore::empty();
        // Every certificate was added once already during loading.
        let (_added, _ignored) = roots.add_parsable_certificates(self.ca_certificates.clone());
        roots
    }

    /// The same material, but possibly other files: no restart is needed
    /// when only the paths moved.
    pub fn same_material(&self, other: &TlsIdentity) -> bool {
        self.ca_certificates == other.ca_certificates
            && self.certificate_chain == other.certificate_chain
            && self.private_key.secret_der() == other.private_key.secret_der()
    }
}

impl Clone for TlsIdentity {
    fn clone(&self) -> Self {
        TlsIdentity {
            paths: self.paths.clone(),
            ca_certificates: self.ca_certificates.clone(),
            certificate_chain: self.certificate_chain.clone(),
            private_key: self.private_key.clone_key(),
        }
    }
}

impl PartialEq for TlsIdentity {
    fn eq(&self, other: &Self) -> bool {
        self.paths == other.paths && self.same_material(other)
    }
}

impl Eq for TlsIdentity {}

impl fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsIdentity")
            .field("paths", &self.paths)
            .field("ca_certificates", &self.ca_certificates.len())
            .field("certificate_chain", &self.certificate_chain.len())
            .field("private_key", &"<secret>")
            .finish()
    }
}

/// Which of the three files a problem is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TlsFile {
    CaCertificate,
    Certificate,
    PrivateKey,
}

pub(crate) fn load(paths: TlsPaths) -> Result<TlsIdentity, (TlsFile, TlsProblem)> {
    let ca_certificates =
        read_certificates(&paths.ca_certificate).map_err(|p| (TlsFile::CaCertificate, p))?;
    let mut roots = rustls::RootCertStore::empty();
    for certificate in &ca_certificates {
        roots.add(certificate.clone()).map_err(|err| {
            (
                TlsFile::CaCertificate,
                TlsProblem::new(
                    ConfigErrorKind::BadCertificate,
                    format!("not a usable CA certificate: {err}"),
                ),
            )
        })?;
    }
    let certificate_chain =
        read_certificates(&paths.certificate).map_err(|p| (TlsFile::Certificate, p))?;
    let private_key = read_private_key(&paths.private_key).map_err(|p| (TlsFile::PrivateKey, p))?;
    check_pair(&certificate_chain, &private_key)?;
    Ok(TlsIdentity {
        paths,
        ca_certificates,
        certificate_chain,
        private_key,
    })
}

fn read_pem(path: &Path) -> Result<Vec<u8>, TlsProblem> {
    trust::files::read_limited(path, MAX_PEM_BYTES).map_err(|err| {
        TlsProblem::new(
            ConfigErrorKind::MissingFile,
            format!("cannot read {}: {err}", path.display()),
        )
    })
}

fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsProblem> {
    let pem = read_pem(path)?;
    let bad = |detail: String| {
        TlsProblem::new(
            ConfigErrorKind::BadCertificate,
            format!("{}: {detail}", path.display()),
        )
    };
    let certificates = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| bad(format!("not PEM: {err}")))?;
    if certificates.is_empty() {
        return Err(bad("no CERTIFICATE block in the file".to_string()));
    }
    Ok(certificates)
}

fn read_private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsProblem> {
    let pem = read_pem(path)?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|err| {
        TlsProblem::new(
            ConfigErrorKind::BadPrivateKey,
            format!("{}: no private key in PEM: {err}", path.display()),
        )
    })
}

/// The key must be one rustls can sign with and belong to the certificate.
fn check_pair(
    chain: &[CertificateDer<'static>],
    key: &PrivateKeyDer<'static>,
) -> Result<(), (TlsFile, TlsProblem)> {
    let provider = rustls::crypto::ring::default_provider();
    let signing_key = provider
        .key_provider
        .load_private_key(key.clone_key())
        .map_err(|err| {
            (
                TlsFile::PrivateKey,
                TlsProblem::new(
                    ConfigErrorKind::BadPrivateKey,
                    format!("not a usable private key: {err}"),
                ),
            )
        })?;
    let certified = rustls::sign::CertifiedKey::new(chain.to_vec(), Arc::clone(&signing_key));
    match certified.keys_match() {
        Ok(()) => Ok(()),
        Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) => Err((
            TlsFile::PrivateKey,
            TlsProblem::new(
                ConfigErrorKind::KeyMismatch,
                "the private key does not belong to the certificate",
            ),
        )),
        Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => Ok(()),
        Err(err) => Err((
            TlsFile::Certificate,
            TlsProblem::new(
                ConfigErrorKind::BadCertificate,
                format!("not a usable certificate: {err}"),
            ),
        )),
    }
}

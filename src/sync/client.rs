//! HTTPS with mutual TLS to the county platform (reqwest + rustls).
//!
//! TLS 1.3 only; the county CA from the configuration is the only trust
//! anchor (no system roots); the kiosk presents its client certificate.
//! Every transport failure is mapped to one [`UploadOutcome`] so the sync
//! core's table can decide what it means.

use std::path::Path;
use std::time::Duration;

use reqwest::StatusCode;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use uuid::Uuid;

use super::core::UploadOutcome;
use crate::store::SealedUpload;
use kiosk_core::id_number::IdNumber;
use kiosk_core::record::Record;
use trust::pki::{self, PkiError};
use wire::records::{
    LookUpAnswer, LookUpQuery, ReviewAnswer, ReviewQuery, ReviewState, UploadAnswer,
};
use wire::{KIOSK_BACKLOG_HEADER, MAX_REVIEW_IDS, RECORD_NUMBER_HEADER};

/// How to reach the platform: the parsed URL and TLS material, handed on
/// as the configuration parsed them (never turned back into paths).
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// e.g. `https://platform.example:8443`
    pub platform_url: url::Url,
    pub identity: ClientIdentity,
    pub connect_timeout: Duration,
    /// For a whole request, upload included.
    pub request_timeout: Duration,
}

impl ClientSettings {
    /// Settings for a demo PKI directory made by `pki demo`.
    pub fn demo(pki_dir: &Path, platform_url: &str) -> Result<ClientSettings, ClientError> {
        let pki = pki::DemoPki::at(pki_dir);
        Ok(ClientSettings {
            platform_url: parse_platform_url(platform_url)?,
            identity: ClientIdentity::from_files(&pki.ca, &pki.kiosk, &pki.kiosk_key)?,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(120),
        })
    }
}

/// The kiosk's mutual-TLS material, parsed: the county CA certificates
/// (the only ones trusted), its own certificate chain and private key.
pub struct ClientIdentity {
    pub ca_certificates: Vec<CertificateDer<'static>>,
    /// The kiosk's certificate first, then any intermediates.
    pub certificate_chain: Vec<CertificateDer<'static>>,
    private_key: PrivateKeyDer<'static>,
}

impl ClientIdentity {
    pub fn new(
        ca_certificates: Vec<CertificateDer<'static>>,
        certificate_chain: Vec<CertificateDer<'static>>,
        private_key: PrivateKeyDer<'static>,
    ) -> ClientIdentity {
        ClientIdentity {
            ca_certificates,
            certificate_chain,
            private_key,
        }
    }

    /// From PEM files, for the command line and tests (the kiosk's
    /// configuration has read and checked its files already).
    pub fn from_files(ca: &Path, cert: &Path, key: &Path) -> Result<ClientIdentity, PkiError> {
        Ok(ClientIdentity::new(
            pki::load_certs(ca)?,
            pki::load_certs(cert)?,
            pki::load_key(key)?,
        ))
    }

    pub fn private_key(&self) -> PrivateKeyDer<'static> {
        self.private_key.clone_key()
    }
}

impl Clone for ClientIdentity {
    fn clone(&self) -> Self {
        ClientIdentity::new(
            self.ca_certificates.clone(),
            self.certificate_chain.clone(),
            self.private_key(),
        )
    }
}

/// Never prints the key.
impl std::fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientIdentity")
            .field("ca_certificates", &self.ca_certificates.len())
            .field("certificate_chain", &self.certificate_chain.len())
            .finish_non_exhaustive()
    }
}

/// The platform's base URL: https with a host, nothing else.
pub fn parse_platform_url(text: &str) -> Result<url::Url, ClientError> {
    url::Url::parse(text)
        .ok()
        .filter(|u| u.scheme() == "https" && u.host().is_some())
        .ok_or_else(|| ClientError::Url(text.to_string()))
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(transparent)]
    Pki(#[from] PkiError),
    #[error("platform URL {0:?} is not an https URL")]
    Url(String),
    #[error("HTTP client: {0}")]
    Build(String),
    #[error("the platform could not be reached ({0:?})")]
    Unreachable(UploadOutcome),
    #[error("the platform refused the look-up: {code}")]
    Refused { code: String },
}

impl ClientError {
    pub fn code(&self) -> &'static str {
        match self {
            ClientError::Pki(e) => e.code(),
            ClientError::Url(_) => "platform_url",
            ClientError::Build(_) => "http_client",
            ClientError::Unreachable(_) => "platform_unreachable",
            ClientError::Refused { .. } => "platform_refused",
        }
    }

    pub fn message_zh(&self) -> &'static str {
        match self {
            ClientError::Pki(e) => e.message_zh(),
            ClientError::Url(_) => "县平台地址配置有误",
            ClientError::Build(_) => "网络组件初始化失败",
            ClientError::Unreachable(_) => "暂时无法连接县平台",
            ClientError::Refused { .. } => "县平台拒绝了查询",
        }
    }
}

/// The kiosk's TLS: 1.3 only, the county CA only, with the client certificate.
pub fn tls_config(settings: &ClientSettings) -> Result<rustls::ClientConfig, PkiError> {
    let identity = &settings.identity;
    let mut roots = rustls::RootCertStore::empty();
    for cert in &identity.ca_certificates {
        roots
            .add(cert.clone())
            .map_err(|e| PkiError::Tls(e.to_string()))?;
    }
    rustls::ClientConfig::builder_with_provider(pki::crypto_provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| PkiError::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_client_auth_cert(identity.certificate_chain.clone(), identity.private_key())
        .map_err(|e| PkiError::Tls(e.to_string()))
}

/// An HTTPS client for the county platform with mutual TLS (only the county
/// CA trusted), and the platform's base URL (https only). Shared by record
/// upload and configuration polling.
pub fn mtls_client(
    settings: &ClientSettings,
) -> Result<(reqwest::blocking::Client, reqwest::Url), ClientError> {
    // Checked again: settings can be made by hand.
    let base = parse_platform_url(settings.platform_url.as_str())?;
    let http = reqwest::blocking::Client::builder()
        .use_preconfigured_tls(tls_config(settings)?)
        .connect_timeout(settings.connect_timeout)
        .timeout(settings.request_timeout)
        .no_proxy()
        .build()
        .map_err(|e| ClientError::Build(e.to_string()))?;
    Ok((http, base))
}

pub struct PlatformClient {
    http: reqwest::blocking::Client,
    base: reqwest::Url,
    /// Records waiting in the outbox, told to the platform with each
    /// request ([`wire::KIOSK_BACKLOG_HEADER`]) for the county's registry.
    backlog: std::sync::atomic::AtomicUsize,
}

impl PlatformClient {
    pub fn new(settings: &ClientSettings) -> Result<PlatformClient, ClientError> {
        let (http, base) = mtls_client(settings)?;
        Ok(PlatformClient {
            http,
            base,
            backlog: std::sync::atomic::AtomicUsize::new(0),
        })
    }

    fn url(&self, path: &str) -> reqwest::Url {
        let mut url = self.base.clone();
        let prefix = url.path().trim_end_matches('/').to_string();
        url.set_path(&format!("{prefix}{path}"));
        url
    }

    /// How many signed records wait in the outbox (sent along from now on).
    pub fn set_backlog(&self, records: usize) {
        self.backlog
            .store(records, std::sync::atomic::Ordering::Relaxed);
    }

    fn backlog(&self) -> String {
        self.backlog
            .load(std::sync::atomic::Ordering::Relaxed)
            .to_string()
    }

    /// Sends one sealed record (`PUT /v1/records/{id}`).
    pub fn upload(&self, upload: &SealedUpload) -> UploadOutcome {
        let response = self
            .http
            .put(self.url(&format!("/v1/records/{}", upload.record_id)))
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .header(RECORD_NUMBER_HEADER, upload.record_number.as_str())
            .header(KIOSK_BACKLOG_HEADER, self.backlog())
            .body(upload.sealed.clone())
            .send();
        let response = match response {
            Ok(r) => r,
            Err(e) => return transport_outcome(&e),
        };
        let status = response.status();
        // Read the whole answer: a connection cut mid-answer is a reset.
        let body = match response.bytes() {
            Ok(b) => b,
            Err(e) => return transport_outcome(&e),
        };
        let parsed = serde_json::from_slice::<UploadAnswer>(&body).ok();
        match (status, parsed) {
            (StatusCode::CREATED, Some(UploadAnswer::Stored { .. })) => UploadOutcome::Stored,
            (StatusCode::OK, Some(UploadAnswer::AlreadyStored { .. })) => {
                UploadOutcome::AlreadyStored
            }
            (StatusCode::UNPROCESSABLE_ENTITY, Some(UploadAnswer::Rejected { reasons, .. })) => {
                UploadOutcome::Rejected(reasons)
            }
            (StatusCode::CONFLICT, _) => UploadOutcome::Conflict,
            (s, _) if s.is_server_error() => UploadOutcome::ServerError(s.as_u16()),
            (s, _) => UploadOutcome::UnexpectedStatus(s.as_u16()),
        }
    }

    /// The review state of each record (`POST /v1/reviews`, in chunks).
    pub fn reviews(&self, ids: &[Uuid]) -> Result<Vec<(Uuid, ReviewState)>, UploadOutcome> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(MAX_REVIEW_IDS) {
            let answer: ReviewAnswer = self.post_json(
                "/v1/reviews",
                &ReviewQuery {
                    record_ids: chunk.to_vec(),
                },
            )?;
            out.extend(
                answer
                    .reviews
                    .into_iter()
                    .map(|item| (item.record_id, item.review)),
            );
        }
        Ok(out)
    }

    /// The county's existing record of this person, if it has one.
    pub fn look_up(&self, id: &IdNumber) -> Result<Option<Record>, ClientError> {
        let answer: LookUpAnswer = self
            .post_json(
                "/v1/people/lookup",
                &LookUpQuery {
                    id_number: id.as_str().to_string(),
                },
            )
            .map_err(|outcome| match outcome {
                UploadOutcome::UnexpectedStatus(s) => ClientError::Refused {
                    code: s.to_string(),
                },
                other => ClientError::Unreachable(other),
            })?;
        Ok(answer.record.filter(|_| answer.found))
    }

    /// `GET /v1/health`: can the platform be reached, TLS and all?
    pub fn health(&self) -> Result<(), UploadOutcome> {
        match self.http.get(self.url("/v1/health")).send() {
            Ok(r) if r.status().is_success() => Ok(()),
            Ok(r) if r.status().is_server_error() => {
                Err(UploadOutcome::ServerError(r.status().as_u16()))
            }
            Ok(r) => Err(UploadOutcome::UnexpectedStatus(r.status().as_u16())),
            Err(e) => Err(transport_outcome(&e)),
        }
    }

    fn post_json<Q: serde::Serialize, A: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        query: &Q,
    ) -> Result<A, UploadOutcome> {
        let response = self
            .http
            .post(self.url(path))
            .header(KIOSK_BACKLOG_HEADER, self.backlog())
            .json(query)
            .send()
            .map_err(|e| transport_outcome(&e))?;
        let status = response.status();
        if status.is_server_error() {
            return Err(UploadOutcome::ServerError(status.as_u16()));
        }
        if !status.is_success() {
            return Err(UploadOutcome::UnexpectedStatus(status.as_u16()));
        }
        let body = response.bytes().map_err(|e| transport_outcome(&e))?;
        serde_json::from_slice(&body).map_err(|_| UploadOutcome::UnexpectedStatus(status.as_u16()))
    }
}

/// Every error in a chain, including the ones an `io::Error` wraps (its
/// `source()` skips them).
fn visit_errors<'a>(
    error: &'a (dyn std::error::Error + 'static),
    out: &mut Vec<&'a (dyn std::error::Error + 'static)>,
) {
    if out.len() > 32 {
        return;
    }
    out.push(error);
    if let Some(inner) = error
        .downcast_ref::<std::io::Error>()
        .and_then(|io| io.get_ref())
    {
        visit_errors(inner, out);
    }
    if let Some(source) = error.source() {
        visit_errors(source, out);
    }
}

/// The platform's certificate is not valid at the time the kiosk's clock
/// says: with a clock years wrong this is what every handshake fails on,
/// and staff must hear "the clock", not "the certificate".
fn is_certificate_date(error: &rustls::Error) -> bool {
    use rustls::CertificateError as C;
    matches!(
        error,
        rustls::Error::InvalidCertificate(
            C::Expired | C::ExpiredContext { .. } | C::NotValidYet | C::NotValidYetContext { .. }
        )
    )
}

/// Maps a reqwest failure to the outcome the table knows.
pub fn transport_outcome(error: &reqwest::Error) -> UploadOutcome {
    if error.is_timeout() {
        return UploadOutcome::Timeout;
    }
    let mut chain = Vec::new();
    visit_errors(error, &mut chain);
    let tls: Vec<&rustls::Error> = chain
        .iter()
        .filter_map(|e| e.downcast_ref::<rustls::Error>())
        .collect();
    if tls.iter().any(|e| is_certificate_date(e)) {
        return UploadOutcome::CertificateDate;
    }
    if !tls.is_empty() {
        return UploadOutcome::Tls;
    }
    let io_kinds: Vec<std::io::ErrorKind> = chain
        .iter()
        .filter_map(|e| e.downcast_ref::<std::io::Error>())
        .map(std::io::Error::kind)
        .collect();
    let has = |kinds: &[std::io::ErrorKind]| io_kinds.iter().any(|k| kinds.contains(k));
    use std::io::ErrorKind as K;
    if has(&[K::TimedOut]) {
        UploadOutcome::Timeout
    } else if has(&[K::ConnectionRefused]) {
        UploadOutcome::ConnectionRefused
    } else if has(&[
        K::ConnectionReset,
        K::ConnectionAborted,
        K::BrokenPipe,
        K::UnexpectedEof,
    ]) {
        UploadOutcome::ConnectionReset
    } else if error.is_connect() {
        UploadOutcome::Transport
    } else if error.is_request() || error.is_body() || error.is_decode() {
        // Cut off mid-request or mid-answer (hyper's "incomplete message").
        UploadOutcome::ConnectionReset
    } else {
        UploadOutcome::Transport
    }
}

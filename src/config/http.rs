//! Configuration over HTTPS with mutual TLS: the kiosk's [`ConfigTransport`]
//! and the administrator's push, on the sync client's TLS policy (TLS 1.3,
//! the county CA only, a client certificate).

use std::time::Duration;

use reqwest::StatusCode;

use kiosk_core::kiosk::KioskIdentity;
use trust::bundle::MAX_BUNDLE_BYTES;
use wire::config::{KioskConfigReport, KioskStatus, KiosksAnswer, NewestQuery, Published};
use wire::ErrorBody;

use super::poll::{ConfigTransport, TransportError};
use super::Config;
use crate::sync::client::{
    mtls_client, transport_outcome, ClientError, ClientIdentity, ClientSettings,
};
use crate::sync::core::UploadOutcome;

pub struct HttpConfigTransport {
    http: reqwest::blocking::Client,
    base: reqwest::Url,
}

/// How a push went wrong.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The platform answered with a refusal (`code` from its JSON body).
    #[error("the platform refused the bundle ({status}): {code}: {message}")]
    Refused {
        status: u16,
        code: String,
        message: String,
    },
}

impl PushError {
    pub fn code(&self) -> String {
        match self {
            PushError::Transport(err) => err.code.clone(),
            PushError::Refused { code, .. } => code.clone(),
        }
    }
}

impl HttpConfigTransport {
    pub fn new(settings: &ClientSettings) -> Result<HttpConfigTransport, ClientError> {
        let (http, base) = mtls_client(settings)?;
        Ok(HttpConfigTransport { http, base })
    }

    /// The kiosk's transport, from its configuration.
    pub fn for_kiosk(config: &Config) -> Result<HttpConfigTransport, ClientError> {
        HttpConfigTransport::new(&client_settings(config))
    }

    fn url(&self, path: &str, query: Option<&str>) -> reqwest::Url {
        let mut url = self.base.clone();
        let prefix = url.path().trim_end_matches('/').to_string();
        url.set_path(&format!("{prefix}{path}"));
        url.set_query(query);
        url
    }

    /// An administrator pushes a signed bundle (`PUT /v1/config/bundles`).
    pub fn push(&self, bundle: &[u8]) -> Result<Published, PushError> {
        let response = self
            .http
            .put(self.url("/v1/config/bundles", None))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(bundle.to_vec())
            .send()
            .map_err(|e| transport_error(&e))?;
        let status = response.status();
        let body = response.bytes().map_err(|e| transport_error(&e))?;
        if status == StatusCode::CREATED {
            return serde_json::from_slice(&body).map_err(|_| {
                PushError::Transport(TransportError::new("bad_answer", "not a push answer"))
            });
        }
        // A body that is not the error shape still refuses, with empty words.
        let answer =
            serde_json::from_slice::<ErrorBody>(&body).unwrap_or_else(|_| ErrorBody::new("", ""));
        Err(PushError::Refused {
            status: status.as_u16(),
            code: answer.code,
            message: answer.message,
        })
    }

    /// What every kiosk last reported (`GET /v1/config/kiosks`).
    pub fn kiosks(&self) -> Result<Vec<KioskStatus>, TransportError> {
        let response = self
            .http
            .get(self.url("/v1/config/kiosks", None))
            .send()
            .map_err(|e| transport_error(&e))?;
        let status = response.status();
        if !status.is_success() {
            return Err(status_error(status));
        }
        let body = response.bytes().map_err(|e| transport_error(&e))?;
        serde_json::from_slice::<KiosksAnswer>(&body)
            .map(|a| a.kiosks)
            .map_err(|e| TransportError::new("bad_answer", e.to_string()))
    }
}

impl ConfigTransport for HttpConfigTransport {
    fn fetch_newest(
        &mut self,
        kiosk: &KioskIdentity,
        after: u64,
    ) -> Result<Option<Vec<u8>>, TransportError> {
        let query = NewestQuery {
            kiosk: kiosk.id.clone(),
            township: kiosk.township.code.clone(),
            after,
        };
        let response = self
            .http
            .get(self.url("/v1/config/bundles/newest", Some(&query.to_query())))
            .send()
            .map_err(|e| transport_error(&e))?;
        match response.status() {
            StatusCode::NO_CONTENT => Ok(None),
            StatusCode::OK => {
                // Never more than a bundle may be, whatever the other end sends.
                use std::io::Read;
                let mut bytes = Vec::new();
                response
                    .take(MAX_BUNDLE_BYTES as u64 + 1)
                    .read_to_end(&mut bytes)
                    .map_err(|e| TransportError::new("connection_reset", e.to_string()))?;
                if bytes.len() > MAX_BUNDLE_BYTES {
                    return Err(TransportError::new(
                        "too_large",
                        "the answer is larger than a bundle may be",
                    ));
                }
                Ok(Some(bytes))
            }
            other => Err(status_error(other)),
        }
    }

    fn send_report(&mut self, report: &KioskConfigReport) -> Result<(), TransportError> {
        let response = self
            .http
            .post(self.url("/v1/config/reports", None))
            .json(report)
            .send()
            .map_err(|e| transport_error(&e))?;
        let status = response.status();
        // Read the answer to the end: a cut connection is not a delivery.
        response.bytes().map_err(|e| transport_error(&e))?;
        if status.is_success() {
            Ok(())
        } else {
            Err(status_error(status))
        }
    }
}

/// The sync client's settings for this kiosk's configuration.
pub fn client_settings(config: &Config) -> ClientSettings {
    ClientSettings {
        platform_url: config.platform.url.clone(),
        identity: ClientIdentity::new(
            config.tls.ca_certificates.clone(),
            config.tls.certificate_chain.clone(),
            config.tls.private_key(),
        ),
        connect_timeout: Duration::from_secs(10),
        request_timeout: Duration::from_secs(60),
    }
}

fn status_error(status: StatusCode) -> TransportError {
    TransportError::new(
        format!("http_{}", status.as_u16()),
        status.canonical_reason().unwrap_or("unexpected status"),
    )
}

fn transport_error(error: &reqwest::Error) -> TransportError {
    let code = match transport_outcome(error) {
        UploadOutcome::Tls | UploadOutcome::CertificateDate => TransportError::TLS,
        UploadOutcome::Timeout => "timeout",
        UploadOutcome::ConnectionRefused => "connection_refused",
        UploadOutcome::ConnectionReset => "connection_reset",
        _ => "transport",
    };
    TransportError::new(code, error.to_string())
}

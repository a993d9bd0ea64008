//! The reference county platform: for demos, tests, and as the living
//! definition of the contract in docs/platform-api.md (whose types are the
//! `wire` crate).
//!
//! An HTTPS server (rustls, TLS 1.3 only) that requires a client
//! certificate from the county CA, receives sealed records idempotently by
//! UUID, opens them with its `age` identity, validates them with the same
//! core as the kiosk, and answers stored / already stored / rejected with
//! reasons. Reviewers accept or reject from the command line; kiosks poll
//! the outcome. It also answers look-ups in the base database of people the
//! county already knows.
//!
//! Depends on `kiosk-core`, `wire`, `trust` and `sqlite-schema`; never on
//! the kiosk package (`veteran-kiosk`): the kiosk's tests run this server,
//! not the other way round.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU32;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use trust::pki::{self, PkiError};
use trust::seal::{self, KeyError};
use trust::sha256_hex;

pub mod cli;
pub mod config_bundles;
pub mod console;
pub mod db;
pub mod http;
pub mod kiosks;
pub mod load;
pub mod migrate;
pub mod register;
pub mod registry;
pub mod sql;
#[doc(hidden)]
pub mod testing;

pub use db::{DbError, PlatformDb};

/// Where the platform finds its keys and keeps its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformConfig {
    pub listen: SocketAddr,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    /// The county CA: only client certificates it issued are accepted.
    pub client_ca: PathBuf,
    /// The platform's `age` identity, to open sealed records.
    pub age_identity: PathBuf,
    /// The database: a SQLite file, or a `postgres://…` URL (`sql::DbTarget`).
    pub db: PathBuf,
    /// Where the published configuration bundles are kept (default: beside
    /// the SQLite file; needed with PostgreSQL, which has no file to sit beside).
    pub bundles_dir: Option<PathBuf>,
    /// Administrators' Ed25519 keys, one `ed25519:…` line each: only
    /// configuration bundles they signed are taken (none: pushes refused).
    pub admin_keys: Option<PathBuf>,
    /// The county CA's private key: with it, administrators enrol kiosks in
    /// the console (issue a certificate, or sign a kiosk's request); without
    /// it, enrolling is off and certificates are issued elsewhere.
    pub ca_key: Option<PathBuf>,
}

impl PlatformConfig {
    /// The configuration for a demo PKI directory made by `pki demo`.
    pub fn demo(pki_dir: &Path, db: &Path, listen: SocketAddr) -> PlatformConfig {
        let pki = pki::DemoPki::at(pki_dir);
        PlatformConfig {
            listen,
            server_cert: pki.server,
            server_key: pki.server_key,
            client_ca: pki.ca,
            age_identity: pki.platform_age_identity,
            db: db.to_path_buf(),
            bundles_dir: None,
            admin_keys: None,
            ca_key: Some(pki.ca_key),
        }
    }
}

/// Faults a test can switch on in a running platform.
#[derive(Debug, Default)]
pub struct Faults {
    /// Answer the next N uploads with 503 without looking at them.
    pub unavailable: AtomicU32,
    /// Store the next N uploads, then hold the answer back for an hour (as
    /// if the connection died after the commit).
    pub hang_after_store: AtomicU32,
}

/// The client certificate a request came with (verified by TLS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerCert {
    /// SHA-256 of the certificate's DER, lower-case hex.
    pub sha256: String,
    /// The subject CN: for a kiosk, its id (see `pki::common_name`).
    pub common_name: Option<String>,
    pub der: Arc<Vec<u8>>,
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    db: Arc<Mutex<PlatformDb>>,
    identity: Arc<age::x25519::Identity>,
    pub faults: Arc<Faults>,
    /// Revocation and sightings, checked on every kiosk request.
    pub kiosks: Arc<kiosks::KioskGate>,
    /// The configuration bundles and the county CA, for the console (set by [`start`]).
    pub county: Option<Arc<CountyKeys>>,
}

/// What the console needs beyond the database to enrol kiosks and push
/// configuration: the bundle registry, the pinned administrator keys, and
/// the county CA (its key only when enrolling is on).
pub struct CountyKeys {
    pub bundles: config_bundles::ConfigState,
    pub client_ca: PathBuf,
    pub ca_key: Option<PathBuf>,
}

impl AppState {
    pub fn new(
        mut db: PlatformDb,
        identity: age::x25519::Identity,
        faults: Arc<Faults>,
    ) -> AppState {
        db.use_keys(register::RegisterKeys::from_identity(&identity));
        AppState {
            db: Arc::new(Mutex::new(db)),
            identity: Arc::new(identity),
            faults,
            kiosks: Arc::new(kiosks::KioskGate::default()),
            county: None,
        }
    }

    /// A person's key in the platform's database: a keyed SHA-256 of the ID
    /// number (the key derived from the platform's secret `age` identity),
    /// so records of one person link without the clear number being stored
    /// beside them.
    pub fn person_key(&self, id_number: &str) -> String {
        register::RegisterKeys::from_identity(&self.identity).person_key(id_number)
    }

    /// The database; a panic in another handler does not lock it for good.
    pub fn db(&self) -> MutexGuard<'_, PlatformDb> {
        self.db
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    #[error(transparent)]
    Pki(#[from] PkiError),
    #[error("{path}: {source}")]
    Key { path: PathBuf, source: KeyError },
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("configuration bundles: {0}")]
    ConfigBundles(String),
}

impl PlatformError {
    pub fn code(&self) -> &'static str {
        match self {
            PlatformError::Pki(e) => e.code(),
            PlatformError::Key { source, .. } => source.code(),
            PlatformError::Db(_) => "platform_db",
            PlatformError::Io(_) => "platform_io",
            PlatformError::ConfigBundles(_) => "platform_config_bundles",
        }
    }
}

/// Reads the platform's `age` identity file.
pub fn load_identity(path: &Path) -> Result<age::x25519::Identity, PlatformError> {
    let text = std::fs::read_to_string(path).map_err(|e| PkiError::Io {
        path: path.to_path_buf(),
        detail: e.to_string(),
    })?;
    seal::parse_identity(&text).map_err(|source| PlatformError::Key {
        path: path.to_path_buf(),
        source,
    })
}

/// The server's TLS: TLS 1.3 only, a client certificate from `client_ca` required.
pub fn tls_config(config: &PlatformConfig) -> Result<rustls::ServerConfig, PkiError> {
    let provider = pki::crypto_provider();
    let roots = Arc::new(pki::root_store(&config.client_ca)?);
    let verifier =
        rustls::server::WebPkiClientVerifier::builder_with_provider(roots, provider.clone())
            .build()
            .map_err(|e| PkiError::Tls(e.to_string()))?;
    let mut tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| PkiError::Tls(e.to_string()))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            pki::load_certs(&config.server_cert)?,
            pki::load_key(&config.server_key)?,
        )
        .map_err(|e| PkiError::Tls(e.to_string()))?;
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tls)
}

/// A platform running on its own threads; stops when dropped.
pub struct RunningPlatform {
    pub addr: SocketAddr,
    pub state: AppState,
    shutdown: tokio::sync::watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
}

impl RunningPlatform {
    /// `https://<addr>` for a client.
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    pub fn stop(mut self) {
        self.stop_inner();
    }

    fn stop_inner(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for RunningPlatform {
    fn drop(&mut self) {
        self.stop_inner();
    }
}

/// Starts the platform with the standard routes.
pub fn start(
    config: &PlatformConfig,
    faults: Arc<Faults>,
) -> Result<RunningPlatform, PlatformError> {
    let identity = load_identity(&config.age_identity)?;
    let mut db = PlatformDb::open(&config.db)?;
    // What was kept before the register existed: the clear look-up base is
    // sealed, records get their person rows and township names (nothing to
    // do on later starts).
    db.use_keys(register::RegisterKeys::from_identity(&identity));
    db.seal_legacy_base()?;
    register::backfill(&db, &identity)?;
    let mut state = AppState::new(db, identity, faults);
    state.kiosks.reload(&state.db())?;
    let bundles_dir = match (&config.bundles_dir, sql::DbTarget::parse(&config.db)) {
        (Some(dir), _) => dir.clone(),
        (None, sql::DbTarget::Sqlite(path)) => config_bundles::registry_dir(&path),
        (None, sql::DbTarget::Postgres(_)) => {
            return Err(PlatformError::ConfigBundles(
                "with PostgreSQL the configuration bundles need a directory (--bundles-dir)".into(),
            ))
        }
    };
    let bundles = config_bundles::ConfigState::open_dir(&bundles_dir, config.admin_keys.as_deref())
        .map_err(PlatformError::ConfigBundles)?;
    state.county = Some(Arc::new(CountyKeys {
        bundles: bundles.clone(),
        client_ca: config.client_ca.clone(),
        ca_key: config.ca_key.clone(),
    }));
    let router = http::routes()
        .merge(config_bundles::routes(bundles))
        .with_state(state.clone());
    start_with_router(config, state, router)
}

/// Starts the platform serving `router` (the standard routes plus whatever
/// another feature merged in).
pub fn start_with_router(
    config: &PlatformConfig,
    state: AppState,
    router: axum::Router,
) -> Result<RunningPlatform, PlatformError> {
    start_tls(config.listen, tls_config(config)?, state, router, true)
}

/// Serves `router` over TLS on `listen` from its own threads. With
/// `require_client_cert`, a connection without a verified client
/// certificate is dropped (the kiosks' API); without, none is asked for
/// (the console).
pub fn start_tls(
    listen: SocketAddr,
    tls: rustls::ServerConfig,
    state: AppState,
    router: axum::Router,
    require_client_cert: bool,
) -> Result<RunningPlatform, PlatformError> {
    let acceptor = TlsAcceptor::from(Arc::new(tls));
    let listener = std::net::TcpListener::bind(listen)?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let (shutdown, stop) = tokio::sync::watch::channel(false);
    let gate_state = state.clone();
    let thread = std::thread::Builder::new()
        .name("county-platform".into())
        .spawn(move || {
            runtime.block_on(async move {
                match TcpListener::from_std(listener) {
                    Ok(listener) => {
                        let gate = require_client_cert.then_some(gate_state);
                        serve(listener, acceptor, router, stop, gate).await
                    }
                    Err(e) => eprintln!("county-platform: cannot listen: {e}"),
                }
            });
            runtime.shutdown_timeout(Duration::from_millis(100));
        })?;
    Ok(RunningPlatform {
        addr,
        state,
        shutdown,
        thread: Some(thread),
    })
}

async fn serve(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    router: axum::Router,
    mut stop: tokio::sync::watch::Receiver<bool>,
    // The kiosks' API: a client certificate is required, and each request
    // passes the registry's gate. `None`: the console (no client certificate).
    kiosk_gate: Option<AppState>,
) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.changed() => return,
        };
        let Ok((tcp, _)) = accepted else {
            continue;
        };
        let acceptor = acceptor.clone();
        let router = router.clone();
        let kiosk_gate = kiosk_gate.clone();
        tokio::spawn(async move {
            // A client that never finishes its handshake is dropped.
            let tls =
                match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await {
                    Ok(Ok(tls)) => tls,
                    _ => return,
                };
            let peer = tls
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|certs| certs.first())
                .map(|c| c.as_ref().to_vec())
                .map(|der| PeerCert {
                    sha256: sha256_hex(&der),
                    common_name: pki::common_name(&der),
                    der: Arc::new(der),
                });
            if kiosk_gate.is_some() && peer.is_none() {
                return;
            }
            let service = hyper::service::service_fn(
                move |mut request: hyper::Request<hyper::body::Incoming>| {
                    // Checked per request, not per connection: a revocation
                    // also ends a kept-alive connection's next request.
                    let refusal = match (&kiosk_gate, &peer) {
                        (Some(state), Some(peer)) => gate_request(state, peer, &request),
                        _ => None,
                    };
                    if let Some(peer) = &peer {
                        request.extensions_mut().insert(peer.clone());
                    }
                    let router = router.clone();
                    async move {
                        match refusal {
                            Some(refusal) => {
                                // Read what the kiosk is sending (an upload's
                                // body) before answering: a client still
                                // writing when the connection closes sees a
                                // reset instead of the refusal.
                                let body = axum::body::Body::new(request.into_body());
                                let _ = tokio::time::timeout(
                                    Duration::from_secs(30),
                                    axum::body::to_bytes(body, wire::MAX_UPLOAD_BYTES),
                                )
                                .await;
                                Ok(refusal)
                            }
                            None => router.oneshot(request).await,
                        }
                    }
                },
            );
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tls), service)
                .await;
        });
    }
}

/// The registry's gate for one kiosk request: a revoked certificate or
/// kiosk is refused (403 `kiosk_revoked`); otherwise the sighting (and the
/// backlog the kiosk reports in [`wire::KIOSK_BACKLOG_HEADER`]) is noted.
fn gate_request<B>(
    state: &AppState,
    peer: &PeerCert,
    request: &hyper::Request<B>,
) -> Option<axum::response::Response> {
    if state.kiosks.refuses(peer) {
        eprintln!(
            "county-platform: refused a request from revoked kiosk {:?} (certificate {})",
            peer.common_name, peer.sha256
        );
        let mut refusal = http::error(
            axum::http::StatusCode::FORBIDDEN,
            wire::error_code::KIOSK_REVOKED,
            "本终端已被县平台停用，请联系县退役军人事务局",
        );
        // The connection ends here: the client must not reuse it.
        refusal.headers_mut().insert(
            axum::http::header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
        return Some(refusal);
    }
    // Administrators' pushes and status reads come with their own
    // certificates: they are not kiosks.
    let path = request.uri().path();
    let admin_route = path == "/v1/config/kiosks"
        || (path == "/v1/config/bundles" && request.method() == hyper::Method::PUT);
    if admin_route {
        return None;
    }
    let kiosk_id = peer
        .common_name
        .as_deref()
        .and_then(kiosks::parse_kiosk_id)?;
    let kiosk_id = kiosk_id.as_str();
    let backlog = request
        .headers()
        .get(wire::KIOSK_BACKLOG_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u32>().ok());
    let now = chrono::Utc::now();
    if state.kiosks.sighting_due(kiosk_id, backlog, now) {
        if let Err(e) = state.db().kiosk_seen(kiosk_id, &peer.sha256, backlog, now) {
            eprintln!("county-platform: cannot note kiosk {kiosk_id} as seen: {e}");
        }
    }
    None
}

//! `veteran-kiosk config …`: administrators' keys, signed bundles, and what
//! configuration a kiosk has in force.
//!
//! Every subcommand prints one JSON object on stdout; exit 0 = ok, 1 = the
//! input was refused (bad bundle, invalid configuration), 2 = usage or
//! unreadable input.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use std::time::Duration;

use clap::{Args, Subcommand};
use serde_json::{json, Value};

use super::Outcome;
use crate::config::apply::{self, ConfigStore};
use crate::config::http::HttpConfigTransport;
use crate::config::{new_pin_hash, Config};
use crate::sync::client::{parse_platform_url, ClientIdentity, ClientSettings};
use trust::bundle::{self, Bundle, Target};
use trust::keys::AdminSigningKey;
use trust::sha256_hex;

pub use crate::kiosk::boot::{DEFAULT_FACTORY_DIR, DEFAULT_STORE_ROOT};

#[derive(Subcommand, Debug)]
pub enum ConfigCommand {
    /// Make an administrator's Ed25519 key pair: <OUT> (secret, PKCS#8 PEM)
    /// and <OUT>.pub (the line to pin in kiosk.toml).
    Keygen { out: PathBuf },
    /// Sign a configuration directory into a bundle.
    Sign {
        dir: PathBuf,
        /// The administrator's secret key (from `config keygen`).
        #[arg(long)]
        key: PathBuf,
        /// Must be higher than every version the kiosks have had.
        #[arg(long)]
        version: u64,
        /// all | township:<nine-digit code> | kiosk:<id>
        #[arg(long, default_value = "all", value_parser = parse_target)]
        target: Target,
        #[arg(long)]
        out: PathBuf,
    },
    /// Check a bundle: shape, signature, content; and whether its signer is
    /// pinned in the configuration at --config.
    Verify {
        bundle: PathBuf,
        /// A configuration directory whose administrator keys to trust.
        #[arg(long, default_value = DEFAULT_FACTORY_DIR)]
        config: PathBuf,
    },
    /// Send a bundle to the county platform (mutual TLS), which serves it to
    /// the kiosks it is addressed to.
    Push {
        bundle: PathBuf,
        #[command(flatten)]
        platform: PlatformArgs,
    },
    /// What each kiosk reported to the platform: version in force, last event.
    Status {
        #[command(flatten)]
        platform: PlatformArgs,
    },
    /// The version and SHA-256 of the configuration in force.
    Show {
        #[arg(long, default_value = DEFAULT_STORE_ROOT)]
        root: PathBuf,
        /// Shown when the store was never set up.
        #[arg(long, default_value = DEFAULT_FACTORY_DIR)]
        factory: PathBuf,
    },
    /// Read a staff PIN from standard input and print its Argon2 hash for
    /// `[staff] pin_hash`.
    PinHash,
}

/// How an administrator reaches the platform.
#[derive(Args, Debug, Clone)]
pub struct PlatformArgs {
    /// The platform's URL.
    #[arg(long, default_value = "https://127.0.0.1:8443")]
    pub platform: String,
    /// A demo PKI directory (`veteran-kiosk pki demo`): its CA and client
    /// certificate are used.
    #[arg(long, conflicts_with_all = ["ca", "cert", "key"])]
    pub pki: Option<PathBuf>,
    /// The county CA certificate (PEM).
    #[arg(long, requires_all = ["cert", "key"])]
    pub ca: Option<PathBuf>,
    /// The administrator's client certificate and key (PEM), from the county CA.
    #[arg(long)]
    pub cert: Option<PathBuf>,
    #[arg(long)]
    pub key: Option<PathBuf>,
}

impl PlatformArgs {
    fn settings(&self) -> Result<ClientSettings, String> {
        if let Some(dir) = &self.pki {
            return ClientSettings::demo(dir, &self.platform).map_err(|e| e.to_string());
        }
        match (&self.ca, &self.cert, &self.key) {
            (Some(ca), Some(cert), Some(key)) => Ok(ClientSettings {
                platform_url: parse_platform_url(&self.platform).map_err(|e| e.to_string())?,
                identity: ClientIdentity::from_files(ca, cert, key).map_err(|e| e.to_string())?,
                connect_timeout: Duration::from_secs(10),
                request_timeout: Duration::from_secs(120),
            }),
            _ => Err("give --pki <DIR>, or --ca, --cert and --key".to_string()),
        }
    }

    fn transport(&self) -> Result<HttpConfigTransport, String> {
        let settings = self.settings()?;
        HttpConfigTransport::new(&settings).map_err(|e| e.to_string())
    }
}

fn parse_target(text: &str) -> Result<Target, String> {
    text.parse()
}

pub fn run(cmd: ConfigCommand) -> Outcome {
    match cmd {
        ConfigCommand::Keygen { out } => keygen(&out),
        ConfigCommand::Sign {
            dir,
            key,
            version,
            target,
            out,
        } => sign(&dir, &key, version, target, &out),
        ConfigCommand::Verify { bundle, config } => verify(&bundle, &config),
        ConfigCommand::Push { bundle, platform } => push(&bundle, &platform),
        ConfigCommand::Status { platform } => status(&platform),
        ConfigCommand::Show { root, factory } => show(&root, &factory),
        ConfigCommand::PinHash => pin_hash(),
    }
}

fn fail(why: impl std::fmt::Display) -> Outcome {
    eprintln!("error: {why}");
    Outcome::UsageOrUnreadable
}

fn refused(code: &str, why: impl std::fmt::Display, extra: Value) -> Outcome {
    let mut out = json!({ "ok": false, "code": code, "error": why.to_string() });
    if let (Some(out), Value::Object(extra)) = (out.as_object_mut(), extra) {
        out.extend(extra);
    }
    println!("{out}");
    Outcome::Problems
}

/// Write a new file only: never overwrite a key or a bundle by accident.
fn write_new(path: &Path, data: &[u8], secret: bool) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = secret;
    let mut file = options.open(path)?;
    file.write_all(data)?;
    file.sync_all()
}

fn keygen(out: &Path) -> Outcome {
    let key = AdminSigningKey::generate();
    let pem = match key.to_pem() {
        Ok(pem) => pem,
        Err(err) => return fail(err),
    };
    let public = key.public_key().to_string();
    let mut pub_path = out.as_os_str().to_owned();
    pub_path.push(".pub");
    let pub_path = PathBuf::from(pub_path);
    if let Err(err) = write_new(out, pem.as_bytes(), true) {
        return fail(format_args!("cannot write {}: {err}", out.display()));
    }
    if let Err(err) = write_new(&pub_path, format!("{public}\n").as_bytes(), false) {
        return fail(format_args!("cannot write {}: {err}", pub_path.display()));
    }
    println!(
        "{}",
        json!({
            "ok": true,
            "public_key": public,
            "secret_key_file": out.display().to_string(),
            "public_key_file": pub_path.display().to_string(),
        })
    );
    Outcome::Ok
}

fn sign(dir: &Path, key_path: &Path, version: u64, target: Target, out: &Path) -> Outcome {
    let key_pem = match std::fs::read_to_string(key_path) {
        Ok(pem) => pem,
        Err(err) => return fail(format_args!("cannot read {}: {err}", key_path.display())),
    };
    let key = match AdminSigningKey::from_pem(&key_pem) {
        Ok(key) => key,
        Err(err) => return fail(format_args!("{}: {err}", key_path.display())),
    };
    let files = match bundle::read_dir(dir) {
        Ok(files) => files,
        Err(err) => return refused(err.code(), err, json!({})),
    };
    // Never sign what a kiosk would refuse to load.
    let named = match apply::check_dir(dir) {
        Ok(named) => named,
        Err(err) => return refused(err.code(), err, json!({})),
    };
    let mut warnings = Vec::new();
    for (path, data) in &files {
        if data.windows(11).any(|w| w == b"PRIVATE KEY") {
            warnings.push(format!(
                "{} holds a private key: bundles are not secret; keep a kiosk's key local (site.toml [tls] or an absolute path)",
                path.as_str()
            ));
        }
    }
    if let Some(kiosk) = &named {
        let fits = match &target {
            Target::All => {
                warnings.push(format!(
                    "the directory names kiosk {}: kiosks without their own site.toml [kiosk] will refuse it",
                    kiosk.id
                ));
                true
            }
            other => other.includes(kiosk),
        };
        if !fits {
            return refused(
                "bundle_target_mismatch",
                format_args!(
                    "the directory is for kiosk {} in township {}, not for {target}",
                    kiosk.id, kiosk.township.code
                ),
                json!({}),
            );
        }
    }
    let bundle = match Bundle::sign(files, version, target, &key) {
        Ok(bundle) => bundle,
        Err(err) => return refused(err.code(), err, json!({})),
    };
    if let Err(err) = write_new(out, &bundle.to_bytes(), false) {
        return fail(format_args!("cannot write {}: {err}", out.display()));
    }
    println!(
        "{}",
        bundle_json(
            &bundle,
            json!({ "ok": true, "out": out.display().to_string(), "warnings": warnings })
        )
    );
    Outcome::Ok
}

fn bundle_json(bundle: &Bundle, extra: Value) -> Value {
    let mut out = json!({
        "version": bundle.version,
        "target": bundle.target.to_string(),
        "sha256": bundle.sha256(),
        "signer": bundle.signer.to_string(),
        "files": bundle.files.iter().map(|(p, d)| json!({"path": p.as_str(), "bytes": d.len()})).collect::<Vec<_>>(),
    });
    if let (Some(out), Value::Object(extra)) = (out.as_object_mut(), extra) {
        out.extend(extra);
    }
    out
}

fn verify(path: &Path, config_dir: &Path) -> Outcome {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) => return fail(format_args!("cannot read {}: {err}", path.display())),
    };
    let bundle = match Bundle::parse(&bytes) {
        Ok(bundle) => bundle,
        Err(err) => return refused(err.code(), err, json!({})),
    };
    let config = match Config::load(config_dir) {
        Ok(config) => config,
        Err(err) => return fail(err),
    };
    if let Err(err) = bundle.check_signature(config.county.administrator_keys()) {
        return refused(err.code(), err, bundle_json(&bundle, json!({})));
    }
    let scratch = std::env::temp_dir().join(format!("veteran-kiosk-verify-{}", std::process::id()));
    let checked = apply::check_bundle_content(&bundle, &scratch);
    let _ = std::fs::remove_dir(&scratch);
    match checked {
        Ok(Ok(_)) => {}
        Ok(Err(err)) => {
            return refused(
                "bundle_invalid_content",
                err,
                bundle_json(&bundle, json!({})),
            )
        }
        Err(err) => return fail(err),
    }
    let signer = config
        .county
        .administrators
        .iter()
        .find(|admin| admin.key == bundle.signer)
        .map(|admin| admin.name.clone());
    println!(
        "{}",
        bundle_json(&bundle, json!({ "ok": true, "signer_name": signer }))
    );
    Outcome::Ok
}

fn push(path: &Path, platform: &PlatformArgs) -> Outcome {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) => return fail(format_args!("cannot read {}: {err}", path.display())),
    };
    // Refuse locally what the platform would refuse anyway.
    let bundle = match Bundle::parse(&bytes) {
        Ok(bundle) => bundle,
        Err(err) => return refused(err.code(), err, json!({})),
    };
    if !bundle.self_consistent() {
        let err = bundle::BundleError::BadSignature;
        return refused(err.code(), err, json!({}));
    }
    let transport = match platform.transport() {
        Ok(transport) => transport,
        Err(err) => return fail(err),
    };
    match transport.push(&bytes) {
        Ok(published) => {
            println!(
                "{}",
                json!({
                    "ok": true,
                    "version": published.version,
                    "target": published.target,
                    "sha256": published.sha256,
                })
            );
            Outcome::Ok
        }
        Err(err @ crate::config::http::PushError::Refused { .. }) => {
            refused(&err.code(), &err, json!({}))
        }
        Err(err) => fail(err),
    }
}

fn status(platform: &PlatformArgs) -> Outcome {
    let transport = match platform.transport() {
        Ok(transport) => transport,
        Err(err) => return fail(err),
    };
    match transport.kiosks() {
        Ok(kiosks) => {
            println!("{}", json!({ "ok": true, "kiosks": kiosks }));
            Outcome::Ok
        }
        Err(err) => fail(err),
    }
}

fn show(root: &Path, factory: &Path) -> Outcome {
    match ConfigStore::peek(root) {
        Ok(Some(report)) => {
            println!(
                "{}",
                json!({
                    "ok": true,
                    "store": root.display().to_string(),
                    "version": report.version,
                    "sha256": report.sha256,
                    "on_trial": report.on_trial,
                    "last_event": report.last_event,
                })
            );
            Outcome::Ok
        }
        Ok(None) => {
            // Not set up yet: the kiosk will start on the shipped directory.
            let files = match bundle::read_dir(factory) {
                Ok(files) => files,
                Err(err) => return fail(format_args!("{}: {err}", factory.display())),
            };
            let manifest = bundle::manifest(0, &Target::All, &files);
            println!(
                "{}",
                json!({
                    "ok": true,
                    "store": Value::Null,
                    "factory": factory.display().to_string(),
                    "version": 0,
                    "sha256": sha256_hex(manifest.as_bytes()),
                    "on_trial": false,
                })
            );
            Outcome::Ok
        }
        Err(err) => fail(err),
    }
}

fn pin_hash() -> Outcome {
    let mut line = String::new();
    if let Err(err) = std::io::stdin().lock().read_line(&mut line) {
        return fail(err);
    }
    let pin = line.trim_end_matches(['\r', '\n']);
    if pin.len() < 4 || !pin.chars().all(|c| c.is_ascii_digit()) {
        return fail("a staff PIN is at least 4 digits");
    }
    match new_pin_hash(pin) {
        Ok(hash) => {
            println!("{}", json!({ "ok": true, "pin_hash": hash.as_str() }));
            Outcome::Ok
        }
        Err(err) => fail(err),
    }
}

//! `veteran-kiosk pki demo <DIR>`: demo certificates and keys (see `trust::pki`);
//! `veteran-kiosk pki csr`: a kiosk's own key and a certificate request for
//! the county CA (signed in the county console), so its key never leaves it.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Subcommand;
use serde_json::json;

use super::Outcome;
use kiosk_core::kiosk::KioskId;
use trust::pki::{self, DemoPki};

#[derive(Subcommand, Debug)]
pub enum PkiCommand {
    /// Make a demo county CA, server and kiosk certificates, test
    /// certificates (expired, another CA) and the platform's age key pair.
    Demo {
        dir: PathBuf,
        /// The kiosk's id, the common name of its client certificate.
        #[arg(long, default_value = "kiosk-demo-01")]
        kiosk_id: String,
    },
    /// Make this kiosk's private key (<KEY_OUT>, readable by its owner only)
    /// and a certificate request (<OUT>) to paste into the county console's
    /// 终端管理 page; the certificate it answers with goes into [tls].
    Csr {
        /// The kiosk's id: the common name the county CA certifies.
        #[arg(long)]
        kiosk_id: String,
        /// Where the new private key goes (never overwritten).
        #[arg(long)]
        key_out: PathBuf,
        /// Where the request goes (never overwritten).
        #[arg(long)]
        out: PathBuf,
    },
}

pub fn run(cmd: PkiCommand) -> Outcome {
    match cmd {
        PkiCommand::Csr {
            kiosk_id,
            key_out,
            out,
        } => csr(&kiosk_id, &key_out, &out),
        PkiCommand::Demo { dir, kiosk_id } => match DemoPki::generate(&dir, &kiosk_id) {
            Ok(pki) => {
                println!("{}", json!({"ok": true, "files": pki}));
                Outcome::Ok
            }
            Err(e) => {
                eprintln!("veteran-kiosk: {e}");
                println!(
                    "{}",
                    json!({"ok": false, "code": e.code(), "message": e.message_zh()})
                );
                Outcome::UsageOrUnreadable
            }
        },
    }
}

fn csr(kiosk_id: &str, key_out: &Path, out: &Path) -> Outcome {
    let refuse = |code: &str, message: &str| {
        println!("{}", json!({"ok": false, "code": code, "message": message}));
        Outcome::UsageOrUnreadable
    };
    let Ok(id) = KioskId::parse(kiosk_id) else {
        return refuse("bad_kiosk_id", "终端编号只能由字母、数字和 - _ . 组成");
    };
    let made = match pki::make_request(id.as_str()) {
        Ok(made) => made,
        Err(e) => return refuse(e.code(), e.message_zh()),
    };
    for (path, text, secret) in [(key_out, &made.key_pem, true), (out, &made.cert_pem, false)] {
        if let Err(e) = write_new(path, text.as_bytes(), secret) {
            eprintln!("veteran-kiosk: {}: {e}", path.display());
            return refuse("pki_io", "文件无法写入（已存在的文件不会被覆盖）");
        }
    }
    println!(
        "{}",
        json!({
            "ok": true,
            "kiosk_id": id.as_str(),
            "key": key_out.display().to_string(),
            "request": out.display().to_string(),
        })
    );
    Outcome::Ok
}

/// A new file only, synced; a secret one readable by its owner only.
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

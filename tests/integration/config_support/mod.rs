//! Shared helpers for the `config_*` integration tests.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};

use std::sync::Arc;

use county_platform::{self as platform, Faults, PlatformConfig, RunningPlatform};
use trust::bundle::{self, Bundle, Target};
use trust::keys::AdminSigningKey;
use trust::pki::DemoPki;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A copy of the shipped `kiosk-config/` under `parent`.
pub fn factory_copy(parent: &Path, name: &str) -> PathBuf {
    let dir = parent.join(name);
    copy_dir(&repo().join("kiosk-config"), &dir);
    dir
}

pub fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Replace `from` (which must be there) by `to` in `dir/kiosk.toml`.
pub fn edit(dir: &Path, from: &str, to: &str) {
    edit_file(&dir.join("kiosk.toml"), from, to);
}

pub fn edit_file(path: &Path, from: &str, to: &str) {
    let text = fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} has no {from:?}", path.display());
    fs::write(path, text.replacen(from, to, 1)).unwrap();
}

/// A new client certificate and key from the county CA that the shipped
/// configuration trusts, issued to `kiosk_id`, written as `tls/kiosk.pem`
/// and `tls/kiosk.key` in `dir` (a renewed or a re-issued certificate).
pub fn issue_kiosk_certificate(dir: &Path, kiosk_id: &str) {
    let ca_key = fs::read_to_string(repo().join("tests/config_data/demo-pki/ca-key.pem")).unwrap();
    trust::pki::CertificateAuthority::from_key_pem(trust::pki::DEMO_CA_NAME, &ca_key)
        .unwrap()
        .issue_client(kiosk_id, trust::pki::Validity::days_from_today(30))
        .unwrap()
        .write(&dir.join("tls/kiosk.pem"), &dir.join("tls/kiosk.key"))
        .unwrap();
}

/// The demo administrator, pinned in the shipped configuration.
pub fn admin() -> AdminSigningKey {
    let pem = fs::read_to_string(repo().join("tests/config_data/demo-admin.key")).unwrap();
    AdminSigningKey::from_pem(&pem).unwrap()
}

/// Somebody else's key: valid Ed25519, pinned nowhere.
pub fn stranger() -> AdminSigningKey {
    AdminSigningKey::from_seed([0x5a; 32])
}

pub fn sign_dir(dir: &Path, version: u64, target: &str, key: &AdminSigningKey) -> Vec<u8> {
    let files = bundle::read_dir(dir).unwrap();
    let target: Target = target.parse().unwrap();
    Bundle::sign(files, version, target, key)
        .unwrap()
        .to_bytes()
}

/// A configuration directory derived from the shipped one by `change`.
pub fn variant(parent: &Path, name: &str, change: impl FnOnce(&Path)) -> PathBuf {
    let dir = factory_copy(parent, name);
    change(&dir);
    dir
}

pub const SHIPPED_TITLE: &str = "退役军人和其他优抚对象信息采集";

/// A variant whose campaign title is `title` (a hot change).
pub fn with_title(parent: &Path, name: &str, title: &str) -> PathBuf {
    variant(parent, name, |dir| {
        edit(
            dir,
            &format!("campaign_title = \"{SHIPPED_TITLE}\""),
            &format!("campaign_title = \"{title}\""),
        )
    })
}

/// The real county platform on loopback (mutual TLS), with a demo PKI for
/// kiosk `demo-kiosk-01` and the demo administrator pinned, in a temp dir.
pub struct World {
    _dir: tempfile::TempDir,
    pub dir: PathBuf,
    pub pki: DemoPki,
    pub platform: RunningPlatform,
}

impl World {
    pub fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_path_buf();
        let pki = DemoPki::generate(&path.join("pki"), "demo-kiosk-01").unwrap();
        let admins = path.join("admins.pub");
        fs::write(&admins, format!("{} 演示管理员\n", admin().public_key())).unwrap();
        let mut config = PlatformConfig::demo(
            &pki.dir,
            &path.join("platform.sqlite3"),
            "127.0.0.1:0".parse().unwrap(),
        );
        config.admin_keys = Some(admins);
        let platform = platform::start(&config, Arc::new(Faults::default())).unwrap();
        World {
            _dir: dir,
            dir: path,
            pki,
            platform,
        }
    }

    /// Point the shipped configuration copied to `dir` at this platform,
    /// its CA and its `age` recipient, with the kiosk certificate `cert`
    /// and key `key`.
    pub fn point_at_platform(&self, dir: &Path, cert: &Path, key: &Path) {
        let recipient = fs::read_to_string(&self.pki.platform_age_recipient).unwrap();
        edit(dir, "https://127.0.0.1:8443/", &self.platform.url());
        edit(dir, "\"tls/county-ca.pem\"", &format!("{:?}", self.pki.ca));
        edit(dir, "\"tls/kiosk.pem\"", &format!("{cert:?}"));
        edit(dir, "\"tls/kiosk.key\"", &format!("{key:?}"));
        edit(
            dir,
            "age146gx8zjgsvyg5xqugffss5hsmd6jx804kd29f703aqn3ld0qpcksulun4j",
            recipient.trim(),
        );
    }
}

/// Writes the window into docs/screenshots/NAME.png, only when the picture
/// changed (so an unchanged screen leaves the file's timestamp alone).
pub fn screenshot(ui: &veteran_kiosk::ui::AppWindow, name: &str) {
    use slint::ComponentHandle;
    i_slint_backend_testing::mock_elapsed_time(std::time::Duration::from_millis(0));
    let shot = ui.window().take_snapshot().unwrap();
    let path = repo().join("docs/screenshots").join(format!("{name}.png"));
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, shot.width(), shot.height());
        encoder.set_color(png::ColorType::Rgba);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().unwrap();
        writer.write_image_data(shot.as_bytes()).unwrap();
    }
    if fs::read(&path).ok().as_deref() != Some(&bytes[..]) {
        fs::write(&path, &bytes).unwrap();
    }
}

//! `kiosk.toml` (and a kiosk's `site.toml`) as the kiosk loads them, and
//! signed configuration bundles as the platform takes a push and as the
//! kiosk checks one before applying it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use county_platform::registry::BundleRegistry;
use trust::bundle::{Bundle, BundlePath, Target as BundleTarget};
use trust::keys::AdminSigningKey;
use veteran_kiosk::config::apply::check_bundle_content;
use veteran_kiosk::config::Config;

use super::{repo_file, ScratchDir};
use crate::mutate::{havoc, mutate_json, words_of, Rng};
use crate::Target;

const DEMO_KIOSK_TOML: &str = include_str!("../../../../kiosk-config/kiosk.toml");

/// A TOML text mutated through its tree (as JSON), or `None` when the
/// mutated tree has no TOML form.
fn mutate_toml_tree(rng: &mut Rng, text: &[u8], dict: &[Vec<u8>]) -> Option<Vec<u8>> {
    let table: toml::Table = toml::from_str(std::str::from_utf8(text).ok()?).ok()?;
    let mut tree = serde_json::to_value(table).ok()?;
    for _ in 0..1 + rng.below(4) {
        mutate_json(rng, &mut tree, dict);
    }
    toml::to_string(&tree).ok().map(String::into_bytes)
}

fn toml_input(rng: &mut Rng, seeds: &[Vec<u8>], dict: &[Vec<u8>]) -> Vec<u8> {
    let base = rng.pick(seeds).cloned().unwrap_or_default();
    if rng.percent(50) {
        if let Some(out) = mutate_toml_tree(rng, &base, dict) {
            return out;
        }
    }
    havoc(rng, &base, seeds, dict, 64 * 1024)
}

/// The demo kiosk.toml without the tables each kiosk keeps in its own
/// `site.toml` (what a county-wide bundle carries).
fn county_wide(text: &str) -> String {
    let mut doc: toml_edit::DocumentMut = text.parse().unwrap_or_default();
    doc.remove("kiosk");
    doc.remove("tls");
    doc.to_string()
}

fn site_toml() -> String {
    let doc: toml_edit::DocumentMut = DEMO_KIOSK_TOML.parse().unwrap_or_default();
    let mut site = toml_edit::DocumentMut::new();
    for key in ["kiosk", "tls", "devices"] {
        if let Some(item) = doc.get(key) {
            site.insert(key, item.clone());
        }
    }
    site.to_string()
}

fn dictionary(texts: &[&str]) -> Vec<Vec<u8>> {
    let mut dict: Vec<Vec<u8>> = texts.iter().flat_map(|t| words_of(t)).collect();
    for token in [
        "[",
        "]",
        "[[",
        "]]",
        "=",
        "\"",
        "'''",
        "\"\"\"",
        "{",
        "}",
        ",",
        "#",
        "\n",
        ".",
        "true",
        "inf",
        "nan",
        "1979-05-27T07:32:00Z",
        "0x7f",
        "0o7",
        "0b1",
        "1_000",
        "+1",
    ] {
        dict.push(token.as_bytes().to_vec());
    }
    dict
}

/// Copy the demo configuration's certificates, so a mutated kiosk.toml is
/// loaded with real files beside it.
fn config_dir(scratch: &ScratchDir) -> PathBuf {
    let dir = scratch.path().join("kiosk-config");
    let _ = std::fs::create_dir_all(dir.join("tls"));
    for name in ["county-ca.pem", "kiosk.pem", "kiosk.key"] {
        let from = repo_file(&format!("kiosk-config/tls/{name}"));
        let _ = std::fs::copy(from, dir.join("tls").join(name));
    }
    dir
}

pub struct KioskToml {
    seeds: Vec<Vec<u8>>,
    dict: Vec<Vec<u8>>,
    scratch: ScratchDir,
    dir: PathBuf,
    county_wide: String,
}

impl KioskToml {
    pub(crate) fn new() -> KioskToml {
        let scratch = ScratchDir::new("kiosk-toml");
        let dir = config_dir(&scratch);
        let county_wide = county_wide(DEMO_KIOSK_TOML);
        let site = site_toml();
        let minimal = "[kiosk]\nid = \"k1\"\n[kiosk.township]\ncode = \"350524100\"\nname = \"凤城镇\"\n[platform]\nurl = \"https://127.0.0.1:8443/\"\n";
        let seeds = vec![
            DEMO_KIOSK_TOML.as_bytes().to_vec(),
            county_wide.clone().into_bytes(),
            site.clone().into_bytes(),
            minimal.as_bytes().to_vec(),
        ];
        let dict = dictionary(&[DEMO_KIOSK_TOML]);
        KioskToml {
            seeds,
            dict,
            scratch,
            dir,
            county_wide,
        }
    }
}

impl Target for KioskToml {
    fn name(&self) -> &'static str {
        "kiosk_toml"
    }

    fn seeds(&self) -> &[Vec<u8>] {
        &self.seeds
    }

    fn generate(&self, rng: &mut Rng) -> Vec<u8> {
        toml_input(rng, &self.seeds, &self.dict)
    }

    fn run(&self, input: &[u8]) {
        // The same text as kiosk.toml, then as the site.toml beside a
        // county-wide kiosk.toml.
        let main = self.dir.join("kiosk.toml");
        let site = self.scratch.path().join("site.toml");
        if std::fs::write(&main, input).is_ok() {
            report(Config::load(&self.dir));
        }
        if std::fs::write(&main, &self.county_wide).is_ok() && std::fs::write(&site, input).is_ok()
        {
            report(Config::load_with_site(&self.dir, Some(&site)));
        }
    }
}

fn report(loaded: Result<Config, veteran_kiosk::config::ConfigError>) {
    match loaded {
        Ok(config) => {
            let _ = config.session_settings();
        }
        Err(err) => {
            let _ = (err.to_string(), err.message_zh(), err.code());
        }
    }
}

pub struct ConfigBundle {
    seeds: Vec<Vec<u8>>,
    dict: Vec<Vec<u8>>,
    toml_seeds: Vec<Vec<u8>>,
    key: AdminSigningKey,
    scratch: ScratchDir,
    registry: BundleRegistry,
}

impl ConfigBundle {
    pub(crate) fn new() -> ConfigBundle {
        let key = AdminSigningKey::from_seed([7; 32]);
        let county_wide = county_wide(DEMO_KIOSK_TOML);
        let toml_seeds = vec![
            county_wide.clone().into_bytes(),
            DEMO_KIOSK_TOML.as_bytes().to_vec(),
        ];
        let mut seeds = Vec::new();
        for (target, text) in [
            ("all", county_wide.as_str()),
            ("township:350524100", county_wide.as_str()),
            ("kiosk:demo-kiosk-01", DEMO_KIOSK_TOML),
        ] {
            if let Some(bytes) = sign(&key, 3, target, text.as_bytes()) {
                seeds.push(bytes);
            }
        }
        let scratch = ScratchDir::new("bundle");
        let registry_dir = scratch.path().join("registry");
        let registry = match BundleRegistry::open(&registry_dir) {
            Ok(r) => r,
            Err(err) => panic!("cannot open a scratch bundle registry: {err}"),
        };
        let mut dict = dictionary(&[DEMO_KIOSK_TOML]);
        for s in &seeds {
            dict.extend(words_of(&String::from_utf8_lossy(s)));
        }
        ConfigBundle {
            seeds,
            dict,
            toml_seeds,
            key,
            scratch,
            registry,
        }
    }
}

fn sign(key: &AdminSigningKey, version: u64, target: &str, kiosk_toml: &[u8]) -> Option<Vec<u8>> {
    let mut files = BTreeMap::new();
    files.insert(BundlePath::parse("kiosk.toml").ok()?, kiosk_toml.to_vec());
    let target: BundleTarget = target.parse().ok()?;
    Bundle::sign(files, version, target, key)
        .ok()
        .map(|b| b.to_bytes())
}

impl Target for ConfigBundle {
    fn name(&self) -> &'static str {
        "config_bundle"
    }

    fn seeds(&self) -> &[Vec<u8>] {
        &self.seeds
    }

    fn generate(&self, rng: &mut Rng) -> Vec<u8> {
        match rng.below(3) {
            // A well-signed bundle around a mutated kiosk.toml: reaches the
            // kiosk's check of the content.
            0 => {
                let text = toml_input(rng, &self.toml_seeds, &self.dict);
                let version = 1 + rng.below(1000) as u64;
                let target = *rng
                    .pick(&["all", "township:350524100", "kiosk:demo-kiosk-01"])
                    .unwrap_or(&"all");
                sign(&self.key, version, target, &text).unwrap_or(text)
            }
            // The bundle's JSON, edited in its tree.
            1 => {
                let base = rng.pick(&self.seeds).cloned().unwrap_or_default();
                match serde_json::from_slice::<serde_json::Value>(&base) {
                    Ok(mut tree) => {
                        mutate_json(rng, &mut tree, &self.dict);
                        serde_json::to_vec(&tree).unwrap_or(base)
                    }
                    Err(_) => base,
                }
            }
            _ => {
                let base = rng.pick(&self.seeds).cloned().unwrap_or_default();
                havoc(rng, &base, &self.seeds, &self.dict, 256 * 1024)
            }
        }
    }

    fn run(&self, input: &[u8]) {
        let admins = [self.key.public_key()];
        // The platform, taking a push.
        if let Ok(published) = self.registry.publish(input, &admins) {
            // Keep the registry empty: each input is judged alone.
            let bundles = self.scratch.path().join("registry").join("bundles");
            let _ = std::fs::remove_dir_all(&bundles);
            let _ = std::fs::create_dir_all(&bundles);
            let _ = published;
        }
        // The kiosk, before applying it.
        let Ok(bundle) = Bundle::parse(input) else {
            return;
        };
        assert_eq!(Bundle::parse(&bundle.to_bytes()).as_ref(), Ok(&bundle));
        if bundle.check_signature(admins.iter()).is_err() {
            return;
        }
        let _ = bundle.target.to_string().parse::<BundleTarget>();
        match check_bundle_content(&bundle, &self.scratch.path().join("staging")) {
            Ok(Ok(_)) | Ok(Err(_)) => {}
            Err(err) => panic!("staging a bundle in scratch space failed: {err}"),
        }
    }
}

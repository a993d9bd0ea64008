//! The kiosk's configuration: loaded once into a typed, validated [`Config`],
//! changed only through signed bundles from the county's administrators.
//!
//! Codemap:
//! - `mod.rs`: the [`Config`] type, loading `kiosk.toml` (and the optional
//!   local `site.toml`), the map to [`SessionSettings`] and the rule for
//!   what can change without a restart ([`Config::restart_needed`]).
//! - `source.rs`: one TOML file parsed once with spans; every mistake names
//!   file, line, column and key.
//! - `tls.rs`: the kiosk's certificate, key and county CA, checked at load.
//! - `apply.rs`: the on-disk store: atomic apply, last-known-good, rollback.
//! - `poll.rs`: the kiosk's polling of the platform, sans-IO core plus a
//!   small driver over a transport trait.
//! - `http.rs`: the poller's transport and the administrator's push over
//!   mutual TLS (the sync client's TLS policy).
//!
//! Elsewhere: administrators' Ed25519 keys and signed bundles (canonical
//! manifest, sign, verify) are `trust::keys` and `trust::bundle`, shared with
//! the platform; the report and query bodies are `wire::config`; the
//! platform's side (pushed bundles, newest per kiosk, per-kiosk reports) is
//! `county_platform::registry`.
//!
//! Architecture invariants: a `Config` value is always whole and valid (there
//! is no "partially loaded" config); nothing but `apply.rs` writes into the
//! store; a bundle changes the configuration only after its signature, its
//! version, its target and its content have all been checked.

use std::path::{Path, PathBuf};
use std::time::Duration as StdDuration;

use chrono::Duration;
use serde::Deserialize;
use toml::Spanned;

use kiosk_core::record::Township;
use kiosk_core::session::{SessionSettings, Step};

pub mod apply;
mod error;
pub mod http;
pub mod poll;
mod source;
pub mod tls;

pub use error::{ConfigError, ConfigErrorKind};
use kiosk_core::kiosk::{parse_township_code, KioskId, KioskIdentity};
pub use tls::{TlsIdentity, TlsPaths};
use trust::bundle::CONFIG_FILE;
use trust::keys::AdminPublicKey;

use source::TomlSource;

/// The optional local file whose `[kiosk]`, `[tls]` and `[devices]` tables
/// replace those of `kiosk.toml` (what differs from kiosk to kiosk).
pub const SITE_FILE: &str = "site.toml";

/// The whole configuration of one kiosk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub kiosk: KioskIdentity,
    pub platform: PlatformSettings,
    pub tls: TlsIdentity,
    pub devices: DeviceSettings,
    pub session: SessionTimes,
    pub accessibility: Accessibility,
    pub staff: StaffSettings,
    pub texts: Texts,
    pub county: CountyKeys,
}

/// `[devices]`: the devices module owns its shape. Paths in it are read by
/// the devices as given (relative to the working directory): devices are
/// local hardware, not files that travel in bundles.
pub type DeviceSettings = crate::devices::config::DeviceConfig;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformSettings {
    /// `https://…`; the county platform's base URL.
    pub url: url::Url,
    /// How often the kiosk asks for a newer configuration bundle.
    pub config_poll_interval: StdDuration,
}

/// Session time-outs and the draft window, all checked against ranges that
/// keep the kiosk usable for elderly people and safe for their data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionTimes {
    pub idle_warning: Duration,
    /// At least 20 s: long enough for an elderly person to answer.
    pub wipe_warning: Duration,
    pub done_screen: Duration,
    /// How long an interrupted session's draft can be resumed.
    pub draft_window: Duration,
    /// Without an automatic portrait for this long, a "拍照" button appears.
    pub manual_capture: Duration,
}

/// `[session] manual_capture_seconds` when the file does not say.
pub const DEFAULT_MANUAL_CAPTURE_SECONDS: i64 = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TextSize {
    Normal,
    Large,
    ExtraLarge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accessibility {
    pub text_size: TextSize,
    pub high_contrast: bool,
    pub spoken_prompts: bool,
}

/// The staff PIN's Argon2 hash: one type, shared with the session's PIN pad.
pub use kiosk_core::staff::PinHash;

/// A hash of `pin` with a fresh random salt and Argon2id's default cost
/// (for `config pin-hash`).
pub fn new_pin_hash(pin: &str) -> Result<PinHash, String> {
    use rand_core::RngCore;
    let mut salt = [0u8; 16];
    rand_core::OsRng
        .try_fill_bytes(&mut salt)
        .map_err(|err| format!("no random salt: {err}"))?;
    PinHash::derive(pin, &salt, argon2::Params::default()).map_err(|err| err.to_string())
}

/// The staff who may open staff mode and sign for what they witness, each
/// with their own PIN (and so their own lockout).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffSettings {
    pub members: Vec<StaffMember>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffMember {
    /// What records (`witnessed_by`, portrait acceptance) and the audit log
    /// carry: letters, digits, `-`, `_`, `.`.
    pub id: String,
    /// Shown on the PIN pad for the member to pick.
    pub name: String,
    pub pin_hash: PinHash,
}

/// The id the single PIN of an older configuration (`[staff] pin_hash`)
/// signs under.
pub const SHARED_STAFF_ID: &str = "staff";

/// Texts shown on screen, set by the county for the campaign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Texts {
    pub campaign_title: String,
    pub campaign_notice: String,
    pub help: HelpTexts,
}

/// The "帮助" text of each screen; a screen without one shows no help button.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HelpTexts {
    pub attract: Option<String>,
    pub insert_card: Option<String>,
    pub manual_identity: Option<String>,
    pub identity: Option<String>,
    pub portrait: Option<String>,
    pub categories: Option<String>,
    pub category_details: Option<String>,
    pub documents: Option<String>,
    pub living: Option<String>,
    pub needs: Option<String>,
    pub review: Option<String>,
    pub sign: Option<String>,
    pub done: Option<String>,
}

impl HelpTexts {
    /// The help text of the page `step` shows, as configured.
    pub fn for_step(&self, step: Step) -> Option<&str> {
        let text = match step {
            Step::Attract => &self.attract,
            Step::InsertCard => &self.insert_card,
            Step::ManualIdentity => &self.manual_identity,
            Step::Identity => &self.identity,
            Step::Portrait => &self.portrait,
            Step::Categories => &self.categories,
            Step::CategoryDetails(_) => &self.category_details,
            Step::Documents => &self.documents,
            Step::Living => &self.living,
            Step::Needs => &self.needs,
            Step::Review => &self.review,
            Step::Sign => &self.sign,
            Step::Done => &self.done,
        };
        text.as_deref()
    }
}

/// The platform's `age` recipient (records are sealed to it).
#[derive(Clone, PartialEq, Eq)]
pub struct AgeRecipient(age::x25519::Recipient);

impl AgeRecipient {
    pub fn parse(text: &str) -> Result<AgeRecipient, String> {
        text.trim()
            .parse::<age::x25519::Recipient>()
            .map(AgeRecipient)
            .map_err(|err| format!("not an age X25519 recipient (age1…): {err}"))
    }

    pub fn recipient(&self) -> &age::x25519::Recipient {
        &self.0
    }
}

impl std::fmt::Debug for AgeRecipient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AgeRecipient({})", self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Administrator {
    pub name: String,
    pub key: AdminPublicKey,
}

/// The county's public keys, pinned in the kiosk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountyKeys {
    pub platform_recipient: AgeRecipient,
    /// Bundles must be signed by one of these.
    pub administrators: Vec<Administrator>,
}

impl CountyKeys {
    /// The keys a bundle's signer must be one of.
    pub fn administrator_keys(&self) -> impl Iterator<Item = &AdminPublicKey> {
        self.administrators.iter().map(|admin| &admin.key)
    }
}

impl Config {
    /// Load `dir/kiosk.toml` (and the files it names).
    pub fn load(dir: &Path) -> Result<Config, ConfigError> {
        Config::load_with_site(dir, None)
    }

    /// Load `dir/kiosk.toml`, with the tables of `site` (a `site.toml`)
    /// replacing its `[kiosk]`, `[tls]` and `[devices]` when given.
    pub fn load_with_site(dir: &Path, site: Option<&Path>) -> Result<Config, ConfigError> {
        let parts = load_parts(dir, site)?;
        let main_file = dir.join(CONFIG_FILE);
        let missing = |table: &str| ConfigError {
            key: Some(table.to_string()),
            ..ConfigError::new(
                ConfigErrorKind::MissingKey,
                &main_file,
                format!("missing table `[{table}]` (in {CONFIG_FILE} or in {SITE_FILE})"),
            )
        };
        Ok(Config {
            kiosk: parts.kiosk.ok_or_else(|| missing("kiosk"))?,
            tls: parts.tls.ok_or_else(|| missing("tls"))?,
            platform: parts.platform,
            devices: parts.devices.unwrap_or_default(),
            session: parts.session,
            accessibility: parts.accessibility,
            staff: parts.staff,
            texts: parts.texts,
            county: parts.county,
        })
    }

    /// What the pure session needs.
    pub fn session_settings(&self) -> SessionSettings {
        SessionSettings {
            kiosk_id: self.kiosk.id.as_str().to_string(),
            township: self.kiosk.township.clone(),
            idle_warning_after: self.session.idle_warning,
            idle_wipe_after_warning: self.session.wipe_warning,
            done_screen_for: self.session.done_screen,
            default_text_size: match self.accessibility.text_size {
                TextSize::Normal => kiosk_core::session::TextSize::Normal,
                TextSize::Large => kiosk_core::session::TextSize::Large,
                TextSize::ExtraLarge => kiosk_core::session::TextSize::ExtraLarge,
            },
            default_high_contrast: self.accessibility.high_contrast,
            manual_capture_after: self.session.manual_capture,
        }
    }

    /// Whether going from `old` to `new` needs an orderly restart.
    ///
    /// Hot (taken at the next screen or session): session times and the
    /// draft window, accessibility defaults, spoken prompts, texts, the
    /// staff PIN, the administrators' keys and the poll interval.
    /// Restart: the kiosk's identity, devices, TLS material, the platform's
    /// URL and its `age` recipient, which the device drivers and the sync
    /// worker take once when they start.
    pub fn restart_needed(old: &Config, new: &Config) -> bool {
        old.kiosk != new.kiosk
            || old.devices != new.devices
            || !old.tls.same_material(&new.tls)
            || old.platform.url != new.platform.url
            || old.county.platform_recipient != new.county.platform_recipient
    }
}

/// Everything a configuration directory says, with `[kiosk]` and `[tls]`
/// still optional: a bundle for many kiosks leaves them to each `site.toml`.
pub(crate) struct ConfigParts {
    pub kiosk: Option<KioskIdentity>,
    pub tls: Option<TlsIdentity>,
    pub devices: Option<DeviceSettings>,
    pub platform: PlatformSettings,
    pub session: SessionTimes,
    pub accessibility: Accessibility,
    pub staff: StaffSettings,
    pub texts: Texts,
    pub county: CountyKeys,
}

pub(crate) fn load_parts(dir: &Path, site: Option<&Path>) -> Result<ConfigParts, ConfigError> {
    let main = TomlSource::read(&dir.join(CONFIG_FILE))?;
    let raw: RawConfig = main.deserialize()?;
    let mut kiosk = raw.kiosk.map(|k| convert_kiosk(&main, k)).transpose()?;
    // The identity, with the file and key that named its certificate.
    let mut tls = match raw.tls {
        Some(t) => {
            let at = t.certificate.clone();
            Some((convert_tls(&main, dir, t)?, &main, at))
        }
        None => None,
    };
    let mut devices = raw.devices;
    let site = match site {
        Some(path) => Some((TomlSource::read(path)?, path)),
        None => None,
    };
    if let Some((site, site_path)) = &site {
        let raw_site: RawSite = site.deserialize()?;
        let site_dir = site_path.parent().unwrap_or(Path::new("."));
        if let Some(k) = raw_site.kiosk {
            kiosk = Some(convert_kiosk(site, k)?);
        }
        if let Some(t) = raw_site.tls {
            let at = t.certificate.clone();
            tls = Some((convert_tls(site, site_dir, t)?, site, at));
        }
        if let Some(d) = raw_site.devices {
            devices = Some(d);
        }
    }
    if let (Some(kiosk), Some((identity, source, at))) = (&kiosk, &tls) {
        check_certificate_names_kiosk(identity, kiosk, source, at)?;
    }
    let tls = tls.map(|(identity, _, _)| identity);
    Ok(ConfigParts {
        kiosk,
        tls,
        devices,
        platform: convert_platform(&main, raw.platform)?,
        session: convert_session(&main, raw.session)?,
        accessibility: Accessibility {
            text_size: raw.accessibility.text_size,
            high_contrast: raw.accessibility.high_contrast,
            spoken_prompts: raw.accessibility.spoken_prompts,
        },
        staff: convert_staff(&main, raw.staff)?,
        texts: convert_texts(&main, raw.texts)?,
        county: convert_county(&main, raw.county)?,
    })
}

// ---- the file's shape (serde) and its conversion (our checks) ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    kiosk: Option<RawKiosk>,
    platform: RawPlatform,
    tls: Option<RawTls>,
    devices: Option<DeviceSettings>,
    session: RawSession,
    accessibility: RawAccessibility,
    staff: Spanned<RawStaff>,
    texts: RawTexts,
    county: RawCounty,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSite {
    kiosk: Option<RawKiosk>,
    tls: Option<RawTls>,
    devices: Option<DeviceSettings>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKiosk {
    id: Spanned<String>,
    township: RawTownship,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTownship {
    code: Spanned<String>,
    name: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlatform {
    url: Spanned<String>,
    config_poll_seconds: Spanned<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTls {
    ca_certificate: Spanned<String>,
    certificate: Spanned<String>,
    private_key: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSession {
    idle_warning_seconds: Spanned<i64>,
    wipe_warning_seconds: Spanned<i64>,
    done_screen_seconds: Spanned<i64>,
    draft_window_hours: Spanned<i64>,
    #[serde(default)]
    manual_capture_seconds: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAccessibility {
    text_size: TextSize,
    high_contrast: bool,
    spoken_prompts: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStaff {
    /// The one shared PIN of older configurations; still loads, as the
    /// member `staff`.
    pin_hash: Option<Spanned<String>>,
    #[serde(default)]
    members: Vec<RawStaffMember>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStaffMember {
    id: Spanned<String>,
    name: Spanned<String>,
    pin_hash: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTexts {
    campaign_title: Spanned<String>,
    campaign_notice: Spanned<String>,
    #[serde(default)]
    help: Option<RawHelp>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHelp {
    attract: Option<Spanned<String>>,
    insert_card: Option<Spanned<String>>,
    manual_identity: Option<Spanned<String>>,
    identity: Option<Spanned<String>>,
    portrait: Option<Spanned<String>>,
    categories: Option<Spanned<String>>,
    category_details: Option<Spanned<String>>,
    documents: Option<Spanned<String>>,
    living: Option<Spanned<String>>,
    needs: Option<Spanned<String>>,
    review: Option<Spanned<String>>,
    sign: Option<Spanned<String>>,
    done: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCounty {
    platform_recipient: Spanned<String>,
    administrators: Spanned<Vec<RawAdministrator>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAdministrator {
    name: Spanned<String>,
    key: Spanned<String>,
}

fn invalid<T>(source: &TomlSource, at: &Spanned<T>, detail: String) -> ConfigError {
    source.error_on(ConfigErrorKind::InvalidValue, at, detail)
}

fn in_range(
    source: &TomlSource,
    value: &Spanned<i64>,
    range: std::ops::RangeInclusive<i64>,
    unit: &str,
) -> Result<i64, ConfigError> {
    let v = *value.get_ref();
    if range.contains(&v) {
        Ok(v)
    } else {
        Err(source.error_on(
            ConfigErrorKind::OutOfRange,
            value,
            format!(
                "{v} {unit} is not between {} and {}",
                range.start(),
                range.end()
            ),
        ))
    }
}

fn convert_kiosk(source: &TomlSource, raw: RawKiosk) -> Result<KioskIdentity, ConfigError> {
    let id = KioskId::parse(raw.id.get_ref()).map_err(|e| invalid(source, &raw.id, e))?;
    let code = parse_township_code(raw.township.code.get_ref())
        .map_err(|e| invalid(source, &raw.township.code, e))?;
    let name = screen_text(raw.township.name.get_ref(), 1..=40)
        .map_err(|e| invalid(source, &raw.township.name, e))?;
    Ok(KioskIdentity {
        id,
        township: Township { code, name },
    })
}

fn convert_platform(
    source: &TomlSource,
    raw: RawPlatform,
) -> Result<PlatformSettings, ConfigError> {
    let url = parse_platform_url(raw.url.get_ref()).map_err(|e| invalid(source, &raw.url, e))?;
    let seconds = in_range(source, &raw.config_poll_seconds, 10..=86_400, "seconds")?;
    Ok(PlatformSettings {
        url,
        config_poll_interval: StdDuration::from_secs(seconds.unsigned_abs()),
    })
}

pub fn parse_platform_url(text: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(text).map_err(|err| format!("not a URL: {err}"))?;
    if url.scheme() != "https" {
        return Err("the platform is reached over https only".to_string());
    }
    if url.host().is_none() || !url.username().is_empty() || url.password().is_some() {
        return Err("the platform URL needs a host and no user name or password".to_string());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("the platform URL takes no query or fragment".to_string());
    }
    Ok(url)
}

/// The platform files a kiosk's records and reports under its certificate's
/// CN, so a certificate issued for another kiosk is caught here, at start,
/// not as refusals at the first upload.
fn check_certificate_names_kiosk(
    identity: &TlsIdentity,
    kiosk: &KioskIdentity,
    source: &TomlSource,
    at: &Spanned<String>,
) -> Result<(), ConfigError> {
    let named = identity
        .certificate_chain
        .first()
        .and_then(|leaf| trust::pki::common_name(leaf));
    if named.as_deref() == Some(kiosk.id.as_str()) {
        return Ok(());
    }
    Err(source.error_on(
        ConfigErrorKind::CertificateNotForKiosk,
        at,
        format!(
            "the certificate is issued to {}, but this kiosk is {:?}: the platform would refuse its records",
            named.map_or_else(|| "no common name".to_string(), |cn| format!("{cn:?}")),
            kiosk.id.as_str()
        ),
    ))
}

fn convert_tls(source: &TomlSource, dir: &Path, raw: RawTls) -> Result<TlsIdentity, ConfigError> {
    let resolve = |value: &Spanned<String>| -> Result<PathBuf, ConfigError> {
        let text = value.get_ref();
        if text.trim().is_empty() {
            return Err(invalid(source, value, "an empty path".to_string()));
        }
        Ok(dir.join(text))
    };
    let paths = TlsPaths {
        ca_certificate: resolve(&raw.ca_certificate)?,
        certificate: resolve(&raw.certificate)?,
        private_key: resolve(&raw.private_key)?,
    };
    tls::load(paths).map_err(|(which, problem)| {
        let at = match which {
            tls::TlsFile::CaCertificate => &raw.ca_certificate,
            tls::TlsFile::Certificate => &raw.certificate,
            tls::TlsFile::PrivateKey => &raw.private_key,
        };
        source.error_on(problem.kind, at, problem.detail)
    })
}

fn convert_session(source: &TomlSource, raw: RawSession) -> Result<SessionTimes, ConfigError> {
    let idle = in_range(source, &raw.idle_warning_seconds, 15..=900, "seconds")?;
    let wipe = in_range(
        source,
        &raw.wipe_warning_seconds,
        SessionSettings::MIN_WARNING..=300,
        "seconds",
    )?;
    let done = in_range(source, &raw.done_screen_seconds, 3..=300, "seconds")?;
    // A draft holds personal data: at most a month.
    let draft = in_range(source, &raw.draft_window_hours, 1..=720, "hours")?;
    // Long enough for the coach to get most people there by itself, short
    // enough that nobody stands stuck in front of the camera.
    let manual_capture = match &raw.manual_capture_seconds {
        Some(seconds) => in_range(source, seconds, 5..=300, "seconds")?,
        None => DEFAULT_MANUAL_CAPTURE_SECONDS,
    };
    Ok(SessionTimes {
        manual_capture: Duration::seconds(manual_capture),
        idle_warning: Duration::seconds(idle),
        wipe_warning: Duration::seconds(wipe),
        done_screen: Duration::seconds(done),
        draft_window: Duration::hours(draft),
    })
}

/// Text for the screen: trimmed, not empty, not too long, no control
/// characters but line breaks.
fn screen_text(text: &str, chars: std::ops::RangeInclusive<usize>) -> Result<String, String> {
    let trimmed = text.trim();
    let count = trimmed.chars().count();
    if !chars.contains(&count) {
        return Err(format!(
            "the text must have {} to {} characters, it has {count}",
            chars.start(),
            chars.end()
        ));
    }
    if trimmed.chars().any(|c| c.is_control() && c != '\n') {
        return Err("the text contains control characters".to_string());
    }
    Ok(trimmed.to_string())
}

fn convert_staff(
    source: &TomlSource,
    raw: Spanned<RawStaff>,
) -> Result<StaffSettings, ConfigError> {
    let pin = |value: &Spanned<String>| {
        PinHash::parse(value.get_ref()).map_err(|e| invalid(source, value, e.to_string()))
    };
    let mut members: Vec<StaffMember> = Vec::new();
    if let Some(shared) = &raw.get_ref().pin_hash {
        members.push(StaffMember {
            id: SHARED_STAFF_ID.to_string(),
            name: "工作人员".to_string(),
            pin_hash: pin(shared)?,
        });
    }
    for member in &raw.get_ref().members {
        let id = parse_staff_id(member.id.get_ref()).map_err(|e| invalid(source, &member.id, e))?;
        if members.iter().any(|m| m.id == id) {
            return Err(invalid(
                source,
                &member.id,
                format!("staff id `{id}` is given twice"),
            ));
        }
        let name = screen_text(member.name.get_ref(), 1..=20)
            .map_err(|e| invalid(source, &member.name, e))?;
        members.push(StaffMember {
            id,
            name,
            pin_hash: pin(&member.pin_hash)?,
        });
    }
    if members.is_empty() {
        return Err(invalid(
            source,
            &raw,
            "no staff: give `[[staff.members]]` (id, name, pin_hash) or `pin_hash`".to_string(),
        ));
    }
    Ok(StaffSettings { members })
}

/// A staff member's id as records and the audit log carry it.
pub fn parse_staff_id(text: &str) -> Result<String, String> {
    let ok = (1..=32).contains(&text.len())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(text.to_string())
    } else {
        Err("a staff id is 1 to 32 letters, digits, `-`, `_` or `.`".to_string())
    }
}

fn convert_texts(source: &TomlSource, raw: RawTexts) -> Result<Texts, ConfigError> {
    let campaign_title = screen_text(raw.campaign_title.get_ref(), 1..=60)
        .map_err(|e| invalid(source, &raw.campaign_title, e))?;
    let campaign_notice = screen_text(raw.campaign_notice.get_ref(), 1..=2000)
        .map_err(|e| invalid(source, &raw.campaign_notice, e))?;
    let help = match raw.help {
        None => HelpTexts::default(),
        Some(raw) => {
            let text = |value: Option<Spanned<String>>| -> Result<Option<String>, ConfigError> {
                value
                    .map(|v| screen_text(v.get_ref(), 1..=1000).map_err(|e| invalid(source, &v, e)))
                    .transpose()
            };
            HelpTexts {
                attract: text(raw.attract)?,
                insert_card: text(raw.insert_card)?,
                manual_identity: text(raw.manual_identity)?,
                identity: text(raw.identity)?,
                portrait: text(raw.portrait)?,
                categories: text(raw.categories)?,
                category_details: text(raw.category_details)?,
                documents: text(raw.documents)?,
                living: text(raw.living)?,
                needs: text(raw.needs)?,
                review: text(raw.review)?,
                sign: text(raw.sign)?,
                done: text(raw.done)?,
            }
        }
    };
    Ok(Texts {
        campaign_title,
        campaign_notice,
        help,
    })
}

fn convert_county(source: &TomlSource, raw: RawCounty) -> Result<CountyKeys, ConfigError> {
    let platform_recipient = AgeRecipient::parse(raw.platform_recipient.get_ref())
        .map_err(|e| invalid(source, &raw.platform_recipient, e))?;
    if raw.administrators.get_ref().is_empty() {
        return Err(invalid(
            source,
            &raw.administrators,
            "at least one administrator key is needed, or the kiosk could never be reconfigured"
                .to_string(),
        ));
    }
    let mut administrators: Vec<Administrator> = Vec::new();
    for admin in raw.administrators.get_ref() {
        let name = screen_text(admin.name.get_ref(), 1..=100)
            .map_err(|e| invalid(source, &admin.name, e))?;
        let key = admin
            .key
            .get_ref()
            .parse::<AdminPublicKey>()
            .map_err(|e| invalid(source, &admin.key, e.to_string()))?;
        if administrators.iter().any(|a| a.key == key) {
            return Err(invalid(
                source,
                &admin.key,
                "this key is listed twice".to_string(),
            ));
        }
        administrators.push(Administrator { name, key });
    }
    Ok(CountyKeys {
        platform_recipient,
        administrators,
    })
}

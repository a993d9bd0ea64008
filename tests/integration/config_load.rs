//! Loading `kiosk.toml`: the shipped configuration loads, and each kind of
//! mistake is a clear error naming the file, the line and the key.

use crate::config_support;

use std::fs;
use std::path::Path;

use expect_test::{expect, Expect};
use veteran_kiosk::config::{Config, TextSize};

use config_support::*;

/// Load a variant of the shipped configuration changed by `change`, and
/// compare the error (kind and `Display`, temp dir shown as `<dir>`).
fn check(change: impl FnOnce(&Path), expected: Expect) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = variant(tmp.path(), "cfg", change);
    let site = dir.join("site.toml");
    let site = site.exists().then_some(site);
    let outcome = match Config::load_with_site(&dir, site.as_deref()) {
        Ok(_) => "loads".to_string(),
        Err(err) => {
            let shown = err.to_string().replace(&dir.display().to_string(), "<dir>");
            format!("{} | {shown}", err.code())
        }
    };
    expected.assert_eq(&outcome);
}

#[test]
fn the_shipped_configuration_loads() {
    let config = Config::load(&repo().join("kiosk-config")).unwrap();
    assert_eq!(config.kiosk.id.as_str(), "demo-kiosk-01");
    assert_eq!(config.kiosk.township.code, "350524100");
    assert_eq!(config.accessibility.text_size, TextSize::Large);
    let staff: Vec<(&str, &str)> = config
        .staff
        .members
        .iter()
        .map(|m| (m.id.as_str(), m.name.as_str()))
        .collect();
    assert_eq!(staff, [("fc-01", "陈丽华"), ("fc-02", "林志明")]);
    assert!(
        config.staff.members[0].pin_hash.matches("246810"),
        "the documented demo PIN"
    );
    assert!(!config.staff.members[0].pin_hash.matches("246811"));
    assert!(config.staff.members[1].pin_hash.matches("135790"));
    assert!(!config.staff.members[1].pin_hash.matches("246810"));
    assert_eq!(config.county.administrators.len(), 1);
    assert_eq!(config.tls.certificate_chain.len(), 1);
    let settings = config.session_settings();
    assert_eq!(settings.idle_warning_after.num_seconds(), 90);
    assert_eq!(settings.idle_wipe_after_warning.num_seconds(), 30);
    assert_eq!(settings.done_screen_for.num_seconds(), 20);
    assert_eq!(config.session.draft_window.num_hours(), 72);
    assert!(config.texts.campaign_notice.starts_with("为做好"));
    assert!(config
        .texts
        .help
        .for_step(kiosk_core::session::Step::Portrait)
        .is_some());
    assert!(config
        .texts
        .help
        .for_step(kiosk_core::session::Step::Done)
        .is_none());
}

fn serial_reader_without_port(dir: &Path) {
    let simulated = "kind = \"simulated\"\ndir = \"assets/demo/cards\"";
    edit(dir, simulated, "kind = \"ga467_serial\"");
}

#[test]
#[rustfmt::skip] // a table: one case per `check`, snapshots on one line
fn mistakes_name_file_line_and_key() {
    check(
        |d| edit(d, "idle_warning_seconds = 90", "idle_warnng_seconds = 90"),
        expect!["config_unknown_key | <dir>/kiosk.toml:78:1: session.idle_warnng_seconds: unknown field `idle_warnng_seconds`, expected one of `idle_warning_seconds`, `wipe_warning_seconds`, `done_screen_seconds`, `draft_window_hours`, `manual_capture_seconds`"],
    );
    check(
        |d| edit(d, "wipe_warning_seconds = 30", "wipe_warning_seconds = 5"),
        expect!["config_out_of_range | <dir>/kiosk.toml:81:24: session.wipe_warning_seconds: 5 seconds is not between 20 and 300"],
    );
    check(
        |d| edit(d, "draft_window_hours = 72", "draft_window_hours = 10000"),
        expect!["config_out_of_range | <dir>/kiosk.toml:86:22: session.draft_window_hours: 10000 hours is not between 1 and 720"],
    );
    check(
        |d| edit(d, "done_screen_seconds = 20\n", ""),
        expect!["config_missing_key | <dir>/kiosk.toml:76:1: session: missing field `done_screen_seconds`"],
    );
    check(
        |d| edit(d, "high_contrast = false", "high_contrast = \"no\""),
        expect![[r#"config_invalid_value | <dir>/kiosk.toml:92:17: accessibility.high_contrast: invalid type: string "no", expected a boolean"#]],
    );
    check(
        |d| edit(d, "text_size = \"large\"", "text_size = \"huge\""),
        expect!["config_invalid_value | <dir>/kiosk.toml:91:13: accessibility.text_size: unknown variant `huge`, expected one of `normal`, `large`, `extra_large`"],
    );
    check(
        |d| edit(d, "idle_warning_seconds = 90", "idle_warning_seconds = -90"),
        expect!["config_out_of_range | <dir>/kiosk.toml:78:24: session.idle_warning_seconds: -90 seconds is not between 15 and 900"],
    );
    check(
        |d| edit(d, "https://127.0.0.1:8443/", "http://127.0.0.1:8443/"),
        expect!["config_invalid_value | <dir>/kiosk.toml:29:7: platform.url: the platform is reached over https only"],
    );
    check(
        |d| edit(d, "code = \"350524100\"", "code = \"4301210\""),
        expect!["config_invalid_value | <dir>/kiosk.toml:23:8: kiosk.township.code: a township code is nine digits: the six-digit GB/T 2260 county code and the township's three"],
    );
    check(
        |d| edit(d, "id = \"demo-kiosk-01\"", "id = \"demo kiosk\""),
        expect!["config_invalid_value | <dir>/kiosk.toml:19:6: kiosk.id: a kiosk id is 1 to 64 letters, digits, `-`, `_` or `.`, starting with a letter or digit"],
    );
    check(
        |d| edit(d, "campaign_title = \"", "campaign_title = \" \\u0007"),
        expect!["config_invalid_value | <dir>/kiosk.toml:117:18: texts.campaign_title: the text contains control characters"],
    );
    check(
        |d| edit(d, "sign = \"", "sign = \"  \" # \""),
        expect!["config_invalid_value | <dir>/kiosk.toml:135:8: texts.help.sign: the text must have 1 to 1000 characters, it has 0"],
    );
    check(
        |d| edit(d, "[session]", "[sesion]"),
        expect!["config_unknown_key | <dir>/kiosk.toml:76:2: sesion: unknown field `sesion`, expected one of `kiosk`, `platform`, `tls`, `devices`, `session`, `accessibility`, `staff`, `texts`, `county`"],
    );
    check(
        |d| edit(d, "kind = \"simulated\"\ndir = \"assets/demo/printed\"", "kind = \"network\"\nadress = \"10.0.0.9:9100\""),
        expect!["config_unknown_key | <dir>/kiosk.toml:64:1: devices.printer: unknown field `adress`, expected `address` or `timeout_ms`"],
    );
    check(
        serial_reader_without_port,
        expect!["config_unknown_key | <dir>/kiosk.toml:46:1: devices.card_reader: unknown field `auto_present_ms`, expected one of `port`, `baud`, `timeout_ms`"],
    );
    check(
        |d| edit(d, "[[staff.members]]", "[[staff.members]\n"),
        expect!["config_syntax | <dir>/kiosk.toml:105:17: unclosed array table, expected `]`"],
    );
}

#[test]
fn files_keys_and_certificates_are_checked() {
    check(
        |d| fs::remove_file(d.join("tls/kiosk.pem")).unwrap(),
        expect!["config_missing_file | <dir>/kiosk.toml:40:15: tls.certificate: cannot read <dir>/tls/kiosk.pem: No such file or directory (os error 2)"],
    );
    check(
        |d| fs::write(d.join("tls/kiosk.pem"), "not a certificate\n").unwrap(),
        expect!["config_bad_certificate | <dir>/kiosk.toml:40:15: tls.certificate: <dir>/tls/kiosk.pem: no CERTIFICATE block in the file"],
    );
    check(
        |d| {
            // A PEM block whose DER is garbage.
            let pem = "-----BEGIN CERTIFICATE-----\nAAECAwQF\n-----END CERTIFICATE-----\n";
            fs::write(d.join("tls/county-ca.pem"), pem).unwrap()
        },
        expect!["config_bad_certificate | <dir>/kiosk.toml:37:18: tls.ca_certificate: not a usable CA certificate: invalid peer certificate: BadEncoding"],
    );
    check(
        |d| {
            let pem = "-----BEGIN CERTIFICATE-----\nAAECAwQF\n-----END CERTIFICATE-----\n";
            fs::write(d.join("tls/kiosk.pem"), pem).unwrap()
        },
        expect!["config_bad_certificate | <dir>/kiosk.toml:40:15: tls.certificate: not a usable certificate: invalid peer certificate: BadEncoding"],
    );
    check(
        |d| fs::write(d.join("tls/kiosk.key"), "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n").unwrap(),
        expect!["config_bad_private_key | <dir>/kiosk.toml:41:15: tls.private_key: not a usable private key: unexpected error: failed to parse private key as RSA, ECDSA, or EdDSA"],
    );
    check(
        |d| {
            // Another valid key: the demo CA's, which is not the kiosk's.
            fs::copy(repo().join("tests/config_data/demo-pki/ca-key.pem"), d.join("tls/kiosk.key")).unwrap();
        },
        expect!["config_key_mismatch | <dir>/kiosk.toml:41:15: tls.private_key: the private key does not belong to the certificate"],
    );
    check(
        // The certificate is demo-kiosk-01's: the platform would refuse.
        |d| edit(d, "id = \"demo-kiosk-01\"", "id = \"demo-kiosk-02\""),
        expect![[
            r#"config_certificate_not_for_kiosk | <dir>/kiosk.toml:40:15: tls.certificate: the certificate is issued to "demo-kiosk-01", but this kiosk is "demo-kiosk-02": the platform would refuse its records"#
        ]],
    );
    check(
        |d| edit(d, "pin_hash = \"$argon2id$v=19$m=19456", "pin_hash = \"$argon2id$v=19$m=oops"),
        expect!["config_invalid_value | <dir>/kiosk.toml:108:12: staff.members[0].pin_hash: bad Argon2 parameters: invalid parameter value: contains invalid character: 'o'"],
    );
    check(
        |d| edit(d, "pin_hash = \"", "pin_hash = \"1234\" # \""),
        expect!["config_invalid_value | <dir>/kiosk.toml:108:12: staff.members[0].pin_hash: not a PHC password hash string: password hash string missing field"],
    );
    check(
        |d| edit(d, "platform_recipient = \"age1", "platform_recipient = \"age2"),
        expect!["config_invalid_value | <dir>/kiosk.toml:140:22: county.platform_recipient: not an age X25519 recipient (age1…): invalid Bech32 encoding"],
    );
    check(
        |d| {
            let identity_point = "ed25519:AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
            edit(d, "ed25519:B1zrqVWdUs4/Mix0sl1b8HNawa3r6v+7nCIOSC0KnzA=", identity_point)
        },
        expect!["config_invalid_value | <dir>/kiosk.toml:146:7: county.administrators[0].key: this is not a usable Ed25519 public key"],
    );
    check(
        |d| {
            let text = fs::read_to_string(d.join("kiosk.toml")).unwrap();
            let start = text.find("[[county.administrators]]").unwrap();
            let text = text[..start].replace(
                "platform_recipient =",
                "administrators = []\nplatform_recipient =",
            );
            fs::write(d.join("kiosk.toml"), text).unwrap();
        },
        expect!["config_invalid_value | <dir>/kiosk.toml:140:18: county.administrators: at least one administrator key is needed, or the kiosk could never be reconfigured"],
    );
    check(
        |d| edit(d, "key = \"ed25519:", "key = \"ssh-ed25519:"),
        expect!["config_invalid_value | <dir>/kiosk.toml:146:7: county.administrators[0].key: a public key looks like `ed25519:` followed by 44 base64 characters"],
    );
    check(
        |d| fs::remove_file(d.join("kiosk.toml")).unwrap(),
        expect!["config_missing_file | <dir>/kiosk.toml: cannot read: No such file or directory (os error 2)"],
    );
}

/// An older configuration with one shared `[staff] pin_hash` still loads,
/// as the member "staff"; members need distinct ids and at least one must
/// be there.
#[test]
fn the_old_single_staff_pin_still_loads_and_members_are_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = factory_copy(tmp.path(), "cfg");
    let text = fs::read_to_string(dir.join("kiosk.toml")).unwrap();
    let hash = text
        .lines()
        .find_map(|l| l.strip_prefix("pin_hash = "))
        .unwrap()
        .to_string();
    let start = text.find("[[staff.members]]").unwrap();
    let end = text.find("# ---- texts on screen").unwrap();
    let with_staff = |staff: &str| format!("{}{staff}\n{}", &text[..start], &text[end..]);
    fs::write(
        dir.join("kiosk.toml"),
        with_staff(&format!("[staff]\npin_hash = {hash}\n")),
    )
    .unwrap();
    let config = Config::load(&dir).unwrap();
    assert_eq!(config.staff.members.len(), 1);
    assert_eq!(config.staff.members[0].id, "staff");
    assert!(config.staff.members[0].pin_hash.matches("246810"));

    let refused = |staff: String| {
        fs::write(dir.join("kiosk.toml"), with_staff(&staff)).unwrap();
        let err = Config::load(&dir).unwrap_err();
        format!("{} | {}", err.code(), err).replace(&dir.display().to_string(), "<dir>")
    };
    let member = |id: &str| {
        format!("[[staff.members]]\nid = \"{id}\"\nname = \"陈丽华\"\npin_hash = {hash}\n")
    };
    expect_test::expect!["config_invalid_value | <dir>/kiosk.toml:110:6: staff.members[1].id: staff id `fc-01` is given twice"]
        .assert_eq(&refused(format!("{}{}", member("fc-01"), member("fc-01"))));
    expect_test::expect!["config_invalid_value | <dir>/kiosk.toml:106:6: staff.members[0].id: a staff id is 1 to 32 letters, digits, `-`, `_` or `.`"].assert_eq(&refused(member("fc 01")));
    expect_test::expect!["config_invalid_value | <dir>/kiosk.toml:105:1: staff: no staff: give `[[staff.members]]` (id, name, pin_hash) or `pin_hash`"].assert_eq(&refused("[staff]\n".to_string()));
}

#[test]
fn site_file_replaces_what_differs_per_kiosk() {
    let site_kiosk =
        "[kiosk]\nid = \"ks-07\"\n[kiosk.township]\ncode = \"350524101\"\nname = \"蓬莱镇\"\n";
    // Another kiosk brings its own certificate, issued to its id.
    let site_tls = "[tls]\nca_certificate = \"site/tls/county-ca.pem\"\ncertificate = \"site/tls/kiosk.pem\"\nprivate_key = \"site/tls/kiosk.key\"\n";
    let tmp = tempfile::tempdir().unwrap();
    let dir = factory_copy(tmp.path(), "cfg");
    let site_dir = tmp.path().join("site");
    fs::create_dir_all(site_dir.join("tls")).unwrap();
    fs::copy(
        dir.join("tls/county-ca.pem"),
        site_dir.join("tls/county-ca.pem"),
    )
    .unwrap();
    issue_kiosk_certificate(&site_dir, "ks-07");
    let site = tmp.path().join("site.toml");
    fs::write(&site, format!("{site_kiosk}{site_tls}")).unwrap();
    let config = Config::load_with_site(&dir, Some(&site)).unwrap();
    assert_eq!(config.kiosk.id.as_str(), "ks-07");
    assert_eq!(config.kiosk.township.name, "蓬莱镇");
    // Without it, the shipped certificate names another kiosk.
    fs::write(&site, site_kiosk).unwrap();
    assert_eq!(
        Config::load_with_site(&dir, Some(&site))
            .unwrap_err()
            .kind
            .code(),
        "config_certificate_not_for_kiosk"
    );

    // Mistakes in site.toml name site.toml.
    check(
        |d| fs::write(d.join("site.toml"), "[kiosk]\nid = \"ks-07\"\n").unwrap(),
        expect!["config_missing_key | <dir>/site.toml:1:1: kiosk: missing field `township`"],
    );
    check(
        |d| fs::write(d.join("site.toml"), "[session]\nidle_warning_seconds = 30\n").unwrap(),
        expect!["config_unknown_key | <dir>/site.toml:1:2: session: unknown field `session`, expected one of `kiosk`, `tls`, `devices`"],
    );
    // Without [kiosk] anywhere there is no kiosk.
    check(
        |d| {
            let text = fs::read_to_string(d.join("kiosk.toml")).unwrap();
            let start = text.find("[kiosk]").unwrap();
            let end = text.find("# ---- the county platform").unwrap();
            fs::write(d.join("kiosk.toml"), format!("{}{}", &text[..start], &text[end..])).unwrap();
        },
        expect!["config_missing_key | <dir>/kiosk.toml: kiosk: missing table `[kiosk]` (in kiosk.toml or in site.toml)"],
    );
}

#[test]
fn what_needs_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let base = Config::load(&repo().join("kiosk-config")).unwrap();
    let cases: [(&str, &str, &str, bool); 8] = [
        ("title", "campaign_title = \"", "campaign_title = \"新", false),
        ("idle", "idle_warning_seconds = 90", "idle_warning_seconds = 120", false),
        ("contrast", "high_contrast = false", "high_contrast = true", false),
        ("poll", "config_poll_seconds = 300", "config_poll_seconds = 60", false),
        ("printer", "dir = \"assets/demo/printed\"", "dir = \"/tmp/printed\"", true),
        ("url", "https://127.0.0.1:8443/", "https://127.0.0.1:9443/", true),
        ("kiosk", "name = \"凤城镇\"", "name = \"蓬莱镇\"", true),
        (
            "recipient",
            "platform_recipient = \"age146gx8zjgsvyg5xqugffss5hsmd6jx804kd29f703aqn3ld0qpcksulun4j\"",
            "platform_recipient = \"age16n2yugcedz66axv5637kgvh32jlqxz0h2c9hxxu2tu3gxg320des5rasp5\"",
            true,
        ),
    ];
    for (name, from, to, restart) in cases {
        let dir = variant(tmp.path(), name, |d| edit(d, from, to));
        let new = Config::load(&dir).unwrap();
        assert_ne!(base, new, "{name}");
        assert_eq!(Config::restart_needed(&base, &new), restart, "{name}");
    }
    // Same certificate and key at another path: no restart.
    let moved = variant(tmp.path(), "moved", |d| {
        fs::rename(d.join("tls"), d.join("pki")).unwrap();
        for file in ["county-ca.pem", "kiosk.pem", "kiosk.key"] {
            edit(d, &format!("\"tls/{file}\""), &format!("\"pki/{file}\""));
        }
    });
    let new = Config::load(&moved).unwrap();
    assert!(!Config::restart_needed(&base, &new));
    // A renewed certificate needs one.
    let cert = variant(tmp.path(), "cert", |d| {
        issue_kiosk_certificate(d, "demo-kiosk-01")
    });
    let new = Config::load(&cert).unwrap();
    assert!(Config::restart_needed(&base, &new));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
    /// Whatever a damaged kiosk.toml holds, loading answers with a value or
    /// an error, never a panic.
    #[test]
    fn damaged_files_never_panic(
        cut in 0usize..6000,
        insert in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..12),
    ) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = factory_copy(tmp.path(), "cfg");
        let path = dir.join("kiosk.toml");
        let mut bytes = fs::read(&path).unwrap();
        let cut = cut.min(bytes.len());
        bytes.splice(cut..cut, insert);
        fs::write(&path, bytes).unwrap();
        let _ = Config::load(&dir);
    }
}

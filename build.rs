//! Compiles the Slint UI. Debug info is kept so the headless UI tests can
//! find elements by their accessible labels; fonts are embedded so the kiosk
//! never depends on the system's fonts; the gettext catalogues in
//! `translations/<lang>/LC_MESSAGES/veteran-kiosk.po` are bundled, so a
//! language is chosen at run time without files on the kiosk.

fn main() {
    build_date();
    let config = slint_build::CompilerConfiguration::new()
        .with_debug_info(true)
        .with_default_translation_context(slint_build::DefaultTranslationContext::None)
        .with_bundled_translations("translations")
        .embed_resources(slint_build::EmbedResourcesKind::EmbedFiles);
    if let Err(err) = slint_build::compile_with_config("ui/app.slint", config) {
        // A build script can only fail by panicking; show the Slint error.
        panic!("compiling ui/app.slint failed: {err}");
    }
}

/// The build date (UTC), for the kiosk's clock check: a kiosk whose clock
/// reads earlier than its own program's build is wrong. `SOURCE_DATE_EPOCH`
/// (reproducible builds) wins over the build machine's clock; when the
/// script is not re-run the date is older, which is still a safe floor.
fn build_date() {
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    let seconds = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0)
        });
    // Days since 1970-01-01 to a civil date (H. Hinnant's algorithm).
    let z = seconds.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    println!("cargo:rustc-env=VETERAN_KIOSK_BUILD_DATE={year:04}-{month:02}-{day:02}");
}

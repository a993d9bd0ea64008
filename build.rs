//! Compiles the Slint UI. Debug info is kept so the headless UI tests can
//! find elements by their accessible labels; fonts are embedded so the kiosk
//! never depends on the system's fonts; the gettext catalogues in
//! `translations/<lang>/LC_MESSAGES/veteran-kiosk.po` are bundled, so a
//! language is chosen at run time without files on the kiosk.

fn main() {
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

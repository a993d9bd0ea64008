#!/usr/bin/env bash
# Re-extracts translations/veteran-kiosk.pot from the @tr() strings of
# ui/**/*.slint and merges it into every catalogue
# translations/<lang>/LC_MESSAGES/veteran-kiosk.po (new strings arrive
# untranslated and show in Chinese until translated). See docs/ui.md.
#
# Needs slint-tr-extractor (cargo install slint-tr-extractor --version 1.18.1
# --locked) and msgmerge (Debian package gettext).
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in slint-tr-extractor msgmerge; do
    command -v "$tool" >/dev/null || { echo "$tool is missing (see the top of $0)" >&2; exit 1; }
done
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
find ui -name '*.slint' -print0 | sort -z | xargs -0 slint-tr-extractor \
    --no-default-translation-context \
    --package-name veteran-kiosk --package-version "$version" \
    -o translations/veteran-kiosk.pot
# The date changes on every run; keep the file stable when nothing else did.
sed -i '/^"POT-Creation-Date: /d' translations/veteran-kiosk.pot
for po in translations/*/LC_MESSAGES/veteran-kiosk.po; do
    # No fuzzy guesses: a changed string is translated anew, not shown wrong.
    msgmerge --quiet --update --backup=none --no-fuzzy-matching "$po" translations/veteran-kiosk.pot
    msgfmt --check --statistics -o /dev/null "$po"
done

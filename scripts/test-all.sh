#!/usr/bin/env bash
# Runs every check and test: formatting, lints, unit, integration and UI tests.
# Starts the services the tests need (pcscd with the virtual reader) itself.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

export CARGO_TERM_COLOR=never
# A one-off build gains nothing from incremental caches, and they cost
# gigabytes of disk (a CI run once failed with the disk full).
export CARGO_INCREMENTAL=0
echo "== cargo fmt --check"
cargo fmt --all --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

if [ -x scripts/start-services.sh ]; then
  scripts/start-services.sh
fi

echo "== cargo test"
cargo test --workspace --all-targets --no-fail-fast
echo "== disk used by target/: $(du -sh target 2>/dev/null | cut -f1)"

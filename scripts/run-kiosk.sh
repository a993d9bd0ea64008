#!/usr/bin/env bash
# Sets up a fresh Debian machine and runs the kiosk. Where no hardware is
# configured the kiosk uses simulated devices and a local county platform.
# Any arguments are passed to `veteran-kiosk` (e.g. `check id 11010519491231002X`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --release --bins
exec target/release/veteran-kiosk "$@"

#!/usr/bin/env bash
# Cold start to the attract screen, and memory in use, of the kiosk UI.
# Builds the example (dev profile, whose dependencies are built with
# opt-level 2; pass --release for a release build), then starts it five times
# in a fresh virtual X display (Xvfb, 1920x1080) with Slint's software
# renderer. Each run prints one JSON line.
set -euo pipefail
cd "$(dirname "$0")/.."
profile_dir=debug
if [[ "${1:-}" == "--release" ]]; then
    cargo build --release --example kiosk_startup
    profile_dir=release
else
    cargo build --example kiosk_startup
fi
for run in 1 2 3 4 5; do
    SLINT_BACKEND=winit-software xvfb-run -a -s "-screen 0 1920x1080x24" \
        "target/$profile_dir/examples/kiosk_startup" 2>/dev/null
done

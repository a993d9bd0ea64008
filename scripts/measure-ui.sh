#!/usr/bin/env bash
# Cold start to the attract screen, and memory in use, of the kiosk UI.
# Builds the release example, then starts it five times in a fresh virtual
# X display (Xvfb, 1920x1080) with Slint's software renderer.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --example kiosk_startup
for run in 1 2 3 4 5; do
    SLINT_BACKEND=winit-software xvfb-run -a -s "-screen 0 1920x1080x24" \
        target/release/examples/kiosk_startup
done

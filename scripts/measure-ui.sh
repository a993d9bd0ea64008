#!/usr/bin/env bash
# Cold start to the attract screen, and memory in use, of the kiosk UI.
# Builds the example (dev profile, whose dependencies are built with
# opt-level 2; pass --release for a release build), then starts it five times
# in a fresh virtual X display (Xvfb, 1920x1080) with Slint's software
# renderer. Each run prints one JSON line.
#
# --waits (implies a release build): instead, examples/kiosk_waits.rs five
# times: card laid on the simulated reader -> identity page drawn, and the
# portrait page's live preview (pictures per second, CPU cores, CPU per
# picture) in the same 1920x1080 window.
set -euo pipefail
cd "$(dirname "$0")/.."
profile_dir=debug
example=kiosk_startup
case "${1:-}" in
--release)
    cargo build --release --example "$example"
    profile_dir=release
    ;;
--waits)
    example=kiosk_waits
    cargo build --release --example "$example"
    profile_dir=release
    ;;
*)
    cargo build --example "$example"
    ;;
esac
target_dir="${CARGO_TARGET_DIR:-target}"
for run in 1 2 3 4 5; do
    SLINT_BACKEND=winit-software VETERAN_KIOSK_WINDOW_SIZE=1920x1080 \
        xvfb-run -a -s "-screen 0 1920x1080x24" \
        "$target_dir/$profile_dir/examples/$example" 2>/dev/null
done

#!/usr/bin/env bash
# Sets up a fresh Debian machine and runs the kiosk. Where no hardware is
# configured the kiosk uses simulated devices (kiosk-config/kiosk.toml) and a
# local county platform on 127.0.0.1:8443 with the demo certificates, whose
# web console for county staff is on https://localhost:8444 (demo logins
# printed below).
# Arguments, if any, are passed to `veteran-kiosk` instead of starting the UI
# (e.g. `scripts/run-kiosk.sh check id 11010519491231002X`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --release -p veteran-kiosk -p county-platform

if (($#)); then
  exec target/release/veteran-kiosk "$@"
fi

# The simulated camera shows a sample head-and-shoulders photo (public
# domain, fetched by setup) so the photo coach has a face to frame.
mkdir -p var assets/demo/camera
# Named `approach-…`, it is played as a person walking up to the camera.
rm -f assets/demo/camera/astronaut.png  # copied here before under a plain name
if [ -f tests/fixtures/photo/astronaut.png ] && [ ! -e assets/demo/camera/approach-astronaut.png ]; then
  cp tests/fixtures/photo/astronaut.png assets/demo/camera/approach-astronaut.png
fi

# The local county platform and its console, unless one already answers on its port.
if ! (exec 3<>/dev/tcp/127.0.0.1/8443) 2>/dev/null; then
  # Demo staff accounts (kept if they exist already).
  target/release/county-platform --db var/platform.sqlite3 user add admin \
    --role admin --password demo-admin-2026 >/dev/null 2>&1 || true
  target/release/county-platform --db var/platform.sqlite3 user add reviewer \
    --role reviewer --password demo-review-2026 >/dev/null 2>&1 || true
  target/release/county-platform serve --pki tests/config_data/demo-pki \
    --db var/platform.sqlite3 --console-addr 127.0.0.1:8444 >var/county-platform.log 2>&1 &
  platform_pid=$!
  trap 'kill "$platform_pid" 2>/dev/null || true' EXIT
  echo "run-kiosk: local county platform started (log in var/county-platform.log)"
  echo "run-kiosk: county console: https://localhost:8444  (demo CA: tests/config_data/demo-pki/ca.pem)"
  echo "run-kiosk:   管理 administrator: admin / demo-admin-2026"
  echo "run-kiosk:   审核 reviewer:      reviewer / demo-review-2026"
fi

# No display (a server or CI machine): give the kiosk a virtual one.
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  Xvfb :77 -screen 0 1920x1080x24 >/dev/null 2>&1 &
  xvfb_pid=$!
  trap 'kill "${platform_pid:-}" "$xvfb_pid" 2>/dev/null || true' EXIT
  export DISPLAY=:77
  export SLINT_BACKEND=winit-software
  # No window manager to make the window fullscreen: size it to the screen.
  export VETERAN_KIOSK_WINDOW_SIZE=1920x1080
  sleep 1
fi

target/release/veteran-kiosk

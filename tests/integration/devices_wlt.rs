//! The vendor WLT decoder loaded at run time (dlopen). No vendor library is
//! available here, so the test builds stand-ins with the C compiler that
//! export the vendor signature, and the kiosk loads them as it would the
//! real one.

use std::path::{Path, PathBuf};
use std::process::Command;

use veteran_kiosk::devices::config::{WltDecoderConfig, WltOutput};
use veteran_kiosk::devices::wlt::{card_portrait, CardPortrait, WltDecoder, WLT_LEN};

const FAKE_VENDOR: &str = r#"
#include <string.h>
/* Writes a 102x126 BGR picture derived from the input; returns 1. */
int unpack(const unsigned char *wlt, unsigned char *out, int flag) {
    (void)flag;
    for (int i = 0; i < 102 * 126; i++) {
        out[3 * i + 0] = wlt[i % 1024];        /* B */
        out[3 * i + 1] = (unsigned char)(i / 102); /* G: the row */
        out[3 * i + 2] = 200;                  /* R */
    }
    return 1;
}
/* The same under another name, failing the way vendors do. */
int decode_failing(const unsigned char *wlt, unsigned char *out, int flag) {
    (void)wlt; (void)out; (void)flag;
    return -2;
}
/* A vendor that writes a whole BMP file: 14 + 40 header bytes, rows of
   102 pixels padded to 308 bytes, bottom row first. */
int unpack_bmp(const unsigned char *wlt, unsigned char *out, int flag) {
    (void)flag;
    const int w = 102, h = 126, row = 308, size = 54 + row * h;
    memset(out, 0, size);
    out[0] = 'B'; out[1] = 'M';
    out[2] = size & 255; out[3] = (size >> 8) & 255; out[4] = (size >> 16) & 255;
    out[10] = 54; out[14] = 40;
    out[18] = w; out[22] = h; out[26] = 1; out[28] = 24;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            unsigned char *p = out + 54 + (h - 1 - y) * row + 3 * x;
            p[0] = wlt[(y * w + x) % 1024]; p[1] = (unsigned char)y; p[2] = 10;
        }
    return 1;
}
"#;

fn build_fake_library(dir: &Path) -> PathBuf {
    let source = dir.join("fake_wlt.c");
    let library = dir.join("libfakewlt.so");
    std::fs::write(&source, FAKE_VENDOR).unwrap();
    let status = Command::new("cc")
        .args(["-shared", "-fPIC", "-O1", "-o"])
        .arg(&library)
        .arg(&source)
        .status()
        .expect("a C compiler (cc) is needed to build the stand-in vendor library");
    assert!(status.success(), "cc failed");
    library
}

fn config(library: &Path, symbol: &str, output: WltOutput) -> WltDecoderConfig {
    WltDecoderConfig {
        library: library.to_path_buf(),
        symbol: symbol.into(),
        output,
        success_code: 1,
    }
}

fn wlt() -> Vec<u8> {
    (0..WLT_LEN).map(|i| (i % 251) as u8).collect()
}

#[test]
fn a_configured_decoder_turns_the_chip_photo_into_a_small_jpeg() {
    let dir = tempfile::tempdir().unwrap();
    let library = build_fake_library(dir.path());
    for (symbol, output, red) in [
        ("unpack", WltOutput::Bgr, 200u8),
        ("unpack_bmp", WltOutput::Bmp, 10),
    ] {
        let decoder = WltDecoder::load(&config(&library, symbol, output)).unwrap();
        let image = decoder.decode(&wlt()).unwrap();
        assert_eq!(image.dimensions(), (102, 126));
        // Pixel (5, 7): B from the input, G the row, R the constant.
        assert_eq!(
            image.get_pixel(5, 7).0,
            [red, 7, wlt()[7 * 102 + 5]],
            "{symbol}"
        );
        let CardPortrait::Jpeg(jpeg) = card_portrait(&wlt(), Some(&decoder)) else {
            panic!("expected a JPG from {symbol}");
        };
        assert!(jpeg.len() <= 3_000, "{} bytes", jpeg.len());
        let back = image::load_from_memory(&jpeg).unwrap();
        assert_eq!((back.width(), back.height()), (102, 126));
    }
}

#[test]
fn decoder_failures_are_noted_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let library = build_fake_library(dir.path());
    let failing = WltDecoder::load(&config(&library, "decode_failing", WltOutput::Bgr)).unwrap();
    assert_eq!(failing.decode(&wlt()).unwrap_err().code(), "wlt_failed");
    assert_eq!(
        card_portrait(&wlt(), Some(&failing)),
        CardPortrait::NotDecoded {
            note_zh: "芯片照片解码失败".into()
        }
    );
    let decoder = WltDecoder::load(&config(&library, "unpack", WltOutput::Bgr)).unwrap();
    assert_eq!(decoder.decode(&[0u8; 10]).unwrap_err().code(), "wlt_input");
    let missing = WltDecoder::load(&config(&library, "no_such_function", WltOutput::Bgr));
    assert_eq!(missing.unwrap_err().code(), "wlt_symbol");
}

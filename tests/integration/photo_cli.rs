//! `veteran-kiosk check photo` and `veteran-kiosk photo standardize` as a
//! person or script would run them.

use crate::photo_support;

use std::path::Path;
use std::process::{Command, Output};

use photo_support::*;
use serde_json::Value;
use veteran_kiosk::photo::encode_jpeg;

fn kiosk(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_veteran-kiosk"))
        .args(args)
        .current_dir(project_root())
        .env_remove("VETERAN_KIOSK_MODEL")
        .output()
        .expect("run veteran-kiosk")
}

fn json_of(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|err| {
        panic!(
            "stdout is not JSON ({err}): {}\nstderr: {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

fn codes(json: &Value) -> Vec<String> {
    json["problems"]
        .as_array()
        .expect("problems array")
        .iter()
        .map(|p| p["code"].as_str().expect("code").to_owned())
        .collect()
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("utf-8 temp path")
}

#[test]
fn check_photo_passes_a_good_portrait_and_lists_problems_of_a_bad_one() {
    let dir = scratch_dir("check-photo");
    let good = dir.join("good.jpg");
    std::fs::write(&good, encode_jpeg(&good_portrait(), 90).expect("jpeg")).expect("write");
    let out = kiosk(&["check", "photo", path_str(&good)]);
    let json = json_of(&out);
    assert_eq!(out.status.code(), Some(0), "{json}");
    assert_eq!(json["ok"], Value::Bool(true));
    assert!(
        json["measures"]["face"]["head_share"]
            .as_f64()
            .expect("head share")
            >= 2.0 / 3.0
    );
    assert_eq!(
        json["measures"]["file_bytes"].as_u64(),
        std::fs::metadata(&good).ok().map(|m| m.len())
    );

    let grey = dir.join("grey.png");
    std::fs::write(&grey, png_bytes(&greyscale(&good_portrait()))).expect("write");
    let out = kiosk(&["check", "photo", path_str(&grey)]);
    let json = json_of(&out);
    assert_eq!(out.status.code(), Some(1), "{json}");
    assert_eq!(json["ok"], Value::Bool(false));
    assert_eq!(codes(&json), ["not_jpeg", "greyscale"]);
    for problem in json["problems"].as_array().expect("array") {
        assert!(!problem["message"].as_str().expect("message").is_empty());
    }
}

#[test]
fn unreadable_input_and_a_missing_model_exit_2_with_a_message() {
    let dir = scratch_dir("check-photo-bad");
    let junk = dir.join("junk.jpg");
    std::fs::write(&junk, b"\xFF\xD8\xFFnot really a jpeg").expect("write");
    let out = kiosk(&["check", "photo", path_str(&junk)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(!out.stderr.is_empty());

    let out = kiosk(&["check", "photo", path_str(&dir.join("absent.jpg"))]);
    assert_eq!(out.status.code(), Some(2));

    let good = dir.join("good.jpg");
    std::fs::write(&good, encode_jpeg(&good_portrait(), 90).expect("jpeg")).expect("write");
    let out = kiosk(&[
        "check",
        "photo",
        "--model",
        "/nowhere/model.onnx",
        path_str(&good),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("fetch-models.sh"), "{stderr}");

    let out = Command::new(env!("CARGO_BIN_EXE_veteran-kiosk"))
        .args(["check", "photo", path_str(&good)])
        .env("VETERAN_KIOSK_MODEL", "/nowhere/env-model.onnx")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nowhere/env-model.onnx"));
}

#[test]
fn standardize_writes_a_standard_portrait_or_says_why_not() {
    let dir = scratch_dir("standardize");
    let input = dir.join("large.png");
    std::fs::write(&input, png_bytes(&large_astronaut())).expect("write");
    let output = dir.join("portrait.jpg");
    let out = kiosk(&["photo", "standardize", path_str(&input), path_str(&output)]);
    let json = json_of(&out);
    assert_eq!(out.status.code(), Some(0), "{json}");
    let bytes = std::fs::read(&output).expect("output written");
    assert_eq!(json["bytes"].as_u64(), Some(bytes.len() as u64));
    assert!(bytes.len() <= 300_000);

    // The result passes `check photo`.
    let out = kiosk(&["check", "photo", path_str(&output)]);
    assert_eq!(out.status.code(), Some(0), "{}", json_of(&out));

    // A photo with too few pixels on the head is refused, nothing written.
    let small = dir.join("small.png");
    std::fs::write(&small, png_bytes(&astronaut())).expect("write");
    let refused = dir.join("refused.jpg");
    let out = kiosk(&["photo", "standardize", path_str(&small), path_str(&refused)]);
    let json = json_of(&out);
    assert_eq!(out.status.code(), Some(1), "{json}");
    assert_eq!(codes(&json), ["face_too_small"]);
    assert!(!refused.exists());
}

/// A busy picture JPEG cannot squeeze much: gradients, fine stripes and
/// seeded noise (the same kind photo_encode.rs uses).
fn busy_picture(width: u32, height: u32) -> image::RgbImage {
    let mut state = 0x9E37_79B9u32;
    image::RgbImage::from_fn(width, height, |x, y| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let noise = (state % 40) as i32 - 20;
        let stripe = if (x / 3 + y / 5) % 2 == 0 { 25 } else { -25 };
        let r = (x * 200 / width) as i32 + stripe + noise;
        let g = (y * 200 / height) as i32 - stripe + noise;
        let b = 128 + stripe / 2 - noise;
        image::Rgb([
            r.clamp(0, 255) as u8,
            g.clamp(0, 255) as u8,
            b.clamp(0, 255) as u8,
        ])
    })
}

#[test]
fn photo_encode_prints_one_json_object_and_writes_a_jpeg_under_the_cap() {
    let dir = scratch_dir("photo-encode");
    let cases = [
        ("certificate", 300_000u64, busy_picture(2000, 1500), true),
        ("id-card", 40_000, busy_picture(1280, 808), true),
        ("portrait", 300_000, large_astronaut(), false),
        ("chip", 3_000, busy_picture(102, 126), true),
    ];
    for (kind, cap, picture, may_shrink) in cases {
        let input = dir.join(format!("{kind}.png"));
        std::fs::write(&input, png_bytes(&picture)).expect("write");
        let output = dir.join(format!("{kind}.jpg"));
        let out = kiosk(&[
            "photo",
            "encode",
            "--kind",
            kind,
            path_str(&input),
            path_str(&output),
        ]);
        let json = json_of(&out);
        assert_eq!(out.status.code(), Some(0), "{kind}: {json}");
        assert_eq!(json["ok"], Value::Bool(true), "{json}");
        assert_eq!(json["kind"], kind);
        assert_eq!(json["cap"].as_u64(), Some(cap));
        let written = std::fs::read(&output).expect("output written");
        assert_eq!(json["bytes"].as_u64(), Some(written.len() as u64), "{json}");
        assert!(written.len() as u64 <= cap, "{kind}: {json}");
        let decoded = image::load_from_memory_with_format(&written, image::ImageFormat::Jpeg)
            .expect("a JPEG");
        assert_eq!(
            (json["width"].as_u64(), json["height"].as_u64()),
            (
                Some(u64::from(decoded.width())),
                Some(u64::from(decoded.height()))
            ),
            "{json}"
        );
        let quality = json["quality"].as_u64().expect("quality");
        assert!((1..=100).contains(&quality), "{json}");
        assert!(json["ms"].as_f64().expect("ms") >= 0.0, "{json}");
        if !may_shrink {
            assert_eq!(
                (decoded.width(), decoded.height()),
                picture.dimensions(),
                "{json}"
            );
        }
        // Shrinking keeps the proportions.
        let aspect = |w: u32, h: u32| f64::from(w) / f64::from(h);
        let (w, h) = picture.dimensions();
        assert!(
            (aspect(decoded.width(), decoded.height()) / aspect(w, h) - 1.0).abs() < 0.01,
            "{kind}: {json}"
        );
    }
}

#[test]
fn photo_encode_refuses_a_portrait_that_cannot_fit_and_bad_input() {
    let dir = scratch_dir("photo-encode-bad");
    // A portrait is never shrunk: a huge busy one cannot fit.
    let input = dir.join("huge.png");
    std::fs::write(&input, png_bytes(&busy_picture(2400, 2400))).expect("write");
    let output = dir.join("huge.jpg");
    let out = kiosk(&[
        "photo",
        "encode",
        "--kind",
        "portrait",
        path_str(&input),
        path_str(&output),
    ]);
    let json = json_of(&out);
    assert_eq!(out.status.code(), Some(1), "{json}");
    assert_eq!(codes(&json), ["too_large_file"]);
    assert!(!output.exists());

    let junk = dir.join("junk.jpg");
    std::fs::write(&junk, b"not a picture").expect("write");
    let out = kiosk(&[
        "photo",
        "encode",
        "--kind",
        "certificate",
        path_str(&junk),
        path_str(&output),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());

    let out = kiosk(&[
        "photo",
        "encode",
        "--kind",
        "passport",
        path_str(&input),
        path_str(&output),
    ]);
    assert_eq!(out.status.code(), Some(2));
}

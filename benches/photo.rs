//! Photo pipeline figures: per-frame analysis at 640×480 (the coach needs
//! ≥ 25 frames a second on one core), standardising, encoding under each
//! cap. Needs scripts/fetch-models.sh to have run.

// A measuring program may unwrap: a panic there is a failed measurement, not a kiosk crash.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use image::imageops::{self, FilterType};
use image::{Rgb, RgbImage};
use veteran_kiosk::photo::jpeg::JpegDecoder;
use veteran_kiosk::photo::{
    cut_standard_portrait, encode_jpeg, encode_under_cap, measure, standardize,
    standardize_live_frame, LiveMemory, PhotoKind, PortraitAnalyzer, Search, Thresholds,
    MODEL_FILE_NAME,
};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn analyzer() -> PortraitAnalyzer {
    let path = root().join("assets/models").join(MODEL_FILE_NAME);
    PortraitAnalyzer::load(Some(&path))
        .unwrap_or_else(|err| panic!("{err}: run scripts/fetch-models.sh first"))
}

fn astronaut() -> RgbImage {
    let path = root().join("tests/fixtures/photo/astronaut.png");
    image::open(&path)
        .unwrap_or_else(|err| {
            panic!(
                "{}: {err}: run scripts/fetch-models.sh first",
                path.display()
            )
        })
        .to_rgb8()
}

/// The astronaut as a 640×480 camera frame (scaled to the frame height,
/// centred on a plain background).
fn camera_frame(a: &RgbImage) -> RgbImage {
    let scaled = imageops::resize(a, 480, 480, FilterType::Triangle);
    let mut frame = RgbImage::from_pixel(640, 480, Rgb([120, 120, 125]));
    imageops::replace(&mut frame, &scaled, 80, 0);
    frame
}

fn bench(c: &mut Criterion) {
    let analyzer = analyzer();
    let a = astronaut();
    let frame = camera_frame(&a);
    // 2.5× so the head has enough pixels for the standard crop.
    let large = imageops::resize(&a, 1280, 1280, FilterType::Lanczos3);
    let thresholds = Thresholds::default();

    let mut group = c.benchmark_group("photo");
    group
        .sample_size(30)
        .measurement_time(Duration::from_secs(4));

    group.bench_function("analyze_frame_640x480", |b| {
        b.iter(|| analyzer.analyze(black_box(&frame), Search::Frame))
    });
    let empty_frame = RgbImage::from_pixel(640, 480, Rgb([120, 120, 125]));
    group.bench_function("analyze_frame_640x480_nobody", |b| {
        b.iter(|| analyzer.analyze(black_box(&empty_frame), Search::Frame))
    });
    // The live coach's path: an empty hall seen by a noisy camera (four
    // frames, each with its own ±4 levels of noise), answered from the
    // memory of the empty scene except every eleventh frame.
    let noisy_empty: Vec<RgbImage> = (0..4u32)
        .map(|seed| {
            let mut state = 0x9e37_79b9u32.wrapping_mul(seed + 1);
            RgbImage::from_fn(640, 480, |_, _| {
                let mut noise = || {
                    state ^= state << 13;
                    state ^= state >> 17;
                    state ^= state << 5;
                    (state % 9) as u8
                };
                Rgb([116 + noise(), 116 + noise(), 121 + noise()])
            })
        })
        .collect();
    let mut memory = LiveMemory::default();
    let mut next = 0usize;
    group.bench_function("live_frame_640x480_nobody", |b| {
        b.iter(|| {
            next = (next + 1) % noisy_empty.len();
            let faces = analyzer
                .detect_live(black_box(&noisy_empty[next]), &mut memory)
                .unwrap();
            measure(&noisy_empty[next], &faces)
        })
    });
    eprintln!(
        "live nobody: {} of the frames answered from memory",
        memory.reused_frames()
    );
    let mut memory = LiveMemory::default();
    group.bench_function("live_frame_640x480_face", |b| {
        b.iter(|| {
            let faces = analyzer
                .detect_live(black_box(&frame), &mut memory)
                .unwrap();
            measure(&frame, &faces)
        })
    });
    let faces = analyzer.detect(&frame, Search::Frame).expect("detect");
    group.bench_function("measures_only_640x480", |b| {
        b.iter(|| measure(black_box(&frame), black_box(&faces)))
    });
    group.bench_function("analyze_still_thorough_1280", |b| {
        b.iter(|| analyzer.analyze(black_box(&large), Search::Thorough))
    });
    let large_measures = analyzer.analyze(&large, Search::Thorough).expect("analyze");
    // Benchmark the real work, not an early refusal.
    assert!(cut_standard_portrait(&large, &large_measures, &thresholds).is_ok());
    assert!(standardize(&analyzer, &large, &thresholds).is_ok());
    assert_eq!(faces.len(), 1, "the camera frame shows one face");
    group.bench_function("cut_standard_portrait_1280", |b| {
        b.iter(|| cut_standard_portrait(black_box(&large), &large_measures, &thresholds))
    });
    group.bench_function("standardize_1280_end_to_end", |b| {
        b.iter(|| standardize(&analyzer, black_box(&large), &thresholds))
    });

    let portrait = cut_standard_portrait(&large, &large_measures, &thresholds).expect("portrait");
    let id_card = imageops::resize(&a, 1280, 808, FilterType::Triangle);
    let certificate = imageops::resize(&a, 2400, 1800, FilterType::Triangle);
    let card_portrait = imageops::resize(&a, 102, 126, FilterType::Triangle);
    for (name, kind, image) in [
        (
            "encode_portrait_358x441_300k",
            PhotoKind::Portrait,
            &portrait,
        ),
        (
            "encode_id_card_1280x808_40k",
            PhotoKind::IdCardPhoto,
            &id_card,
        ),
        (
            "encode_certificate_2400x1800_300k",
            PhotoKind::Certificate,
            &certificate,
        ),
        (
            "encode_card_portrait_102x126_3k",
            PhotoKind::CardPortrait,
            &card_portrait,
        ),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| encode_under_cap(black_box(image), kind))
        });
    }

    // A 1280×720 camera frame of someone close enough for the standard
    // crop (the astronaut scaled to 1400 px, its top left 1280×720), whose face
    // the coach found on its 640×360 preview: the capture path.
    let scaled = imageops::resize(&a, 1400, 1400, FilterType::Lanczos3);
    let hd_frame = imageops::crop_imm(&scaled, 0, 0, 1280, 720).to_image();
    let preview = imageops::resize(&hd_frame, 640, 360, FilterType::Triangle);
    let preview_faces = analyzer.detect(&preview, Search::Frame).expect("detect");
    assert_eq!(preview_faces.len(), 1, "the preview shows one face");
    let live = standardize_live_frame(&analyzer, &hd_frame, &preview_faces, 2.0, &thresholds);
    if let Err(err) = &live {
        panic!("the 1280x720 frame must make a portrait: {err}");
    }
    let full_measures = analyzer
        .analyze(&hd_frame, Search::Thorough)
        .expect("analyze");
    eprintln!(
        "1280x720 frame: standard crop {:?} (scripts/photo-compare.py cuts the same)",
        veteran_kiosk::photo::standardize::crop_pixels(&full_measures)
    );
    group.bench_function("standardize_live_frame_1280x720", |b| {
        b.iter(|| {
            standardize_live_frame(
                &analyzer,
                black_box(&hd_frame),
                &preview_faces,
                2.0,
                &thresholds,
            )
        })
    });

    // MJPEG camera frames through libjpeg-turbo, whole and shrunk in the
    // decoder for the preview.
    let mjpeg = encode_jpeg(&hd_frame, 85).expect("jpeg");
    let mut decoder = JpegDecoder::new().expect("decoder");
    group.bench_function("decode_mjpeg_1280x720", |b| {
        b.iter(|| decoder.decode(black_box(&mjpeg)))
    });
    group.bench_function("decode_mjpeg_1280x720_to_640x360", |b| {
        b.iter(|| decoder.decode_within(black_box(&mjpeg), 640, 640))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

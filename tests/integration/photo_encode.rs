//! Encoding under the plan's caps (decimal bytes): portrait 300 000,
//! ID-card photo 40 000, certificate 300 000, card portrait 3 000.

use image::{Rgb, RgbImage};
use proptest::prelude::*;
use veteran_kiosk::photo::{
    encode_at_best_quality, encode_jpeg, encode_under_cap, PhotoError, PhotoKind,
};

/// A busy, photo-like test card: gradients, fine stripes and seeded noise,
/// which JPEG cannot squeeze much.
fn busy_image(width: u32, height: u32, seed: u32) -> RgbImage {
    let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    RgbImage::from_fn(width, height, |x, y| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let noise = (state % 48) as i32 - 24;
        let stripe = if (x / 3 + y / 5) % 2 == 0 { 30 } else { -30 };
        let base = |v: u32, span: u32| (v * 200 / span.max(1)) as i32;
        let r = base(x, width) + stripe + noise;
        let g = base(y, height) - stripe + noise;
        let b = 128 + stripe / 2 - noise;
        Rgb([
            r.clamp(0, 255) as u8,
            g.clamp(0, 255) as u8,
            b.clamp(0, 255) as u8,
        ])
    })
}

fn decodes_to(bytes: &[u8]) -> (u32, u32) {
    let img = image::load_from_memory_with_format(bytes, image::ImageFormat::Jpeg)
        .expect("the output is a JPEG");
    (img.width(), img.height())
}

#[test]
fn every_kind_fits_its_cap() {
    let cases = [
        (PhotoKind::Portrait, busy_image(358, 441, 1)),
        (PhotoKind::IdCardPhoto, busy_image(1280, 808, 2)),
        (PhotoKind::Certificate, busy_image(2400, 1800, 3)),
        (PhotoKind::CardPortrait, busy_image(102, 126, 4)),
    ];
    let mut report = String::new();
    for (kind, image) in cases {
        let out = encode_under_cap(&image, kind).expect("fits");
        assert!(
            out.bytes.len() <= kind.max_bytes(),
            "{kind:?}: {}",
            out.bytes.len()
        );
        assert_eq!(decodes_to(&out.bytes), (out.width, out.height));
        // Shrinking keeps the proportions.
        let aspect_in = image.width() as f32 / image.height() as f32;
        let aspect_out = out.width as f32 / out.height as f32;
        assert!((aspect_in / aspect_out - 1.0).abs() < 0.01, "{kind:?}");
        report.push_str(&format!(
            "{kind:?}: {}x{} -> {}x{} q{}\n",
            image.width(),
            image.height(),
            out.width,
            out.height,
            out.quality
        ));
    }
    // The portrait keeps its size; the big documents had to shrink.
    assert!(report.contains("Portrait: 358x441 -> 358x441"), "{report}");
    assert!(
        !report.contains("Certificate: 2400x1800 -> 2400x1800"),
        "{report}"
    );
    assert!(
        !report.contains("IdCardPhoto: 1280x808 -> 1280x808"),
        "{report}"
    );
}

#[test]
fn a_portrait_that_cannot_fit_is_an_error_not_a_shrunken_portrait() {
    let image = busy_image(358, 441, 7);
    let err = encode_at_best_quality(&image, 5_000, 50).unwrap_err();
    assert!(
        matches!(err, PhotoError::CannotFit { cap: 5_000, .. }),
        "{err:?}"
    );
    assert_eq!(err.code(), "too_large_file");
}

#[test]
fn small_images_are_kept_at_full_quality() {
    let image = busy_image(64, 64, 9);
    let out = encode_under_cap(&image, PhotoKind::Portrait).expect("fits");
    assert_eq!(out.quality, 100);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, .. ProptestConfig::default() })]

    /// The chosen quality fits and the next one up does not: it is the
    /// highest that fits (JPEG size grows with quality for these images).
    #[test]
    fn binary_search_finds_the_highest_quality_that_fits(
        cap in 4_000usize..40_000,
        seed in 0u32..1000,
    ) {
        let image = busy_image(160, 120, seed);
        match encode_at_best_quality(&image, cap, 10) {
            Ok(out) => {
                prop_assert!(out.bytes.len() <= cap);
                prop_assert_eq!(encode_jpeg(&image, out.quality).unwrap(), out.bytes.clone());
                if out.quality < 100 {
                    prop_assert!(encode_jpeg(&image, out.quality + 1).unwrap().len() > cap);
                }
            }
            Err(PhotoError::CannotFit { smallest, .. }) => prop_assert!(smallest > cap),
            Err(other) => prop_assert!(false, "unexpected {other}"),
        }
    }
}

#[test]
fn decoding_round_trips_and_rejects_junk_with_an_error() {
    let image = busy_image(90, 70, 11);
    let jpeg = encode_jpeg(&image, 90).expect("jpeg");
    let decoded = veteran_kiosk::photo::decode_photo(&jpeg).expect("decodes");
    assert_eq!(decoded.dimensions(), (90, 70));
    // (A truncated JPEG still decodes: the decoder greys out what is
    // missing, and the measures then judge the picture.)
    for junk in [&b""[..], b"hello", &[0xFF, 0xD8, 0xFF, 0xE0]] {
        match veteran_kiosk::photo::decode_photo(junk) {
            Err(err) => assert_eq!(err.code(), "unreadable_image", "{err}"),
            Ok(image) => panic!("{junk:?} decoded to {:?}", image.dimensions()),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    /// Any bytes, including a real JPEG with bytes flipped, give an image
    /// or an error, never a panic.
    #[test]
    fn decoding_arbitrary_bytes_never_panics(
        flips in proptest::collection::vec((0usize..4000, any::<u8>()), 0..8),
        cut in 0usize..4000,
        junk in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let mut bytes = encode_jpeg(&busy_image(40, 30, 3), 80).unwrap();
        for (at, value) in flips {
            if let Some(b) = bytes.get_mut(at) {
                *b = value;
            }
        }
        bytes.truncate(cut.max(2));
        let _ = veteran_kiosk::photo::decode_photo(&bytes);
        let _ = veteran_kiosk::photo::decode_photo(&junk);
    }
}

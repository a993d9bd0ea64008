//! Fixtures for the photo tests: real photographs fetched by
//! scripts/fetch-models.sh (scikit-image's samples, a group photo) and the
//! variants the tests make from them.
#![allow(dead_code)]

use std::path::PathBuf;

use image::imageops::{self, FilterType};
use image::{Rgb, RgbImage};
use veteran_kiosk::photo::standard::{standard_crop, OUTPUT_HEIGHT, OUTPUT_WIDTH};
use veteran_kiosk::photo::{encode_jpeg, measure::head_box, PortraitAnalyzer, Rect, Search};

pub fn project_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

const SETUP_HINT: &str = "run scripts/fetch-models.sh first (the photo tests need the \
     face model and the sample photos it fetches)";

/// The analyzer with the real model. Panics (fails the test) when the
/// model has not been fetched: these tests must never pass by skipping.
pub fn analyzer() -> PortraitAnalyzer {
    let path = project_root()
        .join("assets/models")
        .join(veteran_kiosk::photo::MODEL_FILE_NAME);
    PortraitAnalyzer::load(Some(&path)).unwrap_or_else(|err| panic!("{err}; {SETUP_HINT}"))
}

pub fn sample(name: &str) -> RgbImage {
    let path = project_root().join("tests/fixtures/photo").join(name);
    image::open(&path)
        .unwrap_or_else(|err| panic!("{}: {err}; {SETUP_HINT}", path.display()))
        .to_rgb8()
}

/// scikit-image's astronaut: a real 512×512 colour portrait, head about
/// 170 px tall.
pub fn astronaut() -> RgbImage {
    sample("astronaut.png")
}

/// The astronaut at 2.5 times the size (1280×1280): a "large photo" with
/// enough pixels on the head for the 358×441 standard without enlarging.
pub fn large_astronaut() -> RgbImage {
    let a = astronaut();
    imageops::resize(
        &a,
        a.width() * 5 / 2,
        a.height() * 5 / 2,
        FilterType::Lanczos3,
    )
}

/// The astronaut photo small in the middle of a 1200×900 frame: someone
/// standing far from the camera.
pub fn far_astronaut() -> RgbImage {
    let mut far = RgbImage::from_pixel(1200, 900, Rgb([90, 100, 110]));
    imageops::replace(&mut far, &astronaut(), 344, 194);
    far
}

/// Cuts `crop` (may overflow: edge pixels repeat) out of `image` and
/// scales it to `width`×`height`, enlarging if needed; for making finished
/// portraits to check, not the product's own cropping.
pub fn cut(image: &RgbImage, crop: Rect, width: u32, height: u32) -> RgbImage {
    let sx = crop.width / width as f32;
    let sy = crop.height / height as f32;
    let big = imageops::resize(
        image,
        (image.width() as f32 / sx).round() as u32,
        (image.height() as f32 / sy).round() as u32,
        FilterType::Lanczos3,
    );
    let ox = crop.x / sx;
    let oy = crop.y / sy;
    RgbImage::from_fn(width, height, |x, y| {
        let bx = (ox + x as f32).round().clamp(0.0, big.width() as f32 - 1.0) as u32;
        let by = (oy + y as f32)
            .round()
            .clamp(0.0, big.height() as f32 - 1.0) as u32;
        *big.get_pixel(bx, by)
    })
}

/// A standard portrait made from the astronaut by the test itself (its
/// head is enlarged to reach 2/3 of the height).
pub fn good_portrait() -> RgbImage {
    portrait_shifted(0.0)
}

/// The standard crop around the astronaut's head moved sideways by
/// `share` of the crop width.
pub fn portrait_shifted(share: f32) -> RgbImage {
    let a = astronaut();
    let faces = analyzer().detect(&a, Search::Frame).expect("detect");
    let face = faces.first().expect("the astronaut's face is found");
    let mut crop = standard_crop(&head_box(&face.face_box));
    crop.x += share * crop.width;
    cut(&a, crop, OUTPUT_WIDTH, OUTPUT_HEIGHT)
}

/// The whole astronaut photo squeezed into the portrait size, padded: a
/// head far smaller than 2/3 of the height.
pub fn small_head_portrait() -> RgbImage {
    let a = astronaut();
    let scaled = imageops::resize(&a, OUTPUT_WIDTH, OUTPUT_WIDTH, FilterType::Lanczos3);
    let mut canvas = RgbImage::from_pixel(OUTPUT_WIDTH, OUTPUT_HEIGHT, Rgb([200, 200, 205]));
    imageops::replace(&mut canvas, &scaled, 0, 0);
    canvas
}

pub fn greyscale(image: &RgbImage) -> RgbImage {
    let luma = imageops::grayscale(image);
    RgbImage::from_fn(image.width(), image.height(), |x, y| {
        let v = luma.get_pixel(x, y).0[0];
        Rgb([v, v, v])
    })
}

pub fn darkened(image: &RgbImage, factor: f32) -> RgbImage {
    let mut out = image.clone();
    for p in out.pixels_mut() {
        for c in &mut p.0 {
            *c = (f32::from(*c) * factor).round() as u8;
        }
    }
    out
}

/// Two copies side by side: two faces.
pub fn side_by_side(image: &RgbImage) -> RgbImage {
    let mut out = RgbImage::new(image.width() * 2, image.height());
    imageops::replace(&mut out, image, 0, 0);
    imageops::replace(&mut out, image, i64::from(image.width()), 0);
    out
}

/// A valid JPEG made larger than `min_bytes` by APP15 padding segments
/// (as a camera's maker notes might): the pixels are untouched.
pub fn padded_jpeg(image: &RgbImage, min_bytes: usize) -> Vec<u8> {
    let plain = encode_jpeg(image, 90).expect("encode");
    let mut out = plain[..2].to_vec();
    while out.len() + plain.len() <= min_bytes {
        let payload = 65_000usize;
        out.extend_from_slice(&[0xFF, 0xEF]);
        out.extend_from_slice(&((payload + 2) as u16).to_be_bytes());
        out.extend(std::iter::repeat_n(0u8, payload));
    }
    out.extend_from_slice(&plain[2..]);
    out
}

pub fn png_bytes(image: &RgbImage) -> Vec<u8> {
    let mut bytes = Vec::new();
    image
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .expect("png");
    bytes
}

/// A fresh scratch directory for one test.
pub fn scratch_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("veteran-kiosk-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

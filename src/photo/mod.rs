//! The photo pipeline: face detection, per-frame measures, the live
//! framing coach, the standard portrait crop, and JPEG encoding under the
//! plan's size caps (§四(二)).
//!
//! How a portrait travels:
//! camera frame → [`PortraitAnalyzer::analyze`] → [`Measures`] →
//! [`Coach::observe`] (one instruction, `capture` when steady) → the
//! captured photo → [`standardize`] → 358×441 JPEG ≤ 300 000 bytes.
//! Document photos go straight to [`encode_under_cap`].
//!
//! Everything but model loading ([`PortraitAnalyzer::load`]) works on
//! buffers in memory and reads no clock: the coach is given each frame's
//! timestamp.

pub mod analyzer;
pub mod assess;
pub mod blazeface;
pub mod coach;
pub mod encode;
pub mod error;
pub mod geometry;
pub mod image_ops;
pub mod issue;
pub mod jpeg;
pub mod measure;
pub mod standard;
pub mod standardize;

pub use analyzer::{model_candidates, LiveMemory, PortraitAnalyzer, Search, MODEL_ENV};
pub use assess::{
    assess_frame, assess_portrait, assess_portrait_file, FrameSetup, Thresholds, PORTRAIT_MAX_BYTES,
};
pub use blazeface::{BlazeFace, FaceDetection, FaceLandmarks, MODEL_FILE_NAME};
pub use coach::{Advice, Coach, CoachConfig, CoachStep};
pub use encode::{
    encode_at_best_quality, encode_document, encode_jpeg, encode_under_cap, EncodedJpeg, PhotoKind,
};
pub use error::PhotoError;
pub use geometry::{Point, Rect};
pub use issue::{Direction, Issue};
pub use measure::{measure, FaceMeasures, Measures};
pub use standard::{OUTPUT_HEIGHT, OUTPUT_WIDTH};
pub use standardize::{
    cut_standard_portrait, standardize, standardize_as_far_as_possible, standardize_live_frame,
    ManualPortrait, StandardPortrait, StandardizeError,
};

use image::RgbImage;

/// Largest photo side accepted, in pixels, and the most memory a decode
/// may take, so a hostile file cannot make the decoder allocate gigabytes.
pub const MAX_DECODED_SIDE: u32 = 20_000;
pub const MAX_DECODE_BYTES: u64 = 256 * 1024 * 1024;

/// Decodes a JPEG or PNG file's bytes into RGB, turned upright as its EXIF
/// orientation says (phones store portraits sideways); anything else, or
/// a broken or oversized file, is [`PhotoError::Unreadable`].
pub fn decode_photo(bytes: &[u8]) -> Result<RgbImage, PhotoError> {
    use image::ImageDecoder;
    let unreadable = |err: image::ImageError| PhotoError::Unreadable(err.to_string());
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|err| PhotoError::Unreadable(err.to_string()))?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_DECODED_SIDE);
    limits.max_image_height = Some(MAX_DECODED_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(unreadable)?;
    // A broken EXIF block should not make a good picture unreadable.
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut decoded = image::DynamicImage::from_decoder(decoder).map_err(unreadable)?;
    decoded.apply_orientation(orientation);
    Ok(decoded.to_rgb8())
}

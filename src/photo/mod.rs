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
pub mod measure;
pub mod standard;
pub mod standardize;

pub use analyzer::{model_candidates, PortraitAnalyzer, Search, MODEL_ENV};
pub use assess::{
    assess_frame, assess_portrait, assess_portrait_file, FrameSetup, Thresholds, PORTRAIT_MAX_BYTES,
};
pub use blazeface::{BlazeFace, FaceDetection, FaceLandmarks, MODEL_FILE_NAME};
pub use coach::{Advice, Coach, CoachConfig, CoachStep};
pub use encode::{encode_at_best_quality, encode_jpeg, encode_under_cap, EncodedJpeg, PhotoKind};
pub use error::PhotoError;
pub use geometry::{Point, Rect};
pub use issue::{Direction, Issue};
pub use measure::{measure, FaceMeasures, Measures};
pub use standard::{OUTPUT_HEIGHT, OUTPUT_WIDTH};
pub use standardize::{cut_standard_portrait, standardize, StandardPortrait, StandardizeError};

use image::RgbImage;

/// Largest photo accepted, in pixels, so a hostile file cannot make the
/// decoder allocate gigabytes.
pub const MAX_DECODED_PIXELS: u64 = 64_000_000;

/// Decodes a JPEG or PNG file's bytes into RGB; anything else, or a broken
/// or oversized file, is [`PhotoError::Unreadable`].
pub fn decode_photo(bytes: &[u8]) -> Result<RgbImage, PhotoError> {
    let unreadable = |err: image::ImageError| PhotoError::Unreadable(err.to_string());
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|err| PhotoError::Unreadable(err.to_string()))?;
    let mut limits = image::Limits::default();
    let side = u32::try_from(MAX_DECODED_PIXELS).unwrap_or(u32::MAX);
    limits.max_image_width = Some(side.min(20_000));
    limits.max_image_height = Some(side.min(20_000));
    limits.max_alloc = Some(MAX_DECODED_PIXELS * 4);
    reader.limits(limits);
    let decoded = reader.decode().map_err(unreadable)?;
    Ok(decoded.to_rgb8())
}

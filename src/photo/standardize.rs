//! Cutting the standard 358×441 portrait out of a larger photo.

use image::imageops::{self, FilterType};
use image::RgbImage;
use thiserror::Error;

use super::analyzer::{PortraitAnalyzer, Search};
use super::assess::{assess_frame, assess_portrait, FrameSetup, Thresholds};
use super::encode::{encode_under_cap, EncodedJpeg, PhotoKind};
use super::error::PhotoError;
use super::issue::Issue;
use super::measure::{measure, Measures};
use super::standard::{OUTPUT_HEIGHT, OUTPUT_WIDTH};

#[derive(Debug, Error, Clone, PartialEq)]
pub enum StandardizeError {
    /// The photo cannot give a standard portrait, for these reasons.
    #[error("the photo cannot be made into a standard portrait: {}", codes(.0))]
    Refused(Vec<Issue>),
    #[error(transparent)]
    Photo(#[from] PhotoError),
}

fn codes(issues: &[Issue]) -> String {
    issues
        .iter()
        .map(Issue::code)
        .collect::<Vec<_>>()
        .join(", ")
}

impl StandardizeError {
    pub fn code(&self) -> &'static str {
        match self {
            StandardizeError::Refused(issues) => issues.first().map_or("refused", Issue::code),
            StandardizeError::Photo(err) => err.code(),
        }
    }
}

/// The integer pixel rectangle `(x, y, width, height)` to cut: the
/// measured crop rounded, with the output's aspect kept to within a pixel
/// and pushed inside the image when it overflows by the tolerated sliver.
pub fn crop_pixels(m: &Measures) -> Option<(u32, u32, u32, u32)> {
    let face = m.face.as_ref()?;
    let crop = face.crop;
    let height = crop.height.round().min(m.height as f32).max(1.0);
    let width = (height * OUTPUT_WIDTH as f32 / OUTPUT_HEIGHT as f32)
        .round()
        .min(m.width as f32)
        .max(1.0);
    let centre_x = crop.centre().x;
    let x = (centre_x - width / 2.0)
        .round()
        .clamp(0.0, m.width as f32 - width);
    let y = crop.y.round().clamp(0.0, m.height as f32 - height);
    Some((x as u32, y as u32, width as u32, height as u32))
}

/// Crops and scales `image` to the standard size, or says why not. Only
/// ever shrinks: a head with too few pixels is refused as too small.
pub fn cut_standard_portrait(
    image: &RgbImage,
    measures: &Measures,
    thresholds: &Thresholds,
) -> Result<RgbImage, Vec<Issue>> {
    let issues = assess_frame(measures, thresholds, &FrameSetup::still());
    if !issues.is_empty() {
        return Err(issues);
    }
    let (x, y, width, height) = crop_pixels(measures).ok_or_else(|| vec![Issue::NoFace])?;
    if height < OUTPUT_HEIGHT || width < OUTPUT_WIDTH {
        return Err(vec![Issue::TooFewPixels]);
    }
    let cut = imageops::crop_imm(image, x, y, width, height).to_image();
    Ok(imageops::resize(
        &cut,
        OUTPUT_WIDTH,
        OUTPUT_HEIGHT,
        FilterType::Lanczos3,
    ))
}

#[derive(Debug, Clone)]
pub struct StandardPortrait {
    pub image: RgbImage,
    pub jpeg: EncodedJpeg,
    /// The finished portrait measured again.
    pub measures: Measures,
}

/// Analyses a photo, cuts the standard portrait, encodes it under the
/// portrait cap and checks the result again, so what comes out passes
/// `check photo`.
pub fn standardize(
    analyzer: &PortraitAnalyzer,
    image: &RgbImage,
    thresholds: &Thresholds,
) -> Result<StandardPortrait, StandardizeError> {
    let measures = analyzer.analyze(image, Search::Thorough)?;
    let portrait =
        cut_standard_portrait(image, &measures, thresholds).map_err(StandardizeError::Refused)?;
    let jpeg = encode_under_cap(&portrait, PhotoKind::Portrait)?;
    let decoded = image::load_from_memory(&jpeg.bytes)
        .map_err(|err| PhotoError::Encode(err.to_string()))?
        .to_rgb8();
    let faces = analyzer.detect(&decoded, Search::Thorough)?;
    let result_measures = measure(&decoded, &faces);
    let issues = assess_portrait(&result_measures, thresholds);
    if !issues.is_empty() {
        return Err(StandardizeError::Refused(issues));
    }
    Ok(StandardPortrait {
        image: portrait,
        jpeg,
        measures: result_measures,
    })
}

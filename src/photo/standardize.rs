//! Cutting the standard 358×441 portrait out of a larger photo.

use image::imageops::{self, FilterType};
use image::RgbImage;
use thiserror::Error;

use super::analyzer::{PortraitAnalyzer, Search};
use super::assess::{assess_frame, assess_portrait, FrameSetup, Thresholds};
use super::blazeface::FaceDetection;
use super::encode::{encode_under_cap, EncodedJpeg, PhotoKind};
use super::error::PhotoError;
use super::issue::Issue;
use super::jpeg::decode_jpeg;
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
    finish_standard_portrait(analyzer, image, &measures, thresholds, Search::Thorough)
}

/// [`standardize`] for a camera frame whose faces the live coach has just
/// found on its smaller preview copy (`faces_on_preview`, `preview_scale`
/// = frame width / preview width): the faces are looked at once more on the
/// full frame (one detector pass each) instead of searched for again, and
/// the finished portrait is checked with one look ([`Search::Frame`]); the
/// coach has watched this scene for over a second already. What comes out
/// meets the same portrait checks.
pub fn standardize_live_frame(
    analyzer: &PortraitAnalyzer,
    image: &RgbImage,
    faces_on_preview: &[FaceDetection],
    preview_scale: f32,
    thresholds: &Thresholds,
) -> Result<StandardPortrait, StandardizeError> {
    let faces = analyzer.confirm_on_full_size(image, faces_on_preview, preview_scale)?;
    let measures = measure(image, &faces);
    finish_standard_portrait(analyzer, image, &measures, thresholds, Search::Frame)
}

/// Cut, encode, and check the encoded result again (`recheck` search), so
/// what is stored is what was judged.
fn finish_standard_portrait(
    analyzer: &PortraitAnalyzer,
    image: &RgbImage,
    measures: &Measures,
    thresholds: &Thresholds,
    recheck: Search,
) -> Result<StandardPortrait, StandardizeError> {
    let portrait =
        cut_standard_portrait(image, measures, thresholds).map_err(StandardizeError::Refused)?;
    let jpeg = encode_under_cap(&portrait, PhotoKind::Portrait)?;
    let decoded = decode_jpeg(&jpeg.bytes)?;
    let faces = analyzer.detect(&decoded, recheck)?;
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

/// A portrait taken by hand (the coach did not get there, or there is no
/// face model): standard size and under the portrait cap like an
/// automatic one, with what is still wrong with it for staff to accept.
#[derive(Debug, Clone)]
pub struct ManualPortrait {
    pub image: RgbImage,
    pub jpeg: EncodedJpeg,
    /// What the coach still finds wrong; with no face model, nothing could
    /// be checked (the caller says so).
    pub issues: Vec<Issue>,
}

/// Cuts the standard portrait out of `image` as far as it goes: around the
/// face when the analyzer finds one, else the upper middle of the picture
/// (where a head is when the person stands in front of the kiosk). May
/// enlarge a small head; that shows as an issue.
pub fn standardize_as_far_as_possible(
    analyzer: Option<&PortraitAnalyzer>,
    image: &RgbImage,
    thresholds: &Thresholds,
) -> Result<ManualPortrait, PhotoError> {
    let measures = match analyzer {
        Some(analyzer) => Some(analyzer.analyze(image, Search::Thorough)?),
        None => None,
    };
    let (x, y, width, height) = measures
        .as_ref()
        .and_then(crop_pixels)
        .unwrap_or_else(|| upper_middle(image.width(), image.height()));
    let cut = imageops::crop_imm(image, x, y, width.max(1), height.max(1)).to_image();
    let portrait = imageops::resize(&cut, OUTPUT_WIDTH, OUTPUT_HEIGHT, FilterType::Lanczos3);
    let jpeg = encode_under_cap(&portrait, PhotoKind::Portrait)?;
    let mut issues = match &measures {
        Some(measures) => assess_frame(measures, thresholds, &FrameSetup::still()),
        None => Vec::new(),
    };
    let enlarged = height < OUTPUT_HEIGHT || width < OUTPUT_WIDTH;
    if measures.is_some() && enlarged && !issues.contains(&Issue::TooFewPixels) {
        issues.push(Issue::TooFewPixels);
    }
    Ok(ManualPortrait {
        image: portrait,
        jpeg,
        issues,
    })
}

/// The largest rectangle of the standard's shape at the top middle.
fn upper_middle(image_width: u32, image_height: u32) -> (u32, u32, u32, u32) {
    let width_for_full_height =
        u64::from(image_height) * u64::from(OUTPUT_WIDTH) / u64::from(OUTPUT_HEIGHT);
    let (width, height) = if width_for_full_height <= u64::from(image_width) {
        (width_for_full_height as u32, image_height)
    } else {
        let height = u64::from(image_width) * u64::from(OUTPUT_HEIGHT) / u64::from(OUTPUT_WIDTH);
        (image_width, height as u32)
    };
    ((image_width - width) / 2, 0, width.max(1), height.max(1))
}

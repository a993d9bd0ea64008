//! Per-frame measures: pure functions of the pixels and the detector's
//! faces. No thresholds here; [`super::assess`] judges the numbers.

use image::RgbImage;
use serde::Serialize;

use super::blazeface::FaceDetection;
use super::geometry::{roll_degrees, Rect};
use super::image_ops::{laplacian_variance, luma_patch, luma_stats, mean_chroma};
use super::standard::{standard_crop, OUTPUT_HEIGHT};

/// Side of the square the face is resampled to before measuring
/// sharpness, so the figure does not depend on how many pixels the face
/// has (that is [`FaceMeasures::crop_scale`]'s job).
const SHARPNESS_PATCH: usize = 96;

/// The BlazeFace box runs from the forehead to the chin. The crown of the
/// head (top of the hair) is this many box heights above the box top…
/// (measured on scikit-image's astronaut portrait: crown y≈16, box 74–176)
const HEAD_ABOVE_BOX: f32 = 0.55;
/// …and the chin this far below its bottom.
const HEAD_BELOW_BOX: f32 = 0.0;
/// Head width (ear to ear, with hair) in box widths.
const HEAD_WIDTH_IN_BOXES: f32 = 1.25;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Measures {
    pub width: u32,
    pub height: u32,
    /// Faces the detector found, however small.
    pub faces: usize,
    /// The largest face; `None` when there is none.
    pub face: Option<FaceMeasures>,
    /// Other faces' boxes (a second person, a face on a poster).
    pub other_faces: Vec<Rect>,
    /// Mean luma 0–255 over the main face box, or the whole frame if no
    /// face was found.
    pub brightness: f32,
    /// Share of those pixels crushed to black (≤ 20).
    pub dark_share: f32,
    /// Share of those pixels blown to white (≥ 245).
    pub bright_share: f32,
    /// Mean per-pixel chroma (max − min channel), 0 for greyscale.
    pub chroma: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FaceMeasures {
    pub face_box: Rect,
    pub score: f32,
    /// Estimated crown-to-chin, ear-to-ear box of the whole head.
    pub head_box: Rect,
    /// Head height as a share of the image height.
    pub head_share: f32,
    /// (head centre − image centre) / image width, in image coordinates:
    /// negative when the head is left of centre in the picture.
    pub horizontal_offset: f32,
    /// Head roll from the eye landmarks, degrees; 0 = eyes level.
    pub roll_degrees: f32,
    /// Variance of the Laplacian of the face, resampled to a fixed size and
    /// scaled to a mean luma of 128 (see `exposure_neutral_sharpness`).
    pub sharpness: f32,
    /// The standard portrait crop around this head, in image pixels; it may
    /// reach outside the image when the person is too close to an edge.
    pub crop: Rect,
    /// Crop height / output height: source pixels per output pixel. Below
    /// 1 the crop would have to be enlarged.
    pub crop_scale: f32,
}

/// Variance of the Laplacian of the face patch, scaled as if the face's
/// mean luma were 128: a dim but crisp face is reported dark, not blurred.
fn exposure_neutral_sharpness(patch: &[f32]) -> f32 {
    let mean = patch.iter().sum::<f32>() / patch.len().max(1) as f32;
    let gain = 128.0 / mean.max(16.0);
    laplacian_variance(patch, SHARPNESS_PATCH, SHARPNESS_PATCH) * gain * gain
}

/// The head box implied by a face box (see the constants above).
pub fn head_box(face_box: &Rect) -> Rect {
    let top = face_box.y - HEAD_ABOVE_BOX * face_box.height;
    let bottom = face_box.bottom() + HEAD_BELOW_BOX * face_box.height;
    let width = face_box.width * HEAD_WIDTH_IN_BOXES;
    Rect::new(face_box.centre().x - width / 2.0, top, width, bottom - top)
}

/// Measures one image given the faces found in it.
pub fn measure(image: &RgbImage, faces: &[FaceDetection]) -> Measures {
    let width = image.width();
    let height = image.height();
    let whole = Rect::new(0.0, 0.0, width as f32, height as f32);
    let main = faces
        .iter()
        .enumerate()
        .max_by(|(_, a), (_, b)| a.face_box.area().total_cmp(&b.face_box.area()));
    let other_faces = faces
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != main.map(|(m, _)| m))
        .map(|(_, f)| f.face_box)
        .collect();
    let exposure_region = main.map_or(whole, |(_, f)| f.face_box);
    let exposure = luma_stats(&luma_patch(image, exposure_region, 64));
    let face = main.map(|(_, f)| measure_face(image, f));
    Measures {
        width,
        height,
        faces: faces.len(),
        face,
        other_faces,
        brightness: exposure.mean,
        dark_share: exposure.dark_share,
        bright_share: exposure.bright_share,
        chroma: mean_chroma(image),
    }
}

fn measure_face(image: &RgbImage, face: &FaceDetection) -> FaceMeasures {
    let head = head_box(&face.face_box);
    let image_w = image.width().max(1) as f32;
    let image_h = image.height().max(1) as f32;
    let patch = luma_patch(image, face.face_box, SHARPNESS_PATCH);
    let crop = standard_crop(&head);
    FaceMeasures {
        face_box: face.face_box,
        score: face.score,
        head_box: head,
        head_share: head.height / image_h,
        horizontal_offset: (head.centre().x - image_w / 2.0) / image_w,
        roll_degrees: roll_degrees(face.landmarks.left_eye, face.landmarks.right_eye),
        sharpness: exposure_neutral_sharpness(&patch),
        crop,
        crop_scale: crop.height / OUTPUT_HEIGHT as f32,
    }
}

//! Judging measures against the standard: which [`Issue`]s a camera frame,
//! a photo to be standardised or a finished portrait has.

use super::issue::{Direction, Issue};
use super::measure::{FaceMeasures, Measures};
use super::standard::{
    overflow, MAX_HEAD_SHARE, MAX_PORTRAIT_OFFSET, MIN_HEAD_SHARE, OUTPUT_HEIGHT, OUTPUT_WIDTH,
};

/// The maximum file size of a portrait, decimal bytes.
pub const PORTRAIT_MAX_BYTES: usize = 300_000;

/// Thresholds. [`Thresholds::default`] is the standard; the coach uses
/// [`Thresholds::relaxed`] while a frame is already passing, so a value
/// hovering at a limit does not make the advice flicker.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Minimum variance of the Laplacian on the resampled face.
    pub min_sharpness: f32,
    /// Mean face luma below this is too dark, above `max_brightness` too
    /// bright.
    pub min_brightness: f32,
    pub max_brightness: f32,
    /// More than this share of blown-out face pixels is too bright.
    pub max_bright_share: f32,
    /// Mean chroma below this is a greyscale picture.
    pub min_chroma: f32,
    pub max_roll_degrees: f32,
    /// Live frames: how far (share of the width) the head may sit from the
    /// middle of the frame.
    pub max_frame_offset: f32,
    /// Crop overflow tolerated, as a share of the crop size, before the
    /// person is asked to move (rounding and landmark jitter).
    pub max_crop_overflow: f32,
    /// Another face counts when its box is at least this share of the main
    /// face's height (or when it lies inside the crop).
    pub other_face_min_height: f32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            min_sharpness: 30.0,
            min_brightness: 70.0,
            max_brightness: 210.0,
            max_bright_share: 0.25,
            min_chroma: 6.0,
            max_roll_degrees: 10.0,
            max_frame_offset: 0.08,
            max_crop_overflow: 0.02,
            other_face_min_height: 0.5,
        }
    }
}

impl Thresholds {
    /// Each limit moved by `slack` (0.2 = 20 %) in the lenient direction.
    pub fn relaxed(&self, slack: f32) -> Thresholds {
        let loosen = 1.0 + slack;
        let tighten = 1.0 - slack;
        Thresholds {
            min_sharpness: self.min_sharpness * tighten,
            min_brightness: self.min_brightness * tighten,
            max_brightness: (self.max_brightness * loosen).min(255.0),
            max_bright_share: self.max_bright_share * loosen,
            min_chroma: self.min_chroma * tighten,
            max_roll_degrees: self.max_roll_degrees * loosen,
            max_frame_offset: self.max_frame_offset * loosen,
            max_crop_overflow: self.max_crop_overflow * loosen + 0.01 * slack,
            other_face_min_height: self.other_face_min_height * loosen,
        }
    }
}

/// How the frames being judged relate to the final photo.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrameSetup {
    /// Capture pixels per analysed pixel: 1 when the analysed image is the
    /// photo itself, 3 when a 640×480 preview stands for a 1920×1440
    /// capture. The crop must have at least 441 capture pixels of height.
    pub capture_scale: f32,
    /// Whether the frames are mirror images (as a selfie preview is);
    /// decides which way "left" is.
    pub mirrored: bool,
    /// Live framing: ask the person to stand in the middle of the frame,
    /// not merely inside it.
    pub require_centred_in_frame: bool,
}

impl FrameSetup {
    /// A still photo that will be cropped as it is.
    pub fn still() -> Self {
        FrameSetup {
            capture_scale: 1.0,
            mirrored: false,
            require_centred_in_frame: false,
        }
    }

    /// Live camera frames (not mirrored) standing for captures
    /// `capture_scale` times larger.
    pub fn live(capture_scale: f32) -> Self {
        FrameSetup {
            capture_scale,
            mirrored: false,
            require_centred_in_frame: true,
        }
    }

    /// The sideways move, from the person's own point of view, that brings
    /// the head back to the middle. An unmirrored camera shows the person's
    /// right on the picture's left, so a head too far to the picture's left
    /// means they stand too far to their own right: they move left.
    fn sideways(&self, head_too_far_image_left: bool) -> Direction {
        if head_too_far_image_left != self.mirrored {
            Direction::Left
        } else {
            Direction::Right
        }
    }
}

/// Issues with exposure and colour, which need no face.
fn picture_issues(m: &Measures, t: &Thresholds, issues: &mut Vec<Issue>) {
    if m.chroma < t.min_chroma {
        issues.push(Issue::Greyscale);
    }
    if m.brightness < t.min_brightness {
        issues.push(Issue::TooDark);
    } else if m.brightness > t.max_brightness || m.bright_share > t.max_bright_share {
        issues.push(Issue::TooBright);
    }
}

fn has_other_faces(m: &Measures, face: &FaceMeasures, t: &Thresholds) -> bool {
    m.other_faces.iter().any(|other| {
        other.height >= t.other_face_min_height * face.face_box.height
            || other.intersection_area(&face.crop) > 0.0
    })
}

/// Issues of a camera frame, or of a photo about to be standardised: can
/// the standard crop be cut from it, and is the picture good enough.
/// Sorted, so the first is the one to tell the person about.
pub fn assess_frame(m: &Measures, t: &Thresholds, setup: &FrameSetup) -> Vec<Issue> {
    let mut issues = Vec::new();
    picture_issues(m, t, &mut issues);
    let Some(face) = &m.face else {
        issues.push(Issue::NoFace);
        return issues;
    };
    if has_other_faces(m, face, t) {
        issues.push(Issue::MultipleFaces);
    }
    let crop = &face.crop;
    if face.crop_scale * setup.capture_scale < 1.0 {
        issues.push(Issue::TooFewPixels);
    }
    if crop.height > m.height as f32 * (1.0 + t.max_crop_overflow)
        || crop.width > m.width as f32 * (1.0 + t.max_crop_overflow)
    {
        issues.push(Issue::FaceTooLarge);
    } else {
        let over = overflow(crop, m.width, m.height);
        let side_limit = t.max_crop_overflow * crop.width;
        let off_frame_centre =
            setup.require_centred_in_frame && face.horizontal_offset.abs() > t.max_frame_offset;
        if over.left > side_limit || over.right > side_limit || off_frame_centre {
            let too_far_left = if over.left > side_limit || over.right > side_limit {
                over.left > over.right
            } else {
                face.horizontal_offset < 0.0
            };
            issues.push(Issue::OffCentreMove(setup.sideways(too_far_left)));
        }
        let height_limit = t.max_crop_overflow * crop.height;
        if over.top > height_limit {
            issues.push(Issue::BadHeightMove(Direction::Down));
        } else if over.bottom > height_limit {
            issues.push(Issue::BadHeightMove(Direction::Up));
        }
    }
    face_quality_issues(face, t, &mut issues);
    issues.sort();
    issues.dedup();
    issues
}

fn face_quality_issues(face: &FaceMeasures, t: &Thresholds, issues: &mut Vec<Issue>) {
    if face.roll_degrees.abs() > t.max_roll_degrees {
        issues.push(Issue::Tilted);
    }
    if face.sharpness < t.min_sharpness {
        issues.push(Issue::Blurred);
    }
}

/// Issues of a finished portrait judged as it is: size, head share,
/// centring, picture quality. File-level checks are in
/// [`assess_portrait_file`].
pub fn assess_portrait(m: &Measures, t: &Thresholds) -> Vec<Issue> {
    let mut issues = Vec::new();
    picture_issues(m, t, &mut issues);
    if (m.width, m.height) != (OUTPUT_WIDTH, OUTPUT_HEIGHT) {
        issues.push(Issue::WrongSize);
    }
    let Some(face) = &m.face else {
        issues.push(Issue::NoFace);
        issues.sort();
        return issues;
    };
    if has_other_faces(m, face, t) {
        issues.push(Issue::MultipleFaces);
    }
    let head = &face.head_box;
    let cut_off = head.y < -t.max_crop_overflow * m.height as f32
        || head.bottom() > m.height as f32 * (1.0 + t.max_crop_overflow);
    if face.head_share < MIN_HEAD_SHARE {
        issues.push(Issue::FaceTooSmall);
    } else if face.head_share > MAX_HEAD_SHARE || cut_off {
        issues.push(Issue::FaceTooLarge);
    }
    if face.horizontal_offset.abs() > MAX_PORTRAIT_OFFSET {
        let direction = FrameSetup::still().sideways(face.horizontal_offset < 0.0);
        issues.push(Issue::OffCentreMove(direction));
    }
    face_quality_issues(face, t, &mut issues);
    issues.sort();
    issues.dedup();
    issues
}

/// What the bytes of a portrait file say before decoding: its format and
/// size.
pub fn assess_portrait_file(bytes: &[u8]) -> Vec<Issue> {
    let mut issues = Vec::new();
    if !is_jpeg(bytes) {
        issues.push(Issue::NotJpeg);
    }
    if bytes.len() > PORTRAIT_MAX_BYTES {
        issues.push(Issue::TooLargeFile);
    }
    issues
}

/// JPEG files start with an SOI marker followed by another marker.
pub fn is_jpeg(bytes: &[u8]) -> bool {
    bytes.len() > 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF
}

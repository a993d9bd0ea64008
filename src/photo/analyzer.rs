//! The face detector wrapped for whole images: one pass for live frames,
//! extra passes over tiles for still photos where a face may be small.

use std::path::{Path, PathBuf};

use image::RgbImage;

use super::blazeface::{
    input_tensor, BlazeFace, FaceDetection, InputWindow, INPUT_SIZE, MODEL_FILE_NAME,
};
use super::error::PhotoError;
use super::geometry::{Point, Rect};
use super::measure::{measure, Measures};

/// Environment variable naming the model file.
pub const MODEL_ENV: &str = "VETERAN_KIOSK_MODEL";

/// Where the set-up script puts the model, relative to the project root.
pub fn default_model_relative_path() -> PathBuf {
    Path::new("assets").join("models").join(MODEL_FILE_NAME)
}

/// Where to look for the model, best first: the explicit path, then the
/// environment variable, then `assets/models/…` under the working
/// directory and under each ancestor of the executable (so
/// `target/debug/veteran-kiosk` finds the project's copy from anywhere).
pub fn model_candidates(
    explicit: Option<&Path>,
    env_value: Option<&std::ffi::OsStr>,
    cwd: Option<&Path>,
    executable: Option<&Path>,
) -> Vec<PathBuf> {
    if let Some(path) = explicit {
        return vec![path.to_path_buf()];
    }
    if let Some(value) = env_value.filter(|v| !v.is_empty()) {
        return vec![PathBuf::from(value)];
    }
    let relative = default_model_relative_path();
    let mut candidates: Vec<PathBuf> = cwd.into_iter().map(|dir| dir.join(&relative)).collect();
    if let Some(exe) = executable {
        candidates.extend(exe.ancestors().skip(1).map(|dir| dir.join(&relative)));
    }
    candidates.dedup();
    candidates
}

/// How hard to look for faces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Search {
    /// One pass over the whole frame (well over 25 frames a second at
    /// 640×480), finding faces from about a sixth of the frame's longer
    /// side up; when it finds none, a second pass over the middle of the
    /// frame finds a smaller face (someone standing back).
    Frame,
    /// Also overlapping tiles of half the shorter side, so a small face in
    /// a large photo is found (and reported as too small) rather than
    /// missed, then a second look at each face for precise landmarks. For
    /// single photos.
    Thorough,
}

/// Finds faces and measures frames. Loading it is the only IO.
#[derive(Debug)]
pub struct PortraitAnalyzer {
    detector: BlazeFace,
}

impl PortraitAnalyzer {
    pub fn new(detector: BlazeFace) -> Self {
        PortraitAnalyzer { detector }
    }

    /// Loads the first existing candidate from [`model_candidates`]; if
    /// none exists, [`PhotoError::ModelMissing`] names the first one.
    pub fn load_from(candidates: &[PathBuf]) -> Result<Self, PhotoError> {
        let path = candidates
            .iter()
            .find(|p| p.is_file())
            .or(candidates.first())
            .ok_or_else(|| PhotoError::ModelMissing {
                path: default_model_relative_path().display().to_string(),
            })?;
        Ok(PortraitAnalyzer::new(BlazeFace::load(path)?))
    }

    /// Loads the model from `--model`, `VETERAN_KIOSK_MODEL` or the default
    /// places.
    pub fn load(explicit: Option<&Path>) -> Result<Self, PhotoError> {
        let env_value = std::env::var_os(MODEL_ENV);
        let cwd = std::env::current_dir().ok();
        let exe = std::env::current_exe().ok();
        Self::load_from(&model_candidates(
            explicit,
            env_value.as_deref(),
            cwd.as_deref(),
            exe.as_deref(),
        ))
    }

    pub fn detect(
        &self,
        image: &RgbImage,
        search: Search,
    ) -> Result<Vec<FaceDetection>, PhotoError> {
        let whole = Rect::new(0.0, 0.0, image.width() as f32, image.height() as f32);
        if image.width() == 0 || image.height() == 0 {
            return Ok(Vec::new());
        }
        let mut faces = self
            .detector
            .run_window(image, InputWindow::letterbox(whole))?;
        if search == Search::Frame && faces.is_empty() {
            // Someone standing back from the kiosk shows a face too small
            // for the whole-frame pass; one look at the middle finds them,
            // so the coach can say "closer" instead of "face the camera".
            faces = self
                .detector
                .run_window(image, InputWindow::letterbox(middle_window(&whole)))?;
        }
        if search == Search::Thorough {
            for tile in tiles(image.width(), image.height()) {
                let found = self
                    .detector
                    .run_window(image, InputWindow::letterbox(tile))?;
                faces.extend(
                    found
                        .into_iter()
                        .filter(|f| !touches_inner_edge(&f.face_box, &tile, &whole)),
                );
            }
            faces = suppress_duplicates(faces);
            faces = self.refine(image, faces)?;
        }
        Ok(faces)
    }

    /// Looks at each candidate again through a window three face-heights
    /// wide, where the model is most accurate: the landmarks (and so the
    /// roll) become reliable, and candidates that are not confirmed there
    /// (a round badge seen in a tile) are dropped.
    fn refine(
        &self,
        image: &RgbImage,
        candidates: Vec<FaceDetection>,
    ) -> Result<Vec<FaceDetection>, PhotoError> {
        let mut refined = Vec::with_capacity(candidates.len());
        for candidate in candidates {
            let side = 3.0 * candidate.face_box.width.max(candidate.face_box.height);
            let window = Rect::from_centre(candidate.face_box.centre(), side, side);
            let confirmed = self
                .detector
                .run_window(image, InputWindow::letterbox(window))?
                .into_iter()
                .filter(|f| f.face_box.iou(&candidate.face_box) > 0.3)
                .max_by(|a, b| {
                    let ia = a.face_box.iou(&candidate.face_box);
                    ia.total_cmp(&b.face_box.iou(&candidate.face_box))
                });
            refined.extend(confirmed);
        }
        Ok(suppress_duplicates(refined))
    }

    /// Detects and measures one frame.
    /// Faces found on a smaller copy of `image` (`scale` = image width /
    /// copy width), looked at again on `image` itself through the same
    /// window three face-heights wide as [`Search::Thorough`]'s second look:
    /// precise boxes and landmarks for the full-size photo at the price of
    /// one detector pass per face, instead of a whole thorough search.
    pub fn confirm_on_full_size(
        &self,
        image: &RgbImage,
        faces_on_copy: &[FaceDetection],
        scale: f32,
    ) -> Result<Vec<FaceDetection>, PhotoError> {
        let candidates = faces_on_copy
            .iter()
            .map(|face| face.scaled(scale))
            .collect();
        self.refine(image, candidates)
    }

    /// [`Search::Frame`] for the frames of a camera that does not move:
    /// while nobody is in front of it, a frame that looks like the last
    /// one in which both looks found nobody is answered "nobody" without
    /// running the network (the empty hall is most frames a kiosk sees).
    /// Any change in a small block of either look's input (someone
    /// walking in, near or far) runs the detector again, and so does every
    /// [`LiveMemory::MAX_REUSE`]th frame. Frames with a face always run it.
    pub fn detect_live(
        &self,
        image: &RgbImage,
        memory: &mut LiveMemory,
    ) -> Result<Vec<FaceDetection>, PhotoError> {
        if image.width() == 0 || image.height() == 0 {
            return Ok(Vec::new());
        }
        let whole = Rect::new(0.0, 0.0, image.width() as f32, image.height() as f32);
        let whole_window = InputWindow::letterbox(whole);
        let middle = InputWindow::letterbox(middle_window(&whole));
        let whole_input = input_tensor(image, whole_window);
        let size = (image.width(), image.height());
        if let Some(scene) = memory.empty.as_mut() {
            if scene.size == size
                && scene.reused < LiveMemory::MAX_REUSE
                && looks_unchanged(&scene.whole, &whole_input)
                && looks_unchanged(&scene.middle, &input_tensor(image, middle))
            {
                scene.reused += 1;
                memory.reused_frames += 1;
                return Ok(Vec::new());
            }
        }
        memory.empty = None;
        let faces = self.detector.run_input(&whole_input, whole_window)?;
        if !faces.is_empty() {
            return Ok(faces);
        }
        // The second look of `Search::Frame`, for someone standing back.
        let middle_input = input_tensor(image, middle);
        let faces = self.detector.run_input(&middle_input, middle)?;
        if faces.is_empty() {
            memory.empty = Some(EmptyScene {
                size,
                whole: whole_input,
                middle: middle_input,
                reused: 0,
            });
        }
        Ok(faces)
    }

    pub fn analyze(&self, image: &RgbImage, search: Search) -> Result<Measures, PhotoError> {
        Ok(measure(image, &self.detect(image, search)?))
    }
}

/// What [`PortraitAnalyzer::detect_live`] remembers between frames: the
/// inputs of the last frame in which nobody was found.
#[derive(Debug, Default)]
pub struct LiveMemory {
    empty: Option<EmptyScene>,
    reused_frames: u64,
}

impl LiveMemory {
    /// The detector runs again after this many answers from memory, so
    /// a slow change (light, exposure) is looked at at least every half
    /// second at the coach's 20 frames a second.
    pub const MAX_REUSE: u32 = 10;

    /// Frames answered "nobody" from memory so far.
    pub fn reused_frames(&self) -> u64 {
        self.reused_frames
    }

    /// Forget the scene (a new camera, a new session).
    pub fn clear(&mut self) {
        self.empty = None;
    }
}

#[derive(Debug)]
struct EmptyScene {
    size: (u32, u32),
    whole: Vec<f32>,
    middle: Vec<f32>,
    reused: u32,
}

/// Side of the blocks two network inputs are compared in, in input
/// pixels (a block covers 5×5 camera pixels per input pixel at 640×480).
const COMPARE_BLOCK: usize = 8;
/// Mean change of a block's values, in 8-bit levels, above which the
/// picture changed. Sensor noise is averaged away by the shrink to the
/// input (about 1–2 levels for a noisy camera); a face, even a small far
/// one, changes the blocks it covers by tens of levels.
const CHANGED_LEVELS: f32 = 4.0;

/// Whether two inputs of the same window show the same scene: no block
/// of [`COMPARE_BLOCK`]² pixels changed by more than [`CHANGED_LEVELS`]
/// on average.
fn looks_unchanged(before: &[f32], now: &[f32]) -> bool {
    if before.len() != now.len() || now.len() != INPUT_SIZE * INPUT_SIZE * 3 {
        return false;
    }
    // Input values are levels / 127.5 − 1.
    let limit = CHANGED_LEVELS / 127.5 * (COMPARE_BLOCK * COMPARE_BLOCK * 3) as f32;
    let row_len = INPUT_SIZE * 3;
    for block_row in 0..INPUT_SIZE / COMPARE_BLOCK {
        let mut sums = [0.0f32; INPUT_SIZE / COMPARE_BLOCK];
        for row in block_row * COMPARE_BLOCK..(block_row + 1) * COMPARE_BLOCK {
            let at = row * row_len;
            let (a, b) = (&before[at..at + row_len], &now[at..at + row_len]);
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                sums[i / (COMPARE_BLOCK * 3)] += (x - y).abs();
            }
        }
        if sums.iter().any(|&sum| sum > limit) {
            return false;
        }
    }
    true
}

/// The square where a face standing back from the camera appears: half
/// the shorter side, centred across, a little above the middle.
fn middle_window(whole: &Rect) -> Rect {
    let side = whole.width.min(whole.height) / 2.0;
    let centre = Point::new(whole.centre().x, whole.y + whole.height * 0.42);
    Rect::from_centre(centre, side, side)
}

/// Square tiles of half the shorter side, overlapping by half, covering
/// the image; the last row and column sit flush with the far edges.
pub fn tiles(width: u32, height: u32) -> Vec<Rect> {
    let side = width.min(height) / 2;
    if side < 64 {
        return Vec::new();
    }
    let starts = |extent: u32| -> Vec<u32> {
        let step = side / 2;
        let mut v: Vec<u32> = (0..)
            .map(|i| i * step)
            .take_while(|s| s + side < extent)
            .collect();
        v.push(extent - side);
        v
    };
    let xs = starts(width);
    let ys = starts(height);
    ys.iter()
        .flat_map(|&y| {
            xs.iter()
                .map(move |&x| Rect::new(x as f32, y as f32, side as f32, side as f32))
        })
        .collect()
}

/// A face cut by a tile's edge (one that is not also the image's edge) is
/// only part of a face; a neighbouring tile sees it whole.
fn touches_inner_edge(face: &Rect, tile: &Rect, image: &Rect) -> bool {
    let margin = 0.02 * tile.width;
    (face.x < tile.x + margin && tile.x > image.x)
        || (face.y < tile.y + margin && tile.y > image.y)
        || (face.right() > tile.right() - margin && tile.right() < image.right())
        || (face.bottom() > tile.bottom() - margin && tile.bottom() < image.bottom())
}

/// Keeps the best of overlapping detections from different passes, and
/// drops a detection whose centre lies inside a kept, larger face.
fn suppress_duplicates(mut faces: Vec<FaceDetection>) -> Vec<FaceDetection> {
    faces.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<FaceDetection> = Vec::new();
    for face in faces {
        let centre = face.face_box.centre();
        let duplicate = kept.iter().any(|k| {
            k.face_box.iou(&face.face_box) > 0.3
                || (centre.x > k.face_box.x
                    && centre.x < k.face_box.right()
                    && centre.y > k.face_box.y
                    && centre.y < k.face_box.bottom())
        });
        if !duplicate {
            kept.push(face);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input_of(level: impl Fn(usize) -> f32) -> Vec<f32> {
        (0..INPUT_SIZE * INPUT_SIZE * 3)
            .map(|i| level(i) / 127.5 - 1.0)
            .collect()
    }

    #[test]
    fn noise_is_the_same_scene_and_a_small_change_is_not() {
        let wall = input_of(|_| 120.0);
        // Noise of ±3 levels on every value.
        let noisy = input_of(|i| 120.0 + [3.0, -3.0, 1.0, -2.0, 2.0][i % 5]);
        assert!(looks_unchanged(&wall, &noisy));
        // Everything 3 levels brighter (exposure drift) is still the same.
        assert!(looks_unchanged(&wall, &input_of(|_| 123.0)));
        // A 6×6 patch 40 levels darker: a far face in one block.
        let patch = input_of(|i| {
            let (pixel, row) = (i / 3 % INPUT_SIZE, i / 3 / INPUT_SIZE);
            if (60..66).contains(&pixel) && (40..46).contains(&row) {
                80.0
            } else {
                120.0
            }
        });
        assert!(!looks_unchanged(&wall, &patch));
        assert!(!looks_unchanged(&wall, &wall[1..]));
    }

    #[test]
    fn tiles_cover_the_image_with_overlap() {
        let t = tiles(640, 480);
        assert_eq!(t.len(), 5 * 3);
        assert!(t
            .iter()
            .all(|r| r.width == 240.0 && r.right() <= 640.0 && r.bottom() <= 480.0));
        assert_eq!(
            t.last().map(|r| (r.right(), r.bottom())),
            Some((640.0, 480.0))
        );
        assert!(tiles(100, 100).is_empty());
    }

    #[test]
    fn model_path_precedence() {
        let exe = Path::new("/srv/kiosk/target/release/veteran-kiosk");
        let cwd = Path::new("/home/staff");
        let explicit = model_candidates(
            Some(Path::new("m.onnx")),
            Some("e.onnx".as_ref()),
            Some(cwd),
            Some(exe),
        );
        assert_eq!(explicit, vec![PathBuf::from("m.onnx")]);
        let env = model_candidates(None, Some("e.onnx".as_ref()), Some(cwd), Some(exe));
        assert_eq!(env, vec![PathBuf::from("e.onnx")]);
        let defaults = model_candidates(None, Some("".as_ref()), Some(cwd), Some(exe));
        let rel = default_model_relative_path();
        assert_eq!(defaults[0], cwd.join(&rel));
        assert!(defaults.contains(&Path::new("/srv/kiosk").join(&rel)));
    }

    #[test]
    fn missing_model_names_where_it_looked() {
        let err = PortraitAnalyzer::load_from(&[PathBuf::from("/nowhere/a.onnx")]).unwrap_err();
        assert_eq!(
            err,
            PhotoError::ModelMissing {
                path: "/nowhere/a.onnx".into()
            }
        );
    }
}

//! Face detection with MediaPipe's BlazeFace short-range model (the
//! 128×128 "front camera" network), run by `tract-onnx`.
//!
//! The decoding of the network's raw outputs (anchors, boxes, landmarks,
//! weighted non-maximum suppression) is plain arithmetic and tested
//! without the model; only [`BlazeFace::from_onnx_bytes`] and
//! [`BlazeFace::load`] touch the model, and only `load` touches the disk.

use std::path::Path;

use image::RgbImage;
use tract_onnx::pb;
use tract_onnx::prelude::*;

use super::error::PhotoError;
use super::geometry::{Point, Rect};
use super::image_ops::resample_area;

/// File name of the model inside the npm package and in `assets/models/`.
pub const MODEL_FILE_NAME: &str = "face_detection_front_128x128_barracuda.onnx";

/// Side of the square network input, in pixels.
pub const INPUT_SIZE: usize = 128;

/// Scores below this are not faces (MediaPipe's own default is 0.5; a
/// little higher keeps patterned backgrounds out).
pub const SCORE_THRESHOLD: f32 = 0.6;

/// Overlapping candidates above this IoU are merged into one face.
const MERGE_IOU: f32 = 0.3;

/// The six landmarks BlazeFace gives, named by their side in the picture
/// as the model names them: `left_eye` is the one on the image's left
/// (the subject's right eye when the camera does not mirror).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct FaceLandmarks {
    pub left_eye: Point,
    pub right_eye: Point,
    pub nose: Point,
    pub mouth: Point,
    pub left_ear: Point,
    pub right_ear: Point,
}

/// One face found in an image, in that image's pixel coordinates.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct FaceDetection {
    /// The detector's face box: roughly brows to chin, cheek to cheek.
    pub face_box: Rect,
    pub score: f32,
    pub landmarks: FaceLandmarks,
}

impl FaceDetection {
    /// The same detection in an image `factor` times as large.
    pub fn scaled(&self, factor: f32) -> FaceDetection {
        let point = |p: Point| Point::new(p.x * factor, p.y * factor);
        let b = self.face_box;
        let l = self.landmarks;
        FaceDetection {
            face_box: Rect::new(
                b.x * factor,
                b.y * factor,
                b.width * factor,
                b.height * factor,
            ),
            score: self.score,
            landmarks: FaceLandmarks {
                left_eye: point(l.left_eye),
                right_eye: point(l.right_eye),
                nose: point(l.nose),
                mouth: point(l.mouth),
                left_ear: point(l.left_ear),
                right_ear: point(l.right_ear),
            },
        }
    }
}

/// Where a square network input sits in the source image: source pixel =
/// `origin + input pixel * scale`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InputWindow {
    pub origin: Point,
    /// Source pixels per input pixel (same on both axes: no distortion).
    pub scale: f32,
}

impl InputWindow {
    /// The window that fits `region` whole into the square input, centred,
    /// with the unused margin left as padding (letterboxing).
    pub fn letterbox(region: Rect) -> Self {
        let scale = region.width.max(region.height) / INPUT_SIZE as f32;
        let side = INPUT_SIZE as f32 * scale;
        InputWindow {
            origin: Point::new(
                region.x - (side - region.width) / 2.0,
                region.y - (side - region.height) / 2.0,
            ),
            scale,
        }
    }

    fn to_source(self, normalised: Point) -> Point {
        let side = INPUT_SIZE as f32 * self.scale;
        Point::new(
            self.origin.x + normalised.x * side,
            self.origin.y + normalised.y * side,
        )
    }

    /// The square of the source image this window looks at.
    pub fn source_rect(&self) -> Rect {
        let side = INPUT_SIZE as f32 * self.scale;
        Rect::new(self.origin.x, self.origin.y, side, side)
    }
}

/// Fills an NHWC `[1,128,128,3]` tensor with the window's pixels scaled to
/// −1…1; padding outside the image is 0 (mid grey), as MediaPipe pads.
pub fn input_tensor(image: &RgbImage, window: InputWindow) -> Vec<f32> {
    let mut data = vec![0.0f32; INPUT_SIZE * INPUT_SIZE * 3];
    resample_area(
        image,
        window.source_rect(),
        INPUT_SIZE,
        INPUT_SIZE,
        |col, row, rgb| {
            let at = (row * INPUT_SIZE + col) * 3;
            for (channel, value) in rgb.iter().enumerate() {
                data[at + channel] = value / 127.5 - 1.0;
            }
        },
    );
    data
}

/// A candidate before merging, in normalised input coordinates (0…1).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Candidate {
    score: f32,
    /// centre x, centre y, width, height, then six (x, y) landmarks.
    geometry: [f32; 16],
}

impl Candidate {
    fn rect(&self) -> Rect {
        let g = &self.geometry;
        Rect::from_centre(Point::new(g[0], g[1]), g[2], g[3])
    }
}

/// The two anchor grids of the short-range model: 16×16 cells with two
/// anchors each, then 8×8 cells with six; every anchor sits at its cell's
/// centre and has unit size (boxes are given in input pixels).
fn anchors() -> impl Iterator<Item = Point> {
    let layer = |cells: usize, per_cell: usize| {
        (0..cells * cells).flat_map(move |cell| {
            let centre = Point::new(
                ((cell % cells) as f32 + 0.5) / cells as f32,
                ((cell / cells) as f32 + 0.5) / cells as f32,
            );
            std::iter::repeat_n(centre, per_cell)
        })
    };
    layer(16, 2).chain(layer(8, 6))
}

/// Number of anchors: the length of the score outputs together.
pub const ANCHOR_COUNT: usize = 16 * 16 * 2 + 8 * 8 * 6;

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Decodes raw network outputs: `scores` (one logit per anchor, both
/// layers concatenated) and `boxes` (16 values per anchor). Returns faces
/// in normalised input coordinates after merging overlaps, best first.
fn decode(scores: &[f32], boxes: &[f32], threshold: f32) -> Vec<Candidate> {
    let mut candidates: Vec<Candidate> = anchors()
        .zip(scores.iter())
        .zip(boxes.chunks_exact(16))
        .filter_map(|((anchor, &logit), raw)| {
            let score = sigmoid(logit);
            if score.is_nan() || score < threshold {
                return None;
            }
            let unit = 1.0 / INPUT_SIZE as f32;
            let mut geometry = [0.0f32; 16];
            geometry[0] = anchor.x + raw[0] * unit;
            geometry[1] = anchor.y + raw[1] * unit;
            geometry[2] = raw[2] * unit;
            geometry[3] = raw[3] * unit;
            for k in 0..6 {
                geometry[4 + 2 * k] = anchor.x + raw[4 + 2 * k] * unit;
                geometry[5 + 2 * k] = anchor.y + raw[5 + 2 * k] * unit;
            }
            Some(Candidate { score, geometry })
        })
        .collect();
    candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
    merge_overlaps(candidates)
}

/// MediaPipe's "weighted" suppression: each surviving face is the
/// score-weighted mean of the candidates that overlap the best one, which
/// steadies the box from frame to frame better than plain suppression.
fn merge_overlaps(mut remaining: Vec<Candidate>) -> Vec<Candidate> {
    let mut merged = Vec::new();
    while let Some(best) = remaining.first().copied() {
        let best_rect = best.rect();
        let (overlapping, rest): (Vec<Candidate>, Vec<Candidate>) = remaining
            .into_iter()
            .partition(|c| c.rect().iou(&best_rect) >= MERGE_IOU);
        let total: f32 = overlapping.iter().map(|c| c.score).sum();
        let mut geometry = [0.0f32; 16];
        for c in &overlapping {
            for (acc, value) in geometry.iter_mut().zip(c.geometry.iter()) {
                *acc += value * c.score / total;
            }
        }
        merged.push(Candidate {
            score: best.score,
            geometry,
        });
        remaining = rest;
    }
    merged
}

fn to_detection(candidate: &Candidate, window: InputWindow) -> FaceDetection {
    let g = &candidate.geometry;
    let point = |i: usize| window.to_source(Point::new(g[4 + 2 * i], g[5 + 2 * i]));
    let centre = window.to_source(Point::new(g[0], g[1]));
    let side = INPUT_SIZE as f32 * window.scale;
    FaceDetection {
        face_box: Rect::from_centre(centre, g[2] * side, g[3] * side),
        score: candidate.score,
        landmarks: FaceLandmarks {
            left_eye: point(0),
            right_eye: point(1),
            nose: point(2),
            mouth: point(3),
            left_ear: point(4),
            right_ear: point(5),
        },
    }
}

/// The loaded, optimised network.
pub struct BlazeFace {
    plan: TypedSimplePlan<TypedModel>,
}

impl std::fmt::Debug for BlazeFace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BlazeFace")
    }
}

impl BlazeFace {
    /// Reads the model file. A missing file is [`PhotoError::ModelMissing`]
    /// with a hint to run the set-up script.
    pub fn load(path: &Path) -> Result<Self, PhotoError> {
        let bytes = std::fs::read(path).map_err(|err| {
            if err.kind() == std::io::ErrorKind::NotFound {
                PhotoError::ModelMissing {
                    path: path.display().to_string(),
                }
            } else {
                PhotoError::ModelInvalid(format!("cannot read {}: {err}", path.display()))
            }
        })?;
        Self::from_onnx_bytes(&bytes)
    }

    /// Builds the network from the ONNX file's bytes.
    pub fn from_onnx_bytes(bytes: &[u8]) -> Result<Self, PhotoError> {
        let invalid = |err: TractError| PhotoError::ModelInvalid(format!("{err:#}"));
        let onnx = tract_onnx::onnx();
        let mut proto = onnx
            .proto_model_for_read(&mut std::io::Cursor::new(bytes))
            .map_err(invalid)?;
        give_constant_of_shape_a_float_value(&mut proto);
        let shape = [1, INPUT_SIZE, INPUT_SIZE, 3];
        let plan = onnx
            .model_for_proto_model(&proto)
            .and_then(|model| model.with_input_fact(0, f32::fact(shape).into()))
            .and_then(|model| model.into_optimized())
            .and_then(|model| model.into_runnable())
            .map_err(invalid)?;
        let detector = BlazeFace { plan };
        // Fail at load, not on the first frame, if the outputs are not the
        // four tensors the decoder expects.
        detector.run_window(&RgbImage::new(1, 1), InputWindow::letterbox(unit_rect()))?;
        Ok(detector)
    }

    /// Runs the network once on one window of the image.
    pub fn run_window(
        &self,
        image: &RgbImage,
        window: InputWindow,
    ) -> Result<Vec<FaceDetection>, PhotoError> {
        self.run_input(&input_tensor(image, window), window)
    }

    /// Runs the network once on an input made by [`input_tensor`] for
    /// `window`.
    pub fn run_input(
        &self,
        input: &[f32],
        window: InputWindow,
    ) -> Result<Vec<FaceDetection>, PhotoError> {
        let failed = |err: TractError| PhotoError::Inference(format!("{err:#}"));
        let input = Tensor::from_shape(&[1, INPUT_SIZE, INPUT_SIZE, 3], input).map_err(failed)?;
        let outputs = self.plan.run(tvec!(input.into())).map_err(failed)?;
        let view = |index: usize| -> Result<Vec<f32>, PhotoError> {
            let value = outputs.get(index).ok_or_else(|| {
                PhotoError::ModelInvalid(format!("the model has no output {index}"))
            })?;
            let view = value.to_array_view::<f32>().map_err(failed)?;
            Ok(view.iter().copied().collect())
        };
        // Outputs: scores of layer 1, scores of layer 2, boxes of layer 1,
        // boxes of layer 2 (the names are Identity, Identity_1, _2, _3).
        let mut scores = view(0)?;
        scores.extend(view(1)?);
        let mut boxes = view(2)?;
        boxes.extend(view(3)?);
        if scores.len() != ANCHOR_COUNT || boxes.len() != ANCHOR_COUNT * 16 {
            return Err(PhotoError::ModelInvalid(format!(
                "expected {ANCHOR_COUNT} anchors, the model gave {} scores and {} box values",
                scores.len(),
                boxes.len()
            )));
        }
        Ok(decode(&scores, &boxes, SCORE_THRESHOLD)
            .iter()
            .map(|c| to_detection(c, window))
            .collect())
    }
}

fn unit_rect() -> Rect {
    Rect::new(0.0, 0.0, 1.0, 1.0)
}

/// The converted model leaves ConstantOfShape's `value` unset; ONNX then
/// means float 0, but tract defaults to a double and the graph no longer
/// type-checks. Give every such node an explicit float 0.
fn give_constant_of_shape_a_float_value(model: &mut pb::ModelProto) {
    let Some(graph) = model.graph.as_mut() else {
        return;
    };
    for node in graph
        .node
        .iter_mut()
        .filter(|node| node.op_type == "ConstantOfShape")
    {
        if node.attribute.iter().any(|a| a.name == "value") {
            continue;
        }
        node.attribute.push(pb::AttributeProto {
            name: "value".to_owned(),
            r#type: pb::attribute_proto::AttributeType::Tensor as i32,
            t: Some(pb::TensorProto {
                dims: vec![1],
                data_type: pb::tensor_proto::DataType::Float as i32,
                float_data: vec![0.0],
                ..Default::default()
            }),
            ..Default::default()
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw_outputs() -> (Vec<f32>, Vec<f32>) {
        (vec![-10.0; ANCHOR_COUNT], vec![0.0; ANCHOR_COUNT * 16])
    }

    #[test]
    fn anchors_cover_both_grids_in_output_order() {
        let all: Vec<Point> = anchors().collect();
        assert_eq!(all.len(), ANCHOR_COUNT);
        assert_eq!(all[0], Point::new(0.5 / 16.0, 0.5 / 16.0));
        assert_eq!(all[1], all[0]);
        assert_eq!(all[2], Point::new(1.5 / 16.0, 0.5 / 16.0));
        assert_eq!(all[512], Point::new(0.5 / 8.0, 0.5 / 8.0));
        assert_eq!(all[ANCHOR_COUNT - 1], Point::new(7.5 / 8.0, 7.5 / 8.0));
    }

    #[test]
    fn decode_places_box_and_landmarks_relative_to_anchor() {
        let (mut scores, mut boxes) = raw_outputs();
        // Anchor 512 is the first of the 8×8 grid, centred at (8, 8) px.
        scores[512] = 5.0;
        let raw = &mut boxes[512 * 16..513 * 16];
        raw[..4].copy_from_slice(&[4.0, -2.0, 32.0, 40.0]);
        raw[4] = -6.0; // left eye x offset
        raw[5] = -4.0;
        let found = decode(&scores, &boxes, 0.5);
        assert_eq!(found.len(), 1);
        let face = to_detection(
            &found[0],
            InputWindow::letterbox(Rect::new(0.0, 0.0, 128.0, 128.0)),
        );
        assert_eq!(
            face.face_box,
            Rect::new(12.0 - 16.0, 6.0 - 20.0, 32.0, 40.0)
        );
        assert_eq!(face.landmarks.left_eye, Point::new(2.0, 4.0));
        assert!((face.score - sigmoid(5.0)).abs() < 1e-6);
    }

    #[test]
    fn overlapping_candidates_merge_weighted_and_distant_ones_stay_apart() {
        let (mut scores, mut boxes) = raw_outputs();
        for (anchor, logit) in [(0usize, 3.0f32), (1, 1.0), (600, 2.0)] {
            scores[anchor] = logit;
            boxes[anchor * 16 + 2] = 20.0;
            boxes[anchor * 16 + 3] = 20.0;
        }
        boxes[16] = 2.0; // anchor 1 shifted 2 px right
        let found = decode(&scores, &boxes, 0.5);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].score, sigmoid(3.0));
        let w0 = sigmoid(3.0);
        let w1 = sigmoid(1.0);
        let expected_x = (0.5 / 16.0) + (2.0 / 128.0) * w1 / (w0 + w1);
        assert!((found[0].geometry[0] - expected_x).abs() < 1e-6);
        assert_eq!(found[1].score, sigmoid(2.0));
    }

    #[test]
    fn letterbox_keeps_aspect_and_centres_the_region() {
        let window = InputWindow::letterbox(Rect::new(0.0, 0.0, 640.0, 480.0));
        assert_eq!(window.scale, 5.0);
        assert_eq!(window.origin, Point::new(0.0, -80.0));
        assert_eq!(
            window.to_source(Point::new(1.0, 1.0)),
            Point::new(640.0, 560.0)
        );
    }

    #[test]
    fn garbage_bytes_are_an_invalid_model_not_a_panic() {
        for bytes in [&b""[..], b"not an onnx model", &[0xff; 64]] {
            let err = BlazeFace::from_onnx_bytes(bytes).unwrap_err();
            assert_eq!(err.code(), "model_invalid", "{err}");
        }
    }

    #[test]
    fn missing_model_file_says_so() {
        let err = BlazeFace::load(Path::new("/nonexistent/model.onnx")).unwrap_err();
        assert_eq!(err.code(), "model_missing");
        assert!(err.to_string().contains("fetch-models.sh"), "{err}");
    }
}

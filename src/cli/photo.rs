//! `veteran-kiosk photo standardize` and `veteran-kiosk check photo`: the
//! file-reading edge around [`crate::photo`].

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};
use serde_json::{json, Value};

use super::Outcome;
use crate::photo::{
    assess_portrait, assess_portrait_file, decode_photo, encode_under_cap, standardize, Issue,
    PhotoError, PhotoKind, PortraitAnalyzer, Search, StandardizeError, Thresholds,
};

#[derive(Args, Debug, Clone, Default)]
pub struct ModelArg {
    /// Face-detection model file [default: $VETERAN_KIOSK_MODEL, else
    /// assets/models/face_detection_front_128x128_barracuda.onnx]
    #[arg(long, value_name = "FILE")]
    pub model: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum PhotoCommand {
    /// Make a standard portrait (358×441 JPG, ≤ 300 000 bytes, head ≥ 2/3 of
    /// the height, centred) from a larger photo, or say why it cannot.
    Standardize {
        input: PathBuf,
        output: PathBuf,
        #[command(flatten)]
        model: ModelArg,
    },
    /// Encode a picture under its kind's size cap the way the kiosk does
    /// (highest JPEG quality that fits; documents shrunk when even a low
    /// quality does not) and print bytes, quality, size and milliseconds.
    Encode {
        #[arg(long, value_enum)]
        kind: EncodeKind,
        input: PathBuf,
        output: PathBuf,
    },
}

/// The photo kinds of the plan (§四(二)) by their command-line names.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncodeKind {
    /// Certificate page, ≤ 300 000 bytes.
    Certificate,
    /// Photo of the ID card, ≤ 40 000 bytes.
    IdCard,
    /// Standard portrait, ≤ 300 000 bytes, never shrunk.
    Portrait,
    /// The ID card chip's portrait, ≤ 3 000 bytes.
    Chip,
}

impl From<EncodeKind> for PhotoKind {
    fn from(kind: EncodeKind) -> PhotoKind {
        match kind {
            EncodeKind::Certificate => PhotoKind::Certificate,
            EncodeKind::IdCard => PhotoKind::IdCardPhoto,
            EncodeKind::Portrait => PhotoKind::Portrait,
            EncodeKind::Chip => PhotoKind::CardPortrait,
        }
    }
}

fn problems_json(issues: &[Issue]) -> Value {
    Value::Array(
        issues
            .iter()
            .map(|issue| json!({ "code": issue.code(), "message": issue.message_zh() }))
            .collect(),
    )
}

fn fail(what: &str, err: &dyn std::fmt::Display) -> Outcome {
    eprintln!("{what}: {err}");
    Outcome::UsageOrUnreadable
}

fn read_file(path: &Path) -> Result<Vec<u8>, Outcome> {
    std::fs::read(path).map_err(|err| fail(&format!("cannot read {}", path.display()), &err))
}

fn load_analyzer(model: &ModelArg) -> Result<PortraitAnalyzer, Outcome> {
    PortraitAnalyzer::load(model.model.as_deref()).map_err(|err| fail("face model", &err))
}

fn print(value: &Value) {
    println!("{value}");
}

/// `check photo FILE`: judges an already-taken portrait as it is.
pub fn check(file: &Path, model: &ModelArg) -> Outcome {
    match check_inner(file, model) {
        Ok(outcome) | Err(outcome) => outcome,
    }
}

fn check_inner(file: &Path, model: &ModelArg) -> Result<Outcome, Outcome> {
    let bytes = read_file(file)?;
    let image = decode_photo(&bytes).map_err(|err| fail(&file.display().to_string(), &err))?;
    let analyzer = load_analyzer(model)?;
    let measures = analyzer
        .analyze(&image, Search::Thorough)
        .map_err(|err: PhotoError| fail("face detection", &err))?;
    let mut issues = assess_portrait_file(&bytes);
    issues.extend(assess_portrait(&measures, &Thresholds::default()));
    issues.sort();
    issues.dedup();
    let mut measures_json = serde_json::to_value(&measures).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut measures_json {
        map.insert("file_bytes".into(), json!(bytes.len()));
    }
    print(&json!({
        "ok": issues.is_empty(),
        "problems": problems_json(&issues),
        "measures": measures_json,
    }));
    Ok(if issues.is_empty() {
        Outcome::Ok
    } else {
        Outcome::Problems
    })
}

pub fn run(cmd: PhotoCommand) -> Outcome {
    match cmd {
        PhotoCommand::Standardize {
            input,
            output,
            model,
        } => match standardize_file(&input, &output, &model) {
            Ok(outcome) | Err(outcome) => outcome,
        },
        PhotoCommand::Encode {
            kind,
            input,
            output,
        } => match encode_file(kind, &input, &output) {
            Ok(outcome) | Err(outcome) => outcome,
        },
    }
}

/// `photo encode`: the milliseconds are the encoding alone (reading and
/// decoding the input, and writing, are not counted), so they compare with
/// another tool's encoding of the same pixels.
fn encode_file(name: EncodeKind, input: &Path, output: &Path) -> Result<Outcome, Outcome> {
    let kind = PhotoKind::from(name);
    let name = name
        .to_possible_value()
        .map(|value| value.get_name().to_owned())
        .unwrap_or_default();
    let bytes = read_file(input)?;
    let image = decode_photo(&bytes).map_err(|err| fail(&input.display().to_string(), &err))?;
    let started = std::time::Instant::now();
    let encoded = encode_under_cap(&image, kind);
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    match encoded {
        Ok(jpeg) => {
            std::fs::write(output, &jpeg.bytes)
                .map_err(|err| fail(&format!("cannot write {}", output.display()), &err))?;
            print(&json!({
                "ok": true,
                "kind": name,
                "cap": kind.max_bytes(),
                "bytes": jpeg.bytes.len(),
                "quality": jpeg.quality,
                "width": jpeg.width,
                "height": jpeg.height,
                "input_width": image.width(),
                "input_height": image.height(),
                "ms": (ms * 100.0).round() / 100.0,
            }));
            Ok(Outcome::Ok)
        }
        Err(err @ PhotoError::CannotFit { .. }) => {
            print(&json!({
                "ok": false,
                "kind": name,
                "cap": kind.max_bytes(),
                "problems": [{ "code": err.code(), "message": err.message_zh() }],
                "ms": (ms * 100.0).round() / 100.0,
            }));
            Ok(Outcome::Problems)
        }
        Err(err) => Err(fail("encode", &err)),
    }
}

fn standardize_file(input: &Path, output: &Path, model: &ModelArg) -> Result<Outcome, Outcome> {
    let bytes = read_file(input)?;
    let image = decode_photo(&bytes).map_err(|err| fail(&input.display().to_string(), &err))?;
    let analyzer = load_analyzer(model)?;
    match standardize(&analyzer, &image, &Thresholds::default()) {
        Ok(portrait) => {
            std::fs::write(output, &portrait.jpeg.bytes)
                .map_err(|err| fail(&format!("cannot write {}", output.display()), &err))?;
            print(&json!({
                "ok": true,
                "problems": [],
                "output": output.display().to_string(),
                "bytes": portrait.jpeg.bytes.len(),
                "quality": portrait.jpeg.quality,
                "width": portrait.jpeg.width,
                "height": portrait.jpeg.height,
                "measures": portrait.measures,
            }));
            Ok(Outcome::Ok)
        }
        Err(StandardizeError::Refused(issues)) => {
            print(&json!({ "ok": false, "problems": problems_json(&issues) }));
            Ok(Outcome::Problems)
        }
        Err(StandardizeError::Photo(err)) => Err(fail("standardize", &err)),
    }
}

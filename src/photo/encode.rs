//! JPEG encoding under a byte cap: the highest quality that fits, found by
//! a search that predicts the answer from each encoding; for document
//! photos, fewer pixels when even a low quality does not fit.

use image::imageops;
use image::RgbImage;
use serde::Serialize;

use super::error::PhotoError;
use super::geometry::Rect;
pub use super::jpeg::encode_jpeg;
use super::jpeg::JpegEncoder;

/// The four kinds of photo the plan caps (§四(二)), sizes in decimal bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PhotoKind {
    /// Portrait taken on the spot, 358×441: ≤ 300 000 bytes.
    Portrait,
    /// Photo of the ID card when the reader fails: ≤ 40 000 bytes.
    IdCardPhoto,
    /// Photo of a certificate page: ≤ 300 000 bytes.
    Certificate,
    /// The portrait stored on the ID card's chip: ≤ 3 000 bytes.
    CardPortrait,
}

impl PhotoKind {
    pub fn max_bytes(self) -> usize {
        match self {
            PhotoKind::Portrait | PhotoKind::Certificate => 300_000,
            PhotoKind::IdCardPhoto => 40_000,
            PhotoKind::CardPortrait => 3_000,
        }
    }

    /// Below this quality, documents lose fine print faster than they lose
    /// it by shrinking, so we shrink instead.
    pub fn min_quality(self) -> u8 {
        match self {
            PhotoKind::Portrait => 50,
            PhotoKind::IdCardPhoto | PhotoKind::Certificate => 50,
            PhotoKind::CardPortrait => 20,
        }
    }

    /// The portrait's size is fixed by the standard; the others may be
    /// made smaller to fit.
    pub fn may_shrink(self) -> bool {
        !matches!(self, PhotoKind::Portrait)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedJpeg {
    pub bytes: Vec<u8>,
    pub quality: u8,
    pub width: u32,
    pub height: u32,
}

/// How JPEG size grows with quality, relative to quality 75: the
/// geometric mean over five different photographs (a portrait, a face
/// group, an indoor still life, a grey street scene) encoded by
/// libjpeg-turbo at every quality, 4:2:0. Between qualities 20 and 95 every
/// one of them stays within about 10 % of this curve, so one encode tells
/// the size at any other quality well enough to aim the next encode.
const SIZE_AT_QUALITY: [f32; 100] = [
    0.158, 0.158, 0.166, 0.179, 0.195, 0.210, 0.225, 0.240, 0.254, 0.269, // 1-10
    0.283, 0.296, 0.311, 0.323, 0.336, 0.348, 0.362, 0.374, 0.384, 0.395, // 11-20
    0.407, 0.418, 0.429, 0.439, 0.449, 0.460, 0.470, 0.482, 0.491, 0.500, // 21-30
    0.509, 0.517, 0.530, 0.536, 0.548, 0.558, 0.563, 0.576, 0.584, 0.587, // 31-40
    0.600, 0.607, 0.614, 0.626, 0.633, 0.643, 0.647, 0.657, 0.669, 0.672, // 41-50
    0.674, 0.690, 0.700, 0.706, 0.714, 0.724, 0.736, 0.748, 0.755, 0.763, // 51-60
    0.778, 0.786, 0.801, 0.809, 0.826, 0.839, 0.851, 0.872, 0.887, 0.908, // 61-70
    0.926, 0.939, 0.963, 0.994, 1.000, 1.026, 1.064, 1.095, 1.117, 1.149, // 71-80
    1.189, 1.224, 1.279, 1.321, 1.361, 1.423, 1.463, 1.536, 1.589, 1.687, // 81-90
    1.764, 1.839, 1.991, 2.175, 2.387, 2.658, 2.961, 3.334, 4.091, 4.700, // 91-100
];

/// Bytes per pixel at quality 75 of a typical camera photo (portrait,
/// certificate page): the first guess before anything is encoded.
const TYPICAL_BYTES_PER_PIXEL_AT_75: f64 = 0.12;

fn relative_size(quality: u8) -> f64 {
    f64::from(SIZE_AT_QUALITY[usize::from(quality.clamp(1, 100)) - 1])
}

/// What one encoding says about a picture: its size at quality 75 per
/// pixel, from which the size at any quality is predicted.
#[derive(Debug, Clone, Copy, PartialEq)]
struct SizeModel {
    bytes_per_pixel_at_75: f64,
}

impl SizeModel {
    fn from_encoding(quality: u8, bytes: usize, pixels: u64) -> SizeModel {
        SizeModel {
            bytes_per_pixel_at_75: bytes as f64 / relative_size(quality) / pixels.max(1) as f64,
        }
    }

    fn predicted_bytes(self, quality: u8, pixels: u64) -> f64 {
        self.bytes_per_pixel_at_75 * relative_size(quality) * pixels as f64
    }

    /// The highest quality in `low..=high` predicted to fit `max_bytes`,
    /// or `low` when none is.
    fn best_quality(self, max_bytes: usize, pixels: u64, low: u8, high: u8) -> u8 {
        (low..=high)
            .rev()
            .find(|&quality| self.predicted_bytes(quality, pixels) <= max_bytes as f64)
            .unwrap_or(low)
    }
}

/// How a quality search ended without a fit.
enum NoFit {
    /// Encoded at the lowest quality allowed and still too big.
    Measured { smallest: usize, model: SizeModel },
    /// Predicted from an encoding to miss the cap by far even at the
    /// lowest quality (only when the caller asked to stop early).
    Predicted { smallest: usize, model: SizeModel },
}

/// Predicting misses by up to ~10 %; beyond this factor over the cap at
/// the lowest quality, shrinking is certain and encoding there is skipped.
const CERTAIN_MISS: f64 = 1.3;

/// The highest quality in `min_quality..=100` whose encoding is at most
/// `max_bytes`. Each encoding both narrows the bracket (highest that fits,
/// lowest that does not) and predicts through [`SIZE_AT_QUALITY`] where the
/// answer is; the next encoding goes there, kept strictly inside the
/// bracket, so the search ends on the same answer as a binary search
/// (size grows with quality) in typically two or three encodings instead
/// of about seven.
fn search_quality(
    encoder: &mut JpegEncoder,
    image: &RgbImage,
    max_bytes: usize,
    min_quality: u8,
    prior: Option<SizeModel>,
    stop_when_certain_miss: bool,
) -> Result<Result<EncodedJpeg, NoFit>, PhotoError> {
    let min_quality = min_quality.clamp(1, 100);
    let pixels = u64::from(image.width()) * u64::from(image.height());
    let mut model = prior.unwrap_or(SizeModel {
        bytes_per_pixel_at_75: TYPICAL_BYTES_PER_PIXEL_AT_75,
    });
    // Bracket: `fits` fits; `too_big` (quality, bytes) does not.
    let mut fits: Option<(u8, Vec<u8>)> = None;
    let mut too_big: Option<(u8, usize)> = None;
    loop {
        let low = fits
            .as_ref()
            .map_or(min_quality, |(quality, _)| quality + 1);
        let high = too_big.map_or(100, |(quality, _)| quality - 1);
        if low > high {
            break;
        }
        let quality = model.best_quality(max_bytes, pixels, low, high);
        let bytes = encoder.encode(image, quality)?;
        model = SizeModel::from_encoding(quality, bytes.len(), pixels);
        if bytes.len() <= max_bytes {
            fits = Some((quality, bytes));
        } else {
            let smallest_predicted = model.predicted_bytes(min_quality, pixels);
            if quality == min_quality {
                return Ok(Err(NoFit::Measured {
                    smallest: bytes.len(),
                    model,
                }));
            }
            too_big = Some((quality, bytes.len()));
            if stop_when_certain_miss && smallest_predicted > max_bytes as f64 * CERTAIN_MISS {
                return Ok(Err(NoFit::Predicted {
                    smallest: smallest_predicted.round() as usize,
                    model,
                }));
            }
        }
    }
    match fits {
        Some((quality, bytes)) => Ok(Ok(EncodedJpeg {
            bytes,
            quality,
            width: image.width(),
            height: image.height(),
        })),
        // Unreachable: the loop only leaves with an empty bracket once
        // something fits, or returns at the lowest quality.
        None => Err(PhotoError::Encode(
            "quality search ended without a result".into(),
        )),
    }
}

/// Highest quality in `min_quality..=100` whose encoding is at most
/// `max_bytes`, or the encoding at `min_quality` (too big) as the error.
pub fn encode_at_best_quality(
    image: &RgbImage,
    max_bytes: usize,
    min_quality: u8,
) -> Result<EncodedJpeg, PhotoError> {
    let mut encoder = JpegEncoder::new()?;
    match search_quality(&mut encoder, image, max_bytes, min_quality, None, false)? {
        Ok(encoded) => Ok(encoded),
        Err(NoFit::Measured { smallest, .. } | NoFit::Predicted { smallest, .. }) => {
            Err(PhotoError::CannotFit {
                cap: max_bytes,
                smallest,
            })
        }
    }
}

/// Encodes a photo of `kind` under its cap, shrinking it (keeping its
/// proportions) if the kind allows and even the lowest quality is too big.
/// When one encoding already shows that the lowest quality will miss by
/// far, it shrinks straight away rather than proving it first.
pub fn encode_under_cap(image: &RgbImage, kind: PhotoKind) -> Result<EncodedJpeg, PhotoError> {
    let max_bytes = kind.max_bytes();
    let mut encoder = JpegEncoder::new()?;
    let mut current = std::borrow::Cow::Borrowed(image);
    let mut prior = None;
    loop {
        let outcome = search_quality(
            &mut encoder,
            &current,
            max_bytes,
            kind.min_quality(),
            prior,
            kind.may_shrink(),
        )?;
        let (smallest, model) = match outcome {
            Ok(encoded) => return Ok(encoded),
            Err(NoFit::Measured { smallest, model } | NoFit::Predicted { smallest, model }) => {
                (smallest, model)
            }
        };
        if !kind.may_shrink() {
            return Err(PhotoError::CannotFit {
                cap: max_bytes,
                smallest,
            });
        }
        // Bytes scale roughly with pixel count; aim a little under.
        let factor = ((max_bytes as f64 / smallest as f64).sqrt() * 0.95).min(0.9);
        let width = (f64::from(current.width()) * factor).round() as u32;
        let height = (f64::from(current.height()) * factor).round() as u32;
        if width < 16 || height < 16 {
            return Err(PhotoError::CannotFit {
                cap: max_bytes,
                smallest,
            });
        }
        // Area averaging: several times faster than a Triangle resize on
        // a big page, and as free of aliasing when shrinking.
        current = std::borrow::Cow::Owned(imageops::thumbnail(current.as_ref(), width, height));
        // Fewer pixels carry a little more detail each; the search
        // corrects the rest.
        prior = Some(SizeModel {
            bytes_per_pixel_at_75: model.bytes_per_pixel_at_75 / factor.sqrt(),
        });
    }
}

/// A photo of a certificate page or of the ID card, optionally cut to the
/// page (`page` in image pixels, clipped to the image; the kiosk UI lets
/// staff drag it), encoded under the kind's cap.
pub fn encode_document(
    image: &RgbImage,
    page: Option<Rect>,
    kind: PhotoKind,
) -> Result<EncodedJpeg, PhotoError> {
    match page.and_then(|rect| clip(rect, image.width(), image.height())) {
        Some((x, y, width, height)) => {
            let cut = imageops::crop_imm(image, x, y, width, height).to_image();
            encode_under_cap(&cut, kind)
        }
        None => encode_under_cap(image, kind),
    }
}

/// `rect` rounded to whole pixels inside a `width`×`height` image; `None`
/// when nothing of it is left.
fn clip(rect: Rect, width: u32, height: u32) -> Option<(u32, u32, u32, u32)> {
    let x0 = rect.x.round().clamp(0.0, width as f32);
    let y0 = rect.y.round().clamp(0.0, height as f32);
    let x1 = rect.right().round().clamp(0.0, width as f32);
    let y1 = rect.bottom().round().clamp(0.0, height as f32);
    (x1 > x0 && y1 > y0).then_some((x0 as u32, y0 as u32, (x1 - x0) as u32, (y1 - y0) as u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_rectangles_are_clipped_to_the_image() {
        assert_eq!(
            clip(Rect::new(-5.0, 10.0, 50.0, 500.0), 40, 100),
            Some((0, 10, 40, 90))
        );
        assert_eq!(clip(Rect::new(50.0, 0.0, 10.0, 10.0), 40, 100), None);
        assert_eq!(clip(Rect::new(f32::NAN, 0.0, 10.0, 10.0), 40, 100), None);
    }

    #[test]
    fn a_document_cut_to_its_page_has_the_page_size() {
        let image = RgbImage::from_pixel(300, 200, image::Rgb([200, 180, 160]));
        let page = Rect::new(50.0, 20.0, 120.0, 150.0);
        let out = encode_document(&image, Some(page), PhotoKind::Certificate).expect("fits");
        assert_eq!((out.width, out.height), (120, 150));
        let whole = encode_document(&image, None, PhotoKind::IdCardPhoto).expect("fits");
        assert_eq!((whole.width, whole.height), (300, 200));
    }
}

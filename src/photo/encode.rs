//! JPEG encoding under a byte cap: the highest quality that fits, found by
//! binary search; for document photos, fewer pixels when even a low
//! quality does not fit.

use image::codecs::jpeg::JpegEncoder;
use image::imageops::{self, FilterType};
use image::RgbImage;
use serde::Serialize;

use super::error::PhotoError;

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

pub fn encode_jpeg(image: &RgbImage, quality: u8) -> Result<Vec<u8>, PhotoError> {
    let mut bytes = Vec::new();
    JpegEncoder::new_with_quality(&mut bytes, quality.clamp(1, 100))
        .encode_image(image)
        .map_err(|err| PhotoError::Encode(err.to_string()))?;
    Ok(bytes)
}

/// Highest quality in `min_quality..=100` whose encoding is at most
/// `max_bytes`, or the smallest encoding found as the error. Size grows
/// with quality (almost always), so a binary search needs about seven
/// encodings.
pub fn encode_at_best_quality(
    image: &RgbImage,
    max_bytes: usize,
    min_quality: u8,
) -> Result<EncodedJpeg, PhotoError> {
    let min_quality = min_quality.clamp(1, 100);
    let wrap = |bytes: Vec<u8>, quality: u8| EncodedJpeg {
        bytes,
        quality,
        width: image.width(),
        height: image.height(),
    };
    let best = encode_jpeg(image, 100)?;
    if best.len() <= max_bytes {
        return Ok(wrap(best, 100));
    }
    let lowest = encode_jpeg(image, min_quality)?;
    if lowest.len() > max_bytes {
        return Err(PhotoError::CannotFit {
            cap: max_bytes,
            smallest: lowest.len(),
        });
    }
    // Invariant: `fits` fits, `too_big` does not.
    let (mut fits, mut fits_bytes, mut too_big) = (min_quality, lowest, 100u8);
    while too_big - fits > 1 {
        let mid = fits + (too_big - fits) / 2;
        let bytes = encode_jpeg(image, mid)?;
        if bytes.len() <= max_bytes {
            fits = mid;
            fits_bytes = bytes;
        } else {
            too_big = mid;
        }
    }
    Ok(wrap(fits_bytes, fits))
}

/// Encodes a photo of `kind` under its cap, shrinking it (keeping its
/// proportions) if the kind allows and even the lowest quality is too big.
pub fn encode_under_cap(image: &RgbImage, kind: PhotoKind) -> Result<EncodedJpeg, PhotoError> {
    let max_bytes = kind.max_bytes();
    let mut current = std::borrow::Cow::Borrowed(image);
    loop {
        match encode_at_best_quality(&current, max_bytes, kind.min_quality()) {
            Err(PhotoError::CannotFit { smallest, .. }) if kind.may_shrink() => {
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
                current = std::borrow::Cow::Owned(imageops::resize(
                    current.as_ref(),
                    width,
                    height,
                    FilterType::Triangle,
                ));
            }
            other => return other,
        }
    }
}

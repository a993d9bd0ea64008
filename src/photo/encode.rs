//! JPEG encoding under a byte cap: the highest quality that fits, found by
//! binary search; for document photos, fewer pixels when even a low
//! quality does not fit.

use image::codecs::jpeg::JpegEncoder;
use image::imageops::{self, FilterType};
use image::RgbImage;
use serde::Serialize;

use super::error::PhotoError;
use super::geometry::Rect;

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

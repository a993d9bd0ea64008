//! JPEG through libjpeg-turbo (the TurboJPEG API): encoding every photo the
//! kiosk stores and decoding MJPEG camera frames. The same library Pillow
//! and OpenCV use, so our files match theirs in size at equal quality and
//! the SIMD code paths are shared.
//!
//! Chroma is subsampled 4:2:0, as Pillow and libjpeg do by default.

use image::RgbImage;
use turbojpeg::{Compressor, Decompressor, Image, PixelFormat, Subsamp};

use super::error::PhotoError;
use super::{MAX_DECODED_SIDE, MAX_DECODE_BYTES};

fn encode_error(err: turbojpeg::Error) -> PhotoError {
    PhotoError::Encode(err.to_string())
}

fn decode_error(err: turbojpeg::Error) -> PhotoError {
    PhotoError::Unreadable(err.to_string())
}

/// A reusable encoder: a search over qualities encodes the same picture
/// several times, and one TurboJPEG handle serves them all.
pub struct JpegEncoder {
    compressor: Compressor,
}

impl JpegEncoder {
    pub fn new() -> Result<JpegEncoder, PhotoError> {
        let mut compressor = Compressor::new().map_err(encode_error)?;
        compressor.set_subsamp(Subsamp::Sub2x2);
        Ok(JpegEncoder { compressor })
    }

    /// Baseline JPEG of `image` at `quality` (clamped to 1–100).
    pub fn encode(&mut self, image: &RgbImage, quality: u8) -> Result<Vec<u8>, PhotoError> {
        self.compressor
            .set_quality(i32::from(quality.clamp(1, 100)));
        let width = image.width() as usize;
        let source = Image {
            pixels: image.as_raw().as_slice(),
            width,
            pitch: width * 3,
            height: image.height() as usize,
            format: PixelFormat::RGB,
        };
        self.compressor
            .compress_to_vec(source)
            .map_err(encode_error)
    }
}

/// Decoder for camera frames and our own encodings. A frame larger than
/// [`MAX_DECODED_SIDE`] or [`MAX_DECODE_BYTES`] is refused before any
/// pixel memory is taken.
pub struct JpegDecoder {
    decompressor: Decompressor,
}

impl JpegDecoder {
    pub fn new() -> Result<JpegDecoder, PhotoError> {
        Ok(JpegDecoder {
            decompressor: Decompressor::new().map_err(decode_error)?,
        })
    }

    /// Width and height from the header, without decoding.
    pub fn dimensions(&mut self, jpeg: &[u8]) -> Result<(u32, u32), PhotoError> {
        let header = self.decompressor.read_header(jpeg).map_err(decode_error)?;
        let side = |value: usize| {
            u32::try_from(value)
                .ok()
                .filter(|&side| side > 0 && side <= MAX_DECODED_SIDE)
                .ok_or_else(|| PhotoError::Unreadable(format!("JPEG side {value} out of range")))
        };
        let (width, height) = (side(header.width)?, side(header.height)?);
        if u64::from(width) * u64::from(height) * 3 > MAX_DECODE_BYTES {
            return Err(PhotoError::Unreadable(format!(
                "JPEG of {width}x{height} is too large to decode"
            )));
        }
        Ok((width, height))
    }

    /// The whole picture as RGB.
    pub fn decode(&mut self, jpeg: &[u8]) -> Result<RgbImage, PhotoError> {
        let (width, height) = self.dimensions(jpeg)?;
        self.decode_into(jpeg, width, height)
    }

    /// The picture shrunk in the decoder itself (libjpeg's DCT scaling by
    /// 1/2, 1/4 or 1/8) to the largest size that fits `max_width` ×
    /// `max_height`, or whole when it already fits. Cheaper than decoding
    /// everything and scaling afterwards: the skipped coefficients are
    /// never computed.
    pub fn decode_within(
        &mut self,
        jpeg: &[u8],
        max_width: u32,
        max_height: u32,
    ) -> Result<RgbImage, PhotoError> {
        let (width, height) = self.dimensions(jpeg)?;
        let mut denominator = 1u32;
        while denominator < 8
            && (width.div_ceil(denominator) > max_width
                || height.div_ceil(denominator) > max_height)
        {
            denominator *= 2;
        }
        self.decode_into(
            jpeg,
            width.div_ceil(denominator),
            height.div_ceil(denominator),
        )
    }

    fn decode_into(
        &mut self,
        jpeg: &[u8],
        width: u32,
        height: u32,
    ) -> Result<RgbImage, PhotoError> {
        let (w, h) = (width as usize, height as usize);
        let mut pixels = vec![0u8; w * h * 3];
        let output = Image {
            pixels: pixels.as_mut_slice(),
            width: w,
            pitch: w * 3,
            height: h,
            format: PixelFormat::RGB,
        };
        self.decompressor
            .decompress(jpeg, output)
            .map_err(decode_error)?;
        RgbImage::from_raw(width, height, pixels)
            .ok_or_else(|| PhotoError::Unreadable("decoded size does not add up".into()))
    }
}

/// One-off encode at `quality`.
pub fn encode_jpeg(image: &RgbImage, quality: u8) -> Result<Vec<u8>, PhotoError> {
    JpegEncoder::new()?.encode(image, quality)
}

/// One-off decode of a JPEG to RGB (no EXIF rotation: for camera frames
/// and our own encodings; photos from elsewhere go through
/// [`super::decode_photo`]).
pub fn decode_jpeg(jpeg: &[u8]) -> Result<RgbImage, PhotoError> {
    JpegDecoder::new()?.decode(jpeg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    fn gradient(width: u32, height: u32) -> RgbImage {
        RgbImage::from_fn(width, height, |x, y| {
            Rgb([(x * 255 / width) as u8, (y * 255 / height) as u8, 128])
        })
    }

    #[test]
    fn round_trip_keeps_size_and_colours_close() {
        let image = gradient(123, 77);
        let jpeg = encode_jpeg(&image, 95).expect("encodes");
        let back = decode_jpeg(&jpeg).expect("decodes");
        assert_eq!(back.dimensions(), (123, 77));
        let worst = image
            .as_raw()
            .iter()
            .zip(back.as_raw())
            .map(|(a, b)| a.abs_diff(*b))
            .max()
            .unwrap_or(0);
        assert!(worst < 24, "worst channel error {worst}");
    }

    #[test]
    fn decode_within_uses_the_largest_scale_that_fits() {
        let jpeg = encode_jpeg(&gradient(1280, 720), 80).expect("encodes");
        let mut decoder = JpegDecoder::new().expect("decoder");
        let cases = [
            ((1280, 720), (1280, 720)),
            ((1279, 720), (640, 360)),
            ((640, 400), (640, 360)),
            ((300, 300), (160, 90)),
            ((10, 10), (160, 90)),
        ];
        for ((max_w, max_h), want) in cases {
            let out = decoder.decode_within(&jpeg, max_w, max_h).expect("decodes");
            assert_eq!(out.dimensions(), want, "within {max_w}x{max_h}");
        }
    }

    #[test]
    fn junk_is_an_error() {
        for junk in [&b""[..], b"hello", &[0xFF, 0xD8, 0xFF, 0xE0]] {
            assert!(decode_jpeg(junk).is_err());
        }
    }
}

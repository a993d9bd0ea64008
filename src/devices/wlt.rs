//! The card portrait: the chip stores it WLT-compressed (1024 bytes), a
//! format with no open decoder. A kiosk whose configuration names the
//! vendor's decoder library gets it loaded at run time (dlopen) and the
//! portrait turned into a JPG of at most 3 KB; without one, the raw bytes
//! are kept and the record says plainly that no decoder is configured.
//!
//! Vendor libraries export `int f(const unsigned char *wlt, unsigned char
//! *out, int flag)` (usually called `unpack`) writing a 102×126 picture,
//! either as bare BGR pixels or as a whole BMP file. They are not known to
//! be thread-safe, so calls are serialised.

// FFI: the vendor WLT decoder is a C library opened at run time (dlopen).
#![allow(unsafe_code)]

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use image::codecs::jpeg::JpegEncoder;
use image::{ImageFormat, RgbImage};
use thiserror::Error;

use super::config::{WltDecoderConfig, WltOutput};
use kiosk_core::record::CARD_PORTRAIT_MAX_BYTES;

pub const PORTRAIT_WIDTH: u32 = 102;
pub const PORTRAIT_HEIGHT: u32 = 126;
const BGR_LEN: usize = (PORTRAIT_WIDTH * PORTRAIT_HEIGHT * 3) as usize;
/// Room for a BMP (38 862 bytes) and for vendors that write a little past.
const OUT_BUFFER_LEN: usize = 64 * 1024;
/// The compressed portrait's size on the card.
pub const WLT_LEN: usize = 1024;

/// How long the vendor's decoder may take for one portrait.
const DECODE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// Note for the record when the portrait could not be decoded.
pub const NO_DECODER_NOTE: &str = "未配置身份证照片解码库，芯片照片未解码";

type UnpackFn = unsafe extern "C" fn(*const u8, *mut u8, i32) -> i32;

static CALLS: Mutex<()> = Mutex::new(());

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WltError {
    #[error("cannot load WLT decoder {path}: {reason}")]
    Load { path: PathBuf, reason: String },
    #[error("WLT decoder {path} has no function {symbol:?}: {reason}")]
    Symbol {
        path: PathBuf,
        symbol: String,
        reason: String,
    },
    #[error("card photo is {0} bytes, expected 1024")]
    Input(usize),
    #[error("WLT decoder returned {0}")]
    Failed(i32),
    #[error("WLT decoder output unreadable: {0}")]
    Output(String),
    #[error("WLT decoder did not return in time")]
    Timeout,
    #[error("portrait does not fit in {max} bytes as JPG")]
    TooLarge { max: u64 },
}

impl WltError {
    pub fn code(&self) -> &'static str {
        match self {
            WltError::Load { .. } => "wlt_load",
            WltError::Symbol { .. } => "wlt_symbol",
            WltError::Input(_) => "wlt_input",
            WltError::Failed(_) => "wlt_failed",
            WltError::Timeout => "wlt_timeout",
            WltError::Output(_) => "wlt_output",
            WltError::TooLarge { .. } => "wlt_too_large",
        }
    }

    /// For the record's note and staff.
    pub fn message_zh(&self) -> String {
        match self {
            WltError::Load { .. } | WltError::Symbol { .. } => {
                "身份证照片解码库无法加载，芯片照片未解码".into()
            }
            _ => "芯片照片解码失败".into(),
        }
    }
}

pub struct WltDecoder {
    // Keeps the library mapped while `unpack` may be called. Shared with
    // each decoder thread: a call that outlives its time-out (and this
    // decoder) must not find the code unmapped under it.
    library: std::sync::Arc<libloading::Library>,
    unpack: UnpackFn,
    output: WltOutput,
    success_code: i32,
    path: PathBuf,
}

impl std::fmt::Debug for WltDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WltDecoder({})", self.path.display())
    }
}

impl WltDecoder {
    /// Load the configured library and find its function.
    pub fn load(config: &WltDecoderConfig) -> Result<WltDecoder, WltError> {
        let path = config.library.clone();
        // SAFETY: loading a library runs its initialisers; the library is
        // the vendor decoder the county configured for this kiosk.
        let library = unsafe { libloading::Library::new(&path) }.map_err(|err| WltError::Load {
            path: path.clone(),
            reason: err.to_string(),
        })?;
        // SAFETY: the configured symbol is documented to have this type.
        let unpack: UnpackFn = unsafe {
            *library
                .get::<UnpackFn>(config.symbol.as_bytes())
                .map_err(|err| WltError::Symbol {
                    path: path.clone(),
                    symbol: config.symbol.clone(),
                    reason: err.to_string(),
                })?
        };
        Ok(WltDecoder {
            library: std::sync::Arc::new(library),
            unpack,
            output: config.output,
            success_code: config.success_code,
            path,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The decoded portrait.
    pub fn decode(&self, wlt: &[u8]) -> Result<RgbImage, WltError> {
        if wlt.len() != WLT_LEN {
            return Err(WltError::Input(wlt.len()));
        }
        // The vendor's code runs in a thread of its own, so that a decoder
        // that never returns costs a timeout, not the kiosk.
        let unpack = self.unpack;
        let library = std::sync::Arc::clone(&self.library);
        let input = wlt.to_vec();
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("wlt-decoder".into())
            .spawn(move || {
                let mut out = vec![0u8; OUT_BUFFER_LEN];
                let _one_at_a_time = CALLS
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                // SAFETY: `input` holds the 1024 bytes the function reads and
                // `out` is larger than anything it writes (38 862 bytes at most).
                let status = unsafe { unpack(input.as_ptr(), out.as_mut_ptr(), 0) };
                let _ = done_tx.send((status, out));
                drop(library);
            })
            .map_err(|err| WltError::Output(err.to_string()))?;
        let (status, out) = done_rx
            .recv_timeout(DECODE_TIMEOUT)
            .map_err(|_| WltError::Timeout)?;
        if status != self.success_code {
            return Err(WltError::Failed(status));
        }
        match self.output {
            WltOutput::Bgr => bgr_image(out.get(..BGR_LEN).unwrap_or_default()),
            WltOutput::Bmp => image::load_from_memory_with_format(&out, ImageFormat::Bmp)
                .map(|image| image.into_rgb8())
                .map_err(|err| WltError::Output(err.to_string())),
        }
    }
}

/// 102×126 B G R pixels into an image.
fn bgr_image(bgr: &[u8]) -> Result<RgbImage, WltError> {
    let rgb: Vec<u8> = bgr
        .chunks_exact(3)
        .flat_map(|pixel| match pixel {
            [b, g, r] => [*r, *g, *b],
            _ => [0, 0, 0],
        })
        .collect();
    RgbImage::from_raw(PORTRAIT_WIDTH, PORTRAIT_HEIGHT, rgb)
        .ok_or_else(|| WltError::Output(format!("{} bytes is not 102×126 BGR", bgr.len())))
}

/// The portrait as a JPG of at most `max_bytes`, at the best quality that
/// fits; a picture too busy for that in colour is stored in grey.
pub fn to_jpeg(image: &RgbImage, max_bytes: u64) -> Result<Vec<u8>, WltError> {
    let colour = image::DynamicImage::ImageRgb8(image.clone());
    let grey = image::DynamicImage::ImageLuma8(colour.to_luma8());
    let fits = |jpeg: &Vec<u8>| u64::try_from(jpeg.len()).unwrap_or(u64::MAX) <= max_bytes;
    for quality in [90u8, 80, 70, 60, 50, 40, 30, 20, 10, 5] {
        let jpeg = encode(&colour, quality)?;
        if fits(&jpeg) {
            return Ok(jpeg);
        }
    }
    for quality in [30u8, 10, 1] {
        let jpeg = encode(&grey, quality)?;
        if fits(&jpeg) {
            return Ok(jpeg);
        }
    }
    Err(WltError::TooLarge { max: max_bytes })
}

fn encode(image: &image::DynamicImage, quality: u8) -> Result<Vec<u8>, WltError> {
    let mut jpeg = Cursor::new(Vec::new());
    image
        .write_with_encoder(JpegEncoder::new_with_quality(&mut jpeg, quality))
        .map_err(|err| WltError::Output(err.to_string()))?;
    Ok(jpeg.into_inner())
}

/// What becomes of the card portrait.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardPortrait {
    /// Decoded: a JPG of at most 3 KB for `photos.card_portrait`.
    Jpeg(Vec<u8>),
    /// Not decoded: the note goes into `photos.card_portrait_note`; the
    /// session keeps the raw WLT bytes in `photos.card_portrait_wlt`.
    NotDecoded { note_zh: String },
}

/// Decode the chip portrait if a decoder is configured.
pub fn card_portrait(wlt: &[u8], decoder: Option<&WltDecoder>) -> CardPortrait {
    let Some(decoder) = decoder else {
        return CardPortrait::NotDecoded {
            note_zh: NO_DECODER_NOTE.into(),
        };
    };
    match decoder
        .decode(wlt)
        .and_then(|image| to_jpeg(&image, CARD_PORTRAIT_MAX_BYTES))
    {
        Ok(jpeg) => CardPortrait::Jpeg(jpeg),
        Err(err) => CardPortrait::NotDecoded {
            note_zh: err.message_zh(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_decoder_the_record_says_so() {
        assert_eq!(
            card_portrait(&[0u8; WLT_LEN], None),
            CardPortrait::NotDecoded {
                note_zh: "未配置身份证照片解码库，芯片照片未解码".into()
            }
        );
    }

    #[test]
    fn a_missing_library_is_a_load_error() {
        let config = WltDecoderConfig {
            library: "/nonexistent/libwlt.so".into(),
            symbol: "unpack".into(),
            output: WltOutput::Bgr,
            success_code: 1,
        };
        assert_eq!(WltDecoder::load(&config).unwrap_err().code(), "wlt_load");
    }

    #[test]
    fn portraits_fit_in_three_kilobytes() {
        // A busy picture (noise compresses worst).
        let image = RgbImage::from_fn(PORTRAIT_WIDTH, PORTRAIT_HEIGHT, |x, y| {
            let v = ((x * 31 + y * 17) ^ (x * y)) as u8;
            image::Rgb([v, v.wrapping_mul(3), v.wrapping_add(91)])
        });
        let jpeg = to_jpeg(&image, 3_000).unwrap();
        assert!(jpeg.len() <= 3_000);
        assert!(jpeg.starts_with(&[0xFF, 0xD8]));
        assert_eq!(to_jpeg(&image, 10).unwrap_err().code(), "wlt_too_large");
    }
}

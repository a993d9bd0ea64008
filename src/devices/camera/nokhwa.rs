//! The real camera: V4L2 through nokhwa.
//!
//! nokhwa's camera handle is not `Send` and a V4L2 read can stall, so the
//! handle lives in a worker thread ([`Guarded`]) and every call waits at most
//! the configured timeout.

use std::time::Duration;

use ::nokhwa::pixel_format::RgbFormat;
use ::nokhwa::utils::{
    ApiBackend, CameraFormat, CameraIndex, FrameFormat, RequestedFormat, RequestedFormatType,
};
use ::nokhwa::Camera as NokhwaHandle;
use ::nokhwa::FormatDecoder;

use super::{
    choose_mode, Camera, CameraError, CameraInfo, CameraMode, CameraSelector, CameraStatus, Frame,
};
use crate::devices::deadline::{Guarded, Overrun};
use crate::photo::jpeg::decode_jpeg;

pub struct NokhwaCamera {
    selector: CameraSelector,
    min_width: u32,
    min_height: u32,
    timeout: Duration,
    worker: Guarded<Option<NokhwaHandle>>,
    mode: Option<CameraMode>,
}

impl NokhwaCamera {
    pub fn new(
        selector: CameraSelector,
        min_width: u32,
        min_height: u32,
        timeout: Duration,
    ) -> NokhwaCamera {
        NokhwaCamera {
            selector,
            min_width,
            min_height,
            timeout,
            worker: Guarded::new("camera", || None),
            mode: None,
        }
    }

    fn run<R: Send + 'static>(
        &mut self,
        call: impl FnOnce(&mut Option<NokhwaHandle>) -> Result<R, CameraError> + Send + 'static,
    ) -> Result<R, CameraError> {
        match self.worker.call(self.timeout, call) {
            Ok(result) => result,
            Err(overrun) => {
                // The abandoned worker took the handle with it.
                self.mode = None;
                Err(match overrun {
                    Overrun::TimedOut => CameraError::Timeout,
                    Overrun::WorkerGone => {
                        CameraError::Disconnected("camera driver stopped".into())
                    }
                })
            }
        }
    }
}

/// Every camera V4L2 lists.
pub fn list_cameras() -> Result<Vec<CameraInfo>, CameraError> {
    let cameras = ::nokhwa::query(ApiBackend::Video4Linux)
        .map_err(|err| CameraError::OpenFailed(err.to_string()))?;
    Ok(cameras
        .into_iter()
        .filter_map(|info| {
            let index = info.index().as_index().ok()?;
            Some(CameraInfo {
                index,
                name: info.human_name(),
                description: info.description().to_string(),
            })
        })
        .collect())
}

fn open_handle(
    index: u32,
    min_width: u32,
    min_height: u32,
) -> Result<(NokhwaHandle, CameraMode), CameraError> {
    let open_failed = |err: ::nokhwa::NokhwaError| CameraError::OpenFailed(err.to_string());
    let any = RequestedFormat::new::<RgbFormat>(RequestedFormatType::None);
    let mut handle =
        NokhwaHandle::with_backend(CameraIndex::Index(index), any, ApiBackend::Video4Linux)
            .map_err(open_failed)?;
    let formats: Vec<CameraFormat> = handle
        .compatible_camera_formats()
        .map_err(open_failed)?
        .into_iter()
        .filter(decodable)
        .collect();
    let offered: Vec<CameraMode> = formats.iter().map(mode_of).collect();
    let chosen = choose_mode(&offered, min_width, min_height).ok_or_else(|| {
        CameraError::OpenFailed("the camera offers no format we can decode".into())
    })?;
    let format = formats
        .iter()
        .find(|format| mode_of(format) == chosen)
        .copied()
        .ok_or_else(|| CameraError::OpenFailed("chosen format vanished".into()))?;
    handle
        .set_camera_requset(RequestedFormat::new::<RgbFormat>(
            RequestedFormatType::Exact(format),
        ))
        .map_err(open_failed)?;
    handle.open_stream().map_err(open_failed)?;
    Ok((handle, chosen))
}

/// Open camera `index` straight away (without listing first), report the
/// mode it would stream in, and close it again: the staff screen's "test the
/// camera" button. Not bounded by a timeout; call it from a worker.
pub fn probe(index: u32, min_width: u32, min_height: u32) -> Result<CameraMode, CameraError> {
    open_handle(index, min_width, min_height).map(|(_handle, mode)| mode)
}

fn mode_of(format: &CameraFormat) -> CameraMode {
    CameraMode {
        width: format.width(),
        height: format.height(),
        fps: format.frame_rate(),
    }
}

/// One camera buffer as an RGB frame. MJPEG (what most USB cameras send at
/// 720p and above) goes through libjpeg-turbo, the same library the photos
/// are encoded with; the raw formats through nokhwa's converters.
fn decode_frame(buffer: &::nokhwa::Buffer) -> Result<Frame, CameraError> {
    let bad_frame = |err: &dyn std::fmt::Display| CameraError::BadFrame(err.to_string());
    let (width, height, rgb) = if buffer.source_frame_format() == FrameFormat::MJPEG {
        let image = decode_jpeg(buffer.buffer()).map_err(|err| bad_frame(&err))?;
        let (width, height) = image.dimensions();
        (width, height, image.into_raw())
    } else {
        let image = buffer
            .decode_image::<RgbFormat>()
            .map_err(|err| bad_frame(&err))?;
        let (width, height) = image.dimensions();
        (width, height, image.into_raw())
    };
    Frame::from_rgb(width, height, rgb)
        .ok_or_else(|| CameraError::BadFrame("frame size does not add up".into()))
}

/// Whether our RGB decoder handles this pixel format.
fn decodable(format: &CameraFormat) -> bool {
    RgbFormat::FORMATS.contains(&format.format())
}

impl Camera for NokhwaCamera {
    fn list(&mut self) -> Result<Vec<CameraInfo>, CameraError> {
        self.run(|_| list_cameras())
    }

    fn open(&mut self) -> Result<CameraMode, CameraError> {
        if let Some(mode) = self.mode {
            return Ok(mode);
        }
        let cameras = self.list()?;
        let index = self.selector.pick(&cameras)?.index;
        let (min_width, min_height) = (self.min_width, self.min_height);
        let mode = self.run(move |slot| {
            // Close any old stream first: V4L2 allows one per device.
            *slot = None;
            let (handle, mode) = open_handle(index, min_width, min_height)?;
            *slot = Some(handle);
            Ok(mode)
        })?;
        self.mode = Some(mode);
        Ok(mode)
    }

    fn frame(&mut self) -> Result<Frame, CameraError> {
        self.open()?;
        let result = self.run(|slot| {
            let handle = slot
                .as_mut()
                .ok_or_else(|| CameraError::Disconnected("stream closed".into()))?;
            let buffer = handle
                .frame()
                .map_err(|err| CameraError::Disconnected(err.to_string()))?;
            decode_frame(&buffer)
        });
        if matches!(result, Err(CameraError::Disconnected(_))) {
            self.close();
        }
        result
    }

    fn close(&mut self) {
        self.mode = None;
        let _ = self.run(|slot| {
            *slot = None;
            Ok(())
        });
    }

    fn status(&mut self) -> CameraStatus {
        if let Some(mode) = self.mode {
            return CameraStatus::Streaming { mode };
        }
        match self.list() {
            Ok(cameras) if cameras.is_empty() => CameraStatus::NoCamera,
            Ok(cameras) => match self.selector.pick(&cameras) {
                Ok(_) => CameraStatus::Idle {
                    cameras: cameras.len(),
                },
                Err(err) => CameraStatus::Fault { error: err },
            },
            Err(err) => CameraStatus::Fault { error: err },
        }
    }

    fn describe(&self) -> String {
        format!(
            "V4L2 camera ({}, at least {}x{})",
            self.selector, self.min_width, self.min_height
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::nokhwa::utils::Resolution;

    #[test]
    fn mjpeg_frames_decode_through_libjpeg_turbo() {
        let picture = image::RgbImage::from_fn(64, 48, |x, y| {
            image::Rgb([(x * 4) as u8, (y * 5) as u8, 90])
        });
        let jpeg = crate::photo::encode_jpeg(&picture, 90).expect("encodes");
        let buffer = ::nokhwa::Buffer::new(Resolution::new(64, 48), &jpeg, FrameFormat::MJPEG);
        let frame = decode_frame(&buffer).expect("decodes");
        assert_eq!(
            (frame.width, frame.height, frame.rgb.len()),
            (64, 48, 64 * 48 * 3)
        );
        let middle = (24 * 64 + 32) * 3;
        assert!(frame.rgb[middle].abs_diff(128) < 8, "{}", frame.rgb[middle]);

        let broken = ::nokhwa::Buffer::new(Resolution::new(64, 48), b"junk", FrameFormat::MJPEG);
        assert!(matches!(
            decode_frame(&broken),
            Err(CameraError::BadFrame(_))
        ));
    }

    #[test]
    fn raw_frames_still_decode() {
        let rgb: Vec<u8> = (0..4 * 2 * 3).map(|i| i as u8).collect();
        let buffer = ::nokhwa::Buffer::new(Resolution::new(4, 2), &rgb, FrameFormat::RAWRGB);
        let frame = decode_frame(&buffer).expect("decodes");
        assert_eq!(frame.rgb, rgb);
    }
}

//! The portrait camera.
//!
//! The photo pipeline asks for frames; a camera hands back RGB frames or a
//! [`CameraError`] that the UI can explain. "No camera" is an ordinary
//! answer here (many township halls will run on the card photo and typed
//! data first), never a panic or a hang.

pub mod nokhwa;
pub mod simulated;
pub mod test;

use serde::Serialize;
use thiserror::Error;

/// One picture: 8-bit RGB, rows top to bottom, `width * height * 3` bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Frame {
    pub width: u32,
    pub height: u32,
    pub rgb: Vec<u8>,
}

impl std::fmt::Debug for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Frame({}x{}, {} bytes)",
            self.width,
            self.height,
            self.rgb.len()
        )
    }
}

impl Frame {
    /// A frame from raw RGB bytes, if the size adds up.
    pub fn from_rgb(width: u32, height: u32, rgb: Vec<u8>) -> Option<Frame> {
        let pixels = u64::from(width).checked_mul(u64::from(height))?;
        let expected = usize::try_from(pixels.checked_mul(3)?).ok()?;
        (rgb.len() == expected).then_some(Frame { width, height, rgb })
    }
}

/// What the portrait page shows while the camera runs: the shell makes it
/// (camera and photo coach), the UI draws it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CameraView {
    pub frame: Option<Frame>,
    /// The photo coach's advice in plain words.
    pub hint_zh: String,
    /// The picture is right (about to be taken, or taken).
    pub ok: bool,
}

/// A camera as the system lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CameraInfo {
    pub index: u32,
    pub name: String,
    pub description: String,
}

/// Resolution and frame rate a camera was opened with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CameraMode {
    pub width: u32,
    pub height: u32,
    pub fps: u32,
}

/// For the staff screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum CameraStatus {
    /// Open and delivering frames in this mode.
    Streaming {
        mode: CameraMode,
    },
    /// Present but not opened yet.
    Idle {
        cameras: usize,
    },
    NoCamera,
    /// The camera cannot be used; shown by its code in JSON.
    Fault {
        #[serde(rename = "code", serialize_with = "serialize_code")]
        error: CameraError,
    },
}

fn serialize_code<S: serde::Serializer>(error: &CameraError, out: S) -> Result<S::Ok, S::Error> {
    out.serialize_str(error.code())
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CameraError {
    /// The system has no camera at all.
    #[error("no camera found")]
    NoCamera,
    /// Cameras exist, but none matches the configured index or name.
    #[error("no camera matches {0:?}")]
    NotFound(String),
    /// The camera is there but could not be opened (busy, permissions, no
    /// usable format).
    #[error("camera could not be opened: {0}")]
    OpenFailed(String),
    /// No frame within the timeout.
    #[error("camera gave no frame in time")]
    Timeout,
    /// It was working and stopped (unplugged).
    #[error("camera stopped: {0}")]
    Disconnected(String),
    /// A frame arrived but could not be decoded.
    #[error("camera frame unreadable: {0}")]
    BadFrame(String),
}

impl CameraError {
    pub fn code(&self) -> &'static str {
        match self {
            CameraError::NoCamera => "camera_none",
            CameraError::NotFound(_) => "camera_not_found",
            CameraError::OpenFailed(_) => "camera_open_failed",
            CameraError::Timeout => "camera_timeout",
            CameraError::Disconnected(_) => "camera_disconnected",
            CameraError::BadFrame(_) => "camera_bad_frame",
        }
    }

    pub fn message_zh(&self) -> &'static str {
        match self {
            CameraError::NoCamera => "没有找到摄像头，请工作人员检查摄像头连线",
            CameraError::NotFound(_) => "找不到设置中指定的摄像头，请工作人员检查设置",
            CameraError::OpenFailed(_) => "摄像头无法打开，请工作人员检查",
            CameraError::Timeout => "摄像头没有画面，请稍等后重试",
            CameraError::Disconnected(_) => "摄像头连接中断，请工作人员检查连线",
            CameraError::BadFrame(_) => "摄像头画面出错，请重试",
        }
    }
}

/// What the photo pipeline calls.
pub trait Camera: Send {
    /// The cameras this driver can see.
    fn list(&mut self) -> Result<Vec<CameraInfo>, CameraError>;
    /// Open the configured camera (done by [`Camera::frame`] when needed).
    fn open(&mut self) -> Result<CameraMode, CameraError>;
    /// The next frame.
    fn frame(&mut self) -> Result<Frame, CameraError>;
    /// Stop streaming (the light goes off); the next frame opens again.
    fn close(&mut self);
    fn status(&mut self) -> CameraStatus;
    fn describe(&self) -> String;
}

/// Which camera the configuration means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CameraSelector {
    First,
    Index(u32),
    /// A case-insensitive fragment of the camera's name.
    Name(String),
}

impl CameraSelector {
    /// `"0"` is an index, other text a name fragment, nothing the first.
    pub fn parse(device: Option<&str>) -> CameraSelector {
        match device.map(str::trim) {
            None | Some("") => CameraSelector::First,
            Some(text) => match text.parse::<u32>() {
                Ok(index) => CameraSelector::Index(index),
                Err(_) => CameraSelector::Name(text.to_string()),
            },
        }
    }

    /// The camera meant, among those listed.
    pub fn pick<'a>(&self, cameras: &'a [CameraInfo]) -> Result<&'a CameraInfo, CameraError> {
        if cameras.is_empty() {
            return Err(CameraError::NoCamera);
        }
        let found = match self {
            CameraSelector::First => cameras.first(),
            CameraSelector::Index(index) => cameras.iter().find(|camera| camera.index == *index),
            CameraSelector::Name(fragment) => {
                let fragment = fragment.to_lowercase();
                cameras
                    .iter()
                    .find(|camera| camera.name.to_lowercase().contains(&fragment))
            }
        };
        found.ok_or_else(|| CameraError::NotFound(self.to_string()))
    }
}

impl std::fmt::Display for CameraSelector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CameraSelector::First => write!(f, "the first camera"),
            CameraSelector::Index(index) => write!(f, "camera {index}"),
            CameraSelector::Name(name) => write!(f, "camera named {name:?}"),
        }
    }
}

/// Choose a mode: the smallest one at least `min_width`×`min_height`
/// (preferring ≥ 10 fps, then the higher frame rate); when none is that
/// large, the largest offered. Pure, so the rule is tested from a table.
pub fn choose_mode(offered: &[CameraMode], min_width: u32, min_height: u32) -> Option<CameraMode> {
    let area = |mode: &CameraMode| u64::from(mode.width) * u64::from(mode.height);
    let big_enough: Vec<&CameraMode> = offered
        .iter()
        .filter(|mode| mode.width >= min_width && mode.height >= min_height)
        .collect();
    if big_enough.is_empty() {
        return offered
            .iter()
            .max_by_key(|mode| (area(mode), mode.fps))
            .copied();
    }
    big_enough
        .into_iter()
        .min_by_key(|mode| (mode.fps < 10, area(mode), std::cmp::Reverse(mode.fps)))
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{expect, Expect};

    fn mode(width: u32, height: u32, fps: u32) -> CameraMode {
        CameraMode { width, height, fps }
    }

    fn check(offered: &[CameraMode], expected: Expect) {
        let chosen = choose_mode(offered, 1280, 720)
            .map(|m| format!("{}x{}@{}", m.width, m.height, m.fps))
            .unwrap_or_else(|| "none".into());
        expected.assert_eq(&chosen);
    }

    #[test]
    fn mode_choice() {
        check(&[], expect!["none"]);
        check(&[mode(640, 480, 30)], expect!["640x480@30"]);
        check(
            &[mode(640, 480, 30), mode(800, 600, 15)],
            expect!["800x600@15"],
        );
        check(
            &[
                mode(640, 480, 30),
                mode(1280, 720, 30),
                mode(1920, 1080, 30),
                mode(3840, 2160, 5),
            ],
            expect!["1280x720@30"],
        );
        check(
            &[mode(1280, 720, 10), mode(1280, 720, 30)],
            expect!["1280x720@30"],
        );
        // A big mode at a usable rate beats a smaller one at a slideshow rate.
        check(
            &[mode(1280, 720, 5), mode(1920, 1080, 15)],
            expect!["1920x1080@15"],
        );
        check(&[mode(1280, 720, 5)], expect!["1280x720@5"]);
        // 1280 wide but not 720 high is not big enough.
        check(
            &[mode(1280, 700, 30), mode(1024, 768, 30)],
            expect!["1280x700@30"],
        );
    }

    #[test]
    fn selectors() {
        let cameras = vec![
            CameraInfo {
                index: 0,
                name: "Integrated Webcam".into(),
                description: String::new(),
            },
            CameraInfo {
                index: 2,
                name: "USB 2.0 Camera".into(),
                description: String::new(),
            },
        ];
        let pick = |device: Option<&str>| match CameraSelector::parse(device).pick(&cameras) {
            Ok(camera) => camera.index.to_string(),
            Err(err) => err.code().to_string(),
        };
        assert_eq!(pick(None), "0");
        assert_eq!(pick(Some("2")), "2");
        assert_eq!(pick(Some("1")), "camera_not_found");
        assert_eq!(pick(Some("usb")), "2");
        assert_eq!(pick(Some("  ")), "0");
        assert_eq!(pick(Some("Logitech")), "camera_not_found");
        assert_eq!(
            CameraSelector::First.pick(&[]).unwrap_err(),
            CameraError::NoCamera
        );
    }

    #[test]
    fn frames_check_their_size() {
        assert!(Frame::from_rgb(2, 2, vec![0; 12]).is_some());
        assert!(Frame::from_rgb(2, 2, vec![0; 11]).is_none());
        assert!(Frame::from_rgb(u32::MAX, u32::MAX, vec![]).is_none());
    }
}

//! The in-memory test camera: hands out the frames and errors queued by the
//! test, then repeats the last frame.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use super::{Camera, CameraError, CameraInfo, CameraMode, CameraStatus, Frame};

#[derive(Debug, Default)]
pub struct TestCameraState {
    pub queue: VecDeque<Result<Frame, CameraError>>,
    pub last: Option<Frame>,
    pub open: bool,
    pub frames_taken: usize,
}

#[derive(Debug, Clone, Default)]
pub struct TestCamera {
    state: Arc<Mutex<TestCameraState>>,
}

impl TestCamera {
    /// A camera that shows one grey 1280×720 frame.
    pub fn new() -> TestCamera {
        let camera = TestCamera::default();
        camera.state().last = Frame::from_rgb(1280, 720, vec![128; 1280 * 720 * 3]);
        camera
    }

    pub fn state(&self) -> MutexGuard<'_, TestCameraState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn push(&self, next: Result<Frame, CameraError>) {
        self.state().queue.push_back(next);
    }
}

impl Camera for TestCamera {
    fn list(&mut self) -> Result<Vec<CameraInfo>, CameraError> {
        Ok(vec![CameraInfo {
            index: 0,
            name: "Test camera".into(),
            description: String::new(),
        }])
    }

    fn open(&mut self) -> Result<CameraMode, CameraError> {
        let mut state = self.state();
        state.open = true;
        let (width, height) = state
            .last
            .as_ref()
            .map_or((1280, 720), |f| (f.width, f.height));
        Ok(CameraMode {
            width,
            height,
            fps: 30,
        })
    }

    fn frame(&mut self) -> Result<Frame, CameraError> {
        let mut state = self.state();
        state.open = true;
        state.frames_taken += 1;
        match state.queue.pop_front() {
            Some(Ok(frame)) => {
                state.last = Some(frame.clone());
                Ok(frame)
            }
            Some(Err(err)) => Err(err),
            None => state.last.clone().ok_or(CameraError::NoCamera),
        }
    }

    fn close(&mut self) {
        self.state().open = false;
    }

    fn status(&mut self) -> CameraStatus {
        let state = self.state();
        match (&state.last, state.open) {
            (Some(frame), true) => CameraStatus::Streaming {
                mode: CameraMode {
                    width: frame.width,
                    height: frame.height,
                    fps: 30,
                },
            },
            _ => CameraStatus::Idle { cameras: 1 },
        }
    }

    fn describe(&self) -> String {
        "test camera".into()
    }
}

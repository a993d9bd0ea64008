//! The real V4L2 camera through nokhwa, on a machine without a camera (the
//! build and test machines have none): "no camera" must be a clear status,
//! quickly, whatever the configuration asks for.

use std::path::Path;
use std::time::{Duration, Instant};

use veteran_kiosk::devices::camera::nokhwa::{list_cameras, probe, NokhwaCamera};
use veteran_kiosk::devices::camera::{Camera, CameraError, CameraSelector, CameraStatus};

fn machine_has_a_camera() -> bool {
    std::fs::read_dir("/dev")
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .any(|entry| entry.file_name().to_string_lossy().starts_with("video"))
        })
        .unwrap_or(false)
}

#[test]
fn no_camera_is_a_clear_status_from_nokhwa() {
    assert!(
        !machine_has_a_camera(),
        "this test describes a machine without /dev/video*; this one has a camera"
    );
    assert!(!Path::new("/dev/video0").exists());
    assert_eq!(list_cameras(), Ok(vec![]));

    for device in [None, Some("0"), Some("3"), Some("USB Camera")] {
        let mut camera = NokhwaCamera::new(
            CameraSelector::parse(device),
            1280,
            720,
            Duration::from_secs(2),
        );
        let started = Instant::now();
        assert_eq!(camera.status(), CameraStatus::NoCamera, "{device:?}");
        assert_eq!(camera.open(), Err(CameraError::NoCamera), "{device:?}");
        let err = camera.frame().unwrap_err();
        assert_eq!(err, CameraError::NoCamera);
        assert_eq!(err.message_zh(), "没有找到摄像头，请工作人员检查摄像头连线");
        assert!(started.elapsed() < Duration::from_secs(2));
        camera.close();
    }
}

#[test]
fn opening_a_camera_that_is_not_there_fails_cleanly() {
    assert!(!machine_has_a_camera());
    let err = probe(0, 1280, 720).unwrap_err();
    assert_eq!(err.code(), "camera_open_failed", "{err}");
    assert_eq!(err.message_zh(), "摄像头无法打开，请工作人员检查");
}

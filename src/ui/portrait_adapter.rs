//! The portrait: live camera picture, the coach's words, retake.

use slint::{Image, Rgb8Pixel, SharedPixelBuffer};

use kiosk_core::session::{Event, View};

use super::{AppWindow, Dispatch, PortraitView};
use crate::devices::camera::CameraView;
use slint::ComponentHandle;

pub fn connect(ui: &AppWindow, dispatch: &Dispatch) {
    let d = dispatch.clone();
    ui.global::<PortraitView>()
        .on_retake(move || d.send(Event::RetakePortrait));
    let d = dispatch.clone();
    ui.global::<PortraitView>()
        .on_take_now(move || d.send(Event::TakePortraitNow));
    let d = dispatch.clone();
    ui.global::<PortraitView>()
        .on_staff_accept(move || d.send(Event::StaffAcceptPortrait));
}

pub fn show(ui: &AppWindow, view: &View, camera: Option<&CameraView>) {
    let g = ui.global::<PortraitView>();
    let captured = view.record.is_some_and(|r| r.photos.portrait.is_some());
    g.set_captured(captured);
    g.set_can_take_now(view.manual_capture_offered && !captured);
    g.set_needs_staff(view.portrait_needs_staff);
    let photos = view.record.map(|r| &r.photos);
    let issues: Vec<&str> = photos
        .map(|p| p.portrait_issues.iter().map(String::as_str).collect())
        .unwrap_or_default();
    g.set_issues(issues.join("\n").into());
    let accepted_by = photos
        .and_then(|p| p.portrait_acceptance.as_ref())
        .map_or("", |a| a.accepted_by.as_str());
    g.set_accepted_by(accepted_by.into());
    show_camera(ui, camera);
}

/// The live picture and the coach's words alone, for each new camera
/// frame (the rest of the page does not change with it).
pub fn show_camera(ui: &AppWindow, camera: Option<&CameraView>) {
    let g = ui.global::<PortraitView>();
    match camera {
        Some(camera) => {
            g.set_hint(camera.hint_zh.as_str().into());
            g.set_hint_ok(camera.ok);
            match &camera.frame {
                Some(frame) if frame.rgb.len() == (frame.width * frame.height * 3) as usize => {
                    // A whole-page redraw hands over the same picture again:
                    // copying it into the window would only cost time.
                    let already_shown = LAST_PREVIEW.with(|last| {
                        let mut last = last.borrow_mut();
                        let same = last.as_ref() == Some(frame);
                        if !same {
                            *last = Some(frame.clone());
                        }
                        same
                    });
                    if already_shown && g.get_has_preview() {
                        return;
                    }
                    let buffer = SharedPixelBuffer::<Rgb8Pixel>::clone_from_slice(
                        &frame.rgb,
                        frame.width,
                        frame.height,
                    );
                    g.set_preview(Image::from_rgb8(buffer));
                    g.set_has_preview(true);
                    count_preview_frame();
                }
                _ => g.set_has_preview(false),
            }
        }
        None => {
            g.set_hint("请看着摄像头，保持不动".into());
            g.set_hint_ok(false);
            g.set_has_preview(false);
        }
    }
}

/// The preview's box on screen in physical pixels, once laid out.
pub fn preview_size(ui: &AppWindow) -> Option<(u32, u32)> {
    let g = ui.global::<PortraitView>();
    let scale = ui.window().scale_factor();
    let physical = |length: f32| (length * scale).round();
    let (width, height) = (
        physical(g.get_preview_width()),
        physical(g.get_preview_height()),
    );
    (width >= 1.0 && height >= 1.0 && width < 16384.0 && height < 16384.0)
        .then_some((width as u32, height as u32))
}

thread_local! {
    /// The picture last handed to the window (on the UI thread).
    static LAST_PREVIEW: std::cell::RefCell<Option<crate::devices::camera::Frame>> =
        const { std::cell::RefCell::new(None) };
}

/// Camera pictures handed to the window since start: read by the
/// preview's frame-rate measurement (examples/kiosk_waits.rs).
static PREVIEW_FRAMES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn count_preview_frame() {
    PREVIEW_FRAMES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

pub fn preview_frames_shown() -> u64 {
    PREVIEW_FRAMES.load(std::sync::atomic::Ordering::Relaxed)
}

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
    match camera {
        Some(camera) => {
            g.set_hint(camera.hint_zh.as_str().into());
            g.set_hint_ok(camera.ok);
            match &camera.frame {
                Some(frame) if frame.rgb.len() == (frame.width * frame.height * 3) as usize => {
                    let buffer = SharedPixelBuffer::<Rgb8Pixel>::clone_from_slice(
                        &frame.rgb,
                        frame.width,
                        frame.height,
                    );
                    g.set_preview(Image::from_rgb8(buffer));
                    g.set_has_preview(true);
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

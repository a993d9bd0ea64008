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
}

pub fn show(ui: &AppWindow, view: &View, camera: Option<&CameraView>) {
    let g = ui.global::<PortraitView>();
    let captured = view.record.is_some_and(|r| r.photos.portrait.is_some());
    g.set_captured(captured);
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

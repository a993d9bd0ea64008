//! The portrait standard (plan §四(二), GA/T 461 size) and the crop that
//! meets it.

use super::geometry::Rect;

/// Output portrait size, pixels (the national ID-photo size).
pub const OUTPUT_WIDTH: u32 = 358;
pub const OUTPUT_HEIGHT: u32 = 441;

/// The plan: the head fills at least two thirds of the photo's height.
pub const MIN_HEAD_SHARE: f32 = 2.0 / 3.0;
/// Above this the crown or chin is about to leave the photo.
pub const MAX_HEAD_SHARE: f32 = 0.90;
/// What the crop aims for: safely above the minimum even if the head
/// estimate is a few per cent off, with the shoulders still showing.
pub const TARGET_HEAD_SHARE: f32 = 0.72;
/// Space above the crown, as a share of the crop height.
pub const TOP_MARGIN: f32 = 0.07;
/// A finished portrait counts as centred when the head's centre is within
/// this share of the width from the middle.
pub const MAX_PORTRAIT_OFFSET: f32 = 0.05;

/// The crop, in the same coordinates as `head`, that puts the head at the
/// target share of the height, centred, below the top margin, with the
/// output's aspect ratio exactly. It may reach outside the image.
pub fn standard_crop(head: &Rect) -> Rect {
    let height = head.height / TARGET_HEAD_SHARE;
    let width = height * OUTPUT_WIDTH as f32 / OUTPUT_HEIGHT as f32;
    Rect::new(
        head.centre().x - width / 2.0,
        head.y - TOP_MARGIN * height,
        width,
        height,
    )
}

/// How far a crop reaches outside a `width`×`height` image on each side,
/// in pixels (0 where it is inside).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Overflow {
    pub left: f32,
    pub right: f32,
    pub top: f32,
    pub bottom: f32,
}

pub fn overflow(crop: &Rect, width: u32, height: u32) -> Overflow {
    Overflow {
        left: (-crop.x).max(0.0),
        right: (crop.right() - width as f32).max(0.0),
        top: (-crop.y).max(0.0),
        bottom: (crop.bottom() - height as f32).max(0.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn crop_has_output_aspect_and_target_head_share(
            x in -500.0f32..5000.0, y in -500.0f32..5000.0,
            w in 1.0f32..3000.0, h in 1.0f32..3000.0,
        ) {
            let head = Rect::new(x, y, w, h);
            let crop = standard_crop(&head);
            let aspect = crop.width / crop.height;
            let want = OUTPUT_WIDTH as f32 / OUTPUT_HEIGHT as f32;
            prop_assert!((aspect / want - 1.0).abs() < 1e-4);
            prop_assert!((head.height / crop.height - TARGET_HEAD_SHARE).abs() < 1e-4);
            prop_assert!((crop.centre().x - head.centre().x).abs() <= 1e-3 * (1.0 + x.abs() + w));
            prop_assert!(crop.y < head.y && crop.bottom() > head.bottom());
        }
    }

    #[test]
    fn overflow_reports_each_side() {
        let o = overflow(&Rect::new(-5.0, -1.0, 110.0, 100.0), 100, 100);
        assert_eq!(
            o,
            Overflow {
                left: 5.0,
                right: 5.0,
                top: 1.0,
                bottom: 0.0
            }
        );
    }
}

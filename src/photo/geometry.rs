//! Points and rectangles in image pixel coordinates (x right, y down,
//! origin at the top-left corner of the image).

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Point {
    pub x: f32,
    pub y: f32,
}

impl Point {
    pub fn new(x: f32, y: f32) -> Self {
        Point { x, y }
    }
}

/// An axis-aligned rectangle; `x`, `y` is the top-left corner.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rect {
    pub x: f32,
    pub y: f32,
    pub width: f32,
    pub height: f32,
}

impl Rect {
    pub fn new(x: f32, y: f32, width: f32, height: f32) -> Self {
        Rect {
            x,
            y,
            width,
            height,
        }
    }

    pub fn from_centre(centre: Point, width: f32, height: f32) -> Self {
        Rect::new(
            centre.x - width / 2.0,
            centre.y - height / 2.0,
            width,
            height,
        )
    }

    pub fn right(&self) -> f32 {
        self.x + self.width
    }

    pub fn bottom(&self) -> f32 {
        self.y + self.height
    }

    pub fn centre(&self) -> Point {
        Point::new(self.x + self.width / 2.0, self.y + self.height / 2.0)
    }

    pub fn area(&self) -> f32 {
        self.width.max(0.0) * self.height.max(0.0)
    }

    pub fn intersection_area(&self, other: &Rect) -> f32 {
        let w = self.right().min(other.right()) - self.x.max(other.x);
        let h = self.bottom().min(other.bottom()) - self.y.max(other.y);
        w.max(0.0) * h.max(0.0)
    }

    /// Intersection over union; 0 for disjoint or empty rectangles.
    pub fn iou(&self, other: &Rect) -> f32 {
        let inter = self.intersection_area(other);
        let union = self.area() + other.area() - inter;
        if union > 0.0 {
            inter / union
        } else {
            0.0
        }
    }

    /// The same rectangle with every coordinate multiplied by `factor`.
    pub fn scaled(&self, factor: f32) -> Rect {
        Rect::new(
            self.x * factor,
            self.y * factor,
            self.width * factor,
            self.height * factor,
        )
    }
}

/// Roll angle in degrees of the line from one eye to the other, whichever
/// is named first: 0 when level, positive when the eye further right in the
/// image sits lower.
pub fn roll_degrees(eye_a: Point, eye_b: Point) -> f32 {
    let (left, right) = if eye_a.x <= eye_b.x {
        (eye_a, eye_b)
    } else {
        (eye_b, eye_a)
    };
    (right.y - left.y).atan2(right.x - left.x).to_degrees()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iou_of_identical_disjoint_and_half_overlapping() {
        let a = Rect::new(0.0, 0.0, 10.0, 10.0);
        assert_eq!(a.iou(&a), 1.0);
        assert_eq!(a.iou(&Rect::new(20.0, 0.0, 10.0, 10.0)), 0.0);
        let half = a.iou(&Rect::new(5.0, 0.0, 10.0, 10.0));
        assert!((half - 50.0 / 150.0).abs() < 1e-6, "{half}");
        assert_eq!(Rect::new(0.0, 0.0, 0.0, 0.0).iou(&a), 0.0);
    }

    #[test]
    fn roll_is_symmetric_in_eye_order() {
        let a = Point::new(10.0, 10.0);
        let b = Point::new(20.0, 20.0);
        assert!((roll_degrees(a, b) - 45.0).abs() < 1e-4);
        assert!((roll_degrees(b, a) - 45.0).abs() < 1e-4);
        assert_eq!(roll_degrees(a, Point::new(30.0, 10.0)), 0.0);
    }
}

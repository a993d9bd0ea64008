//! Small, allocation-light pixel routines the measures are built from.
//! Hand-written rather than `image::imageops` because they run on every
//! camera frame and only need box filtering and a few sums.

use image::RgbImage;

use super::geometry::Rect;

/// BT.601 luma of an sRGB pixel, 0–255.
pub fn luma(pixel: [u8; 3]) -> f32 {
    0.299 * f32::from(pixel[0]) + 0.587 * f32::from(pixel[1]) + 0.114 * f32::from(pixel[2])
}

/// Integer source span `[start, end)` covered by destination cell `index`
/// when `[origin, origin + cell * count)` is split into `count` cells; at
/// least one pixel wide, clamped to `[0, limit)`. `None` when it falls
/// wholly outside the image.
fn source_span(origin: f32, cell: f32, index: usize, limit: u32) -> Option<(u32, u32)> {
    let from = origin + cell * index as f32;
    let to = from + cell;
    let start = from.floor().max(0.0);
    let end = to.ceil().min(limit as f32);
    if end <= start {
        // Upscaling: a cell narrower than a pixel takes the nearest one.
        let nearest = ((from + to) / 2.0).floor();
        if nearest < 0.0 || nearest >= limit as f32 {
            return None;
        }
        return Some((nearest as u32, nearest as u32 + 1));
    }
    Some((start as u32, end as u32))
}

/// Box-filters `region` of `image` onto a `width`×`height` grid and calls
/// `put(column, row, mean_rgb)` for every cell that overlaps the image.
/// Box filtering avoids the aliasing that point sampling would add when a
/// large photo is shrunk to the detector's input.
pub fn resample_area(
    image: &RgbImage,
    region: Rect,
    width: usize,
    height: usize,
    mut put: impl FnMut(usize, usize, [f32; 3]),
) {
    if width == 0 || height == 0 {
        return;
    }
    let cell_w = region.width / width as f32;
    let cell_h = region.height / height as f32;
    let row_spans: Vec<Option<(u32, u32)>> = (0..height)
        .map(|row| source_span(region.y, cell_h, row, image.height()))
        .collect();
    let col_spans: Vec<Option<(u32, u32)>> = (0..width)
        .map(|col| source_span(region.x, cell_w, col, image.width()))
        .collect();
    let raw = image.as_raw();
    let stride = image.width() as usize * 3;
    for (row, row_span) in row_spans.iter().enumerate() {
        let Some((y0, y1)) = *row_span else { continue };
        for (col, col_span) in col_spans.iter().enumerate() {
            let Some((x0, x1)) = *col_span else { continue };
            let mut sum = [0u32; 3];
            for y in y0..y1 {
                let line = &raw[y as usize * stride..];
                for px in line[x0 as usize * 3..x1 as usize * 3].chunks_exact(3) {
                    sum[0] += u32::from(px[0]);
                    sum[1] += u32::from(px[1]);
                    sum[2] += u32::from(px[2]);
                }
            }
            let n = ((y1 - y0) * (x1 - x0)) as f32;
            put(
                col,
                row,
                [sum[0] as f32 / n, sum[1] as f32 / n, sum[2] as f32 / n],
            );
        }
    }
}

/// Luma of `region` box-filtered to `size`×`size`; cells outside the image
/// repeat nothing and stay at the region's mean so they add no edges.
pub fn luma_patch(image: &RgbImage, region: Rect, size: usize) -> Vec<f32> {
    let mut patch = vec![f32::NAN; size * size];
    resample_area(image, region, size, size, |col, row, rgb| {
        patch[row * size + col] = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2];
    });
    let known: Vec<f32> = patch.iter().copied().filter(|v| !v.is_nan()).collect();
    let mean = if known.is_empty() {
        0.0
    } else {
        known.iter().sum::<f32>() / known.len() as f32
    };
    for value in &mut patch {
        if value.is_nan() {
            *value = mean;
        }
    }
    patch
}

/// Variance of the 4-neighbour Laplacian over the interior of a
/// `width`×`height` luma patch: high for crisp edges, low when blurred.
pub fn laplacian_variance(patch: &[f32], width: usize, height: usize) -> f32 {
    if width < 3 || height < 3 || patch.len() < width * height {
        return 0.0;
    }
    let mut sum = 0.0f64;
    let mut sum_sq = 0.0f64;
    let mut count = 0usize;
    for y in 1..height - 1 {
        for x in 1..width - 1 {
            let c = patch[y * width + x];
            let lap = patch[(y - 1) * width + x]
                + patch[(y + 1) * width + x]
                + patch[y * width + x - 1]
                + patch[y * width + x + 1]
                - 4.0 * c;
            let lap = f64::from(lap);
            sum += lap;
            sum_sq += lap * lap;
            count += 1;
        }
    }
    let n = count as f64;
    let mean = sum / n;
    (sum_sq / n - mean * mean).max(0.0) as f32
}

/// Brightness figures over the pixels of a luma patch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LumaStats {
    pub mean: f32,
    /// Share of pixels at or below 20 (crushed shadows).
    pub dark_share: f32,
    /// Share of pixels at or above 245 (blown highlights).
    pub bright_share: f32,
}

pub fn luma_stats(values: &[f32]) -> LumaStats {
    if values.is_empty() {
        return LumaStats {
            mean: 0.0,
            dark_share: 1.0,
            bright_share: 0.0,
        };
    }
    let n = values.len() as f32;
    LumaStats {
        mean: values.iter().sum::<f32>() / n,
        dark_share: values.iter().filter(|&&v| v <= 20.0).count() as f32 / n,
        bright_share: values.iter().filter(|&&v| v >= 245.0).count() as f32 / n,
    }
}

/// Mean chroma (max − min channel) over an even sample of about 20 000
/// pixels: near 0 for greyscale images even after JPEG round trips, well
/// above 5 for colour photographs of people.
pub fn mean_chroma(image: &RgbImage) -> f32 {
    let pixels = u64::from(image.width()) * u64::from(image.height());
    if pixels == 0 {
        return 0.0;
    }
    let step = ((pixels / 20_000) as f64).sqrt().max(1.0) as u32;
    let mut sum = 0u64;
    let mut count = 0u64;
    for y in (0..image.height()).step_by(step as usize) {
        for x in (0..image.width()).step_by(step as usize) {
            let p = image.get_pixel(x, y).0;
            let max = p[0].max(p[1]).max(p[2]);
            let min = p[0].min(p[1]).min(p[2]);
            sum += u64::from(max - min);
            count += 1;
        }
    }
    sum as f32 / count as f32
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    #[test]
    fn area_resample_averages_blocks_and_skips_outside() {
        let image = RgbImage::from_fn(4, 2, |x, _| {
            if x < 2 {
                Rgb([0, 0, 0])
            } else {
                Rgb([200, 100, 50])
            }
        });
        let mut cells = vec![];
        resample_area(&image, Rect::new(0.0, 0.0, 6.0, 2.0), 3, 1, |c, r, rgb| {
            cells.push((c, r, rgb))
        });
        assert_eq!(
            cells,
            vec![(0, 0, [0.0, 0.0, 0.0]), (1, 0, [200.0, 100.0, 50.0])]
        );
    }

    #[test]
    fn laplacian_variance_is_zero_on_flat_and_ramp_and_high_on_edges() {
        let flat = vec![100.0; 25];
        assert_eq!(laplacian_variance(&flat, 5, 5), 0.0);
        let ramp: Vec<f32> = (0..25).map(|i| (i % 5) as f32 * 10.0).collect();
        assert!(laplacian_variance(&ramp, 5, 5) < 1e-6);
        let checker: Vec<f32> = (0..25)
            .map(|i| if (i % 5 + i / 5) % 2 == 0 { 0.0 } else { 255.0 })
            .collect();
        assert!(laplacian_variance(&checker, 5, 5) > 1e5);
        assert_eq!(laplacian_variance(&checker, 2, 2), 0.0);
    }

    #[test]
    fn chroma_separates_grey_from_colour() {
        let grey = RgbImage::from_pixel(50, 50, Rgb([90, 90, 90]));
        assert_eq!(mean_chroma(&grey), 0.0);
        let skin = RgbImage::from_pixel(50, 50, Rgb([200, 150, 120]));
        assert_eq!(mean_chroma(&skin), 80.0);
        assert_eq!(mean_chroma(&RgbImage::new(0, 0)), 0.0);
    }
}

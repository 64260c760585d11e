//! Steps 7 to 9 of the recipe, as MNIST was made: the ink map cropped to the digit's bounding
//! box, its longer side scaled to [`BOX`] (20) pixels keeping the aspect ratio, and placed in
//! [`SIDE`]x[`SIDE`] (28x28) with its centre of mass at [`CENTRE`].
//!
//! What it is not: finding the ink ([`super::ink`]); this file takes an ink map that is
//! already clean, ink in `(0, 1]` and exact zeros elsewhere.

use super::{Plane, Rect};
use image::imageops::{self, FilterType};
use image::{ImageBuffer, Luma};

/// Side of the network's input image, in pixels.
pub const SIDE: usize = 28;
/// Pixels per network input: `SIDE * SIDE` = 784.
pub const PIXELS: usize = SIDE * SIDE;
/// Side of the box the digit's longer side is scaled to, as MNIST was made.
pub const BOX: usize = 20;
/// Where the centre of mass is placed, as `(x, y)` pixel indices of the 28x28 image (row 0 at
/// the top): the mean centre of mass of the 10,000 MNIST test digits, measured by
/// `mnist_test_digits_are_centred_where_we_place_ours` below: x 14.008, y 13.993.
pub const CENTRE: (f32, f32) = (14.0, 14.0);

/// The smallest digit accepted: its longer side, as a fraction of the image's longer side
/// (and at least 3 pixels). Anything smaller is a dot, not a digit.
pub const MIN_DIGIT_FRACTION: f32 = 0.02;

// ---- 7. the crop ------------------------------------------------------------------------------

/// The smallest rectangle holding all the ink, or why there is no digit: no ink at all, or too
/// little to be a digit (under [`MIN_DIGIT_FRACTION`] of the image's longer side).
pub(super) fn ink_bounding_box(ink: &Plane) -> std::result::Result<Rect, String> {
    let (w, h) = (ink.width, ink.height);
    let (mut x0, mut y0, mut x1, mut y1) = (w, h, 0, 0);
    for y in 0..h {
        for x in 0..w {
            if ink.at(x, y) > 0.0 {
                x0 = x0.min(x);
                y0 = y0.min(y);
                x1 = x1.max(x);
                y1 = y1.max(y);
            }
        }
    }
    if x0 > x1 {
        return Err("no ink is left once the background is removed".into());
    }
    let rect = Rect {
        x: x0,
        y: y0,
        width: x1 - x0 + 1,
        height: y1 - y0 + 1,
    };
    let smallest = (MIN_DIGIT_FRACTION * w.max(h) as f32).max(3.0);
    if (rect.width.max(rect.height) as f32) < smallest {
        return Err(format!(
            "the only ink is a dot of {}x{} pixels in a {w}x{h} image",
            rect.width, rect.height
        ));
    }
    Ok(rect)
}

// ---- 8.-9. size and position ------------------------------------------------------------------

/// The rectangle `rect` of `ink`.
pub(super) fn crop(ink: &Plane, rect: Rect) -> Plane {
    Plane {
        width: rect.width,
        height: rect.height,
        data: (rect.y..rect.y + rect.height)
            .flat_map(|y| (rect.x..rect.x + rect.width).map(move |x| (x, y)))
            .map(|(x, y)| ink.at(x, y))
            .collect(),
    }
}

/// `digit` with its longer side scaled to [`BOX`] pixels and the shorter by the same factor (at
/// least one pixel), with a triangle filter: when shrinking, each output pixel is a
/// tent-weighted average over the source pixels it covers, which anti-aliases; when enlarging,
/// it interpolates linearly.
pub(super) fn fit_in_box(digit: &Plane) -> Plane {
    let scale = BOX as f32 / digit.width.max(digit.height) as f32;
    let width = ((digit.width as f32 * scale).round() as usize).clamp(1, BOX);
    let height = ((digit.height as f32 * scale).round() as usize).clamp(1, BOX);
    let image = ImageBuffer::<Luma<f32>, Vec<f32>>::from_raw(
        digit.width as u32,
        digit.height as u32,
        digit.data.clone(),
    )
    .expect("one value per pixel");
    let resized = imageops::resize(&image, width as u32, height as u32, FilterType::Triangle);
    Plane {
        width,
        height,
        data: resized
            .into_raw()
            .into_iter()
            .map(|v| v.clamp(0.0, 1.0))
            .collect(),
    }
}

/// The centre of mass `(x, y)` of an image, in pixel indices: `Σ v·x / Σ v`, `Σ v·y / Σ v`.
fn centre_of_mass(image: &Plane) -> (f32, f32) {
    let (mut mass, mut mx, mut my) = (0.0f64, 0.0f64, 0.0f64);
    for y in 0..image.height {
        for x in 0..image.width {
            let v = image.at(x, y) as f64;
            mass += v;
            mx += v * x as f64;
            my += v * y as f64;
        }
    }
    if mass <= 0.0 {
        return (
            (image.width - 1) as f32 / 2.0,
            (image.height - 1) as f32 / 2.0,
        );
    }
    ((mx / mass) as f32, (my / mass) as f32)
}

/// Places `digit` (at most 20x20) in a 28x28 field so that its centre of mass falls on
/// [`CENTRE`], shifted by whole pixels (the nearest), as MNIST was made; a digit whose mass is
/// far off its box's middle is kept whole inside the field rather than cut. Returns the pixels
/// in MNIST form, `round(255·v)`.
pub(super) fn centre_by_mass(digit: &Plane) -> [u8; PIXELS] {
    let (cx, cy) = centre_of_mass(digit);
    let place = |target: f32, centre: f32, size: usize| {
        ((target - centre).round() as isize).clamp(0, (SIDE - size) as isize) as usize
    };
    let ox = place(CENTRE.0, cx, digit.width);
    let oy = place(CENTRE.1, cy, digit.height);
    let mut pixels = [0u8; PIXELS];
    for y in 0..digit.height {
        for x in 0..digit.width {
            pixels[(oy + y) * SIDE + ox + x] =
                (255.0 * digit.at(x, y).clamp(0.0, 1.0)).round() as u8;
        }
    }
    pixels
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::preprocess::preprocess_gray;
    use crate::preprocess::test_images::NAME;
    use std::path::Path;

    #[test]
    fn a_single_dot_is_not_a_digit() {
        let mut gray = vec![255; 200 * 200];
        gray[100 * 200 + 100] = 0;
        let err = preprocess_gray(&gray, 200, 200, Path::new(NAME)).unwrap_err();
        assert!(matches!(err, Error::NoDigit { .. }), "{err}");
    }

    #[test]
    fn mnist_test_digits_are_centred_where_we_place_ours() {
        let data = crate::data::mnist::load_bundled().unwrap().test;
        let (mut sx, mut sy) = (0.0, 0.0);
        for i in 0..data.len() {
            let plane = Plane {
                width: SIDE,
                height: SIDE,
                data: data.image(i).iter().map(|&p| p as f32).collect(),
            };
            let (x, y) = centre_of_mass(&plane);
            sx += x as f64;
            sy += y as f64;
        }
        let (mx, my) = (sx / data.len() as f64, sy / data.len() as f64);
        eprintln!("mean centre of mass of MNIST test digits: x {mx:.3}, y {my:.3}");
        assert!((mx - CENTRE.0 as f64).abs() < 0.15 && (my - CENTRE.1 as f64).abs() < 0.15);
    }
}

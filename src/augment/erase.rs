//! Random erasing: one rectangle of the image replaced by noise.
//!
//! Zhong, Zheng, Kang, Li and Yang, "Random Erasing Data Augmentation" (AAAI 2020;
//! arXiv:1708.04896), Algorithm 1. With probability `p` an image gets one rectangle `I_e` of
//! area `S_e` and aspect ratio `r_e`, at a random place, every pixel of it a random value:
//!
//! ```text
//! S_e ~ U(s_l, s_h)·S,   r_e ~ U(r_1, 1/r_1),   H_e = √(S_e·r_e),   W_e = √(S_e / r_e)
//! (x_e, y_e) ~ U(image); kept if x_e + W_e ≤ W and y_e + H_e ≤ H, else all drawn again
//! ```
//!
//! with the paper's settings `s_l = 0.02`, `s_h = 0.4`, `r_1 = 0.3` and `S = W·H` the image's
//! area; the random values are uniform over the pixel range, `[0, 1)` here. `r_e` is uniform as
//! in the paper, so about three rectangles in four are taller than wide (torchvision's
//! `RandomErasing` draws it log-uniform, as many tall as wide).
//!
//! It occludes a part of the object, so that a network cannot lean on one region alone (a
//! collar, a heel); on a fully connected network it acts like dropout on a patch of neighbouring
//! inputs at once. ziffer rounds `H_e` and `W_e` to whole pixels (at least one) and gives up
//! after [`MAX_TRIES`] draws that do not fit (the paper loops until one does; on 28 x 28 images
//! with these ranges 31% of the draws fit, so giving up happens about once in 10¹⁶ images).

use rand::{Rng, RngExt as _};

/// `s_l`: the smallest erased area, as a fraction of the image.
pub const AREA_MIN: f32 = 0.02;

/// `s_h`: the largest erased area, as a fraction of the image.
pub const AREA_MAX: f32 = 0.4;

/// `r_1`: the aspect ratio `H_e / W_e` is uniform in `[r_1, 1/r_1]`.
pub const ASPECT_MIN: f32 = 0.3;

/// How many rectangles are drawn before an image is left as it is.
pub const MAX_TRIES: usize = 100;

/// A number uniform in `[low, high)` from one `u32`.
fn uniform(rng: &mut impl Rng, low: f32, high: f32) -> f32 {
    low + (high - low) * (rng.next_u32() >> 8) as f32 / (1u32 << 24) as f32
}

/// With probability `probability`, overwrites one rectangle of the `side x side` image `out`
/// (values in `[0, 1]`) with values uniform in `[0, 1)`, drawn as Algorithm 1 of Zhong et al.
/// does (see the module documentation). Returns the rectangle erased, as `(x, y, width,
/// height)` in pixels, or `None`.
pub fn erase(
    probability: f32,
    side: usize,
    rng: &mut impl Rng,
    out: &mut [f32],
) -> Option<(usize, usize, usize, usize)> {
    debug_assert_eq!(out.len(), side * side);
    if uniform(rng, 0.0, 1.0) >= probability {
        return None;
    }
    let area = (side * side) as f32;
    for _ in 0..MAX_TRIES {
        let erased = uniform(rng, AREA_MIN, AREA_MAX) * area;
        let aspect = uniform(rng, ASPECT_MIN, 1.0 / ASPECT_MIN);
        let height = ((erased * aspect).sqrt().round() as usize).max(1);
        let width = ((erased / aspect).sqrt().round() as usize).max(1);
        let x = rng.random_range(0..side);
        let y = rng.random_range(0..side);
        if x + width > side || y + height > side {
            continue;
        }
        for row in out[y * side..(y + height) * side].chunks_exact_mut(side) {
            for value in &mut row[x..x + width] {
                *value = uniform(rng, 0.0, 1.0);
            }
        }
        return Some((x, y, width, height));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::image_rng;

    #[test]
    fn the_rectangle_fits_has_the_paper_s_sizes_and_holds_the_noise() {
        let side = 28;
        let (mut erased, mut areas, mut tall, mut wide) = (0usize, 0.0f64, 0usize, 0usize);
        let trials = 4000;
        for i in 0..trials {
            let mut out = vec![2.0f32; side * side];
            let Some((x, y, w, h)) = erase(0.5, side, &mut image_rng(3, 0, i), &mut out) else {
                assert!(
                    out.iter().all(|&v| v == 2.0),
                    "nothing erased, nothing changed"
                );
                continue;
            };
            erased += 1;
            assert!(x + w <= side && y + h <= side, "{x} {y} {w} {h}");
            let fraction = (w * h) as f32 / (side * side) as f32;
            // Rounding each side to whole pixels moves the area a little past [s_l, s_h].
            assert!((0.01..0.46).contains(&fraction), "{fraction}");
            areas += fraction as f64;
            tall += usize::from(h > w);
            wide += usize::from(w > h);
            for (k, &v) in out.iter().enumerate() {
                let (i, j) = (k / side, k % side);
                let inside = (y..y + h).contains(&i) && (x..x + w).contains(&j);
                assert_eq!(inside, v != 2.0, "pixel ({i}, {j}) of {x} {y} {w} {h}");
                assert!(!inside || (0.0..1.0).contains(&v), "{v}");
            }
        }
        // Half the images, within 4 standard deviations of 2000.
        assert!(erased.abs_diff(trials / 2) < 130, "{erased}");
        // Large rectangles fit less often, so the kept areas average below (s_l + s_h)/2 = 0.21.
        let mean = areas / erased as f64;
        assert!((0.1..0.21).contains(&mean), "mean area {mean}");
        // The paper's ratio H/W is uniform in [0.3, 3.33]: above 1 for (3.33 − 1)/3.03 = 77% of
        // the draws (torchvision draws it log-uniform instead, half and half).
        let tall_share = tall as f64 / (tall + wide) as f64;
        assert!(
            (0.7..0.85).contains(&tall_share),
            "{tall} tall, {wide} wide"
        );
    }

    #[test]
    fn probability_zero_and_one() {
        let mut out = vec![0.5f32; 784];
        for i in 0..100 {
            assert!(erase(0.0, 28, &mut image_rng(1, 0, i), &mut out).is_none());
            assert!(erase(1.0, 28, &mut image_rng(1, 0, i), &mut out).is_some());
        }
    }
}

//! Steps 3 to 6 of the recipe: from grayscale bytes to an ink map, ink high and paper exactly
//! zero. A working copy of at most [`WORK_SIDE`] pixels a side; the background's level from the
//! border, which decides whether the image is dark ink on light paper (inverted) or light on
//! dark (kept); the paper's uneven lighting fitted as a smooth surface and subtracted; what is
//! not clearly ink cut away by thresholds, the rest stretched; specks erased.
//!
//! What it is not: decoding ([`super::decoding`]) or the crop, scale and centring into 28x28
//! ([`super::mnist_form`]). The constants' doc comments give the numbers behind them.

use super::Plane;
use crate::data::batch::normalise_pixel;
use image::GrayImage;
use image::imageops;

/// Images whose longer side is longer are shrunk to this first: a digit drawn on a quarter of
/// such an image is still 256 pixels tall, far more than the 20 it ends as, and the steps after
/// work on at most a megapixel whatever the photo's size.
pub const WORK_SIDE: usize = 1024;

/// A border pixel median above this (0 black .. 1 white) means a light background: the image is
/// inverted.
pub const LIGHT_BACKGROUND: f32 = 0.5;
/// The faintest ink contrast accepted, as a fraction of full scale: below, the image counts as
/// blank (a photo of empty paper varies by less after its lighting is removed).
pub const MIN_CONTRAST: f32 = 0.1;
/// Ink fainter than this fraction of the ink's own contrast is cut away, whatever the noise:
/// JPEG ringing around strokes, paper texture and what is left of the lighting. Measured with
/// `examples/user_images.rs` and the default model, on the 2,000 redrawn digits (and on the
/// MNIST test set as it is): 0.15 reads 98.00% (98.02%), 0.2 98.00% (97.87%), 0.25 97.80%
/// (97.74%); earlier, on 1,000 digits, 0.1 read 97.5% and 0.35 97.2%. Of the two that tie, 0.2
/// leaves more margin above JPEG ringing and paper texture.
pub const INK_CUT: f32 = 0.2;
/// A piece of ink whose mass is under this fraction of the largest piece's is a speck, and
/// erased: a broken-off stroke of a digit (the bar of a 5) is rarely under a fifth of the rest,
/// a speck of dust far smaller.
pub const SPECK_MASS: f32 = 0.05;
/// A piece of ink whose longer side is under this fraction of the largest piece's is a speck
/// too, however dark: a blot of ink is small beside a digit, but can weigh more than a
/// twentieth of a digit drawn with a fine pen.
pub const SPECK_EXTENT: f32 = 0.15;

// ---- 3.-4. working copy, polarity -------------------------------------------------------------

/// The image as `f32` in `[0, 1]` (0 black), shrunk by area averaging so that its longer side is
/// at most [`WORK_SIDE`].
pub(super) fn working_copy(gray: &[u8], width: usize, height: usize) -> Plane {
    let longer = width.max(height);
    let (width, height, bytes) = if longer > WORK_SIDE {
        let scale = WORK_SIDE as f64 / longer as f64;
        let w = ((width as f64 * scale).round() as u32).max(1);
        let h = ((height as f64 * scale).round() as u32).max(1);
        let image = GrayImage::from_raw(width as u32, height as u32, gray.to_vec())
            .expect("one byte per pixel");
        let small = imageops::thumbnail(&image, w, h);
        (
            w as usize,
            h as usize,
            std::borrow::Cow::Owned(small.into_raw()),
        )
    } else {
        (width, height, std::borrow::Cow::Borrowed(gray))
    };
    Plane {
        width,
        height,
        data: bytes.iter().map(|&p| normalise_pixel(p)).collect(),
    }
}

/// The median of the pixels in a ring along the border, 1/50 of the shorter side wide (at least
/// one pixel): the background's level, since people draw digits away from the edges.
pub(super) fn border_median(image: &Plane) -> f32 {
    let (w, h) = (image.width, image.height);
    let ring = (w.min(h) / 50).max(1);
    let mut border = Vec::new();
    for (y, row) in image.data.chunks_exact(w).enumerate() {
        if y < ring || y + ring >= h {
            border.extend_from_slice(row);
        } else {
            border.extend_from_slice(&row[..ring.min(w)]);
            border.extend_from_slice(&row[w.saturating_sub(ring).max(ring.min(w))..]);
        }
    }
    median(&mut border)
}

/// Ink as high values, paper as low, as in MNIST: `1 − g` if the background is light
/// (`inverted`), `g` as it is otherwise.
pub(super) fn ink_map(mut image: Plane, inverted: bool) -> Plane {
    if inverted {
        for v in &mut image.data {
            *v = 1.0 - *v;
        }
    }
    image
}

// ---- 5. background and noise ------------------------------------------------------------------

/// Removes the paper from an ink map, leaving ink in `(0, 1]` and exact zeros elsewhere; returns
/// the ink's contrast, or why there is no ink.
///
/// - the paper's level, uneven under real light, is modelled as a smooth surface
///   ([`fit_background`]) and subtracted: `r = ink − background`;
/// - the paper's noise `σ` is the spread of `r` over the paper (1.4826 × median absolute
///   deviation, which equals the standard deviation for Gaussian noise);
/// - the ink's contrast `C` is the 90th percentile of the pixels clearly above the paper
///   (`r > max(4σ, 0.03)`), i.e. the level of the strokes' cores;
/// - everything below the cut `t = max(4σ, INK_CUT·C)` is paper, what is above is stretched so
///   that the strokes' cores reach 1: `v = clamp((r − t) / (C − t), 0, 1)`.
pub(super) fn remove_background(ink: &mut Plane) -> std::result::Result<f32, String> {
    let fit = fit_background(ink);
    fit.subtract_from(ink);
    let floor = (4.0 * fit.noise).max(0.03);
    let mut marks: Vec<f32> = ink.data.iter().copied().filter(|&r| r > floor).collect();
    if marks.is_empty() {
        return Err("the image is blank: nothing stands out from the background".into());
    }
    let contrast = percentile(&mut marks, 0.9);
    if contrast < MIN_CONTRAST || contrast < 2.0 * floor {
        return Err(format!(
            "the darkest marks differ from the background by only {:.0}% of full scale: \
             is the image blank, or the digit very faint?",
            100.0 * contrast
        ));
    }
    let cut = floor.max(INK_CUT * contrast);
    for v in &mut ink.data {
        *v = ((*v - cut) / (contrast - cut)).clamp(0.0, 1.0);
    }
    Ok(contrast)
}

/// A smooth background `b(x, y) = c0 + c1·x + c2·y + c3·x² + c4·x·y + c5·y²` (`x`, `y` scaled
/// to `[−1, 1]`), and the noise around it.
#[derive(Debug, Clone, Copy)]
struct Background {
    coefficients: [f64; 6],
    /// `σ` of the paper's pixels around the surface.
    noise: f32,
}

impl Background {
    /// `image − b`, pixel by pixel: the fast form of [`surface`], which the tests hold it to.
    /// Along a row `y` is fixed, so `b = k0 + k1·x + c3·x²` with `k0 = c0 + c2·y + c5·y²` and
    /// `k1 = c1 + c4·y`.
    fn subtract_from(&self, image: &mut Plane) {
        let [c0, c1, c2, c3, c4, c5] = self.coefficients;
        let xs: Vec<f64> = (0..image.width).map(|x| unit(x, image.width)).collect();
        for (y, row) in image.data.chunks_exact_mut(image.width).enumerate() {
            let y = unit(y, image.height);
            let (k0, k1) = (c0 + c2 * y + c5 * y * y, c1 + c4 * y);
            for (v, &x) in row.iter_mut().zip(&xs) {
                *v -= (k0 + (k1 + c3 * x) * x) as f32;
            }
        }
    }
}

/// Pixel index `i` of `n` scaled to `[−1, 1]`.
fn unit(i: usize, n: usize) -> f64 {
    if n <= 1 {
        0.0
    } else {
        2.0 * i as f64 / (n - 1) as f64 - 1.0
    }
}

/// The surface's six basis functions at `(x, y)` (scaled to `[−1, 1]`): `1, x, y, x², x·y, y²`.
fn quadratic_terms(x: f64, y: f64) -> [f64; 6] {
    [1.0, x, y, x * x, x * y, y * y]
}

/// The surface `b = Σ cᵢ·tᵢ` at a point given by its [`quadratic_terms`] `t`, term by term: the
/// plain reference, which the fit's residuals use and [`Background::subtract_from`] computes
/// faster, factored row by row.
fn surface(coefficients: &[f64; 6], terms: &[f64; 6]) -> f64 {
    terms.iter().zip(coefficients).map(|(t, c)| t * c).sum()
}

/// Fits the paper's level as a quadratic surface (a lighting gradient, a vignette), by least
/// squares on a grid of at most 96x96 sampled pixels: first on the grid's outer two rows and
/// columns (the border, paper by assumption), then up to five times on every sample not more
/// than 2.5σ above the last fit (which leaves out the ink), stopping once those samples no longer
/// change. Starting from the border keeps the ink out
/// of the first fit: fitted to all pixels, a quadratic can bulge into a dome over a bold digit
/// and take it for background. Images smaller than 8 pixels on a side get a flat background.
fn fit_background(ink: &Plane) -> Background {
    fit_background_rounds(ink, true).0
}

/// [`fit_background`], and how many fits it made: with `stop_when_settled`, as soon as the kept
/// samples stop changing (every later round would repeat the last: the same samples give the
/// same fit); without, all six, which the tests compare it with.
fn fit_background_rounds(ink: &Plane, stop_when_settled: bool) -> (Background, usize) {
    let (w, h) = (ink.width, ink.height);
    let step = w.max(h).div_ceil(96).max(1);
    let (gw, gh) = (w.div_ceil(step), h.div_ceil(step));
    let samples: Vec<([f64; 6], f32)> = (0..h)
        .step_by(step)
        .flat_map(|y| (0..w).step_by(step).map(move |x| (x, y)))
        .map(|(x, y)| (quadratic_terms(unit(x, w), unit(y, h)), ink.at(x, y)))
        .collect();
    let terms = if w >= 8 && h >= 8 { 6 } else { 1 };
    let mut keep: Vec<bool> = (0..gh)
        .flat_map(|gy| (0..gw).map(move |gx| (gx, gy)))
        .map(|(gx, gy)| gx < 2 || gy < 2 || gx + 2 >= gw || gy + 2 >= gh)
        .collect();
    let mut fit = flat(&samples, &keep);
    let mut rounds = 0;
    for _ in 0..6 {
        rounds += 1;
        fit.coefficients = least_squares(&samples, &keep, terms)
            .unwrap_or_else(|| flat(&samples, &keep))
            .coefficients;
        let residual = |(t, v): &([f64; 6], f32)| *v - surface(&fit.coefficients, t) as f32;
        let mut kept: Vec<f32> = samples
            .iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|(s, _)| residual(s))
            .collect();
        let centre = median(&mut kept);
        let mut deviations: Vec<f32> = kept.iter().map(|r| (r - centre).abs()).collect();
        fit.noise = 1.4826 * median(&mut deviations);
        let limit = centre + 2.5 * fit.noise + 0.005;
        let mut changed = false;
        for (k, s) in keep.iter_mut().zip(&samples) {
            let now = residual(s) <= limit;
            changed |= now != *k;
            *k = now;
        }
        if stop_when_settled && !changed {
            break;
        }
    }
    (fit, rounds)
}

/// The flat background: the median of the kept samples.
fn flat(samples: &[([f64; 6], f32)], keep: &[bool]) -> Background {
    let mut values: Vec<f32> = samples
        .iter()
        .zip(keep)
        .filter(|(_, k)| **k)
        .map(|(s, _)| s.1)
        .collect();
    let mut coefficients = [0.0; 6];
    coefficients[0] = if values.is_empty() {
        0.0
    } else {
        median(&mut values) as f64
    };
    Background {
        coefficients,
        noise: 0.0,
    }
}

/// Least squares on the first `terms` basis functions over the kept samples: solves the normal
/// equations `(Aᵀ·A)·c = Aᵀ·v` by Gaussian elimination with partial pivoting. `None` if they
/// are singular (too few or degenerate samples).
fn least_squares(samples: &[([f64; 6], f32)], keep: &[bool], terms: usize) -> Option<Background> {
    let mut ata = [[0.0f64; 6]; 6];
    let mut atv = [0.0f64; 6];
    let mut count = 0;
    for ((t, v), _) in samples.iter().zip(keep).filter(|(_, k)| **k) {
        count += 1;
        for i in 0..terms {
            atv[i] += t[i] * *v as f64;
            for j in 0..terms {
                ata[i][j] += t[i] * t[j];
            }
        }
    }
    if count < terms * 4 {
        return None;
    }
    // Forward elimination, then back substitution.
    for col in 0..terms {
        let pivot =
            (col..terms).max_by(|&a, &b| ata[a][col].abs().total_cmp(&ata[b][col].abs()))?;
        if ata[pivot][col].abs() < 1e-9 * count as f64 {
            return None;
        }
        ata.swap(col, pivot);
        atv.swap(col, pivot);
        let pivot_row = ata[col];
        for row in col + 1..terms {
            let factor = ata[row][col] / pivot_row[col];
            for (a, p) in ata[row][col..terms].iter_mut().zip(&pivot_row[col..terms]) {
                *a -= factor * p;
            }
            atv[row] -= factor * atv[col];
        }
    }
    let mut coefficients = [0.0; 6];
    for row in (0..terms).rev() {
        let known: f64 = (row + 1..terms)
            .map(|k| ata[row][k] * coefficients[k])
            .sum();
        coefficients[row] = (atv[row] - known) / ata[row][row];
    }
    Some(Background {
        coefficients,
        noise: 0.0,
    })
}

// ---- 6. specks --------------------------------------------------------------------------------

/// Erases the specks: pieces of ink (8-connected pixels above 0) much smaller than the largest
/// piece, either in mass (sum of values, under [`SPECK_MASS`] of the largest's) or in extent
/// (longer side under [`SPECK_EXTENT`] of the largest's). Returns how many were erased.
pub(super) fn remove_specks(ink: &mut Plane) -> usize {
    let (w, h) = (ink.width, ink.height);
    // piece[i]: 0 for paper, else 1 + the index of the pixel's piece.
    let mut piece = vec![0u32; w * h];
    let mut pieces: Vec<Piece> = Vec::new();
    let mut stack = Vec::new();
    for start in 0..w * h {
        if ink.data[start] <= 0.0 || piece[start] != 0 {
            continue;
        }
        let label = pieces.len() as u32 + 1;
        let mut p = Piece {
            mass: 0.0,
            x0: w,
            y0: h,
            x1: 0,
            y1: 0,
        };
        piece[start] = label;
        stack.push(start);
        while let Some(i) = stack.pop() {
            let (x, y) = (i % w, i / w);
            p.mass += ink.data[i];
            (p.x0, p.y0, p.x1, p.y1) = (p.x0.min(x), p.y0.min(y), p.x1.max(x), p.y1.max(y));
            for ny in y.saturating_sub(1)..=(y + 1).min(h - 1) {
                for nx in x.saturating_sub(1)..=(x + 1).min(w - 1) {
                    let j = ny * w + nx;
                    if ink.data[j] > 0.0 && piece[j] == 0 {
                        piece[j] = label;
                        stack.push(j);
                    }
                }
            }
        }
        pieces.push(p);
    }
    let Some(largest) = pieces.iter().max_by(|a, b| a.mass.total_cmp(&b.mass)) else {
        return 0;
    };
    let (mass, extent) = (largest.mass, largest.extent());
    let is_speck: Vec<bool> = pieces
        .iter()
        .map(|p| p.mass < SPECK_MASS * mass || (p.extent() as f32) < SPECK_EXTENT * extent as f32)
        .collect();
    for (v, &p) in ink.data.iter_mut().zip(&piece) {
        if p != 0 && is_speck[p as usize - 1] {
            *v = 0.0;
        }
    }
    is_speck.iter().filter(|&&s| s).count()
}

/// A connected piece of ink: its mass and bounding box (inclusive).
struct Piece {
    mass: f32,
    x0: usize,
    y0: usize,
    x1: usize,
    y1: usize,
}

impl Piece {
    /// The longer side of its bounding box, in pixels.
    fn extent(&self) -> usize {
        (self.x1 - self.x0).max(self.y1 - self.y0) + 1
    }
}

// ---- helpers ----------------------------------------------------------------------------------

/// The median of `values` (reordered; 0 for none).
fn median(values: &mut [f32]) -> f32 {
    percentile(values, 0.5)
}

/// The value at fraction `q` of the way through `values` sorted (reordered; 0 for none).
fn percentile(values: &mut [f32], q: f32) -> f32 {
    if values.is_empty() {
        return 0.0;
    }
    let k = ((values.len() - 1) as f32 * q).round() as usize;
    *values.select_nth_unstable_by(k, f32::total_cmp).1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::preprocess::preprocess_gray;
    use crate::preprocess::test_images::{NAME, page_with_bar};
    use std::path::Path;

    #[test]
    fn large_images_are_shrunk_to_the_working_side_first() {
        let (w, h) = (3000, 1500);
        let gray = page_with_bar(w, h, (1400, 300, 1550, 1200));
        let p = preprocess_gray(&gray, w, h, Path::new(NAME)).unwrap();
        assert_eq!((p.width, p.height), (3000, 1500));
        // The crop is reported in the image's own pixels, to within the shrink factor (~3).
        assert!((p.crop.x as i32 - 1400).abs() <= 3, "{:?}", p.crop);
        assert!((p.crop.height as i32 - 900).abs() <= 6, "{:?}", p.crop);
    }

    #[test]
    fn light_ink_on_a_dark_field_is_not_inverted() {
        let gray: Vec<u8> = page_with_bar(60, 60, (20, 10, 30, 50))
            .iter()
            .map(|&v| 255 - v)
            .collect();
        let p = preprocess_gray(&gray, 60, 60, Path::new(NAME)).unwrap();
        assert!(!p.inverted);
        let dark = preprocess_gray(
            &page_with_bar(60, 60, (20, 10, 30, 50)),
            60,
            60,
            Path::new(NAME),
        )
        .unwrap();
        assert_eq!(p.pixels, dark.pixels);
    }

    #[test]
    fn a_lighting_gradient_does_not_become_ink() {
        // Paper from 250 on the left to 120 on the right, a bar of ink 60 darker than it.
        let (w, h) = (200, 120);
        let gray: Vec<u8> = (0..h)
            .flat_map(|y| (0..w).map(move |x| (x, y)))
            .map(|(x, y)| {
                let paper = 250.0 - 130.0 * x as f32 / w as f32;
                let ink = (90..110).contains(&x) && (20..100).contains(&y);
                (paper - if ink { 60.0 } else { 0.0 }) as u8
            })
            .collect();
        let p = preprocess_gray(&gray, w, h, Path::new(NAME)).unwrap();
        assert_eq!(
            (p.crop.x, p.crop.width, p.crop.y, p.crop.height),
            (90, 20, 20, 80)
        );
    }

    #[test]
    fn specks_are_erased_and_left_out_of_the_crop() {
        let mut gray = page_with_bar(100, 100, (40, 20, 50, 80));
        for (x, y) in [(5, 5), (90, 92), (93, 10)] {
            gray[y * 100 + x] = 0;
        }
        let p = preprocess_gray(&gray, 100, 100, Path::new(NAME)).unwrap();
        assert_eq!(p.specks, 3);
        assert_eq!(
            (p.crop.x, p.crop.y, p.crop.width, p.crop.height),
            (40, 20, 10, 60)
        );
    }

    #[test]
    fn a_blank_page_has_no_digit() {
        for level in [0, 128, 255] {
            let err = preprocess_gray(&vec![level; 50 * 40], 50, 40, Path::new(NAME)).unwrap_err();
            assert!(matches!(err, Error::NoDigit { .. }), "{err}");
            assert!(
                err.to_string().starts_with("test.png: no digit found"),
                "{err}"
            );
        }
    }

    #[test]
    fn the_least_squares_fit_recovers_a_quadratic_surface() {
        let (w, h) = (50, 30);
        let truth = [0.3, 0.05, -0.1, 0.02, 0.01, -0.03];
        let data = (0..h)
            .flat_map(|y| (0..w).map(move |x| (x, y)))
            .map(|(x, y)| surface(&truth, &quadratic_terms(unit(x, w), unit(y, h))) as f32)
            .collect();
        let fit = fit_background(&Plane {
            width: w,
            height: h,
            data,
        });
        for (c, t) in fit.coefficients.iter().zip(truth) {
            assert!((c - t).abs() < 1e-4, "{:?} vs {truth:?}", fit.coefficients);
        }
    }

    #[test]
    fn the_fit_stops_once_settled_with_the_bits_of_all_six_rounds() {
        // A canvas drawing (black paper, a white bar), a photo-like page (a lighting gradient,
        // noise and a dark bar) and a dark page with light ink.
        let mut noise = 17u32;
        let mut jitter = move || {
            noise = noise.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (noise >> 16) as f32 / 65_536.0 * 0.04
        };
        let drawing = |x: usize, y: usize| {
            if (12..16).contains(&x) && (4..24).contains(&y) {
                1.0
            } else {
                0.0
            }
        };
        let mut pages: Vec<Plane> = Vec::new();
        pages.push(Plane {
            width: 28,
            height: 28,
            data: (0..28 * 28).map(|i| drawing(i % 28, i / 28)).collect(),
        });
        let (w, h) = (120, 90);
        let photo = (0..w * h)
            .map(|i| {
                let (x, y) = (i % w, i / w);
                let paper = 0.1 + 0.3 * x as f32 / w as f32 + jitter();
                paper
                    + if (50..62).contains(&x) && (15..75).contains(&y) {
                        0.5
                    } else {
                        0.0
                    }
            })
            .collect();
        pages.push(Plane {
            width: w,
            height: h,
            data: photo,
        });
        let dark = (0..60 * 60)
            .map(|i| {
                0.8 - if (20..30).contains(&(i % 60)) {
                    0.6
                } else {
                    jitter()
                }
            })
            .collect();
        pages.push(Plane {
            width: 60,
            height: 60,
            data: dark,
        });
        for (k, page) in pages.iter().enumerate() {
            let ((early, rounds), (all, six)) = (
                fit_background_rounds(page, true),
                fit_background_rounds(page, false),
            );
            assert_eq!(six, 6);
            assert_eq!(
                early.coefficients.map(f64::to_bits),
                all.coefficients.map(f64::to_bits),
                "page {k}"
            );
            assert_eq!(early.noise.to_bits(), all.noise.to_bits(), "page {k}");
            if k == 0 {
                assert!(
                    rounds < 6,
                    "a clean drawing settles at once, not after {rounds} fits"
                );
            }
        }
    }

    #[test]
    fn subtracting_the_background_row_by_row_matches_the_plain_surface() {
        let (w, h) = (37, 23);
        let background = Background {
            coefficients: [0.4, -0.07, 0.12, 0.05, -0.02, 0.03],
            noise: 0.0,
        };
        let image = Plane {
            width: w,
            height: h,
            data: (0..w * h).map(|i| (i % 7) as f32 / 7.0).collect(),
        };
        let mut fast = image.clone();
        background.subtract_from(&mut fast);
        let mut largest = 0.0f32;
        for y in 0..h {
            for x in 0..w {
                let t = quadratic_terms(unit(x, w), unit(y, h));
                let plain = image.at(x, y) - surface(&background.coefficients, &t) as f32;
                largest = largest.max((fast.at(x, y) - plain).abs());
            }
        }
        assert!(largest < 1e-6, "largest difference {largest:e}");
    }
}

//! The elastic field of Simard, Steinkraus & Platt (2003, §2): for every pixel a displacement
//! `(Δx, Δy)` from noise `U`, uniform in `(−1, 1)`, smoothed by a Gaussian of width `σ` and
//! scaled by the strength `α`:
//!
//! ```text
//! Δ = α · (G_σ * U),   G_σ(k, l) = g(k)·g(l)
//! ```
//!
//! [`FieldScratch::draw`] smooths in two 1-D passes ([`symmetric_convolve`]), the same sum as
//! the 2-D one because the kernel is a product; `elastic_field_naive`, the plain 2-D sum, is the
//! reference it is tested against.
//!
//! What it is not: where the field goes. `Distortion::draw_into` (`warp.rs`) draws it after the
//! affine numbers of an image, from the same random stream, and `Distortion::resample` adds it
//! to each pixel's source point. Shapes: a field is `(S, S, 2)`, the `(Δx, Δy)` of each output
//! pixel, row by row, in pixels.

use rand::Rng;

/// Fills `noise` with independent numbers uniform in `(−1, 1)`: Simard's `rand(−1, +1)`, at 16
/// bits each, `(2k + 1)/2¹⁶ − 1` for `k` uniform in `0..2¹⁶`, the next 16 bits of the random
/// stream (two bytes, little-endian).
///
/// 16 bits is plenty, as the field is then averaged over hundreds of pixels, and it halves the
/// random numbers to make. The bytes are drawn 256 at a time, ChaCha's own batch, and converted
/// in a loop the compiler vectorises.
pub(super) fn uniform_field(rng: &mut impl Rng, noise: &mut [f32]) {
    const STEP: f32 = 1.0 / (1u32 << 16) as f32;
    let mut bytes = [0u8; 256];
    for chunk in noise.chunks_mut(bytes.len() / 2) {
        let bytes = &mut bytes[..2 * chunk.len()];
        rng.fill_bytes(bytes);
        for (v, pair) in chunk.iter_mut().zip(bytes.chunks_exact(2)) {
            let k = u16::from_le_bytes([pair[0], pair[1]]);
            *v = (2 * u32::from(k) + 1) as f32 * STEP - 1.0;
        }
    }
}

/// Half of the normalised, truncated Gaussian: `g(t) = e^(−t²/2σ²) / Σ_{t'=−R..R} e^(−t'²/2σ²)`
/// for `t = 0..=R`, `R = ⌈3σ⌉`, so that `g(0) + 2·Σ_{t≥1} g(t) = 1` (`[1]` for `σ ≤ 0`).
///
/// For `σ = 4`: `R = 12`, 13 weights, `g(0) = 0.0999`; the tails cut off held 0.27% of the weight.
fn half_gaussian_kernel(sigma: f32, half_kernel: &mut Vec<f32>) {
    half_kernel.clear();
    if sigma.is_nan() || sigma <= 0.0 {
        half_kernel.push(1.0);
        return;
    }
    let radius = (3.0 * sigma).ceil() as usize;
    let two_sigma_squared = 2.0 * sigma as f64 * sigma as f64;
    let weight = |t: usize| (-((t * t) as f64) / two_sigma_squared).exp();
    let total: f64 = weight(0) + 2.0 * (1..=radius).map(weight).sum::<f64>();
    half_kernel.extend((0..=radius).map(|t| (weight(t) / total) as f32));
}

/// What drawing an elastic field needs besides the field itself, kept from image to image so that
/// drawing allocates nothing: the kernel for `sigma`, and the buffers, whose borders of zeros
/// stay as they are while `layout` does.
#[derive(Debug, Clone)]
pub(super) struct FieldScratch {
    /// `g(0..=R)` of [`half_gaussian_kernel`] for `sigma`.
    half_kernel: Vec<f32>,
    sigma: f32,
    /// `(S, R)` the buffers are laid out for.
    layout: (usize, usize),
    /// `(S + 2R, S, 2)`: the noise `U`, with `R` rows of zeros above and below.
    noise: Vec<f32>,
    /// `(S, S, 2)`: `T`, the noise smoothed down the columns.
    columns: Vec<f32>,
    /// `(S + 2R, 2)`: one row of `T`, with `R` pixels of zeros before and after.
    row: Vec<f32>,
}

impl FieldScratch {
    pub(super) fn new() -> Self {
        FieldScratch {
            half_kernel: Vec::new(),
            sigma: f32::NAN,
            layout: (0, 0),
            noise: Vec::new(),
            columns: Vec::new(),
            row: Vec::new(),
        }
    }

    /// Simard's elastic field: `Δ = α · (G_σ * U)`, both components, written to `displacement`
    /// as `(S, S, 2)`, where `U` is uniform noise in `(−1, 1)` from [`uniform_field`] (0 outside
    /// the image) and `G_σ(k, l) = g(k)·g(l)` the 2-D Gaussian of [`half_gaussian_kernel`].
    ///
    /// The 2-D convolution is done as two 1-D ones, which is the same sum because the kernel is
    /// a product: down the columns, `T(i, j) = Σ_k g(k)·U(i + k, j)`, then along the rows,
    /// `Δ(i, j) = α·Σ_l g(l)·T(i, j + l)`. For `σ = 4` that is 25 + 25 multiply-adds per value
    /// instead of 625.
    pub(super) fn draw(
        &mut self,
        alpha: f32,
        sigma: f32,
        side: usize,
        rng: &mut impl Rng,
        displacement: &mut Vec<f32>,
    ) {
        if self.sigma != sigma {
            half_gaussian_kernel(sigma, &mut self.half_kernel);
            self.sigma = sigma;
        }
        let radius = self.half_kernel.len() - 1;
        let width = 2 * side; // one row of (Δx, Δy) pairs
        if self.layout != (side, radius) {
            self.layout = (side, radius);
            for (buffer, len) in [
                (&mut self.noise, (side + 2 * radius) * width),
                (&mut self.columns, side * width),
                (&mut self.row, width + 4 * radius),
            ] {
                buffer.clear();
                buffer.resize(len, 0.0);
            }
        }
        uniform_field(
            rng,
            &mut self.noise[radius * width..(radius + side) * width],
        );
        // Down the columns: rows of U, `width` values apart.
        symmetric_convolve(
            &self.half_kernel,
            width,
            1.0,
            &self.noise,
            &mut self.columns,
        );
        // Along each row: pairs, 2 values apart, times α.
        displacement.resize(side * width, 0.0);
        let inside = 2 * radius..2 * radius + width;
        for (out, t) in displacement
            .chunks_exact_mut(width)
            .zip(self.columns.chunks_exact(width))
        {
            self.row[inside.clone()].copy_from_slice(t);
            symmetric_convolve(&self.half_kernel, 2, alpha, &self.row, out);
        }
    }
}

/// A 1-D convolution with a symmetric kernel, on every `step`-th value: for `e = 0..out.len()`,
///
/// ```text
/// out[e] = scale · (g(0)·x[e + R·step] + Σ_{l=1..R} g(l)·(x[e + (R−l)·step] + x[e + (R+l)·step]))
/// ```
///
/// where `half_kernel` is `g(0..=R)` and `x` holds the input with `R·step` zeros before and after
/// it, so that no read falls outside. Adding the two values that share a weight before
/// multiplying halves the multiplications. One tap at a time over the whole output: each is a
/// plain loop over consecutive values, which the compiler vectorises. (Summing blocks of
/// sixteen outputs in registers instead measured no faster.)
fn symmetric_convolve(half_kernel: &[f32], step: usize, scale: f32, x: &[f32], out: &mut [f32]) {
    let radius = half_kernel.len() - 1;
    let n = out.len();
    debug_assert_eq!(x.len(), n + 2 * radius * step);
    for (o, &centre) in out.iter_mut().zip(&x[radius * step..][..n]) {
        *o = half_kernel[0] * centre;
    }
    for (l, &g) in half_kernel.iter().enumerate().skip(1) {
        let before = &x[(radius - l) * step..][..n];
        let after = &x[(radius + l) * step..][..n];
        for ((o, &b), &a) in out.iter_mut().zip(before).zip(after) {
            *o += g * (b + a);
        }
    }
    for o in out.iter_mut() {
        *o *= scale;
    }
}

/// `g(−R..=R)` from `g(0..=R)` of [`half_gaussian_kernel`], for the reference and the tests.
#[cfg(test)]
fn full_kernel(sigma: f32) -> Vec<f32> {
    let mut half = Vec::new();
    half_gaussian_kernel(sigma, &mut half);
    half.iter().rev().chain(&half[1..]).copied().collect()
}

/// The naive reference [`FieldScratch::draw`] is tested against: the smoothing as the plain
/// 2-D sum, `Δ(i, j) = α · Σ_k Σ_l g(k)·g(l)·U(i + k, j + l)`, 0 outside, for `(S, S, 2)`
/// noise `U` (the numbers `draw` gets from [`uniform_field`]), in `f64`, 625 terms a value
/// for `σ = 4`.
///
/// Only in test builds: its fast twin is private to this module, so outside the tests
/// nothing could call it.
#[cfg(test)]
fn elastic_field_naive(alpha: f32, sigma: f32, side: usize, noise: &[f32]) -> Vec<f32> {
    let kernel = full_kernel(sigma);
    let r = (kernel.len() / 2) as isize;
    let inside = |v: isize| (0..side as isize).contains(&v);
    let mut field = vec![0.0; noise.len()];
    for i in 0..side as isize {
        for j in 0..side as isize {
            for c in 0..2 {
                let mut sum = 0.0f64;
                for k in -r..=r {
                    for l in -r..=r {
                        if inside(i + k) && inside(j + l) {
                            let u = noise[2 * ((i + k) as usize * side + (j + l) as usize) + c];
                            let g = kernel[(k + r) as usize] * kernel[(l + r) as usize];
                            sum += g as f64 * u as f64;
                        }
                    }
                }
                field[2 * (i as usize * side + j as usize) + c] = alpha * sum as f32;
            }
        }
    }
    field
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::augment::warp::symmetric_uniform;
    use crate::augment::{Augment, Distortion};
    use crate::rng::image_rng;

    #[test]
    fn the_kernel_is_a_normalised_symmetric_gaussian() {
        let kernel = full_kernel(4.0);
        assert_eq!(kernel.len(), 25);
        assert!((kernel.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!((kernel[12] - 0.0999).abs() < 1e-4, "{}", kernel[12]);
        assert!((kernel[12 + 4] / kernel[12] - (-0.5f32).exp()).abs() < 1e-6);
        assert_eq!(full_kernel(0.0), [1.0]);
    }

    #[test]
    fn the_separable_smoothing_matches_the_two_dimensional_sum() {
        let mut scratch = FieldScratch::new();
        let mut field = Vec::new();
        // Even and odd sizes, kernels wider than the image, and the buffers reused across
        // sizes and kernels.
        for (side, sigma) in [
            (28, 4.0),
            (9, 4.0),
            (10, 1.5),
            (5, 0.0),
            (3, 2.0),
            (28, 4.0),
        ] {
            let mut rng = image_rng(3, 0, side);
            let mut noise = vec![0.0; 2 * side * side];
            uniform_field(&mut rng.clone(), &mut noise);
            scratch.draw(8.0, sigma, side, &mut rng, &mut field);
            let naive = elastic_field_naive(8.0, sigma, side, &noise);
            let largest = field
                .iter()
                .zip(&naive)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f32::max);
            assert!(
                largest < 1e-5,
                "side {side}, σ {sigma}: differs by {largest}"
            );
        }
    }

    #[test]
    fn uniform_noise_is_symmetric_and_fills_the_range() {
        let mut noise = vec![0.0; 10_001];
        uniform_field(&mut image_rng(0, 0, 0), &mut noise);
        let mean = noise.iter().sum::<f32>() / noise.len() as f32;
        let (low, high) = noise
            .iter()
            .fold((1.0f32, -1.0f32), |(l, h), &v| (l.min(v), h.max(v)));
        assert!(mean.abs() < 0.02, "mean {mean}");
        assert!(low > -1.0 && low < -0.99 && high < 1.0 && high > 0.99);
        assert_eq!(symmetric_uniform(0), -symmetric_uniform(u32::MAX));
        assert!(symmetric_uniform(u32::MAX) < 1.0);
    }

    /// Mean squared difference between the displacements of pixels `offset` apart along a row.
    fn mean_squared_difference(field: &[f32], side: usize, offset: usize) -> f32 {
        let mut sum = 0.0;
        let mut count = 0;
        for i in 0..side {
            for j in 0..side - offset {
                let (p, q) = (2 * (i * side + j), 2 * (i * side + j + offset));
                sum += (field[p] - field[q]).powi(2) + (field[p + 1] - field[q + 1]).powi(2);
                count += 2;
            }
        }
        sum / count as f32
    }

    #[test]
    fn the_elastic_field_is_smooth() {
        // Neighbours move nearly together, unlike independent draws of the same field.
        let elastic: Augment = "elastic=8/4".parse().unwrap();
        let (mut near, mut far) = (0.0, 0.0);
        for position in 0..20 {
            let d = Distortion::draw(&elastic, 28, &mut image_rng(0, 0, position));
            near += mean_squared_difference(&d.displacement, 28, 1);
            far += mean_squared_difference(&d.displacement, 28, 20);
        }
        assert!(near < 0.05 * far, "neighbours {near}, 20 apart {far}");
    }

    #[test]
    fn the_elastic_field_has_the_documented_size() {
        // In theory, away from the border: std(Δx) = α·std(U)·Σ_k g(k)², with std(U) = 1/√3
        // (the 2-D kernel's Σ g(k)²g(l)² is (Σ g²)², and its square root is Σ g²).
        let theory = full_kernel(4.0).iter().map(|g| g * g).sum::<f32>() / 3f32.sqrt();
        assert!((theory - 0.0409).abs() < 5e-5, "{theory}");
        // Measured, α = 1, on 60 x 60 images 15 pixels away from the border.
        let elastic: Augment = "elastic=1/4".parse().unwrap();
        let side = 60;
        let (mut sum, mut count) = (0.0f64, 0);
        for position in 0..100 {
            let d = Distortion::draw(&elastic, side, &mut image_rng(0, 0, position));
            for i in 15..side - 15 {
                for j in 15..side - 15 {
                    let k = 2 * (i * side + j);
                    sum += (d.displacement[k] as f64).powi(2);
                    sum += (d.displacement[k + 1] as f64).powi(2);
                    count += 2;
                }
            }
        }
        let measured = (sum / count as f64).sqrt() as f32;
        assert!(
            (measured / theory - 1.0).abs() < 0.05,
            "{measured}, theory {theory}"
        );
    }
}

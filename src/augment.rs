//! Data augmentation: every training image distorted a little, differently in every epoch.
//!
//! What it is: [`Augment`], how strongly to distort (a shift, a rotation, a scaling and the
//! elastic distortion of Simard, Steinkraus & Platt, "Best Practices for Convolutional Neural
//! Networks Applied to Visual Document Analysis", 2003, §2), parsed from and written as text such
//! as `shift=2,rotate=10,scale=0.1,elastic=10/4`; [`Distortion`], the numbers drawn for one image
//! and the one resampling that applies them; and [`image_rng`], the random numbers of each image.
//!
//! What it is not: part of the data set or of [`crate::preprocess`]. Nothing is stored:
//! [`Augment::apply`] writes a distorted copy of an image where a batch wants its inputs (in
//! place of [`normalise_pixel`]), a different one in every epoch, and the data set stays as it
//! is. It is for training images only; test images are read undistorted.
//!
//! Shapes, stated once: an image is `S x S` pixels (`S = 28` for MNIST), row-major, `u8` with
//! 0 = background and 255 = ink; the distorted image is `S·S` values `f32` in `[0, 1]`, scaled
//! like [`normalise_pixel`]. Pixel `(i, j)` is row `i`, column `j` and sits at the point
//! `p = (x, y) = (j, i)`: x to the right, y downwards, in pixels. The image centre is
//! `c = ((S − 1)/2, (S − 1)/2)`.
//!
//! One image, as a recipe: draw the shift `t`, the angle `θ`, the scale `s` and (if elastic is
//! on) the smooth displacement field `Δ` ([`Distortion::draw_into`]); then every output pixel `p`
//! reads the source image at
//!
//! ```text
//! src(p) = c + (1/s)·R(−θ)·(p − c − t) + Δ(p)
//! ```
//!
//! by bilinear interpolation, reading 0 outside the image ([`Distortion::resample`]). That is
//! the inverse of "scale by `s` and rotate by `θ` about the centre, then move by `t`", with the
//! elastic displacement added, in one interpolation so that the image is blurred only once.
//!
//! The cost per image is in [`Augment::apply`], measured with `cargo test --release --lib
//! augment::tests::time_per_image -- --ignored --nocapture` on one core of a 2.6 GHz AMD EPYC
//! (the fastest of five rounds of 20,000 MNIST images, as the machine was shared).

use crate::data::batch::normalise_pixel;
use crate::error::{Error, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::cell::RefCell;
use std::fmt;
use std::str::FromStr;

/// How to distort each training image; all zero ([`Augment::NONE`]) = no augmentation.
///
/// Every range is symmetric and every number uniform in it, drawn afresh for every image in every
/// epoch. Build one from text with `parse` (see [`Augment::from_str`]); the fields are public so
/// that code can build one too, and [`Augment::apply`] uses them as they are.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Augment {
    /// The largest translation, in pixels: `t_x` and `t_y` each uniform in `[−shift, shift]`.
    pub shift: f32,
    /// The largest rotation, in degrees: `θ` uniform in `[−r, r]`, positive = anticlockwise.
    pub rotate_degrees: f32,
    /// The largest relative scaling: the factor `s` is uniform in `[1 − scale, 1 + scale]`, one
    /// factor for both axes. Below 1.
    pub scale: f32,
    /// The strength `α` of the elastic distortion, in pixels: the smoothed uniform field is
    /// multiplied by `α`. 0 = no elastic distortion.
    pub elastic_alpha: f32,
    /// The width `σ` of the Gaussian that smooths the elastic field, in pixels: the larger, the
    /// smoother (and, for the same `α`, the smaller) the displacements. At most 100 when parsed.
    pub elastic_sigma: f32,
}

impl Augment {
    /// No augmentation: every image as it is.
    pub const NONE: Augment = Augment {
        shift: 0.0,
        rotate_degrees: 0.0,
        scale: 0.0,
        elastic_alpha: 0.0,
        elastic_sigma: 0.0,
    };

    /// The preset `affine`: `shift=2,rotate=10,scale=0.1`.
    ///
    /// Moves of up to 2 pixels, turns of up to 10° and sizes ±10%: about the spread among MNIST's
    /// own writers (its digits are centred by centre of mass, so the shift also covers that
    /// centring's error), and small enough that a 6 stays a 6 and a 1 does not become a 7.
    pub const AFFINE: Augment = Augment {
        shift: 2.0,
        rotate_degrees: 10.0,
        scale: 0.1,
        elastic_alpha: 0.0,
        elastic_sigma: 0.0,
    };

    /// The preset `elastic`: [`Augment::AFFINE`] plus `elastic=10/4` (`α = 10`, `σ = 4`).
    ///
    /// Simard et al. used `σ = 4`, `α = 34`, with the elastic distortion *on its own*. With
    /// `σ = 4` the field's standard deviation is `α · 0.0409` pixels per axis (the test
    /// `the_elastic_field_has_the_documented_size` checks it), so their `α = 34` moves the ink by
    /// 1.4 pixels on average, about as far as this whole affine preset does. Drawn on MNIST
    /// digits with one field at growing strength, strokes keep a natural look up to `α` of about
    /// 20 to 24; at 34, round loops turn pointed and straight strokes bend. Here the elastic part
    /// comes on top of the affine one, for a small fully connected network trained for a few
    /// dozen epochs, which has less capacity to spare for invariances than networks trained for
    /// hundreds; so about half that ceiling: `α = 10` moves the ink by 0.41 pixels on average and
    /// one part of a digit against a distant other by about 0.6, a quarter of a stroke's width.
    /// The change of shape is visible, the movement small beside the affine part's. `σ = 4` is
    /// Simard's: smaller and the field turns to noise that roughens strokes, larger and it
    /// becomes one more affine map. A starting point, to be tuned on real runs.
    pub const ELASTIC: Augment = Augment {
        elastic_alpha: 10.0,
        elastic_sigma: 4.0,
        ..Augment::AFFINE
    };

    /// True when [`Augment::apply`] changes nothing: no shift, rotation, scaling or elastic
    /// strength (`σ` alone does nothing).
    pub fn is_none(&self) -> bool {
        self.shift == 0.0
            && self.rotate_degrees == 0.0
            && self.scale == 0.0
            && self.elastic_alpha == 0.0
    }

    /// Distorts one `S x S` image (`u8`, row-major, 0 = background, 255 = ink) and writes it,
    /// normalised to `[0, 1]` like [`normalise_pixel`], into `out` (`S·S` values).
    ///
    /// All random numbers come from `rng` (give it [`image_rng`]). With [`Augment::NONE`] it
    /// writes exactly `normalise_pixel` of each pixel and draws nothing. Up to 28 x 28, it
    /// allocates nothing once a thread has distorted its first image of a size (larger images
    /// get a padded copy on the heap each time).
    ///
    /// Cost per 28 x 28 image, measured (see the module documentation): 2.3 µs with
    /// [`Augment::AFFINE`] and 8.9 µs with [`Augment::ELASTIC`], of which the resampling takes
    /// 2.2 µs, drawing the field's noise 0.8 µs, smoothing it 5.4 µs, and creating the image's
    /// [`image_rng`] 0.1 µs; 0.13 µs with [`Augment::NONE`].
    pub fn apply(&self, image: &[u8], side: usize, rng: &mut impl Rng, out: &mut [f32]) {
        debug_assert_eq!(image.len(), side * side);
        debug_assert_eq!(out.len(), side * side);
        if self.is_none() {
            for (o, &pixel) in out.iter_mut().zip(image) {
                *o = normalise_pixel(pixel);
            }
            return;
        }
        thread_local! {
            static DISTORTION: RefCell<Distortion> = RefCell::new(Distortion::identity());
        }
        DISTORTION.with(|d| {
            let mut d = d.borrow_mut();
            d.draw_into(self, side, rng);
            d.resample(image, side, out);
        });
    }
}

/// The random numbers for distorting the image at `position` in the order of epoch `epoch` (both
/// 0-based) of a run seeded with `seed`.
///
/// ChaCha8 keyed by `seed` like [`crate::model::init_rng`] (stream 0) and
/// [`crate::model::epoch_rng`] (stream `epoch + 1`), but on stream `2⁶³ + epoch`, so it never
/// meets their numbers, and from word `position · 2³²`: each image has 2³² words of its own (it
/// uses `4 + S²`, 788 for MNIST), for positions up to 2³⁶. ChaCha jumps to any word at no cost,
/// so the numbers of an image depend on nothing but these three values: not on threads, batch
/// boundaries or the images before it, and a resumed or multi-threaded run distorts exactly
/// like a single one.
pub fn image_rng(seed: u64, epoch: usize, position: usize) -> ChaCha8Rng {
    const AUGMENT_STREAMS: u64 = 1 << 63;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(AUGMENT_STREAMS | epoch as u64);
    rng.set_word_pos((position as u128) << 32);
    rng
}

/// The numbers drawn for one image: what [`Distortion::resample`] does to it.
///
/// Build one with [`Distortion::draw`], or by hand with [`Distortion::affine`] (the tests do).
#[derive(Debug, Clone)]
pub struct Distortion {
    /// The translation `t = (t_x, t_y)` in pixels: positive moves the ink right and down.
    pub shift_x: f32,
    pub shift_y: f32,
    /// The rotation `θ` in radians, positive = anticlockwise as seen on screen.
    pub angle: f32,
    /// The scale factor `s`: 1 = unchanged, 1.1 = the ink 10% larger.
    pub scale: f32,
    /// The elastic displacement field `Δ`, `(S, S, 2)`: `(Δx, Δy)` of each output pixel, row by
    /// row, in pixels. Empty when there is no elastic distortion.
    pub displacement: Vec<f32>,
    /// What drawing the field needs, kept for the next image.
    field: FieldScratch,
}

impl Distortion {
    /// The distortion that changes nothing: `t = 0`, `θ = 0`, `s = 1`, no field.
    pub fn identity() -> Self {
        Distortion::affine(0.0, 0.0, 0.0, 1.0)
    }

    /// A distortion without elastic field: translation `(shift_x, shift_y)` pixels, rotation
    /// `angle` radians, scale factor `scale`.
    pub fn affine(shift_x: f32, shift_y: f32, angle: f32, scale: f32) -> Self {
        Distortion {
            shift_x,
            shift_y,
            angle,
            scale,
            displacement: Vec::new(),
            field: FieldScratch::new(),
        }
    }

    /// Draws the distortion of one `S x S` image (`side = S`) from `rng`.
    pub fn draw(augment: &Augment, side: usize, rng: &mut impl Rng) -> Self {
        let mut d = Distortion::identity();
        d.draw_into(augment, side, rng);
        d
    }

    /// [`Distortion::draw`], reusing this distortion's buffers: no allocation once it has drawn
    /// a field of this size.
    ///
    /// The draws, in order: `t_x`, `t_y`, `θ`, `s` (always all four, so that turning one
    /// on keeps the others of each image as they were), then the `2·S²` numbers of the elastic
    /// field if `α ≠ 0`. With [`Augment::NONE`] it draws nothing and becomes the identity.
    pub fn draw_into(&mut self, augment: &Augment, side: usize, rng: &mut impl Rng) {
        self.displacement.clear();
        if augment.is_none() {
            (self.shift_x, self.shift_y, self.angle, self.scale) = (0.0, 0.0, 0.0, 1.0);
            return;
        }
        self.shift_x = augment.shift * symmetric_uniform(rng.next_u32());
        self.shift_y = augment.shift * symmetric_uniform(rng.next_u32());
        self.angle = (augment.rotate_degrees * symmetric_uniform(rng.next_u32())).to_radians();
        self.scale = 1.0 + augment.scale * symmetric_uniform(rng.next_u32());
        if augment.elastic_alpha != 0.0 {
            let (alpha, sigma) = (augment.elastic_alpha, augment.elastic_sigma);
            self.field
                .draw(alpha, sigma, side, rng, &mut self.displacement);
        }
    }

    /// Applies the distortion to one `S x S` image, writing `S·S` values in `[0, 1]` to `out`:
    /// output pixel `p` is the source bilinearly interpolated at
    /// `src(p) = c + (1/s)·R(−θ)·(p − c − t) + Δ(p)`, 0 outside the image, scaled by 1/255.
    ///
    /// With `R(−θ) = [[cos θ, −sin θ], [sin θ, cos θ]]` (y pointing down, so that positive `θ`
    /// turns the ink anticlockwise on screen), `a = cos θ / s`, `b = sin θ / s` and
    /// `(u, v) = p − c − t`, that is
    ///
    /// ```text
    /// src_x = c_x + a·u − b·v + Δx(p)
    /// src_y = c_y + b·u + a·v + Δy(p)
    /// ```
    ///
    /// The field is added where the affine map lands rather than rotated with it: a field of
    /// independent, isotropic random numbers is the same random field either way.
    pub fn resample(&self, image: &[u8], side: usize, out: &mut [f32]) {
        debug_assert_eq!(image.len(), side * side);
        debug_assert_eq!(out.len(), side * side);
        debug_assert!(self.displacement.is_empty() || self.displacement.len() == 2 * side * side);
        assert!(side < 1 << 20, "images up to 2²⁰ pixels a side, not {side}");
        // The image as levels 0..=255 inside a border of zeros, one row and column before it and
        // two after, so that `bilinear` reads inside without a test; on the stack up to 28 x 28.
        const ON_STACK: usize = (28 + 3) * (28 + 3);
        let width = side + 3;
        let mut on_stack = [0.0f32; ON_STACK];
        let mut on_heap = Vec::new();
        let padded: &mut [f32] = if width * width <= ON_STACK {
            &mut on_stack[..width * width]
        } else {
            on_heap.resize(width * width, 0.0);
            &mut on_heap
        };
        for (row, pixels) in padded[width..]
            .chunks_exact_mut(width)
            .zip(image.chunks_exact(side))
        {
            for (v, &pixel) in row[1..=side].iter_mut().zip(pixels) {
                *v = f32::from(pixel);
            }
        }
        if self.displacement.is_empty() {
            self.sample::<false>(padded, side, out);
        } else {
            self.sample::<true>(padded, side, out);
        }
    }

    /// The loop of [`Distortion::resample`], compiled with and without the field.
    ///
    /// Eight pixels of a row at a time ([`Sampler::block`]). When eight does not divide `S`, the
    /// last block of a row overlaps the one before and computes a few pixels again, to the same
    /// bits.
    fn sample<const ELASTIC: bool>(&self, padded: &[f32], side: usize, out: &mut [f32]) {
        let (sin, cos) = self.angle.sin_cos();
        let sampler = Sampler {
            padded,
            side,
            c: (side as f32 - 1.0) / 2.0,
            a: cos / self.scale,
            b: sin / self.scale,
            shift_x: self.shift_x,
            shift_y: self.shift_y,
        };
        for (i, row) in out.chunks_exact_mut(side).enumerate() {
            let row_field = match ELASTIC {
                true => &self.displacement[2 * i * side..2 * (i + 1) * side],
                false => &[],
            };
            if side < LANES {
                // Narrower than a block: the lanes past the row's end compute unused values.
                let (mut field, mut values) = (NO_FIELD, [0.0; LANES]);
                field[..row_field.len()].copy_from_slice(row_field);
                sampler.block::<ELASTIC>(i, 0, &field, &mut values);
                row.copy_from_slice(&values[..side]);
                continue;
            }
            let mut first = 0;
            loop {
                let field = match ELASTIC {
                    true => row_field[2 * first..2 * (first + LANES)]
                        .try_into()
                        .unwrap(),
                    false => &NO_FIELD,
                };
                let pixels = (&mut row[first..first + LANES]).try_into().unwrap();
                sampler.block::<ELASTIC>(i, first, field, pixels);
                if first == side - LANES {
                    break;
                }
                first = (first + LANES).min(side - LANES);
            }
        }
    }
}

/// The pixels [`Distortion::sample`] computes together.
const LANES: usize = 8;

/// The field of a block without elastic distortion.
const NO_FIELD: [f32; 2 * LANES] = [0.0; 2 * LANES];

/// What resampling one image needs: the padded source, its size, and `src(p)`'s constants.
struct Sampler<'a> {
    padded: &'a [f32],
    side: usize,
    c: f32,
    a: f32,
    b: f32,
    shift_x: f32,
    shift_y: f32,
}

impl Sampler<'_> {
    /// The output pixels `(i, first..first + 8)`, with their `(Δx, Δy)` in `field`, written to
    /// `pixels`: their source points, their cells and fractions, the 32 reads (one by one), the
    /// interpolations, each step for the eight at once, which the compiler turns into vector
    /// instructions.
    #[inline(always)]
    fn block<const ELASTIC: bool>(
        &self,
        i: usize,
        first: usize,
        field: &[f32; 2 * LANES],
        pixels: &mut [f32; LANES],
    ) {
        const LANE: [f32; LANES] = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0];
        let (c, a, b, width) = (self.c, self.a, self.b, self.side + 3);
        // src(p) = c + (1/s)·R(−θ)·(p − c − t) + Δ(p)
        let v = i as f32 - c - self.shift_y;
        let (mut x, mut y) = ([0.0f32; LANES], [0.0f32; LANES]);
        for k in 0..LANES {
            let u = (first as f32 + LANE[k]) - c - self.shift_x;
            x[k] = c + a * u - b * v;
            y[k] = c + b * u + a * v;
        }
        if ELASTIC {
            for k in 0..LANES {
                x[k] += field[2 * k];
                y[k] += field[2 * k + 1];
            }
        }
        let (mut at, mut fx, mut fy) = ([0i32; LANES], [0.0f32; LANES], [0.0f32; LANES]);
        for k in 0..LANES {
            let (column, fraction_x) = padded_cell(x[k], self.side);
            let (row, fraction_y) = padded_cell(y[k], self.side);
            at[k] = row * width as i32 + column;
            (fx[k], fy[k]) = (fraction_x, fraction_y);
        }
        let mut corners = [[0.0f32; LANES]; 4];
        for k in 0..LANES {
            let at = at[k] as usize;
            let cell = &self.padded[at..at + width + 2];
            corners[0][k] = cell[0];
            corners[1][k] = cell[1];
            corners[2][k] = cell[width];
            corners[3][k] = cell[width + 1];
        }
        let per_level = normalise_pixel(1); // 1/255, the batch's own scale
        for k in 0..LANES {
            let [p00, p01, p10, p11] = [corners[0][k], corners[1][k], corners[2][k], corners[3][k]];
            pixels[k] = (bilinear(p00, p01, p10, p11, fx[k], fy[k]) * per_level).min(1.0);
        }
    }
}

/// A 32-bit random word as a number uniform in `(−1, 1)`, symmetric about 0:
/// `(2k + 1)/2²³ − 1` for `k` = the top 23 bits, uniform in `0..2²³` (exact in `f32`).
#[inline]
fn symmetric_uniform(word: u32) -> f32 {
    const STEP: f32 = 1.0 / (1u32 << 23) as f32;
    (2 * (word >> 9) + 1) as f32 * STEP - 1.0
}

/// Fills `noise` with independent numbers uniform in `(−1, 1)`: Simard's `rand(−1, +1)`, at 16
/// bits each, `(2k + 1)/2¹⁶ − 1` for `k` uniform in `0..2¹⁶`, the next 16 bits of the random
/// stream (two bytes, little-endian).
///
/// 16 bits is plenty, as the field is then averaged over hundreds of pixels, and it halves the
/// random numbers to make. The bytes are drawn 256 at a time, ChaCha's own batch, and converted
/// in a loop the compiler vectorises.
fn uniform_field(rng: &mut impl Rng, noise: &mut [f32]) {
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
struct FieldScratch {
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
    fn new() -> Self {
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
    fn draw(
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

/// Where the coordinate `x` (a column or a row) falls in the padded image: the cell `⌊x⌋ + 1`
/// and the fraction `x − ⌊x⌋`.
///
/// The padded image is the `S x S` image inside a border of zeros, one row and column before
/// it and two after, `S + 3` values a row: pixel `(i, j)` at `(i + 1)·(S + 3) + j + 1`. In its
/// coordinates `x + 1`, clamped to `[0, S + 1]` (beyond that both neighbours are zeros anyway; a
/// NaN becomes 0 too), truncation is `⌊·⌋`, the fraction is exact, and both neighbours, at
/// `⌊x⌋ + 1` and `⌊x⌋ + 2`, are inside.
#[inline]
fn padded_cell(x: f32, side: usize) -> (i32, f32) {
    let xp = (x + 1.0).max(0.0).min((side + 1) as f32);
    // SAFETY: `xp` is finite and in [0, S + 1] (`max` turns NaN into 0), and `resample` asserts
    // S < 2²⁰, so `xp` fits in an i32 and the conversion is exact truncation. Unlike `as`,
    // it needs no test for NaN or overflow, which lets the compiler convert eight at once.
    let cell = unsafe { xp.to_int_unchecked::<i32>() };
    (cell, xp - cell as f32)
}

/// Bilinear interpolation between the four pixels around a point, `p00` at `(x₀, y₀)`, `p01`
/// at `(x₀ + 1, y₀)`, `p10` at `(x₀, y₀ + 1)`, `p11` at `(x₀ + 1, y₀ + 1)`, with the point at
/// `(x₀ + f_x, y₀ + f_y)`:
///
/// ```text
/// I = (1−f_x)(1−f_y)·p00 + f_x(1−f_y)·p01 + (1−f_x)f_y·p10 + f_x·f_y·p11
/// ```
///
/// computed as two interpolations along x and one along y. With `f_x = f_y = 0` it is exactly
/// `p00`.
#[inline]
fn bilinear(p00: f32, p01: f32, p10: f32, p11: f32, fx: f32, fy: f32) -> f32 {
    let top = p00 + fx * (p01 - p00);
    let bottom = p10 + fx * (p11 - p10);
    top + fy * (bottom - top)
}

// ---- text -------------------------------------------------------------------------------------

/// The widest smoothing `σ` that parses, in pixels: the kernel and the buffers grow with it.
const MAX_SIGMA: f32 = 100.0;

/// A valid example, for error messages.
const EXAMPLE: &str =
    "none, affine, elastic, or a list such as shift=2,rotate=10,scale=0.1,elastic=10/4";

impl FromStr for Augment {
    type Err = Error;

    /// Parses `none`, the presets `affine` ([`Augment::AFFINE`]) and `elastic`
    /// ([`Augment::ELASTIC`]), or a comma-separated list of any of `shift=PIXELS`,
    /// `rotate=DEGREES`, `scale=FRACTION` and `elastic=ALPHA/SIGMA`, each at most once; what is
    /// not given is 0. For example `shift=2,elastic=10/4`.
    fn from_str(text: &str) -> Result<Self> {
        let bad = |message: String| Error::config("augment", message);
        match text.trim() {
            "none" => return Ok(Augment::NONE),
            "affine" => return Ok(Augment::AFFINE),
            "elastic" => return Ok(Augment::ELASTIC),
            "" => return Err(bad(format!("the text is empty; write {EXAMPLE}"))),
            _ => {}
        }
        let mut augment = Augment::NONE;
        let mut seen: Vec<&str> = Vec::new();
        for piece in text.split(',').map(str::trim) {
            let Some((key, value)) = piece.split_once('=') else {
                return Err(bad(format!(
                    "'{piece}' in '{text}' is neither a preset nor key=value; write {EXAMPLE}"
                )));
            };
            let key = key.trim();
            if seen.contains(&key) {
                return Err(bad(format!("'{key}' is given twice in '{text}'")));
            }
            let number = |value: &str, what: &str| -> Result<f32> {
                let value = value.trim();
                match value.parse::<f32>() {
                    Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
                    Ok(_) => Err(bad(format!(
                        "{what} '{value}' in '{piece}' must be a finite number, 0 or more; write {EXAMPLE}"
                    ))),
                    Err(_) => Err(bad(format!(
                        "{what} '{value}' in '{piece}' is not a number; write {EXAMPLE}"
                    ))),
                }
            };
            match key {
                "shift" => augment.shift = number(value, "the shift")?,
                "rotate" => augment.rotate_degrees = number(value, "the rotation")?,
                "scale" => {
                    augment.scale = number(value, "the scale")?;
                    if augment.scale >= 1.0 {
                        return Err(bad(format!(
                            "the scale in '{piece}' must be below 1, as the factor ranges over \
                             1 ± scale; write e.g. scale=0.1 for ±10%"
                        )));
                    }
                }
                "elastic" => {
                    let Some((alpha, sigma)) = value.split_once('/') else {
                        return Err(bad(format!(
                            "'{piece}' needs a strength and a smoothing, ALPHA/SIGMA in pixels, \
                             such as elastic=10/4"
                        )));
                    };
                    augment.elastic_alpha = number(alpha, "the elastic strength α")?;
                    augment.elastic_sigma = number(sigma, "the elastic smoothing σ")?;
                    if augment.elastic_sigma > MAX_SIGMA {
                        return Err(bad(format!(
                            "the elastic smoothing σ in '{piece}' must be at most {MAX_SIGMA} \
                             pixels (a wider field is one more shift); write e.g. elastic=10/4"
                        )));
                    }
                    if augment.elastic_alpha > 0.0 && augment.elastic_sigma == 0.0 {
                        return Err(bad(format!(
                            "the elastic smoothing σ in '{piece}' must be above 0, or every pixel \
                             moves on its own; write e.g. elastic=10/4"
                        )));
                    }
                }
                _ => {
                    return Err(bad(format!(
                        "unknown key '{key}' in '{text}'; the keys are shift, rotate, scale and \
                         elastic; write {EXAMPLE}"
                    )));
                }
            }
            seen.push(key);
        }
        Ok(augment)
    }
}

impl fmt::Display for Augment {
    /// `none`, or the explicit list of what is not 0 (`shift=2,rotate=10,scale=0.1,elastic=10/4`),
    /// which parses back to the same value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == Augment::NONE {
            return f.write_str("none");
        }
        let mut parts = Vec::new();
        if self.shift != 0.0 {
            parts.push(format!("shift={}", self.shift));
        }
        if self.rotate_degrees != 0.0 {
            parts.push(format!("rotate={}", self.rotate_degrees));
        }
        if self.scale != 0.0 {
            parts.push(format!("scale={}", self.scale));
        }
        if self.elastic_alpha != 0.0 || self.elastic_sigma != 0.0 {
            parts.push(format!(
                "elastic={}/{}",
                self.elastic_alpha, self.elastic_sigma
            ));
        }
        f.write_str(&parts.join(","))
    }
}

serde_as_text!(Augment);

#[cfg(test)]
mod tests {
    use super::*;

    /// A `side x side` image with the given pixels set to the given values.
    fn image_with(side: usize, pixels: &[(usize, usize, u8)]) -> Vec<u8> {
        let mut image = vec![0u8; side * side];
        for &(i, j, value) in pixels {
            image[i * side + j] = value;
        }
        image
    }

    /// A handwritten-looking 0 on 28 x 28: an anti-aliased ring about 2.5 pixels thick.
    fn ring() -> Vec<u8> {
        let mut image = vec![0u8; 28 * 28];
        for i in 0..28 {
            for j in 0..28 {
                let (x, y) = ((j as f32 - 13.5) / 5.5, (i as f32 - 13.5) / 8.0);
                let distance = ((x * x + y * y).sqrt() - 1.0).abs() * 6.5;
                image[i * 28 + j] = (255.0 * (1.5 - distance).clamp(0.0, 1.0)) as u8;
            }
        }
        image
    }

    fn distorted(augment: &Augment, image: &[u8], position: usize) -> Vec<f32> {
        let mut out = vec![0.0; image.len()];
        let side = (image.len() as f64).sqrt() as usize;
        augment.apply(image, side, &mut image_rng(7, 0, position), &mut out);
        out
    }

    #[test]
    fn none_is_the_plain_normalisation_and_draws_nothing() {
        let image = ring();
        let mut rng = image_rng(1, 2, 3);
        let untouched = rng.clone();
        let mut out = vec![9.0; image.len()];
        Augment::NONE.apply(&image, 28, &mut rng, &mut out);
        let expected: Vec<f32> = image.iter().map(|&p| normalise_pixel(p)).collect();
        assert_eq!(out, expected);
        assert_eq!(rng.get_word_pos(), untouched.get_word_pos());
        assert!(Augment::NONE.is_none());
    }

    #[test]
    fn the_identity_distortion_changes_no_bit() {
        let image = ring();
        let mut out = vec![9.0; image.len()];
        Distortion::identity().resample(&image, 28, &mut out);
        let expected: Vec<f32> = image.iter().map(|&p| normalise_pixel(p)).collect();
        assert_eq!(out, expected);
    }

    #[test]
    fn the_same_image_position_gives_the_same_bits_and_others_differ() {
        let image = ring();
        for augment in [Augment::AFFINE, Augment::ELASTIC] {
            let first = distorted(&augment, &image, 5);
            // Other images distorted in between on the same thread change nothing.
            distorted(&augment, &image, 6);
            assert_eq!(distorted(&augment, &image, 5), first);
            assert_ne!(distorted(&augment, &image, 6), first);
            let mut other_epoch = vec![0.0; image.len()];
            augment.apply(&image, 28, &mut image_rng(7, 1, 5), &mut other_epoch);
            assert_ne!(other_epoch, first);
        }
    }

    #[test]
    fn each_image_has_its_own_numbers_far_from_the_others() {
        let first = |seed, epoch, position| image_rng(seed, epoch, position).next_u64();
        assert_eq!(first(1, 0, 0), first(1, 0, 0));
        assert_ne!(first(1, 0, 0), first(1, 0, 1));
        assert_ne!(first(1, 0, 0), first(1, 1, 0));
        assert_ne!(first(1, 0, 0), first(2, 0, 0));
        // Drawing a whole elastic field stays within the image's own words.
        let mut rng = image_rng(1, 0, 0);
        Distortion::draw(&Augment::ELASTIC, 28, &mut rng);
        assert_eq!(rng.get_word_pos(), 4 + 2 * 28 * 28 / 2);
        assert_eq!(image_rng(1, 0, 1).get_word_pos(), 1 << 32);
    }

    #[test]
    fn a_whole_pixel_shift_moves_the_pattern_by_exactly_that_much() {
        let pattern = [(3, 4, 255), (3, 5, 100), (8, 2, 17)];
        let image = image_with(12, &pattern);
        let mut out = vec![9.0; 144];
        Distortion::affine(2.0, -3.0, 0.0, 1.0).resample(&image, 12, &mut out);
        let expected = image_with(12, &[(0, 6, 255), (0, 7, 100), (5, 4, 17)]);
        let expected: Vec<f32> = expected.iter().map(|&p| normalise_pixel(p)).collect();
        assert_eq!(out, expected);
    }

    #[test]
    fn a_half_pixel_shift_shares_a_pixel_between_two() {
        let image = image_with(5, &[(2, 2, 255)]);
        let mut out = vec![9.0; 25];
        Distortion::affine(0.5, 0.0, 0.0, 1.0).resample(&image, 5, &mut out);
        assert_eq!(out[2 * 5 + 2], 0.5);
        assert_eq!(out[2 * 5 + 3], 0.5);
        assert_eq!(out.iter().sum::<f32>(), 1.0);
    }

    #[test]
    fn ink_moved_out_of_the_image_leaves_background() {
        let image = vec![255u8; 28 * 28];
        let mut out = vec![9.0; 28 * 28];
        Distortion::affine(0.0, 30.0, 0.0, 1.0).resample(&image, 28, &mut out);
        assert!(out.iter().all(|&v| v == 0.0));
        Distortion::affine(-3.0, 0.0, 0.0, 1.0).resample(&image, 28, &mut out);
        for row in out.chunks(28) {
            assert!(row[..25].iter().all(|&v| v == 1.0) && row[25..].iter().all(|&v| v == 0.0));
        }
    }

    #[test]
    fn a_quarter_turn_turns_an_asymmetric_pattern_anticlockwise() {
        // On a 7 x 7 image the centre is pixel (3, 3). The ink to its right (column 5) goes
        // up (row 1) and the ink above it goes left: (i, j) -> (3 − (j − 3), 3 + (i − 3)).
        let pattern = [(3, 5, 255), (2, 5, 60), (3, 4, 200), (1, 3, 90), (6, 0, 30)];
        let image = image_with(7, &pattern);
        let mut out = vec![9.0; 49];
        let quarter = std::f32::consts::FRAC_PI_2;
        Distortion::affine(0.0, 0.0, quarter, 1.0).resample(&image, 7, &mut out);
        let turned: Vec<_> = pattern.iter().map(|&(i, j, v)| (6 - j, i, v)).collect();
        let expected = image_with(7, &turned);
        for (k, (&got, &want)) in out.iter().zip(&expected).enumerate() {
            let want = normalise_pixel(want);
            assert!(
                (got - want).abs() < 1e-5,
                "pixel {k}: {got}, expected {want}"
            );
        }
    }

    #[test]
    fn scaling_by_two_doubles_distances_from_the_centre() {
        // Centre (3, 3); the pixel one to the right lands two to the right, half-way between.
        let image = image_with(7, &[(3, 3, 255), (3, 4, 255)]);
        let mut out = vec![9.0; 49];
        Distortion::affine(0.0, 0.0, 0.0, 2.0).resample(&image, 7, &mut out);
        assert_eq!(&out[3 * 7..4 * 7], &[0.0, 0.0, 0.5, 1.0, 1.0, 1.0, 0.5]);
        // Row 2 reads half-way between rows 2 and 3 of the source, rows 0 and 1 read nothing.
        for j in 0..7 {
            assert_eq!(out[2 * 7 + j], out[3 * 7 + j] / 2.0);
            assert_eq!(out[4 * 7 + j], out[3 * 7 + j] / 2.0);
        }
        assert!(out[..2 * 7].iter().chain(&out[5 * 7..]).all(|&v| v == 0.0));
    }

    /// The naive reference for [`Distortion::resample`]: each pixel on its own, in `f64`,
    /// `src(p) = c + (1/s)·R(−θ)·(p − c − t) + Δ(p)` and bilinear interpolation by the
    /// four-term formula, pixels outside read as 0.
    fn resample_naive(d: &Distortion, image: &[u8], side: usize) -> Vec<f32> {
        let pixel = |i: i64, j: i64| -> f64 {
            let inside = |v: i64| (0..side as i64).contains(&v);
            match inside(i) && inside(j) {
                true => image[i as usize * side + j as usize] as f64 / 255.0,
                false => 0.0,
            }
        };
        let c = (side as f64 - 1.0) / 2.0;
        let (sin, cos) = (d.angle as f64).sin_cos();
        let s = d.scale as f64;
        let mut out = vec![0.0; side * side];
        for i in 0..side {
            for j in 0..side {
                let (u, v) = (
                    j as f64 - c - d.shift_x as f64,
                    i as f64 - c - d.shift_y as f64,
                );
                let (mut x, mut y) = (c + (cos * u - sin * v) / s, c + (sin * u + cos * v) / s);
                if !d.displacement.is_empty() {
                    x += d.displacement[2 * (i * side + j)] as f64;
                    y += d.displacement[2 * (i * side + j) + 1] as f64;
                }
                let (x0, y0) = (x.floor(), y.floor());
                let (fx, fy) = (x - x0, y - y0);
                let (x0, y0) = (x0 as i64, y0 as i64);
                out[i * side + j] = ((1.0 - fx) * (1.0 - fy) * pixel(y0, x0)
                    + fx * (1.0 - fy) * pixel(y0, x0 + 1)
                    + (1.0 - fx) * fy * pixel(y0 + 1, x0)
                    + fx * fy * pixel(y0 + 1, x0 + 1)) as f32;
            }
        }
        out
    }

    #[test]
    fn resampling_matches_the_naive_reference() {
        // Sizes narrower than a block of eight, a multiple of it, neither, and above the stack
        // buffer's 28.
        for side in [5, 16, 28, 30] {
            let image: Vec<u8> = (0..side * side).map(|k| ((k * 97) % 256) as u8).collect();
            let strong: Augment = "shift=3,rotate=30,scale=0.3,elastic=20/3".parse().unwrap();
            for (position, augment) in [Augment::AFFINE, Augment::ELASTIC, strong]
                .iter()
                .enumerate()
            {
                let d = Distortion::draw(augment, side, &mut image_rng(9, side, position));
                let mut out = vec![9.0; side * side];
                d.resample(&image, side, &mut out);
                let naive = resample_naive(&d, &image, side);
                let largest = out
                    .iter()
                    .zip(&naive)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0, f32::max);
                assert!(
                    largest < 1e-4,
                    "side {side}, {augment}: differs by {largest}"
                );
            }
        }
    }

    #[test]
    fn outputs_stay_in_zero_to_one() {
        let image: Vec<u8> = (0..28 * 28).map(|k| ((k * 37) % 256) as u8).collect();
        let strong = "shift=5,rotate=45,scale=0.5,elastic=40/2".parse().unwrap();
        for position in 0..50 {
            for augment in [Augment::ELASTIC, strong] {
                let out = distorted(&augment, &image, position);
                assert!(out.iter().all(|v| (0.0..=1.0).contains(v)), "{augment}");
            }
        }
    }

    #[test]
    fn small_distortions_keep_the_ink() {
        // Scaling by s multiplies the ink by s² (0.81..1.21 for the presets' ±10%); shifts and
        // rotations only move it, and the elastic field stretches some parts and squeezes others.
        let image = ring();
        let ink: f32 = image.iter().map(|&p| normalise_pixel(p)).sum();
        let mut out = vec![0.0; 28 * 28];
        // Measured: within 1.3% for the affine preset, within 10.3% with the elastic field.
        for (augment, tolerance) in [(Augment::AFFINE, 0.02), (Augment::ELASTIC, 0.15)] {
            let mut worst = 1.0f32;
            for position in 0..300 {
                let d = Distortion::draw(&augment, 28, &mut image_rng(7, 0, position));
                d.resample(&image, 28, &mut out);
                let ratio = out.iter().sum::<f32>() / ink / (d.scale * d.scale);
                if (ratio - 1.0).abs() > (worst - 1.0).abs() {
                    worst = ratio;
                }
            }
            assert!(
                (worst - 1.0).abs() < tolerance,
                "{augment}: ink ratio / s² {worst}"
            );
        }
    }

    /// `g(−R..=R)` from `g(0..=R)`.
    fn full_kernel(sigma: f32) -> Vec<f32> {
        let mut half = Vec::new();
        half_gaussian_kernel(sigma, &mut half);
        half.iter().rev().chain(&half[1..]).copied().collect()
    }

    #[test]
    fn the_kernel_is_a_normalised_symmetric_gaussian() {
        let kernel = full_kernel(4.0);
        assert_eq!(kernel.len(), 25);
        assert!((kernel.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!((kernel[12] - 0.0999).abs() < 1e-4, "{}", kernel[12]);
        assert!((kernel[12 + 4] / kernel[12] - (-0.5f32).exp()).abs() < 1e-6);
        assert_eq!(full_kernel(0.0), [1.0]);
    }

    /// The naive reference: `Δ(i, j) = α · Σ_k Σ_l g(k)·g(l)·U(i + k, j + l)`, 0 outside, for
    /// `(S, S, 2)` noise.
    fn elastic_field_naive(sigma: f32, alpha: f32, side: usize, noise: &[f32]) -> Vec<f32> {
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
            let naive = elastic_field_naive(sigma, 8.0, side, &noise);
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

    #[test]
    fn presets_and_lists_parse() {
        assert_eq!("none".parse::<Augment>().unwrap(), Augment::NONE);
        assert_eq!(" affine ".parse::<Augment>().unwrap(), Augment::AFFINE);
        assert_eq!("elastic".parse::<Augment>().unwrap(), Augment::ELASTIC);
        let list: Augment = "shift=2, rotate=10,scale=0.1,elastic=10/4".parse().unwrap();
        assert_eq!(list, Augment::ELASTIC);
        let some: Augment = "rotate=15".parse().unwrap();
        assert_eq!(
            some,
            Augment {
                rotate_degrees: 15.0,
                ..Augment::NONE
            }
        );
    }

    #[test]
    fn text_round_trips() {
        for text in [
            "none",
            "shift=2,rotate=10,scale=0.1",
            "shift=2,rotate=10,scale=0.1,elastic=10/4",
            "shift=0.5,elastic=8/3.5",
            "shift=1.5",
            "elastic=34/4",
            "elastic=0/4",
        ] {
            let augment: Augment = text.parse().unwrap();
            assert_eq!(augment.to_string(), text);
        }
        assert_eq!(Augment::AFFINE.to_string(), "shift=2,rotate=10,scale=0.1");
        let json = serde_json::to_string(&Augment::ELASTIC).unwrap();
        assert_eq!(json, "\"shift=2,rotate=10,scale=0.1,elastic=10/4\"");
        assert_eq!(
            serde_json::from_str::<Augment>(&json).unwrap(),
            Augment::ELASTIC
        );
        assert!(serde_json::from_str::<Augment>("\"shift=-1\"").is_err());
    }

    #[test]
    fn bad_text_is_refused_with_the_reason() {
        for (text, reason) in [
            ("", "empty"),
            ("affinee", "neither a preset nor key=value"),
            ("shift", "neither a preset nor key=value"),
            ("shift=2,tilt=3", "unknown key 'tilt'"),
            ("shift=-1", "0 or more"),
            ("rotate=nan", "finite"),
            ("rotate=inf", "finite"),
            ("shift=two", "'two' in 'shift=two' is not a number"),
            ("scale=1", "below 1"),
            ("elastic=8", "ALPHA/SIGMA"),
            ("elastic=8/0", "σ in 'elastic=8/0' must be above 0"),
            ("elastic=x/4", "α 'x'"),
            ("elastic=10/1000", "at most 100 pixels"),
            ("shift=1,shift=2", "given twice"),
            ("shift=1,", "neither a preset nor key=value"),
        ] {
            let err = text.parse::<Augment>().unwrap_err().to_string();
            assert!(err.contains(reason), "'{text}': {err}");
            assert!(err.starts_with("invalid augment: "), "'{text}': {err}");
        }
        let err = "tilt=3".parse::<Augment>().unwrap_err().to_string();
        assert!(
            err.contains("shift=2,rotate=10,scale=0.1,elastic=10/4"),
            "{err}"
        );
    }

    /// The time of `f(k)` for `k = 0..n`, per call, in µs, printed: the fastest of five
    /// rounds, as other work on the machine can only slow a round down.
    fn time(name: &str, n: usize, mut f: impl FnMut(usize)) {
        let mut fastest = f64::INFINITY;
        for _ in 0..5 {
            let start = std::time::Instant::now();
            for k in 0..n {
                f(k);
            }
            fastest = fastest.min(start.elapsed().as_secs_f64());
        }
        println!("{name:52} {:6.2} µs", fastest / n as f64 * 1e6);
    }

    /// Speed, in a release build:
    /// `cargo test --release --lib augment::tests::time_per_image -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn time_per_image() {
        let data = crate::data::mnist::load_bundled().unwrap().train;
        let n = 20_000;
        let mut out = vec![0.0; 784];
        let mut check = 0.0;
        for augment in [Augment::NONE, Augment::AFFINE, Augment::ELASTIC] {
            time(&format!("apply {augment}, with image_rng"), n, |k| {
                augment.apply(data.image(k), 28, &mut image_rng(1, 0, k), &mut out);
                check += out[400];
            });
        }
        time("image_rng", n, |k| {
            check += image_rng(1, 0, k).next_u32() as f32
        });
        let mut rng = image_rng(1, 0, 0);
        let mut noise = vec![0.0; 2 * 784];
        time("uniform_field", n, |_| uniform_field(&mut rng, &mut noise));
        let mut scratch = FieldScratch::new();
        let mut field = Vec::new();
        time(
            "FieldScratch::draw (uniform_field and smoothing)",
            n,
            |_| {
                scratch.draw(8.0, 4.0, 28, &mut rng, &mut field);
            },
        );
        let mut d = Distortion::identity();
        time("draw_into elastic (with image_rng)", n, |k| {
            d.draw_into(&Augment::ELASTIC, 28, &mut image_rng(1, 0, k));
        });
        time("resample elastic", n, |k| {
            d.resample(data.image(k), 28, &mut out)
        });
        let d = Distortion::affine(0.5, -1.2, 0.1, 1.05);
        time("resample affine", n, |k| {
            d.resample(data.image(k), 28, &mut out)
        });
        println!("(checksum {check})");
    }
}

//! Data augmentation: every training image distorted a little, differently in every epoch.
//!
//! What it is: [`Augment`], how strongly to distort (a shift, a rotation, a scaling and the
//! elastic distortion of Simard, Steinkraus & Platt, "Best Practices for Convolutional Neural
//! Networks Applied to Visual Document Analysis", 2003, §2), parsed from and written as text such
//! as `shift=2,rotate=10,scale=0.1,elastic=10/4`; [`Distortion`], the numbers drawn for one image
//! and the one resampling that applies them. Each image's random numbers come from
//! [`crate::rng::image_rng`].
//!
//! What it is not: part of the data set or of [`crate::preprocess`]. Nothing is stored:
//! [`Augment::apply`] writes a distorted copy of an image where a batch wants its inputs (in
//! place of [`normalise_pixel`](crate::data::batch::normalise_pixel)), a different one in every
//! epoch, and the data set stays as it is. It is for training images only; test images are read
//! undistorted.
//!
//! Where things are: this file holds [`Augment`]'s fields and [`Augment::apply`];
//! `spec.rs` the presets and the text form (parsing with its checks, `Display`, serde); `warp.rs`
//! [`Distortion`] (shift, rotation, scale and the resampling), with
//! [`Distortion::resample_naive`] beside it as the reference it is tested against; `elastic.rs`
//! the random displacement field `Δ` and its Gaussian smoothing, with the plain 2-D sum as its
//! reference; `erase.rs` random erasing, a rectangle of noise drawn on the distorted image.
//!
//! Shapes, stated once: an image is `S x S` pixels (`S = 28` for MNIST), row-major, `u8` with
//! 0 = background and 255 = ink; the distorted image is `S·S` values `f32` in `[0, 1]`, scaled
//! like [`normalise_pixel`](crate::data::batch::normalise_pixel). Pixel `(i, j)` is row `i`,
//! column `j` and sits at the point `p = (x, y) = (j, i)`: x to the right, y downwards, in
//! pixels. The image centre is `c = ((S − 1)/2, (S − 1)/2)`.
//!
//! One image, as a recipe: draw the shift `t`, the angle `θ`, the scale `s`, (if elastic is on)
//! the smooth displacement field `Δ`, (if on) the stretches `s_x`, `s_y` and the mirror `m`
//! ([`Distortion::draw_into`]); then every output pixel `p` reads the source image at
//!
//! ```text
//! src(p) = c + M·S⁻¹·R(−θ)·(p − c − t) + Δ(p),   S = diag(s·s_x, s·s_y),  M = diag(m, 1)
//! ```
//!
//! (`m = −1` mirrors, else 1) by bilinear interpolation, reading 0 outside the image
//! ([`Distortion::resample`]). That is the inverse of "mirror, stretch and scale, and rotate by
//! `θ` about the centre, then move by `t`", with the elastic displacement added, in one
//! interpolation so that the image is blurred only once.
//!
//! The cost per image is in [`Augment::apply`], measured with `cargo test --release --lib
//! augment::tests::time_per_image -- --ignored --nocapture` on one core of a 2.6 GHz AMD EPYC
//! (the fastest of five rounds of 20,000 MNIST images, as the machine was shared).

mod elastic;
mod erase;
pub mod mixup;
mod spec;
mod warp;

pub use warp::Distortion;

use crate::data::Dataset;
use crate::data::batch::normalise_pixels;
use crate::error::Result;
use crate::rng::{image_rng, mixup_rng};
use mixup::Mix;
use rand::Rng;
use std::cell::RefCell;
use std::ops::Range;

/// How to distort each training image; all zero ([`Augment::NONE`]) = no augmentation.
///
/// Every range is symmetric and every number uniform in it, drawn afresh for every image in every
/// epoch. Build one from text with `parse` (see [`Augment::from_str`](Augment#method.from_str));
/// the fields are public so that code can build one too, and [`Augment::apply`] uses them as they
/// are.
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
    /// The largest horizontal stretch: a factor `s_x` uniform in `[1 − stretch_x, 1 + stretch_x]`
    /// for the width alone, on top of `scale` (Cireşan et al.'s separate horizontal scaling
    /// `γ_x`). Below 1.
    pub stretch_x: f32,
    /// The largest vertical stretch, `s_y` uniform in `[1 − stretch_y, 1 + stretch_y]` for the
    /// height alone (their `γ_y`). Below 1.
    pub stretch_y: f32,
    /// Mirror half of the images left to right (each with probability ½). Only for data whose
    /// mirrored images keep their class, such as Fashion-MNIST's clothes: never for digits, where
    /// a mirrored 2 is no 2 and a mirrored 7 no 7.
    pub flip: bool,
    /// The largest whole-pixel shift: `k_x` and `k_y` each a whole number uniform in
    /// `−crop..=crop`, added to the shift. The "random crop of the image padded by `crop` pixels"
    /// of image classifiers: whole pixels move without interpolation, so a texture (a sweater's
    /// knit, a shirt's print) stays as sharp as in the test images, where a fractional `shift`
    /// blurs it. At most 14 when parsed.
    pub crop: u32,
    /// Random erasing (Zhong et al. 2020): the probability that an image gets one rectangle of
    /// noise, after the other distortions (see `erase.rs`). From 0 to 1; 0 = none.
    pub erase: f32,
    /// Mixup (Zhang et al. 2018): the `α` of the `Beta(α, α)` that draws each batch's mixing
    /// weight `λ` (see [`mixup`]). It mixes whole batches, images and targets, after
    /// [`Augment::apply`], which leaves it to the training loop. 0 = none.
    pub mixup: f32,
}

impl Augment {
    /// True when training sees every image as it is: no pixel moves ([`Augment::moves_pixels`]),
    /// none is erased and no batch is mixed.
    pub fn is_none(&self) -> bool {
        !self.moves_pixels() && self.erase == 0.0 && self.mixup == 0.0
    }

    /// True when a [`Distortion`] moves pixels: some shift, rotation, scaling, stretch, elastic
    /// strength (`σ` alone does nothing), flip or crop. Erasing alone paints over pixels in place.
    pub fn moves_pixels(&self) -> bool {
        self.shift != 0.0
            || self.rotate_degrees != 0.0
            || self.scale != 0.0
            || self.elastic_alpha != 0.0
            || self.stretch_x != 0.0
            || self.stretch_y != 0.0
            || self.flip
            || self.crop != 0
    }

    /// True when each image is changed on its own before batches are made: moved
    /// ([`Augment::moves_pixels`]) or erased. That is what needs square images; mixup alone mixes
    /// whole batches of images as they are.
    pub fn changes_images(&self) -> bool {
        self.moves_pixels() || self.erase > 0.0
    }

    /// Distorts one `S x S` image (`u8`, row-major, 0 = background, 255 = ink) and writes it,
    /// normalised to `[0, 1]` like [`normalise_pixel`](crate::data::batch::normalise_pixel), into
    /// `out` (`S·S` values).
    ///
    /// All random numbers come from `rng` (give it [`crate::rng::image_rng`]). Unless it
    /// [changes images](Augment::changes_images) (with [`Augment::NONE`], or mixup alone), it
    /// writes exactly `normalise_pixel` of each pixel and draws nothing, and then the image may be
    /// of any shape (`side` is not read). Up to 28 x 28, it
    /// allocates nothing once a thread has distorted its first image of a size (larger images
    /// get a padded copy on the heap each time).
    ///
    /// Cost per 28 x 28 image, measured (see the module documentation): 2.3 µs with
    /// [`Augment::AFFINE`] and 8.9 µs with [`Augment::ELASTIC`], of which the resampling takes
    /// 2.2 µs, drawing the field's noise 0.8 µs, smoothing it 5.4 µs, and creating the image's
    /// [`crate::rng::image_rng`] 0.1 µs; 0.13 µs with [`Augment::NONE`]; 2.4 µs with `flip`
    /// alone (the resampling) and 2.5 µs with `flip,erase=0.5`. Erasing alone skips the
    /// resampling.
    pub fn apply(&self, image: &[u8], side: usize, rng: &mut impl Rng, out: &mut [f32]) {
        debug_assert_eq!(out.len(), image.len());
        debug_assert!(!self.changes_images() || image.len() == side * side);
        if !self.moves_pixels() {
            normalise_pixels(image, out);
        } else {
            thread_local! {
                static DISTORTION: RefCell<Distortion> = RefCell::new(Distortion::identity());
            }
            DISTORTION.with(|d| {
                let mut d = d.borrow_mut();
                d.draw_into(self, side, rng);
                d.resample(image, side, out);
            });
        }
        if self.erase > 0.0 {
            erase::erase(self.erase, side, rng, out);
        }
    }
}

impl Augment {
    /// The images `range` of `data` distorted as one epoch of training draws them, as a data set
    /// of their own (levels rounded back to bytes), for looking at: image `i` gets the numbers
    /// of [`image_rng`]`(seed, epoch, i)`, those of the image at position `i` in that epoch.
    /// With mixup, the images shown are then mixed as one batch from position `range.start`
    /// ([`mixup_rng`]), and each is labelled with the class of the image with the larger share.
    pub fn distort_images(
        &self,
        data: &Dataset,
        range: Range<usize>,
        seed: u64,
        epoch: usize,
    ) -> Result<Dataset> {
        let (rows, cols) = (data.rows(), data.cols());
        let mut labels = data.labels()[range.clone()].to_vec();
        let mut images = Vec::with_capacity(range.len() * rows * cols);
        if rows != cols && self.changes_images() {
            // Moving and erasing pixels are for square images (training refuses others); other
            // images are shown as they are.
            for i in range.clone() {
                images.extend_from_slice(data.image(i));
            }
        } else {
            let pixels = rows * cols;
            let mut values = vec![0.0f32; range.len() * pixels];
            for (i, out) in range.clone().zip(values.chunks_exact_mut(pixels)) {
                self.apply(data.image(i), rows, &mut image_rng(seed, epoch, i), out);
            }
            if self.mixup > 0.0 && !range.is_empty() {
                let mut rng = mixup_rng(seed, epoch, range.start);
                let mix = Mix::draw(self.mixup, range.len(), &mut rng);
                mix.mix_images(&mut values, pixels, &mut Vec::new());
                if mix.lambda < 0.5 {
                    labels = mix.partner.iter().map(|&j| labels[j]).collect();
                }
            }
            images.extend(values.iter().map(|&v| (v * 255.0).round() as u8));
        }
        Dataset::new(images, labels, rows, cols, data.source())
    }
}

#[cfg(test)]
mod tests {
    use super::elastic::{FieldScratch, uniform_field};
    use super::*;
    use crate::rng::image_rng;

    /// A handwritten-looking 0 on 28 x 28: an anti-aliased ring about 2.5 pixels thick.
    pub(super) fn ring() -> Vec<u8> {
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
        let expected: Vec<f32> = image
            .iter()
            .map(|&p| crate::data::batch::normalise_pixel(p))
            .collect();
        assert_eq!(out, expected);
        assert_eq!(rng.get_word_pos(), untouched.get_word_pos());
        assert!(Augment::NONE.is_none());
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
    fn distorted_images_are_those_training_draws() {
        let data = crate::data::mnist::load_bundled().unwrap().test;
        let shown = Augment::ELASTIC.distort_images(&data, 3..7, 42, 2).unwrap();
        assert_eq!(shown.len(), 4);
        assert_eq!(shown.labels(), &data.labels()[3..7]);
        let mut out = vec![0.0; 784];
        Augment::ELASTIC.apply(data.image(5), 28, &mut image_rng(42, 2, 5), &mut out);
        let expected: Vec<u8> = out.iter().map(|&v| (v * 255.0).round() as u8).collect();
        assert_eq!(shown.image(2), &expected[..]);
        let same = Augment::NONE.distort_images(&data, 0..2, 1, 0).unwrap();
        assert_eq!(same.pixels(), &data.pixels()[..2 * 784]);
    }

    #[test]
    fn mixed_images_are_shown_as_training_mixes_a_batch() {
        let data = crate::data::mnist::load_bundled().unwrap().test;
        let mixup: Augment = "mixup=1".parse().unwrap();
        let shown = mixup.distort_images(&data, 10..18, 42, 3).unwrap();
        let mix = Mix::draw(1.0, 8, &mut mixup_rng(42, 3, 10));
        let mut x = vec![0.0; 8 * 784];
        crate::data::batch::fill_inputs(&data, &(10..18).collect::<Vec<_>>(), &mut x);
        mix.mix_images(&mut x, 784, &mut Vec::new());
        let expected: Vec<u8> = x.iter().map(|&v| (v * 255.0).round() as u8).collect();
        assert_eq!(shown.pixels(), &expected[..]);
        for (j, &label) in shown.labels().iter().enumerate() {
            let larger = if mix.lambda >= 0.5 {
                10 + j
            } else {
                10 + mix.partner[j]
            };
            assert_eq!(label, data.label(larger), "image {j}");
        }
    }

    #[test]
    fn images_that_are_not_square_are_mixed_and_never_moved() {
        let pixels: Vec<u8> = (0..6 * 28 * 20).map(|k| (k * 37 % 256) as u8).collect();
        let data = Dataset::new(pixels, vec![0, 1, 2, 3, 4, 5], 28, 20, "narrow").unwrap();
        let mixup: Augment = "mixup=1".parse().unwrap();
        let shown = mixup.distort_images(&data, 1..5, 42, 3).unwrap();
        let mix = Mix::draw(1.0, 4, &mut mixup_rng(42, 3, 1));
        let mut x = vec![0.0; 4 * 560];
        crate::data::batch::fill_inputs(&data, &[1, 2, 3, 4], &mut x);
        mix.mix_images(&mut x, 560, &mut Vec::new());
        let expected: Vec<u8> = x.iter().map(|&v| (v * 255.0).round() as u8).collect();
        assert_eq!((shown.rows(), shown.cols()), (28, 20));
        assert_eq!(shown.pixels(), &expected[..]);
        // A flip would need a square image: such images are shown as they are.
        let flip: Augment = "flip,mixup=1".parse().unwrap();
        let shown = flip.distort_images(&data, 1..5, 42, 3).unwrap();
        assert_eq!(shown.pixels(), &data.pixels()[560..5 * 560]);
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
    fn erasing_paints_noise_over_the_distorted_image_and_nothing_else() {
        let image = ring();
        let plain: Vec<f32> = image
            .iter()
            .map(|&p| crate::data::batch::normalise_pixel(p))
            .collect();
        let erase_only: Augment = "erase=1".parse().unwrap();
        let flip_and_erase: Augment = "flip,erase=1".parse().unwrap();
        let flip: Augment = "flip".parse().unwrap();
        let mut changed = 0;
        for position in 0..20 {
            let out = distorted(&erase_only, &image, position);
            let differ = out.iter().zip(&plain).filter(|(a, b)| a != b).count();
            assert!(differ > 0, "erase=1 erased nothing in image {position}");
            // One rectangle: at most 40% of the image and the rounding, 360 pixels.
            assert!(differ <= 360, "{differ}");
            changed += differ;
            // The erasing comes after the mirror: outside its rectangle the image is the flip's.
            let (both, mirrored) = (
                distorted(&flip_and_erase, &image, position),
                distorted(&flip, &image, position),
            );
            let kept = both.iter().zip(&mirrored).filter(|(a, b)| a == b).count();
            assert!(kept >= 784 - 360, "{kept}");
        }
        assert!(changed > 20 * 10, "{changed} pixels changed in 20 images");
        assert!(!erase_only.is_none());
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
        let flip: Augment = "flip".parse().unwrap();
        let erase: Augment = "flip,erase=0.5".parse().unwrap();
        for augment in [
            Augment::NONE,
            Augment::AFFINE,
            Augment::ELASTIC,
            flip,
            erase,
        ] {
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

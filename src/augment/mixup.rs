//! Mixup (Zhang, Cissé, Dauphin and Lopez-Paz, "mixup: Beyond Empirical Risk Minimization",
//! ICLR 2018): training on weighted sums of pairs of images and of their targets,
//!
//! ```text
//! x̃ = λ·xᵢ + (1 − λ)·xⱼ,   ỹ = λ·yᵢ + (1 − λ)·yⱼ,   λ ~ Beta(α, α)
//! ```
//!
//! What it is: a distortion of whole batches, once each image has had its own
//! ([`super::Augment::apply`]) and the targets are made (smoothed or not). Column `j` of a batch
//! is mixed with column `π(j)` of the same batch before mixing, for a random permutation `π`, with
//! one `λ` for the whole batch, as the paper's own implementation does (its Figure 1a). The
//! mixed targets still sum to 1, so the gradient of the cross-entropy through softmax is still
//! `A − Y` ([`crate::nn::loss::cross_entropy_delta`]). A small `α` (0.1 to 0.4, the paper's
//! range) draws most `λ` near 0 or 1: most images stay close to one of the pair, with a faint
//! copy of the other over it, and the network is asked for as faint a belief in the other's class.
//!
//! What it is not: a change of the loss or of the test images, which are read as they are.

use crate::data::batch::shuffled_indices;
use rand::Rng;
use rand_distr::{Beta, Distribution};

/// `λ·a + (1 − λ)·b`: one value of a mixed pair, a pixel or a target.
///
/// `mix(0.75, 1.0, 0.0)` is `0.75`; `mix(1.0, a, b)` is `a` exactly.
#[inline]
pub fn mix(lambda: f32, a: f32, b: f32) -> f32 {
    lambda * a + (1.0 - lambda) * b
}

/// How one batch is mixed: the weight `λ` and the partner `π(j)` of each column `j`.
#[derive(Debug, Clone, PartialEq)]
pub struct Mix {
    /// `λ`, from 0 to 1: the weight of each column's own image and target.
    pub lambda: f32,
    /// `π(j)` for `j = 0..n`: a permutation of the batch's columns.
    pub partner: Vec<usize>,
}

impl Mix {
    /// Draws the mixing of a batch of `n`: `λ ~ Beta(α, α)` and a uniform permutation `π` of
    /// `0..n` ([`shuffled_indices`], Fisher-Yates), from `rng` (give it [`crate::rng::mixup_rng`]). `alpha` must be
    /// above 0.
    pub fn draw(alpha: f32, n: usize, rng: &mut impl Rng) -> Mix {
        let beta = Beta::new(alpha, alpha).expect("the mixup α is checked to be above 0");
        // Beta's samplers keep to [0, 1]; the clamp only guards the formula's meaning.
        let lambda: f32 = beta.sample(rng).clamp(0.0, 1.0);
        let partner = shuffled_indices(n, rng);
        Mix { lambda, partner }
    }

    /// Mixes a batch of images in place: `x` holds the `n = partner.len()` columns of `pixels`
    /// inputs each, one after another ([`crate::data::batch::fill_inputs`]), and column `j`
    /// becomes `mix(λ, xⱼ, x_π(j))` of the columns as they were. `before` is scratch space.
    pub fn mix_images(&self, x: &mut [f32], pixels: usize, before: &mut Vec<f32>) {
        let n = self.partner.len();
        before.clear();
        before.extend_from_slice(&x[..pixels * n]);
        for (j, column) in x[..pixels * n].chunks_exact_mut(pixels).enumerate() {
            let partner = &before[self.partner[j] * pixels..][..pixels];
            let own = &before[j * pixels..][..pixels];
            for ((v, &a), &b) in column.iter_mut().zip(own).zip(partner) {
                *v = mix(self.lambda, a, b);
            }
        }
    }

    /// Mixes a batch of targets in place: `y` is the `(C, n)` matrix stored row after row
    /// ([`crate::data::batch::fill_targets`]), and column `j` becomes `mix(λ, yⱼ, y_π(j))`.
    /// `before` is scratch space.
    pub fn mix_targets(&self, y: &mut [f32], classes: usize, before: &mut Vec<f32>) {
        let n = self.partner.len();
        before.clear();
        before.extend_from_slice(&y[..classes * n]);
        for (row, old) in y[..classes * n]
            .chunks_exact_mut(n)
            .zip(before.chunks_exact(n))
        {
            for (j, v) in row.iter_mut().enumerate() {
                *v = mix(self.lambda, old[j], old[self.partner[j]]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::mixup_rng;

    #[test]
    fn the_doc_examples() {
        assert_eq!(mix(0.75, 1.0, 0.0), 0.75);
        assert_eq!(mix(1.0, 0.3, 0.9), 0.3);
    }

    #[test]
    fn each_column_is_mixed_with_its_partner_as_it_was() {
        // Three images of two pixels; 0 is mixed with 2, 1 with 0 and 2 with 1.
        let mix_ = Mix {
            lambda: 0.25,
            partner: vec![2, 0, 1],
        };
        let mut x = vec![1.0, 0.0, 0.0, 1.0, 0.5, 0.5];
        mix_.mix_images(&mut x, 2, &mut Vec::new());
        assert_eq!(x, [0.625, 0.375, 0.75, 0.25, 0.125, 0.875]);
        // Targets of the labels 0, 1, 1 (two classes), row after row.
        let mut y = vec![1.0, 0.0, 0.0, 0.0, 1.0, 1.0];
        mix_.mix_targets(&mut y, 2, &mut Vec::new());
        assert_eq!(y, [0.25, 0.75, 0.0, 0.75, 0.25, 1.0]);
        for j in 0..3 {
            assert_eq!(y[j] + y[3 + j], 1.0, "column {j} still sums to 1");
        }
    }

    #[test]
    fn draws_are_a_permutation_and_lambdas_follow_beta() {
        let draws: Vec<Mix> = (0..2000)
            .map(|k| Mix::draw(0.2, 64, &mut mixup_rng(5, 0, k * 64)))
            .collect();
        for d in &draws[..20] {
            let mut sorted = d.partner.clone();
            sorted.sort();
            assert_eq!(sorted, (0..64).collect::<Vec<_>>());
        }
        // Beta(0.2, 0.2): mean ½, variance 1/(4·(2α + 1)) = 0.178; most draws near 0 or 1.
        let lambdas: Vec<f64> = draws.iter().map(|d| d.lambda as f64).collect();
        let mean = lambdas.iter().sum::<f64>() / 2000.0;
        let variance = lambdas.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / 2000.0;
        assert!((mean - 0.5).abs() < 0.03, "mean {mean}");
        assert!((variance - 1.0 / 5.6).abs() < 0.015, "variance {variance}");
        let near_ends = lambdas
            .iter()
            .filter(|&&l| !(0.1..=0.9).contains(&l))
            .count();
        assert!(near_ends > 1000, "{near_ends} of 2000 within 0.1 of 0 or 1");
        assert!(lambdas.iter().all(|l| (0.0..=1.0).contains(l)));
        // The same batch of the same epoch draws the same mixing; another batch does not.
        assert_eq!(Mix::draw(0.2, 64, &mut mixup_rng(5, 0, 0)), draws[0]);
        assert_ne!(draws[1], draws[0]);
    }
}

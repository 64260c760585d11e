//! The loss: how far the network's output is from the right answer, and the gradient that starts
//! backprop.
//!
//! What it is: the two losses, each with its gradient, and [`Loss::output_delta`], which turns the
//! output `A[L]` and the targets `Y` into `dZ[L]`, the error of the output layer's `Z`:
//!
//! | loss | `L` per image | with sigmoid output, `dZ[L]` | with softmax output, `dZ[L]` |
//! | --- | --- | --- | --- |
//! | quadratic | `½‖a − y‖²` | `(A − Y) ⊙ A ⊙ (1 − A)` | softmax's Jacobian times `A − Y` |
//! | cross-entropy | `−Σᵢ yᵢ·ln aᵢ` (softmax), `−Σᵢ [yᵢ·ln aᵢ + (1 − yᵢ)·ln(1 − aᵢ)]` (sigmoid) | `A − Y` | `A − Y` |
//!
//! The cross-entropy is the negative log-likelihood of the right class under the output read as
//! probabilities; its `ln` cancels the output function's flat tails, so a confidently wrong
//! output gets a large gradient (`A − Y`) instead of the vanishing `σ'` of the quadratic loss.
//!
//! What it is not: the mini-batch bookkeeping. The `1/m` of the gradient is applied where the
//! parameter gradients are formed (`dW = (1/m)·dZ·Aᵀ`), as in the textbook formulas.
//!
//! Shapes: `A` and `Y` are `(C, m)` (classes x batch), stored row after row like every batch
//! matrix (see [`super::layer`]); `Y`'s columns are one-hot.

use super::activation::Output;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The smallest probability the cross-entropy takes the logarithm of, so that an output of
/// exactly 0 (possible in `f32`) costs `−ln(1e-30) ≈ 69` instead of infinity.
const MIN_PROBABILITY: f32 = 1e-30;

/// What training minimises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Loss {
    /// Half the squared error, `½‖A − Y‖²`: the original network's.
    Quadratic,
    /// The cross-entropy between the one-hot target and the output read as probabilities.
    CrossEntropy,
}

impl Loss {
    /// Every loss.
    pub const ALL: [Loss; 2] = [Loss::Quadratic, Loss::CrossEntropy];

    /// The name used in model files and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Loss::Quadratic => "quadratic",
            Loss::CrossEntropy => "cross-entropy",
        }
    }

    /// Parses [`Loss::name`].
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.name() == name)
    }

    /// The loss of a batch of `m` images, averaged over them: `(1/m) Σₙ L(aₙ, yₙ)`.
    pub fn value(self, output: Output, a: &[f32], y: &[f32], m: usize) -> f32 {
        match (self, output) {
            (Loss::Quadratic, _) => quadratic_loss(a, y, m),
            (Loss::CrossEntropy, Output::Softmax) => cross_entropy_loss(a, y, m),
            (Loss::CrossEntropy, Output::Sigmoid) => binary_cross_entropy_loss(a, y, m),
        }
    }

    /// `dZ[L]`, the gradient of the loss with respect to the output layer's `Z` (per image; the
    /// `1/m` comes later), from the output `a = A[L]` kept by forward and the targets `y`, both
    /// `(C, N)` row-major with `C = classes`. Overwrites `dz`.
    ///
    /// The quadratic loss goes by the chain rule: `dA = A − Y` ([`quadratic_loss_backward`]),
    /// then back through the output function ([`Output::backward`]). The cross-entropy is paired
    /// with its output function so that the product simplifies to `A − Y`
    /// ([`cross_entropy_delta`]).
    pub fn output_delta(
        self,
        output: Output,
        a: &[f32],
        y: &[f32],
        dz: &mut [f32],
        classes: usize,
    ) {
        debug_assert!(a.len() == y.len() && a.len() == dz.len());
        match self {
            Loss::Quadratic => {
                quadratic_loss_backward(a, y, dz);
                output.backward(a, dz, classes);
            }
            Loss::CrossEntropy => cross_entropy_delta(a, y, dz),
        }
    }
}

impl fmt::Display for Loss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `L = (1/m) Σₙ ½‖aₙ − yₙ‖²`: half the squared distance between output and target, averaged
/// over the `m` images of the batch.
///
/// For example an output `[0.5, 0.5]` against the target `[0, 1]` costs `½(0.25 + 0.25) = 0.25`.
pub fn quadratic_loss(a: &[f32], y: &[f32], m: usize) -> f32 {
    debug_assert_eq!(a.len(), y.len());
    // Sum in f64: a batch of 10,000 small terms loses digits in f32.
    let sum: f64 = a
        .iter()
        .zip(y)
        .map(|(&a, &y)| {
            let e = (a - y) as f64;
            e * e
        })
        .sum();
    (0.5 * sum / m as f64) as f32
}

/// The gradient of `½‖A − Y‖²` with respect to `A`: `dA[L] = A[L] − Y` (per image; the `1/m`
/// comes later).
pub fn quadratic_loss_backward(a: &[f32], y: &[f32], da: &mut [f32]) {
    debug_assert!(a.len() == y.len() && a.len() == da.len());
    for ((d, &a), &y) in da.iter_mut().zip(a).zip(y) {
        *d = a - y;
    }
}

/// `L = −(1/m) Σₙ Σᵢ yᵢₙ·ln aᵢₙ`, the cross-entropy of softmax outputs: with one-hot targets,
/// minus the log of the probability given to the right class, averaged over the batch.
///
/// For example a right class given probability 0.5 costs `ln 2 ≈ 0.693`; given 1, it costs 0.
pub fn cross_entropy_loss(a: &[f32], y: &[f32], m: usize) -> f32 {
    debug_assert_eq!(a.len(), y.len());
    let sum: f64 = a
        .iter()
        .zip(y)
        .filter(|&(_, &y)| y != 0.0)
        .map(|(&a, &y)| -(y as f64) * (a.max(MIN_PROBABILITY) as f64).ln())
        .sum();
    (sum / m as f64) as f32
}

/// `L = −(1/m) Σₙ Σᵢ [yᵢₙ·ln aᵢₙ + (1 − yᵢₙ)·ln(1 − aᵢₙ)]`, the cross-entropy of independent
/// sigmoid outputs: each output is the probability that the image is of its class.
pub fn binary_cross_entropy_loss(a: &[f32], y: &[f32], m: usize) -> f32 {
    debug_assert_eq!(a.len(), y.len());
    let sum: f64 = a
        .iter()
        .zip(y)
        .map(|(&a, &y)| {
            let (a, y) = (a as f64, y as f64);
            let min = MIN_PROBABILITY as f64;
            -(y * a.max(min).ln() + (1.0 - y) * (1.0 - a).max(min).ln())
        })
        .sum();
    (sum / m as f64) as f32
}

/// `dZ[L] = A[L] − Y`: the cross-entropy's gradient through its output function, for both
/// pairings.
///
/// Softmax: `∂L/∂aᵢ = −yᵢ/aᵢ` and `∂aᵢ/∂zₖ = aᵢ·(δᵢₖ − aₖ)`, so
/// `∂L/∂zₖ = −Σᵢ yᵢ·(δᵢₖ − aₖ) = aₖ·Σᵢ yᵢ − yₖ = aₖ − yₖ` (the targets sum to 1).
/// Sigmoid: `∂L/∂a = (a − y) / (a·(1 − a))` and `σ' = a·(1 − a)`, so `∂L/∂z = a − y`.
pub fn cross_entropy_delta(a: &[f32], y: &[f32], dz: &mut [f32]) {
    for ((d, &a), &y) in dz.iter_mut().zip(a).zip(y) {
        *d = a - y;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quadratic_loss_of_the_doc_example() {
        assert_eq!(quadratic_loss(&[0.5, 0.5], &[0.0, 1.0], 1), 0.25);
        // Two images, the same error each: the mean is the same.
        assert_eq!(
            quadratic_loss(&[0.5, 0.5, 0.5, 0.5], &[0.0, 1.0, 0.0, 1.0], 2),
            0.25
        );
    }

    #[test]
    fn quadratic_gradient_is_output_minus_target() {
        let mut da = [0.0; 3];
        quadratic_loss_backward(&[0.2, 0.9, 0.1], &[0.0, 1.0, 0.0], &mut da);
        assert!((da[0] - 0.2).abs() < 1e-7 && (da[1] + 0.1).abs() < 1e-7);
    }

    #[test]
    fn cross_entropy_of_the_doc_example() {
        let l = cross_entropy_loss(&[0.5, 0.5], &[0.0, 1.0], 1);
        assert!((l - std::f32::consts::LN_2).abs() < 1e-6);
        assert_eq!(cross_entropy_loss(&[0.0, 1.0], &[0.0, 1.0], 1), 0.0);
        // A right class given probability 0 costs a large, finite amount.
        let l = cross_entropy_loss(&[1.0, 0.0], &[0.0, 1.0], 1);
        assert!(l.is_finite() && l > 60.0, "{l}");
    }

    #[test]
    fn binary_cross_entropy_counts_every_output() {
        // −ln(0.5) for the right class and −ln(1 − 0.5) for the other.
        let l = binary_cross_entropy_loss(&[0.5, 0.5], &[0.0, 1.0], 1);
        assert!((l - 2.0 * std::f32::consts::LN_2).abs() < 1e-6);
    }

    #[test]
    fn names_round_trip() {
        for l in Loss::ALL {
            assert_eq!(Loss::from_name(l.name()), Some(l));
        }
        assert_eq!(Loss::from_name("hinge"), None);
    }
}

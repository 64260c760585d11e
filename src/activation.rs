//! Activation functions, each a forward/backward pair.
//!
//! What it is: the element-wise non-linearity `A = σ(Z)` of a layer and its derivative, as used
//! by backprop: `dZ = dA ⊙ σ'(Z)`.
//!
//! What it is not: a layer. The affine part `Z = W·A + B` is in [`crate::layer`].
//!
//! The forward pass overwrites `Z` with `A` in place: backward needs only `A`, because for the
//! sigmoid `σ'(Z) = σ(Z)·(1 − σ(Z)) = A·(1 − A)`. So forward keeps `A` of each layer, and that is
//! all backward needs from it.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The non-linearity applied after a layer's affine map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// The logistic function `σ(z) = 1 / (1 + e^(−z))`, the original network's only activation.
    Sigmoid,
}

impl Activation {
    /// The name used in model files and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Sigmoid => "sigmoid",
        }
    }

    /// Parses [`Activation::name`].
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "sigmoid" => Some(Activation::Sigmoid),
            _ => None,
        }
    }

    /// Forward, in place: `Z` becomes `A = f(Z)`.
    pub fn forward(self, z_then_a: &mut [f32]) {
        match self {
            Activation::Sigmoid => sigmoid_forward(z_then_a),
        }
    }

    /// Backward, in place: `dA` becomes `dZ = dA ⊙ f'(Z)`, with `f'` computed from the kept `A`.
    pub fn backward(self, a: &[f32], da_then_dz: &mut [f32]) {
        match self {
            Activation::Sigmoid => sigmoid_backward(a, da_then_dz),
        }
    }
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The logistic sigmoid `σ(z) = 1 / (1 + e^(−z))`: squashes any real number into `(0, 1)`.
///
/// For example `σ(0) = 0.5`, `σ(4) ≈ 0.982`, `σ(−4) ≈ 0.018`.
#[inline]
pub fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z).exp())
}

/// The sigmoid's derivative, written with its output: `σ'(z) = σ(z)·(1 − σ(z))`, so given
/// `a = σ(z)` it is `a·(1 − a)`. It is largest (0.25) at `z = 0` and vanishes for large `|z|`.
#[inline]
pub fn sigmoid_prime_from_output(a: f32) -> f32 {
    a * (1.0 - a)
}

/// `A = σ(Z)`, element by element, in place.
pub fn sigmoid_forward(z_then_a: &mut [f32]) {
    for v in z_then_a {
        *v = sigmoid(*v);
    }
}

/// `dZ = dA ⊙ σ'(Z)`, in place, where `σ'(Z) = A ⊙ (1 − A)` from the `A` kept by forward.
pub fn sigmoid_backward(a: &[f32], da_then_dz: &mut [f32]) {
    debug_assert_eq!(a.len(), da_then_dz.len());
    for (d, &a) in da_then_dz.iter_mut().zip(a) {
        *d *= sigmoid_prime_from_output(a);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigmoid_has_its_textbook_values() {
        assert_eq!(sigmoid(0.0), 0.5);
        assert!((sigmoid(4.0) - 0.98201376).abs() < 1e-6);
        assert!((sigmoid(-4.0) - 0.01798621).abs() < 1e-6);
        // No NaN at the extremes: e^(-z) overflows to infinity, 1/(1+inf) = 0.
        assert_eq!(sigmoid(-1000.0), 0.0);
        assert_eq!(sigmoid(1000.0), 1.0);
    }

    #[test]
    fn sigmoid_prime_matches_finite_differences() {
        for &z in &[-6.0f32, -1.5, 0.0, 0.3, 2.0, 5.0] {
            let h = 1e-2f64;
            let s = |z: f64| 1.0 / (1.0 + (-z).exp());
            let numeric = (s(z as f64 + h) - s(z as f64 - h)) / (2.0 * h);
            let analytic = sigmoid_prime_from_output(sigmoid(z)) as f64;
            assert!(
                (numeric - analytic).abs() < 1e-4,
                "z = {z}: σ' = {analytic}, finite difference {numeric}"
            );
        }
    }

    #[test]
    fn activation_names_round_trip() {
        let a = Activation::Sigmoid;
        assert_eq!(Activation::from_name(a.name()), Some(a));
        assert_eq!(Activation::from_name("softsign"), None);
    }
}

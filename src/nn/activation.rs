//! Activation functions, each a forward/backward pair.
//!
//! What it is: the non-linearity `A = f(Z)` of a layer and its derivative as backprop uses it,
//! `dZ = dA ⊙ f'(Z)`. The hidden layers use one of the element-wise [`Activation`]s; the output
//! layer uses an [`Output`] function, which may be the softmax (not element-wise: each output
//! depends on the whole column).
//!
//! What it is not: a layer. The affine part `Z = W·A + B` is in [`super::layer`]; the loss and
//! the gradient that starts backprop are in [`super::loss`].
//!
//! What forward keeps for backward: the forward pass overwrites `Z` with `A` in place, because
//! every derivative here can be written with the output alone:
//!
//! | function | `f(z)` | `f'(z)` from `a = f(z)` |
//! | --- | --- | --- |
//! | sigmoid | `1 / (1 + e^(−z))` | `a·(1 − a)` |
//! | tanh | `(e^z − e^(−z)) / (e^z + e^(−z))` | `1 − a²` |
//! | scaled tanh | `1.7159·tanh(2z/3)` | `(2/3)·(1.7159 − a²/1.7159)` |
//! | ReLU | `max(0, z)` | `1` if `a > 0`, else `0` |
//! | leaky ReLU | `z` if `z > 0`, else `0.01·z` | `1` if `a > 0`, else `0.01` |
//!
//! So forward keeps `A` of each layer, and that is all backward needs from it.
//!
//! Speed: the element-wise loops are compiled for SSE2, AVX2 and AVX-512 and run in the widest
//! the CPU has (`#[multiversion]`, chosen when first called); the results are the same bits in
//! each, since every operation is one IEEE rounding. The sigmoid's `e^x` is [`exp`], which
//! vectorises, where `f32::exp` is a call per value.

use super::exp::exp;
use multiversion::multiversion;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The slope of the leaky ReLU for negative inputs.
pub const LEAKY_SLOPE: f32 = 0.01;

/// The scaled tanh's amplitude `A` in `f(z) = A·tanh(B·z)`: LeCun et al., "Efficient BackProp"
/// (1998), §4.4, chose `A = 1.7159` and `B = 2/3` so that `f(±1) = ±1`, and Cireşan et al.
/// (2010), §3, use the same function in every hidden layer of their record networks.
pub const SCALED_TANH_A: f32 = 1.7159;

/// The scaled tanh's slope `B` in `f(z) = A·tanh(B·z)` (see [`SCALED_TANH_A`]).
pub const SCALED_TANH_B: f32 = 2.0 / 3.0;

/// The element-wise non-linearity applied after each hidden layer's affine map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Activation {
    /// The logistic function `σ(z) = 1 / (1 + e^(−z))`, the original network's.
    Sigmoid,
    /// The hyperbolic tangent, `tanh(z) = 2σ(2z) − 1`: a sigmoid centred on 0, range `(−1, 1)`.
    Tanh,
    /// LeCun's scaled hyperbolic tangent `1.7159·tanh(2z/3)`: range `(−1.7159, 1.7159)`, with
    /// `f(±1) = ±1` and its largest second derivative at `z = ±1`, so that inputs of variance 1
    /// give outputs of variance about 1 (LeCun et al., "Efficient BackProp", 1998, §4.4).
    /// Cireşan et al.'s record MLPs (2010) use it.
    ScaledTanh,
    /// The rectified linear unit `max(0, z)`.
    Relu,
    /// `max(0.01·z, z)`: a ReLU whose negative side keeps a small slope, so no neuron stops
    /// learning for good.
    LeakyRelu,
}

impl Activation {
    /// Every activation, in the order of the table above.
    pub const ALL: [Activation; 5] = [
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::ScaledTanh,
        Activation::Relu,
        Activation::LeakyRelu,
    ];

    /// The name used in model files and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::ScaledTanh => "scaled-tanh",
            Activation::Relu => "relu",
            Activation::LeakyRelu => "leaky-relu",
        }
    }

    /// Parses [`Activation::name`].
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    /// Forward, in place: `Z` becomes `A = f(Z)`.
    pub fn forward(self, z_then_a: &mut [f32]) {
        match self {
            Activation::Sigmoid => sigmoid_forward(z_then_a),
            Activation::Tanh => tanh_forward(z_then_a),
            Activation::ScaledTanh => scaled_tanh_forward(z_then_a),
            Activation::Relu => relu_forward(z_then_a),
            Activation::LeakyRelu => leaky_relu_forward(z_then_a),
        }
    }

    /// Backward, in place: `dA` becomes `dZ = dA ⊙ f'(Z)`, with `f'` computed from the kept `A`.
    pub fn backward(self, a: &[f32], da_then_dz: &mut [f32]) {
        debug_assert_eq!(a.len(), da_then_dz.len());
        match self {
            Activation::Sigmoid => sigmoid_backward(a, da_then_dz),
            Activation::Tanh => tanh_backward(a, da_then_dz),
            Activation::ScaledTanh => scaled_tanh_backward(a, da_then_dz),
            Activation::Relu => relu_backward(a, da_then_dz),
            Activation::LeakyRelu => leaky_relu_backward(a, da_then_dz),
        }
    }
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The function of the output layer, which turns its `Z[L]` into the network's answer `A[L]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Output {
    /// One sigmoid per class, each in `(0, 1)` on its own: the original network's output.
    Sigmoid,
    /// The softmax: the outputs of an image are positive and sum to 1, a probability
    /// distribution over the classes.
    Softmax,
}

impl Output {
    /// Every output function.
    pub const ALL: [Output; 2] = [Output::Sigmoid, Output::Softmax];

    /// The name used in model files and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Output::Sigmoid => "sigmoid",
            Output::Softmax => "softmax",
        }
    }

    /// Parses [`Output::name`].
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.name() == name)
    }

    /// Forward, in place, on an output block `(C, N)` stored row-major (one class's values for the
    /// whole batch contiguous): `Z[L]` becomes `A[L]`.
    pub fn forward(self, z_then_a: &mut [f32], classes: usize) {
        match self {
            Output::Sigmoid => sigmoid_forward(z_then_a),
            Output::Softmax => softmax_forward(z_then_a, classes),
        }
    }

    /// Backward, in place: `dA[L]` becomes `dZ[L]`, from the kept `A[L]` (`(C, N)` row-major).
    pub fn backward(self, a: &[f32], da_then_dz: &mut [f32], classes: usize) {
        match self {
            Output::Sigmoid => sigmoid_backward(a, da_then_dz),
            Output::Softmax => softmax_backward(a, da_then_dz, classes),
        }
    }
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The logistic sigmoid `σ(z) = 1 / (1 + e^(−z))`: squashes any real number into `(0, 1)`.
///
/// For example `σ(0) = 0.5`, `σ(4) ≈ 0.982`, `σ(−4) ≈ 0.018`. `e^(−z)` is [`exp`], within one
/// unit in the last place of the exact value; the tests compare `σ` with the same formula on
/// the standard library's `f32::exp`.
#[inline]
pub fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + exp(-z))
}

/// The sigmoid's derivative, written with its output: `σ'(z) = σ(z)·(1 − σ(z))`, so given
/// `a = σ(z)` it is `a·(1 − a)`. It is largest (0.25) at `z = 0` and vanishes for large `|z|`.
#[inline]
pub fn sigmoid_prime_from_output(a: f32) -> f32 {
    a * (1.0 - a)
}

/// `A = σ(Z)`, element by element, in place.
#[multiversion(targets = "simd")]
pub fn sigmoid_forward(z_then_a: &mut [f32]) {
    for v in z_then_a {
        *v = sigmoid(*v);
    }
}

/// `dZ = dA ⊙ σ'(Z)`, in place, where `σ'(Z) = A ⊙ (1 − A)` from the `A` kept by forward.
#[multiversion(targets = "simd")]
pub fn sigmoid_backward(a: &[f32], da_then_dz: &mut [f32]) {
    for (d, &a) in da_then_dz.iter_mut().zip(a) {
        *d *= sigmoid_prime_from_output(a);
    }
}

/// `A = tanh(Z)`, element by element, in place.
pub fn tanh_forward(z_then_a: &mut [f32]) {
    for v in z_then_a {
        *v = v.tanh();
    }
}

/// `dZ = dA ⊙ tanh'(Z)`, in place, where `tanh'(z) = 1 − tanh²(z) = 1 − a²`.
#[multiversion(targets = "simd")]
pub fn tanh_backward(a: &[f32], da_then_dz: &mut [f32]) {
    for (d, &a) in da_then_dz.iter_mut().zip(a) {
        *d *= 1.0 - a * a;
    }
}

/// The scaled tanh `f(z) = A·tanh(B·z)` with `A = 1.7159`, `B = 2/3` ([`SCALED_TANH_A`],
/// [`SCALED_TANH_B`]). For example `f(1) ≈ 1.0000`, `f(0) = 0`, `f(±∞) = ±1.7159`.
#[inline]
pub fn scaled_tanh(z: f32) -> f32 {
    SCALED_TANH_A * (SCALED_TANH_B * z).tanh()
}

/// The scaled tanh's derivative written with its output: `f'(z) = A·B·(1 − tanh²(B·z))`, and
/// `tanh(B·z) = a/A`, so given `a = f(z)` it is `B·(A − a²/A)`. It is largest (`A·B ≈ 1.144`)
/// at `z = 0`.
#[inline]
pub fn scaled_tanh_prime_from_output(a: f32) -> f32 {
    SCALED_TANH_B * (SCALED_TANH_A - a * a / SCALED_TANH_A)
}

/// `A = 1.7159·tanh(2Z/3)`, element by element, in place.
pub fn scaled_tanh_forward(z_then_a: &mut [f32]) {
    for v in z_then_a {
        *v = scaled_tanh(*v);
    }
}

/// `dZ = dA ⊙ f'(Z)`, in place, where `f'(z) = (2/3)·(1.7159 − a²/1.7159)` from the kept `a`.
#[multiversion(targets = "simd")]
pub fn scaled_tanh_backward(a: &[f32], da_then_dz: &mut [f32]) {
    for (d, &a) in da_then_dz.iter_mut().zip(a) {
        *d *= scaled_tanh_prime_from_output(a);
    }
}

/// `A = max(0, Z)`, element by element, in place.
#[multiversion(targets = "simd")]
pub fn relu_forward(z_then_a: &mut [f32]) {
    for v in z_then_a {
        *v = v.max(0.0);
    }
}

/// `dZ = dA ⊙ ReLU'(Z)`, in place: the error passes where the neuron was active (`a > 0`) and
/// stops where it was not. (At `z = 0` exactly the derivative is taken as 0.)
#[multiversion(targets = "simd")]
pub fn relu_backward(a: &[f32], da_then_dz: &mut [f32]) {
    for (d, &a) in da_then_dz.iter_mut().zip(a) {
        if a <= 0.0 {
            *d = 0.0;
        }
    }
}

/// `A = Z` where `Z > 0`, `0.01·Z` elsewhere, in place.
#[multiversion(targets = "simd")]
pub fn leaky_relu_forward(z_then_a: &mut [f32]) {
    for v in z_then_a {
        if *v < 0.0 {
            *v *= LEAKY_SLOPE;
        }
    }
}

/// `dZ = dA ⊙ f'(Z)`, in place, with `f'` 1 where `a > 0` and 0.01 elsewhere (`a` has the sign of
/// `z`, so the kept output tells which side `z` was on).
#[multiversion(targets = "simd")]
pub fn leaky_relu_backward(a: &[f32], da_then_dz: &mut [f32]) {
    for (d, &a) in da_then_dz.iter_mut().zip(a) {
        if a <= 0.0 {
            *d *= LEAKY_SLOPE;
        }
    }
}

/// The softmax of each column of `Z`, `(C, N)` row-major, in place:
/// `aᵢ = e^(zᵢ − max z) / Σₖ e^(zₖ − max z)`.
///
/// Subtracting the column's largest value changes nothing mathematically (it cancels in the
/// ratio) but keeps every `e^(...)` at most 1, so large `z` cannot overflow. For example the
/// column `(1, 2, 3)` becomes `(0.090, 0.245, 0.665)`.
pub fn softmax_forward(z_then_a: &mut [f32], classes: usize) {
    let n = z_then_a.len() / classes;
    debug_assert_eq!(z_then_a.len(), classes * n);
    for j in 0..n {
        let max = (0..classes)
            .map(|c| z_then_a[c * n + j])
            .fold(f32::NEG_INFINITY, f32::max);
        let mut sum = 0.0;
        for c in 0..classes {
            let e = (z_then_a[c * n + j] - max).exp();
            z_then_a[c * n + j] = e;
            sum += e;
        }
        for c in 0..classes {
            z_then_a[c * n + j] /= sum;
        }
    }
}

/// Backward through the softmax, column by column, in place:
/// `dzᵢ = aᵢ·(daᵢ − Σₖ aₖ·daₖ)`.
///
/// In the forward pass each `aᵢ` depends on every `zₖ`: `∂aᵢ/∂zₖ = aᵢ·(δᵢₖ − aₖ)`. So now
/// `dzₖ = Σᵢ daᵢ·aᵢ·(δᵢₖ − aₖ) = aₖ·daₖ − aₖ·Σᵢ aᵢ·daᵢ`, the Jacobian applied without being built.
/// (With the cross-entropy loss the whole product collapses to `A − Y`; see
/// [`super::loss::Loss::output_delta`].)
pub fn softmax_backward(a: &[f32], da_then_dz: &mut [f32], classes: usize) {
    let n = a.len() / classes;
    debug_assert_eq!(da_then_dz.len(), a.len());
    for j in 0..n {
        let dot: f32 = (0..classes)
            .map(|c| a[c * n + j] * da_then_dz[c * n + j])
            .sum();
        for c in 0..classes {
            let i = c * n + j;
            da_then_dz[i] = a[i] * (da_then_dz[i] - dot);
        }
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
        // A diverged network's NaN stays NaN, so that training stops at it.
        assert!(sigmoid(f32::NAN).is_nan());
    }

    #[test]
    fn the_vectorised_sigmoid_is_the_scalar_one_and_near_the_standard_librarys() {
        // Every 0.001 from −100 to 100, and an odd length, so that the vector loop has a tail.
        let z: Vec<f32> = (-100_000..=100_000).map(|i| i as f32 * 0.001).collect();
        let mut a = z.clone();
        sigmoid_forward(&mut a);
        for (&z, &a) in z.iter().zip(&a) {
            assert_eq!(a.to_bits(), sigmoid(z).to_bits(), "σ({z})");
            let reference = 1.0 / (1.0 + (-z).exp());
            // Four units in the last place (one from e^(−z), the rest from rounding 1 + e^(−z)
            // and the division in both), or below the smallest normal float: from z = −88.4,
            // e^(−z) overflows to ∞ a little earlier than the exact one, and σ is 0 there.
            let tolerance = 4.0 * f32::EPSILON * reference + f32::MIN_POSITIVE;
            assert!(
                (a - reference).abs() <= tolerance,
                "σ({z}) = {a}, not {reference}"
            );
        }
        let mut nan = [0.0, f32::NAN, 1.0];
        sigmoid_forward(&mut nan);
        assert!(nan[1].is_nan() && nan[0] == 0.5);
    }

    /// `f'` from the kept output, against a central difference of `f` computed in f64.
    fn check_derivative(activation: Activation, f: impl Fn(f64) -> f64) {
        for &z in &[-6.0f32, -1.5, -0.2, 0.3, 2.0, 5.0] {
            let h = 1e-3f64;
            let numeric = (f(z as f64 + h) - f(z as f64 - h)) / (2.0 * h);
            let mut a = [z];
            activation.forward(&mut a);
            assert!(
                (a[0] as f64 - f(z as f64)).abs() < 1e-6,
                "{activation}({z})"
            );
            let mut d = [1.0];
            activation.backward(&a, &mut d);
            assert!(
                (numeric - d[0] as f64).abs() < 1e-4,
                "z = {z}: {activation}' = {}, finite difference {numeric}",
                d[0]
            );
        }
    }

    #[test]
    fn every_derivative_matches_finite_differences() {
        check_derivative(Activation::Sigmoid, |z| 1.0 / (1.0 + (-z).exp()));
        check_derivative(Activation::Tanh, f64::tanh);
        check_derivative(Activation::ScaledTanh, |z| 1.7159 * (2.0 * z / 3.0).tanh());
        check_derivative(Activation::Relu, |z| z.max(0.0));
        check_derivative(Activation::LeakyRelu, |z| {
            if z > 0.0 { z } else { LEAKY_SLOPE as f64 * z }
        });
    }

    #[test]
    fn the_scaled_tanh_maps_one_to_one_and_saturates_at_its_amplitude() {
        // LeCun's choice of A and B: f(±1) = ±1 to four places.
        assert!(
            (scaled_tanh(1.0) - 1.0).abs() < 1e-4,
            "{}",
            scaled_tanh(1.0)
        );
        assert!((scaled_tanh(-1.0) + 1.0).abs() < 1e-4);
        assert_eq!(scaled_tanh(0.0), 0.0);
        assert_eq!(scaled_tanh(100.0), SCALED_TANH_A);
        assert!((scaled_tanh_prime_from_output(0.0) - 1.7159 * 2.0 / 3.0).abs() < 1e-6);
        assert!(scaled_tanh_prime_from_output(SCALED_TANH_A).abs() < 1e-6);
    }

    #[test]
    fn softmax_columns_are_distributions_even_for_huge_inputs() {
        // Two columns, (1, 2, 3) and (1000, 0, -1000), stored row-major.
        let mut z = [1.0, 1000.0, 2.0, 0.0, 3.0, -1000.0];
        softmax_forward(&mut z, 3);
        assert!((z[0] - 0.09003057).abs() < 1e-6);
        assert!((z[2] - 0.24472847).abs() < 1e-6);
        assert!((z[4] - 0.66524096).abs() < 1e-6);
        assert_eq!([z[1], z[3], z[5]], [1.0, 0.0, 0.0]);
    }

    #[test]
    fn softmax_backward_applies_its_jacobian() {
        let z = [0.5f32, -1.0, 2.0];
        let mut a = z;
        softmax_forward(&mut a, 3);
        let da = [0.3f32, -0.7, 1.1];
        let mut dz = da;
        softmax_backward(&a, &mut dz, 3);
        // dz_k = Σ_i da_i ∂a_i/∂z_k, by finite differences of the softmax.
        for k in 0..3 {
            let h = 1e-3;
            let shifted = |s: f32| {
                let mut v = z;
                v[k] += s;
                softmax_forward(&mut v, 3);
                v
            };
            let (plus, minus) = (shifted(h), shifted(-h));
            let numeric: f32 = (0..3)
                .map(|i| da[i] * (plus[i] - minus[i]) / (2.0 * h))
                .sum();
            assert!(
                (numeric - dz[k]).abs() < 1e-3,
                "k = {k}: {} vs {numeric}",
                dz[k]
            );
        }
    }

    #[test]
    fn names_round_trip() {
        for a in Activation::ALL {
            assert_eq!(Activation::from_name(a.name()), Some(a));
        }
        for o in Output::ALL {
            assert_eq!(Output::from_name(o.name()), Some(o));
        }
        assert_eq!(Activation::from_name("softsign"), None);
        assert_eq!(Output::from_name("relu"), None);
    }
}

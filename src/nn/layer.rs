//! The dense (fully connected) layer: forward and backward, side by side.
//!
//! What it is: the affine map `Z = W·A_prev + B` of one layer and its gradients. What it is not:
//! the non-linearity (see [`super::activation`]) or the update rule (see [`super::optimizer`]).
//!
//! Shapes, stated once (dimension letters used in every comment below):
//! - `I`: inputs of the layer (784 for the first MNIST layer), `O`: outputs (neurons),
//! - `N`: images in the batch (the textbook's `m`).
//!
//! `W` is `(O, I)` row-major: row `o` holds the weights into neuron `o`. Batch matrices (`Z`,
//! `A`, `dZ`, `dA`) are `(features, N)`, one column per image as in the textbook, and stored row
//! after row: one neuron's values for the whole batch are contiguous. The input batch `A[0] = X`
//! may be stored either way: the matrix views ([`MatRef`]) carry their strides.
//!
//! The maths here runs on whole layers and knows no threads; the CPU engine ([`crate::cpu`])
//! cuts a layer into blocks of neurons, `W[rows]`, `Z[rows]`, `dW[rows]` (each a contiguous piece
//! of memory), and calls the same functions on each block.

use super::activation::Activation;
use crate::matrix::{MatMut, MatRef, gemm};
use multiversion::multiversion;
use rand::Rng;
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};

/// How the initial weights are drawn: from `N(0, s²)` with a variance that keeps the signal's
/// size steady from layer to layer, so that it neither dies out nor blows up before training
/// starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Init {
    /// `s² = 1/I` (LeCun et al., 1998): keeps `Z = W·A + B` of order 1 when the `I` inputs are,
    /// so that sigmoids start in their sensitive range instead of saturated at 0 or 1, where `σ'`
    /// and so every gradient would vanish. The original network's.
    Lecun,
    /// `s² = 2/(I + O)` (Glorot and Bengio, 2010): the average of what keeps the forward signal
    /// (`1/I`) and the backward error (`1/O`) steady, for activations that are linear near 0 such
    /// as tanh.
    Xavier,
    /// `s² = 2/I` (He et al., 2015): a ReLU zeroes half its inputs on average, halving the
    /// variance at each layer; doubling the weights' variance makes up for it.
    He,
}

impl Init {
    /// Every initialisation.
    pub const ALL: [Init; 3] = [Init::Lecun, Init::Xavier, Init::He];

    /// The one that fits `activation`: He for the ReLUs, Xavier for tanh, and LeCun's for the
    /// sigmoid (the original network's, measured against Xavier in the README) and for the
    /// scaled tanh, whose `A` and `B` LeCun chose so that unit-variance inputs through weights of
    /// variance `1/inputs` keep unit variance ("Efficient BackProp", 1998, §4.6).
    pub fn for_activation(activation: Activation) -> Init {
        match activation {
            Activation::Sigmoid | Activation::ScaledTanh => Init::Lecun,
            Activation::Tanh => Init::Xavier,
            Activation::Relu | Activation::LeakyRelu => Init::He,
        }
    }

    /// The variance `s²` of the weights of a layer with `inputs` and `outputs`.
    pub fn variance(self, inputs: usize, outputs: usize) -> f32 {
        match self {
            Init::Lecun => 1.0 / inputs as f32,
            Init::Xavier => 2.0 / (inputs + outputs) as f32,
            Init::He => 2.0 / inputs as f32,
        }
    }

    /// The name used on the command line and in model files.
    pub fn name(self) -> &'static str {
        match self {
            Init::Lecun => "lecun",
            Init::Xavier => "xavier",
            Init::He => "he",
        }
    }

    /// Parses [`Init::name`].
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|i| i.name() == name)
    }
}

impl std::fmt::Display for Init {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One fully connected layer: `O` neurons, each looking at all `I` inputs.
#[derive(Debug, Clone, PartialEq)]
pub struct Dense {
    /// `I`.
    pub inputs: usize,
    /// `O`.
    pub outputs: usize,
    /// `W`, `(O, I)` row-major.
    pub weight: Vec<f32>,
    /// `B`, `(O)`.
    pub bias: Vec<f32>,
}

/// The gradients of the loss with respect to one layer's parameters, same shapes as the layer.
///
/// Convention: [`dense_backward_params`] overwrites them; nobody needs to zero them.
#[derive(Debug, Clone, PartialEq)]
pub struct DenseGrads {
    /// `dW`, `(O, I)` row-major.
    pub dweight: Vec<f32>,
    /// `dB`, `(O)`.
    pub dbias: Vec<f32>,
}

impl DenseGrads {
    /// Gradients shaped like `layer`, all zero.
    pub fn zeros_like(layer: &Dense) -> Self {
        DenseGrads {
            dweight: vec![0.0; layer.weight.len()],
            dbias: vec![0.0; layer.bias.len()],
        }
    }
}

impl Dense {
    /// A layer with weights drawn from `N(0, s²)`, the variance `s²` chosen by `init` from the
    /// layer's fan-in `I` and fan-out `O` (see [`Init`]), and zero biases.
    pub fn new_random(inputs: usize, outputs: usize, init: Init, rng: &mut impl Rng) -> Self {
        let std_dev = init.variance(inputs, outputs).sqrt();
        let normal = Normal::new(0.0, std_dev).expect("a positive, finite standard deviation");
        Dense {
            inputs,
            outputs,
            weight: (0..inputs * outputs).map(|_| normal.sample(rng)).collect(),
            bias: vec![0.0; outputs],
        }
    }

    /// Number of trainable values: `O·I` weights and `O` biases.
    pub fn parameter_count(&self) -> usize {
        self.weight.len() + self.bias.len()
    }

    /// `W`, `(O, I)`, as a matrix view.
    pub fn w(&self) -> MatRef<'_> {
        MatRef::row_major(&self.weight, self.outputs, self.inputs)
    }

    /// Forward for a batch of `N` images: `Z = W·A_prev + B` ([`dense_forward`]).
    ///
    /// `a_prev` is `(I, N)`; `z` receives `Z`, `(O, N)` row-major.
    pub fn forward(&self, a_prev: MatRef, z: &mut [f32]) {
        dense_forward(self.w(), &self.bias, a_prev, z);
    }

    /// Backward for the parameters, given `dZ = ∂L/∂Z`, `(O, N)` row-major: overwrites `grads`
    /// with `dW = (1/m)·dZ·A_prevᵀ` and `dB = (1/m)·Σₙ dZ[:, n]` ([`dense_backward_params`]).
    pub fn backward_params(&self, a_prev: MatRef, dz: &[f32], grads: &mut DenseGrads) {
        dense_backward_params(a_prev, dz, &mut grads.dweight, &mut grads.dbias);
    }

    /// Backward to the previous layer: `dA_prev = Wᵀ·dZ` ([`dense_backward_input`]).
    ///
    /// `dz` is `(O, N)`; `da_prev` receives `(I, N)`, row-major.
    pub fn backward_input(&self, dz: MatRef, da_prev: &mut [f32]) {
        dense_backward_input(self.w(), dz, da_prev);
    }
}

// The maths of a dense layer, over matrix views. `w` and `b` may be the whole layer or any block
// of its neurons (rows of `W`, see [`MatRef::row_block`]) or of its inputs (columns of `W`, see
// [`MatRef::col_block`]): a block of a dense layer is a dense layer. The CPU engine
// ([`crate::cpu`]) gives each thread such a block.

/// Forward: `Z = W·A_prev + B`.
///
/// `w` is `(O, I)`, `b` `(O)`, `a_prev` `(I, N)`; `z` receives `Z`, `(O, N)` row-major. `B` is
/// added to every column.
pub fn dense_forward(w: MatRef, b: &[f32], a_prev: MatRef, z: &mut [f32]) {
    let (outputs, n) = (w.rows(), a_prev.cols());
    debug_assert_eq!(a_prev.rows(), w.cols());
    debug_assert_eq!(b.len(), outputs);
    let z = &mut z[..outputs * n];
    // Z = W·A_prev
    gemm(1.0, w, a_prev, 0.0, MatMut::row_major(z, outputs, n));
    // + B, broadcast over the N columns
    add_bias(z, b, n);
}

/// `Z += B`, `B` added to each of the `N` columns of `Z`, `(O, N)` row-major.
#[multiversion(targets = "simd")]
fn add_bias(z: &mut [f32], b: &[f32], n: usize) {
    for (z_row, &b) in z.chunks_exact_mut(n).zip(b) {
        for z in z_row {
            *z += b;
        }
    }
}

/// Backward for the parameters, given `dZ = ∂L/∂Z` (computed from `dA` by the activation).
///
/// In the forward pass this was `Z = W·A_prev + B`, so now we have, with `m = N`:
/// - `dW = (1/m)·dZ·A_prevᵀ`: each weight's gradient is its input times its neuron's error,
///   averaged over the batch;
/// - `dB = (1/m)·Σₙ dZ[:, n]`: the bias is added to every image, so its gradient sums them.
///
/// `a_prev` is `(I, N)`, `dz` `(O, N)` row-major with `O = db.len()`; `dw` receives `(O, I)`
/// row-major and `db` `(O)`. Overwrites them.
pub fn dense_backward_params(a_prev: MatRef, dz: &[f32], dw: &mut [f32], db: &mut [f32]) {
    let (inputs, n) = (a_prev.rows(), a_prev.cols());
    let outputs = db.len();
    let m = n as f32;
    let dz = &dz[..outputs * n];
    // dW = (1/m)·dZ·A_prevᵀ
    gemm(
        1.0 / m,
        MatRef::row_major(dz, outputs, n),
        a_prev.t(),
        0.0,
        MatMut::row_major(&mut dw[..outputs * inputs], outputs, inputs),
    );
    // dB = (1/m)·Σₙ dZ[:, n]
    for (db, dz_row) in db.iter_mut().zip(dz.chunks_exact(n)) {
        *db = dz_row.iter().sum::<f32>() / m;
    }
}

/// Backward to the previous layer: `dA_prev = Wᵀ·dZ`, the error sent back through the weights.
///
/// `w` is `(O, I)`, `dz` `(O, N)`; `da_prev` receives `(I, N)`, row-major. Every neuron of this
/// layer reaches every input, so a block of inputs (columns of `W`) needs the whole `dZ`. Not
/// needed for the first layer, whose input is the image.
pub fn dense_backward_input(w: MatRef, dz: MatRef, da_prev: &mut [f32]) {
    let (inputs, n) = (w.cols(), dz.cols());
    debug_assert_eq!(dz.rows(), w.rows());
    gemm(
        1.0,
        w.t(),
        dz,
        0.0,
        MatMut::row_major(&mut da_prev[..inputs * n], inputs, n),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Dense {
        // 2 inputs, 3 neurons.
        Dense {
            inputs: 2,
            outputs: 3,
            weight: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            bias: vec![0.5, -0.5, 1.0],
        }
    }

    #[test]
    fn forward_is_w_times_a_plus_b_per_column() {
        let layer = tiny();
        // Two images: (1, 0) and (0, 1), one column each.
        let a_prev = [1.0, 0.0, 0.0, 1.0];
        let mut z = [0.0; 6];
        layer.forward(MatRef::col_major(&a_prev, 2, 2), &mut z);
        // Row o of Z: neuron o for image 0, then for image 1.
        assert_eq!(z, [1.5, 2.5, 2.5, 3.5, 6.0, 7.0]);
        // The block of neurons 1..3 alone gives the same rows.
        let mut block = [0.0; 4];
        let a_prev = MatRef::col_major(&a_prev, 2, 2);
        dense_forward(
            layer.w().row_block(1..3),
            &layer.bias[1..3],
            a_prev,
            &mut block,
        );
        assert_eq!(block, z[2..]);
    }

    #[test]
    fn backward_averages_over_the_batch() {
        let layer = tiny();
        let a_prev = [1.0, 0.0, 0.0, 1.0];
        let a_prev = MatRef::col_major(&a_prev, 2, 2);
        // dZ, row-major (3 neurons x 2 images): neuron 0 errs by 1 on image 0, neuron 2 by 2 on
        // image 1.
        let dz = [1.0, 0.0, 0.0, 0.0, 0.0, 2.0];
        let mut grads = DenseGrads::zeros_like(&layer);
        layer.backward_params(a_prev, &dz, &mut grads);
        // dW = ½·dZ·A_prevᵀ: neuron 0 saw input 0 with error 1; neuron 2 input 1 with error 2.
        assert_eq!(grads.dweight, [0.5, 0.0, 0.0, 0.0, 0.0, 1.0]);
        assert_eq!(grads.dbias, [0.5, 0.0, 1.0]);
        // dA_prev = Wᵀ·dZ, row-major (2 inputs x 2 images): image 0 gets row 0 of W (1, 2),
        // image 1 gets 2 × row 2 of W (10, 12).
        let mut da_prev = [0.0; 4];
        layer.backward_input(MatRef::row_major(&dz, 3, 2), &mut da_prev);
        assert_eq!(da_prev, [1.0, 10.0, 2.0, 12.0]);
        // Input 1 alone.
        let mut block = [0.0; 2];
        let dz = MatRef::row_major(&dz, 3, 2);
        dense_backward_input(layer.w().col_block(1..2), dz, &mut block);
        assert_eq!(block, [2.0, 12.0]);
    }

    #[test]
    fn initial_weights_have_the_variance_of_their_scheme() {
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        for (init, expected) in [
            (Init::Lecun, 1.0 / 400.0),
            (Init::Xavier, 2.0 / 500.0),
            (Init::He, 2.0 / 400.0),
        ] {
            let layer = Dense::new_random(400, 100, init, &mut rng);
            let n = layer.weight.len() as f32;
            let mean = layer.weight.iter().sum::<f32>() / n;
            let var = layer.weight.iter().map(|w| (w - mean).powi(2)).sum::<f32>() / n;
            assert!(mean.abs() < 0.003, "{init}: mean {mean}");
            assert!(
                (var / expected - 1.0).abs() < 0.05,
                "{init}: variance {var}, expected {expected}"
            );
            assert!(layer.bias.iter().all(|&b| b == 0.0));
        }
    }
}

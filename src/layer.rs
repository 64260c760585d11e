//! The dense (fully connected) layer: forward and backward, side by side.
//!
//! What it is: the affine map `Z = W·A_prev + B` of one layer and its gradients. What it is not:
//! the non-linearity (see [`crate::activation`]) or the update rule (see [`crate::optimizer`]).
//!
//! Shapes, stated once (dimension letters used in every comment below):
//! - `I`: inputs of the layer (784 for the first MNIST layer), `O`: outputs (neurons),
//! - `N`: images in the batch (the textbook's `m`).
//!
//! `W` is `(O, I)` row-major: row `o` holds the weights into neuron `o`. Batch matrices (`A_prev`,
//! `Z`, `dZ`, `dA_prev`) are `(features, N)` with one column per image, stored column after
//! column, so that one image's values are contiguous in memory.

use crate::matrix::{MatMut, MatRef, gemm};
use rand::Rng;
use rand_distr::{Distribution, Normal};

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
/// Convention: [`Dense::backward`] overwrites them; nobody needs to zero them.
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
    /// A layer with weights drawn from `N(0, 1/I)` and zero biases.
    ///
    /// The variance `1/I` ("LeCun initialisation") keeps `Z = W·A + B` of order 1 when the `I`
    /// inputs are of order 1, so that the sigmoids start in their sensitive range instead of
    /// saturated at 0 or 1, where `σ'` and so every gradient would vanish.
    pub fn new_random(inputs: usize, outputs: usize, rng: &mut impl Rng) -> Self {
        let std_dev = (1.0 / inputs as f32).sqrt();
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

    /// `W` as a matrix view.
    pub fn w(&self) -> MatRef<'_> {
        MatRef::row_major(&self.weight, self.outputs, self.inputs)
    }

    /// Forward: `Z = W·A_prev + B`, for a batch of `N` images.
    ///
    /// `a_prev` is `(I, N)`; `z` receives `(O, N)`, one column per image. `B` is added to every
    /// column.
    pub fn forward(&self, a_prev: MatRef, z: &mut [f32]) {
        let n = a_prev.cols();
        debug_assert_eq!(a_prev.rows(), self.inputs);
        let z = &mut z[..self.outputs * n];
        // Z = W·A_prev
        gemm(
            1.0,
            self.w(),
            a_prev,
            0.0,
            MatMut::col_major(z, self.outputs, n),
        );
        // + B, broadcast over the N columns
        for column in z.chunks_exact_mut(self.outputs) {
            for (zo, &bo) in column.iter_mut().zip(&self.bias) {
                *zo += bo;
            }
        }
    }

    /// Backward, given `dZ = ∂L/∂Z` for the batch (computed from `dA` by the activation):
    ///
    /// In the forward pass this was `Z = W·A_prev + B`, so now we have, with `m = N`:
    /// - `dW = (1/m)·dZ·A_prevᵀ`: each weight's gradient is its input times its neuron's error,
    ///   averaged over the batch;
    /// - `dB = (1/m)·Σₙ dZ[:, n]`: the bias is added to every image, so its gradient sums them;
    /// - `dA_prev = Wᵀ·dZ`: the error sent back to the previous layer (`None` for the first layer,
    ///   whose input is the image and needs no gradient).
    ///
    /// `a_prev` is `(I, N)`, `dz` is `(O, N)`, `da_prev` receives `(I, N)`. Overwrites `grads`.
    pub fn backward(
        &self,
        a_prev: MatRef,
        dz: &[f32],
        grads: &mut DenseGrads,
        da_prev: Option<&mut [f32]>,
    ) {
        let n = a_prev.cols();
        let m = n as f32;
        let dz_mat = MatRef::col_major(&dz[..self.outputs * n], self.outputs, n);
        // dW = (1/m)·dZ·A_prevᵀ
        gemm(
            1.0 / m,
            dz_mat,
            a_prev.t(),
            0.0,
            MatMut::row_major(&mut grads.dweight, self.outputs, self.inputs),
        );
        // dB = (1/m)·Σₙ dZ[:, n]
        grads.dbias.fill(0.0);
        for column in dz[..self.outputs * n].chunks_exact(self.outputs) {
            for (db, &d) in grads.dbias.iter_mut().zip(column) {
                *db += d;
            }
        }
        for db in &mut grads.dbias {
            *db /= m;
        }
        // dA_prev = Wᵀ·dZ
        if let Some(da_prev) = da_prev {
            gemm(
                1.0,
                self.w().t(),
                dz_mat,
                0.0,
                MatMut::col_major(&mut da_prev[..self.inputs * n], self.inputs, n),
            );
        }
    }
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
        assert_eq!(z, [1.5, 2.5, 6.0, 2.5, 3.5, 7.0]);
    }

    #[test]
    fn backward_averages_over_the_batch() {
        let layer = tiny();
        let a_prev = [1.0, 0.0, 0.0, 1.0];
        let dz = [1.0, 0.0, 0.0, 0.0, 0.0, 2.0];
        let mut grads = DenseGrads::zeros_like(&layer);
        let mut da_prev = [0.0; 4];
        layer.backward(
            MatRef::col_major(&a_prev, 2, 2),
            &dz,
            &mut grads,
            Some(&mut da_prev),
        );
        // dW = ½·dZ·A_prevᵀ: neuron 0 saw input 0 with error 1; neuron 2 input 1 with error 2.
        assert_eq!(grads.dweight, [0.5, 0.0, 0.0, 0.0, 0.0, 1.0]);
        assert_eq!(grads.dbias, [0.5, 0.0, 1.0]);
        // dA_prev = Wᵀ·dZ: image 0 gets row 0 of W, image 1 gets 2 × row 2.
        assert_eq!(da_prev, [1.0, 2.0, 10.0, 12.0]);
    }

    #[test]
    fn initial_weights_have_variance_one_over_fan_in() {
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let layer = Dense::new_random(400, 100, &mut rng);
        let n = layer.weight.len() as f32;
        let mean = layer.weight.iter().sum::<f32>() / n;
        let var = layer.weight.iter().map(|w| (w - mean).powi(2)).sum::<f32>() / n;
        assert!(mean.abs() < 0.002, "mean {mean}");
        assert!(
            (var * 400.0 - 1.0).abs() < 0.05,
            "variance × I = {}",
            var * 400.0
        );
        assert!(layer.bias.iter().all(|&b| b == 0.0));
    }
}

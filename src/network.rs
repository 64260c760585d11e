//! The network: dense layers stacked, the forward pass through all of them and the backward pass
//! (backprop) back through them.
//!
//! What it is: the maths of the whole network for one batch, `forward` and `backward` side by
//! side. What it is not: the training loop ([`crate::train`]), the update rule
//! ([`crate::optimizer`]) or file handling ([`crate::model_file`]).
//!
//! Layers are numbered `l = 1..=L` in the formulas (layer `l` is `layers[l - 1]` in code) and
//! `A[0]` is the input batch `X`. Shapes: `N` images per batch, `n[l]` neurons in layer `l`
//! (`n[0]` = pixels per image). Every batch matrix is `(n[l], N)`, one column per image; the
//! layers' own matrices are stored row after row (see [`crate::layer`]), the input `X` as the
//! caller has it (one image after another, for a batch built from a data set).
//!
//! Threads: each layer's work is cut into blocks of neurons, one per thread of the current
//! [`crate::team::Team`]; every value is computed by the same code whatever the cut, so the
//! result does not depend on the number of threads.

use crate::activation::Activation;
use crate::error::{Error, Result};
use crate::layer::{Dense, DenseGrads};
use crate::loss::{quadratic_loss, quadratic_loss_backward};
use crate::matrix::MatRef;
use crate::team::{self, row_blocks};
use rand::Rng;
use smallvec::SmallVec;

/// The original network: 784 pixels in, two hidden layers of 128 and 64, 10 digits out.
pub const ORIGINAL_SIZES: [usize; 4] = [784, 128, 64, 10];

/// A feed-forward network of dense layers with the same activation after each.
#[derive(Debug, Clone, PartialEq)]
pub struct Network {
    layers: Vec<Dense>,
    activation: Activation,
}

/// The buffers one batch needs, allocated once for batches of up to `capacity` images, so that
/// the training loop does not allocate.
#[derive(Debug, Clone)]
pub struct Workspace {
    capacity: usize,
    /// `A[l]` for `l = 1..=L`, each `(n[l], N)`: what forward keeps for backward
    /// (backward needs `A[l−1]` for `dW` and `A[l]` for `σ'(Z[l]) = A[l]·(1 − A[l])`).
    activations: Vec<Vec<f32>>,
    /// `dA[l]`, turned into `dZ[l]` in place, for `l = 1..=L`, each `(n[l], N)`.
    deltas: Vec<Vec<f32>>,
}

impl Workspace {
    /// `A[l]` as the last [`Network::forward`] over `n` images left it, for `l = 1..=L` as in the
    /// formulas (`A[0]` is the input, which the caller has): `(n[l], N)` row-major, so value `j`
    /// of row `o` is neuron `o`'s activation for image `j`. For one image (`n = 1`) it is simply
    /// the layer's `n[l]` activations, e.g. 128 values for `l = 1` of the original network.
    ///
    /// Panics if `l` is 0 or past the last layer, or if `n` is over the workspace's capacity.
    pub fn activations(&self, l: usize, n: usize) -> &[f32] {
        assert!(
            (1..=self.activations.len()).contains(&l),
            "layer {l} of a network with layers 1..={}",
            self.activations.len()
        );
        assert!(
            n <= self.capacity,
            "{n} images in a workspace for {}",
            self.capacity
        );
        let buffer = &self.activations[l - 1];
        &buffer[..buffer.len() / self.capacity.max(1) * n]
    }
}

/// `dW[l]` and `dB[l]` of every layer, overwritten by each [`Network::backward`].
#[derive(Debug, Clone, PartialEq)]
pub struct Gradients {
    pub layers: Vec<DenseGrads>,
}

impl Network {
    /// A network with the given layer sizes (`[784, 128, 64, 10]` has three layers) and random
    /// weights (see [`Dense::new_random`]).
    pub fn new_random(sizes: &[usize], activation: Activation, rng: &mut impl Rng) -> Result<Self> {
        check_sizes(sizes)?;
        let layers = sizes
            .windows(2)
            .map(|io| Dense::new_random(io[0], io[1], rng))
            .collect();
        Ok(Network { layers, activation })
    }

    /// A network from existing layers; each layer's inputs must equal the previous one's outputs.
    pub fn from_layers(layers: Vec<Dense>, activation: Activation) -> Result<Self> {
        if layers.is_empty() {
            return Err(Error::config(
                "layers",
                "a network needs at least one layer",
            ));
        }
        for (l, pair) in layers.windows(2).enumerate() {
            if pair[0].outputs != pair[1].inputs {
                return Err(Error::config(
                    "layers",
                    format!(
                        "layer {} has {} outputs but layer {} takes {} inputs",
                        l + 1,
                        pair[0].outputs,
                        l + 2,
                        pair[1].inputs
                    ),
                ));
            }
        }
        for layer in &layers {
            if layer.weight.len() != layer.inputs * layer.outputs
                || layer.bias.len() != layer.outputs
            {
                return Err(Error::config(
                    "layers",
                    "parameter count does not match shape",
                ));
            }
        }
        Ok(Network { layers, activation })
    }

    /// The sizes `[n[0], n[1], ..., n[L]]`, e.g. `[784, 128, 64, 10]`.
    pub fn sizes(&self) -> Vec<usize> {
        let mut sizes = vec![self.layers[0].inputs];
        sizes.extend(self.layers.iter().map(|l| l.outputs));
        sizes
    }

    /// Inputs per image (`n[0]`).
    pub fn inputs(&self) -> usize {
        self.layers[0].inputs
    }

    /// Outputs per image (`n[L]`): the number of classes.
    pub fn outputs(&self) -> usize {
        self.layers[self.layers.len() - 1].outputs
    }

    /// The activation after every layer.
    pub fn activation(&self) -> Activation {
        self.activation
    }

    /// The layers, first to last.
    pub fn layers(&self) -> &[Dense] {
        &self.layers
    }

    /// The layers, for the optimizer.
    pub fn layers_mut(&mut self) -> &mut [Dense] {
        &mut self.layers
    }

    /// Number of trainable values: 109,386 for the original 784-128-64-10 network.
    pub fn parameter_count(&self) -> usize {
        self.layers.iter().map(Dense::parameter_count).sum()
    }

    /// Buffers for batches of up to `capacity` images.
    pub fn workspace(&self, capacity: usize) -> Workspace {
        let buffers = || {
            self.layers
                .iter()
                .map(|l| vec![0.0; l.outputs * capacity])
                .collect()
        };
        Workspace {
            capacity,
            activations: buffers(),
            deltas: buffers(),
        }
    }

    /// Zero gradients shaped like this network.
    pub fn gradients(&self) -> Gradients {
        Gradients {
            layers: self.layers.iter().map(DenseGrads::zeros_like).collect(),
        }
    }

    /// Forward pass for a batch `x` of `(n[0], N)`: for `l = 1..=L`,
    /// `Z[l] = W[l]·A[l−1] + B[l]` then `A[l] = σ(Z[l])`, with `A[0] = X`.
    ///
    /// Returns the output `A[L]`, `(n[L], N)` row-major; every `A[l]` stays in the workspace for
    /// backward.
    pub fn forward<'w>(&self, x: MatRef, ws: &'w mut Workspace) -> &'w [f32] {
        let n = x.cols();
        debug_assert_eq!(x.rows(), self.inputs());
        assert!(
            n <= ws.capacity,
            "batch of {n} in a workspace for {}",
            ws.capacity
        );
        team::current(|team| {
            for (l, layer) in self.layers.iter().enumerate() {
                let (before, current) = ws.activations.split_at_mut(l);
                let a_prev = match l {
                    0 => x,
                    _ => ws_matrix(&before[l - 1], layer.inputs, n),
                };
                // Z[l] = W[l]·A[l−1] + B[l], then A[l] = σ(Z[l]) in place, a block of neurons
                // per thread.
                let ranges = team.row_ranges(layer.outputs, layer.outputs * layer.inputs * n);
                let blocks = row_blocks(&mut current[0], n, &ranges);
                let mut parts: SmallVec<[_; 8]> = ranges.into_iter().zip(blocks).collect();
                team.for_each(&mut parts, |(rows, z_then_a)| {
                    layer.forward(a_prev, rows.clone(), z_then_a);
                    self.activation.forward(z_then_a);
                });
            }
        });
        &ws.activations[self.layers.len() - 1][..self.outputs() * n]
    }

    /// Backward pass (backprop) after [`Network::forward`] on the same `x`, for targets `y`
    /// `(n[L], N)` row-major (one-hot columns). Overwrites `grads` with `dW[l]`, `dB[l]` of the
    /// loss `L = (1/N) Σ ½‖A[L] − Y‖²`:
    ///
    /// - `dA[L] = A[L] − Y` (the loss's gradient, [`quadratic_loss_backward`]);
    /// - for `l = L..=1`: `dZ[l] = dA[l] ⊙ σ'(Z[l])`, then `dW[l] = (1/N)·dZ[l]·A[l−1]ᵀ` and
    ///   `dB[l] = (1/N)·Σ dZ[l]` ([`Dense::backward_params`]), and `dA[l−1] = W[l]ᵀ·dZ[l]`
    ///   ([`Dense::backward_input`]).
    ///
    /// `dA[0]`, the gradient for the pixels, is never needed and not computed.
    pub fn backward(&self, x: MatRef, y: &[f32], ws: &mut Workspace, grads: &mut Gradients) {
        let n = x.cols();
        let last = self.layers.len() - 1;
        let out = self.outputs() * n;
        quadratic_loss_backward(
            &ws.activations[last][..out],
            &y[..out],
            &mut ws.deltas[last][..out],
        );
        team::current(|team| {
            for l in (0..=last).rev() {
                let layer = &self.layers[l];
                let a_prev = match l {
                    0 => x,
                    _ => ws_matrix(&ws.activations[l - 1], layer.inputs, n),
                };
                let a = &ws.activations[l];
                let grads = &mut grads.layers[l];
                // dZ[l] = dA[l] ⊙ σ'(Z[l]) in place, then dW[l] and dB[l], a block of neurons per
                // thread.
                let work = layer.outputs * layer.inputs * n;
                let ranges = team.row_ranges(layer.outputs, work);
                let deltas = row_blocks(&mut ws.deltas[l], n, &ranges);
                let dws = row_blocks(&mut grads.dweight, layer.inputs, &ranges);
                let dbs = row_blocks(&mut grads.dbias, 1, &ranges);
                let mut parts: SmallVec<[_; 8]> = (ranges.into_iter().zip(deltas))
                    .zip(dws.into_iter().zip(dbs))
                    .collect();
                team.for_each(&mut parts, |((rows, da_then_dz), (dw, db))| {
                    let a = &a[rows.start * n..rows.end * n];
                    self.activation.backward(a, da_then_dz);
                    layer.backward_params(a_prev, da_then_dz, rows.clone(), dw, db);
                });
                drop(parts);
                if l == 0 {
                    break;
                }
                // dA[l−1] = W[l]ᵀ·dZ[l], a block of the previous layer's neurons per thread.
                let (before, current) = ws.deltas.split_at_mut(l);
                let dz = ws_matrix(&current[0], layer.outputs, n);
                let ranges = team.row_ranges(layer.inputs, work);
                let blocks = row_blocks(&mut before[l - 1], n, &ranges);
                let mut parts: SmallVec<[_; 8]> = ranges.into_iter().zip(blocks).collect();
                team.for_each(&mut parts, |(inputs, da_prev)| {
                    layer.backward_input(dz, inputs.clone(), da_prev);
                });
            }
        });
    }

    /// One step's maths for a batch: forward, the loss, backward. Returns the loss
    /// `(1/N) Σ ½‖A[L] − Y‖²` before the update.
    pub fn loss_and_gradients(
        &self,
        x: MatRef,
        y: &[f32],
        ws: &mut Workspace,
        grads: &mut Gradients,
    ) -> f32 {
        let n = x.cols();
        let output = self.forward(x, ws);
        let loss = quadratic_loss(output, &y[..output.len()], n);
        self.backward(x, y, ws, grads);
        loss
    }

    /// The loss of a batch, without gradients.
    pub fn loss(&self, x: MatRef, y: &[f32], ws: &mut Workspace) -> f32 {
        let n = x.cols();
        let output = self.forward(x, ws);
        quadratic_loss(output, &y[..output.len()], n)
    }
}

/// The first `rows x n` values of a workspace buffer as a row-major matrix.
fn ws_matrix(buffer: &[f32], rows: usize, n: usize) -> MatRef<'_> {
    MatRef::row_major(&buffer[..rows * n], rows, n)
}

/// The predicted class of each image of a batch output `(C, N)` stored row-major: the row with the
/// largest value in its column.
pub fn predicted_classes(output: &[f32], classes: usize) -> impl Iterator<Item = usize> + '_ {
    let n = output.len() / classes;
    (0..n).map(move |j| {
        let mut best = 0;
        for c in 1..classes {
            if output[c * n + j] > output[best * n + j] {
                best = c;
            }
        }
        best
    })
}

/// Checks layer sizes such as `[784, 128, 64, 10]`: at least an input and an output size, none 0.
pub fn check_sizes(sizes: &[usize]) -> Result<()> {
    if sizes.len() < 2 {
        return Err(Error::config(
            "layers",
            format!(
                "need at least an input and an output size (e.g. 784,128,64,10), got {}",
                sizes.len()
            ),
        ));
    }
    if let Some(i) = sizes.iter().position(|&s| s == 0) {
        return Err(Error::config(
            "layers",
            format!(
                "size {} of the list is 0; every layer needs at least one neuron",
                i + 1
            ),
        ));
    }
    Ok(())
}

/// The index of the largest value: the predicted class of an output column.
pub fn argmax(values: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn the_original_network_has_109386_parameters() {
        let net = Network::new_random(
            &ORIGINAL_SIZES,
            Activation::Sigmoid,
            &mut ChaCha8Rng::seed_from_u64(0),
        )
        .unwrap();
        assert_eq!(net.parameter_count(), 109_386);
        assert_eq!(net.sizes(), ORIGINAL_SIZES);
    }

    #[test]
    fn sizes_with_a_zero_or_too_few_entries_are_refused() {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        for bad in [&[784, 0, 10][..], &[784], &[]] {
            let err = Network::new_random(bad, Activation::Sigmoid, &mut rng).unwrap_err();
            assert!(
                matches!(err, Error::InvalidConfig { what: "layers", .. }),
                "{err}"
            );
        }
    }

    #[test]
    fn the_workspace_keeps_every_layers_activations_after_forward() {
        let net = Network::new_random(
            &[4, 3, 2],
            Activation::Sigmoid,
            &mut ChaCha8Rng::seed_from_u64(0),
        )
        .unwrap();
        let mut ws = net.workspace(5);
        let x = [0.0, 0.5, 1.0, 0.25];
        let output = net.forward(MatRef::col_major(&x, 4, 1), &mut ws).to_vec();
        assert_eq!(ws.activations(1, 1).len(), 3);
        assert_eq!(ws.activations(2, 1), output);
    }

    #[test]
    fn argmax_picks_the_first_largest() {
        assert_eq!(argmax(&[0.1, 0.7, 0.2, 0.7]), 1);
    }

    #[test]
    fn predicted_classes_read_each_column() {
        // 3 classes x 2 images, row-major: image 0 is class 2, image 1 class 0.
        let output = [0.1, 0.9, 0.2, 0.05, 0.7, 0.3];
        assert_eq!(predicted_classes(&output, 3).collect::<Vec<_>>(), [2, 0]);
    }
}

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

use crate::activation::{Activation, Output};
use crate::error::{Error, Result};
use crate::layer::{Dense, DenseGrads, Init};
use crate::loss::Loss;
use crate::matrix::MatRef;
use crate::team::{self, row_blocks};
use rand::{Rng, RngExt};
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

/// The original network: 784 pixels in, two hidden layers of 128 and 64, 10 digits out.
pub const ORIGINAL_SIZES: [usize; 4] = [784, 128, 64, 10];

/// The functions of a network, besides its sizes: the activation after each hidden layer, the
/// output layer's function and the loss it is trained with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Functions {
    pub hidden: Activation,
    pub output: Output,
    pub loss: Loss,
}

impl Functions {
    /// The original network's: sigmoids everywhere and the quadratic loss.
    pub const ORIGINAL: Functions = Functions {
        hidden: Activation::Sigmoid,
        output: Output::Sigmoid,
        loss: Loss::Quadratic,
    };
}

impl Default for Functions {
    fn default() -> Self {
        Functions::ORIGINAL
    }
}

/// A feed-forward network of dense layers: an [`Activation`] after each hidden layer, an
/// [`Output`] function after the last, trained with a [`Loss`].
#[derive(Debug, Clone, PartialEq)]
pub struct Network {
    layers: Vec<Dense>,
    functions: Functions,
}

/// The buffers one batch needs, allocated once for batches of up to `capacity` images, so that
/// the training loop does not allocate.
#[derive(Debug, Clone)]
pub struct Workspace {
    capacity: usize,
    /// `A[l]` for `l = 1..=L`, each `(n[l], N)`: what forward keeps for backward
    /// (backward needs `A[l−1]` for `dW` and `A[l]` for `f'(Z[l])`, see [`crate::activation`]).
    activations: Vec<Vec<f32>>,
    /// `dA[l]`, turned into `dZ[l]` in place, for `l = 1..=L`, each `(n[l], N)`.
    deltas: Vec<Vec<f32>>,
    /// Dropout's masks and masked activations, in a workspace made for training with dropout.
    dropout: Option<Dropout>,
}

/// Dropout (Srivastava et al., 2014) during training: each hidden neuron is switched off for an
/// image with probability `p`, so that no neuron can rely on particular others being there.
///
/// Forward, for hidden layers `l < L`: `Ã[l] = A[l] ⊙ M[l]`, where each entry of the mask `M[l]`
/// is `0` (dropped, probability `p`) or `1/(1 − p)` (kept); the next layer reads `Ã[l]` instead of
/// `A[l]`. Scaling the kept ones by `1/(1 − p)` ("inverted dropout") keeps each neuron's expected
/// output unchanged, so that the network is used without masks after training.
/// Backward: `dA[l] = dÃ[l] ⊙ M[l]`, before `dZ[l] = dA[l] ⊙ f'(Z[l])`.
#[derive(Debug, Clone)]
struct Dropout {
    /// `p`.
    rate: f32,
    /// `M[l]` for the hidden layers, each `(n[l], N)`.
    masks: Vec<Vec<f32>>,
    /// `Ã[l] = A[l] ⊙ M[l]` for the hidden layers, each `(n[l], N)`.
    kept: Vec<Vec<f32>>,
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

    /// Draws new dropout masks `M[l]` for a batch of `n` images (see [`Dropout`]), used by the
    /// following forward and backward passes. Does nothing in a workspace without dropout.
    ///
    /// The masks are drawn here, in one thread, in a fixed order, so that a seed gives the same
    /// masks whatever the number of threads.
    pub fn draw_dropout_masks(&mut self, rng: &mut impl Rng, n: usize) {
        if let Some(dropout) = &mut self.dropout {
            for mask in &mut dropout.masks {
                let rows = mask.len() / self.capacity;
                dropout_mask(dropout.rate, rng, &mut mask[..rows * n]);
            }
        }
    }
}

/// Fills `mask` with dropout's `0` (probability `rate`) or `1/(1 − rate)` (kept).
pub fn dropout_mask(rate: f32, rng: &mut impl Rng, mask: &mut [f32]) {
    let kept = 1.0 / (1.0 - rate);
    for m in mask {
        *m = if rng.random::<f32>() < rate {
            0.0
        } else {
            kept
        };
    }
}

/// `dW[l]` and `dB[l]` of every layer, overwritten by each [`Network::backward`].
#[derive(Debug, Clone, PartialEq)]
pub struct Gradients {
    pub layers: Vec<DenseGrads>,
}

impl Network {
    /// A network with the given layer sizes (`[784, 128, 64, 10]` has three layers), functions,
    /// and random weights drawn as `init` says (see [`Dense::new_random`]).
    pub fn new_random(
        sizes: &[usize],
        functions: Functions,
        init: Init,
        rng: &mut impl Rng,
    ) -> Result<Self> {
        check_sizes(sizes)?;
        let layers = sizes
            .windows(2)
            .map(|io| Dense::new_random(io[0], io[1], init, rng))
            .collect();
        Ok(Network { layers, functions })
    }

    /// A network from existing layers; each layer's inputs must equal the previous one's outputs.
    pub fn from_layers(layers: Vec<Dense>, functions: Functions) -> Result<Self> {
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
        Ok(Network { layers, functions })
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

    /// The activation, output function and loss.
    pub fn functions(&self) -> Functions {
        self.functions
    }

    /// The activation after every hidden layer.
    pub fn activation(&self) -> Activation {
        self.functions.hidden
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
        Workspace {
            capacity,
            activations: self.batch_buffers(capacity, self.layers.len()),
            deltas: self.batch_buffers(capacity, self.layers.len()),
            dropout: None,
        }
    }

    /// Buffers for training on batches of up to `capacity` images with dropout at `rate`
    /// (`0 ≤ rate < 1`; 0 is the same as [`Network::workspace`]). Draw the masks before each
    /// batch with [`Workspace::draw_dropout_masks`].
    pub fn training_workspace(&self, capacity: usize, rate: f32) -> Workspace {
        let mut ws = self.workspace(capacity);
        if rate > 0.0 {
            let hidden = self.layers.len() - 1;
            let mut masks = self.batch_buffers(capacity, hidden);
            masks.iter_mut().for_each(|m| m.fill(1.0));
            ws.dropout = Some(Dropout {
                rate,
                masks,
                kept: self.batch_buffers(capacity, hidden),
            });
        }
        ws
    }

    /// One `(n[l], capacity)` buffer for each of the first `count` layers.
    fn batch_buffers(&self, capacity: usize, count: usize) -> Vec<Vec<f32>> {
        self.layers[..count]
            .iter()
            .map(|l| vec![0.0; l.outputs * capacity])
            .collect()
    }

    /// Zero gradients shaped like this network.
    pub fn gradients(&self) -> Gradients {
        Gradients {
            layers: self.layers.iter().map(DenseGrads::zeros_like).collect(),
        }
    }

    /// Forward pass for a batch `x` of `(n[0], N)`: for `l = 1..=L`,
    /// `Z[l] = W[l]·A[l−1] + B[l]` then `A[l] = f(Z[l])`, with `A[0] = X`, `f` the hidden
    /// activation for `l < L` and the output function for `l = L`. In a training workspace with
    /// dropout, the next layer reads `A[l] ⊙ M[l]` instead of `A[l]` (see [`Dropout`]).
    ///
    /// Returns the output `A[L]`, `(n[L], N)` row-major; every `A[l]` stays in the workspace for
    /// backward.
    pub fn forward<'w>(&self, x: MatRef, ws: &'w mut Workspace) -> &'w [f32] {
        let n = x.cols();
        let last = self.layers.len() - 1;
        debug_assert_eq!(x.rows(), self.inputs());
        assert!(
            n <= ws.capacity,
            "batch of {n} in a workspace for {}",
            ws.capacity
        );
        team::current(|team| {
            for (l, layer) in self.layers.iter().enumerate() {
                let (before, current) = ws.activations.split_at_mut(l);
                let a_prev = match (l, &ws.dropout) {
                    (0, _) => x,
                    (_, Some(dropout)) => ws_matrix(&dropout.kept[l - 1], layer.inputs, n),
                    (_, None) => ws_matrix(&before[l - 1], layer.inputs, n),
                };
                // Z[l] = W[l]·A[l−1] + B[l], then for a hidden layer A[l] = f(Z[l]) in place,
                // a block of neurons per thread.
                let ranges = team.row_ranges(layer.outputs, layer.outputs * layer.inputs * n);
                let blocks = row_blocks(&mut current[0], n, &ranges);
                let mut parts: SmallVec<[_; 8]> = ranges.into_iter().zip(blocks).collect();
                team.for_each(&mut parts, |(rows, z_then_a)| {
                    layer.forward(a_prev, rows.clone(), z_then_a);
                    if l < last {
                        self.functions
                            .hidden
                            .forward(&mut z_then_a[..rows.len() * n]);
                    }
                });
                drop(parts);
                if l < last {
                    if let Some(dropout) = &mut ws.dropout {
                        // Ã[l] = A[l] ⊙ M[l]
                        let size = layer.outputs * n;
                        let a = &current[0][..size];
                        let mask = &dropout.masks[l][..size];
                        for ((kept, &a), &m) in dropout.kept[l][..size].iter_mut().zip(a).zip(mask)
                        {
                            *kept = a * m;
                        }
                    }
                }
            }
        });
        // A[L] = f(Z[L]): the output function, over whole columns (the softmax needs them).
        let classes = self.outputs();
        let output = &mut ws.activations[last][..classes * n];
        self.functions.output.forward(output, classes);
        output
    }

    /// Backward pass (backprop) after [`Network::forward`] on the same `x`, for targets `y`
    /// `(n[L], N)` row-major (one-hot columns). Overwrites `grads` with `dW[l]`, `dB[l]` of the
    /// loss averaged over the batch:
    ///
    /// - `dZ[L]` from the loss and the output function ([`Loss::output_delta`]; `A[L] − Y` for the
    ///   cross-entropy);
    /// - for `l = L..=1`: `dZ[l] = dA[l] ⊙ f'(Z[l])` (for `l < L`), then
    ///   `dW[l] = (1/N)·dZ[l]·A[l−1]ᵀ` and `dB[l] = (1/N)·Σ dZ[l]` ([`Dense::backward_params`]),
    ///   and `dA[l−1] = W[l]ᵀ·dZ[l]` ([`Dense::backward_input`]), masked by dropout if any.
    ///
    /// `dA[0]`, the gradient for the pixels, is never needed and not computed.
    pub fn backward(&self, x: MatRef, y: &[f32], ws: &mut Workspace, grads: &mut Gradients) {
        let n = x.cols();
        let last = self.layers.len() - 1;
        let classes = self.outputs();
        let out = classes * n;
        self.functions.loss.output_delta(
            self.functions.output,
            &ws.activations[last][..out],
            &y[..out],
            &mut ws.deltas[last][..out],
            classes,
        );
        team::current(|team| {
            for l in (0..=last).rev() {
                let layer = &self.layers[l];
                let a_prev = match (l, &ws.dropout) {
                    (0, _) => x,
                    (_, Some(dropout)) => ws_matrix(&dropout.kept[l - 1], layer.inputs, n),
                    (_, None) => ws_matrix(&ws.activations[l - 1], layer.inputs, n),
                };
                let a = &ws.activations[l];
                let mask = match &ws.dropout {
                    Some(dropout) if l < last => Some(&dropout.masks[l]),
                    _ => None,
                };
                let grads = &mut grads.layers[l];
                // For a hidden layer dA[l] ⊙ M[l] (dropout) and dZ[l] = dA[l] ⊙ f'(Z[l]), in
                // place; then dW[l] and dB[l]; a block of neurons per thread.
                let work = layer.outputs * layer.inputs * n;
                let ranges = team.row_ranges(layer.outputs, work);
                let deltas = row_blocks(&mut ws.deltas[l], n, &ranges);
                let dws = row_blocks(&mut grads.dweight, layer.inputs, &ranges);
                let dbs = row_blocks(&mut grads.dbias, 1, &ranges);
                let mut parts: SmallVec<[_; 8]> = (ranges.into_iter().zip(deltas))
                    .zip(dws.into_iter().zip(dbs))
                    .collect();
                team.for_each(&mut parts, |((rows, da_then_dz), (dw, db))| {
                    let block = rows.start * n..rows.end * n;
                    let da_then_dz = &mut da_then_dz[..rows.len() * n];
                    if l < last {
                        if let Some(mask) = mask {
                            for (d, &m) in da_then_dz.iter_mut().zip(&mask[block.clone()]) {
                                *d *= m;
                            }
                        }
                        self.functions.hidden.backward(&a[block], da_then_dz);
                    }
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

    /// One step's maths for a batch: forward, the loss, backward. Returns the loss before the
    /// update, averaged over the batch.
    pub fn loss_and_gradients(
        &self,
        x: MatRef,
        y: &[f32],
        ws: &mut Workspace,
        grads: &mut Gradients,
    ) -> f32 {
        let loss = self.loss(x, y, ws);
        self.backward(x, y, ws, grads);
        loss
    }

    /// The loss of a batch, averaged over its images, without gradients.
    pub fn loss(&self, x: MatRef, y: &[f32], ws: &mut Workspace) -> f32 {
        let n = x.cols();
        let output = self.forward(x, ws);
        let Functions {
            output: f, loss, ..
        } = self.functions;
        loss.value(f, output, &y[..output.len()], n)
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
            Functions::ORIGINAL,
            Init::Lecun,
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
            let err =
                Network::new_random(bad, Functions::ORIGINAL, Init::Lecun, &mut rng).unwrap_err();
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
            Functions::ORIGINAL,
            Init::Lecun,
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

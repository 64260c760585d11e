//! The network: dense layers stacked, the forward pass through all of them and the backward pass
//! (backprop) back through them.
//!
//! What it is: the maths of the whole network for one batch, `forward` and `backward` side by
//! side. What it is not: the training loop ([`crate::train`]), the update rule
//! ([`super::optimizer`]) or file handling ([`crate::model_file`]).
//!
//! Layers are numbered `l = 1..=L` in the formulas (layer `l` is `layers[l - 1]` in code) and
//! `A[0]` is the input batch `X`. Shapes: `N` images per batch, `n[l]` neurons in layer `l`
//! (`n[0]` = pixels per image). Every batch matrix is `(n[l], N)`, one column per image; the
//! layers' own matrices are stored row after row (see [`super::layer`]), the input `X` as the
//! caller has it (one image after another, for a batch built from a data set).
//!
//! What forward keeps for backward lives in a [`Workspace`]: `A[l]` of every layer (backward
//! needs `A[l−1]` for `dW[l]` and `A[l]` for `f'(Z[l])`), and dropout's masks.
//!
//! This is the plain recipe, whole layers one after another on the calling thread: the readable
//! reference. The CPU engine ([`crate::cpu`]) runs the same recipe with each layer cut into
//! blocks of neurons, one per thread, and is tested to give the same bits.

use super::activation::{Activation, Output};
use super::dropout::dropout_backward;
use super::layer::{Dense, DenseGrads, Init};
use super::loss::Loss;
use super::workspace::BackwardBuffers;
pub use super::workspace::Workspace;
use crate::error::{Error, Result};
use crate::matrix::MatRef;
use rand::Rng;
use serde::{Deserialize, Serialize};

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

    /// The functions asked for, each one left out chosen to fit the others: the softmax goes
    /// with the cross-entropy (their pair gives `dZ[L] = A − Y`), the sigmoid with the quadratic
    /// loss, and the original's for the rest.
    pub fn choose(hidden: Option<Activation>, output: Option<Output>, loss: Option<Loss>) -> Self {
        let original = Functions::ORIGINAL;
        let (output, loss) = match (output, loss) {
            (Some(o), Some(l)) => (o, l),
            (Some(Output::Softmax), None) => (Output::Softmax, Loss::CrossEntropy),
            (Some(o), None) => (o, Loss::Quadratic),
            (None, Some(Loss::CrossEntropy)) => (Output::Softmax, Loss::CrossEntropy),
            (None, Some(l)) => (original.output, l),
            (None, None) => (original.output, original.loss),
        };
        Functions {
            hidden: hidden.unwrap_or(original.hidden),
            output,
            loss,
        }
    }
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
                return Err(Error::LayersDoNotFit {
                    layer: l + 1,
                    outputs: pair[0].outputs,
                    inputs: pair[1].inputs,
                });
            }
        }
        for (l, layer) in layers.iter().enumerate() {
            if layer.weight.len() != layer.inputs * layer.outputs
                || layer.bias.len() != layer.outputs
            {
                return Err(Error::LayerParameters {
                    layer: l + 1,
                    inputs: layer.inputs,
                    outputs: layer.outputs,
                    weights: layer.weight.len(),
                    biases: layer.bias.len(),
                });
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
        Workspace::new(&self.sizes(), capacity, 0.0)
    }

    /// Buffers for training on batches of up to `capacity` images with dropout at `rate`
    /// (`0 ≤ rate < 1`; 0 is the same as [`Network::workspace`]). Draw the masks before each
    /// batch with [`Workspace::draw_dropout_masks`].
    pub fn training_workspace(&self, capacity: usize, rate: f32) -> Workspace {
        Workspace::new(&self.sizes(), capacity, rate)
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
    /// dropout, the next layer reads `Ã[l] = A[l] ⊙ M[l]` instead of `A[l]` (see
    /// [`super::dropout`]).
    ///
    /// Returns the output `A[L]`, `(n[L], N)` row-major; every `A[l]` stays in the workspace for
    /// backward.
    pub fn forward<'w>(&self, x: MatRef, ws: &'w mut Workspace) -> &'w [f32] {
        let n = x.cols();
        let last = self.layers.len() - 1;
        debug_assert_eq!(x.rows(), self.inputs());
        ws.check_batch(n);
        for (l, layer) in self.layers.iter().enumerate() {
            let (a_prev, z_then_a) = ws.forward_buffers(x, l, layer.inputs, n);
            // Z[l] = W[l]·A[l−1] + B[l]
            layer.forward(a_prev, z_then_a);
            if l < last {
                // A[l] = f(Z[l]), in place
                self.functions.hidden.forward(z_then_a);
                // Ã[l] = A[l] ⊙ M[l], with dropout
                ws.drop_out(l, n);
            }
        }
        // A[L] = f(Z[L]): the output function, over whole columns (the softmax needs them).
        let (output, _) = ws.output_and_delta(n);
        self.functions.output.forward(output, self.outputs());
        output
    }

    /// `dZ[L]`, where backprop starts, from the loss and the output function
    /// ([`Loss::output_delta`]; `A[L] − Y` for the softmax with the cross-entropy), into the
    /// workspace, for the targets `y` `(n[L], N)` row-major of the last forward pass over `n`
    /// images.
    pub fn output_delta(&self, y: &[f32], ws: &mut Workspace, n: usize) {
        let classes = self.outputs();
        let (a, dz) = ws.output_and_delta(n);
        let Functions { output, loss, .. } = self.functions;
        loss.output_delta(output, a, &y[..classes * n], dz, classes);
    }

    /// Backward pass (backprop) after [`Network::forward`] on the same `x`, for targets `y`
    /// `(n[L], N)` row-major (one-hot columns). Overwrites `grads` with `dW[l]`, `dB[l]` of the
    /// loss averaged over the batch:
    ///
    /// - `dZ[L]` from the loss and the output function ([`Network::output_delta`]);
    /// - for `l = L..=1`: `dA[l] = dÃ[l] ⊙ M[l]` with dropout, `dZ[l] = dA[l] ⊙ f'(Z[l])` (for
    ///   `l < L`), then `dW[l] = (1/N)·dZ[l]·A[l−1]ᵀ` and `dB[l] = (1/N)·Σ dZ[l]`
    ///   ([`Dense::backward_params`]), and `dA[l−1] = W[l]ᵀ·dZ[l]` ([`Dense::backward_input`]).
    ///
    /// `dA[0]`, the gradient for the pixels, is never needed and not computed.
    pub fn backward(&self, x: MatRef, y: &[f32], ws: &mut Workspace, grads: &mut Gradients) {
        let n = x.cols();
        let last = self.layers.len() - 1;
        self.output_delta(y, ws, n);
        for (l, layer) in self.layers.iter().enumerate().rev() {
            let BackwardBuffers {
                a_prev,
                a,
                mask,
                delta: da_then_dz,
                delta_prev,
            } = ws.backward_buffers(x, l, layer.inputs, n);
            if l < last {
                // dA[l] = dÃ[l] ⊙ M[l], with dropout
                if let Some(mask) = mask {
                    dropout_backward(mask, da_then_dz);
                }
                // dZ[l] = dA[l] ⊙ f'(Z[l]), in place
                self.functions.hidden.backward(a, da_then_dz);
            }
            // dW[l] = (1/N)·dZ[l]·A[l−1]ᵀ, dB[l] = (1/N)·Σ dZ[l]
            layer.backward_params(a_prev, da_then_dz, &mut grads.layers[l]);
            // dA[l−1] = W[l]ᵀ·dZ[l]
            if let Some(da_prev) = delta_prev {
                let dz = MatRef::row_major(da_then_dz, layer.outputs, n);
                layer.backward_input(dz, da_prev);
            }
        }
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
    fn layers_that_do_not_fit_are_refused_with_the_layer_and_the_numbers() {
        let layer = |inputs, outputs| Dense {
            inputs,
            outputs,
            weight: vec![0.0; inputs * outputs],
            bias: vec![0.0; outputs],
        };
        let err =
            Network::from_layers(vec![layer(4, 3), layer(2, 1)], Functions::ORIGINAL).unwrap_err();
        assert!(
            matches!(
                err,
                Error::LayersDoNotFit {
                    layer: 1,
                    outputs: 3,
                    inputs: 2
                }
            ),
            "{err}"
        );
        let mut short = layer(4, 3);
        short.weight.pop();
        let err = Network::from_layers(vec![short], Functions::ORIGINAL).unwrap_err();
        let message = err.to_string();
        assert!(
            matches!(
                err,
                Error::LayerParameters {
                    layer: 1,
                    weights: 11,
                    biases: 3,
                    ..
                }
            ),
            "{message}"
        );
        assert!(
            message.contains("needs 12 weights and 3 biases"),
            "{message}"
        );
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
    fn the_softmax_and_the_cross_entropy_choose_each_other() {
        let softmax = Functions::choose(None, Some(Output::Softmax), None);
        assert_eq!(softmax.loss, Loss::CrossEntropy);
        let cross_entropy =
            Functions::choose(Some(Activation::Relu), None, Some(Loss::CrossEntropy));
        assert_eq!(cross_entropy.output, Output::Softmax);
        assert_eq!(cross_entropy.hidden, Activation::Relu);
        assert_eq!(Functions::choose(None, None, None), Functions::ORIGINAL);
        let asked = Functions::choose(None, Some(Output::Sigmoid), Some(Loss::CrossEntropy));
        assert_eq!(
            (asked.output, asked.loss),
            (Output::Sigmoid, Loss::CrossEntropy)
        );
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

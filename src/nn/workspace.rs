//! The buffers of one batch: what the forward pass keeps for the backward pass.
//!
//! What it is: [`Workspace`], allocated once for batches of up to `capacity` images so that the
//! training loop does not allocate, and the views of it that each layer reads and writes. What it
//! is not: maths; the network ([`super::network`]) and the engines fill it.
//!
//! Shapes as in [`super::network`]: `N` images per batch, `n[l]` neurons in layer `l`; every
//! buffer is `(n[l], N)`, row-major, sized for `N = capacity`, and a batch of `n ≤ capacity`
//! images uses its first `n[l]·n` values.

use super::dropout::{dropout_forward, dropout_mask};
use crate::matrix::MatRef;
use rand::Rng;

/// The buffers one batch needs.
#[derive(Debug, Clone)]
pub struct Workspace {
    capacity: usize,
    /// `A[l]` for `l = 1..=L`, each `(n[l], N)`: what forward keeps for backward
    /// (backward needs `A[l−1]` for `dW` and `A[l]` for `f'(Z[l])`, see [`super::activation`]).
    activations: Vec<Vec<f32>>,
    /// `dA[l]`, turned into `dZ[l]` in place, for `l = 1..=L`, each `(n[l], N)`.
    deltas: Vec<Vec<f32>>,
    /// Dropout's masks and masked activations, in a workspace made for training with dropout.
    dropout: Option<DropoutBuffers>,
}

/// What dropout keeps for the hidden layers (see [`super::dropout`]).
#[derive(Debug, Clone)]
struct DropoutBuffers {
    /// `p`.
    rate: f32,
    /// `M[l]` for the hidden layers, each `(n[l], N)`.
    masks: Vec<Vec<f32>>,
    /// `Ã[l] = A[l] ⊙ M[l]` for the hidden layers, each `(n[l], N)`.
    kept: Vec<Vec<f32>>,
}

/// What the backward pass of one layer reads and writes, for a batch of `n` images.
pub struct BackwardBuffers<'a> {
    /// `A[l−1]` as the layer read it in the forward pass: `X`, `A[l−1]`, or `Ã[l−1]` with dropout.
    pub a_prev: MatRef<'a>,
    /// `A[l]`, `(n[l], N)`.
    pub a: &'a [f32],
    /// `M[l]`, for a hidden layer trained with dropout.
    pub mask: Option<&'a [f32]>,
    /// `dA[l]`, to be turned into `dZ[l]` in place, `(n[l], N)`.
    pub delta: &'a mut [f32],
    /// `dA[l−1]`, `(n[l−1], N)`, for every layer but the first.
    pub delta_prev: Option<&'a mut [f32]>,
}

impl Workspace {
    /// Buffers for a network of layer sizes `sizes` (input first), for batches of up to
    /// `capacity` images, with dropout at `rate` (0 for none) on the hidden layers.
    pub(crate) fn new(sizes: &[usize], capacity: usize, rate: f32) -> Workspace {
        let buffers = |count: usize, value: f32| -> Vec<Vec<f32>> {
            sizes[1..=count]
                .iter()
                .map(|&n| vec![value; n * capacity])
                .collect()
        };
        let layers = sizes.len() - 1;
        Workspace {
            capacity,
            activations: buffers(layers, 0.0),
            deltas: buffers(layers, 0.0),
            dropout: (rate > 0.0).then(|| DropoutBuffers {
                rate,
                masks: buffers(layers - 1, 1.0),
                kept: buffers(layers - 1, 0.0),
            }),
        }
    }

    /// The largest batch the buffers hold.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// `A[l]` as the last forward pass over `n` images left it, for `l = 1..=L` as in the
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

    /// Draws new dropout masks `M[l]` for a batch of `n` images (see [`super::dropout`]), used by
    /// the following forward and backward passes. Does nothing in a workspace without dropout.
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

    /// Panics unless a batch of `n` images fits.
    pub(crate) fn check_batch(&self, n: usize) {
        assert!(
            n <= self.capacity,
            "batch of {n} in a workspace for {}",
            self.capacity
        );
    }

    /// For layer `l` (0-based, as in code) of `inputs` inputs, over `n` images: what it reads,
    /// `A[l−1]` (`x` for the first layer, `Ã[l−1]` with dropout), and the buffer that receives
    /// its `Z[l]`, then `A[l]` in place, `(n[l], n)`.
    pub(crate) fn forward_buffers<'a>(
        &'a mut self,
        x: MatRef<'a>,
        l: usize,
        inputs: usize,
        n: usize,
    ) -> (MatRef<'a>, &'a mut [f32]) {
        let (before, current) = self.activations.split_at_mut(l);
        let a_prev = match (l, &self.dropout) {
            (0, _) => x,
            (_, Some(dropout)) => batch_matrix(&dropout.kept[l - 1], inputs, n),
            (_, None) => batch_matrix(&before[l - 1], inputs, n),
        };
        let outputs = current[0].len() / self.capacity;
        (a_prev, &mut current[0][..outputs * n])
    }

    /// After hidden layer `l`'s `A[l]`, with dropout: `Ã[l] = A[l] ⊙ M[l]` ([`dropout_forward`]),
    /// what the next layer reads. Does nothing without dropout.
    pub(crate) fn drop_out(&mut self, l: usize, n: usize) {
        if let Some(dropout) = &mut self.dropout {
            let size = dropout.masks[l].len() / self.capacity * n;
            dropout_forward(
                &self.activations[l][..size],
                &dropout.masks[l][..size],
                &mut dropout.kept[l][..size],
            );
        }
    }

    /// The output `A[L]` of the last forward pass over `n` images, `(n[L], n)`, and the buffer
    /// for `dZ[L]`.
    pub(crate) fn output_and_delta(&mut self, n: usize) -> (&mut [f32], &mut [f32]) {
        let last = self.activations.len() - 1;
        let size = self.activations[last].len() / self.capacity * n;
        (
            &mut self.activations[last][..size],
            &mut self.deltas[last][..size],
        )
    }

    /// What the backward pass of layer `l` (0-based) of `inputs` inputs reads and writes, over
    /// `n` images.
    pub(crate) fn backward_buffers<'a>(
        &'a mut self,
        x: MatRef<'a>,
        l: usize,
        inputs: usize,
        n: usize,
    ) -> BackwardBuffers<'a> {
        let last = self.activations.len() - 1;
        let a_prev = match (l, &self.dropout) {
            (0, _) => x,
            (_, Some(dropout)) => batch_matrix(&dropout.kept[l - 1], inputs, n),
            (_, None) => batch_matrix(&self.activations[l - 1], inputs, n),
        };
        let size = self.activations[l].len() / self.capacity * n;
        let mask = match &self.dropout {
            Some(dropout) if l < last => Some(&dropout.masks[l][..size]),
            _ => None,
        };
        let (before, current) = self.deltas.split_at_mut(l);
        BackwardBuffers {
            a_prev,
            a: &self.activations[l][..size],
            mask,
            delta: &mut current[0][..size],
            delta_prev: before.last_mut().map(|d| &mut d[..inputs * n]),
        }
    }
}

/// The first `rows x n` values of a workspace buffer as a row-major matrix.
fn batch_matrix(buffer: &[f32], rows: usize, n: usize) -> MatRef<'_> {
    MatRef::row_major(&buffer[..rows * n], rows, n)
}

//! The CPU engine: the network's maths on this machine's cores, the readable reference engine.
//!
//! What it is: [`Cpu`], which owns a [`Team`] of threads and runs the recipes of
//! [`crate::nn`] (the same function names: [`Cpu::forward`], [`Cpu::backward`], [`Cpu::step`])
//! with each layer cut into blocks of neurons, one per thread. Every value is computed by the
//! same maths function whatever the cut, so the results are the same bits as the plain
//! single-threaded recipes, whatever the number of threads (`tests/` checks this). What it is
//! not: maths; the formulas are in [`crate::nn`] and the matrix product in [`crate::matrix`].
//!
//! Training runs a step in as few parallel regions as the maths allows, since at batch 32 each
//! region is only tens of microseconds of work and every one ends with the team waiting for its
//! slowest thread: [`Cpu::backward_and_step`] is [`Cpu::backward`] then [`Cpu::step`] with each
//! layer's update moved into a region that runs anyway (the same bits), and undistorted inputs
//! are copied once per thread ([`Cpu::fill_input_copies`]) so that no thread waits for another's
//! cache.
//!
//! Shapes as in [`crate::nn::network`]: `N` images per batch, `n[l]` neurons in layer `l`, batch
//! matrices `(n[l], N)` row-major, so a block of neurons is a contiguous block of rows.

pub mod team;

use crate::augment::Augment;
use crate::augment::mixup::Mix;
use crate::data::Dataset;
use crate::data::batch::{fill_inputs, fill_targets, prefetch_images};
use crate::engine::{Batch, EVAL_BATCH, Engine, EpochLoss, Trainer};
use crate::error::{Error, Result};
use crate::matrix::MatRef;
use crate::model::Model;
use crate::nn::activation::Activation;
use crate::nn::dropout::dropout_backward;
use crate::nn::layer::{
    Dense, DenseGrads, dense_backward_input, dense_backward_params, dense_forward,
};
use crate::nn::network::{Functions, Gradients, Network, Workspace};
use crate::nn::optimizer::{Optimizer, OptimizerState, Slot};
use crate::nn::workspace::BackwardBuffers;
use crate::rng::{dropout_rng, image_rng, mixup_rng};
use rand_chacha::ChaCha8Rng;
use smallvec::SmallVec;
use std::ops::Range;
pub use team::Team;
use team::{Ranges, row_blocks};

/// The CPU engine: a team of threads sharing each layer's work.
pub struct Cpu {
    team: Team,
}

impl Cpu {
    /// An engine of `threads` threads (the calling one and `threads − 1` workers).
    pub fn new(threads: usize) -> Result<Cpu> {
        if threads == 0 {
            return Err(Error::config("threads", "must be at least 1"));
        }
        let team = Team::new(threads).map_err(|e| {
            Error::config("threads", format!("cannot start {threads} threads: {e}"))
        })?;
        Ok(Cpu { team })
    }

    /// Number of threads.
    pub fn threads(&self) -> usize {
        self.team.threads()
    }

    /// The team, for work outside the network's maths (e.g. measuring the GEMM peak).
    pub fn team(&self) -> &Team {
        &self.team
    }

    /// [`Network::forward`], a block of neurons per thread: `Z[l] = W[l]·A[l−1] + B[l]`,
    /// `A[l] = f(Z[l])`, and `Ã[l] = A[l] ⊙ M[l]` with dropout.
    pub fn forward<'w>(&self, network: &Network, x: MatRef, ws: &'w mut Workspace) -> &'w [f32] {
        self.forward_inputs(network, &[x], ws)
    }

    /// [`Cpu::forward`] of the inputs `xs`: one matrix `X` all threads read, or a copy of it per
    /// thread (see [`Cpu::fill_input_copies`]).
    pub fn forward_inputs<'w>(
        &self,
        network: &Network,
        xs: &[MatRef],
        ws: &'w mut Workspace,
    ) -> &'w [f32] {
        let n = xs[0].cols();
        let layers = network.layers();
        let last = layers.len() - 1;
        let Functions { hidden, output, .. } = network.functions();
        debug_assert!(
            xs.iter()
                .all(|x| x.rows() == network.inputs() && x.cols() == n)
        );
        ws.check_batch(n);
        for (l, layer) in layers.iter().enumerate() {
            let (a_prev, z_then_a) = ws.forward_buffers(xs[0], l, layer.inputs, n);
            // Z[l] = W[l]·A[l−1] + B[l], then for a hidden layer A[l] = f(Z[l]) in place, a
            // block of neurons per thread.
            let ranges = self
                .team
                .row_ranges(layer.outputs, layer.outputs * layer.inputs * n);
            let blocks = row_blocks(z_then_a, n, &ranges);
            let mut parts: SmallVec<[_; 8]> = (ranges.into_iter().zip(blocks).enumerate())
                .map(|(i, (rows, z))| (rows, z, if l == 0 { copy(xs, i) } else { a_prev }))
                .collect();
            self.team.for_each(&mut parts, |(rows, z_then_a, a_prev)| {
                let (w, b) = (layer.w().row_block(rows.clone()), &layer.bias[rows.clone()]);
                dense_forward(w, b, *a_prev, z_then_a);
                if l < last {
                    hidden.forward(z_then_a);
                }
            });
            drop(parts);
            if l < last {
                // Ã[l] = A[l] ⊙ M[l], with dropout
                ws.drop_out(l, n);
            }
        }
        // A[L] = f(Z[L]) over whole columns (the softmax needs them).
        let (a, _) = ws.output_and_delta(n);
        output.forward(a, network.outputs());
        a
    }

    /// [`Network::backward`], a block of neurons per thread: `dZ[L]`, then for `l = L..=1`
    /// `dZ[l] = dA[l] ⊙ f'(Z[l])`, `dW[l]`, `dB[l]` (blocks of layer `l`'s neurons) and
    /// `dA[l−1] = W[l]ᵀ·dZ[l]` (blocks of layer `l − 1`'s neurons).
    pub fn backward(
        &self,
        network: &Network,
        x: MatRef,
        y: &[f32],
        ws: &mut Workspace,
        grads: &mut Gradients,
    ) {
        let n = x.cols();
        let layers = network.layers();
        let last = layers.len() - 1;
        let activation = network.functions().hidden;
        network.output_delta(y, ws, n);
        for (l, layer) in layers.iter().enumerate().rev() {
            let BackwardBuffers {
                a_prev,
                a,
                mask,
                delta: da_then_dz,
                delta_prev,
            } = ws.backward_buffers(x, l, layer.inputs, n);
            let grads = &mut grads.layers[l];
            // For a hidden layer dA[l] ⊙ M[l] (dropout) and dZ[l] = dA[l] ⊙ f'(Z[l]), in place;
            // then dW[l] and dB[l]; a block of neurons per thread.
            let work = layer.outputs * layer.inputs * n;
            let ranges = self.team.row_ranges(layer.outputs, work);
            let deltas = row_blocks(&mut *da_then_dz, n, &ranges);
            let dws = row_blocks(&mut grads.dweight, layer.inputs, &ranges);
            let dbs = row_blocks(&mut grads.dbias, 1, &ranges);
            let mut parts: SmallVec<[_; 8]> = (ranges.into_iter().zip(deltas))
                .zip(dws.into_iter().zip(dbs))
                .collect();
            let hidden = (l < last).then_some(Hidden {
                activation,
                a,
                mask,
            });
            self.team
                .for_each(&mut parts, |((rows, da_then_dz), (dw, db))| {
                    backward_block(hidden, a_prev, rows.clone(), n, da_then_dz, dw, db);
                });
            drop(parts);
            if let Some(da_prev) = delta_prev {
                self.backward_input(layer, da_then_dz, da_prev, n);
            }
        }
    }

    /// `dA[l−1] = W[l]ᵀ·dZ[l]` for the `n` images of `dz` (`(O, n)` row-major), a block of the
    /// previous layer's neurons per thread (the inputs of `layer`, columns of `W[l]`).
    fn backward_input(&self, layer: &Dense, dz: &[f32], da_prev: &mut [f32], n: usize) {
        let dz = MatRef::row_major(dz, layer.outputs, n);
        let work = layer.outputs * layer.inputs * n;
        let ranges = self.team.row_ranges(layer.inputs, work);
        let blocks = row_blocks(da_prev, n, &ranges);
        let mut parts: SmallVec<[_; 8]> = ranges.into_iter().zip(blocks).collect();
        self.team.for_each(&mut parts, |(inputs, da_prev)| {
            dense_backward_input(layer.w().col_block(inputs.clone()), dz, da_prev);
        });
    }

    /// [`Network::loss`]: the loss of a batch, averaged over its images, without gradients.
    pub fn loss(&self, network: &Network, x: MatRef, y: &[f32], ws: &mut Workspace) -> f32 {
        self.loss_inputs(network, &[x], y, ws)
    }

    /// [`Cpu::loss`] of the inputs `xs`, as [`Cpu::forward_inputs`] reads them.
    pub fn loss_inputs(
        &self,
        network: &Network,
        xs: &[MatRef],
        y: &[f32],
        ws: &mut Workspace,
    ) -> f32 {
        let n = xs[0].cols();
        let output = self.forward_inputs(network, xs, ws);
        let Functions {
            output: f, loss, ..
        } = network.functions();
        loss.value(f, output, &y[..output.len()], n)
    }

    /// [`Network::loss_and_gradients`]: forward, the loss, backward. Returns the loss before the
    /// update, averaged over the batch.
    pub fn loss_and_gradients(
        &self,
        network: &Network,
        x: MatRef,
        y: &[f32],
        ws: &mut Workspace,
        grads: &mut Gradients,
    ) -> f32 {
        let loss = self.loss(network, x, y, ws);
        self.backward(network, x, y, ws, grads);
        loss
    }

    /// [`Optimizer::step`], a block of each layer's neurons per thread (each parameter's update
    /// reads only its own values, so the result does not depend on the split).
    pub fn step(
        &self,
        optimizer: &Optimizer,
        network: &mut Network,
        grads: &Gradients,
        state: &mut OptimizerState,
        eta: f32,
        lambda: f32,
    ) {
        state.steps += 1;
        let t = state.steps;
        let layers = network.layers_mut().iter_mut();
        for ((layer, g), slots) in layers.zip(&grads.layers).zip(&mut state.slots) {
            let ranges = self.update_ranges(layer);
            let mut parts = update_blocks(layer, slots, &ranges);
            self.team.for_each(&mut parts, |block| {
                block.apply_rows_of(g, optimizer, eta, lambda, t);
            });
        }
    }

    /// How a layer's update is shared: an update is a few operations per parameter, so only a
    /// large one is.
    fn update_ranges(&self, layer: &Dense) -> Ranges {
        (self.team).row_ranges(layer.outputs, layer.outputs * layer.inputs * 8)
    }

    /// [`Cpu::backward`] then [`Cpu::step`], the same bits in fewer parallel regions: each
    /// layer's update joins the region after the last that reads its weights. Backward reads
    /// `W[l]` only for `dA[l−1] = W[l]ᵀ·dZ[l]`, so `W[l]` is updated, a block of its neurons per
    /// thread, while the threads compute `dZ[l−1]`, `dW[l−1]` and `dB[l−1]`; the first layer,
    /// which sends nothing back, is updated by each thread right after its block of `dW[1]`, while
    /// that block is still in cache. A step of the original network so has five regions in which
    /// the team waits for its slowest thread instead of eight.
    #[allow(clippy::too_many_arguments)]
    pub fn backward_and_step(
        &self,
        network: &mut Network,
        xs: &[MatRef],
        y: &[f32],
        ws: &mut Workspace,
        grads: &mut Gradients,
        optimizer: &Optimizer,
        state: &mut OptimizerState,
        eta: f32,
        lambda: f32,
    ) {
        let n = xs[0].cols();
        let last = network.layers().len() - 1;
        let activation = network.functions().hidden;
        network.output_delta(y, ws, n);
        state.steps += 1;
        let t = state.steps;
        for l in (0..=last).rev() {
            let (layers, later_layers) = network.layers_mut().split_at_mut(l + 1);
            let layer = &mut layers[l];
            let (grads, later_grads) = grads.layers.split_at_mut(l + 1);
            let (slots, later_slots) = state.slots.split_at_mut(l + 1);
            let BackwardBuffers {
                a_prev,
                a,
                mask,
                delta: da_then_dz,
                delta_prev,
            } = ws.backward_buffers(xs[0], l, layer.inputs, n);
            let grads = &mut grads[l];
            let hidden = (l < last).then_some(Hidden {
                activation,
                a,
                mask,
            });
            // dZ[l] = dA[l] ⊙ M[l] ⊙ f'(Z[l]), dW[l] and dB[l], a block of neurons per thread, as
            // in `backward`; with the update of layer l + 1 (its weights were last read by the
            // region before) or, for the first layer, of the thread's own block.
            let work = layer.outputs * layer.inputs * n;
            let ranges = self.team.row_ranges(layer.outputs, work);
            let deltas = row_blocks(&mut *da_then_dz, n, &ranges);
            let dws = row_blocks(&mut grads.dweight, layer.inputs, &ranges);
            let dbs = row_blocks(&mut grads.dbias, 1, &ranges);
            let own_updates = if l == 0 {
                update_blocks(layer, &mut slots[l], &ranges)
            } else {
                SmallVec::new()
            };
            let (later_updates, later_g) = match (later_layers.first_mut(), later_grads.first()) {
                (Some(next), Some(g)) => {
                    let ranges = self.update_ranges(next);
                    (update_blocks(next, &mut later_slots[0], &ranges), Some(g))
                }
                _ => (SmallVec::new(), None),
            };
            // Part i: thread i's block of the backward (if any), of its own update (the first
            // layer) and of layer l + 1's update (if any).
            let mut parts: SmallVec<[_; 8]> = {
                let a_prevs = (0..ranges.len()).map(|i| if l == 0 { copy(xs, i) } else { a_prev });
                let mut backward =
                    (ranges.into_iter().zip(deltas).zip(a_prevs)).zip(dws.into_iter().zip(dbs));
                let (mut own, mut later) = (own_updates.into_iter(), later_updates.into_iter());
                std::iter::from_fn(|| match (backward.next(), own.next(), later.next()) {
                    (None, None, None) => None,
                    part => Some(part),
                })
                .collect()
            };
            self.team.for_each(&mut parts, |(backward, own, later)| {
                if let Some((((rows, da_then_dz), a_prev), (dw, db))) = backward {
                    backward_block(hidden, *a_prev, rows.clone(), n, da_then_dz, dw, db);
                    if let Some(own) = own {
                        own.apply(optimizer, dw, db, eta, lambda, t);
                    }
                }
                if let (Some(update), Some(g)) = (later, later_g) {
                    update.apply_rows_of(g, optimizer, eta, lambda, t);
                }
            });
            drop(parts);
            // dA[l−1] = W[l]ᵀ·dZ[l] with W[l] before its update, as in `backward`.
            if let Some(da_prev) = delta_prev {
                self.backward_input(layer, da_then_dz, da_prev, n);
            }
        }
    }

    /// The inputs of a batch, undistorted, as a copy per thread: [`fill_inputs`] into each of
    /// `copies`, copy `i` by thread `i`.
    ///
    /// Why copies: every thread reads the whole of `X` (each of its neurons looks at every
    /// pixel), twice a step (`Z[1]` and `dW[1]`). Shared, the lines of `X` that one thread wrote
    /// sit in its core's cache and the other threads wait for them to cross over, and a thread
    /// writing the next batch waits for the lines the others read: measured at batch 32 on two
    /// threads, filling a shared `X` took longer than filling it on one thread alone. A copy per
    /// thread stays in its own core's cache, for the price of converting every pixel once per
    /// thread (0.1 µs an image).
    pub fn fill_input_copies(&self, data: &Dataset, indices: &[usize], copies: &mut [Vec<f32>]) {
        let mut parts: SmallVec<[_; 8]> = copies.iter_mut().collect();
        self.team
            .for_each(&mut parts, |x| fill_inputs(data, indices, x));
    }

    /// How many copies of the inputs [`Cpu::forward_inputs`] reads for `network` at batches of
    /// `batch_size`: one per thread that shares its first layer.
    pub fn input_copies(&self, network: &Network, batch_size: usize) -> usize {
        let first = &network.layers()[0];
        (self.team)
            .row_ranges(first.outputs, first.outputs * first.inputs * batch_size)
            .len()
    }

    /// The inputs of a batch: [`fill_inputs`], or each image distorted by `augment` with the
    /// random numbers `rng_for(position in the batch)`; the images split between the threads
    /// (each image's numbers depend only on its position, so not on the split).
    pub fn fill_inputs<R: rand::Rng>(
        &self,
        data: &Dataset,
        indices: &[usize],
        x: &mut [f32],
        augment: &Augment,
        rng_for: impl Fn(usize) -> R + Sync,
    ) {
        let pixels = data.pixels_per_image();
        let side = data.rows();
        // Work in multiply-adds, as row_ranges counts it: a plain copy is about four per pixel
        // (it waits for the pixels, and for the lines of `X` that the other threads' products
        // of the last step read: measured, a batch of 32 filled by one thread of two took 11% of
        // the epoch); a distortion is tens (an elastic one, 8.8 µs for 784 pixels: about 60).
        let work = indices.len() * pixels * if augment.changes_images() { 64 } else { 4 };
        let ranges = self.team.row_ranges(indices.len(), work);
        let blocks = row_blocks(x, pixels, &ranges);
        let mut parts: SmallVec<[_; 8]> = ranges.into_iter().zip(blocks).collect();
        self.team.for_each(&mut parts, |(images, x)| {
            if !augment.changes_images() {
                fill_inputs(data, &indices[images.clone()], x);
                return;
            }
            for (k, column) in images.clone().zip(x.chunks_exact_mut(pixels)) {
                augment.apply(data.image(indices[k]), side, &mut rng_for(k), column);
            }
        });
    }
}

/// What backward needs of a hidden layer before `dW`: its activation, the `A[l]` forward kept,
/// and the dropout mask `M[l]`, if any (all of the layer; a block takes its rows).
#[derive(Clone, Copy)]
struct Hidden<'a> {
    activation: Activation,
    a: &'a [f32],
    mask: Option<&'a [f32]>,
}

/// One thread's block of a layer's backward pass, rows `rows` of its neurons: for a hidden
/// layer `dA[l] ⊙ M[l]` and `dZ[l] = dA[l] ⊙ f'(Z[l])` in place in `da_then_dz`, then `dW[l]`
/// and `dB[l]` of these rows into `dw` and `db`.
fn backward_block(
    hidden: Option<Hidden>,
    a_prev: MatRef,
    rows: Range<usize>,
    n: usize,
    da_then_dz: &mut [f32],
    dw: &mut [f32],
    db: &mut [f32],
) {
    if let Some(Hidden {
        activation,
        a,
        mask,
    }) = hidden
    {
        let block = rows.start * n..rows.end * n;
        if let Some(mask) = mask {
            dropout_backward(&mask[block.clone()], da_then_dz);
        }
        activation.backward(&a[block], da_then_dz);
    }
    dense_backward_params(a_prev, da_then_dz, dw, db);
}

/// The inputs thread `i` reads: its own copy, or the one all share.
fn copy<'a>(xs: &[MatRef<'a>], i: usize) -> MatRef<'a> {
    xs[i.min(xs.len() - 1)]
}

/// One thread's share of a layer's update: rows `rows` of `W` and `B` and of each optimizer
/// slot.
struct UpdateBlock<'a> {
    rows: Range<usize>,
    inputs: usize,
    weight: &'a mut [f32],
    bias: &'a mut [f32],
    slots: SmallVec<[(&'a mut [f32], &'a mut [f32]); 2]>,
}

impl UpdateBlock<'_> {
    /// [`UpdateBlock::apply`] with this block's rows of the layer's gradients `g`.
    fn apply_rows_of(
        &mut self,
        g: &DenseGrads,
        optimizer: &Optimizer,
        eta: f32,
        lambda: f32,
        t: u64,
    ) {
        let (rows, inputs) = (self.rows.clone(), self.inputs);
        let dw = &g.dweight[rows.start * inputs..rows.end * inputs];
        self.apply(optimizer, dw, &g.dbias[rows], eta, lambda, t);
    }

    /// [`Optimizer::update`] of this block's weights and biases with its rows of `dW` and `dB`.
    fn apply(
        &mut self,
        optimizer: &Optimizer,
        dw: &[f32],
        db: &[f32],
        eta: f32,
        lambda: f32,
        t: u64,
    ) {
        let (slots_w, slots_b): (SmallVec<[_; 2]>, SmallVec<[_; 2]>) = self
            .slots
            .iter_mut()
            .map(|(w, b)| (&mut **w, &mut **b))
            .unzip();
        optimizer.update(self.weight, dw, slots_w, eta, lambda, t);
        optimizer.update(self.bias, db, slots_b, eta, 0.0, t);
    }
}

/// `layer`'s parameters and `slots` cut into the blocks of rows `ranges`, one per thread.
fn update_blocks<'a>(
    layer: &'a mut Dense,
    slots: &'a mut [Slot],
    ranges: &Ranges,
) -> SmallVec<[UpdateBlock<'a>; 8]> {
    let inputs = layer.inputs;
    let weights = row_blocks(&mut layer.weight, inputs, ranges);
    let biases = row_blocks(&mut layer.bias, 1, ranges);
    let mut slot_blocks: SmallVec<[SmallVec<[_; 2]>; 8]> =
        ranges.iter().map(|_| SmallVec::new()).collect();
    for slot in slots.iter_mut() {
        let w = row_blocks(&mut slot.weight, inputs, ranges);
        let b = row_blocks(&mut slot.bias, 1, ranges);
        for (block, wb) in slot_blocks.iter_mut().zip(w.into_iter().zip(b)) {
            block.push(wb);
        }
    }
    (ranges.iter().cloned().zip(weights))
        .zip(biases.into_iter().zip(slot_blocks))
        .map(|((rows, weight), (bias, slots))| UpdateBlock {
            rows,
            inputs,
            weight,
            bias,
            slots,
        })
        .collect()
}

impl Engine for Cpu {
    fn describe(&self) -> String {
        let threads = self.threads();
        format!("{threads} thread{}", if threads == 1 { "" } else { "s" })
    }

    fn outputs(
        &self,
        network: &Network,
        data: &Dataset,
        each: &mut dyn FnMut(&[usize], &[f32]),
    ) -> Result<()> {
        let p = data.pixels_per_image();
        let batch = EVAL_BATCH.min(data.len());
        let mut ws = network.workspace(batch);
        let mut x = vec![0.0; p * batch];
        let indices: Vec<usize> = (0..data.len()).collect();
        for chunk in indices.chunks(batch) {
            fill_inputs(data, chunk, &mut x);
            let output = self.forward(network, MatRef::col_major(&x, p, chunk.len()), &mut ws);
            each(chunk, output);
        }
        Ok(())
    }

    fn trainer<'e>(&'e self, model: &Model) -> Result<Box<dyn Trainer + 'e>> {
        let settings = &model.training.settings;
        let network = model.network.clone();
        let (batch_size, pixels, classes) =
            (settings.batch_size, network.inputs(), network.outputs());
        // Distorting an image costs far more than reading it (see `fill_inputs`): distorted
        // inputs are shared, undistorted ones copied per thread.
        let copies = if settings.augment.is_none() {
            self.input_copies(&network, batch_size)
        } else {
            1
        };
        Ok(Box::new(CpuTrainer {
            cpu: self,
            ws: network.training_workspace(batch_size, settings.dropout),
            grads: network.gradients(),
            xs: vec![vec![0.0; pixels * batch_size]; copies],
            y: vec![0.0; classes * batch_size],
            state: model.optimizer_state.clone(),
            optimizer: settings.optimizer,
            weight_decay: settings.weight_decay,
            label_smoothing: settings.label_smoothing,
            augment: settings.augment,
            seed: settings.seed,
            epoch: 0,
            masks_rng: dropout_rng(settings.seed, 0),
            unmixed: Vec::new(),
            loss_sum: 0.0,
            losses: Vec::new(),
            network,
        }))
    }
}

/// A training run on the CPU: the model's parameters and optimizer state, and one batch's
/// buffers.
struct CpuTrainer<'e> {
    cpu: &'e Cpu,
    network: Network,
    state: OptimizerState,
    optimizer: Optimizer,
    weight_decay: f32,
    label_smoothing: f32,
    augment: Augment,
    seed: u64,
    epoch: usize,
    masks_rng: ChaCha8Rng,
    /// A batch's images or targets before mixup mixes them.
    unmixed: Vec<f32>,
    /// The epoch's `Σ loss·n` so far, and each batch's loss.
    loss_sum: f64,
    losses: Vec<f32>,
    ws: Workspace,
    grads: Gradients,
    /// `X`, `(n[0], N)` stored one image after another: one copy per thread of the first layer
    /// without augmentation ([`Cpu::fill_input_copies`]), one shared copy with it.
    xs: Vec<Vec<f32>>,
    /// `Y`, `(n[L], N)` row-major, one-hot columns (smoothed with label smoothing).
    y: Vec<f32>,
}

impl Trainer for CpuTrainer<'_> {
    fn start_epoch(&mut self, epoch: usize) {
        self.epoch = epoch;
        self.masks_rng = dropout_rng(self.seed, epoch);
        self.loss_sum = 0.0;
        self.losses.clear();
    }

    fn step(&mut self, batch: Batch<'_>, lr: f32) -> Result<Option<f32>> {
        let Batch {
            data,
            indices,
            first,
            next,
            ..
        } = batch;
        let (seed, epoch, n) = (self.seed, self.epoch, indices.len());
        // next batch
        if self.augment.is_none() {
            (self.cpu).fill_input_copies(data, indices, &mut self.xs);
        } else {
            let rng_for = |position| image_rng(seed, epoch, first + position);
            (self.cpu).fill_inputs(data, indices, &mut self.xs[0], &self.augment, rng_for);
        }
        fill_targets(data, indices, self.label_smoothing, &mut self.y);
        if self.augment.mixup > 0.0 {
            let mix = Mix::draw(self.augment.mixup, n, &mut mixup_rng(seed, epoch, first));
            mix.mix_images(&mut self.xs[0], data.pixels_per_image(), &mut self.unmixed);
            mix.mix_targets(&mut self.y, self.network.outputs(), &mut self.unmixed);
        }
        if let Some(next) = next {
            prefetch_images(data, next);
        }
        self.ws.draw_dropout_masks(&mut self.masks_rng, n);
        // forward and loss
        let pixels = self.network.inputs();
        let xs: SmallVec<[_; 8]> = (self.xs.iter())
            .map(|x| MatRef::col_major(x, pixels, n))
            .collect();
        let loss = (self.cpu).loss_inputs(&self.network, &xs, &self.y, &mut self.ws);
        // backward and update
        (self.cpu).backward_and_step(
            &mut self.network,
            &xs,
            &self.y,
            &mut self.ws,
            &mut self.grads,
            &self.optimizer,
            &mut self.state,
            lr,
            self.weight_decay,
        );
        self.loss_sum += loss as f64 * n as f64;
        self.losses.push(loss);
        Ok(Some(loss))
    }

    fn end_epoch(&mut self) -> Result<EpochLoss> {
        // The training loop stops at a non-finite loss as soon as `step` returns it.
        Ok(EpochLoss {
            sum: self.loss_sum,
            first_bad_batch: None,
            batches: std::mem::take(&mut self.losses),
        })
    }

    fn read_back(&self, model: &mut Model) -> Result<()> {
        model.network.clone_from(&self.network);
        model.optimizer_state.clone_from(&self.state);
        Ok(())
    }
}

//! The seam between what is computed and where: the [`Engine`] a training run, an evaluation or
//! a benchmark is given.
//!
//! What it is: two small traits. An [`Engine`] runs a network over a data set (evaluation,
//! prediction) and starts a [`Trainer`], which holds a model's parameters, its optimizer's state
//! and the buffers of one batch where the engine computes, runs one training step at a time
//! (next batch, forward, loss, backward, update) and reads the parameters back. What it is not:
//! an engine. The CPU engine, the readable reference, is [`crate::cpu::Cpu`]; the CUDA engine
//! is `crate::cuda::Cuda` (feature `cuda`); the maths is in [`crate::nn`], which knows no engine.
//!
//! The training loop ([`crate::train`]) sees only these traits, and [`crate::device`] alone
//! knows which engines there are, so a new engine sits beside the others without the loop
//! changing.

use crate::data::Dataset;
use crate::error::Result;
use crate::model::Model;
use crate::nn::network::Network;

/// Images per forward pass when an engine evaluates ([`Engine::outputs`]): large enough for
/// efficient matrix products, small enough to keep the buffers at a few MB.
pub const EVAL_BATCH: usize = 1000;

/// Where the maths runs.
pub trait Engine {
    /// Where, for people: e.g. `2 threads`.
    fn describe(&self) -> String;

    /// The network's outputs for every image of `data`, a batch at a time: calls
    /// `each(indices, output)` with the batch's image indices, in order, and its `A[L]`,
    /// `(n[L], N)` row-major. `data` must fit the network (see [`crate::metrics::check_fits`]).
    fn outputs(
        &self,
        network: &Network,
        data: &Dataset,
        each: &mut dyn FnMut(&[usize], &[f32]),
    ) -> Result<()>;

    /// Starts training `model` here: a copy of its parameters and optimizer state, and the
    /// buffers for batches of its batch size. The model itself changes only when
    /// [`Trainer::read_back`] is called.
    fn trainer<'e>(&'e self, model: &Model) -> Result<Box<dyn Trainer + 'e>>;
}

/// A training run in progress on an engine.
pub trait Trainer {
    /// Epoch `epoch` (0-based) begins: its random numbers for dropout are drawn from here on.
    fn start_epoch(&mut self, epoch: usize);

    /// One training step on `batch`, with learning rate `lr`: next batch, forward, loss,
    /// backward, update. Returns the batch's loss before the update, averaged over its images,
    /// if the engine has it at once: the CPU does; a GPU keeps its losses where it computes and
    /// hands them over once per epoch ([`Trainer::end_epoch`]).
    fn step(&mut self, batch: Batch<'_>, lr: f32) -> Result<Option<f32>>;

    /// The epoch's losses, once its last step is done: their sum over the images and the first
    /// batch whose loss was not finite, if any.
    fn end_epoch(&mut self) -> Result<EpochLoss>;

    /// Copies the parameters and the optimizer's state, as the steps so far left them, into
    /// `model`.
    fn read_back(&self, model: &mut Model) -> Result<()>;
}

/// What an epoch's steps added up to.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochLoss {
    /// `Σ` over the batches of the batch's loss times its number of images.
    pub sum: f64,
    /// The first batch (0-based) whose loss was NaN or infinite, and that loss.
    pub first_bad_batch: Option<(usize, f32)>,
    /// Each batch's loss, averaged over its images, in order.
    pub batches: Vec<f32>,
}

/// One mini-batch of a training epoch.
#[derive(Debug, Clone, Copy)]
pub struct Batch<'a> {
    /// The training set.
    pub data: &'a Dataset,
    /// The epoch's whole order, indices into `data`, so that an engine may take it in at once.
    pub order: &'a [usize],
    /// The batch's images, indices into `data`.
    pub indices: &'a [usize],
    /// The position of the batch's first image in the epoch's order (the distortions' random
    /// numbers depend on it, see [`crate::rng::image_rng`]).
    pub first: usize,
    /// The next batch's images, if any, so that an engine may fetch them ahead.
    pub next: Option<&'a [usize]>,
}

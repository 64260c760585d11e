//! A training run on the GPU: the parameters, gradients, optimizer state, counters and one
//! batch's buffers, all on the device, and one training step as a recipe of launches (or one
//! replayed CUDA graph).
//!
//! What it is: [`CudaTrainer`], the CUDA engine's [`Trainer`]. What it is not: the maths, which
//! is in `kernels.cu` and cuBLAS, driven by [`super::Cuda::forward`] and
//! [`super::Cuda::backward`].

use super::{Arg, Cuda, DeviceBatch, Layout, cuda_error, driver_error, over};
use crate::augment::mixup::Mix;
use crate::data::Dataset;
use crate::data::batch::fill_targets;
use crate::engine::{Batch, EpochLoss, Trainer};
use crate::error::{Error, Result};
use crate::model::Model;
use crate::nn::network::Functions;
use crate::nn::optimizer::{Optimizer, OptimizerState};
use crate::rng::{dropout_rng, image_rng, mixup_rng};
use cudarc::driver::sys as driver_sys;
use cudarc::driver::{CudaGraph, CudaSlice};
use rand_chacha::ChaCha8Rng;

/// Scalars a training run keeps on the GPU, so that a captured step reads them there.
struct Counters {
    /// The step within the epoch (which batch `fill_inputs` gathers).
    step: CudaSlice<i32>,
    /// The optimizer's step count (Adam's `t` before the step).
    steps: CudaSlice<u64>,
    /// The rate `η` of the epoch.
    eta: CudaSlice<f32>,
    /// The current batch's `Σ` loss, and the epoch's `Σ loss·n`.
    loss: CudaSlice<f64>,
    epoch_loss: CudaSlice<f64>,
    /// The first batch whose loss was not finite (−1 for none), and that loss.
    first_bad: CudaSlice<i32>,
    bad_loss: CudaSlice<f32>,
    /// Each batch's loss, one per step of the epoch.
    batch_losses: CudaSlice<f32>,
}

/// A training run on the GPU.
pub(super) struct CudaTrainer<'e> {
    cuda: &'e Cuda,
    functions: Functions,
    layout: Layout,
    optimizer: Optimizer,
    weight_decay: f32,
    label_smoothing: f32,
    settings_seed: u64,
    augment: crate::augment::Augment,
    dropout: f32,
    batch_size: usize,
    epoch: usize,
    masks_rng: ChaCha8Rng,
    theta: CudaSlice<f32>,
    grads: CudaSlice<f32>,
    /// The optimizer's slots in the parameters' layout: momentum's `v`; Adam's `m`, `v`.
    slots: Vec<CudaSlice<f32>>,
    counters: Counters,
    batch: DeviceBatch,
    /// The training set's pixels and labels, and the epoch's order, once uploaded.
    images: Option<(usize, CudaSlice<u8>, CudaSlice<u8>)>,
    order: CudaSlice<u32>,
    /// Host buffers for the batches the CPU makes.
    x_host: Vec<f32>,
    mask_host: Vec<f32>,
    /// With mixup, the targets too (the CPU mixes them with the images), and scratch space.
    y_host: Vec<f32>,
    unmixed: Vec<f32>,
    /// The captured step of a full batch, once made.
    graph: Option<CudaGraph>,
}

impl<'e> CudaTrainer<'e> {
    pub(super) fn new(cuda: &'e Cuda, model: &Model) -> Result<CudaTrainer<'e>> {
        let settings = model.settings();
        let network = &model.network;
        let layout = Layout::of(&network.sizes());
        let slot_count = settings.optimizer.slot_names().len();
        let oom = |e: Error| match e {
            Error::Cuda { message } if message.starts_with("out of GPU memory") => {
                cuda_error(format!(
                    "{message}; the network {} at batch size {} does not fit",
                    layout
                        .sizes
                        .iter()
                        .map(usize::to_string)
                        .collect::<Vec<_>>()
                        .join("-"),
                    settings.batch_size
                ))
            }
            other => other,
        };
        let theta = cuda
            .upload(&layout.pack(network), "the parameters")
            .map_err(oom)?;
        let grads = cuda.zeros(layout.total, "the gradients").map_err(oom)?;
        let mut slots = Vec::new();
        for s in 0..slot_count {
            let mut packed = vec![0.0; layout.total];
            for (l, layer_slots) in model.optimizer_state.slots.iter().enumerate() {
                let slot = &layer_slots[s];
                packed[layout.weight[l]..][..slot.weight.len()].copy_from_slice(&slot.weight);
                packed[layout.bias[l]..][..slot.bias.len()].copy_from_slice(&slot.bias);
            }
            slots.push(cuda.upload(&packed, "the optimizer's state").map_err(oom)?);
        }
        let counters = Counters {
            step: cuda.zeros(1, "a counter")?,
            steps: cuda.upload(&[model.optimizer_state.steps], "a counter")?,
            eta: cuda.zeros(1, "a counter")?,
            loss: cuda.zeros(1, "a counter")?,
            epoch_loss: cuda.zeros(1, "a counter")?,
            first_bad: cuda.upload(&[-1i32], "a counter")?,
            bad_loss: cuda.zeros(1, "a counter")?,
            batch_losses: cuda.zeros(1, "the batch losses")?,
        };
        let dropout = settings.dropout > 0.0;
        let batch =
            DeviceBatch::new(cuda, &layout.sizes, settings.batch_size, dropout).map_err(oom)?;
        let hidden: usize = layout.sizes[1..layout.sizes.len() - 1].iter().sum();
        Ok(CudaTrainer {
            cuda,
            functions: network.functions(),
            optimizer: settings.optimizer,
            weight_decay: settings.weight_decay,
            label_smoothing: settings.label_smoothing,
            settings_seed: settings.seed,
            augment: settings.augment,
            dropout: settings.dropout,
            batch_size: settings.batch_size,
            epoch: 0,
            masks_rng: dropout_rng(settings.seed, 0),
            theta,
            grads,
            slots,
            counters,
            x_host: vec![0.0; layout.sizes[0] * settings.batch_size],
            mask_host: vec![0.0; hidden * settings.batch_size],
            y_host: vec![0.0; layout.sizes[layout.sizes.len() - 1] * settings.batch_size],
            unmixed: Vec::new(),
            batch,
            images: None,
            order: cuda.zeros(1, "the order")?,
            graph: None,
            layout,
        })
    }

    /// Whether the CPU makes the batches: distorted images, or dropout masks from the CPU's
    /// random streams.
    fn host_batches(&self) -> bool {
        !self.augment.is_none() || self.dropout > 0.0
    }

    /// The training set on the GPU, uploaded the first time it is seen.
    fn ensure_data(&mut self, data: &Dataset) -> Result<()> {
        let key = data.pixels().as_ptr() as usize;
        if self.images.as_ref().is_some_and(|(k, _, _)| *k == key) {
            return Ok(());
        }
        let images = self.cuda.upload(data.pixels(), "the training images")?;
        let labels = self.cuda.upload(data.labels(), "the training labels")?;
        self.images = Some((key, images, labels));
        Ok(())
    }

    /// Everything one step queues on the stream after its inputs are in place: targets (unless
    /// the CPU mixed them) and inputs (unless the CPU made them), forward, loss, backward,
    /// update, end of step.
    fn enqueue_step(&self, n: usize, gather_inputs: bool) -> Result<()> {
        let cuda = self.cuda;
        let c = &self.counters;
        let (images, labels) = match &self.images {
            Some((_, images, labels)) => (cuda.ptr(images), cuda.ptr(labels)),
            None => return Err(cuda_error("the training set was not uploaded")),
        };
        let sizes = &self.layout.sizes;
        let (pixels, classes) = (sizes[0], sizes[sizes.len() - 1]);
        // next batch
        if gather_inputs {
            let args = [
                Arg::Ptr(images),
                Arg::Ptr(cuda.ptr(&self.order)),
                Arg::Ptr(cuda.ptr(&c.step)),
                Arg::Int(self.batch_size as i32),
                Arg::Int(n as i32),
                Arg::Int(pixels as i32),
                Arg::Ptr(cuda.ptr(&self.batch.x)),
            ];
            cuda.launch("fill_inputs", over(n * pixels), &args)?;
        }
        let args = [
            Arg::Ptr(labels),
            Arg::Ptr(cuda.ptr(&self.order)),
            Arg::Ptr(cuda.ptr(&c.step)),
            Arg::Int(self.batch_size as i32),
            Arg::Int(n as i32),
            Arg::Int(classes as i32),
            Arg::Float(self.label_smoothing),
            Arg::Ptr(cuda.ptr(&self.batch.y)),
        ];
        if self.augment.mixup == 0.0 {
            cuda.launch("fill_targets", over(n * classes), &args)?;
        }
        // forward, loss, backward
        let theta = cuda.ptr(&self.theta);
        let grads = cuda.ptr(&self.grads);
        cuda.forward(self.functions, &self.layout, theta, &self.batch, n)?;
        let loss = cuda.ptr(&c.loss);
        cuda.backward(
            self.functions,
            &self.layout,
            theta,
            grads,
            loss,
            &self.batch,
            n,
        )?;
        // update
        self.enqueue_update()?;
        let args = [
            Arg::Ptr(loss),
            Arg::Int(n as i32),
            Arg::Ptr(cuda.ptr(&c.epoch_loss)),
            Arg::Ptr(cuda.ptr(&c.first_bad)),
            Arg::Ptr(cuda.ptr(&c.bad_loss)),
            Arg::Ptr(cuda.ptr(&c.batch_losses)),
            Arg::Ptr(cuda.ptr(&c.step)),
            Arg::Ptr(cuda.ptr(&c.steps)),
        ];
        cuda.launch("end_step", over(1), &args)
    }

    /// The update of every parameter at once: [`Optimizer::step`]'s rule as one kernel.
    fn enqueue_update(&self) -> Result<()> {
        let cuda = self.cuda;
        let count = self.layout.total;
        let theta = Arg::Ptr(cuda.ptr(&self.theta));
        let g = Arg::Ptr(cuda.ptr(&self.grads));
        let (count_arg, weights) = (
            Arg::Long(count as i64),
            Arg::Long(self.layout.weights as i64),
        );
        let eta = Arg::Ptr(cuda.ptr(&self.counters.eta));
        let lambda = Arg::Float(self.weight_decay);
        let slot = |s: usize| Arg::Ptr(cuda.ptr(&self.slots[s]));
        match self.optimizer {
            Optimizer::Sgd => cuda.launch(
                "sgd_update",
                over(count),
                &[theta, g, count_arg, weights, eta, lambda],
            ),
            Optimizer::Momentum { momentum, nesterov } => {
                let kernel = if nesterov {
                    "nesterov_update"
                } else {
                    "momentum_update"
                };
                let args = [
                    theta,
                    slot(0),
                    g,
                    count_arg,
                    weights,
                    eta,
                    Arg::Float(momentum),
                    lambda,
                ];
                cuda.launch(kernel, over(count), &args)
            }
            Optimizer::Adam {
                beta1,
                beta2,
                epsilon,
            } => {
                let args = [
                    theta,
                    slot(0),
                    slot(1),
                    g,
                    count_arg,
                    weights,
                    eta,
                    Arg::Float(beta1),
                    Arg::Float(beta2),
                    Arg::Float(epsilon),
                    lambda,
                    Arg::Ptr(cuda.ptr(&self.counters.steps)),
                ];
                cuda.launch("adam_update", over(count), &args)
            }
        }
    }

    /// The batch the CPU makes: the images (distorted if asked) and the dropout masks, copied
    /// to the GPU.
    fn upload_host_batch(&mut self, batch: &Batch<'_>) -> Result<()> {
        let n = batch.indices.len();
        let pixels = self.layout.sizes[0];
        let (seed, epoch, first) = (self.settings_seed, self.epoch, batch.first);
        let rng_for = |position| image_rng(seed, epoch, first + position);
        let x = &mut self.x_host[..pixels * n];
        (self.cuda.cpu).fill_inputs(batch.data, batch.indices, x, &self.augment, rng_for);
        if self.augment.mixup > 0.0 {
            // Mixup mixes targets as well as images: both made here, as the CPU engine makes them.
            let classes = self.layout.sizes[self.layout.sizes.len() - 1];
            let y = &mut self.y_host[..classes * n];
            fill_targets(batch.data, batch.indices, self.label_smoothing, y);
            let mix = Mix::draw(self.augment.mixup, n, &mut mixup_rng(seed, epoch, first));
            mix.mix_images(x, pixels, &mut self.unmixed);
            mix.mix_targets(y, classes, &mut self.unmixed);
            self.cuda
                .write(&self.y_host, &mut self.batch.y, "the mixed targets")?;
        }
        self.cuda.write(
            &self.x_host[..pixels * self.batch_size],
            &mut self.batch.x,
            "the images",
        )?;
        if self.dropout > 0.0 {
            // The masks as the CPU draws them (Workspace::draw_dropout_masks): layer by
            // layer, the first n[l]·n values of each.
            let sizes = self.layout.sizes.clone();
            for (l, mask) in self.batch.masks.iter_mut().enumerate() {
                let rows = sizes[l + 1];
                let host = &mut self.mask_host[..rows * self.batch_size];
                crate::nn::dropout::dropout_mask(
                    self.dropout,
                    &mut self.masks_rng,
                    &mut host[..rows * n],
                );
                self.cuda
                    .stream
                    .memcpy_htod(&*host, mask)
                    .map_err(|e| driver_error("cannot copy the dropout masks to the GPU", e))?;
            }
        }
        Ok(())
    }
}

impl Trainer for CudaTrainer<'_> {
    fn start_epoch(&mut self, epoch: usize) {
        self.epoch = epoch;
        self.masks_rng = dropout_rng(self.settings_seed, epoch);
    }

    fn step(&mut self, batch: Batch<'_>, lr: f32) -> Result<Option<f32>> {
        let cuda = self.cuda;
        let n = batch.indices.len();
        if batch.first == 0 {
            // A new epoch: its order, its rate, and the counters back to zero.
            self.ensure_data(batch.data)?;
            let order: Vec<u32> = batch.order.iter().map(|&i| i as u32).collect();
            if self.order.len() != order.len() {
                self.order = cuda.zeros(order.len(), "the order")?;
                let batches = order.len().div_ceil(self.batch_size);
                self.counters.batch_losses = cuda.zeros(batches, "the batch losses")?;
                self.graph = None;
            }
            cuda.write(&order, &mut self.order, "the epoch's order")?;
            let c = &mut self.counters;
            cuda.write(&[0], &mut c.step, "a counter")?;
            cuda.write(&[lr], &mut c.eta, "the learning rate")?;
            cuda.write(&[0.0], &mut c.loss, "a counter")?;
            cuda.write(&[0.0], &mut c.epoch_loss, "a counter")?;
            cuda.write(&[-1], &mut c.first_bad, "a counter")?;
        }
        if self.host_batches() {
            self.upload_host_batch(&batch)?;
            self.enqueue_step(n, false)?;
        } else if n == self.batch_size && cuda.graphs {
            if self.graph.is_none() {
                let mode = driver_sys::CUstreamCaptureMode::CU_STREAM_CAPTURE_MODE_THREAD_LOCAL;
                cuda.stream
                    .begin_capture(mode)
                    .map_err(|e| driver_error("cannot capture a training step", e))?;
                let queued = self.enqueue_step(n, true);
                let graph = cuda
                    .stream
                    .end_capture(driver_sys::CUgraphInstantiate_flags(0))
                    .map_err(|e| driver_error("cannot capture a training step", e))?;
                queued?;
                self.graph =
                    Some(graph.ok_or_else(|| cuda_error("capturing a step made no graph"))?);
            }
            let graph = self.graph.as_ref().expect("captured above");
            graph
                .launch()
                .map_err(|e| driver_error("a training step failed on the GPU", e))?;
        } else {
            self.enqueue_step(n, true)?;
        }
        Ok(None)
    }

    fn end_epoch(&mut self) -> Result<EpochLoss> {
        self.cuda.synchronize()?;
        let c = &self.counters;
        let sum = self.cuda.read(&c.epoch_loss, "the epoch's loss")?[0];
        let first_bad = self.cuda.read(&c.first_bad, "the epoch's loss")?[0];
        let bad_loss = self.cuda.read(&c.bad_loss, "the epoch's loss")?[0];
        Ok(EpochLoss {
            sum,
            first_bad_batch: (first_bad >= 0).then_some((first_bad as usize, bad_loss)),
            batches: self.cuda.read(&c.batch_losses, "the batch losses")?,
        })
    }

    fn read_back(&self, model: &mut Model) -> Result<()> {
        let cuda = self.cuda;
        let theta = cuda.read(&self.theta, "the parameters")?;
        self.layout.unpack(&theta, &mut model.network);
        let state: &mut OptimizerState = &mut model.optimizer_state;
        for (s, slot) in self.slots.iter().enumerate() {
            let values = cuda.read(slot, "the optimizer's state")?;
            for (l, layer_slots) in state.slots.iter_mut().enumerate() {
                let slot = &mut layer_slots[s];
                let (w, b) = (slot.weight.len(), slot.bias.len());
                slot.weight
                    .copy_from_slice(&values[self.layout.weight[l]..][..w]);
                slot.bias
                    .copy_from_slice(&values[self.layout.bias[l]..][..b]);
            }
        }
        state.steps = cuda.read(&self.counters.steps, "the step count")?[0];
        Ok(())
    }
}

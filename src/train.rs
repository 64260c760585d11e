//! Training: the epoch loop of mini-batch stochastic gradient descent.
//!
//! What it is: [`TrainConfig`] (what to train, with documented defaults), the learning-rate
//! [`Schedule`], and [`train`], which runs epochs and reports what happens through a callback.
//! What it is not: printing or saving. The caller decides what to show and when to write a
//! checkpoint, from the [`Event`]s it receives.
//!
//! One training step, as a recipe: next batch, forward, loss, backward, update.

use crate::augment::{Augment, image_rng};
use crate::data::batch::{fill_inputs, fill_targets, prefetch_images, shuffled_indices};
use crate::data::{CLASSES, Dataset};
use crate::error::{Error, Result};
use crate::layer::Init;
use crate::matrix::MatRef;
use crate::metrics::{check_fits, evaluate};
use crate::model::{Model, dropout_rng, epoch_rng};
use crate::network::{Functions, ORIGINAL_SIZES};
use crate::optimizer::Optimizer;
use crate::team::{self, Team, row_blocks, with_team};
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;
use std::fmt;
use std::str::FromStr;
use std::time::Instant;

/// The default learning-rate schedule: 3.0 for 20 epochs, then 0.3 for 5, then 0.03 for 3.
///
/// Chosen by measurement (see the README's results): the gradient of the squared error through an
/// output sigmoid is small (`σ' ≤ 0.25`), so this network needs rates 30 times the original's
/// 0.1/0.01/0.001 to learn in a few epochs.
pub const DEFAULT_SCHEDULE: &str = "3x25,0.3x5,0.03x3";

/// The default schedule for `optimizer`: [`DEFAULT_SCHEDULE`] for SGD; for momentum the same
/// stages at a tenth of the rate (with `μ = 0.9` a step is about `η/(1 − μ) = 10η`); for Adam,
/// its paper's 0.001, then a tenth, then a hundredth.
pub fn default_schedule(optimizer: Optimizer) -> Schedule {
    let text = match optimizer {
        Optimizer::Sgd => DEFAULT_SCHEDULE,
        Optimizer::Momentum { .. } => "0.3x25,0.03x5,0.003x3",
        Optimizer::Adam { .. } => "0.001x25,0.0001x5,0.00001x3",
    };
    text.parse().expect("the default schedules parse")
}

/// The default seed.
pub const DEFAULT_SEED: u64 = 42;

/// The default number of training images held out for validation.
pub const DEFAULT_VALIDATION: usize = 5000;

/// What to train and how. `Default` is the original network with the measured schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    /// Layer sizes, input first: default `[784, 128, 64, 10]`.
    pub layers: Vec<usize>,
    /// Activations and loss: default [`Functions::ORIGINAL`], sigmoids and the quadratic loss.
    pub functions: Functions,
    /// How the initial weights are drawn: default [`Init::for_activation`] of the hidden
    /// activation.
    pub init: Option<Init>,
    /// Images per mini-batch: default 32.
    pub batch_size: usize,
    /// The learning rate by epoch: default [`DEFAULT_SCHEDULE`].
    pub schedule: Schedule,
    /// The update rule: default plain SGD.
    pub optimizer: Optimizer,
    /// L2 weight decay `λ`: default 0.
    pub weight_decay: f32,
    /// Dropout rate `p` of the hidden layers during training: default 0.
    pub dropout: f32,
    /// How training images are distorted on the fly: default none.
    pub augment: Augment,
    /// Training images held out for validation: default 0 here (the command line's default is
    /// [`DEFAULT_VALIDATION`]). Recorded with the model; the caller splits the data (see
    /// [`Dataset::split_validation`]) and passes the validation set to [`train`].
    pub validation: usize,
    /// Stop when the validation accuracy has not improved for this many epochs: default never.
    pub patience: Option<usize>,
    /// Seed of the initial weights and of each epoch's shuffle, dropout and distortions:
    /// default [`DEFAULT_SEED`].
    pub seed: u64,
    /// The name of each class: default the digits `"0"` to `"9"`.
    pub classes: Vec<String>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            layers: ORIGINAL_SIZES.to_vec(),
            functions: Functions::ORIGINAL,
            init: None,
            batch_size: 32,
            schedule: DEFAULT_SCHEDULE
                .parse()
                .expect("the default schedule parses"),
            optimizer: Optimizer::Sgd,
            weight_decay: 0.0,
            dropout: 0.0,
            augment: Augment::NONE,
            validation: 0,
            patience: None,
            seed: DEFAULT_SEED,
            classes: crate::data::classes::digits(),
        }
    }
}

impl TrainConfig {
    /// The initialisation used: the one asked for, or the one that fits the activation.
    pub fn init(&self) -> Init {
        self.init
            .unwrap_or_else(|| Init::for_activation(self.functions.hidden))
    }

    /// Checks every value, with a message for the first that is unusable.
    pub fn validate(&self) -> Result<()> {
        crate::network::check_sizes(&self.layers)?;
        check_training_values(
            self.batch_size,
            self.weight_decay,
            self.dropout,
            self.patience,
        )
    }
}

/// The checks of [`TrainConfig::validate`] that apply to a resumed model too.
pub fn check_training_values(
    batch_size: usize,
    weight_decay: f32,
    dropout: f32,
    patience: Option<usize>,
) -> Result<()> {
    if batch_size == 0 {
        return Err(Error::config("batch size", "must be at least 1"));
    }
    if !(weight_decay.is_finite() && weight_decay >= 0.0) {
        return Err(Error::config(
            "weight decay",
            format!("{weight_decay} must be 0 or a small positive number such as 0.0001"),
        ));
    }
    if !(dropout.is_finite() && (0.0..1.0).contains(&dropout)) {
        return Err(Error::config(
            "dropout",
            format!("{dropout} must be at least 0 and below 1, e.g. 0.2"),
        ));
    }
    if patience == Some(0) {
        return Err(Error::config("patience", "must be at least 1 epoch"));
    }
    Ok(())
}

/// One stretch of a learning-rate schedule: rate `lr` for `epochs` epochs (`None`: for ever).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Stage {
    pub lr: f32,
    pub epochs: Option<usize>,
}

/// The learning rate `η` for each epoch. Three kinds, each with its text form:
///
/// - stages, the original's: `"0.1"` is 0.1 throughout; `"0.1x3,0.01x3,0.001x2"` is 0.1 for
///   three epochs, then 0.01 for three, then 0.001 for two (and for any epoch after those);
/// - step decay: `"step:0.1x30,every=10,factor=0.5"` is `η = 0.1·0.5^⌊e/10⌋` for epochs
///   `e = 0..30`;
/// - cosine (Loshchilov and Hutter, 2017): `"cosine:0.1x30"` falls from 0.1 towards
///   `min` (default 0) along half a cosine over 30 epochs, `"cosine:0.1x30,min=0.001"`.
#[derive(Debug, Clone, PartialEq)]
pub enum Schedule {
    Stages(Vec<Stage>),
    Step {
        lr: f32,
        epochs: Option<usize>,
        every: usize,
        factor: f32,
    },
    Cosine {
        lr: f32,
        epochs: usize,
        min: f32,
    },
}

impl Schedule {
    /// One rate for every epoch.
    pub fn constant(lr: f32) -> Result<Self> {
        check_lr(lr, &lr.to_string())?;
        Ok(Schedule::Stages(vec![Stage { lr, epochs: None }]))
    }

    /// The rate for epoch `epoch` (0-based).
    pub fn lr_at(&self, epoch: usize) -> f32 {
        match self {
            Schedule::Stages(stages) => stage_lr(stages, epoch),
            Schedule::Step {
                lr, every, factor, ..
            } => step_decay_lr(*lr, *factor, *every, epoch),
            Schedule::Cosine { lr, epochs, min } => cosine_lr(*lr, *min, *epochs, epoch),
        }
    }

    /// The number of epochs the schedule is written for, if it says.
    pub fn total_epochs(&self) -> Option<usize> {
        match self {
            Schedule::Stages(stages) => stages.iter().map(|s| s.epochs).sum(),
            Schedule::Step { epochs, .. } => *epochs,
            Schedule::Cosine { epochs, .. } => Some(*epochs),
        }
    }
}

/// Stages: the rate of the stage `epoch` falls in; past the last stage, the last rate.
pub fn stage_lr(stages: &[Stage], epoch: usize) -> f32 {
    let mut start = 0;
    for stage in stages {
        match stage.epochs {
            Some(n) if epoch >= start + n => start += n,
            _ => return stage.lr,
        }
    }
    stages[stages.len() - 1].lr
}

/// Step decay: `η = η₀·γ^⌊e/k⌋`, the rate multiplied by `γ` every `k` epochs.
pub fn step_decay_lr(lr: f32, factor: f32, every: usize, epoch: usize) -> f32 {
    lr * factor.powi((epoch / every).min(i32::MAX as usize) as i32)
}

/// Cosine annealing: `η = η_min + ½(η₀ − η_min)·(1 + cos(π·e/T))` for epoch `e` of `T`, so
/// `η₀` at the start, falling slowly, then fast, then slowly towards `η_min`; `η_min` after.
pub fn cosine_lr(lr: f32, min: f32, epochs: usize, epoch: usize) -> f32 {
    if epoch >= epochs {
        return min;
    }
    let progress = epoch as f64 / epochs as f64;
    (min as f64 + 0.5 * (lr - min) as f64 * (1.0 + (std::f64::consts::PI * progress).cos())) as f32
}

fn check_lr(lr: f32, text: &str) -> Result<()> {
    if !(lr.is_finite() && lr > 0.0) {
        return Err(Error::config(
            "learning rate",
            format!("'{text}' must be a positive number such as 0.1"),
        ));
    }
    Ok(())
}

/// An error about the schedule `text`, with the forms it may take.
fn schedule_error(text: &str, why: String) -> Error {
    Error::config(
        "learning rate",
        format!(
            "{why} in '{text}'; write e.g. 0.1, 0.1x3,0.01x2, step:0.1x30,every=10,factor=0.5 \
             or cosine:0.1x30"
        ),
    )
}

/// Parses `"0.1"` (no count) or `"0.1x3"`: a rate and, if `x` follows, a count of epochs.
fn parse_rate_and_epochs(part: &str, text: &str) -> Result<(f32, Option<usize>)> {
    let (lr_text, epochs_text) = match part.split_once(['x', 'X']) {
        Some((lr, epochs)) => (lr.trim(), Some(epochs.trim())),
        None => (part.trim(), None),
    };
    let lr: f32 = lr_text
        .parse()
        .map_err(|_| schedule_error(text, format!("'{lr_text}' is not a number")))?;
    check_lr(lr, lr_text)?;
    let epochs = match epochs_text {
        Some(e) => match e.parse::<usize>() {
            Ok(n) if n > 0 => Some(n),
            _ => {
                return Err(schedule_error(
                    text,
                    format!("'{e}' must be a whole number of epochs, at least 1"),
                ));
            }
        },
        None => None,
    };
    Ok((lr, epochs))
}

/// Parses the `key=value` options after a step or cosine schedule's rate.
fn parse_options<'t>(
    options: &[&'t str],
    allowed: &[&str],
    text: &str,
) -> Result<Vec<(&'t str, f32)>> {
    options
        .iter()
        .map(|option| {
            let (key, value) = option
                .split_once('=')
                .ok_or_else(|| schedule_error(text, format!("'{option}' should be key=value")))?;
            let key = key.trim();
            if !allowed.contains(&key) {
                return Err(schedule_error(
                    text,
                    format!("unknown option '{key}' (known: {})", allowed.join(", ")),
                ));
            }
            let value: f32 = value.trim().parse().map_err(|_| {
                schedule_error(text, format!("'{}' of {key} is not a number", value.trim()))
            })?;
            Ok((key, value))
        })
        .collect()
}

impl FromStr for Schedule {
    type Err = Error;

    /// Parses the text forms listed at [`Schedule`].
    fn from_str(text: &str) -> Result<Self> {
        let text = text.trim();
        if let Some(rest) = text.strip_prefix("step:") {
            let parts: Vec<&str> = rest.split(',').map(str::trim).collect();
            let (lr, epochs) = parse_rate_and_epochs(parts[0], text)?;
            let (mut every, mut factor) = (None, 0.1f32);
            for (key, value) in parse_options(&parts[1..], &["every", "factor"], text)? {
                match key {
                    "every" if value >= 1.0 && value.fract() == 0.0 => every = Some(value as usize),
                    "every" => {
                        return Err(schedule_error(
                            text,
                            "every must be a whole number of epochs, at least 1".to_string(),
                        ));
                    }
                    _ if value > 0.0 && value <= 1.0 => factor = value,
                    _ => {
                        return Err(schedule_error(
                            text,
                            format!("factor {value} must be above 0 and at most 1"),
                        ));
                    }
                }
            }
            let every = every.ok_or_else(|| {
                schedule_error(text, "a step schedule needs every=N epochs".to_string())
            })?;
            return Ok(Schedule::Step {
                lr,
                epochs,
                every,
                factor,
            });
        }
        if let Some(rest) = text.strip_prefix("cosine:") {
            let parts: Vec<&str> = rest.split(',').map(str::trim).collect();
            let (lr, epochs) = parse_rate_and_epochs(parts[0], text)?;
            let epochs = epochs.ok_or_else(|| {
                schedule_error(
                    text,
                    "a cosine schedule needs its length, e.g. cosine:0.1x30".to_string(),
                )
            })?;
            let mut min = 0.0;
            for (_, value) in parse_options(&parts[1..], &["min"], text)? {
                if !(value >= 0.0 && value < lr) {
                    return Err(schedule_error(
                        text,
                        format!("min {value} must be at least 0 and below the rate {lr}"),
                    ));
                }
                min = value;
            }
            return Ok(Schedule::Cosine { lr, epochs, min });
        }
        if let Some((kind, _)) = text.split_once(':') {
            return Err(schedule_error(text, format!("unknown schedule '{kind}'")));
        }
        let parts: Vec<&str> = text.split(',').map(str::trim).collect();
        let mut stages = Vec::new();
        for (i, part) in parts.iter().enumerate() {
            let (lr, epochs) = parse_rate_and_epochs(part, text)?;
            if epochs.is_none() && i + 1 < parts.len() {
                return Err(schedule_error(
                    text,
                    format!(
                        "stage '{part}' needs an epoch count (e.g. {part}x3); only the last may go without"
                    ),
                ));
            }
            stages.push(Stage { lr, epochs });
        }
        Ok(Schedule::Stages(stages))
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = |epochs: Option<usize>| epochs.map(|n| format!("x{n}")).unwrap_or_default();
        match self {
            Schedule::Stages(stages) => {
                for (i, stage) in stages.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{}{}", stage.lr, count(stage.epochs))?;
                }
                Ok(())
            }
            Schedule::Step {
                lr,
                epochs,
                every,
                factor,
            } => write!(
                f,
                "step:{lr}{},every={every},factor={factor}",
                count(*epochs)
            ),
            Schedule::Cosine { lr, epochs, min } => {
                write!(f, "cosine:{lr}x{epochs}")?;
                if *min > 0.0 {
                    write!(f, ",min={min}")?;
                }
                Ok(())
            }
        }
    }
}

serde_as_text!(Schedule);

/// What one epoch did.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based, counted over the model's whole life (a resumed run continues the count).
    pub epoch: usize,
    /// The learning rate `η` used.
    pub lr: f32,
    /// Mean loss over the epoch's training images, before each batch's update.
    pub train_loss: f32,
    /// Fraction of the validation set read correctly after the epoch, `0..=1`, if there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_accuracy: Option<f64>,
    /// Fraction of the test set read correctly after the epoch, `0..=1`.
    pub test_accuracy: f64,
    /// Wall time of the epoch's training (not of the evaluation).
    pub seconds: f64,
}

/// The epoch with the best validation accuracy in `history` (the first, on ties), if any epoch
/// was validated: the one to choose, and where early stopping counts from.
pub fn best_epoch(history: &[EpochRecord]) -> Option<&EpochRecord> {
    history
        .iter()
        .filter(|r| r.validation_accuracy.is_some())
        .fold(None, |best: Option<&EpochRecord>, r| match best {
            Some(b) if b.validation_accuracy >= r.validation_accuracy => Some(b),
            _ => Some(r),
        })
}

/// The data [`train`] works with: the training set, an optional validation set held out of it,
/// and the test set.
#[derive(Debug, Clone, Copy)]
pub struct Sets<'a> {
    pub train: &'a Dataset,
    pub validation: Option<&'a Dataset>,
    pub test: &'a Dataset,
}

impl<'a> Sets<'a> {
    /// A training and a test set, no validation set.
    pub fn new(train: &'a Dataset, test: &'a Dataset) -> Self {
        Sets {
            train,
            validation: None,
            test,
        }
    }
}

/// What [`train`] tells its caller as it goes.
#[derive(Debug)]
pub enum Event<'a> {
    /// An epoch begins: its 1-based number, its rate, its number of batches.
    EpochStart {
        epoch: usize,
        lr: f32,
        batches: usize,
    },
    /// A batch was trained: how many of the epoch's images are done and the batch's loss.
    Batch { images_done: usize, loss: f32 },
    /// An epoch ended; `model` is in a consistent state, e.g. for a checkpoint.
    EpochEnd {
        record: &'a EpochRecord,
        model: &'a Model,
    },
    /// Training stops early: the validation accuracy has not improved for `patience` epochs
    /// since epoch `best_epoch`.
    EarlyStop { best_epoch: usize, patience: usize },
}

/// Trains `model` for up to `epochs` more epochs on `sets.train`, measuring accuracy on the
/// validation and test sets after each, with `threads` threads for the matrix products.
///
/// Each epoch visits the training images in a new order drawn from the model's seed and the
/// epoch's number, in mini-batches of the model's batch size (the last one may be smaller),
/// distorted if the model's record asks for augmentation. With a patience in the record and a
/// validation set, training stops early once the validation accuracy has not improved for that
/// many epochs. `on_event` may stop training by returning an error, which `train` returns.
///
/// If the loss becomes NaN or infinite, the model is put back as it was after the last good epoch
/// and [`Error::Diverged`] is returned.
pub fn train(
    model: &mut Model,
    sets: Sets,
    epochs: usize,
    threads: usize,
    mut on_event: impl FnMut(Event) -> Result<()>,
) -> Result<()> {
    for set in [Some(sets.train), sets.validation, Some(sets.test)]
        .into_iter()
        .flatten()
    {
        check_fits(&model.network, set)?;
    }
    if epochs == 0 {
        return Err(Error::config("epochs", "must be at least 1"));
    }
    let record = &model.training;
    check_training_values(
        record.batch_size,
        record.weight_decay,
        record.dropout,
        record.patience,
    )?;
    record
        .optimizer
        .check_state(&model.network, &model.optimizer_state)?;
    if !record.augment.is_none() && sets.train.rows() != sets.train.cols() {
        return Err(Error::config(
            "augment",
            format!(
                "distortions need square images; these are {}x{}",
                sets.train.rows(),
                sets.train.cols()
            ),
        ));
    }
    with_threads(threads, || {
        for _ in 0..epochs {
            train_epoch(model, sets, &mut on_event)?;
            if let (Some(patience), Some(_)) = (model.training.patience, sets.validation) {
                let history = &model.training.history;
                let best = best_epoch(history).expect("a validated epoch").epoch;
                if history.len() - best >= patience {
                    return on_event(Event::EarlyStop {
                        best_epoch: best,
                        patience,
                    });
                }
            }
        }
        Ok(())
    })?
}

/// Runs `f` with a team of `threads` threads (see [`crate::team`]) sharing the maths.
pub fn with_threads<T>(threads: usize, f: impl FnOnce() -> T) -> Result<T> {
    if threads == 0 {
        return Err(Error::config("threads", "must be at least 1"));
    }
    let team = Team::new(threads)
        .map_err(|e| Error::config("threads", format!("cannot start {threads} threads: {e}")))?;
    Ok(with_team(&team, f))
}

/// One epoch: shuffle, then for each mini-batch: next batch, forward, loss, backward, update.
fn train_epoch(
    model: &mut Model,
    sets: Sets,
    on_event: &mut impl FnMut(Event) -> Result<()>,
) -> Result<()> {
    let train_set = sets.train;
    let epoch = model.epochs_trained();
    let record = model.training.clone();
    let batch_size = record.batch_size;
    let lr = record.schedule.lr_at(epoch);
    let last_good = (model.network.clone(), model.optimizer_state.clone());
    let pixels = train_set.pixels_per_image();

    let order = shuffled_indices(train_set.len(), &mut epoch_rng(record.seed, epoch));
    let batches = order.len().div_ceil(batch_size);
    on_event(Event::EpochStart {
        epoch: epoch + 1,
        lr,
        batches,
    })?;

    let network = &mut model.network;
    let state = &mut model.optimizer_state;
    let mut ws = network.training_workspace(batch_size, record.dropout);
    let mut masks_rng = dropout_rng(record.seed, epoch);
    let mut grads = network.gradients();
    let mut x = vec![0.0; pixels * batch_size];
    let mut y = vec![0.0; CLASSES * batch_size];
    let mut loss_sum = 0.0f64;
    let start = Instant::now();
    for (b, indices) in order.chunks(batch_size).enumerate() {
        // next batch
        let first = b * batch_size;
        fill_inputs_shared(train_set, indices, &mut x, &record.augment, |position| {
            image_rng(record.seed, epoch, first + position)
        });
        fill_targets(train_set, indices, &mut y);
        if let Some(next) = order.chunks(batch_size).nth(b + 1) {
            prefetch_images(train_set, next);
        }
        ws.draw_dropout_masks(&mut masks_rng, indices.len());
        // forward, loss, backward
        let x_mat = MatRef::col_major(&x, pixels, indices.len());
        let loss = network.loss_and_gradients(x_mat, &y, &mut ws, &mut grads);
        if !loss.is_finite() {
            (*network, *state) = last_good;
            return Err(Error::Diverged {
                epoch: epoch + 1,
                batch: b + 1,
                loss,
            });
        }
        // update
        record
            .optimizer
            .step(network, &grads, state, lr, record.weight_decay);
        loss_sum += loss as f64 * indices.len() as f64;
        on_event(Event::Batch {
            images_done: first + indices.len(),
            loss,
        })?;
    }
    let seconds = start.elapsed().as_secs_f64();

    let validation_accuracy = match sets.validation {
        Some(set) => Some(evaluate(network, set)?.accuracy()),
        None => None,
    };
    let record = EpochRecord {
        epoch: epoch + 1,
        lr,
        train_loss: (loss_sum / train_set.len() as f64) as f32,
        validation_accuracy,
        test_accuracy: evaluate(network, sets.test)?.accuracy(),
        seconds,
    };
    model.training.history.push(record);
    on_event(Event::EpochEnd {
        record: &record,
        model,
    })
}

/// The inputs of a batch: [`fill_inputs`], or each image distorted by `augment` with the random
/// numbers `rng_for(position in the batch)`; the images split between the threads of the
/// current team (each image's numbers depend only on its position, so not on the split).
fn fill_inputs_shared<R: rand::Rng>(
    data: &Dataset,
    indices: &[usize],
    x: &mut [f32],
    augment: &Augment,
    rng_for: impl Fn(usize) -> R + Sync,
) {
    let pixels = data.pixels_per_image();
    let side = data.rows();
    team::current(|team| {
        // Work in multiply-adds, as row_ranges counts it: a plain copy is about one per pixel; a
        // distortion is tens (an elastic one, 8.8 µs for 784 pixels: about 60).
        let work = indices.len() * pixels * if augment.is_none() { 1 } else { 64 };
        let ranges = team.row_ranges(indices.len(), work);
        let blocks = row_blocks(x, pixels, &ranges);
        let mut parts: SmallVec<[_; 8]> = ranges.into_iter().zip(blocks).collect();
        team.for_each(&mut parts, |(images, x)| {
            if augment.is_none() {
                fill_inputs(data, &indices[images.clone()], x);
                return;
            }
            for (k, column) in images.clone().zip(x.chunks_exact_mut(pixels)) {
                augment.apply(data.image(indices[k]), side, &mut rng_for(k), column);
            }
        });
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_staged_schedule_gives_each_epoch_its_rate() {
        let s: Schedule = "0.1x3,0.01x3,0.001x2".parse().unwrap();
        let rates: Vec<f32> = (0..10).map(|e| s.lr_at(e)).collect();
        assert_eq!(
            rates,
            [0.1, 0.1, 0.1, 0.01, 0.01, 0.01, 0.001, 0.001, 0.001, 0.001]
        );
        assert_eq!(s.total_epochs(), Some(8));
        assert_eq!(s.to_string(), "0.1x3,0.01x3,0.001x2");
    }

    #[test]
    fn a_single_rate_lasts_for_ever() {
        let s: Schedule = "0.5".parse().unwrap();
        assert_eq!(s.lr_at(1000), 0.5);
        assert_eq!(s.total_epochs(), None);
    }

    #[test]
    fn bad_schedules_are_refused_with_the_reason() {
        for (text, reason) in [
            ("-1", "positive"),
            ("nan", "positive"),
            ("inf", "positive"),
            ("0", "positive"),
            ("abc", "not a number"),
            ("0.1x0", "at least 1"),
            ("0.1x", "whole number"),
            ("0.1,0.01x2", "needs an epoch count"),
            ("", "not a number"),
        ] {
            let err = text.parse::<Schedule>().unwrap_err().to_string();
            assert!(err.contains(reason), "'{text}': {err}");
        }
    }

    #[test]
    fn step_decay_multiplies_the_rate_every_k_epochs() {
        let s: Schedule = "step:0.1x30,every=10,factor=0.5".parse().unwrap();
        assert_eq!(
            [s.lr_at(0), s.lr_at(9), s.lr_at(10), s.lr_at(25)],
            [0.1, 0.1, 0.05, 0.025]
        );
        assert_eq!(s.total_epochs(), Some(30));
        assert_eq!(s.to_string(), "step:0.1x30,every=10,factor=0.5");
        let open: Schedule = "step:1,every=2".parse().unwrap();
        assert_eq!(open.total_epochs(), None);
        assert!((open.lr_at(2) - 0.1).abs() < 1e-7, "factor 0.1 by default");
    }

    #[test]
    fn cosine_falls_from_the_rate_to_the_minimum_along_half_a_cosine() {
        let s: Schedule = "cosine:0.1x10".parse().unwrap();
        assert_eq!(s.lr_at(0), 0.1);
        assert!((s.lr_at(5) - 0.05).abs() < 1e-7, "halfway is the mean");
        assert!(s.lr_at(9) > 0.0 && s.lr_at(9) < 0.003);
        assert_eq!(s.lr_at(10), 0.0);
        let rates: Vec<f32> = (0..10).map(|e| s.lr_at(e)).collect();
        assert!(rates.windows(2).all(|w| w[1] < w[0]));
        let with_min: Schedule = "cosine:0.1x10,min=0.001".parse().unwrap();
        assert_eq!(with_min.to_string(), "cosine:0.1x10,min=0.001");
        assert_eq!(with_min.lr_at(10), 0.001);
        assert_eq!(with_min.total_epochs(), Some(10));
    }

    #[test]
    fn bad_step_and_cosine_schedules_are_refused_with_the_reason() {
        for (text, reason) in [
            ("step:0.1x30", "needs every=N"),
            ("step:0.1,every=0", "at least 1"),
            ("step:0.1,every=2.5", "whole number"),
            ("step:0.1,every=2,factor=2", "at most 1"),
            ("step:0.1,every=2,gamma=0.5", "unknown option 'gamma'"),
            ("step:0.1,every", "key=value"),
            ("cosine:0.1", "needs its length"),
            ("cosine:0.1x10,min=0.5", "below the rate"),
            ("cosine:-1x10", "positive"),
            ("linear:0.1x10", "unknown schedule 'linear'"),
        ] {
            let err = text.parse::<Schedule>().unwrap_err().to_string();
            assert!(err.contains(reason), "'{text}': {err}");
        }
    }

    #[test]
    fn each_optimizer_has_a_default_schedule() {
        assert_eq!(
            default_schedule(Optimizer::Sgd).to_string(),
            DEFAULT_SCHEDULE
        );
        assert_eq!(default_schedule(Optimizer::ADAM).lr_at(0), 0.001);
        assert_eq!(default_schedule(Optimizer::ADAM).total_epochs(), Some(33));
    }

    #[test]
    fn the_best_epoch_is_the_first_with_the_highest_validation_accuracy() {
        let record = |epoch, validation_accuracy| EpochRecord {
            epoch,
            lr: 0.1,
            train_loss: 0.1,
            validation_accuracy,
            test_accuracy: 0.9,
            seconds: 1.0,
        };
        let history = [
            record(1, Some(0.9)),
            record(2, Some(0.95)),
            record(3, Some(0.95)),
            record(4, Some(0.93)),
        ];
        assert_eq!(best_epoch(&history).unwrap().epoch, 2);
        assert!(best_epoch(&[record(1, None)]).is_none());
    }

    #[test]
    fn the_default_config_is_the_original_network() {
        let c = TrainConfig::default();
        assert_eq!(c.layers, [784, 128, 64, 10]);
        assert_eq!(c.batch_size, 32);
        assert_eq!(c.schedule.total_epochs(), Some(33));
    }
}

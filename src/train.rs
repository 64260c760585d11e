//! Training: the epoch loop of mini-batch stochastic gradient descent.
//!
//! What it is: [`TrainConfig`] (what to train, with documented defaults), the learning-rate
//! [`Schedule`], and [`train`], which runs epochs and reports what happens through a callback.
//! What it is not: printing or saving. The caller decides what to show and when to write a
//! checkpoint, from the [`Event`]s it receives.
//!
//! One training step, as a recipe: next batch, forward, loss, backward, update.

use crate::activation::Activation;
use crate::data::batch::{fill_inputs, fill_targets, prefetch_images, shuffled_indices};
use crate::data::{CLASSES, Dataset};
use crate::error::{Error, Result};
use crate::matrix::MatRef;
use crate::metrics::{check_fits, evaluate};
use crate::model::{Model, epoch_rng};
use crate::network::ORIGINAL_SIZES;
use crate::optimizer::Sgd;
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
pub const DEFAULT_SCHEDULE: &str = "3x20,0.3x5,0.03x3";

/// The default seed.
pub const DEFAULT_SEED: u64 = 42;

/// What to train and how. `Default` is the original network with the measured schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    /// Layer sizes, input first: default `[784, 128, 64, 10]`.
    pub layers: Vec<usize>,
    /// The activation after every layer: sigmoid.
    pub activation: Activation,
    /// Images per mini-batch: default 32.
    pub batch_size: usize,
    /// The learning rate by epoch: default [`DEFAULT_SCHEDULE`].
    pub schedule: Schedule,
    /// Seed of the initial weights and of each epoch's shuffle: default [`DEFAULT_SEED`].
    pub seed: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            layers: ORIGINAL_SIZES.to_vec(),
            activation: Activation::Sigmoid,
            batch_size: 32,
            schedule: DEFAULT_SCHEDULE
                .parse()
                .expect("the default schedule parses"),
            seed: DEFAULT_SEED,
        }
    }
}

impl TrainConfig {
    /// Checks every value, with a message for the first that is unusable.
    pub fn validate(&self) -> Result<()> {
        crate::network::check_sizes(&self.layers)?;
        if self.batch_size == 0 {
            return Err(Error::config("batch size", "must be at least 1"));
        }
        Ok(())
    }
}

/// One stretch of a learning-rate schedule: rate `lr` for `epochs` epochs (`None`: for ever).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Stage {
    pub lr: f32,
    pub epochs: Option<usize>,
}

/// The learning rate `η` for each epoch, as stages: `"0.1"` is 0.1 throughout;
/// `"0.1x3,0.01x3,0.001x2"` is 0.1 for three epochs, then 0.01 for three, then 0.001 for two
/// (and for any epoch after those).
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    stages: Vec<Stage>,
}

impl Schedule {
    /// One rate for every epoch.
    pub fn constant(lr: f32) -> Result<Self> {
        check_lr(lr, &lr.to_string())?;
        Ok(Schedule {
            stages: vec![Stage { lr, epochs: None }],
        })
    }

    /// The rate for epoch `epoch` (0-based); past the last stage, the last rate.
    pub fn lr_at(&self, epoch: usize) -> f32 {
        let mut start = 0;
        for stage in &self.stages {
            match stage.epochs {
                Some(n) if epoch >= start + n => start += n,
                _ => return stage.lr,
            }
        }
        self.stages[self.stages.len() - 1].lr
    }

    /// The number of epochs the stages add up to, if every stage has a count.
    pub fn total_epochs(&self) -> Option<usize> {
        self.stages.iter().map(|s| s.epochs).sum()
    }

    /// The stages, in order.
    pub fn stages(&self) -> &[Stage] {
        &self.stages
    }
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

impl FromStr for Schedule {
    type Err = Error;

    /// Parses `"0.1"` or `"0.1x3,0.01x3,0.001x2"` (rate `x` epochs, comma-separated).
    fn from_str(text: &str) -> Result<Self> {
        let mut stages = Vec::new();
        let parts: Vec<&str> = text.split(',').map(str::trim).collect();
        for (i, part) in parts.iter().enumerate() {
            let (lr_text, epochs_text) = match part.split_once(['x', 'X']) {
                Some((lr, epochs)) => (lr.trim(), Some(epochs.trim())),
                None => (*part, None),
            };
            let lr: f32 = lr_text.parse().map_err(|_| {
                Error::config(
                    "learning rate",
                    format!(
                        "'{lr_text}' in '{text}' is not a number; write e.g. 0.1 or 0.1x3,0.01x2"
                    ),
                )
            })?;
            check_lr(lr, lr_text)?;
            let epochs = match epochs_text {
                Some(e) => match e.parse::<usize>() {
                    Ok(n) if n > 0 => Some(n),
                    _ => {
                        return Err(Error::config(
                            "learning rate",
                            format!(
                                "'{e}' in '{text}' must be a whole number of epochs, at least 1"
                            ),
                        ));
                    }
                },
                None if i + 1 < parts.len() => {
                    return Err(Error::config(
                        "learning rate",
                        format!(
                            "stage '{part}' in '{text}' needs an epoch count (e.g. {part}x3); only the last may go without"
                        ),
                    ));
                }
                None => None,
            };
            stages.push(Stage { lr, epochs });
        }
        Ok(Schedule { stages })
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, stage) in self.stages.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{}", stage.lr)?;
            if let Some(n) = stage.epochs {
                write!(f, "x{n}")?;
            }
        }
        Ok(())
    }
}

impl Serialize for Schedule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Schedule {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// What one epoch did.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based, counted over the model's whole life (a resumed run continues the count).
    pub epoch: usize,
    /// The learning rate `η` used.
    pub lr: f32,
    /// Mean loss `½‖A − Y‖²` over the epoch's training images, before each batch's update.
    pub train_loss: f32,
    /// Fraction of the test set read correctly after the epoch, `0..=1`.
    pub test_accuracy: f64,
    /// Wall time of the epoch's training (not of the evaluation).
    pub seconds: f64,
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
}

/// Trains `model` for `epochs` more epochs on `train_set`, measuring accuracy on `test_set` after
/// each, with `threads` threads for the matrix products.
///
/// Each epoch visits the training images in a new order drawn from the model's seed and the
/// epoch's number, in mini-batches of the model's batch size (the last one may be smaller).
/// `on_event` may stop training by returning an error, which `train` returns.
///
/// If the loss becomes NaN or infinite, the model is put back as it was after the last good epoch
/// and [`Error::Diverged`] is returned.
pub fn train(
    model: &mut Model,
    train_set: &Dataset,
    test_set: &Dataset,
    epochs: usize,
    threads: usize,
    mut on_event: impl FnMut(Event) -> Result<()>,
) -> Result<()> {
    check_fits(&model.network, train_set)?;
    check_fits(&model.network, test_set)?;
    if epochs == 0 {
        return Err(Error::config("epochs", "must be at least 1"));
    }
    with_threads(threads, || {
        for _ in 0..epochs {
            train_epoch(model, train_set, test_set, &mut on_event)?;
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

/// One epoch: shuffle, then for each mini-batch: forward, loss, backward, update.
fn train_epoch(
    model: &mut Model,
    train_set: &Dataset,
    test_set: &Dataset,
    on_event: &mut impl FnMut(Event) -> Result<()>,
) -> Result<()> {
    let epoch = model.epochs_trained();
    let batch_size = model.training.batch_size;
    let lr = model.training.schedule.lr_at(epoch);
    let sgd = Sgd { learning_rate: lr };
    let last_good = model.network.clone();
    let pixels = train_set.pixels_per_image();

    let order = shuffled_indices(train_set.len(), &mut epoch_rng(model.training.seed, epoch));
    let batches = order.len().div_ceil(batch_size);
    on_event(Event::EpochStart {
        epoch: epoch + 1,
        lr,
        batches,
    })?;

    let network = &mut model.network;
    let mut ws = network.workspace(batch_size);
    let mut grads = network.gradients();
    let mut x = vec![0.0; pixels * batch_size];
    let mut y = vec![0.0; CLASSES * batch_size];
    let mut loss_sum = 0.0f64;
    let start = Instant::now();
    for (b, indices) in order.chunks(batch_size).enumerate() {
        // next batch
        fill_inputs_shared(train_set, indices, &mut x);
        fill_targets(train_set, indices, &mut y);
        if let Some(next) = order.chunks(batch_size).nth(b + 1) {
            prefetch_images(train_set, next);
        }
        // forward, loss, backward
        let x_mat = MatRef::col_major(&x, pixels, indices.len());
        let loss = network.loss_and_gradients(x_mat, &y, &mut ws, &mut grads);
        if !loss.is_finite() {
            *network = last_good;
            return Err(Error::Diverged {
                epoch: epoch + 1,
                batch: b + 1,
                loss,
            });
        }
        // update
        sgd.step(network, &grads);
        loss_sum += loss as f64 * indices.len() as f64;
        on_event(Event::Batch {
            images_done: (b * batch_size + indices.len()),
            loss,
        })?;
    }
    let seconds = start.elapsed().as_secs_f64();

    let record = EpochRecord {
        epoch: epoch + 1,
        lr,
        train_loss: (loss_sum / train_set.len() as f64) as f32,
        test_accuracy: evaluate(network, test_set)?.accuracy(),
        seconds,
    };
    model.training.history.push(record);
    on_event(Event::EpochEnd {
        record: &record,
        model,
    })
}

/// [`fill_inputs`], the images split between the threads of the current team.
fn fill_inputs_shared(data: &Dataset, indices: &[usize], x: &mut [f32]) {
    let pixels = data.pixels_per_image();
    team::current(|team| {
        let ranges = team.row_ranges(indices.len(), indices.len() * pixels);
        let blocks = row_blocks(x, pixels, &ranges);
        let mut parts: SmallVec<[_; 8]> = ranges.into_iter().zip(blocks).collect();
        team.for_each(&mut parts, |(images, x)| {
            fill_inputs(data, &indices[images.clone()], x);
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
    fn the_default_config_is_the_original_network() {
        let c = TrainConfig::default();
        assert_eq!(c.layers, [784, 128, 64, 10]);
        assert_eq!(c.batch_size, 32);
        assert_eq!(c.schedule.total_epochs(), Some(28));
    }
}

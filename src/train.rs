//! Training: the epoch loop of mini-batch stochastic gradient descent.
//!
//! What it is: [`train`], which runs epochs on an [`Engine`] and reports what happens through a
//! callback. What it is not: printing or saving (the caller decides what to show and when to
//! write a checkpoint, from the [`Event`]s it receives), the maths ([`crate::nn`]) or where it
//! runs ([`crate::engine`]). What to train is a [`crate::settings::TrainConfig`]; the rate of
//! each epoch comes from its [`crate::schedule::Schedule`].
//!
//! One training step, as a recipe: next batch, forward, loss, backward, update
//! ([`crate::engine::Trainer::step`]).

use crate::data::Dataset;
use crate::data::batch::shuffled_indices;
use crate::engine::{Batch, Engine, Trainer};
use crate::error::{Error, Result};
use crate::history::{EpochRecord, best_epoch};
use crate::metrics::{Evaluation, check_fits, evaluate};
use crate::model::Model;
use crate::nn::averaging::fold_into_average;
use crate::rng::epoch_rng;
use std::time::Instant;

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
    /// A batch was trained: how many of the epoch's images are done and the batch's loss, if
    /// the engine reads it back after each batch (the CPU does; a GPU does not).
    Batch {
        images_done: usize,
        loss: Option<f32>,
    },
    /// An epoch ended; `model` is in a consistent state, e.g. for a checkpoint, and `test` is
    /// how it did on the test set (the confusion matrix behind `record.test_accuracy`).
    EpochEnd {
        record: &'a EpochRecord,
        model: &'a Model,
        test: &'a Evaluation,
    },
    /// Training stops early: the validation accuracy has not improved for `patience` epochs
    /// since epoch `best_epoch`.
    EarlyStop { best_epoch: usize, patience: usize },
}

/// Trains `model` for up to `epochs` more epochs on `sets.train`, on `engine`, measuring
/// accuracy on the validation and test sets after each.
///
/// Each epoch visits the training images in a new order drawn from the model's seed and the
/// epoch's number, in mini-batches of the model's batch size (the last one may be smaller),
/// distorted if the model's settings ask for augmentation. With a patience in the settings and
/// a validation set, training stops early once the validation accuracy has not improved for
/// that many epochs. `on_event` may stop training by returning an error, which `train` returns.
///
/// If the loss becomes NaN or infinite, the model is left as it was after the last good epoch
/// and [`Error::Diverged`] is returned.
pub fn train(
    model: &mut Model,
    sets: Sets,
    epochs: usize,
    engine: &dyn Engine,
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
    let settings = model.settings();
    settings.validate()?;
    (settings.optimizer).check_state(&model.network, &model.optimizer_state)?;
    if settings.augment.changes_images() && sets.train.rows() != sets.train.cols() {
        return Err(Error::config(
            "augment",
            format!(
                "distortions need square images; these are {}x{}",
                sets.train.rows(),
                sets.train.cols()
            ),
        ));
    }
    // With weight averaging under way, training goes on from the last weights, not their mean.
    let mut trainer = match &model.iterate {
        Some(iterate) => engine.trainer(&Model {
            network: iterate.clone(),
            iterate: None,
            ..model.clone()
        })?,
        None => engine.trainer(model)?,
    };
    for epoch in 0..=epochs {
        // Checked before each epoch, the first included: a resumed run that had already stopped
        // early stops again at once, as the uninterrupted one did.
        if let Some((best_epoch, patience)) = patience_ran_out(model, sets) {
            return on_event(Event::EarlyStop {
                best_epoch,
                patience,
            });
        }
        if epoch < epochs {
            train_epoch(model, &mut *trainer, sets, engine, &mut on_event)?;
        }
    }
    Ok(())
}

/// The trained parameters and optimizer state of epoch `epoch` (1-based) into `model`. With
/// weight averaging from this epoch or an earlier one, the epoch's weights are kept as
/// `model.iterate` and folded into the mean, `model.network`:
/// `θ̄ ← (θ̄·n + θ)/(n + 1)` ([`fold_into_average`]); the first epoch averaged is its own mean.
fn read_back(model: &mut Model, trainer: &dyn Trainer, epoch: usize) -> Result<()> {
    let averaged = model.settings().averaged_epochs(epoch);
    // The mean so far, before the trainer's weights are read into `model.network`.
    let mean = (averaged > 1).then(|| model.network.clone());
    trainer.read_back(model)?;
    if averaged > 0 {
        let theta = match mean {
            Some(mut mean) => {
                fold_into_average(&mut mean, &model.network, averaged - 1);
                std::mem::replace(&mut model.network, mean)
            }
            None => model.network.clone(),
        };
        model.iterate = Some(theta);
    }
    Ok(())
}

/// The best epoch and the patience, if training should stop early: there is a patience and a
/// validation set, and the validation accuracy has not improved for `patience` epochs.
fn patience_ran_out(model: &Model, sets: Sets) -> Option<(usize, usize)> {
    let patience = model.settings().patience?;
    sets.validation?;
    let history = &model.training.history;
    let best = best_epoch(history)?.epoch;
    (history.len() - best >= patience).then_some((best, patience))
}

/// One epoch: shuffle, then for each mini-batch one step (next batch, forward, loss, backward,
/// update); then the parameters back into `model` (into the mean of the weights, with weight
/// averaging), and its accuracy measured.
fn train_epoch(
    model: &mut Model,
    trainer: &mut dyn Trainer,
    sets: Sets,
    engine: &dyn Engine,
    on_event: &mut impl FnMut(Event) -> Result<()>,
) -> Result<()> {
    let train_set = sets.train;
    let epoch = model.epochs_trained();
    let settings = model.settings();
    let batch_size = settings.batch_size;
    let lr = settings.schedule.lr_at(epoch);

    let order = shuffled_indices(train_set.len(), &mut epoch_rng(settings.seed, epoch));
    let batches: Vec<&[usize]> = order.chunks(batch_size).collect();
    on_event(Event::EpochStart {
        epoch: epoch + 1,
        lr,
        batches: batches.len(),
    })?;

    trainer.start_epoch(epoch);
    let start = Instant::now();
    for (b, &indices) in batches.iter().enumerate() {
        let first = b * batch_size;
        let batch = Batch {
            data: train_set,
            order: &order,
            indices,
            first,
            next: batches.get(b + 1).copied(),
        };
        let loss = trainer.step(batch, lr)?;
        if let Some(loss) = loss.filter(|l| !l.is_finite()) {
            return Err(Error::Diverged {
                epoch: epoch + 1,
                batch: b + 1,
                loss,
            });
        }
        on_event(Event::Batch {
            images_done: first + indices.len(),
            loss,
        })?;
    }
    let losses = trainer.end_epoch()?;
    let seconds = start.elapsed().as_secs_f64();
    if let Some((b, loss)) = losses.first_bad_batch {
        return Err(Error::Diverged {
            epoch: epoch + 1,
            batch: b + 1,
            loss,
        });
    }
    read_back(model, trainer, epoch + 1)?;

    let network = &model.network;
    let validation_accuracy = match sets.validation {
        Some(set) => Some(evaluate(engine, network, set)?.accuracy()),
        None => None,
    };
    let test = evaluate(engine, network, sets.test)?;
    let record = EpochRecord {
        epoch: epoch + 1,
        lr,
        train_loss: (losses.sum / train_set.len() as f64) as f32,
        validation_accuracy,
        test_accuracy: test.accuracy(),
        seconds,
    };
    model.training.history.push(record);
    on_event(Event::EpochEnd {
        record: &record,
        model,
        test: &test,
    })
}

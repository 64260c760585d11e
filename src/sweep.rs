//! Sweeps: several configurations trained with the same data, epoch budget and seed, and what
//! each reached.
//!
//! What it is: [`run`], which trains one configuration and sums up its history as a
//! [`SweepResult`], and the CSV form of a table of them ([`to_csv`]). What it is not: building
//! the grid of configurations (the command line does, from flags or a file), or drawing it
//! ([`crate::plot::sweep`]).

use crate::engine::Engine;
use crate::error::Result;
use crate::history::best_epoch;
use crate::model::Model;
use crate::plot::SweepLine;
use crate::settings::TrainConfig;
use crate::train::{Event, Sets, train};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::time::Instant;

/// What one configuration of a sweep reached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepResult {
    /// A short description, e.g. `784-128-64-10 sigmoid sgd`.
    pub name: String,
    /// Layer sizes, input first.
    pub layers: Vec<usize>,
    pub activation: String,
    pub output: String,
    pub loss: String,
    pub optimizer: String,
    pub schedule: String,
    pub weight_decay: f32,
    pub dropout: f32,
    #[serde(default)]
    pub label_smoothing: f32,
    /// The first epoch of weight averaging, if any.
    #[serde(default)]
    pub average_from: Option<usize>,
    pub augment: String,
    pub batch_size: usize,
    pub parameters: usize,
    /// Epochs trained.
    pub epochs: usize,
    /// The epoch with the best validation accuracy (1-based), if there was a validation set.
    pub best_epoch: Option<usize>,
    pub best_validation_accuracy: Option<f64>,
    /// The test accuracy after the best epoch: the figure to compare (the last epoch's without
    /// a validation set).
    pub test_accuracy: f64,
    /// The test accuracy after the last epoch.
    pub final_test_accuracy: f64,
    /// Wall time of the training, evaluation after each epoch included.
    pub seconds: f64,
    /// The test accuracy after each epoch, epoch 1 first.
    pub test_accuracy_by_epoch: Vec<f64>,
}

impl SweepResult {
    /// The configuration as a line of [`crate::plot::sweep`].
    pub fn line(&self) -> SweepLine {
        SweepLine {
            label: self.name.clone(),
            test_accuracy: self.test_accuracy_by_epoch.clone(),
            best_epoch: self.best_epoch,
        }
    }
}

/// Trains a new model from `config` for `epochs` epochs on `sets`, and sums it up under `name`.
/// `on_event` sees every event of the training, e.g. for a progress bar.
pub fn run(
    name: &str,
    config: &TrainConfig,
    sets: Sets,
    epochs: usize,
    engine: &dyn Engine,
    on_event: impl FnMut(Event) -> Result<()>,
) -> Result<(SweepResult, Model)> {
    let start = Instant::now();
    let mut model = Model::new(config)?;
    train(&mut model, sets, epochs, engine, on_event)?;
    let seconds = start.elapsed().as_secs_f64();
    let history = &model.training.history;
    let best = best_epoch(history);
    let last = history.last().expect("at least one epoch was trained");
    let f = model.network.functions();
    let t = model.settings();
    let result = SweepResult {
        name: name.to_string(),
        layers: model.network.sizes(),
        activation: f.hidden.to_string(),
        output: f.output.to_string(),
        loss: f.loss.to_string(),
        optimizer: t.optimizer.to_string(),
        schedule: t.schedule.to_string(),
        weight_decay: t.weight_decay,
        dropout: t.dropout,
        label_smoothing: t.label_smoothing,
        average_from: t.average_from,
        augment: t.augment.to_string(),
        batch_size: t.batch_size,
        parameters: model.network.parameter_count(),
        epochs: history.len(),
        best_epoch: best.map(|b| b.epoch),
        best_validation_accuracy: best.and_then(|b| b.validation_accuracy),
        test_accuracy: best.unwrap_or(last).test_accuracy,
        final_test_accuracy: last.test_accuracy,
        seconds,
        test_accuracy_by_epoch: history.iter().map(|r| r.test_accuracy).collect(),
    };
    Ok((result, model))
}

/// The columns of [`to_csv`].
pub const CSV_HEADER: &str = "name,layers,activation,output,loss,optimizer,schedule,weight_decay,\
dropout,label_smoothing,average_from,augment,batch_size,parameters,epochs,best_epoch,best_validation_accuracy,test_accuracy,\
final_test_accuracy,seconds";

/// The results as CSV, one row per configuration under [`CSV_HEADER`]; text fields are quoted
/// (schedules and augmentations contain commas), accuracies are fractions `0..=1`.
pub fn to_csv(results: &[SweepResult]) -> String {
    let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let optional = |v: Option<String>| v.unwrap_or_default();
    let mut csv = format!("{CSV_HEADER}\n");
    for r in results {
        let layers: Vec<String> = r.layers.iter().map(usize::to_string).collect();
        let _ = writeln!(
            csv,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{:.4},{:.4},{:.1}",
            quote(&r.name),
            layers.join("-"),
            r.activation,
            r.output,
            r.loss,
            quote(&r.optimizer),
            quote(&r.schedule),
            r.weight_decay,
            r.dropout,
            r.label_smoothing,
            optional(r.average_from.map(|e| e.to_string())),
            quote(&r.augment),
            r.batch_size,
            r.parameters,
            r.epochs,
            optional(r.best_epoch.map(|e| e.to_string())),
            optional(r.best_validation_accuracy.map(|a| format!("{a:.4}"))),
            r.test_accuracy,
            r.final_test_accuracy,
            r.seconds
        );
    }
    csv
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(name: &str) -> SweepResult {
        SweepResult {
            name: name.to_string(),
            layers: vec![784, 32, 10],
            activation: "relu".into(),
            output: "softmax".into(),
            loss: "cross-entropy".into(),
            optimizer: "adam=0.9/0.999/1e-8".into(),
            schedule: "0.1x2,0.01".into(),
            weight_decay: 0.0,
            dropout: 0.2,
            label_smoothing: 0.0,
            average_from: None,
            augment: "none".into(),
            batch_size: 32,
            parameters: 25_450,
            epochs: 2,
            best_epoch: Some(2),
            best_validation_accuracy: Some(0.95),
            test_accuracy: 0.9512,
            final_test_accuracy: 0.9512,
            seconds: 1.25,
            test_accuracy_by_epoch: vec![0.9, 0.9512],
        }
    }

    #[test]
    fn csv_quotes_fields_with_commas_and_quotes() {
        let csv = to_csv(&[result("small \"one\"")]);
        let mut lines = csv.lines();
        assert_eq!(lines.next(), Some(CSV_HEADER));
        assert_eq!(
            lines.next(),
            Some(
                "\"small \"\"one\"\"\",784-32-10,relu,softmax,cross-entropy,\"adam=0.9/0.999/1e-8\",\
                 \"0.1x2,0.01\",0,0.2,0,,\"none\",32,25450,2,2,0.9500,0.9512,0.9512,1.2"
            )
        );
        assert_eq!(CSV_HEADER.split(',').count(), 20);
    }
}

//! A trained (or training) network together with how it was trained: what a model file holds.
//!
//! What it is: the [`Network`] plus the [`TrainingRecord`] that lets training resume exactly where
//! it stopped and lets `ziffer info` tell its story. What it is not: the file format, which is in
//! [`crate::model_file`].

use crate::augment::Augment;
use crate::error::Result;
use crate::layer::Init;
use crate::network::Network;
use crate::optimizer::{Optimizer, OptimizerState};
use crate::train::{EpochRecord, Schedule, TrainConfig};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Everything about a network's training that is not its weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingRecord {
    /// The seed of the initial weights and of every epoch's shuffle.
    pub seed: u64,
    /// Images per mini-batch.
    pub batch_size: usize,
    /// The learning-rate schedule, by epoch.
    pub schedule: Schedule,
    /// How the initial weights were drawn.
    #[serde(default = "lecun")]
    pub init: Init,
    /// The update rule.
    #[serde(default = "sgd")]
    pub optimizer: Optimizer,
    /// L2 weight decay `λ`.
    #[serde(default)]
    pub weight_decay: f32,
    /// Dropout rate of the hidden layers during training.
    #[serde(default)]
    pub dropout: f32,
    /// How training images are distorted on the fly.
    #[serde(default = "no_augment")]
    pub augment: Augment,
    /// Training images held out for validation (the last ones of the training set).
    #[serde(default)]
    pub validation: usize,
    /// Stop after this many epochs without a better validation accuracy.
    #[serde(default)]
    pub patience: Option<usize>,
    /// One entry per finished epoch, in order; its length is where a resumed run continues.
    pub history: Vec<EpochRecord>,
}

// Defaults for model files written before these fields existed: the original network's choices.
fn lecun() -> Init {
    Init::Lecun
}
fn sgd() -> Optimizer {
    Optimizer::Sgd
}
fn no_augment() -> Augment {
    Augment::NONE
}

/// A network, its training record, the optimizer's state and the names of its classes.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub network: Network,
    pub training: TrainingRecord,
    /// What the optimizer keeps between steps (momentum, Adam's moments), so that a resumed run
    /// continues exactly.
    pub optimizer_state: OptimizerState,
    /// The name of each class, in order: `"0"` to `"9"` for digits.
    pub classes: Vec<String>,
}

impl Model {
    /// A new, untrained model as `config` describes: random weights from `config.seed`.
    pub fn new(config: &TrainConfig) -> Result<Model> {
        config.validate()?;
        let network = Network::new_random(
            &config.layers,
            config.functions,
            config.init(),
            &mut init_rng(config.seed),
        )?;
        let classes = config.classes.clone();
        crate::data::classes::check(&classes, network.outputs())?;
        Ok(Model {
            optimizer_state: config.optimizer.new_state(&network),
            network,
            training: TrainingRecord {
                seed: config.seed,
                batch_size: config.batch_size,
                schedule: config.schedule.clone(),
                init: config.init(),
                optimizer: config.optimizer,
                weight_decay: config.weight_decay,
                dropout: config.dropout,
                augment: config.augment,
                validation: config.validation,
                patience: config.patience,
                history: Vec::new(),
            },
            classes,
        })
    }

    /// Number of epochs trained so far.
    pub fn epochs_trained(&self) -> usize {
        self.training.history.len()
    }

    /// Switches to another optimizer (when resuming with a new one): its state starts from zero.
    pub fn set_optimizer(&mut self, optimizer: Optimizer) {
        if optimizer != self.training.optimizer {
            self.training.optimizer = optimizer;
            self.optimizer_state = optimizer.new_state(&self.network);
        }
    }

    /// The test accuracy after the last epoch, if there was one.
    pub fn test_accuracy(&self) -> Option<f64> {
        self.training.history.last().map(|e| e.test_accuracy)
    }
}

/// The random numbers for the initial weights: ChaCha8 seeded with `seed`, stream 0.
///
/// ChaCha8 is named so that a seed means the same numbers on every platform and version.
pub fn init_rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// The random numbers for the shuffle of epoch `epoch` (0-based): ChaCha8 seeded with `seed`,
/// stream `epoch + 1`. Each epoch has its own stream, so a resumed run shuffles exactly as an
/// uninterrupted one.
pub fn epoch_rng(seed: u64, epoch: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(epoch as u64 + 1);
    rng
}

/// The random numbers for the dropout masks of epoch `epoch` (0-based): ChaCha8 seeded with
/// `seed`, stream `2⁶² + epoch`, apart from every shuffle's stream (`epoch + 1`) and every
/// image distortion's (`2⁶³ + epoch`, see [`crate::augment::image_rng`]).
pub fn dropout_rng(seed: u64, epoch: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream((1 << 62) + epoch as u64);
    rng
}

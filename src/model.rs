//! A trained (or training) network together with how it was trained: what a model file holds.
//!
//! What it is: the [`Network`] plus the [`TrainingRecord`] that lets training resume exactly where
//! it stopped and lets `ziffer info` tell its story. What it is not: the file format, which is in
//! [`crate::model_file`].

use crate::error::Result;
use crate::network::Network;
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
    /// One entry per finished epoch, in order; its length is where a resumed run continues.
    pub history: Vec<EpochRecord>,
}

/// A network and its training record.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub network: Network,
    pub training: TrainingRecord,
}

impl Model {
    /// A new, untrained model as `config` describes: random weights from `config.seed`.
    pub fn new(config: &TrainConfig) -> Result<Model> {
        config.validate()?;
        let network = Network::new_random(
            &config.layers,
            config.activation,
            &mut init_rng(config.seed),
        )?;
        Ok(Model {
            network,
            training: TrainingRecord {
                seed: config.seed,
                batch_size: config.batch_size,
                schedule: config.schedule.clone(),
                history: Vec::new(),
            },
        })
    }

    /// Number of epochs trained so far.
    pub fn epochs_trained(&self) -> usize {
        self.training.history.len()
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

//! What to train and how: the settings of a training run, with documented defaults.
//!
//! What it is: [`TrainSettings`], everything about a run but the network's shape (seed, batch
//! size, schedule, optimizer, regularisation, augmentation, validation), which a model file keeps
//! so that training resumes as it began; and [`TrainConfig`], the settings plus the shape of a new
//! network. What it is not: the training loop ([`crate::train`]) or the command line, which only
//! fills these in.

use crate::augment::Augment;
use crate::error::{Error, Result};
use crate::nn::layer::Init;
use crate::nn::network::{Functions, ORIGINAL_SIZES, check_sizes};
use crate::nn::optimizer::Optimizer;
use crate::schedule::{DEFAULT_SCHEDULE, Schedule};
use serde::{Deserialize, Serialize};

/// The default seed.
pub const DEFAULT_SEED: u64 = 42;

/// The default number of training images held out for validation.
pub const DEFAULT_VALIDATION: usize = 5000;

/// The validation images held out by default from a training set of `len`:
/// [`DEFAULT_VALIDATION`], unless that would leave fewer than that to train on (then none).
pub fn default_validation(len: usize) -> usize {
    if len >= 2 * DEFAULT_VALIDATION {
        DEFAULT_VALIDATION
    } else {
        0
    }
}

/// How a network is trained. `Default` is the original network's, with the measured schedule.
///
/// Saved with the model (in its record's JSON, one key per field), so a resumed run trains as
/// the first did unless told otherwise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainSettings {
    /// Seed of the initial weights and of each epoch's shuffle, dropout and distortions:
    /// default [`DEFAULT_SEED`].
    pub seed: u64,
    /// Images per mini-batch: default 32.
    pub batch_size: usize,
    /// The learning rate by epoch: default [`DEFAULT_SCHEDULE`].
    pub schedule: Schedule,
    /// How the initial weights are drawn: default `None`, the one that fits the hidden activation
    /// ([`Init::for_activation`]). A model always records the one it was drawn with.
    #[serde(default = "lecun")]
    pub init: Option<Init>,
    /// The update rule: default plain SGD.
    #[serde(default = "sgd")]
    pub optimizer: Optimizer,
    /// L2 weight decay `λ`: default 0.
    #[serde(default)]
    pub weight_decay: f32,
    /// Dropout rate `p` of the hidden layers during training: default 0.
    #[serde(default)]
    pub dropout: f32,
    /// Label smoothing `ε`: the training targets are
    /// [`crate::data::batch::smoothed_one_hot`] columns, `1 − ε + ε/K` for the right class and
    /// `ε/K` for the others: default 0 (one-hot).
    #[serde(default)]
    pub label_smoothing: f32,
    /// How training images are distorted on the fly: default none.
    #[serde(default = "no_augment")]
    pub augment: Augment,
    /// Training images held out for validation (the last ones of the training set): default 0
    /// here (the command line's default is [`DEFAULT_VALIDATION`]). The caller splits the data
    /// (see [`crate::data::Dataset::split_validation`]) and passes the validation set to
    /// [`crate::train::train`].
    #[serde(default)]
    pub validation: usize,
    /// Stop when the validation accuracy has not improved for this many epochs: default never.
    #[serde(default)]
    pub patience: Option<usize>,
    /// Stochastic weight averaging from this epoch on (1-based): after each epoch from then,
    /// the model is the mean of the weights training has reached at the end of each of those
    /// epochs ([`crate::nn::averaging`]), while training goes on from its own last weights.
    /// Default never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub average_from: Option<usize>,
}

// Defaults for model files written before these fields existed: the original network's choices.
fn lecun() -> Option<Init> {
    Some(Init::Lecun)
}
fn sgd() -> Optimizer {
    Optimizer::Sgd
}
fn no_augment() -> Augment {
    Augment::NONE
}

impl Default for TrainSettings {
    fn default() -> Self {
        TrainSettings {
            seed: DEFAULT_SEED,
            batch_size: 32,
            schedule: DEFAULT_SCHEDULE
                .parse()
                .expect("the default schedule parses"),
            init: None,
            optimizer: Optimizer::Sgd,
            weight_decay: 0.0,
            dropout: 0.0,
            label_smoothing: 0.0,
            augment: Augment::NONE,
            validation: 0,
            patience: None,
            average_from: None,
        }
    }
}

impl TrainSettings {
    /// How many epochs' weights the model averages after epoch `epoch` (1-based): 0 before
    /// [`TrainSettings::average_from`], then one more each epoch.
    pub fn averaged_epochs(&self, epoch: usize) -> usize {
        self.average_from
            .map_or(0, |from| (epoch + 1).saturating_sub(from))
    }

    /// Checks every value that a new run and a resumed one share, with a message for the first
    /// that is unusable.
    pub fn validate(&self) -> Result<()> {
        if self.batch_size == 0 {
            return Err(Error::config("batch size", "must be at least 1"));
        }
        let weight_decay = self.weight_decay;
        if !(weight_decay.is_finite() && weight_decay >= 0.0) {
            return Err(Error::config(
                "weight decay",
                format!("{weight_decay} must be 0 or a small positive number such as 0.0001"),
            ));
        }
        let dropout = self.dropout;
        if !(dropout.is_finite() && (0.0..1.0).contains(&dropout)) {
            return Err(Error::config(
                "dropout",
                format!("{dropout} must be at least 0 and below 1, e.g. 0.2"),
            ));
        }
        let smoothing = self.label_smoothing;
        if !(smoothing.is_finite() && (0.0..1.0).contains(&smoothing)) {
            return Err(Error::config(
                "label smoothing",
                format!("{smoothing} must be at least 0 and below 1, e.g. 0.1"),
            ));
        }
        if self.patience == Some(0) {
            return Err(Error::config("patience", "must be at least 1 epoch"));
        }
        if self.average_from == Some(0) {
            return Err(Error::config(
                "average from",
                "epochs count from 1: give the first epoch to average, e.g. 100",
            ));
        }
        Ok(())
    }
}

/// What a resumed run changes in the settings it recorded: each `Some` replaces the recorded
/// value, each `None` keeps it. `Default` changes nothing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SettingsChanges {
    pub seed: Option<u64>,
    pub batch_size: Option<usize>,
    pub schedule: Option<Schedule>,
    pub optimizer: Option<Optimizer>,
    pub weight_decay: Option<f32>,
    pub dropout: Option<f32>,
    pub label_smoothing: Option<f32>,
    pub augment: Option<Augment>,
    pub validation: Option<usize>,
    pub patience: Option<usize>,
    /// Checked against the epochs already trained by [`crate::model::Model::resume`].
    pub average_from: Option<usize>,
}

impl TrainSettings {
    /// These settings with `changes` applied, checked. The optimizer is left to
    /// [`crate::model::Model::set_optimizer`], which also resets its state.
    pub fn changed(&self, changes: &SettingsChanges) -> Result<TrainSettings> {
        let c = changes;
        let settings = TrainSettings {
            seed: c.seed.unwrap_or(self.seed),
            batch_size: c.batch_size.unwrap_or(self.batch_size),
            schedule: c.schedule.clone().unwrap_or_else(|| self.schedule.clone()),
            init: self.init,
            optimizer: self.optimizer,
            weight_decay: c.weight_decay.unwrap_or(self.weight_decay),
            dropout: c.dropout.unwrap_or(self.dropout),
            label_smoothing: c.label_smoothing.unwrap_or(self.label_smoothing),
            augment: c.augment.unwrap_or(self.augment),
            validation: c.validation.unwrap_or(self.validation),
            patience: c.patience.or(self.patience),
            average_from: c.average_from.or(self.average_from),
        };
        settings.validate()?;
        Ok(settings)
    }
}

/// A new network to train: its shape, its functions, its classes and how to train it.
/// `Default` is the original network.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    /// Layer sizes, input first: default `[784, 128, 64, 10]`.
    pub layers: Vec<usize>,
    /// Activations and loss: default [`Functions::ORIGINAL`], sigmoids and the quadratic loss.
    pub functions: Functions,
    /// The name of each class: default the digits `"0"` to `"9"`.
    pub classes: Vec<String>,
    /// How to train it: default [`TrainSettings::default`].
    pub settings: TrainSettings,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            layers: ORIGINAL_SIZES.to_vec(),
            functions: Functions::ORIGINAL,
            classes: crate::data::classes::digits(),
            settings: TrainSettings::default(),
        }
    }
}

impl TrainConfig {
    /// The initialisation used: the one asked for, or the one that fits the activation.
    pub fn init(&self) -> Init {
        (self.settings.init).unwrap_or_else(|| Init::for_activation(self.functions.hidden))
    }

    /// Checks every value, with a message for the first that is unusable, and that the
    /// network's weights and gradients fit in this machine's memory ([`check_memory`]).
    pub fn validate(&self) -> Result<()> {
        check_sizes(&self.layers)?;
        check_memory(&self.layers, machine_memory())?;
        self.settings.validate()
    }
}

/// The bytes a network of `sizes` needs at least to train: its weights and biases and their
/// gradients, 4 bytes each (`None` if that does not fit in 64 bits).
pub fn training_bytes(sizes: &[usize]) -> Option<u64> {
    let mut parameters: u64 = 0;
    for io in sizes.windows(2) {
        let (i, o) = (io[0] as u64, io[1] as u64);
        let layer = i.checked_mul(o)?.checked_add(o)?;
        parameters = parameters.checked_add(layer)?;
    }
    parameters.checked_mul(2 * 4)
}

/// Refuses a network whose weights and gradients alone need more than `available` bytes
/// ([`Error::TooBigForMemory`]), before anything is allocated; `None` (memory unknown) checks
/// only that the count fits in 64 bits.
pub fn check_memory(sizes: &[usize], available: Option<u64>) -> Result<()> {
    let needed = training_bytes(sizes);
    let too_big = match (needed, available) {
        (None, _) => true,
        (Some(needed), Some(available)) => needed > available,
        (Some(_), None) => false,
    };
    if too_big {
        let names: Vec<String> = sizes.iter().map(usize::to_string).collect();
        return Err(Error::TooBigForMemory {
            network: names.join("-"),
            needed: needed.unwrap_or(u64::MAX),
            available,
        });
    }
    Ok(())
}

/// This machine's memory in bytes (Linux: `MemTotal` of `/proc/meminfo`), if known.
pub fn machine_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kb.checked_mul(1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_config_is_the_original_network() {
        let c = TrainConfig::default();
        assert_eq!(c.layers, [784, 128, 64, 10]);
        assert_eq!(c.settings.batch_size, 32);
        assert_eq!(c.settings.schedule.total_epochs(), Some(33));
        assert_eq!(c.init(), Init::Lecun);
    }

    #[test]
    fn a_network_too_big_for_the_machine_is_refused_with_the_figures() {
        // The example of the issue: 784-100000000-10 on a machine of 24 GB.
        let sizes = [784, 100_000_000, 10];
        assert_eq!(training_bytes(&sizes), Some(636_000_000_080));
        let err = check_memory(&sizes, Some(24_000_000_000))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "784-100000000-10 needs at least 636 GB to train (its weights and gradients \
             alone); this machine has 24 GB: use smaller layers"
        );
        // The original network fits anywhere.
        assert!(check_memory(&[784, 128, 64, 10], Some(24_000_000_000)).is_ok());
        // A product that does not fit in 64 bits is refused whatever the machine.
        let err = check_memory(&[usize::MAX, 2], None).unwrap_err();
        assert!(err.to_string().contains("needs at least 18 EB"), "{err}");
        assert!(check_memory(&[784, 100_000_000, 10], None).is_ok());
    }

    #[test]
    fn a_setting_out_of_range_is_refused_with_its_name() {
        for (settings, what) in [
            (
                TrainSettings {
                    batch_size: 0,
                    ..Default::default()
                },
                "batch size",
            ),
            (
                TrainSettings {
                    weight_decay: -1.0,
                    ..Default::default()
                },
                "weight decay",
            ),
            (
                TrainSettings {
                    dropout: 1.0,
                    ..Default::default()
                },
                "dropout",
            ),
            (
                TrainSettings {
                    label_smoothing: 1.0,
                    ..Default::default()
                },
                "label smoothing",
            ),
            (
                TrainSettings {
                    label_smoothing: -0.1,
                    ..Default::default()
                },
                "label smoothing",
            ),
            (
                TrainSettings {
                    label_smoothing: f32::NAN,
                    ..Default::default()
                },
                "label smoothing",
            ),
            (
                TrainSettings {
                    patience: Some(0),
                    ..Default::default()
                },
                "patience",
            ),
        ] {
            let err = settings.validate().unwrap_err();
            assert!(
                matches!(err, Error::InvalidConfig { what: w, .. } if w == what),
                "{err}"
            );
        }
    }
}

//! A trained (or training) network together with how it was trained: what a model file holds.
//!
//! What it is: the [`Network`] plus the [`TrainingRecord`] that lets training resume exactly where
//! it stopped and lets `ziffer info` tell its story. What it is not: the file format, which is in
//! [`crate::model_file`].

use crate::error::{Error, Result};
use crate::history::{EpochRecord, json_f32};
use crate::nn::activation::{Activation, Output};
use crate::nn::layer::Init;
use crate::nn::loss::Loss;
use crate::nn::network::{Functions, Network};
use crate::nn::optimizer::{Optimizer, OptimizerState};
use crate::rng::init_rng;
use crate::run::RunRecord;
use crate::settings::{SettingsChanges, TrainConfig, TrainSettings};
use serde::{Deserialize, Serialize};

/// Everything about a network's training that is not its weights: its settings and its history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingRecord {
    /// How it is trained; the initialisation always says which was used.
    #[serde(flatten)]
    pub settings: TrainSettings,
    /// One entry per finished epoch, in order; its length is where a resumed run continues.
    pub history: Vec<EpochRecord>,
    /// What the current run was asked to do, so that `ziffer train --resume` finishes it; `None`
    /// for models trained through the library alone, and for files written before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<RunRecord>,
}

/// What a resumed run asks for: the network it expects (each `None` takes the saved model's)
/// and what it changes in the recorded settings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Resume {
    pub layers: Option<Vec<usize>>,
    pub activation: Option<Activation>,
    pub output: Option<Output>,
    pub loss: Option<Loss>,
    pub init: Option<Init>,
    pub classes: Option<Vec<String>>,
    pub settings: SettingsChanges,
}

/// A network, its training record, the optimizer's state and the names of its classes.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// The network to use: the trained weights, or with stochastic weight averaging
    /// ([`TrainSettings::average_from`]), once it has begun, their mean over the epochs averaged.
    pub network: Network,
    /// With weight averaging under way, the weights training goes on from (the last epoch's,
    /// which `network` averages); `None` otherwise, when they are `network` itself.
    pub iterate: Option<Network>,
    pub training: TrainingRecord,
    /// What the optimizer keeps between steps (momentum, Adam's moments), so that a resumed run
    /// continues exactly.
    pub optimizer_state: OptimizerState,
    /// The name of each class, in order: `"0"` to `"9"` for digits.
    pub classes: Vec<String>,
}

impl Model {
    /// A new, untrained model as `config` describes: random weights from `config`'s seed.
    pub fn new(config: &TrainConfig) -> Result<Model> {
        config.validate()?;
        let settings = &config.settings;
        let network = Network::new_random(
            &config.layers,
            config.functions,
            config.init(),
            &mut init_rng(settings.seed),
        )?;
        let classes = config.classes.clone();
        crate::data::classes::check(&classes, network.outputs())?;
        Ok(Model {
            optimizer_state: settings.optimizer.new_state(&network),
            network,
            iterate: None,
            training: TrainingRecord {
                settings: TrainSettings {
                    init: Some(config.init()),
                    ..settings.clone()
                },
                history: Vec::new(),
                run: None,
            },
            classes,
        })
    }

    /// Prepares this saved model to train on as `resume` asks. Its network is fixed: layer sizes,
    /// functions (the ones asked, completed as [`Functions::choose`] does, must be the saved
    /// ones), initialisation and class names cannot change ([`Error::ResumeMismatch`]). The
    /// settings take the changes asked for; a new optimizer starts from a zero state.
    pub fn resume(&mut self, resume: &Resume) -> Result<()> {
        let mismatch =
            |what, asked: String, saved: String| Error::ResumeMismatch { what, asked, saved };
        let join = |sizes: &[usize]| {
            let text: Vec<String> = sizes.iter().map(usize::to_string).collect();
            text.join("-")
        };
        let saved = self.network.sizes();
        if let Some(layers) = resume.layers.as_ref().filter(|&l| *l != saved) {
            return Err(mismatch("layers", join(layers), join(&saved)));
        }
        let asked = Functions::choose(resume.activation, resume.output, resume.loss);
        let fixed = self.network.functions();
        for (what, given, saved) in [
            (
                "activation",
                resume.activation.map(|a| a.name()),
                fixed.hidden.name(),
            ),
            (
                "output",
                resume.output.map(|o| o.name()),
                fixed.output.name(),
            ),
            ("loss", resume.loss.map(|l| l.name()), fixed.loss.name()),
        ] {
            if let Some(given) = given.filter(|&g| g != saved || asked != fixed) {
                return Err(mismatch(what, given.to_string(), saved.to_string()));
            }
        }
        if let Some(init) = resume.init {
            let saved = self.settings().init.map_or("?", |i| i.name());
            return Err(mismatch("init", init.name().to_string(), saved.to_string()));
        }
        if let Some(classes) = resume.classes.as_ref().filter(|&c| *c != self.classes) {
            return Err(mismatch(
                "classes",
                classes.join(", "),
                self.classes.join(", "),
            ));
        }
        if let Some(from) = resume.settings.average_from {
            let (trained, saved) = (self.epochs_trained(), self.settings().average_from);
            if saved != Some(from) && (self.iterate.is_some() || from <= trained) {
                return Err(Error::config(
                    "average from",
                    match saved.filter(|_| self.iterate.is_some()) {
                        Some(saved) => format!(
                            "the weights are averaged from epoch {saved} on already; leave \
                             --average-from out to go on"
                        ),
                        None => format!(
                            "epoch {from} is already trained ({trained} are); averaging can \
                             begin from epoch {} on",
                            trained + 1
                        ),
                    },
                ));
            }
        }
        self.training.settings = self.settings().changed(&resume.settings)?;
        if let Some(optimizer) = resume.settings.optimizer {
            self.set_optimizer(optimizer);
        }
        Ok(())
    }

    /// The network and how it was trained, as JSON: layers, functions, classes, parameters, the
    /// settings, the last test accuracy, `epochs_trained` and every epoch's record. What
    /// `ziffer info --json` prints (with the model's path) and an ONNX export keeps.
    pub fn summary(&self) -> serde_json::Value {
        let network = &self.network;
        let functions = network.functions();
        let settings = self.settings();
        serde_json::json!({
            // A committee's summary says `true` here ([`crate::committee::Committee::summary`]).
            "committee": false,
            "layers": network.sizes(),
            "activation": functions.hidden.name(),
            "output": functions.output.name(),
            "loss": functions.loss.name(),
            "classes": self.classes,
            "init": settings.init.map_or("unknown", |i| i.name()),
            "optimizer": settings.optimizer.to_string(),
            "weight_decay": json_f32(settings.weight_decay),
            "dropout": json_f32(settings.dropout),
            "label_smoothing": json_f32(settings.label_smoothing),
            "augment": settings.augment.to_string(),
            "validation": settings.validation,
            "patience": settings.patience,
            "average_from": settings.average_from,
            "parameters": network.parameter_count(),
            "test_accuracy": self.test_accuracy(),
            "seed": settings.seed,
            "batch_size": settings.batch_size,
            "schedule": settings.schedule.to_string(),
            "epochs_trained": self.epochs_trained(),
            "run": self.training.run,
            "epochs": self.training.history.iter().map(EpochRecord::to_json).collect::<Vec<_>>(),
        })
    }

    /// The settings it is trained with.
    pub fn settings(&self) -> &TrainSettings {
        &self.training.settings
    }

    /// Number of epochs trained so far.
    pub fn epochs_trained(&self) -> usize {
        self.training.history.len()
    }

    /// Switches to another optimizer (when resuming with a new one): its state starts from zero.
    pub fn set_optimizer(&mut self, optimizer: Optimizer) {
        if optimizer != self.training.settings.optimizer {
            self.training.settings.optimizer = optimizer;
            self.optimizer_state = optimizer.new_state(&self.network);
        }
    }

    /// The test accuracy after the last epoch, if there was one.
    pub fn test_accuracy(&self) -> Option<f64> {
        self.training.history.last().map(|e| e.test_accuracy)
    }
}

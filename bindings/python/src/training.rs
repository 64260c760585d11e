//! `train`: a new network trained on MNIST (or a folder of MNIST-format files), with the GIL
//! released while it trains.
//!
//! What it is: the keyword options turned into the library's [`TrainConfig`], the data sets
//! chosen as `ziffer train` chooses them (the last 5,000 training images held out for
//! validation when there are at least 10,000, then the first `limit`), and the library's
//! [`ziffer::train::train`] run with a callback that, every tenth of a second and after each
//! epoch, takes the GIL back briefly to check for Ctrl-C and to call `on_epoch`. What it is
//! not: the progress bar (the Python half draws it from `on_epoch`).

use crate::errors;
use crate::model::{Model, epoch_dict};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use ziffer::cpu::Cpu;
use ziffer::data::{classes, mnist, training_sets};
use ziffer::nn::activation::{Activation, Output};
use ziffer::nn::loss::Loss;
use ziffer::nn::network::{Functions, ORIGINAL_SIZES};
use ziffer::nn::optimizer::Optimizer;
use ziffer::schedule::{DEFAULT_EPOCHS_FOR_ONE_RATE, Schedule, default_schedule};
use ziffer::settings::{DEFAULT_SEED, TrainConfig, TrainSettings, default_validation};
use ziffer::train::{Event, Sets};

/// How often training takes the GIL back to check for Ctrl-C.
const SIGNAL_EVERY: Duration = Duration::from_millis(100);

/// The keyword options of `train`, as given.
#[derive(Default)]
struct Options {
    layers: Option<Vec<usize>>,
    epochs: Option<usize>,
    lr: Option<String>,
    batch_size: Option<usize>,
    seed: Option<u64>,
    activation: Option<String>,
    output: Option<String>,
    loss: Option<String>,
    optimizer: Option<String>,
    dropout: Option<f32>,
    weight_decay: Option<f32>,
    label_smoothing: Option<f32>,
    average_from: Option<usize>,
    augment: Option<String>,
    validation: Option<usize>,
    limit: Option<usize>,
    data: Option<PathBuf>,
    threads: Option<usize>,
}

/// Trains a new network and returns it (native half of `ziffer.train`; see its docstring).
#[pyfunction]
#[pyo3(signature = (*, layers=None, epochs=None, lr=None, batch_size=None, seed=None,
    activation=None, output=None, loss=None, optimizer=None, dropout=None, weight_decay=None,
    label_smoothing=None, average_from=None, augment=None, validation=None, limit=None, data=None, threads=None, on_epoch=None))]
#[allow(clippy::too_many_arguments)]
pub fn train(
    py: Python<'_>,
    layers: Option<Vec<usize>>,
    epochs: Option<usize>,
    lr: Option<&Bound<'_, PyAny>>,
    batch_size: Option<usize>,
    seed: Option<u64>,
    activation: Option<String>,
    output: Option<String>,
    loss: Option<String>,
    optimizer: Option<String>,
    dropout: Option<f32>,
    weight_decay: Option<f32>,
    label_smoothing: Option<f32>,
    average_from: Option<usize>,
    augment: Option<String>,
    validation: Option<usize>,
    limit: Option<usize>,
    data: Option<PathBuf>,
    threads: Option<usize>,
    on_epoch: Option<Py<PyAny>>,
) -> PyResult<Model> {
    let lr = match lr {
        None => None,
        Some(text) if text.is_instance_of::<pyo3::types::PyString>() => Some(text.extract()?),
        Some(number) => match number.extract::<f64>() {
            Ok(v) => Some(v.to_string()),
            Err(_) => {
                return Err(PyValueError::new_err(
                    "lr must be a number (0.1) or a schedule as text (\"3x25,0.3x5,0.03x3\")",
                ));
            }
        },
    };
    let options = Options {
        layers,
        epochs,
        lr,
        batch_size,
        seed,
        activation,
        output,
        loss,
        optimizer,
        dropout,
        weight_decay,
        label_smoothing,
        average_from,
        augment,
        validation,
        limit,
        data,
        threads,
    };
    let inner = py.detach(|| run(&options, on_epoch.as_ref()))?;
    Ok(Model { inner })
}

/// Everything `train` does once the options are read, without the GIL.
fn run(o: &Options, on_epoch: Option<&Py<PyAny>>) -> PyResult<ziffer::model::Model> {
    let functions = Functions::choose(
        name(
            &o.activation,
            Activation::from_name,
            "activation",
            "sigmoid, tanh, scaled-tanh, relu or leaky-relu",
        )?,
        name(&o.output, Output::from_name, "output", "sigmoid or softmax")?,
        name(
            &o.loss,
            Loss::from_name,
            "loss",
            "quadratic or cross-entropy",
        )?,
    );
    let optimizer: Optimizer = match &o.optimizer {
        Some(text) => text.parse().map_err(errors::other)?,
        None => Optimizer::Sgd,
    };
    let schedule: Schedule = match &o.lr {
        Some(text) => text.parse().map_err(errors::other)?,
        None => default_schedule(optimizer),
    };
    let defaults = TrainSettings::default();
    let augment = match &o.augment {
        Some(text) => text.parse().map_err(errors::other)?,
        None => defaults.augment,
    };
    if o.batch_size == Some(0) {
        return Err(PyValueError::new_err("batch_size must be at least 1"));
    }
    if o.limit == Some(0) {
        return Err(PyValueError::new_err(
            "limit=0 leaves no training images; give at least 1",
        ));
    }
    let epochs = match (o.epochs, schedule.total_epochs()) {
        (Some(0), _) => return Err(PyValueError::new_err("epochs must be at least 1")),
        (Some(n), _) => n,
        (None, Some(total)) => total,
        (None, None) => DEFAULT_EPOCHS_FOR_ONE_RATE,
    };

    let data = match &o.data {
        Some(dir) => mnist::load_dir(dir),
        None => mnist::load_bundled(),
    }
    .map_err(errors::data)?;
    let class_names = match &o.data {
        Some(dir) if dir.join(classes::CLASS_FILE).exists() => {
            classes::read_class_file(&dir.join(classes::CLASS_FILE)).map_err(errors::data)?
        }
        _ => classes::digits(),
    };
    let validation = o
        .validation
        .unwrap_or_else(|| default_validation(data.train.len()));
    let config = TrainConfig {
        layers: o.layers.clone().unwrap_or(ORIGINAL_SIZES.to_vec()),
        functions,
        classes: class_names,
        settings: TrainSettings {
            batch_size: o.batch_size.unwrap_or(defaults.batch_size),
            schedule,
            optimizer,
            weight_decay: o.weight_decay.unwrap_or(0.0),
            dropout: o.dropout.unwrap_or(0.0),
            label_smoothing: o.label_smoothing.unwrap_or(0.0),
            average_from: o.average_from,
            augment,
            seed: o.seed.unwrap_or(DEFAULT_SEED),
            validation,
            ..defaults
        },
    };
    config.validate().map_err(errors::other)?;
    let mut model = ziffer::model::Model::new(&config).map_err(errors::other)?;

    let (train_set, validation_set) =
        training_sets(data.train, validation, o.limit).map_err(errors::other)?;
    let sets = Sets {
        train: &train_set,
        validation: validation_set.as_ref(),
        test: &data.test,
    };
    let threads = o
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let engine = Cpu::new(threads).map_err(errors::other)?;

    // A Python exception (Ctrl-C, or one raised by on_epoch) stops training: the callback
    // keeps it here and returns an error to the library, which stops and returns it.
    let mut raised: Option<PyErr> = None;
    let mut last_check = Instant::now();
    let result = ziffer::train::train(&mut model, sets, epochs, &engine, |event| {
        let outcome = match event {
            Event::Batch { .. } if last_check.elapsed() >= SIGNAL_EVERY => {
                last_check = Instant::now();
                Python::attach(|py| py.check_signals())
            }
            Event::EpochEnd { record, .. } => Python::attach(|py| {
                py.check_signals()?;
                if let Some(f) = on_epoch {
                    f.call1(py, (epoch_dict(py, record)?,))?;
                }
                Ok(())
            }),
            _ => Ok(()),
        };
        outcome.map_err(|err| {
            raised = Some(err);
            ziffer::Error::config("training", "stopped by Python")
        })
    });
    if let Some(err) = raised {
        return Err(err);
    }
    result.map_err(errors::other)?;
    Ok(model)
}

/// A function's name read with `from_name`, or a ValueError naming the choices.
fn name<T>(
    given: &Option<String>,
    from_name: fn(&str) -> Option<T>,
    what: &str,
    choices: &str,
) -> PyResult<Option<T>> {
    match given {
        None => Ok(None),
        Some(text) => from_name(text).map(Some).ok_or_else(|| {
            PyValueError::new_err(format!("unknown {what} '{text}'; choose {choices}"))
        }),
    }
}

//! `ziffer train`: train a new network or resume a saved one, with a progress bar and one line per
//! epoch, saving a checkpoint after every epoch.

use crate::cli::{DEFAULT_MODEL, ModelArgs, TrainArgs, threads};
use crate::data_args::{default_validation, training_sets};
use crate::output::{
    EPOCH_HEADER, describe, epoch_json, epoch_line, regularisation, sizes, thousands,
};
use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::time::Instant;
use ziffer::Error;
use ziffer::activation::Output;
use ziffer::loss::Loss;
use ziffer::model::Model;
use ziffer::model_file;
use ziffer::network::{Functions, ORIGINAL_SIZES};
use ziffer::optimizer::Optimizer;
use ziffer::train::{
    DEFAULT_SEED, DEFAULT_VALIDATION, Event, Schedule, Sets, TrainConfig, best_epoch,
    default_schedule, train,
};

/// Epochs when the schedule is a single open-ended rate and `--epochs` is not given.
const DEFAULT_EPOCHS_FOR_ONE_RATE: usize = 10;

pub fn run(args: TrainArgs) -> Result<()> {
    let start = Instant::now();
    let threads = threads(args.threads);
    let classes = args.data.class_names(args.dataset)?;
    let (mut model, out) = model_to_train(&args, classes)?;
    let epochs = epochs_to_run(&args, &model)?;
    let data = args.data.load()?;
    if args.resume.is_none() && args.validation.is_none() {
        model.training.validation = default_validation(data.train.len());
    }
    let (train_set, validation_set) =
        training_sets(data.train, model.training.validation, args.limit)?;
    if model.training.patience.is_some() && validation_set.is_none() {
        bail!(
            "--patience stops on the validation accuracy, but there is no validation set: give --validation N"
        );
    }

    // Human-readable lines go to stdout, or to stderr when stdout is for --json.
    let say = |line: &str| {
        if args.quiet {
        } else if args.json {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    };
    say(&format!(
        "network {}: {} parameters",
        describe(&model.network),
        thousands(model.network.parameter_count())
    ));
    say(&format!(
        "data: {} training images from {}{}, {} test images from {}",
        thousands(train_set.len()),
        train_set.source().display(),
        match &validation_set {
            Some(v) => format!(" (the last {} held out for validation)", thousands(v.len())),
            None => String::new(),
        },
        thousands(data.test.len()),
        data.test.source().display()
    ));
    let t = &model.training;
    say(&format!(
        "training {epochs} epoch{}{}: batch size {}, {}, learning rates {}{}, seed {}, {threads} thread{}",
        if epochs == 1 { "" } else { "s" },
        if model.epochs_trained() > 0 {
            format!(" after the {} already done", model.epochs_trained())
        } else {
            String::new()
        },
        t.batch_size,
        t.optimizer,
        t.schedule,
        regularisation(&model.training)
            .iter()
            .map(|r| format!(", {r}"))
            .collect::<String>(),
        t.seed,
        if threads == 1 { "" } else { "s" }
    ));
    say(EPOCH_HEADER);

    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(0)
    };
    bar.set_style(
        ProgressStyle::with_template("{prefix:>5} [{bar:25}] {human_pos}/{human_len} images {msg}")
            .expect("a valid progress template")
            .progress_chars("=> "),
    );
    let mut saved_epoch = None;
    let mut progress = Progress::start();
    let mut stopped_early = None;
    let sets = Sets {
        train: &train_set,
        validation: validation_set.as_ref(),
        test: &data.test,
    };
    let result = train(&mut model, sets, epochs, threads, |event| {
        match event {
            Event::EpochStart { epoch, .. } => {
                bar.reset();
                bar.set_length(train_set.len() as u64);
                bar.set_prefix(epoch.to_string());
                bar.set_message("");
                progress = Progress::start();
            }
            Event::Batch { images_done, loss } => {
                // A batch takes about 0.1 ms: updating the bar each time would cost as much
                // as the training, so it is updated ten times a second.
                if let Some(rate) = progress.due(images_done) {
                    bar.set_position(images_done as u64);
                    bar.set_message(format!("{}/s, loss {loss:.4}", thousands(rate as usize)));
                }
            }
            Event::EpochEnd { record, model } => {
                bar.finish_and_clear();
                model_file::save(model, &out)?;
                saved_epoch = Some(record.epoch);
                say(&epoch_line(record));
            }
            Event::EarlyStop {
                best_epoch,
                patience,
            } => stopped_early = Some((best_epoch, patience)),
        }
        Ok(())
    });
    bar.finish_and_clear();
    if let Err(err) = result {
        let diverged = matches!(err, Error::Diverged { .. });
        let what = match saved_epoch {
            Some(epoch) => format!(
                "the model after epoch {epoch} is saved in {}",
                out.display()
            ),
            None if out.exists() => format!("{} was left as it was", out.display()),
            None => "no model was saved".to_string(),
        };
        let context = if diverged {
            format!("training stopped: {what}")
        } else {
            format!("training failed; {what}")
        };
        return Err(anyhow::Error::new(err).context(context));
    }

    // The learning curves next to the model: models/ziffer.safetensors -> models/ziffer.curves.png.
    let curves = out.with_extension("curves.png");
    ziffer::plot::curves(&model.training.history, &curves).with_context(|| {
        format!(
            "the model is saved in {}, but its learning curves could not be drawn",
            out.display()
        )
    })?;

    let seconds = start.elapsed().as_secs_f64();
    let accuracy = model.test_accuracy().unwrap_or(0.0);
    if let Some((best, patience)) = stopped_early {
        say(&format!(
            "stopped early: no better validation accuracy in the {patience} epochs after epoch {best}"
        ));
    }
    let best = best_epoch(&model.training.history);
    if let Some(best) = best {
        say(&format!(
            "best validation accuracy {:.2}% after epoch {}, where the test accuracy was {:.2}%",
            100.0 * best.validation_accuracy.unwrap_or(0.0),
            best.epoch,
            100.0 * best.test_accuracy
        ));
    }
    if args.json {
        let json = serde_json::json!({
            "model": out,
            "curves": curves,
            "layers": model.network.sizes(),
            "parameters": model.network.parameter_count(),
            "test_accuracy": accuracy,
            "best_epoch": best.map(|b| b.epoch),
            "stopped_early": stopped_early.is_some(),
            "seconds": seconds,
            "threads": threads,
            "peak_resident_bytes": ziffer::bench::peak_resident_bytes(),
            "epochs": model.training.history.iter().map(epoch_json).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&json)?);
    }
    let memory = match ziffer::bench::peak_resident_bytes() {
        Some(bytes) => format!(", peak memory {:.0} MB", bytes as f64 / 1e6),
        None => String::new(),
    };
    say(&format!(
        "saved {} and its learning curves {}: test accuracy {:.2}% after {} epochs; \
         {seconds:.1} s in all{memory}",
        out.display(),
        curves.display(),
        100.0 * accuracy,
        model.epochs_trained()
    ));
    Ok(())
}

/// When to redraw the progress bar, and the images per second since the epoch began.
struct Progress {
    start: Instant,
    last: Instant,
}

impl Progress {
    const EVERY: std::time::Duration = std::time::Duration::from_millis(100);

    fn start() -> Self {
        let now = Instant::now();
        Progress {
            start: now,
            last: now,
        }
    }

    /// The rate, if the bar is due for a redraw.
    fn due(&mut self, images_done: usize) -> Option<f64> {
        let now = Instant::now();
        if now.duration_since(self.last) < Self::EVERY {
            return None;
        }
        self.last = now;
        Some(images_done as f64 / now.duration_since(self.start).as_secs_f64())
    }
}

/// The functions asked for, each missing one chosen to fit the others: softmax goes with the
/// cross-entropy, sigmoid with the quadratic loss.
pub fn functions(args: &ModelArgs) -> Functions {
    let original = Functions::ORIGINAL;
    let (output, loss) = match (args.output, args.loss) {
        (Some(o), Some(l)) => (o, l),
        (Some(Output::Softmax), None) => (Output::Softmax, Loss::CrossEntropy),
        (Some(o), None) => (o, Loss::Quadratic),
        (None, Some(Loss::CrossEntropy)) => (Output::Softmax, Loss::CrossEntropy),
        (None, Some(l)) => (original.output, l),
        (None, None) => (original.output, original.loss),
    };
    Functions {
        hidden: args.activation.unwrap_or(original.hidden),
        output,
        loss,
    }
}

/// A new model's settings from the flags, with the defaults for what they leave out.
pub fn config(args: &ModelArgs, classes: Vec<String>) -> Result<TrainConfig> {
    let optimizer = args.optimizer.unwrap_or(Optimizer::Sgd);
    let schedule = match &args.lr {
        Some(text) => text.parse::<Schedule>()?,
        None => default_schedule(optimizer),
    };
    let defaults = TrainConfig::default();
    let config = TrainConfig {
        layers: args.layers.clone().unwrap_or(ORIGINAL_SIZES.to_vec()),
        functions: functions(args),
        init: args.init,
        batch_size: args.batch_size.unwrap_or(defaults.batch_size),
        schedule,
        optimizer,
        weight_decay: args.weight_decay.unwrap_or(0.0),
        dropout: args.dropout.unwrap_or(0.0),
        augment: args.augment.unwrap_or(defaults.augment),
        seed: args.seed.unwrap_or(DEFAULT_SEED),
        classes,
        ..defaults
    };
    config.validate()?;
    Ok(config)
}

/// The model to train and where to save it: a new one from the flags, or the resumed one with
/// the flags that were given overriding what it stored.
fn model_to_train(args: &TrainArgs, classes: Vec<String>) -> Result<(Model, PathBuf)> {
    let m = &args.model;
    if m.batch_size == Some(0) {
        bail!("invalid batch size: --batch-size must be at least 1");
    }
    let Some(path) = &args.resume else {
        let mut config = config(m, classes)?;
        config.validation = args.validation.unwrap_or(DEFAULT_VALIDATION);
        config.patience = args.patience;
        let out = args.out.clone().unwrap_or(PathBuf::from(DEFAULT_MODEL));
        return Ok((Model::new(&config)?, out));
    };
    let mut model =
        model_file::load(path).with_context(|| format!("cannot resume from {}", path.display()))?;
    if let Some(layers) = &m.layers {
        if *layers != model.network.sizes() {
            bail!(
                "--layers {} differs from the resumed model's {}; leave --layers out to resume",
                sizes(layers),
                sizes(&model.network.sizes())
            );
        }
    }
    let asked = functions(m);
    let fixed = model.network.functions();
    for (flag, given, saved) in [
        (
            "--activation",
            m.activation.map(|a| a.name()),
            fixed.hidden.name(),
        ),
        ("--output", m.output.map(|o| o.name()), fixed.output.name()),
        ("--loss", m.loss.map(|l| l.name()), fixed.loss.name()),
    ] {
        if given.is_some_and(|g| g != saved) || (given.is_some() && asked != fixed) {
            bail!(
                "{flag} differs from the resumed model's {saved}; a network's functions are fixed"
            );
        }
    }
    if m.init.is_some() {
        bail!("--init only applies to a new network; the resumed one is already initialised");
    }
    let t = &mut model.training;
    if let Some(text) = &m.lr {
        t.schedule = text.parse()?;
    }
    t.batch_size = m.batch_size.unwrap_or(t.batch_size);
    t.seed = m.seed.unwrap_or(t.seed);
    t.weight_decay = m.weight_decay.unwrap_or(t.weight_decay);
    t.dropout = m.dropout.unwrap_or(t.dropout);
    t.augment = m.augment.unwrap_or(t.augment);
    t.validation = args.validation.unwrap_or(t.validation);
    t.patience = args.patience.or(t.patience);
    ziffer::train::check_training_values(t.batch_size, t.weight_decay, t.dropout, t.patience)?;
    if let Some(optimizer) = m.optimizer {
        model.set_optimizer(optimizer);
    }
    if args.dataset.is_some() && classes != model.classes {
        bail!(
            "--dataset names the classes {}, but the resumed model's are {}",
            classes.join(", "),
            model.classes.join(", ")
        );
    }
    Ok((model, args.out.clone().unwrap_or(path.clone())))
}

/// How many epochs to run now.
fn epochs_to_run(args: &TrainArgs, model: &Model) -> Result<usize> {
    let done = model.epochs_trained();
    match (args.epochs, model.training.schedule.total_epochs()) {
        (Some(0), _) => bail!("invalid epochs: --epochs must be at least 1"),
        (Some(n), _) => Ok(n),
        (None, Some(total)) if total > done => Ok(total - done),
        (None, Some(total)) => bail!(
            "the model has already trained {done} epochs, its schedule's {total}; \
             pass --epochs N to train more"
        ),
        (None, None) => Ok(DEFAULT_EPOCHS_FOR_ONE_RATE),
    }
}

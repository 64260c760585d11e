//! `ziffer train`: train a new network or resume a saved one, with a progress bar and one line per
//! epoch, saving a checkpoint after every epoch.

use crate::cli::{DEFAULT_MODEL, TrainArgs, threads};
use crate::output::{EPOCH_HEADER, epoch_json, epoch_line, sizes, thousands};
use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::time::Instant;
use ziffer::Error;
use ziffer::model::Model;
use ziffer::model_file;
use ziffer::network::ORIGINAL_SIZES;
use ziffer::train::{DEFAULT_SCHEDULE, DEFAULT_SEED, Event, Schedule, TrainConfig, train};

/// Epochs when the schedule is a single open-ended rate and `--epochs` is not given.
const DEFAULT_EPOCHS_FOR_ONE_RATE: usize = 10;

pub fn run(args: TrainArgs) -> Result<()> {
    let start = Instant::now();
    let threads = threads(args.threads);
    let (mut model, out) = model_to_train(&args)?;
    let epochs = epochs_to_run(&args, &model)?;
    let data = args.data.load()?;
    let train_set = match args.limit {
        Some(0) => bail!("--limit 0 leaves no training images; give at least 1"),
        Some(n) => data.train.take(n),
        None => data.train,
    };

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
        "network {} ({}): {} parameters",
        sizes(&model.network.sizes()),
        model.network.activation(),
        thousands(model.network.parameter_count())
    ));
    say(&format!(
        "data: {} training images from {}, {} test images from {}",
        thousands(train_set.len()),
        train_set.source().display(),
        thousands(data.test.len()),
        data.test.source().display()
    ));
    say(&format!(
        "training {epochs} epoch{}{}: batch size {}, learning rates {}, seed {}, {threads} thread{}",
        if epochs == 1 { "" } else { "s" },
        if model.epochs_trained() > 0 {
            format!(" after the {} already done", model.epochs_trained())
        } else {
            String::new()
        },
        model.training.batch_size,
        model.training.schedule,
        model.training.seed,
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
    let result = train(
        &mut model,
        &train_set,
        &data.test,
        epochs,
        threads,
        |event| {
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
            }
            Ok(())
        },
    );
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
    if args.json {
        let json = serde_json::json!({
            "model": out,
            "curves": curves,
            "layers": model.network.sizes(),
            "parameters": model.network.parameter_count(),
            "test_accuracy": accuracy,
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

/// The model to train and where to save it: a new one from the flags, or the resumed one with
/// the flags that were given overriding what it stored.
fn model_to_train(args: &TrainArgs) -> Result<(Model, PathBuf)> {
    let schedule = match &args.lr {
        Some(text) => Some(text.parse::<Schedule>()?),
        None => None,
    };
    if args.batch_size == Some(0) {
        bail!("invalid batch size: --batch-size must be at least 1");
    }
    let Some(path) = &args.resume else {
        let config = TrainConfig {
            layers: args.layers.clone().unwrap_or(ORIGINAL_SIZES.to_vec()),
            batch_size: args.batch_size.unwrap_or(32),
            schedule: schedule.unwrap_or_else(|| DEFAULT_SCHEDULE.parse().expect("valid default")),
            seed: args.seed.unwrap_or(DEFAULT_SEED),
            ..TrainConfig::default()
        };
        let out = args.out.clone().unwrap_or(PathBuf::from(DEFAULT_MODEL));
        return Ok((Model::new(&config)?, out));
    };
    let mut model =
        model_file::load(path).with_context(|| format!("cannot resume from {}", path.display()))?;
    if let Some(layers) = &args.layers {
        if *layers != model.network.sizes() {
            bail!(
                "--layers {} differs from the resumed model's {}; leave --layers out to resume",
                sizes(layers),
                sizes(&model.network.sizes())
            );
        }
    }
    if let Some(schedule) = schedule {
        model.training.schedule = schedule;
    }
    if let Some(batch_size) = args.batch_size {
        model.training.batch_size = batch_size;
    }
    if let Some(seed) = args.seed {
        model.training.seed = seed;
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

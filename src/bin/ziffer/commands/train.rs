//! `ziffer train`: train a new network or resume a saved one, with a progress bar and one line per
//! epoch, saving a checkpoint after every epoch.

use crate::args::{DEFAULT_MODEL, ModelArgs, config, engine, parse_device, threads};
use crate::data_args::{DataArgs, DatasetKind, training_sets};
use crate::interrupt;
use crate::live::LiveServer;
use crate::output::{EPOCH_HEADER, describe, epoch_line, regularisation, thousands};
use anyhow::{Context, Result, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;
use ziffer::Error;
use ziffer::data::classes;
use ziffer::device::Device;
use ziffer::history::EpochRecord;
use ziffer::history::best_epoch;
use ziffer::model::{Model, Resume};
use ziffer::model_file;
use ziffer::run::{DataRecord, RunRecord};
use ziffer::schedule::DEFAULT_EPOCHS_FOR_ONE_RATE;
use ziffer::settings::default_validation;
use ziffer::settings::{DEFAULT_VALIDATION, SettingsChanges};
use ziffer::train::{Event, Sets, train};
use ziffer::web::Swap;
use ziffer::web::live::{Feed, Reporter};

#[derive(Debug, Args)]
pub struct TrainArgs {
    #[command(flatten)]
    pub data: DataArgs,

    /// The data set's class names: mnist (the digits) or fashion (Fashion-MNIST's ten; give
    /// its folder with --data) [default: read from classes.txt next to the data if there is
    /// one, else the digits]
    #[arg(long, value_name = "NAME")]
    pub dataset: Option<DatasetKind>,

    #[command(flatten)]
    pub model: ModelArgs,

    /// Number of epochs (passes over the training set) [default: the schedule's total, or 10 for
    /// a single rate]; with --resume, N more epochs [default: what is left of the run that was
    /// interrupted, or of the --lr schedule given]
    #[arg(long, value_name = "N")]
    pub epochs: Option<usize>,

    /// Training images held out (the last ones) to validate on after each epoch, 0 for none
    /// [default: 5000 (none if fewer than 10,000 training images), or the resumed model's]
    #[arg(long, value_name = "N")]
    pub validation: Option<usize>,

    /// Stop once the validation accuracy has not improved for N epochs
    #[arg(long, value_name = "N")]
    pub patience: Option<usize>,

    /// Train on the first N training images only (quick runs) [default: all, or the resumed
    /// run's]
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,

    /// Where to save the model (after every epoch, atomically) [default:
    /// models/ziffer.safetensors, or the resumed model's path]
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Continue training a saved model: alone, it finishes the run the file records (its data,
    /// --limit, epochs and settings), ending bit for bit where the uninterrupted run would have;
    /// flags given with it change what they name
    #[arg(long, value_name = "MODEL")]
    pub resume: Option<PathBuf>,

    /// With --resume: train on data that differs from what the run recorded (else an error
    /// that names the difference)
    #[arg(long, requires = "resume")]
    pub new_data: bool,

    /// Threads for the matrix products [default: the number of CPU cores]
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,

    /// Where the maths runs: cpu (bit-reproducible, the reference) or cuda[:N], an NVIDIA GPU
    #[arg(long, value_name = "DEVICE", default_value = "cpu", value_parser = parse_device)]
    pub device: Device,

    /// Show the run live in the browser page at this address (curves, weights, confusion
    /// matrix), then the trained model in the drawing view until Ctrl-C [default address:
    /// 127.0.0.1:8080]
    #[arg(long, value_name = "IP:PORT", num_args = 0..=1, default_missing_value = "127.0.0.1:8080")]
    pub serve: Option<SocketAddr>,

    /// Print one JSON object on stdout at the end (progress goes to stderr)
    #[arg(long)]
    pub json: bool,

    /// Print nothing but errors (and the JSON object with --json)
    #[arg(long, short)]
    pub quiet: bool,
}

pub fn run(args: TrainArgs) -> Result<()> {
    let start = Instant::now();
    let engine = engine(args.device, args.threads)?;
    let threads = threads(args.threads);
    let resumed = match &args.resume {
        Some(path) => Some(
            model_file::load(path)
                .with_context(|| format!("cannot resume from {}", path.display()))?,
        ),
        None => None,
    };
    // The run the resumed file records, if it records one: its data unless flags name other.
    let recorded = resumed.as_ref().and_then(|m| m.training.run.clone());
    let data_args = match &recorded {
        Some(run) if !args.data.given() => DataArgs::from_source(&run.data.source),
        _ => args.data.clone(),
    };
    let classes = data_args.class_names(args.dataset)?;
    let (mut model, out) = model_to_train(&args, resumed, classes)?;
    if model.settings().augment.flip && classes::are_digits(&model.classes) && !args.quiet {
        eprintln!(
            "warning: --augment flip mirrors digits, and a mirrored 2, 3, 4, 5, 7 or 9 is no \
             digit: flips are for data such as Fashion-MNIST's clothes"
        );
    }
    let epochs = epochs_to_run(&args, &model)?;
    let data = match &recorded {
        Some(run) if !args.data.given() => data_args.load().with_context(|| {
            format!(
                "the run in {} trained on {}: pass --data DIR (or --train and --test) to say \
                 where that data is now",
                args.resume.as_ref().expect("a resumed run").display(),
                run.data.source
            )
        })?,
        _ => data_args.load()?,
    };
    let data_record = DataRecord::of(data_args.source(), &data.train, &data.test);
    if let Some(run) = &recorded
        && let Some(difference) = run.data.difference(&data_record)
        && !args.new_data
    {
        bail!(
            "the data differs from what this run trained on ({difference}): give the run's data \
             ({}), or pass --new-data to train on this data anyway",
            run.data.source
        );
    }
    if args.resume.is_none() && args.validation.is_none() {
        model.training.settings.validation = default_validation(data.train.len());
    }
    let limit = match (&recorded, args.limit) {
        (_, Some(limit)) => Some(limit),
        (Some(run), None) => run.limit,
        (None, None) => None,
    };
    let (train_set, validation_set) =
        training_sets(data.train, model.settings().validation, limit)?;
    if model.settings().patience.is_some() && validation_set.is_none() {
        bail!(
            "--patience stops on the validation accuracy, but there is no validation set: give --validation N"
        );
    }
    let run = RunRecord {
        epochs: model.epochs_trained() + epochs,
        data: data_record,
        limit,
    };
    let in_place = args.resume.as_ref() == Some(&out);
    let unchanged = in_place && model.training.run.as_ref() == Some(&run);
    model.training.run = Some(run);
    // Saved before the first epoch too (unless the file already holds just this), so that a
    // run killed at any point resumes with `--resume` alone.
    if !unchanged {
        model_file::save(&model, &out)?;
    }
    let interrupted = interrupt::catch()?;

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
    let t = model.settings();
    say(&format!(
        "training {epochs} epoch{}{}: batch size {}, {}, learning rates {}{}, seed {}, {}",
        if epochs == 1 { "" } else { "s" },
        if model.epochs_trained() > 0 {
            format!(" after the {} already done", model.epochs_trained())
        } else {
            String::new()
        },
        t.batch_size,
        t.optimizer,
        t.schedule,
        regularisation(model.settings())
            .iter()
            .map(|r| format!(", {r}"))
            .collect::<String>(),
        t.seed,
        engine.describe()
    ));
    let server = match args.serve {
        Some(addr) => Some(LiveTraining::start(addr, &model, &data.test)?),
        None => None,
    };
    if let Some(server) = &server {
        eprintln!(
            "ziffer: watch it learn on {} (the page shows the trained model when training ends)",
            server.server.url
        );
    }
    let mut reporter = server.as_ref().map(LiveTraining::reporter);
    if let Some(reporter) = &reporter {
        reporter.start(
            &model.network,
            epochs,
            model.epochs_trained(),
            train_set.len(),
        );
    }
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
    let mut epoch_now = model.epochs_trained() + 1;
    let mut progress = Progress::start();
    let mut stopped_early = None;
    let sets = Sets {
        train: &train_set,
        validation: validation_set.as_ref(),
        test: &data.test,
    };
    let result = train(&mut model, sets, epochs, &*engine, |event| {
        match event {
            Event::EpochStart { epoch, lr, batches } => {
                if let Some(reporter) = &mut reporter {
                    reporter.epoch_start(epoch, lr, batches);
                }
                epoch_now = epoch;
                bar.reset();
                bar.set_length(train_set.len() as u64);
                bar.set_prefix(epoch.to_string());
                bar.set_message("");
                progress = Progress::start();
            }
            Event::Batch { images_done, loss } => {
                if interrupted.is_set() {
                    return Err(Error::Interrupted {
                        epoch: epoch_now,
                        images: images_done,
                    });
                }
                if let Some(reporter) = &mut reporter {
                    reporter.batch(images_done, loss);
                }
                // A batch takes about 0.1 ms: updating the bar each time would cost as much
                // as the training, so it is updated ten times a second.
                if let Some(rate) = progress.due(images_done) {
                    bar.set_position(images_done as u64);
                    let loss = loss.map(|l| format!(", loss {l:.4}")).unwrap_or_default();
                    bar.set_message(format!("{}/s{loss}", thousands(rate as usize)));
                }
            }
            Event::EpochEnd {
                record,
                model,
                test,
            } => {
                bar.finish_and_clear();
                model_file::save(model, &out)?;
                saved_epoch = Some(record.epoch);
                say(&epoch_line(record));
                if let Some(reporter) = &mut reporter {
                    reporter.epoch_end(record, model, test);
                }
            }
            Event::EarlyStop {
                best_epoch,
                patience,
            } => stopped_early = Some((best_epoch, patience)),
        }
        Ok(())
    });
    bar.finish_and_clear();
    if let Some(reporter) = reporter {
        let stopped = match &result {
            Ok(()) if stopped_early.is_some() => Some("early"),
            Ok(()) => None,
            Err(Error::Interrupted { .. }) => Some("interrupted"),
            Err(Error::Diverged { .. }) => Some("diverged"),
            Err(_) => Some("failed"),
        };
        reporter.done(model.epochs_trained(), model.test_accuracy(), stopped);
    }
    if let Err(err) = result {
        let what = match (saved_epoch, model.epochs_trained()) {
            (Some(epoch), _) => format!(
                "the model after epoch {epoch} is saved in {}",
                out.display()
            ),
            (None, _) if in_place => format!("{} was left as it was", out.display()),
            (None, 0) => format!("the untrained model is saved in {}", out.display()),
            (None, epoch) => format!(
                "the model after epoch {epoch} is saved in {}",
                out.display()
            ),
        };
        let context = match err {
            Error::Diverged { .. } => format!("training stopped: {what}"),
            Error::Interrupted { epoch, images } => format!(
                "interrupted in epoch {epoch} after {} of its {} images: {what} (epoch \
                 {epoch}'s progress is not kept)\nresume with: {}",
                thousands(images),
                thousands(train_set.len()),
                resume_command(&out, args.device)
            ),
            _ => format!("training failed; {what}"),
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
            "device": args.device.to_string(),
            "peak_resident_bytes": ziffer::bench::peak_resident_bytes(),
            "epochs": model.training.history.iter().map(EpochRecord::to_json).collect::<Vec<_>>(),
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
    if let Some(server) = server {
        eprintln!(
            "ziffer: still serving the trained model on {} (Ctrl-C to stop)",
            server.server.url
        );
        while !interrupted.is_set() {
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        server.server.stop();
    }
    Ok(())
}

/// The page's server of `--serve`, and the feed of the run's events.
struct LiveTraining {
    server: LiveServer,
    feed: Arc<Feed>,
    swap: Swap,
}

impl LiveTraining {
    fn start(addr: SocketAddr, model: &Model, test: &ziffer::data::Dataset) -> Result<Self> {
        let feed = Arc::new(Feed::default());
        ziffer::metrics::check_fits(&model.network, test)?;
        let (router, swap) = ziffer::web::training_router(model.clone(), Arc::clone(&feed))
            .context("--serve shows networks that read 28x28 images into 10 classes")?;
        let server = LiveServer::start(addr, router)?;
        Ok(LiveTraining { server, feed, swap })
    }

    /// What the training loop tells: each epoch's model is served once pictured.
    fn reporter(&self) -> Reporter {
        let swap = self.swap.clone();
        Reporter::new(Arc::clone(&self.feed), move |model| {
            if let Err(err) = swap.serve(model) {
                eprintln!("ziffer: cannot serve the new model: {err}");
            }
        })
    }
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
/// the flags that were given overriding what it stored (the rules are the library's,
/// [`Model::resume`]).
fn model_to_train(
    args: &TrainArgs,
    resumed: Option<Model>,
    classes: Vec<String>,
) -> Result<(Model, PathBuf)> {
    let m = &args.model;
    if m.batch_size == Some(0) {
        bail!("invalid batch size: --batch-size must be at least 1");
    }
    let (Some(path), Some(mut model)) = (&args.resume, resumed) else {
        let mut config = config(m, classes)?;
        config.settings.validation = args.validation.unwrap_or(DEFAULT_VALIDATION);
        config.settings.patience = args.patience;
        let out = args.out.clone().unwrap_or(PathBuf::from(DEFAULT_MODEL));
        return Ok((Model::new(&config)?, out));
    };
    let resume = Resume {
        layers: m.layers.clone(),
        activation: m.activation,
        output: m.output,
        loss: m.loss,
        init: m.init,
        classes: args.dataset.is_some().then_some(classes),
        settings: SettingsChanges {
            seed: m.seed,
            batch_size: m.batch_size,
            schedule: m.lr.as_deref().map(str::parse).transpose()?,
            optimizer: m.optimizer,
            weight_decay: m.weight_decay,
            dropout: m.dropout,
            label_smoothing: m.label_smoothing,
            augment: m.augment,
            validation: args.validation,
            patience: args.patience,
            average_from: m.average_from,
        },
    };
    model.resume(&resume).map_err(resume_error)?;
    Ok((model, args.out.clone().unwrap_or(path.clone())))
}

/// The library's [`Error::ResumeMismatch`] in the words of the flags.
fn resume_error(err: Error) -> anyhow::Error {
    let Error::ResumeMismatch { what, asked, saved } = &err else {
        return err.into();
    };
    match *what {
        "layers" => anyhow::anyhow!(
            "--layers {asked} differs from the resumed model's {saved}; leave --layers out to resume"
        ),
        "init" => anyhow::anyhow!(
            "--init only applies to a new network; the resumed one is already initialised"
        ),
        "classes" => anyhow::anyhow!(
            "--dataset names the classes {asked}, but the resumed model's are {saved}"
        ),
        _ => anyhow::anyhow!(
            "--{what} differs from the resumed model's {saved}; a network's functions are fixed"
        ),
    }
}

/// How many epochs to run now: `--epochs` if given; with `--resume`, what is left of the `--lr`
/// schedule given, else of the recorded run; else the schedule's total, or
/// [`DEFAULT_EPOCHS_FOR_ONE_RATE`] for a single rate.
fn epochs_to_run(args: &TrainArgs, model: &Model) -> Result<usize> {
    let done = model.epochs_trained();
    let recorded = model.training.run.as_ref();
    let run_target = recorded.filter(|_| args.resume.is_some() && args.model.lr.is_none());
    let target = match run_target {
        Some(run) => Some(run.epochs),
        None => model.settings().schedule.total_epochs(),
    };
    match (args.epochs, target) {
        (Some(0), _) => bail!("invalid epochs: --epochs must be at least 1"),
        (Some(n), _) => Ok(n),
        (None, Some(target)) if target > done => Ok(target - done),
        (None, Some(target)) if run_target.is_some() => bail!(
            "the run is finished: the model has trained the {target} epochs it was asked for; \
             pass --epochs N to train N more"
        ),
        (None, Some(total)) => bail!(
            "the model has already trained {done} epochs, its schedule's {total}; \
             pass --epochs N to train more"
        ),
        (None, None) => Ok(DEFAULT_EPOCHS_FOR_ONE_RATE),
    }
}

/// The command that resumes the run saved in `out`.
fn resume_command(out: &std::path::Path, device: Device) -> String {
    let device = match device {
        Device::Cpu => String::new(),
        other => format!(" --device {other}"),
    };
    format!("ziffer train --resume {}{device}", out.display())
}

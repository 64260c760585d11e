//! `ziffer sweep`: train a grid of configurations with one epoch budget and seed, and compare
//! them in a table, CSV, JSON and a plot.

use crate::args::{
    ModelArgs, config, engine, functions, parse_activation, parse_device, parse_loss,
};
use crate::data_args::{DataArgs, DatasetKind, training_sets};
use crate::output::{sizes, thousands};
use anyhow::{Context, Result, bail};
use clap::{Args, Parser};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use ziffer::device::Device;
use ziffer::nn::activation::{Activation, Output};
use ziffer::nn::loss::Loss;
use ziffer::nn::optimizer::Optimizer;
use ziffer::settings::DEFAULT_SEED;
use ziffer::settings::default_validation;
use ziffer::sweep::{SweepResult, to_csv};
use ziffer::train::{Event, Sets};

/// The sizes a sweep compares when neither --sizes nor --grid is given.
const DEFAULT_SIZES: &str = "784-32-10,784-128-64-10,784-256-128-10,784-512-256-10,784-800-10";

#[derive(Debug, Args)]
pub struct SweepArgs {
    #[command(flatten)]
    pub data: DataArgs,

    /// The data set's class names: mnist or fashion [default: from classes.txt next to the data
    /// if there is one, else the digits]
    #[arg(long, value_name = "NAME")]
    pub dataset: Option<DatasetKind>,

    /// A file with one configuration per line, written as `ziffer train` flags (e.g.
    /// `--layers 784,800,10 --activation relu --loss cross-entropy --optimizer adam --lr 0.001`);
    /// blank lines and lines starting with # are skipped. Replaces the grid flags below
    #[arg(long, value_name = "FILE", conflicts_with_all = ["sizes", "activation", "optimizer", "lr"])]
    pub grid: Option<PathBuf>,

    /// Network sizes to compare, dash-separated, comma between networks
    #[arg(long, value_name = "SIZES,...", value_delimiter = ',', default_value = DEFAULT_SIZES)]
    pub sizes: Vec<String>,

    /// Hidden activations to compare (sigmoid, tanh, relu, leaky-relu), comma-separated
    /// [default: sigmoid]
    #[arg(long, value_name = "NAME,...", value_delimiter = ',', value_parser = parse_activation)]
    pub activation: Vec<Activation>,

    /// Optimizers to compare (sgd, momentum, nesterov, adam), comma-separated [default: sgd]
    #[arg(long, value_name = "NAME,...", value_delimiter = ',')]
    pub optimizer: Vec<Optimizer>,

    /// Learning-rate schedule, for every configuration [default: each optimizer's]
    #[arg(long, value_name = "SCHEDULE", allow_negative_numbers = true)]
    pub lr: Option<String>,

    /// Loss of every configuration: quadratic or cross-entropy (which brings a softmax output)
    /// [default: quadratic]
    #[arg(long, value_name = "NAME", conflicts_with = "grid", value_parser = parse_loss)]
    pub loss: Option<Loss>,

    /// Images per mini-batch of every configuration (unless a grid line sets its own)
    /// [default: 32]
    #[arg(long, value_name = "N")]
    pub batch_size: Option<usize>,

    /// The epoch budget of every configuration
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub epochs: usize,

    /// Seed of every configuration (unless a grid line sets its own)
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,

    /// Training images held out (the last ones) to choose each configuration's best epoch, 0 for
    /// none [default: 5000 (none if fewer than 10,000 training images)]
    #[arg(long, value_name = "N")]
    pub validation: Option<usize>,

    /// Train on the first N training images only (quick runs)
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,

    /// Folder for sweep.csv, sweep.json and sweep.png
    #[arg(long, short, value_name = "DIR", default_value = "sweep")]
    pub out: PathBuf,

    /// Threads for the matrix products [default: the number of CPU cores]
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,

    /// Where the maths runs: cpu (bit-reproducible, the reference) or cuda[:N], an NVIDIA GPU
    #[arg(long, value_name = "DEVICE", default_value = "cpu", value_parser = parse_device)]
    pub device: Device,

    /// Print nothing but errors and the final table
    #[arg(long, short)]
    pub quiet: bool,
}

/// One line of a grid file, parsed as `ziffer train`'s flags.
#[derive(Debug, Parser)]
#[command(name = "grid line", no_binary_name = true)]
struct GridLine {
    #[command(flatten)]
    model: ModelArgs,
}

pub fn run(args: SweepArgs) -> Result<()> {
    if args.epochs == 0 {
        bail!("invalid epochs: --epochs must be at least 1");
    }
    let engine = engine(args.device, args.threads)?;
    let grid = match &args.grid {
        Some(path) => read_grid(path)?,
        None => flag_grid(&args)?,
    };
    let classes = args.data.class_names(args.dataset)?;
    // Check every configuration before training any.
    let mut configs = Vec::new();
    for (name, model_args) in &grid {
        let mut model_args = model_args.clone();
        model_args.seed = model_args.seed.or(Some(args.seed));
        model_args.batch_size = model_args.batch_size.or(args.batch_size);
        let config = config(&model_args, classes.clone())
            .with_context(|| format!("configuration '{name}'"))?;
        configs.push((name.clone(), config));
    }
    let data = args.data.load()?;
    let validation = args
        .validation
        .unwrap_or_else(|| default_validation(data.train.len()));
    let (train_set, validation_set) = training_sets(data.train, validation, args.limit)?;
    let sets = Sets {
        train: &train_set,
        validation: validation_set.as_ref(),
        test: &data.test,
    };
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create the folder {}", args.out.display()))?;
    if !args.quiet {
        println!(
            "sweep of {} configurations, {} epochs each, seed {}: {} training images, {} for \
             validation, {} test images, {}",
            configs.len(),
            args.epochs,
            args.seed,
            thousands(train_set.len()),
            thousands(validation_set.as_ref().map_or(0, |v| v.len())),
            thousands(data.test.len()),
            engine.describe()
        );
    }

    let bars = MultiProgress::new();
    if args.quiet {
        bars.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let overall = bars.add(ProgressBar::new(configs.len() as u64));
    overall.set_style(
        ProgressStyle::with_template("sweep [{bar:25}] {pos}/{len} configurations, {elapsed}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    let epoch_bar = bars.add(ProgressBar::new((args.epochs * train_set.len()) as u64));
    epoch_bar.set_style(
        ProgressStyle::with_template("{prefix} [{bar:25}] epoch {msg}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    let mut results: Vec<SweepResult> = Vec::new();
    for (name, config) in &configs {
        epoch_bar.reset();
        epoch_bar.set_prefix(name.clone());
        let mut done_before = 0;
        let mut last_draw = std::time::Instant::now();
        let (result, _) = ziffer::sweep::run(name, config, sets, args.epochs, &*engine, |event| {
            match event {
                Event::EpochStart { epoch, .. } => {
                    epoch_bar.set_message(format!("{epoch}/{}", args.epochs));
                }
                Event::Batch { images_done, .. } => {
                    if last_draw.elapsed().as_millis() >= 100 {
                        last_draw = std::time::Instant::now();
                        epoch_bar.set_position((done_before + images_done) as u64);
                    }
                }
                Event::EpochEnd { .. } => done_before += train_set.len(),
                Event::EarlyStop { .. } => {}
            }
            Ok(())
        })
        .with_context(|| format!("configuration '{name}' failed"))?;
        overall.inc(1);
        if !args.quiet {
            bars.println(row(&result))?;
        }
        results.push(result);
        // Write what is done so far, so that an interrupted sweep keeps its results.
        write_results(&args.out, &results)?;
    }
    epoch_bar.finish_and_clear();
    overall.finish_and_clear();
    println!("\n{}", table(&results));
    println!(
        "wrote {0}/sweep.csv, {0}/sweep.json and {0}/sweep.png",
        args.out.display()
    );
    Ok(())
}

/// The grid of the flags: every size with every activation and every optimizer.
fn flag_grid(args: &SweepArgs) -> Result<Vec<(String, ModelArgs)>> {
    let activations = match args.activation.as_slice() {
        [] => &[Activation::Sigmoid][..],
        given => given,
    };
    let optimizers = match args.optimizer.as_slice() {
        [] => &[Optimizer::Sgd][..],
        given => given,
    };
    let mut grid = Vec::new();
    for text in &args.sizes {
        let layers: Vec<usize> = text
            .split('-')
            .map(|s| s.trim().parse::<usize>())
            .collect::<std::result::Result<_, _>>()
            .with_context(|| format!("--sizes '{text}' is not a network like 784-128-64-10"))?;
        for &activation in activations {
            for &optimizer in optimizers {
                let model = ModelArgs {
                    layers: Some(layers.clone()),
                    activation: Some(activation),
                    optimizer: Some(optimizer),
                    loss: args.loss,
                    lr: args.lr.clone(),
                    ..ModelArgs::default()
                };
                grid.push((short_name(&model), model));
            }
        }
    }
    Ok(grid)
}

/// A configuration in a few words, for the table and the plot's legend: the sizes, the
/// activation, then what differs from the original network, e.g.
/// `784-800-10 relu softmax/cross-entropy adam dropout 0.2`.
fn short_name(m: &ModelArgs) -> String {
    let f = functions(m);
    let mut name = format!(
        "{} {}",
        sizes(
            m.layers
                .as_deref()
                .unwrap_or(&ziffer::nn::network::ORIGINAL_SIZES)
        ),
        f.hidden
    );
    if (f.output, f.loss) != (Output::Sigmoid, Loss::Quadratic) {
        name += &format!(" {}/{}", f.output, f.loss);
    }
    let optimizer = m.optimizer.unwrap_or(Optimizer::Sgd).to_string();
    name += &format!(" {}", optimizer.split('=').next().unwrap_or(""));
    if let Some(lr) = &m.lr {
        name += &format!(" η {lr}");
    }
    if let Some(p) = m.dropout.filter(|&p| p > 0.0) {
        name += &format!(" dropout {p}");
    }
    if let Some(e) = m.label_smoothing.filter(|&e| e > 0.0) {
        name += &format!(" smoothing {e}");
    }
    if let Some(from) = m.average_from {
        name += &format!(" averaged from {from}");
    }
    if let Some(l) = m.weight_decay.filter(|&l| l > 0.0) {
        name += &format!(" λ {l}");
    }
    if let Some(a) = m.augment.filter(|a| !a.is_none()) {
        name += &format!(" {a}");
    }
    if let Some(b) = m.batch_size {
        name += &format!(" batch {b}");
    }
    name
}

/// The configurations of a grid file, each named by [`short_name`].
fn read_grid(path: &Path) -> Result<Vec<(String, ModelArgs)>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the grid file {}", path.display()))?;
    let mut grid = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let parsed = GridLine::try_parse_from(line.split_whitespace()).map_err(|e| {
            anyhow::anyhow!(
                "{}:{}: {}",
                path.display(),
                n + 1,
                e.render().to_string().trim_end()
            )
        })?;
        grid.push((short_name(&parsed.model), parsed.model));
    }
    if grid.is_empty() {
        bail!("the grid file {} has no configuration", path.display());
    }
    Ok(grid)
}

/// `sweep.csv`, `sweep.json` and `sweep.png` in `dir`.
fn write_results(dir: &Path, results: &[SweepResult]) -> Result<()> {
    let csv = dir.join("sweep.csv");
    std::fs::write(&csv, to_csv(results))
        .with_context(|| format!("cannot write {}", csv.display()))?;
    let json = dir.join("sweep.json");
    std::fs::write(&json, serde_json::to_string_pretty(results)? + "\n")
        .with_context(|| format!("cannot write {}", json.display()))?;
    let lines: Vec<_> = results.iter().map(SweepResult::line).collect();
    ziffer::plot::sweep(&lines, &dir.join("sweep.png"))?;
    Ok(())
}

/// The header of the sweep table, aligned with [`row`].
fn header() -> String {
    format!(
        "{:<51} {:>10}  {:>6}  {:>4}  {:>7}  {:>8}  {:>7}",
        "configuration", "parameters", "epochs", "best", "val acc", "test acc", "seconds"
    )
}

/// One configuration under [`header`].
fn row(r: &SweepResult) -> String {
    let percent = |a: Option<f64>| a.map_or("-".to_string(), |a| format!("{:.2}%", 100.0 * a));
    format!(
        "{:<51} {:>10}  {:>6}  {:>4}  {:>7}  {:>8}  {:>7.1}",
        r.name,
        thousands(r.parameters),
        r.epochs,
        r.best_epoch.map_or("-".to_string(), |e| e.to_string()),
        percent(r.best_validation_accuracy),
        percent(Some(r.test_accuracy)),
        r.seconds
    )
}

/// The table of every configuration, best test accuracy (at the best validation epoch) first.
fn table(results: &[SweepResult]) -> String {
    let mut sorted: Vec<&SweepResult> = results.iter().collect();
    sorted.sort_by(|a, b| b.test_accuracy.total_cmp(&a.test_accuracy));
    let mut out = header();
    for r in sorted {
        out.push('\n');
        out.push_str(&row(r));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ziffer::augment::Augment;

    #[test]
    fn a_grid_line_parses_as_train_flags() {
        let line = GridLine::try_parse_from(
            "--layers 784,800,10 --activation relu --optimizer adam --augment none"
                .split_whitespace(),
        )
        .unwrap();
        assert_eq!(line.model.layers, Some(vec![784, 800, 10]));
        assert_eq!(line.model.activation, Some(Activation::Relu));
        assert_eq!(line.model.augment, Some(Augment::NONE));
        assert!(GridLine::try_parse_from(["--epochs", "3"]).is_err());
    }
}

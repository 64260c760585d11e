//! The command line, declared with clap: each field's `///` comment is its help text.

use crate::data_args::DataArgs;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Where `ziffer train` saves, and where the other commands look, when no path is given.
pub const DEFAULT_MODEL: &str = "models/ziffer.safetensors";

/// ziffer: a neural network written from scratch that learns to read handwritten digits.
///
/// Start with `ziffer train`: it trains the original 784-128-64-10 sigmoid network on the MNIST
/// copy bundled with ziffer and saves it to models/ziffer.safetensors.
#[derive(Debug, Parser)]
#[command(name = "ziffer", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train a network (by default the original 784-128-64-10 on the bundled MNIST) and save it
    Train(TrainArgs),
    /// Measure a saved network on a test set: accuracy, per digit, confusion matrix
    Eval(EvalArgs),
    /// Describe a saved network: architecture, parameters, training history
    Info(InfoArgs),
    /// Read digits from your own images (PNG, JPEG, BMP, GIF, WebP; files or folders)
    Predict(crate::commands::predict::PredictArgs),
    /// Show digits of a data set with their labels, as a PNG grid or in the terminal
    Show(crate::commands::show::ShowArgs),
    /// Draw plots: learning curves, confusion matrix, mistakes, weights, sigmoid, activations
    Plot(crate::commands::plot::PlotArgs),
    /// Measure training and inference speed against this machine's matrix-product peak
    Bench(BenchArgs),
    /// Serve a web page to draw digits on and watch the network read them, with a JSON API
    Serve(crate::commands::serve::ServeArgs),
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    #[command(flatten)]
    pub data: DataArgs,

    /// Layer sizes, input first, e.g. 784,256,128,10 (first = pixels per image, last = 10)
    /// [default: 784,128,64,10]
    #[arg(long, value_name = "SIZES", value_delimiter = ',')]
    pub layers: Option<Vec<usize>>,

    /// Number of epochs (passes over the training set) [default: the schedule's total, or 10 for
    /// a single rate; with --resume, what is left of the model's schedule]
    #[arg(long, value_name = "N")]
    pub epochs: Option<usize>,

    /// Images per mini-batch [default: 32]
    #[arg(long, value_name = "N")]
    pub batch_size: Option<usize>,

    /// Learning rate: one rate (0.1) or stages of rate x epochs (3x20,0.3x5,0.03x3)
    /// [default: 3x20,0.3x5,0.03x3, chosen by measurement]
    #[arg(long, value_name = "SCHEDULE", allow_negative_numbers = true)]
    pub lr: Option<String>,

    /// Seed of the initial weights and of every epoch's shuffle [default: 42]
    #[arg(long)]
    pub seed: Option<u64>,

    /// Train on the first N training images only (quick runs)
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,

    /// Where to save the model (after every epoch, atomically) [default:
    /// models/ziffer.safetensors, or the resumed model's path]
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Continue training a saved model, with its own seed, batch size and schedule unless given
    #[arg(long, value_name = "MODEL")]
    pub resume: Option<PathBuf>,

    /// Threads for the matrix products [default: the number of CPU cores]
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,

    /// Print one JSON object on stdout at the end (progress goes to stderr)
    #[arg(long)]
    pub json: bool,

    /// Print nothing but errors (and the JSON object with --json)
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The model to evaluate
    #[arg(long, short, value_name = "FILE", default_value = DEFAULT_MODEL)]
    pub model: PathBuf,

    #[command(flatten)]
    pub data: DataArgs,

    /// Also write every test image's prediction as CSV (index,label,predicted)
    #[arg(long, value_name = "FILE")]
    pub predictions: Option<PathBuf>,

    /// Threads for the matrix products [default: the number of CPU cores]
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,

    /// Print one JSON object on stdout instead of tables
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct InfoArgs {
    /// The model to describe
    #[arg(long, short, value_name = "FILE", default_value = DEFAULT_MODEL)]
    pub model: PathBuf,

    /// Print one JSON object on stdout instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(flatten)]
    pub data: DataArgs,

    /// Layer sizes of the network to time [default: 784,128,64,10]
    #[arg(long, value_name = "SIZES", value_delimiter = ',')]
    pub layers: Option<Vec<usize>>,

    /// Batch sizes to time, comma-separated
    #[arg(
        long,
        value_name = "N,...",
        value_delimiter = ',',
        default_value = "32,128"
    )]
    pub batch_size: Vec<usize>,

    /// Thread counts to time, comma-separated
    #[arg(
        long,
        value_name = "N,...",
        value_delimiter = ',',
        default_value = "1,2"
    )]
    pub threads: Vec<usize>,

    /// Training epochs timed per batch size and thread count (the median is reported)
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub epochs: usize,

    /// Inference passes over the test set per thread count (the median is reported)
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub repeats: usize,

    /// Size of the square product that measures the GEMM peak
    #[arg(long, value_name = "N", default_value_t = 2048)]
    pub peak_size: usize,

    /// Do not measure the GEMM peak
    #[arg(long)]
    pub skip_peak: bool,

    /// Do not measure inference
    #[arg(long)]
    pub skip_inference: bool,

    /// Print one JSON object on stdout instead of tables
    #[arg(long)]
    pub json: bool,
}

/// The thread count asked for, or the number of cores.
pub fn threads(asked: Option<usize>) -> usize {
    asked.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

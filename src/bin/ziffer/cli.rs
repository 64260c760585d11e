//! The command line, declared with clap: each field's `///` comment is its help text.

use crate::data_args::DataArgs;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use ziffer::activation::{Activation, Output};
use ziffer::augment::Augment;
use ziffer::layer::Init;
use ziffer::loss::Loss;
use ziffer::optimizer::Optimizer;

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
    /// Train a grid of configurations (sizes, activations, optimizers, ...) and compare them
    Sweep(crate::commands::sweep::SweepArgs),
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    #[command(flatten)]
    pub data: DataArgs,

    /// The data set's class names: mnist (the digits) or fashion (Fashion-MNIST's ten; give
    /// its folder with --data) [default: read from classes.txt next to the data if there is
    /// one, else the digits]
    #[arg(long, value_name = "NAME")]
    pub dataset: Option<crate::data_args::DatasetKind>,

    #[command(flatten)]
    pub model: ModelArgs,

    /// Number of epochs (passes over the training set) [default: the schedule's total, or 10 for
    /// a single rate; with --resume, what is left of the model's schedule]
    #[arg(long, value_name = "N")]
    pub epochs: Option<usize>,

    /// Training images held out (the last ones) to validate on after each epoch, 0 for none
    /// [default: 5000 (none if fewer than 10,000 training images), or the resumed model's]
    #[arg(long, value_name = "N")]
    pub validation: Option<usize>,

    /// Stop once the validation accuracy has not improved for N epochs
    #[arg(long, value_name = "N")]
    pub patience: Option<usize>,

    /// Train on the first N training images only (quick runs)
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,

    /// Where to save the model (after every epoch, atomically) [default:
    /// models/ziffer.safetensors, or the resumed model's path]
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Continue training a saved model, with its own settings unless flags say otherwise
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

/// What network to train and how: the flags `ziffer train` and each line of a sweep share.
#[derive(Debug, Args, Clone, Default, PartialEq)]
pub struct ModelArgs {
    /// Layer sizes, input first, e.g. 784,256,128,10 (first = pixels per image, last = 10)
    /// [default: 784,128,64,10]
    #[arg(long, value_name = "SIZES", value_delimiter = ',')]
    pub layers: Option<Vec<usize>>,

    /// Activation of the hidden layers: sigmoid, tanh, relu or leaky-relu [default: sigmoid]
    #[arg(long, value_name = "NAME", value_parser = parse_activation)]
    pub activation: Option<Activation>,

    /// Function of the output layer: sigmoid or softmax [default: softmax with
    /// --loss cross-entropy, else sigmoid]
    #[arg(long, value_name = "NAME", value_parser = parse_output)]
    pub output: Option<Output>,

    /// Loss: quadratic (½‖A − Y‖², the original's) or cross-entropy [default: cross-entropy with
    /// --output softmax, else quadratic]
    #[arg(long, value_name = "NAME", value_parser = parse_loss)]
    pub loss: Option<Loss>,

    /// Initial weights: lecun (variance 1/inputs), xavier (2/(inputs+outputs)) or he
    /// (2/inputs) [default: he for the ReLUs, xavier for tanh, lecun for sigmoid]
    #[arg(long, value_name = "NAME", value_parser = parse_init)]
    pub init: Option<Init>,

    /// Update rule: sgd, momentum[=0.9], nesterov[=0.9] or adam[=0.9/0.999] [default: sgd]
    #[arg(long, value_name = "NAME")]
    pub optimizer: Option<Optimizer>,

    /// Learning rate: one rate (0.1), stages of rate x epochs (3x25,0.3x5,0.03x3), step decay
    /// (step:0.1x30,every=10,factor=0.5) or cosine (cosine:0.1x30) [default: 3x25,0.3x5,0.03x3
    /// for sgd, chosen by measurement; 0.3x25,0.03x5,0.003x3 with momentum;
    /// 0.001x25,0.0001x5,0.00001x3 with adam]
    #[arg(long, value_name = "SCHEDULE", allow_negative_numbers = true)]
    pub lr: Option<String>,

    /// L2 weight decay λ: adds λ·W to each weight's gradient [default: 0]
    #[arg(long, value_name = "LAMBDA", allow_negative_numbers = true)]
    pub weight_decay: Option<f32>,

    /// Dropout: the fraction of hidden neurons switched off for each training image [default: 0]
    #[arg(long, value_name = "P", allow_negative_numbers = true)]
    pub dropout: Option<f32>,

    /// Distort training images on the fly: none, affine (shifts, rotations, scaling), elastic
    /// (affine plus elastic distortions), or e.g. shift=2,rotate=10,scale=0.1,elastic=8/4
    /// [default: none]
    #[arg(long, value_name = "SPEC")]
    pub augment: Option<Augment>,

    /// Images per mini-batch [default: 32]
    #[arg(long, value_name = "N")]
    pub batch_size: Option<usize>,

    /// Seed of the initial weights and of every epoch's shuffle, dropout and distortions
    /// [default: 42]
    #[arg(long)]
    pub seed: Option<u64>,
}

pub fn parse_activation(text: &str) -> Result<Activation, String> {
    Activation::from_name(text).ok_or_else(|| {
        format!("unknown activation '{text}'; choose sigmoid, tanh, relu or leaky-relu")
    })
}

fn parse_output(text: &str) -> Result<Output, String> {
    Output::from_name(text)
        .ok_or_else(|| format!("unknown output function '{text}'; choose sigmoid or softmax"))
}

pub fn parse_loss(text: &str) -> Result<Loss, String> {
    Loss::from_name(text)
        .ok_or_else(|| format!("unknown loss '{text}'; choose quadratic or cross-entropy"))
}

fn parse_init(text: &str) -> Result<Init, String> {
    Init::from_name(text)
        .ok_or_else(|| format!("unknown initialisation '{text}'; choose lecun, xavier or he"))
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

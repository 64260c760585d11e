//! The command line, declared with clap: the `ziffer` command and the list of its subcommands;
//! each `///` comment is the help text.
//!
//! Not the subcommands' flags: each `commands/<name>.rs` declares its own `Args` beside its
//! `run`, and the flags several share live in `args` and `data_args`. The commands never import
//! this module.

use crate::commands::{
    bench::BenchArgs, eval::EvalArgs, export::ExportArgs, info::InfoArgs, plot::PlotArgs,
    predict::PredictArgs, serve::ServeArgs, show::ShowArgs, sweep::SweepArgs, train::TrainArgs,
};
use clap::{Parser, Subcommand};

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
    /// Export a saved network as an ONNX file, to run it without ziffer (ONNX Runtime, ...)
    Export(ExportArgs),
    /// Read digits from your own images (PNG, JPEG, BMP, GIF, WebP; files or folders)
    Predict(PredictArgs),
    /// Show digits of a data set with their labels, as a PNG grid or in the terminal
    Show(ShowArgs),
    /// Draw plots: learning curves, confusion matrix, mistakes, weights, sigmoid, activations
    Plot(PlotArgs),
    /// Measure training and inference speed against this machine's matrix-product peak
    Bench(BenchArgs),
    /// Serve a web page to draw digits on and watch the network read them, with a JSON API
    Serve(ServeArgs),
    /// Train a grid of configurations (sizes, activations, optimizers, ...) and compare them
    Sweep(SweepArgs),
}

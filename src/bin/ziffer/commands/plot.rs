//! `ziffer plot`: the pictures of what the network learnt, each drawn by one function of
//! `ziffer::plot` from what the library computed.

use crate::args::{DEFAULT_MODEL, cpu_engine};
use crate::data_args::DataArgs;
use crate::output::thousands;
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};
use ziffer::data::batch::normalise_pixel;
use ziffer::metrics::{evaluate, predict_all};
use ziffer::model::Model;
use ziffer::nn::network::argmax;
use ziffer::{model_file, plot};

#[derive(Debug, Args)]
pub struct PlotArgs {
    #[command(subcommand)]
    pub plot: Plot,
}

#[derive(Debug, Subcommand)]
pub enum Plot {
    /// A sweep's test accuracy per epoch, one line per configuration, from its sweep.json
    Sweep {
        /// The sweep.json written by `ziffer sweep`
        #[arg(value_name = "SWEEP_JSON")]
        json: PathBuf,
        /// Where to write the plot (.png, or .svg) [default: sweep.png]
        #[arg(long, short, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Learning curves: training loss and test accuracy per epoch, from the model file's history
    Curves {
        #[command(flatten)]
        model: ModelArg,
        /// Where to write the plot (.png, or .svg) [default: curves.png]
        #[arg(long, short, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// The confusion matrix on the test set as a heat map with the counts (as `ziffer eval`)
    Confusion {
        #[command(flatten)]
        model: ModelArg,
        #[command(flatten)]
        data: DataArgs,
        /// Where to write the plot (.png, or .svg) [default: confusion.png]
        #[arg(long, short, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// The test images the network reads wrong, each with its true and predicted digit
    Mistakes {
        #[command(flatten)]
        model: ModelArg,
        #[command(flatten)]
        data: DataArgs,
        /// How many mistakes to show at most (the first ones, by index)
        #[arg(long, short = 'n', value_name = "N", default_value_t = 64)]
        count: usize,
        /// Where to write the plot (.png) [default: mistakes.png]
        #[arg(long, short, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// The first layer's weights as images, one per neuron: what each neuron looks for
    Weights {
        #[command(flatten)]
        model: ModelArg,
        /// Where to write the plot (.png) [default: weights.png]
        #[arg(long, short, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// The sigmoid and its derivative over z in [-8, 8]
    Sigmoid {
        /// Where to write the plot (.png, or .svg) [default: sigmoid.png]
        #[arg(long, short, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Every layer's activations for one test image (or an image file), pixels to outputs
    Activations {
        #[command(flatten)]
        model: ModelArg,
        #[command(flatten)]
        data: DataArgs,
        /// Index of the test image (0-based, as in `ziffer eval --predictions`)
        #[arg(long, value_name = "I", default_value_t = 0, conflicts_with = "image")]
        index: usize,
        /// An image of your own instead (PNG, JPEG, ...), brought to MNIST's form as `ziffer
        /// predict` does
        #[arg(long, value_name = "FILE")]
        image: Option<PathBuf>,
        /// Where to write the plot (.png, or .svg) [default: activations.png]
        #[arg(long, short, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct ModelArg {
    /// The model to draw
    #[arg(long, short, value_name = "FILE", default_value = DEFAULT_MODEL)]
    pub model: PathBuf,
}

impl ModelArg {
    fn load(&self) -> Result<Model> {
        model_file::load(&self.model)
            .with_context(|| format!("cannot load the model {}", self.model.display()))
    }
}

pub fn run(args: PlotArgs) -> Result<()> {
    let out = |out: &Option<PathBuf>, default: &str| {
        out.clone().unwrap_or_else(|| PathBuf::from(default))
    };
    match args.plot {
        Plot::Curves { model, out: o } => {
            let out = out(&o, "curves.png");
            let model = model.load()?;
            plot::curves(&model.training.history, &out)?;
            wrote(
                &out,
                &format!(
                    "learning curves over {} epochs",
                    model.training.history.len()
                ),
            );
        }
        Plot::Confusion {
            model,
            data,
            out: o,
        } => {
            let out = out(&o, "confusion.png");
            let model = model.load()?;
            let test = data.load_test()?;
            let evaluation = evaluate(&cpu_engine(None)?, &model.network, &test)?;
            plot::confusion(&evaluation, &model.classes, &out)?;
            wrote(
                &out,
                &format!(
                    "confusion matrix of {} images, {:.2}% right",
                    thousands(evaluation.total()),
                    100.0 * evaluation.accuracy()
                ),
            );
        }
        Plot::Mistakes {
            model,
            data,
            count,
            out: o,
        } => {
            let out = out(&o, "mistakes.png");
            let model = model.load()?;
            let test = data.load_test()?;
            let predictions = predict_all(&cpu_engine(None)?, &model.network, &test)?;
            let wrong = plot::mistakes(&test, &predictions, count, &model.classes, &out)?;
            wrote(
                &out,
                &format!(
                    "{} of {} images read wrong, {} shown",
                    thousands(wrong),
                    thousands(test.len()),
                    wrong.min(count)
                ),
            );
        }
        Plot::Sweep { json, out: o } => {
            let out = out(&o, "sweep.png");
            let text = std::fs::read_to_string(&json)
                .with_context(|| format!("cannot read {}", json.display()))?;
            let results: Vec<ziffer::sweep::SweepResult> = serde_json::from_str(&text)
                .with_context(|| {
                    format!(
                        "{} is not a sweep.json written by `ziffer sweep`",
                        json.display()
                    )
                })?;
            let lines: Vec<_> = results.iter().map(|r| r.line()).collect();
            plot::sweep(&lines, &out)?;
            wrote(
                &out,
                &format!("test accuracy of {} configurations", lines.len()),
            );
        }
        Plot::Weights { model, out: o } => {
            let out = out(&o, "weights.png");
            let model = model.load()?;
            plot::weights(&model.network, &out)?;
            wrote(
                &out,
                &format!(
                    "the weights of the {} neurons of layer 1",
                    model.network.sizes()[1]
                ),
            );
        }
        Plot::Sigmoid { out: o } => {
            let out = out(&o, "sigmoid.png");
            plot::sigmoid(&out)?;
            wrote(&out, "the sigmoid and its derivative");
        }
        Plot::Activations {
            model,
            data,
            index,
            image,
            out: o,
        } => {
            let out = out(&o, "activations.png");
            let model = model.load()?;
            let (pixels, shape, what) = match &image {
                Some(path) => {
                    let image = ziffer::preprocess::load_image(path)?;
                    let side = ziffer::preprocess::SIDE;
                    let name = path.file_name().unwrap_or(path.as_os_str());
                    (
                        image.pixels.to_vec(),
                        (side, side),
                        Input::Image(name.to_string_lossy()),
                    )
                }
                None => {
                    let test = data.load_test()?;
                    if index >= test.len() {
                        bail!(
                            "--index {index} is past the last test image: the test set has {} \
                             (0 to {})",
                            thousands(test.len()),
                            test.len() - 1
                        );
                    }
                    let what = Input::Test(index, test.label(index));
                    (test.image(index).to_vec(), (test.rows(), test.cols()), what)
                }
            };
            let layers = ziffer::predict::activations(&model.network, &pixels)
                .context("cannot run the network on this image")?;
            let x: Vec<f32> = pixels.iter().map(|&p| normalise_pixel(p)).collect();
            let read = argmax(&layers[layers.len() - 1]);
            let title = match &what {
                Input::Test(i, label) => format!(
                    "Test image {i}, a {label}: the network reads {read}{}",
                    if read == *label as usize {
                        ""
                    } else {
                        " (wrong)"
                    }
                ),
                Input::Image(name) => format!("{name}: the network reads {read}"),
            };
            plot::activations(&x, shape, &layers, &title, &out)?;
            let what = match what {
                Input::Test(i, _) => format!("test image {i}"),
                Input::Image(name) => name.into_owned(),
            };
            wrote(&out, &format!("the activations of every layer for {what}"));
        }
    }
    Ok(())
}

/// The image whose activations are drawn.
enum Input<'a> {
    /// A test image: its index and label.
    Test(usize, u8),
    /// An image file: its name.
    Image(std::borrow::Cow<'a, str>),
}

fn wrote(out: &Path, what: &str) {
    println!("wrote {}: {what}", out.display());
}

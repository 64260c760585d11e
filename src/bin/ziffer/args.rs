//! What several subcommands share: the model flags of `ziffer train` and of each line of a sweep
//! ([`ModelArgs`]), their value parsers, the settings a new model gets from them, the default
//! model path and the thread count.
//!
//! A leaf: it imports nothing from the binary's other modules, so each subcommand may use it.
//! It is not where a subcommand's own flags live (those sit beside its `run`), nor the data flags
//! (`data_args`).

use clap::Args;
use ziffer::augment::Augment;
use ziffer::committee::Committee;
use ziffer::cpu::Cpu;
use ziffer::device::Device;
use ziffer::engine::Engine;
use ziffer::nn::activation::{Activation, Output};
use ziffer::nn::layer::Init;
use ziffer::nn::loss::Loss;
use ziffer::nn::network::{Functions, ORIGINAL_SIZES};
use ziffer::nn::optimizer::Optimizer;
use ziffer::schedule::{Schedule, default_schedule};
use ziffer::settings::{DEFAULT_SEED, TrainConfig, TrainSettings};

/// Where `ziffer train` saves, and where the other commands look, when no path is given.
pub const DEFAULT_MODEL: &str = "models/ziffer.safetensors";

/// The thread count asked for, or the number of cores.
pub fn threads(asked: Option<usize>) -> usize {
    asked.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// The engine of `device`; on the CPU with the threads asked for, or one per core.
pub fn engine(device: Device, threads_asked: Option<usize>) -> ziffer::Result<Box<dyn Engine>> {
    device.engine(threads(threads_asked))
}

/// The CPU engine with the threads asked for, or one per core.
pub fn cpu_engine(asked: Option<usize>) -> ziffer::Result<Cpu> {
    Cpu::new(threads(asked))
}

/// `--device`: `cpu`, `cuda` or `cuda:N`.
/// The models at `paths` as a committee (see [`ziffer::committee`]): each loaded with its path
/// in the error, then checked to fit together, a misfit named by its path.
pub fn load_committee(paths: &[std::path::PathBuf]) -> anyhow::Result<Committee> {
    use anyhow::Context as _;
    let mut members = Vec::with_capacity(paths.len());
    for path in paths {
        members.push(
            ziffer::model_file::load(path)
                .with_context(|| format!("cannot load the model {}", path.display()))?,
        );
    }
    Committee::new(members).map_err(|err| {
        let misfit = match &err {
            ziffer::Error::Committee { member, .. } if *member > 0 => Some(*member),
            _ => None,
        };
        match misfit {
            Some(member) => anyhow::Error::new(err).context(format!(
                "{} cannot join {} in a committee",
                paths[member].display(),
                paths[0].display()
            )),
            None => err.into(),
        }
    })
}

pub fn parse_device(text: &str) -> Result<Device, String> {
    text.parse().map_err(|e: ziffer::Error| e.to_string())
}

/// What network to train and how: the flags `ziffer train` and each line of a sweep share.
#[derive(Debug, Args, Clone, Default, PartialEq)]
pub struct ModelArgs {
    /// Layer sizes, input first, e.g. 784,256,128,10 (first = pixels per image, last = 10)
    /// [default: 784,128,64,10]
    #[arg(long, value_name = "SIZES", value_delimiter = ',')]
    pub layers: Option<Vec<usize>>,

    /// Activation of the hidden layers: sigmoid, tanh, scaled-tanh (LeCun's 1.7159·tanh(2z/3)), relu or leaky-relu [default: sigmoid]
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
    /// (step:0.1x30,every=10,factor=0.5), exponential decay per epoch
    /// (exp:0.001x300,factor=0.97,min=0.000001) or cosine (cosine:0.1x30) [default: 3x25,0.3x5,0.03x3
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

    /// Label smoothing ε (Szegedy et al. 2016): the targets become 1 − ε + ε/K for the right
    /// class and ε/K for each other one of the K classes, instead of 1 and 0, e.g. 0.1
    /// [default: 0]
    #[arg(long, value_name = "EPSILON", allow_negative_numbers = true)]
    pub label_smoothing: Option<f32>,

    /// Stochastic weight averaging (Izmailov et al. 2018): from epoch N on, the model is the
    /// mean of the weights reached at the end of each epoch; training goes on from the last
    /// ones, and the accuracies, the saved model and its predictions are the mean's. Best with a
    /// rate that stays well above 0 over those epochs, e.g. --lr 0.05x100,0.01x50
    /// --average-from 101 [default: off]
    #[arg(long, value_name = "N")]
    pub average_from: Option<usize>,

    /// Distort training images on the fly: none, affine (shifts, rotations, scaling), elastic
    /// (affine plus elastic distortions), ciresan (Cireşan et al. 2010: rotate=15,
    /// stretch=0.15, elastic=36/6), or a list such as shift=2,rotate=10,scale=0.1,elastic=8/4;
    /// stretch=X/Y scales width and height separately; crop=N shifts by whole pixels; erase=P
    /// paints a random rectangle of noise on a fraction P of the images (random erasing);
    /// mixup=ALPHA trains on weighted sums of pairs of images and of their targets, with weights
    /// from Beta(α, α) (Zhang et al. 2018; 0.1 to 0.4 is usual); flip
    /// mirrors half the images left to right, for clothes (Fashion-MNIST), never for digits: a
    /// mirrored 2, 3, 4, 5, 7 or 9 is no digit [default: none]
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
        format!(
            "unknown activation '{text}'; choose sigmoid, tanh, scaled-tanh, relu or leaky-relu"
        )
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

/// The functions asked for, each one left out chosen to fit the others
/// ([`Functions::choose`]).
pub fn functions(args: &ModelArgs) -> Functions {
    Functions::choose(args.activation, args.output, args.loss)
}

/// A new model's settings from the flags, with the defaults for what they leave out.
pub fn config(args: &ModelArgs, classes: Vec<String>) -> anyhow::Result<TrainConfig> {
    let optimizer = args.optimizer.unwrap_or(Optimizer::Sgd);
    let schedule = match &args.lr {
        Some(text) => text.parse::<Schedule>()?,
        None => default_schedule(optimizer),
    };
    let defaults = TrainSettings::default();
    let config = TrainConfig {
        layers: args.layers.clone().unwrap_or(ORIGINAL_SIZES.to_vec()),
        functions: functions(args),
        classes,
        settings: TrainSettings {
            init: args.init,
            batch_size: args.batch_size.unwrap_or(defaults.batch_size),
            schedule,
            optimizer,
            weight_decay: args.weight_decay.unwrap_or(0.0),
            dropout: args.dropout.unwrap_or(0.0),
            label_smoothing: args.label_smoothing.unwrap_or(0.0),
            average_from: args.average_from,
            augment: args.augment.unwrap_or(defaults.augment),
            seed: args.seed.unwrap_or(DEFAULT_SEED),
            ..defaults
        },
    };
    config.validate()?;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_activation_names_the_choices() {
        let err = parse_activation("swish").unwrap_err();
        assert!(
            err.contains("'swish'") && err.contains("leaky-relu"),
            "{err}"
        );
    }
}

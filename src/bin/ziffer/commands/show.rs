//! `ziffer show`: digits of a data set with their labels, as a PNG grid or in the terminal;
//! with `--augment`, as training distorts them.

use crate::data_args::{DataArgs, DatasetKind};
use crate::output::thousands;
use anyhow::{Result, bail};
use clap::{Args, ValueEnum};
use std::path::PathBuf;
use ziffer::augment::Augment;
use ziffer::plot;
use ziffer::settings::DEFAULT_SEED;

/// Digits drawn when `--count` is not given: a PNG grid of 4 rows, or two rows in the terminal.
const DEFAULT_COUNT_PNG: usize = 64;
const DEFAULT_COUNT_TERMINAL: usize = 8;
/// Where the grid goes when neither `--out` nor `--terminal` is given.
const DEFAULT_OUT: &str = "digits.png";

#[derive(Debug, Args)]
pub struct ShowArgs {
    #[command(flatten)]
    pub data: DataArgs,

    /// The data set's class names, for the legend: mnist or fashion [default: from classes.txt
    /// next to the data if there is one, else the digits]
    #[arg(long, value_name = "NAME")]
    pub dataset: Option<DatasetKind>,

    /// Which set to show (the test set's numbering is the one of `ziffer eval --predictions`)
    #[arg(long, value_enum, default_value_t = Set::Test)]
    pub set: Set,

    /// How many digits [default: 64 for the PNG, 8 in the terminal]
    #[arg(long, short = 'n', value_name = "N")]
    pub count: Option<usize>,

    /// Show the images distorted as `ziffer train --augment SPEC` distorts them (same text:
    /// affine, elastic, ciresan, shift=2,flip, ...), as drawn in the first epoch with --seed
    #[arg(long, value_name = "SPEC")]
    pub augment: Option<Augment>,

    /// The seed of the distortions shown with --augment
    #[arg(long, value_name = "SEED", default_value_t = DEFAULT_SEED)]
    pub seed: u64,

    /// Index of the first digit (0-based)
    #[arg(long, value_name = "I", default_value_t = 0)]
    pub start: usize,

    /// Write the grid as a PNG to FILE [default: digits.png, unless --terminal is given alone]
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Print the digits in the terminal (Unicode half blocks in 256-colour greys; plain
    /// characters if NO_COLOR is set)
    #[arg(long)]
    pub terminal: bool,

    /// Terminal width in characters, for how many digits fit side by side [default: $COLUMNS,
    /// or 80]
    #[arg(long, value_name = "N")]
    pub width: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Set {
    Train,
    Test,
}

pub fn run(args: ShowArgs) -> Result<()> {
    let data = match args.set {
        Set::Test => args.data.load_test()?,
        Set::Train => args.data.load()?.train,
    };
    let name = match args.set {
        Set::Train => "training",
        Set::Test => "test",
    };
    if args.start >= data.len() {
        bail!(
            "--start {} is past the last image: the {name} set has {} (0 to {})",
            args.start,
            thousands(data.len()),
            data.len() - 1
        );
    }
    let out = match (&args.out, args.terminal) {
        (Some(out), _) => Some(out.clone()),
        (None, false) => Some(PathBuf::from(DEFAULT_OUT)),
        (None, true) => None,
    };
    let default_count = match out {
        Some(_) => DEFAULT_COUNT_PNG,
        None => DEFAULT_COUNT_TERMINAL,
    };
    let count = args.count.unwrap_or(default_count);
    if count == 0 {
        bail!("--count 0 shows nothing; give at least 1");
    }
    let mut range = args.start..(args.start + count).min(data.len());
    let data = match &args.augment {
        Some(augment) => {
            let distorted = augment.distort_images(&data, range.clone(), args.seed, 0)?;
            range = 0..distorted.len();
            distorted
        }
        None => data,
    };
    let first = args.start;

    if args.terminal {
        let width = args
            .width
            .or_else(|| std::env::var("COLUMNS").ok()?.parse().ok())
            .unwrap_or(80);
        // Each digit is as many characters wide as it has pixels, with two spaces between.
        let per_line = ((width + 2) / (data.cols() + 2)).max(1);
        let colour = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        print!(
            "{}",
            plot::digits_terminal(&data, range.clone(), per_line, colour)
        );
    }
    if let Some(out) = out {
        let title = match &args.augment {
            Some(augment) => format!(
                "{} {name} images with their labels, distorted by {augment}",
                thousands(range.len())
            ),
            None => format!("{} {name} images with their labels", thousands(range.len())),
        };
        let classes = args.data.class_names(args.dataset)?;
        plot::digits(&data, range.clone(), &title, &classes, &out)?;
        println!(
            "wrote {}: {name} images {} to {} with their labels",
            out.display(),
            first,
            first + range.len() - 1
        );
    }
    Ok(())
}

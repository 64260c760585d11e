//! How results are shown: tables, numbers and errors, shared by the subcommands.

use ziffer::history::EpochRecord;
use ziffer::nn::network::Network;
use ziffer::settings::TrainSettings;

/// Prints an error and every cause under it on stderr.
pub fn print_error(err: &anyhow::Error) {
    eprintln!("error: {err}");
    let mut previous = err.to_string();
    for cause in err.chain().skip(1) {
        let text = cause.to_string();
        // Messages that already quote their cause (e.g. an I/O error) need not repeat it.
        if !previous.contains(&text) {
            eprintln!("  caused by: {text}");
        }
        previous = text;
    }
}

pub use ziffer::plot::thousands;

/// Layer sizes as `784-128-64-10`.
pub fn sizes(sizes: &[usize]) -> String {
    sizes
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join("-")
}

/// A network in a few words: `784-128-64-10 (sigmoid, sigmoid output, quadratic loss)`.
pub fn describe(network: &Network) -> String {
    let f = network.functions();
    format!(
        "{} ({}, {} output, {} loss)",
        sizes(&network.sizes()),
        f.hidden,
        f.output,
        f.loss
    )
}

/// The regularisation a model is trained with, as phrases: `weight decay 0.0001`,
/// `dropout 0.2`, `label smoothing 0.1`, `augmentation shift=2,...`, `weights averaged from
/// epoch 101`; nothing for what is off.
pub fn regularisation(t: &TrainSettings) -> Vec<String> {
    let mut phrases = Vec::new();
    if t.weight_decay > 0.0 {
        phrases.push(format!("weight decay {}", t.weight_decay));
    }
    if t.dropout > 0.0 {
        phrases.push(format!("dropout {}", t.dropout));
    }
    if t.label_smoothing > 0.0 {
        phrases.push(format!("label smoothing {}", t.label_smoothing));
    }
    if !t.augment.is_none() {
        phrases.push(format!("augmentation {}", t.augment));
    }
    if let Some(from) = t.average_from {
        phrases.push(format!("weights averaged from epoch {from}"));
    }
    phrases
}

/// The header of the per-epoch table.
pub const EPOCH_HEADER: &str = "epoch        lr  train loss   val acc  test acc  seconds";

/// One fixed-width line per epoch, under [`EPOCH_HEADER`].
pub fn epoch_line(r: &EpochRecord) -> String {
    let validation = match r.validation_accuracy {
        Some(v) => format!("{:>7.2}%", 100.0 * v),
        None => format!("{:>8}", "-"),
    };
    format!(
        "{:>5}  {:>8}  {:>10.5}  {validation}  {:>7.2}%  {:>7.2}",
        r.epoch,
        short_number(r.lr),
        r.train_loss,
        100.0 * r.test_accuracy,
        r.seconds
    )
}

/// A rate in at most 8 characters: `3`, `0.0488`, `1.5e-5`.
pub fn short_number(v: f32) -> String {
    let plain = v.to_string();
    if plain.len() <= 8 {
        return plain;
    }
    if v.abs() >= 1e-3 {
        let rounded = format!("{v:.4}");
        return rounded
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string();
    }
    format!("{v:.1e}")
}

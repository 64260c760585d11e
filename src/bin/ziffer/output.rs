//! How results are shown: tables, numbers and errors, shared by the subcommands.

use ziffer::train::EpochRecord;

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

/// The header of the per-epoch table.
pub const EPOCH_HEADER: &str = "epoch        lr  train loss  test acc  seconds";

/// One fixed-width line per epoch, under [`EPOCH_HEADER`].
pub fn epoch_line(r: &EpochRecord) -> String {
    format!(
        "{:>5}  {:>8}  {:>10.5}  {:>7.2}%  {:>7.2}",
        r.epoch,
        r.lr,
        r.train_loss,
        100.0 * r.test_accuracy,
        r.seconds
    )
}

/// The JSON form of one epoch, as `--json` prints it.
pub fn epoch_json(r: &EpochRecord) -> serde_json::Value {
    serde_json::json!({
        "epoch": r.epoch,
        "lr": r.lr,
        "train_loss": r.train_loss,
        "test_accuracy": r.test_accuracy,
        "seconds": r.seconds,
    })
}

//! Mistakes: the images the network misreads, each with its true label and what it read.
//!
//! What it is: a [`Grid`] of a data set's images picked by the predictions it is given. What it
//! is not: predicting; the predictions arrive computed ([`crate::metrics::predict_all`]).

use super::class_names::{check_class_names, legend, named};
use super::colours::{MUTED, WRONG};
use super::fonts::{Font, LABEL};
use super::format::thousands;
use super::grid::{Grid, Tile, inked};
use super::write::{plot_error, write_figure};
use crate::data::Dataset;
use crate::error::Result;
use std::path::Path;

/// Draws the images of `data` whose prediction is wrong (the first `limit` of them), each with
/// its true label and, in red, what the network read: `7 → 2`. `predictions` holds one predicted
/// class per image of `data` (as [`crate::metrics::predict_all`] returns them); for classes other
/// than the digits, a legend under the title names each number. Returns how many images were
/// wrong in all. PNG only; see [`grid_size`](super::grid_size) for the size.
pub fn mistakes(
    data: &Dataset,
    predictions: &[u8],
    limit: usize,
    classes: &[String],
    path: &Path,
) -> Result<usize> {
    check_class_names(classes, path)?;
    if predictions.len() != data.len() {
        return Err(plot_error(
            path,
            format!(
                "{} predictions for {} images",
                predictions.len(),
                data.len()
            ),
        ));
    }
    let wrong: Vec<usize> = (0..data.len())
        .filter(|&i| predictions[i] != data.label(i))
        .collect();
    let shown = &wrong[..wrong.len().min(limit)];
    let arrow = Font::new(14.0, MUTED);
    let tiles = shown
        .iter()
        .map(|&i| Tile {
            pixels: inked(data.image(i)),
            caption: vec![
                (data.label(i).to_string(), LABEL.bold()),
                (" → ".to_string(), arrow),
                (predictions[i].to_string(), LABEL.bold().colour(WRONG)),
            ],
        })
        .collect();
    let title = format!(
        "{} of {} images read wrong ({:.2}%)",
        thousands(wrong.len()),
        thousands(data.len()),
        100.0 * wrong.len() as f64 / data.len() as f64
    );
    let subtitle = if named(classes) {
        format!("true → read; {}", legend(classes))
    } else if shown.len() < wrong.len() {
        format!(
            "the first {} of them; under each, its true digit → what the network read",
            shown.len()
        )
    } else {
        "under each, its true digit → what the network read".to_string()
    };
    let grid = Grid {
        title,
        subtitle,
        shape: (data.rows(), data.cols()),
        tiles,
        empty: "every image is read right: nothing to show",
        colour_bar: None,
    };
    write_figure(&grid, path)?;
    Ok(wrong.len())
}

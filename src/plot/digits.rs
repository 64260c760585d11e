//! Digits: images of a data set in a grid, each with its label, dark ink on white.
//!
//! What it is: `ziffer show`'s picture, a [`Grid`] of a [`Dataset`]'s images. What it is not:
//! the terminal version, which is [`super::terminal`].

use super::class_names::{check_class_names, legend, named};
use super::fonts::LABEL;
use super::grid::{Grid, Tile, inked};
use super::write::{plot_error, write_figure};
use crate::data::Dataset;
use crate::error::Result;
use std::ops::Range;
use std::path::Path;

/// Checks that `range` lies in `data` and is not empty.
fn check_range(data: &Dataset, range: &Range<usize>, path: &Path) -> Result<()> {
    if range.is_empty() || range.end > data.len() {
        return Err(plot_error(
            path,
            format!(
                "images {}..{} asked for, but the data set has images 0..{}",
                range.start,
                range.end,
                data.len()
            ),
        ));
    }
    Ok(())
}

/// Draws the images `range` of `data` as a grid, each with its label under it, dark ink on
/// white as on paper, under `title`; for classes other than the digits, a legend under the title
/// names each label. PNG only; see [`grid_size`](super::grid_size) for the size.
pub fn digits(
    data: &Dataset,
    range: Range<usize>,
    title: &str,
    classes: &[String],
    path: &Path,
) -> Result<()> {
    check_range(data, &range, path)?;
    check_class_names(classes, path)?;
    let tiles = range
        .clone()
        .map(|i| Tile {
            pixels: inked(data.image(i)),
            caption: vec![(data.label(i).to_string(), LABEL.bold())],
        })
        .collect();
    let file = data
        .source()
        .file_name()
        .unwrap_or(data.source().as_os_str());
    let grid = Grid {
        title: title.to_string(),
        subtitle: if named(classes) {
            legend(classes)
        } else {
            format!(
                "images {} to {} of {}, {}×{} pixels each",
                range.start,
                range.end - 1,
                file.to_string_lossy(),
                data.rows(),
                data.cols()
            )
        },
        shape: (data.rows(), data.cols()),
        tiles,
        empty: "",
        colour_bar: None,
    };
    write_figure(&grid, path)
}

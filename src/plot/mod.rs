//! Plots: pictures of the data and of what the network learnt, written as PNG (or SVG).
//!
//! What it is: presentation only. Each function draws numbers the library has already computed
//! (a training history, an [`Evaluation`](crate::metrics::Evaluation), a data set and its
//! predictions, a network's weights, one image's activations) and writes them to a file. What it
//! is not: training maths. Nothing here changes a network or computes a metric; the figures read
//! what [`crate::train`], [`crate::metrics`] and [`crate::nn::network`] produced.
//!
//! | function | picture | size in pixels |
//! | --- | --- | --- |
//! | [`digits`](fn@digits) | images of a data set with their labels | see [`grid_size`]: 64 digits, 1026 × 428 |
//! | [`curves`](fn@curves) | train loss and test accuracy per epoch | 1000 × 440 |
//! | [`confusion`](fn@confusion) | the confusion matrix as a heat map with the counts | 720 × 690 |
//! | [`mistakes`](fn@mistakes) | the misread images, true and predicted label | see [`grid_size`] |
//! | [`weights`](fn@weights) | the first layer's weights, one image per neuron | see [`grid_size`] |
//! | [`sigmoid`](fn@sigmoid) | `σ(z)` and `σ'(z)` over `z` in `[−8, 8]` | 820 × 480 |
//! | [`activations`](fn@activations) | every layer's activations for one image | 1000 × 480 |
//! | [`sweep`](fn@sweep) | test accuracy per epoch of several configurations | 1240 × 480 or more |
//!
//! [`digits_terminal`] draws digits as text for a terminal instead.
//!
//! A path ending in `.svg` gives SVG for the figures made of lines, shapes and text (curves,
//! confusion, sigmoid, activations, sweep); the grids of images are pixels and always PNG. Text renders
//! with DejaVu Sans, embedded in the binary (`assets/fonts/`, with its licence), so a plot looks
//! the same on every machine, with or without system fonts.
//!
//! plotters rasterises and renders the glyphs; the layout is ours, in logical pixels. A PNG is
//! drawn at [`SUPERSAMPLE`] times its size and shrunk, which smooths lines and text (plotters'
//! bitmap backend does not anti-alias).
//!
//! The files of this folder: one per picture (`curves.rs`, `sweep.rs`, `sigmoid.rs`,
//! `confusion.rs`, `digits.rs`, `mistakes.rs`, `weights.rs`, `activations.rs`, `terminal.rs`),
//! and the parts they share: `painter.rs` (a canvas in logical pixels, and the `Figure` every
//! picture is), `chart.rs` (a chart's frame, axes and ticks), `grid.rs` (a grid of images),
//! `colours.rs`, `fonts.rs`, `format.rs` (numbers as text), `class_names.rs` (class names in
//! titles) and `write.rs` (a figure to a file: SVG, or PNG drawn supersampled).

mod activations;
mod chart;
mod class_names;
mod colours;
mod confusion;
mod curves;
mod digits;
mod fonts;
mod format;
mod grid;
mod mistakes;
mod painter;
mod sigmoid;
mod sweep;
mod terminal;
mod weights;
mod write;

pub use activations::activations;
pub use confusion::confusion;
pub use curves::curves;
pub use digits::digits;
pub use format::thousands;
pub use grid::{GRID_COLUMNS, GRID_SCALE, grid_size};
pub use mistakes::mistakes;
pub use sigmoid::sigmoid;
pub use sweep::{SweepLine, sweep};
pub use terminal::{digits_terminal, terminal_lines};
pub use weights::weights;
pub use write::SUPERSAMPLE;

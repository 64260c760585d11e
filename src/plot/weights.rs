//! Weights: what each neuron of the first layer looks for, its weights drawn as an image.
//!
//! What it is: a [`Grid`] of `W[1]`'s rows, blue to red. What it is not: any change to the
//! network; it reads [`Network::layers`].

use super::colours::diverging;
use super::grid::{Grid, Tile};
use super::write::{plot_error, write_figure};
use crate::error::Result;
use crate::nn::network::Network;
use std::path::Path;

/// Draws what each neuron of the first layer looks for: its weights from the pixels, row `o` of
/// `W[1]`, as an image of the input's shape; blue where ink lowers the neuron's input, red where
/// ink raises it, each neuron scaled to its own largest `|w|`. The input must be a square image
/// (784 = 28 × 28). PNG only; see [`grid_size`](super::grid_size) for the size (128 neurons:
/// 1026 × 652).
pub fn weights(network: &Network, path: &Path) -> Result<()> {
    let layer = &network.layers()[0];
    let side = (layer.inputs as f64).sqrt().round() as usize;
    if side * side != layer.inputs {
        return Err(plot_error(
            path,
            format!(
                "the first layer takes {} inputs, which is not a square image",
                layer.inputs
            ),
        ));
    }
    let tiles = (0..layer.outputs)
        .map(|o| {
            // Row o of W[1], (n[1], n[0]) stored row after row: the weights into neuron o.
            let row = &layer.weight[o * layer.inputs..(o + 1) * layer.inputs];
            let scale = row
                .iter()
                .fold(0f32, |m, w| m.max(w.abs()))
                .max(f32::MIN_POSITIVE);
            Tile {
                pixels: row.iter().map(|&w| diverging((w / scale) as f64)).collect(),
                caption: Vec::new(),
            }
        })
        .collect();
    let grid = Grid {
        title: format!(
            "What each of the {} neurons of layer 1 looks for",
            layer.outputs
        ),
        subtitle: format!(
            "its {} weights from the pixels, drawn as a {side}×{side} image",
            layer.inputs
        ),
        shape: (side, side),
        tiles,
        empty: "",
        colour_bar: Some((
            ["−max |w|", "0", "+max |w|"],
            "red: ink there raises the neuron's input; blue: lowers it (each neuron to its own scale)",
        )),
    };
    write_figure(&grid, path)
}

//! Activations: what every layer computes for one image, from the pixels to the outputs.
//!
//! What it is: the picture of one forward pass, `A[0]` to `A[L]`, with the network's answer
//! highlighted. What it is not: the forward pass; the activations arrive computed (e.g. by
//! [`crate::predict::activations`]).

use super::colours::{GRID, INK, MUTED, ORANGE, viridis};
use super::fonts::{Font, LABEL, TICK};
use super::painter::{Drawn, Figure, Painter};
use super::write::{plot_error, write_figure};
use crate::error::Result;
use crate::nn::network::argmax;
use plotters::prelude::*;
use plotters::style::text_anchor::HPos;
use std::path::Path;

/// Draws what every layer computes for one image: the input `x` (`A[0]`, values in `[0, 1]`,
/// `rows × cols` pixels), each hidden layer's activations `A[l]` as a block of squares, and the
/// output layer as bars, the largest (the network's answer) highlighted. `layers[l − 1]` is
/// `A[l]` for `l = 1..=L`, e.g. from [`crate::nn::workspace::Workspace::activations`] after a forward
/// pass over the one image. 1000 × 480 pixels, PNG or SVG.
pub fn activations(
    x: &[f32],
    (rows, cols): (usize, usize),
    layers: &[Vec<f32>],
    title: &str,
    path: &Path,
) -> Result<()> {
    if layers.is_empty() || x.len() != rows * cols {
        return Err(plot_error(
            path,
            format!(
                "need an input of {rows}×{cols} = {} values and at least one layer; got {} values \
                 and {} layers",
                rows * cols,
                x.len(),
                layers.len()
            ),
        ));
    }
    let figure = Activations {
        x,
        shape: (rows, cols),
        layers,
        title,
    };
    write_figure(&figure, path)
}

struct Activations<'a> {
    x: &'a [f32],
    shape: (usize, usize),
    layers: &'a [Vec<f32>],
    title: &'a str,
}

/// Neurons per column in the blocks of hidden activations.
const NEURONS_PER_COLUMN: usize = 16;

impl Figure for Activations<'_> {
    fn size(&self) -> (u32, u32) {
        (1000, 480)
    }

    fn draw<DB: DrawingBackend>(&self, p: &Painter<'_, DB>) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        let width = 1000.0;
        p.heading(
            width,
            self.title,
            "each square is one value from 0 (dark) to 1 (bright): the pixels, then each layer's σ(W·A + B)",
        )?;
        let (top, panel_h) = (96.0, 288.0);
        let (middle, label_y) = (top + panel_h / 2.0, top + panel_h + 26.0);
        let (hidden, output) = self.layers.split_at(self.layers.len() - 1);
        let output = &output[0];

        // Horizontal layout: input, hidden blocks, output bars, arrows between.
        let (rows, cols) = self.shape;
        let pixel = (224.0 / rows.max(cols) as f64).clamp(1.0, 8.0).floor();
        let input_w = pixel * cols as f64;
        let (gap, bars_w) = (64.0, 250.0);
        let columns: Vec<f64> = hidden
            .iter()
            .map(|a| a.len().div_ceil(NEURONS_PER_COLUMN) as f64)
            .collect();
        let total_columns: f64 = columns.iter().sum();
        let fixed = input_w + bars_w + gap * (hidden.len() + 1) as f64;
        let cell = ((width - 60.0 - fixed) / total_columns.max(1.0))
            .clamp(4.0, 18.0)
            .floor();
        let mut x = (width - fixed - cell * total_columns) / 2.0;

        // A[0]: the input image.
        let y0 = middle - pixel * rows as f64 / 2.0;
        for (i, &v) in self.x.iter().enumerate() {
            let (r, c) = ((i / cols) as f64, (i % cols) as f64);
            let (px, py) = (x + c * pixel, y0 + r * pixel);
            p.fill((px, py), (px + pixel, py + pixel), viridis(v as f64))?;
        }
        let input_label = format!("input: {rows}×{cols} pixels");
        p.text(
            &input_label,
            (x + input_w / 2.0, label_y),
            LABEL,
            HPos::Center,
        )?;
        x += input_w;

        // A[1], ..., A[L−1]: blocks of squares, NEURONS_PER_COLUMN a column.
        let mut scale_centre = None;
        for (l, (a, &ncols)) in hidden.iter().zip(&columns).enumerate() {
            p.arrow(x + 14.0, x + gap - 14.0, middle, MUTED)?;
            x += gap;
            let nrows = a.len().min(NEURONS_PER_COLUMN) as f64;
            let y0 = middle - nrows * cell / 2.0;
            for (i, &v) in a.iter().enumerate() {
                let c = (i / NEURONS_PER_COLUMN) as f64;
                let r = (i % NEURONS_PER_COLUMN) as f64;
                let (px, py) = (x + c * cell, y0 + r * cell);
                p.fill(
                    (px, py),
                    (px + cell - 2.0, py + cell - 2.0),
                    viridis(v as f64),
                )?;
            }
            let block_w = ncols * cell - 2.0;
            let label = format!("layer {}: {} neurons", l + 1, a.len());
            p.text(&label, (x + block_w / 2.0, label_y), LABEL, HPos::Center)?;
            scale_centre.get_or_insert(x + block_w / 2.0);
            x += block_w + 2.0;
        }

        // A[L]: the outputs as bars, the largest highlighted.
        p.arrow(x + 14.0, x + gap - 14.0, middle, MUTED)?;
        x += gap;
        let best = argmax(output);
        let row_h = panel_h / output.len().max(1) as f64;
        let bar_x = x + 24.0;
        let bar_max = bars_w - 24.0 - 56.0;
        p.vline(bar_x - 1.0, top, top + panel_h, GRID)?;
        for (d, &v) in output.iter().enumerate() {
            let cy = top + d as f64 * row_h + row_h / 2.0;
            let (colour, digit_font, value_font) = if d == best {
                (ORANGE, LABEL.bold(), Font::new(14.0, INK).bold())
            } else {
                (RGBColor(168, 180, 196), LABEL, TICK)
            };
            p.text(&d.to_string(), (x + 8.0, cy), digit_font, HPos::Center)?;
            let len = v.clamp(0.0, 1.0) as f64 * bar_max;
            if len >= 0.5 {
                p.fill(
                    (bar_x, cy - row_h / 3.0),
                    (bar_x + len, cy + row_h / 3.0),
                    colour,
                )?;
            }
            let value = format!("{v:.2}");
            p.text(&value, (bar_x + len + 6.0, cy), value_font, HPos::Left)?;
        }
        let output_label = format!("output: {} digits", output.len());
        p.text(
            &output_label,
            (x + bars_w / 2.0, label_y),
            LABEL,
            HPos::Center,
        )?;

        // The colour scale, under the hidden layers (or the middle, for a one-layer network).
        let bar_w = 220.0;
        let centre = scale_centre.unwrap_or(width / 2.0);
        let (bx, by) = (centre - bar_w / 2.0, label_y + 36.0);
        for i in 0..220 {
            let x = bx + i as f64;
            p.fill((x, by), (x + 1.0, by + 10.0), viridis(i as f64 / 219.0))?;
        }
        p.text("0", (bx - 8.0, by + 5.0), TICK, HPos::Right)?;
        p.text("1", (bx + bar_w + 8.0, by + 5.0), TICK, HPos::Left)?;
        Ok(())
    }
}

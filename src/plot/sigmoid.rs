//! The sigmoid: `σ(z)` and its slope `σ'(z)` over `z` in `[−8, 8]`, where it saturates shaded.
//!
//! What it is: a picture of [`crate::nn::activation`]'s sigmoid, drawn from its own functions. What
//! it is not: a network's data; it needs no model.

use super::chart::{Axis, Frame, draw_axes};
use super::colours::{BAND, BLUE, GRID, INK, ORANGE};
use super::fonts::{LABEL, TICK};
use super::format::tick_label;
use super::painter::{Drawn, Figure, Painter, Xy};
use super::write::write_figure;
use crate::error::Result;
use crate::nn::activation::{sigmoid as sigma, sigmoid_prime_from_output};
use plotters::prelude::*;
use plotters::style::text_anchor::HPos;
use std::path::Path;

/// Draws the sigmoid `σ(z)` and its derivative `σ'(z) = σ(z)·(1 − σ(z))` over `z` in `[−8, 8]`,
/// as the original notebook did, marking where the sigmoid saturates (`|z| > 4`: `σ' < 0.018`).
/// 820 × 480 pixels, PNG or SVG.
pub fn sigmoid(path: &Path) -> Result<()> {
    write_figure(&Sigmoid, path)
}

struct Sigmoid;

impl Figure for Sigmoid {
    fn size(&self) -> (u32, u32) {
        (820, 480)
    }

    fn draw<DB: DrawingBackend>(&self, p: &Painter<'_, DB>) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        p.heading(
            820.0,
            "The sigmoid and its derivative",
            "backprop multiplies by the slope σ′: at most 0.25, and almost 0 once |z| > 4",
        )?;
        let f = Frame {
            left: 70.0,
            top: 88.0,
            right: 796.0,
            bottom: 412.0,
            x: (-8.0, 8.0),
            y: (-0.04, 1.06),
            log_y: false,
        };
        for (z0, z1) in [(-8.0, -4.0), (4.0, 8.0)] {
            p.fill(f.at((z0, f.y.1)), f.at((z1, f.y.0)), BAND)?;
            let (px, py) = f.at(((z0 + z1) / 2.0, 0.62));
            p.text("saturated:", (px, py), TICK, HPos::Center)?;
            p.text("σ′(z) < 0.018", (px, py + 20.0), TICK, HPos::Center)?;
        }
        let z_ticks: Vec<f64> = (-4..=4).map(|i| 2.0 * i as f64).collect();
        draw_axes(
            p,
            &f,
            &Axis {
                ticks: &z_ticks,
                label: &tick_label,
                title: "z",
            },
            &Axis {
                ticks: &[0.0, 0.25, 0.5, 0.75, 1.0],
                label: &|v| format!("{v}"),
                title: "",
            },
        )?;
        let curve = |g: &dyn Fn(f32) -> f32| -> Vec<Xy> {
            (0..=640)
                .map(|i| {
                    let z = -8.0 + i as f64 / 40.0;
                    f.at((z, g(z as f32) as f64))
                })
                .collect()
        };
        p.polyline(&curve(&sigma), BLUE, 3.0)?;
        p.polyline(
            &curve(&|z| sigmoid_prime_from_output(sigma(z))),
            ORANGE,
            3.0,
        )?;

        // The legend, top left.
        let (lx, ly) = (f.left + 24.0, f.top + 26.0);
        p.fill((lx - 12.0, ly - 18.0), (lx + 252.0, ly + 46.0), WHITE)?;
        p.frame((lx - 12.0, ly - 18.0), (lx + 252.0, ly + 46.0), GRID)?;
        for (i, (colour, text)) in [
            (BLUE, "σ(z) = 1 / (1 + e^(−z))"),
            (ORANGE, "σ′(z) = σ(z)·(1 − σ(z))"),
        ]
        .into_iter()
        .enumerate()
        {
            let y = ly + 28.0 * i as f64;
            p.polyline(&[(lx, y), (lx + 26.0, y)], colour, 3.0)?;
            p.text(text, (lx + 36.0, y), LABEL, HPos::Left)?;
        }

        for (v, text) in [
            (0.5, "σ(0) = 0.5"),
            (0.25, "σ′(0) = 0.25, its largest value"),
        ] {
            let (px, py) = f.at((0.0, v));
            p.dot((px, py), 5.0, INK)?;
            p.text(text, (px + 12.0, py - 14.0), LABEL, HPos::Left)?;
        }
        Ok(())
    }
}

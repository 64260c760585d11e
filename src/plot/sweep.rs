//! The sweep: test accuracy per epoch of several configurations, one line each, with a legend.
//!
//! What it is: the picture of what [`crate::sweep`] measured. What it is not: the sweep itself.

use super::chart::{
    Axis, Frame, accuracy_range, draw_axes, epoch_ticks, linear_ticks, min_max, tick_step,
};
use super::fonts::{Font, LABEL, TICK};
use super::format::{plural, tick_label, tick_label_step};
use super::painter::{Drawn, Figure, Painter, Xy};
use super::write::{plot_error, write_figure};
use crate::error::Result;
use plotters::prelude::*;
use plotters::style::text_anchor::HPos;
use std::path::Path;

/// One configuration of a sweep, as [`sweep`] draws it.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepLine {
    /// What the configuration is, e.g. `784-128-64-10 relu adam`.
    pub label: String,
    /// The test accuracy after each epoch, `0..=1`, epoch 1 first.
    pub test_accuracy: Vec<f64>,
    /// The epoch chosen by validation accuracy, marked with a ring.
    pub best_epoch: Option<usize>,
}

/// Ten colours told apart easily (the "tab10" palette), for one line per configuration.
const TAB10: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Draws a sweep's test accuracy against the epoch, one line per configuration, each with its
/// epoch of best validation accuracy ringed, and a legend with each line's accuracy at that
/// epoch. 1240 pixels wide, at least 480 high (more for a long legend), PNG or SVG.
pub fn sweep(lines: &[SweepLine], path: &Path) -> Result<()> {
    if lines.is_empty() || lines.iter().any(|l| l.test_accuracy.is_empty()) {
        return Err(plot_error(
            path,
            "a sweep plot needs at least one configuration with at least one epoch",
        ));
    }
    write_figure(&Sweep { lines }, path)
}

struct Sweep<'a> {
    lines: &'a [SweepLine],
}

impl Sweep<'_> {
    const LEGEND_ROW: f64 = 22.0;
}

impl Figure for Sweep<'_> {
    fn size(&self) -> (u32, u32) {
        let legend = 110.0 + Self::LEGEND_ROW * self.lines.len() as f64;
        (1240, legend.max(480.0) as u32)
    }

    fn draw<DB: DrawingBackend>(&self, p: &Painter<'_, DB>) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        let (_, height) = self.size();
        let epochs = self
            .lines
            .iter()
            .map(|l| l.test_accuracy.len())
            .max()
            .unwrap_or(1);
        p.heading(
            1240.0,
            &format!(
                "Sweep: test accuracy of {} configuration{} over {epochs} epoch{}",
                self.lines.len(),
                plural(self.lines.len()),
                plural(epochs),
            ),
            "a ring marks each configuration's epoch of best validation accuracy; lines below the \
             range run along its bottom edge",
        )?;
        let points = |l: &SweepLine| -> Vec<Xy> {
            (l.test_accuracy.iter().enumerate())
                .map(|(e, &a)| ((e + 1) as f64, 100.0 * a))
                .collect()
        };
        // The y range: from the lowest accuracy after the first epoch (the first is often far
        // below, and would squash the rest) up to the highest, padded.
        let (lo, hi) = min_max(self.lines.iter().flat_map(|l| {
            let skip = usize::from(l.test_accuracy.len() > 2);
            l.test_accuracy[skip..].iter().map(|a| 100.0 * a)
        }));
        // Lines that failed (a network stuck near chance) would squash the others: the range
        // stops 8 points under the best, and lower lines run along the bottom edge.
        let lo = lo.max(hi - 8.0);
        let f = Frame {
            left: 82.0,
            top: 100.0,
            right: 700.0,
            bottom: height as f64 - 68.0,
            x: (0.5, epochs as f64 + 0.5),
            y: accuracy_range(lo, hi, 0.08, 0.2),
            log_y: false,
        };
        let x_ticks = epoch_ticks(1, epochs);
        let x_axis = Axis {
            ticks: &x_ticks,
            label: &tick_label,
            title: "epoch",
        };
        let y_ticks = linear_ticks(f.y.0, f.y.1, 8);
        let step = tick_step(&y_ticks);
        let y_axis = Axis {
            ticks: &y_ticks,
            label: &|v| tick_label_step(v, step),
            title: "test accuracy (%)",
        };
        draw_axes(p, &f, &x_axis, &y_axis)?;
        let legend_x = 730.0;
        p.text("configuration", (legend_x, 96.0), LABEL.bold(), HPos::Left)?;
        p.text("at best epoch", (1220.0, 96.0), TICK, HPos::Right)?;
        for (i, line) in self.lines.iter().enumerate() {
            let colour = TAB10[i % TAB10.len()];
            // Points below the range (the first epochs) are clipped at the bottom edge.
            let visible: Vec<Xy> = points(line)
                .into_iter()
                .map(|(x, y)| (x, y.max(f.y.0)))
                .collect();
            let screen: Vec<Xy> = visible.iter().map(|&xy| f.at(xy)).collect();
            p.polyline(&screen, colour, 2.0)?;
            if let Some(best) = line.best_epoch.filter(|&b| b >= 1 && b <= visible.len()) {
                let at = f.at(visible[best - 1]);
                p.dot(at, 5.5, colour)?;
                p.dot(at, 3.0, WHITE)?;
            }
            let y = 120.0 + Self::LEGEND_ROW * i as f64;
            p.polyline(&[(legend_x, y), (legend_x + 22.0, y)], colour, 3.0)?;
            p.text(&line.label, (legend_x + 30.0, y), TICK, HPos::Left)?;
            let at_best = line
                .best_epoch
                .and_then(|b| line.test_accuracy.get(b.wrapping_sub(1)))
                .or(line.test_accuracy.last());
            if let Some(a) = at_best {
                let font = Font::new(14.0, colour).bold();
                p.text(
                    &format!("{:.2}%", 100.0 * a),
                    (1220.0, y),
                    font,
                    HPos::Right,
                )?;
            }
        }
        Ok(())
    }
}

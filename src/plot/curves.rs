//! The learning curves: a training history's loss and accuracy per epoch, side by side.
//!
//! What it is: the picture of [`crate::history`]'s per-epoch records, the learning-rate stages
//! shaded behind both charts. What it is not: training; it reads a finished history.

use super::chart::{
    Axis, Frame, accuracy_range, draw_axes, epoch_ticks, line_with_dots, linear_ticks, log_ticks,
    min_max, tick_step,
};
use super::colours::{BAND, BLUE, GREEN, MUTED, ORANGE};
use super::fonts::{Font, LABEL};
use super::format::{plural, tick_label, tick_label_step};
use super::painter::{Drawn, Figure, Painter, Xy};
use super::write::{plot_error, write_figure};
use crate::error::Result;
use crate::history::EpochRecord;
use plotters::prelude::*;
use plotters::style::text_anchor::HPos;
use std::path::Path;

/// Draws the learning curves of a training history: the training loss per epoch (log scale) on
/// the left, the test accuracy per epoch (and the validation accuracy, if the history has it) on
/// the right, with the learning-rate stages shaded.
/// 1000 × 440 pixels, PNG or SVG.
///
/// ```no_run
/// # fn main() -> ziffer::Result<()> {
/// let model = ziffer::model_file::load("models/ziffer.safetensors".as_ref())?;
/// ziffer::plot::curves(&model.training.history, "curves.png".as_ref())?;
/// # Ok(())
/// # }
/// ```
pub fn curves(history: &[EpochRecord], path: &Path) -> Result<()> {
    if history.is_empty() {
        return Err(plot_error(
            path,
            "the model has no training history to draw; train it first (ziffer train)",
        ));
    }
    write_figure(&Curves { history }, path)
}

struct Curves<'a> {
    history: &'a [EpochRecord],
}

/// A stretch of epochs with one learning rate.
struct Stage {
    first: usize,
    last: usize,
    lr: f32,
}

fn stages(history: &[EpochRecord]) -> Vec<Stage> {
    let mut stages: Vec<Stage> = Vec::new();
    for r in history {
        match stages.last_mut() {
            Some(s) if s.lr == r.lr && s.last + 1 == r.epoch => s.last = r.epoch,
            _ => stages.push(Stage {
                first: r.epoch,
                last: r.epoch,
                lr: r.lr,
            }),
        }
    }
    stages
}

impl Figure for Curves<'_> {
    fn size(&self) -> (u32, u32) {
        (1000, 440)
    }

    fn draw<DB: DrawingBackend>(&self, p: &Painter<'_, DB>) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        let h = self.history;
        let last = h.last().expect("curves checks the history is not empty");
        p.heading(
            1000.0,
            &format!(
                "Learning curves: {} epoch{}, test accuracy {:.2}%",
                h.len(),
                plural(h.len()),
                100.0 * last.test_accuracy
            ),
            "",
        )?;
        let x = (h[0].epoch as f64 - 0.5, last.epoch as f64 + 0.5);
        let x_ticks = epoch_ticks(h[0].epoch, last.epoch);
        let x_axis = Axis {
            ticks: &x_ticks,
            label: &tick_label,
            title: "epoch",
        };
        let stages = stages(h);

        // Training loss, log scale.
        let losses: Vec<Xy> = h
            .iter()
            .filter(|r| r.train_loss.is_finite() && r.train_loss > 0.0)
            .map(|r| (r.epoch as f64, r.train_loss as f64))
            .collect();
        let (lo, hi) = min_max(losses.iter().map(|&(_, l)| l));
        let y = if losses.is_empty() {
            (0.01, 1.0)
        } else {
            (lo / 1.4, hi * 1.4)
        };
        let f = Frame {
            left: 82.0,
            top: 100.0,
            right: 474.0,
            bottom: 372.0,
            x,
            y,
            log_y: true,
        };
        let loss_ticks = log_ticks(y.0, y.1);
        let loss_axis = Axis {
            ticks: &loss_ticks,
            label: &tick_label,
            title: "",
        };
        chart_panel(p, &f, "Training loss (log scale)", &stages)?;
        draw_axes(p, &f, &x_axis, &loss_axis)?;
        line_with_dots(p, &f, &losses, BLUE)?;
        if let Some(&(e, l)) = losses.last() {
            let (px, py) = f.at((e, l));
            let font = Font::new(14.0, BLUE).bold();
            p.text(&format!("{l:.4}"), (px - 2.0, py - 18.0), font, HPos::Right)?;
        }

        // Test accuracy, and validation accuracy if there is a validation set, in percent.
        let accuracies: Vec<Xy> = h
            .iter()
            .map(|r| (r.epoch as f64, 100.0 * r.test_accuracy))
            .collect();
        let validation: Vec<Xy> = h
            .iter()
            .filter_map(|r| Some((r.epoch as f64, 100.0 * r.validation_accuracy?)))
            .collect();
        let (lo, hi) = min_max(accuracies.iter().chain(&validation).map(|&(_, a)| a));
        let f = Frame {
            left: 582.0,
            right: 974.0,
            y: accuracy_range(lo, hi, 0.12, 0.3),
            log_y: false,
            ..f
        };
        let accuracy_ticks = linear_ticks(f.y.0, f.y.1, 7);
        let step = tick_step(&accuracy_ticks);
        let accuracy_axis = Axis {
            ticks: &accuracy_ticks,
            label: &|v| tick_label_step(v, step),
            title: "",
        };
        let title = if validation.is_empty() {
            "Test accuracy (%)"
        } else {
            "Validation and test accuracy (%)"
        };
        chart_panel(p, &f, title, &stages)?;
        draw_axes(p, &f, &x_axis, &accuracy_axis)?;
        if !validation.is_empty() {
            line_with_dots(p, &f, &validation, ORANGE)?;
            let key = |text: &str, colour: RGBColor, y: f64| -> Drawn {
                p.polyline(&[(f.right - 110.0, y), (f.right - 92.0, y)], colour, 2.5)?;
                p.text(
                    text,
                    (f.right - 86.0, y),
                    Font::new(13.0, colour),
                    HPos::Left,
                )
            };
            key("validation", ORANGE, f.bottom - 34.0)?;
            key("test", GREEN, f.bottom - 16.0)?;
        }
        line_with_dots(p, &f, &accuracies, GREEN)?;
        if let Some(&(e, a)) = accuracies.last() {
            let (px, py) = f.at((e, a));
            let font = Font::new(14.0, GREEN).bold();
            p.text(
                &format!("{a:.2}%"),
                (px - 2.0, py + 20.0),
                font,
                HPos::Right,
            )?;
        }
        Ok(())
    }
}

/// A chart's title, and the learning-rate stages as bands behind it (every other one shaded,
/// each labelled `η = ...` where the label fits), when there is more than one stage.
fn chart_panel<DB: DrawingBackend>(
    p: &Painter<'_, DB>,
    f: &Frame,
    title: &str,
    stages: &[Stage],
) -> Drawn
where
    DB::ErrorType: 'static,
{
    let centre = (f.left + f.right) / 2.0;
    p.text(title, (centre, f.top - 20.0), LABEL.bold(), HPos::Center)?;
    if stages.len() < 2 {
        return Ok(());
    }
    let small = Font::new(13.0, MUTED);
    for (i, s) in stages.iter().enumerate() {
        let (left, right) = (f.x(s.first as f64 - 0.5), f.x(s.last as f64 + 0.5));
        if i % 2 == 1 {
            p.fill((left, f.top), (right, f.bottom), BAND)?;
        }
        let (long, short) = (format!("η = {}", s.lr), format!("{}", s.lr));
        for label in [long, short] {
            if p.width(&label, small)? + 6.0 < right - left {
                p.text(
                    &label,
                    ((left + right) / 2.0, f.top + 13.0),
                    small,
                    HPos::Center,
                )?;
                break;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learning_rate_stages_are_runs_of_equal_rates() {
        let record = |epoch, lr| EpochRecord {
            epoch,
            lr,
            train_loss: 0.1,
            validation_accuracy: None,
            test_accuracy: 0.9,
            seconds: 1.0,
        };
        let h = [record(1, 3.0), record(2, 3.0), record(3, 0.3)];
        let s = stages(&h);
        assert_eq!((s.len(), s[0].first, s[0].last, s[1].first), (2, 1, 2, 3));
    }
}

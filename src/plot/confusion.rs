//! The confusion matrix: a heat map of true against predicted class, with the count in each cell.
//!
//! What it is: the picture of an [`Evaluation`] from [`crate::metrics`]. What it is not: the
//! counting; the matrix arrives computed.

use super::class_names::{check_class_names, named};
use super::colours::{BLUES, INK, ORANGES, colour_map, is_dark};
use super::fonts::{Font, LABEL, TICK};
use super::format::thousands;
use super::painter::{Drawn, Figure, Painter};
use super::write::write_figure;
use crate::data::CLASSES;
use crate::error::Result;
use crate::metrics::Evaluation;
use plotters::prelude::*;
use plotters::style::text_anchor::HPos;
use std::path::Path;

/// Draws the confusion matrix as a heat map with the count in every cell: rows are the true
/// digits, columns the network's answers; the diagonal (read right) in blue, the mistakes in
/// orange (darker for more), and each row's accuracy on the right. 720 × 690 pixels, PNG or SVG.
///
/// Every count is drawn as text centred on its cell: in the column of its column's digit and the
/// row of its row's digit, so a reader (or a test, on the SVG) can read it back.
///
/// `classes` names the rows: for classes other than the digits, each row is labelled with its
/// name, and the columns keep the class numbers.
pub fn confusion(evaluation: &Evaluation, classes: &[String], path: &Path) -> Result<()> {
    check_class_names(classes, path)?;
    write_figure(
        &Confusion {
            e: evaluation,
            classes,
        },
        path,
    )
}

struct Confusion<'a> {
    e: &'a Evaluation,
    classes: &'a [String],
}

impl Figure for Confusion<'_> {
    fn size(&self) -> (u32, u32) {
        (720, 690)
    }

    fn draw<DB: DrawingBackend>(&self, p: &Painter<'_, DB>) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        let e = self.e;
        let (cell, gx, gy) = (52.0, 112.0, 100.0);
        let grid = cell * CLASSES as f64;
        p.heading(
            720.0,
            &format!(
                "Confusion matrix: {:.2}% of {} images read right",
                100.0 * e.accuracy(),
                thousands(e.total())
            ),
            if named(self.classes) {
                "each row is a true class, each column (numbered as the rows) what the network read it as"
            } else {
                "each row is a true digit, each column what the network read it as"
            },
        )?;
        let max_wrong = (0..CLASSES)
            .flat_map(|t| (0..CLASSES).filter(move |&q| q != t).map(move |q| (t, q)))
            .map(|(t, q)| e.confusion[t][q])
            .max()
            .unwrap_or(0)
            .max(1);
        let per_class = e.per_class_accuracy();
        for (t, row) in e.confusion.iter().enumerate() {
            let y0 = gy + t as f64 * cell;
            let cy = y0 + cell / 2.0;
            for (q, &count) in row.iter().enumerate() {
                let x0 = gx + q as f64 * cell;
                let colour = if t == q {
                    colour_map(&BLUES, 0.35 + 0.5 * per_class[t].unwrap_or(0.0))
                } else if count == 0 {
                    RGBColor(250, 250, 251)
                } else {
                    let share = (count as f64 / max_wrong as f64).sqrt();
                    colour_map(&ORANGES, 0.12 + 0.58 * share)
                };
                p.fill(
                    (x0 + 1.0, y0 + 1.0),
                    (x0 + cell - 1.0, y0 + cell - 1.0),
                    colour,
                )?;
                let font = match (count, is_dark(colour)) {
                    (0, _) => Font::new(15.0, RGBColor(196, 200, 206)),
                    (_, true) => Font::new(15.0, WHITE),
                    (_, false) => Font::new(15.0, INK),
                };
                let font = if t == q { font.bold() } else { font };
                p.text(
                    &count.to_string(),
                    (x0 + cell / 2.0, cy),
                    font,
                    HPos::Center,
                )?;
            }
            // The row's digit (or name and number) on the left, its accuracy on the right.
            if named(self.classes) {
                let label = format!("{} {t}", self.classes[t]);
                p.text(&label, (gx - 6.0, cy), TICK, HPos::Right)?;
            } else {
                p.text(&t.to_string(), (gx - 16.0, cy), LABEL.bold(), HPos::Center)?;
            }
            let accuracy = match per_class[t] {
                Some(a) => format!("{:.1}%", 100.0 * a),
                None => "–".to_string(),
            };
            p.text(&accuracy, (gx + grid + 12.0, cy), TICK, HPos::Left)?;
        }
        for q in 0..CLASSES {
            let cx = gx + q as f64 * cell + cell / 2.0;
            p.text(
                &q.to_string(),
                (cx, gy + grid + 16.0),
                LABEL.bold(),
                HPos::Center,
            )?;
        }
        let (centre, middle) = (gx + grid / 2.0, gy + grid / 2.0);
        p.text(
            "predicted digit",
            (centre, gy + grid + 46.0),
            LABEL,
            HPos::Center,
        )?;
        p.text_up("true digit", (gx - 52.0, middle), LABEL)?;
        p.text("accuracy", (gx + grid + 12.0, gy - 14.0), TICK, HPos::Left)?;
        Ok(())
    }
}

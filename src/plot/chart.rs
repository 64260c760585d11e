//! Charts: a plotting box that maps data to logical pixels, its axes, and where ticks go.
//!
//! What it is: the parts the learning curves, the sweep and the sigmoid share: [`Frame`],
//! [`Axis`], [`draw_axes`], round tick values on linear, logarithmic and epoch axes, and the
//! padded range of an accuracy axis. What it is not: any one chart; each picture lays out its
//! own.

use super::colours::{GRID, MUTED};
use super::fonts::{LABEL, TICK};
use super::painter::{Drawn, Painter, Xy};
use plotters::prelude::*;
use plotters::style::text_anchor::HPos;

/// A chart's plotting box in logical pixels and the data ranges it maps to it.
pub(super) struct Frame {
    pub(super) left: f64,
    pub(super) top: f64,
    pub(super) right: f64,
    pub(super) bottom: f64,
    pub(super) x: (f64, f64),
    pub(super) y: (f64, f64),
    /// A logarithmic `y` axis.
    pub(super) log_y: bool,
}

impl Frame {
    pub(super) fn x(&self, v: f64) -> f64 {
        self.left + (v - self.x.0) / (self.x.1 - self.x.0) * (self.right - self.left)
    }

    pub(super) fn y(&self, v: f64) -> f64 {
        let f = if self.log_y {
            (v.ln() - self.y.0.ln()) / (self.y.1.ln() - self.y.0.ln())
        } else {
            (v - self.y.0) / (self.y.1 - self.y.0)
        };
        self.bottom - f * (self.bottom - self.top)
    }

    pub(super) fn at(&self, (x, y): Xy) -> Xy {
        (self.x(x), self.y(y))
    }
}

/// One axis of a chart: where its ticks are, how they read, and its title.
pub(super) struct Axis<'a> {
    pub(super) ticks: &'a [f64],
    pub(super) label: &'a dyn Fn(f64) -> String,
    pub(super) title: &'a str,
}

/// Grid lines at the ticks, the two axes, the tick labels and the axis titles.
pub(super) fn draw_axes<DB: DrawingBackend>(
    p: &Painter<'_, DB>,
    f: &Frame,
    x: &Axis,
    y: &Axis,
) -> Drawn
where
    DB::ErrorType: 'static,
{
    for &t in y.ticks {
        let py = f.y(t);
        p.hline(f.left, f.right, py, GRID)?;
        p.text(&(y.label)(t), (f.left - 9.0, py), TICK, HPos::Right)?;
    }
    for &t in x.ticks {
        let px = f.x(t);
        p.vline(px, f.top, f.bottom, GRID)?;
        p.vline(px, f.bottom, f.bottom + 5.0, MUTED)?;
        p.text(&(x.label)(t), (px, f.bottom + 18.0), TICK, HPos::Center)?;
    }
    p.hline(f.left, f.right, f.bottom, MUTED)?;
    p.vline(f.left, f.top, f.bottom, MUTED)?;
    if !x.title.is_empty() {
        let centre = (f.left + f.right) / 2.0;
        p.text(x.title, (centre, f.bottom + 42.0), LABEL, HPos::Center)?;
    }
    if !y.title.is_empty() {
        let middle = (f.top + f.bottom) / 2.0;
        p.text_up(y.title, (f.left - 56.0, middle), LABEL)?;
    }
    Ok(())
}

/// About `n` round values (1, 2 or 5 times a power of ten apart) between `lo` and `hi`.
pub(super) fn linear_ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let raw = ((hi - lo) / n.max(1) as f64).max(1e-9);
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|&s| s >= raw)
        .unwrap_or(10.0 * magnitude);
    let mut ticks = Vec::new();
    let mut k = (lo / step).ceil();
    while k * step <= hi + step * 1e-9 {
        ticks.push(k * step);
        k += 1.0;
    }
    if ticks.is_empty() {
        ticks.push(lo);
    }
    ticks
}

/// 1, 2 and 5 times powers of ten between `lo` and `hi`, for a log axis.
pub(super) fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let mut ticks = Vec::new();
    let mut decade = 10f64.powf(lo.log10().floor());
    while decade <= hi {
        for m in [1.0, 2.0, 5.0] {
            let t = m * decade;
            if t >= lo && t <= hi {
                ticks.push(t);
            }
        }
        decade *= 10.0;
    }
    if ticks.len() < 2 {
        ticks = vec![lo, hi];
    }
    ticks
}

/// Round epoch numbers to label: the first, then every 1, 2, 5, 10, ... epochs, about 10 at most.
pub(super) fn epoch_ticks(first: usize, last: usize) -> Vec<f64> {
    let span = last - first + 1;
    let step = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]
        .into_iter()
        .find(|s| span / s <= 10)
        .unwrap_or(span.div_ceil(10));
    let mut ticks = vec![first as f64];
    let mut t = (first / step + 1) * step;
    while t <= last {
        // Skip a round tick too close to the first one to read.
        if step == 1 || t - first > step / 2 {
            ticks.push(t as f64);
        }
        t += step;
    }
    ticks
}

/// A series as a line with a dot on every point.
pub(super) fn line_with_dots<DB: DrawingBackend>(
    p: &Painter<'_, DB>,
    f: &Frame,
    points: &[Xy],
    colour: RGBColor,
) -> Drawn
where
    DB::ErrorType: 'static,
{
    let points: Vec<Xy> = points.iter().map(|&xy| f.at(xy)).collect();
    p.polyline(&points, colour, 2.5)?;
    let radius = if points.len() > 40 { 2.0 } else { 3.5 };
    for &xy in &points {
        p.dot(xy, radius, colour)?;
    }
    Ok(())
}

/// The smallest and the largest of `values`; `(∞, −∞)` when there are none.
pub(super) fn min_max(values: impl IntoIterator<Item = f64>) -> (f64, f64) {
    values
        .into_iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        })
}

/// An accuracy axis in percent around `lo..=hi`: padded by `share` of the span on each side (at
/// least `least` points), kept within `0..=100`.
pub(super) fn accuracy_range(lo: f64, hi: f64, share: f64, least: f64) -> (f64, f64) {
    let pad = ((hi - lo) * share).max(least);
    ((lo - pad).max(0.0), (hi + pad).min(100.0))
}

/// The step between evenly spaced `ticks` (1 for a single tick), for [`tick_label_step`].
///
/// [`tick_label_step`]: super::format::tick_label_step
pub(super) fn tick_step(ticks: &[f64]) -> f64 {
    ticks.get(1).map_or(1.0, |t| t - ticks[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_ticks_start_at_the_first_epoch_and_stay_few() {
        assert_eq!(epoch_ticks(1, 2), [1.0, 2.0]);
        assert_eq!(epoch_ticks(1, 28), [1.0, 5.0, 10.0, 15.0, 20.0, 25.0]);
        assert!(epoch_ticks(1, 1000).len() <= 11);
    }

    #[test]
    fn min_max_of_no_values_is_an_empty_range() {
        assert_eq!(min_max([3.0, -1.0, 2.0]), (-1.0, 3.0));
        assert_eq!(min_max([]), (f64::INFINITY, f64::NEG_INFINITY));
    }

    #[test]
    fn accuracy_ranges_are_padded_and_stay_within_0_and_100() {
        // A span of 10 padded by 12% each side; a flat line padded by the least.
        assert_eq!(accuracy_range(80.0, 90.0, 0.12, 0.3), (78.8, 91.2));
        assert_eq!(accuracy_range(50.0, 50.0, 0.12, 0.3), (49.7, 50.3));
        assert_eq!(accuracy_range(0.1, 99.9, 0.08, 0.2), (0.0, 100.0));
    }

    #[test]
    fn the_tick_step_is_the_distance_between_the_first_two_ticks() {
        assert_eq!(tick_step(&[90.0, 92.0, 94.0]), 2.0);
        assert_eq!(tick_step(&[42.0]), 1.0);
    }
}

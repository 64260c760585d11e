//! The painter: shapes and text on a plotters canvas, in logical pixels, and the [`Figure`]
//! trait every picture implements.
//!
//! What it is: the layer between a picture's layout (logical pixels, `y` down) and plotters'
//! backends (PNG pixels [`SUPERSAMPLE`](super::SUPERSAMPLE) times as many, or SVG). What it is
//! not: a chart library; axes live in [`super::chart`], files in [`super::write`].

use super::fonts::{FAMILY, Font, SUBTITLE, TITLE};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// What a drawing step returns: plotters' errors, whatever the backend, boxed.
pub(super) type Drawn = std::result::Result<(), Box<dyn std::error::Error>>;

/// A point in logical pixels: `(x, y)`, `y` down.
pub(super) type Xy = (f64, f64);

/// Draws shapes and text on a canvas, in logical pixels scaled by `k` to the backend's.
pub(super) struct Painter<'a, DB: DrawingBackend> {
    pub(super) area: &'a DrawingArea<DB, Shift>,
    /// Backend pixels per logical pixel: [`SUPERSAMPLE`](super::SUPERSAMPLE) for PNG, 1 for SVG.
    pub(super) k: f64,
    /// On a bitmap, plotters' embedded-font renderer puts the baseline, not the middle of the
    /// digits, at a centred text's `y`; a bitmap's text moves down by a fifth of its size to be
    /// centred. SVG centres text itself (`dy="0.5ex"`).
    pub(super) raster: bool,
}

impl<DB: DrawingBackend> Painter<'_, DB>
where
    DB::ErrorType: 'static,
{
    fn at(&self, (x, y): Xy) -> (i32, i32) {
        ((x * self.k).round() as i32, (y * self.k).round() as i32)
    }

    fn style(&self, font: Font, h: HPos) -> TextStyle<'static> {
        let style = if font.bold {
            FontStyle::Bold
        } else {
            FontStyle::Normal
        };
        TextStyle {
            font: (FAMILY, font.size * self.k, style).into_font(),
            color: font.colour.to_backend_color(),
            pos: Pos::new(h, VPos::Center),
        }
    }

    fn nudge(&self, font: Font) -> f64 {
        if self.raster { 0.2 * font.size } else { 0.0 }
    }

    /// `text` centred vertically on `y`, and horizontally as `h` says.
    pub(super) fn text(&self, text: &str, (x, y): Xy, font: Font, h: HPos) -> Drawn {
        let at = self.at((x, y + self.nudge(font)));
        self.area
            .draw(&Text::new(text.to_string(), at, self.style(font, h)))?;
        Ok(())
    }

    /// `text` turned a quarter anticlockwise, centred on `(x, y)`: a vertical axis title.
    pub(super) fn text_up(&self, text: &str, (x, y): Xy, font: Font) -> Drawn {
        let at = self.at((x + self.nudge(font), y));
        let style = self
            .style(font, HPos::Center)
            .transform(FontTransform::Rotate270);
        self.area.draw(&Text::new(text.to_string(), at, style))?;
        Ok(())
    }

    /// Width of `text` in `font`, in logical pixels.
    pub(super) fn width(
        &self,
        text: &str,
        font: Font,
    ) -> std::result::Result<f64, Box<dyn std::error::Error>> {
        let (w, _) = self
            .area
            .estimate_text_size(text, &self.style(font, HPos::Left))?;
        Ok(w as f64 / self.k)
    }

    /// Pieces of text in their own fonts, one after another, centred on `(x, y)`.
    pub(super) fn text_runs(&self, runs: &[(String, Font)], (x, y): Xy) -> Drawn {
        let widths = runs
            .iter()
            .map(|(t, f)| self.width(t, *f))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let mut left = x - widths.iter().sum::<f64>() / 2.0;
        for ((t, f), w) in runs.iter().zip(widths) {
            self.text(t, (left, y), *f, HPos::Left)?;
            left += w;
        }
        Ok(())
    }

    /// The rectangle `[x0, x1) × [y0, y1)`, filled.
    pub(super) fn fill(&self, from: Xy, to: Xy, colour: RGBColor) -> Drawn {
        self.area.draw(&Rectangle::new(
            [self.at(from), self.at(to)],
            colour.filled(),
        ))?;
        Ok(())
    }

    /// A one-pixel line along the top edge of row `y` (snapped to whole pixels: crisp).
    pub(super) fn hline(&self, x0: f64, x1: f64, y: f64, colour: RGBColor) -> Drawn {
        let y = y.floor();
        self.fill((x0.floor(), y), (x1.floor() + 1.0, y + 1.0), colour)
    }

    /// A one-pixel vertical line in column `x` (snapped to whole pixels: crisp).
    pub(super) fn vline(&self, x: f64, y0: f64, y1: f64, colour: RGBColor) -> Drawn {
        let x = x.floor();
        self.fill((x, y0.floor()), (x + 1.0, y1.floor() + 1.0), colour)
    }

    /// A one-pixel outline just inside `[x0, x1) × [y0, y1)`.
    pub(super) fn frame(&self, (x0, y0): Xy, (x1, y1): Xy, colour: RGBColor) -> Drawn {
        self.hline(x0, x1 - 1.0, y0, colour)?;
        self.hline(x0, x1 - 1.0, y1 - 1.0, colour)?;
        self.vline(x0, y0, y1 - 1.0, colour)?;
        self.vline(x1 - 1.0, y0, y1 - 1.0, colour)
    }

    /// A line through `points`, `width` logical pixels wide.
    pub(super) fn polyline(&self, points: &[Xy], colour: RGBColor, width: f64) -> Drawn {
        let points: Vec<(i32, i32)> = points.iter().map(|&p| self.at(p)).collect();
        let width = (width * self.k).round().max(1.0) as u32;
        self.area
            .draw(&PathElement::new(points, colour.stroke_width(width)))?;
        Ok(())
    }

    /// A filled disc.
    pub(super) fn dot(&self, centre: Xy, radius: f64, colour: RGBColor) -> Drawn {
        let r = (radius * self.k).round() as u32;
        self.area
            .draw(&Circle::new(self.at(centre), r, colour.filled()))?;
        Ok(())
    }

    /// An arrow pointing right, from `x0` to `x1` at height `y`.
    pub(super) fn arrow(&self, x0: f64, x1: f64, y: f64, colour: RGBColor) -> Drawn {
        self.polyline(&[(x0, y), (x1 - 6.0, y)], colour, 2.5)?;
        let head = vec![(x1, y), (x1 - 11.0, y - 6.5), (x1 - 11.0, y + 6.5)];
        self.area.draw(&Polygon::new(
            head.into_iter().map(|p| self.at(p)).collect::<Vec<_>>(),
            colour.filled(),
        ))?;
        Ok(())
    }

    /// A title and a subtitle, centred at the top of a canvas `width` wide.
    pub(super) fn heading(&self, width: f64, title: &str, subtitle: &str) -> Drawn {
        self.text(title, (width / 2.0, 28.0), TITLE, HPos::Center)?;
        if !subtitle.is_empty() {
            self.text(subtitle, (width / 2.0, 56.0), SUBTITLE, HPos::Center)?;
        }
        Ok(())
    }
}

/// A picture: its size in logical pixels, and how to draw it on any plotters backend.
pub(super) trait Figure {
    fn size(&self) -> (u32, u32);

    fn draw<DB: DrawingBackend>(&self, p: &Painter<'_, DB>) -> Drawn
    where
        DB::ErrorType: 'static;

    /// Whether the figure may be written as SVG (grids of images may not).
    fn svg(&self) -> bool {
        true
    }

    /// Pixels copied as they are into the finished PNG (`rgb`, `width` pixels a row), after
    /// the supersampled drawing is shrunk: images shown pixel for pixel.
    fn pixels(&self, _rgb: &mut [u8], _width: u32) {}
}

//! Plots: pictures of the data and of what the network learnt, written as PNG (or SVG).
//!
//! What it is: presentation only. Each function draws numbers the library has already computed
//! (a training history, an [`Evaluation`], a data set and its predictions, a network's weights,
//! one image's activations) and writes them to a file. What it is not: training maths. Nothing
//! here changes a network or computes a metric; the figures read what [`crate::train`],
//! [`crate::metrics`] and [`crate::network`] produced.
//!
//! | function | picture | size in pixels |
//! | --- | --- | --- |
//! | [`digits`] | images of a data set with their labels | see [`grid_size`]: 64 digits, 1026 × 428 |
//! | [`curves`] | train loss and test accuracy per epoch | 1000 × 440 |
//! | [`confusion`] | the confusion matrix as a heat map with the counts | 720 × 690 |
//! | [`mistakes`] | the misread images, true and predicted label | see [`grid_size`] |
//! | [`weights`] | the first layer's weights, one image per neuron | see [`grid_size`] |
//! | [`sigmoid`] | `σ(z)` and `σ'(z)` over `z` in `[−8, 8]` | 820 × 480 |
//! | [`activations`] | every layer's activations for one image | 1000 × 480 |
//! | [`sweep`] | test accuracy per epoch of several configurations | 1240 × 480 or more |
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

use crate::activation::{sigmoid as sigma, sigmoid_prime_from_output};
use crate::data::{CLASSES, Dataset};
use crate::error::{Error, Result};
use crate::metrics::Evaluation;
use crate::network::{Network, argmax};
use crate::train::EpochRecord;
use image::ImageEncoder;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::fmt::Write as _;
use std::ops::Range;
use std::path::Path;

// ---- fonts ---------------------------------------------------------------------------------------

/// The family every text is drawn in; also what SVG files name, so that a browser without
/// DejaVu Sans uses its own sans-serif.
const FAMILY: &str = "sans-serif";
static DEJAVU_SANS: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");
static DEJAVU_SANS_BOLD: &[u8] = include_bytes!("../assets/fonts/DejaVuSans-Bold.ttf");

/// Registers the embedded fonts with plotters, once per process.
fn register_fonts() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let normal = plotters::style::register_font(FAMILY, FontStyle::Normal, DEJAVU_SANS);
        let bold = plotters::style::register_font(FAMILY, FontStyle::Bold, DEJAVU_SANS_BOLD);
        assert!(
            normal.is_ok() && bold.is_ok(),
            "the embedded DejaVu Sans fonts parse"
        );
    });
}

// ---- colours -------------------------------------------------------------------------------------

/// Text and axes.
const INK: RGBColor = RGBColor(33, 37, 41);
/// Secondary text: subtitles, tick labels.
const MUTED: RGBColor = RGBColor(108, 117, 125);
/// Grid lines and tile borders.
const GRID: RGBColor = RGBColor(226, 230, 234);
/// Shaded bands behind a chart.
const BAND: RGBColor = RGBColor(240, 242, 246);
/// The background around digit tiles.
const PAPER: RGBColor = RGBColor(244, 245, 247);
/// The first series (tab:blue).
const BLUE: RGBColor = RGBColor(31, 119, 180);
/// The second series and highlights (tab:orange).
const ORANGE: RGBColor = RGBColor(255, 127, 14);
/// Accuracy (tab:green).
const GREEN: RGBColor = RGBColor(44, 160, 44);
/// A wrong answer.
const WRONG: RGBColor = RGBColor(200, 30, 45);

/// Viridis (matplotlib's default colour map) at 0, 1/8, ..., 1: dark purple to yellow, in
/// evenly bright steps, readable in grey and by colour-blind readers.
const VIRIDIS: [(u8, u8, u8); 9] = [
    (68, 1, 84),
    (71, 44, 122),
    (59, 81, 139),
    (44, 113, 142),
    (33, 144, 141),
    (39, 173, 129),
    (92, 200, 99),
    (170, 220, 50),
    (253, 231, 37),
];

/// ColorBrewer RdBu reversed, from −1 (dark blue) through 0 (near white) to +1 (dark red).
const BLUE_WHITE_RED: [(u8, u8, u8); 11] = [
    (5, 48, 97),
    (33, 102, 172),
    (67, 147, 195),
    (146, 197, 222),
    (209, 229, 240),
    (247, 247, 247),
    (253, 219, 199),
    (244, 165, 130),
    (214, 96, 77),
    (178, 24, 43),
    (103, 0, 31),
];

/// ColorBrewer Blues, light to dark.
const BLUES: [(u8, u8, u8); 9] = [
    (247, 251, 255),
    (222, 235, 247),
    (198, 219, 239),
    (158, 202, 225),
    (107, 174, 214),
    (66, 146, 198),
    (33, 113, 181),
    (8, 81, 156),
    (8, 48, 107),
];

/// ColorBrewer Oranges, light to dark.
const ORANGES: [(u8, u8, u8); 9] = [
    (255, 245, 235),
    (254, 230, 206),
    (253, 208, 162),
    (253, 174, 107),
    (253, 141, 60),
    (241, 105, 19),
    (217, 72, 1),
    (166, 54, 3),
    (127, 39, 4),
];

/// The colour at `t` in `0..=1` along evenly spaced `stops`, linearly interpolated.
fn colour_map(stops: &[(u8, u8, u8)], t: f64) -> RGBColor {
    let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
    let x = t * (stops.len() - 1) as f64;
    let i = (x.floor() as usize).min(stops.len() - 2);
    let f = x - i as f64;
    let mix = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * f).round() as u8;
    let (a, b) = (stops[i], stops[i + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Viridis at `t` in `0..=1`.
fn viridis(t: f64) -> RGBColor {
    colour_map(&VIRIDIS, t)
}

/// Blue for negative, white for 0, red for positive: `t` in `−1..=1`, in 41 steps (the eye
/// sees no finer, and flat colour keeps the PNG small).
fn diverging(t: f64) -> RGBColor {
    let t = (t.clamp(-1.0, 1.0) * 20.0).round() / 20.0;
    colour_map(&BLUE_WHITE_RED, (t + 1.0) / 2.0)
}

/// A pixel `0..=255` (0 = background, 255 = ink) as dark ink on white paper.
fn ink(p: u8) -> RGBColor {
    let t = p as f64 / 255.0;
    let mix = |paper: f64, ink: f64| (paper + (ink - paper) * t).round() as u8;
    RGBColor(mix(255.0, 17.0), mix(255.0, 20.0), mix(255.0, 28.0))
}

/// Whether text on `c` should be white rather than dark (by the colour's perceived lightness).
fn is_dark(c: RGBColor) -> bool {
    0.299 * f64::from(c.0) + 0.587 * f64::from(c.1) + 0.114 * f64::from(c.2) < 150.0
}

// ---- drawing ---------------------------------------------------------------------------------------

/// What a drawing step returns: plotters' errors, whatever the backend, boxed.
type Drawn = std::result::Result<(), Box<dyn std::error::Error>>;

/// A point in logical pixels: `(x, y)`, `y` down.
type Xy = (f64, f64);

/// A PNG is drawn at this many times its size, then each block of `SUPERSAMPLE × SUPERSAMPLE`
/// pixels is averaged into one.
pub const SUPERSAMPLE: u32 = 3;

/// A text style: size in plotters' units (about 1.16 × the em size), colour, weight.
#[derive(Debug, Clone, Copy)]
struct Font {
    size: f64,
    colour: RGBColor,
    bold: bool,
}

impl Font {
    const fn new(size: f64, colour: RGBColor) -> Self {
        Font {
            size,
            colour,
            bold: false,
        }
    }

    const fn bold(self) -> Self {
        Font { bold: true, ..self }
    }

    const fn colour(self, colour: RGBColor) -> Self {
        Font { colour, ..self }
    }
}

const TITLE: Font = Font::new(22.0, INK).bold();
const SUBTITLE: Font = Font::new(15.0, MUTED);
const LABEL: Font = Font::new(15.0, INK);
const TICK: Font = Font::new(14.0, MUTED);

/// Draws shapes and text on a canvas, in logical pixels scaled by `k` to the backend's.
struct Painter<'a, DB: DrawingBackend> {
    area: &'a DrawingArea<DB, Shift>,
    /// Backend pixels per logical pixel: [`SUPERSAMPLE`] for PNG, 1 for SVG.
    k: f64,
    /// On a bitmap, plotters' embedded-font renderer puts the baseline, not the middle of the
    /// digits, at a centred text's `y`; a bitmap's text moves down by a fifth of its size to be
    /// centred. SVG centres text itself (`dy="0.5ex"`).
    raster: bool,
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
    fn text(&self, text: &str, (x, y): Xy, font: Font, h: HPos) -> Drawn {
        let at = self.at((x, y + self.nudge(font)));
        self.area
            .draw(&Text::new(text.to_string(), at, self.style(font, h)))?;
        Ok(())
    }

    /// `text` turned a quarter anticlockwise, centred on `(x, y)`: a vertical axis title.
    fn text_up(&self, text: &str, (x, y): Xy, font: Font) -> Drawn {
        let at = self.at((x + self.nudge(font), y));
        let style = self
            .style(font, HPos::Center)
            .transform(FontTransform::Rotate270);
        self.area.draw(&Text::new(text.to_string(), at, style))?;
        Ok(())
    }

    /// Width of `text` in `font`, in logical pixels.
    fn width(
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
    fn text_runs(&self, runs: &[(String, Font)], (x, y): Xy) -> Drawn {
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
    fn fill(&self, from: Xy, to: Xy, colour: RGBColor) -> Drawn {
        self.area.draw(&Rectangle::new(
            [self.at(from), self.at(to)],
            colour.filled(),
        ))?;
        Ok(())
    }

    /// A one-pixel line along the top edge of row `y` (snapped to whole pixels: crisp).
    fn hline(&self, x0: f64, x1: f64, y: f64, colour: RGBColor) -> Drawn {
        let y = y.floor();
        self.fill((x0.floor(), y), (x1.floor() + 1.0, y + 1.0), colour)
    }

    /// A one-pixel vertical line in column `x` (snapped to whole pixels: crisp).
    fn vline(&self, x: f64, y0: f64, y1: f64, colour: RGBColor) -> Drawn {
        let x = x.floor();
        self.fill((x, y0.floor()), (x + 1.0, y1.floor() + 1.0), colour)
    }

    /// A one-pixel outline just inside `[x0, x1) × [y0, y1)`.
    fn frame(&self, (x0, y0): Xy, (x1, y1): Xy, colour: RGBColor) -> Drawn {
        self.hline(x0, x1 - 1.0, y0, colour)?;
        self.hline(x0, x1 - 1.0, y1 - 1.0, colour)?;
        self.vline(x0, y0, y1 - 1.0, colour)?;
        self.vline(x1 - 1.0, y0, y1 - 1.0, colour)
    }

    /// A line through `points`, `width` logical pixels wide.
    fn polyline(&self, points: &[Xy], colour: RGBColor, width: f64) -> Drawn {
        let points: Vec<(i32, i32)> = points.iter().map(|&p| self.at(p)).collect();
        let width = (width * self.k).round().max(1.0) as u32;
        self.area
            .draw(&PathElement::new(points, colour.stroke_width(width)))?;
        Ok(())
    }

    /// A filled disc.
    fn dot(&self, centre: Xy, radius: f64, colour: RGBColor) -> Drawn {
        let r = (radius * self.k).round() as u32;
        self.area
            .draw(&Circle::new(self.at(centre), r, colour.filled()))?;
        Ok(())
    }

    /// An arrow pointing right, from `x0` to `x1` at height `y`.
    fn arrow(&self, x0: f64, x1: f64, y: f64, colour: RGBColor) -> Drawn {
        self.polyline(&[(x0, y), (x1 - 6.0, y)], colour, 2.5)?;
        let head = vec![(x1, y), (x1 - 11.0, y - 6.5), (x1 - 11.0, y + 6.5)];
        self.area.draw(&Polygon::new(
            head.into_iter().map(|p| self.at(p)).collect::<Vec<_>>(),
            colour.filled(),
        ))?;
        Ok(())
    }

    /// A title and a subtitle, centred at the top of a canvas `width` wide.
    fn heading(&self, width: f64, title: &str, subtitle: &str) -> Drawn {
        self.text(title, (width / 2.0, 28.0), TITLE, HPos::Center)?;
        if !subtitle.is_empty() {
            self.text(subtitle, (width / 2.0, 56.0), SUBTITLE, HPos::Center)?;
        }
        Ok(())
    }
}

/// A picture: its size in logical pixels, and how to draw it on any plotters backend.
trait Figure {
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

fn plot_error(path: &Path, message: impl Into<String>) -> Error {
    Error::Plot {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

fn is_svg(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("svg"))
}

/// Draws `figure` and writes it to `path`: SVG if the path ends in `.svg`, PNG otherwise.
fn write_figure(figure: &impl Figure, path: &Path) -> Result<()> {
    register_fonts();
    let (w, h) = figure.size();
    if is_svg(path) {
        if !figure.svg() {
            return Err(plot_error(
                path,
                "this picture is made of pixels and is written as PNG only; give a path ending \
                 in .png",
            ));
        }
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
            let painter = Painter {
                area: &root,
                k: 1.0,
                raster: false,
            };
            draw_then_present(figure, &painter).map_err(|e| plot_error(path, e.to_string()))?;
        }
        return write_file(path, svg.as_bytes());
    }
    let k = SUPERSAMPLE;
    let (big_w, big_h) = (w * k, h * k);
    let mut big = vec![255u8; big_w as usize * big_h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut big, (big_w, big_h)).into_drawing_area();
        let painter = Painter {
            area: &root,
            k: k as f64,
            raster: true,
        };
        draw_then_present(figure, &painter).map_err(|e| plot_error(path, e.to_string()))?;
    }
    let mut rgb = shrink(&big, w, h, k);
    figure.pixels(&mut rgb, w);
    write_png(path, w, h, &rgb)
}

fn draw_then_present<DB: DrawingBackend>(figure: &impl Figure, p: &Painter<'_, DB>) -> Drawn
where
    DB::ErrorType: 'static,
{
    p.area.fill(&WHITE)?;
    figure.draw(p)?;
    p.area.present()?;
    Ok(())
}

/// Averages each `k × k` block of an RGB image `k·w × k·h` into one pixel.
fn shrink(big: &[u8], w: u32, h: u32, k: u32) -> Vec<u8> {
    let (w, h, k) = (w as usize, h as usize, k as usize);
    let big_w = w * k;
    let mut out = vec![0u8; w * h * 3];
    let mut sums = vec![0u32; w * 3];
    for y in 0..h {
        sums.fill(0);
        for row in big[y * k * big_w * 3..(y + 1) * k * big_w * 3].chunks_exact(big_w * 3) {
            for (x, block) in row.chunks_exact(k * 3).enumerate() {
                for pixel in block.chunks_exact(3) {
                    for c in 0..3 {
                        sums[x * 3 + c] += pixel[c] as u32;
                    }
                }
            }
        }
        let n = (k * k) as u32;
        for (o, s) in out[y * w * 3..(y + 1) * w * 3].iter_mut().zip(&sums) {
            *o = ((s + n / 2) / n) as u8;
        }
    }
    out
}

/// Writes `bytes` to `path`, creating its folder if needed.
fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, "creating the folder", e))?;
    }
    std::fs::write(path, bytes).map_err(|e| Error::io(path, "writing the plot", e))
}

/// Encodes `w × h` RGB pixels as PNG (best compression: plots are mostly flat colour) and writes
/// them to `path`.
fn write_png(path: &Path, w: u32, h: u32, rgb: &[u8]) -> Result<()> {
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new_with_quality(
        &mut png,
        image::codecs::png::CompressionType::Best,
        image::codecs::png::FilterType::Adaptive,
    )
    .write_image(rgb, w, h, image::ExtendedColorType::Rgb8)
    .map_err(|e| plot_error(path, e.to_string()))?;
    write_file(path, &png)
}

/// `1234567` as `1,234,567`: counts as people read them, in plots and in the command's output.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

// ---- charts ----------------------------------------------------------------------------------------

/// A chart's plotting box in logical pixels and the data ranges it maps to it.
struct Frame {
    left: f64,
    top: f64,
    right: f64,
    bottom: f64,
    x: (f64, f64),
    y: (f64, f64),
    /// A logarithmic `y` axis.
    log_y: bool,
}

impl Frame {
    fn x(&self, v: f64) -> f64 {
        self.left + (v - self.x.0) / (self.x.1 - self.x.0) * (self.right - self.left)
    }

    fn y(&self, v: f64) -> f64 {
        let f = if self.log_y {
            (v.ln() - self.y.0.ln()) / (self.y.1.ln() - self.y.0.ln())
        } else {
            (v - self.y.0) / (self.y.1 - self.y.0)
        };
        self.bottom - f * (self.bottom - self.top)
    }

    fn at(&self, (x, y): Xy) -> Xy {
        (self.x(x), self.y(y))
    }
}

/// One axis of a chart: where its ticks are, how they read, and its title.
struct Axis<'a> {
    ticks: &'a [f64],
    label: &'a dyn Fn(f64) -> String,
    title: &'a str,
}

/// Grid lines at the ticks, the two axes, the tick labels and the axis titles.
fn draw_axes<DB: DrawingBackend>(p: &Painter<'_, DB>, f: &Frame, x: &Axis, y: &Axis) -> Drawn
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

/// A number as a tick label: as few decimals as a round value needs, and a true minus sign.
fn tick_label(v: f64) -> String {
    let decimals = if v == 0.0 || v.abs() >= 1.0 {
        0
    } else {
        (-v.abs().log10().floor()) as usize
    };
    format!("{:.*}", decimals.min(6), v).replace('-', "−")
}

/// `v` with as many decimals as the tick step `step` needs.
fn tick_label_step(v: f64, step: f64) -> String {
    let decimals = if step >= 1.0 {
        0
    } else {
        (-step.log10().floor()) as usize
    };
    format!("{v:.decimals$}").replace('-', "−")
}

/// About `n` round values (1, 2 or 5 times a power of ten apart) between `lo` and `hi`.
fn linear_ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
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
fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
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

// ---- learning curves -----------------------------------------------------------------------------

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

/// Round epoch numbers to label: the first, then every 1, 2, 5, 10, ... epochs, about 10 at most.
fn epoch_ticks(first: usize, last: usize) -> Vec<f64> {
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
                if h.len() == 1 { "" } else { "s" },
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
        let (lo, hi) = losses
            .iter()
            .fold((f64::INFINITY, 0f64), |(lo, hi), &(_, l)| {
                (lo.min(l), hi.max(l))
            });
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
        let (lo, hi) = accuracies
            .iter()
            .chain(&validation)
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &(_, a)| {
                (lo.min(a), hi.max(a))
            });
        let pad = ((hi - lo) * 0.12).max(0.3);
        let f = Frame {
            left: 582.0,
            right: 974.0,
            y: ((lo - pad).max(0.0), (hi + pad).min(100.0)),
            log_y: false,
            ..f
        };
        let accuracy_ticks = linear_ticks(f.y.0, f.y.1, 7);
        let step = accuracy_ticks.get(1).map_or(1.0, |t| t - accuracy_ticks[0]);
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

/// A series as a line with a dot on every point.
fn line_with_dots<DB: DrawingBackend>(
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

// ---- sweeps --------------------------------------------------------------------------------------

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
                if self.lines.len() == 1 { "" } else { "s" },
                if epochs == 1 { "" } else { "s" },
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
        let values: Vec<f64> = self
            .lines
            .iter()
            .flat_map(|l| {
                let skip = usize::from(l.test_accuracy.len() > 2);
                l.test_accuracy[skip..].iter().map(|a| 100.0 * a)
            })
            .collect();
        let (lo, hi) = values
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &a| {
                (lo.min(a), hi.max(a))
            });
        // Lines that failed (a network stuck near chance) would squash the others: the range
        // stops 8 points under the best, and lower lines run along the bottom edge.
        let lo = lo.max(hi - 8.0);
        let pad = ((hi - lo) * 0.08).max(0.2);
        let f = Frame {
            left: 82.0,
            top: 100.0,
            right: 700.0,
            bottom: height as f64 - 68.0,
            x: (0.5, epochs as f64 + 0.5),
            y: ((lo - pad).max(0.0), (hi + pad).min(100.0)),
            log_y: false,
        };
        let x_ticks = epoch_ticks(1, epochs);
        let x_axis = Axis {
            ticks: &x_ticks,
            label: &tick_label,
            title: "epoch",
        };
        let y_ticks = linear_ticks(f.y.0, f.y.1, 8);
        let step = y_ticks.get(1).map_or(1.0, |t| t - y_ticks[0]);
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

// ---- the sigmoid ---------------------------------------------------------------------------------

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

// ---- the confusion matrix ------------------------------------------------------------------------

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

// ---- grids of digits -----------------------------------------------------------------------------

/// Images per row in the grids of [`digits`], [`mistakes`] and [`weights`].
pub const GRID_COLUMNS: usize = 16;
/// Each image pixel becomes a `GRID_SCALE × GRID_SCALE` square (nearest neighbour).
pub const GRID_SCALE: u32 = 2;
const GRID_GAP: u32 = 6;
const GRID_MARGIN: u32 = 20;
const GRID_HEADER: u32 = 78;
const GRID_CAPTION: u32 = 22;
const GRID_MIN_WIDTH: u32 = 560;
const COLOUR_BAR_HEIGHT: u32 = 64;

/// The size in pixels of a grid of `count` images of `rows × cols` pixels, with a caption under
/// each image or not, and a colour bar under the grid or not: [`GRID_COLUMNS`] images a row,
/// each pixel drawn as a [`GRID_SCALE`] square, at least 560 wide. 64 MNIST digits with
/// captions: 1026 × 428.
pub fn grid_size(
    count: usize,
    (rows, cols): (usize, usize),
    captions: bool,
    colour_bar: bool,
) -> (u32, u32) {
    let columns = count.clamp(1, GRID_COLUMNS) as u32;
    let grid_rows = count.div_ceil(GRID_COLUMNS).max(1) as u32;
    let (tile_w, tile_h) = (cols as u32 * GRID_SCALE, rows as u32 * GRID_SCALE);
    let caption = if captions { GRID_CAPTION } else { 0 };
    let width = 2 * GRID_MARGIN + columns * tile_w + (columns - 1) * GRID_GAP;
    let height = GRID_HEADER
        + grid_rows * (tile_h + caption)
        + (grid_rows - 1) * GRID_GAP
        + GRID_MARGIN
        + if colour_bar { COLOUR_BAR_HEIGHT } else { 0 };
    (width.max(GRID_MIN_WIDTH), height)
}

/// One image of a grid: its pixels already coloured, row by row, and a caption in pieces.
struct Tile {
    pixels: Vec<RGBColor>,
    caption: Vec<(String, Font)>,
}

/// A grid of images under a title, shown pixel for pixel (nearest neighbour), as PNG.
struct Grid {
    title: String,
    subtitle: String,
    /// Pixels per image: `(rows, cols)`.
    shape: (usize, usize),
    tiles: Vec<Tile>,
    /// What to write where the grid would be when there is no tile.
    empty: &'static str,
    /// A blue-white-red bar explaining the colours: its three labels and a caption.
    colour_bar: Option<([&'static str; 3], &'static str)>,
}

impl Grid {
    fn captions(&self) -> bool {
        self.tiles.iter().any(|t| !t.caption.is_empty())
    }

    /// The top-left corner of each tile's pixels.
    fn origins(&self) -> Vec<(u32, u32)> {
        let (width, _) = self.size();
        let (rows, cols) = self.shape;
        let (tile_w, tile_h) = (cols as u32 * GRID_SCALE, rows as u32 * GRID_SCALE);
        let caption = if self.captions() { GRID_CAPTION } else { 0 };
        let columns = self.tiles.len().clamp(1, GRID_COLUMNS) as u32;
        let used = columns * tile_w + (columns - 1) * GRID_GAP;
        let left = (width - used) / 2;
        (0..self.tiles.len() as u32)
            .map(|i| {
                let (r, c) = (i / GRID_COLUMNS as u32, i % GRID_COLUMNS as u32);
                (
                    left + c * (tile_w + GRID_GAP),
                    GRID_HEADER + r * (tile_h + caption + GRID_GAP),
                )
            })
            .collect()
    }
}

impl Figure for Grid {
    fn size(&self) -> (u32, u32) {
        grid_size(
            self.tiles.len(),
            self.shape,
            self.captions(),
            self.colour_bar.is_some(),
        )
    }

    fn svg(&self) -> bool {
        false
    }

    fn draw<DB: DrawingBackend>(&self, p: &Painter<'_, DB>) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        let (w, h) = self.size();
        let (w, h) = (w as f64, h as f64);
        p.fill((0.0, 0.0), (w, h), PAPER)?;
        p.heading(w, &self.title, &self.subtitle)?;
        let (rows, cols) = self.shape;
        let (tile_w, tile_h) = (
            (cols as u32 * GRID_SCALE) as f64,
            (rows as u32 * GRID_SCALE) as f64,
        );
        for (tile, (x0, y0)) in self.tiles.iter().zip(self.origins()) {
            let (x0, y0) = (x0 as f64, y0 as f64);
            p.frame(
                (x0 - 1.0, y0 - 1.0),
                (x0 + tile_w + 1.0, y0 + tile_h + 1.0),
                GRID,
            )?;
            if !tile.caption.is_empty() {
                p.text_runs(&tile.caption, (x0 + tile_w / 2.0, y0 + tile_h + 11.0))?;
            }
        }
        if self.tiles.is_empty() {
            let y = GRID_HEADER as f64 + 28.0;
            p.text(self.empty, (w / 2.0, y), LABEL, HPos::Center)?;
        }
        if let Some((labels, caption)) = &self.colour_bar {
            let y = h - (GRID_MARGIN + COLOUR_BAR_HEIGHT) as f64 + 16.0;
            let (x0, bar_w) = (w / 2.0 - 150.0, 300.0);
            for i in 0..300 {
                let t = 2.0 * i as f64 / 299.0 - 1.0;
                let x = x0 + i as f64 * bar_w / 300.0;
                p.fill((x, y), (x + bar_w / 300.0, y + 12.0), diverging(t))?;
            }
            for (i, label) in labels.iter().enumerate() {
                let x = x0 + i as f64 * bar_w / 2.0;
                p.text(label, (x, y + 26.0), TICK, HPos::Center)?;
            }
            p.text(caption, (w / 2.0, y + 48.0), TICK, HPos::Center)?;
        }
        Ok(())
    }

    fn pixels(&self, rgb: &mut [u8], width: u32) {
        let (rows, cols) = self.shape;
        for (tile, (x0, y0)) in self.tiles.iter().zip(self.origins()) {
            debug_assert_eq!(tile.pixels.len(), rows * cols);
            for (i, c) in tile.pixels.iter().enumerate() {
                let (r, col) = ((i / cols) as u32, (i % cols) as u32);
                for dy in 0..GRID_SCALE {
                    for dx in 0..GRID_SCALE {
                        let x = x0 + col * GRID_SCALE + dx;
                        let y = y0 + r * GRID_SCALE + dy;
                        let at = (y as usize * width as usize + x as usize) * 3;
                        rgb[at..at + 3].copy_from_slice(&[c.0, c.1, c.2]);
                    }
                }
            }
        }
    }
}

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

/// Whether `classes` are names other than the digits, which then need a legend.
fn named(classes: &[String]) -> bool {
    !crate::data::classes::are_digits(classes)
}

/// `0 T-shirt/top · 1 Trouser · ...`: what the class numbers under a grid's images mean.
fn legend(classes: &[String]) -> String {
    let entries: Vec<String> = classes
        .iter()
        .enumerate()
        .map(|(c, name)| format!("{c} {name}"))
        .collect();
    entries.join(" · ")
}

/// Checks that there is one class name per class.
fn check_class_names(classes: &[String], path: &Path) -> Result<()> {
    if classes.len() != CLASSES {
        return Err(plot_error(
            path,
            format!("{} class names for {CLASSES} classes", classes.len()),
        ));
    }
    Ok(())
}

/// Draws the images `range` of `data` as a grid, each with its label under it, dark ink on
/// white as on paper, under `title`; for classes other than the digits, a legend under the title
/// names each label. PNG only; see [`grid_size`] for the size.
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
            pixels: data.image(i).iter().map(|&p| ink(p)).collect(),
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

/// Draws the images of `data` whose prediction is wrong (the first `limit` of them), each with
/// its true label and, in red, what the network read: `7 → 2`. `predictions` holds one predicted
/// class per image of `data` (as [`crate::metrics::predict_all`] returns them); for classes other
/// than the digits, a legend under the title names each number. Returns how many images were
/// wrong in all. PNG only; see [`grid_size`] for the size.
pub fn mistakes(
    data: &Dataset,
    predictions: &[u8],
    limit: usize,
    classes: &[String],
    path: &Path,
) -> Result<usize> {
    check_class_names(classes, path)?;
    if predictions.len() != data.len() {
        return Err(plot_error(
            path,
            format!(
                "{} predictions for {} images",
                predictions.len(),
                data.len()
            ),
        ));
    }
    let wrong: Vec<usize> = (0..data.len())
        .filter(|&i| predictions[i] != data.label(i))
        .collect();
    let shown = &wrong[..wrong.len().min(limit)];
    let arrow = Font::new(14.0, MUTED);
    let tiles = shown
        .iter()
        .map(|&i| Tile {
            pixels: data.image(i).iter().map(|&p| ink(p)).collect(),
            caption: vec![
                (data.label(i).to_string(), LABEL.bold()),
                (" → ".to_string(), arrow),
                (predictions[i].to_string(), LABEL.bold().colour(WRONG)),
            ],
        })
        .collect();
    let title = format!(
        "{} of {} images read wrong ({:.2}%)",
        thousands(wrong.len()),
        thousands(data.len()),
        100.0 * wrong.len() as f64 / data.len() as f64
    );
    let subtitle = if named(classes) {
        format!("true → read; {}", legend(classes))
    } else if shown.len() < wrong.len() {
        format!(
            "the first {} of them; under each, its true digit → what the network read",
            shown.len()
        )
    } else {
        "under each, its true digit → what the network read".to_string()
    };
    let grid = Grid {
        title,
        subtitle,
        shape: (data.rows(), data.cols()),
        tiles,
        empty: "every image is read right: nothing to show",
        colour_bar: None,
    };
    write_figure(&grid, path)?;
    Ok(wrong.len())
}

/// Draws what each neuron of the first layer looks for: its weights from the pixels, row `o` of
/// `W[1]`, as an image of the input's shape; blue where ink lowers the neuron's input, red where
/// ink raises it, each neuron scaled to its own largest `|w|`. The input must be a square image
/// (784 = 28 × 28). PNG only; see [`grid_size`] for the size (128 neurons: 1026 × 652).
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

// ---- activations ---------------------------------------------------------------------------------

/// Draws what every layer computes for one image: the input `x` (`A[0]`, values in `[0, 1]`,
/// `rows × cols` pixels), each hidden layer's activations `A[l]` as a block of squares, and the
/// output layer as bars, the largest (the network's answer) highlighted. `layers[l − 1]` is
/// `A[l]` for `l = 1..=L`, e.g. from [`crate::network::Workspace::activations`] after a forward
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

// ---- digits in a terminal ------------------------------------------------------------------------

/// The images `range` of `data` as text for a terminal: each image `cols` characters wide and
/// `rows / 2` lines high, a label line above it, `per_line` images side by side.
///
/// With `colour`, each character is an upper half block `▀` whose foreground is one pixel and
/// background the pixel under it, in the 256-colour palette's greys (white ink on black, as MNIST
/// stores it); without, one of ` .:-=+*#%@` for the inkier of each pair of pixels.
pub fn digits_terminal(
    data: &Dataset,
    range: Range<usize>,
    per_line: usize,
    colour: bool,
) -> String {
    let (rows, cols) = (data.rows(), data.cols());
    let indices: Vec<usize> = range.filter(|&i| i < data.len()).collect();
    let mut out = String::new();
    for chunk in indices.chunks(per_line.max(1)) {
        for (k, &i) in chunk.iter().enumerate() {
            let label = format!("#{i}: {}", data.label(i));
            let pad = cols.saturating_sub(label.chars().count());
            let gap = if k == 0 { "" } else { "  " };
            let _ = write!(
                out,
                "{gap}{}{label}{}",
                " ".repeat(pad / 2),
                " ".repeat(pad - pad / 2)
            );
        }
        out.push('\n');
        let images: Vec<Vec<String>> = chunk
            .iter()
            .map(|&i| terminal_lines(data.image(i), rows, cols, colour))
            .collect();
        for line in 0..rows.div_ceil(2) {
            let parts: Vec<&str> = images.iter().map(|lines| lines[line].as_str()).collect();
            out.push_str(&parts.join("  "));
            out.push('\n');
        }
    }
    out
}

/// One image as lines of text for a terminal, `rows / 2` lines of `cols` characters: with
/// `colour`, upper half blocks `▀` whose foreground is one pixel and background the pixel under
/// it, in the 256-colour palette's greys (white ink on black, as MNIST stores it; each line ends
/// by resetting the colours); without, one of ` .:-=+*#%@` for the inkier of each pair.
pub fn terminal_lines(image: &[u8], rows: usize, cols: usize, colour: bool) -> Vec<String> {
    let pixel = |r: usize, c: usize| if r < rows { image[r * cols + c] } else { 0 };
    (0..rows.div_ceil(2))
        .map(|line| {
            let mut out = String::new();
            let mut current = None;
            for c in 0..cols {
                let (upper, lower) = (pixel(2 * line, c), pixel(2 * line + 1, c));
                if colour {
                    // The colours are written only where they change.
                    let greys = (grey_256(upper), grey_256(lower));
                    if current != Some(greys) {
                        let _ = write!(out, "\x1b[38;5;{}m\x1b[48;5;{}m", greys.0, greys.1);
                        current = Some(greys);
                    }
                    out.push('▀');
                } else {
                    const RAMP: &[u8] = b" .:-=+*#%@";
                    let v = upper.max(lower) as usize;
                    out.push(RAMP[v * (RAMP.len() - 1) / 255] as char);
                }
            }
            if colour {
                out.push_str("\x1b[0m");
            }
            out
        })
        .collect()
}

/// The 256-colour palette's nearest grey to `v` (0 black .. 255 white): 16 is black, 231 white,
/// 232..=255 the 24 greys from 8 to 238 in steps of 10.
fn grey_256(v: u8) -> u8 {
    match v {
        0..=3 => 16,
        247..=255 => 231,
        _ => 232 + ((v as u32).saturating_sub(3) / 10).min(23) as u8,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(109386), "109,386");
        assert_eq!(thousands(100), "100");
        assert_eq!(thousands(1000000), "1,000,000");
    }

    #[test]
    fn colour_maps_hit_their_end_stops_and_clamp() {
        assert_eq!(viridis(0.0), RGBColor(68, 1, 84));
        assert_eq!(viridis(1.0), RGBColor(253, 231, 37));
        assert_eq!(viridis(7.0), viridis(1.0));
        assert_eq!(diverging(0.0), RGBColor(247, 247, 247));
        assert_eq!(diverging(-1.0), RGBColor(5, 48, 97));
        assert_eq!(ink(0), RGBColor(255, 255, 255));
    }

    #[test]
    fn greys_of_the_256_colour_palette_run_from_black_to_white() {
        assert_eq!(grey_256(0), 16);
        assert_eq!(grey_256(255), 231);
        assert_eq!(grey_256(128), 244);
        let mut previous = 232;
        for v in 4..247 {
            assert!((232..=255).contains(&grey_256(v)) && grey_256(v) >= previous);
            previous = grey_256(v);
        }
    }

    #[test]
    fn tick_labels_are_short_and_use_a_true_minus() {
        assert_eq!(tick_label(-8.0), "−8");
        assert_eq!(tick_label(0.002), "0.002");
        assert_eq!(tick_label(0.05), "0.05");
        assert_eq!(tick_label(10.0), "10");
    }

    #[test]
    fn epoch_ticks_start_at_the_first_epoch_and_stay_few() {
        assert_eq!(epoch_ticks(1, 2), [1.0, 2.0]);
        assert_eq!(epoch_ticks(1, 28), [1.0, 5.0, 10.0, 15.0, 20.0, 25.0]);
        assert!(epoch_ticks(1, 1000).len() <= 11);
    }

    #[test]
    fn a_grid_of_64_digits_is_16_wide_and_4_high() {
        // 16 × 56 pixels and 15 gaps of 6 between margins of 20; a header of 78, 4 rows of a
        // 56-pixel digit and its 22-pixel caption, 3 gaps of 6 and a margin of 20.
        assert_eq!(grid_size(64, (28, 28), true, false), (1026, 428));
        // A short row is centred in the minimum width.
        assert_eq!(grid_size(3, (28, 28), true, false).0, GRID_MIN_WIDTH);
    }

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

    #[test]
    fn terminal_digits_have_a_label_line_and_half_as_many_lines_as_rows() {
        let mut pixels = vec![0u8; 2 * 4 * 6];
        pixels[0] = 255;
        let data = Dataset::new(pixels, vec![3, 8], 4, 6, "test").unwrap();
        let text = digits_terminal(&data, 0..2, 2, false);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1 + 2);
        assert!(lines[0].contains("#0: 3") && lines[0].contains("#1: 8"));
        assert_eq!(lines[1], "@       ".to_string() + "      ");
        let coloured = digits_terminal(&data, 0..1, 1, true);
        assert!(coloured.contains("\x1b[38;5;231m\x1b[48;5;16m▀"));
    }
}

//! Fonts: DejaVu Sans, embedded in the binary, and the text styles every picture uses.
//!
//! What it is: the one font family, registered with plotters once per process, and [`Font`], a
//! size, colour and weight, with the four styles of titles, subtitles, labels and ticks. What it
//! is not: drawing; [`super::painter`] turns a [`Font`] into plotters' text style.

use super::colours::{INK, MUTED};
use plotters::prelude::*;

/// The family every text is drawn in; also what SVG files name, so that a browser without
/// DejaVu Sans uses its own sans-serif.
pub(super) const FAMILY: &str = "sans-serif";
static DEJAVU_SANS: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static DEJAVU_SANS_BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

/// Registers the embedded fonts with plotters, once per process.
pub(super) fn register_fonts() {
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

/// A text style: size in plotters' units (about 1.16 × the em size), colour, weight.
#[derive(Debug, Clone, Copy)]
pub(super) struct Font {
    pub(super) size: f64,
    pub(super) colour: RGBColor,
    pub(super) bold: bool,
}

impl Font {
    pub(super) const fn new(size: f64, colour: RGBColor) -> Self {
        Font {
            size,
            colour,
            bold: false,
        }
    }

    pub(super) const fn bold(self) -> Self {
        Font { bold: true, ..self }
    }

    pub(super) const fn colour(self, colour: RGBColor) -> Self {
        Font { colour, ..self }
    }
}

pub(super) const TITLE: Font = Font::new(22.0, INK).bold();
pub(super) const SUBTITLE: Font = Font::new(15.0, MUTED);
pub(super) const LABEL: Font = Font::new(15.0, INK);
pub(super) const TICK: Font = Font::new(14.0, MUTED);

//! Writing a figure to a file: SVG as plotters writes it, or PNG drawn at [`SUPERSAMPLE`] times
//! its size, shrunk and encoded.
//!
//! What it is: the one path from a [`Figure`] to the bytes on disk, and the typed error a plot
//! gives. What it is not: layout; every picture draws itself through a [`Painter`].

use super::fonts::register_fonts;
use super::painter::{Drawn, Figure, Painter};
use crate::error::{Error, Result};
use image::ImageEncoder;
use plotters::prelude::*;
use std::path::Path;

/// A PNG is drawn at this many times its size, then each block of `SUPERSAMPLE × SUPERSAMPLE`
/// pixels is averaged into one.
pub const SUPERSAMPLE: u32 = 3;

/// The typed error of a plot that cannot be drawn or written to `path`.
pub(super) fn plot_error(path: &Path, message: impl Into<String>) -> Error {
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
pub(super) fn write_figure(figure: &impl Figure, path: &Path) -> Result<()> {
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

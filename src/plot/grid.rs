//! A grid of images under a title, shown pixel for pixel: what [`digits`](fn@super::digits),
//! [`mistakes`](fn@super::mistakes) and [`weights`](fn@super::weights) draw.
//!
//! What it is: [`grid_size`], the grid's layout, and [`Grid`], a figure of coloured [`Tile`]s
//! with captions and an optional colour bar. What it is not: what the tiles show; each picture
//! colours its own.

use super::colours::{GRID, PAPER, diverging, ink};
use super::fonts::{Font, LABEL, TICK};
use super::painter::{Drawn, Figure, Painter};
use plotters::prelude::*;
use plotters::style::text_anchor::HPos;

/// Images per row in the grids of [`digits`](fn@super::digits),
/// [`mistakes`](fn@super::mistakes) and [`weights`](fn@super::weights).
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
pub(super) struct Tile {
    pub(super) pixels: Vec<RGBColor>,
    pub(super) caption: Vec<(String, Font)>,
}

/// An image's pixels `0..=255` as dark ink on white paper, for a [`Tile`].
pub(super) fn inked(image: &[u8]) -> Vec<RGBColor> {
    image.iter().map(|&p| ink(p)).collect()
}

/// A grid of images under a title, shown pixel for pixel (nearest neighbour), as PNG.
pub(super) struct Grid {
    pub(super) title: String,
    pub(super) subtitle: String,
    /// Pixels per image: `(rows, cols)`.
    pub(super) shape: (usize, usize),
    pub(super) tiles: Vec<Tile>,
    /// What to write where the grid would be when there is no tile.
    pub(super) empty: &'static str,
    /// A blue-white-red bar explaining the colours: its three labels and a caption.
    pub(super) colour_bar: Option<([&'static str; 3], &'static str)>,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grid_of_64_digits_is_16_wide_and_4_high() {
        // 16 × 56 pixels and 15 gaps of 6 between margins of 20; a header of 78, 4 rows of a
        // 56-pixel digit and its 22-pixel caption, 3 gaps of 6 and a margin of 20.
        assert_eq!(grid_size(64, (28, 28), true, false), (1026, 428));
        // A short row is centred in the minimum width.
        assert_eq!(grid_size(3, (28, 28), true, false).0, GRID_MIN_WIDTH);
    }
}

//! "User-style" digit images, made here rather than downloaded: what a person's scan, photo or
//! drawing of a digit looks like, for `tests/predict.rs` and `examples/user_images.rs` (both
//! include this file with `#[path]`).
//!
//! A digit is an ink map (0 paper .. 1 ink): an MNIST digit scaled up 5-15x ([`redrawn_mnist`]),
//! or a glyph of a font ([`font_digit`], in the example only). [`on_paper`] then puts it where a
//! person would: dark ink on tinted paper, off-centre on a larger canvas, under a lighting
//! gradient, blurred, with noise and a few specks of dirt; [`encode`] saves it as PNG or JPEG.
//! Every random choice comes from the `rng` passed in, so a seed gives the same images.

#![allow(dead_code)]

use image::imageops::{self, FilterType};
use image::{ImageBuffer, ImageFormat, Luma, Rgb, RgbImage};
use rand::{Rng, RngExt};
use rand_distr::{Distribution, Normal};
use std::io::Cursor;

/// An ink map: `width * height` values in `[0, 1]`, row after row, 1 = full ink.
pub struct Ink {
    pub width: u32,
    pub height: u32,
    pub data: Vec<f32>,
}

/// An MNIST digit (784 pixels, 255 = ink) scaled up by a random factor from 5 to 15, with
/// linear interpolation (the strokes stay smooth, as a pen's would).
pub fn redrawn_mnist(pixels: &[u8], rng: &mut impl Rng) -> Ink {
    let scale: f32 = rng.random_range(5.0..15.0);
    let side = (28.0 * scale).round() as u32;
    let digit = ImageBuffer::<Luma<f32>, Vec<f32>>::from_raw(
        28,
        28,
        pixels.iter().map(|&p| p as f32 / 255.0).collect(),
    )
    .expect("784 pixels");
    let big = imageops::resize(&digit, side, side, FilterType::Triangle);
    Ink {
        width: side,
        height: side,
        data: big
            .into_raw()
            .into_iter()
            .map(|v| v.clamp(0.0, 1.0))
            .collect(),
    }
}

/// The ink map of `digit` drawn with `font`, at a size of 80 to 240 pixels, slanted by up to
/// ±12°. `None` if the font has no glyph for it.
pub fn font_digit(font: &ab_glyph::FontVec, digit: u8, rng: &mut impl Rng) -> Option<Ink> {
    font_glyph(font, char::from(b'0' + digit), rng)
}

/// The ink map of any character, as [`font_digit`] draws digits.
pub fn font_glyph(font: &ab_glyph::FontVec, c: char, rng: &mut impl Rng) -> Option<Ink> {
    use ab_glyph::{Font, PxScale, point};
    let size: f32 = rng.random_range(80.0..240.0);
    let glyph = font
        .glyph_id(c)
        .with_scale_and_position(PxScale::from(size), point(0.0, 0.0));
    let outline = font.outline_glyph(glyph)?;
    let bounds = outline.px_bounds();
    let (w, h) = (bounds.width() as u32 + 1, bounds.height() as u32 + 1);
    let mut upright = Ink {
        width: w,
        height: h,
        data: vec![0.0; (w * h) as usize],
    };
    outline.draw(|x, y, coverage| {
        if x < w && y < h {
            upright.data[(y * w + x) as usize] = coverage.clamp(0.0, 1.0);
        }
    });
    let angle: f32 = rng.random_range(-12.0f32..12.0).to_radians();
    Some(rotate(&upright, angle))
}

/// `ink` turned by `angle` (radians, clockwise on screen) about its centre, on a canvas large
/// enough to hold it, by bilinear sampling.
pub fn rotate(ink: &Ink, angle: f32) -> Ink {
    let (w, h) = (ink.width as f32, ink.height as f32);
    let (sin, cos) = angle.sin_cos();
    let side = (w * w + h * h).sqrt().ceil() as u32 + 2;
    let (cx, cy) = (w / 2.0, h / 2.0);
    let c = side as f32 / 2.0;
    let mut data = vec![0.0; (side * side) as usize];
    for y in 0..side {
        for x in 0..side {
            // Where the output pixel comes from: the inverse rotation.
            let (dx, dy) = (x as f32 + 0.5 - c, y as f32 + 0.5 - c);
            let sx = cos * dx + sin * dy + cx - 0.5;
            let sy = -sin * dx + cos * dy + cy - 0.5;
            data[(y * side + x) as usize] = bilinear(ink, sx, sy);
        }
    }
    Ink {
        width: side,
        height: side,
        data,
    }
}

fn bilinear(ink: &Ink, x: f32, y: f32) -> f32 {
    let at = |x: i64, y: i64| {
        if x < 0 || y < 0 || x >= ink.width as i64 || y >= ink.height as i64 {
            0.0
        } else {
            ink.data[(y as u32 * ink.width + x as u32) as usize]
        }
    };
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let (x0, y0) = (x0 as i64, y0 as i64);
    let top = at(x0, y0) * (1.0 - fx) + at(x0 + 1, y0) * fx;
    let bottom = at(x0, y0 + 1) * (1.0 - fx) + at(x0 + 1, y0 + 1) * fx;
    top * (1.0 - fy) + bottom * fy
}

/// `ink` as a person would photograph or scan it:
///
/// - a canvas 1.2-2.2 times the digit's size each way, the digit placed anywhere on it;
/// - paper of level 190-250 with a tint (yellowish, bluish), ink of level 10-90 in a dark
///   colour (black, blue, brown);
/// - a lighting gradient in a random direction, dimming the far side by up to 40%;
/// - a Gaussian blur of up to 1.2% of the digit's size (focus, scanner), Gaussian noise of
///   standard deviation up to 8 levels, and up to 4 dark specks of 1-3 pixels radius.
pub fn on_paper(ink: &Ink, rng: &mut impl Rng) -> RgbImage {
    let cw = (ink.width as f32 * rng.random_range(1.2f32..2.2)) as u32;
    let ch = (ink.height as f32 * rng.random_range(1.2f32..2.2)) as u32;
    let ox = rng.random_range(0..=cw - ink.width);
    let oy = rng.random_range(0..=ch - ink.height);

    let level: f32 = rng.random_range(190.0..250.0);
    let paper = [
        level * rng.random_range(0.95..1.0),
        level * rng.random_range(0.93..1.0),
        level * rng.random_range(0.85..1.0),
    ];
    let ink_level: f32 = rng.random_range(10.0..90.0);
    let ink_colour = match rng.random_range(0..3) {
        0 => [ink_level; 3],
        1 => [ink_level * 0.5, ink_level * 0.6, ink_level * 1.8],
        _ => [ink_level * 1.5, ink_level, ink_level * 0.6],
    };
    let dim: f32 = rng.random_range(0.0..0.4);
    let (sin, cos) = rng.random_range(0.0f32..std::f32::consts::TAU).sin_cos();
    let diagonal = ((cw * cw + ch * ch) as f32).sqrt();

    let mut image = RgbImage::from_fn(cw, ch, |x, y| {
        let a = if (ox..ox + ink.width).contains(&x) && (oy..oy + ink.height).contains(&y) {
            ink.data[((y - oy) * ink.width + (x - ox)) as usize]
        } else {
            0.0
        };
        // Light falls from one side: 1 at the lit corner, 1 − dim at the far one.
        let along = (x as f32 * cos + y as f32 * sin) / diagonal;
        let light = 1.0 - dim * (along + 1.0) / 2.0;
        Rgb(std::array::from_fn(|c| {
            ((paper[c] * (1.0 - a) + ink_colour[c].min(255.0) * a) * light) as u8
        }))
    });

    for _ in 0..rng.random_range(0..=4) {
        let (sx, sy) = (rng.random_range(0..cw), rng.random_range(0..ch));
        let r: i64 = rng.random_range(1..=3);
        for dy in -r..=r {
            for dx in -r..=r {
                let (x, y) = (sx as i64 + dx, sy as i64 + dy);
                if dx * dx + dy * dy <= r * r && x >= 0 && y >= 0 && x < cw as i64 && y < ch as i64
                {
                    image.put_pixel(x as u32, y as u32, Rgb([40, 40, 40]));
                }
            }
        }
    }

    let sigma = rng.random_range(0.0..0.012) * ink.width.max(ink.height) as f32;
    if sigma > 0.3 {
        // Three box blurs, close to a Gaussian and much faster on large images.
        image = imageops::fast_blur(&image, sigma);
    }
    let noise = Normal::new(0.0f32, rng.random_range(0.0..8.0)).expect("a valid deviation");
    for v in image.iter_mut() {
        *v = (*v as f32 + noise.sample(rng)).round().clamp(0.0, 255.0) as u8;
    }
    image
}

/// How an image is saved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Png,
    /// JPEG at this quality (1-100).
    Jpeg(u8),
}

impl Format {
    /// PNG or JPEG with even odds; JPEG at a quality from 50 to 95.
    pub fn random(rng: &mut impl Rng) -> Format {
        if rng.random_bool(0.5) {
            Format::Png
        } else {
            Format::Jpeg(rng.random_range(50..=95))
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Png => "png",
            Format::Jpeg(_) => "jpg",
        }
    }
}

/// The file's bytes of `image` saved as `format`.
pub fn encode(image: &RgbImage, format: Format) -> Vec<u8> {
    let mut bytes = Vec::new();
    match format {
        Format::Png => image
            .write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png)
            .expect("PNG encodes"),
        Format::Jpeg(quality) => image
            .write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(
                &mut bytes, quality,
            ))
            .expect("JPEG encodes"),
    }
    bytes
}

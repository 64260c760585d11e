//! From a person's image to a 28x28 network input in MNIST form: the one path that `ziffer
//! predict`, the web page and the tests share.
//!
//! MNIST digits are light ink on a black field, their longer side scaled to 20 pixels (with
//! anti-aliasing, keeping the aspect ratio) and placed in 28x28 so that their centre of mass sits
//! at the centre. People's digits are dark ink on white paper, off-centre on a large canvas, under
//! uneven light, saved as JPEG. Resizing such an image to 28x28 gives the network a white field
//! with a thin grey smudge, which it reads as nothing it was trained on (see [`naive`], the
//! baseline the tests and `examples/user_images.rs` measure against). [`preprocess_gray`] brings
//! it to MNIST's form first, one named step after another:
//!
//! 1. [`decode`]: PNG, JPEG, BMP, GIF (first frame) or WebP, the format told by the content, with
//!    limits on width, height and memory so that a decompression bomb is a clear error, turned
//!    upright as a photo's EXIF orientation says;
//! 2. `grayscale_over_white`: luma, with transparency composited over white (as a page shows it);
//! 3. `working_copy`: images larger than [`WORK_SIDE`] are shrunk first, by area averaging;
//! 4. `border_median` and `ink_map`: if the background (the median of the border) is light,
//!    the image is inverted, so that ink is high and paper low as in MNIST;
//! 5. `remove_background`: a smooth surface fitted to the paper (uneven lighting) is
//!    subtracted, and what is not clearly above the paper's noise and faint marks (JPEG
//!    artefacts, texture) is cut away, the rest stretched to full strength;
//! 6. `remove_specks`: pieces of ink much smaller than the largest (dust, dots) are erased;
//! 7. `ink_bounding_box`: the crop, or "no digit found" when no ink is left;
//! 8. `fit_in_box`: the crop's longer side scaled to [`BOX`] pixels, keeping the aspect ratio,
//!    with a triangle (tent) filter, which anti-aliases as it shrinks;
//! 9. `centre_by_mass`: placed in [`SIDE`]x[`SIDE`] with its centre of mass at MNIST's.
//!
//! What it is not: the network. The result, [`Preprocessed`], is 784 `u8` pixels in the data
//! sets' representation (0 background .. 255 ink), plus what a person needs to see why a
//! prediction went wrong; [`crate::predict`] runs the network on it. Each step is a private
//! function of this file, with its own doc comment and the numbers behind its constants.

use crate::data::batch::normalise_pixel;
use crate::error::{Error, Result};
use image::imageops::{self, FilterType};
use image::metadata::Orientation;
use image::{
    DynamicImage, GrayImage, ImageBuffer, ImageDecoder, ImageError, ImageFormat, ImageReader, Luma,
};
use std::io::Cursor;
use std::path::Path;

/// Side of the network's input image, in pixels.
pub const SIDE: usize = 28;
/// Pixels per network input: `SIDE * SIDE` = 784.
pub const PIXELS: usize = SIDE * SIDE;
/// Side of the box the digit's longer side is scaled to, as MNIST was made.
pub const BOX: usize = 20;
/// Where the centre of mass is placed, as `(x, y)` pixel indices of the 28x28 image (row 0 at
/// the top): the mean centre of mass of the 10,000 MNIST test digits, measured by
/// `mnist_test_digits_are_centred_where_we_place_ours` below: x 14.008, y 13.993.
pub const CENTRE: (f32, f32) = (14.0, 14.0);

/// The widest image decoded, in pixels.
pub const MAX_WIDTH: u32 = 8192;
/// The tallest image decoded, in pixels.
pub const MAX_HEIGHT: u32 = 8192;
/// The most memory a decoder may allocate: 256 MiB, enough for a 48-megapixel RGB photo.
pub const MAX_ALLOC: u64 = 256 << 20;
/// Image files larger than this are refused before being read: 64 MiB.
pub const MAX_FILE_BYTES: u64 = 64 << 20;
/// Images whose longer side is longer are shrunk to this first: a digit drawn on a quarter of
/// such an image is still 256 pixels tall, far more than the 20 it ends as, and the steps after
/// work on at most a megapixel whatever the photo's size.
pub const WORK_SIDE: usize = 1024;

/// The formats [`decode`] reads, for messages.
pub const FORMATS: &str = "PNG, JPEG, BMP, GIF or WebP";

/// A border pixel median above this (0 black .. 1 white) means a light background: the image is
/// inverted.
pub const LIGHT_BACKGROUND: f32 = 0.5;
/// The faintest ink contrast accepted, as a fraction of full scale: below, the image counts as
/// blank (a photo of empty paper varies by less after its lighting is removed).
pub const MIN_CONTRAST: f32 = 0.1;
/// Ink fainter than this fraction of the ink's own contrast is cut away, whatever the noise:
/// JPEG ringing around strokes, paper texture and what is left of the lighting. Measured with
/// `examples/user_images.rs` and the default model, on the 2,000 redrawn digits (and on the
/// MNIST test set as it is): 0.15 reads 98.00% (98.02%), 0.2 98.00% (97.87%), 0.25 97.80%
/// (97.74%); earlier, on 1,000 digits, 0.1 read 97.5% and 0.35 97.2%. Of the two that tie, 0.2
/// leaves more margin above JPEG ringing and paper texture.
pub const INK_CUT: f32 = 0.2;
/// A piece of ink whose mass is under this fraction of the largest piece's is a speck, and
/// erased: a broken-off stroke of a digit (the bar of a 5) is rarely under a fifth of the rest,
/// a speck of dust far smaller.
pub const SPECK_MASS: f32 = 0.05;
/// A piece of ink whose longer side is under this fraction of the largest piece's is a speck
/// too, however dark: a blot of ink is small beside a digit, but can weigh more than a
/// twentieth of a digit drawn with a fine pen.
pub const SPECK_EXTENT: f32 = 0.15;
/// The smallest digit accepted: its longer side, as a fraction of the image's longer side
/// (and at least 3 pixels). Anything smaller is a dot, not a digit.
pub const MIN_DIGIT_FRACTION: f32 = 0.02;

/// An image brought to MNIST's form, and what was done to get there.
#[derive(Debug, Clone, PartialEq)]
pub struct Preprocessed {
    /// The network's input: 28x28 pixels, row after row, 0 background .. 255 ink (the data
    /// sets' representation, see [`crate::data`]).
    pub pixels: [u8; PIXELS],
    /// Width of the image as given (after turning it upright as its EXIF tag says).
    pub width: u32,
    /// Height of the image as given.
    pub height: u32,
    /// Whether the image was inverted (its background was light).
    pub inverted: bool,
    /// The median of the border pixels, 0 black .. 1 white, before any inversion.
    pub background: f32,
    /// How much the ink stands out from the background, 0 .. 1.
    pub contrast: f32,
    /// The fraction of the image's pixels that are ink, after cleaning.
    pub ink_fraction: f32,
    /// The number of specks erased.
    pub specks: usize,
    /// The digit's bounding box in the image as given.
    pub crop: Crop,
}

/// A rectangle of pixels: `x`, `y` of its top-left corner, then its size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Crop {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

impl Preprocessed {
    /// The pixels as network inputs in `[0, 1]` ([`normalise_pixel`]).
    pub fn inputs(&self) -> [f32; PIXELS] {
        self.pixels.map(normalise_pixel)
    }
}

/// Reads, decodes and preprocesses the image file at `path`.
pub fn load_image(path: &Path) -> Result<Preprocessed> {
    preprocess_bytes(&read_image_file(path)?, path)
}

/// Decodes and preprocesses an image held in memory (e.g. an upload); `name` is for messages.
pub fn preprocess_bytes(bytes: &[u8], name: &Path) -> Result<Preprocessed> {
    let image = decode(bytes, name)?;
    let (width, height) = (image.width() as usize, image.height() as usize);
    let gray = grayscale_over_white(image);
    preprocess_gray(&gray, width, height, name)
}

/// Preprocesses an already decoded grayscale image: `gray` holds `width * height` pixels, row
/// after row, 0 black .. 255 white (either polarity works: step 4 finds out); `name` is for
/// messages. The steps are those of the module's documentation, from step 3.
pub fn preprocess_gray(
    gray: &[u8],
    width: usize,
    height: usize,
    name: &Path,
) -> Result<Preprocessed> {
    if width == 0 || height == 0 {
        return Err(image_error(
            name,
            format!("the image has no pixels ({width}x{height})"),
        ));
    }
    if gray.len() != width * height {
        return Err(image_error(
            name,
            format!(
                "{width}x{height} pixels need {} bytes, found {}",
                width * height,
                gray.len()
            ),
        ));
    }
    let work = working_copy(gray, width, height);
    let background = border_median(&work);
    let inverted = background > LIGHT_BACKGROUND;
    let mut ink = ink_map(work, inverted);
    let contrast = remove_background(&mut ink).map_err(|message| no_digit(name, message))?;
    let specks = remove_specks(&mut ink);
    let bbox = ink_bounding_box(&ink).map_err(|message| no_digit(name, message))?;
    let boxed = fit_in_box(&crop(&ink, bbox));
    let pixels = centre_by_mass(&boxed);

    // The crop in the image as given: the working copy may be smaller.
    let sx = width as f32 / ink.width as f32;
    let sy = height as f32 / ink.height as f32;
    let crop = Crop {
        x: (bbox.x as f32 * sx) as u32,
        y: (bbox.y as f32 * sy) as u32,
        width: ((bbox.width as f32 * sx).round() as u32).max(1),
        height: ((bbox.height as f32 * sy).round() as u32).max(1),
    };
    let ink_pixels = ink.data.iter().filter(|&&v| v > 0.0).count();
    Ok(Preprocessed {
        pixels,
        width: width as u32,
        height: height as u32,
        inverted,
        background,
        contrast,
        ink_fraction: ink_pixels as f32 / ink.data.len() as f32,
        specks,
        crop,
    })
}

/// The baseline the preprocessing is measured against: the whole image resized to 28x28 (triangle
/// filter), grayscale, nothing else: no inversion, no cropping, no centring. Pixel values are
/// the image's own (255 = white), which the network reads as ink.
pub fn naive(bytes: &[u8], name: &Path) -> Result<[u8; PIXELS]> {
    let image = decode(bytes, name)?;
    let (width, height) = (image.width(), image.height());
    let gray = GrayImage::from_raw(width, height, grayscale_over_white(image))
        .expect("one byte per pixel");
    let small = imageops::resize(&gray, SIDE as u32, SIDE as u32, FilterType::Triangle);
    let mut pixels = [0; PIXELS];
    pixels.copy_from_slice(small.as_raw());
    Ok(pixels)
}

// ---- 1. decoding ------------------------------------------------------------------------------

/// Reads an image file whole, refusing files over [`MAX_FILE_BYTES`] and folders.
fn read_image_file(path: &Path) -> Result<Vec<u8>> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, "reading the image", e))?;
    if meta.is_dir() {
        return Err(image_error(path, "this is a folder, not an image file"));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(image_error(
            path,
            format!(
                "the file is {} MiB; ziffer reads image files of up to {} MiB",
                meta.len() >> 20,
                MAX_FILE_BYTES >> 20
            ),
        ));
    }
    std::fs::read(path).map_err(|e| Error::io(path, "reading the image", e))
}

/// The limits every decode runs under: [`MAX_WIDTH`], [`MAX_HEIGHT`], [`MAX_ALLOC`].
pub fn limits() -> image::Limits {
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_WIDTH);
    limits.max_image_height = Some(MAX_HEIGHT);
    limits.max_alloc = Some(MAX_ALLOC);
    limits
}

/// Decodes `bytes` as an image whose format is told by its first bytes (not by a file name),
/// under [`limits`], turned upright as its EXIF orientation tag says. Animated GIF and WebP give
/// their first frame.
pub fn decode(bytes: &[u8], name: &Path) -> Result<DynamicImage> {
    if bytes.is_empty() {
        return Err(image_error(name, "the file is empty"));
    }
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| image_error(name, e.to_string()))?;
    let Some(format) = reader.format() else {
        return Err(image_error(
            name,
            format!("this is not an image ziffer can read ({FORMATS})"),
        ));
    };
    if let Some((width, height)) = header_size(bytes, format) {
        if width == 0 || height == 0 {
            return Err(image_error(
                name,
                format!("the image has no pixels ({width}x{height})"),
            ));
        }
        if width > MAX_WIDTH as u64 || height > MAX_HEIGHT as u64 {
            return Err(image_error(
                name,
                too_large(&format!("{width}x{height} pixels")),
            ));
        }
    }
    reader.limits(limits());
    let image = decode_oriented(reader)
        .map_err(|e| image_error(name, describe_decode_error(e, bytes, format)))?;
    if image.width() == 0 || image.height() == 0 {
        return Err(image_error(
            name,
            format!(
                "the image has no pixels ({}x{})",
                image.width(),
                image.height()
            ),
        ));
    }
    Ok(image)
}

/// Decodes under the reader's limits and turns the image upright as its EXIF orientation says
/// (a phone photo taken upright is often stored sideways, with a tag saying so).
fn decode_oriented(reader: ImageReader<Cursor<&[u8]>>) -> image::ImageResult<DynamicImage> {
    let mut decoder = reader.into_decoder()?;
    // As `ImageReader::decode` does: the decoded pixels count towards the memory limit.
    limits().reserve(decoder.total_bytes())?;
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder)?;
    image.apply_orientation(orientation);
    Ok(image)
}

/// The width and height that a PNG, GIF or BMP header claims, read from their fixed places, so
/// that a zero or huge size gets the same message whichever decoder would have refused it.
/// `None` for other formats, or a header too short to hold them.
fn header_size(bytes: &[u8], format: ImageFormat) -> Option<(u64, u64)> {
    let field = |at: usize, len: usize| bytes.get(at..at + len);
    let be32 = |at| Some(u32::from_be_bytes(field(at, 4)?.try_into().ok()?) as u64);
    let le16 = |at| Some(u16::from_le_bytes(field(at, 2)?.try_into().ok()?) as u64);
    let le32 = |at| Some(i32::from_le_bytes(field(at, 4)?.try_into().ok()?).unsigned_abs() as u64);
    match format {
        // The signature (8 bytes), then the IHDR chunk's length and type (8), width, height.
        ImageFormat::Png if field(12, 4)? == b"IHDR" => Some((be32(16)?, be32(20)?)),
        // "GIF89a", then the logical screen's width and height.
        ImageFormat::Gif => Some((le16(6)?, le16(8)?)),
        // The file header (14 bytes), the info header's size, then width and height: 16-bit
        // in the old 12-byte header, 32-bit (the height negative for top-down) in the others.
        ImageFormat::Bmp if le32(14)? == 12 => Some((le16(18)?, le16(20)?)),
        ImageFormat::Bmp => Some((le32(18)?, le32(22)?)),
        _ => None,
    }
}

/// The message for an image over the limits; `claimed` is e.g. "100000x100000 pixels".
fn too_large(claimed: &str) -> String {
    format!(
        "the image claims to be {claimed}; ziffer reads images of up to {MAX_WIDTH}x{MAX_HEIGHT} \
         pixels and {} MiB: scale it down first",
        MAX_ALLOC >> 20
    )
}

/// What went wrong in a decode, said for a person.
fn describe_decode_error(error: ImageError, bytes: &[u8], format: ImageFormat) -> String {
    let format_name = format.extensions_str().first().map_or_else(
        || format!("{format:?}"),
        |extension| extension.to_uppercase(),
    );
    match error {
        ImageError::Limits(_) => {
            // The header alone, without limits, to say what the file claims.
            let claimed = ImageReader::with_format(Cursor::new(bytes), format)
                .into_dimensions()
                .map(|(w, h)| format!("{w}x{h} pixels"))
                .unwrap_or_else(|_| "larger".to_string());
            too_large(&claimed)
        }
        ImageError::Unsupported(e) => {
            format!("{format_name} images of this kind cannot be read ({e}); convert it to PNG")
        }
        ImageError::Decoding(e) => {
            format!("the {format_name} data is damaged or incomplete ({e})")
        }
        ImageError::IoError(e) => {
            format!("the {format_name} data ends early: the file is truncated ({e})")
        }
        other => other.to_string(),
    }
}

// ---- 2.-4. grayscale, working copy, polarity --------------------------------------------------

/// An image of `f32` values, row after row, as the steps from 3 on use it.
#[derive(Debug, Clone, PartialEq)]
struct Plane {
    width: usize,
    height: usize,
    data: Vec<f32>,
}

impl Plane {
    fn at(&self, x: usize, y: usize) -> f32 {
        self.data[y * self.width + x]
    }
}

/// A rectangle in the working copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Rect {
    x: usize,
    y: usize,
    width: usize,
    height: usize,
}

/// The image's luma (Rec. 709 weights, as the `image` crate computes it), one byte per pixel,
/// with transparent pixels composited over white: `g = a·l + (1 − a)·255`, as a page with a
/// white background shows a transparent PNG.
fn grayscale_over_white(image: DynamicImage) -> Vec<u8> {
    if !image.color().has_alpha() {
        return image.into_luma8().into_raw();
    }
    let luma_alpha = image.to_luma_alpha8();
    drop(image);
    luma_alpha
        .pixels()
        .map(|p| {
            let [l, a] = p.0;
            let (l, a) = (l as u32, a as u32);
            ((l * a + 255 * (255 - a) + 127) / 255) as u8
        })
        .collect()
}

/// The image as `f32` in `[0, 1]` (0 black), shrunk by area averaging so that its longer side is
/// at most [`WORK_SIDE`].
fn working_copy(gray: &[u8], width: usize, height: usize) -> Plane {
    let longer = width.max(height);
    let (width, height, bytes) = if longer > WORK_SIDE {
        let scale = WORK_SIDE as f64 / longer as f64;
        let w = ((width as f64 * scale).round() as u32).max(1);
        let h = ((height as f64 * scale).round() as u32).max(1);
        let image = GrayImage::from_raw(width as u32, height as u32, gray.to_vec())
            .expect("one byte per pixel");
        let small = imageops::thumbnail(&image, w, h);
        (
            w as usize,
            h as usize,
            std::borrow::Cow::Owned(small.into_raw()),
        )
    } else {
        (width, height, std::borrow::Cow::Borrowed(gray))
    };
    Plane {
        width,
        height,
        data: bytes.iter().map(|&p| normalise_pixel(p)).collect(),
    }
}

/// The median of the pixels in a ring along the border, 1/50 of the shorter side wide (at least
/// one pixel): the background's level, since people draw digits away from the edges.
fn border_median(image: &Plane) -> f32 {
    let (w, h) = (image.width, image.height);
    let ring = (w.min(h) / 50).max(1);
    let mut border = Vec::new();
    for (y, row) in image.data.chunks_exact(w).enumerate() {
        if y < ring || y + ring >= h {
            border.extend_from_slice(row);
        } else {
            border.extend_from_slice(&row[..ring.min(w)]);
            border.extend_from_slice(&row[w.saturating_sub(ring).max(ring.min(w))..]);
        }
    }
    median(&mut border)
}

/// Ink as high values, paper as low, as in MNIST: `1 − g` if the background is light
/// (`inverted`), `g` as it is otherwise.
fn ink_map(mut image: Plane, inverted: bool) -> Plane {
    if inverted {
        for v in &mut image.data {
            *v = 1.0 - *v;
        }
    }
    image
}

// ---- 5. background and noise ------------------------------------------------------------------

/// Removes the paper from an ink map, leaving ink in `(0, 1]` and exact zeros elsewhere; returns
/// the ink's contrast, or why there is no ink.
///
/// - the paper's level, uneven under real light, is modelled as a smooth surface
///   ([`fit_background`]) and subtracted: `r = ink − background`;
/// - the paper's noise `σ` is the spread of `r` over the paper (1.4826 × median absolute
///   deviation, which equals the standard deviation for Gaussian noise);
/// - the ink's contrast `C` is the 90th percentile of the pixels clearly above the paper
///   (`r > max(4σ, 0.03)`), i.e. the level of the strokes' cores;
/// - everything below the cut `t = max(4σ, INK_CUT·C)` is paper, what is above is stretched so
///   that the strokes' cores reach 1: `v = clamp((r − t) / (C − t), 0, 1)`.
fn remove_background(ink: &mut Plane) -> std::result::Result<f32, String> {
    let fit = fit_background(ink);
    fit.subtract_from(ink);
    let floor = (4.0 * fit.noise).max(0.03);
    let mut marks: Vec<f32> = ink.data.iter().copied().filter(|&r| r > floor).collect();
    if marks.is_empty() {
        return Err("the image is blank: nothing stands out from the background".into());
    }
    let contrast = percentile(&mut marks, 0.9);
    if contrast < MIN_CONTRAST || contrast < 2.0 * floor {
        return Err(format!(
            "the darkest marks differ from the background by only {:.0}% of full scale: \
             is the image blank, or the digit very faint?",
            100.0 * contrast
        ));
    }
    let cut = floor.max(INK_CUT * contrast);
    for v in &mut ink.data {
        *v = ((*v - cut) / (contrast - cut)).clamp(0.0, 1.0);
    }
    Ok(contrast)
}

/// A smooth background `b(x, y) = c0 + c1·x + c2·y + c3·x² + c4·x·y + c5·y²` (`x`, `y` scaled
/// to `[−1, 1]`), and the noise around it.
#[derive(Debug, Clone, Copy)]
struct Background {
    coefficients: [f64; 6],
    /// `σ` of the paper's pixels around the surface.
    noise: f32,
}

impl Background {
    /// `image − b`, pixel by pixel. Along a row `y` is fixed, so `b = k0 + k1·x + c3·x²` with
    /// `k0 = c0 + c2·y + c5·y²` and `k1 = c1 + c4·y`.
    fn subtract_from(&self, image: &mut Plane) {
        let [c0, c1, c2, c3, c4, c5] = self.coefficients;
        let xs: Vec<f64> = (0..image.width).map(|x| unit(x, image.width)).collect();
        for (y, row) in image.data.chunks_exact_mut(image.width).enumerate() {
            let y = unit(y, image.height);
            let (k0, k1) = (c0 + c2 * y + c5 * y * y, c1 + c4 * y);
            for (v, &x) in row.iter_mut().zip(&xs) {
                *v -= (k0 + (k1 + c3 * x) * x) as f32;
            }
        }
    }
}

/// Pixel index `i` of `n` scaled to `[−1, 1]`.
fn unit(i: usize, n: usize) -> f64 {
    if n <= 1 {
        0.0
    } else {
        2.0 * i as f64 / (n - 1) as f64 - 1.0
    }
}

fn quadratic_terms(x: f64, y: f64) -> [f64; 6] {
    [1.0, x, y, x * x, x * y, y * y]
}

/// Fits the paper's level as a quadratic surface (a lighting gradient, a vignette), by least
/// squares on a grid of at most 96x96 sampled pixels: first on the grid's outer two rows and
/// columns (the border, paper by assumption), then five times on every sample not more than
/// 2.5σ above the last fit (which leaves out the ink). Starting from the border keeps the ink out
/// of the first fit: fitted to all pixels, a quadratic can bulge into a dome over a bold digit
/// and take it for background. Images smaller than 8 pixels on a side get a flat background.
fn fit_background(ink: &Plane) -> Background {
    let (w, h) = (ink.width, ink.height);
    let step = w.max(h).div_ceil(96).max(1);
    let (gw, gh) = (w.div_ceil(step), h.div_ceil(step));
    let samples: Vec<([f64; 6], f32)> = (0..h)
        .step_by(step)
        .flat_map(|y| (0..w).step_by(step).map(move |x| (x, y)))
        .map(|(x, y)| (quadratic_terms(unit(x, w), unit(y, h)), ink.at(x, y)))
        .collect();
    let terms = if w >= 8 && h >= 8 { 6 } else { 1 };
    let mut keep: Vec<bool> = (0..gh)
        .flat_map(|gy| (0..gw).map(move |gx| (gx, gy)))
        .map(|(gx, gy)| gx < 2 || gy < 2 || gx + 2 >= gw || gy + 2 >= gh)
        .collect();
    let mut fit = flat(&samples, &keep);
    for _ in 0..6 {
        fit.coefficients = least_squares(&samples, &keep, terms)
            .unwrap_or_else(|| flat(&samples, &keep))
            .coefficients;
        let residual = |(t, v): &([f64; 6], f32)| {
            let b: f64 = t.iter().zip(&fit.coefficients).map(|(t, c)| t * c).sum();
            *v - b as f32
        };
        let mut kept: Vec<f32> = samples
            .iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|(s, _)| residual(s))
            .collect();
        let centre = median(&mut kept);
        let mut deviations: Vec<f32> = kept.iter().map(|r| (r - centre).abs()).collect();
        fit.noise = 1.4826 * median(&mut deviations);
        let limit = centre + 2.5 * fit.noise + 0.005;
        for (k, s) in keep.iter_mut().zip(&samples) {
            *k = residual(s) <= limit;
        }
    }
    fit
}

/// The flat background: the median of the kept samples.
fn flat(samples: &[([f64; 6], f32)], keep: &[bool]) -> Background {
    let mut values: Vec<f32> = samples
        .iter()
        .zip(keep)
        .filter(|(_, k)| **k)
        .map(|(s, _)| s.1)
        .collect();
    let mut coefficients = [0.0; 6];
    coefficients[0] = if values.is_empty() {
        0.0
    } else {
        median(&mut values) as f64
    };
    Background {
        coefficients,
        noise: 0.0,
    }
}

/// Least squares on the first `terms` basis functions over the kept samples: solves the normal
/// equations `(Aᵀ·A)·c = Aᵀ·v` by Gaussian elimination with partial pivoting. `None` if they
/// are singular (too few or degenerate samples).
fn least_squares(samples: &[([f64; 6], f32)], keep: &[bool], terms: usize) -> Option<Background> {
    let mut ata = [[0.0f64; 6]; 6];
    let mut atv = [0.0f64; 6];
    let mut count = 0;
    for ((t, v), _) in samples.iter().zip(keep).filter(|(_, k)| **k) {
        count += 1;
        for i in 0..terms {
            atv[i] += t[i] * *v as f64;
            for j in 0..terms {
                ata[i][j] += t[i] * t[j];
            }
        }
    }
    if count < terms * 4 {
        return None;
    }
    // Forward elimination, then back substitution.
    for col in 0..terms {
        let pivot =
            (col..terms).max_by(|&a, &b| ata[a][col].abs().total_cmp(&ata[b][col].abs()))?;
        if ata[pivot][col].abs() < 1e-9 * count as f64 {
            return None;
        }
        ata.swap(col, pivot);
        atv.swap(col, pivot);
        let pivot_row = ata[col];
        for row in col + 1..terms {
            let factor = ata[row][col] / pivot_row[col];
            for (a, p) in ata[row][col..terms].iter_mut().zip(&pivot_row[col..terms]) {
                *a -= factor * p;
            }
            atv[row] -= factor * atv[col];
        }
    }
    let mut coefficients = [0.0; 6];
    for row in (0..terms).rev() {
        let known: f64 = (row + 1..terms)
            .map(|k| ata[row][k] * coefficients[k])
            .sum();
        coefficients[row] = (atv[row] - known) / ata[row][row];
    }
    Some(Background {
        coefficients,
        noise: 0.0,
    })
}

// ---- 6.-7. specks and the crop ----------------------------------------------------------------

/// Erases the specks: pieces of ink (8-connected pixels above 0) much smaller than the largest
/// piece, either in mass (sum of values, under [`SPECK_MASS`] of the largest's) or in extent
/// (longer side under [`SPECK_EXTENT`] of the largest's). Returns how many were erased.
fn remove_specks(ink: &mut Plane) -> usize {
    let (w, h) = (ink.width, ink.height);
    // piece[i]: 0 for paper, else 1 + the index of the pixel's piece.
    let mut piece = vec![0u32; w * h];
    let mut pieces: Vec<Piece> = Vec::new();
    let mut stack = Vec::new();
    for start in 0..w * h {
        if ink.data[start] <= 0.0 || piece[start] != 0 {
            continue;
        }
        let label = pieces.len() as u32 + 1;
        let mut p = Piece {
            mass: 0.0,
            x0: w,
            y0: h,
            x1: 0,
            y1: 0,
        };
        piece[start] = label;
        stack.push(start);
        while let Some(i) = stack.pop() {
            let (x, y) = (i % w, i / w);
            p.mass += ink.data[i];
            (p.x0, p.y0, p.x1, p.y1) = (p.x0.min(x), p.y0.min(y), p.x1.max(x), p.y1.max(y));
            for ny in y.saturating_sub(1)..=(y + 1).min(h - 1) {
                for nx in x.saturating_sub(1)..=(x + 1).min(w - 1) {
                    let j = ny * w + nx;
                    if ink.data[j] > 0.0 && piece[j] == 0 {
                        piece[j] = label;
                        stack.push(j);
                    }
                }
            }
        }
        pieces.push(p);
    }
    let Some(largest) = pieces.iter().max_by(|a, b| a.mass.total_cmp(&b.mass)) else {
        return 0;
    };
    let (mass, extent) = (largest.mass, largest.extent());
    let is_speck: Vec<bool> = pieces
        .iter()
        .map(|p| p.mass < SPECK_MASS * mass || (p.extent() as f32) < SPECK_EXTENT * extent as f32)
        .collect();
    for (v, &p) in ink.data.iter_mut().zip(&piece) {
        if p != 0 && is_speck[p as usize - 1] {
            *v = 0.0;
        }
    }
    is_speck.iter().filter(|&&s| s).count()
}

/// A connected piece of ink: its mass and bounding box (inclusive).
struct Piece {
    mass: f32,
    x0: usize,
    y0: usize,
    x1: usize,
    y1: usize,
}

impl Piece {
    /// The longer side of its bounding box, in pixels.
    fn extent(&self) -> usize {
        (self.x1 - self.x0).max(self.y1 - self.y0) + 1
    }
}

/// The smallest rectangle holding all the ink, or why there is no digit: no ink at all, or too
/// little to be a digit (under [`MIN_DIGIT_FRACTION`] of the image's longer side).
fn ink_bounding_box(ink: &Plane) -> std::result::Result<Rect, String> {
    let (w, h) = (ink.width, ink.height);
    let (mut x0, mut y0, mut x1, mut y1) = (w, h, 0, 0);
    for y in 0..h {
        for x in 0..w {
            if ink.at(x, y) > 0.0 {
                x0 = x0.min(x);
                y0 = y0.min(y);
                x1 = x1.max(x);
                y1 = y1.max(y);
            }
        }
    }
    if x0 > x1 {
        return Err("no ink is left once the background is removed".into());
    }
    let rect = Rect {
        x: x0,
        y: y0,
        width: x1 - x0 + 1,
        height: y1 - y0 + 1,
    };
    let smallest = (MIN_DIGIT_FRACTION * w.max(h) as f32).max(3.0);
    if (rect.width.max(rect.height) as f32) < smallest {
        return Err(format!(
            "the only ink is a dot of {}x{} pixels in a {w}x{h} image",
            rect.width, rect.height
        ));
    }
    Ok(rect)
}

// ---- 8.-9. size and position ------------------------------------------------------------------

/// The rectangle `rect` of `ink`.
fn crop(ink: &Plane, rect: Rect) -> Plane {
    Plane {
        width: rect.width,
        height: rect.height,
        data: (rect.y..rect.y + rect.height)
            .flat_map(|y| (rect.x..rect.x + rect.width).map(move |x| (x, y)))
            .map(|(x, y)| ink.at(x, y))
            .collect(),
    }
}

/// `digit` with its longer side scaled to [`BOX`] pixels and the shorter by the same factor (at
/// least one pixel), with a triangle filter: when shrinking, each output pixel is a
/// tent-weighted average over the source pixels it covers, which anti-aliases; when enlarging,
/// it interpolates linearly.
fn fit_in_box(digit: &Plane) -> Plane {
    let scale = BOX as f32 / digit.width.max(digit.height) as f32;
    let width = ((digit.width as f32 * scale).round() as usize).clamp(1, BOX);
    let height = ((digit.height as f32 * scale).round() as usize).clamp(1, BOX);
    let image = ImageBuffer::<Luma<f32>, Vec<f32>>::from_raw(
        digit.width as u32,
        digit.height as u32,
        digit.data.clone(),
    )
    .expect("one value per pixel");
    let resized = imageops::resize(&image, width as u32, height as u32, FilterType::Triangle);
    Plane {
        width,
        height,
        data: resized
            .into_raw()
            .into_iter()
            .map(|v| v.clamp(0.0, 1.0))
            .collect(),
    }
}

/// The centre of mass `(x, y)` of an image, in pixel indices: `Σ v·x / Σ v`, `Σ v·y / Σ v`.
fn centre_of_mass(image: &Plane) -> (f32, f32) {
    let (mut mass, mut mx, mut my) = (0.0f64, 0.0f64, 0.0f64);
    for y in 0..image.height {
        for x in 0..image.width {
            let v = image.at(x, y) as f64;
            mass += v;
            mx += v * x as f64;
            my += v * y as f64;
        }
    }
    if mass <= 0.0 {
        return (
            (image.width - 1) as f32 / 2.0,
            (image.height - 1) as f32 / 2.0,
        );
    }
    ((mx / mass) as f32, (my / mass) as f32)
}

/// Places `digit` (at most 20x20) in a 28x28 field so that its centre of mass falls on
/// [`CENTRE`], shifted by whole pixels (the nearest), as MNIST was made; a digit whose mass is
/// far off its box's middle is kept whole inside the field rather than cut. Returns the pixels
/// in MNIST form, `round(255·v)`.
fn centre_by_mass(digit: &Plane) -> [u8; PIXELS] {
    let (cx, cy) = centre_of_mass(digit);
    let place = |target: f32, centre: f32, size: usize| {
        ((target - centre).round() as isize).clamp(0, (SIDE - size) as isize) as usize
    };
    let ox = place(CENTRE.0, cx, digit.width);
    let oy = place(CENTRE.1, cy, digit.height);
    let mut pixels = [0u8; PIXELS];
    for y in 0..digit.height {
        for x in 0..digit.width {
            pixels[(oy + y) * SIDE + ox + x] =
                (255.0 * digit.at(x, y).clamp(0.0, 1.0)).round() as u8;
        }
    }
    pixels
}

// ---- helpers ----------------------------------------------------------------------------------

/// The median of `values` (reordered; 0 for none).
fn median(values: &mut [f32]) -> f32 {
    percentile(values, 0.5)
}

/// The value at fraction `q` of the way through `values` sorted (reordered; 0 for none).
fn percentile(values: &mut [f32], q: f32) -> f32 {
    if values.is_empty() {
        return 0.0;
    }
    let k = ((values.len() - 1) as f32 * q).round() as usize;
    *values.select_nth_unstable_by(k, f32::total_cmp).1
}

fn image_error(path: &Path, message: impl Into<String>) -> Error {
    Error::Image {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

fn no_digit(path: &Path, message: impl Into<String>) -> Error {
    Error::NoDigit {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAME: &str = "test.png";

    /// A `w`x`h` light-grey page (200) with a dark (30) bar from (x0, y0) to (x1, y1) exclusive.
    fn page_with_bar(w: usize, h: usize, bar: (usize, usize, usize, usize)) -> Vec<u8> {
        let (x0, y0, x1, y1) = bar;
        (0..h)
            .flat_map(|y| (0..w).map(move |x| (x, y)))
            .map(|(x, y)| {
                if (x0..x1).contains(&x) && (y0..y1).contains(&y) {
                    30
                } else {
                    200
                }
            })
            .collect()
    }

    fn png(gray: &[u8], w: u32, h: u32) -> Vec<u8> {
        let image = GrayImage::from_raw(w, h, gray.to_vec()).unwrap();
        let mut bytes = Vec::new();
        image
            .write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png)
            .unwrap();
        bytes
    }

    #[test]
    fn a_dark_bar_on_light_paper_becomes_a_light_centred_bar_20_pixels_tall() {
        let gray = page_with_bar(100, 80, (10, 5, 20, 45));
        let p = preprocess_gray(&gray, 100, 80, Path::new(NAME)).unwrap();
        assert!(p.inverted);
        assert_eq!(
            p.crop,
            Crop {
                x: 10,
                y: 5,
                width: 10,
                height: 40
            }
        );
        let rows: Vec<usize> = (0..SIDE)
            .filter(|y| p.pixels[y * SIDE..(y + 1) * SIDE].iter().any(|&v| v > 0))
            .collect();
        assert_eq!(rows.len(), BOX);
        let cols: Vec<usize> = (0..SIDE)
            .filter(|&x| (0..SIDE).any(|y| p.pixels[y * SIDE + x] > 0))
            .collect();
        assert_eq!(cols.len(), 5, "a 10x40 bar is 5x20 in the box");
        // Centred: the columns 12..17 hold the bar's mass around x = 14.
        assert_eq!((cols[0], cols[4]), (12, 16));
        assert_eq!(p.pixels[14 * SIDE + 14], 255);
    }

    #[test]
    fn light_ink_on_a_dark_field_is_not_inverted() {
        let gray: Vec<u8> = page_with_bar(60, 60, (20, 10, 30, 50))
            .iter()
            .map(|&v| 255 - v)
            .collect();
        let p = preprocess_gray(&gray, 60, 60, Path::new(NAME)).unwrap();
        assert!(!p.inverted);
        let dark = preprocess_gray(
            &page_with_bar(60, 60, (20, 10, 30, 50)),
            60,
            60,
            Path::new(NAME),
        )
        .unwrap();
        assert_eq!(p.pixels, dark.pixels);
    }

    #[test]
    fn a_lighting_gradient_does_not_become_ink() {
        // Paper from 250 on the left to 120 on the right, a bar of ink 60 darker than it.
        let (w, h) = (200, 120);
        let gray: Vec<u8> = (0..h)
            .flat_map(|y| (0..w).map(move |x| (x, y)))
            .map(|(x, y)| {
                let paper = 250.0 - 130.0 * x as f32 / w as f32;
                let ink = (90..110).contains(&x) && (20..100).contains(&y);
                (paper - if ink { 60.0 } else { 0.0 }) as u8
            })
            .collect();
        let p = preprocess_gray(&gray, w, h, Path::new(NAME)).unwrap();
        assert_eq!(
            (p.crop.x, p.crop.width, p.crop.y, p.crop.height),
            (90, 20, 20, 80)
        );
    }

    #[test]
    fn specks_are_erased_and_left_out_of_the_crop() {
        let mut gray = page_with_bar(100, 100, (40, 20, 50, 80));
        for (x, y) in [(5, 5), (90, 92), (93, 10)] {
            gray[y * 100 + x] = 0;
        }
        let p = preprocess_gray(&gray, 100, 100, Path::new(NAME)).unwrap();
        assert_eq!(p.specks, 3);
        assert_eq!(
            (p.crop.x, p.crop.y, p.crop.width, p.crop.height),
            (40, 20, 10, 60)
        );
    }

    #[test]
    fn a_blank_page_has_no_digit() {
        for level in [0, 128, 255] {
            let err = preprocess_gray(&vec![level; 50 * 40], 50, 40, Path::new(NAME)).unwrap_err();
            assert!(matches!(err, Error::NoDigit { .. }), "{err}");
            assert!(
                err.to_string().starts_with("test.png: no digit found"),
                "{err}"
            );
        }
    }

    #[test]
    fn a_single_dot_is_not_a_digit() {
        let mut gray = vec![255; 200 * 200];
        gray[100 * 200 + 100] = 0;
        let err = preprocess_gray(&gray, 200, 200, Path::new(NAME)).unwrap_err();
        assert!(matches!(err, Error::NoDigit { .. }), "{err}");
    }

    #[test]
    fn an_empty_buffer_or_a_wrong_length_is_refused() {
        let err = preprocess_gray(&[], 0, 10, Path::new(NAME)).unwrap_err();
        assert!(err.to_string().contains("no pixels (0x10)"), "{err}");
        let err = preprocess_gray(&[0; 10], 4, 4, Path::new(NAME)).unwrap_err();
        assert!(err.to_string().contains("need 16 bytes, found 10"), "{err}");
    }

    #[test]
    fn transparency_is_composited_over_white() {
        // Fully transparent black reads as white paper; opaque black as ink.
        let mut image = image::GrayAlphaImage::new(40, 40);
        for (x, y, p) in image.enumerate_pixels_mut() {
            let ink = (15..25).contains(&x) && (5..35).contains(&y);
            *p = image::LumaA([0, if ink { 255 } else { 0 }]);
        }
        let gray = grayscale_over_white(DynamicImage::ImageLumaA8(image));
        assert_eq!(gray[0], 255);
        assert_eq!(gray[20 * 40 + 20], 0);
    }

    #[test]
    fn png_bytes_give_the_same_result_as_their_pixels() {
        let gray = page_with_bar(64, 48, (30, 4, 36, 40));
        let from_bytes = preprocess_bytes(&png(&gray, 64, 48), Path::new(NAME)).unwrap();
        let from_pixels = preprocess_gray(&gray, 64, 48, Path::new(NAME)).unwrap();
        assert_eq!(from_bytes, from_pixels);
    }

    #[test]
    fn a_photo_stored_sideways_is_turned_upright_by_its_exif_tag() {
        use image::ImageEncoder;
        // Stored 60 wide and 40 tall with a tall bar; EXIF orientation 6 says "turn 90° clockwise
        // to show", so the image is 40x60 and the bar lies across it.
        let gray = page_with_bar(60, 40, (10, 5, 20, 35));
        let exif = [
            b"MM\0\x2a\0\0\0\x08".as_slice(), // big-endian TIFF header, first IFD at 8
            &[0, 1],                          // one entry:
            &[0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0], // Orientation, SHORT, 1 value: 6
            &[0, 0, 0, 0],                    // no next IFD
        ]
        .concat();
        let mut bytes = Vec::new();
        let mut encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 95);
        encoder.set_exif_metadata(exif).unwrap();
        encoder
            .write_image(&gray, 60, 40, image::ExtendedColorType::L8)
            .unwrap();
        let p = preprocess_bytes(&bytes, Path::new("photo.jpg")).unwrap();
        assert_eq!((p.width, p.height), (40, 60));
        assert!(p.crop.width > 2 * p.crop.height, "{:?}", p.crop);
    }

    #[test]
    fn large_images_are_shrunk_to_the_working_side_first() {
        let (w, h) = (3000, 1500);
        let gray = page_with_bar(w, h, (1400, 300, 1550, 1200));
        let p = preprocess_gray(&gray, w, h, Path::new(NAME)).unwrap();
        assert_eq!((p.width, p.height), (3000, 1500));
        // The crop is reported in the image's own pixels, to within the shrink factor (~3).
        assert!((p.crop.x as i32 - 1400).abs() <= 3, "{:?}", p.crop);
        assert!((p.crop.height as i32 - 900).abs() <= 6, "{:?}", p.crop);
    }

    #[test]
    fn text_is_not_an_image() {
        let err = preprocess_bytes(b"label,pixels\n7,0,0,0\n", Path::new("x.csv")).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "x.csv: cannot read the image: this is not an image ziffer can read ({FORMATS})"
            )
        );
    }

    #[test]
    fn a_truncated_png_is_damaged() {
        let bytes = png(&page_with_bar(64, 48, (30, 4, 36, 40)), 64, 48);
        let err = preprocess_bytes(&bytes[..bytes.len() / 2], Path::new(NAME)).unwrap_err();
        assert!(matches!(err, Error::Image { .. }), "{err}");
        assert!(err.to_string().contains("PNG data"), "{err}");
    }

    #[test]
    fn the_naive_path_only_resizes() {
        let gray = vec![255; 56 * 56];
        let pixels = naive(&png(&gray, 56, 56), Path::new(NAME)).unwrap();
        assert!(pixels.iter().all(|&p| p == 255));
    }

    #[test]
    fn the_least_squares_fit_recovers_a_quadratic_surface() {
        let (w, h) = (50, 30);
        let truth = [0.3, 0.05, -0.1, 0.02, 0.01, -0.03];
        let data = (0..h)
            .flat_map(|y| (0..w).map(move |x| (x, y)))
            .map(|(x, y)| {
                let t = quadratic_terms(unit(x, w), unit(y, h));
                t.iter().zip(&truth).map(|(t, c)| t * c).sum::<f64>() as f32
            })
            .collect();
        let fit = fit_background(&Plane {
            width: w,
            height: h,
            data,
        });
        for (c, t) in fit.coefficients.iter().zip(truth) {
            assert!((c - t).abs() < 1e-4, "{:?} vs {truth:?}", fit.coefficients);
        }
    }

    #[test]
    fn mnist_test_digits_are_centred_where_we_place_ours() {
        let data = crate::data::mnist::load_bundled().unwrap().test;
        let (mut sx, mut sy) = (0.0, 0.0);
        for i in 0..data.len() {
            let plane = Plane {
                width: SIDE,
                height: SIDE,
                data: data.image(i).iter().map(|&p| p as f32).collect(),
            };
            let (x, y) = centre_of_mass(&plane);
            sx += x as f64;
            sy += y as f64;
        }
        let (mx, my) = (sx / data.len() as f64, sy / data.len() as f64);
        eprintln!("mean centre of mass of MNIST test digits: x {mx:.3}, y {my:.3}");
        assert!((mx - CENTRE.0 as f64).abs() < 0.15 && (my - CENTRE.1 as f64).abs() < 0.15);
    }
}

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
//! prediction went wrong; [`crate::predict`] runs the network on it.
//!
//! Each step is a private function with its own doc comment and the numbers behind its
//! constants, in the file of its stage: `decoding.rs` (steps 1-2, bytes to grayscale),
//! `ink.rs` (3-6, grayscale to a clean ink map) and `mnist_form.rs` (7-9, the ink map to
//! 28x28). This file holds the entry points, which run the steps in order, the types they
//! share, and the public constants of all three, re-exported.

mod decoding;
mod ink;
mod mnist_form;

pub use decoding::{FORMATS, MAX_ALLOC, MAX_FILE_BYTES, MAX_HEIGHT, MAX_WIDTH, decode, limits};
pub use ink::{INK_CUT, LIGHT_BACKGROUND, MIN_CONTRAST, SPECK_EXTENT, SPECK_MASS, WORK_SIDE};
pub use mnist_form::{BOX, CENTRE, MIN_DIGIT_FRACTION, PIXELS, SIDE};

use crate::data::batch::normalise_pixel;
use crate::error::{Error, Result};
use decoding::{grayscale_over_white, read_image_file};
use image::GrayImage;
use image::imageops::{self, FilterType};
use ink::{border_median, ink_map, remove_background, remove_specks, working_copy};
use mnist_form::{centre_by_mass, crop, fit_in_box, ink_bounding_box};
use std::path::Path;

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
    let Some(pixel_count) = width.checked_mul(height) else {
        return Err(image_error(
            name,
            format!("{width}x{height} is more pixels than any image can hold"),
        ));
    };
    if gray.len() != pixel_count {
        return Err(image_error(
            name,
            format!(
                "{width}x{height} pixels need {pixel_count} bytes, found {}",
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
        // A fraction of full scale: where the fitted paper dips below black at an edge, ink
        // minus paper can exceed 1 there, and the stretch above used that; reported, at most 1.
        contrast: contrast.min(1.0),
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

// ---- the working copy's types, shared by the steps from 3 on ----------------------------------

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

// ---- errors -----------------------------------------------------------------------------------

/// An [`Error::Image`]: `path` cannot be read as an image, and `message` says why.
fn image_error(path: &Path, message: impl Into<String>) -> Error {
    Error::Image {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// An [`Error::NoDigit`]: `path` is an image, but `message` says why no digit was found in it.
fn no_digit(path: &Path, message: impl Into<String>) -> Error {
    Error::NoDigit {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// Test images the files' tests share.
#[cfg(test)]
mod test_images {
    use image::{GrayImage, ImageFormat};
    use std::io::Cursor;

    pub(super) const NAME: &str = "test.png";

    /// A `w`x`h` light-grey page (200) with a dark (30) bar from (x0, y0) to (x1, y1) exclusive.
    pub(super) fn page_with_bar(w: usize, h: usize, bar: (usize, usize, usize, usize)) -> Vec<u8> {
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

    /// `gray` (`w`x`h` pixels) encoded as a PNG file.
    pub(super) fn png(gray: &[u8], w: u32, h: u32) -> Vec<u8> {
        let image = GrayImage::from_raw(w, h, gray.to_vec()).unwrap();
        let mut bytes = Vec::new();
        image
            .write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png)
            .unwrap();
        bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_images::{NAME, page_with_bar, png};

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
    fn an_empty_buffer_or_a_wrong_length_is_refused() {
        let err = preprocess_gray(&[], 0, 10, Path::new(NAME)).unwrap_err();
        assert!(err.to_string().contains("no pixels (0x10)"), "{err}");
        let err = preprocess_gray(&[0; 10], 4, 4, Path::new(NAME)).unwrap_err();
        assert!(err.to_string().contains("need 16 bytes, found 10"), "{err}");
    }

    #[test]
    fn the_reported_contrast_is_at_most_full_scale() {
        // Found by the image fuzz target: a 4-bit BMP of 11x15 pixels whose fitted background
        // dips below black at an edge, so that ink - background exceeded 1 and the contrast was
        // reported as 1.03 ("103% of full scale").
        let bmp = [
            0x42, 0x4d, 0x66, 0x09, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x28, 0x00, 0x00, 0x00, 0x0b, 0x00, 0x00, 0x00, 0x0f, 0x00, 0x00, 0x00, 0x01, 0x00,
            0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1a, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x80, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1a, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00, 0x80, 0xff, 0xff, 0xff,
        ];
        let p = preprocess_bytes(&bmp, Path::new("x.bmp")).unwrap();
        for (what, v) in [
            ("background", p.background),
            ("contrast", p.contrast),
            ("ink fraction", p.ink_fraction),
        ] {
            assert!((0.0..=1.0).contains(&v), "{what} {v}");
        }
    }

    #[test]
    fn a_size_whose_pixel_count_overflows_is_refused() {
        let err = preprocess_gray(&[], usize::MAX, 2, Path::new(NAME)).unwrap_err();
        assert!(err.to_string().contains("more pixels than"), "{err}");
    }

    #[test]
    fn png_bytes_give_the_same_result_as_their_pixels() {
        let gray = page_with_bar(64, 48, (30, 4, 36, 40));
        let from_bytes = preprocess_bytes(&png(&gray, 64, 48), Path::new(NAME)).unwrap();
        let from_pixels = preprocess_gray(&gray, 64, 48, Path::new(NAME)).unwrap();
        assert_eq!(from_bytes, from_pixels);
    }

    #[test]
    fn the_naive_path_only_resizes() {
        let gray = vec![255; 56 * 56];
        let pixels = naive(&png(&gray, 56, 56), Path::new(NAME)).unwrap();
        assert!(pixels.iter().all(|&p| p == 255));
    }
}

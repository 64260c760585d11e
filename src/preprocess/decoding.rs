//! Steps 1 and 2 of the recipe: from an image file, or its bytes, to one grayscale byte per
//! pixel. The format is told by the content; width, height, memory and file size have limits,
//! so that a decompression bomb or a huge file is a clear error; a photo is turned upright as
//! its EXIF orientation says; transparency is composited over white.
//!
//! What it is not: any judgement about the picture (which side is ink, where the digit is):
//! that is [`super::ink`]'s and [`super::mnist_form`]'s. Every failure here is an
//! [`Error::Image`] naming the file and saying what to do.

use super::image_error;
use crate::error::{Error, Result};
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader};
use std::io::Cursor;
use std::path::Path;

/// The widest image decoded, in pixels.
pub const MAX_WIDTH: u32 = 8192;
/// The tallest image decoded, in pixels.
pub const MAX_HEIGHT: u32 = 8192;
/// The most memory a decoder may allocate: 256 MiB, enough for a 48-megapixel RGB photo.
pub const MAX_ALLOC: u64 = 256 << 20;
/// Image files larger than this are refused before being read: 64 MiB.
pub const MAX_FILE_BYTES: u64 = 64 << 20;

/// The formats [`decode`] reads, for messages.
pub const FORMATS: &str = "PNG, JPEG, BMP, GIF or WebP";

// ---- 1. decoding ------------------------------------------------------------------------------

/// Reads an image file whole, refusing files over [`MAX_FILE_BYTES`] and folders.
pub(super) fn read_image_file(path: &Path) -> Result<Vec<u8>> {
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

/// The width and height that a PNG, GIF, BMP or extended WebP header claims, read from their
/// fixed places, so that a zero or huge size gets the same message whichever decoder would have
/// refused it. `None` for other formats, or a header too short to hold them.
fn header_size(bytes: &[u8], format: ImageFormat) -> Option<(u64, u64)> {
    let field = |at: usize, len: usize| bytes.get(at..at + len);
    let be32 = |at| Some(u32::from_be_bytes(field(at, 4)?.try_into().ok()?) as u64);
    let le16 = |at| Some(u16::from_le_bytes(field(at, 2)?.try_into().ok()?) as u64);
    let le32 = |at| Some(i32::from_le_bytes(field(at, 4)?.try_into().ok()?).unsigned_abs() as u64);
    let le24 = |at| {
        let b = field(at, 3)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], 0]) as u64)
    };
    match format {
        // The signature (8 bytes), then the IHDR chunk's length and type (8), width, height.
        ImageFormat::Png if field(12, 4)? == b"IHDR" => Some((be32(16)?, be32(20)?)),
        // "GIF89a", then the logical screen's width and height.
        ImageFormat::Gif => Some((le16(6)?, le16(8)?)),
        // The file header (14 bytes), the info header's size, then width and height: 16-bit
        // in the old 12-byte header, 32-bit (the height negative for top-down) in the others.
        ImageFormat::Bmp if le32(14)? == 12 => Some((le16(18)?, le16(20)?)),
        ImageFormat::Bmp => Some((le32(18)?, le32(22)?)),
        // "RIFF", its size, "WEBP"; in the extended format a "VP8X" chunk follows: its size, 4
        // bytes of flags, then the canvas's width - 1 and height - 1, 24-bit each.
        ImageFormat::WebP if field(12, 4)? == b"VP8X" => Some((le24(24)? + 1, le24(27)? + 1)),
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

// ---- 2. grayscale ------------------------------------------------------------------------------

/// The image's luma (Rec. 709 weights, as the `image` crate computes it), one byte per pixel,
/// with transparent pixels composited over white: `g = a·l + (1 − a)·255`, as a page with a
/// white background shows a transparent PNG.
pub(super) fn grayscale_over_white(image: DynamicImage) -> Vec<u8> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preprocess::preprocess_bytes;
    use crate::preprocess::test_images::{NAME, page_with_bar, png};

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

    /// A small real image of `format`, 8x8 white pixels, whose header the tests patch.
    fn encoded(format: ImageFormat) -> Vec<u8> {
        let gray = DynamicImage::ImageLuma8(image::GrayImage::from_pixel(8, 8, image::Luma([255])));
        let image = match format {
            ImageFormat::Jpeg => gray,
            _ => DynamicImage::ImageRgba8(gray.to_rgba8()),
        };
        let mut bytes = Cursor::new(Vec::new());
        image.write_to(&mut bytes, format).unwrap();
        bytes.into_inner()
    }

    #[test]
    fn a_jpeg_claiming_60000_by_60000_pixels_is_refused_before_decoding() {
        let mut bytes = encoded(ImageFormat::Jpeg);
        // The baseline frame header: FF C0, length, precision, then height and width (big-endian).
        let sof = bytes.windows(2).position(|w| w == [0xff, 0xc0]).unwrap();
        bytes[sof + 5..sof + 9].copy_from_slice(&[0xea, 0x60, 0xea, 0x60]);
        let err = preprocess_bytes(&bytes, Path::new("huge.jpg")).unwrap_err();
        assert!(
            err.to_string().contains("claims to be 60000x60000 pixels"),
            "{err}"
        );
    }

    #[test]
    fn a_webp_canvas_of_100000_by_100000_pixels_is_refused_before_decoding() {
        // RIFF, then a VP8X chunk (flags, canvas width - 1, height - 1, 24 bits each), then the
        // frame of a small real WebP.
        let small = encoded(ImageFormat::WebP);
        let frame = &small[12..];
        let side = (100_000u32 - 1).to_le_bytes();
        let mut vp8x = b"VP8X".to_vec();
        vp8x.extend_from_slice(&10u32.to_le_bytes());
        vp8x.extend_from_slice(&[0, 0, 0, 0]);
        vp8x.extend_from_slice(&side[..3]);
        vp8x.extend_from_slice(&side[..3]);
        let body = [b"WEBP".as_slice(), &vp8x, frame].concat();
        let bytes = [
            b"RIFF".as_slice(),
            &(body.len() as u32).to_le_bytes(),
            &body,
        ]
        .concat();
        let err = preprocess_bytes(&bytes, Path::new("huge.webp")).unwrap_err();
        assert!(
            err.to_string()
                .contains("claims to be 100000x100000 pixels"),
            "{err}"
        );
    }

    #[test]
    fn a_gif_claiming_60000_by_60000_pixels_is_refused_from_its_header() {
        let mut bytes = encoded(ImageFormat::Gif);
        bytes[6..10].copy_from_slice(&[0x60, 0xea, 0x60, 0xea]);
        let err = preprocess_bytes(&bytes, Path::new("huge.gif")).unwrap_err();
        assert!(
            err.to_string().contains("claims to be 60000x60000 pixels"),
            "{err}"
        );
    }

    #[test]
    fn the_limits_are_those_documented() {
        let limits = limits();
        assert_eq!(limits.max_image_width, Some(8192));
        assert_eq!(limits.max_image_height, Some(8192));
        assert_eq!(limits.max_alloc, Some(256 << 20));
    }
}

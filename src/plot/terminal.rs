//! Digits in a terminal: images as text, half blocks in 256-colour greys or an ASCII ramp.
//!
//! What it is: `ziffer show --terminal`'s and `ziffer predict`'s text. What it is not: a file;
//! nothing here draws with plotters.

use crate::data::Dataset;
use std::fmt::Write as _;
use std::ops::Range;

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

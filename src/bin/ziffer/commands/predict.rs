//! `ziffer predict`: digits read from people's own images.
//!
//! Each image goes through [`ziffer::preprocess::load_image`] (the one path from a file to a
//! 28x28 input) and [`ziffer::predict::predict`]; this file only finds the files, prints, and
//! draws the input in the terminal for `--show`. An image that fails is reported and the others
//! are still read; the exit code says whether any failed.

use crate::args::{DEFAULT_MODEL, load_committee};
use crate::output::print_error;
use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use serde_json::json;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use ziffer::committee::Committee;
use ziffer::model_file;
use ziffer::predict::{Confidence, DEFAULT_MIN_PROBABILITY, Prediction};
use ziffer::preprocess::{PIXELS, Preprocessed, SIDE, load_image};

/// The file extensions taken from a folder (any case).
const IMAGE_EXTENSIONS: [&str; 6] = ["png", "jpg", "jpeg", "bmp", "gif", "webp"];

#[derive(Debug, Args)]
pub struct PredictArgs {
    /// Image files (PNG, JPEG, BMP, GIF, WebP) or folders of them (their image files, sorted;
    /// subfolders are not searched)
    #[arg(value_name = "IMAGE", required = true)]
    pub images: Vec<PathBuf>,

    /// The model to read with; give --model more than once for a committee, which averages its
    /// members' outputs
    #[arg(long, short, value_name = "FILE", default_value = DEFAULT_MODEL)]
    pub model: Vec<PathBuf>,

    /// Print one JSON list on stdout: per image its file, digit, probability and all ten
    /// probabilities (or its error)
    #[arg(long, conflicts_with = "show")]
    pub json: bool,

    /// Also draw the 28x28 image the network saw, in the terminal (24-bit colour)
    #[arg(long)]
    pub show: bool,

    /// Call an answer unsure when its top probability is under this (0 to 1)
    #[arg(long, value_name = "P", default_value_t = DEFAULT_MIN_PROBABILITY)]
    pub threshold: f32,
}

pub fn run(args: PredictArgs) -> Result<()> {
    if !(0.0..=1.0).contains(&args.threshold) {
        bail!(
            "--threshold must be between 0 and 1 (a probability), got {}",
            args.threshold
        );
    }
    // One model is a committee of one: it answers exactly as it does alone.
    let committee = match args.model.as_slice() {
        [one] => Committee::new(vec![model_file::load(one).with_context(|| {
            format!(
                "cannot load the model {} (train one with `ziffer train`)",
                one.display()
            )
        })?])?,
        several => load_committee(several)?,
    };
    let classes = committee.classes();
    let confidence = Confidence {
        min_probability: args.threshold,
        ..Confidence::default()
    };

    let inputs = expand(&args.images);
    let total = inputs.len();
    let mut failed = 0;
    let mut results = Vec::new();
    for (path, found) in inputs {
        let read = found.and_then(|()| {
            let image = load_image(&path)?;
            let prediction = committee.predict_pixels(&image.pixels, &confidence)?;
            Ok((image, prediction))
        });
        match read {
            Ok((image, prediction)) if args.json => {
                results.push(json_entry(&path, &image, &prediction, classes))
            }
            Ok((image, prediction)) => {
                println!("{}", line(&path, &prediction, classes));
                if args.show {
                    println!("{}", diagnostics(&image));
                    print!("{}", half_blocks(&image.pixels));
                }
            }
            Err(err) => {
                failed += 1;
                print_error(&err);
                if args.json {
                    results.push(json!({ "file": path, "error": format!("{err:#}") }));
                }
            }
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&results)?);
    }
    if failed > 0 {
        bail!(
            "{failed} of {total} {} could not be read",
            if total == 1 { "image" } else { "images" }
        );
    }
    Ok(())
}

/// The files to read, in order: each file as given, and each folder's image files sorted by
/// name. A folder that cannot be listed or holds no image file is an entry with its error.
fn expand(paths: &[PathBuf]) -> Vec<(PathBuf, Result<()>)> {
    let mut inputs = Vec::new();
    for path in paths {
        if !path.is_dir() {
            inputs.push((path.clone(), Ok(())));
            continue;
        }
        match image_files(path) {
            Ok(files) if files.is_empty() => inputs.push((
                path.clone(),
                Err(anyhow!(
                    "{}: the folder holds no image files (.{})",
                    path.display(),
                    IMAGE_EXTENSIONS.join(", .")
                )),
            )),
            Ok(files) => inputs.extend(files.into_iter().map(|f| (f, Ok(())))),
            Err(err) => inputs.push((path.clone(), Err(err))),
        }
    }
    inputs
}

/// The image files directly in `folder` (by extension, any case), sorted.
fn image_files(folder: &Path) -> Result<Vec<PathBuf>> {
    let context = || format!("{}: cannot list the folder", folder.display());
    let mut files = Vec::new();
    for entry in std::fs::read_dir(folder).with_context(context)? {
        let path = entry.with_context(context)?.path();
        let is_image = path.extension().is_some_and(|e| {
            IMAGE_EXTENSIONS
                .iter()
                .any(|known| e.eq_ignore_ascii_case(known))
        });
        if is_image && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// `digit.png: 7 (97.1%), runner-up 1 (1.2%)`, or for an unsure answer
/// `digit.png: probably 7 (41.0%), but unsure: ...; runner-up 1 (30.2%)`. Classes with names
/// other than the digits are shown by name: `shoe.png: Sneaker (97.1%), runner-up Sandal (1.2%)`.
fn line(path: &Path, p: &Prediction, classes: &[String]) -> String {
    let percent = |v: f32| format!("{:.1}%", 100.0 * v);
    let runner_up = format!(
        "runner-up {} ({})",
        classes[p.runner_up as usize],
        percent(p.runner_up_probability)
    );
    let best = &classes[p.digit as usize];
    match &p.unsure {
        None => format!(
            "{}: {best} ({}), {runner_up}",
            path.display(),
            percent(p.probability)
        ),
        Some(why) => format!(
            "{}: probably {best} ({}), but unsure: {why}; {runner_up}",
            path.display(),
            percent(p.probability)
        ),
    }
}

/// What the preprocessing did, in one line, for `--show`.
fn diagnostics(image: &Preprocessed) -> String {
    let c = image.crop;
    let mut out = format!(
        "  {}x{} image, {} background (level {:.0} of 255), ink contrast {:.0}%, digit at ({}, {}) \
         size {}x{}",
        image.width,
        image.height,
        if image.inverted { "light" } else { "dark" },
        255.0 * image.background,
        100.0 * image.contrast,
        c.x,
        c.y,
        c.width,
        c.height
    );
    if image.inverted {
        out.push_str(", inverted");
    }
    if image.specks > 0 {
        let _ = write!(out, ", {} specks erased", image.specks);
    }
    out.push_str("; the network saw:");
    out
}

/// One JSON object per image read.
fn json_entry(
    path: &Path,
    image: &Preprocessed,
    p: &Prediction,
    classes: &[String],
) -> serde_json::Value {
    json!({
        "file": path,
        "digit": p.digit,
        "class": classes[p.digit as usize],
        "runner_up_class": classes[p.runner_up as usize],
        "probability": p.probability,
        "runner_up": p.runner_up,
        "runner_up_probability": p.runner_up_probability,
        "probabilities": p.probabilities,
        "outputs": p.outputs,
        "unsure": p.unsure.map(|why| why.to_string()),
        "inverted": image.inverted,
        "crop": {
            "x": image.crop.x,
            "y": image.crop.y,
            "width": image.crop.width,
            "height": image.crop.height,
        },
    })
}

/// The 28x28 input as 14 lines of upper half blocks `▀` (ink light on black, as the network
/// sees it), drawn by the same function as `ziffer show --terminal`.
fn half_blocks(pixels: &[u8; PIXELS]) -> String {
    let mut out = String::new();
    for line in ziffer::plot::terminal_lines(pixels, SIDE, SIDE, true) {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_blocks_draw_two_pixel_rows_per_line() {
        let mut pixels = [0; PIXELS];
        pixels[0] = 255; // top-left: upper pixel of line 1
        pixels[SIDE] = 128; // the pixel under it: lower pixel of line 1
        let text = half_blocks(&pixels);
        assert_eq!(text.lines().count(), SIDE / 2);
        assert!(text.lines().all(|l| l.matches('▀').count() == SIDE));
        // White over a middle grey: 231 is the palette's white, 244 its grey nearest 128.
        assert!(
            text.starts_with("\x1b[38;5;231m\x1b[48;5;244m▀"),
            "{text:?}"
        );
    }
}

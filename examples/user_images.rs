//! How well a model reads digits as people give them, with ziffer's preprocessing and without.
//!
//! ```sh
//! cargo run --release --example user_images -- [MODEL] [N]
//! ```
//!
//! MODEL defaults to `models/ziffer.safetensors` (`ziffer train` makes it), N to 2,000. The
//! example makes its test images itself (`tests/suite/support/user_style.rs`): N MNIST test digits
//! redrawn as dark ink on tinted paper, scaled up 5-15x, off-centre, under a lighting gradient,
//! blurred, noisy, saved as PNG or JPEG; and digits rendered from handwriting-style fonts of
//! Debian's font packages (`apt-get install fonts-dkg-handwriting fonts-humor-sans
//! fonts-comic-neue fonts-breip fonts-dancingscript fonts-kristi
//! fonts-rufscript`), those missing being skipped with a note. Each image is read from its
//! encoded bytes both by [`preprocess_bytes`] and by the naive path [`naive`] (the whole image
//! resized to 28x28), and the table gives both accuracies. An image in which the preprocessing
//! finds no digit counts as wrong. Then, to choose when `ziffer predict` says it is unsure, how
//! the top probability and the largest output relate to mistakes, and how often letters (which
//! are not digits) pass as digits.
//!
//! Every image comes from a seeded generator, one stream per image: the numbers do not depend
//! on the number of threads.

#[path = "../tests/suite/support/user_style.rs"]
mod user_style;

use anyhow::{Context, Result};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};
use std::time::Instant;
use user_style::{Format, Ink, encode, font_digit, font_glyph, on_paper, redrawn_mnist};
use ziffer::data::mnist;
use ziffer::nn::network::Network;
use ziffer::predict::{Confidence, Prediction, predict_pixels};
use ziffer::preprocess::{naive, preprocess_bytes, preprocess_gray};

/// The fonts tried, by file name under /usr/share/fonts, with their Debian package.
const FONTS: &[(&str, &str)] = &[
    ("dkg.ttf", "fonts-dkg-handwriting"),
    ("dkgBd.ttf", "fonts-dkg-handwriting"),
    ("Humor-Sans.ttf", "fonts-humor-sans"),
    ("ComicNeue-Regular.otf", "fonts-comic-neue"),
    ("ComicNeue-Bold.otf", "fonts-comic-neue"),
    ("Breip.ttf", "fonts-breip"),
    ("DancingScript-Regular.otf", "fonts-dancingscript"),
    ("Kristi.ttf", "fonts-kristi"),
    ("Rufscript010.ttf", "fonts-rufscript"),
];

// Not fonts-femkeklaver: its digits are outlines (hollow strokes), unlike any MNIST digit.

/// Images of each digit per font.
const PER_DIGIT: usize = 20;

/// The seed of every generated image.
const SEED: u64 = 2024;

/// One image's outcome: the true digit, the preprocessed prediction (`None`: no digit found),
/// the naive one.
struct Outcome {
    label: u8,
    preprocessed: Option<Prediction>,
    naive: Prediction,
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let model_path = PathBuf::from(
        args.first()
            .map_or("models/ziffer.safetensors", String::as_str),
    );
    let n: usize = match args.get(1) {
        Some(n) => n.parse().context("N must be a whole number")?,
        None => 2000,
    };
    let model = ziffer::model_file::load(&model_path).with_context(|| {
        format!(
            "cannot load the model {} (make one with `cargo run --release -- train`)",
            model_path.display()
        )
    })?;
    let network = &model.network;
    let test = mnist::load_bundled()?.test;
    let started = Instant::now();

    println!(
        "{:<44} {:>6}  {:>12}  {:>7}  {:>8}",
        "set", "images", "preprocessed", "naive", "no digit"
    );
    let plain = ziffer::metrics::evaluate(&ziffer::cpu::Cpu::new(1)?, network, &test)?;
    row(
        "MNIST test set, as is (no preprocessing)",
        plain.total(),
        plain.accuracy(),
        None,
        None,
    );

    // The MNIST test digits themselves through the pipeline: it should change little.
    let through: Vec<Outcome> = parallel_map(test.len(), |i| {
        let pixels = test.image(i);
        let preprocessed = preprocess_gray(pixels, 28, 28, Path::new("mnist"))
            .ok()
            .map(|p| predict(network, &p.pixels));
        Outcome {
            label: test.label(i),
            preprocessed,
            naive: predict(network, pixels),
        }
    });
    report("MNIST test set, through the preprocessing", &through);

    // N test digits redrawn as a person's photo or scan, PNG or JPEG.
    let mut order: Vec<usize> = (0..test.len()).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(SEED));
    let redrawn: Vec<(Format, Outcome)> = parallel_map(n.min(test.len()), |k| {
        let i = order[k];
        let mut rng = image_rng(k as u64);
        let ink = redrawn_mnist(test.image(i), &mut rng);
        let format = Format::random(&mut rng);
        (format, read(network, &ink, format, test.label(i), &mut rng))
    });
    let (png, jpeg): (Vec<_>, Vec<_>) = redrawn.into_iter().partition(|(f, _)| *f == Format::Png);
    let png: Vec<Outcome> = png.into_iter().map(|(_, o)| o).collect();
    let jpeg: Vec<Outcome> = jpeg.into_iter().map(|(_, o)| o).collect();
    report("redrawn MNIST test digits, PNG", &png);
    report("redrawn MNIST test digits, JPEG q50-95", &jpeg);
    let redrawn: Vec<Outcome> = png.into_iter().chain(jpeg).collect();
    report("redrawn MNIST test digits, all", &redrawn);

    // Digits in handwriting-style fonts.
    let mut fonts = Vec::new();
    let mut missing = Vec::new();
    for &(file, package) in FONTS {
        match find_font(Path::new("/usr/share/fonts"), file) {
            Some(path) => fonts.push((file, path)),
            None => missing.push(format!("{file} ({package})")),
        }
    }
    let mut all_fonts = Vec::new();
    let mut letters = Vec::new();
    for (f, (file, path)) in fonts.iter().enumerate() {
        let font = ab_glyph::FontVec::try_from_vec(std::fs::read(path)?)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let outcomes: Vec<Outcome> = parallel_map(10 * PER_DIGIT, |k| {
            let digit = (k % 10) as u8;
            let mut rng = image_rng(((f as u64 + 1) << 32) + k as u64);
            let ink = font_digit(&font, digit, &mut rng).expect("fonts have digits");
            read(network, &ink, Format::random(&mut rng), digit, &mut rng)
        });
        report(&format!("font {file}"), &outcomes);
        all_fonts.extend(outcomes);
        // Letters, which are not digits: for the unsure verdict below.
        let glyphs: Vec<char> = ('A'..='Z').chain('a'..='z').collect();
        letters.extend(parallel_map(glyphs.len(), |k| {
            let mut rng = image_rng(((f as u64 + 100) << 32) + k as u64);
            font_glyph(&font, glyphs[k], &mut rng).and_then(|ink| {
                let bytes = encode(&on_paper(&ink, &mut rng), Format::Png);
                preprocess_bytes(&bytes, Path::new("letter"))
                    .ok()
                    .map(|p| predict(network, &p.pixels))
            })
        }));
    }
    if !all_fonts.is_empty() {
        report("all fonts", &all_fonts);
    }
    for m in &missing {
        println!("(font {m} not installed: skipped)");
    }

    // When to say "unsure": mistakes against the top probability and the largest output.
    let judged: Vec<(bool, &Prediction)> = through
        .iter()
        .chain(&redrawn)
        .filter_map(|o| o.preprocessed.as_ref().map(|p| (p.digit == o.label, p)))
        .collect();
    println!(
        "\nunsure by top probability, over the {} MNIST and redrawn digits read above:",
        judged.len()
    );
    println!(
        "{:>10}  {:>8}  {:>20}  {:>20}",
        "threshold", "flagged", "error rate, flagged", "error rate, others"
    );
    for t in [0.3f32, 0.4, 0.5, 0.6, 0.7, 0.8] {
        let flagged: Vec<bool> = judged
            .iter()
            .filter(|(_, p)| p.probability < t)
            .map(|(ok, _)| *ok)
            .collect();
        let others: Vec<bool> = judged
            .iter()
            .filter(|(_, p)| p.probability >= t)
            .map(|(ok, _)| *ok)
            .collect();
        println!(
            "{t:>10.1}  {:>7.2}%  {:>19.1}%  {:>19.2}%",
            100.0 * flagged.len() as f64 / judged.len() as f64,
            error_rate(&flagged),
            error_rate(&others),
        );
    }
    let letters: Vec<Prediction> = letters.into_iter().flatten().collect();
    println!(
        "\nunsure by largest output: digits ({}) and letters of the fonts ({}) under each threshold:",
        judged.len(),
        letters.len()
    );
    println!(
        "{:>10}  {:>14}  {:>20}  {:>15}  {:>22}",
        "threshold",
        "digits flagged",
        "error rate, flagged",
        "letters flagged",
        "letters flagged either"
    );
    let default = Confidence::default();
    for t in [0.05f32, 0.1, 0.2, 0.3, 0.5] {
        let flagged: Vec<bool> = judged
            .iter()
            .filter(|(_, p)| max(p) < t)
            .map(|(ok, _)| *ok)
            .collect();
        let low = letters.iter().filter(|p| max(p) < t).count();
        let either = letters
            .iter()
            .filter(|p| max(p) < t || p.probability < default.min_probability)
            .count();
        println!(
            "{t:>10.2}  {:>13.2}%  {:>19.1}%  {:>14.1}%  {:>21.1}%",
            percent(flagged.len(), judged.len()),
            error_rate(&flagged),
            percent(low, letters.len()),
            percent(either, letters.len()),
        );
    }
    println!("\n{:.1} s in all", started.elapsed().as_secs_f64());
    Ok(())
}

/// The random numbers of image `k`: the seed's stream `k`.
fn image_rng(k: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    rng.set_stream(k);
    rng
}

/// Puts `ink` on paper, encodes it as `format`, and reads it both ways.
fn read(network: &Network, ink: &Ink, format: Format, label: u8, rng: &mut ChaCha8Rng) -> Outcome {
    let bytes = encode(&on_paper(ink, rng), format);
    let name = Path::new("generated");
    Outcome {
        label,
        preprocessed: preprocess_bytes(&bytes, name)
            .ok()
            .map(|p| predict(network, &p.pixels)),
        naive: predict(
            network,
            &naive(&bytes, name).expect("generated images decode"),
        ),
    }
}

fn predict(network: &Network, pixels: &[u8]) -> Prediction {
    predict_pixels(network, pixels, &Confidence::default()).expect("a 784-10 network")
}

/// `f(0), ..., f(n − 1)` computed on every core, in order.
fn parallel_map<T: Send>(n: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let threads = std::thread::available_parallelism().map_or(1, |t| t.get());
    let chunk = n.div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .step_by(chunk)
            .map(|start| {
                let f = &f;
                s.spawn(move || (start..(start + chunk).min(n)).map(f).collect::<Vec<T>>())
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("no panic"))
            .collect()
    })
}

fn report(set: &str, outcomes: &[Outcome]) {
    let n = outcomes.len();
    let right = outcomes
        .iter()
        .filter(|o| o.preprocessed.as_ref().is_some_and(|p| p.digit == o.label))
        .count();
    let naive = outcomes.iter().filter(|o| o.naive.digit == o.label).count();
    let none = outcomes.iter().filter(|o| o.preprocessed.is_none()).count();
    row(
        set,
        n,
        right as f64 / n.max(1) as f64,
        Some(naive as f64 / n.max(1) as f64),
        Some(none),
    );
}

fn row(set: &str, n: usize, accuracy: f64, naive: Option<f64>, none: Option<usize>) {
    let naive = naive.map_or("-".to_string(), |a| format!("{:.2}%", 100.0 * a));
    let none = none.map_or("-".to_string(), |n| n.to_string());
    println!(
        "{set:<44} {n:>6}  {:>11.2}%  {naive:>7}  {none:>8}",
        100.0 * accuracy
    );
}

fn max(p: &Prediction) -> f32 {
    p.outputs.iter().copied().fold(0.0, f32::max)
}

fn percent(part: usize, whole: usize) -> f64 {
    100.0 * part as f64 / whole.max(1) as f64
}

fn error_rate(correct: &[bool]) -> f64 {
    100.0 * correct.iter().filter(|&&ok| !ok).count() as f64 / correct.len().max(1) as f64
}

/// The first file named `name` under `dir`, searching subfolders.
fn find_font(dir: &Path, name: &str) -> Option<PathBuf> {
    let mut entries: Vec<_> = std::fs::read_dir(dir).ok()?.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        if path.is_dir() {
            if let Some(found) = find_font(&path, name) {
                return Some(found);
            }
        } else if entry.file_name() == name {
            return Some(path);
        }
    }
    None
}

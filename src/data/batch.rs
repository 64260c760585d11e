//! Mini-batches: the one place where pixels become network inputs and labels become targets.
//!
//! A batch of `N` images with `P` pixels each is a `(P, N)` matrix with one column per image,
//! stored column after column, i.e. image after image as in the data set (see [`crate::nn::layer`]
//! for the shape conventions); its targets are a `(C, N)` matrix of one-hot columns (smoothed if
//! the run asks for label smoothing), stored row after row like the network's output.

use super::{CLASSES, Dataset};
use multiversion::multiversion;
use rand::Rng;
use rand::seq::SliceRandom;

/// A pixel `0..=255` as a network input in `[0, 1]`: `p / 255`.
#[inline]
pub fn normalise_pixel(p: u8) -> f32 {
    const SCALE: f32 = 1.0 / 255.0;
    p as f32 * SCALE
}

/// Writes the images `indices` of `data` into `x`, one column of `P` inputs per image.
pub fn fill_inputs(data: &Dataset, indices: &[usize], x: &mut [f32]) {
    let p = data.pixels_per_image();
    for (column, &i) in x[..indices.len() * p].chunks_exact_mut(p).zip(indices) {
        normalise_pixels(data.image(i), column);
    }
}

/// [`normalise_pixel`] of each of `pixels`, into `out`.
#[multiversion(targets = "simd")]
pub fn normalise_pixels(pixels: &[u8], out: &mut [f32]) {
    for (v, &pixel) in out.iter_mut().zip(pixels) {
        *v = normalise_pixel(pixel);
    }
}

/// Asks the processor to start loading the pixels of the images `indices` into its caches.
///
/// A hint with no effect on results: the training loop gives it the next batch's images while
/// it computes the current batch, so that [`fill_inputs`] finds them in cache instead of waiting
/// for memory (the images are visited in random order, which defeats the hardware's own
/// prefetching; measured here, `fill_inputs` spent 80% of its time on those loads).
pub fn prefetch_images(data: &Dataset, indices: &[usize]) {
    #[cfg(target_arch = "x86_64")]
    for &i in indices {
        for line in data.image(i).chunks(64) {
            // SAFETY: prefetching is a hint; any address may be given, this one is valid.
            unsafe {
                std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                    line.as_ptr().cast(),
                )
            };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (data, indices);
}

/// The one-hot encoding of a class: `one_hot(3)` is `[0, 0, 0, 1, 0, 0, 0, 0, 0, 0]`.
pub fn one_hot(label: u8, column: &mut [f32]) {
    debug_assert_eq!(column.len(), CLASSES);
    column.fill(0.0);
    column[label as usize] = 1.0;
}

/// The smoothed one-hot target of a class (Szegedy et al., "Rethinking the Inception
/// Architecture for Computer Vision", CVPR 2016, section 7):
///
/// `yᵢ = (1 − ε)·[i = label] + ε/K`, for `K` classes and a smoothing `ε` in `[0, 1)`.
///
/// The right class keeps `1 − ε + ε/K` and every class gets `ε/K`, so the column still sums to
/// 1; `ε = 0` is [`one_hot`] exactly. Against these targets the cross-entropy no longer rewards
/// pushing the right class's probability all the way to 1, which keeps the logits from growing
/// without bound; its gradient through softmax is still `A − Y`
/// ([`crate::nn::loss::cross_entropy_delta`]). `smoothed_one_hot(3, 0.1)` is `0.91` at 3 and
/// `0.01` elsewhere.
pub fn smoothed_one_hot(label: u8, smoothing: f32, column: &mut [f32]) {
    debug_assert!((label as usize) < column.len());
    let share = smoothing / column.len() as f32;
    for (i, y) in column.iter_mut().enumerate() {
        let hit = if i == label as usize { 1.0 } else { 0.0 };
        *y = (1.0 - smoothing) * hit + share;
    }
}

/// Writes the targets of the images `indices` into `y`: the `(C, N)` matrix whose column `n` is
/// `smoothed_one_hot(label of image n, smoothing)` (one-hot for a `smoothing` of 0), stored row
/// after row like the network's outputs.
pub fn fill_targets(data: &Dataset, indices: &[usize], smoothing: f32, y: &mut [f32]) {
    let n = indices.len();
    let mut column = [0.0; CLASSES];
    for (j, &i) in indices.iter().enumerate() {
        smoothed_one_hot(data.label(i), smoothing, &mut column);
        for (c, &v) in column.iter().enumerate() {
            y[c * n + j] = v;
        }
    }
}

/// `0..n` in a random order (Fisher-Yates, driven by `rng`): the order of one epoch.
pub fn shuffled_indices(n: usize, rng: &mut impl Rng) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(rng);
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pixels_map_onto_zero_to_one() {
        assert_eq!(normalise_pixel(0), 0.0);
        assert_eq!(normalise_pixel(255), 1.0);
        assert!((normalise_pixel(51) - 0.2).abs() < 1e-7);
    }

    #[test]
    fn a_batch_has_one_column_per_image_in_the_order_asked() {
        let data = Dataset::new(vec![0, 255, 51, 0], vec![1, 9], 1, 2, "test").unwrap();
        let mut x = [9.0; 4];
        fill_inputs(&data, &[1, 0], &mut x);
        assert_eq!(x, [normalise_pixel(51), 0.0, 0.0, 1.0]);
        let mut y = [9.0; 20];
        fill_targets(&data, &[1, 0], 0.0, &mut y);
        // Row c, column n at c * 2 + n: image 1 (label 9) first, then image 0 (label 1).
        assert_eq!(y[9 * 2], 1.0);
        assert_eq!(y[2 + 1], 1.0);
        assert_eq!(y.iter().sum::<f32>(), 2.0);
    }

    #[test]
    fn smoothing_moves_epsilon_of_the_target_evenly_over_the_classes() {
        let mut y = [9.0; CLASSES];
        smoothed_one_hot(3, 0.1, &mut y);
        for (i, &v) in y.iter().enumerate() {
            let expected = if i == 3 { 0.91 } else { 0.01 };
            assert!((v - expected).abs() < 1e-6, "class {i}: {v}");
        }
        assert!((y.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        // No smoothing is the one-hot column, bit for bit.
        let mut plain = [0.0; CLASSES];
        one_hot(7, &mut plain);
        smoothed_one_hot(7, 0.0, &mut y);
        assert_eq!(y, plain);
    }

    #[test]
    fn smoothed_targets_fill_every_row_of_a_batch() {
        let data = Dataset::new(vec![0, 255, 51, 0], vec![1, 9], 1, 2, "test").unwrap();
        let mut y = [9.0; 20];
        fill_targets(&data, &[1, 0], 0.2, &mut y);
        // Column 0 is image 1 (label 9): 0.82 at row 9, 0.02 elsewhere.
        assert!((y[9 * 2] - 0.82).abs() < 1e-6 && (y[2] - 0.02).abs() < 1e-6);
        assert!((y[2 + 1] - 0.82).abs() < 1e-6 && (y[9 * 2 + 1] - 0.02).abs() < 1e-6);
        assert!((y.iter().sum::<f32>() - 2.0).abs() < 1e-5);
    }

    #[test]
    fn shuffling_is_a_permutation_fixed_by_the_seed() {
        use rand::SeedableRng;
        let order = |seed| shuffled_indices(100, &mut rand_chacha::ChaCha8Rng::seed_from_u64(seed));
        let mut sorted = order(3);
        assert_eq!(order(3), sorted);
        assert_ne!(order(4), sorted);
        sorted.sort();
        assert_eq!(sorted, (0..100).collect::<Vec<_>>());
    }
}

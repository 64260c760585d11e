//! The seeded random-number streams of a training run, one home for all of them.
//!
//! What it is: one function per use of randomness, each a ChaCha8 generator keyed by the run's
//! seed on a stream of its own, so that no two uses ever meet each other's numbers and a seed
//! means the same numbers on every platform and version. What it is not: a global generator;
//! every function returns a fresh generator that the caller passes on.
//!
//! | use | stream | function |
//! | --- | --- | --- |
//! | the initial weights | 0 | [`init_rng`] |
//! | the shuffle of epoch `e` (0-based) | `e + 1` | [`epoch_rng`] |
//! | the dropout masks of epoch `e` | `2⁶² + e` | [`dropout_rng`] |
//! | the distortion of the image at position `k` of epoch `e` | `2⁶³ + e`, from word `k·2³²` | [`image_rng`] |
//! | the mixup of the batch from position `k` of epoch `e` | `2⁶² + 2⁶¹ + e`, from word `k·2³²` | [`mixup_rng`] |
//!
//! Each epoch has its own streams, so a resumed run draws exactly as an uninterrupted one.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The random numbers for the initial weights: ChaCha8 seeded with `seed`, stream 0.
pub fn init_rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// The random numbers for the shuffle of epoch `epoch` (0-based): ChaCha8 seeded with `seed`,
/// stream `epoch + 1`.
pub fn epoch_rng(seed: u64, epoch: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(epoch as u64 + 1);
    rng
}

/// The random numbers for the dropout masks of epoch `epoch` (0-based): ChaCha8 seeded with
/// `seed`, stream `2⁶² + epoch`.
pub fn dropout_rng(seed: u64, epoch: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream((1 << 62) + epoch as u64);
    rng
}

/// The random numbers that distort the image at `position` in the order of epoch `epoch`
/// (0-based), for augmentation ([`crate::augment`]).
///
/// ChaCha8 keyed by `seed` on stream `2⁶³ + epoch`, from word `position · 2³²`: each image has
/// 2³² words of its own (it uses `4 + S²`, 788 for MNIST), for positions up to 2³⁶. ChaCha jumps
/// to any word at no cost, so the numbers of an image depend on nothing but these three values:
/// not on threads, batch boundaries or the images before it, and a resumed or multi-threaded run
/// distorts exactly like a single one.
pub fn image_rng(seed: u64, epoch: usize, position: usize) -> ChaCha8Rng {
    const AUGMENT_STREAMS: u64 = 1 << 63;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(AUGMENT_STREAMS | epoch as u64);
    rng.set_word_pos((position as u128) << 32);
    rng
}

/// The random numbers that mix the batch whose first image is at `position` in the order of
/// epoch `epoch` (0-based), for mixup ([`crate::augment::mixup`]).
///
/// ChaCha8 keyed by `seed` on stream `2⁶² + 2⁶¹ + epoch`, from word `position · 2³²`, as
/// [`image_rng`] keys images: a batch's `λ` and permutation depend on these three values alone.
pub fn mixup_rng(seed: u64, epoch: usize, position: usize) -> ChaCha8Rng {
    const MIXUP_STREAMS: u64 = (1 << 62) + (1 << 61);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(MIXUP_STREAMS + epoch as u64);
    rng.set_word_pos((position as u128) << 32);
    rng
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    #[test]
    fn each_use_draws_from_its_own_stream() {
        let first = |mut rng: ChaCha8Rng| rng.random::<u64>();
        let draws = [
            first(init_rng(1)),
            first(epoch_rng(1, 0)),
            first(dropout_rng(1, 0)),
            first(image_rng(1, 0, 0)),
            first(image_rng(1, 0, 1)),
            first(mixup_rng(1, 0, 0)),
            first(mixup_rng(1, 0, 64)),
            first(epoch_rng(1, 1)),
        ];
        for (i, a) in draws.iter().enumerate() {
            for b in &draws[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_eq!(first(epoch_rng(1, 3)), first(epoch_rng(1, 3)));
    }
}

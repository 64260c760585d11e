//! Dropout (Srivastava et al., 2014): during training each hidden neuron is switched off for an
//! image with probability `p`, so that no neuron can rely on particular others being there.
//!
//! What it is: the three formulas, each in its function. Forward, for hidden layers `l < L`:
//! `Ã[l] = A[l] ⊙ M[l]` ([`dropout_forward`]), where each entry of the mask `M[l]` is `0`
//! (dropped, probability `p`) or `1/(1 − p)` (kept) ([`dropout_mask`]); the next layer reads
//! `Ã[l]` instead of `A[l]`. Scaling the kept ones by `1/(1 − p)` ("inverted dropout") keeps each
//! neuron's expected output unchanged, so that the network is used without masks after training.
//! Backward: `dA[l] = dÃ[l] ⊙ M[l]` ([`dropout_backward`]), before `dZ[l] = dA[l] ⊙ f'(Z[l])`.
//!
//! What it is not: where the masks are kept (the [`super::workspace::Workspace`] of a training
//! run) or when they are drawn (before each batch, by the training loop's engine).

use rand::{Rng, RngExt};

/// Fills `mask` with dropout's `0` (probability `rate`) or `1/(1 − rate)` (kept).
pub fn dropout_mask(rate: f32, rng: &mut impl Rng, mask: &mut [f32]) {
    let kept = 1.0 / (1.0 - rate);
    for m in mask {
        *m = if rng.random::<f32>() < rate {
            0.0
        } else {
            kept
        };
    }
}

/// Forward: `Ã = A ⊙ M`, into `kept`.
pub fn dropout_forward(a: &[f32], mask: &[f32], kept: &mut [f32]) {
    debug_assert!(a.len() == mask.len() && a.len() == kept.len());
    for ((kept, &a), &m) in kept.iter_mut().zip(a).zip(mask) {
        *kept = a * m;
    }
}

/// Backward: in the forward pass this was `Ã = A ⊙ M`, so now we have `dA = dÃ ⊙ M`, in place
/// (a dropped neuron passes no error back).
pub fn dropout_backward(mask: &[f32], da: &mut [f32]) {
    debug_assert_eq!(mask.len(), da.len());
    for (d, &m) in da.iter_mut().zip(mask) {
        *d *= m;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn a_mask_drops_about_p_and_scales_the_rest() {
        let mut mask = vec![0.0; 10_000];
        dropout_mask(0.2, &mut ChaCha8Rng::seed_from_u64(1), &mut mask);
        let dropped = mask.iter().filter(|&&m| m == 0.0).count() as f32 / 10_000.0;
        assert!((dropped - 0.2).abs() < 0.02, "dropped {dropped}");
        assert!(mask.iter().all(|&m| m == 0.0 || m == 1.25));
    }

    #[test]
    fn forward_and_backward_multiply_by_the_mask() {
        let mask = [0.0, 2.0];
        let mut kept = [0.0; 2];
        dropout_forward(&[3.0, 4.0], &mask, &mut kept);
        assert_eq!(kept, [0.0, 8.0]);
        let mut da = [5.0, 6.0];
        dropout_backward(&mask, &mut da);
        assert_eq!(da, [0.0, 12.0]);
    }
}

//! The loss: how far the network's output is from the right answer, and its gradient.
//!
//! What it is: the original network's loss, the squared error between the output `A` and the
//! one-hot target `Y`, averaged over the batch, with its gradient `dA = A − Y` that starts
//! backprop.
//!
//! What it is not: the mini-batch bookkeeping. The `1/m` of the gradient is applied where the
//! parameter gradients are formed (`dW = (1/m)·dZ·Aᵀ`), as in the textbook formulas.
//!
//! Shapes: `A` and `Y` are `C x m` (classes x batch), stored one column (image) after another.

/// `L = (1/m) Σₙ ½‖aₙ − yₙ‖²`: half the squared distance between output and target, averaged
/// over the `m` images of the batch.
///
/// For example an output `[0.5, 0.5]` against the target `[0, 1]` costs `½(0.25 + 0.25) = 0.25`.
pub fn quadratic_loss(a: &[f32], y: &[f32], m: usize) -> f32 {
    debug_assert_eq!(a.len(), y.len());
    // Sum in f64: a batch of 10,000 small terms loses digits in f32.
    let sum: f64 = a
        .iter()
        .zip(y)
        .map(|(&a, &y)| {
            let e = (a - y) as f64;
            e * e
        })
        .sum();
    (0.5 * sum / m as f64) as f32
}

/// The gradient that starts backprop: `dA[L] = A[L] − Y` (of `½‖A − Y‖²` with respect to `A`,
/// per image; the `1/m` comes later).
pub fn quadratic_loss_backward(a: &[f32], y: &[f32], da: &mut [f32]) {
    debug_assert!(a.len() == y.len() && a.len() == da.len());
    for ((d, &a), &y) in da.iter_mut().zip(a).zip(y) {
        *d = a - y;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quadratic_loss_of_the_doc_example() {
        assert_eq!(quadratic_loss(&[0.5, 0.5], &[0.0, 1.0], 1), 0.25);
        // Two images, the same error each: the mean is the same.
        assert_eq!(
            quadratic_loss(&[0.5, 0.5, 0.5, 0.5], &[0.0, 1.0, 0.0, 1.0], 2),
            0.25
        );
    }

    #[test]
    fn gradient_is_output_minus_target() {
        let mut da = [0.0; 3];
        quadratic_loss_backward(&[0.2, 0.9, 0.1], &[0.0, 1.0, 0.0], &mut da);
        assert!((da[0] - 0.2).abs() < 1e-7 && (da[1] + 0.1).abs() < 1e-7);
    }
}

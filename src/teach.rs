//! One lesson: a single labelled image taught to a copy of a network, with everything each step
//! of it computed, for the page's "learn this" button (`POST /api/learn`).
//!
//! What it is: [`learn`], one step of training as `ziffer train` takes it, on a batch of one:
//! the forward pass, the output error `dZ[L]` (`A[L] − Y` for the quadratic loss of the original
//! network, times `σ'(Z[L])`), the backward pass that gives every `dW[l]` and `dB[l]`, and one
//! update `θ := θ − η·dθ` of plain gradient descent; then a second forward pass to show what the
//! update changed. The formulas are those of [`crate::nn`], called, not repeated. What it is not:
//! training (one image teaches little and a served model is never changed: the caller keeps or
//! drops the copy), or reading a request (that is [`crate::web`]).

use crate::data::CLASSES;
use crate::data::batch::{normalise_pixel, one_hot};
use crate::error::{Error, Result};
use crate::matrix::MatRef;
use crate::nn::network::Network;
use crate::nn::optimizer::sgd_update;
use crate::predict::probabilities;
use crate::preprocess::PIXELS;
use serde::Serialize;

/// What one lesson computed, before and after its update.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lesson {
    /// The class taught.
    pub label: u8,
    /// The learning rate `η` of the update.
    pub lr: f32,
    /// The outputs `A[L]` before the update, and the one-hot target `Y`.
    pub output_before: Vec<f32>,
    pub target: Vec<f32>,
    /// `p_c = a_c / Σ a` before and after the update ([`probabilities`]).
    pub probabilities_before: Vec<f32>,
    pub probabilities_after: Vec<f32>,
    /// The loss of this one image before and after the update.
    pub loss_before: f32,
    pub loss_after: f32,
    /// `dZ[L]`: the output error where backprop starts (for one image, `dB[L]` is the same).
    pub output_error: Vec<f32>,
    /// `dB[l]` for each layer `l = 1..=L`.
    pub bias_gradients: Vec<Vec<f32>>,
    /// `dW[1]`, one row per neuron of the first layer: the gradient of each of its weights, one
    /// per input pixel (a 28x28 image for MNIST), as [`crate::web::looks_for`] shows the weights.
    pub first_layer_gradients: Vec<Vec<f32>>,
}

/// Teaches `network`'s copy that `pixels` (row-major, `0..=255`, 255 = ink, as the network reads
/// them after preprocessing) is of class `label`, with one plain gradient-descent update of rate
/// `lr`. Returns what the lesson computed and the updated copy.
pub fn learn(network: &Network, pixels: &[u8], label: u8, lr: f32) -> Result<(Lesson, Network)> {
    let classes = network.outputs();
    if network.inputs() != PIXELS || classes != CLASSES {
        return Err(Error::config(
            "lesson",
            format!(
                "the network reads {} pixels into {classes} classes; a lesson needs {PIXELS} \
                 into {CLASSES}",
                network.inputs()
            ),
        ));
    }
    if pixels.len() != PIXELS {
        return Err(Error::config(
            "lesson",
            format!("{} pixels given; an image has {PIXELS}", pixels.len()),
        ));
    }
    if usize::from(label) >= classes {
        return Err(Error::config(
            "label",
            format!("{label} is not a class: give 0 to {}", classes - 1),
        ));
    }
    if !(lr.is_finite() && lr > 0.0) {
        return Err(Error::config(
            "learning rate",
            format!("{lr} must be a positive number such as 0.5"),
        ));
    }
    // X is one column of n[0] inputs, Y its one-hot target.
    let x: Vec<f32> = pixels.iter().copied().map(normalise_pixel).collect();
    let x = MatRef::row_major(&x, PIXELS, 1);
    let mut y = vec![0.0; classes];
    one_hot(label, &mut y);

    let mut ws = network.workspace(1);
    let mut grads = network.gradients();
    let loss_before = network.loss(x, &y, &mut ws);
    let output_before = ws.activations(network.layers().len(), 1).to_vec();
    network.backward(x, &y, &mut ws, &mut grads);

    // θ := θ − η·dθ, for every weight and bias
    let mut taught = network.clone();
    for (layer, g) in taught.layers_mut().iter_mut().zip(&grads.layers) {
        sgd_update(&mut layer.weight, &g.dweight, lr, 0.0);
        sgd_update(&mut layer.bias, &g.dbias, lr, 0.0);
    }
    let loss_after = taught.loss(x, &y, &mut ws);
    let output_after = ws.activations(taught.layers().len(), 1).to_vec();

    let normalised = |a: &[f32]| probabilities(&a.try_into().expect("ten outputs")).to_vec();
    let first = &grads.layers[0];
    let lesson = Lesson {
        label,
        lr,
        probabilities_before: normalised(&output_before),
        probabilities_after: normalised(&output_after),
        output_before,
        target: y,
        loss_before,
        loss_after,
        output_error: grads.layers.last().expect("a layer").dbias.clone(),
        bias_gradients: grads.layers.iter().map(|g| g.dbias.clone()).collect(),
        first_layer_gradients: first.dweight.chunks(PIXELS).map(<[f32]>::to_vec).collect(),
    };
    Ok((lesson, taught))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::layer::Init;
    use crate::nn::network::Functions;
    use rand::SeedableRng;

    fn network() -> Network {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        Network::new_random(&[784, 16, 10], Functions::default(), Init::Lecun, &mut rng).unwrap()
    }

    /// A stroke down the middle, as a person might draw a 1.
    fn one() -> Vec<u8> {
        (0..PIXELS)
            .map(|i| if (13..15).contains(&(i % 28)) { 255 } else { 0 })
            .collect()
    }

    #[test]
    fn a_lesson_raises_the_taught_class_and_lowers_the_loss() {
        let before = network();
        let (lesson, after) = learn(&before, &one(), 1, 3.0).unwrap();
        assert!(lesson.probabilities_after[1] > lesson.probabilities_before[1]);
        assert!(lesson.loss_after < lesson.loss_before);
        assert_ne!(after, before, "the copy changed");
        assert_eq!(network(), before, "the network given did not");
    }

    #[test]
    fn the_output_error_is_the_quadratic_losss_delta_and_the_last_bias_gradient() {
        let (lesson, _) = learn(&network(), &one(), 4, 1.0).unwrap();
        // dZ[L] = (A − Y) ⊙ σ'(Z[L]) = (A − Y) ⊙ A ⊙ (1 − A)
        for c in 0..CLASSES {
            let a = lesson.output_before[c];
            let want = (a - lesson.target[c]) * a * (1.0 - a);
            assert!((lesson.output_error[c] - want).abs() < 1e-6, "{c}");
        }
        assert_eq!(lesson.bias_gradients.last().unwrap(), &lesson.output_error);
        assert_eq!(lesson.target[4], 1.0);
        assert_eq!(lesson.first_layer_gradients.len(), 16);
        assert!(
            lesson
                .first_layer_gradients
                .iter()
                .all(|g| g.len() == PIXELS)
        );
    }

    #[test]
    fn blank_pixels_give_no_first_layer_gradient() {
        // dW[1] = dZ[1]·Xᵀ: a pixel that is 0 moves none of its weights.
        let (lesson, _) = learn(&network(), &one(), 1, 1.0).unwrap();
        let image = one();
        for row in &lesson.first_layer_gradients {
            for (g, &p) in row.iter().zip(&image) {
                if p == 0 {
                    assert_eq!(*g, 0.0);
                }
            }
        }
    }

    #[test]
    fn bad_lessons_are_refused_with_the_reason() {
        let net = network();
        let err =
            |pixels: &[u8], label, lr| learn(&net, pixels, label, lr).unwrap_err().to_string();
        assert!(err(&one(), 10, 1.0).contains("10 is not a class: give 0 to 9"));
        assert!(err(&one()[..100], 1, 1.0).contains("100 pixels given"));
        assert!(err(&one(), 1, f32::NAN).contains("must be a positive number"));
        assert!(err(&one(), 1, -1.0).contains("must be a positive number"));
    }
}

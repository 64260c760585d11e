//! Reading one digit: the network's ten outputs as probabilities, the digit, the runner-up, and
//! whether to trust the answer.
//!
//! What it is: one forward pass on a [`Preprocessed`] image and the arithmetic on its outputs.
//! What it is not: preprocessing ([`crate::preprocess`]) or printing (the binary's `predict`).
//!
//! The network ends in sigmoids trained towards one-hot targets, not in a softmax: each output
//! `a_c ∈ (0, 1)` says on its own how much the image looks like digit `c`, and the ten need not
//! sum to 1. The probabilities shown are those outputs normalised, `p_c = a_c / Σ a`, which sum
//! to 1 and keep the order, but are not calibrated probabilities from a probabilistic model.
//! Two signs that an answer should not be trusted are kept apart (see [`Confidence`]):
//!
//! - two digits compete: the top probability is low;
//! - no digit fits: even the largest output `a_c` is low, so the image is unlike anything the
//!   network learned (normalising would hide this: outputs 0.02 and 0.01 give 67% and 33%).

use crate::data::CLASSES;
use crate::data::batch::normalise_pixel;
use crate::error::{Error, Result};
use crate::matrix::MatRef;
use crate::nn::network::Network;
use crate::preprocess::{PIXELS, Preprocessed};
use serde::Serialize;
use std::fmt;

/// The default least top probability: 0.6, where answers become a coin toss. Measured with the
/// default model by `examples/user_images.rs`, over 12,000 digits (the MNIST test set and 2,000
/// redrawn test digits, all preprocessed; 2.11% read wrong in all): under 0.5 are 0.20% of the
/// answers, 67% of them wrong; under 0.6, 1.12% of the answers, 47% wrong (the others are then
/// wrong 1.59% of the time instead of 2.11%); under 0.7, 2.0%, 43% wrong.
pub const DEFAULT_MIN_PROBABILITY: f32 = 0.6;

/// The default least largest output: 0.3. Measured as for [`DEFAULT_MIN_PROBABILITY`]: 0.56% of
/// the digits have no output over 0.3, and 60% of those are read wrong; of 468 letters (A-Z,
/// a-z in nine fonts), 16% have none (21% are flagged by either test). The network was never shown anything but digits, so most
/// letters still light up some output: this catches blots and scribbles, not every non-digit.
pub const DEFAULT_MIN_OUTPUT: f32 = 0.3;

/// When an answer counts as unsure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Confidence {
    /// Unsure if the top probability `max p_c` is under this.
    pub min_probability: f32,
    /// Unsure if the largest raw output `max a_c` is under this: no output neuron recognises
    /// the image.
    pub min_output: f32,
}

impl Default for Confidence {
    fn default() -> Self {
        Confidence {
            min_probability: DEFAULT_MIN_PROBABILITY,
            min_output: DEFAULT_MIN_OUTPUT,
        }
    }
}

/// The network's answer for one image.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prediction {
    /// The digit with the largest output.
    pub digit: u8,
    /// Its probability.
    pub probability: f32,
    /// The digit with the second largest output.
    pub runner_up: u8,
    /// Its probability.
    pub runner_up_probability: f32,
    /// `p_c = a_c / Σ a` for `c = 0..=9` ([`probabilities`]).
    pub probabilities: [f32; CLASSES],
    /// The raw sigmoid outputs `a_c`.
    pub outputs: [f32; CLASSES],
    /// Why the answer should not be trusted, if it should not.
    pub unsure: Option<Unsure>,
}

/// Why an answer is unsure.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Unsure {
    /// Even the largest output is low: the image is unlike any digit the network knows.
    NoOutputFires { output: f32, min_output: f32 },
    /// The top probability is low: two or more digits compete.
    LowProbability {
        probability: f32,
        min_probability: f32,
    },
}

impl fmt::Display for Unsure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Unsure::NoOutputFires { output, min_output } => write!(
                f,
                "it looks unlike any digit (the strongest output is {output:.2}, under \
                 {min_output:.2})"
            ),
            Unsure::LowProbability {
                probability,
                min_probability,
            } => write!(
                f,
                "the top probability {:.0}% is under {:.0}%",
                100.0 * probability,
                100.0 * min_probability
            ),
        }
    }
}

/// Runs `network` on a preprocessed image.
pub fn predict(
    network: &Network,
    image: &Preprocessed,
    confidence: &Confidence,
) -> Result<Prediction> {
    predict_pixels(network, &image.pixels, confidence)
}

/// Runs `network` on 784 pixels in MNIST form (0 background .. 255 ink), e.g. those of
/// [`crate::preprocess::naive`] or of a data set.
pub fn predict_pixels(
    network: &Network,
    pixels: &[u8],
    confidence: &Confidence,
) -> Result<Prediction> {
    let layers = activations(network, pixels)?;
    Ok(read_activations(&layers, confidence))
}

/// Every layer's activations `A[1] ..= A[L]` for one image of pixels in MNIST form, from one
/// forward pass; the last is the ten outputs. The page and the activations plot show them all,
/// [`read_activations`] reads the answer from them.
pub fn activations(network: &Network, pixels: &[u8]) -> Result<Vec<Vec<f32>>> {
    if network.inputs() != pixels.len() || network.outputs() != CLASSES {
        return Err(Error::ImageMismatch {
            inputs: network.inputs(),
            outputs: network.outputs(),
            pixels: pixels.len(),
            expected_pixels: PIXELS,
            classes: CLASSES,
        });
    }
    let x: Vec<f32> = pixels.iter().map(|&p| normalise_pixel(p)).collect();
    let mut ws = network.workspace(1);
    network.forward(MatRef::col_major(&x, pixels.len(), 1), &mut ws);
    Ok((1..=network.layers().len())
        .map(|l| ws.activations(l, 1).to_vec())
        .collect())
}

/// One connection's share of a neuron's input for one image: `W[l][to][from] · A[l−1][from]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Contribution {
    /// The neuron of the layer below (a pixel for the first layer).
    pub from: usize,
    /// The neuron it feeds.
    pub to: usize,
    /// `w·a`: positive excites, negative inhibits.
    pub value: f32,
}

/// For each layer `l = 1..=L`, the `k` connections with the largest `|W[l][o][i] · A[l−1][i]|`
/// for one image, largest first: what the page's network view draws, each line as wide as its
/// contribution to `Z[l] = W[l]·A[l−1] + B[l]`. `pixels` are the image's inputs in MNIST form,
/// `layers` its [`activations`].
pub fn strongest_contributions(
    network: &Network,
    pixels: &[u8],
    layers: &[Vec<f32>],
    k: usize,
) -> Vec<Vec<Contribution>> {
    let x: Vec<f32> = pixels.iter().map(|&p| normalise_pixel(p)).collect();
    network
        .layers()
        .iter()
        .enumerate()
        .map(|(l, layer)| {
            let below = if l == 0 { &x } else { &layers[l - 1] };
            // A blank pixel (or a silent neuron) contributes nothing: only the others are tried.
            let active: Vec<usize> = (0..below.len()).filter(|&i| below[i] != 0.0).collect();
            let mut all: Vec<Contribution> = Vec::with_capacity(layer.outputs * active.len());
            for o in 0..layer.outputs {
                let row = &layer.weight[o * layer.inputs..(o + 1) * layer.inputs];
                for &i in &active {
                    let value = row[i] * below[i];
                    if value != 0.0 {
                        all.push(Contribution {
                            from: i,
                            to: o,
                            value,
                        });
                    }
                }
            }
            let k = k.min(all.len());
            if k > 0 {
                all.select_nth_unstable_by(k - 1, |a, b| b.value.abs().total_cmp(&a.value.abs()));
                all.truncate(k);
                all.sort_by(|a, b| b.value.abs().total_cmp(&a.value.abs()));
            }
            all
        })
        .collect()
}

/// The answer that the activations of [`activations`] give: their last layer, the outputs, read
/// by [`read_outputs`].
pub fn read_activations(layers: &[Vec<f32>], confidence: &Confidence) -> Prediction {
    let mut outputs = [0.0; CLASSES];
    // One image: the (C, 1) output is the ten outputs in order.
    outputs.copy_from_slice(&layers[layers.len() - 1]);
    read_outputs(outputs, confidence)
}

/// The outputs normalised to sum to 1: `p_c = a_c / Σ a`. Sigmoid outputs are positive, so the
/// sum is too (all ten equal if it underflows to 0).
pub fn probabilities(outputs: &[f32; CLASSES]) -> [f32; CLASSES] {
    let sum: f32 = outputs.iter().sum();
    if sum > 0.0 {
        outputs.map(|a| a / sum)
    } else {
        [1.0 / CLASSES as f32; CLASSES]
    }
}

/// The answer that the outputs `a` give: digit, runner-up, probabilities and the verdict.
pub fn read_outputs(outputs: [f32; CLASSES], confidence: &Confidence) -> Prediction {
    let probabilities = probabilities(&outputs);
    let mut order: [usize; CLASSES] = std::array::from_fn(|c| c);
    // Stable: of equal outputs the smaller digit comes first, as in `network::argmax`.
    order.sort_by(|&a, &b| outputs[b].total_cmp(&outputs[a]));
    let (digit, runner_up) = (order[0], order[1]);
    let unsure = if outputs[digit] < confidence.min_output {
        Some(Unsure::NoOutputFires {
            output: outputs[digit],
            min_output: confidence.min_output,
        })
    } else if probabilities[digit] < confidence.min_probability {
        Some(Unsure::LowProbability {
            probability: probabilities[digit],
            min_probability: confidence.min_probability,
        })
    } else {
        None
    };
    Prediction {
        digit: digit as u8,
        probability: probabilities[digit],
        runner_up: runner_up as u8,
        runner_up_probability: probabilities[runner_up],
        probabilities,
        outputs,
        unsure,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_strongest_contributions_are_the_largest_w_times_a_of_each_layer() {
        use crate::nn::layer::Init;
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let network =
            Network::new_random(&[784, 6, 10], Default::default(), Init::Lecun, &mut rng).unwrap();
        let pixels: Vec<u8> = (0..784)
            .map(|i| if i % 29 == 0 { 255 } else { 0 })
            .collect();
        let layers = activations(&network, &pixels).unwrap();
        let strongest = strongest_contributions(&network, &pixels, &layers, 5);
        assert_eq!(strongest.len(), 2);
        for (l, top) in strongest.iter().enumerate() {
            assert_eq!(top.len(), 5);
            let layer = &network.layers()[l];
            let below: Vec<f32> = match l {
                0 => pixels.iter().map(|&p| normalise_pixel(p)).collect(),
                _ => layers[0].clone(),
            };
            let mut every: Vec<f32> = (0..layer.outputs * layer.inputs)
                .map(|j| (layer.weight[j] * below[j % layer.inputs]).abs())
                .collect();
            every.sort_by(|a, b| b.total_cmp(a));
            for (c, want) in top.iter().zip(&every) {
                assert_eq!(c.value.abs(), *want);
                let w = layer.weight[c.to * layer.inputs + c.from];
                assert_eq!(c.value, w * below[c.from]);
            }
        }
        // Blank pixels contribute nothing, so only drawn ones are named.
        assert!(strongest[0].iter().all(|c| pixels[c.from] == 255));
    }
    use crate::nn::layer::Init;
    use crate::nn::network::Functions;
    use rand::SeedableRng;

    #[test]
    fn probabilities_are_the_outputs_normalised() {
        let mut a = [0.01; CLASSES];
        a[7] = 0.9;
        a[1] = 0.05;
        let p = probabilities(&a);
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!((p[7] - 0.9 / 1.03).abs() < 1e-6);
    }

    #[test]
    fn the_digit_and_runner_up_are_the_two_largest_outputs() {
        let mut a = [0.01; CLASSES];
        a[7] = 0.9;
        a[1] = 0.05;
        let p = read_outputs(a, &Confidence::default());
        assert_eq!((p.digit, p.runner_up), (7, 1));
        assert_eq!(p.unsure, None);
    }

    #[test]
    fn two_competing_digits_are_unsure() {
        let mut a = [0.01; CLASSES];
        a[4] = 0.6;
        a[9] = 0.55;
        let p = read_outputs(a, &Confidence::default());
        assert_eq!((p.digit, p.runner_up), (4, 9));
        assert!(matches!(p.unsure, Some(Unsure::LowProbability { .. })));
    }

    #[test]
    fn low_outputs_are_unsure_even_if_one_dominates() {
        let mut a = [0.001; CLASSES];
        a[3] = 0.1;
        let p = read_outputs(a, &Confidence::default());
        assert!(p.probability > 0.9);
        let unsure = p.unsure.unwrap();
        assert!(matches!(unsure, Unsure::NoOutputFires { .. }));
        assert!(unsure.to_string().contains("unlike any digit"), "{unsure}");
    }

    #[test]
    fn a_network_of_the_wrong_shape_is_refused() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let net =
            Network::new_random(&[100, 10], Functions::ORIGINAL, Init::Lecun, &mut rng).unwrap();
        let err = predict_pixels(&net, &[0; PIXELS], &Confidence::default()).unwrap_err();
        assert!(matches!(err, Error::ImageMismatch { .. }), "{err}");
    }

    #[test]
    fn one_image_gives_the_outputs_of_a_batch() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
        let net = Network::new_random(
            &[PIXELS, 16, 10],
            Functions::ORIGINAL,
            Init::Lecun,
            &mut rng,
        )
        .unwrap();
        let pixels: Vec<u8> = (0..2 * PIXELS).map(|i| (i * 37 % 256) as u8).collect();
        let x: Vec<f32> = pixels.iter().map(|&p| normalise_pixel(p)).collect();
        let mut ws = net.workspace(2);
        let batch = net
            .forward(MatRef::col_major(&x, PIXELS, 2), &mut ws)
            .to_vec();
        for j in 0..2 {
            let p = predict_pixels(
                &net,
                &pixels[j * PIXELS..][..PIXELS],
                &Confidence::default(),
            )
            .unwrap();
            // The matrix product may sum in another order for one column: a few ulps apart.
            for c in 0..CLASSES {
                assert!((p.outputs[c] - batch[c * 2 + j]).abs() < 1e-5);
            }
        }
    }
}

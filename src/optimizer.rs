//! The update rule: how the gradients change the parameters.
//!
//! What it is: plain gradient descent, the original network's optimizer. What it is not: the
//! gradients themselves (see [`crate::network::Network::backward`]).

use crate::network::{Gradients, Network};
use crate::team::{self, row_blocks};
use smallvec::SmallVec;

/// Stochastic gradient descent: a step of length `η` (the learning rate) against the gradient,
/// computed on one mini-batch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sgd {
    /// `η`.
    pub learning_rate: f32,
}

impl Sgd {
    /// The update of some parameters `θ` from their gradients: `θ := θ − η·dθ`, i.e.
    /// `W := W − η·dW` for weights and `B := B − η·dB` for biases.
    pub fn update(&self, params: &mut [f32], grads: &[f32]) {
        debug_assert_eq!(params.len(), grads.len());
        let eta = self.learning_rate;
        for (p, &g) in params.iter_mut().zip(grads) {
            *p -= eta * g;
        }
    }

    /// One step for every layer of `network`, with the gradients of [`Network::backward`]; the
    /// layers' neurons are split into blocks, one per thread of the current team.
    pub fn step(&self, network: &mut Network, grads: &Gradients) {
        team::current(|team| {
            for (layer, g) in network.layers_mut().iter_mut().zip(&grads.layers) {
                let (inputs, outputs) = (layer.inputs, layer.outputs);
                // An update is one multiply-add per parameter; share it only when it is large.
                let ranges = team.row_ranges(outputs, outputs * inputs * 8);
                let weights = row_blocks(&mut layer.weight, inputs, &ranges);
                let biases = row_blocks(&mut layer.bias, 1, &ranges);
                let mut parts: SmallVec<[_; 8]> =
                    (ranges.into_iter().zip(weights)).zip(biases).collect();
                team.for_each(&mut parts, |((rows, w), b)| {
                    // W := W − η·dW, B := B − η·dB, for the neurons `rows`
                    self.update(w, &g.dweight[rows.start * inputs..rows.end * inputs]);
                    self.update(b, &g.dbias[rows.clone()]);
                });
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::Activation;
    use crate::layer::{Dense, DenseGrads};

    #[test]
    fn a_step_moves_against_the_gradient() {
        let layer = Dense {
            inputs: 1,
            outputs: 2,
            weight: vec![1.0, 1.0],
            bias: vec![0.0, 0.0],
        };
        let mut network = Network::from_layers(vec![layer], Activation::Sigmoid).unwrap();
        let grads = Gradients {
            layers: vec![DenseGrads {
                dweight: vec![2.0, -4.0],
                dbias: vec![1.0, 0.0],
            }],
        };
        Sgd { learning_rate: 0.5 }.step(&mut network, &grads);
        assert_eq!(network.layers()[0].weight, [0.0, 3.0]);
        assert_eq!(network.layers()[0].bias, [-0.5, 0.0]);
    }
}

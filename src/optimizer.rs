//! The update rule: how the gradients change the parameters.
//!
//! What it is: plain gradient descent, the original network's optimizer. What it is not: the
//! gradients themselves (see [`crate::network::Network::backward`]).

use crate::layer::{Dense, DenseGrads};

/// Stochastic gradient descent: a step of length `η` (the learning rate) against the gradient,
/// computed on one mini-batch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sgd {
    /// `η`.
    pub learning_rate: f32,
}

impl Sgd {
    /// `W := W − η·dW`, `B := B − η·dB`, for one layer.
    pub fn step(&self, layer: &mut Dense, grads: &DenseGrads) {
        let eta = self.learning_rate;
        for (w, &dw) in layer.weight.iter_mut().zip(&grads.dweight) {
            *w -= eta * dw;
        }
        for (b, &db) in layer.bias.iter_mut().zip(&grads.dbias) {
            *b -= eta * db;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_moves_against_the_gradient() {
        let mut layer = Dense {
            inputs: 1,
            outputs: 2,
            weight: vec![1.0, 1.0],
            bias: vec![0.0, 0.0],
        };
        let grads = DenseGrads {
            dweight: vec![2.0, -4.0],
            dbias: vec![1.0, 0.0],
        };
        Sgd { learning_rate: 0.5 }.step(&mut layer, &grads);
        assert_eq!(layer.weight, [0.0, 3.0]);
        assert_eq!(layer.bias, [-0.5, 0.0]);
    }
}

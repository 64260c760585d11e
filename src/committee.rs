//! A committee of networks: several trained models that answer together by averaging their
//! outputs.
//!
//! What it is: [`Committee`], a list of [`Model`]s that read the same images into the same
//! classes with the same output function, and the committee's answer for an image,
//!
//! ```text
//! A_committee = (1/K)·Σₖ A[L]ₖ
//! ```
//!
//! the mean of the `K` members' outputs, read like one network's ([`Committee::evaluate`],
//! [`Committee::predict_pixels`]). Cireşan, Meier, Gambardella and Schmidhuber average seven
//! MLPs this way and take MNIST's error from their best single net's 0.35% to 0.31% ("Deep, big,
//! simple neural nets for handwritten digit recognition", Neural Computation 2010); the members
//! differ in their initial weights and deformations, so their mistakes differ too.
//!
//! What it is not: training (each member is trained on its own, e.g. with different `--seed`s),
//! nor a weighted vote: every member counts the same. Members with different output functions
//! are refused, as a sigmoid's outputs and a softmax's probabilities do not average into either.

use crate::data::{CLASSES, Dataset};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::metrics::{Evaluation, check_fits, evaluation_of};
use crate::model::Model;
use crate::nn::network::{argmax, predicted_classes};
use crate::predict::{Confidence, Prediction, activations, read_outputs};

/// Several models that answer together (see the module documentation).
#[derive(Debug, Clone)]
pub struct Committee {
    members: Vec<Model>,
}

impl Committee {
    /// A committee of `members`, which must take the same number of inputs, give the same
    /// number of outputs under the same class names, and end in the same output function.
    /// One member is allowed: it answers as it does alone.
    pub fn new(members: Vec<Model>) -> Result<Self> {
        let Some(first) = members.first() else {
            return Err(Error::Committee {
                member: 0,
                reason: "a committee needs at least one model".to_string(),
            });
        };
        let (network, classes) = (&first.network, &first.classes);
        for (k, member) in members.iter().enumerate().skip(1) {
            let other = &member.network;
            let reason = if other.inputs() != network.inputs() {
                Some(format!(
                    "takes {} inputs where the first takes {}",
                    other.inputs(),
                    network.inputs()
                ))
            } else if other.outputs() != network.outputs() {
                Some(format!(
                    "gives {} outputs where the first gives {}",
                    other.outputs(),
                    network.outputs()
                ))
            } else if &member.classes != classes {
                Some(format!(
                    "names its classes {:?} where the first names them {:?}",
                    member.classes, classes
                ))
            } else if other.functions().output != network.functions().output {
                Some(format!(
                    "ends in a {} where the first ends in a {}: their outputs do not average \
                     into one kind",
                    other.functions().output,
                    network.functions().output
                ))
            } else {
                None
            };
            if let Some(reason) = reason {
                return Err(Error::Committee { member: k, reason });
            }
        }
        Ok(Committee { members })
    }

    /// The members, in the order given.
    pub fn members(&self) -> &[Model] {
        &self.members
    }

    /// The number of members `K`.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Never true: [`Committee::new`] refuses an empty list.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The class names, which every member shares.
    pub fn classes(&self) -> &[String] {
        &self.members[0].classes
    }

    /// The mean output `(1/K)·Σₖ A[L]ₖ` of every image of `data`, image after image:
    /// `outputs[i·C + c]` for image `i` and class `c`, `C` the number of outputs.
    pub fn mean_outputs(&self, engine: &dyn Engine, data: &Dataset) -> Result<Vec<f32>> {
        self.mean_outputs_and_members(engine, data, &mut |_, _, _| {})
    }

    /// [`Committee::mean_outputs`], calling `each(member, image, class)` with every member's own
    /// class for every image as its outputs go by: one pass of each network gives both.
    fn mean_outputs_and_members(
        &self,
        engine: &dyn Engine,
        data: &Dataset,
        each: &mut dyn FnMut(usize, usize, usize),
    ) -> Result<Vec<f32>> {
        let classes = self.members[0].network.outputs();
        let mut sum = vec![0.0f32; data.len() * classes];
        for (m, member) in self.members.iter().enumerate() {
            check_fits(&member.network, data)?;
            engine.outputs(&member.network, data, &mut |indices, output| {
                // `output` is (C, n) row-major: class c of the batch's image j at c·n + j.
                let n = indices.len();
                for (j, &i) in indices.iter().enumerate() {
                    for c in 0..classes {
                        sum[i * classes + c] += output[c * n + j];
                    }
                }
                for (&i, class) in indices.iter().zip(predicted_classes(output, classes)) {
                    each(m, i, class);
                }
            })?;
        }
        let k = self.members.len() as f32;
        sum.iter_mut().for_each(|v| *v /= k);
        Ok(sum)
    }

    /// The committee's class for every image of `data`: the largest mean output (of equal
    /// ones, the smaller class, as for one network).
    pub fn predict_all(&self, engine: &dyn Engine, data: &Dataset) -> Result<Vec<u8>> {
        self.predict_all_and_members(engine, data, &mut |_, _, _| {})
    }

    /// The committee's accuracy and confusion matrix on `data`.
    pub fn evaluate(&self, engine: &dyn Engine, data: &Dataset) -> Result<Evaluation> {
        Ok(evaluation_of(data, &self.predict_all(engine, data)?))
    }

    /// The committee's class for every image of `data` and each member's own evaluation on it,
    /// in one pass of each member's network (what `ziffer eval` of a committee reports).
    pub fn predict_all_and_evaluate_members(
        &self,
        engine: &dyn Engine,
        data: &Dataset,
    ) -> Result<(Vec<u8>, Vec<Evaluation>)> {
        let mut members = vec![vec![0u8; data.len()]; self.members.len()];
        let predicted = self.predict_all_and_members(engine, data, &mut |m, i, class| {
            members[m][i] = class as u8;
        })?;
        let members = members.iter().map(|p| evaluation_of(data, p)).collect();
        Ok((predicted, members))
    }

    /// [`Committee::predict_all`], with [`Committee::mean_outputs_and_members`]'s `each`.
    fn predict_all_and_members(
        &self,
        engine: &dyn Engine,
        data: &Dataset,
        each: &mut dyn FnMut(usize, usize, usize),
    ) -> Result<Vec<u8>> {
        let classes = self.members[0].network.outputs();
        let mean = self.mean_outputs_and_members(engine, data, each)?;
        Ok(mean
            .chunks_exact(classes)
            .map(|outputs| argmax(outputs) as u8)
            .collect())
    }

    /// The committee's answer for one image of 784 pixels in MNIST form (0 background .. 255
    /// ink): the mean of the members' outputs, read as [`crate::predict::read_outputs`] reads
    /// one network's.
    pub fn predict_pixels(&self, pixels: &[u8], confidence: &Confidence) -> Result<Prediction> {
        let mut mean = [0.0f32; CLASSES];
        for member in &self.members {
            let layers = activations(&member.network, pixels)?;
            for (m, a) in mean.iter_mut().zip(&layers[layers.len() - 1]) {
                *m += a;
            }
        }
        let k = self.members.len() as f32;
        Ok(read_outputs(mean.map(|m| m / k), confidence))
    }

    /// What `ziffer info --json` says of a committee: `committee: true`, the number of members
    /// and each member's own summary ([`Model::summary`]).
    pub fn summary(&self) -> serde_json::Value {
        serde_json::json!({
            "committee": true,
            "size": self.members.len(),
            "classes": self.classes(),
            "parameters": self.members.iter().map(|m| m.network.parameter_count()).sum::<usize>(),
            "members": self.members.iter().map(Model::summary).collect::<Vec<_>>(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::Cpu;
    use crate::data::mnist::load_bundled;
    use crate::metrics::{evaluate, predict_all};
    use crate::nn::activation::Output;
    use crate::nn::network::Functions;
    use crate::settings::{TrainConfig, TrainSettings};

    fn model(seed: u64, layers: &[usize], output: Output) -> Model {
        Model::new(&TrainConfig {
            layers: layers.to_vec(),
            functions: Functions::choose(None, Some(output), None),
            settings: TrainSettings {
                seed,
                ..TrainSettings::default()
            },
            ..TrainConfig::default()
        })
        .unwrap()
    }

    #[test]
    fn a_committee_of_one_answers_as_its_member() {
        let test = load_bundled().unwrap().test.take(300);
        let member = model(1, &[784, 16, 10], Output::Sigmoid);
        let engine = Cpu::new(1).unwrap();
        let alone = evaluate(&engine, &member.network, &test).unwrap();
        let committee = Committee::new(vec![member.clone()]).unwrap();
        assert_eq!(committee.evaluate(&engine, &test).unwrap(), alone);
        assert_eq!(
            committee.predict_all(&engine, &test).unwrap(),
            predict_all(&engine, &member.network, &test).unwrap()
        );
    }

    #[test]
    fn the_committees_output_is_the_mean_of_its_members() {
        let test = load_bundled().unwrap().test.take(120);
        let members: Vec<Model> = (0..3)
            .map(|seed| model(seed, &[784, 12, 10], Output::Softmax))
            .collect();
        let engine = Cpu::new(1).unwrap();
        let committee = Committee::new(members.clone()).unwrap();
        let mean = committee.mean_outputs(&engine, &test).unwrap();
        for i in [0, 57, 119] {
            let pixels = test.image(i);
            let mut expected = [0.0f32; CLASSES];
            for m in &members {
                let layers = activations(&m.network, pixels).unwrap();
                for (e, a) in expected.iter_mut().zip(&layers[layers.len() - 1]) {
                    *e += a / 3.0;
                }
            }
            for c in 0..CLASSES {
                let got = mean[i * CLASSES + c];
                assert!((got - expected[c]).abs() < 1e-5, "image {i}, class {c}");
            }
            let answer = committee
                .predict_pixels(pixels, &Confidence::default())
                .unwrap();
            assert_eq!(answer.digit as usize, argmax(&expected));
            let total: f32 = answer.outputs.iter().sum();
            assert!(
                (total - 1.0).abs() < 1e-5,
                "softmax means sum to 1: {total}"
            );
        }
    }

    #[test]
    fn members_that_do_not_fit_together_are_refused_with_the_reason() {
        let base = model(1, &[784, 8, 10], Output::Sigmoid);
        let err = Committee::new(Vec::new()).unwrap_err().to_string();
        assert!(err.contains("at least one model"), "{err}");
        let softmax = model(2, &[784, 8, 10], Output::Softmax);
        let err = Committee::new(vec![base.clone(), softmax])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("member 2") && err.contains("ends in a softmax"),
            "{err}"
        );
        let mut fashion = model(3, &[784, 8, 10], Output::Sigmoid);
        fashion.classes = crate::data::classes::fashion();
        let err = Committee::new(vec![base.clone(), base.clone(), fashion])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("member 3") && err.contains("names its classes"),
            "{err}"
        );
        let small = model(4, &[100, 8, 10], Output::Sigmoid);
        let err = Committee::new(vec![base, small]).unwrap_err().to_string();
        assert!(
            err.contains("takes 100 inputs where the first takes 784"),
            "{err}"
        );
    }
}

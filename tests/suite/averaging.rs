//! Stochastic weight averaging (`--average-from`): the model is the mean of the weights at the
//! end of the epochs averaged, training goes on from the last ones as if there were no average,
//! and a saved run resumes to the same bits, before, at and after the epoch averaging begins.

use std::sync::OnceLock;
use ziffer::cpu::Cpu;
use ziffer::data::{Dataset, TrainTest, mnist};
use ziffer::model::{Model, Resume};
use ziffer::model_file;
use ziffer::nn::activation::{Activation, Output};
use ziffer::nn::loss::Loss;
use ziffer::nn::network::{Functions, Network};
use ziffer::settings::{SettingsChanges, TrainConfig, TrainSettings};
use ziffer::train::{Event, Sets, train};

fn mnist() -> &'static TrainTest {
    static DATA: OnceLock<TrainTest> = OnceLock::new();
    DATA.get_or_init(|| mnist::load_bundled().expect("the bundled MNIST loads"))
}

/// A small ReLU network with Nesterov momentum, dropout and a constant rate, averaged from
/// `average_from` on.
fn config(average_from: Option<usize>) -> TrainConfig {
    TrainConfig {
        layers: vec![784, 24, 10],
        functions: Functions {
            hidden: Activation::Relu,
            output: Output::Softmax,
            loss: Loss::CrossEntropy,
        },
        settings: TrainSettings {
            optimizer: "nesterov".parse().unwrap(),
            schedule: "0.05".parse().unwrap(),
            batch_size: 32,
            dropout: 0.1,
            average_from,
            ..TrainSettings::default()
        },
        ..TrainConfig::default()
    }
}

fn sets() -> (Dataset, Dataset) {
    (mnist().train.take(800), mnist().test.take(300))
}

/// Trains `model` `epochs` more epochs and returns the network after each of them.
fn run(model: &mut Model, epochs: usize) -> Vec<Network> {
    let (train_set, test_set) = sets();
    let mut networks = Vec::new();
    train(
        model,
        Sets::new(&train_set, &test_set),
        epochs,
        &Cpu::new(1).unwrap(),
        |event| {
            if let Event::EpochEnd { model, .. } = event {
                networks.push(model.network.clone());
            }
            Ok(())
        },
    )
    .unwrap();
    networks
}

#[test]
fn the_model_is_the_mean_of_the_epochs_weights_and_training_goes_on_from_the_last() {
    let mut plain = Model::new(&config(None)).unwrap();
    let points = run(&mut plain, 5);
    let mut averaged = Model::new(&config(Some(3))).unwrap();
    let means = run(&mut averaged, 5);

    // Before epoch 3 the model is the weights themselves; from epoch 3 on, the mean of the
    // weights after epochs 3, ..., e, computed here in f64 from the plain run's.
    assert_eq!(means[0], points[0]);
    assert_eq!(means[1], points[1]);
    assert_eq!(
        means[2], points[2],
        "the first epoch averaged is its own mean"
    );
    for (e, mean_network) in means.iter().enumerate().skip(3) {
        for (l, layer) in mean_network.layers().iter().enumerate() {
            for (i, &m) in layer.weight.iter().enumerate() {
                let mean = (2..=e)
                    .map(|k| points[k].layers()[l].weight[i] as f64)
                    .sum::<f64>()
                    / (e - 1) as f64;
                assert!(
                    (m as f64 - mean).abs() < 1e-6 * (1.0 + mean.abs()),
                    "epoch {}, layer {l}, weight {i}: {m} against {mean}",
                    e + 1
                );
            }
        }
    }
    assert_ne!(means[4], points[4]);
    // Averaging changes nothing in the training itself: its last weights are the plain run's.
    assert_eq!(averaged.iterate.as_ref(), Some(&points[4]));
    assert_eq!(averaged.optimizer_state, plain.optimizer_state);
    assert!(plain.iterate.is_none());
    // The history measures the mean.
    let (_, test_set) = sets();
    let accuracy = ziffer::metrics::evaluate(&Cpu::new(1).unwrap(), &means[4], &test_set)
        .unwrap()
        .accuracy();
    assert_eq!(averaged.test_accuracy(), Some(accuracy));
}

#[test]
fn a_run_saved_before_at_or_after_the_first_averaged_epoch_resumes_to_the_same_bits() {
    let mut straight = Model::new(&config(Some(3))).unwrap();
    run(&mut straight, 5);
    let dir = tempfile::tempdir().unwrap();
    for first in [1, 2, 3, 4] {
        let path = dir.path().join(format!("after-{first}.safetensors"));
        let mut model = Model::new(&config(Some(3))).unwrap();
        run(&mut model, first);
        model_file::save(&model, &path).unwrap();
        let mut resumed = model_file::load(&path).unwrap();
        assert_eq!(resumed, model, "saved after epoch {first}");
        run(&mut resumed, 5 - first);
        assert_eq!(resumed.network, straight.network, "resumed after {first}");
        assert_eq!(resumed.iterate, straight.iterate, "resumed after {first}");
        assert_eq!(
            resumed.optimizer_state, straight.optimizer_state,
            "resumed after {first}"
        );
    }
}

#[test]
fn averaging_can_begin_on_resume_but_not_in_the_past_nor_change_once_begun() {
    let changes = |from| Resume {
        settings: SettingsChanges {
            average_from: Some(from),
            ..SettingsChanges::default()
        },
        ..Resume::default()
    };
    // Two epochs without averaging: it may begin at epoch 3 or later, not at 2.
    let mut model = Model::new(&config(None)).unwrap();
    run(&mut model, 2);
    let err = model.clone().resume(&changes(2)).unwrap_err();
    assert!(err.to_string().contains("from epoch 3 on"), "{err}");
    let mut later = model.clone();
    later.resume(&changes(3)).unwrap();
    assert_eq!(later.settings().average_from, Some(3));
    // Once begun, only the same epoch is accepted.
    run(&mut later, 2);
    assert!(later.iterate.is_some());
    later.clone().resume(&changes(3)).unwrap();
    let err = later.resume(&changes(6)).unwrap_err();
    assert!(err.to_string().contains("from epoch 3 on already"), "{err}");
}

#[test]
fn a_file_that_says_it_averages_but_lacks_the_last_weights_is_refused() {
    let mut model = Model::new(&config(Some(1))).unwrap();
    run(&mut model, 1);
    // Writing the file without the iterate: its metadata still says averaging has begun.
    let mut without = model.clone();
    without.iterate = None;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no-iterate.safetensors");
    model_file::save(&without, &path).unwrap();
    let err = model_file::load(&path).unwrap_err().to_string();
    assert!(
        err.contains("tensor 'iterate.layers.0.weight' is missing"),
        "{err}"
    );
    // And the other way round: weights to go on from in a file that does not average.
    let mut plain = Model::new(&config(None)).unwrap();
    run(&mut plain, 1);
    plain.iterate = Some(plain.network.clone());
    model_file::save(&plain, &path).unwrap();
    let err = model_file::load(&path).unwrap_err().to_string();
    assert!(
        err.contains("unexpected tensor 'iterate.layers.0.bias'"),
        "{err}"
    );
}

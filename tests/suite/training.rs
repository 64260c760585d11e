//! Training as a whole: it learns, on real MNIST too, and it is reproducible and resumable bit
//! for bit.

use std::sync::OnceLock;
use ziffer::Error;
use ziffer::cpu::Cpu;
use ziffer::data::{Dataset, TrainTest, mnist};
use ziffer::metrics::evaluate;
use ziffer::model::Model;
use ziffer::model_file;
use ziffer::nn::activation::{Activation, Output};
use ziffer::nn::loss::Loss;
use ziffer::nn::network::Functions;
use ziffer::nn::optimizer::Optimizer;
use ziffer::schedule::Schedule;
use ziffer::settings::{TrainConfig, TrainSettings};
use ziffer::train::{Event, Sets, train};

/// The bundled MNIST, loaded once for all tests of this file.
fn mnist() -> &'static TrainTest {
    static DATA: OnceLock<TrainTest> = OnceLock::new();
    DATA.get_or_init(|| mnist::load_bundled().expect("the bundled MNIST loads"))
}

fn config(layers: &[usize], schedule: &str, seed: u64) -> TrainConfig {
    TrainConfig {
        layers: layers.to_vec(),
        settings: TrainSettings {
            schedule: schedule.parse().unwrap(),
            seed,
            ..TrainSettings::default()
        },
        ..TrainConfig::default()
    }
}

fn run(model: &mut Model, train_set: &Dataset, test_set: &Dataset, epochs: usize, threads: usize) {
    train(
        model,
        Sets::new(train_set, test_set),
        epochs,
        &Cpu::new(threads).unwrap(),
        |_| Ok(()),
    )
    .unwrap();
}

/// Trains a fresh model and returns it.
fn trained(config: &TrainConfig, images: usize, epochs: usize, threads: usize) -> Model {
    let data = mnist();
    let mut model = Model::new(config).unwrap();
    run(
        &mut model,
        &data.train.take(images),
        &data.test.take(500),
        epochs,
        threads,
    );
    model
}

#[test]
fn a_small_network_learns_100_images_perfectly() {
    let hundred = mnist().train.take(100);
    let mut model = Model::new(&config(&[784, 32, 10], "3", 1)).unwrap();
    run(&mut model, &hundred, &hundred, 150, 1);
    let accuracy = evaluate(&Cpu::new(1).unwrap(), &model.network, &hundred)
        .unwrap()
        .accuracy();
    assert_eq!(
        accuracy,
        1.0,
        "read {:.0}% of its own training images",
        100.0 * accuracy
    );
}

#[test]
fn one_epoch_on_the_mnist_training_set_reads_over_90_percent_of_the_test_set() {
    // One epoch of the default network takes about a second here. (10,000 images are not enough
    // for one epoch: the squared error through output sigmoids learns slowly at first, ~79%.)
    let data = mnist();
    let mut model = Model::new(&TrainConfig::default()).unwrap();
    run(&mut model, &data.train, &data.test, 1, 2);
    let accuracy = evaluate(&Cpu::new(1).unwrap(), &model.network, &data.test)
        .unwrap()
        .accuracy();
    assert!(accuracy >= 0.90, "test accuracy {:.2}%", 100.0 * accuracy);
    assert_eq!(model.test_accuracy(), Some(accuracy));
}

#[test]
fn the_loss_falls_from_epoch_to_epoch() {
    let model = trained(&config(&[784, 32, 10], "3", 5), 2000, 4, 1);
    let losses: Vec<f32> = model
        .training
        .history
        .iter()
        .map(|e| e.train_loss)
        .collect();
    assert!(losses.windows(2).all(|w| w[1] < w[0]), "losses {losses:?}");
}

#[test]
fn the_same_seed_gives_a_bit_identical_model_for_each_thread_count() {
    let c = config(&[784, 40, 20, 10], "3x1,0.3", 7);
    for threads in [1, 2] {
        let a = trained(&c, 600, 2, threads);
        let b = trained(&c, 600, 2, threads);
        assert_eq!(a.network, b.network, "{threads} threads");
    }
}

#[test]
fn one_and_two_threads_give_the_same_model() {
    // Each output element of a product is computed by the same code whatever the split between
    // threads, so the thread count does not change the result (more than the contract promises).
    let c = config(&[784, 40, 20, 10], "3", 8);
    assert_eq!(
        trained(&c, 600, 1, 1).network,
        trained(&c, 600, 1, 2).network
    );
}

#[test]
fn another_seed_gives_another_model() {
    let a = trained(&config(&[784, 16, 10], "3", 1), 300, 1, 1);
    let b = trained(&config(&[784, 16, 10], "3", 2), 300, 1, 1);
    assert_ne!(a.network, b.network);
}

#[test]
fn three_epochs_then_resuming_for_two_equals_five_in_one_go() {
    let data = mnist();
    let (train_set, test_set) = (data.train.take(800), data.test.take(200));
    let c = config(&[784, 24, 12, 10], "3x2,1x2,0.3", 9);

    let mut straight = Model::new(&c).unwrap();
    run(&mut straight, &train_set, &test_set, 5, 1);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("three.safetensors");
    let mut first = Model::new(&c).unwrap();
    run(&mut first, &train_set, &test_set, 3, 1);
    model_file::save(&first, &path).unwrap();
    let mut resumed = model_file::load(&path).unwrap();
    run(&mut resumed, &train_set, &test_set, 2, 1);

    assert_eq!(resumed.network, straight.network);
    let strip = |m: &Model| -> Vec<(usize, f32, f32, f64)> {
        m.training
            .history
            .iter()
            .map(|e| (e.epoch, e.lr, e.train_loss, e.test_accuracy))
            .collect()
    };
    assert_eq!(strip(&resumed), strip(&straight));
    assert_eq!(
        resumed
            .training
            .history
            .iter()
            .map(|e| e.lr)
            .collect::<Vec<_>>(),
        [3.0, 3.0, 1.0, 1.0, 0.3]
    );
}

#[test]
fn a_non_finite_loss_stops_training_and_keeps_the_last_good_weights() {
    let data = mnist();
    let (train_set, test_set) = (data.train.take(200), data.test.take(100));
    let mut model = Model::new(&config(&[784, 16, 10], "3", 4)).unwrap();
    run(&mut model, &train_set, &test_set, 1, 1);
    // Damage one weight: every image now produces a NaN loss.
    model.network.layers_mut()[1].weight[0] = f32::INFINITY;
    let before = model.clone();
    let mut epochs_ended = 0;
    let err = train(
        &mut model,
        Sets::new(&train_set, &test_set),
        2,
        &Cpu::new(1).unwrap(),
        |event| {
            if let Event::EpochEnd { .. } = event {
                epochs_ended += 1;
            }
            Ok(())
        },
    )
    .unwrap_err();
    assert!(matches!(err, Error::Diverged { epoch: 2, .. }), "{err}");
    assert!(err.to_string().contains("smaller learning rate"), "{err}");
    assert_eq!(epochs_ended, 0);
    assert_eq!(
        model, before,
        "the model must be as it was before the failed epoch"
    );
}

#[test]
fn data_that_does_not_fit_the_network_is_refused_before_training() {
    let data = mnist();
    let mut model = Model::new(&config(&[100, 10], "3", 1)).unwrap();
    let (train_set, test_set) = (data.train.take(10), data.test.take(10));
    let err = train(
        &mut model,
        Sets::new(&train_set, &test_set),
        1,
        &Cpu::new(1).unwrap(),
        |_| Ok(()),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("784 pixels, but the network takes 100 inputs"),
        "{err}"
    );
}

#[test]
fn schedules_survive_the_model_file() {
    let schedule: Schedule = "0.5x2,0.05".parse().unwrap();
    let mut model = Model::new(&TrainConfig {
        layers: vec![784, 10],
        settings: TrainSettings {
            schedule: schedule.clone(),
            ..TrainSettings::default()
        },
        ..TrainConfig::default()
    })
    .unwrap();
    model.training.settings.batch_size = 17;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    model_file::save(&model, &path).unwrap();
    let loaded = model_file::load(&path).unwrap();
    assert_eq!(loaded.settings().schedule, schedule);
    assert_eq!(loaded.settings().batch_size, 17);
}

/// A ReLU network with softmax, cross-entropy, Adam, weight decay, dropout and augmentation: every
/// piece of training that draws random numbers or keeps state.
fn modern_config(seed: u64) -> TrainConfig {
    TrainConfig {
        layers: vec![784, 40, 20, 10],
        functions: Functions {
            hidden: Activation::Relu,
            output: Output::Softmax,
            loss: Loss::CrossEntropy,
        },
        settings: TrainSettings {
            optimizer: Optimizer::ADAM,
            schedule: "0.002x2,0.001".parse().unwrap(),
            weight_decay: 1e-4,
            dropout: 0.2,
            label_smoothing: 0.1,
            augment: "elastic".parse().unwrap(),
            seed,
            ..TrainSettings::default()
        },
        ..TrainConfig::default()
    }
}

#[test]
fn dropout_augmentation_and_adam_are_bit_reproducible_for_each_thread_count() {
    let c = modern_config(3);
    for threads in [1, 2] {
        let a = trained(&c, 400, 2, threads);
        let b = trained(&c, 400, 2, threads);
        assert_eq!(a.network, b.network, "{threads} threads");
        assert_eq!(a.optimizer_state, b.optimizer_state, "{threads} threads");
    }
    assert_eq!(
        trained(&c, 400, 2, 1).network,
        trained(&c, 400, 2, 2).network
    );
    assert_ne!(
        trained(&c, 400, 2, 1).network,
        trained(&modern_config(4), 400, 2, 1).network
    );
}

#[test]
fn resuming_adam_with_dropout_and_augmentation_equals_an_uninterrupted_run() {
    let data = mnist();
    let (train_set, test_set) = (data.train.take(600), data.test.take(200));
    let c = modern_config(9);
    let mut straight = Model::new(&c).unwrap();
    run(&mut straight, &train_set, &test_set, 3, 1);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("two.safetensors");
    let mut first = Model::new(&c).unwrap();
    run(&mut first, &train_set, &test_set, 2, 1);
    model_file::save(&first, &path).unwrap();
    let mut resumed = model_file::load(&path).unwrap();
    assert_eq!(resumed.optimizer_state, first.optimizer_state);
    run(&mut resumed, &train_set, &test_set, 1, 1);
    assert_eq!(resumed.network, straight.network);
    assert_eq!(
        resumed.optimizer_state.steps,
        straight.optimizer_state.steps
    );
}

#[test]
fn a_modern_network_learns_mnist_better_than_chance_in_one_epoch() {
    let model = trained(&modern_config(1), 5000, 1, 2);
    let accuracy = model.test_accuracy().unwrap();
    assert!(accuracy > 0.75, "test accuracy {:.2}%", 100.0 * accuracy);
}

#[test]
fn validation_is_measured_and_training_stops_after_the_patience() {
    let data = mnist();
    let (rest, validation) = data.train.take(1200).split_validation(200).unwrap();
    assert_eq!((rest.len(), validation.len()), (1000, 200));
    assert_eq!(validation.image(0), data.train.image(1000));
    let test_set = data.test.take(200);
    // A rate this small barely moves the network: the validation accuracy soon stops improving.
    let mut model = Model::new(&{
        let mut config = config(&[784, 16, 10], "0.00001", 2);
        config.settings.patience = Some(2);
        config
    })
    .unwrap();
    let mut stopped = None;
    let sets = Sets {
        train: &rest,
        validation: Some(&validation),
        test: &test_set,
    };
    train(&mut model, sets, 50, &Cpu::new(1).unwrap(), |event| {
        if let Event::EarlyStop { best_epoch, .. } = event {
            stopped = Some(best_epoch);
        }
        Ok(())
    })
    .unwrap();
    let history = &model.training.history;
    assert!(history.len() < 50, "ran all {} epochs", history.len());
    assert!(history.iter().all(|e| e.validation_accuracy.is_some()));
    let best = stopped.expect("an early stop");
    assert_eq!(history.len(), best + 2);

    // Resumed, a run that stopped early stops again before training anything, as it did.
    let before = model.clone();
    let mut events = Vec::new();
    train(&mut model, sets, 5, &Cpu::new(1).unwrap(), |event| {
        events.push(format!("{event:?}"));
        Ok(())
    })
    .unwrap();
    assert_eq!(
        events,
        [format!("EarlyStop {{ best_epoch: {best}, patience: 2 }}")]
    );
    assert_eq!(model, before);
}

#[test]
fn distortions_of_images_that_are_not_square_are_refused_and_mixup_alone_trains_on_them() {
    // Moving or erasing pixels needs square images; mixup mixes whole batches and leaves each
    // image as it is, so it needs none.
    let images: Vec<u8> = (0..8 * 28 * 20).map(|i| (i * 37 % 256) as u8).collect();
    let set = Dataset::new(images, vec![1, 2, 3, 4, 5, 6, 7, 8], 28, 20, "narrow").unwrap();
    let train_an_epoch = |augment: &str| {
        let mut model = Model::new(&TrainConfig {
            layers: vec![560, 10],
            settings: TrainSettings {
                augment: augment.parse().unwrap(),
                batch_size: 4,
                ..modern_config(1).settings
            },
            ..modern_config(1)
        })
        .unwrap();
        let before = model.network.clone();
        let sets = Sets::new(&set, &set);
        train(&mut model, sets, 1, &Cpu::new(1).unwrap(), |_| Ok(())).map(|()| (before, model))
    };
    let (before, model) = train_an_epoch("mixup=0.4").unwrap();
    assert!(model.training.history[0].train_loss.is_finite());
    assert_ne!(model.network, before);
    for augment in ["elastic", "flip", "erase=0.5", "crop=1,mixup=0.4"] {
        let err = train_an_epoch(augment).unwrap_err().to_string();
        assert!(
            err.contains("need square images; these are 28x20"),
            "{augment}: {err}"
        );
    }
}

#[test]
fn a_split_that_leaves_no_training_image_is_refused() {
    let ten = mnist().train.take(10);
    for n in [0, 10, 11] {
        let err = ten.clone().split_validation(n).unwrap_err().to_string();
        assert!(err.contains("from 1 to 9"), "{n}: {err}");
    }
}

#[test]
fn distorted_digits_keep_their_labels_and_each_seed_distorts_alike() {
    use ziffer::augment::Augment;
    use ziffer::matrix::MatRef;
    use ziffer::nn::network::predicted_classes;
    use ziffer::rng::image_rng;
    // A network trained on distorted digits reads distorted test digits about as well as one
    // trained and tested on the originals: the distortions change how a digit is written, not
    // which digit it is. (A network trained on the originals alone would not: a dense network
    // has no notion that a digit moved by two pixels is the same digit.)
    let data = mnist();
    let test = data.test.take(2000);
    let accuracy_on = |augment: &Augment, seed: u64| -> (f64, Vec<f32>) {
        let model = trained(
            &TrainConfig {
                layers: vec![784, 64, 10],
                functions: Functions {
                    hidden: Activation::Relu,
                    output: Output::Softmax,
                    loss: Loss::CrossEntropy,
                },
                settings: TrainSettings {
                    optimizer: Optimizer::ADAM,
                    schedule: "0.002".parse().unwrap(),
                    augment: *augment,
                    ..TrainSettings::default()
                },
                ..TrainConfig::default()
            },
            20_000,
            4,
            2,
        );
        let mut x = vec![0.0; 784 * test.len()];
        for (i, column) in x.chunks_exact_mut(784).enumerate() {
            augment.apply(test.image(i), 28, &mut image_rng(seed, 0, i), column);
        }
        let mut ws = model.network.workspace(test.len());
        let output = model
            .network
            .forward(MatRef::col_major(&x, 784, test.len()), &mut ws);
        let right = predicted_classes(output, 10)
            .enumerate()
            .filter(|&(i, c)| c == test.label(i) as usize)
            .count();
        (right as f64 / test.len() as f64, x)
    };
    let (clean, _) = accuracy_on(&Augment::NONE, 1);
    for preset in ["affine", "elastic"] {
        let augment: Augment = preset.parse().unwrap();
        let (distorted, x) = accuracy_on(&augment, 1);
        assert!(
            distorted > clean - 0.05,
            "{preset}: {:.2}% distorted against {:.2}% clean",
            100.0 * distorted,
            100.0 * clean
        );
        let (again, same_seed) = accuracy_on(&augment, 1);
        assert_eq!((again, &same_seed), (distorted, &x), "{preset}: same seed");
        let (_, other_seed) = accuracy_on(&augment, 2);
        assert_ne!(other_seed, x, "{preset}: another seed");
    }
}

/// The mean probability a network gives its own answer on `data`: how sure it is.
fn mean_confidence(network: &ziffer::nn::network::Network, data: &Dataset) -> f64 {
    use ziffer::engine::Engine;
    let (mut sum, classes) = (0.0f64, network.outputs());
    Cpu::new(1)
        .unwrap()
        .outputs(network, data, &mut |indices, a| {
            let n = indices.len();
            for j in 0..n {
                let top = (0..classes).map(|c| a[c * n + j]).fold(0.0f32, f32::max);
                sum += top as f64;
            }
        })
        .unwrap();
    sum / data.len() as f64
}

#[test]
fn label_smoothing_trains_a_network_that_is_less_sure_of_itself() {
    let plain = TrainConfig {
        settings: TrainSettings {
            dropout: 0.0,
            augment: ziffer::augment::Augment::NONE,
            label_smoothing: 0.0,
            ..modern_config(5).settings
        },
        ..modern_config(5)
    };
    let smoothed = TrainConfig {
        settings: TrainSettings {
            label_smoothing: 0.3,
            ..plain.settings.clone()
        },
        ..plain.clone()
    };
    let (plain, smoothed) = (trained(&plain, 2000, 3, 2), trained(&smoothed, 2000, 3, 2));
    let test_set = mnist().test.take(500);
    let (sure, less_sure) = (
        mean_confidence(&plain.network, &test_set),
        mean_confidence(&smoothed.network, &test_set),
    );
    // Smoothing 0.3 aims the right class at 0.73: the outputs stay well short of 1.
    assert!(
        less_sure < sure - 0.05 && less_sure < 0.85,
        "mean top probability {less_sure:.3} with smoothing, {sure:.3} without"
    );
    // It still learns: both read most digits (about 85% here, from 2,000 images and 3 epochs).
    for model in [&plain, &smoothed] {
        let accuracy = model.test_accuracy().unwrap();
        assert!(accuracy > 0.8, "test accuracy {:.2}%", 100.0 * accuracy);
    }
    assert!(smoothed.settings().label_smoothing == 0.3);
}

#[test]
fn mixup_trains_on_the_pairs_it_mixes() {
    use ziffer::augment::mixup::Mix;
    use ziffer::data::batch::{fill_inputs, fill_targets, shuffled_indices};
    use ziffer::engine::{Batch, Engine};
    use ziffer::matrix::MatRef;
    use ziffer::rng::{epoch_rng, mixup_rng};
    let config = TrainConfig {
        settings: TrainSettings {
            dropout: 0.0,
            augment: "mixup=0.4".parse().unwrap(),
            ..modern_config(6).settings
        },
        ..modern_config(6)
    };
    let model = Model::new(&config).unwrap();
    let data = mnist().train.take(1000);
    let (cpu, n) = (Cpu::new(1).unwrap(), model.settings().batch_size);
    let order = shuffled_indices(data.len(), &mut epoch_rng(6, 0));
    // The epoch's second batch: its mixing is keyed by its position, n.
    let indices = &order[n..2 * n];
    let mut trainer = cpu.trainer(&model).unwrap();
    trainer.start_epoch(0);
    let batch = Batch {
        data: &data,
        order: &order,
        indices,
        first: n,
        next: None,
    };
    let loss = trainer.step(batch, 0.001).unwrap().unwrap();
    // The loss the step reports is that of the batch mixed by hand: the images and their
    // targets (smoothed by 0.1, as modern_config asks), each column with its partner's.
    let (mut x, mut y) = (vec![0.0; 784 * n], vec![0.0; 10 * n]);
    fill_inputs(&data, indices, &mut x);
    fill_targets(&data, indices, 0.1, &mut y);
    let unmixed = cpu.loss(
        &model.network,
        MatRef::col_major(&x, 784, n),
        &y,
        &mut model.network.workspace(n),
    );
    let mix = Mix::draw(0.4, n, &mut mixup_rng(6, 0, n));
    mix.mix_images(&mut x, 784, &mut Vec::new());
    mix.mix_targets(&mut y, 10, &mut Vec::new());
    let mixed = cpu.loss(
        &model.network,
        MatRef::col_major(&x, 784, n),
        &y,
        &mut model.network.workspace(n),
    );
    assert_eq!(loss, mixed);
    assert_ne!(loss, unmixed, "λ = {}", mix.lambda);
    // Over whole epochs it still learns, differently from the same run without mixup, and the
    // same at any thread count.
    let plain = TrainConfig {
        settings: TrainSettings {
            augment: ziffer::augment::Augment::NONE,
            ..config.settings.clone()
        },
        ..config.clone()
    };
    let mixed = trained(&config, 2000, 3, 1);
    assert_eq!(trained(&config, 2000, 3, 2).network, mixed.network);
    assert_ne!(trained(&plain, 2000, 3, 1).network, mixed.network);
    let accuracy = mixed.test_accuracy().unwrap();
    assert!(accuracy > 0.8, "test accuracy {:.2}%", 100.0 * accuracy);
}

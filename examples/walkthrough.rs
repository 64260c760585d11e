//! The library used step by step, like the sections of the original notebook:
//! load the data, build the network, train, save, load, predict one image.
//!
//! Run it with `cargo run --release --example walkthrough` (add a number of epochs to train
//! longer, e.g. `-- 18`; the default is 3).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use ziffer::cpu::Cpu;
use ziffer::data::batch::fill_inputs;
use ziffer::data::mnist;
use ziffer::matrix::MatRef;
use ziffer::model::Model;
use ziffer::nn::activation::Activation;
use ziffer::nn::network::{Network, argmax};
use ziffer::settings::TrainConfig;
use ziffer::train::{Event, Sets, train};
use ziffer::{metrics, model_file};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let epochs: usize = std::env::args().nth(1).map_or(Ok(3), |a| a.parse())?;

    // 1. Load the data: the MNIST copy bundled with ziffer, checked against its SHA-256 sums.
    let data = mnist::load_bundled()?;
    println!(
        "1. data: {} training and {} test images of {}x{} pixels",
        data.train.len(),
        data.test.len(),
        data.train.rows(),
        data.train.cols()
    );
    print_digit(data.test.image(0), data.test.cols());
    println!("   (test image 0, label {})", data.test.label(0));

    // 2. Build the network: 784-128-64-10, sigmoid after every layer, weights ~ N(0, 1/inputs).
    let config = TrainConfig::default();
    let mut model = Model::new(&config)?;
    // Where the maths runs: the CPU engine, on one thread.
    let engine = Cpu::new(1)?;
    println!(
        "2. network {:?}: {} parameters; untrained it reads {:.1}% of the test set",
        model.network.sizes(),
        model.network.parameter_count(),
        100.0 * metrics::evaluate(&engine, &model.network, &data.test)?.accuracy()
    );

    // 3. Train: mini-batch SGD, batch 32, learning rate from the default schedule.
    println!(
        "3. training {epochs} epochs, learning rates {}",
        config.settings.schedule
    );
    train(
        &mut model,
        Sets::new(&data.train, &data.test),
        epochs,
        &engine,
        |event| {
            if let Event::EpochEnd { record, .. } = event {
                println!(
                    "   epoch {:2}  lr {:<5}  loss {:.4}  test accuracy {:.2}%  {:.1}s",
                    record.epoch,
                    record.lr,
                    record.train_loss,
                    100.0 * record.test_accuracy,
                    record.seconds
                );
            }
            Ok(())
        },
    )?;

    // 4. Save, as safetensors with the training history in its metadata.
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("walkthrough.safetensors");
    model_file::save(&model, &path)?;
    println!(
        "4. saved to {} ({} bytes)",
        path.display(),
        std::fs::metadata(&path)?.len()
    );

    // 5. Load it back: the same network, bit for bit.
    let loaded = model_file::load(&path)?;
    assert_eq!(loaded, model);
    println!("5. loaded: {} epochs of history", loaded.epochs_trained());

    // 6. Predict one image: pixels to [0, 1], forward, the largest output is the answer.
    let network: &Network = &loaded.network;
    let mut x = vec![0.0; network.inputs()];
    fill_inputs(&data.test, &[0], &mut x);
    let mut ws = network.workspace(1);
    let output = network.forward(MatRef::col_major(&x, network.inputs(), 1), &mut ws);
    println!(
        "6. test image 0 is a {}; the network says {} (outputs {:.2?})",
        data.test.label(0),
        argmax(output),
        output
    );
    let _ = Activation::Sigmoid; // every layer of this network uses it
    let _ = ChaCha8Rng::seed_from_u64(0);
    Ok(())
}

/// Prints a 28x28 digit with characters, darker characters for more ink.
fn print_digit(pixels: &[u8], cols: usize) {
    for row in pixels.chunks(cols).step_by(2) {
        let line: String = row
            .iter()
            .map(|&p| [' ', '.', ':', '+', '#'][(p as usize * 5 / 256).min(4)])
            .collect();
        println!("   {line}");
    }
}

//! The `ziffer` command end to end: train, eval and info on small data sets the tests write
//! themselves, their JSON output, and a clear error (never a panic) for every bad input.

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use tempfile::TempDir;
use ziffer::data::{csv, mnist};

use crate::support::mnist_folder::small_mnist;

fn ziffer() -> Command {
    Command::cargo_bin("ziffer").unwrap()
}

/// Runs `ziffer ARGS --json`, expects success, and parses stdout.
fn json(args: &[&str]) -> Value {
    let out = ziffer().args(args).arg("--json").assert().success();
    serde_json::from_slice(&out.get_output().stdout).expect("stdout is one JSON object")
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Trains a small model on `data` and returns its path.
fn train_small(data: &TempDir, out: &Path, extra: &[&str]) -> PathBuf {
    ziffer()
        .args([
            "train",
            "--data",
            path_str(data.path()),
            "--layers",
            "784,32,10",
        ])
        .args([
            "--epochs",
            "2",
            "--lr",
            "3",
            "--quiet",
            "--out",
            path_str(out),
        ])
        .args(extra)
        .assert()
        .success();
    out.to_path_buf()
}

#[test]
fn train_saves_a_model_and_reports_every_epoch_as_json() {
    let data = small_mnist(500, 200);
    let out = tempfile::tempdir().unwrap();
    let model = out.path().join("m.safetensors");
    let report = json(&[
        "train",
        "--data",
        path_str(data.path()),
        "--layers",
        "784,32,10",
        "--epochs",
        "3",
        "--out",
        path_str(&model),
    ]);
    assert_eq!(report["parameters"], 784 * 32 + 32 + 32 * 10 + 10);
    assert_eq!(report["model"], path_str(&model));
    let epochs = report["epochs"].as_array().unwrap();
    assert_eq!(epochs.len(), 3);
    for (i, e) in epochs.iter().enumerate() {
        assert_eq!(e["epoch"], i + 1);
        assert_eq!(e["lr"], 3.0);
        for key in ["train_loss", "test_accuracy", "seconds"] {
            assert!(e[key].is_number(), "epoch {i} lacks {key}: {e}");
        }
    }
    let accuracy = report["test_accuracy"].as_f64().unwrap();
    assert!((0.5..=1.0).contains(&accuracy), "accuracy {accuracy}");
    assert!(model.is_file());
}

#[test]
fn train_prints_a_fixed_width_line_per_epoch() {
    let data = small_mnist(300, 100);
    let out = tempfile::tempdir().unwrap();
    ziffer()
        .args([
            "train",
            "--data",
            path_str(data.path()),
            "--layers",
            "784,16,10",
        ])
        .args([
            "--epochs",
            "2",
            "--out",
            path_str(&out.path().join("m.safetensors")),
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "784-16-10 (sigmoid, sigmoid output, quadratic loss): 12,730 parameters",
        ))
        .stdout(predicate::str::contains(
            "epoch        lr  train loss   val acc  test acc  seconds",
        ))
        // A small data set has no validation set by default: a dash in its column.
        .stdout(
            predicate::str::is_match(
                r"\n    2         3  +0\.\d{5}         -  +\d+\.\d\d%  +\d+\.\d\d\n",
            )
            .unwrap(),
        );
}

#[test]
fn train_without_data_flags_uses_the_bundled_mnist() {
    let out = tempfile::tempdir().unwrap();
    let report = json(&[
        "train",
        "--limit",
        "300",
        "--epochs",
        "1",
        "--layers",
        "784,8,10",
        "--out",
        path_str(&out.path().join("m.safetensors")),
    ]);
    assert_eq!(report["epochs"].as_array().unwrap().len(), 1);
    // Run from another folder: the bundled copy is found next to the source checkout.
    ziffer()
        .current_dir(out.path())
        .args([
            "train", "--limit", "100", "--epochs", "1", "--layers", "784,8,10", "-q",
        ])
        .assert()
        .success();
    assert!(out.path().join("models/ziffer.safetensors").is_file());
}

#[test]
fn train_reads_csv_files_given_with_train_and_test() {
    let data = mnist::load_bundled().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (train, test) = (dir.path().join("train.csv"), dir.path().join("test.csv.gz"));
    csv::write(&data.train.take(300), &train).unwrap();
    csv::write(&data.test.take(100), &test).unwrap();
    let report = json(&[
        "train",
        "--train",
        path_str(&train),
        "--test",
        path_str(&test),
        "--layers",
        "784,16,10",
        "--epochs",
        "1",
        "--out",
        path_str(&dir.path().join("m.safetensors")),
    ]);
    assert!(report["test_accuracy"].as_f64().unwrap() > 0.2);
}

#[test]
fn eval_reports_accuracy_per_class_and_a_confusion_matrix() {
    let data = small_mnist(500, 200);
    let out = tempfile::tempdir().unwrap();
    let model = train_small(&data, &out.path().join("m.safetensors"), &[]);
    let report = json(&[
        "eval",
        "--model",
        path_str(&model),
        "--data",
        path_str(data.path()),
    ]);
    let confusion = report["confusion"].as_array().unwrap();
    let total: u64 = confusion
        .iter()
        .flat_map(|row| row.as_array().unwrap())
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(total, 200);
    let diagonal: u64 = (0..10).map(|i| confusion[i][i].as_u64().unwrap()).sum();
    assert_eq!(
        report["test_accuracy"].as_f64().unwrap(),
        diagonal as f64 / 200.0
    );
    assert_eq!(report["per_class_accuracy"].as_array().unwrap().len(), 10);

    ziffer()
        .args([
            "eval",
            "-m",
            path_str(&model),
            "--data",
            path_str(data.path()),
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("test accuracy:"))
        .stdout(predicate::str::contains("confusion matrix"));
}

#[test]
fn eval_writes_one_prediction_per_test_image() {
    let data = small_mnist(300, 50);
    let out = tempfile::tempdir().unwrap();
    let model = train_small(&data, &out.path().join("m.safetensors"), &[]);
    let predictions = out.path().join("p.csv");
    ziffer()
        .args([
            "eval",
            "-m",
            path_str(&model),
            "--data",
            path_str(data.path()),
        ])
        .args(["--predictions", path_str(&predictions)])
        .assert()
        .success();
    let text = std::fs::read_to_string(&predictions).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "index,label,predicted");
    assert_eq!(lines.len(), 51);
    assert!(lines[1].starts_with("0,7,"), "{}", lines[1]);
}

#[test]
fn info_tells_the_architecture_and_the_history() {
    let data = small_mnist(300, 100);
    let out = tempfile::tempdir().unwrap();
    let model = train_small(&data, &out.path().join("m.safetensors"), &["--seed", "5"]);
    let report = json(&["info", "--model", path_str(&model)]);
    assert_eq!(report["layers"], serde_json::json!([784, 32, 10]));
    assert_eq!(report["parameters"], 25450);
    assert_eq!(report["seed"], 5);
    assert_eq!(report["epochs"].as_array().unwrap().len(), 2);
    assert_eq!(
        report["test_accuracy"],
        report["epochs"][1]["test_accuracy"]
    );
    ziffer()
        .args(["info", "-m", path_str(&model)])
        .assert()
        .success()
        .stdout(predicate::str::contains("784-32-10"))
        .stdout(predicate::str::contains("25,450"));
}

#[test]
fn resume_continues_where_the_saved_model_stopped() {
    let data = small_mnist(300, 100);
    let out = tempfile::tempdir().unwrap();
    let straight = out.path().join("straight.safetensors");
    let staged = out.path().join("staged.safetensors");
    let common = [
        "--data",
        path_str(data.path()),
        "--layers",
        "784,16,10",
        "--lr",
        "3x2,1",
        "-q",
    ];
    ziffer()
        .arg("train")
        .args(common)
        .args(["--epochs", "4", "--out", path_str(&straight)])
        .assert()
        .success();
    ziffer()
        .arg("train")
        .args(common)
        .args(["--epochs", "2", "--out", path_str(&staged)])
        .assert()
        .success();
    let report = json(&[
        "train",
        "--resume",
        path_str(&staged),
        "--epochs",
        "2",
        "--data",
        path_str(data.path()),
        "-q",
    ]);
    assert_eq!(
        report["model"],
        path_str(&staged),
        "resume saves in place by default"
    );
    let lrs: Vec<f64> = report["epochs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["lr"].as_f64().unwrap())
        .collect();
    assert_eq!(lrs, [3.0, 3.0, 1.0, 1.0]);
    let a = ziffer::model_file::load(&straight).unwrap();
    let b = ziffer::model_file::load(&staged).unwrap();
    assert_eq!(a.network, b.network);
}

/// Runs ziffer with `args`, expects failure with `message` in stderr and no panic.
fn fails_with(args: &[&str], message: &str) {
    let assert = ziffer().args(args).assert().failure();
    let output = assert.get_output();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(message),
        "ziffer {args:?}: stderr was:\n{stderr}"
    );
    assert!(
        !stderr.contains("panicked"),
        "ziffer {args:?} panicked:\n{stderr}"
    );
    assert!(!stderr.contains("RUST_BACKTRACE"), "{stderr}");
}

#[test]
fn fails_with_a_batch_size_of_zero() {
    fails_with(
        &["train", "--batch-size", "0"],
        "--batch-size must be at least 1",
    );
}

#[test]
fn fails_with_a_layer_of_zero_neurons() {
    fails_with(
        &["train", "--layers", "784,0,10"],
        "every layer needs at least one neuron",
    );
}

#[test]
fn fails_with_a_negative_or_nan_learning_rate() {
    fails_with(&["train", "--lr", "-1"], "must be a positive number");
    fails_with(&["train", "--lr", "nan"], "must be a positive number");
    fails_with(&["train", "--lr", "0.1x0"], "at least 1");
}

#[test]
fn fails_with_zero_epochs_threads_or_images() {
    fails_with(&["train", "--epochs", "0"], "--epochs must be at least 1");
    fails_with(
        &["train", "--threads", "0", "--limit", "10"],
        "threads: must be at least 1",
    );
    fails_with(
        &["train", "--limit", "0"],
        "--limit 0 leaves no training images",
    );
}

#[test]
fn fails_with_a_missing_data_folder() {
    fails_with(&["train", "--data", "no/such/folder"], "no/such/folder");
}

#[test]
fn fails_with_layers_that_do_not_fit_the_data() {
    let data = small_mnist(20, 10);
    fails_with(
        &[
            "train",
            "--data",
            path_str(data.path()),
            "--layers",
            "100,10",
        ],
        "784 pixels, but the network takes 100 inputs",
    );
    fails_with(
        &[
            "train",
            "--data",
            path_str(data.path()),
            "--layers",
            "784,5",
        ],
        "the network has 5 outputs",
    );
}

#[test]
fn fails_with_train_but_no_test() {
    fails_with(&["train", "--train", "x.csv"], "--test");
}

#[test]
fn fails_with_a_missing_or_damaged_model() {
    fails_with(
        &["eval", "--model", "no/such.safetensors"],
        "no/such.safetensors",
    );
    fails_with(&["info", "--model", "no/such.safetensors"], "No such file");
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.safetensors");
    std::fs::write(&junk, "this is not a model").unwrap();
    fails_with(
        &["info", "--model", path_str(&junk)],
        "not a safetensors file",
    );
    fails_with(
        &["train", "--resume", path_str(&junk)],
        "cannot resume from",
    );
}

#[test]
fn fails_with_an_unknown_flag_or_a_non_number() {
    fails_with(&["train", "--bogus"], "unexpected argument");
    fails_with(&["train", "--epochs", "many"], "invalid value 'many'");
}

#[test]
fn help_names_the_default_model_path() {
    ziffer()
        .args(["train", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("models/ziffer.safetensors"));
}

#[test]
fn a_diverging_run_stops_with_a_message_and_leaves_the_saved_model_alone() {
    // Weights of ±3e38 are finite, so the file loads, but their products overflow to +inf and
    // -inf whose sum is NaN: the first batch's loss is NaN.
    let data = small_mnist(100, 20);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.safetensors");
    let mut model = ziffer::model::Model::new(&ziffer::settings::TrainConfig {
        layers: vec![784, 8, 10],
        ..Default::default()
    })
    .unwrap();
    for (i, w) in model.network.layers_mut()[0].weight.iter_mut().enumerate() {
        *w = if i % 2 == 0 { 3e38 } else { -3e38 };
    }
    ziffer::model_file::save(&model, &path).unwrap();
    fails_with(
        &[
            "train",
            "--resume",
            path_str(&path),
            "--epochs",
            "1",
            "--data",
            path_str(data.path()),
        ],
        "training diverged in epoch 1 at batch 1: the loss became NaN; try a smaller learning rate",
    );
    // The file now records the run it was asked for; its weights, optimizer state and history
    // are those it had.
    let kept = ziffer::model_file::load(&path).unwrap();
    assert!(kept.training.run.is_some());
    assert_eq!(kept.network, model.network);
    assert_eq!(kept.optimizer_state, model.optimizer_state);
    assert_eq!(kept.training.history, model.training.history);
    let before = std::fs::read(&path).unwrap();
    fails_with(
        &[
            "train",
            "--resume",
            path_str(&path),
            "--epochs",
            "1",
            "--data",
            path_str(data.path()),
        ],
        "was left as it was",
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn output_into_a_closed_pipe_ends_quietly_without_a_panic() {
    // `ziffer info | head -3`: once `head` has exited, writing fails with a broken pipe. Like
    // other command-line tools, ziffer must then stop quietly, not panic.
    let data = small_mnist(100, 20);
    let out = tempfile::tempdir().unwrap();
    let model = train_small(&data, &out.path().join("m.safetensors"), &[]);
    for args in [
        vec!["info", "--model", path_str(&model)],
        vec![
            "eval",
            "--model",
            path_str(&model),
            "--data",
            path_str(data.path()),
        ],
    ] {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("ziffer"))
            .args(&args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn fails_with_an_unknown_device() {
    for command in ["train", "eval", "bench", "sweep"] {
        fails_with(
            &[command, "--device", "gpu"],
            "'gpu' is not a device; write cpu, cuda or cuda:N",
        );
    }
}

#[test]
fn the_gpu_commands_say_what_is_missing_on_a_machine_without_one() {
    // On a machine with an NVIDIA driver this is the GPU check's business, not this test's.
    #[cfg(feature = "cuda")]
    if ziffer::cuda::driver_available() {
        println!("skipped: this machine has an NVIDIA driver");
        return;
    }
    let data = small_mnist(100, 20);
    let dir = path_str(data.path());
    for args in [
        &["train", "--device", "cuda", "--data", dir, "--epochs", "1"][..],
        &[
            "bench", "--device", "cuda:1", "--data", dir, "--epochs", "1",
        ],
        &["sweep", "--device", "cuda", "--data", dir, "--epochs", "1"],
    ] {
        let message = if cfg!(feature = "cuda") {
            "no NVIDIA driver found (libcuda.so): train on the CPU with --device cpu"
        } else {
            "built without the CUDA engine"
        };
        fails_with(args, message);
    }
}

#[test]
fn fails_with_a_network_too_big_for_the_machine_before_allocating_it() {
    // Once an abort: "memory allocation of 313600000000 bytes failed", exit 134.
    for layers in ["784,100000000,10", "784,18446744073709551615,10"] {
        fails_with(
            &["train", "--layers", layers],
            "to train (its weights and gradients alone); this machine has",
        );
    }
}

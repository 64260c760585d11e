//! The experiment flags end to end: every kind of network trains and then works with info, eval
//! and predict; class names from `--dataset fashion` or `classes.txt` reach every output; sweeps
//! write their table, CSV, JSON and plot; and every bad value is refused with a message.

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;
use std::path::Path;
use tempfile::TempDir;
use ziffer::data::classes::{CLASS_FILE, FASHION};
use ziffer::data::mnist;

use crate::support::mnist_folder::small_mnist;

fn ziffer() -> Command {
    Command::cargo_bin("ziffer").unwrap()
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// [`small_mnist`] with one test image as `image.png` too (ink dark on white, as a person's
/// would be).
fn small_data(train: usize, test: usize) -> TempDir {
    let dir = small_mnist(train, test);
    let data = mnist::load_bundled().unwrap();
    let pixels: Vec<u8> = data.test.image(0).iter().map(|&p| 255 - p).collect();
    image::GrayImage::from_raw(28, 28, pixels)
        .unwrap()
        .save(dir.path().join("image.png"))
        .unwrap();
    dir
}

/// `ziffer train` of a 784-8-10 network for one epoch on `data` into `model`, to add flags to.
fn tiny_training(data: &TempDir, model: &Path) -> Command {
    let mut command = ziffer();
    command
        .args(["train", "--data", path_str(data.path())])
        .args([
            "--layers",
            "784,8,10",
            "--epochs",
            "1",
            "--out",
            path_str(model),
        ]);
    command
}

/// Trains a 784-8-10 network for one epoch on `data` into `model`, quietly.
fn train_tiny(data: &TempDir, model: &Path) {
    tiny_training(data, model).arg("--quiet").assert().success();
}

/// Runs `ziffer ARGS --json`, expects success, and parses stdout.
fn json(args: &[&str]) -> Value {
    let out = ziffer().args(args).arg("--json").assert().success();
    serde_json::from_slice(&out.get_output().stdout).expect("stdout is JSON")
}

#[test]
fn every_kind_of_network_trains_and_works_with_info_eval_and_predict() {
    let data = small_data(600, 100);
    let out = tempfile::tempdir().unwrap();
    for (i, flags) in [
        "--activation relu --loss cross-entropy --optimizer adam --lr 0.002 --dropout 0.2",
        "--activation tanh --output sigmoid --loss cross-entropy --optimizer nesterov --lr 0.1 \
         --weight-decay 0.0001 --init xavier",
        "--activation leaky-relu --output softmax --loss quadratic --optimizer momentum=0.8 \
         --lr cosine:0.5x2 --augment affine",
        "--layers 784,24,10 --lr step:3x2,every=1,factor=0.5 --augment elastic",
    ]
    .iter()
    .enumerate()
    {
        let model = out.path().join(format!("m{i}.safetensors"));
        let mut args = vec!["train", "--data", path_str(data.path()), "--epochs", "2"];
        args.extend(flags.split_whitespace());
        args.extend(["--out", path_str(&model), "--quiet"]);
        let report = json(&args);
        assert_eq!(report["epochs"].as_array().unwrap().len(), 2, "{flags}");

        let info = json(&["info", "--model", path_str(&model)]);
        for pair in flags.split("--").skip(1) {
            let mut words = pair.split_whitespace();
            let (flag, value) = (words.next().unwrap(), words.next().unwrap());
            let key = flag.replace('-', "_");
            let stored = match &info[&key] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            match key.as_str() {
                "layers" => assert_eq!(info["layers"], serde_json::json!([784, 24, 10])),
                "lr" => assert_eq!(info["schedule"], value, "{flags}"),
                "optimizer" => assert!(stored.starts_with(value), "{flags}: {stored}"),
                "augment" => assert_ne!(stored, "none", "{flags}"),
                _ => assert_eq!(stored, value, "{flags}: {key}"),
            }
        }

        let eval = json(&[
            "eval",
            "--model",
            path_str(&model),
            "--data",
            path_str(data.path()),
        ]);
        assert_eq!(eval["images"], 100);
        assert!(
            eval["test_accuracy"].as_f64().unwrap() > 0.3,
            "{flags}: {eval}"
        );

        let image = data.path().join("image.png");
        let predicted = json(&["predict", "--model", path_str(&model), path_str(&image)]);
        let p = predicted[0]["probabilities"].as_array().unwrap();
        let sum: f64 = p.iter().map(|v| v.as_f64().unwrap()).sum();
        assert!(
            (sum - 1.0).abs() < 1e-3,
            "{flags}: probabilities sum to {sum}"
        );
    }
}

#[test]
fn fashion_class_names_reach_info_eval_predict_and_the_plots() {
    // MNIST images relabelled as Fashion-MNIST: what matters here is the names' path.
    let data = small_data(300, 100);
    let out = tempfile::tempdir().unwrap();
    let model = out.path().join("fashion.safetensors");
    ziffer()
        .args([
            "train",
            "--data",
            path_str(data.path()),
            "--dataset",
            "fashion",
        ])
        .args(["--layers", "784,16,10", "--epochs", "1", "--quiet"])
        .args(["--out", path_str(&model)])
        .assert()
        .success();
    let info = json(&["info", "--model", path_str(&model)]);
    assert_eq!(info["classes"], serde_json::json!(FASHION));
    ziffer()
        .args(["info", "--model", path_str(&model)])
        .assert()
        .success()
        .stdout(predicate::str::contains("T-shirt/top, Trouser, Pullover"));
    ziffer()
        .args([
            "eval",
            "--model",
            path_str(&model),
            "--data",
            path_str(data.path()),
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("9  Ankle boot"));
    let image = data.path().join("image.png");
    let predicted = json(&["predict", "--model", path_str(&model), path_str(&image)]);
    let class = predicted[0]["class"].as_str().unwrap();
    assert!(FASHION.contains(&class), "{class}");
    ziffer()
        .args(["predict", "--model", path_str(&model), path_str(&image)])
        .assert()
        .success()
        .stdout(predicate::str::contains(class));
    for plot in ["confusion", "mistakes"] {
        let png = out.path().join(format!("{plot}.png"));
        ziffer()
            .args(["plot", plot, "--model", path_str(&model)])
            .args(["--data", path_str(data.path()), "--out", path_str(&png)])
            .assert()
            .success();
        assert!(png.metadata().unwrap().len() > 1000);
    }
    let svg = out.path().join("confusion.svg");
    ziffer()
        .args(["plot", "confusion", "--model", path_str(&model)])
        .args(["--data", path_str(data.path()), "--out", path_str(&svg)])
        .assert()
        .success();
    let svg = std::fs::read_to_string(svg).unwrap();
    assert!(svg.contains("Ankle boot 9"), "the rows are named");
    let grid = out.path().join("digits.png");
    ziffer()
        .args([
            "show",
            "--data",
            path_str(data.path()),
            "--dataset",
            "fashion",
        ])
        .args(["--out", path_str(&grid)])
        .assert()
        .success();
}

#[test]
fn a_classes_file_next_to_the_data_names_the_classes() {
    let data = small_data(200, 50);
    let names = [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
    ];
    std::fs::write(data.path().join(CLASS_FILE), names.join("\n")).unwrap();
    let out = tempfile::tempdir().unwrap();
    let model = out.path().join("named.safetensors");
    train_tiny(&data, &model);
    assert_eq!(
        json(&["info", "--model", path_str(&model)])["classes"][3],
        "three"
    );

    std::fs::write(data.path().join(CLASS_FILE), "a\nb\nc\n").unwrap();
    ziffer()
        .args(["train", "--data", path_str(data.path()), "--epochs", "1"])
        .assert()
        .failure()
        .stderr(
            predicate::str::contains("classes.txt").and(predicate::str::contains("3 class names")),
        );
}

#[test]
fn fashion_without_its_data_says_where_to_get_it() {
    ziffer()
        .args(["train", "--dataset", "fashion"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "github.com/zalandoresearch/fashion-mnist",
        ));
}

#[test]
fn a_sweep_writes_its_table_csv_json_and_plot() {
    let data = small_data(400, 100);
    let out = tempfile::tempdir().unwrap();
    ziffer()
        .args([
            "sweep",
            "--data",
            path_str(data.path()),
            "--validation",
            "100",
        ])
        .args([
            "--sizes",
            "784-8-10,784-16-10",
            "--activation",
            "sigmoid,tanh",
        ])
        .args([
            "--epochs",
            "2",
            "--lr",
            "0.5",
            "--out",
            path_str(out.path()),
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("784-16-10 tanh sgd"))
        .stdout(predicate::str::contains(
            "parameters  epochs  best  val acc  test acc",
        ));
    let csv = std::fs::read_to_string(out.path().join("sweep.csv")).unwrap();
    assert_eq!(csv.lines().count(), 5, "{csv}");
    assert!(csv.starts_with(ziffer::sweep::CSV_HEADER));
    let json: Value =
        serde_json::from_slice(&std::fs::read(out.path().join("sweep.json")).unwrap()).unwrap();
    let results = json.as_array().unwrap();
    assert_eq!(results.len(), 4);
    for r in results {
        assert_eq!(r["epochs"], 2);
        assert_eq!(r["test_accuracy_by_epoch"].as_array().unwrap().len(), 2);
        assert!(r["best_epoch"].as_u64().unwrap() >= 1);
    }
    let png = image::open(out.path().join("sweep.png")).unwrap();
    assert_eq!(png.width(), 1240);

    // The plot again, from the JSON, as SVG: one legend entry per configuration.
    let svg = out.path().join("again.svg");
    ziffer()
        .args(["plot", "sweep", path_str(&out.path().join("sweep.json"))])
        .args(["--out", path_str(&svg)])
        .assert()
        .success();
    let svg = std::fs::read_to_string(svg).unwrap();
    for r in results {
        assert!(svg.contains(r["name"].as_str().unwrap()), "{}", r["name"]);
    }
    let csv_as_json = out.path().join("sweep.csv");
    ziffer()
        .args(["plot", "sweep", path_str(&csv_as_json)])
        .assert()
        .failure()
        .stderr(predicate::str::contains("is not a sweep.json"));
}

#[test]
fn a_sweep_reads_its_configurations_from_a_grid_file() {
    let data = small_data(300, 50);
    let out = tempfile::tempdir().unwrap();
    let grid = out.path().join("grid.txt");
    std::fs::write(
        &grid,
        "# two small networks\n\n--layers 784,8,10 --lr 1\n\
         --layers 784,8,10 --activation relu --loss cross-entropy --optimizer adam --lr 0.003\n",
    )
    .unwrap();
    ziffer()
        .args([
            "sweep",
            "--data",
            path_str(data.path()),
            "--validation",
            "50",
        ])
        .args(["--grid", path_str(&grid), "--epochs", "1", "--quiet"])
        .args(["--out", path_str(out.path())])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "784-8-10 relu softmax/cross-entropy adam η 0.003",
        ));

    // Under 10,000 training images there is no validation set by default, as for train.
    ziffer()
        .args([
            "sweep",
            "--data",
            path_str(data.path()),
            "--grid",
            path_str(&grid),
        ])
        .args(["--epochs", "1", "--quiet", "--out", path_str(out.path())])
        .assert()
        .success()
        .stdout(predicate::str::is_match(r"1 +- +- +\d+\.\d\d%").unwrap());
    for (flag, value, message) in [
        ("--activation", "relu,swish", "unknown activation 'swish'"),
        ("--optimizer", "sgd,rmsprop", "unknown optimizer 'rmsprop'"),
        ("--loss", "hinge", "unknown loss 'hinge'"),
    ] {
        ziffer()
            .args(["sweep", "--data", path_str(data.path()), flag, value])
            .assert()
            .failure()
            .stderr(predicate::str::contains(message));
    }

    std::fs::write(&grid, "--layers 784,8,10\n--layers 784,8,10 --speed 11\n").unwrap();
    ziffer()
        .args([
            "sweep",
            "--data",
            path_str(data.path()),
            "--grid",
            path_str(&grid),
        ])
        .assert()
        .failure()
        .stderr(predicate::str::contains("grid.txt:2:").and(predicate::str::contains("--speed")));
}

#[test]
fn bad_experiment_values_are_refused_with_a_message() {
    for (args, message) in [
        (&["--activation", "swish"][..], "unknown activation 'swish'"),
        (&["--output", "relu"], "unknown output function 'relu'"),
        (&["--loss", "hinge"], "unknown loss 'hinge'"),
        (&["--init", "zeros"], "unknown initialisation 'zeros'"),
        (&["--optimizer", "rmsprop"], "unknown optimizer 'rmsprop'"),
        (&["--optimizer", "adam=2/0.9"], "below 1"),
        (&["--dropout", "1"], "below 1"),
        (&["--dropout", "-0.1"], "at least 0"),
        (&["--label-smoothing", "1"], "label smoothing"),
        (&["--label-smoothing", "-0.1"], "at least 0 and below 1"),
        (&["--label-smoothing", "NaN"], "label smoothing"),
        (&["--label-smoothing", "a lot"], "invalid value 'a lot'"),
        (&["--average-from", "0"], "epochs count from 1"),
        (&["--average-from", "-3"], "unexpected argument '-3'"),
        (&["--weight-decay", "-1"], "0 or a small positive number"),
        (&["--augment", "shift=-2"], "shift"),
        (&["--augment", "wobble=3"], "wobble"),
        (&["--lr", "cosine:0.1"], "needs its length"),
        (&["--patience", "0"], "at least 1 epoch"),
        (
            &["--patience", "2", "--validation", "0"],
            "no validation set",
        ),
        (
            &["--validation", "60000"],
            "cannot hold out 60000 of the 60000",
        ),
        (&["--dataset", "cifar"], "invalid value 'cifar'"),
    ] {
        let out = tempfile::tempdir().unwrap();
        let model = out.path().join("never.safetensors");
        let assert = ziffer()
            .arg("train")
            .args(args)
            .args(["--out", path_str(&model)])
            .assert()
            .failure()
            .stderr(predicate::str::contains(message));
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(!model.exists(), "{args:?} saved a model");
    }
}

#[test]
fn resuming_cannot_change_a_networks_functions() {
    let data = small_data(200, 50);
    let out = tempfile::tempdir().unwrap();
    let model = out.path().join("m.safetensors");
    train_tiny(&data, &model);
    ziffer()
        .args([
            "train",
            "--resume",
            path_str(&model),
            "--data",
            path_str(data.path()),
        ])
        .args(["--epochs", "1", "--activation", "relu"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "--activation differs from the resumed model's sigmoid",
        ));
    // Switching optimizer on resume is allowed: it starts with a fresh state.
    ziffer()
        .args([
            "train",
            "--resume",
            path_str(&model),
            "--data",
            path_str(data.path()),
        ])
        .args([
            "--epochs",
            "1",
            "--optimizer",
            "adam",
            "--lr",
            "0.001",
            "--quiet",
        ])
        .assert()
        .success();
    assert_eq!(
        json(&["info", "--model", path_str(&model)])["optimizer"],
        "adam=0.9/0.999/1e-8"
    );
}

/// The flags of a record file: its one line that does not start with `#`, split on whitespace,
/// as `ziffer train $(cat FILE)` splits it.
fn record_flags(name: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sweeps")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    // `$(cat FILE)` passes every word of the file, comments too: so the file is one line.
    assert_eq!(lines.len(), 1, "{name}: one line of flags, nothing else");
    assert!(!lines[0].starts_with('#'), "{name}");
    lines[0].split_whitespace().map(str::to_string).collect()
}

#[test]
fn the_record_runs_are_flags_that_train_accepts() {
    let data = small_data(600, 100);
    let out = tempfile::tempdir().unwrap();
    for name in [
        "record-mnist.txt",
        "record-fashion.txt",
        "record-mnist-gpu.txt",
    ] {
        let flags = record_flags(name);
        assert!(flags.iter().any(|f| f == "--layers"), "{name}: {flags:?}");
        if name.contains("gpu") {
            // The full network on a GPU: checked here for its flags, on the CPU, with --device
            // dropped and one tiny epoch.
            assert!(
                flags.windows(2).any(|w| w == ["--device", "cuda"]),
                "{flags:?}"
            );
        }
        let mut cpu_flags = Vec::new();
        let mut words = flags.iter();
        while let Some(flag) = words.next() {
            if flag == "--device" {
                words.next();
                continue;
            }
            cpu_flags.push(flag.as_str());
        }
        let model = out.path().join(name.replace(".txt", ".safetensors"));
        // One epoch on the first 200 images, as a check of the flags only.
        ziffer()
            .arg("train")
            .args(&cpu_flags)
            .args(["--data", path_str(data.path()), "--epochs", "1"])
            .args(["--limit", "200", "--quiet", "--out", path_str(&model)])
            .assert()
            .success();
    }
}

#[test]
fn flipping_digits_is_warned_against_and_flipping_clothes_is_not() {
    let digits = small_data(300, 50);
    let out = tempfile::tempdir().unwrap();
    let run = |data: &TempDir, extra: &[&str]| {
        let assert = tiny_training(data, &out.path().join("m.safetensors"))
            .args(["--augment", "crop=1,flip"])
            .args(extra)
            .assert()
            .success();
        String::from_utf8(assert.get_output().stderr.clone()).unwrap()
    };
    let warning = "warning: --augment flip mirrors digits";
    assert!(run(&digits, &[]).contains(warning));
    assert!(!run(&digits, &["--quiet"]).contains(warning));
    assert!(!run(&digits, &["--dataset", "fashion"]).contains(warning));
}

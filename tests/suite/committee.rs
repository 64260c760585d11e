//! Committees end to end: `eval`, `predict` and `info` with several `--model`s average the
//! members' outputs, say that they are a committee, and refuse members that do not fit.

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};
use tempfile::TempDir;
use ziffer::committee::Committee;
use ziffer::cpu::Cpu;
use ziffer::data::mnist;
use ziffer::model_file;

use crate::support::mnist_folder::small_mnist;

fn ziffer() -> Command {
    Command::cargo_bin("ziffer").unwrap()
}

fn text(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Trains a small model on `data` with `extra` flags and returns its path.
fn train(data: &TempDir, out: &Path, extra: &[&str]) -> PathBuf {
    ziffer()
        .args([
            "train",
            "--data",
            text(data.path()),
            "--layers",
            "784,24,10",
        ])
        .args(["--epochs", "1", "--quiet", "--out", text(out)])
        .args(extra)
        .assert()
        .success();
    out.to_path_buf()
}

fn stdout_json(cmd: &mut Command) -> Value {
    let out = cmd.assert().success();
    serde_json::from_slice(&out.get_output().stdout).expect("stdout is JSON")
}

/// Three members trained from different seeds, and the data they were trained on.
fn three_members() -> (TempDir, TempDir, Vec<PathBuf>) {
    let data = small_mnist(600, 200);
    let dir = tempfile::tempdir().unwrap();
    let members = (1..=3)
        .map(|seed| {
            let path = dir.path().join(format!("m{seed}.safetensors"));
            train(&data, &path, &["--lr", "3", "--seed", &seed.to_string()])
        })
        .collect();
    (data, dir, members)
}

fn model_flags(members: &[PathBuf]) -> Vec<&str> {
    members.iter().flat_map(|m| ["--model", text(m)]).collect()
}

#[test]
fn eval_of_several_models_scores_the_mean_of_their_outputs() {
    let (data, dir, members) = three_members();
    let predictions = dir.path().join("committee.csv");
    let json = stdout_json(
        ziffer()
            .arg("eval")
            .args(model_flags(&members))
            .args(["--data", text(data.path()), "--json"])
            .args(["--predictions", text(&predictions)]),
    );
    assert_eq!(json["committee"], true);
    assert_eq!(json["members"].as_array().unwrap().len(), 3);
    assert_eq!(json["images"], 200);

    // The same committee in the library: its classes are the CSV's, line by line, and each
    // member's own accuracy is what `eval` of that model alone reports.
    let loaded: Vec<_> = members
        .iter()
        .map(|m| model_file::load(m).unwrap())
        .collect();
    let committee = Committee::new(loaded).unwrap();
    let test = mnist::load_dir(data.path()).unwrap().test;
    let expected = committee.predict_all(&Cpu::new(1).unwrap(), &test).unwrap();
    let csv = std::fs::read_to_string(&predictions).unwrap();
    let found: Vec<u8> = csv
        .lines()
        .skip(1)
        .map(|line| line.rsplit(',').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(found, expected);
    let correct = (0..test.len())
        .filter(|&i| test.label(i) == expected[i])
        .count();
    assert_eq!(json["test_accuracy"], correct as f64 / 200.0);
    for (k, member) in members.iter().enumerate() {
        let alone = stdout_json(
            ziffer()
                .args(["eval", "--model", text(member), "--json"])
                .args(["--data", text(data.path())]),
        );
        assert_eq!(alone["committee"], false);
        assert_eq!(json["members"][k]["test_accuracy"], alone["test_accuracy"]);
        assert_eq!(json["members"][k]["model"], text(member));
    }

    let report = ziffer()
        .arg("eval")
        .args(model_flags(&members))
        .args(["--data", text(data.path())])
        .assert()
        .success();
    let report = String::from_utf8(report.get_output().stdout.clone()).unwrap();
    assert!(
        report.starts_with("a committee of 3 models, averaging their outputs:"),
        "{report}"
    );
    assert!(report.contains("confusion matrix"), "{report}");
}

#[test]
fn info_and_predict_say_they_speak_for_a_committee() {
    let (_data, dir, members) = three_members();
    let info = stdout_json(
        ziffer()
            .arg("info")
            .args(model_flags(&members))
            .arg("--json"),
    );
    assert_eq!(info["committee"], true);
    assert_eq!(info["size"], 3);
    assert_eq!(info["members"].as_array().unwrap().len(), 3);
    assert_eq!(info["members"][1]["seed"], 2);
    assert_eq!(info["models"][2], text(&members[2]));
    let single = stdout_json(ziffer().args(["info", "--model", text(&members[0]), "--json"]));
    assert_eq!(single["committee"], false);
    let lines = ziffer()
        .arg("info")
        .args(model_flags(&members))
        .assert()
        .success();
    let lines = String::from_utf8(lines.get_output().stdout.clone()).unwrap();
    assert!(lines.starts_with("committee:   3 models"), "{lines}");
    assert!(lines.contains("member 3:"), "{lines}");

    // predict: the committee's probabilities are those of the mean output.
    let image = dir.path().join("seven.png");
    let test = mnist::load_bundled().unwrap().test;
    image::GrayImage::from_raw(28, 28, test.image(0).to_vec())
        .unwrap()
        .save(&image)
        .unwrap();
    let answers = stdout_json(
        ziffer()
            .arg("predict")
            .arg(&image)
            .args(model_flags(&members))
            .arg("--json"),
    );
    let loaded: Vec<_> = members
        .iter()
        .map(|m| model_file::load(m).unwrap())
        .collect();
    let committee = Committee::new(loaded).unwrap();
    let preprocessed = ziffer::preprocess::load_image(&image).unwrap();
    let expected = committee
        .predict_pixels(&preprocessed.pixels, &Default::default())
        .unwrap();
    assert_eq!(answers[0]["digit"], expected.digit);
    let probabilities: Vec<f64> = answers[0]["probabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_f64().unwrap())
        .collect();
    for (found, wanted) in probabilities.iter().zip(expected.probabilities) {
        assert!((found - wanted as f64).abs() < 1e-6, "{found} vs {wanted}");
    }
}

#[test]
fn a_member_that_does_not_fit_is_named_with_the_reason() {
    let data = small_mnist(300, 50);
    let dir = tempfile::tempdir().unwrap();
    let sigmoid = train(&data, &dir.path().join("a.safetensors"), &["--lr", "3"]);
    let softmax = train(
        &data,
        &dir.path().join("b.safetensors"),
        &["--loss", "cross-entropy", "--lr", "0.1"],
    );
    for command in ["eval", "info"] {
        let assert = ziffer()
            .args([
                command,
                "--model",
                text(&sigmoid),
                "--model",
                text(&softmax),
            ])
            .args(if command == "eval" {
                vec!["--data", text(data.path())]
            } else {
                vec![]
            })
            .assert()
            .failure();
        let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
        assert!(
            stderr.contains(&format!(
                "{} cannot join {} in a committee",
                softmax.display(),
                sigmoid.display()
            )),
            "{stderr}"
        );
        assert!(stderr.contains("ends in a softmax"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    let missing = dir.path().join("missing.safetensors");
    let assert = ziffer()
        .args(["eval", "--model", text(&sigmoid), "--model", text(&missing)])
        .assert()
        .failure();
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains(&format!("cannot load the model {}", missing.display())),
        "{stderr}"
    );
}

//! Interrupted training runs, for real: the `ziffer` process killed with SIGKILL at a random
//! moment, or stopped with Ctrl-C (SIGINT), then `ziffer train --resume M` alone, compared bit for
//! bit with the run that was never interrupted; and a resumed run that is given other data.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};
use tempfile::TempDir;
use ziffer::data::csv;
use ziffer::data::mnist;

fn ziffer() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ziffer"))
}

/// Every tensor of a model file, by name: weights, biases and the optimizer's slots.
fn tensors(path: &Path) -> BTreeMap<String, Vec<u8>> {
    let bytes = std::fs::read(path).unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    file.tensors()
        .into_iter()
        .map(|(name, view)| (name, view.data().to_vec()))
        .collect()
}

/// What a model file records of its training, less the seconds each epoch took.
fn history(path: &Path) -> Vec<(usize, f32, f32, f64)> {
    let model = ziffer::model_file::load(path).unwrap();
    let history = model.training.history.iter();
    history
        .map(|e| (e.epoch, e.lr, e.train_loss, e.test_accuracy))
        .collect()
}

fn check(output: Output) -> Output {
    assert!(
        output.status.success(),
        "ziffer failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The flags of a run: a few epochs of a small network on the first images of the bundled MNIST.
fn run_args(seed: u64, modern: bool) -> Vec<String> {
    let mut args = vec![
        "train",
        "--layers",
        "784,32,10",
        "--limit",
        "3000",
        "--epochs",
        "5",
        "--seed",
    ]
    .into_iter()
    .map(String::from)
    .collect::<Vec<_>>();
    args.push(seed.to_string());
    let rest: &[&str] = if modern {
        // Every random stream a run draws from: shuffles, dropout, distortions, mixup; Adam's
        // moments and step count, which the file must carry over; and label smoothing, which
        // the resumed run must find in the file.
        &[
            "--activation",
            "relu",
            "--loss",
            "cross-entropy",
            "--optimizer",
            "adam",
            "--lr",
            "0.002",
            "--dropout",
            "0.2",
            "--label-smoothing",
            "0.1",
            "--augment",
            "shift=2,rotate=10,scale=0.1,elastic=10/4,mixup=0.2",
            "--validation",
            "1000",
        ]
    } else {
        &["--lr", "3", "--validation", "0"]
    };
    args.extend(rest.iter().map(|a| a.to_string()));
    args.extend(["--threads", "1", "--quiet"].map(String::from));
    args
}

fn start(args: &[String], out: &Path) -> Child {
    ziffer()
        .args(args)
        .arg("--out")
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until `path` exists (the run saves its untrained model before the first epoch).
fn wait_for(path: &Path, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !path.exists() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "ziffer ended before saving"
        );
        assert!(Instant::now() < deadline, "no model file after 60 s");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn resume(path: &Path) -> Output {
    ziffer()
        .args(["train", "--resume"])
        .arg(path)
        .args(["--quiet"])
        .output()
        .unwrap()
}

/// Kills a run with SIGKILL at a random moment of its training, resumes it with `--resume`
/// alone, and compares with the uninterrupted run; returns the epochs the file held when killed.
fn killed_and_resumed(dir: &Path, seed: u64, modern: bool, rng: &mut ChaCha8Rng) -> usize {
    let args = run_args(seed, modern);
    let straight = dir.join(format!("straight-{seed}.safetensors"));
    let begun = Instant::now();
    let mut child = start(&args, &straight);
    wait_for(&straight, &mut child);
    let saved_after = begun.elapsed();
    assert!(child.wait().unwrap().success());
    let training = begun.elapsed() - saved_after;

    let killed = dir.join(format!("killed-{seed}.safetensors"));
    let mut child = start(&args, &killed);
    wait_for(&killed, &mut child);
    std::thread::sleep(training.mul_f64(rng.random_range(0.0..0.8)));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let epochs_when_killed = ziffer::model_file::load(&killed).unwrap().epochs_trained();

    // A kill that came after the last epoch's save found the run finished, and `--resume`
    // rightly says so; any earlier one leaves a run for `--resume` alone to finish.
    if epochs_when_killed < 5 {
        check(resume(&killed));
    }
    assert_eq!(
        tensors(&killed),
        tensors(&straight),
        "seed {seed}: resumed after {epochs_when_killed} epochs, the tensors differ"
    );
    assert_eq!(history(&killed), history(&straight), "seed {seed}");
    epochs_when_killed
}

#[test]
fn a_run_killed_at_a_random_moment_resumes_to_the_uninterrupted_runs_tensors() {
    let dir = TempDir::new().unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(2026);
    let mut killed_at = Vec::new();
    for (seed, modern) in [(1, false), (2, true), (3, false), (4, true), (5, false)] {
        killed_at.push(killed_and_resumed(dir.path(), seed, modern, &mut rng));
    }
    eprintln!("killed after these numbers of finished epochs: {killed_at:?}");
    assert!(
        killed_at.iter().any(|&e| e < 5),
        "every kill came after the run had ended: {killed_at:?}"
    );
}

#[cfg(unix)]
fn interrupt(child: &Child) {
    // SAFETY: sending a signal to a child process this test started and has not reaped.
    let sent = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    assert_eq!(sent, 0, "cannot send SIGINT");
}

/// Waits until the model file records `epochs` finished epochs.
fn wait_for_epochs(path: &Path, epochs: usize, child: &mut Child) {
    wait_for(path, child);
    let deadline = Instant::now() + Duration::from_secs(120);
    while ziffer::model_file::load(path).map_or(0, |m| m.epochs_trained()) < epochs {
        assert!(child.try_wait().unwrap().is_none(), "ziffer ended early");
        assert!(Instant::now() < deadline, "epoch {epochs} never ended");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_at_a_batch_keeps_the_last_epoch_and_prints_the_command_that_resumes() {
    let dir = TempDir::new().unwrap();
    let args: Vec<String> = [
        "train",
        "--layers",
        "784,128,10",
        "--validation",
        "0",
        "--epochs",
        "6",
        "--lr",
        "3",
        "--threads",
        "1",
    ]
    .map(String::from)
    .to_vec();
    let straight = dir.path().join("straight.safetensors");
    check(
        ziffer()
            .args(&args)
            .arg("--out")
            .arg(&straight)
            .arg("--quiet")
            .output()
            .unwrap(),
    );

    let stopped = dir.path().join("stopped.safetensors");
    let mut child = start(&args, &stopped);
    wait_for_epochs(&stopped, 1, &mut child);
    interrupt(&child);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("training stops at the end of this batch"),
        "{stderr}"
    );
    let saved = ziffer::model_file::load(&stopped).unwrap().epochs_trained();
    assert!((1..6).contains(&saved), "{saved} epochs saved; {stderr}");
    let said = format!(
        "the model after epoch {saved} is saved in {}",
        stopped.display()
    );
    assert!(stderr.contains(&said), "{stderr}");
    let command = format!("resume with: ziffer train --resume {}", stopped.display());
    assert!(stderr.contains(&command), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    check(resume(&stopped));
    assert_eq!(tensors(&stopped), tensors(&straight));
}

#[cfg(unix)]
#[test]
fn a_second_ctrl_c_exits_at_once_and_what_was_saved_stays_whole() {
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("m.safetensors");
    let args: Vec<String> = [
        "train",
        "--limit",
        "30000",
        "--validation",
        "0",
        "--epochs",
        "30",
        "--threads",
        "1",
    ]
    .map(String::from)
    .to_vec();
    let mut child = start(&args, &out);
    wait_for_epochs(&out, 1, &mut child);
    interrupt(&child);
    interrupt(&child);
    let begun = Instant::now();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(begun.elapsed() < Duration::from_secs(5), "{stderr}");
    // The file is whole: it loads, with the epochs finished before the first Ctrl-C.
    let model = ziffer::model_file::load(&out).unwrap();
    assert!(model.epochs_trained() >= 1);
}

/// A training and a test file in CSV, from the bundled MNIST.
fn csv_files(dir: &Path, train: usize) -> (PathBuf, PathBuf) {
    let data = mnist::load_bundled().unwrap();
    let (train_path, test_path) = (dir.join("train.csv"), dir.join("test.csv"));
    csv::write(&data.train.take(train), &train_path).unwrap();
    csv::write(&data.test.take(100), &test_path).unwrap();
    (train_path, test_path)
}

#[test]
fn resuming_on_changed_data_is_refused_with_the_difference_unless_asked() {
    let dir = TempDir::new().unwrap();
    let (train, test) = csv_files(dir.path(), 300);
    let model = dir.path().join("m.safetensors");
    check(
        ziffer()
            .args([
                "train",
                "--layers",
                "784,16,10",
                "--epochs",
                "1",
                "--lr",
                "3",
            ])
            .arg("--train")
            .arg(&train)
            .arg("--test")
            .arg(&test)
            .arg("--out")
            .arg(&model)
            .arg("--quiet")
            .output()
            .unwrap(),
    );
    // The run is finished: --resume alone says so, and --epochs N trains N more on its data.
    let output = resume(&model);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("the run is finished"), "{stderr}");
    let more = |extra: &[&str]| {
        ziffer()
            .args(["train", "--resume"])
            .arg(&model)
            .args(["--epochs", "1", "--quiet"])
            .args(extra)
            .output()
            .unwrap()
    };
    check(more(&[]));
    assert_eq!(history(&model).len(), 2);

    // The same file with other images: refused, naming the set and both digests' starts.
    csv_files(dir.path(), 200);
    let output = more(&[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("the training set: 300 images, SHA-256")
            && stderr.contains("then, 200 images, SHA-256"),
        "{stderr}"
    );
    assert!(stderr.contains("--new-data"), "{stderr}");
    assert!(!stderr.contains("test set"), "{stderr}");
    assert_eq!(history(&model).len(), 2, "nothing was trained");

    check(more(&["--new-data"]));
    let model = ziffer::model_file::load(&model).unwrap();
    assert_eq!(model.epochs_trained(), 3);
    assert_eq!(model.training.run.unwrap().data.train.images, 200);
}

#[test]
fn a_run_whose_data_is_gone_says_where_it_was_and_how_to_name_it() {
    let dir = TempDir::new().unwrap();
    let (train, test) = csv_files(dir.path(), 100);
    let model = dir.path().join("m.safetensors");
    let mut child = ziffer()
        .args([
            "train",
            "--layers",
            "784,16,10",
            "--epochs",
            "3",
            "--lr",
            "3",
        ])
        .arg("--train")
        .arg(&train)
        .arg("--test")
        .arg(&test)
        .arg("--out")
        .arg(&model)
        .arg("--quiet")
        .spawn()
        .unwrap();
    assert!(child.wait().unwrap().success());
    // Pretend it was interrupted after its first epoch.
    let mut saved = ziffer::model_file::load(&model).unwrap();
    saved.training.history.truncate(1);
    ziffer::model_file::save(&saved, &model).unwrap();
    std::fs::remove_file(&train).unwrap();
    let output = resume(&model);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("trained on the files"), "{stderr}");
    assert!(stderr.contains("train.csv"), "{stderr}");
    assert!(stderr.contains("--train and --test"), "{stderr}");
}

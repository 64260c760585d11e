//! `ziffer train --serve`, for real: a short run on the bundled MNIST watched through
//! `GET /api/training/events` by a page open from the start and by one opened mid-run; the
//! trained model served when the run ends; and `POST /api/learn`, the page's "learn this".

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tempfile::TempDir;

/// One server-sent event: its name and data.
#[derive(Debug, Clone)]
struct Sse {
    name: String,
    data: Value,
}

/// Opens the event stream (HTTP/1.0, so the body ends when the server closes it).
fn events(addr: &str) -> BufReader<TcpStream> {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .unwrap();
    write!(
        stream,
        "GET /api/training/events HTTP/1.0\r\nHost: {addr}\r\n\r\n"
    )
    .unwrap();
    let mut reader = BufReader::new(stream);
    let mut status = String::new();
    reader.read_line(&mut status).unwrap();
    assert!(status.contains(" 200 "), "{status}");
    let mut line = String::new();
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        if line.trim().is_empty() {
            break;
        }
        if line.to_ascii_lowercase().starts_with("content-type") {
            assert!(line.contains("text/event-stream"), "{line}");
        }
    }
    reader
}

/// The next event of a stream, skipping keep-alive comments; `None` at its end.
fn next_event(reader: &mut BufReader<TcpStream>) -> Option<Sse> {
    let (mut name, mut data) = (None, String::new());
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).unwrap() == 0 {
            return None;
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            if let Some(name) = name.take() {
                return Some(Sse {
                    name,
                    data: serde_json::from_str(&data).unwrap(),
                });
            }
            continue;
        }
        if let Some(value) = line.strip_prefix("event:") {
            name = Some(value.trim().to_string());
        } else if let Some(value) = line.strip_prefix("data:") {
            data.push_str(value.trim_start());
        }
    }
}

/// Sends one request and returns the status and the JSON body.
fn request(addr: &str, method: &str, path: &str, body: &str) -> (u16, Value) {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: \
         application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

/// The `ziffer` process of a test, killed when the test ends, even by a failed assertion (it
/// would otherwise serve on, and hold the test runner's output open).
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `ziffer train --serve` on a free port; returns the process and the address.
fn start(dir: &TempDir) -> (Running, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ziffer"))
        .args([
            "train",
            "--limit",
            "12000",
            "--epochs",
            "4",
            "--lr",
            "3",
            "--threads",
            "1",
            "--quiet",
            "--serve",
            "127.0.0.1:0",
        ])
        .arg("--out")
        .arg(dir.path().join("m.safetensors"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    // Keep reading its stderr so that the process never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    (Running(child), addr)
}

/// A stroke down the middle, as a person draws a 1: 784 values in 0..1.
fn drawn_one() -> String {
    let pixels: Vec<f32> = (0..784)
        .map(|i| {
            let (row, col) = (i / 28, i % 28);
            if (4..24).contains(&row) && (13..16).contains(&col) {
                1.0
            } else {
                0.0
            }
        })
        .collect();
    serde_json::to_string(&pixels).unwrap()
}

#[cfg(unix)]
#[test]
fn a_run_is_watched_live_and_its_trained_model_is_served_when_it_ends() {
    let dir = TempDir::new().unwrap();
    let (mut running, addr) = start(&dir);

    // A page open from the start sees everything, in order.
    let mut first = events(&addr);
    let mut seen: Vec<Sse> = Vec::new();
    let mut late: Option<Vec<Sse>> = None;
    while let Some(event) = next_event(&mut first) {
        // A page opened after the second epoch gets the history first.
        if late.is_none() && event.name == "epoch" && event.data["epoch"] == 2 {
            let mut second = events(&addr);
            let mut got = Vec::new();
            while got.iter().filter(|e: &&Sse| e.name == "epoch").count() < 2 {
                got.push(next_event(&mut second).expect("the history"));
            }
            late = Some(got);
        }
        seen.push(event);
    }
    let names: Vec<&str> = seen.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names.first(), Some(&"start"), "{names:?}");
    assert_eq!(names.last(), Some(&"done"), "{names:?}");
    let epochs: Vec<&Value> = seen
        .iter()
        .filter(|e| e.name == "epoch")
        .map(|e| &e.data)
        .collect();
    assert_eq!(epochs.len(), 4, "{names:?}");
    for (i, e) in epochs.iter().enumerate() {
        assert_eq!(e["epoch"], i + 1);
        assert_eq!(e["lr"], json!(3.0));
        let loss = e["train_loss"].as_f64().unwrap();
        assert!(loss > 0.0 && loss < 0.5, "{e}");
        let test = e["test_accuracy"].as_f64().unwrap();
        assert!(test > 0.5 && test <= 1.0, "{e}");
        // The default split holds out the last 5,000 training images.
        let validation = e["validation_accuracy"].as_f64().unwrap();
        assert!(validation > 0.5 && validation <= 1.0, "{e}");
        assert!(e["seconds"].as_f64().unwrap() > 0.0);
    }
    let last_test = epochs[3]["test_accuracy"].as_f64().unwrap();
    assert!(last_test > epochs[0]["test_accuracy"].as_f64().unwrap());
    let progress = seen.iter().find(|e| e.name == "progress").map(|e| &e.data);
    if let Some(p) = progress {
        assert_eq!(p["batches_per_epoch"], 12000 / 32);
        assert!(p["running_loss"].as_f64().unwrap() > 0.0);
    }
    let snapshot = seen.iter().rev().find(|e| e.name == "snapshot").unwrap();
    assert_eq!(snapshot.data["weights"].as_array().unwrap().len(), 128);
    let confusion: u64 = snapshot.data["confusion"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|row| row.as_array().unwrap())
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(confusion, 10_000);
    let done = &seen.last().unwrap().data;
    assert_eq!(done["epochs"], 4);
    assert_eq!(done["stopped"], Value::Null);
    assert_eq!(done["test_accuracy"].as_f64().unwrap(), last_test);

    let late = late.expect("a page opened mid-run");
    let late_names: Vec<&str> = late.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(late_names[..2], ["start", "epoch"], "{late_names:?}");
    let late_epochs: Vec<&Value> = late
        .iter()
        .filter(|e| e.name == "epoch")
        .map(|e| &e.data["epoch"])
        .collect();
    assert_eq!(late_epochs, [&json!(1), &json!(2)]);

    // The trained model is served now, and the page can learn from a drawing.
    let (status, model) = request(&addr, "GET", "/api/model", "");
    assert_eq!(status, 200);
    assert_eq!(model["epochs"], 4);
    assert_eq!(model["live_training"], true);
    let body = format!(r#"{{"pixels": {}, "label": 1, "lr": 3}}"#, drawn_one());
    let (status, lesson) = request(&addr, "POST", "/api/learn", &body);
    assert_eq!(status, 200, "{lesson}");
    let before = lesson["probabilities_before"][1].as_f64().unwrap();
    let after = lesson["probabilities_after"][1].as_f64().unwrap();
    assert!(after > before, "{before} -> {after}");
    assert_eq!(lesson["gradients"].as_array().unwrap().len(), 128);
    assert_eq!(lesson["output_error"].as_array().unwrap().len(), 10);
    assert_eq!(lesson["changed_most"].as_array().unwrap().len(), 8);
    // The served model did not change: the same lesson again starts from the same place.
    let (_, again) = request(&addr, "POST", "/api/learn", &body);
    assert_eq!(
        again["probabilities_before"],
        lesson["probabilities_before"]
    );

    for (body, says) in [
        (
            format!(r#"{{"pixels": {}, "label": 10}}"#, drawn_one()),
            "label 10 is not a digit",
        ),
        (
            r#"{"pixels": [0.5], "label": 1}"#.to_string(),
            "expected 784 pixels",
        ),
        (
            format!(r#"{{"pixels": {}, "label": 1, "lr": -1}}"#, drawn_one()),
            "must be a positive number",
        ),
        (
            r#"{"pixels": [NaN], "label": 1}"#.to_string(),
            "not valid JSON",
        ),
    ] {
        let (status, error) = request(&addr, "POST", "/api/learn", &body);
        assert_eq!(status, 400, "{error}");
        let message = error["error"].as_str().unwrap();
        assert!(message.contains(says), "{message}");
    }

    // Ctrl-C stops the server; training has finished, so that is a clean exit.
    // SAFETY: a signal to the child this test started and has not reaped.
    let child = &mut running.0;
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    assert!(child.wait().unwrap().success());
}

#[test]
fn the_events_route_without_a_training_run_says_how_to_start_one() {
    let model = ziffer::model::Model::new(&Default::default()).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let addr = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(ziffer::web::serve(listener, model, std::future::pending()));
        addr
    });
    let addr = addr.to_string();
    let (status, body) = request(&addr, "GET", "/api/training/events", "");
    assert_eq!(status, 404);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("ziffer train --serve")
    );
    let (_, model) = request(&addr, "GET", "/api/model", "");
    assert_eq!(model["live_training"], false);
}

//! `ziffer serve`'s JSON API (`ziffer::web`), against the real server on a free local port.
//!
//! - good requests: JSON pixels, an image body, a multipart upload, the model description, the
//!   page and its script;
//! - each malformed input gets a JSON error with the right status (400, 413, 415, 422);
//! - 50 concurrent requests are all answered, each with the same answer as alone;
//! - on the stop signal, the request under way is answered and idle connections are closed.
//!
//! The model is untrained (random weights): these tests check the plumbing, not the reading.
//! The client is a few lines of HTTP/1.1 over a TCP stream, to keep the dependencies small.

use serde_json::Value;
use std::io::Cursor;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use ziffer::model::Model;
use ziffer::settings::TrainConfig;

/// Starts the server on 127.0.0.1 with a free port; it runs until the test's runtime ends.
async fn start() -> SocketAddr {
    // Named classes, to check that the names reach the page.
    let model = Model::new(&TrainConfig {
        layers: vec![784, 16, 12, 10],
        classes: ziffer::data::classes::fashion(),
        ..TrainConfig::default()
    })
    .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(ziffer::web::serve(listener, model, std::future::pending()));
    addr
}

/// A response: status, content type and body.
struct Reply {
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|err| {
            panic!(
                "status {}: not JSON ({err}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

/// Sends one request (`content_type` empty for none) and reads the whole answer.
async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    content_type: &str,
    body: &[u8],
) -> Reply {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !content_type.is_empty() {
        head.push_str(&format!("Content-Type: {content_type}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    // The server may answer (413) and close before the whole body is sent.
    let _ = stream.write_all(body).await;
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw).await;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP head in {:?}", String::from_utf8_lossy(&raw)));
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut body = raw[split + 4..].to_vec();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let header = |name: &str| {
        head.lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
            })
            .unwrap_or_default()
    };
    if header("transfer-encoding") == "chunked" {
        body = dechunk(&body);
    }
    Reply {
        status,
        content_type: header("content-type"),
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n").unwrap();
        let size =
            usize::from_str_radix(std::str::from_utf8(&data[..line_end]).unwrap().trim(), 16)
                .unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[line_end + 2..line_end + 2 + size]);
        data = &data[line_end + 4 + size..];
    }
}

async fn post_json(addr: SocketAddr, body: &str) -> Reply {
    request(
        addr,
        "POST",
        "/api/predict",
        "application/json",
        body.as_bytes(),
    )
    .await
}

/// A drawn "1": a vertical bar of ink in the middle of a 28x28 square, ink = 1.
fn bar_pixels() -> Vec<f32> {
    let mut pixels = vec![0.0; 784];
    for y in 6..22 {
        for x in 13..15 {
            pixels[y * 28 + x] = 1.0;
        }
    }
    pixels
}

/// A PNG of a dark bar on white paper, 100x100.
fn bar_png() -> Vec<u8> {
    let image = image::GrayImage::from_fn(100, 100, |x, y| {
        image::Luma([if (45..55).contains(&x) && (20..80).contains(&y) {
            20
        } else {
            240
        }])
    });
    let mut bytes = Cursor::new(Vec::new());
    image.write_to(&mut bytes, image::ImageFormat::Png).unwrap();
    bytes.into_inner()
}

/// Checks the shape of a prediction answer.
fn assert_prediction(reply: &Reply) -> Value {
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let v = reply.json();
    assert!(v["digit"].as_u64().unwrap() <= 9);
    let p: Vec<f64> = v["probabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_f64().unwrap())
        .collect();
    assert_eq!(p.len(), 10);
    assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-3, "{p:?}");
    let input = v["input"].as_array().unwrap();
    assert_eq!(input.len(), 784);
    assert!(
        input.iter().any(|x| x.as_f64().unwrap() > 0.5),
        "the input has ink"
    );
    let sizes: Vec<usize> = v["activations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, vec![16, 12, 10]);
    v
}

fn assert_error(reply: &Reply, status: u16) {
    assert_eq!(
        reply.status,
        status,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert!(
        reply.content_type.starts_with("application/json"),
        "{}",
        reply.content_type
    );
    let v = reply.json();
    assert!(!v["error"].as_str().unwrap().is_empty());
    assert_eq!(v["status"], status);
}

#[tokio::test]
async fn json_pixels_are_read_and_every_layer_is_returned() {
    let addr = start().await;
    let body = serde_json::json!({ "pixels": bar_pixels() }).to_string();
    assert_prediction(&post_json(addr, &body).await);
    // Unpreprocessed: the input is exactly the pixels sent.
    let body = serde_json::json!({ "pixels": bar_pixels(), "preprocess": false }).to_string();
    let v = assert_prediction(&post_json(addr, &body).await);
    assert_eq!(v["input"][6 * 28 + 13], 1.0);
    assert_eq!(v["input"][0], 0.0);
}

#[tokio::test]
async fn an_image_body_and_a_multipart_upload_give_the_same_answer() {
    let addr = start().await;
    let png = bar_png();
    let alone = assert_prediction(&request(addr, "POST", "/api/predict", "image/png", &png).await);

    let mut body = b"--XyZ\r\nContent-Disposition: form-data; name=\"image\"; filename=\"bar.png\"\r\nContent-Type: image/png\r\n\r\n".to_vec();
    body.extend_from_slice(&png);
    body.extend_from_slice(b"\r\n--XyZ--\r\n");
    let multipart = assert_prediction(
        &request(
            addr,
            "POST",
            "/api/predict",
            "multipart/form-data; boundary=XyZ",
            &body,
        )
        .await,
    );
    assert_eq!(alone["probabilities"], multipart["probabilities"]);
    assert_eq!(alone["input"], multipart["input"]);
}

#[tokio::test]
async fn the_model_description_and_the_page_are_served() {
    let addr = start().await;
    let reply = request(addr, "GET", "/api/model", "", b"").await;
    assert_eq!(reply.status, 200);
    let v = reply.json();
    assert_eq!(v["layers"], serde_json::json!([784, 16, 12, 10]));
    assert_eq!(v["class_names"].as_array().unwrap().len(), 10);
    assert_eq!(v["class_names"][9], "Ankle boot");
    assert_eq!(
        (&v["output"], &v["loss"]),
        (&"sigmoid".into(), &"quadratic".into())
    );
    assert_eq!(v["parameters"], 784 * 16 + 16 + 16 * 12 + 12 + 12 * 10 + 10);
    assert_eq!(v["looks_for"][0].as_array().unwrap().len(), 16);
    assert_eq!(v["looks_for"][1][0].as_array().unwrap().len(), 784);
    let page = request(addr, "GET", "/", "", b"").await;
    assert_eq!(page.status, 200);
    assert!(page.content_type.starts_with("text/html"));
    assert!(String::from_utf8_lossy(&page.body).contains("/app.js"));
    assert_eq!(request(addr, "GET", "/app.js", "", b"").await.status, 200);
    assert_eq!(
        request(addr, "GET", "/style.css", "", b"").await.status,
        200
    );
    assert_error(&request(addr, "GET", "/nothing", "", b"").await, 404);
}

#[tokio::test]
async fn malformed_input_gets_a_json_error_with_the_right_status() {
    let addr = start().await;
    let mut short = bar_pixels();
    short.pop();
    let cases: Vec<(&str, String)> = vec![
        (
            "wrong length",
            serde_json::json!({ "pixels": short }).to_string(),
        ),
        ("NaN", bar_pixels_with("NaN")),
        ("over 1", bar_pixels_with("1.5")),
        ("negative", bar_pixels_with("-0.1")),
        ("a string", bar_pixels_with("\"x\"")),
        ("not JSON", "pixels please".to_string()),
        ("no pixels field", "{}".to_string()),
        ("empty body", String::new()),
    ];
    for (what, body) in cases {
        let reply = post_json(addr, &body).await;
        assert_eq!(
            reply.status,
            400,
            "{what}: {}",
            String::from_utf8_lossy(&reply.body)
        );
        assert_error(&reply, 400);
    }
    // An empty drawing is well formed but holds no digit.
    let blank = serde_json::json!({ "pixels": vec![0.0; 784] }).to_string();
    assert_error(&post_json(addr, &blank).await, 422);
    // Not an image.
    assert_error(
        &request(addr, "POST", "/api/predict", "image/png", b"not a png").await,
        400,
    );
    assert_error(
        &request(addr, "POST", "/api/predict", "image/png", b"").await,
        400,
    );
    // Wrong or missing content type.
    let body = serde_json::json!({ "pixels": bar_pixels() }).to_string();
    for content_type in ["text/plain", "application/xml", ""] {
        assert_error(
            &request(addr, "POST", "/api/predict", content_type, body.as_bytes()).await,
            415,
        );
    }
    // Over the 2 MB limit, as JSON and as an image.
    let big = vec![b' '; ziffer::web::MAX_BODY_BYTES + 1];
    assert_error(
        &request(addr, "POST", "/api/predict", "application/json", &big).await,
        413,
    );
    assert_error(
        &request(addr, "POST", "/api/predict", "image/png", &big).await,
        413,
    );
    // The wrong method.
    assert_eq!(
        request(addr, "GET", "/api/predict", "", b"").await.status,
        405
    );
}

/// The pixels of [`bar_pixels`] as JSON text with pixel 100 replaced by `value`.
fn bar_pixels_with(value: &str) -> String {
    let mut parts: Vec<String> = bar_pixels().iter().map(|p| p.to_string()).collect();
    parts[100] = value.to_string();
    format!("{{\"pixels\": [{}]}}", parts.join(","))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_requests_are_all_answered_correctly() {
    let addr = start().await;
    let png = bar_png();
    let expected =
        assert_prediction(&request(addr, "POST", "/api/predict", "image/png", &png).await);
    let body = serde_json::json!({ "pixels": bar_pixels(), "preprocess": false }).to_string();
    let expected_json = assert_prediction(&post_json(addr, &body).await);
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let (png, body) = (png.clone(), body.clone());
            tokio::spawn(async move {
                let reply = if i % 2 == 0 {
                    request(addr, "POST", "/api/predict", "image/png", &png).await
                } else {
                    post_json(addr, &body).await
                };
                (i, reply)
            })
        })
        .collect();
    for task in tasks {
        let (i, reply) = task.await.unwrap();
        let v = assert_prediction(&reply);
        let want = if i % 2 == 0 {
            &expected
        } else {
            &expected_json
        };
        assert_eq!(v["probabilities"], want["probabilities"], "request {i}");
        assert_eq!(v["activations"], want["activations"], "request {i}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_finishes_the_request_under_way_and_closes_idle_connections() {
    let model = Model::new(&TrainConfig {
        layers: vec![784, 16, 12, 10],
        ..TrainConfig::default()
    })
    .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(ziffer::web::serve(listener, model, async {
        let _ = stopped.await;
    }));
    // An idle keep-alive connection, after one answer.
    let mut idle = TcpStream::connect(addr).await.unwrap();
    idle.write_all(b"GET /app.js HTTP/1.1\r\nHost: ziffer\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0; 1 << 20];
    assert!(idle.read(&mut buf).await.unwrap() > 0);
    // A request under way: its head and half its body.
    let body = serde_json::json!({ "pixels": bar_pixels() }).to_string();
    let (first, rest) = body.as_bytes().split_at(body.len() / 2);
    let mut busy = TcpStream::connect(addr).await.unwrap();
    busy.write_all(
        format!(
            "POST /api/predict HTTP/1.1\r\nHost: ziffer\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    busy.write_all(first).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;

    stop.send(()).unwrap();
    let closed = tokio::time::timeout(std::time::Duration::from_secs(2), idle.read(&mut buf))
        .await
        .expect("the idle connection stays open after the stop");
    assert_eq!(closed.unwrap(), 0);
    // The request under way is still answered, and the connection closed after it.
    busy.write_all(rest).await.unwrap();
    let mut answer = Vec::new();
    busy.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    tokio::time::timeout(std::time::Duration::from_secs(2), server)
        .await
        .expect("serve did not return after its last connection closed")
        .unwrap()
        .unwrap();
    assert!(TcpStream::connect(addr).await.is_err(), "still accepting");
}

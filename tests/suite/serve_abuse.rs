//! `ziffer serve` under abuse, against the real binary on a free local port:
//!
//! - 500 slow connections (stalled or trickled headers, a body one byte a second) do not stop an
//!   ordinary request from being answered within a second, and each is cut at its stated timeout;
//! - a soak of 20,000 requests from 50 clients, a fifth malformed, each answered with its status,
//!   and the server's resident memory at the end within 20 MB of its value after a warm-up;
//! - the header count and size limits, just under and just over;
//! - no error answer holds a stack trace, a Rust type or a path of the server;
//! - the warning when the server listens beyond this machine, the open-file limit it raises,
//!   and the limits in `--help`.
//!
//! The heavy tests print their figures (`cargo test --release --test suite serve_abuse --
//! --nocapture` shows them). The model is untrained: these tests check the server, not the
//! reading.

use crate::support::server::{
    Reply, Server, bar_json, bar_png, exchange, multipart, raw_request, read_reply,
};
use serde_json::Value;
use std::io::{BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use ziffer::web::{HEADER_TIMEOUT, MAX_BODY_BYTES, MAX_HEADER_BYTES, MAX_HEADERS, REQUEST_TIMEOUT};

/// Checks that an error answer is the module's JSON `{"error", "status"}`, or, for the errors the
/// HTTP layer answers itself (a head it cannot read), empty; and that it gives nothing of the
/// server away.
fn assert_clean_error(what: &str, reply: &Reply, server: &Server) {
    let text = reply.text();
    if !(reply.status == 431 || reply.status == 400) || !text.is_empty() {
        assert!(
            reply
                .header("content-type")
                .is_some_and(|t| t.starts_with("application/json")),
            "{what}: {} {:?}: {text}",
            reply.status,
            reply.headers
        );
        let v: Value = serde_json::from_str(&text)
            .unwrap_or_else(|err| panic!("{what}: not JSON ({err}): {text}"));
        assert!(
            !v["error"].as_str().unwrap().is_empty(),
            "{what}: no message"
        );
        assert_eq!(v["status"], reply.status, "{what}: {text}");
    }
    let home = std::env::var("HOME").unwrap_or_default();
    let mut secrets = vec![
        env!("CARGO_MANIFEST_DIR").to_string(),
        server.model_dir.path().display().to_string(),
        std::env::temp_dir().display().to_string(),
    ];
    if home.len() > 1 {
        secrets.push(home);
    }
    let internals = [
        ".rs",
        "src/",
        "::",
        "panicked",
        "backtrace",
        "RUST_",
        "f64",
        "f32",
        "usize",
        "Vec<",
        "struct ",
        "enum ",
        "Error {",
        "Some(",
        "None",
    ];
    for needle in secrets.iter().map(String::as_str).chain(internals) {
        assert!(
            !text.contains(needle),
            "{what}: the error answer gives away {needle:?}: {text}"
        );
    }
}

#[test]
fn no_error_answer_gives_away_a_type_a_path_or_a_stack_trace() {
    let server = Server::start();
    let png = bar_png();
    let json = "application/json";
    let predict =
        |content_type: &str, body: &[u8]| raw_request("POST", "/api/predict", content_type, body);
    let too_big = format!(
        "POST /api/predict HTTP/1.1\r\nHost: ziffer\r\nContent-Type: image/png\r\nContent-Length: {}\r\n\r\n",
        MAX_BODY_BYTES + 1
    );
    let many_headers = format!(
        "GET /api/model HTTP/1.1\r\nHost: ziffer\r\n{}\r\n",
        (0..MAX_HEADERS + 1)
            .map(|i| format!("X-{i}: {i}\r\n"))
            .collect::<String>()
    );
    let big_header = format!(
        "GET /api/model HTTP/1.1\r\nHost: ziffer\r\nX-Big: {}\r\n\r\n",
        "a".repeat(MAX_HEADER_BYTES)
    );
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("JSON syntax", predict(json, b"{\"pixels\": [0.5,"), 400),
        ("NaN", predict(json, b"{\"pixels\": [NaN]}"), 400),
        ("a string pixel", predict(json, b"{\"pixels\": [\"x\"]}"), 400),
        ("an array body", predict(json, b"[1, 2]"), 400),
        ("a number body", predict(json, b"5"), 400),
        ("pixels an object", predict(json, b"{\"pixels\": {}}"), 400),
        ("no pixels", predict(json, b"{}"), 400),
        (
            "unknown field",
            predict(json, b"{\"pixels\": [], \"colour\": 1}"),
            400,
        ),
        (
            "preprocess not a boolean",
            predict(json, b"{\"pixels\": [], \"preprocess\": \"yes\"}"),
            400,
        ),
        ("wrong length", predict(json, b"{\"pixels\": [0.5]}"), 400),
        ("not an image", predict("image/png", b"not a png"), 400),
        ("empty body", predict("image/png", b""), 400),
        (
            "blank drawing",
            predict(json, format!("{{\"pixels\": [{}]}}", ["0"; 784].join(",")).as_bytes()),
            422,
        ),
        ("no content type", predict("", b"{}"), 415),
        ("wrong content type", predict("text/plain", b"{}"), 415),
        (
            "multipart without boundary",
            predict("multipart/form-data", &multipart(&png, true)),
            400,
        ),
        (
            "truncated multipart",
            predict("multipart/form-data; boundary=XyZ", &multipart(&png, false)),
            400,
        ),
        (
            "multipart without a file",
            predict("multipart/form-data; boundary=XyZ", b"--XyZ--\r\n"),
            400,
        ),
        (
            "multipart holding no image",
            predict(
                "multipart/form-data; boundary=XyZ",
                &multipart(b"not a png", true),
            ),
            400,
        ),
        ("oversized", too_big.into_bytes(), 413),
        (
            "chunked encoding broken",
            b"POST /api/predict HTTP/1.1\r\nHost: ziffer\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".to_vec(),
            400,
        ),
        ("no such page", raw_request("GET", "/nothing", "", b""), 404),
        ("a path with dots", raw_request("GET", "/../../etc/passwd", "", b""), 404),
        ("wrong method", raw_request("GET", "/api/predict", "", b""), 405),
        ("wrong method on a page", raw_request("DELETE", "/", "", b""), 405),
        ("garbage request line", b"HELLO\r\n\r\n".to_vec(), 400),
        (
            "bad content length",
            b"POST /api/predict HTTP/1.1\r\nHost: ziffer\r\nContent-Length: lots\r\n\r\n".to_vec(),
            400,
        ),
        ("too many headers", many_headers.into_bytes(), 431),
        ("a header too large", big_header.into_bytes(), 431),
    ];
    for (what, raw, status) in &cases {
        let reply = exchange(server.addr, raw);
        assert_eq!(reply.status, *status, "{what}: {}", reply.text());
        assert_clean_error(what, &reply, &server);
    }
    // The server took all of it without a panic and still answers.
    assert_eq!(
        exchange(server.addr, &raw_request("GET", "/api/model", "", b"")).status,
        200
    );
    let log = server.log();
    assert!(!log.contains("panicked"), "{log}");
}

#[test]
fn headers_just_under_the_limits_are_taken_and_just_over_get_431() {
    let server = Server::start();
    let get = |headers: &str| {
        exchange(
            server.addr,
            format!("GET /api/model HTTP/1.1\r\nHost: ziffer\r\n{headers}\r\n").as_bytes(),
        )
    };
    // Host is one of the headers.
    let count = |n: usize| {
        (1..n)
            .map(|i| format!("X-{i}: {i}\r\n"))
            .collect::<String>()
    };
    assert_eq!(get(&count(MAX_HEADERS)).status, 200);
    assert_eq!(get(&count(MAX_HEADERS + 1)).status, 431);
    // The request line and Host take about 50 bytes of the head.
    let sized = |n: usize| format!("X-Big: {}\r\n", "a".repeat(n));
    assert_eq!(get(&sized(MAX_HEADER_BYTES - 200)).status, 200);
    let over = get(&sized(MAX_HEADER_BYTES));
    assert_eq!(over.status, 431);
    assert!(over.body.is_empty(), "{}", over.text());
    assert_eq!(get("").status, 200);
    let log = server.log();
    assert!(!log.contains("panicked"), "{log}");
}

/// What a slow connection does.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Slow {
    /// Connects and sends nothing.
    Silent,
    /// Sends part of its headers, then nothing.
    StalledHead,
    /// Sends its request line, then one byte of header a second.
    TrickledHead,
    /// Sends its whole head, then one byte of body a second.
    TrickledBody,
}

impl Slow {
    fn opening(self) -> &'static [u8] {
        match self {
            Slow::Silent => b"",
            Slow::StalledHead => b"POST /api/predict HTTP/1.1\r\nHost: ziffer\r\nContent-Ty",
            Slow::TrickledHead => b"GET /api/model HTTP/1.1\r\nX-Slow: ",
            Slow::TrickledBody => {
                b"POST /api/predict HTTP/1.1\r\nHost: ziffer\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n"
            }
        }
    }

    fn trickles(self) -> bool {
        matches!(self, Slow::TrickledHead | Slow::TrickledBody)
    }

    /// When the server must cut it.
    fn timeout(self) -> Duration {
        match self {
            Slow::TrickledBody => REQUEST_TIMEOUT,
            _ => HEADER_TIMEOUT,
        }
    }
}

/// Opens a slow connection of `kind`, keeps it slow, and returns how long the server took to
/// close it (`None`: not within 30 s) and what it answered.
async fn slow_connection(
    addr: SocketAddr,
    kind: Slow,
    opened: Arc<AtomicUsize>,
) -> (Slow, Option<Duration>, Vec<u8>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // The server's clock starts when it accepts the connection, after this.
    let start = Instant::now();
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(kind.opening()).await.unwrap();
    opened.fetch_add(1, Ordering::SeqCst);
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    let mut tick = tokio::time::interval_at(
        tokio::time::Instant::now() + Duration::from_secs(1),
        Duration::from_secs(1),
    );
    let mut trickle = kind.trickles();
    loop {
        tokio::select! {
            read = stream.read(&mut buf) => match read {
                Ok(0) | Err(_) => return (kind, Some(start.elapsed()), answer),
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            },
            _ = tick.tick() => {
                if start.elapsed() > Duration::from_secs(30) {
                    return (kind, None, answer);
                }
                if trickle && stream.write_all(b"1").await.is_err() {
                    trickle = false;
                }
            }
        }
    }
}

/// min / median / max of `times`, in seconds.
fn spread(times: &mut [Duration]) -> String {
    times.sort();
    format!(
        "{:.2} / {:.2} / {:.2} s",
        times[0].as_secs_f64(),
        times[times.len() / 2].as_secs_f64(),
        times[times.len() - 1].as_secs_f64()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_slow_connections_are_cut_at_their_timeouts_and_hold_up_no_one() {
    let server = Server::start();
    let addr = server.addr;
    let mix = [
        (Slow::Silent, 50),
        (Slow::StalledHead, 250),
        (Slow::TrickledHead, 100),
        (Slow::TrickledBody, 100),
    ];
    let opened = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = mix
        .iter()
        .flat_map(|&(kind, n)| std::iter::repeat_n(kind, n))
        .map(|kind| tokio::spawn(slow_connection(addr, kind, opened.clone())))
        .collect();
    let total = tasks.len();
    while opened.load(Ordering::SeqCst) < total {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let open_time = started.elapsed();
    // A listen queue of 128 (tokio's default) would drop some of the SYNs, and their clients
    // would try again only after a second.
    assert!(
        open_time < Duration::from_secs(1),
        "{total} connections took {open_time:?} to open"
    );

    // Ordinary requests, every half second while the slow connections are held.
    let json = bar_json(None);
    let mut latencies = Vec::new();
    while started.elapsed() < REQUEST_TIMEOUT - Duration::from_millis(500) {
        for raw in [
            raw_request("GET", "/api/model", "", b""),
            raw_request("POST", "/api/predict", "application/json", json.as_bytes()),
        ] {
            let t = Instant::now();
            let reply = tokio::task::spawn_blocking(move || exchange(addr, &raw))
                .await
                .unwrap();
            let took = t.elapsed();
            assert_eq!(reply.status, 200, "{}", reply.text());
            assert!(
                took < Duration::from_secs(1),
                "an ordinary request took {took:?} with {total} slow connections open"
            );
            latencies.push(took);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    let mut closed: Vec<(Slow, Vec<Duration>)> = mix.iter().map(|&(k, _)| (k, vec![])).collect();
    for task in tasks {
        let (kind, after, answer) = task.await.unwrap();
        let after = after.unwrap_or_else(|| panic!("a {kind:?} connection was never closed"));
        let timeout = kind.timeout();
        // Counted from the start of the client's connect, before the server's clock starts; the
        // margin above is for a loaded machine.
        assert!(
            after >= timeout - Duration::from_millis(5)
                && after <= timeout + Duration::from_secs(2),
            "a {kind:?} connection was closed after {after:?}, not {timeout:?}"
        );
        let answer = String::from_utf8_lossy(&answer);
        if kind == Slow::TrickledBody {
            assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
            assert!(answer.contains("\"status\":408"), "{answer}");
        } else {
            assert!(answer.is_empty(), "{kind:?}: {answer}");
        }
        closed
            .iter_mut()
            .find(|(k, _)| *k == kind)
            .unwrap()
            .1
            .push(after);
    }
    eprintln!(
        "slow connections: {total} opened in {:.2} s; ordinary requests meanwhile: {} answered, \
         {}",
        open_time.as_secs_f64(),
        latencies.len(),
        spread(&mut latencies)
    );
    for (kind, mut times) in closed {
        eprintln!(
            "  {:>4} {kind:?} closed after (min / median / max) {} (timeout {} s)",
            times.len(),
            spread(&mut times),
            kind.timeout().as_secs()
        );
    }
    eprintln!("  the whole test: {:.1} s", started.elapsed().as_secs_f64());
}

/// The requests of the soak, a fifth of them malformed: what each sends and the status it must
/// get.
#[derive(Clone, Copy, Debug)]
enum Soak {
    Pixels,
    RawPixels,
    Png,
    Multipart,
    Model,
    BadJson,
    WrongLength,
    NaN,
    Oversized,
    WrongType,
    TruncatedMultipart,
    BrokenOff,
    NoDigit,
    WrongMethod,
}

const GOOD: [Soak; 4] = [Soak::Pixels, Soak::Png, Soak::Multipart, Soak::RawPixels];
const BAD: [Soak; 9] = [
    Soak::BadJson,
    Soak::WrongLength,
    Soak::NaN,
    Soak::Oversized,
    Soak::WrongType,
    Soak::TruncatedMultipart,
    Soak::BrokenOff,
    Soak::NoDigit,
    Soak::WrongMethod,
];

impl Soak {
    /// The `i`th request of a client: four good ones (one in ten of them the model), then a bad.
    fn nth(i: usize) -> Soak {
        let round = i / 5;
        match i % 5 {
            4 => BAD[round % BAD.len()],
            j if round % 10 == 0 && j == 0 => Soak::Model,
            j => GOOD[(round + j) % GOOD.len()],
        }
    }

    fn status(self) -> u16 {
        match self {
            Soak::Pixels | Soak::RawPixels | Soak::Png | Soak::Multipart | Soak::Model => 200,
            Soak::BadJson
            | Soak::WrongLength
            | Soak::NaN
            | Soak::TruncatedMultipart
            | Soak::BrokenOff => 400,
            Soak::Oversized => 413,
            Soak::WrongType => 415,
            Soak::NoDigit => 422,
            Soak::WrongMethod => 405,
        }
    }

    /// Whether the connection cannot be used again after it.
    fn ends_the_connection(self) -> bool {
        matches!(self, Soak::Oversized | Soak::BrokenOff)
    }
}

/// The bodies, made once.
struct Bodies {
    pixels: Vec<u8>,
    raw_pixels: Vec<u8>,
    png: Vec<u8>,
    multipart: Vec<u8>,
    truncated: Vec<u8>,
    short: Vec<u8>,
    blank: Vec<u8>,
}

impl Bodies {
    fn new() -> Bodies {
        let png = bar_png();
        let pixels = bar_json(None);
        Bodies {
            raw_pixels: bar_json(Some(false)).into_bytes(),
            short: pixels.replacen("0.0,", "", 1).into_bytes(),
            blank: format!("{{\"pixels\": [{}]}}", ["0"; 784].join(",")).into_bytes(),
            pixels: pixels.into_bytes(),
            multipart: multipart(&png, true),
            truncated: multipart(&png, false),
            png,
        }
    }

    /// What the client writes for `kind`; after it, for [`Soak::BrokenOff`], it shuts its
    /// sending side.
    fn request(&self, kind: Soak) -> Vec<u8> {
        let json = "application/json";
        let form = "multipart/form-data; boundary=XyZ";
        let post = |content_type: &str, body: &[u8]| {
            raw_request("POST", "/api/predict", content_type, body)
        };
        match kind {
            Soak::Pixels => post(json, &self.pixels),
            Soak::RawPixels => post(json, &self.raw_pixels),
            Soak::Png => post("image/png", &self.png),
            Soak::Multipart => post(form, &self.multipart),
            Soak::Model => raw_request("GET", "/api/model", "", b""),
            Soak::BadJson => post(json, &self.pixels[..self.pixels.len() - 1]),
            Soak::WrongLength => post(json, &self.short),
            Soak::NaN => post(json, &self.pixels).replacen_bytes(b"0.0,", b"NaN,"),
            Soak::Oversized => format!(
                "POST /api/predict HTTP/1.1\r\nHost: ziffer\r\nContent-Type: image/png\r\n\
                 Content-Length: {}\r\n\r\n",
                MAX_BODY_BYTES + 1
            )
            .into_bytes(),
            Soak::WrongType => post("text/plain", &self.pixels),
            Soak::TruncatedMultipart => post(form, &self.truncated),
            Soak::BrokenOff => {
                let mut raw = post(json, &self.pixels);
                raw.truncate(raw.len() - 100);
                raw
            }
            Soak::NoDigit => post(json, &self.blank),
            Soak::WrongMethod => raw_request("PUT", "/api/model", "", b""),
        }
    }
}

trait ReplaceBytes {
    fn replacen_bytes(self, from: &[u8], to: &[u8]) -> Vec<u8>;
}

impl ReplaceBytes for Vec<u8> {
    /// The first `from` replaced by `to`.
    fn replacen_bytes(self, from: &[u8], to: &[u8]) -> Vec<u8> {
        let at = self.windows(from.len()).position(|w| w == from).unwrap();
        [&self[..at], to, &self[at + from.len()..]].concat()
    }
}

/// One client of the soak: `count` requests from `first` on, over keep-alive connections opened
/// again when the server closes one. Returns the mistakes (what was sent, what came back).
fn soak_client(addr: SocketAddr, bodies: &Bodies, first: usize, count: usize) -> Vec<String> {
    let connect = || {
        let stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        (stream.try_clone().unwrap(), BufReader::new(stream))
    };
    let (mut stream, mut reader) = connect();
    let mut mistakes = Vec::new();
    for i in first..first + count {
        let kind = Soak::nth(i);
        let _ = stream.write_all(&bodies.request(kind));
        if matches!(kind, Soak::BrokenOff) {
            stream.shutdown(Shutdown::Write).unwrap();
        }
        let reply = read_reply(&mut reader);
        let ok = match &reply {
            Ok(reply) if reply.status == kind.status() => {
                let text = reply.text();
                match kind {
                    Soak::Model => text.contains("\"looks_for\""),
                    _ if kind.status() == 200 => text.contains("\"digit\":"),
                    _ => text.contains(&format!("\"status\":{}", kind.status())),
                }
            }
            _ => false,
        };
        if !ok {
            mistakes.push(match &reply {
                Ok(reply) => format!(
                    "request {i} ({kind:?}): {} {:?} {}",
                    reply.status,
                    reply.headers,
                    reply.text()
                ),
                Err(err) => format!("request {i} ({kind:?}): {err}"),
            });
        }
        let closes = reply
            .as_ref()
            .map_or(true, |r| r.header("connection") == Some("close"));
        if closes || kind.ends_the_connection() {
            (stream, reader) = connect();
        }
    }
    mistakes
}

/// Runs `clients` threads of [`soak_client`] for `total` requests in all; returns how long it
/// took.
fn soak(addr: SocketAddr, bodies: &Arc<Bodies>, clients: usize, total: usize) -> Duration {
    let start = Instant::now();
    let each = total / clients;
    let threads: Vec<_> = (0..clients)
        .map(|c| {
            let bodies = bodies.clone();
            // Each client starts at another point of the mix.
            std::thread::spawn(move || soak_client(addr, &bodies, c * 7, each))
        })
        .collect();
    let mistakes: Vec<String> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    assert!(
        mistakes.is_empty(),
        "{} of {total} requests got the wrong answer, the first: {:#?}",
        mistakes.len(),
        &mistakes[..mistakes.len().min(3)]
    );
    start.elapsed()
}

#[test]
fn a_soak_of_twenty_thousand_requests_a_fifth_malformed_is_answered_in_constant_memory() {
    const MB: f64 = 1e6;
    let server = Server::start();
    let bodies = Arc::new(Bodies::new());
    let (at_start, _) = server.memory();
    soak(server.addr, &bodies, 50, 2_000);
    let (warm, _) = server.memory();
    let took = soak(server.addr, &bodies, 50, 20_000);
    let (end, peak) = server.memory();
    let malformed = (0..20_000)
        .filter(|&i| Soak::nth(i).status() != 200)
        .count();
    eprintln!(
        "soak: 20,000 requests ({malformed} malformed) from 50 clients in {:.2} s, {:.0} \
         requests/s; server memory: {:.1} MB at start, {:.1} MB after 2,000 to warm up, {:.1} \
         MB at the end ({:+.1} MB), peak {:.1} MB",
        took.as_secs_f64(),
        20_000.0 / took.as_secs_f64(),
        at_start as f64 / MB,
        warm as f64 / MB,
        end as f64 / MB,
        (end as f64 - warm as f64) / MB,
        peak as f64 / MB,
    );
    assert!(
        end < warm + 20_000_000,
        "the server grew from {warm} to {end} bytes over the soak"
    );
    let log = server.log();
    assert!(!log.contains("panicked"), "{log}");
}

#[test]
fn the_server_warns_when_other_machines_can_reach_it() {
    let everywhere = Server::start_on("0.0.0.0:0");
    let reply = exchange(everywhere.addr, &raw_request("GET", "/api/model", "", b""));
    assert_eq!(reply.status, 200);
    let log = everywhere.log_with("warning");
    assert!(
        log.contains("warning: listening on 0.0.0.0:")
            && log.contains("other machines can reach this server"),
        "{log}"
    );
    let here = Server::start();
    assert_eq!(
        exchange(here.addr, &raw_request("GET", "/api/model", "", b"")).status,
        200
    );
    // The warning would come before the server answers; give the log a moment to catch up.
    std::thread::sleep(Duration::from_millis(300));
    let log = here.log();
    assert!(!log.contains("warning"), "{log}");
}

#[test]
fn the_server_raises_a_low_open_file_limit_to_hold_its_connections() {
    let server = Server::start_with("127.0.0.1:0", Some(256));
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct given.
    unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    let wanted = (ziffer::web::MAX_CONNECTIONS as u64 + 64).min(limit.rlim_max);
    // The limit is raised before the server answers.
    assert_eq!(
        exchange(server.addr, &raw_request("GET", "/api/model", "", b"")).status,
        200
    );
    assert_eq!(server.open_file_limit(), wanted);
}

#[test]
fn serve_help_states_each_limit() {
    let output = Command::new(assert_cmd::cargo::cargo_bin("ziffer"))
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    for limit in [
        format!("within {} s", HEADER_TIMEOUT.as_secs()),
        format!("within {} s", REQUEST_TIMEOUT.as_secs()),
        format!("{MAX_HEADERS} headers"),
        format!("{} KiB", MAX_HEADER_BYTES >> 10),
        format!("{} MiB", MAX_BODY_BYTES >> 20),
        format!("{} connections", ziffer::web::MAX_CONNECTIONS),
        "127.0.0.1:8080".to_string(),
    ] {
        assert!(help.contains(&limit), "no {limit:?} in: {help}");
    }
}

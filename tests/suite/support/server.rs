//! A `ziffer serve` child process on a free local port, and a small blocking HTTP/1.1 client to
//! talk to it byte by byte, malformed requests included: what the server tests share.
//!
//! Not a general HTTP client: it sends what the test writes and reads one answer by its
//! `Content-Length`, its chunks or the end of the stream.

use std::io::{BufRead, BufReader, Cursor, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};
use ziffer::model::Model;
use ziffer::settings::TrainConfig;

/// A `ziffer serve` child process on 127.0.0.1 with a free port, killed when dropped.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    /// Everything the server wrote to its standard error.
    log: Arc<Mutex<String>>,
    pub model_dir: tempfile::TempDir,
}

impl Server {
    pub fn start() -> Server {
        Server::start_on("127.0.0.1:0")
    }

    pub fn start_on(addr: &str) -> Server {
        Server::start_with(addr, None)
    }

    /// Starts the server on `addr`, with its soft limit on open files set to `file_limit` if
    /// given.
    pub fn start_with(addr: &str, file_limit: Option<libc::rlim_t>) -> Server {
        raise_open_file_limit(1500);
        let model_dir = tempfile::tempdir().unwrap();
        let model_path = model_dir.path().join("m.safetensors");
        let model = Model::new(&TrainConfig {
            layers: vec![784, 16, 12, 10],
            ..TrainConfig::default()
        })
        .unwrap();
        ziffer::model_file::save(&model, &model_path).unwrap();
        let mut command = Command::new(assert_cmd::cargo::cargo_bin("ziffer"));
        if let Some(soft) = file_limit {
            use std::os::unix::process::CommandExt;
            // SAFETY: only getrlimit and setrlimit run between fork and exec, on a local struct.
            unsafe {
                command.pre_exec(move || {
                    let mut limit = libc::rlimit {
                        rlim_cur: 0,
                        rlim_max: 0,
                    };
                    libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
                    limit.rlim_cur = soft;
                    libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
                    Ok(())
                });
            }
        }
        let mut child = command
            .args(["serve", "--model"])
            .arg(&model_path)
            .args(["--addr", addr])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (url_tx, url_rx) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        let log_writer = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                {
                    let mut log = log_writer.lock().unwrap();
                    log.push_str(&line);
                    log.push('\n');
                }
                if let Some(start) = line.find("http://") {
                    let url = line[start + 7..].split('/').next().unwrap().to_string();
                    let _ = url_tx.send(url);
                }
            }
        });
        let bound = url_rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("the server did not start: {}", log.lock().unwrap()));
        let bound: SocketAddr = bound.parse().unwrap();
        // A server on 0.0.0.0 is reached through the loopback.
        let addr = SocketAddr::from(([127, 0, 0, 1], bound.port()));
        Server {
            child,
            addr,
            log,
            model_dir,
        }
    }

    /// The server's resident memory, in bytes (`VmRSS` of /proc/PID/status), and its peak
    /// (`VmHWM`).
    pub fn memory(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let field = |name: &str| -> u64 {
            let line = status.lines().find(|l| l.starts_with(name)).unwrap();
            let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
            kib * 1024
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    /// The soft limit on open files of the server process (/proc/PID/limits).
    pub fn open_file_limit(&self) -> u64 {
        let limits = std::fs::read_to_string(format!("/proc/{}/limits", self.child.id())).unwrap();
        let line = limits
            .lines()
            .find(|l| l.starts_with("Max open files"))
            .unwrap();
        line.split_whitespace().nth(3).unwrap().parse().unwrap()
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// The log once it holds `text`, or after 5 s.
    pub fn log_with(&self, text: &str) -> String {
        let start = Instant::now();
        while !self.log().contains(text) && start.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(10));
        }
        self.log()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Raises this process's soft limit on open files to `wanted` where it is lower (the server
/// child inherits it): the slow-connection test holds 500 sockets on each side.
pub fn raise_open_file_limit(wanted: libc::rlim_t) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct given.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < wanted {
            limit.rlim_cur = wanted.min(limit.rlim_max);
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

/// An answer: status, headers (names in lower case) and body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).to_string()
    }
}

/// Reads one HTTP/1.1 answer from `stream`, by its `Content-Length`, chunks or the end of the
/// stream.
pub fn read_reply(stream: &mut impl BufRead) -> std::io::Result<Reply> {
    let mut raw = Vec::new();
    while !raw.ends_with(b"\r\n\r\n") {
        if stream.read_until(b'\n', &mut raw)? == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("closed after {:?}", String::from_utf8_lossy(&raw)),
            ));
        }
    }
    let head = String::from_utf8_lossy(&raw).to_string();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut reply = Reply {
        status,
        headers,
        body: Vec::new(),
    };
    if let Some(length) = reply.header("content-length") {
        let mut body = vec![0; length.parse().unwrap()];
        stream.read_exact(&mut body)?;
        reply.body = body;
    } else if reply.header("transfer-encoding") == Some("chunked") {
        loop {
            let mut line = String::new();
            stream.read_line(&mut line)?;
            let size = usize::from_str_radix(line.trim(), 16).unwrap();
            let mut chunk = vec![0; size + 2];
            stream.read_exact(&mut chunk)?;
            if size == 0 {
                break;
            }
            reply.body.extend_from_slice(&chunk[..size]);
        }
    } else {
        stream.read_to_end(&mut reply.body)?;
    }
    Ok(reply)
}

/// A request's bytes: `method path`, a content type (empty for none), the body, and a
/// `Content-Length` of the body's length.
pub fn raw_request(method: &str, path: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut raw = format!(
        "{method} {path} HTTP/1.1\r\nHost: ziffer\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !content_type.is_empty() {
        raw.push_str(&format!("Content-Type: {content_type}\r\n"));
    }
    raw.push_str("\r\n");
    let mut raw = raw.into_bytes();
    raw.extend_from_slice(body);
    raw
}

/// Sends `raw` on a new connection and reads the answer.
pub fn exchange(addr: SocketAddr, raw: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    // The server may answer and close before all of it is sent (431, 413).
    let _ = stream.write_all(raw);
    read_reply(&mut BufReader::new(stream)).unwrap_or_else(|err| panic!("no answer: {err}"))
}

/// A drawn "1" as the JSON body `{"pixels": [...]}`, with `preprocess` if given.
pub fn bar_json(preprocess: Option<bool>) -> String {
    let mut pixels = vec![0.0f32; 784];
    for y in 6..22 {
        for x in 13..15 {
            pixels[y * 28 + x] = 1.0;
        }
    }
    match preprocess {
        Some(p) => serde_json::json!({ "pixels": pixels, "preprocess": p }).to_string(),
        None => serde_json::json!({ "pixels": pixels }).to_string(),
    }
}

/// A PNG of a dark bar on white paper, 100x100.
pub fn bar_png() -> Vec<u8> {
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

/// A multipart body holding `png` as the file field `image`; with `closed` false, the last
/// boundary is missing, as in an upload cut short.
pub fn multipart(png: &[u8], closed: bool) -> Vec<u8> {
    let mut body = b"--XyZ\r\nContent-Disposition: form-data; name=\"image\"; filename=\"bar.png\"\r\nContent-Type: image/png\r\n\r\n".to_vec();
    body.extend_from_slice(png);
    if closed {
        body.extend_from_slice(b"\r\n--XyZ--\r\n");
    }
    body
}

//! The web page and its JSON API: `ziffer serve`.
//!
//! What it is: an [axum] router that serves one page (HTML, script and style compiled into the
//! binary, nothing fetched from elsewhere) and two API routes, plus [`serve`], which runs it until
//! a shutdown signal. What it is not: a second preprocessing or a second forward pass. Every
//! image goes through [`crate::preprocess`] (the one path `ziffer predict` takes too) and
//! [`crate::predict`]; this module only moves bytes and JSON.
//!
//! # The API
//!
//! `POST /api/predict` takes one of
//! - JSON `{"pixels": [...]}`: 784 values in `[0, 1]`, row after row, ink = 1 as in MNIST. They
//!   are treated as a 28x28 drawing and preprocessed like any image (cropped, fitted in 20x20,
//!   centred by mass), so that a drawing anywhere in the square is read; send
//!   `"preprocess": false` to give the network exactly these pixels;
//! - an image file (PNG, JPEG, BMP, GIF, WebP) as the body, with an `image/*` or
//!   `application/octet-stream` content type;
//! - a `multipart/form-data` upload whose first file field is the image.
//!
//! It answers with the digit, the verdict (`unsure` is `null` or the reason in words), all ten
//! probabilities, the 784 inputs the network received (`input`, 0..1), every layer's
//! activations (`activations[l - 1]` for layer `l`), and for each layer the
//! [`NETWORK_VIEW_LINES`] connections that weigh most for this input (`strongest[l - 1]`, each
//! `{from, to, value}` with `value = w·a`, [`crate::predict::strongest_contributions`]).
//!
//! `GET /api/model` gives the architecture, parameter count, class names, test accuracy, the
//! training history, and for every hidden neuron the 28x28 image it looks for
//! ([`looks_for`]).
//!
//! Errors are JSON `{"error": message, "status": code}`: 400 for malformed input, 404 for no
//! such page, 405 for the wrong method, 408 for a body that does not arrive within
//! [`REQUEST_TIMEOUT`], 413 for a body over [`MAX_BODY_BYTES`], 415 for an unsupported content
//! type, 422 for an image without a digit, 503 when the answer takes longer than
//! [`REQUEST_TIMEOUT`]. No error names a Rust type, a source file or a path of the server.
//! The one exception is a request whose head cannot be read at all (a malformed request line,
//! over [`MAX_HEADERS`] headers or [`MAX_HEADER_BYTES`] of head): the HTTP layer answers it, 400
//! or 431 with an empty body, and closes the connection.
//!
//! # Limits
//!
//! What a client may hold, so that slow or hostile ones cannot starve the others:
//!
//! | limit | value | past it |
//! | --- | --- | --- |
//! | [`HEADER_TIMEOUT`] | 5 s from the connection's start, or the previous answer, to the end of the headers | closed without an answer |
//! | [`REQUEST_TIMEOUT`] | 10 s from the end of the headers to the answer, body included | 408 if the body was still arriving, else 503; a 408 closes the connection |
//! | [`MAX_HEADERS`] | 100 headers | 431, closed |
//! | [`MAX_HEADER_BYTES`] | 16 KiB for the request line and headers | 431, closed |
//! | [`MAX_BODY_BYTES`] | 2 MiB of body | 413 (at once when `Content-Length` says so), closed |
//! | [`MAX_CONNECTIONS`] | 1,024 connections open at once | the next clients wait in the listen queue until one closes |
//! | [`LISTEN_BACKLOG`] | 1,024 connections waiting in the kernel's listen queue ([`bind`]) | the kernel drops the next SYNs; their clients retry after a second |
//! | [`MAX_CONCURRENT_PREDICTIONS`] | 8 predictions at once | the next requests wait, within their [`REQUEST_TIMEOUT`] |
//! | [`SHUTDOWN_GRACE`] | 10 s after the shutdown signal for the requests under way | the connections left are closed |
//!
//! A keep-alive connection that sends nothing more is closed after [`HEADER_TIMEOUT`] too.

mod body;
mod docs;
mod learn;
pub mod live;
mod test_digit;

use crate::data::CLASSES;
use crate::data::batch::normalise_pixel;
use crate::model::Model;
use crate::nn::network::Network;
use crate::predict::{
    Confidence, Prediction, activations, read_activations, strongest_contributions,
};
use crate::preprocess::{PIXELS, Preprocessed, preprocess_bytes, preprocess_gray};
use crate::web::live::Feed;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::sse::{KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use body::{clip, parse_pixels_request};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::{Value, json};
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::Semaphore;

mod server;

/// The largest request body taken: 2 MiB. Past it: 413.
pub const MAX_BODY_BYTES: usize = 2 << 20;
/// How long a request may take from the end of its headers to its answer, its body and the wait
/// for a prediction included: 10 s. Past it: 408 if the body was still arriving (and the
/// connection is closed), 503 if the server was too slow.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How many connections of each layer the answer names in `strongest`, for the network view.
pub const NETWORK_VIEW_LINES: usize = 40;
/// How many predictions run at once; the others wait (up to [`REQUEST_TIMEOUT`]).
pub const MAX_CONCURRENT_PREDICTIONS: usize = 8;
/// How long a connection may take to send a request's headers, counted from when it opens or
/// from the previous answer: 5 s. Past it the connection is closed without an answer; this is
/// also how long an idle keep-alive connection stays open.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// The most headers a request may have: 100. Past it: 431, and the connection is closed.
pub const MAX_HEADERS: usize = 100;
/// The largest request head (request line and headers) taken: 16 KiB. Past it: 431, and the
/// connection is closed.
pub const MAX_HEADER_BYTES: usize = 16 << 10;
/// The most connections open at once: 1,024. Past it the server stops accepting until one
/// closes; the next clients wait in the kernel's listen queue (they are not refused).
pub const MAX_CONNECTIONS: usize = 1024;
/// How many connections [`bind`] lets wait in the kernel's listen queue: 1,024 (the kernel
/// caps it at `net.core.somaxconn`). Past it the kernel drops the next connection attempts, and
/// their clients send them again after a second.
pub const LISTEN_BACKLOG: u32 = 1024;
/// How long, after the shutdown signal, the requests under way have to finish: 10 s. Then the
/// connections left are closed.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

const INDEX_HTML: &str = include_str!("index.html");
const APP_JS: &str = include_str!("app.js");
const STYLE_CSS: &str = include_str!("style.css");

/// What every request shares: the model served, the permits, and a training run's events.
struct AppState {
    /// Replaced after each epoch while `ziffer train --serve` trains ([`Swap`]).
    served: RwLock<Arc<Served>>,
    confidence: Confidence,
    permits: Semaphore,
    /// The events of the training run, under `ziffer train --serve`.
    feed: Option<Arc<Feed>>,
    /// The bundled MNIST test set, read on the first `GET /api/test-digit` (or why it cannot be).
    test_set: std::sync::OnceLock<Result<crate::data::Dataset, String>>,
}

/// A model and what is computed from it once, when first asked for.
struct Served {
    model: Model,
    /// Whether a training run's events can be watched, for the description.
    live: bool,
    /// The body of `GET /api/model` (made on the first request: while training, most of the
    /// models served after each epoch are never described).
    json: std::sync::OnceLock<Bytes>,
}

impl Served {
    fn new(model: Model, live: bool) -> Served {
        Served {
            model,
            live,
            json: std::sync::OnceLock::new(),
        }
    }

    fn json(&self) -> Bytes {
        let json = self.json.get_or_init(|| {
            // A `Value` always serialises (non-finite numbers become null).
            Bytes::from(model_description(&self.model, self.live).to_string())
        });
        json.clone()
    }
}

impl AppState {
    fn served(&self) -> Arc<Served> {
        Arc::clone(&self.served.read().expect("the served model's lock"))
    }
}

/// The handle that replaces the model a [`training_router`] serves, e.g. after each epoch.
#[derive(Clone)]
pub struct Swap(Arc<AppState>);

impl Swap {
    /// Serves `model` from now on; requests under way finish with the model they began with.
    pub fn serve(&self, model: Model) -> crate::Result<()> {
        check_model(&model)?;
        let served = Arc::new(Served::new(model, self.0.feed.is_some()));
        *self.0.served.write().expect("the served model's lock") = served;
        Ok(())
    }
}

/// An error answer: a status and a message, sent as JSON.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }

    fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }
}

impl From<crate::Error> for ApiError {
    fn from(err: crate::Error) -> Self {
        let status = match err {
            crate::Error::NoDigit { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            crate::Error::Image { .. } => StatusCode::BAD_REQUEST,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::new(status, err.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "error": self.message, "status": self.status.as_u16() });
        (self.status, axum::Json(body)).into_response()
    }
}

/// Checks that `model` reads digits: 784 inputs, 10 outputs.
pub fn check_model(model: &Model) -> crate::Result<()> {
    let network = &model.network;
    if network.inputs() != PIXELS || network.outputs() != CLASSES {
        return Err(crate::Error::NotADigitReader {
            inputs: network.inputs(),
            outputs: network.outputs(),
            expected_inputs: PIXELS,
            expected_outputs: CLASSES,
        });
    }
    Ok(())
}

/// The page and the API for `model`, which must read digits ([`check_model`]).
pub fn router(model: Model) -> crate::Result<Router> {
    Ok(build(model, None)?.0)
}

/// The page and the API for a training run, `ziffer train --serve`: [`router`]'s, plus the run's
/// events from `feed` on `GET /api/training/events` ([`live`]); the [`Swap`] replaces the model
/// served (start with the untrained one).
pub fn training_router(model: Model, feed: Arc<Feed>) -> crate::Result<(Router, Swap)> {
    build(model, Some(feed))
}

fn build(model: Model, feed: Option<Arc<Feed>>) -> crate::Result<(Router, Swap)> {
    check_model(&model)?;
    let state = Arc::new(AppState {
        served: RwLock::new(Arc::new(Served::new(model, feed.is_some()))),
        confidence: Confidence::default(),
        permits: Semaphore::new(MAX_CONCURRENT_PREDICTIONS),
        feed,
        test_set: std::sync::OnceLock::new(),
    });
    let swap = Swap(Arc::clone(&state));
    let router = Router::new()
        .route(
            "/",
            get(|| async { page(INDEX_HTML, "text/html; charset=utf-8") }),
        )
        .route(
            "/app.js",
            get(|| async { page(APP_JS, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/style.css",
            get(|| async { page(STYLE_CSS, "text/css; charset=utf-8") }),
        )
        .route("/api/model", get(get_model))
        .route("/api/predict", post(post_predict))
        .route("/api/learn", post(learn::post_learn))
        .route("/api/training/events", get(training_events))
        .route("/api/test-digit", get(test_digit::get))
        .route("/how-it-works", get(|| async { docs::page() }))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "no such page") })
        .method_not_allowed_fallback(|request: Request| async move {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                format!(
                    "{} does not take {}: the API is GET /api/model, POST /api/predict, POST \
                     /api/learn, GET /api/test-digit and GET /api/training/events",
                    clip(request.uri().path()),
                    request.method()
                ),
            )
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(limits))
        .with_state(state);
    Ok((router, swap))
}

/// A listener on `addr` for [`serve`], with a listen queue of [`LISTEN_BACKLOG`] (tokio's
/// `TcpListener::bind` gives 128, which a burst of a few hundred clients overflows). Call it
/// inside the runtime.
pub fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    // As `TcpListener::bind` does: a restarted server can take its port back at once.
    #[cfg(not(windows))]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Serves `model` on `listener` (best made by [`bind`]) until `shutdown` completes, then
/// finishes the requests under way, for up to [`SHUTDOWN_GRACE`]. Every connection is held to
/// the [limits](self#limits).
pub async fn serve(
    listener: TcpListener,
    model: Model,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> crate::Result<()> {
    serve_router(listener, router(model)?, shutdown).await
}

/// Serves `router` (from [`router`] or [`training_router`]) on `listener` as [`serve`] does,
/// with the same limits.
pub async fn serve_router(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> crate::Result<()> {
    server::run(listener, router, shutdown).await;
    Ok(())
}

fn page(body: &'static str, content_type: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// [`MAX_BODY_BYTES`] and [`REQUEST_TIMEOUT`] for every route: reads the whole body first
/// (413 past the limit, 408 if it is still arriving at the deadline, 400 if it breaks off), then
/// gives the route what is left of the time (503 past it).
async fn limits(request: Request, next: Next) -> Response {
    let deadline = tokio::time::Instant::now() + REQUEST_TIMEOUT;
    let (parts, body) = request.into_parts();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        return too_large().into_response();
    }
    let bytes =
        match tokio::time::timeout_at(deadline, Limited::new(body, MAX_BODY_BYTES).collect()).await
        {
            Ok(Ok(collected)) => collected.to_bytes(),
            Ok(Err(err)) if err.is::<LengthLimitError>() => return too_large().into_response(),
            Ok(Err(_)) => {
                return ApiError::bad_request(
                    "the body broke off: it ended before its Content-Length, or its chunked \
                 encoding is malformed",
                )
                .into_response();
            }
            Err(_) => {
                let mut response = ApiError::new(
                    StatusCode::REQUEST_TIMEOUT,
                    format!(
                        "the body did not arrive within {} s: send the whole request at once",
                        REQUEST_TIMEOUT.as_secs()
                    ),
                )
                .into_response();
                // The rest of the body may still be on its way: the connection cannot be reused.
                response.headers_mut().insert(
                    header::CONNECTION,
                    header::HeaderValue::from_static("close"),
                );
                return response;
            }
        };
    let request = Request::from_parts(parts, axum::body::Body::from(bytes));
    match tokio::time::timeout_at(deadline, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "the server could not answer within {} s (it is busy); try again",
                REQUEST_TIMEOUT.as_secs()
            ),
        )
        .into_response(),
    }
}

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!(
            "the body is over {} MiB: send a smaller image (28x28 is all the network sees)",
            MAX_BODY_BYTES >> 20
        ),
    )
}

async fn get_model(State(state): State<Arc<AppState>>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        state.served().json(),
    )
        .into_response()
}

/// `GET /api/training/events`: the training run's server-sent events ([`live`]).
async fn training_events(State(state): State<Arc<AppState>>) -> Response {
    match &state.feed {
        Some(feed) => Sse::new(live::event_stream(feed))
            .keep_alive(KeepAlive::default())
            .into_response(),
        None => ApiError::new(
            StatusCode::NOT_FOUND,
            "no training run here: `ziffer train --serve` trains and shows it live",
        )
        .into_response(),
    }
}

/// What a request asks to read, before the CPU-bound work.
enum Input {
    /// An encoded image file.
    File(Bytes),
    /// 28x28 values in `[0, 1]`, ink = 1, and whether to preprocess them.
    Pixels(Vec<f64>, bool),
}

async fn post_predict(State(state): State<Arc<AppState>>, request: Request) -> Response {
    match predict_request(state, request).await {
        Ok(body) => axum::Json(body).into_response(),
        Err(err) => err.into_response(),
    }
}

async fn predict_request(state: Arc<AppState>, request: Request) -> Result<Value, ApiError> {
    let input = read_input(request).await?;
    on_a_worker(state, move |state| read_digit(state, input)).await
}

/// Runs the CPU-bound `work` on a blocking thread once one of the [`MAX_CONCURRENT_PREDICTIONS`]
/// permits is free: what every route that runs the network shares.
async fn on_a_worker(
    state: Arc<AppState>,
    work: impl FnOnce(&AppState) -> Result<Value, ApiError> + Send + 'static,
) -> Result<Value, ApiError> {
    let _permit =
        state.permits.acquire().await.map_err(|_| {
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "the server is stopping")
        })?;
    let worker = state.clone();
    tokio::task::spawn_blocking(move || work(&worker))
        .await
        .map_err(|_| {
            // The panic's message went to the server's standard error; the client gets no
            // internals.
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the work failed inside the server (a bug): the server's log says more",
            )
        })?
}

/// The body of a request as an [`Input`], by its content type.
async fn read_input(request: Request) -> Result<Input, ApiError> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let mime = content_type.split(';').next().unwrap_or("").trim();
    if mime == "multipart/form-data" {
        let mut multipart = Multipart::from_request(request, &())
            .await
            .map_err(|err| multipart_error(err.status(), err.body_text()))?;
        while let Some(field) = multipart
            .next_field()
            .await
            .map_err(|err| multipart_error(err.status(), err.body_text()))?
        {
            if field.file_name().is_some() || field.name() == Some("image") {
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|err| multipart_error(err.status(), err.body_text()))?;
                return non_empty(bytes).map(Input::File);
            }
        }
        return Err(ApiError::bad_request(
            "the multipart upload holds no file: send the image as a file field",
        ));
    }
    let is_json = mime == "application/json";
    let is_file = mime.starts_with("image/") || mime == "application/octet-stream";
    if !is_json && !is_file {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "unsupported content type {:?}: send application/json {{\"pixels\": [...]}}, an \
                 image (image/png, image/jpeg, ...) or a multipart/form-data upload",
                if mime.is_empty() { "(none)" } else { mime }
            ),
        ));
    }
    // [`limits`] has read the body already: only a body over the limit could fail here.
    let bytes = Bytes::from_request(request, &())
        .await
        .map_err(|err| match err.status() {
            StatusCode::PAYLOAD_TOO_LARGE => too_large(),
            status => ApiError::new(status, "the body could not be read"),
        })?;
    let bytes = non_empty(bytes)?;
    if is_file {
        return Ok(Input::File(bytes));
    }
    let (pixels, preprocess) = parse_pixels_request(&bytes)?;
    check_pixels(&pixels)?;
    Ok(Input::Pixels(pixels, preprocess))
}

/// An error in a multipart upload: axum's status, its message behind ours.
fn multipart_error(status: StatusCode, message: String) -> ApiError {
    ApiError::new(
        status,
        format!("the multipart upload is malformed ({message}): send the image as a file field"),
    )
}

fn non_empty(bytes: Bytes) -> Result<Bytes, ApiError> {
    if bytes.is_empty() {
        return Err(ApiError::bad_request(
            "the body is empty: send JSON pixels or an image",
        ));
    }
    Ok(bytes)
}

/// 784 values, each a number in `[0, 1]`.
fn check_pixels(pixels: &[f64]) -> Result<(), ApiError> {
    if pixels.len() != PIXELS {
        return Err(ApiError::bad_request(format!(
            "expected {PIXELS} pixels (28x28, row after row), found {}",
            pixels.len()
        )));
    }
    if let Some((i, v)) = pixels
        .iter()
        .enumerate()
        .find(|(_, v)| !(0.0..=1.0).contains(*v))
    {
        return Err(ApiError::bad_request(format!(
            "pixel {i} is {v}: values must be between 0 (background) and 1 (ink)"
        )));
    }
    Ok(())
}

/// The CPU-bound part: preprocessing, the forward pass, the answer as JSON.
fn read_digit(state: &AppState, input: Input) -> Result<Value, ApiError> {
    let name = Path::new("upload");
    let (pixels, preprocessed): ([u8; PIXELS], Option<Preprocessed>) = match input {
        Input::File(bytes) => {
            let image = preprocess_bytes(&bytes, name)?;
            (image.pixels, Some(image))
        }
        Input::Pixels(values, true) => {
            // Ink = 1 is white on black for `preprocess_gray`, which finds the polarity itself.
            let gray: Vec<u8> = values.iter().map(|&v| to_byte(v)).collect();
            let image = preprocess_gray(&gray, 28, 28, Path::new("pixels"))?;
            (image.pixels, Some(image))
        }
        Input::Pixels(values, false) => {
            let mut pixels = [0; PIXELS];
            for (p, &v) in pixels.iter_mut().zip(&values) {
                *p = to_byte(v);
            }
            (pixels, None)
        }
    };
    let served = state.served();
    let network = &served.model.network;
    // One forward pass gives both the answer and the layers the page shows.
    let activations = activations(network, &pixels)?;
    let prediction = read_activations(&activations, &state.confidence);
    let strongest = strongest_contributions(network, &pixels, &activations, NETWORK_VIEW_LINES);
    let mut body = answer(&prediction, &pixels, preprocessed.as_ref(), activations);
    body["strongest"] = json!(strongest);
    Ok(body)
}

fn to_byte(v: f64) -> u8 {
    (v * 255.0).round().clamp(0.0, 255.0) as u8
}

fn answer(
    p: &Prediction,
    pixels: &[u8; PIXELS],
    image: Option<&Preprocessed>,
    activations: Vec<Vec<f32>>,
) -> Value {
    let input: Vec<f32> = pixels.iter().map(|&v| normalise_pixel(v)).collect();
    json!({
        "digit": p.digit,
        "probability": p.probability,
        "runner_up": p.runner_up,
        "runner_up_probability": p.runner_up_probability,
        "unsure": p.unsure.map(|why| why.to_string()),
        "probabilities": p.probabilities,
        "outputs": p.outputs,
        "input": input,
        "activations": activations,
        "preprocessing": image.map(|image| json!({
            "width": image.width,
            "height": image.height,
            "inverted": image.inverted,
            "contrast": image.contrast,
            "specks": image.specks,
            "crop": {
                "x": image.crop.x,
                "y": image.crop.y,
                "width": image.crop.width,
                "height": image.crop.height,
            },
        })),
    })
}

/// The description `GET /api/model` returns; `live` if a training run's events can be watched.
fn model_description(model: &Model, live: bool) -> Value {
    let network = &model.network;
    json!({
        "live_training": live,
        "docs": docs::lines(),
        "layers": network.sizes(),
        "activation": network.activation().to_string(),
        "output": network.functions().output.to_string(),
        "loss": network.functions().loss.to_string(),
        "parameters": network.parameter_count(),
        "class_names": model.classes,
        "test_accuracy": model.test_accuracy(),
        "epochs": model.epochs_trained(),
        "history": model.training.history,
        "looks_for": looks_for(network)
            .into_iter()
            .map(|layer| layer.iter().map(|image| quantise(image)).collect::<Vec<_>>())
            .collect::<Vec<_>>(),
    })
}

/// For each hidden layer `l = 1..L−1`, each neuron's 784 input weights as seen through the
/// layers below: `W[1]` rows for layer 1, `W[l]·…·W[1]` rows after (a linear view that leaves the
/// sigmoids out). Positive = ink there excites the neuron.
pub fn looks_for(network: &Network) -> Vec<Vec<Vec<f32>>> {
    let layers = network.layers();
    let mut out: Vec<Vec<Vec<f32>>> = Vec::new();
    for (l, layer) in layers
        .iter()
        .enumerate()
        .take(layers.len().saturating_sub(1))
    {
        let images: Vec<Vec<f32>> = (0..layer.outputs)
            .map(|o| {
                let row = &layer.weight[o * layer.inputs..(o + 1) * layer.inputs];
                match l {
                    0 => row.to_vec(),
                    _ => {
                        let below = &out[l - 1];
                        let mut image = vec![0.0; PIXELS];
                        for (w, lower) in row.iter().zip(below) {
                            for (acc, v) in image.iter_mut().zip(lower) {
                                *acc += w * v;
                            }
                        }
                        image
                    }
                }
            })
            .collect();
        out.push(images);
    }
    out
}

/// Values scaled by their largest magnitude to integers in `-100..=100`, to keep the JSON small.
fn quantise(values: &[f32]) -> Vec<i8> {
    let max = values.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    if max == 0.0 || !max.is_finite() {
        return vec![0; values.len()];
    }
    values
        .iter()
        .map(|v| (v / max * 100.0).round() as i8)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pixels_outside_zero_to_one_are_refused() {
        let mut pixels = vec![0.0; PIXELS];
        assert!(check_pixels(&pixels).is_ok());
        pixels[5] = 1.5;
        assert!(check_pixels(&pixels).is_err());
        pixels[5] = f64::NAN;
        assert!(check_pixels(&pixels).is_err());
        assert!(check_pixels(&pixels[1..]).is_err());
    }

    #[test]
    fn quantise_keeps_the_sign_and_scales_to_a_hundred() {
        assert_eq!(quantise(&[0.5, -1.0, 0.0]), vec![50, -100, 0]);
        assert_eq!(quantise(&[0.0, 0.0]), vec![0, 0]);
    }
}

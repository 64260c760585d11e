//! Fuzzes the API's request parsing: requests sent to [`ziffer::web::router`] as values (tower's
//! `oneshot`), no server or socket, on a current-thread runtime. The first byte of the input
//! chooses the route and the content type; the rest is the body (or the query):
//! - `POST /api/predict` (bits 3-4 are 0 or 1), with the content type of the low three bits
//!   (JSON pixels, multipart with a boundary, an image, raw bytes, no or an unsupported type);
//! - `POST /api/learn` (2), a JSON body;
//! - `GET /api/test-digit?QUERY` (3), the body's URL-safe characters as the query.
//!
//! Invariants: every answer is one of the documented statuses, never a 500, and its body is
//! JSON: when 200, the digit and ten probabilities, the lesson's probabilities before and after,
//! or a test digit's 784 pixels; `{"error", "status"}` otherwise.
#![no_main]

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use tower::ServiceExt;
use ziffer::model::Model;
use ziffer::settings::TrainConfig;

/// The multipart boundary of the content types below; seeds use it.
const BOUNDARY: &str = "fuzzboundary";

fn content_type(choice: u8) -> Option<String> {
    Some(match choice % 8 {
        0 => "application/json".to_string(),
        1 => format!("multipart/form-data; boundary={BOUNDARY}"),
        2 => "image/png".to_string(),
        3 => "application/octet-stream".to_string(),
        4 => "multipart/form-data".to_string(),
        5 => "text/plain".to_string(),
        6 => "Application/JSON; charset=utf-8".to_string(),
        _ => return None,
    })
}

struct Fixture {
    runtime: tokio::runtime::Runtime,
    router: Router,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let config = TrainConfig {
            layers: vec![784, 16, 10],
            ..TrainConfig::default()
        };
        let model = Model::new(&config).expect("a small model");
        Fixture {
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .expect("a runtime"),
            router: ziffer::web::router(model).expect("the router"),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&choice, body)) = data.split_first() else {
        return;
    };
    let fixture = fixture();
    let route = (choice >> 3) % 4;
    let request = match route {
        2 => Request::post("/api/learn")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_vec())),
        3 => {
            let query: String = String::from_utf8_lossy(body)
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || "=&-_.%".contains(*c))
                .collect();
            Request::get(format!("/api/test-digit?{query}")).body(Body::empty())
        }
        _ => {
            let mut request = Request::post("/api/predict");
            if let Some(content_type) = content_type(choice) {
                request = request.header(header::CONTENT_TYPE, content_type);
            }
            request.body(Body::from(body.to_vec()))
        }
    };
    let request = request.expect("a request");
    let (status, bytes) = fixture.runtime.block_on(async {
        let response = fixture
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("the router is infallible");
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("the answer's body");
        (status, bytes)
    });
    let answer: serde_json::Value = serde_json::from_slice(&bytes).expect("a JSON answer");
    match status {
        StatusCode::OK if route == 2 => {
            for key in ["probabilities_before", "probabilities_after", "output_error"] {
                assert_eq!(answer[key].as_array().map(Vec::len), Some(10), "{key}");
            }
        }
        StatusCode::OK if route == 3 => {
            assert!(answer["label"].as_u64().expect("a label") < 10);
            assert_eq!(answer["pixels"].as_array().map(Vec::len), Some(784));
        }
        StatusCode::OK => {
            let digit = answer["digit"].as_u64().expect("a digit");
            assert!(digit < 10);
            assert_eq!(answer["probabilities"].as_array().map(Vec::len), Some(10));
        }
        StatusCode::NOT_FOUND if route == 3 => {
            assert!(answer["error"].is_string(), "{answer}");
        }
        StatusCode::BAD_REQUEST
        | StatusCode::PAYLOAD_TOO_LARGE
        | StatusCode::UNSUPPORTED_MEDIA_TYPE
        | StatusCode::UNPROCESSABLE_ENTITY => {
            assert!(answer["error"].is_string(), "{answer}");
            assert_eq!(answer["status"].as_u64(), Some(status.as_u16() as u64));
        }
        other => panic!("unexpected status {other}: {answer}"),
    }
});

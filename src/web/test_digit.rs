//! `GET /api/test-digit?index=N`: a digit of the bundled MNIST test set, for the page to show
//! instead of a drawing (so that it can be used from the keyboard alone).
//!
//! What it is: the query read by hand (so that no message names a Rust type), the test set read
//! once, on the first request, and image `N` as JSON `{index, label, count, pixels}` with 784
//! values in `[0, 1]`. What it is not: a data API; a server without the bundled data answers 404.

use super::{ApiError, AppState};
use crate::data::Dataset;
use crate::data::batch::normalise_pixel;
use crate::preprocess::PIXELS;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::sync::Arc;

pub(super) async fn get(State(state): State<Arc<AppState>>, RawQuery(query): RawQuery) -> Response {
    let loaded = state.test_set.get_or_init(|| {
        crate::data::mnist::load_bundled()
            .map(|data| data.test)
            .map_err(|err| err.to_string())
    });
    let answer = match loaded {
        Ok(set) => digit(set, query.as_deref().unwrap_or("")),
        Err(err) => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no test digits to show: {err}"),
        )),
    };
    match answer {
        Ok(body) => axum::Json(body).into_response(),
        Err(err) => err.into_response(),
    }
}

/// Image `index=N` of `set`, from the query string.
fn digit(set: &Dataset, query: &str) -> Result<serde_json::Value, ApiError> {
    let last = set.len() - 1;
    let text = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("index="))
        .ok_or_else(|| {
            ApiError::bad_request(format!("ask for a digit by number: ?index=0 to {last}"))
        })?;
    let index: usize = text.parse().ok().filter(|&i| i <= last).ok_or_else(|| {
        ApiError::bad_request(format!(
            "there is no test digit {:?}: give 0 to {last}",
            super::clip(text)
        ))
    })?;
    if set.pixels_per_image() != PIXELS {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "the test set's images are not 28x28",
        ));
    }
    let pixels: Vec<f32> = set
        .image(index)
        .iter()
        .map(|&p| normalise_pixel(p))
        .collect();
    Ok(json!({
        "index": index,
        "label": set.label(index),
        "count": set.len(),
        "pixels": pixels,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn three() -> Dataset {
        let images = (0..3 * PIXELS).map(|i| (i / PIXELS) as u8 * 100).collect();
        Dataset::new(images, vec![7, 2, 1], 28, 28, "test").unwrap()
    }

    #[test]
    fn a_digit_is_given_by_its_index_with_its_label() {
        let answer = digit(&three(), "index=1").unwrap();
        assert_eq!(answer["label"], 2);
        assert_eq!(answer["count"], 3);
        assert_eq!(answer["pixels"].as_array().unwrap().len(), PIXELS);
        assert_eq!(digit(&three(), "x=1&index=2").unwrap()["label"], 1);
    }

    #[test]
    fn a_missing_or_bad_index_says_what_to_give() {
        for (query, says) in [
            ("", "?index=0 to 2"),
            ("index=3", "no test digit \"3\": give 0 to 2"),
            ("index=-1", "no test digit \"-1\""),
            ("index=abc", "no test digit \"abc\""),
        ] {
            let err = digit(&three(), query).unwrap_err();
            assert_eq!(err.status, StatusCode::BAD_REQUEST);
            assert!(err.message.contains(says), "{query}: {}", err.message);
        }
    }
}

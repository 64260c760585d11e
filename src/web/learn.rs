//! `POST /api/learn`: the page's "learn this" button, one backward pass made visible.
//!
//! What it is: the request `{"pixels": [784 values in 0..1], "label": L}` (optionally `"lr"`, the
//! rate `η` of the update, default [`DEFAULT_LESSON_RATE`], and `"preprocess": false` as for
//! `/api/predict`) read and checked, then [`crate::teach::learn`] on a copy of the served model,
//! and its result as JSON. The served model never changes. What it is not: the maths, which is
//! [`crate::teach`] and [`crate::nn`].
//!
//! The answer holds `label`, `lr`, `input` (the 784 inputs the network read, 0..1), `target`
//! (`Y`, one-hot), `output_before` (`A[L]`), `probabilities_before` and `probabilities_after`,
//! `loss_before` and `loss_after`, `output_error` (`dZ[L]`), `bias_gradients` (`dB[l]` for each
//! layer), and `gradients`: one image per neuron of the first layer, its row of `dW[1]` scaled
//! to integers in `-100..=100` (`gradient_scale` is the largest magnitude), with `changed_most`,
//! the neurons whose rows have the largest norm, largest first.

use super::body::Fields;
use super::{ApiError, AppState, check_pixels, on_a_worker, quantise, to_byte};
use crate::preprocess::{PIXELS, preprocess_gray};
use crate::teach::learn;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;

/// The rate of a lesson's update when the request gives none.
pub const DEFAULT_LESSON_RATE: f32 = 0.5;

/// How many of the first layer's neurons `changed_most` names.
pub const CHANGED_MOST: usize = 8;

#[derive(Debug)]
struct LearnRequest {
    pixels: Vec<f64>,
    label: i64,
    lr: Option<f32>,
    preprocess: bool,
}

pub(super) async fn post_learn(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    let result = match read_request(&body) {
        Ok(request) => on_a_worker(state, move |state| lesson(state, request)).await,
        Err(err) => Err(err),
    };
    match result {
        Ok(body) => axum::Json(body).into_response(),
        Err(err) => err.into_response(),
    }
}

fn read_request(body: &[u8]) -> Result<LearnRequest, ApiError> {
    const EXPECTED: &str =
        "send {\"pixels\": [784 numbers from 0 to 1], \"label\": 0 to 9, \"lr\": 0.5}";
    let fields = Fields::parse(body, &["pixels", "label", "lr", "preprocess"], EXPECTED)?;
    let request = LearnRequest {
        pixels: fields.pixels()?,
        label: fields.integer("label")?,
        lr: fields.number("lr")?.map(|lr| lr as f32),
        preprocess: fields.boolean("preprocess", true)?,
    };
    check_pixels(&request.pixels)?;
    if let Some(lr) = request.lr.filter(|lr| !(lr.is_finite() && *lr > 0.0)) {
        return Err(ApiError::bad_request(format!(
            "\"lr\" is {lr}: the learning rate must be a positive number such as 0.5"
        )));
    }
    if !(0..10).contains(&request.label) {
        return Err(ApiError::bad_request(format!(
            "label {} is not a digit: give 0 to 9",
            request.label
        )));
    }
    Ok(request)
}

fn lesson(state: &AppState, request: LearnRequest) -> Result<Value, ApiError> {
    let gray: Vec<u8> = request.pixels.iter().map(|&v| to_byte(v)).collect();
    let pixels: Vec<u8> = if request.preprocess {
        preprocess_gray(&gray, 28, 28, Path::new("pixels"))?
            .pixels
            .to_vec()
    } else {
        gray
    };
    let lr = request.lr.unwrap_or(DEFAULT_LESSON_RATE);
    let label = request.label as u8;
    let served = state.served();
    let (lesson, _taught) =
        learn(&served.model.network, &pixels, label, lr).map_err(|err| match err {
            crate::Error::InvalidConfig { .. } => ApiError::bad_request(err.to_string()),
            other => ApiError::from(other),
        })?;
    let rows = &lesson.first_layer_gradients;
    let norm = |row: &Vec<f32>| row.iter().map(|g| g * g).sum::<f32>();
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by(|&a, &b| norm(&rows[b]).total_cmp(&norm(&rows[a])));
    order.truncate(CHANGED_MOST);
    let scale = rows.iter().flatten().fold(0.0f32, |m, g| m.max(g.abs()));
    let input: Vec<f32> = pixels.iter().map(|&p| f32::from(p) / 255.0).collect();
    debug_assert_eq!(input.len(), PIXELS);
    Ok(json!({
        "label": lesson.label,
        "lr": lesson.lr,
        "input": input,
        "target": lesson.target,
        "output_before": lesson.output_before,
        "probabilities_before": lesson.probabilities_before,
        "probabilities_after": lesson.probabilities_after,
        "loss_before": lesson.loss_before,
        "loss_after": lesson.loss_after,
        "output_error": lesson.output_error,
        "bias_gradients": lesson.bias_gradients,
        "gradients": rows.iter().map(|row| quantise(row)).collect::<Vec<_>>(),
        "gradient_scale": scale,
        "changed_most": order,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;

    fn body(pixels: usize, label: &str) -> Vec<u8> {
        format!(
            r#"{{"pixels": [{}], "label": {label}}}"#,
            vec!["0"; pixels].join(",")
        )
        .into_bytes()
    }

    #[test]
    fn requests_with_a_bad_label_or_length_are_refused_with_the_reason() {
        let err = |b: Vec<u8>| read_request(&b).unwrap_err();
        let e = err(body(784, "10"));
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert!(
            e.message.contains("label 10 is not a digit"),
            "{}",
            e.message
        );
        assert!(err(body(784, "-1")).message.contains("label -1"));
        assert!(err(body(783, "1")).message.contains("expected 784 pixels"));
        let negative = format!(
            r#"{{"pixels": [{}], "label": 1, "lr": -1}}"#,
            ["0"; 784].join(",")
        );
        let e = err(negative.into_bytes());
        assert!(
            e.message.contains("must be a positive number"),
            "{}",
            e.message
        );
        let e = err(body(784, "\"one\""));
        assert!(
            e.message
                .contains("\"label\" is a string, not a whole number"),
            "{}",
            e.message
        );
        assert!(
            err(body(784, "1.5"))
                .message
                .contains("a number with a fraction")
        );
        let e = err(b"{\"pixels\": [NaN], \"label\": 1}".to_vec());
        assert!(e.message.contains("not valid JSON"), "{}", e.message);
        let e = err(b"{\"pixels\": []}".to_vec());
        assert!(e.message.contains("\"label\" is missing"), "{}", e.message);
        let e = err(b"{\"pixels\": [], \"label\": 1, \"rate\": 1}".to_vec());
        assert!(
            e.message.contains("unknown field \"rate\""),
            "{}",
            e.message
        );
        for rust in ["i64", "f64", "struct", "Vec", "::"] {
            assert!(!e.message.contains(rust), "{}", e.message);
        }
        assert!(read_request(&body(784, "3")).is_ok());
    }
}

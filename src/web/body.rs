//! The JSON bodies of the API's requests, read by hand from a [`Value`] rather than derived, so
//! that every message speaks of the JSON sent, never of the Rust types it becomes (serde's
//! "expected f64", "struct ...").
//!
//! What it is: [`Fields`], an object's fields checked against those a route takes, and their
//! values read as pixels, numbers and booleans; [`parse_pixels_request`] for `/api/predict`.
//! What it is not: the checks of what the values mean ([`super::check_pixels`]).

use super::ApiError;
use serde_json::{Map, Value};

/// The fields of a JSON object body.
pub(super) struct Fields {
    fields: Map<String, Value>,
    /// What to send, for the messages: `send {"pixels": [...]}`.
    expected: &'static str,
}

impl Fields {
    /// `body` as a JSON object with none but the `allowed` fields.
    pub(super) fn parse(
        body: &[u8],
        allowed: &[&str],
        expected: &'static str,
    ) -> Result<Fields, ApiError> {
        let value: Value = serde_json::from_slice(body).map_err(|err| {
            ApiError::bad_request(format!("the body is not valid JSON ({err}): {expected}"))
        })?;
        let Value::Object(fields) = value else {
            return Err(ApiError::bad_request(format!(
                "the body is {}, not an object: {expected}",
                json_kind(&value)
            )));
        };
        if let Some(unknown) = fields.keys().find(|key| !allowed.contains(&key.as_str())) {
            let names: Vec<String> = allowed.iter().map(|a| format!("{a:?}")).collect();
            return Err(ApiError::bad_request(format!(
                "unknown field {:?}: the fields are {}",
                clip(unknown),
                names.join(", ")
            )));
        }
        Ok(Fields { fields, expected })
    }

    /// The field `"pixels"`: an array of numbers.
    pub(super) fn pixels(&self) -> Result<Vec<f64>, ApiError> {
        let expected = self.expected;
        match self.fields.get("pixels") {
            Some(Value::Array(values)) => values
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    v.as_f64().ok_or_else(|| {
                        ApiError::bad_request(format!(
                            "pixel {i} is {}, not a number: values must be between 0 \
                             (background) and 1 (ink)",
                            json_kind(v)
                        ))
                    })
                })
                .collect(),
            Some(other) => Err(ApiError::bad_request(format!(
                "\"pixels\" is {}, not an array: {expected}",
                json_kind(other)
            ))),
            None => Err(ApiError::bad_request(format!(
                "the field \"pixels\" is missing: {expected}"
            ))),
        }
    }

    /// The boolean field `name`, `default` if it is left out.
    pub(super) fn boolean(&self, name: &str, default: bool) -> Result<bool, ApiError> {
        match self.fields.get(name) {
            None => Ok(default),
            Some(Value::Bool(value)) => Ok(*value),
            Some(other) => Err(ApiError::bad_request(format!(
                "{name:?} is {}: it must be true or false",
                json_kind(other)
            ))),
        }
    }

    /// The number field `name`, if it is given.
    pub(super) fn number(&self, name: &str) -> Result<Option<f64>, ApiError> {
        match self.fields.get(name) {
            None => Ok(None),
            Some(value) => value.as_f64().map(Some).ok_or_else(|| {
                ApiError::bad_request(format!("{name:?} is {}, not a number", json_kind(value)))
            }),
        }
    }

    /// The whole-number field `name`, which must be given.
    pub(super) fn integer(&self, name: &str) -> Result<i64, ApiError> {
        let expected = self.expected;
        match self.fields.get(name) {
            None => Err(ApiError::bad_request(format!(
                "the field {name:?} is missing: {expected}"
            ))),
            Some(value) => value.as_i64().ok_or_else(|| {
                ApiError::bad_request(format!(
                    "{name:?} is {}, not a whole number: {expected}",
                    match value {
                        Value::Number(_) => "a number with a fraction or out of range",
                        other => json_kind(other),
                    }
                ))
            }),
        }
    }
}

/// The JSON form of a drawing, `{"pixels": [784 values in [0, 1], ink = 1], "preprocess": bool}`
/// with `preprocess` true if left out: the pixels and `preprocess`.
pub(super) fn parse_pixels_request(body: &[u8]) -> Result<(Vec<f64>, bool), ApiError> {
    const EXPECTED: &str = "send {\"pixels\": [784 numbers from 0 to 1]}";
    let fields = Fields::parse(body, &["pixels", "preprocess"], EXPECTED)?;
    Ok((fields.pixels()?, fields.boolean("preprocess", true)?))
}

/// What a JSON value is, in words: "a string", "an object".
fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// At most 40 characters of `text`, to quote a client's input in a message.
pub(super) fn clip(text: &str) -> String {
    match text.char_indices().nth(40) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;

    #[test]
    fn json_pixels_are_read_with_preprocess_true_unless_given() {
        assert_eq!(
            parse_pixels_request(b"{\"pixels\": [0, 0.5, 1]}").unwrap(),
            (vec![0.0, 0.5, 1.0], true)
        );
        let (_, preprocess) =
            parse_pixels_request(b"{\"pixels\": [], \"preprocess\": false}").unwrap();
        assert!(!preprocess);
    }

    #[test]
    fn json_errors_speak_of_the_json_sent_not_of_rust_types() {
        for (body, says) in [
            (&b"[1, 2]"[..], "an array, not an object"),
            (b"5", "a number, not an object"),
            (b"{\"pixels\": [1, \"x\"]}", "pixel 1 is a string"),
            (b"{\"pixels\": {}}", "\"pixels\" is an object"),
            (b"{}", "\"pixels\" is missing"),
            (b"{\"pixels\": [], \"x\": 1}", "unknown field \"x\""),
            (
                b"{\"pixels\": [], \"preprocess\": 1}",
                "\"preprocess\" is a number",
            ),
            (b"{\"pixels\": [NaN]}", "not valid JSON"),
        ] {
            let err = parse_pixels_request(body).unwrap_err();
            assert_eq!(err.status, StatusCode::BAD_REQUEST);
            assert!(err.message.contains(says), "{}", err.message);
            for rust in ["f64", "struct", "Vec", "sequence", "::"] {
                assert!(!err.message.contains(rust), "{}", err.message);
            }
        }
    }

    #[test]
    fn a_long_field_name_is_clipped_in_the_message() {
        let body = format!("{{\"{}\": 1}}", "k".repeat(10_000));
        let err = parse_pixels_request(body.as_bytes()).unwrap_err();
        assert!(err.message.len() < 200, "{}", err.message);
    }
}

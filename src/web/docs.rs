//! `GET /how-it-works`: `docs/how-it-works.md`, compiled into the binary and served as a page
//! whose every line has an anchor (`#L170`), so that the page's formulas link to the line that
//! derives them, with no network.
//!
//! What it is: the text, HTML-escaped, one `<span id="L{n}">` per line, in a `<pre>`; and
//! [`lines`], the line of each formula the page shows. What it is not: a Markdown renderer.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

const HOW_IT_WORKS: &str = include_str!("../../docs/how-it-works.md");

/// The formulas the page links to, each by the text of its line in the document.
const FORMULAS: [(&str, &str); 5] = [
    ("forward", "Z[l] = W[l]·A[l−1] + B[l]"),
    ("output_error", "dA[L] = A[L] − Y"),
    ("sigmoid", "dZ = dA ⊙ σ'(Z)"),
    ("weights", "dW = (1/m) · dZ·A_prevᵀ"),
    ("update", "W := W − η·dW"),
];

/// The 1-based line of each formula in the document, by name (`null` if the document no longer
/// has it: a test keeps them found).
pub(super) fn lines() -> Value {
    let find = |text: &str| {
        HOW_IT_WORKS
            .lines()
            .position(|line| line.trim_start().starts_with(text))
            .map(|i| i + 1)
    };
    let found: serde_json::Map<String, Value> = FORMULAS
        .iter()
        .map(|(name, text)| (name.to_string(), json!(find(text))))
        .collect();
    Value::Object(found)
}

pub(super) fn page() -> Response {
    let mut html = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>How ziffer works</title><link rel=\"icon\" href=\"data:,\">\
         <style>body{margin:0 1rem}pre{white-space:pre-wrap;font-size:.9rem}\
         span:target{background:#fff3b0}</style></head><body><p><a href=\"/\">Back to the page</a>\
         </p><pre>",
    );
    for (i, line) in HOW_IT_WORKS.lines().enumerate() {
        html.push_str(&format!("<span id=\"L{}\">", i + 1));
        for c in line.chars() {
            match c {
                '<' => html.push_str("&lt;"),
                '>' => html.push_str("&gt;"),
                '&' => html.push_str("&amp;"),
                c => html.push(c),
            }
        }
        html.push_str("</span>\n");
    }
    html.push_str("</pre></body></html>");
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_formula_the_page_links_to_is_found_in_the_document() {
        let lines = lines();
        for (name, text) in FORMULAS {
            let line = lines[name]
                .as_u64()
                .unwrap_or_else(|| panic!("{text} not found"));
            let at = HOW_IT_WORKS.lines().nth(line as usize - 1).unwrap();
            assert!(at.contains(text), "line {line}: {at}");
        }
    }
}

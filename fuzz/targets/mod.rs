//! What each fuzz target does, shared by the cargo-fuzz binaries (`fuzz/fuzz_targets/`, nightly,
//! `make fuzz`) and the corpus replay test of the root crate (`tests/fuzz_corpus.rs`, stable,
//! `make test`). Every `run` takes arbitrary bytes, drives one part of the pure core and panics
//! when an invariant breaks; a panic is the crash libFuzzer reports.
//!
//! Inputs are text where that helps (lines of `key: value`), so seeds and regressions can be
//! written and read by hand; any byte string is a valid input.

pub mod api_url;
pub mod catchup;
pub mod error_body;
pub mod exec_stream;
pub mod json;
pub mod ndjson;
pub mod response;
pub mod retry_after;
pub mod sse;
pub mod token_decode;

/// A target: arbitrary bytes in, a panic when an invariant breaks.
pub type Target = fn(&[u8]);

/// Every target, by the name of its binary and of its corpus directory.
pub const ALL: [(&str, Target); 10] = [
    ("token_decode", token_decode::run),
    ("retry_after", retry_after::run),
    ("response", response::run),
    ("error_body", error_body::run),
    ("api_url", api_url::run),
    ("json", json::run),
    ("catchup", catchup::run),
    ("sse", sse::run),
    ("exec_stream", exec_stream::run),
    ("ndjson", ndjson::run),
];

/// The input as text. Invalid UTF-8 becomes U+FFFD, as `Response.text()` and wasm-bindgen's
/// string conversion do in the browser.
pub fn text(data: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(data)
}

/// The device clock of a test when the input names none (Tue, 14 Nov 2023 22:13:20 GMT).
pub const DEFAULT_NOW_MS: f64 = 1_700_000_000_000.0;

/// `key: value` lines after a first line; keys are lower-cased, a line without `:` is skipped.
pub fn fields(text: &str) -> (&str, Vec<(String, &str)>) {
    let mut lines = text.split('\n');
    let first = lines.next().unwrap_or("");
    let fields = lines
        .filter_map(|line| {
            let (key, value) = line.split_once(':')?;
            let value = value.strip_prefix(' ').unwrap_or(value);
            Some((
                key.trim().to_ascii_lowercase(),
                value.trim_end_matches('\r'),
            ))
        })
        .collect();
    (first.trim_end_matches('\r'), fields)
}

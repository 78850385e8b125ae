//! `response`: `request::into_result` over any status, headers and envelope, including
//! combinations the binding never builds (a code without JSON, a body with `is_json` false).
//!
//! Input: the status on the first line, then `key: value` lines, the last of a key winning:
//! `retry-after`, `x-request-id`, `now` (device clock, ms), `json` (`false`/`0` for a body that
//! is not JSON), `success` (`true`/`false`, else absent), `code`, `message`, `body`.

use oblien_user_client::core::error::{code_for_status, codes, ClientError};
use oblien_user_client::core::request;
use oblien_user_client::core::retry_after;
use oblien_user_client::core::runtime::{Envelope, HttpResponse};

/// Longest server code passed through; longer ones fall back to the status's code.
const MAX_CODE_LEN: usize = 64;

pub fn run(data: &[u8]) {
    let text = super::text(data);
    let (first, fields) = super::fields(&text);
    let first = first.trim();
    // Any first line is some status: a number as written, else a hash of its bytes.
    let status = first.parse::<u16>().unwrap_or_else(|_| {
        first.bytes().fold(0u16, |acc, b| {
            acc.wrapping_mul(31).wrapping_add(u16::from(b))
        })
    });
    let mut now_ms = super::DEFAULT_NOW_MS;
    let mut json = None;
    let mut response = HttpResponse {
        status,
        retry_after: None,
        request_id: None,
        envelope: Envelope::default(),
        body: None,
    };
    for (key, value) in fields {
        let value = value.to_string();
        match key.as_str() {
            "retry-after" => response.retry_after = Some(value),
            "x-request-id" => response.request_id = Some(value),
            "now" => now_ms = super::now_from(&value),
            "json" => json = Some(!matches!(value.trim(), "false" | "0")),
            "success" => response.envelope.success = value.trim().parse().ok(),
            "code" => response.envelope.code = Some(value),
            "message" => response.envelope.message = Some(value),
            "body" => response.body = Some(value),
            _ => {}
        }
    }
    response.envelope.is_json = json.unwrap_or(response.body.is_some());
    check(response, now_ms);
}

/// Maps `response` and checks the result against the rules of `into_result`.
pub fn check<B: Clone + PartialEq + std::fmt::Debug>(response: HttpResponse<B>, now_ms: f64) {
    let expected = response.clone();
    let status = response.status;
    let envelope = &expected.envelope;
    match request::into_result(response, now_ms) {
        Ok(body) => {
            assert!((200..300).contains(&status), "Ok for HTTP {status}");
            assert_ne!(envelope.success, Some(false), "Ok for success: false");
            assert_eq!(Some(body), expected.body);
        }
        Err(error) => check_error(&error, &expected, now_ms),
    }
}

fn check_error<B: std::fmt::Debug>(error: &ClientError, response: &HttpResponse<B>, now_ms: f64) {
    let status = response.status;
    let envelope = &response.envelope;
    let ok_status = (200..300).contains(&status);
    if ok_status && envelope.success != Some(false) {
        assert!(
            response.body.is_none(),
            "a 2xx with a body was refused: {error:?}"
        );
    }
    assert_eq!(error.status, Some(status));
    assert!(
        !error.code.is_empty() && error.code.len() <= MAX_CODE_LEN,
        "{error:?}"
    );
    let server_code = envelope
        .code
        .as_deref()
        .filter(|c| !c.is_empty() && c.len() <= MAX_CODE_LEN);
    let expected_code = match server_code {
        _ if status == 429 => codes::RATE_LIMITED,
        Some(code) => code,
        None if ok_status => codes::SERVER_ERROR,
        None => code_for_status(status),
    };
    assert_eq!(error.code, expected_code, "HTTP {status}, {envelope:?}");
    assert!(!error.message.is_empty());
    match envelope.message.as_deref().filter(|m| !m.is_empty()) {
        Some(message) => assert_eq!(error.message, message),
        None => assert!(error.message.contains(&status.to_string()), "{error:?}"),
    }
    if envelope.message.as_deref().is_none_or(str::is_empty) && !envelope.is_json {
        assert!(error.message.contains("not JSON"), "{error:?}");
    }
    let retry_after = response
        .retry_after
        .as_deref()
        .and_then(|v| retry_after::parse(v, now_ms));
    assert_eq!(error.retry_after, retry_after);
    assert_eq!(error.request_id, response.request_id);
}

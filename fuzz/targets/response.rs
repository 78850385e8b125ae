//! `response`: `request::into_result` over any status, headers and body, checked against the
//! rules it promises, with the envelope read by serde_json as an independent oracle.
//!
//! Input: the status on the first line, then `key: value` lines, the last of a key winning:
//! `retry-after`, `x-request-id`, `body` (the body text).

use oblien_user_client::core::error::{code_for_status, codes, ClientError};
use oblien_user_client::core::request::{self, Envelope, HttpResponse};
use oblien_user_client::core::retry_after;
use serde_json::Value;

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
    let mut response = HttpResponse {
        status,
        retry_after: None,
        request_id: None,
        text: String::new(),
    };
    for (key, value) in fields {
        let value = value.to_string();
        match key.as_str() {
            "retry-after" => response.retry_after = Some(value),
            "x-request-id" => response.request_id = Some(value),
            "body" => response.text = value,
            _ => {}
        }
    }
    check(response);
}

fn code_like(text: &str) -> bool {
    let lower = text
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    let upper = text
        .bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    !text.is_empty() && text.len() <= MAX_CODE_LEN && (lower || upper)
}

/// The envelope as the official SDK reads a body, with serde_json. `None` when serde_json cannot
/// tell (a lone surrogate escape it refuses, which the core decodes to U+FFFD).
pub fn oracle_envelope(text: &str) -> Option<Envelope> {
    let parsed = match serde_json::from_str::<Value>(text) {
        Ok(parsed) => parsed,
        Err(error) if super::json::oracle_gap(text, &error) => return None,
        Err(_) => return Some(Envelope::default()),
    };
    let Value::Object(body) = parsed else {
        return Some(Envelope {
            is_json: true,
            ..Envelope::default()
        });
    };
    let string = |key: &str| {
        body.get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let error = string("error");
    let (error_code, error_text) = match error {
        Some(e) if code_like(&e) => (Some(e), None),
        other => (None, other),
    };
    Some(Envelope {
        is_json: true,
        success: body.get("success").and_then(Value::as_bool),
        code: string("code")
            .filter(|c| c.len() <= MAX_CODE_LEN)
            .or(error_code),
        message: string("message").or(error_text),
    })
}

/// Maps `response` and checks the result against the rules of `into_result`.
pub fn check(response: HttpResponse) {
    let envelope = request::envelope(&response.text);
    if let Some(expected) = oracle_envelope(&response.text) {
        assert_eq!(envelope, expected, "{:?}", response.text);
    }
    let expected = response.clone();
    let status = response.status;
    match request::into_result(response) {
        Ok(body) => {
            assert!((200..300).contains(&status), "Ok for HTTP {status}");
            assert!(envelope.is_json, "Ok for a body that is not JSON");
            assert_ne!(envelope.success, Some(false), "Ok for success: false");
            assert_eq!(body, expected.text);
        }
        Err(error) => check_error(&error, &expected, &envelope),
    }
}

fn check_error(error: &ClientError, response: &HttpResponse, envelope: &Envelope) {
    let status = response.status;
    let ok_status = (200..300).contains(&status);
    if ok_status && envelope.success != Some(false) {
        assert!(!envelope.is_json, "a 2xx JSON body was refused: {error:?}");
    }
    assert_eq!(error.status, Some(status));
    assert!(
        !error.code.is_empty() && error.code.len() <= MAX_CODE_LEN,
        "{error:?}"
    );
    let expected_code = match envelope.code.as_deref() {
        _ if status == 429 => codes::RATE_LIMITED,
        Some(code) => code,
        None if ok_status => codes::SERVER_ERROR,
        None => code_for_status(status),
    };
    assert_eq!(error.code, expected_code, "HTTP {status}, {envelope:?}");
    assert!(!error.message.is_empty());
    match envelope.message.as_deref() {
        Some(message) => assert_eq!(error.message, message),
        None => assert!(error.message.contains(&status.to_string()), "{error:?}"),
    }
    if envelope.message.is_none() && !envelope.is_json {
        assert!(error.message.contains("not JSON"), "{error:?}");
    }
    let retry_after = response.retry_after.as_deref().and_then(retry_after::parse);
    assert_eq!(error.retry_after, retry_after);
    assert_eq!(error.request_id, response.request_id);
}

//! `error_body`: a response body of any bytes, read the way the binding reads it (`fetch.rs`:
//! `JSON.parse`, then `success`, `code` or else `error`, `message` from an object; emulated here
//! with serde_json), then mapped by `request::into_result` for a range of statuses.

use oblien_user_client::core::runtime::{Envelope, HttpResponse};
use serde_json::Value;

/// Statuses the API and the proxies in front of it answer with, and a few odd ones.
const STATUSES: [u16; 18] = [
    0, 200, 201, 204, 299, 302, 400, 401, 403, 404, 409, 422, 429, 500, 502, 503, 504, 599,
];

pub fn run(data: &[u8]) {
    let text = super::text(data);
    let (envelope, body) = read_body(&text);
    if !envelope.is_json {
        assert!(body.is_none());
    }
    for status in STATUSES {
        let response = HttpResponse {
            status,
            retry_after: (status == 429).then(|| "1".to_string()),
            request_id: Some("req_0123456789abcdef".to_string()),
            envelope: envelope.clone(),
            body: body.clone(),
        };
        super::response::check(response, super::DEFAULT_NOW_MS);
    }
}

/// What `read_response` in `src/bindings/fetch.rs` makes of a body.
pub fn read_body(text: &str) -> (Envelope, Option<Value>) {
    let parsed = if text.trim().is_empty() {
        None
    } else {
        serde_json::from_str::<Value>(text).ok()
    };
    let mut envelope = Envelope {
        is_json: parsed.is_some(),
        ..Envelope::default()
    };
    if let Some(Value::Object(body)) = &parsed {
        let string = |key: &str| body.get(key).and_then(Value::as_str).map(str::to_string);
        envelope.success = body.get("success").and_then(Value::as_bool);
        envelope.code = string("code").or_else(|| string("error"));
        envelope.message = string("message");
    }
    (envelope, parsed)
}

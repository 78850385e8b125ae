//! The one error shape every endpoint answers with: `{success:false, error, code, message}`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{Map, Value};

/// An API error; turns into the Oblien error body with its HTTP status.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub extra: Map<String, Value>,
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            extra: Map::new(),
            retry_after: None,
        }
    }

    /// Adds a field to the body next to `code` and `message` (e.g. `field`, `current`, `max`).
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extra.insert(key.to_string(), value.into());
        self
    }

    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// 400 `validation_error` naming the offending field.
    pub fn validation(field: &str, message: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "validation_error",
            format!("{field}: {message}"),
        )
        .with("field", field)
    }

    pub fn missing_credentials() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "missing_credentials",
            "No API key or bearer token provided",
        )
    }

    pub fn invalid_credentials(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "invalid_credentials", message)
    }

    pub fn scope_denied(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "scope_denied", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = Map::new();
        body.insert("success".into(), Value::Bool(false));
        body.insert("error".into(), Value::from(self.code));
        body.insert("code".into(), Value::from(self.code));
        body.insert("message".into(), Value::from(self.message));
        body.extend(self.extra);
        let mut response = (self.status, Json(Value::Object(body))).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// The code the Oblien API uses for a status when nothing more specific applies.
pub fn default_code(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "bad_request",
        401 => "authentication_error",
        402 => "payment_required",
        403 => "forbidden",
        404 => "not_found",
        409 => "conflict",
        413 => "payload_too_large",
        422 => "validation_error",
        429 => "rate_limited",
        _ => "server_error",
    }
}

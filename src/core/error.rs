//! `ClientError`: what every rejection of the client carries, before the binding turns it into
//! a JS `OblienError`. Messages never contain a token.

use crate::prelude::*;

/// Stable client-side codes (server codes such as `scope_denied` pass through unchanged).
pub mod codes {
    pub const INVALID_TOKEN: &str = "invalid_token";
    pub const TOKEN_EXPIRED: &str = "token_expired";
    pub const SECRET_NOT_ALLOWED: &str = "secret_not_allowed";
    pub const NETWORK_ERROR: &str = "network_error";
    pub const TIMEOUT: &str = "timeout";
    pub const ABORTED: &str = "aborted";
    pub const RATE_LIMITED: &str = "rate_limited";
    pub const REFRESH_FAILED: &str = "refresh_failed";
    pub const DISPOSED: &str = "disposed";
    pub const SERVER_ERROR: &str = "server_error";
    pub const SCOPE_DENIED: &str = "scope_denied";
    pub const INVALID_OPTIONS: &str = "invalid_options";
    pub const VALIDATION_ERROR: &str = "validation_error";
    /// The workspace's internal API server is off (the gateway's 403; the client's own refusal
    /// after `apiAccess.disable`).
    pub const INTERNAL_API_DISABLED: &str = "internal_api_disabled";
    /// The gateway's 503 for a stopped (or still booting) workspace: never retried.
    pub const WORKSPACE_NOT_RUNNING: &str = "workspace_not_running";
    /// A dropped exec stream whose replay could not be aligned with what was delivered.
    pub const RESUME_FAILED: &str = "resume_failed";
    /// A stream read after `close()`.
    pub const CLOSED: &str = "closed";
}

#[derive(Debug, Clone, PartialEq)]
pub struct ClientError {
    pub code: String,
    pub message: String,
    pub status: Option<u16>,
    /// Seconds, from `Retry-After`.
    pub retry_after: Option<u32>,
    pub request_id: Option<String>,
}

impl ClientError {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        ClientError {
            code: code.to_string(),
            message: message.into(),
            status: None,
            retry_after: None,
            request_id: None,
        }
    }

    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    pub fn is(&self, code: &str) -> bool {
        self.code == code
    }

    pub fn disposed() -> Self {
        Self::new(codes::DISPOSED, "The client was disposed")
    }

    pub fn aborted() -> Self {
        Self::new(codes::ABORTED, "The request was aborted")
    }

    pub fn expired() -> Self {
        Self::new(codes::TOKEN_EXPIRED, "The scoped token has expired")
    }
}

/// The code the Oblien API uses for a status when the body names none.
pub fn code_for_status(status: u16) -> &'static str {
    match status {
        400 => "bad_request",
        401 => "authentication_error",
        402 => "payment_required",
        403 => "forbidden",
        404 => "not_found",
        409 => "conflict",
        422 => "validation_error",
        429 => codes::RATE_LIMITED,
        _ => codes::SERVER_ERROR,
    }
}

//! Sending one authorised request: token check first, then the 401 / 429 / 5xx rules, then
//! mapping the answer to a body or a `ClientError`. One path for every call: JSON calls, the raw
//! `rt.fetch`, and the handshake of streams differ only in their [`Retries`].

use super::cell::TokenCell;
use super::decimal::push_u64;
use super::error::{code_for_status, codes, ClientError};
use super::json::{self, Document, Value};
use super::policy;
use super::retry_after;
use super::runtime::{LocalFuture, Runtime, Sleep, TransportError};
use crate::prelude::*;
use alloc::rc::Rc;

/// What an answer shows the retry rules.
pub trait Answer {
    fn status(&self) -> u16;
    fn retry_after(&self) -> Option<String>;
    /// The gateway's 503 `workspace_not_running`: the workspace is stopped (or booting), which
    /// no retry a second later changes; the caller gets it at once with its `retryAfter`.
    fn not_running(&self) -> bool {
        false
    }
}

/// Which rules may send a request again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retries {
    /// 401: refresh once and replay once, only if the token changed.
    pub unauthorized: bool,
    /// 429: wait `Retry-After` (≤ 60 s), up to 3 times.
    pub rate_limited: bool,
    /// Network errors and 502/503/504: twice, with back-off (not a 503 `workspace_not_running`).
    pub transient: bool,
}

impl Retries {
    /// A JSON call: every rule for a GET, only the 401 replay otherwise (a POST may have run).
    pub fn for_method(method: &str) -> Self {
        let idempotent = method == "GET";
        Retries {
            unauthorized: true,
            rate_limited: idempotent,
            transient: idempotent,
        }
    }

    /// Only the 401 replay (a raw fetch whose body can be sent again, a stream's handshake).
    pub const UNAUTHORIZED_ONLY: Retries = Retries {
        unauthorized: true,
        rate_limited: false,
        transient: false,
    };

    /// Nothing is sent twice (a body that cannot be replayed).
    pub const NONE: Retries = Retries {
        unauthorized: false,
        rate_limited: false,
        transient: false,
    };
}

/// What to do after one attempt, as [`Attempts`] decides.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    /// The answer is the call's, whatever its status.
    Done,
    /// Wait this many ms, then send again (with the cell's token then).
    Wait(f64),
    /// A 401: refresh the token (`TokenCell::recover_unauthorized` with the generation the
    /// attempt used); send again if it changed, else the 401 is the answer.
    Recover,
    Fail(ClientError),
}

/// The retry rules of one call, without I/O: the caller sends, reports each outcome, and does
/// what [`Next`] says (js/fetch.js `call` in the browser; [`send_authorised`] natively).
#[derive(Debug, Clone)]
pub struct Attempts {
    retries: Retries,
    replayed: bool,
    rate_limited: u32,
    transient: u32,
}

impl Attempts {
    pub fn new(retries: Retries) -> Self {
        Attempts {
            retries,
            replayed: false,
            rate_limited: 0,
            transient: 0,
        }
    }

    /// After an attempt with no answer (network error, timeout, abort, dispose).
    pub fn failed(&mut self, error: TransportError, runtime: &dyn Runtime) -> Next {
        let retry = match error {
            TransportError::Network => self.transient_retry(runtime),
            _ => None,
        };
        retry.unwrap_or_else(|| Next::Fail(transport_error(error)))
    }

    /// After an answer: `Done`, unless a rule sends the request again.
    pub fn answered(&mut self, response: &dyn Answer, runtime: &dyn Runtime) -> Next {
        match response.status() {
            401 if self.retries.unauthorized && !self.replayed => {
                self.replayed = true;
                Next::Recover
            }
            429 if self.retries.rate_limited
                && self.rate_limited < policy::MAX_RATE_LIMIT_RETRIES =>
            {
                let wait = response
                    .retry_after()
                    .as_deref()
                    .and_then(retry_after::parse)
                    .unwrap_or(1);
                if wait > policy::MAX_RETRY_AFTER_SECS {
                    return Next::Done;
                }
                self.rate_limited += 1;
                Next::Wait(f64::from(wait) * 1000.0)
            }
            502..=504 if !response.not_running() => {
                self.transient_retry(runtime).unwrap_or(Next::Done)
            }
            _ => Next::Done,
        }
    }

    fn transient_retry(&mut self, runtime: &dyn Runtime) -> Option<Next> {
        if !self.retries.transient || self.transient >= policy::MAX_TRANSIENT_RETRIES {
            return None;
        }
        self.transient += 1;
        Some(Next::Wait(policy::retry_delay_ms(
            self.transient,
            runtime.random(),
        )))
    }
}

/// Sends with the cell's token until an answer comes that no rule retries; that answer is returned
/// whatever its status. `send` is called once per attempt with the bearer to use. (The browser
/// drives [`Attempts`] from js/fetch.js `call` instead, with the same steps.)
pub async fn send_authorised<R: Answer, T: Runtime + Sleep>(
    cell: &Rc<TokenCell>,
    runtime: &T,
    retries: Retries,
    send: &dyn Fn(&str) -> LocalFuture<Result<R, TransportError>>,
) -> Result<R, ClientError> {
    let mut attempts = Attempts::new(retries);
    loop {
        let lease = cell.acquire().await?;
        let sent = send(&lease.secret).await;
        if cell.is_disposed() {
            return Err(ClientError::disposed());
        }
        let next = match &sent {
            Ok(response) => attempts.answered(response, runtime),
            Err(error) => attempts.failed(*error, runtime),
        };
        match next {
            Next::Wait(ms) => runtime.sleep(ms).await,
            Next::Recover if cell.recover_unauthorized(lease.generation).await? => {}
            Next::Fail(error) => return Err(error),
            Next::Done | Next::Recover => return sent.map_err(transport_error),
        }
    }
}

pub fn transport_error(error: TransportError) -> ClientError {
    match error {
        TransportError::Network => ClientError::new(
            codes::NETWORK_ERROR,
            "The server could not be reached (network error or CORS refusal)",
        ),
        TransportError::Timeout => ClientError::new(codes::TIMEOUT, "The request timed out"),
        TransportError::Aborted => ClientError::aborted(),
        TransportError::Disposed => ClientError::disposed(),
    }
}

/// A response read whole as text.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpResponse {
    pub status: u16,
    pub retry_after: Option<String>,
    pub request_id: Option<String>,
    pub text: String,
}

impl Answer for HttpResponse {
    fn status(&self) -> u16 {
        self.status
    }

    fn retry_after(&self) -> Option<String> {
        self.retry_after.clone()
    }

    fn not_running(&self) -> bool {
        self.status == 503
            && envelope(&self.text).code.as_deref() == Some(codes::WORKSPACE_NOT_RUNNING)
    }
}

/// The parts of a body that tell success from failure.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Envelope {
    /// The body is one valid JSON text.
    pub is_json: bool,
    pub success: Option<bool>,
    /// `code`, or else `error` (the gateway's `{error: "file not found"}`).
    pub code: Option<String>,
    pub message: Option<String>,
}

/// Reads the envelope of a body (duplicate keys: the last wins, as `JSON.parse` keeps it).
pub fn envelope(text: &str) -> Envelope {
    let members = match json::parse(text) {
        None => return Envelope::default(),
        Some(Document::Other(_)) => {
            return Envelope {
                is_json: true,
                ..Envelope::default()
            }
        }
        Some(Document::Object(members)) => members,
    };
    let string = |key: &str| {
        json::last(&members, key)
            .and_then(|v| v.as_str().map(|s| s.into_owned()))
            .filter(|s| !s.is_empty())
    };
    // As the official SDK reads it: `error` is the code when it looks like one, else the message.
    let (error_code, error_text) = match string("error") {
        Some(error) if is_code_like(&error) => (Some(error), None),
        other => (None, other),
    };
    Envelope {
        is_json: true,
        success: json::last(&members, "success").and_then(Value::as_bool),
        code: string("code").filter(|c| c.len() <= 64).or(error_code),
        message: string("message").or(error_text),
    }
}

/// `snake_case`, `kebab-case` or `UPPER_SNAKE`, at most 64 characters.
fn is_code_like(text: &str) -> bool {
    let lower = text
        .bytes()
        .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-'));
    let upper = text
        .bytes()
        .all(|b| matches!(b, b'A'..=b'Z' | b'0'..=b'9' | b'_'));
    !text.is_empty() && text.len() <= 64 && (lower || upper)
}

/// Whether an answer is the call's result: a 2xx whose body is JSON without `success: false`.
/// (The browser may parse the body and ask this without the core reading it.)
pub fn is_result(status: u16, is_json: bool, success: Option<bool>) -> bool {
    (200..300).contains(&status) && is_json && success != Some(false)
}

/// A 2xx JSON body without `success: false` is the result (its text); anything else is an error
/// with the server's code when it sent one, else the code for its status.
pub fn into_result(response: HttpResponse) -> Result<String, ClientError> {
    let status = response.status;
    let envelope = envelope(&response.text);
    let ok_status = (200..300).contains(&status);
    if is_result(status, envelope.is_json, envelope.success) {
        return Ok(response.text);
    }
    let code = if status == 429 {
        codes::RATE_LIMITED.to_string()
    } else {
        match envelope.code {
            Some(code) => code,
            None if ok_status => codes::SERVER_ERROR.to_string(),
            None => code_for_status(status).to_string(),
        }
    };
    let message = match envelope.message {
        Some(message) => message,
        None => {
            let mut message = String::from("The server answered HTTP ");
            push_u64(&mut message, status.into());
            message.push_str(if !envelope.is_json {
                " with a body that is not JSON"
            } else if ok_status {
                " with success: false"
            } else {
                ""
            });
            message
        }
    };
    Err(ClientError {
        code,
        message,
        status: Some(status),
        retry_after: response.retry_after.as_deref().and_then(retry_after::parse),
        request_id: response.request_id,
    })
}

/// `{ …, "field": {…} }` → the raw text of that object (`Workspace` out of `{success, workspace}`).
pub fn field_object(text: &str, field: &str) -> Result<String, ClientError> {
    json::object(text)
        .and_then(|members| match json::last(&members, field) {
            Some(Value::Object(raw)) => Some(raw.to_string()),
            _ => None,
        })
        .ok_or_else(|| no_object(field))
}

/// The answer lacks the object the call resolves with.
pub fn no_object(field: &str) -> ClientError {
    let mut message = String::from("The response has no '");
    message.push_str(field);
    message.push_str("' object");
    ClientError::new(codes::SERVER_ERROR, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, text: &str) -> HttpResponse {
        HttpResponse {
            status,
            retry_after: None,
            request_id: None,
            text: text.into(),
        }
    }

    #[test]
    fn envelopes() {
        assert_eq!(envelope("<html>"), Envelope::default());
        assert!(envelope("[1]").is_json);
        let e = envelope(r#"{"success":false,"error":"not_found","message":"m","code":"x"}"#);
        assert_eq!(e.code.as_deref(), Some("x"));
        assert_eq!(e.success, Some(false));
        let e = envelope(r#"{"error":"file not found","error":"gone_away"}"#);
        assert_eq!(e.code.as_deref(), Some("gone_away"));
        let e = envelope(r#"{"error":"NAMESPACE_LIMIT_REACHED"}"#);
        assert_eq!(e.code.as_deref(), Some("NAMESPACE_LIMIT_REACHED"));
    }

    #[test]
    fn results() {
        assert_eq!(into_result(response(200, "{}")), Ok("{}".into()));
        let err = into_result(response(200, "nope")).err();
        assert_eq!(err.map(|e| e.code), Some("server_error".into()));
        let err = into_result(response(404, r#"{"error":"file not found"}"#)).err();
        assert_eq!(
            err.map(|e| (e.code, e.message, e.status)),
            Some(("not_found".into(), "file not found".into(), Some(404)))
        );
        assert_eq!(
            field_object(r#"{"success":true,"workspace":{"id":"a"}}"#, "workspace"),
            Ok(r#"{"id":"a"}"#.into())
        );
        assert!(field_object(r#"{"workspace":[1]}"#, "workspace").is_err());
    }
}

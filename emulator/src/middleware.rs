//! Layers shared by both listeners: request ids, CORS, fault injection and rate limiting.

use crate::error::{default_code, ApiError};
use crate::faults::{FaultKind, FaultSpec, Listener};
use crate::state::AppState;
use crate::util::{now_millis, random_hex};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::Duration;
use tower_http::cors::{AllowOrigin, CorsLayer};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Marks a response the server must not send: it closes the connection instead.
#[derive(Clone, Copy, Debug)]
pub struct DropConnection;

/// Every response carries `X-Request-Id`: the caller's when it sent a sane one, else a new one.
pub async fn request_id(req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(str::to_string)
        .unwrap_or_else(|| format!("req_{}", random_hex(8)));
    let mut response = next.run(req).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

/// Browser access from any origin (or the configured ones): preflights answered, the bearer and
/// API key headers allowed, `Retry-After` and `X-Request-Id` readable by the page.
/// The allow-list is read per request (`PUT /__emulator/cors` changes it at run time); the
/// emulator's own control endpoints accept any origin, so a test page can always undo it.
pub fn cors(state: &AppState) -> CorsLayer {
    let state = state.clone();
    let origins = AllowOrigin::predicate(move |origin: &HeaderValue, parts| {
        if parts.uri.path().starts_with("/__emulator/") {
            return true;
        }
        let allowed = state
            .allowed_origins
            .read()
            .unwrap_or_else(|e| e.into_inner());
        match &*allowed {
            None => true,
            Some(list) => list.iter().any(|o| o.as_bytes() == origin.as_bytes()),
        }
    });
    CorsLayer::new()
        .allow_origin(origins)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::HEAD,
            Method::OPTIONS,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("x-client-id"),
            HeaderName::from_static("x-client-secret"),
            REQUEST_ID,
            HeaderName::from_static("idempotency-key"),
            // The gateway's proxy (`/proxy/…`).
            HeaderName::from_static("x-oblien-proxy-target"),
        ])
        .expose_headers([
            header::RETRY_AFTER,
            REQUEST_ID,
            header::CONTENT_LENGTH,
            header::CONTENT_TYPE,
            header::CONTENT_DISPOSITION,
        ])
        .max_age(Duration::from_secs(600))
}

#[derive(Clone)]
pub struct LayerContext {
    pub state: AppState,
    pub listener: Listener,
}

/// Injected faults first, then the per-credential rate limit. Preflights pass untouched.
pub async fn faults_and_limits(
    State(ctx): State<LayerContext>,
    req: Request,
    next: Next,
) -> Response {
    if req.method() == Method::OPTIONS {
        return next.run(req).await;
    }
    // `drop` with `after_bytes`: the response goes out, cut after that many body bytes.
    let mut cut_after = None;
    if let Some(fault) =
        ctx.state
            .faults
            .take(ctx.listener, req.method().as_str(), req.uri().path())
    {
        if let Some(ms) = fault.latency_ms {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        match fault.kind {
            FaultKind::Latency => {}
            FaultKind::Drop if fault.after_bytes.is_some() => cut_after = fault.after_bytes,
            FaultKind::Drop => {
                let mut response = Response::new(Body::empty());
                response.extensions_mut().insert(DropConnection);
                return response;
            }
            FaultKind::Status | FaultKind::NonJson => return fault_response(&fault),
        }
    }
    if let Some(credential) = credential_key(&req) {
        if let Err(retry_after) = ctx.state.rate_limiter.check(credential, now_millis()) {
            return ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "Too many requests: slow down",
            )
            .with("retry_after", retry_after)
            .with_retry_after(retry_after)
            .into_response();
        }
    }
    let response = next.run(req).await;
    match cut_after {
        Some(limit) => response.map(|body| crate::stream::cut_after(body, limit)),
        None => response,
    }
}

/// A hash of the credential the request carries (API key id or bearer token), if any.
fn credential_key(req: &Request) -> Option<u64> {
    let headers = req.headers();
    let value = headers
        .get("x-client-id")
        .or_else(|| headers.get(header::AUTHORIZATION))?;
    let mut hasher = DefaultHasher::new();
    value.as_bytes().hash(&mut hasher);
    Some(hasher.finish())
}

fn fault_response(fault: &FaultSpec) -> Response {
    let default_status = if fault.kind == FaultKind::NonJson {
        200
    } else {
        500
    };
    let status = StatusCode::from_u16(fault.status.unwrap_or(default_status))
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let (mut body, mut content_type) = match (&fault.body, fault.kind) {
        (Some(serde_json::Value::String(s)), _) => (s.clone(), "text/plain; charset=utf-8"),
        (Some(value), _) => (value.to_string(), "application/json"),
        (None, FaultKind::NonJson) => (
            format!("<!DOCTYPE html><html><head><title>{status}</title></head><body><h1>{status}</h1><p>nginx</p></body></html>"),
            "text/html; charset=utf-8",
        ),
        (None, _) => {
            let code = default_code(status);
            (
                serde_json::json!({ "success": false, "error": code, "code": code, "message": "Injected fault" }).to_string(),
                "application/json",
            )
        }
    };
    if fault.kind == FaultKind::NonJson && fault.body.is_some() {
        content_type = "text/html; charset=utf-8";
    }
    if let Some(size) = fault.body_bytes {
        body = pad_body(&body, size, content_type == "application/json");
    }
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let content_type = fault.content_type.as_deref().unwrap_or(content_type);
    if let Ok(value) = HeaderValue::from_str(content_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    for (name, value) in &fault.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

/// Grows a body to `size` bytes: valid JSON stays valid (a padding field), text repeats.
fn pad_body(body: &str, size: usize, json: bool) -> String {
    if json {
        let filler = size.saturating_sub(40);
        return format!(
            "{{\"success\":true,\"padding\":\"{}\"}}",
            "x".repeat(filler)
        );
    }
    if body.is_empty() {
        return "x".repeat(size);
    }
    body.repeat(size / body.len() + 1)
        .chars()
        .take(size)
        .collect()
}

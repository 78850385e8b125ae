//! `/proxy/<path>` (§6): HTTP to a port inside the workspace, chosen by `X-Oblien-Proxy-Target:
//! <port>` or `<host>:<port>` (or the WebSocket form's `?x_oblien_target=`; the token may then
//! be `?token=`). The emulated VM runs one "dev server": port 3000 serves the workspace's `/app`
//! folder as static files (`/` and directories → `index.html`; the query is ignored). Any other
//! port: 502 `nothing_listening`. Only loopback hosts are reachable.

use super::files::{self, extension_of, Node};
use super::fs;
use super::{resolve_target, resolve_token};
use crate::body::query_map;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/proxy", any(proxy))
        .route("/proxy/", any(proxy))
        .route("/proxy/{*rest}", any(proxy))
}

/// The port the emulated dev server listens on.
pub const DEV_SERVER_PORT: u16 = 3000;
/// The folder it serves.
pub const DEV_SERVER_ROOT: &str = "/app";

const TARGET_HEADER: &str = "x-oblien-proxy-target";

fn bad_target(message: impl Into<String>) -> ApiError {
    ApiError::validation("X-Oblien-Proxy-Target", message.into())
}

/// `"3000"` or `"localhost:3000"` → the port.
fn parse_target(raw: &str) -> Result<u16, ApiError> {
    let raw = raw.trim();
    let (host, port) = match raw.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() => (Some(host), port),
        _ => (None, raw),
    };
    let port: u16 = port
        .parse()
        .ok()
        .filter(|p| *p >= 1)
        .ok_or_else(|| bad_target("must be <port> or <host>:<port>, port 1-65535"))?;
    if let Some(host) = host {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if !matches!(host, "localhost" | "127.0.0.1" | "0.0.0.0" | "::1") {
            return Err(bad_target(format!(
                "only loopback hosts are reachable, not '{host}'"
            )));
        }
    }
    Ok(port)
}

fn percent_decode(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Some(b) = path
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn content_type(path: &str) -> &'static str {
    match extension_of(path).map(str::to_ascii_lowercase).as_deref() {
        Some("html" | "htm") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js" | "mjs" | "cjs") => "text/javascript; charset=utf-8",
        Some("json" | "map") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        Some("ico") => "image/x-icon",
        Some("wasm") => "application/wasm",
        Some("txt" | "md") => "text/plain; charset=utf-8",
        Some("xml") => "application/xml",
        Some("woff2") => "font/woff2",
        _ => "application/octet-stream",
    }
}

fn text(status: StatusCode, body: &'static str) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

async fn proxy(State(state): State<AppState>, req: Request) -> Response {
    match serve(&state, &req) {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

fn serve(state: &AppState, req: &Request) -> Result<Response, ApiError> {
    let query = query_map(req.uri().query());
    let workspace = if req.headers().contains_key(header::AUTHORIZATION) {
        resolve_target(state, req.headers())?
    } else {
        match query.get("token") {
            Some(token) if !token.is_empty() => resolve_token(state, token)?.id,
            _ => return Err(ApiError::missing_credentials()),
        }
    };
    let target = req
        .headers()
        .get(TARGET_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| query.get("x_oblien_target").cloned())
        .ok_or_else(|| bad_target("is required (the port, or host:port, to reach)"))?;
    let port = parse_target(&target)?;
    if port != DEV_SERVER_PORT {
        return Err(ApiError::new(
            StatusCode::BAD_GATEWAY,
            "nothing_listening",
            format!("Nothing is listening on port {port} in the workspace"),
        )
        .with("port", port));
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut response = text(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed\n");
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return Ok(response);
    }
    // Inside a `/runtimes/<target>` nest the prefix is already gone.
    let path = req.uri().path();
    let rest = path.strip_prefix("/proxy").unwrap_or(path);
    let rest = percent_decode(rest);
    let Ok(mut file) = files::resolve(DEV_SERVER_ROOT, rest.trim_start_matches('/')) else {
        return Ok(text(StatusCode::NOT_FOUND, "Not Found\n"));
    };
    if file != DEV_SERVER_ROOT && !file.starts_with(&format!("{DEV_SERVER_ROOT}/")) {
        return Ok(text(StatusCode::NOT_FOUND, "Not Found\n"));
    }
    let content = fs::view(state, &workspace, |tree| {
        if matches!(tree.get(&file), Some(Node::Dir { .. })) {
            file = format!("{file}/index.html");
        }
        match tree.get(&file) {
            Some(Node::File { content, .. }) => Some(content.clone()),
            _ => None,
        }
    })
    .map_err(|e| super::fs_error(e, &file))?;
    let Some(content) = content else {
        return Ok(text(StatusCode::NOT_FOUND, "Not Found\n"));
    };
    let mut response = Response::new(axum::body::Body::from(content));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(&file)),
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_and_decoding() {
        assert_eq!(parse_target("3000").ok(), Some(3000));
        assert_eq!(parse_target("localhost:3000").ok(), Some(3000));
        assert_eq!(parse_target("[::1]:8080").ok(), Some(8080));
        assert!(parse_target("example.com:3000").is_err());
        assert!(parse_target("0").is_err());
        assert!(parse_target("70000").is_err());
        assert!(parse_target("abc").is_err());
        assert_eq!(percent_decode("/a%20b/%C3%BC%"), "/a b/ü%");
        assert_eq!(content_type("/app/x.JS"), "text/javascript; charset=utf-8");
    }
}

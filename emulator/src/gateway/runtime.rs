//! Runtime-level endpoints: `GET /runtime` (RuntimeInfo), `GET /runtimes` (targets), and the
//! `/runtimes/<target>/…` prefix check.

use super::Target;
use crate::error::ApiError;
use crate::shell;
use crate::state::AppState;
use axum::extract::{OriginalUri, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

pub fn routes() -> Router<AppState> {
    Router::new().route("/runtime", get(info))
}

/// What the emulated runtime can do (`RuntimeInfo.capabilities`). Add to it as endpoints come.
pub const CAPABILITIES: &[&str] = &[
    "files",
    "files.stream",
    "search",
    "exec",
    "exec.stream",
    "transfer",
    "proxy",
    "terminals",
    "watchers",
    "ws",
];

/// The wire's protocol version the emulator claims.
pub const PROTOCOL_VERSION: u32 = 1;

/// The runtime targets the emulator answers: `default` (no prefix) and its alias `local`.
pub const TARGETS: &[&str] = &["default", "local"];

fn runtime_info(state: &AppState, workspace_id: &str) -> Value {
    let cpus = state
        .store()
        .workspace(workspace_id)
        .map_or(1.0, |w| w.resources.cpus);
    json!({
        "os": "linux",
        "arch": "x86_64",
        "cpus": (cpus.ceil() as u64).max(1),
        "home": shell::HOME,
        "shell": "/bin/sh",
        "protocol_version": PROTOCOL_VERSION,
        "capabilities": CAPABILITIES,
        "boot_services": {},
    })
}

/// `GET /runtime`.
async fn info(State(state): State<AppState>, Target(id): Target) -> Json<Value> {
    let mut info = runtime_info(&state, &id);
    if let Some(obj) = info.as_object_mut() {
        obj.insert("success".into(), Value::Bool(true));
    }
    Json(info)
}

/// `GET /runtimes` (never prefixed): one target, `default`, with `local` as its alias.
pub async fn targets(State(state): State<AppState>, Target(id): Target) -> Json<Value> {
    Json(json!({
        "success": true,
        "version": PROTOCOL_VERSION,
        "capabilities": CAPABILITIES,
        "default_target": "default",
        "aliases": { "local": "default" },
        "targets": [{
            "id": "default",
            "local": true,
            "available": true,
            "version": PROTOCOL_VERSION,
            "capabilities": CAPABILITIES,
            "runtime": runtime_info(&state, &id),
        }],
    }))
}

/// Refuses `/runtimes/<target>/…` for a target other than [`TARGETS`] (404 `target_not_found`).
pub async fn check_target(OriginalUri(uri): OriginalUri, req: Request, next: Next) -> Response {
    let target = uri
        .path()
        .strip_prefix("/runtimes/")
        .and_then(|rest| rest.split('/').next())
        .unwrap_or("");
    if TARGETS.contains(&target) {
        return next.run(req).await;
    }
    ApiError::new(
        StatusCode::NOT_FOUND,
        "target_not_found",
        format!(
            "No runtime target '{target}' (the emulator has: {})",
            TARGETS.join(", ")
        ),
    )
    .with("target", target)
    .into_response()
}

//! `/exec…` endpoints over the task model of [`super::exec`].

use super::exec::{self, InputError, Program, StartError, Task};
use super::Target;
use crate::body::{query_map, JsonBody};
use crate::error::ApiError;
use crate::state::AppState;
use crate::stream;
use crate::util::now_millis;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/exec", post(run).get(list).delete(delete_all))
        .route("/exec/stream", post(run_stream).get(subscribe))
        .route("/exec/{id}", get(get_task).delete(delete_task))
        .route("/exec/{id}/input", post(input))
}

#[derive(Deserialize, Clone, Copy, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum ExecMode {
    #[default]
    Auto,
    Shell,
    Direct,
}

#[derive(Deserialize)]
struct ExecBody {
    cmd: Vec<String>,
    #[serde(default)]
    exec_mode: ExecMode,
    timeout_seconds: Option<u32>,
    ttl_seconds: Option<u64>,
    #[serde(default)]
    #[allow(dead_code)]
    keep_logs: Option<bool>,
}

/// `auto`: one element that looks like a shell line (blanks, `;`, `&`, `|`, `>`, quotes) runs
/// in the shell, anything else as argv. `shell`: the elements joined by spaces, as a line.
fn program(body: &ExecBody) -> Program {
    let looks_like_line = |s: &str| {
        s.chars()
            .any(|c| c.is_whitespace() || ";&|><'\"\\#".contains(c))
    };
    match body.exec_mode {
        ExecMode::Shell => Program::Line(body.cmd.join(" ")),
        ExecMode::Auto if body.cmd.len() == 1 && looks_like_line(&body.cmd[0]) => {
            Program::Line(body.cmd[0].clone())
        }
        _ => Program::Argv(body.cmd.clone()),
    }
}

fn start(state: &AppState, id: &str, body: &ExecBody) -> Result<Arc<Task>, ApiError> {
    if body.cmd.is_empty() {
        return Err(ApiError::validation(
            "cmd",
            "must be a non-empty array of strings",
        ));
    }
    if body.timeout_seconds.is_some_and(|t| t == 0 || t > 3600) {
        return Err(ApiError::validation(
            "timeout_seconds",
            "must be between 1 and 3600",
        ));
    }
    if body.ttl_seconds.is_some_and(|t| t > 30 * 86400) {
        return Err(ApiError::validation(
            "ttl_seconds",
            "must be at most 2592000 (30 days)",
        ));
    }
    let timeout = body
        .timeout_seconds
        .map(|s| Duration::from_secs(u64::from(s)));
    exec::start(
        state,
        id,
        body.cmd.clone(),
        program(body),
        timeout,
        body.ttl_seconds,
    )
    .map_err(|e| match e {
        StartError::WorkspaceGone => ApiError::new(
            StatusCode::NOT_FOUND,
            "workspace_not_found",
            "The workspace no longer exists",
        ),
        StartError::TooManyRunning => ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_tasks",
            format!(
                "At most {} tasks may run at once in a workspace (the emulator's bound)",
                exec::MAX_RUNNING
            ),
        ),
    })
}

/// `POST /exec`: runs the command and answers with the task once it has exited.
async fn run(
    State(state): State<AppState>,
    Target(id): Target,
    body: Result<JsonBody<ExecBody>, ApiError>,
) -> Result<Json<Value>, ApiError> {
    let JsonBody(body) = body?;
    let started = now_millis();
    let task = start(&state, &id, &body)?;
    task.wait().await;
    let mut json = task.to_json(true);
    if let Some(obj) = json.as_object_mut() {
        obj.insert("success".into(), Value::Bool(true));
        obj.insert(
            "duration_ms".into(),
            Value::from(now_millis().saturating_sub(started)),
        );
    }
    Ok(Json(json))
}

fn sse_response(task: Arc<Task>) -> Response {
    let (tx, body) = stream::channel(16);
    tokio::spawn(task.stream_sse(tx));
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// `POST /exec/stream`: starts the command and streams it as SSE.
async fn run_stream(
    State(state): State<AppState>,
    Target(id): Target,
    body: Result<JsonBody<ExecBody>, ApiError>,
) -> Result<Response, ApiError> {
    let JsonBody(body) = body?;
    let task = start(&state, &id, &body)?;
    Ok(sse_response(task))
}

fn find(state: &AppState, workspace_id: &str, task_id: &str) -> Result<Arc<Task>, ApiError> {
    let mut store = state.store();
    store
        .workspace_mut(workspace_id)
        .and_then(|w| w.exec.get(task_id))
        .ok_or_else(|| {
            ApiError::not_found(format!("No exec task {task_id}")).with("task_id", task_id)
        })
}

/// `GET /exec/stream?task_id=`: the task's output so far, then live, then `exit`.
async fn subscribe(
    State(state): State<AppState>,
    Target(id): Target,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let query = query_map(raw.as_deref());
    let task_id = query
        .get("task_id")
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::validation("task_id", "is required"))?;
    let task = find(&state, &id, task_id)?;
    Ok(sse_response(task))
}

async fn list(State(state): State<AppState>, Target(id): Target) -> Json<Value> {
    let tasks: Vec<Value> = {
        let mut store = state.store();
        store
            .workspace_mut(&id)
            .map(|w| w.exec.list())
            .unwrap_or_default()
    }
    .iter()
    .map(|t| t.to_json(false))
    .collect();
    Json(json!({ "success": true, "tasks": tasks }))
}

async fn get_task(
    State(state): State<AppState>,
    Target(id): Target,
    Path(task_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let mut json = find(&state, &id, &task_id)?.to_json(true);
    if let Some(obj) = json.as_object_mut() {
        obj.insert("success".into(), Value::Bool(true));
    }
    Ok(Json(json))
}

/// `DELETE /exec/{id}`: kills a running task (it stays listed, exit 137); removes an exited one.
async fn delete_task(
    State(state): State<AppState>,
    Target(id): Target,
    Path(task_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let task = find(&state, &id, &task_id)?;
    if task.is_running() {
        task.kill();
        return Ok(Json(
            json!({ "success": true, "task_id": task_id, "killed": true }),
        ));
    }
    if let Some(w) = state.store().workspace_mut(&id) {
        w.exec.remove(&task_id);
    }
    Ok(Json(
        json!({ "success": true, "task_id": task_id, "deleted": true }),
    ))
}

/// `DELETE /exec`: kills and forgets every task.
async fn delete_all(State(state): State<AppState>, Target(id): Target) -> Json<Value> {
    let deleted = state
        .store()
        .workspace_mut(&id)
        .map(|w| w.exec.clear())
        .unwrap_or(0);
    Json(json!({ "success": true, "deleted": deleted }))
}

/// `POST /exec/{id}/input`: the raw body goes to the task's stdin (an empty body closes it).
async fn input(
    State(state): State<AppState>,
    Target(id): Target,
    Path(task_id): Path<String>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let body = body.map_err(|rejection| {
        crate::body::unreadable(rejection, ApiError::validation("body", "could not be read"))
    })?;
    let task = find(&state, &id, &task_id)?;
    let written = task.input(body).map_err(|e| match e {
        InputError::NotRunning => ApiError::new(
            StatusCode::CONFLICT,
            "task_not_running",
            format!("Exec task {task_id} has exited; its stdin is closed"),
        ),
        InputError::Full => ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "stdin_full",
            "The task is not reading its stdin fast enough",
        )
        .with_retry_after(1),
    })?;
    Ok(Json(json!({ "success": true, "bytes_written": written })))
}

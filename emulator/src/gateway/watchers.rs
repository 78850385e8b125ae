//! File watchers (wire §3.6): the REST side. Events go over the WebSocket (`crate::live`): `ready`
//! once set up, `change` for every change under the root from any source (every change of the
//! file tree passes through `FileTree`, which reports it), `overflow` when more than
//! [`WATCHER_QUEUE_LIMIT`](crate::live::WATCHER_QUEUE_LIMIT) events wait for an absent or slow
//! socket.

use super::files::{normalize, Node};
use super::{fs_error, Reach};
use crate::body::JsonBody;
use crate::error::ApiError;
use crate::live::covers;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

/// Watchers per workspace.
const MAX_WATCHERS: usize = 64;
/// Exclude patterns per watcher, and their length.
const MAX_EXCLUDES: usize = 256;
const MAX_EXCLUDE_LEN: usize = 1024;

type JsonResult = Result<Json<Value>, ApiError>;

#[derive(Deserialize)]
pub struct CreateWatcher {
    path: Option<String>,
    /// Alias of `path` ("backend accepts both").
    root: Option<String>,
    excludes: Option<Vec<String>>,
    /// Alias of `excludes`.
    exclude: Option<Vec<String>>,
}

/// Directories a watcher of `root` with `excludes` covers (its root included), counted now.
fn dir_count(state: &AppState, id: &str, root: &str, excludes: &[String]) -> usize {
    super::with_files(state, id, |t| {
        t.walk(root)
            .filter(|(p, n)| matches!(n, Node::Dir { .. }) && covers(root, excludes, p))
            .count()
    })
    .unwrap_or(0)
}

fn watcher_json(state: &AppState, reach: &Reach, watcher_id: &str) -> Option<Value> {
    let (root, excludes) = reach
        .live
        .watcher(watcher_id, |w| (w.root.clone(), w.excludes.clone()))?;
    let count = dir_count(state, &reach.id, &root, &excludes);
    reach.live.watcher(watcher_id, |w| w.to_json(count))
}

pub async fn create(
    State(state): State<AppState>,
    reach: Reach,
    body: Result<JsonBody<CreateWatcher>, ApiError>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let JsonBody(body) = body?;
    let raw = body
        .path
        .or(body.root)
        .filter(|p| !p.is_empty())
        .ok_or_else(|| ApiError::validation("path", "is required (or 'root')"))?;
    let root = normalize(&raw).map_err(|e| fs_error(e, &raw))?;
    let mut excludes: Vec<String> = body
        .excludes
        .into_iter()
        .chain(body.exclude)
        .flatten()
        .filter(|e| !e.trim().is_empty())
        .collect();
    excludes.dedup();
    if excludes.len() > MAX_EXCLUDES || excludes.iter().any(|e| e.len() > MAX_EXCLUDE_LEN) {
        return Err(ApiError::validation(
            "excludes",
            format!("at most {MAX_EXCLUDES} patterns of at most {MAX_EXCLUDE_LEN} bytes"),
        ));
    }
    // The root must be an existing directory.
    let kind = super::with_files(&state, &reach.id, |t| match t.get(&root) {
        Some(Node::Dir { .. }) => Ok(()),
        Some(Node::File { .. }) => Err(super::files::FsError::NotADirectory),
        None => Err(super::files::FsError::NotFound),
    })?;
    kind.map_err(|e| fs_error(e, &root))?;
    if reach.live.watchers(|_| ()).len() >= MAX_WATCHERS {
        return Err(ApiError::conflict(format!(
            "At most {MAX_WATCHERS} watchers per workspace: delete one first"
        ))
        .with("max", MAX_WATCHERS));
    }
    let dirs = dir_count(&state, &reach.id, &root, &excludes);
    let watcher = reach.live.add_watcher(root, excludes, dirs);
    Ok((
        StatusCode::CREATED,
        Json(json!({ "success": true, "watcher": watcher })),
    ))
}

pub async fn list(State(state): State<AppState>, reach: Reach) -> JsonResult {
    let ids = reach.live.watchers(|w| w.id.clone());
    let watchers: Vec<Value> = ids
        .iter()
        .filter_map(|id| watcher_json(&state, &reach, id))
        .collect();
    Ok(Json(json!({ "success": true, "watchers": watchers })))
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("No watcher '{id}'")).with("watcher_id", id)
}

pub async fn get(
    State(state): State<AppState>,
    reach: Reach,
    Path(id): Path<String>,
) -> JsonResult {
    let watcher = watcher_json(&state, &reach, &id).ok_or_else(|| not_found(&id))?;
    Ok(Json(json!({ "success": true, "watcher": watcher })))
}

pub async fn delete(reach: Reach, Path(id): Path<String>) -> JsonResult {
    if !reach.live.remove_watcher(&id) {
        return Err(not_found(&id));
    }
    Ok(Json(json!({ "success": true, "watcher_id": id })))
}

//! The data plane (`workspace.oblien.com`): its own listener, reaching a workspace by its token
//! alone. Files and exec are emulated over an in-memory file tree per workspace.

mod browse;
pub mod exec;
mod exec_http;
pub mod files;
pub mod fs;
mod proxy;
mod runtime;
mod search;
pub mod tasks;
mod terminals;
mod transfer;
mod watchers;
mod ws;

use crate::auth::{bearer_token, header_str};
use crate::body::{query_map, JsonBody};
use crate::error::ApiError;
use crate::jwt::{self, GatewayClaims, TYP_GATEWAY};
use crate::state::{AppState, Lifecycle, Workspace};
use crate::util::now_millis;
use axum::extract::{FromRequestParts, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{header, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{self, get, post};
use axum::{Json, Router};
use files::{FsError, FsOp};
use serde::Deserialize;
use serde_json::{json, Value};

/// Every gateway route: the workspace's own (`workspace_routes`), the same under
/// `/runtimes/{target}/…` for the targets the emulator has, and `GET /runtimes`.
pub fn routes() -> Router<AppState> {
    let own = workspace_routes();
    Router::new()
        .merge(own.clone())
        .nest(
            "/runtimes/{target}",
            own.layer(axum::middleware::from_fn(runtime::check_target)),
        )
        .route("/runtimes", get(runtime::targets))
}

/// The routes a runtime target answers (prefixed by `/runtimes/<target>` for non-default
/// targets).
pub fn workspace_routes() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/files/stat", get(stat))
        .route("/files/write", post(write))
        .route("/files/mkdir", post(mkdir))
        .route("/files/delete", post(delete))
        .merge(browse::routes())
        .merge(search::routes())
        .merge(transfer::routes())
        .merge(exec_http::routes())
        .merge(runtime::routes())
        .merge(proxy::routes())
        .route("/ws", get(ws::upgrade))
        .route("/terminals", get(terminals::list).post(terminals::create))
        .route("/terminals/{id}", routing::delete(terminals::close))
        .route("/terminals/{id}/scrollback", get(terminals::scrollback))
        .route("/watchers", get(watchers::list).post(watchers::create))
        .route(
            "/watchers/{id}",
            get(watchers::get).delete(watchers::delete),
        )
}

/// The workspace a gateway request reaches, resolved from its bearer token.
pub struct Target(pub String);

impl FromRequestParts<AppState> for Target {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        resolve_target(state, &parts.headers).map(Target)
    }
}

impl FromRequestParts<AppState> for Reach {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let authorization = header_str(&parts.headers, header::AUTHORIZATION.as_str())
            .ok_or_else(ApiError::missing_credentials)?;
        let token = bearer_token(authorization).ok_or_else(|| {
            unauthorized(
                "invalid_credentials",
                "Authorization must be 'Bearer <token>'",
            )
        })?;
        resolve_token(state, token)
    }
}

fn unauthorized(code: &'static str, message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, code, message)
}

/// A gateway JWT (bound to the workspace's current connection generation) or the raw hex
/// connection token (what a VM's port 9990 accepts directly).
fn resolve_target(state: &AppState, headers: &axum::http::HeaderMap) -> Result<String, ApiError> {
    let authorization = header_str(headers, header::AUTHORIZATION.as_str())
        .ok_or_else(ApiError::missing_credentials)?;
    let token = bearer_token(authorization).ok_or_else(|| {
        unauthorized(
            "invalid_credentials",
            "Authorization must be 'Bearer <token>'",
        )
    })?;
    resolve_token(state, token).map(|reach| reach.id)
}

/// A workspace a token reaches, with its live part and the interrupt epoch seen at the check.
pub struct Reach {
    pub id: String,
    pub live: std::sync::Arc<crate::live::Live>,
    pub epoch: u64,
}

/// The checks of every gateway request, on a token however it came (header or `?token=`):
/// 401 `token_revoked` (rotated), 401 `token_expired` / `invalid_signature` / …, 403
/// `internal_api_disabled`, 503 `workspace_not_running` with `Retry-After` (provisioning or
/// stopped).
pub fn resolve_token(state: &AppState, token: &str) -> Result<Reach, ApiError> {
    let is_raw = token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit());
    let store = state.store();
    let workspace: &Workspace = if is_raw {
        store
            .workspaces
            .iter()
            .find(|w| crate::util::secure_eq(&w.access.connection_token, token))
            .ok_or_else(|| unauthorized("token_revoked", "The connection token is not current"))?
    } else {
        let claims: GatewayClaims = jwt::verify(token, &state.keys.gateway)
            .map_err(|e| unauthorized(e.code(), e.message()))?;
        if claims.typ != TYP_GATEWAY {
            return Err(unauthorized("invalid_token", "Not a gateway token"));
        }
        let workspace = store.workspace(&claims.workspace_id).ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "workspace_not_found",
                "The token's workspace no longer exists",
            )
        })?;
        if claims.gen != workspace.access.generation {
            return Err(unauthorized(
                "token_revoked",
                "The gateway token was rotated; fetch a new one",
            ));
        }
        workspace
    };
    if !workspace.access.enabled {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "internal_api_disabled",
            "The workspace's internal API server is disabled",
        ));
    }
    if !workspace.is_ready(now_millis(), state.provision_delay_ms()) {
        let message = if workspace.lifecycle == Lifecycle::Stopped {
            "The workspace is stopped: start it first"
        } else {
            "The workspace is not running yet"
        };
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "workspace_not_running",
            message,
        )
        .with_retry_after(1));
    }
    Ok(Reach {
        id: workspace.id.clone(),
        live: workspace.live.clone(),
        epoch: workspace.live.epoch(),
    })
}

/// Runs `f` on the target workspace's file tree (read-only).
pub(crate) fn with_files<R>(
    state: &AppState,
    id: &str,
    f: impl FnOnce(&files::FileTree) -> R,
) -> Result<R, ApiError> {
    fs::view(state, id, f).map_err(|e| fs_error(e, ""))
}

pub(crate) fn fs_error(err: FsError, path: &str) -> ApiError {
    let (status, code, message) = err.describe();
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    if err == FsError::WorkspaceGone {
        return ApiError::new(status, code, message);
    }
    let error = ApiError::new(status, code, format!("{message}: {path}")).with("path", path);
    if code == "validation_error" {
        error.with("field", "path")
    } else {
        error
    }
}

pub(crate) fn required_path(raw: Option<String>) -> Result<String, ApiError> {
    let query = query_map(raw.as_deref());
    query
        .get("path")
        .filter(|p| !p.is_empty())
        .cloned()
        .ok_or_else(|| ApiError::validation("path", "is required"))
}

type JsonResult = Result<Json<Value>, ApiError>;

async fn health(Target(_): Target) -> Json<Value> {
    Json(json!({ "success": true, "status": "ok" }))
}

async fn stat(
    State(state): State<AppState>,
    Target(id): Target,
    RawQuery(raw): RawQuery,
) -> JsonResult {
    let path = required_path(raw)?;
    let mut entry = with_files(&state, &id, |t| t.stat(&path))?.map_err(|e| fs_error(e, &path))?;
    if let Some(obj) = entry.as_object_mut() {
        obj.insert("success".into(), Value::Bool(true));
    }
    Ok(Json(entry))
}

#[derive(Deserialize)]
struct WriteBody {
    path: String,
    content: String,
    #[serde(default)]
    create_dirs: bool,
    #[serde(default)]
    append: bool,
}

async fn write(
    State(state): State<AppState>,
    Target(id): Target,
    body: Result<JsonBody<WriteBody>, ApiError>,
) -> JsonResult {
    let JsonBody(body) = body?;
    let done = fs::mutate(
        &state,
        &id,
        FsOp::Write {
            path: &body.path,
            content: body.content.as_bytes(),
            create_dirs: body.create_dirs,
            append: body.append,
        },
    )
    .map_err(|e| fs_error(e, &body.path))?;
    Ok(Json(
        json!({ "success": true, "path": done.path, "size": done.size }),
    ))
}

#[derive(Deserialize)]
struct PathBody {
    path: String,
}

async fn mkdir(
    State(state): State<AppState>,
    Target(id): Target,
    body: Result<JsonBody<PathBody>, ApiError>,
) -> JsonResult {
    let JsonBody(body) = body?;
    let done = fs::mutate(
        &state,
        &id,
        FsOp::Mkdir {
            path: &body.path,
            parents: true,
        },
    )
    .map_err(|e| fs_error(e, &body.path))?;
    Ok(Json(json!({ "success": true, "path": done.path })))
}

async fn delete(
    State(state): State<AppState>,
    Target(id): Target,
    body: Result<JsonBody<PathBody>, ApiError>,
) -> JsonResult {
    let JsonBody(body) = body?;
    let done = fs::mutate(
        &state,
        &id,
        FsOp::Delete {
            path: &body.path,
            recursive: true,
        },
    )
    .map_err(|e| fs_error(e, &body.path))?;
    Ok(Json(
        json!({ "success": true, "path": done.path, "deleted": true }),
    ))
}

/// Unknown gateway paths: 404 once the token is checked.
pub async fn fallback(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    req: axum::extract::Request,
) -> Response {
    if let Err(e) = resolve_target(&state, req.headers()) {
        return e.into_response();
    }
    ApiError::not_found(format!("No endpoint {method} {}", uri.path())).into_response()
}

//! The control plane (`api.oblien.com`): routes, the auth extractor and the fallbacks.

mod access;
mod control;
mod demo;
mod namespaces;
mod tokens;
mod workspaces;

use crate::auth::{authenticate, Principal};
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

/// Both names of the internal API access endpoints (reference page and SDK respectively).
const ACCESS_PREFIXES: [&str; 2] = ["internal-api-access", "runtime-api-access"];

/// The routes that faults and rate limits apply to.
pub fn routes(state: &AppState) -> Router<AppState> {
    let mut router = Router::new()
        .route(
            "/namespaces",
            get(namespaces::list).post(namespaces::create),
        )
        .route(
            "/namespaces/{id}",
            get(namespaces::get).delete(namespaces::delete),
        )
        .route("/tokens", post(tokens::create))
        .route("/workspace", get(workspaces::list).post(workspaces::create))
        .route(
            "/workspace/{id}",
            get(workspaces::get).delete(workspaces::delete),
        )
        .route("/workspace/{id}/start", post(workspaces::start))
        .route("/workspace/{id}/stop", post(workspaces::stop))
        .route("/workspace/{id}/restart", post(workspaces::restart))
        .route("/workspace/{id}/stats", get(workspaces::stats))
        .route("/credits", get(credits));
    for prefix in ACCESS_PREFIXES {
        let base = format!("/workspace/{{id}}/{prefix}");
        router = router
            .route(&base, get(access::status))
            .route(&format!("{base}/enable"), post(access::enable))
            .route(&format!("{base}/disable"), post(access::disable))
            .route(
                &format!("{base}/token"),
                get(access::read_token).post(access::rotate_token),
            )
            .route(&format!("{base}/token/raw"), get(access::raw_token))
            .route(&format!("{base}/reconnect"), post(access::reconnect))
            .route(&format!("{base}/workspace"), post(access::workspace_token));
    }
    if state.config.demo {
        router = router.route("/demo/session", post(demo::session));
    }
    router
}

/// The emulator's own control endpoints, exempt from faults and rate limits.
pub fn control_routes() -> Router<AppState> {
    control::routes()
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        authenticate(state, &parts.headers)
    }
}

/// Paths no endpoint answers. Authenticate first, as the real API's middleware does: a scoped
/// credential gets 403 for any other service (pages, CDN, …), an admin a plain 404.
pub async fn fallback(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    req: axum::extract::Request,
) -> Response {
    let principal = match authenticate(&state, req.headers()) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    // An unmodelled sub-resource of a workspace: the workspace's own checks decide, as the
    // "all sub-resources" row says; other services are admin-only.
    let check = match uri
        .path()
        .strip_prefix("/workspace/")
        .and_then(|rest| rest.split_once('/'))
    {
        Some((id, _)) => workspaces::with_workspace(&state, &principal, id, |_| ()),
        None => principal.require_other_services(),
    };
    if let Err(e) = check {
        return e.into_response();
    }
    ApiError::not_found(format!("No endpoint {method} {}", uri.path())).into_response()
}

pub async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{method} is not allowed on {}", uri.path()),
    )
    .into_response()
}

/// `GET /credits`: the one endpoint a billing-scoped key may use.
async fn credits(principal: Principal) -> Result<Json<serde_json::Value>, ApiError> {
    match principal.scope {
        crate::state::Scope::Admin | crate::state::Scope::Billing => Ok(Json(json!({
            "success": true,
            "credits": { "balance": 1000, "currency": "credits" },
        }))),
        _ => Err(ApiError::scope_denied(
            "Only admin and billing credentials can access credits",
        )),
    }
}

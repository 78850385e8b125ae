//! `/__emulator/*`: the emulator's own control endpoints (not part of Oblien). All but `health`
//! need the admin API key: scoped keys, scoped tokens and the page never reach them.

use crate::auth::{authenticate, Principal};
use crate::body::JsonBody;
use crate::config::RateLimit;
use crate::error::ApiError;
use crate::faults::{FaultKind, FaultSpec, Listener};
use crate::state::{ApiKey, AppState, Scope};
use crate::util::{iso8601, now_millis, random_hex};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/__emulator/health", get(health))
        .route("/__emulator/keys", get(list_keys).post(create_key))
        .route(
            "/__emulator/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route(
            "/__emulator/rate-limit",
            get(get_rate_limit).put(set_rate_limit),
        )
        .route("/__emulator/reset", post(reset))
        .route("/__emulator/cors", get(get_cors).put(set_cors))
        .route(
            "/__emulator/gateway-token-ttl",
            get(get_gateway_ttl).put(set_gateway_ttl),
        )
}

type JsonResult = Result<Json<Value>, ApiError>;

/// The admin API key itself (not a token, not a scoped key).
fn require_admin_key(state: &AppState, headers: &HeaderMap) -> Result<Principal, ApiError> {
    let principal = authenticate(state, headers)?;
    principal.require_admin()?;
    Ok(principal)
}

async fn health(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let api = state.api_up.load(Ordering::SeqCst);
    let gateway = state.gateway_up.load(Ordering::SeqCst);
    let status = if api && gateway {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(json!({ "success": api && gateway, "api": api, "gateway": gateway })),
    )
}

#[derive(Deserialize)]
struct CreateKey {
    scope: String,
    namespace: Option<String>,
    #[serde(rename = "workspaceId")]
    workspace_id: Option<String>,
    name: Option<String>,
}

/// Creates an API key with a scope (admin, namespace, workspace, billing), as the dashboard does.
async fn create_key(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<JsonBody<CreateKey>, ApiError>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    require_admin_key(&state, &headers)?;
    let JsonBody(body) = body?;
    let mut store = state.store();
    let scope = match body.scope.as_str() {
        "admin" => Scope::Admin,
        "billing" => Scope::Billing,
        "namespace" => {
            let ns = body.namespace.ok_or_else(|| {
                ApiError::validation("namespace", "is required when scope is 'namespace'")
            })?;
            let slug = store
                .namespace(&ns)
                .map(|n| n.slug.clone())
                .ok_or_else(|| {
                    ApiError::validation("namespace", format!("namespace '{ns}' does not exist"))
                })?;
            Scope::Namespace(slug)
        }
        "workspace" => {
            let ws = body.workspace_id.ok_or_else(|| {
                ApiError::validation("workspaceId", "is required when scope is 'workspace'")
            })?;
            if store.workspace(&ws).is_none() {
                return Err(ApiError::validation(
                    "workspaceId",
                    format!("workspace '{ws}' does not exist"),
                ));
            }
            Scope::Workspace(ws)
        }
        other => {
            return Err(ApiError::validation(
                "scope",
                format!("must be admin, namespace, workspace or billing, got '{other}'"),
            ))
        }
    };
    let key = ApiKey {
        client_id: format!("cid_{}", random_hex(8)),
        client_secret: format!("csk_{}", random_hex(24)),
        scope,
        name: body.name,
        created_ms: now_millis(),
    };
    let json = json!({
        "success": true,
        "clientId": key.client_id,
        "clientSecret": key.client_secret,
        "scope": key.scope.name(),
        "namespace": match &key.scope { Scope::Namespace(n) => Some(n), _ => None },
        "workspaceId": match &key.scope { Scope::Workspace(w) => Some(w), _ => None },
        "name": key.name,
    });
    store.keys.push(key);
    Ok((StatusCode::CREATED, Json(json)))
}

/// Lists keys without their secrets.
async fn list_keys(State(state): State<AppState>, headers: HeaderMap) -> JsonResult {
    require_admin_key(&state, &headers)?;
    let keys: Vec<Value> = state
        .store()
        .keys
        .iter()
        .map(|k| {
            json!({
                "clientId": k.client_id,
                "scope": k.scope.name(),
                "name": k.name,
                "created_at": iso8601(k.created_ms),
            })
        })
        .collect();
    Ok(Json(json!({ "success": true, "keys": keys })))
}

async fn list_faults(State(state): State<AppState>, headers: HeaderMap) -> JsonResult {
    require_admin_key(&state, &headers)?;
    Ok(Json(
        json!({ "success": true, "faults": state.faults.list() }),
    ))
}

async fn add_fault(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<JsonBody<FaultSpec>, ApiError>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    require_admin_key(&state, &headers)?;
    let JsonBody(spec) = body?;
    if !spec.path.starts_with('/') {
        return Err(ApiError::validation("path", "must start with '/'"));
    }
    if spec.times == 0 {
        return Err(ApiError::validation("times", "must be at least 1"));
    }
    if let Some(status) = spec.status {
        if !(200..=599).contains(&status) {
            return Err(ApiError::validation(
                "status",
                "must be an HTTP status 200-599",
            ));
        }
    }
    if spec.latency_ms.is_some_and(|ms| ms > 120_000) {
        return Err(ApiError::validation("latency_ms", "must be at most 120000"));
    }
    if spec.body_bytes.is_some_and(|n| n > 64 * 1024 * 1024) {
        return Err(ApiError::validation(
            "body_bytes",
            "must be at most 67108864",
        ));
    }
    if spec.after_bytes.is_some() && spec.kind != crate::faults::FaultKind::Drop {
        return Err(ApiError::validation(
            "after_bytes",
            "is only valid with kind \"drop\"",
        ));
    }
    // A `drop` on the gateway's `/ws` is a network loss for the sockets that are open now: they
    // end at once, without a close frame. That is one of its uses; any left drop the next
    // upgrade requests, as for any path.
    let mut spec = spec;
    let mut killed = None;
    if spec.kind == FaultKind::Drop
        && spec.after_bytes.is_none()
        && spec.matches(Listener::Gateway, "GET", "/ws")
    {
        let lives: Vec<_> = state
            .store()
            .workspaces
            .iter()
            .map(|w| w.live.clone())
            .collect();
        killed = Some(lives.iter().filter(|live| live.kill_socket()).count());
        spec.times -= 1;
        if spec.times == 0 {
            return Ok((
                StatusCode::CREATED,
                Json(json!({ "success": true, "fault": null, "sockets_dropped": killed })),
            ));
        }
    }
    let fault = state.faults.add(spec);
    Ok((
        StatusCode::CREATED,
        Json(json!({ "success": true, "fault": fault, "sockets_dropped": killed })),
    ))
}

async fn clear_faults(State(state): State<AppState>, headers: HeaderMap) -> JsonResult {
    require_admin_key(&state, &headers)?;
    state.faults.clear();
    Ok(Json(json!({ "success": true })))
}

async fn get_rate_limit(State(state): State<AppState>, headers: HeaderMap) -> JsonResult {
    require_admin_key(&state, &headers)?;
    Ok(Json(
        json!({ "success": true, "rateLimit": state.rate_limiter.settings() }),
    ))
}

#[derive(Deserialize)]
struct SetRateLimit {
    /// Required; `null` turns rate limiting off.
    #[serde(deserialize_with = "nullable")]
    requests: Option<u32>,
    window_seconds: Option<u32>,
}

/// A field that must be present but may be `null` (serde treats a missing `Option` as `None`).
fn nullable<'de, D: serde::Deserializer<'de>>(de: D) -> Result<Option<u32>, D::Error> {
    Option::<u32>::deserialize(de)
}

async fn set_rate_limit(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<JsonBody<SetRateLimit>, ApiError>,
) -> JsonResult {
    require_admin_key(&state, &headers)?;
    let JsonBody(body) = body?;
    let settings = match body.requests {
        None => None,
        Some(0) => {
            return Err(ApiError::validation(
                "requests",
                "must be at least 1 (null turns the limit off)",
            ))
        }
        Some(requests) => {
            let window_seconds = body.window_seconds.unwrap_or(60);
            if !(1..=3600).contains(&window_seconds) {
                return Err(ApiError::validation(
                    "window_seconds",
                    "must be between 1 and 3600",
                ));
            }
            Some(RateLimit {
                requests,
                window_seconds,
            })
        }
    };
    state.rate_limiter.set(settings);
    Ok(Json(json!({ "success": true, "rateLimit": settings })))
}

/// Forgets every namespace, workspace, scoped key, fault and rate-limit window, and restores the
/// configured CORS allow-list (the admin key stays).
async fn reset(State(state): State<AppState>, headers: HeaderMap) -> JsonResult {
    require_admin_key(&state, &headers)?;
    let ended: Vec<_> = {
        let mut store = state.store();
        store.namespaces.clear();
        let admin_id = state.config.admin_client_id.clone();
        store.keys.retain(|k| k.client_id == admin_id);
        store.workspaces.drain(..).map(|w| w.live).collect()
    };
    for live in ended {
        live.interrupt(crate::live::Interrupt::Deleted);
    }
    state.faults.clear();
    state.rate_limiter.set(state.rate_limiter.settings());
    *state
        .allowed_origins
        .write()
        .unwrap_or_else(|e| e.into_inner()) = state.config.allowed_origins.clone();
    Ok(Json(json!({ "success": true })))
}

async fn get_cors(State(state): State<AppState>, headers: HeaderMap) -> JsonResult {
    require_admin_key(&state, &headers)?;
    let origins = state
        .allowed_origins
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    Ok(Json(json!({ "success": true, "origins": origins })))
}

#[derive(Deserialize)]
struct SetCors {
    /// Required; `null` allows any origin again.
    #[serde(deserialize_with = "nullable_list")]
    origins: Option<Vec<String>>,
}

fn nullable_list<'de, D: serde::Deserializer<'de>>(de: D) -> Result<Option<Vec<String>>, D::Error> {
    Option::<Vec<String>>::deserialize(de)
}

/// Sets the CORS allow-list of both listeners (for "an origin the emulator refuses" tests).
async fn set_cors(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<JsonBody<SetCors>, ApiError>,
) -> JsonResult {
    require_admin_key(&state, &headers)?;
    let JsonBody(body) = body?;
    *state
        .allowed_origins
        .write()
        .unwrap_or_else(|e| e.into_inner()) = body.origins.clone();
    Ok(Json(json!({ "success": true, "origins": body.origins })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetGatewayTtl {
    seconds: u64,
}

async fn get_gateway_ttl(State(state): State<AppState>, headers: HeaderMap) -> JsonResult {
    require_admin_key(&state, &headers)?;
    Ok(Json(
        json!({ "success": true, "seconds": state.gateway_token_ttl_secs() }),
    ))
}

/// The lifetime of gateway tokens minted from now on (tests of expiry without waiting an hour).
async fn set_gateway_ttl(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<JsonBody<SetGatewayTtl>, ApiError>,
) -> JsonResult {
    require_admin_key(&state, &headers)?;
    let JsonBody(body) = body?;
    if !(1..=86_400).contains(&body.seconds) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "validation_error",
            "seconds: must be between 1 and 86400",
        ));
    }
    state
        .gateway_token_ttl
        .store(body.seconds, Ordering::SeqCst);
    Ok(Json(json!({ "success": true, "seconds": body.seconds })))
}

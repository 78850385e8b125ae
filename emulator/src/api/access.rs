//! Internal API access: the seven endpoints of the reference page, mounted under both
//! `/workspace/{id}/internal-api-access` and `/workspace/{id}/runtime-api-access`.

use super::tokens::mint_scoped_token;
use super::workspaces::with_workspace;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::jwt::{gateway_token, TYP_WORKSPACE_ACCESS};
use crate::live::Interrupt;
use crate::state::{AppState, Scope, Workspace};
use crate::util::{iso8601, now_millis};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

/// The internal server's port inside the VM.
pub const INTERNAL_PORT: u16 = 9990;
/// The 30-day workspace access token.
const WORKSPACE_TOKEN_TTL: u64 = 30 * 24 * 3600;

type JsonResult = Result<Json<Value>, ApiError>;

fn require_enabled(w: &Workspace) -> Result<(), ApiError> {
    if w.access.enabled {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::CONFLICT,
            "internal_api_disabled",
            "The workspace's internal API server is disabled: enable it first",
        ))
    }
}

pub async fn status(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> JsonResult {
    let delay = state.provision_delay_ms();
    let json = with_workspace(&state, &principal, &id, |w| {
        json!({
            "success": true,
            "enabled": w.access.enabled,
            "running": w.access.enabled && w.is_ready(now_millis(), delay),
            "port": INTERNAL_PORT,
        })
    })?;
    Ok(Json(json))
}

pub async fn enable(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> JsonResult {
    let ttl = state.gateway_token_ttl_secs();
    let key = state.keys.gateway.clone();
    let token = with_workspace(&state, &principal, &id, |w| {
        w.access.enabled = true;
        if !w.ingress_ports.contains(&INTERNAL_PORT) {
            w.ingress_ports.push(INTERNAL_PORT);
        }
        w.updated_ms = now_millis();
        gateway_token(&w.id, w.access.generation, ttl, &key)
    })?;
    Ok(Json(
        json!({ "success": true, "enabled": true, "token": token }),
    ))
}

pub async fn disable(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> JsonResult {
    let live = with_workspace(&state, &principal, &id, |w| {
        let was = w.access.enabled;
        w.access.enabled = false;
        w.updated_ms = now_millis();
        was.then(|| w.live.clone())
    })?;
    // The internal server is off: its socket closes (terminals keep running in the VM).
    if let Some(live) = live {
        live.interrupt(Interrupt::Disabled);
    }
    Ok(Json(json!({ "success": true, "enabled": false })))
}

/// `GET …/token`: a gateway JWT for the current connection token (earlier ones stay valid).
pub async fn read_token(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> JsonResult {
    let ttl = state.gateway_token_ttl_secs();
    let key = state.keys.gateway.clone();
    let token = with_workspace(&state, &principal, &id, |w| {
        require_enabled(w).map(|_| gateway_token(&w.id, w.access.generation, ttl, &key))
    })??;
    Ok(Json(json!({ "success": true, "token": token })))
}

/// `POST …/token` and `POST …/reconnect`: new connection token, so every earlier gateway JWT dies,
/// and the workspace's WebSocket is closed (4001 `token_rotated`): it was opened with a token
/// that no longer works. Terminals and watchers live on for the next socket.
async fn rotate(state: AppState, principal: Principal, id: String) -> JsonResult {
    let ttl = state.gateway_token_ttl_secs();
    let key = state.keys.gateway.clone();
    let (token, live) = with_workspace(&state, &principal, &id, |w| {
        require_enabled(w).map(|_| {
            w.rotate_connection_token();
            (
                gateway_token(&w.id, w.access.generation, ttl, &key),
                w.live.clone(),
            )
        })
    })??;
    live.interrupt(Interrupt::Rotated);
    Ok(Json(json!({ "success": true, "token": token })))
}

pub async fn rotate_token(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> JsonResult {
    rotate(state, principal, id).await
}

/// Reconnect: a rotation, which also closes the workspace's WebSocket.
pub async fn reconnect(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> JsonResult {
    rotate(state, principal, id).await
}

pub async fn raw_token(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> JsonResult {
    let json = with_workspace(&state, &principal, &id, |w| {
        require_enabled(w).map(|_| {
            json!({
                "success": true,
                "token": w.access.connection_token,
                "ip": w.access.private_ip,
                "port": INTERNAL_PORT,
            })
        })
    })??;
    Ok(Json(json))
}

/// `POST …/workspace`: a 30-day workspace-scoped API token (it works wherever a workspace-scoped
/// token works; it is not bound to the connection token).
///
/// Who may call it: by default whoever may reach the workspace, as the Scoped Tokens page's
/// tables say ("access workspace in own namespace: allowed", "access bound workspace: allowed
/// (all sub-resources)"). That lets a 15-minute scoped token mint a 30-day one (docs/SECURITY.md);
/// `--strict-workspace-tokens` keeps it to admin API keys.
pub async fn workspace_token(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> JsonResult {
    with_workspace(&state, &principal, &id, |_| ())?;
    if state.config.strict_workspace_tokens {
        principal.require_admin().map_err(|_| {
            ApiError::scope_denied(format!(
                "Only an admin API key may mint a 30-day workspace token on this server \
                 (--strict-workspace-tokens); this credential is {}-scoped",
                principal.scope.name()
            ))
        })?;
    }
    let (token, exp) = mint_scoped_token(
        &state,
        &Scope::Workspace(id),
        WORKSPACE_TOKEN_TTL,
        None,
        TYP_WORKSPACE_ACCESS,
    );
    Ok(Json(
        json!({ "success": true, "token": token, "expiresAt": iso8601(exp * 1000) }),
    ))
}

//! `POST /tokens`: short-lived scoped JWTs, exactly as the Scoped Tokens page specifies.

use crate::auth::Principal;
use crate::body::JsonBody;
use crate::error::ApiError;
use crate::jwt::{self, ScopedClaims, ISSUER, TYP_SCOPED};
use crate::state::{AppState, Scope};
use crate::util::{iso8601, now_secs};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

pub const MIN_TTL: u64 = 1;
pub const MAX_TTL: u64 = 3600;
pub const DEFAULT_TTL: u64 = 900;

#[derive(Deserialize)]
pub struct CreateToken {
    scope: Option<String>,
    namespace: Option<String>,
    #[serde(rename = "workspaceId")]
    workspace_id: Option<String>,
    ttl: Option<u64>,
    label: Option<String>,
}

pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    body: Result<JsonBody<CreateToken>, ApiError>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    principal.require_admin()?;
    let JsonBody(body) = body?;
    let ttl = body.ttl.unwrap_or(DEFAULT_TTL);
    if !(MIN_TTL..=MAX_TTL).contains(&ttl) {
        return Err(ApiError::validation(
            "ttl",
            format!("must be between {MIN_TTL} and {MAX_TTL} seconds"),
        ));
    }
    if let Some(label) = &body.label {
        if label.chars().count() > 200 {
            return Err(ApiError::validation(
                "label",
                "must be at most 200 characters",
            ));
        }
    }
    let scope = match body.scope.as_deref() {
        Some("namespace") => {
            let ns = body.namespace.filter(|n| !n.is_empty()).ok_or_else(|| {
                ApiError::validation("namespace", "is required when scope is 'namespace'")
            })?;
            // Bind to the slug even when the caller named the namespace by id.
            let slug = state
                .store()
                .namespace(&ns)
                .map(|n| n.slug.clone())
                .ok_or_else(|| {
                    ApiError::validation("namespace", format!("namespace '{ns}' does not exist"))
                })?;
            Scope::Namespace(slug)
        }
        Some("workspace") => {
            let ws = body.workspace_id.filter(|w| !w.is_empty()).ok_or_else(|| {
                ApiError::validation("workspaceId", "is required when scope is 'workspace'")
            })?;
            if state.store().workspace(&ws).is_none() {
                return Err(ApiError::validation(
                    "workspaceId",
                    format!("workspace '{ws}' does not exist"),
                ));
            }
            Scope::Workspace(ws)
        }
        Some(other) => {
            return Err(ApiError::validation(
                "scope",
                format!("must be 'namespace' or 'workspace', got '{other}'"),
            ))
        }
        None => return Err(ApiError::validation("scope", "is required")),
    };
    let (token, exp) = mint_scoped_token(&state, &scope, ttl, body.label, TYP_SCOPED);
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "success": true,
            "token": token,
            "expiresAt": iso8601(exp * 1000),
            "scope": scope.name(),
            "ttl": ttl,
        })),
    ))
}

/// Signs an API token for `scope` (namespace or workspace); returns it with its `exp`.
pub fn mint_scoped_token(
    state: &AppState,
    scope: &Scope,
    ttl: u64,
    label: Option<String>,
    typ: &str,
) -> (String, u64) {
    let iat = now_secs();
    let exp = iat + ttl;
    let (namespace, workspace_id) = match scope {
        Scope::Namespace(ns) => (Some(ns.clone()), None),
        Scope::Workspace(ws) => (None, Some(ws.clone())),
        _ => (None, None),
    };
    let claims = ScopedClaims {
        iat,
        exp,
        scope: scope.name().to_string(),
        namespace,
        workspace_id,
        label,
        jti: jwt::new_jti(),
        iss: ISSUER.to_string(),
        typ: typ.to_string(),
    };
    (jwt::sign(&claims, &state.keys.api), exp)
}

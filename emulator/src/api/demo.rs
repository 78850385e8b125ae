//! `POST /demo/session` (only with `--demo`): plays the SaaS backend of the Scoped Tokens page's
//! flow. It creates the tenant's namespace when missing and mints a short-lived namespace token
//! server-side, so the demo page never sees the admin secret.

use super::tokens::{mint_scoped_token, MAX_TTL};
use crate::body::parse_json;
use crate::error::ApiError;
use crate::jwt::TYP_SCOPED;
use crate::state::{AppState, Namespace, ResourceLimits, Scope};
use crate::util::{iso8601, now_millis, random_hex, slugify};
use axum::extract::State;
use axum::Json;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize, Default)]
pub struct DemoSession {
    tenant: Option<String>,
    ttl: Option<u64>,
}

pub async fn session(State(state): State<AppState>, body: Bytes) -> Result<Json<Value>, ApiError> {
    // An empty body means the defaults.
    let body: DemoSession = if body.iter().all(u8::is_ascii_whitespace) {
        DemoSession::default()
    } else {
        parse_json(&body)?
    };
    let tenant = body.tenant.unwrap_or_else(|| "acme".to_string());
    let slug = slugify(&tenant);
    if tenant.is_empty() || slug != tenant || tenant.len() > 40 {
        return Err(ApiError::validation(
            "tenant",
            "must be 1 to 40 lowercase letters, digits and dashes",
        ));
    }
    let ttl = body.ttl.unwrap_or(state.config.demo_token_ttl_secs);
    if !(10..=MAX_TTL).contains(&ttl) {
        return Err(ApiError::validation(
            "ttl",
            format!("must be between 10 and {MAX_TTL}"),
        ));
    }
    {
        let mut store = state.store();
        if store.namespace(&slug).is_none() {
            let now = now_millis();
            store.namespaces.push(Namespace {
                id: format!("ns_{}", random_hex(8)),
                name: format!("Demo tenant {tenant}"),
                slug: slug.clone(),
                description: Some("Created by the emulator's demo backend".to_string()),
                kind: "development".to_string(),
                resource_limits: ResourceLimits {
                    max_workspaces: Some(5),
                    ..ResourceLimits::default()
                },
                created_ms: now,
                updated_ms: now,
            });
        }
    }
    let label = format!("demo-user@{slug}");
    let scope = Scope::Namespace(slug.clone());
    let (token, exp) = mint_scoped_token(&state, &scope, ttl, Some(label.clone()), TYP_SCOPED);
    Ok(Json(json!({
        "success": true,
        "token": token,
        "expiresAt": iso8601(exp * 1000),
        "scope": "namespace",
        "namespace": slug,
        "label": label,
        "ttl": ttl,
    })))
}

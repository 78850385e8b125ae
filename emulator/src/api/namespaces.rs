//! `/namespaces`: tenants. Admin only, as every non-workspace resource is.

use crate::auth::Principal;
use crate::body::{query_map, query_u32, JsonBody};
use crate::error::ApiError;
use crate::state::{AppState, Namespace, ResourceLimits};
use crate::util::{now_millis, random_hex, slugify};
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
pub struct CreateNamespace {
    name: String,
    slug: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    description: Option<String>,
    resource_limits: Option<ResourceLimits>,
}

pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    body: Result<JsonBody<CreateNamespace>, ApiError>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    principal.require_admin()?;
    let JsonBody(body) = body?;
    let name = body.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::validation("name", "must be 1 to 100 characters"));
    }
    let slug = match body.slug {
        Some(s) if slugify(&s) != s || s.is_empty() => {
            return Err(ApiError::validation(
                "slug",
                "must be lowercase letters, digits and single dashes",
            ))
        }
        Some(s) => s,
        None => slugify(&name),
    };
    if slug.is_empty() {
        return Err(ApiError::validation(
            "name",
            "must contain a letter or digit",
        ));
    }
    let now = now_millis();
    let namespace = Namespace {
        id: format!("ns_{}", random_hex(8)),
        name,
        slug,
        description: body.description,
        kind: body.kind.unwrap_or_else(|| "default".to_string()),
        resource_limits: body.resource_limits.unwrap_or_default(),
        created_ms: now,
        updated_ms: now,
    };
    let mut store = state.store();
    if store.namespace(&namespace.slug).is_some() {
        return Err(ApiError::conflict(format!(
            "namespace '{}' already exists",
            namespace.slug
        )));
    }
    let data = namespace.to_json();
    store.namespaces.push(namespace);
    Ok((
        StatusCode::CREATED,
        Json(json!({ "success": true, "data": data })),
    ))
}

pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    principal.require_admin()?;
    let query = query_map(query.as_deref());
    let limit = query_u32(&query, "limit", 1, 100)?.unwrap_or(50) as usize;
    let offset = query_u32(&query, "offset", 0, u32::MAX)?.unwrap_or(0) as usize;
    let store = state.store();
    let data: Vec<Value> = store
        .namespaces
        .iter()
        .skip(offset)
        .take(limit)
        .map(Namespace::to_json)
        .collect();
    Ok(Json(json!({
        "success": true,
        "data": data,
        "pagination": { "total": store.namespaces.len(), "limit": limit, "offset": offset },
    })))
}

pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    principal.require_admin()?;
    let store = state.store();
    let ns = store
        .namespace(&id)
        .ok_or_else(|| ApiError::not_found(format!("namespace '{id}' not found")))?;
    Ok(Json(json!({ "success": true, "data": ns.to_json() })))
}

/// Deletes a namespace and its workspaces; tokens bound to it stop working.
pub async fn delete(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    principal.require_admin()?;
    let mut store = state.store();
    let slug = store
        .namespace(&id)
        .map(|n| n.slug.clone())
        .ok_or_else(|| ApiError::not_found(format!("namespace '{id}' not found")))?;
    store.namespaces.retain(|n| n.slug != slug);
    let mut ended = Vec::new();
    store.workspaces.retain(|w| {
        let keep = w.namespace.as_deref() != Some(slug.as_str());
        if !keep {
            ended.push(w.live.clone());
        }
        keep
    });
    drop(store);
    for live in ended {
        live.interrupt(crate::live::Interrupt::Deleted);
    }
    Ok(Json(
        json!({ "success": true, "deleted": true, "slug": slug }),
    ))
}

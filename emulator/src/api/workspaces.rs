//! `/workspace`: list, create, get, delete, start/stop/restart, with scope enforcement.

use crate::auth::Principal;
use crate::body::{query_map, query_u32, JsonBody};
use crate::error::ApiError;
use crate::gateway::files::FileTree;
use crate::live::{Interrupt, Live};
use crate::state::{AppState, Lifecycle, Resources, RuntimeAccess, Store, Workspace};
use crate::util::{now_millis, random_hex, slugify};
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;

pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let filter = principal.list_filter()?;
    let query = query_map(query.as_deref());
    let page = query_u32(&query, "page", 1, 1_000_000)?.unwrap_or(1);
    let limit = query_u32(&query, "limit", 1, 100)?.unwrap_or(20);
    let status = query.get("status").filter(|s| !s.is_empty());
    let now = now_millis();
    let delay = state.provision_delay_ms();
    let store = state.store();
    // Newest first, as the dashboard shows them.
    let matching: Vec<&Workspace> = store
        .workspaces
        .iter()
        .rev()
        .filter(|w| filter.is_none_or(|ns| w.namespace.as_deref() == Some(ns)))
        .filter(|w| status.is_none_or(|s| w.phase(now, delay).0 == s))
        .collect();
    let start = (page as usize - 1).saturating_mul(limit as usize);
    let workspaces: Vec<Value> = matching
        .iter()
        .skip(start)
        .take(limit as usize)
        .map(|w| w.to_json(now, delay))
        .collect();
    Ok(Json(json!({
        "success": true,
        "workspaces": workspaces,
        "total": matching.len(),
        "page": page,
        "limit": limit,
    })))
}

#[derive(Deserialize)]
pub struct CreateWorkspace {
    image: String,
    name: Option<String>,
    slug: Option<String>,
    namespace: Option<String>,
    mode: Option<String>,
    idempotency_key: Option<String>,
    wait_ready: Option<bool>,
    ready_timeout_seconds: Option<u64>,
    config: Option<WorkspaceConfig>,
}

#[derive(Deserialize, Default)]
pub struct WorkspaceConfig {
    cpus: Option<f64>,
    memory_mb: Option<u64>,
    disk_size_mb: Option<u64>,
    /// Checked for type (an object of strings); the emulator runs nothing that would read it.
    #[serde(rename = "env")]
    _env: Option<BTreeMap<String, String>>,
}

pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    body: Result<JsonBody<CreateWorkspace>, ApiError>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let forced_namespace = principal.create_namespace()?.map(str::to_string);
    let JsonBody(body) = body?;
    let image = body.image.trim().to_string();
    if image.is_empty() || image.len() > 200 {
        return Err(ApiError::validation("image", "must be 1 to 200 characters"));
    }
    let mode = body.mode.unwrap_or_else(|| "permanent".to_string());
    if mode != "permanent" && mode != "temporary" {
        return Err(ApiError::validation(
            "mode",
            "must be 'permanent' or 'temporary'",
        ));
    }
    let config = body.config.unwrap_or_default();
    let resources = Resources {
        cpus: check_range("config.cpus", config.cpus.unwrap_or(1.0), 0.25, 64.0)?,
        memory_mb: check_range(
            "config.memory_mb",
            config.memory_mb.unwrap_or(1024),
            128,
            262_144,
        )?,
        disk_size_mb: check_range(
            "config.disk_size_mb",
            config.disk_size_mb.unwrap_or(4096),
            512,
            1_048_576,
        )?,
    };
    let name = body
        .name
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| format!("{}-{}", slugify(&image), random_hex(2)));
    if name.chars().count() > 100 {
        return Err(ApiError::validation(
            "name",
            "must be at most 100 characters",
        ));
    }
    let slug = body.slug.unwrap_or_else(|| slugify(&name));
    let now = now_millis();
    let wait = body.wait_ready.unwrap_or(false);
    let timeout = Duration::from_secs(body.ready_timeout_seconds.unwrap_or(120).min(600));

    let (status, workspace_json, id) = {
        let mut store = state.store();
        // A scoped credential's namespace wins over anything in the body: scope cannot widen.
        let namespace = match forced_namespace {
            Some(ns) => Some(ns),
            None => match body.namespace.filter(|n| !n.is_empty()) {
                Some(ns) => Some(store.namespace(&ns).map(|n| n.slug.clone()).ok_or_else(
                    || {
                        ApiError::validation(
                            "namespace",
                            format!("namespace '{ns}' does not exist"),
                        )
                    },
                )?),
                None => None,
            },
        };
        if let Some(key) = &body.idempotency_key {
            if let Some(existing) = store
                .workspaces
                .iter()
                .find(|w| w.idempotency_key.as_deref() == Some(key) && w.namespace == namespace)
            {
                let json = existing.to_json(now, state.provision_delay_ms());
                return Ok((
                    StatusCode::OK,
                    Json(json!({ "success": true, "workspace": json })),
                ));
            }
        }
        if let Some(ns) = &namespace {
            check_namespace_limits(&store, ns, &resources)?;
        }
        let private_ip = store.allocate_ip();
        let live = Live::new();
        let files = FileTree::seeded();
        let workspace = Workspace {
            id: format!("ws_{}", random_hex(6)),
            name,
            slug,
            image,
            namespace,
            mode,
            resources,
            ingress_ports: Vec::new(),
            lifecycle: Lifecycle::Provisioning,
            phase_started_ms: now,
            created_ms: now,
            updated_ms: now,
            idempotency_key: body.idempotency_key,
            access: RuntimeAccess {
                enabled: false,
                connection_token: random_hex(32),
                generation: 1,
                private_ip,
            },
            files,
            live,
            exec: Default::default(),
        };
        let json = workspace.to_json(now, state.provision_delay_ms());
        let id = workspace.id.clone();
        store.workspaces.push(workspace);
        (StatusCode::CREATED, json, id)
    };
    if !wait {
        return Ok((
            status,
            Json(json!({ "success": true, "workspace": workspace_json })),
        ));
    }
    // `wait_ready`: hold the response until provisioning is done (or the timeout).
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let snapshot = {
            let store = state.store();
            store.workspace(&id).map(|w| {
                let now = now_millis();
                (
                    w.is_ready(now, state.provision_delay_ms()),
                    w.to_json(now, state.provision_delay_ms()),
                )
            })
        };
        match snapshot {
            Some((ready, json)) if ready || tokio::time::Instant::now() >= deadline => {
                return Ok((status, Json(json!({ "success": true, "workspace": json }))));
            }
            Some(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            None => return Err(ApiError::not_found(format!("workspace '{id}' was deleted"))),
        }
    }
}

fn check_range<T: PartialOrd + std::fmt::Display + Copy>(
    field: &str,
    value: T,
    min: T,
    max: T,
) -> Result<T, ApiError> {
    if value >= min && value <= max {
        Ok(value)
    } else {
        Err(ApiError::validation(
            field,
            format!("must be between {min} and {max}"),
        ))
    }
}

/// `resource_limits` of the namespace: workspace count, vCPUs and RAM across its workspaces.
fn check_namespace_limits(store: &Store, slug: &str, new: &Resources) -> Result<(), ApiError> {
    let Some(ns) = store.namespace(slug) else {
        return Err(ApiError::scope_denied(
            "The credential's namespace no longer exists",
        ));
    };
    let limits = &ns.resource_limits;
    let members = store
        .workspaces
        .iter()
        .filter(|w| w.namespace.as_deref() == Some(slug));
    let limit_error = |what: &str, current: u64, max: u32| {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "NAMESPACE_LIMIT_REACHED",
            format!("Namespace '{slug}' has reached its {what} limit ({current}/{max})"),
        )
        .with("current", current)
        .with("max", max)
        .with("limit", what)
    };
    if let Some(max) = limits.max_workspaces {
        let current = store.count_in_namespace(slug) as u64;
        if current >= u64::from(max) {
            return Err(limit_error("max_workspaces", current, max));
        }
    }
    if let Some(max) = limits.max_vcpus {
        let used: f64 = members.clone().map(|w| w.resources.cpus).sum();
        if used + new.cpus > f64::from(max) {
            return Err(limit_error("max_vcpus", used.ceil() as u64, max));
        }
    }
    if let Some(max) = limits.max_ram_mb {
        let used: u64 = members.map(|w| w.resources.memory_mb).sum();
        if used + new.memory_mb > u64::from(max) {
            return Err(limit_error("max_ram_mb", used, max));
        }
    }
    Ok(())
}

/// Looks up a workspace the principal may reach; 403 outside its scope, 404 when missing.
pub fn with_workspace<R>(
    state: &AppState,
    principal: &Principal,
    id: &str,
    f: impl FnOnce(&mut Workspace) -> R,
) -> Result<R, ApiError> {
    principal.precheck_workspace(id)?;
    let mut store = state.store();
    let workspace = store
        .workspace_mut(id)
        .ok_or_else(|| ApiError::not_found(format!("workspace '{id}' not found")))?;
    principal.check_workspace(workspace)?;
    Ok(f(workspace))
}

pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let delay = state.provision_delay_ms();
    let json = with_workspace(&state, &principal, &id, |w| w.to_json(now_millis(), delay))?;
    Ok(Json(json!({ "success": true, "workspace": json })))
}

pub async fn delete(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let live = with_workspace(&state, &principal, &id, |w| w.live.clone())?;
    state.store().workspaces.retain(|w| w.id != id);
    live.interrupt(Interrupt::Deleted);
    Ok(Json(json!({ "success": true, "deleted": true, "id": id })))
}

async fn transition(
    state: AppState,
    principal: Principal,
    id: String,
    to: Lifecycle,
    restart: bool,
) -> Result<Json<Value>, ApiError> {
    let delay = state.provision_delay_ms();
    let (json, ended) = with_workspace(&state, &principal, &id, |w| {
        let now = now_millis();
        // `start` on a workspace that is not stopped changes nothing.
        if to == Lifecycle::Provisioning && !restart && w.lifecycle != Lifecycle::Stopped {
            return (w.to_json(now, delay), None);
        }
        // Stop and restart end the VM's processes: exec tasks, its socket, terminals, watchers,
        // streams.
        let ends = (to == Lifecycle::Stopped || restart) && w.lifecycle != Lifecycle::Stopped;
        if to == Lifecycle::Stopped || restart {
            w.exec.kill_all();
        }
        w.lifecycle = to;
        w.phase_started_ms = now;
        w.updated_ms = now;
        (w.to_json(now, delay), ends.then(|| w.live.clone()))
    })?;
    if let Some(live) = ended {
        live.interrupt(Interrupt::Stopped);
    }
    Ok(Json(json!({ "success": true, "workspace": json })))
}

pub async fn start(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    transition(state, principal, id, Lifecycle::Provisioning, false).await
}

pub async fn stop(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    transition(state, principal, id, Lifecycle::Stopped, false).await
}

pub async fn restart(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    transition(state, principal, id, Lifecycle::Provisioning, true).await
}

/// `GET /workspace/{id}/stats` (the Authentication page's example): simulated usage figures.
pub async fn stats(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let delay = state.provision_delay_ms();
    let json = with_workspace(&state, &principal, &id, |w| {
        let running = w.is_ready(now_millis(), delay);
        json!({
            "success": true,
            "stats": {
                "workspace_id": w.id,
                "running": running,
                "cpus": w.resources.cpus,
                "memory_mb": w.resources.memory_mb,
                "memory_used_mb": if running { w.resources.memory_mb / 8 } else { 0 },
                "disk_size_mb": w.resources.disk_size_mb,
            },
        })
    })?;
    Ok(Json(json))
}

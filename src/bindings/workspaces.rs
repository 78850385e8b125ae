//! `client.workspaces`: list, create, get, delete in the token's namespace.

use super::client::ClientInner;
use super::error::to_js;
use super::options::{get, signal_of};
use super::workspace_runtime::WorkspaceRuntime;
use crate::core::api;
use crate::core::error::{codes, ClientError};
use crate::core::runtime::Runtime;
use crate::core::token::TokenScope;
use js_sys::{Promise, Reflect, JSON};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

/// `client.workspaces`.
#[wasm_bindgen]
pub struct Workspaces {
    inner: Rc<ClientInner>,
}

fn invalid(message: &str) -> ClientError {
    ClientError::new(codes::INVALID_OPTIONS, message)
}

fn scope_denied(message: &str) -> ClientError {
    ClientError::new(codes::SCOPE_DENIED, message).with_status(403)
}

/// A positive integer option, or nothing.
fn positive_int(options: &JsValue, key: &str) -> Result<Option<String>, ClientError> {
    let value = get(options, key);
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    match value.as_f64() {
        Some(n) if n.is_finite() && n >= 1.0 && n.fract() == 0.0 && n <= 1e9 => {
            Ok(Some((n as u64).to_string()))
        }
        _ => Err(invalid(&format!("{key} must be a positive integer"))),
    }
}

/// Settles a promise from a future's result, turning `ClientError` into `OblienError`.
fn promise(
    fut: impl std::future::Future<Output = Result<JsValue, ClientError>> + 'static,
) -> Promise {
    future_to_promise(async move { fut.await.map_err(to_js) })
}

/// A workspace id this token may reach, and the call's signal.
fn reachable_target(
    inner: &ClientInner,
    id: &JsValue,
    options: &JsValue,
) -> Result<(String, Option<web_sys::AbortSignal>), ClientError> {
    let id = workspace_id(id)?;
    Workspaces::require_reach(inner, &id)?;
    let signal =
        signal_of(options).map_err(|_| invalid("options.signal must be an AbortSignal"))?;
    Ok((id, signal))
}

/// `{ success, workspace }` → the workspace.
fn unwrap_field(body: JsValue, field: &str) -> Result<JsValue, ClientError> {
    Reflect::get(&body, &JsValue::from_str(field))
        .ok()
        .filter(|v| v.is_object())
        .ok_or_else(|| {
            ClientError::new(
                codes::SERVER_ERROR,
                format!("The response has no '{field}' object"),
            )
        })
}

fn workspace_id(id: &JsValue) -> Result<String, ClientError> {
    id.as_string()
        .filter(|s| !s.is_empty() && s.len() <= 200)
        .ok_or_else(|| invalid("id must be a workspace id string"))
}

impl Workspaces {
    pub fn new(inner: Rc<ClientInner>) -> Self {
        Workspaces { inner }
    }

    /// Rejects locally, sending nothing, what a workspace-scoped token may not do.
    fn require_namespace_scope(&self, action: &str) -> Result<(), ClientError> {
        match self.inner.session_scope() {
            Some((TokenScope::Workspace, _)) => Err(scope_denied(&format!(
                "A workspace-scoped token cannot {action}"
            ))),
            _ => Ok(()),
        }
    }

    /// A workspace-scoped token reaches only its own workspace.
    pub fn require_reach(inner: &ClientInner, id: &str) -> Result<(), ClientError> {
        match inner.session_scope() {
            Some((TokenScope::Workspace, Some(bound))) if bound != id => Err(scope_denied(
                "This workspace-scoped token is bound to another workspace",
            )),
            _ => Ok(()),
        }
    }

    pub fn inner(&self) -> &Rc<ClientInner> {
        &self.inner
    }
}

#[wasm_bindgen]
impl Workspaces {
    /// Lists the workspaces the token may see (its namespace), newest first.
    #[wasm_bindgen(unchecked_return_type = "Promise<WorkspaceList>")]
    pub fn list(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "ListWorkspacesOptions")] options: Option<
            JsValue,
        >,
    ) -> Promise {
        let inner = self.inner.clone();
        let options = options.unwrap_or(JsValue::UNDEFINED);
        let scope = self.require_namespace_scope("list workspaces");
        promise(async move {
            scope?;
            let signal = signal_of(&options)
                .map_err(|_| invalid("options.signal must be an AbortSignal"))?;
            let (page, limit) = if options.is_object() {
                (
                    positive_int(&options, "page")?,
                    positive_int(&options, "limit")?,
                )
            } else {
                (None, None)
            };
            let status = if options.is_object() {
                let value = get(&options, "status");
                match value.as_string() {
                    Some(s) => Some(s),
                    None if value.is_undefined() || value.is_null() => None,
                    None => return Err(invalid("status must be a string")),
                }
            } else {
                None
            };
            let url = api::url(
                &inner.base_url,
                "/workspace",
                &[("page", page), ("limit", limit), ("status", status)],
            );
            inner.api(api::get(url), signal).await
        })
    }

    /// Creates a workspace; the server forces it into the token's namespace.
    #[wasm_bindgen(unchecked_return_type = "Promise<Workspace>")]
    pub fn create(
        &self,
        #[wasm_bindgen(unchecked_param_type = "CreateWorkspaceParams")] params: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] options: Option<JsValue>,
    ) -> Promise {
        let inner = self.inner.clone();
        let options = options.unwrap_or(JsValue::UNDEFINED);
        let scope = self.require_namespace_scope("create workspaces");
        promise(async move {
            scope?;
            let signal = signal_of(&options)
                .map_err(|_| invalid("options.signal must be an AbortSignal"))?;
            if !params.is_object() {
                return Err(invalid(
                    "create(params): params must be an object with an `image`",
                ));
            }
            if get(&params, "image")
                .as_string()
                .is_none_or(|s| s.trim().is_empty())
            {
                return Err(ClientError::new(
                    codes::VALIDATION_ERROR,
                    "image: is required (e.g. \"node-20\")",
                ));
            }
            let body = JSON::stringify(&params)
                .ok()
                .and_then(|s| s.as_string())
                .ok_or_else(|| invalid("create(params): params must be JSON-serialisable"))?;
            let url = api::url(&inner.base_url, "/workspace", &[]);
            unwrap_field(inner.api(api::post(url, body), signal).await?, "workspace")
        })
    }

    /// One workspace by id.
    #[wasm_bindgen(unchecked_return_type = "Promise<Workspace>")]
    pub fn get(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] options: Option<JsValue>,
    ) -> Promise {
        let inner = self.inner.clone();
        let options = options.unwrap_or(JsValue::UNDEFINED);
        promise(async move {
            let (id, signal) = reachable_target(&inner, &id, &options)?;
            let url = api::url(&inner.base_url, &api::workspace_path(&id, ""), &[]);
            unwrap_field(inner.api(api::get(url), signal).await?, "workspace")
        })
    }

    /// The workspace's runtime (files, exec) through the gateway. Mints the first gateway token
    /// and waits (bounded) while the workspace is still provisioning.
    #[wasm_bindgen(unchecked_return_type = "Promise<WorkspaceRuntime>")]
    pub fn runtime(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] options: Option<JsValue>,
    ) -> Promise {
        let inner = self.inner.clone();
        let options = options.unwrap_or(JsValue::UNDEFINED);
        promise(async move {
            let (id, signal) = reachable_target(&inner, &id, &options)?;
            let entry = inner.gateways.entry(&inner, &id);
            inner
                .guarded(signal.clone(), async {
                    entry.cell.acquire().await.map(|_| ())
                })
                .await?;
            wait_until_provisioned(&inner, &id, signal).await?;
            Ok(WorkspaceRuntime::new(inner.clone(), id).into())
        })
    }

    /// Deletes a workspace.
    #[wasm_bindgen(unchecked_return_type = "Promise<DeleteWorkspaceResult>")]
    pub fn delete(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] options: Option<JsValue>,
    ) -> Promise {
        let inner = self.inner.clone();
        let options = options.unwrap_or(JsValue::UNDEFINED);
        promise(async move {
            let (id, signal) = reachable_target(&inner, &id, &options)?;
            let url = api::url(&inner.base_url, &api::workspace_path(&id, ""), &[]);
            inner.api(api::delete(url), signal).await
        })
    }
}

/// Polls `GET /workspace/{id}` every 500 ms (up to 2 min) while it is still being created, so a
/// runtime is usable as soon as it is returned.
async fn wait_until_provisioned(
    inner: &Rc<ClientInner>,
    id: &str,
    signal: Option<web_sys::AbortSignal>,
) -> Result<(), ClientError> {
    let url = api::url(&inner.base_url, &api::workspace_path(id, ""), &[]);
    let deadline = inner.runtime.now_ms() + 120_000.0;
    loop {
        let body = inner.api(api::get(url.clone()), signal.clone()).await?;
        let workspace = get(&body, "workspace");
        let ready = get(&workspace, "ready").as_bool().unwrap_or(true);
        let creating = get(&workspace, "status")
            .as_string()
            .is_some_and(|s| s == "creating" || s == "provisioning");
        if ready || !creating || inner.runtime.now_ms() >= deadline {
            return Ok(());
        }
        inner
            .guarded(signal.clone(), async {
                inner.runtime.sleep(500.0).await;
                Ok(())
            })
            .await?;
    }
}

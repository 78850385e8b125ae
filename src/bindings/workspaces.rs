//! `client.workspaces`: list, create, get, delete in the token's namespace; start, stop, restart,
//! stats; `apiAccess`; and `runtime(id)`.

use super::api_access::ApiAccess;
use super::convert::{invalid, prepare, stringify, Options};
use super::error::promise;
use super::runtime::WorkspaceRuntime;
use super::session::{Session, SignalApi};
use crate::core::error::{codes, ClientError};
use crate::core::gateway::wait_until_provisioned;
use crate::core::workspace::Call;
use crate::core::{api, endpoint, scope};
use js_sys::Promise;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** `workspaces.stats(id)`: the workspace's usage, as the server sends it. */
export interface WorkspaceStats {
  success: true;
  stats: {
    workspace_id?: string;
    running?: boolean;
    cpus?: number;
    memory_mb?: number;
    memory_used_mb?: number;
    disk_size_mb?: number;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}
"#;

/// `client.workspaces`.
#[wasm_bindgen]
pub struct Workspaces {
    session: Rc<Session>,
}

impl Workspaces {
    pub fn new(session: Rc<Session>) -> Self {
        Workspaces { session }
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
        let session = &self.session;
        let prepared = session
            .claims()
            .and_then(|claims| scope::may_manage_namespace(&claims, "list workspaces"))
            .and_then(|()| prepare(&endpoint::WORKSPACES_LIST, &session.base_url, options))
            .map(|(request, signal)| (session.cell.clone(), request, signal));
        session.send_js(prepared, None, false)
    }

    /// Creates a workspace; the server forces it into the token's namespace.
    #[wasm_bindgen(unchecked_return_type = "Promise<Workspace>")]
    pub fn create(
        &self,
        #[wasm_bindgen(unchecked_param_type = "CreateWorkspaceParams")] params: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] options: Option<JsValue>,
    ) -> Promise {
        const CALL: &str = "workspaces.create(params, options)";
        let session = &self.session;
        let prepared = session
            .claims()
            .and_then(|claims| scope::may_manage_namespace(&claims, "create workspaces"))
            .and_then(|()| {
                let signal = Options::read(options, CALL)?.signal()?;
                let params_reader = Options::required(params, CALL)
                    .map_err(|_| invalid(CALL, "params", "an object with an `image`"))?;
                if params_reader
                    .get("image")
                    .as_string()
                    .is_none_or(|s| s.trim().is_empty())
                {
                    return Err(ClientError::new(
                        codes::VALIDATION_ERROR,
                        "image: is required (e.g. \"node-20\")",
                    ));
                }
                let body = stringify(params_reader.value(), CALL)?;
                let url = api::url(&session.base_url, "/workspace", &[]);
                Ok((session.cell.clone(), api::post(url, body), signal))
            });
        session.send_js(prepared, Some("workspace"), true)
    }

    /// One workspace by id.
    #[wasm_bindgen(unchecked_return_type = "Promise<Workspace>")]
    pub fn get(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] options: Option<JsValue>,
    ) -> Promise {
        self.session
            .on_workspace(&id, options, "workspaces.get(id, options)", Call::Get)
    }

    /// Starts a stopped workspace (`POST /workspace/{id}/start`); a running one is unchanged.
    /// Resolves as soon as the server accepts, with the workspace as it is then (`status` may
    /// still be `"creating"`): `runtime(id)` waits until it runs.
    #[wasm_bindgen(unchecked_return_type = "Promise<Workspace>")]
    pub fn start(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] options: Option<JsValue>,
    ) -> Promise {
        let call = "workspaces.start(id, options)";
        self.session.on_workspace(&id, options, call, Call::Start)
    }

    /// Stops a workspace (`POST /workspace/{id}/stop`). Until it is started again its runtime
    /// calls reject `workspace_not_running` (503, with `retryAfter`; never retried), and the
    /// server ends its open streams and sockets with that code.
    #[wasm_bindgen(unchecked_return_type = "Promise<Workspace>")]
    pub fn stop(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] options: Option<JsValue>,
    ) -> Promise {
        let call = "workspaces.stop(id, options)";
        self.session.on_workspace(&id, options, call, Call::Stop)
    }

    /// Restarts a workspace (`POST /workspace/{id}/restart`): its streams and sockets end, and
    /// runtime calls reject `workspace_not_running` until it runs again (`runtime(id)` waits).
    #[wasm_bindgen(unchecked_return_type = "Promise<Workspace>")]
    pub fn restart(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] options: Option<JsValue>,
    ) -> Promise {
        let call = "workspaces.restart(id, options)";
        self.session.on_workspace(&id, options, call, Call::Restart)
    }

    /// The workspace's current usage (`GET /workspace/{id}/stats`), as the server sends it.
    #[wasm_bindgen(unchecked_return_type = "Promise<WorkspaceStats>")]
    pub fn stats(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] options: Option<JsValue>,
    ) -> Promise {
        let call = "workspaces.stats(id, options)";
        self.session.on_workspace(&id, options, call, Call::Stats)
    }

    /// The workspace's internal API server and this client's gateway tokens for it.
    #[wasm_bindgen(getter = apiAccess)]
    pub fn api_access(&self) -> ApiAccess {
        ApiAccess::new(self.session.clone())
    }

    /// The workspace's runtime (files, exec, …) through the gateway. Mints the first gateway
    /// token, which enables the workspace's internal API server when it is disabled (as the
    /// official SDK does), and waits (up to 2 min) while the workspace is still provisioning.
    /// After this client's `apiAccess.disable(id)` it enables nothing: it rejects
    /// `internal_api_disabled` (nothing sent) until `apiAccess.enable(id)`.
    #[wasm_bindgen(unchecked_return_type = "Promise<WorkspaceRuntime>")]
    pub fn runtime(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] options: Option<JsValue>,
    ) -> Promise {
        let session = self.session.clone();
        let checked = session.reachable(&id, options, "workspaces.runtime(id, options)");
        promise(async move {
            let (id, signal) = checked?;
            let cell = session.gateways.cell(&id);
            let provisioned = async {
                cell.acquire().await?;
                let polls = SignalApi {
                    session: session.clone(),
                    signal: signal.clone(),
                };
                wait_until_provisioned(&polls, &*session.platform, &session.base_url, &id).await
            };
            session.guarded(signal.clone(), provisioned).await?;
            Ok(WorkspaceRuntime::new(session.clone(), id, cell).into())
        })
    }

    /// Deletes a workspace; its gateway token is forgotten.
    #[wasm_bindgen(unchecked_return_type = "Promise<DeleteWorkspaceResult>")]
    pub fn delete(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] options: Option<JsValue>,
    ) -> Promise {
        let call = "workspaces.delete(id, options)";
        self.session.on_workspace(&id, options, call, Call::Delete)
    }
}

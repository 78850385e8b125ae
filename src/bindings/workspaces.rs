//! `client.workspaces`: list, create, get, delete in the token's namespace, and `runtime(id)`.

use super::convert::{parse_json, stringify, workspace_id, Options};
use super::error::promise;
use super::runtime::WorkspaceRuntime;
use super::session::Session;
use crate::core::error::{codes, ClientError};
use crate::core::gateway::{wait_until_provisioned, ApiCall};
use crate::core::request::field_object;
use crate::core::runtime::{HttpRequest, LocalFuture};
use crate::core::{api, scope};
use js_sys::Promise;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use web_sys::AbortSignal;

/// `client.workspaces`.
#[wasm_bindgen]
pub struct Workspaces {
    session: Rc<Session>,
}

/// A workspace this token may reach, and the call's options.
fn reachable(
    session: &Session,
    id: &JsValue,
    options: Option<JsValue>,
    call: &'static str,
) -> Result<(String, Option<AbortSignal>), ClientError> {
    let id = workspace_id(id, call)?;
    scope::may_reach(&session.claims()?, &id)?;
    let signal = Options::read(options, call)?.signal()?;
    Ok((id, signal))
}

impl Workspaces {
    pub fn new(session: Rc<Session>) -> Self {
        Workspaces { session }
    }

    fn workspace_url(&self, id: &str, rest: &str) -> String {
        api::url(&self.session.base_url, &api::workspace_path(id, rest), &[])
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
        const CALL: &str = "workspaces.list(options)";
        let session = self.session.clone();
        promise(async move {
            scope::may_manage_namespace(&session.claims()?, "list workspaces")?;
            let options = Options::read(options, CALL)?;
            let signal = options.signal()?;
            let number = |key| {
                options
                    .integer(key, 1.0, 1e9)
                    .map(|n| n.map(|n| n.to_string()))
            };
            let query = [
                ("page", number("page")?),
                ("limit", number("limit")?),
                ("status", options.string("status")?),
            ];
            let url = api::url(&session.base_url, "/workspace", &query);
            session.api_js(api::get(url), signal).await
        })
    }

    /// Creates a workspace; the server forces it into the token's namespace.
    #[wasm_bindgen(unchecked_return_type = "Promise<Workspace>")]
    pub fn create(
        &self,
        #[wasm_bindgen(unchecked_param_type = "CreateWorkspaceParams")] params: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] options: Option<JsValue>,
    ) -> Promise {
        const CALL: &str = "workspaces.create(params, options)";
        let session = self.session.clone();
        promise(async move {
            scope::may_manage_namespace(&session.claims()?, "create workspaces")?;
            let signal = Options::read(options, CALL)?.signal()?;
            let params_reader = Options::required(params, CALL).map_err(|_| {
                super::convert::invalid(CALL, "params", "an object with an `image`")
            })?;
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
            let text = session.api(api::post(url, body), signal).await?;
            parse_json(&field_object(&text, "workspace")?)
        })
    }

    /// One workspace by id.
    #[wasm_bindgen(unchecked_return_type = "Promise<Workspace>")]
    pub fn get(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] options: Option<JsValue>,
    ) -> Promise {
        let session = self.session.clone();
        let checked = reachable(&session, &id, options, "workspaces.get(id, options)");
        let url = checked
            .as_ref()
            .map(|(id, _)| self.workspace_url(id, ""))
            .ok();
        promise(async move {
            let (_, signal) = checked?;
            let text = session
                .api(api::get(url.unwrap_or_default()), signal)
                .await?;
            parse_json(&field_object(&text, "workspace")?)
        })
    }

    /// The workspace's runtime (files, exec, …) through the gateway. Mints the first gateway
    /// token, which enables the workspace's internal API server when it is disabled (as the
    /// official SDK does), and waits (up to 2 min) while the workspace is still provisioning.
    #[wasm_bindgen(unchecked_return_type = "Promise<WorkspaceRuntime>")]
    pub fn runtime(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] options: Option<JsValue>,
    ) -> Promise {
        let session = self.session.clone();
        let checked = reachable(&session, &id, options, "workspaces.runtime(id, options)");
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
        let session = self.session.clone();
        let checked = reachable(&session, &id, options, "workspaces.delete(id, options)");
        let url = checked
            .as_ref()
            .map(|(id, _)| self.workspace_url(id, ""))
            .ok();
        promise(async move {
            let (id, signal) = checked?;
            let result = session
                .api_js(api::delete(url.unwrap_or_default()), signal)
                .await;
            if result.is_ok() || result.as_ref().is_err_and(|e| e.status == Some(404)) {
                session.gateways.forget(&id);
            }
            result
        })
    }
}

/// Control-plane calls with the session token and one call's signal.
struct SignalApi {
    session: Rc<Session>,
    signal: Option<AbortSignal>,
}

impl ApiCall for SignalApi {
    fn call(&self, request: HttpRequest) -> LocalFuture<Result<String, ClientError>> {
        let session = self.session.clone();
        let signal = self.signal.clone();
        Box::pin(async move { session.api(request, signal).await })
    }
}

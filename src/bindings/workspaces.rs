//! `client.workspaces` (js/views.js `Workspaces`, and its `apiAccess`): list, create, get,
//! delete in the token's namespace; start, stop, restart, stats; `apiAccess`; and `runtime(id)`.
//! The views forward every method to [`run`] as a number.

use super::call;
use super::convert::{invalid, prepare, stringify, Options};
use super::error::or_rejected;
use super::runtime;
use super::session::Session;
use super::views::opt;
use crate::core::error::{codes, ClientError};
use crate::core::gateway::Access;
use crate::core::workspace::Call;
use crate::core::{api, endpoint, scope};
use alloc::rc::Rc;
use js_sys::Promise;
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
/**
 * `client.workspaces`.
 */
export class Workspaces {
    private constructor();
    free(): void;
    [Symbol.dispose](): void;
    /**
     * Creates a workspace; the server forces it into the token's namespace.
     */
    create(params: CreateWorkspaceParams, options?: CallOptions): Promise<Workspace>;
    /**
     * Deletes a workspace; its gateway token is forgotten.
     */
    delete(id: string, options?: CallOptions): Promise<DeleteWorkspaceResult>;
    /**
     * One workspace by id.
     */
    get(id: string, options?: CallOptions): Promise<Workspace>;
    /**
     * Lists the workspaces the token may see (its namespace), newest first.
     */
    list(options?: ListWorkspacesOptions): Promise<WorkspaceList>;
    /**
     * Restarts a workspace (`POST /workspace/{id}/restart`): its streams and sockets end, and
     * runtime calls reject `workspace_not_running` until it runs again (`runtime(id)` waits).
     */
    restart(id: string, options?: CallOptions): Promise<Workspace>;
    /**
     * The workspace's runtime (files, exec, …) through the gateway. Mints the first gateway
     * token, which enables the workspace's internal API server when it is disabled (as the
     * official SDK does), and waits (up to 2 min) while the workspace is still provisioning.
     * After this client's `apiAccess.disable(id)` it enables nothing: it rejects
     * `internal_api_disabled` (nothing sent) until `apiAccess.enable(id)`.
     */
    runtime(id: string, options?: CallOptions): Promise<WorkspaceRuntime>;
    /**
     * Starts a stopped workspace (`POST /workspace/{id}/start`); a running one is unchanged.
     * Resolves as soon as the server accepts, with the workspace as it is then (`status` may
     * still be `"creating"`): `runtime(id)` waits until it runs.
     */
    start(id: string, options?: CallOptions): Promise<Workspace>;
    /**
     * The workspace's current usage (`GET /workspace/{id}/stats`), as the server sends it.
     */
    stats(id: string, options?: CallOptions): Promise<WorkspaceStats>;
    /**
     * Stops a workspace (`POST /workspace/{id}/stop`). Until it is started again its runtime
     * calls reject `workspace_not_running` (503, with `retryAfter`; never retried), and the
     * server ends its open streams and sockets with that code.
     */
    stop(id: string, options?: CallOptions): Promise<Workspace>;
    /**
     * The workspace's internal API server and this client's gateway tokens for it.
     */
    readonly apiAccess: ApiAccess;
}
"#;

/// The calls on one workspace, from op 5 on (js/views.js): the name their errors give, and what
/// they do (`core::workspace::Call`).
const ON_WORKSPACE: [(&str, Call); 11] = [
    ("workspaces.get(id, options)", Call::Get),
    ("workspaces.start(id, options)", Call::Start),
    ("workspaces.stop(id, options)", Call::Stop),
    ("workspaces.restart(id, options)", Call::Restart),
    ("workspaces.stats(id, options)", Call::Stats),
    ("workspaces.delete(id, options)", Call::Delete),
    (
        "apiAccess.status(id, options)",
        Call::Access(Access::Status),
    ),
    (
        "apiAccess.enable(id, options)",
        Call::Access(Access::Enable),
    ),
    (
        "apiAccess.disable(id, options)",
        Call::Access(Access::Disable),
    ),
    (
        "apiAccess.rotateToken(id, options)",
        Call::Access(Access::RotateToken),
    ),
    (
        "apiAccess.reconnect(id, options)",
        Call::Access(Access::Reconnect),
    ),
];

/// What `Workspaces` and `ApiAccess` ask (js/views.js): the method `op` with its arguments.
pub fn run(session: &Rc<Session>, op: u32, a: JsValue, b: JsValue, _: JsValue) -> JsValue {
    let workspaces = Workspaces::new(session.clone());
    match op {
        2 => workspaces.list(opt(a)),
        3 => workspaces.create(a, opt(b)),
        4 => workspaces.runtime(a, opt(b)),
        _ => match (op as usize)
            .checked_sub(5)
            .and_then(|i| ON_WORKSPACE.get(i))
        {
            Some(&(name, on)) => call::on_workspace(session, &a, opt(b), name, on),
            None => return JsValue::UNDEFINED,
        },
    }
    .into()
}

/// `client.workspaces` on the Rust side (and in `tests/bindings.rs`).
pub struct Workspaces {
    session: Rc<Session>,
}

impl Workspaces {
    pub fn new(session: Rc<Session>) -> Self {
        Workspaces { session }
    }

    /// Lists the workspaces the token may see (its namespace), newest first.
    pub fn list(&self, options: Option<JsValue>) -> Promise {
        let session = &self.session;
        let prepared = session
            .claims()
            .and_then(|claims| scope::may_manage_namespace(&claims, "list workspaces"))
            .and_then(|()| prepare(&endpoint::WORKSPACES_LIST, &session.base_url, options))
            .map(|(request, signal)| (session.cell.clone(), request, signal));
        call::send_js(session, prepared, None, false)
    }

    /// Creates a workspace; the server forces it into the token's namespace.
    pub fn create(&self, params: JsValue, options: Option<JsValue>) -> Promise {
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
                    .is_none_or(|s| s.trim_ascii().is_empty())
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
        call::send_js(session, prepared, Some("workspace"), true)
    }

    /// The workspace's runtime (files, exec, …) through the gateway. Mints the first gateway
    /// token, which enables the workspace's internal API server when it is disabled (as the
    /// official SDK does), and waits (up to 2 min) while the workspace is still provisioning.
    /// After this client's `apiAccess.disable(id)` it enables nothing: it rejects
    /// `internal_api_disabled` (nothing sent) until `apiAccess.enable(id)`.
    pub fn runtime(&self, id: JsValue, options: Option<JsValue>) -> Promise {
        let session = &self.session;
        let checked = session.reachable(&id, options, "workspaces.runtime(id, options)");
        or_rejected(checked.map(|(id, signal)| {
            let cell = session.gateways.cell(&id);
            call::runtime(session, id, cell, signal, runtime::handle)
        }))
    }
}

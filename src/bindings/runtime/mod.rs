//! `WorkspaceRuntime`: a workspace's gateway with gateway tokens the client mints, caches and
//! renews itself. The gateway token only ever travels as `Authorization: Bearer`.

mod exec;
mod files;
mod socket;
mod terminals;
mod watchers;

use super::convert::{invalid, parse_json, token_info, Options};
use super::error::promise;
use super::fetch;
use super::session::Session;
use crate::core::api;
use crate::core::cell::TokenCell;
use crate::core::error::ClientError;
use crate::core::request::{send_authorised, Retries};
use crate::core::runtime::HttpRequest;
use exec::RuntimeExec;
use files::RuntimeFiles;
use js_sys::Promise;
use socket::Connection;
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use terminals::{RuntimeConnection, RuntimeTerminals};
use wasm_bindgen::prelude::*;
use watchers::RuntimeWatchers;
use web_sys::{AbortSignal, Request, RequestInit};

/// What the runtime and its views (`files`, `exec`) share.
pub struct Target {
    session: Rc<Session>,
    workspace_id: String,
    /// Keeps this workspace's gateway cell alive while the handle lives.
    cell: RefCell<Rc<TokenCell>>,
    /// The runtime's WebSocket, alive while a terminal, a watcher or `connection` holds it.
    connection: RefCell<Weak<Connection>>,
}

impl Target {
    /// The workspace's live gateway cell (a new one if the old was forgotten: deleted workspace,
    /// refused mint, another identity).
    fn cell(&self) -> Rc<TokenCell> {
        let live = self.session.gateways.cell(&self.workspace_id);
        self.cell.replace(live.clone());
        live
    }

    /// A gateway JSON call with this workspace's gateway token: the text of a success.
    async fn call_text(
        &self,
        request: HttpRequest,
        signal: Option<AbortSignal>,
    ) -> Result<String, ClientError> {
        let cell = self.cell();
        self.session.json(&cell, request, signal).await
    }

    /// [`Target::call_text`], parsed for JS.
    async fn call(
        &self,
        request: HttpRequest,
        signal: Option<AbortSignal>,
    ) -> Result<JsValue, ClientError> {
        parse_json(&self.call_text(request, signal).await?)
    }

    /// The runtime's WebSocket (created, idle, on first use).
    fn connection(self: &Rc<Self>) -> Rc<Connection> {
        if let Some(connection) = self.connection.borrow().upgrade() {
            return connection;
        }
        let connection = Connection::new(self.clone());
        self.connection.replace(Rc::downgrade(&connection));
        connection
    }

    fn url(&self, path: &str, query: &[(&str, Option<String>)]) -> String {
        api::url(&self.session.gateway_url, path, query)
    }
}

/// A workspace's runtime, from `client.workspaces.runtime(id)`.
#[wasm_bindgen]
pub struct WorkspaceRuntime {
    target: Rc<Target>,
}

impl WorkspaceRuntime {
    pub fn new(session: Rc<Session>, workspace_id: String, cell: Rc<TokenCell>) -> Self {
        WorkspaceRuntime {
            target: Rc::new(Target {
                session,
                workspace_id,
                cell: RefCell::new(cell),
                connection: RefCell::new(Weak::new()),
            }),
        }
    }
}

#[wasm_bindgen]
impl WorkspaceRuntime {
    #[wasm_bindgen(getter = workspaceId)]
    pub fn workspace_id(&self) -> String {
        self.target.workspace_id.clone()
    }

    /// The gateway token's info (never the token), or `null` when none is held.
    #[wasm_bindgen(getter = tokenInfo, unchecked_return_type = "GatewayTokenInfo | null")]
    pub fn token_info(&self) -> JsValue {
        let session = &self.target.session;
        match self.target.cell.borrow().token() {
            Some(held) if !session.is_disposed() => token_info(&held, session.now_ms(), None),
            _ => JsValue::NULL,
        }
    }

    /// File operations on the workspace.
    #[wasm_bindgen(getter)]
    pub fn files(&self) -> RuntimeFiles {
        RuntimeFiles::new(self.target.clone())
    }

    /// Commands in the workspace.
    #[wasm_bindgen(getter)]
    pub fn exec(&self) -> RuntimeExec {
        RuntimeExec::new(self.target.clone())
    }

    /// Terminals over the workspace's WebSocket.
    #[wasm_bindgen(getter)]
    pub fn terminals(&self) -> RuntimeTerminals {
        RuntimeTerminals::new(self.target.clone())
    }

    /// File watchers over the workspace's WebSocket.
    #[wasm_bindgen(getter)]
    pub fn watchers(&self) -> RuntimeWatchers {
        RuntimeWatchers::new(self.target.clone())
    }

    /// The workspace's WebSocket: its state, changes, and `reconnect()`.
    #[wasm_bindgen(getter)]
    pub fn connection(&self) -> RuntimeConnection {
        RuntimeConnection::new(self.target.connection())
    }

    /// Closes the runtime's WebSocket (its terminals and watchers stop here; they live on in
    /// the workspace) and releases the handle; `[Symbol.dispose]` too.
    pub fn free(self) {
        if let Some(connection) = self.target.connection.borrow().upgrade() {
            connection.shut_down(Some(ClientError::disposed()));
        }
    }

    /// `GET /health` of the workspace's internal server.
    #[wasm_bindgen(unchecked_return_type = "Promise<HealthResult>")]
    pub fn health(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] options: Option<JsValue>,
    ) -> Promise {
        let target = self.target.clone();
        promise(async move {
            let signal = Options::read(options, "health(options)")?.signal()?;
            target
                .call(api::get(target.url("/health", &[])), signal)
                .await
        })
    }

    /// A raw, authorised `fetch` to the gateway (`path` starts with `/`). Resolves with the
    /// `Response` whatever its status, once its headers are in (within `timeoutMs`); a 401
    /// re-mints the gateway token and replays once.
    #[wasm_bindgen(unchecked_return_type = "Promise<Response>")]
    pub fn fetch(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] path: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "RequestInit")] init: Option<JsValue>,
    ) -> Promise {
        let target = self.target.clone();
        promise(async move { raw_fetch(&target, path, init).await })
    }
}

async fn raw_fetch(
    target: &Target,
    path: JsValue,
    init: Option<JsValue>,
) -> Result<JsValue, ClientError> {
    const CALL: &str = "fetch(path, init)";
    let path = path
        .as_string()
        .filter(|p| p.starts_with('/'))
        .ok_or_else(|| invalid(CALL, "path", "a string starting with '/'"))?;
    let init = Options::read(init, CALL)?;
    let signal = init.signal()?;
    let url = target.url(&path, &[]);
    let request = if init.value().is_object() {
        Request::new_with_str_and_init(&url, init.value().unchecked_ref::<RequestInit>())
    } else {
        Request::new_with_str(&url)
    }
    .map_err(|_| invalid(CALL, "init", "a valid RequestInit"))?;
    let session = &target.session;
    let cell = target.cell();
    let signals = session.signals(signal.clone());
    let send = move |bearer: &str| fetch::send_raw(&request, bearer, &signals);
    let sent = send_authorised(&cell, &*session.platform, Retries::UNAUTHORIZED_ONLY, &send);
    let response = session.guarded(signal, sent).await?;
    Ok(response.0.into())
}

/// `{ path }` of a files call: the path and the call's signal.
fn path_options(options: &Options) -> Result<(String, Option<AbortSignal>), ClientError> {
    Ok((options.text("path")?, options.signal()?))
}

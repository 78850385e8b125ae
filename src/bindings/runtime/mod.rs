//! `WorkspaceRuntime`: a workspace's gateway with gateway tokens the client mints, caches and
//! renews itself. The gateway token only ever travels as `Authorization: Bearer`.

mod exec;
mod files;
mod proxy;
mod search;
mod socket;
mod stream;
mod terminals;
mod transfer;
mod watchers;

use super::convert::{get, invalid, parse_json, token_info, Options};
use super::error::promise;
use super::fetch;
use super::session::Session;
use crate::core::api;
use crate::core::cell::TokenCell;
use crate::core::error::ClientError;
use crate::core::request::{send_authorised, Retries};
use crate::core::runtime::{HttpRequest, LocalFuture, TransportError};
use exec::RuntimeExec;
use fetch::RawResponse;
use files::RuntimeFiles;
use js_sys::Promise;
use proxy::RuntimeProxy;
use search::RuntimeSearch;
use socket::Connection;
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use terminals::{RuntimeConnection, RuntimeTerminals};
use transfer::RuntimeTransfer;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
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
    pub fn session(&self) -> &Rc<Session> {
        &self.session
    }

    /// The workspace's live gateway cell (a new one if the old was forgotten: deleted workspace,
    /// refused mint, another identity).
    pub fn cell(&self) -> Rc<TokenCell> {
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

/// A request built from a call's arguments (or the option error that stopped it), and its signal.
type Prepared = Result<(HttpRequest, Option<AbortSignal>), ClientError>;

/// The one async path of the simple gateway calls (a single state machine in the wasm, whatever
/// the endpoint): the JSON body of a success, or only its member `field`.
fn gateway_call(target: &Rc<Target>, prepared: Prepared, field: Option<&'static str>) -> Promise {
    let target = target.clone();
    promise(async move {
        let (request, signal) = prepared?;
        let value = target.call(request, signal).await?;
        Ok(match field {
            Some(field) => get(&value, field),
            None => value,
        })
    })
}

/// `method path` without a body, with only `{ signal }` options.
fn simple_call(
    target: &Rc<Target>,
    method: &'static str,
    path: &str,
    options: Option<JsValue>,
    call: &'static str,
    field: Option<&'static str>,
) -> Promise {
    let prepared = Options::read(options, call)
        .and_then(|o| o.signal())
        .map(|signal| {
            let url = target.url(path, &[]);
            let request = HttpRequest {
                method,
                url,
                body: None,
            };
            (request, signal)
        });
    gateway_call(target, prepared, field)
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

    /// Search file contents and names.
    #[wasm_bindgen(getter)]
    pub fn search(&self) -> RuntimeSearch {
        RuntimeSearch::new(self.target.clone())
    }

    /// tar.gz downloads and uploads of folders.
    #[wasm_bindgen(getter)]
    pub fn transfer(&self) -> RuntimeTransfer {
        RuntimeTransfer::new(self.target.clone())
    }

    /// A service listening on `port` (1–65535) inside the workspace, reached through the
    /// gateway's `/proxy`; `host` defaults to loopback. Throws `invalid_options` on a bad port.
    pub fn proxy(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] port: JsValue,
        host: Option<String>,
    ) -> Result<RuntimeProxy, JsValue> {
        RuntimeProxy::new(self.target.clone(), &port, host).map_err(super::error::to_js)
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
        simple_call(
            &self.target,
            "GET",
            "/health",
            options,
            "health(options)",
            None,
        )
    }

    /// `GET /runtime`: the workspace's OS, architecture, CPUs, shell and agent.
    #[wasm_bindgen(unchecked_return_type = "Promise<RuntimeInfo>")]
    pub fn info(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] options: Option<JsValue>,
    ) -> Promise {
        simple_call(
            &self.target,
            "GET",
            "/runtime",
            options,
            "info(options)",
            None,
        )
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
        promise(raw_fetch(self.target.clone(), path, init, None))
    }
}

/// `rt.fetch(path, init)` on the gateway, or `proxy(port).fetch(path, init)` through its
/// `/proxy` to the target `proxy` names: the `Response` once its headers are in.
async fn raw_fetch(
    target: Rc<Target>,
    path: JsValue,
    init: Option<JsValue>,
    proxy: Option<String>,
) -> Result<JsValue, ClientError> {
    let call = if proxy.is_some() {
        "proxy.fetch(path, init)"
    } else {
        "fetch(path, init)"
    };
    let path = path
        .as_string()
        .filter(|p| p.starts_with('/'))
        .ok_or_else(|| invalid(call, "path", "a string starting with '/'"))?;
    let init = Options::read(init, call)?;
    let signal = init.signal()?;
    let url = match proxy {
        Some(_) => target.url("/proxy", &[]) + &path,
        None => target.url(&path, &[]),
    };
    let request = if init.value().is_object() {
        Request::new_with_str_and_init(&url, init.value().unchecked_ref::<RequestInit>())
    } else {
        Request::new_with_str(&url)
    }
    .map_err(|_| invalid(call, "init", "a valid RequestInit"))?;
    if let Some(proxy) = &proxy {
        request
            .headers()
            .set("X-Oblien-Proxy-Target", proxy)
            .map_err(|_| invalid(call, "init", "a valid RequestInit"))?;
    }
    let session = &target.session;
    let cell = target.cell();
    let signals = session.signals(signal.clone());
    let proxied = proxy.is_some();
    let send = move |bearer: &str| -> LocalFuture<Result<RawResponse, TransportError>> {
        let sent = fetch::send_raw(&request, bearer, &signals);
        Box::pin(async move {
            let RawResponse(response, _) = sent.await?;
            let mut app_401 = false;
            if proxied && response.status() == 401 {
                // Read a copy: the caller gets the body untouched.
                let text = match response.clone().map(|copy| copy.text()) {
                    Ok(Ok(text)) => JsFuture::from(text).await.ok().and_then(|t| t.as_string()),
                    _ => None,
                };
                app_401 = !text.is_some_and(|t| crate::core::proxy::is_gateway_refusal(&t));
            }
            Ok(RawResponse(response, app_401))
        })
    };
    let sent = send_authorised(&cell, &*session.platform, Retries::UNAUTHORIZED_ONLY, &send);
    let response = session.guarded(signal, sent).await?;
    Ok(response.0.into())
}

/// `{ path }` of a files call: the path and the call's signal.
fn path_options(options: &Options) -> Result<(String, Option<AbortSignal>), ClientError> {
    Ok((options.text("path")?, options.signal()?))
}

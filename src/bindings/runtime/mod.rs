//! `WorkspaceRuntime`: a workspace's gateway with gateway tokens the client mints, caches and
//! renews itself. The gateway token only ever travels as `Authorization: Bearer`. Arrows run one
//! way: this file → the views (`files`, `exec`, …, `terminals`) → `socket` → `target`.

mod exec;
mod files;
mod proxy;
mod search;
mod socket;
mod stream;
pub(crate) mod target;
mod terminals;
mod transfer;
mod watchers;

use super::convert::token_info;
use super::error::promise;
use super::session::Session;
use crate::core::cell::TokenCell;
use crate::core::endpoint;
use exec::RuntimeExec;
use files::RuntimeFiles;
use js_sys::Promise;
use proxy::RuntimeProxy;
use search::RuntimeSearch;
use socket::ConnectionSlot;
use std::rc::Rc;
use target::{raw_fetch, table_call, Target};
use terminals::{RuntimeConnection, RuntimeTerminals};
use transfer::RuntimeTransfer;
use wasm_bindgen::prelude::*;
use watchers::RuntimeWatchers;

/// A workspace's runtime, from `client.workspaces.runtime(id)`.
#[wasm_bindgen]
pub struct WorkspaceRuntime {
    target: Rc<Target>,
    /// The runtime's WebSocket, created on first use by a terminal, a watcher or `connection`.
    socket: Rc<ConnectionSlot>,
}

impl WorkspaceRuntime {
    pub fn new(session: Rc<Session>, workspace_id: String, cell: Rc<TokenCell>) -> Self {
        let target = Rc::new(Target::new(session, workspace_id, cell));
        WorkspaceRuntime {
            socket: ConnectionSlot::new(target.clone()),
            target,
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
        RuntimeTerminals::new(self.target.clone(), self.socket.clone())
    }

    /// File watchers over the workspace's WebSocket.
    #[wasm_bindgen(getter)]
    pub fn watchers(&self) -> RuntimeWatchers {
        RuntimeWatchers::new(self.target.clone(), self.socket.clone())
    }

    /// The workspace's WebSocket: its state, changes, and `reconnect()`.
    #[wasm_bindgen(getter)]
    pub fn connection(&self) -> RuntimeConnection {
        RuntimeConnection::new(self.socket.get())
    }

    /// Closes the runtime's WebSocket (its terminals and watchers stop here; they live on in
    /// the workspace) and releases the handle; `[Symbol.dispose]` too.
    pub fn free(self) {
        if let Some(connection) = self.socket.current() {
            connection.shut_down();
        }
    }

    /// `GET /health` of the workspace's internal server.
    #[wasm_bindgen(unchecked_return_type = "Promise<HealthResult>")]
    pub fn health(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] options: Option<JsValue>,
    ) -> Promise {
        table_call(&self.target, &endpoint::HEALTH, options)
    }

    /// `GET /runtime`: the workspace's OS, architecture, CPUs, shell and agent.
    #[wasm_bindgen(unchecked_return_type = "Promise<RuntimeInfo>")]
    pub fn info(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] options: Option<JsValue>,
    ) -> Promise {
        table_call(&self.target, &endpoint::INFO, options)
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

//! `rt.watchers` and `Watcher`: file watchers created over REST, their events over the runtime's
//! WebSocket, re-established after a reconnect (`onOverflow` then says events may be missing).

use super::socket::{
    create_watcher, subscribe, wait_ready, Connection, ConnectionSlot, WatcherState,
};
use super::target::{simple_call, Target};
use crate::bindings::convert::Options;
use crate::bindings::error::promise;
use crate::core::api;
use crate::core::flight::Flight;
use js_sys::{Function, Promise};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
export interface CreateWatcherOptions extends CallOptions {
  /** The directory to watch, e.g. "/app". */
  path: string;
  /** Names (`node_modules`, `*.log`) or paths below the root not to watch. */
  excludes?: string[];
}

export interface WatcherEvent {
  path: string;
  op: "create" | "write" | "remove" | "rename" | "unknown";
}

export interface WatcherInfo {
  id: string;
  root: string;
  dir_count: number;
  excludes?: string[];
  active?: boolean;
  [key: string]: unknown;
}
"#;

/// `rt.watchers`.
#[wasm_bindgen]
pub struct RuntimeWatchers {
    target: Rc<Target>,
    socket: Rc<ConnectionSlot>,
}

impl RuntimeWatchers {
    pub fn new(target: Rc<Target>, socket: Rc<ConnectionSlot>) -> Self {
        RuntimeWatchers { target, socket }
    }
}

#[wasm_bindgen]
impl RuntimeWatchers {
    /// Watches a directory (`POST /watchers`); resolves once the gateway says it is ready.
    #[wasm_bindgen(unchecked_return_type = "Promise<Watcher>")]
    pub fn create(
        &self,
        #[wasm_bindgen(unchecked_param_type = "CreateWatcherOptions")] options: JsValue,
    ) -> Promise {
        const CALL: &str = "watchers.create(options)";
        let target = self.target.clone();
        let socket = self.socket.clone();
        promise(async move {
            let options = Options::required(options, CALL)?;
            let path = options.text("path")?;
            let signal = options.signal()?;
            let excludes = options.get("excludes");
            let valid = excludes.is_undefined()
                || js_sys::Array::is_array(&excludes)
                    && js_sys::Array::from(&excludes).iter().all(|e| e.is_string());
            if !valid {
                return Err(options.fail("excludes", "an array of strings"));
            }
            let connection = socket.get();
            let id = create_watcher(&target, &path, &excludes).await?;
            let ready = Flight::new();
            let state = Rc::new(WatcherState {
                id: id.clone(),
                server_id: RefCell::new(id),
                path,
                excludes,
                on_event: Rc::default(),
                on_overflow: Rc::default(),
                ready: RefCell::new(ready.clone()),
                ended: Cell::new(false),
            });
            connection.add_watcher(state.clone())?;
            let watcher = Watcher {
                state,
                connection,
                target: target.clone(),
            };
            if let Err(error) = wait_ready(&target, ready, signal).await {
                let _ = watcher.end().await;
                return Err(error);
            }
            Ok(watcher.into())
        })
    }

    /// The workspace's watchers (`GET /watchers`).
    #[wasm_bindgen(unchecked_return_type = "Promise<WatcherInfo[]>")]
    pub fn list(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] options: Option<JsValue>,
    ) -> Promise {
        simple_call(
            &self.target,
            "GET",
            "/watchers",
            options,
            "watchers.list(options)",
            Some("watchers"),
        )
    }
}

/// A file watcher of the workspace.
#[wasm_bindgen]
pub struct Watcher {
    state: Rc<WatcherState>,
    connection: Rc<Connection>,
    target: Rc<Target>,
}

impl Watcher {
    async fn end(&self) -> Result<JsValue, crate::core::error::ClientError> {
        self.state.ended.set(true);
        self.connection.forget_watcher(&self.state);
        let mut path = String::from("/watchers/");
        path.push_str(&api::encode_component(&self.state.server_id.borrow()));
        match self
            .target
            .call_text(api::delete(self.target.url(&path, &[])), None)
            .await
        {
            Err(error) if error.status != Some(404) => Err(error),
            _ => Ok(JsValue::UNDEFINED),
        }
    }
}

#[wasm_bindgen]
impl Watcher {
    #[wasm_bindgen(getter)]
    pub fn id(&self) -> String {
        self.state.id.clone()
    }

    /// Every change under the root: `{ path, op }`. Returns the unsubscribe function.
    #[wasm_bindgen(js_name = onEvent, unchecked_return_type = "() => void")]
    pub fn on_event(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(event: WatcherEvent) => void")] callback: Function,
    ) -> Function {
        subscribe(&self.state.on_event, callback)
    }

    /// Events may have been lost (the gateway's queue overflowed, or the socket was away):
    /// re-read what you show. Returns the unsubscribe function.
    #[wasm_bindgen(js_name = onOverflow, unchecked_return_type = "() => void")]
    pub fn on_overflow(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(message: string) => void")] callback: Function,
    ) -> Function {
        subscribe(&self.state.on_overflow, callback)
    }

    /// Stops watching (`DELETE /watchers/{id}`).
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn close(&self) -> Promise {
        let watcher = Watcher {
            state: self.state.clone(),
            connection: self.connection.clone(),
            target: self.target.clone(),
        };
        promise(async move { watcher.end().await })
    }
}

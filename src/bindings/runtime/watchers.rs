//! `rt.watchers` and `Watcher`: file watchers created over REST, their events over the runtime's
//! WebSocket, re-established after a reconnect (`onOverflow` then says events may be missing).

use super::socket::{Connection, ConnectionSlot, Handle};
use super::target::{simple_call, Target};
use js_sys::{Function, Promise};
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
        let connection = self.socket.get();
        let js = connection.js.clone();
        let watcher = js.watcher();
        // The handle the promise resolves with (freed by the snippet if the watcher fails).
        let handle = JsValue::from(Watcher {
            js: watcher.clone(),
            _connection: connection,
        });
        let timeout = crate::bindings::platform::timer_delay(self.target.session.timeout_ms());
        js.watch(&watcher, &handle, options, f64::from(timeout))
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
    js: Handle,
    /// Keeps the socket alive while the watcher is.
    _connection: Rc<Connection>,
}

#[wasm_bindgen]
impl Watcher {
    #[wasm_bindgen(getter, unchecked_return_type = "string")]
    pub fn id(&self) -> JsValue {
        self.js.id()
    }

    /// Every change under the root: `{ path, op }`. Returns the unsubscribe function.
    #[wasm_bindgen(js_name = onEvent, unchecked_return_type = "() => void")]
    pub fn on_event(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(event: WatcherEvent) => void")] callback: Function,
    ) -> Function {
        self.js.on(0, callback)
    }

    /// Events may have been lost (the gateway's queue overflowed, or the socket was away):
    /// re-read what you show. Returns the unsubscribe function.
    #[wasm_bindgen(js_name = onOverflow, unchecked_return_type = "() => void")]
    pub fn on_overflow(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(message: string) => void")] callback: Function,
    ) -> Function {
        self.js.on(1, callback)
    }

    /// Stops watching (`DELETE /watchers/{id}`).
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn close(&self) -> Promise {
        self.js.close()
    }
}

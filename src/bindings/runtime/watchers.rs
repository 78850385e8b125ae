//! `rt.watchers` (js/views.js `RuntimeWatchers`) and `Watcher` (js/views.js too): file watchers created over REST, their events over the runtime's
//! WebSocket, re-established after a reconnect (`onOverflow` then says events may be missing).

use super::socket::ConnectionSlot;
use super::target::{simple_call, Target};
use crate::bindings::views;
use alloc::rc::Rc;
use js_sys::Promise;
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
/**
 * `rt.watchers`.
 */
export class RuntimeWatchers {
    private constructor();
    free(): void;
    [Symbol.dispose](): void;
    /**
     * Watches a directory (`POST /watchers`); resolves once the gateway says it is ready.
     */
    create(options: CreateWatcherOptions): Promise<Watcher>;
    /**
     * The workspace's watchers (`GET /watchers`).
     */
    list(options?: CallOptions): Promise<WatcherInfo[]>;
}
/**
 * A file watcher of the workspace.
 */
export class Watcher {
    private constructor();
    free(): void;
    [Symbol.dispose](): void;
    /**
     * Stops watching (`DELETE /watchers/{id}`).
     */
    close(): Promise<void>;
    /**
     * Every change under the root: `{ path, op }`. Returns the unsubscribe function.
     */
    onEvent(callback: (event: WatcherEvent) => void): () => void;
    /**
     * Events may have been lost (the gateway's queue overflowed, or the socket was away):
     * re-read what you show. Returns the unsubscribe function.
     */
    onOverflow(callback: (message: string) => void): () => void;
    readonly id: string;
}
"#;

/// `watchers.create(options)` (js/views.js `RuntimeWatchers`): resolves once the gateway says
/// the watcher is ready.
pub fn create(target: &Rc<Target>, socket: &ConnectionSlot, options: JsValue) -> Promise {
    let connection = socket.get();
    let js = connection.js.clone();
    let watcher = js.watcher();
    // The handle the promise resolves with, js/views.js `Watcher` (freed by the snippet if the
    // watcher fails).
    let handle = views::held(3, connection, &watcher);
    let timeout = crate::bindings::platform::timer_delay(target.session.timeout_ms());
    js.watch(&watcher, &handle, options, f64::from(timeout))
}

/// `watchers.list(options)`: `GET /watchers`.
pub fn list(target: &Rc<Target>, options: Option<JsValue>) -> Promise {
    let call = "watchers.list(options)";
    simple_call(target, "GET", "/watchers", options, call, Some("watchers"))
}

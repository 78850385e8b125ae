//! `WorkspaceRuntime`: a workspace's gateway with gateway tokens the client mints, caches and
//! renews itself. The gateway token only ever travels as `Authorization: Bearer`. The runtime
//! and its views (`files`, `exec`, …) are JS classes (`js/views.js`) that forward every method
//! here, to [`run`], as a number. Arrows run one way: this file → the views' files (`files`,
//! `exec`, …, `terminals`) → `socket` → `target`.

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
use super::session::Session;
use super::views::{self, opt, thrown};
use crate::core::cell::TokenCell;
use crate::core::endpoint::{self, Endpoint};
use crate::prelude::*;
use alloc::rc::Rc;
use socket::ConnectionSlot;
use target::{raw_fetch, table_call, Target};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/**
 * A workspace's runtime, from `client.workspaces.runtime(id)`.
 */
export class WorkspaceRuntime {
    private constructor();
    free(): void;
    [Symbol.dispose](): void;
    /**
     * A raw, authorised `fetch` to the gateway (`path` starts with `/`). Resolves with the
     * `Response` whatever its status, once its headers are in (within `timeoutMs`); a 401
     * re-mints the gateway token and replays once.
     */
    fetch(path: string, init?: RequestInit): Promise<Response>;
    /**
     * Closes the runtime's WebSocket (its terminals and watchers stop here; they live on in
     * the workspace) and releases the handle; `[Symbol.dispose]` too.
     */
    free(): void;
    /**
     * `GET /health` of the workspace's internal server.
     */
    health(options?: CallOptions): Promise<HealthResult>;
    /**
     * `GET /runtime`: the workspace's OS, architecture, CPUs, shell and agent.
     */
    info(options?: CallOptions): Promise<RuntimeInfo>;
    /**
     * A service listening on `port` (1–65535) inside the workspace, reached through the
     * gateway's `/proxy`; `host` defaults to loopback. Throws `invalid_options` on a bad port.
     */
    proxy(port: number, host?: string | null): RuntimeProxy;
    /**
     * The workspace's WebSocket: its state, changes, and `reconnect()`.
     */
    readonly connection: RuntimeConnection;
    /**
     * Commands in the workspace.
     */
    readonly exec: RuntimeExec;
    /**
     * File operations on the workspace.
     */
    readonly files: RuntimeFiles;
    /**
     * Search file contents and names.
     */
    readonly search: RuntimeSearch;
    /**
     * Terminals over the workspace's WebSocket.
     */
    readonly terminals: RuntimeTerminals;
    /**
     * The gateway token's info (never the token), or `null` when none is held.
     */
    readonly tokenInfo: GatewayTokenInfo | null;
    /**
     * tar.gz downloads and uploads of folders.
     */
    readonly transfer: RuntimeTransfer;
    /**
     * File watchers over the workspace's WebSocket.
     */
    readonly watchers: RuntimeWatchers;
    readonly workspaceId: string;
}
"#;

/// What a runtime handle and every view taken from it share.
pub struct Runtime {
    target: Rc<Target>,
    /// The runtime's WebSocket, created on first use by a terminal, a watcher or `connection`.
    socket: Rc<ConnectionSlot>,
}

/// A new `WorkspaceRuntime` (js/views.js) of the workspace `workspace_id`.
pub fn handle(session: Rc<Session>, workspace_id: String, cell: Rc<TokenCell>) -> JsValue {
    let target = Rc::new(Target::new(session, workspace_id, cell));
    let runtime = Runtime {
        socket: ConnectionSlot::new(target.clone()),
        target,
    };
    views::view(1, Rc::new(runtime), run)
}

/// The calls that are a row of the endpoint table, from op 2 on (js/views.js).
const TABLE: [&Endpoint; 10] = [
    &endpoint::HEALTH,
    &endpoint::INFO,
    &endpoint::FILES_LIST,
    &endpoint::FILES_READ,
    &endpoint::FILES_STAT,
    &endpoint::FILES_WRITE,
    &endpoint::FILES_MKDIR,
    &endpoint::FILES_DELETE,
    &endpoint::SEARCH_CONTENT,
    &endpoint::SEARCH_FILES,
];

/// What the runtime's views ask (js/views.js): the method `op` with its arguments as given.
fn run(runtime: &Rc<Runtime>, op: u32, a: JsValue, b: JsValue, c: JsValue) -> JsValue {
    let target = &runtime.target;
    if let Some(row) = (op as usize).checked_sub(2).and_then(|i| TABLE.get(i)) {
        return table_call(target, row, opt(a)).into();
    }
    match op {
        12 => target.workspace_id.clone().into(),
        13 => {
            let session = &target.session;
            match target.cell.borrow().token() {
                Some(held) if !session.is_disposed() => token_info(&held, session.now_ms(), None),
                _ => JsValue::NULL,
            }
        }
        14 => {
            // `free()`: the socket closes now (terminals and watchers live on in the workspace).
            if let Some(connection) = runtime.socket.current() {
                connection.shut_down();
            }
            JsValue::UNDEFINED
        }
        15 => raw_fetch(target, a, opt(b), None).into(),
        16 => thrown(proxy::target(&a, b.as_string())),
        17 => proxy::fetch(target, a, b, c).into(),
        18 => {
            // `rt.connection`: js/views.js `RuntimeConnection`, keeping the socket alive.
            let connection = runtime.socket.get();
            let js = connection.js.clone();
            views::held(4, connection, &js)
        }
        19 => thrown(files::stream(target, a)),
        20..=27 => exec::run(target, op, a, b, c),
        28 => transfer::download(target, a, opt(b)).into(),
        29 => transfer::upload(target, a, opt(b)).into(),
        30..=33 => terminals::run(target, &runtime.socket, op, a, b),
        34 => watchers::create(target, &runtime.socket, a).into(),
        35 => watchers::list(target, opt(a)).into(),
        _ => JsValue::UNDEFINED,
    }
}

//! `rt.terminals` (js/views.js `RuntimeTerminals`) and `Terminal`: terminals created over REST,
//! their bytes over the runtime's WebSocket; and `rt.connection`, the socket's state for the app.
//! `Terminal` and `RuntimeConnection` are JS classes too (js/views.js) over their js/socket.js
//! objects, each keeping the socket alive while it lives.

use super::socket::ConnectionSlot;
use super::target::{simple_call, Target};
use crate::bindings::views::{self, opt};
use alloc::rc::Rc;
use js_sys::Promise;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
export interface CreateTerminalOptions extends CallOptions {
  cols?: number;
  rows?: number;
  /** The program, e.g. "/bin/bash" (sent as `cmd: [shell]`). Default: the workspace's shell. */
  shell?: string;
  /** Bytes of output the gateway keeps for catch-up and `scrollback()`. Default 65536. */
  scrollbackSize?: number;
}

export interface TerminalSession {
  id: string;
  command: string[];
  cols: number;
  rows: number;
  alive?: boolean;
  exit_code?: number | null;
  created_at?: string;
  scrollback_size?: number;
  [key: string]: unknown;
}

export interface ScrollbackOptions extends CallOptions {
  /** The last this many bytes. */
  bytes?: number;
}

/** Output may be missing ("gap": the socket was away longer than the scrollback holds) or
 * repeated ("ambiguous": replayed output matched at more than one place). */
export interface TerminalNotice {
  kind: "gap" | "ambiguous";
  message: string;
}

export type ConnectionState = "idle" | "connecting" | "open" | "reconnecting" | "replaced" | "closed";
/**
 * `rt.terminals`.
 */
export class RuntimeTerminals {
    private constructor();
    free(): void;
    [Symbol.dispose](): void;
    /**
     * Attaches to a running terminal: its scrollback first, then live output.
     */
    attach(id: string, options?: CallOptions): Promise<Terminal>;
    /**
     * Starts a terminal (`POST /terminals`) and attaches it to the runtime's WebSocket (opened
     * now if it is not). Its first output (the prompt) comes through `onData`.
     */
    create(options?: CreateTerminalOptions): Promise<Terminal>;
    /**
     * The workspace's terminals (`GET /terminals`).
     */
    list(options?: CallOptions): Promise<TerminalSession[]>;
    /**
     * A terminal's scrollback (`GET /terminals/{id}/scrollback`) as bytes.
     */
    scrollback(id: string, options?: ScrollbackOptions): Promise<Uint8Array>;
}
/**
 * A terminal of the workspace, attached to the runtime's WebSocket.
 */
export class Terminal {
    private constructor();
    free(): void;
    [Symbol.dispose](): void;
    /**
     * Ends the terminal (`DELETE /terminals/{id}`); its callbacks are not called any more.
     */
    close(): Promise<void>;
    /**
     * Output bytes, in order, each once (across reconnects too). Returns the unsubscribe function.
     */
    onData(callback: (bytes: Uint8Array) => void): () => void;
    /**
     * The terminal ended (its program exited, `exit`, Ctrl-D). Returns the unsubscribe function.
     */
    onExit(callback: (exitCode: number) => void): () => void;
    /**
     * Output may be missing or repeated after a reconnect (never silently). Returns the
     * unsubscribe function.
     */
    onNotice(callback: (notice: TerminalNotice) => void): () => void;
    /**
     * Resizes the terminal (sent again after every reconnect).
     *
     * @throws {OblienError} `invalid_options`
     */
    resize(cols: number, rows: number): void;
    /**
     * Keystrokes (a string, UTF-8 encoded, or bytes), sent in order; queued while the socket
     * reconnects.
     *
     * @throws {OblienError} `invalid_options`, `buffer_full`, `disposed`, or the socket's error
     */
    write(data: string | Uint8Array): void;
    /**
     * The gateway's id ("1").
     */
    readonly id: string;
}
/**
 * `rt.connection`: the runtime's WebSocket as the app sees it.
 */
export class RuntimeConnection {
    private constructor();
    free(): void;
    [Symbol.dispose](): void;
    /**
     * Every change of `state`. Returns the unsubscribe function.
     */
    onStateChange(callback: (state: ConnectionState) => void): () => void;
    /**
     * Takes the socket back after `replaced` (another client took it), or tries again at once
     * while `reconnecting`.
     */
    reconnect(): void;
    /**
     * Why the socket is `closed` (`workspace_not_running`, `internal_api_disabled`, `disposed`,
     * …), or `null`.
     */
    readonly error: OblienError | null;
    readonly state: ConnectionState;
}
"#;

/// What `RuntimeTerminals` asks (js/views.js, ops 30–33).
pub fn run(
    target: &Rc<Target>,
    socket: &ConnectionSlot,
    op: u32,
    a: JsValue,
    b: JsValue,
) -> JsValue {
    match op {
        // `create(options)`, `attach(id, options)`.
        30 => open(socket, false, JsValue::UNDEFINED, opt(a)),
        31 => open(socket, true, a, opt(b)),
        32 => {
            let call = "terminals.list(options)";
            simple_call(target, "GET", "/terminals", opt(a), call, Some("terminals"))
        }
        _ => socket.get().js.scrollback(a, opt(b)),
    }
    .into()
}

/// A `Terminal` that `js/socket.js` puts on the socket once the gateway says which (it reads the
/// options, creates or finds the terminal), or frees.
fn open(socket: &ConnectionSlot, attach: bool, id: JsValue, options: Option<JsValue>) -> Promise {
    let connection = socket.get();
    let js = connection.js.clone();
    let term = js.term();
    // js/views.js `Terminal` (it keeps the socket alive while it lives).
    let handle = views::held(2, connection, &term);
    js.open(&term, &handle, attach, id, options)
}

//! `rt.terminals` (js/views.js `RuntimeTerminals`) and `Terminal`: terminals created over REST, their bytes over the runtime's
//! WebSocket; and `rt.connection`, the socket's state for the app.

use super::socket::{thrown, Connection, ConnectionSlot, Handle};
use super::target::{simple_call, Target};
use crate::bindings::views::opt;
use js_sys::{Function, Promise};
use std::rc::Rc;
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
    let handle = JsValue::from(Terminal {
        js: term.clone(),
        _connection: connection,
    });
    js.open(&term, &handle, attach, id, options)
}

/// A terminal of the workspace, attached to the runtime's WebSocket.
#[wasm_bindgen]
pub struct Terminal {
    js: Handle,
    /// Keeps the socket alive while the terminal is.
    _connection: Rc<Connection>,
}

#[wasm_bindgen]
impl Terminal {
    /// The gateway's id ("1").
    #[wasm_bindgen(getter, unchecked_return_type = "string")]
    pub fn id(&self) -> JsValue {
        self.js.id()
    }

    /// Output bytes, in order, each once (across reconnects too). Returns the unsubscribe function.
    #[wasm_bindgen(js_name = onData, unchecked_return_type = "() => void")]
    pub fn on_data(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(bytes: Uint8Array) => void")] callback: Function,
    ) -> Function {
        self.js.on(0, callback)
    }

    /// The terminal ended (its program exited, `exit`, Ctrl-D). Returns the unsubscribe function.
    #[wasm_bindgen(js_name = onExit, unchecked_return_type = "() => void")]
    pub fn on_exit(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(exitCode: number) => void")] callback: Function,
    ) -> Function {
        self.js.on(1, callback)
    }

    /// Output may be missing or repeated after a reconnect (never silently). Returns the
    /// unsubscribe function.
    #[wasm_bindgen(js_name = onNotice, unchecked_return_type = "() => void")]
    pub fn on_notice(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(notice: TerminalNotice) => void")]
        callback: Function,
    ) -> Function {
        self.js.on(2, callback)
    }

    /// Keystrokes (a string, UTF-8 encoded, or bytes), sent in order; queued while the socket
    /// reconnects.
    ///
    /// @throws {OblienError} `invalid_options`, `buffer_full`, `disposed`, or the socket's error
    pub fn write(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string | Uint8Array")] data: JsValue,
    ) -> Result<(), JsValue> {
        thrown(self.js.write(data))
    }

    /// Resizes the terminal (sent again after every reconnect).
    ///
    /// @throws {OblienError} `invalid_options`
    pub fn resize(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] cols: JsValue,
        #[wasm_bindgen(unchecked_param_type = "number")] rows: JsValue,
    ) -> Result<(), JsValue> {
        thrown(self.js.resize(cols, rows))
    }

    /// Ends the terminal (`DELETE /terminals/{id}`); its callbacks are not called any more.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn close(&self) -> Promise {
        self.js.close()
    }
}

/// `rt.connection`: the runtime's WebSocket as the app sees it.
#[wasm_bindgen]
pub struct RuntimeConnection {
    connection: Rc<Connection>,
}

impl RuntimeConnection {
    pub fn new(connection: Rc<Connection>) -> Self {
        RuntimeConnection { connection }
    }
}

#[wasm_bindgen]
impl RuntimeConnection {
    #[wasm_bindgen(getter, unchecked_return_type = "ConnectionState")]
    pub fn state(&self) -> JsValue {
        self.connection.js.state()
    }

    /// Why the socket is `closed` (`workspace_not_running`, `internal_api_disabled`, `disposed`,
    /// …), or `null`.
    #[wasm_bindgen(getter, unchecked_return_type = "OblienError | null")]
    pub fn error(&self) -> JsValue {
        self.connection.js.error()
    }

    /// Every change of `state`. Returns the unsubscribe function.
    #[wasm_bindgen(js_name = onStateChange, unchecked_return_type = "() => void")]
    pub fn on_state_change(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(state: ConnectionState) => void")]
        callback: Function,
    ) -> Function {
        self.connection.js.unchecked_ref::<Handle>().on(0, callback)
    }

    /// Takes the socket back after `replaced` (another client took it), or tries again at once
    /// while `reconnecting`.
    pub fn reconnect(&self) {
        self.connection.js.reconnect();
    }
}

//! `rt.terminals` and `Terminal`: terminals created over REST, their bytes over the runtime's
//! WebSocket; and `rt.connection`, the socket's state for the app.

use super::socket::{thrown, Connection, ConnectionSlot, Handle};
use super::target::{simple_call, Target};
use crate::bindings::convert::{get, invalid, json_object, Options};
use crate::bindings::error::promise;
use crate::bindings::error::{from_js, is_oblien_error};
use crate::core::api;
use crate::core::base64url;
use crate::core::error::{codes, ClientError};
use crate::core::frames;
use crate::core::json::{self, Value};
use crate::core::request::field_object;
use js_sys::{Function, Promise, Uint8Array};
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
"#;

/// `rt.terminals`.
#[wasm_bindgen]
pub struct RuntimeTerminals {
    target: Rc<Target>,
    socket: Rc<ConnectionSlot>,
}

impl RuntimeTerminals {
    pub fn new(target: Rc<Target>, socket: Rc<ConnectionSlot>) -> Self {
        RuntimeTerminals { target, socket }
    }
}

fn number_field(text: &str, key: &str) -> Option<f64> {
    let members = json::object(text)?;
    match json::last(&members, key) {
        Some(Value::Number(n)) => Some(*n),
        _ => None,
    }
}

fn string_field(text: &str, key: &str) -> Option<String> {
    let members = json::object(text)?;
    match json::last(&members, key) {
        Some(Value::String(s)) => Some(s.decode().into_owned()),
        Some(Value::Number(n)) if n.fract() == 0.0 => Some((*n as i64).to_string()),
        _ => None,
    }
}

const DEFAULT_SCROLLBACK: usize = 64 * 1024;

/// Attaches a terminal the gateway knows to the runtime's socket: scrollback first, then live.
fn attach(
    socket: &ConnectionSlot,
    id: &str,
    capacity: usize,
    size: JsValue,
) -> Result<Terminal, ClientError> {
    let byte = frames::terminal_byte(id)?;
    let connection = socket.get();
    let js = connection.js.terminal(id, byte, capacity as f64, size);
    if is_oblien_error(&js) {
        return Err(from_js(&js));
    }
    Ok(Terminal {
        js: js.unchecked_into(),
        _connection: connection,
    })
}

fn terminal_path(id: &str, rest: &str) -> String {
    let mut path = String::from("/terminals/");
    path.push_str(&api::encode_component(id));
    path.push_str(rest);
    path
}

#[wasm_bindgen]
impl RuntimeTerminals {
    /// Starts a terminal (`POST /terminals`) and attaches it to the runtime's WebSocket (opened
    /// now if it is not). Its first output (the prompt) comes through `onData`.
    #[wasm_bindgen(unchecked_return_type = "Promise<Terminal>")]
    pub fn create(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "CreateTerminalOptions")] options: Option<
            JsValue,
        >,
    ) -> Promise {
        const CALL: &str = "terminals.create(options)";
        let target = self.target.clone();
        let socket = self.socket.clone();
        promise(async move {
            let options = Options::read(options, CALL)?;
            let signal = options.signal()?;
            let mut pairs = Vec::new();
            for (key, wire) in [("cols", "cols"), ("rows", "rows")] {
                if let Some(n) = options.integer(key, 1.0, 10_000.0)? {
                    pairs.push((wire, JsValue::from_f64(n as f64)));
                }
            }
            let capacity = options.integer("scrollbackSize", 1.0, 64.0 * 1024.0 * 1024.0)?;
            if let Some(bytes) = capacity {
                pairs.push(("scrollback_size", JsValue::from_f64(bytes as f64)));
            }
            if let Some(shell) = options.string("shell")? {
                let cmd = js_sys::Array::of1(&JsValue::from_str(&shell));
                pairs.push(("cmd", cmd.into()));
            }
            let body = json_object(&pairs, CALL)?;
            let text = target
                .call_text(api::post(target.url("/terminals", &[]), body), signal)
                .await?;
            let session = field_object(&text, "terminal").unwrap_or(text);
            let id = string_field(&session, "id")
                .ok_or_else(|| ClientError::new(codes::SERVER_ERROR, "The terminal has no id"))?;
            let capacity = number_field(&session, "scrollback_size")
                .map(|n| n as usize)
                .or(capacity.map(|n| n as usize))
                .unwrap_or(DEFAULT_SCROLLBACK);
            // Sent again after every reconnect.
            let size = match (
                options.integer("cols", 1.0, 10_000.0)?,
                options.integer("rows", 1.0, 10_000.0)?,
            ) {
                (Some(cols), Some(rows)) => {
                    js_sys::Array::of2(&(cols as f64).into(), &(rows as f64).into()).into()
                }
                _ => JsValue::UNDEFINED,
            };
            match attach(&socket, &id, capacity, size) {
                Ok(terminal) => Ok(terminal.into()),
                Err(error) => {
                    // Not usable over the socket (its id does not fit a frame): do not leave it running.
                    let url = target.url(&terminal_path(&id, ""), &[]);
                    let _ = target.call_text(api::delete(url), None).await;
                    Err(error)
                }
            }
        })
    }

    /// Attaches to a running terminal: its scrollback first, then live output.
    #[wasm_bindgen(unchecked_return_type = "Promise<Terminal>")]
    pub fn attach(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] options: Option<JsValue>,
    ) -> Promise {
        const CALL: &str = "terminals.attach(id, options)";
        let target = self.target.clone();
        let socket = self.socket.clone();
        promise(async move {
            let id = id
                .as_string()
                .filter(|s| !s.is_empty())
                .ok_or_else(|| invalid(CALL, "id", "a terminal id string"))?;
            frames::terminal_byte(&id)?;
            let signal = Options::read(options, CALL)?.signal()?;
            // The terminal's scrollback size, from the list (it bounds what catch-up can align).
            let list = target
                .call(api::get(target.url("/terminals", &[])), signal)
                .await?;
            let capacity = find_session(&get(&list, "terminals"), &id).ok_or_else(|| {
                ClientError::new("not_found", "No such terminal in this workspace").with_status(404)
            })?;
            Ok(attach(&socket, &id, capacity, JsValue::UNDEFINED)?.into())
        })
    }

    /// The workspace's terminals (`GET /terminals`).
    #[wasm_bindgen(unchecked_return_type = "Promise<TerminalSession[]>")]
    pub fn list(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] options: Option<JsValue>,
    ) -> Promise {
        simple_call(
            &self.target,
            "GET",
            "/terminals",
            options,
            "terminals.list(options)",
            Some("terminals"),
        )
    }

    /// A terminal's scrollback (`GET /terminals/{id}/scrollback`) as bytes.
    #[wasm_bindgen(unchecked_return_type = "Promise<Uint8Array>")]
    pub fn scrollback(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "ScrollbackOptions")] options: Option<
            JsValue,
        >,
    ) -> Promise {
        const CALL: &str = "terminals.scrollback(id, options)";
        let target = self.target.clone();
        promise(async move {
            let id = id
                .as_string()
                .filter(|s| !s.is_empty())
                .ok_or_else(|| invalid(CALL, "id", "a terminal id string"))?;
            let options = Options::read(options, CALL)?;
            let signal = options.signal()?;
            let bytes = options.integer("bytes", 0.0, 1e12)?.map(|n| n.to_string());
            let url = target.url(&terminal_path(&id, "/scrollback"), &[("bytes", bytes)]);
            let text = target.call_text(api::get(url), signal).await?;
            let data = string_field(&text, "scrollback")
                .and_then(|b| base64url::decode_standard(&b))
                .ok_or_else(|| {
                    ClientError::new(codes::SERVER_ERROR, "The scrollback is not base64")
                })?;
            Ok(Uint8Array::from(data.as_slice()).into())
        })
    }
}

/// The `scrollback_size` of terminal `id` in a `TerminalSession[]`.
fn find_session(list: &JsValue, id: &str) -> Option<usize> {
    let list: &js_sys::Array = list.dyn_ref()?;
    list.iter().find_map(|session| {
        let this_id = get(&session, "id");
        // (Compared as numbers too, without formatting a float: that links ~10 KB of wasm.)
        let number = frames::terminal_byte(id).ok().map(f64::from);
        let same = this_id.as_string().as_deref() == Some(id)
            || (number.is_some() && this_id.as_f64() == number);
        same.then(|| {
            get(&session, "scrollback_size")
                .as_f64()
                .map_or(DEFAULT_SCROLLBACK, |n| n as usize)
        })
    })
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

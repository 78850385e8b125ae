//! The workspace's one WebSocket (`/ws?token=…`), shared by a runtime's terminals and watchers:
//! opened when the first of them needs it, closed when none is left, on `dispose()` and on an
//! explicit `free()` of the runtime. It reconnects on any close the client did not ask for, with a
//! gateway token valid at that moment, and catches terminals up from their scrollback so the
//! consumer sees every byte once (`core::catchup`). The decisions are `core::socket`'s,
//! `core::frames`' and `core::catchup`'s; the I/O (the socket, its listeners and timers, the send
//! queue, the app's callbacks) is `js/socket.js`, which asks them through one function.
//!
//! The token stands in the URL because browsers cannot set headers on a WebSocket: that URL is
//! built here, handed to `new WebSocket` and dropped; it is never logged nor put in an error.

use super::target::{gateway_call, Target};
use crate::bindings::call;
use crate::bindings::error::to_js;
use crate::core::api;
use crate::core::catchup;
use crate::core::error::ClientError;
use crate::core::frames::{self, Message};
use crate::core::runtime::{Body, HttpRequest, Runtime};
use crate::core::socket::{self, AfterClose};
use crate::prelude::*;
use alloc::rc::{Rc, Weak};
use core::cell::RefCell;
use js_sys::{Array, Function, Promise, Uint8Array};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/js/socket.js")]
extern "C" {
    /// The socket's I/O (`js/socket.js`).
    #[derive(Clone)]
    pub type Conn;
    #[wasm_bindgen(constructor)]
    fn new(
        rust: &Function,
        signal: &web_sys::AbortSignal,
        sleep_gap_ms: f64,
        heartbeat_ms: f64,
        stable_ms: f64,
    ) -> Conn;
    #[wasm_bindgen(method, js_name = shutDown)]
    fn shut_down(this: &Conn, error: JsValue);
    #[wasm_bindgen(method)]
    fn end(this: &Conn);
    /// A terminal object, not on the socket yet.
    #[wasm_bindgen(method)]
    pub fn term(this: &Conn) -> Handle;
    /// `terminals.create(options)` or `terminals.attach(id, options)`: resolves with `handle`
    /// once `term` is on the socket; frees `handle` otherwise.
    #[wasm_bindgen(method)]
    pub fn open(
        this: &Conn,
        term: &Handle,
        handle: &JsValue,
        attach: bool,
        id: JsValue,
        options: Option<JsValue>,
    ) -> Promise;
    /// `terminals.scrollback(id, options)`.
    #[wasm_bindgen(method)]
    pub fn scrollback(this: &Conn, id: JsValue, options: Option<JsValue>) -> Promise;
    /// A watcher object, not created yet.
    #[wasm_bindgen(method)]
    pub fn watcher(this: &Conn) -> Handle;
    /// `watchers.create(options)`: resolves with `handle` once the gateway says the watcher is
    /// ready; frees `handle` otherwise.
    #[wasm_bindgen(method)]
    pub fn watch(
        this: &Conn,
        watcher: &Handle,
        handle: &JsValue,
        options: JsValue,
        timeout_ms: f64,
    ) -> Promise;

    /// A terminal or a watcher of js/socket.js: what js/views.js `Terminal` and `Watcher` call.
    #[wasm_bindgen(extends = js_sys::Object)]
    pub type Handle;
}

/// A runtime's one socket: created on first use, alive while a terminal, a watcher or the app's
/// `connection` handle holds it.
pub struct ConnectionSlot {
    target: Rc<Target>,
    slot: RefCell<Weak<Connection>>,
}

impl ConnectionSlot {
    pub fn new(target: Rc<Target>) -> Rc<Self> {
        Rc::new(ConnectionSlot {
            target,
            slot: RefCell::new(Weak::new()),
        })
    }

    /// The socket (created, idle, when there is none).
    pub fn get(&self) -> Rc<Connection> {
        if let Some(connection) = self.current() {
            return connection;
        }
        let connection = Connection::new(self.target.clone());
        self.slot.replace(Rc::downgrade(&connection));
        connection
    }

    pub fn current(&self) -> Option<Rc<Connection>> {
        self.slot.borrow().upgrade()
    }
}

pub struct Connection {
    pub js: Conn,
    _decide: Closure<dyn Fn(u32, JsValue, JsValue, JsValue, JsValue) -> JsValue>,
}

impl Connection {
    pub fn new(target: Rc<Target>) -> Rc<Self> {
        let signal = target.session.dispose_signal();
        let decide = Closure::<dyn Fn(u32, JsValue, JsValue, JsValue, JsValue) -> JsValue>::new(
            move |op, a, b, c, d| decide(&target, op, a, b, c, d),
        );
        let js = Conn::new(
            decide.as_ref().unchecked_ref(),
            &signal,
            socket::SLEEP_GAP_MS,
            socket::HEARTBEAT_MS,
            socket::STABLE_MS,
        );
        Rc::new(Connection {
            js,
            _decide: decide,
        })
    }

    /// Disposed or freed: nothing reconnects any more.
    pub fn shut_down(&self) {
        self.js.shut_down(to_js(ClientError::disposed()));
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.js.end();
    }
}

/// What `js/socket.js` asks (see its head).
fn decide(target: &Rc<Target>, op: u32, a: JsValue, b: JsValue, c: JsValue, d: JsValue) -> JsValue {
    let number = |v: &JsValue| v.as_f64().unwrap_or(0.0);
    match op {
        0 => {
            // The held token is dead (rotated): forget it, unless it was renewed meanwhile.
            let cell = target.cell();
            if cell.generation() == number(&a) as u64 {
                cell.clear();
            }
            JsValue::UNDEFINED
        }
        1 => {
            // `method`, the path's pieces (every second one an id, encoded), a JSON body, a signal.
            let method = match a.as_string().as_deref() {
                Some("DELETE") => "DELETE",
                Some("POST") => "POST",
                _ => "GET",
            };
            let mut path = String::new();
            for (i, piece) in Array::from(&b).iter().enumerate() {
                let piece = piece.as_string().unwrap_or_default();
                path.push_str(&if i % 2 == 1 {
                    api::encode_component(&piece)
                } else {
                    piece
                });
            }
            let request = HttpRequest {
                method,
                url: target.url(&path, &[]),
                body: c.as_string().map(Body::Json),
            };
            gateway_call(target, Ok((request, d.dyn_into().ok())), None).into()
        }
        2 => {
            let delivered = Uint8Array::new(&a).to_vec();
            let bytes = Uint8Array::new(&b).to_vec();
            let held: Vec<Vec<u8>> = Array::from(&d)
                .iter()
                .map(|f| Uint8Array::new(&f).to_vec())
                .collect();
            let live: Vec<&[u8]> = held.iter().map(Vec::as_slice).collect();
            let alignment = catchup::align(&delivered, &bytes, number(&c) as usize, &live);
            Array::of3(
                &alignment
                    .notice
                    .map_or(JsValue::UNDEFINED, |n| n.as_str().into()),
                &Uint8Array::from(&bytes[alignment.missed_from..]),
                &(alignment.live_frames_covered as f64).into(),
            )
            .into()
        }
        3 => {
            let text = a.as_string().unwrap_or_default();
            let s = |s: &str| JsValue::from_str(s);
            match frames::message(&text) {
                Message::TerminalExit { terminal, code } => {
                    Array::of3(&0.into(), &terminal.into(), &code.into())
                }
                Message::WatcherReady { watcher } => Array::of2(&1.into(), &s(&watcher)),
                Message::WatcherChange { watcher, path, op } => {
                    Array::of4(&2.into(), &s(&watcher), &s(&path), &s(&op))
                }
                Message::WatcherOverflow { watcher, message } => {
                    Array::of3(&3.into(), &s(&watcher), &s(&message))
                }
                Message::Other => return JsValue::UNDEFINED,
            }
            .into()
        }
        4 => {
            let code = number(&a) as u16;
            JsValue::from(match socket::after_close(code) {
                AfterClose::Replaced => 2,
                AfterClose::Reconnect { fresh_token } => u32::from(fresh_token),
            })
        }
        5 => socket::retry_delay_ms(number(&a) as u32, target.session.platform.random()).into(),
        6 => lease(target, number(&a) > 0.0),
        _ => {
            let mut error = ClientError::new(&a.as_string().unwrap_or_default(), "");
            error.status = b.as_f64().map(|n| n as u16);
            socket::is_final(&error).into()
        }
    }
}

/// The next attempt's URL, with a gateway token valid now: first a promise that resolves once
/// the token is good (refreshed first when due: it rejects with the error then, and
/// `socket::is_final` says whether that ends the socket); asked again then (`waited`),
/// `[url, generation]`. The promise also leaves a socket closed at once (a terminal created and
/// closed) time to cancel the attempt: closing a socket that is still connecting makes the
/// browser log its URL. The snippet asks
/// `GET /health` first on a reconnect (with the same rules as any gateway call, so a refused
/// token is re-minted there): a handshake the gateway would refuse is never tried, since
/// browsers hide its status and log its URL, token included.
fn lease(target: &Rc<Target>, waited: bool) -> JsValue {
    let cell = target.cell();
    match cell.lease_now().filter(|_| waited) {
        Some(lease) => {
            let url = socket_url(&target.session.gateway_url, &lease.secret);
            Array::of2(&url.into(), &(lease.generation as f64).into()).into()
        }
        None => call::refreshed(&target.session, cell),
    }
}

/// `http(s)://host` → `ws(s)://host/ws?token=…`.
fn socket_url(gateway_url: &str, token: &str) -> String {
    let rest = gateway_url
        .strip_prefix("https://")
        .map(|r| ("wss://", r))
        .or_else(|| gateway_url.strip_prefix("http://").map(|r| ("ws://", r)));
    let (scheme, host) = rest.unwrap_or(("wss://", gateway_url));
    let mut url = String::from(scheme);
    url.push_str(host.trim_end_matches('/'));
    url.push_str("/ws?token=");
    url.push_str(&api::encode_component(token));
    url
}

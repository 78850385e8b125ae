//! The workspace's one WebSocket (`/ws?token=…`), shared by a runtime's terminals and watchers:
//! opened when the first of them needs it, closed when none is left, on `dispose()` and on an
//! explicit `free()` of the runtime. It reconnects on any close the client did not ask for, with a
//! gateway token valid at that moment, and catches terminals up from their scrollback so the
//! consumer sees every byte once (`core::catchup`). The decisions are `core::socket`'s.
//!
//! The token stands in the URL because browsers cannot set headers on a WebSocket: that URL is
//! built here, handed to `new WebSocket` and dropped; it is never logged nor put in an error.

use super::target::Target;
use crate::bindings::convert::set;
use crate::bindings::platform::timer_delay;
use crate::core::api;
use crate::core::base64url;
use crate::core::catchup::{self, Delivered, Notice};
use crate::core::error::{codes, ClientError};
use crate::core::flight::Flight;
use crate::core::frames::{self, Message};
use crate::core::json::{self, Value};
use crate::core::runtime::Runtime;
use crate::core::socket::{self, AfterClose, State};
use gloo_events::EventListener;
use gloo_timers::callback::{Interval, Timeout};
use js_sys::{Function, Object, Uint8Array};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};

/// Callbacks registered by the app, each with the id its unsubscribe function removes.
#[derive(Default)]
pub struct Handlers {
    next: Cell<u32>,
    list: RefCell<Vec<(u32, Function)>>,
}

impl Handlers {
    pub fn add(&self, callback: Function) -> u32 {
        let id = self.next.get().wrapping_add(1);
        self.next.set(id);
        self.list.borrow_mut().push((id, callback));
        id
    }

    pub fn remove(&self, id: u32) {
        self.list.borrow_mut().retain(|(i, _)| *i != id);
    }

    pub fn clear(&self) {
        self.list.borrow_mut().clear();
    }

    /// Calls every handler with `argument`; a handler that throws is the app's bug, not ours.
    pub fn call(&self, argument: &JsValue) {
        let callbacks: Vec<Function> = self.list.borrow().iter().map(|(_, f)| f.clone()).collect();
        for callback in callbacks {
            let _ = callback.call1(&JsValue::NULL, argument);
        }
    }
}

/// `onX(cb)`: registers `cb`, returns the function that unregisters it.
pub fn subscribe(handlers: &Rc<Handlers>, callback: Function) -> Function {
    let id = handlers.add(callback);
    let weak = Rc::downgrade(handlers);
    Closure::<dyn FnMut()>::new(move || {
        if let Some(handlers) = weak.upgrade() {
            handlers.remove(id);
        }
    })
    .into_js_value()
    .unchecked_into()
}

/// A terminal as the connection sees it.
pub struct TerminalState {
    pub id: String,
    pub byte: u8,
    /// The terminal's scrollback size: how much of the delivered output to remember.
    pub capacity: usize,
    pub on_data: Rc<Handlers>,
    pub on_exit: Rc<Handlers>,
    pub on_notice: Rc<Handlers>,
    delivered: RefCell<Delivered>,
    /// Live frames held while the scrollback is fetched (`Some` while catching up).
    held: RefCell<Option<Vec<Vec<u8>>>>,
    /// Bumped by every catch-up; a late answer of an older one is dropped.
    epoch: Cell<u64>,
    pub size: Cell<Option<(u16, u16)>>,
    /// An exit frame that came during a catch-up, delivered after it.
    pending_exit: Cell<Option<i32>>,
    pub ended: Cell<bool>,
}

impl TerminalState {
    pub fn new(id: String, byte: u8, capacity: usize) -> Rc<Self> {
        Rc::new(TerminalState {
            id,
            byte,
            capacity,
            on_data: Rc::default(),
            on_exit: Rc::default(),
            on_notice: Rc::default(),
            delivered: RefCell::new(Delivered::new(capacity)),
            held: RefCell::new(None),
            epoch: Cell::new(0),
            size: Cell::new(None),
            pending_exit: Cell::new(None),
            ended: Cell::new(false),
        })
    }

    fn deliver(&self, bytes: &[u8]) {
        if bytes.is_empty() || self.ended.get() {
            return;
        }
        self.delivered.borrow_mut().push(bytes);
        self.on_data.call(&Uint8Array::from(bytes).into());
    }

    fn output(&self, bytes: &[u8]) {
        let mut held = self.held.borrow_mut();
        match held.as_mut() {
            Some(frames) => frames.push(bytes.to_vec()),
            None => {
                drop(held);
                self.deliver(bytes);
            }
        }
    }

    fn exit(&self, code: i32) {
        if self.held.borrow().is_some() {
            self.pending_exit.set(Some(code));
            return;
        }
        if !self.ended.replace(true) {
            self.on_exit.call(&JsValue::from(code));
        }
    }

    fn notice(&self, notice: Notice) {
        let info = Object::new();
        set(&info, "kind", &JsValue::from_str(notice.as_str()));
        let message = match notice {
            Notice::Gap => "The socket was away longer than the scrollback holds: output was lost",
            Notice::Ambiguous => {
                "Replayed output matched at more than one place: some may be repeated or missing"
            }
        };
        set(&info, "message", &JsValue::from_str(message));
        self.on_notice.call(&info.into());
    }
}

/// A watcher as the connection sees it.
pub struct WatcherState {
    /// The id the app sees (the first one the gateway gave).
    pub id: String,
    /// The gateway's id now (a new one after the watcher had to be created again).
    pub server_id: RefCell<String>,
    pub path: String,
    pub excludes: JsValue,
    pub on_event: Rc<Handlers>,
    pub on_overflow: Rc<Handlers>,
    /// Completed by the watcher's `ready` message.
    pub ready: RefCell<Rc<Flight>>,
    pub ended: Cell<bool>,
}

enum Outgoing {
    Binary(Vec<u8>),
    Text(String),
}

/// Keystrokes queued while the socket is away, at most this many bytes.
const MAX_QUEUED_BYTES: usize = 1 << 20;

struct Live {
    socket: WebSocket,
    opened_ms: Cell<Option<f64>>,
    _listeners: [EventListener; 3],
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
    target: Rc<Target>,
    state: Cell<State>,
    live: RefCell<Option<Live>>,
    /// Bumped for every socket; events of an older one are ignored.
    socket_epoch: Cell<u64>,
    attempts: Cell<u32>,
    /// The held gateway token is known to be dead (rotated): mint anew before the next attempt,
    /// unless the cell holds a newer one than the socket was opened with (this client's own
    /// `apiAccess.rotateToken` / `reconnect` installed the token it got back).
    stale_token: Cell<bool>,
    /// The cell's generation of the token the socket was opened with.
    token_generation: Cell<u64>,
    error: RefCell<Option<ClientError>>,
    pub terminals: RefCell<Vec<Rc<TerminalState>>>,
    pub watchers: RefCell<Vec<Rc<WatcherState>>>,
    outbox: RefCell<VecDeque<Outgoing>>,
    queued_bytes: Cell<usize>,
    pub on_state: Rc<Handlers>,
    retry: RefCell<Option<Timeout>>,
    heartbeat: RefCell<Option<Interval>>,
    last_beat: Cell<f64>,
    page: RefCell<Vec<EventListener>>,
    /// Ends everything when the client is disposed.
    _disposed: RefCell<Option<EventListener>>,
}

fn gateway_error(message: &str) -> ClientError {
    ClientError::new(codes::NETWORK_ERROR, message)
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

impl Connection {
    pub fn new(target: Rc<Target>) -> Rc<Self> {
        let connection = Rc::new(Connection {
            target,
            state: Cell::new(State::Idle),
            live: RefCell::new(None),
            socket_epoch: Cell::new(0),
            attempts: Cell::new(0),
            stale_token: Cell::new(false),
            token_generation: Cell::new(0),
            error: RefCell::new(None),
            terminals: RefCell::new(Vec::new()),
            watchers: RefCell::new(Vec::new()),
            outbox: RefCell::new(VecDeque::new()),
            queued_bytes: Cell::new(0),
            on_state: Rc::default(),
            retry: RefCell::new(None),
            heartbeat: RefCell::new(None),
            last_beat: Cell::new(0.0),
            page: RefCell::new(Vec::new()),
            _disposed: RefCell::new(None),
        });
        let weak = Rc::downgrade(&connection);
        let signal = connection.target.session.dispose_signal();
        let listener = EventListener::once(&signal, "abort", move |_| {
            if let Some(c) = weak.upgrade() {
                c.shut_down(Some(ClientError::disposed()));
            }
        });
        connection._disposed.replace(Some(listener));
        connection
    }

    pub fn state(&self) -> State {
        self.state.get()
    }

    pub fn error(&self) -> Option<ClientError> {
        self.error.borrow().clone()
    }

    fn set_state(&self, state: State) {
        if self.state.replace(state) != state {
            self.on_state.call(&JsValue::from_str(state.as_str()));
        }
    }

    fn users(&self) -> usize {
        self.terminals.borrow().len() + self.watchers.borrow().len()
    }

    /// A terminal or watcher needs the socket: open it if it is not.
    pub fn need(self: &Rc<Self>) -> Result<(), ClientError> {
        if let Some(error) = self.error() {
            return Err(error);
        }
        if self.state() == State::Idle {
            self.set_state(State::Connecting);
            self.attempts.set(0);
            self.listen_to_page();
            self.connect();
        }
        Ok(())
    }

    /// A terminal or watcher is gone: close the socket once none is left.
    pub fn release(self: &Rc<Self>) {
        if self.users() == 0 && !matches!(self.state(), State::Closed) {
            self.close_socket();
            self.set_state(State::Idle);
        }
    }

    /// `connection.reconnect()`: take the socket back after `replaced` (or try again at once).
    pub fn reconnect(self: &Rc<Self>) {
        if matches!(self.state(), State::Closed | State::Idle) {
            return;
        }
        self.close_socket();
        self.attempts.set(0);
        self.set_state(State::Reconnecting);
        self.connect();
    }

    /// Disposed, freed, or the workspace is unreachable: nothing reconnects any more.
    pub fn shut_down(&self, error: Option<ClientError>) {
        if self.state() == State::Closed {
            return;
        }
        if let Some(error) = error {
            self.error.replace(Some(error.clone()));
            for watcher in self.watchers.borrow().iter() {
                watcher.ready.borrow().complete(Err(error.clone()));
            }
        }
        self.close_socket();
        self.page.replace(Vec::new());
        self.outbox.borrow_mut().clear();
        self.set_state(State::Closed);
    }

    fn close_socket(&self) {
        self.retry.replace(None);
        self.heartbeat.replace(None);
        self.socket_epoch.set(self.socket_epoch.get() + 1);
        if let Some(live) = self.live.replace(None) {
            let _ = live
                .socket
                .close_with_code_and_reason(socket::CLOSE_NORMAL, "client close");
        }
    }

    fn now(&self) -> f64 {
        self.target.session.now_ms()
    }

    /// One attempt. A reconnect first asks `GET /health` with the same rules as any gateway call
    /// (a refused token is re-minted there): a handshake the gateway would refuse is never tried,
    /// since browsers hide its status and log its URL, token included. Then `new WebSocket` with
    /// the token valid now.
    fn connect(self: &Rc<Self>) {
        let epoch = self.socket_epoch.get() + 1;
        self.socket_epoch.set(epoch);
        let probe_first = self.state() != State::Connecting;
        let weak = Rc::downgrade(self);
        self.target.session.platform.spawn(Box::pin(async move {
            let Some(this) = weak.upgrade() else { return };
            let cell = this.target.cell();
            if this.stale_token.replace(false) && cell.generation() == this.token_generation.get() {
                cell.clear();
            }
            let current = |this: &Connection| {
                this.socket_epoch.get() == epoch && this.state() != State::Closed
            };
            if probe_first {
                let health = this.target.url("/health", &[]);
                let probe = this.target.call_text(api::get(health), None).await;
                if !current(&this) {
                    return;
                }
                match socket::after_probe(probe.map(|_| ())) {
                    Err(error) => return this.shut_down(Some(error)),
                    Ok(Some(_transient)) => return this.schedule_retry(),
                    Ok(None) => {}
                }
            }
            let lease = this.target.session.guarded(None, cell.acquire()).await;
            if !current(&this) {
                return;
            }
            match lease {
                Ok(lease) => {
                    this.token_generation.set(lease.generation);
                    this.open(epoch, &lease.secret)
                }
                Err(error) if socket::is_final(&error) => this.shut_down(Some(error)),
                Err(_) => this.schedule_retry(),
            }
        }));
    }

    fn open(self: &Rc<Self>, epoch: u64, token: &str) {
        let url = socket_url(&self.target.session.gateway_url, token);
        // The constructor's error would quote the URL: it is replaced by our own.
        let Ok(ws) = WebSocket::new(&url) else {
            drop(url);
            self.shut_down(Some(gateway_error(
                "The workspace socket could not be created (invalid gateway URL)",
            )));
            return;
        };
        drop(url);
        ws.set_binary_type(BinaryType::Arraybuffer);
        let on = |event: &'static str, handler: fn(&Rc<Connection>, u64, &web_sys::Event)| {
            let weak = Rc::downgrade(self);
            EventListener::new(&ws, event, move |e| {
                if let Some(c) = weak.upgrade() {
                    if c.socket_epoch.get() == epoch {
                        handler(&c, epoch, e);
                    }
                }
            })
        };
        let listeners = [
            on("open", |c, _, _| c.opened()),
            on("message", |c, _, e| c.message(e)),
            on("close", |c, _, e| c.closed(e)),
        ];
        self.live.replace(Some(Live {
            socket: ws,
            opened_ms: Cell::new(None),
            _listeners: listeners,
        }));
    }

    fn opened(self: &Rc<Self>) {
        let now = self.now();
        if let Some(live) = self.live.borrow().as_ref() {
            live.opened_ms.set(Some(now));
        }
        self.set_state(State::Open);
        self.error.replace(None);
        self.last_beat.set(now);
        let weak = Rc::downgrade(self);
        let beat = Interval::new(timer_delay(socket::HEARTBEAT_MS), move || {
            if let Some(c) = weak.upgrade() {
                c.heartbeat();
            }
        });
        self.heartbeat.replace(Some(beat));
        // Sizes first, then what waited, then each terminal catches up and watchers are checked.
        let terminals: Vec<_> = self.terminals.borrow().clone();
        for terminal in &terminals {
            if let Some((cols, rows)) = terminal.size.get() {
                self.send(Outgoing::Text(frames::resize(terminal.byte, cols, rows)));
            }
        }
        self.flush();
        for terminal in terminals {
            self.catch_up(&terminal);
        }
        let watchers: Vec<_> = self.watchers.borrow().clone();
        let reconnected = self.attempts.get() > 0 || self.socket_epoch.get() > 1;
        for watcher in watchers {
            if reconnected {
                self.restore_watcher(watcher);
            }
        }
    }

    fn message(self: &Rc<Self>, event: &web_sys::Event) {
        let Some(event) = event.dyn_ref::<MessageEvent>() else {
            return;
        };
        let data = event.data();
        if let Some(text) = data.as_string() {
            self.text(&text);
            return;
        }
        let bytes = Uint8Array::new(&data).to_vec();
        let Some((byte, output)) = frames::output(&bytes) else {
            return;
        };
        let terminal = self
            .terminals
            .borrow()
            .iter()
            .find(|t| t.byte == byte)
            .cloned();
        if let Some(terminal) = terminal {
            terminal.output(output);
        }
    }

    fn text(self: &Rc<Self>, text: &str) {
        match frames::message(text) {
            Message::TerminalExit { terminal, code } => {
                let found = self
                    .terminals
                    .borrow()
                    .iter()
                    .find(|t| t.byte == terminal)
                    .cloned();
                if let Some(terminal) = found {
                    terminal.exit(code);
                    if terminal.ended.get() {
                        self.forget_terminal(&terminal);
                    }
                }
            }
            Message::WatcherReady { watcher } => {
                if let Some(w) = self.watcher(&watcher) {
                    w.ready.borrow().complete(Ok(()));
                }
            }
            Message::WatcherChange { watcher, path, op } => {
                if let Some(w) = self.watcher(&watcher) {
                    let event = Object::new();
                    set(&event, "path", &JsValue::from_str(&path));
                    set(&event, "op", &JsValue::from_str(&op));
                    w.on_event.call(&event.into());
                }
            }
            Message::WatcherOverflow { watcher, message } => {
                if let Some(w) = self.watcher(&watcher) {
                    w.on_overflow.call(&JsValue::from_str(&message));
                }
            }
            Message::Other => {}
        }
    }

    fn watcher(&self, server_id: &str) -> Option<Rc<WatcherState>> {
        self.watchers
            .borrow()
            .iter()
            .find(|w| *w.server_id.borrow() == server_id)
            .cloned()
    }

    fn closed(self: &Rc<Self>, event: &web_sys::Event) {
        let code = event.dyn_ref::<CloseEvent>().map_or(1006, CloseEvent::code);
        let opened = self
            .live
            .replace(None)
            .and_then(|live| live.opened_ms.get());
        self.heartbeat.replace(None);
        // A socket that never opened: the next attempt's probe says why.
        let Some(opened_ms) = opened else {
            return self.schedule_retry();
        };
        if self.now() - opened_ms >= socket::STABLE_MS {
            self.attempts.set(0);
        }
        match socket::after_close(code) {
            AfterClose::Replaced => self.set_state(State::Replaced),
            AfterClose::Reconnect { fresh_token } => {
                self.stale_token.set(fresh_token);
                self.schedule_retry();
            }
        }
    }

    fn schedule_retry(self: &Rc<Self>) {
        self.set_state(State::Reconnecting);
        let attempt = self.attempts.get() + 1;
        self.attempts.set(attempt);
        let delay = socket::retry_delay_ms(attempt, self.target.session.platform.random());
        let weak = Rc::downgrade(self);
        let timer = Timeout::new(timer_delay(delay), move || {
            if let Some(c) = weak.upgrade() {
                c.retry.replace(None);
                c.connect();
            }
        });
        self.retry.replace(Some(timer));
    }

    /// Timers stopped for a while (the laptop slept): the socket may be dead while it says open.
    fn heartbeat(self: &Rc<Self>) {
        let now = self.now();
        let gap = now - self.last_beat.replace(now);
        if gap > socket::SLEEP_GAP_MS && self.state() == State::Open {
            self.renew();
        }
    }

    /// Replace a socket that may be dead: a new one at once, catching up from the scrollback.
    fn renew(self: &Rc<Self>) {
        self.close_socket();
        self.set_state(State::Reconnecting);
        self.connect();
    }

    /// `online`, `pageshow` and the page becoming visible: retry now, or check an open socket.
    fn listen_to_page(self: &Rc<Self>) {
        let Some(window) = web_sys::window() else {
            return;
        };
        let wake = |target: &web_sys::EventTarget, event: &'static str| {
            let weak = Rc::downgrade(self);
            EventListener::new(target, event, move |e| {
                let Some(c) = weak.upgrade() else { return };
                let visible = web_sys::window()
                    .and_then(|w| w.document())
                    .is_none_or(|d| d.visibility_state() == web_sys::VisibilityState::Visible);
                let from_cache = e
                    .dyn_ref::<web_sys::PageTransitionEvent>()
                    .is_some_and(|p| p.persisted());
                match c.state() {
                    State::Reconnecting if visible => {
                        c.close_socket();
                        c.connect();
                    }
                    // A network change or a page restored from the back/forward cache: the open
                    // socket may be a dead one.
                    State::Open if event == "online" || from_cache => c.renew(),
                    _ => {}
                }
            })
        };
        let mut page = self.page.borrow_mut();
        if let Some(document) = window.document() {
            page.push(wake(&document, "visibilitychange"));
        }
        page.push(wake(&window, "online"));
        page.push(wake(&window, "pageshow"));
    }

    fn send(&self, message: Outgoing) {
        let live = self.live.borrow();
        let open = live
            .as_ref()
            .filter(|l| l.socket.ready_state() == WebSocket::OPEN);
        let sent = open.is_some_and(|l| match &message {
            Outgoing::Binary(bytes) => l.socket.send_with_u8_array(bytes).is_ok(),
            Outgoing::Text(text) => l.socket.send_with_str(text).is_ok(),
        });
        if !sent {
            let size = match &message {
                Outgoing::Binary(b) => b.len(),
                Outgoing::Text(t) => t.len(),
            };
            self.queued_bytes.set(self.queued_bytes.get() + size);
            self.outbox.borrow_mut().push_back(message);
        }
    }

    fn flush(&self) {
        let queued: Vec<Outgoing> = self.outbox.borrow_mut().drain(..).collect();
        self.queued_bytes.set(0);
        for message in queued {
            self.send(message);
        }
    }

    /// Keystrokes for a terminal, sent in order (queued while the socket is away).
    pub fn input(&self, terminal: u8, bytes: &[u8]) -> Result<(), ClientError> {
        if let Some(error) = self.error() {
            return Err(error);
        }
        if self.state() == State::Closed {
            return Err(ClientError::disposed());
        }
        if self.queued_bytes.get() + bytes.len() > MAX_QUEUED_BYTES {
            return Err(ClientError::new(
                "buffer_full",
                "More than 1 MiB of input waits for the socket: write later",
            ));
        }
        self.send(Outgoing::Binary(frames::input(terminal, bytes)));
        Ok(())
    }

    pub fn resize(&self, terminal: &TerminalState, cols: u16, rows: u16) {
        terminal.size.set(Some((cols, rows)));
        if self.state() == State::Open {
            self.send(Outgoing::Text(frames::resize(terminal.byte, cols, rows)));
        }
    }

    pub fn add_terminal(self: &Rc<Self>, terminal: Rc<TerminalState>) -> Result<(), ClientError> {
        self.need()?;
        self.terminals.borrow_mut().push(terminal.clone());
        if self.state() == State::Open {
            self.catch_up(&terminal);
        }
        Ok(())
    }

    pub fn forget_terminal(self: &Rc<Self>, terminal: &Rc<TerminalState>) {
        self.terminals
            .borrow_mut()
            .retain(|t| !Rc::ptr_eq(t, terminal));
        self.release();
    }

    pub fn add_watcher(self: &Rc<Self>, watcher: Rc<WatcherState>) -> Result<(), ClientError> {
        self.need()?;
        self.watchers.borrow_mut().push(watcher);
        Ok(())
    }

    pub fn forget_watcher(self: &Rc<Self>, watcher: &Rc<WatcherState>) {
        self.watchers
            .borrow_mut()
            .retain(|w| !Rc::ptr_eq(w, watcher));
        self.release();
    }

    /// Fetches the terminal's scrollback and delivers what the consumer missed, once.
    fn catch_up(self: &Rc<Self>, terminal: &Rc<TerminalState>) {
        let epoch = terminal.epoch.get() + 1;
        terminal.epoch.set(epoch);
        terminal.held.replace(Some(Vec::new()));
        let terminal = terminal.clone();
        let weak = Rc::downgrade(self);
        self.target.session.platform.spawn(Box::pin(async move {
            let Some(this) = weak.upgrade() else { return };
            let mut path = String::from("/terminals/");
            path.push_str(&api::encode_component(&terminal.id));
            path.push_str("/scrollback");
            let url = this.target.url(&path, &[]);
            let answer = this.target.call_text(api::get(url), None).await;
            if terminal.epoch.get() != epoch {
                return;
            }
            let held = terminal.held.replace(None).unwrap_or_default();
            match answer.map(|text| scrollback(&text)) {
                Ok(Some((bytes, exit))) => {
                    let live: Vec<&[u8]> = held.iter().map(Vec::as_slice).collect();
                    let delivered = terminal.delivered.borrow().to_vec();
                    let alignment = catchup::align(&delivered, &bytes, terminal.capacity, &live);
                    if let Some(notice) = alignment.notice {
                        terminal.notice(notice);
                    }
                    terminal.deliver(&bytes[alignment.missed_from..]);
                    for frame in &held[alignment.live_frames_covered..] {
                        terminal.deliver(frame);
                    }
                    if let Some(code) = exit.or(terminal.pending_exit.take()) {
                        terminal.exit(code);
                    }
                }
                Ok(None) | Err(_) => {
                    // No scrollback to align with: deliver what came live, say output may be lost.
                    terminal.notice(Notice::Gap);
                    for frame in &held {
                        terminal.deliver(frame);
                    }
                    if let Some(code) = terminal.pending_exit.take() {
                        terminal.exit(code);
                    }
                }
            }
            if terminal.ended.get() {
                this.forget_terminal(&terminal);
            }
        }));
    }

    /// After a reconnect: the watcher still exists, or is created again under a new id; either
    /// way events may have been missed while the socket was away.
    fn restore_watcher(self: &Rc<Self>, watcher: Rc<WatcherState>) {
        let weak = Rc::downgrade(self);
        self.target.session.platform.spawn(Box::pin(async move {
            let Some(this) = weak.upgrade() else { return };
            let mut path = String::from("/watchers/");
            path.push_str(&api::encode_component(&watcher.server_id.borrow()));
            let exists = this
                .target
                .call_text(api::get(this.target.url(&path, &[])), None)
                .await;
            if exists.as_ref().is_err_and(|e| e.status == Some(404)) {
                if let Ok(id) = create_watcher(&this.target, &watcher.path, &watcher.excludes).await
                {
                    watcher.server_id.replace(id);
                }
            }
            if !watcher.ended.get() {
                watcher.on_overflow.call(&JsValue::from_str(
                    "The socket was away: events may have been missed",
                ));
            }
        }));
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.retry.replace(None);
        self.heartbeat.replace(None);
        if let Some(live) = self.live.replace(None) {
            let _ = live
                .socket
                .close_with_code_and_reason(socket::CLOSE_NORMAL, "client close");
        }
    }
}

/// `{scrollback: <base64>, alive, exit_code}` → the bytes, and the exit code once it ended.
fn scrollback(text: &str) -> Option<(Vec<u8>, Option<i32>)> {
    let members = json::object(text)?;
    let bytes = match json::last(&members, "scrollback") {
        Some(Value::String(s)) => base64url::decode_standard(&s.decode())?,
        _ => Vec::new(),
    };
    let alive = json::last(&members, "alive").and_then(Value::as_bool) != Some(false);
    let exit = match json::last(&members, "exit_code") {
        Some(Value::Number(n)) if !alive && n.fract() == 0.0 => Some(*n as i32),
        _ if !alive => Some(-1),
        _ => None,
    };
    Some((bytes, exit))
}

/// `POST /watchers {path, excludes}` → the gateway's watcher id.
pub async fn create_watcher(
    target: &Target,
    path: &str,
    excludes: &JsValue,
) -> Result<String, ClientError> {
    let body = Object::new();
    set(&body, "path", &JsValue::from_str(path));
    if !excludes.is_undefined() {
        set(&body, "excludes", excludes);
    }
    let body = crate::bindings::convert::stringify(&body.into(), "watchers.create(options)")?;
    let text = target
        .call_text(api::post(target.url("/watchers", &[]), body), None)
        .await?;
    let watcher = crate::core::request::field_object(&text, "watcher")?;
    let members = json::object(&watcher).unwrap_or_default();
    match json::last(&members, "id") {
        Some(Value::String(s)) => Ok(s.decode().into_owned()),
        Some(Value::Number(n)) => Ok((*n as i64).to_string()),
        _ => Err(ClientError::new(
            codes::SERVER_ERROR,
            "The watcher has no id",
        )),
    }
}

/// Waits for `flight` unless the call's signal or the client's dispose ends the wait first.
pub async fn wait_ready(
    target: &Target,
    flight: Rc<Flight>,
    signal: Option<web_sys::AbortSignal>,
) -> Result<(), ClientError> {
    let session = &target.session;
    let timeout = session.platform.sleep(session.timeout_ms());
    let ready = flight.wait();
    let timed_out = async {
        timeout.await;
        Err(ClientError::new(
            codes::TIMEOUT,
            "The watcher was not ready in time",
        ))
    };
    session
        .guarded(signal, crate::core::flight::race(ready, timed_out))
        .await
}

//! Authorised requests, driven by js/fetch.js `call`: the JS loop sends each attempt and asks
//! this file's `step` what next; the retry rules (`core::request::Attempts`), the token cell and
//! the mapping of answers stay in Rust. A plain call with a fresh token is one wasm crossing
//! before `fetch` and two after, with no Rust future (a future, its closures and its promise per
//! call cost the wasm bytes and each call ~0.05 ms). The rest of the bindings use this file for
//! every request: JSON calls for JS (`send_js`) and for Rust (`api_started`: a mint's),
//! raw answers (`raw_response`), the requests of streams and transfers (`open`, `upload`), whose
//! refusal is read whole and mapped to an `OblienError`, and `runtime(id)`'s polls while a
//! workspace provisions (`runtime`). A refresh to wait for is a promise the refresh's flight
//! settles (`error::when_done`; the socket's lease waits the same way: `refreshed`); the caller's
//! signal and `dispose()` end the wait in js/fetch.js. No Rust future is left on this path.

use super::convert::{get, parse_json};
use super::error::{or_rejected, to_js, when_done};
use super::fetch::{progress, Outgoing, RawResponse, Reply, Signals};
use super::platform::{timer_delay, BrowserPlatform};
use super::session::Session;
use super::views;
use crate::core::cell::{Acquire, Lease, Recover, TokenCell, ACQUIRE_WAITS};
use crate::core::error::ClientError;
use crate::core::gateway::Provision;
use crate::core::proxy::is_gateway_refusal;
use crate::core::request::{
    into_result, is_result, no_object, transport_error, Attempts, Next, Retries,
};
use crate::core::runtime::{HttpRequest, TransportError};
use crate::core::workspace::Call as WorkspaceCall;
use crate::prelude::*;
use alloc::rc::Rc;
use core::cell::{Cell, RefCell};
use js_sys::{Array, Promise};
use wasm_bindgen::prelude::*;
use web_sys::AbortSignal;

#[wasm_bindgen(module = "/js/fetch.js")]
extern "C" {
    /// The attempts of one call (js/fetch.js `call`), asking `step` after each; `mode` says what
    /// it sends and resolves with (the `MODE_*` below).
    #[wasm_bindgen(js_name = call)]
    #[allow(clippy::too_many_arguments)]
    fn js_call(
        step: &JsValue,
        mode: u8,
        input: &JsValue,
        method: &str,
        body: &JsValue,
        content_type: Option<&str>,
        dispose: &AbortSignal,
        caller: Option<AbortSignal>,
        ms: u32,
    ) -> Promise;
}

/// JSON, resolving with the result for JS (`STEP_RESULT`).
const MODE_JSON: u8 = 0;
/// JSON, resolving with the last answer (read here).
const MODE_JSON_REPLY: u8 = 1;
/// Raw, resolving with its `Response`; `+1`: through `/proxy` (an app's own 401 is its answer).
const MODE_RESPONSE: u8 = 2;
/// Raw, resolving with a success's answer once its headers are in (its body unread: a stream,
/// a transfer); a refusal is read whole and rejects with its error (`STEP_RESULT`).
const MODE_OPEN: u8 = 4;
/// Raw, its answer read whole (a success's too), resolving with what `STEP_RESULT` makes of it.
const MODE_READ: u8 = 5;

/// The token for the next attempt: a string, a promise to wait for (a refresh) before asking
/// again, or the `OblienError` the call rejects with.
const STEP_LEASE: u32 = 2;
/// An attempt's outcome (its answer, or the number js/fetch.js rejects with): `undefined` when
/// it is the call's answer, a number of ms to wait before the next attempt, whether to send again
/// after a 401 (a boolean, or a promise of it once the refresh is over), or the `OblienError` the
/// call rejects with.
const STEP_ANSWER: u32 = 3;
/// The last answer of a `MODE_JSON` call (or a `MODE_OPEN` refusal, read whole): the value it
/// resolves with, or its `OblienError`.
const STEP_RESULT: u32 = 4;

/// What a call's last answer becomes (`STEP_RESULT`).
enum Finish {
    /// The body as JSON, or only its member `field` (which must be an object when `object`).
    Json {
        field: Option<&'static str>,
        object: bool,
    },
    /// A stream's or a transfer's refusal: its error.
    Refusal,
    /// A call on the workspace (its id): what the answer means for its gateway token
    /// (`Registry::finish`, with what `Registry::begin` returned), then the JSON it resolves with.
    Workspace(String, WorkspaceCall, bool),
    /// `workspaces.runtime(id)`: the workspace's `cell` gets its first token before the first
    /// attempt, then each answer is a poll of the workspace (`Provision`, started then: polled
    /// again while it provisions); resolves with what `handle` makes of it.
    Runtime {
        id: String,
        cell: Rc<TokenCell>,
        wait: Cell<Option<Provision>>,
        handle: Handle,
    },
    /// `transfer.upload` (`MODE_READ`): `onProgress` (`progress`) told the whole `size` once a
    /// success's headers are in; its body as JSON, or a refusal's error.
    Upload { progress: JsValue, size: f64 },
}

/// What `workspaces.runtime(id)` resolves with (bindings/runtime `handle`: above this file).
pub type Handle = fn(Rc<Session>, String, Rc<TokenCell>) -> JsValue;

/// The body, whole.
const JSON: Finish = Finish::Json {
    field: None,
    object: false,
};

/// One call: its cell, its retry state, and what it resolves with.
struct Call {
    session: Rc<Session>,
    cell: Rc<TokenCell>,
    attempts: RefCell<Attempts>,
    /// The generation of the token the last attempt used (for a 401's refresh).
    generation: Cell<u64>,
    /// Refreshes waited for in a row without a token ([`ACQUIRE_WAITS`] at most).
    waits: Cell<u32>,
    proxied: bool,
    finish: Finish,
    /// The error the call ended with, for a Rust caller awaiting it.
    failed: RefCell<Option<ClientError>>,
}

impl Call {
    fn fail(&self, error: ClientError) -> JsValue {
        self.failed.replace(Some(error.clone()));
        to_js(error)
    }

    /// The error the call ended with (a rejected promise).
    fn ended(&self) -> ClientError {
        self.failed
            .take()
            .unwrap_or_else(|| transport_error(TransportError::Network))
    }

    /// `result`, its error kept for a Rust caller.
    fn settle(&self, result: Result<JsValue, ClientError>) -> JsValue {
        result.unwrap_or_else(|error| self.fail(error))
    }

    /// The token for the next attempt, or a promise that resolves once a refresh gave one
    /// (js/fetch.js asks again then), or the error the call ends with.
    fn lease(self: &Rc<Self>) -> JsValue {
        if self.session.is_disposed() {
            return self.fail(ClientError::disposed());
        }
        if let Finish::Runtime { cell, wait, .. } = &self.finish {
            // `runtime(id)`'s first attempt waits for the workspace's first token.
            if wait.get().is_none() {
                if let Err(instead) = self.acquire(cell) {
                    return instead;
                }
                wait.set(Some(Provision::start(self.session.now_ms())));
            }
        }
        match self.acquire(&self.cell) {
            Ok(lease) => {
                self.generation.set(lease.generation);
                lease.secret.into()
            }
            Err(instead) => instead,
        }
    }

    /// `cell`'s token now; else what JS gets instead: a promise of the refresh to wait for
    /// (rejected with the call's error when it fails), or that error now.
    fn acquire(self: &Rc<Self>, cell: &Rc<TokenCell>) -> Result<Lease, JsValue> {
        let flight = match cell.acquire_now() {
            Acquire::Ready(lease) => {
                self.waits.set(0);
                return Ok(lease);
            }
            Acquire::Fail(error) => return Err(self.fail(error)),
            Acquire::Wait(_) if self.waits.get() >= ACQUIRE_WAITS => {
                return Err(self.fail(cell.still_expired()))
            }
            Acquire::Wait(flight) => flight,
        };
        self.waits.set(self.waits.get() + 1);
        let (call, cell) = (self.clone(), cell.clone());
        Err(when_done(
            &flight,
            Box::new(move |outcome| match outcome {
                Ok(()) => Ok(JsValue::UNDEFINED),
                Err(cause) => Err(call.fail(cell.expired_error(cause.clone()))),
            }),
        )
        .into())
    }

    fn answer(self: &Rc<Self>, outcome: JsValue) -> JsValue {
        if self.session.is_disposed() || self.cell.is_disposed() {
            return self.fail(ClientError::disposed());
        }
        let runtime = BrowserPlatform;
        let mut attempts = self.attempts.borrow_mut();
        let next = match outcome.as_f64() {
            Some(code) => attempts.failed(transport_failure(code), &runtime),
            None => {
                let reply: Reply = outcome.clone().unchecked_into();
                let app_401 =
                    self.proxied && reply.status() == 401 && !is_gateway_refusal(&reply.text());
                attempts.answered(&RawResponse(reply, app_401), &runtime)
            }
        };
        drop(attempts);
        match next {
            Next::Done => self.done(outcome),
            Next::Wait(ms) => JsValue::from(timer_delay(ms)),
            Next::Recover => self.recover(),
            Next::Fail(error) => self.fail(error),
        }
    }

    /// After a 401: whether to send again (the token changed), or a promise of it once the
    /// refresh is over (rejected with its error), or the error the call ends with.
    fn recover(self: &Rc<Self>) -> JsValue {
        let used = self.generation.get();
        match self.cell.recover_now(used) {
            Ok(Recover::Replay(again)) => JsValue::from_bool(again),
            Ok(Recover::Wait(flight)) => {
                let (call, cell) = (self.clone(), self.cell.clone());
                when_done(
                    &flight,
                    Box::new(move |outcome| match outcome {
                        Ok(()) => Ok(JsValue::from_bool(cell.generation() != used)),
                        Err(error) => Err(call.fail(error.clone())),
                    }),
                )
                .into()
            }
            Err(error) => self.fail(error),
        }
    }

    /// The call's answer is in: `undefined` (the call ends with it), or for a workspace that is
    /// still provisioning, the ms to wait before polling it again (a poll of its own: its own
    /// retries), or the error of a poll.
    fn done(&self, outcome: JsValue) -> JsValue {
        let reply = outcome.unchecked_into::<Reply>();
        let wait = match &self.finish {
            Finish::Runtime { wait, .. } => wait,
            Finish::Upload {
                progress: callback,
                size,
            } => {
                if is_success(&reply) {
                    progress(callback, "upload", *size, Some(*size));
                }
                return JsValue::UNDEFINED;
            }
            _ => return JsValue::UNDEFINED,
        };
        let now = self.session.now_ms();
        let wait = wait.get().unwrap_or(Provision::start(now));
        let polled = into_result(reply.into_response()).and_then(|text| wait.answered(&text, now));
        match polled {
            Ok(None) => JsValue::UNDEFINED,
            Ok(Some(ms)) => {
                self.attempts
                    .replace(Attempts::new(Retries::for_method("GET")));
                JsValue::from(timer_delay(ms))
            }
            Err(error) => self.fail(error),
        }
    }

    /// The value a `MODE_JSON` call resolves with: the body as the browser parsed it (only an
    /// error's body is copied into the wasm, for the core to read), or its member `field`.
    fn result(&self, reply: Reply) -> Result<JsValue, ClientError> {
        let (field, object) = match &self.finish {
            Finish::Json { field, object } => (*field, *object),
            Finish::Upload { .. } if is_success(&reply) => return parse_json(&reply.text()),
            Finish::Refusal | Finish::Upload { .. } => {
                return Err(match into_result(reply.into_response()) {
                    Err(error) => error,
                    Ok(_) => ClientError::new("server_error", "The gateway refused the stream"),
                })
            }
            Finish::Workspace(id, call, begun) => {
                let result = into_result(reply.into_response());
                let text = self.session.gateways.finish(id, *call, *begun, result)?;
                return parse_json(&text);
            }
            Finish::Runtime {
                id, cell, handle, ..
            } => return Ok(handle(self.session.clone(), id.clone(), cell.clone())),
        };
        let value = if is_result(reply.status(), reply.parsed(), reply.success()) {
            reply.value()
        } else {
            parse_json(&into_result(reply.into_response())?)?
        };
        let Some(field) = field else {
            return Ok(value);
        };
        let member = get(&value, field);
        if object && (!member.is_object() || Array::is_array(&member)) {
            return Err(no_object(field));
        }
        Ok(member)
    }
}

/// A promise that resolves (with `undefined`) once `cell` may hold a token to send, its refresh
/// waited for; rejects with the refresh's error, or when the client is disposed meanwhile. For
/// the socket's lease: it asks for the token again then.
pub fn refreshed(session: &Rc<Session>, cell: Rc<TokenCell>) -> JsValue {
    let promise = match cell.acquire_now() {
        Acquire::Ready(_) => Promise::resolve(&JsValue::UNDEFINED),
        Acquire::Fail(error) => Promise::reject(&to_js(error)),
        Acquire::Wait(flight) => {
            let session = session.clone();
            when_done(
                &flight,
                Box::new(move |outcome| match outcome {
                    _ if session.is_disposed() => Err(to_js(ClientError::disposed())),
                    Ok(()) => Ok(JsValue::UNDEFINED),
                    Err(cause) => Err(to_js(cell.expired_error(cause.clone()))),
                }),
            )
        }
    };
    promise.into()
}

/// A 2xx answer (`Response.ok`).
fn is_success(reply: &Reply) -> bool {
    (200..300).contains(&reply.status())
}

/// What js/fetch.js rejects an attempt with.
fn transport_failure(code: f64) -> TransportError {
    match code as u8 {
        1 => TransportError::Disposed,
        2 => TransportError::Aborted,
        3 => TransportError::Timeout,
        _ => TransportError::Network,
    }
}

/// What js/fetch.js `call` asks.
fn step(call: &Rc<Call>, op: u32, outcome: JsValue, _: JsValue, _: JsValue) -> JsValue {
    match op {
        STEP_LEASE => call.lease(),
        STEP_ANSWER => call.answer(outcome),
        STEP_RESULT => call.settle(call.result(outcome.unchecked_into())),
        _ => JsValue::UNDEFINED,
    }
}

/// How one request is sent.
struct Plan {
    cell: Rc<TokenCell>,
    outgoing: Outgoing,
    retries: Retries,
    signals: Signals,
    mode: u8,
    finish: Finish,
}

/// Starts `plan`'s attempts: the promise js/fetch.js `call` settles, and the call (for the error
/// it ended with). Refused at once when the client is disposed or the caller's signal aborted.
fn start(session: &Rc<Session>, plan: Plan) -> Result<(Promise, Rc<Call>), ClientError> {
    if session.is_disposed() {
        return Err(ClientError::disposed());
    }
    let Signals {
        dispose,
        caller,
        timeout_ms,
    } = plan.signals;
    if caller.as_ref().is_some_and(AbortSignal::aborted) {
        return Err(ClientError::aborted());
    }
    let call = Rc::new(Call {
        session: session.clone(),
        cell: plan.cell,
        attempts: RefCell::new(Attempts::new(plan.retries)),
        generation: Cell::new(0),
        waits: Cell::new(0),
        proxied: plan.mode == MODE_RESPONSE + 1,
        finish: plan.finish,
        failed: RefCell::new(None),
    });
    let outgoing = &plan.outgoing;
    let sent = js_call(
        &views::dispatch(call.clone(), step),
        plan.mode,
        &outgoing.input,
        outgoing.method,
        &outgoing.body,
        outgoing.content_type,
        &dispose,
        caller,
        timer_delay(timeout_ms),
    );
    Ok((sent, call))
}

/// A started call's promise, or one rejected with what stopped it.
fn promised(started: Result<(Promise, Rc<Call>), ClientError>) -> Promise {
    or_rejected(started.map(|(sent, _)| sent))
}

/// A JSON call (`MODE_JSON`) of `request` with `cell`'s token, under every rule its method allows.
fn json_plan(
    session: &Session,
    cell: Rc<TokenCell>,
    request: &HttpRequest,
    signal: Option<AbortSignal>,
    finish: Finish,
) -> Plan {
    Plan {
        cell,
        outgoing: Outgoing::built(request),
        retries: Retries::for_method(request.method),
        signals: session.signals(signal),
        mode: MODE_JSON,
        finish,
    }
}

/// The one path of the simple calls: the request `prepared` (or the option error that stopped
/// it) sent with its cell's token; the JSON body of a success, or only its member `field`
/// (which must be an object when `object`: `server_error` otherwise).
pub fn send_js(
    session: &Rc<Session>,
    prepared: Result<(Rc<TokenCell>, HttpRequest, Option<AbortSignal>), ClientError>,
    field: Option<&'static str>,
    object: bool,
) -> Promise {
    let started = prepared.and_then(|(cell, request, signal)| {
        let finish = Finish::Json { field, object };
        start(session, json_plan(session, cell, &request, signal, finish))
    });
    promised(started)
}

/// A stream's or a transfer's request with `cell`'s token: a promise of a success's answer once
/// its headers are in (its body unread, tied to `signal`, the client's dispose and the answer's
/// own `abort`), or of the gateway's refusal, read whole, as an `OblienError`. `handshake_ms`
/// bounds the wait for the headers only.
pub fn open(
    session: &Rc<Session>,
    cell: Rc<TokenCell>,
    outgoing: Outgoing,
    retries: Retries,
    signal: Option<AbortSignal>,
    handshake_ms: f64,
) -> Result<Promise, ClientError> {
    Ok(start(
        session,
        open_plan(session, cell, outgoing, retries, signal, handshake_ms),
    )?
    .0)
}

/// An upload (`transfer.upload`): [`open`]'s request (a POST: only the 401 replay), then
/// `onProgress` (`callback`, when given) told the whole `size` once a success's headers are in
/// (`fetch` reports no upload progress); a promise of the success's body as JSON, or of the
/// refusal's error.
pub fn upload(
    session: &Rc<Session>,
    cell: Rc<TokenCell>,
    outgoing: Outgoing,
    signal: Option<AbortSignal>,
    handshake_ms: f64,
    callback: JsValue,
    size: f64,
) -> Result<Promise, ClientError> {
    let retries = Retries::UNAUTHORIZED_ONLY;
    let mut plan = open_plan(session, cell, outgoing, retries, signal, handshake_ms);
    plan.mode = MODE_READ;
    plan.finish = Finish::Upload {
        progress: callback,
        size,
    };
    Ok(start(session, plan)?.0)
}

fn open_plan(
    session: &Session,
    cell: Rc<TokenCell>,
    outgoing: Outgoing,
    retries: Retries,
    signal: Option<AbortSignal>,
    handshake_ms: f64,
) -> Plan {
    let mut signals = session.signals(signal);
    signals.timeout_ms = handshake_ms;
    Plan {
        cell,
        outgoing,
        retries,
        signals,
        mode: MODE_OPEN,
        finish: Finish::Refusal,
    }
}

/// A raw call for JS (`rt.fetch`, `proxy(port).fetch`): a promise of the `Response`, whatever its
/// status (`proxied`: a 401 the app behind `/proxy` sent is not the gateway's: not retried).
pub fn raw_response(
    session: &Rc<Session>,
    cell: Rc<TokenCell>,
    outgoing: Outgoing,
    retries: Retries,
    signal: Option<AbortSignal>,
    proxied: bool,
) -> Result<Promise, ClientError> {
    let plan = Plan {
        cell,
        outgoing,
        retries,
        signals: session.signals(signal),
        mode: MODE_RESPONSE + u8::from(proxied),
        finish: JSON,
    };
    Ok(start(session, plan)?.0)
}

/// A JSON call with the session token for a Rust step (a mint's requests): its promise (of the
/// last answer), and the call, for what it ended with ([`Pending::outcome`]).
pub fn api_started(
    session: &Rc<Session>,
    request: &HttpRequest,
    signal: AbortSignal,
) -> Result<(Promise, Pending), ClientError> {
    let mut plan = json_plan(session, session.cell.clone(), request, Some(signal), JSON);
    plan.mode = MODE_JSON_REPLY;
    let (sent, call) = start(session, plan)?;
    Ok((sent, Pending(call)))
}

/// A call started by [`api_started`].
pub struct Pending(Rc<Call>);

impl Pending {
    /// The text of a success (the promise `resolved` with the last answer, `value`), or the error
    /// the call ended with.
    pub fn outcome(&self, value: JsValue, resolved: bool) -> Result<String, ClientError> {
        if !resolved {
            return Err(self.0.ended());
        }
        let reply: Reply = value.unchecked_into();
        into_result(reply.into_response())
    }
}

/// One call on a workspace (`workspaces.get|delete|start|stop|restart|stats`,
/// `workspaces.apiAccess.*`, decided in `core::workspace`): the local checks when called, then
/// the request; resolves with its JSON. `name` names the call in option errors.
pub fn on_workspace(
    session: &Rc<Session>,
    id: &JsValue,
    options: Option<JsValue>,
    name: &'static str,
    call: WorkspaceCall,
) -> Promise {
    let started = session
        .reachable(id, options, name)
        .and_then(|(id, signal)| {
            let (request, begun) = session.gateways.begin(&id, call);
            let finish = Finish::Workspace(id, call, begun);
            start(
                session,
                json_plan(session, session.cell.clone(), &request, signal, finish),
            )
        });
    promised(started)
}

/// `workspaces.runtime(id)` (its `cell`, and the caller's `signal`): the workspace's first
/// gateway token, then `GET /workspace/{id}` while it provisions (`core::gateway::Provision`);
/// resolves with `handle(session, id, cell)`.
pub fn runtime(
    session: &Rc<Session>,
    id: String,
    cell: Rc<TokenCell>,
    signal: Option<AbortSignal>,
    handle: Handle,
) -> Promise {
    let request = Provision::request(&session.base_url, &id);
    let finish = Finish::Runtime {
        id,
        cell,
        wait: Cell::new(None),
        handle,
    };
    let plan = json_plan(session, session.cell.clone(), &request, signal, finish);
    promised(start(session, plan))
}

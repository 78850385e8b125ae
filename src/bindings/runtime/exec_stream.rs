//! `ExecStream`: a command's output as it happens (`exec.stream`, `exec.subscribe`), an async
//! iterable of `ExecEvent`s read through `fetch` (SSE).
//!
//! - Started at once (the request goes out and the stream is read up to the `task_id` event);
//!   after that the body is read only when `next()`, `wait()` or `taskId` asks (back-pressure).
//! - A drop (network error, 502/503/504, the body ending before `exit`, the idle timeout) is
//!   resumed by `GET /exec/stream?task_id=` with a gateway token valid then; the replay is
//!   aligned by `core::exec_stream::Aligner`, so every byte comes once and one `exit` comes last.
//! - `close()`, the caller's `signal` and the client's `dispose()` end it; timers and listeners go
//!   with the futures that started them.

use super::Target;
use crate::bindings::body::{self, Conn, StreamSignals};
use crate::bindings::convert::set;
use crate::bindings::error::promise;
use crate::bindings::iterable;
use crate::core::api;
use crate::core::error::{codes, ClientError};
use crate::core::exec_stream::{decode, Aligner, Channel, Delivery, Exit, Resumer, Texts};
use crate::core::gate::{Gate, Notify};
use crate::core::request::Retries;
use crate::core::runtime::{Body, HttpRequest, Runtime};
use crate::core::sse;
use js_sys::{Object, Promise, Uint8Array};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use web_sys::{AbortController, AbortSignal};

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** Options of `exec.stream(cmd, options)`. */
export interface ExecStreamOptions extends SubscribeOptions {
  /** The task's own time limit on the server (`timeout_seconds`). */
  timeoutSeconds?: number;
}

/** Options of `exec.subscribe(taskId, options)`. */
export interface SubscribeOptions extends CallOptions {
  /** Until the response headers arrive (each connection). Default: the client's `timeoutMs`. */
  timeoutMs?: number;
  /**
   * How long the wire may stay silent while the stream is being read before the connection is
   * taken for dead and the stream resumed on a new one (0: never). Default 60000. Time spent by
   * a slow consumer does not count.
   */
  idleTimeoutMs?: number;
}

/** Output of the task: `data` as sent, `text` decoded per stream (characters split across chunks come out whole). */
export interface ExecOutputEvent {
  event: "stdout" | "stderr";
  data: Uint8Array;
  text: string;
}

/** The task ended: always the last event, exactly once. */
export interface ExecExitEvent {
  event: "exit";
  exitCode: number;
  status?: string;
}

export type ExecEvent = ExecOutputEvent | ExecExitEvent;

/** What `ExecStream.wait()` resolves with. */
export interface ExecStreamResult {
  taskId: string;
  exitCode: number;
  status?: string;
  /** All the task's stdout, decoded. */
  stdout: string;
  stderr: string;
}

/** An exec stream is iterated with `for await`: `ExecStream extends AsyncIterable<ExecEvent>`. */
export interface ExecStream extends AsyncIterable<ExecEvent> {}
"#;

/// Events `wait()` reads ahead for an iterator that is slower, at most.
const QUEUE_MAX: usize = 64;
/// `idleTimeoutMs` when not given.
pub const DEFAULT_IDLE_MS: f64 = 60_000.0;

#[derive(Default)]
struct State {
    /// `POST /exec/stream`, until it is sent.
    start: Option<HttpRequest>,
    conn: Option<Rc<Conn>>,
    parser: sse::Parser,
    aligner: Aligner,
    resumer: Resumer,
    texts: Texts,
    /// `next()` was called: events read by `wait()` or `taskId` are kept for it.
    iterating: bool,
    queue: VecDeque<JsValue>,
    /// `Ok(what wait() resolves with)` after the exit, or the error that ended the stream.
    end: Option<Result<JsValue, ClientError>>,
}

struct Inner {
    target: Rc<Target>,
    caller: Option<AbortSignal>,
    close: AbortController,
    signals: StreamSignals,
    /// The caller's signal and `close()`, for `guarded`.
    stop: AbortSignal,
    handshake_ms: f64,
    idle_ms: f64,
    gate: Gate,
    changed: Notify,
    state: RefCell<State>,
}

/// What one step of reading gave.
enum Step {
    TaskId,
    Event(JsValue),
    End,
}

/// A command's output as it happens: `for await (const ev of stream)`, `wait()`, `taskId`,
/// `write()`, `kill()`, `close()`.
#[wasm_bindgen]
pub struct ExecStream {
    inner: Rc<Inner>,
}

/// Opens a stream: `start` is `POST /exec/stream` (or `None` to subscribe to `task_id`).
pub fn open(
    target: Rc<Target>,
    start: Option<HttpRequest>,
    task_id: Option<String>,
    caller: Option<AbortSignal>,
    handshake_ms: f64,
    idle_ms: f64,
) -> Result<JsValue, ClientError> {
    let close = AbortController::new().map_err(|_| ClientError::disposed())?;
    let signals = StreamSignals::new(&target, caller.as_ref(), &close);
    let stop = signals
        .signals
        .caller
        .clone()
        .unwrap_or_else(|| close.signal());
    let inner = Rc::new(Inner {
        target,
        caller,
        close,
        signals,
        stop,
        handshake_ms,
        idle_ms,
        gate: Gate::default(),
        changed: Notify::default(),
        state: RefCell::new(State {
            start,
            aligner: Aligner::new(task_id),
            ..State::default()
        }),
    });
    // The command starts now, whoever reads it: send the request, read up to the task id.
    let first = inner.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let _ = first.task_id().await;
    });
    Ok(iterable(ExecStream { inner }.into()))
}

fn object(pairs: &[(&str, JsValue)]) -> JsValue {
    let object = Object::new();
    for (key, value) in pairs {
        set(&object, key, value);
    }
    object.into()
}

/// `{ value, done }` of the iterator protocol.
fn item(value: Option<JsValue>) -> JsValue {
    let done = value.is_none();
    object(&[
        ("value", value.unwrap_or(JsValue::UNDEFINED)),
        ("done", JsValue::from_bool(done)),
    ])
}

fn exit_fields(exit: &Exit) -> Vec<(&'static str, JsValue)> {
    let mut pairs = vec![("exitCode", JsValue::from_f64(exit.code))];
    if let Some(status) = &exit.status {
        pairs.push(("status", JsValue::from_str(status)));
    }
    pairs
}

fn resumable(error: &ClientError) -> bool {
    error.is(codes::NETWORK_ERROR)
        || error.is(codes::TIMEOUT)
        || matches!(error.status, Some(502..=504))
}

impl Inner {
    fn closed(&self) -> bool {
        self.close.signal().aborted()
    }

    /// Aborted, disposed or closed: nothing more is read.
    fn stopped(&self) -> bool {
        self.stop.aborted() || self.target.session().is_disposed()
    }

    /// Ends the stream with `error` (unless it already ended); what the callers see.
    fn fail(&self, error: ClientError) -> ClientError {
        let error = if error.is(codes::ABORTED)
            && self.closed()
            && !self.caller.as_ref().is_some_and(AbortSignal::aborted)
        {
            ClientError::new(codes::CLOSED, "The stream was closed")
        } else {
            error
        };
        let mut state = self.state.borrow_mut();
        state.conn = None;
        let end = state.end.get_or_insert_with(|| Err(error.clone()));
        let error = match end {
            Err(first) => first.clone(),
            Ok(_) => error,
        };
        drop(state);
        self.changed.notify();
        error
    }

    /// One step, cut short by the caller's signal, `close()` and `dispose()`.
    async fn advance(self: &Rc<Self>) -> Result<Step, ClientError> {
        let session = self.target.session();
        let step = session.guarded(Some(self.stop.clone()), self.pump()).await;
        self.changed.notify();
        step.map_err(|e| self.fail(e))
    }

    async fn pump(self: &Rc<Self>) -> Result<Step, ClientError> {
        loop {
            let parsed = {
                let mut state = self.state.borrow_mut();
                match &state.end {
                    Some(Ok(_)) => return Ok(Step::End),
                    Some(Err(e)) => return Err(e.clone()),
                    None => state.parser.next_event(),
                }
            };
            match parsed {
                Err(_) => {
                    return Err(ClientError::new(
                        codes::SERVER_ERROR,
                        "exec stream: an event is larger than 8 MiB",
                    ))
                }
                Ok(Some(event)) => {
                    if let Some(step) = self.deliver(&event)? {
                        return Ok(step);
                    }
                    continue;
                }
                Ok(None) => {}
            }
            let conn = self.state.borrow().conn.clone();
            let conn = match conn {
                Some(conn) => conn,
                None => {
                    let conn = Rc::new(self.connect().await?);
                    self.state.borrow_mut().conn = Some(conn.clone());
                    conn
                }
            };
            match conn.read(self.idle_ms).await {
                Ok(Some(chunk)) => self.state.borrow_mut().parser.push(&chunk.to_vec()),
                // The body ended before `exit`, failed, or went silent: resume, unless stopped.
                _ => {
                    self.state.borrow_mut().conn = None;
                    if self.stopped() {
                        return Err(ClientError::aborted());
                    }
                    self.before_resume(None).await?;
                }
            }
        }
    }

    /// What an SSE event gives the consumer, if anything.
    fn deliver(&self, event: &sse::Event) -> Result<Option<Step>, ClientError> {
        let mut state = self.state.borrow_mut();
        let delivery = decode(event).and_then(|wire| state.aligner.accept(wire))?;
        let Some(delivery) = delivery else {
            return Ok(None);
        };
        state.resumer.progressed();
        Ok(Some(match delivery {
            Delivery::TaskId(_) => Step::TaskId,
            Delivery::Output(channel, data) => {
                let text = state.texts.decode(channel, &data);
                let name = match channel {
                    Channel::Stdout => "stdout",
                    Channel::Stderr => "stderr",
                };
                Step::Event(object(&[
                    ("event", JsValue::from_str(name)),
                    ("data", Uint8Array::from(data.as_slice()).into()),
                    ("text", JsValue::from_str(&text)),
                ]))
            }
            Delivery::Exit(exit) => {
                let [stdout, stderr] = state.texts.finish();
                let mut result = vec![(
                    "taskId",
                    JsValue::from_str(state.aligner.task_id().unwrap_or_default()),
                )];
                result.extend(exit_fields(&exit));
                result.push(("stdout", JsValue::from_str(&stdout)));
                result.push(("stderr", JsValue::from_str(&stderr)));
                state.end = Some(Ok(object(&result)));
                state.conn = None;
                let mut event = vec![("event", JsValue::from_str("exit"))];
                event.extend(exit_fields(&exit));
                Step::Event(object(&event))
            }
        }))
    }

    /// A connection: the `POST` the first time, then re-subscribes (each replays from the start).
    async fn connect(self: &Rc<Self>) -> Result<Conn, ClientError> {
        loop {
            let (request, retries, first) = {
                let mut state = self.state.borrow_mut();
                match state.start.take() {
                    Some(post) => (post, Retries::UNAUTHORIZED_ONLY, true),
                    None => {
                        let Some(id) = state.aligner.task_id().map(String::from) else {
                            return Err(ClientError::new(
                                codes::NETWORK_ERROR,
                                "exec stream: the connection broke before the task id arrived",
                            ));
                        };
                        state.aligner.resubscribed();
                        state.parser = sse::Parser::new();
                        let url = self.target.url("/exec/stream", &[("task_id", Some(id))]);
                        (api::get(url), Retries::for_method("GET"), false)
                    }
                }
            };
            let opened = body::open(
                &self.target,
                &request,
                retries,
                &self.signals,
                self.handshake_ms,
            )
            .await;
            match opened {
                Ok(conn) => return Ok(conn),
                // The POST may have started the task: never sent twice.
                Err(error) if !first && resumable(&error) && !self.stopped() => {
                    self.before_resume(Some(error)).await?
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// Waits before the next re-subscribe, or gives up after too many in a row.
    async fn before_resume(&self, error: Option<ClientError>) -> Result<(), ClientError> {
        let platform = &self.target.session().platform;
        let delay = self
            .state
            .borrow_mut()
            .resumer
            .next_delay_ms(platform.random());
        match delay {
            None => Err(error.unwrap_or_else(|| {
                ClientError::new(
                    codes::NETWORK_ERROR,
                    "exec stream: the connection kept dropping; gave up resuming",
                )
            })),
            Some(ms) => {
                if ms > 0.0 {
                    platform.sleep(ms).await;
                }
                Ok(())
            }
        }
    }

    async fn next(self: &Rc<Self>) -> Result<JsValue, ClientError> {
        if self.closed() {
            return Ok(item(None));
        }
        let _pass = self.gate.enter().await;
        loop {
            let queued = self.state.borrow_mut().queue.pop_front();
            if let Some(event) = queued {
                self.changed.notify();
                return Ok(item(Some(event)));
            }
            match self.advance().await {
                Ok(Step::TaskId) => continue,
                Ok(Step::Event(event)) => return Ok(item(Some(event))),
                Ok(Step::End) => return Ok(item(None)),
                Err(error) if error.is(codes::CLOSED) => return Ok(item(None)),
                Err(error) => return Err(error),
            }
        }
    }

    /// Reads on while nobody iterates; keeps what it reads for an iterator that does.
    async fn wait(self: &Rc<Self>) -> Result<JsValue, ClientError> {
        loop {
            let (iterating, queued) = {
                let state = self.state.borrow();
                if let Some(end) = &state.end {
                    return end.clone();
                }
                (state.iterating, state.queue.len())
            };
            if self.closed() {
                return Err(self.fail(ClientError::aborted()));
            }
            if iterating && queued >= QUEUE_MAX {
                let since = self.changed.version();
                let changed = async {
                    self.changed.changed(since).await;
                    Ok(())
                };
                let session = self.target.session();
                session
                    .guarded(Some(self.stop.clone()), changed)
                    .await
                    .map_err(|e| self.fail(e))?;
                continue;
            }
            let _pass = self.gate.enter().await;
            if let Step::Event(event) = self.advance().await? {
                let mut state = self.state.borrow_mut();
                if state.iterating {
                    state.queue.push_back(event);
                }
            }
        }
    }

    /// The task's id, reading the stream up to its `task_id` event if needed.
    async fn task_id(self: &Rc<Self>) -> Result<String, ClientError> {
        loop {
            {
                let state = self.state.borrow();
                if let Some(id) = state.aligner.task_id() {
                    return Ok(id.to_string());
                }
                match &state.end {
                    Some(Err(e)) => return Err(e.clone()),
                    Some(Ok(_)) => {
                        return Err(ClientError::new(
                            codes::SERVER_ERROR,
                            "exec stream: the stream ended without a task id",
                        ))
                    }
                    None if state.queue.len() > QUEUE_MAX => {
                        return Err(ClientError::new(
                            codes::SERVER_ERROR,
                            "exec stream: no task_id event before the output",
                        ))
                    }
                    None => {}
                }
            }
            if self.closed() {
                return Err(self.fail(ClientError::aborted()));
            }
            let _pass = self.gate.enter().await;
            if self.state.borrow().aligner.task_id().is_some() {
                continue;
            }
            if let Step::Event(event) = self.advance().await? {
                // Before the id: kept for the iterator, whenever it starts.
                self.state.borrow_mut().queue.push_back(event);
            }
        }
    }

    /// `POST /exec/{id}/input` or `DELETE /exec/{id}` once the id is known.
    async fn task_call(
        self: &Rc<Self>,
        method: &'static str,
        body: Option<Body>,
    ) -> Result<JsValue, ClientError> {
        let id = self.task_id().await?;
        let mut path = String::from("/exec/");
        path.push_str(&api::encode_component(&id));
        if body.is_some() {
            path.push_str("/input");
        }
        let request = HttpRequest {
            method,
            url: self.target.url(&path, &[]),
            body,
        };
        self.target.call(request, self.caller.clone()).await
    }
}

/// `string | Uint8Array` as bytes.
pub fn input_bytes(data: &JsValue, call: &str) -> Result<Vec<u8>, ClientError> {
    if let Some(text) = data.as_string() {
        return Ok(text.into_bytes());
    }
    data.dyn_ref::<Uint8Array>()
        .map(Uint8Array::to_vec)
        .ok_or_else(|| crate::bindings::convert::invalid(call, "data", "a string or a Uint8Array"))
}

#[wasm_bindgen]
impl ExecStream {
    /// The task's id (from its `task_id` event).
    #[wasm_bindgen(getter = taskId, unchecked_return_type = "Promise<string>")]
    pub fn task_id(&self) -> Promise {
        let inner = self.inner.clone();
        promise(async move { inner.task_id().await.map(|id| JsValue::from_str(&id)) })
    }

    /// The next event (`for await` calls it).
    #[wasm_bindgen(unchecked_return_type = "Promise<IteratorResult<ExecEvent, undefined>>")]
    pub fn next(&self) -> Promise {
        let inner = self.inner.clone();
        inner.state.borrow_mut().iterating = true;
        promise(async move { inner.next().await })
    }

    /// Ends the iteration early (`break` out of `for await`): as `close()`.
    #[wasm_bindgen(
        js_name = "return",
        unchecked_return_type = "Promise<IteratorResult<ExecEvent, undefined>>"
    )]
    pub fn return_(&self) -> Promise {
        self.close();
        Promise::resolve(&item(None))
    }

    /// Resolves when the task exits, with its exit code and all its output (read here when
    /// nobody iterates; an iterator still gets every event).
    #[wasm_bindgen(unchecked_return_type = "Promise<ExecStreamResult>")]
    pub fn wait(&self) -> Promise {
        let inner = self.inner.clone();
        promise(async move { inner.wait().await })
    }

    /// Writes to the task's stdin (`POST /exec/{id}/input`).
    #[wasm_bindgen(unchecked_return_type = "Promise<ExecInputResult>")]
    pub fn write(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string | Uint8Array")] data: JsValue,
    ) -> Promise {
        let inner = self.inner.clone();
        promise(async move {
            let bytes = input_bytes(&data, "write(data)")?;
            inner.task_call("POST", Some(Body::Bytes(bytes))).await
        })
    }

    /// Kills the task (`DELETE /exec/{id}`); the stream then ends with its exit event.
    #[wasm_bindgen(unchecked_return_type = "Promise<ExecKillResult>")]
    pub fn kill(&self) -> Promise {
        let inner = self.inner.clone();
        promise(async move { inner.task_call("DELETE", None).await })
    }

    /// Stops reading and closes the connection; the task keeps running.
    pub fn close(&self) {
        let inner = &self.inner;
        inner.close.abort();
        inner.state.borrow_mut().conn = None;
        inner.changed.notify();
    }
}

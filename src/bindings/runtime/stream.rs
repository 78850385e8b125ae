//! The one stream engine of the gateway's streaming responses, and its JS class `ExecStream`:
//! - `Format::Exec`: `exec.stream` / `exec.subscribe` (SSE; resumed after a drop);
//! - `Format::Lines`: `files.stream` (NDJSON; the same class, typed `FileStream` in the `.d.ts`);
//! - `Format::Blob`: `transfer.download` (the body kept as a `Blob`, with progress).
//!
//! One async entry point ([`Stream::run`]) serves every method, so the wasm holds one state
//! machine for all of them. Rules, whatever the format:
//! - the body is read only when `next()`, `wait()` or `taskId` asks (back-pressure), except that
//!   an exec stream is read up to its `task_id` event at once (the command starts even if nobody
//!   reads it);
//! - `timeoutMs` bounds each handshake (until the headers); `idleTimeoutMs` the silence of the
//!   wire while a read waits for it (a slow consumer never trips it); no whole-stream deadline;
//! - the caller's `signal`, `close()` and the client's `dispose()` end it; timers and listeners
//!   go with the futures that started them;
//! - an exec stream that drops (network error, 502/503/504, the body ending before `exit`, the
//!   idle timeout) re-subscribes (`GET /exec/stream?task_id=`) with a gateway token valid then,
//!   and `core::exec_stream::Aligner` aligns the replay: every byte once, one `exit`, last.

use super::target::Target;
use crate::bindings::body::{self, Conn, ReadEnd, StreamSignals};
use crate::bindings::convert::{parse_json, Options};
use crate::bindings::error::{promise, to_js};
use crate::bindings::fetch::Outgoing;
use crate::bindings::iterable;
use crate::core::api;
use crate::core::error::{codes, ClientError};
use crate::core::exec_stream::{decode, Aligner, Delivery, Resumer, Texts};
use crate::core::gate::{Gate, Notify};
use crate::core::ndjson::{self, Lines};
use crate::core::request::Retries;
use crate::core::runtime::{Body, HttpRequest, Runtime};
use crate::core::sse;
use js_sys::{Promise, Uint8Array};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use web_sys::{AbortController, AbortSignal};

#[wasm_bindgen(module = "/js/fetch.js")]
extern "C" {
    /// A download's body kept chunk by chunk, with `onProgress` (js/fetch.js).
    pub type Kept;
    #[wasm_bindgen(js_name = download)]
    fn keep_body(response: &web_sys::Response, callback: &JsValue) -> Kept;
    #[wasm_bindgen(method)]
    fn push(this: &Kept, chunk: &Uint8Array);
    #[wasm_bindgen(method)]
    fn blob(this: &Kept) -> JsValue;
    /// `onProgress`, when given, with `{ phase, loadedBytes, totalBytes?, percent? }`.
    pub fn progress(callback: &JsValue, phase: &str, loaded: f64, total: Option<f64>);
}

#[wasm_bindgen(module = "/js/stream.js")]
extern "C" {
    /// `{ value, done }`.
    #[wasm_bindgen(js_name = item)]
    fn js_item(value: JsValue, done: bool) -> JsValue;
    /// `{ event, data, text }`, `data` copied out of the wasm memory.
    fn output(event: &str, data: &[u8], text: &str) -> JsValue;
    /// Without `id`: the exit event, `{ event: "exit", exitCode, status? }`; with it, what
    /// `wait()` resolves with, `{ taskId, exitCode, status?, stdout, stderr }`.
    fn exited(
        id: Option<&str>,
        code: f64,
        status: Option<String>,
        stdout: &str,
        stderr: &str,
    ) -> JsValue;
}

/// Events `wait()` reads ahead for an iterator that is slower, at most (give or take a chunk).
const QUEUE_MAX: usize = 64;
/// `idleTimeoutMs` when not given.
pub const DEFAULT_IDLE_MS: f64 = 60_000.0;

pub enum Format {
    Exec,
    Lines,
    /// `onProgress` of the download, or `undefined`.
    Blob(JsValue),
}

#[derive(Default)]
struct State {
    start: Option<HttpRequest>,
    conn: Option<Rc<Conn>>,
    sse: sse::Parser,
    lines: Lines,
    aligner: Aligner,
    resumer: Resumer,
    texts: Texts,
    /// Download: the body so far (js/fetch.js `download`).
    kept: Option<Kept>,
    /// `next()` was called: events read by `wait()` or `taskId` are kept for it.
    iterating: bool,
    queue: VecDeque<JsValue>,
    /// `Ok(what wait() resolves with)` at the end, or the error that ended the stream.
    end: Option<Result<JsValue, ClientError>>,
}

pub struct Stream {
    target: Rc<Target>,
    format: Format,
    caller: Option<AbortSignal>,
    close: AbortController,
    signals: StreamSignals,
    /// The caller's signal and `close()`, for `guarded`.
    stop: AbortSignal,
    handshake_ms: f64,
    idle_ms: f64,
    gate: Gate,
    changed: Notify,
    /// `next()` calls not yet settled: while there are any, a new one queues behind them.
    nexts: Cell<u32>,
    state: RefCell<State>,
}

/// What an operation needs next.
enum Turn {
    Done(Result<JsValue, ClientError>),
    Wait,
    Read(bool),
}

/// What a method asks of the stream.
pub enum Op {
    TaskId,
    Next,
    Wait,
    /// `write(data)`: `POST /exec/{id}/input`.
    Input(Vec<u8>),
    /// `kill()`: `DELETE /exec/{id}`.
    Kill,
}

/// `timeoutMs` (until the headers; default: the client's) and `idleTimeoutMs` (0: none) of a
/// streaming call's options.
pub fn timeouts(target: &Target, options: &Options) -> Result<(f64, f64), ClientError> {
    let handshake = options
        .positive("timeoutMs")?
        .unwrap_or_else(|| target.session().timeout_ms());
    let idle = match options.get("idleTimeoutMs").as_f64() {
        Some(0.0) => 0.0,
        _ => options
            .positive("idleTimeoutMs")?
            .unwrap_or(DEFAULT_IDLE_MS),
    };
    Ok((handshake, idle))
}

/// `{ value, done }` of the iterator protocol.
fn item(value: Option<JsValue>) -> JsValue {
    let done = value.is_none();
    js_item(value.unwrap_or(JsValue::UNDEFINED), done)
}

/// Counts a `next()` in flight while alive.
struct InFlight<'a>(&'a Cell<u32>);

impl<'a> InFlight<'a> {
    fn new(count: &'a Cell<u32>) -> Self {
        count.set(count.get() + 1);
        InFlight(count)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.set(self.0.get().saturating_sub(1));
    }
}

fn resumable(error: &ClientError) -> bool {
    error.is(codes::NETWORK_ERROR)
        || error.is(codes::TIMEOUT)
        || matches!(error.status, Some(502..=504))
}

impl Stream {
    /// A stream of `start` (or, with `None`, a subscribe to `task_id`), with the `signal`,
    /// `timeoutMs` and `idleTimeoutMs` of `options`.
    pub fn open(
        target: &Rc<Target>,
        format: Format,
        start: Option<HttpRequest>,
        task_id: Option<String>,
        options: &Options,
    ) -> Result<Rc<Self>, ClientError> {
        let (handshake_ms, idle_ms) = timeouts(target, options)?;
        let caller = options.signal()?;
        let close = AbortController::new().map_err(|_| ClientError::disposed())?;
        let signals = StreamSignals::new(target, caller.as_ref(), &close);
        let stop = signals
            .signals
            .caller
            .clone()
            .unwrap_or_else(|| close.signal());
        let eager = matches!(format, Format::Exec) && start.is_some();
        let stream = Rc::new(Stream {
            target: target.clone(),
            format,
            caller,
            close,
            signals,
            stop,
            handshake_ms,
            idle_ms,
            gate: Gate::default(),
            changed: Notify::default(),
            nexts: Cell::new(0),
            state: RefCell::new(State {
                start,
                aligner: Aligner::new(task_id),
                texts: Texts::new(options.bool("keepOutput")? != Some(false)),
                ..State::default()
            }),
        });
        if eager {
            // The command starts now, whoever reads it: send the request, read up to the task id.
            let first = stream.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let _ = first.run(Op::TaskId).await;
            });
        }
        Ok(stream)
    }

    /// As a JS `ExecStream` (async-iterable).
    pub fn into_js(self: Rc<Self>) -> JsValue {
        iterable(ExecStream { inner: self }.into())
    }

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
        let error = match state.end.get_or_insert_with(|| Err(error.clone())) {
            Err(first) => first.clone(),
            Ok(_) => error,
        };
        drop(state);
        self.changed.notify();
        error
    }

    /// The one async entry point of every method.
    pub async fn run(self: Rc<Self>, op: Op) -> Result<JsValue, ClientError> {
        let (op, body) = match op {
            Op::Input(bytes) => (Op::TaskId, Some(Some(Body::Bytes(bytes)))),
            Op::Kill => (Op::TaskId, Some(None)),
            op => (op, None),
        };
        let known = self.state.borrow().aligner.task_id().map(JsValue::from_str);
        let next = matches!(op, Op::Next);
        let _in_flight = next.then(|| InFlight::new(&self.nexts));
        let value = match known {
            // `taskId`, `write()` and `kill()` work after `close()` once the id is known.
            Some(id) if matches!(op, Op::TaskId) => id,
            _ => {
                let session = self.target.session();
                let done = session.guarded(Some(self.stop.clone()), self.op(op)).await;
                match done.map_err(|e| self.fail(e)) {
                    // After `close()` an iterator is done.
                    Err(error) if next && error.is(codes::CLOSED) => item(None),
                    other => other?,
                }
            }
        };
        let Some(body) = body else {
            return Ok(value);
        };
        let mut path = String::from("/exec/");
        path.push_str(&api::encode_component(
            &value.as_string().unwrap_or_default(),
        ));
        let method = if body.is_some() {
            path.push_str("/input");
            "POST"
        } else {
            "DELETE"
        };
        let url = self.target.url(&path, &[]);
        let request = HttpRequest { method, url, body };
        self.target.call(request, self.caller.clone()).await
    }

    /// `next()`, `wait()` and `taskId`: one loop, the decisions in [`Stream::turn`]. `next()`
    /// holds the gate until it has its event (concurrent calls resolve in order); the others take
    /// it for one read at a time, so an iterator is never starved by a `wait()`.
    async fn op(&self, op: Op) -> Result<JsValue, ClientError> {
        let next = matches!(op, Op::Next);
        let mut pass = None;
        if next {
            pass = Some(self.gate.enter().await);
        }
        loop {
            match self.turn(&op) {
                Turn::Done(result) => return result,
                Turn::Wait => {
                    let since = self.changed.version();
                    self.changed.changed(since).await;
                }
                Turn::Read(keep) => {
                    if pass.is_none() {
                        // Whoever held the gate may have read what this one needs: look again.
                        pass = Some(self.gate.enter().await);
                        continue;
                    }
                    self.pump(keep).await?;
                    if !next {
                        pass = None;
                    }
                }
            }
        }
    }

    /// What `op` needs now: its answer, to wait for the iterator to catch up (`wait()` reads
    /// ahead at most [`QUEUE_MAX`] events for it), or another read (`keep`: its events queued).
    fn turn(&self, op: &Op) -> Turn {
        if matches!(op, Op::Next) {
            if let Some(event) = self.take() {
                return Turn::Done(Ok(item(Some(event))));
            }
        }
        let state = self.state.borrow();
        match op {
            Op::Next => match &state.end {
                Some(end) => Turn::Done(end.clone().map(|_| item(None))),
                None => Turn::Read(true),
            },
            Op::TaskId => {
                if !matches!(self.format, Format::Exec) {
                    return Turn::Done(Err(ClientError::new(
                        codes::INVALID_OPTIONS,
                        "Only an exec stream has a task",
                    )));
                }
                if let Some(id) = state.aligner.task_id() {
                    return Turn::Done(Ok(JsValue::from_str(id)));
                }
                match &state.end {
                    Some(Err(error)) => Turn::Done(Err(error.clone())),
                    // Before the id: events are kept for the iterator, whenever it starts.
                    None if state.queue.len() <= QUEUE_MAX => Turn::Read(true),
                    _ => Turn::Done(Err(ClientError::new(
                        codes::SERVER_ERROR,
                        "exec stream: no task_id event before the output",
                    ))),
                }
            }
            _ => match &state.end {
                Some(end) => Turn::Done(end.clone()),
                _ if state.iterating && state.queue.len() >= QUEUE_MAX => Turn::Wait,
                _ => Turn::Read(state.iterating),
            },
        }
    }

    /// The oldest event read and not yet delivered.
    fn take(&self) -> Option<JsValue> {
        let event = self.state.borrow_mut().queue.pop_front();
        if event.is_some() {
            self.changed.notify();
        }
        event
    }

    /// One step of reading (under the gate): every event already received is parsed (`keep`:
    /// into the queue); a chunk is read (connecting or resuming first if needed) only when that
    /// gave nothing new.
    async fn pump(&self, keep: bool) -> Result<(), ClientError> {
        let step = self.read_step(keep).await;
        self.changed.notify();
        step
    }

    async fn read_step(&self, keep: bool) -> Result<(), ClientError> {
        loop {
            if self.parse(keep) {
                return Ok(());
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
            let read = conn.read(self.idle_ms).await;
            let resume = !matches!(read, Ok(Some(_)));
            let idle = matches!(read, Err(ReadEnd::Idle));
            if self.received(&conn, read, keep)? {
                return Ok(());
            }
            if resume {
                if self.stopped() {
                    return Err(ClientError::aborted());
                }
                self.before_resume(None, idle).await?;
            }
        }
    }

    /// What a read gave: a chunk is kept; the end of a body other than an exec stream's, its
    /// idle timeout and its failure end it; an exec stream's drop only closes the connection
    /// (the caller resumes).
    fn received(
        &self,
        conn: &Conn,
        read: Result<Option<Uint8Array>, ReadEnd>,
        keep: bool,
    ) -> Result<bool, ClientError> {
        let mut state = self.state.borrow_mut();
        match read {
            Ok(Some(chunk)) => match &self.format {
                Format::Exec => chunk.copy_to(state.sse.tail(chunk.length() as usize)),
                Format::Lines => state.lines.push(&chunk.to_vec()),
                Format::Blob(callback) => state
                    .kept
                    .get_or_insert_with(|| keep_body(&conn.response, callback))
                    .push(&chunk),
            },
            // The body ended.
            Ok(None) if !matches!(self.format, Format::Exec) => {
                state.conn = None;
                let end = match &self.format {
                    Format::Blob(callback) => state
                        .kept
                        .take()
                        .unwrap_or_else(|| keep_body(&conn.response, callback))
                        .blob(),
                    _ => match state
                        .lines
                        .finish()
                        .map(ndjson::entry)
                        .transpose()?
                        .flatten()
                    {
                        // A last line without its `\n`: one more entry, then the end.
                        Some(line) => {
                            let entry = parse_json(&line)?;
                            if keep {
                                state.queue.push_back(entry);
                            }
                            JsValue::UNDEFINED
                        }
                        None => JsValue::UNDEFINED,
                    },
                };
                state.end = Some(Ok(end));
                return Ok(true);
            }
            Err(ReadEnd::Idle) if !matches!(self.format, Format::Exec) => {
                return Err(ClientError::new(
                    codes::TIMEOUT,
                    "stream: nothing arrived within idleTimeoutMs",
                ))
            }
            Err(ReadEnd::Failed) if !matches!(self.format, Format::Exec) => {
                return Err(ClientError::new(
                    codes::NETWORK_ERROR,
                    "stream: the connection broke",
                ))
            }
            // An exec body that ended before `exit`, failed, or went silent: resume.
            _ => state.conn = None,
        }
        Ok(false)
    }

    /// Parses every event already received (into the queue when `keep`); whether that gave
    /// anything new: an event, the task's id, or the end. An error ends the stream after the
    /// events before it.
    fn parse(&self, keep: bool) -> bool {
        let mut state = self.state.borrow_mut();
        let state = &mut *state;
        if state.end.is_some() {
            return true;
        }
        let before = (state.queue.len(), state.aligner.task_id().is_some());
        if let Err(error) = Self::parse_into(&self.format, state, keep) {
            state.end = Some(Err(error));
            state.conn = None;
        }
        state.end.is_some() || (state.queue.len(), state.aligner.task_id().is_some()) != before
    }

    fn parse_into(format: &Format, state: &mut State, keep: bool) -> Result<(), ClientError> {
        let push = |state: &mut State, event: JsValue| {
            if keep {
                state.queue.push_back(event);
            }
        };
        if !matches!(format, Format::Exec) {
            while let Some(line) = state.lines.next_line()? {
                if let Some(entry) = ndjson::entry(line)? {
                    push(state, parse_json(&entry)?);
                }
            }
            return Ok(());
        }
        while state.end.is_none() {
            let event = state.sse.next_event().map_err(|_| {
                ClientError::new(
                    codes::SERVER_ERROR,
                    "exec stream: an event is larger than 8 MiB",
                )
            })?;
            let Some(event) = event else {
                return Ok(());
            };
            let Some(delivery) = decode(&event).and_then(|w| state.aligner.accept(w))? else {
                continue;
            };
            state.resumer.progressed();
            match delivery {
                Delivery::TaskId(_) => {}
                Delivery::Output(channel, data) => {
                    let text = state.texts.decode(channel, &data);
                    let event = output(channel.name(), &data, &text);
                    push(state, event);
                }
                Delivery::Exit(exit) => {
                    push(state, exited(None, exit.code, exit.status.clone(), "", ""));
                    // The text leaves the wasm memory now (it never shrinks), as JS strings.
                    let [stdout, stderr] = state.texts.finish();
                    let id = state.aligner.task_id().unwrap_or_default();
                    let result = exited(Some(id), exit.code, exit.status, &stdout, &stderr);
                    state.end = Some(Ok(result));
                    state.conn = None;
                }
            }
        }
        Ok(())
    }

    /// A connection: the first request, then (exec) re-subscribes, each replaying from the start.
    async fn connect(&self) -> Result<Conn, ClientError> {
        loop {
            let (retries, request, first) = {
                let mut state = self.state.borrow_mut();
                match state.start.take() {
                    // A POST only replays a 401 (it may have started the task); a GET retries.
                    Some(request) => (Retries::for_method(request.method), request, true),
                    None => {
                        let Some(id) = state.aligner.task_id().map(String::from) else {
                            return Err(ClientError::new(
                                codes::NETWORK_ERROR,
                                "stream: the connection broke before it could be resumed",
                            ));
                        };
                        state.aligner.resubscribed();
                        state.sse = sse::Parser::new();
                        let url = self.target.url("/exec/stream", &[("task_id", Some(id))]);
                        (Retries::for_method("GET"), api::get(url), false)
                    }
                }
            };
            let opened = body::open(
                &self.target,
                Outgoing::built(&request),
                retries,
                &self.signals,
                self.handshake_ms,
            )
            .await;
            match opened {
                Ok(conn) => return Ok(conn),
                // The POST may have started the task: never sent twice.
                Err(error) if !first && resumable(&error) && !self.stopped() => {
                    self.before_resume(Some(error), false).await?
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// Waits before the next re-subscribe, or gives up after too many in a row.
    async fn before_resume(
        &self,
        error: Option<ClientError>,
        idle: bool,
    ) -> Result<(), ClientError> {
        let platform = &self.target.session().platform;
        let delay = {
            let mut state = self.state.borrow_mut();
            let aligned = state.aligner.aligned();
            state.resumer.after_drop(idle, aligned, platform.random())
        };
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
}

/// A command's output as it happens (`exec.stream`, `exec.subscribe`); also the object behind
/// `files.stream()` (typed `FileStream`). `for await (const ev of stream)`, `wait()`, `taskId`,
/// `write()`, `kill()`, `close()`.
#[wasm_bindgen]
pub struct ExecStream {
    inner: Rc<Stream>,
}

impl ExecStream {
    fn run(&self, op: Op) -> Promise {
        promise(self.inner.clone().run(op))
    }
}

#[wasm_bindgen]
impl ExecStream {
    /// The task's id (from its `task_id` event).
    #[wasm_bindgen(getter = taskId, unchecked_return_type = "Promise<string>")]
    pub fn task_id(&self) -> Promise {
        self.run(Op::TaskId)
    }

    /// The next event (`for await` calls it).
    #[wasm_bindgen(unchecked_return_type = "Promise<IteratorResult<ExecEvent, undefined>>")]
    pub fn next(&self) -> Promise {
        let inner = &self.inner;
        inner.state.borrow_mut().iterating = true;
        if inner.closed() {
            return Promise::resolve(&item(None));
        }
        // An event already read, and no earlier `next()` waiting: at once, no future.
        if inner.nexts.get() == 0 && !inner.stopped() {
            if let Some(event) = inner.take() {
                return Promise::resolve(&item(Some(event)));
            }
        }
        self.run(Op::Next)
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
        self.run(Op::Wait)
    }

    /// Writes to the task's stdin (`POST /exec/{id}/input`; a string is sent as UTF-8).
    #[wasm_bindgen(unchecked_return_type = "Promise<ExecInputResult>")]
    pub fn write(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string | Uint8Array")] data: JsValue,
    ) -> Promise {
        match input_bytes(&data, "write(data)") {
            Ok(bytes) => self.run(Op::Input(bytes)),
            Err(error) => Promise::reject(&to_js(error)),
        }
    }

    /// Kills the task (`DELETE /exec/{id}`); the stream then ends with its exit event.
    #[wasm_bindgen(unchecked_return_type = "Promise<ExecKillResult>")]
    pub fn kill(&self) -> Promise {
        self.run(Op::Kill)
    }

    /// Stops reading and closes the connection; the task keeps running.
    pub fn close(&self) {
        let inner = &self.inner;
        inner.close.abort();
        inner.state.borrow_mut().conn = None;
        inner.changed.notify();
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

//! The decisions of the gateway's streaming responses; their I/O is the JS class `ExecStream`
//! (`js/stream.js`: the body read chunk by chunk when asked, the idle timer, the waits before a
//! resume, the gate, the end on `close()`, the caller's signal or `dispose()`), which asks them
//! through one function (`decide`):
//! - `Format::Exec`: `exec.stream` / `exec.subscribe` (SSE; resumed after a drop, the replay
//!   aligned by `core::exec_stream::Aligner`: every byte once, one `exit`, last);
//! - `Format::Lines`: `files.stream` (NDJSON; the same class, typed `FileStream` in the `.d.ts`);
//! - `Format::Blob`: `transfer.download` (the body kept as a `Blob` in JS, with progress).

use super::target::{gateway_call, Target};
use crate::bindings::call;
use crate::bindings::convert::{input_bytes, parse_json, Options};
use crate::bindings::error::{or_rejected, to_js};
use crate::bindings::fetch::Outgoing;
use crate::core::api;
use crate::core::error::{codes, ClientError};
use crate::core::exec_stream::{decode, Aligner, Delivery, Resumer};
use crate::core::ndjson::{self, Lines};
use crate::core::request::Retries;
use crate::core::runtime::{Body, HttpRequest, Runtime};
use crate::core::sse;
use crate::prelude::*;
use alloc::rc::Rc;
use core::cell::RefCell;
use js_sys::{Array, Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use web_sys::AbortSignal;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/**
 * A command's output as it happens (`exec.stream`, `exec.subscribe`); also the object behind
 * `files.stream()` (typed `FileStream`). `for await (const ev of stream)`, `wait()`, `taskId`,
 * `write()`, `kill()`, `close()`.
 */
export class ExecStream {
    private constructor();
    free(): void;
    [Symbol.dispose](): void;
    /**
     * Stops reading and closes the connection; the task keeps running.
     */
    close(): void;
    /**
     * Kills the task (`DELETE /exec/{id}`); the stream then ends with its exit event.
     */
    kill(): Promise<ExecKillResult>;
    /**
     * The next event (`for await` calls it).
     */
    next(): Promise<IteratorResult<ExecEvent, undefined>>;
    /**
     * Ends the iteration early (`break` out of `for await`): as `close()`.
     */
    return(): Promise<IteratorResult<ExecEvent, undefined>>;
    /**
     * Resolves when the task exits, with its exit code and all its output (read here when
     * nobody iterates; an iterator still gets every event).
     */
    wait(): Promise<ExecStreamResult>;
    /**
     * Writes to the task's stdin (`POST /exec/{id}/input`; a string is sent as UTF-8).
     */
    write(data: string | Uint8Array): Promise<ExecInputResult>;
    /**
     * The task's id (from its `task_id` event).
     */
    readonly taskId: Promise<string>;
}
"#;

#[wasm_bindgen(module = "/js/stream.js")]
extern "C" {
    /// The stream handed to the page (js/stream.js).
    #[wasm_bindgen(js_name = ExecStream)]
    pub type Engine;
    #[wasm_bindgen(constructor, js_class = ExecStream)]
    #[allow(clippy::too_many_arguments)]
    fn new(
        rust: JsValue,
        format: u32,
        idle_ms: f64,
        task_id: Option<String>,
        first: bool,
        caller: Option<AbortSignal>,
        dispose: &AbortSignal,
        on_progress: &JsValue,
        keep_output: bool,
    ) -> Engine;
    #[wasm_bindgen(method, js_class = ExecStream)]
    pub fn wait(this: &Engine) -> Promise;

    /// Pushes `{ event, data, text }`, `data` copied out of the wasm memory; js/stream.js
    /// decodes the text (the browser's `TextDecoder`, one per channel) and keeps it for `wait()`.
    fn output(list: &Array, event: &str, data: &[u8]);
    /// Pushes, without `id`, the exit event `{ event: "exit", exitCode, status? }`; with it,
    /// what `wait()` resolves with, `{ taskId, exitCode, status? }` (js/stream.js adds the text).
    fn exited(list: &Array, id: Option<&str>, code: f64, status: Option<String>);
}

/// `idleTimeoutMs` when not given.
pub const DEFAULT_IDLE_MS: f64 = 60_000.0;

pub enum Format {
    Exec,
    Lines,
    /// `onProgress` of the download, or `undefined`.
    Blob(JsValue),
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

/// What the JS side of one stream asks about.
struct Core {
    target: Rc<Target>,
    exec: bool,
    caller: Option<AbortSignal>,
    handshake_ms: f64,
    /// `keepOutput`: the output is handed to js/stream.js for `wait()` even when not iterated.
    keep_output: bool,
    state: RefCell<State>,
}

#[derive(Default)]
struct State {
    /// The first request, until it is sent.
    start: Option<HttpRequest>,
    sse: sse::Parser,
    lines: Lines,
    aligner: Aligner,
    resumer: Resumer,
}

/// A stream of `start` (or, with `None`, a subscribe to `task_id`), with the `signal`,
/// `timeoutMs`, `idleTimeoutMs` and `keepOutput` of `options`.
pub fn open(
    target: &Rc<Target>,
    format: Format,
    start: Option<HttpRequest>,
    task_id: Option<String>,
    options: &Options,
) -> Result<Engine, ClientError> {
    let (handshake_ms, idle_ms) = timeouts(target, options)?;
    let caller = options.signal()?;
    let keep_output = options.bool("keepOutput")? != Some(false);
    let (kind, progress) = match format {
        Format::Exec => (0, JsValue::UNDEFINED),
        Format::Lines => (1, JsValue::UNDEFINED),
        Format::Blob(callback) => (2, callback),
    };
    let first = start.is_some();
    let core = Rc::new(Core {
        target: target.clone(),
        exec: kind == 0,
        caller: caller.clone(),
        handshake_ms,
        keep_output,
        state: RefCell::new(State {
            start,
            aligner: Aligner::new(task_id.clone()),
            ..State::default()
        }),
    });
    // The same shape as the socket's: one closure shim in the wasm for both.
    let decide = Closure::<dyn Fn(u32, JsValue, JsValue, JsValue, JsValue) -> JsValue>::new(
        move |op, a, b, _, _| core.decide(op, a, b),
    );
    let dispose = target.session().dispose_signal();
    Ok(Engine::new(
        decide.into_js_value(),
        kind,
        idle_ms,
        task_id,
        first,
        caller,
        &dispose,
        &progress,
        keep_output,
    ))
}

impl Core {
    /// What `js/stream.js` asks (see its head).
    fn decide(self: &Rc<Self>, op: u32, a: JsValue, b: JsValue) -> JsValue {
        match op {
            0 => self.connect(a.unchecked_into()).into(),
            1 => self.feed(a, b.is_truthy()).into(),
            2 => {
                let mut state = self.state.borrow_mut();
                let aligned = state.aligner.aligned();
                let random = self.target.session().platform.random();
                let delay = state.resumer.after_drop(a.is_truthy(), aligned, random);
                delay.unwrap_or(-1.0).into()
            }
            3 => {
                // `write(data)`: `POST /exec/{id}/input`; `kill()`: `DELETE /exec/{id}`.
                let mut path = String::from("/exec/");
                path.push_str(&api::encode_component(&a.as_string().unwrap_or_default()));
                let (method, body) = if b.is_undefined() {
                    ("DELETE", None)
                } else {
                    path.push_str("/input");
                    let bytes = input_bytes(&b, "").unwrap_or_default();
                    ("POST", Some(Body::Bytes(bytes)))
                };
                let url = self.target.url(&path, &[]);
                let request = HttpRequest { method, url, body };
                gateway_call(&self.target, Ok((request, self.caller.clone())), None).into()
            }
            _ => {
                // Ended or closed: the parsers' buffers go now (a task call needs none of them).
                let mut state = self.state.borrow_mut();
                state.sse = sse::Parser::default();
                state.lines = Lines::default();
                JsValue::UNDEFINED
            }
        }
    }

    /// The first request, then (exec) a re-subscribe replaying from the task's first byte:
    /// resolves with the answer once its headers are in (js/fetch.js `reply`).
    fn connect(&self, stop: AbortSignal) -> Promise {
        let (retries, request) = {
            let mut state = self.state.borrow_mut();
            match state.start.take() {
                // A POST only replays a 401 (it may have started the task); a GET retries.
                Some(request) => (Retries::for_method(request.method), request),
                None => {
                    let id = String::from(state.aligner.task_id().unwrap_or_default());
                    state.aligner.resubscribed();
                    state.sse = sse::Parser::new();
                    let url = self.target.url("/exec/stream", &[("task_id", Some(id))]);
                    (Retries::for_method("GET"), api::get(url))
                }
            }
        };
        let target = &self.target;
        let outgoing = Outgoing::built(&request);
        let (session, cell) = (target.session(), target.cell());
        let handshake_ms = self.handshake_ms;
        or_rejected(call::open(
            session,
            cell,
            outgoing,
            retries,
            Some(stop),
            handshake_ms,
        ))
    }

    /// What a chunk holds (`null`: the end of an NDJSON body), in order: the events (when
    /// `keep`; an exec stream's output also with `keepOutput`, for its text), the task's id (a
    /// string), after the exit event what `wait()` resolves with, and an error last when one
    /// ends the stream.
    fn feed(&self, chunk: JsValue, keep: bool) -> Array {
        let list = Array::new();
        let mut state = self.state.borrow_mut();
        let fed = if self.exec {
            self.events(&mut state, chunk.unchecked_into(), keep, &list)
        } else {
            Self::lines(&mut state.lines, chunk, keep, &list)
        };
        if let Err(error) = fed {
            list.push(&to_js(error));
        }
        list
    }

    /// An exec stream's chunk: its SSE events, a piece at a time.
    fn events(
        &self,
        state: &mut State,
        chunk: Uint8Array,
        keep: bool,
        list: &Array,
    ) -> Result<(), ClientError> {
        in_pieces(&chunk, |piece| {
            piece.copy_to(state.sse.tail(piece.length() as usize));
            self.deliver(state, keep, list)
        })
    }

    /// The events of what the parser holds; `true` after the exit event (nothing follows it).
    fn deliver(&self, state: &mut State, keep: bool, list: &Array) -> Result<bool, ClientError> {
        loop {
            let event = state.sse.next_event().map_err(|_| {
                ClientError::new(
                    codes::SERVER_ERROR,
                    "exec stream: an event is larger than 8 MiB",
                )
            })?;
            let Some(event) = event else {
                return Ok(false);
            };
            let Some(delivery) = decode(&event).and_then(|w| state.aligner.accept(w))? else {
                continue;
            };
            state.resumer.progressed();
            match delivery {
                Delivery::TaskId(id) => {
                    list.push(&id.into());
                }
                Delivery::Output(channel, data) => {
                    // The text is decoded and kept in JS: the wasm memory never shrinks, and
                    // the browser's decoder is faster than one in the wasm.
                    if keep || self.keep_output {
                        output(list, channel.name(), &data);
                    }
                }
                Delivery::Exit(exit) => {
                    if keep {
                        exited(list, None, exit.code, exit.status.clone());
                    }
                    let id = state.aligner.task_id();
                    exited(list, id, exit.code, exit.status);
                    return Ok(true);
                }
            }
        }
    }

    fn lines(
        lines: &mut Lines,
        chunk: JsValue,
        keep: bool,
        list: &Array,
    ) -> Result<(), ClientError> {
        let push = |line: String| -> Result<(), ClientError> {
            if let Some(entry) = ndjson::entry(line)? {
                let entry = parse_json(&entry)?;
                if keep {
                    list.push(&entry);
                }
            }
            Ok(())
        };
        if chunk.is_null() {
            // A last line without its `\n`: one more entry.
            return lines.finish().map_or(Ok(()), push);
        }
        lines.push(&Uint8Array::new(&chunk).to_vec());
        while let Some(line) = lines.next_line()? {
            push(line)?;
        }
        Ok(())
    }
}

/// The largest piece of a network chunk copied into the wasm at once.
const PIECE_BYTES: u32 = 64 * 1024;

/// An exec stream's network chunk to `take` in pieces, until it says `true` (the end): the SSE
/// parser then holds at most a piece and the event in progress, whatever the size of the chunks
/// the browser hands out (up to the whole body), and the wasm memory, which never shrinks, does
/// not grow to the largest chunk. (`files.stream`'s NDJSON chunks are copied whole: measured,
/// pieces there cost ~0.1 KB gz more.)
fn in_pieces(
    chunk: &Uint8Array,
    mut take: impl FnMut(Uint8Array) -> Result<bool, ClientError>,
) -> Result<(), ClientError> {
    let len = chunk.length();
    let mut at = 0;
    while at < len {
        let end = len.min(at + PIECE_BYTES);
        if take(chunk.subarray(at, end))? {
            break;
        }
        at = end;
    }
    Ok(())
}

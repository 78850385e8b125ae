//! `runtime.exec`: commands in the workspace: run to completion, stream, subscribe, list, get,
//! kill, stdin, delete all.

use super::stream::{self, Format};
use super::target::{gateway_call, simple_call, Prepared, Target};
use crate::bindings::convert::{input_bytes, invalid, json_object, Options};
use crate::bindings::error::to_js;
use crate::bindings::views::{opt, thrown};
use crate::core::api;
use crate::core::error::ClientError;
use crate::core::runtime::{Body, HttpRequest};
use crate::prelude::*;
use alloc::rc::Rc;
use js_sys::{Array, Promise};
use wasm_bindgen::prelude::*;

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
  /**
   * Keep the output's text for `wait()` (default `true`). `false`: nothing of the output is
   * kept (for long logs read through the iterator); `wait()` then has empty `stdout`/`stderr`.
   */
  keepOutput?: boolean;
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
  /** All the task's stdout, decoded (empty with `keepOutput: false`). */
  stdout: string;
  stderr: string;
}

/** An exec stream is iterated with `for await`: `ExecStream extends AsyncIterable<ExecEvent>`. */
export interface ExecStream extends AsyncIterable<ExecEvent> {}
/** A task of `exec.list()` / `exec.get()`, as the gateway sends it. */
export interface ExecTask {
  id: string;
  command: string[];
  status: "pending" | "running" | "exited" | "failed" | (string & {});
  guest_pid?: number;
  exit_code?: number | null;
  stdout?: string;
  stderr?: string;
  error?: string;
  created_at: string;
  started_at?: string;
  exited_at?: string | null;
  ttl_seconds?: number | null;
}

export interface ExecKillResult {
  success: true;
  task_id?: string;
  killed?: boolean;
  deleted?: boolean;
}

export interface ExecInputResult {
  success: true;
  bytes_written: number;
}

export interface ExecDeleteAllResult {
  success: true;
  deleted: number;
}
/**
 * `runtime.exec`.
 */
export class RuntimeExec {
    private constructor();
    free(): void;
    [Symbol.dispose](): void;
    /**
     * Kills and forgets every task (`DELETE /exec`).
     */
    deleteAll(options?: CallOptions): Promise<ExecDeleteAllResult>;
    /**
     * One task (`GET /exec/{id}`).
     */
    get(taskId: string, options?: CallOptions): Promise<ExecTask>;
    /**
     * Writes to a task's stdin (`POST /exec/{id}/input`, raw bytes; a string is sent as UTF-8).
     */
    input(taskId: string, data: string | Uint8Array, options?: CallOptions): Promise<ExecInputResult>;
    /**
     * Kills a running task (exit 137), or forgets an exited one (`DELETE /exec/{id}`).
     */
    kill(taskId: string, options?: CallOptions): Promise<ExecKillResult>;
    /**
     * The workspace's tasks (`GET /exec`).
     */
    list(options?: CallOptions): Promise<ExecTask[]>;
    /**
     * Runs a command (argv form) and resolves with its exit code and output.
     */
    run(cmd: string[], options?: ExecOptions): Promise<ExecResult>;
    /**
     * Starts a command and returns its output stream at once (`POST /exec/stream`).
     */
    stream(cmd: string[], options?: ExecStreamOptions): ExecStream;
    /**
     * The output of a task, from its first byte (`GET /exec/stream?task_id=`): a finished
     * task's whole output and exit, a running one's output so far and then live.
     */
    subscribe(taskId: string, options?: SubscribeOptions): ExecStream;
}
"#;

/// `runtime.exec` (js/views.js `RuntimeExec`).
struct RuntimeExec {
    target: Rc<Target>,
}

/// What `RuntimeExec` asks (js/views.js, ops 20–27).
pub fn run(target: &Rc<Target>, op: u32, a: JsValue, b: JsValue, c: JsValue) -> JsValue {
    let exec = RuntimeExec {
        target: target.clone(),
    };
    match op {
        20 => exec.run(a, opt(b)).into(),
        21 => thrown(exec.stream(a, opt(b))),
        22 => thrown(exec.subscribe(a, opt(b))),
        23 => exec.list(opt(a)).into(),
        24 => exec.get(a, opt(b)).into(),
        25 => exec.kill(a, opt(b)).into(),
        26 => exec.input(a, b, opt(c)).into(),
        _ => exec.delete_all(opt(a)).into(),
    }
}

impl RuntimeExec {
    /// `/exec/{id}{rest}` with `{ signal }` options.
    fn task(
        &self,
        method: &'static str,
        id: &JsValue,
        rest: &str,
        body: Option<Body>,
        options: Option<JsValue>,
        call: &'static str,
    ) -> Prepared {
        let id = task_id(id, call)?;
        let signal = Options::read(options, call)?.signal()?;
        let mut path = String::from("/exec/");
        path.push_str(&api::encode_component(&id));
        path.push_str(rest);
        let url = self.target.url(&path, &[]);
        Ok((HttpRequest { method, url, body }, signal))
    }

    /// An exec stream of `POST /exec/stream` (`cmd`), or a subscribe to the task `id`: the one
    /// body of both methods.
    fn open(
        &self,
        cmd: Option<JsValue>,
        id: &JsValue,
        options: Option<JsValue>,
        call: &'static str,
    ) -> Result<JsValue, JsValue> {
        let open = || {
            let id = match cmd {
                Some(_) => None,
                None => Some(task_id(id, call)?),
            };
            let options = Options::read(options, call)?;
            let start = match cmd {
                Some(cmd) => {
                    let url = self.target.url("/exec/stream", &[]);
                    Some(api::post(url, exec_body(cmd, &options, call)?))
                }
                None => None,
            };
            stream::open(&self.target, Format::Exec, start, id, &options)
        };
        open().map(JsValue::from).map_err(to_js)
    }
}

/// `cmd` as a non-empty array of strings.
pub fn argv(cmd: JsValue, call: &str) -> Result<Array, ClientError> {
    cmd.dyn_into::<Array>()
        .ok()
        .filter(|a| a.length() > 0 && a.iter().all(|s| s.is_string()))
        .ok_or_else(|| invalid(call, "cmd", "a non-empty array of strings"))
}

fn task_id(value: &JsValue, call: &str) -> Result<String, ClientError> {
    value
        .as_string()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| invalid(call, "taskId", "a non-empty string"))
}

/// The body of `POST /exec` and `POST /exec/stream`.
fn exec_body(cmd: JsValue, options: &Options, call: &str) -> Result<String, ClientError> {
    let mut pairs = vec![("cmd", JsValue::from(argv(cmd, call)?))];
    if let Some(seconds) = options.positive("timeoutSeconds")? {
        pairs.push((
            "timeout_seconds",
            JsValue::from_f64(crate::core::float::ceil(seconds)),
        ));
    }
    json_object(&pairs, call)
}

impl RuntimeExec {
    /// Runs a command (argv form) and resolves with its exit code and output.
    pub fn run(&self, cmd: JsValue, options: Option<JsValue>) -> Promise {
        const CALL: &str = "exec.run(cmd, options)";
        let prepared = Options::read(options, CALL).and_then(|options| {
            let body = exec_body(cmd, &options, CALL)?;
            Ok((
                api::post(self.target.url("/exec", &[]), body),
                options.signal()?,
            ))
        });
        gateway_call(&self.target, prepared, None)
    }

    /// Starts a command and returns its output stream at once (`POST /exec/stream`).
    pub fn stream(&self, cmd: JsValue, options: Option<JsValue>) -> Result<JsValue, JsValue> {
        self.open(
            Some(cmd),
            &JsValue::UNDEFINED,
            options,
            "exec.stream(cmd, options)",
        )
    }

    /// The output of a task, from its first byte (`GET /exec/stream?task_id=`): a finished
    /// task's whole output and exit, a running one's output so far and then live.
    pub fn subscribe(&self, id: JsValue, options: Option<JsValue>) -> Result<JsValue, JsValue> {
        self.open(None, &id, options, "exec.subscribe(taskId, options)")
    }

    /// The workspace's tasks (`GET /exec`).
    pub fn list(&self, options: Option<JsValue>) -> Promise {
        let call = "exec.list(options)";
        simple_call(&self.target, "GET", "/exec", options, call, Some("tasks"))
    }

    /// One task (`GET /exec/{id}`).
    pub fn get(&self, id: JsValue, options: Option<JsValue>) -> Promise {
        let prepared = self.task("GET", &id, "", None, options, "exec.get(taskId, options)");
        gateway_call(&self.target, prepared, None)
    }

    /// Kills a running task (exit 137), or forgets an exited one (`DELETE /exec/{id}`).
    pub fn kill(&self, id: JsValue, options: Option<JsValue>) -> Promise {
        let call = "exec.kill(taskId, options)";
        let prepared = self.task("DELETE", &id, "", None, options, call);
        gateway_call(&self.target, prepared, None)
    }

    /// Writes to a task's stdin (`POST /exec/{id}/input`, raw bytes; a string is sent as UTF-8).
    pub fn input(&self, id: JsValue, data: JsValue, options: Option<JsValue>) -> Promise {
        const CALL: &str = "exec.input(taskId, data, options)";
        let prepared = input_bytes(&data, CALL).and_then(|bytes| {
            self.task(
                "POST",
                &id,
                "/input",
                Some(Body::Bytes(bytes)),
                options,
                CALL,
            )
        });
        gateway_call(&self.target, prepared, None)
    }

    /// Kills and forgets every task (`DELETE /exec`).
    pub fn delete_all(&self, options: Option<JsValue>) -> Promise {
        let call = "exec.deleteAll(options)";
        simple_call(&self.target, "DELETE", "/exec", options, call, None)
    }
}

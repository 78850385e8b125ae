//! Exec tasks (`/exec…`), as a workspace keeps them: each command runs in the emulated shell as a task
//! of its workspace, with an id (`"1"`, `"2"`, … per workspace), a status (`running` →
//! `exited`), its stdin, and its output kept for `GET /exec/{id}` and for subscribers.
//!
//! Bounds: a task keeps the last [`MAX_OUTPUT_BYTES`] of its output (older chunks are dropped
//! and `output_truncated` says so); a workspace keeps [`MAX_TASKS`] tasks (the oldest exited
//! ones go first) and runs at most [`MAX_RUNNING`] at once; pending stdin is at most
//! [`STDIN_CHUNKS`] chunks.

use crate::shell::io::Output;
use crate::stream::sse_event;
use crate::util::{iso8601, now_millis};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bytes::Bytes;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::{mpsc, watch, Notify};

/// Output kept per task (stdout and stderr together), in bytes.
pub const MAX_OUTPUT_BYTES: usize = 1024 * 1024;
/// Tasks kept per workspace.
pub const MAX_TASKS: usize = 100;
/// Tasks running at once per workspace.
pub const MAX_RUNNING: usize = 32;
/// Stdin chunks waiting for the command to read them.
pub const STDIN_CHUNKS: usize = 256;
/// Exit status of a killed task (SIGKILL).
pub const STATUS_KILLED: i32 = 137;
/// Exit status of a task over its `timeout_seconds` (as `timeout(1)`).
pub const STATUS_TIMED_OUT: i32 = 124;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    fn name(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

/// What the task runs.
#[derive(Debug, Clone)]
pub enum Program {
    /// A shell line (`sh -c LINE`).
    Line(String),
    /// One command, argv as given.
    Argv(Vec<String>),
}

#[derive(Default)]
pub(super) struct Log {
    /// `(sequence number, stream, bytes)`, oldest first.
    chunks: VecDeque<(u64, Stream, Bytes)>,
    next_seq: u64,
    bytes: usize,
    dropped_bytes: u64,
    exit_code: Option<i32>,
    exited_ms: Option<u64>,
    killed: bool,
    pub(super) timed_out: bool,
}

/// One exec task. Shared by the workspace's list, its runner and its subscribers.
pub struct Task {
    pub id: String,
    pub command: Vec<String>,
    pub created_ms: u64,
    pub ttl_seconds: Option<u64>,
    log: Mutex<Log>,
    /// Bumped on every change of `log`: subscribers wait on it.
    version: watch::Sender<u64>,
    pub(super) kill: Notify,
    stdin: Mutex<Option<mpsc::Sender<Bytes>>>,
}

impl std::fmt::Debug for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Task")
            .field("id", &self.id)
            .field("command", &self.command)
            .finish_non_exhaustive()
    }
}

/// Why input could not be written.
#[derive(Debug, PartialEq, Eq)]
pub enum InputError {
    /// The task exited or closed its stdin.
    NotRunning,
    /// [`STDIN_CHUNKS`] chunks are already waiting.
    Full,
}

impl Task {
    pub(super) fn log(&self) -> MutexGuard<'_, Log> {
        self.log.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn bump(&self) {
        self.version.send_modify(|v| *v += 1);
    }

    pub(super) fn push(&self, output: Output) {
        let (stream, data) = match output {
            Output::Stdout(b) => (Stream::Stdout, b),
            Output::Stderr(b) => (Stream::Stderr, b),
        };
        {
            let mut log = self.log();
            let seq = log.next_seq;
            log.next_seq += 1;
            log.bytes += data.len();
            log.chunks.push_back((seq, stream, data));
            while log.bytes > MAX_OUTPUT_BYTES {
                match log.chunks.pop_front() {
                    Some((_, _, old)) => {
                        log.bytes -= old.len();
                        log.dropped_bytes += old.len() as u64;
                    }
                    None => break,
                }
            }
        }
        self.bump();
    }

    pub(super) fn finish(&self, code: i32) {
        {
            let mut log = self.log();
            log.exit_code = Some(code);
            log.exited_ms = Some(now_millis());
        }
        if let Ok(mut stdin) = self.stdin.lock() {
            stdin.take();
        }
        self.bump();
    }

    pub fn is_running(&self) -> bool {
        self.log().exit_code.is_none()
    }

    fn exited_ms(&self) -> Option<u64> {
        self.log().exited_ms
    }

    /// Kills a running task (status 137); nothing when it has exited.
    pub fn kill(&self) {
        let mut log = self.log();
        if log.exit_code.is_none() && !log.killed {
            log.killed = true;
            self.kill.notify_one();
        }
    }

    /// Queues `data` on the task's stdin; an empty `data` is an end-of-file.
    pub fn input(&self, data: Bytes) -> Result<usize, InputError> {
        let guard = self.stdin.lock().unwrap_or_else(|e| e.into_inner());
        let sender = guard.as_ref().ok_or(InputError::NotRunning)?;
        let len = data.len();
        sender.try_send(data).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => InputError::Full,
            mpsc::error::TrySendError::Closed(_) => InputError::NotRunning,
        })?;
        Ok(len)
    }

    /// The `ExecTask` object; with its retained output when `with_output`.
    pub fn to_json(&self, with_output: bool) -> Value {
        let log = self.log();
        let mut task = json!({
            "id": self.id,
            "command": self.command,
            "status": if log.exit_code.is_some() { "exited" } else { "running" },
            "exit_code": log.exit_code,
            "created_at": iso8601(self.created_ms),
            "started_at": iso8601(self.created_ms),
            "exited_at": log.exited_ms.map(iso8601),
            "ttl_seconds": self.ttl_seconds,
        });
        if let Some(obj) = task.as_object_mut() {
            if log.killed {
                obj.insert("error".into(), Value::from("killed"));
            } else if log.timed_out {
                obj.insert("error".into(), Value::from("timeout"));
            }
            if with_output {
                let (mut out, mut err) = (Vec::new(), Vec::new());
                for (_, stream, data) in &log.chunks {
                    match stream {
                        Stream::Stdout => out.extend_from_slice(data),
                        Stream::Stderr => err.extend_from_slice(data),
                    }
                }
                obj.insert(
                    "stdout".into(),
                    Value::from(String::from_utf8_lossy(&out).into_owned()),
                );
                obj.insert(
                    "stderr".into(),
                    Value::from(String::from_utf8_lossy(&err).into_owned()),
                );
                obj.insert(
                    "output_truncated".into(),
                    Value::from(log.dropped_bytes > 0),
                );
            }
        }
        task
    }

    /// Waits until the task exits; returns its status.
    pub async fn wait(&self) -> i32 {
        let mut rx = self.version.subscribe();
        loop {
            rx.borrow_and_update();
            if let Some(code) = self.log().exit_code {
                return code;
            }
            if rx.changed().await.is_err() {
                return self.log().exit_code.unwrap_or(STATUS_KILLED);
            }
        }
    }

    /// Streams the task as SSE into `tx`: `task_id`, then every retained chunk from the start
    /// (`stdout`/`stderr`, base64), live chunks as they come, and `exit` once it has exited.
    /// Returns when done or when the client has gone.
    pub async fn stream_sse(self: Arc<Self>, tx: mpsc::Sender<Bytes>) {
        if tx
            .send(sse_event("task_id", &json!({ "task_id": self.id })))
            .await
            .is_err()
        {
            return;
        }
        let mut rx = self.version.subscribe();
        let mut cursor = 0u64;
        loop {
            rx.borrow_and_update();
            let (chunks, exit) = {
                let log = self.log();
                let chunks: Vec<(Stream, Bytes)> = log
                    .chunks
                    .iter()
                    .filter(|(seq, _, _)| *seq >= cursor)
                    .map(|(_, stream, data)| (*stream, data.clone()))
                    .collect();
                cursor = log.next_seq;
                (chunks, log.exit_code)
            };
            for (stream, data) in chunks {
                let event = sse_event(stream.name(), &json!({ "data": STANDARD.encode(&data) }));
                if tx.send(event).await.is_err() {
                    return;
                }
            }
            if let Some(code) = exit {
                let _ = tx
                    .send(sse_event(
                        "exit",
                        &json!({ "exit_code": code, "status": "exited" }),
                    ))
                    .await;
                return;
            }
            tokio::select! {
                changed = rx.changed() => if changed.is_err() { return; },
                // The client went away while nothing happened.
                _ = tx.closed() => return,
            }
        }
    }
}

/// A workspace's tasks. Dropping it (the workspace is deleted) kills the running ones.
#[derive(Default, Debug)]
pub struct Tasks {
    next_id: u64,
    list: Vec<Arc<Task>>,
}

impl Drop for Tasks {
    fn drop(&mut self) {
        self.kill_all();
    }
}

/// Why a task could not start.
#[derive(Debug, PartialEq, Eq)]
pub struct TooManyRunning;

impl Tasks {
    /// Forgets exited tasks past their `ttl_seconds`.
    fn prune(&mut self, now: u64) {
        self.list.retain(|t| match (t.ttl_seconds, t.exited_ms()) {
            (Some(ttl), Some(exited)) => exited.saturating_add(ttl.saturating_mul(1000)) > now,
            _ => true,
        });
    }

    pub fn list(&mut self) -> Vec<Arc<Task>> {
        self.prune(now_millis());
        self.list.clone()
    }

    pub fn get(&mut self, id: &str) -> Option<Arc<Task>> {
        self.prune(now_millis());
        self.list.iter().find(|t| t.id == id).cloned()
    }

    /// Removes a task from the list (it is killed first if running).
    pub fn remove(&mut self, id: &str) -> Option<Arc<Task>> {
        let index = self.list.iter().position(|t| t.id == id)?;
        let task = self.list.remove(index);
        task.kill();
        Some(task)
    }

    /// Kills every running task.
    pub fn kill_all(&mut self) {
        for task in &self.list {
            task.kill();
        }
    }

    /// Kills and forgets every task; returns how many there were.
    pub fn clear(&mut self) -> usize {
        self.kill_all();
        let count = self.list.len();
        self.list.clear();
        count
    }

    /// Registers a new running task and returns it with its stdin receiver.
    pub(super) fn create(
        &mut self,
        command: Vec<String>,
        ttl_seconds: Option<u64>,
    ) -> Result<(Arc<Task>, mpsc::Receiver<Bytes>), TooManyRunning> {
        let now = now_millis();
        self.prune(now);
        if self.list.iter().filter(|t| t.is_running()).count() >= MAX_RUNNING {
            return Err(TooManyRunning);
        }
        while self.list.len() >= MAX_TASKS {
            match self.list.iter().position(|t| !t.is_running()) {
                Some(oldest_exited) => {
                    self.list.remove(oldest_exited);
                }
                None => return Err(TooManyRunning),
            }
        }
        self.next_id += 1;
        let (stdin_tx, stdin_rx) = mpsc::channel(STDIN_CHUNKS);
        let task = Arc::new(Task {
            id: self.next_id.to_string(),
            command,
            created_ms: now,
            ttl_seconds,
            log: Mutex::new(Log::default()),
            version: watch::channel(0).0,
            kill: Notify::new(),
            stdin: Mutex::new(Some(stdin_tx)),
        });
        self.list.push(task.clone());
        Ok((task, stdin_rx))
    }
}

/// Why [`start`] failed.
#[derive(Debug, PartialEq, Eq)]
pub enum StartError {
    WorkspaceGone,
    TooManyRunning,
}

//! Terminals (wire §3.5): the REST side, and each terminal's task: a line discipline (echo,
//! Backspace, Enter, Ctrl-C, Ctrl-D) in front of the emulated shell, behind a `$ ` prompt.
//! Output goes to the terminal's scrollback ring and, when a socket is attached, to the socket
//! (`crate::live`). Terminals outlive their socket. Nothing runs on the host.

use super::Reach;
use crate::body::{query_map, JsonBody};
use crate::error::ApiError;
use crate::live::{Live, TerminalLimit, MAX_TERMINAL_ID};
use crate::shell::{Io, Output, Shell};
use crate::state::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::Json;
use base64::Engine;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::sync::Arc;
use tokio::sync::mpsc;

pub const PROMPT: &[u8] = b"$ ";
pub const DEFAULT_SCROLLBACK: usize = 64 * 1024;
pub const MAX_SCROLLBACK: usize = 16 * 1024 * 1024;
const DEFAULT_COMMAND: &str = "/bin/bash";
/// A line longer than this takes no more characters, and input typed ahead while a command runs
/// is kept up to this many bytes (Linux's tty input buffer is 4095 bytes).
pub const MAX_INPUT: usize = 4095;
/// Lines typed for a running command that may wait to be read (its stdin).
const STDIN_LINES: usize = 64;
/// Program names that start the interactive emulated shell (any directory, any arguments but
/// `-c`).
const SHELLS: [&str; 7] = ["sh", "bash", "zsh", "dash", "ash", "ksh", "fish"];

type JsonResult = Result<Json<Value>, ApiError>;

#[derive(Deserialize)]
pub struct CreateTerminal {
    cmd: Option<Vec<String>>,
    cols: Option<u64>,
    rows: Option<u64>,
    scrollback_size: Option<u64>,
}

fn dimension(field: &str, value: Option<u64>, default: u16) -> Result<u16, ApiError> {
    match value {
        None => Ok(default),
        Some(v) => u16::try_from(v)
            .ok()
            .filter(|v| *v > 0)
            .ok_or_else(|| ApiError::validation(field, "must be an integer between 1 and 65535")),
    }
}

pub async fn create(
    State(state): State<AppState>,
    reach: Reach,
    body: Result<JsonBody<CreateTerminal>, ApiError>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let JsonBody(body) = body?;
    let command = match body.cmd {
        None => vec![DEFAULT_COMMAND.to_string()],
        Some(cmd) if cmd.is_empty() || cmd[0].trim().is_empty() => {
            return Err(ApiError::validation(
                "cmd",
                "must be a non-empty array of strings",
            ))
        }
        Some(cmd) => cmd,
    };
    let cols = dimension("cols", body.cols, 80)?;
    let rows = dimension("rows", body.rows, 24)?;
    let scrollback_size = match body.scrollback_size {
        None => DEFAULT_SCROLLBACK,
        Some(n) if (1..=MAX_SCROLLBACK as u64).contains(&n) => n as usize,
        Some(_) => {
            return Err(ApiError::validation(
                "scrollback_size",
                format!("must be between 1 and {MAX_SCROLLBACK} bytes"),
            ))
        }
    };
    let (id, input, mut session) = reach
        .live
        .add_terminal(command.clone(), cols, rows, scrollback_size)
        .map_err(|TerminalLimit::IdsExhausted| {
            ApiError::new(
                StatusCode::CONFLICT,
                "too_many_terminals",
                format!(
                    "Terminal ids are one byte on the WebSocket: all of 1-{MAX_TERMINAL_ID} are in \
                     use; close (DELETE) a terminal first"
                ),
            )
            .with("max", MAX_TERMINAL_ID)
        })?;
    let task = tokio::spawn(run_terminal(
        state.clone(),
        reach.id.clone(),
        reach.live.clone(),
        id,
        command,
        input,
    ));
    reach.live.set_terminal_task(id, task.abort_handle());
    if let Some(obj) = session.as_object_mut() {
        obj.insert("success".into(), Value::Bool(true));
    }
    Ok((StatusCode::CREATED, Json(session)))
}

pub async fn list(reach: Reach) -> JsonResult {
    Ok(Json(
        json!({ "success": true, "terminals": reach.live.terminals_json() }),
    ))
}

fn terminal_id(raw: &str) -> Result<u32, ApiError> {
    raw.parse::<u32>()
        .ok()
        .filter(|id| (1..=MAX_TERMINAL_ID).contains(id))
        .ok_or_else(|| terminal_not_found(raw))
}

fn terminal_not_found(raw: &str) -> ApiError {
    ApiError::not_found(format!("No terminal '{raw}'")).with("terminal_id", raw)
}

pub async fn close(reach: Reach, Path(raw): Path<String>) -> JsonResult {
    let id = terminal_id(&raw)?;
    if !reach.live.remove_terminal(id) {
        return Err(terminal_not_found(&raw));
    }
    Ok(Json(
        json!({ "success": true, "terminal_id": id.to_string() }),
    ))
}

pub async fn scrollback(
    reach: Reach,
    Path(raw): Path<String>,
    RawQuery(query): RawQuery,
) -> JsonResult {
    let id = terminal_id(&raw)?;
    let query = query_map(query.as_deref());
    let bytes = match query.get("bytes").filter(|b| !b.is_empty()) {
        None => None,
        Some(b) => Some(
            b.trim()
                .parse::<usize>()
                .map_err(|_| ApiError::validation("bytes", "must be a non-negative integer"))?,
        ),
    };
    let (data, alive, exit_code) = reach
        .live
        .with_terminal(id, |t| (t.scrollback(bytes), t.alive, t.exit_code))
        .ok_or_else(|| terminal_not_found(&raw))?;
    Ok(Json(json!({
        "success": true,
        "scrollback": base64::engine::general_purpose::STANDARD.encode(&data),
        "size": data.len(),
        "alive": alive,
        "exit_code": exit_code,
    })))
}

// ── The line discipline ─────────────────────────────────────────────────────────────────────

/// What a chunk of input asks the terminal to do besides echoing.
#[derive(Debug, PartialEq, Eq)]
pub enum Action {
    /// Enter: run this line.
    Line(String),
    /// Ctrl-C at the prompt: drop the line, new prompt.
    Interrupt,
    /// Ctrl-D on an empty line.
    Eof,
}

/// Canonical-mode input processing, as a tty with `echo` does it for an interactive shell.
#[derive(Default)]
pub struct LineDiscipline {
    line: Vec<u8>,
    /// The previous byte was `\r`: a `\n` right after it is the same Enter.
    after_cr: bool,
    /// Inside an escape sequence (arrow keys and the like), which is ignored.
    escape: Escape,
}

#[derive(Default, PartialEq, Eq, Clone, Copy)]
enum Escape {
    #[default]
    None,
    /// Saw ESC.
    Start,
    /// Saw ESC [ (CSI) or ESC O (SS3): parameters until a final byte.
    Sequence,
}

impl LineDiscipline {
    /// Feeds input until it ends or an [`Action`] is due. Returns the bytes consumed, what to
    /// echo, and the action (the rest of the input is for after it).
    pub fn feed(&mut self, input: &[u8]) -> (usize, Vec<u8>, Option<Action>) {
        let mut echo = Vec::new();
        for (i, &b) in input.iter().enumerate() {
            let after_cr = std::mem::replace(&mut self.after_cr, false);
            match self.escape {
                Escape::Start => {
                    self.escape = if b == b'[' || b == b'O' {
                        Escape::Sequence
                    } else {
                        Escape::None
                    };
                    continue;
                }
                Escape::Sequence => {
                    if (0x40..=0x7e).contains(&b) {
                        self.escape = Escape::None;
                    }
                    continue;
                }
                Escape::None => {}
            }
            match b {
                b'\r' | b'\n' => {
                    if b == b'\n' && after_cr {
                        continue;
                    }
                    self.after_cr = b == b'\r';
                    echo.extend_from_slice(b"\r\n");
                    let line = String::from_utf8_lossy(&std::mem::take(&mut self.line)).into();
                    return (i + 1, echo, Some(Action::Line(line)));
                }
                0x03 => {
                    self.line.clear();
                    echo.extend_from_slice(b"^C\r\n");
                    return (i + 1, echo, Some(Action::Interrupt));
                }
                0x04 => {
                    if self.line.is_empty() {
                        return (i + 1, echo, Some(Action::Eof));
                    }
                }
                0x7f | 0x08 => {
                    if self.pop_char() {
                        echo.extend_from_slice(b"\x08 \x08");
                    }
                }
                // Ctrl-U: erase the whole line.
                0x15 => {
                    while self.pop_char() {
                        echo.extend_from_slice(b"\x08 \x08");
                    }
                }
                0x1b => self.escape = Escape::Start,
                b if self.line.len() >= MAX_INPUT && (b >= 0x20 || b == b'\t') => {}
                b'\t' => {
                    self.line.push(b' ');
                    echo.push(b' ');
                }
                b if b < 0x20 => {}
                b => {
                    self.line.push(b);
                    echo.push(b);
                }
            }
        }
        (input.len(), echo, None)
    }

    /// Removes the last character (a whole UTF-8 sequence); false on an empty line.
    fn pop_char(&mut self) -> bool {
        let Some(mut last) = self.line.pop() else {
            return false;
        };
        // Continuation bytes: keep popping to the lead byte.
        while last & 0xc0 == 0x80 {
            match self.line.pop() {
                Some(b) => last = b,
                None => break,
            }
        }
        true
    }

    /// The line typed so far.
    pub fn line(&self) -> &[u8] {
        &self.line
    }

    /// Drops the line being typed (a command was interrupted).
    pub fn clear(&mut self) {
        self.line.clear();
        self.escape = Escape::None;
    }
}

/// Keeps input typed while a command runs, up to [`MAX_INPUT`] bytes (the rest is lost, as a
/// full tty buffer loses it).
pub fn type_ahead(pending: &mut VecDeque<u8>, bytes: &[u8]) {
    let room = MAX_INPUT.saturating_sub(pending.len());
    pending.extend(&bytes[..bytes.len().min(room)]);
}

// ── The terminal's task ─────────────────────────────────────────────────────────────────────

/// Whether `command` starts the interactive shell (`/bin/bash`, `sh -l`, …, but not `sh -c`).
fn is_interactive_shell(command: &[String]) -> bool {
    let Some(program) = command.first() else {
        return true;
    };
    let name = program.rsplit('/').next().unwrap_or(program);
    SHELLS.contains(&name) && !command.iter().skip(1).any(|a| a == "-c")
}

/// `\n` → `\r\n` across output chunks (a `\r\n` split between two chunks stays one).
#[derive(Default)]
struct Crlf {
    prev: u8,
}

impl Crlf {
    fn convert(&mut self, chunk: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(chunk.len() + chunk.len() / 16);
        for &b in chunk {
            if b == b'\n' && self.prev != b'\r' {
                out.push(b'\r');
            }
            out.push(b);
            self.prev = b;
        }
        out
    }
}

/// The terminal was closed (deleted, or its workspace stopped): the task ends.
struct Gone;

/// One terminal: its output side and its line discipline.
struct Term {
    live: Arc<Live>,
    id: u32,
    crlf: Crlf,
    discipline: LineDiscipline,
    /// Keystrokes not yet processed at the prompt (typed ahead).
    pending: VecDeque<u8>,
    input: mpsc::UnboundedReceiver<Vec<u8>>,
}

impl Term {
    /// Raw bytes to the terminal (echo, prompt).
    fn print(&mut self, bytes: &[u8]) -> Result<(), Gone> {
        if !bytes.is_empty() {
            self.crlf.prev = bytes[bytes.len() - 1];
        }
        if self.live.terminal_output(self.id, bytes) {
            Ok(())
        } else {
            Err(Gone)
        }
    }

    /// A command's output (newlines become `\r\n`).
    fn output(&mut self, chunk: &[u8]) -> Result<(), Gone> {
        let converted = self.crlf.convert(chunk);
        if self.live.terminal_output(self.id, &converted) {
            Ok(())
        } else {
            Err(Gone)
        }
    }

    fn write_output(&mut self, output: Output) -> Result<(), Gone> {
        match output {
            Output::Stdout(b) | Output::Stderr(b) => self.output(&b),
        }
    }

    /// Runs a command (`command` borrows the shell and its I/O): its output goes to the terminal
    /// while keystrokes go through the line discipline to its stdin (a line on Enter, an
    /// end-of-file on Ctrl-D at the start of a line). `Ok(None)` when Ctrl-C interrupted it: the
    /// command is dropped, and output and typed-ahead input it had not consumed are flushed, as
    /// a tty does on SIGINT.
    async fn run(
        &mut self,
        stdin: &mpsc::Sender<Bytes>,
        out_rx: &mut mpsc::Receiver<Output>,
        command: impl std::future::Future<Output = i32>,
    ) -> Result<Option<i32>, Gone> {
        tokio::pin!(command);
        loop {
            tokio::select! {
                biased;
                keys = self.input.recv() => {
                    let Some(keys) = keys else { return Err(Gone) };
                    let mut rest: &[u8] = &keys;
                    while !rest.is_empty() {
                        let (used, echo, action) = self.discipline.feed(rest);
                        rest = &rest[used..];
                        self.print(&echo)?;
                        match action {
                            None => {}
                            Some(Action::Interrupt) => {
                                while out_rx.try_recv().is_ok() {}
                                return Ok(None);
                            }
                            Some(Action::Line(line)) => {
                                // A full tty buffer loses input.
                                let _ = stdin.try_send(Bytes::from(format!("{line}\n")));
                            }
                            Some(Action::Eof) => {
                                let _ = stdin.try_send(Bytes::new());
                            }
                        }
                    }
                }
                chunk = out_rx.recv() => {
                    if let Some(chunk) = chunk {
                        self.write_output(chunk)?;
                    }
                }
                status = &mut command => {
                    // Everything it wrote is in the channel by now.
                    while let Ok(chunk) = out_rx.try_recv() {
                        self.write_output(chunk)?;
                    }
                    return Ok(Some(status));
                }
            }
        }
    }

    /// The prompt, then the part of a line typed while the last command ran (echoed again, as
    /// readline redraws it).
    fn prompt(&mut self) -> Result<(), Gone> {
        self.print(PROMPT)?;
        let partial = self.discipline.line().to_vec();
        self.print(&partial)
    }
}

async fn run_terminal(
    state: AppState,
    workspace: String,
    live: Arc<Live>,
    id: u32,
    command: Vec<String>,
    input: mpsc::UnboundedReceiver<Vec<u8>>,
) {
    let mut term = Term {
        live: live.clone(),
        id,
        crlf: Crlf::default(),
        discipline: LineDiscipline::default(),
        pending: VecDeque::new(),
        input,
    };
    let mut shell = Shell::new(state, workspace);
    let (out_tx, mut out_rx) = mpsc::channel::<Output>(64);
    let (stdin_tx, stdin_rx) = mpsc::channel::<Bytes>(STDIN_LINES);
    let mut io = Io::new(out_tx, stdin_rx);
    if !is_interactive_shell(&command) {
        // A program: run once, its output on the terminal, then the terminal ends.
        let status = match term
            .run(&stdin_tx, &mut out_rx, shell.run_argv(&command, &mut io))
            .await
        {
            Ok(Some(status)) => status,
            Ok(None) => 130,
            Err(Gone) => return,
        };
        live.terminal_exited(id, status);
        return;
    }
    // `Err(Gone)`: the terminal was closed; nothing is left to report.
    let _ = interactive(&mut term, &mut shell, &mut io, &stdin_tx, &mut out_rx).await;
}

/// The prompt loop of an interactive terminal; returns once it exited (`exit`, Ctrl-D).
async fn interactive(
    term: &mut Term,
    shell: &mut Shell,
    io: &mut Io,
    stdin_tx: &mpsc::Sender<Bytes>,
    out_rx: &mut mpsc::Receiver<Output>,
) -> Result<(), Gone> {
    // `$?`: the last status, 130 after an interrupt.
    let mut status = 0;
    term.prompt()?;
    loop {
        if term.pending.is_empty() {
            match term.input.recv().await {
                Some(keys) => term.pending.extend(keys),
                None => return Err(Gone),
            }
        }
        let chunk: Vec<u8> = term.pending.drain(..).collect();
        let (used, echo, action) = term.discipline.feed(&chunk);
        term.pending.extend(&chunk[used..]);
        term.print(&echo)?;
        match action {
            None => {}
            Some(Action::Interrupt) => {
                status = 130;
                term.prompt()?;
            }
            Some(Action::Eof) => {
                term.print(b"exit\r\n")?;
                term.live.terminal_exited(term.id, status);
                return Ok(());
            }
            Some(Action::Line(line)) => {
                match term
                    .run(stdin_tx, out_rx, shell.run_line(&line, io))
                    .await?
                {
                    None => {
                        // Ctrl-C: flush what was typed ahead.
                        status = 130;
                        term.pending.clear();
                        term.discipline.clear();
                        while io.stdin.try_recv().is_ok() {}
                    }
                    Some(code) => {
                        status = code;
                        if shell.has_exited() {
                            term.live.terminal_exited(term.id, code);
                            return Ok(());
                        }
                        // Lines typed while it ran that it did not read: the shell reads them
                        // next, as it would from the tty.
                        while let Ok(line) = io.stdin.try_recv() {
                            type_ahead(&mut term.pending, &line);
                        }
                    }
                }
                term.prompt()?;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed_all(d: &mut LineDiscipline, input: &[u8]) -> (Vec<u8>, Vec<Action>) {
        let (mut echo, mut actions) = (Vec::new(), Vec::new());
        let mut rest = input;
        loop {
            let (used, e, action) = d.feed(rest);
            echo.extend(e);
            rest = &rest[used..];
            match action {
                Some(a) => actions.push(a),
                None => break,
            }
        }
        (echo, actions)
    }

    #[test]
    fn echo_enter_backspace() {
        let mut d = LineDiscipline::default();
        let (echo, actions) = feed_all(&mut d, b"ecx\x7fho hi\r");
        assert_eq!(echo, b"ecx\x08 \x08ho hi\r\n");
        assert_eq!(actions, [Action::Line("echo hi".into())]);
        // \r\n is one Enter; \n alone is one too.
        let (echo, actions) = feed_all(&mut d, b"a\r\nb\n");
        assert_eq!(echo, b"a\r\nb\r\n");
        assert_eq!(
            actions,
            [Action::Line("a".into()), Action::Line("b".into())]
        );
        // Backspace on an empty line echoes nothing; 0x08 works too.
        let (echo, _) = feed_all(&mut d, b"\x7f\x08");
        assert!(echo.is_empty());
        // UTF-8: one backspace removes one character.
        let (_, actions) = feed_all(&mut d, "xé\x7f\r".as_bytes());
        assert_eq!(actions, [Action::Line("x".into())]);
    }

    #[test]
    fn control_keys() {
        let mut d = LineDiscipline::default();
        let (echo, actions) = feed_all(&mut d, b"abc\x03");
        assert_eq!(echo, b"abc^C\r\n");
        assert_eq!(actions, [Action::Interrupt]);
        let (_, actions) = feed_all(&mut d, b"x\x04\x7f\x04");
        assert_eq!(actions, [Action::Eof], "Ctrl-D only on an empty line");
        // Arrow keys are ignored; Ctrl-U erases the line.
        let (echo, actions) = feed_all(&mut d, b"a\x1b[A\x1bOBb\x15c\r");
        assert_eq!(echo, b"ab\x08 \x08\x08 \x08c\r\n");
        assert_eq!(actions, [Action::Line("c".into())]);
        // A line takes at most MAX_INPUT bytes.
        let long = vec![b'x'; MAX_INPUT + 10];
        let (echo, _) = feed_all(&mut d, &long);
        assert_eq!(echo.len(), MAX_INPUT);
        let (_, actions) = feed_all(&mut d, b"\r");
        let Action::Line(line) = &actions[0] else {
            panic!("{actions:?}")
        };
        assert_eq!(line.len(), MAX_INPUT);
        let mut pending = VecDeque::new();
        type_ahead(&mut pending, &long);
        assert_eq!(pending.len(), MAX_INPUT);
        let (echo, actions) = feed_all(&mut d, b"a\x1b[A\x1bOBb\x15c\r");
        assert_eq!(echo, b"ab\x08 \x08\x08 \x08c\r\n");
        assert_eq!(actions, [Action::Line("c".into())]);
    }

    #[test]
    fn crlf() {
        let mut c = Crlf::default();
        assert_eq!(c.convert(b"a\nb\r\nc\n"), b"a\r\nb\r\nc\r\n");
        // A `\r\n` split across two chunks stays one.
        assert_eq!(c.convert(b"x\r"), b"x\r");
        assert_eq!(c.convert(b"\ny"), b"\ny");
    }

    #[test]
    fn shells() {
        let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(is_interactive_shell(&v(&["/bin/bash"])));
        assert!(is_interactive_shell(&v(&["sh", "-l"])));
        assert!(!is_interactive_shell(&v(&["sh", "-c", "ls"])));
        assert!(!is_interactive_shell(&v(&["echo", "hi"])));
    }
}

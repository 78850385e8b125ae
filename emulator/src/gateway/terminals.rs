//! Terminals (wire §3.5): the REST side, and each terminal's task: a line discipline (echo,
//! Backspace, Enter, Ctrl-C, Ctrl-D) in front of the emulated shell, behind a `$ ` prompt.
//! Output goes to the terminal's scrollback ring and, when a socket is attached, to the socket
//! (`crate::live`). Terminals outlive their socket. Nothing runs on the host.

use super::Reach;
use crate::body::{query_map, JsonBody};
use crate::error::ApiError;
use crate::live::{Live, TerminalLimit, MAX_TERMINAL_ID};
use crate::state::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::Json;
use base64::Engine;
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

/// `\n` → `\r\n` (a lone `\n` only), as a tty's `onlcr` does.
pub fn to_crlf(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + text.len() / 16);
    let mut prev = 0u8;
    for &b in text {
        if b == b'\n' && prev != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        prev = b;
    }
    out
}

// ── The terminal's task ─────────────────────────────────────────────────────────────────────

/// What running a line did.
pub struct LineResult {
    pub output: Vec<u8>,
    pub status: i32,
    /// `exit`: the terminal ends with this code.
    pub exit: Option<i32>,
}

/// Whether `command` starts the interactive shell (`/bin/bash`, `sh -l`, …, but not `sh -c`).
fn is_interactive_shell(command: &[String]) -> bool {
    let Some(program) = command.first() else {
        return true;
    };
    let name = program.rsplit('/').next().unwrap_or(program);
    SHELLS.contains(&name) && !command.iter().skip(1).any(|a| a == "-c")
}

async fn run_terminal(
    state: AppState,
    workspace: String,
    live: Arc<Live>,
    id: u32,
    command: Vec<String>,
    mut input: mpsc::UnboundedReceiver<Vec<u8>>,
) {
    let mut shell = backend::Session::new(&state, &workspace);
    if !is_interactive_shell(&command) {
        // A program: run it once, its output on the terminal, then the terminal ends.
        let result = shell
            .run_argv(&state, &workspace, &command, &mut input)
            .await;
        live.terminal_output(id, &to_crlf(&result.output));
        live.terminal_exited(id, result.exit.unwrap_or(result.status));
        return;
    }
    let mut discipline = LineDiscipline::default();
    let mut pending: VecDeque<u8> = VecDeque::new();
    let mut status = 0;
    if !live.terminal_output(id, PROMPT) {
        return;
    }
    loop {
        if pending.is_empty() {
            match input.recv().await {
                Some(bytes) => pending.extend(bytes),
                None => return,
            }
        }
        let chunk: Vec<u8> = pending.drain(..).collect();
        let (used, echo, action) = discipline.feed(&chunk);
        pending.extend(&chunk[used..]);
        if !live.terminal_output(id, &echo) {
            return;
        }
        match action {
            None => {}
            Some(Action::Interrupt) => {
                status = 130;
                if !live.terminal_output(id, PROMPT) {
                    return;
                }
            }
            Some(Action::Eof) => {
                live.terminal_output(id, b"exit\r\n");
                live.terminal_exited(id, status);
                return;
            }
            Some(Action::Line(line)) => {
                let result = shell
                    .run_line(&state, &workspace, &line, &mut input, &mut pending)
                    .await;
                let Some(result) = result else {
                    // Interrupted (Ctrl-C): the typed-ahead input is flushed, as a tty does.
                    pending.clear();
                    discipline.clear();
                    status = 130;
                    if !live.terminal_output(id, b"^C\r\n") || !live.terminal_output(id, PROMPT) {
                        return;
                    }
                    continue;
                };
                if !live.terminal_output(id, &to_crlf(&result.output)) {
                    return;
                }
                status = result.status;
                if let Some(code) = result.exit {
                    live.terminal_exited(id, code);
                    return;
                }
                if !live.terminal_output(id, PROMPT) {
                    return;
                }
            }
        }
    }
}

/// The command back-end of a terminal: the emulated shell.
mod backend {
    use super::LineResult;
    use crate::gateway::exec;
    use crate::state::AppState;
    use std::collections::VecDeque;
    use std::time::Duration;
    use tokio::sync::mpsc;

    /// A shell session (working directory, last status) of one terminal.
    pub struct Session;

    impl Session {
        pub fn new(_state: &AppState, _workspace: &str) -> Self {
            Session
        }

        /// Runs one line. `None` when Ctrl-C interrupted it; input that arrives meanwhile is
        /// typed ahead into `pending`.
        pub async fn run_line(
            &mut self,
            state: &AppState,
            workspace: &str,
            line: &str,
            input: &mut mpsc::UnboundedReceiver<Vec<u8>>,
            pending: &mut VecDeque<u8>,
        ) -> Option<LineResult> {
            let words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
            match words.first().map(String::as_str) {
                None => Some(LineResult {
                    output: Vec::new(),
                    status: 0,
                    exit: None,
                }),
                Some("exit") => {
                    let code = words.get(1).and_then(|c| c.parse().ok()).unwrap_or(0);
                    Some(LineResult {
                        output: Vec::new(),
                        status: code,
                        exit: Some(code),
                    })
                }
                Some("sleep") => {
                    let secs: f64 = words.get(1).and_then(|s| s.parse().ok()).unwrap_or(0.0);
                    let sleep = tokio::time::sleep(Duration::from_secs_f64(secs.clamp(0.0, 1e6)));
                    tokio::pin!(sleep);
                    loop {
                        tokio::select! {
                            _ = &mut sleep => break,
                            bytes = input.recv() => match bytes {
                                Some(bytes) if bytes.contains(&0x03) => return None,
                                Some(bytes) => super::type_ahead(pending, &bytes),
                                None => return None,
                            },
                        }
                    }
                    Some(LineResult {
                        output: Vec::new(),
                        status: 0,
                        exit: None,
                    })
                }
                Some(_) => {
                    let out =
                        crate::gateway::with_files(state, workspace, |t| exec::run(t, &words))
                            .ok()?;
                    let mut output = out.stdout.into_bytes();
                    output.extend(out.stderr.into_bytes());
                    Some(LineResult {
                        output,
                        status: out.exit_code,
                        exit: None,
                    })
                }
            }
        }

        /// Runs a program given as argv (a terminal created with a `cmd` that is not a shell).
        pub async fn run_argv(
            &mut self,
            state: &AppState,
            workspace: &str,
            argv: &[String],
            input: &mut mpsc::UnboundedReceiver<Vec<u8>>,
        ) -> LineResult {
            let mut pending = VecDeque::new();
            self.run_line(state, workspace, &argv.join(" "), input, &mut pending)
                .await
                .unwrap_or(LineResult {
                    output: Vec::new(),
                    status: 130,
                    exit: Some(130),
                })
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
        assert_eq!(to_crlf(b"a\nb\r\nc\n"), b"a\r\nb\r\nc\r\n");
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

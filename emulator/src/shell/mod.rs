//! The emulated shell: what `/exec` runs (and what terminals run), over a workspace's in-memory
//! file tree. **Nothing ever executes on the host**: every command is a built-in written here.
//!
//! # API (for exec tasks and terminals)
//!
//! ```ignore
//! use crate::shell::{Io, Output, Shell};
//! let (out_tx, mut out_rx) = tokio::sync::mpsc::channel::<Output>(64);
//! let (in_tx, in_rx) = tokio::sync::mpsc::channel::<bytes::Bytes>(64);
//! let mut shell = Shell::new(state.clone(), workspace_id);     // cwd = /app
//! let mut io = Io::new(out_tx, in_rx);
//! let status = shell.run_line("cd /tmp && echo hi > f; cat f", &mut io).await;  // 0
//! assert_eq!(shell.cwd(), "/tmp");                              // persists across lines
//! let status = shell.run_argv(&["echo".into(), "a b".into()], &mut io).await; // argv: not re-split
//! if shell.has_exited() { /* `exit` ran: close the terminal */ }
//! ```
//!
//! - [`Shell`] is one session: a working directory (and `cd -`'s previous one) that persists
//!   across [`Shell::run_line`] calls, the workspace it works on, and whether `exit` ran.
//! - Output goes to [`Io::out`], a `tokio::sync::mpsc::Sender<Output>`: [`Output::Stdout`] /
//!   [`Output::Stderr`] chunks, in order. A bounded channel gives back-pressure (`seq 1000000`
//!   waits for its reader). When the receiver is dropped the running command stops and the line
//!   ends with status 141 (SIGPIPE).
//! - Input comes from [`Io::stdin`], a `tokio::sync::mpsc::Receiver<Bytes>`: `cat` with no file
//!   copies it to stdout chunk by chunk. An **empty chunk is an end-of-file** (Ctrl-D: the next
//!   reader reads again), a closed channel is end-of-file for good.
//! - Cancellation: drop (or abort) the `run_line` future. The shell stays usable (its cwd is
//!   whatever the last finished `cd` set); a file being written by `>` keeps what was flushed.
//! - Every file change goes through [`crate::gateway::fs::mutate`] (hook file watchers on
//!   [`crate::gateway::fs::notify_changes`]).
//!
//! # Language
//!
//! See [`parse`]: `;`, newlines, `&&`, `||`; single and double quotes, backslash escapes; `#`
//! comments; `~`; `>`, `>>`, `2>`, `2>>`, `2>&1`, `>&2`; `/dev/null`. No pipes, background jobs,
//! variables, globs or command substitution. A syntax error prints a message and gives status 2.
//!
//! Built-ins ([`builtins`]): `echo [-n] [-e]`, `pwd`, `cd [DIR|-]`, `ls [-a] [-l] [-1] [PATH…]`,
//! `cat [FILE|-…]` (stdin when none), `mkdir [-p]`, `rm [-r] [-f]`, `touch`, `true`, `false`,
//! `:`, `sleep SECONDS…` (fractions and `s`/`m`/`h` suffixes; a real tokio timer), `seq [FIRST
//! [STEP]] LAST`, `exit [CODE]`, `sh`/`bash` (`-c LINE`, a script file, or a script on stdin;
//! a subshell: its `cd` does not leak), `whoami`, `uname [-a|-s|-m|-r|-n]`, `hostname`. Also
//! found as `/bin/NAME`, `/usr/bin/NAME`. Anything else: `sh: NAME: command not found`, 127.

pub mod builtins;
pub mod io;
pub mod parse;

use crate::gateway::files::{self, FsError, FsOp};
use crate::gateway::fs;
use crate::state::AppState;
use bytes::Bytes;
pub use io::{Io, Output};
use parse::{Connector, Redirect};

/// The working directory of a new shell (and of `/exec`).
pub const WORKDIR: &str = "/app";
/// `$HOME`: `cd` with no argument, `~`.
pub const HOME: &str = "/root";
/// How deep `sh -c "sh -c …"` may nest.
pub const MAX_DEPTH: u32 = 16;
/// Status of a line whose output receiver went away (SIGPIPE).
pub const STATUS_BROKEN_PIPE: i32 = 141;
/// Redirected output is written to its file in chunks of at most this many bytes.
const FLUSH_BYTES: usize = 64 * 1024;

/// The output receiver is gone: stop the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BrokenPipe;

/// One shell session over one workspace's files.
pub struct Shell {
    state: AppState,
    workspace_id: String,
    cwd: String,
    oldpwd: Option<String>,
    exited: bool,
    depth: u32,
    last_status: i32,
}

impl Shell {
    /// A session in [`WORKDIR`].
    pub fn new(state: AppState, workspace_id: impl Into<String>) -> Shell {
        Shell {
            state,
            workspace_id: workspace_id.into(),
            cwd: WORKDIR.to_string(),
            oldpwd: None,
            exited: false,
            depth: 0,
            last_status: 0,
        }
    }

    /// Starts in `cwd` instead (normalised; left unchanged when it is not an absolute path).
    #[allow(dead_code)] // API for terminals
    pub fn with_cwd(mut self, cwd: &str) -> Shell {
        if let Ok(path) = files::normalize(cwd) {
            self.cwd = path;
        }
        self
    }

    #[allow(dead_code)] // API for terminals
    pub fn cwd(&self) -> &str {
        &self.cwd
    }

    #[allow(dead_code)] // API for terminals
    pub fn workspace_id(&self) -> &str {
        &self.workspace_id
    }

    /// True once `exit` ran in this session (the rest of that line was skipped).
    #[allow(dead_code)] // API for terminals
    pub fn has_exited(&self) -> bool {
        self.exited
    }

    /// Status of the last command that ran.
    #[allow(dead_code)] // API for terminals
    pub fn last_status(&self) -> i32 {
        self.last_status
    }

    /// A subshell: same workspace and cwd, its own `cd` and `exit`.
    fn subshell(&self) -> Shell {
        Shell {
            state: self.state.clone(),
            workspace_id: self.workspace_id.clone(),
            cwd: self.cwd.clone(),
            oldpwd: self.oldpwd.clone(),
            exited: false,
            depth: self.depth + 1,
            last_status: self.last_status,
        }
    }

    /// Parses and runs one line; returns the status of the last command that ran.
    pub async fn run_line(&mut self, line: &str, io: &mut Io) -> i32 {
        let script = match parse::parse(line, HOME) {
            Ok(script) => script,
            Err(e) => {
                let message = format!("{}\n", e.message());
                if io.out.send(Output::Stderr(message.into())).await.is_err() {
                    return STATUS_BROKEN_PIPE;
                }
                self.last_status = 2;
                return 2;
            }
        };
        let mut status = 0;
        for (connector, command) in script.commands {
            if self.exited {
                break;
            }
            let run = match connector {
                Connector::Seq => true,
                Connector::And => status == 0,
                Connector::Or => status != 0,
            };
            if !run {
                continue;
            }
            status = match self
                .run_command(&command.argv, &command.redirects, io)
                .await
            {
                Ok(code) => code,
                Err(BrokenPipe) => {
                    self.last_status = STATUS_BROKEN_PIPE;
                    return STATUS_BROKEN_PIPE;
                }
            };
            self.last_status = status;
        }
        status
    }

    /// Runs one command given as argv (the exec API's form): no splitting, no redirection.
    pub async fn run_argv(&mut self, argv: &[String], io: &mut Io) -> i32 {
        let status = self
            .run_command(argv, &[], io)
            .await
            .unwrap_or(STATUS_BROKEN_PIPE);
        self.last_status = status;
        status
    }

    async fn run_command(
        &mut self,
        argv: &[String],
        redirects: &[Redirect],
        io: &mut Io,
    ) -> Result<i32, BrokenPipe> {
        let mut ctx = Ctx {
            io,
            out: Dest::Stdout,
            err: Dest::Stderr,
            files: Vec::new(),
            state: self.state.clone(),
            workspace_id: self.workspace_id.clone(),
        };
        for redirect in redirects {
            match redirect {
                Redirect::StderrToStdout => ctx.err = ctx.out,
                Redirect::StdoutToStderr => ctx.out = ctx.err,
                Redirect::Stdout { path, append } | Redirect::Stderr { path, append } => {
                    let dest = match self.open_for_write(path, *append) {
                        Ok(None) => Dest::Null,
                        Ok(Some(resolved)) => {
                            ctx.files.push(OpenFile {
                                path: resolved,
                                buf: Vec::new(),
                                failed: false,
                            });
                            Dest::File(ctx.files.len() - 1)
                        }
                        Err(e) => {
                            ctx.stderr(format!("sh: {path}: {}\n", e.strerror()))
                                .await?;
                            return Ok(1);
                        }
                    };
                    if matches!(redirect, Redirect::Stdout { .. }) {
                        ctx.out = dest;
                    } else {
                        ctx.err = dest;
                    }
                }
            }
        }
        let status = if argv.is_empty() {
            0
        } else {
            builtins::run(self, argv, &mut ctx).await?
        };
        let flushed = ctx.close();
        if let Err(e) = flushed {
            // The command's own output made it this far; report the write failure like sh.
            ctx.stderr(format!("sh: write error: {}\n", e.strerror()))
                .await?;
            return Ok(1);
        }
        Ok(status)
    }

    /// Creates or truncates (`append: false`) a redirection target. `None` for `/dev/null`.
    fn open_for_write(&self, path: &str, append: bool) -> Result<Option<String>, FsError> {
        let resolved = files::resolve(&self.cwd, path)?;
        if resolved == "/dev/null" {
            return Ok(None);
        }
        self.mutate(FsOp::Write {
            path: &resolved,
            content: b"",
            create_dirs: false,
            append,
        })?;
        Ok(Some(resolved))
    }

    /// The one way the shell changes files.
    pub(crate) fn mutate(&self, op: FsOp<'_>) -> Result<files::FsDone, FsError> {
        fs::mutate(&self.state, &self.workspace_id, op)
    }

    /// Read access to the workspace's tree.
    pub(crate) fn view<R>(&self, f: impl FnOnce(&files::FileTree) -> R) -> Result<R, FsError> {
        fs::view(&self.state, &self.workspace_id, f)
    }

    /// `path` resolved against the working directory.
    pub(crate) fn resolve(&self, path: &str) -> Result<String, FsError> {
        files::resolve(&self.cwd, path)
    }
}

/// Where a command's stdout or stderr goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dest {
    Stdout,
    Stderr,
    /// An index into [`Ctx::files`].
    File(usize),
    Null,
}

struct OpenFile {
    path: String,
    buf: Vec<u8>,
    /// A flush failed (quota): later output is dropped, the command ends with status 1.
    failed: bool,
}

/// One running command's I/O: the session's channels and its redirections.
pub struct Ctx<'a> {
    io: &'a mut Io,
    out: Dest,
    err: Dest,
    files: Vec<OpenFile>,
    state: AppState,
    workspace_id: String,
}

impl Ctx<'_> {
    /// Writes to the command's stdout.
    pub async fn stdout(&mut self, data: impl Into<Bytes>) -> Result<(), BrokenPipe> {
        self.write(self.out, data.into()).await
    }

    /// Writes to the command's stderr.
    pub async fn stderr(&mut self, data: impl Into<Bytes>) -> Result<(), BrokenPipe> {
        self.write(self.err, data.into()).await
    }

    /// The next stdin chunk; `None` at end-of-file.
    pub async fn read_stdin(&mut self) -> Option<Bytes> {
        self.io.read_stdin().await
    }

    async fn write(&mut self, dest: Dest, data: Bytes) -> Result<(), BrokenPipe> {
        if data.is_empty() {
            return Ok(());
        }
        match dest {
            Dest::Stdout => self
                .io
                .out
                .send(Output::Stdout(data))
                .await
                .map_err(|_| BrokenPipe),
            Dest::Stderr => self
                .io
                .out
                .send(Output::Stderr(data))
                .await
                .map_err(|_| BrokenPipe),
            Dest::Null => Ok(()),
            Dest::File(i) => {
                let full = match self.files.get_mut(i) {
                    Some(file) if !file.failed => {
                        file.buf.extend_from_slice(&data);
                        file.buf.len() >= FLUSH_BYTES
                    }
                    _ => false,
                };
                if full {
                    let _ = self.flush();
                    // Let the readers of the store in.
                    tokio::task::yield_now().await;
                }
                Ok(())
            }
        }
    }

    /// Appends buffered redirected output to its files.
    fn flush(&mut self) -> Result<(), FsError> {
        let mut result = Ok(());
        for file in &mut self.files {
            if file.buf.is_empty() || file.failed {
                file.buf.clear();
                continue;
            }
            let written = fs::mutate(
                &self.state,
                &self.workspace_id,
                FsOp::Write {
                    path: &file.path,
                    content: &file.buf,
                    create_dirs: false,
                    append: true,
                },
            );
            file.buf.clear();
            if let Err(e) = written {
                file.failed = true;
                result = Err(e);
            }
        }
        result
    }

    /// Final flush; an error if any write to a redirected file failed.
    fn close(&mut self) -> Result<(), FsError> {
        let flushed = self.flush();
        match self.files.iter().find(|f| f.failed) {
            Some(_) if flushed.is_ok() => Err(FsError::NoSpace),
            _ => flushed,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::state::tests::state_with_workspace;
    use tokio::sync::mpsc;

    /// Runs `line` in a fresh shell (cwd `/app`) and collects `(status, stdout, stderr)`.
    pub async fn run_in(shell: &mut Shell, line: &str) -> (i32, String, String) {
        let (tx, mut rx) = mpsc::channel(16);
        let mut io = Io::without_stdin(tx);
        let collect = async {
            let (mut out, mut err) = (Vec::new(), Vec::new());
            while let Some(chunk) = rx.recv().await {
                match chunk {
                    Output::Stdout(b) => out.extend_from_slice(&b),
                    Output::Stderr(b) => err.extend_from_slice(&b),
                }
            }
            (out, err)
        };
        let run = async {
            let status = shell.run_line(line, &mut io).await;
            drop(io);
            status
        };
        let (status, (out, err)) = tokio::join!(run, collect);
        (
            status,
            String::from_utf8_lossy(&out).into_owned(),
            String::from_utf8_lossy(&err).into_owned(),
        )
    }

    fn shell() -> Shell {
        let (state, id) = state_with_workspace();
        Shell::new(state, id)
    }

    fn read(shell: &Shell, path: &str) -> Option<String> {
        shell
            .view(|t| {
                t.read(path)
                    .ok()
                    .map(|(_, c)| String::from_utf8_lossy(c).into_owned())
            })
            .ok()
            .flatten()
    }

    #[tokio::test]
    async fn sequences_and_conditionals() {
        let mut sh = shell();
        assert_eq!(
            run_in(&mut sh, "echo a; echo b").await,
            (0, "a\nb\n".into(), "".into())
        );
        assert_eq!(
            run_in(&mut sh, "false && echo no").await,
            (1, "".into(), "".into())
        );
        assert_eq!(run_in(&mut sh, "false; echo yes").await.1, "yes\n");
        assert_eq!(
            run_in(&mut sh, "true && echo yes || echo no").await.1,
            "yes\n"
        );
        assert_eq!(
            run_in(&mut sh, "false || echo rescued").await,
            (0, "rescued\n".into(), "".into())
        );
        assert_eq!(run_in(&mut sh, "").await.0, 0);
    }

    #[tokio::test]
    async fn unknown_commands_and_syntax_errors() {
        let mut sh = shell();
        let (status, out, err) = run_in(&mut sh, "nope --x").await;
        assert_eq!((status, out.as_str()), (127, ""));
        assert_eq!(err, "sh: nope: command not found\n");
        let (status, _, err) = run_in(&mut sh, "echo 'open").await;
        assert_eq!(status, 2);
        assert!(err.contains("unterminated"), "{err}");
        let (status, _, err) = run_in(&mut sh, "ls | wc").await;
        assert_eq!(status, 2);
        assert!(err.contains("pipe"), "{err}");
        // `/bin/echo` is echo.
        assert_eq!(run_in(&mut sh, "/bin/echo hi").await.1, "hi\n");
    }

    #[tokio::test]
    async fn cd_persists_within_a_session_and_not_out_of_subshells() {
        let mut sh = shell();
        assert_eq!(run_in(&mut sh, "cd /tmp && pwd").await.1, "/tmp\n");
        assert_eq!(sh.cwd(), "/tmp");
        assert_eq!(run_in(&mut sh, "pwd").await.1, "/tmp\n");
        assert_eq!(run_in(&mut sh, "cd; pwd").await.1, "/root\n");
        assert_eq!(run_in(&mut sh, "cd -").await.1, "/tmp\n");
        assert_eq!(
            run_in(&mut sh, "sh -c 'cd /; pwd'; pwd").await.1,
            "/\n/tmp\n"
        );
        let (status, _, err) = run_in(&mut sh, "cd /nope").await;
        assert_eq!(status, 1);
        assert_eq!(err, "sh: cd: /nope: No such file or directory\n");
        assert_eq!(sh.cwd(), "/tmp");
        assert_eq!(run_in(&mut sh, "cd ..; pwd").await.1, "/\n");
    }

    #[tokio::test]
    async fn redirections_write_files() {
        let mut sh = shell();
        assert_eq!(
            run_in(&mut sh, "echo one > f.txt").await,
            (0, "".into(), "".into())
        );
        assert_eq!(read(&sh, "/app/f.txt").as_deref(), Some("one\n"));
        run_in(&mut sh, "echo two >> f.txt; echo three >>f.txt").await;
        assert_eq!(
            read(&sh, "/app/f.txt").as_deref(),
            Some("one\ntwo\nthree\n")
        );
        run_in(&mut sh, "echo new > f.txt").await;
        assert_eq!(read(&sh, "/app/f.txt").as_deref(), Some("new\n"));
        // stderr redirections and duplication.
        let (status, out, err) = run_in(&mut sh, "cat missing 2> err.txt").await;
        assert_eq!((status, out.as_str(), err.as_str()), (1, "", ""));
        assert_eq!(
            read(&sh, "/app/err.txt").as_deref(),
            Some("cat: missing: No such file or directory\n")
        );
        run_in(&mut sh, "cat f.txt missing > both.txt 2>&1").await;
        assert_eq!(
            read(&sh, "/app/both.txt").as_deref(),
            Some("new\ncat: missing: No such file or directory\n")
        );
        let (_, out, err) = run_in(&mut sh, "echo to-err >&2").await;
        assert_eq!((out.as_str(), err.as_str()), ("", "to-err\n"));
        let (_, out, err) = run_in(&mut sh, "cat missing 2>/dev/null; echo x >/dev/null").await;
        assert_eq!((out.as_str(), err.as_str()), ("", ""));
        // A missing directory: the command does not run.
        let (status, out, err) = run_in(&mut sh, "echo x > /nope/f").await;
        assert_eq!((status, out.as_str()), (1, ""));
        assert_eq!(err, "sh: /nope/f: No such file or directory\n");
        // A large redirected output arrives whole.
        run_in(&mut sh, "seq 20000 > /tmp/seq.txt").await;
        let seq = read(&sh, "/tmp/seq.txt").unwrap_or_default();
        assert_eq!(seq.lines().count(), 20000);
        assert!(seq.ends_with("19999\n20000\n"));
    }

    #[tokio::test]
    async fn exit_stops_the_line() {
        let mut sh = shell();
        let (status, out, _) = run_in(&mut sh, "echo a; exit 3; echo b").await;
        assert_eq!((status, out.as_str()), (3, "a\n"));
        assert!(sh.has_exited());
        let mut sh = shell();
        let (status, out, _) = run_in(&mut sh, "sh -c 'exit 4'; echo after $?").await;
        assert_eq!((status, out.as_str()), (0, "after $?\n"));
        assert!(!sh.has_exited());
        assert_eq!(run_in(&mut sh, "sh -c 'exit 4'").await.0, 4);
    }

    #[tokio::test]
    async fn dropped_receiver_stops_the_command() {
        let mut sh = shell();
        let (tx, rx) = mpsc::channel(1);
        drop(rx);
        let mut io = Io::without_stdin(tx);
        let status = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            sh.run_line("seq 100000000000", &mut io),
        )
        .await;
        assert_eq!(status, Ok(STATUS_BROKEN_PIPE));
    }
}

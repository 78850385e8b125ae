//! What lives in a workspace beyond single requests: its one WebSocket, its terminals, its file
//! watchers, and the **interrupt signal** that tells long-lived gateway streams to end.
//!
//! Every [`Workspace`](crate::state::Workspace) holds one `Arc<Live>`.
//!
//! ## The interrupt signal (for anything that streams: SSE exec streams, sockets, …)
//!
//! [`Live::subscribe`] (or [`crate::state::Shared::workspace_signal`] by workspace id) gives a
//! `tokio::sync::watch::Receiver<Signal>`. Its value changes whenever the workspace is stopped or
//! restarted (`Stopped`), its connection token is rotated (`POST …/token`, `…/reconnect`:
//! `Rotated`), its internal API is disabled (`Disabled`), it is deleted (directly, with its
//! namespace, or by `/__emulator/reset`: `Deleted`), or the emulator shuts down (`Shutdown`).
//! A stream started under one `epoch` should end when `changed()` fires (or errors: the workspace
//! is gone):
//!
//! ```ignore
//! let mut signal = state.workspace_signal(&id).ok_or(..)?;
//! tokio::select! {
//!     _ = signal.changed() => { /* stopped, rotated, deleted: end the stream */ }
//!     chunk = next_chunk() => { .. }
//! }
//! ```
//!
//! What each cause does here: every cause closes the workspace's WebSocket (close codes in
//! [`Interrupt::close`]); `Stopped`, `Deleted` and `Shutdown` also end its terminals and
//! watchers (the VM's processes are gone); `Rotated` and `Disabled` keep them, so a client that
//! reconnects with a fresh token finds its terminals still running.
//!
//! ## Locking
//!
//! One `std::sync::Mutex` per workspace, never held across an `.await`. Lock order: the store
//! first, then a `Live` (file changes are reported from inside the store lock); never the other
//! way round.

use crate::util::{iso8601, now_millis};
use serde_json::{json, Value};
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::{mpsc, watch, Notify};
use tokio::task::AbortHandle;

/// Events that may wait for an absent or slow socket, per watcher; one more and the queue is
/// dropped for a single `overflow` message.
pub const WATCHER_QUEUE_LIMIT: usize = 256;
/// Terminal output waiting for a slow socket, in bytes (all terminals together); beyond it output
/// goes to the scrollback rings only.
pub const SOCKET_OUTPUT_LIMIT: usize = 4 * 1024 * 1024;
/// Terminal ids travel in one byte.
pub const MAX_TERMINAL_ID: u32 = 255;

/// Why a workspace's live connections end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interrupt {
    Stopped,
    Rotated,
    Disabled,
    Deleted,
    Shutdown,
}

impl Interrupt {
    /// The close frame the workspace's WebSocket gets. Oblien's own codes are unknown: these are
    /// the emulator's (README).
    pub fn close(self) -> (u16, &'static str) {
        match self {
            Interrupt::Rotated => (4001, "token_rotated"),
            Interrupt::Disabled => (4003, "internal_api_disabled"),
            Interrupt::Stopped => (1001, "workspace_stopped"),
            Interrupt::Deleted => (1001, "workspace_deleted"),
            Interrupt::Shutdown => (1001, "shutting_down"),
        }
    }

    /// Whether the VM's processes (terminals, watchers) end too.
    fn ends_processes(self) -> bool {
        matches!(
            self,
            Interrupt::Stopped | Interrupt::Deleted | Interrupt::Shutdown
        )
    }
}

/// The value of the interrupt signal: bumped once per interrupt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signal {
    pub epoch: u64,
    /// The last interrupt (`None` before the first).
    pub cause: Option<Interrupt>,
}

/// A file-tree change, as a watcher reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeOp {
    Create,
    Write,
    Remove,
    /// Reported by the wire's watchers; the emulated tree's moves are reported as `remove` +
    /// `create` unless a rename primitive reports it.
    #[allow(dead_code)]
    Rename,
}

impl ChangeOp {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeOp::Create => "create",
            ChangeOp::Write => "write",
            ChangeOp::Remove => "remove",
            ChangeOp::Rename => "rename",
        }
    }
}

/// What the socket task is told to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketControl {
    /// Send a close frame with this code and reason, then end.
    Close(u16, &'static str),
    /// End at once without a close frame: the TCP connection just ends (a network loss).
    Kill,
}

/// A frame for the socket.
#[derive(Debug, Clone)]
pub enum Outbound {
    Binary(Vec<u8>),
    Text(String),
}

/// What the socket task gets when it attaches.
pub struct Attachment {
    pub socket_id: u64,
    pub wake: Arc<Notify>,
    pub control: mpsc::UnboundedReceiver<SocketControl>,
}

struct SocketSlot {
    id: u64,
    wake: Arc<Notify>,
    control: mpsc::UnboundedSender<SocketControl>,
}

/// A terminal's state as the REST side sees it, plus the handles of its task.
pub struct Terminal {
    pub id: u32,
    pub command: Vec<String>,
    pub cols: u16,
    pub rows: u16,
    pub created_ms: u64,
    pub scrollback_size: usize,
    ring: VecDeque<u8>,
    pub alive: bool,
    pub exit_code: Option<i32>,
    input: mpsc::UnboundedSender<Vec<u8>>,
    task: Option<AbortHandle>,
}

impl Terminal {
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id.to_string(),
            "command": self.command,
            "cols": self.cols,
            "rows": self.rows,
            "alive": self.alive,
            "exit_code": self.exit_code,
            "created_at": iso8601(self.created_ms),
            "scrollback_size": self.scrollback_size,
        })
    }

    /// The last `bytes` bytes of the scrollback (all of it when `None`).
    pub fn scrollback(&self, bytes: Option<usize>) -> Vec<u8> {
        let len = self.ring.len();
        let take = bytes.unwrap_or(len).min(len);
        self.ring.iter().skip(len - take).copied().collect()
    }
}

/// A file watcher: a root, names it ignores, and the events waiting for a socket.
pub struct Watcher {
    pub id: String,
    pub root: String,
    pub excludes: Vec<String>,
    pub active: bool,
    pub created_ms: u64,
    /// Directories watched when it was set up (the `ready` message's `dirs`).
    pub dirs_at_start: usize,
    ready_pending: bool,
    overflowed: bool,
    queue: VecDeque<Value>,
}

impl Watcher {
    /// Whether a change at `path` concerns this watcher: under its root, not under an excluded
    /// name. An exclude without `/` is a name (with `*` and `?` wildcards) matched against every
    /// path component below the root; one with `/` is a path below the root (`dist/cache`) or an
    /// absolute path, excluding it and everything under it.
    pub fn covers(&self, path: &str) -> bool {
        covers(&self.root, &self.excludes, path)
    }

    pub fn to_json(&self, dir_count: usize) -> Value {
        json!({
            "id": self.id,
            "root": self.root,
            "dir_count": dir_count,
            "excludes": self.excludes,
            "active": self.active,
            "created_at": iso8601(self.created_ms),
        })
    }

    fn push(&mut self, event: Value) {
        if self.queue.len() >= WATCHER_QUEUE_LIMIT {
            self.queue.clear();
            self.overflowed = true;
        }
        self.queue.push_back(event);
    }
}

/// Whether a watcher of `root` with `excludes` reports a change at `path` ([`Watcher::covers`]).
pub fn covers(root: &str, excludes: &[String], path: &str) -> bool {
    let Some(rel) = relative_to(root, path) else {
        return false;
    };
    !excludes.iter().any(|ex| excluded(ex, rel, path))
}

/// `path` relative to `root` (`""` for the root itself), or `None` when it is outside.
pub fn relative_to<'a>(root: &str, path: &'a str) -> Option<&'a str> {
    if root == "/" {
        return path.strip_prefix('/');
    }
    let rest = path.strip_prefix(root)?;
    if rest.is_empty() {
        Some("")
    } else {
        rest.strip_prefix('/')
    }
}

fn excluded(pattern: &str, rel: &str, abs: &str) -> bool {
    let pattern = pattern.trim_end_matches('/');
    if pattern.is_empty() {
        return false;
    }
    if pattern.starts_with('/') {
        return abs == pattern || abs.starts_with(&format!("{pattern}/"));
    }
    if pattern.contains('/') {
        return rel == pattern || rel.starts_with(&format!("{pattern}/"));
    }
    rel.split('/')
        .filter(|c| !c.is_empty())
        .any(|c| glob(pattern.as_bytes(), c.as_bytes()))
}

/// `*` (any run) and `?` (one byte) wildcards.
pub fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == b'?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some(p);
            mark = t;
            p += 1;
        } else if let Some(s) = star {
            p = s + 1;
            mark += 1;
            t = mark;
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[derive(Default)]
struct Inner {
    socket: Option<SocketSlot>,
    next_socket: u64,
    /// Terminal output and exit messages waiting for the socket, in order.
    out: VecDeque<Outbound>,
    out_bytes: usize,
    terminals: BTreeMap<u32, Terminal>,
    next_terminal: u32,
    watchers: BTreeMap<u64, Watcher>,
    next_watcher: u64,
}

/// The live part of one workspace. See the module docs.
pub struct Live {
    inner: Mutex<Inner>,
    signal: watch::Sender<Signal>,
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live").finish_non_exhaustive()
    }
}

impl Default for Live {
    fn default() -> Self {
        Live {
            inner: Mutex::new(Inner::default()),
            signal: watch::Sender::new(Signal {
                epoch: 0,
                cause: None,
            }),
        }
    }
}

/// Why a terminal cannot be created.
#[derive(Debug, PartialEq, Eq)]
pub enum TerminalLimit {
    /// Every id 1–255 is taken (live or exited but not deleted).
    IdsExhausted,
}

impl Live {
    pub fn new() -> Arc<Live> {
        Arc::new(Live::default())
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    // ── The interrupt signal ────────────────────────────────────────────────────────────────

    /// A receiver of the interrupt signal (module docs).
    pub fn subscribe(&self) -> watch::Receiver<Signal> {
        self.signal.subscribe()
    }

    pub fn epoch(&self) -> u64 {
        self.signal.borrow().epoch
    }

    /// Bumps the signal, closes the socket, and for causes that end the VM's processes, ends
    /// every terminal and watcher.
    pub fn interrupt(&self, cause: Interrupt) {
        self.signal.send_modify(|s| {
            s.epoch += 1;
            s.cause = Some(cause);
        });
        let (code, reason) = cause.close();
        let mut inner = self.lock();
        if let Some(slot) = inner.socket.take() {
            let _ = slot.control.send(SocketControl::Close(code, reason));
        }
        inner.out.clear();
        inner.out_bytes = 0;
        if cause.ends_processes() {
            for terminal in inner.terminals.values_mut() {
                if let Some(task) = terminal.task.take() {
                    task.abort();
                }
            }
            inner.terminals.clear();
            inner.next_terminal = 0;
            inner.watchers.clear();
            inner.next_watcher = 0;
        }
    }

    // ── The socket ──────────────────────────────────────────────────────────────────────────

    /// Makes a new socket the workspace's one socket; an older one is closed with 4000
    /// `replaced`. Refused (`None`) when the workspace was interrupted after `epoch` (the token
    /// was checked before a rotation or stop that happened during the handshake).
    pub fn attach(&self, epoch: u64) -> Option<Attachment> {
        let mut inner = self.lock();
        if self.epoch() != epoch {
            return None;
        }
        if let Some(old) = inner.socket.take() {
            let _ = old.control.send(SocketControl::Close(4000, "replaced"));
        }
        inner.out.clear();
        inner.out_bytes = 0;
        inner.next_socket += 1;
        let (tx, rx) = mpsc::unbounded_channel();
        let wake = Arc::new(Notify::new());
        let socket_id = inner.next_socket;
        inner.socket = Some(SocketSlot {
            id: socket_id,
            wake: wake.clone(),
            control: tx,
        });
        // Watchers set up while no socket was attached say `ready` now.
        wake.notify_one();
        Some(Attachment {
            socket_id,
            wake,
            control: rx,
        })
    }

    /// The socket ended (closed by either side): forget it if it is still the current one.
    pub fn detach(&self, socket_id: u64) {
        let mut inner = self.lock();
        if inner.socket.as_ref().is_some_and(|s| s.id == socket_id) {
            inner.socket = None;
            inner.out.clear();
            inner.out_bytes = 0;
        }
    }

    /// Ends the socket abruptly (the `drop` fault); true if there was one.
    pub fn kill_socket(&self) -> bool {
        let mut inner = self.lock();
        match inner.socket.take() {
            Some(slot) => {
                let _ = slot.control.send(SocketControl::Kill);
                inner.out.clear();
                inner.out_bytes = 0;
                true
            }
            None => false,
        }
    }

    /// Everything waiting for socket `socket_id`: watcher `ready`/`overflow`/changes, then
    /// terminal output and exits. `None` when that socket is no longer the current one.
    pub fn drain(&self, socket_id: u64) -> Option<Vec<Outbound>> {
        let mut inner = self.lock();
        if inner.socket.as_ref().is_none_or(|s| s.id != socket_id) {
            return None;
        }
        let mut frames = Vec::new();
        for watcher in inner.watchers.values_mut() {
            if watcher.ready_pending {
                watcher.ready_pending = false;
                frames.push(Outbound::Text(
                    json!({
                        "channel": "watcher",
                        "type": "ready",
                        "watcher_id": watcher.id,
                        "root": watcher.root,
                        "dirs": watcher.dirs_at_start,
                    })
                    .to_string(),
                ));
            }
            if watcher.overflowed {
                watcher.overflowed = false;
                frames.push(Outbound::Text(
                    json!({
                        "channel": "watcher",
                        "type": "overflow",
                        "watcher_id": watcher.id,
                        "message": format!(
                            "more than {WATCHER_QUEUE_LIMIT} events waited for the socket; \
                             events were lost"
                        ),
                    })
                    .to_string(),
                ));
            }
            frames.extend(
                watcher
                    .queue
                    .drain(..)
                    .map(|e| Outbound::Text(e.to_string())),
            );
        }
        frames.extend(inner.out.drain(..));
        inner.out_bytes = 0;
        Some(frames)
    }

    fn wake_socket(inner: &Inner) {
        if let Some(slot) = &inner.socket {
            slot.wake.notify_one();
        }
    }

    // ── Terminals ───────────────────────────────────────────────────────────────────────────

    /// Registers a terminal and returns its id and input receiver. Ids count up from 1; past
    /// 255 the lowest free id is reused.
    pub fn add_terminal(
        &self,
        command: Vec<String>,
        cols: u16,
        rows: u16,
        scrollback_size: usize,
    ) -> Result<(u32, mpsc::UnboundedReceiver<Vec<u8>>, Value), TerminalLimit> {
        let mut inner = self.lock();
        let id = if inner.next_terminal < MAX_TERMINAL_ID {
            inner.next_terminal + 1
        } else {
            (1..=MAX_TERMINAL_ID)
                .find(|id| !inner.terminals.contains_key(id))
                .ok_or(TerminalLimit::IdsExhausted)?
        };
        inner.next_terminal = inner.next_terminal.max(id);
        let (tx, rx) = mpsc::unbounded_channel();
        let terminal = Terminal {
            id,
            command,
            cols,
            rows,
            created_ms: now_millis(),
            scrollback_size,
            ring: VecDeque::new(),
            alive: true,
            exit_code: None,
            input: tx,
            task: None,
        };
        let json = terminal.to_json();
        inner.terminals.insert(id, terminal);
        Ok((id, rx, json))
    }

    /// Remembers the terminal's task so that closing the terminal (or stopping the workspace)
    /// ends it. If the terminal is already gone, the task is ended at once.
    pub fn set_terminal_task(&self, id: u32, task: AbortHandle) {
        let mut inner = self.lock();
        match inner.terminals.get_mut(&id) {
            Some(t) => t.task = Some(task),
            None => task.abort(),
        }
    }

    pub fn terminals_json(&self) -> Vec<Value> {
        self.lock()
            .terminals
            .values()
            .map(Terminal::to_json)
            .collect()
    }

    /// Runs `f` on terminal `id`, if it exists.
    pub fn with_terminal<R>(&self, id: u32, f: impl FnOnce(&mut Terminal) -> R) -> Option<R> {
        self.lock().terminals.get_mut(&id).map(f)
    }

    /// Closes and forgets a terminal; its process is ended (an exit message with 129, SIGHUP's
    /// status, goes to the socket if it was still alive).
    pub fn remove_terminal(&self, id: u32) -> bool {
        let mut inner = self.lock();
        let Some(mut terminal) = inner.terminals.remove(&id) else {
            return false;
        };
        if let Some(task) = terminal.task.take() {
            task.abort();
        }
        if terminal.alive && inner.socket.is_some() {
            inner.out.push_back(Outbound::Text(exit_message(id, 129)));
            Self::wake_socket(&inner);
        }
        true
    }

    /// Input bytes for terminal `id` (from a binary frame); false when there is no live one.
    pub fn terminal_input(&self, id: u32, bytes: Vec<u8>) -> bool {
        let inner = self.lock();
        match inner.terminals.get(&id) {
            Some(t) if t.alive => t.input.send(bytes).is_ok(),
            _ => false,
        }
    }

    /// A resize message; false when there is no such terminal.
    pub fn resize_terminal(&self, id: u32, cols: u16, rows: u16) -> bool {
        self.with_terminal(id, |t| {
            t.cols = cols;
            t.rows = rows;
        })
        .is_some()
    }

    /// Output of terminal `id`: into its scrollback ring, and to the socket if one is attached.
    /// False when the terminal is gone (its task should end).
    pub fn terminal_output(&self, id: u32, bytes: &[u8]) -> bool {
        if bytes.is_empty() {
            return true;
        }
        let mut inner = self.lock();
        let Some(terminal) = inner.terminals.get_mut(&id) else {
            return false;
        };
        let cap = terminal.scrollback_size;
        if bytes.len() >= cap {
            terminal.ring.clear();
            terminal.ring.extend(&bytes[bytes.len() - cap..]);
        } else {
            let overflow = (terminal.ring.len() + bytes.len()).saturating_sub(cap);
            terminal.ring.drain(..overflow);
            terminal.ring.extend(bytes);
        }
        if inner.socket.is_some() && inner.out_bytes < SOCKET_OUTPUT_LIMIT {
            // One id byte per frame; large output in 16 KiB frames.
            for chunk in bytes.chunks(16 * 1024) {
                let mut frame = Vec::with_capacity(chunk.len() + 1);
                frame.push(id as u8);
                frame.extend_from_slice(chunk);
                inner.out_bytes += frame.len();
                inner.out.push_back(Outbound::Binary(frame));
            }
            Self::wake_socket(&inner);
        }
        true
    }

    /// The terminal's process ended with `code`.
    pub fn terminal_exited(&self, id: u32, code: i32) {
        let mut inner = self.lock();
        let Some(terminal) = inner.terminals.get_mut(&id) else {
            return;
        };
        if !terminal.alive {
            return;
        }
        terminal.alive = false;
        terminal.exit_code = Some(code);
        terminal.task = None;
        if inner.socket.is_some() {
            inner.out.push_back(Outbound::Text(exit_message(id, code)));
            Self::wake_socket(&inner);
        }
    }

    // ── Watchers ────────────────────────────────────────────────────────────────────────────

    /// Sets up a watcher; its `ready` goes to the socket now, or when one attaches.
    pub fn add_watcher(&self, root: String, excludes: Vec<String>, dirs: usize) -> Value {
        let mut inner = self.lock();
        inner.next_watcher += 1;
        let id = inner.next_watcher;
        let watcher = Watcher {
            id: id.to_string(),
            root,
            excludes,
            active: true,
            created_ms: now_millis(),
            dirs_at_start: dirs,
            ready_pending: true,
            overflowed: false,
            queue: VecDeque::new(),
        };
        let json = watcher.to_json(dirs);
        inner.watchers.insert(id, watcher);
        Self::wake_socket(&inner);
        json
    }

    /// `(id, root, excludes, active, created)` of every watcher, for listing with a fresh
    /// `dir_count` (computed by the caller from the file tree).
    pub fn watchers<R>(&self, mut f: impl FnMut(&Watcher) -> R) -> Vec<R> {
        self.lock().watchers.values().map(&mut f).collect()
    }

    pub fn watcher<R>(&self, id: &str, f: impl FnOnce(&Watcher) -> R) -> Option<R> {
        let id: u64 = id.parse().ok()?;
        self.lock().watchers.get(&id).map(f)
    }

    pub fn remove_watcher(&self, id: &str) -> bool {
        let Ok(id) = id.parse::<u64>() else {
            return false;
        };
        self.lock().watchers.remove(&id).is_some()
    }

    /// A change in the file tree (called from inside the store lock by
    /// [`FileTree`](crate::gateway::files::FileTree)): queued for every watcher it concerns.
    pub fn file_changed(&self, path: &str, op: ChangeOp) {
        let mut inner = self.lock();
        let mut any = false;
        for watcher in inner.watchers.values_mut() {
            if !watcher.active || !watcher.covers(path) {
                continue;
            }
            watcher.push(json!({
                "channel": "watcher",
                "type": "change",
                "watcher_id": watcher.id,
                "path": path,
                "op": op.as_str(),
            }));
            // The root itself removed: the watcher has nothing left to watch.
            if op == ChangeOp::Remove && path == watcher.root {
                watcher.active = false;
            }
            any = true;
        }
        if any {
            Self::wake_socket(&inner);
        }
    }
}

fn exit_message(id: u32, code: i32) -> String {
    json!({ "channel": "terminal", "type": "exit", "id": id.to_string(), "code": code }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob(b"*.log", b"a.log"));
        assert!(glob(b"node_modules", b"node_modules"));
        assert!(!glob(b"node_modules", b"node_modules2"));
        assert!(glob(b"a?c", b"abc"));
        assert!(glob(b"*", b""));
        assert!(!glob(b"*.log", b"a.txt"));
        assert!(glob(b"a*b*c", b"aXXbYYc"));
    }

    #[test]
    fn watcher_coverage() {
        let live = Live::new();
        live.add_watcher(
            "/app".into(),
            vec!["node_modules".into(), "*.tmp".into(), "dist/cache".into()],
            1,
        );
        let covers = |p: &str| live.watcher("1", |w| w.covers(p)).unwrap();
        assert!(covers("/app"));
        assert!(covers("/app/a.txt"));
        assert!(covers("/app/src/x.rs"));
        assert!(!covers("/apple"));
        assert!(!covers("/tmp/x"));
        assert!(!covers("/app/node_modules"));
        assert!(!covers("/app/src/node_modules/x"));
        assert!(!covers("/app/x.tmp"));
        assert!(!covers("/app/dist/cache/y"));
        assert!(covers("/app/dist/y"));
    }

    #[test]
    fn overflow_drops_the_queue_once() {
        let live = Live::new();
        live.add_watcher("/".into(), vec![], 1);
        for i in 0..WATCHER_QUEUE_LIMIT + 10 {
            live.file_changed(&format!("/f{i}"), ChangeOp::Create);
        }
        let attachment = live.attach(live.epoch()).unwrap();
        let frames = live.drain(attachment.socket_id).unwrap();
        let texts: Vec<String> = frames
            .into_iter()
            .map(|f| match f {
                Outbound::Text(t) => t,
                Outbound::Binary(_) => panic!("binary"),
            })
            .collect();
        assert!(texts[0].contains("\"ready\""));
        assert!(texts[1].contains("\"overflow\""));
        // What came after the overflow is kept.
        assert_eq!(texts.len(), 2 + 10);
    }

    #[test]
    fn interrupt_bumps_the_signal_and_ends_processes() {
        let live = Live::new();
        let rx = live.subscribe();
        let (id, _input, _) = live.add_terminal(vec!["sh".into()], 80, 24, 10).unwrap();
        assert_eq!(id, 1);
        live.interrupt(Interrupt::Rotated);
        assert_eq!(rx.borrow().epoch, 1);
        assert_eq!(rx.borrow().cause, Some(Interrupt::Rotated));
        assert_eq!(live.terminals_json().len(), 1, "rotation keeps terminals");
        live.interrupt(Interrupt::Stopped);
        assert_eq!(rx.borrow().epoch, 2);
        assert!(live.terminals_json().is_empty(), "stop ends terminals");
        // An attach with a stale epoch is refused.
        assert!(live.attach(1).is_none());
        assert!(live.attach(2).is_some());
    }

    #[test]
    fn scrollback_ring_is_bounded() {
        let live = Live::new();
        let (id, _input, _) = live.add_terminal(vec![], 80, 24, 8).unwrap();
        live.terminal_output(id, b"0123456");
        live.terminal_output(id, b"789");
        let sb = live.with_terminal(id, |t| t.scrollback(None)).unwrap();
        assert_eq!(sb, b"23456789");
        live.terminal_output(id, b"abcdefghijk");
        let sb = live.with_terminal(id, |t| t.scrollback(Some(3))).unwrap();
        assert_eq!(sb, b"ijk");
    }

    #[test]
    fn terminal_ids_reuse_after_255() {
        let live = Live::new();
        for expected in 1..=255 {
            let (id, _, _) = live.add_terminal(vec![], 80, 24, 8).unwrap();
            assert_eq!(id, expected);
        }
        assert_eq!(
            live.add_terminal(vec![], 80, 24, 8).err(),
            Some(TerminalLimit::IdsExhausted)
        );
        assert!(live.remove_terminal(7));
        let (id, _, _) = live.add_terminal(vec![], 80, 24, 8).unwrap();
        assert_eq!(id, 7);
    }
}

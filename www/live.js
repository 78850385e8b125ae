// The runtime panel's live half, over the workspace's one WebSocket: a real terminal
// (`rt.terminals.create()` shown in xterm.js), a file watcher that keeps the file list current
// (`rt.watchers.create({ path: "/app" })`), and a badge with `rt.connection.state`.
//
// xterm.js comes from npm (@xterm/xterm, pinned in the root package.json): `make demo` and
// tests/e2e/run.sh copy its ES module build and stylesheet to ./vendor/xterm/ next to the page.
// It is imported on first use, so a page served without ./vendor/ still works, minus the terminal.
//
// Nothing here logs or shows a token: the socket's URL carries one, and only the client sees it.
import { $, describeError, h, showError } from "./ui.js";

export const WATCH_ROOT = "/app";

let modules = null;
/** xterm.js and its fit addon, loaded once. */
function loadXterm() {
  modules ??= Promise.all([import("./vendor/xterm/xterm.mjs"), import("./vendor/xterm/addon-fit.mjs")])
    .then(([xterm, fit]) => ({ Terminal: xterm.Terminal, FitAddon: fit.FitAddon }))
    .catch((error) => {
      modules = null;
      throw new Error(`xterm.js did not load from ./vendor/xterm/ (make demo copies it there): ${error.message}`);
    });
  return modules;
}

/** What the badge says for each `rt.connection.state`, and its tone. */
const STATES = {
  idle: { label: "socket idle", tone: "idle", title: "No terminal or watcher needs the workspace's WebSocket" },
  connecting: { label: "connecting…", tone: "busy", title: "Opening the workspace's WebSocket" },
  open: { label: "socket open", tone: "good", title: "The workspace's WebSocket is open" },
  reconnecting: { label: "reconnecting…", tone: "busy", title: "The socket closed without the page asking: the client reconnects with a valid gateway token and catches the terminal up" },
  replaced: { label: "replaced", tone: "idle", title: "Another tab or client took the workspace's one socket; the client does not fight back" },
  closed: { label: "closed", tone: "bad", title: "The socket will not reconnect" },
};

/** A terminal's colours from the page's own palette (light and dark). */
function theme() {
  const css = getComputedStyle(document.documentElement);
  const v = (name, fallback) => css.getPropertyValue(name).trim() || fallback;
  return {
    background: v("--term-bg", "#0f1419"),
    foreground: v("--term-text", "#d7dde4"),
    cursor: "#7c83ff",
    cursorAccent: v("--term-bg", "#0f1419"),
    selectionBackground: "#3a4a6b",
  };
}

/**
 * Starts the live parts for runtime `rt`. `files` gives: `changed({ path, op })` for every watcher
 * event, `overflow(message)` when events may have been missed, `watching(on)` when the watcher
 * starts or stops. Returns `{ close() }`: closes the terminal and the watcher (which lets the
 * socket close), disposes xterm.js; resolves once the gateway has answered (errors swallowed).
 */
export function startLive(rt, files) {
  let closed = false;
  const badge = $("rt-conn-badge");
  const retake = $("rt-conn-retake");
  const status = $("shell-status");
  const host = $("xterm-host");
  const newButton = $("shell-new");

  // ---- the connection badge ------------------------------------------------------------------
  const conn = rt.connection; // held: the same connection object for as long as the panel shows it
  function renderState(state) {
    if (closed) return;
    const known = STATES[state] ?? { label: state, tone: "idle", title: "" };
    const code = state === "closed" ? conn.error?.code : null;
    badge.textContent = code ? `${known.label} · ${code}` : known.label;
    badge.dataset.state = state;
    badge.className = `badge conn-badge tone-${known.tone}`;
    badge.title = code ? `${known.title}: ${conn.error.message}` : known.title;
    retake.hidden = state !== "replaced";
  }
  const offState = conn.onStateChange(renderState);
  renderState(conn.state);
  $("rt-conn").hidden = false;
  const onRetake = () => conn.reconnect();
  retake.addEventListener("click", onRetake);

  // ---- the terminal -----------------------------------------------------------------------------
  let xterm = null;
  let fit = null;
  let term = null; // the client's Terminal while it runs
  let resizeObserver = null;
  let frame = 0;
  const decoder = new TextDecoder();
  let transcript = ""; // what the page received, for the e2e test (window.__demoTerminal)

  function setStatus(message, tone = "") {
    status.textContent = message;
    status.dataset.tone = tone;
  }

  function note(message, colour = "2") {
    // A line of the page's own in the terminal (dim or coloured), never from the workspace.
    xterm?.write(`\r\n\x1b[${colour}m[${message}]\x1b[0m\r\n`);
  }

  function refit() {
    cancelAnimationFrame(frame);
    frame = requestAnimationFrame(() => {
      if (closed || !xterm || host.clientWidth === 0) return;
      try {
        fit.fit(); // xterm.onResize passes the new size on to the terminal
      } catch {
        // not laid out yet
      }
    });
  }

  async function spawn() {
    newButton.hidden = true;
    setStatus("starting…");
    let created;
    const [cols, rows] = [xterm.cols, xterm.rows];
    try {
      created = await rt.terminals.create({ cols, rows });
    } catch (error) {
      if (closed) return;
      const e = describeError(error);
      setStatus(`not started: ${e.code}`, "bad");
      newButton.hidden = false;
      showError(error, "Starting a terminal");
      return;
    }
    if (closed) {
      created.close().catch(() => {});
      return;
    }
    term = created;
    term.onData((bytes) => {
      if (closed) return;
      xterm.write(bytes);
      if (transcript.length < 1 << 20) transcript += decoder.decode(bytes, { stream: true });
    });
    term.onExit((code) => {
      if (closed) return;
      term = null;
      note(`the terminal ended with exit code ${code}`);
      setStatus(`ended · exit ${code}`, code === 0 ? "" : "warn");
      newButton.hidden = false;
    });
    term.onNotice((notice) => {
      if (closed) return;
      note(notice.message, "33");
      setStatus(`${notice.kind}: output may be ${notice.kind === "gap" ? "missing" : "repeated"}`, "warn");
    });
    // The host may have been resized while the terminal was created.
    if (xterm.cols !== cols || xterm.rows !== rows) term.resize(xterm.cols, xterm.rows);
    setStatus(`terminal ${term.id} · ${xterm.cols}×${xterm.rows}`);
  }

  async function startTerminal() {
    let Terminal;
    let FitAddon;
    try {
      ({ Terminal, FitAddon } = await loadXterm());
    } catch (error) {
      if (!closed) {
        setStatus("xterm.js is missing", "bad");
        showError(error, "Loading the terminal");
      }
      return;
    }
    if (closed) return;
    host.replaceChildren();
    xterm = new Terminal({
      cursorBlink: true,
      fontFamily: 'ui-monospace, "SF Mono", SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace',
      fontSize: 13,
      scrollback: 5000,
      theme: theme(),
    });
    fit = new FitAddon();
    xterm.loadAddon(fit);
    xterm.open(host);
    try {
      fit.fit();
    } catch {
      // laid out on the next refit
    }
    xterm.onData((text) => {
      if (!term) return;
      try {
        term.write(text); // keystrokes; queued by the client while the socket reconnects
      } catch (error) {
        const e = describeError(error);
        setStatus(`not sent: ${e.code}`, "bad");
      }
    });
    xterm.onResize(({ cols, rows }) => {
      if (!term) return;
      term.resize(cols, rows);
      setStatus(`terminal ${term.id} · ${cols}×${rows}`);
    });
    resizeObserver = new ResizeObserver(refit);
    resizeObserver.observe(host);
    window.__demoTerminal = {
      /** Everything the page received from the terminal, decoded. */
      transcript: () => transcript,
      /** The lines xterm.js shows (its whole buffer, scrollback included), right-trimmed. */
      lines: () => {
        const buffer = xterm?.buffer.active;
        if (!buffer) return [];
        const lines = [];
        for (let i = 0; i < buffer.length; i++) lines.push(buffer.getLine(i)?.translateToString(true) ?? "");
        while (lines.length && lines.at(-1) === "") lines.pop();
        return lines;
      },
    };
    await spawn();
  }

  const onNew = () => {
    if (closed || !xterm) return;
    xterm.reset();
    spawn();
  };
  newButton.addEventListener("click", onNew);

  // ---- the watcher ------------------------------------------------------------------------------
  let watcher = null;
  async function startWatcher() {
    files.watching("starting");
    let created;
    try {
      created = await rt.watchers.create({ path: WATCH_ROOT });
    } catch (error) {
      if (closed) return;
      files.watching("off");
      showError(error, `Watching ${WATCH_ROOT}`);
      return;
    }
    if (closed) {
      created.close().catch(() => {});
      return;
    }
    watcher = created;
    watcher.onEvent((event) => files.changed(event));
    watcher.onOverflow((message) => files.overflow(message));
    files.watching("on");
  }

  startTerminal();
  startWatcher();

  return {
    async close() {
      if (closed) return;
      closed = true;
      cancelAnimationFrame(frame);
      resizeObserver?.disconnect();
      newButton.removeEventListener("click", onNew);
      newButton.hidden = true;
      retake.removeEventListener("click", onRetake);
      retake.hidden = true;
      offState();
      $("rt-conn").hidden = true;
      setStatus("");
      files.watching("off");
      const ending = [term?.close(), watcher?.close()].filter(Boolean);
      term = null;
      watcher = null;
      xterm?.dispose();
      xterm = null;
      host.replaceChildren(h("p", { class: "empty small" }, "No terminal."));
      delete window.__demoTerminal;
      // The gateway's answers, bounded: a sign-out must not wait on a hung call.
      const settled = Promise.allSettled(ending).then((results) => {
        for (const r of results) {
          const code = r.status === "rejected" ? describeError(r.reason).code : null;
          if (code && code !== "disposed") console.info(`Closing the terminal or watcher: ${code}`);
        }
      });
      await Promise.race([settled, new Promise((ok) => setTimeout(ok, 3000))]);
      conn.free();
    },
  };
}

// The workspace WebSocket's I/O (src/bindings/runtime/socket.rs): the socket, its listeners, the
// timers, the page's wake-up events, the send queue and the app's callbacks. Every decision is the
// Rust core's, asked through `rust(op, …)`: 0 the next attempt's URL (after the /health probe),
// 1 a gateway call, 2 a catch-up's alignment, 3 a text frame, 4 a close code, 5 a retry delay,
// 6 a watcher created again. The socket URL carries the token: it goes to `new WebSocket` only.
import { OblienError } from "./oblien_error.js";

const error = (code, message) => new OblienError(code, message);
const disposed = () => error("disposed", "The client was disposed");
const copy = (e) => new OblienError(e.code, e.message, e.status, e.retryAfter, e.requestId);

/** Calls each callback of `list` with `value`; a callback that throws is the app's bug. */
const call = (list, value) => {
  for (const { f } of [...list]) {
    try {
      f(value);
    } catch {}
  }
};

/** `onX(f)` on `list`: the unsubscribe function. */
const on = (list, f) => {
  const entry = { f };
  list.push(entry);
  return () => {
    const i = list.indexOf(entry);
    if (i >= 0) list.splice(i, 1);
  };
};

const MAX_QUEUED = 1 << 20;
const WATCHER_AWAY = "The socket was away: events may have been missed";

class Term {
  constructor(conn, id, byte, capacity) {
    this.c = conn;
    this.id = id;
    this.b = byte;
    this.cap = capacity;
    this.l = [[], [], []]; // onData, onExit, onNotice
    this.d = []; // the last `cap` bytes delivered, as chunks
    this.n = 0;
    this.held = null; // live frames held while catching up
    this.k = 0; // catch-up epoch
    this.size = undefined;
    this.exitCode = undefined; // an exit that came during a catch-up
    this.ended = false;
  }

  on(kind, f) {
    return on(this.l[kind], f);
  }

  deliver(bytes) {
    if (!bytes.length || this.ended) return;
    if (this.cap) {
      this.d.push(bytes);
      this.n += bytes.length;
      while (this.n - this.d[0].length >= this.cap) this.n -= this.d.shift().length;
    }
    call(this.l[0], bytes.slice());
  }

  delivered() {
    const out = new Uint8Array(this.n);
    let at = 0;
    for (const chunk of this.d) {
      out.set(chunk, at);
      at += chunk.length;
    }
    return out.subarray(Math.max(0, this.n - this.cap));
  }

  output(bytes) {
    if (this.held) this.held.push(bytes);
    else this.deliver(bytes);
  }

  exit(code) {
    if (this.held) this.exitCode = code;
    else if (!this.ended) {
      this.ended = true;
      call(this.l[1], code);
    }
  }

  notice(kind) {
    call(this.l[2], {
      kind,
      message:
        kind === "gap"
          ? "The socket was away longer than the scrollback holds: output was lost"
          : "Replayed output matched at more than one place: some may be repeated or missing",
    });
  }

  /** Keystrokes; returns the error to throw, if any. */
  write(data) {
    let bytes;
    if (typeof data === "string") bytes = new TextEncoder().encode(data);
    else if (data instanceof Uint8Array) bytes = data.slice();
    else return error("invalid_options", "terminal.write(data): data must be a string or a Uint8Array");
    if (this.ended) return error("terminal_exited", "The terminal has ended");
    const c = this.c;
    if (c.e) return copy(c.e);
    if (c.s === "closed") return disposed();
    if (c.n + bytes.length > MAX_QUEUED) {
      return error("buffer_full", "More than 1 MiB of input waits for the socket: write later");
    }
    const frame = new Uint8Array(bytes.length + 1);
    frame[0] = this.b;
    frame.set(bytes, 1);
    c.send(frame);
  }

  /** Returns the error to throw, if any. */
  resize(cols, rows) {
    const bad = [cols, rows].findIndex((n) => typeof n !== "number" || !(n >= 1 && n <= 10000) || n % 1);
    if (bad >= 0) {
      return error("invalid_options", `terminal.resize(cols, rows): ${bad ? "rows" : "cols"} must be an integer 1–10000`);
    }
    this.size = [cols, rows];
    if (this.c.s === "open") this.c.send(this.frame());
  }

  frame() {
    const [cols, rows] = this.size;
    return JSON.stringify({ channel: "terminal", type: "resize", id: String(this.b), cols, rows });
  }

  async close() {
    this.ended = true;
    const c = this.c;
    c.forget(c.T, this);
    try {
      await c.r(1, "DELETE", "/terminals/", this.id);
    } catch (e) {
      if (e.status !== 404) throw e;
    }
  }
}

class Watch {
  constructor(conn, path, excludes) {
    this.c = conn;
    this.path = path;
    this.ex = excludes;
    this.l = [[], []]; // onEvent, onOverflow
    this.ended = false;
    this.ready = new Promise((ok) => (this.done = ok));
  }

  on(kind, f) {
    return on(this.l[kind], f);
  }

  async close() {
    this.ended = true;
    const c = this.c;
    c.forget(c.W, this);
    try {
      await c.r(1, "DELETE", "/watchers/", this.sid);
    } catch (e) {
      if (e.status !== 404) throw e;
    }
  }
}

/** A runtime's one socket. `end()` (the Rust side went away) stops everything for good. */
export class Conn {
  constructor(rust, signal, sleepGapMs, heartbeatMs, stableMs) {
    this.r = rust;
    this.k = 0; // bumped for every socket
    this.s = "idle";
    this.e = null;
    this.T = [];
    this.W = [];
    this.q = []; // what waits for the socket
    this.n = 0; // queued bytes
    this.h = []; // onStateChange
    this.a = 0; // attempts
    this.st = false; // the held token is dead (rotated)
    this.g = 0; // the cell generation the socket was opened with
    this.ws = null;
    this.gap = sleepGapMs;
    this.beatMs = heartbeatMs;
    this.stable = stableMs;
    this.ds = signal;
    this.da = () => this.shutDown(disposed());
    signal.addEventListener("abort", this.da, { once: true });
  }

  state() {
    return this.s;
  }

  error() {
    return this.e && copy(this.e);
  }

  on(_, f) {
    return on(this.h, f);
  }

  set(s) {
    if (this.s !== s) {
      this.s = s;
      call(this.h, s);
    }
  }

  /** A terminal or watcher needs the socket; returns the error that stops it, if any. */
  need() {
    if (this.e) return copy(this.e);
    if (this.s === "idle") {
      this.set("connecting");
      this.a = 0;
      this.listen();
      this.connect();
    }
  }

  /** A terminal the gateway knows, on this socket: the terminal, or the error. */
  terminal(id, byte, capacity, size) {
    const e = this.need();
    if (e) return e;
    const t = new Term(this, id, byte, capacity);
    t.size = size;
    this.T.push(t);
    if (this.s === "open") this.catchUp(t);
    return t;
  }

  watcher(path, excludes) {
    return new Watch(this, path, excludes);
  }

  /** `watchers.create`: created, then resolved with `handle` once the gateway says ready. */
  async watch(w, handle, signal, timeoutMs) {
    let e;
    try {
      w.id = w.sid = await this.r(6, w.path, w.ex);
    } catch (error) {
      e = error;
    }
    e ??= this.need();
    if (e) {
      handle.free();
      throw e;
    }
    this.W.push(w);
    let stop;
    const ended = new Promise((_, no) => {
      const timer = setTimeout(() => no(error("timeout", "The watcher was not ready in time")), timeoutMs);
      const ds = this.ds;
      const dead = () => no(ds.aborted ? disposed() : error("aborted", "The request was aborted"));
      ds.addEventListener("abort", dead);
      signal?.addEventListener("abort", dead);
      stop = () => {
        clearTimeout(timer);
        ds.removeEventListener("abort", dead);
        signal?.removeEventListener("abort", dead);
      };
      if (ds.aborted || signal?.aborted) dead();
    });
    try {
      const failed = await Promise.race([w.ready, ended]);
      if (failed) throw failed;
    } catch (e) {
      await w.close().catch(() => {});
      handle.free();
      throw e;
    } finally {
      stop();
    }
    w.done = null;
    return handle;
  }

  forget(list, item) {
    const i = list.indexOf(item);
    if (i >= 0) list.splice(i, 1);
    if (!this.T.length && !this.W.length && this.s !== "closed") {
      this.closeSocket();
      this.set("idle");
    }
  }

  /** `connection.reconnect()`: take the socket back after `replaced` (or try again at once). */
  reconnect() {
    if (this.s === "closed" || this.s === "idle") return;
    this.closeSocket();
    this.a = 0;
    this.set("reconnecting");
    this.connect();
  }

  /** Disposed, freed, or the workspace is unreachable: nothing reconnects any more. */
  shutDown(e) {
    if (this.s === "closed") return;
    if (e) {
      this.e = e;
      for (const w of this.W) w.done?.(copy(e));
    }
    this.closeSocket();
    this.p?.abort();
    this.q = [];
    this.set("closed");
  }

  /** The Rust side is gone. */
  end() {
    this.dead = true;
    this.closeSocket();
    this.p?.abort();
    this.ds.removeEventListener("abort", this.da);
  }

  closeSocket() {
    clearTimeout(this.rt);
    clearInterval(this.hb);
    this.k++;
    const ws = this.ws;
    if (ws) {
      this.ws = null;
      ws.onopen = ws.onmessage = ws.onclose = null;
      ws.close(1000, "client close");
    }
  }

  /** One attempt: the URL (a reconnect first probes /health), then `new WebSocket`. */
  async connect() {
    const k = ++this.k;
    const stale = this.st;
    this.st = false;
    let next;
    try {
      next = await this.r(0, this.s !== "connecting", stale, this.g);
    } catch (e) {
      if (this.k === k && !this.dead) this.shutDown(e);
      return;
    }
    if (this.k !== k || this.dead || this.s === "closed") return;
    if (!next) return this.retry();
    this.g = next[1];
    let ws;
    try {
      ws = new WebSocket(next[0]);
    } catch {
      // Its error would quote the URL: our own instead.
      return this.shutDown(error("network_error", "The workspace socket could not be created (invalid gateway URL)"));
    }
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    this.o = null;
    ws.onopen = () => this.opened();
    ws.onmessage = (m) => this.message(m.data);
    ws.onclose = (c) => this.closed(c.code);
  }

  opened() {
    const now = Date.now();
    this.o = this.beat = now;
    this.set("open");
    this.e = null;
    clearInterval(this.hb);
    this.hb = setInterval(() => {
      const t = Date.now();
      const gap = t - this.beat;
      this.beat = t;
      // Timers stopped for a while (the laptop slept): the socket may be dead while it says open.
      if (gap > this.gap && this.s === "open") this.renew();
    }, this.beatMs);
    // Sizes first, then what waited, then each terminal catches up and watchers are checked.
    const terminals = [...this.T];
    for (const t of terminals) if (t.size) this.send(t.frame());
    this.flush();
    for (const t of terminals) this.catchUp(t);
    if (this.a > 0 || this.k > 1) for (const w of [...this.W]) this.restore(w);
  }

  message(data) {
    if (typeof data === "string") {
      const m = this.r(3, data);
      if (!m) return;
      if (m[0] === 0) {
        const t = this.T.find((t) => t.b === m[1]);
        if (t) {
          t.exit(m[2]);
          if (t.ended) this.forget(this.T, t);
        }
        return;
      }
      const w = this.W.find((w) => w.sid === m[1]);
      if (!w) return;
      if (m[0] === 1) w.done?.();
      else if (m[0] === 2) call(w.l[0], { path: m[2], op: m[3] });
      else call(w.l[1], m[2]);
      return;
    }
    const bytes = new Uint8Array(data);
    if (bytes.length < 2) return;
    this.T.find((t) => t.b === bytes[0])?.output(bytes.slice(1));
  }

  closed(code) {
    this.ws = null;
    clearInterval(this.hb);
    // A socket that never opened: the next attempt's probe says why.
    if (this.o == null) return this.retry();
    if (Date.now() - this.o >= this.stable) this.a = 0;
    const after = this.r(4, code);
    if (after === 2) this.set("replaced");
    else {
      this.st = after === 1;
      this.retry();
    }
  }

  retry() {
    this.set("reconnecting");
    clearTimeout(this.rt);
    this.rt = setTimeout(() => this.connect(), this.r(5, ++this.a));
  }

  /** Replace a socket that may be dead: a new one at once, catching up from the scrollback. */
  renew() {
    this.closeSocket();
    this.set("reconnecting");
    this.connect();
  }

  /** `online`, `pageshow` and the page becoming visible: retry now, or check an open socket. */
  listen() {
    if (typeof window !== "object") return;
    this.p?.abort();
    this.p = new AbortController();
    const options = { signal: this.p.signal };
    const wake = (e) => {
      const visible = !window.document || document.visibilityState === "visible";
      if (this.s === "reconnecting" && visible) {
        this.closeSocket();
        this.connect();
      } else if (this.s === "open" && (e.type === "online" || e.persisted)) {
        // A network change or a page restored from the back/forward cache: it may be dead.
        this.renew();
      }
    };
    window.document?.addEventListener("visibilitychange", wake, options);
    window.addEventListener("online", wake, options);
    window.addEventListener("pageshow", wake, options);
  }

  send(message) {
    const ws = this.ws;
    if (ws?.readyState === 1) {
      try {
        return ws.send(message);
      } catch {}
    }
    this.n += message.length;
    this.q.push(message);
  }

  flush() {
    const queued = this.q;
    this.q = [];
    this.n = 0;
    for (const m of queued) this.send(m);
  }

  /** Fetches the terminal's scrollback and delivers what the consumer missed, once. */
  async catchUp(t) {
    const k = ++t.k;
    t.held = [];
    let text = null;
    try {
      text = await this.r(1, "GET", "/terminals/", t.id, "/scrollback");
    } catch {}
    if (t.k !== k || this.dead) return;
    const held = t.held;
    t.held = null;
    const plan = text == null ? undefined : this.r(2, t.delivered(), text, t.cap, held);
    const exit = t.exitCode;
    t.exitCode = undefined;
    if (plan) {
      if (plan[0]) t.notice(plan[0]);
      t.deliver(plan[1]);
      for (const frame of held.slice(plan[2])) t.deliver(frame);
      const code = plan[3] ?? exit;
      if (code !== undefined) t.exit(code);
    } else {
      // No scrollback to align with: deliver what came live, say output may be lost.
      t.notice("gap");
      for (const frame of held) t.deliver(frame);
      if (exit !== undefined) t.exit(exit);
    }
    if (t.ended) this.forget(this.T, t);
  }

  /** After a reconnect: the watcher still exists, or is created again under a new id; either
   * way events may have been missed while the socket was away. */
  async restore(w) {
    let gone = false;
    try {
      await this.r(1, "GET", "/watchers/", w.sid);
    } catch (e) {
      gone = e.status === 404;
    }
    if (gone && !this.dead) {
      try {
        w.sid = await this.r(6, w.path, w.ex);
      } catch {}
    }
    if (!w.ended) call(w.l[1], WATCHER_AWAY);
  }
}

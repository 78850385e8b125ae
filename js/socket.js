// The workspace WebSocket's I/O (src/bindings/runtime/socket.rs): the socket, its listeners, the
// timers, the page's wake-up events, the send queue, the app's callbacks, and the terminal and
// watcher calls around it. Every decision is the Rust core's, asked through `rust(op, …)`: 0 the
// held token is dead, 1 a gateway call (its JSON answer), 2 a catch-up's alignment, 3 a text
// frame, 4 a close code, 5 a retry delay, 6 the next attempt's URL (or a refresh to wait for
// first), 7 whether an error ends the socket. The socket URL carries the token: it goes to
// `new WebSocket` only.
import { OblienError } from "./oblien_error.js";

const error = (code, message, status) => new OblienError(code, message, status);
const disposed = () => error("disposed", "The client was disposed");
const copy = (e) => new OblienError(e.code, e.message, e.status, e.retryAfter, e.requestId);
const isObject = (v) => v && typeof v == "object" && !Array.isArray(v);

/** Standard base64 as `core::base64url` reads it (`=` padding optional), or undefined. */
const base64 = (s) =>
  typeof s == "string" && /^[A-Za-z0-9+/]*$/.test((s = s.replace(/=+$/, ""))) && s.length % 4 != 1
    ? Uint8Array.from(atob(s), (c) => c.charCodeAt(0))
    : undefined;

/** `{call}: {subject} must be {rule}` (as `convert::invalid` words it). */
const invalid = (call, subject, rule) => error("invalid_options", `${call}: ${subject} must be ${rule}`);

/** Reads the options of `call` as `convert::Options` does: absent, or an object whose members
 * `spec` checks in order (`[key, test]`, `test` returns the rule a value breaks): their values,
 * `null` read as absent. */
const read = (call, o, spec) => {
  if (o != null && (typeof o != "object" || Array.isArray(o))) {
    throw invalid(call, "options", `an object, not ${Array.isArray(o) ? "an array" : "a " + typeof o}`);
  }
  const values = {};
  for (const [key, test] of spec) {
    const v = o?.[key];
    const rule = test(v);
    if (rule) throw invalid(call, "options." + key, rule);
    values[key] = v ?? undefined;
  }
  return values;
};
const optional = (test, rule) => (v) => v != null && !test(v) && rule;
const isString = optional((v) => typeof v == "string", "a string");
const SIGNAL = ["signal", optional((v) => v instanceof AbortSignal, "an AbortSignal")];
const integer = (key, max, min = 1) => [
  key,
  optional((v) => typeof v == "number" && v >= min && v <= max && v % 1 == 0, min ? "a positive integer" : "an integer ≥ 0"),
];

/** A terminal id as the one byte a binary frame carries (`core::frames::terminal_byte`). */
const byte = (id) => {
  const b = /^\d{1,3}$/.test(id) && +id;
  if (b > 0 && b < 256) return b;
  throw error("invalid_options", "This terminal id does not fit the one byte a WebSocket frame carries (1–255)");
};

/** The `id` argument of `call`. */
const terminalId = (call, id) => {
  if (typeof id != "string" || !id) throw invalid(call, "id", "a terminal id string");
  return id;
};

const drop = (list, item) => {
  const i = list.indexOf(item);
  if (i >= 0) list.splice(i, 1);
};

/** Calls each callback of `list` with `value`; a callback that throws is the app's bug. */
const call = (list, value) => {
  for (const f of [...list]) {
    try {
      f(value);
    } catch {}
  }
};

/** `onX(f)` on `list`: the unsubscribe function (one entry per subscription). */
const on = (list, f) => {
  const entry = (value) => f(value);
  list.push(entry);
  return () => drop(list, entry);
};

/** What terminals and watchers share: callbacks, and `close()` (`DELETE` on the gateway). */
class Item {
  constructor(conn, path) {
    this.c = conn;
    this.p = path;
    this.l = [[], [], []];
  }

  on(kind, f) {
    return on(this.l[kind], f);
  }

  async close() {
    this.ended = true;
    this.c.forget(this);
    try {
      await this.c.r(1, "DELETE", [this.p, this.sid]);
    } catch (e) {
      if (e.status !== 404) throw e;
    }
  }
}

/** A terminal (callbacks: onData, onExit, onNotice), once `Conn.open` put it on the socket. */
class Term extends Item {
  constructor(conn) {
    super(conn, "/terminals/");
    this.d = []; // the last `cap` bytes delivered, as chunks
    this.n = 0;
    this.k = 0; // catch-up epoch
    // held: live frames held while catching up; exitCode: an exit that came meanwhile.
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
    if (c.n + bytes.length > 1 << 20) {
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
}

/** A watcher (callbacks: onEvent, onOverflow); `sid` is its id on the gateway now. */
class Watch extends Item {
  constructor(conn) {
    super(conn, "/watchers/");
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

  term() {
    return new Term(this);
  }

  watcher() {
    return new Watch(this);
  }

  /** `terminals.create(options)` or `terminals.attach(id, options)`: resolves with `handle` once
   * `t` is on the socket, else frees it (and ends a terminal it created but cannot use). */
  async open(t, handle, attach, id, o) {
    let made, cap, size, s;
    try {
      if (attach) {
        const call = "terminals.attach(id, options)";
        byte(terminalId(call, id));
        const { signal } = read(call, o, [SIGNAL]);
        // The terminal's scrollback size comes from the list (it bounds what catch-up can align).
        const list = (await this.r(1, "GET", ["/terminals"], undefined, signal))?.terminals;
        s = Array.isArray(list) && list.find((s) => s?.id === id || s?.id === +id);
        if (!s) throw error("not_found", "No such terminal in this workspace", 404);
      } else {
        const call = "terminals.create(options)";
        const { signal, cols, rows, scrollbackSize, shell } = read(call, o, [
          SIGNAL,
          integer("cols", 1e4),
          integer("rows", 1e4),
          integer("scrollbackSize", 2 ** 26),
          ["shell", isString],
        ]);
        cap = scrollbackSize;
        // Sent again after every reconnect.
        if (cols != null && rows != null) size = [cols, rows];
        const cmd = shell == null ? undefined : [shell];
        const body = JSON.stringify({ cols, rows, scrollback_size: cap, cmd });
        const v = await this.r(1, "POST", ["/terminals"], body, signal);
        s = isObject(v?.terminal) ? v.terminal : v;
        id = s?.id;
        if (typeof id == "number" && id % 1 == 0) id = String(id);
        if (typeof id != "string") throw error("server_error", "The terminal has no id");
        made = id;
      }
      // A usize in the core: whole, 0 to 2^32 - 1.
      const n = s.scrollback_size;
      t.cap = typeof n == "number" ? Math.min(Math.max(Math.trunc(n), 0), 2 ** 32 - 1) : cap ?? 65536;
      t.b = byte(id);
      const e = this.need();
      if (e) throw e;
      t.id = t.sid = id;
      t.size = size;
      this.T.push(t);
      if (this.s === "open") this.catchUp(t);
      return handle;
    } catch (e) {
      if (made != null) await this.r(1, "DELETE", ["/terminals/", made]).catch(() => {});
      handle.free();
      throw e;
    }
  }

  /** `terminals.scrollback(id, options)`: the bytes of the gateway's `{scrollback: <base64>}`. */
  async scrollback(id, o) {
    const call = "terminals.scrollback(id, options)";
    terminalId(call, id);
    const { signal, bytes } = read(call, o, [SIGNAL, integer("bytes", 1e12, 0)]);
    const query = bytes == null ? "" : "?bytes=" + bytes;
    const data = base64((await this.r(1, "GET", ["/terminals/", id, "/scrollback" + query], undefined, signal))?.scrollback);
    if (!data) throw error("server_error", "The scrollback is not base64");
    return data;
  }

  /** `POST /watchers`: the watcher's id. */
  async make(w) {
    const v = (await this.r(1, "POST", ["/watchers"], JSON.stringify({ path: w.path, excludes: w.ex })))?.watcher;
    if (!isObject(v)) throw error("server_error", "The response has no 'watcher' object");
    const id = v.id;
    if (typeof id == "number") return String(Math.trunc(id));
    if (typeof id == "string") return id;
    throw error("server_error", "The watcher has no id");
  }

  /** `watchers.create(options)`: created, then resolved with `handle` once the gateway says
   * ready; `handle` is freed if it fails. */
  async watch(w, handle, o, timeoutMs) {
    let stop, added, signal;
    try {
      const call = "watchers.create(options)";
      if (o == null) throw invalid(call, "options", "an object");
      ({ signal, path: w.path, excludes: w.ex } = read(call, o, [
        ["path", (v) => isString(v) || (!v && "a non-empty string")],
        SIGNAL,
        ["excludes", (v) => v !== undefined && !(Array.isArray(v) && [...v].every((e) => typeof e == "string")) && "an array of strings"],
      ]));
      w.id = w.sid = await this.make(w);
      const e = this.need();
      if (e) throw e;
      this.W.push((added = w));
      await new Promise((ok, no) => {
        w.done = (e) => (e ? no(e) : ok());
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
    } catch (e) {
      await added?.close().catch(() => {});
      handle.free();
      throw e;
    } finally {
      stop?.();
    }
    w.done = null;
    return handle;
  }

  forget(item) {
    drop(this.T, item);
    drop(this.W, item);
    if (!this.T.length && !this.W.length && this.s !== "closed") {
      this.closeSocket();
      this.set("idle");
    }
  }

  /** `connection.reconnect()`: take the socket back after `replaced` (or try again at once). */
  reconnect() {
    if (this.s === "closed" || this.s === "idle") return;
    this.a = 0;
    this.renew();
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
      ws.onmessage = ws.onclose = null;
      const close = () => ws.close(1000, "client close");
      // Closed while connecting, Chromium logs the URL (the token with it): close once it opens.
      ws.onopen = ws.readyState ? null : close;
      if (ws.readyState) close();
    }
  }

  /** One attempt: a reconnect first probes `GET /health` (a handshake the gateway would refuse
   * is never tried: browsers hide its status and log its URL), then the URL, then `new WebSocket`;
   * an error the core calls final ends the socket, any other retries later. */
  async connect() {
    const k = ++this.k;
    let next, e;
    try {
      if (this.st) this.r(0, this.g);
      this.st = false;
      if (this.s !== "connecting") await this.r(1, "GET", ["/health"]);
      // A promise first (the token's refresh when due), then the URL.
      for (let i = 0; !(next = await this.r(6, i++)); );
    } catch (x) {
      e = x;
    }
    if (this.k !== k || this.dead) return;
    if (e && this.r(7, e.code, e.status)) return this.shutDown(e);
    if (this.s === "closed") return;
    if (e) return this.retry();
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
    this.o = this.beat = Date.now();
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
    const queued = this.q;
    this.q = [];
    this.n = 0;
    for (const m of queued) this.send(m);
    for (const t of terminals) this.catchUp(t);
    if (this.a > 0 || this.k > 1) for (const w of [...this.W]) this.restore(w);
  }

  message(data) {
    if (typeof data === "string") {
      const m = this.r(3, data);
      if (!m) return;
      if (m[0]) {
        const w = this.W.find((w) => w.sid === m[1]);
        if (m[0] === 1) w?.done?.();
        else if (w) call(w.l[m[0] - 2], m[0] === 2 ? { path: m[2], op: m[3] } : m[2]);
        return;
      }
      const t = this.T.find((t) => t.b === m[1]);
      t?.exit(m[2]);
      if (t?.ended) this.forget(t);
      return;
    }
    const bytes = new Uint8Array(data);
    if (bytes.length > 1) this.T.find((t) => t.b === bytes[0])?.output(bytes.slice(1));
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

  /** Replace a socket that may be dead (or retry now): a new one at once, catching up from the
   * scrollback. */
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
      if (this.s === "reconnecting" && visible) this.renew();
      // A network change or a page restored from the back/forward cache: it may be dead.
      else if (this.s === "open" && (e.type === "online" || e.persisted)) this.renew();
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

  /** Fetches the terminal's scrollback and delivers what the consumer missed, once. */
  async catchUp(t) {
    const k = ++t.k;
    t.held = [];
    let v;
    try {
      v = await this.r(1, "GET", ["/terminals/", t.id, "/scrollback"]);
    } catch {}
    if (t.k !== k || this.dead) return;
    const held = t.held;
    t.held = null;
    let exit = t.exitCode;
    t.exitCode = undefined;
    // {scrollback: <base64>, alive, exit_code}; no scrollback to align with: what came live is
    // delivered with a notice that output may be lost.
    const bytes = isObject(v) && (typeof v.scrollback == "string" ? base64(v.scrollback) : new Uint8Array());
    const plan = bytes && this.r(2, t.delivered(), bytes, t.cap, held);
    if (plan) {
      if (plan[0]) t.notice(plan[0]);
      t.deliver(plan[1]);
      held.splice(0, plan[2]);
      if (v.alive === false) exit = Number.isInteger(v.exit_code) ? v.exit_code : -1;
    } else t.notice("gap");
    for (const frame of held) t.deliver(frame);
    if (exit !== undefined) t.exit(exit);
    if (t.ended) this.forget(t);
  }

  /** After a reconnect: the watcher still exists, or is created again under a new id; either
   * way events may have been missed while the socket was away. */
  async restore(w) {
    try {
      await this.r(1, "GET", ["/watchers/", w.sid]);
    } catch (e) {
      if (e.status === 404 && !this.dead) {
        try {
          w.sid = await this.make(w);
        } catch {}
      }
    }
    if (!w.ended) call(w.l[1], "The socket was away: events may have been missed");
  }
}

// The package's streams (src/bindings/runtime/stream.rs): `ExecStream`, the object `exec.stream`,
// `exec.subscribe`, `files.stream` and `transfer.download` hand out. The I/O is here: the body
// read chunk by chunk (only when `next()`, `wait()` or `taskId` asks, except that an exec stream
// is read up to its task id at once), the idle timer, the waits before a resume, the gate that
// keeps concurrent `next()` calls in order, and the end on `close()`, the caller's signal or the
// client's `dispose()`. Every decision is the Rust core's, asked through `rust(op, …)`:
// 0 open the connection (the first request, then re-subscribes; resolves with js/fetch.js
// `reply` once the headers are in, rejects with an OblienError), 1 what a chunk holds (see
// `#items`), 2 the delay before a resume (-1: give up), 3 a task call (`write`, `kill`), 4 the
// stream ended or was closed: the core lets go of its buffers (the wasm memory never shrinks:
// left to the garbage collector, streams in a row would each grow it by their largest chunk).
import { download } from "./fetch.js";
import { OblienError } from "./oblien_error.js";

/** Events `wait()` reads ahead for an iterator that is slower, at most (give or take a chunk). */
const QUEUE_MAX = 64;
const NEXT = 0;
const WAIT = 1;
const ID = 2;
// Formats: 0 exec (SSE, resumed), 1 lines (NDJSON), 2 a download kept as a Blob.
const EXEC = 0;
const LINES = 1;

const error = (code, message) => new OblienError(code, message);
/** Aborts the connection of a stream the garbage collector took while its body was unread. */
const orphans = new FinalizationRegistry((abort) => abort.abort());
const item = (value, done) => ({ value, done });
const resumable = (e) => e.code == "network_error" || e.code == "timeout" || (e.status >= 502 && e.status <= 504);

/**
 * The next chunk of `reader`: a Uint8Array, `null` at the end of the body, or `false` when
 * nothing arrived within `idleMs` (0: no limit). Rejects when the read fails (a network error,
 * or the connection aborted). The timer never outlives the read.
 */
function readChunk(reader, idleMs) {
  return new Promise((resolve, reject) => {
    const read = reader.read();
    const timer = idleMs > 0 ? setTimeout(resolve, Math.min(idleMs, 2147483647), false) : 0;
    read.then(
      (r) => {
        clearTimeout(timer);
        resolve(r.done ? null : r.value);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/** Pushes an output event; `data` is a view of the wasm memory, copied here (`#items` decodes
 * its text). */
export function output(list, event, data) {
  list.push({ event, data: data.slice(), text: "" });
}

/**
 * Pushes, without `taskId`, the exit event `{ event: "exit", exitCode, status? }`; with it, what
 * `wait()` resolves with, `{ taskId, exitCode, status? }` (`#items` adds `stdout`, `stderr`).
 */
export function exited(list, taskId, exitCode, status) {
  const done = taskId === undefined ? { event: "exit", exitCode } : { taskId, exitCode };
  if (status !== undefined) done.status = status;
  list.push(done);
}

/** A character split across chunks comes out whole; a BOM is text like any other. */
const utf8 = () => new TextDecoder("utf-8", { ignoreBOM: true });
const STREAMED = { stream: true };

export class ExecStream {
  #r;
  #f;
  #idle;
  #id;
  /** The first request is still to be sent (a POST is never sent twice). */
  #first;
  #caller;
  #dispose;
  #progress;
  #close = new AbortController();
  /** The caller's signal and `close()`. */
  #stop;
  /** `{ response, abort, reader }` of the open connection. */
  #conn;
  /** `{ v }` (what `wait()` resolves with) or `{ e }` (the error that ended the stream). */
  #end;
  /** Events read and not yet delivered. */
  #q = [];
  /** `next()` was called: events read by `wait()` or `taskId` are kept for it. */
  #it = false;
  /** Who waits for the state to change. */
  #w = [];
  /** The tail of the gate's queue: one reader of the body at a time. */
  #g = Promise.resolve();
  /** `next()` calls not settled: while there are any, a new one queues behind them. */
  #n = 0;
  /** Operations running: while there are any, the stream listens to its signals. */
  #ops = 0;
  /** Ends a wait before a resume. */
  #wake;
  /** A download's body so far (js/fetch.js `download`). */
  #kept;
  /** An exec stream's decoders, stdout and stderr. */
  #dec = [];
  /** The text of each channel so far, for `wait()` (`keepOutput`; else null). */
  #text;
  #stopNow = () => this.#fail(this.#stopped());

  constructor(rust, format, idleMs, taskId, first, caller, dispose, onProgress, keepOutput) {
    this.#r = rust;
    this.#f = format;
    this.#idle = idleMs;
    this.#id = taskId;
    this.#first = first;
    this.#caller = caller;
    this.#dispose = dispose;
    this.#progress = onProgress;
    this.#text = keepOutput ? [[], []] : null;
    const close = this.#close.signal;
    this.#stop = caller ? AbortSignal.any([caller, close]) : close;
    // The command starts now, whoever reads it: send the request, read up to the task id.
    if (format == EXEC && first) this.#run(ID).catch(() => {});
  }

  /** The task's id (from its `task_id` event). */
  get taskId() {
    return this.#run(ID);
  }

  /** The next event (`for await` calls it). */
  next() {
    this.#it = true;
    if (this.#close.signal.aborted) return Promise.resolve(item(undefined, true));
    // An event already read, and no earlier `next()` waiting: at once.
    if (!this.#n && !this.#stopped() && this.#q.length) return Promise.resolve(item(this.#take(), false));
    return this.#run(NEXT);
  }

  /** Ends the iteration early (`break` out of `for await`): as `close()`. */
  return() {
    this.close();
    return Promise.resolve(item(undefined, true));
  }

  /** Resolves when the task exits, with its exit code and all its output. */
  wait() {
    return this.#run(WAIT);
  }

  /** Writes to the task's stdin (`POST /exec/{id}/input`; a string is sent as UTF-8). */
  write(data) {
    return typeof data == "string" || data instanceof Uint8Array
      ? this.#task(data)
      : Promise.reject(error("invalid_options", "write(data): data must be a string or a Uint8Array"));
  }

  /** Kills the task (`DELETE /exec/{id}`); the stream then ends with its exit event. */
  kill() {
    return this.#task();
  }

  /** Stops reading and closes the connection; the task keeps running. */
  close() {
    this.#close.abort();
    this.#drop();
  }

  /** As `close()`. */
  free() {
    this.close();
  }

  [Symbol.asyncIterator]() {
    return this;
  }

  async #task(data) {
    return this.#r(3, await this.#run(ID), data);
  }

  /** Disposed, aborted or closed: the error that says so (nothing more is read). */
  #stopped() {
    return this.#dispose.aborted
      ? error("disposed", "The client was disposed")
      : this.#stop.aborted && error("aborted", "The request was aborted");
  }

  /** The connection goes (its fetch aborted), and whoever waits looks again. */
  #drop() {
    const conn = this.#conn;
    if (conn) {
      orphans.unregister(conn);
      conn.abort.abort();
    }
    this.#conn = undefined;
    if (this.#end || this.#close.signal.aborted) this.#r(4);
    this.#changed();
  }

  #changed() {
    for (const w of this.#w.splice(0)) w();
  }

  /** Resolves at the next change. */
  #waitChange() {
    return new Promise((resolve) => this.#w.push(resolve));
  }

  /** Holding the gate: resolves with the function that lets the next one in. */
  #enter() {
    const before = this.#g;
    let leave;
    this.#g = new Promise((resolve) => (leave = resolve));
    return before.then(() => leave);
  }

  /** The oldest event read and not yet delivered. */
  #take() {
    const event = this.#q.shift();
    this.#changed();
    return event;
  }

  /** Ends the stream with `e` (unless it already ended); what the callers see. */
  #fail(e) {
    if (e.code == "aborted" && this.#close.signal.aborted && !this.#caller?.aborted) {
      e = error("closed", "The stream was closed");
    }
    const end = (this.#end ??= { e });
    this.#wake?.();
    this.#drop();
    return end.e ?? e;
  }

  /** `next()`, `wait()` and `taskId`: listening to the signals while any runs. */
  async #run(kind) {
    // `taskId`, `write()` and `kill()` work after `close()` once the id is known.
    if (kind == ID && this.#id) return this.#id;
    if (kind == NEXT) this.#n++;
    if (!this.#ops++) {
      this.#stop.addEventListener("abort", this.#stopNow);
      this.#dispose.addEventListener("abort", this.#stopNow);
    }
    try {
      const stopped = this.#stopped();
      if (stopped) throw stopped;
      return await this.#op(kind);
    } catch (e) {
      e = this.#fail(e);
      // After `close()` an iterator is done.
      if (kind == NEXT && e.code == "closed") return item(undefined, true);
      throw e;
    } finally {
      if (kind == NEXT) this.#n--;
      if (!--this.#ops) {
        this.#stop.removeEventListener("abort", this.#stopNow);
        this.#dispose.removeEventListener("abort", this.#stopNow);
      }
    }
  }

  /**
   * One loop for `next()`, `wait()` and `taskId`. `next()` holds the gate until it has its event
   * (concurrent calls resolve in order); the others take it for one read at a time, so an
   * iterator is never starved by a `wait()`. `wait()` reads ahead at most QUEUE_MAX events for
   * an iterator; before the task id, events are kept for the iterator, whenever it starts.
   */
  async #op(kind) {
    let pass = kind == NEXT && (await this.#enter());
    try {
      for (;;) {
        const end = this.#end;
        let keep = true;
        if (kind == NEXT) {
          if (this.#q.length) return item(this.#take(), false);
          if (end) {
            if (end.e) throw end.e;
            return item(undefined, true);
          }
        } else if (kind == ID) {
          if (this.#f != EXEC) throw error("invalid_options", "Only an exec stream has a task");
          if (this.#id) return this.#id;
          if (end?.e) throw end.e;
          if (end || this.#q.length > QUEUE_MAX) throw error("server_error", "exec stream: no task_id event before the output");
        } else {
          if (end) {
            if (end.e) throw end.e;
            return end.v;
          }
          keep = this.#it;
          if (keep && this.#q.length >= QUEUE_MAX) {
            await this.#waitChange();
            continue;
          }
        }
        if (!pass) {
          // Whoever held the gate may have read what this one needs: look again.
          pass = await this.#enter();
          continue;
        }
        try {
          await this.#read(keep);
        } finally {
          this.#changed();
        }
        if (kind != NEXT) {
          pass();
          pass = false;
        }
      }
    } finally {
      if (pass) pass();
    }
  }

  /**
   * One step of reading (under the gate): chunks until one gives something new (an event kept,
   * the task id, the end), connecting or resuming first when needed. The end of a body other
   * than an exec stream's, its idle timeout and its failure end it; an exec stream that drops
   * (the body ending before `exit`, a failure, the idle timeout) resumes.
   */
  async #read(keep) {
    for (;;) {
      if (this.#end) return;
      let conn = this.#conn;
      if (!conn) {
        conn = await this.#connect();
        if (this.#end) return conn.abort.abort();
        this.#conn = conn;
        orphans.register(this, conn.abort, conn);
      }
      let chunk;
      try {
        chunk = await readChunk(conn.reader, this.#idle);
      } catch {
        // Failed: left undefined.
      }
      if (this.#end) return;
      if (chunk) {
        if (this.#f > LINES) {
          (this.#kept ??= download(conn.response, this.#progress)).push(chunk);
        } else if (this.#items(this.#r(1, chunk, keep), keep)) {
          return;
        }
        continue;
      }
      this.#drop();
      if (this.#f != EXEC) {
        if (chunk === false) throw error("timeout", "stream: nothing arrived within idleTimeoutMs");
        if (chunk !== null) throw error("network_error", "stream: the connection broke");
        if (this.#f == LINES) this.#items(this.#r(1, null, keep), keep);
        this.#end ??= { v: this.#f == LINES ? undefined : (this.#kept ?? download(conn.response, this.#progress)).blob() };
        return this.#drop();
      }
      const stopped = this.#stopped();
      if (stopped) throw stopped;
      await this.#resume(undefined, chunk === false);
    }
  }

  /**
   * What the core made of a chunk (`undefined`: the end of an NDJSON body), in order: events
   * (those to `keep`, and an exec stream's output for its text with `keepOutput`), the task's id
   * (a string), what `wait()` resolves with (an object after the exit event), an error (last: the
   * stream ends after the events before it). Whether it gave anything new.
   */
  #items(list, keep) {
    let fresh = false;
    const texts = this.#text;
    for (const x of list) {
      if (typeof x == "string") {
        this.#id = x;
      } else if (x instanceof Error || (this.#f == EXEC && !x.event)) {
        if (!(x instanceof Error)) {
          // The end of the text: an unfinished character becomes U+FFFD.
          [x.stdout, x.stderr] = [0, 1].map((c) => (texts ? texts[c].join("") + (this.#dec[c]?.decode() ?? "") : ""));
          this.#text = null;
        }
        this.#end = x instanceof Error ? { e: x } : { v: x };
        this.#drop();
      } else {
        if (this.#f == EXEC && x.data) {
          const c = +(x.event == "stderr");
          x.text = (this.#dec[c] ??= utf8()).decode(x.data, STREAMED);
          texts?.[c].push(x.text);
          if (!keep) continue;
        }
        this.#q.push(x);
      }
      fresh = true;
    }
    return fresh;
  }

  /** A connection: the first request, then (exec) re-subscribes, each replaying from the start. */
  async #connect() {
    for (;;) {
      const first = this.#first;
      this.#first = false;
      if (!first && !this.#id) throw error("network_error", "stream: the connection broke before it could be resumed");
      try {
        const reply = await this.#r(0, this.#stop);
        const response = reply.response;
        return { response, abort: reply.abort, reader: response.body?.getReader() };
      } catch (e) {
        // The POST may have started the task: never sent twice.
        if (first || !resumable(e) || this.#stopped()) throw e;
        await this.#resume(e, false);
      }
    }
  }

  /** Waits before the next re-subscribe, or gives up after too many in a row (`e`: the last error). */
  async #resume(e, idle) {
    const ms = this.#r(2, idle);
    if (ms < 0) throw e ?? error("network_error", "exec stream: the connection kept dropping; gave up resuming");
    if (ms > 0) {
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, ms);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }
}

if (Symbol.dispose) ExecStream.prototype[Symbol.dispose] = ExecStream.prototype.free;

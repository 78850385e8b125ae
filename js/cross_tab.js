// A token cell's refresh call (`refresh`, src/bindings/refresh.rs), `crossTab`'s I/O
// (src/bindings/cross_tab.rs) and the app's refresh callback (`callHost`, src/bindings/host.rs): the group's BroadcastChannel and its listener, the Web Lock around a
// refresh, the wait for the lock holder's token, and the callback called, awaited and its answer
// type-checked in one crossing. Plain JS: the Rust bindings for navigator.locks are unstable, and
// each await or listener from Rust is a state machine in the wasm. (One module for both: one
// snippet fewer for the wasm-bindgen-test page to load.)
//
// Every decision is the Rust core's, asked through `rust(op, value)`: 0 the `tokenInfo` of the
// held token (for the refresh callback), 1 whether the held token is newer than generation
// `value`, 2 a message received (text): the message to answer with, if any; 3 a token the host
// answered: the message sharing it with the group (none when it is unusable). Messages are text
// the core encodes and decodes; the wasm decodes the token the host answered. Nothing here is
// stored.

import { pause } from "./fetch.js";

/** What a thrown value says, never echoing something that looks like a token (a JWT starts
 * `eyJ`) or a long message (over 200 bytes of UTF-8: a Blob's size). */
const said = (e) => {
  const m = e instanceof Error ? String(e.message) : typeof e == "string" ? e : "";
  return new Blob([m]).size > 200 || m.includes("eyJ") ? "(message withheld)" : m;
};

/** `value` (a promise or not) awaited, unless `signal` aborts first: the client gave up (its
 * 15 s limit, `dispose()`), so nothing of this refresh (a lock, a wait) outlives that. (Rejects
 * with "" then: nobody reads it.) */
const until = (value, signal) =>
  new Promise((ok, no) => {
    const stop = () => no("");
    signal.aborted ? stop() : signal.addEventListener("abort", stop);
    Promise.resolve(value)
      .then(ok, no)
      .then(() => signal.removeEventListener("abort", stop));
  });

/**
 * One refresh call of a token cell: a task of its own, so it starts after a microtask, never
 * inside the client call that asked for it. `step(2, signal)` starts the source (`signal` aborts
 * when the call ends, or after `ms`: every source rejects then) and answers a promise, or nothing
 * when the call is no longer wanted; each promise settled goes to `step(3, value, how)` (0
 * rejected, 1 resolved, 2 given up after `ms`), which answers the next promise (a mint's second
 * request) or nothing: the call is over. `step(0)` lets go of it (a refresh queued meanwhile
 * starts then).
 */
export async function refresh(step, ms) {
  await null;
  const own = new AbortController();
  const timer = setTimeout(() => own.abort(), ms);
  try {
    for (let next = step(2, own.signal); next; ) {
      let value, how;
      try {
        value = await next;
        how = 1;
      } catch (e) {
        value = e;
        how = own.signal.aborted ? 2 : 0;
      }
      next = step(3, value, how);
    }
  } finally {
    clearTimeout(timer);
    own.abort();
    step(0);
  }
}

/**
 * Calls `callback({ reason, tokenInfo, signal })` (`signal` aborts on `dispose` or `own`: the
 * client stopped waiting) and resolves with the token string it answers (sync or a promise).
 * Rejects with the message of its `refresh_failed` error: it threw, rejected, or answered
 * something else than a string. Never called once `dispose` has aborted.
 */
export async function callHost(callback, reason, tokenInfo, dispose, own) {
  const signal = AbortSignal.any([dispose, own]);
  if (signal.aborted) throw "";
  let value;
  try {
    value = callback.call(null, { reason, tokenInfo, signal });
  } catch (e) {
    throw "The refresh callback threw: " + said(e);
  }
  try {
    value = await until(value, signal);
  } catch (e) {
    throw signal.aborted ? e : "The refresh callback rejected: " + said(e);
  }
  if (typeof value != "string") throw "The refresh callback must return a token string, not " + typeof value;
  return value;
}

/** Whether this browser has what `crossTab` needs. */
export function crossTabSupported() {
  return typeof BroadcastChannel === "function" && typeof navigator === "object" &&
    !!navigator.locks && typeof navigator.locks.request === "function";
}

/**
 * Runs `task(waited)` holding the exclusive lock `name`, and resolves once it is done. `waited` is
 * true when another tab held the lock first (it was refreshing: its token is on the way over the
 * channel). Rejects when the lock is not granted within `ms`, or `signal` aborts first.
 */
async function withLock(name, ms, signal, task) {
  let ran = false;
  await navigator.locks.request(name, { ifAvailable: true }, async (lock) => {
    if (!lock) return;
    ran = true;
    await task(false);
  });
  if (!ran) {
    await navigator.locks.request(name, { signal: AbortSignal.any([AbortSignal.timeout(ms), signal]) }, () => task(true));
  }
}

/** This client's place in its group: the channel of its token's identity, when it holds one. */
export class Group {
  /** `name` and `channel`: the group joined, if any. */
  constructor(rust) {
    this.rust = rust;
  }

  /** Joins the group `name` (leaving another one) and says `hello`; no group: leaves. */
  follow(name, hello) {
    if (name === this.name) return;
    this.leave();
    if (!name) return;
    let channel;
    try {
      channel = new BroadcastChannel(name);
    } catch {
      return;
    }
    channel.onmessage = (e) => {
      const reply = typeof e.data == "string" && this.rust(2, e.data);
      if (reply) this.post(reply);
    };
    channel.postMessage(hello);
    this.name = name;
    this.channel = channel;
  }

  post(text) {
    this.channel?.postMessage(text);
  }

  leave() {
    this.channel?.close();
    this.name = this.channel = undefined;
  }

  /** The Rust side is gone: nothing asks it any more. */
  end() {
    this.leave();
    this.rust = () => {};
  }

  /**
   * The host's refresh behind the group's lock: one tab calls its host per token generation
   * (and shares the token before it lets the lock go); the others wait for the lock, then up to
   * 40 × 25 ms for the holder's token, and find the group's token fresher than `generation`. A
   * holder that keeps the lock over `ms` (frozen) costs a call of our own host. Resolves with the
   * host's token, or undefined when the group's is held; rejects as `callHost` does.
   */
  async refresh(generation, ms, callback, reason, dispose, own) {
    const host = () => callHost(callback, reason, this.rust(0), dispose, own);
    if (!this.name) return host();
    const signal = AbortSignal.any([dispose, own]);
    const renewed = () => this.rust(1, generation);
    const shared = async () => {
      const token = await host();
      const message = this.rust(3, token);
      if (message) this.post(message);
      return token;
    };
    let outcome, decided;
    const chosen = new Promise((ok) => (decided = ok));
    const locked = withLock(this.name + ":refresh", ms, signal, async (waited) => {
      for (let i = 0; waited && i < 40 && !renewed() && !signal.aborted; i++) await pause(25, signal);
      outcome = renewed() ? Promise.resolve() : shared();
      decided();
      // The lock is held until the host answered and its token is on the channel, and a moment
      // longer: a tab whose timer fires now waits for the lock, then for our token, instead of
      // finding the lock free before the token reached it (the two travel apart between tabs).
      await outcome.catch(() => {});
      await pause(200, signal);
    }).catch(() => {
      // Not granted in time (or the client gave up: then `host` refuses at once).
    });
    await Promise.race([locked, chosen]);
    return outcome ?? shared();
  }
}

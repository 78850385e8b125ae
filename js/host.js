// The app's refresh callback (src/bindings/host.rs): called, awaited, its answer type-checked in
// one crossing. The wasm decodes the token and decides the rest (core::cell, core::token).

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

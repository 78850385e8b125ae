// The timers and listeners the wasm's session owns, in JS: the refresh timer and the page's
// lifecycle listeners, and the delivery of the session's events to the app. Each ends when its
// Rust owner says so (`stop()`: `dispose()`, the last handle gone), never later. From Rust each
// was a wasm closure and a state machine (gloo-timers, gloo-events); every decision stays in the
// wasm.

/**
 * One session's refresh timer and page-lifecycle listeners, and its events to the app, as
 * `{ arm, emit, stop }`. Asks the session through `rust(op)`: 0 the timer fired or the page came
 * back (refresh if due, re-arm), 1 the held token's `tokenInfo` (undefined when none).
 */
export function lifecycle(rust, onTokenChange, onRefreshError) {
  const handlers = [onTokenChange, onRefreshError];
  const w = globalThis.window;
  const targets = w ? [[w.document, "visibilitychange"], [w, "online"], [w, "pageshow"]].filter(([t]) => t) : [];
  let live = true;
  let timer;
  // Timers freeze in background tabs and sleeping laptops: re-check when the page returns.
  const back = () => {
    if ((w.document?.visibilityState ?? "visible") == "visible") rust(0);
  };
  for (const [target, type] of targets) target.addEventListener(type, back);
  return {
    /** The next refresh check in `ms` (none when negative), replacing any pending one. */
    arm(ms) {
      clearTimeout(timer);
      timer = ms < 0 ? undefined : setTimeout(() => rust(0), ms);
    },
    /** Event `kind` (0 the token changed, 1 a refresh failed with `error`) to the app's handler,
     * from a microtask: never inside a client call, and never once stopped. */
    emit(kind, error) {
      queueMicrotask(() => {
        const handler = handlers[kind];
        const argument = !live || !handler ? undefined : kind ? error : rust(1);
        if (argument === undefined) return;
        try {
          handler.call(null, argument);
        } catch {
          // A throwing handler is the app's bug; it must not become ours.
        }
      });
    },
    /** `dispose()` or the session dropped: the timer cleared and the listeners removed, at once. */
    stop() {
      live = false;
      clearTimeout(timer);
      for (const [target, type] of targets) target.removeEventListener(type, back);
    },
  };
}

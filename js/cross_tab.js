// Web Locks for `crossTab` (plain JS: the Rust bindings for navigator.locks are unstable).

/** Whether this browser has what `crossTab` needs. */
export function crossTabSupported() {
  return typeof BroadcastChannel === "function" && typeof navigator === "object" &&
    !!navigator.locks && typeof navigator.locks.request === "function";
}

/**
 * Runs `task(waited)` (which returns a promise) holding the exclusive lock `name`, and resolves with
 * its result. `waited` is true when another tab held the lock first (it was refreshing: its token
 * is on the way over the channel). Rejects when the lock is not granted within `timeoutMs`.
 */
export async function withLock(name, timeoutMs, task) {
  let ran = false;
  let result;
  await navigator.locks.request(name, { ifAvailable: true }, async (lock) => {
    if (!lock) return;
    ran = true;
    result = await task(false);
  });
  if (ran) return result;
  return navigator.locks.request(name, { signal: AbortSignal.timeout(timeoutMs) }, () => task(true));
}

// The hot path of the package's streams (ExecStream, FileStream): reading a body chunk by chunk
// with an idle timeout, and the objects handed to the page. Plain JS: one call per chunk or
// event instead of a Rust future, a timer closure and one Reflect.set per field.

/**
 * The next chunk of `reader`: a Uint8Array, `null` at the end of the body, or `false` when
 * nothing arrived within `idleMs` (0: no limit). Rejects when the read fails (a network error,
 * or the connection aborted). The timer never outlives the read.
 */
export function readChunk(reader, idleMs) {
  return new Promise((resolve, reject) => {
    const timer = idleMs > 0 ? setTimeout(resolve, Math.min(idleMs, 2147483647), false) : 0;
    reader.read().then(
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

/** `{ value, done }` of the iterator protocol (`value` undefined when done). */
export function item(value, done) {
  return { value, done };
}

/** An output event; `data` is a view of the wasm memory, copied here. */
export function output(event, data, text) {
  return { event, data: data.slice(), text };
}

/**
 * Without `taskId`: the exit event, `{ event: "exit", exitCode, status? }`; with it, what
 * `wait()` resolves with, `{ taskId, exitCode, status?, stdout, stderr }`.
 */
export function exited(taskId, exitCode, status, stdout, stderr) {
  const done = taskId === undefined ? { event: "exit", exitCode } : { taskId, exitCode };
  if (status !== undefined) done.status = status;
  if (taskId !== undefined) Object.assign(done, { stdout, stderr });
  return done;
}

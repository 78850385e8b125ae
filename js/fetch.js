// One attempt of a JSON call, in one crossing from the wasm: the request, its deadline and its
// signals, the body read whole, and (when asked) `JSON.parse` by the browser. The wasm decides
// everything else (retries, the envelope, errors). Done here rather than through web-sys because
// each of those steps from Rust is an import call, a `Request`, and a wasm closure for the timer
// and for each awaited promise: ~0.1 ms a call (bench/run.mjs with BENCH_PROFILE).
//
// Resolves with { status, retryAfter, requestId, text, parsed, value, success }; rejects with a
// number saying what ended the attempt: 1 the client was disposed, 2 the caller aborted,
// 3 the deadline passed, 0 anything else (network error, CORS refusal).
export function send(method, url, bearer, body, type, dispose, caller, ms, parse) {
  const controller = new AbortController();
  let timedOut = false;
  const stop = () => controller.abort();
  const timer = setTimeout(() => {
    timedOut = true;
    stop();
  }, ms);
  dispose.addEventListener("abort", stop);
  caller?.addEventListener("abort", stop);
  if (dispose.aborted || caller?.aborted) stop();
  const headers = { Authorization: `Bearer ${bearer}` };
  if (type) headers["Content-Type"] = type;
  const init = { method, headers, body, mode: "cors", credentials: "omit", signal: controller.signal };
  return fetch(url, init)
    .then(async (response) => {
      const reply = {
        status: response.status,
        retryAfter: response.headers.get("retry-after") ?? undefined,
        requestId: response.headers.get("x-request-id") ?? undefined,
        text: await response.text(),
        parsed: false,
        value: undefined,
        success: undefined,
      };
      if (parse) {
        try {
          reply.value = JSON.parse(reply.text);
          reply.parsed = true;
        } catch {
          // Not JSON: the wasm reads the text and says so.
        }
        const value = reply.value;
        if (value !== null && typeof value === "object" && !Array.isArray(value) && typeof value.success === "boolean") {
          reply.success = value.success;
        }
      }
      return reply;
    })
    .catch(() => {
      throw dispose.aborted ? 1 : caller?.aborted ? 2 : timedOut ? 3 : 0;
    })
    .finally(() => {
      clearTimeout(timer);
      dispose.removeEventListener("abort", stop);
      caller?.removeEventListener("abort", stop);
    });
}

// Requests: the attempts of each call (`call`), each attempt in one step here (`send`, `raw`):
// the request, its deadline and its signals, the body read (and, when asked, `JSON.parse` by the
// browser). The wasm decides everything else through `step` (src/bindings/call.rs): the token,
// the retry rules, the answer's meaning and the errors. Done here rather than through web-sys and
// Rust futures: each of those steps from Rust is an import call, a wasm closure per timer and per
// awaited promise, and a state machine in the wasm (~0.1 ms a call, bench/run.mjs with
// BENCH_PROFILE).
import { OblienError } from "./oblien_error.js";

/** `value`, unless it is the `OblienError` a step answered with. */
const checked = (value) => {
  if (value instanceof OblienError) throw value;
  return value;
};

/** Resolves after `ms`, or at once when `signal` aborts (its timer and listener end then). */
export const pause = (ms, signal) =>
  new Promise((done) => {
    const end = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", end);
      done();
    };
    const timer = setTimeout(end, ms);
    signal.addEventListener("abort", end);
  });

/**
 * `promise`'s value, or `undefined` as soon as `signal` aborts (the caller looks at it); its
 * listener goes either way. A refresh's wait, cut short by the caller or `dispose()`.
 */
const until = (promise, signal) =>
  new Promise((done, fail) => {
    const end = () => signal.removeEventListener("abort", stop);
    const stop = () => (end(), done());
    signal.addEventListener("abort", stop);
    if (signal.aborted) stop();
    promise.then((value) => (end(), done(value)), (error) => (end(), fail(error)));
  });

/**
 * One authorised call: attempts until `step` says an answer is the call's. `mode`: 0 JSON,
 * resolving with the result `step` makes of it; 1 JSON, resolving with the answer; 2 raw (`input`
 * a URL or a template request), resolving with its `Response` once the headers are in; 3 the
 * same through `/proxy`; 4 raw, resolving with a success's answer once its headers are in, a
 * refusal read whole and made an error by `step(4)`; 5 raw, any answer read whole and made the
 * result by `step(4)`. `step(2)`: the token, a promise to wait for before asking again (a
 * refresh), or the error the call rejects with; `step(3, outcome)` after each attempt:
 * `undefined` (the answer is the call's), a wait in ms before the next, whether to send again (a
 * 401's: at once, or a promise of it once the refresh is over), or the error the call rejects
 * with; `step(4, answer)`: a JSON call's result; `step(0)` lets go of the call.
 */
export async function call(step, mode, input, method, body, type, dispose, caller, ms) {
  const signal = caller ? AbortSignal.any([dispose, caller]) : dispose;
  try {
    for (;;) {
      let bearer;
      // A promise: a refresh to wait for, then the token is asked for again.
      while (typeof (bearer = checked(step(2))) != "string") {
        await until(bearer, signal);
        if (signal.aborted) throw step(3, dispose.aborted ? 1 : 2);
      }
      // Each attempt leaves its caller's stack first (one microtask). With DevTools attached (an
      // app's developer, or Playwright in bench/run.mjs) Chromium records the JS stack behind
      // every request, ~4 µs a frame: from the views through the wasm it cost +0.07 ms a call.
      await null;
      let outcome;
      try {
        outcome = await (mode < 2
          ? send(method, input, bearer, body, type, dispose, caller, ms, !mode)
          : raw(input, method, body, type, bearer, dispose, caller, ms, mode == 3));
      } catch (code) {
        outcome = code;
      }
      let next = checked(step(3, outcome));
      if (typeof next == "number" || next instanceof Promise) {
        // A wait (ms), or a 401's refresh to wait for (whether to send again).
        next = await (typeof next == "number" ? pause(next, signal).then(() => true) : until(next, signal));
        if (signal.aborted) throw step(3, dispose.aborted ? 1 : 2);
      }
      if (!next) {
        if (mode > 3) {
          // 5: a success's body read too (an upload's result); cut short by an abort or dispose.
          if (mode == 4 && outcome.response.ok) return outcome;
          const answer = await reply(outcome.response, 2);
          if (mode > 4 && signal.aborted) throw step(3, dispose.aborted ? 1 : 2);
          return checked(step(4, answer));
        }
        return mode ? (mode > 1 ? outcome.response : outcome) : checked(step(4, outcome));
      }
    }
  } finally {
    step(0);
  }
}

// `Retry-After` for the wasm, which reads delay-seconds only: an HTTP date (it ends in "GMT")
// becomes the whole seconds until it, 0 once past, by the browser's `Date.parse`; anything else
// goes as it came (and the wasm takes it as absent).
function retryAfter(headers) {
  const value = headers.get("retry-after") ?? undefined;
  const at = /GMT\s*$/.test(value) ? Date.parse(value) : NaN;
  return Number.isNaN(at) ? value : String(Math.max(0, Math.ceil((at - Date.now()) / 1000)));
}

// One attempt of a JSON call. Resolves with { status, retryAfter, requestId, text, parsed, value,
// success }; rejects with a number saying what ended the attempt: 1 the client was disposed,
// 2 the caller aborted, 3 the deadline passed, 0 anything else (network error, CORS refusal).
function send(method, url, bearer, body, type, dispose, caller, ms, parse) {
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
        retryAfter: retryAfter(response.headers),
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

// A raw call's request, made once and cloned per attempt (`raw`): `rt.fetch(path, init)` with
// the proxy's target header when given, or the upload's body. Throws when `init` is not valid.
export function template(url, init, proxy) {
  const request = init !== null && typeof init === "object" ? new Request(url, init) : new Request(url);
  if (proxy !== undefined) request.headers.set("X-Oblien-Proxy-Target", proxy);
  return request;
}

// What a raw answer says: { response, status, retryAfter, requestId, text }; `text` is read only
// when `read` asks (1: a copy of the body, the caller keeps it; 2: the body), else "".
export async function reply(response, read) {
  const headers = response.headers;
  let text = "";
  if (read) {
    try {
      text = await (read === 1 ? response.clone() : response).text();
    } catch {
      // Read as empty, as the wasm did.
    }
  }
  return {
    response,
    status: response.status,
    retryAfter: retryAfter(headers),
    requestId: headers.get("x-request-id") ?? undefined,
    text,
  };
}

// One attempt of a raw call, in one crossing: `input` a template (cloned: any body) or a URL
// (a request built from `method`, `body` and its `type`), with the bearer; `ms` bounds the wait
// for the headers, and the body stays tied to `dispose`, `caller` and the reply's own `abort`
// (an AbortController: a stream's connection ends with it). Resolves with a `reply` once the
// headers are in (`proxied`: a 401's body read from a copy, for the wasm to tell the
// gateway's refusal from the app's own 401); rejects with a number as `send` does.
function raw(input, method, body, type, bearer, dispose, caller, ms, proxied) {
  const deadline = new AbortController();
  const own = new AbortController();
  const timer = setTimeout(() => deadline.abort(), ms);
  const signals = [dispose, own.signal, deadline.signal];
  if (caller) signals.push(caller);
  const signal = AbortSignal.any(signals);
  const authorization = `Bearer ${bearer}`;
  let request;
  try {
    if (typeof input === "string") {
      const headers = { Authorization: authorization };
      if (type) headers["Content-Type"] = type;
      request = new Request(input, { method, headers, body, mode: "cors", credentials: "omit", signal });
    } else {
      request = new Request(input.clone(), { signal });
      request.headers.set("Authorization", authorization);
    }
  } catch {
    clearTimeout(timer);
    return Promise.reject(0);
  }
  return fetch(request).then(
    (response) => {
      clearTimeout(timer);
      return reply(response, proxied && response.status === 401 ? 1 : 0).then((answer) => {
        answer.abort = own;
        return answer;
      });
    },
    () => {
      clearTimeout(timer);
      throw dispose.aborted ? 1 : caller?.aborted ? 2 : deadline.signal.aborted ? 3 : 0;
    },
  );
}

// The size of an upload's body (a Blob, an ArrayBuffer or a Uint8Array), or -1 for anything else.
export function bodySize(body) {
  return body instanceof Blob ? body.size : body instanceof ArrayBuffer || body instanceof Uint8Array ? body.byteLength : -1;
}

// `transfer`'s `onProgress`, when given (a throwing callback is the host's bug: ignored).
export function progress(callback, phase, loadedBytes, total) {
  if (!callback) return;
  const report = { phase, loadedBytes };
  if (total > 0) {
    report.totalBytes = total;
    report.percent = Math.min((loadedBytes / total) * 100, 100);
  }
  try {
    callback.call(null, report);
  } catch {
    // Ignored.
  }
}

// A download's body kept chunk by chunk, with progress (`Content-Length` for the total when
// sent), then as one Blob of the response's type.
export function download(response, callback) {
  const chunks = [];
  let loaded = 0;
  const length = parseFloat(response.headers.get("content-length"));
  const total = Number.isFinite(length) ? length : undefined;
  return {
    push(chunk) {
      loaded += chunk.length;
      progress(callback, "download", loaded, total);
      chunks.push(chunk);
    },
    blob() {
      return new Blob(chunks.splice(0), { type: response.headers.get("content-type") ?? "application/gzip" });
    },
  };
}

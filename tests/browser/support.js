// Helpers shared by the browser test files (client.test.js, runtime.test.js): the emulator's
// address and the test-only admin key from the page's query string, admin calls, tenants and
// tokens, fault injection, the runner's request log, client construction and error assertions.
// The admin key is for the TESTS only; no client is ever given it.
import init, { OblienUserClient, isOblienError } from "/pkg/oblien_user_client.js";
import { afterEach, assert, AssertionError, eq, sleep } from "./harness.js";

const params = new URLSearchParams(location.search);
export const API = params.get("api");
export const GATEWAY = params.get("gateway");
export const ADMIN_ID = params.get("clientId");
export const ADMIN_SECRET = params.get("clientSecret");

/** Every token minted by the tests (for the leak checks), and every OblienError seen. */
export const minted = [];
export const seenErrors = [];

let initialised = null;
/** init() of the package, once however many test files ask. */
export function setupPackage() {
  if (!API || !ADMIN_ID || !ADMIN_SECRET) throw new Error("open me with ?api=&gateway=&clientId=&clientSecret=");
  initialised ??= init();
  return initialised;
}

// ---- emulator helpers (admin key: test-only) -------------------------------------------------

export async function admin(method, path, body) {
  const headers = { "X-Client-ID": ADMIN_ID, "X-Client-Secret": ADMIN_SECRET };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(API + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON
  }
  if (res.status >= 300) throw new Error(`admin ${method} ${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return json;
}

export const runId = Math.random().toString(36).slice(2, 7);
let nsCount = 0;
/** A fresh namespace (tenant); returns its slug. */
export async function tenant(label = "tenant") {
  const body = await admin("POST", "/namespaces", { name: `${label}-${runId}-${++nsCount}` });
  return body.data.slug;
}

export function remember(token) {
  minted.push(token);
  window.__testSecret?.(token);
  return token;
}

export async function mint(namespace, { ttl = 600, label } = {}) {
  const body = await admin("POST", "/tokens", { scope: "namespace", namespace, ttl, ...(label ? { label } : {}) });
  assert(typeof body.token === "string" && body.token.startsWith("eyJ"), "POST /tokens returned a JWT");
  return remember(body.token);
}

export async function mintWorkspace(workspaceId, { ttl = 600 } = {}) {
  const body = await admin("POST", "/tokens", { scope: "workspace", workspaceId, ttl });
  return remember(body.token);
}

export async function fault(spec) {
  return (await admin("POST", "/__emulator/faults", spec)).fault;
}

export async function activeFaults() {
  return (await admin("GET", "/__emulator/faults")).faults;
}

afterEach(async () => {
  await admin("DELETE", "/__emulator/faults");
  await admin("PUT", "/__emulator/rate-limit", { requests: null });
});

/** A position in the runner's request log. */
export async function netMark() {
  if (typeof window.__testNetMark !== "function") throw new AssertionError("request log needs tests/browser/run.mjs");
  return window.__testNetMark();
}
/**
 * The client's requests since `mark` (recorded by the runner), the tests' own admin calls left out:
 * `{ listener: "api" | "gateway", method, path, search, bearer, apiKey }`.
 */
export async function clientRequestsSince(mark) {
  return (await window.__testNetSince(mark)).filter((r) => !r.admin);
}
/** The client's requests to the API under /workspace since `mark`. */
export async function netSince(mark) {
  return (await clientRequestsSince(mark)).filter((r) => r.listener === "api" && r.path.startsWith("/workspace"));
}
/** The client's requests to the gateway since `mark`. */
export async function gatewaySince(mark) {
  return (await clientRequestsSince(mark)).filter((r) => r.listener === "gateway");
}
/**
 * Whether `text` contains a token the runner watches: those the tests minted, and every bearer
 * token the page sent (the gateway tokens the client minted itself, which the page never sees).
 */
export async function containsSecret(text) {
  if (typeof window.__testContainsSecret !== "function") throw new AssertionError("the secret watch needs tests/browser/run.mjs");
  return window.__testContainsSecret(String(text));
}

// ---- client helpers -------------------------------------------------------------------------

/** A client on the emulator, disposed after the test. */
export function client(t, options) {
  const c = new OblienUserClient({ baseUrl: API, gatewayUrl: GATEWAY, ...options });
  t.defer(() => c.dispose());
  return c;
}

export function payloadOf(token) {
  const p = token.split(".")[1];
  return JSON.parse(atob(p.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((p.length + 3) % 4)));
}

export const b64url = (s) => btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
export function fakeJwt(payload) {
  const body = typeof payload === "string" ? payload : JSON.stringify(payload);
  return `${b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }))}.${b64url(body)}.c2lnbmF0dXJl`;
}

export function checkError(e, expected, what) {
  seenErrors.push(e);
  // Logged on purpose: the runner fails the run if a console line shows a token.
  console.log(`${what}: rejected ${e && e.code} (${e && e.status}): ${e && e.message}`);
  assert(e instanceof Error, `${what}: the rejection is an Error (got ${String(e)})`);
  eq(e.name, "OblienError", `${what}: error.name`);
  assert(isOblienError(e), `${what}: isOblienError(error)`);
  assert(typeof e.message === "string" && e.message.length > 0, `${what}: error has a message`);
  for (const [key, value] of Object.entries(expected)) {
    if (value instanceof RegExp) assert(value.test(String(e[key])), `${what}: error.${key} ${JSON.stringify(e[key])} matches ${value}`);
    else eq(e[key], value, `${what}: error.${key} (message: ${e.message})`);
  }
  return e;
}

/** Awaits `promise`, which must reject with an OblienError matching `expected`. */
export async function rejects(promise, expected, what = "call") {
  let value;
  try {
    value = await promise;
  } catch (e) {
    return checkError(e, expected, what);
  }
  throw new AssertionError(`${what}: expected a rejection ${JSON.stringify(expected)}, got ${JSON.stringify(value)?.slice(0, 200)}`);
}

/** `fn()` must throw synchronously an OblienError matching `expected`. */
export function throws(fn, expected, what = "call") {
  let value;
  try {
    value = fn();
  } catch (e) {
    return checkError(e, expected, what);
  }
  throw new AssertionError(`${what}: expected a throw ${JSON.stringify(expected)}, got ${String(value)}`);
}

/** A refresh callback that mints a new token for `namespace` and records what it was asked. */
export function recordingRefresh(namespace, { ttl = 600, delayMs = 0 } = {}) {
  const calls = [];
  const refresh = async (ctx) => {
    calls.push({ reason: ctx.reason, tokenInfo: ctx.tokenInfo, signal: ctx.signal, at: performance.now() });
    if (delayMs) await sleep(delayMs);
    return mint(namespace, { ttl });
  };
  return { calls, refresh };
}

/** Polls `condition` every 20 ms until it holds; fails after `timeoutMs`. */
export async function waitFor(condition, what, timeoutMs = 3000) {
  const end = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > end) throw new AssertionError(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** Waits until the wall clock is past the token's own `exp` (plus `extraMs`). */
export async function untilExpired(token, extraMs = 100) {
  const wait = payloadOf(token).exp * 1000 + extraMs - Date.now();
  if (wait > 0) await sleep(wait);
}


/** Errors the page reports (uncaught, unhandled rejections) while `body` runs, and `settleMs` after. */
export async function pageErrorsDuring(body, settleMs = 300) {
  const errors = [];
  const onError = (e) => errors.push(String(e.error?.stack ?? e.message));
  const onRejection = (e) => errors.push(`unhandled rejection: ${e.reason?.stack ?? e.reason}`);
  addEventListener("error", onError);
  addEventListener("unhandledrejection", onRejection);
  try {
    await body();
    await sleep(settleMs);
  } finally {
    removeEventListener("error", onError);
    removeEventListener("unhandledrejection", onRejection);
  }
  return errors;
}

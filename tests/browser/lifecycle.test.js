// Workspace lifecycle and internal API access (issue 14) through the built package's JS API:
// `client.workspaces.start|stop|restart|stats(id)` and `client.workspaces.apiAccess.status|enable|
// disable|rotateToken|reconnect(id)`, against the emulator, cross-origin. Gateway tokens never
// reach the page: results come back without their `token`, the runner watches every bearer token
// the page sends (`containsSecret`), and the handles of a workspace switch to a token the client
// received with no 401 round trip (the request log shows it). The admin key is used only to create
// namespaces and tokens, read the server's state and inject faults.
import { AssertionError, assert, between, deepEq, eq, sleep, test } from "./harness.js";
import {
  admin, client, clientRequestsSince, containsSecret, fault, gatewaySince, mint, mintWorkspace, netMark, netSince,
  rejects, setupPackage, tenant, waitFor,
} from "./support.js";

export async function setup() {
  await setupPackage();
}

// ---- helpers --------------------------------------------------------------------------------

const ACCESS = /^\/workspace\/[^/]+\/(?:runtime|internal)-api-access(\/.*)?$/;
/** The client's internal API access calls among `requests`, e.g. ["GET", "POST /enable"]. */
const accessCalls = (requests) =>
  requests.filter((r) => ACCESS.test(r.path)).map((r) => `${r.method} ${ACCESS.exec(r.path)[1] ?? ""}`.trim());
/** "METHOD path" of requests, API and gateway alike (the listener first). */
const shown = (requests) => requests.map((r) => `${r.listener} ${r.method} ${r.path}`);
/** The admin's view of a workspace's internal API server. */
const serverAccess = (id) => admin("GET", `/workspace/${id}/internal-api-access`);

/** A tenant, a client with its namespace token, a new workspace and its runtime (ready). */
async function freshRuntime(t, label = "life") {
  const ns = await tenant(label);
  const c = client(t, { token: await mint(ns) });
  const ws = await c.workspaces.create({ image: "node-20" });
  const rt = await c.workspaces.runtime(ws.id);
  eq((await rt.health()).status, "ok", "health of the fresh runtime (the runner now watches its gateway token)");
  return { ns, c, ws, rt };
}

/** A result handed back without a gateway token: no `token` key, no JWT, no watched token. */
async function tokenFree(result, what) {
  assert(result && typeof result === "object", `${what}: an object (got ${JSON.stringify(result)})`);
  assert(!("token" in result), `${what}: no token key in ${JSON.stringify(result)}`);
  const text = JSON.stringify(result);
  assert(!/eyJ/.test(text), `${what}: no JWT in ${text}`);
  eq(await containsSecret(text), false, `${what}: a watched token in ${text}`);
}

/** Rejects within `maxMs` (a retried 503 would take over a second: 300 + 900 ms of back-off). */
async function rejectsFast(promise, expected, what, maxMs = 700) {
  const t0 = performance.now();
  const e = await rejects(promise, expected, what);
  between(performance.now() - t0, 0, maxMs, `${what}: ms until it rejected`);
  return e;
}

// ---- start / stop / restart / stats -----------------------------------------------------------

test("lifecycle: stop → runtime calls reject workspace_not_running at once (no retry, no re-mint); start → runtime() waits, the same handle works", async (t) => {
  const { c, ws, rt } = await freshRuntime(t);
  await rt.files.write({ path: "/app/keep.txt", content: "kept" });

  let mark = await netMark();
  const stopped = await c.workspaces.stop(ws.id);
  eq(stopped.id, ws.id, "stop() resolves with the Workspace: id");
  eq(stopped.status, "stopped", "stop(): status");
  eq(stopped.ready, false, "stop(): ready");
  assert(!("success" in stopped) && !("workspace" in stopped), `stop() resolves with the Workspace, not the envelope: ${JSON.stringify(stopped)}`);
  deepEq(shown(await clientRequestsSince(mark)), [`api POST /workspace/${ws.id}/stop`], "requests of stop()");

  mark = await netMark();
  const expected = { code: "workspace_not_running", status: 503, retryAfter: 1 };
  await rejectsFast(rt.health(), expected, "health of a stopped workspace");
  await rejectsFast(rt.files.read({ path: "/app/keep.txt" }), expected, "files.read of a stopped workspace");
  await rejectsFast(rt.files.list({ path: "/app" }), expected, "files.list of a stopped workspace");
  await rejectsFast(rt.exec.run(["true"]), expected, "exec.run of a stopped workspace");
  const raw = await rt.fetch("/health");
  eq(raw.status, 503, "rt.fetch resolves with the gateway's 503");
  eq((await raw.json()).code, "workspace_not_running", "rt.fetch body code");
  eq((await gatewaySince(mark)).length, 5, "gateway requests (one each: a 503 workspace_not_running is never retried)");
  deepEq(accessCalls(await netSince(mark)), [], "access calls (a stopped workspace is no reason to re-mint)");
  eq((await c.workspaces.get(ws.id)).status, "stopped", "get() after stop");
  const stats = await c.workspaces.stats(ws.id);
  eq(stats.success, true, "stats() as sent: success");
  eq(stats.stats.running, false, "stats of a stopped workspace: running");

  // stop twice: the server's answer, nothing local.
  eq((await c.workspaces.stop(ws.id)).status, "stopped", "a second stop()");

  mark = await netMark();
  const started = await c.workspaces.start(ws.id);
  eq(started.id, ws.id, "start() resolves with the Workspace: id");
  assert(["creating", "running"].includes(started.status), `start(): status ${started.status}`);
  eq(started.ready, false, "start(): not ready yet (the emulator boots in 1.5 s)");
  const t0 = performance.now();
  const again = await c.workspaces.runtime(ws.id);
  between(performance.now() - t0, 500, 6000, "ms until runtime() resolved after start()");
  eq(again.workspaceId, ws.id, "runtime() after start");
  eq((await rt.health()).status, "ok", "the first handle works again");
  eq((await rt.files.read({ path: "/app/keep.txt" })).content, "kept", "the workspace's files survived the stop");
  eq((await again.exec.run(["echo", "up"])).stdout, "up\n", "the new handle works");
  deepEq(accessCalls(await netSince(mark)), [], "access calls after start (the gateway token is still good)");
  const running = await c.workspaces.stats(ws.id);
  eq(running.stats.running, true, "stats of a running workspace: running");
  eq(running.stats.workspace_id, ws.id, "stats: workspace_id");
});

test("lifecycle: restart → calls reject workspace_not_running until it runs again; runtime() waits; start() of a running workspace changes nothing", async (t) => {
  const { c, ws, rt } = await freshRuntime(t);
  const same = await c.workspaces.start(ws.id);
  eq(same.status, "running", "start() of a running workspace");
  eq(same.ready, true, "start() of a running workspace: ready");
  eq((await rt.health()).status, "ok", "health after a no-op start");

  const restarted = await c.workspaces.restart(ws.id);
  eq(restarted.id, ws.id, "restart() resolves with the Workspace");
  eq(restarted.ready, false, "restart(): booting");
  await rejectsFast(rt.files.list({ path: "/app" }), { code: "workspace_not_running", status: 503 }, "files.list during the restart");
  await c.workspaces.runtime(ws.id);
  eq((await rt.health()).status, "ok", "health after the restart");
});

// ---- apiAccess: results without tokens, handles with the new one ------------------------------

test("apiAccess: status; rotateToken and reconnect come back without a token and the handles use the new one at once (no 401); another client's token is revoked", async (t) => {
  const { ns, c, ws, rt } = await freshRuntime(t);
  const other = client(t, { token: await mint(ns) });
  const otherRt = await other.workspaces.runtime(ws.id);
  eq((await otherRt.health()).status, "ok", "another client's handle before the rotation");

  const status = await c.workspaces.apiAccess.status(ws.id);
  eq(status.success, true, "status().success");
  eq(status.enabled, true, "status().enabled");
  eq(status.running, true, "status().running");
  await tokenFree(status, "status()");

  for (const method of ["rotateToken", "reconnect"]) {
    let mark = await netMark();
    const result = await c.workspaces.apiAccess[method](ws.id);
    eq(result.success, true, `${method}().success`);
    deepEq(shown(await clientRequestsSince(mark)), [`api POST /workspace/${ws.id}/runtime-api-access${method === "reconnect" ? "/reconnect" : "/token"}`], `${method}(): requests`);

    mark = await netMark();
    eq((await rt.files.read({ path: "/app/README.md" })).content.startsWith("# Workspace"), true, `read after ${method}()`);
    eq((await rt.exec.run(["pwd"])).stdout, "/app\n", `exec after ${method}()`);
    deepEq(shown(await clientRequestsSince(mark)), ["gateway GET /files/read", "gateway POST /exec"], `requests after ${method}() (no 401, no mint)`);
    // The new token has now been sent, so the runner watches it: the result never showed it.
    await tokenFree(result, `${method}()`);

    // The other client held a token of the old connection token: refused once, re-minted, replayed.
    mark = await netMark();
    eq((await otherRt.health()).status, "ok", `the other client after ${method}()`);
    deepEq(shown(await gatewaySince(mark)), ["gateway GET /health", "gateway GET /health"], `the other client's gateway requests after ${method}() (401, replay)`);
    deepEq(accessCalls(await netSince(mark)), ["GET", "GET /token"], `the other client's re-mint after ${method}()`);
  }
});

test("apiAccess.enable on an enabled server: no token in the result, the handle takes the new token (no mint)", async (t) => {
  const { c, ws, rt } = await freshRuntime(t);
  const mark = await netMark();
  const result = await c.workspaces.apiAccess.enable(ws.id);
  eq(result.success, true, "enable().success");
  eq(result.enabled, true, "enable().enabled");
  eq((await rt.health()).status, "ok", "health after enable()");
  deepEq(shown(await clientRequestsSince(mark)), [`api POST /workspace/${ws.id}/runtime-api-access/enable`, "gateway GET /health"], "requests (no mint)");
  await tokenFree(result, "enable()");
});

// ---- apiAccess.disable: nothing of this client enables the server again until enable ---------

test("apiAccess.disable: runtime calls and runtime() reject internal_api_disabled with no request (no re-enable); enable() restores the same handle with no mint", async (t) => {
  const { ns, c, ws, rt } = await freshRuntime(t);

  let mark = await netMark();
  const result = await c.workspaces.apiAccess.disable(ws.id);
  eq(result.success, true, "disable().success");
  eq(result.enabled, false, "disable().enabled");
  await tokenFree(result, "disable()");
  eq(rt.tokenInfo, null, "the handle's gateway token is dropped with the disable");

  const expected = { code: "internal_api_disabled", status: 403 };
  await rejects(rt.health(), expected, "health after disable");
  await rejects(rt.files.read({ path: "/app/README.md" }), expected, "files.read after disable");
  await rejects(rt.exec.run(["true"]), expected, "exec.run after disable");
  await rejects(rt.fetch("/health"), expected, "rt.fetch after disable");
  await rejects(c.workspaces.runtime(ws.id), expected, "workspaces.runtime() after disable (it would enable the server)");
  await sleep(1200); // past the back-off of the refusals: still refused, still nothing sent
  await rejects(rt.health(), expected, "health a while later");
  deepEq(shown(await clientRequestsSince(mark)), [`api POST /workspace/${ws.id}/runtime-api-access/disable`], "requests since disable (no mint, no enable, no gateway call)");
  eq((await serverAccess(ws.id)).enabled, false, "the server stays disabled");

  // status() is allowed, and other calls of the workspace are unaffected.
  eq((await c.workspaces.apiAccess.status(ws.id)).enabled, false, "status() after disable");
  eq((await c.workspaces.stats(ws.id)).stats.running, true, "stats() after disable");
  // A token swap (same tenant) is not the app's enable.
  c.setToken(await mint(ns));
  await rejects(rt.health(), expected, "health after a setToken");

  mark = await netMark();
  const enabled = await c.workspaces.apiAccess.enable(ws.id);
  eq(enabled.enabled, true, "enable().enabled");
  eq((await rt.health()).status, "ok", "the same handle after enable()");
  deepEq(shown(await clientRequestsSince(mark)), [`api POST /workspace/${ws.id}/runtime-api-access/enable`, "gateway GET /health"], "requests after enable (the token it returned, no mint)");
  await tokenFree(enabled, "enable()");
  const rt2 = await c.workspaces.runtime(ws.id);
  eq((await rt2.health()).status, "ok", "a new runtime() after enable");
  deepEq(accessCalls(await netSince(mark)), ["POST /enable"], "access calls after enable");
});

test("apiAccess.disable binds this client only: another client's runtime() enables the server as the SDK does; this one still refuses until its enable()", async (t) => {
  const { ns, c, ws, rt } = await freshRuntime(t);
  await c.workspaces.apiAccess.disable(ws.id);
  const other = client(t, { token: await mint(ns) });
  const mark = await netMark();
  const otherRt = await other.workspaces.runtime(ws.id);
  deepEq(accessCalls(await netSince(mark)), ["GET", "POST /enable"], "the other client's runtime() enables the server");
  eq((await otherRt.health()).status, "ok", "the other client's handle");
  await rejects(rt.health(), { code: "internal_api_disabled", status: 403 }, "this client still refuses");
  await c.workspaces.apiAccess.enable(ws.id);
  eq((await rt.health()).status, "ok", "this client after its enable()");
});

test("apiAccess.disable the server refuses changes nothing; while it is in flight, no call of this client enables the server", async (t) => {
  const { c, ws, rt } = await freshRuntime(t);
  await fault({ kind: "status", status: 500, path: `/workspace/${ws.id}/runtime-api-access/disable`, method: "POST", times: 1, body: { success: false, code: "internal_error", message: "boom" } });
  await rejects(c.workspaces.apiAccess.disable(ws.id), { code: "internal_error", status: 500 }, "a refused disable");
  eq((await rt.health()).status, "ok", "the handle after a refused disable");

  // A slow disable: calls made meanwhile are refused already (the app's choice is recorded first).
  await fault({ kind: "latency", path: `/workspace/${ws.id}/runtime-api-access/disable`, method: "POST", times: 1, latency_ms: 800 });
  const disabling = c.workspaces.apiAccess.disable(ws.id);
  disabling.catch(() => {}); // awaited below; no unhandled rejection if an assertion fails first
  await sleep(100);
  await rejects(c.workspaces.runtime(ws.id), { code: "internal_api_disabled", status: 403 }, "runtime() while the disable is in flight");
  eq((await disabling).enabled, false, "the slow disable");
  eq((await serverAccess(ws.id)).enabled, false, "the server is disabled");
});

// ---- with an open socket (a terminal) --------------------------------------------------------

/**
 * Waits for the socket to close; on a timeout the failure says where the connection stood and
 * what the client sent meanwhile (a rare CI failure of these tests left only "timed out").
 */
async function closedBy(rt, mark, what, timeoutMs) {
  try {
    await waitFor(() => rt.connection.state === "closed", what, timeoutMs);
  } catch (error) {
    const requests = shown(await clientRequestsSince(mark));
    throw new AssertionError(`${error.message}; connection ${rt.connection.state} (${rt.connection.error?.code ?? "no error"}); requests since: ${requests}`);
  }
}

/** A terminal on `rt` and everything it prints, as text. */
async function terminal(rt) {
  const term = await rt.terminals.create();
  const decoder = new TextDecoder();
  const out = { text: "" };
  term.onData((bytes) => (out.text += decoder.decode(bytes, { stream: true })));
  await waitFor(() => out.text.includes("$ "), "the prompt");
  eq(rt.connection.state, "open", "the socket is open");
  return { term, out };
}

test("apiAccess.reconnect with an open terminal: the socket comes back on the token reconnect() returned (no mint, no 401), output once", async (t) => {
  const { c, ws, rt } = await freshRuntime(t);
  const { term, out } = await terminal(rt);
  for (const method of ["reconnect", "rotateToken"]) {
    const mark = await netMark();
    const result = await c.workspaces.apiAccess[method](ws.id);
    await waitFor(() => rt.connection.state !== "open", `the socket closed by ${method}()`, 2000);
    await waitFor(() => rt.connection.state === "open", `back after ${method}()`, 3000);
    term.write(`echo after-${method}\r`);
    await waitFor(() => out.text.includes(`after-${method}\r\nafter-${method}`), `output after ${method}()`);
    eq(out.text.split(`after-${method}\r\nafter-${method}`).length - 1, 1, `output after ${method}() once`);
    deepEq(accessCalls(await netSince(mark)), [method === "reconnect" ? "POST /reconnect" : "POST /token"], `access calls (the socket reopened on the returned token, no mint)`);
    const gateway = await gatewaySince(mark);
    // The probe before the new socket, then the terminal's catch-up; a 401 anywhere would have re-minted.
    assert(gateway.every((r) => r.path === "/health" || /^\/terminals\/[^/]+\/scrollback$/.test(r.path)), `gateway requests: ${shown(gateway)}`);
    eq(gateway.filter((r) => r.path === "/health").length, 1, `one /health probe before the new socket: ${shown(gateway)}`);
    await tokenFree(result, `${method}()`);
  }
  await term.close();
}, { timeoutMs: 20_000 });

test("workspaces.stop with an open terminal: the socket ends with workspace_not_running at once; start → a new terminal works", async (t) => {
  const { c, ws, rt } = await freshRuntime(t);
  await terminal(rt);
  const mark = await netMark();
  const t0 = performance.now();
  await c.workspaces.stop(ws.id);
  await closedBy(rt, mark, "the socket closed after stop()", 3000);
  // The first reconnect attempt comes within 0.5 s and its /health probe is answered at once; a
  // retried 503 would add 0.9–1.5 s of back-off.
  between(performance.now() - t0, 0, 1100, "ms until the socket ended (no retried probe)");
  eq(rt.connection.error?.code, "workspace_not_running", "connection.error");
  await c.workspaces.start(ws.id);
  const rt2 = await c.workspaces.runtime(ws.id); // waits until it runs
  const again = await terminal(rt2);
  again.term.write("echo back\r");
  await waitFor(() => again.out.text.includes("back\r\nback"), "output after the start");
  await again.term.close();
}, { timeoutMs: 20_000 });

test("apiAccess.disable with an open terminal: the socket ends with internal_api_disabled, nothing re-enables the server", async (t) => {
  const { c, ws, rt } = await freshRuntime(t);
  await terminal(rt);
  const mark = await netMark();
  await c.workspaces.apiAccess.disable(ws.id);
  await closedBy(rt, mark, "the socket closed after disable()", 6000);
  eq(rt.connection.error?.code, "internal_api_disabled", "connection.error");
  await sleep(1000);
  deepEq(accessCalls(await netSince(mark)), ["POST /disable"], "access calls (no mint, no enable)");
  eq((await gatewaySince(mark)).filter((r) => r.path === "/ws").length, 0, "no new socket");
  eq((await serverAccess(ws.id)).enabled, false, "the server stays disabled");
});

// ---- scope, options, abort -------------------------------------------------------------------

test("a workspace-scoped token: every lifecycle and apiAccess call for its own workspace; another workspace → scope_denied, nothing sent", async (t) => {
  const owner = client(t, { token: await mint(await tenant("life")) });
  const [own, other] = await Promise.all([owner.workspaces.create({ image: "node-20" }), owner.workspaces.create({ image: "node-20" })]);
  const w = client(t, { token: await mintWorkspace(own.id) });
  const calls = (ws) => ({
    start: (id) => ws.start(id), stop: (id) => ws.stop(id), restart: (id) => ws.restart(id), stats: (id) => ws.stats(id),
    "apiAccess.status": (id) => ws.apiAccess.status(id), "apiAccess.enable": (id) => ws.apiAccess.enable(id),
    "apiAccess.disable": (id) => ws.apiAccess.disable(id), "apiAccess.rotateToken": (id) => ws.apiAccess.rotateToken(id),
    "apiAccess.reconnect": (id) => ws.apiAccess.reconnect(id),
  });

  // Were anything sent for the other workspace, it would answer 418.
  await fault({ kind: "status", status: 418, path: `/workspace/${other.id}*`, times: 20, body: { success: false, code: "request_was_sent", message: "sent" } });
  const mark = await netMark();
  for (const [name, call] of Object.entries(calls(w.workspaces))) {
    await rejects(call(other.id), { code: "scope_denied", status: 403 }, `${name} of another workspace`);
  }
  eq((await clientRequestsSince(mark)).length, 0, "requests sent for another workspace");

  // Its own workspace: all of them.
  await owner.workspaces.runtime(own.id); // ready
  const rt = await w.workspaces.runtime(own.id);
  eq((await w.workspaces.stats(own.id)).stats.workspace_id, own.id, "stats of its own workspace");
  eq((await w.workspaces.apiAccess.status(own.id)).enabled, true, "status of its own workspace");
  await tokenFree(await w.workspaces.apiAccess.rotateToken(own.id), "rotateToken of its own workspace");
  await tokenFree(await w.workspaces.apiAccess.reconnect(own.id), "reconnect of its own workspace");
  eq((await rt.health()).status, "ok", "its runtime after the rotations");
  eq((await w.workspaces.apiAccess.disable(own.id)).enabled, false, "disable of its own workspace");
  eq((await w.workspaces.apiAccess.enable(own.id)).enabled, true, "enable of its own workspace");
  eq((await w.workspaces.stop(own.id)).status, "stopped", "stop of its own workspace");
  eq((await w.workspaces.start(own.id)).id, own.id, "start of its own workspace");
  eq((await w.workspaces.restart(own.id)).id, own.id, "restart of its own workspace");
});

test("cross-tenant: lifecycle and apiAccess calls on another tenant's workspace are refused by the server (403), no gateway token minted", async (t) => {
  const a = client(t, { token: await mint(await tenant("a")) });
  const b = client(t, { token: await mint(await tenant("b")) });
  const wsB = await b.workspaces.create({ image: "node-20" });
  const mark = await netMark();
  await rejects(a.workspaces.stop(wsB.id), { status: 403 }, "A stops B's workspace");
  await rejects(a.workspaces.stats(wsB.id), { status: 403 }, "A reads B's stats");
  await rejects(a.workspaces.apiAccess.rotateToken(wsB.id), { status: 403 }, "A rotates B's token");
  await rejects(a.workspaces.apiAccess.disable(wsB.id), { status: 403 }, "A disables B's server");
  eq((await gatewaySince(mark)).length, 0, "gateway requests");
  eq((await b.workspaces.get(wsB.id)).status !== "stopped", true, "B's workspace was not stopped");
  await b.workspaces.runtime(wsB.id);
  eq((await serverAccess(wsB.id)).enabled, true, "B's server is enabled (A's disable did nothing)");
  await rejects(a.workspaces.apiAccess.status("ws_does_not_exist"), { code: "not_found", status: 404 }, "an unknown workspace");
});

test("options: errors name the call and the option; a caller's signal aborts before and during the request", async (t) => {
  const c = client(t, { token: await mint(await tenant("life")) });
  const mark = await netMark();
  const cases = [
    [() => c.workspaces.stop(42), /workspaces\.stop\(id, options\): id must be a workspace id string/],
    [() => c.workspaces.start("ws_x", 5), /workspaces\.start\(id, options\): options must be an object, not a number/],
    [() => c.workspaces.restart("ws_x", { signal: "no" }), /workspaces\.restart\(id, options\): options\.signal must be an AbortSignal/],
    [() => c.workspaces.stats(""), /workspaces\.stats\(id, options\): id must be a workspace id string/],
    [() => c.workspaces.apiAccess.status(null), /apiAccess\.status\(id, options\): id must be a workspace id string/],
    [() => c.workspaces.apiAccess.enable("ws_x", [1]), /apiAccess\.enable\(id, options\): options must be an object, not an array/],
    [() => c.workspaces.apiAccess.disable("ws_x", { signal: {} }), /apiAccess\.disable\(id, options\): options\.signal must be an AbortSignal/],
    [() => c.workspaces.apiAccess.rotateToken(undefined), /apiAccess\.rotateToken\(id, options\): id must be a workspace id string/],
    [() => c.workspaces.apiAccess.reconnect("ws_x", "x"), /apiAccess\.reconnect\(id, options\): options must be an object, not a string/],
  ];
  for (const [call, message] of cases) await rejects(call(), { code: "invalid_options", message }, String(message));
  await rejects(c.workspaces.stop("ws_x", { signal: AbortSignal.abort() }), { code: "aborted" }, "a pre-aborted stop");
  await rejects(c.workspaces.apiAccess.rotateToken("ws_x", { signal: AbortSignal.abort() }), { code: "aborted" }, "a pre-aborted rotateToken");
  eq((await clientRequestsSince(mark)).length, 0, "requests for refused calls");

  const ws = await c.workspaces.create({ image: "node-20" });
  await fault({ kind: "latency", path: `/workspace/${ws.id}/stats`, method: "GET", times: 1, latency_ms: 1500 });
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 200);
  const t0 = performance.now();
  await rejects(c.workspaces.stats(ws.id, { signal: controller.signal }), { code: "aborted" }, "stats aborted in flight");
  between(performance.now() - t0, 100, 1000, "ms until the aborted stats rejected");
});

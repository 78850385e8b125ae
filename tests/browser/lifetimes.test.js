// Lifetimes, timers and the device clock at the edges where Rust meets the page (issue "sound
// edges"): a handle outlives its client object, the last handle ends the session, gateway tokens
// are renewed only for calls, an abort leaves nothing behind, a fast device clock is harmless,
// option errors name the option and the rule. The runner starts Chromium with --expose-gc and fails
// the run on any page error or unhandled rejection.
import { OblienUserClient } from "/pkg/oblien_user_client.js";
import { assert, AssertionError, between, eq, sleep, test } from "./harness.js";
import {
  admin, API, client, clientRequestsSince, fault, GATEWAY, mint, netMark, recordingRefresh, rejects, setupPackage,
  tenant, throws, pageErrorsDuring,
} from "./support.js";

export async function setup() {
  await setupPackage();
  if (typeof window.gc !== "function") throw new Error("window.gc is missing: Chromium needs --js-flags=--expose-gc");
}

/**
 * Collects garbage until every WeakRef of `refs` is empty, then lets FinalizationRegistry
 * callbacks run. Each collection starts a job of its own: `deref()` keeps its target alive until
 * the end of the job that called it.
 */
async function collect(refs, what) {
  for (let i = 0; i < 50; i++) {
    await sleep(0);
    window.gc();
    await sleep(20);
    if (refs.every((r) => r.deref() === undefined)) return gcRounds(5);
  }
  throw new AssertionError(`${what} was not collected`);
}

/** A few rounds of garbage collection and the tasks that follow (finalizers run then). */
async function gcRounds(rounds = 10) {
  for (let i = 0; i < rounds; i++) {
    await sleep(0);
    window.gc();
    await sleep(20);
  }
}


const options = (token, more = {}) => ({ token, baseUrl: API, gatewayUrl: GATEWAY, ...more });

// ---- 1. handles and the client object ----------------------------------------------------------

test("lifetime: workspaces and a runtime outlive their client object after garbage collection", async () => {
  const ns = await tenant("gc");
  const token = await mint(ns);
  let c = new OblienUserClient(options(token));
  const workspaces = c.workspaces;
  const created = await workspaces.create({ image: "node-20" });
  const rt = await workspaces.runtime(created.id);
  const ref = new WeakRef(c);
  c = null;
  await collect([ref], "the client object");
  eq((await workspaces.list()).total, 1, "workspaces.list() after the client object was collected");
  eq((await rt.health()).status, "ok", "runtime.health() after the client object was collected");
  // `new OblienUserClient(opts).workspaces` in one expression, as the issue reproduced it.
  const orphan = new OblienUserClient(options(token)).workspaces;
  await gcRounds();
  eq((await orphan.list()).total, 1, "a handle of a never-named client");
});

test("lifetime: free(), [Symbol.dispose]() and dispose() end the session for every handle", async () => {
  const ns = await tenant("free");
  const token = await mint(ns);
  for (const end of ["free", "Symbol.dispose", "dispose"]) {
    const c = new OblienUserClient(options(token));
    const workspaces = c.workspaces;
    eq((await workspaces.list()).total, 0, `${end}: list before`);
    if (end === "free") c.free();
    else if (end === "Symbol.dispose") c[Symbol.dispose]();
    else c.dispose();
    await rejects(workspaces.list(), { code: "disposed" }, `${end}: list through the handle`);
  }
  // `using` (explicit resource management) disposes at the end of the block.
  let handle;
  {
    using c = new OblienUserClient(options(token));
    handle = c.workspaces;
    eq((await handle.list()).total, 0, "list inside the using block");
  }
  await rejects(handle.list(), { code: "disposed" }, "list after the using block");
});

test("lifetime: when the client and every handle are collected, its refresh timer ends with them", async () => {
  const ns = await tenant("lasthandle");
  // A 4 s token: the timer refreshes 1 s before expiry.
  const kept = recordingRefresh(ns, { ttl: 60 });
  const keptClient = new OblienUserClient(options(await mint(ns, { ttl: 4 }), { refresh: kept.refresh }));
  const dropped = recordingRefresh(ns, { ttl: 60 });
  let c = new OblienUserClient(options(await mint(ns, { ttl: 4 }), { refresh: dropped.refresh }));
  let handle = c.workspaces;
  const refs = [new WeakRef(c), new WeakRef(handle)];
  c = null;
  handle = null;
  await collect(refs, "the client and its handle");
  await sleep(4000);
  eq(dropped.calls.length, 0, "refresh calls of the collected client");
  assert(kept.calls.length >= 1, "the live client was refreshed (the timer works)");
  keptClient.dispose();
});

// ---- 2. gateway tokens only for calls ----------------------------------------------------------

test("gateway tokens: no background renewal for a live runtime; after delete, no request at all", async (t) => {
  await admin("PUT", "/__emulator/gateway-token-ttl", { seconds: 4 });
  t.defer(() => admin("PUT", "/__emulator/gateway-token-ttl", { seconds: 3600 }));
  const ns = await tenant("gwtimer");
  const c = client(t, { token: await mint(ns) });
  const a = await c.workspaces.create({ image: "node-20" });
  const b = await c.workspaces.create({ image: "node-20" });
  const rtA = await c.workspaces.runtime(a.id);
  const rtB = await c.workspaces.runtime(b.id);
  await rtA.health();
  await rtB.health();
  await c.workspaces.delete(b.id);
  const mark = await netMark();
  // Past the gateway tokens' renewal point (3 s) and expiry (4 s): nobody calls, nobody asks.
  await sleep(5500);
  const background = await clientRequestsSince(mark);
  eq(background.length, 0, `background requests: ${background.map((r) => `${r.method} ${r.path}`).join(", ")}`);
  // A call needs a token: it mints one first, then goes.
  eq((await rtA.health()).status, "ok", "health after the gateway token expired");
  const sent = await clientRequestsSince(mark);
  assert(sent.some((r) => /api-access\/token$/.test(r.path)), "the call minted first");
  // The deleted workspace's runtime: its call is refused by the server, and that is all.
  await rejects(rtB.health(), { status: 404 }, "health of a deleted workspace");
  const afterRefusal = await netMark();
  await sleep(1500);
  eq((await clientRequestsSince(afterRefusal)).length, 0, "requests after the refused mint");
});

// ---- 3. abort leaves nothing behind -----------------------------------------------------------

test("abort: during a retried GET and during a refresh wait, nothing fires afterwards (no page error)", async (t) => {
  const ns = await tenant("abort");
  const token = await mint(ns);
  const errors = await pageErrorsDuring(async () => {
    // A GET the client retries (503 twice) with a short timeout; abort in the back-off.
    await fault({ kind: "status", status: 503, path: "/workspace", method: "GET", times: 3 });
    const c = client(t, { token, timeoutMs: 400 });
    const ac = new AbortController();
    const call = c.workspaces.list({ signal: ac.signal });
    await sleep(120);
    ac.abort();
    await rejects(call, { code: "aborted" }, "aborted in the retry back-off");
    // Aborted and disposed while an attempt is on the wire (after a 503 and a retry).
    await admin("DELETE", "/__emulator/faults");
    await fault({ kind: "status", status: 503, path: "/workspace", method: "GET", times: 1 });
    await fault({ kind: "latency", latency_ms: 600, path: "/workspace", method: "GET", times: 5 });
    const ac1 = new AbortController();
    const wire = client(t, { token, timeoutMs: 1000 });
    const onWire = wire.workspaces.list({ signal: ac1.signal });
    await sleep(700); // past the first 503 and the back-off: the retry is on the wire
    ac1.abort();
    await rejects(onWire, { code: "aborted" }, "aborted on the wire");
    const c1 = client(t, { token, timeoutMs: 1000 });
    const onWire2 = c1.workspaces.list();
    await sleep(150);
    c1.dispose();
    await rejects(onWire2, { code: "disposed" }, "disposed on the wire");
    // A call waiting for a slow refresh (expired token), aborted and then disposed.
    const expired = await mint(ns, { ttl: 1 });
    await sleep(1200);
    const slow = recordingRefresh(ns, { delayMs: 800 });
    const c2 = client(t, { token: expired, refresh: slow.refresh, timeoutMs: 300 });
    const ac2 = new AbortController();
    const waiting = c2.workspaces.list({ signal: ac2.signal });
    await sleep(100);
    ac2.abort();
    await rejects(waiting, { code: "aborted" }, "aborted while waiting for the refresh");
    const waiting2 = c2.workspaces.list();
    await sleep(50);
    c2.dispose();
    await rejects(waiting2, { code: "disposed" }, "disposed while waiting for the refresh");
    // Abort at every await point of runtime(): mint, provisioning wait.
    const c3 = client(t, { token });
    const ws = await c3.workspaces.create({ image: "node-20" });
    for (const delay of [0, 5, 30, 200]) {
      const ac3 = new AbortController();
      const p = c3.workspaces.runtime(ws.id, { signal: ac3.signal });
      await sleep(delay);
      ac3.abort();
      await p.then(() => {}, (e) => eq(e.code, "aborted", `runtime() aborted after ${delay} ms`));
    }
  }, 1500);
  eq(errors.length, 0, `page errors: ${errors.join(" | ")}`);
});

// ---- 4. a fast device clock --------------------------------------------------------------------

test("device clock 20 min fast: the constructor, setToken and refreshes take fresh tokens; no storm", async (t) => {
  const ns = await tenant("fastclock");
  const realNow = Date.now;
  Date.now = () => realNow.call(Date) + 20 * 60_000;
  t.defer(() => {
    Date.now = realNow;
  });
  const fresh = await mint(ns, { ttl: 900 });
  const c = client(t, { token: fresh });
  between(c.tokenInfo.expiresIn, 895, 900, "expiresIn counts from receipt");
  eq((await c.workspaces.list()).total, 0, "list");
  const info = c.setToken(await mint(ns, { ttl: 900 }));
  between(info.expiresIn, 895, 900, "setToken(fresh) expiresIn");
  eq((await c.workspaces.list()).total, 0, "list after setToken");
  // With a refresh callback: at most one host call at start (the device clock calls the token
  // expired; the host's answer is judged by the server alone), then none.
  const { calls, refresh } = recordingRefresh(ns, { ttl: 900 });
  const c2 = client(t, { token: await mint(ns, { ttl: 900 }), refresh });
  for (let i = 0; i < 5; i++) eq((await c2.workspaces.list()).total, 0, `list ${i}`);
  assert(calls.length <= 1, `host calls: ${calls.length}`);
  const r = await c2.workspaces.list();
  eq(r.total, 0);
  assert(calls.length <= 1, `host calls after more calls: ${calls.length}`);
});

// ---- 6. option errors --------------------------------------------------------------------------

test("option errors name the call, the option and the rule", async (t) => {
  const ns = await tenant("opts");
  const c = client(t, { token: await mint(ns) });
  const cases = [
    [() => c.workspaces.get("ws_x", 5), /workspaces\.get\(id, options\): options must be an object, not a number/],
    [() => c.workspaces.get("ws_x", "x"), /options must be an object, not a string/],
    [() => c.workspaces.get("ws_x", [1]), /options must be an object, not an array/],
    [() => c.workspaces.get("ws_x", { signal: 1 }), /options\.signal must be an AbortSignal/],
    [() => c.workspaces.get(42), /workspaces\.get\(id, options\): id must be a workspace id string/],
    [() => c.workspaces.list({ page: 0 }), /options\.page must be a positive integer/],
    [() => c.workspaces.list({ limit: 1.5 }), /options\.limit must be a positive integer/],
    [() => c.workspaces.list({ status: 3 }), /options\.status must be a string/],
    [() => c.workspaces.create(null), /workspaces\.create\(params, options\): params must be an object/],
  ];
  for (const [call, message] of cases) await rejects(call(), { code: "invalid_options", message }, String(message));
  const token = await mint(ns);
  throws(() => new OblienUserClient(options(token, { timeoutMs: -1 })), { code: "invalid_options", message: /options\.timeoutMs must be a positive number/ }, "timeoutMs");
  throws(() => new OblienUserClient(options(token, { refresh: "no" })), { code: "invalid_options", message: /options\.refresh must be a function/ }, "refresh");
  throws(() => new OblienUserClient(options(token, { baseUrl: "ftp://x" })), { code: "invalid_options", message: /options\.baseUrl must be an http\(s\) URL string/ }, "baseUrl");
});

// ---- 7. token info types -----------------------------------------------------------------------

test("tokenInfo: the session's scope is never 'gateway'; the runtime's token info is the gateway's", async (t) => {
  const ns = await tenant("scopes");
  const c = client(t, { token: await mint(ns) });
  eq(c.tokenInfo.scope, "namespace");
  const ws = await c.workspaces.create({ image: "node-20" });
  const rt = await c.workspaces.runtime(ws.id);
  eq(rt.tokenInfo.scope, "gateway");
  eq(rt.tokenInfo.workspaceId, ws.id);
  assert(rt.tokenInfo.expiresAt instanceof Date, "expiresAt is a Date");
  assert(!("namespace" in rt.tokenInfo), "a gateway token info has no namespace");
});

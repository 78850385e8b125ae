// The built package (pkg/, optimised wasm) driven through its public JS API against the emulator,
// cross-origin, as an app would. The admin key in the query string is for the TESTS only (minting
// namespaces and tokens, injecting faults); no client is ever given it. Shared helpers: support.js.
import { OblienUserClient, isOblienError, version } from "/pkg/oblien_user_client.js";
import { assert, between, deepEq, eq, nextTask, sleep, test } from "./harness.js";
import {
  activeFaults, admin, API, ADMIN_SECRET, b64url, checkError, client, fakeJwt, fault, mint, minted, mintWorkspace,
  netMark, netSince, payloadOf, recordingRefresh, rejects, remember, seenErrors, setupPackage, tenant, throws,
  untilExpired, waitFor,
} from "./support.js";

export async function setup() {
  await setupPackage();
}

// ---- the module -----------------------------------------------------------------------------

test("module: named exports and version() of the built package", async () => {
  eq(typeof OblienUserClient, "function", "typeof OblienUserClient");
  eq(typeof isOblienError, "function", "typeof isOblienError");
  const pkg = await (await fetch("/pkg/package.json")).json();
  eq(version(), pkg.version, "version()");
  assert(new URL(API).origin !== location.origin, "the page is cross-origin to the API");
});

// ---- constructor refusals -------------------------------------------------------------------

test("constructor: API keys in the options are refused with secret_not_allowed", async () => {
  const ns = await tenant();
  const token = await mint(ns);
  const secret = "csk_never_in_a_message_0123456789";
  const cases = {
    clientId: { token, clientId: "cid_abc" },
    clientSecret: { token, clientSecret: secret },
    "X-Client-Secret": { token, "X-Client-Secret": secret },
    "X-Client-ID": { token, "X-Client-ID": "cid_abc" },
    client_secret: { token, client_secret: secret },
    "headers X-Client-ID": { token, headers: { "X-Client-ID": "cid_abc" } },
    "headers x-client-secret": { token, headers: { "x-client-secret": secret } },
    "no token, just keys": { clientId: "cid_abc", clientSecret: secret },
  };
  for (const [name, options] of Object.entries(cases)) {
    const e = throws(() => new OblienUserClient({ baseUrl: API, ...options }), { code: "secret_not_allowed" }, name);
    assert(!e.message.includes(secret), `${name}: the message does not echo the secret`);
  }
});

test("constructor: non-JWT tokens are refused with invalid_token", async () => {
  const hex64 = Array.from(crypto.getRandomValues(new Uint8Array(32)), (b) => b.toString(16).padStart(2, "0")).join("");
  const future = Math.floor(Date.now() / 1000) + 600;
  const cases = {
    "64-hex raw token": hex64,
    "random string": "not-a-token-at-all",
    "two parts": `${b64url("{}")}.${b64url("{}")}`,
    "JWT without exp": fakeJwt({ scope: "namespace", namespace: "acme", iat: future - 600 }),
    "payload not JSON": fakeJwt("this is not json"),
    "payload a JSON array": fakeJwt("[1,2,3]"),
    "exp not a number": fakeJwt({ scope: "namespace", namespace: "acme", exp: "tomorrow" }),
    "no scope claim": fakeJwt({ exp: future }),
    "empty string": "",
    "a number": 12345,
    "missing": undefined,
  };
  for (const [name, token] of Object.entries(cases)) {
    throws(() => new OblienUserClient({ token, baseUrl: API }), { code: "invalid_token" }, name);
  }
});

test("constructor: bad option types are refused with invalid_options", async () => {
  const token = await mint(await tenant());
  throws(() => new OblienUserClient(), { code: "invalid_options" }, "no options");
  throws(() => new OblienUserClient(token), { code: "invalid_options" }, "a bare string");
  throws(() => new OblienUserClient({ token, baseUrl: "ftp://example.com" }), { code: "invalid_options" }, "ftp baseUrl");
  throws(() => new OblienUserClient({ token, timeoutMs: -5 }), { code: "invalid_options" }, "negative timeoutMs");
  throws(() => new OblienUserClient({ token, refresh: "yes" }), { code: "invalid_options" }, "refresh not a function");
  throws(() => new OblienUserClient({ token, onTokenChange: 1 }), { code: "invalid_options" }, "onTokenChange not a function");
});

test("expired token: the device clock never refuses it (the server judges: 401 token_expired without refresh); with refresh the first calls refresh ONCE with reason 'expired'", async (t) => {
  const ns = await tenant();
  // `valid` first: its `iat` must not be past `expired`'s `exp`, or `setToken(expired)` below is
  // proven expired by server time (the held token's `iat`) and refused, as it should be. Minted
  // second, it straddled a second boundary now and then (a flake seen in `make test`).
  const valid = await mint(ns);
  const expired = await mint(ns, { ttl: 1 });
  // Past `exp` by the server's whole-second clock (it refuses `exp < now` in seconds).
  await untilExpired(expired, 1100);

  // The device clock may be wrong: the constructor takes the token and the server refuses it.
  const c1 = client(t, { token: expired });
  await rejects(c1.workspaces.list(), { code: "token_expired", status: 401 }, "list with an expired token and no refresh");

  // setToken(expired) is taken too (the server judges); setToken(valid) recovers.
  const c0 = client(t, { token: valid });
  eq((await c0.workspaces.list()).total, 0, "list with the valid token");
  c0.setToken(expired);
  await rejects(c0.workspaces.list(), { code: "token_expired", status: 401 }, "list after setToken(expired)");
  c0.setToken(valid);
  eq((await c0.workspaces.list()).total, 0, "list after setToken(valid)");

  // With a refresh callback: 20 concurrent first calls share one refresh.
  const { calls, refresh } = recordingRefresh(ns, { delayMs: 200 });
  const changes = [];
  const c = client(t, { token: expired, refresh, onTokenChange: (info) => changes.push(info) });
  const results = await Promise.all(Array.from({ length: 20 }, () => c.workspaces.list()));
  eq(calls.length, 1, "refresh callback calls");
  eq(calls[0].reason, "expired", "ctx.reason");
  eq(calls[0].tokenInfo.namespace, ns, "ctx.tokenInfo.namespace");
  assert(calls[0].signal instanceof AbortSignal, "ctx.signal is an AbortSignal");
  for (const r of results) eq(r.total, 0, "list total");
  await nextTask();
  eq(changes.length, 1, "onTokenChange calls");
  between(changes[0].expiresIn, 590, 600, "new token expiresIn");

  // A failing refresh for an expired token: token_expired, and onRefreshError tells why.
  const errors = [];
  const c2 = client(t, { token: expired, refresh: () => Promise.reject(new Error("backend down")), onRefreshError: (e) => errors.push(e) });
  await rejects(c2.workspaces.list(), { code: "token_expired" }, "list with a failing refresh");
  await nextTask();
  assert(errors.length >= 1, "onRefreshError fired");
  checkError(errors[0], { code: "refresh_failed" }, "onRefreshError argument");
});

// ---- tokenInfo ------------------------------------------------------------------------------

test("tokenInfo: scope, namespace, label, issuedAt, expiresAt, expiresIn; JSON.stringify shows no token", async (t) => {
  const ns = await tenant();
  const token = await mint(ns, { ttl: 600, label: "user-session-42" });
  const claims = payloadOf(token);
  const c = client(t, { token });
  const info = c.tokenInfo;
  eq(info.scope, "namespace", "scope");
  eq(info.namespace, ns, "namespace");
  eq(info.label, "user-session-42", "label");
  eq(info.workspaceId, undefined, "workspaceId");
  assert(info.issuedAt instanceof Date, "issuedAt is a Date");
  eq(info.issuedAt.getTime(), claims.iat * 1000, "issuedAt");
  assert(info.expiresAt instanceof Date, "expiresAt is a Date");
  between(info.expiresAt.getTime() - Date.now(), 598_000, 600_500, "expiresAt - now (ms)");
  between(info.expiresIn, 598, 600, "expiresIn");
  assert(!("token" in info), "tokenInfo carries no token");

  const json = JSON.stringify(c);
  assert(!json.includes(token), "JSON.stringify(client) has no token");
  assert(!json.includes(token.split(".")[2]), "JSON.stringify(client) has no signature");
  assert(json.includes(ns), `JSON.stringify(client) shows the claims: ${json}`);
  assert(!String(c).includes(token) && !Object.values(c).some((v) => String(v).includes(token)), "no own property shows the token");
  console.log("client", c, json);
});

// ---- workspaces -----------------------------------------------------------------------------

test("workspaces: create is forced into the token's namespace; list, get, delete", async (t) => {
  const ns = await tenant();
  const other = await tenant("other");
  const c = client(t, { token: await mint(ns) });
  eq((await c.workspaces.list()).total, 0, "empty namespace");

  const ws = await c.workspaces.create({ image: "node-20", name: "my-app", namespace: other, mode: "temporary", config: { cpus: 2, memory_mb: 2048 } });
  assert(/^ws_/.test(ws.id), `workspace id ${ws.id}`);
  eq(ws.namespace, ns, "created workspace's namespace (params.namespace names another)");
  eq(ws.name, "my-app", "name");
  eq(ws.image, "node-20", "image");
  eq(ws.mode, "temporary", "mode");
  eq(ws.resources.cpus, 2, "resources.cpus");
  eq(ws.resources.memory_mb, 2048, "resources.memory_mb");

  const list = await c.workspaces.list();
  eq(list.total, 1, "total");
  eq(list.page, 1, "page");
  eq(list.limit, 20, "limit");
  deepEq(list.workspaces.map((w) => w.id), [ws.id], "listed ids");
  eq(list.workspaces[0].namespace, ns, "listed namespace");

  const got = await c.workspaces.get(ws.id);
  eq(got.id, ws.id, "get id");
  eq(got.namespace, ns, "get namespace");

  const deleted = await c.workspaces.delete(ws.id);
  eq(deleted.success, true, "delete success");
  await rejects(c.workspaces.get(ws.id), { code: "not_found", status: 404, requestId: /^req_/ }, "get after delete");
  eq((await c.workspaces.list()).total, 0, "total after delete");
});

test("workspaces: list paging, status filter, local validation sends nothing, server validation passes through", async (t) => {
  const ns = await tenant();
  const c = client(t, { token: await mint(ns) });
  const ids = [];
  for (let i = 0; i < 3; i++) ids.push((await c.workspaces.create({ image: "python-3.12" })).id);

  const mark = await netMark();
  const page1 = await c.workspaces.list({ page: 1, limit: 2 });
  const page2 = await c.workspaces.list({ page: 2, limit: 2 });
  deepEq(page1.workspaces.map((w) => w.id), [ids[2], ids[1]], "page 1 (newest first)");
  deepEq(page2.workspaces.map((w) => w.id), [ids[0]], "page 2");
  eq(page1.total, 3, "total");
  eq(page2.page, 2, "page");
  eq((await c.workspaces.list({ status: "no-such-status" })).total, 0, "status filter");
  deepEq((await netSince(mark)).map((r) => r.search), ["?page=1&limit=2", "?page=2&limit=2", "?status=no-such-status"], "query strings sent");

  const mark2 = await netMark();
  await rejects(c.workspaces.list({ limit: 0 }), { code: "invalid_options" }, "limit 0");
  await rejects(c.workspaces.list({ signal: "nope" }), { code: "invalid_options" }, "signal not an AbortSignal");
  await rejects(c.workspaces.create({ name: "no image" }), { code: "validation_error" }, "create without image");
  await rejects(c.workspaces.get(""), { code: "invalid_options" }, "get('')");
  eq((await netSince(mark2)).length, 0, "requests sent for locally invalid calls");

  await rejects(c.workspaces.create({ image: "node-20", config: { cpus: 1000 } }), { code: "validation_error", status: 400 }, "server-side validation");
});

test("isolation: tenant A's token cannot read, delete or list tenant B's workspace (scope_denied 403)", async (t) => {
  const nsA = await tenant("a");
  const nsB = await tenant("b");
  const a = client(t, { token: await mint(nsA) });
  const b = client(t, { token: await mint(nsB) });
  const wsB = await b.workspaces.create({ image: "node-20" });
  const wsA = await a.workspaces.create({ image: "node-20" });

  await rejects(a.workspaces.get(wsB.id), { code: "scope_denied", status: 403, requestId: /^req_/ }, "A gets B's workspace");
  await rejects(a.workspaces.delete(wsB.id), { code: "scope_denied", status: 403 }, "A deletes B's workspace");
  eq((await b.workspaces.get(wsB.id)).id, wsB.id, "B's workspace still exists");
  deepEq((await a.workspaces.list()).workspaces.map((w) => w.id), [wsA.id], "A lists only its own");
  deepEq((await b.workspaces.list()).workspaces.map((w) => w.id), [wsB.id], "B lists only its own");
});

// ---- setToken -------------------------------------------------------------------------------

test("setToken: tenant swap; later calls use the new token; onTokenChange fires after setToken returns", async (t) => {
  const nsA = await tenant("a");
  const nsB = await tenant("b");
  const tokenA = await mint(nsA);
  const tokenB = await mint(nsB, { label: "tenant-b" });
  const seedB = client(t, { token: tokenB });
  const b1 = await seedB.workspaces.create({ image: "node-20" });
  const b2 = await seedB.workspaces.create({ image: "node-20" });

  const changes = [];
  let reentrant = null;
  const c = client(t, {
    token: tokenA,
    onTokenChange: (info) => {
      changes.push(info);
      // Calling back into the client from the event must work (no deadlock, no borrow panic).
      reentrant = { info: c.tokenInfo, list: c.workspaces.list() };
    },
  });
  const wsA = await c.workspaces.create({ image: "node-20" });
  deepEq((await c.workspaces.list()).workspaces.map((w) => w.id), [wsA.id], "A's list before the swap");

  const info = c.setToken(tokenB);
  eq(changes.length, 0, "onTokenChange calls before setToken returned");
  eq(info.namespace, nsB, "setToken's TokenInfo namespace");
  eq(info.label, "tenant-b", "setToken's TokenInfo label");
  eq(c.tokenInfo.namespace, nsB, "tokenInfo after setToken");
  await nextTask();
  eq(changes.length, 1, "onTokenChange calls");
  eq(changes[0].namespace, nsB, "onTokenChange info.namespace");
  assert(changes[0].expiresAt instanceof Date, "onTokenChange info.expiresAt is a Date");
  deepEq((await c.workspaces.list()).workspaces.map((w) => w.id).sort(), [b1.id, b2.id].sort(), "list after the swap shows B's workspaces");
  eq(reentrant.info.namespace, nsB, "tokenInfo read inside onTokenChange");
  eq((await reentrant.list).total, 2, "list started inside onTokenChange");
  await rejects(c.workspaces.get(wsA.id), { code: "scope_denied", status: 403 }, "A's workspace after the swap");

  // A bad token is refused and the current one kept.
  throws(() => c.setToken("garbage"), { code: "invalid_token" }, "setToken(garbage)");
  throws(() => c.setToken("ab".repeat(32)), { code: "invalid_token" }, "setToken(64-hex)");
  eq(c.tokenInfo.namespace, nsB, "tokenInfo after refused setToken");
  eq((await c.workspaces.list()).total, 2, "list after refused setToken");
  await nextTask();
  eq(changes.length, 1, "no onTokenChange for refused tokens");
});

// ---- refresh --------------------------------------------------------------------------------

test("refresh lifecycle: timer refresh at the default margin, ONCE under 50 concurrent calls, reason 'expiring'", async (t) => {
  const ns = await tenant();
  const token = await mint(ns, { ttl: 6 }); // default margin = min(60, 6/4) = 1.5 s → due at 4.5 s
  const { calls, refresh } = recordingRefresh(ns, { ttl: 60, delayMs: 600 });
  const changes = [];
  const errors = [];
  const t0 = performance.now();
  const c = client(t, { token, refresh, onTokenChange: (i) => changes.push(i), onRefreshError: (e) => errors.push(e) });
  const oldExpiry = c.tokenInfo.expiresAt.getTime();
  eq((await c.workspaces.list()).total, 0, "first list");
  eq(calls.length, 0, "no refresh while fresh");

  await sleep(4500 - 200 - (performance.now() - t0));
  eq(calls.length, 0, "no refresh before the margin");
  await waitFor(() => calls.length > 0, "the timer's refresh", 1500);
  await sleep(50);
  eq(calls.length, 1, "the timer started one refresh inside the margin");
  eq(calls[0].reason, "expiring", "ctx.reason");
  between(calls[0].at - t0, 4300, 5300, "refresh start (ms after construction)");

  // 50 calls inside the margin while the host callback is still working: they use the current
  // token and share the one refresh.
  const mark = await netMark();
  const results = await Promise.all(Array.from({ length: 50 }, () => c.workspaces.list()));
  for (const r of results) eq(r.total, 0, "concurrent list total");
  eq((await netSince(mark)).length, 50, "requests for 50 calls");
  await waitFor(() => changes.length > 0, "onTokenChange after the refresh");
  await sleep(100);
  eq(calls.length, 1, "refresh callback calls after 50 concurrent calls");
  eq(changes.length, 1, "onTokenChange calls");
  eq(errors.length, 0, "onRefreshError calls");
  between(changes[0].expiresIn, 58, 60, "refreshed expiresIn");
  assert(c.tokenInfo.expiresAt.getTime() > oldExpiry + 30_000, "tokenInfo shows the refreshed token");

  // Past the first token's deadline, calls go on with the refreshed one and no new refresh.
  await sleep(Math.max(0, oldExpiry + 300 - Date.now()));
  eq((await c.workspaces.list()).total, 0, "list after the first token expired");
  eq(calls.length, 1, "refresh callback calls at the end");
}, { timeoutMs: 20_000 });

test("refresh failures: throw / non-string / bad token / rejection → onRefreshError refresh_failed, token kept until it expires, then token_expired", async (t) => {
  const ns = await tenant();
  const kinds = {
    throws: () => {
      throw new Error(`backend down for ${current.throws}`); // a token in the message must not leak
    },
    "non-string": () => 42,
    "object": async () => ({ token: "x" }),
    "bad token": async () => "not-a-jwt",
    rejects: () => Promise.reject(new Error("HTTP 500 from my backend")),
  };
  const current = {};
  const clients = {};
  const t0 = performance.now();
  for (const [kind, fn] of Object.entries(kinds)) {
    const token = await mint(ns, { ttl: 4 });
    current[kind] = token;
    const rec = { calls: [], errors: [], created: performance.now() };
    rec.client = client(t, {
      token,
      refreshMarginSeconds: 1.9, // due 2.1 s after receipt
      refresh: (ctx) => {
        rec.calls.push({ reason: ctx.reason, at: performance.now() });
        return fn(ctx);
      },
      onRefreshError: (e) => rec.errors.push(e),
    });
    rec.expiresAt = rec.client.tokenInfo.expiresAt.getTime();
    clients[kind] = rec;
  }
  await sleep(2700 - (performance.now() - t0));
  for (const [kind, rec] of Object.entries(clients)) {
    assert(rec.calls.length >= 1, `${kind}: the refresh callback was called`);
    eq(rec.calls[0].reason, "expiring", `${kind}: reason`);
    between(rec.calls[0].at - rec.created, 1950, 2650, `${kind}: first refresh (ms after construction; margin 1.9 s of 4 s)`);
    assert(rec.errors.length >= 1, `${kind}: onRefreshError fired`);
    for (const e of rec.errors) {
      checkError(e, { code: "refresh_failed" }, `${kind}: onRefreshError`);
      assert(!e.message.includes(current[kind]), `${kind}: the error message has no token`);
    }
    eq((await rec.client.workspaces.list()).total, 0, `${kind}: list with the kept token`);
    eq(rec.client.tokenInfo.expiresAt.getTime(), rec.expiresAt, `${kind}: tokenInfo unchanged`);
  }
  // Past the deadline: token_expired; and the failures were backed off, not retried in a loop.
  await sleep(Math.max(...Object.values(clients).map((r) => r.expiresAt)) + 200 - Date.now());
  for (const [kind, rec] of Object.entries(clients)) {
    await rejects(rec.client.workspaces.list(), { code: "token_expired" }, `${kind}: list after expiry`);
    between(rec.calls.length, 1, 4, `${kind}: refresh callback calls in ~2 s of failures`);
  }
}, { timeoutMs: 20_000 });

test("refresh hangs: calls keep the current token, wait once it expires, and dispose() rejects them and aborts ctx.signal", async (t) => {
  const ns = await tenant();
  const token = await mint(ns, { ttl: 2 });
  const calls = [];
  const c = client(t, {
    token,
    refreshMarginSeconds: 0.9, // due 1.1 s after receipt
    refresh: (ctx) => {
      calls.push(ctx);
      return new Promise(() => {}); // never settles
    },
  });
  const deadline = c.tokenInfo.expiresAt.getTime();
  await waitFor(() => calls.length > 0, "the refresh");
  eq(calls.length, 1, "refresh started");
  eq(calls[0].reason, "expiring", "reason");
  const t1 = performance.now();
  eq((await c.workspaces.list()).total, 0, "list during the hanging refresh");
  assert(performance.now() - t1 < 1000, "the list did not wait for the hanging refresh");

  await sleep(Math.max(0, deadline + 150 - Date.now()));
  let settled = false;
  const pending = c.workspaces.list().finally(() => (settled = true));
  await sleep(300);
  eq(settled, false, "a call after expiry waits for the refresh");
  eq(calls.length, 1, "still one refresh callback call");
  assert(!calls[0].signal.aborted, "ctx.signal not aborted yet");
  c.dispose();
  await rejects(pending, { code: "disposed" }, "the waiting call after dispose()");
  assert(calls[0].signal.aborted, "ctx.signal aborted by dispose()");
});

test("dispose(): an in-flight call rejects 'disposed'; afterwards nothing works and the host is never called", async (t) => {
  const ns = await tenant();
  const token = await mint(ns, { ttl: 2 });
  let refreshes = 0;
  const events = [];
  const c = client(t, {
    token,
    refreshMarginSeconds: 0.9,
    refresh: () => {
      refreshes++;
      return mint(ns);
    },
    onTokenChange: () => events.push("change"),
    onRefreshError: () => events.push("error"),
  });
  await fault({ kind: "latency", path: "/workspace", method: "GET", latency_ms: 1500 });
  const t0 = performance.now();
  const inflight = c.workspaces.list();
  await sleep(150);
  c.dispose();
  await rejects(inflight, { code: "disposed" }, "in-flight list");
  between(performance.now() - t0, 100, 900, "ms until the in-flight call rejected");

  await rejects(c.workspaces.list(), { code: "disposed" }, "list after dispose");
  await rejects(c.workspaces.create({ image: "node-20" }), { code: "disposed" }, "create after dispose");
  throws(() => c.tokenInfo, { code: "disposed" }, "tokenInfo after dispose");
  throws(() => c.setToken(token), { code: "disposed" }, "setToken after dispose");
  c.dispose(); // twice is fine
  eq(JSON.stringify(c), "null", "JSON.stringify(disposed client)");
  window.dispatchEvent(new Event("online"));
  window.dispatchEvent(new Event("pageshow"));
  await sleep(2300 - (performance.now() - t0)); // past the refresh due time and the deadline
  eq(refreshes, 0, "refresh callback calls after dispose");
  deepEq(events, [], "events after dispose");
});

// ---- 401 ------------------------------------------------------------------------------------

const UNAUTHORIZED = { kind: "status", status: 401, path: "/workspace", method: "GET" };

test("401: refresh once with reason 'unauthorized' and replay once; the call succeeds", async (t) => {
  const ns = await tenant();
  const token = await mint(ns);
  const { calls, refresh } = recordingRefresh(ns);
  const changes = [];
  const c = client(t, { token, refresh, onTokenChange: (i) => changes.push(i) });
  await fault({ ...UNAUTHORIZED, times: 1, body: { success: false, error: "authentication_error", code: "authentication_error", message: "Token revoked" } });
  const mark = await netMark();
  eq((await c.workspaces.list()).total, 0, "list total");
  deepEq(calls.map((x) => x.reason), ["unauthorized"], "refresh reasons");
  const sent = await netSince(mark);
  eq(sent.length, 2, "requests (original + one replay)");
  await nextTask();
  eq(changes.length, 1, "onTokenChange calls");
});

test("401 twice: one refresh, one replay, then rejects with the server's 401", async (t) => {
  const ns = await tenant();
  const { calls, refresh } = recordingRefresh(ns);
  const c = client(t, { token: await mint(ns), refresh });
  await fault({ ...UNAUTHORIZED, times: 2, body: { success: false, error: "token_revoked", code: "token_revoked", message: "Revoked" } });
  const mark = await netMark();
  await rejects(c.workspaces.list(), { code: "token_revoked", status: 401, message: "Revoked" }, "list");
  eq(calls.length, 1, "refresh callback calls");
  eq((await netSince(mark)).length, 2, "requests");
  eq((await c.workspaces.list()).total, 0, "the next call works");
  eq(calls.length, 1, "no further refresh");
});

test("401 without a refresh callback rejects at once; a forged token gets the server's 401", async (t) => {
  const ns = await tenant();
  const c = client(t, { token: await mint(ns) });
  await fault({ ...UNAUTHORIZED, times: 2 });
  const mark = await netMark();
  await rejects(c.workspaces.list(), { code: "authentication_error", status: 401 }, "list");
  eq((await netSince(mark)).length, 1, "requests");

  const now = Math.floor(Date.now() / 1000);
  const forged = fakeJwt({ scope: "namespace", namespace: ns, iat: now, exp: now + 600 });
  remember(forged);
  const f = client(t, { token: forged });
  eq(f.tokenInfo.namespace, ns, "a well-formed token is accepted locally");
  const e = await rejects(f.workspaces.list(), { status: 401 }, "list with a forged token");
  assert(/^[a-z_]+$/.test(e.code) && e.code !== "server_error", `server code passed through: ${e.code}`);
});

test("401 when the refresh returns the same token: no replay (the token did not change)", async (t) => {
  const ns = await tenant();
  const token = await mint(ns);
  const reasons = [];
  const c = client(t, { token, refresh: (ctx) => (reasons.push(ctx.reason), token) });
  await fault({ ...UNAUTHORIZED, times: 2 });
  const mark = await netMark();
  await rejects(c.workspaces.list(), { status: 401 }, "list");
  deepEq(reasons, ["unauthorized"], "refresh reasons");
  eq((await netSince(mark)).length, 1, "requests (no replay with an unchanged token)");
});

// ---- 429 ------------------------------------------------------------------------------------

test("429 with Retry-After: 1 on a GET: waits and succeeds; never a refresh", async (t) => {
  const ns = await tenant();
  const { calls, refresh } = recordingRefresh(ns);
  const c = client(t, { token: await mint(ns), refresh });
  await fault({ kind: "status", status: 429, path: "/workspace", method: "GET", headers: { "Retry-After": "1" } });
  const mark = await netMark();
  const t0 = performance.now();
  eq((await c.workspaces.list()).total, 0, "list total");
  between(performance.now() - t0, 950, 4000, "ms (Retry-After honoured)");
  eq((await netSince(mark)).length, 2, "requests");
  eq(calls.length, 0, "refresh callback calls");
});

test("429 on POST create: rejects rate_limited with retryAfter 1, sends once, creates nothing", async (t) => {
  const ns = await tenant();
  const c = client(t, { token: await mint(ns) });
  await fault({ kind: "status", status: 429, path: "/workspace", method: "POST", headers: { "Retry-After": "1" } });
  const mark = await netMark();
  await rejects(c.workspaces.create({ image: "node-20" }), { code: "rate_limited", status: 429, retryAfter: 1, requestId: /^req_/ }, "create");
  eq((await netSince(mark)).length, 1, "requests");
  eq((await c.workspaces.list()).total, 0, "nothing was created");
});

test("429 on a GET with Retry-After beyond 60 s rejects at once with retryAfter", async (t) => {
  const c = client(t, { token: await mint(await tenant()) });
  await fault({ kind: "status", status: 429, path: "/workspace", method: "GET", headers: { "Retry-After": "120" } });
  const t0 = performance.now();
  await rejects(c.workspaces.list(), { code: "rate_limited", status: 429, retryAfter: 120 }, "list");
  assert(performance.now() - t0 < 1000, "rejected without waiting");
});

test("the emulator's real rate limit: sequential GETs ride through 429s", async (t) => {
  const ns = await tenant();
  const { calls, refresh } = recordingRefresh(ns);
  const c = client(t, { token: await mint(ns), refresh });
  await admin("PUT", "/__emulator/rate-limit", { requests: 2, window_seconds: 1 });
  const mark = await netMark();
  for (let i = 0; i < 4; i++) eq((await c.workspaces.list()).total, 0, `list ${i}`);
  assert((await netSince(mark)).length > 4, "some requests were answered 429 and retried");
  eq(calls.length, 0, "429 never triggers a refresh");
});

// ---- 5xx, network, odd bodies ---------------------------------------------------------------

test("502 with an HTML body twice on a GET: succeeds on the third attempt", async (t) => {
  const ns = await tenant();
  const c = client(t, { token: await mint(ns) });
  await fault({ kind: "non_json", status: 502, path: "/workspace", method: "GET", times: 2 });
  const mark = await netMark();
  eq((await c.workspaces.list()).total, 0, "list total");
  eq((await netSince(mark)).length, 3, "requests");
});

test("503 three times on a GET: rejects with status 503 and the body's code", async (t) => {
  const c = client(t, { token: await mint(await tenant()) });
  await fault({ kind: "status", status: 503, path: "/workspace", method: "GET", times: 3, body: { success: false, error: "maintenance", code: "maintenance", message: "Down for maintenance" } });
  const mark = await netMark();
  await rejects(c.workspaces.list(), { code: "maintenance", status: 503, message: "Down for maintenance" }, "list");
  eq((await netSince(mark)).length, 3, "requests (1 + 2 retries)");
});

test("5xx on POST is not retried; an empty body gives server_error with the status", async (t) => {
  const ns = await tenant();
  const c = client(t, { token: await mint(ns) });
  await fault({ kind: "status", status: 503, path: "/workspace", method: "POST", body: "" });
  const mark = await netMark();
  const e = await rejects(c.workspaces.create({ image: "node-20" }), { code: "server_error", status: 503 }, "create");
  assert(e.message.includes("503"), `message names the status: ${e.message}`);
  eq((await netSince(mark)).length, 1, "requests");
});

test("non-JSON bodies: HTML 500, HTML 404, HTML 200 all give a clear OblienError", async (t) => {
  const ns = await tenant();
  const c = client(t, { token: await mint(ns) });
  const ws = await c.workspaces.create({ image: "node-20" });

  await fault({ kind: "non_json", status: 500, path: "/workspace", method: "GET" });
  const mark = await netMark();
  const e500 = await rejects(c.workspaces.list(), { code: "server_error", status: 500 }, "HTML 500");
  assert(e500.message.includes("500") && !e500.message.includes("<"), `clear message: ${e500.message}`);
  eq((await netSince(mark)).length, 1, "500 is not retried");

  await fault({ kind: "non_json", status: 404, path: `/workspace/${ws.id}`, method: "GET" });
  await rejects(c.workspaces.get(ws.id), { code: "not_found", status: 404 }, "HTML 404");

  await fault({ kind: "non_json", path: "/workspace", method: "GET" }); // 200 + HTML
  await rejects(c.workspaces.list(), { code: "server_error", status: 200 }, "HTML 200");
  eq((await c.workspaces.list()).total, 1, "the next call works");
});

test("HTTP 200 with success:false is an error (with or without a code)", async (t) => {
  const c = client(t, { token: await mint(await tenant()) });
  await fault({ kind: "status", status: 200, path: "/workspace", method: "GET", body: { success: false, code: "legacy_error", message: "Legacy failure" } });
  await rejects(c.workspaces.list(), { code: "legacy_error", status: 200, message: "Legacy failure" }, "with a code");
  await fault({ kind: "status", status: 200, path: "/workspace", method: "POST", body: { success: false } });
  await rejects(c.workspaces.create({ image: "node-20" }), { code: "server_error", status: 200 }, "without a code");
});

test("dropped connection: a GET retries and succeeds; a POST rejects network_error", async (t) => {
  const c = client(t, { token: await mint(await tenant()) });
  await fault({ kind: "drop", path: "/workspace", method: "GET" });
  eq((await c.workspaces.list()).total, 0, "list after one dropped connection");
  await fault({ kind: "drop", path: "/workspace", method: "POST", times: 5 });
  await rejects(c.workspaces.create({ image: "node-20" }), { code: "network_error" }, "create on a dropped connection");
});

// ---- timeout, abort -------------------------------------------------------------------------

test("timeoutMs: a slow answer rejects 'timeout' on time, and the next call works", async (t) => {
  const c = client(t, { token: await mint(await tenant()), timeoutMs: 400 });
  await fault({ kind: "latency", path: "/workspace", method: "GET", latency_ms: 2500 });
  const t0 = performance.now();
  await rejects(c.workspaces.list(), { code: "timeout" }, "slow list");
  between(performance.now() - t0, 350, 1500, "ms until timeout");
  eq((await c.workspaces.list()).total, 0, "the next call");
});

test("AbortController: a caller's signal aborts a call ('aborted'); a pre-aborted signal sends nothing", async (t) => {
  const c = client(t, { token: await mint(await tenant()) });
  await fault({ kind: "latency", path: "/workspace", method: "GET", latency_ms: 2500 });
  const controller = new AbortController();
  const t0 = performance.now();
  const pending = c.workspaces.list({ signal: controller.signal });
  setTimeout(() => controller.abort(), 100);
  await rejects(pending, { code: "aborted" }, "aborted list");
  between(performance.now() - t0, 80, 1000, "ms until aborted");

  const mark = await netMark();
  await rejects(c.workspaces.list({ signal: AbortSignal.abort() }), { code: "aborted" }, "pre-aborted list");
  await rejects(c.workspaces.create({ image: "node-20" }, { signal: AbortSignal.abort() }), { code: "aborted" }, "pre-aborted create");
  eq((await netSince(mark)).length, 0, "requests for pre-aborted calls");
  eq((await c.workspaces.list()).total, 0, "the next call works (nothing was created)");
});

// ---- workspace-scoped tokens ----------------------------------------------------------------

test("workspace-scoped token: list/create/other workspace reject scope_denied at once, sending nothing", async (t) => {
  const ns = await tenant();
  const owner = client(t, { token: await mint(ns) });
  const own = await owner.workspaces.create({ image: "node-20" });
  const other = await owner.workspaces.create({ image: "node-20" });
  const w = client(t, { token: await mintWorkspace(own.id) });
  const info = w.tokenInfo;
  eq(info.scope, "workspace", "tokenInfo.scope");
  eq(info.workspaceId, own.id, "tokenInfo.workspaceId");
  eq(info.namespace, undefined, "tokenInfo.namespace");

  // Were anything sent, these would answer 418 instead of scope_denied.
  const trap = { kind: "status", status: 418, body: { success: false, code: "request_was_sent", message: "sent" } };
  await fault({ ...trap, path: "/workspace", method: "GET" });
  await fault({ ...trap, path: "/workspace", method: "POST" });
  await fault({ ...trap, path: `/workspace/${other.id}` , times: 2 });
  const mark = await netMark();
  const t0 = performance.now();
  await rejects(w.workspaces.list(), { code: "scope_denied", status: 403 }, "list");
  await rejects(w.workspaces.create({ image: "node-20" }), { code: "scope_denied", status: 403 }, "create");
  await rejects(w.workspaces.get(other.id), { code: "scope_denied", status: 403 }, "get another workspace");
  await rejects(w.workspaces.delete(other.id), { code: "scope_denied", status: 403 }, "delete another workspace");
  assert(performance.now() - t0 < 500, "rejected at once");
  eq((await netSince(mark)).length, 0, "requests sent");
  deepEq((await activeFaults()).map((f) => f.remaining), [1, 1, 2], "trap faults untouched");

  eq((await w.workspaces.get(own.id)).id, own.id, "get of the bound workspace works");
  eq((await netSince(mark)).length, 1, "one request for the bound workspace");
});

// ---- errors ---------------------------------------------------------------------------------

test("isOblienError: true for the client's errors, false for everything else", async () => {
  let caught;
  try {
    new OblienUserClient({ token: "nope" });
  } catch (e) {
    caught = e;
  }
  eq(isOblienError(caught), true, "constructor error");
  eq(caught instanceof Error, true, "instanceof Error");
  eq(isOblienError(new Error("plain")), false, "plain Error");
  eq(isOblienError(new TypeError("type")), false, "TypeError");
  eq(isOblienError({ name: "OblienError", code: "x", message: "m" }), false, "plain object");
  eq(isOblienError(null), false, "null");
  eq(isOblienError(undefined), false, "undefined");
  eq(isOblienError("OblienError"), false, "string");
  assert(seenErrors.length === 0 || seenErrors.every(isOblienError), "every rejection seen so far");
});

test("no error message, stack or JSON form contains a token (all errors of this run)", async () => {
  assert(seenErrors.length >= 50, `enough errors were collected (${seenErrors.length})`);
  assert(minted.length >= 20, `enough tokens were minted (${minted.length})`);
  for (const e of seenErrors) {
    const forms = [e.message, String(e.stack), JSON.stringify(e), String(e)];
    for (const token of minted) {
      const parts = [token, token.split(".")[1], token.split(".")[2]];
      assert(!forms.some((f) => parts.some((p) => f.includes(p))), `error ${e.code} shows a token: ${e.message}`);
    }
    assert(!forms.some((f) => f.includes(ADMIN_SECRET)), `error ${e.code} shows the admin secret`);
  }
});

// A host app that misbehaves: its `refresh` callback throws, rejects, returns a non-string, an
// expired token, a token of another scope, a secret; never settles; calls setToken() itself;
// calls dispose() from inside; is slow while 1,000 calls wait. Each test asserts the documented
// outcome (the table in docs/SECURITY.md, "A host that misbehaves").
//
// Two ways to make the client ask the host, both immediate:
// - a 401 on a call made with a still-valid token (reason "unauthorized"): what the caller gets,
//   and that the valid token is KEPT (the next call works with it);
// - a client constructed with an already expired token (reason "expired"): the call cannot
//   proceed without the host, so it shows what the host's answer leads to.
import { assert, between, deepEq, eq, nextTask, sleep, test } from "./harness.js";
import {
  admin, ADMIN_SECRET, checkError, client, containsSecret, fakeJwt, fault, mint, mintWorkspace, netMark, netSince,
  rejects, remember, seenErrors, setupPackage, tenant, untilExpired, waitFor,
} from "./support.js";

export async function setup() {
  await setupPackage();
  // Mint the expired tokens now: their 1-2 s wait overlaps the tests that run before these.
  expiredTenant().catch(() => {});
}

const UNAUTHORIZED = { kind: "status", status: 401, path: "/workspace", method: "GET", body: { success: false, code: "token_revoked", message: "Revoked" } };

/** A namespace and two genuine tokens of it that have already expired (minted once, 1 s ttl). */
let expiredOnce = null;
function expiredTenant() {
  expiredOnce ??= (async () => {
    const ns = await tenant("host");
    const [expired, expired2] = await Promise.all([mint(ns, { ttl: 1 }), mint(ns, { ttl: 1 })]);
    await untilExpired(expired);
    await untilExpired(expired2);
    return { ns, expired, expired2 };
  })();
  return expiredOnce;
}

/** A refresh callback around `answer(ctx)` that records its calls, and the client's events. */
function host(answer) {
  const rec = { calls: [], changes: [], errors: [] };
  rec.options = {
    refresh: (ctx) => {
      rec.calls.push(ctx);
      return answer(ctx, rec.calls.length);
    },
    onTokenChange: (info) => rec.changes.push(info),
    onRefreshError: (e) => rec.errors.push(e),
  };
  return rec;
}

/** The error (and every error the host's events carried) shows none of `secrets` nor a token. */
async function clean(errors, secrets, what) {
  for (const e of errors) {
    const forms = [e.message, String(e.stack), JSON.stringify(e), String(e)].join("\n");
    for (const s of secrets) assert(!forms.includes(s), `${what}: error ${e.code} echoes what the host returned`);
    assert(!/eyJ[\w-]+\.eyJ[\w-]+/.test(forms), `${what}: a JWT in error ${e.code}`);
    eq(await containsSecret(forms), false, `${what}: a watched token or the admin secret in error ${e.code}`);
  }
}

/**
 * The two scenarios for a refresh callback that fails: with a valid token and a 401 (the call
 * rejects `refresh_failed`; the token is kept and the next call works), and with an expired token
 * (the call rejects `token_expired`, saying why). `onRefreshError` gets `refresh_failed` each time.
 */
async function failingHost(t, answer, { message, secrets = [] }) {
  const { ns, expired } = await expiredTenant();
  const token = await mint(ns);

  const a = host(answer);
  const c = client(t, { token, ...a.options });
  const before = c.tokenInfo.expiresAt.getTime();
  await fault({ ...UNAUTHORIZED, times: 1 });
  const e401 = await rejects(c.workspaces.list(), { code: "refresh_failed", status: undefined, message }, "401 → failing refresh");
  await nextTask();
  eq(a.calls.length, 1, "host calls");
  eq(a.calls[0].reason, "unauthorized", "ctx.reason");
  eq(a.errors.length, 1, "onRefreshError calls");
  checkError(a.errors[0], { code: "refresh_failed", message }, "onRefreshError");
  eq(a.changes.length, 0, "onTokenChange calls");
  // The valid token is kept: the next call works with it, without asking the host again.
  const mark = await netMark();
  eq((await c.workspaces.list()).total, 0, "the next call, with the kept token");
  eq((await netSince(mark)).length, 1, "requests for the next call");
  eq(c.tokenInfo.expiresAt.getTime(), before, "tokenInfo unchanged");
  // A second 401 during the back-off (≥ 0.5 s) does not call the host again.
  await fault({ ...UNAUTHORIZED, times: 1 });
  await rejects(c.workspaces.list(), { code: "refresh_failed" }, "401 during the back-off");
  eq(a.calls.length, 1, "host calls during the back-off");

  const b = host(answer);
  const x = client(t, { token: expired, ...b.options });
  const eExpired = await rejects(x.workspaces.list(), { code: "token_expired", status: undefined, message: /could not be refreshed/ }, "expired → failing refresh");
  assert(message.test(eExpired.message), `the token_expired message says why: ${eExpired.message}`);
  await nextTask();
  eq(b.calls.length, 1, "host calls (expired)");
  eq(b.calls[0].reason, "expired", "ctx.reason (expired)");
  checkError(b.errors[0], { code: "refresh_failed", message }, "onRefreshError (expired)");
  eq(b.changes.length, 0, "onTokenChange calls (expired)");

  await clean([e401, eExpired, ...a.errors, ...b.errors], [token, ...secrets], "failing host");
  return { a, b, e401, eExpired };
}

// ---- throws, rejects, non-string ------------------------------------------------------------

test("host: refresh throws → refresh_failed ('threw: …'), valid token kept, back-off; a thrown message with a token is withheld", async (t) => {
  await failingHost(t, () => {
    throw new Error("backend exploded");
  }, { message: /The refresh callback threw: backend exploded/ });

  // A thrown message that carries a token (or is huge) is not echoed.
  const { ns } = await expiredTenant();
  const leaky = await mint(ns);
  const c = client(t, { token: await mint(ns), refresh: () => { throw new Error(`cannot refresh ${leaky}`); } });
  await fault({ ...UNAUTHORIZED, times: 1 });
  const e = await rejects(c.workspaces.list(), { code: "refresh_failed", message: "The refresh callback threw: (message withheld)" }, "thrown message with a token");
  await clean([e], [leaky], "thrown token");
});

test("host: refresh rejects → refresh_failed ('rejected: …'); non-Error rejections too; valid token kept", async (t) => {
  await failingHost(t, () => Promise.reject(new Error("HTTP 500 from my backend")), { message: /The refresh callback rejected: HTTP 500 from my backend/ });
  // A rejection with a string, with nothing, with an object.
  const { ns } = await expiredTenant();
  for (const [name, reason, message] of [
    ["a string", "session gone", "The refresh callback rejected: session gone"],
    ["undefined", undefined, "The refresh callback rejected: "],
    ["an object", { status: 500 }, "The refresh callback rejected: "],
  ]) {
    const c = client(t, { token: await mint(ns), refresh: () => Promise.reject(reason) });
    await fault({ ...UNAUTHORIZED, times: 1 });
    await rejects(c.workspaces.list(), { code: "refresh_failed", message }, `rejects with ${name}`);
    eq((await c.workspaces.list()).total, 0, `rejects with ${name}: the next call`);
  }
});

test("host: refresh returns a non-string (number, null, undefined, { token }, an object promise) → refresh_failed naming the type", async (t) => {
  const { ns } = await expiredTenant();
  const wrapped = await mint(ns); // a real token, wrapped: a common host bug
  const { a } = await failingHost(t, () => 42, { message: /must return a token string, not number/ });
  eq(a.calls.length, 1, "host calls");
  for (const [name, answer, type] of [
    ["null", () => null, "object"],
    ["undefined", () => undefined, "undefined"],
    ["{ token }", () => ({ token: wrapped }), "object"],
    ["a promise of { token }", async () => ({ token: wrapped }), "object"],
    ["a boolean", () => true, "boolean"],
  ]) {
    const c = client(t, { token: await mint(ns), refresh: answer });
    await fault({ ...UNAUTHORIZED, times: 1 });
    const e = await rejects(c.workspaces.list(), { code: "refresh_failed", message: `The refresh callback must return a token string, not ${type}` }, name);
    await clean([e], [wrapped], name);
    eq((await c.workspaces.list()).total, 0, `${name}: the next call`);
  }
});

// ---- tokens that are no good --------------------------------------------------------------

test("host: refresh returns an expired token — long expired: refresh_failed; just expired (inside the 10 min skew tolerance): taken, the server refuses it, no loop", async (t) => {
  const { ns, expired } = await expiredTenant();
  // Long expired (exp an hour ago by any clock): refused locally, like any failed refresh.
  const now = Math.floor(Date.now() / 1000);
  const stale = remember(fakeJwt({ scope: "namespace", namespace: ns, iat: now - 4200, exp: now - 3600 }));
  await failingHost(t, () => stale, { message: /returned an expired token/, secrets: [stale] });

  // Just expired (another genuine token, exp a few s ago): the client cannot tell it from a valid
  // token of a server whose clock lags the device's, so it takes it (deadline = receipt + its 1 s
  // lifetime) and sends it; the server answers 401 token_expired. Two host calls (the expiry,
  // then the server's 401, which gets the same token back: no replay).
  const { expired2 } = await expiredTenant();
  const h = host(() => expired2);
  const c = client(t, { token: expired, ...h.options });
  const mark = await netMark();
  const e = await rejects(c.workspaces.list(), { code: "token_expired", status: 401 }, "a just-expired token from the host");
  await nextTask();
  deepEq(h.calls.map((x) => x.reason), ["expired", "unauthorized"], "host calls");
  eq(h.changes.length, 1, "onTokenChange (the expired token was taken)");
  eq((await netSince(mark)).length, 1, "requests (no replay with the same token)");
  // No loop: each later call costs at most one host call and one request (a 401 answered with the
  // same token is not replayed; once its 1 s local deadline passes, the same token back is a
  // failed refresh with back-off and nothing is sent).
  const mark2 = await netMark();
  for (let i = 0; i < 5; i++) await rejects(c.workspaces.list(), { code: "token_expired" }, `later call ${i}`);
  assert(h.calls.length <= 2 + 5, `host calls after 5 more calls: ${h.calls.length}`);
  assert((await netSince(mark2)).length <= 5, "requests for 5 more calls");
  await clean([e, ...h.errors], [expired2], "just expired");
});

test("host: refresh returns a token of another scope — workspace scope / another tenant: taken (the host decides identity), tenant A's gateway tokens dropped; a gateway token: refresh_failed", async (t) => {
  const nsA = await tenant("host-a");
  const nsB = await tenant("host-b");
  const seedA = client(t, { token: await mint(nsA) });
  const wsA = await seedA.workspaces.create({ image: "node-20" });
  const seedB = client(t, { token: await mint(nsB) });
  const wsB = await seedB.workspaces.create({ image: "node-20" });
  // Provisioning takes 1.5 s: wait for it while the first part runs.
  const ready = seedA.workspaces.runtime(wsA.id);
  const rtAPromise = async (c) => (await ready, c.workspaces.runtime(wsA.id));

  // A workspace-scoped token while the client holds a namespace token: taken.
  const wsToken = await mintWorkspace(wsA.id);
  const w = host(() => wsToken);
  const c = client(t, { token: await mint(nsA), ...w.options });
  await fault({ ...UNAUTHORIZED, times: 1 });
  // The 401'd list is replayed with the new token, which may not list: the server's 403.
  await rejects(c.workspaces.list(), { code: "scope_denied", status: 403 }, "the replayed list with a workspace token");
  await nextTask();
  eq(w.changes.length, 1, "onTokenChange");
  eq(w.changes[0].scope, "workspace", "the new scope");
  eq(c.tokenInfo.workspaceId, wsA.id, "tokenInfo.workspaceId");
  const mark = await netMark();
  await rejects(c.workspaces.list(), { code: "scope_denied", status: 403 }, "a later list (refused locally)");
  // Only the list's own path: seedA's runtime() above may still be polling /workspace/{id}.
  eq((await netSince(mark)).filter((r) => r.path === "/workspace").length, 0, "requests for the refused list");
  eq((await c.workspaces.get(wsA.id)).id, wsA.id, "the bound workspace is reachable");

  // Another tenant's token: taken; the client now acts for tenant B (the replayed list too), and
  // the gateway tokens minted for tenant A are dropped.
  const tokenB = await mint(nsB);
  const o = host(() => tokenB);
  const c2 = client(t, { token: await mint(nsA), ...o.options });
  const rtA = await rtAPromise(c2);
  eq((await rtA.health()).status, "ok", "tenant A's runtime before the swap");
  assert(rtA.tokenInfo !== null, "a gateway token is held for tenant A's workspace");
  await fault({ ...UNAUTHORIZED, times: 1 });
  deepEq((await c2.workspaces.list()).workspaces.map((x) => x.id), [wsB.id], "the replayed list shows tenant B's workspaces");
  eq(c2.tokenInfo.namespace, nsB, "tokenInfo.namespace");
  eq(rtA.tokenInfo, null, "tenant A's gateway token was dropped by the identity change");
  await rejects(rtA.health(), { code: "scope_denied", status: 403 }, "tenant A's runtime after the swap (the re-mint is refused)");
  await rejects(c2.workspaces.get(wsA.id), { code: "scope_denied", status: 403 }, "tenant A's workspace after the swap");

  // A gateway token (no scope claim) is not a session token: refused.
  const gw = remember((await admin("POST", `/workspace/${wsA.id}/internal-api-access/enable`)).token);
  const g = await failingHost(t, () => gw, { message: /unusable token: The token has no 'namespace' or 'workspace' scope claim/, secrets: [gw] });
  eq(g.a.changes.length, 0, "no token change for a gateway token");
});

test("host: refresh returns a secret (API key secret, csk_…, 64-hex connection token) → refresh_failed invalid-token message; the secret never appears", async (t) => {
  const hex64 = Array.from(crypto.getRandomValues(new Uint8Array(32)), (b) => b.toString(16).padStart(2, "0")).join("");
  const csk = `csk_${hex64.slice(0, 40)}`;
  remember(csk);
  remember(hex64);
  const cases = [
    ["the admin API secret", ADMIN_SECRET, /unusable token: The token is not a JWT/],
    ["a csk_ secret", csk, /unusable token: The token is not a JWT/],
    ["a 64-hex connection token", hex64, /unusable token: This is a raw connection token, not a scoped JWT/],
  ];
  for (const [name, secret, message] of cases) {
    const r = await failingHost(t, () => secret, { message, secrets: [secret] });
    for (const e of [r.e401, r.eExpired, ...r.a.errors, ...r.b.errors]) {
      assert(!e.message.includes(secret), `${name}: the message does not echo the secret`);
    }
    // Logged on purpose: the runner fails the run if a console line shows a watched secret.
    console.log(`${name}: ${r.e401.message}`);
  }
});

// ---- hangs, re-entrancy, load -----------------------------------------------------------

test("host: refresh never settles → after 15 s refresh_failed ('did not settle within 15 s'), ctx.signal aborted; a valid token is kept", async (t) => {
  const { ns, expired } = await expiredTenant();
  const never = () => new Promise(() => {});
  // Both scenarios at once, to pay the 15 s once.
  const a = host(never);
  const c = client(t, { token: await mint(ns), ...a.options });
  await fault({ ...UNAUTHORIZED, times: 1 });
  const b = host(never);
  const x = client(t, { token: expired, ...b.options });
  const t0 = performance.now();
  const [e401, eExpired] = await Promise.all([
    rejects(c.workspaces.list(), { code: "refresh_failed", message: /did not settle within 15 s/ }, "401 → hanging refresh"),
    rejects(x.workspaces.list(), { code: "token_expired", message: /could not be refreshed: The refresh callback did not settle within 15 s/ }, "expired → hanging refresh"),
  ]);
  between(performance.now() - t0, 14_800, 16_500, "ms until the hanging refresh was given up");
  await nextTask();
  for (const [name, rec] of [["401", a], ["expired", b]]) {
    eq(rec.calls.length, 1, `${name}: host calls`);
    assert(rec.calls[0].signal.aborted, `${name}: ctx.signal aborted when the client gave up`);
    eq(rec.errors.length, 1, `${name}: onRefreshError calls`);
    checkError(rec.errors[0], { code: "refresh_failed", message: /did not settle within 15 s/ }, `${name}: onRefreshError`);
  }
  eq((await c.workspaces.list()).total, 0, "the valid token is kept: the next call works");
  await clean([e401, eExpired], [], "hanging host");
}, { timeoutMs: 22_000 });

test("host: refresh calls setToken() itself and returns the same token → one token change, no loop; setToken wins over a different returned token", async (t) => {
  const { ns, expired } = await expiredTenant();
  let c;
  const h = host(async () => {
    const fresh = await mint(ns, { label: "set-inside" });
    c.setToken(fresh);
    return fresh;
  });
  c = client(t, { token: expired, ...h.options });
  const mark = await netMark();
  const results = await Promise.all(Array.from({ length: 10 }, () => c.workspaces.list()));
  for (const r of results) eq(r.total, 0, "list total");
  await sleep(50);
  eq(h.calls.length, 1, "host calls");
  eq(h.changes.length, 1, "onTokenChange calls (setToken's; the refresh's own result changed nothing)");
  eq(c.tokenInfo.label, "set-inside", "the token in use");
  eq((await netSince(mark)).length, 10, "requests");
  eq(h.errors.length, 0, "onRefreshError calls");

  // setToken(A) inside, then return B: A is kept (a refresh that started before a setToken is
  // discarded).
  let c2;
  const h2 = host(async () => {
    const [tokenA, tokenB] = await Promise.all([mint(ns, { label: "set" }), mint(ns, { label: "returned" })]);
    c2.setToken(tokenA);
    return tokenB;
  });
  c2 = client(t, { token: expired, ...h2.options });
  eq((await c2.workspaces.list()).total, 0, "list");
  await sleep(50);
  eq(c2.tokenInfo.label, "set", "the token set inside the callback is the one in use");
  eq(h2.calls.length, 1, "host calls");
  eq(h2.changes.length, 1, "onTokenChange calls");
});

test("host: refresh calls dispose() from inside → every waiting call rejects 'disposed', ctx.signal aborted, the host is never called again", async (t) => {
  const { ns, expired } = await expiredTenant();
  let c;
  let abortedInside = null;
  const h = host(async (ctx) => {
    c.dispose();
    abortedInside = ctx.signal.aborted;
    return mint(ns);
  });
  c = client(t, { token: expired, ...h.options });
  const mark = await netMark();
  // (Handlers attached at once: a rejection left unhandled across an await is a page error.)
  const waiting = Array.from({ length: 20 }, (_, i) => rejects(c.workspaces.list(), { code: "disposed" }, `waiting call ${i}`));
  const errors = await Promise.all(waiting);
  eq(errors.length, 20, "rejected calls");
  await sleep(300);
  eq(h.calls.length, 1, "host calls");
  eq(h.changes.length, 0, "onTokenChange calls (a token returned after dispose is dropped)");
  eq(h.errors.length, 0, "onRefreshError calls");
  eq(abortedInside, true, "ctx.signal aborted by the dispose() inside the callback");
  await rejects(c.workspaces.list(), { code: "disposed" }, "a later call");
  window.dispatchEvent(new Event("online"));
  await sleep(50);
  eq(h.calls.length, 1, "host calls after dispose");
  eq((await netSince(mark)).length, 0, "requests (none ever sent)");
});

test("host: refresh takes 2 s while 1,000 calls wait → exactly one host call, all 1,000 succeed", async (t) => {
  const { ns, expired } = await expiredTenant();
  const h = host(async () => {
    await sleep(2000);
    return mint(ns);
  });
  const c = client(t, { token: expired, ...h.options });
  const mark = await netMark();
  const t0 = performance.now();
  const results = await Promise.all(Array.from({ length: 1000 }, () => c.workspaces.list().then((r) => r.total, (e) => `failed: ${e.code}`)));
  const ms = performance.now() - t0;
  deepEq([...new Set(results)], [0], "every result");
  assert(ms >= 1950, `the calls waited for the refresh (${Math.round(ms)} ms)`);
  eq(h.calls.length, 1, "host calls");
  eq(h.calls[0].reason, "expired", "ctx.reason");
  await waitFor(() => h.changes.length > 0, "onTokenChange");
  eq(h.changes.length, 1, "onTokenChange calls");
  eq((await netSince(mark)).length, 1000, "requests (one per call, none with the expired token)");
}, { timeoutMs: 30_000 });

// ---- leaks --------------------------------------------------------------------------------

test("no error of the whole run (faults and host included) shows a token, a secret a host returned, or the admin secret", async () => {
  assert(seenErrors.length >= 150, `enough errors were collected (${seenErrors.length})`);
  const all = seenErrors.map((e) => [e.message, String(e.stack), JSON.stringify(e), String(e)].join("\n")).join("\n");
  assert(!/eyJ[\w-]+\.eyJ[\w-]+/.test(all), "no JWT in any error");
  assert(!all.includes(ADMIN_SECRET), "no admin secret in any error");
  if (await containsSecret(all)) {
    for (const e of seenErrors) assert(!(await containsSecret(`${e.message}\n${e.stack}`)), `error ${e.code} shows a watched secret: ${e.message.slice(0, 60)}`);
  }
});

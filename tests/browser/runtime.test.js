// The workspace runtime (gateway) through the built package's JS API: `client.workspaces.runtime(id)`
// with files, exec and a raw fetch on the emulator's second origin (the gateway), and the gateway
// tokens the client mints, caches, re-mints and drops by itself. The tests use the admin key only to
// create namespaces and tokens, rotate or disable a workspace's internal server behind the client's
// back, and inject faults. Gateway tokens never reach the tests: the runner watches every bearer
// token the page sends, and `containsSecret(text)` asks it whether a text shows one.
import { WorkspaceRuntime } from "/pkg/oblien_user_client.js";
import { assert, between, deepEq, eq, sleep, test } from "./harness.js";
import {
  admin, client, clientRequestsSince, containsSecret, fault, gatewaySince, GATEWAY, mint, mintWorkspace, netMark,
  netSince, rejects, seenErrors, setupPackage, tenant,
} from "./support.js";

export async function setup() {
  if (!GATEWAY) throw new Error("open me with ?gateway= (the emulator's gateway origin)");
  await setupPackage();
}

// ---- helpers --------------------------------------------------------------------------------

/** The admin's path to a workspace's internal API access endpoints (the reference page's name). */
const access = (id, rest = "") => `/workspace/${id}/internal-api-access${rest}`;

const ACCESS = /^\/workspace\/[^/]+\/(?:runtime|internal)-api-access(\/.*)?$/;
/** The client's internal API access calls, e.g. ["GET", "POST /enable"] (status, then enable). */
function accessCalls(requests) {
  return requests.filter((r) => ACCESS.test(r.path)).map((r) => `${r.method} ${ACCESS.exec(r.path)[1] ?? ""}`.trim());
}
/** Gateway token mints (and rotations, which the client must never do) among `requests`. */
function mints(requests) {
  return accessCalls(requests).filter((c) => /^(GET|POST) \/token$|^POST \/enable$/.test(c)).length;
}
const shown = (requests) => requests.map((r) => `${r.method} ${r.path}${r.search}`);

/** Every gateway request since `mark` carried a bearer token and no API key. */
async function checkGatewayAuth(mark, what) {
  const sent = await gatewaySince(mark);
  for (const r of sent) {
    assert(r.bearer, `${what}: ${r.method} ${r.path} carries Authorization: Bearer`);
    assert(!r.apiKey, `${what}: ${r.method} ${r.path} carries no API key`);
    assert(!/eyJ/.test(r.search) && !/eyJ/.test(r.path), `${what}: no token in the URL of ${r.method} ${r.path}`);
  }
  return sent;
}

/** A tenant, a client with its namespace token, a new workspace and that workspace's runtime. */
async function freshRuntime(t, label = "rt") {
  const ns = await tenant(label);
  const token = await mint(ns);
  const c = client(t, { token });
  const ws = await c.workspaces.create({ image: "node-20" });
  const rt = await c.workspaces.runtime(ws.id);
  return { ns, token, c, ws, rt };
}

/** Polls `GET /workspace/{id}` until the workspace is ready (the emulator provisions in 1.5 s). */
async function untilReady(c, id, timeoutMs = 5000) {
  const end = performance.now() + timeoutMs;
  while (!(await c.workspaces.get(id)).ready) {
    assert(performance.now() < end, `workspace ${id} ready within ${timeoutMs} ms`);
    await sleep(100);
  }
}

const names = (list) => list.entries.map((e) => e.name);
const paths = (list) => list.entries.map((e) => e.path);

// ---- the happy path -------------------------------------------------------------------------

test("runtime: create a workspace, get its runtime (waits for provisioning, one mint), write, list, read, echo", async (t) => {
  const ns = await tenant("rt");
  const c = client(t, { token: await mint(ns) });
  const ws = await c.workspaces.create({ image: "node-20" });
  const created = performance.now();
  eq(ws.ready, false, "a new workspace is still provisioning");

  const mark = await netMark();
  const rt = await c.workspaces.runtime(ws.id);
  const waited = performance.now() - created;
  assert(rt instanceof WorkspaceRuntime, "runtime() resolves with a WorkspaceRuntime");
  eq(rt.workspaceId, ws.id, "rt.workspaceId");
  between(waited, 1200, 6000, "ms until runtime() resolved (the emulator provisions in 1.5 s)");
  const api = await netSince(mark);
  deepEq(accessCalls(api), ["GET", "POST /enable"], "access calls (status; the server was disabled, so enable)");
  assert(api.filter((r) => r.method === "GET" && r.path === `/workspace/${ws.id}`).length >= 2, `runtime() polled the workspace while provisioning: ${shown(api)}`);
  eq((await gatewaySince(mark)).length, 0, "gateway requests before the first runtime call");
  eq((await c.workspaces.get(ws.id)).ready, true, "the workspace is ready once runtime() resolved");

  const mark2 = await netMark();
  eq((await rt.health()).status, "ok", "health().status");
  const written = await rt.files.write({ path: "/app/notes/hello.txt", content: "hello, runtime\n", createDirs: true });
  eq(written.path, "/app/notes/hello.txt", "write().path");
  eq(written.size, 15, "write().size");
  const listed = await rt.files.list({ path: "/app/notes" });
  eq(listed.path, "/app/notes", "list().path");
  eq(listed.count, 1, "list().count");
  deepEq(listed.entries.map((e) => [e.name, e.path, e.type, e.size]), [["hello.txt", "/app/notes/hello.txt", "file", 15]], "list().entries");
  deepEq(names(await rt.files.list({ path: "/app" })), ["README.md", "notes"], "list of /app");
  const read = await rt.files.read({ path: "/app/notes/hello.txt" });
  deepEq([read.path, read.content, read.size], ["/app/notes/hello.txt", "hello, runtime\n", 15], "read()");
  const echo = await rt.exec.run(["echo", "hello", "from", "the", "runtime"]);
  eq(echo.exit_code, 0, "echo exit_code");
  eq(echo.stdout, "hello from the runtime\n", "echo stdout");
  eq(echo.stderr, "", "echo stderr");
  eq((await rt.exec.run(["cat", "notes/hello.txt"])).stdout, "hello, runtime\n", "cat sees the written file");

  const sent = await checkGatewayAuth(mark2, "happy path");
  deepEq(shown(sent), [
    "GET /health", "POST /files/write", "GET /files?path=%2Fapp%2Fnotes", "GET /files?path=%2Fapp",
    "GET /files/read?path=%2Fapp%2Fnotes%2Fhello.txt", "POST /exec", "POST /exec",
  ], "gateway requests (one each, to the gateway origin)");
  eq(mints(await netSince(mark2)), 0, "mints after the first (the token is cached)");
});

test("runtime(): the wait for provisioning is cut short by the caller's signal ('aborted')", async (t) => {
  const c = client(t, { token: await mint(await tenant("rt")) });
  const ws = await c.workspaces.create({ image: "node-20" });
  const controller = new AbortController();
  const t0 = performance.now();
  setTimeout(() => controller.abort(), 400);
  await rejects(c.workspaces.runtime(ws.id, { signal: controller.signal }), { code: "aborted" }, "runtime() aborted while provisioning");
  between(performance.now() - t0, 350, 1000, "ms until aborted");

  const mark = await netMark();
  await rejects(c.workspaces.runtime(ws.id, { signal: AbortSignal.abort() }), { code: "aborted" }, "runtime() with a pre-aborted signal");
  await rejects(c.workspaces.runtime(""), { code: "invalid_options" }, "runtime('')");
  await rejects(c.workspaces.runtime(ws.id, { signal: "nope" }), { code: "invalid_options" }, "runtime() with a bad signal");
  eq((await clientRequestsSince(mark)).length, 0, "requests for refused runtime() calls");
  eq((await c.workspaces.runtime(ws.id)).workspaceId, ws.id, "a later runtime() works");
});

// ---- gateway token lifecycle ----------------------------------------------------------------

test("rotation behind the client's back (admin POST …/token): the next call succeeds after exactly one transparent re-mint", async (t) => {
  const { ws, rt } = await freshRuntime(t);
  await rt.files.write({ path: "/app/a.txt", content: "before" });

  await admin("POST", access(ws.id, "/token"));
  let mark = await netMark();
  eq((await rt.files.read({ path: "/app/a.txt" })).content, "before", "read after the rotation");
  deepEq(accessCalls(await netSince(mark)), ["GET", "GET /token"], "access calls (status; enabled, so read the current token)");
  eq(mints(await netSince(mark)), 1, "mints");
  deepEq(shown(await checkGatewayAuth(mark, "after rotation")).map((s) => s.split("?")[0]), ["GET /files/read", "GET /files/read"], "gateway requests (the 401, then one replay)");

  mark = await netMark();
  eq((await rt.health()).status, "ok", "health with the re-minted token");
  eq((await rt.exec.run(["pwd"])).stdout, "/app\n", "exec with the re-minted token");
  eq(mints(await netSince(mark)), 0, "mints afterwards (cached again)");
  eq((await gatewaySince(mark)).length, 2, "gateway requests afterwards");

  // A POST is replayed too (the gateway refused it before doing anything); reconnect also rotates.
  await admin("POST", access(ws.id, "/reconnect"));
  mark = await netMark();
  eq((await rt.files.write({ path: "/app/a.txt", content: "after" })).size, 5, "write after reconnect");
  eq(mints(await netSince(mark)), 1, "mints for the write");
  deepEq(shown(await gatewaySince(mark)), ["POST /files/write", "POST /files/write"], "gateway requests for the write");
  eq((await rt.files.read({ path: "/app/a.txt" })).content, "after", "the write landed once");

  // The raw fetch re-mints and replays the same way.
  await admin("POST", access(ws.id, "/token"));
  mark = await netMark();
  const res = await rt.fetch("/health");
  eq(res.status, 200, "rt.fetch status after a rotation");
  eq((await res.json()).status, "ok", "rt.fetch body");
  eq(mints(await netSince(mark)), 1, "mints for rt.fetch");
  deepEq(shown(await checkGatewayAuth(mark, "rt.fetch after rotation")), ["GET /health", "GET /health"], "gateway requests for rt.fetch");
});

test("a gateway 401 twice: one re-mint, one replay, then the gateway's 401 error", async (t) => {
  const { rt } = await freshRuntime(t);
  await fault({ kind: "status", status: 401, listener: "gateway", path: "/files/read", method: "GET", times: 2, body: { success: false, code: "token_revoked", message: "Revoked again" } });
  const mark = await netMark();
  await rejects(rt.files.read({ path: "/app/README.md" }), { code: "token_revoked", status: 401, message: "Revoked again" }, "read");
  eq(mints(await netSince(mark)), 1, "mints");
  eq((await gatewaySince(mark)).length, 2, "gateway requests");
  assert((await rt.files.read({ path: "/app/README.md" })).content.startsWith("# Workspace"), "the next call works");
});

test("internal server disabled (admin POST …/disable): internal_api_disabled 403, no re-mint; re-enabled it works; a new runtime() enables it", async (t) => {
  const { ns, ws, rt } = await freshRuntime(t);
  eq((await rt.health()).status, "ok", "health before");
  await admin("POST", access(ws.id, "/disable"));

  let mark = await netMark();
  await rejects(rt.files.list({ path: "/app" }), { code: "internal_api_disabled", status: 403, requestId: /^req_/ }, "list on a disabled server");
  await rejects(rt.exec.run(["true"]), { code: "internal_api_disabled", status: 403 }, "exec on a disabled server");
  await rejects(rt.health(), { code: "internal_api_disabled", status: 403 }, "health on a disabled server");
  const raw = await rt.fetch("/health");
  eq(raw.status, 403, "rt.fetch resolves with the gateway's 403");
  eq((await raw.json()).code, "internal_api_disabled", "rt.fetch body code");
  eq((await gatewaySince(mark)).length, 4, "gateway requests (no retry)");
  deepEq(accessCalls(await netSince(mark)), [], "access calls (a 403 is no reason to re-mint)");

  // Re-enabled by the admin: the cached token (same connection token) works again.
  await admin("POST", access(ws.id, "/enable"));
  mark = await netMark();
  eq((await rt.health()).status, "ok", "health after re-enable");
  eq(mints(await netSince(mark)), 0, "mints after re-enable");

  // Disabled again: another client's runtime() finds it disabled and enables it.
  await admin("POST", access(ws.id, "/disable"));
  const other = client(t, { token: await mint(ns) });
  mark = await netMark();
  const rt2 = await other.workspaces.runtime(ws.id);
  deepEq(accessCalls(await netSince(mark)), ["GET", "POST /enable"], "a new runtime()'s access calls");
  eq((await rt2.health()).status, "ok", "health through the new runtime");
  eq((await rt.health()).status, "ok", "and through the first one");
});

test("50 concurrent runtime() calls on a fresh client mint once; 50 concurrent calls after a rotation re-mint once", async (t) => {
  const ns = await tenant("rt");
  const seed = client(t, { token: await mint(ns) });
  const ws = await seed.workspaces.create({ image: "node-20" });
  await untilReady(seed, ws.id);

  const c = client(t, { token: await mint(ns) });
  let mark = await netMark();
  const rts = await Promise.all(Array.from({ length: 50 }, () => c.workspaces.runtime(ws.id)));
  for (const rt of rts) eq(rt.workspaceId, ws.id, "workspaceId");
  deepEq(accessCalls(await netSince(mark)), ["GET", "POST /enable"], "access calls for 50 concurrent runtime() calls");

  mark = await netMark();
  const first = await Promise.all(rts.map((rt, i) => (i % 2 ? rt.health() : rt.files.read({ path: "/app/README.md" }))));
  first.forEach((r, i) => assert(i % 2 ? r.status === "ok" : r.content.startsWith("# Workspace"), `call ${i}`));
  eq(mints(await netSince(mark)), 0, "mints for 50 concurrent calls with a cached token");
  eq((await gatewaySince(mark)).length, 50, "gateway requests");

  await admin("POST", access(ws.id, "/token"));
  mark = await netMark();
  const rt = rts[0];
  const after = await Promise.all(Array.from({ length: 50 }, (_, i) => rt.files.read({ path: "/app/README.md" }).then((r) => r.content, (e) => `call ${i} failed: ${e.code}`)));
  for (const content of after) assert(content.startsWith("# Workspace"), `a concurrent call after the rotation: ${content}`);
  deepEq(accessCalls(await netSince(mark)), ["GET", "GET /token"], "access calls for 50 concurrent 401s");
  eq((await checkGatewayAuth(mark, "50 after rotation")).length, 100, "gateway requests (50 refused with 401, 50 replays)");
}, { timeoutMs: 25_000 });

// ---- scope ----------------------------------------------------------------------------------

test("a workspace-scoped token reaches its own workspace's runtime, not another's (scope_denied, nothing sent)", async (t) => {
  const owner = client(t, { token: await mint(await tenant("rt")) });
  const [own, other] = await Promise.all([owner.workspaces.create({ image: "node-20" }), owner.workspaces.create({ image: "node-20" })]);
  const w = client(t, { token: await mintWorkspace(own.id) });

  // Were anything sent for the other workspace, it would answer 418.
  await fault({ kind: "status", status: 418, path: `/workspace/${other.id}*`, times: 10, body: { success: false, code: "request_was_sent", message: "sent" } });
  let mark = await netMark();
  await rejects(w.workspaces.runtime(other.id), { code: "scope_denied", status: 403 }, "runtime() of another workspace");
  eq((await clientRequestsSince(mark)).length, 0, "requests sent");

  mark = await netMark();
  const rt = await w.workspaces.runtime(own.id);
  deepEq(accessCalls(await netSince(mark)), ["GET", "POST /enable"], "access calls with the workspace-scoped token");
  eq(rt.tokenInfo.workspaceId, own.id, "the gateway token's workspace");
  await rt.files.write({ path: "/app/w.txt", content: "scoped" });
  eq((await rt.files.read({ path: "/app/w.txt" })).content, "scoped", "read back");
  eq((await rt.exec.run(["echo", "ok"])).stdout, "ok\n", "echo");
  await checkGatewayAuth(mark, "workspace-scoped");
});

test("cross-tenant: tenant A's client cannot get a runtime for tenant B's workspace (scope_denied 403); unknown id → not_found", async (t) => {
  const a = client(t, { token: await mint(await tenant("a")) });
  const b = client(t, { token: await mint(await tenant("b")) });
  const wsB = await b.workspaces.create({ image: "node-20" });

  const mark = await netMark();
  await rejects(a.workspaces.runtime(wsB.id), { code: "scope_denied", status: 403 }, "A's runtime() of B's workspace");
  await rejects(a.workspaces.runtime(wsB.id), { code: "scope_denied", status: 403 }, "A's second try");
  eq((await gatewaySince(mark)).length, 0, "gateway requests");
  eq(mints(await netSince(mark)), 0, "no gateway token was minted for A");
  await rejects(a.workspaces.runtime("ws_does_not_exist"), { code: "not_found", status: 404 }, "runtime() of an unknown workspace");

  const rtB = await b.workspaces.runtime(wsB.id);
  eq((await rtB.health()).status, "ok", "B's own runtime works");
});

test("setToken: same tenant keeps the gateway tokens; another tenant drops them all (scope_denied from the mint, nothing sent to the gateway)", async (t) => {
  const nsA = await tenant("a");
  const nsB = await tenant("b");
  const [tokenA, tokenA2, tokenB] = await Promise.all([mint(nsA), mint(nsA), mint(nsB)]);
  const c = client(t, { token: tokenA });
  const wsA = await c.workspaces.create({ image: "node-20" });
  const rt = await c.workspaces.runtime(wsA.id);
  eq((await rt.health()).status, "ok", "health as A");

  c.setToken(tokenA2);
  let mark = await netMark();
  eq((await rt.health()).status, "ok", "health after a same-tenant setToken");
  eq(mints(await netSince(mark)), 0, "mints after a same-tenant setToken");
  assert(rt.tokenInfo !== null, "the gateway token is still held");

  c.setToken(tokenB);
  eq(rt.tokenInfo, null, "rt.tokenInfo after the tenant swap (the gateway token was dropped)");
  mark = await netMark();
  await rejects(rt.files.read({ path: "/app/README.md" }), { code: "scope_denied", status: 403 }, "A's runtime after the swap to B");
  eq((await gatewaySince(mark)).length, 0, "gateway requests (A's old gateway token was not used)");
  deepEq(accessCalls(await netSince(mark)), ["GET"], "access calls (the mint's status call, refused)");
  await rejects(c.workspaces.runtime(wsA.id), { code: "scope_denied", status: 403 }, "runtime() of A's workspace as B");

  const wsB = await c.workspaces.create({ image: "node-20" });
  eq(wsB.namespace, nsB, "the swapped client creates in B");
  eq((await (await c.workspaces.runtime(wsB.id)).health()).status, "ok", "B's runtime works");

  // Back to A: the cache was dropped again, so A's runtime mints afresh and works.
  c.setToken(tokenA);
  mark = await netMark();
  eq((await rt.health()).status, "ok", "A's runtime after swapping back");
  deepEq(accessCalls(await netSince(mark)), ["GET", "GET /token"], "access calls after swapping back (a fresh mint)");
});

// ---- files, exec, fetch -----------------------------------------------------------------------

test("files: paths with spaces, unicode and URL metacharacters round-trip, query-encoded", async (t) => {
  const { rt } = await freshRuntime(t);
  const dir = "/app/dir with space";
  const file = `${dir}/héllo ✓.txt`;
  const content = "ünïcödé ✓ — line 1\nline 2 🚀";
  const bytes = new TextEncoder().encode(content).length;

  const mark = await netMark();
  const written = await rt.files.write({ path: file, content, createDirs: true });
  deepEq([written.path, written.size], [file, bytes], "write() path and size (bytes)");
  const read = await rt.files.read({ path: file });
  deepEq([read.path, read.content], [file, content], "read() path and content");
  const listed = await rt.files.list({ path: dir });
  eq(listed.path, dir, "list().path");
  deepEq(names(listed), ["héllo ✓.txt"], "list() names");
  const stat = await rt.files.stat({ path: file });
  deepEq([stat.name, stat.path, stat.type, stat.size], ["héllo ✓.txt", file, "file", bytes], "stat()");
  const sent = await gatewaySince(mark);
  eq(sent.find((r) => r.path === "/files/read").search, "?path=%2Fapp%2Fdir%20with%20space%2Fh%C3%A9llo%20%E2%9C%93.txt", "read()'s query string");
  eq(sent.find((r) => r.path === "/files").search, "?path=%2Fapp%2Fdir%20with%20space", "list()'s query string");

  // `&`, `=`, `#`, `+`, `%`, `?` would split, cut or change an unencoded query.
  const odd = "/app/a&b=c #1 + 50% ?.txt";
  await rt.files.write({ path: odd, content: "odd" });
  eq((await rt.files.read({ path: odd })).content, "odd", "read of a path with URL metacharacters");
  eq((await rt.files.stat({ path: odd })).name, "a&b=c #1 + 50% ?.txt", "stat of it");
  assert(names(await rt.files.list({ path: "/app" })).includes("a&b=c #1 + 50% ?.txt"), "listed");
  eq((await rt.exec.run(["cat", "a&b=c #1 + 50% ?.txt"])).stdout, "odd", "exec argv passed as given");
});

test("files: mkdir, stat, delete, nested list, append; errors carry the gateway's codes; local validation sends nothing", async (t) => {
  const { rt } = await freshRuntime(t);
  eq((await rt.files.mkdir({ path: "/app/a/b/c" })).path, "/app/a/b/c", "mkdir -p");
  await rt.files.write({ path: "/app/a/b/c/deep.txt", content: "x" });
  await rt.files.write({ path: "/app/a/top.txt", content: "y" });

  const direct = await rt.files.list({ path: "/app/a" });
  deepEq(names(direct), ["b", "top.txt"], "direct children");
  eq(direct.count, 2, "count");
  const nested = await rt.files.list({ path: "/app/a", nested: true });
  deepEq(paths(nested), ["/app/a/b", "/app/a/b/c", "/app/a/b/c/deep.txt", "/app/a/top.txt"], "nested list");
  eq(nested.count, 4, "nested count");

  const dirStat = await rt.files.stat({ path: "/app/a/b" });
  deepEq([dirStat.type, dirStat.name, dirStat.path], ["directory", "b", "/app/a/b"], "stat of a directory");
  const fileStat = await rt.files.stat({ path: "/app/a/b/c/deep.txt" });
  deepEq([fileStat.type, fileStat.size], ["file", 1], "stat of a file");
  assert(Math.abs(Date.parse(fileStat.modified) - Date.now()) < 60_000, `modified is a recent date: ${fileStat.modified}`);

  eq((await rt.files.write({ path: "/app/a/top.txt", content: "z", append: true })).size, 2, "append size");
  eq((await rt.files.read({ path: "/app/a/top.txt" })).content, "yz", "appended content");

  const deleted = await rt.files.delete({ path: "/app/a/b" });
  deepEq([deleted.path, deleted.deleted], ["/app/a/b", true], "delete of a tree");
  deepEq(paths(await rt.files.list({ path: "/app/a", nested: true })), ["/app/a/top.txt"], "nested list after delete");

  await rejects(rt.files.stat({ path: "/app/a/b/c/deep.txt" }), { code: "not_found", status: 404 }, "stat of a deleted file");
  await rejects(rt.files.read({ path: "/app/a" }), { code: "is_a_directory", status: 400 }, "read of a directory");
  await rejects(rt.files.list({ path: "/app/a/top.txt" }), { code: "not_a_directory", status: 400 }, "list of a file");
  await rejects(rt.files.write({ path: "/app/missing/x.txt", content: "x" }), { code: "not_found", status: 404 }, "write without createDirs");
  await rejects(rt.files.read({ path: "app/relative.txt" }), { code: "validation_error", status: 400 }, "a relative path");
  await rejects(rt.files.delete({ path: "/" }), { code: "validation_error", status: 400 }, "delete of /");

  const mark = await netMark();
  await rejects(rt.files.read({}), { code: "invalid_options" }, "read({})");
  await rejects(rt.files.read({ path: "" }), { code: "invalid_options" }, "read({ path: '' })");
  await rejects(rt.files.list("/app"), { code: "invalid_options" }, "list('/app')");
  await rejects(rt.files.write({ path: "/app/x", content: 5 }), { code: "invalid_options" }, "write with a number content");
  await rejects(rt.files.write({ path: "/app/x", content: "x", append: "yes" }), { code: "invalid_options" }, "write with append: 'yes'");
  await rejects(rt.files.stat({ path: "/app", signal: "nope" }), { code: "invalid_options" }, "a bad signal");
  await rejects(rt.files.mkdir({ path: "/app/y", signal: AbortSignal.abort() }), { code: "aborted" }, "a pre-aborted signal");
  eq((await clientRequestsSince(mark)).length, 0, "requests for locally refused calls");
});

test("exec: exit codes (false → 1, unknown → 127), stdout/stderr, result fields; local validation sends nothing", async (t) => {
  const { rt } = await freshRuntime(t);
  const f = await rt.exec.run(["false"]);
  deepEq([f.exit_code, f.stdout, f.stderr], [1, "", ""], "false");
  const unknown = await rt.exec.run(["no-such-command", "--flag"]);
  eq(unknown.exit_code, 127, "unknown command exit_code");
  eq(unknown.stderr, "sh: no-such-command: command not found\n", "unknown command stderr");
  const echo = await rt.exec.run(["echo", "-n", "a  b", "ü"], { timeoutSeconds: 30 });
  eq(echo.stdout, "a  b ü", "echo -n keeps its arguments as given");
  assert(/^[0-9]+$/.test(echo.id), `id ${echo.id} (a task id: "1", "2", …)`);
  eq(echo.status, "exited", "status");
  deepEq(echo.command, ["echo", "-n", "a  b", "ü"], "command");
  eq(typeof echo.duration_ms, "number", "duration_ms");
  eq((await rt.exec.run(["ls"])).stdout, "README.md\n", "ls in /app");
  eq((await rt.exec.run(["true"], { timeoutSeconds: 0.5 })).exit_code, 0, "a fractional timeout is accepted");

  const mark = await netMark();
  await rejects(rt.exec.run([]), { code: "invalid_options" }, "run([])");
  await rejects(rt.exec.run("echo hi"), { code: "invalid_options" }, "run('echo hi')");
  await rejects(rt.exec.run(["echo", 1]), { code: "invalid_options" }, "run(['echo', 1])");
  await rejects(rt.exec.run(["true"], { timeoutSeconds: 0 }), { code: "invalid_options" }, "timeoutSeconds 0");
  await rejects(rt.exec.run(["true"], { timeoutSeconds: -1 }), { code: "invalid_options" }, "timeoutSeconds -1");
  await rejects(rt.exec.run(["true"], { timeoutSeconds: "5" }), { code: "invalid_options" }, "timeoutSeconds '5'");
  await rejects(rt.exec.run(["true"], { signal: AbortSignal.abort() }), { code: "aborted" }, "a pre-aborted signal");
  eq((await clientRequestsSince(mark)).length, 0, "requests for locally refused calls");

  await rejects(rt.exec.run(["true"], { timeoutSeconds: 7200 }), { code: "validation_error", status: 400 }, "the gateway's own validation");
});

test("rt.fetch: a raw Response from the gateway, authorised by the Authorization header only", async (t) => {
  const { rt } = await freshRuntime(t);
  const mark = await netMark();
  const res = await rt.fetch("/health");
  assert(res instanceof Response, "rt.fetch resolves with a Response");
  eq(res.status, 200, "status");
  eq((await res.json()).status, "ok", "body");
  const sent = await checkGatewayAuth(mark, "rt.fetch");
  deepEq(shown(sent), ["GET /health"], "one request, no token in its URL");

  const readme = await rt.fetch("/files/read?path=%2Fapp%2FREADME.md");
  eq(readme.status, 200, "GET with a query");
  assert((await readme.json()).content.startsWith("# Workspace"), "its body");
  const post = await rt.fetch("/files/write", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ path: "/app/f.txt", content: "via fetch" }) });
  eq(post.status, 200, "POST with a JSON body");
  eq((await rt.files.read({ path: "/app/f.txt" })).content, "via fetch", "the POST landed");
  const forged = await rt.fetch("/health", { headers: { Authorization: "Bearer not-the-gateway-token" } });
  eq(forged.status, 200, "a caller's Authorization header is replaced by the gateway token");
  eq((await rt.fetch("/files/read?path=%2Fnope")).status, 404, "a 404 resolves (it does not reject)");
  eq((await rt.fetch("/no-such-endpoint")).status, 404, "an unknown endpoint resolves with 404");
  await checkGatewayAuth(mark, "rt.fetch");

  const mark2 = await netMark();
  await rejects(rt.fetch("health"), { code: "invalid_options" }, "a path without '/'");
  await rejects(rt.fetch("/health", "GET"), { code: "invalid_options" }, "init not an object");
  await rejects(rt.fetch("/health", { signal: AbortSignal.abort() }), { code: "aborted" }, "a pre-aborted signal");
  eq((await clientRequestsSince(mark2)).length, 0, "requests for refused fetches");
});

test("rt.tokenInfo: scope 'gateway', the workspace, expiresAt ~1 h ahead; never the token itself", async (t) => {
  const { c, ws, rt } = await freshRuntime(t);
  eq((await rt.health()).status, "ok", "a gateway call (the runner now watches the gateway token)");
  const info = rt.tokenInfo;
  eq(info.scope, "gateway", "scope");
  eq(info.workspaceId, ws.id, "workspaceId");
  eq(info.namespace, undefined, "namespace");
  assert(info.expiresAt instanceof Date, "expiresAt is a Date");
  between(info.expiresAt.getTime() - Date.now(), 3_590_000, 3_600_500, "expiresAt - now (ms)");
  between(info.expiresIn, 3590, 3600, "expiresIn");
  assert(info.issuedAt instanceof Date && Math.abs(info.issuedAt.getTime() - Date.now()) < 30_000, "issuedAt is about now");
  assert(!("token" in info), "tokenInfo has no token field");
  eq(c.tokenInfo.scope, "namespace", "the client's own tokenInfo is still the session's");

  const forms = [JSON.stringify(info), String(info), ...Object.values(info).map(String), JSON.stringify(rt), String(rt), JSON.stringify(c)];
  for (const form of forms) {
    assert(!/eyJ/.test(form), `no JWT in ${form}`);
    eq(await containsSecret(form), false, `a watched token in ${form}`);
  }
  console.log("runtime", rt, info, JSON.stringify(info)); // the runner scans console messages for tokens
});

// ---- dispose ----------------------------------------------------------------------------------

test("dispose(): an in-flight runtime call rejects 'disposed'; afterwards every runtime call does, sending nothing", async (t) => {
  const { c, ws, rt } = await freshRuntime(t);
  await fault({ kind: "latency", listener: "gateway", path: "/files/read", method: "GET", latency_ms: 1500 });
  const t0 = performance.now();
  const inflight = rt.files.read({ path: "/app/README.md" });
  await sleep(150);
  c.dispose();
  await rejects(inflight, { code: "disposed" }, "in-flight read");
  between(performance.now() - t0, 100, 900, "ms until the in-flight call rejected");

  const mark = await netMark();
  const calls = {
    health: () => rt.health(),
    "files.list": () => rt.files.list({ path: "/app" }),
    "files.read": () => rt.files.read({ path: "/app/README.md" }),
    "files.write": () => rt.files.write({ path: "/app/x", content: "x" }),
    "files.stat": () => rt.files.stat({ path: "/app" }),
    "files.mkdir": () => rt.files.mkdir({ path: "/app/d" }),
    "files.delete": () => rt.files.delete({ path: "/app/README.md" }),
    "exec.run": () => rt.exec.run(["echo", "x"]),
    fetch: () => rt.fetch("/health"),
    "workspaces.runtime": () => c.workspaces.runtime(ws.id),
  };
  for (const [name, call] of Object.entries(calls)) await rejects(call(), { code: "disposed" }, `${name} after dispose`);
  eq((await clientRequestsSince(mark)).length, 0, "requests after dispose");
  let info = null;
  try {
    info = rt.tokenInfo;
  } catch (e) {
    eq(e.code, "disposed", "rt.tokenInfo after dispose throws 'disposed' if anything");
  }
  eq(info, null, "rt.tokenInfo after dispose holds no token");
});

// ---- leaks ------------------------------------------------------------------------------------

test("no gateway token in any error message, stack or JSON form (all errors of this run)", async () => {
  assert(seenErrors.length >= 80, `enough errors were collected (${seenErrors.length})`);
  const forms = (e) => [e.message, String(e.stack), JSON.stringify(e), String(e)];
  const all = seenErrors.flatMap(forms).join("\n");
  assert(!/eyJ[\w-]+\.eyJ[\w-]+/.test(all), "no JWT in any error");
  if (await containsSecret(all)) {
    for (const e of seenErrors) assert(!(await containsSecret(forms(e).join("\n"))), `error ${e.code} shows a watched token: ${e.message.slice(0, 60)}`);
  }
});

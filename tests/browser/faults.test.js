// The fault matrix: every fault the emulator can inject (POST /__emulator/faults, PUT
// /__emulator/cors) against each kind of call it is meaningful for — a GET the client may retry
// (`workspaces.list()`), a POST it must not (`workspaces.create()`), and a gateway read
// (`rt.files.read()`, the gateway listener, a gateway token the client minted itself).
//
// Every test asserts: the OblienError code, `status` and `retryAfter` where relevant, how many
// requests were sent (retries), that no form of the error shows a token, and that the very next
// call on the same client succeeds. The runner (run.mjs) also fails the run if any console
// message, request URL or page error shows a token. The fault table is the single source of the
// expected outcomes; SECURITY.md and the README point here.
import { OblienUserClient, WorkspaceRuntime } from "/pkg/oblien_user_client.js";
import { assert, between, deepEq, eq, test } from "./harness.js";
import {
  admin, API, client, containsSecret, fault, gatewaySince, mint, minted, netMark, netSince, rejects, setupPackage, tenant,
} from "./support.js";

export async function setup() {
  await setupPackage();
  // Create the gateway tests' workspace now: it provisions while the tests before these run.
  gatewayWorkspace().catch(() => {});
}

// ---- the targets --------------------------------------------------------------------------

const MB = 1024 * 1024;

/** One ready workspace for every gateway test (provisioning costs 1.5 s, paid once). */
let sharedWorkspace = null;
function gatewayWorkspace() {
  sharedWorkspace ??= (async () => {
    const ns = await tenant("faults-gw");
    const body = await admin("POST", "/workspace", { image: "node-20", namespace: ns });
    return { ns, id: body.workspace.id };
  })();
  return sharedWorkspace;
}

const TARGETS = {
  "GET list": {
    match: { path: "/workspace", method: "GET" },
    async world(t, options) {
      const c = client(t, { token: await mint(await tenant("faults")), ...options });
      return { c };
    },
    call: (w) => w.c.workspaces.list(),
    ok: (r) => eq(r.total, 0, "the next list's total"),
    sent: async (mark) => (await netSince(mark)).filter((r) => r.method === "GET" && r.path === "/workspace").length,
  },
  "POST create": {
    match: { path: "/workspace", method: "POST" },
    async world(t, options) {
      const c = client(t, { token: await mint(await tenant("faults")), ...options });
      return { c };
    },
    call: (w) => w.c.workspaces.create({ image: "node-20" }),
    ok: (r) => assert(/^ws_/.test(r.id), `the next create returned a workspace: ${JSON.stringify(r).slice(0, 200)}`),
    sent: async (mark) => (await netSince(mark)).filter((r) => r.method === "POST" && r.path === "/workspace").length,
  },
  "gateway read": {
    match: { listener: "gateway", path: "/files/read", method: "GET" },
    async world(t, options) {
      const { ns, id } = await gatewayWorkspace();
      const c = client(t, { token: await mint(ns), ...options });
      const rt = await c.workspaces.runtime(id); // mints the gateway token (before any fault)
      assert(rt instanceof WorkspaceRuntime, "runtime() resolved");
      return { c, rt };
    },
    call: (w) => w.rt.files.read({ path: "/app/README.md" }),
    ok: (r) => assert(r.content.startsWith("# Workspace"), `the next read returned the file: ${JSON.stringify(r).slice(0, 200)}`),
    sent: async (mark) => (await gatewaySince(mark)).filter((r) => r.path === "/files/read").length,
  },
};
const ALL = Object.keys(TARGETS);

/** No form of an error shows a token (the runner's watch list: minted + every bearer sent). */
async function noTokenIn(e, what) {
  const forms = [e.message, String(e.stack), JSON.stringify(e), String(e)].join("\n");
  assert(!/eyJ[\w-]+\.eyJ[\w-]+/.test(forms), `${what}: no JWT in the error`);
  eq(await containsSecret(forms), false, `${what}: a watched token in the error`);
}

// ---- the matrix -----------------------------------------------------------------------------

const httpDate = (secondsAhead) => new Date(Date.now() + secondsAhead * 1000).toUTCString();

/**
 * One row per fault. `spec` is the fault (path/method/listener come from the target); `expect`
 * the OblienError fields; `sent` the requests per target (GETs retry network errors and
 * 502/503/504 twice, never 500 or a timeout; POSTs never retry); `calls` how many successive calls
 * the fault affects (a burst); `clear` removes what is left of the fault before the next call.
 */
const FAULTS = [
  {
    name: "latency beyond timeoutMs",
    options: { timeoutMs: 400 },
    spec: { kind: "latency", latency_ms: 2500 },
    expect: { code: "timeout", status: undefined },
    sent: 1, // a timeout is never retried: the server may still be working on it
    ms: [350, 1500],
  },
  {
    name: "500 burst (3 in a row)",
    spec: { kind: "status", status: 500, times: 3 },
    expect: { code: "server_error", status: 500, requestId: /^req_/ },
    sent: 1, // 500 is not transient: never retried, so each call of the burst fails once
    calls: 3,
  },
  {
    name: "502 with an HTML body",
    spec: { kind: "non_json", status: 502, times: 3 },
    expect: { code: "server_error", status: 502, message: /502.*not JSON/ },
    sent: { "GET list": 3, "POST create": 1, "gateway read": 3 },
    clear: true,
  },
  {
    name: "429 with Retry-After in seconds",
    spec: { kind: "status", status: 429, headers: { "Retry-After": "120" } },
    expect: { code: "rate_limited", status: 429, retryAfter: 120 },
    sent: 1, // beyond the 60 s a GET waits for by itself: rejected at once
    ms: [0, 1000],
  },
  {
    name: "429 with Retry-After as an HTTP date",
    spec: () => ({ kind: "status", status: 429, headers: { "Retry-After": httpDate(120) } }),
    expect: { code: "rate_limited", status: 429 },
    retryAfter: [118, 121],
    sent: 1,
    ms: [0, 1000],
  },
  {
    name: "dropped connection",
    spec: { kind: "drop", times: 10 }, // Chromium may itself resend on a reused socket
    expect: { code: "network_error", status: undefined },
    clear: true,
  },
  {
    name: "200 with malformed JSON",
    spec: { kind: "status", status: 200, body: '{"success":true,"workspaces":[{"id":"ws_', content_type: "application/json" },
    expect: { code: "server_error", status: 200, message: /not JSON/ },
    sent: 1,
  },
  {
    name: "200 with success:false",
    spec: { kind: "status", status: 200, body: { success: false, code: "quota_exceeded", message: "Quota exceeded for this tenant" } },
    expect: { code: "quota_exceeded", status: 200, message: "Quota exceeded for this tenant" },
    sent: 1,
  },
];

for (const row of FAULTS) {
  for (const target of row.targets ?? ALL) {
    const T = TARGETS[target];
    test(`fault: ${row.name} × ${target}`, async (t) => {
      const w = await T.world(t, row.options);
      const spec = typeof row.spec === "function" ? row.spec() : row.spec;
      await fault({ ...spec, ...T.match });
      for (let i = 1; i <= (row.calls ?? 1); i++) {
        const what = `${row.name} × ${target}${row.calls ? ` (call ${i})` : ""}`;
        const mark = await netMark();
        const t0 = performance.now();
        const e = await rejects(T.call(w), row.expect, what);
        const ms = performance.now() - t0;
        if (row.ms) between(ms, row.ms[0], row.ms[1], `${what}: ms until rejected`);
        if (row.retryAfter) between(e.retryAfter, row.retryAfter[0], row.retryAfter[1], `${what}: retryAfter`);
        else if (row.expect.code !== "rate_limited") eq(e.retryAfter, undefined, `${what}: retryAfter`);
        const sent = typeof row.sent === "object" ? row.sent[target] : row.sent;
        if (sent !== undefined) eq(await T.sent(mark), sent, `${what}: requests sent`);
        assert(!e.message.includes("<"), `${what}: the message quotes no HTML: ${e.message}`);
        await noTokenIn(e, what);
      }
      if (row.clear) await admin("DELETE", "/__emulator/faults");
      T.ok(await T.call(w));
    });
  }
}

// ---- huge bodies ----------------------------------------------------------------------------

const HUGE_OK = {
  "GET list": (r) => {
    eq(r.success, true, "the huge body's success");
    assert(typeof r.padding === "string" && r.padding.length >= 8 * MB - 64, "the whole 8 MB body arrived");
  },
  "gateway read": (r) => assert(typeof r.padding === "string" && r.padding.length >= 8 * MB - 64, "the whole 8 MB body arrived"),
};

for (const target of ALL) {
  const T = TARGETS[target];
  test(`fault: huge 200 JSON body (8 MB) × ${target}: settles cleanly and the next call works`, async (t) => {
    const w = await T.world(t);
    await fault({ kind: "status", status: 200, body: { success: true }, body_bytes: 8 * MB, ...T.match });
    const mark = await netMark();
    if (HUGE_OK[target]) {
      // A 2xx JSON body without success:false is the result, whatever its size.
      HUGE_OK[target](await T.call(w));
    } else {
      // create() needs a `workspace` object in the answer: a clean server_error, no status.
      const e = await rejects(T.call(w), { code: "server_error", status: undefined, message: /no 'workspace' object/ }, `huge body × ${target}`);
      await noTokenIn(e, `huge body × ${target}`);
    }
    eq(await T.sent(mark), 1, "requests sent");
    T.ok(await T.call(w));
  });
}

test("fault: huge 500 non-JSON body (8 MB, text/html) × GET list: server_error with a short message; the next call works", async (t) => {
  const T = TARGETS["GET list"];
  const w = await T.world(t);
  // (An empty body padded with "x": the emulator pads it fastest; the Content-Type says HTML.)
  await fault({ kind: "status", status: 500, body: "", content_type: "text/html; charset=utf-8", body_bytes: 8 * MB, ...T.match });
  const e = await rejects(T.call(w), { code: "server_error", status: 500, message: /500.*not JSON/ }, "huge HTML 500");
  assert(e.message.length < 200, `the message does not carry the body (${e.message.length} chars)`);
  T.ok(await T.call(w));
});

test("fault: 429 with an HTTP date already past × GET list: retried at once, succeeds", async (t) => {
  const T = TARGETS["GET list"];
  const w = await T.world(t);
  await fault({ kind: "status", status: 429, headers: { "Retry-After": httpDate(-30) }, ...T.match });
  const mark = await netMark();
  const t0 = performance.now();
  T.ok(await T.call(w));
  assert(performance.now() - t0 < 1000, "no wait for a date in the past");
  eq(await T.sent(mark), 2, "requests (the 429, then the retry)");
});

// ---- CORS -----------------------------------------------------------------------------------

for (const target of ALL) {
  const T = TARGETS[target];
  test(`fault: CORS refusal (an origin the emulator refuses) × ${target}: network_error; allowed again, the next call works`, async (t) => {
    const w = await T.world(t);
    // Both listeners answer only this other origin now; restored even if the test fails.
    t.defer(() => admin("PUT", "/__emulator/cors", { origins: null }));
    await admin("PUT", "/__emulator/cors", { origins: ["http://refused.example"] });
    const what = `CORS × ${target}`;
    // Browsers hide why a cross-origin request failed: a CORS refusal is a network error.
    const e = await rejects(T.call(w), { code: "network_error", status: undefined }, what);
    assert(/CORS/.test(e.message), `the message names CORS as a possible cause: ${e.message}`);
    await noTokenIn(e, what);
    await admin("PUT", "/__emulator/cors", { origins: null });
    T.ok(await T.call(w));
  });
}

// ---- what the objects show ------------------------------------------------------------------

/** Every string reachable from `value` (own properties, and getters of its prototype chain). */
function reachableStrings(value, depth = 3, seen = new Set()) {
  if (value === null || value === undefined) return [];
  if (typeof value !== "object" && typeof value !== "function") return [String(value)];
  if (seen.has(value) || depth < 0) return [];
  seen.add(value);
  const out = [];
  try {
    out.push(String(value));
  } catch {
    // a null-prototype object
  }
  for (const key of Reflect.ownKeys(value)) {
    out.push(String(key));
    let v;
    try {
      v = value[key];
    } catch {
      continue; // e.g. a getter that throws after dispose
    }
    if (typeof v !== "function") out.push(...reachableStrings(v, depth - 1, seen));
  }
  let proto = Object.getPrototypeOf(value);
  while (proto && proto !== Object.prototype && proto !== Function.prototype) {
    for (const [key, d] of Object.entries(Object.getOwnPropertyDescriptors(proto))) {
      if (!d.get) continue;
      try {
        out.push(...reachableStrings(value[key], depth - 1, seen));
      } catch {
        // disposed
      }
    }
    proto = Object.getPrototypeOf(proto);
  }
  return out;
}

test("objects: the client holds only a pointer, its workspaces, runtime, files and exec nothing of their own; no form of them shows a token", async (t) => {
  const { ns, id } = await gatewayWorkspace();
  const token = await mint(ns);
  const c = client(t, { token });
  const rt = await c.workspaces.runtime(id);
  eq((await rt.health()).status, "ok", "a gateway call (the runner now watches the gateway token)");
  const objects = { client: c, workspaces: c.workspaces, runtime: rt, files: rt.files, exec: rt.exec };
  for (const [name, object] of Object.entries(objects)) {
    const own = Reflect.ownKeys(object);
    if (object === c) {
      // The wasm-bindgen client: one own property, the address of the Rust value in the wasm memory.
      deepEq(own, ["__wbg_ptr"], `${name}: own properties`);
      eq(typeof object.__wbg_ptr, "number", `${name}: __wbg_ptr is a number`);
    } else {
      // The views (js/views.js): no own property; their one Rust dispatch is in a private field.
      deepEq(own, [], `${name}: own properties`);
    }
    const forms = [
      String(object), JSON.stringify(object) ?? "", JSON.stringify(Object.keys(object)),
      JSON.stringify(Object.entries(object)), JSON.stringify({ ...object }), ...reachableStrings(object),
    ].join("\n");
    assert(!forms.includes(token), `${name}: the session token shows`);
    assert(!/eyJ[\w-]+\.eyJ[\w-]+/.test(forms), `${name}: a JWT shows`);
    eq(await containsSecret(forms), false, `${name}: a watched token (session or gateway) shows`);
    // The runner fails the run if a console line shows a token.
    console.log(name, object);
    console.log(`${name}: %o %O`, object, object);
    console.log(String(object), JSON.stringify(object));
  }
  eq(JSON.stringify(c), JSON.stringify(c.tokenInfo), "JSON.stringify(client) is its tokenInfo");
  assert(JSON.stringify(rt) === undefined || !/eyJ/.test(JSON.stringify(rt)), "JSON.stringify(runtime)");
  // structuredClone / postMessage cannot carry the client out (its state is in the wasm memory).
  const cloned = structuredClone({ ...c });
  deepEq(Object.keys(cloned), ["__wbg_ptr"], "a structured clone of the client's own properties");
});

test("objects: after dispose(), the client shows nothing at all (JSON null; tokenInfo throws 'disposed')", async (t) => {
  const token = await mint(await tenant("faults"));
  const c = new OblienUserClient({ baseUrl: API, token });
  c.dispose();
  eq(JSON.stringify(c), "null", "JSON.stringify(disposed client)");
  const forms = reachableStrings(c).join("\n");
  assert(!forms.includes(token), "no token reachable from a disposed client");
});

test("documented limit: script in the same page can read the token out of the wasm memory (SECURITY.md, 'what it cannot')", async (t) => {
  // Not a guarantee, a limit: the token must be somewhere the client can send it from. Any script
  // running in the page (XSS, a compromised third-party script) can read the module's memory, or
  // simply wrap `fetch` and read the Authorization header. SECURITY.md says so; this keeps it honest.
  const wasm = await setupPackage();
  const token = await mint(await tenant("faults"));
  const c = client(t, { token });
  eq((await c.workspaces.list()).total, 0, "a call with the token");
  // latin1 maps every byte to one char, so an ASCII token is found as it is.
  const memory = new TextDecoder("latin1").decode(new Uint8Array(wasm.memory.buffer));
  const found = memory.includes(token);
  assert(found, "the held token is in the wasm linear memory (readable by same-origin script)");
  assert(minted.includes(token), "the token is watched by the runner");
});

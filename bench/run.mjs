// Usage: bench/run.sh [--smoke] [--out FILE]   (or `make bench` / `make bench-smoke`)
//        = scripts/with-emulator.sh node bench/run.mjs [--smoke] [--out FILE]
//
// Benchmarks the built package (pkg/) in headless Chromium against a running emulator, and the
// emulator itself with wrk. Prints one markdown table, then the invariant checks and
// `N passed, M failed`; writes every figure (and the raw samples) to bench-results/bench.json
// and the table to bench-results/bench.md. Every ratio is client ÷ plain fetch, both measured in
// this run, alternating in chunks so that both see the same machine noise.
//
// - A loopback server of its own serves pkg/ under /pkg/ and bench/pages/ under /bench/, gzip
//   (level 9) when asked, with COOP/COEP so the pages are cross-origin isolated and
//   performance.now() ticks in 5 µs steps, not 100 µs. The emulator is another origin (CORS), as in
//   production.
// - --smoke: tiny counts, same checks (fan-in host refresh calls == 1, the client's answers and
//   requests equal plain fetch's), well under a minute. The figures are not meaningful then.
// Everything is bounded: BENCH_TIMEOUT_S (default 900, smoke 120); wrk by -d and a request cap.
import { createServer } from "node:http";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { extname, join, normalize, resolve, sep, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { execFileSync, spawn } from "node:child_process";
import os from "node:os";
import { launchChromium, watchPage } from "../scripts/chromium.mjs";
import { socketBench, socketConfig, socketRows } from "./socket.mjs";
import { crossTabBench, crossTabRows } from "./crosstab.mjs";
import { mean, median, pct, round3, sum, summary } from "./stats.mjs";

const here = fileURLToPath(new URL(".", import.meta.url));
const root = resolve(here, "..");
const pagesDir = join(here, "pages");
const pkgDir = resolve(process.env.PKG_DIR ?? join(root, "pkg"));

const args = process.argv.slice(2);
const smoke = args.includes("--smoke");
const outIndex = args.indexOf("--out");
const outFile = resolve(outIndex >= 0 ? args[outIndex + 1] : join(root, "bench-results", smoke ? "bench-smoke.json" : "bench.json"));
const timeoutS = Number(process.env.BENCH_TIMEOUT_S ?? (smoke ? 120 : 900));
// BENCH_ONLY=startup|perCall|stream: that scenario alone, printed, for quick comparisons while
// changing the client (nothing is written to bench-results/).
const only = process.env.BENCH_ONLY;
const ONLY_DONE = Symbol("only");

const env = (name) => {
  const value = process.env[name];
  if (!value) {
    console.error(`bench: ${name} is not set; run me as: scripts/with-emulator.sh node bench/run.mjs (or bench/run.sh)`);
    process.exit(2);
  }
  return value;
};
const api = env("OBLIEN_EMULATOR_API").replace(/\/+$/, "");
const gateway = env("OBLIEN_EMULATOR_GATEWAY").replace(/\/+$/, "");
const adminId = env("OBLIEN_EMULATOR_CLIENT_ID");
const adminSecret = env("OBLIEN_EMULATOR_CLIENT_SECRET");

// ---- what is measured, how many times ----------------------------------------------------------
const config = smoke
  ? {
    workspaces: 3,
    startupLoads: 3,
    perCall: { n: 50, chunk: 25, warmup: 5 },
    throughput: { concurrency: 20, rounds: 2, warmup: 1 },
    stream: { lines: 2000, rounds: 1, warmup: 0 },
    fanIn: { n: 100, rounds: 1, ttl: 4, margin: 2, refreshDelayMs: 50, warmup: 1 },
    memory: { calls: 200, swaps: 50, streams: 20, reconnects: 4, steps: 2, batch: 20, warmup: 20 },
    wrk: { seconds: 2, connections: 4, maxRequests: 200_000 },
  }
  : {
    workspaces: 3,
    startupLoads: 20,
    perCall: { n: 2000, chunk: 100, warmup: 100 },
    throughput: { concurrency: 200, rounds: 10, warmup: 2 },
    // seq 100000: 588,895 bytes of stdout (under the emulator's 1 MiB per-task log).
    stream: { lines: 100_000, rounds: 40, warmup: 2 },
    fanIn: { n: 1000, rounds: 3, ttl: 8, margin: 4, refreshDelayMs: 50, warmup: 1 },
    memory: { calls: 10_000, swaps: 1000, streams: 1000, reconnects: 100, steps: 10, batch: 50, warmup: 500 },
    wrk: { seconds: 10, connections: 16, maxRequests: 2_000_000 },
  };
config.socket = socketConfig(smoke);
const FILE_PATH = "/app/README.md";

// ---- statistics: bench/stats.mjs -----------------------------------------------------------------

// ---- formatting ------------------------------------------------------------------------------------
const int = (n) => Math.round(n).toLocaleString("en-US");
const bytes = (n) => `${int(n)} B`;
const kib = (n) => (Math.abs(n) >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(2)} MiB` : `${(n / 1024).toFixed(1)} KiB`);
const signedKib = (n) => `${n >= 0 ? "+" : "−"}${kib(Math.abs(n))}`;
const ms = (x) => (x >= 100 ? `${x.toFixed(0)} ms` : x >= 10 ? `${x.toFixed(1)} ms` : `${x.toFixed(2)} ms`);
const us = (x) => `${int(x * 1000)} µs`;
const ratio = (x) => `${x.toFixed(2)}×`;
const signedMs = (x) => `${x >= 0 ? "+" : "−"}${ms(Math.abs(x))}`;

// ---- checks ------------------------------------------------------------------------------------------
const checks = [];
function check(name, ok, detail = "") {
  checks.push({ name, ok: Boolean(ok), detail });
  console.error(`${ok ? "ok  " : "FAIL"}  ${name}${detail ? ` (${detail})` : ""}`);
}

// ---- sizes from the files -----------------------------------------------------------------------------
function fileSizes(files) {
  const data = Buffer.concat(files.map((f) => readFileSync(f)));
  return { raw: data.length, gzip: gzipSync(data, { level: 9 }).length };
}
const snippets = [];
(function walk(d) {
  let entries = [];
  try {
    entries = readdirSync(d);
  } catch {
    return;
  }
  for (const e of entries) {
    const p = join(d, e);
    if (statSync(p).isDirectory()) walk(p);
    else if (p.endsWith(".js")) snippets.push(p);
  }
})(join(pkgDir, "snippets"));
const wasmFile = join(pkgDir, "oblien_user_client_bg.wasm");
const glueFile = join(pkgDir, "oblien_user_client.js");
for (const f of [wasmFile, glueFile]) {
  try {
    statSync(f);
  } catch {
    console.error(`bench: ${f} is missing; build the package first (make pkg)`);
    process.exit(2);
  }
}

// ---- static server (gzip, cross-origin isolated) --------------------------------------------------
const types = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".wasm": "application/wasm",
  ".json": "application/json",
};
const mounts = [["/pkg/", pkgDir], ["/bench/", pagesDir], ["/tab/", join(root, "tests", "crosstab")]];
const gzipCache = new Map();
const server = createServer(async (req, res) => {
  const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
  for (const [prefix, dir] of mounts) {
    if (!path.startsWith(prefix)) continue;
    const file = normalize(join(dir, path.slice(prefix.length)));
    if (!file.startsWith(dir.endsWith(sep) ? dir : dir + sep)) break;
    try {
      const info = await stat(file);
      let data = await readFile(file);
      const headers = {
        "content-type": types[extname(file)] ?? "application/octet-stream",
        "cache-control": "no-store",
        "cross-origin-opener-policy": "same-origin",
        "cross-origin-embedder-policy": "require-corp",
        vary: "accept-encoding",
      };
      if (/\bgzip\b/.test(req.headers["accept-encoding"] ?? "")) {
        const key = `${file}:${info.mtimeMs}`;
        if (!gzipCache.has(key)) gzipCache.set(key, gzipSync(data, { level: 9 }));
        data = gzipCache.get(key);
        headers["content-encoding"] = "gzip";
      }
      headers["content-length"] = data.length;
      res.writeHead(200, headers);
      res.end(data);
      return;
    } catch {
      break;
    }
  }
  res.writeHead(404, { "content-type": "text/plain" });
  res.end("not found");
});
await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
const origin = `http://127.0.0.1:${server.address().port}`;

// ---- emulator admin calls from node (setup for the page loads and wrk) ------------------------------
async function call(method, url, { body, bearer, adminKey } = {}) {
  const headers = {};
  if (adminKey) Object.assign(headers, { "X-Client-ID": adminId, "X-Client-Secret": adminSecret });
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = await res.json().catch(() => null);
  return { status: res.status, json };
}
async function ok(method, url, options) {
  const r = await call(method, url, options);
  if (r.status >= 300) throw new Error(`${method} ${new URL(url).pathname}: HTTP ${r.status} ${JSON.stringify(r.json)?.slice(0, 200)}`);
  return r.json;
}
/** A namespace with `n` ready workspaces, its token, and the first workspace's gateway token. */
async function fixture(label, n) {
  const name = `${label}-${Math.random().toString(36).slice(2, 8)}`;
  const ns = (await ok("POST", `${api}/namespaces`, { adminKey: true, body: { name } })).data.slug;
  const token = (await ok("POST", `${api}/tokens`, { adminKey: true, body: { scope: "namespace", namespace: ns, ttl: 3600 } })).token;
  const ids = [];
  for (let i = 0; i < n; i++) {
    const created = await ok("POST", `${api}/workspace`, { bearer: token, body: { image: "node-20", name: `${label}-${i}` } });
    ids.push((created.workspace ?? created.data ?? created).id);
  }
  const gatewayToken = (await ok("POST", `${api}/workspace/${ids[0]}/runtime-api-access/enable`, { bearer: token, body: {} })).token;
  const end = Date.now() + 20_000;
  for (;;) {
    const list = await ok("GET", `${api}/workspace`, { bearer: token });
    const read = await call("GET", `${gateway}/files/read?path=${encodeURIComponent(FILE_PATH)}`, { bearer: gatewayToken });
    if (list.workspaces.every((w) => w.ready) && read.status === 200) break;
    if (Date.now() > end) throw new Error(`${label}: the workspaces were not ready within 20 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { ns, token, ids, gatewayToken };
}

// ---- the run -----------------------------------------------------------------------------------------------
const started = Date.now();
const results = { version: 1, mode: smoke ? "smoke" : "full", date: new Date().toISOString(), config, ratioMeaning: "client ÷ plain fetch" };
const pageErrors = [];
let browser;
let wrkChild;
const killTimer = setTimeout(() => {
  console.error(`bench: over the time limit (${timeoutS} s, BENCH_TIMEOUT_S); stopping`);
  if (wrkChild) wrkChild.kill("SIGKILL");
  Promise.resolve(browser?.close()).finally(() => process.exit(1));
}, timeoutS * 1000);

/** page.evaluate with a bound. */
async function evaluate(page, what, fn, arg, limitMs = 300_000) {
  let timer;
  try {
    return await Promise.race([
      page.evaluate(fn, arg),
      new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no answer within ${limitMs / 1000} s`)), limitMs); }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The functions with the most self time in a CDP profile, as `µs  name  url:line`, to stderr. */
function printProfile(profile, top = 40) {
  const self = new Map();
  const dt = new Map();
  profile.samples.forEach((id, i) => dt.set(id, (dt.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  for (const node of profile.nodes) {
    const f = node.callFrame;
    const key = `${f.functionName || "(anonymous)"}  ${f.url.split("/").pop()}:${f.lineNumber}`;
    self.set(key, (self.get(key) ?? 0) + (dt.get(node.id) ?? 0));
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  console.error(`profile: ${Math.round(total / 1000)} ms sampled; top self time:`);
  for (const [key, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.error(`${String(Math.round(us)).padStart(9)} µs  ${key}`);
  }
}

function machine(browserVersion) {
  const run = (cmd, a) => {
    try {
      return execFileSync(cmd, a, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).split("\n")[0].trim();
    } catch (e) {
      return String(e.stdout || e.stderr || "").split("\n")[0].trim() || null;
    }
  };
  let distro = null;
  try {
    distro = /PRETTY_NAME="?([^"\n]+)/.exec(readFileSync("/etc/os-release", "utf8"))?.[1] ?? null;
  } catch { /* not Linux */ }
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? "unknown",
    cores: cpus.length,
    memoryBytes: os.totalmem(),
    os: `${distro ?? os.type()} (kernel ${os.release()})`,
    chromium: browserVersion,
    node: process.version,
    rustc: run("rustc", ["--version"]),
    wrk: run("wrk", ["-v"]),
    emulatorProfile: process.env.BENCH_EMULATOR_PROFILE ?? "unknown",
    commit: run("git", ["-C", root, "describe", "--always", "--dirty"]),
    loadAverageAtStart: os.loadavg(),
  };
}

try {
  browser = await launchChromium([
    // performance.memory in bytes (not bucketed), and window.gc() before every memory reading.
    "--enable-precise-memory-info", "--js-flags=--expose-gc",
  ]);
  results.machine = machine(browser.version());
  console.error(`bench (${results.mode}): pages ${origin}, emulator ${api} / ${gateway}, ${results.machine.cores} cores, Chromium ${results.machine.chromium}`);

  // 1. Size ------------------------------------------------------------------------------------------------
  const wasmSize = fileSizes([wasmFile]);
  const jsSize = fileSizes([glueFile, ...snippets]);
  const plainSize = fileSizes([join(pagesDir, "plain-fetch.js")]);
  results.size = { wasm: wasmSize, js: { ...jsSize, files: [glueFile, ...snippets].map((f) => f.slice(pkgDir.length + 1)) }, plainFetchJs: plainSize };

  // 2. Start-up: fresh contexts (empty cache, new connections), client and plain alternating ---------------
  if (!only || only === "startup") {
  const startupFixture = await fixture("startup", config.workspaces);
  const startupLoad = async (kind) => {
    const context = await browser.newContext();
    try {
      await context.addInitScript((cfg) => { window.__BENCH = cfg; }, { api, gateway, token: startupFixture.token });
      const page = await context.newPage();
      const errors = [];
      await watchPage(page, (error) => errors.push(error));
      const transfers = [];
      page.on("requestfinished", (request) => {
        transfers.push(request.sizes().then((s) => ({
          url: request.url(), path: new URL(request.url()).pathname, ownOrigin: request.url().startsWith(origin),
          wire: s.responseBodySize + s.responseHeadersSize, body: s.responseBodySize,
        })).catch(() => null));
      });
      // The page says when it is done on its console. Waiting with waitForFunction had Playwright
      // evaluate its injected script (12–44 ms of the main thread, traced) right after `load`,
      // inside both pages' measured windows: both slower by the same block of time, and the
      // ratio closer to 1 than the pages' own cost (1.6× with it, ~2.0× without, same build).
      const done = page.waitForEvent("console", { predicate: (m) => m.text() === "startup: done", timeout: 30_000 }).catch(() => {});
      await page.goto(`${origin}/bench/${kind === "client-preload" ? "startup-client.html?preload" : `startup-${kind}.html`}`, { waitUntil: "load", timeout: 30_000 });
      await done;
      const timings = await page.evaluate(() => window.__startup ?? null);
      const files = (await Promise.all(transfers)).filter((t) => t && t.ownOrigin);
      pageErrors.push(...errors.map((e) => `startup-${kind}: ${e}`));
      return { timings, files };
    } finally {
      await context.close();
    }
  };
  await startupLoad("client"); // warm-up: the browser's first context pays for itself
  await startupLoad("plain");
  // client-preload: the same page with a preload hint for the wasm (what the README recommends).
  const startup = { client: [], plain: [], "client-preload": [] };
  let firstLoad = {};
  for (let i = 0; i < config.startupLoads; i++) {
    const kinds = ["client", "plain", "client-preload"];
    for (const kind of i % 2 ? kinds.reverse() : kinds) {
      const load = await startupLoad(kind);
      startup[kind].push(load.timings);
      firstLoad[kind] ??= load.files;
    }
  }
  const loads = Object.values(startup).flat();
  const loadsOk = loads.every((t) => t && t.workspaces === config.workspaces);
  check(`start-up: every page load constructed its client and listed ${config.workspaces} workspaces`, loadsOk,
    `${loads.filter(Boolean).length} of ${3 * config.startupLoads}`);
  const transferOf = (files, pred) => files.filter(pred).reduce((a, f) => ({ wire: a.wire + f.wire, body: a.body + f.body, requests: a.requests + 1 }), { wire: 0, body: 0, requests: 0 });
  results.size.firstLoad = {
    client: {
      package: transferOf(firstLoad.client ?? [], (f) => f.path.startsWith("/pkg/")),
      page: transferOf(firstLoad.client ?? [], () => true),
      files: firstLoad.client,
    },
    plain: {
      package: transferOf(firstLoad.plain ?? [], (f) => f.path.endsWith("/plain-fetch.js")),
      page: transferOf(firstLoad.plain ?? [], () => true),
      files: firstLoad.plain,
    },
  };
  if (loadsOk) {
    const field = (kind, key) => startup[kind].map((t) => t[key]);
    results.startup = {};
    for (const kind of ["client", "plain", "client-preload"]) {
      results.startup[kind] = Object.fromEntries(["importMs", "initMs", "constructedMs", "firstCallMs", "sinceNavigationMs"].map((k) => [k, { ...summary(field(kind, k)), samples: round3(field(kind, k)) }]));
    }
    results.startup.ratio = {
      constructed: results.startup.client.constructedMs.median / results.startup.plain.constructedMs.median,
      firstCall: results.startup.client.firstCallMs.median / results.startup.plain.firstCallMs.median,
      constructedPreload: results.startup["client-preload"].constructedMs.median / results.startup.plain.constructedMs.median,
    };
  }
  }
  if (only === "startup") {
    const medians = (kind) => Object.fromEntries(Object.entries(results.startup?.[kind] ?? {}).map(([k, v]) => [k, v.median]));
    console.log(JSON.stringify({ ratio: results.startup?.ratio, client: medians("client"), plain: medians("plain"), preload: medians("client-preload") }));
    throw ONLY_DONE;
  }

  // 3-6. In one page: setup, same answers, same requests, per-call, throughput, fan-in, memory ----------------
  const context = await browser.newContext();
  await context.addInitScript((cfg) => { window.__BENCH = cfg; }, { api, gateway, adminId, adminSecret });
  const page = await context.newPage();
  await watchPage(page, (error) => pageErrors.push(`bench page: ${error}`));
  page.on("crash", () => pageErrors.push("bench page: crashed"));
  const requests = [];
  const emulatorOrigins = [new URL(api).origin, new URL(gateway).origin];
  let recording = false;
  page.on("request", (request) => {
    if (!recording || !emulatorOrigins.includes(new URL(request.url()).origin)) return;
    requests.push({ method: request.method(), url: request.url(), headers: request.allHeaders() });
  });
  await page.goto(`${origin}/bench/bench.html`, { waitUntil: "load", timeout: 30_000 });
  await page.waitForFunction(() => window.__benchReady === true, null, { timeout: 30_000 });

  const setup = await evaluate(page, "setup", (o) => window.bench.setup(o), { workspaces: config.workspaces, path: FILE_PATH }, 60_000);
  results.page = setup;
  // The wasm memory after each scenario: its high-water mark, since it never shrinks.
  const wasmAfter = { init: setup.wasmBytesAfterInit };
  const noteWasm = async (label) => { wasmAfter[label] = await evaluate(page, "wasmBytes", () => window.bench.wasmBytes(), undefined, 10_000); };
  await noteWasm("setup");
  check("the bench page is cross-origin isolated (performance.now() in 5 µs steps)", setup.crossOriginIsolated);
  check("performance.memory and gc() are available (--enable-precise-memory-info, --expose-gc)", setup.memoryApi && setup.gcExposed);
  for (const kind of ["list", "read"]) check(`${kind}: the client's answer equals plain fetch's`, setup.equal[kind]);

  // The client and the baseline send the same request: method, URL, header names, bearer token.
  for (const kind of ["list", "read"]) {
    const sent = {};
    for (const who of ["client", "plain"]) {
      const mark = requests.length;
      recording = true;
      await evaluate(page, `one ${kind}`, ([k, w]) => window.bench.one(k, w), [kind, who], 30_000);
      recording = false;
      sent[who] = await Promise.all(requests.slice(mark).map(async (r) => ({ ...r, headers: await r.headers })));
    }
    const shape = (r) => `${r.method} ${r.url} [${Object.keys(r.headers).map((h) => h.toLowerCase()).sort().join(",")}]`;
    // The same credential: the same JWT for list; for read, a gateway JWT of the same workspace and
    // connection (GET …/token signs a new one on every call, so iat/exp differ).
    const claims = (r) => {
      const m = /^Bearer [\w-]+\.([\w-]+)\.[\w-]+$/.exec(r.headers.authorization ?? "");
      if (!m) return null;
      const { iat, exp, nbf, jti, ...rest } = JSON.parse(Buffer.from(m[1], "base64url").toString("utf8"));
      return JSON.stringify(Object.entries(rest).sort());
    };
    const sameToken = kind === "list"
      ? sent.client[0]?.headers.authorization === sent.plain[0]?.headers.authorization
      : claims(sent.client[0] ?? {}) !== null && claims(sent.client[0]) === claims(sent.plain[0]);
    const same = sent.client.length === 1 && sent.plain.length === 1 && shape(sent.client[0]) === shape(sent.plain[0]) && sameToken;
    check(`${kind}: the client sends the same request as plain fetch (method, URL, headers, ${kind === "list" ? "token" : "token claims"})`, same,
      same ? `${sent.client[0].method} ${new URL(sent.client[0].url).pathname}, ${Object.keys(sent.client[0].headers).length} headers` : `client: ${sent.client.map(shape).join(" | ")}; plain: ${sent.plain.map(shape).join(" | ")}`);
  }

  // 3. Per-call overhead. BENCH_PROFILE=FILE: Chromium's sampling profile of these calls (both
  // implementations, alternating) goes to FILE (.cpuprofile, for DevTools) and its top self times
  // by function to stderr; build the package with names to read the wasm frames.
  results.perCall = {};
  const profiler = process.env.BENCH_PROFILE ? await context.newCDPSession(page) : null;
  if (profiler) {
    await profiler.send("Profiler.enable");
    await profiler.send("Profiler.setSamplingInterval", { interval: 50 });
    await profiler.send("Profiler.start");
  }
  for (const kind of only === "stream" ? [] : ["list", "read"]) {
    const r = await evaluate(page, `perCall ${kind}`, ([k, o]) => window.bench.perCall(k, o), [kind, config.perCall]);
    const c = summary(r.samples.client);
    const p = summary(r.samples.plain);
    results.perCall[kind] = {
      client: { ...c, meanFromChunks: sum(r.chunkMs.client) / r.samples.client.length },
      plain: { ...p, meanFromChunks: sum(r.chunkMs.plain) / r.samples.plain.length },
      ratio: c.median / p.median,
      overheadMs: c.median - p.median,
      samples: { client: round3(r.samples.client), plain: round3(r.samples.plain) },
    };
    await noteWasm(`perCall-${kind}`);
  }
  if (profiler) {
    const { profile } = await profiler.send("Profiler.stop");
    await writeFile(process.env.BENCH_PROFILE, JSON.stringify(profile));
    printProfile(profile);
    await profiler.detach();
  }
  if (only === "perCall") {
    console.log(JSON.stringify(Object.fromEntries(Object.entries(results.perCall).map(([k, v]) => [k, { ratio: v.ratio, client: v.client.median, plain: v.plain.median }]))));
    throw ONLY_DONE;
  }

  // 4. Throughput.
  if (!only) {
    const r = await evaluate(page, "throughput", ([k, o]) => window.bench.throughput(k, o), ["list", config.throughput]);
    const rate = (rounds) => (config.throughput.concurrency * rounds.length) / (sum(rounds) / 1000);
    const c = rate(r.roundMs.client);
    const p = rate(r.roundMs.plain);
    results.throughput = {
      list: { client: { callsPerSecond: c, roundMs: round3(r.roundMs.client) }, plain: { callsPerSecond: p, roundMs: round3(r.roundMs.plain) }, ratio: c / p },
    };
    await noteWasm("throughput");
  }

  // 4b. Exec stream throughput: MB/s of `seq` output, the client vs plain fetch reading the same SSE.
  {
    const r = await evaluate(page, "streamThroughput", (o) => window.bench.streamThroughput(o), config.stream);
    const expected = Array.from({ length: config.stream.lines }, (_, i) => String(i + 1).length + 1).reduce((a, b) => a + b, 0);
    for (const who of ["client", "plain"]) {
      const bad = r[who].filter((x) => x.bytes !== expected || !x.exited);
      check(`stream: every run of seq ${config.stream.lines} through ${who === "client" ? "the client" : "plain fetch"} delivered all ${int(expected)} bytes and one exit`, bad.length === 0,
        bad.length ? bad.map((x) => `${x.bytes} bytes, exit ${x.exited}`).join("; ") : "");
    }
    const mbps = (runs) => runs.map((x) => x.bytes / 1e6 / (x.ms / 1000));
    const c = summary(mbps(r.client));
    const p = summary(mbps(r.plain));
    results.stream = {
      outputBytes: expected,
      client: { mbPerSecond: c, ms: round3(r.client.map((x) => x.ms)) },
      plain: { mbPerSecond: p, ms: round3(r.plain.map((x) => x.ms)) },
      ratio: c.median / p.median,
    };
    await noteWasm("stream");
  }

  if (only === "stream") {
    console.log(JSON.stringify({ ratio: results.stream.ratio, client: results.stream.client.ms, plain: results.stream.plain.ms }));
    throw ONLY_DONE;
  }

  // 5. Refresh fan-in.
  {
    const rounds = await evaluate(page, "fanIn", (o) => window.bench.fanIn(o), config.fanIn);
    rounds.forEach((r, i) => {
      const reasons = r.hostDuring.map((h) => h.reason).join(",");
      check(`fan-in round ${i + 1}: ${config.fanIn.n} calls inside the margin made exactly 1 host refresh call`,
        r.hostCallsInside === 1 && r.hostCallsOutside === 0 && reasons === "expiring" && r.hostDuring.every((h) => h.afterLaunchMs >= 0),
        `inside ${r.hostCallsInside} (${reasons || "none"}, ${r.hostDuring.map((h) => `${h.afterLaunchMs.toFixed(1)} ms after the launch`).join(", ")}), outside ${r.hostCallsOutside}`);
      const failures = r.before.failures + r.inside.failures + r.after.failures;
      check(`fan-in round ${i + 1}: all ${3 * config.fanIn.n} calls succeeded`, failures === 0, failures ? `${failures} failed: ${[...r.before.errors, ...r.inside.errors, ...r.after.errors].join(", ")}` : "");
    });
    const inside = rounds.flatMap((r) => r.inside.latency);
    const outside = rounds.flatMap((r) => [...r.before.latency, ...r.after.latency]);
    const si = summary(inside);
    const so = summary(outside);
    // Paired by launch order: call i inside the margin against the mean of call i of the bursts
    // just before and just after it (a call's queue position in the browser dominates its latency).
    const paired = summary(rounds.flatMap((r) => r.inside.latency.map((x, i) => x - (r.before.latency[i] + r.after.latency[i]) / 2)));
    // The noise floor of that figure: the same pairing between the two bursts outside the margin.
    const noise = summary(rounds.flatMap((r) => r.before.latency.map((x, i) => x - r.after.latency[i])));
    await noteWasm("fanIn");
    results.fanIn = {
      hostCalls: rounds.map((r) => r.hostCallsInside),
      hostCallsOutside: rounds.map((r) => r.hostCallsOutside),
      hostAskedAfterLaunchMs: rounds.flatMap((r) => r.hostDuring.map((h) => h.afterLaunchMs)),
      inside: si,
      outside: so,
      added: { median: si.median - so.median, p99: si.p99 - so.p99 },
      addedPaired: paired,
      noiseFloorPaired: noise,
      launchMs: { inside: rounds.map((r) => r.inside.launchMs), outside: rounds.flatMap((r) => [r.before.launchMs, r.after.launchMs]) },
      rounds: rounds.map((r) => ({
        lifetimeSeconds: r.lifetimeSeconds, hostCallsInside: r.hostCallsInside, hostCallsOutside: r.hostCallsOutside, hostDuring: r.hostDuring, spinMs: r.spinMs,
        marginSeconds: r.marginSeconds, expiresInAtLaunch: r.expiresInAtLaunch,
        before: { ...summary(r.before.latency), launchMs: r.before.launchMs, totalMs: r.before.totalMs },
        inside: { ...summary(r.inside.latency), launchMs: r.inside.launchMs, totalMs: r.inside.totalMs },
        after: { ...summary(r.after.latency), launchMs: r.after.launchMs, totalMs: r.after.totalMs },
      })),
    };
  }

  // 6. Memory.
  {
    const r = await evaluate(page, "memory", (o) => window.bench.memory(o), config.memory);
    await noteWasm("memory");
    check(`memory: all ${config.memory.calls + config.memory.warmup + config.memory.steps} calls, ${config.memory.streams} streams and ${config.memory.reconnects} reconnects succeeded`, r.failures === 0, r.failures ? `${r.failures} failed` : "");
    check(`memory: the socket opened again after each of the ${config.memory.reconnects} reconnect() calls`, r.reopened === config.memory.reconnects, `${r.reopened} times`);
    const snaps = r.snaps;
    const start = snaps[0];
    const calls = snaps.filter((s) => s.phase === "calls");
    const swaps = snaps.filter((s) => s.phase === "swaps");
    const streams = snaps.filter((s) => s.phase === "streams");
    const reconnects = snaps.filter((s) => s.phase === "reconnects");
    const mid = (xs) => xs[(xs.length >> 1) - 1] ?? start;
    const endCalls = calls.at(-1);
    const endSwaps = swaps.at(-1);
    const midCalls = mid(calls);
    const midSwaps = mid(swaps);
    const endStreams = streams.at(-1);
    const midStreams = mid(streams);
    const endReconnects = reconnects.at(-1);
    const midReconnects = mid(reconnects);
    const growth = (a, b, key) => b[key] - a[key];
    // Flat: no wasm growth over the second half of each phase, and the JS heap's growth over it
    // below 256 KiB (a forced GC leaves tens of KiB of noise).
    const secondHalf = {
      calls: { wasm: growth(midCalls, endCalls, "wasmBytes"), js: growth(midCalls, endCalls, "jsUsedBytes") },
      swaps: { wasm: growth(midSwaps, endSwaps, "wasmBytes"), js: growth(midSwaps, endSwaps, "jsUsedBytes") },
      streams: { wasm: growth(midStreams, endStreams, "wasmBytes"), js: growth(midStreams, endStreams, "jsUsedBytes") },
      reconnects: { wasm: growth(midReconnects, endReconnects, "wasmBytes"), js: growth(midReconnects, endReconnects, "jsUsedBytes") },
    };
    const flat = ["calls", "swaps", "streams", "reconnects"].every((k) => secondHalf[k].wasm === 0 && secondHalf[k].js < 256 * 1024);
    results.memory = {
      snaps,
      total: {
        calls: { wasm: growth(start, endCalls, "wasmBytes"), js: growth(start, endCalls, "jsUsedBytes") },
        swaps: { wasm: growth(endCalls, endSwaps, "wasmBytes"), js: growth(endCalls, endSwaps, "jsUsedBytes") },
        streams: { wasm: growth(endSwaps, endStreams, "wasmBytes"), js: growth(endSwaps, endStreams, "jsUsedBytes") },
        reconnects: { wasm: growth(endStreams, endReconnects, "wasmBytes"), js: growth(endStreams, endReconnects, "jsUsedBytes") },
      },
      secondHalf,
      flat,
      rule: "flat = no wasm memory growth and < 256 KiB JS heap growth (after forced GC) over the second half of the calls, of the swaps, of the stream opens and of the reconnects",
    };
    const detail = `second half: calls wasm ${signedKib(secondHalf.calls.wasm)}, JS ${signedKib(secondHalf.calls.js)}; swaps wasm ${signedKib(secondHalf.swaps.wasm)}, JS ${signedKib(secondHalf.swaps.js)}; streams wasm ${signedKib(secondHalf.streams.wasm)}, JS ${signedKib(secondHalf.streams.js)}; reconnects wasm ${signedKib(secondHalf.reconnects.wasm)}, JS ${signedKib(secondHalf.reconnects.js)}`;
    // Too few calls in smoke mode for a verdict: the figures are reported, not judged.
    if (smoke) console.error(`note  memory: ${detail} (not judged in smoke mode)`);
    else check(`memory: growth flattens over ${int(config.memory.calls)} calls, ${int(config.memory.swaps)} setToken swaps, ${int(config.memory.streams)} stream opens and ${int(config.memory.reconnects)} reconnects`, flat, detail);
  }
  results.wasmBytesAfter = wasmAfter;
  await context.close();
  check("no page errors", pageErrors.length === 0, pageErrors.slice(0, 3).join(" | "));

  // 8. Terminals over the workspace's WebSocket (bench/socket.mjs, its own page and context).
  results.socket = await socketBench({ browser, origin, smoke, bench: { api, gateway, adminId, adminSecret }, evaluate, check });

  // 9. crossTab: host calls per token generation across real tabs (bench/crosstab.mjs).
  results.crossTab = await crossTabBench({ browser, origin, smoke, bench: { api, adminId, adminSecret }, check });

  // 7. The emulator under wrk ------------------------------------------------------------------------------
  const wrkFixture = await fixture("wrk", config.workspaces);
  const wrk = (url, bearer) => new Promise((done, fail) => {
    const { seconds, connections, maxRequests } = config.wrk;
    const argv = ["-t1", `-c${connections}`, `-d${seconds}s`, "--timeout", "5s", "-s", join(here, "wrk.lua"), url];
    wrkChild = spawn("wrk", argv, { env: { ...process.env, WRK_BEARER: bearer, WRK_MAX_REQUESTS: String(maxRequests) }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    wrkChild.stdout.on("data", (d) => { out += d; });
    wrkChild.stderr.on("data", (d) => { err += d; });
    const guard = setTimeout(() => wrkChild.kill("SIGKILL"), (seconds + 20) * 1000);
    wrkChild.on("error", (e) => { clearTimeout(guard); fail(e); });
    wrkChild.on("close", (code) => {
      clearTimeout(guard);
      wrkChild = null;
      const line = out.split("\n").find((l) => l.startsWith("WRK_JSON "));
      if (code !== 0 || !line) return fail(new Error(`wrk exited with ${code}: ${(err || out).slice(0, 500)}`));
      const r = JSON.parse(line.slice("WRK_JSON ".length));
      done({ ...r, requestsPerSecond: r.requests / (r.duration_us / 1e6), capped: r.requests >= maxRequests, connections, seconds });
    });
  });
  results.emulator = {
    workspace: await wrk(`${api}/workspace`, wrkFixture.token),
    filesRead: await wrk(`${gateway}/files/read?path=${encodeURIComponent(FILE_PATH)}`, wrkFixture.gatewayToken),
  };
  for (const [name, r] of [["GET /workspace", results.emulator.workspace], ["gateway GET /files/read", results.emulator.filesRead]]) {
    const errors = Object.values(r.errors).reduce((a, b) => a + b, 0);
    check(`emulator ${name}: ${int(r.requests)} requests under wrk, none failed or non-2xx`, r.requests > 0 && errors === 0, errors ? JSON.stringify(r.errors) : "");
    check(`emulator ${name}: stopped by the time bound, not the request cap`, !r.capped);
  }
} catch (error) {
  if (error === ONLY_DONE) {
    clearTimeout(killTimer);
    if (browser) await browser.close().catch(() => {});
    server.close();
    process.exit(0);
  }
  check("the run completed", false, String(error && (error.stack || error.message) || error).split("\n").slice(0, 4).join(" "));
} finally {
  clearTimeout(killTimer);
  if (browser) await browser.close().catch(() => {});
  server.close();
}

// ---- the table ------------------------------------------------------------------------------------------------
function table(r) {
  const rows = [];
  const row = (n, what, client, plain = "–", rat = "–") => rows.push(`| ${n} | ${what} | ${client} | ${plain} | ${rat} |`);
  if (r.size) {
    row(1, "wasm, raw / gzip", `${bytes(r.size.wasm.raw)} / ${bytes(r.size.wasm.gzip)}`);
    row(1, "JS glue (+ snippets), raw / gzip", `${bytes(r.size.js.raw)} / ${bytes(r.size.js.gzip)}`, `${bytes(r.size.plainFetchJs.raw)} / ${bytes(r.size.plainFetchJs.gzip)}`);
    const fl = r.size.firstLoad;
    if (fl?.client?.package?.requests) {
      row(1, "transferred on first load: the library, gzip, headers included", `${bytes(fl.client.package.wire)} (${fl.client.package.requests} files)`,
        `${bytes(fl.plain.package.wire)} (${fl.plain.package.requests} file)`, ratio(fl.client.package.wire / fl.plain.package.wire));
    }
  }
  if (r.startup) {
    const n = r.config.startupLoads;
    row(2, `start-up: \`import\` → client constructed (\`init()\` included), median of ${n} fresh loads`, ms(r.startup.client.constructedMs.median), ms(r.startup.plain.constructedMs.median), ratio(r.startup.ratio.constructed));
    row(2, `start-up: \`import\` → first \`workspaces.list()\` answered, median of ${n}`, ms(r.startup.client.firstCallMs.median), ms(r.startup.plain.firstCallMs.median), ratio(r.startup.ratio.firstCall));
    if (r.startup["client-preload"]) {
      row(2, `start-up with the wasm preloaded (\`<link rel="preload" as="fetch">\`, README): \`import\` → client constructed, median of ${n}`, ms(r.startup["client-preload"].constructedMs.median), ms(r.startup.plain.constructedMs.median), ratio(r.startup.ratio.constructedPreload));
    }
  }
  if (r.perCall) {
    const n = int(r.config.perCall.n);
    for (const [kind, label] of [["list", "`workspaces.list()`"], ["read", "`runtime.files.read`"]]) {
      const x = r.perCall[kind];
      row(3, `${label}, median per call of ${n} sequential (p99)`, `${us(x.client.median)} (${us(x.client.p99)})`, `${us(x.plain.median)} (${us(x.plain.p99)})`, `${ratio(x.ratio)} (${x.overheadMs >= 0 ? "+" : "−"}${us(Math.abs(x.overheadMs))})`);
    }
  }
  if (r.throughput) {
    const t = r.throughput.list;
    row(4, `throughput: ${r.config.throughput.concurrency} concurrent \`workspaces.list()\`, ${r.config.throughput.rounds} rounds`, `${int(t.client.callsPerSecond)} calls/s`, `${int(t.plain.callsPerSecond)} calls/s`, ratio(t.ratio));
  }
  if (r.stream) {
    const x = r.stream;
    row(4, `exec stream: \`seq ${int(r.config.stream.lines)}\` (${kib(x.outputBytes)} of stdout) read to its exit, median MB/s of ${x.client.ms.length} runs (plain: the official SDK's SSE loop)`,
      `${x.client.mbPerSecond.median.toFixed(1)} MB/s`, `${x.plain.mbPerSecond.median.toFixed(1)} MB/s`, ratio(x.ratio));
  }
  if (r.fanIn) {
    const f = r.fanIn;
    row(5, `fan-in: host refresh calls for ${int(r.config.fanIn.n)} concurrent calls inside the margin, per round (${f.hostCalls.length} rounds)`, f.hostCalls.join(", "));
    row(5, "fan-in: per-call latency inside the margin (vs outside), median / p99; added per call, paired by launch order, median / p99",
      `${ms(f.inside.median)} / ${ms(f.inside.p99)}`, `outside: ${ms(f.outside.median)} / ${ms(f.outside.p99)}`,
      `${signedMs(f.addedPaired.median)} / ${signedMs(f.addedPaired.p99)} (noise floor, outside vs outside: ${signedMs(f.noiseFloorPaired.median)} / ${signedMs(f.noiseFloorPaired.p99)})`);
  }
  if (r.memory) {
    const s = r.memory.snaps;
    const start = s[0];
    const ec = s.filter((x) => x.phase === "calls").at(-1);
    const es = s.filter((x) => x.phase === "swaps").at(-1);
    const et = s.filter((x) => x.phase === "streams").at(-1);
    const er = s.filter((x) => x.phase === "reconnects").at(-1);
    const h = r.memory.secondHalf;
    if (r.wasmBytesAfter) {
      const w = r.wasmBytesAfter;
      row(6, `wasm memory: after \`init()\` → after the sequential calls → after ${r.config.throughput.concurrency} concurrent → after the exec streams → after ${int(r.config.fanIn.n)} concurrent (high-water)`,
        `${kib(w.init)} → ${kib(w["perCall-read"])} → ${kib(w.throughput)} → ${kib(w.stream ?? 0)} → ${kib(w.fanIn)}`);
    }
    row(6, `wasm memory: start → after ${int(r.config.memory.calls)} calls → after ${int(r.config.memory.swaps)} \`setToken\` swaps → after ${int(r.config.memory.streams)} stream opens → after ${int(r.config.memory.reconnects)} reconnects`, `${kib(start.wasmBytes)} → ${kib(ec.wasmBytes)} → ${kib(es.wasmBytes)} → ${kib(et.wasmBytes)} → ${kib(er.wasmBytes)}`);
    row(6, "JS heap used (`performance.memory`, after GC): same points", `${kib(start.jsUsedBytes)} → ${kib(ec.jsUsedBytes)} → ${kib(es.jsUsedBytes)} → ${kib(et.jsUsedBytes)} → ${kib(er.jsUsedBytes)}`);
    row(6, "growth over the second half of the calls / of the swaps / of the stream opens / of the reconnects (wasm; JS)", `${signedKib(h.calls.wasm)}; ${signedKib(h.calls.js)} / ${signedKib(h.swaps.wasm)}; ${signedKib(h.swaps.js)} / ${signedKib(h.streams.wasm)}; ${signedKib(h.streams.js)} / ${signedKib(h.reconnects.wasm)}; ${signedKib(h.reconnects.js)}`, "–", r.memory.flat ? "flat" : "NOT flat");
  }
  if (r.emulator) {
    for (const [label, x] of [["`GET /workspace`", r.emulator.workspace], ["gateway `GET /files/read`", r.emulator.filesRead]]) {
      row(7, `emulator ${label}: wrk, ${x.connections} connections, ${x.seconds} s — req/s, p50 / p99`, `${int(x.requestsPerSecond)} req/s, ${us(x.latency_us.p50 / 1000)} / ${us(x.latency_us.p99 / 1000)}`);
    }
  }
  socketRows(r.socket, row);
  crossTabRows(r.crossTab, row);
  return ["| # | figure | oblien-user-client | plain fetch | client ÷ plain |", "|---|---|---|---|---|", ...rows].join("\n");
}

results.table = table(results);
results.checks = checks;
results.seconds = (Date.now() - started) / 1000;
if (results.machine) results.machine.loadAverageAtEnd = os.loadavg();
await mkdir(dirname(outFile), { recursive: true });
await writeFile(outFile, `${JSON.stringify(results, null, 1)}\n`);
// The headline figures, one number each (null when a scenario failed to run):
// bench-results/summary.json (summary-smoke.json for a smoke run).
{
  const pick = (f) => {
    try {
      const v = f();
      return Number.isFinite(v) ? Math.round(v * 1000) / 1000 : null;
    } catch {
      return null;
    }
  };
  const second = () => results.memory.secondHalf;
  const summaryJson = {
    size_gz_total: pick(() => results.size.wasm.gzip + results.size.js.gzip),
    size_gz_wasm: pick(() => results.size.wasm.gzip),
    size_gz_js: pick(() => results.size.js.gzip),
    per_call_ratio_list: pick(() => results.perCall.list.ratio),
    per_call_ratio_files_read: pick(() => results.perCall.read.ratio),
    throughput_ratio: pick(() => results.throughput.list.ratio),
    startup_ratio: pick(() => results.startup.ratio.constructed),
    exec_stream_throughput_ratio: pick(() => results.stream.ratio),
    terminal_echo_added_ms: pick(() => results.socket.echo.addedMs.median),
    reconnect_caught_up_ms: pick(() => results.socket.reconnect.firstByteMs.median),
    // Growth over the second half of 10,000 calls, of 1,000 swaps, of 1,000 stream opens and of
    // 100 reconnects (wasm memory + JS heap).
    memory_growth_kib: pick(() => ["calls", "swaps", "streams", "reconnects"].reduce((sum, k) => sum + second()[k].wasm + second()[k].js, 0) / 1024),
  };
  const summaryFile = join(dirname(outFile), smoke ? "summary-smoke.json" : "summary.json");
  await writeFile(summaryFile, `${JSON.stringify(summaryJson, null, 2)}\n`);
}
const m = results.machine;
const machineLine = m ? `Machine: ${m.cpu}, ${m.cores} cores, ${(m.memoryBytes / 2 ** 30).toFixed(0)} GiB, ${m.os}; Chromium ${m.chromium}; node ${m.node}; emulator ${m.emulatorProfile} build; load average ${m.loadAverageAtStart.map((x) => x.toFixed(2)).join(" ")} at the start, ${m.loadAverageAtEnd.map((x) => x.toFixed(2)).join(" ")} at the end.${smoke ? " SMOKE MODE: tiny counts, figures not meaningful." : ""}` : "";
await writeFile(outFile.replace(/\.json$/, "") + ".md", `${machineLine}\n\n${results.table}\n`);
console.log("");
console.log(machineLine);
console.log("");
console.log(results.table);
console.log("");
for (const c of checks.filter((x) => !x.ok)) console.log(`FAIL  ${c.name}${c.detail ? `: ${c.detail}` : ""}`);
const passed = checks.filter((c) => c.ok).length;
const failed = checks.length - passed;
console.log(`(${results.seconds.toFixed(1)} s; every figure in ${outFile.startsWith(root) ? outFile.slice(root.length + 1) : outFile})`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);

// Usage: scripts/with-emulator.sh node tests/consumer/run.mjs
// (or tests/consumer/run.sh, which installs, type-checks and runs `vite build` first).
//
// The package as its users load it, in headless Chromium against a running emulator:
// - the Vite app (tests/consumer/dist/, built without plugins from a `file:../../pkg` dependency):
//   index.html calls `init()`, url.html `init({ module_or_path: wasmUrl })` with Vite's `?url`;
// - a plain `<script type="module">` page (tests/consumer/plain/index.html) importing
//   /pkg/oblien_user_client.js, once per way of loading the wasm: `init()`, an explicit URL,
//   bytes to `init`, bytes and a compiled module to `initSync`.
// Each page lists workspaces with a namespace token minted here (admin key: runner only) and must
// show exactly the one workspace created in that namespace (another tenant's is never listed).
// The wasm must come from where the page was told to load it (application/wasm for the URL ways),
// and no page may log a warning or an error (wasm-bindgen warns on a MIME fallback or deprecated
// init parameters). A static check runs too: no `any` in the public part of the .d.ts.
// One line per check, then `N passed, M failed`. Bounded (CONSUMER_TIMEOUT_MS, default 120 s).
import { createServer } from "node:http";
import { readFile, readdir } from "node:fs/promises";
import { extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { launchChromium, watchPage } from "../../scripts/chromium.mjs";

const here = fileURLToPath(new URL(".", import.meta.url));
const root = resolve(here, "..", "..");
const pkgDir = resolve(process.env.PKG_DIR ?? join(root, "pkg"));
const distDir = join(here, "dist");
const plainDir = join(here, "plain");
const totalTimeoutMs = Number(process.env.CONSUMER_TIMEOUT_MS ?? 120_000);
const wasmFile = join(pkgDir, "oblien_user_client_bg.wasm");

const env = (name) => {
  const value = process.env[name];
  if (!value) {
    console.error(`run.mjs: ${name} is not set; run me as: scripts/with-emulator.sh node tests/consumer/run.mjs`);
    process.exit(2);
  }
  return value;
};
const api = env("OBLIEN_EMULATOR_API").replace(/\/+$/, "");
const gateway = env("OBLIEN_EMULATOR_GATEWAY").replace(/\/+$/, "");
const clientId = env("OBLIEN_EMULATOR_CLIENT_ID");
const clientSecret = env("OBLIEN_EMULATOR_CLIENT_SECRET");

const results = [];
function report(name, ok, ms, error) {
  results.push({ name, ok });
  console.log(ok ? `ok    ${name} (${ms} ms)` : `FAIL  ${name} (${ms} ms)\n      ${String(error).replace(/\n/g, "\n      ")}`);
}
async function check(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    report(name, true, Date.now() - t0);
  } catch (error) {
    report(name, false, Date.now() - t0, redact(error && error.stack ? error.stack : error));
  }
}
function assert(cond, message) {
  if (!cond) throw new Error(message);
}
const secrets = new Set([clientSecret]);
function redact(text) {
  let out = String(text);
  for (const secret of secrets) out = out.split(secret).join("<redacted>");
  return out;
}

// ---- static check: no `any` in the public declarations --------------------------------------------
// The generated `InitOutput` (the raw wasm exports) is internal and full of `any`; everything else
// (the custom section, the classes, isOblienError, version, init/initSync) must not use it.
function publicDeclarations(dts) {
  let text = dts.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
  const start = text.indexOf("export interface InitOutput {");
  assert(start >= 0, "no `export interface InitOutput` in the .d.ts (did wasm-bindgen change its output?)");
  const end = text.indexOf("\n}", start);
  text = text.slice(0, start) + text.slice(end + 2);
  return text;
}

await check("types: no `any` in the public API of oblien_user_client.d.ts", async () => {
  const dts = await readFile(join(pkgDir, "oblien_user_client.d.ts"), "utf8");
  const pub = publicDeclarations(dts);
  const hits = pub.split("\n").map((line, i) => [i + 1, line]).filter(([, line]) => /\bany\b/.test(line));
  assert(hits.length === 0, `\`any\` in the public declarations:\n${hits.map(([n, l]) => `  ${n}: ${l.trim()}`).join("\n")}`);
  // And every class and function the README promises is declared.
  for (const decl of [
    "export class OblienUserClient", "export class Workspaces", "export class WorkspaceRuntime",
    "export class RuntimeFiles", "export class RuntimeExec", "export class ApiAccess", "export function isOblienError",
    "export function version", "export function initSync", "export default function __wbg_init",
  ]) assert(pub.includes(decl), `missing: ${decl}`);
});

await check("vite build: one hashed .wasm asset, byte-identical to pkg/", async () => {
  const assets = await readdir(join(distDir, "assets"));
  const wasm = assets.filter((f) => f.endsWith(".wasm"));
  assert(wasm.length === 1, `expected one .wasm in dist/assets, found ${JSON.stringify(wasm)} (run tests/consumer/run.sh, which builds it)`);
  assert(/^oblien_user_client_bg-[\w-]+\.wasm$/.test(wasm[0]), `unexpected asset name ${wasm[0]}`);
  const [built, published] = await Promise.all([readFile(join(distDir, "assets", wasm[0])), readFile(wasmFile)]);
  assert(built.equals(published), `dist/assets/${wasm[0]} differs from pkg/oblien_user_client_bg.wasm (stale build? rerun vite build)`);
  const js = (await Promise.all(assets.filter((f) => f.endsWith(".js")).map((f) => readFile(join(distDir, "assets", f), "utf8")))).join("\n");
  assert(!/\/pkg\//.test(js), "the built app refers to /pkg/: the package was not bundled");
});

// ---- emulator setup (admin key: here only) -----------------------------------------------------------
async function call(method, path, { body, token } = {}) {
  const headers = token ? { Authorization: `Bearer ${token}` } : { "X-Client-ID": clientId, "X-Client-Secret": clientSecret };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(api + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(15_000) });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: HTTP ${res.status} ${redact(text.slice(0, 300))}`);
  return JSON.parse(text);
}
const runId = Math.random().toString(36).slice(2, 7);
async function tenantWithWorkspace(label) {
  const ns = (await call("POST", "/namespaces", { body: { name: `consumer-${label}-${runId}` } })).data.slug;
  const minted = await call("POST", "/tokens", { body: { scope: "namespace", namespace: ns, ttl: 600, label: `consumer-${label}` } });
  assert(typeof minted.token === "string" && minted.token.startsWith("eyJ"), "POST /tokens returned a JWT");
  secrets.add(minted.token);
  // Created with the tenant's own token, the way the app's user would.
  const ws = await call("POST", "/workspace", { token: minted.token, body: { image: "node-20", name: `${label}-app` } });
  const id = ws.id ?? ws.workspace?.id ?? ws.data?.id;
  assert(typeof id === "string", `POST /workspace returned no id: ${JSON.stringify(ws).slice(0, 200)}`);
  return { ns, token: minted.token, id };
}
let mine;
let theirs;
await check("setup: two tenants, one workspace each", async () => {
  mine = await tenantWithWorkspace("mine");
  theirs = await tenantWithWorkspace("theirs");
});

// ---- static server (an origin other than the emulator's) ------------------------------------------
const types = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".wasm": "application/wasm",
  ".json": "application/json",
};
// [prefix, directory] mounts, and single files at fixed paths.
const mounts = [
  ["/app/", distDir],
  ["/pkg/", pkgDir],
  ["/plain/", plainDir],
];
const files = {
  // The plain page's explicit-URL way: the module's own file, at an address the glue never guesses.
  "/elsewhere/client.wasm": [wasmFile, "application/wasm"],
  // The bytes ways fetch this themselves: no wasm MIME type needed.
  "/bytes/client.bin": [wasmFile, "application/octet-stream"],
};
const server = createServer(async (req, res) => {
  const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
  let file;
  let type;
  if (files[path]) {
    [file, type] = files[path];
  } else {
    for (const [prefix, dir] of mounts) {
      if (!path.startsWith(prefix)) continue;
      const candidate = normalize(join(dir, path.slice(prefix.length) || "index.html"));
      if (candidate.startsWith(dir.endsWith(sep) ? dir : dir + sep)) file = candidate;
      break;
    }
    type = file && (types[extname(file)] ?? "application/octet-stream");
  }
  if (path === "/favicon.ico") {
    res.writeHead(204);
    res.end();
    return;
  }
  try {
    if (!file) throw new Error("no route");
    const data = await readFile(file);
    res.writeHead(200, { "content-type": type, "cache-control": "no-store" });
    res.end(data);
  } catch {
    res.writeHead(404, { "content-type": "text/plain" });
    res.end("not found");
  }
});
await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
const origin = `http://127.0.0.1:${server.address().port}`;
if (new URL(api).origin === origin) {
  console.error("run.mjs: the page and the emulator share an origin; the run must be cross-origin");
  process.exit(2);
}
console.log(`consumer tests: pages ${origin}, emulator ${api}`);

// ---- pages -------------------------------------------------------------------------------------------
// wasm: where the page must get its module from (a path, or a RegExp); forbidden: paths the page
// must never request; fetchedWasm: whether the page fetches a .wasm by URL (false for bytes).
const pages = [
  { name: "vite app: init() loads the hashed asset", path: "/app/index.html", wasm: /^\/app\/assets\/oblien_user_client_bg-[\w-]+\.wasm$/, forbidden: [/^\/pkg\//] },
  { name: "vite app: init({ module_or_path: ?url import })", path: "/app/url.html", wasm: /^\/app\/assets\/oblien_user_client_bg-[\w-]+\.wasm$/, forbidden: [/^\/pkg\//], wasmUrlInResult: true },
  { name: "plain module script: init()", path: "/plain/index.html?mode=default", wasm: "/pkg/oblien_user_client_bg.wasm", forbidden: [/^\/elsewhere\//, /^\/bytes\//] },
  { name: "plain module script: init({ module_or_path: URL })", path: "/plain/index.html?mode=url", wasm: "/elsewhere/client.wasm", forbidden: [/_bg\.wasm$/, /^\/bytes\//] },
  { name: "plain module script: init({ module_or_path: bytes })", path: "/plain/index.html?mode=bytes", bytes: true, forbidden: [/\.wasm$/] },
  { name: "plain module script: initSync({ module: bytes })", path: "/plain/index.html?mode=bytes-sync", bytes: true, forbidden: [/\.wasm$/] },
  { name: "plain module script: initSync({ module: WebAssembly.Module })", path: "/plain/index.html?mode=module-sync", bytes: true, forbidden: [/\.wasm$/] },
];

let browser;
const started = Date.now();
const killTimer = setTimeout(() => {
  console.log(`FAIL  runner: not finished within ${totalTimeoutMs} ms`);
  console.log(`${results.filter((r) => r.ok).length} passed, ${results.filter((r) => !r.ok).length + 1} failed`);
  process.exit(1);
}, totalTimeoutMs);
try {
  if (mine && theirs) {
    browser = await launchChromium();
    for (const spec of pages) await check(spec.name, () => runPage(spec));
  }
} catch (error) {
  report("runner", false, 0, redact(error && error.stack ? error.stack : error));
} finally {
  clearTimeout(killTimer);
  if (browser) await browser.close().catch(() => {});
  server.close();
}

async function runPage(spec) {
  // A fresh context per page: no cache, no module instance shared between the ways of loading.
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const consoleLines = [];
    const pageErrors = [];
    const requests = []; // same-origin requests: { path, method }
    const wasmResponses = []; // { path, status, contentType }
    const failedResponses = []; // "STATUS URL" of every 4xx/5xx the page got
    page.on("console", (msg) => consoleLines.push({ type: msg.type(), text: msg.text() }));
    await watchPage(page, (error) => pageErrors.push(error));
    page.on("request", (request) => {
      const url = new URL(request.url());
      if (url.origin === origin) requests.push({ method: request.method(), path: url.pathname });
    });
    page.on("response", (response) => {
      const url = new URL(response.url());
      if (response.status() >= 400) failedResponses.push(`${response.status()} ${url.origin === origin ? url.pathname : `${url.origin}${url.pathname}`}`);
      if (url.origin === origin && /\.wasm$/.test(url.pathname)) {
        wasmResponses.push({ path: url.pathname, status: response.status(), contentType: response.headers()["content-type"] });
      }
    });

    const query = new URLSearchParams({ api, gateway, token: mine.token });
    const url = `${origin}${spec.path}${spec.path.includes("?") ? "&" : "?"}${query}`;
    await page.goto(url, { waitUntil: "load", timeout: 30_000 });
    await page.waitForFunction(() => window.__result !== undefined, null, { timeout: 30_000 });
    const result = await page.evaluate(() => window.__result);
    const rendered = await page.$$eval('[data-testid="workspace"]', (els) => els.map((el) => el.dataset.id));

    assert(pageErrors.length === 0, `page errors:\n${pageErrors.join("\n")}`);
    assert(result && result.ok === true, `the page failed: ${JSON.stringify(result)}`);
    // Exactly my workspace: listed, rendered, and the other tenant's never.
    const listed = result.workspaces.map((ws) => ws.id);
    assert(JSON.stringify(listed) === JSON.stringify([mine.id]), `listed ${JSON.stringify(listed)}, expected exactly [${mine.id}] (the other tenant's is ${theirs.id})`);
    assert(result.total === 1, `total ${result.total}, expected 1`);
    assert(JSON.stringify(rendered) === JSON.stringify([mine.id]), `rendered ${JSON.stringify(rendered)}, expected [${mine.id}]`);
    assert(typeof result.version === "string" && /^\d+\.\d+\.\d+/.test(result.version), `version() = ${result.version}`);

    // Where the module came from.
    if (spec.bytes) {
      assert(requests.some((r) => r.path === "/bytes/client.bin"), "the page did not fetch the bytes");
    } else {
      const matches = (p) => (typeof spec.wasm === "string" ? p === spec.wasm : spec.wasm.test(p));
      const got = wasmResponses.filter((r) => matches(r.path));
      assert(got.length === 1, `expected one fetch of ${spec.wasm}, saw .wasm responses ${JSON.stringify(wasmResponses)}`);
      assert(got[0].status === 200, `${got[0].path}: HTTP ${got[0].status}`);
      assert(got[0].contentType === "application/wasm", `${got[0].path} served as ${got[0].contentType}, not application/wasm`);
      if (spec.wasmUrlInResult) assert(new URL(result.wasmUrl, url).pathname === got[0].path, `?url gave ${result.wasmUrl}, the page fetched ${got[0].path}`);
    }
    for (const forbidden of spec.forbidden) {
      const bad = requests.filter((r) => forbidden.test(r.path));
      assert(bad.length === 0, `unexpected requests: ${bad.map((r) => r.path).join(", ")}`);
    }
    // wasm-bindgen warns on a MIME fallback or deprecated init parameters; nothing else should log.
    const noisy = consoleLines.filter((l) => l.type === "warning" || l.type === "error");
    assert(noisy.length === 0, `console warnings/errors:\n${noisy.map((l) => `[${l.type}] ${l.text}`).join("\n")}${failedResponses.length ? `\nfailed responses: ${failedResponses.join(", ")}` : ""}`);
    const leaked = consoleLines.filter((l) => [...secrets].some((s) => l.text.includes(s)));
    assert(leaked.length === 0, "a console message contains a token");
  } finally {
    await context.close().catch(() => {});
  }
}

const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
console.log(`(${((Date.now() - started) / 1000).toFixed(1)} s)`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);

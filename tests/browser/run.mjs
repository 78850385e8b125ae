// Usage: scripts/with-emulator.sh node tests/browser/run.mjs [NAME_FILTER]
// (or `make test-client`, which builds pkg/ first).
//
// Runs tests/browser/*.test.js (client.test.js, runtime.test.js) in headless Chromium against the BUILT package (pkg/, the
// wasm-opt-optimised module) and a running emulator, the way an app would use it:
// - a loopback server of its own serves pkg/ under /pkg/ and this folder under /tests/browser/,
//   so the page's origin differs from the emulator's and every client call is cross-origin (CORS);
// - the emulator's URLs and admin key reach the page in its query string: the TESTS use the admin
//   key to create namespaces, mint tokens and inject faults; the client under test never sees it;
// - results stream back through exposed functions; one line per test, then `N passed, M failed`;
// - the run also fails when a console message, a request URL or a page error shows a minted token
//   (the tests' own, and every bearer token the page sent: the gateway tokens the client mints
//   itself) or the admin secret, when a client request (API under /workspace, or gateway) carries
//   an API key header or no bearer token, or on a page error.
// Everything is bounded (TEST_CLIENT_TIMEOUT_MS, default 300 s: ~135 tests, a shared 2-core machine);
// Chromium is always closed.
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { launchChromium, watchPage } from "../../scripts/chromium.mjs";

const here = fileURLToPath(new URL(".", import.meta.url));
const root = resolve(here, "..", "..");
const pkgDir = resolve(process.env.PKG_DIR ?? join(root, "pkg"));
const filter = process.argv[2] ?? "";
const totalTimeoutMs = Number(process.env.TEST_CLIENT_TIMEOUT_MS ?? 300_000);

const env = (name) => {
  const value = process.env[name];
  if (!value) {
    console.error(`run.mjs: ${name} is not set; run me as: scripts/with-emulator.sh node tests/browser/run.mjs`);
    process.exit(2);
  }
  return value;
};
const api = env("OBLIEN_EMULATOR_API").replace(/\/+$/, "");
const gateway = env("OBLIEN_EMULATOR_GATEWAY").replace(/\/+$/, "");
const clientId = env("OBLIEN_EMULATOR_CLIENT_ID");
const clientSecret = env("OBLIEN_EMULATOR_CLIENT_SECRET");

// ---- static server -------------------------------------------------------------------------
const types = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".wasm": "application/wasm",
  ".json": "application/json",
  ".ts": "text/plain; charset=utf-8",
};
const mounts = [
  ["/pkg/", pkgDir],
  ["/tests/browser/", here],
];
const server = createServer(async (req, res) => {
  const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
  for (const [prefix, dir] of mounts) {
    if (!path.startsWith(prefix)) continue;
    const file = normalize(join(dir, path.slice(prefix.length)));
    if (!file.startsWith(dir.endsWith(sep) ? dir : dir + sep)) break;
    try {
      const data = await readFile(file);
      res.writeHead(200, { "content-type": types[extname(file)] ?? "application/octet-stream", "cache-control": "no-store" });
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
if (new URL(api).origin === origin) {
  console.error("run.mjs: the page and the emulator share an origin; the tests must be cross-origin");
  process.exit(2);
}

// ---- browser -------------------------------------------------------------------------------
const secrets = new Set([clientSecret]); // minted tokens are added as the page reports them or sends them
const consoleLines = [];
const pageErrors = [];
const problems = []; // invariant violations found by the runner itself
const requests = []; // every request the page makes: { method, url, path, headers }
const results = [];
let finish;
const done = new Promise((ok) => (finish = ok));

let browser;
const killTimer = setTimeout(() => finish({ timedOut: true }), totalTimeoutMs);
const started = Date.now();
let exitCode = 1;
try {
  // --expose-gc: the lifetime tests collect garbage to show a handle outlives its client object.
  browser = await launchChromium(["--js-flags=--expose-gc"]);
  const context = await browser.newContext();
  const page = await context.newPage();

  page.on("console", (msg) => consoleLines.push(`[${msg.type()}] ${msg.text()}`));
  await watchPage(page, (error) => pageErrors.push(error));
  page.on("crash", () => finish({ crashed: true }));
  const apiOrigin = new URL(api).origin;
  const gatewayOrigin = new URL(gateway).origin;
  page.on("request", (request) => {
    const url = new URL(request.url());
    const headers = request.headers();
    // Every bearer token the page sends is watched too: gateway tokens never reach the tests.
    const bearer = /^Bearer (\S{16,})$/.exec(headers.authorization ?? "");
    if (bearer && (url.origin === apiOrigin || url.origin === gatewayOrigin)) secrets.add(bearer[1]);
    requests.push({
      method: request.method(), url: request.url(), origin: url.origin, path: url.pathname, headers,
      // The tests' own admin calls (the client is never given the admin key).
      admin: headers["x-client-id"] === clientId && headers["x-client-secret"] === clientSecret,
    });
  });

  // The page's side of the protocol.
  await page.exposeFunction("__testReport", (result) => {
    results.push(result);
    const line = result.ok ? `ok    ${result.name} (${result.ms} ms)` : `FAIL  ${result.name} (${result.ms} ms)\n      ${String(result.error).replace(/\n/g, "\n      ")}`;
    console.log(line);
  });
  await page.exposeFunction("__testSecret", (secret) => {
    if (typeof secret === "string" && secret.length >= 16) secrets.add(secret);
  });
  await page.exposeFunction("__testDone", (summary) => finish({ summary }));
  // Requests the page sent to the emulator (API and gateway) since index `mark` (no header values:
  // the page only learns method, path, query and which auth headers were present).
  await page.exposeFunction("__testNetMark", () => requests.length);
  await page.exposeFunction("__testNetSince", (mark) =>
    requests.slice(mark).filter((r) => r.origin === apiOrigin || r.origin === gatewayOrigin).map((r) => ({
      listener: r.origin === apiOrigin ? "api" : "gateway",
      method: r.method,
      path: r.path,
      search: new URL(r.url).search,
      bearer: /^Bearer \S+$/.test(r.headers.authorization ?? ""),
      apiKey: "x-client-id" in r.headers || "x-client-secret" in r.headers,
      admin: r.admin,
    })),
  );
  // Whether a text shows a watched token (the page never learns the gateway tokens themselves).
  await page.exposeFunction("__testContainsSecret", (text) => [...secrets].some((secret) => String(text).includes(secret)));

  const query = new URLSearchParams({ api, gateway, clientId, clientSecret, filter });
  const url = `${origin}/tests/browser/index.html?${query}`;
  console.log(`browser tests: page ${origin}, emulator ${api}${filter ? `, filter "${filter}"` : ""}`);
  await page.goto(url, { waitUntil: "load", timeout: 30_000 });

  const outcome = await done;
  clearTimeout(killTimer);
  if (outcome.timedOut) problems.push(`the suite did not finish within ${totalTimeoutMs} ms (last result: ${results.at(-1)?.name ?? "none"})`);
  if (outcome.crashed) problems.push("the page crashed");

  // ---- invariants over the whole run ----
  const hay = (s) => [...secrets].filter((secret) => s.includes(secret));
  for (const line of consoleLines) {
    if (hay(line).length) problems.push(`a console message contains a token or the admin secret: ${redact(line)}`);
  }
  for (const error of pageErrors) {
    problems.push(`page error: ${redact(error)}`);
  }
  const emulator = [new URL(api).origin, new URL(gateway).origin];
  for (const r of requests) {
    // (The page's own URL carries the admin key on purpose: test-only, never sent to the emulator.)
    const toEmulator = emulator.includes(r.origin);
    if (toEmulator && (hay(r.url).length || /eyJ[\w-]+\.eyJ[\w-]+/.test(r.url))) problems.push(`a request URL contains a token or the admin secret: ${r.method} ${redact(r.url)}`);
    // The client's requests (everything under /workspace, everything to the gateway) carry a bearer
    // token and never an API key (the tests' own admin calls aside).
    if (!r.admin && ((r.origin === new URL(api).origin && r.path.startsWith("/workspace")) || r.origin === new URL(gateway).origin)) {
      if ("x-client-id" in r.headers || "x-client-secret" in r.headers) problems.push(`a client request carries an API key header: ${r.method} ${r.path}`);
      if (!/^Bearer eyJ/.test(r.headers.authorization ?? "")) problems.push(`a client request has no bearer token: ${r.method} ${r.path}`);
      if (r.headers.cookie) problems.push(`a client request carries cookies: ${r.method} ${r.path}`);
    }
  }
  if (!results.length) problems.push("no test reported a result");
} catch (error) {
  problems.push(`runner error: ${redact(String(error && error.stack || error))}`);
} finally {
  clearTimeout(killTimer);
  if (browser) await browser.close().catch(() => {});
  server.close();
}

function redact(text) {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join("<redacted>");
  return out;
}

for (const problem of problems) console.log(`FAIL  runner: ${problem}`);
const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed + problems.length;
console.log(`(${((Date.now() - started) / 1000).toFixed(1)} s, ${secrets.size - 1} tokens watched, ${consoleLines.length} console messages scanned)`);
console.log(`${passed} passed, ${failed} failed`);
exitCode = failed === 0 && results.length > 0 ? 0 : 1;
process.exit(exitCode);

// Usage: node scripts/check-pkg.mjs [PKG_DIR]
// Loads the built, wasm-opt-optimised npm package in headless Chromium and checks that `init()`
// and `version()` work. wasm-bindgen-test runs the UNoptimised test build, so only this catches a
// wasm-opt that produces a module the browser refuses (see design.md, "Size").
// A loopback server serves PKG_DIR under /pkg/ and a test page at /; the page POSTs its result to
// /result. Everything is bounded by a timeout; Chromium is always killed.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { extname, join, normalize } from "node:path";

const pkgDir = process.argv[2] ?? "pkg";
const chromium = process.env.CHROMIUM ?? "/usr/bin/chromium";
const timeoutMs = Number(process.env.CHECK_PKG_TIMEOUT_MS ?? 60000);
const expected = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"));
const entry = expected.main ?? "oblien_user_client.js";

const page = `<!doctype html><meta charset="utf-8"><title>check-pkg</title>
<script type="module">
  const report = (r) => fetch("/result", { method: "POST", body: JSON.stringify(r) });
  addEventListener("error", (e) => report({ ok: false, error: "page error: " + e.message }));
  try {
    const mod = await import("/pkg/${entry}");
    await mod.default();
    report({ ok: true, version: mod.version() });
  } catch (e) {
    report({ ok: false, error: String(e && e.stack || e) });
  }
</script>`;

const types = { ".js": "text/javascript", ".wasm": "application/wasm", ".json": "application/json" };

let finish;
const result = new Promise((resolve) => (finish = resolve));

const server = createServer((req, res) => {
  const url = new URL(req.url, "http://localhost");
  if (req.method === "POST" && url.pathname === "/result") {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => { res.end("ok"); finish(JSON.parse(body)); });
  } else if (url.pathname === "/") {
    res.setHeader("content-type", "text/html");
    res.end(page);
  } else if (url.pathname.startsWith("/pkg/")) {
    const file = normalize(url.pathname.slice("/pkg/".length));
    try {
      if (file.startsWith("..")) throw new Error("outside pkg");
      const data = readFileSync(join(pkgDir, file));
      res.setHeader("content-type", types[extname(file)] ?? "application/octet-stream");
      res.end(data);
    } catch {
      res.statusCode = 404;
      res.end();
    }
  } else {
    res.statusCode = 404;
    res.end();
  }
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const url = `http://127.0.0.1:${server.address().port}/`;

// A fresh profile each run; background-networking flags because the machine's network is closed.
const profile = mkdtempSync(join(tmpdir(), "check-pkg-"));
const args = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--no-first-run", "--disable-quic", `--user-data-dir=${profile}`,
  "--remote-debugging-port=0", // keeps headless Chromium running until we kill it
  url,
];
let stderr = "";
// Its own process group, so one kill also ends the renderer and GPU processes.
const browser = spawn(chromium, args, { stdio: ["ignore", "ignore", "pipe"], detached: true });
browser.stderr.on("data", (c) => (stderr = (stderr + c).slice(-4000)));
browser.on("error", (e) => finish({ ok: false, error: `cannot start ${chromium}: ${e.message}` }));
browser.on("exit", (code) => finish({ ok: false, error: `chromium exited early (status ${code})` }));
const timer = setTimeout(
  () => finish({ ok: false, error: `no result from the page within ${timeoutMs} ms` }),
  timeoutMs,
);

const r = await result;
clearTimeout(timer);
browser.removeAllListeners("exit");
try { process.kill(-browser.pid, "SIGKILL"); } catch { /* already gone */ }
server.close();
await new Promise((resolve) => setTimeout(resolve, 200)); // let the profile's writers die
try { rmSync(profile, { recursive: true, force: true }); } catch { /* a temp dir; not fatal */ }

if (r.ok && r.version === expected.version) {
  console.log(`check-pkg: ok, ${pkgDir} initialised in headless Chromium, version() = ${r.version}`);
  process.exit(0);
}
console.error(`check-pkg: FAILED: ${r.ok ? `version() = ${r.version}, package.json says ${expected.version}` : r.error}`);
// D-Bus complaints are noise in a container without a session bus.
const useful = stderr.split("\n").filter((l) => !l.includes("dbus/")).join("\n").trim();
if (useful) console.error(`--- chromium stderr (tail)\n${useful}`);
process.exit(1);

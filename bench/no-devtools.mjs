// Usage: scripts/with-emulator.sh node bench/no-devtools.mjs [PAIRS]   (after `make pkg`)
// The per-call overhead of `workspaces.list()` and of `files.read()` (a gateway call on a
// workspace's runtime) over the plain wrapper, as an app's users see it: in a Chromium started
// here with no DevTools protocol client attached. bench/run.mjs drives its Chromium through
// Playwright, and with DevTools attached Chromium records the JS stack behind every request
// (~4 µs a frame), which a page's users do not pay. Prints, for each, the median added µs per
// call over PAIRS alternating pairs (default 3,000), and the quartiles.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { extname, join } from "node:path";
import { CHROMIUM_ARGS, chromiumPath } from "../scripts/chromium.mjs";

const root = join(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..");
const pkg = process.env.PKG_DIR ?? join(root, "pkg");
const pairs = Number(process.argv[2] ?? 3000);
const env = process.env;
if (!env.OBLIEN_EMULATOR_API) throw new Error("no emulator: run under scripts/with-emulator.sh");
const types = { ".js": "text/javascript", ".wasm": "application/wasm", ".html": "text/html" };
const profile = mkdtempSync(join(tmpdir(), "no-devtools-"));
let browser;
const finish = (code) => {
  browser?.kill();
  rmSync(profile, { recursive: true, force: true });
  process.exit(code);
};
const server = createServer((req, res) => {
  const path = new URL(req.url, "http://localhost").pathname;
  if (path === "/result") {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      res.end();
      const result = JSON.parse(body);
      console.log(JSON.stringify(result));
      server.close();
      finish(result.error ? 1 : 0);
    });
    return;
  }
  const file = path.startsWith("/pkg/") ? join(pkg, path.slice(5)) : path.startsWith("/bench/") ? join(root, "bench/pages", path.slice(7)) : null;
  try {
    if (!file) throw new Error("not found");
    const data = readFileSync(file);
    // Cross-origin isolated, as bench/run.mjs serves its pages: performance.now() in 5 µs steps.
    res.writeHead(200, {
      "content-type": types[extname(file)] ?? "application/octet-stream",
      "cross-origin-opener-policy": "same-origin",
      "cross-origin-embedder-policy": "require-corp",
    });
    res.end(data);
  } catch {
    res.writeHead(404);
    res.end();
  }
});
server.listen(0, "127.0.0.1", () => {
  const { port } = server.address();
  const query = new URLSearchParams({ api: env.OBLIEN_EMULATOR_API, gateway: env.OBLIEN_EMULATOR_GATEWAY, id: env.OBLIEN_EMULATOR_CLIENT_ID, secret: env.OBLIEN_EMULATOR_CLIENT_SECRET, n: String(pairs) });
  browser = spawn(chromiumPath, [...CHROMIUM_ARGS, `--user-data-dir=${profile}`, `http://127.0.0.1:${port}/bench/no-devtools.html?${query}`], { stdio: "ignore" });
});
setTimeout(() => {
  console.error("no-devtools: no result within 180 s");
  finish(1);
}, 180_000).unref();

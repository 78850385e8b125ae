// The client's own work per call, without the network: `fetch` replaced in the page by one that
// answers at once, then `client.workspaces.list()` and a plain `fetch` + `json()` timed in turns
// (5 rounds of 4,000 sequential calls; medians in µs per call). The difference is what the
// package adds to each call on this machine; `make bench`'s per-call ratio hides it in loopback
// noise. Usage: node bench/overhead.mjs (PKG_DIR=dir for another build; default pkg/).
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { launchChromium } from "../scripts/chromium.mjs";

const root = join(import.meta.dirname, "..");
const pkg = process.env.PKG_DIR ?? join(root, "pkg");
const page = `<!doctype html><meta charset="utf-8"><script type="module">
const token = window.__TOKEN;
const m = await import("/pkg/oblien_user_client.js");
await m.default();
const body = '{"success":true,"workspaces":[{"id":"a"}]}';
window.fetch = () => Promise.resolve(new Response(body, { status: 200, headers: { "content-type": "application/json" } }));
const client = new m.OblienUserClient({ token, baseUrl: "http://127.0.0.1:1", gatewayUrl: "http://127.0.0.1:2" });
const plain = async () => (await fetch("http://127.0.0.1:1/workspace", { headers: { Authorization: "Bearer " + token } })).json();
const N = 4000;
for (let i = 0; i < 500; i++) { await client.workspaces.list(); await plain(); }
const us = { client: [], plain: [] };
for (let round = 0; round < 5; round++) {
  let t = performance.now();
  for (let i = 0; i < N; i++) await client.workspaces.list();
  us.client.push(((performance.now() - t) / N) * 1000);
  t = performance.now();
  for (let i = 0; i < N; i++) await plain();
  us.plain.push(((performance.now() - t) / N) * 1000);
}
const median = (a) => a.sort((x, y) => x - y)[a.length >> 1];
window.__result = { clientUs: median(us.client), plainUs: median(us.plain) };
</script>`;
const server = createServer((req, res) => {
  const path = new URL(req.url, "http://x").pathname;
  if (path === "/") {
    res.writeHead(200, { "content-type": "text/html" });
    return res.end(page);
  }
  try {
    const file = join(pkg, path.replace(/^\/pkg\//, ""));
    const data = readFileSync(file);
    res.writeHead(200, { "content-type": file.endsWith(".wasm") ? "application/wasm" : "text/javascript" });
    res.end(data);
  } catch {
    res.writeHead(404);
    res.end();
  }
});
await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
const now = Math.floor(Date.now() / 1000);
const claims = { sub: "u", scope: "namespace", namespace: "ns", iat: now, exp: now + 3600, type: "user" };
const token = `${b64({ alg: "HS256", typ: "JWT" })}.${b64(claims)}.sig`;
const browser = await launchChromium();
try {
  const context = await browser.newContext();
  await context.addInitScript((t) => {
    window.__TOKEN = t;
  }, token);
  const tab = await context.newPage();
  const errors = [];
  tab.on("pageerror", (e) => errors.push(e.message));
  await tab.goto(`http://127.0.0.1:${server.address().port}/`);
  await tab.waitForFunction(() => window.__result, null, { timeout: 180_000 });
  const { clientUs, plainUs } = await tab.evaluate(() => window.__result);
  if (errors.length) throw new Error(`page errors: ${errors.join("; ")}`);
  console.log(JSON.stringify({ clientUs: +clientUs.toFixed(1), plainUs: +plainUs.toFixed(1), addedUs: +(clientUs - plainUs).toFixed(1) }));
} finally {
  await browser.close();
  server.close();
}

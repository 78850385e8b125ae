// Usage: scripts/with-emulator.sh node tests/crosstab/run.mjs   (or `make test-crosstab`)
// `crossTab` in real tabs: Playwright opens several pages of one browser context (one origin,
// cross-origin to the emulator); each runs a client whose refresh callback is this runner (the
// app's "backend"), which mints a namespace token and counts the calls. Checks: one host call per
// token generation across 5 tabs (and 5 without crossTab), every tab on the same token; a joining
// tab takes the group's token without its host; the refreshing tab closed mid-refresh → another
// completes within the host limit; two tenants never exchange tokens, setToken to another tenant
// moves a tab to that tenant's group; nothing in localStorage, sessionStorage, IndexedDB, cookies.
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { launchChromium, watchPage } from "../../scripts/chromium.mjs";

const here = fileURLToPath(new URL(".", import.meta.url));
const root = resolve(here, "..", "..");
const pkgDir = resolve(process.env.PKG_DIR ?? join(root, "pkg"));
const api = process.env.OBLIEN_EMULATOR_API;
const adminId = process.env.OBLIEN_EMULATOR_CLIENT_ID;
const adminSecret = process.env.OBLIEN_EMULATOR_CLIENT_SECRET;
if (!api) {
  console.error("run me as scripts/with-emulator.sh node tests/crosstab/run.mjs");
  process.exit(2);
}

const types = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm" };
const mounts = [["/pkg/", pkgDir], ["/tab/", here]];
const server = createServer(async (req, res) => {
  const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
  for (const [prefix, dir] of mounts) {
    if (!path.startsWith(prefix)) continue;
    const file = normalize(join(dir, path.slice(prefix.length)));
    if (!file.startsWith(dir.endsWith(sep) ? dir : dir + sep)) break;
    try {
      const data = await readFile(file);
      res.writeHead(200, { "content-type": types[extname(file)] ?? "application/octet-stream", "cache-control": "no-store" });
      return res.end(data);
    } catch {
      break;
    }
  }
  res.writeHead(404).end();
});
await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
const origin = `http://127.0.0.1:${server.address().port}`;

async function admin(method, path, body) {
  const res = await fetch(api + path, {
    method,
    headers: { "X-Client-ID": adminId, "X-Client-Secret": adminSecret, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json().catch(() => null);
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}
const tenant = async (name) => (await admin("POST", "/namespaces", { name: `${name}-${Date.now() % 1e6}` })).data.slug;
const mint = async (namespace, ttl) => (await admin("POST", "/tokens", { scope: "namespace", namespace, ttl })).token;
const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

const results = [];
const pageErrors = [];
function check(ok, what) {
  results.push({ ok, what });
  console.log(`${ok ? "ok  " : "FAIL"}  ${what}`);
}

const browser = await launchChromium();
const context = await browser.newContext();
/** Host calls per page label: { label, reason, at }. */
const hostCalls = [];
/** The next host call hangs until released (its tab is then closed mid-refresh). */
const hang = { next: false, label: null, release: null };

async function openTab(label, namespace) {
  const page = await context.newPage();
  await watchPage(page, (e) => pageErrors.push(`${label}: ${e}`));
  await page.exposeFunction("__hostRefresh", async (reason, ttl) => {
    hostCalls.push({ label, reason, at: Date.now() });
    if (hang.next) {
      hang.next = false;
      hang.label = label;
      await new Promise((ok) => (hang.release = ok));
    }
    return mint(namespace(), ttl);
  });
  const ready = new Promise((ok) => page.exposeFunction("__ready", ok));
  await page.goto(`${origin}/tab/page.html`);
  await ready;
  return page;
}
const call = (page, fn, ...args) => page.evaluate(([fn, args]) => window.tab[fn](...args), [fn, args]);

let exitCode = 1;
try {
  // ---- 1. five tabs, several lifetimes: one host call per generation ------------------------
  const ttl = 6; // refresh margin min(60, 6/4) = 1.5 s: a generation every ~4.5 s
  for (const crossTab of [true, false]) {
    const ns = await tenant(crossTab ? "group" : "alone");
    const first = await mint(ns, ttl);
    const pages = [];
    for (let i = 0; i < 5; i++) pages.push(await openTab(`${crossTab ? "g" : "a"}${i}`, () => ns));
    hostCalls.length = 0;
    for (const page of pages) {
      const mode = await call(page, "start", { api, token: first, crossTab, refreshTtl: ttl });
      check(mode === (crossTab ? "active" : "off"), `crossTab ${crossTab}: client.crossTab is "${mode}"`);
    }
    const started = Date.now();
    await sleep(14_000);
    for (const page of pages) await call(page, "list");
    const generations = Math.floor((Date.now() - started) / 4500);
    const calls = hostCalls.length;
    if (crossTab) {
      check(calls >= generations - 1 && calls <= generations + 1, `5 tabs with crossTab: ${calls} host calls for ~${generations} token generations`);
      const gaps = hostCalls.slice(1).map((c, i) => c.at - hostCalls[i].at);
      check(gaps.every((g) => g > 2000), `one host call per generation (gaps between calls: ${gaps.join(", ")} ms)`);
      const infos = await Promise.all(pages.map((p) => call(p, "info")));
      check(new Set(infos.map((i) => i.issuedAt)).size === 1, `every tab holds the same token (issuedAt ${[...new Set(infos.map((i) => i.issuedAt))]})`);
      check(infos.filter((i) => i.source === "tab").length >= 3, `tokens taken from the group: sources ${infos.map((i) => i.source)}`);
      // ---- 2. a joining tab takes the group's fresher token without its host -----------------
      const before = hostCalls.length;
      const late = await openTab("late", () => ns);
      await call(late, "start", { api, token: first, crossTab: true, refreshTtl: ttl });
      await sleep(300);
      const lateInfo = await call(late, "info");
      // A generation may turn over while the tab opens (the group's leader refreshes): compare
      // with what the group holds now, and count only the late tab's own host calls.
      const groupNow = await Promise.all(pages.map((p) => call(p, "info")));
      check(
        lateInfo.source === "tab" && groupNow.some((i) => i.issuedAt === lateInfo.issuedAt),
        `a joining tab took the group's token (source ${lateInfo.source}, issuedAt ${lateInfo.issuedAt}; the group's ${[...new Set(groupNow.map((i) => i.issuedAt))]})`,
      );
      const since = hostCalls.slice(before).map((c) => c.label);
      check(!since.includes("late"), `without calling its host (host calls since it joined: ${since.join(", ") || "none"})`);
      pages.push(late);
      // ---- 3. the refreshing tab closed mid-refresh: another completes within the host limit --
      hang.next = true;
      const deadline = Date.now() + 8000;
      while (!hang.label && Date.now() < deadline) await sleep(50);
      const holder = pages.find((_, i) => (i < 5 ? `g${i}` : "late") === hang.label);
      if (holder) {
        await holder.close();
        const closedAt = Date.now();
        while (hostCalls.filter((c) => c.at >= closedAt).length === 0 && Date.now() - closedAt < 15_000) await sleep(50);
        const next = hostCalls.find((c) => c.at >= closedAt);
        check(!!next && next.at - closedAt < 15_000, `the refreshing tab (${hang.label}) closed mid-refresh: ${next?.label} refreshed ${next ? next.at - closedAt : "—"} ms later`);
        await sleep(500);
        const after = await Promise.all(pages.filter((p) => !p.isClosed()).map((p) => call(p, "list")));
        check(after.every((t) => t === 0), `the other tabs keep working (${after})`);
      } else {
        check(false, "a tab made a host call to hang");
      }
      hang.release?.();
    } else {
      check(calls >= 5 * (generations - 1), `5 tabs without crossTab: ${calls} host calls for ~${generations} generations (one per tab)`);
    }
    for (const page of pages) if (!page.isClosed()) await page.close();
  }

  // ---- 4. two tenants never exchange tokens; setToken moves a tab ---------------------------
  const a = await tenant("tenant-a");
  const b = await tenant("tenant-b");
  let nsOfB = b;
  const pa = await openTab("A", () => a);
  const pb = await openTab("B", () => nsOfB);
  await call(pa, "start", { api, token: await mint(a, 4), crossTab: true, refreshTtl: 4 });
  await call(pb, "start", { api, token: await mint(b, 4), crossTab: true, refreshTtl: 4 });
  await sleep(7000);
  const ia = await call(pa, "info");
  const ib = await call(pb, "info");
  check(ia.namespace === a && ib.namespace === b, `two tenants keep their own tokens (${ia.namespace}, ${ib.namespace})`);
  // B switches to tenant A: it leaves B's group and joins A's.
  nsOfB = a;
  const source = await call(pb, "setToken", await mint(a, 4));
  check(source === "setToken", `setToken's source is "${source}"`);
  const callsBefore = hostCalls.length;
  await sleep(6000);
  // The two reads are not atomic: a refresh landing between them reaches the other tab a moment
  // later (BroadcastChannel), so read the pair again a few times before calling them apart.
  let ja, jb;
  for (let read = 0; read < 5; read++) {
    [ja, jb] = await Promise.all([call(pa, "info"), call(pb, "info")]);
    if (ja.namespace === a && jb.namespace === a && ja.issuedAt === jb.issuedAt) break;
    await sleep(250);
  }
  check(
    ja.namespace === a && jb.namespace === a && ja.issuedAt === jb.issuedAt,
    `after setToken to tenant A, both tabs share A's token (A: ${ja.namespace} @${ja.issuedAt}, B: ${jb.namespace} @${jb.issuedAt})`,
  );
  const during = hostCalls.slice(callsBefore);
  const gaps = during.slice(1).map((c, i) => c.at - during[i].at);
  check(gaps.every((g) => g > 1500), `one host call per generation for the new pair (${during.map((c) => c.label)})`);
  // ---- 5. nothing stored ------------------------------------------------------------------
  for (const page of [pa, pb]) {
    const s = await call(page, "storage");
    check(s.local === 0 && s.session === 0 && s.cookies === "" && s.indexedDB === 0, `nothing in any storage area (${JSON.stringify(s)})`);
  }
  await call(pa, "dispose");
  await call(pb, "dispose");
  for (const error of pageErrors) check(false, `page error: ${error}`);
  const failed = results.filter((r) => !r.ok).length;
  console.log(`${results.length - failed} passed, ${failed} failed`);
  exitCode = failed === 0 ? 0 : 1;
} catch (error) {
  console.log(`FAIL  runner: ${error?.stack ?? error}`);
} finally {
  await browser.close().catch(() => {});
  server.close();
}
process.exit(exitCode);

// Scenario 9 of bench/run.mjs: `crossTab` (docs/BENCHMARKS.md). Real tabs: pages of one browser
// context, each running tests/crosstab/page.js (served under /tab/), whose refresh callback is
// this runner: it mints a token (the app's backend) and counts the calls.
//
// 9a. Host calls per token generation for 1, 5 and 20 tabs, with and without `crossTab`.
// 9b. The added latency of a call made in a follower tab at expiry: `workspaces.list()` every
//     50 ms in a follower of 5 tabs; the calls started within 0.5 s after a group refresh against
//     the others (median, ms).
// Checks: with crossTab, at most one host call per generation whatever the number of tabs; every
// call of the follower succeeds.
import { watchPage } from "../scripts/chromium.mjs";
import { median } from "./stats.mjs";

const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

export const crossTabConfig = (smoke) => ({
  ttl: 4, // refreshed 1 s before expiry: a token generation every ~3 s
  generations: smoke ? 2 : 4,
  tabs: smoke ? [1, 5] : [1, 5, 20],
});

export async function crossTabBench({ browser, origin, smoke, bench: { api, adminId, adminSecret }, check }) {
  const config = crossTabConfig(smoke);
  const admin = async (method, path, body) => {
    const res = await fetch(api + path, {
      method,
      headers: { "X-Client-ID": adminId, "X-Client-Secret": adminSecret, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status}`);
    return res.json();
  };
  const mint = async (namespace, ttl) => (await admin("POST", "/tokens", { scope: "namespace", namespace, ttl })).token;
  const results = { config, runs: [], follower: null };
  const pageErrors = [];
  for (const tabs of config.tabs) {
    for (const crossTab of [true, false]) {
      const namespace = (await admin("POST", "/namespaces", { name: `bench-tabs-${tabs}-${crossTab}-${Date.now() % 1e6}` })).data.slug;
      const context = await browser.newContext();
      const calls = [];
      try {
        const pages = [];
        for (let i = 0; i < tabs; i++) {
          const page = await context.newPage();
          await watchPage(page, (e) => pageErrors.push(e));
          await page.exposeFunction("__hostRefresh", async (_reason, ttl) => {
            calls.push(Date.now());
            return mint(namespace, ttl);
          });
          const ready = new Promise((ok) => page.exposeFunction("__ready", ok));
          await page.goto(`${origin}/tab/page.html`, { timeout: 30_000 });
          await ready;
          pages.push(page);
        }
        const first = await mint(namespace, config.ttl);
        for (const page of pages) {
          await page.evaluate((o) => window.tab.start(o), { api, token: first, crossTab, refreshTtl: config.ttl });
        }
        const follower = crossTab && tabs === 5 ? pages[4] : null;
        const started = Date.now();
        const spanMs = (config.ttl - 1) * 1000 * config.generations + 500;
        const latencies = follower
          ? follower.evaluate(async (ms) => {
            const out = [];
            const end = performance.now() + ms;
            while (performance.now() < end) {
              const t0 = performance.now();
              const at = Date.now();
              const total = await window.tab.list();
              out.push({ at, ms: performance.now() - t0, ok: total === 0 });
              await new Promise((r) => setTimeout(r, 50));
            }
            return out;
          }, spanMs)
          : sleep(spanMs);
        const samples = await latencies;
        const generations = Math.max(1, Math.round((Date.now() - started) / ((config.ttl - 1) * 1000)));
        const run = { tabs, crossTab, hostCalls: calls.length, generations, perGeneration: calls.length / generations };
        results.runs.push(run);
        if (crossTab) {
          check(`crossTab, ${tabs} tab(s): ${calls.length} host calls over ~${generations} token generations (at most one each)`, calls.length <= generations + 1);
        }
        if (follower) {
          const atExpiry = samples.filter((s) => calls.some((c) => s.at >= c && s.at - c <= 500)).map((s) => s.ms);
          const quiet = samples.filter((s) => !calls.some((c) => Math.abs(s.at - c) <= 800)).map((s) => s.ms);
          results.follower = { atExpiryMedianMs: median(atExpiry), quietMedianMs: median(quiet), addedMs: median(atExpiry) - median(quiet), atExpiry: atExpiry.length, quiet: quiet.length };
          check(`crossTab follower: all ${samples.length} calls across ${calls.length} refreshes succeeded`, samples.every((s) => s.ok));
        }
      } finally {
        await context.close();
      }
    }
  }
  check("crossTab bench: no page errors", pageErrors.length === 0, pageErrors.slice(0, 2).join(" | "));
  return results;
}

export function crossTabRows(r, row) {
  if (!r) return;
  for (const tabs of r.config.tabs) {
    const on = r.runs.find((x) => x.tabs === tabs && x.crossTab);
    const off = r.runs.find((x) => x.tabs === tabs && !x.crossTab);
    row(9, `host refresh calls per token generation, ${tabs} tab${tabs === 1 ? "" : "s"} (${on.hostCalls} calls over ~${on.generations} generations)`,
      `crossTab: ${on.perGeneration.toFixed(2)}`, `without: ${off.perGeneration.toFixed(2)}`, `${(off.perGeneration / Math.max(on.perGeneration, 0.01)).toFixed(1)}× fewer`);
  }
  if (r.follower) {
    row(9, `a follower tab's call at expiry (${r.follower.atExpiry} calls within 0.5 s of a group refresh) vs a quiet one, median`,
      `${r.follower.atExpiryMedianMs.toFixed(2)} ms`, `quiet: ${r.follower.quietMedianMs.toFixed(2)} ms`, `${r.follower.addedMs >= 0 ? "+" : ""}${r.follower.addedMs.toFixed(2)} ms`);
  }
}

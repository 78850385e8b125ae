// The in-page side of bench/run.mjs: every scenario runs here, in Chromium, against the emulator,
// and returns raw samples (milliseconds from performance.now()); bench/run.mjs does the statistics.
// Each comparison alternates the client and the plain-fetch baseline (bench/pages/plain-fetch.js)
// in chunks, so both see the same machine noise.
//
// window.__BENCH = { api, gateway, adminId, adminSecret } comes from an init script. The admin key
// is the benchmark's own (to create a namespace and mint tokens); no client is ever given it.
import init, { OblienUserClient } from "/pkg/oblien_user_client.js";
import { PlainClient } from "./plain-fetch.js";

const { api, gateway, adminId, adminSecret } = window.__BENCH;
const sleep = (ms) => new Promise((ok) => setTimeout(ok, Math.max(0, ms)));
const now = () => performance.now();
/** The wasm exports (`init()` resolves to them): the memory is read from here. */
const wasm = await init();
const wasmBytesAfterInit = wasm.memory.buffer.byteLength;

async function admin(method, path, body) {
  const headers = { "X-Client-ID": adminId, "X-Client-Secret": adminSecret };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(api + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = await res.json().catch(() => null);
  if (res.status >= 300) throw new Error(`admin ${method} ${path}: HTTP ${res.status} ${JSON.stringify(json)?.slice(0, 200)}`);
  return json;
}
const mint = async (namespace, ttl) => (await admin("POST", "/tokens", { scope: "namespace", namespace, ttl })).token;

/** JSON with sorted keys: two answers are equal when their canonical forms are. */
function canon(value) {
  if (Array.isArray(value)) return `[${value.map(canon).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canon(value[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** Forces a full GC (Chromium runs with --js-flags=--expose-gc) and lets finalizers run. */
async function settle() {
  for (let i = 0; i < 3; i++) {
    window.gc?.();
    await sleep(20);
  }
}

const state = {};

/** The two implementations of one call, by name. */
function calls(kind) {
  const { client, rt, plain, gatewayToken, path } = state;
  if (kind === "list") return { client: () => client.workspaces.list(), plain: () => plain.listWorkspaces() };
  if (kind === "read") return { client: () => rt.files.read({ path }), plain: () => plain.readFile(gatewayToken, path) };
  throw new Error(`unknown call ${kind}`);
}

/** `n` concurrent `list()` calls on client `c`: each call's latency, and how long launching took. */
async function burst(c, n) {
  const latency = new Array(n);
  const errors = [];
  const t0 = now();
  const pending = [];
  for (let i = 0; i < n; i++) {
    const start = now();
    pending.push(c.workspaces.list().then(
      () => { latency[i] = now() - start; },
      (e) => { latency[i] = now() - start; errors.push(e && (e.code || e.message)); },
    ));
  }
  const launchMs = now() - t0;
  await Promise.all(pending);
  return { latency, launchMs, totalMs: now() - t0, failures: errors.length, errors: [...new Set(errors)] };
}

window.bench = {
  /** A namespace with `workspaces` ready workspaces, a client, its runtime, and the baseline. */
  async setup({ workspaces = 3, path = "/app/README.md" } = {}) {
    const name = `bench-${Math.random().toString(36).slice(2, 8)}`;
    const ns = (await admin("POST", "/namespaces", { name })).data.slug;
    const token = await mint(ns, 3600);
    const client = new OblienUserClient({ token, baseUrl: api, gatewayUrl: gateway });
    const ids = [];
    for (let i = 0; i < workspaces; i++) ids.push((await client.workspaces.create({ image: "node-20", name: `bench-${i}` })).id);
    const rt = await client.workspaces.runtime(ids[0]);
    // Every workspace ready, so that `list()` answers the same thing from now on.
    const end = now() + 20_000;
    while (!(await client.workspaces.list()).workspaces.every((w) => w.ready)) {
      if (now() > end) throw new Error("the workspaces were not ready within 20 s");
      await sleep(50);
    }
    const plain = new PlainClient({ token, baseUrl: api, gatewayUrl: gateway });
    // The gateway token the client minted, read (not rotated) the plain way.
    const gatewayToken = (await plain.get(`${api}/workspace/${ids[0]}/runtime-api-access/token`)).token;
    Object.assign(state, { ns, token, client, rt, plain, gatewayToken, path, ids });

    const answers = {
      list: [await client.workspaces.list(), await plain.listWorkspaces()],
      read: [await rt.files.read({ path }), await plain.readFile(gatewayToken, path)],
    };
    return {
      wasmBytesAfterInit,
      crossOriginIsolated: window.crossOriginIsolated,
      workspaces: ids.length,
      equal: Object.fromEntries(Object.entries(answers).map(([k, [a, b]]) => [k, canon(a) === canon(b)])),
      bodyBytes: Object.fromEntries(Object.entries(answers).map(([k, [, b]]) => [k, JSON.stringify(b).length])),
      memoryApi: typeof performance.memory === "object",
      gcExposed: typeof window.gc === "function",
    };
  },

  /** The wasm memory's size now (it grows in 64 KiB pages and never shrinks). */
  wasmBytes() {
    return wasm.memory.buffer.byteLength;
  },

  /** One call by one implementation (the runner compares the requests they send). */
  async one(kind, who) {
    await calls(kind)[who]();
  },

  /** `n` sequential calls each, alternating client and plain in chunks; per-call latencies. */
  async perCall(kind, { n, chunk, warmup }) {
    const fns = calls(kind);
    const order = ["client", "plain"];
    for (let i = 0; i < warmup; i++) for (const who of order) await fns[who]();
    const samples = { client: [], plain: [] };
    const chunkMs = { client: [], plain: [] };
    for (let done = 0; done < n; done += chunk) {
      const size = Math.min(chunk, n - done);
      for (const who of order) {
        const fn = fns[who];
        const out = samples[who];
        const t0 = now();
        for (let i = 0; i < size; i++) {
          const start = now();
          await fn();
          out.push(now() - start);
        }
        chunkMs[who].push(now() - t0);
      }
      order.reverse();
    }
    return { samples, chunkMs };
  },

  /** `rounds` rounds of `concurrency` concurrent calls each, client and plain alternating. */
  async throughput(kind, { concurrency, rounds, warmup }) {
    const fns = calls(kind);
    const order = ["client", "plain"];
    const round = async (fn) => {
      const t0 = now();
      await Promise.all(Array.from({ length: concurrency }, () => fn()));
      return now() - t0;
    };
    for (let i = 0; i < warmup; i++) for (const who of order) await round(fns[who]);
    const roundMs = { client: [], plain: [] };
    for (let r = 0; r < rounds; r++) {
      for (const who of order) roundMs[who].push(await round(fns[who]));
      order.reverse();
    }
    return { roundMs };
  },

  /**
   * Exec stream throughput: `seq lines` through `rt.exec.stream` (every event iterated, stdout
   * bytes counted) and through plain fetch reading the same endpoint as the official SDK does,
   * alternating; per round the ms from the request to the exit and the stdout bytes seen.
   */
  async streamThroughput({ lines, rounds, warmup }) {
    const { rt, plain, gatewayToken } = state;
    const cmd = ["seq", String(lines)];
    const fns = {
      client: async () => {
        let bytes = 0;
        let exits = 0;
        for await (const ev of rt.exec.stream(cmd)) {
          if (ev.event === "stdout") bytes += ev.data.length;
          else if (ev.event === "exit") exits++;
        }
        return { bytes, exited: exits === 1 };
      },
      plain: () => plain.streamExec(gatewayToken, cmd),
    };
    const order = ["client", "plain"];
    for (let i = 0; i < warmup; i++) for (const who of order) await fns[who]();
    const out = { client: [], plain: [] };
    for (let r = 0; r < rounds; r++) {
      for (const who of order) {
        const t0 = now();
        const { bytes, exited } = await fns[who]();
        out[who].push({ ms: now() - t0, bytes, exited });
      }
      order.reverse();
    }
    return out;
  },

  /**
   * Refresh fan-in. Per round: a token of `ttl` s (margin `margin` s; both longer when a burst is
   * slow on this machine) is set; `n` concurrent calls
   * run while it is fresh (outside the margin); then the page holds the main thread from just
   * before the token's refresh time to just after it (as a busy or throttled tab would), so the
   * client's own timer cannot fire first, and launches `n` calls in that same task: the calls
   * find the token inside its margin. They must go out at once with the current token and start
   * exactly one host refresh between them; `n` more calls follow with the refreshed token.
   */
  async fanIn({ n, rounds, ttl, margin, refreshDelayMs, warmup }) {
    const { ns } = state;
    const host = [];
    const refresh = async (ctx) => {
      host.push({ reason: ctx.reason, at: now() });
      await sleep(refreshDelayMs);
      return mint(ns, 3600);
    };
    // Warm-up on the main client (same module, same connections), timing the bursts.
    let slowest = 0;
    for (let i = 0; i < Math.max(1, warmup); i++) slowest = Math.max(slowest, (await burst(state.client, n)).totalMs);
    // A lifetime long enough, on this machine, for a burst to finish before the margin (the calls
    // outside it) and before expiry (the calls inside it): at least `ttl`, at least 4 bursts.
    const lifetime = Math.max(ttl, Math.ceil((4 * slowest) / 1000 + 2));
    const marginSeconds = lifetime === ttl ? margin : Math.floor(0.45 * lifetime);
    const c = new OblienUserClient({ token: await mint(ns, 3600), baseUrl: api, gatewayUrl: gateway, refresh, refreshMarginSeconds: marginSeconds });
    try {
      const out = [];
      for (let r = 0; r < rounds; r++) {
        c.setToken(await mint(ns, lifetime));
        const info = c.tokenInfo;
        const refreshAt = info.refreshAt.getTime();
        const h0 = host.length;
        // The calls outside the margin are launched the same way: after holding the main thread
        // as long, so that the two bursts differ only in the token's state.
        const hold = 180;
        const holdUntil = Date.now() + hold;
        while (Date.now() < holdUntil) { /* same hold as below */ }
        const before = await burst(c, n);
        const h1 = host.length;
        if (Date.now() > refreshAt - 200) throw new Error(`round ${r}: the calls outside the margin took too long (${Math.round(before.totalMs)} ms)`);
        await sleep(refreshAt - (hold - 30) - Date.now());
        const spinFrom = now();
        while (Date.now() < refreshAt + 30) { /* hold the main thread across the refresh time */ }
        const spinMs = now() - spinFrom;
        const expiresInAtLaunch = (info.expiresAt.getTime() - Date.now()) / 1000;
        const launchedAt = now();
        const inside = await burst(c, n);
        const hostDuring = host.slice(h1).map((h) => ({ reason: h.reason, afterLaunchMs: h.at - launchedAt }));
        // The refreshed token (lifetime 3600 s) arrives after the host's delay.
        const end = now() + 10_000;
        while (c.tokenInfo.lifetimeSeconds !== 3600) {
          if (now() > end) throw new Error(`round ${r}: the refresh did not land within 10 s`);
          await sleep(10);
        }
        const holdAfter = Date.now() + hold;
        while (Date.now() < holdAfter) { /* same hold */ }
        const after = await burst(c, n);
        out.push({
          lifetimeSeconds: lifetime,
          hostCallsOutside: h1 - h0,
          hostCallsInside: host.length - h1,
          hostDuring,
          refreshedLifetime: c.tokenInfo.lifetimeSeconds,
          spinMs,
          marginSeconds: (info.expiresAt.getTime() - refreshAt) / 1000,
          expiresInAtLaunch,
          before,
          inside,
          after,
        });
      }
      return out;
    } finally {
      c.dispose();
    }
  },

  /**
   * Memory: wasm memory and JS heap (after a forced GC) at `steps` points through `calls` calls
   * (in concurrent batches of `batch`), then through `swaps` setToken swaps (distinct tokens,
   * minted beforehand; one call after each step shows the client still works), then through
   * `streams` exec stream opens (`echo`, each read to its exit, 10 at a time), then through
   * `reconnects` of the runtime's socket with a terminal open (`connection.reconnect()`: the
   * socket closes, then the `/health` probe, a new socket and the terminal's catch-up).
   */
  async memory({ calls: total, swaps, streams, reconnects, steps, batch, warmup }) {
    const { ns } = state;
    const tokens = [];
    for (let i = 0; i < swaps; i += 25) {
      tokens.push(...await Promise.all(Array.from({ length: Math.min(25, swaps - i) }, () => mint(ns, 3600))));
    }
    const c = new OblienUserClient({ token: state.token, baseUrl: api, gatewayUrl: gateway });
    const snapshot = async (phase, done) => {
      await settle();
      return {
        phase,
        done,
        wasmBytes: wasm.memory.buffer.byteLength,
        jsUsedBytes: performance.memory?.usedJSHeapSize ?? null,
        jsTotalBytes: performance.memory?.totalJSHeapSize ?? null,
      };
    };
    let failures = 0;
    const run = async (n) => {
      for (let i = 0; i < n; i += batch) {
        const results = await Promise.allSettled(Array.from({ length: Math.min(batch, n - i) }, () => c.workspaces.list()));
        failures += results.filter((x) => x.status === "rejected").length;
      }
    };
    try {
      await run(warmup);
      const snaps = [await snapshot("start", 0)];
      const per = Math.ceil(total / steps);
      for (let done = 0; done < total;) {
        const n = Math.min(per, total - done);
        await run(n);
        done += n;
        snaps.push(await snapshot("calls", done));
      }
      const perSwap = Math.ceil(swaps / steps);
      for (let done = 0; done < swaps;) {
        const n = Math.min(perSwap, swaps - done);
        for (let i = 0; i < n; i++) c.setToken(tokens[done + i]);
        done += n;
        await run(1);
        snaps.push(await snapshot("swaps", done));
      }
      const rt = await c.workspaces.runtime(state.ids[0]);
      const stream = async () => {
        let exits = 0;
        for await (const ev of rt.exec.stream(["echo", "x"])) exits += ev.event === "exit";
        if (exits !== 1) throw new Error(`${exits} exits`);
      };
      const perStreams = Math.ceil(streams / steps);
      for (let done = 0; done < streams;) {
        const n = Math.min(perStreams, streams - done);
        for (let i = 0; i < n; i += 10) {
          const results = await Promise.allSettled(Array.from({ length: Math.min(10, n - i) }, stream));
          failures += results.filter((x) => x.status === "rejected").length;
        }
        done += n;
        snaps.push(await snapshot("streams", done));
      }
      const term = await rt.terminals.create();
      const connection = rt.connection;
      const open = async () => {
        const end = now() + 10_000;
        while (connection.state !== "open") {
          if (now() > end) throw new Error(`the socket is ${connection.state} 10 s on`);
          await sleep(5);
        }
      };
      await open();
      let reopened = 0;
      const unsubscribe = connection.onStateChange((state) => (reopened += state === "open"));
      const perReconnect = Math.ceil(reconnects / steps);
      for (let done = 0; done < reconnects;) {
        const n = Math.min(perReconnect, reconnects - done);
        for (let i = 0; i < n; i++) {
          connection.reconnect();
          await open().catch(() => failures++);
        }
        done += n;
        snaps.push(await snapshot("reconnects", done));
      }
      unsubscribe();
      await term.close();
      return { snaps, failures, reopened };
    } finally {
      c.dispose();
    }
  },
};
window.__benchReady = true;

// Scenario 8 of bench/run.mjs: terminals over the workspace's one WebSocket (docs/BENCHMARKS.md).
// The page side is bench/pages/socket.js, in a browser context of its own.
//
// 8a. Keystroke echo round trip through the client's terminal against a plain `WebSocket` on the
//     same emulator: median, p99, the difference and the ratio (client ÷ plain). Check: every
//     echo came back exactly once, in order, on both sides.
// 8b. Reconnect to caught-up: the socket dropped by the emulator while a command runs; the time
//     from the drop to the first byte of caught-up output, and to the command's whole line.
//     Checks: the line arrives exactly once, no catch-up notice, the states go reconnecting → open.
import { watchPage } from "../scripts/chromium.mjs";
import { median, pct, round3, summary } from "./stats.mjs";

// `stableMs`: how long the socket is open before each drop, past the client's 5 s after which a
// socket counts as a success (core::socket::STABLE_MS), so each drop costs one first retry.
export const socketConfig = (smoke) => (smoke
  ? { echo: { n: 60, chunk: 30, warmup: 10 }, reconnect: { rounds: 1, delayS: 0.2, stableMs: 5200 } }
  : { echo: { n: 1000, chunk: 50, warmup: 50 }, reconnect: { rounds: 10, delayS: 0.2, stableMs: 5200 } });


/**
 * Runs 8a and 8b. `evaluate(page, what, fn, arg, limitMs)` and `check(name, ok, detail)` are
 * bench/run.mjs's. Returns the figures for bench.json (`results.socket`).
 */
export async function socketBench({ browser, origin, smoke, bench, evaluate, check }) {
  const config = socketConfig(smoke);
  const context = await browser.newContext();
  const pageErrors = [];
  try {
    await context.addInitScript((cfg) => { window.__BENCH = cfg; }, bench);
    const page = await context.newPage();
    await watchPage(page, (error) => pageErrors.push(error));
    page.on("crash", () => pageErrors.push("crashed"));
    await page.goto(`${origin}/bench/socket.html`, { waitUntil: "load", timeout: 30_000 });
    await page.waitForFunction(() => window.__socketBenchReady === true, null, { timeout: 30_000 });
    const setup = await evaluate(page, "socket setup", () => window.socketBench.setup(), undefined, 60_000);

    const echo = await evaluate(page, "socket echo", (o) => window.socketBench.echo(o), config.echo);
    const c = summary(echo.samples.client);
    const p = summary(echo.samples.plain);
    for (const who of ["client", "plain"]) {
      const bad = echo.mismatches[who];
      check(`socket echo (${who === "client" ? "client terminal" : "plain WebSocket"}): all ${config.echo.n + config.echo.warmup} keystrokes echoed exactly once, in order`,
        bad.length === 0, bad.length ? `${bad.length} chunks differ: ${JSON.stringify(bad.slice(0, 2))}` : "");
    }

    const rounds = await evaluate(page, "socket reconnect", (o) => window.socketBench.reconnect(o), config.reconnect, 120_000);
    rounds.forEach((r, i) => {
      const states = r.states.join(" → ");
      check(`socket reconnect round ${i + 1}: the output produced while away arrived exactly once, no notice, reconnecting → open`,
        r.exact && r.notices === 0 && r.states[0] === "reconnecting" && r.states.at(-1) === "open" && r.sockets_dropped >= 1,
        `${r.exact ? "once" : `got ${r.tail}`}; notices ${r.notices}; states ${states}; sockets dropped ${r.sockets_dropped}`);
    });
    await evaluate(page, "socket teardown", () => window.socketBench.teardown(), undefined, 10_000);
    check("socket page: no page errors", pageErrors.length === 0, pageErrors.slice(0, 3).join(" | "));

    const field = (k) => rounds.map((r) => r[k]).filter((x) => typeof x === "number");
    return {
      config,
      page: setup,
      echo: {
        client: c,
        plain: p,
        ratio: c.median / p.median,
        addedMs: { median: c.median - p.median, p99: c.p99 - p.p99 },
        samples: { client: round3(echo.samples.client), plain: round3(echo.samples.plain) },
      },
      reconnect: {
        firstByteMs: summary(field("firstByteMs")),
        lineMs: summary(field("lineMs")),
        closeSeenMs: summary(field("closeSeenMs")),
        openMs: summary(field("openMs")),
        faultCallMs: summary(field("faultCallMs")),
        rounds,
      },
    };
  } catch (error) {
    check("socket scenarios completed", false, String(error?.stack ?? error).split("\n").slice(0, 4).join(" "));
    return undefined;
  } finally {
    await context.close().catch(() => {});
  }
}

const ms = (x) => (x >= 100 ? `${x.toFixed(0)} ms` : x >= 10 ? `${x.toFixed(1)} ms` : `${x.toFixed(2)} ms`);
const signedMs = (x) => `${x >= 0 ? "+" : "−"}${ms(Math.abs(x))}`;
const int = (n) => Math.round(n).toLocaleString("en-US");

/** Scenario 8's rows of the table; `row(n, what, client, plain, ratio)` is bench/run.mjs's. */
export function socketRows(s, row) {
  if (!s) return;
  const e = s.echo;
  row(8, `terminal keystroke echo round trip (write → echo delivered), median / p99 of ${int(e.client.n)}; vs a plain \`WebSocket\` on the same emulator`,
    `${ms(e.client.median)} / ${ms(e.client.p99)}`, `plain WebSocket: ${ms(e.plain.median)} / ${ms(e.plain.p99)}`,
    `${e.ratio.toFixed(2)}× (${signedMs(e.addedMs.median)} median, ${signedMs(e.addedMs.p99)} p99)`);
  const r = s.reconnect;
  row(8, `socket dropped (no close frame) → first byte of caught-up output, median / p99 of ${r.firstByteMs.n} drop${r.firstByteMs.n === 1 ? "" : "s"} (→ close seen; → open again; → the whole line)`,
    `${ms(r.firstByteMs.median)} / ${ms(r.firstByteMs.p99)} (${ms(r.closeSeenMs.median)}; ${ms(r.openMs.median)}; ${ms(r.lineMs.median)})`,
    "a plain WebSocket does not come back");
}

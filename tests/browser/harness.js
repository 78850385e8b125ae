// A tiny in-page test harness: `test(name, fn, { timeoutMs })` registers, `run()` runs them one
// after another with a per-test timeout and reports each result. `fn` receives `t` with
// `t.defer(cleanup)` (run after the test, even on failure or timeout).
//
// Results go to the node runner (tests/browser/run.mjs) through exposed functions when present,
// else to the console and the page, so the page also works opened by hand.

const tests = [];
const afterEachHooks = [];
const DEFAULT_TIMEOUT_MS = 15_000;

export function test(name, fn, { timeoutMs = DEFAULT_TIMEOUT_MS } = {}) {
  if (tests.some((t) => t.name === name)) throw new Error(`duplicate test name: ${name}`);
  tests.push({ name, fn, timeoutMs });
}

/** Runs after every test (after its own deferred cleanups). */
export function afterEach(fn) {
  afterEachHooks.push(fn);
}

export class AssertionError extends Error {
  constructor(message) {
    super(message);
    this.name = "AssertionError";
  }
}

export function assert(condition, message = "assertion failed") {
  if (!condition) throw new AssertionError(message);
}

const show = (v) => {
  if (v instanceof Date) return `Date(${v.toISOString()})`;
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
};

export function eq(actual, expected, what = "value") {
  if (!Object.is(actual, expected)) throw new AssertionError(`${what}: expected ${show(expected)}, got ${show(actual)}`);
}

export function deepEq(actual, expected, what = "value") {
  const a = show(actual), e = show(expected);
  if (a !== e) throw new AssertionError(`${what}: expected ${e}, got ${a}`);
}

export function between(actual, min, max, what = "value") {
  if (!(typeof actual === "number" && actual >= min && actual <= max)) {
    throw new AssertionError(`${what}: expected a number in [${min}, ${max}], got ${show(actual)}`);
  }
}

export const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

/** A macrotask later: every microtask queued before it has run. */
export const nextTask = () => new Promise((ok) => setTimeout(ok, 0));

function describe(error) {
  if (error instanceof AssertionError) return error.message;
  if (error && typeof error === "object") {
    const extra = ["code", "status", "retryAfter"].filter((k) => error[k] !== undefined).map((k) => `${k}=${error[k]}`).join(" ");
    return `${error.name ?? "Error"}: ${error.message}${extra ? ` [${extra}]` : ""}${error.stack ? `\n${String(error.stack).split("\n").slice(1, 4).join("\n")}` : ""}`;
  }
  return `thrown: ${show(error)}`;
}

const report = (result) => {
  if (typeof window.__testReport === "function") return window.__testReport(result);
  const line = `${result.ok ? "ok  " : "FAIL"} ${result.name} (${result.ms} ms)${result.ok ? "" : `\n  ${result.error}`}`;
  const pre = document.getElementById("log");
  if (pre) pre.textContent += line + "\n";
  return undefined;
};

/** Runs the registered tests whose name contains `filter` (or one of its `|`-separated parts); resolves to { passed, failed }. */
export async function run({ filter = "" } = {}) {
  let passed = 0;
  let failed = 0;
  for (const t of tests) {
    if (filter && !filter.split("|").some((part) => t.name.includes(part))) continue;
    const cleanups = [];
    const ctx = { name: t.name, defer: (fn) => cleanups.push(fn) };
    const start = performance.now();
    let error = null;
    let timer;
    console.log(`test: ${t.name}`);
    try {
      await Promise.race([
        Promise.resolve().then(() => t.fn(ctx)),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new AssertionError(`timed out after ${t.timeoutMs} ms`)), t.timeoutMs);
        }),
      ]);
    } catch (e) {
      error = e;
    } finally {
      clearTimeout(timer);
    }
    for (const fn of [...cleanups.reverse(), ...afterEachHooks]) {
      try {
        await fn();
      } catch (e) {
        error ??= e;
      }
    }
    const result = { name: t.name, ok: !error, ms: Math.round(performance.now() - start), error: error ? describe(error) : null };
    if (result.ok) passed++;
    else failed++;
    await report(result);
  }
  const summary = { passed, failed };
  if (typeof window.__testDone === "function") await window.__testDone(summary);
  else report({ name: `${passed} passed, ${failed} failed`, ok: failed === 0, ms: 0, error: null });
  return summary;
}

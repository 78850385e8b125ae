// Usage: tests/e2e/run.sh   (or `make test-e2e`)
// (it runs: EMULATOR_FLAGS="--demo --static <www + pkg>" scripts/with-emulator.sh node tests/e2e/demo.e2e.mjs)
//
// Drives the demo page (www/) in headless Chromium the way a person would, against a fresh
// emulator that serves the page on its API origin: sign in as a tenant, create a workspace and see
// it become ready, watch the client refresh the short-lived token by itself, swap tenants with
// setToken (no reload), open the workspace's runtime, see an error with its code, save a file and
// read it back in the editor, run a command. Selects by role, label and data-testid only.
// Screenshots (laptop 1366x860, phone 390x844) go to test-results/e2e/; at phone width the page
// must not overflow horizontally. One line per step, then `N passed, M failed`.
import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { launchChromium, watchPage } from "../../scripts/chromium.mjs";

const root = resolve(fileURLToPath(new URL(".", import.meta.url)), "..", "..");
const outDir = resolve(process.env.E2E_OUT_DIR ?? join(root, "test-results", "e2e"));
const totalTimeoutMs = Number(process.env.TEST_E2E_TIMEOUT_MS ?? 150_000);
const TTL = 12; // seconds: the client refreshes min(60, 12/4) = 3 s before expiry, ~9 s after a token arrives
const LAPTOP = { width: 1366, height: 860 };
const PHONE = { width: 390, height: 844 };

function env(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`demo.e2e.mjs: ${name} is not set; run me as tests/e2e/run.sh`);
    process.exit(2);
  }
  return value.replace(/\/+$/, "");
}
const api = env("OBLIEN_EMULATOR_API");
const gateway = env("OBLIEN_EMULATOR_GATEWAY");
const adminId = env("OBLIEN_EMULATOR_CLIENT_ID");
const adminSecret = env("OBLIEN_EMULATOR_CLIENT_SECRET");

/** The test's own admin call to the emulator (fault injection); the page never has this key. */
async function emulatorAdmin(method, path, body) {
  const res = await fetch(api + path, {
    method,
    headers: { "X-Client-ID": adminId, "X-Client-Secret": adminSecret, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Failure(`admin ${method} ${path}: HTTP ${res.status} ${await res.text()}`);
  return res.json();
}

// ---- tiny harness ----------------------------------------------------------------------------

class Failure extends Error {}
function check(condition, message) {
  if (!condition) throw new Failure(message);
}
function eq(actual, expected, what) {
  check(actual === expected, `${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

let passed = 0;
let failed = 0;
let skipped = 0;
let stopped = false;
const started = Date.now();

/** Runs one step; after a failure the later steps (which build on it) are skipped. */
async function step(name, fn, { always = false } = {}) {
  if (stopped && !always) {
    skipped += 1;
    console.log(`skip  ${name}`);
    return;
  }
  const t0 = Date.now();
  try {
    await fn();
    passed += 1;
    console.log(`ok    ${name} (${Date.now() - t0} ms)`);
  } catch (error) {
    failed += 1;
    stopped = true;
    // (Playwright's call logs carry terminal colour codes.)
    let text = (error instanceof Failure ? error.message : String(error?.stack ?? error)).replace(/\x1b\[\d+m/g, "");
    // What the page was telling its user at that moment is usually the answer.
    const shown = page ? await shownErrors().catch(() => []) : [];
    if (shown.length) text += `\nthe page shows: ${shown.map((e) => e.text.replace(/\s+/g, " ")).join(" | ")}`;
    console.log(`FAIL  ${name} (${Date.now() - t0} ms)\n      ${text.replace(/\n/g, "\n      ")}`);
  }
}

// ---- browser ---------------------------------------------------------------------------------

await mkdir(outDir, { recursive: true });
let browser;
const killTimer = setTimeout(() => {
  console.log(`FAIL  the run did not finish within ${totalTimeoutMs} ms`);
  console.log(`${passed} passed, ${failed + 1} failed`);
  process.exit(1);
}, totalTimeoutMs);

const pageErrors = [];
const consoleErrors = [];
const requests = [];
let page;

/** What the page shows as errors right now: [{ code, text }]. */
const shownErrors = () =>
  page.getByTestId("error").evaluateAll((els) => els.map((el) => ({ code: el.dataset.code, text: el.innerText })));

/** Fails when the page shows an error toast other than the `allowed` codes. */
async function noErrorsShown(allowed = []) {
  const errors = (await shownErrors()).filter((e) => !allowed.includes(e.code));
  check(errors.length === 0, `the page shows an unexpected error: ${errors.map((e) => e.text.replace(/\s+/g, " ")).join(" | ")}`);
}

/** No horizontal overflow: the document is no wider than the viewport, and no visible element sticks out. */
async function checkNoOverflow(what) {
  const report = await page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const sticking = [];
    for (const el of document.body.querySelectorAll("*")) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.height === 0) continue;
      // Only count elements not clipped by a scrolling ancestor.
      let clipped = false;
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
        const ox = getComputedStyle(p).overflowX;
        if (ox !== "visible") {
          clipped = true;
          break;
        }
      }
      if (!clipped && (r.right > width + 1 || r.left < -1)) {
        sticking.push(`${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ""}${el.className && typeof el.className === "string" ? `.${el.className.split(" ")[0]}` : ""} [${Math.round(r.left)}, ${Math.round(r.right)}]`);
      }
    }
    return { scrollWidth: document.documentElement.scrollWidth, width, sticking: sticking.slice(0, 5) };
  });
  check(report.scrollWidth <= report.width, `${what}: the page scrolls sideways (scrollWidth ${report.scrollWidth} > ${report.width}): ${report.sticking.join(", ")}`);
  check(report.sticking.length === 0, `${what}: elements stick out of the ${report.width} px viewport: ${report.sticking.join(", ")}`);
}

async function shot(name, { fullPage = true } = {}) {
  // From the top, so that the sticky header is where it belongs in a full-page capture.
  if (fullPage) await page.evaluate(() => window.scrollTo(0, 0));
  await page.evaluate(() => document.fonts?.ready);
  await page.screenshot({ path: join(outDir, name), fullPage, animations: "disabled", caret: "hide" });
}

const tokenField = (id) => page.getByTestId(id);
const rowOf = (id) => page.locator(`[data-testid="workspace-row"][data-id="${id}"]`);

let acmeWorkspace = null; // id
let globexWorkspace = null;
let signedInAt = 0;
const timings = {};

try {
  browser = await launchChromium();
  const context = await browser.newContext({ viewport: PHONE, colorScheme: "light", reducedMotion: "reduce" });
  context.setDefaultTimeout(15_000);
  page = await context.newPage();
  await watchPage(page, (error) => pageErrors.push(error));
  // (Chromium logs every non-2xx answer as "Failed to load resource"; the page's own handling of
  // those is checked by the steps.)
  page.on("console", (msg) => msg.type() === "error" && !/^Failed to load resource/.test(msg.text()) && consoleErrors.push(msg.text()));
  page.on("request", (request) => requests.push({ url: request.url(), headers: request.headers() }));

  const url = `${api}/?${new URLSearchParams({ gateway, ttl: String(TTL) })}`;
  console.log(`e2e: page ${url}`);

  await step("the page loads: client version, tenant choice, sign-in button", async () => {
    await page.goto(url, { waitUntil: "load", timeout: 30_000 });
    await page.getByTestId("version").filter({ hasText: /^v\d+\.\d+\.\d+/ }).waitFor();
    await page.getByRole("radio", { name: /Acme Corp/ }).waitFor();
    await page.getByRole("radio", { name: /Globex Corporation/ }).waitFor();
    await page.getByRole("button", { name: "Sign in" }).waitFor();
    eq(await page.getByTestId("gateway-origin").innerText(), gateway, "the gateway origin from ?gateway=");
  });

  await step("phone width (390 px): sign-in screen fits, screenshot", async () => {
    await checkNoOverflow("sign-in at 390 px");
    await shot("phone-signin.png");
    await page.setViewportSize(LAPTOP);
    await shot("laptop-signin.png");
  });

  await step("sign in as acme: scope, namespace, label, countdown, log", async () => {
    await page.getByRole("radio", { name: /Acme Corp/ }).check();
    await page.getByRole("button", { name: "Sign in" }).click();
    await tokenField("token-namespace").filter({ hasText: "acme" }).waitFor();
    signedInAt = Date.now();
    eq(await tokenField("token-scope").innerText(), "namespace", "scope");
    eq(await tokenField("token-label").innerText(), "demo-user@acme", "label");
    const countdown = page.getByRole("progressbar", { name: "Time left" });
    const left = Number(await countdown.getAttribute("aria-valuenow"));
    check(left > 50 && left <= 100, `the countdown starts nearly full (aria-valuenow ${left})`);
    check(/^\d+ s$/.test(await page.getByTestId("countdown-text").innerText()), "the countdown shows seconds left");
    await page.locator('[data-testid="refresh-entry"][data-reason="sign-in"]').waitFor();
    await page.getByTestId("workspace-empty").waitFor();
    eq(await page.getByRole("button", { name: "acme", exact: true, pressed: true }).count(), 1, "acme is the pressed tenant");
    await noErrorsShown();
  });

  await step("create a workspace (image, cpus, memory) and see it become ready", async () => {
    const t0 = Date.now();
    await page.getByLabel("Image", { exact: true }).fill("python-3.12");
    await page.getByLabel("vCPUs").selectOption("2");
    await page.getByLabel("Memory").selectOption("512");
    await page.getByRole("button", { name: "Create" }).click();
    const row = page.getByTestId("workspace-row").first();
    await row.waitFor();
    acmeWorkspace = await row.getAttribute("data-id");
    check(/^ws_/.test(acmeWorkspace ?? ""), `a workspace id (${acmeWorkspace})`);
    const meta = await row.locator(".ws-meta").innerText();
    check(meta.includes("python-3.12") && meta.includes("2 vCPU") && meta.includes("512 MB"), `the row shows image, cpus and memory (${meta})`);
    check(await row.getByRole("button", { name: /^Open / }).isDisabled(), "Open is disabled while provisioning");
    await rowOf(acmeWorkspace).and(page.locator('[data-ready="true"]')).waitFor({ timeout: 20_000 });
    eq(await rowOf(acmeWorkspace).getByTestId("workspace-status").innerText(), "ready", "status badge");
    check(await rowOf(acmeWorkspace).getByRole("button", { name: /^Open / }).isEnabled(), "Open is enabled once ready");
    timings.provisioning = Date.now() - t0;
    await noErrorsShown();
    await shot("laptop-workspaces.png");
  });

  await step(`automatic refresh (ttl ${TTL} s): the log gains an "expiring" entry`, async () => {
    const expiresBefore = await tokenField("token-expires").innerText();
    await page.locator('[data-testid="refresh-entry"][data-reason="expiring"]').first().waitFor({ timeout: (TTL + 12) * 1000 });
    timings.firstRefresh = Date.now() - signedInAt;
    check(timings.firstRefresh >= (TTL - 3) * 1000 - 1500, `the refresh came near expiry minus the margin (${timings.firstRefresh} ms after sign-in)`);
    await page.waitForFunction((before) => document.querySelector('[data-testid="token-expires"]').textContent !== before, expiresBefore, { timeout: 2000 });
    eq(await tokenField("token-namespace").innerText(), "acme", "the refreshed token is acme's");
    const entry = page.locator('[data-testid="refresh-entry"][data-reason="expiring"]').first();
    check(/expires \d\d:\d\d:\d\d/.test(await entry.innerText()), "the entry shows the new expiry");
    check(/\d+ automatic refresh/.test(await page.getByTestId("refresh-count").innerText()), "the refresh count");
    const left = Number(await page.getByRole("progressbar", { name: "Time left" }).getAttribute("aria-valuenow"));
    check(left > 50, `the countdown restarted (aria-valuenow ${left})`);
    await noErrorsShown();
  });

  await step("a failed refresh (backend answers 503) is shown with its code, then the client recovers", async () => {
    const refreshes = page.locator('[data-testid="refresh-entry"][data-kind="refresh"]');
    const before = await refreshes.count();
    await emulatorAdmin("POST", "/__emulator/faults", {
      kind: "status", status: 503, path: "/demo/session", method: "POST", times: 1,
      body: { success: false, code: "backend_down", message: "The session service is down for maintenance" },
    });
    const failedEntry = page.locator('[data-testid="refresh-entry"][data-reason="failed"]').first();
    await failedEntry.waitFor({ timeout: (TTL + 5) * 1000 });
    check(/backend_down 503/.test(await failedEntry.innerText()), `the log names the backend's answer (${await failedEntry.innerText()})`);
    const toast = page.getByRole("alert").filter({ has: page.getByTestId("error-code").filter({ hasText: "refresh_failed" }) });
    await toast.waitFor();
    const shown = (await toast.innerText()).replace(/\s+/g, " ");
    check(/backend_down/.test(shown) && /HTTP 503/.test(shown) && /down for maintenance/.test(shown), `the toast explains the failure (${shown})`);
    // The client tries again (before the token runs out, or right after) and succeeds.
    await page.waitForFunction(
      (n) => document.querySelectorAll('[data-testid="refresh-entry"][data-kind="refresh"]').length > n, before, { timeout: 10_000 });
    await toast.getByRole("button", { name: "Dismiss error" }).click();
    await noErrorsShown();
  });

  await step("switch tenant to globex: setToken hot swap, list changes, no reload", async () => {
    await page.evaluate(() => (window.__e2eNoReload = true));
    await page.getByRole("button", { name: "globex", exact: true }).click();
    await tokenField("token-namespace").filter({ hasText: "globex" }).waitFor();
    eq(await tokenField("token-label").innerText(), "demo-user@globex", "label after the swap");
    await page.getByTestId("workspace-empty").waitFor();
    eq(await rowOf(acmeWorkspace).count(), 0, "acme's workspace is gone from the list");
    await page.locator('[data-testid="refresh-entry"][data-reason="switch"]').first().waitFor();
    eq(await page.getByRole("button", { name: "globex", exact: true, pressed: true }).count(), 1, "globex is the pressed tenant");
    // globex gets a workspace of its own, so the lists differ both ways.
    await page.getByLabel("Image", { exact: true }).fill("ubuntu-24.04");
    await page.getByRole("button", { name: "Create" }).click();
    const row = page.getByTestId("workspace-row").first();
    await row.waitFor();
    globexWorkspace = await row.getAttribute("data-id");
    eq(await page.getByTestId("workspace-row").count(), 1, "globex lists one workspace");
    eq(await page.evaluate(() => window.__e2eNoReload), true, "the page did not reload");
    await noErrorsShown();
  });

  await step("switch back to acme: acme's workspace, not globex's", async () => {
    await page.getByRole("button", { name: "acme", exact: true }).click();
    await tokenField("token-namespace").filter({ hasText: "acme" }).waitFor();
    await rowOf(acmeWorkspace).waitFor();
    eq(await rowOf(globexWorkspace).count(), 0, "globex's workspace is not listed");
    eq(await page.getByTestId("workspace-row").count(), 1, "acme lists one workspace");
    eq(await page.evaluate(() => window.__e2eNoReload), true, "the page did not reload");
    await noErrorsShown();
  });

  await step("open the workspace's runtime: file browser and editor load", async () => {
    await rowOf(acmeWorkspace).getByRole("button", { name: /^Open / }).click();
    const runtime = page.getByTestId("runtime-panel");
    await runtime.and(page.locator(`[data-workspace="${acmeWorkspace}"]`)).waitFor();
    await page.getByRole("list", { name: "Files" }).getByRole("button", { name: /README\.md/ }).waitFor();
    await page.waitForFunction(() => document.getElementById("editor-path").value === "/app/README.md");
    check((await page.getByLabel("Contents", { exact: true }).inputValue()).length > 0, "README.md's contents are in the editor");
    check(/gateway token until/.test(await page.getByTestId("runtime-gateway").innerText()), "the gateway token's expiry is shown");
    await noErrorsShown();
  });

  await step("an error is shown with its code and status (open a missing file)", async () => {
    await page.getByLabel("File path").fill("/app/missing.txt");
    await page.getByRole("button", { name: "Open", exact: true }).click();
    const toast = page.getByRole("alert").filter({ hasText: "/app/missing.txt" });
    await toast.waitFor();
    const code = await toast.getByTestId("error-code").innerText();
    check(code.length > 0 && code !== "error", `a specific code (${code})`);
    const textShown = await toast.innerText();
    check(/HTTP 404/.test(textShown), `the status is shown (${textShown.replace(/\s+/g, " ")})`);
    check((await toast.getByTestId("error-message").innerText()).trim().length > 0, "a readable message");
    timings.errorCode = code;
    await shot("laptop-error.png", { fullPage: false });
    await toast.getByRole("button", { name: "Dismiss error" }).click();
    await toast.waitFor({ state: "detached" });
  });

  const saved = `hello from the e2e test\nsaved at ${new Date().toISOString()}\n`;
  await step("save a file from the editor, browse to it, read it back", async () => {
    await page.getByLabel("File path").fill("/app/notes/hello.txt");
    await page.getByLabel("Contents", { exact: true }).fill(saved);
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByTestId("editor-status").filter({ hasText: /^Saved / }).waitFor();
    // Load something else, then find the new file in the browser and open it.
    const files = page.getByRole("list", { name: "Files" });
    await files.getByRole("button", { name: /README\.md/ }).click();
    await page.waitForFunction(() => document.getElementById("editor-path").value === "/app/README.md");
    check((await page.getByLabel("Contents", { exact: true }).inputValue()) !== saved, "the editor shows README.md");
    await files.getByRole("button", { name: /^notes/ }).click();
    await page.getByTestId("files-path").filter({ hasText: "notes" }).waitFor();
    await files.getByRole("button", { name: /hello\.txt/ }).click();
    await page.waitForFunction(() => document.getElementById("editor-path").value === "/app/notes/hello.txt");
    eq(await page.getByLabel("Contents", { exact: true }).inputValue(), saved, "the file read back");
    await files.getByRole("button", { name: "Parent directory" }).click();
    await files.getByRole("button", { name: /README\.md/ }).waitFor();
    await noErrorsShown();
  });

  await step("run commands: `echo hello` shows hello, `cat` shows the saved file", async () => {
    const cmd = page.getByLabel("Command", { exact: true });
    await cmd.fill("echo hello");
    await page.getByRole("button", { name: "Run" }).click();
    const out = page.getByRole("log", { name: "Command output" });
    const first = out.getByTestId("exec-entry").last();
    await first.getByTestId("exec-exit").waitFor();
    eq(await first.getByTestId("exec-stdout").innerText(), "hello", "echo's stdout");
    eq(await first.getByTestId("exec-exit").innerText().then((t) => t.split(" · ")[0]), "exit 0", "echo's exit code");
    await cmd.fill("cat   /app/notes/hello.txt");
    await page.getByRole("button", { name: "Run" }).click();
    await out.getByTestId("exec-entry").nth(1).getByTestId("exec-exit").waitFor();
    eq(await out.getByTestId("exec-entry").nth(1).getByTestId("exec-stdout").innerText(), saved.replace(/\n$/, ""), "cat's stdout");
    await noErrorsShown();
  });

  await step("screenshots: laptop and phone; no horizontal overflow at 390 px", async () => {
    await page.getByTestId("runtime-panel").scrollIntoViewIfNeeded();
    await shot("laptop-runtime.png");
    await page.setViewportSize(PHONE);
    await page.waitForTimeout(250);
    await checkNoOverflow("signed in at 390 px");
    await shot("phone-runtime.png");
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot("phone-top.png", { fullPage: false });
    await page.setViewportSize(LAPTOP);
  });

  await step("sign out and back in as globex: globex's workspace", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("button", { name: "Sign in" }).waitFor();
    await page.getByRole("radio", { name: /Globex Corporation/ }).check();
    await page.getByRole("button", { name: "Sign in" }).click();
    await tokenField("token-namespace").filter({ hasText: "globex" }).waitFor();
    await rowOf(globexWorkspace).waitFor();
    eq(await page.getByTestId("workspace-row").count(), 1, "globex lists one workspace");
    await noErrorsShown();
  });

  await step("the page stayed clean: no page errors, no token or admin secret shown or sent", async () => {
    check(pageErrors.length === 0, `page errors: ${pageErrors.join(" | ")}`);
    check(consoleErrors.length === 0, `console errors: ${consoleErrors.join(" | ")}`);
    const body = await page.evaluate(() => document.documentElement.outerHTML + document.body.innerText);
    check(!/eyJ[\w-]{8,}\.eyJ[\w-]{8,}/.test(body), "no JWT in the page");
    check(!adminSecret || !body.includes(adminSecret), "no admin secret in the page");
    for (const r of requests) {
      check(!("x-client-secret" in r.headers) && !("x-client-id" in r.headers), `no API key sent (${r.url})`);
      check(!/eyJ[\w-]+\.eyJ/.test(r.url), `no token in a URL (${r.url})`);
    }
    const refreshes = await page.locator('[data-testid="refresh-entry"][data-kind="refresh"]').count();
    timings.requests = requests.length;
    timings.refreshesSinceSignIn = refreshes;
  }, { always: true });
} catch (error) {
  failed += 1;
  console.log(`FAIL  runner: ${String(error?.stack ?? error)}`);
} finally {
  clearTimeout(killTimer);
  if (browser) await browser.close().catch(() => {});
}

console.log(
  `(${((Date.now() - started) / 1000).toFixed(1)} s; provisioning ${timings.provisioning ?? "?"} ms, ` +
    `first refresh ${timings.firstRefresh ?? "?"} ms after sign-in, error code ${timings.errorCode ?? "?"}, ` +
    `${timings.requests ?? "?"} requests; screenshots in ${outDir})`,
);
if (skipped) console.log(`(${skipped} steps skipped after the failure)`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);

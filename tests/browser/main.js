// Entry of index.html: init() the package, then run the tests (kept out of an inline script so no
// stack frame carries the page URL, whose query string holds the test-only admin key).
import { run } from "./harness.js";
import { setup as setupClient } from "./client.test.js";
import { setup as setupRuntime } from "./runtime.test.js";
import { setup as setupFaults } from "./faults.test.js";
import { setup as setupHost } from "./host.test.js";
import { setup as setupLifetimes } from "./lifetimes.test.js";
import { setup as setupStreams } from "./streams.test.js";
import { setup as setupTerminals } from "./terminals.test.js";
import { setup as setupLifecycle } from "./lifecycle.test.js";

const filter = new URLSearchParams(location.search).get("filter") ?? "";
// The admin key stays in the tests' memory only: take it out of the address bar.
history.replaceState(null, "", location.pathname);
for (const [name, setup] of [
  ["client.test.js", setupClient], ["runtime.test.js", setupRuntime], ["faults.test.js", setupFaults], ["host.test.js", setupHost],
  ["lifetimes.test.js", setupLifetimes], ["streams.test.js", setupStreams],
  ["terminals.test.js", setupTerminals],
  ["lifecycle.test.js", setupLifecycle],
]) {
  try {
    await setup();
  } catch (e) {
    await window.__testReport?.({ name: `init() of ${name}`, ok: false, ms: 0, error: String((e && e.stack) || e) });
  }
}
await run({ filter });

// Terminals and file watchers over the runtime's one WebSocket, through the built package against
// the emulator (cross-origin): echo, resize, exit, attach with scrollback, volume, two terminals on
// one socket, reconnect after a drop / a rotation / a token expiry, `replaced` without a loop,
// watcher events from every source, overflow, dispose. Output must arrive exactly once.
import { assert, eq, sleep, test } from "./harness.js";
import { admin, client, fault, mint, rejects, setupPackage, tenant, waitFor } from "./support.js";

export async function setup() {
  await setupPackage();
}

const decoder = () => new TextDecoder();

/** A runtime of a fresh workspace. */
async function freshRuntime(t, label = "term", more = {}) {
  const ns = await tenant(label);
  const c = client(t, { token: await mint(ns), ...more });
  const ws = await c.workspaces.create({ image: "node-20" });
  const rt = await c.workspaces.runtime(ws.id);
  return { c, ws, rt, ns };
}

/** Everything a terminal prints, as text, and helpers to wait for it. */
function record(term) {
  const dec = decoder();
  const out = { text: "", exits: [], notices: [] };
  term.onData((bytes) => {
    assert(bytes instanceof Uint8Array, "onData gets a Uint8Array");
    out.text += dec.decode(bytes, { stream: true });
  });
  term.onExit((code) => out.exits.push(code));
  term.onNotice((n) => out.notices.push(n));
  out.until = (pattern, what, ms = 10000) =>
    waitFor(() => (typeof pattern === "string" ? out.text.includes(pattern) : pattern.test(out.text)), what ?? String(pattern), ms);
  out.count = (needle) => out.text.split(needle).length - 1;
  return out;
}

const access = (id, rest) => `/workspace/${id}/internal-api-access${rest}`;

test("terminal: prompt, echo round trip, resize, exit code; the socket opens and closes with it", async (t) => {
  const { rt } = await freshRuntime(t);
  const states = [];
  rt.connection.onStateChange((s) => states.push(s));
  eq(rt.connection.state, "idle", "no socket before a terminal");
  const term = await rt.terminals.create({ cols: 100, rows: 30 });
  eq(term.id, "1", "terminal id");
  const out = record(term);
  await out.until("$ ", "the prompt");
  eq(rt.connection.state, "open", "state with a live terminal");
  term.write("echo hello-$((1))\r");
  term.write("echo round-trip\r");
  await out.until(/round-trip\r\nround-trip/, "the echo and its output");
  term.resize(120, 40);
  await sleep(100);
  const listed = await rt.terminals.list();
  const session = listed.find((s) => s.id === "1");
  eq(session.cols, 120, "cols after resize");
  eq(session.rows, 40, "rows after resize");
  term.write("exit 7\r");
  await waitFor(() => out.exits.length === 1, "onExit");
  eq(out.exits[0], 7, "exit code");
  await waitFor(() => rt.connection.state === "idle", "the socket closes with its last terminal");
  assert(states.includes("connecting") && states.includes("open"), `states: ${states}`);
  let threw = null;
  try {
    term.write("ls\r");
  } catch (e) {
    threw = e;
  }
  eq(threw?.code, "terminal_exited", "write after exit");
});

test("terminal: 100 KB of output arrives whole and in order; two terminals share one socket", async (t) => {
  const { rt } = await freshRuntime(t, "volume");
  // Each terminal's listeners go on as soon as it exists: its prompt may arrive while the next
  // terminal is being created.
  const a = await rt.terminals.create({ scrollbackSize: 1 << 20 });
  const outA = record(a);
  const b = await rt.terminals.create();
  const outB = record(b);
  await outA.until("$ ");
  await outB.until("$ ");
  a.write("seq 20000\r");
  b.write("echo from-b\r");
  await outA.until("19999\r\n20000\r\n", "seq's last lines", 20000);
  await outB.until("from-b\r\nfrom-b", "b's output");
  const lines = outA.text.split("\r\n");
  const start = lines.indexOf("1");
  const numbers = lines.slice(start, start + 20000).map(Number);
  eq(numbers.length, 20000, "lines");
  assert(numbers.every((n, i) => n === i + 1), "every line once, in order");
  assert(!outA.text.includes("from-b"), "b's output stays out of a");
  await a.close();
  await b.close();
});

test("terminal: attach replays the scrollback, then live output; scrollback() as bytes", async (t) => {
  const { rt, c } = await freshRuntime(t, "attach");
  const term = await rt.terminals.create();
  const out = record(term);
  await out.until("$ ");
  term.write("echo first\r");
  await out.until("first\r\nfirst");
  const bytes = await rt.terminals.scrollback(term.id);
  assert(bytes instanceof Uint8Array, "scrollback is bytes");
  assert(decoder().decode(bytes).includes("first"), "scrollback holds the output");
  const tail = await rt.terminals.scrollback(term.id, { bytes: 4 });
  eq(tail.length, 4, "scrollback({ bytes: 4 })");
  // A second runtime takes the socket over and attaches: scrollback first, then live.
  const rt2 = await c.workspaces.runtime(rt.workspaceId);
  const attached = await rt2.terminals.attach(term.id);
  const out2 = record(attached);
  await out2.until("first\r\nfirst", "the scrollback on attach");
  await waitFor(() => rt.connection.state === "replaced", "the first runtime's socket is replaced");
  attached.write("echo second\r");
  await out2.until("second\r\nsecond", "live output after attach");
  eq(out2.count("first\r\nfirst"), 1, "scrollback delivered once");
  await sleep(1500);
  eq(rt.connection.state, "replaced", "no fight back: still replaced");
  // reconnect() takes it back, and the first terminal catches up on what it missed.
  rt.connection.reconnect();
  await waitFor(() => rt.connection.state === "open", "reconnected");
  await out.until("second\r\nsecond", "caught up after taking the socket back");
  eq(out.count("second\r\nsecond"), 1, "caught-up output once");
  eq(out.count("first\r\nfirst"), 1, "earlier output not repeated");
  await attached.close();
}, { timeoutMs: 20000 });

test("reconnect: after a network drop, a rotation and a token expiry, each output line exactly once", async (t) => {
  const { rt, ws } = await freshRuntime(t, "reconnect");
  const term = await rt.terminals.create();
  const out = record(term);
  await out.until("$ ");
  // 1. The network drops the socket (no close frame); output meanwhile goes to the scrollback.
  term.write("sleep 0.5; echo while-away-1\r");
  await sleep(100);
  await fault({ kind: "drop", path: "/ws", listener: "gateway" });
  await out.until("\r\nwhile-away-1\r\n", "output produced while the socket was away", 5000);
  await sleep(300);
  eq(out.count("\r\nwhile-away-1\r\n"), 1, `once after a drop: ${JSON.stringify(out.text)}`);
  // 2. Rotation (POST …/reconnect closes the socket and rotates the token): back within 2 s.
  const before = performance.now();
  await admin("POST", access(ws.id, "/reconnect"));
  await waitFor(() => rt.connection.state !== "open", "the socket closed by the rotation", 2000);
  await waitFor(() => rt.connection.state === "open", "back after the rotation", 2000);
  const back = performance.now() - before;
  term.write("echo after-rotation\r");
  await out.until("after-rotation\r\nafter-rotation", "output after the rotation");
  assert(back < 2000, `back within 2 s (${Math.round(back)} ms)`);
  // 3. Token expiry: a 2 s gateway token, then a drop: the next attempt mints a new one.
  await admin("PUT", "/__emulator/gateway-token-ttl", { seconds: 2 });
  t.defer(() => admin("PUT", "/__emulator/gateway-token-ttl", { seconds: 3600 }));
  await admin("POST", access(ws.id, "/token"));
  await waitFor(() => rt.connection.state === "open", "back after the rotation to a short token", 3000);
  await sleep(2500);
  term.write("echo before-drop\r");
  await out.until("before-drop\r\nbefore-drop");
  await fault({ kind: "drop", path: "/ws", listener: "gateway" });
  // (Keystrokes written in the instant a socket dies may be lost with it: wait for the new one.)
  await waitFor(() => rt.connection.state !== "open", "the drop seen", 3000);
  await waitFor(() => rt.connection.state === "open" && rt.tokenInfo.expiresIn > 0, "back with a fresh token", 5000);
  term.write("echo after-expiry\r");
  await out.until("after-expiry\r\nafter-expiry");
  for (const line of ["\r\nwhile-away-1\r\n", "after-rotation\r\nafter-rotation", "before-drop\r\nbefore-drop", "after-expiry\r\nafter-expiry"]) {
    eq(out.count(line), 1, `"${line.replace(/\r\n/g, "⏎")}" once: ${JSON.stringify(out.text)} notices ${JSON.stringify(out.notices)}`);
  }
  eq(out.notices.length, 0, "no notice");
}, { timeoutMs: 30000 });

test("watchers: ready, events from REST, exec and a terminal; excludes; close", async (t) => {
  const { rt } = await freshRuntime(t, "watch");
  await rt.files.mkdir({ path: "/app/node_modules" });
  const w = await rt.watchers.create({ path: "/app", excludes: ["node_modules"] });
  const events = [];
  w.onEvent((e) => events.push(`${e.op} ${e.path}`));
  await rt.files.write({ path: "/app/rest.txt", content: "x" });
  await rt.exec.run(["sh", "-c", "echo y > /app/exec.txt"]);
  await rt.files.write({ path: "/app/node_modules/ignored.js", content: "z" });
  const term = await rt.terminals.create();
  const out = record(term);
  await out.until("$ ");
  term.write("echo hi > /app/x.txt\r");
  await waitFor(() => events.some((e) => e.endsWith("/app/x.txt")), "the terminal's file");
  assert(events.some((e) => e === "create /app/rest.txt"), `REST write: ${events}`);
  assert(events.some((e) => e.endsWith("/app/exec.txt")), `exec write: ${events}`);
  assert(!events.some((e) => e.includes("node_modules")), `excluded: ${events}`);
  // Uploads are a source too: a tar.gz of /app/up extracted into /app/up-copy.
  await rt.files.write({ path: "/app/up/one.txt", content: "1", createDirs: true });
  const archive = await rt.transfer.download({ paths: ["/app/up"] });
  await rt.transfer.upload({ dest: "/app/up-copy", body: archive });
  await waitFor(() => events.some((e) => e.startsWith("create /app/up-copy")), "the upload's files");
  const listed = await rt.watchers.list();
  assert(listed.some((info) => info.id === w.id), "listed");
  await w.close();
  await term.close();
  await waitFor(() => rt.connection.state === "idle", "the socket closes with its last user");
});

test("watchers: overflow tells the app; after a reconnect onOverflow says events may be missing", async (t) => {
  const { rt } = await freshRuntime(t, "overflow");
  const w = await rt.watchers.create({ path: "/app" });
  const overflows = [];
  w.onOverflow((m) => overflows.push(m));
  await fault({ kind: "drop", path: "/ws", listener: "gateway" });
  await waitFor(() => overflows.length >= 1, "onOverflow after the reconnect", 5000);
  await waitFor(() => rt.connection.state === "open", "reopened");
  await w.close();
});

test("watchers: more than 256 events while the socket is away → the gateway's overflow reaches onOverflow", async (t) => {
  const { rt } = await freshRuntime(t, "flood");
  await rt.files.mkdir({ path: "/app/many" });
  const w = await rt.watchers.create({ path: "/app" });
  const overflows = [];
  w.onOverflow((m) => overflows.push(m));
  // The socket drops; the client waits ≥ 250 ms before its first retry: 300 files meanwhile.
  await fault({ kind: "drop", path: "/ws", listener: "gateway" });
  const names = Array.from({ length: 300 }, (_, i) => `f${i}`).join(" ");
  await rt.exec.run(["sh", "-c", `cd /app/many && touch ${names}`]);
  await waitFor(() => overflows.some((m) => /256/.test(m)), `the gateway's overflow (got ${JSON.stringify(overflows)})`, 8000);
  await w.close();
});

test("dispose with open terminals: the socket closes, state 'closed', no page error", async (t) => {
  const { rt, c } = await freshRuntime(t, "dispose");
  const term = await rt.terminals.create();
  const out = record(term);
  await out.until("$ ");
  term.write("sleep 5\r");
  c.dispose();
  await waitFor(() => rt.connection.state === "closed", "closed on dispose");
  eq(rt.connection.error?.code, "disposed", "connection.error");
  await sleep(300);
});

test("terminals and watchers: option errors name the call, the option and the rule; nothing is created, the socket stays idle", async (t) => {
  const { rt } = await freshRuntime(t, "term-opts");
  const msg = (call, rest) => new RegExp(`^${call.replace(/[().]/g, "\\$&")}: ${rest}$`);
  const create = "terminals.create(options)";
  const attach = "terminals.attach(id, options)";
  const scrollback = "terminals.scrollback(id, options)";
  const watch = "watchers.create(options)";
  const cases = [
    [() => rt.terminals.create(5), msg(create, "options must be an object, not a number")],
    [() => rt.terminals.create([1]), msg(create, "options must be an object, not an array")],
    [() => rt.terminals.create(() => {}), msg(create, "options must be an object, not a function")],
    [() => rt.terminals.create({ signal: 1 }), msg(create, "options\\.signal must be an AbortSignal")],
    [() => rt.terminals.create({ cols: 0 }), msg(create, "options\\.cols must be a positive integer")],
    [() => rt.terminals.create({ cols: 80, rows: 1.5 }), msg(create, "options\\.rows must be a positive integer")],
    [() => rt.terminals.create({ rows: 10001 }), msg(create, "options\\.rows must be a positive integer")],
    [() => rt.terminals.create({ scrollbackSize: 2 ** 26 + 1 }), msg(create, "options\\.scrollbackSize must be a positive integer")],
    [() => rt.terminals.create({ shell: ["/bin/sh"] }), msg(create, "options\\.shell must be a string")],
    [() => rt.terminals.attach(1), msg(attach, "id must be a terminal id string")],
    [() => rt.terminals.attach(""), msg(attach, "id must be a terminal id string")],
    [() => rt.terminals.attach("300"), /^This terminal id does not fit the one byte a WebSocket frame carries \(1–255\)$/],
    [() => rt.terminals.attach("1", "x"), msg(attach, "options must be an object, not a string")],
    [() => rt.terminals.attach("1", { signal: {} }), msg(attach, "options\\.signal must be an AbortSignal")],
    [() => rt.terminals.scrollback(undefined), msg(scrollback, "id must be a terminal id string")],
    [() => rt.terminals.scrollback("1", { bytes: -1 }), msg(scrollback, "options\\.bytes must be an integer ≥ 0")],
    [() => rt.watchers.create(), msg(watch, "options must be an object")],
    [() => rt.watchers.create(null), msg(watch, "options must be an object")],
    [() => rt.watchers.create(true), msg(watch, "options must be an object, not a boolean")],
    [() => rt.watchers.create({}), msg(watch, "options\\.path must be a non-empty string")],
    [() => rt.watchers.create({ path: "" }), msg(watch, "options\\.path must be a non-empty string")],
    [() => rt.watchers.create({ path: 1, signal: 1 }), msg(watch, "options\\.path must be a string")],
    [() => rt.watchers.create({ path: "/app", signal: 1 }), msg(watch, "options\\.signal must be an AbortSignal")],
    [() => rt.watchers.create({ path: "/app", excludes: null }), msg(watch, "options\\.excludes must be an array of strings")],
    [() => rt.watchers.create({ path: "/app", excludes: ["a", 1] }), msg(watch, "options\\.excludes must be an array of strings")],
  ];
  for (const [call, message] of cases) await rejects(call(), { code: "invalid_options", message }, String(message));
  eq(rt.connection.state, "idle", "no socket for calls that never started");
  eq((await rt.terminals.list()).length, 0, "no terminal was created");
  eq((await rt.watchers.list()).length, 0, "no watcher was created");
  // null options are absent ones.
  const term = await rt.terminals.create({ cols: null, signal: null, shell: null });
  await term.close();
});

test("stop: the socket ends with workspace_not_running, not a reconnect loop", async (t) => {
  const { rt, ws } = await freshRuntime(t, "stop");
  const term = await rt.terminals.create();
  const out = record(term);
  await out.until("$ ");
  await admin("POST", `/workspace/${ws.id}/stop`);
  await waitFor(() => rt.connection.state === "closed", "closed after stop", 5000);
  eq(rt.connection.error?.code, "workspace_not_running", "connection.error");
});

// Streams and the rest of the workspace gateway (issue 11) through the built package's JS API,
// against the emulator's gateway on another origin: exec streams (output over time, stderr, stdin,
// kill, 10,000 lines, UTF-8 split across chunks, subscribe, a dropped connection resumed, abort,
// dispose, wait, close), exec tasks, files.stream / read options, search, transfer (tar.gz round
// trip), proxy, info and health. The runner fails the run on a page error or an unhandled
// rejection, and on any token in a URL or a console line.
import { ExecStream } from "/pkg/oblien_user_client.js";
import { assert, between, deepEq, eq, sleep, test } from "./harness.js";
import { admin, client, fault, gatewaySince, mint, netMark, rejects, setupPackage, tenant, throws, pageErrorsDuring } from "./support.js";

export async function setup() {
  await setupPackage();
}

// ---- helpers --------------------------------------------------------------------------------

/** A tenant, a client, a ready workspace and its runtime. */
async function freshRuntime(t, label = "st", options = {}) {
  const c = client(t, { token: await mint(await tenant(label)), ...options });
  const ws = await c.workspaces.create({ image: "node-20" });
  const rt = await c.workspaces.runtime(ws.id);
  return { c, ws, rt };
}

/** Every event of a stream, with the time each arrived. */
async function drain(stream) {
  const events = [];
  for await (const ev of stream) events.push({ ...ev, at: performance.now() });
  return events;
}

const bytesOf = (events, name) => {
  const parts = events.filter((e) => e.event === name).map((e) => e.data);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};
const textOf = (events, name) => events.filter((e) => e.event === name).map((e) => e.text).join("");
const exits = (events) => events.filter((e) => e.event === "exit");
const seqText = (n) => Array.from({ length: n }, (_, i) => `${i + 1}\n`).join("");


// ---- exec.stream ------------------------------------------------------------------------------

test("exec.stream: output arrives over time as it is written, then exactly one exit, last", async (t) => {
  const { rt } = await freshRuntime(t);
  const run = rt.exec.stream(["sh", "-c", "echo one; sleep 0.3; echo two"]);
  assert(run instanceof ExecStream, "exec.stream returns an ExecStream at once");
  assert(typeof run[Symbol.asyncIterator] === "function", "an ExecStream is async-iterable");
  const id = await run.taskId;
  assert(typeof id === "string" && id.length > 0, `taskId is a string: ${id}`);
  const events = await drain(run);
  deepEq(events.map((e) => e.event), ["stdout", "stdout", "exit"], "events");
  eq(events[0].text, "one\n", "first chunk");
  eq(events[1].text, "two\n", "second chunk");
  assert(events[0].data instanceof Uint8Array, "data is a Uint8Array");
  deepEq([...events[0].data], [...new TextEncoder().encode("one\n")], "data bytes");
  between(events[1].at - events[0].at, 250, 5000, "ms between the two outputs");
  eq(events[2].exitCode, 0, "exitCode");
  eq(events[2].status, "exited", "status");
  eq(await run.taskId, id, "taskId again");
  const done = await run.wait();
  deepEq([done.taskId, done.exitCode, done.stdout, done.stderr], [id, 0, "one\ntwo\n", ""], "wait() after iterating");
});

test("exec.stream: stderr and a non-zero exit", async (t) => {
  const { rt } = await freshRuntime(t);
  const events = await drain(rt.exec.stream(["sh", "-c", "echo out; cat /nope; exit 1"]));
  eq(textOf(events, "stdout"), "out\n", "stdout");
  eq(textOf(events, "stderr"), "cat: /nope: No such file or directory\n", "stderr");
  deepEq(exits(events).map((e) => e.exitCode), [1], "one exit, code 1");
  eq(events.at(-1).event, "exit", "exit is last");
});

test("exec.stream: wait() without iterating collects everything; an unknown command exits 127", async (t) => {
  const { rt } = await freshRuntime(t);
  const done = await rt.exec.stream(["sh", "-c", "echo a; echo b 1>&2; echo c"]).wait();
  eq(done.exitCode, 0, "exitCode");
  eq(done.stdout, "a\nc\n", "stdout");
  eq(typeof done.taskId, "string", "taskId");
  const missing = await rt.exec.stream(["no-such-command"]).wait();
  eq(missing.exitCode, 127, "unknown command");
  const unkept = await rt.exec.stream(["seq", "3"], { keepOutput: false }).wait();
  deepEq([unkept.exitCode, unkept.stdout, unkept.stderr], [0, "", ""], "keepOutput: false");
});

test("exec.stream: the command starts even if nobody reads the stream", async (t) => {
  const { rt } = await freshRuntime(t);
  rt.exec.stream(["sh", "-c", "echo started > /app/started.txt"]);
  let content = null;
  for (let i = 0; i < 50 && content === null; i++) {
    await sleep(50);
    content = await rt.files.read({ path: "/app/started.txt" }).then((r) => r.content, () => null);
  }
  eq(content, "started\n", "the file the unread command wrote");
});

test("exec.stream: stdin round trip through cat (write, then kill)", async (t) => {
  const { rt } = await freshRuntime(t);
  const run = rt.exec.stream(["cat"]);
  const written = await run.write("hello\n");
  eq(written.bytes_written, 6, "bytes_written");
  await run.write(new TextEncoder().encode("wörld\n"));
  const it = run[Symbol.asyncIterator]();
  let echoed = "";
  while (echoed !== "hello\nwörld\n") {
    const { value, done } = await it.next();
    assert(!done, `the stream ended early: ${JSON.stringify(echoed)}`);
    echoed += value.text;
  }
  const killed = await run.kill();
  eq(killed.success, true, "kill()");
  const rest = [];
  for (;;) {
    const { value, done } = await it.next();
    if (done) break;
    rest.push(value);
  }
  deepEq(rest.map((e) => e.event), ["exit"], "after kill: the exit event only");
  eq(rest[0].exitCode, 137, "killed: 137");
  const result = await run.wait();
  deepEq([result.exitCode, result.stdout], [137, "hello\nwörld\n"], "wait() after kill");
});

test("exec.stream: kill of sleep 30 ends the stream promptly with 137", async (t) => {
  const { rt } = await freshRuntime(t);
  const run = rt.exec.stream(["sleep", "30"]);
  await run.taskId;
  const t0 = performance.now();
  const waiting = run.wait();
  await sleep(200);
  await run.kill();
  const done = await waiting;
  eq(done.exitCode, 137, "exitCode");
  between(performance.now() - t0, 150, 3000, "ms until the killed task's stream ended");
});

test("exec.stream: 10,000 lines of seq, nothing lost, in order", async (t) => {
  const { rt } = await freshRuntime(t);
  const events = await drain(rt.exec.stream(["seq", "10000"]));
  const text = new TextDecoder().decode(bytesOf(events, "stdout"));
  eq(text.length, seqText(10000).length, "bytes");
  assert(text === seqText(10000), "seq 10000 arrived whole and in order");
  eq(textOf(events, "stdout"), text, "the decoded texts join to the same");
  eq(exits(events).length, 1, "one exit");
});

test("exec.stream: streams in a row do not grow the wasm memory (an ended stream's buffers go at once, not at garbage collection)", async (t) => {
  const wasm = await setupPackage();
  const { rt } = await freshRuntime(t);
  const read = async () => {
    let bytes = 0;
    for await (const ev of rt.exec.stream(["seq", "100000"])) if (ev.event === "stdout") bytes += ev.data.length;
    eq(bytes, seqText(100000).length, "every byte");
  };
  // Two to reach the high-water mark (a 64 KiB piece of the body and the event in progress).
  await read();
  await read();
  const after = wasm.memory.buffer.byteLength;
  // Each stream held its parser's buffers until the collector took it (rarely, with a small JS
  // heap): without the release at its end, these six grew the memory by 0.45–0.7 MiB.
  for (let i = 0; i < 4; i++) await read();
  const wait = rt.exec.stream(["seq", "100000"]);
  eq((await wait.wait()).stdout.length, seqText(100000).length, "wait()'s text");
  const closed = rt.exec.stream(["seq", "100000"]);
  await closed.next();
  closed.close();
  const growth = wasm.memory.buffer.byteLength - after;
  between(growth, 0, 128 * 1024, "wasm memory growth (bytes) over six more streams");
});

test("exec.stream: UTF-8 split across chunks and across a dropped connection comes out whole", async (t) => {
  const { rt } = await freshRuntime(t);
  const line = "é€😀 ".repeat(200) + "\n";
  await rt.files.write({ path: "/app/utf8.txt", content: line.repeat(20) });
  // The connection is cut inside the body (a byte count that lands mid-event, mid-character).
  await fault({ kind: "drop", path: "/exec/stream", listener: "gateway", after_bytes: 1537, times: 3 });
  const run = rt.exec.stream(["cat", "/app/utf8.txt"]);
  const events = await drain(run);
  eq(textOf(events, "stdout"), line.repeat(20), "text");
  assert(!textOf(events, "stdout").includes("\uFFFD"), "no replacement character");
  eq(new TextDecoder().decode(bytesOf(events, "stdout")), line.repeat(20), "bytes");
  eq(exits(events).length, 1, "one exit");
  eq((await run.wait()).stdout, line.repeat(20), "wait()'s text");
  // A byte order mark is text like any other (a decoder that drops it would lose a character).
  await rt.files.write({ path: "/app/bom.txt", content: "\uFEFFbom€" });
  const bom = rt.exec.stream(["cat", "/app/bom.txt"]);
  eq(textOf(await drain(bom), "stdout"), "\uFEFFbom€", "a BOM in the events' text");
  deepEq([(await bom.wait()).stdout, (await rt.exec.stream(["cat", "/app/bom.txt"]).wait()).stdout], ["\uFEFFbom€", "\uFEFFbom€"], "a BOM in wait()'s text (iterated, and not)");
});

test("exec.stream: a mid-stream drop is resumed by re-subscribing: no byte lost or repeated, one exit", async (t) => {
  const { rt } = await freshRuntime(t);
  // seq's output (48,894 bytes) while it is produced over time, the connection cut after 3000 bytes.
  await fault({ kind: "drop", path: "/exec/stream", listener: "gateway", after_bytes: 3000 });
  const mark = await netMark();
  const events = await drain(rt.exec.stream(["sh", "-c", "seq 3000; sleep 0.2; seq 3001 10000"]));
  const text = new TextDecoder().decode(bytesOf(events, "stdout"));
  assert(text === seqText(10000), `every byte once (got ${text.length} bytes, want ${seqText(10000).length})`);
  eq(exits(events).length, 1, "one exit");
  eq(events.at(-1).event, "exit", "exit last");
  const streams = (await gatewaySince(mark)).filter((r) => r.path === "/exec/stream");
  deepEq(streams.map((r) => `${r.method}${r.search.replace(/\d+/, "N")}`), ["POST", "GET?task_id=N"], "the POST, then one re-subscribe");
});

test("exec.stream: several drops in a row, the last during the replay, still every byte once", async (t) => {
  const { rt } = await freshRuntime(t);
  await fault({ kind: "drop", path: "/exec/stream", listener: "gateway", after_bytes: 5000, times: 3 });
  const events = await drain(rt.exec.stream(["seq", "5000"]));
  const text = new TextDecoder().decode(bytesOf(events, "stdout"));
  assert(text === seqText(5000), `every byte once (${text.length} bytes)`);
  eq(exits(events).length, 1, "one exit");
});

test("exec.stream: a drop after the gateway token was rotated: the re-subscribe re-mints once and resumes", async (t) => {
  const { ws, rt } = await freshRuntime(t);
  await fault({ kind: "drop", path: "/exec/stream", method: "POST", listener: "gateway", after_bytes: 300 });
  const run = rt.exec.stream(["sh", "-c", "echo before; sleep 0.5; seq 1000"]);
  const it = run[Symbol.asyncIterator]();
  eq((await it.next()).value.text, "before\n", "first event");
  // Rotated behind the client's back: the token the stream started with is revoked.
  await admin("POST", `/workspace/${ws.id}/internal-api-access/token`);
  const mark = await netMark();
  const rest = [];
  for (;;) {
    const { value, done } = await it.next();
    if (done) break;
    rest.push(value);
  }
  eq(textOf(rest, "stdout"), seqText(1000), "the rest, once");
  eq(exits(rest).length, 1, "one exit");
  const resubscribes = (await gatewaySince(mark)).filter((r) => r.path === "/exec/stream");
  deepEq(resubscribes.map((r) => r.method), ["GET", "GET"], "a 401 with the rotated token, then the re-subscribe with a new one");
});

test("exec.stream: timeoutMs bounds the handshake only ('timeout'); a long stream has no deadline", async (t) => {
  const { rt } = await freshRuntime(t);
  await fault({ kind: "latency", path: "/exec/stream", listener: "gateway", latency_ms: 1500 });
  const t0 = performance.now();
  await rejects(rt.exec.stream(["true"], { timeoutMs: 300 }).wait(), { code: "timeout" }, "headers later than timeoutMs");
  between(performance.now() - t0, 250, 1400, "ms until the timeout");
  // A client with a short per-request timeout: a stream longer than it is fine.
  const c = client(t, { token: await mint(await tenant("st")), timeoutMs: 400 });
  const ws = await c.workspaces.create({ image: "node-20" });
  const rt2 = await c.workspaces.runtime(ws.id);
  const done = await rt2.exec.stream(["sh", "-c", "echo a; sleep 1; echo b"]).wait();
  deepEq([done.exitCode, done.stdout], [0, "a\nb\n"], "a 1 s stream under timeoutMs 400");
});

test("exec.stream: a 502 on the re-subscribe is retried; a 404 ends the stream with the gateway's code", async (t) => {
  const { rt } = await freshRuntime(t);
  await fault({ kind: "drop", path: "/exec/stream", method: "POST", listener: "gateway", after_bytes: 400 });
  await fault({ kind: "status", path: "/exec/stream", method: "GET", listener: "gateway", status: 502, body: { success: false, error: "bad_gateway" } });
  const events = await drain(rt.exec.stream(["seq", "2000"]));
  assert(new TextDecoder().decode(bytesOf(events, "stdout")) === seqText(2000), "every byte once after a 502");

  await fault({ kind: "drop", path: "/exec/stream", method: "POST", listener: "gateway", after_bytes: 400 });
  await fault({ kind: "status", path: "/exec/stream", method: "GET", listener: "gateway", status: 404, body: { error: "task not found" }, times: 5 });
  const run = rt.exec.stream(["sh", "-c", "echo before; sleep 0.3; seq 2000"]);
  const got = [];
  const error = await rejects((async () => {
    for await (const ev of run) got.push(ev);
  })(), { code: "not_found", status: 404 }, "a refused re-subscribe");
  assert(/task not found/.test(error.message), error.message);
  deepEq(got.map((e) => e.text), ["before\n"], "the output before the drop was delivered");
  await rejects(run.wait(), { code: "not_found" }, "wait() after the failure");
});

test("exec.stream: a replay that no longer starts at the first byte ends the stream with 'resume_failed', nothing repeated", async (t) => {
  const { rt } = await freshRuntime(t);
  // The first connection is cut after "first\n"; the re-subscribe is held back 1 s, by which time
  // the task wrote ~2 MB and the emulator kept only its last 1 MiB: the replay starts mid-output.
  await fault({ kind: "drop", path: "/exec/stream", method: "POST", listener: "gateway", after_bytes: 200 });
  await fault({ kind: "latency", path: "/exec/stream", method: "GET", listener: "gateway", latency_ms: 1000 });
  const run = rt.exec.stream(["sh", "-c", "echo first; sleep 0.1; seq 300000"]);
  const got = [];
  const error = await rejects((async () => {
    for await (const ev of run) got.push(ev);
  })(), { code: "resume_failed" }, "an unalignable replay");
  assert(/differs/.test(error.message), error.message);
  deepEq(got.map((e) => e.text), ["first\n"], "only what was delivered before the drop, once");
  await rejects(run.wait(), { code: "resume_failed" }, "wait()");
});

test("exec.stream: abort mid-stream rejects with 'aborted'; dispose mid-stream with 'disposed'; no page error", async (t) => {
  const { rt } = await freshRuntime(t);
  const errors = await pageErrorsDuring(async () => {
    const controller = new AbortController();
    const run = rt.exec.stream(["sh", "-c", "echo a; sleep 5; echo b"], { signal: controller.signal });
    const it = run[Symbol.asyncIterator]();
    eq((await it.next()).value.text, "a\n", "first event");
    const pending = it.next();
    setTimeout(() => controller.abort(), 100);
    await rejects(pending, { code: "aborted" }, "next() when aborted");
    await rejects(run.wait(), { code: "aborted" }, "wait() after abort");

    const { c, rt: rt2 } = await freshRuntime(t);
    const run2 = rt2.exec.stream(["sh", "-c", "echo a; sleep 5; echo b"]);
    const it2 = run2[Symbol.asyncIterator]();
    await it2.next();
    const pending2 = it2.next();
    const waiting = run2.wait();
    setTimeout(() => c.dispose(), 100);
    await rejects(pending2, { code: "disposed" }, "next() when disposed");
    await rejects(waiting, { code: "disposed" }, "wait() when disposed");
    await rejects(run2.taskId.then(() => run2.kill()), { code: "disposed" }, "kill() after dispose");
  });
  deepEq(errors, [], "page errors");
});

test("exec.stream: close() stops reading, the task keeps running; break out of for-await closes", async (t) => {
  const { rt } = await freshRuntime(t);
  const run = rt.exec.stream(["sh", "-c", "echo first; sleep 0.5; echo second > /app/after-close.txt; echo done"]);
  for await (const ev of run) {
    eq(ev.text, "first\n", "first event");
    break; // return() → close()
  }
  const id = await run.taskId;
  deepEq(await run[Symbol.asyncIterator]().next(), { value: undefined, done: true }, "next() after close");
  await rejects(run.wait(), { code: "closed" }, "wait() after close");
  eq((await rt.exec.get(id)).status, "running", "the task still runs");
  await sleep(800);
  eq((await rt.files.read({ path: "/app/after-close.txt" })).content, "second\n", "and finished its work");
  const again = await rt.exec.subscribe(id).wait();
  deepEq([again.exitCode, again.stdout], [0, "first\ndone\n"], "its whole output by subscribe");
});

test("exec.stream: wait() and an iterator together both see everything", async (t) => {
  const { rt } = await freshRuntime(t);
  const run = rt.exec.stream(["seq", "300"]);
  const [done, events] = await Promise.all([run.wait(), drain(run)]);
  eq(done.stdout, seqText(300), "wait().stdout");
  eq(textOf(events, "stdout"), seqText(300), "the iterator's text");
  eq(exits(events).length, 1, "one exit");
});

test("exec.stream: a slow consumer never trips the idle timeout; a silent wire does, and is resumed", async (t) => {
  const { rt } = await freshRuntime(t);
  const mark = await netMark();
  const run = rt.exec.stream(["sh", "-c", "seq 5; sleep 0.6; echo late"], { idleTimeoutMs: 250 });
  const events = [];
  for await (const ev of run) {
    events.push(ev);
    await sleep(400); // far slower than the idle timeout
  }
  eq(textOf(events, "stdout"), "1\n2\n3\n4\n5\nlate\n", "everything once");
  eq(exits(events).length, 1, "one exit");
  const streams = (await gatewaySince(mark)).filter((r) => r.path === "/exec/stream");
  assert(streams.length >= 1 && streams.length <= 3, `connections: ${streams.length}`);

  // A task quiet for far longer than the idle timeout: each silent period re-subscribes (the
  // replay realigned), never counted as a failure, so the stream never gives up on it.
  const mark2 = await netMark();
  const quiet = await rt.exec.stream(["sh", "-c", "echo start; sleep 2; echo done"], { idleTimeoutMs: 150 }).wait();
  deepEq([quiet.exitCode, quiet.stdout], [0, "start\ndone\n"], "a task silent for 2 s with idleTimeoutMs 150");
  const resubscribes = (await gatewaySince(mark2)).filter((r) => r.path === "/exec/stream" && r.method === "GET").length;
  assert(resubscribes >= 6, `re-subscribed on each silent period (${resubscribes})`);
});

test("exec.stream: option errors are thrown at once and name the option", async (t) => {
  const { rt } = await freshRuntime(t);
  throws(() => rt.exec.stream("echo hi"), { code: "invalid_options", message: /cmd/ }, "cmd not an array");
  throws(() => rt.exec.stream(["true"], { timeoutSeconds: "5" }), { code: "invalid_options", message: /timeoutSeconds/ }, "timeoutSeconds");
  throws(() => rt.exec.stream(["true"], { signal: 1 }), { code: "invalid_options", message: /signal/ }, "signal");
  throws(() => rt.exec.subscribe(""), { code: "invalid_options", message: /taskId/ }, "subscribe('')");
  await rejects(rt.exec.stream(["true"]).write(5), { code: "invalid_options", message: /data/ }, "write(5)");
});

// ---- subscribe and the task endpoints ------------------------------------------------------

test("exec.subscribe: a finished task replays its output and exit; list/get/input/kill/deleteAll", async (t) => {
  const { rt } = await freshRuntime(t);
  const ran = await rt.exec.run(["sh", "-c", "echo x; echo y 1>&2; exit 3"]);
  const id = ran.id;
  const events = await drain(rt.exec.subscribe(id));
  deepEq([textOf(events, "stdout"), textOf(events, "stderr"), exits(events).map((e) => e.exitCode)], ["x\n", "y\n", [3]], "replay");

  const live = rt.exec.stream(["cat"]);
  const liveId = await live.taskId;
  const tasks = await rt.exec.list();
  assert(Array.isArray(tasks), "list() is an array");
  assert(tasks.some((task) => task.id === liveId && task.status === "running"), `list() has the running task: ${JSON.stringify(tasks)}`);
  const task = await rt.exec.get(liveId);
  deepEq([task.id, task.status, task.command], [liveId, "running", ["cat"]], "get()");
  eq((await rt.exec.input(liveId, "abc\n")).bytes_written, 4, "input()");
  const sub = rt.exec.subscribe(liveId);
  const it = sub[Symbol.asyncIterator]();
  eq((await it.next()).value.text, "abc\n", "a second reader of the same task sees the input's echo");
  await rt.exec.kill(liveId);
  eq((await it.next()).value.exitCode, 137, "the subscriber sees the kill");
  eq((await live.wait()).exitCode, 137, "so does the stream");
  const deleted = await rt.exec.deleteAll();
  eq(deleted.success, true, "deleteAll()");
  assert(deleted.deleted >= 2, `deleted: ${deleted.deleted}`);
  deepEq(await rt.exec.list(), [], "no task left");
  await rejects(rt.exec.get(liveId), { code: "not_found", status: 404 }, "get() of a deleted task");
  await rejects(drain(rt.exec.subscribe("999999")), { code: "not_found", status: 404 }, "subscribe to an unknown task");
});

// ---- files ------------------------------------------------------------------------------------

test("files.stream: entries one by one (control events skipped); files.read line options", async (t) => {
  const { rt } = await freshRuntime(t);
  await rt.files.write({ path: "/app/src/a.txt", content: "1\n2\n3\n4\n5\n", createDirs: true });
  await rt.files.write({ path: "/app/src/deep/b.txt", content: "b", createDirs: true });
  const entries = [];
  for await (const entry of rt.files.stream({ path: "/app/src", nested: true })) entries.push(entry);
  deepEq(entries.map((e) => e.path).sort(), ["/app/src/a.txt", "/app/src/deep", "/app/src/deep/b.txt"], "paths");
  assert(entries.every((e) => typeof e.name === "string" && !("event" in e)), "FileEntry objects, no control events");
  const shallow = [];
  for await (const entry of rt.files.stream({ path: "/app/src", nested: true, maxDepth: 1 })) shallow.push(entry.path);
  deepEq(shallow.sort(), ["/app/src/a.txt", "/app/src/deep"], "maxDepth: 1");
  await rejects(drain(rt.files.stream({ path: "/nope" })), { code: "not_found" }, "stream of a missing folder");
  throws(() => rt.files.stream({ path: "/app", maxDepth: -1 }), { code: "invalid_options", message: /maxDepth/ }, "maxDepth -1");

  const part = await rt.files.read({ path: "/app/src/a.txt", startLine: 2, endLine: 4 });
  eq(part.content, "2\n3\n4\n", "lines 2–4");
  const numbered = await rt.files.read({ path: "/app/src/a.txt", startLine: 5, withLineNumbers: true });
  assert(/5/.test(numbered.content) && numbered.content !== "5\n", `with line numbers: ${JSON.stringify(numbered.content)}`);
  await rejects(rt.files.read({ path: "/app/src/a.txt", startLine: "2" }), { code: "invalid_options", message: /startLine/ }, "startLine as a string");
});

// ---- search -----------------------------------------------------------------------------------

test("search.content and search.files", async (t) => {
  const { rt } = await freshRuntime(t);
  await rt.files.write({ path: "/app/s/one.js", content: "const Needle = 1;\nneedle();\n", createDirs: true });
  await rt.files.write({ path: "/app/s/two.txt", content: "nothing here\n" });
  const plain = await rt.search.content({ query: "needle", path: "/app/s" });
  eq(plain.total_matches, 2, "case-insensitive by default");
  deepEq(Object.keys(plain.results), ["/app/s/one.js"], "files with matches");
  const exact = await rt.search.content({ query: "Needle", path: "/app/s", caseSensitive: true });
  eq(exact.total_matches, 1, "caseSensitive");
  const regex = await rt.search.content({ query: "^need.e\\(", path: "/app/s", regex: true });
  deepEq(regex.results["/app/s/one.js"].map((m) => m.line), [2], "regex");
  const files = await rt.search.files({ query: "two", path: "/app/s" });
  deepEq(files.files, ["/app/s/two.txt"], "search.files");
  await rejects(rt.search.content({ path: "/app" }), { code: "invalid_options", message: /query/ }, "no query");
});

// ---- transfer -------------------------------------------------------------------------------

test("transfer: download a folder as tar.gz, upload it elsewhere, the same files come out", async (t) => {
  const { rt } = await freshRuntime(t);
  const files = { "/app/proj/a.txt": "alpha\n", "/app/proj/src/b.rs": "fn main() {}\n", "/app/proj/src/deep/c.md": "# c\n" };
  for (const [path, content] of Object.entries(files)) await rt.files.write({ path, content, createDirs: true });
  const progress = [];
  const blob = await rt.transfer.download({ paths: ["/app/proj"] }, { onProgress: (p) => progress.push(p) });
  assert(blob instanceof Blob, "a Blob");
  assert(blob.size > 20, `blob size ${blob.size}`);
  const head = new Uint8Array(await blob.slice(0, 2).arrayBuffer());
  deepEq([...head], [0x1f, 0x8b], "gzip magic");
  assert(progress.length >= 1 && progress.every((p) => p.phase === "download"), "download progress");
  eq(progress.at(-1).loadedBytes, blob.size, "last progress = the size");
  eq(progress.at(-1).totalBytes, blob.size, "totalBytes from Content-Length");
  eq(progress.at(-1).percent, 100, "percent");

  const up = [];
  const result = await rt.transfer.upload({ dest: "/app/copy", body: blob }, { onProgress: (p) => up.push(p) });
  eq(result.success, true, "upload()");
  eq(result.files_extracted, 3, "files_extracted");
  for (const [path, content] of Object.entries(files)) {
    eq((await rt.files.read({ path: path.replace("/app/proj", "/app/copy") })).content, content, path);
  }
  assert(up.length >= 1 && up.every((p) => p.phase === "upload"), "upload progress phase");
  deepEq([up.at(-1).loadedBytes, up.at(-1).totalBytes, up.at(-1).percent], [blob.size, blob.size, 100], "upload progress at the end");
  // The same archive as an ArrayBuffer and as a Uint8Array.
  const bytes = await blob.arrayBuffer();
  eq((await rt.transfer.upload({ dest: "/app/copy2", body: bytes })).files_extracted, 3, "ArrayBuffer body");
  eq((await rt.transfer.upload({ dest: "/app/copy3", body: new Uint8Array(bytes) })).files_extracted, 3, "Uint8Array body");
  await rejects(rt.transfer.upload({ dest: "/app/x", body: "not bytes" }), { code: "invalid_options", message: /body/ }, "a string body");
  await rejects(rt.transfer.download({ paths: [] }), { code: "invalid_options", message: /paths/ }, "no paths");
  await rejects(rt.transfer.upload({ dest: "/app/bad", body: new Uint8Array([1, 2, 3]) }), { status: 400 }, "not a tar.gz");
});

// ---- proxy, info, health ----------------------------------------------------------------------

test("proxy(3000).fetch serves /app; bad ports throw before any request; info() and health()", async (t) => {
  const { rt } = await freshRuntime(t);
  await rt.files.write({ path: "/app/index.html", content: "<h1>hi</h1>" });
  await rt.files.write({ path: "/app/api/users.json", content: "[1,2]", createDirs: true });
  const mark = await netMark();
  const page = await rt.proxy(3000).fetch("/");
  assert(page instanceof Response, "a Response");
  eq(page.status, 200, "status");
  eq(await page.text(), "<h1>hi</h1>", "index.html");
  const users = await rt.proxy(3000).fetch("/api/users.json?limit=10");
  deepEq(await users.json(), [1, 2], "a file with a query string");
  const sent = (await gatewaySince(mark)).filter((r) => r.path.startsWith("/proxy"));
  deepEq(sent.map((r) => `${r.path}${r.search}`), ["/proxy/", "/proxy/api/users.json?limit=10"], "paths");
  const other = await rt.proxy(8080).fetch("/");
  eq(other.status, 502, "nothing listening on 8080");

  const before = await netMark();
  for (const port of [0, 65536, 3000.5, -1, "3000", undefined, NaN]) {
    throws(() => rt.proxy(port), { code: "invalid_options", message: /port/ }, `proxy(${String(port)})`);
  }
  eq((await gatewaySince(before)).length, 0, "no request for a bad port");

  const info = await rt.info();
  assert(typeof info.os === "string" && typeof info.cpus === "number", `info(): ${JSON.stringify(info)}`);
  eq((await rt.health()).status, "ok", "health()");
});

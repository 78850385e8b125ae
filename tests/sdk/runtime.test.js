// The official Oblien SDK (`oblien` 2.4.0, `oblien/runtime`) driving the emulator's gateway:
// exec (stream, subscribe, list, get, kill, input, deleteAll), search, transfer, files.stream,
// info/health/targets and the proxy. The workspace is made with the admin key over fetch.

import { test, before } from "node:test";
import assert from "node:assert/strict";
import { Runtime } from "oblien/runtime";

const API = required("OBLIEN_EMULATOR_API");
const GATEWAY = required("OBLIEN_EMULATOR_GATEWAY");
const ADMIN = {
  "X-Client-ID": required("OBLIEN_EMULATOR_CLIENT_ID"),
  "X-Client-Secret": required("OBLIEN_EMULATOR_CLIENT_SECRET"),
};

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run through scripts/with-emulator.sh`);
  return value;
}

async function admin(method, path, body) {
  const res = await fetch(API + path, {
    method,
    headers: { ...ADMIN, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** @type {Runtime} */
let rt;

before(async () => {
  const slug = `sdk-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6)}`;
  await admin("POST", "/namespaces", { name: slug });
  const { workspace } = await admin("POST", "/workspace", { image: "node-20", namespace: slug });
  const deadline = Date.now() + 20_000;
  for (;;) {
    const { workspace: w } = await admin("GET", `/workspace/${workspace.id}`);
    if (w.ready) break;
    assert.ok(Date.now() < deadline, `workspace ${workspace.id} never became ready`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const { token } = await admin("POST", `/workspace/${workspace.id}/runtime-api-access/enable`);
  assert.ok(token, "a gateway token");
  rt = new Runtime({ token, baseUrl: GATEWAY });
});

const decode = (b64) => Buffer.from(b64, "base64").toString("utf8");

/** Every event of an SDK SSE iterator, with when it arrived. */
async function drain(iterator) {
  const events = [];
  for await (const event of iterator) events.push({ ...event, at: Date.now() });
  return events;
}

function outputOf(events) {
  const last = events.at(-1);
  assert.equal(last.event, "exit", `ends with exit: ${JSON.stringify(events)}`);
  let stdout = "";
  let stderr = "";
  for (const e of events) {
    if (e.event === "stdout") stdout += decode(e.data);
    if (e.event === "stderr") stderr += decode(e.data);
  }
  return { stdout, stderr, exitCode: last.exit_code };
}

test("exec.stream: task_id, base64 stdout over time, exit", async () => {
  const events = await drain(rt.exec.stream(["sh", "-c", "echo one; sleep 0.3; echo two >&2; exit 4"]));
  assert.equal(events[0].event, "task_id");
  assert.match(events[0].task_id, /^[0-9]+$/);
  const out = events.filter((e) => e.event === "stdout");
  const err = events.filter((e) => e.event === "stderr");
  assert.equal(decode(out[0].data), "one\n");
  assert.equal(decode(err[0].data), "two\n");
  assert.ok(err[0].at - out[0].at >= 250, `stderr came ${err[0].at - out[0].at} ms after stdout`);
  assert.deepEqual(outputOf(events), { stdout: "one\n", stderr: "two\n", exitCode: 4 });
  assert.equal(events.at(-1).status, "exited");
});

test("exec.subscribe replays a finished task; exec.get and exec.list see it", async () => {
  const first = await drain(rt.exec.stream(["seq", "2000"]));
  const id = first[0].task_id;
  const again = await drain(rt.exec.subscribe(id));
  assert.equal(again[0].event, "task_id");
  assert.equal(again[0].task_id, id);
  const replay = outputOf(again);
  assert.equal(replay.stdout, outputOf(first).stdout);
  assert.equal(replay.stdout.split("\n").filter(Boolean).length, 2000);
  const task = await rt.exec.get(id);
  assert.equal(task.id, id);
  assert.equal(task.status, "exited");
  assert.equal(task.exit_code, 0);
  assert.deepEqual(task.command, ["seq", "2000"]);
  const tasks = await rt.exec.list();
  assert.ok(Array.isArray(tasks));
  assert.ok(tasks.some((t) => t.id === id), `task ${id} in ${JSON.stringify(tasks)}`);
});

test("exec.input feeds a running cat; exec.kill ends it with 137", async () => {
  const iterator = rt.exec.stream(["cat"]);
  const { value: started } = await iterator.next();
  assert.equal(started.event, "task_id");
  const id = started.task_id;
  const written = await rt.exec.input(id, "hello sdk\n");
  assert.equal(written.bytes_written, 10);
  const { value: echoed } = await iterator.next();
  assert.equal(echoed.event, "stdout");
  assert.equal(decode(echoed.data), "hello sdk\n");
  assert.equal((await rt.exec.get(id)).status, "running");
  const killed = await rt.exec.kill(id);
  assert.equal(killed.success, true);
  const rest = await drain(iterator);
  assert.equal(rest.at(-1).event, "exit");
  assert.equal(rest.at(-1).exit_code, 137);
  assert.equal((await rt.exec.get(id)).exit_code, 137);
});

test("exec.subscribe mid-run replays then follows", async () => {
  const iterator = rt.exec.stream(["sh", "-c", "echo early; sleep 0.4; echo late"]);
  const { value: started } = await iterator.next();
  const { value: early } = await iterator.next();
  assert.equal(decode(early.data), "early\n");
  const followed = await drain(rt.exec.subscribe(started.task_id));
  assert.equal(outputOf(followed).stdout, "early\nlate\n");
  assert.equal(outputOf(await drain(iterator)).stdout, "late\n");
});

test("exec.run, exec.deleteAll, and errors the SDK throws", async () => {
  const ran = await rt.exec.run(["sh", "-c", "cd /tmp && pwd && echo 'a  b' > f.txt && cat f.txt"]);
  assert.equal(ran.stdout, "/tmp\na  b\n");
  assert.equal(ran.exit_code, 0);
  const missing = await rt.exec.run(["no-such-tool"]);
  assert.equal(missing.exit_code, 127);
  const { deleted } = await rt.exec.deleteAll();
  assert.ok(deleted >= 2, `deleted ${deleted}`);
  assert.deepEqual(await rt.exec.list(), []);
  await assert.rejects(rt.exec.get("9999"), (err) => err.status === 404 && err.code === "not_found");
});

test("search.content and search.files", async () => {
  await rt.files.write({ fullPath: "/app/src/a.js", content: "const greet = 'Hello';\nfunction hello() {}\n", createDirs: true });
  await rt.files.write({ fullPath: "/app/src/b.js", content: "// nothing here\n", createDirs: true });
  const plain = await rt.search.content({ query: "hello", path: "/app/src" });
  assert.equal(plain.success, true);
  assert.deepEqual(Object.keys(plain.results), ["/app/src/a.js"]);
  assert.equal(plain.total_matches, 2);
  assert.deepEqual(plain.results["/app/src/a.js"][0], { line: 1, column: 16, text: "const greet = 'Hello';" });
  const exact = await rt.search.content({ query: "Hello", path: "/app/src", caseSensitive: true });
  assert.equal(exact.total_matches, 1);
  const regex = await rt.search.content({ query: "function \\w+", path: "/app", regex: true });
  assert.equal(regex.results["/app/src/a.js"][0].line, 2);
  const capped = await rt.search.content({ query: "hello", path: "/app/src", maxResults: 1 });
  assert.equal(capped.capped, true);
  const files = await rt.search.files({ query: "b.js", path: "/app" });
  assert.deepEqual(files.files, ["/app/src/b.js"]);
  assert.equal(files.total_files, 1);
  assert.equal((await rt.search.status()).installed, true);
});

test("transfer.download → transfer.upload round trip", async () => {
  await rt.files.write({ fullPath: "/app/pkg/index.js", content: "export default 1;\n", createDirs: true });
  await rt.files.write({ fullPath: "/app/pkg/lib/util.js", content: "export const u = 'ü';\n", createDirs: true });
  const response = await rt.transfer.download({ paths: ["/app/pkg"] });
  assert.ok(response instanceof Response);
  assert.equal(response.headers.get("content-type"), "application/gzip");
  const archive = new Uint8Array(await response.arrayBuffer());
  assert.equal(Number(response.headers.get("content-length")), archive.byteLength);
  assert.deepEqual([archive[0], archive[1]], [0x1f, 0x8b]);
  const uploaded = await rt.transfer.upload({ body: archive, dest: "/tmp/pkg-copy" });
  assert.equal(uploaded.success, true);
  assert.equal(uploaded.dest, "/tmp/pkg-copy");
  assert.equal(uploaded.files_extracted, 2);
  const copy = await rt.files.read({ filePath: "/tmp/pkg-copy/lib/util.js" });
  assert.equal(copy.content, "export const u = 'ü';\n");
});

test("files.stream yields entries and skips control events", async () => {
  const streamed = [];
  for await (const entry of rt.files.stream({ dirPath: "/app", nested: true })) streamed.push(entry);
  assert.ok(streamed.length > 3);
  assert.ok(streamed.every((e) => !("event" in e) && typeof e.path === "string"));
  const listed = await rt.files.list({ dirPath: "/app", nested: true });
  assert.deepEqual(streamed.map((e) => e.path), listed.entries.map((e) => e.path));
});

test("info, health, targets, proxy", async () => {
  const info = await rt.info();
  assert.equal(info.os, "linux");
  assert.ok(info.capabilities.includes("exec"));
  assert.equal(await rt.health(), true);
  const targets = await rt.targets();
  assert.equal(targets.default_target, "default");
  const local = rt.forTarget("local");
  assert.equal((await local.files.read({ filePath: "/app/pkg/index.js" })).content, "export default 1;\n");
  await rt.files.write({ fullPath: "/app/index.html", content: "<h1>dev server</h1>" });
  const page = await rt.proxy(3000).fetch("/index.html");
  assert.equal(page.status, 200);
  assert.equal(await page.text(), "<h1>dev server</h1>");
  const nothing = await rt.proxy(8080).fetch("/");
  assert.equal(nothing.status, 502);
});

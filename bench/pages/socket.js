// The in-page side of bench/socket.mjs: terminals over the workspace's one WebSocket, in Chromium,
// against the emulator. Returns raw samples (milliseconds from performance.now()); bench/socket.mjs
// does the statistics.
//
// - echo: keystroke echo round trip (one printable byte written, its echo received) through the
//   client's terminal (`term.write` → `term.onData`) against a plain `WebSocket` on the same
//   emulator (`/ws?token=`, binary frames `[id][bytes]`), alternating in chunks. Each side has its
//   own workspace (one socket per workspace: a second would replace the first). Every chunk ends
//   with Ctrl-U, which erases the line (echo `\b \b` per byte), and every byte received is
//   compared with what was typed: each echo must come back exactly once, in order.
// - reconnect: a command that prints after a delay, the socket dropped by the emulator (a `drop`
//   fault on /ws: no close frame, as a network loss) while it runs; the time from the drop to the
//   first byte the client delivers after it, and to the whole line, which must arrive once.
//
// window.__BENCH = { api, gateway, adminId, adminSecret } comes from an init script. The admin key
// is the benchmark's own (namespace, tokens, faults); no client is ever given it. No token is ever
// logged: the plain socket's URL carries one and is dropped once the socket is made.
import init, { OblienUserClient } from "/pkg/oblien_user_client.js";

const { api, gateway, adminId, adminSecret } = window.__BENCH;
const now = () => performance.now();
const sleep = (ms) => new Promise((ok) => setTimeout(ok, Math.max(0, ms)));
await init();

async function admin(method, path, body) {
  const headers = { "X-Client-ID": adminId, "X-Client-Secret": adminSecret };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(api + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = await res.json().catch(() => null);
  if (res.status >= 300) throw new Error(`admin ${method} ${path}: HTTP ${res.status} ${json?.code ?? ""}`);
  return json;
}

async function bearer(method, url, token, body) {
  const headers = { Authorization: `Bearer ${token}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = await res.json().catch(() => null);
  if (res.status >= 300) throw new Error(`${method} ${new URL(url).pathname}: HTTP ${res.status} ${json?.code ?? ""}`);
  return json;
}

/**
 * Bytes received by one side, and a wait for the n-th of them. `at` is taken in the data callback
 * itself (the client's onData, the plain socket's onmessage), so both sides are timed alike.
 */
function sink() {
  const s = { bytes: [], waiter: null, at: 0 };
  s.push = (chunk) => {
    s.at = now();
    for (const b of chunk) s.bytes.push(b);
    if (s.waiter && s.bytes.length >= s.waiter.count) {
      const w = s.waiter;
      s.waiter = null;
      clearTimeout(w.timer);
      w.resolve(s.at);
    }
  };
  s.until = (count, what, ms = 10_000) => new Promise((resolve, reject) => {
    if (s.bytes.length >= count) return resolve(s.at);
    const timer = setTimeout(() => {
      s.waiter = null;
      reject(new Error(`${what}: ${s.bytes.length} of ${count} bytes after ${ms} ms`));
    }, ms);
    s.waiter = { count, resolve, timer };
  });
  s.text = () => new TextDecoder().decode(new Uint8Array(s.bytes));
  s.reset = () => { s.bytes = []; };
  return s;
}

const state = {};

window.socketBench = {
  /** A namespace with two ready workspaces: a client terminal on one, a plain socket on the other. */
  async setup() {
    const name = `sock-${Math.random().toString(36).slice(2, 8)}`;
    const ns = (await admin("POST", "/namespaces", { name })).data.slug;
    const token = (await admin("POST", "/tokens", { scope: "namespace", namespace: ns, ttl: 3600 })).token;
    const client = new OblienUserClient({ token, baseUrl: api, gatewayUrl: gateway });
    const a = await client.workspaces.create({ image: "node-20", name: "sock-client" });
    const b = await client.workspaces.create({ image: "node-20", name: "sock-plain" });
    const end = now() + 20_000;
    while (!(await client.workspaces.list()).workspaces.every((w) => w.ready)) {
      if (now() > end) throw new Error("the workspaces were not ready within 20 s");
      await sleep(50);
    }

    // The client: a terminal on workspace a.
    const rt = await client.workspaces.runtime(a.id);
    const term = await rt.terminals.create({ cols: 200, rows: 50 });
    const clientSink = sink();
    term.onData((bytes) => clientSink.push(bytes));
    const notices = [];
    term.onNotice((n) => notices.push(n.kind));
    const states = [];
    const connection = rt.connection;
    connection.onStateChange((s) => states.push({ state: s, at: now() }));
    await clientSink.until(2, "the client terminal's prompt");
    await sleep(100);
    if (!clientSink.text().endsWith("$ ")) throw new Error(`no prompt on the client terminal: ${JSON.stringify(clientSink.text())}`);

    // The baseline: a terminal on workspace b over REST, and a plain WebSocket.
    const gatewayToken = (await bearer("POST", `${api}/workspace/${b.id}/runtime-api-access/enable`, token, {})).token;
    const created = await bearer("POST", `${gateway}/terminals`, gatewayToken, { cols: 200, rows: 50 });
    const plainId = Number((created.terminal ?? created).id);
    const plainSink = sink();
    const ws = await new Promise((resolve, reject) => {
      const socket = new WebSocket(`${gateway.replace(/^http/, "ws")}/ws?token=${encodeURIComponent(gatewayToken)}`);
      socket.binaryType = "arraybuffer";
      socket.onopen = () => resolve(socket);
      socket.onerror = () => reject(new Error("the plain WebSocket did not open"));
    });
    ws.onmessage = (event) => {
      if (typeof event.data === "string") return;
      const bytes = new Uint8Array(event.data);
      if (bytes[0] === plainId) plainSink.push(bytes.subarray(1));
    };
    const plainWrite = (s) => {
      const data = new TextEncoder().encode(s);
      const out = new Uint8Array(data.length + 1);
      out[0] = plainId;
      out.set(data, 1);
      ws.send(out);
    };
    // The plain terminal's prompt went to its scrollback before the socket was there: an Enter
    // prints a fresh one, so both sides start at a prompt.
    plainWrite("\r");
    await plainSink.until(4, "the plain terminal's prompt");
    await sleep(100);
    Object.assign(state, { setupAt: now(), client, rt, term, connection, notices, states, clientSink, plainSink, ws, plainWrite, ns, workspaces: [a.id, b.id] });
    return { crossOriginIsolated: window.crossOriginIsolated, clientTerminal: term.id, plainTerminal: String(plainId) };
  },

  /**
   * Keystroke echo round trips: `n` each, in chunks of `chunk` keystrokes, client and plain
   * alternating (the first side swapped every chunk), after `warmup` each.
   */
  async echo({ n, chunk, warmup }) {
    const { term, plainWrite, clientSink, plainSink } = state;
    const sides = {
      client: { write: (s) => term.write(s), sink: clientSink },
      plain: { write: plainWrite, sink: plainSink },
    };
    const samples = { client: [], plain: [] };
    const mismatches = { client: [], plain: [] };
    const letters = "abcdefghijklmnopqrstuvwxyz";
    const runChunk = async (who, size, record) => {
      const { write, sink: s } = sides[who];
      s.reset();
      let typed = "";
      for (let i = 0; i < size; i++) {
        const key = letters[(typed.length + i * 7) % letters.length];
        typed += key;
        const start = now();
        write(key);
        const at = await s.until(typed.length, `${who} echo of keystroke ${typed.length}`);
        if (record) samples[who].push(at - start);
      }
      // Erase the line: Ctrl-U echoes "\b \b" per byte. Then nothing else may have come.
      write("\x15");
      const expected = typed + "\b \b".repeat(typed.length);
      await s.until(expected.length, `${who} line erase`);
      await sleep(20);
      const got = s.text();
      if (got !== expected) mismatches[who].push({ expected: expected.length, got: got.length, head: JSON.stringify(got.slice(0, 80)) });
    };
    const order = ["client", "plain"];
    for (const who of order) await runChunk(who, warmup, false);
    for (let done = 0; done < n; done += chunk) {
      const size = Math.min(chunk, n - done);
      for (const who of order) await runChunk(who, size, true);
      order.reverse();
    }
    return { samples, mismatches };
  },

  /**
   * `rounds` drops: per round a command that prints `delayS` seconds after it starts, the socket
   * dropped (a `drop` fault on the gateway's /ws) as soon as its line is echoed, then the time
   * from the fault request to: the client seeing the close (state `reconnecting`), the socket open
   * again, the first byte delivered after the drop, and the command's whole output line.
   * Before each drop the socket has been open `stableMs`: the client counts a socket that closes
   * sooner as a failed attempt and backs off further (0.5 s, 1 s, 2 s, …), which is not what one
   * drop costs.
   */
  async reconnect({ rounds, delayS, stableMs }) {
    const { term, clientSink: s, states, notices, ws } = state;
    ws.close(); // the plain socket is done (the drop would end it too)
    const out = [];
    for (let r = 0; r < rounds; r++) {
      const openedAt = states.filter((x) => x.state === "open").at(-1)?.at ?? state.setupAt;
      await sleep(openedAt + stableMs - now());
      const marker = `caught-${r}-${Math.random().toString(36).slice(2, 7)}`;
      s.reset();
      const command = `sleep ${delayS}; echo ${marker}`;
      term.write(`${command}\r`);
      await s.until(command.length + 2, "the command's echo");
      const echoed = s.text();
      if (echoed !== `${command}\r\n`) throw new Error(`round ${r}: unexpected echo ${JSON.stringify(echoed)}`);
      const mark = s.bytes.length;
      const stateMark = states.length;
      let firstAt = null;
      const first = s.until(mark + 1, "the first byte after the drop", 15_000).then((at) => { firstAt = at; });
      const t0 = now();
      const fault = await admin("POST", "/__emulator/faults", { kind: "drop", path: "/ws", listener: "gateway" });
      const answeredAt = now();
      await first.catch((error) => {
        const seen = states.slice(stateMark).map((x) => `${x.state} +${Math.round(x.at - t0)} ms`).join(", ");
        const err = state.connection.error;
        throw new Error(`round ${r}: ${error.message}; sockets dropped ${fault.sockets_dropped}; states since the drop: ${seen || "none"}; ` +
          `now ${state.connection.state}${err ? ` (${err.code})` : ""}; notices ${notices.length}`);
      });
      const line = `${marker}\r\n$ `;
      const end = now() + 15_000;
      let lineAt = null;
      while (!s.text().endsWith(line)) {
        if (now() > end) throw new Error(`round ${r}: no ${marker} line after the drop: ${JSON.stringify(s.text().slice(-200))}`);
        await sleep(1);
      }
      lineAt = s.at;
      await sleep(300); // a late duplicate would show by now
      const tail = s.text().slice(mark);
      const after = states.slice(stateMark);
      const when = (name) => after.find((x) => x.state === name)?.at ?? null;
      out.push({
        sockets_dropped: fault.sockets_dropped ?? fault.fault?.sockets_dropped ?? null,
        faultCallMs: answeredAt - t0,
        closeSeenMs: when("reconnecting") === null ? null : when("reconnecting") - t0,
        openMs: when("open") === null ? null : when("open") - t0,
        firstByteMs: firstAt - t0,
        lineMs: lineAt - t0,
        states: after.map((x) => x.state),
        exact: tail === line,
        tail: tail === line ? undefined : JSON.stringify(tail.slice(0, 200)),
        notices: notices.length,
      });
      await sleep(200);
    }
    return out;
  },

  async teardown() {
    await state.term?.close().catch(() => {});
    state.client?.dispose();
  },
};
window.__socketBenchReady = true;

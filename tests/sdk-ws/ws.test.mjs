// Wire compatibility of the emulator's WebSocket, terminals and watchers with the official SDK:
// npm `oblien` 2.4.0, `rt.ws()` from `oblien/runtime`, against a fresh emulator
// (scripts/with-emulator.sh exports OBLIEN_EMULATOR_*). Run with tests/sdk-ws/run.sh or
// `make test-sdk-ws`. Node 20 needs --experimental-websocket (the SDK uses the global WebSocket).
import { test, before, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { Oblien } from 'oblien';
import { Runtime } from 'oblien/runtime';

const API = process.env.OBLIEN_EMULATOR_API;
const GATEWAY = process.env.OBLIEN_EMULATOR_GATEWAY;
const CLIENT_ID = process.env.OBLIEN_EMULATOR_CLIENT_ID;
const CLIENT_SECRET = process.env.OBLIEN_EMULATOR_CLIENT_SECRET;
const WAIT_MS = 5000;

assert.ok(API && GATEWAY && CLIENT_ID && CLIENT_SECRET, 'run me through scripts/with-emulator.sh');
assert.equal(typeof WebSocket, 'function', 'a global WebSocket (node --experimental-websocket)');

const admin = new Oblien({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, baseUrl: API });
let tenant = 0;

/** The SaaS flow: the back-end makes a namespace and a scoped token; the user's client makes a
 *  workspace with it and gets a gateway token; the runtime talks to the emulator's gateway. */
async function freshWorkspace() {
  tenant += 1;
  const ns = await admin.namespaces.create({ name: `sdk-ws-${process.pid}-${tenant}` });
  const { token } = await admin.tokens.create({ scope: 'namespace', namespace: ns.data.slug, ttl: 900 });
  const user = new Oblien({ token, baseUrl: API });
  const ws = await user.workspaces.create({ image: 'node-20' });
  assert.equal(ws.ready, true);
  const enabled = await user.workspaces.apiAccess.enable(ws.id);
  assert.equal(enabled.enabled, true);
  const rt = new Runtime({ token: enabled.token, baseUrl: GATEWAY });
  return { user, id: ws.id, rt, gatewayToken: enabled.token };
}

/** Every socket a test opened: closed after it whatever its outcome (an open socket left by a
 *  failed assertion would keep the process, and `make test`, waiting forever). */
const sockets = new Set();
afterEach(() => {
  for (const socket of sockets) socket.close();
  sockets.clear();
});

/** Collects everything an `rt.ws()` socket reports. */
function listen(socket) {
  sockets.add(socket);
  const state = { output: new Map(), exits: [], watcher: [], closes: [], opened: 0, waiters: [] };
  const poke = () => {
    for (const w of [...state.waiters]) {
      if (w.pred()) {
        state.waiters.splice(state.waiters.indexOf(w), 1);
        clearTimeout(w.timer);
        w.resolve();
      }
    }
  };
  const decoder = new TextDecoder();
  socket
    .onOpen(() => { state.opened += 1; poke(); })
    .onTerminalOutput((id, data) => {
      state.output.set(id, (state.output.get(id) ?? '') + decoder.decode(data));
      poke();
    })
    .onTerminalExit((id, code) => { state.exits.push({ id, code }); poke(); })
    .onWatcherEvent((ev) => { state.watcher.push(ev); poke(); })
    .onClose((code, reason) => { state.closes.push({ code, reason }); poke(); });
  state.until = (what, pred) => new Promise((resolve, reject) => {
    if (pred()) return resolve();
    const waiter = { pred, resolve };
    waiter.timer = setTimeout(() => {
      state.waiters.splice(state.waiters.indexOf(waiter), 1);
      reject(new Error(`timed out waiting for ${what}; output ${JSON.stringify([...state.output])}, ` +
        `watcher ${JSON.stringify(state.watcher)}, closes ${JSON.stringify(state.closes)}`));
    }, WAIT_MS);
    state.waiters.push(waiter);
  });
  state.outputOf = (id) => state.output.get(String(id)) ?? '';
  return state;
}

async function open(rt, options = { reconnect: false }) {
  const socket = rt.ws(options);
  const state = listen(socket);
  socket.connect();
  await state.until('open', () => state.opened > 0);
  return { socket, state };
}

before(async () => {
  // The emulator answers.
  const res = await fetch(`${API}/__emulator/health`);
  assert.equal(res.status, 200);
});

test('terminal: bytes through the line discipline, resize, scrollback, exit', async () => {
  const { rt } = await freshWorkspace();
  const term = await rt.terminal.create({ shell: '/bin/bash', cols: 100, rows: 30 });
  assert.equal(term.id, '1');
  assert.deepEqual(term.command, ['/bin/bash']);
  assert.equal(term.cols, 100);
  assert.equal(term.rows, 30);
  assert.equal(term.alive, true);

  const { socket, state } = await open(rt);
  socket.writeTerminalInput(term.id, 'echo hello from the sdk\r');
  await state.until('echo output', () => state.outputOf(term.id).includes('hello from the sdk\r\n$ '));
  assert.equal(state.outputOf(term.id), 'echo hello from the sdk\r\nhello from the sdk\r\n$ ');

  // Backspace and Ctrl-C, as a terminal emulator sends them.
  socket.writeTerminalInput(Number(term.id), 'pwx\x7fd\r');
  await state.until('pwd', () => state.outputOf(term.id).endsWith('/app\r\n$ '));
  socket.writeTerminalInput(term.id, 'sleep 30\r');
  await state.until('sleep echoed', () => state.outputOf(term.id).endsWith('sleep 30\r\n'));
  socket.writeTerminalInput(term.id, '\x03');
  await state.until('^C', () => state.outputOf(term.id).endsWith('^C\r\n$ '));

  socket.resizeTerminal(term.id, 132, 43);
  for (let i = 0; ; i += 1) {
    const [session] = await rt.terminal.list();
    if (session.cols === 132 && session.rows === 43) break;
    assert.ok(i < 100, `resize not reflected: ${JSON.stringify(session)}`);
    await new Promise((r) => setTimeout(r, 20));
  }

  const sb = await rt.terminal.scrollback(term.id, { bytes: 4096 });
  const text = Buffer.from(sb.scrollback, 'base64').toString('utf8');
  assert.ok(text.startsWith('$ echo hello from the sdk\r\n'), text);
  assert.equal(sb.size, Buffer.from(sb.scrollback, 'base64').length);
  assert.equal(sb.alive, true);

  socket.writeTerminalInput(term.id, 'exit 7\r');
  await state.until('exit', () => state.exits.length > 0);
  assert.deepEqual(state.exits, [{ id: '1', code: 7 }]);
  const [after] = await rt.terminal.list();
  assert.equal(after.alive, false);
  assert.equal(after.exit_code, 7);
  const closed = await rt.terminal.close(term.id);
  assert.equal(closed.terminal_id, '1');
  assert.deepEqual(await rt.terminal.list(), []);
  socket.close();
});

test('two terminals multiplexed on one socket', async () => {
  const { rt } = await freshWorkspace();
  const a = await rt.terminal.create();
  const b = await rt.terminal.create({ cmd: ['/bin/sh'] });
  assert.deepEqual([a.id, b.id], ['1', '2']);
  const { socket, state } = await open(rt);
  socket.writeTerminalInput(b.id, 'echo bee\r');
  socket.writeTerminalInput(a.id, 'echo ay\r');
  await state.until('both', () => state.outputOf(a.id).includes('ay\r\n$ ') && state.outputOf(b.id).includes('bee\r\n$ '));
  assert.ok(!state.outputOf(a.id).includes('bee'));
  socket.close();
});

test('watcher: ready, change events from file writes, list/get/delete', async () => {
  const { rt } = await freshWorkspace();
  const watcher = await rt.watcher.create({ path: '/app', excludes: ['node_modules'] });
  assert.equal(watcher.root, '/app');
  assert.equal(watcher.active, true);
  assert.equal(typeof watcher.dir_count, 'number');
  const { socket, state } = await open(rt);
  await state.until('ready', () => state.watcher.some((e) => e.type === 'ready'));
  assert.deepEqual(state.watcher[0], { channel: 'watcher', type: 'ready', watcher_id: watcher.id, root: '/app', dirs: 1 });

  await rt.files.write({ fullPath: '/app/notes.txt', content: 'one' });
  await rt.files.write({ fullPath: '/app/notes.txt', content: 'two' });
  await rt.files.write({ fullPath: '/app/node_modules/x.js', content: '', createDirs: true });
  await rt.files.delete({ path: '/app/notes.txt' });
  await state.until('4 changes', () => state.watcher.filter((e) => e.type === 'change').length >= 4);
  const changes = state.watcher.filter((e) => e.type === 'change').map((e) => [e.path, e.op]);
  assert.deepEqual(changes, [
    ['/app/notes.txt', 'create'], ['/app/notes.txt', 'write'], // a new file: created, then written
    ['/app/notes.txt', 'write'],
    ['/app/notes.txt', 'remove'],
  ]);
  for (const e of state.watcher.filter((e) => e.type === 'change')) {
    assert.equal(e.channel, 'watcher');
    assert.equal(e.watcher_id, watcher.id);
  }

  const list = await rt.watcher.list();
  assert.deepEqual(list.map((w) => w.id), [watcher.id]);
  assert.equal((await rt.watcher.get(watcher.id)).root, '/app');
  const deleted = await rt.watcher.delete(watcher.id);
  assert.equal(deleted.watcher_id, watcher.id);
  assert.deepEqual(await rt.watcher.list(), []);
  socket.close();
});

test('watcher overflow reaches the SDK', async () => {
  const { rt } = await freshWorkspace();
  const watcher = await rt.watcher.create({ root: '/app' });
  for (let i = 0; i < 260; i += 1) await rt.files.write({ fullPath: `/app/f${i}`, content: '' });
  const { socket, state } = await open(rt);
  await state.until('overflow', () => state.watcher.some((e) => e.type === 'overflow'));
  const overflow = state.watcher.find((e) => e.type === 'overflow');
  assert.equal(overflow.watcher_id, watcher.id);
  assert.equal(typeof overflow.message, 'string');
  socket.close();
});

test('a second socket replaces the first (4000), rotation closes it (4001)', async () => {
  const { user, id, rt } = await freshWorkspace();
  await rt.terminal.create();
  const first = await open(rt);
  const second = await open(rt);
  await first.state.until('replaced', () => first.state.closes.length > 0);
  assert.deepEqual(first.state.closes, [{ code: 4000, reason: 'replaced' }]);

  const rotated = await user.workspaces.apiAccess.rotateToken(id);
  await second.state.until('rotated', () => second.state.closes.length > 0);
  assert.deepEqual(second.state.closes, [{ code: 4001, reason: 'token_rotated' }]);
  // The terminal survived; a runtime with the fresh token reaches it over a new socket.
  const rt2 = new Runtime({ token: rotated.token, baseUrl: GATEWAY });
  const third = await open(rt2);
  third.socket.writeTerminalInput('1', 'echo still here\r');
  await third.state.until('output', () => third.state.outputOf('1').includes('still here\r\n$ '));
  third.socket.close();
});

test('the SDK reconnects after a dropped connection (drop fault on /ws)', async () => {
  const { rt } = await freshWorkspace();
  await rt.terminal.create();
  const socket = rt.ws({ reconnect: true, reconnectDelay: 50 });
  const state = listen(socket);
  socket.connect();
  await state.until('open', () => state.opened === 1);
  const res = await fetch(`${API}/__emulator/faults`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Client-ID': CLIENT_ID, 'X-Client-Secret': CLIENT_SECRET },
    body: JSON.stringify({ kind: 'drop', path: '/ws', listener: 'gateway' }),
  });
  assert.equal((await res.json()).sockets_dropped, 1);
  await state.until('closed and reopened', () => state.closes.length === 1 && state.opened === 2);
  assert.equal(state.closes[0].code, 1006, 'no close frame: an abnormal closure');
  socket.writeTerminalInput('1', 'echo reconnected\r');
  await state.until('output', () => state.outputOf('1').includes('reconnected\r\n$ '));
  socket.close();
});

test('watcher events from a terminal command and from rt.exec', async () => {
  const { rt } = await freshWorkspace();
  const watcher = await rt.watcher.create({ path: '/app' });
  const term = await rt.terminal.create();
  const { socket, state } = await open(rt);
  await state.until('ready', () => state.watcher.some((e) => e.type === 'ready'));
  socket.writeTerminalInput(term.id, 'mkdir /app/from-term && cd /app/from-term && pwd\r');
  await state.until('pwd', () => state.outputOf(term.id).includes('/app/from-term\r\n$ '));
  await state.until('terminal change', () => state.watcher.some((e) => e.path === '/app/from-term'));
  const result = await rt.exec.run(['sh', '-c', 'touch /app/from-exec']);
  assert.equal(result.exit_code, 0);
  // `touch` is a create then a write: two frames, the second maybe not in yet at the first.
  await state.until('exec change', () => state.watcher.some((e) => e.path === '/app/from-exec' && e.op === 'write'));
  const ops = state.watcher.filter((e) => e.type === 'change').map((e) => [e.path, e.op]);
  assert.deepEqual(ops, [
    ['/app/from-term', 'create'],
    ['/app/from-exec', 'create'], ['/app/from-exec', 'write'],
  ]);
  assert.ok(state.watcher.every((e) => e.watcher_id === watcher.id));
  socket.close();
});

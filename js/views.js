// The package's thin views as plain JS classes (src/bindings/views.rs): `Workspaces`,
// `ApiAccess`, `WorkspaceRuntime` and its `RuntimeFiles`, `RuntimeExec`, `RuntimeSearch`,
// `RuntimeTransfer`, `RuntimeProxy`, `RuntimeTerminals`, `RuntimeWatchers`. Each holds one
// dispatch function, a Rust closure over its owner (the session, or a runtime), and forwards
// every method to it as a number, arguments as given: the option checks, the endpoint table and
// every decision stay in Rust. `Terminal`, `Watcher` and `RuntimeConnection` call their
// js/socket.js object directly; their dispatch only keeps the runtime's socket alive. Their
// types and docs are in the Rust files' TypeScript sections.
// Numbers: 0 free (lets go of the owner), 1 a dispatch of the same owner for a view taken from
// this one; the session's (src/bindings/workspaces.rs `run`) and a runtime's
// (src/bindings/runtime/mod.rs `run`) from 2 on, as below.
import { OblienError } from "./oblien_error.js";

const VIEW = 1;
/** A view's dispatch; a freed view throws, as a freed wasm object did. */
let call;
/** The methods that throw (their Rust returns the error instead). */
const thrown = (r) => {
  if (r instanceof OblienError) throw r;
  return r;
};
/** `write`, `resize`: js/socket.js returns the error they throw. */
const fails = (e) => {
  if (e !== undefined) throw e;
};

class View {
  #c;
  constructor(c) {
    this.#c = c;
  }
  static {
    call = (v) => {
      if (v.#c) return v.#c;
      throw new Error("null pointer passed to rust");
    };
  }
  free() {
    call(this)(0);
    this.#c = undefined;
  }
}
if (Symbol.dispose) View.prototype[Symbol.dispose] = function () { this.free(); };

/** A view that holds one more thing: a js/socket.js object, or the proxy's target. */
let held;
class Held extends View {
  #h;
  constructor(c, h) {
    super(c);
    this.#h = h;
  }
  static {
    held = (v) => (call(v), v.#h);
  }
}

export class Workspaces extends View {
  list(options) { return call(this)(2, options); }
  create(params, options) { return call(this)(3, params, options); }
  runtime(id, options) { return call(this)(4, id, options); }
  get(id, options) { return call(this)(5, id, options); }
  start(id, options) { return call(this)(6, id, options); }
  stop(id, options) { return call(this)(7, id, options); }
  restart(id, options) { return call(this)(8, id, options); }
  stats(id, options) { return call(this)(9, id, options); }
  delete(id, options) { return call(this)(10, id, options); }
  get apiAccess() { return new ApiAccess(call(this)(VIEW)); }
}

export class ApiAccess extends View {
  status(id, options) { return call(this)(11, id, options); }
  enable(id, options) { return call(this)(12, id, options); }
  disable(id, options) { return call(this)(13, id, options); }
  rotateToken(id, options) { return call(this)(14, id, options); }
  reconnect(id, options) { return call(this)(15, id, options); }
}

export class WorkspaceRuntime extends View {
  get workspaceId() { return call(this)(12); }
  get tokenInfo() { return call(this)(13); }
  get files() { return new RuntimeFiles(call(this)(VIEW)); }
  get exec() { return new RuntimeExec(call(this)(VIEW)); }
  get search() { return new RuntimeSearch(call(this)(VIEW)); }
  get transfer() { return new RuntimeTransfer(call(this)(VIEW)); }
  get terminals() { return new RuntimeTerminals(call(this)(VIEW)); }
  get watchers() { return new RuntimeWatchers(call(this)(VIEW)); }
  get connection() { return call(this)(18); }
  proxy(port, host) {
    const c = call(this);
    const target = thrown(c(16, port, host));
    return new RuntimeProxy(c(VIEW), target);
  }
  /** Closes the runtime's socket (14), then lets go of the runtime. */
  free() {
    call(this)(14);
    super.free();
  }
  health(options) { return call(this)(2, options); }
  info(options) { return call(this)(3, options); }
  fetch(path, init) { return call(this)(15, path, init); }
}

export class RuntimeFiles extends View {
  list(options) { return call(this)(4, options); }
  read(options) { return call(this)(5, options); }
  stat(options) { return call(this)(6, options); }
  write(options) { return call(this)(7, options); }
  mkdir(options) { return call(this)(8, options); }
  delete(options) { return call(this)(9, options); }
  stream(options) { return thrown(call(this)(19, options)); }
}

export class RuntimeSearch extends View {
  content(options) { return call(this)(10, options); }
  files(options) { return call(this)(11, options); }
}

export class RuntimeExec extends View {
  run(cmd, options) { return call(this)(20, cmd, options); }
  stream(cmd, options) { return thrown(call(this)(21, cmd, options)); }
  subscribe(taskId, options) { return thrown(call(this)(22, taskId, options)); }
  list(options) { return call(this)(23, options); }
  get(taskId, options) { return call(this)(24, taskId, options); }
  kill(taskId, options) { return call(this)(25, taskId, options); }
  input(taskId, data, options) { return call(this)(26, taskId, data, options); }
  deleteAll(options) { return call(this)(27, options); }
}

export class RuntimeTransfer extends View {
  download(params, options) { return call(this)(28, params, options); }
  upload(params, options) { return call(this)(29, params, options); }
}

export class RuntimeProxy extends Held {
  get target() { return held(this); }
  fetch(path, init) { return call(this)(17, path, init, held(this)); }
}

export class RuntimeTerminals extends View {
  create(options) { return call(this)(30, options); }
  attach(id, options) { return call(this)(31, id, options); }
  list(options) { return call(this)(32, options); }
  scrollback(id, options) { return call(this)(33, id, options); }
}

export class RuntimeWatchers extends View {
  create(options) { return call(this)(34, options); }
  list(options) { return call(this)(35, options); }
}

export class Terminal extends Held {
  get id() { return held(this).id; }
  onData(callback) { return held(this).on(0, callback); }
  onExit(callback) { return held(this).on(1, callback); }
  onNotice(callback) { return held(this).on(2, callback); }
  write(data) { fails(held(this).write(data)); }
  resize(cols, rows) { fails(held(this).resize(cols, rows)); }
  close() { return held(this).close(); }
}

export class Watcher extends Held {
  get id() { return held(this).id; }
  onEvent(callback) { return held(this).on(0, callback); }
  onOverflow(callback) { return held(this).on(1, callback); }
  close() { return held(this).close(); }
}

export class RuntimeConnection extends Held {
  get state() { return held(this).state(); }
  get error() { return held(this).error(); }
  onStateChange(callback) { return held(this).on(0, callback); }
  reconnect() { held(this).reconnect(); }
}

/** The views Rust makes: `client.workspaces`, a runtime (`workspaces.runtime(id)`), and over a
 * js/socket.js object `h`: a terminal, a watcher, `rt.connection`. */
const KINDS = [Workspaces, WorkspaceRuntime, Terminal, Watcher, RuntimeConnection];
export function view(kind, c, h) {
  return new KINDS[kind](c, h);
}

// Type-level tests of the published declarations (pkg/oblien_user_client.d.ts), checked with
// `tsc -p tests/types` (strict, noEmit): every public export, method and property is used once
// with its result type asserted exactly, and every `// @ts-expect-error` line is a misuse the
// types must refuse (tsc fails when such a line compiles: TS2578 "unused @ts-expect-error").
// Nothing here runs; the functions are only type-checked.
import init, {
  initSync,
  type ApiAccess,
  type ApiAccessResult,
  type ApiAccessStatus,
  isOblienError,
  OblienUserClient,
  version,
  type CallOptions,
  type ConnectionState,
  type CreateTerminalOptions,
  type CreateWatcherOptions,
  type CreateWorkspaceParams,
  type DeleteWorkspaceResult,
  type ExecOptions,
  type ExecResult,
  type FileContent,
  type FileEntry,
  type FileList,
  type FileWriteResult,
  type HealthResult,
  type InitInput,
  type InitOutput,
  type ListFilesOptions,
  type ListWorkspacesOptions,
  type OblienError,
  type OblienErrorCode,
  type OblienUserClientOptions,
  type PathOptions,
  type PathResult,
  type RefreshContext,
  type RefreshReason,
  type RuntimeConnection,
  type RuntimeExec,
  type RuntimeFiles,
  type RuntimeTerminals,
  type RuntimeWatchers,
  type ScrollbackOptions,
  type SyncInitInput,
  type Terminal,
  type TerminalNotice,
  type TerminalSession,
  type TokenInfo,
  type Watcher,
  type WatcherEvent,
  type WatcherInfo,
  type GatewayTokenInfo,
  type Workspace,
  type WorkspaceConfig,
  type WorkspaceList,
  type WorkspaceProvisioning,
  type WorkspaceRuntime,
  type Workspaces,
  type WorkspaceStats,
  type WorkspaceStatus,
  type WriteFileOptions,
  type DownloadParams,
  type ExecDeleteAllResult,
  type ExecEvent,
  type ExecExitEvent,
  type ExecInputResult,
  type ExecKillResult,
  type ExecOutputEvent,
  type ExecStream,
  type ExecStreamOptions,
  type ExecStreamResult,
  type ExecTask,
  type FileStream,
  type ReadFileOptions,
  type RuntimeInfo,
  type RuntimeProxy,
  type RuntimeSearch,
  type RuntimeTransfer,
  type SearchContentOptions,
  type SearchContentResult,
  type SearchFilesResult,
  type SearchMatch,
  type StreamFilesOptions,
  type SubscribeOptions,
  type TransferOptions,
  type TransferProgress,
  type UploadParams,
  type UploadResult,
} from "oblien-user-client";

// ---- helpers ------------------------------------------------------------------------------------

/** Exact type equality (not mere assignability): `any` equals nothing but `any`. */
type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** Compiles only when `T` is `true`. */
function assert<T extends true>(): void {}
/** Compiles only when `value` has exactly the type `T`. */
function expectType<T>() {
  return <V>(value: V & (Equals<V, T> extends true ? unknown : never)): V => value;
}
/** `true` when `T` is `any`. */
type IsAny<T> = 0 extends 1 & T ? true : false;
declare const bytes: ArrayBuffer;
declare const signal: AbortSignal;

// ---- loading the module -------------------------------------------------------------------------

export async function loading(): Promise<void> {
  expectType<Promise<InitOutput>>()(init());
  expectType<InitOutput>()(await init({ module_or_path: new URL("./oblien_user_client_bg.wasm", import.meta.url) }));
  await init({ module_or_path: "/assets/oblien_user_client_bg.wasm" });
  await init({ module_or_path: fetch("/x.wasm") });
  await init({ module_or_path: bytes });
  await init({ module_or_path: await WebAssembly.compile(bytes) });
  expectType<InitOutput>()(initSync({ module: bytes }));
  expectType<InitOutput>()(initSync({ module: new Uint8Array(bytes) }));
  expectType<InitOutput>()(initSync({ module: new WebAssembly.Module(bytes) }));
  const input: InitInput = new Response(bytes);
  const syncInput: SyncInitInput = bytes;
  await init({ module_or_path: input });
  initSync({ module: syncInput });
  expectType<string>()(version());

  // NOTE (a hole in wasm-bindgen's generated init types, not checked here): `InitInput` and
  // `SyncInitInput` include `WebAssembly.Module`, an EMPTY interface in lib.dom, which every
  // non-nullish value satisfies, so `init(42)`, `init({ module_or_pth: url })` (a typo) and
  // `initSync({ module: "/x.wasm" })` all compile. See tests/consumer/README.md.
  // @ts-expect-error: version() takes no argument
  version(1);
}

// ---- the client ---------------------------------------------------------------------------------

export function construct(token: string): OblienUserClient {
  const refreshes: RefreshReason[] = [];
  const options: OblienUserClientOptions = {
    token,
    baseUrl: "http://127.0.0.1:8787",
    gatewayUrl: "http://127.0.0.1:8788",
    refresh: async (ctx) => {
      expectType<RefreshContext>()(ctx);
      expectType<RefreshReason>()(ctx.reason);
      assert<Equals<RefreshReason, "expiring" | "expired" | "unauthorized">>();
      expectType<TokenInfo | null>()(ctx.tokenInfo);
      expectType<AbortSignal>()(ctx.signal);
      refreshes.push(ctx.reason);
      const res = await fetch("/my-backend/oblien-token", { signal: ctx.signal });
      return res.text();
    },
    refreshMarginSeconds: 30,
    timeoutMs: 10_000,
    onTokenChange: (info) => {
      expectType<TokenInfo>()(info);
    },
    onRefreshError: (err) => {
      expectType<OblienError>()(err);
      expectType<OblienErrorCode>()(err.code);
    },
  };
  // A synchronous refresh is allowed too.
  new OblienUserClient({ token, refresh: () => token });
  // crossTab: a boolean or a group name.
  new OblienUserClient({ token, crossTab: true });
  new OblienUserClient({ token, crossTab: { name: "my-app" } });
  // @ts-expect-error: crossTab's name is a string
  new OblienUserClient({ token, crossTab: { name: 3 } });
  // @ts-expect-error: crossTab is a boolean or an object
  new OblienUserClient({ token, crossTab: "yes" });
  // Only the token is required.
  new OblienUserClient({ token });

  // @ts-expect-error: the token is required
  new OblienUserClient({ baseUrl: "http://x" });
  // @ts-expect-error: no options at all
  new OblienUserClient();
  // @ts-expect-error: timeoutMs is a number
  new OblienUserClient({ token, timeoutMs: "x" });
  // @ts-expect-error: refreshMarginSeconds is a number
  new OblienUserClient({ token, refreshMarginSeconds: "60" });
  // @ts-expect-error: the refresh callback resolves with a token string
  new OblienUserClient({ token, refresh: async () => 42 });
  // @ts-expect-error: onTokenChange receives a TokenInfo, not a string
  new OblienUserClient({ token, onTokenChange: (info: string) => void info });
  // @ts-expect-error: there is no apiKey option (API keys are refused)
  new OblienUserClient({ token, apiKey: "csk_…" });
  // @ts-expect-error: nor a clientSecret
  new OblienUserClient({ token, clientSecret: "csk_…" });

  return new OblienUserClient(options);
}

export function tokens(client: OblienUserClient, next: string): void {
  const info = client.tokenInfo;
  expectType<TokenInfo>()(info);
  expectType<"namespace" | "workspace">()(info.scope);
  expectType<"initial" | "refresh" | "setToken" | "tab">()(info.source);
  expectType<"off" | "active" | "unsupported">()(client.crossTab);
  // @ts-expect-error: crossTab is read-only
  client.crossTab = "off";
  // @ts-expect-error: a session token is never a gateway token
  if (info.scope === "gateway") return;
  expectType<string | undefined>()(info.namespace);
  expectType<string | undefined>()(info.workspaceId);
  expectType<string | undefined>()(info.label);
  expectType<Date | undefined>()(info.issuedAt);
  expectType<Date>()(info.expiresAt);
  expectType<number>()(info.expiresIn);
  expectType<number>()(info.expiresAt.getTime());
  expectType<TokenInfo>()(client.setToken(next));
  expectType<TokenInfo | null>()(client.toJSON());

  // @ts-expect-error: "admin" is not a token scope, so this comparison can never be true
  if (info.scope === "admin") return;
  // @ts-expect-error: tokenInfo is read-only
  client.tokenInfo = info;
  // @ts-expect-error: workspaces is read-only
  client.workspaces = client.workspaces;
  // @ts-expect-error: setToken takes the token string
  client.setToken({ token: next });
  // @ts-expect-error: the token itself is never exposed
  void info.token;
  // @ts-expect-error: expiresAt is a Date, not a number of seconds
  const seconds: number = info.expiresAt;
  void seconds;
}

export function lifecycle(client: OblienUserClient): void {
  expectType<void>()(client.dispose());
  expectType<void>()(client.free());
  expectType<void>()(client[Symbol.dispose]());
  {
    using scoped = new OblienUserClient({ token: "eyJ…" });
    expectType<OblienUserClient>()(scoped);
  }
}

// ---- workspaces ---------------------------------------------------------------------------------

export async function workspaces(client: OblienUserClient): Promise<void> {
  const ws = client.workspaces;
  expectType<Workspaces>()(ws);

  // list: with and without options.
  expectType<WorkspaceList>()(await ws.list());
  const listOptions: ListWorkspacesOptions = { page: 2, limit: 10, status: "running", signal };
  const page = await ws.list(listOptions);
  expectType<WorkspaceList>()(page);
  expectType<true>()(page.success);
  expectType<Workspace[]>()(page.workspaces);
  expectType<number>()(page.total);
  expectType<number>()(page.page);
  expectType<number>()(page.limit);
  await ws.list({ status: "some-future-status" }); // WorkspaceStatus stays open to new values

  // create
  const params: CreateWorkspaceParams = {
    image: "node-20",
    name: "my-app",
    slug: "my-app",
    mode: "temporary",
    idempotency_key: "k-1",
    config: { cpus: 1, memory_mb: 512, disk_size_mb: 1024, ttl: "1h", env: { A: "1" } },
  };
  const created = await ws.create(params, { signal });
  expectType<Workspace>()(created);
  expectType<Workspace>()(await ws.create({ image: "python-3.12" }));
  expectType<string>()(created.id);
  expectType<string>()(created.name);
  expectType<string>()(created.slug);
  expectType<WorkspaceStatus>()(created.status);
  expectType<boolean>()(created.ready);
  expectType<string>()(created.image);
  expectType<string | null>()(created.namespace);
  expectType<"permanent" | "temporary">()(created.mode);
  expectType<WorkspaceProvisioning>()(created.provisioning);
  expectType<"queued" | "running" | "ready" | "failed">()(created.provisioning.state);
  expectType<string | null>()(created.provisioning.phase);
  expectType<string | null>()(created.provisioning.message);
  expectType<string | null>()(created.provisioning.error);
  expectType<number>()(created.resources.cpus);
  expectType<number>()(created.resources.memory_mb);
  expectType<number>()(created.resources.disk_size_mb);
  expectType<string>()(created.created_at);
  expectType<string>()(created.updated_at);
  const config: WorkspaceConfig = { cpus: 2, gpu: "none" }; // open to extra keys
  void config;

  // get, delete, runtime
  expectType<Workspace>()(await ws.get(created.id));
  expectType<Workspace>()(await ws.get(created.id, { signal }));
  const deleted = await ws.delete(created.id, { signal });
  expectType<DeleteWorkspaceResult>()(deleted);
  expectType<true>()(deleted.success);
  expectType<string | undefined>()(deleted.id);
  expectType<boolean | undefined>()(deleted.deleted);
  expectType<DeleteWorkspaceResult>()(await ws.delete(created.id));
  expectType<WorkspaceRuntime>()(await ws.runtime(created.id));
  expectType<WorkspaceRuntime>()(await ws.runtime(created.id, { signal }));

  // @ts-expect-error: the image is required
  await ws.create({ name: "no image" });
  // @ts-expect-error: mode is "permanent" | "temporary"
  await ws.create({ image: "node-20", mode: "forever" });
  // @ts-expect-error: config.cpus is a number
  await ws.create({ image: "node-20", config: { cpus: "2" } });
  // @ts-expect-error: config.env values are strings
  await ws.create({ image: "node-20", config: { env: { PORT: 3000 } } });
  // @ts-expect-error: the namespace is the token's; it is not a create parameter
  await ws.create({ image: "node-20", namespace: "other-tenant" });
  // @ts-expect-error: page is a number
  await ws.list({ page: "1" });
  // @ts-expect-error: limit is a number
  await ws.list({ limit: "10" });
  // @ts-expect-error: the options are an object
  await ws.list(2);
  // @ts-expect-error: ids are strings
  await ws.get(123);
  // @ts-expect-error: the id is required
  await ws.get();
  // @ts-expect-error: the id is required
  await ws.delete();
  // @ts-expect-error: the second argument is call options, not a signal
  await ws.runtime(created.id, signal);
  // @ts-expect-error: no such method
  await ws.update(created.id, {});
  // @ts-expect-error: the list's items are in `workspaces`
  void page.items;
  // @ts-expect-error: cpus is a number
  created.resources.cpus.toUpperCase();
  const options: CallOptions = { signal };
  // @ts-expect-error: CallOptions has only a signal
  const badOptions: CallOptions = { timeoutMs: 5 };
  void options, badOptions;
}

// ---- lifecycle and internal API access ------------------------------------------------------------

export async function lifecycleAndAccess(client: OblienUserClient, id: string): Promise<void> {
  const ws = client.workspaces;
  expectType<Workspace>()(await ws.start(id));
  expectType<Workspace>()(await ws.stop(id, { signal }));
  expectType<Workspace>()(await ws.restart(id, {}));
  const stopped = await ws.stop(id);
  expectType<WorkspaceStatus>()(stopped.status);
  const stats = await ws.stats(id, { signal });
  expectType<WorkspaceStats>()(stats);
  expectType<true>()(stats.success);
  expectType<boolean | undefined>()(stats.stats.running);
  expectType<number | undefined>()(stats.stats.memory_used_mb);
  expectType<unknown>()(stats.stats.some_future_figure);

  const access = ws.apiAccess;
  expectType<ApiAccess>()(access);
  const status = await access.status(id);
  expectType<ApiAccessStatus>()(status);
  expectType<boolean>()(status.enabled);
  expectType<boolean | undefined>()(status.running);
  expectType<number | undefined>()(status.port);
  expectType<ApiAccessStatus>()(await access.status(id, { signal }));
  for (const result of [
    await access.enable(id),
    await access.disable(id, { signal }),
    await access.rotateToken(id),
    await access.reconnect(id, {}),
  ]) {
    expectType<ApiAccessResult>()(result);
    expectType<true>()(result.success);
    expectType<boolean | undefined>()(result.enabled);
  }

  // @ts-expect-error: the id is required
  await ws.start();
  // @ts-expect-error: ids are strings
  await ws.stop(42);
  // @ts-expect-error: the second argument is call options, not a signal
  await ws.restart(id, signal);
  // @ts-expect-error: stats are not a Workspace
  const notWorkspace: Workspace = await ws.stats(id);
  void notWorkspace;
  // @ts-expect-error: the id is required
  await access.rotateToken();
  // @ts-expect-error: the options are an object
  await access.enable(id, true);
  // @ts-expect-error: the 30-day workspace token is not offered in a browser
  await access.workspaceToken(id);
  // @ts-expect-error: nor the raw connection token
  await access.rawToken(id);
  // @ts-expect-error: nor the gateway token itself
  await access.getToken(id);
  // @ts-expect-error: apiAccess is read-only
  ws.apiAccess = access;
}

// ---- the runtime --------------------------------------------------------------------------------

export async function runtime(rt: WorkspaceRuntime): Promise<void> {
  expectType<string>()(rt.workspaceId);
  expectType<GatewayTokenInfo | null>()(rt.tokenInfo);
  const gatewayScope: "gateway" | undefined = rt.tokenInfo?.scope;
  void gatewayScope;
  expectType<RuntimeFiles>()(rt.files);
  expectType<RuntimeExec>()(rt.exec);

  const health = await rt.health();
  expectType<HealthResult>()(health);
  expectType<HealthResult>()(await rt.health({ signal }));
  const healthStatus: "ok" | (string & {}) = health.status;
  void healthStatus;

  // files
  const listOptions: ListFilesOptions = { path: "/app", nested: true, signal };
  const listing = await rt.files.list(listOptions);
  expectType<FileList>()(listing);
  expectType<true>()(listing.success);
  expectType<string>()(listing.path);
  expectType<FileEntry[]>()(listing.entries);
  expectType<number>()(listing.count);
  const entry = listing.entries[0]!;
  expectType<string>()(entry.name);
  expectType<string>()(entry.path);
  expectType<"file" | "directory" | "symlink">()(entry.type);
  expectType<FileEntry[] | undefined>()(entry.children);
  expectType<number>()(entry.size);
  expectType<string>()(entry.modified);

  const pathOptions: PathOptions = { path: "/app/a.txt" };
  const content = await rt.files.read(pathOptions);
  expectType<FileContent>()(content);
  expectType<string>()(content.content);
  expectType<number>()(content.size);
  const writeOptions: WriteFileOptions = { path: "/app/a.txt", content: "hi", createDirs: true, append: false, signal };
  const written = await rt.files.write(writeOptions);
  expectType<FileWriteResult>()(written);
  expectType<number>()(written.size);
  expectType<FileEntry>()(await rt.files.stat({ path: "/app" }));
  const made = await rt.files.mkdir({ path: "/app/dir" });
  expectType<PathResult>()(made);
  expectType<string>()(made.path);
  expectType<boolean | undefined>()(made.deleted);
  expectType<PathResult>()(await rt.files.delete({ path: "/app/dir", signal }));

  // exec
  const execOptions: ExecOptions = { timeoutSeconds: 5, signal };
  const ran = await rt.exec.run(["echo", "hi"], execOptions);
  expectType<ExecResult>()(ran);
  expectType<ExecResult>()(await rt.exec.run(["true"]));
  expectType<true>()(ran.success);
  expectType<string>()(ran.id);
  expectType<string[]>()(ran.command);
  expectType<string>()(ran.status);
  expectType<number>()(ran.exit_code);
  expectType<string>()(ran.stdout);
  expectType<string>()(ran.stderr);
  expectType<number | undefined>()(ran.duration_ms);

  // fetch
  expectType<Response>()(await rt.fetch("/health"));
  expectType<Response>()(await rt.fetch("/api", { method: "POST", body: "{}", headers: { "content-type": "application/json" } }));

  // @ts-expect-error: argv form: an array of strings, not a shell string
  await rt.exec.run("echo hi");
  // @ts-expect-error: argv items are strings
  await rt.exec.run(["sleep", 1]);
  // @ts-expect-error: timeoutSeconds is a number
  await rt.exec.run(["true"], { timeoutSeconds: "5" });
  // @ts-expect-error: the path is required
  await rt.files.read({});
  // @ts-expect-error: the options are required
  await rt.files.read();
  // @ts-expect-error: the options are an object, not a path string
  await rt.files.stat("/app");
  // @ts-expect-error: write needs the content
  await rt.files.write({ path: "/app/a.txt" });
  // @ts-expect-error: content is text
  await rt.files.write({ path: "/app/a.txt", content: new Uint8Array(1) });
  // @ts-expect-error: nested is a boolean
  await rt.files.list({ path: "/", nested: "yes" });
  // @ts-expect-error: workspaceId is read-only
  rt.workspaceId = "other";
  // @ts-expect-error: the gateway token's info may be null before the first mint
  const scope: string = rt.tokenInfo.scope;
  void scope;
  // @ts-expect-error: fetch takes a path string
  await rt.fetch(new URL("http://x/health"));
  // @ts-expect-error: exit_code is a number
  ran.exit_code.trim();
}

// ---- terminals, watchers and the connection (the workspace's one WebSocket) ----------------------

/** What an xterm.js `Terminal` offers that the example wires up (xterm.js is not a dependency). */
interface XtermLike {
  cols: number;
  rows: number;
  write(data: string | Uint8Array): void;
  onData(listener: (data: string) => void): { dispose(): void };
  onResize(listener: (size: { cols: number; rows: number }) => void): { dispose(): void };
}

export async function terminals(rt: WorkspaceRuntime, xterm: XtermLike): Promise<void> {
  expectType<RuntimeTerminals>()(rt.terminals);
  expectType<RuntimeWatchers>()(rt.watchers);
  expectType<RuntimeConnection>()(rt.connection);

  // create, attach, list, scrollback
  const createOptions: CreateTerminalOptions = { cols: 120, rows: 40, shell: "/bin/bash", scrollbackSize: 1 << 20, signal };
  const term = await rt.terminals.create(createOptions);
  expectType<Terminal>()(term);
  expectType<Terminal>()(await rt.terminals.create());
  expectType<string>()(term.id);
  expectType<Terminal>()(await rt.terminals.attach(term.id));
  expectType<Terminal>()(await rt.terminals.attach("1", { signal }));
  const sessions = await rt.terminals.list({ signal });
  expectType<TerminalSession[]>()(sessions);
  expectType<TerminalSession[]>()(await rt.terminals.list());
  const session = sessions[0]!;
  expectType<string>()(session.id);
  expectType<string[]>()(session.command);
  expectType<number>()(session.cols);
  expectType<number>()(session.rows);
  expectType<boolean | undefined>()(session.alive);
  expectType<number | null | undefined>()(session.exit_code);
  expectType<unknown>()(session["future_field"]);
  const scrollbackOptions: ScrollbackOptions = { bytes: 4096, signal };
  expectType<Uint8Array>()(await rt.terminals.scrollback(term.id, scrollbackOptions));
  expectType<Uint8Array>()(await rt.terminals.scrollback(term.id));

  // The xterm.js wiring of the README: bytes out, keystrokes in, size on fit.
  const off = term.onData((bytes) => {
    expectType<Uint8Array>()(bytes);
    xterm.write(bytes);
  });
  expectType<() => void>()(off);
  off();
  xterm.onData((data) => term.write(data));
  xterm.onResize(({ cols, rows }) => term.resize(cols, rows));
  expectType<void>()(term.write("ls\r"));
  expectType<void>()(term.write(new Uint8Array([0x03])));
  expectType<void>()(term.resize(xterm.cols, xterm.rows));
  expectType<() => void>()(term.onExit((exitCode) => expectType<number>()(exitCode)));
  expectType<() => void>()(term.onNotice((notice) => {
    expectType<TerminalNotice>()(notice);
    expectType<"gap" | "ambiguous">()(notice.kind);
    expectType<string>()(notice.message);
  }));
  expectType<Promise<void>>()(term.close());

  // watchers
  const watchOptions: CreateWatcherOptions = { path: "/app", excludes: ["node_modules", "*.log"], signal };
  const watcher = await rt.watchers.create(watchOptions);
  expectType<Watcher>()(watcher);
  expectType<Watcher>()(await rt.watchers.create({ path: "/app" }));
  expectType<string>()(watcher.id);
  expectType<() => void>()(watcher.onEvent((event) => {
    expectType<WatcherEvent>()(event);
    expectType<string>()(event.path);
    expectType<"create" | "write" | "remove" | "rename" | "unknown">()(event.op);
  }));
  expectType<() => void>()(watcher.onOverflow((message) => expectType<string>()(message)));
  const watchers = await rt.watchers.list();
  expectType<WatcherInfo[]>()(watchers);
  expectType<WatcherInfo[]>()(await rt.watchers.list({ signal }));
  expectType<string>()(watchers[0]!.root);
  expectType<number>()(watchers[0]!.dir_count);
  expectType<Promise<void>>()(watcher.close());

  // the connection
  const connection = rt.connection;
  expectType<ConnectionState>()(connection.state);
  assert<Equals<ConnectionState, "idle" | "connecting" | "open" | "reconnecting" | "replaced" | "closed">>();
  expectType<OblienError | null>()(connection.error);
  expectType<OblienErrorCode | undefined>()(connection.error?.code);
  const offState = connection.onStateChange((state) => {
    expectType<ConnectionState>()(state);
    if (state === "replaced") connection.reconnect();
  });
  expectType<() => void>()(offState);
  expectType<void>()(connection.reconnect());

  // @ts-expect-error: terminal ids are strings
  await rt.terminals.attach(1);
  // @ts-expect-error: the id is required
  await rt.terminals.attach();
  // @ts-expect-error: cols is a number
  await rt.terminals.create({ cols: "80" });
  // @ts-expect-error: the shell is one program name, not an argv array
  await rt.terminals.create({ shell: ["/bin/bash", "-l"] });
  // @ts-expect-error: scrollback options are an object, not a byte count
  await rt.terminals.scrollback(term.id, 4096);
  // @ts-expect-error: keystrokes are a string or bytes
  term.write(13);
  // @ts-expect-error: resize takes numbers
  term.resize("120", 40);
  // @ts-expect-error: resize takes cols and rows
  term.resize({ cols: 120, rows: 40 });
  // @ts-expect-error: output comes as bytes (Uint8Array), not a string
  term.onData((text: string) => void text);
  // @ts-expect-error: the exit code is a number
  term.onExit((code: string) => void code);
  // @ts-expect-error: "lost" is not a notice kind, so this comparison can never be true
  term.onNotice((notice) => notice.kind === "lost");
  // @ts-expect-error: the id is read-only
  term.id = "2";
  // @ts-expect-error: the options (with the path) are required
  await rt.watchers.create();
  // @ts-expect-error: the path is required
  await rt.watchers.create({ excludes: ["node_modules"] });
  // @ts-expect-error: excludes is an array of strings
  await rt.watchers.create({ path: "/app", excludes: "node_modules" });
  // @ts-expect-error: events are { path, op }, not a path string
  watcher.onEvent((path: string) => void path);
  // @ts-expect-error: "moved" is not an op, so this comparison can never be true
  watcher.onEvent((event) => event.op === "moved");
  // @ts-expect-error: "opened" is not a state, so this comparison can never be true
  if (connection.state === "opened") return;
  // @ts-expect-error: the state is read-only
  connection.state = "open";
  // @ts-expect-error: reconnect takes no token: the client mints a valid one itself
  connection.reconnect("eyJ…");
  // @ts-expect-error: the error may be null
  void connection.error.code;
}

// ---- streams and the rest of the gateway (issue 11) --------------------------------------------

export async function streams(rt: WorkspaceRuntime): Promise<void> {
  // exec.stream: returns at once, an async iterable of ExecEvent
  const streamOptions: ExecStreamOptions = { timeoutSeconds: 60, signal, timeoutMs: 5000, idleTimeoutMs: 0, keepOutput: false };
  const run = rt.exec.stream(["npm", "test"], streamOptions);
  expectType<ExecStream>()(run);
  const iterable: AsyncIterable<ExecEvent> = run;
  void iterable;
  expectType<Promise<string>>()(run.taskId);
  for await (const ev of run) {
    expectType<ExecEvent>()(ev);
    if (ev.event === "exit") {
      expectType<ExecExitEvent>()(ev);
      expectType<number>()(ev.exitCode);
      expectType<string | undefined>()(ev.status);
    } else {
      expectType<ExecOutputEvent>()(ev);
      expectType<"stdout" | "stderr">()(ev.event);
      expectType<Uint8Array>()(ev.data);
      expectType<string>()(ev.text);
    }
  }
  const done = await run.wait();
  expectType<ExecStreamResult>()(done);
  expectType<string>()(done.taskId);
  expectType<number>()(done.exitCode);
  expectType<string>()(done.stdout);
  expectType<string>()(done.stderr);
  expectType<ExecInputResult>()(await run.write("input\n"));
  expectType<ExecInputResult>()(await run.write(new Uint8Array([10])));
  expectType<number>()((await run.write("x")).bytes_written);
  expectType<ExecKillResult>()(await run.kill());
  expectType<void>()(run.close());
  expectType<IteratorResult<ExecEvent, undefined>>()(await run.next());
  const subscribeOptions: SubscribeOptions = { signal, idleTimeoutMs: 30_000 };
  expectType<ExecStream>()(rt.exec.subscribe("3", subscribeOptions));
  expectType<ExecStream>()(rt.exec.subscribe("3"));

  // the task endpoints
  const tasks = await rt.exec.list();
  expectType<ExecTask[]>()(tasks);
  const task = await rt.exec.get("3", { signal });
  expectType<ExecTask>()(task);
  expectType<string>()(task.id);
  expectType<string[]>()(task.command);
  expectType<number | null | undefined>()(task.exit_code);
  expectType<ExecKillResult>()(await rt.exec.kill("3"));
  expectType<ExecInputResult>()(await rt.exec.input("3", "data"));
  expectType<ExecInputResult>()(await rt.exec.input("3", new Uint8Array(1), { signal }));
  const all = await rt.exec.deleteAll();
  expectType<ExecDeleteAllResult>()(all);
  expectType<number>()(all.deleted);

  // files.stream and read options
  const streamFiles: StreamFilesOptions = { path: "/app", nested: true, maxDepth: 2, signal };
  const files = rt.files.stream(streamFiles);
  expectType<FileStream>()(files);
  for await (const entry of files) expectType<FileEntry>()(entry);
  files.close();
  const readOptions: ReadFileOptions = { path: "/app/a.txt", startLine: 2, endLine: 10, withLineNumbers: true };
  const part = await rt.files.read(readOptions);
  expectType<FileContent>()(part);
  expectType<number | undefined>()(part.start_line);

  // search
  expectType<RuntimeSearch>()(rt.search);
  const searchOptions: SearchContentOptions = { query: "TODO", path: "/app", caseSensitive: true, regex: false, wholeWord: true, maxResults: 10, contextLines: 2 };
  const found = await rt.search.content(searchOptions);
  expectType<SearchContentResult>()(found);
  expectType<Record<string, SearchMatch[]>>()(found.results);
  expectType<number>()(found.total_matches);
  const named = await rt.search.files({ query: "main", path: "/app", maxResults: 5 });
  expectType<SearchFilesResult>()(named);
  expectType<string[]>()(named.files);

  // transfer
  expectType<RuntimeTransfer>()(rt.transfer);
  const progress: TransferProgress[] = [];
  const transferOptions: TransferOptions = { signal, onProgress: (p) => progress.push(p) };
  const download: DownloadParams = { paths: ["/app"], excludePatterns: ["node_modules"] };
  const archive = await rt.transfer.download(download, transferOptions);
  expectType<Blob>()(archive);
  const upload: UploadParams = { dest: "/app/copy", body: archive };
  const uploaded = await rt.transfer.upload(upload, transferOptions);
  expectType<UploadResult>()(uploaded);
  expectType<number>()(uploaded.files_extracted);
  await rt.transfer.upload({ dest: "/x", body: new ArrayBuffer(8) });
  await rt.transfer.upload({ dest: "/x", body: new Uint8Array(8) });
  const phase: "upload" | "download" = progress[0]!.phase;
  expectType<number | undefined>()(progress[0]!.percent);
  void phase;

  // proxy, info
  const proxy = rt.proxy(3000);
  expectType<RuntimeProxy>()(proxy);
  expectType<string>()(proxy.target);
  expectType<Response>()(await proxy.fetch("/api/users?limit=10"));
  expectType<Response>()(await rt.proxy(8080, "127.0.0.1").fetch("/", { method: "POST", body: "x", signal }));
  const info = await rt.info();
  expectType<RuntimeInfo>()(info);
  expectType<string>()(info.os);
  expectType<number>()(info.cpus);
  expectType<RuntimeInfo>()(await rt.info({ signal }));

  // @ts-expect-error: argv form: an array of strings
  rt.exec.stream("npm test");
  // @ts-expect-error: timeoutSeconds is a number
  rt.exec.stream(["true"], { timeoutSeconds: "5" });
  // @ts-expect-error: taskId is a promise, not a string
  const id: string = run.taskId;
  void id;
  // @ts-expect-error: stdin takes text or bytes
  await run.write(42);
  // @ts-expect-error: the exit event has no data
  for await (const ev of run) if (ev.event === "exit") void ev.data;
  // @ts-expect-error: task ids are strings
  rt.exec.subscribe(3);
  // @ts-expect-error: input needs the data
  await rt.exec.input("3");
  // @ts-expect-error: a file stream yields FileEntry, not ExecEvent
  for await (const entry of rt.files.stream({ path: "/" })) void entry.exitCode;
  // @ts-expect-error: the path is required
  rt.files.stream({ nested: true });
  // @ts-expect-error: startLine is a number
  await rt.files.read({ path: "/a", startLine: "2" });
  // @ts-expect-error: the query is required
  await rt.search.content({ path: "/app" });
  // @ts-expect-error: paths is an array
  await rt.transfer.download({ paths: "/app" });
  // @ts-expect-error: an upload body is bytes, not text
  await rt.transfer.upload({ dest: "/", body: "tar" });
  // @ts-expect-error: the port is a number
  rt.proxy("3000");
  // @ts-expect-error: a download is a Blob, not a Response
  void (await rt.transfer.download(download)).status;
}

assert<Equals<IsAny<Awaited2<ReturnType<RuntimeExec["list"]>>>, false>>();
assert<Equals<IsAny<Awaited2<ReturnType<RuntimeExec["get"]>>>, false>>();
assert<Equals<IsAny<Awaited2<ReturnType<ExecStream["wait"]>>>, false>>();
assert<Equals<IsAny<Awaited2<ReturnType<ExecStream["next"]>>>, false>>();
assert<Equals<IsAny<Awaited2<ReturnType<RuntimeSearch["content"]>>>, false>>();
assert<Equals<IsAny<Awaited2<ReturnType<RuntimeTransfer["upload"]>>>, false>>();
assert<Equals<IsAny<Awaited2<ReturnType<WorkspaceRuntime["info"]>>>, false>>();

// ---- errors -------------------------------------------------------------------------------------

export async function errors(client: OblienUserClient): Promise<void> {
  try {
    await client.workspaces.list();
  } catch (e) {
    // @ts-expect-error: an unknown catch variable has no `code` before narrowing
    void e.code;
    if (isOblienError(e)) {
      expectType<OblienError>()(e);
      expectType<"OblienError">()(e.name);
      expectType<string>()(e.message);
      expectType<OblienErrorCode>()(e.code);
      expectType<number | undefined>()(e.status);
      expectType<number | undefined>()(e.retryAfter);
      expectType<string | undefined>()(e.requestId);
      const asError: Error = e;
      void asError;
      switch (e.code) {
        case "rate_limited":
          if (e.retryAfter !== undefined) expectType<number>()(e.retryAfter);
          break;
        case "token_expired":
        case "invalid_token":
        case "refresh_failed":
        case "disposed":
          break;
        default: {
          const other: OblienErrorCode = e.code;
          void other;
        }
      }
      // @ts-expect-error: status is a number
      e.status?.toUpperCase();
    }
  }
  expectType<boolean>()(isOblienError(new Error("x")));
}

// ---- no `any` leaks into the public API ---------------------------------------------------------

type Awaited2<T> = T extends Promise<infer U> ? U : T;
assert<Equals<IsAny<OblienUserClient["tokenInfo"]>, false>>();
assert<Equals<IsAny<Awaited2<ReturnType<Workspaces["list"]>>>, false>>();
assert<Equals<IsAny<Awaited2<ReturnType<Workspaces["create"]>>>, false>>();
assert<Equals<IsAny<Awaited2<ReturnType<Workspaces["get"]>>>, false>>();
assert<Equals<IsAny<Awaited2<ReturnType<Workspaces["delete"]>>>, false>>();
assert<Equals<IsAny<Awaited2<ReturnType<Workspaces["runtime"]>>>, false>>();
assert<Equals<IsAny<Awaited2<ReturnType<RuntimeFiles["list"]>>>, false>>();
assert<Equals<IsAny<Awaited2<ReturnType<RuntimeFiles["read"]>>>, false>>();
assert<Equals<IsAny<Awaited2<ReturnType<RuntimeExec["run"]>>>, false>>();
assert<Equals<IsAny<Awaited2<ReturnType<RuntimeTerminals["create"]>>>, false>>();
assert<Equals<IsAny<Awaited2<ReturnType<RuntimeTerminals["list"]>>>, false>>();
assert<Equals<IsAny<Awaited2<ReturnType<RuntimeWatchers["create"]>>>, false>>();
assert<Equals<IsAny<Parameters<Terminal["resize"]>[0]>, false>>();
assert<Equals<IsAny<Parameters<Terminal["write"]>[0]>, false>>();
assert<Equals<IsAny<RuntimeConnection["state"]>, false>>();
assert<Equals<IsAny<Parameters<typeof isOblienError>[0]>, false>>();
assert<Equals<Parameters<typeof isOblienError>[0], unknown>>();
assert<Equals<IsAny<OblienError["code"]>, false>>();
assert<Equals<IsAny<Workspace["status"]>, false>>();
// Workspace is open to extra fields from the server, typed `unknown` (not `any`).
declare const someWorkspace: Workspace;
expectType<unknown>()(someWorkspace["future_field"]);

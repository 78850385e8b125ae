//! TypeScript declarations for the option and result objects (the `.d.ts` has no `any` here).

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** Options of `new OblienUserClient(options)`. Never pass an API key: it is refused. */
export interface OblienUserClientOptions {
  /** The scoped JWT minted by your backend with `POST /tokens`: the only credential held. */
  token: string;
  /** Oblien API origin. Default `"https://api.oblien.com"`. */
  baseUrl?: string;
  /** Workspace gateway origin. Default `"https://workspace.oblien.com"`. */
  gatewayUrl?: string;
  /** Returns a fresh scoped token from your backend. Called once however many calls wait. */
  refresh?: (ctx: RefreshContext) => Promise<string> | string;
  /** Refresh this many seconds before expiry. Default `min(60, lifetime / 4)`. */
  refreshMarginSeconds?: number;
  /** Per-request timeout in ms. Default 30000. */
  timeoutMs?: number;
  /** After every token change (refresh or `setToken`), from a microtask. */
  onTokenChange?: (info: TokenInfo) => void;
  /** After every failed refresh, from a microtask. */
  onRefreshError?: (err: OblienError) => void;
  /**
   * Share one refresh with the other tabs of this origin that hold the same identity (scope,
   * namespace or workspace, label): one tab calls `refresh`, the token reaches the others over a
   * BroadcastChannel, in memory only. `name` separates groups further (two apps on one origin).
   * Default `false`.
   */
  crossTab?: boolean | { name?: string };
}

export type RefreshReason = "expiring" | "expired" | "unauthorized";

export interface RefreshContext {
  reason: RefreshReason;
  /** The current token's info (`null` if none is held). */
  tokenInfo: TokenInfo | null;
  /** Aborted when the client gives up on this refresh (15 s) or is disposed. */
  signal: AbortSignal;
}

/** What the session token says. Never contains the token itself. */
export interface TokenInfo {
  /** A session token is namespace- or workspace-scoped, never a gateway token. */
  scope: "namespace" | "workspace";
  namespace?: string;
  workspaceId?: string;
  label?: string;
  /** The server's `iat`. */
  issuedAt?: Date;
  /** The local deadline: receipt time + the token's lifetime (`exp − iat`). */
  expiresAt: Date;
  /** Whole seconds left. */
  expiresIn: number;
  /** The token's whole lifetime in seconds (`exp − iat`). */
  lifetimeSeconds: number;
  /** When the client starts refreshing: `expiresAt − refreshMarginSeconds`. */
  refreshAt: Date;
  /** Which path brought the token: the constructor, this tab's refresh, `setToken`, or another
   * tab of the `crossTab` group. */
  source: "initial" | "refresh" | "setToken" | "tab";
}

/** What a workspace's gateway token says (`runtime.tokenInfo`). Never contains the token. */
export interface GatewayTokenInfo {
  scope: "gateway";
  /** The workspace the gateway token reaches. */
  workspaceId?: string;
  /** The server's `iat`. */
  issuedAt?: Date;
  /** The local deadline: receipt time + the token's lifetime (`exp − iat`). */
  expiresAt: Date;
  /** Whole seconds left. */
  expiresIn: number;
  /** The token's whole lifetime in seconds (`exp − iat`). */
  lifetimeSeconds: number;
  /** When a call made then renews it first: `expiresAt − min(60 s, lifetime / 4)`. */
  refreshAt: Date;
}

export interface CallOptions {
  signal?: AbortSignal;
}

export type WorkspaceStatus = "creating" | "running" | "stopped" | (string & {});

export interface ListWorkspacesOptions extends CallOptions {
  page?: number;
  limit?: number;
  status?: WorkspaceStatus;
}

export interface WorkspaceConfig {
  cpus?: number;
  memory_mb?: number;
  disk_size_mb?: number;
  ttl?: string | number;
  env?: Record<string, string>;
  [key: string]: unknown;
}

export interface CreateWorkspaceParams {
  image: string;
  name?: string;
  slug?: string;
  mode?: "permanent" | "temporary";
  idempotency_key?: string;
  config?: WorkspaceConfig;
}

export interface WorkspaceProvisioning {
  state: "queued" | "running" | "ready" | "failed";
  phase: string | null;
  message: string | null;
  error: string | null;
}

export interface Workspace {
  id: string;
  name: string;
  slug: string;
  status: WorkspaceStatus;
  ready: boolean;
  image: string;
  /** The namespace slug; `null` for a personal workspace. */
  namespace: string | null;
  mode: "permanent" | "temporary";
  provisioning: WorkspaceProvisioning;
  resources: { cpus: number; memory_mb: number; disk_size_mb: number };
  created_at: string;
  updated_at: string;
  [key: string]: unknown;
}

export interface WorkspaceList {
  success: true;
  workspaces: Workspace[];
  total: number;
  page: number;
  limit: number;
}

export interface DeleteWorkspaceResult {
  success: true;
  id?: string;
  deleted?: boolean;
}

export interface HealthResult {
  status: "ok" | (string & {});
}

export interface PathOptions extends CallOptions {
  /** An absolute path in the workspace, passed as given (query-encoded). */
  path: string;
}

export interface ListFilesOptions extends PathOptions {
  /** Every descendant, not only direct children. */
  nested?: boolean;
}

export interface WriteFileOptions extends PathOptions {
  content: string;
  /** Create missing parent directories. */
  createDirs?: boolean;
  /** Append instead of replacing. */
  append?: boolean;
}

export interface FileEntry {
  name: string;
  path: string;
  type: "file" | "directory" | "symlink";
  size: number;
  modified: string;
  extension?: string;
  content?: string;
  hash?: string;
  /** With `nested` (not `flatten`): the directory's entries. */
  children?: FileEntry[];
}

export interface FileList {
  success: true;
  path: string;
  entries: FileEntry[];
  count: number;
}

export interface FileContent {
  success: true;
  path: string;
  content: string;
  size: number;
  /** Lines in the file. */
  lines?: number;
  extension?: string;
  start_line?: number;
  end_line?: number;
}

/** `runtime.info()`: `GET /runtime`. */
export interface RuntimeInfo {
  os: string;
  arch: string;
  cpus: number;
  home: string;
  shell: string;
  agent_sha256?: string;
  protocol_version?: number;
  capabilities?: string[];
  [key: string]: unknown;
}

export interface FileWriteResult {
  success: true;
  path: string;
  size: number;
}

export interface PathResult {
  success: true;
  path: string;
  deleted?: boolean;
}

export interface ExecOptions extends CallOptions {
  timeoutSeconds?: number;
}

export interface ExecResult {
  success: true;
  id: string;
  command: string[];
  status: string;
  exit_code: number;
  stdout: string;
  stderr: string;
  duration_ms?: number;
}

export type OblienErrorCode =
  | "invalid_token" | "token_expired" | "secret_not_allowed" | "network_error" | "timeout"
  | "aborted" | "rate_limited" | "refresh_failed" | "disposed" | "server_error"
  | "invalid_options" | "scope_denied" | "validation_error" | "missing_credentials"
  | "internal_api_disabled" | "workspace_not_running" | "resume_failed" | "closed"
  | "terminal_exited" | "buffer_full"
  | "not_found" | "forbidden" | "conflict" | (string & {});

/** Every rejection of this package. `instanceof Error`; `name === "OblienError"`. */
export interface OblienError extends Error {
  name: "OblienError";
  code: OblienErrorCode;
  /** HTTP status, when the server answered. */
  status?: number;
  /** Seconds to wait, from `Retry-After`. */
  retryAfter?: number;
  /** The server's `X-Request-Id`. */
  requestId?: string;
}
"#;

//! `client.workspaces.apiAccess`: the workspace's internal API server (status, enable, disable)
//! and its gateway token (rotate, reconnect). What each call means for the client's own gateway
//! tokens is decided in `core::gateway::Registry::access`; gateway tokens never reach the page.
//! The class is JS (js/views.js `ApiAccess`), its calls rows of `workspaces::run`: only types here.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** `apiAccess.status(id)`: the workspace's internal API server. */
export interface ApiAccessStatus {
  success: true;
  /** The internal server is on (gateway calls are possible). */
  enabled: boolean;
  /** It is on and the workspace is running. */
  running?: boolean;
  /** Its port inside the VM (9990). */
  port?: number;
  [key: string]: unknown;
}

/**
 * `apiAccess.enable(id)`, `rotateToken(id)`, `reconnect(id)`: the server's answer without its
 * `token` (the client keeps gateway tokens to itself and gives the new one to its runtime handles).
 */
export interface ApiAccessResult {
  success: true;
  /** `enable` / `disable`: the server's new state. */
  enabled?: boolean;
  [key: string]: unknown;
}
/**
 * `client.workspaces.apiAccess`: the workspace's internal API server (the one the gateway
 * reaches) and its gateway token. Gateway tokens stay inside the client: `enable`,
 * `rotateToken` and `reconnect` resolve without the `token` the API sends, and this client's
 * runtime handles of the workspace use the new token at once. The 30-day workspace token and
 * the raw connection token are not offered: a browser never holds a 30-day credential, and a
 * raw token only serves VM-to-VM traffic on a private network.
 */
export class ApiAccess {
    private constructor();
    free(): void;
    [Symbol.dispose](): void;
    /**
     * Disables the internal server (`POST …/disable`). From the call on, this client enables it
     * again only through `enable(id)`: runtime calls of the workspace, and `workspaces.runtime(id)`,
     * reject `internal_api_disabled` (403) without a request, where a mint would otherwise
     * enable it. Another client or tab is not bound by this: its `runtime(id)` enables it.
     */
    disable(id: string, options?: CallOptions): Promise<ApiAccessResult>;
    /**
     * Enables the internal server (`POST …/enable`) and lifts this client's own `disable`: the
     * runtime handles of the workspace work again, with the gateway token the server returned.
     * Resolves without that token.
     */
    enable(id: string, options?: CallOptions): Promise<ApiAccessResult>;
    /**
     * A rotation that also closes the workspace's WebSocket connections (`POST …/reconnect`);
     * this client's handles switch to the new token at once. Resolves without the token.
     */
    reconnect(id: string, options?: CallOptions): Promise<ApiAccessResult>;
    /**
     * Rotates the workspace's connection token (`POST …/token`): every earlier gateway token
     * stops working ("revoke all sessions"), for other clients at once; this client's handles
     * switch to the new token with no 401. Resolves without the token.
     */
    rotateToken(id: string, options?: CallOptions): Promise<ApiAccessResult>;
    /**
     * Whether the internal server is enabled and running (`GET …/runtime-api-access`).
     */
    status(id: string, options?: CallOptions): Promise<ApiAccessStatus>;
}
"#;

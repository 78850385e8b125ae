//! `runtime.proxy(port, host?)` (js/views.js `RuntimeProxy`): HTTP to a service listening inside
//! the workspace, through the gateway's `/proxy` (the gateway token in `Authorization`, the
//! target in `X-Oblien-Proxy-Target`), with the raw `Response` back.

use super::target::{raw_fetch, Target};
use crate::bindings::error::to_js;
use crate::bindings::views::opt;
use crate::core::proxy;
use crate::prelude::*;
use alloc::rc::Rc;
use js_sys::Promise;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/**
 * A port inside the workspace (`runtime.proxy(port)`).
 */
export class RuntimeProxy {
    private constructor();
    free(): void;
    [Symbol.dispose](): void;
    /**
     * A request to the service (`path` starts with `/`, query included): the raw `Response`,
     * whatever its status, once its headers are in (within `timeoutMs`). The gateway's own 401
     * (a rotated token) re-mints and replays once; the app's 401 is returned as it is.
     */
    fetch(path: string, init?: RequestInit): Promise<Response>;
    /**
     * `X-Oblien-Proxy-Target`: `"3000"`, or `"host:3000"`.
     */
    readonly target: string;
}
"#;

/// `X-Oblien-Proxy-Target` of `proxy(port, host)` (`"3000"`, or `"host:3000"`), checked before
/// any request; the error is thrown.
pub fn target(port: &JsValue, host: Option<String>) -> Result<JsValue, JsValue> {
    proxy::target(port.as_f64(), host.as_deref())
        .map(JsValue::from)
        .map_err(to_js)
}

/// `proxy(port).fetch(path, init)`: the raw `Response`, whatever its status, once its headers
/// are in. The gateway's own 401 (a rotated token) re-mints and replays once; the app's 401 is
/// returned as it is.
pub fn fetch(target: &Rc<Target>, path: JsValue, init: JsValue, proxy_target: JsValue) -> Promise {
    let proxy_target = proxy_target.as_string();
    raw_fetch(target, path, opt(init), proxy_target)
}

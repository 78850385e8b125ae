//! `runtime.proxy(port, host?)`: HTTP to a service listening inside the workspace, through the
//! gateway's `/proxy` (the gateway token in `Authorization`, the target in
//! `X-Oblien-Proxy-Target`), with the raw `Response` back.

use super::target::{raw_fetch, Target};
use crate::bindings::error::promise;
use crate::core::error::ClientError;
use crate::core::proxy;
use js_sys::Promise;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// A port inside the workspace (`runtime.proxy(port)`).
#[wasm_bindgen]
pub struct RuntimeProxy {
    target: Rc<Target>,
    proxy_target: String,
}

impl RuntimeProxy {
    pub fn new(
        target: Rc<Target>,
        port: &JsValue,
        host: Option<String>,
    ) -> Result<Self, ClientError> {
        let proxy_target = proxy::target(port.as_f64(), host.as_deref())?;
        Ok(RuntimeProxy {
            target,
            proxy_target,
        })
    }
}

#[wasm_bindgen]
impl RuntimeProxy {
    /// `X-Oblien-Proxy-Target`: `"3000"`, or `"host:3000"`.
    #[wasm_bindgen(getter)]
    pub fn target(&self) -> String {
        self.proxy_target.clone()
    }

    /// A request to the service (`path` starts with `/`, query included): the raw `Response`,
    /// whatever its status, once its headers are in (within `timeoutMs`). The gateway's own 401
    /// (a rotated token) re-mints and replays once; the app's 401 is returned as it is.
    #[wasm_bindgen(unchecked_return_type = "Promise<Response>")]
    pub fn fetch(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] path: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "RequestInit")] init: Option<JsValue>,
    ) -> Promise {
        let proxy_target = Some(self.proxy_target.clone());
        promise(raw_fetch(self.target.clone(), path, init, proxy_target))
    }
}

//! `runtime.exec`: commands in the workspace.

use super::Target;
use crate::bindings::convert::{invalid, json_object, Options};
use crate::bindings::error::promise;
use crate::core::api;
use crate::core::error::ClientError;
use js_sys::{Array, Promise};
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// `runtime.exec`.
#[wasm_bindgen]
pub struct RuntimeExec {
    target: Rc<Target>,
}

impl RuntimeExec {
    pub fn new(target: Rc<Target>) -> Self {
        RuntimeExec { target }
    }
}

/// `cmd` as a non-empty array of strings.
pub fn argv(cmd: JsValue, call: &str) -> Result<Array, ClientError> {
    cmd.dyn_into::<Array>()
        .ok()
        .filter(|a| a.length() > 0 && a.iter().all(|s| s.is_string()))
        .ok_or_else(|| invalid(call, "cmd", "a non-empty array of strings"))
}

#[wasm_bindgen]
impl RuntimeExec {
    /// Runs a command (argv form) and resolves with its exit code and output.
    #[wasm_bindgen(unchecked_return_type = "Promise<ExecResult>")]
    pub fn run(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string[]")] cmd: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "ExecOptions")] options: Option<JsValue>,
    ) -> Promise {
        const CALL: &str = "exec.run(cmd, options)";
        let target = self.target.clone();
        promise(async move {
            let argv = argv(cmd, CALL)?;
            let options = Options::read(options, CALL)?;
            let signal = options.signal()?;
            let mut pairs = vec![("cmd", JsValue::from(argv))];
            if let Some(seconds) = options.positive("timeoutSeconds")? {
                pairs.push(("timeout_seconds", JsValue::from_f64(seconds.ceil())));
            }
            let body = json_object(&pairs, CALL)?;
            target
                .call(api::post(target.url("/exec", &[]), body), signal)
                .await
        })
    }
}

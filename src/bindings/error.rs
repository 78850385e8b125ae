//! `ClientError` → a JS `OblienError` (a real `Error` subclass defined in `js/oblien_error.js`),
//! and promises that reject with it.

use crate::core::error::ClientError;
use crate::core::flight::Flight;
use crate::prelude::*;
use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/js/oblien_error.js")]
extern "C" {
    #[wasm_bindgen(js_name = makeOblienError)]
    fn make_oblien_error(
        code: &str,
        message: &str,
        status: Option<u16>,
        retry_after: Option<u32>,
        request_id: Option<String>,
    ) -> JsValue;
    #[wasm_bindgen(js_name = isOblienError)]
    fn is_oblien_error_js(value: &JsValue) -> bool;
}

pub fn to_js(error: ClientError) -> JsValue {
    make_oblien_error(
        &error.code,
        &error.message,
        error.status,
        error.retry_after,
        error.request_id,
    )
}

/// `true` when `value` is an error thrown or rejected by this package.
#[wasm_bindgen(js_name = isOblienError, unchecked_return_type = "value is OblienError")]
pub fn is_oblien_error(#[wasm_bindgen(unchecked_param_type = "unknown")] value: &JsValue) -> bool {
    is_oblien_error_js(value)
}

/// The promise a call started, or one rejected with the error that stopped it first.
pub fn or_rejected(started: Result<Promise, ClientError>) -> Promise {
    started.unwrap_or_else(|error| Promise::reject(&to_js(error)))
}

/// What a flight's outcome makes a promise: its value (`Ok`), or what it rejects with (`Err`).
pub type Settle = Box<dyn FnOnce(&Result<(), ClientError>) -> Result<JsValue, JsValue>>;

/// A promise settled by `flight`'s outcome, as `settle` says: a refresh to wait for, as JS sees
/// it (no Rust future, no executor in the wasm).
pub fn when_done(flight: &Flight, settle: Settle) -> Promise {
    let mut settle = Some(settle);
    Promise::new(&mut |resolve: Function, reject: Function| {
        let Some(settle) = settle.take() else {
            return;
        };
        flight.on_complete(Box::new(move |outcome| {
            let _ = match settle(outcome) {
                Ok(value) => resolve.call1(&JsValue::UNDEFINED, &value),
                Err(error) => reject.call1(&JsValue::UNDEFINED, &error),
            };
        }));
    })
}

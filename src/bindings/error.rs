//! `ClientError` → a JS `OblienError` (a real `Error` subclass defined in `js/oblien_error.js`),
//! and promises that reject with it.

use crate::core::error::ClientError;
use crate::core::runtime::LocalFuture;
use crate::prelude::*;
use core::future::Future;
use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

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

/// A promise settled by `fut`; a `ClientError` rejects it as an `OblienError`. Boxed, so that
/// `future_to_promise` and its machinery exist once in the wasm, not once per method.
pub fn promise(fut: impl Future<Output = Result<JsValue, ClientError>> + 'static) -> Promise {
    settle(Box::pin(fut))
}

fn settle(fut: LocalFuture<Result<JsValue, ClientError>>) -> Promise {
    future_to_promise(async move { fut.await.map_err(to_js) })
}

//! `ClientError` → a JS `OblienError` (a real `Error` subclass defined in `js/oblien_error.js`).

use crate::core::error::{codes, ClientError};
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

pub fn invalid_options(message: &str) -> JsValue {
    to_js(ClientError::new(codes::INVALID_OPTIONS, message))
}

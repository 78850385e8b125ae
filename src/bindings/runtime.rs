//! The browser's clock, timers and task spawner behind the core's `Runtime` trait.

use crate::core::runtime::{LocalFuture, Runtime};
use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    /// `setTimeout` of whatever global scope runs us (window or worker).
    #[wasm_bindgen(js_name = setTimeout)]
    pub fn set_timeout(handler: &Function, ms: f64) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    pub fn clear_timeout(handle: &JsValue);
    #[wasm_bindgen(js_name = queueMicrotask)]
    pub fn queue_microtask(callback: &Function);
}

pub struct BrowserRuntime;

/// Longest delay `setTimeout` accepts (2^31 − 1 ms).
pub const MAX_TIMEOUT_MS: f64 = 2_147_483_647.0;

impl Runtime for BrowserRuntime {
    fn now_ms(&self) -> f64 {
        js_sys::Date::now()
    }

    fn random(&self) -> f64 {
        js_sys::Math::random()
    }

    fn sleep(&self, ms: f64) -> LocalFuture<()> {
        let ms = ms.clamp(0.0, MAX_TIMEOUT_MS);
        let promise = Promise::new(&mut |resolve, _reject| {
            set_timeout(&resolve, ms);
        });
        Box::pin(async move {
            let _ = JsFuture::from(promise).await;
        })
    }

    fn spawn(&self, task: LocalFuture<()>) {
        wasm_bindgen_futures::spawn_local(task);
    }
}

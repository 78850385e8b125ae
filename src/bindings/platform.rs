//! The browser behind the core's `Runtime`: `Date.now`, `performance.now`, timers that cancel
//! when dropped, and `spawn_local`.

use crate::core::runtime::{LocalFuture, Runtime};
use js_sys::Function;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// `queueMicrotask` of whatever global scope runs us (window or worker).
    #[wasm_bindgen(js_name = queueMicrotask)]
    pub fn queue_microtask(callback: &Function);
    /// `performance.now()`, read from the global scope (window or worker).
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

/// Longest delay `setTimeout` accepts (2^31 − 1 ms).
pub const MAX_TIMEOUT_MS: f64 = 2_147_483_647.0;

/// A delay for `setTimeout`: whole ms within what it accepts (NaN → 0).
pub fn timer_delay(ms: f64) -> u32 {
    if ms > 0.0 {
        ms.min(MAX_TIMEOUT_MS) as u32
    } else {
        0
    }
}

pub struct BrowserPlatform;

impl Runtime for BrowserPlatform {
    fn now_ms(&self) -> f64 {
        js_sys::Date::now()
    }

    fn monotonic_ms(&self) -> f64 {
        performance_now()
    }

    fn random(&self) -> f64 {
        js_sys::Math::random()
    }

    fn sleep(&self, ms: f64) -> LocalFuture<()> {
        Box::pin(gloo_timers::future::TimeoutFuture::new(timer_delay(ms)))
    }

    fn spawn(&self, task: LocalFuture<()>) {
        wasm_bindgen_futures::spawn_local(task);
    }
}

//! The browser behind the core's `Runtime`: `Date.now`, `performance.now`, and the session's
//! refresh timer and page-lifecycle listeners in `js/lifecycle.js`, stopped when their Rust owner
//! drops. (The core's waits are JS's: js/fetch.js `call`, `error::when_done`.)

use crate::core::runtime::Runtime;
use js_sys::Function;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// `performance.now()`, read from the global scope (window or worker).
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

#[wasm_bindgen(module = "/js/lifecycle.js")]
extern "C" {
    /// A session's refresh timer, page-lifecycle listeners and event delivery (js/lifecycle.js).
    pub type Lifecycle;
    #[wasm_bindgen(js_name = lifecycle)]
    pub fn new_lifecycle(
        rust: &Function,
        on_token_change: Option<Function>,
        on_refresh_error: Option<Function>,
    ) -> Lifecycle;
    /// The next check in `ms`; none when negative.
    #[wasm_bindgen(method)]
    pub fn arm(this: &Lifecycle, ms: f64);
    /// An event for the app from a microtask: 0 the token changed, 1 a refresh failed.
    #[wasm_bindgen(method)]
    pub fn emit(this: &Lifecycle, kind: u32, error: JsValue);
    #[wasm_bindgen(method)]
    pub fn stop(this: &Lifecycle);
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
}

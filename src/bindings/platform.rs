//! The browser behind the core's `Runtime`: `Date.now`, `performance.now`, and the
//! timers and listeners of `js/lifecycle.js` (sleeps, abort waits, the session's refresh timer and
//! page-lifecycle listeners), each stopped when its Rust owner drops.

use crate::core::runtime::{LocalFuture, Runtime};
use crate::prelude::*;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::AbortSignal;

#[wasm_bindgen]
extern "C" {
    /// `performance.now()`, read from the global scope (window or worker).
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

#[wasm_bindgen(module = "/js/lifecycle.js")]
extern "C" {
    /// A promise with `stop()`: a sleep's or an abort wait's (js/lifecycle.js).
    #[wasm_bindgen(extends = Promise)]
    #[derive(Clone)]
    pub type Wait;
    #[wasm_bindgen(method)]
    fn stop(this: &Wait);
    #[wasm_bindgen(js_name = sleep)]
    fn sleep_for(ms: u32) -> Wait;
    /// Resolves when `signal` aborts.
    pub fn aborted(signal: &AbortSignal) -> Wait;

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

/// A [`Wait`] as a future; dropping it stops the wait (its timer cleared, its listener removed).
pub struct Waiting {
    future: JsFuture,
    wait: Wait,
}

impl Waiting {
    pub fn new(wait: Wait) -> Self {
        Waiting {
            future: JsFuture::from(Promise::from(wait.clone())),
            wait,
        }
    }
}

impl Future for Waiting {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.future).poll(cx).map(|_| ())
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        self.wait.stop();
    }
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
        Box::pin(Waiting::new(sleep_for(timer_delay(ms))))
    }
}

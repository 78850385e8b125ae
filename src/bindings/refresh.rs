//! A token cell's refresh call (`core::cell::Refresh`), driven by js/cross_tab.js `refresh`: the JS
//! loop awaits the source's promises under the 15 s limit and asks this file's `step` what each
//! means; whether the call is wanted, the limit, the answers' meaning and the outcome stay in
//! Rust. No Rust future per refresh: the sources (the host's callback, its tab group, a mint) are
//! promises started here.

use super::views;
use crate::core::cell::{timed_out, Refresh};
use crate::core::error::ClientError;
use crate::core::policy;
use crate::core::runtime::Fetched;
use alloc::rc::Rc;
use js_sys::Promise;
use wasm_bindgen::prelude::*;
use web_sys::AbortSignal;

#[wasm_bindgen(module = "/js/cross_tab.js")]
extern "C" {
    /// One refresh call, asking `step` (js/cross_tab.js `refresh`).
    #[wasm_bindgen(js_name = refresh)]
    fn js_refresh(step: &JsValue, ms: f64);
}

/// What a source's answer leads to.
pub enum Answer {
    /// Another promise to await (a mint's second request).
    Next(Promise),
    Token(Fetched),
}

/// One source's I/O in a refresh call.
pub trait Io {
    /// Starts the source (`signal` aborts when the call ends): a promise of its answer.
    fn begin(&self, call: &Refresh, signal: AbortSignal) -> Result<Promise, ClientError>;
    /// What a settled promise means (`resolved` with `value`, or rejected with it).
    fn answer(&self, call: &Refresh, value: JsValue, resolved: bool)
        -> Result<Answer, ClientError>;
}

struct Running {
    io: Rc<dyn Io>,
    /// Dropped with the step (js/cross_tab.js lets go of it once the call is over).
    call: Refresh,
}

/// Runs `call` with `io`.
pub fn run(io: Rc<dyn Io>, call: Refresh) {
    let step = views::dispatch(Rc::new(Running { io, call }), step);
    js_refresh(&step, policy::HOST_TIMEOUT_MS);
}

/// What js/cross_tab.js `refresh` asks: 2 `begin` (unless the call is no longer wanted), 3 an
/// answer (`how`: 0 rejected, 1 resolved, 2 not settled in time). A promise to await next, or
/// nothing: the call is over.
fn step(running: &Rc<Running>, op: u32, value: JsValue, how: JsValue, _: JsValue) -> JsValue {
    let (io, call) = (&running.io, &running.call);
    let next = match (op, how.as_f64()) {
        (2, _) if !call.wanted() => return JsValue::UNDEFINED,
        (2, _) => io.begin(call, value.unchecked_into()).map(Answer::Next),
        (_, Some(how)) if how > 1.0 => Err(timed_out()),
        (_, how) => io.answer(call, value, how == Some(1.0)),
    };
    match next {
        Ok(Answer::Next(promise)) => return promise.into(),
        Ok(Answer::Token(fetched)) => call.finish(Ok(fetched)),
        Err(error) => call.finish(Err(error)),
    }
    JsValue::UNDEFINED
}

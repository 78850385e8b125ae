//! The host app's refresh callback as a `TokenSource`: called with a `RefreshContext`, awaited
//! (sync values and promises alike), and its answer checked before the core sees it.

use super::abort::any;
use super::convert::{set, token_info};
use crate::core::cell::TokenCell;
use crate::core::error::{codes, ClientError};
use crate::core::runtime::{Fetched, LocalFuture, RefreshReason, TokenSource};
use crate::core::token::decode_session;
use js_sys::{Function, Object, Promise};
use std::cell::RefCell;
use std::rc::Weak;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, AbortSignal};

pub struct HostRefresh {
    pub callback: Function,
    /// `refreshMarginSeconds`, for `ctx.tokenInfo.refreshAt`.
    pub margin_secs: Option<f64>,
    /// The session cell, for `ctx.tokenInfo` (weak: the cell owns this source).
    pub cell: RefCell<Weak<TokenCell>>,
    /// Aborted on dispose, so `ctx.signal` tells the host to stop.
    pub dispose_signal: AbortSignal,
}

fn failed(prefix: &str, detail: &str) -> ClientError {
    let mut message = String::from(prefix);
    message.push_str(detail);
    ClientError::new(codes::REFRESH_FAILED, message)
}

/// What a thrown value says, without ever echoing something that looks like a token.
fn describe(value: &JsValue) -> String {
    let message = value
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| value.as_string())
        .unwrap_or_default();
    // A byte window, not `str::contains`: that links the generic searcher (~5 KB of wasm).
    if message.len() > 200 || message.as_bytes().windows(3).any(|w| w == b"eyJ") {
        String::from("(message withheld)")
    } else {
        message
    }
}

/// Aborts `ctx.signal` when the refresh is abandoned (timeout, dispose) or done.
struct AbortOnDrop(AbortController);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl TokenSource for HostRefresh {
    fn fetch(&self, reason: RefreshReason) -> LocalFuture<Result<Fetched, ClientError>> {
        let callback = self.callback.clone();
        let held = self.cell.borrow().upgrade().and_then(|c| c.token());
        let dispose = self.dispose_signal.clone();
        let margin = self.margin_secs;
        Box::pin(async move {
            let own = AbortController::new()
                .map_err(|_| failed("Cannot create an AbortController", ""))?;
            let signal = any(&[&dispose, &own.signal()]);
            let _guard = AbortOnDrop(own);
            let ctx = Object::new();
            set(&ctx, "reason", &JsValue::from_str(reason.as_str()));
            let info = held.map_or(JsValue::NULL, |h| {
                token_info(&h, js_sys::Date::now(), margin)
            });
            set(&ctx, "tokenInfo", &info);
            set(&ctx, "signal", &signal);
            let returned = callback
                .call1(&JsValue::NULL, &ctx)
                .map_err(|e| failed("The refresh callback threw: ", &describe(&e)))?;
            let value = JsFuture::from(Promise::resolve(&returned))
                .await
                .map_err(|e| failed("The refresh callback rejected: ", &describe(&e)))?;
            let Some(secret) = value.as_string() else {
                let kind = value.js_typeof().as_string().unwrap_or_default();
                return Err(failed(
                    "The refresh callback must return a token string, not ",
                    &kind,
                ));
            };
            let claims = decode_session(&secret).map_err(|e| {
                failed(
                    "The refresh callback returned an unusable token: ",
                    &e.message,
                )
            })?;
            Ok(Fetched::new(secret, claims))
        })
    }
}

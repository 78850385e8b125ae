//! The host app's refresh callback as a `TokenSource`. Its call, await and type check are one
//! crossing into `js/cross_tab.js` (`callHost`; with `crossTab`, its `Group` calls it under the
//! group's lock); the answer is decoded and checked here before the core sees it.

use super::convert::token_info;
use crate::core::cell::TokenCell;
use crate::core::error::{codes, ClientError};
use crate::core::runtime::{Fetched, LocalFuture, RefreshReason, TokenSource};
use crate::core::token::{decode_session, Source};
use js_sys::{Function, Promise};
use std::cell::RefCell;
use std::rc::Weak;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, AbortSignal};

#[wasm_bindgen(module = "/js/cross_tab.js")]
extern "C" {
    /// Resolves with the callback's token string; rejects with a `refresh_failed` message.
    #[wasm_bindgen(js_name = callHost)]
    fn call_host(
        callback: &Function,
        reason: &str,
        token_info: &JsValue,
        dispose: &AbortSignal,
        own: &AbortSignal,
    ) -> Promise;
}

pub struct HostRefresh {
    pub callback: Function,
    /// `refreshMarginSeconds`, for `ctx.tokenInfo.refreshAt`.
    pub margin_secs: Option<f64>,
    /// The session cell, for `ctx.tokenInfo` (weak: the cell owns this source).
    pub cell: RefCell<Weak<TokenCell>>,
    /// Aborted on dispose, so `ctx.signal` tells the host to stop.
    pub dispose_signal: AbortSignal,
}

fn failed(message: String) -> ClientError {
    ClientError::new(codes::REFRESH_FAILED, message)
}

/// Aborts `ctx.signal` (and the group's waits) when the refresh is abandoned (timeout) or done.
struct AbortOnDrop(AbortController);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl HostRefresh {
    /// A refresh's JS side, `start`ed with the signal this refresh owns, awaited: the host's token
    /// (a string), or, when `start` says so with no string, the token the group renewed since
    /// `generation`. One state machine in the wasm for both sources.
    pub fn settle(
        &self,
        generation: u64,
        start: impl FnOnce(&Function, &AbortSignal, &AbortSignal) -> Promise,
    ) -> LocalFuture<Result<Fetched, ClientError>> {
        let started = AbortController::new()
            .map(|own| {
                let promise = start(&self.callback, &self.dispose_signal, &own.signal());
                (JsFuture::from(promise), AbortOnDrop(own))
            })
            .map_err(|_| failed(String::from("Cannot create an AbortController")));
        answer(started, self.cell.borrow().clone(), generation)
    }
}

/// [`HostRefresh::settle`]'s wait (not generic: one state machine in the wasm).
fn answer(
    started: Result<(JsFuture, AbortOnDrop), ClientError>,
    cell: Weak<TokenCell>,
    generation: u64,
) -> LocalFuture<Result<Fetched, ClientError>> {
    Box::pin(async move {
        let (answer, _guard) = started?;
        let value = answer
            .await
            .map_err(|e| failed(e.as_string().unwrap_or_default()))?;
        let Some(secret) = value.as_string() else {
            // Another tab refreshed: its token is already held (the result is not used then:
            // the cell's generation moved on).
            let cell = cell.upgrade().ok_or_else(ClientError::disposed)?;
            return match cell.token() {
                Some(held) if cell.generation() != generation => Ok(Fetched {
                    secret: held.secret,
                    claims: held.claims,
                    source: Source::Tab,
                }),
                _ => Err(ClientError::expired()),
            };
        };
        let claims = decode_session(&secret).map_err(|e| {
            let mut message = String::from("The refresh callback returned an unusable token: ");
            message.push_str(&e.message);
            failed(message)
        })?;
        Ok(Fetched::new(secret, claims))
    })
}

impl TokenSource for HostRefresh {
    fn fetch(&self, reason: RefreshReason) -> LocalFuture<Result<Fetched, ClientError>> {
        let held = self.cell.borrow().upgrade().and_then(|c| c.token());
        let info = held.map_or(JsValue::NULL, |h| {
            token_info(&h, js_sys::Date::now(), self.margin_secs)
        });
        self.settle(0, |callback, dispose, own| {
            call_host(callback, reason.as_str(), &info, dispose, own)
        })
    }
}

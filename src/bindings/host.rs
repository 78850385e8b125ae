//! The host app's refresh callback as a `TokenSource`, alone or behind its tab group's lock
//! (`crossTab`). Its call, await and type check are one crossing into `js/cross_tab.js`
//! (`callHost`; with `crossTab`, its `Group` calls it under the group's lock), run by a refresh
//! call (`refresh.rs`); the answer is decoded and checked here before the core sees it.

use super::convert::token_info;
use super::cross_tab::CrossTab;
use super::refresh::{self, Answer, Io};
use crate::core::cell::{Refresh, TokenSource};
use crate::core::error::{codes, ClientError};
use crate::core::runtime::Fetched;
use crate::core::token::{decode_session, Source};
use crate::prelude::*;
use alloc::rc::Rc;
use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use web_sys::AbortSignal;

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
    /// Aborted on dispose, so `ctx.signal` tells the host to stop.
    pub dispose_signal: AbortSignal,
    /// The tab group (`crossTab`): the callback is called behind its lock.
    pub tab: Option<Rc<CrossTab>>,
}

fn failed(message: String) -> ClientError {
    ClientError::new(codes::REFRESH_FAILED, message)
}

impl TokenSource for HostRefresh {
    fn start(self: Rc<Self>, call: Refresh) {
        refresh::run(self, call);
    }
}

impl Io for HostRefresh {
    fn begin(&self, call: &Refresh, own: AbortSignal) -> Result<Promise, ClientError> {
        let reason = call.reason.as_str();
        Ok(match &self.tab {
            Some(tab) => tab.refresh(
                call.generation(),
                &self.callback,
                reason,
                &self.dispose_signal,
                &own,
            ),
            None => {
                let held = call.cell().token();
                let info = held.map_or(JsValue::NULL, |h| {
                    token_info(&h, js_sys::Date::now(), self.margin_secs)
                });
                call_host(&self.callback, reason, &info, &self.dispose_signal, &own)
            }
        })
    }

    /// The host's token (a string), or, with no string, the token the group renewed since the
    /// call started.
    fn answer(
        &self,
        call: &Refresh,
        value: JsValue,
        resolved: bool,
    ) -> Result<Answer, ClientError> {
        if !resolved {
            return Err(failed(value.as_string().unwrap_or_default()));
        }
        let Some(secret) = value.as_string() else {
            // Another tab refreshed: its token is already held (the result is not used then:
            // the cell's generation moved on).
            let cell = call.cell();
            return match cell.token() {
                Some(held) if cell.generation() != call.generation() => {
                    Ok(Answer::Token(Fetched {
                        secret: held.secret,
                        claims: held.claims,
                        source: Source::Tab,
                    }))
                }
                _ => Err(ClientError::expired()),
            };
        };
        let claims = decode_session(&secret).map_err(|e| {
            let mut message = String::from("The refresh callback returned an unusable token: ");
            message.push_str(&e.message);
            failed(message)
        })?;
        Ok(Answer::Token(Fetched::new(secret, claims)))
    }
}

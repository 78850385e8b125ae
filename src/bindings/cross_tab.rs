//! `crossTab`: the tabs of one origin that hold the same identity form a group on a
//! BroadcastChannel; when the group's token needs a refresh, one tab (the Web Lock's holder) calls
//! its host and the token reaches the others over the channel, in memory only: never storage,
//! cookies or a URL. The channel, its listener, the lock and the waits are `js/cross_tab.js`'s;
//! it asks every decision here (`decide`), and they are `core::crosstab`'s and the cell's.

use super::convert::token_info;
use crate::core::cell::TokenCell;
use crate::core::crosstab::{self, GroupMessage};
use crate::core::policy;
use crate::core::token::decode_session;
use crate::prelude::*;
use alloc::rc::{Rc, Weak};
use core::cell::RefCell;
use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use web_sys::AbortSignal;

#[wasm_bindgen(module = "/js/cross_tab.js")]
extern "C" {
    #[wasm_bindgen(js_name = crossTabSupported)]
    fn cross_tab_supported() -> bool;

    type Group;
    #[wasm_bindgen(constructor)]
    fn new(rust: &Function) -> Group;
    #[wasm_bindgen(method)]
    fn follow(this: &Group, name: Option<String>, hello: &str);
    #[wasm_bindgen(method)]
    fn post(this: &Group, text: &str);
    #[wasm_bindgen(method)]
    fn leave(this: &Group);
    #[wasm_bindgen(method)]
    fn end(this: &Group);
    #[wasm_bindgen(method)]
    fn refresh(
        this: &Group,
        generation: f64,
        wait_ms: f64,
        callback: &Function,
        reason: &str,
        dispose: &AbortSignal,
        own: &AbortSignal,
    ) -> Promise;
}

/// This client's place in its group.
pub struct CrossTab {
    name: String,
    cell: RefCell<Weak<TokenCell>>,
    js: Group,
    _decide: Closure<dyn Fn(u32, JsValue) -> JsValue>,
}

impl CrossTab {
    /// `None` when the browser lacks Web Locks or BroadcastChannel (`client.crossTab` says so).
    pub fn new(name: String) -> Option<Rc<Self>> {
        cross_tab_supported().then(|| {
            Rc::new_cyclic(|weak: &Weak<CrossTab>| {
                let weak = weak.clone();
                let decide = Closure::<dyn Fn(u32, JsValue) -> JsValue>::new(move |op, value| {
                    weak.upgrade()
                        .map_or(JsValue::UNDEFINED, |tab| tab.decide(op, value))
                });
                CrossTab {
                    name,
                    cell: RefCell::new(Weak::new()),
                    js: Group::new(decide.as_ref().unchecked_ref()),
                    _decide: decide,
                }
            })
        })
    }

    pub fn attach(&self, cell: &Rc<TokenCell>) {
        self.cell.replace(Rc::downgrade(cell));
        self.follow_identity();
    }

    /// Joins the group of the held token's identity (leaving another one), and says hello.
    pub fn follow_identity(&self) {
        let cell = self.cell.borrow().upgrade();
        let group = cell
            .and_then(|c| c.token())
            .map(|held| crosstab::group_name(&self.name, &held.claims));
        self.js.follow(group, &GroupMessage::Hello.encode());
    }

    /// What `js/cross_tab.js` asks (see its head).
    fn decide(&self, op: u32, value: JsValue) -> JsValue {
        let Some(cell) = self.cell.borrow().upgrade() else {
            return JsValue::UNDEFINED;
        };
        let held = cell.token();
        let text = value.as_string();
        match op {
            0 => held.map_or(JsValue::NULL, |h| {
                token_info(&h, js_sys::Date::now(), cell.margin_secs())
            }),
            1 => JsValue::from_bool(
                held.is_some() && value.as_f64() != Some(cell.generation() as f64),
            ),
            2 => match text.as_deref().and_then(GroupMessage::decode) {
                // A tab joined: answer with the held token.
                Some(GroupMessage::Hello) => {
                    held.map(|h| GroupMessage::Token(h.secret).encode()).into()
                }
                Some(GroupMessage::Token(secret)) => {
                    // Another identity's token never enters (the channel is per identity, and
                    // this checks again).
                    if let Ok(claims) = decode_session(&secret) {
                        cell.adopt(secret, claims);
                    }
                    JsValue::UNDEFINED
                }
                None => JsValue::UNDEFINED,
            },
            // The host's token goes to the group only when it is one a tab can take.
            _ => text
                .filter(|t| decode_session(t).is_ok())
                .map(|t| GroupMessage::Token(t).encode())
                .into(),
        }
    }

    /// The host's refresh callback behind the group's lock, for a refresh call started at the
    /// cell's `generation`: one tab calls its host per token generation; the others wait for the
    /// lock and find the group's token already fresher (the promise resolves with no string).
    pub fn refresh(
        &self,
        generation: u64,
        callback: &Function,
        reason: &str,
        dispose: &AbortSignal,
        own: &AbortSignal,
    ) -> Promise {
        // Half the host's 15 s: a lock holder that froze costs a second host call, not a stall.
        let wait_ms = policy::HOST_TIMEOUT_MS / 2.0;
        self.js
            .refresh(generation as f64, wait_ms, callback, reason, dispose, own)
    }

    /// Shares a token this tab got (`setToken`) with the group.
    pub fn share(&self, secret: &str) {
        self.js
            .post(&GroupMessage::Token(secret.to_string()).encode());
    }

    pub fn leave(&self) {
        self.js.leave();
    }
}

impl Drop for CrossTab {
    fn drop(&mut self) {
        self.js.end();
    }
}

//! `crossTab`: the tabs of one origin that hold the same identity form a group on a
//! BroadcastChannel; when the group's token needs a refresh, one tab (the Web Lock's holder) calls
//! its host and the token reaches the others over the channel, in memory only: never storage,
//! cookies or a URL. Decisions in `core::crosstab`.

use super::host::HostRefresh;
use super::platform::BrowserPlatform;
use crate::core::cell::TokenCell;
use crate::core::crosstab::{self, GroupMessage};
use crate::core::error::ClientError;
use crate::core::policy;
use crate::core::runtime::{Fetched, LocalFuture, RefreshReason, Runtime, TokenSource};
use crate::core::token::{decode_session, Source};
use gloo_events::EventListener;
use js_sys::{Function, Promise};
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, JsFuture};
use web_sys::{BroadcastChannel, MessageEvent};

#[wasm_bindgen(module = "/js/cross_tab.js")]
extern "C" {
    #[wasm_bindgen(js_name = crossTabSupported)]
    fn cross_tab_supported() -> bool;
    #[wasm_bindgen(js_name = withLock)]
    fn with_lock(name: &str, timeout_ms: f64, task: &Function) -> Promise;
}

struct Membership {
    group: String,
    channel: BroadcastChannel,
    _listener: EventListener,
}

/// This client's place in its group.
pub struct CrossTab {
    name: String,
    cell: RefCell<Weak<TokenCell>>,
    membership: RefCell<Option<Membership>>,
}

impl CrossTab {
    /// `None` when the browser lacks Web Locks or BroadcastChannel (`client.crossTab` says so).
    pub fn new(name: String) -> Option<Rc<Self>> {
        cross_tab_supported().then(|| {
            Rc::new(CrossTab {
                name,
                cell: RefCell::new(Weak::new()),
                membership: RefCell::new(None),
            })
        })
    }

    pub fn attach(self: &Rc<Self>, cell: &Rc<TokenCell>) {
        self.cell.replace(Rc::downgrade(cell));
        self.follow_identity();
    }

    fn group(&self) -> Option<String> {
        let cell = self.cell.borrow().upgrade()?;
        let held = cell.token()?;
        Some(crosstab::group_name(&self.name, &held.claims))
    }

    /// Joins the group of the held token's identity (leaving another one), and says hello.
    pub fn follow_identity(self: &Rc<Self>) {
        let Some(group) = self.group() else {
            return self.leave();
        };
        if self
            .membership
            .borrow()
            .as_ref()
            .is_some_and(|m| m.group == group)
        {
            return;
        }
        self.leave();
        let Ok(channel) = BroadcastChannel::new(&group) else {
            return;
        };
        let weak = Rc::downgrade(self);
        let listener = EventListener::new(&channel, "message", move |event| {
            let Some(tab) = weak.upgrade() else { return };
            let text = event
                .dyn_ref::<MessageEvent>()
                .and_then(|e| e.data().as_string());
            if let Some(message) = text.as_deref().and_then(GroupMessage::decode) {
                tab.receive(message);
            }
        });
        let _ = channel.post_message(&JsValue::from_str(&GroupMessage::Hello.encode()));
        self.membership.replace(Some(Membership {
            group,
            channel,
            _listener: listener,
        }));
    }

    fn receive(&self, message: GroupMessage) {
        let Some(cell) = self.cell.borrow().upgrade() else {
            return;
        };
        match message {
            GroupMessage::Hello => {
                if let Some(held) = cell.token() {
                    self.post(&GroupMessage::Token(held.secret));
                }
            }
            GroupMessage::Token(secret) => {
                // Another identity's token never enters (the channel is per identity, and this
                // checks again).
                if let Ok(claims) = decode_session(&secret) {
                    cell.adopt(secret, claims);
                }
            }
        }
    }

    fn post(&self, message: &GroupMessage) {
        if let Some(m) = self.membership.borrow().as_ref() {
            let _ = m
                .channel
                .post_message(&JsValue::from_str(&message.encode()));
        }
    }

    /// Shares a token this tab got (its refresh, `setToken`) with the group.
    pub fn share(&self, secret: &str) {
        self.post(&GroupMessage::Token(secret.to_string()));
    }

    pub fn leave(&self) {
        if let Some(m) = self.membership.replace(None) {
            m.channel.close();
        }
    }

    fn lock_name(&self) -> Option<String> {
        let mut name = self.membership.borrow().as_ref()?.group.clone();
        name.push_str(":refresh");
        Some(name)
    }
}

impl Drop for CrossTab {
    fn drop(&mut self) {
        self.leave();
    }
}

/// The host's refresh callback behind the group's lock: one tab calls its host per token
/// generation; the others wait for the lock and find the group's token already fresher.
pub struct GroupRefresh {
    pub host: Rc<HostRefresh>,
    pub tab: Rc<CrossTab>,
}

/// After waiting for the lock, how long to wait for the holder's token: 40 × 25 ms.
const GROUP_TOKEN_WAITS: u32 = 40;
const GROUP_TOKEN_POLL_MS: f64 = 25.0;

/// Whether the cell already holds a token newer than the one a refresh was asked for.
fn renewed_since(cell: &TokenCell, generation: u64) -> bool {
    cell.generation() != generation
}

impl TokenSource for GroupRefresh {
    fn fetch(&self, reason: RefreshReason) -> LocalFuture<Result<Fetched, ClientError>> {
        let host = self.host.clone();
        let tab = self.tab.clone();
        Box::pin(async move {
            let (Some(cell), Some(lock)) = (tab.cell.borrow().upgrade(), tab.lock_name()) else {
                return host.fetch(reason).await;
            };
            let generation = cell.generation();
            let (fallback, fallback_tab) = (host.clone(), tab.clone());
            let outcome: Rc<RefCell<Option<Result<Fetched, ClientError>>>> = Rc::default();
            let slot = outcome.clone();
            let platform = BrowserPlatform;
            let task = Closure::once_into_js(move |waited: bool| {
                future_to_promise(async move {
                    // Another tab held the lock: it refreshed, and its token is on the way over the
                    // channel (the message may come just after the lock): wait for it a little.
                    if waited {
                        for _ in 0..GROUP_TOKEN_WAITS {
                            if renewed_since(&cell, generation) {
                                break;
                            }
                            platform.sleep(GROUP_TOKEN_POLL_MS).await;
                        }
                    }
                    let result = match cell.token() {
                        Some(held) if renewed_since(&cell, generation) => Ok(Fetched {
                            secret: held.secret,
                            claims: held.claims,
                            source: Source::Tab,
                        }),
                        _ => host
                            .fetch(reason)
                            .await
                            .inspect(|fetched| tab.share(&fetched.secret)),
                    };
                    slot.replace(Some(result));
                    Ok(JsValue::UNDEFINED)
                })
            });
            // Half the host's 15 s: a lock holder that froze costs a second host call, not a stall.
            let wait_ms = policy::HOST_TIMEOUT_MS / 2.0;
            let locked = JsFuture::from(with_lock(&lock, wait_ms, task.unchecked_ref())).await;
            match (locked, outcome.replace(None)) {
                (_, Some(result)) => result,
                (_, None) => {
                    let fetched = fallback.fetch(reason).await?;
                    fallback_tab.share(&fetched.secret);
                    Ok(fetched)
                }
            }
        })
    }
}

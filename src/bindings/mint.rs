//! A workspace's gateway token minted for a refresh call of its cell (`refresh.rs`): the requests
//! (the status, then the token or the enable) sent with the session token through js/fetch.js
//! `call`; `core::gateway::Registry` decides what each answer leads to.

use super::call::{api_started, Pending};
use super::refresh::{self, Answer, Io};
use super::session::Session;
use crate::core::cell::Refresh;
use crate::core::error::ClientError;
use crate::core::gateway::{Minted, Minter, Registry};
use crate::core::runtime::HttpRequest;
use crate::prelude::*;
use alloc::rc::{Rc, Weak};
use core::cell::{Cell, RefCell};
use js_sys::Promise;
use wasm_bindgen::prelude::*;
use web_sys::AbortSignal;

/// The session's registry mints with the session's token (given to `Session::new`).
pub fn session_minter(session: Weak<Session>) -> Rc<dyn Minter> {
    Rc::new(SessionMinter(session))
}

struct SessionMinter(Weak<Session>);

impl Minter for SessionMinter {
    fn mint(self: Rc<Self>, registry: Rc<Registry>, workspace_id: String, call: Refresh) {
        let minting = Minting {
            session: self.0.clone(),
            registry,
            workspace_id,
            status: Cell::new(true),
            sent: RefCell::new(None),
        };
        refresh::run(Rc::new(minting), call);
    }
}

/// One mint: whether the status is the answer awaited, and the request on the wire.
struct Minting {
    session: Weak<Session>,
    registry: Rc<Registry>,
    workspace_id: String,
    status: Cell<bool>,
    /// The request sent, and the refresh call's signal (for the next).
    sent: RefCell<Option<(Pending, AbortSignal)>>,
}

impl Minting {
    fn send(&self, request: HttpRequest, signal: AbortSignal) -> Result<Promise, ClientError> {
        let session = self.session.upgrade().ok_or_else(ClientError::disposed)?;
        let (promise, pending) = api_started(&session, &request, signal.clone())?;
        self.sent.replace(Some((pending, signal)));
        Ok(promise)
    }
}

impl Io for Minting {
    fn begin(&self, _: &Refresh, signal: AbortSignal) -> Result<Promise, ClientError> {
        self.send(self.registry.mint_begin(&self.workspace_id)?, signal)
    }

    fn answer(&self, _: &Refresh, value: JsValue, resolved: bool) -> Result<Answer, ClientError> {
        let (pending, signal) = self.sent.take().ok_or_else(ClientError::disposed)?;
        let text = pending.outcome(value, resolved)?;
        let status = self.status.replace(false);
        match self.registry.mint_next(&self.workspace_id, status, &text)? {
            Minted::Send(request) => self.send(request, signal).map(Answer::Next),
            Minted::Token(fetched) => Ok(Answer::Token(fetched)),
        }
    }
}

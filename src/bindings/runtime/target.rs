//! What a runtime handle and its views (`files`, `exec`, `search`, …) share: the session, the
//! workspace and its gateway token cell, and the one async path of the simple gateway calls.

use crate::bindings::call;
use crate::bindings::convert::{invalid, prepare, Options};
use crate::bindings::error::or_rejected;
use crate::bindings::fetch;
use crate::bindings::session::Session;
use crate::core::api;
use crate::core::cell::TokenCell;
use crate::core::endpoint::Endpoint;
use crate::core::error::ClientError;
use crate::core::request::Retries;
use crate::core::runtime::HttpRequest;
use crate::prelude::*;
use alloc::rc::Rc;
use core::cell::RefCell;
use js_sys::Promise;
use wasm_bindgen::prelude::*;
use web_sys::AbortSignal;

/// What the runtime and its views (`files`, `exec`) share.
pub struct Target {
    pub(crate) session: Rc<Session>,
    pub(crate) workspace_id: String,
    /// Keeps this workspace's gateway cell alive while the handle lives.
    pub(crate) cell: RefCell<Rc<TokenCell>>,
}

impl Target {
    pub fn new(session: Rc<Session>, workspace_id: String, cell: Rc<TokenCell>) -> Self {
        Target {
            session,
            workspace_id,
            cell: RefCell::new(cell),
        }
    }

    pub fn session(&self) -> &Rc<Session> {
        &self.session
    }

    /// The workspace's live gateway cell (a new one if the old was forgotten: deleted workspace,
    /// refused mint, another identity).
    pub fn cell(&self) -> Rc<TokenCell> {
        let live = self.session.gateways.cell(&self.workspace_id);
        self.cell.replace(live.clone());
        live
    }

    pub(crate) fn url(&self, path: &str, query: &[(&str, Option<String>)]) -> String {
        api::url(&self.session.gateway_url, path, query)
    }
}

/// A request built from a call's arguments (or the option error that stopped it), and its signal.
pub(crate) type Prepared = Result<(HttpRequest, Option<AbortSignal>), ClientError>;

/// A gateway call with this workspace's gateway token, on [`call::send_js`]: the JSON body of
/// a success, or only its member `field`.
pub(crate) fn gateway_call(
    target: &Rc<Target>,
    prepared: Prepared,
    field: Option<&'static str>,
) -> Promise {
    let prepared = prepared.map(|(request, signal)| (target.cell(), request, signal));
    call::send_js(&target.session, prepared, field, false)
}

/// A gateway call of the endpoint table (`core::endpoint`): its options checked against its row.
pub(crate) fn table_call(
    target: &Rc<Target>,
    endpoint: &'static Endpoint,
    options: Option<JsValue>,
) -> Promise {
    let prepared = prepare(endpoint, &target.session.gateway_url, options);
    gateway_call(target, prepared, None)
}

/// `method path` without a body, with only `{ signal }` options.
pub(crate) fn simple_call(
    target: &Rc<Target>,
    method: &'static str,
    path: &str,
    options: Option<JsValue>,
    call: &'static str,
    field: Option<&'static str>,
) -> Promise {
    let prepared = Options::read(options, call)
        .and_then(|o| o.signal())
        .map(|signal| {
            let url = target.url(path, &[]);
            let request = HttpRequest {
                method,
                url,
                body: None,
            };
            (request, signal)
        });
    gateway_call(target, prepared, field)
}

/// `rt.fetch(path, init)` on the gateway, or `proxy(port).fetch(path, init)` through its
/// `/proxy` to the target `proxy` names: the `Response` once its headers are in.
pub(crate) fn raw_fetch(
    target: &Rc<Target>,
    path: JsValue,
    init: Option<JsValue>,
    proxy: Option<String>,
) -> Promise {
    let call = if proxy.is_some() {
        "proxy.fetch(path, init)"
    } else {
        "fetch(path, init)"
    };
    let sent = (|| {
        let path = path
            .as_string()
            .filter(|p| p.starts_with('/'))
            .ok_or_else(|| invalid(call, "path", "a string starting with '/'"))?;
        let init = Options::read(init, call)?;
        let signal = init.signal()?;
        let url = match proxy {
            Some(_) => target.url("/proxy", &[]) + &path,
            None => target.url(&path, &[]),
        };
        let request = fetch::template(&url, init.value(), proxy.as_deref())
            .map_err(|_| invalid(call, "init", "a valid RequestInit"))?;
        let outgoing = fetch::Outgoing::template(request);
        let retries = Retries::UNAUTHORIZED_ONLY;
        let (session, cell) = (&target.session, target.cell());
        call::raw_response(session, cell, outgoing, retries, signal, proxy.is_some())
    })();
    or_rejected(sent)
}

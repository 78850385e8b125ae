//! `OblienUserClient`: owns the session token cell, its timer and page-lifecycle listeners, and
//! runs every call through the core with `fetch`.

use super::abort::Aborted;
use super::error::to_js;
use super::fetch::FetchTransport;
use super::gateway::Gateways;
use super::host::HostRefresh;
use super::options::{self, Options};
use super::runtime::{queue_microtask, BrowserRuntime};
use super::timer::CellTimer;
use super::token::{decode_session, token_info};
use crate::core::cell::{CellEvent, Observer, TokenCell};
use crate::core::error::{codes, ClientError};
use crate::core::flight::race;
use crate::core::request::execute;
use crate::core::runtime::{HttpRequest, Runtime, TokenSource};
use crate::core::token::{expired_by_wall_clock, HeldToken, TokenScope};
use js_sys::Function;
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use web_sys::{AbortController, AbortSignal, EventTarget};

type Listener = (EventTarget, &'static str, Closure<dyn FnMut()>);

pub struct ClientInner {
    pub base_url: String,
    pub gateway_url: String,
    pub timeout_ms: f64,
    /// `refreshMarginSeconds`, for `TokenInfo.refreshAt`.
    pub refresh_margin_secs: Option<f64>,
    pub runtime: Rc<BrowserRuntime>,
    pub session: Rc<TokenCell>,
    /// Aborted by `dispose()`: every fetch and wait of this client listens to it.
    pub dispose: AbortController,
    on_token_change: Option<Function>,
    on_refresh_error: Option<Function>,
    disposed: Cell<bool>,
    session_timer: Rc<CellTimer>,
    listeners: RefCell<Vec<Listener>>,
    /// Gateway tokens per workspace, minted under the current session identity.
    pub gateways: Gateways,
}

impl ClientInner {
    fn new(options: Options) -> Result<Rc<Self>, JsValue> {
        let runtime = Rc::new(BrowserRuntime);
        let now = runtime.now_ms();
        let claims = decode_session(&options.token).map_err(to_js)?;
        let mut held = HeldToken::new(options.token, claims, now);
        if expired_by_wall_clock(&held.claims, now) {
            if options.refresh.is_none() {
                return Err(to_js(ClientError::new(codes::TOKEN_EXPIRED, "The scoped token has already expired: pass a fresh one, or a `refresh` callback")));
            }
            held.expire_now(now); // the first call refreshes
        }
        let dispose = AbortController::new()?;
        let host = options.refresh.map(|callback| {
            Rc::new(HostRefresh {
                callback,
                margin_secs: options.refresh_margin_secs,
                cell: RefCell::new(Weak::new()),
                dispose_signal: dispose.signal(),
            })
        });
        let inner = Rc::new_cyclic(|weak: &Weak<ClientInner>| {
            let weak = weak.clone();
            let observer: Observer = Rc::new(move |event| {
                if let Some(inner) = weak.upgrade() {
                    inner.on_session_event(event);
                }
            });
            let source = host.clone().map(|h| h as Rc<dyn TokenSource>);
            let session = TokenCell::new(
                Some(held),
                options.refresh_margin_secs,
                runtime.clone(),
                source,
                observer,
            );
            ClientInner {
                base_url: options.base_url,
                gateway_url: options.gateway_url,
                timeout_ms: options.timeout_ms,
                refresh_margin_secs: options.refresh_margin_secs,
                runtime,
                session,
                dispose,
                on_token_change: options.on_token_change,
                on_refresh_error: options.on_refresh_error,
                disposed: Cell::new(false),
                session_timer: CellTimer::new(),
                listeners: RefCell::new(Vec::new()),
                gateways: Gateways::default(),
            }
        });
        inner.session_timer.attach(&inner.session);
        if let Some(host) = host {
            host.cell.replace(Rc::downgrade(&inner.session));
        }
        inner.listen_to_page_lifecycle();
        inner.session_timer.rearm();
        Ok(inner)
    }

    pub fn is_disposed(&self) -> bool {
        self.disposed.get()
    }

    fn on_session_event(self: &Rc<Self>, event: CellEvent) {
        if let CellEvent::TokenChanged {
            same_identity: false,
        } = event
        {
            // Gateway tokens minted for the previous tenant must not serve the new one.
            self.gateways.clear();
        }
        self.session_timer.rearm();
        // Events reach the host from a microtask, never inside a client call.
        let weak = Rc::downgrade(self);
        let deliver = Closure::once_into_js(move || {
            let Some(inner) = weak.upgrade() else { return };
            if inner.is_disposed() {
                return;
            }
            match event {
                CellEvent::TokenChanged { .. } => {
                    if let (Some(handler), Some(held)) =
                        (&inner.on_token_change, inner.session.token())
                    {
                        let _ = handler.call1(
                            &JsValue::NULL,
                            &token_info(&held, inner.runtime.now_ms(), inner.refresh_margin_secs),
                        );
                    }
                }
                CellEvent::RefreshFailed(error) => {
                    if let Some(handler) = &inner.on_refresh_error {
                        let _ = handler.call1(&JsValue::NULL, &to_js(error));
                    }
                }
            }
        });
        queue_microtask(deliver.unchecked_ref());
    }

    /// Timer or page lifecycle: re-check the session and every gateway token.
    fn wake(&self) {
        if self.is_disposed() {
            return;
        }
        self.session_timer.wake();
        self.gateways.wake_all();
    }

    /// Timers freeze in background tabs and sleeping laptops: re-check when the page returns.
    fn listen_to_page_lifecycle(self: &Rc<Self>) {
        let Some(window) = web_sys::window() else {
            return;
        };
        let mut listeners = self.listeners.borrow_mut();
        let mut add = |target: EventTarget, event: &'static str, only_when_visible: bool| {
            let weak = Rc::downgrade(self);
            let closure = Closure::<dyn FnMut()>::new(move || {
                let visible = !only_when_visible
                    || web_sys::window()
                        .and_then(|w| w.document())
                        .is_none_or(|d| d.visibility_state() == web_sys::VisibilityState::Visible);
                if let (true, Some(inner)) = (visible, weak.upgrade()) {
                    inner.wake();
                }
            });
            if target
                .add_event_listener_with_callback(event, closure.as_ref().unchecked_ref())
                .is_ok()
            {
                listeners.push((target, event, closure));
            }
        };
        if let Some(document) = window.document() {
            add(document.into(), "visibilitychange", true);
        }
        add(window.clone().into(), "online", false);
        add(window.into(), "pageshow", false);
    }

    pub fn dispose(&self) {
        if self.disposed.replace(true) {
            return;
        }
        self.session.dispose();
        self.session_timer.cancel();
        for (target, event, closure) in self.listeners.borrow_mut().drain(..) {
            let _ =
                target.remove_event_listener_with_callback(event, closure.as_ref().unchecked_ref());
        }
        self.gateways.clear();
        self.dispose.abort();
    }

    /// The held session token's scope claims.
    pub fn session_scope(&self) -> Option<(TokenScope, Option<String>)> {
        self.session
            .token()
            .map(|t| (t.claims.scope, t.claims.workspace_id))
    }

    /// A transport for one call, bound to this client's timeout and dispose signal.
    pub fn transport(&self, signal: Option<AbortSignal>) -> FetchTransport {
        FetchTransport {
            timeout_ms: self.timeout_ms,
            dispose_signal: self.dispose.signal(),
            caller_signal: signal,
        }
    }

    /// Sends an API request with the session token (all the core's rules apply).
    pub async fn api(
        self: &Rc<Self>,
        request: HttpRequest,
        signal: Option<AbortSignal>,
    ) -> Result<JsValue, ClientError> {
        let transport = self.transport(signal.clone());
        self.guarded(
            signal,
            execute(&self.session, &*self.runtime, &transport, &request),
        )
        .await
    }

    /// Runs `op` unless it is cut short by the caller's signal (`aborted`) or `dispose()` (`disposed`).
    pub async fn guarded<T>(
        &self,
        signal: Option<AbortSignal>,
        op: impl Future<Output = Result<T, ClientError>>,
    ) -> Result<T, ClientError> {
        if self.is_disposed() {
            return Err(ClientError::disposed());
        }
        if signal.as_ref().is_some_and(|s| s.aborted()) {
            return Err(ClientError::aborted());
        }
        let dispose_signal = self.dispose.signal();
        let disposed = async move {
            Aborted::new(&dispose_signal).await;
            Err(ClientError::disposed())
        };
        let aborted = async move {
            match signal {
                Some(signal) => {
                    Aborted::new(&signal).await;
                    Err(ClientError::aborted())
                }
                None => std::future::pending().await,
            }
        };
        race(op, race(disposed, aborted)).await
    }
}

/// A browser client acting for one end-user with a short-lived scoped token.
///
/// The token is the only credential it holds: API keys are refused. It keeps the session alive
/// through the `refresh` callback, and never stores, logs or puts the token in a URL.
#[wasm_bindgen]
pub struct OblienUserClient {
    inner: Rc<ClientInner>,
}

#[wasm_bindgen]
impl OblienUserClient {
    /// Creates a client from a scoped JWT minted by your backend (`POST /tokens`).
    ///
    /// @throws {OblienError} `secret_not_allowed`, `invalid_token`, `token_expired`, `invalid_options`
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "OblienUserClientOptions")] options: JsValue,
    ) -> Result<OblienUserClient, JsValue> {
        let options = options::parse(&options)?;
        Ok(OblienUserClient {
            inner: ClientInner::new(options)?,
        })
    }

    /// What the current token says (never the token itself).
    #[wasm_bindgen(getter = tokenInfo, unchecked_return_type = "TokenInfo")]
    pub fn token_info(&self) -> Result<JsValue, JsValue> {
        match self.inner.session.token() {
            Some(held) if !self.inner.is_disposed() => Ok(token_info(
                &held,
                self.inner.runtime.now_ms(),
                self.inner.refresh_margin_secs,
            )),
            _ => Err(to_js(ClientError::disposed())),
        }
    }

    /// Swaps in a new scoped token: later calls use it, calls in flight finish with theirs,
    /// gateway tokens of another identity are dropped, the refresh timer is re-armed and
    /// `onTokenChange` fires.
    ///
    /// @throws {OblienError} `invalid_token`, `token_expired`, `disposed`
    #[wasm_bindgen(js_name = setToken, unchecked_return_type = "TokenInfo")]
    pub fn set_token(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] token: JsValue,
    ) -> Result<JsValue, JsValue> {
        if self.inner.is_disposed() {
            return Err(to_js(ClientError::disposed()));
        }
        let secret = token.as_string().ok_or_else(|| {
            to_js(ClientError::new(
                codes::INVALID_TOKEN,
                "setToken(token): token must be a JWT string",
            ))
        })?;
        let claims = decode_session(&secret).map_err(to_js)?;
        let now = self.inner.runtime.now_ms();
        if expired_by_wall_clock(&claims, now) {
            return Err(to_js(ClientError::new(
                codes::TOKEN_EXPIRED,
                "setToken(token): the token has already expired",
            )));
        }
        let held = HeldToken::new(secret, claims, now);
        let info = token_info(&held, now, self.inner.refresh_margin_secs);
        self.inner.session.set(held);
        Ok(info)
    }

    /// Workspaces in the token's namespace.
    #[wasm_bindgen(getter)]
    pub fn workspaces(&self) -> super::workspaces::Workspaces {
        super::workspaces::Workspaces::new(self.inner.clone())
    }

    /// Stops everything: timers cleared, listeners removed, calls in flight rejected with
    /// `disposed`, and the refresh callback never called again.
    pub fn dispose(&self) {
        self.inner.dispose();
    }

    /// `JSON.stringify(client)` shows the token's claims, never the token.
    #[wasm_bindgen(js_name = toJSON, unchecked_return_type = "TokenInfo | null")]
    pub fn to_json(&self) -> JsValue {
        self.token_info().unwrap_or(JsValue::NULL)
    }
}

impl Drop for OblienUserClient {
    fn drop(&mut self) {
        self.inner.dispose();
    }
}

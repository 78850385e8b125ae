//! The session every handle shares: the session token cell, its refresh timer and page-lifecycle
//! listeners (`js/lifecycle.js`), the gateway token registry, and the dispose signal.
//! `OblienUserClient`, `Workspaces` and `WorkspaceRuntime` each hold an `Rc<Session>`; it ends on
//! an explicit `dispose()` of the client, or when the last handle is dropped.

use super::convert::{token_info, workspace_id, Options};
use super::cross_tab::CrossTab;
use super::error::to_js;
use super::fetch::Signals;
use super::host::HostRefresh;
use super::platform::{new_lifecycle, timer_delay, BrowserPlatform, Lifecycle};
use crate::core::cell::{CellEvent, Observer, TokenCell, TokenSource};
use crate::core::error::ClientError;
use crate::core::gateway::{Minter, Registry};
use crate::core::runtime::Runtime;
use crate::core::scope;
use crate::core::token::{self, Claims, HeldToken, Source};
use crate::prelude::*;
use alloc::rc::{Rc, Weak};
use core::cell::Cell;
use js_sys::Function;
use wasm_bindgen::prelude::*;
use web_sys::{AbortController, AbortSignal};

/// The client's settings, read once from the constructor's options.
pub struct Config {
    pub token: String,
    pub base_url: String,
    pub gateway_url: String,
    pub refresh: Option<Function>,
    pub refresh_margin_secs: Option<f64>,
    pub timeout_ms: f64,
    pub on_token_change: Option<Function>,
    pub on_refresh_error: Option<Function>,
    /// `crossTab`: the group's name, or `None` when off.
    pub cross_tab: Option<String>,
}

/// `client.crossTab`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrossTabMode {
    Off,
    Active,
    Unsupported,
}

impl CrossTabMode {
    pub fn as_str(self) -> &'static str {
        match self {
            CrossTabMode::Off => "off",
            CrossTabMode::Active => "active",
            CrossTabMode::Unsupported => "unsupported",
        }
    }
}

pub struct Session {
    pub base_url: String,
    pub gateway_url: String,
    timeout_ms: f64,
    /// `refreshMarginSeconds`, for `TokenInfo.refreshAt`.
    pub margin_secs: Option<f64>,
    pub platform: Rc<BrowserPlatform>,
    pub cell: Rc<TokenCell>,
    pub gateways: Rc<Registry>,
    /// Aborted by `dispose()`: every fetch and wait of this session listens to it.
    dispose: AbortController,
    disposed: Cell<bool>,
    /// The refresh timer, `visibilitychange` / `online` / `pageshow`, and the app's event
    /// handlers; `stop()`ped by `dispose()`.
    lifecycle: Lifecycle,
    /// What `lifecycle` asks (see js/lifecycle.js); lives as long as the session.
    _ask: Closure<dyn Fn(u32, JsValue) -> JsValue>,
    /// This client's tab group (`crossTab`), when active.
    cross_tab: Option<Rc<CrossTab>>,
    pub cross_tab_mode: CrossTabMode,
}

/// The registry's mints with this session's token (`mint::session_minter`: the request path
/// lives above the session).
pub type MinterFor = fn(Weak<Session>) -> Rc<dyn Minter>;

impl Session {
    pub fn new(config: Config, minter: MinterFor) -> Result<Rc<Self>, ClientError> {
        let platform = Rc::new(BrowserPlatform);
        let held = token::first_token(config.token, platform.arrival(), config.refresh.is_some())?;
        let dispose = AbortController::new().map_err(|_| ClientError::disposed())?;
        let cross_tab = config
            .cross_tab
            .as_ref()
            .map(|name| CrossTab::new(name.clone()));
        let cross_tab_mode = match &cross_tab {
            None => CrossTabMode::Off,
            Some(Some(_)) => CrossTabMode::Active,
            Some(None) => CrossTabMode::Unsupported,
        };
        let cross_tab = cross_tab.flatten();
        let source = config.refresh.map(|callback| {
            Rc::new(HostRefresh {
                callback,
                margin_secs: config.refresh_margin_secs,
                dispose_signal: dispose.signal(),
                tab: cross_tab.clone(),
            }) as Rc<dyn TokenSource>
        });
        let session = Rc::new_cyclic(|weak: &Weak<Session>| {
            let observer_target = weak.clone();
            let observer: Observer = Rc::new(move |event| {
                if let Some(session) = observer_target.upgrade() {
                    session.on_cell_event(event);
                }
            });
            let cell = TokenCell::new(
                Some(held),
                config.refresh_margin_secs,
                platform.clone(),
                source,
                observer,
            );
            let target = weak.clone();
            let ask = Closure::<dyn Fn(u32, JsValue) -> JsValue>::new(move |op, _| {
                let session = target.upgrade();
                match (op, session) {
                    (0, Some(session)) => session.wake(),
                    (_, Some(session)) => return session.held_info(),
                    _ => {}
                }
                JsValue::UNDEFINED
            });
            let gateways = Registry::new(
                platform.clone(),
                minter(weak.clone()),
                config.base_url.clone(),
            );
            Session {
                base_url: config.base_url,
                gateway_url: config.gateway_url,
                timeout_ms: config.timeout_ms,
                margin_secs: config.refresh_margin_secs,
                platform,
                cell,
                gateways,
                dispose,
                disposed: Cell::new(false),
                lifecycle: new_lifecycle(
                    ask.as_ref().unchecked_ref(),
                    config.on_token_change,
                    config.on_refresh_error,
                ),
                _ask: ask,
                cross_tab: cross_tab.clone(),
                cross_tab_mode,
            }
        });
        if let Some(tab) = &session.cross_tab {
            tab.attach(&session.cell);
        }
        session.rearm();
        Ok(session)
    }

    pub fn is_disposed(&self) -> bool {
        self.disposed.get()
    }

    pub fn now_ms(&self) -> f64 {
        self.platform.now_ms()
    }

    /// The held session token's claims.
    pub fn claims(&self) -> Result<Claims, ClientError> {
        match self.cell.token() {
            Some(held) if !self.is_disposed() => Ok(held.claims),
            _ => Err(ClientError::disposed()),
        }
    }

    /// A workspace id this token may reach (known locally, as the server rules: a
    /// workspace-scoped token reaches only its own), and the call's signal.
    pub fn reachable(
        &self,
        id: &JsValue,
        options: Option<JsValue>,
        call: &'static str,
    ) -> Result<(String, Option<AbortSignal>), ClientError> {
        let id = workspace_id(id, call)?;
        scope::may_reach(&self.claims()?, &id)?;
        let signal = Options::read(options, call)?.signal()?;
        Ok((id, signal))
    }

    /// `setToken`: the same admission rule as the constructor and every refresh.
    pub fn set_token(&self, secret: String) -> Result<HeldToken, ClientError> {
        if self.is_disposed() {
            return Err(ClientError::disposed());
        }
        self.cell
            .set_checked(secret.clone(), token::decode_session(&secret)?)
    }

    fn on_cell_event(&self, event: CellEvent) {
        if let CellEvent::TokenChanged {
            same_identity: false,
        } = event
        {
            // Gateway tokens minted for the previous identity must not serve the new one.
            self.gateways.forget_all();
        }
        if let (CellEvent::TokenChanged { .. }, Some(tab)) = (&event, &self.cross_tab) {
            // Another identity: another group. A token the app handed over: the group's too.
            tab.follow_identity();
            if let Some(held) = self.cell.token().filter(|h| h.source == Source::SetToken) {
                tab.share(&held.secret);
            }
        }
        self.rearm();
        // Events reach the host from a microtask, never inside a client call (js/lifecycle.js).
        match event {
            CellEvent::TokenChanged { .. } => self.lifecycle.emit(0, JsValue::UNDEFINED),
            CellEvent::RefreshFailed(error) => self.lifecycle.emit(1, to_js(error)),
        }
    }

    /// The held token's `TokenInfo`, as `onTokenChange` gets it when delivered.
    fn held_info(&self) -> JsValue {
        self.cell.token().map_or(JsValue::UNDEFINED, |held| {
            token_info(&held, self.now_ms(), self.margin_secs)
        })
    }

    /// Schedules the next refresh check from the cell's due time (replacing any pending one). A
    /// timer is only an optimisation: every call checks the token first anyway.
    fn rearm(&self) {
        let delay = match self.cell.next_check_ms() {
            Some(due) if !self.is_disposed() => f64::from(timer_delay(due - self.now_ms())),
            _ => -1.0,
        };
        self.lifecycle.arm(delay);
    }

    /// The timer fired or the page came back: refresh if due, then re-arm.
    fn wake(&self) {
        if self.is_disposed() {
            return;
        }
        self.cell.check();
        self.rearm();
    }

    pub fn dispose(&self) {
        if self.disposed.replace(true) {
            return;
        }
        self.cell.dispose();
        self.lifecycle.stop();
        self.gateways.forget_all();
        if let Some(tab) = &self.cross_tab {
            tab.leave();
        }
        self.dispose.abort();
    }

    /// `timeoutMs`: per request, and for waits such as a watcher's `ready`.
    pub fn timeout_ms(&self) -> f64 {
        self.timeout_ms
    }

    pub fn dispose_signal(&self) -> AbortSignal {
        self.dispose.signal()
    }

    /// The signals of one call: its own, this session's dispose, the per-attempt timeout.
    pub fn signals(&self, caller: Option<AbortSignal>) -> Signals {
        Signals {
            dispose: self.dispose.signal(),
            caller,
            timeout_ms: self.timeout_ms,
        }
    }
}

impl Drop for Session {
    /// The last handle is gone: nothing of this session may outlive it.
    fn drop(&mut self) {
        self.dispose();
    }
}

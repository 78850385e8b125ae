//! Gateway tokens, one `TokenCell` per workspace: minted through the runtime API access
//! endpoints with the session token, cached, refreshed by their own `exp`, re-minted once on a
//! gateway 401, and dropped when the session's identity changes.

use super::client::ClientInner;
use super::options::get;
use super::timer::CellTimer;
use super::token::decode_gateway;
use crate::core::api;
use crate::core::cell::{Observer, TokenCell};
use crate::core::error::{codes, ClientError};
use crate::core::runtime::{Fetched, LocalFuture, RefreshReason, TokenSource};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::{Rc, Weak};

/// The SDK's name for the internal API access endpoints.
const ACCESS_PATH: &str = "/runtime-api-access";

pub struct GatewayEntry {
    pub cell: Rc<TokenCell>,
    timer: Rc<CellTimer>,
}

#[derive(Default)]
pub struct Gateways {
    entries: RefCell<HashMap<String, Rc<GatewayEntry>>>,
}

impl Gateways {
    /// The workspace's gateway cell, created (without a token yet) on first use.
    pub fn entry(&self, inner: &Rc<ClientInner>, workspace_id: &str) -> Rc<GatewayEntry> {
        if let Some(entry) = self.entries.borrow().get(workspace_id) {
            return entry.clone();
        }
        let timer = CellTimer::new();
        let weak_timer = Rc::downgrade(&timer);
        let observer: Observer = Rc::new(move |_event| {
            if let Some(timer) = weak_timer.upgrade() {
                timer.rearm();
            }
        });
        let source = Rc::new(GatewayMint {
            client: Rc::downgrade(inner),
            workspace_id: workspace_id.to_string(),
        });
        let cell = TokenCell::new(None, None, inner.runtime.clone(), Some(source), observer);
        timer.attach(&cell);
        let entry = Rc::new(GatewayEntry { cell, timer });
        self.entries
            .borrow_mut()
            .insert(workspace_id.to_string(), entry.clone());
        entry
    }

    /// The held gateway token of a workspace, if any.
    pub fn held(&self, workspace_id: &str) -> Option<crate::core::token::HeldToken> {
        self.entries
            .borrow()
            .get(workspace_id)
            .and_then(|e| e.cell.token())
    }

    /// Drops every gateway token (identity change, dispose); waiters get `disposed`.
    pub fn clear(&self) {
        let entries: Vec<_> = self.entries.borrow_mut().drain().map(|(_, e)| e).collect();
        for entry in entries {
            entry.timer.cancel();
            entry.cell.dispose();
        }
    }

    pub fn wake_all(&self) {
        let timers: Vec<_> = self
            .entries
            .borrow()
            .values()
            .map(|e| e.timer.clone())
            .collect();
        for timer in timers {
            timer.wake();
        }
    }
}

/// Mints a gateway token the SDK's way: status → enable when disabled, else read the current one.
struct GatewayMint {
    client: Weak<ClientInner>,
    workspace_id: String,
}

impl TokenSource for GatewayMint {
    fn fetch(&self, _reason: RefreshReason) -> LocalFuture<Result<Fetched, ClientError>> {
        let client = self.client.clone();
        let id = self.workspace_id.clone();
        Box::pin(async move {
            let inner = client.upgrade().ok_or_else(ClientError::disposed)?;
            let base = api::url(&inner.base_url, &api::workspace_path(&id, ACCESS_PATH), &[]);
            let status = inner.api(api::get(base.clone()), None).await?;
            let enabled = get(&status, "enabled").as_bool().unwrap_or(false);
            let answer = if enabled {
                inner.api(api::get(format!("{base}/token")), None).await?
            } else {
                inner
                    .api(
                        api::post(format!("{base}/enable"), String::from("{}")),
                        None,
                    )
                    .await?
            };
            let secret = get(&answer, "token").as_string().ok_or_else(|| {
                ClientError::new(
                    codes::SERVER_ERROR,
                    "The gateway token response has no token",
                )
            })?;
            let claims = decode_gateway(&secret)?;
            Ok(Fetched { secret, claims })
        })
    }
}

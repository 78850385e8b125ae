//! Gateway tokens: one `TokenCell` per workspace, minted with the session token the official
//! SDK's way, renewed only when a call needs one (check before use; no timer), and forgotten when
//! the session's identity changes, the workspace is deleted, or a mint is refused with 403/404.
//! Also the wait for a workspace that is still provisioning.
//!
//! Note that minting enables the workspace's internal API server when it is disabled (as the
//! official SDK's `workspaces.runtime()` does).

use super::api;
use super::cell::{CellEvent, Observer, TokenCell};
use super::error::{codes, ClientError};
use super::json::{self, Value};
use super::request::field_object;
use super::runtime::{Fetched, HttpRequest, LocalFuture, RefreshReason, Runtime, TokenSource};
use super::token::{decode_gateway, HeldToken};
use std::cell::RefCell;
use std::rc::{Rc, Weak};

/// The SDK's name for the internal API access endpoints.
pub const ACCESS_PATH: &str = "/runtime-api-access";
/// How often `runtime()` looks again while a workspace is provisioning, and for how long.
pub const PROVISION_POLL_MS: f64 = 500.0;
pub const PROVISION_WAIT_MS: f64 = 120_000.0;

/// A control-plane call with the session token (all the session's rules apply); the JSON text of a
/// success.
pub trait ApiCall {
    fn call(&self, request: HttpRequest) -> LocalFuture<Result<String, ClientError>>;
}

fn top_level<'a>(text: &'a str, key: &str) -> Option<Value<'a>> {
    json::object(text).and_then(|members| json::last(&members, key).cloned())
}

/// Status → enable when disabled, else read the current token (never rotate: another tab or
/// client of the same workspace keeps working).
pub async fn mint(
    api: &dyn ApiCall,
    base_url: &str,
    workspace_id: &str,
) -> Result<Fetched, ClientError> {
    let base = api::url(
        base_url,
        &api::workspace_path(workspace_id, ACCESS_PATH),
        &[],
    );
    let status = api.call(api::get(base.clone())).await?;
    let enabled = top_level(&status, "enabled").and_then(|v| v.as_bool()) == Some(true);
    let answer = if enabled {
        api.call(api::get(base + "/token")).await?
    } else {
        api.call(api::post(base + "/enable", String::from("{}")))
            .await?
    };
    let secret = top_level(&answer, "token")
        .and_then(|v| v.as_str().map(|s| s.into_owned()))
        .ok_or_else(|| {
            ClientError::new(
                codes::SERVER_ERROR,
                "The gateway token response has no token",
            )
        })?;
    let claims = decode_gateway(&secret)?;
    Ok(Fetched { secret, claims })
}

/// A refused mint that means "this workspace is not yours (any more)": drop its entry.
pub fn forgets_entry(error: &ClientError) -> bool {
    matches!(error.status, Some(403 | 404)) && !error.is(codes::RATE_LIMITED)
}

struct Mint {
    api: Rc<dyn ApiCall>,
    base_url: String,
    workspace_id: String,
}

impl TokenSource for Mint {
    fn fetch(&self, _reason: RefreshReason) -> LocalFuture<Result<Fetched, ClientError>> {
        let api = self.api.clone();
        let base_url = self.base_url.clone();
        let id = self.workspace_id.clone();
        Box::pin(async move { mint(&*api, &base_url, &id).await })
    }
}

/// The live gateway cells of one session, by workspace id. Holds them weakly: a cell lives as
/// long as a runtime handle, a call or a stream holds it.
pub struct Registry {
    runtime: Rc<dyn Runtime>,
    api: Rc<dyn ApiCall>,
    base_url: String,
    /// A few workspaces at most: a `Vec` costs less wasm than a hash map.
    entries: RefCell<Vec<(String, Weak<TokenCell>)>>,
}

impl Registry {
    pub fn new(runtime: Rc<dyn Runtime>, api: Rc<dyn ApiCall>, base_url: String) -> Rc<Self> {
        Rc::new(Registry {
            runtime,
            api,
            base_url,
            entries: RefCell::new(Vec::new()),
        })
    }

    fn live(&self, workspace_id: &str) -> Option<Rc<TokenCell>> {
        self.entries
            .borrow()
            .iter()
            .find(|(id, _)| id == workspace_id)
            .and_then(|(_, cell)| cell.upgrade())
    }

    /// The workspace's cell, created (without a token yet) when none is live.
    pub fn cell(self: &Rc<Self>, workspace_id: &str) -> Rc<TokenCell> {
        if let Some(cell) = self.live(workspace_id) {
            return cell;
        }
        let registry = Rc::downgrade(self);
        let id = workspace_id.to_string();
        let observer: Observer = Rc::new(move |event| {
            if let (CellEvent::RefreshFailed(error), Some(registry)) = (event, registry.upgrade()) {
                if forgets_entry(&error) {
                    registry.forget(&id);
                }
            }
        });
        let source = Rc::new(Mint {
            api: self.api.clone(),
            base_url: self.base_url.clone(),
            workspace_id: workspace_id.to_string(),
        });
        let cell = TokenCell::new(None, None, self.runtime.clone(), Some(source), observer);
        let mut entries = self.entries.borrow_mut();
        entries.retain(|(id, cell)| cell.strong_count() > 0 && id != workspace_id);
        entries.push((workspace_id.to_string(), Rc::downgrade(&cell)));
        cell
    }

    /// The held gateway token of a workspace, if a live cell has one.
    pub fn held(&self, workspace_id: &str) -> Option<HeldToken> {
        self.live(workspace_id).and_then(|cell| cell.token())
    }

    /// Drops a workspace's entry (deleted, or no longer reachable): its token is forgotten, so a
    /// handle still holding the cell mints again, in its next call, under the identity of then.
    pub fn forget(&self, workspace_id: &str) {
        let removed: Vec<_> = {
            let mut entries = self.entries.borrow_mut();
            let (gone, kept) = entries.drain(..).partition(|(id, _)| id == workspace_id);
            *entries = kept;
            gone
        };
        for (_, cell) in removed {
            if let Some(cell) = cell.upgrade() {
                cell.clear();
            }
        }
    }

    /// The session's identity changed: no gateway token minted under the old one may serve the new.
    pub fn forget_all(&self) {
        let removed = std::mem::take(&mut *self.entries.borrow_mut());
        for (_, cell) in removed {
            if let Some(cell) = cell.upgrade() {
                cell.clear();
            }
        }
    }

    /// Live entries (for tests and leak checks).
    pub fn len(&self) -> usize {
        self.entries
            .borrow()
            .iter()
            .filter(|(_, cell)| cell.strong_count() > 0)
            .count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Whether `GET /workspace/{id}` says the workspace is still being created.
pub fn is_provisioning(body: &str) -> Result<bool, ClientError> {
    let workspace = field_object(body, "workspace")?;
    let ready = top_level(&workspace, "ready").and_then(|v| v.as_bool());
    let status = top_level(&workspace, "status").and_then(|v| v.as_str().map(|s| s.into_owned()));
    let creating = matches!(status.as_deref(), Some("creating" | "provisioning"));
    Ok(ready != Some(true) && creating)
}

/// Polls `GET /workspace/{id}` every 500 ms (up to 2 min) while it is still being created, so a
/// runtime is usable as soon as it is returned. Dropping the future stops it.
pub async fn wait_until_provisioned(
    api: &dyn ApiCall,
    runtime: &dyn Runtime,
    base_url: &str,
    workspace_id: &str,
) -> Result<(), ClientError> {
    let url = api::url(base_url, &api::workspace_path(workspace_id, ""), &[]);
    let deadline = runtime.now_ms() + PROVISION_WAIT_MS;
    loop {
        let body = api.call(api::get(url.clone())).await?;
        if !is_provisioning(&body)? || runtime.now_ms() >= deadline {
            return Ok(());
        }
        runtime.sleep(PROVISION_POLL_MS).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provisioning_is_read_from_the_workspace() {
        let body = |ws: &str| format!(r#"{{"success":true,"workspace":{ws}}}"#);
        assert_eq!(
            is_provisioning(&body(r#"{"status":"creating","ready":false}"#)),
            Ok(true)
        );
        assert_eq!(
            is_provisioning(&body(r#"{"status":"running","ready":false}"#)),
            Ok(false)
        );
        assert_eq!(
            is_provisioning(&body(r#"{"status":"creating","ready":true}"#)),
            Ok(false)
        );
        assert!(is_provisioning(r#"{"success":true}"#).is_err());
    }

    #[test]
    fn only_refusals_forget() {
        let status = |s| ClientError::new("x", "m").with_status(s);
        assert!(forgets_entry(&status(404)));
        assert!(forgets_entry(&status(403)));
        assert!(!forgets_entry(&status(500)));
        assert!(!forgets_entry(&ClientError::new("network_error", "m")));
    }
}

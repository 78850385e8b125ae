//! Gateway tokens: one `TokenCell` per workspace, minted with the session token the official
//! SDK's way, renewed only when a call needs one (check before use; no timer), and forgotten when
//! the session's identity changes, the workspace is deleted, or a mint is refused with 403/404.
//! Also the `apiAccess` calls (what each means for the held tokens) and the wait for a workspace
//! that is still provisioning.
//!
//! Minting enables the workspace's internal API server when it is disabled (as the official SDK's
//! `workspaces.runtime()` does), except after the app's own `apiAccess.disable(id)`: from then on
//! nothing of this client enables it (calls reject `internal_api_disabled`, nothing is sent)
//! until the app's `apiAccess.enable(id)`.
//!
//! Gateway tokens never leave the client: the results of `enable`, `rotateToken` and `reconnect`
//! are handed back without their `token`, which goes straight into the workspace's live cell.
//!
//! Streams and sockets: a stopped workspace's gateway answers 503 `workspace_not_running`
//! ([`crate::core::request::Answer::not_running`] keeps it from being retried), and the server
//! closes what is open. A stream reading a workspace must end with that code, never wait or
//! reconnect on it (the socket does: `core::socket::is_final`). `rotateToken` / `reconnect` hand
//! the new token to the live cell ([`Registry::install`]), so a socket the rotation closed reopens
//! on it without a mint (it clears the cell only if it still holds the token it was opened with).

use super::api;
use super::cell::{CellEvent, Observer, Refresh, TokenCell, TokenSource};
use super::error::{codes, ClientError};
use super::json::{self, Value};
use super::request::field_object;
use super::runtime::{Fetched, HttpRequest, LocalFuture, Runtime, Sleep};
use super::token::{decode_gateway, HeldToken};
use crate::prelude::*;
use alloc::rc::{Rc, Weak};
use core::cell::RefCell;

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

/// Runs one refresh call of a workspace's cell: the mint's requests, each answer read by
/// [`Registry::mint_next`] (after [`Registry::mint_begin`]); [`Registry::mint`] is their async
/// form, for the native tests.
pub trait Minter {
    fn mint(self: Rc<Self>, registry: Rc<Registry>, workspace_id: String, call: Refresh);
}

/// What a mint's answer leads to.
pub enum Minted {
    Send(HttpRequest),
    Token(Fetched),
}

fn top_level<'a>(text: &'a str, key: &str) -> Option<Value<'a>> {
    json::object(text).and_then(|members| json::last(&members, key).cloned())
}

/// The calls of `client.workspaces.apiAccess` (`…/runtime-api-access`, the SDK's path; the
/// reference page's `…/internal-api-access` is the same). The 30-day workspace token
/// (`POST …/workspace`) and the raw connection token (`GET …/token/raw`) are not among them: a
/// browser never holds a 30-day credential, and a raw token only serves VM-to-VM traffic on a
/// private network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Status,
    Enable,
    Disable,
    RotateToken,
    Reconnect,
}

impl Access {
    pub fn request(self, base_url: &str, workspace_id: &str) -> HttpRequest {
        let action = match self {
            Access::Status => "",
            Access::Enable => "/enable",
            Access::Disable => "/disable",
            Access::RotateToken => "/token",
            Access::Reconnect => "/reconnect",
        };
        let url = access_url(base_url, workspace_id, action);
        match self {
            Access::Status => api::get(url),
            _ => api::post(url, String::from("{}")),
        }
    }
}

fn access_url(base_url: &str, workspace_id: &str, action: &str) -> String {
    let mut path = String::from(ACCESS_PATH);
    path.push_str(action);
    api::url(base_url, &api::workspace_path(workspace_id, &path), &[])
}

/// A refused mint that means/// A refused mint that means "this workspace is not yours (any more)": drop its entry.
/// The client's own `internal_api_disabled` refusal keeps the entry: the handle is the app's, and
/// `apiAccess.enable(id)` hands it the new token.
pub fn forgets_entry(error: &ClientError) -> bool {
    matches!(error.status, Some(403 | 404))
        && !error.is(codes::RATE_LIMITED)
        && !error.is(codes::INTERNAL_API_DISABLED)
}

fn disabled_by_app() -> ClientError {
    ClientError::new(
        codes::INTERNAL_API_DISABLED,
        "Disabled by apiAccess.disable(id): call apiAccess.enable(id) first",
    )
    .with_status(403)
}

struct Mint {
    registry: Weak<Registry>,
    workspace_id: String,
}

impl TokenSource for Mint {
    fn start(self: Rc<Self>, call: Refresh) {
        match self.registry.upgrade() {
            Some(registry) => {
                let minter = registry.minter.clone();
                minter.mint(registry, self.workspace_id.clone(), call);
            }
            None => call.finish(Err(ClientError::disposed())),
        }
    }
}

/// The live gateway cells of one session, by workspace id. Holds them weakly: a cell lives as
/// long as a runtime handle, a call or a stream holds it.
pub struct Registry {
    runtime: Rc<dyn Runtime>,
    minter: Rc<dyn Minter>,
    base_url: String,
    /// A few workspaces at most: a `Vec` costs less wasm than a hash map.
    entries: RefCell<Vec<(String, Weak<TokenCell>)>>,
    /// Workspaces the app turned off with `apiAccess.disable(id)`: never minted (a mint enables)
    /// until `apiAccess.enable(id)`. The app's choice, not a credential: kept across token swaps.
    disabled: RefCell<Vec<String>>,
}

impl Registry {
    pub fn new(runtime: Rc<dyn Runtime>, minter: Rc<dyn Minter>, base_url: String) -> Rc<Self> {
        Rc::new(Registry {
            runtime,
            minter,
            base_url,
            entries: RefCell::new(Vec::new()),
            disabled: RefCell::new(Vec::new()),
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Status → enable when disabled, else read the current token (never rotate: another tab or
    /// client of the same workspace keeps working): [`Registry::mint_begin`], then each answer
    /// through [`Registry::mint_next`]. The async form (the native tests' driver).
    pub async fn mint(
        &self,
        api: &dyn ApiCall,
        workspace_id: &str,
    ) -> Result<Fetched, ClientError> {
        let mut request = self.mint_begin(workspace_id)?;
        let mut status = true;
        loop {
            let answer = api.call(request).await?;
            match self.mint_next(workspace_id, status, &answer)? {
                Minted::Send(next) => request = next,
                Minted::Token(fetched) => return Ok(fetched),
            }
            status = false;
        }
    }

    /// A mint's first request (the status), refused for a workspace the app disabled.
    pub fn mint_begin(&self, workspace_id: &str) -> Result<HttpRequest, ClientError> {
        self.refuse_disabled(workspace_id)?;
        Ok(Access::Status.request(&self.base_url, workspace_id))
    }

    /// What a mint's answer means: after the status (`status`), the next request (the token, or
    /// the enable, refused again for a workspace the app disabled meanwhile); after that, the
    /// token.
    pub fn mint_next(
        &self,
        workspace_id: &str,
        status: bool,
        answer: &str,
    ) -> Result<Minted, ClientError> {
        if status {
            let enabled = top_level(answer, "enabled").and_then(|v| v.as_bool()) == Some(true);
            return Ok(Minted::Send(if enabled {
                api::get(access_url(&self.base_url, workspace_id, "/token"))
            } else {
                self.refuse_disabled(workspace_id)?;
                Access::Enable.request(&self.base_url, workspace_id)
            }));
        }
        let secret = top_level(answer, "token")
            .and_then(|v| v.as_str().map(|s| s.into_owned()))
            .ok_or_else(|| {
                ClientError::new(
                    codes::SERVER_ERROR,
                    "The gateway token response has no token",
                )
            })?;
        let claims = decode_gateway(&secret)?;
        Ok(Minted::Token(Fetched::new(secret, claims)))
    }

    pub fn is_disabled(&self, workspace_id: &str) -> bool {
        self.disabled.borrow().iter().any(|id| id == workspace_id)
    }

    fn refuse_disabled(&self, workspace_id: &str) -> Result<(), ClientError> {
        if self.is_disabled(workspace_id) {
            Err(disabled_by_app())
        } else {
            Ok(())
        }
    }

    /// Records the app's choice. Disabling drops the held token at once (calls in flight keep
    /// theirs); enabling ends the back-off of the refusals, so the next call mints.
    pub fn set_disabled(&self, workspace_id: &str, disabled: bool) {
        let was = self.is_disabled(workspace_id);
        if disabled && !was {
            self.disabled.borrow_mut().push(workspace_id.to_string());
        } else if !disabled && was {
            self.disabled.borrow_mut().retain(|id| id != workspace_id);
        }
        if disabled || was {
            if let Some(cell) = self.live(workspace_id) {
                cell.clear();
            }
        }
    }

    /// A gateway token the API handed this client (`enable`, `rotateToken`, `reconnect`): the
    /// workspace's live cell takes it at once, so its handles need no 401 to learn of it. Not for
    /// a workspace the app disabled, nor a token for another workspace; a token that cannot be
    /// used is dropped (the next call mints).
    pub fn install(&self, workspace_id: &str, secret: String) {
        let Some(cell) = self.live(workspace_id) else {
            return;
        };
        if self.is_disabled(workspace_id) {
            return;
        }
        if let Ok(claims) = decode_gateway(&secret) {
            if claims
                .workspace_id
                .as_deref()
                .is_none_or(|id| id == workspace_id)
            {
                let _ = cell.set_checked(secret, claims);
            }
        }
    }

    /// One `apiAccess` call with `api` (the caller's signal), and what it means here:
    /// [`Registry::access_begin`], the request, [`Registry::access_finish`].
    pub async fn access(
        &self,
        api: &dyn ApiCall,
        workspace_id: &str,
        call: Access,
    ) -> Result<String, ClientError> {
        let was_disabled = self.access_begin(workspace_id, call);
        let result = api.call(call.request(&self.base_url, workspace_id)).await;
        self.access_finish(workspace_id, call, was_disabled, result)
    }

    /// Before an `apiAccess` call is sent: `disable` records the app's choice (a mint racing it
    /// cannot enable the server again). Returns whether the workspace was disabled before.
    pub fn access_begin(&self, workspace_id: &str, call: Access) -> bool {
        let was_disabled = self.is_disabled(workspace_id);
        if call == Access::Disable {
            self.set_disabled(workspace_id, true);
        }
        was_disabled
    }

    /// What an `apiAccess` call's outcome means here: `disable` keeps the app's choice unless the
    /// server refuses; `enable` lifts it once the server agrees; a `token` in the answer is
    /// installed. Resolves with the server's JSON text without its `token`.
    pub fn access_finish(
        &self,
        workspace_id: &str,
        call: Access,
        was_disabled: bool,
        result: Result<String, ClientError>,
    ) -> Result<String, ClientError> {
        let text = match result {
            Ok(text) => text,
            Err(error) => {
                // The server said no, so nothing changed there. An unknown outcome (network
                // error, timeout, abort) keeps the app's choice: `enable` undoes it.
                if call == Access::Disable && !was_disabled && error.status.is_some() {
                    self.set_disabled(workspace_id, false);
                }
                return Err(error);
            }
        };
        if call == Access::Enable {
            self.set_disabled(workspace_id, false);
        }
        if let Some(secret) =
            top_level(&text, "token").and_then(|v| v.as_str().map(|s| s.into_owned()))
        {
            self.install(workspace_id, secret);
        }
        json::without(&text, "token").ok_or_else(|| {
            ClientError::new(codes::SERVER_ERROR, "The response is not a JSON object")
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
            registry: Rc::downgrade(self),
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
    /// The app's `disable` goes too (a workspace it disabled is refused before any mint, so only
    /// its deletion gets here).
    pub fn forget(&self, workspace_id: &str) {
        self.disabled.borrow_mut().retain(|id| id != workspace_id);
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
        let removed = core::mem::take(&mut *self.entries.borrow_mut());
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

/// The wait of `runtime()` for a workspace still being created, without I/O: `GET
/// /workspace/{id}` ([`Provision::request`]) every 500 ms while it is provisioning, for up to
/// 2 min from the first poll. The caller sends each poll as a call of its own (its own retries)
/// and asks [`Provision::answered`] what next.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Provision {
    deadline: f64,
}

impl Provision {
    /// The wait starts (`now_ms`: just before the first poll is sent).
    pub fn start(now_ms: f64) -> Self {
        Provision {
            deadline: now_ms + PROVISION_WAIT_MS,
        }
    }

    /// The poll of `workspace_id`.
    pub fn request(base_url: &str, workspace_id: &str) -> HttpRequest {
        api::get(api::url(
            base_url,
            &api::workspace_path(workspace_id, ""),
            &[],
        ))
    }

    /// After a poll's JSON text (a success's): `Some(ms)` to wait before polling again, `None`
    /// when the workspace is ready for its runtime (or the wait is over).
    pub fn answered(&self, body: &str, now_ms: f64) -> Result<Option<f64>, ClientError> {
        let again = is_provisioning(body)? && now_ms < self.deadline;
        Ok(again.then_some(PROVISION_POLL_MS))
    }
}

/// [`Provision`] with `api` and `runtime`'s sleeps (the native tests' driver; the browser's is
/// js/fetch.js `call`). Dropping the future stops it.
pub async fn wait_until_provisioned(
    api: &dyn ApiCall,
    runtime: &(impl Runtime + Sleep),
    base_url: &str,
    workspace_id: &str,
) -> Result<(), ClientError> {
    let wait = Provision::start(runtime.now_ms());
    loop {
        let body = api.call(Provision::request(base_url, workspace_id)).await?;
        match wait.answered(&body, runtime.now_ms())? {
            Some(ms) => runtime.sleep(ms).await,
            None => return Ok(()),
        }
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
    fn provisioning_polls_every_500_ms_for_2_minutes() {
        let creating = r#"{"success":true,"workspace":{"status":"creating"}}"#;
        let running = r#"{"success":true,"workspace":{"status":"running"}}"#;
        let wait = Provision::start(1_000.0);
        assert_eq!(
            wait.answered(creating, 1_000.0),
            Ok(Some(PROVISION_POLL_MS))
        );
        assert_eq!(
            wait.answered(creating, 120_999.0),
            Ok(Some(PROVISION_POLL_MS))
        );
        assert_eq!(wait.answered(creating, 121_000.0), Ok(None));
        assert_eq!(wait.answered(running, 2_000.0), Ok(None));
        assert!(wait.answered("{}", 200_000.0).is_err());
        let poll = Provision::request("https://api.test", "ws 1");
        assert_eq!(
            (poll.method, poll.url.as_str()),
            ("GET", "https://api.test/workspace/ws%201")
        );
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

//! `TokenCell`: one held token (the session's, or one workspace's gateway token) with its
//! refresh state. Every refresh decision goes through here: check-before-use, single-flight,
//! back-off after failures, setToken swaps and dispose.
//!
//! Rule: no `RefCell` borrow is held across an `.await` or a call out to the source/observer.

use super::error::{codes, ClientError};
use super::flight::{race, Flight};
use super::policy::{self, TokenState};
use super::runtime::{Fetched, LocalFuture, RefreshReason, Runtime, Sleep};
use super::token::{self, Claims, HeldToken};
use crate::prelude::*;
use alloc::rc::Rc;
use core::cell::RefCell;

/// What the cell tells its owner (delivered later, from a microtask, by the binding).
#[derive(Debug, Clone)]
pub enum CellEvent {
    /// A new token is held. `same_identity` is false when scope/namespace/workspace changed.
    TokenChanged {
        same_identity: bool,
    },
    RefreshFailed(ClientError),
}

pub type Observer = Rc<dyn Fn(CellEvent)>;

/// Where fresh tokens come from: the host's refresh callback (alone or behind its tab group), or
/// a workspace's mint. The cell decides when; the source runs the call it is handed.
pub trait TokenSource {
    fn start(self: Rc<Self>, call: Refresh);
}

/// One call to a cell's source. Its driver runs it as a task of its own, never inside the client
/// call that asked for it: [`Refresh::wanted`] first, then the source within
/// [`policy::HOST_TIMEOUT_MS`] ([`timed_out`] past it), then [`Refresh::finish`]. Dropping it
/// ends the call: a refresh queued meanwhile starts then.
pub struct Refresh {
    cell: Rc<TokenCell>,
    flight: Rc<Flight>,
    generation: u64,
    pub reason: RefreshReason,
}

impl Refresh {
    pub fn cell(&self) -> &Rc<TokenCell> {
        &self.cell
    }

    /// The cell's generation when the call started.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// False once disposed, or superseded by `setToken`, before the call ran: both already
    /// released the waiters, and the source must not be asked.
    pub fn wanted(&self) -> bool {
        !self.cell.is_disposed() && self.cell.generation() == self.generation
    }

    /// The source's outcome (once).
    pub fn finish(&self, result: Result<Fetched, ClientError>) {
        self.cell
            .finish_refresh(&self.flight, self.generation, result);
    }

    /// The async form of a call (the native tests' sources): `fetch` (when wanted) raced against
    /// the 15 s limit.
    pub async fn run(
        self,
        runtime: Rc<dyn Sleep>,
        fetch: impl FnOnce(RefreshReason) -> LocalFuture<Result<Fetched, ClientError>>,
    ) {
        if self.wanted() {
            let timeout = async {
                runtime.sleep(policy::HOST_TIMEOUT_MS).await;
                Err(timed_out())
            };
            let result = race(fetch(self.reason), timeout).await;
            self.finish(result);
        }
    }
}

impl Drop for Refresh {
    fn drop(&mut self) {
        self.cell.call_ended();
    }
}

/// A source that did not settle within [`policy::HOST_TIMEOUT_MS`].
pub fn timed_out() -> ClientError {
    ClientError::new(
        codes::REFRESH_FAILED,
        "The refresh callback did not settle within 15 s",
    )
}

#[derive(Default)]
struct State {
    token: Option<HeldToken>,
    /// Bumped on every token change; a request remembers the generation it used.
    generation: u64,
    flight: Option<Rc<Flight>>,
    /// A call to the source is running; after `setToken` it may no longer be `flight`'s.
    calling: bool,
    /// A refresh asked for while a call `setToken` superseded was still running: it starts when
    /// that call ends, so the source never has two calls in flight.
    queued: Option<RefreshReason>,
    failures: u32,
    /// No new refresh before this (back-off); callers meanwhile share `last_error`.
    retry_at_ms: f64,
    last_error: Option<ClientError>,
    disposed: bool,
}

pub struct TokenCell {
    state: RefCell<State>,
    margin_secs: Option<f64>,
    runtime: Rc<dyn Runtime>,
    source: Option<Rc<dyn TokenSource>>,
    observer: Observer,
}

/// A token handed to one request, with the generation it belongs to.
/// What [`TokenCell::acquire_now`] found.
pub enum Acquire {
    Ready(Lease),
    /// A refresh to wait for; ask again once it completed well.
    Wait(Rc<Flight>),
    Fail(ClientError),
}

/// What [`TokenCell::recover_now`] found after a 401.
pub enum Recover {
    /// Replay the request (the token changed meanwhile), or not (no source to refresh from).
    Replay(bool),
    /// A refresh to wait for.
    Wait(Rc<Flight>),
}

/// How many refreshes in a row a caller waits for a token before giving up: a refresh may be
/// released by `setToken` without a usable token once.
pub const ACQUIRE_WAITS: u32 = 2;

pub struct Lease {
    pub secret: String,
    pub generation: u64,
}

impl TokenCell {
    pub fn new(
        token: Option<HeldToken>,
        margin_secs: Option<f64>,
        runtime: Rc<dyn Runtime>,
        source: Option<Rc<dyn TokenSource>>,
        observer: Observer,
    ) -> Rc<Self> {
        Rc::new(TokenCell {
            state: RefCell::new(State {
                token,
                ..State::default()
            }),
            margin_secs,
            runtime,
            source,
            observer,
        })
    }

    pub fn token(&self) -> Option<HeldToken> {
        self.state.borrow().token.clone()
    }

    pub fn generation(&self) -> u64 {
        self.state.borrow().generation
    }

    /// `refreshMarginSeconds`, as given (for `TokenInfo.refreshAt`).
    pub fn margin_secs(&self) -> Option<f64> {
        self.margin_secs
    }

    pub fn is_disposed(&self) -> bool {
        self.state.borrow().disposed
    }

    fn margin_for(&self, token: &HeldToken) -> f64 {
        policy::margin_ms(token.lifetime_ms(), self.margin_secs)
    }

    /// State of the held token now (`Expired` when none is held).
    pub fn token_state(&self) -> TokenState {
        let state = self.state.borrow();
        match &state.token {
            None => TokenState::Expired,
            Some(t) => {
                policy::token_state(self.runtime.now_ms(), t.deadline_ms, self.margin_for(t))
            }
        }
    }

    /// When the owner's timer should next call [`TokenCell::check`] (wall-clock ms).
    pub fn next_check_ms(&self) -> Option<f64> {
        let state = self.state.borrow();
        // While a refresh is in flight its completion re-arms the timer.
        if state.disposed || self.source.is_none() || state.flight.is_some() {
            return None;
        }
        let token = state.token.as_ref()?;
        let due = token.deadline_ms - self.margin_for(token);
        Some(due.max(state.retry_at_ms))
    }

    /// Timer, `visibilitychange`, `online`, `pageshow`: start a refresh if one is due.
    pub fn check(self: &Rc<Self>) {
        let reason = match self.token_state() {
            TokenState::Fresh => return,
            TokenState::Expiring => RefreshReason::Expiring,
            TokenState::Expired => RefreshReason::Expired,
        };
        if self.token().is_none() {
            return; // nothing to keep alive until someone asks
        }
        let _ = self.try_start_refresh(reason);
    }

    /// A token to send now without waiting: the held one when fresh, or expiring (its refresh
    /// started meanwhile). `None` when the caller must wait for a refresh ([`TokenCell::acquire`]
    /// says why), or the cell is disposed.
    pub fn lease_now(self: &Rc<Self>) -> Option<Lease> {
        match self.token_state() {
            TokenState::Fresh => {}
            TokenState::Expiring => {
                let _ = self.try_start_refresh(RefreshReason::Expiring);
            }
            TokenState::Expired => return None,
        }
        let state = self.state.borrow();
        let token = state.token.as_ref().filter(|_| !state.disposed)?;
        Some(Lease {
            secret: token.secret.clone(),
            generation: state.generation,
        })
    }

    /// One step of [`TokenCell::acquire`]: a token to send now, or the refresh to wait for
    /// before asking again (its error through [`TokenCell::expired_error`]), or why there is none.
    pub fn acquire_now(self: &Rc<Self>) -> Acquire {
        if let Some(lease) = self.lease_now() {
            return Acquire::Ready(lease);
        }
        if self.is_disposed() {
            return Acquire::Fail(ClientError::disposed());
        }
        match self.try_start_refresh(RefreshReason::Expired) {
            Ok(flight) => Acquire::Wait(flight),
            Err(error) => Acquire::Fail(self.expired_error(error)),
        }
    }

    /// A token to send now, refreshing first when the held one is expired (the native drivers';
    /// the browser asks [`TokenCell::acquire_now`] from js/fetch.js, at most [`ACQUIRE_WAITS`]
    /// times in a row).
    pub async fn acquire(self: &Rc<Self>) -> Result<Lease, ClientError> {
        for _ in 0..ACQUIRE_WAITS {
            match self.acquire_now() {
                Acquire::Ready(lease) => return Ok(lease),
                Acquire::Fail(error) => return Err(error),
                Acquire::Wait(flight) => flight.wait().await.map_err(|e| self.expired_error(e))?,
            }
        }
        Err(self.still_expired())
    }

    /// After [`ACQUIRE_WAITS`] refreshes released by `setToken` with no usable token: expired,
    /// unless disposed meanwhile.
    pub fn still_expired(&self) -> ClientError {
        if self.is_disposed() {
            ClientError::disposed()
        } else {
            ClientError::expired()
        }
    }

    /// What a refresh that failed with `cause` means for a caller waiting for a token.
    pub fn expired_error(&self, cause: ClientError) -> ClientError {
        // An answer from the server (e.g. the mint of a gateway token refused with 403) says more
        // than "expired": pass it through as it is.
        if cause.is(codes::DISPOSED) || cause.is(codes::ABORTED) || cause.status.is_some() {
            return cause;
        }
        if self.source.is_none() {
            return ClientError::expired();
        }
        let mut error = ClientError::expired();
        error.message = String::from("The token has expired and could not be refreshed: ");
        error.message.push_str(&cause.message);
        error
    }

    /// After a 401 for a request sent with `used_generation`: `Ok(true)` to replay it once with
    /// a new token, `Ok(false)` to give up.
    pub async fn recover_unauthorized(
        self: &Rc<Self>,
        used_generation: u64,
    ) -> Result<bool, ClientError> {
        match self.recover_now(used_generation)? {
            Recover::Replay(again) => Ok(again),
            Recover::Wait(flight) => {
                flight.wait().await?;
                Ok(self.generation() != used_generation)
            }
        }
    }

    /// The first step of [`TokenCell::recover_unauthorized`]: replay or not, or the refresh to
    /// wait for (then replay when the generation moved past `used_generation`).
    pub fn recover_now(self: &Rc<Self>, used_generation: u64) -> Result<Recover, ClientError> {
        if self.generation() != used_generation {
            return Ok(Recover::Replay(true)); // another caller already swapped the token
        }
        if self.source.is_none() {
            return Ok(Recover::Replay(false));
        }
        Ok(Recover::Wait(
            self.try_start_refresh(RefreshReason::Unauthorized)?,
        ))
    }

    /// Joins the refresh in flight or starts one (its call waits for a call `setToken`
    /// superseded, if one is still running). Refused (with the last failure) during back-off and
    /// when there is no source.
    fn try_start_refresh(
        self: &Rc<Self>,
        reason: RefreshReason,
    ) -> Result<Rc<Flight>, ClientError> {
        let now = self.runtime.now_ms();
        let mut state = self.state.borrow_mut();
        if state.disposed {
            return Err(ClientError::disposed());
        }
        if let Some(flight) = &state.flight {
            return Ok(flight.clone());
        }
        let Some(source) = self.source.clone() else {
            return Err(ClientError::expired());
        };
        if now < state.retry_at_ms {
            return Err(state.last_error.clone().unwrap_or_else(|| {
                ClientError::new(codes::REFRESH_FAILED, "Refresh is backing off")
            }));
        }
        let flight = Flight::new();
        state.flight = Some(flight.clone());
        if state.calling {
            state.queued = Some(reason);
            return Ok(flight);
        }
        state.calling = true;
        let generation = state.generation;
        drop(state);
        self.start_call(source, flight.clone(), generation, reason);
        Ok(flight)
    }

    /// Hands `flight`'s call to the source (`calling` is already set).
    fn start_call(
        self: &Rc<Self>,
        source: Rc<dyn TokenSource>,
        flight: Rc<Flight>,
        generation: u64,
        reason: RefreshReason,
    ) {
        source.start(Refresh {
            cell: self.clone(),
            flight,
            generation,
            reason,
        });
    }

    /// The call to the source ended (or was skipped): start the refresh queued meanwhile.
    fn call_ended(self: &Rc<Self>) {
        let next = {
            let mut state = self.state.borrow_mut();
            state.calling = false;
            match (state.queued.take(), &state.flight, &self.source) {
                (Some(reason), Some(flight), Some(source)) if !state.disposed => {
                    let flight = flight.clone();
                    state.calling = true;
                    Some((source.clone(), flight, state.generation, reason))
                }
                _ => None,
            }
        };
        if let Some((source, flight, generation, reason)) = next {
            self.start_call(source, flight, generation, reason);
        }
    }

    fn finish_refresh(
        &self,
        flight: &Rc<Flight>,
        started_generation: u64,
        result: Result<Fetched, ClientError>,
    ) {
        let now = self.runtime.now_ms();
        let event;
        let outcome;
        {
            let mut state = self.state.borrow_mut();
            if state.flight.as_ref().is_some_and(|f| Rc::ptr_eq(f, flight)) {
                state.flight = None;
            }
            if state.disposed {
                drop(state);
                flight.complete(Err(ClientError::disposed()));
                return;
            }
            if state.generation != started_generation {
                // `setToken` ran meanwhile: its token is newer than whatever this refresh got.
                drop(state);
                flight.complete(Ok(()));
                return;
            }
            let at = self.runtime.arrival();
            let result = result.and_then(|fetched| {
                token::admit(&fetched.claims, state.token.as_ref(), at)
                    .map(|()| fetched)
                    .map_err(|_| {
                        ClientError::new(
                            codes::REFRESH_FAILED,
                            "The refresh callback returned an expired token",
                        )
                    })
            });
            // The token already held, handed back while it is expiring: nothing was renewed, so
            // back off like any failure instead of asking again on every call.
            let held_state = state
                .token
                .as_ref()
                .map(|t| policy::token_state(now, t.deadline_ms, self.margin_for(t)));
            let result = result.and_then(|fetched| {
                let same = state
                    .token
                    .as_ref()
                    .is_some_and(|t| t.secret == fetched.secret);
                if same && held_state != Some(TokenState::Fresh) {
                    Err(ClientError::new(
                        codes::REFRESH_FAILED,
                        "The refresh callback returned the token already held, which is expiring",
                    ))
                } else {
                    Ok(fetched)
                }
            });
            match result {
                Ok(fetched)
                    if state
                        .token
                        .as_ref()
                        .is_some_and(|t| t.secret == fetched.secret) =>
                {
                    // The same, still fresh token (a 401 recovery): nothing changed, so no replay.
                    state.failures = 0;
                    state.retry_at_ms = 0.0;
                    state.last_error = None;
                    drop(state);
                    flight.complete(Ok(()));
                    return;
                }
                Ok(fetched) => {
                    let same_identity = state
                        .token
                        .as_ref()
                        .is_some_and(|t| t.claims.same_identity(&fetched.claims));
                    let mut held = HeldToken::new(fetched.secret, fetched.claims, at);
                    held.source = fetched.source;
                    state.token = Some(held);
                    state.generation += 1;
                    state.failures = 0;
                    state.retry_at_ms = 0.0;
                    state.last_error = None;
                    event = CellEvent::TokenChanged { same_identity };
                    outcome = Ok(());
                }
                Err(mut error) => {
                    // The server's own refusals keep their code and status.
                    if !error.is(codes::REFRESH_FAILED) && error.status.is_none() {
                        let mut message = String::from("Token refresh failed: ");
                        message.push_str(&error.message);
                        error = ClientError::new(codes::REFRESH_FAILED, message);
                    }
                    state.failures += 1;
                    state.retry_at_ms =
                        now + policy::backoff_ms(state.failures, self.runtime.random());
                    state.last_error = Some(error.clone());
                    event = CellEvent::RefreshFailed(error.clone());
                    outcome = Err(error);
                }
            }
        }
        (self.observer)(event);
        flight.complete(outcome);
    }

    /// `setToken` with a decoded token: the admission rule every entry point shares, then
    /// [`TokenCell::set`].
    pub fn set_checked(&self, secret: String, claims: Claims) -> Result<HeldToken, ClientError> {
        if self.is_disposed() {
            return Err(ClientError::disposed());
        }
        let at = self.runtime.arrival();
        token::admit(&claims, self.token().as_ref(), at)?;
        let mut held = token::handed_over(secret, claims, at, self.source.is_some());
        held.source = token::Source::SetToken;
        self.set(held.clone());
        Ok(held)
    }

    /// `setToken`: later requests use `token`; requests in flight keep theirs; back-off resets;
    /// callers waiting on a refresh proceed with this token.
    pub fn set(&self, token: HeldToken) {
        let (flight, same_identity) = {
            let mut state = self.state.borrow_mut();
            if state.disposed {
                return;
            }
            if state
                .token
                .as_ref()
                .is_some_and(|t| t.secret == token.secret)
            {
                return; // the token already held: nothing to swap
            }
            let same = state
                .token
                .as_ref()
                .is_some_and(|t| t.claims.same_identity(&token.claims));
            state.token = Some(token);
            state.generation += 1;
            state.failures = 0;
            state.retry_at_ms = 0.0;
            state.last_error = None;
            (state.flight.take(), same)
        };
        (self.observer)(CellEvent::TokenChanged { same_identity });
        if let Some(flight) = flight {
            flight.complete(Ok(()));
        }
    }

    /// A token another tab of the group holds (`crossTab`): taken when it is of the same identity
    /// and expires later than the held one; waiters on a refresh proceed with it. `true` if taken.
    pub fn adopt(&self, secret: String, claims: Claims) -> bool {
        let at = self.runtime.arrival();
        let flight = {
            let mut state = self.state.borrow_mut();
            let held = state.token.as_ref();
            if state.disposed
                || held.is_some_and(|h| h.secret == secret)
                || !super::crosstab::takes(&claims, held)
                || token::admit(&claims, held, at).is_err()
            {
                return false;
            }
            let mut token = HeldToken::new(secret, claims, at);
            token.source = token::Source::Tab;
            state.token = Some(token);
            state.generation += 1;
            state.failures = 0;
            state.retry_at_ms = 0.0;
            state.last_error = None;
            state.flight.take()
        };
        (self.observer)(CellEvent::TokenChanged {
            same_identity: true,
        });
        if let Some(flight) = flight {
            flight.complete(Ok(()));
        }
        true
    }

    /// Forgets the token (its identity no longer holds, or its workspace is gone): the next caller
    /// fetches a new one, callers waiting on a refresh retry, back-off ends, and a refresh in
    /// flight is discarded when it lands.
    pub fn clear(&self) {
        let flight = {
            let mut state = self.state.borrow_mut();
            if state.disposed {
                return;
            }
            state.token = None;
            state.generation += 1;
            state.failures = 0;
            state.retry_at_ms = 0.0;
            state.last_error = None;
            state.flight.take()
        };
        if let Some(flight) = flight {
            flight.complete(Ok(()));
        }
    }

    /// Drops the token, wakes every waiter with `disposed`, and never calls the source again.
    pub fn dispose(&self) {
        let flight = {
            let mut state = self.state.borrow_mut();
            state.disposed = true;
            state.token = None;
            state.flight.take()
        };
        if let Some(flight) = flight {
            flight.complete(Err(ClientError::disposed()));
        }
    }
}

//! What the core needs from its host environment, as traits: the browser binding implements
//! them with `Date.now`, `setTimeout` and `fetch`; native tests with a manual clock.

use super::token::{Arrival, Claims, Source};
use crate::prelude::*;
use core::future::Future;
use core::pin::Pin;

pub type LocalFuture<T> = Pin<Box<dyn Future<Output = T>>>;

pub trait Runtime {
    /// Wall-clock milliseconds (`Date.now()`).
    fn now_ms(&self) -> f64;
    /// Monotonic milliseconds (`performance.now()`): never jumps when the wall clock is set.
    fn monotonic_ms(&self) -> f64;
    /// Now, on both clocks.
    fn arrival(&self) -> Arrival {
        Arrival {
            wall_ms: self.now_ms(),
            mono_ms: self.monotonic_ms(),
        }
    }
    /// Uniform in [0, 1), for jitter.
    fn random(&self) -> f64;
}

/// Timers for the native drivers (`request::send_authorised`, `Refresh::run`, …): the browser's
/// waits are JS timers (js/fetch.js, js/lifecycle.js), so the wasm has no future to sleep in.
pub trait Sleep {
    /// Resolves after `ms`; dropping it cancels the timer.
    fn sleep(&self, ms: f64) -> LocalFuture<()>;
}

/// Why a refresh was asked for (`RefreshContext.reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshReason {
    Expiring,
    Expired,
    Unauthorized,
}

impl RefreshReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RefreshReason::Expiring => "expiring",
            RefreshReason::Expired => "expired",
            RefreshReason::Unauthorized => "unauthorized",
        }
    }
}

/// A token a refresh fetched (`core::cell::TokenSource`), decoded but not yet held.
pub struct Fetched {
    pub secret: String,
    pub claims: Claims,
    /// `Refresh`, or `Tab` when another tab of the group fetched it.
    pub source: Source,
}

impl Fetched {
    /// A token this source fetched itself.
    pub fn new(secret: String, claims: Claims) -> Self {
        Fetched {
            secret,
            claims,
            source: Source::Refresh,
        }
    }
}

/// A request as the transport sends it (the bearer is added per attempt).
#[derive(Debug, Clone, PartialEq)]
pub struct HttpRequest {
    pub method: &'static str,
    pub url: String,
    pub body: Option<Body>,
}

/// A request body the core builds.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// JSON text, sent as `application/json`.
    Json(String),
    /// Raw bytes, sent as `application/octet-stream`.
    Bytes(Vec<u8>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportError {
    Network,
    Timeout,
    Aborted,
    Disposed,
}

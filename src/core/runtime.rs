//! What the core needs from its host environment, as traits: the browser binding implements
//! them with `Date.now`, `setTimeout` and `fetch`; native tests with a manual clock.

use super::error::ClientError;
use super::token::Claims;
use std::future::Future;
use std::pin::Pin;

pub type LocalFuture<T> = Pin<Box<dyn Future<Output = T>>>;

pub trait Runtime {
    /// Wall-clock milliseconds (`Date.now()`).
    fn now_ms(&self) -> f64;
    /// Uniform in [0, 1), for jitter.
    fn random(&self) -> f64;
    fn sleep(&self, ms: f64) -> LocalFuture<()>;
    /// Runs a task to completion in the background.
    fn spawn(&self, task: LocalFuture<()>);
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

/// A token fetched by a [`TokenSource`], decoded but not yet held.
pub struct Fetched {
    pub secret: String,
    pub claims: Claims,
}

/// Where fresh tokens come from: the host's refresh callback, or the mint endpoints.
pub trait TokenSource {
    fn fetch(&self, reason: RefreshReason) -> LocalFuture<Result<Fetched, ClientError>>;
}

/// A request as the transport sends it (the bearer is added per attempt).
#[derive(Debug, Clone)]
pub struct HttpRequest {
    pub method: &'static str,
    pub url: String,
    /// JSON text.
    pub body: Option<String>,
}

impl HttpRequest {
    pub fn is_idempotent(&self) -> bool {
        self.method == "GET"
    }
}

/// The parts of a JSON body the core reads to tell success from failure.
#[derive(Debug, Clone, Default)]
pub struct Envelope {
    /// The body parsed as JSON.
    pub is_json: bool,
    pub success: Option<bool>,
    pub code: Option<String>,
    pub message: Option<String>,
}

#[derive(Debug, Clone)]
pub struct HttpResponse<B> {
    pub status: u16,
    pub retry_after: Option<String>,
    pub request_id: Option<String>,
    pub envelope: Envelope,
    /// The parsed JSON body, when it was JSON.
    pub body: Option<B>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportError {
    Network,
    Timeout,
    Aborted,
    Disposed,
}

pub trait Transport<B> {
    fn send(
        &self,
        request: &HttpRequest,
        bearer: &str,
    ) -> LocalFuture<Result<HttpResponse<B>, TransportError>>;
}

//! A future that resolves when an AbortSignal aborts; its listener (js/lifecycle.js) goes with it.

use super::platform::{aborted, Waiting};
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use web_sys::AbortSignal;

/// Resolves when `signal` aborts (at once if it already has); the listener goes with it.
pub struct Aborted {
    signal: AbortSignal,
    wait: Waiting,
}

impl Aborted {
    pub fn new(signal: &AbortSignal) -> Self {
        Aborted {
            signal: signal.clone(),
            wait: Waiting::new(aborted(signal)),
        }
    }
}

impl Future for Aborted {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // Seen as soon as the task runs, not a promise job later.
        if self.signal.aborted() {
            return Poll::Ready(());
        }
        Pin::new(&mut self.wait).poll(cx)
    }
}

//! AbortSignal plumbing: a future that resolves when a signal aborts (its listener ends with it),
//! and a signal that aborts when any of several does.

use gloo_events::EventListener;
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use web_sys::AbortSignal;

/// Resolves when `signal` aborts (at once if it already has); the listener goes with it.
pub struct Aborted {
    signal: AbortSignal,
    waker: Rc<RefCell<Option<Waker>>>,
    _listener: EventListener,
}

impl Aborted {
    pub fn new(signal: &AbortSignal) -> Self {
        let waker: Rc<RefCell<Option<Waker>>> = Rc::default();
        let shared = waker.clone();
        let listener = EventListener::once(signal, "abort", move |_| {
            if let Some(w) = shared.borrow_mut().take() {
                w.wake();
            }
        });
        Aborted {
            signal: signal.clone(),
            waker,
            _listener: listener,
        }
    }
}

impl Future for Aborted {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.signal.aborted() {
            return Poll::Ready(());
        }
        *self.waker.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    }
}

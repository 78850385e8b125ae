//! AbortSignal plumbing: a future that resolves when a signal aborts, and linking signals.

use js_sys::Function;
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use wasm_bindgen::prelude::*;
use web_sys::{AbortController, AbortSignal};

/// Calls `on_abort` once when `signal` aborts; the listener is removed when this is dropped.
pub struct AbortListener {
    signal: AbortSignal,
    closure: Closure<dyn FnMut()>,
}

impl AbortListener {
    pub fn new(signal: &AbortSignal, on_abort: impl FnMut() + 'static) -> Self {
        let closure = Closure::<dyn FnMut()>::new(on_abort);
        let _ = signal.add_event_listener_with_callback("abort", closure.as_ref().unchecked_ref());
        AbortListener {
            signal: signal.clone(),
            closure,
        }
    }
}

impl Drop for AbortListener {
    fn drop(&mut self) {
        let callback: &Function = self.closure.as_ref().unchecked_ref();
        let _ = self
            .signal
            .remove_event_listener_with_callback("abort", callback);
    }
}

/// Resolves when `signal` aborts (at once if it already has).
pub struct Aborted {
    signal: AbortSignal,
    waker: Rc<RefCell<Option<Waker>>>,
    _listener: AbortListener,
}

impl Aborted {
    pub fn new(signal: &AbortSignal) -> Self {
        let waker: Rc<RefCell<Option<Waker>>> = Rc::default();
        let shared = waker.clone();
        let listener = AbortListener::new(signal, move || {
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

/// A fresh controller that aborts when any of `signals` does (kept linked while alive).
pub struct LinkedController {
    pub controller: AbortController,
    _links: Vec<AbortListener>,
}

impl LinkedController {
    pub fn new(signals: &[&AbortSignal]) -> Option<Self> {
        let controller = AbortController::new().ok()?;
        let mut links = Vec::with_capacity(signals.len());
        for signal in signals {
            if signal.aborted() {
                controller.abort();
            }
            let target = controller.clone();
            links.push(AbortListener::new(signal, move || target.abort()));
        }
        Some(LinkedController {
            controller,
            _links: links,
        })
    }

    pub fn signal(&self) -> AbortSignal {
        self.controller.signal()
    }
}

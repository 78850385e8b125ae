//! AbortSignal plumbing: a future that resolves when a signal aborts, and a deadline that aborts
//! a request unless it is dropped first. Listeners and timers end with their owners.

use super::platform::timer_delay;
use gloo_events::EventListener;
use gloo_timers::callback::Timeout;
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use wasm_bindgen::prelude::*;
use web_sys::{AbortController, AbortSignal};

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

/// A signal that aborts when any of `signals` does (`AbortSignal.any`).
pub fn any(signals: &[&AbortSignal]) -> AbortSignal {
    let list = js_sys::Array::new();
    for signal in signals {
        list.push(signal);
    }
    AbortSignal::any(&list)
}

/// Aborts its signal after `ms`, unless dropped first (then the timer is cleared).
pub struct Deadline {
    controller: AbortController,
    _timer: Timeout,
}

impl Deadline {
    pub fn new(ms: f64) -> Result<Self, JsValue> {
        let controller = AbortController::new()?;
        let target = controller.clone();
        let timer = Timeout::new(timer_delay(ms), move || target.abort());
        Ok(Deadline {
            controller,
            _timer: timer,
        })
    }

    pub fn signal(&self) -> AbortSignal {
        self.controller.signal()
    }

    pub fn passed(&self) -> bool {
        self.controller.signal().aborted()
    }
}

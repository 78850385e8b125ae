//! A single-flight result: many waiters, one outcome. Completing twice keeps the first outcome.

use super::error::ClientError;
use crate::prelude::*;
use alloc::rc::Rc;
use core::cell::RefCell;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

/// The outcome once known, and the waiters to wake then (by id: a waiter that is dropped
/// before the outcome takes its waker out, so a long-lived flight does not grow).
#[derive(Default)]
struct FlightState {
    outcome: Option<Result<(), ClientError>>,
    waiters: Vec<(u64, Waker)>,
    next_id: u64,
    /// Told the outcome once (the browser's waits: a promise's settling).
    callbacks: Vec<Done>,
}

/// What a flight's outcome goes to ([`Flight::on_complete`]).
pub type Done = Box<dyn FnOnce(&Result<(), ClientError>)>;

#[derive(Default)]
pub struct Flight {
    state: RefCell<FlightState>,
}

impl Flight {
    pub fn new() -> Rc<Self> {
        Rc::new(Flight::default())
    }

    pub fn complete(&self, result: Result<(), ClientError>) {
        let (waiters, callbacks) = {
            let mut state = self.state.borrow_mut();
            if state.outcome.is_some() {
                return;
            }
            state.outcome = Some(result.clone());
            (
                core::mem::take(&mut state.waiters),
                core::mem::take(&mut state.callbacks),
            )
        };
        // Outside the borrow: a waker may poll synchronously, a callback may wait again.
        for (_, waker) in waiters {
            waker.wake();
        }
        for done in callbacks {
            done(&result);
        }
    }

    /// `done` is told the outcome: when it comes, or now if it has.
    pub fn on_complete(&self, done: Done) {
        let outcome = {
            let mut state = self.state.borrow_mut();
            match &state.outcome {
                Some(outcome) => outcome.clone(),
                None => return state.callbacks.push(done),
            }
        };
        done(&outcome);
    }

    pub fn wait(self: &Rc<Self>) -> FlightWait {
        FlightWait {
            flight: self.clone(),
            id: None,
        }
    }

    /// Waiters registered now (tests: none are left behind by dropped waits).
    pub fn waiting(&self) -> usize {
        self.state.borrow().waiters.len()
    }
}

pub struct FlightWait {
    flight: Rc<Flight>,
    id: Option<u64>,
}

impl Future for FlightWait {
    type Output = Result<(), ClientError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let flight = self.flight.clone();
        let mut state = flight.state.borrow_mut();
        if let Some(result) = &state.outcome {
            return Poll::Ready(result.clone());
        }
        let id = match self.id {
            Some(id) => id,
            None => {
                let id = state.next_id;
                state.next_id += 1;
                self.id = Some(id);
                id
            }
        };
        match state.waiters.iter_mut().find(|(i, _)| *i == id) {
            Some((_, waker)) => waker.clone_from(cx.waker()),
            None => state.waiters.push((id, cx.waker().clone())),
        }
        Poll::Pending
    }
}

impl Drop for FlightWait {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            if let Ok(mut state) = self.flight.state.try_borrow_mut() {
                state.waiters.retain(|(i, _)| *i != id);
            }
        }
    }
}

/// Polls two futures; the first to finish wins (the other is dropped).
pub async fn race<T>(a: impl Future<Output = T>, b: impl Future<Output = T>) -> T {
    let mut a = core::pin::pin!(a);
    let mut b = core::pin::pin!(b);
    core::future::poll_fn(|cx| {
        if let Poll::Ready(v) = a.as_mut().poll(cx) {
            return Poll::Ready(v);
        }
        b.as_mut().poll(cx)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn poll<F: Future + Unpin>(future: &mut F, count: &Arc<Count>) -> Poll<F::Output> {
        let waker = Waker::from(count.clone());
        Pin::new(future).poll(&mut Context::from_waker(&waker))
    }

    #[test]
    fn a_dropped_wait_leaves_no_waiter_behind() {
        let flight = Flight::new();
        let count = Arc::new(Count(AtomicUsize::new(0)));
        for _ in 0..1000 {
            let mut wait = flight.wait();
            assert!(poll(&mut wait, &count).is_pending());
            assert!(
                poll(&mut wait, &count).is_pending(),
                "a second poll re-registers"
            );
        }
        assert_eq!(flight.waiting(), 0);
    }

    #[test]
    fn completion_wakes_every_waiter_once_and_keeps_the_first_outcome() {
        let flight = Flight::new();
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let (mut a, mut b) = (flight.wait(), flight.wait());
        assert!(poll(&mut a, &count).is_pending());
        assert!(poll(&mut b, &count).is_pending());
        assert!(poll(&mut a, &count).is_pending());
        assert_eq!(flight.waiting(), 2);
        flight.complete(Err(ClientError::disposed()));
        flight.complete(Ok(()));
        assert_eq!(count.0.load(Ordering::SeqCst), 2);
        assert!(matches!(poll(&mut a, &count), Poll::Ready(Err(_))));
        assert!(matches!(poll(&mut b, &count), Poll::Ready(Err(_))));
        assert!(matches!(
            poll(&mut flight.wait(), &count),
            Poll::Ready(Err(_))
        ));
    }

    #[test]
    fn a_callback_hears_the_first_outcome_once_even_when_it_came_before() {
        let flight = Flight::new();
        let heard = Rc::new(RefCell::new(Vec::new()));
        let hear = |name: &'static str| -> Done {
            let heard = heard.clone();
            Box::new(move |outcome| heard.borrow_mut().push((name, outcome.is_ok())))
        };
        flight.on_complete(hear("before"));
        assert!(heard.borrow().is_empty());
        flight.complete(Ok(()));
        flight.complete(Err(ClientError::disposed()));
        flight.on_complete(hear("after"));
        assert_eq!(*heard.borrow(), [("before", true), ("after", true)]);
    }
}

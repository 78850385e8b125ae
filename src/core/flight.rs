//! A single-flight result: many waiters, one outcome. Completing twice keeps the first outcome.

use super::error::ClientError;
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

/// The outcome once known, and the waiters to wake then.
type FlightState = (Option<Result<(), ClientError>>, Vec<Waker>);

#[derive(Default)]
pub struct Flight {
    state: RefCell<FlightState>,
}

impl Flight {
    pub fn new() -> Rc<Self> {
        Rc::new(Flight::default())
    }

    pub fn complete(&self, result: Result<(), ClientError>) {
        let wakers = {
            let mut state = self.state.borrow_mut();
            if state.0.is_some() {
                return;
            }
            state.0 = Some(result);
            std::mem::take(&mut state.1)
        };
        // Wake outside the borrow: a waker may poll synchronously.
        for waker in wakers {
            waker.wake();
        }
    }

    pub fn wait(self: &Rc<Self>) -> FlightWait {
        FlightWait(self.clone())
    }
}

pub struct FlightWait(Rc<Flight>);

impl Future for FlightWait {
    type Output = Result<(), ClientError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.0.state.borrow_mut();
        match &state.0 {
            Some(result) => Poll::Ready(result.clone()),
            None => {
                if !state.1.iter().any(|w| w.will_wake(cx.waker())) {
                    state.1.push(cx.waker().clone());
                }
                Poll::Pending
            }
        }
    }
}

/// Polls two futures; the first to finish wins (the other is dropped).
pub async fn race<T>(a: impl Future<Output = T>, b: impl Future<Output = T>) -> T {
    let mut a = std::pin::pin!(a);
    let mut b = std::pin::pin!(b);
    std::future::poll_fn(|cx| {
        if let Poll::Ready(v) = a.as_mut().poll(cx) {
            return Poll::Ready(v);
        }
        b.as_mut().poll(cx)
    })
    .await
}

//! Two single-threaded async primitives for streams: a [`Gate`] lets one reader at a time pull
//! from a body (`next()`, `wait()`, `taskId` of the same stream take turns), and a [`Notify`]
//! wakes whoever waits for the stream's state to change. Dropping a waiting future is always
//! safe (it leaves only a stale waker).

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// Wakers waiting on something, woken all at once (each re-checks its condition).
#[derive(Default)]
pub struct Notify {
    version: Cell<u64>,
    wakers: RefCell<Vec<Waker>>,
}

impl Notify {
    pub fn version(&self) -> u64 {
        self.version.get()
    }

    pub fn notify(&self) {
        self.version.set(self.version.get() + 1);
        let wakers = std::mem::take(&mut *self.wakers.borrow_mut());
        for waker in wakers {
            waker.wake();
        }
    }

    /// Resolves after the next [`Notify::notify`] following version `since`.
    pub fn changed(&self, since: u64) -> Changed<'_> {
        Changed {
            notify: self,
            since,
        }
    }
}

pub struct Changed<'a> {
    notify: &'a Notify,
    since: u64,
}

impl Future for Changed<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.notify.version.get() != self.since {
            return Poll::Ready(());
        }
        self.notify.wakers.borrow_mut().push(cx.waker().clone());
        Poll::Pending
    }
}

/// One holder at a time; the others wait for it to be released.
#[derive(Default)]
pub struct Gate {
    busy: Cell<bool>,
    released: Notify,
}

/// Holding the gate; dropping it lets the next one in.
pub struct Pass<'a>(&'a Gate);

impl Drop for Pass<'_> {
    fn drop(&mut self) {
        self.0.busy.set(false);
        self.0.released.notify();
    }
}

impl Gate {
    pub async fn enter(&self) -> Pass<'_> {
        loop {
            if !self.busy.get() {
                self.busy.set(true);
                return Pass(self);
            }
            let since = self.released.version();
            self.released.changed(since).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::task::noop_waker;
    use std::rc::Rc;

    #[test]
    fn one_at_a_time() {
        let gate = Rc::new(Gate::default());
        let waker = noop_waker();
        let mut cx = Context::from_waker(&waker);
        let mut first = Box::pin(gate.enter());
        let pass = match first.as_mut().poll(&mut cx) {
            Poll::Ready(p) => p,
            Poll::Pending => panic!("the gate was free"),
        };
        let mut second = Box::pin(gate.enter());
        assert!(second.as_mut().poll(&mut cx).is_pending());
        drop(pass);
        assert!(second.as_mut().poll(&mut cx).is_ready());
    }

    #[test]
    fn notify_wakes_changed() {
        let notify = Notify::default();
        let waker = noop_waker();
        let mut cx = Context::from_waker(&waker);
        let since = notify.version();
        let mut changed = Box::pin(notify.changed(since));
        assert!(changed.as_mut().poll(&mut cx).is_pending());
        notify.notify();
        assert!(changed.as_mut().poll(&mut cx).is_ready());
    }
}

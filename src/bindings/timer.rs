//! One `setTimeout` per token cell, re-armed from the cell's next due time. A timer is only an
//! optimisation: every call checks the token first anyway (timers freeze in background tabs).

use super::runtime::{clear_timeout, set_timeout, MAX_TIMEOUT_MS};
use crate::core::cell::TokenCell;
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;

/// A pending `setTimeout` and the closure it will call.
type Pending = (JsValue, Closure<dyn FnMut()>);

#[derive(Default)]
pub struct CellTimer {
    cell: RefCell<Weak<TokenCell>>,
    pending: RefCell<Option<Pending>>,
}

impl CellTimer {
    pub fn new() -> Rc<Self> {
        Rc::new(CellTimer::default())
    }

    pub fn attach(&self, cell: &Rc<TokenCell>) {
        self.cell.replace(Rc::downgrade(cell));
    }

    pub fn cancel(&self) {
        if let Some((handle, _closure)) = self.pending.borrow_mut().take() {
            clear_timeout(&handle);
        }
    }

    /// Schedules the next check, replacing any pending one.
    pub fn rearm(self: &Rc<Self>) {
        self.cancel();
        let Some(cell) = self.cell.borrow().upgrade() else {
            return;
        };
        let Some(due) = cell.next_check_ms() else {
            return;
        };
        let delay = (due - js_sys::Date::now()).clamp(0.0, MAX_TIMEOUT_MS);
        let weak = Rc::downgrade(self);
        let closure = Closure::<dyn FnMut()>::new(move || {
            if let Some(timer) = weak.upgrade() {
                timer.wake();
            }
        });
        let handle = set_timeout(closure.as_ref().unchecked_ref(), delay);
        *self.pending.borrow_mut() = Some((handle, closure));
    }

    /// The timer fired or the page came back: refresh if due, then re-arm.
    pub fn wake(self: &Rc<Self>) {
        let cell = self.cell.borrow().upgrade();
        if let Some(cell) = cell {
            if cell.is_disposed() {
                return;
            }
            cell.check();
        }
        self.rearm();
    }
}

//! Injected time, so expiry and rotation are testable without sleeping.

use futures::future::LocalBoxFuture;
use futures::FutureExt;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::task::{Poll, Waker};

pub trait Clock {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;
    fn now_sec(&self) -> u64 {
        self.now_ms() / 1000
    }
    /// Resolves once `ms` milliseconds have passed on this clock (keep-alives of
    /// long-lived streams).
    fn sleep(self: Rc<Self>, ms: u64) -> LocalBoxFuture<'static, ()>;
}

/// A clock that moves only when told to: the Rust tests' clock. Sleepers wake when
/// `advance_ms` moves it past their deadline.
#[derive(Debug, Default)]
pub struct FixedClock {
    now: Cell<u64>,
    sleepers: RefCell<Vec<Waker>>,
}

impl FixedClock {
    pub fn at_ms(ms: u64) -> Self {
        FixedClock {
            now: Cell::new(ms),
            sleepers: RefCell::default(),
        }
    }
    pub fn advance_ms(&self, ms: u64) {
        self.now.set(self.now.get() + ms);
        let sleepers = std::mem::take(&mut *self.sleepers.borrow_mut());
        for waker in sleepers {
            waker.wake();
        }
    }
    pub fn advance_sec(&self, sec: u64) {
        self.advance_ms(sec * 1000);
    }
}

impl Clock for FixedClock {
    fn now_ms(&self) -> u64 {
        self.now.get()
    }
    fn sleep(self: Rc<Self>, ms: u64) -> LocalBoxFuture<'static, ()> {
        let deadline = self.now_ms() + ms;
        futures::future::poll_fn(move |cx| {
            if self.now_ms() >= deadline {
                Poll::Ready(())
            } else {
                self.sleepers.borrow_mut().push(cx.waker().clone());
                Poll::Pending
            }
        })
        .boxed_local()
    }
}

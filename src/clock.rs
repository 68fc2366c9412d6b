//! Injected time, so expiry and rotation are testable without sleeping.

use futures::future::{LocalBoxFuture, Shared};
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

/// One timer shared by every request that waits on it: a request that may run long waits
/// for this timer's ticks instead of arming a host timer of its own, which would cost a
/// `setTimeout` and a crossing back into the wasm for every request (issue 12). A tick is
/// a sleep of one period on the clock, armed by the first waiter after the last tick came.
pub struct Ticker {
    period_ms: u64,
    current: RefCell<Option<Shared<LocalBoxFuture<'static, ()>>>>,
}

impl Ticker {
    pub const fn new(period_ms: u64) -> Self {
        Ticker {
            period_ms,
            current: RefCell::new(None),
        }
    }

    /// Resolves after `n` ticks: at least `n - 1` periods from now (the first tick may be
    /// one armed earlier, or one that came while nobody waited) and at most `n`.
    pub fn ticks(self: &Rc<Self>, clock: &Rc<dyn Clock>, n: u32) -> LocalBoxFuture<'static, ()> {
        let (ticker, clock) = (self.clone(), clock.clone());
        async move {
            for _ in 0..n {
                ticker.next(&clock).await;
            }
        }
        .boxed_local()
    }

    /// Resolves at the first tick at which `clock` reads `deadline_ms` or later: a long
    /// wait that follows the clock (a test's, or the dev host's when moved) with no timer
    /// of its own.
    pub fn until(
        self: &Rc<Self>,
        clock: &Rc<dyn Clock>,
        deadline_ms: u64,
    ) -> LocalBoxFuture<'static, ()> {
        let (ticker, clock) = (self.clone(), clock.clone());
        async move {
            while clock.now_ms() < deadline_ms {
                ticker.next(&clock).await;
            }
        }
        .boxed_local()
    }

    /// The tick being waited for, or a new one once it has come.
    fn next(&self, clock: &Rc<dyn Clock>) -> Shared<LocalBoxFuture<'static, ()>> {
        let mut current = self.current.borrow_mut();
        match &*current {
            Some(tick) if tick.peek().is_none() => tick.clone(),
            _ => {
                let tick = clock.clone().sleep(self.period_ms).shared();
                *current = Some(tick.clone());
                tick
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fixed clock that counts the sleeps asked of it (each is a host timer in the wasm).
    #[derive(Default)]
    struct Counting {
        clock: Rc<FixedClock>,
        sleeps: Cell<usize>,
    }

    impl Clock for Counting {
        fn now_ms(&self) -> u64 {
            self.clock.now_ms()
        }
        fn sleep(self: Rc<Self>, ms: u64) -> LocalBoxFuture<'static, ()> {
            self.sleeps.set(self.sleeps.get() + 1);
            self.clock.clone().sleep(ms)
        }
    }

    /// A one-second ticker on a counting clock; the clock as the ticker is given it.
    fn one_second_ticker() -> (Rc<Counting>, Rc<dyn Clock>, Rc<Ticker>) {
        let counting = Rc::new(Counting::default());
        (counting.clone(), counting, Rc::new(Ticker::new(1_000)))
    }

    #[test]
    fn many_waiters_share_one_timer_per_tick() {
        let (counting, clock, ticker) = one_second_ticker();
        let mut waiters: Vec<_> = (0..100).map(|_| ticker.ticks(&clock, 2)).collect();
        for waiter in &mut waiters {
            assert!(waiter.as_mut().now_or_never().is_none());
        }
        assert_eq!(counting.sleeps.get(), 1, "one timer for the first tick");
        counting.clock.advance_ms(999);
        assert!(waiters
            .iter_mut()
            .all(|w| w.as_mut().now_or_never().is_none()));
        counting.clock.advance_ms(1);
        assert!(waiters
            .iter_mut()
            .all(|w| w.as_mut().now_or_never().is_none()));
        assert_eq!(counting.sleeps.get(), 2, "one timer for the second tick");
        counting.clock.advance_ms(1_000);
        assert!(waiters
            .iter_mut()
            .all(|w| w.as_mut().now_or_never().is_some()));
        assert_eq!(counting.sleeps.get(), 2);
    }

    #[test]
    fn a_waiter_that_joins_late_still_waits_a_period_or_more() {
        let (counting, clock, ticker) = one_second_ticker();
        let mut early = ticker.ticks(&clock, 2);
        assert!(early.as_mut().now_or_never().is_none());
        counting.clock.advance_ms(900);
        // Joins the tick armed 900 ms ago; its second tick is a whole period after that.
        let mut late = ticker.ticks(&clock, 2);
        assert!(late.as_mut().now_or_never().is_none());
        // Both are polled when a tick wakes them.
        counting.clock.advance_ms(100);
        assert!(early.as_mut().now_or_never().is_none());
        assert!(late.as_mut().now_or_never().is_none());
        counting.clock.advance_ms(999);
        assert!(
            late.as_mut().now_or_never().is_none(),
            "1,099 ms after it asked"
        );
        counting.clock.advance_ms(1);
        assert!(late.as_mut().now_or_never().is_some());
        assert!(early.as_mut().now_or_never().is_some());
    }

    #[test]
    fn a_tick_that_came_while_nobody_waited_counts_at_once() {
        let (counting, clock, ticker) = one_second_ticker();
        let mut gone = ticker.ticks(&clock, 2);
        assert!(gone.as_mut().now_or_never().is_none());
        drop(gone);
        counting.clock.advance_ms(2_500);
        // The tick armed at 0 is over: it counts as soon as polled, then a whole period.
        let mut next = ticker.ticks(&clock, 2);
        assert!(next.as_mut().now_or_never().is_none());
        assert_eq!(counting.sleeps.get(), 2);
        counting.clock.advance_ms(999);
        assert!(next.as_mut().now_or_never().is_none());
        counting.clock.advance_ms(1);
        assert!(next.as_mut().now_or_never().is_some(), "n - 1 periods");
    }

    #[test]
    fn until_ends_at_the_first_tick_on_or_after_the_deadline() {
        let (counting, clock, ticker) = one_second_ticker();
        let deadline = clock.now_ms() + 10_000;
        let mut wait = ticker.until(&clock, deadline);
        assert!(wait.as_mut().now_or_never().is_none());
        // A clock moved far at once (a test's, the dev host's) costs one tick, not nine.
        counting.clock.advance_ms(9_000);
        assert!(wait.as_mut().now_or_never().is_none());
        counting.clock.advance_ms(999);
        assert!(wait.as_mut().now_or_never().is_none());
        counting.clock.advance_ms(1);
        assert!(wait.as_mut().now_or_never().is_some());
        assert_eq!(counting.sleeps.get(), 2);
        // A deadline already passed needs no timer.
        assert!(ticker.until(&clock, deadline).now_or_never().is_some());
        assert_eq!(counting.sleeps.get(), 2);
    }
}

//! One turn of the loop: look outward (I/O, other threads, timers), then run what is ready.
//!
//! # One turn of the loop
//!
//! ```text
//!  block_on(main) ──► ┌──────────────────────────────────────────────────────────────────┐
//!                     │ 1. check events, if the ready queue is empty (then block) or if   │
//!                     │    `event_interval` polls ran since the last check (no blocking): │
//!                     │      epoll_wait ─► wake I/O waiters                               │
//!                     │      drain the cross-thread inbox ─► queue those wakes            │
//!                     │      advance the wheel to now ─► wake sleepers, queue callbacks   │
//!                     │ 2. run the snapshot: exactly the runnables queued *now*, in FIFO  │
//!                     │    order; whatever they wake or spawn waits for the next turn     │
//!                     └──────────────────────────────────────── repeat until main is done ┘
//! ```
//!
//! This is asyncio's `BaseEventLoop._run_once`, with one change. asyncio calls `select` on
//! every turn (with a zero timeout when work is ready), which costs one system call per turn
//! even for a loop that is only passing control between tasks. evloop checks for events at the
//! start of a turn only when nothing is ready (it must block anyway) or once at least
//! `event_interval` polls (default **61**) ran since the last check. So a task that wakes itself
//! forever (or a `yield_now` loop) still lets I/O and timers in at least every 61 polls, and a
//! busy loop pays one `epoll_wait` per 61 task steps instead of one per step. 61 is tokio's
//! `event_interval` (a prime, so it does not fall into step with periodic workloads); our
//! measurements of other values are in DESIGN.md §2.
//!
//! The first half, [`Core::check_events`], is the first half of asyncio's `_run_once`: compute
//! how long the loop may block, ask the OS for I/O events, then move due timers onto the ready
//! queue. evloop adds one step, draining the inbox of wakes sent from other threads.

use std::mem;
use std::task::Poll;
use std::time::Duration;

use crate::runtime::core::{Core, TimerAction};
use crate::runtime::observe::Observer;
use crate::scheduler::{Cause, Counters, Message, Runnable};
use crate::timer::clock::Clock;
use crate::{waits_on, waking};

/// Why the loop looks outward, which decides whether it may wait.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Check {
    /// Work is ready: look without waiting, and leave a virtual clock where it is.
    Busy,
    /// Nothing is ready: wait for I/O or the next timer (on a virtual clock, jump to it).
    Idle,
    /// A host program drives the loop (`Runtime::run_ready`): look without waiting, but let a
    /// virtual clock jump if nothing is ready, as an idle `block_on` would.
    Host,
}

impl Core {
    /// One turn (see the module docs). `poll_main` polls the `block_on` future; its output, once
    /// it has one, ends the turn at once and is returned.
    #[inline(always)] // one call per turn from block_on: keeping it out of line cost ~25 instructions a turn
    pub(crate) fn turn<T>(&self, poll_main: impl FnMut() -> Poll<T>) -> Option<T> {
        if self.recorder.is_some() {
            self.record_turn();
        }
        // 1. Look outward, when it is time to.
        self.look_if_due();
        // 2. Run exactly what is ready now.
        self.run_snapshot(poll_main)
    }

    /// Step 1 of a turn: checks for events if nothing is ready (waiting for them) or if
    /// `event_interval` polls ran since the last check (not waiting). Returns how it looked, if
    /// it did (`Runtime::run_once` reports it).
    #[inline(always)]
    pub(crate) fn look_if_due(&self) -> Option<Check> {
        let ready = self.sched.ready_len();
        if ready == 0 || self.polls_since_check.get() >= self.config.event_interval {
            let check = if ready == 0 { Check::Idle } else { Check::Busy };
            self.check_events(check);
            return Some(check);
        }
        None
    }

    /// Runs the ready snapshot: exactly the runnables queued now, in FIFO order. Returns the
    /// `block_on` future's output if it completed.
    #[inline(always)]
    pub(crate) fn run_snapshot<T>(&self, mut poll_main: impl FnMut() -> Poll<T>) -> Option<T> {
        let observe = Observer::for_turn(self);
        Counters::add(&self.sched.counters.turns, 1);
        let snapshot = self.sched.ready_len();
        for _ in 0..snapshot {
            let Some(next) = self.sched.pop() else { break };
            let started = observe.start(self, next);
            match next {
                Runnable::Main => {
                    self.sched.set_current(None);
                    self.io_budget.set(crate::runtime::core::IO_BUDGET);
                    let polled = poll_main();
                    // The block_on future is not a task: forget what it said it waits on, so
                    // the next task's note is its own (`waits_on.rs`).
                    drop(waits_on::take());
                    if let Poll::Ready(output) = polled {
                        observe.finish(self, next, started);
                        self.report_waker_panics();
                        return Some(output);
                    }
                }
                Runnable::Task(id) => self.run_task(id),
                Runnable::Callback(id) => self.run_callback(id),
            }
            observe.finish(self, next, started);
        }
        let polls = u32::try_from(snapshot).unwrap_or(u32::MAX);
        self.polls_since_check
            .set(self.polls_since_check.get().saturating_add(polls));
        None
    }

    /// Whether a virtual clock would jump at the next idle look: it has timers, and no blocking
    /// job is in flight (whose end could come first).
    pub(crate) fn idle_virtual_clock_can_jump(&self) -> bool {
        let timers = self.timers.borrow();
        timers.clock.auto_advances() && !timers.wheel.is_empty() && self.blocking_in_flight.get() == 0
    }

    /// Acts on timers that fired (the wheel's borrow released): wakes sleepers and queues
    /// `call_later` callbacks, counting them. Also used by `time::advance` (`runtime/step.rs`).
    pub(crate) fn fire(&self, fired: &mut Vec<TimerAction>) {
        Counters::add(&self.sched.counters.timers_fired, fired.len() as u64);
        if fired.is_empty() {
            return; // (most turns: skips the drain's bookkeeping)
        }
        self.sched.set_cause(Cause::Timer);
        for action in fired.drain(..) {
            self.fire_timer(action);
        }
    }

    /// Carries out the requests other threads sent (step 3 of a turn), emptying `messages`.
    fn run_messages(&self, messages: &mut Vec<Message>) {
        self.sched.set_cause(Cause::Remote);
        for message in messages.drain(..) {
            match message {
                Message::Wake(id) => self.wake_by_id(id),
                Message::Main => self.wake_main(),
                Message::Call(f) => {
                    self.call_soon(f);
                }
                Message::CancelTimer(key) => self.remove_timer(key),
                Message::Deregister(key) => {
                    let wakers = self.reactor.borrow_mut().forget(key);
                    drop(wakers);
                }
            }
        }
    }

    /// Polls for I/O (blocking only for [`Check::Idle`]), drains the cross-thread inbox, and
    /// fires due timers, queueing everything they wake.
    pub(crate) fn check_events(&self, check: Check) {
        let idle = check == Check::Idle;
        self.polls_since_check.set(0);
        self.sched.trim_ready();
        let mut scratch = mem::take(&mut *self.scratch.borrow_mut());

        // 1. How long may we block? Not at all if work is ready; on a virtual clock, not for a
        //    timer either (time jumps instead, in step 4); otherwise until the next timer, whose
        //    instant also goes to the reactor, to arm its alarm (`reactor/alarm.rs`).
        let (timeout, timer) = if !idle {
            (Some(Duration::ZERO), None)
        } else {
            let timers = self.timers.borrow();
            if timers.wheel.is_empty() {
                (None, None)
            } else if timers.clock.is_virtual() {
                // Paused (`time::pause`): time moves only by `time::advance`, so an idle loop
                // waits for I/O or another thread, as a real loop with no timer would.
                if self.blocking_in_flight.get() > 0 || !timers.clock.auto_advances() {
                    (None, None)
                } else {
                    (Some(Duration::ZERO), None)
                }
            } else {
                let at = timers.next_deadline();
                (at.map(|at| at.saturating_duration_since(timers.now())), at)
            }
        };
        if self.sched.tracing.get() {
            crate::trace::polling_io(timeout);
        }

        // 2. I/O: one `epoll_wait`, then wake the tasks waiting on the sockets that are ready.
        //    With no socket registered and no wait wanted (work is ready, or a virtual clock is
        //    about to jump), there is nothing to ask the OS: a wake from another thread also
        //    raises the inbox's `pending` flag, checked in step 3.
        let skip_io = timeout == Some(Duration::ZERO) && self.reactor.borrow().len() == 0;
        if !skip_io {
            self.io_polls.set(self.io_polls.get() + 1);
            let waiting = if self.recorder.is_some() {
                self.record_io_wait_start()
            } else {
                0
            };
            let turned = self.reactor.borrow_mut().turn(timeout, timer, &mut scratch.wakers);
            let events = match turned {
                Ok(events) => events,
                // epoll_wait only fails on a broken poll fd or bad memory; nothing can recover.
                Err(e) => panic!("evloop: polling for I/O failed: {e}"),
            };
            if self.recorder.is_some() {
                self.record_io_wait(timeout, events, waiting);
            }
            Counters::add(&self.sched.counters.io_events, events as u64);
        }
        for ready in scratch.wakers.drain(..) {
            self.sched.set_cause(Cause::Io {
                source: ready.key,
                direction: ready.direction,
            });
            waking::wake(ready.waker);
        }

        // 3. Requests from other threads.
        self.inbox.drain(&mut scratch.messages);
        if !scratch.messages.is_empty() {
            self.run_messages(&mut scratch.messages);
        }

        // 4. Timers. On a virtual clock with nothing else to do, jump to the next deadline.
        let has_timers = !self.timers.borrow().wheel.is_empty();
        let advanced_to = if has_timers {
            // One clock read serves the jump test and the advance: only a jump moves the clock
            // in between (a real clock's later read would differ by the few instructions between
            // them, and cost a `clock_gettime` each turn).
            let (jumped, moved, now) = {
                let timers = self.timers.borrow();
                let before = timers.now();
                let jumped = check != Check::Busy
                    && timers.clock.auto_advances()
                    && self.sched.ready_len() == 0
                    && self.blocking_in_flight.get() == 0
                    && timers.jump_to_next();
                let now = if jumped { timers.now() } else { before };
                if jumped && self.sched.tracing.get() {
                    crate::trace::virtual_jump(timers.clock.millis_at(now));
                }
                (jumped, now > before, now)
            };
            if jumped && moved && self.recorder.is_some() {
                self.record_clock_jump();
            }
            let tick = self.timers.borrow_mut().advance(now, &mut scratch.fired);
            if !scratch.fired.is_empty() && self.recorder.is_some() {
                self.record_timers_fired(scratch.fired.len());
            }
            self.fire(&mut scratch.fired);
            Some(tick)
        } else {
            None
        };
        // The time of this look outward: the wheel's, when it was advanced (the timers it fired
        // only queued their tasks since), so that a turn reads the clock once after its wait,
        // and converts it once. The epoch is the clock's origin, so the tick is that time to
        // the microsecond.
        let looked_at = match advanced_to {
            Some(tick) => Clock::nanos_of_tick(tick),
            None => waits_on::nanos_since(self.epoch, self.timers.borrow().now()),
        };
        self.looked_at.set(looked_at);
        self.sched.set_cause(Cause::Spawn);
        // Put the buffers back. What comes out is the empty `Scratch` that `mem::take` left at
        // the start: it owns no allocation, so forgetting it only skips its drop glue (three
        // empty `Vec`s, some 50 instructions a turn).
        let left = mem::replace(&mut *self.scratch.borrow_mut(), scratch);
        debug_assert!(
            left.is_unallocated(),
            "a turn's scratch buffers were replaced during the turn"
        );
        mem::forget(left);
        // 5. Wakers that panicked since the last look (here or in the last turns' polls).
        self.report_waker_panics();
    }
}

//! Between runs of ready work, the loop looks outward: I/O, other threads, timers.
//!
//! This is the first half of asyncio's `_run_once`: compute how long the loop may block, ask
//! the OS for I/O events, then move due timers onto the ready queue. evloop adds one step,
//! draining the inbox of wakes sent from other threads, and one twist: when work is already
//! ready, the loop only does this every `event_interval` polls instead of every turn, so a busy
//! loop does not pay a system call per turn (see `Runtime`'s docs for the bound and why).

use std::mem;
use std::time::Duration;

use crate::runtime::core::Core;
use crate::scheduler::{Cause, Remote, Runnable};
use crate::time::driver::TimerAction;

impl Core {
    /// Polls for I/O (blocking only if `idle`), drains the cross-thread inbox, and fires due
    /// timers, queueing everything they wake.
    pub(crate) fn check_events(&self, idle: bool) {
        self.polls_since_check.set(0);
        let mut scratch = mem::take(&mut *self.scratch.borrow_mut());

        // 1. How long may we block? Not at all if work is ready; on a virtual clock, not for a
        //    timer either (time jumps instead, in step 4); otherwise until the next timer.
        let timeout = if !idle {
            Some(Duration::ZERO)
        } else {
            let timers = self.timers.borrow();
            if timers.wheel.is_empty() {
                None
            } else if timers.clock.is_virtual() {
                if self.blocking_in_flight.get() > 0 {
                    None
                } else {
                    Some(Duration::ZERO)
                }
            } else {
                timers.time_to_next(timers.now())
            }
        };
        if self.sched.tracing.get() {
            crate::trace::polling_io(timeout);
        }

        // 2. I/O: one `epoll_wait`, then wake the tasks waiting on the sockets that are ready.
        //    With no socket registered and work ready, there is nothing to ask the OS: a wake
        //    from another thread also raises the inbox's `pending` flag, checked in step 3.
        let skip_io = !idle && self.reactor.borrow().len() == 0;
        if !skip_io {
            self.io_polls.set(self.io_polls.get() + 1);
            let turned = self.reactor.borrow_mut().turn(timeout, &mut scratch.wakers);
            if let Err(e) = turned {
                // epoll_wait only fails on a broken poll fd or bad memory; nothing can recover.
                panic!("evloop: polling for I/O failed: {e}");
            }
        }
        self.sched.set_cause(Cause::Io);
        for waker in scratch.wakers.drain(..) {
            waker.wake();
        }

        // 3. Requests from other threads.
        self.shared.drain(&mut scratch.remote);
        self.sched.set_cause(Cause::Remote);
        for request in scratch.remote.drain(..) {
            match request {
                Remote::Wake(id) => self.sched.schedule_id(id),
                Remote::Main => self.sched.schedule_main(),
                Remote::Call(f) => {
                    self.call_soon(f);
                }
            }
        }

        // 4. Timers. On a virtual clock with nothing else to do, jump to the next deadline.
        let has_timers = !self.timers.borrow().wheel.is_empty();
        if has_timers {
            {
                let mut timers = self.timers.borrow_mut();
                if idle
                    && timers.clock.is_virtual()
                    && self.sched.ready_len() == 0
                    && self.blocking_in_flight.get() == 0
                    && timers.jump_to_next()
                    && self.sched.tracing.get()
                {
                    crate::trace::virtual_jump(timers.clock.tick_at(timers.now()));
                }
                let now = timers.now();
                timers.advance(now, &mut scratch.fired);
            }
            self.sched.set_cause(Cause::Timer);
            for action in scratch.fired.drain(..) {
                match action {
                    TimerAction::Wake(waker) => waker.wake(),
                    TimerAction::Callback(id) => {
                        self.callbacks.borrow_mut().timer_fired(id);
                        self.sched.ready.borrow_mut().push_back(Runnable::Callback(id));
                    }
                }
            }
        }
        self.sched.set_cause(Cause::Spawn);
        *self.scratch.borrow_mut() = scratch;
    }
}

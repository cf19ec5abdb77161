//! Unix signals on the loop: listeners, several listeners and loops, nothing lost, clean
//! deregistration and restoration, callbacks, Ctrl-C, and the signals that are refused.
//!
//! The tests of one file run on threads of one process, and a signal's disposition belongs to
//! the process: so **each test uses a signal of its own** (the comment on each constant says
//! which test), and raises it with `raise` (delivered to the raising thread before `raise`
//! returns) or `pthread_kill`. Only the test that owns a signal ever raises it, and it raises
//! it only while it has a listener, so a default action (terminate, for most) never runs.
//!
//! Runtimes are on the virtual clock where one thread does everything: the signal's byte is in
//! the pipe before `raise` returns, and a `timeout` turns a lost signal into a failure at once
//! instead of a hang. The cross-thread tests use the real clock, with a generous timeout that
//! only bounds a failure.

mod support;

use std::cell::Cell;
use std::io;
use std::rc::Rc;
use std::sync::mpsc;
use std::task::{Context, Poll};
use std::time::Duration;

use evloop::signal::{SignalKind, add_signal_handler, ctrl_c, signal};
use evloop::time::timeout;
use evloop::{Runtime, spawn, stats, yield_now};
use support::{CountingWaker, panic_text, virtual_runtime};

/// `a_listener_sees_a_signal_raised_while_it_waits`.
const LISTENER: i32 = libc::SIGUSR1;
/// `two_listeners_on_one_loop_each_see_one_signal`.
const TWO_LISTENERS: i32 = libc::SIGUSR2;
/// `two_runtimes_on_two_threads_each_see_one_signal` (ignored by default).
const TWO_RUNTIMES: i32 = libc::SIGWINCH;
/// `a_signal_raised_before_the_first_poll_is_not_lost` (ignored by default).
const BEFORE_POLL: i32 = libc::SIGURG;
/// The real-time signals: one each for the remaining tests.
fn realtime(n: i32) -> i32 {
    libc::SIGRTMIN() + n
}

fn raise(signo: i32) {
    // SAFETY: raising a signal has no memory-safety preconditions; the test owns `signo` and
    // has a listener for it, so its handler (evloop's) runs, not the default action.
    assert_eq!(unsafe { libc::raise(signo) }, 0, "raise({signo})");
}

/// The current disposition of `signo`: whether it is the default action.
fn is_default_action(signo: i32) -> bool {
    // SAFETY: all-zero is a valid `sigaction`; a null new action only reads the current one.
    unsafe {
        let mut current: libc::sigaction = std::mem::zeroed();
        assert_eq!(libc::sigaction(signo, std::ptr::null(), &mut current), 0);
        current.sa_sigaction == libc::SIG_DFL
    }
}

const PATIENCE: Duration = Duration::from_secs(30);

#[test]
#[cfg_attr(miri, ignore = "Miri does not emulate sigaction")]
fn a_listener_sees_a_signal_raised_while_it_waits() {
    virtual_runtime().block_on(async {
        let mut usr1 = signal(SignalKind::user_defined1()).expect("listen for SIGUSR1");
        let raiser = spawn(async {
            yield_now().await; // the listener is parked in recv by now
            raise(LISTENER);
        });
        assert_eq!(timeout(PATIENCE, usr1.recv()).await, Ok(Some(())));
        raiser.await.unwrap();
        // Seen once: the next recv waits (and times out on the virtual clock).
        assert!(timeout(Duration::from_secs(1), usr1.recv()).await.is_err());
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri does not emulate sigaction")]
fn two_listeners_on_one_loop_each_see_one_signal() {
    virtual_runtime().block_on(async {
        let mut first = signal(SignalKind::user_defined2()).unwrap();
        let mut second = signal(SignalKind::user_defined2()).unwrap();
        let waiting = spawn(async move { timeout(PATIENCE, second.recv()).await });
        yield_now().await;
        raise(TWO_LISTENERS);
        assert_eq!(timeout(PATIENCE, first.recv()).await, Ok(Some(())));
        assert_eq!(waiting.await.unwrap(), Ok(Some(())));
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri does not emulate sigaction")]
fn two_runtimes_on_two_threads_each_see_one_signal() {
    let (ready_tx, ready_rx) = mpsc::channel();
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let ready = ready_tx.clone();
            std::thread::spawn(move || {
                Runtime::new().unwrap().block_on(async move {
                    let mut winch = signal(SignalKind::window_change()).unwrap();
                    ready.send(()).unwrap();
                    timeout(PATIENCE, winch.recv()).await
                })
            })
        })
        .collect();
    ready_rx.recv().unwrap();
    ready_rx.recv().unwrap();
    // To the process, not a thread: any thread may run the handler; both loops must wake.
    // SAFETY: kill has no memory-safety preconditions; both listeners exist.
    assert_eq!(unsafe { libc::kill(libc::getpid(), TWO_RUNTIMES) }, 0);
    for thread in threads {
        assert_eq!(thread.join().unwrap(), Ok(Some(())));
    }
}

#[test]
#[cfg_attr(miri, ignore = "Miri does not emulate sigaction")]
fn a_signal_raised_before_the_first_poll_is_not_lost() {
    virtual_runtime().block_on(async {
        let mut urg = signal(SignalKind::from_raw(libc::SIGURG)).unwrap();
        raise(BEFORE_POLL);
        // The driver task has not even run yet: the listener's baseline is what catches it.
        let (_counter, waker) = CountingWaker::new();
        let mut cx = Context::from_waker(&waker);
        assert_eq!(urg.poll_recv(&mut cx), Poll::Ready(Some(())));
        assert_eq!(urg.poll_recv(&mut cx), Poll::Pending);
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri does not emulate sigaction")]
fn deliveries_before_a_poll_coalesce_into_one() {
    let signo = realtime(1);
    virtual_runtime().block_on(async move {
        let mut rt1 = signal(SignalKind::from_raw(signo)).unwrap();
        raise(signo);
        raise(signo);
        raise(signo);
        assert_eq!(timeout(PATIENCE, rt1.recv()).await, Ok(Some(())));
        assert!(
            timeout(Duration::from_secs(1), rt1.recv()).await.is_err(),
            "three became one"
        );
        raise(signo);
        assert_eq!(timeout(PATIENCE, rt1.recv()).await, Ok(Some(())), "a later one is new");
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri does not emulate sigaction")]
fn dropping_the_last_listener_removes_its_registrations_and_restores_the_default_action() {
    let signo = realtime(2);
    assert!(is_default_action(signo));
    virtual_runtime().block_on(async move {
        let baseline = stats();
        let mut kept = signal(SignalKind::from_raw(signo)).unwrap();
        let mut dropped = signal(SignalKind::from_raw(signo)).unwrap();
        assert!(!is_default_action(signo), "evloop's handler is installed");
        let during = stats();
        assert_eq!(during.tasks, baseline.tasks + 1, "one driver task per loop");
        assert_eq!(during.io_sources, baseline.io_sources + 1, "one self-pipe per loop");

        // The dropped listener had a waker parked: it is released and never woken.
        let (counter, waker) = CountingWaker::new();
        assert_eq!(dropped.poll_recv(&mut Context::from_waker(&waker)), Poll::Pending);
        drop(waker);
        drop(dropped);
        assert_eq!(
            std::sync::Arc::strong_count(&counter),
            1,
            "the listener let go of its waker"
        );
        raise(signo);
        assert_eq!(timeout(PATIENCE, kept.recv()).await, Ok(Some(())));
        assert_eq!(counter.wakes(), 0);

        drop(kept);
        assert!(
            is_default_action(signo),
            "the last listener restored the default action"
        );
        yield_now().await; // the driver task is cancelled at the loop's next turn
        yield_now().await;
        assert_eq!(stats().tasks, baseline.tasks, "the driver task is gone");
        assert_eq!(stats().io_sources, baseline.io_sources, "the self-pipe is deregistered");
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri does not emulate sigaction")]
fn a_callback_handler_runs_on_the_loops_thread_until_it_is_removed() {
    let signo = realtime(3);
    virtual_runtime().block_on(async move {
        let baseline = stats();
        let calls = Rc::new(Cell::new(0));
        let on_thread = Rc::new(Cell::new(None));
        let (count, thread) = (calls.clone(), on_thread.clone());
        let handler = add_signal_handler(SignalKind::from_raw(signo), move || {
            count.set(count.get() + 1);
            thread.set(Some(std::thread::current().id()));
        })
        .unwrap();
        raise(signo);
        for _ in 0..10 {
            yield_now().await;
        }
        assert_eq!(calls.get(), 1);
        assert_eq!(on_thread.get(), Some(std::thread::current().id()));

        // A delivery just before the handler goes: once removed, it never runs.
        raise(signo);
        handler.remove();
        for _ in 0..10 {
            yield_now().await;
        }
        assert_eq!(calls.get(), 1);
        assert!(is_default_action(signo));
        assert_eq!(stats().io_sources, baseline.io_sources);
        assert_eq!(stats().tasks, baseline.tasks);
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri does not emulate sigaction")]
fn a_panicking_callback_is_reported_and_the_handler_stays() {
    let signo = realtime(4);
    let runtime = virtual_runtime();
    let reports = support::capture_exceptions(&runtime);
    runtime.block_on(async move {
        let calls = Rc::new(Cell::new(0));
        let count = calls.clone();
        let _handler = add_signal_handler(SignalKind::from_raw(signo), move || {
            count.set(count.get() + 1);
            panic!("callback {} failed", count.get());
        })
        .unwrap();
        for expected in 1..=2 {
            raise(signo);
            while calls.get() < expected {
                yield_now().await;
            }
        }
    });
    let reports = reports.take();
    assert_eq!(reports.len(), 2, "{reports:?}");
    assert!(reports[0].contains("Exception in callback") && reports[0].contains("callback 1 failed"));
}

#[test]
#[cfg_attr(miri, ignore = "Miri does not emulate sigaction")]
fn ctrl_c_resolves_on_sigint_and_gives_ctrl_c_its_default_back() {
    virtual_runtime().block_on(async {
        let ctrl_c = ctrl_c(); // listening from here: SIGINT will not terminate the test
        raise(libc::SIGINT);
        assert_eq!(timeout(PATIENCE, ctrl_c).await.map(|r| r.is_ok()), Ok(true));
    });
    assert!(is_default_action(libc::SIGINT));
}

#[test]
#[cfg_attr(miri, ignore = "Miri does not emulate sigaction")]
fn a_signal_that_arrives_while_the_loop_sleeps_in_epoll_wakes_it() {
    let signo = realtime(5);
    let (ready_tx, ready_rx) = mpsc::channel();
    let thread = std::thread::spawn(move || {
        Runtime::new().unwrap().block_on(async move {
            let mut rt5 = signal(SignalKind::from_raw(signo)).unwrap();
            // SAFETY: pthread_self has no preconditions.
            ready_tx.send(unsafe { libc::pthread_self() }).unwrap();
            // Nothing else to do: the loop blocks in epoll_wait until the byte arrives (the
            // signal itself makes epoll_wait fail with EINTR, which is just a short turn).
            timeout(PATIENCE, rt5.recv()).await
        })
    });
    let loop_thread = ready_rx.recv().unwrap();
    // SAFETY: the thread is alive (it waits for this very signal before it can finish).
    assert_eq!(unsafe { libc::pthread_kill(loop_thread, signo) }, 0);
    assert_eq!(thread.join().unwrap(), Ok(Some(())));
}

#[test]
#[cfg_attr(miri, ignore = "Miri does not emulate sigaction")]
fn a_listener_polled_on_another_loop_panics_naming_both_loops() {
    let signo = realtime(6);
    let home = virtual_runtime();
    let mut listener = home.block_on(async move { signal(SignalKind::from_raw(signo)).unwrap() });
    let elsewhere = virtual_runtime();
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        elsewhere.block_on(async { listener.recv().await })
    }))
    .unwrap_err();
    let message = panic_text(&*panic);
    assert!(
        message.contains("this signal listener belongs to runtime #"),
        "{message}"
    );
    drop(listener); // away from its loop: still undone
    assert!(is_default_action(signo));
    drop(home);
}

extern "C" fn foreign_handler(_: libc::c_int) {}

#[test]
#[cfg_attr(miri, ignore = "Miri does not emulate sigaction")]
fn a_handler_installed_by_other_code_is_not_replaced() {
    let signo = realtime(7);
    // SAFETY: a zeroed sigaction with a valid handler address and an empty mask is valid.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = foreign_handler as extern "C" fn(libc::c_int) as libc::sighandler_t;
        assert_eq!(libc::sigaction(signo, &action, std::ptr::null_mut()), 0);
    }
    let error = virtual_runtime().block_on(async move { signal(SignalKind::from_raw(signo)).unwrap_err() });
    assert_eq!(error.kind(), io::ErrorKind::AlreadyExists);
    assert!(error.to_string().contains("already has a handler"), "{error}");
    // SAFETY: as above; SIG_DFL puts the default back.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = libc::SIG_DFL;
        assert_eq!(libc::sigaction(signo, &action, std::ptr::null_mut()), 0);
    }
}

#[test]
fn signals_that_cannot_be_listened_for_are_refused_with_the_reason() {
    virtual_runtime().block_on(async {
        let baseline = stats();
        for (signo, reason) in [
            (libc::SIGKILL, "never lets a program catch it"),
            (libc::SIGSTOP, "never lets a program catch it"),
            (libc::SIGSEGV, "fault"),
            (libc::SIGBUS, "fault"),
            (libc::SIGILL, "fault"),
            (libc::SIGFPE, "fault"),
            (0, "not a signal number"),
            (1000, "not a signal number"),
        ] {
            let error = signal(SignalKind::from_raw(signo)).unwrap_err();
            assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
            assert!(error.to_string().contains(reason), "{error}");
            let error = add_signal_handler(SignalKind::from_raw(signo), || {}).unwrap_err();
            assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
        }
        assert_eq!(stats().tasks, baseline.tasks, "a refusal registers nothing");
        assert_eq!(stats().io_sources, baseline.io_sources);
    });
}

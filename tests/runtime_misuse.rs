//! Misuse that must give a clear result and leave the loop healthy: resources carried to another
//! runtime, wakers that panic, outputs whose destructor panics.
//!
//! The rule (DESIGN.md §4): a timer, a socket or a callback handle belongs to the loop that
//! registered it. Using it on another loop panics with a message naming both loops; dropping it
//! anywhere undoes its registration on its own loop. Join handles and the `sync` primitives
//! belong to no loop: they work across loops, waking each task through its own loop.

mod support;

use std::future::{Future, poll_fn};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::mpsc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use evloop::net::{TcpListener, TcpStream};
use evloop::sync::{Event, Semaphore};
use evloop::time::{sleep, timeout};
use evloop::{Runtime, spawn};
use support::{capture_exceptions, panic_text, virtual_runtime};

/// A waker whose `wake` panics, as a hand-written executor's might.
struct PanickingWaker;

impl Wake for PanickingWaker {
    fn wake(self: Arc<Self>) {
        panic!("this waker panics");
    }
}

fn panicking_waker() -> Waker {
    Waker::from(Arc::new(PanickingWaker))
}

/// Polls `future` once with `waker` (not the task's own), leaving it registered with that waker.
fn poll_once_with<F: Future + Unpin>(future: &mut F, waker: &Waker) -> Poll<F::Output> {
    Pin::new(future).poll(&mut Context::from_waker(waker))
}

/// Runs `test` on its own thread and fails if it does not finish in `limit`: a spin or a hang
/// is a failure here, not a stuck test run.
fn within<T: Send + 'static>(limit: Duration, test: impl FnOnce() -> T + Send + 'static) -> T {
    let (done, result) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(catch_unwind(AssertUnwindSafe(test)));
    });
    match result.recv_timeout(limit) {
        Ok(Ok(value)) => value,
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => panic!("the test did not finish within {limit:?} (a spin or a hang)"),
    }
}

fn loopback() -> std::net::SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

#[test]
fn a_socket_read_on_another_runtime_panics_naming_both_instead_of_spinning() {
    let message = within(Duration::from_secs(10), || {
        let a = Runtime::new().unwrap();
        let (client, _server) = a.block_on(async {
            let listener = TcpListener::bind(loopback()).unwrap();
            let addr = listener.local_addr().unwrap();
            let connect = spawn(TcpStream::connect(addr));
            let (server, _) = listener.accept().await.unwrap();
            (connect.await.unwrap().unwrap(), server)
        });
        let b = Runtime::new().unwrap();
        let read = catch_unwind(AssertUnwindSafe(|| {
            b.block_on(async {
                let mut buf = [0u8; 8];
                client.read(&mut buf).await
            })
        }));
        panic_text(&*read.expect_err("reading a socket of runtime A on runtime B must panic"))
    });
    assert!(message.contains("this socket belongs to runtime #"), "{message}");
    assert!(message.contains("but was used on runtime #"), "{message}");
}

#[test]
fn dropping_a_socket_of_another_runtime_leaves_this_runtimes_registration_alone() {
    within(Duration::from_secs(10), || {
        let a = Runtime::new().unwrap();
        let listener_a = a.block_on(async { TcpListener::bind(loopback()).unwrap() });
        assert_eq!(a.stats().io_sources, 1);
        let b = Runtime::new().unwrap();
        let accepted = b.block_on(async move {
            // Both first registrations have the same slab key; dropping A's here must not
            // remove B's.
            let listener_b = TcpListener::bind(loopback()).unwrap();
            let addr = listener_b.local_addr().unwrap();
            drop(listener_a);
            let connect = spawn(TcpStream::connect(addr));
            let accepted = timeout(Duration::from_secs(5), listener_b.accept()).await;
            connect.await.unwrap().unwrap();
            accepted.is_ok_and(|r| r.is_ok())
        });
        assert!(accepted, "runtime B's listener still accepts");
        // A forgets the dropped listener at its next turn.
        a.block_on(sleep(Duration::from_millis(1)));
        assert_eq!(a.stats().io_sources, 0, "runtime A's registration was undone");
    });
}

#[test]
fn a_socket_dropped_on_another_thread_is_forgotten_by_its_loop() {
    let a = Runtime::new().unwrap();
    let listener = a.block_on(async { TcpListener::bind(loopback()).unwrap() });
    std::thread::spawn(move || drop(listener)).join().unwrap();
    a.block_on(sleep(Duration::from_millis(1)));
    assert_eq!(a.stats().io_sources, 0);
}

#[test]
fn a_sleep_polled_on_one_runtime_and_awaited_on_another_panics_naming_both() {
    let a = virtual_runtime();
    let mut nap = Box::pin(sleep(Duration::from_secs(3600)));
    a.block_on(poll_fn(|cx| {
        assert!(nap.as_mut().poll(cx).is_pending());
        Poll::Ready(())
    }));
    assert_eq!(a.stats().timers, 1);
    let b = virtual_runtime();
    let start = b.now();
    let awaited = catch_unwind(AssertUnwindSafe(|| b.block_on(nap)));
    let message = panic_text(&*awaited.expect_err("a sleep of runtime A awaited on runtime B must panic"));
    assert!(message.contains("this Sleep belongs to runtime #"), "{message}");
    assert_eq!(b.now(), start, "no time passed: the sleep did not complete early");
    // The sleep was dropped (during the unwind) away from A: A removes its timer next turn.
    a.block_on(sleep(Duration::from_millis(1)));
    assert_eq!(a.stats().timers, 0);
}

#[test]
fn an_interval_and_a_listener_used_on_another_runtime_panic_naming_both() {
    let a = virtual_runtime();
    let (mut every, listener) = a.block_on(async {
        let mut every = evloop::time::interval(Duration::from_secs(1));
        every.tick().await;
        let mut pending = Box::pin(every.tick());
        assert!(poll_fn(|cx| Poll::Ready(pending.as_mut().poll(cx).is_pending())).await);
        drop(pending);
        (every, TcpListener::bind(loopback()).unwrap())
    });
    let b = virtual_runtime();
    let ticked = catch_unwind(AssertUnwindSafe(|| b.block_on(every.tick())));
    let message = panic_text(&*ticked.expect_err("an interval of A ticked on B must panic"));
    assert!(
        message.contains("belongs to runtime #") && message.contains("used on runtime #"),
        "{message}"
    );
    let accepted = catch_unwind(AssertUnwindSafe(|| b.block_on(listener.accept())));
    let message = panic_text(&*accepted.expect_err("a listener of A accepting on B must panic"));
    assert!(message.contains("this socket belongs to runtime #"), "{message}");
    drop((every, listener));
    a.block_on(sleep(Duration::from_millis(1)));
    assert_eq!((a.stats().timers, a.stats().io_sources), (0, 0), "both undone on A");
}

#[test]
fn a_callback_handle_used_on_another_runtime_panics_and_cancels_nothing_there() {
    let a = virtual_runtime();
    let b = virtual_runtime();
    let handle = a.block_on(async { evloop::call_later(Duration::from_secs(1), || {}) });
    let ran = Rc::new(std::cell::Cell::new(false));
    let flag = ran.clone();
    let cancelled = b.block_on(async move {
        // B's first callback has the same id as A's.
        evloop::call_soon(move || flag.set(true));
        catch_unwind(AssertUnwindSafe(|| handle.cancel()))
    });
    let message = panic_text(&*cancelled.expect_err("cancelling A's callback on B must panic"));
    assert!(
        message.contains("this CallbackHandle belongs to runtime #"),
        "{message}"
    );
    b.block_on(evloop::yield_now());
    assert!(ran.get(), "runtime B's callback was not cancelled");
}

#[test]
fn a_join_handle_and_the_sync_primitives_work_across_runtimes() {
    let a = virtual_runtime();
    let b = virtual_runtime();
    let event = Rc::new(Event::new());
    let gate = Semaphore::new(0);
    let waiter = {
        let (event, gate) = (event.clone(), gate.clone());
        a.spawn(async move {
            event.wait().await;
            let _permit = gate.acquire().await.unwrap();
            "done on A"
        })
    };
    a.block_on(evloop::yield_now());
    // Runtime B sets the event, adds a permit and awaits A's task: each wake reaches A's task
    // through A's inbox, and A's task, completing, wakes B's awaiter through B's.
    let mut join = Box::pin(waiter);
    let parked = b.block_on(async {
        event.set();
        gate.add_permits(1);
        poll_fn(|cx| Poll::Ready(join.as_mut().poll(cx).is_pending())).await
    });
    assert!(parked, "A's task cannot finish before A runs");
    // A's loop looks at its inbox once it is idle (here: while it waits out a sleep).
    a.block_on(sleep(Duration::from_millis(1)));
    assert_eq!(a.stats().tasks, 0, "A's task finished on A");
    let joined = b.block_on(join);
    assert_eq!(joined.unwrap(), "done on A");
}

#[test]
fn a_panicking_waker_in_the_wheel_costs_the_other_sleepers_of_its_tick_nothing() {
    let rt = virtual_runtime();
    let reports = capture_exceptions(&rt);
    let fired = rt.block_on(async {
        let mut doomed = Box::pin(sleep(Duration::from_millis(10)));
        assert!(poll_once_with(&mut doomed, &panicking_waker()).is_pending());
        let ran = Rc::new(std::cell::Cell::new(0));
        let (r1, r2) = (ran.clone(), ran.clone());
        let sleeper = spawn(async move {
            sleep(Duration::from_millis(10)).await;
            r1.set(r1.get() + 1);
        });
        evloop::call_later(Duration::from_millis(10), move || r2.set(r2.get() + 1));
        sleeper.await.unwrap();
        evloop::yield_now().await;
        drop(doomed);
        ran.get()
    });
    assert_eq!(
        fired, 2,
        "the other sleeper and the callback due in the same tick both ran"
    );
    let reports = reports.take();
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert!(reports[0].contains("A waker panicked when woken") && reports[0].contains("this waker panics"));
    assert_eq!(rt.stats().timers, 0);
}

#[test]
fn a_semaphore_waiter_granted_its_permit_is_woken_even_if_an_earlier_waker_panics() {
    let rt = virtual_runtime();
    let reports = capture_exceptions(&rt);
    let got = rt.block_on(async {
        let semaphore = Semaphore::new(0);
        let mut first = Box::pin(semaphore.acquire());
        assert!(poll_once_with(&mut first, &panicking_waker()).is_pending());
        let second = {
            let semaphore = semaphore.clone();
            spawn(async move { semaphore.acquire().await.unwrap().forget() })
        };
        evloop::yield_now().await;
        semaphore.add_permits(2);
        timeout(Duration::from_secs(1), second).await.is_ok()
    });
    assert!(got, "the second waiter was woken and took its permit");
    assert_eq!(reports.take().len(), 1);
}

#[test]
fn a_panicking_join_waker_is_reported_and_the_loop_goes_on() {
    let rt = virtual_runtime();
    let reports = capture_exceptions(&rt);
    let after = rt.block_on(async {
        let mut handle = spawn(async { 1 });
        assert!(poll_once_with(&mut handle, &panicking_waker()).is_pending());
        evloop::yield_now().await;
        evloop::yield_now().await;
        spawn(async { 2 }).await.unwrap()
    });
    assert_eq!(after, 2);
    assert_eq!(reports.take().len(), 1);
}

#[test]
fn a_panicking_waker_among_ready_sockets_costs_the_other_reader_nothing() {
    within(Duration::from_secs(10), || {
        let rt = Runtime::new().unwrap();
        let reports = capture_exceptions(&rt);
        let read = rt.block_on(async {
            let listener = TcpListener::bind(loopback()).unwrap();
            let addr = listener.local_addr().unwrap();
            let c1 = spawn(TcpStream::connect(addr));
            let (s1, _) = listener.accept().await.unwrap();
            let c2 = spawn(TcpStream::connect(addr));
            let (s2, _) = listener.accept().await.unwrap();
            let (c1, c2) = (c1.await.unwrap().unwrap(), c2.await.unwrap().unwrap());
            let mut buf1 = [0u8; 4];
            let mut doomed = Box::pin(s1.read(&mut buf1));
            assert!(poll_once_with(&mut doomed, &panicking_waker()).is_pending());
            let reader = spawn(async move {
                let mut buf = [0u8; 4];
                let n = s2.read(&mut buf).await.unwrap();
                buf[..n].to_vec()
            });
            evloop::yield_now().await;
            c1.write_all(b"one").await.unwrap();
            c2.write_all(b"two").await.unwrap();
            let got = timeout(Duration::from_secs(5), reader).await;
            drop(doomed);
            got.map(|r| r.unwrap())
        });
        assert_eq!(read.as_deref(), Ok(&b"two"[..]));
        assert_eq!(reports.take().len(), 1);
    });
}

/// An output whose destructor panics.
struct Explosive;

impl Drop for Explosive {
    fn drop(&mut self) {
        panic!("the output's destructor panics");
    }
}

#[test]
fn a_panic_dropping_an_unread_output_goes_to_the_exception_handler() {
    let rt = virtual_runtime();
    let reports = capture_exceptions(&rt);
    rt.block_on(async {
        // Dropped unread after the task completed: the handle's drop drops the output.
        let finished = spawn(async { Explosive });
        evloop::yield_now().await;
        assert!(finished.is_finished());
        drop(finished);
        // Detached before it completed: the loop drops the output when it completes.
        drop(spawn(async { Explosive }));
        evloop::yield_now().await;
    });
    let reports = reports.take();
    assert_eq!(reports.len(), 2, "{reports:?}");
    for report in &reports {
        assert!(
            report.starts_with("Dropping a task's unread output panicked: task#")
                && report.contains("the output's destructor panics"),
            "{report}"
        );
    }
}

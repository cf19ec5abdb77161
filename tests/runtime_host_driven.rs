//! A host program driving evloop from its own loop: it watches the runtime's descriptor with its
//! own `poll(2)` and calls `Runtime::run_ready` when the descriptor is readable or the returned
//! timeout has passed. Nothing here calls `block_on` to make progress.

use std::cell::Cell;
use std::os::fd::AsRawFd;
use std::rc::Rc;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use evloop::net::{TcpListener, TcpStream};
use evloop::time::sleep;
use evloop::{Runtime, spawn};

/// The host's own wait: `poll(2)` on the runtime's descriptor for at most `timeout` (`None`:
/// until it is readable). Returns whether it became readable.
fn host_wait(runtime: &Runtime, timeout: Option<Duration>) -> bool {
    if cfg!(miri) {
        // Miri does not emulate poll(2): a host that polls by the clock instead (sleep at most
        // a millisecond, then look again) drives the loop just as well, only less politely.
        std::thread::sleep(timeout.unwrap_or(Duration::MAX).min(Duration::from_millis(1)));
        return false;
    }
    let mut fds = [libc::pollfd {
        fd: runtime.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    }];
    let millis = match timeout {
        None => -1,
        // Rounded up, so the host never comes back before the timer is due.
        Some(d) => i32::try_from(d.as_micros().div_ceil(1000)).unwrap_or(i32::MAX),
    };
    // SAFETY: one valid pollfd, and its length.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), 1, millis) };
    assert!(n >= 0, "poll failed: {}", std::io::Error::last_os_error());
    n == 1
}

/// The host's loop: run what is ready, then wait as `run_ready` says, until `done()`.
fn drive(runtime: &Runtime, done: impl Fn() -> bool) -> usize {
    let mut turns = 0;
    while !done() {
        let ran = runtime.run_ready();
        turns += 1;
        assert!(turns < 10_000, "the host loop is spinning");
        if !done() {
            host_wait(runtime, ran.timeout);
        }
    }
    turns
}

#[test]
fn run_ready_runs_each_ready_task_once_and_says_when_to_come_back() {
    let runtime = Runtime::new().unwrap();
    let polls = Rc::new(Cell::new(0));
    for _ in 0..3 {
        let polls = polls.clone();
        drop(runtime.spawn(async move {
            polls.set(polls.get() + 1);
            sleep(Duration::from_millis(30)).await;
        }));
    }
    let started = Instant::now();
    let ran = runtime.run_ready();
    assert_eq!(ran.ran, 3);
    assert_eq!(polls.get(), 3);
    // What is left of the 30 ms (the sleeps started inside run_ready), give or take the wheel's
    // 1 ms ticks, which round deadlines up. Measured, so that a slow machine (or Miri) passes.
    let timeout = ran.timeout.expect("a timer is pending");
    let left = Duration::from_millis(30).saturating_sub(started.elapsed());
    assert!(
        timeout <= Duration::from_millis(32) && timeout + Duration::from_millis(2) >= left,
        "{timeout:?}, with {left:?} left"
    );
    drive(&runtime, || runtime.stats().tasks == 0);
    assert!(started.elapsed() >= Duration::from_millis(30), "not early");
    let after = runtime.run_ready();
    assert_eq!((after.ran, after.timeout), (0, None), "nothing left: wait for I/O only");
}

#[test]
fn socket_readiness_makes_the_runtime_descriptor_readable() {
    let runtime = Runtime::new().unwrap();
    let echoed = Rc::new(Cell::new(false));
    let flag = echoed.clone();
    drop(runtime.spawn(async move {
        let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        let server = spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let mut buf = [0; 4];
            stream.read_exact(&mut buf).await.unwrap();
            stream.write_all(&buf).await.unwrap();
        });
        let client = TcpStream::connect(addr).await.unwrap();
        client.write_all(b"ping").await.unwrap();
        let mut buf = [0; 4];
        client.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ping");
        server.await.unwrap();
        flag.set(true);
    }));
    drive(&runtime, || echoed.get());
    assert_eq!(runtime.stats().io_sources, 0);
}

#[test]
#[cfg_attr(miri, ignore = "Miri does not emulate poll(2), which this test's host waits in")]
fn a_wake_from_another_thread_makes_the_runtime_descriptor_readable() {
    let runtime = Runtime::new().unwrap();
    let remote = runtime.remote();
    let (tx, rx) = mpsc::channel();
    let sender = thread::spawn(move || {
        thread::sleep(Duration::from_millis(5));
        remote.call_soon_threadsafe(move || tx.send(thread::current().id()).unwrap());
    });
    assert_eq!(runtime.run_ready().timeout, None, "nothing to do but wait");
    assert!(
        host_wait(&runtime, Some(Duration::from_secs(60))),
        "the wake reached the descriptor"
    );
    runtime.run_ready();
    assert_eq!(
        rx.try_recv().unwrap(),
        thread::current().id(),
        "the callback ran here, in run_ready"
    );
    sender.join().unwrap();
}

#[test]
fn on_a_virtual_clock_run_ready_jumps_to_the_next_deadline_when_idle() {
    let runtime = Runtime::builder().virtual_clock().build().unwrap();
    let start = runtime.now();
    let task = runtime.spawn(async {
        sleep(Duration::from_secs(3600)).await;
        sleep(Duration::from_secs(60)).await;
    });
    let first = runtime.run_ready();
    assert_eq!(first.timeout, Some(Duration::ZERO), "a jump is due");
    let turns = drive(&runtime, || task.is_finished());
    assert_eq!(turns, 2, "one turn per sleep");
    assert_eq!(runtime.now() - start, Duration::from_secs(3660));
}

#[test]
fn run_ready_inside_a_running_loop_panics() {
    let runtime = Runtime::new().unwrap();
    let other = Runtime::new().unwrap();
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        runtime.block_on(async { other.run_ready() });
    }));
    assert!(panic.is_err());
    assert_eq!(runtime.block_on(async { 1 }), 1, "the loop is still usable");
}

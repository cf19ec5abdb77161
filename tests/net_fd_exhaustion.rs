//! A server out of file descriptors: `accept` fails at once, forever, until a descriptor is
//! freed. A server that retries at once must not freeze the loop (the cooperative budget makes
//! it yield), and once descriptors are free again the waiting connections are accepted.
//!
//! This file is its own test process with a single test: it lowers the process's fd limit.

use std::cell::Cell;
use std::io;
use std::rc::Rc;
use std::time::Duration;

use evloop::net::TcpListener;
use evloop::time::{sleep, timeout};

fn set_fd_limit(soft: libc::rlim_t) -> libc::rlim_t {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit with a valid pointer to an rlimit.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0);
        let old = limit.rlim_cur;
        limit.rlim_cur = soft;
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &limit), 0);
        old
    }
}

/// The lowest file descriptor number not in use: how many the process holds, near enough.
fn next_fd() -> libc::rlim_t {
    let file = std::fs::File::open("/dev/null").unwrap();
    std::os::fd::AsRawFd::as_raw_fd(&file) as libc::rlim_t
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri does not emulate setrlimit, and its own fds do not count against the limit"
)]
fn a_server_retrying_accept_at_once_out_of_fds_does_not_freeze_the_loop_and_recovers() {
    // On its own thread, so that a frozen loop fails the test instead of hanging it.
    let (done, outcome) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(std::panic::catch_unwind(run_out_of_fds));
    });
    match outcome.recv_timeout(Duration::from_secs(20)) {
        Ok(Ok(())) => {}
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => panic!("the loop froze: the retrying server never let another task run"),
    }
}

fn run_out_of_fds() {
    let runtime = evloop::Runtime::new().unwrap();
    let (accepted, errors, ticks) = runtime.block_on(async {
        let listener = Rc::new(TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap());
        let addr = listener.local_addr().unwrap();
        // Three clients connect from a plain thread; the kernel completes the handshakes into the
        // listener's backlog whether or not the server can accept them.
        let clients = std::thread::spawn(move || {
            (0..3)
                .map(|_| std::net::TcpStream::connect(addr).unwrap())
                .collect::<Vec<_>>()
        });
        sleep(Duration::from_millis(50)).await;
        // No descriptor left for an accepted socket.
        let old = set_fd_limit(next_fd());
        let errors = Rc::new(Cell::new(0u64));
        let server = {
            let (listener, errors) = (listener.clone(), errors.clone());
            evloop::spawn(async move {
                let mut held = Vec::new();
                while held.len() < 3 {
                    match listener.accept().await {
                        Ok((stream, _)) => held.push(stream),
                        Err(e) if e.raw_os_error() == Some(libc::EMFILE) => errors.set(errors.get() + 1),
                        Err(e) => panic!("unexpected accept error: {e}"),
                    }
                }
                held.len()
            })
        };
        // Another task keeps running while the server spins on EMFILE...
        let ticks = Rc::new(Cell::new(0u32));
        for _ in 0..5 {
            sleep(Duration::from_millis(2)).await;
            ticks.set(ticks.get() + 1);
        }
        assert!(errors.get() > 0, "the server did hit EMFILE");
        // ...and frees descriptors: the server accepts the connections that waited.
        set_fd_limit(old);
        let accepted = timeout(Duration::from_secs(5), server).await;
        let _clients = clients.join().unwrap();
        let accepted: io::Result<usize> = accepted.map(|r| r.unwrap()).map_err(|_| io::ErrorKind::TimedOut.into());
        (accepted.unwrap(), errors.get(), ticks.get())
    });
    assert_eq!(accepted, 3);
    assert_eq!(ticks, 5, "the other task ran while accept kept failing");
    assert!(
        errors >= 128,
        "the naive retry loop ran through budgets: {errors} errors"
    );
}

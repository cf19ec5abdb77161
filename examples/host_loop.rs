//! host_loop: evloop driven by someone else's loop, as a GUI toolkit or a game loop would drive it.
//!
//! Mirrors the way asyncio is embedded in a foreign event loop (qasync for Qt, asyncio-glib for
//! GTK): the host owns the thread and the blocking wait; the async runtime only says which
//! descriptor to watch and how long the host may sleep, and runs what is ready when asked. The
//! same two pieces are libuv's `uv_backend_fd` + `uv_backend_timeout` and glib's `GSource`.
//!
//! Run with: `cargo run --example host_loop`
//!
//! What to look for: the host's loop below is a plain `poll(2)` on two descriptors, its own
//! "frame" pipe and evloop's epoll descriptor (`runtime.as_raw_fd()`). `block_on` is never called
//! to make progress. Each round the host prints why it woke (a frame, evloop's descriptor, or
//! the timeout evloop asked for), then calls `runtime.run_ready()`, which runs one loop turn that
//! never blocks and says how long the host may wait before the next call. A wake from another
//! thread (the frame thread's `call_soon_threadsafe`) makes evloop's descriptor readable, since
//! the loop's eventfd lives in the same epoll set. A timeout that passes with nothing to run is
//! the timer wheel moving the sleep down to a finer level (DESIGN.md §5); the next timeout is the
//! rest of the way.
//!
//! What production runtimes do differently: tokio has no such call (a current-thread runtime only
//! runs inside `block_on`); hosts give it a thread of its own and talk to it over channels.

mod support;

use std::cell::Cell;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::rc::Rc;
use std::time::{Duration, Instant};

use evloop::net::{TcpListener, TcpStream};
use evloop::time::sleep;
use evloop::{Runtime, spawn};

fn main() {
    support::init_logger();
    // The host's loop needs a real clock: it sleeps in poll(2) for as long as evloop says.
    let runtime = support::build(Runtime::builder());
    let start = Instant::now();
    let done = Rc::new(Cell::new(false));

    // The async side: a TCP exchange and a timer, written as usual.
    let finished = done.clone();
    drop(runtime.spawn(async move {
        let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        let server = spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let mut buf = [0; 5];
            stream.read_exact(&mut buf).await.unwrap();
            stream.write_all(&buf).await.unwrap();
        });
        let client = TcpStream::connect(addr).await.unwrap();
        client.write_all(b"hello").await.unwrap();
        let mut reply = [0; 5];
        client.read_exact(&mut reply).await.unwrap();
        println!(
            "[{}] evloop: echoed {:?}",
            support::since(start),
            std::str::from_utf8(&reply).unwrap()
        );
        server.await.unwrap();
        sleep(Duration::from_millis(120)).await;
        println!("[{}] evloop: the 120 ms sleep is over, done", support::since(start));
        finished.set(true);
    }));

    // The host's own event source: a "frame" thread that ticks every 50 ms through a socket
    // pair, and halfway through also sends evloop a callback from its thread.
    let (mut frames, mut ticker) = UnixStream::pair().expect("a socket pair");
    let remote = runtime.remote();
    let frame_thread = std::thread::spawn(move || {
        for frame in 0..4u8 {
            std::thread::sleep(Duration::from_millis(50));
            if ticker.write_all(&[frame]).is_err() {
                return;
            }
            if frame == 1 {
                remote.call_soon_threadsafe(|| println!("           evloop: a callback sent by the frame thread"));
            }
        }
    });

    // The host's loop.
    let mut round = 0;
    while !done.get() {
        round += 1;
        let ran = runtime.run_ready();
        let wait = ran.timeout;
        println!(
            "[{}] host round {round}: run_ready ran {} runnable(s); evloop may sleep {}",
            support::since(start),
            ran.ran,
            match wait {
                None => "until its descriptor is readable".to_string(),
                Some(d) => support::secs(d),
            }
        );
        if done.get() {
            break;
        }
        match host_poll(frames.as_raw_fd(), runtime.as_raw_fd(), wait) {
            Woke::Frame => {
                let mut frame = [0; 1];
                frames.read_exact(&mut frame).expect("a frame");
                println!(
                    "[{}] host: frame {} (the host's own work)",
                    support::since(start),
                    frame[0]
                );
            }
            Woke::Evloop => println!("[{}] host: evloop's descriptor is readable", support::since(start)),
            Woke::Timeout => println!("[{}] host: evloop's timeout passed", support::since(start)),
        }
    }
    drop(frames);
    frame_thread.join().expect("the frame thread");
    println!("the host ran {round} rounds and never called block_on");
}

/// Why the host's `poll(2)` returned.
enum Woke {
    Frame,
    Evloop,
    Timeout,
}

/// The host's one blocking call: wait for a frame, for evloop's descriptor, or for evloop's
/// timeout, whichever comes first.
fn host_poll(frames: i32, evloop: i32, timeout: Option<Duration>) -> Woke {
    let mut fds = [
        libc::pollfd {
            fd: frames,
            events: libc::POLLIN,
            revents: 0,
        },
        libc::pollfd {
            fd: evloop,
            events: libc::POLLIN,
            revents: 0,
        },
    ];
    // Rounded up to whole milliseconds, so the host never comes back before a timer is due.
    let millis = timeout.map_or(-1, |d| i32::try_from(d.as_micros().div_ceil(1000)).unwrap_or(i32::MAX));
    // SAFETY: two valid pollfds and their count.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, millis) };
    assert!(n >= 0, "poll failed: {}", std::io::Error::last_os_error());
    if fds[0].revents != 0 {
        Woke::Frame
    } else if fds[1].revents != 0 {
        Woke::Evloop
    } else {
        Woke::Timeout
    }
}

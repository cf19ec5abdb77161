//! thread_per_core: one single-threaded loop per core, all accepting on one port through
//! `SO_REUSEPORT`, the way thread-per-core servers (Seastar, glommio, Redis's I/O threads,
//! nginx's workers) scale past one core without sharing a task between threads.
//!
//! Mirrors no asyncio program (asyncio has one loop per process; the Python answer is one
//! process per core behind `SO_REUSEPORT`, as gunicorn's `--reuse-port` does); it is the
//! embedder's question "how do I use both cores?" answered in evloop's terms.
//!
//! Run with: `cargo run --example thread_per_core [-- --connections N]`
//!
//! What to look for: each server thread builds its own `Runtime` and its own listening socket
//! (`TcpSocket` with `set_reuseport(true)`, bound to the same port). The kernel, not evloop,
//! spreads incoming connections over those sockets (by a hash of each connection's addresses),
//! so every connection lives its whole life on one loop, one thread, with no lock and no task
//! moving between threads. The client (a third loop, on the main thread) opens many connections
//! and counts which loop answered each. Stopping a loop from outside is a cross-thread wake:
//! main sets a flag and wakes the waker the loop left behind.
//!
//! What production runtimes do differently: tokio's default is the opposite design, one
//! work-stealing pool of threads sharing every task (tasks must be `Send`); glommio and
//! monoio are thread-per-core like this, and pin each thread to its core (`sched_setaffinity`),
//! which this example leaves out.

mod support;

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread;

use evloop::net::{TcpListener, TcpSocket, TcpStream};
use evloop::{Either, Runtime, gather, select, spawn};

fn main() {
    support::init_logger();
    let connections: usize = support::args()
        .skip_while(|arg| arg != "--connections")
        .nth(1)
        .map_or(200, |n| n.parse().expect("--connections takes a number"));
    let cores = thread::available_parallelism().map_or(2, |n| n.get()).max(2);

    // The first loop picks the port; the others bind the same one.
    let mut port = 0;
    let mut servers = Vec::new();
    for core in 0..cores {
        let (ready_tx, ready_rx) = mpsc::channel();
        let stop = Stop::default();
        let stop_for_loop = stop.clone();
        let bind_port = port;
        let thread = thread::spawn(move || serve(core, bind_port, stop_for_loop, ready_tx));
        port = ready_rx.recv().expect("the server thread starts");
        println!("loop {core}: listening on 127.0.0.1:{port} (its own socket, SO_REUSEPORT)");
        servers.push((thread, stop));
    }

    // The client: one more loop, on this thread, with every connection at once.
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    // `--timeline`/`--gantt` draw this loop, the client's (the servers' loops are not recorded).
    let client = support::build(Runtime::builder());
    let answers = client.block_on(gather((0..connections).map(|_| spawn(ask(addr)))));
    let mut per_loop = vec![0usize; cores];
    for answer in answers.expect("every connection answered") {
        per_loop[answer.expect("a well-formed answer")] += 1;
    }

    // Stop each loop from this thread, then collect what each one served.
    for (core, (thread, stop)) in servers.into_iter().enumerate() {
        stop.stop();
        let served = thread.join().expect("the server thread");
        println!("loop {core}: served {served} connections");
        assert_eq!(served, per_loop[core], "the client and loop {core} agree");
    }
    let shares: Vec<String> = per_loop
        .iter()
        .map(|n| format!("{:.0}%", 100.0 * *n as f64 / connections as f64))
        .collect();
    println!(
        "{connections} connections spread by the kernel over {cores} loops: {}",
        shares.join(" / ")
    );
}

/// One core's server: its own runtime, its own listening socket on the shared port. Returns how
/// many connections it served.
fn serve(core: usize, port: u16, stop: Stop, ready: mpsc::Sender<u16>) -> usize {
    let runtime = Runtime::new().expect("a runtime");
    runtime.block_on(async move {
        let socket = TcpSocket::new_v4().expect("a socket");
        socket.set_reuseport(true).expect("SO_REUSEPORT");
        socket.bind(([127, 0, 0, 1], port).into()).expect("bind");
        let listener = socket.listen(1024).expect("listen");
        ready
            .send(listener.local_addr().expect("bound").port())
            .expect("main waits");
        match select(accept_loop(core, &listener), stop).await {
            Either::Left(never) => match never {},
            Either::Right(()) => {}
        }
        // Let the last replies finish before the runtime (and its tasks) is dropped.
        evloop::yield_now().await;
        SERVED.with(|n| n.get())
    })
}

thread_local! {
    /// Connections this thread's loop has answered (one loop per thread: no sharing).
    static SERVED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Accepts forever, answering each connection with the number of the loop that took it.
async fn accept_loop(core: usize, listener: &TcpListener) -> std::convert::Infallible {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        SERVED.with(|n| n.set(n.get() + 1));
        drop(spawn(async move {
            let _ = stream.write_all(format!("{core}\n").as_bytes()).await;
        }));
    }
}

/// One client connection: which loop answered?
async fn ask(addr: SocketAddr) -> Option<usize> {
    let stream = TcpStream::connect(addr).await.ok()?;
    let mut answer = Vec::new();
    let mut buf = [0; 16];
    loop {
        match stream.read(&mut buf).await.ok()? {
            0 => break,
            n => answer.extend_from_slice(&buf[..n]),
        }
        if answer.ends_with(b"\n") {
            break;
        }
    }
    std::str::from_utf8(&answer).ok()?.trim().parse().ok()
}

/// A stop signal another thread can give a loop: a flag, and the waker the loop left when it
/// last looked. Setting the flag and waking that waker is all a cross-thread wake is.
#[derive(Clone, Default)]
struct Stop(Arc<Mutex<(bool, Option<Waker>)>>);

impl Stop {
    fn stop(&self) {
        let waker = {
            let mut state = self.0.lock().expect("not poisoned");
            state.0 = true;
            state.1.take()
        };
        if let Some(waker) = waker {
            waker.wake(); // evloop's waker is Send: this reaches the loop through its inbox
        }
    }
}

impl Future for Stop {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.0.lock().expect("not poisoned");
        if state.0 {
            Poll::Ready(())
        } else {
            state.1 = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}

//! How often should a busy loop look for I/O? Measures the trade-off behind `event_interval`.
//!
//! asyncio looks for I/O (`select`) on every turn of its loop. evloop, while work is ready,
//! looks only every `event_interval` task polls (default 61). This program shows what that buys
//! and what it costs: one task yields in a tight loop (the loop is never idle) while another
//! measures echo round trips over a loopback socket. For each interval it prints the cost of a
//! yield, how many `epoll_wait` calls the loop made per 1000 yields, and the round-trip latency.
//!
//! Run with: cargo run --release --example event_interval
//!
//! What to look for: with an interval of 1 (asyncio's policy), every yield pays for an
//! `epoll_wait`; from a few dozen on, the system call all but disappears from the cost of a
//! yield, while a waiting socket still gets its turn within microseconds. Production runtimes
//! make the same trade: tokio's current-thread scheduler also looks every 61 polls.

mod support;

use std::cell::Cell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use evloop::net::{TcpListener, TcpStream};
use evloop::{Runtime, spawn, yield_now};

const ROUND_TRIPS: usize = 2000;

fn main() {
    println!(
        "{:>9} {:>13} {:>22} {:>12} {:>12}",
        "interval", "ns per yield", "epoll_wait / 1000 ys", "rtt p50 µs", "rtt p99 µs"
    );
    for interval in [1u32, 8, 61, 256, 1024] {
        let runtime = support::build(Runtime::builder().event_interval(interval));
        let (yields, elapsed, polls, mut rtts) = runtime.block_on(measure());
        rtts.sort();
        let pct = |p: usize| rtts[(rtts.len() * p / 100).min(rtts.len() - 1)].as_secs_f64() * 1e6;
        println!(
            "{interval:>9} {:>13.1} {:>22.1} {:>12.1} {:>12.1}",
            elapsed.as_nanos() as f64 / yields as f64,
            polls as f64 * 1000.0 / yields as f64,
            pct(50),
            pct(99),
        );
    }
}

/// Spins one yielding task while an echo client times `ROUND_TRIPS` round trips.
async fn measure() -> (u64, Duration, u64, Vec<Duration>) {
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).expect("bind");
    let addr = listener.local_addr().expect("local address");
    let server = spawn(async move {
        let (stream, _) = listener.accept().await.expect("accept");
        let mut buf = [0u8; 64];
        while let Ok(n @ 1..) = stream.read(&mut buf).await {
            stream.write_all(&buf[..n]).await.expect("echo");
        }
    });
    let yields = Rc::new(Cell::new(0u64));
    let spinning = Rc::new(Cell::new(true));
    let spinner = {
        let (yields, spinning) = (yields.clone(), spinning.clone());
        spawn(async move {
            while spinning.get() {
                yields.set(yields.get() + 1);
                yield_now().await;
            }
        })
    };
    let client = TcpStream::connect(addr).await.expect("connect");
    client.set_nodelay(true).expect("nodelay");
    let polls_before = evloop::stats().io_polls;
    let started = Instant::now();
    let mut rtts = Vec::with_capacity(ROUND_TRIPS);
    let mut buf = [0u8; 8];
    for _ in 0..ROUND_TRIPS {
        let sent = Instant::now();
        client.write_all(b"ping").await.expect("write");
        client.read_exact(&mut buf[..4]).await.expect("read");
        rtts.push(sent.elapsed());
    }
    let elapsed = started.elapsed();
    let polls = evloop::stats().io_polls - polls_before;
    spinning.set(false);
    spinner.await.expect("spinner");
    drop(client);
    server.await.expect("server");
    (yields.get(), elapsed, polls, rtts)
}

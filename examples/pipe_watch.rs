//! pipe_watch: read a pipe on the loop while a timer ticks, first as a future (`AsyncFd`), then
//! as asyncio's `loop.add_reader(fd, callback)`.
//!
//! Mirrors asyncio's "watch a file descriptor for read events" example (the `add_reader` section
//! of the event loop documentation, there with a socket pair): a plain function called whenever
//! the descriptor has data. A writer thread stands in for any slow producer (a child process, a
//! terminal): it writes a line, sleeps a blocking `thread::sleep`, writes the next.
//!
//! Run with: `cargo run --example pipe_watch` (no `--virtual`: the lines arrive in real time from
//! another thread, and a virtual clock would jump its timers ahead while the loop waits for them).
//!
//! What to look for: the ticks go on between the lines. The loop never sits in `read(2)`: the
//! pipe is registered with epoll, the reading side waits for "readable", and in between the loop
//! runs the ticker. In part 1 a task drains the pipe with `read_with` ("try; on WouldBlock, wait
//! and try again"); in part 2 a callback reads one line's worth per call and removes its own
//! watch at end of file, as asyncio code calls `remove_reader`. The exact interleaving follows
//! the threads' timing and can differ from run to run.
//!
//! What production runtimes do differently: tokio (`AsyncFd`) and async-io (`Async<T>`) have
//! the same future-based API; for pipes to a child they wrap it in a process type (tokio's
//! `ChildStdout`), and for a terminal they also switch it to raw mode. asyncio's `add_reader` is
//! level-triggered on a level-triggered selector; evloop gets the same behaviour over
//! edge-triggered epoll with one `poll(2)` per call (see `src/io/watch.rs`).

mod support;

use std::cell::RefCell;
use std::io::{self, PipeReader, Read, Write};
use std::rc::Rc;
use std::thread;
use std::time::{Duration, Instant};

use evloop::io::{AsyncFd, FdWatch, add_reader};
use evloop::time::{now, sleep};
use evloop::{spawn_named, yield_now};
use support::since;

/// How long the writer thread sleeps between lines.
const PAUSE: Duration = Duration::from_millis(250);

fn main() {
    support::init_logger();
    run();
}

/// A pipe whose write end belongs to a thread that writes `lines` slowly, then closes it.
fn slow_pipe(who: &'static str, lines: &'static [&'static str]) -> io::Result<PipeReader> {
    let (reader, mut writer) = io::pipe()?;
    thread::spawn(move || {
        for line in lines {
            thread::sleep(PAUSE); // a blocking sleep: fine on its own thread, never on the loop
            writer
                .write_all(format!("{line}\n").as_bytes())
                .expect("the loop reads until EOF");
        }
        println!("{who}: wrote {} lines; closing the write end", lines.len());
    }); // `writer` drops with the thread: the reader sees end of file
    Ok(reader)
}

/// Part 1: a task reads the pipe through `AsyncFd::read_with`, a line at a time.
async fn read_as_a_future(start: Instant) -> io::Result<()> {
    let pipe = AsyncFd::new(slow_pipe("writer 1", &["one", "two", "three"])?)?;
    println!(
        "[{}] reader: AsyncFd registered the pipe; waiting for readable",
        since(start)
    );
    let mut buf = [0; 256];
    loop {
        // Inside: wait for readable, read; on WouldBlock forget the readiness and wait again.
        let n = pipe.read_with(|mut r| r.read(&mut buf)).await?;
        if n == 0 {
            println!(
                "[{}] reader: end of file (read gave 0); dropping the AsyncFd",
                since(start)
            );
            return Ok(()); // dropping `pipe` deregisters it, then closes it
        }
        let text = String::from_utf8_lossy(&buf[..n]);
        println!("[{}] reader: got {:?}", since(start), text.trim_end());
    }
}

/// Part 2: a callback reads the pipe; the watch removes itself at end of file.
async fn read_with_a_callback(start: Instant) -> io::Result<()> {
    let pipe = Rc::new(slow_pipe("writer 2", &["four", "five"])?);
    // The callback holds the watch, so that it can remove it (asyncio's `remove_reader`).
    let watch: Rc<RefCell<Option<FdWatch>>> = Rc::default();
    let callback = {
        let (pipe, watch) = (pipe.clone(), watch.clone());
        move || {
            let mut buf = [0; 256];
            match (&*pipe).read(&mut buf) {
                Ok(0) => {
                    println!("[{}] callback: end of file; remove_reader", since(start));
                    drop(watch.borrow_mut().take());
                }
                Ok(n) => {
                    let text = String::from_utf8_lossy(&buf[..n]);
                    println!("[{}] callback: got {:?}", since(start), text.trim_end());
                }
                Err(error) => println!("[{}] callback: read failed ({error})", since(start)),
            }
        }
    };
    *watch.borrow_mut() = Some(add_reader(&*pipe, callback)?);
    println!("[{}] main: add_reader(pipe, callback) returned at once", since(start));
    while watch.borrow().is_some() {
        sleep(Duration::from_millis(50)).await; // the main task has nothing else to do
    }
    Ok(())
}

pub fn run() {
    support::run(async {
        let start = now();
        // The ticker: proof that the loop is free while the pipe has nothing to give.
        let ticker = spawn_named("ticker", async move {
            loop {
                sleep(Duration::from_millis(100)).await;
                println!("[{}] ticker: tick", since(start));
            }
        });
        println!("part 1: a task reads the pipe with AsyncFd::read_with");
        if let Err(error) = read_as_a_future(start).await {
            println!("part 1 failed: {error}");
        }
        println!("part 2: a callback reads the pipe, as asyncio's loop.add_reader");
        if let Err(error) = read_with_a_callback(start).await {
            println!("part 2 failed: {error}");
        }
        ticker.cancel();
        yield_now().await; // let the ticker's cancellation run before the loop ends
        println!(
            "[{}] main: both pipes read to the end; the ticker is cancelled",
            since(start)
        );
    });
}

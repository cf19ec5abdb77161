//! subprocess_sort: run other programs from the loop: pipe lines into `sort` and read them back,
//! then give a child that hangs a deadline and kill it when the deadline passes.
//!
//! Mirrors asyncio's `asyncio.create_subprocess_exec("sort", stdin=PIPE, stdout=PIPE)` followed
//! by `await proc.communicate(data)`, and `await asyncio.wait_for(proc.wait(), timeout)` with
//! `proc.kill()` when it times out: <https://docs.python.org/3/library/asyncio-subprocess.html>.
//!
//! Run with: `cargo run --example subprocess_sort` (no `--virtual`: a child runs in real time,
//! and a virtual clock would jump ahead whenever the loop waits for one).
//!
//! What to look for:
//! 1. While `sort` works, a ticker task keeps ticking: the loop is never blocked by a child.
//!    The lines are written from a task of their own while this task reads, because a big
//!    input could fill one pipe while `sort`'s output fills the other.
//! 2. `sleep 30` blows its 300 ms deadline: `timeout` drops the `wait` (which loses nothing: the
//!    child is untouched), then `kill` sends `SIGKILL` and the status says "signal: 9".
//! 3. `evloop::stats()` counts no registration left: each pipe and each child's pidfd (the
//!    descriptor through which the loop learns that a child exited) went with its owner.
//!
//! What production runtimes do differently: tokio watches a child's exit through a pidfd too
//! where it can, and otherwise through a `SIGCHLD` handler that reaps every child it knows of;
//! asyncio (since Python 3.12) uses a pidfd where it can and otherwise a thread per child
//! (`ThreadedChildWatcher`); evloop has only the pidfd (DESIGN.md says why). std's
//! `Child::wait` blocks its thread until the child exits.

mod support;

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use evloop::process::{Command, Stdio};
use evloop::time::{interval, now, timeout};

use support::{since, step};

fn main() {
    support::init_logger();
    if support::virtual_clock_requested() {
        println!("(--virtual has no effect here: children run in real time)");
    }
    run();
}

pub fn run() {
    support::run(async {
        let start = now();
        let ticking = Rc::new(Cell::new(true));
        let ticks = Rc::new(Cell::new(0));
        let ticker = evloop::spawn({
            let (ticking, ticks) = (ticking.clone(), ticks.clone());
            async move {
                let mut every = interval(Duration::from_millis(100));
                while ticking.get() {
                    every.tick().await;
                    ticks.set(ticks.get() + 1);
                }
            }
        });

        println!("-- 1. lines into sort, sorted lines back --");
        let fruit = ["pear", "fig", "apple", "quince", "banana", "cherry"];
        let mut sort = Command::new("sort")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("sort is on PATH");
        step(format!("[{}] spawned sort, pid {}", since(start), sort.id()));
        let stdin = sort.stdin.take().expect("stdin was piped");
        let input: String = fruit.iter().map(|f| format!("{f}\n")).collect();
        let writer = evloop::spawn(async move {
            stdin.write_all(input.as_bytes()).await?;
            Ok::<_, std::io::Error>(()) // `stdin` drops here: sort reads end of file
        });
        // asyncio's `await proc.communicate()`: read stdout (and stderr) to the end, and wait.
        let output = sort.wait_with_output().await.expect("sort runs");
        writer.await.expect("not cancelled").expect("sort reads all its input");
        step(format!(
            "[{}] sort exited ({}); it printed:",
            since(start),
            output.status
        ));
        for line in String::from_utf8_lossy(&output.stdout).lines() {
            println!("      {line}");
        }

        println!("-- 2. a child that hangs, under a deadline --");
        let mut hang = Command::new("sleep").arg("30").spawn().expect("sleep is on PATH");
        step(format!(
            "[{}] spawned `sleep 30`, pid {}; allowing it 300 ms",
            since(start),
            hang.id()
        ));
        match timeout(Duration::from_millis(300), hang.wait()).await {
            Ok(status) => step(format!("[{}] it exited by itself?! ({status:?})", since(start))),
            Err(elapsed) => {
                step(format!("[{}] {elapsed}", since(start)));
                hang.kill().await.expect("SIGKILL is delivered");
                let status = hang.wait().await.expect("the status was kept");
                step(format!("[{}] killed it: {status}", since(start)));
            }
        }

        ticking.set(false);
        ticker.await.expect("the ticker neither panics nor is cancelled");
        drop(hang);
        println!(
            "-- the ticker ticked {} times meanwhile; registrations left: {} --",
            ticks.get(),
            evloop::stats().io_sources
        );
    });
}

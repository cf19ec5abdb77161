//! support: the prologue the examples share (logging, the clock and its banner, time stamps),
//! written once so that each example's file is about its own idea.
//!
//! Most examples start the same way: turn on logging, read `--virtual`, build a runtime on the
//! chosen clock and say which clock it is; then they stamp what they print with the time on the
//! loop's clock, or number the steps in the order they ran. Those few lines live here. None of
//! it is evloop: it is the scaffolding of a demo, and `src/` never uses it.
//!
//! Each example includes this file with `mod support;` (a folder without a `main.rs` is not an
//! example of its own to cargo, so `examples/support/` is only ever a module). The tour includes
//! every example as a module, so it compiles one copy of this file per example: each example
//! keeps its own step counter there, as it does when it runs alone.

// Each example uses only some of these.
#![allow(dead_code)]

use std::cell::Cell;
use std::fmt::Display;
use std::time::{Duration, Instant};

use env_logger::{Builder, Env, Target};
use evloop::Runtime;
use evloop::time::now;

/// Turns on logging: warnings by default (so `blocking` shows the loop's "blocked the loop"
/// warning), anything else through `RUST_LOG` (`RUST_LOG=evloop=trace` shows every spawn, wake
/// and poll). The lines go to stdout, without a time stamp, so they land among the example's
/// own lines in the order things happened.
pub fn init_logger() {
    logger(Target::Stdout);
}

/// The same, onto stderr: for a program whose stdout is data (`fetch` writes bodies there).
pub fn init_logger_on_stderr() {
    logger(Target::Stderr);
}

fn logger(target: Target) {
    Builder::from_env(Env::default().default_filter_or("warn"))
        .format_timestamp(None)
        .target(target)
        .init();
}

/// Whether `--virtual` is on the command line: run on the virtual clock, which jumps to the
/// next timer whenever the loop is idle, so sleeps take no real time and times print exactly.
pub fn virtual_clock_requested() -> bool {
    std::env::args().any(|arg| arg == "--virtual")
}

/// A runtime on the virtual clock or the real one; prints a banner saying which.
pub fn runtime(virtual_clock: bool) -> Runtime {
    let runtime = Runtime::builder()
        .with_virtual_clock(virtual_clock)
        .build()
        .expect("the OS should let us create an epoll instance");
    let clock = if virtual_clock {
        "virtual (sleeps take no real time)"
    } else {
        "real"
    };
    println!("clock: {clock}");
    runtime
}

/// The time since `start` on the loop's clock (virtual or real), to the millisecond: `2.001 s`.
pub fn since(start: Instant) -> String {
    secs(now().duration_since(start))
}

/// A duration in seconds, to the millisecond (truncated, never rounded up): `2.001 s`.
pub fn secs(duration: Duration) -> String {
    format!("{}.{:03} s", duration.as_secs(), duration.subsec_millis())
}

/// Prints one numbered line, ` 7. text`: the number is the order in which things actually ran.
pub fn step(text: impl Display) {
    thread_local!(static STEP: Cell<u32> = const { Cell::new(0) });
    let n = STEP.with(|s| {
        s.set(s.get() + 1);
        s.get()
    });
    println!("{n:>2}. {text}");
}

//! tour: the core evloop examples in one run, each under its own heading; the rest are listed at
//! the end.
//!
//! The examples mirror, one idea each, the programs of the asyncio articles evloop is built
//! from: coroutines and tasks, callbacks, exceptions, waits that overlap, gather and task
//! groups, timeouts and cancellation, periodic jobs, semaphores, locks and queues, and sockets
//! and what blocking the loop does. Each example's own `//!` names the article and the section
//! it mirrors (`echo` mirrors none: it is asyncio's own echo server).
//!
//! Run with: `cargo run --release --example tour` (add `-- --pictures target/tour-pictures` to
//! get an SVG timeline and a Chrome trace of every chapter in that folder)
//!
//! What to look for: the headings, then each example's own narration. The examples that only
//! wait on timers run on the virtual clock here, so their seconds pass instantly and print
//! exact times; `echo` uses real sockets and `blocking` real threads, so those take real time
//! (a couple of seconds in all).
//!
//! How it is built: each example is its own program (`cargo run --example NAME`) with a
//! `run` function; the tour includes their source files as modules (`#[path = "…"]`) and calls
//! those functions in turn, so one `cargo run --example tour` builds everything it needs. Each
//! section runs on a fresh runtime, under `catch_unwind`, so a failing section is reported and
//! the others still run.
//!
//! What production runtimes do differently: nothing to compare here; see each example.

// Each example's own `main` (with its logger setup) is not called by the tour: only its `run`.
// Each example also brings its own `mod support;`, so `support/mod.rs` is compiled once per
// example here (clippy's `duplicate_mod`): that keeps every example a program of its own, and
// its step numbers its own, whether it runs alone or in the tour.
#![allow(clippy::duplicate_mod)]

mod support;

#[path = "blocking.rs"]
#[allow(dead_code)]
mod blocking;
#[path = "callbacks.rs"]
#[allow(dead_code)]
mod callbacks;
#[path = "cancel.rs"]
#[allow(dead_code)]
mod cancel;
#[path = "echo.rs"]
#[allow(dead_code)]
mod echo;
#[path = "exceptions.rs"]
#[allow(dead_code)]
mod exceptions;
#[path = "gather.rs"]
#[allow(dead_code)]
mod gather;
#[path = "hello.rs"]
#[allow(dead_code)]
mod hello;
#[path = "lock_race.rs"]
#[allow(dead_code)]
mod lock_race;
#[path = "periodic.rs"]
#[allow(dead_code)]
mod periodic;
#[path = "queue.rs"]
#[allow(dead_code)]
mod queue;
#[path = "say_after.rs"]
#[allow(dead_code)]
mod say_after;
#[path = "semaphore.rs"]
#[allow(dead_code)]
mod semaphore;
#[path = "wait_for.rs"]
#[allow(dead_code)]
mod wait_for;

/// One section of the tour: its name, the command that runs it alone, and what to call.
struct Section {
    name: &'static str,
    command: &'static str,
    run: fn(),
}

const SECTIONS: &[Section] = &[
    Section {
        name: "hello",
        command: "cargo run --example hello",
        run: hello::run,
    },
    Section {
        name: "callbacks",
        command: "cargo run --example callbacks -- --virtual",
        run: || callbacks::run(true),
    },
    Section {
        name: "exceptions",
        command: "cargo run --example exceptions",
        run: exceptions::run,
    },
    Section {
        name: "say_after",
        command: "cargo run --example say_after -- --virtual",
        run: || say_after::run(true),
    },
    Section {
        name: "gather",
        command: "cargo run --example gather -- --virtual",
        run: || gather::run(true),
    },
    Section {
        name: "wait_for",
        command: "cargo run --example wait_for -- --virtual",
        run: || wait_for::run(true),
    },
    Section {
        name: "cancel",
        command: "cargo run --example cancel -- --virtual",
        run: || cancel::run(true),
    },
    Section {
        name: "periodic",
        command: "cargo run --example periodic -- --virtual",
        run: || periodic::run(true),
    },
    Section {
        name: "semaphore",
        command: "cargo run --example semaphore -- --virtual",
        run: || semaphore::run(true),
    },
    Section {
        name: "lock_race",
        command: "cargo run --example lock_race -- --virtual",
        run: || lock_race::run(true),
    },
    Section {
        name: "queue",
        command: "cargo run --example queue -- --virtual",
        run: || queue::run(true),
    },
    Section {
        name: "echo",
        command: "cargo run --example echo",
        run: echo::run,
    },
    Section {
        name: "blocking",
        command: "cargo run --example blocking",
        run: blocking::run,
    },
];

/// The examples the tour does not run, because they need something a tour should not do to its
/// own process or machine (a signal sent to itself, child processes, a local web server, both
/// cores for several seconds), or are tools rather than stories: listed at the end instead.
const MORE: &[&str] = &[
    "cargo run --example step_by_step        # one loop turn at a time; pause and advance the clock",
    "cargo run --example eager_start         # asyncio 3.12's eager task factory, with and without",
    "cargo run --example pipe_watch          # any fd: AsyncFd and add_reader on a pipe",
    "cargo run --example subprocess_sort     # a child process's pipes; a hung child killed",
    "cargo run --example graceful_shutdown   # Ctrl-C: stop accepting, finish, cancel the rest",
    "cargo run --example chat_server         # asyncio's streams chat: lines, broadcast, limits",
    "cargo run --example host_loop           # evloop driven by someone else's poll(2) loop",
    "cargo run --example thread_per_core     # one loop per core on one port (SO_REUSEPORT)",
    "cargo run --example event_interval      # how often the loop looks for I/O when busy",
    "cargo run --example fetch -- URL        # a small curl",
    "cargo run --release --example crawler   # the articles' crawler, against a local server",
];

/// `--pictures DIR`: where each chapter's `support` writes its pictures (it reads the flag
/// itself, and names the files after its example). `--timeline FILE` would have every chapter
/// write the same file, so the tour refuses it.
fn pictures_folder() -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|arg| arg == "--timeline") {
        eprintln!("tour: --timeline FILE would make every chapter overwrite one file; use --pictures DIR");
        std::process::exit(2);
    }
    let at = args.iter().position(|arg| arg == "--pictures")?;
    args.get(at + 1).cloned()
}

fn main() {
    pictures_folder();
    // Warnings on by default, so `blocking` can show the loop's slow-poll warning; RUST_LOG
    // overrides it (RUST_LOG=evloop=trace shows every step of the loop).
    support::init_logger();

    println!("evloop tour: a single-threaded event loop, asyncio's ideas rebuilt in Rust.");
    println!(
        "{} small programs follow, one idea each. Timer-only ones run on the virtual clock",
        SECTIONS.len()
    );
    println!("(time jumps to the next deadline, so their seconds pass at once); echo and blocking");
    println!("use real sockets and real threads.");

    let mut failed = Vec::new();
    for section in SECTIONS {
        println!();
        println!("=== {} ===  ({})", section.name, section.command);
        if std::panic::catch_unwind(section.run).is_err() {
            println!("!!! the {} section panicked; the tour goes on", section.name);
            failed.push(section.name);
        }
    }

    println!();
    println!("=== where next ===");
    println!("Run any example on its own (the timing ones also run on the real clock without --virtual):");
    for section in SECTIONS {
        println!("  {}", section.command);
    }
    println!("More programs, each with its own story (I/O beyond TCP, the HTTP client, stepping the loop):");
    for command in MORE {
        println!("  {command}");
    }
    println!("Watch the loop itself: every spawn, wake (and what caused it), poll, epoll_wait and");
    println!("virtual-clock jump is logged under the `evloop` target:");
    println!("  RUST_LOG=evloop=trace cargo run --example hello");
    println!("Draw a run's schedule: --timeline FILE.svg (or .json) or --gantt; the tour: --pictures DIR");
    if let Some(folder) = pictures_folder() {
        println!(
            "The pictures of this tour's chapters are in {}/ (NAME.svg, NAME.json)",
            folder
        );
    }
    if !failed.is_empty() {
        println!("Sections that failed: {}", failed.join(", "));
        std::process::exit(1);
    }
}

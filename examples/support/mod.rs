//! support: the prologue the examples share (logging, the clock and its banner, time stamps),
//! written once so that each example's file is about its own idea.
//!
//! Most examples start the same way: turn on logging, read `--virtual`, build a runtime on the
//! chosen clock and say which clock it is; then they stamp what they print with the time on the
//! loop's clock, or number the steps in the order they ran. Those few lines live here. None of
//! it is evloop: it is the scaffolding of a demo, and `src/` never uses it.
//!
//! Every example can also show its own schedule: `--timeline FILE` writes a picture of the run
//! (an SVG timeline for `FILE.svg`, a Chrome trace for Perfetto for `FILE.json`), `--gantt`
//! prints a text Gantt chart at the end, and the tour's `--pictures DIR` writes both pictures of
//! each chapter into `DIR`. Any of them switches the loop's recorder on (`Builder::record`);
//! the pictures are `evloop::record::Record`'s renderers, and go to stderr and files, never
//! into the example's own output.
//!
//! Each example includes this file with `mod support;` (a folder without a `main.rs` is not an
//! example of its own to cargo, so `examples/support/` is only ever a module). The tour includes
//! every example as a module, so it compiles one copy of this file per example: each example
//! keeps its own step counter there, as it does when it runs alone.

// Each example uses only some of these.
#![allow(dead_code)]

use std::cell::Cell;
use std::fmt::Display;
use std::future::Future;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use env_logger::{Builder, Env, Target};
use evloop::Runtime;
use evloop::record::Record;
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

/// A runtime on the virtual clock or the real one; prints a banner saying which. It records the
/// run if a picture was asked for, and draws it when the example drops it.
pub fn runtime(virtual_clock: bool) -> Shown {
    let shown = build(Runtime::builder().with_virtual_clock(virtual_clock));
    let clock = if virtual_clock {
        "virtual (sleeps take no real time)"
    } else {
        "real"
    };
    println!("clock: {clock}");
    shown
}

/// A runtime from `builder` (no banner), recording if a picture was asked for: for the
/// examples that configure their own loop.
pub fn build(builder: evloop::Builder) -> Shown {
    let pictures = Pictures::requested();
    let runtime = builder
        .record(pictures.any())
        .build()
        .expect("the OS should let us create an epoll instance");
    Shown { runtime, pictures }
}

/// `evloop::run`, on a runtime that draws its pictures when it is done.
pub fn run<F: Future>(future: F) -> F::Output {
    build(Runtime::builder()).block_on(future)
}

/// The command line without the picture flags (and their values), for the examples that read
/// arguments of their own.
pub fn args() -> impl Iterator<Item = String> {
    let mut args = std::env::args().skip(1);
    std::iter::from_fn(move || {
        loop {
            let arg = args.next()?;
            match arg.as_str() {
                "--timeline" | "--pictures" => drop(args.next()),
                "--gantt" => {}
                _ => return Some(arg),
            }
        }
    })
}

/// What the command line asked to see of the run.
#[derive(Debug, Clone, Default)]
pub struct Pictures {
    /// `--timeline FILE`: one picture, its kind chosen by the extension.
    timeline: Option<PathBuf>,
    /// `--gantt`: the text chart on stderr.
    gantt: bool,
    /// `--pictures DIR` (the tour): both pictures, named after the example, into `DIR`.
    folder: Option<PathBuf>,
}

impl Pictures {
    /// Reads the flags; a bad one (no value, an extension that names no picture) ends the
    /// program with a message before anything runs.
    pub fn requested() -> Pictures {
        let mut pictures = Pictures::default();
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--gantt" => pictures.gantt = true,
                "--timeline" => pictures.timeline = Some(value(&arg, args.next()).into()),
                "--pictures" => pictures.folder = Some(value(&arg, args.next()).into()),
                _ => {}
            }
        }
        if let Some(file) = &pictures.timeline
            && kind(file).is_none()
        {
            eprintln!(
                "--timeline {}: the extension says which picture: .svg (a timeline to open in a \
                 browser) or .json (a Chrome trace for ui.perfetto.dev or chrome://tracing)",
                file.display()
            );
            std::process::exit(2);
        }
        pictures
    }

    /// Whether anything is to be drawn (so the loop should record).
    pub fn any(&self) -> bool {
        self.timeline.is_some() || self.gantt || self.folder.is_some()
    }

    /// Draws `record` as asked. `n` counts this example's runtimes from 1: a second one's
    /// pictures get `-2` in their names instead of overwriting the first's.
    fn draw(&self, record: &Record, n: u32) {
        let mut files = Vec::new();
        if let Some(file) = &self.timeline {
            files.push(numbered(file, n));
        }
        if let Some(folder) = &self.folder {
            let name = example_name();
            files.push(numbered(&folder.join(format!("{name}.svg")), n));
            files.push(numbered(&folder.join(format!("{name}.json")), n));
        }
        for file in files {
            let picture = match kind(&file) {
                Some(Kind::Svg) => record.to_svg(),
                Some(Kind::Json) => record.to_chrome_trace(),
                None => continue,
            };
            let written = file
                .parent()
                .map_or(Ok(()), std::fs::create_dir_all)
                .and_then(|()| std::fs::write(&file, picture));
            match written {
                Ok(()) => eprintln!("timeline: wrote {}", file.display()),
                Err(error) => eprintln!("timeline: could not write {}: {error}", file.display()),
            }
        }
        if self.gantt {
            eprint!("{}", record.to_gantt(100));
        }
        if record.dropped > 0 {
            eprintln!(
                "timeline: {} events were dropped (over the cap of {}); EVLOOP_RECORD sets a larger one",
                record.dropped, record.cap
            );
        }
    }
}

/// A `--timeline`/`--pictures` argument's value, or the end of the program.
fn value(flag: &str, value: Option<String>) -> String {
    value.unwrap_or_else(|| {
        eprintln!("{flag} needs a value: {flag} FILE");
        std::process::exit(2)
    })
}

/// The two kinds of picture file.
enum Kind {
    Svg,
    Json,
}

fn kind(file: &Path) -> Option<Kind> {
    match file.extension()?.to_str()? {
        "svg" => Some(Kind::Svg),
        "json" => Some(Kind::Json),
        _ => None,
    }
}

/// `file` itself for the first runtime, `name-2.ext` for the second, and so on.
fn numbered(file: &Path, n: u32) -> PathBuf {
    if n <= 1 {
        return file.to_path_buf();
    }
    let stem = file
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    let ext = file
        .extension()
        .map_or_else(String::new, |e| e.to_string_lossy().into_owned());
    file.with_file_name(format!("{stem}-{n}.{ext}"))
}

/// The example this copy of the module belongs to: `hello` for `hello::support` (run alone)
/// and for `tour::hello::support` (in the tour).
fn example_name() -> &'static str {
    let path: Vec<&'static str> = module_path!().split("::").collect();
    path.len().checked_sub(2).map_or("example", |i| path[i])
}

/// A runtime that, when the example is done with it, draws the pictures of its run (if any
/// were asked for). It derefs to the `Runtime`, so the examples use it as one.
#[derive(Debug)]
pub struct Shown {
    runtime: Runtime,
    pictures: Pictures,
}

impl Deref for Shown {
    type Target = Runtime;

    fn deref(&self) -> &Runtime {
        &self.runtime
    }
}

impl Drop for Shown {
    fn drop(&mut self) {
        thread_local!(static RUNTIMES: Cell<u32> = const { Cell::new(0) });
        if !self.pictures.any() {
            return;
        }
        if let Some(record) = self.runtime.take_record() {
            let n = RUNTIMES.with(|count| {
                count.set(count.get() + 1);
                count.get()
            });
            self.pictures.draw(&record, n);
        }
    }
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

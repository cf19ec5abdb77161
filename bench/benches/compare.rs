//! evloop side by side with its peers: the same workloads, the same process, the same inputs.
//!
//! Run with: `cargo bench -p evloop-bench --bench compare` (several minutes with the Python peers),
//! or `-- --quick` for a smoke run of every workload at a small N (what CI runs: it checks that
//! the code works, never a time).
//! Other flags: `--only <workload>`, `--runtime <key>`, `--reps <n>`, `--n <ops>`, `--conns <n>`
//! (see `--help`). `--sweep` runs every workload at several sizes instead, for the plot of cost
//! against N (see `compare/sweep.rs`).
//!
//! Two suites, each printed as its own table: the **runtime** suite below, and the **HTTP**
//! suite in `compare/http.rs` (evloop's HTTP client beside hyper's, keep-alive GETs against a
//! local nginx that `scripts/peers.sh` starts; `compare/cost.rs` reads the bench thread's CPU
//! time and system calls for it). The runtime suite's keys:
//!
//! | key           | runtime                                                                 |
//! |---------------|-------------------------------------------------------------------------|
//! | `evloop`      | `evloop::Runtime::new()`: the default `Builder`, no logger installed    |
//! | `tokio`       | tokio current-thread, `enable_all()` (I/O and time drivers), `tokio::spawn` |
//! | `tokio_local` | the same runtime, tasks on a `LocalSet` via `spawn_local` (`!Send` allowed) |
//! | `smol`        | `async_executor::LocalExecutor`, driven by `async_io::block_on(ex.run(..))` |
//! | `floor`       | the least work any single-threaded runtime must do (`compare/floor.rs`) |
//! | `asyncio`, `uvloop` | Python processes running `bench/py/peers.py` (see `compare/python.rs`) |
//!
//! smol runs under `async_io::block_on` rather than `futures_lite::future::block_on` because
//! that is what `smol::block_on` is: when the executor has nothing to run, the thread parks in
//! async-io's reactor (epoll plus the timer map), just as evloop's loop parks in its own. Under
//! `futures_lite`'s block_on the thread would park on a condvar and timers would fire on
//! async-io's helper thread, a cross-thread wake smol programs do not pay.
//!
//! Every figure is a ratio taken within one run: the machine these run on is shared, so
//! absolute nanoseconds drift between runs, but all runtimes see the same drift, because the
//! repetitions are interleaved (each round runs every runtime once, in a rotating order).
//!
//! How the code is laid out: [`SUITES`] lists each suite's workloads ([`WORKLOADS`] here), which
//! say what is measured and in which unit, and its peers; the body of each workload is written
//! once, in the [`workloads!`] macro, and expanded inside one small module per runtime that
//! supplies the same few names (`Rt`, `join`, `yield_now`, `sleep`, `RtBaton`…). A macro rather
//! than a trait, because the `tokio` key's `spawn` needs `Send` futures and the others do not:
//! the macro lets each expansion be type-checked on its own. The HTTP suite does the same with
//! its own macro.

#![allow(missing_docs)]

#[path = "compare/cost.rs"]
mod cost;
#[path = "compare/http.rs"]
mod http;
#[path = "compare/python.rs"]
mod python;
#[path = "compare/sweep.rs"]
mod sweep;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::fmt::Write as _;
use std::future::{Future, poll_fn};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------------
// What is measured
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Workload {
    SpawnJoin,
    Yield,
    PingPong,
    TimerCancel,
    TimerFire,
    Semaphore,
    Memory,
    /// The HTTP suite's (see `compare/http.rs`).
    HttpSeq,
    HttpConc,
}

/// One workload: its name, its size in a full and in a quick run, and the rows it reports
/// (one number per row per run).
struct Spec {
    workload: Workload,
    name: &'static str,
    full_n: usize,
    quick_n: usize,
    rows: &'static [Row],
}

/// One line of the results table.
struct Row {
    name: &'static str,
    unit: &'static str,
    /// The issue's target for evloop (a goal to report on, never asserted).
    goal: Goal,
}

#[derive(Clone, Copy)]
enum Goal {
    None,
    /// evloop's median over the suite's reference peer's median (tokio's, hyper's) is at most
    /// this.
    Ratio(f64),
    /// evloop's median is at most this, in the row's unit.
    AtMost(f64),
    /// evloop's smallest sample is at least this (used for "never early").
    AtLeast(f64),
    /// evloop's median over the named peer's median is at most this (`RatioTo("floor", 2.0)`).
    RatioTo(&'static str, f64),
    /// Every one of these goals.
    All(&'static [Goal]),
}

/// The issue's goal for every runtime row: within 2× of the floor (`compare/floor.rs`).
const FLOOR_2X: Goal = Goal::RatioTo("floor", 2.0);

const fn row(name: &'static str, unit: &'static str, goal: Goal) -> Row {
    Row { name, unit, goal }
}

#[rustfmt::skip]
const WORKLOADS: [Spec; 7] = [
    Spec { workload: Workload::SpawnJoin, name: "spawn_join", full_n: 1_000_000, quick_n: 10_000,
           rows: &[row("spawn_join", "ns/task", FLOOR_2X)] },
    Spec { workload: Workload::Yield, name: "yield", full_n: 10_000_000, quick_n: 100_000,
           rows: &[row("yield", "ns/yield", FLOOR_2X)] },
    Spec { workload: Workload::PingPong, name: "ping_pong", full_n: 1_000_000, quick_n: 10_000,
           rows: &[row("ping_pong", "ns/hand-off", FLOOR_2X)] },
    Spec { workload: Workload::TimerCancel, name: "timer_cancel", full_n: 1_000_000, quick_n: 10_000,
           rows: &[row("timer_cancel", "ns/timer", FLOOR_2X)] },
    Spec { workload: Workload::TimerFire, name: "timer_fire", full_n: 100_000, quick_n: 1_000,
           rows: &[row("timer_fire", "ms total", Goal::None),
                   row("timer_fire_p99_late", "µs", Goal::All(&[Goal::AtMost(250.0), FLOOR_2X])),
                   row("timer_fire_max_late", "µs", Goal::None),
                   row("timer_fire_min_late", "µs", Goal::AtLeast(0.0)),
                   row("timer_fire_median_late", "µs", Goal::AtMost(50.0))] },
    Spec { workload: Workload::Semaphore, name: "semaphore", full_n: 100_000, quick_n: 1_000,
           rows: &[row("semaphore", "ns/task", FLOOR_2X)] },
    Spec { workload: Workload::Memory, name: "memory", full_n: 1_000_000, quick_n: 10_000,
           rows: &[row("memory_heap", "B/task", Goal::All(&[Goal::AtMost(128.0), FLOOR_2X])),
                   row("memory_rss", "B/task", Goal::None)] },
];

/// How big one run is.
struct Params {
    /// Operations (tasks, yields, hand-offs, timers).
    n: usize,
    /// `timer_fire`'s deadlines are spread uniformly over `0..=fire_window`.
    fire_window: Duration,
    /// What the HTTP workloads GET (nginx's `/hello.txt`); empty in the runtime suite.
    url: String,
    /// Connections (and tasks) in `http_conc`: `--conns`, else [`http::CONNECTIONS`].
    connections: usize,
}

/// One runtime (or client) under test: its key in the table and the JSON, and the entry point its
/// module's expansion of [`workloads!`] (or of `http_workloads!`) provides.
struct Peer {
    key: &'static str,
    run: fn(Workload, &Params) -> Vec<f64>,
}

#[rustfmt::skip]
const RUNTIME_PEERS: [Peer; 7] = [
    Peer { key: evloop_rt::KEY, run: evloop_rt::run },
    Peer { key: tokio_rt::KEY, run: tokio_rt::run },
    Peer { key: tokio_local_rt::KEY, run: tokio_local_rt::run },
    Peer { key: smol_rt::KEY, run: smol_rt::run },
    Peer { key: floor::KEY, run: floor::run },
    python::ASYNCIO,
    python::UVLOOP,
];

/// Workloads measured against the same peers, printed as one table.
struct Suite {
    title: &'static str,
    workloads: &'static [Spec],
    /// evloop first: every ratio is evloop's median over another peer's.
    peers: &'static [Peer],
    /// The peers evloop is divided by, one ratio column each; goals refer to the first.
    ratio_to: &'static [&'static str],
    /// Whether the suite needs nginx running (the HTTP suite).
    needs_nginx: bool,
}

static SUITES: [Suite; 2] = [
    Suite {
        title: "Runtimes",
        workloads: &WORKLOADS,
        peers: &RUNTIME_PEERS,
        ratio_to: &["tokio", "smol", "floor", "asyncio", "uvloop"],
        needs_nginx: false,
    },
    Suite {
        title: "HTTP keep-alive against a local nginx (compare/http.rs)",
        workloads: &http::WORKLOADS,
        peers: &http::PEERS,
        ratio_to: &["hyper", "aiohttp", "aiohttp_uvloop"],
        needs_nginx: true,
    },
];

// ---------------------------------------------------------------------------------------------
// The driver: parse flags, run the rounds, print the tables, write the JSON
// ---------------------------------------------------------------------------------------------

#[derive(Clone)]
struct Options {
    quick: bool,
    sweep: bool,
    reps: usize,
    only: Option<String>,
    runtime: Option<String>,
    n: Option<usize>,
    conns: Option<usize>,
}

const USAGE: &str =
    "usage: compare [--quick] [--sweep] [--reps N] [--only WORKLOAD] [--runtime KEY] [--n OPS] [--conns N]
  --quick          every workload once, at a small N (a smoke test; CI runs this)
  --reps N         repetitions per runtime (default 5; 1 with --quick)
  --only WORKLOAD  spawn_join | yield | ping_pong | timer_cancel | timer_fire | semaphore | memory
                   | http_seq | http_conc   (these two start nginx with scripts/peers.sh)
  --runtime KEY    evloop | tokio | tokio_local | smol | floor | asyncio | uvloop
                   | hyper | aiohttp | aiohttp_uvloop   (these three: the HTTP suite only)
  --n OPS          override the workload size (for `strace -c -f` differences)
  --conns N        connections in http_conc (default 100)
  --sweep          every runtime workload at N = 1k, 10k, 100k, 1M and http_conc at 10, 100, 1000
                   connections (default 3 reps; with --quick: smaller sizes, 1 rep); writes
                   compare-sweep.json, which bench/plot_sweep.py draws";

fn parse_options() -> Options {
    let mut options = Options {
        quick: false,
        sweep: false,
        reps: 0,
        only: None,
        runtime: None,
        n: None,
        conns: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => options.quick = true,
            "--sweep" => options.sweep = true,
            "--reps" => options.reps = parse_count(&value(&mut args, "--reps")),
            "--n" => options.n = Some(parse_count(&value(&mut args, "--n"))),
            "--conns" => options.conns = Some(parse_count(&value(&mut args, "--conns"))),
            "--only" => options.only = Some(value(&mut args, "--only")),
            "--runtime" => options.runtime = Some(value(&mut args, "--runtime")),
            "--bench" => {} // `cargo bench` passes this to every harness-less bench
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => fail(&format!("unknown argument `{other}`")),
        }
    }
    if let Some(only) = &options.only
        && !SUITES.iter().flat_map(|s| s.workloads).any(|spec| spec.name == only)
    {
        fail(&format!("no workload named `{only}`"));
    }
    if let Some(key) = &options.runtime
        && !SUITES.iter().flat_map(|s| s.peers).any(|peer| peer.key == key)
    {
        fail(&format!("no runtime keyed `{key}`"));
    }
    if options.sweep && (options.n.is_some() || options.conns.is_some()) {
        fail("--sweep chooses N and the connections itself: drop --n and --conns");
    }
    if options.reps == 0 {
        options.reps = match (options.quick, options.sweep) {
            (true, _) => 1,
            (false, true) => 3,
            (false, false) => 5,
        };
    }
    options
}

fn value(args: &mut impl Iterator<Item = String>, flag: &str) -> String {
    args.next().unwrap_or_else(|| fail(&format!("{flag} needs a value")))
}

fn parse_count(text: &str) -> usize {
    text.parse()
        .ok()
        .filter(|&n| n > 0)
        .unwrap_or_else(|| fail(&format!("`{text}` is not a positive count")))
}

fn fail(message: &str) -> ! {
    eprintln!("compare: {message}\n{USAGE}");
    std::process::exit(2);
}

/// Every sample of one row: `samples[peer index in its suite]`.
type RowSamples = Vec<Vec<f64>>;

/// One suite's rows, each with its samples.
struct SuiteResults {
    suite: &'static Suite,
    rows: Vec<(&'static Row, RowSamples)>,
}

fn main() {
    let options = parse_options();
    println!("{}", machine_summary());
    if options.sweep {
        sweep::run(&options);
        return;
    }
    let mode = if options.quick { "quick" } else { "full" };
    println!(
        "mode: {mode}, {} repetition(s) per runtime, interleaved\n",
        options.reps
    );

    let started = Instant::now();
    let mut done = Vec::new();
    let mut nginx_failure = None;
    for suite in &SUITES {
        let specs: Vec<&'static Spec> = suite
            .workloads
            .iter()
            .filter(|s| options.only.as_deref().is_none_or(|o| o == s.name))
            .collect();
        let peers = selected_peers(suite, &options);
        if specs.is_empty() || peers.is_empty() {
            continue;
        }
        // A guard: nginx stops at the end of this iteration, or while a panic unwinds.
        let nginx = match nginx_for(suite) {
            Ok(nginx) => nginx,
            Err(reason) => {
                nginx_failure = Some(reason);
                break;
            }
        };
        let url = nginx.as_ref().map_or_else(String::new, http::Nginx::hello_url);
        let rows = run_suite(suite, &specs, &peers, &options, &url);
        done.push(SuiteResults { suite, rows });
    }

    for results in &done {
        println!("{}\n\n{}", results.suite.title, render_table(results));
    }
    println!("total bench time: {:.1} s", started.elapsed().as_secs_f64());
    let complete = options.only.is_none() && options.runtime.is_none() && options.n.is_none() && !options.quick;
    let file = if complete {
        "compare.json"
    } else {
        "compare-partial.json"
    };
    match write_json(file, &done) {
        Ok(path) => println!("medians written to {}", path.display()),
        Err(e) => eprintln!("compare: could not write {file}: {e}"),
    }
    if let Some(reason) = nginx_failure {
        fail_for_nginx("the HTTP workloads need", &reason);
    }
    if let Some(reason) = python::failure() {
        eprintln!("\ncompare: FAILED: the Python peers need their venv, and it could not be made: {reason}");
        eprintln!(
            "compare: `bash scripts/py_peers.sh /tmp/py-peers-venv` shows why; `--runtime <key>` runs the others"
        );
        std::process::exit(1);
    }
}

/// The peers of `suite` that `--runtime` selects (all of them without it).
fn selected_peers<'a>(suite: &'a Suite, options: &Options) -> Vec<&'a Peer> {
    suite
        .peers
        .iter()
        .filter(|p| options.runtime.as_deref().is_none_or(|k| k == p.key))
        .collect()
}

/// nginx for a suite that needs it (`None` for one that does not). Dropping it stops nginx,
/// also while a panic unwinds.
fn nginx_for(suite: &Suite) -> Result<Option<http::Nginx>, String> {
    if suite.needs_nginx {
        http::Nginx::start(&target_dir()).map(Some)
    } else {
        Ok(None)
    }
}

/// Exits 1 saying why nginx could not be started: called after the other results are out.
fn fail_for_nginx(what_needs_it: &str, reason: &str) -> ! {
    eprintln!("\ncompare: FAILED: {what_needs_it} nginx, and it could not be started: {reason}");
    eprintln!("compare: `bash scripts/peers.sh start /tmp/peers` shows why; `--only <workload>` runs the others");
    std::process::exit(1);
}

/// Every selected workload of `suite`, `options.reps` rounds, each round running every selected
/// peer once in a rotating order.
fn run_suite(
    suite: &Suite,
    specs: &[&'static Spec],
    peers: &[&Peer],
    options: &Options,
    url: &str,
) -> Vec<(&'static Row, RowSamples)> {
    let mut results = Vec::new();
    for spec in specs {
        let params = Params {
            n: options
                .n
                .unwrap_or(if options.quick { spec.quick_n } else { spec.full_n }),
            fire_window: Duration::from_millis(if options.quick { 100 } else { 1000 }),
            url: url.to_string(),
            connections: options.conns.unwrap_or(http::CONNECTIONS),
        };
        let mut samples: Vec<RowSamples> = spec.rows.iter().map(|_| vec![Vec::new(); suite.peers.len()]).collect();
        for rep in 0..options.reps {
            eprint!("{} (n = {}) round {}/{}:", spec.name, params.n, rep + 1, options.reps);
            for i in 0..peers.len() {
                let peer = peers[(rep + i) % peers.len()];
                eprint!(" {}", peer.key);
                let values = (peer.run)(spec.workload, &params);
                let slot = suite
                    .peers
                    .iter()
                    .position(|p| p.key == peer.key)
                    .expect("peer is in its suite");
                for (row, value) in values.into_iter().enumerate() {
                    samples[row][slot].push(value);
                }
            }
            eprintln!();
        }
        results.extend(spec.rows.iter().zip(samples));
    }
    results
}

fn median(samples: &[f64]) -> Option<f64> {
    let mut sorted: Vec<f64> = samples.iter().copied().filter(|v| !v.is_nan()).collect();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    match sorted.len() {
        0 => None,
        len if len % 2 == 1 => Some(sorted[mid]),
        _ => Some((sorted[mid - 1] + sorted[mid]) / 2.0),
    }
}

fn fmt_value(v: f64) -> String {
    match v.abs() {
        a if a >= 100.0 => format!("{v:.0}"),
        a if a >= 10.0 => format!("{v:.1}"),
        _ => format!("{v:.2}"),
    }
}

/// Two decimals, or two significant digits below 0.1 (evloop/asyncio is often near 0.002).
fn fmt_ratio(r: f64) -> String {
    if r > 0.0 && r < 0.1 {
        let decimals = (1.0 - r.log10().floor()) as usize;
        format!("{r:.decimals$}")
    } else {
        format!("{r:.2}")
    }
}

/// A markdown table: median (min–max) per peer, evloop's ratios to the suite's `ratio_to`
/// peers, and the goal.
fn render_table(results: &SuiteResults) -> String {
    let suite = results.suite;
    let index = |key: &str| {
        suite
            .peers
            .iter()
            .position(|p| p.key == key)
            .expect("ratio_to names a peer")
    };
    let mut header = vec!["workload".to_string(), "unit".to_string()];
    header.extend(suite.peers.iter().map(|p| p.key.to_string()));
    header.extend(suite.ratio_to.iter().map(|key| format!("evloop/{key}")));
    header.push("goal (evloop)".to_string());
    let mut lines = vec![header];
    for (row, samples) in &results.rows {
        let mut line = vec![row.name.to_string(), row.unit.to_string()];
        for peer_samples in samples {
            line.push(match median(peer_samples) {
                None => "–".to_string(),
                Some(m) => {
                    let min = peer_samples.iter().copied().fold(f64::INFINITY, f64::min);
                    let max = peer_samples.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    format!("{} ({}–{})", fmt_value(m), fmt_value(min), fmt_value(max))
                }
            });
        }
        let evloop = median(&samples[0]);
        let ratio = |other: usize| match (evloop, median(&samples[other])) {
            (Some(e), Some(o)) if o != 0.0 => fmt_ratio(e / o),
            _ => "–".to_string(),
        };
        line.extend(suite.ratio_to.iter().map(|key| ratio(index(key))));
        let evloop_min = samples[0].iter().copied().reduce(f64::min);
        let medians: Vec<Option<f64>> = samples.iter().map(|s| median(s)).collect();
        let median_of = |key: &str| suite.peers.iter().position(|p| p.key == key).and_then(|i| medians[i]);
        let goals = match row.goal {
            Goal::All(goals) => goals,
            ref one => std::slice::from_ref(one),
        };
        let judged: Vec<String> = goals
            .iter()
            .filter_map(|&goal| {
                let (goal, met) = judge(goal, suite.ratio_to[0], evloop, evloop_min, median_of)?;
                Some(match met {
                    Some(true) => format!("{goal}: met"),
                    Some(false) => format!("{goal}: MISSED"),
                    None => goal,
                })
            })
            .collect();
        line.push(judged.join("; "));
        lines.push(line);
    }
    let widths: Vec<usize> = (0..lines[0].len())
        .map(|c| lines.iter().map(|l| l[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        let cells: Vec<String> = line
            .iter()
            .zip(&widths)
            .map(|(cell, &w)| format!("{cell:<w$}"))
            .collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
        if i == 0 {
            let rules: Vec<String> = widths.iter().map(|&w| "-".repeat(w)).collect();
            let _ = writeln!(out, "|-{}-|", rules.join("-|-"));
        }
    }
    out
}

/// One goal's text and whether evloop met it (`None`: not known in this run); `None` for
/// `Goal::None`. `reference` is the suite's first ratio peer, the one `Goal::Ratio` divides by.
fn judge(
    goal: Goal,
    reference: &str,
    evloop: Option<f64>,
    evloop_min: Option<f64>,
    median_of: impl Fn(&str) -> Option<f64>,
) -> Option<(String, Option<bool>)> {
    let ratio = |key: &str, r: f64| {
        let met = evloop.zip(median_of(key)).map(|(e, o)| e <= r * o);
        (format!("≤ {r} × {key}"), met)
    };
    Some(match goal {
        Goal::None | Goal::All(_) => return None,
        Goal::Ratio(r) => ratio(reference, r),
        Goal::RatioTo(key, r) => ratio(key, r),
        Goal::AtMost(v) => (format!("≤ {v}"), evloop.map(|e| e <= v)),
        Goal::AtLeast(v) => (format!("≥ {v} (never early)"), evloop_min.map(|e| e >= v)),
    })
}

/// Writes `{"workloads":[{"name":…,"unit":…,"evloop":…,…}]}` (medians, keyed by the row's
/// suite's peers; `null` where a peer was filtered out) under [`target_dir`]`/bench`.
fn write_json(file: &str, done: &[SuiteResults]) -> std::io::Result<PathBuf> {
    let dir = target_dir().join("bench");
    std::fs::create_dir_all(&dir)?;
    let mut entries: Vec<String> = Vec::new();
    for results in done {
        for (row, samples) in &results.rows {
            let mut entry = format!(r#"{{"name":"{}","unit":"{}""#, row.name, row.unit);
            for (peer, peer_samples) in results.suite.peers.iter().zip(samples) {
                let value = median(peer_samples).map_or("null".to_string(), |m| format!("{m:.3}"));
                let _ = write!(entry, r#","{}":{value}"#, peer.key);
            }
            entries.push(entry + "}");
        }
    }
    let path = dir.join(file);
    std::fs::write(&path, format!("{{\"workloads\":[\n  {}\n]}}\n", entries.join(",\n  ")))?;
    Ok(path)
}

/// `$CARGO_TARGET_DIR` if set (a relative one is taken from the workspace root), else the
/// workspace's `target/`. Cargo runs benches in their package's directory, `bench/`, so both are
/// found from [`workspace_root`] rather than from the current directory.
fn target_dir() -> PathBuf {
    let root = workspace_root();
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), |dir| root.join(dir))
}

/// The evloop checkout: the parent of this package's directory (`bench/`). `scripts/peers.sh`
/// and the default `target/` are found from here.
pub(crate) fn workspace_root() -> PathBuf {
    let bench = Path::new(env!("CARGO_MANIFEST_DIR"));
    bench.parent().unwrap_or(bench).to_path_buf()
}

/// CPUs, CPU model and kernel, for the record (BENCHMARKS.md adds rustc's version).
fn machine_summary() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map_or("?", |m| m.trim_start_matches([' ', '\t', ':']));
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!("machine: {cpus} CPU(s), {model}, Linux {}", kernel.trim())
}

// ---------------------------------------------------------------------------------------------
// Shared by every runtime's workloads
// ---------------------------------------------------------------------------------------------

/// Nanoseconds per operation since `start`.
fn ns_per_op(start: Instant, ops: usize) -> f64 {
    start.elapsed().as_nanos() as f64 / ops as f64
}

/// `n` delays spread uniformly over `low..=high`, microsecond grain, from a fixed seed: every
/// runtime gets the same sequence. (xorshift64, Marsaglia 2003: plenty for spreading timers.)
fn random_delays(n: usize, low: Duration, high: Duration) -> Vec<Duration> {
    let span = (high - low).as_micros() as u64 + 1;
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            low + Duration::from_micros(state % span)
        })
        .collect()
}

/// Signed nanoseconds from `deadline` to now: negative means the timer fired early.
fn lateness_ns(deadline: Instant) -> i64 {
    let now = Instant::now();
    match now.checked_duration_since(deadline) {
        Some(late) => late.as_nanos() as i64,
        None => -((deadline - now).as_nanos() as i64),
    }
}

/// `timer_fire`'s rows: total ms, then p99, max, min and median lateness in µs. Shouts if any was
/// early.
fn fire_report(key: &str, start: Instant, mut lateness: Vec<i64>) -> Vec<f64> {
    let total_ms = start.elapsed().as_secs_f64() * 1e3;
    lateness.sort_unstable();
    let early = lateness.iter().take_while(|&&l| l < 0).count();
    if early > 0 {
        eprintln!(
            "\n!!! EARLY: {key} woke {early} of {} sleepers before their deadline (earliest by {} ns) !!!",
            lateness.len(),
            -lateness[0]
        );
    }
    let p99 = lateness[(lateness.len() * 99).div_ceil(100) - 1];
    let us = |ns: i64| ns as f64 / 1e3;
    let median = lateness[lateness.len() / 2];
    vec![
        total_ms,
        us(p99),
        us(lateness[lateness.len() - 1]),
        us(lateness[0]),
        us(median),
    ]
}

/// A token two tasks hand back and forth (`ping_pong`): `poll_turn` is ready once it is
/// `me`'s turn, `pass_to` gives the turn away and wakes the other side.
///
/// Both kinds keep the waiting side's waker in place between hand-offs and replace it only if
/// the task changed (`will_wake`), so a hand-off costs no waker clone.
trait Baton: Clone + Default {
    fn poll_turn(&self, me: usize, cx: &mut Context<'_>) -> Poll<()>;
    fn pass_to(&self, other: usize);
}

/// For runtimes that accept `!Send` tasks: an `Rc` and two `Cell`s, no atomics.
#[derive(Clone, Default)]
struct LocalBaton(Rc<LocalTurn>);

#[derive(Default)]
struct LocalTurn {
    turn: Cell<usize>,
    waiting: [Cell<Option<Waker>>; 2],
}

impl Baton for LocalBaton {
    fn poll_turn(&self, me: usize, cx: &mut Context<'_>) -> Poll<()> {
        if self.0.turn.get() == me {
            return Poll::Ready(());
        }
        let waker = match self.0.waiting[me].take() {
            Some(w) if w.will_wake(cx.waker()) => w,
            _ => cx.waker().clone(),
        };
        self.0.waiting[me].set(Some(waker));
        Poll::Pending
    }

    fn pass_to(&self, other: usize) {
        self.0.turn.set(other);
        // Taken out while waking, so no borrow is held if a waker ever re-entered the baton.
        let waker = self.0.waiting[other].take();
        if let Some(w) = &waker {
            w.wake_by_ref();
        }
        self.0.waiting[other].set(waker);
    }
}

/// For `tokio::spawn`, which needs `Send` tasks: an `Arc`, an atomic turn, a mutex per waker.
#[derive(Clone, Default)]
struct SyncBaton(Arc<SyncTurn>);

#[derive(Default)]
struct SyncTurn {
    turn: AtomicUsize,
    waiting: [Mutex<Option<Waker>>; 2],
}

impl Baton for SyncBaton {
    fn poll_turn(&self, me: usize, cx: &mut Context<'_>) -> Poll<()> {
        if self.0.turn.load(Ordering::Acquire) == me {
            return Poll::Ready(());
        }
        {
            let mut slot = self.0.waiting[me].lock().unwrap_or_else(PoisonError::into_inner);
            if !slot.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                *slot = Some(cx.waker().clone());
            }
        }
        // The turn may have been passed before our waker was in place: look again.
        if self.0.turn.load(Ordering::Acquire) == me {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }

    fn pass_to(&self, other: usize) {
        self.0.turn.store(other, Ordering::Release);
        // Waking under the lock is fine here: tokio's wake only queues the task, never polls it.
        if let Some(w) = &*self.0.waiting[other].lock().unwrap_or_else(PoisonError::into_inner) {
            w.wake_by_ref();
        }
    }
}

/// One side of `ping_pong`: wait for the turn, pass it back, `passes` times.
async fn player<B: Baton>(baton: B, me: usize, passes: usize) {
    for _ in 0..passes {
        poll_fn(|cx| baton.poll_turn(me, cx)).await;
        baton.pass_to(1 - me);
    }
}

// ---------------------------------------------------------------------------------------------
// Memory: a counting allocator and the resident set
// ---------------------------------------------------------------------------------------------

/// The system allocator, plus a count of live bytes while [`COUNTING`] is on. Off, it costs one
/// relaxed load per call, the same for every runtime.
struct CountingAlloc;

/// Whether allocations are being counted (only inside the `memory` workload's window).
static COUNTING: AtomicBool = AtomicBool::new(false);
/// Bytes allocated minus bytes freed since counting started: the change in live heap bytes.
static LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);

fn count(delta: isize) {
    if COUNTING.load(Ordering::Relaxed) {
        LIVE_BYTES.fetch_add(delta, Ordering::Relaxed);
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments, unchanged, so the
// caller's guarantees are the ones `System` needs; counting touches no memory it returns.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded under the same contract (see the impl).
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            count(layout.size() as isize);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded under the same contract (see the impl).
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            count(layout.size() as isize);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded under the same contract (see the impl).
        unsafe { System.dealloc(ptr, layout) };
        count(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded under the same contract (see the impl).
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            count(new_size as isize - layout.size() as isize);
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: CountingAlloc = CountingAlloc;

/// Tasks of the `memory` workload that have been polled once and are now parked.
static PARKED: AtomicUsize = AtomicUsize::new(0);

/// The heap and resident set at the start of a measuring window.
struct Footprint {
    resident: Option<usize>,
}

impl Footprint {
    /// Returns freed memory to the OS (so earlier workloads' pages do not hide this one's
    /// growth), then starts counting.
    fn start() -> Footprint {
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        // SAFETY: malloc_trim only releases free pages; no live allocation is touched.
        unsafe {
            libc::malloc_trim(0);
        }
        LIVE_BYTES.store(0, Ordering::SeqCst);
        COUNTING.store(true, Ordering::SeqCst);
        Footprint {
            resident: resident_bytes(),
        }
    }

    /// Heap bytes and resident bytes gained per task since `start`.
    fn per_task(self, tasks: usize) -> Vec<f64> {
        COUNTING.store(false, Ordering::SeqCst);
        let heap = LIVE_BYTES.load(Ordering::SeqCst) as f64 / tasks as f64;
        let rss = match (self.resident, resident_bytes()) {
            (Some(before), Some(after)) => (after as f64 - before as f64) / tasks as f64,
            _ => f64::NAN,
        };
        vec![heap, rss]
    }
}

/// The resident set size, from `/proc/self/statm` (its second field, in pages).
#[cfg(target_os = "linux")]
fn resident_bytes() -> Option<usize> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: usize = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf only reads a configuration value.
    let page_size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Some(pages * usize::try_from(page_size).ok()?)
}

#[cfg(not(target_os = "linux"))]
fn resident_bytes() -> Option<usize> {
    None
}

// ---------------------------------------------------------------------------------------------
// The workloads, written once
// ---------------------------------------------------------------------------------------------

/// The body of every workload. Expanded inside each runtime's module, where these names mean
/// that runtime's version: `Rt` (`new`, `block_on`, `spawn`), `join`, `yield_now`, `sleep`,
/// `sleep_until`, `unbudgeted`, `RtBaton`, `new_semaphore`, `acquire`, and `KEY`.
/// Each run gets a fresh runtime; the clock starts inside it, so building one is not timed.
macro_rules! workloads {
    () => {
        pub(crate) fn run(workload: Workload, params: &Params) -> Vec<f64> {
            let rt = Rt::new();
            match workload {
                Workload::SpawnJoin => spawn_join(&rt, params.n),
                Workload::Yield => yield_many(&rt, params.n),
                Workload::PingPong => ping_pong(&rt, params.n),
                Workload::TimerCancel => timer_cancel(&rt, params.n),
                Workload::TimerFire => timer_fire(&rt, params.n, params.fire_window),
                Workload::Semaphore => semaphore(&rt, params.n),
                Workload::Memory => memory(&rt, params.n),
                Workload::HttpSeq | Workload::HttpConc => unreachable!("the HTTP suite has its own peers"),
            }
        }

        /// Spawn `n` empty tasks, then await every handle.
        fn spawn_join(rt: &Rt, n: usize) -> Vec<f64> {
            let mut handles = Vec::with_capacity(n);
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..n {
                    handles.push(rt.spawn(async {}));
                }
                for handle in handles.drain(..) {
                    black_box(join(handle).await);
                }
                vec![ns_per_op(start, n)]
            })
        }

        /// One spawned task yields `n` times.
        fn yield_many(rt: &Rt, n: usize) -> Vec<f64> {
            rt.block_on(async {
                let start = Instant::now();
                let task = rt.spawn(async move {
                    for _ in 0..n {
                        yield_now().await;
                    }
                });
                join(task).await;
                vec![ns_per_op(start, n)]
            })
        }

        /// Two tasks pass a token back and forth: `n` hand-offs in all.
        fn ping_pong(rt: &Rt, n: usize) -> Vec<f64> {
            rt.block_on(async {
                let baton = RtBaton::default();
                let start = Instant::now();
                let ping = rt.spawn(player(baton.clone(), 0, n / 2));
                let pong = rt.spawn(player(baton, 1, n / 2));
                join(ping).await;
                join(pong).await;
                vec![ns_per_op(start, (n / 2 * 2).max(1))]
            })
        }

        /// Create `n` boxed sleeps of 1–10 s, poll each once (registering its timer), then drop
        /// them all (cancelling every timer).
        fn timer_cancel(rt: &Rt, n: usize) -> Vec<f64> {
            let delays = random_delays(n, Duration::from_secs(1), Duration::from_secs(10));
            let mut sleeps = Vec::with_capacity(n);
            rt.block_on(unbudgeted(async {
                let start = Instant::now();
                sleeps.extend(delays.iter().map(|&d| Box::pin(sleep(d))));
                poll_fn(|cx| {
                    for sleep in sleeps.iter_mut() {
                        black_box(sleep.as_mut().poll(cx).is_pending());
                    }
                    Poll::Ready(())
                })
                .await;
                sleeps.clear();
                vec![ns_per_op(start, n)]
            }))
        }

        /// `n` tasks each sleep until a deadline 0–`window` after their first poll; each
        /// reports how late it woke.
        fn timer_fire(rt: &Rt, n: usize, window: Duration) -> Vec<f64> {
            let delays = random_delays(n, Duration::ZERO, window);
            let mut handles = Vec::with_capacity(n);
            let mut lateness = Vec::with_capacity(n);
            rt.block_on(async {
                let start = Instant::now();
                for &delay in &delays {
                    handles.push(rt.spawn(async move {
                        let deadline = Instant::now() + delay;
                        sleep_until(deadline).await;
                        lateness_ns(deadline)
                    }));
                }
                for handle in handles.drain(..) {
                    lateness.push(join(handle).await);
                }
                fire_report(KEY, start, lateness)
            })
        }

        /// `n` tasks pass through a semaphore of 10 permits, yielding once while holding one.
        fn semaphore(rt: &Rt, n: usize) -> Vec<f64> {
            let mut handles = Vec::with_capacity(n);
            rt.block_on(async {
                let semaphore = new_semaphore(10);
                let start = Instant::now();
                for _ in 0..n {
                    let semaphore = semaphore.clone();
                    handles.push(rt.spawn(async move {
                        let _permit = acquire(&semaphore).await;
                        yield_now().await;
                    }));
                }
                for handle in handles.drain(..) {
                    join(handle).await;
                }
                vec![ns_per_op(start, n)]
            })
        }

        /// `n` tasks each parked on an hour-long sleep: heap and resident bytes per task. The
        /// tasks are then cancelled through their handles, untimed, so that no runtime's drop has
        /// to tear down a million live tasks (evloop's `Runtime::drop` did that in quadratic
        /// time when this was written: see BENCHMARKS.md).
        fn memory(rt: &Rt, n: usize) -> Vec<f64> {
            let mut handles = Vec::with_capacity(n);
            PARKED.store(0, Ordering::SeqCst);
            rt.block_on(async move {
                let footprint = Footprint::start();
                for _ in 0..n {
                    handles.push(rt.spawn(async {
                        PARKED.fetch_add(1, Ordering::Relaxed);
                        sleep(Duration::from_secs(3600)).await;
                    }));
                }
                while PARKED.load(Ordering::Relaxed) < n {
                    yield_now().await;
                }
                let per_task = footprint.per_task(n);
                cancel_all(handles).await;
                per_task
            })
        }
    };
}

// ---------------------------------------------------------------------------------------------
// The runtimes
// ---------------------------------------------------------------------------------------------

/// evloop, as `evloop::run` builds it.
mod evloop_rt {
    use super::*;
    use evloop::time::{sleep, sleep_until};
    use evloop::yield_now;

    pub(crate) const KEY: &str = "evloop";
    type RtBaton = LocalBaton;

    pub(crate) struct Rt(evloop::Runtime);

    impl Rt {
        fn new() -> Rt {
            Rt(evloop::Runtime::new().expect("evloop runtime"))
        }

        fn block_on<F: Future>(&self, future: F) -> F::Output {
            self.0.block_on(future)
        }

        fn spawn<F: Future<Output: 'static> + 'static>(&self, future: F) -> evloop::JoinHandle<F::Output> {
            evloop::spawn(future)
        }
    }

    async fn join<T>(handle: evloop::JoinHandle<T>) -> T {
        handle.await.expect("benchmark tasks neither panic nor get cancelled")
    }

    fn unbudgeted<F: Future>(future: F) -> F {
        future
    }

    /// Cancelling first and awaiting after lets the loop drop every task in one pass.
    async fn cancel_all(handles: Vec<evloop::JoinHandle<()>>) {
        for handle in &handles {
            handle.cancel();
        }
        for handle in handles {
            let _cancelled = handle.await;
        }
    }

    fn new_semaphore(permits: usize) -> evloop::sync::Semaphore {
        evloop::sync::Semaphore::new(permits)
    }

    async fn acquire(semaphore: &evloop::sync::Semaphore) -> evloop::sync::Permit {
        semaphore.acquire().await.expect("the semaphore is never closed")
    }

    workloads!();
}

/// tokio's current-thread runtime with both drivers, tasks via `tokio::spawn` (`Send`).
mod tokio_rt {
    use super::*;
    pub(crate) use tokio::task::yield_now;
    pub(crate) use tokio::time::sleep;

    pub(crate) const KEY: &str = "tokio";
    type RtBaton = SyncBaton;

    pub(crate) fn build() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime")
    }

    pub(crate) struct Rt(tokio::runtime::Runtime);

    impl Rt {
        fn new() -> Rt {
            Rt(build())
        }

        fn block_on<F: Future>(&self, future: F) -> F::Output {
            self.0.block_on(future)
        }

        fn spawn<F>(&self, future: F) -> tokio::task::JoinHandle<F::Output>
        where
            F: Future + Send + 'static,
            F::Output: Send + 'static,
        {
            tokio::spawn(future)
        }
    }

    pub(crate) async fn join<T>(handle: tokio::task::JoinHandle<T>) -> T {
        handle.await.expect("benchmark tasks neither panic nor get cancelled")
    }

    pub(crate) fn sleep_until(deadline: Instant) -> tokio::time::Sleep {
        tokio::time::sleep_until(deadline.into())
    }

    /// tokio's co-operative budget makes the 129th and later resource polls in one task poll
    /// return `Pending` without doing anything; `timer_cancel` polls a million sleeps in one
    /// task poll, so without this tokio would be timed creating sleeps, not registering them.
    pub(crate) fn unbudgeted<F: Future>(future: F) -> tokio::task::Unconstrained<F> {
        tokio::task::unconstrained(future)
    }

    pub(crate) async fn cancel_all(handles: Vec<tokio::task::JoinHandle<()>>) {
        for handle in &handles {
            handle.abort();
        }
        for handle in handles {
            let _cancelled = handle.await;
        }
    }

    fn new_semaphore(permits: usize) -> Arc<tokio::sync::Semaphore> {
        Arc::new(tokio::sync::Semaphore::new(permits))
    }

    pub(crate) async fn acquire(semaphore: &tokio::sync::Semaphore) -> tokio::sync::SemaphorePermit<'_> {
        semaphore.acquire().await.expect("the semaphore is never closed")
    }

    workloads!();
}

/// The same tokio runtime, tasks on a `LocalSet` via `spawn_local` (`!Send` allowed).
mod tokio_local_rt {
    use super::tokio_rt::{acquire, build, cancel_all, join, sleep, sleep_until, unbudgeted, yield_now};
    use super::*;

    pub(crate) const KEY: &str = "tokio_local";
    type RtBaton = LocalBaton;

    pub(crate) struct Rt {
        runtime: tokio::runtime::Runtime,
        local: tokio::task::LocalSet,
    }

    impl Rt {
        fn new() -> Rt {
            Rt {
                runtime: build(),
                local: tokio::task::LocalSet::new(),
            }
        }

        fn block_on<F: Future>(&self, future: F) -> F::Output {
            self.local.block_on(&self.runtime, future)
        }

        fn spawn<F: Future<Output: 'static> + 'static>(&self, future: F) -> tokio::task::JoinHandle<F::Output> {
            tokio::task::spawn_local(future)
        }
    }

    fn new_semaphore(permits: usize) -> Rc<tokio::sync::Semaphore> {
        Rc::new(tokio::sync::Semaphore::new(permits))
    }

    workloads!();
}

/// smol's single-threaded executor under async-io's `block_on` (which is `smol::block_on`).
mod smol_rt {
    use super::*;
    use async_io::Timer;
    use futures_lite::future::yield_now;

    pub(crate) const KEY: &str = "smol";
    type RtBaton = LocalBaton;

    pub(crate) struct Rt(async_executor::LocalExecutor<'static>);

    impl Rt {
        fn new() -> Rt {
            Rt(async_executor::LocalExecutor::new())
        }

        fn block_on<F: Future>(&self, future: F) -> F::Output {
            async_io::block_on(self.0.run(future))
        }

        fn spawn<F: Future<Output: 'static> + 'static>(&self, future: F) -> async_executor::Task<F::Output> {
            self.0.spawn(future)
        }
    }

    async fn join<T>(task: async_executor::Task<T>) -> T {
        task.await
    }

    fn sleep(delay: Duration) -> Timer {
        Timer::after(delay)
    }

    fn sleep_until(deadline: Instant) -> Timer {
        Timer::at(deadline)
    }

    fn unbudgeted<F: Future>(future: F) -> F {
        future
    }

    /// Dropping a smol `Task` cancels it.
    async fn cancel_all(handles: Vec<async_executor::Task<()>>) {
        drop(handles);
    }

    fn new_semaphore(permits: usize) -> Rc<async_lock::Semaphore> {
        Rc::new(async_lock::Semaphore::new(permits))
    }

    async fn acquire(semaphore: &async_lock::Semaphore) -> async_lock::SemaphoreGuard<'_> {
        semaphore.acquire().await
    }

    workloads!();
}

/// The floor: a runtime cut to the least work any single-threaded runtime must do.
#[path = "compare/floor.rs"]
mod floor;

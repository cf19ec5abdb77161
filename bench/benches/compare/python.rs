//! The Python peers: asyncio and uvloop in the runtime suite, aiohttp in the HTTP suite.
//!
//! | key              | suite   | what runs                                                        |
//! |------------------|---------|------------------------------------------------------------------|
//! | `asyncio`        | runtime | `bench/py/peers.py` on CPython's default loop (`asyncio.run`)    |
//! | `uvloop`         | runtime | the same workload bodies on uvloop's loop (`uvloop.run`)         |
//! | `aiohttp`        | HTTP    | aiohttp's `ClientSession` on asyncio's default loop              |
//! | `aiohttp_uvloop` | HTTP    | the same client on uvloop's loop                                 |
//!
//! Every run starts one Python process, `<venv>/bin/python bench/py/peers.py --loop L
//! --workload W --n N`, which builds its loop, times the workload inside it (so neither the
//! interpreter's start nor the loop's construction is timed, as a Rust runtime's construction
//! is not) and prints one JSON line whose `values` are the workload's rows in the Rust order,
//! `null` for a row it does not measure (the HTTP suite's system calls), shown as `–`. The
//! process is started inside the round, so the Python peers are interleaved with the Rust ones
//! like any other peer.
//!
//! The venv is made by `scripts/py_peers.sh <target dir>/py-peers-venv` the first time a Python
//! peer runs (pinned packages from `bench/py/requirements.txt`; a no-op when current). If it
//! cannot be made, every Python row shows `–`, the reason is printed at once, and the bench
//! exits non-zero at the end saying so, as it does when nginx cannot start.
//!
//! CPython runs these workloads 15 to 120 times slower than the Rust runtimes, so at the Rust N
//! some would take minutes per run. Where the figure is a cost per operation, a Python run is
//! capped at [`MAX_N`] operations and says so on the round's line; `timer_fire` is not, because
//! its lateness depends on how many timers share its window, nor are the HTTP workloads.

use std::io::{self, Read as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::{Params, Peer, Workload};

/// The runtime suite's Python peers.
pub(crate) const ASYNCIO: Peer = Peer {
    key: "asyncio",
    run: asyncio,
};
pub(crate) const UVLOOP: Peer = Peer {
    key: "uvloop",
    run: uvloop,
};
/// The HTTP suite's.
pub(crate) const AIOHTTP: Peer = Peer {
    key: "aiohttp",
    run: aiohttp,
};
pub(crate) const AIOHTTP_UVLOOP: Peer = Peer {
    key: "aiohttp_uvloop",
    run: aiohttp_uvloop,
};

/// Whether `key` is one of this module's peers (`--sweep` leaves them out).
pub(crate) fn is_python(key: &str) -> bool {
    [ASYNCIO.key, UVLOOP.key, AIOHTTP.key, AIOHTTP_UVLOOP.key].contains(&key)
}

/// The most operations a Python run of a per-operation workload does (a tenth of the Rust N for
/// `spawn_join`, `ping_pong`, `timer_cancel` and `memory`, a hundredth for `yield`). At this N
/// the slowest run, asyncio's `semaphore`, took about 8 s at load 14 on 2 CPUs (BENCHMARKS.md).
const MAX_N: usize = 100_000;

fn asyncio(workload: Workload, params: &Params) -> Vec<f64> {
    run("asyncio", "asyncio", workload, params)
}

fn uvloop(workload: Workload, params: &Params) -> Vec<f64> {
    run("uvloop", "uvloop", workload, params)
}

fn aiohttp(workload: Workload, params: &Params) -> Vec<f64> {
    run("aiohttp", "asyncio", workload, params)
}

fn aiohttp_uvloop(workload: Workload, params: &Params) -> Vec<f64> {
    run("aiohttp_uvloop", "uvloop", workload, params)
}

/// One run of `workload` in a fresh Python process on `event_loop` (`asyncio` or `uvloop`).
fn run(key: &str, event_loop: &str, workload: Workload, params: &Params) -> Vec<f64> {
    let spec = super::SUITES
        .iter()
        .flat_map(|suite| suite.workloads)
        .find(|spec| spec.workload == workload)
        .expect("every workload is in a suite");
    let Ok(python) = venv_python() else {
        return vec![f64::NAN; spec.rows.len()];
    };
    let capped = !matches!(workload, Workload::TimerFire | Workload::HttpSeq | Workload::HttpConc);
    let n = if capped { params.n.min(MAX_N) } else { params.n };
    if n < params.n {
        eprint!(" [{key}: n = {n}]");
    }
    let script = super::workspace_root().join("bench/py/peers.py");
    let mut command = Command::new(python);
    command
        .arg(&script)
        .args(["--loop", event_loop, "--workload", spec.name])
        .args(["--n", &n.to_string()])
        .args(["--fire-window-ms", &params.fire_window.as_millis().to_string()])
        .args(["--conns", &params.connections.to_string()]);
    if !params.url.is_empty() {
        command.args(["--url", &params.url]);
    }
    // stderr is the bench's: a traceback, or timer_fire's EARLY warning, shows where it happened.
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("{key}: cannot start {}: {e}", python.display()));
    let status = wait_at_most(&mut child, RUN_LIMIT).unwrap_or_else(|| {
        panic!(
            "{key}: {} --workload {} ran past {RUN_LIMIT:?} and was killed",
            script.display(),
            spec.name
        )
    });
    // One short line, far below a pipe's capacity, so reading after the exit cannot block it.
    let mut stdout = String::new();
    if let Some(mut pipe) = child.stdout.take() {
        pipe.read_to_string(&mut stdout)
            .unwrap_or_else(|e| panic!("{key}: reading peers.py's output: {e}"));
    }
    assert!(
        status.success(),
        "{key}: `{} {} --workload {}` failed ({status}); its error is above",
        python.display(),
        script.display(),
        spec.name,
    );
    let values =
        parse_values(&stdout).unwrap_or_else(|| panic!("{key}: peers.py printed no `values` list, but: {stdout:?}"));
    assert_eq!(
        values.len(),
        spec.rows.len(),
        "{key}: peers.py gave {} values for {}'s {} rows: {stdout:?}",
        values.len(),
        spec.name,
        spec.rows.len()
    );
    values
}

/// How long one Python run may take before it is taken for hung: 20 times the longest seen
/// (asyncio's `memory` and `timer_fire`, under 20 s each at load 14 on 2 CPUs).
const RUN_LIMIT: Duration = Duration::from_secs(400);

/// Waits for `child` to exit, polling every 20 ms (the run's own clock is inside the child, so
/// the polling is not timed, and 50 wake-ups a second barely touch the core it runs on); kills
/// it and returns `None` past `limit`.
fn wait_at_most(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            Err(e) => panic!("waiting for a Python peer's process failed: {e}"),
        }
    }
}

/// The numbers of `"values": [...]` in the JSON line peers.py prints; `null` (a row Python does
/// not measure) becomes NaN, which the tables show as `–`. peers.py prints only flat numbers
/// there, so a split on commas is a full parser for it.
fn parse_values(stdout: &str) -> Option<Vec<f64>> {
    let line = stdout.lines().rev().find(|l| !l.trim().is_empty())?;
    let list = line.split_once(r#""values": ["#)?.1.split_once(']')?.0;
    list.split(',')
        .map(|item| match item.trim() {
            "null" | "NaN" => Some(f64::NAN),
            number => number.parse().ok(),
        })
        .collect()
}

/// The venv's python, or why there is none; set by the first Python run.
static VENV: OnceLock<Result<PathBuf, String>> = OnceLock::new();

/// The venv's python, made on first use by `scripts/py_peers.sh`; the reason otherwise.
fn venv_python() -> Result<&'static PathBuf, &'static str> {
    let made = VENV.get_or_init(|| {
        let made = make_venv();
        match &made {
            Ok(python) => eprintln!("\n(python peers: {})", versions(python)),
            Err(reason) => eprintln!("\ncompare: the Python peers cannot run (shown as –): {reason}"),
        }
        made
    });
    made.as_ref().map_err(String::as_str)
}

/// Why the Python peers could not run, if one was asked to and could not: `main` then fails the
/// bench with it. (`None` also when no Python peer ran: the venv is made only when needed.)
pub(crate) fn failure() -> Option<&'static str> {
    VENV.get()?.as_ref().err().map(String::as_str)
}

fn make_venv() -> Result<PathBuf, String> {
    let script = super::workspace_root().join("scripts/py_peers.sh");
    let venv = super::target_dir().join("py-peers-venv");
    let output = Command::new("bash")
        .arg(&script)
        .arg(&venv)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e: io::Error| format!("cannot run bash {}: {e}", script.display()))?;
    if !output.status.success() {
        return Err(format!(
            "`bash {} {}` exited with {} (its reason is above)",
            script.display(),
            venv.display(),
            output.status
        ));
    }
    let printed = String::from_utf8_lossy(&output.stdout);
    let python = PathBuf::from(printed.trim());
    if python.is_file() {
        Ok(python)
    } else {
        Err(format!(
            "scripts/py_peers.sh printed `{}`, which is no python",
            printed.trim()
        ))
    }
}

/// "CPython 3.11.7, uvloop 0.23.0, aiohttp 3.14.5", for the record.
fn versions(python: &Path) -> String {
    let script = super::workspace_root().join("bench/py/peers.py");
    match Command::new(python).arg(script).arg("--versions").output() {
        Ok(output) if output.status.success() => String::from_utf8_lossy(&output.stdout).trim().to_string(),
        _ => "versions unknown".to_string(),
    }
}

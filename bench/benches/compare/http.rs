//! The HTTP suite: evloop's client beside hyper's, keep-alive GETs against a local nginx.
//!
//! | key      | client                                                                            |
//! |----------|-----------------------------------------------------------------------------------|
//! | `evloop` | `evloop::http::Client` on `evloop::Runtime::new()`                                 |
//! | `hyper`  | hyper 1.x's HTTP/1 client pooled by hyper-util's legacy `Client`, on tokio         |
//! |          | current-thread with `enable_all()` (the runtime of the `tokio` key)               |
//!
//! nginx is started by the project's own `scripts/peers.sh` (which installs it if missing) in
//! `<target dir>/bench-peers`, and stopped by a guard when the suite ends, panics included. Both
//! clients GET `/hello.txt` (25 bytes), each response's whole body is read, and its status and
//! length are checked.
//!
//! - `http_seq`: one client, one keep-alive connection, N GETs one after the other.
//! - `http_conc`: one client, C tasks each doing N/C GETs one after the other, so C
//!   connections are busy at once (C is `--conns`, 100 unless told; `--sweep` runs 10, 100
//!   and 1,000).
//!
//! Each run first makes the connections it will use (one GET, or C GETs at once), untimed,
//! so the window measures keep-alive requests only; a `connect` inside the window is reported.
//! Rows, per request: wall time (nginx's share included), the bench thread's CPU time (the
//! client's cost: nginx is another process), the user-space part of it, and the bench thread's
//! system calls (see `cost.rs` for how each is read).
//!
//! Like for like: both clients set `TCP_NODELAY` (evloop always does; hyper's connector is told
//! to), and both keep every connection of `http_conc` idle between requests (hyper's legacy
//! pool keeps any number per host by default; evloop's `max_idle_per_host` is raised from 10 to
//! C). As for the runtimes, the request loop is written once, in [`http_workloads!`], and
//! expanded per client with the few names it needs.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use super::cost::{SyscallWindow, thread_cpu_ns};
use super::{Goal, Params, Peer, Spec, Workload, row};

#[rustfmt::skip]
pub(crate) const WORKLOADS: [Spec; 2] = [
    Spec { workload: Workload::HttpSeq, name: "http_seq", full_n: 10_000, quick_n: 200,
           rows: &[row("http_seq", "ns/request", Goal::None),
                   row("http_seq_cpu", "CPU ns/request", Goal::Ratio(0.5)),
                   row("http_seq_user", "user ns/request", Goal::None),
                   row("http_seq_syscalls", "syscalls/request", Goal::Ratio(1.0))] },
    Spec { workload: Workload::HttpConc, name: "http_conc", full_n: 20_000, quick_n: 1_000,
           rows: &[row("http_conc", "ns/request", Goal::None),
                   row("http_conc_cpu", "CPU ns/request", Goal::Ratio(0.5)),
                   row("http_conc_user", "user ns/request", Goal::None),
                   row("http_conc_syscalls", "syscalls/request", Goal::None)] },
];

#[rustfmt::skip]
pub(crate) const PEERS: [Peer; 4] = [
    Peer { key: evloop_http::KEY, run: evloop_http::run },
    Peer { key: hyper_http::KEY, run: hyper_http::run },
    super::python::AIOHTTP,
    super::python::AIOHTTP_UVLOOP,
];

/// Connections (and tasks) in `http_conc` unless `--conns` says otherwise.
pub(crate) const CONNECTIONS: usize = 100;

// ---------------------------------------------------------------------------------------------
// nginx, started and stopped by scripts/peers.sh
// ---------------------------------------------------------------------------------------------

/// The nginx the suite talks to. When the bench started it, dropping this stops it (also while
/// a panic unwinds).
pub(crate) struct Nginx {
    /// `scripts/peers.sh` and its state directory, when the bench started the peers.
    started: Option<(PathBuf, PathBuf)>,
    /// e.g. `http://127.0.0.1:40123`.
    base: String,
}

impl Nginx {
    /// The nginx named by `EVLOOP_NGINX`, if that is set (so that `strace -f` or `perf` can
    /// watch the bench alone: see BENCHMARKS.md); otherwise `scripts/peers.sh start
    /// <target>/bench-peers`, and the `EVLOOP_NGINX` it writes to `peers.env`.
    pub(crate) fn start(target: &Path) -> Result<Nginx, String> {
        if let Some(base) = std::env::var_os("EVLOOP_NGINX") {
            let base = base
                .into_string()
                .map_err(|_| "EVLOOP_NGINX is not UTF-8".to_string())?;
            eprintln!("using the nginx at {base} (EVLOOP_NGINX)");
            return Ok(Nginx { started: None, base });
        }
        let script = super::workspace_root().join("scripts/peers.sh");
        let state = target.join("bench-peers");
        std::fs::create_dir_all(&state).map_err(|e| format!("cannot create {}: {e}", state.display()))?;
        eprintln!("starting nginx: bash {} start {}", script.display(), state.display());
        let status = Command::new("bash").arg(&script).arg("start").arg(&state).status();
        // From here on the guard exists, so whatever happens next stops what was started.
        let mut nginx = Nginx {
            started: Some((script, state.clone())),
            base: String::new(),
        };
        match status {
            Ok(status) if status.success() => {}
            Ok(status) => return Err(format!("scripts/peers.sh start exited with {status}")),
            Err(e) => return Err(format!("cannot run bash scripts/peers.sh: {e}")),
        }
        let env_file = state.join("peers.env");
        let env = std::fs::read_to_string(&env_file).map_err(|e| format!("cannot read {}: {e}", env_file.display()))?;
        nginx.base = env
            .lines()
            .find_map(|line| line.strip_prefix("EVLOOP_NGINX="))
            .ok_or_else(|| format!("{} names no EVLOOP_NGINX", env_file.display()))?
            .to_string();
        Ok(nginx)
    }

    /// The URL both clients GET.
    pub(crate) fn hello_url(&self) -> String {
        format!("{}/hello.txt", self.base)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let Some((script, state)) = &self.started else {
            return;
        };
        // Its stderr is kept back unless it fails: `stop` can race nginx removing its own pid
        // file and say so, harmlessly.
        let stopped = Command::new("bash").arg(script).arg("stop").arg(state).output();
        match stopped {
            Ok(output) if output.status.success() => {}
            Ok(output) => eprintln!(
                "compare: `bash {} stop {}` failed ({}); the peers may still run:\n{}",
                script.display(),
                state.display(),
                output.status,
                String::from_utf8_lossy(&output.stderr)
            ),
            Err(e) => eprintln!("compare: cannot run `bash {} stop`: {e}", script.display()),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The measuring window
// ---------------------------------------------------------------------------------------------

/// Wall clock, the bench thread's CPU time and its system calls, from `start` to `per_request`.
struct Meter {
    key: &'static str,
    wall: Instant,
    cpu: (f64, f64),
    syscalls: Option<SyscallWindow>,
}

impl Meter {
    fn start(key: &'static str) -> Meter {
        let syscalls = SyscallWindow::start();
        let cpu = thread_cpu_ns();
        Meter {
            key,
            wall: Instant::now(),
            cpu,
            syscalls,
        }
    }

    /// The rows of an HTTP workload: wall, CPU and user ns, and system calls, per request.
    fn per_request(self, requests: usize) -> Vec<f64> {
        let wall = self.wall.elapsed().as_nanos() as f64;
        let (user, system) = thread_cpu_ns();
        let counts = self.syscalls.map(SyscallWindow::finish);
        let per = |total: f64| total / requests as f64;
        if let Some((_, connects)) = counts
            && connects > 0
        {
            eprint!(" [{}: {connects} connect(s) inside the keep-alive window]", self.key);
        }
        vec![
            per(wall),
            per(user - self.cpu.0 + system - self.cpu.1),
            per(user - self.cpu.0),
            counts.map_or(f64::NAN, |(all, _)| per(all as f64)),
        ]
    }
}

// ---------------------------------------------------------------------------------------------
// The workloads, written once
// ---------------------------------------------------------------------------------------------

/// The HTTP workloads, expanded inside each client's module, where these names mean that
/// client's version: `Rt` (`new`, `block_on`, `spawn`), `join`, `Client`, `default_client`,
/// `pooled_client`, `Target` (the URL in the form the client's `get` takes, parsed once, as a
/// program sending many requests to one URL would: evloop's `Url`, hyper's `Uri`), `target`,
/// `get` and `KEY`.
macro_rules! http_workloads {
    () => {
        pub(crate) fn run(workload: Workload, params: &Params) -> Vec<f64> {
            let rt = Rt::new();
            match workload {
                Workload::HttpSeq => sequential(&rt, &params.url, params.n),
                Workload::HttpConc => concurrent(&rt, &params.url, params.n, params.connections),
                other => unreachable!("{other:?} is not in the HTTP suite"),
            }
        }

        /// One connection, `n` GETs one after the other.
        fn sequential(rt: &Rt, url: &str, n: usize) -> Vec<f64> {
            rt.block_on(async {
                let client = default_client();
                let target = target(url);
                get(&client, &target).await; // connects, untimed
                let meter = Meter::start(KEY);
                for _ in 0..n {
                    black_box(get(&client, &target).await);
                }
                meter.per_request(n)
            })
        }

        /// `connections` tasks, each doing `n / connections` GETs one after the other.
        fn concurrent(rt: &Rt, url: &str, n: usize, connections: usize) -> Vec<f64> {
            let each = (n / connections).max(1);
            rt.block_on(async {
                let client = pooled_client(connections);
                let target = target(url);
                get_from_every_task(rt, &client, &target, connections, 1).await; // connects, untimed
                let meter = Meter::start(KEY);
                get_from_every_task(rt, &client, &target, connections, each).await;
                meter.per_request(each * connections)
            })
        }

        async fn get_from_every_task(rt: &Rt, client: &Client, target: &Target, tasks: usize, each: usize) {
            let mut handles = Vec::with_capacity(tasks);
            for _ in 0..tasks {
                let (client, target) = (client.clone(), target.clone());
                handles.push(rt.spawn(async move {
                    for _ in 0..each {
                        black_box(get(&client, &target).await);
                    }
                }));
            }
            for handle in handles {
                join(handle).await;
            }
        }
    };
}

/// Panics unless the response is nginx's `/hello.txt`: a bench that measured error pages
/// would be measuring the wrong thing.
fn check(key: &str, status: u16, body_len: usize) -> usize {
    assert!(
        status == 200 && body_len == 25,
        "{key}: GET /hello.txt gave status {status} with {body_len} bytes, not 200 with 25"
    );
    body_len
}

// ---------------------------------------------------------------------------------------------
// The clients
// ---------------------------------------------------------------------------------------------

/// evloop's client on evloop's loop.
mod evloop_http {
    use super::*;
    use evloop::http::{Client, ClientConfig, Url};

    pub(crate) const KEY: &str = "evloop";
    type Target = Url;

    struct Rt(evloop::Runtime);

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

    /// What a program writes: `Client::new()`.
    fn default_client() -> Client {
        Client::new()
    }

    /// The configuration for `connections` connections (100 unless `--conns`), keeping
    /// all of them idle between requests.
    fn pooled_client(connections: usize) -> Client {
        Client::with_config(ClientConfig {
            limit: connections,
            limit_per_host: connections,
            max_idle_per_host: connections,
            ..ClientConfig::default()
        })
    }

    fn target(url: &str) -> Target {
        Url::parse(url).unwrap_or_else(|e| panic!("{KEY}: `{url}` is not a URL: {e}"))
    }

    async fn get(client: &Client, target: &Target) -> usize {
        let response = client
            .get(target)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{KEY}: GET {target}: {e}"));
        let status = response.status();
        let body = response
            .bytes()
            .await
            .unwrap_or_else(|e| panic!("{KEY}: GET {target}, reading the body: {e}"));
        check(KEY, status, body.len())
    }

    http_workloads!();
}

/// hyper's HTTP/1 client, pooled by hyper-util's legacy `Client`, on tokio current-thread.
mod hyper_http {
    use super::*;
    use http_body_util::{BodyExt as _, Empty};
    use hyper::body::Bytes;
    use hyper_util::client::legacy::connect::HttpConnector;
    use hyper_util::rt::TokioExecutor;

    pub(crate) const KEY: &str = "hyper";
    type Client = hyper_util::client::legacy::Client<HttpConnector, Empty<Bytes>>;
    type Target = hyper::Uri;

    struct Rt(tokio::runtime::Runtime);

    impl Rt {
        fn new() -> Rt {
            Rt(crate::tokio_rt::build())
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

    use crate::tokio_rt::join;

    /// The legacy client as its docs build it, plus `TCP_NODELAY` (evloop always sets it).
    fn default_client() -> Client {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build(connector)
    }

    /// hyper's pool has no connection limit and keeps every idle connection by default.
    fn pooled_client(_connections: usize) -> Client {
        default_client()
    }

    fn target(url: &str) -> Target {
        url.parse()
            .unwrap_or_else(|e| panic!("{KEY}: `{url}` is not a URI: {e}"))
    }

    async fn get(client: &Client, target: &Target) -> usize {
        let response = client
            .get(target.clone())
            .await
            .unwrap_or_else(|e| panic!("{KEY}: GET {target}: {e}"));
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .unwrap_or_else(|e| panic!("{KEY}: GET {target}, reading the body: {e}"))
            .to_bytes();
        check(KEY, status, body.len())
    }

    http_workloads!();
}

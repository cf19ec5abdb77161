//! `--sweep`: each workload at several sizes, so that the growth of cost per operation with N
//! is seen at a glance (`bench/plot_sweep.py` draws the plot in BENCHMARKS.md).
//!
//! Every runtime workload runs at N = 1 k, 10 k, 100 k and 1 M, and `http_conc` at 10, 100 and
//! 1,000 connections (its request count stays the full run's 20,000, so 20 requests per
//! connection at 1,000). Each point is one call of the normal mode's `run_suite`: its rounds
//! are interleaved, every peer once per round in a rotating order, so the peers at one point
//! see the same drift of the machine; points are run one after the other, smallest first.
//!
//! The medians go to `compare-sweep.json` beside `compare.json` (a quick or filtered sweep
//! writes `compare-sweep-partial.json`), one entry per row per point:
//! `{"machine":…,"load":…,"reps":3,"sweep":[{"name":"spawn_join","unit":"ns/task","axis":"n","x":1000,"evloop":…,"tokio":…},…]}`
//! where `axis` is `n` (operations) or `connections`, a peer filtered out is `null`, and each
//! entry's `"spread":{"evloop":[min,max],…}` gives the smallest and largest sample beside the
//! median.

use super::*;

/// The runtime suite's N.
const SIZES: [usize; 4] = [1_000, 10_000, 100_000, 1_000_000];
/// `http_conc`'s connections.
const CONNECTIONS: [usize; 3] = [10, 100, 1_000];
/// With `--quick`: a smoke run of the sweep itself (seconds, not minutes), never a figure.
const QUICK_SIZES: [usize; 2] = [100, 1_000];
const QUICK_CONNECTIONS: [usize; 2] = [10, 100];

/// One suite's rows measured at one point of the sweep.
struct Point {
    /// `n` or `connections`: what `x` counts.
    axis: &'static str,
    x: usize,
    results: SuiteResults,
}

/// The `--sweep` mode's `main`: every point of every selected suite, then the tables, the JSON
/// and the total time.
pub(crate) fn run(options: &Options) {
    if options.only.as_deref() == Some("http_seq") {
        fail("--sweep has no size to sweep in http_seq (one connection): try --only http_conc");
    }
    let (sizes, connections): (&[usize], &[usize]) = if options.quick {
        (&QUICK_SIZES, &QUICK_CONNECTIONS)
    } else {
        (&SIZES, &CONNECTIONS)
    };
    let mode = if options.quick { "sweep (quick)" } else { "sweep" };
    println!(
        "mode: {mode}, {} repetition(s) per runtime at each point, interleaved\n",
        options.reps
    );

    let started = Instant::now();
    let load_before = load_average();
    let mut points = Vec::new();
    let mut nginx_failure = None;
    for suite in &SUITES {
        // Only http_conc has a connection count to sweep; http_seq is one connection.
        let specs: Vec<&'static Spec> = suite
            .workloads
            .iter()
            .filter(|s| !suite.needs_nginx || s.workload == Workload::HttpConc)
            .filter(|s| options.only.as_deref().is_none_or(|o| o == s.name))
            .collect();
        let peers: Vec<&Peer> = selected_peers(suite, options)
            .into_iter()
            // The Python peers cap N at 100,000 (compare/python.rs): at the 1 M point they
            // would draw their 100 k figure, so the sweep leaves them out.
            .filter(|p| !python::is_python(p.key))
            .collect();
        if specs.is_empty() || peers.is_empty() {
            continue;
        }
        let (axis, xs) = if suite.needs_nginx {
            ("connections", connections)
        } else {
            ("n", sizes)
        };
        // A guard, as in `main`: nginx stops at the end of this iteration or on a panic.
        if suite.needs_nginx {
            raise_fd_limit(4 * xs.iter().max().copied().unwrap_or(0));
        }
        let nginx = match nginx_for(suite) {
            Ok(nginx) => nginx,
            Err(reason) => {
                nginx_failure = Some(reason);
                break;
            }
        };
        let url = nginx.as_ref().map_or_else(String::new, http::Nginx::hello_url);
        for &x in xs {
            let mut at = options.clone();
            if suite.needs_nginx {
                at.conns = Some(x);
            } else {
                at.n = Some(x);
            }
            eprintln!("-- {} at {axis} = {x}", suite.title);
            let point_started = Instant::now();
            let rows = run_suite(suite, &specs, &peers, &at, &url);
            eprintln!("-- {:.1} s", point_started.elapsed().as_secs_f64());
            points.push(Point {
                axis,
                x,
                results: SuiteResults { suite, rows },
            });
        }
    }

    for point in &points {
        println!(
            "{}, {} = {}\n\n{}",
            point.results.suite.title,
            point.axis,
            point.x,
            render_table(&point.results)
        );
    }
    println!("total sweep time: {:.1} s", started.elapsed().as_secs_f64());
    let complete = options.only.is_none() && options.runtime.is_none() && !options.quick;
    let file = if complete {
        "compare-sweep.json"
    } else {
        "compare-sweep-partial.json"
    };
    let load = format!("{load_before} at the start, {} at the end", load_average());
    match write_sweep_json(file, options.reps, &load, &points) {
        Ok(path) => println!("medians written to {}", path.display()),
        Err(e) => eprintln!("compare: could not write {file}: {e}"),
    }
    if let Some(reason) = nginx_failure {
        fail_for_nginx("http_conc needs", &reason);
    }
}

/// Writes the points as described in the module's docs, under [`target_dir`]`/bench`.
fn write_sweep_json(file: &str, reps: usize, load: &str, points: &[Point]) -> std::io::Result<PathBuf> {
    let dir = target_dir().join("bench");
    std::fs::create_dir_all(&dir)?;
    let mut entries: Vec<String> = Vec::new();
    for point in points {
        for (row, samples) in &point.results.rows {
            let mut entry = format!(
                r#"{{"name":"{}","unit":"{}","axis":"{}","x":{}"#,
                row.name, row.unit, point.axis, point.x
            );
            let mut spread = Vec::new();
            for (peer, peer_samples) in point.results.suite.peers.iter().zip(samples) {
                let value = median(peer_samples).map_or("null".to_string(), |m| format!("{m:.3}"));
                let _ = write!(entry, r#","{}":{value}"#, peer.key);
                let measured = peer_samples.iter().copied().filter(|v| !v.is_nan());
                if let Some((low, high)) = measured.fold(None, |range: Option<(f64, f64)>, v| {
                    Some(range.map_or((v, v), |(low, high)| (low.min(v), high.max(v))))
                }) {
                    spread.push(format!(r#""{}":[{low:.3},{high:.3}]"#, peer.key));
                }
            }
            entries.push(format!(r#"{entry},"spread":{{{}}}}}"#, spread.join(",")));
        }
    }
    let path = dir.join(file);
    let machine = machine_summary()
        .trim_start_matches("machine: ")
        .replace(['"', '\\'], "'");
    let head = format!(r#""machine":"{machine}","load":"{load}","reps":{reps}"#);
    std::fs::write(
        &path,
        format!("{{{head},\"sweep\":[\n  {}\n]}}\n", entries.join(",\n  ")),
    )?;
    Ok(path)
}

/// The one-minute load average, from `/proc/loadavg`: on a shared machine it says how far to
/// trust the figures (`?` where there is none).
fn load_average() -> String {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    text.split_whitespace().next().unwrap_or("?").to_string()
}

/// Raises this process's soft limit on open files towards `wanted` (at most to the hard limit):
/// 1,000 connections and their sockets do not fit under the usual soft limit of 1,024. Says so,
/// and carries on, if it cannot: the run then fails at its first `EMFILE`, naming it.
fn raise_fd_limit(wanted: usize) {
    let wanted = libc::rlim_t::try_from(wanted).unwrap_or(libc::rlim_t::MAX);
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one `rlimit` through a pointer to a live local.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 || limit.rlim_cur >= wanted {
        return;
    }
    let raised = libc::rlimit {
        rlim_cur: wanted.min(limit.rlim_max),
        rlim_max: limit.rlim_max,
    };
    // SAFETY: setrlimit only reads the `rlimit` it is given.
    let now = if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
        raised.rlim_cur
    } else {
        limit.rlim_cur
    };
    if now < wanted {
        eprintln!(
            "compare: the open-file limit is {now} (hard limit {}), {wanted} wanted: `ulimit -n` may need raising",
            limit.rlim_max
        );
    }
}

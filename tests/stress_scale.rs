//! Stress at scale: a million tasks, parked tasks, timers and cross-thread wakes, ten thousand
//! sockets held at once, and a connect flood past the listen backlog.
//!
//! Every test here is ignored by default: several take seconds in release, all take far longer in
//! the debug build that plain `cargo test` makes, and they must run one at a time (each raises
//! the process's fd limit or resets its peak-RSS mark). Run them all with
//!
//! ```sh
//! cargo test --release --test stress_scale -- --ignored --test-threads=1
//! ```
//!
//! Each test checks behaviour, not just survival: every output joined and compared, `stats()`
//! back to the exact baseline (tasks, timers, I/O sources, ready queue), no timer before its
//! deadline, every socket echoed and deregistered, every cross-thread wake observed. A lost wake
//! or a stuck socket fails through a timeout instead of hanging.
//!
//! Each test prints one line, `stress NAME: N=… time … peak RSS …`, quoted in BENCHMARKS.md
//! ("Stress at scale"). `EVLOOP_STRESS_N=100000` runs every test at that N instead of its
//! default, to see how time and memory grow (the TCP tests cap it at what the fd limit allows).
//!
//! The 10,000-connection test runs its clients in a second process, this same test binary
//! started again with `EVLOOP_STRESS_CLIENT` set: one process cannot hold both ends of 10,000
//! connections under this machine's hard limit of 20,000 file descriptors.

use std::cell::Cell;
use std::future::Future;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::process::{Command, Stdio};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use evloop::net::{TcpListener, TcpStream};
use evloop::sync::Event;
use evloop::time::{now, sleep, sleep_until, timeout};
use evloop::{Runtime, Stats, spawn, yield_now};

// ---------------------------------------------------------------------------------------------
// Measuring: wall time and peak RSS per test.
// ---------------------------------------------------------------------------------------------

/// N for a test: its default, or `EVLOOP_STRESS_N` if set.
fn scale(default: usize) -> usize {
    match std::env::var("EVLOOP_STRESS_N") {
        Ok(n) => n.replace(['_', ','], "").parse().expect("EVLOOP_STRESS_N is a number"),
        Err(_) => default,
    }
}

/// A field of /proc/self/status in KiB (`VmRSS`, `VmHWM`).
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Wall time and peak resident memory of one test, printed when it ends.
struct Measure {
    name: &'static str,
    n: usize,
    unit: &'static str,
    started: Instant,
    rss_at_start_kib: u64,
}

impl Measure {
    /// Starts measuring: resets the process's peak RSS (VmHWM) to its current RSS, so the peak
    /// printed at the end is this test's even when other tests ran before it in the process.
    fn start(name: &'static str, n: usize, unit: &'static str) -> Measure {
        // "5" resets the high-water mark (Linux 4.0 and later); if refused, the peak printed is
        // the process's since it started, which is still an upper bound.
        let _ = std::fs::write("/proc/self/clear_refs", "5");
        Measure {
            name,
            n,
            unit,
            started: Instant::now(),
            rss_at_start_kib: status_kib("VmRSS"),
        }
    }

    fn finish(self, detail: &str) {
        let took = self.started.elapsed();
        let peak = status_kib("VmHWM");
        let grown = peak.saturating_sub(self.rss_at_start_kib);
        let n = self.n.max(1) as f64;
        println!(
            "stress {}: N={} {} in {:.3} s ({:.0} ns/{}), peak RSS {:.1} MiB ({:.1} MiB over the {:.1} MiB at start, {:.0} B/{}){}{}",
            self.name,
            self.n,
            self.unit,
            took.as_secs_f64(),
            took.as_nanos() as f64 / n,
            self.unit.trim_end_matches('s'),
            peak as f64 / 1024.0,
            grown as f64 / 1024.0,
            self.rss_at_start_kib as f64 / 1024.0,
            grown as f64 * 1024.0 / n,
            self.unit.trim_end_matches('s'),
            if detail.is_empty() { "" } else { "; " },
            detail,
        );
    }
}

/// The counts that must come back to their starting values once a test's work is done.
fn counts(stats: Stats) -> (usize, usize, usize, usize) {
    (stats.tasks, stats.timers, stats.io_sources, stats.ready)
}

fn assert_back_to_baseline(baseline: Stats, what: &str) {
    assert_eq!(
        counts(evloop::stats()),
        counts(baseline),
        "{what}: (tasks, timers, io_sources, ready) back to the baseline"
    );
}

/// Fails the test (instead of hanging it) if `future` takes longer than `limit`.
async fn within<F: Future>(limit: Duration, what: &str, future: F) -> F::Output {
    match timeout(limit, future).await {
        Ok(output) => output,
        Err(_) => panic!("{what}: not done within {limit:?} (a lost wake or a stuck socket?)"),
    }
}

/// A spread of values in `0..span` that visits them in a scattered order (a multiplicative hash).
fn scatter(i: usize, span: u64) -> u64 {
    (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(29) % span
}

// ---------------------------------------------------------------------------------------------
// Tasks
// ---------------------------------------------------------------------------------------------

/// 1 M tasks spawned before any of them runs (so all are alive at once), each yielding once and
/// returning a value derived from its index; every output is joined, in spawn order, and checked.
#[test]
#[ignore = "stress: run with cargo test --release --test stress_scale -- --ignored --test-threads=1"]
fn a_million_tasks_spawned_and_joined() {
    let n = scale(1_000_000);
    evloop::run(async move {
        let baseline = evloop::stats();
        let measure = Measure::start("spawn_join", n, "tasks");
        let handles: Vec<_> = (0..n)
            .map(|i| {
                spawn(async move {
                    yield_now().await;
                    (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
                })
            })
            .collect();
        assert_eq!(evloop::stats().tasks, baseline.tasks + n, "every task is alive at once");
        let mut sum = 0u64;
        for (i, handle) in handles.into_iter().enumerate() {
            let output = handle.await.expect("no task is cancelled or panics");
            assert_eq!(
                output,
                (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
                "task {i}'s own output"
            );
            sum = sum.wrapping_add(output);
        }
        let expected = (0..n as u64).fold(0u64, |s, i| s.wrapping_add(i.wrapping_mul(0x9E37_79B9_7F4A_7C15)));
        assert_eq!(sum, expected);
        assert_back_to_baseline(baseline, "after joining every task");
        measure.finish("");
    });
}

/// Counts drops of the guards the parked tasks hold.
struct DropCount(Rc<Cell<usize>>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

/// 1 M tasks parked three ways (a third on a one-hour sleep, a third on an `Event` that is never
/// set, a third on a future that never completes), then every one cancelled: each join says
/// "cancelled", each task's destructor ran exactly once, the timers and the event's waiters are
/// gone, and `stats()` is back to its baseline.
#[test]
#[ignore = "stress: run with cargo test --release --test stress_scale -- --ignored --test-threads=1"]
fn a_million_parked_tasks_cancelled() {
    let n = scale(1_000_000);
    evloop::run(async move {
        let baseline = evloop::stats();
        let measure = Measure::start("cancel_parked", n, "tasks");
        let drops = Rc::new(Cell::new(0usize));
        let never = Rc::new(Event::new());
        let handles: Vec<_> = (0..n)
            .map(|i| {
                let guard = DropCount(drops.clone());
                let never = never.clone();
                spawn(async move {
                    let _guard = guard;
                    match i % 3 {
                        0 => sleep(Duration::from_secs(3600)).await,
                        1 => never.wait().await,
                        _ => std::future::pending::<()>().await,
                    }
                    unreachable!("a parked task is never released");
                })
            })
            .collect();
        // Main was queued behind every task: when it runs again, each has been polled once.
        yield_now().await;
        let parked = evloop::stats();
        assert_eq!(parked.tasks, baseline.tasks + n, "every task is parked");
        assert_eq!(parked.timers, baseline.timers + n.div_ceil(3), "a third sleep");
        assert_eq!(parked.ready, baseline.ready, "nothing is ready");
        let cancel_started = Instant::now();
        for handle in &handles {
            assert!(handle.cancel(), "a parked task can be cancelled");
        }
        for handle in handles {
            let error = handle.await.expect_err("a cancelled task has no output");
            assert!(error.is_cancelled(), "cancelled, not panicked: {error}");
        }
        let cancel_took = cancel_started.elapsed();
        assert_eq!(drops.get(), n, "every task's destructor ran once");
        assert_back_to_baseline(baseline, "after cancelling every parked task");
        // The event's waiter list is empty: setting it wakes nobody, and it works afterwards.
        never.set();
        assert_eq!(evloop::stats().ready, baseline.ready, "no waiter was left on the event");
        never.wait().await;
        measure.finish(&format!(
            "cancelling and joining took {:.3} s",
            cancel_took.as_secs_f64()
        ));
    });
}

// ---------------------------------------------------------------------------------------------
// Timers
// ---------------------------------------------------------------------------------------------

/// Lateness of each timer, in nanoseconds past its deadline, summarised.
fn lateness_summary(mut late_ns: Vec<u64>) -> String {
    late_ns.sort_unstable();
    let at = |q: f64| late_ns[((late_ns.len() - 1) as f64 * q) as usize] as f64 / 1e6;
    format!(
        "lateness p50 {:.3} ms, p99 {:.3} ms, p99.9 {:.3} ms, max {:.3} ms",
        at(0.5),
        at(0.99),
        at(0.999),
        at(1.0)
    )
}

/// 1 M timers on the virtual clock, all pending at once, deadlines scattered to the microsecond,
/// half over an hour and half over five years (so they sit on every level of the wheel and in its
/// overflow list, and cascade): each fires in the millisecond tick of its deadline, never before
/// the deadline and less than 1 ms after it, and the clock stops in the last deadline's tick.
#[test]
#[ignore = "stress: run with cargo test --release --test stress_scale -- --ignored --test-threads=1"]
fn a_million_timers_fire_none_early_virtual_clock() {
    let n = scale(1_000_000);
    let runtime = Runtime::builder().virtual_clock().build().expect("a runtime");
    runtime.block_on(async move {
        let baseline = evloop::stats();
        let measure = Measure::start("timers_virtual", n, "timers");
        // Half within the hour (many share a tick), half over five years: past the top level's
        // 2^36 ms (2.2 years), so those start in the wheel's overflow list.
        const HOUR_US: u64 = 3_600_000_000;
        const FIVE_YEARS_US: u64 = 5 * 365 * 86_400 * 1_000_000;
        let start = now();
        let fired = Rc::new(Cell::new(0usize));
        let handles: Vec<_> = (0..n)
            .map(|i| {
                let span = if i % 2 == 0 { HOUR_US } else { FIVE_YEARS_US };
                let deadline = start + Duration::from_micros(1 + scatter(i, span));
                let fired = fired.clone();
                spawn(async move {
                    sleep_until(deadline).await;
                    let at = now();
                    assert!(at >= deadline, "timer {i} fired {:?} early", deadline - at);
                    fired.set(fired.get() + 1);
                    (at - deadline).as_nanos() as u64
                })
            })
            .collect();
        yield_now().await;
        assert_eq!(
            evloop::stats().timers,
            baseline.timers + n,
            "every timer is pending at once"
        );
        let mut late = Vec::with_capacity(n);
        for handle in handles {
            late.push(handle.await.expect("every timer task completes"));
        }
        assert_eq!(fired.get(), n, "every timer fired");
        let worst = late.iter().copied().max().unwrap_or(0);
        assert!(
            worst < 1_000_000,
            "on the virtual clock a timer fires in its deadline's tick; the worst was {worst} ns late"
        );
        let last_deadline = (0..n)
            .map(|i| 1 + scatter(i, if i % 2 == 0 { HOUR_US } else { FIVE_YEARS_US }))
            .max()
            .map_or(start, |us| start + Duration::from_micros(us));
        assert!(
            now() >= last_deadline && now() - last_deadline < Duration::from_millis(1),
            "the clock stopped in the tick of the last deadline"
        );
        let elapsed = now() - start;
        assert_back_to_baseline(baseline, "after every timer fired");
        measure.finish(&format!(
            "virtual time {:.0} days, {}",
            elapsed.as_secs_f64() / 86_400.0,
            lateness_summary(late)
        ));
    });
}

/// 100 k timers on the real clock, deadlines scattered over 2 s: none fires before its deadline
/// by the loop's clock nor by `Instant::now()`. The lateness is printed, not asserted (the
/// machine is shared), twice: for every timer, and for those due after the set-up (spawning and
/// first-polling every task, during which the loop cannot fire anything) had ended.
#[test]
#[ignore = "stress: run with cargo test --release --test stress_scale -- --ignored --test-threads=1"]
fn a_hundred_thousand_timers_fire_none_early_real_clock() {
    let n = scale(100_000);
    evloop::run(async move {
        let baseline = evloop::stats();
        let measure = Measure::start("timers_real", n, "timers");
        const SPAN_US: u64 = 2_000_000;
        let start = now();
        let handles: Vec<_> = (0..n)
            .map(|i| {
                let deadline = start + Duration::from_micros(1 + scatter(i, SPAN_US));
                let handle = spawn(async move {
                    sleep_until(deadline).await;
                    let (at, real) = (now(), Instant::now());
                    assert!(
                        at >= deadline,
                        "timer {i} fired {:?} early by the loop's clock",
                        deadline - at
                    );
                    assert!(
                        real >= deadline,
                        "timer {i} fired {:?} early by Instant::now()",
                        deadline - real
                    );
                    (real - deadline).as_nanos() as u64
                });
                (deadline, handle)
            })
            .collect();
        yield_now().await;
        let set_up = Instant::now();
        let (mut late, mut late_after_set_up) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for (deadline, handle) in handles {
            let ns = handle.await.expect("every timer task completes");
            late.push(ns);
            if deadline >= set_up {
                late_after_set_up.push(ns);
            }
        }
        assert_eq!(late.len(), n);
        assert_back_to_baseline(baseline, "after every timer fired");
        let due_during_set_up = n - late_after_set_up.len();
        measure.finish(&format!(
            "set-up {:.3} s; all: {}; the {} due after the set-up: {}",
            (set_up - start).as_secs_f64(),
            lateness_summary(late),
            late_after_set_up.len(),
            if due_during_set_up == n {
                String::from("none")
            } else {
                lateness_summary(late_after_set_up)
            },
        ));
    });
}

// ---------------------------------------------------------------------------------------------
// Cross-thread wakes
// ---------------------------------------------------------------------------------------------

/// One thread's side of a wake ping-pong with its task on the loop.
struct Lane {
    /// The task's waker, published by its first poll.
    waker: Mutex<Option<Waker>>,
    /// The last wake the thread sent (1, 2, …).
    sent: AtomicU64,
    /// The last wake the task observed.
    seen: AtomicU64,
    /// The thread, unparked by the task after it observes a wake.
    thread: Mutex<Option<std::thread::Thread>>,
    /// Set by a thread that gave up waiting (a lost wake).
    lost: AtomicBool,
}

/// 8 threads × 125,000 wakes of 8 tasks on one loop, through `Waker::wake` from the threads. Each
/// wake is a ping-pong: the thread bumps a counter, wakes its task, and sends the next wake only
/// once the task has seen that value. So a single lost wake stops its lane: the thread gives up
/// after 10 s without an answer (failing the test) and the loop's overall timeout fails too.
#[test]
#[ignore = "stress: run with cargo test --release --test stress_scale -- --ignored --test-threads=1"]
fn a_million_cross_thread_wakes_from_eight_threads_none_lost() {
    const THREADS: usize = 8;
    let total = scale(1_000_000);
    let per_thread = (total / THREADS) as u64;
    evloop::run(async move {
        let baseline = evloop::stats();
        let measure = Measure::start("cross_thread_wakes", per_thread as usize * THREADS, "wakes");
        let lanes: Vec<Arc<Lane>> = (0..THREADS)
            .map(|_| {
                Arc::new(Lane {
                    waker: Mutex::new(None),
                    sent: AtomicU64::new(0),
                    seen: AtomicU64::new(0),
                    thread: Mutex::new(None),
                    lost: AtomicBool::new(false),
                })
            })
            .collect();
        let tasks: Vec<_> = lanes
            .iter()
            .map(|lane| {
                let lane = lane.clone();
                spawn(async move {
                    let mut polls = 0u64;
                    std::future::poll_fn(|cx| {
                        polls += 1;
                        if polls == 1 {
                            *lane.waker.lock().unwrap() = Some(cx.waker().clone());
                        }
                        let sent = lane.sent.load(Ordering::Acquire);
                        if sent > lane.seen.load(Ordering::Relaxed) {
                            lane.seen.store(sent, Ordering::Release);
                            if let Some(thread) = &*lane.thread.lock().unwrap() {
                                thread.unpark();
                            }
                        }
                        if sent == per_thread {
                            Poll::Ready(())
                        } else {
                            Poll::Pending
                        }
                    })
                    .await;
                    polls
                })
            })
            .collect();
        // Let every task publish its waker before the threads start.
        yield_now().await;
        let threads: Vec<_> = lanes
            .iter()
            .map(|lane| {
                let lane = lane.clone();
                std::thread::spawn(move || {
                    *lane.thread.lock().unwrap() = Some(std::thread::current());
                    let waker = lane
                        .waker
                        .lock()
                        .unwrap()
                        .clone()
                        .expect("the task published its waker");
                    for seq in 1..=per_thread {
                        lane.sent.store(seq, Ordering::Release);
                        waker.wake_by_ref();
                        let asked = Instant::now();
                        while lane.seen.load(Ordering::Acquire) < seq {
                            if asked.elapsed() > Duration::from_secs(10) {
                                lane.lost.store(true, Ordering::Release);
                                panic!("wake {seq} was never observed by its task: lost");
                            }
                            std::thread::park_timeout(Duration::from_millis(100));
                        }
                    }
                })
            })
            .collect();
        let mut polls = 0;
        for task in tasks {
            polls += within(Duration::from_secs(120), "every lane's last wake observed", task)
                .await
                .expect("the task completes");
        }
        for thread in threads {
            thread.join().expect("no waking thread gave up");
        }
        assert!(lanes.iter().all(|lane| !lane.lost.load(Ordering::Acquire)));
        let total = per_thread * THREADS as u64;
        assert!(
            polls >= total,
            "each wake was one poll at least ({polls} polls, {total} wakes)"
        );
        assert_back_to_baseline(baseline, "after the wakes");
        measure.finish(&format!("{polls} polls for {total} wakes"));
    });
}

/// 8 threads × 125,000 `call_soon_threadsafe` callbacks sent without waiting: every one runs, on
/// the loop's thread, and each thread's run in the order it sent them.
#[test]
#[ignore = "stress: run with cargo test --release --test stress_scale -- --ignored --test-threads=1"]
fn a_million_call_soon_threadsafe_from_eight_threads_all_run_in_order() {
    const THREADS: usize = 8;
    let total = scale(1_000_000);
    let per_thread = (total / THREADS) as u64;
    let runtime = Runtime::new().expect("a runtime");
    let remote = runtime.remote();
    runtime.block_on(async move {
        let baseline = evloop::stats();
        let measure = Measure::start("call_soon_threadsafe", per_thread as usize * THREADS, "callbacks");
        let loop_thread = std::thread::current().id();
        let next: Rc<Vec<Cell<u64>>> = Rc::new((0..THREADS).map(|_| Cell::new(0)).collect());
        let done = Rc::new(Event::new());
        let finished_lanes = Rc::new(Cell::new(0usize));
        // Rc is not Send: each callback reaches the loop's state through this thread-local.
        {
            let next = next.clone();
            let done = done.clone();
            let finished_lanes = finished_lanes.clone();
            LANES.with(|lanes| {
                *lanes.borrow_mut() = Some(Box::new(move |lane, seq| {
                    assert_eq!(next[lane].get(), seq, "lane {lane}'s callbacks run in the order sent");
                    next[lane].set(seq + 1);
                    if seq + 1 == per_thread {
                        finished_lanes.set(finished_lanes.get() + 1);
                        if finished_lanes.get() == THREADS {
                            done.set();
                        }
                    }
                }));
            });
        }
        let threads: Vec<_> = (0..THREADS)
            .map(|lane| {
                let remote = remote.clone();
                std::thread::spawn(move || {
                    for seq in 0..per_thread {
                        remote.call_soon_threadsafe(move || {
                            assert_eq!(std::thread::current().id(), loop_thread, "callbacks run on the loop");
                            LANES.with(|lanes| lanes.borrow().as_ref().expect("lanes set")(lane, seq));
                        });
                    }
                })
            })
            .collect();
        within(Duration::from_secs(120), "every callback ran", done.wait()).await;
        for thread in threads {
            thread.join().expect("a sending thread");
        }
        assert!(next.iter().all(|n| n.get() == per_thread));
        LANES.with(|lanes| lanes.borrow_mut().take());
        assert_back_to_baseline(baseline, "after the callbacks");
        measure.finish("");
    });
}

/// 8 threads × 125,000 wakes sent as fast as the threads can, without waiting for the task: many
/// wakes arrive while their task is already queued. Each task must still observe its thread's
/// last value (a lost final wake fails through the timeout), and its polls are counted: at least
/// one per thread, at most one per wake. The threads then wake their tasks once more after the
/// runtime is dropped, and drop their wakers there, which must do nothing (the inbox is closed;
/// the last waker frees its task on that thread).
#[test]
#[ignore = "stress: run with cargo test --release --test stress_scale -- --ignored --test-threads=1"]
fn a_million_unpaced_cross_thread_wakes_the_last_is_never_lost() {
    const THREADS: usize = 8;
    let total = scale(1_000_000);
    let per_thread = (total / THREADS) as u64;
    let runtime = Runtime::new().expect("a runtime");
    let measure = Measure::start("unpaced_wakes", per_thread as usize * THREADS, "wakes");
    let lanes: Vec<Arc<Lane>> = (0..THREADS)
        .map(|_| {
            Arc::new(Lane {
                waker: Mutex::new(None),
                sent: AtomicU64::new(0),
                seen: AtomicU64::new(0),
                thread: Mutex::new(None),
                lost: AtomicBool::new(false),
            })
        })
        .collect();
    let after_drop = Arc::new(std::sync::Barrier::new(THREADS + 1));
    let (threads, polls) = runtime.block_on(async {
        let baseline = evloop::stats();
        let tasks: Vec<_> = lanes
            .iter()
            .map(|lane| {
                let lane = lane.clone();
                spawn(async move {
                    let mut polls = 0u64;
                    std::future::poll_fn(|cx| {
                        polls += 1;
                        if polls == 1 {
                            *lane.waker.lock().unwrap() = Some(cx.waker().clone());
                        }
                        let sent = lane.sent.load(Ordering::Acquire);
                        lane.seen.store(sent, Ordering::Release);
                        if sent == per_thread {
                            Poll::Ready(())
                        } else {
                            Poll::Pending
                        }
                    })
                    .await;
                    polls
                })
            })
            .collect();
        yield_now().await;
        let threads: Vec<_> = lanes
            .iter()
            .map(|lane| {
                let lane = lane.clone();
                let after_drop = after_drop.clone();
                std::thread::spawn(move || {
                    let waker = lane.waker.lock().unwrap().take().expect("the task published its waker");
                    for seq in 1..=per_thread {
                        lane.sent.store(seq, Ordering::Release);
                        waker.wake_by_ref();
                    }
                    after_drop.wait();
                    waker.wake();
                })
            })
            .collect();
        let mut polls = Vec::new();
        for task in tasks {
            polls.push(
                within(Duration::from_secs(120), "every lane's last wake observed", task)
                    .await
                    .expect("the task completes"),
            );
        }
        assert!(lanes.iter().all(|lane| lane.seen.load(Ordering::Acquire) == per_thread));
        for &p in &polls {
            assert!(
                p >= 2 && p <= per_thread + 1,
                "between 1 and {per_thread} polls per lane after the first ({p})"
            );
        }
        assert_back_to_baseline(baseline, "after the wakes");
        (threads, polls)
    });
    let rss_before_drop = status_kib("VmRSS");
    drop(runtime);
    after_drop.wait();
    for thread in threads {
        thread.join().expect("a wake after the runtime's drop is ignored");
    }
    let polls: u64 = polls.iter().sum();
    measure.finish(&format!(
        "{polls} polls for {} wakes ({:.1}% coalesced), RSS {:.1} MiB before the runtime's drop",
        per_thread * THREADS as u64,
        100.0 * (1.0 - polls as f64 / (per_thread * THREADS as u64) as f64),
        rss_before_drop as f64 / 1024.0
    ));
}

type LaneFn = Box<dyn Fn(usize, u64)>;

thread_local! {
    static LANES: std::cell::RefCell<Option<LaneFn>> = const { std::cell::RefCell::new(None) };
}

// ---------------------------------------------------------------------------------------------
// Sockets
// ---------------------------------------------------------------------------------------------

/// Raises this process's soft RLIMIT_NOFILE to its hard limit, and returns the new soft limit.
fn raise_fd_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0, "getrlimit");
        limit.rlim_cur = limit.rlim_max;
        assert_eq!(
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit),
            0,
            "setrlimit to the hard limit"
        );
    }
    limit.rlim_cur
}

/// The environment variable that turns this test binary into the client process.
const CLIENT_ENV: &str = "EVLOOP_STRESS_CLIENT";
/// Lines of the client's protocol on its stdout start with this (libtest prints there too).
const CLIENT_SAYS: &str = "stress-client:";

fn message(i: usize) -> String {
    format!("hello from client {i:06}\n")
}

/// The client process: `threads` threads open `n` connections between them, each sending its
/// message and reading the echo; then it reports "held", waits for "close" on stdin, closes
/// every connection, reports "closed" and exits.
fn client_process(spec: &str) {
    let mut parts = spec.split(',');
    let addr: SocketAddr = parts.next().and_then(|a| a.parse().ok()).expect("an address");
    let n: usize = parts.next().and_then(|n| n.parse().ok()).expect("a count");
    raise_fd_limit();
    const THREADS: usize = 4;
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            std::thread::spawn(move || {
                let mut held = Vec::new();
                for i in (t..n).step_by(THREADS) {
                    let mut stream = std::net::TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {i}: {e}"));
                    stream
                        .set_read_timeout(Some(Duration::from_secs(30)))
                        .expect("a read timeout");
                    let sent = message(i);
                    stream.write_all(sent.as_bytes()).expect("send");
                    let mut back = vec![0; sent.len()];
                    stream.read_exact(&mut back).unwrap_or_else(|e| panic!("echo {i}: {e}"));
                    assert_eq!(back, sent.as_bytes(), "client {i} got its own message back");
                    held.push(stream);
                }
                held
            })
        })
        .collect();
    let held: Vec<_> = workers
        .into_iter()
        .flat_map(|w| w.join().expect("a client thread"))
        .collect();
    println!("{CLIENT_SAYS} held {}", held.len());
    std::io::stdout().flush().expect("stdout");
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).expect("stdin");
    assert_eq!(line.trim(), "close", "the server's word");
    for stream in &held {
        stream.shutdown(Shutdown::Both).expect("shutdown");
    }
    drop(held);
    println!("{CLIENT_SAYS} closed");
    std::io::stdout().flush().expect("stdout");
}

/// Reads the client's stdout until a protocol line, off the loop (a blocking read).
async fn client_line(stdout: BufReader<std::process::ChildStdout>) -> (BufReader<std::process::ChildStdout>, String) {
    evloop::spawn_blocking(move || {
        let mut stdout = stdout;
        let mut line = String::new();
        loop {
            line.clear();
            if stdout.read_line(&mut line).expect("the client's stdout") == 0 {
                return (stdout, String::from("(the client exited)"));
            }
            if let Some(said) = line.strip_prefix(CLIENT_SAYS) {
                return (stdout, said.trim().to_string());
            }
        }
    })
    .await
    .expect("the reading job")
}

/// An echo server on the loop: each connection reads one line, writes it back, then waits for
/// the client to close. Counts the connections open right now and the most at once.
struct EchoServer {
    live: Rc<Cell<usize>>,
    peak: Rc<Cell<usize>>,
    served: Rc<Cell<usize>>,
    all_closed: Rc<Event>,
    accept: evloop::JoinHandle<()>,
}

fn echo_server(listener: TcpListener) -> EchoServer {
    let live = Rc::new(Cell::new(0usize));
    let peak = Rc::new(Cell::new(0usize));
    let served = Rc::new(Cell::new(0usize));
    let all_closed = Rc::new(Event::new());
    let accept = {
        let (live, peak, served, all_closed) = (live.clone(), peak.clone(), served.clone(), all_closed.clone());
        spawn(async move {
            loop {
                let (stream, _) = match listener.accept().await {
                    Ok(accepted) => accepted,
                    Err(e) => panic!("accept failed: {e}"),
                };
                live.set(live.get() + 1);
                peak.set(peak.get().max(live.get()));
                all_closed.clear();
                let (live, served, all_closed) = (live.clone(), served.clone(), all_closed.clone());
                drop(spawn(async move {
                    let mut line = Vec::with_capacity(32);
                    let mut buf = [0u8; 64];
                    let mut echoed = false;
                    loop {
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(k) => {
                                line.extend_from_slice(&buf[..k]);
                                if !echoed && line.ends_with(b"\n") {
                                    if stream.write_all(&line).await.is_err() {
                                        break;
                                    }
                                    echoed = true;
                                    served.set(served.get() + 1);
                                }
                            }
                        }
                    }
                    drop(stream);
                    live.set(live.get() - 1);
                    if live.get() == 0 {
                        all_closed.set();
                    }
                }));
            }
        })
    };
    EchoServer {
        live,
        peak,
        served,
        all_closed,
        accept,
    }
}

/// 10,000 TCP connections held at once by an evloop echo server, the clients in a second
/// process: every client gets its own message back, the server holds all 10,000 at the same
/// time (its count, and the reactor's), and once the clients close, every socket is
/// deregistered and every task gone.
#[test]
#[ignore = "stress: run with cargo test --release --test stress_scale -- --ignored --test-threads=1"]
fn ten_thousand_tcp_connections_held_at_once() {
    if let Ok(spec) = std::env::var(CLIENT_ENV) {
        client_process(&spec);
        return;
    }
    let limit = raise_fd_limit();
    let n = scale(10_000).min(limit.saturating_sub(100) as usize);
    assert!(
        n >= 1000,
        "the hard fd limit ({limit}) leaves room for {n} connections only"
    );
    evloop::run(async move {
        let baseline = evloop::stats();
        let measure = Measure::start("tcp_held", n, "connections");
        let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).expect("bind");
        let addr = listener.local_addr().expect("local_addr");
        let server = echo_server(listener);
        let mut child = Command::new(std::env::current_exe().expect("this test binary"))
            .args([
                "--exact",
                "ten_thousand_tcp_connections_held_at_once",
                "--ignored",
                "--nocapture",
            ])
            .env(CLIENT_ENV, format!("{addr},{n}"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the client process");
        let stdout = BufReader::new(child.stdout.take().expect("piped"));
        let (stdout, said) = within(Duration::from_secs(120), "the clients connect", client_line(stdout)).await;
        assert_eq!(said, format!("held {n}"), "every client got its echo");
        let held_after = measure.started.elapsed();
        assert_eq!(server.live.get(), n, "the server holds every connection at once");
        assert_eq!(server.served.get(), n, "and echoed each one");
        assert_eq!(
            evloop::stats().io_sources,
            baseline.io_sources + n + 1,
            "one registration per connection, plus the listener"
        );
        let mut stdin = child.stdin.take().expect("piped");
        stdin.write_all(b"close\n").expect("tell the clients to close");
        drop(stdin);
        within(
            Duration::from_secs(60),
            "every connection closes",
            server.all_closed.wait(),
        )
        .await;
        let (stdout, said) = within(Duration::from_secs(30), "the clients close", client_line(stdout)).await;
        assert_eq!(said, "closed");
        assert_eq!(server.live.get(), 0);
        assert_eq!(server.peak.get(), n, "never more than n at once");
        server.accept.cancel();
        assert!(server.accept.await.unwrap_err().is_cancelled());
        // Read the client's stdout to its end (libtest still prints its summary there; a closed
        // pipe would fail the client), then collect its exit status.
        let exited = evloop::spawn_blocking(move || {
            let mut rest = String::new();
            let mut stdout = stdout;
            stdout.read_to_string(&mut rest).expect("the client's stdout");
            child.wait()
        });
        let status = within(Duration::from_secs(30), "the client exits", exited)
            .await
            .expect("the job")
            .expect("wait");
        assert!(status.success(), "the client process failed: {status}");
        assert_back_to_baseline(baseline, "after every connection closed");
        measure.finish(&format!(
            "all {n} connected and echoed after {:.3} s, fd limit {limit}",
            held_after.as_secs_f64()
        ));
    });
}

/// The fd of this process's listening socket bound to `addr` (found through /proc/self/fd,
/// since evloop's `TcpListener` does not expose its fd).
fn listening_fd(addr: SocketAddr) -> i32 {
    for entry in std::fs::read_dir("/proc/self/fd").expect("/proc/self/fd") {
        let Ok(fd) = entry.expect("an fd").file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        // SAFETY: getsockname writes at most `len` bytes into `storage`.
        let bound = unsafe {
            let mut storage: libc::sockaddr_in = std::mem::zeroed();
            let mut len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            let ok = libc::getsockname(fd, (&raw mut storage).cast(), &mut len) == 0
                && storage.sin_family == libc::AF_INET as libc::sa_family_t;
            ok.then(|| u16::from_be(storage.sin_port))
        };
        if bound == Some(addr.port()) {
            let mut accepting = 0i32;
            let mut len = std::mem::size_of::<i32>() as libc::socklen_t;
            // SAFETY: getsockopt writes at most `len` bytes into `accepting`.
            let ok = unsafe {
                libc::getsockopt(
                    fd,
                    libc::SOL_SOCKET,
                    libc::SO_ACCEPTCONN,
                    (&raw mut accepting).cast(),
                    &mut len,
                )
            } == 0;
            if ok && accepting == 1 {
                return fd;
            }
        }
    }
    panic!("no listening socket on {addr} in /proc/self/fd");
}

/// The kernel's count of connections dropped because a listen queue was full
/// (`TcpExt: ListenOverflows` in /proc/net/netstat, for this network namespace).
fn listen_overflows() -> u64 {
    let netstat = std::fs::read_to_string("/proc/net/netstat").expect("/proc/net/netstat");
    let mut tcp_ext = netstat.lines().filter(|l| l.starts_with("TcpExt:"));
    let (names, values) = (
        tcp_ext.next().expect("TcpExt names"),
        tcp_ext.next().expect("TcpExt values"),
    );
    names
        .split_whitespace()
        .zip(values.split_whitespace())
        .find(|(name, _)| *name == "ListenOverflows")
        .and_then(|(_, value)| value.parse().ok())
        .expect("ListenOverflows")
}

/// One flood client: connect, send a line, read the echo. An attempt that fails cleanly
/// (refused, reset) or takes over 250 ms (its SYN was dropped: the kernel would retry it only
/// after 1 s, then 3 s, 7 s…) is retried on a new socket, as a real client would, until 30 s
/// have passed. Returns how many attempts it took, or the last error.
async fn flood_client(addr: SocketAddr, i: usize) -> Result<u32, std::io::Error> {
    let give_up = now() + Duration::from_secs(30);
    let mut attempts = 0;
    loop {
        attempts += 1;
        let attempt = async {
            let stream = TcpStream::connect(addr).await?;
            let sent = message(i);
            stream.write_all(sent.as_bytes()).await?;
            let mut back = vec![0; sent.len()];
            stream.read_exact(&mut back).await?;
            assert_eq!(back, sent.as_bytes(), "client {i} got its own message back");
            Ok::<_, std::io::Error>(())
        };
        let error = match timeout(Duration::from_millis(250), attempt).await {
            Ok(Ok(())) => return Ok(attempts),
            Ok(Err(e)) => e,
            Err(_) => std::io::ErrorKind::TimedOut.into(),
        };
        assert!(
            matches!(
                error.kind(),
                std::io::ErrorKind::ConnectionRefused
                    | std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::TimedOut
                    | std::io::ErrorKind::UnexpectedEof
            ),
            "client {i} failed with an unclean error: {error:?}"
        );
        if now() >= give_up {
            return Err(error);
        }
        // A pause that differs per client, so the retries do not all land at once again.
        sleep(Duration::from_millis(1 + scatter(i + attempts as usize, 20))).await;
    }
}

/// More simultaneous connects than the listen backlog: the backlog is cut to 16 and 2,000
/// clients on the same loop connect at once, each sending a line and reading its echo. The
/// kernel drops the handshakes that find the accept queue full (its ListenOverflows count must
/// grow: the flood really went past the backlog), so clients retry ([`flood_client`]). Every
/// client is served, or fails with a clean error after 30 s of retries; none panics or hangs;
/// the accept loop survives, a connection after the flood is served, and every socket and task
/// is gone at the end.
#[test]
#[ignore = "stress: run with cargo test --release --test stress_scale -- --ignored --test-threads=1"]
fn a_connect_flood_past_the_listen_backlog_is_survived() {
    const BACKLOG: i32 = 16;
    let limit = raise_fd_limit();
    let n = scale(2_000).min((limit.saturating_sub(100) / 2) as usize);
    evloop::run(async move {
        let baseline = evloop::stats();
        let measure = Measure::start("connect_flood", n, "connects");
        let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).expect("bind");
        let addr = listener.local_addr().expect("local_addr");
        // SAFETY: listen() on our own listening socket only changes its backlog.
        assert_eq!(
            unsafe { libc::listen(listening_fd(addr), BACKLOG) },
            0,
            "shrink the backlog"
        );
        let server = echo_server(listener);
        let overflows_before = listen_overflows();
        let clients: Vec<_> = (0..n).map(|i| spawn(flood_client(addr, i))).collect();
        let (mut served, mut failed, mut attempts, mut most) = (0usize, Vec::new(), 0u64, 0u32);
        for client in clients {
            match within(Duration::from_secs(60), "a flood client", client)
                .await
                .expect("no client panics")
            {
                Ok(tries) => {
                    served += 1;
                    attempts += u64::from(tries);
                    most = most.max(tries);
                }
                Err(e) => failed.push(e.kind()),
            }
        }
        let flood_took = measure.started.elapsed();
        let overflows = listen_overflows() - overflows_before;
        assert_eq!(served + failed.len(), n);
        assert!(
            overflows > 0,
            "the flood went past the backlog (the kernel dropped no handshake)"
        );
        assert!(
            served > BACKLOG as usize,
            "more clients than the backlog were served ({served})"
        );
        assert!(!server.accept.is_finished(), "the accept loop survived the flood");
        // The loop is healthy: a connection after the flood is accepted and echoed.
        let stream = within(
            Duration::from_secs(10),
            "a connect after the flood",
            TcpStream::connect(addr),
        )
        .await
        .expect("connect after the flood");
        stream.write_all(message(n).as_bytes()).await.expect("send");
        let mut back = vec![0; message(n).len()];
        within(
            Duration::from_secs(10),
            "an echo after the flood",
            stream.read_exact(&mut back),
        )
        .await
        .expect("echo after the flood");
        assert_eq!(back, message(n).as_bytes());
        drop(stream);
        if server.live.get() > 0 {
            within(
                Duration::from_secs(30),
                "every server connection closes",
                server.all_closed.wait(),
            )
            .await;
        }
        server.accept.cancel();
        assert!(server.accept.await.unwrap_err().is_cancelled());
        assert_back_to_baseline(baseline, "after the flood");
        measure.finish(&format!(
            "{served} served in {attempts} attempts (at most {most} for one client), {} failed cleanly ({failed:?}), \
             {overflows} handshakes dropped by the kernel (ListenOverflows), flood over in {:.3} s",
            failed.len(),
            flood_took.as_secs_f64()
        ));
    });
}

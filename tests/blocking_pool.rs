//! `spawn_blocking`: results, panics, the bound on threads, and no thread unless asked for.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, mpsc};
use std::time::{Duration, Instant};

use evloop::{spawn, spawn_blocking};

#[test]
fn blocking_results_and_panics_come_back_through_join_handles() {
    evloop::run(async {
        let value = spawn_blocking(|| 6 * 7).await.unwrap();
        assert_eq!(value, 42);
        let error = spawn_blocking(|| -> u32 { panic!("blocking job failed") })
            .await
            .unwrap_err();
        assert!(error.is_panic());
        assert_eq!(error.panic_message(), Some("blocking job failed"));
        // The loop and the pool both survive the panic.
        assert_eq!(spawn_blocking(|| "again").await.unwrap(), "again");
    });
}

#[test]
fn a_blocking_job_does_not_stall_other_tasks() {
    evloop::run(async {
        // The job cannot finish until a ticker on the loop has fired five timers: it only
        // returns `Ok` if the loop kept serving tasks and timers while it ran, however fast or
        // slow the machine (or the interpreter: this runs under Miri too).
        let (tick_tx, tick_rx) = mpsc::channel();
        let ticks = Arc::new(AtomicUsize::new(0));
        let t = ticks.clone();
        let ticker = spawn(async move {
            loop {
                evloop::time::sleep(Duration::from_millis(5)).await;
                if t.fetch_add(1, Ordering::SeqCst) + 1 == 5 {
                    let _ = tick_tx.send(());
                }
            }
        });
        let waited = spawn_blocking(move || tick_rx.recv_timeout(Duration::from_secs(60)))
            .await
            .unwrap();
        ticker.cancel();
        assert!(waited.is_ok(), "the ticker kept running during the blocking job");
        assert!(ticks.load(Ordering::SeqCst) >= 5);
    });
}

#[test]
fn the_pool_never_exceeds_its_bound() {
    // An idle timeout no run of this test reaches: the threads counted below cannot have left.
    let rt = evloop::Runtime::builder()
        .max_blocking_threads(2)
        .blocking_idle_timeout(Duration::from_secs(600))
        .build()
        .unwrap();
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    // Jobs meet in pairs at a barrier, so two of them always run at once, on two threads: the
    // peak reaches 2 however long a job takes. A pool over its bound would show in the thread
    // count below, and most likely in the peak too.
    let pair = Arc::new(Barrier::new(2));
    rt.block_on(async {
        let jobs: Vec<_> = (0..8)
            .map(|i| {
                let (running, peak, pair) = (running.clone(), peak.clone(), pair.clone());
                spawn_blocking(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    pair.wait();
                    running.fetch_sub(1, Ordering::SeqCst);
                    i
                })
            })
            .collect();
        for (i, job) in jobs.into_iter().enumerate() {
            assert_eq!(job.await.unwrap(), i);
        }
        assert_eq!(evloop::stats().blocking_threads, 2);
    });
    assert_eq!(peak.load(Ordering::SeqCst), 2);
}

#[test]
fn idle_threads_exit_after_the_idle_timeout() {
    let rt = evloop::Runtime::builder()
        .max_blocking_threads(2)
        .blocking_idle_timeout(Duration::from_millis(50))
        .build()
        .unwrap();
    rt.block_on(async {
        let pair = Arc::new(Barrier::new(2));
        let jobs: Vec<_> = (0..2)
            .map(|_| {
                let pair = pair.clone();
                spawn_blocking(move || {
                    pair.wait();
                })
            })
            .collect();
        // The pair could only meet on two threads.
        for job in jobs {
            job.await.unwrap();
        }
        // Idle threads leave after the idle timeout (a real one: the pool runs beside the loop,
        // not on its clock). The bound is generous, for slow machines and Miri.
        let deadline = Instant::now() + Duration::from_secs(30);
        while evloop::stats().blocking_threads > 0 && Instant::now() < deadline {
            evloop::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(evloop::stats().blocking_threads, 0);
        // And the pool starts again for the next job.
        assert_eq!(spawn_blocking(|| 7).await.unwrap(), 7);
    });
}

#[test]
fn a_virtual_clock_waits_for_blocking_work_instead_of_jumping() {
    let rt = support::virtual_runtime();
    rt.block_on(async {
        let start = evloop::time::now();
        let job = spawn_blocking(|| std::thread::sleep(Duration::from_millis(30)));
        // A long sleep racing the job: the clock must not jump past it while the job runs.
        let raced = evloop::time::timeout(Duration::from_secs(60), job).await;
        assert!(raced.is_ok(), "the timeout fired although the job was still running");
        assert!(evloop::time::now() - start < Duration::from_secs(60));
    });
}

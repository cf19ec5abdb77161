//! `spawn_blocking`: results, panics, the bound on threads, and no thread unless asked for.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

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
        let ticks = Arc::new(AtomicUsize::new(0));
        let t = ticks.clone();
        let ticker = spawn(async move {
            loop {
                evloop::time::sleep(Duration::from_millis(5)).await;
                t.fetch_add(1, Ordering::SeqCst);
            }
        });
        spawn_blocking(|| std::thread::sleep(Duration::from_millis(100)))
            .await
            .unwrap();
        ticker.cancel();
        assert!(
            ticks.load(Ordering::SeqCst) >= 5,
            "the ticker kept running during the blocking job"
        );
    });
}

#[test]
fn the_pool_never_exceeds_its_bound_and_idle_threads_exit() {
    let rt = evloop::Runtime::builder()
        .max_blocking_threads(2)
        .blocking_idle_timeout(Duration::from_millis(50))
        .build()
        .unwrap();
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    rt.block_on(async {
        let jobs: Vec<_> = (0..8)
            .map(|i| {
                let (running, peak) = (running.clone(), peak.clone());
                spawn_blocking(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(10));
                    running.fetch_sub(1, Ordering::SeqCst);
                    i
                })
            })
            .collect();
        for (i, job) in jobs.into_iter().enumerate() {
            assert_eq!(job.await.unwrap(), i);
        }
        assert_eq!(evloop::stats().blocking_threads, 2);
        // Idle threads leave after the idle timeout.
        for _ in 0..200 {
            if evloop::stats().blocking_threads == 0 {
                break;
            }
            evloop::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(evloop::stats().blocking_threads, 0);
    });
    assert_eq!(peak.load(Ordering::SeqCst), 2);
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

//! Timers on the real clock: never early.

use std::time::{Duration, Instant};

use evloop::time::sleep;

#[test]
fn a_timer_never_fires_early_on_the_real_clock() {
    evloop::run(async {
        for micros in [0u64, 1, 300, 999, 1000, 1500, 2001, 5000] {
            let wanted = Duration::from_micros(micros);
            let started = Instant::now();
            sleep(wanted).await;
            let took = started.elapsed();
            assert!(took >= wanted, "sleep({wanted:?}) returned after only {took:?}");
        }
    });
}

#[test]
fn concurrent_sleepers_each_wait_at_least_their_delay() {
    evloop::run(async {
        let started = Instant::now();
        let tasks: Vec<_> = (0..20u64)
            .map(|i| {
                evloop::spawn(async move {
                    let wanted = Duration::from_millis(i % 7);
                    sleep(wanted).await;
                    (wanted, started.elapsed())
                })
            })
            .collect();
        for t in tasks {
            let (wanted, took) = t.await.unwrap();
            assert!(took >= wanted, "{took:?} < {wanted:?}");
        }
    });
}

//! The runtime-alone program on tokio: sleep 10 ms and spawn a task, three times, then print
//! one line — what `scripts/footprint/src/main.rs` does with evloop.
//!
//! Run with: `scripts/footprint.sh` (it builds both, stripped, and compares what each adds over a
//! plain hello world).

use std::time::Duration;

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a current-thread runtime builds");
    let sum = runtime.block_on(async {
        let mut sum = 0;
        for round in 0..3 {
            tokio::time::sleep(Duration::from_millis(10)).await;
            let task = tokio::spawn(async move { round * 2 });
            sum += task.await.expect("the task neither panics nor is cancelled");
        }
        sum
    });
    println!("slept and spawned 3 times (sum {sum})");
}

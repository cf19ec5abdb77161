//! The footprint program: a loop that sleeps 10 ms and spawns a task, three times, then prints
//! one line (as the hello world it is compared with does, so std's printing is in both).
//!
//! Run with: `scripts/footprint.sh` (it measures this program's stripped size, its runtime
//! dependencies and its clean build time). `get.rs` beside it is the one-GET program.

use std::time::Duration;

fn main() {
    let sum = evloop::run(async {
        let mut sum = 0;
        for round in 0..3 {
            evloop::time::sleep(Duration::from_millis(10)).await;
            let task = evloop::spawn(async move { round * 2 });
            sum += task.await.expect("the task neither panics nor is cancelled");
        }
        sum
    });
    println!("slept and spawned 3 times (sum {sum})");
}

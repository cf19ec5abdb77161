//! gather, gather_all, wait, as_completed, select and race.

mod support;

use std::time::Duration;

use evloop::time::{now, sleep};
use evloop::{Either, ReturnWhen, as_completed, gather, gather_all, race, select, wait};
use support::{DropProbe, Log, virtual_runtime};

/// Futures of different bodies in one list.
type BoxFuture<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T>>>;

/// A future that sleeps `ms` virtual milliseconds, logs, and returns `result`.
async fn step<T>(log: Log, name: &'static str, ms: u64, result: T) -> T {
    sleep(Duration::from_millis(ms)).await;
    log.push(name);
    result
}

#[test]
fn gather_returns_outputs_in_input_order_whatever_the_finish_order() {
    let rt = virtual_runtime();
    let log = Log::new();
    let l = log.clone();
    let out = rt.block_on(async move {
        let start = now();
        let futures = [(300, 'a'), (100, 'b'), (200, 'c')].map(|(ms, c)| {
            step(
                l.clone(),
                ["a", "b", "c"][(c as u8 - b'a') as usize],
                ms,
                Ok::<char, ()>(c),
            )
        });
        let out = gather(futures).await;
        assert_eq!((now() - start).as_millis(), 300, "they ran concurrently");
        out
    });
    assert_eq!(out, Ok(vec!['a', 'b', 'c']));
    assert_eq!(log.take(), ["b", "c", "a"]);
}

#[test]
fn gather_fails_fast_and_cancels_the_others() {
    let rt = virtual_runtime();
    let probe = DropProbe::new();
    let log = Log::new();
    let (p, l) = (probe.clone(), log.clone());
    let result = rt.block_on(async move {
        let slow = {
            let (g, l) = (p.guard(), l.clone());
            Box::pin(async move {
                let _held = g;
                step(l, "slow finished", 1000, Ok::<u32, String>(1)).await
            }) as BoxFuture<Result<u32, String>>
        };
        let failing = Box::pin(async { step(Log::new(), "failing", 100, Err::<u32, String>("bad page".into())).await });
        let start = now();
        let result = gather(vec![slow, failing]).await;
        assert_eq!((now() - start).as_millis(), 100, "returned at the first failure");
        assert_eq!(
            p.drops(),
            1,
            "the slow one was cancelled and cleaned up before gather returned"
        );
        assert_eq!(evloop::stats().tasks, 0);
        result
    });
    assert_eq!(result, Err("bad page".to_string()));
    assert!(log.take().is_empty(), "the cancelled task never finished");
}

#[test]
fn gather_re_raises_a_panic_after_cancelling_the_others() {
    let rt = virtual_runtime();
    let probe = DropProbe::new();
    let p = probe.clone();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.block_on(async move {
            let g = p.guard();
            let a: BoxFuture<Result<(), ()>> = Box::pin(async move {
                let _g = g;
                sleep(Duration::from_secs(5)).await;
                Ok(())
            });
            let b: BoxFuture<Result<(), ()>> = Box::pin(async {
                sleep(Duration::from_millis(10)).await;
                panic!("worker exploded")
            });
            let _ = gather(vec![a, b]).await;
        })
    }));
    let payload = caught.expect_err("the panic propagates");
    assert_eq!(support::panic_text(&*payload), "worker exploded");
    assert_eq!(probe.drops(), 1);
}

#[test]
fn gather_all_returns_every_outcome_including_panics() {
    let rt = virtual_runtime();
    let outcomes = rt.block_on(async {
        let futures: Vec<BoxFuture<Result<u32, &str>>> = vec![
            Box::pin(async { Ok(1) }),
            Box::pin(async { Err("not found") }),
            Box::pin(async {
                sleep(Duration::from_millis(5)).await;
                panic!("crashed")
            }),
            Box::pin(async { Ok(4) }),
        ];
        gather_all(futures).await
    });
    assert_eq!(outcomes.len(), 4);
    assert_eq!(outcomes[0].as_ref().unwrap(), &Ok(1));
    assert_eq!(outcomes[1].as_ref().unwrap(), &Err("not found"));
    assert_eq!(outcomes[2].as_ref().unwrap_err().panic_message(), Some("crashed"));
    assert_eq!(outcomes[3].as_ref().unwrap(), &Ok(4));
}

#[test]
fn wait_first_completed_leaves_the_rest_running() {
    let rt = virtual_runtime();
    rt.block_on(async {
        let log = Log::new();
        let futures = [300u64, 100, 200].map(|ms| step(log.clone(), "done", ms, ms));
        let waited = wait(futures, ReturnWhen::FirstCompleted).await;
        assert_eq!(waited.done.len(), 1);
        assert_eq!(waited.done[0].0, 1);
        assert_eq!(*waited.done[0].1.as_ref().unwrap(), 100);
        let pending: Vec<usize> = waited.pending.iter().map(|(i, _)| *i).collect();
        assert_eq!(pending, [0, 2]);
        for (_, handle) in waited.pending {
            handle.await.unwrap();
        }
        assert_eq!(log.take().len(), 3, "the pending tasks kept running to the end");
    });
}

#[test]
fn wait_first_exception_stops_at_a_panic_and_all_completed_waits_for_all() {
    let rt = virtual_runtime();
    rt.block_on(async {
        let futures: Vec<BoxFuture<u32>> = vec![
            Box::pin(async {
                sleep(Duration::from_millis(50)).await;
                1
            }),
            Box::pin(async {
                sleep(Duration::from_millis(100)).await;
                panic!("second failed")
            }),
            Box::pin(async {
                sleep(Duration::from_millis(500)).await;
                3
            }),
        ];
        let waited = wait(futures, ReturnWhen::FirstException).await;
        let done: Vec<usize> = waited.done.iter().map(|(i, _)| *i).collect();
        assert_eq!(done, [0, 1]);
        assert!(waited.done[1].1.as_ref().unwrap_err().is_panic());
        assert_eq!(waited.pending.len(), 1);

        let all = wait(
            [10u64, 30, 20].map(|ms| step(Log::new(), "x", ms, ms)),
            ReturnWhen::AllCompleted,
        )
        .await;
        let order: Vec<usize> = all.done.iter().map(|(i, _)| *i).collect();
        assert_eq!(order, [0, 2, 1], "done is in completion order");
        assert!(all.pending.is_empty());
    });
}

#[test]
fn as_completed_yields_in_finish_order() {
    let rt = virtual_runtime();
    rt.block_on(async {
        let mut stream = as_completed([30u64, 10, 20].map(|ms| step(Log::new(), "x", ms, ms)));
        assert_eq!(stream.remaining(), 3);
        let mut seen = Vec::new();
        while let Some((index, outcome)) = stream.next().await {
            seen.push((index, outcome.unwrap()));
        }
        assert_eq!(seen, [(1, 10), (2, 20), (0, 30)]);
    });
}

#[test]
fn select_returns_the_winner_and_drops_the_loser_at_once() {
    let rt = virtual_runtime();
    let probe = DropProbe::new();
    let p = probe.clone();
    rt.block_on(async move {
        let g = p.guard();
        let loser = async move {
            let _g = g;
            sleep(Duration::from_secs(10)).await;
            "loser"
        };
        let winner = async {
            sleep(Duration::from_secs(1)).await;
            7
        };
        match select(loser, winner).await {
            Either::Right(v) => assert_eq!(v, 7),
            Either::Left(_) => panic!("the slower side won"),
        }
        assert_eq!(p.drops(), 1, "the loser was dropped when select returned");
        assert_eq!(evloop::stats().timers, 0, "and its timer left the wheel");
    });
}

#[test]
fn race_picks_the_first_and_breaks_ties_by_index() {
    let rt = virtual_runtime();
    rt.block_on(async {
        let (index, value) = race([30u64, 10, 10].map(|ms| step(Log::new(), "x", ms, ms))).await;
        assert_eq!((index, value), (1, 10));
        assert_eq!(evloop::stats().timers, 0);
    });
}

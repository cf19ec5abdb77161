//! The paths other threads take into a loop, under contention: remote wakes through the inbox,
//! the task's atomic reference count (waker clones made and dropped anywhere, the last one
//! freeing the task on whichever thread holds it), `call_soon_threadsafe`, and blocking jobs
//! that outlive their runtime.
//!
//! These tests assert what must hold whatever the interleaving (no wake lost, every callback
//! run once and in order per sender, everything dropped exactly once, on the right thread), so
//! they never depend on timing. They are written to be run under ThreadSanitizer
//! (`scripts/tsan.sh`) and Miri, which check the same paths for data races; the counts are
//! smaller under Miri, which interprets every instruction.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::task::{Poll, Waker};
use std::thread::{self, ThreadId};
use std::time::Duration;

/// Threads that hammer one loop at a time.
const THREADS: usize = 8;

/// Wake round trips per thread.
const ROUNDS: usize = if cfg!(miri) { 10 } else { 2_000 };

/// Callbacks sent per thread.
const CALLS: usize = if cfg!(miri) { 10 } else { 2_000 };

/// Waker clones made (and woken, and dropped) per thread.
const CLONES: usize = if cfg!(miri) { 20 } else { 5_000 };

/// How long a test may take before it is declared stuck (a lost wake shows as a hang).
const STUCK: Duration = Duration::from_secs(120);

/// One task and the thread that wakes it.
#[derive(Default)]
struct Pair {
    /// The round the thread has reached; the thread stores it, then wakes the task.
    round: AtomicUsize,
    /// The last round the task saw; the thread waits for it before the next round.
    seen: AtomicUsize,
    /// The task's waker, left by its first poll.
    waker: Mutex<Option<Waker>>,
}

#[test]
fn wakes_from_eight_threads_are_never_lost() {
    let rt = evloop::Runtime::new().unwrap();
    let pairs: Vec<Arc<Pair>> = (0..THREADS).map(|_| Arc::new(Pair::default())).collect();
    let tasks: Vec<_> = pairs
        .iter()
        .map(|pair| {
            let pair = pair.clone();
            rt.spawn(std::future::poll_fn(move |cx| {
                {
                    let mut slot = pair.waker.lock().unwrap();
                    if !slot.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                        *slot = Some(cx.waker().clone());
                    }
                }
                // The thread may store the next round and wake us while we run: that wake must
                // queue the task again, or the round is lost and the test hangs.
                let round = pair.round.load(Ordering::Acquire);
                pair.seen.store(round, Ordering::Release);
                if round == ROUNDS {
                    Poll::Ready(round)
                } else {
                    Poll::Pending
                }
            }))
        })
        .collect();
    let wakers: Vec<_> = pairs
        .iter()
        .enumerate()
        .map(|(i, pair)| {
            let pair = pair.clone();
            thread::spawn(move || {
                let waker = loop {
                    if let Some(waker) = pair.waker.lock().unwrap().clone() {
                        break waker;
                    }
                    thread::yield_now();
                };
                for round in 1..=ROUNDS {
                    pair.round.store(round, Ordering::Release);
                    // Every way a waker can be used from another thread: by reference, and by
                    // value through a clone (one increment and one decrement of the count here).
                    match (round + i) % 3 {
                        0 => waker.wake_by_ref(),
                        1 => {
                            let clone = waker.clone();
                            clone.wake();
                        }
                        _ => {
                            let clone = waker.clone();
                            clone.wake_by_ref();
                            drop(clone);
                        }
                    }
                    while pair.seen.load(Ordering::Acquire) < round {
                        thread::yield_now();
                    }
                }
            })
        })
        .collect();
    let outputs = rt.block_on(async {
        let all = async {
            let mut outputs = Vec::new();
            for task in tasks {
                outputs.push(task.await.unwrap());
            }
            outputs
        };
        evloop::time::timeout(STUCK, all)
            .await
            .expect("a wake from another thread was lost")
    });
    assert_eq!(outputs, vec![ROUNDS; THREADS]);
    for thread in wakers {
        thread.join().unwrap();
    }
    // The tasks are done and their handles gone; the wakers the threads held were dropped with
    // the threads, and the ones in the slots go now: the last of them frees each task.
    drop(pairs);
    assert_eq!(rt.stats().tasks, 0);
}

/// Records the thread it was dropped on.
struct DropsOn(Arc<Mutex<Vec<ThreadId>>>);

impl Drop for DropsOn {
    fn drop(&mut self) {
        self.0.lock().unwrap().push(thread::current().id());
    }
}

#[test]
fn wakers_cloned_and_dropped_on_many_threads_while_the_task_completes() {
    let loop_thread = thread::current().id();
    let future_drops = Arc::new(Mutex::new(Vec::new()));
    let output_drops = Arc::new(Mutex::new(Vec::new()));
    let rt = evloop::Runtime::new().unwrap();
    let slot: Arc<Mutex<Option<Waker>>> = Arc::default();
    let release = Arc::new(AtomicBool::new(false));
    let mut task = {
        let (slot, release) = (slot.clone(), release.clone());
        let guard = DropsOn(future_drops.clone());
        let output = DropsOn(output_drops.clone());
        let mut output = Some(output);
        rt.spawn(std::future::poll_fn(move |cx| {
            let _keep = &guard;
            *slot.lock().unwrap() = Some(cx.waker().clone());
            if release.load(Ordering::Acquire) {
                Poll::Ready(output.take().unwrap())
            } else {
                Poll::Pending
            }
        }))
    };
    // Park the task once, so that its waker is in the slot.
    rt.block_on(evloop::yield_now());
    let waker = slot.lock().unwrap().take().expect("the task parked");
    let (start, finish) = (Arc::new(Barrier::new(THREADS + 1)), Arc::new(Barrier::new(THREADS + 1)));
    let threads: Vec<_> = (0..THREADS)
        .map(|_| {
            let (waker, start, finish) = (waker.clone(), start.clone(), finish.clone());
            thread::spawn(move || {
                start.wait();
                let mut kept = Vec::new();
                for k in 0..CLONES {
                    let clone = waker.clone();
                    match k % 4 {
                        0 => clone.wake(),
                        1 => clone.wake_by_ref(),
                        2 => kept.push(clone),
                        _ => drop(clone),
                    }
                    if kept.len() > 16 {
                        kept.clear();
                    }
                }
                // Some clones outlive the loop and the task, and are dropped while this thread
                // lets go of the handle and the runtime: whoever is last frees the task, with
                // nothing but the count ordering the others' last use before the free.
                finish.wait();
                drop(kept);
            })
        })
        .collect();
    drop(waker);
    start.wait();
    // The task completes while the threads are still cloning, waking and dropping its wakers.
    release.store(true, Ordering::Release);
    let output = rt
        .block_on(async { evloop::time::timeout(STUCK, &mut task).await })
        .expect("the wake from another thread was lost")
        .unwrap();
    drop(output);
    drop(slot.lock().unwrap().take());
    finish.wait();
    // The handle's drop writes to the task (its join waker, its state) while the threads drop
    // their last wakers; the task is freed once, here or there, and Miri checks that nothing
    // is left behind.
    drop(task);
    drop(rt);
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(
        *future_drops.lock().unwrap(),
        [loop_thread],
        "the future was dropped once, on the loop"
    );
    assert_eq!(
        *output_drops.lock().unwrap(),
        [loop_thread],
        "the output was dropped once, by its reader"
    );
}

/// What the callbacks sent from other threads leave behind.
#[derive(Default)]
struct Calls {
    /// `(sender, sequence number, thread it ran on)`, in the order the callbacks ran.
    ran: Mutex<Vec<(usize, usize, ThreadId)>>,
    /// The `block_on` future, waiting for the last callback.
    done: Mutex<Option<Waker>>,
}

#[test]
fn call_soon_threadsafe_from_many_threads_runs_every_callback_once_in_order_per_sender() {
    let rt = evloop::Runtime::new().unwrap();
    let calls = Arc::new(Calls::default());
    let start = Arc::new(Barrier::new(THREADS));
    let senders: Vec<_> = (0..THREADS)
        .map(|sender| {
            let (remote, calls, start) = (rt.remote(), calls.clone(), start.clone());
            thread::spawn(move || {
                start.wait();
                for seq in 0..CALLS {
                    let calls = calls.clone();
                    remote.call_soon_threadsafe(move || {
                        let mut ran = calls.ran.lock().unwrap();
                        ran.push((sender, seq, thread::current().id()));
                        if ran.len() == THREADS * CALLS
                            && let Some(done) = calls.done.lock().unwrap().take()
                        {
                            done.wake();
                        }
                    });
                }
            })
        })
        .collect();
    let c = calls.clone();
    let all_ran = std::future::poll_fn(move |cx| {
        // Callbacks run on this thread, between polls of this future: no callback can slip in
        // between the check and the waker being stored.
        if c.ran.lock().unwrap().len() == THREADS * CALLS {
            return Poll::Ready(());
        }
        *c.done.lock().unwrap() = Some(cx.waker().clone());
        Poll::Pending
    });
    rt.block_on(async { evloop::time::timeout(STUCK, all_ran).await })
        .expect("a callback sent from another thread was lost");
    for sender in senders {
        sender.join().unwrap();
    }
    let ran = calls.ran.lock().unwrap();
    assert_eq!(ran.len(), THREADS * CALLS);
    let loop_thread = thread::current().id();
    assert!(
        ran.iter().all(|&(.., on)| on == loop_thread),
        "every callback ran on the loop's thread"
    );
    let mut next = [0usize; THREADS];
    for &(sender, seq, _) in ran.iter() {
        assert_eq!(
            seq, next[sender],
            "sender {sender}'s callbacks ran once each, in the order sent"
        );
        next[sender] += 1;
    }
}

/// Counts the drops of the value it guards.
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn callbacks_sent_while_the_runtime_drops_are_run_or_dropped_exactly_once() {
    let rt = evloop::Runtime::new().unwrap();
    let ran = Arc::new(AtomicUsize::new(0));
    let dropped = Arc::new(AtomicUsize::new(0));
    let start = Arc::new(Barrier::new(THREADS + 1));
    let senders: Vec<_> = (0..THREADS)
        .map(|_| {
            let (remote, ran, dropped, start) = (rt.remote(), ran.clone(), dropped.clone(), start.clone());
            thread::spawn(move || {
                start.wait();
                for _ in 0..CALLS {
                    let (ran, guard) = (ran.clone(), Counted(dropped.clone()));
                    remote.call_soon_threadsafe(move || {
                        let _guard = guard;
                        ran.fetch_add(1, Ordering::SeqCst);
                    });
                }
            })
        })
        .collect();
    start.wait();
    // Run a few turns while the threads send, then drop the runtime under them.
    rt.block_on(async {
        for _ in 0..3 {
            evloop::yield_now().await;
            evloop::time::sleep(Duration::from_millis(1)).await;
        }
    });
    drop(rt);
    for sender in senders {
        sender.join().unwrap();
    }
    // Callbacks that ran dropped their closure after running; the others were dropped unrun,
    // by the runtime's drop, by the sender (the inbox was closed) or with the inbox itself.
    let (ran, dropped) = (ran.load(Ordering::SeqCst), dropped.load(Ordering::SeqCst));
    assert_eq!(
        dropped,
        THREADS * CALLS,
        "every callback was dropped exactly once ({ran} of them ran)"
    );
}

#[test]
fn blocking_jobs_finishing_after_the_runtime_drops_free_their_tasks() {
    const JOBS: usize = if cfg!(miri) { 4 } else { 64 };
    let rt = evloop::Runtime::builder().max_blocking_threads(4).build().unwrap();
    let gate = Arc::new((Mutex::new(false), std::sync::Condvar::new()));
    let finished = Arc::new(AtomicUsize::new(0));
    let results_dropped = Arc::new(AtomicUsize::new(0));
    // Half the handles are kept past the runtime's drop, half detached at once: either way the
    // task is freed, by whoever lets go of it last.
    let kept = rt.block_on(async {
        let mut kept = Vec::new();
        for i in 0..JOBS {
            let (gate, finished, results_dropped) = (gate.clone(), finished.clone(), results_dropped.clone());
            let job = evloop::spawn_blocking(move || {
                let (open, opened) = &*gate;
                let mut open = open.lock().unwrap();
                while !*open {
                    open = opened.wait(open).unwrap();
                }
                drop(open);
                finished.fetch_add(1, Ordering::SeqCst);
                // A result nobody will take: dropped on this pool thread.
                Counted(results_dropped)
            });
            if i % 2 == 0 {
                kept.push(job);
            }
        }
        // Let the waiting tasks park (each leaves its waker in its job's slot).
        evloop::yield_now().await;
        kept
    });
    drop(rt);
    // Only now may the jobs finish: their results, slots and wakers meet a closed inbox.
    {
        let (open, opened) = &*gate;
        *open.lock().unwrap() = true;
        opened.notify_all();
    }
    let deadline = std::time::Instant::now() + STUCK;
    while results_dropped.load(Ordering::SeqCst) < JOBS && std::time::Instant::now() < deadline {
        thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(finished.load(Ordering::SeqCst), JOBS, "every job ran to the end");
    assert_eq!(
        results_dropped.load(Ordering::SeqCst),
        JOBS,
        "every result was dropped, once"
    );
    // The runtime cancelled the waiting tasks: the kept handles say so.
    for handle in &kept {
        assert!(handle.is_finished());
    }
    drop(kept);
}

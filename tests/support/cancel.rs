//! Cancellation at every await point: a test driver that cancels a future after each of its
//! polls, in three ways, and checks after every cancellation that what the future was using is
//! whole again.
//!
//! In Rust, cancelling is dropping, and a future can be dropped wherever it is parked: at each
//! `.await` that returned `Pending`. A primitive is cancel-safe when each of those drops undoes
//! its registration and passes on whatever it had been handed (`sync/mod.rs`, "Cancellation";
//! STYLE.md, habit 8). One await point is easy to test by hand; this driver tests all of them.
//! For k = 0, 1, 2, … it
//!
//! 1. builds a fresh loop on the virtual clock and awaits `setup`, which makes the primitive
//!    and any helper tasks (a holder that releases its permit later, a second waiter queued
//!    behind the scenario, a server);
//! 2. spawns the `scenario` future inside a [`Probe`], which polls it exactly k times;
//! 3. cancels it in one of the three [`Way`]s;
//! 4. lets the loop settle (a minute of virtual time, so every helper finishes), awaits
//!    `check` (permits back, lock free, queue consistent, the next operation works, then any
//!    teardown), settles again, and asserts that `stats()` is back to what it was before
//!    `setup`: no task, timer or socket left behind, nothing on the ready queue.
//!
//! Before that, it runs the scenario once left alone: it must complete, and `check` must pass.
//! It stops at the first k at which the scenario completes within its k polls, and returns how
//! many await points it covered. Every failure says which scenario, which k and which way.
//!
//! Why a wrapper and not a timer: the probe counts polls and wraps the task's waker with one that
//! counts wakes, so "after its wake but before its re-poll" is an exact moment, not a race.
#![allow(dead_code)]

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::{Future, poll_fn};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use evloop::JoinHandle;

/// How long (virtual) the driver waits for the cancelled task, and then for `check`, before it
/// calls the wait lost. Longer than any scenario's own timers.
const PATIENCE: Duration = Duration::from_secs(600);

/// How long (virtual) the driver lets the loop run before checking: every helper's timers fire
/// and every socket event is handled well within it.
const SETTLE: Duration = Duration::from_secs(60);

/// How the scenario is cancelled once it has been polled k times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Way {
    /// Dropped while parked: right after its k-th poll returned `Pending`, inside that same task
    /// poll, so nothing can have woken it yet (k = 0: dropped before its first poll). Tests that
    /// `Drop` leaves a queue it is still in.
    Parked,
    /// Dropped after its wake, before its re-poll: the probe stops polling it after poll k, and at
    /// the task's next poll, which only a wake can cause, drops it instead of polling it. Tests
    /// that `Drop` passes on what it was handed meanwhile (a permit, an item, a notification). A
    /// wake that never comes, while the loop runs out of work, is reported as lost.
    Woken,
    /// Cancelled through `JoinHandle::cancel`, called right after poll k (k = 0: before the first
    /// poll); the loop drops the task's future when it reaches it, wakes or no wakes meanwhile.
    /// Tests the task's own cancel path, and that a cancelled task is never polled again.
    JoinHandle,
}

impl fmt::Display for Way {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Way::Parked => "dropped while parked",
            Way::Woken => "dropped after its wake, before its re-poll",
            Way::JoinHandle => "cancelled through JoinHandle::cancel",
        })
    }
}

/// What [`cancel_at_every_await`] covered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    /// Await points covered: the scenario was cancelled after k polls for every k below this.
    pub points: usize,
    /// Cancellations run in all (three per point, but no `Woken` at k = 0: nothing can wake a
    /// future that was never polled).
    pub cancellations: usize,
    /// Values of k after which the scenario completed in some runs and not in others. Always
    /// zero for a scenario that only talks to the loop; sockets can make it vary, because how
    /// much a write or a read moves at once is up to the kernel.
    pub uneven: usize,
}

impl Coverage {
    /// Asserts that the scenario ran the same way every time and had exactly `points` await
    /// points, for scenarios that only talk to the loop.
    ///
    /// Under Miri only a sample of the await points runs (see `runs_under_miri`), so there
    /// is no count to check.
    #[track_caller]
    pub fn assert_exactly(&self, points: usize) {
        if cfg!(miri) {
            return;
        }
        assert_eq!(
            self.uneven, 0,
            "every run polled the scenario the same number of times: {self:?}"
        );
        assert_eq!(self.points, points, "await points covered: {self:?}");
    }
}

/// Which values of k run: all of them, except under Miri, which interprets every instruction
/// and would take over half an hour for the whole sweep. There the first three run (parked
/// before any work, after the first step, after the second), then every fourth. "Completes
/// within k polls" only grows with k, so the sweep still ends at the first sampled k where the
/// scenario completes, and every scenario still runs cancelled at several depths.
fn runs_under_miri(k: usize) -> bool {
    !cfg!(miri) || k < 3 || k.is_multiple_of(4)
}

/// Runs `scenario` left alone, then cancelled after k polls in each [`Way`], for every k until it
/// completes within k polls in every way; see the module docs. Panics with the scenario, k and
/// the way on the first failure: a panic, a lost wake, a failed `check`, or `stats()` off its
/// baseline.
pub fn cancel_at_every_await<S, SF, F, C>(
    name: &str,
    setup: impl Fn() -> SF,
    scenario: impl Fn(&S) -> F,
    check: impl Fn(S) -> C,
) -> Coverage
where
    SF: Future<Output = S>,
    F: Future<Output = ()> + 'static,
    C: Future<Output = ()>,
{
    let run = |plan| run_once(name, plan, &setup, &scenario, &check);
    assert_eq!(
        run(None),
        Ran::Completed,
        "{name}: left alone, the scenario must complete"
    );
    let mut coverage = Coverage {
        points: 0,
        cancellations: 0,
        uneven: 0,
    };
    for k in 0.. {
        if !runs_under_miri(k) {
            continue;
        }
        let ways: &[Way] = if k == 0 {
            &[Way::Parked, Way::JoinHandle]
        } else {
            &[Way::Parked, Way::Woken, Way::JoinHandle]
        };
        let cancelled = ways
            .iter()
            .filter(|&&way| run(Some((k, way))) == Ran::Cancelled)
            .count();
        if cancelled == 0 {
            break;
        }
        coverage.points += 1;
        coverage.cancellations += cancelled;
        if cancelled < ways.len() {
            coverage.uneven += 1;
        }
    }
    eprintln!(
        "{name}: cancelled at each of {} await points, {} cancellations ({} uneven), whole after each",
        coverage.points, coverage.cancellations, coverage.uneven
    );
    coverage
}

/// How one run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ran {
    /// The scenario returned within its allowed polls.
    Completed,
    /// It was cancelled as planned.
    Cancelled,
}

/// One fresh loop: set up, spawn the probe, cancel as `plan` says, settle, check, compare stats.
fn run_once<S, SF, F, C>(
    name: &str,
    plan: Option<(usize, Way)>,
    setup: &impl Fn() -> SF,
    scenario: &impl Fn(&S) -> F,
    check: &impl Fn(S) -> C,
) -> Ran
where
    SF: Future<Output = S>,
    F: Future<Output = ()> + 'static,
    C: Future<Output = ()>,
{
    let at = match plan {
        None => format!("{name} (left alone)"),
        Some((1, way)) => format!("{name}, after 1 poll, {way}"),
        Some((k, way)) => format!("{name}, after {k} polls, {way}"),
    };
    let runtime = evloop::Builder::new().virtual_clock().build().expect("a runtime");
    let exceptions = Rc::new(RefCell::new(Vec::<String>::new()));
    let sink = exceptions.clone();
    runtime.set_exception_handler(move |ctx| sink.borrow_mut().push(ctx.to_string()));
    let driven = catch_unwind(AssertUnwindSafe(|| {
        runtime.block_on(drive(plan, setup, scenario, check))
    }));
    let ran = match driven {
        Ok(Ok(ran)) => ran,
        Ok(Err(failure)) => panic!("{at}: {failure}"),
        Err(payload) => panic!("{at}: {}", super::panic_text(&*payload)),
    };
    let exceptions = exceptions.borrow();
    assert!(
        exceptions.is_empty(),
        "{at}: a helper task or callback failed: {exceptions:?}"
    );
    ran
}

async fn drive<S, SF, F, C>(
    plan: Option<(usize, Way)>,
    setup: &impl Fn() -> SF,
    scenario: &impl Fn(&S) -> F,
    check: &impl Fn(S) -> C,
) -> Result<Ran, String>
where
    SF: Future<Output = S>,
    F: Future<Output = ()> + 'static,
    C: Future<Output = ()>,
{
    let baseline = Counts::now();
    let shared = setup().await;
    let seen = Rc::new(Seen::default());
    let handle = evloop::spawn(Probe::new(scenario(&shared), plan, seen.clone()));
    if plan == Some((0, Way::JoinHandle)) {
        handle.cancel();
    }
    *seen.handle.borrow_mut() = Some(handle);
    let joined = evloop::time::timeout(
        PATIENCE,
        poll_fn(|cx| Pin::new(seen.handle.borrow_mut().as_mut().expect("taken only below")).poll(cx)),
    )
    .await;
    seen.handle.take();
    let ran = match (joined, plan) {
        (Err(_elapsed), Some((k, Way::Woken))) => {
            return Err(format!(
                "no wake arrived after its poll #{k} returned Pending, and the loop ran out of work: a lost wake"
            ));
        }
        (Err(_elapsed), _) => return Err(format!("the task did not finish within {PATIENCE:?} (virtual)")),
        (Ok(Err(error)), _) if error.is_panic() => return Err(format!("the scenario panicked: {error}")),
        (Ok(Err(_cancelled)), Some((_, Way::JoinHandle))) => Ran::Cancelled,
        (Ok(Err(error)), _) => return Err(format!("the task ended with {error}, though nobody cancelled it")),
        (Ok(Ok(())), _) if seen.completed.get() => Ran::Completed,
        (Ok(Ok(())), _) => Ran::Cancelled,
    };
    settle().await;
    if evloop::time::timeout(PATIENCE, check(shared)).await.is_err() {
        return Err(format!(
            "the check did not finish within {PATIENCE:?} (virtual): something it waits for was lost"
        ));
    }
    settle().await;
    let now = Counts::now();
    if now != baseline {
        return Err(format!(
            "the loop is not back to its baseline: {now:?}, before set-up {baseline:?}"
        ));
    }
    Ok(ran)
}

/// Lets every helper finish: their timers fire and their sockets' events are handled.
pub async fn settle() {
    evloop::time::sleep(SETTLE).await;
}

/// The parts of `stats()` that must come back once everything is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Counts {
    tasks: usize,
    timers: usize,
    io_sources: usize,
    ready: usize,
}

impl Counts {
    fn now() -> Counts {
        let stats = evloop::stats();
        Counts {
            tasks: stats.tasks,
            timers: stats.timers,
            io_sources: stats.io_sources,
            ready: stats.ready,
        }
    }
}

/// What the probe saw, shared with the driver.
#[derive(Default)]
struct Seen {
    /// The scenario returned `Ready`.
    completed: Cell<bool>,
    /// The task's own handle, so that the probe can cancel it right after poll k.
    handle: RefCell<Option<JoinHandle<()>>>,
}

/// The scenario future, polled at most k times and then cancelled as planned.
struct Probe<F> {
    /// The scenario; `None` once it is dropped.
    future: Option<Pin<Box<F>>>,
    /// After how many polls to cancel, and how (`None`: never).
    plan: Option<(usize, Way)>,
    /// Polls so far.
    polls: usize,
    /// Wakes the scenario has sent, and the task waker they go on to; made at the first poll.
    recorder: Option<Arc<WakeRecorder>>,
    /// The recorder's count when the last poll started: a higher count means a wake arrived.
    wakes_before_poll: usize,
    seen: Rc<Seen>,
}

impl<F: Future<Output = ()>> Probe<F> {
    fn new(future: F, plan: Option<(usize, Way)>, seen: Rc<Seen>) -> Probe<F> {
        Probe {
            future: Some(Box::pin(future)),
            plan,
            polls: 0,
            recorder: None,
            wakes_before_poll: 0,
            seen,
        }
    }

    /// Drops the scenario in place and ends the task.
    fn drop_scenario(&mut self) -> Poll<()> {
        self.future = None;
        Poll::Ready(())
    }
}

impl<F: Future<Output = ()>> Future for Probe<F> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let recorder = this
            .recorder
            .get_or_insert_with(|| Arc::new(WakeRecorder::new(cx.waker().clone())))
            .clone();
        let stop = this.plan.filter(|&(k, _)| this.polls == k);
        match stop {
            Some((_, Way::Parked)) => return this.drop_scenario(), // k = 0: never polled
            Some((_, Way::Woken)) if recorder.wakes() > this.wakes_before_poll => return this.drop_scenario(),
            Some((_, Way::Woken)) => return Poll::Pending, // not woken: nothing to do yet
            Some((k, Way::JoinHandle)) => {
                panic!("the loop polled the task again after JoinHandle::cancel (after poll #{k})")
            }
            None => {}
        }
        this.wakes_before_poll = recorder.wakes();
        this.polls += 1;
        let waker = Waker::from(recorder);
        let future = this.future.as_mut().expect("polled only while the scenario is alive");
        if future.as_mut().poll(&mut Context::from_waker(&waker)).is_ready() {
            this.seen.completed.set(true);
            this.future = None;
            return Poll::Ready(());
        }
        match this.plan {
            Some((k, Way::Parked)) if k == this.polls => this.drop_scenario(),
            Some((k, Way::JoinHandle)) if k == this.polls => {
                let handle = this.seen.handle.borrow();
                handle
                    .as_ref()
                    .expect("the driver stores the handle before the first poll")
                    .cancel();
                Poll::Pending
            }
            _ => Poll::Pending,
        }
    }
}

/// A waker that counts wakes and passes each on to the task's own waker.
struct WakeRecorder {
    wakes: AtomicUsize,
    task: Waker,
}

impl WakeRecorder {
    fn new(task: Waker) -> WakeRecorder {
        WakeRecorder {
            wakes: AtomicUsize::new(0),
            task,
        }
    }

    fn wakes(&self) -> usize {
        self.wakes.load(Ordering::SeqCst)
    }
}

impl Wake for WakeRecorder {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.wakes.fetch_add(1, Ordering::SeqCst);
        self.task.wake_by_ref();
    }
}

//! Recording the schedule: where the loop tells its recorder what happened, and the switches
//! that turn recording on (`Builder::record`, `EVLOOP_RECORD`) and hand the record over
//! (`Runtime::take_record`).
//!
//! The store is `record/recorder.rs`, which knows nothing of the loop; the data model, and
//! what each event means, is `record/mod.rs`. This file is the glue: it knows the loop's clock
//! and turns the loop's own names (a `Runnable`, a wake `Cause`) into the record's.
//!
//! **Where each event is recorded.** `Turn` at the top of `Core::turn` (and of
//! `Runtime::run_ready`); `Spawn` in `Core::spawn`; `Poll` around each runnable in
//! `Core::run_snapshot` (through `observe.rs`); `Wake` in `Core::wake_local`, the one place a
//! task is queued, with the cause the scheduler holds at that moment; `IoWait`, `ClockJump`
//! and `TimersFired` in `Core::check_events`; `End` in `Core::run_task` and `Core::cancel_now`;
//! `Blocking` in `blocking.rs`, when a job's result reaches the loop.
//!
//! **Cost when off.** `Core::recorder` is an `Option<Box<..>>`, one word in the core that every
//! hook site already has in cache. Each site is `if self.recorder.is_some() { … }`, a branch
//! that is never taken, and what it calls is `#[cold]` and out of line here, so the hot paths
//! keep their shape. BENCHMARKS.md ("Recording") has the instruction counts, on and off.
//!
//! **Times.** Nanoseconds since the runtime was built, on the loop's clock. On a virtual clock
//! the real clock is never read here: a poll takes 0 ns and the record is the same on every run.
//! On the real clock a read costs about as much as a task switch, so the recorder reads it
//! once per poll (when the poll ends) and at each `epoll_wait` and entry into the loop; a poll
//! starts when the one before it ended (the few nanoseconds between two polls count in the
//! second), and an event inside a poll (a spawn, a wake, an end) carries the poll's start.
//! It reads `CLOCK_MONOTONIC` as plain nanoseconds (`record/clock.rs`), a third of the
//! instructions of `Instant::now()` and the subtraction from the origin.
//!
//! **Cost when on.** Each hook packs its event into a 32-byte `record::Entry` (plain numbers,
//! nothing to drop; a spawned task's name is shared, not copied) and the record is unpacked
//! into `Event`s only when taken. A task that wakes itself as the first thing of its poll
//! (`yield_now`) has the wake folded into the poll's entry, and a turn whose first event is a
//! poll has the turn folded into it, so a yield writes one entry for three events.
//! BENCHMARKS.md ("Recording") has the figures: in instructions a yield costs 1.95 times as
//! much, a spawn and join 1.38 times; in time more, as each entry is memory touched first.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use crate::record::{self, Direction, EnvSetting, Record, Recorder, Subject, TaskEnd, WakeCause};
use crate::record::{Entry, Recording};
use crate::runtime::core::Core;
use crate::scheduler::{Cause, Runnable};
use crate::task::TaskId;

/// What the builder was told about recording; `None` leaves the choice to `EVLOOP_RECORD`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RecordConfig {
    /// `Builder::record`.
    pub(crate) on: Option<bool>,
    /// `Builder::record_capacity`.
    pub(crate) cap: Option<usize>,
}

// Through the crate root's names, as `step.rs` and `dump.rs` do: this file is the runtime's part,
// and names its parent's types the way a reader of the public API does.
impl crate::Builder {
    /// Records what the loop does (spawns, polls, wakes and their causes, `epoll_wait`s,
    /// timers, clock jumps, blocking jobs, task ends) for [`Runtime::take_record`](crate::Runtime::take_record) to hand over
    /// (default: off, unless the `EVLOOP_RECORD` environment variable says otherwise, see
    /// below). Off, it costs nothing measurable; on, a spawn or a yield runs up to about twice
    /// as many instructions, and in time more than that: a clock read per poll, and 32 bytes
    /// of fresh memory per entry, where a yield's turn, poll and wake share one entry
    /// (BENCHMARKS.md, "Recording").
    ///
    /// **`EVLOOP_RECORD`**, read by [`build`](Self::build) when this was not called, switches
    /// recording on for any program without a rebuild, as `PYTHONASYNCIODEBUG` switches on
    /// asyncio's debug mode: `1` or `on` records with the default cap, a number records keeping
    /// at most that many events, `0`, `off` or nothing leaves it off, and anything else is
    /// logged as a warning and leaves it off ([`record::parse_env`]). An explicit `record(…)`
    /// wins over the variable, and so does [`record_capacity`](Self::record_capacity) over a
    /// number in it.
    ///
    /// # Examples
    /// ```
    /// use evloop::record::{What, Subject};
    ///
    /// let runtime = evloop::Runtime::builder().virtual_clock().record(true).build()?;
    /// let task = runtime.spawn(async { 42 });
    /// assert_eq!(runtime.block_on(task).unwrap(), 42);
    /// let record = runtime.take_record().expect("recording is on");
    /// let polls = record
    ///     .events
    ///     .iter()
    ///     .filter(|event| matches!(event.what, What::Poll { subject: Subject::Task(_), .. }))
    ///     .count();
    /// assert_eq!(polls, 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[doc(alias = "PYTHONASYNCIODEBUG")]
    #[doc(alias = "set_debug")]
    pub fn record(mut self, on: bool) -> crate::Builder {
        self.record.on = Some(on);
        self
    }

    /// The most events the recorder keeps (default [`record::DEFAULT_CAP`], a million). Once
    /// that many are kept, further events are only counted, in [`Record::dropped`]; taking the
    /// record empties the recorder again. This does not switch recording on by itself.
    pub fn record_capacity(mut self, events: usize) -> crate::Builder {
        self.record.cap = Some(events);
        self
    }
}

impl RecordConfig {
    /// The recorder for a runtime being built, if recording is on (reading `EVLOOP_RECORD` only
    /// when the builder left something open). `now` is the loop's clock at build time.
    pub(crate) fn recording(self, now: Instant, virtual_clock: bool) -> Option<Box<Recording>> {
        let env = match (self.on, self.cap) {
            (Some(false), _) | (Some(true), Some(_)) => EnvSetting::Off,
            _ => {
                let value = std::env::var(record::ENV_VAR).ok();
                record::parse_env(value.as_deref()).unwrap_or_else(|error| {
                    log::warn!(target: "evloop", "{error}");
                    EnvSetting::Off
                })
            }
        };
        let (env_on, env_cap) = match env {
            EnvSetting::Off => (false, None),
            EnvSetting::On { cap } => (true, cap),
        };
        if !self.on.unwrap_or(env_on) {
            return None;
        }
        let cap = self.cap.or(env_cap).unwrap_or(record::DEFAULT_CAP);
        Some(Box::new(Recording {
            store: RefCell::new(Recorder::new(cap, virtual_clock)),
            origin: now,
            origin_ns: record::monotonic_ns(),
            virtual_clock,
            last: Cell::new(0),
        }))
    }
}

impl crate::Runtime {
    /// Everything recorded since recording started or since the last call, as a [`Record`];
    /// `None` when recording is off (see [`Builder::record`](crate::Builder::record)). Recording goes on afterwards, into
    /// an empty recorder (the events' memory leaves with the record).
    ///
    /// # Examples
    /// ```
    /// let runtime = evloop::Runtime::builder().virtual_clock().record(true).build()?;
    /// runtime.block_on(evloop::time::sleep(std::time::Duration::from_millis(10)));
    /// let record = runtime.take_record().unwrap();
    /// assert_eq!(record.dropped, 0);
    /// assert!(record.events.iter().any(|e| matches!(e.what, evloop::record::What::ClockJump { to: 10_000_000 })));
    /// assert!(evloop::Runtime::new()?.take_record().is_none() || std::env::var("EVLOOP_RECORD").is_ok());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn take_record(&self) -> Option<Record> {
        self.core.take_record()
    }

    /// Whether this runtime records (decided when it was built).
    pub fn is_recording(&self) -> bool {
        self.core.recorder.is_some()
    }
}

/// Nanoseconds in `duration`, saturating (584 years fit). Whole seconds and the rest apart, in
/// `u64`: `Duration::as_nanos` is a 128-bit number.
#[inline]
fn nanos(duration: Duration) -> u64 {
    duration
        .as_secs()
        .saturating_mul(1_000_000_000)
        .saturating_add(u64::from(duration.subsec_nanos()))
}

impl Core {
    /// See [`Runtime::take_record`](crate::Runtime::take_record).
    pub(crate) fn take_record(&self) -> Option<Record> {
        self.recorder
            .as_ref()
            .map(|recording| recording.store.borrow_mut().take())
    }

    /// `None` when not recording; otherwise whether the record's clock is virtual (a blocking
    /// job then reads no real time).
    pub(crate) fn record_clock_is_virtual(&self) -> Option<bool> {
        self.recorder.as_ref().map(|recording| recording.virtual_clock)
    }

    /// Reads the loop's clock now, as the record counts time, and keeps it for the events
    /// that follow. On the real clock that is the recorder's own read of the same clock
    /// (`record/clock.rs`: a fifth of the instructions of `Instant::now()` and the
    /// subtraction).
    #[inline]
    fn read_clock(&self, recording: &Recording) -> u64 {
        let at = self.clock_now(recording);
        recording.last.set(at);
        at
    }

    /// The loop's clock now, in the record's nanoseconds.
    #[inline]
    fn clock_now(&self, recording: &Recording) -> u64 {
        if recording.virtual_clock {
            let now = self.timers.borrow().now();
            nanos(now.saturating_duration_since(recording.origin))
        } else {
            record::monotonic_ns().saturating_sub(recording.origin_ns)
        }
    }

    /// The time for an event that does not read the real clock itself (see the module docs).
    #[inline]
    fn stamp(&self, recording: &Recording) -> u64 {
        if recording.virtual_clock {
            self.read_clock(recording)
        } else {
            recording.last.get()
        }
    }

    /// The loop is entered (`block_on`, `run_ready`): time may have passed outside it.
    #[cold]
    #[inline(never)]
    pub(crate) fn record_entry(&self) {
        if let Some(recording) = &self.recorder {
            self.read_clock(recording);
        }
    }

    /// Records the entry that `make` packs from the time now. A no-op when recording is off
    /// (callers check first). Inlined into the out-of-line hooks below, so the entry is built
    /// where it is stored.
    #[inline]
    fn record(&self, make: impl FnOnce(u64) -> Entry) {
        if let Some(recording) = &self.recorder {
            let at = self.stamp(recording);
            recording.store.borrow_mut().push(make(at));
        }
    }

    /// A turn begins.
    #[cold]
    #[inline(never)]
    pub(crate) fn record_turn(&self) {
        if let Some(recording) = &self.recorder {
            let at = self.stamp(recording);
            let mut store = recording.store.borrow_mut();
            let number = store.next_turn();
            store.push(Entry::turn(at, number));
        }
    }

    /// The virtual clock jumped to the next deadline; it reads the new time now.
    #[cold]
    #[inline(never)]
    pub(crate) fn record_clock_jump(&self) {
        if let Some(recording) = &self.recorder {
            let to = self.read_clock(recording);
            recording.store.borrow_mut().push(Entry::clock_jump(to, to));
        }
    }

    /// One advance of the wheel fired `count` timers.
    #[cold]
    #[inline(never)]
    pub(crate) fn record_timers_fired(&self, count: usize) {
        let count = u32::try_from(count).unwrap_or(u32::MAX);
        self.record(|at| Entry::timers_fired(at, count));
    }

    /// A task was spawned (by the task running now, if any), with the name it was given.
    #[cold]
    #[inline(never)]
    pub(crate) fn record_spawn(&self, task: TaskId, name: Option<Rc<str>>) {
        let Some(recording) = &self.recorder else { return };
        let by = self.sched.current();
        let at = self.stamp(recording);
        let mut store = recording.store.borrow_mut();
        let name = store.name(name);
        store.push(Entry::spawn(at, task, name, by));
    }

    /// A task was queued, for the cause the scheduler holds now.
    #[cold]
    #[inline(never)]
    pub(crate) fn record_wake(&self, task: TaskId) {
        let cause = match self.sched.cause() {
            Cause::Spawn => WakeCause::Spawn,
            Cause::Task(by) => WakeCause::Task(by),
            Cause::Callback => WakeCause::Callback,
            Cause::Timer => WakeCause::Timer,
            Cause::Io { source, direction } => WakeCause::Io {
                source: source.number(),
                direction: match direction {
                    crate::reactor::Direction::Read => Direction::Read,
                    crate::reactor::Direction::Write => Direction::Write,
                },
            },
            Cause::Remote => WakeCause::Remote,
        };
        if let Some(recording) = &self.recorder {
            let at = self.stamp(recording);
            recording.store.borrow_mut().push_wake(Entry::wake(at, task, cause));
        }
    }

    /// A task ended, `how`.
    #[cold]
    #[inline(never)]
    pub(crate) fn record_end(&self, task: TaskId, how: TaskEnd) {
        self.record(|at| Entry::end(at, task, how));
    }

    /// A runnable is about to run: records its `Poll`, skipping a task or callback that is
    /// already gone (nothing runs then).
    #[inline]
    pub(crate) fn record_poll_start(&self, what: Runnable) {
        let Some(recording) = &self.recorder else { return };
        let subject = match what {
            Runnable::Main => Subject::Main,
            Runnable::Task(id) if self.sched.tasks.borrow().contains(id.key()) => Subject::Task(id),
            Runnable::Callback(id) if self.callbacks.borrow().is_pending(id) => Subject::Callback(id.number()),
            Runnable::Task(_) | Runnable::Callback(_) => return,
        };
        let at = self.stamp(recording);
        recording.store.borrow_mut().begin_poll(Entry::poll(at, subject));
    }

    /// The runnable whose poll [`record_poll_start`](Self::record_poll_start) recorded ended:
    /// on the real clock, the one clock read of a poll.
    #[inline]
    pub(crate) fn record_poll_end(&self) {
        if let Some(recording) = &self.recorder
            && !recording.virtual_clock
        {
            let end = self.read_clock(recording);
            recording.store.borrow_mut().end_poll(end);
        }
    }

    /// About to call `epoll_wait`: reads the clock (recording only). Out of line, as the
    /// other hooks, so that `check_events` keeps its shape when recording is off.
    #[cold]
    #[inline(never)]
    pub(crate) fn record_io_wait_start(&self) -> u64 {
        self.recorder.as_ref().map_or(0, |recording| self.read_clock(recording))
    }

    /// `epoll_wait`, called at `started` with `timeout`, returned `events` events.
    #[cold]
    #[inline(never)]
    pub(crate) fn record_io_wait(&self, timeout: Option<Duration>, events: usize, started: u64) {
        let Some(recording) = &self.recorder else { return };
        let took = self.read_clock(recording).saturating_sub(started);
        let events = u32::try_from(events).unwrap_or(u32::MAX);
        let entry = Entry::io_wait(started, timeout.map(nanos), events, took);
        recording.store.borrow_mut().push(entry);
    }

    /// A blocking job's result reached the loop: it ran on pool thread `thread`, from
    /// `started` (real time; `None` on a virtual clock) for `took`, for the task running now.
    /// Placed in the record at the time it started.
    #[cold]
    #[inline(never)]
    pub(crate) fn record_blocking(&self, thread: u32, started: Option<Instant>, took: Duration) {
        let Some(recording) = &self.recorder else { return };
        let task = self.sched.current();
        match started {
            Some(started) => {
                // How long ago it started, on std's clock, back from now on the record's.
                let ago = nanos(started.elapsed());
                let at = self.clock_now(recording).saturating_sub(ago);
                let entry = Entry::blocking(at, thread, nanos(took), task);
                recording.store.borrow_mut().insert_in_time(entry);
            }
            None => self.record(|at| Entry::blocking(at, thread, 0, task)),
        }
    }
}

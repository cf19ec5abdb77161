//! The schedule drawn from a record: one row per task, with what state it was in when, and the
//! wakes between rows. The three pictures (`chrome.rs`, `svg.rs`, `gantt.rs`) read this, not the
//! raw events, so that they all tell the same story.
//!
//! A task is in one of three states in the pictures, as in asyncio's and tokio's own
//! descriptions of a task: **running** (being polled), **ready** (woken, queued, waiting for its
//! turn: the time from the wake to the next poll; a long one is a task starved by others) and
//! **parked** (neither: waiting for a timer, a socket, another task). Walking the record:
//!
//! ```text
//!   Spawn ──► ready ──(Poll)──► running ──► parked ──(Wake)──► ready ... ──(End)──► |
//! ```
//!
//! **The record's order.** A `Poll` event is recorded at the poll's start (its `took` filled in
//! when it returns), so what a task does while it is polled (wake others, spawn) comes *after*
//! its `Poll` in the record, and before the next poll or `epoll_wait`. The wakes and spawns in
//! that stretch are drawn inside the poll's slice and their arrows start at its row.

use std::collections::BTreeMap;

use super::axis::Axis;
use super::{Event, Record, Subject, TaskEnd, WakeCause, What};
use crate::TaskId;

/// Who a row is about: the `block_on` future or a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Who {
    /// The future given to `block_on` (not a task, but it runs like one).
    Main,
    /// A task.
    Task(TaskId),
}

/// A stretch of one state on a row, in axis units (and the loop's times, for the Chrome trace).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Span {
    /// Where it starts and ends, in units.
    pub(crate) x0: f64,
    pub(crate) x1: f64,
    /// When it starts and ends, in nanoseconds on the loop's clock.
    pub(crate) t0: u64,
    pub(crate) t1: u64,
}

/// One row: a task (or the `block_on` future) from its first sight to its end.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    /// Whose row.
    pub(crate) who: Who,
    /// Its name, if it was spawned with one (and the record saw the spawn).
    pub(crate) name: Option<String>,
    /// Where the row's life starts (its spawn, or where the record first saw it).
    pub(crate) born: f64,
    /// Its polls, in order.
    pub(crate) running: Vec<Span>,
    /// Its waits in the ready queue, from a wake to the next poll.
    pub(crate) ready: Vec<Span>,
    /// Where and how it ended, if it did while recording.
    pub(crate) end: Option<(f64, u64, TaskEnd)>,
}

/// Where a wake arrow starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// The loop itself (timers, I/O, other threads, callbacks).
    Loop,
    /// The row at this index (the task or `block_on` future whose poll did the waking).
    Row(usize),
}

/// A wake: from whoever woke, to the woken task's next poll.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Arrow {
    /// Where it starts: the waker's row, at the moment of the wake.
    pub(crate) from: Origin,
    pub(crate) x0: f64,
    pub(crate) t0: u64,
    /// Where it ends: the woken row, at the start of its next poll.
    pub(crate) to: usize,
    pub(crate) x1: f64,
    pub(crate) t1: u64,
    /// Why.
    pub(crate) cause: WakeCause,
}

/// Something drawn on the loop's row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum LoopMark {
    /// An `epoll_wait`: its span, the timeout it was given and how many events came back.
    Wait {
        span: Span,
        timeout: Option<u64>,
        events: u32,
    },
    /// A callback ran (callbacks run on the loop, not in a task).
    Callback { span: Span, number: u64 },
    /// A turn began.
    Turn { x: f64, t: u64, number: u64 },
    /// Timers fired.
    Timers { x: f64, t: u64, count: u32 },
    /// The virtual clock jumped to `t`.
    Jump { x: f64, t: u64 },
}

/// The schedule of a record, laid out on one axis.
#[derive(Debug, Clone)]
pub(crate) struct Schedule {
    /// The rows, the `block_on` future first (if it was polled), then tasks in the order the
    /// record first mentions them.
    pub(crate) rows: Vec<Row>,
    /// The loop's own row.
    pub(crate) loop_marks: Vec<LoopMark>,
    /// Each pool thread's jobs (by thread number, so in a fixed order): the span and the task
    /// that waited for it.
    pub(crate) pool: BTreeMap<u32, Vec<(Span, Option<TaskId>)>>,
    /// Every wake that led to a poll.
    pub(crate) arrows: Vec<Arrow>,
    /// The axis everything is laid out on.
    pub(crate) axis: Axis,
}

/// Where each row stands while the walk goes on.
#[derive(Debug, Clone, Copy)]
enum State {
    Parked,
    /// Woken: by whom, where and when (the ready stretch starts there).
    Ready {
        from: Origin,
        x: f64,
        t: u64,
        cause: WakeCause,
    },
    Ended,
}

/// The poll under way while the walk reads what it did.
#[derive(Debug, Clone, Copy)]
struct Current {
    /// Its row, or `None` for a callback (which runs on the loop's row).
    row: Option<usize>,
    span: Span,
}

impl Current {
    /// Where, inside the poll's slice, something at time `at` happened: by time if the poll
    /// took any, else in the middle (a virtual-clock poll has no inside to measure).
    fn x_at(&self, at: u64) -> f64 {
        let Span { x0, x1, t0, t1 } = self.span;
        if t1 > t0 {
            x0 + (x1 - x0) * (at.clamp(t0, t1) - t0) as f64 / (t1 - t0) as f64
        } else {
            (x0 + x1) / 2.0
        }
    }
}

impl Schedule {
    /// Walks `record` once, in order, and lays it out.
    pub(crate) fn of(record: &Record) -> Schedule {
        let mut walk = Walk {
            schedule: Schedule {
                rows: Vec::new(),
                loop_marks: Vec::new(),
                pool: BTreeMap::new(),
                arrows: Vec::new(),
                axis: Axis::new(record.events.first().map_or(0, |e| e.at)),
            },
            states: Vec::new(),
            current: None,
            jobs: Vec::new(),
        };
        for event in &record.events {
            walk.step(event);
        }
        walk.finish()
    }

    /// The number of task rows (the `block_on` future's row not counted).
    pub(crate) fn tasks(&self) -> usize {
        self.rows.iter().filter(|row| matches!(row.who, Who::Task(_))).count()
    }
}

/// The walk's working state.
struct Walk {
    schedule: Schedule,
    /// Each row's state, by row index.
    states: Vec<State>,
    current: Option<Current>,
    /// Pool jobs, placed once the whole axis is known (they do not move the cursor).
    jobs: Vec<(u32, u64, u64, Option<TaskId>)>,
}

impl Walk {
    /// The index of `who`'s row, made on first sight at `x`.
    fn row(&mut self, who: Who, x: f64) -> usize {
        if let Some(i) = self.schedule.rows.iter().position(|row| row.who == who) {
            return i;
        }
        let row = Row {
            who,
            name: None,
            born: x,
            running: Vec::new(),
            ready: Vec::new(),
            end: None,
        };
        // The `block_on` future's row goes first, wherever it is first seen.
        let i = if who == Who::Main { 0 } else { self.schedule.rows.len() };
        self.schedule.rows.insert(i, row);
        self.states.insert(i, State::Parked);
        if i == 0 && self.schedule.rows.len() > 1 {
            self.shift_rows_after_main();
        }
        i
    }

    /// Inserting the `block_on` row at 0 moves every other row down one: fix what points at them.
    fn shift_rows_after_main(&mut self) {
        let bump = |from: &mut Origin| {
            if let Origin::Row(i) = from {
                *i += 1;
            }
        };
        for arrow in &mut self.schedule.arrows {
            bump(&mut arrow.from);
            arrow.to += 1;
        }
        for state in &mut self.states {
            if let State::Ready { from, .. } = state {
                bump(from);
            }
        }
        if let Some(Current { row: Some(i), .. }) = &mut self.current {
            *i += 1;
        }
    }

    fn step(&mut self, event: &Event) {
        let at = event.at;
        // A pool job is reported late, and the recorder files it by its time, so it can land
        // inside a poll's stretch: it changes nothing there, and is placed once the axis is done.
        if let What::Blocking { thread, took, task } = event.what {
            self.jobs.push((thread, at, took, task));
            return;
        }
        // Only what a poll itself does (wakes, spawns, ends) belongs inside its slice.
        let inside = matches!(event.what, What::Wake { .. } | What::Spawn { .. } | What::End { .. });
        if !inside || self.current.is_some_and(|c| at > c.span.t1) {
            self.current = None;
        }
        let x = match self.current {
            Some(current) => current.x_at(at),
            None => self.schedule.axis.reach(at),
        };
        match &event.what {
            What::Turn { number } => self.schedule.loop_marks.push(LoopMark::Turn {
                x,
                t: at,
                number: *number,
            }),
            What::Spawn { task, name, .. } => {
                let i = self.row(Who::Task(*task), x);
                if self.schedule.rows[i].name.is_none() {
                    self.schedule.rows[i].name.clone_from(name);
                }
                // Spawning queues the task: it is ready from here (a `Wake` for the same reason,
                // if the recorder adds one, changes nothing).
                self.wake(*task, WakeCause::Spawn, x, at);
            }
            What::Poll { subject, took } => self.poll(*subject, at, *took),
            What::Wake { task, cause } => self.wake(*task, *cause, x, at),
            What::IoWait { timeout, events, took } => {
                let span = self.occupy(at, *took);
                let (timeout, events) = (*timeout, *events);
                self.schedule.loop_marks.push(LoopMark::Wait { span, timeout, events });
            }
            What::TimersFired { count } => self.schedule.loop_marks.push(LoopMark::Timers {
                x,
                t: at,
                count: *count,
            }),
            What::ClockJump { to } => self.schedule.loop_marks.push(LoopMark::Jump { x, t: *to }),
            What::Blocking { .. } => {}
            What::End { task, how } => {
                let i = self.row(Who::Task(*task), x);
                // A task ends as its last poll returns: draw the end after that poll.
                let (x, at) = match self.current {
                    Some(c) if c.row == Some(i) => (c.span.x1, c.span.t1),
                    _ => (x, at),
                };
                if let State::Ready { x: since, t: t0, .. } = self.states[i] {
                    self.schedule.rows[i].ready.push(Span {
                        x0: since,
                        x1: x,
                        t0,
                        t1: at,
                    });
                }
                self.states[i] = State::Ended;
                self.schedule.rows[i].end.get_or_insert((x, at, *how));
            }
        }
    }

    fn occupy(&mut self, at: u64, took: u64) -> Span {
        let (x0, x1) = self.schedule.axis.occupy(at, took);
        Span {
            x0,
            x1,
            t0: at,
            t1: at.saturating_add(took),
        }
    }

    fn poll(&mut self, subject: Subject, at: u64, took: u64) {
        let span = self.occupy(at, took);
        let who = match subject {
            Subject::Task(id) => Who::Task(id),
            Subject::Main => Who::Main,
            Subject::Callback(number) => {
                self.schedule.loop_marks.push(LoopMark::Callback { span, number });
                self.current = Some(Current { row: None, span });
                return;
            }
        };
        let i = self.row(who, span.x0);
        if let State::Ready { from, x, t, cause } = self.states[i] {
            self.schedule.rows[i].ready.push(Span {
                x0: x,
                x1: span.x0,
                t0: t,
                t1: at,
            });
            self.schedule.arrows.push(Arrow {
                from,
                x0: x,
                t0: t,
                to: i,
                x1: span.x0,
                t1: at,
                cause,
            });
        }
        if !matches!(self.states[i], State::Ended) {
            self.states[i] = State::Parked;
        }
        self.schedule.rows[i].running.push(span);
        self.current = Some(Current { row: Some(i), span });
    }

    fn wake(&mut self, task: TaskId, cause: WakeCause, x: f64, at: u64) {
        let i = self.row(Who::Task(task), x);
        let from = match (cause, self.current) {
            (WakeCause::Task(waker), _) => Origin::Row(self.row(Who::Task(waker), x)),
            // Spawned, or woken by a callback or the `block_on` future: by whatever is running.
            (WakeCause::Spawn | WakeCause::Callback, Some(Current { row: Some(r), .. })) => Origin::Row(r),
            _ => Origin::Loop,
        };
        if matches!(self.states[i], State::Parked) {
            // Woken during its own poll: it is ready once that poll returns.
            let (x, at) = match self.current {
                Some(c) if c.row == Some(i) => (c.span.x1, c.span.t1),
                _ => (x, at),
            };
            self.states[i] = State::Ready { from, x, t: at, cause };
        }
    }

    fn finish(mut self) -> Schedule {
        let end = self.schedule.axis.width();
        let t_end = self.schedule.axis.end_time();
        for (i, state) in self.states.iter().enumerate() {
            if let State::Ready { x, t, .. } = *state {
                self.schedule.rows[i].ready.push(Span {
                    x0: x,
                    x1: end,
                    t0: t,
                    t1: t_end.max(t),
                });
            }
        }
        for &(thread, at, took, task) in &self.jobs {
            let t1 = at.saturating_add(took);
            let x0 = self.schedule.axis.x_of(at);
            let x1 = self.schedule.axis.x_of(t1).max(x0 + super::axis::MIN_UNITS);
            let span = Span { x0, x1, t0: at, t1 };
            self.schedule.pool.entry(thread).or_default().push((span, task));
        }
        self.schedule
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::sample::{id, many, say_after};

    #[test]
    fn rows_are_main_first_then_tasks_in_order_of_first_sight() {
        let schedule = Schedule::of(&say_after("world"));
        let whos: Vec<Who> = schedule.rows.iter().map(|row| row.who).collect();
        assert_eq!(whos, [Who::Main, Who::Task(id(1)), Who::Task(id(2))]);
        assert_eq!(schedule.tasks(), 2);
        assert_eq!(schedule.rows[2].name.as_deref(), Some("world"));
    }

    #[test]
    fn zero_length_polls_get_their_own_slots_in_the_order_they_ran() {
        let schedule = Schedule::of(&say_after("world"));
        let starts: Vec<f64> = schedule
            .rows
            .iter()
            .flat_map(|row| row.running.iter().map(|s| s.x0))
            .collect();
        let mut sorted = starts.clone();
        sorted.sort_by(f64::total_cmp);
        sorted.dedup();
        assert_eq!(sorted.len(), starts.len(), "no two polls share a slot");
        for row in &schedule.rows {
            assert!(row.running.iter().all(|s| s.x1 - s.x0 >= 1.0));
        }
    }

    #[test]
    fn a_wake_makes_a_ready_stretch_and_an_arrow_to_the_next_poll() {
        let schedule = Schedule::of(&say_after("world"));
        let hello = &schedule.rows[1];
        // Spawned in main's poll, ready until its first poll; woken by the timer, ready until
        // its second.
        assert_eq!(hello.ready.len(), 2);
        assert_eq!(hello.ready[0].x1, hello.running[0].x0);
        let causes: Vec<(Origin, usize, WakeCause)> = schedule.arrows.iter().map(|a| (a.from, a.to, a.cause)).collect();
        assert_eq!(
            causes[..3],
            [
                (Origin::Row(0), 1, WakeCause::Spawn),
                (Origin::Row(0), 2, WakeCause::Spawn),
                (Origin::Loop, 1, WakeCause::Timer)
            ]
        );
        assert!(
            causes.contains(&(Origin::Row(1), 2, WakeCause::Task(id(1)))),
            "hello's poll woke world"
        );
        assert_eq!(hello.end.map(|(_, _, how)| how), Some(TaskEnd::Returned));
    }

    #[test]
    fn the_loop_row_has_its_waits_callbacks_and_jumps_and_the_pool_its_jobs() {
        let schedule = Schedule::of(&say_after("world"));
        let waits = schedule
            .loop_marks
            .iter()
            .filter(|m| matches!(m, LoopMark::Wait { .. }))
            .count();
        assert_eq!(waits, 2);
        assert!(
            schedule
                .loop_marks
                .iter()
                .any(|m| matches!(m, LoopMark::Callback { number: 7, .. }))
        );
        assert!(
            schedule
                .loop_marks
                .iter()
                .any(|m| matches!(m, LoopMark::Jump { t: 1_000_000_000, .. }))
        );
        assert_eq!(schedule.pool[&0].len(), 1);
    }

    #[test]
    fn an_empty_record_lays_out_to_nothing() {
        let schedule = Schedule::of(&Record {
            virtual_clock: true,
            events: Vec::new(),
            dropped: 0,
            cap: 0,
        });
        assert!(schedule.rows.is_empty() && schedule.arrows.is_empty());
        assert_eq!(schedule.axis.width(), 0.0);
    }

    #[test]
    fn many_tasks_each_get_a_row() {
        assert_eq!(Schedule::of(&many(100, 0)).tasks(), 100);
    }
}

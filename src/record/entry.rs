//! The compact form of an event, as the recorder stores it while the loop runs.
//!
//! A public [`Event`] is made for reading: an enum with a variant per kind, options, a
//! spawned task's name as a `String`. Writing that for every poll and wake would cost what the
//! recorder must not (BENCHMARKS.md, "Recording": at most twice a yield's cost when on). So the
//! loop writes an [`Entry`] instead, 32 bytes of plain numbers, `Copy`, with nothing to drop: a
//! time, two 64-bit words and a 32-bit one whose meaning the kind byte gives, and a detail byte
//! (which subject polled, which wake cause, how a task ended, which options are present). A
//! name goes into a side list of shared strings, and the entry keeps its place there. The
//! entries become [`Event`]s only when the record is taken, off the loop's hot path.
//!
//! Packing is lossless: [`Entry::unpack`] gives back the very event that was packed (a unit
//! test packs every kind of the sample records and compares).

use std::rc::Rc;

use crate::TaskId;
use crate::record::{Direction, Event, Subject, TaskEnd, WakeCause, What};
use crate::slots::Key;

/// One recorded event, packed. `at` is as in [`Event::at`]; the other fields by kind:
///
/// | kind          | `a`             | `b`                  | `c`            | `detail`             |
/// |---------------|-----------------|----------------------|----------------|----------------------|
/// | `Turn`        | number          |                      |                |                      |
/// | `Spawn`       | task            | spawner              | name's place+1 | spawner present      |
/// | `Poll`        | task / callback | took                 | folded turn    | subject, folds       |
/// | `Wake`        | task            | waker / I/O source   |                | cause                |
/// | `IoWait`      | timeout         | took                 | events         | timeout present      |
/// | `TimersFired` |                 |                      | count          |                      |
/// | `ClockJump`   | new time        |                      |                |                      |
/// | `Blocking`    | task            | took                 | thread         | task present         |
/// | `End`         | task            |                      |                | how                  |
///
/// Task ids are kept whole (`Key::to_bits`: slot and generation), so unpacking names the same
/// task even after its slot was reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry {
    /// When, in nanoseconds since the recording began (`Event::at`).
    pub(crate) at: u64,
    /// The first word (see the table).
    a: u64,
    /// The second word; a `Poll`'s duration, filled in when it ends (`set_took`).
    b: u64,
    /// The small number (see the table).
    c: u32,
    /// Which kind of event.
    kind: Kind,
    /// The kind's small choice (see the table and the `detail` constants).
    detail: u8,
}

/// The kinds of [`What`], one byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Turn,
    Spawn,
    Poll,
    Wake,
    IoWait,
    TimersFired,
    ClockJump,
    Blocking,
    End,
}

// `detail` of a Poll: what ran, in the low two bits, and two flags for the events folded in.
const POLL_TASK: u8 = 0;
const POLL_CALLBACK: u8 = 1;
const POLL_MAIN: u8 = 2;
/// The bits of a Poll's `detail` that say what ran.
const POLL_SUBJECT: u8 = 0b11;
/// A task's poll whose first event was the task waking itself (`yield_now`): the `Wake` is
/// folded into the `Poll` (see [`Entry::fold_self_wake`]).
const POLL_WOKE_ITSELF: u8 = 0b100;
/// A poll that was the first thing of its turn: the `Turn` is folded into the `Poll`, with its
/// number in `c` (see [`Entry::fold_poll_into_turn`]).
const POLL_OPENS_TURN: u8 = 0b1000;

// `detail` of a Wake: its cause.
const WAKE_SPAWN: u8 = 0;
const WAKE_TASK: u8 = 1;
const WAKE_CALLBACK: u8 = 2;
const WAKE_TIMER: u8 = 3;
const WAKE_IO_READ: u8 = 4;
const WAKE_IO_WRITE: u8 = 5;
const WAKE_REMOTE: u8 = 6;

// `detail` of an End: how.
const END_RETURNED: u8 = 0;
const END_CANCELLED: u8 = 1;
const END_PANICKED: u8 = 2;

/// A task id as one word.
fn bits(task: TaskId) -> u64 {
    task.key().to_bits()
}

/// The task id that [`bits`] packed.
fn task(bits: u64) -> TaskId {
    TaskId::new(Key::from_bits(bits))
}

impl Entry {
    /// An entry of `kind` with every other field zero.
    #[inline]
    const fn blank(at: u64, kind: Kind) -> Entry {
        Entry {
            at,
            a: 0,
            b: 0,
            c: 0,
            kind,
            detail: 0,
        }
    }

    /// `What::Turn`.
    #[inline]
    pub(crate) const fn turn(at: u64, number: u64) -> Entry {
        Entry {
            a: number,
            ..Entry::blank(at, Kind::Turn)
        }
    }

    /// `What::Spawn`; `name` is the name's place in the recorder's list of names plus one (0:
    /// no name).
    #[inline]
    pub(crate) fn spawn(at: u64, spawned: TaskId, name: u32, by: Option<TaskId>) -> Entry {
        Entry {
            a: bits(spawned),
            b: by.map_or(0, bits),
            c: name,
            detail: u8::from(by.is_some()),
            ..Entry::blank(at, Kind::Spawn)
        }
    }

    /// `What::Poll`, with a duration of 0 until [`set_took`](Self::set_took).
    #[inline]
    pub(crate) fn poll(at: u64, subject: Subject) -> Entry {
        let (a, detail) = match subject {
            Subject::Task(id) => (bits(id), POLL_TASK),
            Subject::Callback(number) => (number, POLL_CALLBACK),
            Subject::Main => (0, POLL_MAIN),
        };
        Entry {
            a,
            detail,
            ..Entry::blank(at, Kind::Poll)
        }
    }

    /// A `Poll` ended at `end`: its duration is the time since it began. Other kinds have no
    /// duration to fill in and stay as they are.
    #[inline]
    pub(crate) fn set_took(&mut self, end: u64) {
        if self.kind == Kind::Poll {
            self.b = end.saturating_sub(self.at);
        }
    }

    /// Turns this `Turn` entry into `poll` with the turn folded in, if the poll is the first
    /// thing of the turn, at the same time, and the turn's number counts from `base` by less
    /// than 2^32 (it is kept in `c`; `base` is the recorder's first turn since its last take,
    /// so only a recorder that keeps over four billion events between takes stops folding).
    /// Returns whether it did; the entry then unpacks into the turn and the poll, in that order
    /// ([`folded_turn`](Self::folded_turn)), so nothing is lost and a turn that polls writes
    /// one entry, not two.
    #[inline]
    pub(crate) fn fold_poll_into_turn(&mut self, poll: Entry, base: u64) -> bool {
        if self.kind != Kind::Turn || poll.kind != Kind::Poll || poll.at != self.at {
            return false;
        }
        let Some(Ok(number)) = self.a.checked_sub(base).map(u32::try_from) else {
            return false;
        };
        *self = Entry {
            c: number,
            detail: poll.detail | POLL_OPENS_TURN,
            ..poll
        };
        true
    }

    /// The turn that [`fold_poll_into_turn`](Self::fold_poll_into_turn) folded into this entry,
    /// if any (`base` as given there); it comes right before the entry's own event.
    pub(crate) fn folded_turn(&self, base: u64) -> Option<Event> {
        (self.kind == Kind::Poll && self.detail & POLL_OPENS_TURN != 0).then(|| Event {
            at: self.at,
            what: What::Turn {
                number: base + u64::from(self.c),
            },
        })
    }

    /// Folds `wake` into this entry if it is this task's poll waking the task itself, at the
    /// same time, with nothing recorded between them: what `yield_now` does, as the first thing
    /// of its poll. Returns whether it did; the two unpack into the same two events, in the same
    /// order, so nothing is lost, and a yield writes one entry for its poll and its wake.
    #[inline]
    pub(crate) fn fold_self_wake(&mut self, wake: &Entry) -> bool {
        let folds = self.kind == Kind::Poll
            && self.detail & (POLL_SUBJECT | POLL_WOKE_ITSELF) == POLL_TASK
            && wake.kind == Kind::Wake
            && wake.detail == WAKE_TASK
            && wake.a == self.a
            && wake.b == self.a
            && wake.at == self.at;
        if folds {
            self.detail |= POLL_WOKE_ITSELF;
        }
        folds
    }

    /// The wake that [`fold_self_wake`](Self::fold_self_wake) folded into this entry, if any;
    /// it comes right after the entry's own event.
    pub(crate) fn folded_wake(&self) -> Option<Event> {
        (self.kind == Kind::Poll && self.detail & POLL_WOKE_ITSELF != 0).then(|| Event {
            at: self.at,
            what: What::Wake {
                task: task(self.a),
                cause: WakeCause::Task(task(self.a)),
            },
        })
    }

    /// `What::Wake`.
    #[inline]
    pub(crate) fn wake(at: u64, woken: TaskId, cause: WakeCause) -> Entry {
        let (b, detail) = match cause {
            WakeCause::Spawn => (0, WAKE_SPAWN),
            WakeCause::Task(by) => (bits(by), WAKE_TASK),
            WakeCause::Callback => (0, WAKE_CALLBACK),
            WakeCause::Timer => (0, WAKE_TIMER),
            WakeCause::Io {
                source,
                direction: Direction::Read,
            } => (source, WAKE_IO_READ),
            WakeCause::Io {
                source,
                direction: Direction::Write,
            } => (source, WAKE_IO_WRITE),
            WakeCause::Remote => (0, WAKE_REMOTE),
        };
        Entry {
            a: bits(woken),
            b,
            detail,
            ..Entry::blank(at, Kind::Wake)
        }
    }

    /// `What::IoWait`.
    #[inline]
    pub(crate) fn io_wait(at: u64, timeout: Option<u64>, events: u32, took: u64) -> Entry {
        Entry {
            a: timeout.unwrap_or(0),
            b: took,
            c: events,
            detail: u8::from(timeout.is_some()),
            ..Entry::blank(at, Kind::IoWait)
        }
    }

    /// `What::TimersFired`.
    #[inline]
    pub(crate) const fn timers_fired(at: u64, count: u32) -> Entry {
        Entry {
            c: count,
            ..Entry::blank(at, Kind::TimersFired)
        }
    }

    /// `What::ClockJump`.
    #[inline]
    pub(crate) const fn clock_jump(at: u64, to: u64) -> Entry {
        Entry {
            a: to,
            ..Entry::blank(at, Kind::ClockJump)
        }
    }

    /// `What::Blocking`.
    #[inline]
    pub(crate) fn blocking(at: u64, thread: u32, took: u64, waiting: Option<TaskId>) -> Entry {
        Entry {
            a: waiting.map_or(0, bits),
            b: took,
            c: thread,
            detail: u8::from(waiting.is_some()),
            ..Entry::blank(at, Kind::Blocking)
        }
    }

    /// `What::End`.
    #[inline]
    pub(crate) fn end(at: u64, ended: TaskId, how: TaskEnd) -> Entry {
        let detail = match how {
            TaskEnd::Returned => END_RETURNED,
            TaskEnd::Cancelled => END_CANCELLED,
            TaskEnd::Panicked => END_PANICKED,
        };
        Entry {
            a: bits(ended),
            detail,
            ..Entry::blank(at, Kind::End)
        }
    }

    /// The event this entry packs; `names` is the recorder's list of spawned tasks' names.
    pub(crate) fn unpack(&self, names: &[Rc<str>]) -> Event {
        let (a, b, c, detail) = (self.a, self.b, self.c, self.detail);
        let what = match self.kind {
            Kind::Turn => What::Turn { number: a },
            Kind::Spawn => What::Spawn {
                task: task(a),
                name: (c as usize)
                    .checked_sub(1)
                    .and_then(|place| names.get(place))
                    .map(|name| name.to_string()),
                by: (detail != 0).then(|| task(b)),
            },
            Kind::Poll => What::Poll {
                subject: match detail & POLL_SUBJECT {
                    POLL_TASK => Subject::Task(task(a)),
                    POLL_CALLBACK => Subject::Callback(a),
                    _ => Subject::Main,
                },
                took: b,
            },
            Kind::Wake => What::Wake {
                task: task(a),
                cause: match detail {
                    WAKE_SPAWN => WakeCause::Spawn,
                    WAKE_TASK => WakeCause::Task(task(b)),
                    WAKE_CALLBACK => WakeCause::Callback,
                    WAKE_TIMER => WakeCause::Timer,
                    WAKE_IO_READ => WakeCause::Io {
                        source: b,
                        direction: Direction::Read,
                    },
                    WAKE_IO_WRITE => WakeCause::Io {
                        source: b,
                        direction: Direction::Write,
                    },
                    _ => WakeCause::Remote,
                },
            },
            Kind::IoWait => What::IoWait {
                timeout: (detail != 0).then_some(a),
                events: c,
                took: b,
            },
            Kind::TimersFired => What::TimersFired { count: c },
            Kind::ClockJump => What::ClockJump { to: a },
            Kind::Blocking => What::Blocking {
                thread: c,
                took: b,
                task: (detail != 0).then(|| task(a)),
            },
            Kind::End => What::End {
                task: task(a),
                how: match detail {
                    END_RETURNED => TaskEnd::Returned,
                    END_CANCELLED => TaskEnd::Cancelled,
                    _ => TaskEnd::Panicked,
                },
            },
        };
        Event { at: self.at, what }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::sample;

    /// Packs `event` as the loop's hooks would, adding a name to `names` if it has one.
    fn pack(event: &Event, names: &mut Vec<Rc<str>>) -> Entry {
        let at = event.at;
        match &event.what {
            What::Turn { number } => Entry::turn(at, *number),
            What::Spawn { task, name, by } => {
                let place = match name {
                    Some(name) => {
                        names.push(name.as_str().into());
                        u32::try_from(names.len()).expect("few names in a test")
                    }
                    None => 0,
                };
                Entry::spawn(at, *task, place, *by)
            }
            What::Poll { subject, took } => {
                let mut entry = Entry::poll(at, *subject);
                entry.set_took(at + took);
                entry
            }
            What::Wake { task, cause } => Entry::wake(at, *task, *cause),
            What::IoWait { timeout, events, took } => Entry::io_wait(at, *timeout, *events, *took),
            What::TimersFired { count } => Entry::timers_fired(at, *count),
            What::ClockJump { to } => Entry::clock_jump(at, *to),
            What::Blocking { thread, took, task } => Entry::blocking(at, *thread, *took, *task),
            What::End { task, how } => Entry::end(at, *task, *how),
        }
    }

    #[test]
    fn every_kind_of_event_unpacks_to_what_was_packed() {
        let mut events = sample::say_after("world").events;
        events.extend(sample::many(3, 0).events);
        // The corners the samples do not reach: a spawner, a callback poll with a duration,
        // a pool job nobody waits for, a panic, a timeout of u64::MAX, a write wake.
        let (t, u) = (sample::id(7), task((u64::from(u32::MAX) << 32) | 3));
        for what in [
            What::Spawn {
                task: u,
                name: None,
                by: Some(t),
            },
            What::Poll {
                subject: Subject::Callback(u64::MAX),
                took: 12,
            },
            What::Blocking {
                thread: u32::MAX,
                took: 5,
                task: None,
            },
            What::End {
                task: u,
                how: TaskEnd::Panicked,
            },
            What::IoWait {
                timeout: Some(u64::MAX),
                events: 2,
                took: 1,
            },
            What::Wake {
                task: t,
                cause: WakeCause::Io {
                    source: 9,
                    direction: Direction::Write,
                },
            },
        ] {
            events.push(Event { at: 77, what });
        }
        let mut names = Vec::new();
        let packed: Vec<Entry> = events.iter().map(|event| pack(event, &mut names)).collect();
        let unpacked: Vec<Event> = packed.iter().map(|entry| entry.unpack(&names)).collect();
        assert_eq!(unpacked, events);
    }

    #[test]
    fn a_task_waking_itself_first_thing_in_its_poll_folds_into_one_entry() {
        let (t, u) = (sample::id(1), sample::id(2));
        let mut poll = Entry::poll(5, Subject::Task(t));
        // Not folded: another task's wake, a wake by another, a later wake, a timer's wake,
        // a callback's poll.
        assert!(!poll.fold_self_wake(&Entry::wake(5, u, WakeCause::Task(t))));
        assert!(!poll.fold_self_wake(&Entry::wake(5, t, WakeCause::Task(u))));
        assert!(!poll.fold_self_wake(&Entry::wake(6, t, WakeCause::Task(t))));
        assert!(!poll.fold_self_wake(&Entry::wake(5, t, WakeCause::Timer)));
        assert!(!Entry::poll(5, Subject::Callback(1)).fold_self_wake(&Entry::wake(5, t, WakeCause::Task(t))));
        assert_eq!(poll.folded_wake(), None);
        // Folded: it unpacks to the poll and then the wake, as if both had been written.
        let wake = Entry::wake(5, t, WakeCause::Task(t));
        assert!(poll.fold_self_wake(&wake));
        poll.set_took(9);
        assert_eq!(
            poll.unpack(&[]).what,
            What::Poll {
                subject: Subject::Task(t),
                took: 4
            }
        );
        assert_eq!(poll.folded_wake(), Some(wake.unpack(&[])));
        assert!(!poll.fold_self_wake(&wake), "one wake folds, not two");
    }

    #[test]
    fn a_poll_folds_into_its_turn_only_when_the_turn_number_fits() {
        let poll = Entry::poll(5, Subject::Main);
        let folds = |mut turn: Entry, base| turn.fold_poll_into_turn(poll, base).then_some(turn);
        // Folded: the turn and the poll come back, in that order, the number from the base.
        let folded = folds(Entry::turn(5, 7 + u64::from(u32::MAX)), 7).expect("folds");
        assert_eq!(
            folded.folded_turn(7).map(|event| event.what),
            Some(What::Turn {
                number: 7 + u64::from(u32::MAX)
            })
        );
        assert_eq!(folded.unpack(&[]), poll.unpack(&[]));
        assert_eq!(folded.folded_wake(), None);
        // Not folded: a number 2^32 past the base, or before it; another time; not a turn.
        assert_eq!(folds(Entry::turn(5, 1 << 32), 0), None);
        assert_eq!(folds(Entry::turn(5, 3), 4), None);
        assert_eq!(folds(Entry::turn(6, 3), 0), None);
        assert_eq!(folds(Entry::timers_fired(5, 1), 0), None);
        assert_eq!(Entry::poll(5, Subject::Main).folded_turn(0), None);
        // A folded turn still takes a self-wake, and a duration.
        let t = sample::id(3);
        let mut turn = Entry::turn(5, 0);
        assert!(turn.fold_poll_into_turn(Entry::poll(5, Subject::Task(t)), 0));
        assert!(turn.fold_self_wake(&Entry::wake(5, t, WakeCause::Task(t))));
        turn.set_took(6);
        assert_eq!(
            turn.folded_turn(0).map(|event| event.what),
            Some(What::Turn { number: 0 })
        );
        assert_eq!(
            turn.unpack(&[]).what,
            What::Poll {
                subject: Subject::Task(t),
                took: 1
            }
        );
        assert!(turn.folded_wake().is_some());
    }

    #[test]
    fn an_entry_is_half_a_cache_line() {
        assert_eq!(std::mem::size_of::<Entry>(), 32);
    }

    #[test]
    fn only_a_poll_takes_a_duration_when_it_ends() {
        let mut poll = Entry::poll(10, Subject::Main);
        poll.set_took(25);
        assert_eq!(
            poll.unpack(&[]).what,
            What::Poll {
                subject: Subject::Main,
                took: 15
            }
        );
        let mut turn = Entry::turn(10, 4);
        turn.set_took(25);
        assert_eq!(turn, Entry::turn(10, 4));
    }
}

//! Hand-built records for the renderers' unit tests: the record a small program would leave, so
//! the pictures can be tested without a loop.

use super::{Direction, Event, Record, Subject, TaskEnd, WakeCause, What};
use crate::TaskId;
use crate::slots::Key;

/// The task in slot `index`, generation 0 (printed `task#<index>.0`).
pub(crate) fn id(index: u64) -> TaskId {
    TaskId::new(Key::from_bits(index))
}

fn at(ns: u64, what: What) -> Event {
    Event { at: ns, what }
}

/// `say_after` on a virtual clock: main spawns two tasks that sleep 1 s and 2 s; the first wakes
/// main's join through a wake; a callback, an I/O wake and a pool job for the other kinds.
pub(crate) fn say_after(name_of_second: &str) -> Record {
    let (a, b) = (id(1), id(2));
    let s = 1_000_000_000;
    let events = vec![
        at(0, What::Turn { number: 0 }),
        at(
            0,
            What::Poll {
                subject: Subject::Main,
                took: 0,
            },
        ),
        at(
            0,
            What::Spawn {
                task: a,
                name: Some("hello".into()),
                by: None,
            },
        ),
        at(
            0,
            What::Wake {
                task: a,
                cause: WakeCause::Spawn,
            },
        ),
        at(
            0,
            What::Spawn {
                task: b,
                name: Some(name_of_second.into()),
                by: None,
            },
        ),
        at(
            0,
            What::Wake {
                task: b,
                cause: WakeCause::Spawn,
            },
        ),
        at(0, What::Turn { number: 1 }),
        at(
            0,
            What::Poll {
                subject: Subject::Task(a),
                took: 0,
            },
        ),
        at(
            0,
            What::Poll {
                subject: Subject::Task(b),
                took: 0,
            },
        ),
        at(
            0,
            What::Poll {
                subject: Subject::Callback(7),
                took: 0,
            },
        ),
        at(
            0,
            What::IoWait {
                timeout: Some(0),
                events: 0,
                took: 0,
            },
        ),
        at(0, What::ClockJump { to: s }),
        at(s, What::Turn { number: 2 }),
        at(s, What::TimersFired { count: 1 }),
        at(
            s,
            What::Wake {
                task: a,
                cause: WakeCause::Timer,
            },
        ),
        at(
            s,
            What::Poll {
                subject: Subject::Task(a),
                took: 0,
            },
        ),
        at(
            s,
            What::Wake {
                task: b,
                cause: WakeCause::Task(a),
            },
        ),
        at(
            s,
            What::End {
                task: a,
                how: TaskEnd::Returned,
            },
        ),
        at(
            s,
            What::Poll {
                subject: Subject::Task(b),
                took: 0,
            },
        ),
        at(
            s,
            What::Blocking {
                thread: 0,
                took: 0,
                task: Some(b),
            },
        ),
        at(
            s,
            What::IoWait {
                timeout: None,
                events: 1,
                took: 0,
            },
        ),
        at(
            s,
            What::Wake {
                task: b,
                cause: WakeCause::Io {
                    source: 3,
                    direction: Direction::Read,
                },
            },
        ),
        at(
            s,
            What::Wake {
                task: b,
                cause: WakeCause::Remote,
            },
        ),
        at(
            s,
            What::Poll {
                subject: Subject::Task(b),
                took: 0,
            },
        ),
        at(
            s,
            What::End {
                task: b,
                how: TaskEnd::Cancelled,
            },
        ),
        at(
            s,
            What::Poll {
                subject: Subject::Main,
                took: 0,
            },
        ),
    ];
    Record {
        virtual_clock: true,
        events,
        dropped: 0,
        cap: 1 << 20,
    }
}

/// `n` tasks on the real clock, each spawned, polled for 3 µs, woken by a timer 100 ms later and
/// polled again to its end; `dropped` events said to be lost.
pub(crate) fn many(n: u64, dropped: u64) -> Record {
    let mut events = vec![at(
        0,
        What::Poll {
            subject: Subject::Main,
            took: 5_000,
        },
    )];
    for i in 0..n {
        events.push(at(
            1_000 + i,
            What::Spawn {
                task: id(i),
                name: Some(format!("worker {i}")),
                by: None,
            },
        ));
        events.push(at(
            1_000 + i,
            What::Wake {
                task: id(i),
                cause: WakeCause::Spawn,
            },
        ));
    }
    let mut t = 10_000;
    for i in 0..n {
        events.push(at(
            t,
            What::Poll {
                subject: Subject::Task(id(i)),
                took: 3_000,
            },
        ));
        t += 3_500;
    }
    events.push(at(
        t,
        What::IoWait {
            timeout: Some(100_000_000),
            events: 0,
            took: 100_000_000,
        },
    ));
    t += 100_000_000;
    for i in 0..n {
        events.push(at(
            t,
            What::Wake {
                task: id(i),
                cause: WakeCause::Timer,
            },
        ));
    }
    for i in 0..n {
        events.push(at(
            t,
            What::Poll {
                subject: Subject::Task(id(i)),
                took: 2_000,
            },
        ));
        events.push(at(
            t + 1_000,
            What::End {
                task: id(i),
                how: TaskEnd::Returned,
            },
        ));
        t += 2_500;
    }
    Record {
        virtual_clock: false,
        events,
        dropped,
        cap: 1_000,
    }
}

//! The recorder: a bounded list of [`Event`]s that the loop appends to while recording is on.
//!
//! A flight recorder for the schedule. asyncio's debug mode (`PYTHONASYNCIODEBUG=1`) logs slow
//! callbacks; tokio's `tokio-console` streams task events to another process. evloop keeps the
//! events in memory instead, in the loop's own thread, and hands them over as a [`Record`] when
//! asked: no thread, no socket, no lock.
//!
//! This file is the store only: it knows nothing of the loop, the thread-local or the clock.
//! The loop (`runtime/record.rs`) decides when something happened and what time it is; the
//! store decides whether to keep it.
//!
//! **Bounded.** The recorder keeps at most `cap` events (default [`DEFAULT_CAP`], a million:
//! 32 bytes an event as stored, `entry.rs`, so 32 MB, and a second or so of a busy loop). Past
//! the cap it keeps counting what it did not keep, in [`Record::dropped`], so a record is never
//! silently short. Pushing an event allocates nothing beyond the `Vec`'s own doubling, and
//! copies no string (a spawned task's name is shared with the loop's table of names).
//!
//! **Switched on without a rebuild.** [`parse_env`] reads the `EVLOOP_RECORD` variable that
//! `Builder::build` looks up (`runtime/record.rs`), the way asyncio reads `PYTHONASYNCIODEBUG`.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::Rc;
use std::time::Instant;

use crate::record::Record;
use crate::record::entry::Entry;

/// How many events a recorder keeps unless told otherwise (`Builder::record_capacity`).
pub const DEFAULT_CAP: usize = 1_000_000;

/// The name of the environment variable that switches recording on (see [`parse_env`]).
pub const ENV_VAR: &str = "EVLOOP_RECORD";

/// A loop's recorder and the instant its times count from (the runtime's hooks,
/// `runtime/record.rs`, fill it; the `Core` holds one while recording).
#[derive(Debug)]
pub(crate) struct Recording {
    /// The events kept so far.
    pub(crate) store: RefCell<Recorder>,
    /// Time 0 of the record: the loop's clock when the runtime was built.
    pub(crate) origin: Instant,
    /// Real clock only: the same moment on the recorder's own clock (`clock.rs`), which the
    /// hooks read instead of `Instant::now()`.
    pub(crate) origin_ns: u64,
    /// Whether the loop's clock is virtual (then reading it is free, and done for every event).
    pub(crate) virtual_clock: bool,
    /// Real clock only: the time of the last clock read, which events inside a poll carry.
    pub(crate) last: Cell<u64>,
}

/// The loop's store of recorded events, packed (`entry.rs`).
#[derive(Debug)]
pub(crate) struct Recorder {
    /// What was kept, in the order it happened.
    entries: Vec<Entry>,
    /// The names of the spawned tasks that had one, in the order they were spawned; a `Spawn`
    /// entry keeps its name's place here. Shared with the loop's own table of names, so a
    /// named spawn copies no string.
    names: Vec<Rc<str>>,
    /// The most events kept at once; further pushes only count.
    cap: usize,
    /// Events kept (since the last `take`): the entries, and the wakes folded into them
    /// (`Entry::fold_self_wake`). The cap counts events, not entries.
    kept: usize,
    /// Events not kept because the recorder was full (since the last `take`).
    dropped: u64,
    /// Whether the loop's clock is virtual (times are then deterministic), for the `Record`.
    virtual_clock: bool,
    /// Turns counted so far, for `What::Turn` (never reset: turn numbers stay unique).
    turns: u64,
    /// The number of the first turn since the last `take`, which a turn folded into its first
    /// poll counts from (`Entry::fold_poll_into_turn`).
    turn_base: u64,
    /// Where the `Poll` of the poll running now sits in `entries`, so that its duration can be
    /// filled in when it ends; `usize::MAX` (a place no entry has) between polls, when the
    /// poll's event was dropped, and after a `take` (the event left with the record). One
    /// bounds check in `end_poll` then covers "no open poll" as well.
    open_poll: usize,
}

/// `Recorder::open_poll` when no poll is open.
const NO_POLL: usize = usize::MAX;

impl Recorder {
    /// An empty recorder that keeps at most `cap` events.
    pub(crate) fn new(cap: usize, virtual_clock: bool) -> Recorder {
        Recorder {
            entries: Vec::new(),
            names: Vec::new(),
            cap,
            kept: 0,
            dropped: 0,
            virtual_clock,
            turns: 0,
            turn_base: 0,
            open_poll: NO_POLL,
        }
    }

    /// Appends an event; returns where it went, or `None` if the recorder is full (the event is
    /// then counted as dropped).
    #[inline]
    pub(crate) fn push(&mut self, entry: Entry) -> Option<usize> {
        if self.kept >= self.cap {
            self.dropped += 1;
            return None;
        }
        self.kept += 1;
        let place = self.entries.len();
        self.entries.push(entry);
        Some(place)
    }

    /// Appends a `Wake`, folded into the poll running now when it is that task waking itself
    /// before anything else was recorded in the poll (`yield_now`; see
    /// `Entry::fold_self_wake`). With its turn folded into the poll as well (`begin_poll`), a
    /// yield writes one entry for its three events.
    #[inline]
    pub(crate) fn push_wake(&mut self, wake: Entry) {
        let last = self.entries.len().wrapping_sub(1);
        if self.open_poll == last
            && self.kept < self.cap
            && let Some(poll) = self.entries.get_mut(last)
            && poll.fold_self_wake(&wake)
        {
            self.kept += 1;
            return;
        }
        self.push(wake);
    }

    /// Keeps a spawned task's name and returns what a `Spawn` entry stores for it: its place in
    /// the list plus one, 0 for no name. A name is kept only while its event can be (a full
    /// recorder drops the event, so it keeps no name either).
    pub(crate) fn name(&mut self, name: Option<Rc<str>>) -> u32 {
        match name {
            Some(name) if self.kept < self.cap => {
                self.names.push(name);
                u32::try_from(self.names.len()).unwrap_or(0)
            }
            _ => 0,
        }
    }

    /// Adds an event that is reported late, after later events were already recorded (a
    /// blocking job, which started on another thread): it goes after every event at or before
    /// its time, so `at` never decreases along the record.
    pub(crate) fn insert_in_time(&mut self, entry: Entry) {
        if self.kept >= self.cap {
            self.dropped += 1;
            return;
        }
        self.kept += 1;
        let place = self.entries.partition_point(|kept| kept.at <= entry.at);
        if self.open_poll != NO_POLL && self.open_poll >= place {
            self.open_poll += 1;
        }
        self.entries.insert(place, entry);
    }

    /// Counts a new turn of the loop; returns its number (from 0).
    #[inline]
    pub(crate) fn next_turn(&mut self) -> u64 {
        let number = self.turns;
        self.turns += 1;
        number
    }

    /// A poll begins: its event is pushed now (so what happens during it follows it), with a
    /// duration of 0 that [`end_poll`](Self::end_poll) fills in. When it is the first thing of
    /// its turn, the turn's entry becomes the poll's (`Entry::fold_poll_into_turn`): a turn
    /// that polls one task, as a task that yields makes, writes one entry, not two.
    #[inline]
    pub(crate) fn begin_poll(&mut self, entry: Entry) {
        let last = self.entries.len().wrapping_sub(1);
        if self.kept < self.cap
            && let Some(turn) = self.entries.get_mut(last)
            && turn.fold_poll_into_turn(entry, self.turn_base)
        {
            self.kept += 1;
            self.open_poll = last;
            return;
        }
        self.open_poll = self.push(entry).unwrap_or(NO_POLL);
    }

    /// The poll that began last ended at `end`: its duration is filled in.
    #[inline]
    pub(crate) fn end_poll(&mut self, end: u64) {
        if let Some(entry) = self.entries.get_mut(self.open_poll) {
            entry.set_took(end);
        }
        self.open_poll = NO_POLL;
    }

    /// Hands over everything recorded so far, unpacked into [`Event`](crate::record::Event)s;
    /// recording goes on into an empty list. The packed list's memory is freed, so a recorder
    /// that is read now and then never holds more than what happened since.
    pub(crate) fn take(&mut self) -> Record {
        self.open_poll = NO_POLL;
        let entries = std::mem::take(&mut self.entries);
        let names = std::mem::take(&mut self.names);
        let base = std::mem::replace(&mut self.turn_base, self.turns);
        let mut events = Vec::with_capacity(std::mem::take(&mut self.kept));
        for entry in &entries {
            events.extend(entry.folded_turn(base));
            events.push(entry.unpack(&names));
            events.extend(entry.folded_wake());
        }
        Record {
            virtual_clock: self.virtual_clock,
            events,
            dropped: std::mem::take(&mut self.dropped),
            cap: self.cap,
        }
    }
}

/// What an `EVLOOP_RECORD` value asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvSetting {
    /// Absent, empty, `0` or `off`: do not record.
    Off,
    /// `1` or `on`: record, with the default cap; a number above 1: record, keeping at most
    /// that many events.
    On {
        /// The cap, if the value named one.
        cap: Option<usize>,
    },
}

/// An `EVLOOP_RECORD` value that is neither a switch nor a number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvError {
    /// The value as found.
    pub value: String,
}

impl fmt::Display for EnvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{ENV_VAR}={:?} is not understood, so recording stays off: use 1 or on (record, \
             keeping up to {DEFAULT_CAP} events), a number of events to keep, or 0 or off",
            self.value
        )
    }
}

impl std::error::Error for EnvError {}

/// Reads an `EVLOOP_RECORD` value (`None`: the variable is not set). Surrounding spaces and
/// the case of `on`/`off` do not matter; `1` is "on" rather than a cap of one event, since
/// that is what a person typing `EVLOOP_RECORD=1` means.
///
/// # Errors
/// [`EnvError`] for anything else (`yes`, `-5`, `1e6`): the builder logs it as a warning and
/// does not record.
///
/// # Examples
/// ```
/// use evloop::record::{EnvSetting, parse_env};
///
/// assert_eq!(parse_env(None), Ok(EnvSetting::Off));
/// assert_eq!(parse_env(Some("1")), Ok(EnvSetting::On { cap: None }));
/// assert_eq!(parse_env(Some("5000")), Ok(EnvSetting::On { cap: Some(5000) }));
/// assert!(parse_env(Some("yes")).is_err());
/// ```
pub fn parse_env(value: Option<&str>) -> Result<EnvSetting, EnvError> {
    let Some(raw) = value else { return Ok(EnvSetting::Off) };
    let value = raw.trim();
    if value.is_empty() || value == "0" || value.eq_ignore_ascii_case("off") {
        return Ok(EnvSetting::Off);
    }
    if value == "1" || value.eq_ignore_ascii_case("on") {
        return Ok(EnvSetting::On { cap: None });
    }
    match value.parse::<usize>() {
        Ok(cap) => Ok(EnvSetting::On { cap: Some(cap) }),
        Err(_) => Err(EnvError { value: raw.to_string() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Event, Subject, What};

    fn turn(at: u64) -> Entry {
        Entry::turn(at, at)
    }

    fn main_poll(at: u64) -> Entry {
        Entry::poll(at, Subject::Main)
    }

    #[test]
    fn past_the_cap_events_are_counted_not_kept() {
        let mut recorder = Recorder::new(3, true);
        for n in 0..5 {
            recorder.push(turn(n));
        }
        let record = recorder.take();
        assert_eq!(record.events.len(), 3);
        assert_eq!(record.dropped, 2);
        assert_eq!(record.cap, 3);
        assert_eq!(
            record.events[2],
            Event {
                at: 2,
                what: What::Turn { number: 2 }
            }
        );
        // Taking empties the store and its count; recording goes on.
        recorder.push(turn(9));
        let again = recorder.take();
        assert_eq!((again.events.len(), again.dropped), (1, 0));
    }

    #[test]
    fn a_cap_of_zero_keeps_nothing_and_counts_everything() {
        let mut recorder = Recorder::new(0, false);
        assert_eq!(recorder.push(turn(1)), None);
        recorder.insert_in_time(turn(0));
        assert_eq!(recorder.name(Some("kept?".into())), 0, "no room, no name");
        let record = recorder.take();
        assert!(record.events.is_empty());
        assert_eq!(record.dropped, 2);
    }

    #[test]
    fn a_spawned_task_keeps_its_name_across_the_packing() {
        let mut recorder = Recorder::new(10, true);
        let task = crate::record::sample::id(4);
        let place = recorder.name(Some("worker".into()));
        recorder.push(Entry::spawn(0, task, place, None));
        let unnamed = recorder.name(None);
        recorder.push(Entry::spawn(0, task, unnamed, Some(task)));
        let events = recorder.take().events;
        assert_eq!(
            events[0].what,
            What::Spawn {
                task,
                name: Some("worker".into()),
                by: None
            }
        );
        assert_eq!(
            events[1].what,
            What::Spawn {
                task,
                name: None,
                by: Some(task)
            }
        );
    }

    #[test]
    fn a_late_event_goes_after_everything_up_to_its_time() {
        let mut recorder = Recorder::new(10, false);
        recorder.push(turn(10));
        recorder.begin_poll(main_poll(20));
        recorder.push(turn(30));
        recorder.insert_in_time(turn(20));
        recorder.end_poll(35);
        let at: Vec<u64> = recorder.take().events.iter().map(|e| e.at).collect();
        assert_eq!(at, [10, 20, 20, 30]);
    }

    #[test]
    fn a_poll_gets_its_duration_even_when_an_event_is_inserted_before_it() {
        let mut recorder = Recorder::new(10, false);
        recorder.push(turn(10));
        recorder.begin_poll(main_poll(20));
        recorder.insert_in_time(turn(5));
        recorder.end_poll(35);
        let events = recorder.take().events;
        assert_eq!(
            events[2].what,
            What::Poll {
                subject: Subject::Main,
                took: 15
            }
        );
    }

    #[test]
    fn a_poll_that_ends_after_a_take_changes_nothing() {
        let mut recorder = Recorder::new(10, true);
        recorder.begin_poll(main_poll(0));
        let first = recorder.take();
        recorder.push(turn(1));
        recorder.end_poll(99); // after the take: nothing to fill in
        assert_eq!(first.events.len(), 1);
        assert_eq!(
            recorder.take().events,
            [Event {
                at: 1,
                what: What::Turn { number: 1 }
            }]
        );
    }

    #[test]
    fn a_dropped_poll_leaves_no_open_poll_behind() {
        let mut recorder = Recorder::new(1, false);
        recorder.push(turn(0));
        recorder.begin_poll(main_poll(5)); // dropped: the recorder is full
        recorder.end_poll(9);
        let record = recorder.take();
        assert_eq!(
            record.events,
            [Event {
                at: 0,
                what: What::Turn { number: 0 }
            }]
        );
        assert_eq!(record.dropped, 1);
    }

    #[test]
    fn a_folded_wake_counts_against_the_cap_as_the_event_it_is() {
        let t = crate::record::sample::id(1);
        let self_wake = Entry::wake(5, t, crate::record::WakeCause::Task(t));
        // Room for the poll and its wake: folded, two events from one entry.
        let mut roomy = Recorder::new(2, true);
        roomy.begin_poll(Entry::poll(5, Subject::Task(t)));
        roomy.push_wake(self_wake);
        assert_eq!(roomy.entries.len(), 1);
        let record = roomy.take();
        assert_eq!(record.events.len(), 2);
        assert_eq!(record.events[1], self_wake.unpack(&[]));
        // Room for the poll only: the wake is dropped and counted, not folded.
        let mut full = Recorder::new(1, true);
        full.begin_poll(Entry::poll(5, Subject::Task(t)));
        full.push_wake(self_wake);
        let record = full.take();
        assert_eq!((record.events.len(), record.dropped), (1, 1));
        // After another event, the wake is an entry of its own.
        let mut later = Recorder::new(9, true);
        later.begin_poll(Entry::poll(5, Subject::Task(t)));
        later.push(turn(5));
        later.push_wake(self_wake);
        assert_eq!(later.entries.len(), 3);
    }

    #[test]
    fn a_turn_whose_first_event_is_a_poll_shares_its_entry() {
        use crate::record::WakeCause;
        let t = crate::record::sample::id(1);
        let mut recorder = Recorder::new(10, false);
        // A yield: the turn, the task's poll, its wake of itself, all at 5; one entry.
        let number = recorder.next_turn();
        recorder.push(Entry::turn(5, number));
        recorder.begin_poll(Entry::poll(5, Subject::Task(t)));
        recorder.push_wake(Entry::wake(5, t, WakeCause::Task(t)));
        recorder.end_poll(8);
        assert_eq!(recorder.entries.len(), 1);
        let poll = What::Poll {
            subject: Subject::Task(t),
            took: 3,
        };
        let wake = What::Wake {
            task: t,
            cause: WakeCause::Task(t),
        };
        let at = |at, what| Event { at, what };
        assert_eq!(
            recorder.take().events,
            [at(5, What::Turn { number: 0 }), at(5, poll), at(5, wake)]
        );
        // After a take the turns go on counting from where they were, folded or not.
        let number = recorder.next_turn();
        recorder.push(Entry::turn(9, number));
        recorder.begin_poll(main_poll(9));
        recorder.end_poll(9);
        let number = recorder.next_turn();
        recorder.push(Entry::turn(10, number));
        recorder.push(Entry::timers_fired(10, 1));
        recorder.begin_poll(main_poll(10));
        let number = recorder.next_turn();
        recorder.push(Entry::turn(11, number));
        recorder.begin_poll(main_poll(12));
        assert_eq!(
            recorder.entries.len(),
            6,
            "one fold; a timer, then a later time, keep theirs"
        );
        let numbers: Vec<u64> = (recorder.take().events.iter())
            .filter_map(|event| match event.what {
                What::Turn { number } => Some(number),
                _ => None,
            })
            .collect();
        assert_eq!(numbers, [1, 2, 3]);
        // Room for the turn only: the poll is dropped and counted, not folded.
        let mut full = Recorder::new(1, false);
        full.push(Entry::turn(1, 0));
        full.begin_poll(main_poll(1));
        let record = full.take();
        assert_eq!(record.events, [at(1, What::Turn { number: 0 })]);
        assert_eq!(record.dropped, 1);
    }

    #[test]
    fn turn_numbers_count_from_zero_and_survive_a_take() {
        let mut recorder = Recorder::new(10, true);
        assert_eq!(recorder.next_turn(), 0);
        let _ = recorder.take();
        assert_eq!(recorder.next_turn(), 1);
    }

    #[test]
    fn the_environment_switch_reads_as_a_person_means_it() {
        assert_eq!(parse_env(None), Ok(EnvSetting::Off));
        for off in ["", "0", "off", "OFF", " 0 "] {
            assert_eq!(parse_env(Some(off)), Ok(EnvSetting::Off), "{off:?}");
        }
        for on in ["1", "on", "On", " on\n"] {
            assert_eq!(parse_env(Some(on)), Ok(EnvSetting::On { cap: None }), "{on:?}");
        }
        assert_eq!(parse_env(Some("2")), Ok(EnvSetting::On { cap: Some(2) }));
        assert_eq!(parse_env(Some("250000")), Ok(EnvSetting::On { cap: Some(250_000) }));
        for bad in ["yes", "-5", "1e6", "1.5", "on please", "99999999999999999999999"] {
            let error = parse_env(Some(bad)).unwrap_err();
            assert_eq!(error.value, bad);
            assert!(error.to_string().contains("EVLOOP_RECORD"), "{error}");
        }
    }
}

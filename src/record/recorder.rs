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
//! at most 64 bytes an event, so 64 MB, and a few seconds of a busy loop). Past the cap it keeps counting what it did
//! not keep, in [`Record::dropped`], so a record is never silently short. Pushing an event
//! allocates nothing beyond the `Vec`'s own doubling (a spawned task's name is the one string
//! an event carries).
//!
//! **Switched on without a rebuild.** [`parse_env`] reads the `EVLOOP_RECORD` variable that
//! `Builder::build` looks up (`runtime/record.rs`), the way asyncio reads `PYTHONASYNCIODEBUG`.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::time::Instant;

use crate::record::{Event, Record, What};

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
    /// Whether the loop's clock is virtual (then reading it is free, and done for every event).
    pub(crate) virtual_clock: bool,
    /// Real clock only: the time of the last clock read, which events inside a poll carry.
    pub(crate) last: Cell<u64>,
}

/// The loop's store of recorded events.
#[derive(Debug)]
pub(crate) struct Recorder {
    /// What was kept, in the order it happened.
    events: Vec<Event>,
    /// The most events kept at once; further pushes only count.
    cap: usize,
    /// Events not kept because `events` was full (since the last `take`).
    dropped: u64,
    /// Whether the loop's clock is virtual (times are then deterministic), for the `Record`.
    virtual_clock: bool,
    /// Turns counted so far, for `What::Turn` (never reset: turn numbers stay unique).
    turns: u64,
    /// Where the `Poll` of the poll running now sits in `events`, so that its duration can be
    /// filled in when it ends. `None` between polls, when the poll's event was dropped, and
    /// after a `take` (the event left with the record).
    open_poll: Option<usize>,
}

impl Recorder {
    /// An empty recorder that keeps at most `cap` events.
    pub(crate) fn new(cap: usize, virtual_clock: bool) -> Recorder {
        Recorder {
            events: Vec::new(),
            cap,
            dropped: 0,
            virtual_clock,
            turns: 0,
            open_poll: None,
        }
    }

    /// Appends an event that happened `at` nanoseconds into the run; returns where it went, or
    /// `None` if the recorder is full (the event is then counted as dropped).
    #[inline]
    pub(crate) fn push(&mut self, at: u64, what: What) -> Option<usize> {
        if self.events.len() >= self.cap {
            self.dropped += 1;
            return None;
        }
        self.events.push(Event { at, what });
        Some(self.events.len() - 1)
    }

    /// Adds an event that is reported late, after later events were already recorded (a
    /// blocking job, which started on another thread): it goes after every event at or before
    /// its time, so `at` never decreases along the record.
    pub(crate) fn insert_in_time(&mut self, at: u64, what: What) {
        if self.events.len() >= self.cap {
            self.dropped += 1;
            return;
        }
        let place = self.events.partition_point(|event| event.at <= at);
        if let Some(open) = &mut self.open_poll
            && *open >= place
        {
            *open += 1;
        }
        self.events.insert(place, Event { at, what });
    }

    /// Counts a new turn of the loop; returns its number (from 0).
    #[inline]
    pub(crate) fn next_turn(&mut self) -> u64 {
        let number = self.turns;
        self.turns += 1;
        number
    }

    /// A poll begins: its event is pushed now (so what happens during it follows it), with a
    /// duration of 0 that [`end_poll`](Self::end_poll) fills in.
    #[inline]
    pub(crate) fn begin_poll(&mut self, at: u64, what: What) {
        self.open_poll = self.push(at, what);
    }

    /// The poll that began last ended at `end`: its duration is filled in.
    #[inline]
    pub(crate) fn end_poll(&mut self, end: u64) {
        let Some(index) = self.open_poll.take() else { return };
        if let Some(Event {
            at,
            what: What::Poll { took, .. },
        }) = self.events.get_mut(index)
        {
            *took = end.saturating_sub(*at);
        }
    }

    /// Hands over everything recorded so far; recording goes on into an empty list. The list's
    /// memory goes with the record, so a recorder that is read now and then never holds more
    /// than what happened since.
    pub(crate) fn take(&mut self) -> Record {
        self.open_poll = None;
        Record {
            virtual_clock: self.virtual_clock,
            events: std::mem::take(&mut self.events),
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
    use crate::record::Subject;

    fn turn(number: u64) -> What {
        What::Turn { number }
    }

    #[test]
    fn past_the_cap_events_are_counted_not_kept() {
        let mut recorder = Recorder::new(3, true);
        for n in 0..5 {
            recorder.push(n, turn(n));
        }
        let record = recorder.take();
        assert_eq!(record.events.len(), 3);
        assert_eq!(record.dropped, 2);
        assert_eq!(record.cap, 3);
        assert_eq!(record.events[2], Event { at: 2, what: turn(2) });
        // Taking empties the store and its count; recording goes on.
        recorder.push(9, turn(9));
        let again = recorder.take();
        assert_eq!((again.events.len(), again.dropped), (1, 0));
    }

    #[test]
    fn a_cap_of_zero_keeps_nothing_and_counts_everything() {
        let mut recorder = Recorder::new(0, false);
        assert_eq!(recorder.push(1, turn(0)), None);
        recorder.insert_in_time(0, turn(1));
        let record = recorder.take();
        assert!(record.events.is_empty());
        assert_eq!(record.dropped, 2);
    }

    #[test]
    fn a_late_event_goes_after_everything_up_to_its_time() {
        let mut recorder = Recorder::new(10, false);
        recorder.push(10, turn(0));
        recorder.begin_poll(
            20,
            What::Poll {
                subject: Subject::Main,
                took: 0,
            },
        );
        recorder.push(30, turn(1));
        recorder.insert_in_time(20, turn(7));
        recorder.end_poll(35);
        let at: Vec<u64> = recorder.take().events.iter().map(|e| e.at).collect();
        assert_eq!(at, [10, 20, 20, 30]);
    }

    #[test]
    fn a_poll_gets_its_duration_even_when_an_event_is_inserted_before_it() {
        let mut recorder = Recorder::new(10, false);
        recorder.push(10, turn(0));
        recorder.begin_poll(
            20,
            What::Poll {
                subject: Subject::Main,
                took: 0,
            },
        );
        recorder.insert_in_time(5, turn(7));
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
        recorder.begin_poll(
            0,
            What::Poll {
                subject: Subject::Main,
                took: 0,
            },
        );
        let first = recorder.take();
        recorder.push(1, turn(0));
        recorder.end_poll(99); // after the take: nothing to fill in
        assert_eq!(first.events.len(), 1);
        assert_eq!(recorder.take().events, [Event { at: 1, what: turn(0) }]);
    }

    #[test]
    fn an_event_fits_in_a_cache_line_so_the_default_cap_is_about_64_mb() {
        assert!(std::mem::size_of::<Event>() <= 64, "{}", std::mem::size_of::<Event>());
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

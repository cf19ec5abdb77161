//! The record as a Chrome trace-event JSON file: what Perfetto (<https://ui.perfetto.dev>) and
//! `chrome://tracing` open, zoom and search.
//!
//! The format is Google's "Trace Event Format" (a JSON object with a `traceEvents` array; the
//! specification is the document of that name linked from the Catapult project). Each event has a
//! phase `ph`, a time `ts` in microseconds, a process `pid` and a thread `tid`; a viewer draws
//! one *track* per `tid`. evloop is one thread, so the tracks here are not OS threads but the
//! things a learner wants side by side: track 0 is the loop itself (its turns, `epoll_wait`s and
//! callbacks), then one per task (the `block_on` future first), then one per blocking-pool
//! thread. The phases used:
//!
//! | `ph`      | what                     | used for                                               |
//! |-----------|--------------------------|--------------------------------------------------------|
//! | `M`       | metadata                 | track and process names, track order                   |
//! | `X`       | a complete slice         | a poll, an `epoll_wait`, a callback, a turn, a pool job |
//! | `i`       | an instant               | spawn, end, timers fired, virtual-clock jump           |
//! | `s` / `f` | a flow's start / finish  | a wake: from the waker's slice to the woken's next poll |
//!
//! Times are the loop's clock, so on a virtual clock every poll lasts 0 µs (Perfetto draws those
//! as thin marks; the SVG timeline stretches them instead, see `axis.rs`). No serde: the JSON is
//! written by hand, and [`json_string`] is the one place strings are escaped.

use std::fmt::Write;

use super::schedule::{Origin, Schedule, Who};
use super::{Record, Subject, TaskEnd, WakeCause, What};

impl Record {
    /// The record as a Chrome trace-event JSON document, for Perfetto or `chrome://tracing`:
    /// a track per task (named), one for the loop, one per blocking-pool thread; polls as slices,
    /// wakes as flow arrows from the waker to the woken task's next poll. The same record always
    /// gives the same bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let runtime = evloop::Runtime::builder().virtual_clock().record(true).build().unwrap();
    /// runtime.block_on(async {
    ///     let task = evloop::spawn_named("sleeper", evloop::time::sleep(Duration::from_millis(10)));
    ///     task.await.unwrap();
    /// });
    /// let record = runtime.take_record().expect("recording is on");
    /// let json = record.to_chrome_trace(); // save it as run.json, open it in ui.perfetto.dev
    /// assert!(json.contains("task#") && json.contains("sleeper"));
    /// assert!(json.starts_with("{\"traceEvents\":["));
    /// assert!(json.contains("\"displayTimeUnit\":\"ns\""));
    /// ```
    #[doc(alias = "perfetto")]
    #[doc(alias = "chrome_tracing")]
    pub fn to_chrome_trace(&self) -> String {
        let schedule = Schedule::of(self);
        let mut out = Trace {
            json: String::from("{\"traceEvents\":[\n"),
            first: true,
        };
        let clock = if self.virtual_clock {
            "virtual clock"
        } else {
            "real clock"
        };
        let mut process = format!("evloop ({clock})");
        if self.dropped > 0 {
            let _ = write!(process, ", {} events dropped", self.dropped);
        }
        out.meta("process_name", 0, &process);
        out.meta("thread_name", 0, "the loop (turns, epoll_wait, callbacks)");
        for (i, row) in schedule.rows.iter().enumerate() {
            out.meta("thread_name", row_tid(i), &row_label(row.who, row.name.as_deref()));
        }
        let pool_tid = |thread: u32| row_tid(schedule.rows.len()) + u64::from(thread);
        for &thread in schedule.pool.keys() {
            out.meta(
                "thread_name",
                pool_tid(thread),
                &format!("blocking pool thread {thread}"),
            );
        }
        self.slices_and_instants(&schedule, &mut out);
        for (span_tid, jobs) in schedule.pool.iter().map(|(&n, jobs)| (pool_tid(n), jobs)) {
            for (span, task) in jobs {
                let args = task.map(|id| format!("{{\"task\":{}}}", json_string(&id.to_string())));
                out.slice(
                    "blocking job",
                    "pool",
                    span_tid,
                    span.t0,
                    span.t1 - span.t0,
                    args.as_deref(),
                );
            }
        }
        for (n, arrow) in schedule.arrows.iter().enumerate() {
            let from = match arrow.from {
                Origin::Loop => 0,
                Origin::Row(i) => row_tid(i),
            };
            let name = format!("wake: {}", cause_name(arrow.cause));
            out.flow('s', &name, from, arrow.t0, n);
            out.flow('f', &name, row_tid(arrow.to), arrow.t1, n);
        }
        out.json.push_str("\n],\"displayTimeUnit\":\"ns\",\"otherData\":{");
        let _ = writeln!(
            out.json,
            "\"clock\":{},\"events\":{},\"dropped\":{},\"cap\":{}}}}}",
            json_string(clock),
            self.events.len(),
            self.dropped,
            self.cap
        );
        out.json
    }

    /// The slices and instants, walking the events (the schedule gives the tracks).
    fn slices_and_instants(&self, schedule: &Schedule, out: &mut Trace) {
        let tid_of = |who: Who| schedule.rows.iter().position(|row| row.who == who).map_or(0, row_tid);
        let last = self.events.iter().map(|e| end_of(&e.what, e.at)).max().unwrap_or(0);
        // A turn lasts until the next one begins (the last, until the record ends).
        let turn_starts: Vec<u64> = self
            .events
            .iter()
            .filter(|e| matches!(e.what, What::Turn { .. }))
            .map(|e| e.at)
            .collect();
        let mut turn = 0;
        for event in &self.events {
            let at = event.at;
            match &event.what {
                What::Turn { number } => {
                    turn += 1;
                    let end = turn_starts.get(turn).copied().unwrap_or(last);
                    out.slice(&format!("turn {number}"), "loop", 0, at, end.saturating_sub(at), None);
                }
                What::Poll {
                    subject: Subject::Callback(n),
                    took,
                } => {
                    out.slice(&format!("callback {n}"), "callback", 0, at, *took, None);
                }
                What::Poll { subject, took } => {
                    let who = match subject {
                        Subject::Task(id) => Who::Task(*id),
                        _ => Who::Main,
                    };
                    out.slice("poll", "poll", tid_of(who), at, *took, None);
                }
                What::IoWait { timeout, events, took } => {
                    let timeout = timeout.map_or("null".to_string(), micros);
                    let args = format!("{{\"timeout_us\":{timeout},\"events\":{events}}}");
                    out.slice("epoll_wait", "loop", 0, at, *took, Some(&args));
                }
                What::Spawn { task, .. } => out.instant("spawn", tid_of(Who::Task(*task)), at),
                What::End { task, how } => out.instant(end_name(*how), tid_of(Who::Task(*task)), at),
                What::TimersFired { count } => out.instant(&format!("{count} timers fired"), 0, at),
                What::ClockJump { to } => out.instant(&format!("clock jumps to {} µs", micros(*to)), 0, at),
                What::Wake { .. } | What::Blocking { .. } => {}
            }
        }
    }
}

/// The JSON being written, and whether the next event is the first (no comma before it).
struct Trace {
    json: String,
    first: bool,
}

impl Trace {
    fn event(&mut self, body: std::fmt::Arguments<'_>) {
        if !self.first {
            self.json.push_str(",\n");
        }
        self.first = false;
        let _ = self.json.write_fmt(body);
    }

    fn meta(&mut self, name: &str, tid: u64, value: &str) {
        let value = json_string(value);
        self.event(format_args!(
            "{{\"name\":\"{name}\",\"ph\":\"M\",\"ts\":0,\"pid\":1,\"tid\":{tid},\"args\":{{\"name\":{value}}}}}"
        ));
        if name == "thread_name" {
            self.event(format_args!(
                "{{\"name\":\"thread_sort_index\",\"ph\":\"M\",\"ts\":0,\"pid\":1,\"tid\":{tid},\"args\":{{\"sort_index\":{tid}}}}}"
            ));
        }
    }

    fn slice(&mut self, name: &str, cat: &str, tid: u64, at: u64, took: u64, args: Option<&str>) {
        let (name, ts, dur) = (json_string(name), micros(at), micros(took));
        let args = args.map(|a| format!(",\"args\":{a}")).unwrap_or_default();
        self.event(format_args!(
            "{{\"name\":{name},\"cat\":\"{cat}\",\"ph\":\"X\",\"ts\":{ts},\"dur\":{dur},\"pid\":1,\"tid\":{tid}{args}}}"
        ));
    }

    fn instant(&mut self, name: &str, tid: u64, at: u64) {
        let (name, ts) = (json_string(name), micros(at));
        self.event(format_args!(
            "{{\"name\":{name},\"ph\":\"i\",\"s\":\"t\",\"ts\":{ts},\"pid\":1,\"tid\":{tid}}}"
        ));
    }

    fn flow(&mut self, ph: char, name: &str, tid: u64, at: u64, id: usize) {
        let (name, ts) = (json_string(name), micros(at));
        let bind = if ph == 'f' { ",\"bp\":\"e\"" } else { "" };
        self.event(format_args!(
            "{{\"name\":{name},\"cat\":\"wake\",\"ph\":\"{ph}\",\"id\":{id},\"ts\":{ts},\"pid\":1,\"tid\":{tid}{bind}}}"
        ));
    }
}

/// The track of row `i`: the loop is track 0, so rows start at 1.
fn row_tid(i: usize) -> u64 {
    i as u64 + 1
}

/// A row's name, as the pictures show it: `block_on future`, `task#3.0 "worker 7"`.
pub(crate) fn row_label(who: Who, name: Option<&str>) -> String {
    match (who, name) {
        (Who::Main, _) => "block_on future".to_string(),
        (Who::Task(id), Some(name)) => format!("{id} {name}"),
        (Who::Task(id), None) => id.to_string(),
    }
}

/// A wake's cause in a word or two, as the pictures' legends name them.
pub(crate) fn cause_name(cause: WakeCause) -> &'static str {
    match cause {
        WakeCause::Spawn => "spawn",
        WakeCause::Task(_) => "task",
        WakeCause::Callback => "callback",
        WakeCause::Timer => "timer",
        WakeCause::Io { .. } => "I/O",
        WakeCause::Remote => "other thread",
    }
}

fn end_name(how: TaskEnd) -> &'static str {
    match how {
        TaskEnd::Returned => "returned",
        TaskEnd::Cancelled => "cancelled",
        TaskEnd::Panicked => "panicked",
    }
}

/// When an event ends: its start plus what it took, if it takes time.
fn end_of(what: &What, at: u64) -> u64 {
    match what {
        What::Poll { took, .. } | What::IoWait { took, .. } => at.saturating_add(*took),
        What::ClockJump { to } => *to,
        _ => at,
    }
}

/// Nanoseconds as microseconds with three exact decimals: `1500` → `1.500`.
fn micros(ns: u64) -> String {
    format!("{}.{:03}", ns / 1_000, ns % 1_000)
}

/// `s` as a JSON string, quotes included, escaped as RFC 8259 §7 requires: `"` and `\` get a
/// backslash, control characters (U+0000 to U+001F) their short form or `\u00XX`. Everything
/// else, any Unicode, is written as it is (JSON text is UTF-8).
pub(crate) fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if c < ' ' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::sample::{many, say_after};

    #[test]
    fn json_strings_escape_quotes_backslashes_and_control_characters() {
        assert_eq!(json_string("plain"), "\"plain\"");
        assert_eq!(json_string("a \"b\" \\c"), "\"a \\\"b\\\" \\\\c\"");
        assert_eq!(json_string("\n\r\t\u{8}\u{c}"), "\"\\n\\r\\t\\b\\f\"");
        assert_eq!(json_string("\u{0}\u{1f}"), "\"\\u0000\\u001f\"");
        assert_eq!(json_string("é ✓ \u{7f}"), "\"é ✓ \u{7f}\"");
    }

    #[test]
    fn every_wake_is_a_flow_start_and_finish_pair() {
        let json = say_after("world").to_chrome_trace();
        let starts = json.matches("\"ph\":\"s\"").count();
        assert_eq!(starts, json.matches("\"ph\":\"f\"").count());
        assert_eq!(starts, Schedule::of(&say_after("world")).arrows.len());
        assert!(json.contains("\"bp\":\"e\""));
    }

    #[test]
    fn tracks_are_named_for_the_loop_each_task_and_each_pool_thread() {
        let json = say_after("world").to_chrome_trace();
        for name in [
            "the loop",
            "block_on future",
            "task#1.0 hello",
            "task#2.0 world",
            "blocking pool thread 0",
        ] {
            assert!(json.contains(name), "{name} has a track");
        }
    }

    #[test]
    fn times_are_exact_microseconds_and_drops_are_noted() {
        let json = many(3, 9).to_chrome_trace();
        assert!(json.contains("\"ts\":10.000,\"dur\":3.000"));
        assert!(json.contains("9 events dropped") && json.contains("\"dropped\":9"));
    }

    #[test]
    fn a_hostile_name_cannot_break_out_of_its_string() {
        let json = say_after("\"},{\"ph\":\"X\n").to_chrome_trace();
        assert!(json.contains("\\\"},{\\\"ph\\\":\\\"X\\n"));
    }
}

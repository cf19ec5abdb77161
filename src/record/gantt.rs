//! The record as a text Gantt chart, to print in the terminal at the end of a run: one line per
//! task, a line for the loop, an axis, all within a given number of columns.
//!
//! A Gantt chart (Henry Gantt's bar chart of tasks against time, as project planners and
//! `systemd-analyze plot` draw it) is the smallest picture of a schedule: each column is a stretch
//! of the time axis (the stretched axis of `axis.rs`, so zero-length polls on a virtual clock
//! still show), each character the state the task spent that stretch in. Where one column holds
//! several states, the busiest wins: running over ready over parked.
//!
//! ```text
//! block_on future   |#.                #  #
//! task#1.0 hello    | .#         .#|
//! ```

use std::fmt::Write;

use super::Record;
use super::axis::ms;
use super::chrome::row_label;
use super::schedule::{LoopMark, Schedule, Span};

/// The widest the label column gets, in characters.
const LABEL: usize = 20;

impl Record {
    /// The record as a text Gantt chart no wider than `width` columns (100 fits most terminals):
    /// one line per task (`#` running, `.` ready, blank parked, `|` ended), a line for the loop
    /// (`~` in `epoll_wait`, `c` a callback, `>` a virtual-clock jump, `=` a blocking-pool job on
    /// the pool's lines), an axis in milliseconds on the loop's clock and a key. Labels keep to
    /// ASCII (other characters print as `?`), so every line really is at most `width` columns.
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
    /// let chart = record.to_gantt(80);
    /// print!("{chart}");
    /// assert!(chart.lines().any(|line| line.contains("sleeper")));
    /// assert!(chart.lines().all(|line| line.chars().count() <= 80));
    /// ```
    #[doc(alias = "gantt")]
    pub fn to_gantt(&self, width: usize) -> String {
        let schedule = Schedule::of(self);
        let label = LABEL.min(width / 4);
        let chart = Chart {
            columns: width.saturating_sub(label + 1),
            units: schedule.axis.width(),
        };
        let mut lines = Vec::new();
        let clock = if self.virtual_clock {
            "virtual clock: polls take no time"
        } else {
            "real clock"
        };
        let mut title = format!("evloop schedule, {clock}, {} tasks", schedule.tasks());
        if self.dropped > 0 {
            let _ = write!(title, ", {} EVENTS DROPPED", self.dropped);
        }
        lines.push(title);

        let mut loop_line = chart.blank();
        for mark in &schedule.loop_marks {
            match *mark {
                LoopMark::Wait { span, .. } => chart.fill(&mut loop_line, span, '~'),
                LoopMark::Callback { span, .. } => chart.fill(&mut loop_line, span, 'c'),
                LoopMark::Jump { x, .. } => chart.put(&mut loop_line, x, '>'),
                LoopMark::Turn { .. } | LoopMark::Timers { .. } => {}
            }
        }
        lines.push(line("the loop", label, &loop_line));
        for row in &schedule.rows {
            let mut cells = chart.blank();
            row.ready.iter().for_each(|&span| chart.fill(&mut cells, span, '.'));
            row.running.iter().for_each(|&span| chart.fill(&mut cells, span, '#'));
            if let Some((x, _, _)) = row.end {
                chart.put(&mut cells, x, '|');
            }
            lines.push(line(&row_label(row.who, row.name.as_deref()), label, &cells));
        }
        for (thread, jobs) in &schedule.pool {
            let mut cells = chart.blank();
            jobs.iter().for_each(|&(span, _)| chart.fill(&mut cells, span, '='));
            lines.push(line(&format!("pool thread {thread}"), label, &cells));
        }
        lines.push(line("ms", label, &chart.axis(&schedule)));
        lines.push("key: # running  . ready  (blank) parked  | ended  ~ epoll_wait  c callback".into());
        let mut out = String::new();
        for text in lines {
            out.extend(text.chars().take(width));
            out.push('\n');
        }
        out
    }
}

/// The time columns: how many, and how many axis units they cover.
struct Chart {
    columns: usize,
    units: f64,
}

impl Chart {
    fn blank(&self) -> Vec<char> {
        vec![' '; self.columns]
    }

    /// The column of `x` (the last one for the very end).
    fn column(&self, x: f64) -> usize {
        if self.units <= 0.0 {
            return 0;
        }
        ((x / self.units * self.columns as f64) as usize).min(self.columns.saturating_sub(1))
    }

    /// Marks every column `span` touches, unless a busier state holds it already.
    fn fill(&self, cells: &mut [char], span: Span, c: char) {
        if cells.is_empty() {
            return;
        }
        let last = self.column((span.x1 - 1e-9).max(span.x0));
        for cell in &mut cells[self.column(span.x0)..=last] {
            if rank(c) >= rank(*cell) {
                *cell = c;
            }
        }
    }

    fn put(&self, cells: &mut [char], x: f64, c: char) {
        if let Some(cell) = cells.get_mut(self.column(x)) {
            *cell = c;
        }
    }

    /// The axis line: tick labels in milliseconds where they fit without touching.
    fn axis(&self, schedule: &Schedule) -> Vec<char> {
        let mut cells = self.blank();
        let mut free = 0;
        for (x, t) in schedule.axis.ticks(0.0) {
            let at = self.column(x);
            let text = format!("^{}", ms(t));
            if at >= free && at + text.len() <= self.columns {
                cells[at..at + text.len()]
                    .iter_mut()
                    .zip(text.chars())
                    .for_each(|(cell, c)| *cell = c);
                free = at + text.len() + 2;
            }
        }
        cells
    }
}

/// Which state shows when several fall in one column.
fn rank(c: char) -> u8 {
    match c {
        ' ' => 0,
        '.' => 1,
        '|' => 3,
        _ => 2,
    }
}

/// A label cut or padded to `label` columns (ASCII only), a bar, then the cells.
fn line(text: &str, label: usize, cells: &[char]) -> String {
    let mut out: String = text
        .chars()
        .map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '?' })
        .take(label)
        .collect();
    while out.len() < label {
        out.push(' ');
    }
    out.push('|');
    out.extend(cells);
    out
}

#[cfg(test)]
mod tests {
    use crate::record::sample::{many, say_after};

    #[test]
    fn every_line_fits_the_width() {
        for width in [0, 1, 10, 40, 100, 200] {
            for record in [say_after("world"), many(100, 3)] {
                let chart = record.to_gantt(width);
                assert!(
                    chart.lines().all(|l| l.chars().count() <= width),
                    "width {width}:\n{chart}"
                );
            }
        }
    }

    #[test]
    fn a_line_per_task_shows_running_ready_and_the_end() {
        let chart = say_after("world").to_gantt(100);
        let hello = chart
            .lines()
            .find(|l| l.starts_with("task#1.0 hello"))
            .expect("a line for hello");
        let cells = &hello[21..];
        assert!(
            cells.contains('#') && cells.contains('.') && cells.contains('|'),
            "{hello}"
        );
        assert!(chart.lines().any(|l| l.starts_with("the loop") && l.contains('~')));
        assert!(chart.lines().any(|l| l.starts_with("pool thread 0") && l.contains('=')));
        assert_eq!(chart.lines().filter(|l| l.starts_with("task#")).count(), 2);
    }

    #[test]
    fn a_hostile_name_cannot_break_a_line() {
        let chart = say_after("evil\nname\u{1b}[2J").to_gantt(100);
        assert!(chart.lines().any(|l| l.starts_with("task#2.0 evil?name?")));
        assert!(!chart.contains('\u{1b}'));
    }

    #[test]
    fn dropped_events_are_said() {
        assert!(many(2, 5).to_gantt(100).contains("5 EVENTS DROPPED"));
    }
}

//! The record as an SVG timeline: a picture any browser opens, drawn by evloop itself with no
//! dependency, to put on a slide.
//!
//! The layout is the one the Gantt chart and a profiler's timeline use (Perfetto, tokio-console's
//! task view): time runs left to right on the stretched axis of `axis.rs`, and there is a row for
//! the loop (its `epoll_wait`s with their timeouts, its callbacks, its virtual-clock jumps), one
//! per task (the `block_on` future first) and one per blocking-pool thread. On a task's row a
//! thin line is the task alive but parked, an amber bar the task ready but waiting its turn, a
//! blue block a poll. Curved arrows are wakes, from whoever woke to the woken task's next poll,
//! coloured by cause. The file is self-contained (attributes for styles, no script, no external
//! font or image), deterministic (the same record gives the same bytes) and every string from the
//! record is escaped for XML.

use std::fmt::Write;

use super::axis::ms;
use super::chrome::{cause_name, row_label};
use super::palette::{CALLBACK, CAUSES, PARKED, POOL, READY, RUNNING, WAIT, cause_index, defs, legend, px};
use super::schedule::{LoopMark, Origin, Schedule, Span, Who};
use super::{Record, TaskEnd};

/// The label column's width, in pixels.
const LABEL_W: f64 = 210.0;
/// Where the rows begin: below the title, the two legend lines and the axis.
const TOP: f64 = 100.0;

impl Record {
    /// The record as a self-contained SVG timeline: a row per task (running, ready, parked), a
    /// row for the loop's `epoll_wait`s and callbacks, rows for blocking-pool threads, wake
    /// arrows coloured by cause, a time axis in milliseconds on the loop's clock and a legend.
    /// Polls that take no time (every poll, on a virtual clock) still get a visible slot of their
    /// own, in the order they ran. The same record always gives the same bytes.
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
    /// let svg = record.to_svg(); // save it as run.svg, open it in a browser
    /// assert!(svg.contains("data-tasks=\"1\""));
    /// assert!(svg.starts_with("<svg ") && svg.trim_end().ends_with("</svg>"));
    /// ```
    #[doc(alias = "timeline")]
    pub fn to_svg(&self) -> String {
        let schedule = Schedule::of(self);
        let rows = 1 + schedule.rows.len() + schedule.pool.len();
        let units = schedule.axis.width().max(1.0);
        // About 1000 px of time for a small record, never more than 2400 (a long real-clock run
        // gets thinner slots rather than a page no screen shows).
        let scale = (1000.0 / units).clamp(2.0, 40.0).min(2400.0 / units);
        // Slots thinner than a pixel and a half cannot show a gap between two polls anyway: there,
        // bars closer than a pixel are drawn as one. Wider slots keep every poll apart.
        let merge = if scale < 1.5 { 1.0 / scale } else { -1.0 };
        let row_h = (640.0 / rows as f64).clamp(8.0, 24.0);
        let page = Page {
            scale,
            row_h,
            font: (row_h * 0.62).clamp(7.0, 12.0),
        };
        let width = (LABEL_W + units * scale + 30.0).max(980.0);
        let height = TOP + rows as f64 * row_h + 16.0;
        let mut svg = String::new();
        let _ = writeln!(
            svg,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" \
             font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" data-tasks=\"{tasks}\" data-rows=\"{rows}\">",
            w = px(width),
            h = px(height),
            tasks = schedule.tasks(),
        );
        svg.push_str(&defs());
        let _ = writeln!(svg, "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>");
        self.title(&schedule, &mut svg);
        legend(&mut svg);
        page.axis(&schedule, height, &mut svg);
        page.loop_row(&schedule, &mut svg);
        for (i, row) in schedule.rows.iter().enumerate() {
            let y = page.row_y(1 + i);
            let label = row_label(row.who, row.name.as_deref());
            let (class, id) = match row.who {
                Who::Main => ("main", "main".to_string()),
                Who::Task(id) => ("task", id.to_string()),
            };
            let _ = writeln!(svg, "<g class=\"{class}\" data-task=\"{id}\">");
            page.label(&label, i + 1, &mut svg);
            let end = row.end.map_or(units, |(x, _, _)| x);
            let mid = px(y + row_h / 2.0);
            let (x0, x1) = (px(page.x(row.born)), px(page.x(end)));
            let _ = writeln!(
                svg,
                "<line x1=\"{x0}\" y1=\"{mid}\" x2=\"{x1}\" y2=\"{mid}\" stroke=\"{PARKED}\" stroke-width=\"1\"/>"
            );
            for span in coalesce(&row.ready, merge) {
                page.bar(span, y + row_h * 0.3, row_h * 0.4, READY, &mut svg);
            }
            for span in coalesce(&row.running, merge) {
                page.bar(span, y + 1.0, row_h - 2.0, RUNNING, &mut svg);
            }
            if let Some((x, t, how)) = row.end {
                let (colour, word) = match how {
                    TaskEnd::Returned => ("#111827", "returned"),
                    TaskEnd::Cancelled => ("#ea580c", "cancelled"),
                    TaskEnd::Panicked => ("#dc2626", "panicked"),
                };
                let (x, top, bottom) = (px(page.x(x) + 1.0), px(y + 1.0), px(y + row_h - 1.0));
                let _ = writeln!(
                    svg,
                    "<line x1=\"{x}\" y1=\"{top}\" x2=\"{x}\" y2=\"{bottom}\" stroke=\"{colour}\" stroke-width=\"2\"><title>{word} at {} ms</title></line>",
                    ms(t)
                );
            }
            svg.push_str("</g>\n");
        }
        for (n, (thread, jobs)) in schedule.pool.iter().enumerate() {
            let index = 1 + schedule.rows.len() + n;
            let _ = writeln!(svg, "<g class=\"pool\" data-thread=\"{thread}\">");
            page.label(&format!("blocking pool thread {thread}"), index, &mut svg);
            for &(span, _) in jobs {
                page.bar(span, page.row_y(index) + 2.0, row_h - 4.0, POOL, &mut svg);
            }
            svg.push_str("</g>\n");
        }
        page.arrows(&schedule, &mut svg);
        svg.push_str("</svg>\n");
        svg
    }

    /// The title line, and the drop warning if any events were lost.
    fn title(&self, schedule: &Schedule, svg: &mut String) {
        let clock = if self.virtual_clock {
            "virtual clock: polls take no time, so each gets a slot of its own"
        } else {
            "real clock: every poll at least a slot wide"
        };
        let mut title = format!(
            "evloop timeline · {} tasks · {} events · {clock}",
            schedule.tasks(),
            self.events.len()
        );
        let every = arrow_step(schedule);
        if every > 1 {
            let _ = write!(title, " · 1 wake arrow in {every} drawn");
        }
        let _ = writeln!(
            svg,
            "<text x=\"10\" y=\"20\" font-size=\"14\" font-weight=\"bold\" fill=\"#111827\">{}</text>",
            xml(&title)
        );
        if self.dropped > 0 {
            let note = format!("{} events dropped: the recorder's cap is {}", self.dropped, self.cap);
            let _ = writeln!(
                svg,
                "<text x=\"10\" y=\"36\" font-size=\"12\" font-weight=\"bold\" fill=\"#dc2626\">{}</text>",
                xml(&note)
            );
        }
    }
}

/// How the drawing maps units to pixels, and how tall rows are.
struct Page {
    scale: f64,
    row_h: f64,
    font: f64,
}

impl Page {
    fn x(&self, units: f64) -> f64 {
        LABEL_W + units * self.scale
    }

    fn row_y(&self, index: usize) -> f64 {
        TOP + index as f64 * self.row_h
    }

    /// A row's background stripe and its label, cut to fit the label column.
    fn label(&self, text: &str, index: usize, svg: &mut String) {
        let y = self.row_y(index);
        if index % 2 == 1 {
            let _ = writeln!(
                svg,
                "<rect x=\"0\" y=\"{}\" width=\"100%\" height=\"{}\" fill=\"#f3f4f6\"/>",
                px(y),
                px(self.row_h)
            );
        }
        let fits = ((LABEL_W - 14.0) / (self.font * 0.6)) as usize;
        let mut shown: String = text.chars().take(fits).collect();
        if text.chars().count() > fits {
            shown.pop();
            shown.push('…');
        }
        let base = px(y + self.row_h / 2.0 + self.font * 0.35);
        let _ = writeln!(
            svg,
            "<text x=\"8\" y=\"{base}\" font-size=\"{}\" fill=\"#111827\">{}</text>",
            px(self.font),
            xml(&shown)
        );
    }

    /// A bar for `span`, at least a pixel wide, with the time as a tooltip.
    fn bar(&self, span: Span, y: f64, h: f64, colour: &str, svg: &mut String) {
        let (x0, x1) = (self.x(span.x0), self.x(span.x1));
        let w = (x1 - x0 - 0.5).max(1.0);
        let _ = writeln!(
            svg,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{colour}\"><title>{} ms, {} µs</title></rect>",
            px(x0),
            px(y),
            px(w),
            px(h),
            ms(span.t0),
            (span.t1 - span.t0) / 1_000
        );
    }

    /// The time axis above the rows, with grid lines down through them.
    fn axis(&self, schedule: &Schedule, height: f64, svg: &mut String) {
        let y = TOP - 4.0;
        let _ = writeln!(
            svg,
            "<text x=\"8\" y=\"{}\" font-size=\"11\" fill=\"#6b7280\">loop clock, ms</text>",
            px(y - 4.0)
        );
        for (x, t) in schedule.axis.ticks(80.0 / self.scale) {
            let x = px(self.x(x));
            let _ = writeln!(
                svg,
                "<line x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\" stroke=\"#e5e7eb\" stroke-width=\"1\"/>",
                px(y),
                px(height - 12.0)
            );
            let _ = writeln!(
                svg,
                "<text x=\"{x}\" y=\"{}\" font-size=\"10\" fill=\"#374151\">{}</text>",
                px(y - 4.0),
                ms(t)
            );
        }
    }

    /// The loop's row: waits (and how far their timeouts reached), callbacks, turns and jumps.
    fn loop_row(&self, schedule: &Schedule, svg: &mut String) {
        let _ = writeln!(svg, "<g class=\"loop\">");
        self.label("the loop", 0, svg);
        let (y, h) = (self.row_y(0), self.row_h);
        let mut last_turn = f64::NEG_INFINITY;
        for mark in &schedule.loop_marks {
            match *mark {
                LoopMark::Wait { span, timeout, events } => {
                    if let Some(timeout) = timeout.filter(|&t| t > 0) {
                        let reach = schedule
                            .axis
                            .x_of(span.t0.saturating_add(timeout))
                            .min(schedule.axis.width());
                        let (x0, x1, mid) = (px(self.x(span.x0)), px(self.x(reach)), px(y + h / 2.0));
                        let _ = writeln!(
                            svg,
                            "<line x1=\"{x0}\" y1=\"{mid}\" x2=\"{x1}\" y2=\"{mid}\" stroke=\"{WAIT}\" stroke-dasharray=\"3,2\"/>"
                        );
                    }
                    self.bar(span, y + h * 0.2, h * 0.6, WAIT, svg);
                    let _ = events;
                }
                LoopMark::Callback { span, .. } => self.bar(span, y + 1.0, h - 2.0, CALLBACK, svg),
                LoopMark::Jump { x, t } => {
                    let (x, top) = (self.x(x), y + 1.0);
                    let _ = writeln!(
                        svg,
                        "<path d=\"M{},{} L{},{} L{},{} z\" fill=\"#6b7280\"><title>clock jumps to {} ms</title></path>",
                        px(x - 4.0),
                        px(top),
                        px(x + 4.0),
                        px(top),
                        px(x),
                        px(top + 6.0),
                        ms(t)
                    );
                }
                // A tick per turn, but not closer than 3 px to the last one drawn.
                LoopMark::Turn { x, .. } if self.x(x) - last_turn < 3.0 => {}
                LoopMark::Turn { x, number, .. } => {
                    last_turn = self.x(x);
                    let (x, top, bottom) = (px(self.x(x)), px(y + h * 0.55), px(y + h - 1.0));
                    let _ = writeln!(
                        svg,
                        "<line x1=\"{x}\" y1=\"{top}\" x2=\"{x}\" y2=\"{bottom}\" stroke=\"#9ca3af\" stroke-width=\"1\"><title>turn {number}</title></line>"
                    );
                }
                LoopMark::Timers { .. } => {}
            }
        }
        svg.push_str("</g>\n");
    }

    /// The wake arrows, on top of everything: a curve from the waker's row to the woken row.
    fn arrows(&self, schedule: &Schedule, svg: &mut String) {
        // A hundred arrows from one timer tick would be a solid blot: the more there are, the
        // fainter each is drawn.
        let opacity = if schedule.arrows.len() > 60 { "0.35" } else { "0.7" };
        let _ = writeln!(
            svg,
            "<g class=\"wakes\" fill=\"none\" stroke-width=\"1\" opacity=\"{opacity}\">"
        );
        let mid = |index: usize| self.row_y(index) + self.row_h / 2.0;
        for arrow in schedule.arrows.iter().step_by(arrow_step(schedule)) {
            let i = cause_index(arrow.cause);
            let y0 = match arrow.from {
                Origin::Loop => mid(0),
                Origin::Row(r) => mid(1 + r),
            };
            let (x0, x1, y1) = (self.x(arrow.x0), self.x(arrow.x1), mid(1 + arrow.to));
            let bend = ((x1 - x0) / 2.0).max(8.0);
            let _ = writeln!(
                svg,
                "<path d=\"M{},{} C{},{} {},{} {},{}\" stroke=\"{}\" marker-end=\"url(#wake{i})\"><title>wake: {}</title></path>",
                px(x0),
                px(y0),
                px(x0 + bend),
                px(y0),
                px(x1 - bend),
                px(y1),
                px(x1),
                px(y1),
                CAUSES[i].1,
                cause_name(arrow.cause)
            );
        }
        svg.push_str("</g>\n");
    }
}

/// The most wake arrows drawn: past that a picture is a solid mass (and megabytes), so only
/// every n-th is drawn, and the title says so.
const MAX_ARROWS: usize = 1500;

fn arrow_step(schedule: &Schedule) -> usize {
    schedule.arrows.len().div_ceil(MAX_ARROWS).max(1)
}

/// `spans` with neighbours closer than `gap` units merged into one: bars that would touch on
/// screen are drawn as one (a busy run has tens of thousands of polls, and a pixel shows one).
fn coalesce(spans: &[Span], gap: f64) -> Vec<Span> {
    let mut merged: Vec<Span> = Vec::with_capacity(spans.len());
    for &span in spans {
        match merged.last_mut() {
            Some(last) if span.x0 - last.x1 < gap => {
                last.x1 = last.x1.max(span.x1);
                last.t1 = last.t1.max(span.t1);
            }
            _ => merged.push(span),
        }
    }
    merged
}

/// `s` made safe as XML text or an attribute value: the five special characters as entities,
/// and what XML 1.0 forbids outright (control characters other than tab, newline and carriage
/// return; U+FFFE and U+FFFF) replaced by U+FFFD.
pub(crate) fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c < ' ' || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::sample::{many, say_after};

    #[test]
    fn xml_text_escapes_the_specials_and_replaces_what_xml_forbids() {
        assert_eq!(xml("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
        assert_eq!(xml("\u{0}\u{1b}\t\u{ffff}é"), "\u{fffd}\u{fffd}\t\u{fffd}é");
    }

    #[test]
    fn one_group_per_task_and_the_count_on_the_root() {
        let svg = say_after("world").to_svg();
        assert_eq!(svg.matches("<g class=\"task\"").count(), 2);
        assert!(svg.contains("data-tasks=\"2\""));
        assert_eq!(svg.matches("<g class=\"main\"").count(), 1);
        assert_eq!(many(100, 0).to_svg().matches("<g class=\"task\"").count(), 100);
    }

    #[test]
    fn dropped_events_are_visible() {
        assert!(many(3, 42).to_svg().contains("42 events dropped"));
        assert!(!many(3, 0).to_svg().contains("dropped"));
    }

    #[test]
    fn a_hostile_name_stays_text() {
        let svg = say_after("</text><script>x</script>").to_svg();
        assert!(!svg.contains("<script>") && svg.contains("&lt;script&gt;"));
    }

    #[test]
    fn the_same_record_draws_the_same_bytes() {
        assert_eq!(many(20, 0).to_svg(), many(20, 0).to_svg());
    }
}

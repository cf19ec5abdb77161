//! The time axis the pictures share: where on the page (or the terminal) a moment of the loop's
//! clock goes.
//!
//! A straight axis, x proportional to time, fails twice. On a virtual clock a poll takes no time
//! at all, so every poll of a turn would fall on one line, and their order (the thing a learner
//! wants to see) would vanish. On the real clock a poll lasts microseconds while the loop sleeps
//! for seconds, so polls would be thinner than a pixel. So the axis is piecewise, as a profiler's
//! "flame chart" stretches the interesting parts: walking the record in order, each poll (and each
//! `epoll_wait`) takes at least one *unit* of width, side by side in the order they ran, and the
//! time between two things gets a width that grows with the logarithm of the gap, capped. The
//! pictures label the axis with the real times of the loop's clock, so nothing is hidden: only
//! stretched.
//!
//! Units are abstract: the SVG turns them into pixels, the Gantt chart into columns.

/// Width of the shortest thing drawn (a poll on a virtual clock), in units.
pub(crate) const MIN_UNITS: f64 = 1.0;

/// The widest a gap (or a long poll) can get, in units: a ten-second sleep should not push the
/// rest of the run off the page.
const MAX_UNITS: f64 = 12.0;

/// How much width a stretch of `ns` nanoseconds gets, in units: none for no time, then half a
/// unit plus 1.5 units per decade of microseconds (1 µs ≈ 1, 1 ms ≈ 5, 1 s ≈ 9.5), capped at
/// [`MAX_UNITS`]. A logarithm, so that microsecond polls and second-long sleeps both fit.
pub(crate) fn gap_units(ns: u64) -> f64 {
    if ns == 0 {
        return 0.0;
    }
    let micros = ns as f64 / 1_000.0;
    (0.5 + 1.5 * (1.0 + micros).log10()).min(MAX_UNITS)
}

/// The axis, built by walking the record in order: it remembers, for each moment it passed,
/// where that moment was put.
#[derive(Debug, Clone)]
pub(crate) struct Axis {
    /// `(time, x)` pairs, both never decreasing. Several pairs can share a time (the polls of a
    /// virtual-clock instant, side by side); then the first is where that time "is".
    anchors: Vec<(u64, f64)>,
    /// The cursor: the time reached so far.
    t: u64,
    /// The cursor: how far the drawing has got, in units.
    x: f64,
}

impl Axis {
    /// An axis starting at time `start` (the record's first event) at x = 0.
    pub(crate) fn new(start: u64) -> Axis {
        Axis {
            anchors: vec![(start, 0.0)],
            t: start,
            x: 0.0,
        }
    }

    /// Moves the cursor to time `at` (no move if `at` is not later: a record is in order, and a
    /// disordered one must still draw) and returns where `at` is.
    pub(crate) fn reach(&mut self, at: u64) -> f64 {
        if at > self.t {
            self.x += gap_units(at - self.t);
            self.t = at;
            self.anchors.push((self.t, self.x));
        }
        self.x
    }

    /// Makes room for something that started at `at` and took `took` nanoseconds (a poll, an
    /// `epoll_wait`): at least [`MIN_UNITS`] wide, placed after everything before it. Returns
    /// its start and end.
    pub(crate) fn occupy(&mut self, at: u64, took: u64) -> (f64, f64) {
        let x0 = self.reach(at);
        self.x += gap_units(took).max(MIN_UNITS);
        self.t = self.t.saturating_add(took);
        self.anchors.push((self.t, self.x));
        (x0, self.x)
    }

    /// Where time `t` is, for things that did not move the cursor (a job on a pool thread): the
    /// first place the axis put `t`, or between the two places around it, or past the end.
    pub(crate) fn x_of(&self, t: u64) -> f64 {
        let i = self.anchors.partition_point(|&(time, _)| time < t);
        match (i.checked_sub(1).map(|j| self.anchors[j]), self.anchors.get(i)) {
            (_, Some(&(time, x))) if time == t => x,
            (Some((t0, x0)), Some(&(t1, x1))) => x0 + (x1 - x0) * (t - t0) as f64 / (t1 - t0) as f64,
            (None, Some(&(_, x))) => x,
            (_, None) => self.x + gap_units(t - self.t),
        }
    }

    /// The time the cursor has reached: the end of the record.
    pub(crate) fn end_time(&self) -> u64 {
        self.t
    }

    /// The width of everything drawn so far, in units.
    pub(crate) fn width(&self) -> f64 {
        self.x
    }

    /// Where to put labelled ticks: the distinct times the axis passed, thinned so that two
    /// ticks are at least `spacing` units apart. Always includes the start.
    pub(crate) fn ticks(&self, spacing: f64) -> Vec<(f64, u64)> {
        let mut ticks: Vec<(f64, u64)> = Vec::new();
        for &(t, x) in &self.anchors {
            match ticks.last() {
                Some(&(last_x, last_t)) if t == last_t || x - last_x < spacing => {}
                _ => ticks.push((x, t)),
            }
        }
        ticks
    }
}

/// A time in milliseconds, the way the axis labels it: `0`, `100`, `1.5`, `0.012` (at most three
/// decimals, trailing zeros dropped; integer arithmetic, so the same on every machine).
pub(crate) fn ms(ns: u64) -> String {
    let whole = ns / 1_000_000;
    let micros = (ns % 1_000_000) / 1_000;
    if micros == 0 {
        return format!("{whole}");
    }
    let fraction = format!("{micros:03}");
    format!("{whole}.{}", fraction.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_grow_with_the_logarithm_and_stop_at_the_cap() {
        assert_eq!(gap_units(0), 0.0);
        assert!(gap_units(1_000) < gap_units(1_000_000));
        assert!(gap_units(1_000_000) < gap_units(1_000_000_000));
        assert_eq!(gap_units(u64::MAX), MAX_UNITS);
    }

    #[test]
    fn zero_length_polls_at_one_instant_sit_side_by_side_in_order() {
        let mut axis = Axis::new(0);
        assert_eq!(axis.occupy(0, 0), (0.0, 1.0));
        assert_eq!(axis.occupy(0, 0), (1.0, 2.0));
        let later = axis.reach(1_000_000_000);
        assert!(later > 2.0);
        assert_eq!(axis.x_of(0), 0.0, "a time is where the axis first put it");
        assert_eq!(axis.x_of(1_000_000_000), later);
    }

    #[test]
    fn a_disordered_record_never_moves_the_cursor_back() {
        let mut axis = Axis::new(100);
        axis.reach(500);
        let x = axis.width();
        assert_eq!(axis.reach(200), x);
        assert_eq!(axis.x_of(0), 0.0);
        assert!(axis.x_of(10_000) > x, "past the end, the axis goes on");
    }

    #[test]
    fn ticks_are_distinct_times_spaced_apart() {
        let mut axis = Axis::new(0);
        for i in 0..10 {
            axis.occupy(i * 1_000, 0);
        }
        let ticks = axis.ticks(5.0);
        assert_eq!(ticks[0], (0.0, 0));
        assert!(ticks.windows(2).all(|w| w[1].0 - w[0].0 >= 5.0 && w[1].1 > w[0].1));
    }

    #[test]
    fn milliseconds_print_exactly_with_trailing_zeros_dropped() {
        assert_eq!(ms(0), "0");
        assert_eq!(ms(100_000_000), "100");
        assert_eq!(ms(1_500_000), "1.5");
        assert_eq!(ms(12_345), "0.012");
    }
}

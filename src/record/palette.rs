//! The SVG timeline's palette: a colour per task state and per wake cause, the arrowheads in
//! those colours, and the legend that says what each means, so `svg.rs` is about layout only.
//!
//! The colours are from Tailwind CSS's default palette (its 600 shades, 500 for amber): strong
//! enough on white, and still told apart in a grey print. Wake arrows use the cause colours of
//! the Chrome trace's flow names (`chrome.rs`, `cause_name`).

use std::fmt::Write;

use super::WakeCause;

/// Colours: one per state, one per wake cause (Tailwind's palette, readable on white and in grey).
pub(super) const RUNNING: &str = "#2563eb";
pub(super) const READY: &str = "#f59e0b";
pub(super) const PARKED: &str = "#94a3b8";
pub(super) const WAIT: &str = "#14b8a6";
pub(super) const CALLBACK: &str = "#9333ea";
pub(super) const POOL: &str = "#475569";
pub(super) const CAUSES: [(&str, &str); 6] = [
    ("spawn", "#16a34a"),
    ("task", "#334155"),
    ("callback", "#9333ea"),
    ("timer", "#ea580c"),
    ("I/O", "#0891b2"),
    ("other thread", "#db2777"),
];

/// The arrowheads, one per cause colour.
pub(super) fn defs() -> String {
    let mut defs = String::from("<defs>\n");
    for (i, (_, colour)) in CAUSES.iter().enumerate() {
        let _ = writeln!(
            defs,
            "<marker id=\"wake{i}\" viewBox=\"0 0 8 8\" refX=\"8\" refY=\"4\" markerWidth=\"6\" markerHeight=\"6\" orient=\"auto\">\
             <path d=\"M0,0 L8,4 L0,8 z\" fill=\"{colour}\"/></marker>"
        );
    }
    defs.push_str("</defs>\n");
    defs
}

/// Two legend lines: the states and marks, then the wake causes.
pub(super) fn legend(svg: &mut String) {
    let states = [
        ("running (a poll)", RUNNING, 10.0),
        ("ready, waiting its turn", READY, 5.0),
        ("parked", PARKED, 1.5),
        ("epoll_wait", WAIT, 10.0),
        ("epoll_wait timeout", WAIT, 1.5),
        ("callback", CALLBACK, 10.0),
        ("blocking-pool job", POOL, 10.0),
    ];
    let mut x = 10.0;
    for (text, colour, h) in states {
        let _ = writeln!(
            svg,
            "<rect x=\"{}\" y=\"{}\" width=\"16\" height=\"{h}\" fill=\"{colour}\"/>",
            px(x),
            px(50.0 - h / 2.0)
        );
        let _ = writeln!(
            svg,
            "<text x=\"{}\" y=\"54\" font-size=\"11\" fill=\"#111827\">{text}</text>",
            px(x + 20.0)
        );
        x += 30.0 + text.len() as f64 * 6.2;
    }
    let _ = writeln!(
        svg,
        "<text x=\"10\" y=\"72\" font-size=\"11\" fill=\"#111827\">wakes, by cause:</text>"
    );
    let mut x = 110.0;
    for (i, (text, colour)) in CAUSES.iter().enumerate() {
        let _ = writeln!(
            svg,
            "<line x1=\"{}\" y1=\"68\" x2=\"{}\" y2=\"68\" stroke=\"{colour}\" stroke-width=\"1.5\" marker-end=\"url(#wake{i})\"/>",
            px(x),
            px(x + 22.0)
        );
        let _ = writeln!(
            svg,
            "<text x=\"{}\" y=\"72\" font-size=\"11\" fill=\"#111827\">{text}</text>",
            px(x + 27.0)
        );
        x += 40.0 + text.len() as f64 * 6.2;
    }
    let _ = writeln!(
        svg,
        "<text x=\"{}\" y=\"72\" font-size=\"11\" fill=\"#6b7280\">▼ clock jump   ╵ loop turn   | task end</text>",
        px(x + 10.0)
    );
}

/// Which of [`CAUSES`] a wake is drawn in.
pub(super) fn cause_index(cause: WakeCause) -> usize {
    match cause {
        WakeCause::Spawn => 0,
        WakeCause::Task(_) => 1,
        WakeCause::Callback => 2,
        WakeCause::Timer => 3,
        WakeCause::Io { .. } => 4,
        WakeCause::Remote => 5,
    }
}

/// A coordinate with one decimal, never `-0.0`: fixed formatting keeps the output deterministic.
pub(super) fn px(v: f64) -> String {
    format!("{:.1}", v.max(0.0))
}

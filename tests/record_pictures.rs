//! The three pictures of a real record: the Chrome trace parses as JSON and follows the
//! trace-event format, the SVG parses as XML with one row group per task, the Gantt chart fits
//! its width; the same record always draws the same bytes; hostile task names stay text.
//!
//! The records come from real runs on the virtual clock, so they are the same on every run.

use std::time::Duration;

use evloop::record::Record;
use evloop::sync::Semaphore;
use evloop::time::sleep;
use evloop::{Runtime, spawn_named, yield_now};

/// How many workers the "many tasks" run has (fewer under Miri, which is slow).
const WORKERS: usize = if cfg!(miri) { 3 } else { 100 };

/// Runs `program` on a recording virtual-clock runtime and returns its record.
fn record_of<F: std::future::Future>(program: F) -> Record {
    let runtime = Runtime::builder()
        .virtual_clock()
        .record(true)
        .build()
        .expect("a runtime");
    runtime.block_on(program);
    runtime.take_record().expect("recording was switched on")
}

/// `say_after`: two named tasks sleeping 1 s and 2 s, then a yield chain between them.
fn two_sleepers() -> Record {
    record_of(async {
        let a = spawn_named("say hello", async {
            sleep(Duration::from_secs(1)).await;
            yield_now().await;
        });
        let b = spawn_named("say world", sleep(Duration::from_secs(2)));
        a.await.unwrap();
        b.await.unwrap();
    })
}

/// The semaphore example's shape: `WORKERS` tasks, 10 at a time, 100 ms of work each.
fn many_workers() -> Record {
    record_of(async {
        let permits = std::rc::Rc::new(Semaphore::new(10));
        let handles: Vec<_> = (0..WORKERS)
            .map(|i| {
                let permits = permits.clone();
                spawn_named(format!("worker {i}"), async move {
                    let _permit = permits.acquire().await;
                    sleep(Duration::from_millis(100)).await;
                })
            })
            .collect();
        for handle in handles {
            handle.await.unwrap();
        }
    })
}

/// Names that would break a picture written carelessly: quotes, markup, control characters.
const HOSTILE: [&str; 4] = [
    "\"},{\"ph\":\"X",
    "</text><script>alert(1)</script>",
    "tab\there\nnew line\u{0}\u{1b}[2J",
    "a & b's <é>",
];

fn hostile_names() -> Record {
    record_of(async {
        for name in HOSTILE {
            spawn_named(name, async {}).await.unwrap();
        }
    })
}

#[test]
#[cfg_attr(
    miri,
    ignore = "parsing with serde_json/roxmltree takes minutes under Miri; the renderers' unit tests run there"
)]
fn the_chrome_trace_parses_and_every_event_has_the_required_fields() {
    for record in [two_sleepers(), many_workers(), hostile_names()] {
        let json: serde_json::Value = serde_json::from_str(&record.to_chrome_trace()).expect("valid JSON");
        assert_eq!(json["displayTimeUnit"], "ns");
        let events = json["traceEvents"].as_array().expect("a traceEvents array");
        assert!(!events.is_empty());
        for event in events {
            for field in ["ph", "ts", "pid", "tid", "name"] {
                assert!(event.get(field).is_some(), "{field} missing in {event}");
            }
            let ph = event["ph"].as_str().unwrap();
            assert!(["M", "X", "i", "s", "f"].contains(&ph), "unexpected phase {ph}");
            assert!(event["ts"].as_f64().unwrap() >= 0.0);
            if ph == "X" {
                assert!(event["dur"].as_f64().unwrap() >= 0.0, "a slice has a duration: {event}");
            }
        }
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "parsing with serde_json/roxmltree takes minutes under Miri; the renderers' unit tests run there"
)]
fn every_flow_start_has_a_finish_with_the_same_id() {
    let json: serde_json::Value = serde_json::from_str(&many_workers().to_chrome_trace()).unwrap();
    let events = json["traceEvents"].as_array().unwrap();
    let ids = |ph: &str| -> Vec<u64> {
        let mut ids: Vec<u64> = events
            .iter()
            .filter(|e| e["ph"] == ph)
            .map(|e| e["id"].as_u64().unwrap())
            .collect();
        ids.sort_unstable();
        ids
    };
    let (starts, finishes) = (ids("s"), ids("f"));
    assert!(
        starts.len() >= WORKERS,
        "a wake for every worker at least: {}",
        starts.len()
    );
    assert_eq!(starts, finishes);
    assert!(events.iter().filter(|e| e["ph"] == "f").all(|e| e["bp"] == "e"));
}

#[test]
#[cfg_attr(
    miri,
    ignore = "parsing with serde_json/roxmltree takes minutes under Miri; the renderers' unit tests run there"
)]
fn the_chrome_trace_names_a_track_per_task_and_one_for_the_loop() {
    let json: serde_json::Value = serde_json::from_str(&two_sleepers().to_chrome_trace()).unwrap();
    let names: Vec<(u64, String)> = json["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["ph"] == "M" && e["name"] == "thread_name")
        .map(|e| {
            (
                e["tid"].as_u64().unwrap(),
                e["args"]["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(names[0].0, 0, "track 0 is the loop");
    assert!(names[0].1.starts_with("the loop"));
    assert!(names.iter().any(|(_, n)| n.ends_with(" say hello")));
    assert!(names.iter().any(|(_, n)| n.ends_with(" say world")));
}

#[test]
#[cfg_attr(
    miri,
    ignore = "parsing with serde_json/roxmltree takes minutes under Miri; the renderers' unit tests run there"
)]
fn the_svg_parses_as_xml_with_one_row_group_per_task() {
    for (record, tasks) in [
        (two_sleepers(), 2),
        (many_workers(), WORKERS),
        (hostile_names(), HOSTILE.len()),
    ] {
        let svg = record.to_svg();
        let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "svg");
        assert_eq!(root.attribute("data-tasks"), Some(tasks.to_string().as_str()));
        let rows = root
            .descendants()
            .filter(|n| n.has_tag_name("g") && n.attribute("class") == Some("task"))
            .count();
        assert_eq!(rows, tasks);
        assert!(root.descendants().all(|n| !n.has_tag_name("script")), "no scripts");
        assert!(!svg.contains("href"), "self-contained: nothing linked");
    }
}

#[test]
fn the_gantt_chart_fits_its_width_with_a_line_per_task() {
    let record = many_workers();
    for width in [40, 80, 100] {
        let chart = record.to_gantt(width);
        assert!(
            chart.lines().all(|line| line.chars().count() <= width),
            "width {width}:\n{chart}"
        );
        assert_eq!(chart.lines().filter(|line| line.starts_with("task#")).count(), WORKERS);
    }
    let chart = two_sleepers().to_gantt(100);
    let hello = chart
        .lines()
        .find(|line| line.contains("say hello"))
        .expect("a line for the task");
    assert!(hello.contains('#'), "it ran: {hello}");
}

#[test]
fn the_same_program_draws_the_same_bytes_every_time() {
    let (a, b) = (many_workers(), many_workers());
    assert_eq!(a.to_svg(), b.to_svg());
    assert_eq!(a.to_chrome_trace(), b.to_chrome_trace());
    assert_eq!(a.to_gantt(100), b.to_gantt(100));
}

#[test]
#[cfg_attr(
    miri,
    ignore = "parsing with serde_json/roxmltree takes minutes under Miri; the renderers' unit tests run there"
)]
fn hostile_task_names_stay_inside_their_strings() {
    let record = hostile_names();
    let json: serde_json::Value = serde_json::from_str(&record.to_chrome_trace()).unwrap();
    let tracks: Vec<&str> = json["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["name"] == "thread_name")
        .filter_map(|e| e["args"]["name"].as_str())
        .collect();
    for name in HOSTILE {
        assert!(
            tracks.iter().any(|track| track.ends_with(name)),
            "{name:?} survives the JSON round trip"
        );
    }
    let svg = record.to_svg();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let texts: String = doc.descendants().filter_map(|n| n.text()).collect();
    assert!(
        texts.contains("</text><script>"),
        "markup in a name is text, not markup"
    );
    let chart = record.to_gantt(100);
    assert!(!chart.contains('\u{1b}') && !chart.contains('\u{0}'));
    assert_eq!(
        chart.lines().filter(|line| line.starts_with("task#")).count(),
        HOSTILE.len()
    );
}

#[test]
fn a_record_that_dropped_events_says_so_in_every_picture() {
    let runtime = Runtime::builder()
        .virtual_clock()
        .record(true)
        .record_capacity(5)
        .build()
        .unwrap();
    runtime.block_on(async {
        for _ in 0..5 {
            spawn_named("short", async {}).await.unwrap();
        }
    });
    let record = runtime.take_record().unwrap();
    assert!(record.dropped > 0);
    let dropped = record.dropped.to_string();
    assert!(record.to_svg().contains(&format!("{dropped} events dropped")));
    assert!(record.to_chrome_trace().contains(&format!("\"dropped\":{dropped}")));
    assert!(record.to_gantt(100).contains(&format!("{dropped} EVENTS DROPPED")));
}

//! The `evloop` log target: the slow-poll warning names the task, and trace lines show spawns,
//! wakes with their causes, and polls. Loggers are process-wide, so this file installs one
//! capturing logger and runs its checks in one test.

use std::sync::Mutex;
use std::time::Duration;

use log::{Level, LevelFilter, Log, Metadata, Record};

static RECORDS: Mutex<Vec<(Level, String)>> = Mutex::new(Vec::new());

struct Capture;

impl Log for Capture {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.target().starts_with("evloop")
    }

    fn log(&self, record: &Record<'_>) {
        if self.enabled(record.metadata()) {
            RECORDS
                .lock()
                .unwrap()
                .push((record.level(), record.args().to_string()));
        }
    }

    fn flush(&self) {}
}

fn take() -> Vec<(Level, String)> {
    std::mem::take(&mut *RECORDS.lock().unwrap())
}

#[test]
fn the_log_target_shows_the_schedule_and_names_slow_tasks() {
    log::set_logger(&Capture).expect("no other logger in this test binary");

    // Warnings only: a slow poll is reported with the task's name, even on its last poll.
    // The threshold is real time on purpose (it measures how long a poll really took). Under
    // Miri every poll is interpreted, so an ordinary one can take tens of milliseconds: there
    // the threshold and the slow polls are a hundred times longer, "3" and "2" below then
    // reading as 3 s and 2.5 s.
    let scale = if cfg!(miri) { 100 } else { 1 };
    log::set_max_level(LevelFilter::Warn);
    let rt = evloop::Runtime::builder()
        .slow_poll_threshold(Some(Duration::from_millis(20 * scale)))
        .build()
        .unwrap();
    rt.block_on(async move {
        let sleepy = evloop::spawn_named("sleepy", async move {
            std::thread::sleep(Duration::from_millis(30 * scale))
        });
        sleepy.await.unwrap();
        evloop::call_soon(move || std::thread::sleep(Duration::from_millis(25 * scale)));
        evloop::yield_now().await;
    });
    let warnings = take();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    let (level, text) = &warnings[0];
    assert_eq!(*level, Level::Warn);
    assert!(text.contains("(\"sleepy\") blocked the loop for 3"), "{text}");
    assert!(
        warnings[1].1.starts_with("callback#") && warnings[1].1.contains("blocked the loop for 2"),
        "{warnings:?}"
    );

    // Quick polls raise no warning.
    rt.block_on(async { evloop::spawn(async {}).await.unwrap() });
    assert!(take().is_empty());

    // Trace: every spawn, wake (with its cause) and poll.
    log::set_max_level(LevelFilter::Trace);
    let rt = evloop::Runtime::builder().virtual_clock().build().unwrap();
    rt.block_on(async {
        let t = evloop::spawn_named("sleeper", evloop::time::sleep(Duration::from_millis(5)));
        t.await.unwrap();
    });
    let lines: Vec<String> = take().into_iter().map(|(_, text)| text).collect();
    let has = |needle: &str| lines.iter().any(|l| l.contains(needle));
    assert!(has("spawn task#0.1 \"sleeper\""), "{lines:#?}");
    assert!(has("queue task#0.1: woken by a timer"), "{lines:#?}");
    assert!(has("ran task#0.1 (\"sleeper\") in"), "{lines:#?}");
    assert!(has("complete task#0.1 \"sleeper\""), "{lines:#?}");
    assert!(has("queue the block_on future: woken by task#0.1"), "{lines:#?}");
    assert!(has("virtual clock jumps to the next timer"), "{lines:#?}");
    assert!(
        has("ran the block_on future in"),
        "the final poll of main is traced: {lines:#?}"
    );
}

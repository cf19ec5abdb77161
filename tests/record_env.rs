//! `EVLOOP_RECORD` switches recording on without a rebuild, and an explicit `Builder::record`
//! wins over it. The variable is read when a runtime is built, so each case runs this test
//! binary again as a child process with the variable set (the parent never changes its own
//! environment, which other test threads may be reading).

use std::process::Command;

use evloop::Runtime;

/// Set in the child's environment: which case to check.
const CASE: &str = "EVLOOP_RECORD_TEST_CASE";

/// The child's half: builds runtimes under the environment it was given and prints what they
/// do; a no-op when run as an ordinary test.
#[test]
fn child_reports_what_the_environment_asked_for() {
    let Ok(case) = std::env::var(CASE) else { return };
    let default = Runtime::builder().virtual_clock().build().unwrap();
    let record = default.take_record();
    let told_off = Runtime::builder().record(false).build().unwrap();
    let told_cap = Runtime::builder().record_capacity(2).build().unwrap();
    told_cap.block_on(async {});
    let capped = told_cap.take_record().map(|record| record.cap);
    println!(
        "{case}: default {} cap {:?}; record(false) {}; record_capacity(2) cap {capped:?}",
        default.is_recording(),
        record.map(|record| record.cap),
        told_off.is_recording(),
    );
}

/// Runs the child half with `EVLOOP_RECORD` set to `value` (or unset) and returns its line.
fn child_line(value: Option<&str>) -> String {
    let mut child = Command::new(std::env::current_exe().expect("the test binary"));
    child
        .args([
            "--exact",
            "child_reports_what_the_environment_asked_for",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CASE, value.unwrap_or("unset"))
        .env_remove("EVLOOP_RECORD");
    if let Some(value) = value {
        child.env("EVLOOP_RECORD", value);
    }
    let output = child.output().expect("the child runs");
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    // The harness may print "test … ... " on the same line, before the report.
    let line = stdout.lines().find(|line| line.contains(": default "));
    let line = line.unwrap_or_else(|| panic!("no report in {stdout}"));
    line.rsplit(" ... ").next().unwrap_or(line).to_string()
}

#[test]
#[cfg_attr(miri, ignore = "runs this test binary again as a child process")]
fn the_environment_variable_switches_recording_on_and_the_builder_has_the_last_word() {
    let cap = evloop::record::DEFAULT_CAP;
    assert_eq!(
        child_line(None),
        "unset: default false cap None; record(false) false; record_capacity(2) cap None"
    );
    assert_eq!(
        child_line(Some("1")),
        format!("1: default true cap Some({cap}); record(false) false; record_capacity(2) cap Some(2)")
    );
    assert_eq!(
        child_line(Some("500")),
        "500: default true cap Some(500); record(false) false; record_capacity(2) cap Some(2)"
    );
    assert_eq!(
        child_line(Some("0")),
        "0: default false cap None; record(false) false; record_capacity(2) cap None"
    );
    // Not understood: a warning (through `log`), and no recording.
    assert_eq!(
        child_line(Some("yes please")),
        "yes please: default false cap None; record(false) false; record_capacity(2) cap None"
    );
}

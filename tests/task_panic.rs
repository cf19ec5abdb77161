//! Panics in tasks and callbacks are caught, reported where someone will see them, and leave
//! the loop running.

mod support;

use evloop::{call_soon, spawn, spawn_named, yield_now};
use support::{Log, capture_exceptions};

#[test]
fn a_panic_goes_to_the_join_handle_and_other_tasks_keep_running() {
    let rt = evloop::Runtime::new().unwrap();
    let reports = capture_exceptions(&rt);
    rt.block_on(async {
        let bystander = spawn(async {
            yield_now().await;
            "still here"
        });
        let failing = spawn(async { panic!("boom") });
        let error = failing.await.unwrap_err();
        assert!(error.is_panic());
        assert_eq!(error.panic_message(), Some("boom"));
        assert!(error.to_string().ends_with("panicked: boom"), "{error}");
        assert_eq!(bystander.await.unwrap(), "still here");
    });
    assert!(
        reports.take().is_empty(),
        "a panic delivered to its handle is not reported again"
    );
}

#[test]
fn a_detached_task_panic_goes_to_the_exception_handler() {
    let rt = evloop::Runtime::new().unwrap();
    let reports = capture_exceptions(&rt);
    let id = rt.block_on(async {
        let task = spawn_named("worker", async { panic!("lost {}", 42) });
        let id = task.id();
        drop(task);
        yield_now().await;
        id
    });
    assert_eq!(
        reports.take(),
        [format!(
            "Task exception was never retrieved: {id} (\"worker\") panicked: lost 42"
        )]
    );
}

#[test]
fn a_handle_dropped_unread_reports_the_panic_when_dropped() {
    let rt = evloop::Runtime::new().unwrap();
    let reports = capture_exceptions(&rt);
    rt.block_on(async {
        let task = spawn(async { panic!("unread") });
        yield_now().await;
        assert!(task.is_finished());
        assert!(reports.snapshot().is_empty(), "the handle may still read it");
        drop(task);
        assert_eq!(reports.snapshot().len(), 1);
    });
    assert!(reports.take()[0].ends_with("panicked: unread"));
}

#[test]
fn a_callback_panic_goes_to_the_handler_and_later_callbacks_run() {
    let rt = evloop::Runtime::new().unwrap();
    let reports = capture_exceptions(&rt);
    let log = Log::new();
    let l = log.clone();
    rt.block_on(async move {
        call_soon(|| panic!("in callback"));
        call_soon(move || l.push("next callback ran"));
        yield_now().await;
    });
    assert_eq!(log.take(), ["next callback ran"]);
    let reports = reports.take();
    assert_eq!(reports.len(), 1);
    assert!(
        reports[0].starts_with("Exception in callback: callback#"),
        "{}",
        reports[0]
    );
    assert!(reports[0].ends_with("panicked: in callback"));
}

#[test]
fn a_panicking_exception_handler_does_not_take_the_loop_down() {
    let rt = evloop::Runtime::new().unwrap();
    rt.set_exception_handler(|_| panic!("handler is broken"));
    let answer = rt.block_on(async {
        drop(spawn(async { panic!("first") }));
        yield_now().await;
        yield_now().await;
        spawn(async { 1 }).await.unwrap()
    });
    assert_eq!(answer, 1);
}

#[test]
fn a_panicking_destructor_during_cancel_is_reported_as_a_panic() {
    struct Bomb;
    impl Drop for Bomb {
        fn drop(&mut self) {
            panic!("destructor exploded");
        }
    }
    evloop::run(async {
        let task = spawn(async {
            let _b = Bomb;
            std::future::pending::<()>().await;
        });
        yield_now().await;
        task.cancel();
        let error = task.await.unwrap_err();
        assert_eq!(error.panic_message(), Some("destructor exploded"));
    });
}

#[test]
fn the_panic_payload_can_be_resumed() {
    let error = evloop::run(async { spawn(async { std::panic::panic_any(17u32) }).await.unwrap_err() });
    assert_eq!(error.panic_message(), Some("(a panic payload that is not a string)"));
    let payload = error.try_into_panic().unwrap();
    assert_eq!(payload.downcast_ref::<u32>(), Some(&17));
}

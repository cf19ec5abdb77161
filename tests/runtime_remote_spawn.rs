//! `Remote::spawn` (asyncio's `run_coroutine_threadsafe`): a task submitted from another thread,
//! and its handle waited on, awaited, cancelled or detached there. Every path must end in exactly
//! one result, whatever the loop does: the output, the panic, a cancellation, or the loop shutting
//! down before or while the task runs.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use evloop::time::sleep;
use evloop::{RemoteHandle, Runtime};

/// Runs a loop on this thread until `done` says the other side has finished.
fn run_until(runtime: &Runtime, done: &mpsc::Receiver<()>) {
    runtime.block_on(async {
        while done.try_recv().is_err() {
            sleep(Duration::from_millis(1)).await;
        }
    });
}

#[test]
fn a_task_submitted_from_another_thread_runs_on_the_loop_thread_and_its_output_comes_back() {
    let runtime = Runtime::new().unwrap();
    let remote = runtime.remote();
    let loop_thread = thread::current().id();
    let (done_tx, done_rx) = mpsc::channel();
    let other = thread::spawn(move || {
        // The future is built on the loop's thread: it may hold an `Rc`, which is not `Send`.
        let handle = remote.spawn(|| async {
            let local = Rc::new(Cell::new(20));
            sleep(Duration::from_millis(2)).await;
            local.set(local.get() + 1);
            (local.get() * 2, thread::current().id())
        });
        let result = handle.wait();
        done_tx.send(()).unwrap();
        result
    });
    run_until(&runtime, &done_rx);
    let (answer, ran_on) = other.join().unwrap().expect("the task completed");
    assert_eq!(answer, 42);
    assert_eq!(ran_on, loop_thread);
    runtime.block_on(async {});
    assert_eq!(runtime.stats().tasks, 0, "the task and its forwarder both ended");
}

#[test]
fn a_panic_in_the_future_or_in_the_closure_reaches_the_handle() {
    let runtime = Runtime::new().unwrap();
    let remote = runtime.remote();
    let (done_tx, done_rx) = mpsc::channel();
    let other = thread::spawn(move || {
        let in_future = remote.spawn(|| async { panic!("boom in the future") }).wait();
        let in_closure = remote
            .spawn(|| -> std::future::Ready<()> { panic!("boom in the closure") })
            .wait();
        done_tx.send(()).unwrap();
        (in_future, in_closure)
    });
    run_until(&runtime, &done_rx);
    let (in_future, in_closure) = other.join().unwrap();
    let in_future = in_future.unwrap_err();
    assert!(in_future.is_panic());
    assert_eq!(in_future.panic_message(), Some("boom in the future"));
    assert!(in_future.id().is_some());
    assert_eq!(in_closure.unwrap_err().panic_message(), Some("boom in the closure"));
}

#[test]
fn cancel_from_the_other_thread_drops_the_future_on_the_loop_and_the_handle_says_cancelled() {
    let runtime = Runtime::new().unwrap();
    let remote = runtime.remote();
    let dropped = Arc::new(AtomicBool::new(false));
    let dropped_in_task = dropped.clone();
    let (done_tx, done_rx) = mpsc::channel();
    let other = thread::spawn(move || {
        struct SetOnDrop(Arc<AtomicBool>);
        impl Drop for SetOnDrop {
            fn drop(&mut self) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        let mut handle = remote.spawn(move || async move {
            let _guard = SetOnDrop(dropped_in_task);
            sleep(Duration::from_secs(3600)).await;
        });
        assert!(
            handle.wait_timeout(Duration::from_millis(20)).is_none(),
            "still sleeping"
        );
        assert!(!handle.is_finished());
        handle.cancel();
        handle.cancel(); // a second cancel does nothing
        let result = handle.wait();
        done_tx.send(()).unwrap();
        result
    });
    run_until(&runtime, &done_rx);
    let error = other.join().unwrap().unwrap_err();
    assert!(error.is_cancelled());
    assert!(error.id().is_some());
    assert!(dropped.load(Ordering::SeqCst), "the future's destructor ran");
    runtime.block_on(async {});
    let stats = runtime.stats();
    assert_eq!((stats.tasks, stats.timers), (0, 0), "nothing left behind");
}

#[test]
fn a_loop_dropped_before_it_starts_the_task_gives_a_cancelled_error_without_an_id() {
    let runtime = Runtime::new().unwrap();
    let handle = runtime.remote().spawn(|| async { 1 });
    drop(runtime);
    let error = handle.wait().unwrap_err();
    assert!(error.is_cancelled());
    assert_eq!(error.id(), None);
    assert!(error.to_string().contains("shut down"), "{error}");
}

#[test]
fn submitting_to_a_dropped_loop_gives_a_cancelled_error_at_once() {
    let runtime = Runtime::new().unwrap();
    let remote = runtime.remote();
    drop(runtime);
    let error = remote.spawn_future(async { 1 }).wait().unwrap_err();
    assert!(error.is_cancelled());
}

#[test]
fn a_loop_dropped_while_the_task_runs_cancels_it() {
    let runtime = Runtime::new().unwrap();
    let handle = runtime.remote().spawn(|| sleep(Duration::from_secs(3600)));
    runtime.block_on(sleep(Duration::from_millis(1))); // the task starts and parks
    drop(runtime);
    let error = handle.wait().unwrap_err();
    assert!(error.is_cancelled());
    assert!(error.id().is_some());
}

#[test]
fn a_handle_can_be_awaited_on_another_loop() {
    let runtime = Runtime::new().unwrap();
    let remote = runtime.remote();
    let (done_tx, done_rx) = mpsc::channel();
    let other = thread::spawn(move || {
        let other_loop = Runtime::new().unwrap();
        let output = other_loop.block_on(async {
            let handle: RemoteHandle<u32> = remote.spawn(|| async {
                sleep(Duration::from_millis(2)).await;
                7
            });
            handle.await
        });
        done_tx.send(()).unwrap();
        output
    });
    run_until(&runtime, &done_rx);
    assert_eq!(other.join().unwrap().unwrap(), 7);
}

#[test]
fn waiting_on_the_thread_of_a_running_loop_panics_with_the_reason() {
    let runtime = Runtime::new().unwrap();
    let handle = runtime.remote().spawn(|| async {});
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        runtime.block_on(async move { handle.wait() })
    }))
    .unwrap_err();
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(message.contains("would block it"), "{message}");
    assert!(message.contains(".await"), "{message}");
    // The loop is still usable.
    assert_eq!(runtime.block_on(async { 5 }), 5);
}

#[test]
fn a_dropped_handle_detaches_the_task_which_still_runs() {
    // A virtual clock: the task's 1 ms sleep ends before main's 20 ms one however slowly the
    // machine (or Miri) runs.
    let runtime = Runtime::builder().virtual_clock().build().unwrap();
    let ran = Arc::new(AtomicBool::new(false));
    let ran_in_task = ran.clone();
    drop(runtime.remote().spawn(move || async move {
        sleep(Duration::from_millis(1)).await;
        ran_in_task.store(true, Ordering::SeqCst);
    }));
    runtime.block_on(sleep(Duration::from_millis(20)));
    assert!(ran.load(Ordering::SeqCst));
    assert_eq!(runtime.stats().tasks, 0);
}

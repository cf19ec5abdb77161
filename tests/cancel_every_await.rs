//! Cancellation at every await point, for every primitive in `sync`, every combinator, the
//! timers, the sockets and an HTTP GET: each scenario is run by
//! [`support::cancel::cancel_at_every_await`], which cancels it after k polls for every k, in
//! three ways (dropped while parked, dropped after its wake but before its re-poll, cancelled
//! through `JoinHandle::cancel`), and checks after each cancellation that the primitive is whole
//! and the loop is back to its baseline. Each test asserts how many await points it covered.
//!
//! The scenarios are in one file per area, under `cancel_every_await/`: `sync.rs` (the waiting
//! primitives), `sync_queue.rs` (the queue and `oneshot`), `combinators.rs` (with
//! `TaskGroup`, `shield` and the timers), `net.rs` and `http.rs`.

#[path = "support/script_server.rs"]
mod script_server;
mod support;

#[path = "cancel_every_await/combinators.rs"]
mod combinators;
#[path = "cancel_every_await/http.rs"]
mod http;
#[path = "cancel_every_await/net.rs"]
mod net;
#[path = "cancel_every_await/sync.rs"]
mod sync;
#[path = "cancel_every_await/sync_queue.rs"]
mod sync_queue;

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use evloop::JoinHandle;

/// `n` milliseconds.
fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// The output of a helper task that must have finished by the time the check runs; `what`
/// says which helper, and what its not finishing would mean.
async fn finished<T: 'static>(handle: JoinHandle<T>, what: &str) -> T {
    assert!(handle.is_finished(), "{what} never finished");
    match handle.await {
        Ok(output) => output,
        Err(error) => panic!("{what} failed: {error}"),
    }
}

/// Polls `future` once; `Some` if that completed it (for "the next operation works at once").
fn now_or_never<F: Future>(future: F) -> Option<F::Output> {
    let future = pin!(future);
    match future.poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => Some(output),
        Poll::Pending => None,
    }
}

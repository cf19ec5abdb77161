//! Seeing the schedule: the lines the loop writes to the `evloop` log target.
//!
//! Run any example with `RUST_LOG=evloop=trace` to watch the loop turn: every spawn, every
//! wake and what caused it (a timer, I/O, another task, another thread), every poll and how
//! long it took, every `epoll_wait` and its timeout, every virtual-clock jump.
//!
//! This file only formats: one function per kind of line. When the loop calls them, and what
//! that costs when logging is off, is `runtime/observe.rs`.

use std::time::Duration;

use crate::scheduler::{CallbackId, Cause};
use crate::task::TaskId;

/// The log target of every line the loop writes.
pub(crate) const TARGET: &str = "evloop";

pub(crate) fn spawned(id: TaskId, name: Option<&str>, parent: Option<TaskId>) {
    match parent {
        Some(parent) => log::trace!(target: TARGET, "spawn {id} {:?} from {parent}", name.unwrap_or("")),
        None => log::trace!(target: TARGET, "spawn {id} {:?}", name.unwrap_or("")),
    }
}

pub(crate) fn woken(id: TaskId, cause: Cause) {
    log::trace!(target: TARGET, "queue {id}: {}", why(cause));
}

pub(crate) fn main_woken(cause: Cause) {
    log::trace!(target: TARGET, "queue the block_on future: {}", why(cause));
}

fn why(cause: Cause) -> String {
    match cause {
        Cause::Spawn => "woken from outside any task or callback".to_string(),
        Cause::Task(by) => format!("woken by {by}"),
        Cause::Callback => "woken by a callback or the block_on future".to_string(),
        Cause::Timer => "woken by a timer".to_string(),
        Cause::Io { source, direction } => {
            format!("woken by I/O readiness ({direction:?} on source {})", source.number())
        }
        Cause::Remote => "woken from another thread".to_string(),
    }
}

pub(crate) fn completed(id: TaskId, name: Option<&str>) {
    log::trace!(target: TARGET, "complete {id} {:?}", name.unwrap_or(""));
}

pub(crate) fn cancelled(id: TaskId) {
    log::trace!(target: TARGET, "cancel {id}: dropping its future instead of polling it");
}

pub(crate) fn callback(id: CallbackId) {
    log::trace!(target: TARGET, "run {id}");
}

pub(crate) fn polling_io(timeout: Option<Duration>) {
    match timeout {
        Some(t) if t.is_zero() => log::trace!(target: TARGET, "check I/O without blocking"),
        Some(t) => log::trace!(target: TARGET, "block in epoll_wait for up to {t:?} (next timer)"),
        None => log::trace!(target: TARGET, "block in epoll_wait until I/O or a wake (no timers)"),
    }
}

pub(crate) fn virtual_jump(ms_since_start: u64) {
    log::trace!(target: TARGET, "virtual clock jumps to the next timer: now {ms_since_start} ms after the loop was built");
}

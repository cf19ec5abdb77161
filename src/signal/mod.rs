//! Unix signals on the loop: [`ctrl_c`], a stream of any signal ([`signal`]), and asyncio's
//! `loop.add_signal_handler` ([`add_signal_handler`]).
//!
//! A signal interrupts whatever a thread was doing, at any instruction, so its handler may do
//! almost nothing (DESIGN.md, "Signals"): evloop's counts the delivery and writes one byte to a
//! pipe that each listening loop watches with its reactor. The loop then reads the pipe like any
//! socket, on its own thread, and wakes the listeners that have not seen the new delivery yet.
//! This is the self-pipe trick asyncio uses (`signal.set_wakeup_fd`), as do tokio and smol.
//!
//! What to expect:
//!
//! - **Nothing is lost** between creating a listener and polling it: a listener remembers the
//!   delivery count at its creation, and the first poll compares.
//! - **Everybody sees it**: every listener, on every loop in the process, sees each signal.
//! - **Deliveries coalesce**: `recv` says "at least once since you last asked", as tokio's does
//!   (the kernel merges repeated standard signals anyway).
//! - **The default comes back**: the first listener of a signal installs evloop's handler, the
//!   last one to go restores what was there before, as asyncio's `remove_signal_handler` does.
//!   A handler installed by other code is never replaced: creating a listener then fails.
//! - **Registrations undo themselves**: a loop's first listener adds one task and one I/O
//!   source (the pipe) to its [`Stats`](crate::Stats); its last listener's drop removes both.
//!
//! Read in this order: `kind.rs` (which signals), `registry.rs` (the C handler and the process-
//! wide table; the only unsafe code), `driver.rs` (one loop's pipe and listeners), then
//! `listener.rs` and `handler.rs`, the two ways to listen.

mod driver;
mod handler;
mod kind;
mod listener;
mod registry;

pub use handler::{SignalHandler, add_signal_handler};
pub use kind::SignalKind;
pub use listener::{CtrlC, Signal, ctrl_c, signal};

//! Subprocesses on the loop: spawn a child with piped stdin, stdout and stderr as evloop
//! streams, and await its exit (asyncio's `create_subprocess_exec` and its `Process`; tokio's
//! `tokio::process`; smol's `async-process`).
//!
//! Three things make a child an evloop resource rather than a blocking std one:
//!
//! - **Its pipes are streams** (`stdio.rs`): non-blocking, registered with the reactor, with
//!   the `read`/`write` methods and the [`AsyncRead`](crate::io::AsyncRead) /
//!   [`AsyncWrite`](crate::io::AsyncWrite) impls every evloop stream has.
//! - **Its exit is an I/O event** (`pidfd.rs`): a pidfd, a descriptor that becomes readable
//!   when the process exits, registered with the reactor like a socket. No thread per child
//!   (std's blocking `wait` would need one), and no process-wide `SIGCHLD` handler (which would
//!   take signals meant for other libraries' children). Linux 5.3 or later; elsewhere `spawn`
//!   says so (DESIGN.md, "How a child's exit is observed").
//! - **It is always reaped** (`reap.rs`): by `wait`, or, once its `Child` is dropped, by a small
//!   reaper task on its loop; so no zombie is left behind, with or without `kill_on_drop`.
//!
//! Read in this order: `pidfd.rs`, `reap.rs`, `stdio.rs`, `child.rs`, `command.rs`. Everything
//! stands on `io/source.rs` (one registered descriptor, "try; on `WouldBlock` wait for
//! readiness").

mod child;
mod command;
mod pidfd;
mod reap;
mod stdio;

pub use child::Child;
pub use command::Command;
/// std's types, used as they are: the stream configuration, the exit status and the collected
/// output.
pub use std::process::{ExitStatus, Output, Stdio};
pub use stdio::{ChildStderr, ChildStdin, ChildStdout};

//! Watching a child's exit, and reaping it, also once nobody holds its `Child` any more.
//!
//! A process that has exited stays a *zombie* (its pid and exit status kept by the kernel)
//! until its parent collects the status with `waitpid`: that is *reaping*. A program that
//! spawns children and never reaps them fills the process table. So every child evloop spawns is
//! reaped exactly once, by whichever of these comes first:
//!
//! 1. `Child::wait` / `try_wait` (through [`Exit`]): the pidfd is registered with the loop's
//!    reactor, readable once the child has exited; `waitpid(pid, WNOHANG)` (std's `try_wait`,
//!    which keeps the status, so asking again gives the same answer) then reaps it.
//! 2. `Child` dropped while the child still runs (after a `SIGKILL` if `kill_on_drop` was set):
//!    the same watch is handed to a small detached task on the child's loop, the *reaper*, which
//!    waits on the pidfd like `wait` would and then reaps. No thread waits, however many children
//!    there are (tokio keeps an "orphan queue" that it drains on `SIGCHLD`; a pidfd lets each
//!    orphan wait on its own readiness instead).
//! 3. The reaper cannot run: the `Child` was dropped away from its loop (another thread, no loop
//!    running), or the loop shut down before the child exited. Then one thread, named
//!    `evloop-reaper`, blocks in `waitpid` for that child alone. A killed child dies at once; a
//!    child left running keeps its thread until it exits. This is the price of never leaving a
//!    zombie behind without a process-wide `SIGCHLD` handler.

use std::future::Future;
use std::io;
use std::os::fd::OwnedFd;
use std::pin::Pin;
use std::process::ExitStatus;
use std::task::{Context, Poll};

use crate::io::source::{Fd, IoSource};
use crate::reactor::Direction;

/// A spawned child's exit, as the loop sees it: std's handle (the pid, and the status once
/// reaped) and the registered pidfd. Dropping it hands a child that is still running to the
/// reaper (see the module's docs).
#[derive(Debug)]
pub(super) struct Exit {
    /// The watch. `None` only inside `drop`, which gives it to the reaper.
    watch: Option<Watch>,
    /// Whether dropping this sends `SIGKILL` first (`Command::kill_on_drop`).
    kill_on_drop: bool,
}

/// What watching one child takes; what the reaper task owns once its `Child` is gone.
#[derive(Debug)]
struct Watch {
    /// std's handle, whose pipes have been taken out. Its `try_wait` reaps and then keeps the
    /// status; its `kill` does nothing once the child is reaped (its pid may then be reused by
    /// another process, which must never receive our signal).
    child: std::process::Child,
    /// The child's pidfd, registered with the loop's reactor: readable once the child has exited.
    pidfd: IoSource<Fd<OwnedFd>>,
}

impl Exit {
    /// Starts watching `child`, whose pidfd is `pidfd`.
    ///
    /// # Errors
    /// The reactor's reason for refusing the descriptor; the child is then killed and reaped.
    pub(super) fn new(child: std::process::Child, pidfd: OwnedFd, kill_on_drop: bool) -> io::Result<Exit> {
        let pidfd = match IoSource::new(Fd(pidfd)) {
            Ok(pidfd) => pidfd,
            Err(e) => {
                abandon(child);
                return Err(e);
            }
        };
        Ok(Exit {
            watch: Some(Watch { child, pidfd }),
            kill_on_drop,
        })
    }

    fn watch(&mut self) -> &mut Watch {
        self.watch.as_mut().expect("only drop takes the watch out")
    }

    /// The child's pid.
    pub(super) fn id(&self) -> u32 {
        self.watch.as_ref().expect("only drop takes the watch out").child.id()
    }

    /// The status if the child has exited (reaping it), else `None`; never waits.
    pub(super) fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        self.watch().child.try_wait()
    }

    /// Sends `SIGKILL`, unless the child has already been reaped.
    pub(super) fn start_kill(&mut self) -> io::Result<()> {
        self.watch().child.kill()
    }

    /// Waits for the child's exit and reaps it.
    pub(super) fn poll_wait(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<ExitStatus>> {
        self.watch().poll_exit(cx)
    }

    /// Sets whether dropping this kills the child.
    pub(super) fn set_kill_on_drop(&mut self, kill_on_drop: bool) {
        self.kill_on_drop = kill_on_drop;
    }
}

impl Watch {
    /// The "wait for readiness, try, on `WouldBlock` wait again" step of every socket, with
    /// "try" being a non-blocking `waitpid`. A pidfd stays readable once its process has exited,
    /// so a status that is already known (or a child that exited before anyone asked) is found
    /// at the first look.
    fn poll_exit(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<ExitStatus>> {
        let child = &mut self.child;
        self.pidfd.poll_io(Direction::Read, cx, |_| {
            child.try_wait()?.ok_or_else(|| io::ErrorKind::WouldBlock.into())
        })
    }

    /// Makes sure the child is reaped without anyone awaiting it (paths 2 and 3 of the module's
    /// docs).
    fn orphan(mut self, kill: bool) {
        if kill {
            // Fails only if the child is gone already, which is what we want.
            let _ = self.child.kill();
        }
        match self.child.try_wait() {
            // Reaped now, or not ours to reap (someone set SIGCHLD to be ignored, and the
            // kernel reaped it): nothing is left to do.
            Ok(Some(_)) | Err(_) => {}
            Ok(None) if self.pidfd.is_on_own_loop() => {
                drop(crate::spawn_named(
                    "evloop::process reaper",
                    Reaper { watch: Some(self) },
                ));
            }
            Ok(None) => {
                let Watch { child, pidfd } = self;
                drop(pidfd); // deregisters, through its loop's inbox when away from it
                reap_on_a_thread(child);
            }
        }
    }
}

/// The reaper task's future: waits for one orphan's exit and reaps it.
#[derive(Debug)]
#[must_use = "a future does nothing unless polled"]
struct Reaper {
    /// The orphan; `None` once it has been reaped.
    watch: Option<Watch>,
}

impl Future for Reaper {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let Some(watch) = self.watch.as_mut() else {
            return Poll::Ready(());
        };
        // An error (`ECHILD`: reaped by someone else) ends the watch just as a status does.
        let _status = std::task::ready!(watch.poll_exit(cx));
        self.watch = None; // deregisters the pidfd and closes it
        Poll::Ready(())
    }
}

impl Drop for Reaper {
    /// The loop is shutting down (or the task was cancelled) before the orphan exited.
    fn drop(&mut self) {
        if let Some(Watch { mut child, pidfd }) = self.watch.take() {
            drop(pidfd);
            if let Ok(None) = child.try_wait() {
                reap_on_a_thread(child);
            }
        }
    }
}

impl Drop for Exit {
    fn drop(&mut self) {
        if let Some(watch) = self.watch.take() {
            watch.orphan(self.kill_on_drop);
        }
    }
}

/// A child that cannot be watched (its pidfd could not be opened or registered): kills it and
/// makes sure it is reaped.
pub(super) fn abandon(mut child: std::process::Child) {
    let _ = child.kill();
    if let Ok(None) = child.try_wait() {
        reap_on_a_thread(child);
    }
}

/// Path 3: one thread blocks in `waitpid` for `child`, then ends.
fn reap_on_a_thread(mut child: std::process::Child) {
    let pid = child.id();
    let spawned = std::thread::Builder::new()
        .name("evloop-reaper".to_string())
        .spawn(move || drop(child.wait()));
    if let Err(e) = spawned {
        log::warn!(
            target: "evloop",
            "could not start a thread to reap child process {pid} ({e}); it stays a zombie until this process exits"
        );
    }
}

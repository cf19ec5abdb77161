//! `Child`: a running child process (asyncio's `Process`, tokio's `Child`).
//!
//! A `Child` is its three optional pipes plus its [`Exit`] (`reap.rs`): the pidfd registered with
//! the loop and std's handle, which reaps and remembers the status. The pipes are public fields,
//! as in std and tokio, so they can be moved out and handed to other tasks while this task waits.

use std::future::poll_fn;
use std::io;
use std::process::{ExitStatus, Output};
use std::task::Poll;

use crate::process::reap::Exit;
use crate::process::stdio::{ChildStderr, ChildStdin, ChildStdout};

/// A child process spawned by [`Command::spawn`](crate::process::Command::spawn).
///
/// Dropping a `Child` does not stop the process (as with std and tokio), unless
/// [`kill_on_drop`](crate::process::Command::kill_on_drop) was set; either way the child is
/// reaped once it exits, by a small reaper task on its loop, so no zombie is left behind.
///
/// # Examples
///
/// `cat` echoes what it is given: write, close its stdin, read its stdout to the end, wait.
///
/// ```
/// use evloop::process::{Command, Stdio};
///
/// let echoed = evloop::run(async {
///     let mut child = Command::new("cat").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn()?;
///     let stdin = child.stdin.take().expect("piped");
///     stdin.write_all(b"one line\n").await?;
///     drop(stdin); // closes the pipe: cat reads end of file, and exits
///     let mut echoed = Vec::new();
///     child.stdout.as_ref().expect("piped").read_to_end(&mut echoed).await?;
///     assert!(child.wait().await?.success());
///     Ok::<_, std::io::Error>(echoed)
/// })?;
/// assert_eq!(echoed, b"one line\n");
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
#[doc(alias = "Process")]
pub struct Child {
    /// The writing end of the child's stdin, if it was spawned with `Stdio::piped()`.
    pub stdin: Option<ChildStdin>,
    /// The reading end of the child's stdout, if piped.
    pub stdout: Option<ChildStdout>,
    /// The reading end of the child's stderr, if piped.
    pub stderr: Option<ChildStderr>,
    /// Its exit: the pidfd and std's handle. Its drop hands a running child to the reaper.
    exit: Exit,
}

impl Child {
    /// Puts the parts together (`Command::spawn`).
    pub(super) fn new(
        exit: Exit,
        stdin: Option<ChildStdin>,
        stdout: Option<ChildStdout>,
        stderr: Option<ChildStderr>,
    ) -> Child {
        Child {
            stdin,
            stdout,
            stderr,
            exit,
        }
    }

    /// The child's process id (asyncio's `proc.pid`). Once the child has been reaped the
    /// number is free for the OS to give to a new process.
    #[doc(alias = "pid")]
    pub fn id(&self) -> u32 {
        self.exit.id()
    }

    /// Waits for the child to exit and returns its status (asyncio's `await proc.wait()`).
    /// Closes the child's stdin first, if it is still held here, so that a child reading its
    /// input to the end cannot wait for us while we wait for it. A child that has already exited
    /// (before this was called, or before it was ever polled) gives its status at once, and so
    /// does every later call.
    ///
    /// # Errors
    /// The OS's reason from `waitpid` (`ECHILD` if something outside evloop reaped the child).
    ///
    /// # Cancel safety
    /// Cancel-safe: the status is only collected when this returns it, and is then remembered,
    /// so a wait cancelled by a timeout loses nothing and can be started again.
    ///
    /// # Panics
    /// On a loop other than the one that spawned the child.
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        drop(self.stdin.take());
        poll_fn(|cx| self.exit.poll_wait(cx)).await
    }

    /// The child's status if it has exited (reaping it), `None` if it still runs; never waits
    /// (asyncio's `proc.returncode`).
    ///
    /// # Errors
    /// The OS's reason from `waitpid`.
    #[doc(alias = "returncode")]
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        self.exit.try_wait()
    }

    /// Sends `SIGKILL` and returns without waiting (asyncio's `proc.kill()`). Does nothing if
    /// the child has already been reaped (its pid may belong to another process by then).
    ///
    /// # Errors
    /// The OS's reason from `kill`.
    pub fn start_kill(&mut self) -> io::Result<()> {
        self.exit.start_kill()
    }

    /// Sends `SIGKILL` and waits for the child to die (asyncio's `proc.kill()` then
    /// `await proc.wait()`); [`wait`](Self::wait) then gives the signal's status.
    ///
    /// # Errors
    /// As for [`start_kill`](Self::start_kill) and [`wait`](Self::wait).
    ///
    /// # Cancel safety
    /// The signal is sent at the first poll; cancelling after that only stops the waiting.
    pub async fn kill(&mut self) -> io::Result<()> {
        self.start_kill()?;
        self.wait().await.map(drop)
    }

    /// Sets whether dropping this `Child` kills the process (see
    /// [`Command::kill_on_drop`](crate::process::Command::kill_on_drop)).
    pub fn set_kill_on_drop(&mut self, kill_on_drop: bool) {
        self.exit.set_kill_on_drop(kill_on_drop);
    }

    /// Closes stdin, reads stdout and stderr to the end *at the same time*, and waits for the
    /// exit (asyncio's `await proc.communicate()` with no input). Both pipes are read together
    /// because a child that fills one pipe while we wait on the other would block forever.
    /// Streams that were not piped come back empty.
    ///
    /// # Errors
    /// A pipe's or `waitpid`'s error.
    ///
    /// # Cancel safety
    /// Dropping the future drops the `Child`: the process goes on (or is killed, with
    /// `kill_on_drop`) and is reaped in the background; what was read is lost.
    ///
    /// # Panics
    /// On a loop other than the one that spawned the child.
    #[doc(alias = "communicate")]
    pub async fn wait_with_output(mut self) -> io::Result<Output> {
        drop(self.stdin.take());
        let (stdout_pipe, stderr_pipe) = (self.stdout.take(), self.stderr.take());
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        let (mut stdout_open, mut stderr_open) = (stdout_pipe.is_some(), stderr_pipe.is_some());
        let mut status = None;
        let status = poll_fn(|cx| {
            // Each part is polled until it is done; the future is done when all three are.
            if let (true, Some(pipe)) = (stdout_open, &stdout_pipe) {
                stdout_open = pipe.poll_read_to_end(cx, &mut stdout)?.is_pending();
            }
            if let (true, Some(pipe)) = (stderr_open, &stderr_pipe) {
                stderr_open = pipe.poll_read_to_end(cx, &mut stderr)?.is_pending();
            }
            if status.is_none()
                && let Poll::Ready(exited) = self.exit.poll_wait(cx)
            {
                status = Some(exited?);
            }
            match status {
                Some(status) if !stdout_open && !stderr_open => Poll::Ready(Ok::<_, io::Error>(status)),
                _ => Poll::Pending,
            }
        })
        .await?;
        Ok(Output { status, stdout, stderr })
    }
}

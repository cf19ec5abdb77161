//! `Command`: what to run and how, and `spawn` (asyncio's `create_subprocess_exec`).
//!
//! A thin layer over `std::process::Command`, which already knows how to start a process
//! (`fork`/`exec` or `posix_spawn`, the environment, the working directory, the pipes). What is
//! evloop's is `spawn`: before the child starts, it makes sure a pidfd can watch it; after, it
//! opens the child's pidfd and registers it and the pipes with the loop.

use std::ffi::OsStr;
use std::io;
use std::path::Path;
use std::process::{ExitStatus, Output, Stdio};

use crate::process::child::Child;
use crate::process::pidfd;
use crate::process::reap::{self, Exit};
use crate::process::stdio::{ChildStderr, ChildStdin, ChildStdout};

/// A process to start: its program, arguments, environment, working directory and standard
/// streams (asyncio's `create_subprocess_exec(program, *args, stdin=…, stdout=…, env=…,
/// cwd=…)`; the methods are std's).
///
/// # Examples
///
/// Lines in, sorted lines out (the `subprocess_sort` example adds a timeout that kills a child
/// that hangs):
///
/// ```
/// use evloop::process::{Command, Stdio};
///
/// let sorted = evloop::run(async {
///     let mut sort = Command::new("sort").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn()?;
///     let stdin = sort.stdin.take().expect("piped");
///     // Write from a task of its own: a large input could fill the pipe while sort's output
///     // fills the other one, and each side would wait for the other.
///     let writer = evloop::spawn(async move { stdin.write_all(b"pear\napple\nfig\n").await });
///     let output = sort.wait_with_output().await?; // asyncio's `await proc.communicate()`
///     writer.await.expect("not cancelled")?;
///     assert!(output.status.success());
///     Ok::<_, std::io::Error>(output.stdout)
/// })?;
/// assert_eq!(sorted, b"apple\nfig\npear\n");
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
#[doc(alias = "create_subprocess_exec")]
pub struct Command {
    /// std's builder, which holds everything but the two flags below.
    std: std::process::Command,
    /// Which streams the caller chose (stdin, stdout, stderr): `output` gives the others its own
    /// defaults (null, piped, piped) and puts spawn's defaults (inherit) back afterwards.
    chosen: [bool; 3],
    /// Whether dropping the `Child` kills the process.
    kill_on_drop: bool,
}

impl Command {
    /// A command to run `program`, found on `PATH` unless it contains a `/`; no arguments, the
    /// parent's environment and working directory, and the three streams inherited.
    pub fn new(program: impl AsRef<OsStr>) -> Command {
        Command {
            std: std::process::Command::new(program),
            chosen: [false; 3],
            kill_on_drop: false,
        }
    }

    /// Adds one argument.
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Command {
        self.std.arg(arg);
        self
    }

    /// Adds several arguments.
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.std.args(args);
        self
    }

    /// Sets one environment variable for the child.
    pub fn env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut Command {
        self.std.env(key, value);
        self
    }

    /// Removes one variable from the child's environment.
    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut Command {
        self.std.env_remove(key);
        self
    }

    /// Starts the child with an empty environment (then `env` adds to it).
    pub fn env_clear(&mut self) -> &mut Command {
        self.std.env_clear();
        self
    }

    /// Sets the child's working directory (asyncio's `cwd=`).
    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Command {
        self.std.current_dir(dir);
        self
    }

    /// Sets the child's stdin: `Stdio::piped()` gives a [`ChildStdin`] to write to,
    /// `Stdio::null()` an empty input, `Stdio::inherit()` (the default) ours.
    pub fn stdin(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.chosen[0] = true;
        self.std.stdin(cfg);
        self
    }

    /// Sets the child's stdout (`Stdio::piped()` gives a [`ChildStdout`] to read).
    pub fn stdout(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.chosen[1] = true;
        self.std.stdout(cfg);
        self
    }

    /// Sets the child's stderr (`Stdio::piped()` gives a [`ChildStderr`] to read).
    pub fn stderr(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.chosen[2] = true;
        self.std.stderr(cfg);
        self
    }

    /// Whether dropping the [`Child`] (or the future of `output` or `status`) sends the process
    /// `SIGKILL`. Off by default, as in std and tokio: a dropped child keeps running, and is
    /// reaped once it exits.
    pub fn kill_on_drop(&mut self, kill_on_drop: bool) -> &mut Command {
        self.kill_on_drop = kill_on_drop;
        self
    }

    /// std's builder, for what this type does not forward (`std::os::unix::process::CommandExt`:
    /// `uid`, `process_group`, `pre_exec`…). Set the streams through this type, not std's, so
    /// that [`output`](Self::output) knows which ones were chosen.
    pub fn as_std_mut(&mut self) -> &mut std::process::Command {
        &mut self.std
    }

    /// Starts the child. Its piped streams and its exit are registered with the current loop.
    ///
    /// # Errors
    /// `NotFound` if the program does not exist, `PermissionDenied` if it is not executable, the
    /// OS's other reasons; `Unsupported` on a system without `pidfd_open` (Linux before 5.3),
    /// checked before any child starts (DESIGN.md says why there is no fallback).
    ///
    /// # Panics
    /// Outside a running evloop loop (before any child starts).
    pub fn spawn(&mut self) -> io::Result<Child> {
        // Both checks come before the child exists: one that nothing could watch must not run.
        let _ = crate::stats(); // panics outside a loop, with the reason
        pidfd::check_supported()?;
        let mut child = self.std.spawn()?;
        // From here on the child runs, so every failure must still see it killed and reaped.
        let (stdin, stdout, stderr) = (child.stdin.take(), child.stdout.take(), child.stderr.take());
        let pidfd = match pidfd::open(child.id()) {
            Ok(pidfd) => pidfd,
            Err(e) => {
                reap::abandon(child);
                return Err(e);
            }
        };
        let mut exit = Exit::new(child, pidfd, self.kill_on_drop)?;
        let pipes = (|| {
            Ok::<_, io::Error>((
                stdin.map(ChildStdin::new).transpose()?,
                stdout.map(ChildStdout::new).transpose()?,
                stderr.map(ChildStderr::new).transpose()?,
            ))
        })();
        match pipes {
            Ok((stdin, stdout, stderr)) => Ok(Child::new(exit, stdin, stdout, stderr)),
            Err(e) => {
                exit.set_kill_on_drop(true); // dropped on return: killed, then reaped
                Err(e)
            }
        }
    }

    /// Runs the child to its end and collects its output (std's `output`; asyncio's
    /// `create_subprocess_exec(…, stdout=PIPE, stderr=PIPE)` then `communicate()`). Streams the
    /// caller did not choose are: stdin null, stdout and stderr piped. Both pipes are read at
    /// the same time.
    ///
    /// # Errors
    /// As for [`spawn`](Self::spawn) and [`Child::wait_with_output`].
    ///
    /// # Cancel safety
    /// Dropping the future drops the child's pipes and its `Child`: the process is killed if
    /// `kill_on_drop` is set, and is reaped in the background either way.
    ///
    /// # Panics
    /// Outside a running evloop loop.
    pub async fn output(&mut self) -> io::Result<Output> {
        let defaults = [Stdio::null, Stdio::piped, Stdio::piped];
        self.set_unchosen(defaults);
        let spawned = self.spawn();
        self.set_unchosen([Stdio::inherit, Stdio::inherit, Stdio::inherit]);
        spawned?.wait_with_output().await
    }

    /// Runs the child to its end with the streams as configured (inherited by default) and
    /// returns its exit status (std's `status`).
    ///
    /// # Errors
    /// As for [`spawn`](Self::spawn) and [`Child::wait`].
    ///
    /// # Cancel safety
    /// As for [`output`](Self::output).
    ///
    /// # Panics
    /// Outside a running evloop loop.
    pub async fn status(&mut self) -> io::Result<ExitStatus> {
        self.spawn()?.wait().await
    }

    /// Sets each stream the caller did not choose to what `make` gives.
    fn set_unchosen(&mut self, make: [fn() -> Stdio; 3]) {
        let [stdin, stdout, stderr] = make;
        if !self.chosen[0] {
            self.std.stdin(stdin());
        }
        if !self.chosen[1] {
            self.std.stdout(stdout());
        }
        if !self.chosen[2] {
            self.std.stderr(stderr());
        }
    }
}

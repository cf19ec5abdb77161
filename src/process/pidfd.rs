//! A pidfd: a file descriptor that names one process and becomes readable when it exits.
//!
//! Linux 5.3 added `pidfd_open(pid, 0)`. The descriptor it returns refers to the process itself,
//! not to its number, so it cannot be confused with a later process that reuses the pid; and it
//! polls readable once the process has exited. That turns "has my child exited?" into one more
//! readiness event for the reactor, exactly like "has this socket got bytes?": no thread waits
//! for the child, and no process-wide `SIGCHLD` handler is installed (DESIGN.md, "How a child's
//! exit is observed", has the comparison with tokio's and asyncio's choices).
//!
//! std does not wrap the syscall yet (its `CommandExt::create_pidfd` is unstable), and libc has
//! no function for it either, only the syscall number: so this file holds `process/`'s one
//! `libc` call and its only `unsafe`.

use std::io;
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicBool, Ordering};

/// Opens a pidfd for `pid`, close-on-exec (as `pidfd_open` always makes it).
///
/// # Errors
/// `ESRCH` if no such process exists, `EMFILE` when out of descriptors, `ENOSYS` on kernels
/// older than 5.3 (or where a sandbox hides the call), `Unsupported` off Linux.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(super) fn open(pid: u32) -> io::Result<OwnedFd> {
    use std::os::fd::FromRawFd;

    let pid = libc::pid_t::try_from(pid).map_err(|_| io::Error::from_raw_os_error(libc::ESRCH))?;
    // SAFETY: `pidfd_open` takes a pid and a flags word (0) by value and touches no memory of
    // ours; the worst a wrong pid can do is fail with `ESRCH`.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    let fd = i32::try_from(fd).expect("the kernel returns descriptors that fit an int");
    // SAFETY: the kernel has just created this descriptor for us: it is open, and nothing else
    // in the program knows its number, so the `OwnedFd` is its only owner and closes it once.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Off Linux there is no pidfd; see [`check_supported`].
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(super) fn open(_pid: u32) -> io::Result<OwnedFd> {
    Err(unsupported())
}

/// Checks, before any child is started, that this system can give us pidfds: a child spawned
/// and then found unwatchable would have run for nothing. The answer is remembered once it is
/// yes; a no is asked again next time (it may have been a passing `EMFILE`).
///
/// # Errors
/// `Unsupported`, naming the kernel requirement, where `pidfd_open` does not exist (`ENOSYS`);
/// otherwise the probe's own error (out of descriptors, a sandbox's `EPERM`).
pub(super) fn check_supported() -> io::Result<()> {
    /// Set once a probe has succeeded: the kernel does not lose the syscall later.
    static SUPPORTED: AtomicBool = AtomicBool::new(false);
    if SUPPORTED.load(Ordering::Relaxed) {
        return Ok(());
    }
    match open(std::process::id()) {
        Ok(_probe) => {
            SUPPORTED.store(true, Ordering::Relaxed);
            Ok(())
        }
        Err(e) if e.raw_os_error() == Some(libc::ENOSYS) || e.kind() == io::ErrorKind::Unsupported => {
            Err(unsupported())
        }
        Err(e) => Err(e),
    }
}

/// The error of a system without pidfds.
fn unsupported() -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        "evloop::process needs pidfd_open (Linux 5.3 or later) to watch a child's exit without a \
         thread or a SIGCHLD handler; this system does not provide it",
    )
}

//! The process-wide half of signal handling: the C handler, what it touches, and installing it.
//!
//! A signal handler interrupts a thread at an arbitrary instruction, maybe in the middle of
//! `malloc` or while a lock is held, so it may only do what POSIX calls async-signal-safe: no
//! allocation, no locks, no `println!`, no waker (waking may allocate or lock). The handler
//! here does three things only, all of them safe there:
//!
//! 1. it adds one to the signal's *delivered* counter (an atomic in a static array);
//! 2. for each runtime that listens to this signal, it writes one byte to that runtime's
//!    self-pipe (`write(2)` is on POSIX's list; the pipe is non-blocking, so a full pipe gives
//!    `EAGAIN`, which is fine: the bytes already in it will wake the loop);
//! 3. it saves and restores `errno`, which `write` may change under the interrupted code's feet.
//!
//! Everything else (reading the pipe, comparing counters, waking tasks) happens later, on each
//! loop's own thread, in `driver.rs`. This is the *self-pipe trick* (D. J. Bernstein; asyncio's
//! `signal.set_wakeup_fd`, tokio's `signal/unix.rs` over signal-hook-registry, smol's
//! async-signal); the difference from those is that each runtime has its own pipe, published
//! in a fixed table of [`WAKE_SLOTS`] entries, so no runtime is woken for a signal it does not
//! listen to and a runtime that stops listening closes its pipe.
//!
//! **Closing a pipe the handler may be writing to.** A slot holds a raw descriptor. If a runtime
//! closed its pipe while a handler on another thread had just loaded that number, the handler's
//! `write` could hit whatever file reused the number. So each slot counts the handlers inside it
//! (`busy`): the handler increments it *before* loading the descriptor; [`WakeSlot`]'s drop
//! first stores -1, then waits for `busy` to reach zero, and only then closes the pipe. All of
//! these are `SeqCst`, so either the handler's increment comes first (and the closer waits) or
//! its load comes after the -1 (and it writes nothing).
//!
//! **Installing and restoring.** The handler is installed with `sigaction` (`SA_RESTART`, so
//! that interrupted blocking calls elsewhere in the program are restarted) when the process's
//! first listener of a signal is created, and the signal's previous disposition is put back
//! when its last listener is dropped, as asyncio's `remove_signal_handler` does: an embedder who
//! stops listening to Ctrl-C gets Ctrl-C's default action (terminate) back. (tokio instead keeps
//! its handler for the rest of the process.) A previous disposition that is a *handler installed
//! by other code* is never replaced: [`acquire`] refuses with an error rather than silently
//! displacing it (chaining to it would mean calling a foreign function pointer from our handler).
//!
//! **Unsafe code.** The `libc` calls (`sigaction`, `sigemptyset`, `write`, and `errno`'s
//! location) and one `mem::zeroed` of the plain C `sigaction` struct; each block says why it is
//! sound (DESIGN.md §11). This file is the only one in `signal/` with unsafe code.

use std::io;
use std::mem;
use std::os::fd::AsRawFd;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering::SeqCst};
use std::sync::{Mutex, PoisonError};

use libc::c_int;
use mio::unix::pipe::Sender;

/// Room for signal numbers `1..SIGNALS`: Linux's highest real-time signal is 64, the BSDs' and
/// macOS's standard ones stop at 31 or 32.
pub(crate) const SIGNALS: usize = 65;

/// How many runtimes may listen for signals at the same time (each holds one slot for as long
/// as it has a listener). Fixed, because the handler may not allocate; 32 loops in one process
/// listening for signals at once is far beyond what a program needs.
pub(crate) const WAKE_SLOTS: usize = 32;

/// How many times each signal has been delivered since the process started (wrapping). The only
/// thing a listener compares: see `driver.rs`.
static DELIVERED: [AtomicUsize; SIGNALS] = [const { AtomicUsize::new(0) }; SIGNALS];

/// One runtime's place in the handler's table.
struct Slot {
    /// Taken by a runtime (`claim`); only the owner changes the other fields.
    claimed: AtomicBool,
    /// The write end of the owner's self-pipe, or -1.
    fd: AtomicI32,
    /// Which signals the owner listens to: the handler writes only for these.
    interest: [AtomicBool; SIGNALS],
    /// Handlers between loading `fd` and finishing their `write`: the owner waits for zero
    /// before closing the descriptor.
    busy: AtomicUsize,
}

impl Slot {
    const fn new() -> Slot {
        Slot {
            claimed: AtomicBool::new(false),
            fd: AtomicI32::new(-1),
            interest: [const { AtomicBool::new(false) }; SIGNALS],
            busy: AtomicUsize::new(0),
        }
    }
}

/// The handler's table of runtimes.
static SLOTS: [Slot; WAKE_SLOTS] = [const { Slot::new() }; WAKE_SLOTS];

/// Per signal: how many listeners the process has, and the disposition to restore when the
/// last one goes. Only touched when a listener is created or dropped, never by the handler.
struct Installed {
    listeners: usize,
    previous: Option<libc::sigaction>,
}

static INSTALLED: Mutex<[Installed; SIGNALS]> = Mutex::new(
    [const {
        Installed {
            listeners: 0,
            previous: None,
        }
    }; SIGNALS],
);

/// The C handler. Only atomics and `write(2)`: see the module docs.
extern "C" fn on_signal(signo: c_int) {
    let saved = errno();
    if let Some(index) = usize::try_from(signo).ok().filter(|&i| i > 0 && i < SIGNALS) {
        DELIVERED[index].fetch_add(1, SeqCst);
        for slot in &SLOTS {
            if !slot.interest[index].load(SeqCst) {
                continue;
            }
            slot.busy.fetch_add(1, SeqCst);
            let fd = slot.fd.load(SeqCst);
            if fd >= 0 {
                let byte = 1u8;
                // SAFETY: `fd` is open: its slot's owner closes it only after storing -1 and
                // seeing `busy` at zero, and we incremented `busy` before loading it. The buffer
                // is one valid byte. The result is ignored on purpose: EAGAIN (a full pipe)
                // means a wake-up is already pending.
                let _ = unsafe { libc::write(fd, ptr::from_ref(&byte).cast(), 1) };
            }
            slot.busy.fetch_sub(1, SeqCst);
        }
    }
    set_errno(saved);
}

/// How many times `signo` (already checked to be in range) has been delivered so far.
pub(crate) fn delivered(signo: usize) -> usize {
    DELIVERED[signo].load(SeqCst)
}

/// One runtime's slot in the handler's table, holding its pipe's write end; dropping it stops
/// the handler from writing there, then closes the pipe.
#[derive(Debug)]
pub(crate) struct WakeSlot {
    index: usize,
    /// The write end. `Option` so that `drop` can close it after the handlers have left.
    writer: Option<Sender>,
}

/// Takes a free slot for `writer` (non-blocking, as `mio::unix::pipe` makes it).
///
/// # Errors
/// When [`WAKE_SLOTS`] runtimes already listen for signals.
pub(crate) fn claim(writer: Sender) -> io::Result<WakeSlot> {
    for (index, slot) in SLOTS.iter().enumerate() {
        if slot.claimed.compare_exchange(false, true, SeqCst, SeqCst).is_ok() {
            slot.fd.store(writer.as_raw_fd(), SeqCst);
            return Ok(WakeSlot {
                index,
                writer: Some(writer),
            });
        }
    }
    Err(io::Error::other(format!(
        "evloop: {WAKE_SLOTS} runtimes already listen for signals, the most one process may; \
         drop the signal listeners of a runtime that no longer needs them"
    )))
}

impl WakeSlot {
    /// Starts or stops the handler's writes to this runtime for `signo`.
    pub(crate) fn set_interest(&self, signo: usize, on: bool) {
        SLOTS[self.index].interest[signo].store(on, SeqCst);
    }
}

impl Drop for WakeSlot {
    fn drop(&mut self) {
        let slot = &SLOTS[self.index];
        slot.fd.store(-1, SeqCst);
        // A handler inside the slot finishes in a few instructions: wait for it.
        while slot.busy.load(SeqCst) != 0 {
            std::thread::yield_now();
        }
        drop(self.writer.take());
        for flag in &slot.interest {
            flag.store(false, SeqCst);
        }
        slot.claimed.store(false, SeqCst);
    }
}

/// Counts one more listener of `signo` in the process, installing the handler for the first.
///
/// # Errors
/// What `sigaction` says (`EINVAL` for a number this system has no signal for), or, if another
/// part of the program installed its own handler for `signo`, an error saying so.
pub(crate) fn acquire(signo: usize, name: &str) -> io::Result<()> {
    let mut table = INSTALLED.lock().unwrap_or_else(PoisonError::into_inner);
    let entry = &mut table[signo];
    if entry.listeners == 0 {
        let mut previous = query(signo)?;
        let handler = previous.sa_sigaction;
        if handler == ours().sa_sigaction {
            // Still ours: an earlier restore failed. What came before is unknown; the default
            // action is the honest guess.
            previous = zeroed_action();
        } else if handler != libc::SIG_DFL && handler != libc::SIG_IGN {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!(
                    "evloop: {name} already has a handler installed by other code in this process; \
                     evloop will not replace it (remove that handler first, or listen through it)"
                ),
            ));
        }
        install(signo, &ours())?;
        entry.previous = Some(previous);
    }
    entry.listeners += 1;
    Ok(())
}

/// Counts one listener of `signo` less; the last one puts the previous disposition back.
pub(crate) fn release(signo: usize) {
    let mut table = INSTALLED.lock().unwrap_or_else(PoisonError::into_inner);
    let entry = &mut table[signo];
    entry.listeners = entry.listeners.saturating_sub(1);
    if entry.listeners == 0
        && let Some(previous) = entry.previous.take()
    {
        // It worked before with this very disposition; should it fail now, there is nothing
        // better to do than keep our handler, which only counts.
        if let Err(error) = install(signo, &previous) {
            log::warn!(target: "evloop", "could not restore signal {signo}'s previous action: {error}");
        }
    }
}

/// Our handler, as a `sigaction`: `SA_RESTART`, nothing blocked while it runs.
fn ours() -> libc::sigaction {
    let mut action = zeroed_action();
    action.sa_sigaction = on_signal as extern "C" fn(c_int) as libc::sighandler_t;
    action.sa_flags = libc::SA_RESTART;
    // SAFETY: `sa_mask` is a valid, writable `sigset_t`; sigemptyset only writes it.
    unsafe { libc::sigemptyset(&mut action.sa_mask) };
    action
}

/// The disposition `signo` has now.
fn query(signo: usize) -> io::Result<libc::sigaction> {
    let mut current = zeroed_action();
    // SAFETY: a null new action only reads the current one into `current`, a valid struct.
    let rc = unsafe { libc::sigaction(signo as c_int, ptr::null(), &mut current) };
    if rc == 0 {
        Ok(current)
    } else {
        Err(io::Error::last_os_error())
    }
}

fn install(signo: usize, action: &libc::sigaction) -> io::Result<()> {
    // SAFETY: `action` is a fully initialised `sigaction`, either ours (whose handler is an
    // `extern "C" fn(c_int)` that only does async-signal-safe things) or one the kernel gave us.
    let rc = unsafe { libc::sigaction(signo as c_int, action, ptr::null_mut()) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

fn zeroed_action() -> libc::sigaction {
    // SAFETY: `sigaction` is a plain C struct of integers, a signal set and (on some systems)
    // an optional function pointer; all zeroes is a valid value of each (SIG_DFL, no flags, an
    // empty set, `None`).
    unsafe { mem::zeroed() }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn errno_location() -> *mut c_int {
    // SAFETY: always valid to call; returns the calling thread's `errno`.
    unsafe { libc::__errno_location() }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn errno_location() -> *mut c_int {
    // SAFETY: always valid to call; returns the calling thread's `errno`.
    unsafe { libc::__error() }
}

fn errno() -> c_int {
    // SAFETY: the pointer is the calling thread's `errno`, valid for the thread's whole life.
    unsafe { *errno_location() }
}

fn set_errno(value: c_int) {
    // SAFETY: as in `errno`.
    unsafe { *errno_location() = value };
}

#[cfg(test)]
mod tests {
    use super::*;

    // The only test in the library that claims slots, so it may take all of them.
    #[test]
    #[cfg_attr(miri, ignore = "uses real pipes; Miri's pipe2 support is not relied on here")]
    fn every_slot_can_be_claimed_once_and_a_released_one_is_reused() {
        let mut held: Vec<_> = (0..WAKE_SLOTS)
            .map(|_| claim(mio::unix::pipe::new().unwrap().0).expect("a free slot"))
            .collect();
        let (writer, _reader) = mio::unix::pipe::new().unwrap();
        let error = claim(writer).unwrap_err();
        assert!(
            error.to_string().contains("runtimes already listen for signals"),
            "{error}"
        );

        let freed = held.pop().unwrap();
        let index = freed.index;
        drop(freed);
        assert_eq!(SLOTS[index].fd.load(SeqCst), -1, "a released slot holds no descriptor");
        let again = claim(mio::unix::pipe::new().unwrap().0).unwrap();
        assert_eq!(again.index, index);
    }
}

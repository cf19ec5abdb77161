//! What the bench thread itself spent over a window: CPU time and system calls.
//!
//! The HTTP workloads talk to nginx, another process on the same two cores, so wall time per
//! request is partly nginx's. What the *client* costs is read from the kernel's accounts of the
//! bench thread alone:
//!
//! - **CPU time**: `getrusage(RUSAGE_THREAD)`, user and system time of this thread only. Linux
//!   keeps their sum exact (it is the scheduler's runtime); the split between the two is
//!   sampled at the tick and scaled to that sum, so it is good to a few percent over a window
//!   of many ticks.
//! - **System calls**: a `perf_event_open` counter on the `raw_syscalls:sys_enter` tracepoint,
//!   bound to this thread (`pid = 0, cpu = -1`): the count `perf stat -e raw_syscalls:sys_enter`
//!   would print, but for exactly the measured window and not the process's start-up. A second
//!   counter on `syscalls:sys_enter_connect` tells whether a keep-alive window opened any new
//!   connection. Reading a counter is itself a `read`, which the later reading counts once: it
//!   is subtracted.
//!
//! The counters need the tracepoints' ids from tracefs and the right to open them: root, or
//! `kernel.perf_event_paranoid` at -1. Where either is missing, the counts are reported as `–`
//! and the reason is printed once; BENCHMARKS.md gives the `strace -c -f` command that measures
//! the same thing from outside.

use std::fs::File;
use std::io::{self, Read as _};
use std::os::fd::{FromRawFd as _, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};

/// `RUSAGE_THREAD` (Linux 2.6.26): the calling thread only. The libc crate does not export it
/// for glibc targets.
const RUSAGE_THREAD: libc::c_int = 1;

/// User and system CPU time of the calling thread, in nanoseconds.
pub(crate) fn thread_cpu_ns() -> (f64, f64) {
    // SAFETY: `rusage` is plain integers, for which all-zero bytes are a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid, writable `rusage` for the call's whole duration.
    let status = unsafe { libc::getrusage(RUSAGE_THREAD, &mut usage) };
    if status != 0 {
        return (f64::NAN, f64::NAN);
    }
    let ns = |t: libc::timeval| t.tv_sec as f64 * 1e9 + t.tv_usec as f64 * 1e3;
    (ns(usage.ru_utime), ns(usage.ru_stime))
}

/// A running count of one tracepoint's hits on the calling thread.
pub(crate) struct TracepointCounter {
    file: File,
}

/// `struct perf_event_attr` up to its first published size (`PERF_ATTR_SIZE_VER0`, 64 bytes):
/// the kernel reads `size` and treats every later field as zero.
#[repr(C)]
struct PerfEventAttr {
    kind: u32,
    size: u32,
    config: u64,
    sample_period: u64,
    sample_type: u64,
    read_format: u64,
    /// Bit flags (`disabled`, `inherit`, `exclude_kernel`, …): all clear, so the counter runs
    /// from the moment it is opened and counts events in the kernel, where tracepoints are.
    flags: u64,
    wakeup_events: u32,
    bp_type: u32,
    config1: u64,
}

const PERF_TYPE_TRACEPOINT: u32 = 2;
const PERF_FLAG_FD_CLOEXEC: libc::c_ulong = 8;

impl TracepointCounter {
    /// Opens a counter on `category:name` (e.g. `raw_syscalls:sys_enter`) for this thread.
    pub(crate) fn open(category: &str, name: &str) -> Result<TracepointCounter, String> {
        let id = tracepoint_id(category, name)?;
        let attr = PerfEventAttr {
            kind: PERF_TYPE_TRACEPOINT,
            size: size_of::<PerfEventAttr>() as u32,
            config: id,
            sample_period: 0,
            sample_type: 0,
            read_format: 0,
            flags: 0,
            wakeup_events: 0,
            bp_type: 0,
            config1: 0,
        };
        // SAFETY: perf_event_open reads `attr.size` bytes from a valid, initialised
        // `PerfEventAttr`; pid 0 and cpu -1 mean "this thread, on any CPU"; group -1 means none.
        let fd = unsafe {
            libc::syscall(
                libc::SYS_perf_event_open,
                &raw const attr,
                0 as libc::pid_t,
                -1 as libc::c_int,
                -1 as libc::c_int,
                PERF_FLAG_FD_CLOEXEC,
            )
        };
        if fd < 0 {
            let error = io::Error::last_os_error();
            return Err(format!(
                "perf_event_open({category}:{name}) failed: {error} (it needs root or kernel.perf_event_paranoid = -1)"
            ));
        }
        let fd = i32::try_from(fd).expect("the kernel returns file descriptors that fit an int");
        // SAFETY: `fd` was just returned by perf_event_open and is owned by nobody else.
        let file = File::from(unsafe { OwnedFd::from_raw_fd(fd) });
        Ok(TracepointCounter { file })
    }

    /// Hits so far (since the counter was opened).
    pub(crate) fn read(&self) -> u64 {
        let mut value = [0u8; 8];
        match (&self.file).read_exact(&mut value) {
            Ok(()) => u64::from_ne_bytes(value),
            Err(e) => panic!("reading a perf counter that opened fine failed: {e}"),
        }
    }
}

/// The tracepoint's id, from tracefs (where it is usually mounted, or under debugfs).
fn tracepoint_id(category: &str, name: &str) -> Result<u64, String> {
    let candidates = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"];
    for root in candidates {
        if let Ok(text) = std::fs::read_to_string(format!("{root}/events/{category}/{name}/id")) {
            return text
                .trim()
                .parse()
                .map_err(|_| format!("{root}/events/{category}/{name}/id does not hold a number"));
        }
    }
    Err(format!(
        "no tracepoint id for {category}:{name} under {} (is tracefs mounted? as root: \
         `mount -t tracefs nodev /sys/kernel/tracing`; running `perf stat` once also mounts it)",
        candidates.join(" or ")
    ))
}

/// System calls and `connect` calls made by this thread over a window.
pub(crate) struct SyscallWindow {
    all: TracepointCounter,
    connects: TracepointCounter,
    all_at_start: u64,
    connects_at_start: u64,
}

/// Whether the reason syscalls cannot be counted has been printed already.
static REASON_PRINTED: AtomicBool = AtomicBool::new(false);

impl SyscallWindow {
    /// Opens both counters and takes their starting values; `None` (with the reason printed
    /// once per process) where the kernel will not count for us.
    pub(crate) fn start() -> Option<SyscallWindow> {
        let opened = TracepointCounter::open("raw_syscalls", "sys_enter")
            .and_then(|all| Ok((all, TracepointCounter::open("syscalls", "sys_enter_connect")?)));
        match opened {
            Ok((all, connects)) => {
                let connects_at_start = connects.read();
                // Read last, so only the closing read falls inside the window.
                let all_at_start = all.read();
                Some(SyscallWindow {
                    all,
                    connects,
                    all_at_start,
                    connects_at_start,
                })
            }
            Err(reason) => {
                if !REASON_PRINTED.swap(true, Ordering::Relaxed) {
                    eprintln!("\ncompare: system calls are not counted (shown as –): {reason}");
                }
                None
            }
        }
    }

    /// `(system calls, connect calls)` since `start`, not counting the reads of the counters.
    pub(crate) fn finish(self) -> (u64, u64) {
        // Read first, so the window holds exactly one counter read: this one.
        let all = self.all.read() - self.all_at_start - 1;
        (all, self.connects.read() - self.connects_at_start)
    }
}

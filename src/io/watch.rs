//! asyncio's `loop.add_reader(fd, callback)` and `loop.add_writer(fd, callback)`: call a plain
//! function on the loop whenever a descriptor is readable (or writable), until the watch is
//! removed. Before coroutines, this was how an event loop did I/O (Twisted, Tornado, asyncio's
//! own transports are built on it).
//!
//! Read `fd.rs` first: this file is a small task over the same `IoSource`.
//!
//! # Level-triggered, like asyncio
//!
//! asyncio's selector is level-triggered: a reader's callback runs on every turn of the loop
//! while the descriptor is readable, so a callback may read a little at a time, and must not
//! block. mio's epoll is edge-triggered, and the callback reads the descriptor itself, so the
//! reactor never sees the `WouldBlock` that would tell it the descriptor was drained. So each
//! watch is a small task that loops:
//!
//! 1. wait for the reactor's readiness (an edge, or readiness remembered from before);
//! 2. run the callback;
//! 3. ask the kernel, with a zero-timeout `poll(2)`, whether the descriptor is *still* ready
//!    (`sys.rs`). Still ready: yield, and go to 2 on the next turn, after everything else that
//!    was ready. Drained: clear the reactor's readiness and go to 1, to sleep until the next
//!    edge. Nothing is lost between 3 and 1: data arriving after the check raises a new edge,
//!    and the loop only looks for edges after this task has yielded.
//!
//! A task rather than a callback re-queued by hand, because waiting on the reactor is what tasks
//! already do (a waker is the only thing the reactor calls); the callback itself runs as a plain
//! function, with no future around it. A panic in it is reported to the loop's exception handler
//! (like a task's) and ends the watch: the callback's state is broken, so it is not called again.
//!
//! At end of file a pipe's read end stays readable (a read gives 0), and a pipe whose readers
//! are gone stays writable (a write gives `BrokenPipe`), so the callback keeps being called:
//! cancel the watch there, as asyncio code calls `remove_reader`.
//!
//! # One descriptor, two watches
//!
//! epoll refuses to register one descriptor twice in one set (`EEXIST`), but a reader and a
//! writer on one socket is the ordinary case. So each watch registers its own duplicate of the
//! descriptor (`dup`, through std's `try_clone_to_owned`): epoll tells registrations apart by
//! descriptor *and* open file, so duplicates never collide, with each other or with an
//! `AsyncFd` of the original. The duplicate is the watch's own, so it can never be closed under
//! the watch, nor its number reused by another file while registered. The cost: one descriptor
//! per watch, and the file stays open until the watch is dropped (a pipe's reader sees end of
//! file only once the writer *and* every watch of the write end are gone).

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::rc::Rc;
use std::task::{Poll, Waker};

use crate::io::fd::explain;
use crate::io::source::{Fd, IoSource};
use crate::io::sys;
use crate::reactor::Direction;

/// A descriptor watched by [`add_reader`] or [`add_writer`]: the callback runs until this is
/// dropped or [cancelled](Self::cancel) (asyncio's `remove_reader`/`remove_writer`).
#[must_use = "dropping the FdWatch removes the watch at once"]
#[doc(alias("remove_reader", "remove_writer"))]
pub struct FdWatch {
    /// What the watch and its task share.
    shared: Rc<Shared>,
}

/// The state a watch's handle and its task share.
struct Shared {
    /// The registered duplicate of the descriptor; `None` once the watch is cancelled.
    ///
    /// # Invariant
    /// Borrowed only for a call into the reactor, never across an await or the callback (which
    /// may cancel its own watch).
    source: RefCell<Option<IoSource<Fd<OwnedFd>>>>,
    /// The task's waker, kept here too: cancelling drops the registration, and with it the
    /// reactor's copy of the waker, so this one tells the task to finish.
    waker: Cell<Option<Waker>>,
    /// Reading or writing.
    direction: Direction,
}

/// Calls `callback` on the loop each time `fd` is readable, and on every turn while it stays
/// readable, until the returned [`FdWatch`] is dropped or cancelled (asyncio's
/// `loop.add_reader`).
///
/// The callback reads `fd` itself. One read per call is enough (it is called again while data
/// is left), and never blocks, even on a blocking descriptor; reading in a loop until
/// `WouldBlock` needs the descriptor non-blocking. At end of file the callback keeps being
/// called (a read gives 0): cancel the watch there. `fd` is only borrowed: the watch keeps a
/// duplicate of its own (see the module docs for why).
///
/// # Examples
///
/// Read a pipe from a callback, and remove the reader at end of file:
///
/// ```
/// use std::cell::RefCell;
/// use std::io::{Read, Write};
/// use std::rc::Rc;
///
/// let got = evloop::run(async {
///     let (reader, mut writer) = std::io::pipe()?;
///     let got = Rc::new(RefCell::new(Vec::new()));
///     let watch = Rc::new(RefCell::new(None));
///     let reader = Rc::new(reader); // one for the watch to borrow, one for the callback
///     *watch.borrow_mut() = Some(evloop::io::add_reader(reader.clone(), {
///         let (got, watch) = (got.clone(), watch.clone());
///         move || {
///             let mut buf = [0; 64];
///             match (&*reader).read(&mut buf) {
///                 Ok(0) | Err(_) => drop(watch.borrow_mut().take()), // remove_reader
///                 Ok(n) => got.borrow_mut().extend_from_slice(&buf[..n]),
///             }
///         }
///     })?);
///     writer.write_all(b"ping")?;
///     drop(writer); // end of file, once "ping" is read
///     while watch.borrow().is_some() {
///         evloop::yield_now().await; // the loop turns; the callback runs
///     }
///     Ok::<_, std::io::Error>(got.take())
/// })?;
/// assert_eq!(got, b"ping");
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Errors
/// `dup`'s reason (e.g. out of descriptors), or the reactor's: `PermissionDenied` for a regular
/// file, which epoll refuses (it is always readable; read it with
/// [`spawn_blocking`](crate::spawn_blocking)).
///
/// # Panics
/// Outside a running evloop loop.
pub fn add_reader(fd: impl AsFd, callback: impl FnMut() + 'static) -> io::Result<FdWatch> {
    watch(fd.as_fd(), Direction::Read, callback)
}

/// Calls `callback` on the loop each time `fd` is writable, and on every turn while it stays
/// writable, until the returned [`FdWatch`] is dropped or cancelled (asyncio's
/// `loop.add_writer`).
///
/// Most descriptors are writable almost always, so a writer's callback runs on every turn:
/// add it when there is something to write, cancel it when the buffer is empty, as asyncio's
/// transports do. Once every reader of a pipe is gone, the pipe stays "writable" and a write
/// gives `BrokenPipe`. A reader and a writer may watch the same descriptor.
///
/// # Errors
/// As for [`add_reader`].
///
/// # Panics
/// Outside a running evloop loop.
pub fn add_writer(fd: impl AsFd, callback: impl FnMut() + 'static) -> io::Result<FdWatch> {
    watch(fd.as_fd(), Direction::Write, callback)
}

/// Registers a duplicate of `fd` and starts the task that runs `callback`.
fn watch<F: FnMut() + 'static>(
    fd: std::os::fd::BorrowedFd<'_>,
    direction: Direction,
    callback: F,
) -> io::Result<FdWatch> {
    let duplicate = fd.try_clone_to_owned()?;
    let source = IoSource::new(Fd(duplicate)).map_err(|e| explain(e, fd.as_raw_fd()))?;
    let shared = Rc::new(Shared {
        source: RefCell::new(Some(source)),
        waker: Cell::new(None),
        direction,
    });
    let name = match direction {
        Direction::Read => format!("add_reader(fd {})", fd.as_raw_fd()),
        Direction::Write => format!("add_writer(fd {})", fd.as_raw_fd()),
    };
    // Detached: a panic goes to the exception handler at once; `FdWatch::cancel` ends the task
    // through `Shared::waker` instead of its handle.
    drop(crate::spawn_named(name, run(shared.clone(), callback)));
    Ok(FdWatch { shared })
}

/// The watch's task: the three steps of the module docs, until cancelled.
async fn run<F: FnMut()>(shared: Rc<Shared>, mut callback: F) {
    let direction = shared.direction;
    loop {
        // 1. Wait for readiness, or for the watch to be cancelled.
        let live = poll_fn(|cx| {
            let Some(source) = &*shared.source.borrow() else {
                return Poll::Ready(false);
            };
            match source.poll_ready(direction, cx) {
                Poll::Ready(()) => Poll::Ready(true),
                Poll::Pending => {
                    let old = shared.waker.take();
                    shared.waker.set(Some(match old {
                        Some(w) if w.will_wake(cx.waker()) => w,
                        _ => cx.waker().clone(),
                    }));
                    Poll::Pending
                }
            }
        })
        .await;
        if !live {
            return;
        }
        // 2. The callback, with no borrow held: it may cancel its own watch.
        if let Err(payload) = catch_unwind(AssertUnwindSafe(&mut callback)) {
            // Deregister now rather than when the `FdWatch` drops, then let the task's panic
            // reach the exception handler.
            drop(shared.source.borrow_mut().take());
            resume_unwind(payload);
        }
        // 3. Still ready? Then again next turn; else sleep until the next edge.
        let still_ready = match &*shared.source.borrow() {
            None => return,
            Some(source) => {
                // An error from poll(2) itself counts as ready: the callback's own call on the
                // descriptor then reports it.
                let ready = sys::ready_now(source.get_ref().0.as_raw_fd(), direction).unwrap_or(true);
                if !ready {
                    source.clear_ready(direction);
                }
                ready
            }
        };
        if still_ready {
            crate::yield_now().await;
        }
    }
}

impl FdWatch {
    /// Removes the watch (asyncio's `remove_reader`/`remove_writer`): the registration goes at
    /// once, the callback is not called again, and its task ends at the loop's next turn.
    /// Returns whether the watch was still active; dropping the `FdWatch` does the same. The
    /// callback may cancel its own watch. Like a drop, this never panics, on any loop.
    #[doc(alias("remove_reader", "remove_writer"))]
    pub fn cancel(&self) -> bool {
        let source = self.shared.source.borrow_mut().take();
        let was_active = source.is_some();
        drop(source); // deregisters, and drops the reactor's copy of the waker
        if let Some(waker) = self.shared.waker.take() {
            waker.wake();
        }
        was_active
    }

    /// Whether the watch is active: neither cancelled nor ended by a panic of its callback.
    pub fn is_active(&self) -> bool {
        self.shared.source.borrow().is_some()
    }
}

impl Drop for FdWatch {
    fn drop(&mut self) {
        self.cancel();
    }
}

impl fmt::Debug for FdWatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fd = self.shared.source.borrow().as_ref().map(|s| s.get_ref().0.as_raw_fd());
        f.debug_struct("FdWatch")
            .field("direction", &self.shared.direction)
            .field("duplicate_fd", &fd)
            .finish()
    }
}

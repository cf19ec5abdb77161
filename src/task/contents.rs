//! What a task's cell holds after its header and hook: the future, then its result, then
//! nothing, in the same bytes.
//!
//! Read first: `raw.rs` (the cell these contents sit at the end of) and `header.rs` (whose
//! `stage` byte says which of the three they hold).
//!
//! **A union, with the tag kept apart.** An enum `Running(F) | Finished(output) | Consumed`
//! would be the obvious type, and it is what the contents mean. But an enum keeps its tag beside
//! its payload, and after a future whose size is a multiple of 8 that tag costs 8 bytes, padded:
//! the cell of a task parked on a `sleep` would be 144 bytes instead of 136, one 16-byte malloc
//! size class more. The header has spare bytes in its padding, so the tag lives there
//! ([`Stage`], `Header::stage`) and the contents are a `union` of the future and the result.
//! The price is that nothing checks the pairing for us: every method here takes the stage and
//! trusts it, which is this file's one invariant.
//!
//! **Unsafe code.** Every method reads or drops a union field, so every method is `unsafe` with
//! the same contract (DESIGN.md §11): the `stage` passed in is the stage of the cell these
//! contents belong to, and the caller has exclusive access to both (the loop's thread, outside
//! any other borrow of them).

use std::any::Any;
use std::cell::Cell;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;

use crate::task::error::JoinError;

/// Which of a task's [`Contents`] fields holds a value: the tag an enum would keep, kept in the
/// header's padding instead (`Header::stage`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    /// The future, pinned in place: it is never moved until it is dropped.
    Running,
    /// Its result, waiting for the `JoinHandle` to take it.
    Finished,
    /// Nothing: taken, dropped, or never to be read.
    Consumed,
}

/// The future or its result, as the cell's [`Stage`] says (nothing when `Consumed`).
///
/// # Invariant
/// `running` holds a value exactly when the stage is `Running`, `finished` exactly when it is
/// `Finished`. Only the methods below change the stage, and each keeps this true.
pub(super) union Contents<F: Future> {
    running: ManuallyDrop<F>,
    finished: ManuallyDrop<Result<F::Output, JoinError>>,
}

/// The result a finished task holds.
type Finished<F> = Result<<F as Future>::Output, JoinError>;

impl<F: Future> Contents<F> {
    /// Contents holding `future`, for a stage that starts as [`Stage::Running`].
    pub(super) fn new(future: F) -> Contents<F> {
        Contents {
            running: ManuallyDrop::new(future),
        }
    }

    /// The future, pinned, if the contents still hold it.
    ///
    /// # Safety
    /// `stage` is these contents' stage, and both are exclusively the caller's (module docs).
    #[inline]
    pub(super) unsafe fn future(&mut self, stage: &Cell<Stage>) -> Option<Pin<&mut F>> {
        if stage.get() != Stage::Running {
            return None;
        }
        // SAFETY: the stage says `running` holds the future. It lives inside the heap cell and
        // is only ever dropped in place there (`drop_in_place`), never moved, so pinning it is
        // sound.
        Some(unsafe { Pin::new_unchecked(&mut *self.running) })
    }

    /// Drops whatever the contents hold, in place, catching a panicking destructor, and marks
    /// them `Consumed`. Dropping in place (rather than moving the old value out) is what keeps
    /// a pinned future from ever being moved.
    ///
    /// # Safety
    /// As for [`future`](Self::future).
    #[inline]
    pub(super) unsafe fn drop_in_place(&mut self, stage: &Cell<Stage>) -> Result<(), Box<dyn Any + Send>> {
        // `Consumed` first: whatever the destructor does, the old value is gone once it returns
        // (or unwinds: `drop` completes the remaining fields while unwinding).
        match stage.replace(Stage::Consumed) {
            Stage::Consumed => Ok(()),
            // SAFETY: the stage said this field holds a value; it is dropped once, in place.
            Stage::Running => catch_unwind(AssertUnwindSafe(|| unsafe { ManuallyDrop::drop(&mut self.running) })),
            // SAFETY: as above.
            Stage::Finished => catch_unwind(AssertUnwindSafe(|| unsafe { ManuallyDrop::drop(&mut self.finished) })),
        }
    }

    /// Stores a task's result in contents that hold nothing any more.
    ///
    /// # Safety
    /// As for [`future`](Self::future), and the stage is `Consumed`, so that nothing that
    /// needed dropping is overwritten.
    #[inline]
    pub(super) unsafe fn store(&mut self, stage: &Cell<Stage>, result: Finished<F>) {
        debug_assert_eq!(stage.get(), Stage::Consumed, "a result overwrites only empty contents");
        // Writing a `ManuallyDrop` field drops nothing: the old bytes are not read.
        self.finished = ManuallyDrop::new(result);
        stage.set(Stage::Finished);
    }

    /// The result, to look at, if the task finished and nobody took it yet.
    ///
    /// # Safety
    /// As for [`future`](Self::future).
    #[inline]
    pub(super) unsafe fn result(&self, stage: &Cell<Stage>) -> Option<&Finished<F>> {
        // SAFETY: `finished` is read only when the stage says it holds the result.
        (stage.get() == Stage::Finished).then(|| unsafe { &*self.finished })
    }

    /// Moves the result out, if the task finished and nobody took it yet, and marks the contents
    /// `Consumed`. Moving is fine: a result is never pinned.
    ///
    /// # Safety
    /// As for [`future`](Self::future).
    #[inline]
    pub(super) unsafe fn take(&mut self, stage: &Cell<Stage>) -> Option<Finished<F>> {
        if stage.get() != Stage::Finished {
            return None;
        }
        stage.set(Stage::Consumed);
        // SAFETY: the stage said `finished` holds the result, and it is now marked as taken,
        // so it is read once.
        Some(unsafe { ManuallyDrop::take(&mut self.finished) })
    }
}

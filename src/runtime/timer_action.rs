//! What a timer does when it fires, in eight bytes.
//!
//! A timer either wakes someone (a [`Sleep`](crate::time::Sleep)) or queues a `call_later`
//! callback. A sleep is nearly always polled by a task of the loop whose wheel holds its entry,
//! with that task's own waker. Then the entry keeps the task's **id**, not a clone of its waker:
//! firing it queues the task by id, as the waker would have, and the entry costs no atomic
//! increment when it is made nor a decrement when it goes. The `block_on` future's waker is one
//! per loop, so it is named too. A sleep polled with any other waker (a combinator's, another
//! loop's task's, a hand-made one) keeps that waker in a side table on the loop, and its entry
//! holds the slot.
//!
//! So an action is one packed `u64`, and a wheel entry is 32 bytes where a `Waker` made it 40
//! (DESIGN.md §3 draws both). The packing, as the ready queue's `Queued` does it:
//!
//! ```text
//!   task       its id's key: generation (never 0) in the high half, index (below 2^31) low
//!   callback   its id's key with bit 31 set, a bit no index has
//!   main       0
//!   waker      the side table's slot plus 1, with a high half of 0, which no key has
//! ```
//!
//! This file is the type and its packing only. Which action a waker gets, and every way an
//! entry leaves the wheel (fired, removed, dropped at shutdown) so that a slot is always given
//! back, is the loop's side: `runtime/loop_timers.rs`.
//!
//! Read first: `timer/mod.rs` (the wheel holds actions without knowing what they are).

use crate::scheduler::CallbackId;
use crate::slots::Key;
use crate::task::TaskId;

/// What the loop does when a timer fires: wake a task, the `block_on` future or a waker, or
/// queue a callback.
/// Eight bytes (the module docs give the packing). Not `Copy`: one that names a waker slot
/// owns it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct TimerAction(u64);

/// The bit that marks a callback's key.
const CALLBACK_BIT: u64 = 1 << 31;

/// An action unpacked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// Queue this task of the loop (as its waker would).
    Task(TaskId),
    /// Queue the `block_on` future.
    Main,
    /// Wake the waker in this slot of the loop's side table (`Core::timer_wakers`).
    Waker(u32),
    /// Queue this `call_later` callback.
    Callback(CallbackId),
}

impl TimerAction {
    /// Queue `id` when the timer fires.
    pub(crate) fn task(id: TaskId) -> TimerAction {
        TimerAction(id.key().to_bits())
    }

    /// Queue the callback `id` when the timer fires.
    pub(crate) fn callback(id: CallbackId) -> TimerAction {
        TimerAction(id.number() | CALLBACK_BIT)
    }

    /// Queue the `block_on` future when the timer fires.
    pub(crate) fn main() -> TimerAction {
        TimerAction(0)
    }

    /// Wake the waker in `slot` when the timer fires (`slot` below `u32::MAX`).
    pub(crate) fn waker(slot: u32) -> TimerAction {
        TimerAction(u64::from(slot) + 1)
    }

    /// What this action does.
    #[inline]
    pub(crate) fn action(&self) -> Action {
        let bits = self.0;
        if bits == 0 {
            Action::Main
        } else if bits >> 32 == 0 {
            // A slot plus 1 fits in the low half (`keep_waker` made sure).
            Action::Waker((bits - 1) as u32)
        } else if bits & CALLBACK_BIT != 0 {
            Action::Callback(CallbackId::from_number(bits & !CALLBACK_BIT))
        } else {
            Action::Task(TaskId::new(Key::from_bits(bits)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slots::Slots;

    /// Eight bytes, as the wheel's layout test assumes (its `u64` stands in for this): a
    /// parked sleep's entry is then 32 bytes (DESIGN.md §3 draws it).
    #[test]
    fn an_action_is_eight_bytes_and_unpacks_to_what_was_packed() {
        assert_eq!(std::mem::size_of::<TimerAction>(), std::mem::size_of::<u64>());
        let mut tasks: Slots<()> = Slots::new();
        let mut callbacks: Slots<()> = Slots::new();
        for _ in 0..3 {
            let task = TaskId::new(tasks.insert(()));
            let callback = CallbackId::from_number(callbacks.insert(()).to_bits());
            assert_eq!(TimerAction::task(task).action(), Action::Task(task));
            assert_eq!(TimerAction::callback(callback).action(), Action::Callback(callback));
        }
        assert_eq!(TimerAction::main().action(), Action::Main);
        for slot in [0, 1, 7, u32::MAX - 1] {
            assert_eq!(TimerAction::waker(slot).action(), Action::Waker(slot));
        }
    }
}

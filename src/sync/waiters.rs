//! A FIFO queue of waiting futures that any one of them can leave in O(1).
//!
//! Read first: nothing; this is a plain data structure, plus the two helpers every waiting
//! future uses for its waker ([`remember_waker`] and [`wake_all`]).
//!
//! Every primitive in this module keeps a queue of futures waiting for something (permits,
//! a notification, an item). The queue needs three operations:
//!
//! 1. put a waiter at the back when its future first has to wait;
//! 2. serve waiters from the front when what they wait for arrives (first come, first served);
//! 3. take a waiter out from *anywhere* when its future is dropped, because in Rust
//!    cancellation is `Drop`, and a waiter that outlives its future is a leak or a lost wake-up.
//!
//! Those are exactly the operations of evloop's index-linked list (`list.rs`, shared with the
//! timer wheel): the waiters' nodes live in a [`slab::Slab`] owned by the `WaitList`, and the
//! list links them by slab index. (tokio's `sync/batch_semaphore.rs` links raw pointers to
//! nodes inside pinned futures instead, which costs `unsafe`.)
//!
//! # A slot versus a place in the queue
//!
//! A waiter has two things, owned by two parties:
//!
//! - its **slot** (named by its [`WaiterKey`]) belongs to the future that called
//!   [`WaitList::push_back`], until that future calls [`WaitList::remove`] from its last
//!   `poll` or from its `Drop`;
//! - its **place in the queue** belongs to the primitive. When the primitive decides the
//!   waiter's outcome (permits handed over, item delivered, notified, closed) it *unlinks* the
//!   waiter but keeps the slot, so the outcome sits there until the future's next poll reads it.
//!
//! "Unlinked" therefore always means "your outcome is decided, come and read it". Because
//! only the owning future frees its slot, the slab can never reuse a key while a future still
//! holds it, so no generation counter is needed.

use std::task::Waker;

use slab::Slab;

use crate::list::{Link, Links, List};
use crate::waits_on::{Line, Place};

/// Stores the waker of the task polling now, unless the stored one already wakes that task.
/// A future can move between tasks, so every pending poll must refresh its waker; cloning a
/// waker costs a reference count (or more), hence the `will_wake` check.
pub(crate) fn remember_waker(slot: &mut Option<Waker>, current: &Waker) {
    if !slot.as_ref().is_some_and(|stored| stored.will_wake(current)) {
        *slot = Some(current.clone());
    }
}

/// Wakes every waker in `wakers`, all of them even if one panics (`waking.rs`). The primitives
/// collect wakers while they hold their `RefCell` borrow and call this only after releasing it,
/// because a waker may run code that uses the same primitive again (and a second `borrow_mut`
/// would panic).
pub(crate) fn wake_all(wakers: Wakers) {
    // Most releases wake nobody (no one waits) or one waiter: neither needs a chained batch.
    let Some(first) = wakers.first else {
        debug_assert!(wakers.rest.is_empty(), "`push` fills `first` before `rest`");
        return;
    };
    if wakers.rest.is_empty() {
        crate::waking::wake(first);
    } else {
        crate::waking::wake_all(std::iter::once(first).chain(wakers.rest));
    }
}

/// The wakers a primitive collects under its borrow, for [`wake_all`] after it. The first is
/// kept inline: a released permit or a notification usually serves exactly one waiter, and a
/// `Vec` would cost a heap allocation (and its free) for that one waker on every release.
#[derive(Default)]
pub(crate) struct Wakers {
    first: Option<Waker>,
    /// The second and later ones, allocated only when there are more than one.
    rest: Vec<Waker>,
}

impl Wakers {
    /// Collects `waker`, if there is one (a waiter that was never polled has none).
    pub(crate) fn push(&mut self, waker: Option<Waker>) {
        let Some(waker) = waker else { return };
        match self.first {
            None => self.first = Some(waker),
            Some(_) => self.rest.push(waker),
        }
    }
}

/// Names one waiter's slot in a [`WaitList`]; held by the future that is waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WaiterKey(u32);

/// The life of a future that may wait in a [`WaitList`] (an acquire, a get, an event wait):
/// `Unpolled -> (Queued ->) Done`. What the slot holds while `Queued` (permits, an item, a
/// release) is the primitive's business; each future's `stage` field says what it means there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    /// Not polled yet: it has not looked at the primitive, and holds nothing.
    Unpolled,
    /// In the wait list, under this key.
    Queued(WaiterKey),
    /// Returned `Ready`; polling again is a bug.
    Done,
}

/// A FIFO of waiters, each carrying a primitive-specific `T` (a waker, granted permits, ...).
#[derive(Debug)]
pub(crate) struct WaitList<T> {
    /// Every waiter's slot: the queued ones, and the unlinked ones whose futures have not yet
    /// polled to read their outcome.
    nodes: Slab<Node<T>>,
    /// The queued waiters, first to be served at the front.
    queue: List,
    /// How many waiters are queued, so `len` does not walk the list.
    queued: usize,
    /// Waiters that left from the front, for the task dump's places in line (`waits_on.rs`);
    /// allocated when the first waiter parks and says where it stands.
    line: Option<Line>,
}

/// One waiter's slot.
#[derive(Debug)]
struct Node<T> {
    /// What the primitive remembers about this waiter.
    value: T,
    /// Whether the waiter is in the queue; `false` once it has been unlinked (its outcome is
    /// decided). Only a queued node may be unlinked: this is the list's invariant.
    queued: bool,
    /// Its neighbours in the queue while it is queued.
    link: Link,
}

/// The queue finds its nodes' links in the slab.
impl<T> Links for Slab<Node<T>> {
    fn link(&mut self, index: u32) -> &mut Link {
        &mut self.get_mut(index as usize).expect(NO_SLOT).link
    }
}

const NO_SLOT: &str = "a WaiterKey is only used by the future that owns it, and only before it removes it";

impl<T> WaitList<T> {
    /// An empty list.
    pub(crate) fn new() -> Self {
        WaitList {
            nodes: Slab::new(),
            queue: List::EMPTY,
            queued: 0,
            line: None,
        }
    }

    /// How many waiters are queued (unlinked slots do not count).
    pub(crate) fn len(&self) -> usize {
        self.queued
    }

    /// True when nobody is queued.
    pub(crate) fn is_empty(&self) -> bool {
        self.queued == 0
    }

    /// Queues a new waiter at the back and returns the key to its slot.
    pub(crate) fn push_back(&mut self, value: T) -> WaiterKey {
        let index = self.nodes.insert(Node {
            value,
            queued: true,
            link: Link::default(),
        });
        let index = u32::try_from(index).expect("fewer than 2^32 waiters");
        self.queue.push_back(index, &mut self.nodes);
        self.queued += 1;
        WaiterKey(index)
    }

    /// The waiter that would be served next, if anyone is queued.
    pub(crate) fn front(&self) -> Option<WaiterKey> {
        self.queue.front().map(WaiterKey)
    }

    /// Unlinks the front waiter (its outcome is now decided) and returns its key. The slot
    /// stays until its future removes it.
    pub(crate) fn pop_front(&mut self) -> Option<WaiterKey> {
        let head = self.queue.front()?;
        self.unlink(head);
        Some(WaiterKey(head))
    }

    /// The waiter's place in the queue, 1 for the next to be served, for the task dump
    /// (`waits_on.rs`): it stays right as the waiters ahead are served. Walks the queue, so it
    /// is called only when a future parks.
    pub(crate) fn place(&mut self, key: WaiterKey) -> Place {
        let place = self.queue.position(key.0, &mut self.nodes).map_or(0, |at| at + 1);
        self.line.get_or_insert_with(Line::default).place(place)
    }

    /// The place of the waiter just pushed: the back of the queue, found without a walk.
    pub(crate) fn place_at_back(&mut self) -> Place {
        let place = self.queued;
        self.line.get_or_insert_with(Line::default).place(place)
    }

    /// True while the waiter is still queued, false once its outcome has been decided.
    pub(crate) fn is_queued(&self, key: WaiterKey) -> bool {
        self.nodes.get(key.0 as usize).expect(NO_SLOT).queued
    }

    /// The primitive's data for this waiter, queued or not.
    pub(crate) fn get_mut(&mut self, key: WaiterKey) -> &mut T {
        &mut self.nodes.get_mut(key.0 as usize).expect(NO_SLOT).value
    }

    /// Frees the waiter's slot, unlinking it first if it is still queued. Called by the
    /// owning future only: from the poll that reads its outcome, or from its `Drop`.
    pub(crate) fn remove(&mut self, key: WaiterKey) -> T {
        self.unlink(key.0);
        self.nodes.remove(key.0 as usize).value
    }

    /// Every slot's data, queued or unlinked, in no particular order: for tests that count
    /// what waiters hold.
    #[cfg(test)]
    pub(crate) fn slots(&self) -> impl Iterator<Item = &T> {
        self.nodes.iter().map(|(_, node)| &node.value)
    }

    /// Takes the node at `index` out of the queue; does nothing if it is already unlinked.
    fn unlink(&mut self, index: u32) {
        let node = self.nodes.get_mut(index as usize).expect(NO_SLOT);
        if !std::mem::take(&mut node.queued) {
            return;
        }
        if let Some(line) = &self.line
            && self.queue.front() == Some(index)
        {
            line.left_front();
        }
        self.queue.unlink(index, &mut self.nodes);
        self.queued -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Drains the queue from the front, returning the values in service order.
    fn serve_all(list: &mut WaitList<&'static str>) -> Vec<&'static str> {
        let mut served = Vec::new();
        while let Some(key) = list.pop_front() {
            served.push(list.remove(key));
        }
        served
    }

    #[test]
    fn waiters_are_served_in_arrival_order() {
        let mut list = WaitList::new();
        list.push_back("a");
        list.push_back("b");
        list.push_back("c");
        assert_eq!(list.len(), 3);
        assert_eq!(serve_all(&mut list), ["a", "b", "c"]);
        assert!(list.is_empty());
    }

    #[test]
    fn a_waiter_leaves_from_the_middle_without_disturbing_the_order() {
        let mut list = WaitList::new();
        list.push_back("a");
        let b = list.push_back("b");
        list.push_back("c");
        assert_eq!(list.remove(b), "b");
        assert_eq!(serve_all(&mut list), ["a", "c"]);
    }

    #[test]
    fn the_head_and_the_tail_can_leave_and_the_list_stays_usable() {
        let mut list = WaitList::new();
        let a = list.push_back("a");
        list.push_back("b");
        let c = list.push_back("c");
        list.remove(a);
        list.remove(c);
        assert_eq!(list.front().map(|key| *list.get_mut(key)), Some("b"));
        list.push_back("d");
        assert_eq!(serve_all(&mut list), ["b", "d"]);
    }

    #[test]
    fn an_unlinked_waiter_keeps_its_slot_until_its_future_removes_it() {
        let mut list = WaitList::new();
        let a = list.push_back("a");
        let b = list.push_back("b");
        assert_eq!(list.pop_front(), Some(a));
        assert!(!list.is_queued(a));
        assert!(list.is_queued(b));
        assert_eq!(list.len(), 1);
        assert_eq!(*list.get_mut(a), "a", "the outcome waits in the slot");
        assert_eq!(list.front(), Some(b));
        assert_eq!(list.remove(a), "a");
        assert_eq!(list.slots().count(), 1);
    }

    #[test]
    fn a_held_key_is_never_reused_even_after_other_waiters_come_and_go() {
        let mut list = WaitList::new();
        let a = list.push_back("a");
        list.pop_front();
        for _ in 0..3 {
            let other = list.push_back("other");
            assert_ne!(other, a);
            list.remove(other);
        }
        assert_eq!(list.remove(a), "a");
    }

    #[test]
    fn removing_an_already_unlinked_waiter_does_not_touch_the_queue() {
        let mut list = WaitList::new();
        let a = list.push_back("a");
        list.push_back("b");
        list.pop_front();
        list.remove(a);
        assert_eq!(list.len(), 1);
        assert_eq!(serve_all(&mut list), ["b"]);
    }
}

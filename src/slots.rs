//! A generational key and the slab it names: how the loop stores what it owns (tasks,
//! callbacks, timers, I/O registrations) and hands out small, copyable names for them.
//!
//! # What to know first
//!
//! A *slab* is a `Vec` whose freed slots are reused: inserting returns an index, removing frees
//! it, and looking up is one bounds check and one array access. That makes an index a cheap name
//! for a stored value, but a dangerous one: once the value is removed, a later insert reuses the
//! index, and an old copy of the index (held by a waker, a queue entry, a cancelled handle) would
//! silently name the newcomer.
//!
//! A [`Key`] therefore carries a **generation** beside the index. Each insert takes the slab's
//! next generation and stores it with the value; a lookup succeeds only if the slot is occupied
//! *and* its generation matches the key's. A stale key (its value removed, the slot perhaps
//! reused) then answers `None` everywhere, instead of reaching the wrong value.
//!
//! ```text
//!   Key { index: 2, generation: 7 }
//!              │
//!   slots:  [ (gen 3, A) | vacant | (gen 9, C) | ... ]
//!                                    └─ index 2 holds generation 9, not 7: the key is stale
//! ```
//!
//! Generations are 32 bits and wrap, skipping 0. A stale key is only mistaken for a live one if
//! it survives four billion further inserts into the same slab *and* its slot is reused at just
//! that moment; evloop accepts that, as every generational arena does.
//!
//! Read with: the `slab` crate (the storage underneath), and the "generational index" pattern
//! of ECS libraries (e.g. `generational-arena`, `slotmap`).

use std::fmt;
use std::num::NonZeroU32;

use slab::Slab;

/// Names one value in a [`Slots`]: its slot index plus the generation it was inserted with.
/// Copyable and harmless once the value is gone (see the module docs).
///
/// Stored as one `u64` (generation in the high half, index in the low), so that comparing two
/// keys, or a queue entry that holds one, is a single integer compare on the loop's hot path.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Key(u64);

impl Key {
    /// The key of slot `index`, generation `generation`.
    const fn new(index: u32, generation: u32) -> Key {
        Key(((generation as u64) << 32) | index as u64)
    }

    /// The slot index: where the value lives in the slab.
    pub(crate) const fn index(self) -> u32 {
        self.0 as u32
    }

    /// The generation the value was inserted with: tells a later value in the same slot from
    /// this one.
    pub(crate) const fn generation(self) -> u32 {
        (self.0 >> 32) as u32
    }

    /// Packs the key into one integer, generation in the high half (for a mio token, say).
    pub(crate) const fn to_bits(self) -> u64 {
        self.0
    }

    /// The key that [`to_bits`](Self::to_bits) packed.
    pub(crate) const fn from_bits(bits: u64) -> Key {
        Key(bits)
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.index(), self.generation())
    }
}

/// A slab whose entries are named by generational [`Key`]s.
pub(crate) struct Slots<T> {
    /// The values, each beside the generation it was inserted with. (The slab's "vacant" variant
    /// costs no extra tag: it hides in the generation's forbidden 0, or in the value's own niche.)
    entries: Slab<Entry<T>>,
    /// The generation the next insert gets. Never 0, so generation 0 never names a live value.
    next_generation: NonZeroU32,
}

/// One occupied slot.
struct Entry<T> {
    /// Must equal a key's generation for the key to reach `value`. Non-zero, which gives the
    /// slab a niche for its "vacant" tag even when `value` has none (the timer wheel's entries:
    /// 40 bytes a slot, not 48).
    generation: NonZeroU32,
    /// What the caller stored.
    value: T,
}

impl<T> Slots<T> {
    /// An empty slab whose first insert gets generation 1.
    pub(crate) fn new() -> Slots<T> {
        Slots::starting_at(1)
    }

    /// An empty slab whose first insert gets `generation` (0 counts as 1). Two slabs started far
    /// apart hand out keys that match nothing in each other, for as long as their counters do
    /// not meet: the timer wheel uses this so that a key carried to another loop's wheel misses.
    pub(crate) fn starting_at(generation: u32) -> Slots<T> {
        Slots {
            entries: Slab::new(),
            next_generation: NonZeroU32::new(generation).unwrap_or(NonZeroU32::MIN),
        }
    }

    /// The key the next [`insert`](Self::insert) will return: for values that must carry their
    /// own key (a task's header holds its id).
    ///
    /// # Panics
    /// If 2^31 values are live at once. Indices stay below 2^31 so that bit 31 of a key is
    /// always clear: the ready queue keeps a flag there (`scheduler::Queued`).
    pub(crate) fn vacant_key(&self) -> Key {
        let index = u32::try_from(self.entries.vacant_key())
            .ok()
            .filter(|&index| index < 1 << 31)
            .expect("a slab holds fewer than 2^31 live values");
        Key::new(index, self.next_generation.get())
    }

    /// Stores `value` and returns its key.
    pub(crate) fn insert(&mut self, value: T) -> Key {
        let key = self.vacant_key();
        self.entries.insert(Entry {
            generation: self.next_generation,
            value,
        });
        self.next_generation = self.next_generation.checked_add(1).unwrap_or(NonZeroU32::MIN);
        key
    }

    /// The value a key names, if the key is not stale.
    pub(crate) fn get(&self, key: Key) -> Option<&T> {
        self.entries
            .get(key.index() as usize)
            .filter(|entry| entry.generation.get() == key.generation())
            .map(|entry| &entry.value)
    }

    /// The value a key names, to change in place.
    pub(crate) fn get_mut(&mut self, key: Key) -> Option<&mut T> {
        self.entries
            .get_mut(key.index() as usize)
            .filter(|entry| entry.generation.get() == key.generation())
            .map(|entry| &mut entry.value)
    }

    /// Whether the key names a live value.
    pub(crate) fn contains(&self, key: Key) -> bool {
        self.get(key).is_some()
    }

    /// Removes the value a key names and gives it back; `None` (and nothing removed) for a
    /// stale key.
    pub(crate) fn remove(&mut self, key: Key) -> Option<T> {
        self.get(key)?;
        Some(self.entries.remove(key.index() as usize).value)
    }

    /// The live value at a slot index, whatever its generation: for structures that link their
    /// entries by index (the wheel's lists) and so already know the index is live.
    ///
    /// # Panics
    /// If the slot is vacant: the caller's own links are broken.
    pub(crate) fn at(&self, index: u32) -> &T {
        &self
            .entries
            .get(index as usize)
            .expect("a linked index names a live entry")
            .value
    }

    /// Like [`at`](Self::at), to change the value in place.
    ///
    /// # Panics
    /// If the slot is vacant.
    pub(crate) fn at_mut(&mut self, index: u32) -> &mut T {
        &mut self
            .entries
            .get_mut(index as usize)
            .expect("a linked index names a live entry")
            .value
    }

    /// Removes the live value at a slot index, whatever its generation.
    ///
    /// # Panics
    /// If the slot is vacant.
    pub(crate) fn remove_at(&mut self, index: u32) -> T {
        self.entries
            .try_remove(index as usize)
            .expect("a linked index names a live entry")
            .value
    }

    /// How many values are live.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no value is live.
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The keys of every live value, in slot order: a snapshot, so that the caller may remove
    /// values while it works through them. (Asking for "some live key" once per value instead
    /// would rescan the emptied front of the slab each time: quadratic.)
    pub(crate) fn keys(&self) -> Vec<Key> {
        self.entries
            .iter()
            .map(|(index, entry)| Key::new(index as u32, entry.generation.get()))
            .collect()
    }

    /// Every live value, to change in place (runtime shutdown takes the wakers out of them).
    pub(crate) fn values_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.entries.iter_mut().map(|(_, entry)| &mut entry.value)
    }

    /// The bytes one slot of the slab takes, vacant or not: for the layout tests of the
    /// structures built on it. (The `slab` crate's slot type is private; this is its shape.)
    #[cfg(test)]
    pub(crate) const fn slot_size() -> usize {
        #[allow(dead_code, reason = "only measured")]
        enum SlabSlot<T> {
            Vacant(usize),
            Occupied(T),
        }
        std::mem::size_of::<SlabSlot<Entry<T>>>()
    }

    /// Removes every value, handing them over for the caller to drop (outside any borrow).
    pub(crate) fn drain(&mut self) -> Vec<T> {
        self.entries.drain().map(|entry| entry.value).collect()
    }
}

impl<T> fmt::Debug for Slots<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Slots")
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_reaches_its_value_until_the_value_is_removed() {
        let mut slots = Slots::new();
        let a = slots.insert("a");
        assert_eq!(slots.get(a), Some(&"a"));
        *slots.get_mut(a).unwrap() = "A";
        assert_eq!(slots.remove(a), Some("A"));
        assert_eq!(slots.get(a), None);
        assert_eq!(slots.remove(a), None, "a second remove finds nothing");
        assert!(slots.is_empty());
    }

    #[test]
    fn a_stale_key_never_reaches_the_value_that_reuses_its_slot() {
        let mut slots = Slots::new();
        let old = slots.insert("old");
        slots.remove(old);
        let new = slots.insert("new");
        assert_eq!(new.index(), old.index(), "the slab reuses the slot");
        assert_ne!(new.generation(), old.generation());
        assert_eq!(slots.get(old), None);
        assert!(!slots.contains(old));
        assert_eq!(
            slots.remove(old),
            None,
            "removing through a stale key leaves the newcomer"
        );
        assert_eq!(slots.get(new), Some(&"new"));
    }

    #[test]
    fn vacant_key_is_the_key_the_next_insert_returns() {
        let mut slots = Slots::new();
        for value in 0..5 {
            let expected = slots.vacant_key();
            assert_eq!(slots.insert(value), expected);
        }
        let first = Key::from_bits(1 << 32);
        assert_eq!(
            slots.get(first),
            Some(&0),
            "the first insert gets index 0, generation 1"
        );
    }

    #[test]
    fn generations_wrap_past_the_top_and_skip_zero() {
        let mut slots = Slots::starting_at(u32::MAX);
        let last = slots.insert('x');
        assert_eq!(last.generation(), u32::MAX);
        let wrapped = slots.insert('y');
        assert_eq!(wrapped.generation(), 1, "0 is never handed out");
        assert_eq!(Slots::<()>::starting_at(0).vacant_key().generation(), 1);
    }

    #[test]
    fn keys_from_slabs_started_apart_match_nothing_in_each_other() {
        let mut here = Slots::starting_at(1);
        let mut there = Slots::starting_at(1 << 31);
        let mine = here.insert(1);
        let theirs = there.insert(2);
        assert_eq!(mine.index(), theirs.index());
        assert_eq!(here.get(theirs), None);
        assert_eq!(there.get(mine), None);
    }

    #[test]
    fn bits_round_trip() {
        let key = Key::new(0xdead, 0xbeef_0001);
        assert_eq!(Key::from_bits(key.to_bits()), key);
        assert_eq!(key.to_bits(), 0xbeef_0001_0000_dead);
        assert_eq!(format!("{key:?}"), "57005.3203334145");
    }

    #[test]
    fn by_index_access_sees_live_values_and_keys_lists_them_all() {
        let mut slots = Slots::new();
        let a = slots.insert(10);
        let b = slots.insert(20);
        let c = slots.insert(30);
        slots.remove(b);
        assert_eq!(*slots.at(a.index()), 10);
        assert_eq!(slots.get(a), Some(&10));
        *slots.at_mut(c.index()) += 1;
        slots.values_mut().for_each(|value| *value *= 2);
        assert_eq!(slots.keys(), [a, c]);
        assert_eq!(slots.remove_at(c.index()), 62);
        assert_eq!(slots.len(), 1);
        assert_eq!(slots.drain(), [20]);
        assert!(slots.is_empty());
    }
}

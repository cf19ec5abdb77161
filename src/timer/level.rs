//! One level of the timer wheel (64 slots and a bit mask of the occupied ones), and the pure
//! arithmetic that decides which level and slot a deadline belongs in.
//!
//! # What to know first
//!
//! The wheel (`wheel.rs`) counts time in whole *ticks* (1 µs each in evloop, but nothing here
//! knows that) and remembers `elapsed`, the last tick it has processed. A hierarchical timing
//! wheel (Varghese & Lauck, "Hashed and Hierarchical Timing Wheels", 1987) works like the hands
//! of a watch: a fine hand for the next few ticks, coarser hands for later ones. Here there are
//! six levels of 64 slots. A level-`L` slot is `64^L` ticks wide, so one turn of level `L`
//! covers `64^(L+1)` ticks:
//!
//! | level | slot width       | one turn of the level | at 1 µs per tick |
//! |-------|------------------|-----------------------|------------------|
//! | 0     | 1 tick           | 2^6 = 64 ticks        | 64 µs            |
//! | 1     | 2^6 = 64 ticks   | 2^12 ticks            | ~4.1 ms          |
//! | 2     | 2^12 ticks       | 2^18 ticks            | ~262 ms          |
//! | 3     | 2^18 ticks       | 2^24 ticks            | ~16.8 s          |
//! | 4     | 2^24 ticks       | 2^30 ticks            | ~17.9 min        |
//! | 5     | 2^30 ticks       | 2^36 ticks            | ~19.1 h          |
//!
//! Because 64 = 2^6, a tick's slot at level `L` is simply its `L`-th 6-bit *digit*: bits 0..6
//! name its level-0 slot, bits 6..12 its level-1 slot, and so on. An entry goes to the level of
//! the **highest digit in which its deadline differs from `elapsed`** (level 0 if they differ
//! only in the lowest digit), in the slot named by the deadline's digit at that level.
//!
//! Example: `elapsed = 100` (digits 1|36) and `deadline = 130` (digits 2|2) differ first in
//! digit 1, so the entry waits in level 1, slot 2, which spans ticks 128..192. When the wheel
//! reaches tick 128, the start of that slot, it takes the slot's entries and places each one
//! again relative to the new `elapsed`: 130 and 128 now differ only in digit 0, so the entry
//! drops to level 0, slot 2, and fires at exactly tick 130. That move is called *cascading*.
//!
//! Every digit above an entry's level equals `elapsed`'s, and its own digit is larger, so a
//! level's occupied slots always lie *ahead of its hand*, in the turn that contains `elapsed`.
//! Finding the next slot to process is therefore one mask and one `trailing_zeros`; no level
//! ever looks behind its hand or wraps around. (Deadlines that differ from `elapsed` above
//! digit 5 wait in the wheel's overflow list instead; see `wheel.rs`.)
//!
//! tokio's `runtime/time/wheel/level.rs` is the production reference for this layout.
//!
//! # The lists
//!
//! Each slot is an index-linked FIFO list (`list.rs`): the slot stores only the indices of its
//! first and last entry, and the links live in the entries themselves, in the wheel's slab.
//! Linking allocates nothing, and an entry leaves the middle of a list in O(1).

use std::fmt;

use crate::list::{Links, List};

/// How many levels the wheel has: six levels of 6-bit digits cover 36 bits of ticks.
pub(crate) const LEVELS: usize = 6;

/// Slots per level. 64 makes a slot index one 6-bit digit and a level's occupied set one `u64`.
pub(crate) const SLOTS: usize = 64;

/// Bits in one slot digit (64 = 2^6).
const SLOT_BITS: u32 = 6;

/// The largest digit value, used as a mask to cut one digit out of a tick.
const DIGIT_MASK: u64 = SLOTS as u64 - 1;

/// Ticks covered by one slot at `level`: `64^level`.
pub(crate) fn slot_width(level: usize) -> u64 {
    debug_assert!(level < LEVELS, "level {level} does not exist");
    1 << (SLOT_BITS * level as u32)
}

/// Ticks covered by one full turn of `level`: `64^(level + 1)`. The top level's turn, 2^36
/// ticks, is the reach of the whole wheel.
pub(crate) fn turn_length(level: usize) -> u64 {
    slot_width(level) << SLOT_BITS
}

/// The level at which an entry for `deadline` waits when the wheel has processed up to
/// `elapsed`: the highest 6-bit digit in which the two differ, and level 0 when they differ in
/// no digit above the lowest one. `None` when they differ above the top level's digit, that is
/// when the deadline lies in a later turn of the top level (the wheel's overflow list).
///
/// Meaningful for `deadline > elapsed`; the wheel handles earlier deadlines before asking.
pub(crate) fn level_for(elapsed: u64, deadline: u64) -> Option<usize> {
    // Setting the lowest digit's bits makes "no difference" and "differ only in digit 0" both
    // come out as level 0, and keeps `leading_zeros` away from the all-zero case.
    let differing = (elapsed ^ deadline) | DIGIT_MASK;
    let highest_bit = u64::BITS - 1 - differing.leading_zeros();
    let level = (highest_bit / SLOT_BITS) as usize;
    (level < LEVELS).then_some(level)
}

/// The slot `tick` falls in at `level`: its digit number `level`. Slots repeat every turn:
/// ticks 5, 69 and 133 all fall in level-0 slot 5.
pub(crate) fn slot_for(tick: u64, level: usize) -> usize {
    debug_assert!(level < LEVELS, "level {level} does not exist");
    ((tick >> (SLOT_BITS * level as u32)) & DIGIT_MASK) as usize
}

/// The first tick of the turn of `level` that contains `tick`: `tick` with every digit at and
/// below `level` cleared.
pub(crate) fn turn_start(tick: u64, level: usize) -> u64 {
    tick & !(turn_length(level) - 1)
}

/// The first tick of `slot` at `level`, in the turn of that level that contains `elapsed`. This
/// is when the wheel must process the slot. It cannot overflow: a turn starts on a multiple of
/// its length, so its last slot still ends at or before `u64::MAX`.
pub(crate) fn slot_start(elapsed: u64, level: usize, slot: usize) -> u64 {
    debug_assert!(slot < SLOTS, "slot {slot} does not exist");
    turn_start(elapsed, level) + slot as u64 * slot_width(level)
}

/// The lowest set bit of `occupied` strictly above bit `current`, as a slot index, or `None`.
/// Bit `i` set means slot `i` holds entries. Slots at or before `current` are not considered:
/// the hand has already passed them in this turn.
pub(crate) fn next_occupied_slot(occupied: u64, current: usize) -> Option<usize> {
    // `checked_shl` turns "nothing is above slot 63" into an empty mask instead of a panic.
    let ahead = occupied & u64::MAX.checked_shl(current as u32 + 1).unwrap_or(0);
    (ahead != 0).then(|| ahead.trailing_zeros() as usize)
}

/// One level of the wheel: 64 slot lists and the bit mask of the non-empty ones.
pub(crate) struct Level {
    /// Which level this is (0 to 5), so that it can turn its slot numbers into ticks.
    level: usize,
    /// Bit `i` is set exactly when `slots[i]` is non-empty.
    ///
    /// # Invariant
    /// Every method that changes a slot updates its bit. The mask is what makes finding the next
    /// slot to process O(1): one `trailing_zeros` instead of looking at 64 lists.
    occupied: u64,
    /// The entries of each slot, in insertion order, indexed by the slot's digit.
    slots: [List; SLOTS],
}

impl Level {
    /// An empty level number `level`.
    pub(crate) fn new(level: usize) -> Level {
        debug_assert!(level < LEVELS, "level {level} does not exist");
        Level {
            level,
            occupied: 0,
            slots: [List::EMPTY; SLOTS],
        }
    }

    /// Appends entry `index` to `slot`.
    pub(crate) fn push_back(&mut self, slot: usize, index: u32, links: &mut impl Links) {
        self.slots[slot].push_back(index, links);
        self.occupied |= 1 << slot;
    }

    /// Takes entry `index`, which must be in `slot`, out of it.
    pub(crate) fn unlink(&mut self, slot: usize, index: u32, links: &mut impl Links) {
        self.slots[slot].unlink(index, links);
        if self.slots[slot].is_empty() {
            self.occupied &= !(1 << slot);
        }
    }

    /// The entries of `slot`, to read.
    pub(crate) fn slot(&self, slot: usize) -> &List {
        &self.slots[slot]
    }

    /// Empties `slot` and hands over its whole list, so that the caller can re-place the entries
    /// one by one, even back into this very level, without ever seeing one of them twice.
    pub(crate) fn take_slot(&mut self, slot: usize) -> List {
        self.occupied &= !(1 << slot);
        std::mem::take(&mut self.slots[slot])
    }

    /// The next occupied slot ahead of `elapsed`'s slot, and the tick at which it starts, or
    /// `None` if the level is empty.
    pub(crate) fn next_turn(&self, elapsed: u64) -> Option<(usize, u64)> {
        // An empty level answers from its mask alone: the wheel asks every level below the first
        // occupied one, twice a turn, and a request's timeout waits four levels up.
        if self.occupied == 0 {
            return None;
        }
        let current = slot_for(elapsed, self.level);
        debug_assert_eq!(
            self.occupied & !u64::MAX.checked_shl(current as u32 + 1).unwrap_or(0),
            0,
            "level {} holds entries behind its hand",
            self.level
        );
        let slot = next_occupied_slot(self.occupied, current)?;
        Some((slot, slot_start(elapsed, self.level, slot)))
    }

    /// The occupied slots and their lists, checking that the mask agrees with the lists.
    #[cfg(test)]
    pub(crate) fn occupied_slots(&self) -> impl Iterator<Item = (usize, &List)> {
        self.slots.iter().enumerate().filter(|(slot, list)| {
            assert_eq!(
                self.occupied & (1 << slot) != 0,
                !list.is_empty(),
                "mask bit {slot} is wrong"
            );
            !list.is_empty()
        })
    }
}

impl fmt::Debug for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Level")
            .field("level", &self.level)
            .field("occupied", &format_args!("{:#066b}", self.occupied))
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::list::Link;

    const LEVEL_STARTS: [u64; 7] = [0, 1 << 6, 1 << 12, 1 << 18, 1 << 24, 1 << 30, 1 << 36];

    #[test]
    fn widths_and_turns_follow_the_level_table() {
        for level in 0..LEVELS {
            assert_eq!(slot_width(level), 64u64.pow(level as u32));
            assert_eq!(turn_length(level), 64u64.pow(level as u32 + 1));
        }
        assert_eq!(turn_length(LEVELS - 1), 1 << 36);
    }

    #[test]
    fn level_changes_exactly_at_each_power_of_64() {
        for level in 0..LEVELS {
            let (first, next) = (LEVEL_STARTS[level], LEVEL_STARTS[level + 1]);
            assert_eq!(level_for(0, first.max(1)), Some(level), "first tick of level {level}");
            assert_eq!(level_for(0, next - 1), Some(level), "last tick of level {level}");
        }
        assert_eq!(level_for(0, 1 << 36), None);
        assert_eq!(level_for(0, u64::MAX), None);
    }

    #[test]
    fn deadline_equal_to_elapsed_is_level_zero() {
        for elapsed in [0, 63, 64, 1 << 36, u64::MAX] {
            assert_eq!(level_for(elapsed, elapsed), Some(0));
        }
    }

    #[test]
    fn level_depends_on_the_differing_digit_not_on_the_distance() {
        // One tick ahead, but across a level-0 turn boundary: digit 1 differs.
        assert_eq!(level_for(63, 64), Some(1));
        assert_eq!(level_for(64, 127), Some(0));
        assert_eq!(level_for(4095, 4096), Some(2));
        // One tick ahead, across a top-level turn boundary: a later turn, so overflow.
        assert_eq!(level_for((1 << 36) - 1, 1 << 36), None);
        // Far ahead, yet in the same top-level turn.
        assert_eq!(level_for(1 << 36, (1 << 37) - 1), Some(5));
        assert_eq!(level_for(u64::MAX - 1, u64::MAX), Some(0));
        assert_eq!(level_for(0, 100), Some(1));
    }

    #[test]
    fn slot_is_the_digit_and_wraps_every_turn() {
        assert_eq!(slot_for(5, 0), 5);
        assert_eq!(slot_for(63, 0), 63);
        assert_eq!(slot_for(64, 0), 0);
        assert_eq!(slot_for(69, 0), 5);
        assert_eq!(slot_for(63, 1), 0);
        assert_eq!(slot_for(64, 1), 1);
        assert_eq!(slot_for(4095, 1), 63);
        assert_eq!(slot_for(4096, 1), 0);
        assert_eq!(slot_for(130, 1), 2);
        assert_eq!(slot_for((1 << 36) - 1, 5), 63);
        assert_eq!(slot_for(1 << 36, 5), 0);
        assert_eq!(slot_for(u64::MAX, 5), 63);
    }

    #[test]
    fn slot_start_is_in_the_turn_that_contains_elapsed() {
        assert_eq!(slot_start(100, 0, 40), 104);
        assert_eq!(slot_start(100, 1, 2), 128);
        assert_eq!(slot_start(0, 1, 63), 63 * 64);
        assert_eq!(slot_start(5000, 2, 1), 4096);
        assert_eq!(slot_start(0, 5, 63), 63 << 30);
        assert_eq!(slot_start((1 << 36) + 7, 5, 1), (1 << 36) + (1 << 30));
        // The last slot of the last turn ends exactly at u64::MAX: no overflow.
        assert_eq!(slot_start(u64::MAX - 5, 5, 63), u64::MAX - ((1 << 30) - 1));
        assert_eq!(slot_start(u64::MAX - 5, 0, 63), u64::MAX);
    }

    #[test]
    fn turn_start_clears_the_digits_at_and_below_the_level() {
        assert_eq!(turn_start(100, 0), 64);
        assert_eq!(turn_start(64, 0), 64);
        assert_eq!(turn_start(5000, 1), 4096);
        assert_eq!(turn_start((1 << 36) - 1, 5), 0);
        assert_eq!(turn_start(1 << 36, 5), 1 << 36);
        assert_eq!(turn_start(u64::MAX, 5), u64::MAX << 36);
    }

    #[test]
    fn next_occupied_slot_looks_only_ahead_of_the_hand() {
        assert_eq!(next_occupied_slot(0, 0), None);
        assert_eq!(next_occupied_slot(0b1, 0), None, "the hand's own slot is behind it");
        assert_eq!(next_occupied_slot(0b110, 0), Some(1));
        assert_eq!(next_occupied_slot(0b101, 1), Some(2));
        assert_eq!(next_occupied_slot(1 << 63, 62), Some(63));
        assert_eq!(next_occupied_slot(u64::MAX, 63), None, "nothing is ahead of slot 63");
        assert_eq!(next_occupied_slot((1 << 10) | 0b1111, 5), Some(10));
    }

    #[test]
    fn level_mask_follows_its_slots() {
        let mut links = vec![Link::default(); 3];
        let mut level = Level::new(1);
        level.push_back(7, 0, &mut links);
        level.push_back(7, 1, &mut links);
        level.push_back(9, 2, &mut links);
        assert_eq!(level.next_turn(0), Some((7, 7 * 64)));
        level.unlink(7, 0, &mut links);
        assert_eq!(level.next_turn(0), Some((7, 7 * 64)), "slot 7 still holds entry 1");
        let taken = level.take_slot(7);
        assert_eq!(taken.indices(&mut links), [1]);
        assert_eq!(level.next_turn(7 * 64), Some((9, 9 * 64)));
        level.unlink(9, 2, &mut links);
        assert_eq!(level.next_turn(0), None);
        assert_eq!(level.occupied_slots().count(), 0);
    }
}

//! The floor's timers: the least a runtime must keep to sleep until deadlines with O(1) insert
//! and cancel, and to find the earliest deadline to the nanosecond.
//!
//! A hashed timing wheel (Varghese & Lauck, SOSP 1987, scheme 6): 65,536 slots of 2^16 ns
//! (65.5 µs; one revolution is 4.3 s), each an index-linked doubly linked list of 32-byte entries
//! (deadline, waker, two links) in one slab. A deadline goes to slot `(deadline >> 16) % 65536`;
//! lists are unsorted, so a slot may hold entries of later revolutions, which its visit skips.
//! Insert is a push at the front of a list, cancel an unlink (the two neighbours' links), and the
//! memory of a cancelled timer is reusable at once. An occupied bitmap skips empty slots.

use super::*;

const SLOT_BITS: u32 = 16;
const SLOTS: usize = 1 << 16;
const MASK: u64 = SLOTS as u64 - 1;

/// The end of a list, and "no free entry".
const NIL: u32 = u32::MAX;
/// `prev` of a slot's first entry: this bit plus the slot's index.
const HEAD: u32 = 1 << 31;
/// `prev` of an entry that is on the free list.
const VACANT: u32 = u32::MAX - 1;
/// `prev` of an entry that has fired and left its list, until its `Sleep` sees it.
const FIRED: u32 = u32::MAX;

struct Entry {
    /// Nanoseconds since the loop's base instant.
    deadline: u64,
    /// Whom to wake; taken when the entry fires.
    waker: Option<Waker>,
    /// The previous entry, or `HEAD | slot`, `VACANT`, `FIRED`.
    prev: u32,
    /// The next entry in the list (or on the free list), or `NIL`.
    next: u32,
}

pub(super) struct Wheel {
    entries: Vec<Entry>,
    /// The first vacant entry, or `NIL`.
    free: u32,
    /// Each slot's first entry, or `NIL`.
    heads: Box<[u32]>,
    /// One bit per slot: its list is not empty.
    occupied: Box<[u64]>,
    /// Every tick before this one has been fired; an entry due before it goes to its slot.
    cursor: u64,
    /// Entries in lists (not fired, not vacant).
    linked: usize,
}

impl Wheel {
    pub(super) fn new() -> Wheel {
        Wheel {
            entries: Vec::new(),
            free: NIL,
            heads: vec![NIL; SLOTS].into_boxed_slice(),
            occupied: vec![0; SLOTS / 64].into_boxed_slice(),
            cursor: 0,
            linked: 0,
        }
    }

    /// Registers `waker` to be woken at `deadline`; returns the entry's key.
    fn insert(&mut self, deadline: u64, waker: Waker) -> u32 {
        let slot = ((deadline >> SLOT_BITS).max(self.cursor) & MASK) as u32;
        let head = self.heads[slot as usize];
        let entry = Entry {
            deadline,
            waker: Some(waker),
            prev: HEAD | slot,
            next: head,
        };
        let key = if self.free == NIL {
            assert!(self.entries.len() < HEAD as usize, "fewer than 2^31 timers");
            self.entries.push(entry);
            (self.entries.len() - 1) as u32
        } else {
            let key = self.free;
            self.free = self.entries[key as usize].next;
            self.entries[key as usize] = entry;
            key
        };
        if head != NIL {
            self.entries[head as usize].prev = key;
        }
        self.heads[slot as usize] = key;
        self.occupied[slot as usize / 64] |= 1 << (slot % 64);
        self.linked += 1;
        key
    }

    /// Takes a linked entry out of its list.
    fn unlink(&mut self, key: u32) {
        let Entry { prev, next, .. } = self.entries[key as usize];
        if prev & HEAD != 0 {
            let slot = (prev & !HEAD) as usize;
            self.heads[slot] = next;
            if next == NIL {
                self.occupied[slot / 64] &= !(1 << (slot % 64));
            }
        } else {
            self.entries[prev as usize].next = next;
        }
        if next != NIL {
            self.entries[next as usize].prev = prev;
        }
        self.linked -= 1;
    }

    /// Cancels the entry (or forgets a fired one): its memory is reusable at once.
    fn remove(&mut self, key: u32) {
        if self.entries[key as usize].prev < VACANT {
            self.unlink(key);
        }
        let entry = &mut self.entries[key as usize];
        entry.waker = None;
        entry.prev = VACANT;
        entry.next = self.free;
        self.free = key;
    }

    fn fired(&self, key: u32) -> bool {
        self.entries[key as usize].prev == FIRED
    }

    fn set_waker(&mut self, key: u32, waker: &Waker) {
        let slot = &mut self.entries[key as usize].waker;
        if !slot.as_ref().is_some_and(|w| w.will_wake(waker)) {
            *slot = Some(waker.clone());
        }
    }

    /// Wakes every entry due at `now`. (The floor's wakers only queue their task, so waking while
    /// the wheel is borrowed is safe here; a runtime collects them first.)
    pub(super) fn fire_due(&mut self, now: u64) {
        let now_tick = now >> SLOT_BITS;
        loop {
            if self.linked == 0 {
                self.cursor = self.cursor.max(now_tick);
                return;
            }
            let mut key = self.heads[(self.cursor & MASK) as usize];
            while key != NIL {
                let entry = &mut self.entries[key as usize];
                let next = entry.next;
                if entry.deadline <= now {
                    let waker = entry.waker.take();
                    self.unlink(key);
                    self.entries[key as usize].prev = FIRED;
                    if let Some(waker) = waker {
                        waker.wake();
                    }
                }
                key = next;
            }
            if self.cursor >= now_tick {
                return;
            }
            self.cursor = self
                .next_occupied(self.cursor + 1)
                .map_or(now_tick, |t| t.min(now_tick));
        }
    }

    /// The first tick at or after `from` whose slot is occupied (within one revolution).
    fn next_occupied(&self, from: u64) -> Option<u64> {
        let mut position = (from & MASK) as usize;
        let mut distance = 0;
        while distance <= SLOTS {
            let bits = self.occupied[position / 64] >> (position % 64);
            if bits != 0 {
                return Some(from + (distance + bits.trailing_zeros() as usize) as u64);
            }
            let step = 64 - position % 64;
            distance += step;
            position = (position + step) % SLOTS;
        }
        None
    }

    /// The earliest deadline (or, if every entry is a revolution or more away, when to look
    /// again); `None` if there is no timer.
    pub(super) fn next_deadline(&self) -> Option<u64> {
        if self.linked == 0 {
            return None;
        }
        let end = self.cursor + SLOTS as u64;
        let mut tick = self.cursor;
        while let Some(t) = self.next_occupied(tick).filter(|&t| t < end) {
            // Entries of this revolution (or due already) are before the slot's end.
            let limit = (t + 1) << SLOT_BITS;
            let mut key = self.heads[(t & MASK) as usize];
            let mut earliest = None;
            while key != NIL {
                let entry = &self.entries[key as usize];
                if entry.deadline < limit {
                    earliest = Some(earliest.map_or(entry.deadline, |e: u64| e.min(entry.deadline)));
                }
                key = entry.next;
            }
            if earliest.is_some() {
                return earliest;
            }
            tick = t + 1;
        }
        Some(end << SLOT_BITS)
    }
}

/// `Instant::now() + delay`: one clock read, as every runtime's `sleep` makes.
pub(super) fn sleep(delay: Duration) -> Sleep {
    sleep_until(Instant::now() + delay)
}

pub(super) fn sleep_until(deadline: Instant) -> Sleep {
    let deadline = with_current(|inner| inner.ns_since_base(deadline));
    Sleep {
        deadline: deadline.expect("floor sleeps are made inside the floor's block_on"),
        key: UNREGISTERED,
    }
}

/// `Sleep::key` before the first poll.
const UNREGISTERED: u32 = u32::MAX;
/// `Sleep::key` once it has fired and been seen.
const DONE: u32 = u32::MAX - 1;

/// Registers its deadline at its first poll; dropping it cancels the timer.
#[must_use = "a sleep does nothing unless awaited"]
pub(super) struct Sleep {
    deadline: u64,
    /// Its wheel entry, or `UNREGISTERED`, `DONE`.
    key: u32,
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let (deadline, key) = (self.deadline, self.key);
        if key == DONE {
            return Poll::Ready(());
        }
        let key = with_current(|inner| {
            let mut wheel = inner.timers.borrow_mut();
            if key == UNREGISTERED {
                wheel.insert(deadline, cx.waker().clone())
            } else if wheel.fired(key) {
                wheel.remove(key);
                DONE
            } else {
                wheel.set_waker(key, cx.waker());
                key
            }
        });
        self.key = key.expect("floor sleeps are polled inside the floor's block_on");
        if self.key == DONE {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if self.key < DONE {
            with_current(|inner| inner.timers.borrow_mut().remove(self.key));
        }
    }
}

//! The floor's timers: the least a runtime must keep to sleep until deadlines with O(1) insert
//! and cancel, and to find the earliest deadline to the nanosecond.
//!
//! A hierarchical timing wheel (Varghese & Lauck, SOSP 1987; the shape of tokio's and evloop's)
//! over ticks of 2^16 ns (65.5 µs): six levels of 64 slots, each level's slots 64 times wider,
//! each slot an index-linked doubly linked list of 32-byte entries (deadline, waker, two links)
//! in one slab. Insert is a push at the front of a list, cancel an unlink (the two neighbours'
//! links), and a cancelled timer's memory is reusable at once. Far timers share wide slots, so
//! timers made one after another are neighbours in memory too; they move down a level when time
//! reaches their slot (a cascade). Within a tick, deadlines are kept to the nanosecond: the loop
//! sleeps until the earliest one in the first occupied level-0 slot.

use super::*;

/// A tick is 2^16 ns.
const TICK_BITS: u32 = 16;
const LEVELS: usize = 6;
/// Slots per level, as a power of two.
const LEVEL_BITS: u32 = 6;
const LEVEL_SLOTS: u64 = 1 << LEVEL_BITS;
/// The farthest a deadline is placed from the current tick (one turn of the top level); a
/// farther one goes to that slot and is placed again when it cascades.
const MAX_TICKS: u64 = 1 << (LEVEL_BITS * LEVELS as u32);

/// The end of a list, and "no free entry".
const NIL: u32 = u32::MAX;
/// `prev` of a list's first entry: this bit plus the list's index (`level * 64 + slot`).
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
    /// The previous entry, or `HEAD | list`, `VACANT`, `FIRED`.
    prev: u32,
    /// The next entry in the list (or on the free list), or `NIL`.
    next: u32,
}

pub(super) struct Wheel {
    entries: Vec<Entry>,
    /// The first vacant entry, or `NIL`.
    free: u32,
    /// Each list's first entry, or `NIL`: `heads[level * 64 + slot]`.
    heads: [u32; LEVELS * LEVEL_SLOTS as usize],
    /// Per level, one bit per slot: its list is not empty.
    occupied: [u64; LEVELS],
    /// Every tick before this one has been processed.
    elapsed: u64,
}

/// Ticks covered by one slot of `level`.
fn slot_ticks(level: usize) -> u64 {
    1 << (LEVEL_BITS * level as u32)
}

impl Wheel {
    pub(super) fn new() -> Wheel {
        Wheel {
            entries: Vec::new(),
            free: NIL,
            heads: [NIL; LEVELS * LEVEL_SLOTS as usize],
            occupied: [0; LEVELS],
            elapsed: 0,
        }
    }

    /// Registers `waker` to be woken at `deadline`; returns the entry's key.
    fn insert(&mut self, deadline: u64, waker: Waker) -> u32 {
        let entry = Entry {
            deadline,
            waker: Some(waker),
            prev: FIRED,
            next: NIL,
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
        self.place(key);
        key
    }

    /// Links the entry into the list its deadline belongs to, seen from `elapsed`: the level of
    /// the highest 6-bit group in which the two ticks differ, the slot that group names.
    fn place(&mut self, key: u32) {
        let tick = (self.entries[key as usize].deadline >> TICK_BITS).clamp(self.elapsed, self.elapsed + MAX_TICKS - 1);
        let differing = (self.elapsed ^ tick) | (LEVEL_SLOTS - 1);
        let level = ((63 - differing.leading_zeros()) / LEVEL_BITS) as usize;
        let list = level * LEVEL_SLOTS as usize + ((tick >> (LEVEL_BITS * level as u32)) & (LEVEL_SLOTS - 1)) as usize;
        let head = self.heads[list];
        let entry = &mut self.entries[key as usize];
        entry.prev = HEAD | list as u32;
        entry.next = head;
        if head != NIL {
            self.entries[head as usize].prev = key;
        }
        self.heads[list] = key;
        self.occupied[level] |= 1 << (list % LEVEL_SLOTS as usize);
    }

    /// Takes a linked entry out of its list.
    fn unlink(&mut self, key: u32) {
        let Entry { prev, next, .. } = self.entries[key as usize];
        if prev & HEAD != 0 {
            let list = (prev & !HEAD) as usize;
            self.heads[list] = next;
            if next == NIL {
                self.occupied[list / LEVEL_SLOTS as usize] &= !(1 << (list % LEVEL_SLOTS as usize));
            }
        } else {
            self.entries[prev as usize].next = next;
        }
        if next != NIL {
            self.entries[next as usize].prev = prev;
        }
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

    /// The first occupied slot, lowest level first (a lower level's slots all come before a
    /// higher level's): `(level, list, the tick the slot starts at)`.
    fn next_expiration(&self) -> Option<(usize, usize, u64)> {
        (0..LEVELS).find_map(|level| {
            let occupied = self.occupied[level];
            if occupied == 0 {
                return None;
            }
            let width = slot_ticks(level);
            let now_slot = (self.elapsed / width) % LEVEL_SLOTS;
            let slot = (occupied.rotate_right(now_slot as u32).trailing_zeros() as u64 + now_slot) % LEVEL_SLOTS;
            let level_start = self.elapsed & !(width * LEVEL_SLOTS - 1);
            let mut start = level_start + slot * width;
            if start + width <= self.elapsed {
                start += width * LEVEL_SLOTS; // a top-level slot one turn ahead
            }
            Some((
                level,
                level * LEVEL_SLOTS as usize + slot as usize,
                start.max(self.elapsed),
            ))
        })
    }

    /// Wakes every entry due at `now`, moving far entries down as time reaches their slots.
    /// (The floor's wakers only queue their task, so waking while the wheel is borrowed is safe
    /// here; a runtime collects them first.)
    pub(super) fn fire_due(&mut self, now: u64) {
        let now_tick = now >> TICK_BITS;
        while let Some((level, list, start)) = self.next_expiration().filter(|&(_, _, start)| start <= now_tick) {
            self.elapsed = start;
            let mut key = self.heads[list];
            if level > 0 {
                self.heads[list] = NIL;
                self.occupied[level] &= !(1 << (list % LEVEL_SLOTS as usize));
            }
            while key != NIL {
                let next = self.entries[key as usize].next;
                if level > 0 {
                    self.place(key);
                } else if self.entries[key as usize].deadline <= now {
                    let waker = self.entries[key as usize].waker.take();
                    self.unlink(key);
                    self.entries[key as usize].prev = FIRED;
                    if let Some(waker) = waker {
                        waker.wake();
                    }
                }
                key = next;
            }
            if level == 0 {
                if start == now_tick {
                    break; // what is left of this tick is due later within it
                }
                self.elapsed = start + 1;
            }
        }
        self.elapsed = self.elapsed.max(now_tick);
    }

    /// The earliest deadline, or the start of the slot to cascade first; `None`: no timer.
    pub(super) fn next_deadline(&self) -> Option<u64> {
        let (level, list, start) = self.next_expiration()?;
        if level > 0 {
            return Some(start << TICK_BITS);
        }
        let mut key = self.heads[list];
        let mut earliest = u64::MAX;
        while key != NIL {
            let entry = &self.entries[key as usize];
            earliest = earliest.min(entry.deadline);
            key = entry.next;
        }
        Some(earliest)
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

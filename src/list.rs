//! An index-linked FIFO list: the one linked list of evloop, used by the timer wheel's slots
//! and by the wait queues of the sync primitives.
//!
//! # What to know first
//!
//! Both users need the same three operations, all O(1): append at the back, take from the
//! front (first come, first served), and take out *from anywhere* (a timer cancelled, a waiting
//! future dropped: in Rust, cancellation is `Drop`). A `VecDeque` does the first two in O(1) but
//! the third in O(n).
//!
//! A doubly linked list does all three. tokio links *pointers* to nodes embedded in pinned
//! futures (an intrusive list), which costs `unsafe`. Here the nodes live in a slab owned by the
//! user, and the links are slab *indices*:
//!
//! ```text
//!   List { head: 4, tail: 1 }          order: 4, then 6, then 1
//!
//!   slab index      1                 4                 6
//!   its Link        prev 6, next -    prev -, next 6    prev 4, next 1
//! ```
//!
//! A [`List`] owns nothing but the indices of its two ends. The [`Link`] of each entry lives in
//! the entry itself, and the list reaches it through the [`Links`] trait, which the owner of the
//! slab implements. So linking allocates nothing, one slab can hold entries of many lists (the
//! wheel has 386), and the list code knows nothing of what the entries are.
//!
//! # Invariant
//! An index is in at most one list at a time, and only the list that holds it may be asked to
//! unlink it: each user records which list that is (the wheel in the entry's place, a wait
//! queue by the entry being queued at all).

/// The two links that let an entry sit in one list. They live in the entry, not in the list,
/// so that linking allocates nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Link {
    /// The entry before this one, so that unlinking from the middle is O(1). None at the head.
    prev: Neighbour,
    /// The entry after this one, so that the list can be walked in FIFO order. None at the tail.
    next: Neighbour,
}

impl Link {
    /// The entry after this one, for a read-only walk from a list's [`front`](List::front)
    /// (the timer wheel reads a short slot to find its earliest deadline).
    pub(crate) fn next(&self) -> Option<u32> {
        self.next.get()
    }
}

/// An optional slab index in four bytes: `u32::MAX` stands for "none". (An `Option<u32>` takes
/// eight, and every pending timer and every waiter carries two of these.) No slab here holds
/// `u32::MAX` entries, so the value never names a real index.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Neighbour(u32);

impl Neighbour {
    const NONE: Neighbour = Neighbour(u32::MAX);

    fn from(index: Option<u32>) -> Neighbour {
        match index {
            Some(index) => {
                debug_assert_ne!(index, u32::MAX, "u32::MAX is the list's 'none'");
                Neighbour(index)
            }
            None => Neighbour::NONE,
        }
    }

    fn get(self) -> Option<u32> {
        (self != Neighbour::NONE).then_some(self.0)
    }
}

impl Default for Neighbour {
    fn default() -> Neighbour {
        Neighbour::NONE
    }
}

impl std::fmt::Debug for Neighbour {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.get(), f)
    }
}

/// Gives a list the [`Link`] of the entry at an index. The owner of the slab implements it;
/// the trait lets lists own nothing but indices.
pub(crate) trait Links {
    /// The link of the live entry at `index`.
    fn link(&mut self, index: u32) -> &mut Link;
}

/// An intrusive FIFO list of entries, known by the indices of its two ends.
///
/// # Invariant
/// See the module docs: an index is in at most one list, and only that list unlinks it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct List {
    /// The oldest entry, taken first: this is what makes a slot fire in insertion order.
    head: Option<u32>,
    /// The newest entry, so that appending is O(1).
    tail: Option<u32>,
}

impl List {
    /// A list with no entries.
    pub(crate) const EMPTY: List = List { head: None, tail: None };

    /// Whether the list holds no entries.
    pub(crate) fn is_empty(&self) -> bool {
        self.head.is_none()
    }

    /// The oldest entry, if any, without taking it.
    pub(crate) fn front(&self) -> Option<u32> {
        self.head
    }

    /// Appends `index`, which must not be in any list, at the tail.
    pub(crate) fn push_back(&mut self, index: u32, links: &mut impl Links) {
        *links.link(index) = Link {
            prev: Neighbour::from(self.tail),
            next: Neighbour::NONE,
        };
        match self.tail {
            Some(tail) => links.link(tail).next = Neighbour::from(Some(index)),
            None => self.head = Some(index),
        }
        self.tail = Some(index);
    }

    /// Takes `index`, which must be in this list, out of it, wherever it is.
    pub(crate) fn unlink(&mut self, index: u32, links: &mut impl Links) {
        let Link { prev, next } = std::mem::take(links.link(index));
        match prev.get() {
            Some(before) => links.link(before).next = next,
            None => self.head = next.get(),
        }
        match next.get() {
            Some(after) => links.link(after).prev = prev,
            None => self.tail = prev.get(),
        }
    }

    /// Takes the oldest entry out of the list.
    pub(crate) fn pop_front(&mut self, links: &mut impl Links) -> Option<u32> {
        let head = self.head?;
        self.unlink(head, links);
        Some(head)
    }

    /// How far from the head `index` is (0 for the head), walking the list: O(n), for the task
    /// dump's "place in line", never on a hot path. `None` if it is not in this list.
    pub(crate) fn position(&self, index: u32, links: &mut impl Links) -> Option<usize> {
        let mut cursor = self.head;
        let mut position = 0;
        while let Some(at) = cursor {
            if at == index {
                return Some(position);
            }
            position += 1;
            cursor = links.link(at).next.get();
        }
        None
    }

    /// The indices from head to tail, checking that the `prev` links mirror the `next` links.
    #[cfg(test)]
    pub(crate) fn indices(&self, links: &mut impl Links) -> Vec<u32> {
        let mut indices = Vec::new();
        let mut cursor = self.head;
        while let Some(index) = cursor {
            assert_eq!(
                links.link(index).prev.get(),
                indices.last().copied(),
                "prev link of {index} is wrong"
            );
            indices.push(index);
            cursor = links.link(index).next.get();
        }
        assert_eq!(
            self.tail,
            indices.last().copied(),
            "tail does not point at the last entry"
        );
        indices
    }
}

/// A stand-in for a slab in tests: links by index.
#[cfg(test)]
impl Links for Vec<Link> {
    fn link(&mut self, index: u32) -> &mut Link {
        &mut self[index as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_is_fifo_and_unlinks_from_anywhere() {
        let mut links = vec![Link::default(); 5];
        let mut list = List::EMPTY;
        for index in 0..5 {
            list.push_back(index, &mut links);
        }
        assert_eq!(list.indices(&mut links), [0, 1, 2, 3, 4]);
        list.unlink(2, &mut links);
        list.unlink(0, &mut links);
        list.unlink(4, &mut links);
        assert_eq!(list.indices(&mut links), [1, 3]);
        assert_eq!(links[0], Link::default(), "an unlinked entry keeps no stale links");
        assert_eq!(list.pop_front(&mut links), Some(1));
        assert_eq!(list.pop_front(&mut links), Some(3));
        assert_eq!(list.pop_front(&mut links), None);
        assert!(list.is_empty());
    }

    #[test]
    fn front_peeks_and_an_emptied_list_takes_new_entries() {
        let mut links = vec![Link::default(); 3];
        let mut list = List::EMPTY;
        assert_eq!(list.front(), None);
        list.push_back(2, &mut links);
        list.push_back(0, &mut links);
        assert_eq!(list.front(), Some(2));
        list.unlink(2, &mut links);
        list.unlink(0, &mut links);
        assert!(list.is_empty());
        list.push_back(1, &mut links);
        list.push_back(2, &mut links);
        assert_eq!(list.indices(&mut links), [1, 2]);
    }

    #[test]
    fn a_link_takes_eight_bytes() {
        assert_eq!(std::mem::size_of::<Link>(), 8);
    }

    #[test]
    fn one_slab_holds_entries_of_several_lists() {
        let mut links = vec![Link::default(); 4];
        let (mut odd, mut even) = (List::EMPTY, List::EMPTY);
        for index in 0..4 {
            let list = if index % 2 == 0 { &mut even } else { &mut odd };
            list.push_back(index, &mut links);
        }
        odd.unlink(1, &mut links);
        assert_eq!(even.indices(&mut links), [0, 2]);
        assert_eq!(odd.indices(&mut links), [3]);
    }
}

//! The floor's semaphore: a permit count and a FIFO of waiters, each a slab entry (no
//! allocation per waiter once the slab has grown); a released permit is handed to the first
//! waiter still waiting, so a newcomer never overtakes a queued task.

use super::*;

enum Waiter {
    Waiting(Waker),
    /// Handed a permit; its `Acquire` takes it at its next poll (or gives it back if dropped).
    Granted,
    /// Its `Acquire` was dropped while waiting; `release` skips it.
    Cancelled,
    /// On the free list; the next vacant entry, or `NIL`.
    Vacant(u32),
}

const NIL: u32 = u32::MAX;

pub(super) struct Semaphore {
    permits: Cell<usize>,
    waiters: RefCell<Waiters>,
}

struct Waiters {
    fifo: VecDeque<u32>,
    slab: Vec<Waiter>,
    free: u32,
}

impl Waiters {
    fn push(&mut self, waker: Waker) -> u32 {
        let key = if self.free == NIL {
            self.slab.push(Waiter::Waiting(waker));
            u32::try_from(self.slab.len() - 1).expect("fewer than 2^32 waiters")
        } else {
            let key = self.free;
            let Waiter::Vacant(next) = std::mem::replace(&mut self.slab[key as usize], Waiter::Waiting(waker)) else {
                unreachable!("the free list holds vacant entries")
            };
            self.free = next;
            key
        };
        self.fifo.push_back(key);
        key
    }

    fn free(&mut self, key: u32) {
        self.slab[key as usize] = Waiter::Vacant(self.free);
        self.free = key;
    }
}

pub(super) fn new_semaphore(permits: usize) -> Rc<Semaphore> {
    Rc::new(Semaphore {
        permits: Cell::new(permits),
        waiters: RefCell::new(Waiters {
            fifo: VecDeque::new(),
            slab: Vec::new(),
            free: NIL,
        }),
    })
}

impl Semaphore {
    /// Hands the permit to the first waiter still waiting, else puts it back.
    fn release(&self) {
        let mut waiters = self.waiters.borrow_mut();
        while let Some(key) = waiters.fifo.pop_front() {
            match std::mem::replace(&mut waiters.slab[key as usize], Waiter::Granted) {
                Waiter::Waiting(waker) => {
                    drop(waiters);
                    waker.wake();
                    return;
                }
                Waiter::Cancelled => waiters.free(key),
                Waiter::Granted | Waiter::Vacant(_) => unreachable!("only waiting or cancelled entries are queued"),
            }
        }
        self.permits.set(self.permits.get() + 1);
    }
}

pub(super) async fn acquire(semaphore: &Semaphore) -> Permit<'_> {
    Acquire { semaphore, key: None }.await
}

/// Holds one permit; dropping it releases the permit.
pub(super) struct Permit<'a> {
    semaphore: &'a Semaphore,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.semaphore.release();
    }
}

/// # Cancel safety
/// Dropping it while queued marks its entry cancelled; dropping it after it was granted a
/// permit (but before seeing it) releases that permit to the next waiter.
#[must_use = "an acquire does nothing unless awaited"]
struct Acquire<'a> {
    semaphore: &'a Semaphore,
    /// Its waiter entry, once queued.
    key: Option<u32>,
}

impl<'a> Future for Acquire<'a> {
    type Output = Permit<'a>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Permit<'a>> {
        let semaphore = self.semaphore;
        let mut waiters = semaphore.waiters.borrow_mut();
        match self.key {
            None if semaphore.permits.get() > 0 => {
                semaphore.permits.set(semaphore.permits.get() - 1);
                Poll::Ready(Permit { semaphore })
            }
            None => {
                self.key = Some(waiters.push(cx.waker().clone()));
                Poll::Pending
            }
            Some(key) => match &mut waiters.slab[key as usize] {
                Waiter::Granted => {
                    waiters.free(key);
                    self.key = None;
                    Poll::Ready(Permit { semaphore })
                }
                Waiter::Waiting(waker) => {
                    if !waker.will_wake(cx.waker()) {
                        *waker = cx.waker().clone();
                    }
                    Poll::Pending
                }
                Waiter::Cancelled | Waiter::Vacant(_) => unreachable!("a live acquire's entry is its own"),
            },
        }
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        let Some(key) = self.key else { return };
        let mut waiters = self.semaphore.waiters.borrow_mut();
        if let Waiter::Granted = waiters.slab[key as usize] {
            waiters.free(key);
            drop(waiters);
            self.semaphore.release();
        } else {
            waiters.slab[key as usize] = Waiter::Cancelled;
        }
    }
}

//! The connection pool: keep-alive reuse, and aiohttp's `TCPConnector(limit, limit_per_host)`.
//!
//! Why it exists: opening a TCP connection costs a round trip, and an unbounded crawler
//! overwhelms both its own sockets and the servers it visits. Read first: `sync/semaphore.rs`
//! (FIFO-fair permits, given back on drop) and `conn.rs` (when a connection may be reused).
//!
//! Two limits bound how many requests are in flight: a global one (aiohttp's default 100) and
//! one per origin (0: none). Each is a FIFO-fair [`Semaphore`], so requests waiting for a slot
//! are served in arrival order, and a waiting request counts toward its total deadline (the
//! caller arms the request's deadline timer before it). A request takes its per-origin slot
//! first, then its global slot (always in that order, so two requests can never hold one each
//! and wait for the other), and holds both until its response body has been read to the end
//! or dropped.
//!
//! Idle connections are kept per origin, most recently used first, for `idle_timeout`. A
//! connection is only put back after a response that was fully read, cleanly framed, allowed
//! keep-alive and left no extra bytes behind; before reuse it is vetted again (see
//! `Conn::is_reusable_after_idle`), so one the server closed while it sat idle is discarded.
//! Each check-in also closes every idle connection past its `idle_timeout`, so sockets to
//! hosts a crawler has moved on from do not stay open.
//!
//! Both tables are plain vectors searched in order: a client talks to a handful of origins at
//! a time, for which a scan beats hashing (and keeps a hash table and SipHash out of small
//! binaries). They hold only origins in use: an empty idle list is dropped at the next check-in
//! to another origin, and a per-origin semaphore once no request holds or waits for it.

use std::cell::RefCell;
use std::time::Duration;

use crate::http::conn::{Conn, Origin};
use crate::sync::{Permit, Semaphore};

/// What a request holds while in flight: its share of the two limits.
#[derive(Debug)]
pub(crate) struct Slot {
    _host: Option<Permit>,
    _global: Option<Permit>,
}

/// Idle connections and the two limits.
pub(crate) struct Pool {
    /// Idle connections by origin; the most recently used is last (reused first, so the
    /// others age out).
    /// # Invariant
    /// Each list is in check-in order, so its `idle_since`s never decrease: the expired
    /// connections are always a prefix, found without looking at the rest.
    idle: RefCell<Vec<(Origin, Vec<Conn>)>>,
    /// The global limit (`None`: unlimited).
    global: Option<Semaphore>,
    /// Per-origin limit (0: unlimited), and one semaphore per origin seen.
    per_host_limit: usize,
    per_host: RefCell<Vec<(Origin, Semaphore)>>,
    /// How long an idle connection is kept.
    idle_timeout: Duration,
    /// Most idle connections kept per origin.
    max_idle_per_host: usize,
    /// Emptied request buffers, for the next requests to write their heads into instead of
    /// allocating one each (`request_buffer`, `recycle`).
    /// # Invariant
    /// Every one is empty, at most `max_idle_per_host` are kept (one per connection an
    /// origin keeps idle), none larger than `MAX_KEPT_BUFFER`.
    spare_buffers: RefCell<Vec<Vec<u8>>>,
}

/// The largest request buffer kept for reuse: a head with a small body. A buffer that held a
/// large body is freed rather than kept around at that size.
const MAX_KEPT_BUFFER: usize = 16 * 1024;

impl Pool {
    pub(crate) fn new(limit: usize, per_host_limit: usize, idle_timeout: Duration, max_idle_per_host: usize) -> Pool {
        Pool {
            idle: RefCell::new(Vec::new()),
            global: (limit > 0).then(|| Semaphore::new(limit)),
            per_host_limit,
            per_host: RefCell::new(Vec::new()),
            idle_timeout,
            max_idle_per_host,
            spare_buffers: RefCell::new(Vec::new()),
        }
    }

    /// An empty buffer to encode a request into: one an earlier request gave back, or a new one.
    pub(crate) fn request_buffer(&self) -> Vec<u8> {
        self.spare_buffers.borrow_mut().pop().unwrap_or_default()
    }

    /// Takes back a request's buffer once the request has been sent, to be reused.
    pub(crate) fn recycle(&self, mut buffer: Vec<u8>) {
        let mut spare = self.spare_buffers.borrow_mut();
        if spare.len() < self.max_idle_per_host && buffer.capacity() <= MAX_KEPT_BUFFER {
            buffer.clear();
            spare.push(buffer);
        }
    }

    /// Waits (FIFO) for a slot under both limits.
    ///
    /// # Cancel safety
    /// Dropping the wait leaves both queues; a permit already granted is given back.
    pub(crate) async fn acquire(&self, origin: &Origin) -> Slot {
        let host_sem = (self.per_host_limit > 0).then(|| self.host_semaphore(origin));
        // The pool's semaphores are never closed, so acquiring cannot fail.
        let host = match host_sem {
            Some(sem) => Some(sem.acquire().await.expect("the pool never closes its semaphores")),
            None => None,
        };
        let global = match &self.global {
            Some(sem) => Some(sem.acquire().await.expect("the pool never closes its semaphores")),
            None => None,
        };
        Slot {
            _host: host,
            _global: global,
        }
    }

    /// The per-origin semaphore for `origin`, made on first use. Semaphores of other origins
    /// that nothing else refers to (no permit, no pending acquire) are dropped on the way.
    fn host_semaphore(&self, origin: &Origin) -> Semaphore {
        let mut per_host = self.per_host.borrow_mut();
        if let Some((_, sem)) = per_host.iter().find(|(o, _)| o == origin) {
            return sem.clone();
        }
        per_host.retain(|(_, sem)| sem.is_shared());
        let sem = Semaphore::new(self.per_host_limit);
        per_host.push((origin.clone(), sem.clone()));
        sem
    }

    /// An idle connection to `origin` that is still usable, if there is one. Expired and
    /// closed ones met on the way are dropped.
    pub(crate) fn checkout(&self, origin: &Origin) -> Option<Conn> {
        let mut idle = self.idle.borrow_mut();
        let at = idle.iter().position(|(o, _)| o == origin)?;
        let conns = &mut idle[at].1;
        let now = crate::time::now();
        // An emptied list stays (with its capacity) for the check-in that usually follows.
        while let Some(mut conn) = conns.pop() {
            // `idle_since + idle_timeout` is one add, where `duration_since` is a subtraction
            // with its borrow and checks; an idle timeout past what an `Instant` holds never ends.
            let fresh = conn
                .idle_since
                .checked_add(self.idle_timeout)
                .is_none_or(|until| now < until);
            if fresh && conn.is_reusable_after_idle() {
                return Some(conn);
            }
            log::debug!(target: "evloop::http", "discarding a stale idle connection to {}:{}", origin.host, origin.port);
        }
        None
    }

    /// Puts a connection whose last response ended cleanly back for reuse, and closes the
    /// idle connections (to any origin) that have outlived `idle_timeout`.
    pub(crate) fn checkin(&self, mut conn: Conn) {
        if self.max_idle_per_host == 0 {
            return; // keep-alive is off: the connection closes here
        }
        if !conn.mark_idle() {
            log::debug!(target: "evloop::http", "not pooling a connection the server closed or wrote more on");
            return;
        }
        let mut idle = self.idle.borrow_mut();
        let now = conn.idle_since;
        // One pass over the origins: drop the expired connections, forget the origins left
        // with none (but this one), and find this one's list on the way.
        let mut mine = None;
        let mut at = 0;
        while at < idle.len() {
            let (origin, conns) = &mut idle[at];
            // Oldest first (the invariant above): one comparison when none has expired, not
            // one per idle connection, which with a thousand of them was the check-in's cost.
            let expired = conns
                .iter()
                .take_while(|c| now.duration_since(c.idle_since) >= self.idle_timeout)
                .count();
            if expired > 0 {
                conns.drain(..expired); // (an empty drain still moves the tail: skip it)
            }
            if *origin == conn.origin {
                mine = Some(at);
            } else if conns.is_empty() {
                idle.remove(at);
                continue;
            }
            at += 1;
        }
        let conns = match mine {
            Some(at) => &mut idle[at].1,
            None => {
                idle.push((conn.origin.clone(), Vec::new()));
                &mut idle.last_mut().expect("just pushed").1
            }
        };
        if conns.len() >= self.max_idle_per_host {
            // Keep the freshest; the oldest goes.
            conns.remove(0);
        }
        conns.push(conn);
    }

    /// How many idle connections are kept, over all origins (for tests).
    pub(crate) fn idle_count(&self) -> usize {
        self.idle.borrow().iter().map(|(_, conns)| conns.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::url::Host;
    use std::net::Ipv4Addr;

    fn origin(port: u16) -> Origin {
        Origin {
            scheme: crate::http::url::Scheme::Http,
            host: Host::Ipv4(Ipv4Addr::LOCALHOST),
            port,
            #[cfg(feature = "tls")]
            via: None,
        }
    }

    #[test]
    fn request_buffers_come_back_empty_and_only_as_many_and_as_large_as_allowed() {
        let pool = Pool::new(0, 0, Duration::from_secs(15), 2);
        let mut first = pool.request_buffer();
        first.extend_from_slice(b"GET / HTTP/1.1\r\n\r\n");
        let capacity = first.capacity();
        pool.recycle(first);
        let again = pool.request_buffer();
        assert!(
            again.is_empty() && again.capacity() == capacity,
            "the same buffer, emptied"
        );
        pool.recycle(Vec::with_capacity(MAX_KEPT_BUFFER + 1));
        assert!(
            pool.spare_buffers.borrow().is_empty(),
            "a buffer that held a large body is freed"
        );
        for _ in 0..3 {
            pool.recycle(Vec::with_capacity(64));
        }
        assert_eq!(pool.spare_buffers.borrow().len(), 2, "no more than max_idle_per_host");
    }

    #[test]
    fn per_origin_semaphores_are_kept_only_while_someone_uses_them() {
        crate::run(async {
            let pool = Pool::new(0, 1, Duration::from_secs(15), 10);
            let held = pool.acquire(&origin(1)).await;
            drop(pool.acquire(&origin(2)).await);
            assert_eq!(pool.per_host.borrow().len(), 2);
            // A third origin prunes the second's (unused), not the first's (a slot is held).
            let _third = pool.acquire(&origin(3)).await;
            let ports: Vec<u16> = pool.per_host.borrow().iter().map(|(o, _)| o.port).collect();
            assert_eq!(ports, [1, 3]);
            // The limit still holds for the first origin: its semaphore is the same one.
            let first = origin(1);
            let mut waiting = std::pin::pin!(pool.acquire(&first));
            assert!(
                crate::time::timeout(Duration::from_millis(1), waiting.as_mut())
                    .await
                    .is_err()
            );
            drop(held);
            assert!(
                crate::time::timeout(Duration::from_millis(1), waiting.as_mut())
                    .await
                    .is_ok()
            );
        });
    }
}

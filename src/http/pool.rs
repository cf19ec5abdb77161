//! The connection pool: keep-alive reuse, and aiohttp's `TCPConnector(limit, limit_per_host)`.
//!
//! Two limits bound how many requests are in flight: a global one (aiohttp's default 100) and
//! one per origin (0: none). Each is a FIFO-fair [`Semaphore`], so requests waiting for a slot
//! are served in arrival order, and a waiting request counts toward its total deadline (the
//! caller wraps the wait in it). A request takes its per-origin slot first, then its global
//! slot (always in that order, so two requests can never hold one each and wait for the other),
//! and holds both until its response body has been read to the end or dropped.
//!
//! Idle connections are kept per origin, most recently used first, for `idle_timeout`. A
//! connection is only put back after a response that was fully read, cleanly framed, allowed
//! keep-alive and left no extra bytes behind; before reuse it is vetted again (see
//! `Conn::is_reusable_after_idle`), so one the server closed while it sat idle is discarded.

use std::cell::RefCell;
use std::collections::HashMap;
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
    idle: RefCell<HashMap<Origin, Vec<Conn>>>,
    /// The global limit (`None`: unlimited).
    global: Option<Semaphore>,
    /// Per-origin limit (0: unlimited), and one semaphore per origin seen.
    per_host_limit: usize,
    per_host: RefCell<HashMap<Origin, Semaphore>>,
    /// How long an idle connection is kept.
    idle_timeout: Duration,
    /// Most idle connections kept per origin.
    max_idle_per_host: usize,
}

impl Pool {
    pub(crate) fn new(limit: usize, per_host_limit: usize, idle_timeout: Duration, max_idle_per_host: usize) -> Pool {
        Pool {
            idle: RefCell::new(HashMap::new()),
            global: (limit > 0).then(|| Semaphore::new(limit)),
            per_host_limit,
            per_host: RefCell::new(HashMap::new()),
            idle_timeout,
            max_idle_per_host,
        }
    }

    /// Waits (FIFO) for a slot under both limits.
    ///
    /// # Cancel safety
    /// Dropping the wait leaves both queues; a permit already granted is given back.
    pub(crate) async fn acquire(&self, origin: &Origin) -> Slot {
        let host_sem = (self.per_host_limit > 0).then(|| {
            self.per_host
                .borrow_mut()
                .entry(origin.clone())
                .or_insert_with(|| Semaphore::new(self.per_host_limit))
                .clone()
        });
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

    /// An idle connection to `origin` that is still usable, if there is one. Expired and
    /// closed ones met on the way are dropped.
    pub(crate) fn checkout(&self, origin: &Origin) -> Option<Conn> {
        let mut idle = self.idle.borrow_mut();
        let conns = idle.get_mut(origin)?;
        let now = crate::time::now();
        while let Some(conn) = conns.pop() {
            if now.duration_since(conn.idle_since) < self.idle_timeout && conn.is_reusable_after_idle() {
                return Some(conn);
            }
            log::debug!(target: "evloop::http", "discarding a stale idle connection to {}:{}", origin.host, origin.port);
        }
        None
    }

    /// Puts a connection whose last response ended cleanly back for reuse.
    pub(crate) fn checkin(&self, mut conn: Conn) {
        if self.max_idle_per_host == 0 {
            return; // keep-alive is off: the connection closes here
        }
        if !conn.mark_idle() {
            log::debug!(target: "evloop::http", "not pooling a connection the server closed or wrote more on");
            return;
        }
        let mut idle = self.idle.borrow_mut();
        let conns = idle.entry(conn.origin.clone()).or_default();
        if conns.len() >= self.max_idle_per_host {
            // Keep the freshest; the oldest goes.
            conns.remove(0);
        }
        conns.push(conn);
    }

    /// How many idle connections are kept, over all origins (for tests).
    pub(crate) fn idle_count(&self) -> usize {
        self.idle.borrow().values().map(Vec::len).sum()
    }
}

//! `CancellationToken`: cooperative, graceful cancellation, next to the hard
//! [`JoinHandle::cancel`](crate::JoinHandle::cancel).
//!
//! A hard cancel drops a task's future where it is parked: cleanup can only happen in
//! destructors, which cannot `.await`. A token instead *asks*: the task watches
//! [`CancellationToken::cancelled`] (typically in a [`select`](crate::select) with its work),
//! and when it fires, the task runs whatever async cleanup it needs (flush a buffer, say goodbye
//! to a server) and returns normally. Child tokens form a tree: cancelling a token cancels all
//! its descendants, never its parent.
//!
//! asyncio has no token type; the same pattern there is an `asyncio.Event` passed to workers.
//! This one is built on [`Event`], plus the tree.

use std::cell::RefCell;
use std::fmt;
use std::rc::{Rc, Weak};

use crate::sync::{Event, EventWait};

struct Node {
    /// Set once, when the token is cancelled; wakes everyone waiting in `cancelled()`.
    event: Event,
    /// Tokens made by `child_token`, cancelled with this one. Weak, so a dropped child does
    /// not stay alive in its parent; dead entries are pruned as new children are added.
    children: RefCell<Vec<Weak<Node>>>,
}

/// A shareable "please stop" flag with a future to wait for it. Clones share one flag.
///
/// # Examples
///
/// A worker finishes the job in hand when asked to stop, and returns normally (in asyncio,
/// an `Event` passed to the worker):
///
/// ```
/// use std::time::Duration;
/// use evloop::sync::CancellationToken;
/// use evloop::{Either, select};
///
/// let runtime = evloop::Builder::new().virtual_clock().build().expect("a poller");
/// let jobs_done = runtime.block_on(async {
///     let token = CancellationToken::new();
///     let worker = evloop::spawn({
///         let token = token.clone();
///         async move {
///             let mut jobs = 0;
///             loop {
///                 let job = evloop::time::sleep(Duration::from_millis(10));
///                 match select(token.cancelled(), job).await {
///                     Either::Left(()) => return jobs, // async cleanup would go here
///                     Either::Right(()) => jobs += 1,
///                 }
///             }
///         }
///     });
///     evloop::time::sleep(Duration::from_millis(35)).await;
///     token.cancel();
///     worker.await.expect("it returned: nothing was hard-cancelled")
/// });
/// assert_eq!(jobs_done, 3);
/// ```
#[derive(Clone)]
pub struct CancellationToken {
    node: Rc<Node>,
}

impl Default for CancellationToken {
    fn default() -> Self {
        CancellationToken::new()
    }
}

impl CancellationToken {
    /// A token that is not cancelled.
    pub fn new() -> CancellationToken {
        CancellationToken {
            node: Rc::new(Node {
                event: Event::new(),
                children: RefCell::new(Vec::new()),
            }),
        }
    }

    /// A token cancelled whenever this one is (now, if this one already is). Cancelling the
    /// child does not affect this token.
    ///
    /// # Examples
    ///
    /// Cancellation flows down the tree, never up:
    ///
    /// ```
    /// use evloop::sync::CancellationToken;
    ///
    /// evloop::run(async {
    ///     let server = CancellationToken::new();
    ///     let (first, second) = (server.child_token(), server.child_token());
    ///     first.cancel(); // one connection stops
    ///     assert!(!server.is_cancelled() && !second.is_cancelled());
    ///     server.cancel(); // the whole server stops
    ///     second.cancelled().await; // completes at once
    ///     assert!(second.is_cancelled());
    /// });
    /// ```
    pub fn child_token(&self) -> CancellationToken {
        let child = CancellationToken::new();
        if self.is_cancelled() {
            child.cancel();
        } else {
            let mut children = self.node.children.borrow_mut();
            children.retain(|c| c.strong_count() > 0);
            children.push(Rc::downgrade(&child.node));
        }
        child
    }

    /// Cancels this token and all its descendants, waking every task waiting on any of them.
    /// Cancelling twice does nothing more.
    pub fn cancel(&self) {
        let mut pending = vec![self.node.clone()];
        while let Some(node) = pending.pop() {
            if node.event.is_set() {
                continue;
            }
            node.event.set();
            let children = std::mem::take(&mut *node.children.borrow_mut());
            pending.extend(children.iter().filter_map(Weak::upgrade));
        }
    }

    /// Whether cancellation was requested.
    pub fn is_cancelled(&self) -> bool {
        self.node.event.is_set()
    }

    /// Completes once the token is cancelled (at once if it already is).
    ///
    /// # Cancel safety
    /// Cancel-safe: dropping it only stops waiting.
    pub fn cancelled(&self) -> EventWait<'_> {
        self.node.event.wait()
    }
}

impl fmt::Debug for CancellationToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancellationToken")
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}

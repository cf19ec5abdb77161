//! `Remote`: a loop reached from any thread (asyncio's `loop.call_soon_threadsafe`).

use std::sync::Arc;

use crate::runtime::dump::TaskDump;
use crate::scheduler::{Inbox, Message};

/// A handle for reaching a loop from any thread (`Send + Sync`), made by
/// [`Runtime::remote`](crate::Runtime::remote).
#[derive(Clone)]
pub struct Remote {
    /// The loop's inbox: the one part of a loop other threads may touch.
    inbox: Arc<Inbox>,
}

impl Remote {
    pub(crate) fn new(inbox: Arc<Inbox>) -> Remote {
        Remote { inbox }
    }

    /// Schedules `f` to run on the loop's thread at its next turn (asyncio's
    /// `loop.call_soon_threadsafe`). Wakes the loop if it is asleep. Does nothing once the
    /// runtime has been dropped.
    pub fn call_soon_threadsafe(&self, f: impl FnOnce() + Send + 'static) {
        self.inbox.send(Message::Call(Box::new(f)));
    }

    /// A dump of every live task of the loop (see [`TaskDump`]), taken on the loop's thread:
    /// the request goes through the loop's inbox, and this call blocks until the loop answers
    /// at its next look outward. `None` if the runtime is dropped before it answers. If the
    /// loop is never turned again (no `block_on` running), this waits forever: use
    /// [`dump_timeout`](Self::dump_timeout) when that can happen.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = evloop::Runtime::new()?;
    /// let remote = runtime.remote();
    /// let dump = runtime.block_on(async move {
    ///     let _idle = evloop::spawn_named("idle", std::future::pending::<()>());
    ///     let asker = std::thread::spawn(move || remote.dump());
    ///     evloop::spawn_blocking(move || asker.join().unwrap()).await.unwrap()
    /// });
    /// let dump = dump.expect("the loop answered");
    /// assert!(dump.tasks.iter().any(|task| task.name.as_deref() == Some("idle")));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # Panics
    /// On the thread of a running evloop loop, which it would block (and its own loop could
    /// never answer): call [`all_tasks`](crate::all_tasks) there instead.
    #[doc(alias = "all_tasks")]
    pub fn dump(&self) -> Option<TaskDump> {
        crate::runtime::dump::request(&self.inbox, None)
    }

    /// [`dump`](Self::dump), waiting at most `timeout` for the answer: `None` if the loop did
    /// not answer by then (or is gone).
    ///
    /// # Panics
    /// As [`dump`](Self::dump).
    pub fn dump_timeout(&self, timeout: std::time::Duration) -> Option<TaskDump> {
        crate::runtime::dump::request(&self.inbox, Some(timeout))
    }
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Remote").finish_non_exhaustive()
    }
}

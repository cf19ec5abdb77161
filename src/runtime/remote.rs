//! `Remote`: a loop reached from any thread (asyncio's `loop.call_soon_threadsafe`).

use std::sync::Arc;

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
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Remote").finish_non_exhaustive()
    }
}

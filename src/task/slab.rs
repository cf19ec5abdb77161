//! Where live tasks are kept: a slab indexed by [`TaskId`], with generations.
//!
//! A `TaskId` is a slab index plus a generation number. The index makes lookup a bounds check
//! and an array access; the generation makes a stale id harmless: when a task finishes its
//! slot is reused by a later task, which gets a new generation, so an old id (held by a waker
//! from another thread, say) no longer matches and [`TaskSlab::get`] returns `None`.
//!
//! This module is storage and nothing else: no scheduling policy lives here.

use slab::Slab;

use crate::task::TaskId;
use crate::task::raw::RawTask;

/// The live tasks of one loop.
pub(crate) struct TaskSlab {
    /// Each entry owns one counted reference to its task, released by `remove`.
    tasks: Slab<RawTask>,
    /// The generation given to the next task. Starts at 1 so that generation 0 never names a
    /// live task. After 2^32 spawns it wraps; a stale id would then have to survive four
    /// billion spawns *and* land on the same slot to be mistaken, which we accept.
    next_generation: u32,
}

impl TaskSlab {
    pub(crate) fn new() -> TaskSlab {
        TaskSlab {
            tasks: Slab::new(),
            next_generation: 1,
        }
    }

    /// The id the next inserted task will get; `insert` must follow with a task carrying it.
    pub(crate) fn next_id(&self) -> TaskId {
        let index =
            u32::try_from(self.tasks.vacant_key()).expect("more than 2^32 live tasks: the id space is exhausted");
        TaskId::new(index, self.next_generation)
    }

    /// Stores a task created with the id from `next_id`.
    pub(crate) fn insert(&mut self, task: RawTask) {
        let id = task.header().id;
        debug_assert_eq!(
            id,
            self.next_id(),
            "a task must be inserted with the id next_id gave it"
        );
        self.tasks.insert(task);
        self.next_generation = self.next_generation.wrapping_add(1).max(1);
    }

    /// The task with this id, if it is still alive (same slot *and* same generation).
    pub(crate) fn get(&self, id: TaskId) -> Option<&RawTask> {
        self.tasks
            .get(id.index() as usize)
            .filter(|task| task.header().id == id)
    }

    /// Removes a task, handing back the slab's reference.
    pub(crate) fn remove(&mut self, id: TaskId) -> Option<RawTask> {
        self.get(id)?;
        Some(self.tasks.remove(id.index() as usize))
    }

    /// How many tasks are alive.
    pub(crate) fn len(&self) -> usize {
        self.tasks.len()
    }

    /// The ids of every live task, for shutdown to work through them all. (Asking for "some
    /// live task" once per task instead would rescan the emptied front of the slab each time:
    /// quadratic in the number of tasks.)
    pub(crate) fn ids(&self) -> Vec<TaskId> {
        self.tasks.iter().map(|(_, task)| task.header().id).collect()
    }
}

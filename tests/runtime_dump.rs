//! The task dump (`all_tasks`, `Runtime::dump`, `Remote::dump`): a task parked on each kind of
//! wait shows what it waits on, with its place in line, for how long, and what woke it last.
//! Every test runs on the virtual clock, so "parked for" is exact.

mod support;

use std::rc::Rc;
use std::time::Duration;

use evloop::record::{Direction, WakeCause};
use evloop::sync::{Condition, Event, Lock, Queue, Semaphore};
use evloop::time::{now, sleep};
use evloop::{TaskDump, TaskInfo, TaskState, WaitsOn, all_tasks, call_soon, spawn, spawn_named, yield_now};
use support::virtual_runtime;

/// The dump's entry for a task that must be alive.
fn info(dump: &TaskDump, id: evloop::TaskId) -> TaskInfo {
    dump.task(id)
        .cloned()
        .unwrap_or_else(|| panic!("{id} is not in the dump:\n{dump}"))
}

/// What a task waits on, asserting it is parked.
fn parked_on(dump: &TaskDump, id: evloop::TaskId) -> WaitsOn {
    let task = info(dump, id);
    assert_eq!(task.state, TaskState::Parked, "{id} should be parked:\n{dump}");
    task.waits_on.expect("a parked task says what it waits on")
}

#[test]
fn a_sleeping_task_shows_its_timer_deadline_and_how_long_it_has_been_parked() {
    let rt = virtual_runtime();
    rt.block_on(async {
        let start = now();
        let sleeper = spawn_named("sleeper", sleep(Duration::from_secs(5)));
        yield_now().await; // the sleeper's first poll: it parks at time 0
        sleep(Duration::from_millis(1500)).await;
        let dump = all_tasks();
        let task = info(&dump, sleeper.id());
        assert_eq!(task.name.as_deref(), Some("sleeper"));
        assert_eq!(task.state, TaskState::Parked);
        assert_eq!(
            task.waits_on,
            Some(WaitsOn::Timer {
                deadline: start + Duration::from_secs(5)
            })
        );
        assert_eq!(task.parked_for, Some(Duration::from_millis(1500)));
        assert_eq!(
            task.last_wake,
            WakeCause::Spawn,
            "it has not been woken since its spawn"
        );
        assert_eq!(task.polls, 1);
        assert_eq!(task.time_polled, Duration::ZERO, "no logger: polls are not timed");
        sleeper.cancel();
    });
}

#[test]
fn semaphore_waiters_show_their_place_in_line_and_the_permits_they_asked_for() {
    let rt = virtual_runtime();
    rt.block_on(async {
        let semaphore = Semaphore::new(1);
        let _held = semaphore.try_acquire().unwrap();
        let first = spawn({
            let s = semaphore.clone();
            async move { drop(s.acquire().await) }
        });
        let second = spawn({
            let s = semaphore.clone();
            async move { drop(s.acquire_many(2).await) }
        });
        yield_now().await;
        let dump = all_tasks();
        assert_eq!(
            parked_on(&dump, first.id()),
            WaitsOn::Semaphore {
                place_in_line: 1,
                permits: 1
            }
        );
        assert_eq!(
            parked_on(&dump, second.id()),
            WaitsOn::Semaphore {
                place_in_line: 2,
                permits: 2
            }
        );
        // The first waiter is served; the second, never polled since, moves up the line.
        drop(_held);
        first.await.unwrap();
        assert_eq!(
            parked_on(&all_tasks(), second.id()),
            WaitsOn::Semaphore {
                place_in_line: 1,
                permits: 2
            }
        );
        second.cancel();
    });
}

#[test]
fn lock_queue_event_and_condition_waiters_each_say_what_they_wait_for() {
    let rt = virtual_runtime();
    rt.block_on(async {
        let lock = Rc::new(Lock::new(0));
        let full = Rc::new(Queue::new(1));
        full.try_put(0).unwrap();
        let empty = Rc::new(Queue::<u32>::new(4));
        let event = Rc::new(Event::new());
        let condition = Rc::new(Condition::new());
        let cond_lock = Rc::new(Lock::new(()));

        let guard = lock.try_lock().unwrap();
        let locker = spawn({
            let lock = lock.clone();
            async move { drop(lock.lock().await) }
        });
        let putter = spawn({
            let full = full.clone();
            async move { drop(full.put(1).await) } // the close below fails it
        });
        let getters: Vec<_> = (0..2)
            .map(|_| {
                let empty = empty.clone();
                spawn(async move { drop(empty.get().await) })
            })
            .collect();
        let waiter = spawn({
            let event = event.clone();
            async move { event.wait().await }
        });
        let notified = spawn({
            let (condition, cond_lock) = (condition.clone(), cond_lock.clone());
            async move { drop(condition.wait(cond_lock.lock().await).await) }
        });
        yield_now().await;
        yield_now().await; // the condition waiter took the lock, then parked on the condition

        let dump = all_tasks();
        assert_eq!(parked_on(&dump, locker.id()), WaitsOn::Lock { place_in_line: 1 });
        assert_eq!(parked_on(&dump, putter.id()), WaitsOn::QueuePut { place_in_line: 1 });
        assert_eq!(
            parked_on(&dump, getters[0].id()),
            WaitsOn::QueueGet { place_in_line: 1 }
        );
        assert_eq!(
            parked_on(&dump, getters[1].id()),
            WaitsOn::QueueGet { place_in_line: 2 }
        );
        assert_eq!(parked_on(&dump, waiter.id()), WaitsOn::Event);
        assert_eq!(parked_on(&dump, notified.id()), WaitsOn::Condition { place_in_line: 1 });

        drop(guard);
        event.set();
        full.close();
        empty.close();
        condition.notify_all();
        for task in [locker, putter, waiter, notified].into_iter().chain(getters) {
            task.await.unwrap();
        }
    });
}

#[test]
fn a_task_awaiting_another_names_it_and_a_silent_future_shows_as_unknown() {
    let rt = virtual_runtime();
    rt.block_on(async {
        let silent = spawn(std::future::pending::<()>());
        let joiner = spawn({
            let target = spawn(sleep(Duration::from_secs(1)));
            async move { target.await.unwrap() }
        });
        yield_now().await;
        let dump = all_tasks();
        assert_eq!(parked_on(&dump, silent.id()), WaitsOn::Unknown);
        let WaitsOn::Task { task } = parked_on(&dump, joiner.id()) else {
            panic!("the joiner waits on a task:\n{dump}");
        };
        assert!(matches!(parked_on(&dump, task), WaitsOn::Timer { .. }));
        joiner.await.unwrap();
        silent.cancel();
    });
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri's socketpair is not a socket: writes, addresses and options on it fail with ENOTSOCK"
)]
fn a_reader_shows_its_descriptor_and_direction_and_then_an_io_wake() {
    let rt = virtual_runtime();
    rt.block_on(async {
        let (a, b) = evloop::net::UnixStream::pair().unwrap();
        let fd = std::os::fd::AsRawFd::as_raw_fd(&b);
        let reader = spawn(async move {
            let mut buf = [0; 8];
            let n = b.read(&mut buf).await.unwrap();
            // Parked again, now that it was woken by I/O: what woke it is the read half.
            let me = evloop::current_id().unwrap();
            let last = all_tasks().task(me).unwrap().last_wake;
            assert!(matches!(
                last,
                WakeCause::Io {
                    direction: Direction::Read,
                    ..
                }
            ));
            n
        });
        yield_now().await;
        let dump = all_tasks();
        let WaitsOn::Io {
            fd: parked_fd,
            direction,
            ..
        } = parked_on(&dump, reader.id())
        else {
            panic!("the reader waits on I/O:\n{dump}");
        };
        assert_eq!((parked_fd, direction), (fd, Direction::Read));
        a.write_all(b"hi").await.unwrap();
        assert_eq!(reader.await.unwrap(), 2);
    });
}

#[test]
fn the_dump_shows_the_running_task_the_ready_ones_and_the_last_wake_cause() {
    let rt = virtual_runtime();
    rt.block_on(async {
        let ready = spawn(async {});
        let woken = spawn(std::future::pending::<()>());
        let (me, dump) = spawn(async { (evloop::current_id().unwrap(), all_tasks()) })
            .await
            .unwrap();
        assert_eq!(info(&dump, me).state, TaskState::Running, "the caller is being polled");
        // `ready` and `woken` ran in the turn before; `woken` parked.
        assert_eq!(info(&dump, woken.id()).state, TaskState::Parked);
        assert!(dump.task(ready.id()).is_none(), "a finished task leaves the dump");

        let sleeper = spawn(async { sleep(Duration::from_millis(10)).await });
        // This sleep registers before the sleeper's (which parks in the next turn), so at 10 ms
        // this future is woken first and sees the sleeper woken but not yet polled.
        sleep(Duration::from_millis(10)).await;
        let dump = all_tasks();
        let sleeper_info = info(&dump, sleeper.id());
        assert_eq!(sleeper_info.state, TaskState::Ready, "woken, not yet polled");
        assert_eq!(sleeper_info.last_wake, WakeCause::Timer);
        assert_eq!(sleeper_info.waits_on, None, "a ready task waits on nothing");
        woken.cancel();
        assert_eq!(info(&all_tasks(), woken.id()).state, TaskState::Cancelling);
    });
}

#[test]
fn a_task_woken_by_another_names_the_waker() {
    let rt = virtual_runtime();
    rt.block_on(async {
        let event = Rc::new(Event::new());
        let waiter = spawn({
            let event = event.clone();
            async move {
                event.wait().await;
                std::future::pending::<()>().await
            }
        });
        let setter = spawn({
            let event = event.clone();
            async move { event.set() }
        });
        let setter_id = setter.id();
        setter.await.unwrap();
        yield_now().await;
        let waiter_info = info(&all_tasks(), waiter.id());
        assert_eq!(waiter_info.last_wake, WakeCause::Task(setter_id));
        assert_eq!(waiter_info.polls, 2);
        waiter.cancel();
    });
}

#[test]
fn a_callback_and_the_owner_between_block_ons_can_take_a_dump() {
    let rt = virtual_runtime();
    let parked = rt.spawn(sleep(Duration::from_secs(1)));
    rt.block_on(async {
        let (tx, rx) = evloop::sync::oneshot::channel();
        call_soon(move || {
            let _ = tx.send(all_tasks());
        });
        let dump = rx.await.unwrap();
        assert!(matches!(info(&dump, parked.id()).waits_on, Some(WaitsOn::Timer { .. })));
    });
    let dump = rt.dump();
    assert!(matches!(info(&dump, parked.id()).waits_on, Some(WaitsOn::Timer { .. })));
    let table = dump.to_string();
    assert!(table.starts_with("task"), "a header line first:\n{table}");
    assert!(table.contains("timer, due in 1s"), "{table}");
    assert!(table.contains("parked"), "{table}");
}

#[test]
fn another_thread_gets_a_dump_through_the_inbox() {
    let rt = virtual_runtime();
    let remote = rt.remote();
    let dump = rt.block_on(async move {
        let idle = spawn_named("idle", std::future::pending::<()>());
        yield_now().await;
        let asker = std::thread::spawn(move || remote.dump());
        // Keep the loop turning (and the clock still) until the answer is back.
        let dump = evloop::spawn_blocking(move || asker.join().unwrap()).await.unwrap();
        idle.cancel();
        (idle.id(), dump)
    });
    let (idle, dump) = dump;
    let dump = dump.expect("the loop answered");
    assert_eq!(info(&dump, idle).name.as_deref(), Some("idle"));
    assert_eq!(info(&dump, idle).waits_on, Some(WaitsOn::Unknown));
}

#[test]
fn a_remote_dump_of_a_dropped_runtime_is_none_and_one_that_is_never_turned_times_out() {
    let rt = virtual_runtime();
    let remote = rt.remote();
    let quiet = std::thread::spawn({
        let remote = remote.clone();
        move || remote.dump_timeout(Duration::from_millis(1))
    })
    .join()
    .unwrap();
    assert_eq!(quiet, None, "nobody turned the loop");
    drop(rt);
    let gone = std::thread::spawn(move || remote.dump()).join().unwrap();
    assert_eq!(gone, None, "the loop is gone: the request was dropped, and said so");
}

#[test]
#[should_panic(expected = "call evloop::all_tasks() there instead")]
fn a_remote_dump_on_the_loops_own_thread_is_refused() {
    let rt = virtual_runtime();
    let remote = rt.remote();
    rt.block_on(async move {
        let _ = remote.dump();
    });
}

#[test]
fn stats_count_turns_polls_wakes_by_cause_and_timers_fired() {
    let rt = virtual_runtime();
    let before = rt.stats();
    rt.block_on(async {
        let sleeper = spawn(sleep(Duration::from_millis(5)));
        sleeper.await.unwrap();
    });
    let after = rt.stats();
    assert_eq!(after.polls - before.polls, 2, "the sleeper's two steps");
    assert_eq!(after.timers_fired - before.timers_fired, 1);
    assert_eq!(after.wakes.spawn - before.wakes.spawn, 1);
    assert_eq!(after.wakes.timer - before.wakes.timer, 1);
    assert_eq!(
        after.wakes.total() - before.wakes.total(),
        2,
        "main's wakes are not a task's"
    );
    assert!(after.turns > before.turns);
    assert_eq!(after.tasks, 0);
}

/// A logger that takes warnings and shows none: what makes the loop time its polls for
/// slow-poll warnings. (The other tests here run on the virtual clock, where no poll is timed.)
struct QuietWarnings;

impl log::Log for QuietWarnings {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Warn
    }
    fn log(&self, _: &log::Record<'_>) {}
    fn flush(&self) {}
}

#[test]
fn time_polled_sums_the_polls_the_loop_timed() {
    log::set_logger(&QuietWarnings).expect("no other logger in this test binary");
    log::set_max_level(log::LevelFilter::Warn);
    // Slow-poll warnings make the loop time every poll (a threshold no poll reaches: no warning).
    let rt = evloop::Runtime::builder()
        .slow_poll_threshold(Some(Duration::from_secs(3600)))
        .build()
        .unwrap();
    rt.block_on(async {
        let spin = Duration::from_millis(2);
        let busy = spawn(async move {
            for _ in 0..2 {
                let start = std::time::Instant::now();
                while start.elapsed() < spin {}
                yield_now().await;
            }
            sleep(Duration::from_secs(3600)).await;
        });
        for _ in 0..3 {
            yield_now().await;
        }
        let dump = all_tasks();
        let busy_info = info(&dump, busy.id());
        assert_eq!(busy_info.polls, 3);
        assert!(busy_info.time_polled >= 2 * spin, "{:?}", busy_info.time_polled);
        assert!(busy_info.time_polled < Duration::from_secs(60));
        busy.cancel();
    });
}

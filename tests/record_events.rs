//! The recorder, event by event: a small scripted program on the virtual clock and the exact
//! record it leaves; the cap and its drop count; recording off; and the causes of wakes that come
//! from I/O readiness and from another thread.

mod support;

use std::time::Duration;

use evloop::record::{Direction, Event, Record, Subject, TaskEnd, WakeCause, What};
use evloop::sync::oneshot;
use evloop::{Runtime, TaskId, spawn, spawn_named, time::sleep, yield_now};

/// A runtime on the virtual clock that records, keeping at most `cap` events.
fn recording_runtime(cap: usize) -> Runtime {
    Runtime::builder()
        .virtual_clock()
        .record(true)
        .record_capacity(cap)
        .build()
        .expect("runtime")
}

/// Names the tasks of one record: `main` for the block_on future, then by first appearance.
struct Names(Vec<(TaskId, String)>);

impl Names {
    fn of(&mut self, id: TaskId) -> String {
        if let Some((_, name)) = self.0.iter().find(|(known, _)| *known == id) {
            return name.clone();
        }
        let name = format!("t{}", self.0.len() + 1);
        self.0.push((id, name.clone()));
        name
    }

    fn subject(&mut self, subject: Subject) -> String {
        match subject {
            Subject::Main => "main".to_string(),
            Subject::Task(id) => self.of(id),
            Subject::Callback(_) => "callback".to_string(),
            other => format!("{other:?}"),
        }
    }
}

/// One line per event, with task ids renamed `t1, t2, …` in the order they first appear, so
/// the expectation reads as the program does. Times are in milliseconds.
fn lines(record: &Record, with_turns: bool) -> Vec<String> {
    let mut names = Names(Vec::new());
    let mut out = Vec::new();
    for Event { at, what } in &record.events {
        let ms = at / 1_000_000;
        let line = match what {
            What::Turn { number } if with_turns => format!("{ms} turn {number}"),
            What::Turn { .. } => continue,
            What::Spawn { task, name, by } => {
                let by = by.map_or("outside".to_string(), |by| names.of(by));
                let task = names.of(*task);
                match name {
                    Some(name) => format!("{ms} spawn {task} {name:?} by {by}"),
                    None => format!("{ms} spawn {task} by {by}"),
                }
            }
            What::Poll { subject, took } => {
                assert_eq!(*took, 0, "polls take no time on a virtual clock");
                format!("{ms} poll {}", names.subject(*subject))
            }
            What::Wake { task, cause } => {
                let cause = match cause {
                    WakeCause::Task(by) => names.of(*by),
                    WakeCause::Io { direction, .. } => format!("io {direction:?}"),
                    other => format!("{other:?}").to_lowercase(),
                };
                format!("{ms} wake {} by {cause}", names.of(*task))
            }
            What::IoWait { timeout, events, took } => {
                assert_eq!(*took, 0, "no real time is read on a virtual clock");
                format!("{ms} epoll_wait timeout {timeout:?} -> {events}")
            }
            What::TimersFired { count } => format!("{ms} timers fired {count}"),
            What::ClockJump { to } => format!("{ms} clock jumps to {} ms", to / 1_000_000),
            What::Blocking { thread, took, task } => {
                assert_eq!(*took, 0, "no real time is read on a virtual clock");
                let task = task.map_or("nobody".to_string(), |task| names.of(task));
                format!("{ms} blocking job on thread {thread} for {task}")
            }
            What::End { task, how } => format!("{ms} end {} {how:?}", names.of(*task)),
            other => format!("{ms} {other:?}"),
        };
        out.push(line);
    }
    out
}

/// The script: a blocking job (gated, so that it finishes only once its task is parked), then
/// a named task that sleeps 10 ms and wakes another through a oneshot, a callback, a task that
/// panics and one that is cancelled.
fn scripted_program(runtime: &Runtime) {
    runtime.set_exception_handler(|_| {});
    runtime.block_on(async {
        let (gate, gated) = std::sync::mpsc::channel::<()>();
        let job = evloop::spawn_blocking(move || {
            gated.recv().expect("the gate opens");
            5
        });
        yield_now().await; // the job's task parks first
        gate.send(()).expect("the job waits for the gate");
        assert_eq!(job.await.unwrap(), 5);

        let (tx, rx) = oneshot::channel();
        let sleeper = spawn_named("sleeper", async move {
            sleep(Duration::from_millis(10)).await;
            tx.send(7).expect("the waiter listens");
        });
        let waiter = spawn(async move { rx.await.expect("the sleeper sends") });
        evloop::call_soon(|| {});
        let boom = spawn(async { panic!("boom (this panic is part of the test)") });
        let doomed = spawn(async { sleep(Duration::from_secs(3600)).await });
        yield_now().await;
        doomed.cancel();
        assert_eq!(waiter.await.unwrap(), 7);
        sleeper.await.unwrap();
        assert!(boom.await.unwrap_err().is_panic());
        assert!(doomed.await.unwrap_err().is_cancelled());
    });
}

/// A lighter program, for the tests that only count events (quick under Miri: no panic, no
/// thread): a few tasks, a sleep and a callback.
fn small_program(runtime: &Runtime) {
    runtime.block_on(async {
        let tasks: Vec<_> = (0..4u64)
            .map(|n| spawn(async move { sleep(Duration::from_millis(n)).await }))
            .collect();
        evloop::call_soon(|| {});
        for task in tasks {
            task.await.unwrap();
        }
    });
}

#[test]
fn the_record_of_a_scripted_program_lists_every_event_in_order() {
    let runtime = recording_runtime(evloop::record::DEFAULT_CAP);
    scripted_program(&runtime);
    let record = runtime.take_record().expect("recording is on");
    assert!(record.virtual_clock);
    assert_eq!(record.dropped, 0);
    let got = lines(&record, false);
    let expected = [
        // The blocking job: its task parks, the job's end wakes it from the pool's thread.
        "0 poll main",
        "0 spawn t1 \"spawn_blocking\" by outside",
        "0 poll t1",
        "0 poll main",
        "0 epoll_wait timeout None -> 1",
        "0 wake t1 by remote",
        "0 poll t1",
        "0 blocking job on thread 0 for t1",
        "0 end t1 Returned",
        // The second act: four tasks and a callback, run in the order they were queued.
        "0 poll main",
        "0 spawn t2 \"sleeper\" by outside",
        "0 spawn t3 by outside",
        "0 spawn t4 by outside",
        "0 spawn t5 by outside",
        "0 poll t2",
        "0 poll t3",
        "0 poll callback",
        "0 poll t4",
        "0 end t4 Panicked",
        "0 poll t5",
        // main cancels t5: a cancel is a wake, and the task's next step drops its future.
        "0 poll main",
        "0 wake t5 by callback",
        "0 poll t5",
        "0 end t5 Cancelled",
        // Nothing is ready: the virtual clock jumps to the sleeper's deadline.
        "10 clock jumps to 10 ms",
        "10 timers fired 1",
        "10 wake t2 by timer",
        "10 poll t2",
        "10 wake t3 by t2",
        "10 end t2 Returned",
        "10 poll t3",
        "10 end t3 Returned",
        "10 poll main",
    ];
    assert_eq!(got, expected, "\n{}", got.join("\n"));
}

#[test]
fn each_turn_of_the_loop_is_numbered_before_what_it_runs() {
    let runtime = recording_runtime(100);
    runtime.block_on(async {
        yield_now().await;
        spawn(async {}).await.unwrap();
    });
    let got = lines(&runtime.take_record().unwrap(), true);
    let expected = [
        "0 turn 0",
        "0 poll main",
        "0 turn 1",
        "0 poll main",
        "0 spawn t1 by outside",
        "0 turn 2",
        "0 poll t1",
        "0 end t1 Returned",
        "0 turn 3",
        "0 poll main",
    ];
    assert_eq!(got, expected, "\n{}", got.join("\n"));
}

#[test]
fn past_the_cap_the_record_keeps_the_first_events_and_counts_the_rest() {
    let everything = recording_runtime(usize::MAX);
    small_program(&everything);
    let all = everything.take_record().unwrap();
    assert_eq!(all.dropped, 0);
    let cap = 10;
    assert!(all.events.len() > cap, "the script records more than {cap} events");

    let capped = recording_runtime(cap);
    small_program(&capped);
    let record = capped.take_record().unwrap();
    assert_eq!(record.cap, cap);
    assert_eq!(
        record.events,
        all.events[..cap],
        "the first {cap} events, as recorded uncapped"
    );
    assert_eq!(
        record.dropped,
        (all.events.len() - cap) as u64,
        "every other event is counted"
    );

    // Taking the record empties the recorder: recording goes on, with room again.
    capped.block_on(yield_now());
    let next = capped.take_record().unwrap();
    assert_eq!(next.dropped, 0);
    // Turn numbers go on counting; the clock is still where the program left it, at 3 ms.
    assert_eq!(
        lines(&next, true),
        ["3 turn 9", "3 poll main", "3 turn 10", "3 poll main"]
    );
}

#[test]
fn with_recording_off_there_is_no_record_and_the_loop_runs_as_before() {
    let runtime = Runtime::builder().virtual_clock().record(false).build().unwrap();
    assert!(!runtime.is_recording());
    small_program(&runtime);
    assert_eq!(runtime.take_record(), None);
    assert_eq!(runtime.block_on(async { evloop::take_record() }), None);
    let stats = runtime.stats();
    assert_eq!((stats.tasks, stats.timers, stats.io_sources), (0, 0, 0));
}

#[test]
fn a_wake_from_another_thread_is_recorded_as_remote() {
    let runtime = recording_runtime(1000);
    let kept = std::rc::Rc::new(std::cell::RefCell::new(None::<std::task::Waker>));
    let slot = kept.clone();
    let mut woken = false;
    let parked = runtime.spawn(std::future::poll_fn(move |cx| {
        if woken {
            return std::task::Poll::Ready(());
        }
        woken = true;
        *slot.borrow_mut() = Some(cx.waker().clone());
        std::task::Poll::Pending
    }));
    runtime.block_on(yield_now()); // the task parks, leaving its waker
    let _ = runtime.take_record();
    let waker = kept.borrow_mut().take().expect("the task was polled");
    std::thread::spawn(move || waker.wake())
        .join()
        .expect("the waking thread");
    runtime.block_on(parked).unwrap();
    let record = runtime.take_record().unwrap();
    let wakes: Vec<&What> = record
        .events
        .iter()
        .map(|e| &e.what)
        .filter(|w| matches!(w, What::Wake { .. }))
        .collect();
    assert_eq!(wakes.len(), 1, "{:#?}", record.events);
    assert!(
        matches!(
            wakes[0],
            What::Wake {
                cause: WakeCause::Remote,
                ..
            }
        ),
        "{wakes:?}"
    );
}

#[test]
fn a_read_woken_by_readiness_names_the_socket_and_the_read_half() {
    use evloop::net::{TcpListener, TcpStream};
    let runtime = recording_runtime(10_000);
    let reader_id = runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).expect("bind");
        let address = listener.local_addr().expect("address");
        let client = TcpStream::connect(address).await.expect("connect");
        client.set_nodelay(true).expect("nodelay");
        let (server, _) = listener.accept().await.expect("accept");
        let reader = spawn(async move {
            let mut byte = [0u8; 1];
            server.read(&mut byte).await.expect("read")
        });
        let id = reader.id();
        yield_now().await; // the reader finds nothing and parks
        yield_now().await;
        client.write_all(b"x").await.expect("write");
        assert_eq!(reader.await.unwrap(), 1);
        id
    });
    assert_eq!(runtime.stats().io_sources, 0, "every registration is gone");
    let record = runtime.take_record().unwrap();
    let causes: Vec<WakeCause> = record
        .events
        .iter()
        .filter_map(|e| match e.what {
            What::Wake { task, cause } if task == reader_id => Some(cause),
            _ => None,
        })
        .collect();
    assert!(
        matches!(
            causes[..],
            [WakeCause::Io {
                direction: Direction::Read,
                ..
            }]
        ),
        "{causes:?}"
    );
    let waited = record
        .events
        .iter()
        .any(|e| matches!(e.what, What::IoWait { events: 1.., .. }));
    assert!(waited, "the epoll_wait that saw the byte is recorded");
}

#[test]
fn on_the_real_clock_times_never_go_backwards_and_blocking_jobs_take_time() {
    let runtime = Runtime::builder().record(true).build().unwrap();
    runtime.block_on(async {
        let job = evloop::spawn_blocking(|| std::thread::sleep(Duration::from_millis(2)));
        sleep(Duration::from_millis(1)).await;
        job.await.unwrap();
    });
    let record = runtime.take_record().unwrap();
    assert!(!record.virtual_clock);
    let at: Vec<u64> = record.events.iter().map(|e| e.at).collect();
    assert!(at.windows(2).all(|w| w[0] <= w[1]), "{:#?}", record.events);
    let took = record.events.iter().find_map(|e| match e.what {
        What::Blocking {
            took,
            thread: 0,
            task: Some(_),
        } => Some(took),
        _ => None,
    });
    assert!(took.expect("the job is recorded") >= 2_000_000, "{took:?}");
    let ends = record.events.iter().filter(|e| {
        matches!(
            e.what,
            What::End {
                how: TaskEnd::Returned,
                ..
            }
        )
    });
    assert_eq!(ends.count(), 1);
}

//! Subprocesses on the loop: pipes as streams, exit statuses, kills and timeouts, and clean
//! teardown: every registration undone, every child reaped (its `/proc/<pid>` gone).
//!
//! Miri cannot spawn processes, so every test here is ignored under it.

mod support;

use std::future::poll_fn;
use std::io::ErrorKind;
use std::os::unix::process::ExitStatusExt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::pin::Pin;
use std::time::{Duration, Instant};

use evloop::io::AsyncWrite;
use evloop::process::{Command, Stdio};
use evloop::time::{sleep, timeout};
use evloop::{Runtime, spawn};

use support::{panic_text, virtual_runtime};

/// Whether the kernel still holds a process with this pid: running, or a zombie not yet reaped.
fn exists(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// The one-letter state in `/proc/<pid>/stat` (`R`, `S`, `Z` for a zombie…), if the process exists.
fn state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) S ...": the state follows the last ')', since comm may hold spaces and parens.
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

/// Waits on the loop (real clock) until `pid` is gone, for at most ten seconds.
async fn gone(pid: u32) -> bool {
    let start = Instant::now();
    while exists(pid) && start.elapsed() < Duration::from_secs(10) {
        sleep(Duration::from_millis(1)).await;
    }
    !exists(pid)
}

/// Waits on the loop until the reaper tasks have finished and every registration is undone.
async fn back_to(baseline: evloop::Stats) {
    let start = Instant::now();
    while (evloop::stats().io_sources, evloop::stats().tasks) != (baseline.io_sources, baseline.tasks)
        && start.elapsed() < Duration::from_secs(10)
    {
        sleep(Duration::from_millis(1)).await;
    }
    let now = evloop::stats();
    assert_eq!(now.io_sources, baseline.io_sources, "every pipe and pidfd deregistered");
    assert_eq!(now.tasks, baseline.tasks, "no reaper task left");
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot spawn processes")]
fn cat_gives_back_the_lines_written_to_its_stdin_once_stdin_is_closed() {
    evloop::run(async {
        let baseline = evloop::stats();
        let mut cat = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = cat.stdin.take().unwrap();
        for i in 0..10 {
            stdin.write_all(format!("line {i}\n").as_bytes()).await.unwrap();
        }
        drop(stdin); // cat reads end of file
        let mut echoed = Vec::new();
        cat.stdout.as_ref().unwrap().read_to_end(&mut echoed).await.unwrap();
        let expected: String = (0..10).map(|i| format!("line {i}\n")).collect();
        assert_eq!(String::from_utf8(echoed).unwrap(), expected);
        let status = cat.wait().await.unwrap();
        assert!(status.success(), "{status}");
        let pid = cat.id();
        drop(cat);
        assert!(!exists(pid), "wait reaped cat");
        back_to(baseline).await;
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot spawn processes")]
fn output_gives_both_streams_and_the_exit_code() {
    evloop::run(async {
        let output = Command::new("sh")
            .args(["-c", "echo out; echo err >&2; exit 3"])
            .output()
            .await
            .unwrap();
        assert_eq!(output.stdout, b"out\n");
        assert_eq!(output.stderr, b"err\n");
        assert_eq!(output.status.code(), Some(3));
        assert_eq!(evloop::stats().io_sources, 0);
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot spawn processes")]
fn a_child_that_exits_before_wait_is_called_gives_its_status_every_time() {
    evloop::run(async {
        let mut child = Command::new("sh").args(["-c", "exit 7"]).spawn().unwrap();
        let pid = child.id();
        // Until the child is a zombie (exited, not yet reaped), without touching the pidfd.
        let start = Instant::now();
        while state(pid) != Some('Z') && start.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(state(pid), Some('Z'), "the child exited and is waiting to be reaped");
        let status = child.wait().await.unwrap();
        assert_eq!(status.code(), Some(7));
        assert!(!exists(pid), "wait reaped it");
        assert_eq!(
            child.wait().await.unwrap(),
            status,
            "a second wait gives the same status"
        );
        assert_eq!(child.try_wait().unwrap(), Some(status));
        child
            .start_kill()
            .expect("killing a reaped child does nothing, and is no error");
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot spawn processes")]
fn try_wait_says_none_while_the_child_runs_and_kill_ends_it_with_sigkill_at_once() {
    evloop::run(async {
        let mut child = Command::new("sleep").arg("100").spawn().unwrap();
        assert_eq!(child.try_wait().unwrap(), None);
        let start = Instant::now();
        child.kill().await.unwrap();
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "killed in {:?}",
            start.elapsed()
        );
        let status = child.wait().await.unwrap();
        assert_eq!(status.signal(), Some(9), "{status}");
        assert_eq!(status.code(), None);
        assert!(!exists(child.id()));
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot spawn processes")]
fn kill_on_drop_kills_the_child_and_reaps_it() {
    evloop::run(async {
        let baseline = evloop::stats();
        let child = Command::new("sleep").arg("100").kill_on_drop(true).spawn().unwrap();
        let pid = child.id();
        assert_eq!(state(pid).map(|s| s != 'Z'), Some(true), "sleep is running");
        drop(child);
        assert!(gone(pid).await, "the child was killed and reaped");
        back_to(baseline).await;
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot spawn processes")]
fn a_dropped_child_keeps_running_and_is_reaped_when_it_exits() {
    evloop::run(async {
        let baseline = evloop::stats();
        let mut child = Command::new("cat").stdin(Stdio::piped()).spawn().unwrap();
        let pid = child.id();
        let stdin = child.stdin.take().unwrap();
        drop(child); // no kill_on_drop: cat goes on, waiting for input
        assert_eq!(
            evloop::stats().tasks,
            baseline.tasks + 1,
            "a reaper task watches it, not a thread"
        );
        for _ in 0..20 {
            evloop::yield_now().await;
        }
        assert!(
            matches!(state(pid), Some(s) if s != 'Z'),
            "cat still runs: {:?}",
            state(pid)
        );
        stdin.write_all(b"still there\n").await.unwrap();
        drop(stdin); // now cat reads end of file and exits
        assert!(gone(pid).await, "the reaper task reaped cat");
        back_to(baseline).await;
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot spawn processes")]
fn a_timeout_around_wait_of_a_hanging_child_fires_then_kill_ends_it_and_the_loop_goes_on() {
    let rt = virtual_runtime();
    rt.block_on(async {
        let baseline = evloop::stats();
        let mut child = Command::new("sleep").arg("100").spawn().unwrap();
        let waited = timeout(Duration::from_secs(30), child.wait()).await;
        assert!(waited.is_err(), "the child hangs: the timeout fires");
        assert_eq!(
            child.try_wait().unwrap(),
            None,
            "a cancelled wait leaves the child alone"
        );
        child.kill().await.unwrap();
        assert_eq!(child.wait().await.unwrap().signal(), Some(9));
        // The loop is healthy: the next child runs and its status arrives.
        let status = Command::new("true").status().await.unwrap();
        assert!(status.success());
        let pid = child.id();
        drop(child);
        assert!(!exists(pid));
        assert_eq!(evloop::stats().io_sources, baseline.io_sources);
        assert_eq!(evloop::stats().tasks, baseline.tasks);
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot spawn processes")]
fn a_mebibyte_through_cat_does_not_deadlock() {
    evloop::run(async {
        let data: Vec<u8> = (0..1 << 20).map(|i: u32| (i % 251) as u8).collect();
        let mut cat = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = cat.stdin.take().unwrap();
        let sent = data.clone();
        // Writing all, then reading, would deadlock: both 64 KiB pipes fill up.
        let writer = spawn(async move { stdin.write_all(&sent).await });
        let output = cat.wait_with_output().await.unwrap();
        writer.await.unwrap().unwrap();
        assert!(output.status.success());
        assert_eq!(output.stdout.len(), data.len());
        assert!(output.stdout == data, "the bytes came back in order");
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot spawn processes")]
fn output_reads_both_pipes_at_once_so_a_child_filling_stderr_first_finishes() {
    evloop::run(async {
        // A megabyte on stderr before a word on stdout: read one pipe after the other, and the
        // child would block on a full stderr pipe forever.
        let output = Command::new("sh")
            .args(["-c", "head -c 1048576 /dev/zero >&2; echo done"])
            .output()
            .await
            .unwrap();
        assert!(output.status.success());
        assert_eq!(output.stderr.len(), 1 << 20);
        assert_eq!(output.stdout, b"done\n");
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot spawn processes")]
fn spawning_a_program_that_does_not_exist_gives_not_found_and_registers_nothing() {
    evloop::run(async {
        let baseline = evloop::stats();
        let error = Command::new("/definitely/not/a/program")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotFound, "{error}");
        let error = Command::new("no-such-program-evloop").output().await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotFound, "{error}");
        let now = evloop::stats();
        assert_eq!((now.io_sources, now.tasks), (baseline.io_sources, baseline.tasks));
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot spawn processes")]
fn each_pipe_and_the_pidfd_is_one_registration_undone_on_drop() {
    evloop::run(async {
        let baseline = evloop::stats().io_sources;
        let mut child = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        assert_eq!(evloop::stats().io_sources, baseline + 4, "three pipes and the pidfd");
        drop(child.stderr.take());
        assert_eq!(evloop::stats().io_sources, baseline + 3);
        drop(child.stdin.take());
        assert_eq!(evloop::stats().io_sources, baseline + 2);
        assert!(child.wait().await.unwrap().success(), "cat saw end of file");
        drop(child);
        assert_eq!(
            evloop::stats().io_sources,
            baseline,
            "the pidfd and stdout went with the Child"
        );
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot spawn processes")]
fn a_thousand_short_children_in_sequence_leave_no_zombie_and_no_registration() {
    evloop::run(async {
        let baseline = evloop::stats();
        for _ in 0..1000 {
            let mut child = Command::new("true").spawn().unwrap();
            assert!(child.wait().await.unwrap().success());
            assert!(!exists(child.id()), "reaped, not a zombie");
        }
        let now = evloop::stats();
        assert_eq!(
            (now.io_sources, now.tasks, now.timers),
            (baseline.io_sources, baseline.tasks, baseline.timers)
        );
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot spawn processes")]
fn a_hundred_children_at_once_each_get_their_own_exit_code() {
    evloop::run(async {
        let baseline = evloop::stats();
        let children: Vec<_> = (0..100)
            .map(|i| {
                spawn(async move {
                    let mut child = Command::new("sh").args(["-c", &format!("exit {i}")]).spawn().unwrap();
                    (child.wait().await.unwrap().code(), child.id())
                })
            })
            .collect();
        for (i, child) in children.into_iter().enumerate() {
            let (code, pid) = child.await.unwrap();
            assert_eq!(code, Some(i as i32));
            assert!(!exists(pid), "reaped, not a zombie");
        }
        back_to(baseline).await;
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot spawn processes")]
fn a_child_waited_on_another_runtime_panics_and_dropping_it_there_still_reaps_it() {
    let a = Runtime::new().unwrap();
    let child = a.block_on(async { Command::new("sleep").arg("100").kill_on_drop(true).spawn().unwrap() });
    let pid = child.id();
    let b = Runtime::new().unwrap();
    let waited = catch_unwind(AssertUnwindSafe(|| {
        b.block_on(async move {
            let mut child = child;
            child.wait().await
        })
    }));
    let message = panic_text(&*waited.expect_err("waiting on runtime B for a child of runtime A must panic"));
    assert!(message.contains("belongs to runtime #"), "{message}");
    // The child was dropped on runtime B while unwinding: killed and reaped all the same.
    let start = Instant::now();
    while exists(pid) && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(!exists(pid), "killed and reaped off its loop");
    a.block_on(sleep(Duration::from_millis(1))); // runtime A forgets the registration next turn
    assert_eq!(a.stats().io_sources, 0);
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot spawn processes")]
fn a_child_still_running_when_its_loop_shuts_down_is_reaped_all_the_same() {
    let pid = {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let child = Command::new("sleep").arg("100").kill_on_drop(true).spawn().unwrap();
            let pid = child.id();
            // Held by a task that the runtime's shutdown cancels.
            drop(spawn(async move {
                let _child = child;
                std::future::pending::<()>().await
            }));
            evloop::yield_now().await;
            pid
        })
    };
    let start = Instant::now();
    while exists(pid) && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(!exists(pid), "killed and reaped as the loop shut down");
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot spawn processes")]
fn one_childs_stdout_can_become_the_next_childs_stdin() {
    evloop::run(async {
        let mut printf = Command::new("printf")
            .arg("b\\na\\nc\\n")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let pipe = printf.stdout.take().unwrap().into_stdio().unwrap();
        let sorted = Command::new("sort").stdin(pipe).output().await.unwrap();
        assert!(printf.wait().await.unwrap().success());
        assert_eq!(sorted.stdout, b"a\nb\nc\n");
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot spawn processes")]
fn closing_stdin_through_async_write_gives_end_of_file_and_later_writes_a_broken_pipe() {
    evloop::run(async {
        let mut cat = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = cat.stdin.take().unwrap();
        let wrote = poll_fn(|cx| Pin::new(&mut stdin).poll_write(cx, b"through the trait\n")).await;
        assert_eq!(wrote.unwrap(), 18);
        poll_fn(|cx| Pin::new(&mut stdin).poll_close(cx)).await.unwrap();
        let error = stdin.write(b"more").await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::BrokenPipe, "{error}");
        let output = cat.wait_with_output().await.unwrap();
        assert_eq!(output.stdout, b"through the trait\n");
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot spawn processes")]
fn writing_to_a_child_that_has_exited_gives_a_broken_pipe_not_a_signal() {
    evloop::run(async {
        let mut child = Command::new("true").stdin(Stdio::piped()).spawn().unwrap();
        let stdin = child.stdin.take().unwrap();
        assert!(child.wait().await.unwrap().success());
        let error = stdin.write_all(&[0; 1 << 17]).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::BrokenPipe, "{error}");
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot spawn processes")]
fn spawning_outside_a_loop_panics_before_any_child_starts() {
    let marker = std::env::temp_dir().join(format!("evloop-process-marker-{}", std::process::id()));
    let _ = std::fs::remove_file(&marker);
    let spawned = catch_unwind(AssertUnwindSafe(|| {
        Command::new("touch").arg(&marker).spawn().map(drop)
    }));
    let message = panic_text(&*spawned.expect_err("no loop: spawn must panic"));
    assert!(message.contains("inside a running evloop loop"), "{message}");
    assert!(!marker.exists(), "the child never ran");
}

#[test]
fn a_child_and_its_pipes_can_be_sent_to_another_thread() {
    fn assert_send<T: Send>() {}
    assert_send::<evloop::process::Child>();
    assert_send::<evloop::process::ChildStdin>();
    assert_send::<evloop::process::ChildStdout>();
    assert_send::<evloop::process::ChildStderr>();
    assert_send::<Command>();
}

//! The loop starts no thread of its own: only `spawn_blocking` (and name lookups, which use
//! it) ever do. This file holds a single test so that no other test's thread is counted.

use std::time::Duration;

use evloop::spawn;

/// Threads of this process, from /proc (Linux).
fn thread_count() -> usize {
    std::fs::read_dir("/proc/self/task").map(|d| d.count()).unwrap_or(0)
}

#[test]
fn the_loop_creates_no_thread_unless_blocking_work_is_asked_for() {
    let before = thread_count();
    assert!(before >= 1);
    let rt = evloop::Runtime::new().unwrap();
    rt.block_on(async {
        let listener = evloop::net::TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        let accept = spawn(async move { listener.accept().await.map(|_| ()) });
        let _client = evloop::net::TcpStream::connect(addr).await.unwrap();
        accept.await.unwrap().unwrap();
        evloop::time::sleep(Duration::from_millis(2)).await;
        let _ = evloop::net::lookup_host("127.0.0.1", 1).await.unwrap();
        let handle = evloop::call_later(Duration::from_millis(1), || {});
        handle.cancel();
        assert_eq!(
            thread_count(),
            before,
            "timers, sockets, callbacks and IP literals started no thread"
        );
    });
    assert_eq!(rt.stats().blocking_threads, 0);
}

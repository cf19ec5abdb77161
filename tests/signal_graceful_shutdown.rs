//! The `graceful_shutdown` example, run as a child process: it is sent a real SIGINT (and, in a
//! second test, SIGTERM) while clients are in flight, and every step it prints, what each
//! client receives, and its exit status are checked.
//!
//! The example binary is built with `cargo build --example graceful_shutdown` into this test's
//! own target directory (`cargo test --test …` does not build examples; when they are built
//! already, this is a no-op). Every wait has a timeout, and the child is killed if the test
//! fails, so nothing can hang.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

const PATIENCE: Duration = Duration::from_secs(60);

/// The example's binary, built once per test process, next to this test's own
/// (`target/<profile>/examples`).
fn example_binary() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(build_example).clone()
}

fn build_example() -> PathBuf {
    let exe = std::env::current_exe().expect("the test knows its own path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps/<test>");
    let target_dir = profile_dir.parent().expect("target/<profile>");
    let mut build = Command::new(env!("CARGO"));
    build
        .args(["build", "--quiet", "--example", "graceful_shutdown", "--manifest-path"])
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .env("CARGO_TARGET_DIR", target_dir);
    if profile_dir.file_name().is_some_and(|name| name == "release") {
        build.arg("--release");
    }
    let mut building = build.spawn().expect("cargo starts");
    let status = wait_with_timeout(&mut building, Duration::from_secs(600)).expect("the build finishes");
    assert!(
        status.success(),
        "cargo build --example graceful_shutdown failed: {status}"
    );
    profile_dir.join("examples").join("graceful_shutdown")
}

fn wait_with_timeout(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20)); // polling a process: no event to wait on
    }
    None
}

/// The running example: its stdout, line by line, and a kill on drop should the test fail.
struct Example {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Example {
    fn start(args: &[&str]) -> Example {
        let mut child = Command::new(example_binary())
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("the example starts");
        let stdout = child.stdout.take().expect("piped");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Example {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits for the next line containing `text` (lines before it are kept for the report).
    fn expect(&mut self, text: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(text) {
                        return line;
                    }
                }
                Err(_) => panic!("the example never printed {text:?}; it printed {:#?}", self.seen),
            }
        }
    }

    fn signal(&self, signo: i32) {
        let pid = i32::try_from(self.child.id()).expect("a pid fits an i32");
        // SAFETY: kill has no memory-safety preconditions; `pid` is our own live child.
        assert_eq!(unsafe { libc::kill(pid, signo) }, 0);
    }

    fn exit_status(&mut self) -> ExitStatus {
        wait_with_timeout(&mut self.child, PATIENCE).expect("the example exits by itself")
    }
}

impl Drop for Example {
    fn drop(&mut self) {
        let _ = self.child.kill(); // already exited when the test passed
        let _ = self.child.wait();
    }
}

/// Connects, sends `work <ms>`, and reads `working`: the request is in flight.
fn start_request(addr: SocketAddr, ms: u64) -> TcpStream {
    let mut stream = TcpStream::connect(addr).expect("the server accepts");
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    stream.write_all(format!("work {ms}\n").as_bytes()).unwrap();
    let mut working = [0u8; 8];
    stream.read_exact(&mut working).expect("the server says it is working");
    assert_eq!(&working, b"working\n");
    stream
}

fn rest_of(mut stream: TcpStream) -> String {
    let mut text = String::new();
    stream
        .read_to_string(&mut text)
        .expect("the server closes the connection");
    text
}

fn listening_address(line: &str) -> SocketAddr {
    let rest = line.split("listening on ").nth(1).expect("an address");
    rest.split(';').next().unwrap().parse().expect("a socket address")
}

#[test]
#[cfg_attr(miri, ignore = "spawns a process")]
fn on_sigint_the_server_stops_accepting_finishes_quick_requests_cancels_slow_ones_and_exits_0() {
    let mut example = Example::start(&["--serve", "--deadline-ms", "1500"]);
    let addr = listening_address(&example.expect("listening on "));
    let quick = start_request(addr, 200);
    let slow = start_request(addr, 60_000);
    example.expect("request 1: working for 200 ms");
    example.expect("request 2: working for 60000 ms");

    example.signal(libc::SIGINT);
    example.expect("received SIGINT: stopped accepting");
    let refused = TcpStream::connect(addr).expect_err("no longer accepting");
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
    example.expect("waiting up to 1.500 s for 2 request(s) in flight");
    example.expect("request 1: done, answered");
    assert_eq!(
        rest_of(quick),
        "done 200\n",
        "the quick request finished within the deadline"
    );
    example.expect("deadline passed: cancelling 1 request(s) still running");
    example.expect("request 2: cancelled, connection closed");
    assert_eq!(
        rest_of(slow),
        "",
        "the slow request was cancelled: no answer, the connection closed"
    );
    example.expect("server: shut down cleanly");
    example.expect("exiting with status 0");
    let status = example.exit_status();
    assert!(status.success(), "{status}; it printed {:#?}", example.seen);
}

#[test]
#[cfg_attr(miri, ignore = "spawns a process")]
fn on_sigterm_with_nothing_in_flight_the_server_exits_0_at_once() {
    // A long deadline, so that "exited well before it" cannot be a loaded machine's luck.
    let mut example = Example::start(&["--serve", "--deadline-ms", "20000"]);
    example.expect("listening on ");
    let start = Instant::now();
    example.signal(libc::SIGTERM);
    example.expect("received SIGTERM: stopped accepting");
    example.expect("waiting up to 20.000 s for 0 request(s) in flight");
    example.expect("server: shut down cleanly");
    let status = example.exit_status();
    assert!(status.success(), "{status}; it printed {:#?}", example.seen);
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "no request to wait for: no deadline to wait out"
    );
}

#[test]
#[cfg_attr(miri, ignore = "spawns a process")]
fn run_plainly_the_example_tests_itself_and_exits_0() {
    let mut example = Example::start(&[]);
    example.expect("sending SIGINT to this process");
    example.expect("received SIGINT: stopped accepting");
    example.expect("client: the quick request got \"done 300\"");
    example.expect("request 2: cancelled, connection closed");
    example.expect("client: the slow request got \"no answer: the connection was closed\"");
    example.expect("client: a new connection is refused");
    let status = example.exit_status();
    assert!(status.success(), "{status}; it printed {:#?}", example.seen);
}

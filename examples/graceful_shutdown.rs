//! graceful_shutdown: a TCP server that, on Ctrl-C (SIGINT) or SIGTERM, stops accepting, lets
//! the requests in flight finish within a deadline, cancels the rest, and exits 0.
//!
//! Mirrors the asyncio pattern `loop.add_signal_handler(SIGINT, stop.set)`, then
//! `server.close()`, then `asyncio.wait(tasks, timeout=deadline)` and `task.cancel()` for what
//! is left. The protocol is one line each way: a client sends `work <ms>`, the server answers
//! `working` at once, then `done <ms>` after `<ms>` milliseconds.
//!
//! Run with: `cargo run --example graceful_shutdown` (the self-test: it starts a quick and a
//! slow client, sends itself SIGINT once both are in flight, and shows every step), or
//! `cargo run --example graceful_shutdown -- --serve [--port N] [--deadline-ms N]` to serve
//! until you press Ctrl-C (try `printf 'work 5000\n' | nc 127.0.0.1 PORT` from another shell
//! first). `--deadline-ms` is how long in-flight requests get (default 2000).
//!
//! What to look for: after the signal, the listening socket is closed at once (a new client is
//! refused), the quick request still gets its answer, and the slow one is cancelled at the
//! deadline: its task's future is dropped where it was waiting, which closes its connection,
//! so its client sees the connection end without an answer. The program then returns from
//! `main`: exit status 0.
//!
//! What production runtimes do differently: a real server also stops reading new requests on
//! connections that stay open (HTTP keep-alive), tells clients to go away (`Connection: close`,
//! HTTP/2 GOAWAY), and takes a second Ctrl-C as "stop now". tokio's docs do this with a
//! `CancellationToken` and a `TaskTracker`; evloop's `sync::CancellationToken` and `TaskGroup`
//! serve the same purpose, and a `Vec` of `JoinHandle`s is enough here.

mod support;

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use evloop::net::{TcpListener, TcpStream};
use evloop::signal::{Signal, SignalKind, signal};
use evloop::time::{now, sleep, timeout_at};
use evloop::{Either, JoinHandle, select, spawn};
use support::{secs, step};

/// What the command line asked for.
struct Options {
    /// `--serve`: wait for a real signal instead of running the self-test clients.
    serve: bool,
    /// `--port N` (default 0: any free port).
    port: u16,
    /// `--deadline-ms N`: how long the requests in flight get after the signal.
    deadline: Duration,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        serve: false,
        port: 0,
        deadline: Duration::from_millis(2000),
    };
    let mut args = support::args();
    while let Some(arg) = args.next() {
        let mut number = |name: &str| {
            args.next()
                .and_then(|n| n.parse::<u64>().ok())
                .ok_or(format!("{name} needs a number"))
        };
        match arg.as_str() {
            "--serve" => options.serve = true,
            "--port" => options.port = u16::try_from(number("--port")?).map_err(|e| e.to_string())?,
            "--deadline-ms" => options.deadline = Duration::from_millis(number("--deadline-ms")?),
            other => return Err(format!("unknown argument {other:?} (see the example's docs)")),
        }
    }
    Ok(options)
}

fn main() {
    support::init_logger();
    let options = match options() {
        Ok(options) => options,
        Err(error) => {
            eprintln!("graceful_shutdown: {error}");
            std::process::exit(2);
        }
    };
    if let Err(error) = run_with(options) {
        eprintln!("graceful_shutdown: {error}");
        std::process::exit(1);
    }
}

fn run_with(options: Options) -> io::Result<()> {
    // The real clock: this program waits on sockets and on a signal, not only on timers.
    let runtime = support::runtime(false);
    runtime.block_on(async move {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], options.port)))?;
        let addr = listener.local_addr()?;
        // Listening for the signals starts here, before "listening" is printed: a signal sent
        // the moment that line appears must find the handler installed, not the default action
        // (which would kill the process).
        let interrupt = signal(SignalKind::interrupt())?;
        let terminate = signal(SignalKind::terminate())?;
        let server = spawn(serve(listener, interrupt, terminate, options.deadline));
        step(format!("listening on {addr}; Ctrl-C or SIGTERM shuts down gracefully"));
        if !options.serve {
            spawn(self_test(addr))
                .await
                .expect("the self-test clients do not panic");
        }
        server.await.expect("the server does not panic")
    })?;
    step("exiting with status 0");
    Ok(())
}

/// The accept loop, until SIGINT or SIGTERM; then the graceful part.
async fn serve(
    listener: TcpListener,
    mut interrupt: Signal,
    mut terminate: Signal,
    deadline: Duration,
) -> io::Result<()> {
    let mut requests: Vec<(u32, JoinHandle<()>)> = Vec::new();
    let mut next = 1;
    let which = loop {
        // Both `recv`s and `accept` are cancel-safe: the losers of each round lose nothing.
        let stop = select(interrupt.recv(), terminate.recv());
        match select(listener.accept(), stop).await {
            Either::Left(Ok((stream, _peer))) => {
                requests.retain(|(_, handle)| !handle.is_finished());
                requests.push((next, spawn(handle(next, stream))));
                next += 1;
            }
            // One failed accept (out of file descriptors, say) must not stop the server.
            Either::Left(Err(error)) => step(format!("accept failed ({error}); still listening")),
            Either::Right(Either::Left(_)) => break SignalKind::interrupt(),
            Either::Right(Either::Right(_)) => break SignalKind::terminate(),
        }
    };
    // Step 1: stop accepting. Dropping the listener closes its socket: new clients are refused.
    drop(listener);
    step(format!(
        "received {which}: stopped accepting (the listening socket is closed)"
    ));

    // Step 2: let the requests in flight finish, until the deadline.
    requests.retain(|(_, handle)| !handle.is_finished());
    step(format!(
        "waiting up to {} for {} request(s) in flight",
        secs(deadline),
        requests.len()
    ));
    let until = now() + deadline;
    let all_done = timeout_at(until, async {
        for (_, handle) in requests.iter_mut() {
            let _ = handle.await;
        }
    })
    .await;

    // Step 3: cancel what is left, and wait for each cancellation to take effect.
    if all_done.is_err() {
        let left: Vec<_> = requests.iter().filter(|(_, h)| !h.is_finished()).collect();
        step(format!(
            "deadline passed: cancelling {} request(s) still running",
            left.len()
        ));
        for (n, handle) in requests {
            if handle.cancel() {
                match handle.await {
                    Err(error) if error.is_cancelled() => step(format!("request {n}: cancelled, connection closed")),
                    _ => step(format!("request {n}: finished just in time")),
                }
            }
        }
    }
    step("server: shut down cleanly");
    Ok(())
}

/// One request: read `work <ms>`, say `working`, wait, say `done <ms>`.
async fn handle(n: u32, stream: TcpStream) {
    let Some(ms) = read_request(&stream).await else {
        step(format!("request {n}: not a `work <ms>` line; closing"));
        return;
    };
    step(format!("request {n}: working for {ms} ms"));
    if stream.write_all(b"working\n").await.is_err() {
        return;
    }
    sleep(Duration::from_millis(ms)).await; // where a cancelled request stops
    if stream.write_all(format!("done {ms}\n").as_bytes()).await.is_ok() {
        step(format!("request {n}: done, answered"));
    }
}

/// Reads one `work <ms>` line (at most 64 bytes).
async fn read_request(stream: &TcpStream) -> Option<u64> {
    let mut line = Vec::new();
    let mut byte = [0u8];
    while line.len() < 64 {
        match stream.read(&mut byte).await {
            Ok(1) if byte[0] == b'\n' => break,
            Ok(1) => line.push(byte[0]),
            _ => return None,
        }
    }
    std::str::from_utf8(&line)
        .ok()?
        .strip_prefix("work ")?
        .trim()
        .parse()
        .ok()
}

/// The self-test's clients: a quick request and a slow one; once both are in flight, SIGINT.
async fn self_test(addr: SocketAddr) {
    let quick = start_request(addr, 300).await.expect("the server accepts");
    let slow = start_request(addr, 60_000).await.expect("the server accepts");
    step("client: both requests are in flight; sending SIGINT to this process (as Ctrl-C would)");
    // SAFETY: kill has no memory-safety preconditions, and SIGINT has a listener (the server's).
    unsafe { libc::kill(libc::getpid(), libc::SIGINT) };
    step(format!("client: the quick request got {:?}", answer(&quick).await));
    step(format!("client: the slow request got {:?}", answer(&slow).await));
    match TcpStream::connect(addr).await {
        Err(error) => step(format!("client: a new connection is refused ({error})")),
        Ok(_) => step("client: a new connection was accepted?!"),
    }
}

/// Connects, sends `work <ms>`, and waits for `working`.
async fn start_request(addr: SocketAddr, ms: u64) -> io::Result<TcpStream> {
    let stream = TcpStream::connect(addr).await?;
    stream.write_all(format!("work {ms}\n").as_bytes()).await?;
    let mut working = [0u8; 8];
    stream.read_exact(&mut working).await?;
    Ok(stream)
}

/// The rest of the server's answer, or "no answer" if it closed the connection first.
async fn answer(stream: &TcpStream) -> String {
    let mut buffer = [0u8; 64];
    let mut text = String::new();
    loop {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => text.push_str(&String::from_utf8_lossy(&buffer[..n])),
        }
    }
    if text.is_empty() {
        "no answer: the connection was closed".to_string()
    } else {
        text.trim().to_string()
    }
}

//! echo: the "I/O issue": one thread serves several TCP connections at once, because every
//! wait for the network is an await point where the loop runs something else.
//!
//! Mirrors asyncio's `start_server` echo server and `open_connection` clients, and mio's
//! `examples/tcp_server.rs`, with tasks instead of a hand-written `match token`: an accept
//! task, one task per connection, and three client tasks, all in one program on 127.0.0.1.
//!
//! Run with: `cargo run --example echo` (no `--virtual`: a virtual clock jumps to the next
//! timer whenever the loop is idle, even while a socket still waits for data, so it suits
//! programs that only wait on timers).
//!
//! What to look for: who waits on what. The server task waits in `accept()` (its listening
//! socket is registered with the reactor; the task is woken when it becomes readable); each
//! connection task waits in `read()`; each client waits for its echo. The lines of the three
//! clients interleave: nobody blocks a thread, the loop switches whenever a socket has
//! nothing to give yet. The exact interleaving can differ from run to run (it follows the
//! kernel's timing); the program always ends with every client done and the server cancelled.
//!
//! What production runtimes do differently: tokio and async-std split a stream into read and
//! write halves and add buffered readers (`read_line`) and framing codecs; servers cap how
//! many connections they accept at once and put a timeout on every read. On a multi-threaded
//! runtime the connection tasks would also run on several cores. And a real client would
//! not assume an echo arrives in one piece: `read_exact` here waits for exactly the bytes sent.

mod support;

use std::io;
use std::net::{Shutdown, SocketAddr};

use evloop::net::{TcpListener, TcpStream};
use evloop::spawn_named;

fn main() {
    support::init_logger();
    run();
}

/// The accept loop: one task, parked in `accept()` whenever no connection is waiting.
async fn serve(listener: TcpListener) {
    for connection in 1.. {
        println!("server: waiting in accept() for connection {connection}");
        match listener.accept().await {
            Ok((stream, peer)) => {
                let handler = spawn_named(format!("connection {connection}"), echo(connection, stream));
                println!(
                    "server: accepted {peer}; connection {connection} is handled by {}",
                    handler.id()
                );
                drop(handler); // detached: it runs until its client hangs up
            }
            // One failed accept (say, out of file descriptors) must not stop the server.
            Err(error) => println!("server: accept failed ({error}); still listening"),
        }
    }
}

/// One connection: read whatever arrived, write it back, until the client closes its side.
async fn echo(connection: u32, stream: TcpStream) {
    let mut buffer = [0u8; 1024];
    loop {
        match stream.read(&mut buffer).await {
            Ok(0) => {
                println!("connection {connection}: the client closed its side; closing ours");
                return; // dropping `stream` closes the socket and deregisters it
            }
            Ok(n) => {
                if let Err(error) = stream.write_all(&buffer[..n]).await {
                    println!("connection {connection}: write failed ({error}); closing");
                    return;
                }
                println!("connection {connection}: echoed {n} bytes; waiting in read() again");
            }
            Err(error) => {
                println!("connection {connection}: read failed ({error}); closing");
                return;
            }
        }
    }
}

/// A client: connect, send two lines and wait for each echo, then hang up.
async fn client(number: u32, server: SocketAddr) -> io::Result<()> {
    println!("client {number}: connecting (waiting for the handshake, not blocking the thread)");
    let stream = TcpStream::connect(server).await?;
    println!("client {number}: connected from {}", stream.local_addr()?);
    for line in [
        format!("hello from client {number}\n"),
        format!("client {number} says bye\n"),
    ] {
        stream.write_all(line.as_bytes()).await?;
        println!("client {number}: sent {:?}; waiting for the echo", line.trim_end());
        let mut echoed = vec![0; line.len()];
        stream.read_exact(&mut echoed).await?;
        println!(
            "client {number}: got back {:?}",
            String::from_utf8_lossy(&echoed).trim_end()
        );
    }
    stream.shutdown(Shutdown::Write)?; // tell the server we are done sending
    match stream.read(&mut [0u8; 16]).await? {
        0 => println!("client {number}: the server closed the connection too; done"),
        n => println!("client {number}: {n} unexpected bytes after the echoes; done anyway"),
    }
    Ok(())
}

pub fn run() {
    support::run(async {
        let address: SocketAddr = "127.0.0.1:0".parse().expect("a literal socket address parses");
        let listener = TcpListener::bind(address).expect("binding 127.0.0.1 on a free port should succeed");
        let server = listener.local_addr().expect("a bound listener knows its address");
        println!("main: listening on {server} (port 0 let the OS pick a free port)");
        let accept_task = spawn_named("server", serve(listener));

        let clients: Vec<_> = (1..=3)
            .map(|number| spawn_named(format!("client {number}"), client(number, server)))
            .collect();
        println!("main: spawned the server and 3 clients; waiting for the clients");
        for (number, handle) in (1..).zip(clients) {
            match handle.await {
                Ok(Ok(())) => println!("main: client {number} finished"),
                Ok(Err(error)) => println!("main: client {number} failed: {error}"),
                Err(error) => println!("main: client {number}'s task ended: {error}"),
            }
        }
        println!("main: all clients are done; cancelling the server, parked in accept()");
        accept_task.cancel();
        if let Err(error) = accept_task.await {
            println!("main: {error}; dropping the listener closed the listening socket");
        }
    });
}

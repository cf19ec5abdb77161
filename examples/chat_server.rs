//! chat_server: a line-based chat room; every line a client sends is broadcast to the others.
//!
//! Mirrors the classic asyncio streams chat (`asyncio.start_server`, `await reader.readline()`,
//! `writer.write(...)` + `await writer.drain()`, a set of connected writers to broadcast to),
//! with `BufReader::read_line`, `BufWriter` and a registry of per-client queues.
//!
//! Run with: `cargo run --example chat_server` (the demo: the server and three scripted clients
//! on 127.0.0.1 chat, one line is too long, everyone leaves, and the program checks that each
//! client saw exactly the broadcasts it should, then exits), or
//! `cargo run --example chat_server -- --listen 127.0.0.1:7000` to serve for real (connect
//! with `nc 127.0.0.1 7000`; Ctrl-C stops it).
//!
//! What to look for: each connection is two tasks. The reader task waits in `read_line` and,
//! for each line, puts it in every *other* client's queue; the writer task waits on its own
//! queue and writes what comes out. So a slow client holds up only its own writer: the room
//! never waits on anybody's socket. The queues are bounded, and a line for a client whose
//! queue is full is dropped for that client (asyncio's chat, which calls `writer.write` for
//! everyone, lets a slow reader's buffer grow without end instead).
//!
//! What production servers do differently: they disconnect a client that falls too far behind
//! instead of dropping its lines, put a timeout on the name prompt and on idle connections,
//! cap the number of clients, and speak a framed protocol (IRC's lines are the same idea with
//! commands and a 512-byte limit).

mod support;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;

use evloop::io::{AsyncWriteExt, BufReader, BufWriter, LimitOverrun};
use evloop::net::{TcpListener, TcpStream};
use evloop::sync::Queue;
use evloop::{spawn, spawn_named};

/// The longest line a client may send, newline included; a longer one is dropped with a notice.
const LINE_LIMIT: usize = 256;

/// How many lines may wait for one client before the room starts dropping its lines.
const CLIENT_BACKLOG: usize = 64;

/// The lines waiting for one client's writer task (shared `str`s: a broadcast is one copy).
type Outbox = Rc<Queue<Rc<str>>>;

/// Who is in the room: each client's name and the queue its writer task drains.
#[derive(Default)]
struct Room {
    /// Client number → (name, its outbox). A `BTreeMap` so the "who is here" line lists
    /// clients in the order they came.
    clients: RefCell<BTreeMap<u64, (String, Outbox)>>,
}

impl Room {
    /// Queues `line` for every client but `from`; returns how many got it. Never waits: a full
    /// queue means a slow client, and that client misses the line.
    fn broadcast(&self, from: u64, line: &str) -> usize {
        let line: Rc<str> = Rc::from(format!("{line}\n"));
        let clients = self.clients.borrow();
        let others = clients.iter().filter(|(id, _)| **id != from);
        others
            .filter(|(_, (_, queue))| queue.try_put(line.clone()).is_ok())
            .count()
    }

    /// Queues `line` for one client only.
    fn tell(&self, to: u64, line: &str) {
        if let Some((_, queue)) = self.clients.borrow().get(&to) {
            let _ = queue.try_put(Rc::from(format!("{line}\n"))); // full: it misses the notice
        }
    }

    fn names(&self) -> Vec<String> {
        self.clients.borrow().values().map(|(name, _)| name.clone()).collect()
    }
}

/// The accept loop: one reader task per client (which starts its writer task).
async fn serve(listener: TcpListener, room: Rc<Room>) {
    for id in 1.. {
        match listener.accept().await {
            Ok((stream, peer)) => {
                println!("server: connection {id} from {peer}");
                drop(spawn_named(
                    format!("client {id}"),
                    client_session(id, stream, room.clone()),
                ));
            }
            Err(error) => println!("server: accept failed ({error}); still listening"),
        }
    }
}

/// One client, from the name prompt to leaving: reads its lines and broadcasts them.
async fn client_session(id: u64, stream: TcpStream, room: Rc<Room>) {
    let stream = Rc::new(stream);
    let mut reader = BufReader::new(&*stream).with_limit(LINE_LIMIT);
    if stream.write_all(b"* welcome! what is your name?\n").await.is_err() {
        return;
    }
    let mut name = String::new();
    match reader.read_line(&mut name).await {
        Ok(0) | Err(_) => return, // gone before saying who they are (or a name too long)
        Ok(_) => {}
    }
    let name = name.trim().to_string();
    let queue = Rc::new(Queue::new(CLIENT_BACKLOG));
    let writer = spawn(write_queued(stream.clone(), queue.clone()));
    room.clients.borrow_mut().insert(id, (name.clone(), queue.clone()));
    room.tell(id, &format!("* hello {name}; here now: {}", room.names().join(", ")));
    println!(
        "server: {name} joined; clients told: {}",
        room.broadcast(id, &format!("* {name} joined"))
    );

    let mut line = String::new();
    loop {
        line.clear();
        match reader.read_line(&mut line).await {
            Ok(0) => break, // the client closed its side
            Ok(_) if line.trim_end() == "/quit" => break,
            Ok(_) => {
                let told = room.broadcast(id, &format!("{name}: {}", line.trim_end()));
                println!("server: {name} said {:?}, broadcast to {told}", line.trim_end());
            }
            Err(error) => match error.get_ref().and_then(|e| e.downcast_ref::<LimitOverrun>()) {
                // The reader has already skipped the whole line: the next one reads normally.
                Some(overrun) => {
                    println!("server: {name} sent a line of {} bytes; dropped", overrun.consumed);
                    room.tell(
                        id,
                        &format!(
                            "* your line of {} bytes was dropped (limit {})",
                            overrun.consumed, overrun.limit
                        ),
                    );
                }
                None => break, // reset, or not UTF-8: treat as gone
            },
        }
    }
    room.clients.borrow_mut().remove(&id);
    println!(
        "server: {name} left; clients told: {}",
        room.broadcast(id, &format!("* {name} left"))
    );
    let _ = queue.try_put(Rc::from("* bye\n")); // out of the room now: straight to its queue
    queue.close(); // the writer sends what is queued, then ends
    let _ = writer.await;
}

/// A client's writer task: sends what its queue gives, flushing whenever the queue runs dry
/// (so a burst of lines goes out in one write), until the queue is closed and empty.
async fn write_queued(stream: Rc<TcpStream>, queue: Outbox) -> io::Result<()> {
    let mut writer = BufWriter::new(&*stream);
    while let Ok(line) = queue.get().await {
        writer.write_all(line.as_bytes()).await?;
        let _ = queue.task_done();
        if queue.is_empty() {
            writer.flush().await?; // asyncio's `await writer.drain()`
        }
    }
    writer.close().await // FIN: the client's reads end
}

/// A scripted client of the demo: sends lines, and checks every line it receives.
struct Client {
    name: &'static str,
    reader: BufReader<TcpStream>,
}

impl Client {
    /// Connects, answers the name prompt, and checks the greeting.
    async fn join(name: &'static str, server: SocketAddr, here: &str) -> io::Result<Client> {
        let mut client = Client {
            name,
            reader: BufReader::new(TcpStream::connect(server).await?),
        };
        client.expect("* welcome! what is your name?").await?;
        client.say(name).await?;
        client.expect(&format!("* hello {name}; here now: {here}")).await?;
        Ok(client)
    }

    async fn say(&mut self, line: &str) -> io::Result<()> {
        println!("{:>6} > {line:.60}", self.name);
        self.reader.get_ref().write_all(format!("{line}\n").as_bytes()).await
    }

    /// Reads the next line and fails the demo unless it is `expected`.
    async fn expect(&mut self, expected: &str) -> io::Result<()> {
        let mut line = String::new();
        self.reader.read_line(&mut line).await?;
        println!("{:>6} < {}", self.name, line.trim_end());
        assert_eq!(line.trim_end(), expected, "what {} received", self.name);
        Ok(())
    }
}

/// The demo: three clients chat through the server; every line each receives is checked.
async fn demo() -> io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0".parse().expect("a literal address"))?;
    let server = listener.local_addr()?;
    println!("main: chat server on {server}; three scripted clients join one by one");
    let room = Rc::new(Room::default());
    let accept = spawn_named("server", serve(listener, room.clone()));

    let mut ada = Client::join("ada", server, "ada").await?;
    let mut bob = Client::join("bob", server, "ada, bob").await?;
    ada.expect("* bob joined").await?;
    let mut cy = Client::join("cy", server, "ada, bob, cy").await?;
    ada.expect("* cy joined").await?;
    bob.expect("* cy joined").await?;

    ada.say("hello, everyone").await?;
    bob.expect("ada: hello, everyone").await?;
    cy.expect("ada: hello, everyone").await?;

    println!("main: bob sends a line longer than the {LINE_LIMIT}-byte limit");
    bob.say(&"la".repeat(200)).await?;
    bob.expect("* your line of 401 bytes was dropped (limit 256)").await?;
    bob.say("sorry, that was long").await?;
    ada.expect("bob: sorry, that was long").await?;
    cy.expect("bob: sorry, that was long").await?;

    cy.say("/quit").await?;
    cy.expect("* bye").await?;
    drop(cy);
    ada.expect("* cy left").await?;
    bob.expect("* cy left").await?;

    println!("main: ada and bob hang up without /quit (end of stream)");
    drop(ada);
    bob.expect("* ada left").await?;
    drop(bob);
    while !room.names().is_empty() {
        evloop::yield_now().await; // the server notices bob's end of stream
    }
    accept.cancel();
    let _ = accept.await;
    for _ in 0..1000 {
        if evloop::stats().io_sources == 0 {
            break;
        }
        evloop::yield_now().await; // the last writer tasks send their FIN and end
    }
    assert_eq!(evloop::stats().io_sources, 0, "every socket closed and deregistered");
    Ok(())
}

fn main() {
    support::init_logger();
    let args: Vec<String> = support::args().collect();
    match args.iter().position(|arg| arg == "--listen") {
        Some(at) => {
            let addr: SocketAddr = match args.get(at + 1).map(|a| a.parse()) {
                Some(Ok(addr)) => addr,
                _ => {
                    eprintln!("usage: chat_server [--demo | --listen ADDR], e.g. --listen 127.0.0.1:7000");
                    std::process::exit(2);
                }
            };
            support::run(async move {
                let listener = TcpListener::bind(addr).expect("the address should be free");
                println!("chat server on {addr}: connect with `nc {} {}`", addr.ip(), addr.port());
                serve(listener, Rc::new(Room::default())).await;
            });
        }
        None => {
            support::run(demo()).expect("the demo runs on loopback");
            println!("main: every client saw exactly the lines it should; the room is empty");
        }
    }
}

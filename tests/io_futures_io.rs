//! The `futures-io` feature: futures-lite's I/O helpers, written against the ecosystem's
//! traits, working on evloop sockets and buffered streams over loopback.
//!
//! Run with: `cargo test --features futures-io --test io_futures_io`.
#![cfg(feature = "futures-io")]

use std::net::SocketAddr;

use evloop::net::{TcpListener, TcpStream};
use futures_lite::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use futures_lite::stream::StreamExt;

/// A connected pair on loopback: (client, server).
async fn pair() -> (TcpStream, TcpStream) {
    let any: SocketAddr = "127.0.0.1:0".parse().expect("an address");
    let listener = TcpListener::bind(any).expect("bind");
    let client = TcpStream::connect(listener.local_addr().expect("bound"))
        .await
        .expect("connect");
    let (server, _) = listener.accept().await.expect("accept");
    (client, server)
}

#[test]
fn futures_lite_read_to_end_reads_an_evloop_socket_to_its_end() {
    evloop::run(async {
        let (mut client, server) = pair().await;
        let writer = evloop::spawn(async move {
            let mut server = server;
            futures_lite::io::AsyncWriteExt::write_all(&mut server, b"all of it")
                .await
                .expect("sent");
            futures_lite::io::AsyncWriteExt::close(&mut server).await.expect("FIN");
        });
        let mut got = Vec::new();
        futures_lite::io::AsyncReadExt::read_to_end(&mut client, &mut got)
            .await
            .expect("read");
        assert_eq!(got, b"all of it");
        writer.await.expect("done");
    });
}

#[test]
fn futures_lite_lines_reads_an_evloop_buf_reader() {
    evloop::run(async {
        let (client, server) = pair().await;
        let writer = evloop::spawn(async move {
            let mut writer = evloop::io::BufWriter::new(server);
            writer.write_all(b"alpha\nbeta\r\ngamma").await.expect("buffered");
            writer.close().await.expect("flushed and FIN");
        });
        // By path: `BufReader`'s own `lines` would win over the extension method.
        let lines: Vec<String> = AsyncBufReadExt::lines(evloop::io::BufReader::new(client))
            .map(|line| line.expect("a line"))
            .collect()
            .await;
        assert_eq!(lines, ["alpha", "beta", "gamma"]);
        writer.await.expect("done");
    });
}

#[test]
fn futures_lite_copy_moves_bytes_between_two_evloop_sockets() {
    evloop::run(async {
        let baseline = evloop::stats().io_sources;
        let (mut source, relay_in) = pair().await;
        let (relay_out, mut sink) = pair().await;
        let relay = evloop::spawn(async move {
            let copied = futures_lite::io::copy(&relay_in, &mut &relay_out)
                .await
                .expect("copied");
            (&relay_out).close().await.expect("FIN onwards");
            copied
        });
        let message: Vec<u8> = (0..if cfg!(miri) { 2_000u32 } else { 200_000 })
            .map(|i| i as u8)
            .collect();
        let sender = evloop::spawn({
            let message = message.clone();
            async move {
                source.write_all(&message).await.expect("sent");
                source.close().await.expect("FIN");
                source
            }
        });
        let mut got = Vec::new();
        sink.read_to_end(&mut got).await.expect("received");
        assert_eq!(relay.await.expect("relayed"), message.len() as u64);
        assert_eq!(got, message);
        drop((sender.await.expect("sent"), sink));
        assert_eq!(evloop::stats().io_sources, baseline, "every socket deregistered itself");
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot spawn processes")]
fn futures_lite_copies_a_unix_stream_into_a_childs_stdin_and_reads_its_stdout() {
    evloop::run(async {
        // A Unix socket pair feeds `cat` through futures-lite's `copy`, and futures-lite reads
        // the child's stdout back: every one-way and two-way evloop stream behind the traits.
        let (mut near, far) = evloop::net::UnixStream::pair().expect("a pair");
        let mut child = evloop::process::Command::new("cat")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("cat");
        let mut stdin = child.stdin.take().expect("piped");
        let mut stdout = child.stdout.take().expect("piped");
        let feeder = evloop::spawn(async move {
            let mut far = far;
            futures_lite::io::copy(&mut far, &mut stdin).await.expect("copied");
            futures_lite::io::AsyncWriteExt::close(&mut stdin)
                .await
                .expect("EOF to cat");
        });
        futures_lite::io::AsyncWriteExt::write_all(&mut near, b"through a socket, a pipe and cat\n")
            .await
            .expect("sent");
        futures_lite::io::AsyncWriteExt::close(&mut near).await.expect("FIN");
        let mut got = String::new();
        futures_lite::io::AsyncReadExt::read_to_string(&mut stdout, &mut got)
            .await
            .expect("read");
        assert_eq!(got, "through a socket, a pipe and cat\n");
        feeder.await.expect("fed");
        assert!(child.wait().await.expect("exit").success());
    });
}

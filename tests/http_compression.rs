//! Compressed response bodies on the wire (the `gzip` feature): what the client asks for, what
//! it decodes (gzip, x-gzip, zlib and raw deflate, under any framing), what it refuses (a body
//! that is not what its coding says), and how `max_body` stops a decompression bomb. Played by
//! the scripted server (`support/script_server.rs`) on the virtual clock.
#![cfg(feature = "gzip")]

#[path = "support/script_server.rs"]
mod script_server;

use std::io::Write;

use evloop::http::{Client, ClientConfig, Error};
use flate2::Compression;
use script_server::{ScriptServer, answers, assert_no_leaks, run};

/// A client that asks for compressed bodies (`decompress` is off by default).
fn decompressing() -> Client {
    Client::with_config(ClientConfig {
        decompress: true,
        ..ClientConfig::default()
    })
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(data).expect("in memory");
    encoder.finish().expect("in memory")
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(data).expect("in memory");
    encoder.finish().expect("in memory")
}

fn raw_deflate(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(data).expect("in memory");
    encoder.finish().expect("in memory")
}

/// A 200 with `body` framed by Content-Length and labelled with `coding`.
fn encoded(coding: &str, body: &[u8]) -> Vec<u8> {
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Encoding: {coding}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    [head.as_bytes(), body].concat()
}

/// The same, chunked, in chunks of `size` bytes.
fn encoded_chunked(coding: &str, body: &[u8], size: usize) -> Vec<u8> {
    let mut wire =
        format!("HTTP/1.1 200 OK\r\nContent-Encoding: {coding}\r\nTransfer-Encoding: chunked\r\n\r\n").into_bytes();
    for chunk in body.chunks(size) {
        wire.extend(format!("{:x}\r\n", chunk.len()).bytes());
        wire.extend_from_slice(chunk);
        wire.extend_from_slice(b"\r\n");
    }
    wire.extend_from_slice(b"0\r\n\r\n");
    wire
}

#[test]
fn the_client_asks_for_gzip_and_deflate_and_decodes_each_coding() {
    run(async {
        let text = "a body that compresses well, well, well. ".repeat(50);
        let server = ScriptServer::start(vec![answers([
            encoded("gzip", &gzip(text.as_bytes())),
            encoded("x-gzip", &gzip(text.as_bytes())),
            encoded("deflate", &zlib(text.as_bytes())),
            encoded("deflate", &raw_deflate(text.as_bytes())),
            encoded_chunked("GZIP", &gzip(text.as_bytes()), 7),
        ])]);
        let client = decompressing();
        for path in ["/gzip", "/x-gzip", "/zlib", "/raw", "/chunked"] {
            let response = client.get(&server.url(path)).send().await.unwrap();
            assert_eq!(
                response.headers().get("content-encoding"),
                None,
                "{path}: decoded, so dropped"
            );
            assert_eq!(
                response.headers().get("content-length"),
                None,
                "{path}: it counted encoded bytes"
            );
            assert_eq!(response.text().await.unwrap(), text, "{path}");
        }
        for request in server.requests() {
            assert_eq!(request.header("accept-encoding").as_deref(), Some("gzip, deflate"));
        }
        assert_eq!(server.accepted(), 1, "every decoded body left the connection reusable");
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
fn a_decoded_body_streams_through_chunk_in_bounded_pieces() {
    run(async {
        let text: Vec<u8> = (0..200_000u32).map(|i| (i % 97) as u8).collect();
        let server = ScriptServer::start(vec![answers([encoded("gzip", &gzip(&text))])]);
        let client = decompressing();
        let mut response = client.get(&server.url("/big")).send().await.unwrap();
        let mut body = Vec::new();
        while let Some(piece) = response.chunk().await.unwrap() {
            assert!(!piece.is_empty() && piece.len() <= 32 * 1024, "{} bytes", piece.len());
            body.extend_from_slice(&piece);
        }
        assert_eq!(body, text);
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
fn a_body_that_is_not_valid_gzip_fails_with_a_clear_error() {
    run(async {
        let mut bad_crc = gzip(b"hello, world");
        let at = bad_crc.len() - 8;
        bad_crc[at] ^= 0xff;
        let whole = gzip(b"cut short");
        let server = ScriptServer::start(vec![
            answers([encoded("gzip", b"this is not gzip at all")]),
            answers([encoded("gzip", &bad_crc)]),
            answers([encoded("gzip", &whole[..whole.len() - 4])]),
            answers([encoded("deflate", &[zlib(b"x"), b"junk".to_vec()].concat())]),
        ]);
        let client = decompressing();
        let says = ["magic bytes", "CRC-32", "ended before", "bytes follow the end"];
        for (n, says) in says.into_iter().enumerate() {
            let response = client.get(&server.url(&format!("/{n}"))).send().await.unwrap();
            let error = response.bytes().await.unwrap_err();
            assert!(matches!(error, Error::ContentDecoding { .. }), "{error:?}");
            assert!(error.is_protocol());
            let text = error.to_string();
            assert!(text.contains(says) && text.contains("Content-Encoding"), "{text}");
        }
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
fn a_decompression_bomb_is_stopped_by_max_body() {
    run(async {
        // 4 MiB of zeros is about 4 KiB of gzip: small on the wire, over the limit decoded.
        let bomb = gzip(&vec![0u8; 4 << 20]);
        assert!(bomb.len() < 8 * 1024, "{} bytes", bomb.len());
        let server = ScriptServer::start(vec![answers([encoded("gzip", &bomb)])]);
        let config = ClientConfig {
            max_body: 1 << 20,
            decompress: true,
            ..ClientConfig::default()
        };
        let client = Client::with_config(config);
        let response = client.get(&server.url("/bomb")).send().await.unwrap();
        let error = response.bytes().await.unwrap_err();
        assert!(
            matches!(error, Error::BodyTooLarge { limit } if limit == 1 << 20),
            "{error:?}"
        );
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}

#[test]
fn a_caller_who_sets_accept_encoding_or_leaves_decompress_off_gets_the_bytes_as_sent() {
    run(async {
        let wire = gzip(b"left alone");
        let server = ScriptServer::start(vec![
            answers([encoded("gzip", &wire)]),
            answers([encoded("gzip", &wire)]),
        ]);
        let client = decompressing();
        let response = client
            .get(&server.url("/mine"))
            .header("Accept-Encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers().get("content-encoding"), Some("gzip"));
        assert_eq!(response.bytes().await.unwrap(), wire);
        let off = Client::new(); // decompress is off by default
        let response = off.get(&server.url("/off")).send().await.unwrap();
        assert_eq!(response.bytes().await.unwrap(), wire);
        let requests = server.requests();
        assert_eq!(requests[0].header("accept-encoding").as_deref(), Some("gzip"));
        assert_eq!(requests[1].header("accept-encoding"), None);
        server.shutdown().await;
        drop(off);
        assert_no_leaks(&client);
    });
}

#[test]
fn unknown_codings_and_empty_bodies_pass_through() {
    run(async {
        let server = ScriptServer::start(vec![answers([
            encoded("br", b"\x0b\x02\x80hi\x03"),
            encoded("gzip", b""),
            b"HTTP/1.1 204 No Content\r\nContent-Encoding: gzip\r\n\r\n".to_vec(),
        ])]);
        let client = decompressing();
        let response = client.get(&server.url("/br")).send().await.unwrap();
        assert_eq!(response.headers().get("content-encoding"), Some("br"));
        assert_eq!(response.bytes().await.unwrap(), b"\x0b\x02\x80hi\x03");
        let empty = client.get(&server.url("/empty")).send().await.unwrap();
        assert_eq!(empty.bytes().await.unwrap(), b"");
        let none = client.get(&server.url("/204")).send().await.unwrap();
        assert_eq!((none.status(), none.bytes().await.unwrap()), (204, Vec::new()));
        server.shutdown().await;
        assert_no_leaks(&client);
    });
}
